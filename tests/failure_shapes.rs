//! One test per failure shape, produced by the engine's scripted mode, through the real
//! client. Scripted steps are used in order; after them the engine answers for real.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at what it did not expect

mod common;

use std::time::Duration;

use common::*;
use ekyc_client::{
    ApiError, DocumentType, FptClient, FptSession, OcrRequest, RetryPolicy, Secret, Side,
};
use ekyc_engine::ScriptedEndpoint::{FaceLiveness, Ocr, SessionInit};

async fn read_card(session: &mut FptSession) -> Result<ekyc_client::OcrResult, ApiError> {
    session
        .ocr(OcrRequest::both_sides(
            DocumentType::Idr,
            front(),
            Some(back()),
        ))
        .await
}

#[tokio::test]
async fn an_html_502_page_is_retried_then_reported_with_its_body() {
    let engine = scripted_engine(
        "[[ocr]]\ntimes = 3\nstatus = 502\ncontent_type = \"text/html\"\nbody = \"<html><body><h1>502 Bad Gateway</h1></body></html>\"\n",
    )
    .await;
    let mut session = FptSession::new(client_for(&engine));
    let error = read_card(&mut session).await.unwrap_err();
    assert!(
        matches!(&error, ApiError::Http { status: 502, .. }),
        "{error}"
    );
    assert!(error.raw_body().unwrap().text().contains("502 Bad Gateway"));
    assert_eq!(engine.requests(Ocr), 3, "three tries in all");
}

#[tokio::test]
async fn the_number_of_tries_is_configurable() {
    let engine = scripted_engine("[[ocr]]\ntimes = 9\nstatus = 503\n").await;
    let mut settings = settings_for(engine.base_url(), engine.api_key().clone());
    settings.retry = RetryPolicy {
        attempts: 5,
        ..fast_retry()
    };
    let mut session = FptSession::new(FptClient::new(settings).unwrap());
    let error = read_card(&mut session).await.unwrap_err();
    assert!(
        matches!(error, ApiError::Http { status: 503, .. }),
        "{error}"
    );
    assert_eq!(engine.requests(Ocr), 5);
}

#[tokio::test]
async fn an_empty_500_is_an_http_error() {
    let engine = scripted_engine("[[ocr]]\ntimes = 3\nstatus = 500\n").await;
    let mut session = FptSession::new(client_for(&engine));
    let error = read_card(&mut session).await.unwrap_err();
    assert!(
        matches!(&error, ApiError::Http { status: 500, raw } if raw.is_empty()),
        "{error}"
    );
}

#[tokio::test]
async fn a_transient_failure_followed_by_success_succeeds() {
    let engine = scripted_engine("[[ocr]]\nstatus = 429\nbody = '{\"message\": \"slow down\"}'\n[[session_init]]\nstatus = 503\n").await;
    let mut session = FptSession::new(client_for(&engine));
    let result = read_card(&mut session)
        .await
        .expect("the retries get through");
    assert_eq!(result.field("ID").unwrap().value, CARD_ID);
    assert_eq!(engine.requests(SessionInit), 2);
    assert_eq!(engine.requests(Ocr), 2);
}

#[tokio::test]
async fn a_429_or_a_busy_503_with_a_short_retry_after_is_waited_for_then_tried_again() {
    // 429 (a lockout's), and 503 with Retry-After (a busy engine's full queue).
    for status in [429, 503] {
        let engine = scripted_engine(&format!(
            "[[ocr]]\nstatus = {status}\nretry_after_secs = 1\n"
        ))
        .await;
        let mut session = FptSession::new(client_for(&engine));
        let started = std::time::Instant::now();
        let result = read_card(&mut session)
            .await
            .expect("the second try gets through");
        assert_eq!(result.field("ID").unwrap().value, CARD_ID);
        assert_eq!(engine.requests(Ocr), 2);
        // The test's retry policy waits 10 ms; the back end asked for a second.
        assert!(started.elapsed() >= Duration::from_secs(1), "{status}");
    }
}

#[tokio::test]
async fn a_429_asking_for_minutes_is_not_waited_for_and_says_how_long() {
    let engine = scripted_engine(
        "[[ocr]]\nstatus = 429\nretry_after_secs = 300\nbody = '{\"code\": \"429\", \"message\": \"locked\"}'\n",
    )
    .await;
    let mut session = FptSession::new(client_for(&engine));
    let error = read_card(&mut session).await.unwrap_err();
    assert!(
        matches!(&error, ApiError::TooManyRequests { retry_after: Some(wait), .. } if *wait == Duration::from_secs(300)),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "the back end asks this kiosk to wait 300 s (HTTP 429)"
    );
    assert!(error.is_backend_failure(), "the kiosk's back-end screen");
    assert_eq!(engine.requests(Ocr), 1, "not tried again");
}

