//! Result: the OCR fields in the server's order (label in the UI language, value, score
//! as a number and a bar, low scores flagged, whether the card's own QR code or MRZ
//! agrees), liveness, face match against its threshold, and an overall verdict. "N/A" is
//! shown as "not evaluated", never as 0.

use egui::{Color32, RichText};

use super::look::{self, Palette};
use super::text::try_text;
use super::{primary_button, text_with, title, Action, Type, View};
use crate::flow::{Event, KioskLiveness, Verdict, VerificationResult};
use crate::verification::{ChipJudge, ChipResult};
use ekyc_contract::{KryptonAction, OcrField};
use ekyc_reading::{Agreement, FieldAgreement, Proof};

/// The field's label in the UI language, or the card's own label for keys this kiosk
/// has no translation for.
pub fn field_label(view: &View, field: &OcrField) -> String {
    try_text(view.lang, &format!("field-{}", field.key.replace(' ', "-")))
        .unwrap_or_else(|| field.label.clone())
}

pub fn result_ui(ui: &mut egui::Ui, view: &View) -> Option<Action> {
    ui.vertical_centered(|ui| {
        title(ui, &view.text("result-title"));
        verdict_ui(ui, view, view.flow.result());
        ui.add_space(12.0);
    });
    let Some(desk) = &view.decision else {
        return evidence_ui(ui, view);
    };
    // At a desk: the clerk's decision under the verdict, the evidence below it in full,
    // the whole screen scrolling (an area of its own would leave the table a few rows).
    let mut action = super::staff::decision_ui(ui, view, desk);
    ui.separator();
    if let Some(evidence) = evidence_ui(ui, view) {
        action = Some(evidence);
    }
    action
}

/// Everything under the verdict: the fields, liveness, face match; *Save report…* for
/// staff; *Finish* unless a desk's decision takes its place.
fn evidence_ui(ui: &mut egui::Ui, view: &View) -> Option<Action> {
    let mut action = None;
    let result = view.flow.result();
    let palette = look::palette(ui.ctx());
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
        // Below it: liveness with its evidence (two lines), face match, Finish.
        // The chip's line, when the chip was read, takes one more.
        let chip_line = if result.chip.is_some() { 52.0 } else { 0.0 };
        // At least three rows: below them, the screen scrolls.
        let height =
            (ui.available_height() - super::button_height(ui) - 262.0 - chip_line).max(190.0);
        if look::current(ui.ctx()).large_text {
            // Larger text: the fields one under the other, the whole screen scrolling (an
            // area of its own would leave room for one field).
            fields_stacked_ui(ui, view, palette, result);
        } else if view.decision.is_some() {
            // At a desk the decision is above: the table in full, the screen scrolling.
            ui.scope(|ui| {
                ui.spacing_mut().interact_size.y = 32.0;
                fields_grid_ui(ui, view, palette, result);
            });
        } else {
            super::scroll_with_cue(ui, view, "ocr-fields", height, |ui| {
                // Rows of read-only text need no touch-sized height; the buttons keep theirs.
                ui.spacing_mut().interact_size.y = 32.0;
                fields_grid_ui(ui, view, palette, result);
            });
        }
    }
    ui.add_space(8.0);
    let liveness = liveness_verdict(view, result);
    let colour = verdict_colour(palette, liveness.1);
    check_line(ui, &view.text("result-liveness"), &liveness.0, colour);
    liveness_evidence_ui(ui, view, result);
    let (detail, matched) = face_match_verdict(view, result);
    let colour = verdict_colour(palette, matched);
    if action_kind != KryptonAction::Liveness {
        let name = if action_kind == KryptonAction::Auth {
            view.text("result-face-match-enrolled")
        } else {
            view.text("result-face-match")
        };
        check_line(ui, &name, &detail, colour);
    }
    if let Some(chip) = &result.chip {
        chip_ui(ui, view, palette, chip);
        if view.staff_mode || view.decision.is_some() {
            faces_ui(ui, view);
        }
    }
    match result.enrolled {
        Some(true) => check_line(
            ui,
            &view.text("result-enrolment"),
            &view.text("result-enrolled"),
            palette.good,
        ),
        Some(false) => check_line(
            ui,
            &view.text("result-enrolment"),
            &view.text("result-not-enrolled"),
            palette.caution,
        ),
        None => {}
    }
    ui.add_space(8.0);
    if view.staff_mode {
        ui.vertical_centered(|ui| {
            if super::secondary_button(ui, &view.text("report-save")).clicked() {
                action = Some(save_report(view));
            }
            if let Some(notice) = view.notice {
                ui.label(Type::Body.text(notice));
            }
        });
    }
    if view.decision.is_some() {
        // The decision, beside, has Finish.
        return action;
    }
    ui.vertical_centered(|ui| {
        if primary_button(ui, &view.text("result-finish")).clicked() {
            action = Some(Action::Flow(Event::Finish));
        }
    });
    action
}

