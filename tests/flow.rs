//! The wizard without a window: every transition, the error routes and idle handling.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at what it did not expect

use std::time::{Duration, Instant};

use ekyc_client::{
    ApiError, CertificateProblem, DocumentType, FaceResult, Lang, OcrField, RawBody,
};
use ekyc_kiosk::flow::{
    Capture, CaptureTarget, Effect, Event, Flow, Guidance, Screen, SubmitStep, VerificationResult,
};
use CaptureTarget::{Back, Front, Selfie};

mod common;

const IDLE: Duration = Duration::from_secs(60);

fn capture() -> Capture {
    let image = image::RgbImage::from_pixel(64, 40, image::Rgb([90, 120, 150]));
    let mut png = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let upload = ekyc_client::prepare_image(&png, "capture.png", &Default::default()).unwrap();
    Capture::new(upload, &image::DynamicImage::ImageRgb8(image))
}

struct Kiosk {
    flow: Flow,
    now: Instant,
}

impl Kiosk {
    fn new() -> Self {
        let now = Instant::now();
        Self {
            flow: Flow::new(Lang::En, IDLE, now),
            now,
        }
    }

    fn send(&mut self, event: Event) -> Effect {
        self.now += Duration::from_millis(500);
        self.flow.handle(event, self.now)
    }

    fn screen(&self) -> Screen {
        self.flow.screen().clone()
    }

    fn take(&mut self) {
        assert!(
            matches!(self.screen(), Screen::Capture(_)),
            "on {:?}",
            self.screen()
        );
        assert_eq!(self.send(Event::Captured(capture())), Effect::None);
        assert_eq!(self.send(Event::UseCapture), Effect::None);
    }

    /// Welcome to Review with every capture taken.
    fn to_review(document: DocumentType) -> Self {
        let mut kiosk = Self::new();
        let _ = kiosk.send(Event::Start);
        let _ = kiosk.send(Event::Accept);
        let _ = kiosk.send(Event::ChooseDocument(document));
        while kiosk.screen() != Screen::Review {
            kiosk.take();
        }
        kiosk
    }

    /// A submission that fails at the face step.
    fn submit_and_fail(&mut self, error: ApiError) {
        self.submit_and_fail_at(SubmitStep::Face, error);
    }

    fn submit_and_fail_at(&mut self, step: SubmitStep, error: ApiError) {
        assert_eq!(self.send(Event::Submit), Effect::StartSubmission);
        let _ = self.send(Event::Progress(SubmitStep::Document));
        if step == SubmitStep::Face {
            let _ = self.send(Event::Progress(SubmitStep::Face));
        }
        assert_eq!(self.send(Event::Finished(Err(error))), Effect::None);
    }
}

fn face_error(code: &str, complete: bool) -> ApiError {
    let result = Box::new(FaceResult {
        code: code.into(),
        is_complete_session: complete,
        ..FaceResult::default()
    });
    match code {
        "303" => ApiError::FaceMismatch {
            result,
            raw: RawBody::default(),
        },
        _ => ApiError::MultipleFaces {
            result,
            raw: RawBody::default(),
        },
    }
}

fn field(key: &str, value: &str) -> OcrField {
    OcrField {
        key: key.into(),
        label: key.into(),
        value: value.into(),
        score: None,
        locale: None,
        source: None,
        extra: Default::default(),
    }
}

#[test]
fn declining_consent_returns_to_welcome() {
    let mut kiosk = Kiosk::new();
    assert_eq!(kiosk.send(Event::Start), Effect::None);
    assert_eq!(kiosk.screen(), Screen::Consent);
    assert_eq!(kiosk.send(Event::Decline), Effect::WipeSession);
    assert_eq!(kiosk.screen(), Screen::Welcome);
}

