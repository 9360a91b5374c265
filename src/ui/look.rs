//! How the screens look for the current customer: larger text (A+) and high contrast,
//! both chosen on the top bar and reset at the wipe. Type sizes are named by use
//! ([`Type`]) so A+ scales them all at once; colours are named by use ([`Palette`]) in two
//! palettes whose text/background pairs all reach WCAG 2.2 AA (4.5:1, tested below).

use egui::{Color32, FontFamily, FontId, RichText, Stroke, TextStyle, Vec2};

/// The current customer's display choices.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Look {
    /// A+: every text 1.5× larger.
    pub large_text: bool,
    /// White and yellow on black, buttons outlined.
    pub high_contrast: bool,
}

impl Look {
    pub fn text_scale(self) -> f32 {
        if self.large_text {
            1.5
        } else {
            1.0
        }
    }

    pub fn palette(self) -> &'static Palette {
        if self.high_contrast {
            &HIGH_CONTRAST
        } else {
            &LIGHT
        }
    }
}

/// Type sizes by use, at 1× (A+ multiplies them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// Badges, the liveness evidence's two lines.
    Small,
    /// Secondary lines: a notice, a hint under a button, the top bar's name.
    Note,
    /// Running text.
    Body,
    /// Paragraphs a customer must read, result lines.
    Large,
    /// The one instruction that matters now, primary buttons, the verdict.
    Emphasis,
    /// A second-level title.
    Title,
    /// The welcome screen's name, the warning sign.
    Display,
}

impl Type {
    const ALL: [Type; 7] = [
        Type::Small,
        Type::Note,
        Type::Body,
        Type::Large,
        Type::Emphasis,
        Type::Title,
        Type::Display,
    ];

    fn name(self) -> &'static str {
        match self {
            Type::Small => "small",
            Type::Note => "note",
            Type::Body => "body",
            Type::Large => "large",
            Type::Emphasis => "emphasis",
            Type::Title => "title",
            Type::Display => "display",
        }
    }

    /// The size in points at 1×.
    pub fn points(self) -> f32 {
        match self {
            Type::Small => 18.0,
            Type::Note => 22.0,
            Type::Body => 24.0,
            Type::Large => 26.0,
            Type::Emphasis => 30.0,
            Type::Title => 34.0,
            Type::Display => 56.0,
        }
    }

    pub fn style(self) -> TextStyle {
        TextStyle::Name(self.name().into())
    }

    /// `text` at this size (scaled by A+ when it is on).
    pub fn text(self, text: impl Into<String>) -> RichText {
        RichText::new(text).text_style(self.style())
    }
}

/// Colours by use.
#[derive(Debug, Clone, PartialEq)]
pub struct Palette {
    /// Screens' background.
    pub background: Color32,
    /// Running text.
    pub text: Color32,
    /// Text that matters less (a step not reached yet, an error's technical detail).
    pub weak_text: Color32,
    /// The main action's button, and its text.
    pub primary: Color32,
    pub on_primary: Color32,
    /// Other buttons, and their text.
    pub button: Color32,
    pub on_button: Color32,
    /// A chosen toggle (the current language), and its text.
    pub selected: Color32,
    pub on_selected: Color32,
    /// Verdict colours for text on the background.
    pub good: Color32,
    pub bad: Color32,
    pub caution: Color32,
    /// Verdict banners and badges, with [`Palette::on_banner`] text.
    pub good_banner: Color32,
    pub bad_banner: Color32,
    pub caution_banner: Color32,
    pub info_banner: Color32,
    pub on_banner: Color32,
    /// The outline of buttons (none in the light theme).
    pub outline: Stroke,
}

