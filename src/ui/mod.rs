//! The kiosk's screens: drawing and input only, one file per screen. Each screen reads a
//! [`View`] and returns at most one [`Action`]; the app applies it at the end of the frame.

pub mod capture;
pub mod challenge;
pub mod consent;
pub mod document_choice;
pub mod guidance;
pub mod identify;
pub mod idle;
pub mod result;
pub mod review;
pub mod submitting;
pub mod text;
pub mod welcome;

use std::collections::HashMap;

use egui::{
    Color32, FontData, FontDefinitions, FontFamily, FontId, RichText, TextStyle, TextureHandle,
    Vec2,
};

use crate::camera::CameraStatus;
use crate::contract::Lang;
use crate::flow::{CaptureTarget, Event, Flow};
pub use text::{text, text_with};

/// What a screen asks for. At most one per frame, so its size (a capture travels inside
/// `Flow`) costs nothing worth boxing for.
#[must_use]
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Action {
    /// An event for the wizard.
    Flow(Event),
    /// Take the newest camera frame as the still.
    TakePicture,
    /// Open the file dialog ("Load from file").
    LoadFromFile,
    /// Try to reopen the camera now.
    RetryCamera,
    /// A key of the identify screen's keypad.
    Keypad(identify::Key),
    /// Leave the kiosk (staff mode only).
    Quit,
}

/// What the screens are drawn from.
pub struct View<'a> {
    pub flow: &'a Flow,
    pub lang: Lang,
    pub camera_status: &'a CameraStatus,
    /// The newest camera frame, uploaded.
    pub camera_texture: Option<&'a TextureHandle>,
    /// Confirmed captures.
    pub thumbnails: &'a HashMap<CaptureTarget, TextureHandle>,
    /// The still waiting for Use / Retake.
    pub pending: Option<&'a TextureHandle>,
    /// OCR scores below this (percent) are flagged.
    pub score_threshold: f32,
    /// Face-match similarity threshold (percent), shown beside the similarity.
    pub face_match_threshold: f32,
    /// A short message for the customer (a file that is not an image, …).
    pub notice: Option<&'a str>,
    /// What the frame analysis says about the preview (capture screens).
    pub guide: Option<&'a capture::CaptureGuide>,
    /// The challenge's dot (shares of the screen); `None` while its frames are checked.
    pub challenge_dot: Option<[f32; 2]>,
    /// Staff mode: "Load from file" is offered for the selfie too.
    pub staff_mode: bool,
    /// The identify screen's number, as typed.
    pub keypad: &'a str,
}

impl View<'_> {
    pub fn text(&self, id: &str) -> String {
        text(self.lang, id)
    }
}

/// The bundled font (DejaVu Sans, from Debian's fonts-dejavu-core; see
/// `assets/fonts/README.md`): it has every Vietnamese letter.
const FONT_REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const FONT_BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// The family used for headings and primary buttons.
pub fn bold_family() -> FontFamily {
    FontFamily::Name("bold".into())
}

/// Fonts and sizes for a touch screen: large type, controls at least 48 px high.
pub fn install_style(ctx: &egui::Context) {
    let mut fonts = FontDefinitions::default();
    fonts
        .font_data
        .insert("dejavu".into(), FontData::from_static(FONT_REGULAR).into());
    fonts.font_data.insert(
        "dejavu-bold".into(),
        FontData::from_static(FONT_BOLD).into(),
    );
    for family in [FontFamily::Proportional, FontFamily::Monospace] {
        fonts
            .families
            .entry(family)
            .or_default()
            .insert(0, "dejavu".into());
    }
    fonts
        .families
        .insert(bold_family(), vec!["dejavu-bold".into(), "dejavu".into()]);
    ctx.set_fonts(fonts);
    // A bank hall is bright; dark text on light backgrounds reads best there.
    ctx.set_theme(egui::Theme::Light);
    ctx.all_styles_mut(|style| {
        style.text_styles = [
            (TextStyle::Heading, FontId::new(40.0, bold_family())),
            (TextStyle::Body, FontId::new(24.0, FontFamily::Proportional)),
            (
                TextStyle::Button,
                FontId::new(26.0, FontFamily::Proportional),
            ),
            (
                TextStyle::Small,
                FontId::new(17.0, FontFamily::Proportional),
            ),
            (
                TextStyle::Monospace,
                FontId::new(22.0, FontFamily::Monospace),
            ),
        ]
        .into();
        style.spacing.button_padding = Vec2::new(24.0, 14.0);
        style.spacing.interact_size.y = 48.0;
        style.spacing.item_spacing = Vec2::new(16.0, 14.0);
    });
}

/// Height of every primary control: well above the 48 px touch minimum.
pub const BUTTON_HEIGHT: f32 = 72.0;

/// The main action's button, styled; `primary_button` places one.
pub fn primary(label: &str) -> egui::Button<'static> {
    let text = RichText::new(label)
        .size(30.0)
        .family(bold_family())
        .color(Color32::WHITE);
    egui::Button::new(text).fill(Color32::from_rgb(0, 104, 180))
}

/// Any other choice's button, styled.
pub fn secondary(label: &str) -> egui::Button<'static> {
    egui::Button::new(RichText::new(label).size(26.0))
}

/// A large button for the main action of a screen.
pub fn primary_button(ui: &mut egui::Ui, label: &str) -> egui::Response {
    ui.add_sized(
        [ui.available_width().min(520.0), BUTTON_HEIGHT],
        primary(label),
    )
}

/// A large button for the other choices.
pub fn secondary_button(ui: &mut egui::Ui, label: &str) -> egui::Response {
    ui.add_sized(
        [ui.available_width().min(520.0), BUTTON_HEIGHT],
        secondary(label),
    )
}

/// Buttons side by side, `count` of them `width` wide, centred in a centred layout.
pub fn button_row<R>(
    ui: &mut egui::Ui,
    count: usize,
    width: f32,
    add: impl FnOnce(&mut egui::Ui) -> R,
) -> R {
    let row = Vec2::new(
        count as f32 * width + (count.saturating_sub(1)) as f32 * ui.spacing().item_spacing.x,
        BUTTON_HEIGHT,
    );
    ui.allocate_ui_with_layout(row, egui::Layout::left_to_right(egui::Align::Center), add)
        .inner
}

/// A screen's title.
pub fn title(ui: &mut egui::Ui, label: &str) {
    ui.add_space(12.0);
    ui.label(RichText::new(label).heading());
    ui.add_space(8.0);
}

/// Body text that wraps, at a readable width.
pub fn paragraph(ui: &mut egui::Ui, label: &str) {
    ui.add(egui::Label::new(RichText::new(label).size(26.0)).wrap());
}
