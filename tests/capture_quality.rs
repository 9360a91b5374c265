//! The capture gates on the generated, labelled test set (tests/common/frames.rs): each
//! condition must fail exactly the gate it spoils, and say the matching instruction.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at what it did not expect

mod common;

use common::frames::{back_frame, card_frame, desk, face_frame, CardCondition, FacePlacement};
use ekyc_face::FaceDetector;
use ekyc_imaging::card::{flatten_card, SideSignature, CARD_ASPECT};
use ekyc_kiosk::config::CaptureConfig;
use ekyc_kiosk::quality::{
    check_card, check_other_side, check_selfie, FrameCheck, Gate, Instruction, Preset, Thresholds,
};
use image::imageops;

fn normal() -> Thresholds {
    Thresholds::preset(Preset::Normal)
}

fn detector() -> FaceDetector {
    FaceDetector::load(None).expect("the face model is installed (./fetch-models)")
}

/// Every gate but `failing` passed (those judged), and the instruction is `instruction`.
fn assert_only(check: &FrameCheck, failing: Gate, instruction: Instruction) {
    assert_eq!(
        check.gate(failing),
        Some(false),
        "{failing:?} fails: {:?}",
        check.gates
    );
    for (gate, passed) in &check.gates {
        assert!(
            *gate == failing || *passed,
            "only {failing:?} fails: {:?}",
            check.gates
        );
    }
    assert_eq!(check.instruction, Some(instruction), "{:?}", check.gates);
}

fn assert_corners_near(check: &FrameCheck, truth: [(f32, f32); 4], tolerance: f32) {
    let card = check.card.expect("a card is found");
    for (found, (x, y)) in card.corners.iter().zip(truth) {
        let off = ((found.x - x).powi(2) + (found.y - y).powi(2)).sqrt();
        assert!(
            off <= tolerance,
            "corner {found:?} is {off:.1} px from ({x}, {y})"
        );
    }
}

#[test]
fn a_sharp_well_lit_card_passes_every_gate_and_is_found_where_it_is() {
    let frame = card_frame(CardCondition::Sharp);
    let check = check_card(&frame.image, None, &normal());
    assert!(check.passed(), "{:?}", check.gates);
    assert_eq!(
        check.gates.len(),
        10,
        "every card gate was judged: {:?}",
        check.gates
    );
    assert_corners_near(&check, frame.corners, 2.5);
}

#[test]
fn blur_lowers_sharpness_with_the_kernel_and_asks_to_hold_still() {
    let sharpness = |kernel| {
        let frame = card_frame(CardCondition::Blurred(kernel));
        check_card(&frame.image, None, &normal())
    };
    let slight = sharpness(3);
    assert!(
        slight.passed(),
        "a 3-pixel blur is still readable: {:?}",
        slight.metrics
    );
    let mut previous = slight.metrics.sharpness;
    for kernel in [5, 9, 15] {
        let check = sharpness(kernel);
        assert_only(&check, Gate::Sharpness, Instruction::HoldStill);
        assert!(
            check.metrics.sharpness < previous,
            "kernel {kernel}: {:?}",
            check.metrics
        );
        previous = check.metrics.sharpness;
    }
}

#[test]
fn a_dark_card_asks_for_more_light_and_an_over_exposed_one_for_less() {
    let dark = check_card(&card_frame(CardCondition::Dark(0.3)).image, None, &normal());
    assert_eq!(dark.gate(Gate::Brightness), Some(false));
    assert_eq!(
        dark.instruction,
        Some(Instruction::MoreLight),
        "{:?}",
        dark.gates
    );
    let bright = check_card(
        &card_frame(CardCondition::OverExposed).image,
        None,
        &normal(),
    );
    assert_eq!(bright.gate(Gate::Brightness), Some(false));
    assert_eq!(
        bright.instruction,
        Some(Instruction::LessLight),
        "{:?}",
        bright.gates
    );
}

