//! Capture (front, back, selfie): the live preview filling most of the screen, an outline
//! for the card (ID-1, 85.6 × 54 mm) or an oval for the face, a large Capture button and
//! "Load from file". After capture: the still, with Use / Retake.

use egui::{Color32, Pos2, Rect, RichText, Shape, Stroke, TextureHandle, Vec2};

use super::{title, Action, View};
use crate::camera::CameraStatus;
use crate::flow::{CaptureTarget, Event};

/// ID-1 card aspect ratio: 85.6 mm × 54 mm.
pub const CARD_ASPECT: f32 = 85.6 / 54.0;

/// The card outline inside a frame of `width` × `height`: 86 % of the height (or 94 % of
/// the width, whichever binds), centred. Also where a card capture is cropped.
pub fn card_outline(width: f32, height: f32) -> Rect {
    let outline_height = (height * 0.86).min(width * 0.94 / CARD_ASPECT);
    let size = Vec2::new(outline_height * CARD_ASPECT, outline_height);
    Rect::from_center_size(Pos2::new(width / 2.0, height / 2.0), size)
}

/// The face oval inside a frame: 80 % of the height, 3:4.
pub fn face_oval(width: f32, height: f32) -> Rect {
    let oval_height = height * 0.8;
    Rect::from_center_size(
        Pos2::new(width / 2.0, height / 2.0),
        Vec2::new(oval_height * 0.75, oval_height),
    )
}

fn title_id(target: CaptureTarget) -> &'static str {
    match target {
        CaptureTarget::Front => "capture-front-title",
        CaptureTarget::Back => "capture-back-title",
        CaptureTarget::Selfie => "capture-selfie-title",
    }
}

pub fn capture_ui(ui: &mut egui::Ui, view: &View, target: CaptureTarget) -> Option<Action> {
    let mut action = None;
    ui.vertical_centered(|ui| {
        title(ui, &view.text(title_id(target)));
        let hint = if target == CaptureTarget::Selfie {
            "capture-face-hint"
        } else {
            "capture-card-hint"
        };
        ui.label(RichText::new(view.text(hint)).size(24.0));
        let preview_height = (ui.available_height() - super::BUTTON_HEIGHT - 70.0).max(200.0);
        match (view.camera_status, view.camera_texture) {
            (CameraStatus::Unavailable(_), _) => {
                if camera_unavailable_ui(ui, view, preview_height) {
                    action = Some(Action::RetryCamera);
                }
            }
            (_, Some(texture)) => preview_ui(ui, texture, preview_height, Some(target)),
            (_, None) => {
                ui.add_space(preview_height / 2.0);
                ui.spinner();
                ui.label(view.text("camera-starting"));
                ui.add_space(preview_height / 2.0);
            }
        }
        if let Some(notice) = view.notice {
            ui.colored_label(
                Color32::from_rgb(200, 60, 40),
                RichText::new(notice).size(22.0),
            );
        }
        let camera_ready = view.camera_texture.is_some()
            && matches!(view.camera_status, CameraStatus::Running { .. });
        super::button_row(ui, 2, 420.0, |ui| {
            let size = Vec2::new(420.0, super::BUTTON_HEIGHT);
            if ui
                .add_enabled(
                    camera_ready,
                    super::primary(&view.text("capture-button")).min_size(size),
                )
                .clicked()
            {
                action = Some(Action::TakePicture);
            }
            if ui
                .add(super::secondary(&view.text("capture-load-file")).min_size(size))
                .clicked()
            {
                action = Some(Action::LoadFromFile);
            }
        });
    });
    action
}

/// Says the camera is missing; true when "Try again" was pressed.
fn camera_unavailable_ui(ui: &mut egui::Ui, view: &View, height: f32) -> bool {
    ui.allocate_ui(Vec2::new(ui.available_width(), height), |ui| {
        ui.vertical_centered(|ui| {
            ui.add_space(height * 0.2);
            ui.label(
                RichText::new(view.text("camera-unavailable-title"))
                    .size(34.0)
                    .family(super::bold_family()),
            );
            ui.add(
                egui::Label::new(RichText::new(view.text("camera-unavailable-body")).size(24.0))
                    .wrap(),
            );
            if let CameraStatus::Unavailable(error) = view.camera_status {
                ui.label(RichText::new(error.to_string()).small().weak());
            }
            ui.add_space(12.0);
            ui.add(
                super::secondary(&view.text("camera-retry"))
                    .min_size(Vec2::new(320.0, super::BUTTON_HEIGHT)),
            )
            .clicked()
        })
        .inner
    })
    .inner
}

/// The picture, scaled to fit `height`, with the card outline or face oval over it.
fn preview_ui(
    ui: &mut egui::Ui,
    texture: &TextureHandle,
    height: f32,
    outline: Option<CaptureTarget>,
) {
    let size = texture.size_vec2();
    let scale = (height / size.y).min(ui.available_width() / size.x);
    let response = ui.add(egui::Image::new((texture.id(), size * scale)));
    let rect = response.rect;
    let Some(target) = outline else { return };
    let to_screen = |frame_rect: Rect| {
        Rect::from_min_size(
            rect.min + frame_rect.min.to_vec2() * scale,
            frame_rect.size() * scale,
        )
    };
    let stroke = Stroke::new(5.0, Color32::WHITE);
    let painter = ui.painter_at(rect);
    if target == CaptureTarget::Selfie {
        let oval = to_screen(face_oval(size.x, size.y));
        painter.add(Shape::ellipse_stroke(
            oval.center(),
            oval.size() / 2.0,
            stroke,
        ));
    } else {
        let card = to_screen(card_outline(size.x, size.y));
        painter.rect_stroke(card, 18.0, stroke, egui::StrokeKind::Middle);
    }
}

/// The still, with Use / Retake.
pub fn still_ui(ui: &mut egui::Ui, view: &View, target: CaptureTarget) -> Option<Action> {
    let mut action = None;
    ui.vertical_centered(|ui| {
        title(ui, &view.text(title_id(target)));
        ui.label(RichText::new(view.text("capture-check-still")).size(24.0));
        let height = (ui.available_height() - super::BUTTON_HEIGHT - 50.0).max(200.0);
        if let Some(texture) = view.pending {
            preview_ui(ui, texture, height, None);
        }
        super::button_row(ui, 2, 420.0, |ui| {
            let size = Vec2::new(420.0, super::BUTTON_HEIGHT);
            if ui
                .add(super::primary(&view.text("capture-use")).min_size(size))
                .clicked()
            {
                action = Some(Action::Flow(Event::UseCapture));
            }
            if ui
                .add(super::secondary(&view.text("capture-retake")).min_size(size))
                .clicked()
            {
                action = Some(Action::Flow(Event::Retake));
            }
        });
    });
    action
}
