//! Memory that hostile input could make the kiosk or the engine take, measured with a
//! counting allocator: a PNG that declares 100,000 × 100,000 pixels is refused before any
//! such allocation, and a burst of large uploads takes the memory of the uploads processed
//! at once, not of every client.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at what it did not expect

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use common::{client_for, start_engine};
use ekyc_engine::{EngineSettings, UploadLimits};

/// The system allocator, counting the bytes live now and the most live since a reset.
/// (`unsafe` here is the test's own: a global allocator cannot be written without it.)
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        unsafe { System.dealloc(pointer, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// One measurement at a time: the counters are the process's.
static MEASURING: Mutex<()> = Mutex::new(());

/// The most bytes live above what was live at the start, while `work` ran.
fn peak_during<T>(work: impl FnOnce() -> T) -> (T, usize) {
    let start = LIVE.load(Ordering::Relaxed);
    PEAK.store(start, Ordering::Relaxed);
    let result = work();
    (result, PEAK.load(Ordering::Relaxed).saturating_sub(start))
}

const MB: usize = 1024 * 1024;

#[test]
fn a_png_declaring_100000_by_100000_pixels_is_refused_before_allocation() {
    let _one = MEASURING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let bomb = test_file("bomb-100000x100000.png");
    assert!(bomb.len() < 1024, "a small file: {} bytes", bomb.len());
    // 10 gigapixels would be 10 GB as grey; the decoder's own buffers are a few KB.
    refused_before_decoding(&bomb, "limit");
}

fn test_file(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name),
    )
    .unwrap()
}

/// `bytes` refused with a message holding `says`, having allocated less than a megabyte.
fn refused_before_decoding(bytes: &[u8], says: &str) {
    let (decoded, peak) = peak_during(|| ekyc_imaging::decode_upright(bytes));
    let error = decoded.unwrap_err().to_string();
    assert!(error.contains(says), "{error}");
    assert!(peak < MB, "{peak} bytes allocated");
}

#[test]
fn a_tiny_file_declaring_a_camera_sized_picture_is_refused_before_decoding() {
    let _one = MEASURING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    // Found by the `engine_upload` fuzz target: 413 bytes declaring 4096 × 4096, which
    // took seconds of decoding, QR scanning and OCR per upload (fuzz/findings/).
    refused_before_decoding(
        &test_file("fuzz-4096x4096-in-413-bytes.jpg"),
        "4096 × 4096 pixels in only 413 bytes",
    );
    // Found by `image_decode`: a progressive JPEG of 496 bytes declaring 8200 × 9736 (an
    // allocation of 240 MB, within the decoder's limit, and a slow progressive decode).
    refused_before_decoding(
        &test_file("fuzz-8200x9736-progressive-in-496-bytes.jpg"),
        "8200 × 9736 pixels in only 496 bytes",
    );
    // A real photo of that size is decoded: the limit is on the ratio, not the size.
    let photo = image::RgbImage::from_fn(1600, 1200, |x, y| {
        image::Rgb([
            (x * 7 % 256) as u8,
            (y * 5 % 256) as u8,
            ((x + y) % 256) as u8,
        ])
    });
    let mut jpeg = Vec::new();
    photo
        .write_to(
            &mut std::io::Cursor::new(&mut jpeg),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    assert!(ekyc_imaging::decode_upright(&jpeg).is_ok());
}

/// `clients` uploads of `size` bytes each, all at once, to an engine that processes
/// `at_once` of them at a time; the most memory the process took meanwhile.
fn burst(clients: usize, size: usize, at_once: usize) -> usize {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // One buffer for every client: what is counted is what the engine allocates.
    let upload: &'static [u8] = Box::leak(vec![0x5a; size].into_boxed_slice());
    let (engine, session, http) = runtime.block_on(async {
        let engine = start_engine(EngineSettings {
            max_file_bytes: 2 * size as u64,
            uploads: UploadLimits {
                at_once,
                ..UploadLimits::default()
            },
            ..EngineSettings::default()
        })
        .await;
        let session = client_for(&engine).init_session(false).await.unwrap();
        (engine, session, reqwest::Client::new())
    });
    let (statuses, peak) = peak_during(|| {
        runtime.block_on(async {
            let sends = (0..clients).map(|_| {
                let part = reqwest::multipart::Part::stream(reqwest::Body::from(upload))
                    .file_name("card.jpg")
                    .mime_str("image/jpeg")
                    .unwrap();
                http.post(format!("{}/ocr", engine.base_url()))
                    .header("api-key", engine.api_key().expose())
                    .header("session-id", session.as_str())
                    .header("device-type", "web-sdk")
                    .header("document-type", "idr")
                    .multipart(reqwest::multipart::Form::new().part("files", part))
                    .timeout(Duration::from_secs(60))
                    .send()
            });
            futures_util::future::join_all(sends)
                .await
                .into_iter()
                .map(|reply| reply.unwrap().status().as_u16())
                .collect::<Vec<_>>()
        })
    });
    // Each upload was read whole and judged (not an image: 400), none turned away.
    assert!(statuses.iter().all(|status| *status == 400), "{statuses:?}");
    runtime.block_on(engine.stop());
    peak
}

#[test]
fn a_burst_of_large_uploads_takes_the_memory_of_those_processed_at_once() {
    let _one = MEASURING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let size = 8 * MB;
    let in_turns = burst(12, size, 2);
    let all_at_once = burst(12, size, 12);
    eprintln!(
        "12 uploads of 8 MB: peak {} MB processed 2 at a time, {} MB all at once",
        in_turns / MB,
        all_at_once / MB
    );
    // Two bodies of 8 MB being read, each up to 3 × 8 MB while its growing buffer moves
    // (old and new), and the connections' own buffers: 48–51 MB measured here.
    assert!(in_turns < 64 * MB, "{} MB", in_turns / MB);
    // All at once: 124–177 MB alone, but 100 MB once in a loaded full run (against 51 MB
    // in turns), when the uploads overlapped less; half as much again is still a
    // difference the measure cannot make up.
    assert!(
        2 * all_at_once > 3 * in_turns,
        "the measure sees the difference: {} MB against {} MB",
        all_at_once / MB,
        in_turns / MB
    );
}
