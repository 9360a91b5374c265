//! A whole verification against the local engine, through the real client.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at what it did not expect

mod common;

use common::*;
use ekyc_client::{ApiError, DocumentType, FptSession, OcrRequest, Side};
use ekyc_engine::{EngineSettings, ScriptedEndpoint};

#[tokio::test]
async fn card_qr_fields_come_back_in_contract_order_with_their_values() {
    let engine = start_engine(EngineSettings::default()).await;
    let mut session = FptSession::new(client_for(&engine));
    let result = session
        .ocr(OcrRequest::both_sides(
            DocumentType::Idr,
            front(),
            Some(back()),
        ))
        .await
        .expect("the card's QR code is read");

    let fields: Vec<(&str, &str)> = result
        .fields
        .iter()
        .map(|f| (f.key.as_str(), f.value.as_str()))
        .collect();
    assert_eq!(
        fields,
        [
            ("ID", CARD_ID),
            ("Name", CARD_NAME),
            ("Date of birth", "05/11/1993"),
            ("Sex", "Nữ"),
            (
                "Address",
                "12 Lê Lợi, Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh"
            ),
            ("Issue Date", "14/08/2021"),
        ]
    );
    // A QR decode yields no confidence figure: the engine says "N/A", the client None.
    assert!(result.fields.iter().all(|field| field.score.is_none()));
    assert_eq!(result.field("Name").unwrap().label, "Họ và tên / Full name");
    assert_eq!(result.fields[0].locale.as_deref(), Some("vn"));
}

#[tokio::test]
async fn the_selfie_step_reports_not_evaluated_liveness_and_a_measured_face_match() {
    let engine = start_engine(EngineSettings::default()).await;
    let mut session = FptSession::new(client_for(&engine));
    session
        .ocr(OcrRequest::both_sides(DocumentType::Idr, front(), None))
        .await
        .unwrap();
    let result = session
        .face_liveness(&selfie())
        .await
        .expect("the selfie is accepted");

    assert_eq!(result.code, "200");
    let liveness = result.liveness.expect("liveness block");
    assert_eq!(
        (liveness.is_live, liveness.spoof_prob, liveness.is_deepfake),
        (None, None, None)
    );
    assert!(liveness
        .warning
        .unwrap()
        .contains("does not evaluate liveness"));
    // Face match is measured: the card's photo is the selfie's astronaut.
    let face_match = result.face_match.expect("face_match block");
    assert_eq!(face_match.is_match, Some(true));
    assert!(face_match
        .similarity
        .is_some_and(|similarity| similarity > 80.0));
    assert!(
        !result.is_complete_session,
        "a first selfie leaves room for a retry"
    );
    assert_eq!(session.reinitialisations(), 0);
}

#[tokio::test]
async fn the_session_completes_after_the_configured_number_of_selfies() {
    let engine = start_engine(EngineSettings {
        selfie_attempts: 2,
        ..EngineSettings::default()
    })
    .await;
    let mut session = FptSession::new(client_for(&engine));
    session
        .ocr(OcrRequest::both_sides(DocumentType::Idr, front(), None))
        .await
        .unwrap();
    assert!(
        !session
            .face_liveness(&selfie())
            .await
            .unwrap()
            .is_complete_session
    );
    assert!(
        session
            .face_liveness(&selfie())
            .await
            .unwrap()
            .is_complete_session
    );
    let error = session.face_liveness(&selfie()).await.unwrap_err();
    assert!(
        matches!(&error, ApiError::Api { code, .. } if code == "400"),
        "{error}"
    );
}

#[tokio::test]
async fn a_card_without_a_readable_code_is_document_not_found_and_not_retried() {
    let engine = start_engine(EngineSettings::default()).await;
    let mut session = FptSession::new(client_for(&engine));
    let error = session
        .ocr(OcrRequest::both_sides(DocumentType::Idr, back(), None))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ApiError::DocumentNotFound { .. }),
        "{error}"
    );
    assert_eq!(error.code(), Some("3"));
    assert_eq!(engine.requests(ScriptedEndpoint::Ocr), 1);
}

