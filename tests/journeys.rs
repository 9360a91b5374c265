//! The three Krypton journeys against the local engine, over HTTP: ENROLL keeps the face
//! for a customer, AUTH matches a selfie against it (after an engine restart too),
//! LIVENESS checks liveness alone; the enrolment store's file holds nothing readable.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at what it did not expect

mod common;

use std::path::Path;

use common::*;
use ekyc_client::{ApiError, DocumentType, KryptonClient, OcrRequest, PreparedImage};
use ekyc_contract::{KryptonAction, KryptonFlow, LivenessModel, Secret};
use ekyc_engine::{EngineHandle, EngineSettings};
use ekyc_kiosk::verification::{Failure, Journey, SubmitStep, Verification, VerificationResult};

const CUSTOMER: &str = "customer-0042";

fn krypton_for(engine: &EngineHandle) -> KryptonClient {
    KryptonClient::new(
        engine.base_url(),
        engine.company_id().clone(),
        std::time::Duration::from_secs(2),
        std::time::Duration::from_secs(60),
        fast_retry(),
        &ekyc_client::ClientTls::default(),
    )
    .unwrap()
}

async fn engine_in(folder: &Path) -> EngineHandle {
    start_engine(with_enrolments_in(folder, EngineSettings::default())).await
}

fn journey(action: KryptonAction, customer: Option<&str>, model: LivenessModel) -> Journey {
    Journey {
        action,
        flow: KryptonFlow::CardFirst,
        model,
        customer_id: customer.map(Secret::new),
    }
}

async fn run(
    engine: &EngineHandle,
    journey: &Journey,
    selfie: PreparedImage,
) -> Result<VerificationResult, Failure> {
    let mut verification = Verification::for_journey(
        client_for(engine),
        Some(&krypton_for(engine)),
        journey,
        false,
    )
    .unwrap();
    let document = journey
        .reads_document()
        .then(|| OcrRequest::both_sides(DocumentType::Idr, front(), None));
    verification.run(document, &[selfie], None, &|_| {}).await
}

/// Someone who is not the card's holder.
fn stranger() -> PreparedImage {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/face-match/grace-hopper-face.png");
    prepared(&std::fs::read(path).unwrap(), "stranger.png")
}

/// The passive model: one selfie, whose liveness the engine cannot judge, so the bank's
/// choice of `passive` is what lets the face be kept.
async fn enrol(engine: &EngineHandle, customer: &str) -> VerificationResult {
    let enrol = journey(
        KryptonAction::Enroll,
        Some(customer),
        LivenessModel::Passive,
    );
    run(engine, &enrol, selfie()).await.expect("enrolment runs")
}

