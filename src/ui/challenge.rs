//! The liveness challenge: one line of instruction, a dot that moves along this attempt's
//! random path, and the camera's preview, small, in a corner so the customer keeps their
//! face in view. Before the dot appears, "Get ready…" while the back end draws the path;
//! once the dot stops, "Checking…" while the kiosk scores the frames.

use egui::{Color32, RichText, Stroke};

use super::{paragraph, title, View};

/// The dot's radius and the margin it keeps from the screen's edges.
const DOT_RADIUS: f32 = 22.0;
const MARGIN: f32 = 40.0;
/// The preview's width in the corner.
const PREVIEW_WIDTH: f32 = 240.0;

pub fn challenge_ui(ui: &mut egui::Ui, view: &View) {
    ui.vertical_centered(|ui| {
        title(ui, &view.text("challenge-title"));
        match view.challenge_dot {
            Some(_) => paragraph(ui, &view.text("challenge-instruction")),
            None if view.challenge_preparing => {
                ui.add_space(8.0);
                ui.add(egui::Spinner::new().size(40.0));
                paragraph(ui, &view.text("challenge-preparing"));
            }
            None => {
                ui.add_space(8.0);
                ui.add(egui::Spinner::new().size(40.0));
                paragraph(ui, &view.text("challenge-checking"));
            }
        }
    });
    let area = ui.available_rect_before_wrap();
    let painter = ui.painter_at(area);
    if let Some(texture) = view.camera_texture {
        let size = texture.size_vec2();
        let height = PREVIEW_WIDTH * size.y / size.x.max(1.0);
        let preview = egui::Rect::from_min_size(
            egui::pos2(
                area.right() - PREVIEW_WIDTH - 8.0,
                area.bottom() - height - 8.0,
            ),
            egui::vec2(PREVIEW_WIDTH, height),
        );
        painter.image(
            texture.id(),
            preview,
            egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
            Color32::WHITE,
        );
        painter.rect_stroke(
            preview,
            4.0,
            Stroke::new(2.0, Color32::DARK_GRAY),
            egui::StrokeKind::Outside,
        );
    }
    if let Some([x, y]) = view.challenge_dot {
        let field = area.shrink(MARGIN);
        let centre = egui::pos2(
            field.left() + x * field.width(),
            field.top() + y * field.height(),
        );
        painter.circle(
            centre,
            DOT_RADIUS,
            Color32::from_rgb(0, 104, 180),
            Stroke::new(4.0, Color32::WHITE),
        );
        // What a screen reader and the tests find: the dot is there.
        ui.put(
            egui::Rect::from_center_size(centre, egui::vec2(DOT_RADIUS, DOT_RADIUS) * 2.0),
            egui::Label::new(RichText::new(" ").size(1.0)),
        )
        .widget_info(|| {
            egui::WidgetInfo::labeled(egui::Role::Image, true, view.text("challenge-dot"))
        });
    }
}