/// The fields as a table: label, value, score, what the card says.
fn fields_grid_ui(ui: &mut egui::Ui, view: &View, palette: &Palette, result: &VerificationResult) {
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
                let row = FieldRow::new(view, palette, result, field);
                row.label_ui(ui);
                // Long values (an address) wrap, so the card column stays on screen.
                // The card column says more when the chip proves the field too.
                let widest = if result.chip.is_some() { 360.0 } else { 440.0 };
                let value = ui
                    .scope(|ui| {
                        ui.set_max_width(widest);
                        ui.add(egui::Label::new(Type::Large.text(&field.value)).wrap())
                    })
                    .inner;
                let score = score_ui(ui, view, palette, field.score);
                let card = row.card_ui(ui);
                for cell in [value, score, card] {
                    hide_from_screen_reader(ui.ctx(), cell.id);
                }
                ui.end_row();
            }
        });
}

/// The fields one under the other (larger text: four columns would not fit): the label,
/// then the value, then the score and what the card says.
fn fields_stacked_ui(
    ui: &mut egui::Ui,
    view: &View,
    palette: &Palette,
    result: &VerificationResult,
) {
    for field in &result.fields {
        let row = FieldRow::new(view, palette, result, field);
        ui.separator();
        row.label_ui(ui);
        let value = ui.add(egui::Label::new(Type::Large.text(&field.value).strong()).wrap());
        let details = ui
            .horizontal_wrapped(|ui| {
                score_ui(ui, view, palette, field.score);
                row.card_ui(ui);
            })
            .response;
        for cell in [value, details] {
            hide_from_screen_reader(ui.ctx(), cell.id);
        }
    }
}

/// One field's row, for either layout.
struct FieldRow {
    label: String,
    card: Option<(String, Color32)>,
    /// The row in words, read by a screen reader at the label.
    sentence: String,
}

impl FieldRow {
    fn new(view: &View, palette: &Palette, result: &VerificationResult, field: &OcrField) -> Self {
        let label = field_label(view, field);
        let agreement = result
            .cross_check
            .iter()
            .find(|agreement| agreement.key == field.key.as_str());
        let card = card_text(view, palette, agreement);
        let sentence = row_sentence(view, &label, field, card.as_ref());
        Self {
            label,
            card,
            sentence,
        }
    }

    /// The label, which a screen reader reads as the whole row ("ID number, 079…, score
    /// 98.00, ✓ QR code"); the other cells are left out of its tree.
    fn label_ui(&self, ui: &mut egui::Ui) {
        ui.label(&self.label)
            .widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, &self.sentence));
    }

    fn card_ui(&self, ui: &mut egui::Ui) -> egui::Response {
        match &self.card {
            Some((text, colour)) => ui.label(RichText::new(text).color(*colour)),
            None => ui.label(""),
        }
    }
}

/// What the card's QR code or MRZ says about the field: agrees, differs (with the card's
/// value), or nothing to compare with; `None` when the field has no cross-check.
fn card_text(
    view: &View,
    palette: &Palette,
    agreement: Option<&FieldAgreement>,
) -> Option<(String, Color32)> {
    let agreement = agreement?;
    let names: Vec<String> = agreement
        .proofs
        .iter()
        .map(|proof| {
            view.text(match proof {
                Proof::Qr => "proof-qr",
                Proof::Mrz => "proof-mrz",
                Proof::Chip => "proof-chip",
            })
        })
        .collect();
    let proof = match names.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [first @ .., last] => text_with(
            view.lang,
            "proof-and",
            &[("first", first.join(", ")), ("last", last.clone())],
        ),
    };
    let (text, colour) = match agreement.verdict {
        Agreement::Agrees => (
            text_with(view.lang, "cross-agrees", &[("proof", proof)]),
            palette.good,
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
            palette.bad,
        ),
        Agreement::NotAvailable => (view.text("cross-not-available"), palette.weak_text),
    };
    Some((text, colour))
}

