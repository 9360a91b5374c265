//! "Place your card on the reader": a picture of where, the chip's read with its progress
//! (DG2, the photo, takes seconds), and each problem with its way forward: try again,
//! staff type the card's numbers, or (`chip.mode = when_present`) go on without the chip.

use egui::{Color32, Pos2, Rect, Stroke, Vec2};

use super::{paragraph, primary_button, secondary_button, title, Action, Type, View};
use crate::chip::{ChipMode, ChipProblem, ChipStatus};
use crate::flow::Event;

/// The numbers staff type when the MRZ cannot be read (or reads wrong).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChipKeyDraft {
    /// The MRZ's document number (a CCCD's: the last 9 digits of its number).
    pub document_number: String,
    /// `YYMMDD`.
    pub birth: String,
    /// `YYMMDD`.
    pub expiry: String,
    /// Or the card's 6-digit CAN (on its front): PACE only.
    pub can: String,
}

impl ChipKeyDraft {
    /// The key, once its parts hold: the CAN when one is typed, else the MRZ's numbers.
    pub fn key(&self) -> Option<ekyc_chip::ChipKey> {
        let trimmed = |text: &str| text.trim().to_uppercase();
        let key = if self.can.trim().is_empty() {
            let mrz = ekyc_chip::MrzKey {
                document_number: trimmed(&self.document_number),
                birth: trimmed(&self.birth),
                expiry: trimmed(&self.expiry),
            };
            if mrz.document_number.is_empty() {
                return None;
            }
            ekyc_chip::ChipKey::Mrz(mrz)
        } else {
            ekyc_chip::ChipKey::Can(ekyc_chip::Can(self.can.trim().to_owned()))
        };
        key.check().is_ok().then_some(key)
    }
}

impl Drop for ChipKeyDraft {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.document_number.zeroize();
        self.birth.zeroize();
        self.expiry.zeroize();
        self.can.zeroize();
    }
}

/// What the chip screen is drawn from.
pub struct ChipView<'a> {
    pub status: ChipStatus,
    pub mode: ChipMode,
    /// The numbers staff are typing.
    pub draft: &'a ChipKeyDraft,
}

/// The share of the read done: files done, and the current file's bytes.
pub fn fraction(progress: &ekyc_chip::Progress) -> f32 {
    let files = progress.files.max(1) as f32;
    let file = if progress.total == 0 {
        0.0
    } else {
        progress.read as f32 / progress.total as f32
    };
    ((progress.files_done as f32 + file) / files).clamp(0.0, 1.0)
}

/// The text id of what the screen says under its title.
pub fn body_id(status: &ChipStatus) -> &'static str {
    match status {
        ChipStatus::FindingKey => "chip-finding-key",
        ChipStatus::WaitingForCard => "chip-place-card",
        ChipStatus::Reading(_) => "chip-reading",
        ChipStatus::Failed(problem) => match problem {
            ChipProblem::NoKey => "chip-no-key",
            ChipProblem::WrongKey => "chip-wrong-key",
            ChipProblem::MovedAway => "chip-moved-away",
            ChipProblem::NoAnswer => "chip-no-answer",
            ChipProblem::PaceOnly => "chip-pace-only",
            ChipProblem::NoPace => "chip-no-pace",
            ChipProblem::Other(_) => "chip-other",
        },
    }
}

pub fn chip_ui(ui: &mut egui::Ui, view: &View, chip: &ChipView) -> Option<Action> {
    let mut action = None;
    ui.vertical_centered(|ui| {
        ui.set_max_width(900.0);
        title(ui, &view.text("chip-title"));
        // Staff's form takes the picture's room once a read has failed.
        if !(view.staff_mode && matches!(chip.status, ChipStatus::Failed(_))) {
            reader_picture(ui, matches!(chip.status, ChipStatus::Reading(_)));
            ui.add_space(12.0);
        }
        paragraph(ui, &view.text(body_id(&chip.status)));
        match &chip.status {
            ChipStatus::Reading(progress) => {
                ui.add_space(12.0);
                let share = fraction(progress);
                ui.add(
                    egui::ProgressBar::new(share)
                        .desired_width(600.0)
                        .text(format!("{:.0} %", share * 100.0)),
                );
            }
            ChipStatus::Failed(problem) => {
                if let ChipProblem::Other(words) = problem {
                    if view.staff_mode {
                        ui.label(Type::Note.text(words));
                    }
                }
                ui.add_space(24.0);
                if primary_button(ui, &view.text("chip-try-again")).clicked() {
                    action = Some(Action::ChipRetry);
                }
            }
            ChipStatus::FindingKey | ChipStatus::WaitingForCard => {}
        }
        if view.staff_mode {
            ui.add_space(24.0);
            if let Some(typed) = key_form(ui, view, chip.draft) {
                action = Some(typed);
            }
        }
        ui.add_space(24.0);
        if chip.mode == ChipMode::WhenPresent
            && secondary_button(ui, &view.text("chip-skip")).clicked()
        {
            action = Some(Action::Flow(Event::SkipChip));
        }
        if secondary_button(ui, &view.text("start-over")).clicked() {
            action = Some(Action::Flow(Event::StartOver));
        }
    });
    action
}