#[test]
fn an_identity_card_goes_front_back_selfie_review_submit_result_and_finish_wipes() {
    let mut kiosk = Kiosk::new();
    let _ = kiosk.send(Event::Start);
    let _ = kiosk.send(Event::Accept);
    assert_eq!(kiosk.screen(), Screen::DocumentChoice);
    let _ = kiosk.send(Event::ChooseDocument(DocumentType::Idr));
    assert_eq!(kiosk.screen(), Screen::Capture(Front));

    let _ = kiosk.send(Event::Captured(capture()));
    assert_eq!(kiosk.screen(), Screen::Still(Front));
    assert!(kiosk.flow.pending_capture().is_some());
    let _ = kiosk.send(Event::Retake);
    assert_eq!(kiosk.screen(), Screen::Capture(Front));
    assert!(kiosk.flow.pending_capture().is_none() && kiosk.flow.capture(Front).is_none());

    kiosk.take();
    assert_eq!(kiosk.screen(), Screen::Capture(Back));
    kiosk.take();
    assert_eq!(kiosk.screen(), Screen::Capture(Selfie));
    kiosk.take();
    assert_eq!(kiosk.screen(), Screen::Review);
    assert_eq!(kiosk.flow.targets(), [Front, Back, Selfie]);

    assert_eq!(kiosk.send(Event::Submit), Effect::StartSubmission);
    assert_eq!(kiosk.screen(), Screen::Submitting(SubmitStep::Session));
    let _ = kiosk.send(Event::Progress(SubmitStep::Document));
    assert_eq!(kiosk.screen(), Screen::Submitting(SubmitStep::Document));
    let _ = kiosk.send(Event::Progress(SubmitStep::Face));
    let result = VerificationResult {
        fields: vec![field("ID", "079203004512")],
        ..Default::default()
    };
    let _ = kiosk.send(Event::Finished(Ok(result)));
    assert_eq!(kiosk.screen(), Screen::Result);
    assert_eq!(kiosk.flow.result().fields[0].value, "079203004512");
    assert_eq!(kiosk.flow.result().document, Some(DocumentType::Idr));

    assert_eq!(kiosk.send(Event::Finish), Effect::WipeSession);
    assert_eq!(kiosk.screen(), Screen::Welcome);
    assert!(kiosk.flow.result().fields.is_empty());
    assert!([Front, Back, Selfie]
        .iter()
        .all(|target| kiosk.flow.capture(*target).is_none()));
    assert_eq!(kiosk.flow.document(), None);
}

#[test]
fn a_passport_has_no_back_side_to_capture() {
    let mut kiosk = Kiosk::new();
    let _ = kiosk.send(Event::Start);
    let _ = kiosk.send(Event::Accept);
    let _ = kiosk.send(Event::ChooseDocument(DocumentType::Passport));
    kiosk.take();
    assert_eq!(kiosk.screen(), Screen::Capture(Selfie));
    kiosk.take();
    assert_eq!(kiosk.flow.targets(), [Front, Selfie]);
    assert_eq!(kiosk.send(Event::RetakeFromReview(Back)), Effect::None);
    assert_eq!(kiosk.screen(), Screen::Review, "there is no back to retake");
}

#[test]
fn a_retake_from_the_review_comes_back_to_the_review() {
    let mut kiosk = Kiosk::to_review(DocumentType::Dlr);
    let _ = kiosk.send(Event::RetakeFromReview(Back));
    assert_eq!(kiosk.screen(), Screen::Capture(Back));
    kiosk.take();
    assert_eq!(kiosk.screen(), Screen::Review);
}

#[test]
fn doubled_or_late_clicks_change_nothing() {
    let mut kiosk = Kiosk::to_review(DocumentType::Idr);
    assert_eq!(kiosk.send(Event::UseCapture), Effect::None);
    assert_eq!(kiosk.send(Event::Finish), Effect::None);
    assert_eq!(kiosk.screen(), Screen::Review);
}

#[test]
fn card_not_found_sends_the_customer_back_to_the_front() {
    let mut kiosk = Kiosk::to_review(DocumentType::Idr);
    kiosk.submit_and_fail(ApiError::DocumentNotFound {
        message: "x".into(),
        raw: RawBody::default(),
    });
    assert_eq!(kiosk.screen(), Screen::Guidance(Guidance::CardNotFound));
    let _ = kiosk.send(Event::FollowGuidance);
    assert_eq!(kiosk.screen(), Screen::Capture(Front));
    kiosk.take();
    assert_eq!(kiosk.screen(), Screen::Review);
    assert_eq!(
        kiosk.send(Event::Submit),
        Effect::StartSubmission,
        "a new card image needs a new session"
    );
}

#[test]
fn a_face_mismatch_in_an_open_session_retakes_only_the_selfie() {
    let mut kiosk = Kiosk::to_review(DocumentType::Idr);
    kiosk.submit_and_fail(face_error("303", false));
    assert_eq!(
        kiosk.screen(),
        Screen::Guidance(Guidance::FaceMismatchRetakeSelfie)
    );
    let _ = kiosk.send(Event::FollowGuidance);
    assert_eq!(kiosk.screen(), Screen::Capture(Selfie));
    assert!(kiosk.flow.capture(Selfie).is_none() && kiosk.flow.capture(Front).is_some());
    kiosk.take();
    assert_eq!(kiosk.screen(), Screen::Review);
    assert_eq!(kiosk.send(Event::Submit), Effect::ResubmitSelfie);
    assert_eq!(kiosk.screen(), Screen::Submitting(SubmitStep::Face));
}

