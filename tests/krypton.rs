//! The Krypton v3 client against the local engine, and `ekyc-kiosk krypton-session`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at what it did not expect

mod common;

use std::time::Duration;

use common::*;
use ekyc_client::krypton::{
    KryptonAction, KryptonClient, KryptonExtra, KryptonFlow, LivenessModel, SessionType,
};
use ekyc_client::{ApiError, Secret};
use ekyc_engine::ScriptedEndpoint;

fn client(engine: &ekyc_engine::EngineHandle) -> KryptonClient {
    KryptonClient::new(
        engine.base_url(),
        engine.company_id().clone(),
        Duration::from_secs(2),
        Duration::from_secs(5),
        fast_retry(),
        &ekyc_client::ClientTls::default(),
    )
    .unwrap()
}

fn enrol(flow: Option<KryptonFlow>) -> KryptonExtra {
    KryptonExtra {
        action: KryptonAction::Enroll,
        flow,
        model: LivenessModel::Passive,
        user_id: "customer-7".into(),
        kr_path: None,
    }
}

#[tokio::test]
async fn a_session_request_returns_the_body_as_received() {
    let folder = tempfile::tempdir().unwrap();
    let engine = start_engine(with_enrolments_in(folder.path(), Default::default())).await;
    let client = client(&engine);
    let body = client
        .create_session(&client.request(
            vec![SessionType::Enroll, SessionType::Ocr],
            enrol(Some(KryptonFlow::FaceFirst)),
        ))
        .await
        .unwrap();
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["code"], "200");
    assert_eq!(answer["model"], "passive");
    assert_eq!(answer["flow"], "face_first");
    assert_eq!(answer["krPath"], engine.base_url());
}

#[tokio::test]
async fn an_enrol_without_a_flow_is_sent_card_first() {
    let folder = tempfile::tempdir().unwrap();
    let engine = start_engine(with_enrolments_in(folder.path(), Default::default())).await;
    let client = client(&engine);
    let request = client.request(vec![SessionType::Enroll, SessionType::Ocr], enrol(None));
    assert_eq!(request.extra.flow, Some(KryptonFlow::CardFirst));
    let body = client.create_session(&request).await.unwrap();
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["flow"], "card_first");
}

#[tokio::test]
async fn a_wrong_company_id_is_refused_as_unauthorized() {
    let engine = start_engine(Default::default()).await;
    let stranger = KryptonClient::new(
        engine.base_url(),
        Secret::new("another-bank"),
        Duration::from_secs(2),
        Duration::from_secs(5),
        fast_retry(),
        &ekyc_client::ClientTls::default(),
    )
    .unwrap();
    let liveness = KryptonExtra {
        action: KryptonAction::Liveness,
        ..enrol(None)
    };
    let error = stranger
        .create_session(&stranger.request(vec![SessionType::Liveness], liveness))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ApiError::Unauthorized { status: 401, .. }),
        "{error}"
    );
}

#[tokio::test]
async fn an_invalid_request_is_refused_before_it_is_sent() {
    let engine = start_engine(Default::default()).await;
    let client = client(&engine);
    let nobody = KryptonExtra {
        user_id: " ".into(),
        ..enrol(None)
    };
    let error = client
        .create_session(&client.request(vec![SessionType::Enroll, SessionType::Ocr], nobody))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, ApiError::InvalidRequest(message) if message.contains("userId")),
        "{error}"
    );
    assert_eq!(engine.requests(ScriptedEndpoint::Krypton), 0);
}

#[tokio::test]
async fn server_errors_are_retried_and_reported_with_the_body() {
    let engine = scripted_engine(
        "[[krypton]]\ntimes = 3\nstatus = 503\nbody = 'maintenance'\ncontent_type = 'text/plain'\n",
    )
    .await;
    let client = client(&engine);
    let error = client
        .create_session(&client.request(
            vec![SessionType::Liveness],
            KryptonExtra {
                action: KryptonAction::Liveness,
                ..enrol(None)
            },
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, ApiError::Http { status: 503, raw } if raw.text() == "maintenance"),
        "{error}"
    );
    assert_eq!(engine.requests(ScriptedEndpoint::Krypton), 3);
}

#[test]
fn the_command_opens_a_session_on_an_in_process_engine() {
    let home = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_ekyc-kiosk"))
            .env_clear()
            .env("HOME", home.path())
            .args([
                "krypton-session",
                "--action",
                "enroll",
                "--session-type",
                "enroll",
                "--session-type",
                "ocr",
            ])
            .args(["--model", "gaze", "--user-id", "customer-7"])
            .args(extra)
            .output()
            .unwrap()
    };
    let output = run(&["--flow", "card-first"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let answer: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(answer["action"], "ENROLL");

    // Without --flow: the vendor's sample, sent card first.
    let output = run(&[]);
    assert_eq!(output.status.code(), Some(0));
    let answer: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(answer["flow"], "card_first");
}