#[tokio::test]
async fn a_body_that_is_not_utf8_is_malformed_and_not_retried() {
    let engine = scripted_engine("[[ocr]]\nbody_bytes = [255, 254, 0, 123, 200]\n").await;
    let mut session = FptSession::new(client_for(&engine));
    let error = read_card(&mut session).await.unwrap_err();
    assert!(
        matches!(&error, ApiError::MalformedResponse { reason, .. } if reason.contains("UTF-8")),
        "{error}"
    );
    assert_eq!(error.raw_body().unwrap().len(), 5);
    assert_eq!(engine.requests(Ocr), 1);
}

#[tokio::test]
async fn malformed_json_is_reported_with_the_raw_body() {
    let engine =
        scripted_engine("[[ocr]]\nbody = '{\"errorCode\": \"0\", \"data\": [{\"key\": '\n").await;
    let mut session = FptSession::new(client_for(&engine));
    let error = read_card(&mut session).await.unwrap_err();
    assert!(
        matches!(&error, ApiError::MalformedResponse { reason, .. } if reason.contains("not JSON")),
        "{error}"
    );
    assert!(error
        .raw_body()
        .unwrap()
        .text()
        .starts_with("{\"errorCode\""));
    assert_eq!(engine.requests(Ocr), 1);
}

#[tokio::test]
async fn an_answer_without_a_session_id_is_malformed() {
    let engine = scripted_engine(
        "[[session_init]]\nbody = '{\"code\": \"200\", \"message\": \"success\"}'\n",
    )
    .await;
    let error = client_for(&engine).init_session(false).await.unwrap_err();
    assert!(
        matches!(&error, ApiError::MalformedResponse { reason, .. } if reason.contains("session-id")),
        "{error}"
    );
}

#[tokio::test]
async fn a_slow_back_end_times_out_after_every_try() {
    // Room for the three tries at once: each holds a turn while the back end dawdles.
    let engine = start_engine(ekyc_engine::EngineSettings {
        script: Some(
            ekyc_engine::Script::from_toml("[[ocr]]\ntimes = 3\ndelay_ms = 5000\n").unwrap(),
        ),
        uploads: ekyc_engine::UploadLimits {
            at_once: 3,
            ..ekyc_engine::UploadLimits::default()
        },
        ..ekyc_engine::EngineSettings::default()
    })
    .await;
    let mut settings = settings_for(engine.base_url(), engine.api_key().clone());
    settings.request_timeout = Duration::from_millis(300);
    let mut session = FptSession::new(FptClient::new(settings).unwrap());
    let error = read_card(&mut session).await.unwrap_err();
    assert!(
        matches!(error, ApiError::Timeout(limit) if limit == Duration::from_millis(300)),
        "{error}"
    );
    assert_eq!(engine.requests(Ocr), 3);
}

#[tokio::test]
async fn a_refused_connection_is_unreachable() {
    // A port that was free a moment ago and has no listener now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base_url = format!("http://127.0.0.1:{port}");
    let client = FptClient::new(settings_for(&base_url, Secret::new("k"))).unwrap();
    let error = client.init_session(false).await.unwrap_err();
    assert!(
        matches!(&error, ApiError::Unreachable { url, .. } if *url == base_url),
        "{error}"
    );
    assert!(error.is_backend_failure());
}

/// A server that answers every connection with `head` and then `body_len` bytes of JSON
/// padding, whatever was asked.
async fn answering(head: String, body_len: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let head = head.clone();
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request).await;
                let _ = stream.write_all(head.as_bytes()).await;
                let chunk = vec![b' '; 64 * 1024];
                let mut sent = 0;
                while sent < body_len {
                    let n = chunk.len().min(body_len - sent);
                    if stream.write_all(&chunk[..n]).await.is_err() {
                        return;
                    }
                    sent += n;
                }
            });
        }
    });
    format!("http://{address}")
}

#[tokio::test]
async fn a_20_mb_answer_is_refused_at_8_mb_and_not_retried() {
    const BODY: usize = 20 * 1024 * 1024;
    for head in [
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {BODY}\r\n\r\n"
        ),
        // No length announced: read up to the limit, then refused.
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n"
            .to_string(),
    ] {
        let base_url = answering(head, BODY).await;
        let client = FptClient::new(settings_for(&base_url, Secret::new("k"))).unwrap();
        let error = client.init_session(false).await.unwrap_err();
        assert!(
            matches!(&error, ApiError::MalformedResponse { reason, .. } if reason.contains("longer than 8 MB")),
            "{error}"
        );
        assert!(error.is_backend_failure() && !error.is_transient());
    }
}