#[test]
fn a_face_error_in_a_completed_session_restarts_from_the_document() {
    for code in ["303", "407"] {
        let mut kiosk = Kiosk::to_review(DocumentType::Idr);
        kiosk.submit_and_fail(face_error(code, true));
        assert_eq!(
            kiosk.screen(),
            Screen::Guidance(Guidance::RestartFromDocument),
            "{code}"
        );
        let _ = kiosk.send(Event::FollowGuidance);
        assert_eq!(kiosk.screen(), Screen::Capture(Front));
        assert!([Front, Back, Selfie]
            .iter()
            .all(|target| kiosk.flow.capture(*target).is_none()));
        assert_eq!(
            kiosk.flow.document(),
            Some(DocumentType::Idr),
            "the document type is kept"
        );
        for _ in 0..3 {
            kiosk.take();
        }
        assert_eq!(kiosk.screen(), Screen::Review);
        assert_eq!(kiosk.send(Event::Submit), Effect::StartSubmission);
    }
}

#[test]
fn two_faces_asks_for_one_person() {
    let mut kiosk = Kiosk::to_review(DocumentType::Idr);
    kiosk.submit_and_fail(face_error("407", false));
    assert_eq!(kiosk.screen(), Screen::Guidance(Guidance::OnlyOnePerson));
    let _ = kiosk.send(Event::FollowGuidance);
    assert_eq!(kiosk.screen(), Screen::Capture(Selfie));
}

#[test]
fn other_codes_show_the_back_ends_message_and_offer_a_recapture() {
    let mut kiosk = Kiosk::to_review(DocumentType::Idr);
    kiosk.submit_and_fail_at(
        SubmitStep::Document,
        ApiError::Api {
            code: "12".into(),
            message: "Giấy tờ hết hạn".into(),
            raw: RawBody::default(),
        },
    );
    assert_eq!(
        kiosk.screen(),
        Screen::Guidance(Guidance::Rejected {
            message: "Giấy tờ hết hạn".into(),
            retake: Front,
        })
    );
    let _ = kiosk.send(Event::FollowGuidance);
    assert_eq!(kiosk.screen(), Screen::Capture(Front));
}

#[test]
fn a_selfie_refused_at_the_face_step_is_retaken_and_sent_alone() {
    let mut kiosk = Kiosk::to_review(DocumentType::Idr);
    kiosk.submit_and_fail(ApiError::Api {
        code: "400".into(),
        message: "No face was found in the selfie".into(),
        raw: RawBody::default(),
    });
    assert_eq!(
        kiosk.screen(),
        Screen::Guidance(Guidance::Rejected {
            message: "No face was found in the selfie".into(),
            retake: Selfie,
        })
    );
    let _ = kiosk.send(Event::FollowGuidance);
    assert_eq!(kiosk.screen(), Screen::Capture(Selfie));
    kiosk.take();
    assert_eq!(kiosk.screen(), Screen::Review);
    assert_eq!(kiosk.send(Event::Submit), Effect::ResubmitSelfie);
}

#[test]
fn an_unreachable_back_end_offers_a_retry() {
    let mut kiosk = Kiosk::to_review(DocumentType::Idr);
    assert_eq!(kiosk.send(Event::Submit), Effect::StartSubmission);
    let _ = kiosk.send(Event::Finished(Err(ApiError::Timeout(
        Duration::from_secs(30),
    ))));
    assert_eq!(kiosk.screen(), Screen::BackendUnavailable);
    assert_eq!(kiosk.send(Event::RetrySubmission), Effect::StartSubmission);
    let _ = kiosk.send(Event::Finished(Err(ApiError::Unreachable {
        url: "x".into(),
        reason: "refused".into(),
    })));
    assert_eq!(kiosk.screen(), Screen::BackendUnavailable);
    assert_eq!(kiosk.send(Event::Cancel), Effect::None);
    assert_eq!(kiosk.screen(), Screen::Review);
}

/// The back end's own "cannot serve now" (code 503: its sessions' database away, its
/// queue full) is told as an unavailable service with *Try again*, never as a refusal of
/// the customer's pictures; another code stays the back end's verdict.
#[test]
fn a_back_end_that_says_it_cannot_serve_now_offers_a_retry_not_a_refusal() {
    let mut kiosk = Kiosk::to_review(DocumentType::Idr);
    kiosk.submit_and_fail(ApiError::Api {
        code: "503".into(),
        message: "Sessions are unavailable on this engine: the database did not answer".into(),
        raw: RawBody::default(),
    });
    assert_eq!(kiosk.screen(), Screen::BackendUnavailable);
    // It failed at the face step, the document accepted: only the selfie goes again.
    assert_eq!(kiosk.send(Event::RetrySubmission), Effect::ResubmitSelfie);
}