#[tokio::test]
async fn an_enrolled_customer_authenticates_after_a_restart_and_a_stranger_does_not() {
    let folder = tempfile::tempdir().unwrap();
    let engine = engine_in(folder.path()).await;
    let enrolled = enrol(&engine, CUSTOMER).await;
    assert_eq!(enrolled.enrolled, Some(true), "{enrolled:?}");
    assert_eq!(enrolled.face_match.unwrap().is_match, Some(true));
    engine.stop().await;

    let engine = engine_in(folder.path()).await;
    let auth = journey(KryptonAction::Auth, Some(CUSTOMER), LivenessModel::Passive);
    let result = run(&engine, &auth, selfie()).await.expect("AUTH runs");
    assert!(result.fields.is_empty(), "AUTH reads no document");
    let face_match = result.face_match.unwrap();
    assert_eq!(face_match.is_match, Some(true));
    assert!(face_match
        .similarity
        .is_some_and(|similarity| similarity > 80.0));

    let failure = run(&engine, &auth, stranger()).await.unwrap_err();
    assert_eq!(failure.step, SubmitStep::Face);
    match failure.error {
        ApiError::FaceMismatch { result, .. } => {
            assert_eq!(
                result.message,
                "The face does not match the enrolled customer"
            )
        }
        other => panic!("expected a mismatch, got {other}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn enrolled_through_one_replica_a_customer_is_recognised_by_another() {
    // Two engines as a bank runs them: one PostgreSQL, one key file, any branch's kiosk
    // on either.
    let (server, _key, a, b) = common::postgres::Postgres::two_replicas().await;
    let enrolled = enrol(&a, CUSTOMER).await;
    assert_eq!(enrolled.enrolled, Some(true), "{enrolled:?}");
    let auth = journey(KryptonAction::Auth, Some(CUSTOMER), LivenessModel::Passive);
    let result = run(&b, &auth, selfie()).await.expect("AUTH runs on B");
    assert_eq!(result.face_match.unwrap().is_match, Some(true));
    // Never enrolled anywhere: B refuses the face as it would a stranger's.
    let never = journey(
        KryptonAction::Auth,
        Some("customer-9999"),
        LivenessModel::Passive,
    );
    assert!(run(&b, &never, selfie()).await.is_err());
    assert_eq!(
        server.psql("bank", "SELECT count(*) FROM ekyc_enrolments"),
        "1\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn with_its_database_stopped_an_engine_says_so_and_recovers_by_itself() {
    let server = common::postgres::Postgres::start();
    server.create_database("bank");
    let folder = tempfile::tempdir().unwrap();
    let engine = server.engine("bank", folder.path()).await;
    let http = reqwest::Client::new();
    let health = || async {
        let started = std::time::Instant::now();
        let answer = http
            .get(format!("{}/healthz", engine.base_url()))
            .send()
            .await
            .unwrap();
        let status = answer.status().as_u16();
        let body: serde_json::Value = answer.json().await.unwrap();
        (status, body, started.elapsed())
    };
    let (status, body, _) = health().await;
    assert_eq!((status, &body["database"]), (200, &serde_json::json!("ok")));

    server.stop();
    let (status, body, took) = health().await;
    assert_eq!(status, 503, "{body}");
    assert!(took < std::time::Duration::from_secs(5), "{took:?}");
    let why = body["database"].as_str().unwrap();
    assert!(why.contains("postgres://ekyc@127.0.0.1"), "{why}");
    // A journey that needs the database is refused at once, in words, with no stack.
    let failure = run(
        &engine,
        &journey(
            KryptonAction::Enroll,
            Some(CUSTOMER),
            LivenessModel::Passive,
        ),
        selfie(),
    )
    .await
    .unwrap_err();
    // Refused where the journey first needs the database: its session, kept there; the
    // service's failure (`submit` exits 4), not the customer's rejection (3).
    assert_eq!(failure.step, SubmitStep::Session, "{}", failure.error);
    assert_eq!(
        ekyc_kiosk::verification::Outcome::of_error(&failure.error),
        ekyc_kiosk::verification::Outcome::BackendFailure
    );
    let ApiError::Api { code, raw, .. } = failure.error else {
        panic!("expected code 503, got {}", failure.error);
    };
    assert_eq!(code, "503");
    let text = raw.text();
    assert!(
        text.contains("Sessions are unavailable on this engine"),
        "{text}"
    );
    assert!(
        !text.contains("panicked") && !text.contains(".rs:"),
        "{text}"
    );

    server.restart();
    let (status, _, _) = health().await;
    assert_eq!(status, 200);
    let enrolled = enrol(&engine, CUSTOMER).await;
    assert_eq!(enrolled.enrolled, Some(true), "{enrolled:?}");
}

/// A database frozen (it accepts connections, answers nothing: no limit of the connection
/// fires) holds no request: a new session is refused 503 in words once the engine's wait
/// for the database is over, `/healthz` says so, and when the server goes on the engine
/// serves again by itself.
#[tokio::test(flavor = "multi_thread")]
async fn with_its_database_frozen_an_engine_answers_503_instead_of_hanging() {
    let server = common::postgres::Postgres::start();
    server.create_database("bank");
    let folder = tempfile::tempdir().unwrap();
    let engine = server.engine("bank", folder.path()).await;
    let http = reqwest::Client::new();
    let open_session = || async {
        let answer = http
            .post(format!("{}/session/init", engine.base_url()))
            .header("api-key", engine.api_key().expose())
            .header("device-type", "kiosk")
            .timeout(std::time::Duration::from_secs(30))
            .send()
            .await
            .unwrap();
        (answer.status().as_u16(), answer.text().await.unwrap())
    };
    assert_eq!(open_session().await.0, 200);

    let frozen = server.frozen();
    let started = std::time::Instant::now();
    let (status, body) = open_session().await;
    let waited = started.elapsed();
    let healthz = http
        .get(format!("{}/healthz", engine.base_url()))
        .send()
        .await
        .unwrap()
        .status();
    drop(frozen);
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("did not answer within"), "{body}");
    // Not a hang (the engine's own deadline for a request is 120 s).
    assert!(waited < std::time::Duration::from_secs(30), "{waited:?}");
    assert_eq!(healthz.as_u16(), 503);

    let mut served = 0;
    for _ in 0..50 {
        served = open_session().await.0;
        if served == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(served, 200, "served again once the database answers");
}

/// A number nobody enrolled gets what an enrolled customer with another face gets: the
/// session opens, the selfie is matched (against a stand-in) and refused with the same
/// code and words, a stranger's similarity: trying numbers tells nobody who banks here.
#[tokio::test]
async fn auth_for_a_number_never_enrolled_looks_like_a_face_that_does_not_match() {
    let folder = tempfile::tempdir().unwrap();
    let engine = engine_in(folder.path()).await;
    enrol(&engine, CUSTOMER).await;
    let mismatch = |failure: Failure| -> ekyc_contract::FaceResult {
        assert_eq!(failure.step, SubmitStep::Face, "{}", failure.error);
        match failure.error {
            ApiError::FaceMismatch { result, .. } => *result,
            other => panic!("expected a mismatch, got {other}"),
        }
    };
    // The card's holder's face under a number nobody enrolled...
    let nobody = journey(KryptonAction::Auth, Some("nobody"), LivenessModel::Passive);
    let unknown = mismatch(run(&engine, &nobody, selfie()).await.unwrap_err());
    // ... and a stranger's face under an enrolled number.
    let known = journey(KryptonAction::Auth, Some(CUSTOMER), LivenessModel::Passive);
    let stranger = mismatch(run(&engine, &known, stranger()).await.unwrap_err());
    assert_eq!(unknown.code, stranger.code);
    assert_eq!(unknown.message, stranger.message);
    let (unknown, stranger) = (unknown.face_match.unwrap(), stranger.face_match.unwrap());
    assert_eq!(unknown.message, stranger.message);
    assert_eq!(unknown.is_match, Some(false));
    let similarity = unknown.similarity.expect("a figure, as for anyone else");
    assert!(similarity < 80.0, "{similarity}");
    assert_eq!(
        engine.requests(ekyc_engine::ScriptedEndpoint::FaceLiveness),
        3,
        "every selfie reached the face step: enrolment, the unknown number, the stranger"
    );
    // The same number twice: the same answer (a real enrolment would not change either).
    let again = mismatch(run(&engine, &nobody, selfie()).await.unwrap_err());
    assert_eq!(again.face_match.unwrap().similarity, Some(similarity));
}

/// A bank whose own system needs the early answer turns it on: then an unknown number is
/// refused when the session opens (code 412), before any selfie.
#[tokio::test]
async fn with_reveal_not_enrolled_an_unknown_number_is_refused_before_any_selfie() {
    let folder = tempfile::tempdir().unwrap();
    let engine = start_engine(with_enrolments_in(
        folder.path(),
        EngineSettings {
            reveal_not_enrolled: true,
            ..EngineSettings::default()
        },
    ))
    .await;
    let auth = journey(KryptonAction::Auth, Some("nobody"), LivenessModel::Passive);
    let failure = run(&engine, &auth, selfie()).await.unwrap_err();
    assert_eq!(failure.step, SubmitStep::Session);
    assert!(
        matches!(&failure.error, ApiError::NotEnrolled { message, .. } if message.contains("not enrolled")),
        "{}",
        failure.error
    );
    assert_eq!(
        engine.requests(ekyc_engine::ScriptedEndpoint::FaceLiveness),
        0
    );
}

#[tokio::test]
async fn with_the_gaze_model_a_selfie_whose_liveness_was_not_measured_is_not_kept() {
    let folder = tempfile::tempdir().unwrap();
    let engine = engine_in(folder.path()).await;
    let gaze = journey(KryptonAction::Enroll, Some(CUSTOMER), LivenessModel::Gaze);
    let result = run(&engine, &gaze, selfie()).await.unwrap();
    assert_eq!(result.face_match.unwrap().is_match, Some(true));
    assert_eq!(result.enrolled, Some(false));
    let auth = journey(KryptonAction::Auth, Some(CUSTOMER), LivenessModel::Gaze);
    let failure = run(&engine, &auth, selfie()).await.unwrap_err();
    // Not kept: the customer's own face is then refused, as any face would be.
    assert!(matches!(failure.error, ApiError::FaceMismatch { .. }));
}

#[tokio::test]
async fn liveness_only_reads_no_document_and_is_judged_on_liveness_alone() {
    let folder = tempfile::tempdir().unwrap();
    let engine = engine_in(folder.path()).await;
    let liveness = journey(KryptonAction::Liveness, None, LivenessModel::Gaze);
    let result = run(&engine, &liveness, selfie()).await.unwrap();
    let face_match = result.face_match.clone().unwrap();
    assert_eq!(face_match.is_match, None);
    assert!(face_match.warning.unwrap().contains("LIVENESS"));
    // One selfie: liveness not measured, and that is the only check.
    assert_eq!(result.not_evaluated(), vec!["liveness"]);
    assert_eq!(engine.requests(ekyc_engine::ScriptedEndpoint::Ocr), 0);
    assert!(
        !folder.path().join("enrolments.redb").exists(),
        "LIVENESS opens no enrolment store"
    );
}

#[tokio::test]
async fn a_document_sent_in_an_auth_or_liveness_session_is_refused() {
    let engine = start_engine(EngineSettings::default()).await;
    let krypton = krypton_for(&engine);
    let request = krypton.request(
        vec![ekyc_contract::SessionType::Liveness],
        ekyc_contract::KryptonExtra {
            action: KryptonAction::Liveness,
            flow: None,
            model: LivenessModel::Gaze,
            user_id: "anyone".into(),
            kr_path: None,
        },
    );
    let mut session = ekyc_client::FptSession::krypton(client_for(&engine), krypton, request);
    let error = session
        .ocr(OcrRequest::both_sides(DocumentType::Idr, front(), None))
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("LIVENESS session: it reads no document"),
        "{error}"
    );
}

#[tokio::test]
async fn eight_customers_enrol_at_once_and_each_authenticates() {
    let folder = tempfile::tempdir().unwrap();
    let engine = engine_in(folder.path()).await;
    let customers: Vec<String> = (0..8).map(|index| format!("branch-7-{index}")).collect();
    let enrolments = customers.iter().map(|customer| enrol(&engine, customer));
    for result in futures_util::future::join_all(enrolments).await {
        assert_eq!(result.enrolled, Some(true));
    }
    let engine = &engine;
    let auths = customers.iter().map(|customer| {
        let auth = journey(KryptonAction::Auth, Some(customer), LivenessModel::Passive);
        async move { run(engine, &auth, selfie()).await }
    });
    for result in futures_util::future::join_all(auths).await {
        assert_eq!(result.unwrap().face_match.unwrap().is_match, Some(true));
    }
}

#[tokio::test]
async fn the_database_holds_no_id_no_name_and_no_image() {
    let folder = tempfile::tempdir().unwrap();
    let engine = engine_in(folder.path()).await;
    enrol(&engine, CUSTOMER).await;
    engine.stop().await;
    let bytes = std::fs::read(folder.path().join("enrolments.redb")).unwrap();
    let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|window| window == needle);
    for needle in [
        CUSTOMER.as_bytes(),
        "079203004512".as_bytes(),
        "Nhung".as_bytes(),
        "NHUNG".as_bytes(),
        &[0xff, 0xd8, 0xff], // JPEG
        b"\x89PNG",          // PNG
    ] {
        assert!(
            !contains(needle),
            "{:?} found in the database",
            String::from_utf8_lossy(needle)
        );
    }
}

#[tokio::test]
async fn a_key_file_others_can_read_or_a_damaged_database_is_refused_in_words() {
    use std::os::unix::fs::PermissionsExt;
    let folder = tempfile::tempdir().unwrap();
    let engine = engine_in(folder.path()).await;
    enrol(&engine, CUSTOMER).await;
    engine.stop().await;
    let key = folder.path().join("enrolment.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let engine = engine_in(folder.path()).await;
    let auth = journey(KryptonAction::Auth, Some(CUSTOMER), LivenessModel::Passive);
    let failure = run(&engine, &auth, selfie()).await.unwrap_err();
    assert!(
        failure.error.to_string().contains("chmod 600"),
        "{}",
        failure.error
    );
    engine.stop().await;

    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let database = folder.path().join("enrolments.redb");
    let length = std::fs::metadata(&database).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&database)
        .unwrap()
        .set_len(length / 2)
        .unwrap();
    let engine = engine_in(folder.path()).await;
    let failure = run(&engine, &auth, selfie()).await.unwrap_err();
    assert!(
        failure.error.to_string().contains("damaged"),
        "{}",
        failure.error
    );
}

/// `ekyc-kiosk` with its enrolments in `folder`, on an in-process engine.
fn command(folder: &Path) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_ekyc-kiosk"));
    command
        .env_clear()
        .env("HOME", folder)
        .env("EKYC_ENROLMENT_DB", folder.join("enrolments.redb"));
    command
}

