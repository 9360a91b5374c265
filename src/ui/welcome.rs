//! Welcome: product name, language switch, Start.

use egui::RichText;

use super::{primary_button, Action, View};
use crate::contract::Lang;
use crate::flow::Event;

pub fn welcome_ui(ui: &mut egui::Ui, view: &View) -> Option<Action> {
    let mut action = None;
    ui.vertical_centered(|ui| {
        ui.add_space(ui.available_height() * 0.18);
        ui.label(
            RichText::new(view.text("app-name"))
                .size(56.0)
                .family(super::bold_family()),
        );
        ui.add_space(16.0);
        ui.label(RichText::new(view.text("welcome-title")).size(34.0));
        ui.add_space(8.0);
        ui.add(egui::Label::new(RichText::new(view.text("welcome-body")).size(24.0)).wrap());
        ui.add_space(40.0);
        if primary_button(ui, &view.text("welcome-start")).clicked() {
            action = Some(Action::Flow(Event::Start));
        }
        ui.add_space(40.0);
        action = action.take().or(language_switch(ui, view));
    });
    action
}

/// English / Tiếng Việt, the current one selected.
pub fn language_switch(ui: &mut egui::Ui, view: &View) -> Option<Action> {
    let mut action = None;
    ui.horizontal(|ui| {
        // Centred: two buttons of 170 px and the gap between them.
        ui.add_space(
            ((ui.available_width() - 2.0 * 170.0 - ui.spacing().item_spacing.x) / 2.0).max(0.0),
        );
        for (lang, id) in [(Lang::En, "language-en"), (Lang::Vi, "language-vi")] {
            let button = egui::Button::selectable(
                view.lang == lang,
                RichText::new(view.text(id)).size(24.0),
            )
            .min_size([170.0, 56.0].into());
            if ui.add(button).clicked() && view.lang != lang {
                action = Some(Action::Flow(Event::SetLanguage(lang)));
            }
        }
    });
    action
}
