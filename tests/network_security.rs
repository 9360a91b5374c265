//! The engine on a bank's network: TLS (a CA made here with rcgen), mutual TLS, a
//! certificate reloaded without losing sessions, wrong keys locked out, uploads in turns,
//! slow clients cut off, a stop that lets requests finish.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at what it did not expect

mod common;

use common::tls::Authority;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{fast_retry, front, scripted_engine, settings_for, start_engine};
use ekyc_client::{
    ApiError, CertificateProblem, ClientTls, DocumentType, FptClient, OcrRequest, SessionId, Side,
};
use ekyc_contract::Secret;
use ekyc_engine::{
    ConnectionLimits, EngineHandle, EngineSettings, LockoutLimits, TlsFiles, UploadLimits,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn trusting(ca_file: Option<PathBuf>) -> ClientTls {
    ClientTls {
        ca_file,
        web_roots: false,
        ..ClientTls::default()
    }
}

fn client(engine: &EngineHandle, tls: ClientTls) -> FptClient {
    FptClient::new(ekyc_client::FptSettings {
        tls,
        ..settings_for(engine.base_url(), engine.api_key().clone())
    })
    .expect("client builds")
}

async fn tls_engine(files: TlsFiles) -> EngineHandle {
    start_engine(EngineSettings {
        tls: Some(files),
        ..EngineSettings::default()
    })
    .await
}

fn certificate_problem(result: Result<SessionId, ApiError>) -> CertificateProblem {
    match result {
        Err(ApiError::Certificate { problem, .. }) => problem,
        other => panic!("expected a certificate error, got {other:?}"),
    }
}

#[tokio::test]
async fn https_with_the_banks_ca_works_and_an_untrusted_server_is_named_for_staff() {
    let dir = tempfile::tempdir().unwrap();
    let bank = Authority::new("Bank CA");
    let ca = bank.write(dir.path(), "bank-ca");
    let (cert, key) = bank.issue(dir.path(), "engine");
    let engine = tls_engine(TlsFiles {
        cert,
        key,
        client_ca: None,
    })
    .await;
    assert!(engine.base_url().starts_with("https://127.0.0.1:"));

    client(&engine, trusting(Some(ca.clone())))
        .init_session(false)
        .await
        .expect("a kiosk that trusts the bank's CA gets a session");
    // The bank's CA beside the web's roots: also trusted.
    client(
        &engine,
        ClientTls {
            ca_file: Some(ca),
            ..ClientTls::default()
        },
    )
    .init_session(false)
    .await
    .expect("the bank's CA added to the web roots");

    let untrusted = client(&engine, ClientTls::default())
        .init_session(false)
        .await;
    let error = untrusted.as_ref().unwrap_err();
    assert!(!error.is_transient(), "never a retry loop: {error}");
    assert!(
        error
            .to_string()
            .contains("the server's certificate is not trusted by this kiosk"),
        "{error}"
    );
    assert_eq!(
        certificate_problem(untrusted),
        CertificateProblem::ServerNotTrusted
    );
}

#[tokio::test]
async fn mutual_tls_lets_in_only_kiosks_with_the_banks_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let bank = Authority::new("Bank CA");
    let kiosks = Authority::new("Bank kiosks CA");
    let stranger = Authority::new("Someone else");
    let ca = bank.write(dir.path(), "bank-ca");
    let (cert, key) = bank.issue(dir.path(), "engine");
    let engine = tls_engine(TlsFiles {
        cert,
        key,
        client_ca: Some(kiosks.write(dir.path(), "kiosks-ca")),
    })
    .await;

    let without = client(&engine, trusting(Some(ca.clone())))
        .init_session(false)
        .await;
    assert_eq!(
        certificate_problem(without),
        CertificateProblem::KioskRefused
    );

    let (foreign_cert, foreign_key) = stranger.issue(dir.path(), "foreign-kiosk");
    let foreign = client(
        &engine,
        ClientTls {
            client_cert: Some(foreign_cert),
            client_key: Some(foreign_key),
            ..trusting(Some(ca.clone()))
        },
    )
    .init_session(false)
    .await;
    assert_eq!(
        certificate_problem(foreign),
        CertificateProblem::KioskRefused
    );

    let (kiosk_cert, kiosk_key) = kiosks.issue(dir.path(), "kiosk-7");
    client(
        &engine,
        ClientTls {
            client_cert: Some(kiosk_cert),
            client_key: Some(kiosk_key),
            ..trusting(Some(ca))
        },
    )
    .init_session(false)
    .await
    .expect("the bank's kiosk is let in");
}

