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
    /// HTTPS (its certificate and key), or plain HTTP.
    tls: bool,
    _runtime: tokio::runtime::Runtime,
}

/// Connections with a TLS handshake done, for `axum::serve`; a client that gives up on the
/// handshake (it does not trust the certificate) is dropped and the next one waited for.
struct TlsListener {
    tcp: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, addr)) = self.tcp.accept().await else {
                continue;
            };
            if let Ok(tls) = self.acceptor.accept(stream).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

impl Receiver {
    pub fn start(fail_first: usize, hang: bool) -> Self {
        Self::start_with(fail_first, hang, None)
    }

    /// An HTTPS receiver presenting the certificate `cert` (PEM, for 127.0.0.1) with its
    /// `key`.
    pub fn start_https(cert: &std::path::Path, key: &std::path::Path) -> Self {
        let tls = ekyc_engine::ServerTls::load(ekyc_engine::TlsFiles {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            client_ca: None,
        })
        .unwrap();
        Self::start_with(0, false, Some(tls.acceptor()))
    }

    fn start_with(fail_first: usize, hang: bool, tls: Option<tokio_rustls::TlsAcceptor>) -> Self {
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
        let https = tls.is_some();
        match tls {
            Some(acceptor) => {
                let listener = TlsListener {
                    tcp: listener,
                    acceptor,
                };
                runtime.spawn(async move { axum::serve(listener, app).await });
            }
            None => {
                runtime.spawn(async move { axum::serve(listener, app).await });
            }
        }
        Self {
            addr,
            received,
            tls: https,
            _runtime: runtime,
        }
    }

    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}/reports", self.addr)
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
