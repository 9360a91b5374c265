//! Capture (front, back, selfie): the live preview filling most of the screen, an outline
//! for the card (ID-1, 85.6 × 54 mm) or an oval for the face, a large Capture button and
//! "Load from file". After capture: the still, with Use / Retake.

use std::time::Duration;

use egui::{Color32, Pos2, Rect, RichText, Shape, Stroke, TextureHandle, Vec2};

use super::{look, text_with, title, Action, Type, View};
use crate::camera::CameraStatus;
use crate::flow::{CaptureTarget, Event};
use crate::quality::Instruction;

/// The card outline inside a frame of `width` × `height` (the gates' outline, see
/// [`crate::quality::card_outline`]). Also where a card capture is cropped when no card
/// was found.
pub fn card_outline(width: f32, height: f32) -> Rect {
    let (left, top, outline_width, outline_height) = crate::quality::card_outline(width, height);
    Rect::from_min_size(
        Pos2::new(left, top),
        Vec2::new(outline_width, outline_height),
    )
}

/// What the frame analysis found in the preview, in the frame's pixels, for drawing.
#[derive(Debug, Clone, Default)]
pub struct CaptureGuide {
    /// The first failing gate's instruction; `None` with `checked` when all pass.
    pub instruction: Option<Instruction>,
    /// A frame of this screen's kind was checked.
    pub checked: bool,
    /// The card's corners, when one was found.
    pub card: Option<[Pos2; 4]>,
    /// The boxes of the faces found (more than one: the customer is asked to be alone,
    /// and each face shows where the others are).
    pub faces: Vec<Rect>,
    /// Time left before the automatic picture.
    pub countdown: Option<Duration>,
    /// The selfie screen without a face model: no face checks, no automatic picture.
    pub face_guidance_off: bool,
    /// A camera frame taken since this screen appeared exists (until then the button
    /// would take a picture of the step before).
    pub fresh_frame: bool,
}

/// The face oval inside a frame: 80 % of the height, 3:4.
pub fn face_oval(width: f32, height: f32) -> Rect {
    let oval_height = height * 0.8;
    Rect::from_center_size(
        Pos2::new(width / 2.0, height / 2.0),
        Vec2::new(oval_height * 0.75, oval_height),
    )
}

pub fn title_id(target: CaptureTarget) -> &'static str {
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
        guide_line_ui(ui, view, target);
        let preview_height = (ui.available_height() - super::button_height(ui) - 70.0).max(200.0);
        match (view.camera_status, view.camera_texture) {
            (CameraStatus::Unavailable(_), _) => {
                if camera_unavailable_ui(ui, view, preview_height) {
                    action = Some(Action::RetryCamera);
                }
            }
            (_, Some(texture)) => preview_ui(ui, texture, preview_height, Some(target), view.guide),
            // Exactly the preview's room: the screen does not grow (and scroll) for the few
            // frames before the camera's first.
            (_, None) => {
                let size = Vec2::new(ui.available_width(), preview_height);
                ui.allocate_ui(size, |ui| {
                    ui.set_min_size(size);
                    ui.vertical_centered(|ui| {
                        ui.add_space(preview_height / 2.0 - 40.0);
                        ui.spinner();
                        ui.label(view.text("camera-starting"));
                    });
                });
            }
        }
        if let Some(notice) = view.notice {
            ui.colored_label(look::palette(ui.ctx()).bad, Type::Note.text(notice));
        }
        let camera_ready = view.camera_texture.is_some()
            && matches!(view.camera_status, CameraStatus::Running { .. })
            && view.guide.is_none_or(|guide| guide.fresh_frame);
        // A selfie from a file proves nobody was there: staff only (and never live).
        let file_allowed = target != CaptureTarget::Selfie || view.staff_mode;
        // Take picture, Load from file (when allowed) and Start over: a customer who chose
        // the wrong document, or wants to stop, is never stuck here.
        let count = 2 + usize::from(file_allowed);
        let width = if count == 3 { 380.0 } else { 420.0 };
        super::button_row(ui, count, width, |ui| {
            let size = Vec2::new(width, super::button_height(ui));
            if ui
                .add_enabled(
                    camera_ready,
                    super::primary(ui, &view.text("capture-button")).min_size(size),
                )
                .clicked()
            {
                action = Some(Action::TakePicture);
            }
            if file_allowed
                && ui
                    .add(super::secondary(&view.text("capture-load-file")).min_size(size))
                    .clicked()
            {
                action = Some(Action::LoadFromFile);
            }
            if ui
                .add(super::secondary(&view.text("start-over")).min_size(size))
                .clicked()
            {
                action = Some(Action::Flow(Event::StartOver));
            }
        });
    });
    action
}

/// The capture screen's general hint (also what the voice says there).
pub fn hint_id(target: CaptureTarget) -> &'static str {
    match target {
        CaptureTarget::Selfie => "capture-face-hint",
        CaptureTarget::Front | CaptureTarget::Back => "capture-card-hint",
    }
}

/// The still's question (also what the voice says there): a face is not "readable".
pub fn still_question_id(target: CaptureTarget) -> &'static str {
    match target {
        CaptureTarget::Selfie => "capture-check-still-selfie",
        CaptureTarget::Front | CaptureTarget::Back => "capture-check-still",
    }
}