#[tokio::test]
async fn a_reloaded_certificate_serves_new_connections_and_sessions_survive_it() {
    let dir = tempfile::tempdir().unwrap();
    let old = Authority::new("Old CA");
    let new = Authority::new("New CA");
    let old_ca = old.write(dir.path(), "old-ca");
    let new_ca = new.write(dir.path(), "new-ca");
    let (cert, key) = old.issue(dir.path(), "engine");
    let engine = tls_engine(TlsFiles {
        cert: cert.clone(),
        key: key.clone(),
        client_ca: None,
    })
    .await;
    let session = client(&engine, trusting(Some(old_ca.clone())))
        .init_session(false)
        .await
        .unwrap();

    // A half-written file: the reload fails and the certificate in use stays.
    std::fs::write(&cert, b"-----BEGIN CERTIFICATE-----\n").unwrap();
    assert!(engine.reload_tls().is_err());
    client(&engine, trusting(Some(old_ca.clone())))
        .init_session(false)
        .await
        .expect("the old certificate still serves after a failed reload");

    let (new_cert, new_key) = new.issue(dir.path(), "engine-new");
    std::fs::copy(new_cert, &cert).unwrap();
    std::fs::copy(new_key, &key).unwrap();
    engine.reload_tls().expect("the new files load");

    let renewed = client(&engine, trusting(Some(new_ca)));
    // The session made before the reload still answers (here: the document is read,
    // or not found; anything but "session expired").
    let read = renewed
        .ocr(
            &session,
            &OcrRequest::one_side(DocumentType::Idr, Side::Front, front()),
        )
        .await;
    assert!(
        !matches!(read, Err(ApiError::SessionExpired { .. })),
        "{read:?}"
    );
    assert!(matches!(
        client(&engine, trusting(Some(old_ca)))
            .init_session(false)
            .await,
        Err(ApiError::Certificate { .. })
    ));
}

#[tokio::test]
async fn wrong_keys_lock_the_address_out_with_retry_after_even_for_the_right_key() {
    let engine = start_engine(EngineSettings {
        lockout: LockoutLimits {
            failures: 3,
            window: Duration::from_secs(60),
            lockout: Duration::from_secs(120),
        },
        ..EngineSettings::default()
    })
    .await;
    let guesser = FptClient::new(settings_for(engine.base_url(), Secret::new("guess"))).unwrap();
    for _ in 0..3 {
        assert!(matches!(
            guesser.init_session(false).await,
            Err(ApiError::Unauthorized { .. })
        ));
    }
    let http = reqwest::Client::new();
    let locked = http
        .post(format!("{}/session/init", engine.base_url()))
        .header("api-key", engine.api_key().expose())
        .header("device-type", "web-sdk")
        .send()
        .await
        .unwrap();
    assert_eq!(locked.status(), 429);
    let wait: u64 = locked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((110..=120).contains(&wait), "Retry-After {wait}");
    let body: serde_json::Value = locked.json().await.unwrap();
    assert_eq!(body["code"], "429");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("Too many wrong keys"));
}

/// An upload that stalls: a POST in a real session, `length` bytes of body announced and
/// `sent` of them sent.
async fn hold_an_upload(engine: &EngineHandle, length: usize, sent: usize) -> TcpStream {
    let session = common::client_for(engine)
        .init_session(false)
        .await
        .unwrap();
    let mut stream = TcpStream::connect(engine.address()).await.unwrap();
    let head = format!(
        "POST /ocr HTTP/1.1\r\nhost: engine\r\napi-key: {}\r\nsession-id: {}\r\ndevice-type: web-sdk\r\ndocument-type: idr\r\ncontent-type: multipart/form-data; boundary=b\r\ncontent-length: {length}\r\n\r\n--b\r\ncontent-disposition: form-data; name=\"files\"; filename=\"a.jpg\"\r\n\r\n",
        engine.api_key().expose(),
        session.as_str(),
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&vec![b'x'; sent]).await.unwrap();
    stream
}

/// An engine taking one upload at a time, `queue` waiting at most, each for `most_wait`;
/// its turn held by an upload in progress.
async fn engine_with_its_turn_held(queue: usize, most_wait: Duration) -> (EngineHandle, TcpStream) {
    let engine = start_engine(EngineSettings {
        uploads: UploadLimits {
            at_once: 1,
            queue,
            most_wait,
            ..UploadLimits::default()
        },
        ..EngineSettings::default()
    })
    .await;
    let held = hold_an_upload(&engine, 100_000, 1000).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    (engine, held)
}