/// Staff type the card's numbers (the MRZ's document number, birth and expiry dates), or
/// its CAN.
fn key_form(ui: &mut egui::Ui, view: &View, draft: &ChipKeyDraft) -> Option<Action> {
    let mut edited = draft.clone();
    let mut action = None;
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_max_width(760.0);
        ui.with_layout(egui::Layout::top_down(egui::Align::Min), |ui| {
            ui.label(Type::Body.text(view.text("chip-staff-key")).strong());
            let outline = egui::Stroke::new(1.5, super::look::palette(ui.ctx()).weak_text);
            egui::Grid::new("chip-key")
                .num_columns(2)
                .spacing([16.0, 8.0])
                .show(ui, |ui| {
                    for (label, value, width) in [
                        ("chip-staff-document", &mut edited.document_number, 12),
                        ("chip-staff-birth", &mut edited.birth, 6),
                        ("chip-staff-expiry", &mut edited.expiry, 6),
                        ("chip-staff-can", &mut edited.can, 6),
                    ] {
                        let label = ui.label(Type::Body.text(view.text(label)));
                        // Outlined: the kiosk's style draws fields without a border.
                        egui::Frame::new()
                            .stroke(outline)
                            .inner_margin(4.0)
                            .show(ui, |ui| {
                                ui.add(
                                    egui::TextEdit::singleline(value)
                                        .char_limit(width)
                                        .desired_width(220.0)
                                        .font(egui::TextStyle::Body),
                                )
                                .labelled_by(label.id);
                            });
                        ui.end_row();
                    }
                });
            let ready = edited.key().is_some();
            if ui
                .add_enabled(
                    ready,
                    egui::Button::new(Type::Body.text(view.text("chip-staff-read")))
                        .min_size([220.0, 48.0].into()),
                )
                .clicked()
            {
                action = Some(Action::ChipReadWithKey);
            }
        });
    });
    if edited != *draft {
        return Some(Action::ChipKeyDraft(edited));
    }
    action
}

/// A card reader seen from above, the card laid on it; the card's chip glows while read.
fn reader_picture(ui: &mut egui::Ui, reading: bool) {
    let palette = super::look::palette(ui.ctx());
    let (rect, _) = ui.allocate_exact_size(Vec2::new(360.0, 200.0), egui::Sense::hover());
    let painter = ui.painter_at(rect);
    let reader = Rect::from_center_size(
        rect.center() + Vec2::new(0.0, 30.0),
        Vec2::new(260.0, 120.0),
    );
    painter.rect_filled(reader, 16.0, Color32::from_gray(60));
    painter.text(
        reader.center_bottom() - Vec2::new(0.0, 16.0),
        egui::Align2::CENTER_CENTER,
        "((•))",
        egui::FontId::proportional(18.0),
        Color32::from_gray(200),
    );
    let card = Rect::from_center_size(rect.center() - Vec2::new(0.0, 8.0), Vec2::new(200.0, 126.0));
    painter.rect_filled(card, 10.0, Color32::from_rgb(214, 228, 240));
    painter.rect_stroke(
        card,
        10.0,
        Stroke::new(2.0, palette.weak_text),
        egui::StrokeKind::Inside,
    );
    let chip = Rect::from_min_size(card.min + Vec2::new(22.0, 44.0), Vec2::new(34.0, 26.0));
    let gold = if reading {
        Color32::from_rgb(250, 200, 40)
    } else {
        Color32::from_rgb(200, 170, 80)
    };
    painter.rect_filled(chip, 4.0, gold);
    for line in 1..3 {
        let y = chip.min.y + chip.height() * line as f32 / 3.0;
        painter.line_segment(
            [Pos2::new(chip.min.x, y), Pos2::new(chip.max.x, y)],
            Stroke::new(1.0, Color32::from_gray(120)),
        );
    }
}