/// A result row in words, for a screen reader: label, value, score, what the card says.
fn row_sentence(
    view: &View,
    label: &str,
    field: &OcrField,
    card: Option<&(String, Color32)>,
) -> String {
    let score = match field.score {
        Some(score) => text_with(
            view.lang,
            "result-score-spoken",
            &[("score", format!("{score:.2}"))],
        ),
        None => view.text("result-not-evaluated"),
    };
    let mut sentence = format!("{label}, {}, {score}", field.value);
    if field
        .score
        .is_some_and(|score| score < view.score_threshold)
    {
        sentence = format!("{sentence}, {}", view.text("result-low-score"));
    }
    if let Some((card, _)) = card {
        sentence = format!("{sentence}, {card}");
    }
    sentence
}

/// Leaves a cell out of the accessibility tree (its row is read at the row's first cell).
fn hide_from_screen_reader(ctx: &egui::Context, id: egui::Id) {
    ctx.accesskit_node_builder(id, |node| node.set_hidden());
}

/// The verdict in words, and how serious it is.
pub enum VerdictKind {
    Good,
    Bad,
    Caution,
}

/// The banner's words (also what the voice says: no personal data in them).
pub fn verdict_text(view: &View, result: &VerificationResult) -> (String, VerdictKind) {
    // AUTH and LIVENESS read no document: the banner does not say it was read.
    let incomplete = match result.action {
        Some(KryptonAction::Auth | KryptonAction::Liveness) => "verdict-incomplete-no-document",
        _ => "verdict-incomplete",
    };
    match result.verdict() {
        Verdict::Verified => (view.text("verdict-verified"), VerdictKind::Good),
        Verdict::Rejected => (view.text("verdict-rejected"), VerdictKind::Bad),
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
                VerdictKind::Caution,
            )
        }
    }
}

fn verdict_ui(ui: &mut egui::Ui, view: &View, result: &VerificationResult) {
    let palette = look::palette(ui.ctx());
    let (label, kind) = verdict_text(view, result);
    let colour = match kind {
        VerdictKind::Good => palette.good_banner,
        VerdictKind::Bad => palette.bad_banner,
        VerdictKind::Caution => palette.caution_banner,
    };
    egui::Frame::new()
        .fill(colour)
        .corner_radius(12.0)
        .inner_margin(16.0)
        .show(ui, |ui| {
            ui.label(
                Type::Emphasis
                    .text(label)
                    .family(super::bold_family())
                    .color(palette.on_banner),
            );
        });
}

fn score_ui(
    ui: &mut egui::Ui,
    view: &View,
    palette: &Palette,
    score: Option<f32>,
) -> egui::Response {
    let Some(score) = score else {
        return ui.label(
            RichText::new(view.text("result-not-evaluated"))
                .italics()
                .color(palette.caution),
        );
    };
    ui.horizontal(|ui| {
        let low = score < view.score_threshold;
        let colour = if low { palette.bad } else { palette.good };
        ui.add(
            egui::ProgressBar::new((score / 100.0).clamp(0.0, 1.0))
                .desired_width(160.0)
                .fill(colour),
        );
        ui.label(RichText::new(format!("{score:.2}")).color(colour));
        if low {
            ui.label(RichText::new(view.text("result-low-score")).color(palette.bad));
        }
    })
    .response
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
                ui.label(Type::Small.text(who).strong());
                ui.add(egui::Label::new(Type::Small.text(what)).wrap());
                ui.end_row();
            }
        });
}

/// The chip's line: passive authentication's verdict (and who made it), a chip that may
/// be a copy, and the selfie against the chip's photo; the Document Signer and the
/// problems for staff.
fn chip_ui(ui: &mut egui::Ui, view: &View, palette: &Palette, chip: &ChipResult) {
    let (verdict, good) = chip_verdict(view, chip);
    let (matched, is_match) = chip_face_verdict(view, chip);
    ui.horizontal_wrapped(|ui| {
        ui.label(
            Type::Large
                .text(format!("{}:", view.text("result-chip")))
                .strong(),
        );
        ui.label(
            Type::Large
                .text(format!("{verdict};"))
                .color(verdict_colour(palette, good)),
        );
        ui.label(
            Type::Large
                .text(matched)
                .color(verdict_colour(palette, is_match)),
        );
    });
    if view.staff_mode {
        if let Some(signer) = &chip.verdict.signer {
            let words = text_with(
                view.lang,
                "result-chip-signer",
                &[
                    ("subject", signer.subject.clone()),
                    ("serial", signer.serial.clone()),
                ],
            );
            ui.label(Type::Body.text(words).color(palette.weak_text));
        }
        for problem in &chip.verdict.problems {
            ui.label(
                Type::Body
                    .text(format!("• {problem}"))
                    .color(palette.weak_text),
            );
        }
    }
}