#[test]
fn a_glare_spot_asks_to_tilt_the_card() {
    let check = check_card(
        &card_frame(CardCondition::Glare(0.05)).image,
        None,
        &normal(),
    );
    assert_only(&check, Gate::Glare, Instruction::TiltForGlare);
}

#[test]
fn a_card_partly_outside_the_frame_asks_for_the_whole_card() {
    let check = check_card(
        &card_frame(CardCondition::PartlyOutside(0.4)).image,
        None,
        &normal(),
    );
    assert_eq!(check.gate(Gate::CardFound), Some(true));
    assert_eq!(check.gate(Gate::CardWhole), Some(false));
    assert_eq!(check.instruction, Some(Instruction::WholeCardInFrame));
}

#[test]
fn no_card_asks_to_show_one() {
    let check = check_card(&desk(), None, &normal());
    assert_eq!(check.gate(Gate::CardFound), Some(false));
    assert_eq!(check.instruction, Some(Instruction::ShowCard));
}

#[test]
fn a_far_card_asks_to_come_closer_and_a_near_one_to_move_back() {
    let far = check_card(
        &card_frame(CardCondition::Width(0.4)).image,
        None,
        &normal(),
    );
    assert_only(&far, Gate::CardSize, Instruction::MoveCloser);
    let near = check_card(
        &card_frame(CardCondition::Width(0.85)).image,
        None,
        &normal(),
    );
    assert_eq!(near.gate(Gate::CardSize), Some(false), "{:?}", near.gates);
    assert_eq!(near.instruction, Some(Instruction::MoveBack));
}

#[test]
fn a_moving_card_asks_to_hold_still() {
    let frame = card_frame(CardCondition::Sharp);
    let first = check_card(&frame.image, None, &normal());
    let mut moved = first.card.expect("a card");
    for corner in &mut moved.corners {
        corner.x -= 40.0;
    }
    let check = check_card(&frame.image, Some(&moved), &normal());
    assert_only(&check, Gate::Steady, Instruction::HoldStill);
    let same = check_card(&frame.image, first.card.as_ref(), &normal());
    assert!(same.passed());
}

#[test]
fn a_turned_card_is_found_and_flattened_upright_in_the_id1_proportion() {
    for degrees in [-12.0, 8.0, 15.0] {
        let frame = card_frame(CardCondition::Rotated(degrees));
        let check = check_card(&frame.image, None, &normal());
        assert!(check.passed(), "{degrees}°: {:?}", check.gates);
        assert_corners_near(&check, frame.corners, 2.5);
        let flat = flatten_card(&frame.image, &check.card.expect("a card"));
        let aspect = flat.width() as f32 / flat.height() as f32;
        assert!((aspect - CARD_ASPECT).abs() < 0.01, "{aspect}");
        // The flat crop is the card itself, upright: much closer to the rendered card
        // than to the same card upside down.
        let card = common::card::render_front(&common::card::Person::demo());
        let card = imageops::resize(
            &card,
            flat.width(),
            flat.height(),
            imageops::FilterType::Triangle,
        );
        let upright = mean_difference(&flat, &card);
        let upside_down = mean_difference(&flat, &imageops::rotate180(&card));
        assert!(
            upright < 15.0 && upright < upside_down / 2.0,
            "{degrees}°: {upright:.1} grey levels from the card, {upside_down:.1} from it upside down"
        );
    }
}

fn mean_difference(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
    a.pixels()
        .zip(b.pixels())
        .map(|(a, b)| f64::from((i16::from(a.0[1]) - i16::from(b.0[1])).unsigned_abs()))
        .sum::<f64>()
        / f64::from(a.width() * a.height())
}

