//! Result: the OCR fields in the server's order (label in the UI language, value, score
//! as a number and a bar, low scores flagged, whether the card's own QR code or MRZ
//! agrees), liveness, face match against its threshold, and an overall verdict. "N/A" is
//! shown as "not evaluated", never as 0.

use egui::{Color32, RichText};

use super::text::try_text;
use super::{primary_button, text_with, title, Action, View};
use crate::contract::{KryptonAction, OcrField};
use crate::flow::{Event, KioskLiveness, Verdict, VerificationResult};
use crate::verify::{Agreement, FieldAgreement, Proof};

const GOOD: Color32 = Color32::from_rgb(20, 130, 60);
const BAD: Color32 = Color32::from_rgb(190, 40, 30);
const NEUTRAL: Color32 = Color32::from_rgb(150, 100, 0);

/// The field's label in the UI language, or the card's own label for keys this kiosk
/// has no translation for.
fn field_label(view: &View, field: &OcrField) -> String {
    try_text(view.lang, &format!("field-{}", field.key.replace(' ', "-")))
        .unwrap_or_else(|| field.label.clone())
}

pub fn result_ui(ui: &mut egui::Ui, view: &View) -> Option<Action> {
    let mut action = None;
    let result = view.flow.result();
    ui.vertical_centered(|ui| {
        title(ui, &view.text("result-title"));
        verdict_ui(ui, view, result);
        ui.add_space(12.0);
    });
    let action_kind = result.action.unwrap_or(KryptonAction::Enroll);
    if action_kind != KryptonAction::Enroll {
        // AUTH and LIVENESS read no document: what was checked instead, in words.
        let about = match action_kind {
            KryptonAction::Auth => "result-auth-about",
            _ => "result-liveness-about",
        };
        ui.vertical_centered(|ui| super::paragraph(ui, &view.text(about)));
        ui.add_space(16.0);
    } else {
        // The full width: shrunk to its content, the area kept a first frame's narrower width
        // and clipped the card column once the cross-check arrived.
        egui::ScrollArea::vertical()
            .auto_shrink([false, true])
            // Below it: liveness with its evidence (two lines), face match, Finish.
            .max_height(ui.available_height() - super::BUTTON_HEIGHT - 262.0)
            .show(ui, |ui| {
                // Rows of read-only text need no touch-sized height; the buttons keep theirs.
                ui.spacing_mut().interact_size.y = 32.0;
                egui::Grid::new("ocr-fields")
                    .num_columns(4)
                    .spacing([24.0, 12.0])
                    .striped(true)
                    .show(ui, |ui| {
                        for id in [
                            "result-field",
                            "result-value",
                            "result-score",
                            "result-card",
                        ] {
                            ui.label(RichText::new(view.text(id)).strong());
                        }
                        ui.end_row();
                        for field in &result.fields {
                            ui.label(field_label(view, field));
                            // Long values (an address) wrap, so the card column stays on screen.
                            ui.scope(|ui| {
                                ui.set_max_width(440.0);
                                ui.add(
                                    egui::Label::new(RichText::new(&field.value).size(25.0)).wrap(),
                                );
                            });
                            score_ui(ui, view, field.score);
                            let agreement = result
                                .cross_check
                                .iter()
                                .find(|agreement| agreement.key == field.key.as_str());
                            card_ui(ui, view, agreement);
                            ui.end_row();
                        }
                    });
            });
    }
    ui.add_space(8.0);
    let not_evaluated = view.text("result-not-evaluated");
    let liveness = match result.is_live() {
        Some(true) => (view.text("result-live"), GOOD),
        Some(false) => (view.text("result-not-live"), BAD),
        None => (not_evaluated.clone(), NEUTRAL),
    };
    check_line(ui, &view.text("result-liveness"), &liveness.0, liveness.1);
    liveness_evidence_ui(ui, view, result);
    let face_match = result.face_match.as_ref();
    let threshold = format!("{:.0}", view.face_match_threshold);
    let similarity = face_match.and_then(|face_match| face_match.similarity);
    let (matches, no_match) = if action_kind == KryptonAction::Auth {
        ("result-match-enrolled", "result-no-match-enrolled")
    } else {
        ("result-match", "result-no-match")
    };
    let (verdict, colour) = match face_match.and_then(|face_match| face_match.is_match) {
        Some(true) => (view.text(matches), GOOD),
        Some(false) => (view.text(no_match), BAD),
        None => (not_evaluated.clone(), NEUTRAL),
    };
    let detail = match similarity {
        Some(similarity) => format!(
            "{verdict}, {}",
            text_with(
                view.lang,
                "result-similarity",
                &[
                    ("similarity", format!("{similarity:.2}")),
                    ("threshold", threshold)
                ]
            )
        ),
        None => verdict,
    };
    if action_kind != KryptonAction::Liveness {
        let name = if action_kind == KryptonAction::Auth {
            view.text("result-face-match-enrolled")
        } else {
            view.text("result-face-match")
        };
        check_line(ui, &name, &detail, colour);
    }
    match result.enrolled {
        Some(true) => check_line(
            ui,
            &view.text("result-enrolment"),
            &view.text("result-enrolled"),
            GOOD,
        ),
        Some(false) => check_line(
            ui,
            &view.text("result-enrolment"),
            &view.text("result-not-enrolled"),
            NEUTRAL,
        ),
        None => {}
    }
    ui.add_space(8.0);
    ui.vertical_centered(|ui| {
        if primary_button(ui, &view.text("result-finish")).clicked() {
            action = Some(Action::Flow(Event::Finish));
        }
    });
    action
}