impl Palette {
    /// Every text colour over the background it is drawn on, named, for the contrast test.
    pub fn text_pairs(&self) -> Vec<(&'static str, Color32, Color32)> {
        vec![
            ("text", self.text, self.background),
            ("weak text", self.weak_text, self.background),
            ("primary button", self.on_primary, self.primary),
            ("button", self.on_button, self.button),
            ("selected toggle", self.on_selected, self.selected),
            ("good", self.good, self.background),
            ("bad", self.bad, self.background),
            ("caution", self.caution, self.background),
            ("good banner", self.on_banner, self.good_banner),
            ("bad banner", self.on_banner, self.bad_banner),
            ("caution banner", self.on_banner, self.caution_banner),
            ("info banner", self.on_banner, self.info_banner),
        ]
    }
}

/// Dark text on light backgrounds: a bank hall is bright.
pub const LIGHT: Palette = Palette {
    background: Color32::from_rgb(248, 248, 248),
    text: Color32::from_rgb(20, 20, 20),
    weak_text: Color32::from_rgb(90, 90, 90),
    primary: Color32::from_rgb(0, 94, 165),
    on_primary: Color32::WHITE,
    button: Color32::from_rgb(226, 226, 226),
    on_button: Color32::from_rgb(20, 20, 20),
    selected: Color32::from_rgb(0, 94, 165),
    on_selected: Color32::WHITE,
    good: Color32::from_rgb(20, 120, 55),
    bad: Color32::from_rgb(180, 35, 25),
    caution: Color32::from_rgb(135, 85, 0),
    good_banner: Color32::from_rgb(20, 120, 55),
    bad_banner: Color32::from_rgb(180, 35, 25),
    caution_banner: Color32::from_rgb(135, 85, 0),
    info_banner: Color32::from_rgb(80, 80, 150),
    on_banner: Color32::WHITE,
    outline: Stroke::NONE,
};

/// White and yellow on black, every button outlined in white.
pub const HIGH_CONTRAST: Palette = Palette {
    background: Color32::BLACK,
    text: Color32::WHITE,
    weak_text: Color32::from_rgb(220, 220, 220),
    primary: Color32::from_rgb(255, 225, 0),
    on_primary: Color32::BLACK,
    button: Color32::BLACK,
    on_button: Color32::WHITE,
    selected: Color32::from_rgb(255, 225, 0),
    on_selected: Color32::BLACK,
    good: Color32::from_rgb(110, 240, 140),
    bad: Color32::from_rgb(255, 140, 140),
    caution: Color32::from_rgb(255, 225, 0),
    good_banner: Color32::from_rgb(110, 240, 140),
    bad_banner: Color32::from_rgb(255, 140, 140),
    caution_banner: Color32::from_rgb(255, 225, 0),
    info_banner: Color32::from_rgb(190, 200, 255),
    on_banner: Color32::BLACK,
    outline: Stroke {
        width: 3.0,
        color: Color32::WHITE,
    },
};

/// The palette in use (set by [`apply`]; the light one before).
pub fn palette(ctx: &egui::Context) -> &'static Palette {
    ctx.data(|data| data.get_temp::<Look>(egui::Id::unique(LOOK_KEY)))
        .unwrap_or_default()
        .palette()
}

/// The look in use.
pub fn current(ctx: &egui::Context) -> Look {
    ctx.data(|data| data.get_temp::<Look>(egui::Id::unique(LOOK_KEY)))
        .unwrap_or_default()
}

const LOOK_KEY: &str = "ekyc-look";

