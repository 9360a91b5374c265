//! Consent: what is captured, why, how long it is kept; Accept / Decline.

use super::{paragraph, primary_button, secondary_button, title, Action, View};
use crate::flow::Event;

pub fn consent_ui(ui: &mut egui::Ui, view: &View) -> Option<Action> {
    let mut action = None;
    ui.vertical_centered(|ui| {
        ui.set_max_width(900.0);
        title(ui, &view.text("consent-title"));
        for id in ["consent-what", "consent-why", "consent-kept"] {
            paragraph(ui, &view.text(id));
            ui.add_space(6.0);
        }
        ui.add_space(24.0);
        if primary_button(ui, &view.text("consent-accept")).clicked() {
            action = Some(Action::Flow(Event::Accept));
        }
        if secondary_button(ui, &view.text("consent-decline")).clicked() {
            action = Some(Action::Flow(Event::Decline));
        }
    });
    action
}