#[test]
fn a_refused_kiosk_key_is_for_staff_and_ends_the_session() {
    let mut kiosk = Kiosk::to_review(DocumentType::Idr);
    kiosk.submit_and_fail(ApiError::Unauthorized {
        status: 401,
        raw: RawBody::default(),
    });
    assert_eq!(kiosk.screen(), Screen::Guidance(Guidance::KioskNotSetUp));
    assert_eq!(kiosk.send(Event::FollowGuidance), Effect::WipeSession);
    assert_eq!(kiosk.screen(), Screen::Welcome);
}

#[test]
fn a_certificate_refused_is_for_staff_in_words_and_never_a_retry_loop() {
    for problem in [
        CertificateProblem::ServerNotTrusted,
        CertificateProblem::KioskRefused,
    ] {
        let mut kiosk = Kiosk::to_review(DocumentType::Idr);
        kiosk.submit_and_fail(ApiError::Certificate {
            url: "https://branch-server:8480".into(),
            problem,
            reason: "invalid peer certificate: UnknownIssuer".into(),
        });
        assert_eq!(
            kiosk.screen(),
            Screen::Guidance(Guidance::CertificateRefused(problem)),
            "not the back-end-down screen, whose button tries again"
        );
        assert_eq!(kiosk.send(Event::FollowGuidance), Effect::WipeSession);
        assert_eq!(kiosk.screen(), Screen::Welcome);
    }
}

#[test]
fn cancel_returns_to_the_review_and_a_late_answer_is_ignored() {
    let mut kiosk = Kiosk::to_review(DocumentType::Idr);
    assert_eq!(kiosk.send(Event::Submit), Effect::StartSubmission);
    assert_eq!(kiosk.send(Event::Cancel), Effect::CancelSubmission);
    assert_eq!(kiosk.screen(), Screen::Review);
    let late = VerificationResult {
        fields: vec![field("ID", "1")],
        ..Default::default()
    };
    assert_eq!(kiosk.send(Event::Finished(Ok(late))), Effect::None);
    assert_eq!(kiosk.screen(), Screen::Review);
    assert!(kiosk.flow.result().fields.is_empty());
}

#[test]
fn the_language_can_change_on_any_screen() {
    let mut kiosk = Kiosk::to_review(DocumentType::Idr);
    let _ = kiosk.send(Event::SetLanguage(Lang::Vi));
    assert_eq!(
        (kiosk.flow.lang(), kiosk.screen()),
        (Lang::Vi, Screen::Review)
    );
    let _ = kiosk.send(Event::Submit);
    let _ = kiosk.send(Event::Finished(Ok(VerificationResult::default())));
    assert_eq!(kiosk.send(Event::Finish), Effect::WipeSession);
    assert_eq!(
        kiosk.flow.lang(),
        Lang::Vi,
        "the next customer keeps the language until they change it"
    );
}

#[test]
fn idle_customers_get_a_countdown_then_the_session_is_wiped() {
    let mut kiosk = Kiosk::to_review(DocumentType::Idr);
    let start = kiosk.now;
    assert_eq!(
        kiosk.flow.tick(start + IDLE - Duration::from_secs(1)),
        Effect::None
    );
    assert_eq!(kiosk.flow.idle_countdown(start + IDLE), None);
    assert_eq!(kiosk.flow.tick(start + IDLE), Effect::None);
    assert_eq!(
        kiosk.flow.idle_countdown(start + IDLE),
        Some(Duration::from_secs(20)),
        "WCAG 2.2.1: at least 20 seconds to ask for more time"
    );

    // A touch during the countdown keeps the session.
    kiosk.flow.touch(start + IDLE + Duration::from_secs(4));
    assert_eq!(
        kiosk
            .flow
            .idle_countdown(start + IDLE + Duration::from_secs(4)),
        None
    );
    assert_eq!(
        kiosk.flow.tick(start + IDLE + Duration::from_secs(20)),
        Effect::None
    );
    assert_eq!(kiosk.screen(), Screen::Review);

    // Nobody touches: after the timeout and the 20-second countdown, everything is gone.
    let later = start + IDLE * 2 + Duration::from_secs(4);
    let _ = kiosk.flow.tick(later);
    assert!(kiosk.flow.idle_countdown(later).is_some());
    assert_eq!(
        kiosk.flow.tick(later + Duration::from_secs(19)),
        Effect::None
    );
    assert_eq!(
        kiosk.flow.tick(later + Duration::from_secs(20)),
        Effect::WipeSession
    );
    assert_eq!(kiosk.screen(), Screen::Welcome);
    assert!(kiosk.flow.capture(Front).is_none());
}

