//! The plugin binary. The engine starts it with its own address as the last
//! argument and reads our port from the first line of stdout.

use std::io::Write;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;

use xpander_provider::proto::pulumirpc::resource_provider_server::ResourceProviderServer;
use xpander_provider::rpc::{server::XpanderProvider, ProviderState};

const MAX_MESSAGE: usize = 400 << 20;

/// The engine address: the last positional argument. Flags the engine may
/// add (`--logtostderr`, `-v=N`, `--tracing <endpoint>`) are skipped.
fn engine_address(args: &[String]) -> Option<String> {
    let mut positional = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "--tracing" || a == "-tracing" {
            i += 2;
            continue;
        }
        if !a.starts_with('-') {
            positional.push(a.clone());
        }
        i += 1;
    }
    positional.pop()
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--version") | Some("version") => {
            println!("pulumi-resource-xpander {}", env!("CARGO_PKG_VERSION"));
            return Ok(());
        }
        Some("schema") => {
            print!("{}", xpander_provider::schema::schema_json());
            return Ok(());
        }
        Some("--help") | Some("-h") => {
            println!("pulumi-resource-xpander {}\n\nA Pulumi resource provider; the Pulumi engine starts it.\n\nUsage:\n  pulumi-resource-xpander [--logtostderr] [-v=N] [--tracing ENDPOINT] [ENGINE_ADDRESS]\n  pulumi-resource-xpander schema      print the package schema\n  pulumi-resource-xpander --version", env!("CARGO_PKG_VERSION"));
            return Ok(());
        }
        _ => {}
    }

    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{port}")?;
        out.flush()?;
    }

    let state = Arc::new(ProviderState::new());
    if let Some(addr) = engine_address(&args) {
        state.log.connect(&addr);
    }
    let service = ResourceProviderServer::new(XpanderProvider::new(state))
        .max_decoding_message_size(MAX_MESSAGE)
        .max_encoding_message_size(MAX_MESSAGE);
    tonic::transport::Server::builder()
        .add_service(service)
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown_signal())
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::engine_address;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn address_is_the_last_positional() {
        assert_eq!(
            engine_address(&args(&["127.0.0.1:1234"])).as_deref(),
            Some("127.0.0.1:1234")
        );
        assert_eq!(
            engine_address(&args(&[
                "--logtostderr",
                "-v=9",
                "--tracing",
                "http://t",
                "127.0.0.1:5"
            ]))
            .as_deref(),
            Some("127.0.0.1:5")
        );
        assert_eq!(engine_address(&args(&["--logtostderr"])), None);
    }
}
