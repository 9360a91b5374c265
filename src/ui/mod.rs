//! The kiosk's screens: drawing and input only, one file per screen. Each screen reads a
//! [`View`] and returns at most one [`Action`]; the app applies it at the end of the frame.

pub mod capture;
pub mod challenge;
pub mod chip;
pub mod consent;
pub mod dashboard;
pub mod document_choice;
pub mod guidance;
pub mod identify;
pub mod idle;
pub mod look;
pub mod result;
pub mod review;
pub mod spoken;
pub mod staff;
pub mod submitting;
pub mod text;
pub mod welcome;

use std::collections::HashMap;

use egui::{FontData, FontDefinitions, FontFamily, RichText, TextureHandle, Vec2};

use crate::camera::CameraStatus;
use crate::flow::{CaptureTarget, Event, Flow};
use ekyc_contract::Lang;
pub use look::Type;
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
    /// Text size and contrast for the current customer (A+, ◐ on the top bar).
    SetLook(look::Look),
    /// Open the staff PIN pad (a long press on the title).
    OpenPinPad,
    /// Close staff mode now.
    LeaveStaffMode,
    /// A key of the staff PIN pad.
    Pin(staff::PinKey),
    /// The decision being made changed (not yet confirmed).
    DecisionDraft(staff::DecisionDraft),
    /// The decision confirmed.
    Decide(crate::staff::Decision),
    /// *Save report…* (staff): the page to write, where staff choose.
    SaveReport(Box<crate::report::pdf::PageText>),
    /// Staff mode's dashboard: open or close it.
    Dashboard(bool),
    /// Staff mode's settings: open or close them.
    Settings(bool),
    /// A setting changed in staff mode.
    Setting(staff::StaffSetting),
    /// The chip screen: read the chip again.
    ChipRetry,
    /// The chip screen: the numbers staff are typing changed.
    ChipKeyDraft(chip::ChipKeyDraft),
    /// The chip screen: read with the numbers staff typed.
    ChipReadWithKey,
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
    /// The challenge waits for the back end's path: "get ready", not "checking".
    pub challenge_preparing: bool,
    /// Staff mode: "Load from file" is offered for the selfie too.
    pub staff_mode: bool,
    /// The identify screen's number, as typed.
    pub keypad: &'a str,
    /// The current customer's text size and contrast.
    pub look: look::Look,
    /// The review's decision (desk mode, or staff mode); `None`: Finish alone.
    pub decision: Option<staff::DecisionView<'a>>,
    /// The chip step, while its screen shows.
    pub chip: Option<chip::ChipView<'a>>,
    /// The chip's photo, uploaded (once the chip was read).
    pub chip_photo: Option<&'a TextureHandle>,
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

/// Fonts, sizes and colours for a touch screen: large type, controls at least 48 px
/// high, the light palette (A+ and high contrast change them: [`look::apply`]).
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
    look::apply(ctx, look::Look::default());
}

/// Height of every primary control: well above the 48 px touch minimum.
pub const BUTTON_HEIGHT: f32 = 72.0;

/// The main action's button, styled; `primary_button` places one.
pub fn primary(ui: &egui::Ui, label: &str) -> egui::Button<'static> {
    let palette = look::palette(ui.ctx());
    let text = Type::Emphasis
        .text(label)
        .family(bold_family())
        .color(palette.on_primary);
    egui::Button::new(text).fill(palette.primary)
}

/// Any other choice's button, styled.
pub fn secondary(label: &str) -> egui::Button<'static> {
    egui::Button::new(Type::Large.text(label))
}

/// Height of a primary control at the current text size (never under [`BUTTON_HEIGHT`]).
pub fn button_height(ui: &egui::Ui) -> f32 {
    BUTTON_HEIGHT * look::current(ui.ctx()).text_scale()
}

/// Width of a button column at the current text size.
fn button_width(ui: &egui::Ui) -> f32 {
    ui.available_width()
        .min(520.0 * look::current(ui.ctx()).text_scale())
}

/// A large button for the main action of a screen.
pub fn primary_button(ui: &mut egui::Ui, label: &str) -> egui::Response {
    let button = primary(ui, label);
    ui.add_sized([button_width(ui), button_height(ui)], button)
}