/// Type sizes, spacing and colours for `look`: called at start and when the customer
/// changes it.
pub fn apply(ctx: &egui::Context, look: Look) {
    ctx.data_mut(|data| data.insert_temp(egui::Id::unique(LOOK_KEY), look));
    let scale = look.text_scale();
    let palette = look.palette();
    ctx.set_theme(if look.high_contrast {
        egui::Theme::Dark
    } else {
        egui::Theme::Light
    });
    ctx.all_styles_mut(|style| {
        let mut styles: std::collections::BTreeMap<TextStyle, FontId> = [
            (TextStyle::Heading, FontId::new(40.0, super::bold_family())),
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
        for kind in Type::ALL {
            styles.insert(
                kind.style(),
                FontId::new(kind.points(), FontFamily::Proportional),
            );
        }
        for font in styles.values_mut() {
            font.size *= scale;
        }
        style.text_styles = styles;
        style.spacing.button_padding = Vec2::new(24.0, 14.0);
        style.spacing.interact_size.y = 48.0;
        style.spacing.item_spacing = Vec2::new(16.0, 14.0);
        let visuals = &mut style.visuals;
        visuals.panel_fill = palette.background;
        visuals.window_fill = palette.background;
        visuals.extreme_bg_color = palette.background;
        visuals.override_text_color = Some(palette.text);
        visuals.weak_text_color = Some(palette.weak_text);
        visuals.selection.bg_fill = palette.selected;
        visuals.selection.stroke = Stroke::new(2.0, palette.on_selected);
        visuals.hyperlink_color = palette.text;
        for widget in [
            &mut visuals.widgets.inactive,
            &mut visuals.widgets.hovered,
            &mut visuals.widgets.active,
        ] {
            widget.bg_fill = palette.button;
            widget.weak_bg_fill = palette.button;
            widget.fg_stroke.color = palette.on_button;
            if palette.outline != Stroke::NONE {
                widget.bg_stroke = palette.outline;
            }
        }
        visuals.widgets.noninteractive.fg_stroke.color = palette.text;
        visuals.widgets.noninteractive.bg_fill = palette.background;
    });
}

/// WCAG 2.2's contrast ratio of two opaque colours (1 to 21).
pub fn contrast_ratio(first: Color32, second: Color32) -> f32 {
    fn luminance(colour: Color32) -> f32 {
        let channel = |value: u8| {
            let value = f32::from(value) / 255.0;
            if value <= 0.04045 {
                value / 12.92
            } else {
                ((value + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(colour.r()) + 0.7152 * channel(colour.g()) + 0.0722 * channel(colour.b())
    }
    let (a, b) = (luminance(first), luminance(second));
    (a.max(b) + 0.05) / (a.min(b) + 0.05)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contrast_ratio_matches_wcag_reference_values() {
        // WCAG's own extremes, and #777 on white (4.48:1, the classic near miss).
        assert!((contrast_ratio(Color32::BLACK, Color32::WHITE) - 21.0).abs() < 0.01);
        assert!((contrast_ratio(Color32::WHITE, Color32::WHITE) - 1.0).abs() < 0.01);
        let grey = Color32::from_rgb(0x77, 0x77, 0x77);
        assert!((contrast_ratio(grey, Color32::WHITE) - 4.48).abs() < 0.01);
    }

    #[test]
    fn every_text_pair_reaches_aa_in_both_palettes() {
        for (theme, palette) in [("light", &LIGHT), ("high contrast", &HIGH_CONTRAST)] {
            for (name, text, background) in palette.text_pairs() {
                let ratio = contrast_ratio(text, background);
                assert!(
                    ratio >= 4.5,
                    "{theme}: {name} has {ratio:.2}:1, under WCAG AA's 4.5:1"
                );
            }
        }
    }

    #[test]
    fn the_applied_style_draws_text_in_the_palette() {
        let ctx = egui::Context::default();
        for look in [
            Look::default(),
            Look {
                high_contrast: true,
                large_text: true,
            },
        ] {
            apply(&ctx, look);
            let style = ctx.global_style();
            let palette = look.palette();
            assert_eq!(style.visuals.override_text_color, Some(palette.text));
            assert_eq!(style.visuals.panel_fill, palette.background);
            assert_eq!(style.visuals.widgets.inactive.bg_fill, palette.button);
            assert_eq!(
                style.visuals.widgets.inactive.fg_stroke.color,
                palette.on_button
            );
            let body = &style.text_styles[&Type::Body.style()];
            assert_eq!(body.size, 24.0 * look.text_scale());
            assert_eq!(palette, self::palette(&ctx));
        }
    }
}