#[tokio::test]
async fn a_truncated_answer_is_a_dropped_connection() {
    // 1,000 bytes announced, 10 sent, then the connection closes.
    let base_url = answering(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\nconnection: close\r\n\r\n".into(),
        10,
    )
    .await;
    let client = FptClient::new(settings_for(&base_url, Secret::new("k"))).unwrap();
    let error = client.init_session(false).await.unwrap_err();
    assert!(
        matches!(error, ApiError::ConnectionDropped { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_name_that_does_not_resolve_is_unreachable() {
    // `.invalid` never resolves (RFC 2606).
    let base_url = "http://ekyc-backend.invalid:8480";
    let client = FptClient::new(settings_for(base_url, Secret::new("k"))).unwrap();
    let error = client.init_session(false).await.unwrap_err();
    assert!(
        matches!(&error, ApiError::Unreachable { url, .. } if url == base_url),
        "{error}"
    );
    assert!(error.is_backend_failure());
}

#[tokio::test]
async fn a_dropped_connection_is_reported_and_not_resent() {
    let engine = scripted_engine("[[ocr]]\ndrop_connection = true\n").await;
    let mut session = FptSession::new(client_for(&engine));
    let error = read_card(&mut session).await.unwrap_err();
    assert!(
        matches!(error, ApiError::ConnectionDropped { .. }),
        "{error}"
    );
    assert_eq!(engine.requests(Ocr), 1);
}

#[tokio::test]
async fn document_not_found_is_never_retried() {
    let engine = scripted_engine(
        "[[ocr]]\nbody = '{\"errorCode\": \"3\", \"errorMessage\": \"Không tìm thấy tài liệu đã chọn trong ảnh\"}'\n",
    )
    .await;
    let mut session = FptSession::new(client_for(&engine));
    let error = read_card(&mut session).await.unwrap_err();
    assert!(
        matches!(&error, ApiError::DocumentNotFound { message, .. } if message.contains("Không tìm thấy")),
        "{error}"
    );
    assert_eq!(engine.requests(Ocr), 1);
}

#[tokio::test]
async fn other_api_codes_carry_the_back_ends_message() {
    let engine = scripted_engine(
        "[[ocr]]\nbody = '{\"errorCode\": \"12\", \"errorMessage\": \"Giấy tờ đã hết hạn\"}'\n",
    )
    .await;
    let mut session = FptSession::new(client_for(&engine));
    let error = read_card(&mut session).await.unwrap_err();
    assert!(
        matches!(&error, ApiError::Api { code, message, .. } if code == "12" && message == "Giấy tờ đã hết hạn"),
        "{error}"
    );
    assert_eq!(engine.requests(Ocr), 1);
}

const MISMATCH: &str = r#"[[face_liveness]]
body = '''{"code": "303", "message": "Khuôn mặt không khớp với giấy tờ",
  "liveness": {"code": "200", "message": "liveness check successful", "is_live": "true", "spoof_prob": "N/A",
               "need_to_review": "N/A", "is_deepfake": "N/A", "deepfake_prob": "N/A", "warning": "N/A"},
  "face_match": {"code": "303", "message": "face is not matching with document", "isMatch": "false",
                 "similarity": "5.84", "warning": "N/A"},
  "is_complete_session": false}'''
"#;

#[tokio::test]
async fn a_face_mismatch_carries_its_similarity_and_allows_a_selfie_retry() {
    let engine = scripted_engine(MISMATCH).await;
    let mut session = FptSession::new(client_for(&engine));
    read_card(&mut session).await.unwrap();
    let error = session.face_liveness(&selfie()).await.unwrap_err();
    let ApiError::FaceMismatch { result, .. } = &error else {
        panic!("expected a mismatch, got {error}")
    };
    assert_eq!(result.face_match.as_ref().unwrap().similarity, Some(5.84));
    assert_eq!(result.face_match.as_ref().unwrap().is_match, Some(false));
    assert_eq!(error.is_complete_session(), Some(false));
    assert_eq!(
        engine.requests(FaceLiveness),
        1,
        "a mismatch is not retried by itself"
    );

    // The caller may retry the selfie: the script is used up, the engine answers for real.
    assert_eq!(session.face_liveness(&selfie()).await.unwrap().code, "200");
}

#[tokio::test]
async fn two_faces_is_its_own_error() {
    let engine = scripted_engine(
        "[[face_liveness]]\nbody = '{\"code\": \"407\", \"message\": \"2 faces exist\", \"face_match\": {\"code\": \"407\", \"isMatch\": \"N/A\", \"similarity\": \"N/A\"}, \"is_complete_session\": true}'\n",
    )
    .await;
    let mut session = FptSession::new(client_for(&engine));
    read_card(&mut session).await.unwrap();
    let error = session.face_liveness(&selfie()).await.unwrap_err();
    let ApiError::MultipleFaces { result, .. } = &error else {
        panic!("expected two faces, got {error}")
    };
    assert_eq!(
        result.face_match.as_ref().unwrap().similarity,
        None,
        "N/A is not a number"
    );
    assert_eq!(error.is_complete_session(), Some(true));
    assert_eq!(engine.requests(FaceLiveness), 1);
}

const EXPIRED: &str = "[[ocr]]\nstatus = 403\nbody = '{\"errorCode\": \"403\", \"errorMessage\": \"Phiên làm việc đã hết hạn\"}'\n";

#[tokio::test]
async fn an_expired_session_is_replaced_once_without_the_customer_noticing() {
    let engine = scripted_engine(EXPIRED).await;
    let mut session = FptSession::new(client_for(&engine));
    let result = read_card(&mut session)
        .await
        .expect("the resend in a new session succeeds");
    assert_eq!(result.field("ID").unwrap().value, CARD_ID);
    assert_eq!(session.reinitialisations(), 1);
    assert_eq!(engine.requests(SessionInit), 2);
    assert_eq!(engine.requests(Ocr), 2);
}

#[tokio::test]
async fn a_session_that_expires_twice_is_reported_not_retried_forever() {
    let script = format!("{EXPIRED}times = 2\n");
    let engine = scripted_engine(&script).await;
    let mut session = FptSession::new(client_for(&engine));
    let error = read_card(&mut session).await.unwrap_err();
    assert!(
        matches!(&error, ApiError::SessionExpired { message, .. } if message.contains("hết hạn")),
        "{error}"
    );
    assert_eq!(session.reinitialisations(), 1);
    assert_eq!(engine.requests(SessionInit), 2);
    assert_eq!(engine.requests(Ocr), 2);
}

#[tokio::test]
async fn an_expired_session_at_the_selfie_sends_the_document_again_first() {
    let engine = scripted_engine("[[face_liveness]]\nbody = '{\"code\": \"403\", \"message\": \"Phiên làm việc đã hết hạn\"}'\n").await;
    let mut session = FptSession::new(client_for(&engine));
    read_card(&mut session).await.unwrap();
    let result = session
        .face_liveness(&selfie())
        .await
        .expect("new session, document, then selfie");
    assert_eq!(result.code, "200");
    assert_eq!(session.reinitialisations(), 1);
    assert_eq!(engine.requests(SessionInit), 2);
    assert_eq!(
        engine.requests(Ocr),
        2,
        "the document was read again in the new session"
    );
    assert_eq!(engine.requests(FaceLiveness), 2);
}

#[tokio::test]
async fn a_wrong_api_key_is_unauthorized_and_not_retried() {
    let engine = start_engine(Default::default()).await;
    let client =
        FptClient::new(settings_for(engine.base_url(), Secret::new("not-the-key"))).unwrap();
    let error = client.init_session(false).await.unwrap_err();
    assert!(
        matches!(error, ApiError::Unauthorized { status: 401, .. }),
        "{error}"
    );
    assert!(!error.to_string().contains("not-the-key"));
    assert_eq!(engine.requests(SessionInit), 1);
}

#[tokio::test]
async fn a_retaken_side_is_sent_once_when_the_session_is_replaced() {
    let ocr_ok = "[[ocr]]\ntimes = 6\nbody = '{\"errorCode\": \"0\", \"data\": []}'\n";
    let face = "[[face_liveness]]\nbody = '{\"code\": \"403\", \"message\": \"expired\"}'\n[[face_liveness]]\nbody = '{\"code\": \"200\", \"message\": \"ok\"}'\n";
    let engine = scripted_engine(&format!("{ocr_ok}{face}")).await;
    let mut session = FptSession::new(client_for(&engine));
    for side in [Side::Front, Side::Back, Side::Front] {
        let image = if side == Side::Front { front() } else { back() };
        session
            .ocr(OcrRequest::one_side(DocumentType::Idr, side, image))
            .await
            .unwrap();
    }
    assert_eq!(engine.requests(Ocr), 3);
    session
        .face_liveness(&selfie())
        .await
        .expect("new session, both sides, selfie");
    assert_eq!(session.reinitialisations(), 1);
    assert_eq!(
        engine.requests(Ocr),
        5,
        "the new session gets the front (retaken) and the back, once each"
    );
}
