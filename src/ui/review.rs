//! Review: the thumbnails side by side; retake any one, send, or start over.

use super::{primary_button, secondary_button, title, Action, Type, View};
use crate::flow::{CaptureTarget, Event};

pub fn review_ui(ui: &mut egui::Ui, view: &View) -> Option<Action> {
    let mut action = None;
    ui.vertical_centered(|ui| {
        title(ui, &view.text("review-title"));
        let targets = view.flow.targets();
        let column = (ui.available_width() - 40.0) / targets.len() as f32 - 16.0;
        ui.columns(targets.len(), |columns| {
            for (ui, target) in columns.iter_mut().zip(targets) {
                ui.vertical_centered(|ui| {
                    let label = match target {
                        CaptureTarget::Front => "review-front",
                        CaptureTarget::Back => "review-back",
                        CaptureTarget::Selfie => "review-selfie",
                    };
                    ui.label(Type::Large.text(view.text(label)));
                    if let Some(texture) = view.thumbnails.get(&target) {
                        let size = texture.size_vec2();
                        let scale = (column.min(420.0) / size.x).min(300.0 / size.y);
                        ui.add(egui::Image::new((texture.id(), size * scale)));
                    }
                    let retake = egui::Button::new(Type::Body.text(view.text("review-retake")))
                        .min_size([column.min(300.0), 56.0].into());
                    if ui.add(retake).clicked() {
                        action = Some(Action::Flow(Event::RetakeFromReview(target)));
                    }
                });
            }
        });
        if view.flow.reads_chip() {
            ui.add_space(16.0);
            ui.horizontal(|ui| {
                let read = if view.flow.chip().is_some() {
                    "review-chip-read"
                } else {
                    "review-chip-not-read"
                };
                ui.label(Type::Large.text(view.text(read)));
                if ui
                    .button(Type::Body.text(view.text("review-chip-again")))
                    .clicked()
                {
                    action = Some(Action::Flow(Event::ReadChipAgain));
                }
            });
        }
        ui.add_space(32.0);
        if primary_button(ui, &view.text("review-submit")).clicked() {
            action = Some(Action::Flow(Event::Submit));
        }
        if secondary_button(ui, &view.text("start-over")).clicked() {
            action = Some(Action::Flow(Event::StartOver));
        }
    });
    action
}
