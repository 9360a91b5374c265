//! The capture gates: every threshold (from a strictness preset, each one overridable in
//! the config), the checks of one frame against them, and the one instruction the customer
//! sees when a check fails.

use image::RgbImage;
use serde::{Deserialize, Serialize};

use ekyc_face::Face;
use ekyc_imaging::card::{find_card, Quad, SideSignature, CARD_ASPECT};
use ekyc_imaging::metrics::{measure, Luma, Metrics, Region};

/// How demanding the gates are, as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// Fewer retakes at the back end, more patience at the kiosk.
    Strict,
    /// The vendor's published bar.
    #[default]
    Normal,
    /// For poor cameras or light: accepts more, the back end may refuse more.
    Relaxed,
}

/// Thresholds for card frames.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CardThresholds {
    /// Variance of the Laplacian inside the card, at least.
    pub min_sharpness: f32,
    /// Mean grey level inside the card, in percent of white.
    pub min_brightness: f32,
    pub max_brightness: f32,
    /// Share of saturated pixels inside the card, at most.
    pub max_glare: f32,
    /// Standard deviation of grey levels inside the card, at least.
    pub min_contrast: f32,
    /// The card's width in camera pixels, at least (what the back end gets to read).
    pub min_card_pixels: f32,
    /// The card's width over the on-screen outline's width: too far below is "move
    /// closer", above the maximum is "move back".
    pub min_fill: f32,
    pub max_fill: f32,
    /// How far a corner may move between two frames, as a share of the card's width.
    pub max_movement: f32,
    /// On the back's screen, a card this alike (correlation of small grey crops, −1…1)
    /// to the captured front is the front again.
    pub max_side_similarity: f32,
}

/// Thresholds for selfie frames.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SelfieThresholds {
    /// The face box's height over the frame's height, at least.
    pub min_face_height: f32,
    /// How far the face's centre may be from the frame's, as a share of the frame.
    pub max_off_centre: f32,
    /// Mean grey level of the face, in percent of white.
    pub min_brightness: f32,
    pub max_brightness: f32,
    /// How far the face may move between two frames, as a share of its height.
    pub max_movement: f32,
}

/// Every threshold of the capture screens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// The camera's picture, at least (the vendor's minimum image size).
    pub min_frame_width: u32,
    pub min_frame_height: u32,
    pub card: CardThresholds,
    pub selfie: SelfieThresholds,
}

impl Thresholds {
    pub fn preset(preset: Preset) -> Self {
        let normal = Self {
            min_frame_width: 640,
            min_frame_height: 480,
            card: CardThresholds {
                min_sharpness: 120.0,
                min_brightness: 42.0,
                max_brightness: 93.0,
                max_glare: 0.02,
                min_contrast: 20.0,
                min_card_pixels: 640.0,
                min_fill: 0.70,
                max_fill: 1.06,
                max_movement: 0.02,
                max_side_similarity: 0.8,
            },
            selfie: SelfieThresholds {
                min_face_height: 0.40,
                max_off_centre: 0.15,
                min_brightness: 42.0,
                max_brightness: 93.0,
                max_movement: 0.05,
            },
        };
        match preset {
            Preset::Normal => normal,
            Preset::Strict => Self {
                card: CardThresholds {
                    min_sharpness: 200.0,
                    min_brightness: 45.0,
                    max_brightness: 90.0,
                    max_glare: 0.01,
                    min_contrast: 25.0,
                    min_card_pixels: 800.0,
                    min_fill: 0.80,
                    max_movement: 0.01,
                    ..normal.card
                },
                selfie: SelfieThresholds {
                    min_face_height: 0.45,
                    max_off_centre: 0.10,
                    min_brightness: 45.0,
                    max_brightness: 90.0,
                    max_movement: 0.03,
                },
                ..normal
            },
            Preset::Relaxed => Self {
                card: CardThresholds {
                    min_sharpness: 60.0,
                    min_brightness: 35.0,
                    max_brightness: 95.0,
                    max_glare: 0.05,
                    min_contrast: 15.0,
                    min_card_pixels: 480.0,
                    min_fill: 0.55,
                    max_fill: 1.10,
                    max_movement: 0.04,
                    max_side_similarity: 0.9,
                },
                selfie: SelfieThresholds {
                    max_off_centre: 0.20,
                    min_brightness: 35.0,
                    max_brightness: 95.0,
                    max_movement: 0.08,
                    ..normal.selfie
                },
                ..normal
            },
        }
    }
}