#[test]
fn submit_runs_each_journey_headless_and_staff_can_list_and_delete() {
    let folder = tempfile::tempdir().unwrap();
    let front = write_file(
        folder.path(),
        "front.jpg",
        &jpeg(&card_with_qr(CARD_PAYLOAD)),
    );
    let selfie = selfie_path();
    let submit = |args: &[&str]| {
        let output = command(folder.path())
            .env("EKYC_LIVENESS_MODEL", "passive")
            .args(["submit", "--json", "--selfie"])
            .arg(&selfie)
            .args(args)
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&output.stderr)));
        (output.status.code(), report)
    };
    let front = front.to_str().unwrap();
    let (code, report) = submit(&["--front", front, "--user-id", CUSTOMER]);
    assert_eq!(
        (code, &report["enrolled"]),
        (Some(0), &serde_json::json!(true)),
        "{report}"
    );
    assert_eq!(report["action"], "ENROLL");

    let (code, report) = submit(&["--action", "auth", "--user-id", CUSTOMER]);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["face_match"]["is_match"], true);
    assert!(report["fields"].as_array().unwrap().is_empty());

    let (code, report) = submit(&["--action", "liveness"]);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["not_evaluated"], serde_json::json!(["liveness"]));

    let (code, report) = submit(&["--action", "auth", "--user-id", "someone-else"]);
    assert_eq!(code, Some(3), "{report}");
    assert_eq!(report["error"]["kind"], "face_mismatch");

    let list = command(folder.path())
        .args(["enrolments", "list"])
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&list.stdout);
    assert_eq!(list.status.code(), Some(0), "{listing}");
    assert!(listing.contains("1 enrolment(s)"), "{listing}");
    assert!(!listing.contains(CUSTOMER), "the id never shows: {listing}");

    let delete = command(folder.path())
        .args(["enrolments", "delete", CUSTOMER])
        .output()
        .unwrap();
    assert_eq!(delete.status.code(), Some(0));
    let (code, report) = submit(&["--action", "auth", "--user-id", CUSTOMER]);
    assert_eq!(
        (code, &report["error"]["kind"]),
        (Some(3), &serde_json::json!("face_mismatch"))
    );
    let again = command(folder.path())
        .args(["enrolments", "delete", CUSTOMER])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_krypton_back_end_runs_every_verification_in_a_krypton_session() {
    let folder = tempfile::tempdir().unwrap();
    let engine = engine_in(folder.path()).await;
    let (url, company, key) = (
        engine.base_url().to_owned(),
        engine.company_id().expose().to_owned(),
        engine.api_key().expose().to_owned(),
    );
    let home = folder.path().to_owned();
    let output = tokio::task::spawn_blocking(move || {
        command(&home)
            .env("EKYC_BACKEND", "krypton")
            .env("EKYC_KRYPTON_URL", url)
            .env("EKYC_KRYPTON_COMPANY_ID", company)
            .env("EKYC_API_KEY", key)
            .args(["submit", "--json", "--action", "liveness", "--selfie"])
            .arg(selfie_path())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&output.stderr)));
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert_eq!(report["backend"]["kind"], "krypton");
    assert_eq!(report["action"], "LIVENESS");
    assert_eq!(engine.requests(ekyc_engine::ScriptedEndpoint::Krypton), 1);
    assert_eq!(
        engine.requests(ekyc_engine::ScriptedEndpoint::SessionInit),
        0
    );
}

