//! The plugin binary. The engine starts it with its own address as the last
//! argument and reads our port from the first line of stdout.

use std::io::Write;
use std::sync::Arc;

use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;

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
                    "unknown command {a:?}: the commands are schema, doctor, version and --help; the Pulumi engine passes its address (HOST:PORT)"
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
    match args.first().map(String::as_str) {
        Some("--version") | Some("version") => {
            println!("pulumi-resource-xpander {}", env!("CARGO_PKG_VERSION"));
            return Ok(());
        }
        Some("schema") => {
            print!(
                "{}",
                xpander::schema::schema_json(env!("CARGO_PKG_VERSION"))
            );
            return Ok(());
        }
        Some("doctor") => std::process::exit(doctor(&args[1..]).await),
        Some("deployer-policy") => std::process::exit(deployer_policy(&args[1..])),
        Some("--help") | Some("-h") => {
            println!("pulumi-resource-xpander {}\n\nA Pulumi resource provider; the Pulumi engine starts it.\n\nUsage:\n  pulumi-resource-xpander [--logtostderr] [-v=N] [--tracing ENDPOINT] [ENGINE_ADDRESS]\n  pulumi-resource-xpander schema      print the package schema\n  pulumi-resource-xpander doctor --base-role NAME|--base-role-arn ARN [--connector NAME]... [--cluster NAME] [--namespace NS]\n                                 [--service-account SA] [--region R] [--profile P] [--endpoint URL] [--json]\n                                      diagnose a live setup (exit 1 when errors are found)\n  pulumi-resource-xpander deployer-policy --mode preview|deploy|doctor [--role-name-prefix P] [--path /p/]\n                                 [--partition P] [--account-id A] [--region R] [--cluster NAME] [--json]\n                                      the IAM policy whoever runs pulumi with this provider needs\n  pulumi-resource-xpander --version", env!("CARGO_PKG_VERSION"));
            return Ok(());
        }
        _ => {}
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

/// `deployer-policy`: the document of `xpander:index:deployerPolicy`.
fn deployer_policy(args: &[String]) -> i32 {
    use xpander::functions::deployer_policy::DeployerPolicyArgs;
    use xpander::iam::deployer;

    let mut given = std::collections::BTreeMap::new();
    let mut json = false;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let key = match flag.as_str() {
            "--json" => {
                json = true;
                continue;
            }
            "--mode" => "mode",
            "--role-name-prefix" => "roleNamePrefix",
            "--path" => "path",
            "--partition" => "partition",
            "--account-id" => "accountId",
            "--region" => "region",
            "--cluster" => "clusterName",
            other => {
                eprintln!("deployer-policy: unknown argument {other:?} (see --help)");
                return 2;
            }
        };
        match it.next() {
            Some(value) => given.insert(key, value.clone()),
            None => {
                eprintln!("deployer-policy: {flag} needs a value");
                return 2;
            }
        };
    }
    let args: DeployerPolicyArgs = serde_json::to_value(&given)
        .and_then(serde_json::from_value)
        .unwrap_or_default();
    let (mode, scope) = match args.parse() {
        Ok(parsed) => parsed,
        Err(failures) => {
            for f in failures {
                eprintln!("deployer-policy: {}", f.reason);
            }
            return 2;
        }
    };
    let document =
        serde_json::to_string_pretty(&deployer::policy(mode, &scope)).expect("a policy serialises");
    // A closed pipe (`| head`) ends the output, not the process with a panic.
    let mut out = std::io::stdout().lock();
    if !json {
        let _ = writeln!(
            out,
            "# The IAM policy for {} with pulumi-resource-xpander: {} actions on roles arn:{}:iam::{}:role{}{}*",
            match mode {
                deployer::Mode::Preview => "read-only previews and refreshes",
                deployer::Mode::Deploy => "deployments",
                deployer::Mode::Doctor => "the doctor and diagnose (reads only)",
            },
            deployer::actions(mode).len(),
            scope.partition,
            scope.account_id,
            scope.path,
            scope.role_name_prefix,
        );
    }
    let _ = writeln!(out, "{document}");
    0
}

/// `doctor`: the checks of `xpander:index:diagnose` from a shell, against
/// the standard AWS credential chain.
async fn doctor(args: &[String]) -> i32 {
    use xpander::config::{Endpoints, ProviderConfig};
    use xpander::doctor::{self, gather::Scope, report};

    let mut scope = Scope::default();
    // A doctor answers in seconds or says it cannot reach AWS; it does not
    // sit through a deployment's retry budget.
    let mut cfg = ProviderConfig {
        max_retries: Some(2),
        ..Default::default()
    };
    let mut json = false;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().cloned().unwrap_or_default();
        match flag.as_str() {
            "--base-role" => scope.base_role = value(),
            "--base-role-arn" => scope.base_role_arn = Some(value()),
            "--connector" => scope.connector_roles.push(value()),
            "--cluster" => scope.cluster = Some(value()),
            "--namespace" => scope.namespace = Some(value()),
            "--service-account" => scope.service_account = Some(value()),
            "--region" => cfg.region = Some(value()),
            "--profile" => cfg.profile = Some(value()),
            "--endpoint" => {
                let url = value();
                cfg.endpoints = Some(Endpoints {
                    iam: Some(url.clone()),
                    sts: Some(url.clone()),
                    eks: Some(url),
                });
            }
            "--json" => json = true,
            other => {
                eprintln!("doctor: unknown argument {other:?} (see --help)");
                return 2;
            }
        }
    }
    if scope.base_role.is_empty() == scope.base_role_arn.is_none() {
        eprintln!("doctor: give exactly one of --base-role and --base-role-arn");
        return 2;
    }
    let subject = match xpander::cloud::connect(&cfg).await {
        Ok(api) => doctor::gather::gather(&api, &scope).await,
        Err(e) => Err(e),
    };
    let subject = match subject {
        Ok(s) => s,
        Err(e) => {
            eprintln!("doctor: cannot read AWS: {e}");
            return 2;
        }
    };
    let findings = doctor::diagnose(&subject);
    let (errors, warnings) = report::counts(&findings);
    if json {
        let out = serde_json::json!({"findings": findings, "errorCount": errors, "warningCount": warnings});
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else {
        let target = match &scope.cluster {
            Some(c) => format!(
                ", cluster {c} ({}/{})",
                scope.namespace.as_deref().unwrap_or("xpander"),
                scope.service_account.as_deref().unwrap_or("xpander")
            ),
            None => String::new(),
        };
        let header = format!(
            "xpander doctor: base role {}, {} connector(s){target}",
            scope.base_role_arn.as_deref().unwrap_or(&scope.base_role),
            scope.connector_roles.len()
        );
        print!("{}", report::human(&findings, &header));
    }
    i32::from(errors > 0)
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
