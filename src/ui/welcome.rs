//! Welcome: product name, language switch, Start.

use super::{primary_button, Action, Type, View};
use crate::flow::Event;
use ekyc_contract::{KryptonAction, Lang};

pub fn welcome_ui(ui: &mut egui::Ui, view: &View) -> Option<Action> {
    let mut action = None;
    ui.vertical_centered(|ui| {
        // Several journeys take the room of the space above.
        let choice = view.flow.offered().len() > 1;
        ui.add_space(ui.available_height() * if choice { 0.02 } else { 0.18 });
        ui.label(
            Type::Display
                .text(view.text("app-name"))
                .family(super::bold_family()),
        );
        ui.add_space(16.0);
        ui.label(Type::Title.text(view.text("welcome-title")));
        ui.add_space(8.0);
        ui.add(egui::Label::new(Type::Body.text(view.text("welcome-body"))).wrap());
        ui.add_space(if choice { 20.0 } else { 40.0 });
        let offered = view.flow.offered();
        if offered.len() > 1 {
            action = journey_choice_ui(ui, view, offered);
        } else if primary_button(ui, &view.text("welcome-start")).clicked() {
            action = Some(Action::Flow(Event::Start));
        }
        if let Some(notice) = view.notice {
            ui.add_space(12.0);
            ui.add(egui::Label::new(Type::Body.text(notice).strong()).wrap());
        }
        ui.add_space(if choice { 12.0 } else { 40.0 });
        action = action.take().or(language_switch(ui, view));
    });
    action
}

/// One button per journey offered, each with a line saying what it is for (staff pick at
/// a desk).
fn journey_choice_ui(ui: &mut egui::Ui, view: &View, offered: &[KryptonAction]) -> Option<Action> {
    let mut action = None;
    for journey in offered {
        let (button, hint) = match journey {
            KryptonAction::Enroll => ("journey-enroll", "journey-enroll-hint"),
            KryptonAction::Auth => ("journey-auth", "journey-auth-hint"),
            KryptonAction::Liveness => ("journey-liveness", "journey-liveness-hint"),
        };
        if primary_button(ui, &view.text(button)).clicked() {
            action = Some(Action::Flow(Event::StartJourney(*journey)));
        }
        ui.label(Type::Note.text(view.text(hint)));
        ui.add_space(4.0);
    }
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
            let button =
                super::toggle(ui, view.lang == lang, &view.text(id)).min_size([170.0, 56.0].into());
            if ui.add(button).clicked() && view.lang != lang {
                action = Some(Action::Flow(Event::SetLanguage(lang)));
            }
        }
    });
    action
}