#[tokio::test]
async fn a_qr_code_that_is_not_a_card_is_not_a_document() {
    let engine = start_engine(EngineSettings::default()).await;
    let mut session = FptSession::new(client_for(&engine));
    let other_qr = prepared(&png(&card_with_qr("https://example.com/menu")), "menu.png");
    let error = session
        .ocr(OcrRequest::both_sides(DocumentType::Idr, other_qr, None))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ApiError::DocumentNotFound { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn the_engine_reads_no_passport_yet_and_says_so_with_code_3() {
    let engine = start_engine(EngineSettings::default()).await;
    let mut session = FptSession::new(client_for(&engine));
    let error = session
        .ocr(OcrRequest::both_sides(
            DocumentType::Passport,
            front(),
            None,
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ApiError::DocumentNotFound { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn sides_sent_one_by_one_must_start_with_the_front() {
    let engine = start_engine(EngineSettings::default()).await;
    let mut session = FptSession::new(client_for(&engine));
    let error = session
        .ocr(OcrRequest::one_side(DocumentType::Idr, Side::Back, back()))
        .await
        .unwrap_err();
    assert!(matches!(error, ApiError::InvalidRequest(_)), "{error}");
    assert_eq!(
        engine.requests(ScriptedEndpoint::Ocr),
        0,
        "refused before any request"
    );

    let front_result = session
        .ocr(OcrRequest::one_side(
            DocumentType::Idr,
            Side::Front,
            front(),
        ))
        .await
        .unwrap();
    assert_eq!(front_result.field("ID").unwrap().value, CARD_ID);
}

#[tokio::test]
async fn vietnamese_messages_when_asked_for() {
    let engine = start_engine(EngineSettings::default()).await;
    let mut settings = settings_for(engine.base_url(), engine.api_key().clone());
    settings.lang = ekyc_client::Lang::Vi;
    let mut session = FptSession::new(ekyc_client::FptClient::new(settings).unwrap());
    let error = session
        .ocr(OcrRequest::both_sides(DocumentType::Idr, back(), None))
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("Không tìm thấy tài liệu"),
        "{error}"
    );
}

/// The one runner the kiosk and `submit` share: session → document (+ the card's own QR
/// code) → face, with each step heard as it starts, and the session kept for a selfie
/// retake.
#[tokio::test]
async fn the_runner_reports_each_step_and_keeps_the_session_for_a_selfie_retake() {
    use ekyc_kiosk::verification::{SubmitStep, Verification};
    use std::sync::{Arc, Mutex};

    let engine = start_engine(EngineSettings::default()).await;
    let steps = Arc::new(Mutex::new(Vec::new()));
    let heard = steps.clone();
    let progress = move |step: SubmitStep| heard.lock().unwrap().push(step);
    let mut verification = Verification::new(client_for(&engine));
    let request = OcrRequest::both_sides(DocumentType::Idr, front(), Some(back()));
    let result = verification
        .run(Some(request), &[selfie()], None, &progress)
        .await
        .expect("the whole verification runs");
    assert_eq!(
        *steps.lock().unwrap(),
        [SubmitStep::Session, SubmitStep::Document, SubmitStep::Face]
    );
    assert_eq!(result.fields[0].value, CARD_ID);
    assert!(
        result
            .cross_check
            .iter()
            .any(|agreement| agreement.key == "ID"),
        "the card's own QR code was read beside the back end's OCR"
    );
    assert!(verification.has_document());
    assert_eq!(engine.requests(ScriptedEndpoint::Ocr), 1);

    verification
        .face(&[selfie()], None)
        .await
        .expect("a second selfie goes alone, in the same session");
    assert_eq!(engine.requests(ScriptedEndpoint::SessionInit), 1);
    assert_eq!(engine.requests(ScriptedEndpoint::Ocr), 1);
    assert_eq!(engine.requests(ScriptedEndpoint::FaceLiveness), 2);
}

#[tokio::test]
async fn a_selfie_with_no_document_read_is_the_face_steps_failure_not_a_request() {
    use ekyc_kiosk::verification::{SubmitStep, Verification};

    let engine = start_engine(EngineSettings::default()).await;
    let mut verification = Verification::new(client_for(&engine));
    let failure = verification.face(&[selfie()], None).await.unwrap_err();
    assert_eq!(failure.step, SubmitStep::Face);
    assert!(
        matches!(failure.error, ApiError::Internal(_)),
        "{:?}",
        failure.error
    );
    assert_eq!(engine.requests(ScriptedEndpoint::FaceLiveness), 0);
}

/// The flow may ask for the selfie alone after the worker's session went (wiped): the
/// worker then sends everything again in a new session, and the customer sees a result,
/// not an internal message.
#[test]
fn a_selfie_retake_without_a_kept_session_sends_everything_again() {
    use ekyc_contract::{KryptonAction, KryptonFlow, LivenessModel};
    use ekyc_kiosk::app::submission::{KioskJourney, Selfies, Submission, Verifier};
    use ekyc_kiosk::flow::Event;
    use std::sync::{mpsc, Arc};

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let engine = runtime.block_on(start_engine(EngineSettings::default()));
    let (sender, events) = mpsc::channel();
    let report = Arc::new(move |generation: u64, event: Event| {
        let _ = sender.send((generation, event));
    });
    let verifier = Verifier {
        client: client_for(&engine),
        krypton: None,
        krypton_only: false,
        model: LivenessModel::Passive,
        keep_face: false,
    };
    let mut submission = Submission::new(runtime.handle().clone(), verifier, report);
    let request = OcrRequest::both_sides(DocumentType::Idr, front(), Some(back()));
    let journey = KioskJourney {
        action: KryptonAction::Enroll,
        order: KryptonFlow::CardFirst,
        customer_id: None,
        chip: None,
    };
    submission.resubmit_selfie(
        journey,
        Some(request),
        Selfies {
            frames: vec![selfie()],
            challenge: None,
        },
    );
    let mut names = Vec::new();
    let finished = loop {
        let (_, event) = events
            .recv_timeout(std::time::Duration::from_secs(120))
            .expect("the worker reports");
        match event {
            Event::Progress(step) => names.push(step),
            Event::Finished(outcome) => break outcome,
            _ => {}
        }
    };
    assert!(finished.is_ok(), "{:?}", finished.err());
    assert_eq!(names.len(), 3, "session, document, face: {names:?}");
    assert_eq!(engine.requests(ScriptedEndpoint::SessionInit), 1);
}
