//! Messages to the engine's `Log` service, shown by the CLI under the
//! resource. Sent in order by one background task so a slow engine never
//! blocks an AWS operation; messages before the engine address is known wait.

use std::sync::Mutex;

use tokio::sync::mpsc;

use xpander::context::{Reporter, Severity};

use crate::proto::pulumirpc::{engine_client::EngineClient, LogRequest, LogSeverity};

enum Message {
    Connect(String),
    Log(LogRequest),
}

#[derive(Default)]
pub struct EngineLog {
    tx: Mutex<Option<mpsc::UnboundedSender<Message>>>,
}

impl EngineLog {
    fn sender(&self) -> Option<mpsc::UnboundedSender<Message>> {
        let mut guard = self.tx.lock().ok()?;
        if guard.is_none() {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(run(rx));
            *guard = Some(tx);
        }
        guard.clone()
    }

    /// Sets (or changes, in attach mode) where the engine listens.
    pub fn connect(&self, address: &str) {
        if address.is_empty() {
            return;
        }
        if let Some(tx) = self.sender() {
            let _ = tx.send(Message::Connect(address.to_string()));
        }
    }
}

impl Reporter for EngineLog {
    fn report(&self, severity: Severity, urn: &str, message: &str, ephemeral: bool) {
        let severity = match severity {
            Severity::Info => LogSeverity::Info,
            Severity::Warning => LogSeverity::Warning,
        };
        let req = LogRequest {
            severity: severity as i32,
            message: message.to_string(),
            urn: urn.to_string(),
            stream_id: 0,
            ephemeral,
        };
        if let Some(tx) = self.sender() {
            let _ = tx.send(Message::Log(req));
        }
    }
}

async fn run(mut rx: mpsc::UnboundedReceiver<Message>) {
    let mut client: Option<EngineClient<tonic::transport::Channel>> = None;
    let mut pending = Vec::new();
    while let Some(msg) = rx.recv().await {
        match msg {
            Message::Connect(address) => {
                let endpoint = if address.contains("://") {
                    address
                } else {
                    format!("http://{address}")
                };
                client = match tonic::transport::Endpoint::from_shared(endpoint) {
                    Ok(e) => Some(EngineClient::new(e.connect_lazy())),
                    Err(_) => None,
                };
                if let Some(c) = client.as_mut() {
                    for req in pending.drain(..) {
                        let _ = c.log(req).await;
                    }
                }
            }
            Message::Log(req) => match client.as_mut() {
                Some(c) => {
                    // A lost log line must never fail a deployment.
                    let _ = c.log(req).await;
                }
                None if pending.len() < 1000 => pending.push(req),
                None => {}
            },
        }
    }
}
