//! The plugin binary. The engine starts it with its own address as the last
//! argument and reads our port from the first line of stdout.

use std::io::Write;
use std::sync::Arc;

use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;

mod cli;
mod proto;
mod rpc;

use proto::pulumirpc::resource_provider_server::ResourceProviderServer;
use rpc::engine_log::EngineLog;
use rpc::server::XpanderProvider;
use xpander::context::ProviderState;

const MAX_MESSAGE: usize = 400 << 20;

/// The engine address: the last positional argument. Flags the engine may
/// add (`--logtostderr`, `-v=N`, `--tracing <endpoint>`) are skipped. Any
/// other word (a mistyped subcommand) is refused rather than left waiting as
/// a server nobody will call.
fn engine_address(args: &[String]) -> Result<Option<String>, String> {
    let mut positional = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "--tracing" || a == "-tracing" {
            i += 2;
            continue;
        }
        if !a.starts_with('-') {
            if !is_address(a) {
                return Err(format!(
                    "unknown command {a:?}: the commands are {}; the Pulumi engine passes its address (HOST:PORT)",
                    cli::COMMANDS.join(", ")
                ));
            }
            positional.push(a.clone());
        }
        i += 1;
    }
    Ok(positional.pop())
}

fn is_address(a: &str) -> bool {
    a.rsplit_once(':').is_some_and(|(host, port)| {
        !host.is_empty() && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())
    })
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
    if let Some(code) = cli::run(&args).await {
        std::process::exit(code);
    }

    let engine = match engine_address(&args) {
        Ok(engine) => engine,
        Err(message) => {
            eprintln!("pulumi-resource-xpander: {message}");
            std::process::exit(2);
        }
    };
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{port}")?;
        out.flush()?;
    }

    let log = Arc::new(EngineLog::default());
    if let Some(addr) = engine {
        log.connect(&addr);
    }
    let state = Arc::new(ProviderState::new(log.clone()));
    let service = ResourceProviderServer::new(XpanderProvider::new(state, log))
        .max_decoding_message_size(MAX_MESSAGE)
        .max_encoding_message_size(MAX_MESSAGE);
    // Without TCP_NODELAY, Nagle holds an answer's last segment until the
    // engine's delayed ACK: ~40 ms on every response over ~250 bytes.
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    tonic::transport::Server::builder()
        .add_service(service)
        .serve_with_incoming_shutdown(incoming, shutdown_signal())
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
            engine_address(&args(&["127.0.0.1:1234"])),
            Ok(Some("127.0.0.1:1234".into()))
        );
        assert_eq!(
            engine_address(&args(&[
                "--logtostderr",
                "-v=9",
                "--tracing",
                "http://t",
                "127.0.0.1:5"
            ])),
            Ok(Some("127.0.0.1:5".into()))
        );
        assert_eq!(engine_address(&args(&["--logtostderr"])), Ok(None));
        assert_eq!(
            engine_address(&args(&["[::1]:7"])),
            Ok(Some("[::1]:7".into()))
        );
    }

    #[test]
    fn an_unknown_word_is_not_an_address() {
        for word in [
            "deployer-polcy",
            "schemas",
            "localhost",
            "127.0.0.1:",
            "host:port",
        ] {
            let err = engine_address(&args(&[word])).unwrap_err();
            assert!(err.contains(&format!("{word:?}")), "{err}");
        }
    }
}