/// A large button for the other choices.
pub fn secondary_button(ui: &mut egui::Ui, label: &str) -> egui::Response {
    ui.add_sized([button_width(ui), button_height(ui)], secondary(label))
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
        button_height(ui),
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
    ui.add(egui::Label::new(Type::Large.text(label)).wrap());
}

/// Passes in a row a scroll area's content must overflow before it gets its cue.
const OVERFLOW_PASSES: u8 = 3;

/// A vertical scroll area at most `max_height` high and, while more of it lies below, a
/// "More below ▼" button under it that scrolls down a page (a customer who does not know
/// the area scrolls still sees that it does). The button's room is taken from the area,
/// never from what follows it, and it covers nothing. `id` names the area; a new one
/// starts at the top, without the button until its content is found too tall.
pub fn scroll_with_cue<R>(
    ui: &mut egui::Ui,
    view: &View,
    id: impl std::hash::Hash + std::fmt::Debug,
    max_height: f32,
    add: impl FnOnce(&mut egui::Ui) -> R,
) -> R {
    let id = ui.make_persistent_id(id);
    let (jump_key, overflow_key) = (id.with("jump"), id.with("overflow"));
    let (jump, overflowing_passes) = ui.ctx().data_mut(|data| {
        (
            data.remove_temp::<f32>(jump_key),
            data.get_temp::<u8>(overflow_key).unwrap_or(0),
        )
    });
    let overflowed = overflowing_passes >= OVERFLOW_PASSES;
    let scale = look::current(ui.ctx()).text_scale();
    let cue_height = 56.0 * scale;
    let room = if overflowed {
        max_height - cue_height - ui.spacing().item_spacing.y
    } else {
        max_height
    };
    let mut area = egui::ScrollArea::vertical()
        .id_salt(id)
        .auto_shrink([false, true])
        .max_height(room.max(cue_height));
    if let Some(offset) = jump {
        area = area.vertical_scroll_offset(offset);
    }
    let output = area.show(ui, add);
    let viewport = output.inner_rect;
    let offset = output.state.clamped_offset().y;
    // Once the content did not fit for a few passes in a row (a first pass lays out text
    // before widths are known, much taller), the cue stays for this area (a new screen is a
    // new area): content that sizes itself to the room would otherwise fit once the cue
    // takes its share, lose the cue, overflow again, and flicker. A few points of bottom
    // margin past the edge hide nothing worth a button.
    let tolerance = ui.spacing().item_spacing.y + 2.0;
    if !overflowed {
        let too_tall = output.content_size.y > viewport.height() + tolerance;
        let passes = if too_tall { overflowing_passes + 1 } else { 0 };
        if passes != overflowing_passes {
            ui.ctx()
                .data_mut(|data| data.insert_temp(overflow_key, passes));
            ui.ctx().request_repaint();
        }
    }
    if overflowed {
        let more = output.content_size.y - offset - viewport.height() > tolerance;
        let palette = look::palette(ui.ctx());
        let label = Type::Body
            .text(format!("{} ▼", view.text("more-below")))
            .color(palette.on_button);
        let button = egui::Button::new(label)
            .fill(palette.button)
            .stroke(egui::Stroke::new(2.0, palette.primary))
            .corner_radius(24.0)
            .min_size(Vec2::new(
                (viewport.width() * 0.5).min(360.0 * scale),
                cue_height,
            ));
        // Kept in place at the end (greyed), so the layout does not jump.
        let clicked = ui
            .vertical_centered(|ui| ui.add_enabled(more, button).clicked())
            .inner;
        if clicked {
            let page = viewport.height() * 0.8;
            ui.ctx()
                .data_mut(|data| data.insert_temp(jump_key, offset + page));
        }
    }
    output.inner
}

/// A button that shows a choice in force (the language, A+), its text in the colour that
/// reads on its fill.
pub fn toggle(ui: &egui::Ui, selected: bool, label: &str) -> egui::Button<'static> {
    let palette = look::palette(ui.ctx());
    let colour = if selected {
        palette.on_selected
    } else {
        palette.on_button
    };
    egui::Button::selectable(selected, Type::Body.text(label).color(colour))
}
