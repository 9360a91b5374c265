//! Submitting: the steps (session, document, face) with progress, and Cancel. The work
//! happens on the async runtime; this screen only shows where it is.

use super::{look, secondary_button, title, Action, Type, View};
use crate::flow::{Event, SubmitStep};

pub fn submitting_ui(ui: &mut egui::Ui, view: &View, current: SubmitStep) -> Option<Action> {
    let mut action = None;
    ui.vertical_centered(|ui| {
        title(ui, &view.text("submitting-title"));
        ui.add_space(24.0);
        for (step, id) in [
            (SubmitStep::Session, "step-session"),
            (SubmitStep::Document, "step-document"),
            (SubmitStep::Face, "step-face"),
        ] {
            ui.horizontal(|ui| {
                ui.add_space((ui.available_width() - 640.0).max(0.0) / 2.0);
                if step < current {
                    ui.label(Type::Emphasis.text("✔").color(look::palette(ui.ctx()).good));
                } else if step == current {
                    ui.add(egui::Spinner::new().size(30.0));
                } else {
                    ui.label(Type::Emphasis.text("○").weak());
                }
                let label = Type::Emphasis.text(view.text(id));
                ui.label(if step > current { label.weak() } else { label });
            });
        }
        ui.add_space(40.0);
        if secondary_button(ui, &view.text("submitting-cancel")).clicked() {
            action = Some(Action::Flow(Event::Cancel));
        }
    });
    action
}
