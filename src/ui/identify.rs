//! Identify (AUTH): who the customer is. Their card held up to the camera (the front's QR
//! code or the back's MRZ is read from the preview; no picture is kept), or their number
//! typed by staff on the keypad, which works in staff mode only: a passer-by cannot try
//! numbers (and whether one is enrolled is not told before the selfie anyway).

use egui::Vec2;

use super::capture::{camera_unavailable_ui, preview_ui};
use super::{paragraph, secondary_button, title, Action, Type, View};
use crate::camera::CameraStatus;
use crate::flow::{CaptureTarget, Event};

/// A key of the on-screen keypad.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A digit, 0 to 9.
    Digit(u8),
    /// Remove the last digit.
    Erase,
    /// The number is complete.
    Done,
}

/// The most digits the keypad takes (a CCCD number has 12; a bank's customer number may
/// be longer).
pub const MAX_DIGITS: usize = 20;

pub fn identify_ui(ui: &mut egui::Ui, view: &View) -> Option<Action> {
    let mut action = None;
    ui.vertical_centered(|ui| {
        title(ui, &view.text("identify-title"));
        paragraph(ui, &view.text("identify-body"));
    });
    ui.add_space(8.0);
    let height = (ui.available_height() - super::button_height(ui) - 40.0).max(240.0);
    ui.horizontal_top(|ui| {
        let preview_width = (ui.available_width() - 420.0).max(320.0);
        ui.allocate_ui(Vec2::new(preview_width, height), |ui| {
            ui.vertical_centered(|ui| match (view.camera_status, view.camera_texture) {
                (CameraStatus::Unavailable(_), _) => {
                    if camera_unavailable_ui(ui, view, height) {
                        action = Some(Action::RetryCamera);
                    }
                }
                (_, Some(texture)) => {
                    preview_ui(ui, texture, height - 40.0, Some(CaptureTarget::Front), None);
                    ui.label(Type::Note.text(view.text("identify-scanning")));
                }
                (_, None) => {
                    ui.spinner();
                    ui.label(view.text("camera-starting"));
                }
            });
        });
        ui.vertical(|ui| {
            let note = if view.staff_mode {
                "identify-keypad"
            } else {
                "identify-keypad-staff-only"
            };
            ui.label(Type::Note.text(view.text(note)).strong());
            action = action.take().or(keypad_ui(ui, view));
        });
    });
    ui.vertical_centered(|ui| {
        if secondary_button(ui, &view.text("start-over")).clicked() {
            action = Some(Action::Flow(Event::StartOver));
        }
    });
    action
}

/// The number typed so far, then 1–9, ⌫, 0, OK in rows of three.
fn keypad_ui(ui: &mut egui::Ui, view: &View) -> Option<Action> {
    let mut action = None;
    let shown = if view.keypad.is_empty() {
        "—".to_owned()
    } else {
        view.keypad.to_owned()
    };
    ui.add_sized(
        [3.0 * 120.0 + 2.0 * 12.0, 64.0],
        egui::Label::new(Type::Title.text(shown).family(egui::FontFamily::Monospace)),
    );
    let erase = view.text("identify-erase");
    let done = view.text("identify-done");
    let rows: [[(String, Key); 3]; 4] = [
        [1, 2, 3].map(|digit| (digit.to_string(), Key::Digit(digit))),
        [4, 5, 6].map(|digit| (digit.to_string(), Key::Digit(digit))),
        [7, 8, 9].map(|digit| (digit.to_string(), Key::Digit(digit))),
        [
            (erase, Key::Erase),
            ("0".to_owned(), Key::Digit(0)),
            (done, Key::Done),
        ],
    ];
    egui::Grid::new("keypad")
        .spacing([12.0, 12.0])
        .show(ui, |ui| {
            for row in rows {
                for (label, key) in row {
                    let enabled = view.staff_mode
                        && match key {
                            Key::Digit(_) => view.keypad.len() < MAX_DIGITS,
                            Key::Erase => !view.keypad.is_empty(),
                            Key::Done => !view.keypad.is_empty(),
                        };
                    let button = if key == Key::Done {
                        super::primary(ui, &label)
                    } else {
                        super::secondary(&label)
                    };
                    if ui
                        .add_enabled(enabled, button.min_size(Vec2::new(120.0, 72.0)))
                        .clicked()
                    {
                        action = Some(Action::Keypad(key));
                    }
                }
                ui.end_row();
            }
        });
    action
}