#[test]
fn the_time_to_ask_for_more_time_can_be_made_longer() {
    let mut kiosk = Kiosk::to_review(DocumentType::Idr);
    kiosk.flow = std::mem::replace(&mut kiosk.flow, Flow::new(Lang::En, IDLE, kiosk.now))
        .with_more_time(Duration::from_secs(45));
    let start = kiosk.now;
    let _ = kiosk.flow.tick(start + IDLE);
    assert_eq!(
        kiosk.flow.idle_countdown(start + IDLE),
        Some(Duration::from_secs(45))
    );
    assert_eq!(
        kiosk.flow.tick(start + IDLE + Duration::from_secs(44)),
        Effect::None
    );
    assert_eq!(
        kiosk.flow.tick(start + IDLE + Duration::from_secs(45)),
        Effect::WipeSession
    );
}

#[test]
fn no_countdown_on_welcome_or_while_submitting() {
    let mut kiosk = Kiosk::new();
    assert_eq!(kiosk.flow.tick(kiosk.now + IDLE * 5), Effect::None);
    assert_eq!(kiosk.flow.idle_countdown(kiosk.now + IDLE * 5), None);

    let mut kiosk = Kiosk::to_review(DocumentType::Idr);
    let _ = kiosk.send(Event::Submit);
    assert_eq!(kiosk.flow.tick(kiosk.now + IDLE * 5), Effect::None);
    assert_eq!(kiosk.flow.idle_countdown(kiosk.now + IDLE * 5), None);
}

fn passed_challenge() -> Event {
    use ekyc_kiosk::flow::{ChallengeOutcome, ChallengeRecording, KioskLiveness};
    use ekyc_liveness::ChallengeScore;
    Event::ChallengeDone(ChallengeOutcome::Passed(ChallengeRecording {
        frames: vec![capture().upload.clone(), capture().upload.clone()],
        engine_challenge: None,
        check: KioskLiveness::Passed(ChallengeScore {
            correlation: 0.9,
            lag: Duration::from_millis(250),
            coverage: 1.0,
            problem: None,
        }),
    }))
}

fn failed_challenge() -> Event {
    use ekyc_kiosk::flow::{ChallengeAdvice, ChallengeOutcome};
    Event::ChallengeDone(ChallengeOutcome::Failed(ChallengeAdvice::FollowTheDot))
}

/// The back end's answer: live, and the face matches.
fn live_and_matching() -> VerificationResult {
    let live = FaceResult::from_json(&serde_json::json!({
        "code": "200",
        "liveness": {"is_live": "true"},
        "face_match": {"isMatch": "true", "similarity": "95.0"}
    }));
    VerificationResult {
        liveness: live.liveness,
        face_match: live.face_match,
        ..VerificationResult::default()
    }
}

/// With the challenge: Welcome to the selfie's "Use", which leads to the challenge.
fn to_challenge(attempts: u32) -> Kiosk {
    let mut kiosk = Kiosk::new();
    kiosk.flow = Flow::new(Lang::En, IDLE, kiosk.now).with_challenge(attempts);
    let _ = kiosk.send(Event::Start);
    let _ = kiosk.send(Event::Accept);
    let _ = kiosk.send(Event::ChooseDocument(DocumentType::Idr));
    kiosk.take();
    kiosk.take();
    kiosk.take();
    assert_eq!(kiosk.screen(), Screen::Challenge);
    kiosk
}

#[test]
fn the_challenge_follows_the_selfie_and_its_frames_are_kept_for_the_submission() {
    use ekyc_kiosk::flow::KioskLiveness;
    let mut kiosk = to_challenge(2);
    assert!(kiosk.flow.recording().is_none());
    let _ = kiosk.send(passed_challenge());
    assert_eq!(kiosk.screen(), Screen::Review);
    assert_eq!(kiosk.flow.recording().unwrap().frames.len(), 2);
    // A selfie retaken from the review goes through the challenge again, and comes back.
    let _ = kiosk.send(Event::RetakeFromReview(Selfie));
    kiosk.take();
    assert_eq!(kiosk.screen(), Screen::Challenge);
    assert!(
        kiosk.flow.recording().is_none(),
        "the old selfie's frames are dropped"
    );
    let _ = kiosk.send(passed_challenge());
    assert_eq!(kiosk.screen(), Screen::Review);
    assert_eq!(kiosk.send(Event::Submit), Effect::StartSubmission);
    let _ = kiosk.send(Event::Finished(Ok(live_and_matching())));
    assert_eq!(kiosk.screen(), Screen::Result);
    assert!(matches!(
        kiosk.flow.result().kiosk_liveness,
        KioskLiveness::Passed(_)
    ));
    assert_eq!(
        kiosk.flow.result().verdict(),
        ekyc_kiosk::flow::Verdict::Verified
    );
    assert_eq!(kiosk.send(Event::Finish), Effect::WipeSession);
    assert!(kiosk.flow.recording().is_none());
    assert_eq!(kiosk.flow.result().kiosk_liveness, KioskLiveness::NotRun);
}

