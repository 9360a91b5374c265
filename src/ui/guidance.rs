//! Errors as guidance: what to do, never a code. Also the retry screen for a back end
//! that does not answer.

use super::{paragraph, primary_button, secondary_button, text_with, title, Action, Type, View};
use crate::flow::{ChallengeAdvice, Event, Guidance, KryptonAction};
use ekyc_client::CertificateProblem;

/// What the screen says, and its button's text id.
pub fn message(view: &View, guidance: &Guidance) -> (String, &'static str) {
    match guidance {
        Guidance::CardNotFound => (view.text("guidance-card-not-found"), "guidance-retake"),
        Guidance::FaceMismatchRetakeSelfie if view.flow.action() == KryptonAction::Auth => {
            (view.text("guidance-face-mismatch-auth"), "guidance-retake")
        }
        Guidance::FaceMismatchRetakeSelfie => {
            (view.text("guidance-face-mismatch"), "guidance-retake")
        }
        Guidance::RestartFromDocument if view.flow.action() != KryptonAction::Enroll => (
            view.text("guidance-restart-selfie"),
            "guidance-restart-button",
        ),
        Guidance::RestartFromDocument => (view.text("guidance-restart"), "guidance-restart-button"),
        Guidance::OnlyOnePerson => (view.text("guidance-one-person"), "guidance-retake"),
        Guidance::Rejected { message, .. } => (
            text_with(
                view.lang,
                "guidance-rejected",
                &[("message", message.clone())],
            ),
            "guidance-retake",
        ),
        Guidance::KioskNotSetUp => (view.text("guidance-kiosk-not-set-up"), "guidance-ok"),
        Guidance::CertificateRefused(problem) => {
            let for_staff = match problem {
                CertificateProblem::ServerNotTrusted => "guidance-certificate-server",
                CertificateProblem::KioskRefused => "guidance-certificate-kiosk",
            };
            (
                format!(
                    "{}\n\n{}",
                    view.text("guidance-certificate"),
                    view.text(for_staff)
                ),
                "guidance-ok",
            )
        }
        Guidance::ChallengeFailed(advice) => {
            let advice = match advice {
                ChallengeAdvice::KeepFaceInFrame => "challenge-keep-face-in-frame",
                ChallengeAdvice::MoreLight => "challenge-more-light",
                ChallengeAdvice::FollowTheDot => "challenge-follow-the-dot",
                ChallengeAdvice::CameraProblem => "challenge-camera-problem",
            };
            (view.text(advice), "challenge-try-again")
        }
        Guidance::LivenessAskStaff => (view.text("challenge-ask-staff"), "guidance-restart-button"),
        Guidance::ChipReaderMissing => (view.text("guidance-chip-reader-missing"), "guidance-ok"),
    }
}

pub fn guidance_ui(ui: &mut egui::Ui, view: &View, guidance: &Guidance) -> Option<Action> {
    let (message, button) = message(view, guidance);
    let mut action = None;
    ui.vertical_centered(|ui| {
        ui.set_max_width(900.0);
        ui.add_space(ui.available_height() * 0.2);
        ui.label(Type::Display.text("⚠"));
        paragraph(ui, &message);
        ui.add_space(32.0);
        if primary_button(ui, &view.text(button)).clicked() {
            action = Some(Action::Flow(Event::FollowGuidance));
        }
    });
    action
}

pub fn backend_unavailable_ui(ui: &mut egui::Ui, view: &View) -> Option<Action> {
    let mut action = None;
    ui.vertical_centered(|ui| {
        ui.set_max_width(900.0);
        ui.add_space(ui.available_height() * 0.2);
        title(ui, &view.text("backend-unavailable-title"));
        paragraph(ui, &view.text("backend-unavailable-body"));
        ui.add_space(32.0);
        if primary_button(ui, &view.text("backend-retry")).clicked() {
            action = Some(Action::Flow(Event::RetrySubmission));
        }
        if secondary_button(ui, &view.text("backend-cancel")).clicked() {
            action = Some(Action::Flow(Event::Cancel));
        }
    });
    action
}