impl Thresholds {
    /// A threshold that makes no sense (a share above 1, a minimum above its maximum),
    /// named, for the config's error message.
    pub fn validate(&self) -> Result<(), String> {
        let (card, selfie) = (&self.card, &self.selfie);
        let percent = |name: &str, value: f32| {
            if (0.0..=100.0).contains(&value) {
                Ok(())
            } else {
                Err(format!("{name} is a percentage, 0 to 100 (got {value})"))
            }
        };
        let share = |name: &str, value: f32, most: f32| {
            if (0.0..=most).contains(&value) {
                Ok(())
            } else {
                Err(format!("{name} must be between 0 and {most} (got {value})"))
            }
        };
        percent("card.min_brightness", card.min_brightness)?;
        percent("card.max_brightness", card.max_brightness)?;
        percent("selfie.min_brightness", selfie.min_brightness)?;
        percent("selfie.max_brightness", selfie.max_brightness)?;
        share("card.max_glare", card.max_glare, 1.0)?;
        share("card.min_fill", card.min_fill, 2.0)?;
        share("card.max_fill", card.max_fill, 2.0)?;
        share("card.max_movement", card.max_movement, 1.0)?;
        if !(-1.0..=1.0).contains(&card.max_side_similarity) {
            return Err("card.max_side_similarity is a correlation, -1 to 1".into());
        }
        share("selfie.min_face_height", selfie.min_face_height, 1.0)?;
        share("selfie.max_off_centre", selfie.max_off_centre, 0.5)?;
        share("selfie.max_movement", selfie.max_movement, 1.0)?;
        if card.min_sharpness < 0.0 || card.min_contrast < 0.0 || card.min_card_pixels < 0.0 {
            return Err("card thresholds must not be negative".into());
        }
        if card.min_brightness > card.max_brightness
            || selfie.min_brightness > selfie.max_brightness
        {
            return Err("min_brightness must not be above max_brightness".into());
        }
        if card.min_fill > card.max_fill {
            return Err("card.min_fill must not be above card.max_fill".into());
        }
        Ok(())
    }
}

/// One check of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gate {
    /// The camera's picture is at least the minimum size.
    Resolution,
    /// A card-shaped outline is in the picture.
    CardFound,
    /// No part of the card is outside the picture.
    CardWhole,
    /// The card lies within the on-screen outline.
    CardInOutline,
    /// The card is not too small (far) or too large (near) for the outline, and has
    /// enough pixels.
    CardSize,
    /// Mean brightness in range (the card, or the face).
    Brightness,
    /// Few enough saturated pixels on the card.
    Glare,
    /// Enough contrast on the card.
    Contrast,
    /// Sharp enough (variance of the Laplacian).
    Sharpness,
    /// The card or face hardly moved since the previous frame.
    Steady,
    /// On the back's screen: the card shown is not the front again.
    OtherSide,
    /// At least one face.
    FaceFound,
    /// Not more than one face.
    OneFace,
    /// The face fills enough of the picture's height.
    FaceSize,
    /// The face is near the middle.
    FaceCentred,
    /// Both eyes and the space around them are inside the picture.
    EyesVisible,
}