#[test]
fn a_failed_challenge_offers_another_try_then_asks_for_staff() {
    let mut kiosk = to_challenge(2);
    let _ = kiosk.send(failed_challenge());
    assert!(matches!(
        kiosk.screen(),
        Screen::Guidance(Guidance::ChallengeFailed(_))
    ));
    let _ = kiosk.send(Event::FollowGuidance);
    assert_eq!(kiosk.screen(), Screen::Challenge);
    let _ = kiosk.send(failed_challenge());
    assert_eq!(kiosk.screen(), Screen::Guidance(Guidance::LivenessAskStaff));
    assert_eq!(kiosk.send(Event::FollowGuidance), Effect::WipeSession);
    assert_eq!(kiosk.screen(), Screen::Welcome);
    // A pass resets the count: a new customer gets every try again.
    let mut kiosk = to_challenge(2);
    let _ = kiosk.send(failed_challenge());
    let _ = kiosk.send(Event::FollowGuidance);
    let _ = kiosk.send(passed_challenge());
    assert_eq!(kiosk.screen(), Screen::Review);
}

#[test]
fn a_selfie_loaded_from_a_file_skips_the_challenge_and_is_never_reported_live() {
    use ekyc_kiosk::flow::{KioskLiveness, Verdict};
    let mut kiosk = Kiosk::new();
    kiosk.flow = Flow::new(Lang::En, IDLE, kiosk.now).with_challenge(2);
    let _ = kiosk.send(Event::Start);
    let _ = kiosk.send(Event::Accept);
    let _ = kiosk.send(Event::ChooseDocument(DocumentType::Idr));
    kiosk.take();
    kiosk.take();
    let _ = kiosk.send(Event::Captured(capture().loaded_from_file()));
    let _ = kiosk.send(Event::UseCapture);
    assert_eq!(kiosk.screen(), Screen::Review, "no challenge for a file");
    let _ = kiosk.send(Event::Submit);
    // Whatever the back end says: here, live.
    let _ = kiosk.send(Event::Finished(Ok(live_and_matching())));
    let result = kiosk.flow.result();
    assert_eq!(result.kiosk_liveness, KioskLiveness::SelfieFromFile);
    assert_eq!(result.is_live(), None);
    assert_eq!(
        result.verdict(),
        Verdict::NotEvaluated {
            liveness: true,
            face_match: false
        }
    );
}

// The journeys as data: each one's steps, in order, and where they lead.

mod journeys {
    use super::*;
    use ekyc_client::Secret;
    use ekyc_kiosk::flow::{KryptonAction, KryptonFlow, Step};

    fn offering(offered: &[KryptonAction], order: KryptonFlow) -> Kiosk {
        let mut kiosk = Kiosk::new();
        kiosk.flow = Flow::new(Lang::En, IDLE, kiosk.now).with_journeys(offered, order);
        kiosk
    }

    /// The screens a customer passes from consent to the review, taking every picture.
    fn walk(kiosk: &mut Kiosk) -> Vec<Screen> {
        let _ = kiosk.send(Event::Accept);
        let mut seen = Vec::new();
        while kiosk.screen() != Screen::Review {
            seen.push(kiosk.screen());
            match kiosk.screen() {
                Screen::DocumentChoice => {
                    let _ = kiosk.send(Event::ChooseDocument(DocumentType::Idr));
                }
                Screen::Identify => {
                    let _ = kiosk.send(Event::Identified(Secret::new("079203004512")));
                }
                _ => kiosk.take(),
            }
            assert!(seen.len() < 10, "no end: {seen:?}");
        }
        seen
    }

    #[test]
    fn enroll_face_first_takes_the_selfie_before_the_document() {
        let mut kiosk = offering(&[KryptonAction::Enroll], KryptonFlow::FaceFirst);
        let _ = kiosk.send(Event::Start);
        assert_eq!(
            walk(&mut kiosk),
            [
                Screen::Capture(Selfie),
                Screen::DocumentChoice,
                Screen::Capture(Front),
                Screen::Capture(Back),
            ]
        );
        assert_eq!(kiosk.flow.targets(), [Selfie, Front, Back]);
        assert_eq!(kiosk.send(Event::Submit), Effect::StartSubmission);
    }

    #[test]
    fn enroll_card_first_is_todays_order_and_a_passport_has_no_back() {
        let mut kiosk = offering(&[KryptonAction::Enroll], KryptonFlow::CardFirst);
        let _ = kiosk.send(Event::Start);
        let _ = kiosk.send(Event::Accept);
        let _ = kiosk.send(Event::ChooseDocument(DocumentType::Passport));
        assert_eq!(
            kiosk.flow.steps(),
            [
                Step::DocumentChoice,
                Step::Capture(Front),
                Step::Capture(Selfie)
            ]
        );
    }

