//! A webhook receiver standing in for the bank's onboarding system.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One POST as the bank's receiver saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub timestamp: String,
    pub signature: String,
    pub idempotency_key: String,
    pub body: Vec<u8>,
    /// The receiver's answer.
    pub status: u16,
}

/// A webhook receiver on loopback: refuses the first `fail_first` POSTs with 503, then
/// acknowledges; keeps what arrived and acts on each idempotency key once.
pub struct Receiver {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Vec<Received>>>,
    _runtime: tokio::runtime::Runtime,
}

impl Receiver {
    pub fn start(fail_first: usize, hang: bool) -> Self {
        use axum::http::{HeaderMap, StatusCode};
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let failures = Arc::new(AtomicUsize::new(fail_first));
        let log = received.clone();
        let handler = move |headers: HeaderMap, body: axum::body::Bytes| {
            let (log, failures) = (log.clone(), failures.clone());
            async move {
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|value| value.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                let refuse = failures
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                        left.checked_sub(1)
                    })
                    .is_ok();
                let status = if refuse {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::OK
                };
                log.lock().unwrap().push(Received {
                    timestamp: header("x-ekyc-timestamp"),
                    signature: header("x-ekyc-signature"),
                    idempotency_key: header("idempotency-key"),
                    body: body.to_vec(),
                    status: if hang { 0 } else { status.as_u16() },
                });
                if hang {
                    // Received, never answered.
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                }
                status
            }
        };
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new().route("/reports", axum::routing::post(handler));
        runtime.spawn(async move { axum::serve(listener, app).await });
        Self {
            addr,
            received,
            _runtime: runtime,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/reports", self.addr)
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// The reports acted on: acknowledged, each idempotency key once.
    pub fn acted_on(&self) -> Vec<Received> {
        let mut seen = std::collections::HashSet::new();
        self.received()
            .into_iter()
            .filter(|post| post.status == 200 && seen.insert(post.idempotency_key.clone()))
            .collect()
    }
}