/// The chip's verdict in words, and whether it is good (`None`: untrusted).
pub fn chip_verdict(view: &View, chip: &ChipResult) -> (String, Option<bool>) {
    let (id, good) = match chip.verdict.status.as_str() {
        "valid" => ("result-chip-valid", Some(true)),
        "untrusted" => ("result-chip-untrusted", None),
        _ => ("result-chip-invalid", Some(false)),
    };
    let mut words = view.text(id);
    if chip.may_be_a_copy() {
        words = format!("{words}; {}", view.text("result-chip-copy"));
    }
    if chip.judged_by == ChipJudge::Kiosk {
        words = format!("{words} {}", view.text("result-chip-by-kiosk"));
    }
    let good = if chip.may_be_a_copy() {
        Some(false)
    } else {
        good
    };
    (words, good)
}

/// The selfie against the chip's photo, in words with the similarity.
pub fn chip_face_verdict(view: &View, chip: &ChipResult) -> (String, Option<bool>) {
    let matched = chip.is_match();
    let verdict = match matched {
        Some(true) => view.text("result-chip-match"),
        Some(false) => view.text("result-chip-no-match"),
        None => view.text("result-not-evaluated"),
    };
    let words = match chip.face_match.as_ref().and_then(|found| found.similarity) {
        Some(similarity) => format!("{verdict} ({similarity:.2})"),
        None => verdict,
    };
    (words, matched)
}

fn check_line(ui: &mut egui::Ui, name: &str, verdict: &str, colour: Color32) {
    // Wrapped: with larger text a long verdict continues on the next line.
    ui.horizontal_wrapped(|ui| {
        ui.label(Type::Large.text(format!("{name}:")).strong());
        ui.add(egui::Label::new(Type::Large.text(verdict).color(colour)).wrap());
    });
}

/// The result as one printed page (*Save report…*, staff only): the same words as the
/// screen, in the UI language, with the decision and the captures.
pub fn report_page(
    view: &View,
    kiosk_id: &str,
    decision: Option<&crate::staff::Decision>,
    thumbnails: Vec<crate::report::pdf::Thumbnail>,
) -> crate::report::pdf::PageText {
    use crate::report::pdf::{PageText, Row};
    let result = view.flow.result();
    let palette = look::LIGHT;
    let not_evaluated = view.text("result-not-evaluated");
    let rows = result
        .fields
        .iter()
        .map(|field| Row {
            label: field_label(view, field),
            value: field.value.clone(),
            score: field
                .score
                .map_or_else(|| not_evaluated.clone(), |score| format!("{score:.2}")),
            card: card_text(
                view,
                &palette,
                result
                    .cross_check
                    .iter()
                    .find(|agreement| agreement.key == field.key.as_str()),
            )
            .map(|(text, _)| text)
            .unwrap_or_default(),
        })
        .collect();
    let mut checks = vec![format!(
        "{}: {}",
        view.text("result-liveness"),
        liveness_verdict(view, result).0
    )];
    if result.action != Some(KryptonAction::Liveness) {
        let (detail, _) = face_match_verdict(view, result);
        checks.push(format!("{}: {detail}", view.text("result-face-match")));
    }
    if let Some(chip) = &result.chip {
        checks.push(format!(
            "{}: {}; {}",
            view.text("result-chip"),
            chip_verdict(view, chip).0,
            chip_face_verdict(view, chip).0
        ));
        if let Some(signer) = &chip.verdict.signer {
            checks.push(text_with(
                view.lang,
                "result-chip-signer",
                &[
                    ("subject", signer.subject.clone()),
                    ("serial", signer.serial.clone()),
                ],
            ));
        }
    }
    let decision = decision.map(|decision| {
        let mut line = format!(
            "{}: {}",
            view.text("decision-made"),
            view.text(super::staff::decision_label(decision.kind()))
        );
        if let Some(reason) = decision.reason() {
            line += &format!(" ({})", view.text(super::staff::reason_label(reason)));
        }
        if let crate::staff::Decision::Reject {
            note: Some(note), ..
        }
        | crate::staff::Decision::Escalate { note: Some(note) } = decision
        {
            line += &format!(". {note}");
        }
        line
    });
    let now = crate::report::rfc3339(crate::records::attempts::now_ms());
    PageText {
        title: view.text("result-title"),
        header: vec![verdict_text(view, result).0, format!("{kiosk_id} · {now}")],
        columns: [
            view.text("report-column-field"),
            view.text("report-column-value"),
            view.text("report-column-score"),
            view.text("report-column-card"),
        ],
        rows,
        checks,
        decision,
        thumbnails,
        footer: view.text("report-footer"),
    }
}