    #[test]
    fn auth_identifies_the_customer_then_takes_a_selfie_and_no_card() {
        let mut kiosk = offering(
            &[KryptonAction::Enroll, KryptonAction::Auth],
            KryptonFlow::CardFirst,
        );
        let _ = kiosk.send(Event::StartJourney(KryptonAction::Auth));
        assert_eq!(kiosk.flow.action(), KryptonAction::Auth);
        assert_eq!(
            walk(&mut kiosk),
            [Screen::Identify, Screen::Capture(Selfie)]
        );
        assert_eq!(kiosk.flow.targets(), [Selfie]);
        assert_eq!(
            kiosk.flow.customer_id().map(Secret::expose),
            Some("079203004512")
        );
        assert_eq!(kiosk.send(Event::Submit), Effect::StartSubmission);
    }

    #[test]
    fn liveness_is_the_selfie_alone() {
        let mut kiosk = offering(&[KryptonAction::Liveness], KryptonFlow::CardFirst);
        let _ = kiosk.send(Event::Start);
        assert_eq!(walk(&mut kiosk), [Screen::Capture(Selfie)]);
        assert_eq!(kiosk.send(Event::Submit), Effect::StartSubmission);
    }

    #[test]
    fn a_journey_not_offered_cannot_be_started() {
        let mut kiosk = offering(&[KryptonAction::Enroll], KryptonFlow::CardFirst);
        let _ = kiosk.send(Event::StartJourney(KryptonAction::Auth));
        assert_eq!(kiosk.screen(), Screen::Welcome);
    }

    #[test]
    fn an_empty_number_does_not_identify_anyone() {
        let mut kiosk = offering(&[KryptonAction::Auth], KryptonFlow::CardFirst);
        let _ = kiosk.send(Event::Start);
        let _ = kiosk.send(Event::Accept);
        let _ = kiosk.send(Event::Identified(Secret::new("  ")));
        assert_eq!(kiosk.screen(), Screen::Identify);
    }

    #[test]
    fn a_number_not_enrolled_is_told_as_a_face_that_does_not_match() {
        // A back end that answers "not enrolled" early: the customer sees what a face that
        // does not match shows, so that trying numbers tells nobody who is enrolled.
        let mut kiosk = offering(
            &[KryptonAction::Enroll, KryptonAction::Auth],
            KryptonFlow::CardFirst,
        );
        let _ = kiosk.send(Event::StartJourney(KryptonAction::Auth));
        walk(&mut kiosk);
        assert_eq!(kiosk.send(Event::Submit), Effect::StartSubmission);
        let refused = ApiError::NotEnrolled {
            message: "not enrolled".into(),
            raw: RawBody::default(),
        };
        let _ = kiosk.send(Event::Finished(Err(refused)));
        assert_eq!(
            kiosk.screen(),
            Screen::Guidance(Guidance::FaceMismatchRetakeSelfie)
        );
        let _ = kiosk.send(Event::FollowGuidance);
        assert_eq!(kiosk.screen(), Screen::Capture(CaptureTarget::Selfie));
    }

    #[test]
    fn start_over_wipes_from_any_screen_but_welcome_and_a_submission() {
        let mut kiosk = offering(&[KryptonAction::Auth], KryptonFlow::CardFirst);
        let _ = kiosk.send(Event::Start);
        let _ = kiosk.send(Event::Accept);
        let _ = kiosk.send(Event::Identified(Secret::new("42")));
        assert_eq!(kiosk.send(Event::StartOver), Effect::WipeSession);
        assert_eq!(kiosk.screen(), Screen::Welcome);
        assert!(kiosk.flow.customer_id().is_none());
        assert_eq!(kiosk.send(Event::StartOver), Effect::None);
    }

    #[test]
    fn a_complete_auth_session_goes_back_to_the_selfie_not_the_number() {
        let mut kiosk = offering(&[KryptonAction::Auth], KryptonFlow::CardFirst);
        let _ = kiosk.send(Event::Start);
        walk(&mut kiosk);
        let _ = kiosk.send(Event::Submit);
        let _ = kiosk.send(Event::Progress(SubmitStep::Face));
        let mismatch = ApiError::FaceMismatch {
            result: Box::new(FaceResult {
                code: "303".into(),
                is_complete_session: true,
                ..FaceResult::default()
            }),
            raw: RawBody::default(),
        };
        let _ = kiosk.send(Event::Finished(Err(mismatch)));
        assert_eq!(
            kiosk.screen(),
            Screen::Guidance(Guidance::RestartFromDocument)
        );
        let _ = kiosk.send(Event::FollowGuidance);
        assert_eq!(kiosk.screen(), Screen::Capture(Selfie));
        assert!(kiosk.flow.customer_id().is_some());
    }
}