/// One line under the title: the one thing to do now (from the frame analysis), the
/// countdown, or the screen's general hint.
fn guide_line_ui(ui: &mut egui::Ui, view: &View, target: CaptureTarget) {
    let hint = hint_id(target);
    let palette = look::palette(ui.ctx());
    let (text, colour) = match view.guide {
        Some(guide) if guide.face_guidance_off && target == CaptureTarget::Selfie => {
            (view.text("guide-face-off"), palette.caution)
        }
        Some(CaptureGuide {
            countdown: Some(left),
            ..
        }) => {
            let seconds = left.as_secs_f32().ceil().max(1.0) as u32;
            (
                text_with(
                    view.lang,
                    "guide-countdown",
                    &[("seconds", seconds.to_string())],
                ),
                palette.good,
            )
        }
        Some(CaptureGuide {
            instruction: Some(instruction),
            ..
        }) => (view.text(instruction.message_id()), palette.caution),
        Some(CaptureGuide {
            checked: true,
            instruction: None,
            ..
        }) => (view.text("guide-ready"), palette.good),
        _ => (view.text(hint), ui.visuals().text_color()),
    };
    ui.label(Type::Emphasis.text(text).color(colour).strong());
}

/// Says the camera is missing; true when "Try again" was pressed.
pub fn camera_unavailable_ui(ui: &mut egui::Ui, view: &View, height: f32) -> bool {
    ui.allocate_ui(Vec2::new(ui.available_width(), height), |ui| {
        ui.vertical_centered(|ui| {
            ui.add_space(height * 0.2);
            ui.label(
                Type::Title
                    .text(view.text("camera-unavailable-title"))
                    .family(super::bold_family()),
            );
            ui.add(egui::Label::new(Type::Body.text(view.text("camera-unavailable-body"))).wrap());
            if let CameraStatus::Unavailable(error) = view.camera_status {
                ui.label(RichText::new(error.to_string()).small().weak());
            }
            ui.add_space(12.0);
            ui.add(
                super::secondary(&view.text("camera-retry"))
                    .min_size(Vec2::new(320.0, super::button_height(ui))),
            )
            .clicked()
        })
        .inner
    })
    .inner
}

/// The picture, scaled to fit `height`, with the card outline or face oval over it (green
/// when every gate holds), what the analysis found, and the countdown.
pub fn preview_ui(
    ui: &mut egui::Ui,
    texture: &TextureHandle,
    height: f32,
    outline: Option<CaptureTarget>,
    guide: Option<&CaptureGuide>,
) {
    let size = texture.size_vec2();
    let scale = (height / size.y).min(ui.available_width() / size.x);
    let response = ui.add(egui::Image::new((texture.id(), size * scale)));
    let rect = response.rect;
    let Some(target) = outline else { return };
    let to_screen_point = |point: Pos2| rect.min + point.to_vec2() * scale;
    let to_screen = |frame_rect: Rect| {
        Rect::from_min_max(
            to_screen_point(frame_rect.min),
            to_screen_point(frame_rect.max),
        )
    };
    let all_good = guide.is_some_and(|guide| guide.checked && guide.instruction.is_none());
    let colour = if all_good {
        Color32::from_rgb(40, 200, 90)
    } else {
        Color32::WHITE
    };
    let stroke = Stroke::new(5.0, colour);
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
    let found = Stroke::new(3.0, Color32::from_rgb(250, 200, 40));
    if let Some(corners) = guide.and_then(|guide| guide.card) {
        let mut points: Vec<Pos2> = corners
            .iter()
            .map(|corner| to_screen_point(*corner))
            .collect();
        points.push(points[0]);
        painter.add(Shape::line(points, found));
    }
    for face in guide.iter().flat_map(|guide| &guide.faces) {
        painter.rect_stroke(to_screen(*face), 6.0, found, egui::StrokeKind::Middle);
    }
    if let Some(left) = guide.and_then(|guide| guide.countdown) {
        // In the corner, not over the card's text or the face.
        let seconds = left.as_secs_f32().ceil().max(1.0) as u32;
        let centre = rect.right_top() + Vec2::new(-80.0, 80.0);
        painter.circle_filled(centre, 60.0, Color32::from_black_alpha(150));
        painter.text(
            centre,
            egui::Align2::CENTER_CENTER,
            seconds.to_string(),
            egui::FontId::new(80.0, super::bold_family()),
            Color32::WHITE,
        );
    }
}

/// The still, with Use / Retake.
pub fn still_ui(ui: &mut egui::Ui, view: &View, target: CaptureTarget) -> Option<Action> {
    let mut action = None;
    ui.vertical_centered(|ui| {
        title(ui, &view.text(title_id(target)));
        ui.label(Type::Body.text(view.text(still_question_id(target))));
        let height = (ui.available_height() - super::button_height(ui) - 50.0).max(200.0);
        if let Some(texture) = view.pending {
            preview_ui(ui, texture, height, None, None);
        }
        // Use and Retake, whatever the target (the row was once sized for one button on
        // the selfie's still, and Retake ran off the screen's edge).
        super::button_row(ui, 2, 420.0, |ui| {
            let size = Vec2::new(420.0, super::button_height(ui));
            if ui
                .add(super::primary(ui, &view.text("capture-use")).min_size(size))
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
