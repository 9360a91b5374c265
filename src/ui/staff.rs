//! Staff's own parts of the screen: the PIN pad that opens staff mode, and the review's
//! decision (approve, reject with a reason, escalate).

use egui::RichText;

use super::{primary_button, secondary_button, toggle, Action, Type, View};
use crate::staff::{Decision, DecisionKind, RejectReason};

/// A key of the PIN pad.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinKey {
    Digit(u8),
    Erase,
    Enter,
    Close,
}

/// What the PIN pad shows.
#[derive(Debug, Clone, Default)]
pub struct PinPadView {
    /// How many digits are typed (shown as dots, never the digits).
    pub typed: usize,
    /// A line under the dots: wrong PIN, locked, no PIN set.
    pub message: Option<String>,
    /// Locked: the digits take nothing.
    pub locked: bool,
}

/// The decision being made on the review.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecisionDraft {
    pub kind: Option<DecisionKind>,
    pub reason: Option<RejectReason>,
    pub note: String,
}

impl DecisionDraft {
    /// The decision, once it is complete (a rejection needs its reason; "other" a note).
    pub fn decision(&self) -> Option<Decision> {
        let note = Some(self.note.trim().to_owned()).filter(|note| !note.is_empty());
        let decision = match self.kind? {
            DecisionKind::Approve => Decision::Approve,
            DecisionKind::Reject => Decision::Reject {
                reason: self.reason?,
                note,
            },
            DecisionKind::Escalate => Decision::Escalate { note },
        };
        decision.is_complete().then_some(decision)
    }
}

/// The decision's part of the result screen (at a desk, or in staff mode).
#[derive(Debug, Clone)]
pub struct DecisionView<'a> {
    pub draft: &'a DecisionDraft,
    /// Already decided (Finish then leaves).
    pub decided: Option<&'a Decision>,
    /// Desk mode: no Finish before a decision.
    pub required: bool,
    /// This kiosk's name (in a saved report).
    pub kiosk_id: &'a str,
}

/// The PIN pad, over everything else.
pub fn pin_pad_ui(ctx: &egui::Context, view: &View, pad: &PinPadView) -> Option<PinKey> {
    let mut pressed = None;
    egui::Modal::new(egui::Id::unique("staff-pin-pad")).show(ctx, |ui| {
        ui.set_width(380.0);
        ui.vertical_centered(|ui| {
            ui.label(Type::Title.text(view.text("staff-pin-title")));
            let dots: String =
                "●".repeat(pad.typed) + &"○".repeat(4usize.saturating_sub(pad.typed));
            ui.label(RichText::new(dots).size(32.0));
            if let Some(message) = &pad.message {
                ui.label(
                    Type::Body
                        .text(message)
                        .color(super::look::palette(ui.ctx()).bad),
                );
            }
            ui.add_space(8.0);
        });
        // Every key one size (the widest label, "Erase", sets it), so the columns line up.
        let size = egui::vec2(116.0, 64.0);
        egui::Grid::new("pin-keys")
            .spacing([12.0, 12.0])
            .show(ui, |ui| {
                for row in [[1, 2, 3], [4, 5, 6], [7, 8, 9]] {
                    for digit in row {
                        let key = ui.add_enabled(
                            !pad.locked,
                            egui::Button::new(RichText::new(digit.to_string()).size(28.0))
                                .min_size(size),
                        );
                        if key.clicked() {
                            pressed = Some(PinKey::Digit(digit));
                        }
                    }
                    ui.end_row();
                }
                if ui
                    .add(egui::Button::new(view.text("staff-pin-erase")).min_size(size))
                    .clicked()
                {
                    pressed = Some(PinKey::Erase);
                }
                let zero = ui.add_enabled(
                    !pad.locked,
                    egui::Button::new(RichText::new("0").size(28.0)).min_size(size),
                );
                if zero.clicked() {
                    pressed = Some(PinKey::Digit(0));
                }
                let enter = ui.add_enabled(
                    !pad.locked && pad.typed > 0,
                    egui::Button::new(view.text("staff-pin-enter")).min_size(size),
                );
                if enter.clicked() {
                    pressed = Some(PinKey::Enter);
                }
                ui.end_row();
            });
        ui.add_space(8.0);
        ui.vertical_centered(|ui| {
            if secondary_button(ui, &view.text("staff-pin-cancel")).clicked() {
                pressed = Some(PinKey::Close);
            }
        });
    });
    pressed
}

pub fn decision_label(kind: DecisionKind) -> &'static str {
    match kind {
        DecisionKind::Approve => "decision-approve",
        DecisionKind::Reject => "decision-reject",
        DecisionKind::Escalate => "decision-escalate",
    }
}

