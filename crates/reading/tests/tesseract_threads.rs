//! Tesseract in the engine's process stays on the thread that calls it. Debian's build runs
//! parts of its network on OpenMP threads; on a 2-core engine serving several requests
//! that quadrupled the CPU of a page (see `tesseract/library.rs`). Alone in its own test
//! program, so no other test's threads come and go while it counts.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at what it did not expect

use ekyc_reading::tesseract::{Reading, Tesseract};

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").expect("/proc").count()
}

#[test]
fn reading_a_card_starts_no_thread() {
    let ocr = Tesseract::find().expect("Tesseract with vie and eng (./test installs it)");
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../assets/demo/demo-card-front.png"
    );
    let front = image::open(path).expect("the demo card").to_luma8();
    let before = threads();
    for reading in [Reading::CardText, Reading::Mrz] {
        let lines = ocr.read(&front, reading).expect("read");
        assert!(!lines.is_empty());
    }
    assert_eq!(
        threads(),
        before,
        "Tesseract left threads of its own running"
    );
}