/// A chip as the kiosk reads it: the sample card's software chip through the kiosk's code.
fn chip_outcome() -> Box<ekyc_kiosk::chip::ChipOutcome> {
    use ekyc_testchip::sample;
    let pki = ekyc_testchip::pki::TestPki::current(1, "Test CSCA Viet Nam");
    let reader = common::chip::SoftReader::holding(Some(sample::chip(&pki)));
    let key = ekyc_chip::MrzKey {
        document_number: sample::DOCUMENT.into(),
        birth: sample::BIRTH.into(),
        expiry: sample::EXPIRY.into(),
    };
    let trust = ekyc_chip::passive::TrustList::default();
    Box::new(ekyc_kiosk::chip::read_and_check(&reader, "", &key, &trust, &mut |_| {}).unwrap())
}

/// A kiosk reading chips (`mode`), at the consent of ENROLL.
fn chip_kiosk(mode: ekyc_kiosk::chip::ChipMode) -> Kiosk {
    let mut kiosk = Kiosk::new();
    kiosk.flow =
        std::mem::replace(&mut kiosk.flow, Flow::new(Lang::En, IDLE, kiosk.now)).with_chip(mode);
    let _ = kiosk.send(Event::Start);
    kiosk
}

#[test]
fn the_chip_is_read_after_the_back_of_a_cccd_and_never_for_a_driver_licence() {
    use ekyc_kiosk::chip::ChipMode;
    let mut kiosk = chip_kiosk(ChipMode::Required);
    let _ = kiosk.send(Event::Accept);
    let _ = kiosk.send(Event::ChooseDocument(DocumentType::Idr));
    kiosk.take();
    kiosk.take();
    assert_eq!(kiosk.screen(), Screen::Chip);
    // Required: no way around it, and the review cannot be reached without it.
    let _ = kiosk.send(Event::SkipChip);
    assert_eq!(kiosk.screen(), Screen::Chip);
    let _ = kiosk.send(Event::NoChipReader);
    assert_eq!(
        kiosk.screen(),
        Screen::Guidance(Guidance::ChipReaderMissing)
    );
    assert_eq!(kiosk.send(Event::FollowGuidance), Effect::WipeSession);
    assert_eq!(kiosk.screen(), Screen::Welcome);

    let mut kiosk = chip_kiosk(ChipMode::Required);
    let _ = kiosk.send(Event::Accept);
    let _ = kiosk.send(Event::ChooseDocument(DocumentType::Idr));
    kiosk.take();
    kiosk.take();
    let _ = kiosk.send(Event::ChipRead(chip_outcome()));
    assert_eq!(kiosk.screen(), Screen::Capture(Selfie));
    kiosk.take();
    assert_eq!(kiosk.screen(), Screen::Review);
    assert!(kiosk.flow.chip().is_some());
    // Read again from the review: back to the review.
    let _ = kiosk.send(Event::ReadChipAgain);
    assert_eq!(kiosk.screen(), Screen::Chip);
    let _ = kiosk.send(Event::ChipRead(chip_outcome()));
    assert_eq!(kiosk.screen(), Screen::Review);
    assert_eq!(kiosk.send(Event::StartOver), Effect::WipeSession);
    assert!(
        kiosk.flow.chip().is_none(),
        "the chip goes with the session"
    );

    // A driver licence has no chip: no chip step.
    let mut kiosk = chip_kiosk(ChipMode::Required);
    let _ = kiosk.send(Event::Accept);
    let _ = kiosk.send(Event::ChooseDocument(DocumentType::Dlr));
    kiosk.take();
    kiosk.take();
    assert_eq!(kiosk.screen(), Screen::Capture(Selfie));
}

#[test]
fn with_the_chip_when_present_a_missing_reader_or_staffs_choice_goes_on_without_it() {
    use ekyc_kiosk::chip::ChipMode;
    let mut kiosk = chip_kiosk(ChipMode::WhenPresent);
    // At the start, a missing reader does not stop a `when_present` journey.
    let _ = kiosk.send(Event::NoChipReader);
    assert_eq!(kiosk.screen(), Screen::Consent);
    let _ = kiosk.send(Event::Accept);
    let _ = kiosk.send(Event::ChooseDocument(DocumentType::Idr));
    kiosk.take();
    kiosk.take();
    assert_eq!(kiosk.screen(), Screen::Chip);
    let _ = kiosk.send(Event::NoChipReader);
    assert_eq!(kiosk.screen(), Screen::Capture(Selfie));
    kiosk.take();
    assert_eq!(kiosk.screen(), Screen::Review);
    assert!(kiosk.flow.chip().is_none());
    assert_eq!(kiosk.send(Event::Submit), Effect::StartSubmission);
}