pub fn reason_label(reason: RejectReason) -> &'static str {
    match reason {
        RejectReason::DocumentUnreadable => "reason-document-unreadable",
        RejectReason::DocumentExpired => "reason-document-expired",
        RejectReason::FaceMismatch => "reason-face-mismatch",
        RejectReason::SuspectedFraud => "reason-suspected-fraud",
        RejectReason::CustomerWithdrew => "reason-customer-withdrew",
        RejectReason::Other => "reason-other",
    }
}

/// The decision under the evidence; Finish once decided (or when no decision is required).
pub fn decision_ui(ui: &mut egui::Ui, view: &View, desk: &DecisionView) -> Option<Action> {
    let mut action = None;
    if let Some(decision) = desk.decided {
        let mut line = format!(
            "{}: {}",
            view.text("decision-made"),
            view.text(decision_label(decision.kind()))
        );
        if let Some(reason) = decision.reason() {
            line += &format!(" ({})", view.text(reason_label(reason)));
        }
        ui.vertical_centered(|ui| {
            ui.label(Type::Body.text(line).strong());
            if primary_button(ui, &view.text("result-finish")).clicked() {
                action = Some(Action::Flow(crate::flow::Event::Finish));
            }
        });
        return action;
    }
    let mut draft = desk.draft.clone();
    ui.horizontal_wrapped(|ui| {
        ui.label(Type::Body.text(view.text("decision-title")).strong());
        for kind in DecisionKind::ALL {
            let selected = draft.kind == Some(kind);
            if ui
                .add(
                    toggle(ui, selected, &view.text(decision_label(kind)))
                        .min_size(egui::vec2(160.0, 56.0)),
                )
                .clicked()
            {
                draft.kind = Some(kind);
            }
        }
    });
    if draft.kind == Some(DecisionKind::Reject) {
        ui.horizontal_wrapped(|ui| {
            ui.label(Type::Body.text(view.text("decision-reason")));
            for reason in RejectReason::ALL {
                let selected = draft.reason == Some(reason);
                if ui
                    .add(
                        toggle(ui, selected, &view.text(reason_label(reason)))
                            .min_size(egui::vec2(120.0, 48.0)),
                    )
                    .clicked()
                {
                    draft.reason = Some(reason);
                }
            }
        });
    }
    let decision = draft.decision();
    ui.horizontal(|ui| {
        if draft.kind.is_some_and(|kind| kind != DecisionKind::Approve) {
            let label = ui.label(Type::Body.text(view.text("decision-note")));
            let stroke = egui::Stroke::new(1.0, ui.visuals().text_color());
            egui::Frame::new()
                .stroke(stroke)
                .corner_radius(4.0)
                .inner_margin(4.0)
                .show(ui, |ui| {
                    ui.add(egui::TextEdit::singleline(&mut draft.note).desired_width(480.0))
                        .labelled_by(label.id);
                });
        }
        let confirm = ui.add_enabled(
            decision.is_some(),
            egui::Button::new(Type::Body.text(view.text("decision-confirm")))
                .min_size(egui::vec2(240.0, super::button_height(ui))),
        );
        if confirm.clicked() {
            action = decision.clone().map(Action::Decide);
        }
        if !desk.required && secondary_button(ui, &view.text("result-finish")).clicked() {
            action = Some(Action::Flow(crate::flow::Event::Finish));
        }
    });
    if draft != *desk.draft && action.is_none() {
        action = Some(Action::DecisionDraft(draft));
    }
    action
}

/// A setting staff change from staff mode (until the kiosk restarts: the configuration
/// file keeps the defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffSetting {
    Language(ekyc_contract::Lang),
    /// A camera, as `camera.device` names it (`demo`, `auto`, an index).
    Camera(String),
    /// The card reader the chip is read on (empty: the first holding a card).
    ChipReader(String),
    /// Offer a journey, or stop offering it.
    Journey(crate::flow::KryptonAction, bool),
    Preset(crate::quality::Preset),
}

/// What the settings show.
pub struct SettingsView<'a> {
    pub preset: crate::quality::Preset,
    /// The cameras to choose from: (`camera.device` value, name shown).
    pub cameras: &'a [(String, String)],
    /// The one in use.
    pub camera: &'a str,
    /// What it sees (between customers).
    pub preview: Option<&'a egui::TextureHandle>,
    /// The journeys this kiosk's back end can run.
    pub possible: &'a [crate::flow::KryptonAction],
    /// The card readers plugged in, or why none can be listed; `None`: the chip is off.
    pub chip_readers: Option<&'a Result<Vec<String>, String>>,
    /// The reader in use (empty: the first holding a card).
    pub chip_reader: &'a str,
}