#[test]
fn the_front_shown_again_on_the_backs_screen_asks_to_turn_the_card_over() {
    // The front as captured: flattened from a straight frame.
    let front = card_frame(CardCondition::Sharp);
    let captured = flatten_card(
        &front.image,
        &check_card(&front.image, None, &normal()).card.unwrap(),
    );
    let earlier = SideSignature::of_flat(&captured);
    // The same front again, turned a little and dimmer: still the front.
    for again in [
        card_frame(CardCondition::Rotated(8.0)),
        card_frame(CardCondition::Dark(0.6)),
    ] {
        let mut check = check_card(&again.image, None, &normal());
        check_other_side(&mut check, &again.image, &earlier, &normal());
        assert_eq!(
            check.gate(Gate::OtherSide),
            Some(false),
            "{:?}",
            check.gates
        );
        assert_eq!(check.instruction, Some(Instruction::TurnCardOver));
    }
    let back = back_frame(CardCondition::Sharp);
    let mut check = check_card(&back.image, None, &normal());
    check_other_side(&mut check, &back.image, &earlier, &normal());
    assert_eq!(check.gate(Gate::OtherSide), Some(true), "{:?}", check.gates);
    assert!(check.passed(), "{:?}", check.gates);
}

#[test]
fn a_small_camera_picture_is_for_staff() {
    let frame = card_frame(CardCondition::Sharp);
    let small = imageops::resize(&frame.image, 560, 315, imageops::FilterType::Triangle);
    let check = check_card(&small, None, &normal());
    assert_eq!(check.gate(Gate::Resolution), Some(false));
    assert_eq!(check.instruction, Some(Instruction::CameraTooCoarse));
}

#[test]
fn presets_and_config_overrides_move_the_thresholds() {
    // Two thirds of the outline's width: too far for normal and strict, fine for relaxed.
    let frame = card_frame(CardCondition::Width(0.5));
    let verdict = |thresholds: &Thresholds| check_card(&frame.image, None, thresholds).passed();
    assert!(!verdict(&Thresholds::preset(Preset::Strict)));
    assert!(!verdict(&normal()));
    assert!(verdict(&Thresholds::preset(Preset::Relaxed)));

    let blurred = card_frame(CardCondition::Blurred(9));
    let config: CaptureConfig = toml::from_str("[card]\nmin_sharpness = 5.0\n").unwrap();
    let check = check_card(&blurred.image, None, &config.thresholds());
    assert_eq!(
        check.gate(Gate::Sharpness),
        Some(true),
        "{:?}",
        check.metrics
    );
}

fn one_face(height: f32, centre: (f32, f32), light: f32) -> image::RgbImage {
    face_frame(&[FacePlacement { height, centre }], light)
}

/// The preview's check of a selfie frame, as the analysis thread runs it.
fn check_faces(frame: &image::RgbImage) -> FrameCheck {
    let frame = ekyc_kiosk::camera::Frame {
        image: frame.clone(),
        sequence: 1,
        taken_at: std::time::Instant::now(),
    };
    ekyc_kiosk::quality::analyser::analyse(
        &frame,
        ekyc_kiosk::camera::CaptureTarget::Selfie,
        Some(&detector()),
        None,
        None,
        &normal(),
    )
}

/// A second person beside or behind the customer, their face down to 12 % of the frame's
/// height, is told on the selfie screen: two faces a fifth of the height side by side
/// (the short-range model alone saw neither), and a small face behind a near one.
#[test]
fn a_second_person_down_to_an_eighth_of_the_height_is_asked_to_step_aside() {
    let pair = |first: (f32, (f32, f32)), second: (f32, (f32, f32))| {
        face_frame(
            &[
                FacePlacement {
                    height: first.0,
                    centre: first.1,
                },
                FacePlacement {
                    height: second.0,
                    centre: second.1,
                },
            ],
            1.0,
        )
    };
    let cases = [
        pair((0.2, (0.35, 0.5)), (0.2, (0.65, 0.5))),
        pair((0.45, (0.4, 0.5)), (0.12, (0.85, 0.3))),
        pair((0.45, (0.6, 0.55)), (0.14, (0.12, 0.75))),
    ];
    for (number, frame) in cases.iter().enumerate() {
        let check = check_faces(frame);
        let found = check.faces.as_ref().map_or(0, Vec::len);
        assert_eq!(found, 2, "case {number}: {:?}", check.faces);
        assert_eq!(check.gate(Gate::OneFace), Some(false), "case {number}");
        assert_eq!(
            check.instruction,
            Some(Instruction::OnlyOnePerson),
            "case {number}"
        );
    }
}

