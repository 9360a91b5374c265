//! "Are you still there?": a countdown over any screen after Welcome.

use std::time::Duration;

use egui::RichText;

use super::{primary_button, text_with, Action, View};
use crate::flow::Event;

pub fn idle_ui(ctx: &egui::Context, view: &View, left: Duration) -> Option<Action> {
    let mut action = None;
    egui::Modal::new(egui::Id::unique("idle-countdown")).show(ctx, |ui| {
        ui.set_width(640.0);
        ui.vertical_centered(|ui| {
            ui.label(RichText::new(view.text("idle-title")).heading());
            let seconds = left.as_secs_f32().ceil() as u64;
            ui.label(
                RichText::new(text_with(
                    view.lang,
                    "idle-body",
                    &[("seconds", seconds.to_string())],
                ))
                .size(24.0),
            );
            ui.add_space(16.0);
            if primary_button(ui, &view.text("idle-still-here")).clicked() {
                action = Some(Action::Flow(Event::StillHere));
            }
        });
    });
    action
}