/// What the customer is asked to do: one at a time, the first failing gate's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Instruction {
    /// The camera gives pictures below the minimum size: staff must fix the setup.
    CameraTooCoarse,
    /// No card seen: hold it up inside the outline.
    ShowCard,
    /// Part of the card is outside the picture.
    WholeCardInFrame,
    /// The card is off the outline: move it into it.
    CardIntoOutline,
    /// The card is too small: bring it closer.
    MoveCloser,
    /// The card overflows the outline: hold it a little farther.
    MoveBack,
    /// The front is shown again on the back's screen.
    TurnCardOver,
    /// Too dark.
    MoreLight,
    /// Too bright.
    LessLight,
    /// A reflection on the card.
    TiltForGlare,
    /// Moving or blurred.
    HoldStill,
    /// No face seen.
    LookAtCamera,
    /// More than one face.
    OnlyOnePerson,
    /// The face is cut by the picture's edge.
    ShowWholeFace,
    /// The face is too small.
    FaceCloser,
    /// The face is off to one side.
    CentreFace,
}

impl Instruction {
    /// The message id in `assets/locales/*/capture.ftl`.
    pub fn message_id(self) -> &'static str {
        match self {
            Self::CameraTooCoarse => "guide-camera-too-coarse",
            Self::ShowCard => "guide-show-card",
            Self::WholeCardInFrame => "guide-whole-card",
            Self::CardIntoOutline => "guide-card-into-outline",
            Self::MoveCloser => "guide-move-closer",
            Self::MoveBack => "guide-move-back",
            Self::TurnCardOver => "guide-turn-over",
            Self::MoreLight => "guide-more-light",
            Self::LessLight => "guide-less-light",
            Self::TiltForGlare => "guide-tilt-glare",
            Self::HoldStill => "guide-hold-still",
            Self::LookAtCamera => "guide-look-at-camera",
            Self::OnlyOnePerson => "guide-only-one-person",
            Self::ShowWholeFace => "guide-show-whole-face",
            Self::FaceCloser => "guide-face-closer",
            Self::CentreFace => "guide-centre-face",
        }
    }
}

/// Every gate's verdict on one frame, in the order they are told, and what was found.
#[derive(Debug, Clone, Default)]
pub struct FrameCheck {
    /// (gate, passed), in priority order; a gate that could not be judged (no card, so no
    /// glare to measure) is absent.
    pub gates: Vec<(Gate, bool)>,
    /// The first failing gate's instruction; `None` when every gate passed.
    pub instruction: Option<Instruction>,
    /// The card, when one was found.
    pub card: Option<Quad>,
    /// The faces found; `None` when faces are not looked for (no model).
    pub faces: Option<Vec<Face>>,
    /// Measured where it matters: inside the card (or the outline), or the face.
    pub metrics: Metrics,
}

impl FrameCheck {
    /// Whether every gate passed.
    pub fn passed(&self) -> bool {
        self.instruction.is_none() && !self.gates.is_empty()
    }

    /// The verdict of one gate, if it was judged.
    pub fn gate(&self, gate: Gate) -> Option<bool> {
        self.gates
            .iter()
            .find(|(known, _)| *known == gate)
            .map(|(_, passed)| *passed)
    }

    fn judge(&mut self, gate: Gate, passed: bool, instruction: Instruction) {
        self.gates.push((gate, passed));
        if !passed && self.instruction.is_none() {
            self.instruction = Some(instruction);
        }
    }
}

/// Where the on-screen card outline sits in a frame of `width` × `height`: 86 % of the
/// height (or 94 % of the width, whichever binds), centred. Left, top, width, height.
pub fn card_outline(width: f32, height: f32) -> (f32, f32, f32, f32) {
    let outline_height = (height * 0.86).min(width * 0.94 / CARD_ASPECT);
    let outline_width = outline_height * CARD_ASPECT;
    (
        (width - outline_width) / 2.0,
        (height - outline_height) / 2.0,
        outline_width,
        outline_height,
    )
}

/// Checks a card frame. `previous` is the card found in the frame before (for "hold
/// still").
pub fn check_card(
    frame: &RgbImage,
    previous: Option<&Quad>,
    thresholds: &Thresholds,
) -> FrameCheck {
    let luma = Luma::from_rgb(frame);
    let card = find_card(&luma);
    check_card_found(&luma, card, previous, thresholds)
}