#[tokio::test]
async fn a_krypton_answer_without_a_session_id_stops_with_a_message_that_says_so() {
    // A real server's answer is undocumented: one without a session id is not guessed at.
    let engine =
        scripted_engine("[[krypton]]\nbody = '{\"code\": \"200\", \"message\": \"ok\"}'\n").await;
    let liveness = journey(KryptonAction::Liveness, None, LivenessModel::Gaze);
    let failure = run(&engine, &liveness, selfie()).await.unwrap_err();
    assert_eq!(failure.step, SubmitStep::Session);
    assert!(
        matches!(&failure.error, ApiError::MalformedResponse { reason, .. } if reason.contains("no sessionId")),
        "{}",
        failure.error
    );
}

#[tokio::test]
async fn an_fpt_back_end_refuses_auth_and_says_why() {
    let engine = start_engine(EngineSettings::default()).await;
    let auth = journey(KryptonAction::Auth, Some(CUSTOMER), LivenessModel::Gaze);
    let error = Verification::for_journey(client_for(&engine), None, &auth, false).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("AUTH needs a back end that speaks Krypton v3"),
        "{error}"
    );
    let keep = journey(KryptonAction::Enroll, Some(CUSTOMER), LivenessModel::Gaze);
    assert!(Verification::for_journey(client_for(&engine), None, &keep, false).is_err());
    let plain = journey(KryptonAction::Enroll, None, LivenessModel::Gaze);
    assert!(Verification::for_journey(client_for(&engine), None, &plain, false).is_ok());
}
