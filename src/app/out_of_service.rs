//! The window a kiosk shows when it cannot start (a broken configuration, a missing key
//! file): "out of service, ask staff" for the customer in both languages, and the problem
//! for staff. It stays up, so the kiosk unit does not restart it in a loop, and the screen
//! never goes blank.

use egui::RichText;

use crate::ui::{self, text};
use ekyc_contract::Lang;

pub struct OutOfService {
    /// What went wrong, for staff: a configuration message, never a customer's data.
    problem: String,
    kiosk_mode: bool,
}

impl OutOfService {
    pub fn new(cc: &eframe::CreationContext<'_>, problem: String, kiosk_mode: bool) -> Self {
        ui::install_style(&cc.egui_ctx);
        Self {
            problem,
            kiosk_mode,
        }
    }
}

impl eframe::App for OutOfService {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        if self.kiosk_mode && ctx.input(|input| input.viewport().close_requested()) {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        egui::CentralPanel::default().show(ui, |ui| self.contents(ui));
    }
}

impl OutOfService {
    fn contents(&self, ui: &mut egui::Ui) {
        ui.vertical_centered(|ui| {
            ui.add_space(ui.available_height() * 0.2);
            for lang in [Lang::Vi, Lang::En] {
                ui.label(RichText::new(text(lang, "out-of-service-title")).heading());
                ui.label(RichText::new(text(lang, "out-of-service-body")).size(24.0));
                ui.add_space(24.0);
            }
            ui.add_space(24.0);
            ui.separator();
            for lang in [Lang::Vi, Lang::En] {
                ui.label(RichText::new(text(lang, "out-of-service-staff")).strong());
            }
            ui.add_space(8.0);
            // Left-aligned: compiler-style messages point at a column with `^`.
            egui::Frame::group(ui.style()).show(ui, |ui| {
                ui.with_layout(egui::Layout::top_down(egui::Align::Min), |ui| {
                    ui.label(RichText::new(&self.problem).monospace().size(18.0));
                });
            });
        });
    }
}