/// [`check_card`] with the grey picture and the card search already done.
pub fn check_card_found(
    luma: &Luma,
    card: Option<Quad>,
    previous: Option<&Quad>,
    thresholds: &Thresholds,
) -> FrameCheck {
    let limits = &thresholds.card;
    let mut check = FrameCheck {
        card,
        ..FrameCheck::default()
    };
    let (width, height) = (luma.width as f32, luma.height as f32);
    check.judge(
        Gate::Resolution,
        luma.width as u32 >= thresholds.min_frame_width
            && luma.height as u32 >= thresholds.min_frame_height,
        Instruction::CameraTooCoarse,
    );
    let (outline_left, outline_top, outline_width, outline_height) = card_outline(width, height);
    let whole_card = card.filter(|card| !card.cut_off);
    if whole_card.is_none() {
        // No whole card: perhaps because the light hides its edges. Then the light is
        // what to fix first, judged inside the outline; only when far too dark, as a desk
        // or a hand without the card is darker than a card.
        let metrics = measure(
            luma,
            Region::from_box(
                outline_left,
                outline_top,
                outline_width,
                outline_height,
                luma,
            ),
        );
        check.metrics = metrics;
        judge_brightness(
            &mut check,
            &metrics,
            limits.min_brightness / 2.0,
            limits.max_brightness,
        );
    }
    let Some(card) = card else {
        check.judge(Gate::CardFound, false, Instruction::ShowCard);
        return check;
    };
    check.judge(Gate::CardFound, true, Instruction::ShowCard);
    check.judge(
        Gate::CardWhole,
        !card.cut_off,
        Instruction::WholeCardInFrame,
    );
    // Inside the outline, with a margin of a tenth of it: a card need not be exact.
    let (left, top, right, bottom) = card.bounds();
    let (margin_x, margin_y) = (outline_width * 0.1, outline_height * 0.1);
    let in_outline = left >= outline_left - margin_x
        && top >= outline_top - margin_y
        && right <= outline_left + outline_width + margin_x
        && bottom <= outline_top + outline_height + margin_y;
    check.judge(
        Gate::CardInOutline,
        in_outline,
        Instruction::CardIntoOutline,
    );
    let fill = card.long_side() / outline_width;
    let size_instruction = if fill > limits.max_fill {
        Instruction::MoveBack
    } else {
        Instruction::MoveCloser
    };
    check.judge(
        Gate::CardSize,
        (limits.min_fill..=limits.max_fill).contains(&fill)
            && card.long_side() >= limits.min_card_pixels,
        size_instruction,
    );
    // Inside the card, away from its edges (and from the background at the corners).
    let (inset_x, inset_y) = ((right - left) * 0.08, (bottom - top) * 0.08);
    let region = Region::from_edges(
        left + inset_x,
        top + inset_y,
        right - inset_x,
        bottom - inset_y,
        luma.width,
        luma.height,
    );
    let metrics = measure(luma, region);
    if whole_card.is_some() {
        check.metrics = metrics;
        judge_brightness(
            &mut check,
            &metrics,
            limits.min_brightness,
            limits.max_brightness,
        );
    }
    check.judge(
        Gate::Glare,
        metrics.glare <= limits.max_glare,
        Instruction::TiltForGlare,
    );
    check.judge(
        Gate::Contrast,
        metrics.contrast >= limits.min_contrast,
        Instruction::MoreLight,
    );
    let steady = previous.is_none_or(|earlier| card.movement_since(earlier) <= limits.max_movement);
    check.judge(Gate::Steady, steady, Instruction::HoldStill);
    check.judge(
        Gate::Sharpness,
        metrics.sharpness >= limits.min_sharpness,
        Instruction::HoldStill,
    );
    check
}

