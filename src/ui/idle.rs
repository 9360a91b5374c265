//! "Do you need more time?": a countdown over any screen after Welcome, with one big
//! button that gives the customer the whole idle time again (WCAG 2.2.1, timing
//! adjustable: at least 20 seconds to answer, `ui.more_time_secs`).

use std::time::Duration;

use super::{primary_button, text_with, Action, Type, View};
use crate::flow::Event;

pub fn idle_ui(ctx: &egui::Context, view: &View, left: Duration) -> Option<Action> {
    let mut action = None;
    egui::Modal::new(egui::Id::unique("idle-countdown")).show(ctx, |ui| {
        ui.set_width(720.0 * super::look::current(ctx).text_scale());
        ui.vertical_centered(|ui| {
            ui.add(egui::Label::new(egui::RichText::new(view.text("idle-title")).heading()).wrap());
            let seconds = left.as_secs_f32().ceil() as u64;
            ui.add(
                egui::Label::new(Type::Large.text(text_with(
                    view.lang,
                    "idle-body",
                    &[("seconds", seconds.to_string())],
                )))
                .wrap(),
            );
            ui.add_space(16.0);
            if primary_button(ui, &view.text("idle-still-here")).clicked() {
                action = Some(Action::Flow(Event::StillHere));
            }
        });
    });
    action
}