/// What the card's QR code or MRZ says about the field: agrees, differs (with the card's
/// value), or nothing to compare with.
fn card_ui(ui: &mut egui::Ui, view: &View, agreement: Option<&FieldAgreement>) {
    let Some(agreement) = agreement else {
        ui.label("");
        return;
    };
    let proof = match agreement.proofs.as_slice() {
        [Proof::Qr] => view.text("proof-qr"),
        [Proof::Mrz] => view.text("proof-mrz"),
        [] => String::new(),
        _ => view.text("proof-both"),
    };
    let (text, colour) = match agreement.verdict {
        Agreement::Agrees => (
            text_with(view.lang, "cross-agrees", &[("proof", proof)]),
            GOOD,
        ),
        Agreement::Differs => (
            text_with(
                view.lang,
                "cross-differs",
                &[
                    ("proof", proof),
                    ("value", agreement.card_value.clone().unwrap_or_default()),
                ],
            ),
            BAD,
        ),
        Agreement::NotAvailable => (view.text("cross-not-available"), Color32::GRAY),
    };
    ui.label(RichText::new(text).color(colour));
}

fn verdict_ui(ui: &mut egui::Ui, view: &View, result: &VerificationResult) {
    // AUTH and LIVENESS read no document: the banner does not say it was read.
    let incomplete = match result.action {
        Some(KryptonAction::Auth | KryptonAction::Liveness) => "verdict-incomplete-no-document",
        _ => "verdict-incomplete",
    };
    let (label, colour) = match result.verdict() {
        Verdict::Verified => (view.text("verdict-verified"), GOOD),
        Verdict::Rejected => (view.text("verdict-rejected"), BAD),
        Verdict::NotEvaluated {
            liveness,
            face_match,
        } => {
            let checks = match (liveness, face_match) {
                (true, true) => "verdict-checks-both",
                (true, false) => "verdict-checks-liveness",
                _ => "verdict-checks-face",
            };
            (
                text_with(view.lang, incomplete, &[("checks", view.text(checks))]),
                NEUTRAL,
            )
        }
    };
    egui::Frame::new()
        .fill(colour)
        .corner_radius(12.0)
        .inner_margin(16.0)
        .show(ui, |ui| {
            ui.label(
                RichText::new(label)
                    .size(30.0)
                    .family(super::bold_family())
                    .color(Color32::WHITE),
            );
        });
}

fn score_ui(ui: &mut egui::Ui, view: &View, score: Option<f32>) {
    let Some(score) = score else {
        ui.label(
            RichText::new(view.text("result-not-evaluated"))
                .italics()
                .color(NEUTRAL),
        );
        return;
    };
    ui.horizontal(|ui| {
        let low = score < view.score_threshold;
        let colour = if low { BAD } else { GOOD };
        ui.add(
            egui::ProgressBar::new((score / 100.0).clamp(0.0, 1.0))
                .desired_width(160.0)
                .fill(colour),
        );
        ui.label(RichText::new(format!("{score:.2}")).color(colour));
        if low {
            ui.label(RichText::new(view.text("result-low-score")).color(BAD));
        }
    });
}

/// The liveness evidence side by side: the kiosk's own check of its challenge, and what
/// the back end said (its review flag and its own words on what it measured).
fn liveness_evidence_ui(ui: &mut egui::Ui, view: &View, result: &VerificationResult) {
    let kiosk = match &result.kiosk_liveness {
        KioskLiveness::NotRun => view.text("liveness-kiosk-not-run"),
        KioskLiveness::NotScored => view.text("liveness-kiosk-not-scored"),
        KioskLiveness::SelfieFromFile => view.text("liveness-kiosk-from-file"),
        KioskLiveness::Passed(score) => text_with(
            view.lang,
            "liveness-kiosk-passed",
            &[
                ("correlation", format!("{:.2}", score.correlation)),
                ("lag", score.lag.as_millis().to_string()),
                ("coverage", format!("{:.0}", 100.0 * score.coverage)),
            ],
        ),
    };
    let liveness = result.liveness.as_ref();
    let mut back_end = match liveness.and_then(|liveness| liveness.warning.as_deref()) {
        Some(warning) => warning.to_owned(),
        None => view.text("liveness-backend-no-detail"),
    };
    if liveness.and_then(|liveness| liveness.need_to_review) == Some(true) {
        back_end = format!("{} {back_end}", view.text("liveness-backend-review"));
    }
    egui::Grid::new("liveness-evidence")
        .num_columns(2)
        .spacing([24.0, 4.0])
        .show(ui, |ui| {
            for (who, what) in [
                (view.text("liveness-kiosk"), kiosk),
                (view.text("liveness-backend"), back_end),
            ] {
                ui.label(RichText::new(who).size(18.0).strong());
                ui.add(egui::Label::new(RichText::new(what).size(18.0)).wrap());
                ui.end_row();
            }
        });
}

fn check_line(ui: &mut egui::Ui, name: &str, verdict: &str, colour: Color32) {
    ui.horizontal(|ui| {
        ui.label(RichText::new(format!("{name}:")).size(26.0).strong());
        ui.label(RichText::new(verdict).size(26.0).color(colour));
    });
}