/// Staff mode's settings: the language a customer starts in, the journeys offered, the
/// capture preset.
pub fn settings_ui(ui: &mut egui::Ui, view: &View, settings: &SettingsView) -> Option<Action> {
    use crate::flow::KryptonAction;
    use crate::quality::Preset;
    use ekyc_contract::Lang;
    let mut action = None;
    ui.horizontal(|ui| {
        ui.label(Type::Title.text(view.text("settings-title")));
        if secondary_button(ui, &view.text("settings-close")).clicked() {
            action = Some(Action::Settings(false));
        }
    });
    ui.label(Type::Note.text(view.text("settings-until-restart")));
    if let Some(notice) = view.notice {
        ui.label(Type::Body.text(notice).strong());
    }
    ui.add_space(8.0);
    let size = egui::vec2(160.0, 48.0);
    egui::Grid::new("staff-settings")
        .num_columns(2)
        .spacing([24.0, 16.0])
        .show(ui, |ui| {
            ui.label(Type::Body.text(view.text("settings-language")));
            ui.horizontal_wrapped(|ui| {
                for (lang, id) in [(Lang::En, "language-en"), (Lang::Vi, "language-vi")] {
                    let selected = view.lang == lang;
                    if ui
                        .add(toggle(ui, selected, &view.text(id)).min_size(size))
                        .clicked()
                    {
                        action = Some(Action::Setting(StaffSetting::Language(lang)));
                    }
                }
            });
            ui.end_row();
            ui.label(Type::Body.text(view.text("settings-journeys")));
            ui.horizontal_wrapped(|ui| {
                let offered = view.flow.offered();
                for journey in [
                    KryptonAction::Enroll,
                    KryptonAction::Auth,
                    KryptonAction::Liveness,
                ] {
                    let on = offered.contains(&journey);
                    let label = view.text(&format!("journey-{}", journey.as_str().to_lowercase()));
                    // The last one offered stays: a kiosk offers at least one journey.
                    let possible =
                        settings.possible.contains(&journey) && !(on && offered.len() == 1);
                    let button = ui.add_enabled(possible, toggle(ui, on, &label).min_size(size));
                    if button.clicked() {
                        action = Some(Action::Setting(StaffSetting::Journey(journey, !on)));
                    }
                }
            });
            ui.end_row();
            ui.label(Type::Body.text(view.text("settings-camera")));
            ui.vertical(|ui| {
                ui.horizontal_wrapped(|ui| {
                    for (device, name) in settings.cameras {
                        let selected = settings.camera == device;
                        // Only between customers: a customer's capture keeps its camera.
                        let button = ui.add_enabled(
                            view.flow.screen() == &crate::flow::Screen::Welcome,
                            toggle(ui, selected, name).min_size(size),
                        );
                        if button.clicked() && !selected {
                            action = Some(Action::Setting(StaffSetting::Camera(device.clone())));
                        }
                    }
                });
                match settings.preview {
                    Some(texture) => {
                        let size = texture.size_vec2();
                        let scale = (320.0 / size.x).min(1.0);
                        ui.image((texture.id(), size * scale));
                    }
                    None => {
                        let status = match view.camera_status {
                            crate::camera::CameraStatus::Unavailable(error) => error.to_string(),
                            _ => view.text("settings-camera-starting"),
                        };
                        ui.label(Type::Note.text(status));
                    }
                }
            });
            ui.end_row();
            if let Some(readers) = settings.chip_readers {
                ui.label(Type::Body.text(view.text("settings-chip-reader")));
                ui.horizontal_wrapped(|ui| match readers {
                    Ok(readers) => {
                        let first = view.text("settings-chip-reader-first");
                        let choices = std::iter::once((String::new(), first))
                            .chain(readers.iter().map(|name| (name.clone(), name.clone())));
                        for (reader, name) in choices {
                            let selected = settings.chip_reader == reader;
                            if ui.add(toggle(ui, selected, &name).min_size(size)).clicked()
                                && !selected
                            {
                                action = Some(Action::Setting(StaffSetting::ChipReader(reader)));
                            }
                        }
                    }
                    Err(why) => {
                        ui.label(Type::Note.text(why));
                    }
                });
                ui.end_row();
            }
            ui.label(Type::Body.text(view.text("settings-preset")));
            ui.horizontal_wrapped(|ui| {
                for (preset, id) in [
                    (Preset::Strict, "settings-preset-strict"),
                    (Preset::Normal, "settings-preset-normal"),
                    (Preset::Relaxed, "settings-preset-relaxed"),
                ] {
                    let selected = settings.preset == preset;
                    if ui
                        .add(toggle(ui, selected, &view.text(id)).min_size(size))
                        .clicked()
                    {
                        action = Some(Action::Setting(StaffSetting::Preset(preset)));
                    }
                }
            });
            ui.end_row();
        });
    action
}