/// A (malformed) upload to `/face/liveness`: it waits for a turn like any other.
async fn a_selfie_upload(http: &reqwest::Client, engine: &EngineHandle) -> reqwest::Response {
    http.post(format!("{}/face/liveness", engine.base_url()))
        .body("x")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn uploads_take_turns_and_a_long_wait_is_answered_busy_with_retry_after() {
    let (engine, held) = engine_with_its_turn_held(16, Duration::from_millis(400)).await;
    let http = reqwest::Client::new();
    let waited = Instant::now();
    let busy = a_selfie_upload(&http, &engine).await;
    assert_eq!(busy.status(), 503);
    assert!(waited.elapsed() >= Duration::from_millis(400));
    assert_eq!(busy.headers()["retry-after"], "5");
    let body: serde_json::Value = busy.json().await.unwrap();
    assert_eq!(body["code"], "503");
    // Requests without uploads do not wait.
    let session = http
        .post(format!("{}/session/init", engine.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(session.status(), 401);

    drop(held);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let turn = a_selfie_upload(&http, &engine).await;
    assert_ne!(turn.status(), 503, "the turn is free once the upload ended");
}

#[tokio::test]
async fn a_full_queue_is_answered_busy_at_once_and_the_waiting_get_their_turn_in_order() {
    // One upload holds the turn; two more wait in the queue, in the order they came.
    let (engine, held) = engine_with_its_turn_held(2, Duration::from_secs(20)).await;
    let http = reqwest::Client::new();
    let (done, mut finished) = tokio::sync::mpsc::unbounded_channel();
    for name in ["first", "second"] {
        let (http, url, done) = (
            http.clone(),
            format!("{}/face/liveness", engine.base_url()),
            done.clone(),
        );
        tokio::spawn(async move {
            let answer = http.post(url).body("x").send().await.unwrap();
            let _ = done.send((name, answer.status().as_u16()));
        });
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    // The queue is full: the next is answered at once, told to come back.
    let started = Instant::now();
    let busy = a_selfie_upload(&http, &engine).await;
    assert_eq!(busy.status(), 503);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // Two ahead of it, one turn at a time, two seconds a turn.
    assert_eq!(busy.headers()["retry-after"], "6");
    drop(held);
    let first = tokio::time::timeout(Duration::from_secs(20), finished.recv())
        .await
        .unwrap()
        .unwrap();
    let second = tokio::time::timeout(Duration::from_secs(20), finished.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((first.0, second.0), ("first", "second"));
    assert_ne!(first.1, 503);
    assert_ne!(second.1, 503);
}

/// Reads until the server closes; how long that took.
async fn closed_within(stream: &mut TcpStream, most: Duration) -> Duration {
    let started = Instant::now();
    let mut buffer = [0u8; 4096];
    loop {
        match tokio::time::timeout(most, stream.read(&mut buffer)).await {
            Ok(Ok(0) | Err(_)) => return started.elapsed(),
            Ok(Ok(_)) => continue,
            Err(_) => panic!("the connection was still open after {most:?}"),
        }
    }
}

#[tokio::test]
async fn a_client_that_trickles_its_headers_or_its_body_is_cut_off() {
    let engine = start_engine(EngineSettings {
        connections: ConnectionLimits {
            header_timeout: Duration::from_millis(500),
            idle_timeout: Duration::from_millis(500),
            ..ConnectionLimits::default()
        },
        ..EngineSettings::default()
    })
    .await;
    let mut headers = TcpStream::connect(engine.address()).await.unwrap();
    headers
        .write_all(b"POST /ocr HTTP/1.1\r\nhost: e")
        .await
        .unwrap();
    let took = closed_within(&mut headers, Duration::from_secs(5)).await;
    assert!(took >= Duration::from_millis(400), "{took:?}");

    let mut body = hold_an_upload(&engine, 100_000, 10).await;
    let took = closed_within(&mut body, Duration::from_secs(5)).await;
    assert!(took >= Duration::from_millis(400), "{took:?}");

    // A connection that sends nothing at all is closed too.
    let mut silent = TcpStream::connect(engine.address()).await.unwrap();
    closed_within(&mut silent, Duration::from_secs(5)).await;
}

#[tokio::test]
async fn connections_beyond_the_cap_are_closed_at_once() {
    let engine = start_engine(EngineSettings {
        connections: ConnectionLimits {
            max_connections: 2,
            ..ConnectionLimits::default()
        },
        ..EngineSettings::default()
    })
    .await;
    let _first = TcpStream::connect(engine.address()).await.unwrap();
    let _second = TcpStream::connect(engine.address()).await.unwrap();
    let mut third = TcpStream::connect(engine.address()).await.unwrap();
    let took = closed_within(&mut third, Duration::from_secs(5)).await;
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[tokio::test]
async fn a_stop_lets_the_request_in_flight_finish_and_takes_no_new_one() {
    let engine = scripted_engine(
        "[[session_init]]\ndelay_ms = 800\nbody = '{\"session-id\": \"late\", \"code\": \"200\"}'\n",
    )
    .await;
    let address = engine.address();
    let client = FptClient::new(ekyc_client::FptSettings {
        retry: fast_retry(),
        ..settings_for(engine.base_url(), engine.api_key().clone())
    })
    .unwrap();
    let in_flight = tokio::spawn(async move { client.init_session(false).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stopped = Instant::now();
    engine.stop().await;
    assert!(
        stopped.elapsed() >= Duration::from_millis(300),
        "the stop waited for the request"
    );
    let session = in_flight
        .await
        .unwrap()
        .expect("the request in flight is answered");
    assert_eq!(session.as_str(), "late");
    assert!(
        TcpStream::connect(address).await.is_err(),
        "no new connection"
    );
}

#[tokio::test]
async fn a_certificate_that_cannot_be_read_stops_the_start_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, _) = Authority::new("CA").issue(dir.path(), "engine");
    let error = ekyc_engine::start(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        EngineSettings {
            tls: Some(TlsFiles {
                cert: cert.clone(),
                key: cert.clone(),
                client_ca: None,
            }),
            ..EngineSettings::default()
        },
    )
    .await
    .unwrap_err();
    let message = error.to_string();
    assert!(message.contains("engine.crt"), "{message}");
    assert!(message.contains("no PEM private key"), "{message}");
}
