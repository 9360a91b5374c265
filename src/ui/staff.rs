//! Staff's own parts of the screen: the PIN pad that opens staff mode, and the review's
//! decision (approve, reject with a reason, escalate).

use egui::RichText;

use super::{primary_button, secondary_button, toggle, Action, Type, View};
use crate::desk::{Decision, DecisionKind, RejectReason};

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

/// The desk's part of the result screen.
#[derive(Debug, Clone)]
pub struct DeskView<'a> {
    pub draft: &'a DecisionDraft,
    /// Already decided (Finish then leaves).
    pub decided: Option<&'a Decision>,
    /// Desk mode: no Finish before a decision.
    pub required: bool,
}

/// The PIN pad, over everything else.
pub fn pin_pad_ui(ctx: &egui::Context, view: &View, pad: &PinPadView) -> Option<PinKey> {
    let mut pressed = None;
    egui::Modal::new(egui::Id::unique("staff-pin-pad")).show(ctx, |ui| {
        ui.set_width(360.0);
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
        let size = egui::vec2(96.0, 64.0);
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

fn decision_label(kind: DecisionKind) -> &'static str {
    match kind {
        DecisionKind::Approve => "decision-approve",
        DecisionKind::Reject => "decision-reject",
        DecisionKind::Escalate => "decision-escalate",
    }
}

fn reason_label(reason: RejectReason) -> &'static str {
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
pub fn decision_ui(ui: &mut egui::Ui, view: &View, desk: &DeskView) -> Option<Action> {
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
    ui.label(Type::Body.text(view.text("decision-title")).strong());
    ui.horizontal_wrapped(|ui| {
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
        ui.label(Type::Body.text(view.text("decision-reason")));
        ui.horizontal_wrapped(|ui| {
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
    if draft.kind.is_some_and(|kind| kind != DecisionKind::Approve) {
        ui.horizontal(|ui| {
            let label = ui.label(view.text("decision-note"));
            ui.add(egui::TextEdit::singleline(&mut draft.note).desired_width(420.0))
                .labelled_by(label.id);
        });
    }
    if draft != *desk.draft {
        action = Some(Action::DecisionDraft(draft.clone()));
    }
    ui.vertical_centered(|ui| {
        let decision = draft.decision();
        let confirm = ui.add_enabled(
            decision.is_some(),
            egui::Button::new(Type::Body.text(view.text("decision-confirm")))
                .min_size(egui::vec2(240.0, super::button_height(ui))),
        );
        if confirm.clicked() {
            action = decision.map(Action::Decide);
        }
        if !desk.required && secondary_button(ui, &view.text("result-finish")).clicked() {
            action = Some(Action::Flow(crate::flow::Event::Finish));
        }
    });
    action
}