#[test]
fn one_centred_face_of_half_the_height_passes() {
    let check = check_faces(&one_face(0.5, (0.5, 0.5), 1.0));
    assert!(check.passed(), "{:?}", check.gates);
    let face = &check.faces.as_ref().expect("faces were looked for")[0];
    assert!((face.height / 720.0 - 0.5).abs() < 0.1, "{face:?}");
}

#[test]
fn no_face_two_faces_small_off_centre_clipped_and_dark_each_say_what_to_do() {
    let cases = [
        (
            face_frame(&[], 1.0),
            Gate::FaceFound,
            Instruction::LookAtCamera,
        ),
        (
            face_frame(
                &[
                    FacePlacement {
                        height: 0.3,
                        centre: (0.3, 0.5),
                    },
                    FacePlacement {
                        height: 0.3,
                        centre: (0.7, 0.5),
                    },
                ],
                1.0,
            ),
            Gate::OneFace,
            Instruction::OnlyOnePerson,
        ),
        (
            one_face(0.25, (0.5, 0.5), 1.0),
            Gate::FaceSize,
            Instruction::FaceCloser,
        ),
        (
            one_face(0.45, (0.25, 0.5), 1.0),
            Gate::FaceCentred,
            Instruction::CentreFace,
        ),
        (
            one_face(0.5, (0.5, 0.22), 1.0),
            Gate::EyesVisible,
            Instruction::ShowWholeFace,
        ),
        (
            one_face(0.5, (0.5, 0.5), 0.3),
            Gate::Brightness,
            Instruction::MoreLight,
        ),
    ];
    for (frame, gate, instruction) in cases {
        let check = check_faces(&frame);
        assert_eq!(check.gate(gate), Some(false), "{gate:?}: {:?}", check.gates);
        assert_eq!(
            check.instruction,
            Some(instruction),
            "{gate:?}: {:?}",
            check.gates
        );
    }
}

#[test]
fn without_a_face_model_only_the_picture_size_is_checked() {
    let check = check_selfie(&face_frame(&[], 1.0), None, None, &normal());
    assert_eq!(check.gates, vec![(Gate::Resolution, true)]);
    assert!(check.faces.is_none());
}

#[test]
fn the_thorough_pass_finds_a_small_second_face_the_preview_pass_misses() {
    let frame = face_frame(
        &[
            FacePlacement {
                height: 0.45,
                centre: (0.35, 0.5),
            },
            FacePlacement {
                height: 0.18,
                centre: (0.8, 0.35),
            },
        ],
        1.0,
    );
    let detector = detector();
    assert_eq!(detector.detect(&frame).unwrap().len(), 1);
    assert_eq!(detector.detect_thorough(&frame).unwrap().len(), 2);
    // A picture with one face stays at one face in the thorough pass.
    let one = one_face(0.5, (0.5, 0.5), 1.0);
    assert_eq!(detector.detect_thorough(&one).unwrap().len(), 1);
}

#[test]
fn the_detector_refuses_a_file_that_is_not_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.onnx");
    std::fs::write(&path, b"not a model").unwrap();
    let error = FaceDetector::load(Some(&path)).unwrap_err().to_string();
    assert!(error.contains("cannot be loaded"), "{error}");
    let missing = FaceDetector::load(Some(&dir.path().join("absent.onnx")))
        .unwrap_err()
        .to_string();
    assert!(missing.contains("not installed"), "{missing}");
}
