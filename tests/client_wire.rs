//! What the FPT.AI client puts on the wire, captured by a bare TCP server: header names
//! exactly as the contract page spells them, multipart field names, file names, types.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at what it did not expect

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use ekyc_client::{DocumentType, FptClient, FptSession, Lang, OcrRequest, Secret, Side};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One captured request: the head as sent and the body.
#[derive(Clone, Debug)]
struct Captured {
    head: String,
    body: Vec<u8>,
}

impl Captured {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    }
    fn path(&self) -> &str {
        self.head.split_whitespace().nth(1).unwrap_or_default()
    }
    fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Answers every request with the contract's success shape for its path.
async fn capture_server() -> (String, Arc<Mutex<Vec<Captured>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let captured = Arc::new(Mutex::new(Vec::new()));
    let sink = captured.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let sink = sink.clone();
            tokio::spawn(async move {
                let mut buffer = Vec::new();
                let mut chunk = [0u8; 8192];
                let head_end = loop {
                    let read = stream.read(&mut chunk).await.unwrap_or(0);
                    if read == 0 {
                        return;
                    }
                    buffer.extend_from_slice(&chunk[..read]);
                    if let Some(end) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
                        break end + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
                let length: usize = head
                    .lines()
                    .find_map(|line| {
                        line.split_once(':')
                            .filter(|(key, _)| key.eq_ignore_ascii_case("content-length"))
                    })
                    .map(|(_, value)| value.trim().parse().unwrap())
                    .unwrap_or(0);
                while buffer.len() < head_end + length {
                    let read = stream.read(&mut chunk).await.unwrap_or(0);
                    if read == 0 {
                        break;
                    }
                    buffer.extend_from_slice(&chunk[..read]);
                }
                let request = Captured {
                    head: head.clone(),
                    body: buffer[head_end..].to_vec(),
                };
                let answer = match request.path() {
                    "/session/init" => {
                        r#"{"code":"200","message":"success","session-id":"7760a743-884b-4195-b781-892e72c7b0b6"}"#
                    }
                    "/ocr" => {
                        r#"{"errorCode":"0","errorMessage":"","data":[{"key":"ID","name":"Số","value":"1","score":"99.1","locale":"vn"}],"total_data":[]}"#
                    }
                    _ => {
                        r#"{"code":"200","message":"ok","liveness":{"is_live":"true"},"face_match":{"isMatch":"true","similarity":"95.84"},"is_complete_session":false}"#
                    }
                };
                sink.lock().unwrap().push(request);
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                    answer.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    (base, captured)
}

#[tokio::test]
async fn requests_carry_the_contracts_headers_and_parts() {
    let (base, captured) = capture_server().await;
    let mut settings = settings_for(&base, Secret::new("the-key"));
    settings.device_type = "kiosk".into();
    settings.client_uuid = Some("branch-7-desk-2".into());
    settings.lang = Lang::Vi;
    let mut session = FptSession::new(FptClient::new(settings).unwrap());
    let result = session
        .ocr(OcrRequest::both_sides(
            DocumentType::Idr,
            front(),
            Some(back()),
        ))
        .await
        .unwrap();
    assert_eq!(result.fields[0].score, Some(99.1));
    let face = session.face_liveness(&selfie()).await.unwrap();
    assert_eq!(face.face_match.unwrap().similarity, Some(95.84));

    let requests = captured.lock().unwrap().clone();
    let paths: Vec<_> = requests
        .iter()
        .map(|request| request.path().to_owned())
        .collect();
    assert_eq!(paths, ["/session/init", "/ocr", "/face/liveness"]);

    let init = &requests[0];
    assert_eq!(init.header("api-key").as_deref(), Some("the-key"));
    assert_eq!(
        init.header("api_key"),
        None,
        "proxies drop underscored names; send api-key"
    );
    assert_eq!(init.header("device-type").as_deref(), Some("kiosk"));
    assert_eq!(
        init.header("client_uuid").as_deref(),
        Some("branch-7-desk-2")
    );
    assert_eq!(init.header("only-engine"), None);

    let ocr = &requests[1];
    assert_eq!(
        ocr.header("session-id").as_deref(),
        Some("7760a743-884b-4195-b781-892e72c7b0b6")
    );
    assert_eq!(ocr.header("document-type").as_deref(), Some("idr"));
    assert_eq!(ocr.header("lang").as_deref(), Some("vi"));
    assert_eq!(ocr.header("side-type"), None);
    assert!(ocr
        .header("content-type")
        .unwrap()
        .starts_with("multipart/form-data; boundary="));
    let body = ocr.body_text();
    let front_at = body
        .find(r#"name="files"; filename="front.jpg""#)
        .expect("front part");
    let back_at = body
        .find(r#"name="files"; filename="back.jpg""#)
        .expect("back part");
    assert!(front_at < back_at, "front first, then back");
    assert_eq!(
        body.to_lowercase()
            .matches("content-type: image/jpeg")
            .count(),
        2
    );

    let face = &requests[2];
    assert_eq!(face.header("auto").as_deref(), Some("False"));
    assert_eq!(
        face.header("session-id").as_deref(),
        Some("7760a743-884b-4195-b781-892e72c7b0b6")
    );
    assert!(face
        .body_text()
        .contains(r#"name="selfies"; filename="selfie.jpg""#));
}

#[tokio::test]
async fn ocr_only_sessions_and_single_sides_say_so() {
    let (base, captured) = capture_server().await;
    let mut session =
        FptSession::ocr_only(FptClient::new(settings_for(&base, Secret::new("k"))).unwrap());
    session
        .ocr(OcrRequest::one_side(
            DocumentType::Dlr,
            Side::Front,
            front(),
        ))
        .await
        .unwrap();
    let requests = captured.lock().unwrap().clone();
    assert_eq!(requests[0].header("only-engine").as_deref(), Some("1"));
    assert_eq!(
        requests[0].header("client_uuid"),
        None,
        "not sent when not configured"
    );
    assert_eq!(requests[1].header("side-type").as_deref(), Some("front"));
    assert_eq!(requests[1].header("document-type").as_deref(), Some("dlr"));
    assert_eq!(requests[1].header("lang").as_deref(), Some("en"));
    assert_eq!(
        requests[1].body_text().matches(r#"name="files""#).count(),
        1
    );
}

#[tokio::test]
async fn through_the_banks_gateway_no_credential_is_held_or_sent() {
    let (base, captured) = capture_server().await;
    let sets = |gateway: bool| {
        vec![
            ("backend".to_string(), "fpt".to_string()),
            ("fpt.base_url".to_string(), base.clone()),
            ("network.gateway".to_string(), gateway.to_string()),
        ]
    };
    let load = |gateway: bool| {
        ekyc_kiosk::config::Config::load_searching(None, &[], &|_| None, &sets(gateway)).unwrap()
    };
    // Without the gateway a kiosk with no API key refuses to start; with it, it starts.
    assert!(matches!(
        ekyc_kiosk::verification::Backend::start(&load(false)).await,
        Err(ekyc_kiosk::verification::BackendError::NoApiKey)
    ));
    let loaded = load(true);
    ekyc_kiosk::verification::Backend::start(&loaded)
        .await
        .expect("no key needed behind the gateway");

    let client = FptClient::new(loaded.fpt_settings(&base, Secret::new(""))).unwrap();
    client.init_session(false).await.unwrap();
    let requests = captured.lock().unwrap().clone();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].header("api-key"), None, "{}", requests[0].head);
    assert_eq!(requests[0].header("api_key"), None);
    assert_eq!(
        requests[0].header("device-type").as_deref(),
        Some("web-sdk")
    );
}
