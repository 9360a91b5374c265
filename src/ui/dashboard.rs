//! Staff mode's dashboard: today's figures at this kiosk from the attempt log (the same
//! as `ekyc-kiosk stats --since TODAY`), with small charts, and the reports waiting for the
//! bank.

use egui_plot::{Bar, BarChart, Legend, Plot};

use super::{secondary_button, text_with, Action, Type, View};
use crate::records::stats::{Rate, Stats};

/// Reports waiting, and whether one waited past the alert.
pub struct OutboxLine {
    pub waiting: u64,
    pub overdue_hours: Option<u64>,
}

/// A still chart of bars at 0, 1, 2…, each named under its place by `names`.
fn bar_plot(id: &str, names: Vec<String>, height: f32) -> Plot<'static> {
    Plot::new(id)
        .height(height)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        // A mark at every bar, so that each one is named.
        .x_grid_spacer(egui_plot::uniform_grid_spacer(|_| [1.0, 5.0, 10.0]))
        .x_axis_formatter(move |mark, _| {
            let index = mark.value.round();
            if (mark.value - index).abs() < 1e-6 && index >= 0.0 {
                names.get(index as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
}

fn rate_text(view: &View, rate: &Rate) -> String {
    match rate.rate {
        Some(value) => text_with(
            view.lang,
            "dashboard-rate",
            &[
                ("percent", format!("{:.1}", value * 100.0)),
                ("failed", rate.failed.to_string()),
                ("evaluated", rate.evaluated.to_string()),
            ],
        ),
        None => view.text("dashboard-none-evaluated"),
    }
}

pub fn dashboard_ui(
    ui: &mut egui::Ui,
    view: &View,
    stats: &Stats,
    outbox: Option<&OutboxLine>,
) -> Option<Action> {
    let mut action = None;
    ui.horizontal(|ui| {
        ui.label(Type::Title.text(view.text("dashboard-title")));
        if secondary_button(ui, &view.text("dashboard-close")).clicked() {
            action = Some(Action::Dashboard(false));
        }
    });
    ui.label(Type::Body.text(text_with(
        view.lang,
        "dashboard-attempts",
        &[("count", stats.attempts.to_string())],
    )));
    let plot_height = 220.0;
    ui.columns(2, |columns| {
        columns[0].label(Type::Body.text(view.text("dashboard-funnel")).strong());
        let bars: Vec<Bar> = stats
            .funnel
            .iter()
            .enumerate()
            .map(|(index, stage)| {
                Bar::new(index as f64, stage.attempts as f64)
                    .name(view.text(&format!("dashboard-stage-{}", stage.stage)))
                    .width(0.7)
            })
            .collect();
        let names: Vec<String> = stats
            .funnel
            .iter()
            .map(|stage| view.text(&format!("dashboard-stage-{}", stage.stage)))
            .collect();
        bar_plot("dashboard-funnel", names, plot_height).show(&mut columns[0], |plot| {
            plot.bar_chart(BarChart::new(view.text("dashboard-funnel"), bars));
        });
        // The same in words (a chart says nothing to a screen reader).
        let words: Vec<String> = stats
            .funnel
            .iter()
            .map(|stage| {
                let name = view.text(&format!("dashboard-stage-{}", stage.stage));
                format!("{name} {}", stage.attempts)
            })
            .collect();
        columns[0].label(Type::Small.text(words.join(" → ")));
        columns[1].label(Type::Body.text(view.text("dashboard-time")).strong());
        let seconds = |ms: Option<u64>| ms.unwrap_or(0) as f64 / 1000.0;
        let median: Vec<Bar> = stats
            .steps
            .iter()
            .enumerate()
            .map(|(index, step)| Bar::new(index as f64 - 0.2, seconds(step.median_ms)).width(0.35))
            .collect();
        let p90: Vec<Bar> = stats
            .steps
            .iter()
            .enumerate()
            .map(|(index, step)| Bar::new(index as f64 + 0.2, seconds(step.p90_ms)).width(0.35))
            .collect();
        let steps: Vec<String> = stats
            .steps
            .iter()
            .map(|step| view.text(&format!("dashboard-stage-{}", step.step.as_str())))
            .collect();
        let longest = stats
            .steps
            .iter()
            .filter_map(|step| step.p90_ms)
            .max()
            .unwrap_or(0);
        bar_plot("dashboard-time", steps, plot_height)
            // Room above the bars for the legend.
            .include_y(seconds(Some(longest)) * 1.45)
            .legend(Legend::default().position(egui_plot::Corner::RightTop))
            .show(&mut columns[1], |plot| {
                plot.bar_chart(BarChart::new(view.text("dashboard-median"), median));
                plot.bar_chart(BarChart::new(view.text("dashboard-p90"), p90));
            });
    });
    egui::Grid::new("dashboard-figures")
        .num_columns(2)
        .spacing([24.0, 8.0])
        .show(ui, |ui| {
            let mut row = |name: String, value: String| {
                ui.label(Type::Body.text(name));
                ui.label(Type::Body.text(value).strong());
                ui.end_row();
            };
            row(
                view.text("dashboard-liveness-failed"),
                rate_text(view, &stats.liveness_failures),
            );
            row(
                view.text("dashboard-challenge-failed"),
                rate_text(view, &stats.challenge_failures),
            );
            row(
                view.text("dashboard-face-mismatch"),
                rate_text(view, &stats.face_mismatches),
            );
            let decisions = &stats.decisions;
            row(
                view.text("dashboard-decisions"),
                text_with(
                    view.lang,
                    "dashboard-decision-counts",
                    &[
                        ("approve", decisions.approve.to_string()),
                        ("reject", decisions.reject.to_string()),
                        ("escalate", decisions.escalate.to_string()),
                    ],
                ),
            );
            let retries: Vec<String> = stats
                .steps
                .iter()
                .map(|step| {
                    format!(
                        "{} {}",
                        view.text(&format!("dashboard-stage-{}", step.step.as_str())),
                        step.retries
                    )
                })
                .collect();
            row(view.text("dashboard-retries"), retries.join(" · "));
            if let Some(outbox) = outbox {
                row(view.text("dashboard-outbox"), outbox.waiting.to_string());
            }
        });
    if let Some(hours) = outbox.and_then(|outbox| outbox.overdue_hours) {
        let palette = super::look::palette(ui.ctx());
        ui.label(
            Type::Body
                .text(text_with(
                    view.lang,
                    "outbox-overdue",
                    &[("hours", hours.to_string())],
                ))
                .color(palette.bad),
        );
    }
    action
}
