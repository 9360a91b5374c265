//! Document choice: chip ID card (CCCD), passport, driver licence; or start over.

use super::{primary_button, secondary_button, title, Action, View};
use crate::flow::Event;
use ekyc_contract::DocumentType;

pub fn document_choice_ui(ui: &mut egui::Ui, view: &View) -> Option<Action> {
    let mut action = None;
    ui.vertical_centered(|ui| {
        title(ui, &view.text("document-title"));
        ui.add_space(24.0);
        for (document, id) in [
            (DocumentType::Idr, "document-idr"),
            (DocumentType::Passport, "document-passport"),
            (DocumentType::Dlr, "document-dlr"),
        ] {
            if primary_button(ui, &view.text(id)).clicked() {
                action = Some(Action::Flow(Event::ChooseDocument(document)));
            }
            ui.add_space(8.0);
        }
        ui.add_space(24.0);
        if secondary_button(ui, &view.text("start-over")).clicked() {
            action = Some(Action::Flow(Event::StartOver));
        }
    });
    action
}
