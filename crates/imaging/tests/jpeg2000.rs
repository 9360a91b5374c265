//! Our JPEG 2000 decoding against OpenJPEG's (`opj_compress`/`opj_decompress`, Debian's
//! `libopenjp2-tools`, the reference implementation) on the same files: the public-domain
//! face as a chip would hold it, lossless (5/3 wavelet: every pixel exact) and lossy
//! (9/7, as issuers compress to fit DG2), as a JP2 file and as a bare codestream.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at what it did not expect

use std::path::Path;
use std::process::Command;

use ekyc_imaging::jpeg2000::{decode, is_jpeg2000};
use image::RgbImage;

fn face() -> RgbImage {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../assets/demo/selfie-astronaut.jpg"
    );
    image::open(path)
        .unwrap()
        .resize(300, 400, image::imageops::FilterType::Triangle)
        .to_rgb8()
}

fn run(tool: &str, args: &[&std::ffi::OsStr]) {
    let output = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("{tool} (Debian's libopenjp2-tools): {error}"));
    assert!(
        output.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Encodes `face` with OpenJPEG into `name` (`extra`: its options), decodes it with
/// OpenJPEG and with us; returns both pictures.
fn both(
    folder: &Path,
    face: &RgbImage,
    name: &str,
    extra: &[&str],
) -> (RgbImage, RgbImage, Vec<u8>) {
    let source = folder.join("face.png");
    face.save(&source).unwrap();
    let encoded = folder.join(name);
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "-i".as_ref(),
        source.as_os_str(),
        "-o".as_ref(),
        encoded.as_os_str(),
    ];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    run("opj_compress", &args);
    let theirs_path = folder.join(format!("{name}.png"));
    run(
        "opj_decompress",
        &[
            "-i".as_ref(),
            encoded.as_os_str(),
            "-o".as_ref(),
            theirs_path.as_os_str(),
        ],
    );
    let bytes = std::fs::read(&encoded).unwrap();
    let ours = decode(&bytes).unwrap().to_rgb8();
    let theirs = image::open(&theirs_path).unwrap().to_rgb8();
    (ours, theirs, bytes)
}

fn largest_difference(a: &RgbImage, b: &RgbImage) -> u8 {
    assert_eq!(a.dimensions(), b.dimensions());
    a.as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| x.abs_diff(*y))
        .max()
        .unwrap_or(0)
}

#[test]
fn lossless_jp2_and_codestream_decode_exactly_as_openjpeg_and_the_original() {
    let folder = tempfile::tempdir().unwrap();
    let face = face();
    for name in ["face.jp2", "face.j2k"] {
        let (ours, theirs, bytes) = both(folder.path(), &face, name, &[]);
        assert!(is_jpeg2000(&bytes), "{name}");
        assert_eq!(
            largest_difference(&ours, &theirs),
            0,
            "{name}: ours against OpenJPEG"
        );
        assert_eq!(
            largest_difference(&ours, &face),
            0,
            "{name}: lossless is the original"
        );
    }
}

#[test]
fn lossy_jp2_decodes_within_one_grey_level_of_openjpeg() {
    let folder = tempfile::tempdir().unwrap();
    let face = face();
    // About 20 KB, the size of a chip's photo.
    let (ours, theirs, bytes) = both(folder.path(), &face, "lossy.jp2", &["-r", "18", "-I"]);
    assert!(
        (8_000..40_000).contains(&bytes.len()),
        "{} bytes",
        bytes.len()
    );
    assert!(
        largest_difference(&ours, &theirs) <= 1,
        "{}",
        largest_difference(&ours, &theirs)
    );
    assert!(
        largest_difference(&ours, &face) > 0,
        "lossy: not the original"
    );
}

#[test]
fn what_is_not_jpeg_2000_or_is_broken_is_refused_with_a_reason() {
    assert!(matches!(
        decode(b"\xFF\xD8\xFF\xE0 a JPEG"),
        Err(ekyc_imaging::DecodeError::NotAnImage)
    ));
    let folder = tempfile::tempdir().unwrap();
    let (_, _, bytes) = both(folder.path(), &face(), "cut.jp2", &[]);
    let cut = &bytes[..bytes.len() / 3];
    match decode(cut) {
        Err(error) => assert!(!error.to_string().is_empty()),
        // A decoder may return what it has of a cut codestream: then not the whole face.
        Ok(image) => assert_eq!(image.width(), 300),
    }
}
