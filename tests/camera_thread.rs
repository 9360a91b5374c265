//! The camera thread with a source that fails, works, and is unplugged: the screen's
//! status follows, and the thread reopens the source by itself.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at what it did not expect

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ekyc_kiosk::camera::{Camera, CameraError, CameraStatus, FrameSource, SceneHint};
use ekyc_kiosk::clock::Clock;
use image::RgbImage;

/// Refuses to open `failed_opens` times, then gives `frames` frames, then "unplugs".
struct FlakySource {
    opens: Arc<AtomicUsize>,
    failed_opens: usize,
    frames_left: usize,
}

impl FrameSource for FlakySource {
    fn name(&self) -> String {
        "flaky".into()
    }

    fn open(&mut self) -> Result<(), CameraError> {
        let attempt = self.opens.fetch_add(1, Ordering::SeqCst);
        if attempt < self.failed_opens {
            return Err(CameraError::CannotOpen("busy".into()));
        }
        self.frames_left = 3;
        Ok(())
    }

    fn next_frame(&mut self) -> Result<RgbImage, CameraError> {
        std::thread::sleep(Duration::from_millis(20));
        if self.frames_left == 0 {
            return Err(CameraError::Stopped("unplugged".into()));
        }
        self.frames_left -= 1;
        Ok(RgbImage::new(8, 8))
    }
}