/// *Save report…*: the page as it stands, the captures as thumbnails.
fn save_report(view: &View) -> Action {
    let thumbnails = [
        (crate::flow::CaptureTarget::Front, "capture-front-title"),
        (crate::flow::CaptureTarget::Back, "capture-back-title"),
        (crate::flow::CaptureTarget::Selfie, "capture-selfie-title"),
    ]
    .into_iter()
    .filter_map(|(target, caption)| {
        let capture = view.flow.capture(target)?;
        Some(crate::report::pdf::Thumbnail {
            caption: view.text(caption),
            jpeg: capture.upload.jpeg.clone(),
            width: capture.upload.width,
            height: capture.upload.height,
        })
    })
    .chain(chip_photo_thumbnail(view))
    .collect();
    let desk = view.decision.as_ref();
    Action::SaveReport(Box::new(report_page(
        view,
        desk.map_or("kiosk", |desk| desk.kiosk_id),
        desk.and_then(|desk| desk.decided),
        thumbnails,
    )))
}

/// The chip's photo for the page, when it is a JPEG (the page embeds JPEG as it is).
fn chip_photo_thumbnail(view: &View) -> Option<crate::report::pdf::Thumbnail> {
    let photo = view.flow.chip()?.read.photo.as_ref()?;
    if photo.format != ekyc_chip::lds::PhotoFormat::Jpeg {
        return None;
    }
    let (width, height) = image::ImageReader::with_format(
        std::io::Cursor::new(&photo.bytes),
        image::ImageFormat::Jpeg,
    )
    .into_dimensions()
    .ok()?;
    Some(crate::report::pdf::Thumbnail {
        caption: view.text("result-chip-photo"),
        jpeg: photo.bytes.clone(),
        width,
        height,
    })
}

/// Staff's comparison: the printed card, the selfie and the chip's photo side by side.
fn faces_ui(ui: &mut egui::Ui, view: &View) {
    let pictures = [
        (
            "capture-front-title",
            view.thumbnails.get(&crate::flow::CaptureTarget::Front),
        ),
        (
            "capture-selfie-title",
            view.thumbnails.get(&crate::flow::CaptureTarget::Selfie),
        ),
        ("result-chip-photo", view.chip_photo),
    ];
    ui.horizontal(|ui| {
        for (caption, texture) in pictures {
            let Some(texture) = texture else {
                continue;
            };
            ui.vertical(|ui| {
                ui.label(Type::Body.text(view.text(caption)));
                let size = texture.size_vec2();
                let scale = 160.0 / size.y.max(1.0);
                ui.add(egui::Image::new((texture.id(), size * scale)));
            });
            ui.add_space(16.0);
        }
    });
}

/// The liveness verdict in words, and the verdict itself (`None`: not evaluated).
fn liveness_verdict(view: &View, result: &VerificationResult) -> (String, Option<bool>) {
    let live = result.is_live();
    let words = match live {
        Some(true) => view.text("result-live"),
        Some(false) => view.text("result-not-live"),
        None => view.text("result-not-evaluated"),
    };
    (words, live)
}

/// The face match in words, with its similarity against the threshold, and the verdict
/// itself (`None`: not evaluated). AUTH's match is against the customer's enrolment.
fn face_match_verdict(view: &View, result: &VerificationResult) -> (String, Option<bool>) {
    let face_match = result.face_match.as_ref();
    let (matches, no_match) = if result.action == Some(KryptonAction::Auth) {
        ("result-match-enrolled", "result-no-match-enrolled")
    } else {
        ("result-match", "result-no-match")
    };
    let matched = face_match.and_then(|face_match| face_match.is_match);
    let verdict = match matched {
        Some(true) => view.text(matches),
        Some(false) => view.text(no_match),
        None => view.text("result-not-evaluated"),
    };
    let words = match face_match.and_then(|face_match| face_match.similarity) {
        Some(similarity) => format!(
            "{verdict}, {}",
            text_with(
                view.lang,
                "result-similarity",
                &[
                    ("similarity", format!("{similarity:.2}")),
                    ("threshold", format!("{:.0}", view.face_match_threshold)),
                ],
            )
        ),
        None => verdict,
    };
    (words, matched)
}

/// Good, bad or not evaluated, in the palette's colours.
fn verdict_colour(palette: &Palette, verdict: Option<bool>) -> Color32 {
    match verdict {
        Some(true) => palette.good,
        Some(false) => palette.bad,
        None => palette.caution,
    }
}