/// On the back's screen: is the card shown the side captured before (`earlier_side`)? Told
/// before any other card instruction but the camera's, finding the card, and its being
/// whole: the light of the wrong side does not matter.
pub fn check_other_side(
    check: &mut FrameCheck,
    frame: &RgbImage,
    earlier_side: &SideSignature,
    thresholds: &Thresholds,
) {
    let Some(card) = check.card.filter(|card| !card.cut_off) else {
        return;
    };
    let similarity = SideSignature::of_card(frame, &card).similarity(earlier_side);
    let other_side = similarity <= thresholds.card.max_side_similarity;
    check.gates.push((Gate::OtherSide, other_side));
    let before_it = matches!(
        check.instruction,
        Some(Instruction::CameraTooCoarse | Instruction::ShowCard | Instruction::WholeCardInFrame)
    );
    if !other_side && !before_it {
        check.instruction = Some(Instruction::TurnCardOver);
    }
}

fn judge_brightness(check: &mut FrameCheck, metrics: &Metrics, min: f32, max: f32) {
    let instruction = if metrics.brightness < min {
        Instruction::MoreLight
    } else {
        Instruction::LessLight
    };
    check.judge(
        Gate::Brightness,
        (min..=max).contains(&metrics.brightness),
        instruction,
    );
}

/// Checks a selfie frame against the faces found in it (`None`: no face detector, so only
/// the size of the picture is checked). `previous` is the face of the frame before.
pub fn check_selfie(
    frame: &RgbImage,
    faces: Option<Vec<Face>>,
    previous: Option<&Face>,
    thresholds: &Thresholds,
) -> FrameCheck {
    let limits = &thresholds.selfie;
    let mut check = FrameCheck::default();
    check.judge(
        Gate::Resolution,
        frame.width() >= thresholds.min_frame_width
            && frame.height() >= thresholds.min_frame_height,
        Instruction::CameraTooCoarse,
    );
    let Some(faces) = faces else {
        return check;
    };
    let (width, height) = (frame.width() as f32, frame.height() as f32);
    check.judge(
        Gate::FaceFound,
        !faces.is_empty(),
        Instruction::LookAtCamera,
    );
    check.judge(Gate::OneFace, faces.len() <= 1, Instruction::OnlyOnePerson);
    let face = match faces.as_slice() {
        [face] => face.clone(),
        _ => {
            check.faces = Some(faces);
            return check;
        }
    };
    // The eyes and a margin of a third of the face's width around them.
    let (right_eye, left_eye) = (face.right_eye(), face.left_eye());
    let margin = face.width / 3.0;
    let eyes_inside = right_eye.x.min(left_eye.x) - margin >= 0.0
        && right_eye.x.max(left_eye.x) + margin <= width
        && right_eye.y.min(left_eye.y) - margin >= 0.0
        && right_eye.y.max(left_eye.y) + margin <= height;
    check.judge(Gate::EyesVisible, eyes_inside, Instruction::ShowWholeFace);
    check.judge(
        Gate::FaceSize,
        face.height / height >= limits.min_face_height,
        Instruction::FaceCloser,
    );
    let centre = face.centre();
    let off_centre = ((centre.x - width / 2.0) / width)
        .abs()
        .max(((centre.y - height / 2.0) / height).abs());
    check.judge(
        Gate::FaceCentred,
        off_centre <= limits.max_off_centre,
        Instruction::CentreFace,
    );
    let luma = Luma::from_rgb(frame);
    let metrics = measure(
        &luma,
        Region::from_box(face.left, face.top, face.width, face.height, &luma),
    );
    check.metrics = metrics;
    judge_brightness(
        &mut check,
        &metrics,
        limits.min_brightness,
        limits.max_brightness,
    );
    let steady = previous.is_none_or(|earlier| {
        let (now, before) = (face.centre(), earlier.centre());
        let moved = ((now.x - before.x).powi(2) + (now.y - before.y).powi(2)).sqrt();
        moved / face.height.max(1.0) <= limits.max_movement
    });
    check.judge(Gate::Steady, steady, Instruction::HoldStill);
    check.faces = Some(vec![face]);
    check
}