fn wait_until(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !condition() {
        assert!(Instant::now() < deadline, "never: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_failing_camera_is_reported_and_reopened_by_itself() {
    let opens = Arc::new(AtomicUsize::new(0));
    let frames = Arc::new(AtomicUsize::new(0));
    let source_opens = opens.clone();
    let counted = frames.clone();
    let camera = Camera::start(
        Box::new(move |_: &Clock| {
            Box::new(FlakySource {
                opens: source_opens,
                failed_opens: 1,
                frames_left: 0,
            })
        }),
        Arc::new(SceneHint::default()),
        &Clock::system(),
        move || {
            counted.fetch_add(1, Ordering::SeqCst);
        },
    )
    .unwrap();

    wait_until("the first open fails", || {
        matches!(
            camera.status(),
            CameraStatus::Unavailable(CameraError::CannotOpen(_))
        )
    });
    assert!(camera.latest().is_none());
    camera.retry_now();
    wait_until("frames arrive after a reopen", || camera.latest().is_some());
    assert_eq!(
        camera.status(),
        CameraStatus::Running {
            name: "flaky".into(),
            demo: false
        }
    );

    // The source "unplugs" after three frames; the thread reports it and opens it again.
    wait_until("the unplug is reported or already recovered", || {
        opens.load(Ordering::SeqCst) >= 3
    });
    wait_until("frames again", || camera.latest().is_some());
    assert!(
        frames.load(Ordering::SeqCst) >= 4,
        "each frame asked for a repaint"
    );
    let newest = camera.latest().unwrap().sequence;
    assert!(
        newest >= 4,
        "sequence numbers keep counting across reopens: {newest}"
    );
}

#[test]
fn dropping_the_camera_stops_its_thread() {
    let opens = Arc::new(AtomicUsize::new(0));
    let source_opens = opens.clone();
    let camera = Camera::start(
        Box::new(move |_: &Clock| {
            Box::new(FlakySource {
                opens: source_opens,
                failed_opens: usize::MAX,
                frames_left: 0,
            })
        }),
        Arc::new(SceneHint::default()),
        &Clock::system(),
        || {},
    )
    .unwrap();
    wait_until("the thread runs", || opens.load(Ordering::SeqCst) >= 1);
    drop(camera);
    let after = opens.load(Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(
        opens.load(Ordering::SeqCst),
        after,
        "no reopen after the drop"
    );
}

/// Counts what the camera thread asks of it: decoded frames and skipped ones.
struct CountingSource {
    decoded: Arc<AtomicUsize>,
    skipped: Arc<AtomicUsize>,
}

impl FrameSource for CountingSource {
    fn name(&self) -> String {
        "counting".into()
    }

    fn open(&mut self) -> Result<(), CameraError> {
        Ok(())
    }

    fn next_frame(&mut self) -> Result<RgbImage, CameraError> {
        std::thread::sleep(Duration::from_millis(10));
        self.decoded.fetch_add(1, Ordering::SeqCst);
        Ok(RgbImage::new(8, 8))
    }

    fn skip_frame(&mut self) -> Result<(), CameraError> {
        std::thread::sleep(Duration::from_millis(10));
        self.skipped.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[test]
fn without_a_preview_on_screen_frames_are_drained_undecoded_and_the_last_one_dropped() {
    let decoded = Arc::new(AtomicUsize::new(0));
    let skipped = Arc::new(AtomicUsize::new(0));
    let source = CountingSource {
        decoded: decoded.clone(),
        skipped: skipped.clone(),
    };
    let camera = Camera::start(
        Box::new(move |_: &Clock| Box::new(source)),
        Arc::new(SceneHint::default()),
        &Clock::system(),
        || {},
    )
    .unwrap();
    wait_until("a frame", || camera.latest().is_some());

    camera.set_wanted(false);
    assert!(
        camera.latest().is_none(),
        "the last frame is dropped at once"
    );
    let before = decoded.load(Ordering::SeqCst);
    wait_until("frames skipped", || skipped.load(Ordering::SeqCst) >= 5);
    // At most the frame being read when the preview went away is decoded after it.
    assert!(decoded.load(Ordering::SeqCst) <= before + 1);
    assert!(camera.latest().is_none(), "nothing published while hidden");

    camera.set_wanted(true);
    wait_until("a new frame", || camera.latest().is_some());
    assert!(decoded.load(Ordering::SeqCst) > before);
}

/// Gives what `frame` makes, forever; counts its opens.
struct SteadySource {
    opens: Arc<AtomicUsize>,
    demo: bool,
    frame: fn(u64) -> Result<RgbImage, CameraError>,
    count: u64,
}

impl FrameSource for SteadySource {
    fn name(&self) -> String {
        "steady".into()
    }

    fn is_demo(&self) -> bool {
        self.demo
    }

    fn open(&mut self) -> Result<(), CameraError> {
        self.opens.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    fn next_frame(&mut self) -> Result<RgbImage, CameraError> {
        std::thread::sleep(Duration::from_millis(30));
        self.count += 1;
        (self.frame)(self.count)
    }
}

fn steady(
    demo: bool,
    frame: fn(u64) -> Result<RgbImage, CameraError>,
) -> (Camera, Arc<AtomicUsize>) {
    let opens = Arc::new(AtomicUsize::new(0));
    let source_opens = opens.clone();
    let camera = Camera::start(
        Box::new(move |_: &Clock| {
            Box::new(SteadySource {
                opens: source_opens,
                demo,
                frame,
                count: 0,
            })
        }),
        Arc::new(SceneHint::default()),
        &Clock::system(),
        || {},
    )
    .unwrap();
    (camera, opens)
}

fn same_picture(_: u64) -> Result<RgbImage, CameraError> {
    Ok(RgbImage::from_pixel(64, 48, image::Rgb([90, 120, 150])))
}

/// Like a sensor: the picture changes a little from frame to frame.
fn noisy_picture(count: u64) -> Result<RgbImage, CameraError> {
    let mut image = RgbImage::from_pixel(64, 48, image::Rgb([90, 120, 150]));
    image.as_mut()[(count as usize * 7) % (64 * 48 * 3)] ^= 1;
    Ok(image)
}

fn corrupt_picture(_: u64) -> Result<RgbImage, CameraError> {
    Err(CameraError::Decode("truncated MJPEG".into()))
}

#[test]
fn a_frozen_or_corrupt_camera_is_reported_and_reopened_and_a_live_one_is_left_alone() {
    let (frozen, frozen_opens) = steady(false, same_picture);
    let (corrupt, corrupt_opens) = steady(false, corrupt_picture);
    let (live, live_opens) = steady(false, noisy_picture);
    // The demo camera repeats its stills by design: never called frozen.
    let (demo, demo_opens) = steady(true, same_picture);

    wait_until("the frozen camera is reported", || {
        matches!(
            frozen.status(),
            CameraStatus::Unavailable(CameraError::Frozen(_))
        )
    });
    assert!(frozen.latest().is_none(), "its stale picture is not shown");
    wait_until("the corrupt camera is reported", || {
        matches!(
            corrupt.status(),
            CameraStatus::Unavailable(CameraError::Decode(_))
        )
    });
    wait_until("both are opened again", || {
        frozen_opens.load(Ordering::SeqCst) >= 2 && corrupt_opens.load(Ordering::SeqCst) >= 2
    });
    for (camera, opens) in [(&live, &live_opens), (&demo, &demo_opens)] {
        assert!(matches!(camera.status(), CameraStatus::Running { .. }));
        assert_eq!(opens.load(Ordering::SeqCst), 1, "never reopened");
        assert!(camera.latest().is_some());
    }
}

/// The demo camera draws what the scene hint says, and drawing takes a while: a frame it
/// began for the previous screen must not count as taken on the next one. Its time is when
/// the demo read the hint, before drawing: earlier than the switch, so the capture screen
/// that appeared after the switch waits for a frame of its own (the race behind face-first
/// ENROLL's selfie, taken of the card at times).
#[test]
fn a_demo_frame_is_timed_when_its_scene_was_read_not_when_it_was_handed_over() {
    use ekyc_kiosk::camera::{CaptureTarget, DemoSource};
    let hint = Arc::new(SceneHint::default());
    hint.set(CaptureTarget::Front);
    let mut source = DemoSource::new(hint.clone(), Clock::system());
    source.open().unwrap();
    let before = Instant::now();
    let frame = source.next_frame().unwrap();
    let handed_over = Instant::now();
    let taken = source.taken_at().expect("the demo knows when");
    assert!(before <= taken && taken < handed_over, "{taken:?}");
    assert!(frame.width() > 0);

    // Through the camera thread: its frames carry the time the source gives.
    struct Timed(Instant);
    impl FrameSource for Timed {
        fn name(&self) -> String {
            "timed".into()
        }
        fn open(&mut self) -> Result<(), CameraError> {
            Ok(())
        }
        fn next_frame(&mut self) -> Result<RgbImage, CameraError> {
            std::thread::sleep(Duration::from_millis(30));
            Ok(RgbImage::from_pixel(64, 48, image::Rgb([90, 120, 150])))
        }
        fn taken_at(&self) -> Option<Instant> {
            Some(self.0)
        }
    }
    let exposed = Instant::now();
    let camera = Camera::start(
        Box::new(move |_: &Clock| Box::new(Timed(exposed)) as Box<dyn FrameSource>),
        Arc::new(SceneHint::default()),
        &Clock::system(),
        || {},
    )
    .unwrap();
    wait_until("a frame", || camera.latest().is_some());
    assert_eq!(camera.latest().unwrap().taken_at, exposed);
}
