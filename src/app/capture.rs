//! The capture pipeline: the camera, the frame analysis on the preview, the automatic
//! picture, the stills (camera or file) and the preview's texture. The window owns one;
//! it reads the [`Flow`] and sends stills back as [`Message`]s.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::{ColorImage, TextureHandle, TextureOptions};
use image::DynamicImage;

use super::challenge::{ChallengeRun, ChallengeSetup, PathRequest, PathSource};
use super::{CaptureSetup, Message};
use crate::camera::{Camera, CameraStatus, Frame, SceneHint, SourceFactory};
use crate::clock::Clock;
use crate::flow::{Capture, CaptureTarget, Flow, Screen};
use crate::quality::{Analyser, AutoCapture, AutoCaptureState};
use crate::ui;
use crate::ui::capture::CaptureGuide;
use ekyc_contract::Lang;
use ekyc_imaging::card::{find_card, flatten_card, Quad, SideSignature};
use ekyc_imaging::metrics::Luma;
use ekyc_imaging::{prepare_decoded, prepare_image_file, ImageLimits};

pub(super) struct CapturePipeline {
    camera: Camera,
    /// The kiosk's clock: the frames' times and the screens' are read on it.
    clock: Clock,
    /// What the demo camera plays, the face models and the gates: kept to start another
    /// camera (staff's choice) with.
    hint: Arc<SceneHint>,
    faces: ekyc_face::FaceModels,
    thresholds: crate::quality::Thresholds,
    /// Staff's settings show the preview (the camera being chosen).
    preview_for_staff: bool,
    /// Checks the preview on its own thread while a capture screen shows.
    analyser: Analyser,
    auto_capture: Option<AutoCapture>,
    /// The capture screen showing and since when: frames taken before it (or at that very
    /// moment, by a test's clock) are of the step before (the customer still holding the
    /// front, say) and are neither checked nor taken.
    capture_screen: Option<(CaptureTarget, Instant)>,
    guide: Option<CaptureGuide>,
    /// Set while a capture screen shows: only then do camera frames cause repaints.
    preview_visible: Arc<AtomicBool>,
    camera_texture: Option<(u64, TextureHandle)>,
    /// When the screen showing the preview opened (for the start-up figures).
    first_preview_screen: Option<std::time::Instant>,
    /// A preview frame was shown since start (its delay is logged once, at info).
    preview_shown: bool,
    image_limits: ImageLimits,
    runtime: tokio::runtime::Handle,
    /// Where stills go.
    sender: Sender<Message>,
    challenge_setup: ChallengeSetup,
    /// The liveness challenge, while its screen shows.
    challenge: Option<ChallengeRun>,
    /// The back end's path for the next attempt, asked for and not yet come.
    path_request: Option<PathRequest>,
    /// Counts the challenges run: a late verdict of an earlier one is ignored.
    challenge_serial: u64,
    /// The identify screen's card reading: when it showed, when a frame was last read,
    /// and whether a reading is in flight.
    scan: Option<CardScan>,
}

/// Reading the card's QR code (or its back's MRZ) from the preview, a frame at a time.
struct CardScan {
    since: Instant,
    last: Option<Instant>,
    /// When the MRZ was last looked for: Tesseract takes far longer than a QR code.
    last_mrz: Option<Instant>,
    in_flight: Arc<AtomicBool>,
}

/// Whether `frame` was taken after `moment` (a screen's appearance): a frame of that very
/// moment read the scene before the screen's hint (only a test's clock stands still long
/// enough for that).
fn taken_after(frame: &Frame, moment: Instant) -> bool {
    frame.taken_at > moment
}

/// How often the identify screen also looks for an MRZ (a card shown by its back).
const MRZ_EVERY: Duration = Duration::from_millis(1500);

/// Tesseract for reading MRZs (the identify screen, the chip's key), loaded on the first
/// card shown by its back.
pub(super) fn mrz_reader() -> Option<ekyc_reading::Tesseract> {
    ekyc_reading::Tesseract::find_for_mrz()
}

/// The customer's number on `frame`: the CCCD QR code's ID, else (`try_mrz`) the ID in
/// the MRZ of a card's back, when its check digits hold.
fn card_number_in(frame: &Frame, try_mrz: bool) -> Option<ekyc_contract::Secret> {
    let secret = |id: &str| ekyc_contract::Secret::new(id);
    if let Some(card) = ekyc_reading::find_cccd_qr(&DynamicImage::ImageRgb8(frame.image.clone())) {
        return Some(secret(&card.id));
    }
    if !try_mrz {
        return None;
    }
    let ocr = mrz_reader()?;
    let card = find_card(&Luma::from_rgb(&frame.image)).filter(|card| !card.cut_off)?;
    let flat = DynamicImage::ImageRgb8(flatten_card(&frame.image, &card)).to_luma8();
    let (mrz, _, _) = ekyc_reading::read_mrz(&ocr, &flat, &[])?;
    if !mrz.is_valid() {
        return None;
    }
    mrz.vn_id.as_deref().map(secret)
}

/// How often the identify screen reads a frame: often enough to feel instant, rarely
/// enough to leave the kiosk's two cores for the preview.
const SCAN_EVERY: Duration = Duration::from_millis(300);

impl CapturePipeline {
    /// Starts the camera (from `source`, on `clock`) and the analysis threads; both ask
    /// `ctx` for repaints. Stills are prepared within `image_limits` on `runtime`.
    #[expect(clippy::too_many_arguments, reason = "what the window was set up with")]
    pub(super) fn start(
        ctx: &egui::Context,
        source: SourceFactory,
        clock: Clock,
        hint: Arc<SceneHint>,
        setup: &CaptureSetup,
        image_limits: ImageLimits,
        runtime: tokio::runtime::Handle,
        sender: Sender<Message>,
    ) -> std::io::Result<Self> {
        let preview_visible = Arc::new(AtomicBool::new(false));
        let repaint_ctx = ctx.clone();
        let visible = preview_visible.clone();
        let camera = Camera::start(source, hint.clone(), &clock, move || {
            if visible.load(Ordering::Relaxed) {
                repaint_ctx.request_repaint();
            }
        })?;
        let analysis_ctx = ctx.clone();
        let analyser_hint = hint.clone();
        let analyser = Analyser::start(
            camera.tap(),
            hint,
            setup.faces.clone(),
            setup.thresholds,
            move || analysis_ctx.request_repaint(),
        )?;
        let auto_capture = setup
            .auto_capture
            .then(|| AutoCapture::new(setup.steady_frames, setup.countdown));
        Ok(Self {
            camera,
            clock,
            hint: analyser_hint,
            faces: setup.faces.clone(),
            thresholds: setup.thresholds,
            preview_for_staff: false,
            analyser,
            auto_capture,
            capture_screen: None,
            guide: None,
            preview_visible,
            camera_texture: None,
            first_preview_screen: None,
            preview_shown: false,
            image_limits,
            runtime,
            sender,
            challenge_setup: setup.challenge.clone(),
            challenge: None,
            path_request: None,
            challenge_serial: 0,
            scan: None,
        })
    }

    /// The challenge whose verdict counts.
    pub(super) fn challenge_serial(&self) -> u64 {
        self.challenge_serial
    }

    /// Where the challenge's dot is now; `None` when no dot moves (being checked).
    pub(super) fn challenge_dot(&self, now: Instant) -> Option<[f32; 2]> {
        self.challenge.as_ref().and_then(|run| run.dot(now))
    }

    /// Runs the challenge while its screen shows: a new attempt on arrival, the animation
    /// kept going while the dot moves.
    fn follow_challenge(&mut self, ctx: &egui::Context, now: Instant) {
        if self.challenge.is_none() {
            let issued = match self.path_for_next_attempt(ctx, now) {
                PathSource::Waiting => return,
                PathSource::Issued(id, path) => Some((id, path)),
                PathSource::Kiosk(_) => None,
            };
            self.challenge_serial += 1;
            let serial = self.challenge_serial;
            let sender = self.sender.clone();
            let repaint_ctx = ctx.clone();
            let started = ChallengeRun::start(
                &self.challenge_setup,
                &self.camera.tap(),
                &self.clock,
                self.image_limits,
                issued,
                move |outcome| {
                    let _ = sender.send(Message::ChallengeDone { serial, outcome });
                    repaint_ctx.request_repaint();
                },
            );
            match started {
                Ok(run) => {
                    self.camera.hint().set(CaptureTarget::Selfie);
                    self.camera.hint().set_challenge(Some(run.scene()));
                    self.challenge = Some(run);
                }
                Err(reason) => {
                    tracing::error!("the liveness challenge cannot start: {reason}");
                    let _ = self.sender.send(Message::ChallengeDone {
                        serial,
                        outcome: crate::flow::ChallengeOutcome::Failed(
                            crate::flow::ChallengeAdvice::FollowTheDot,
                        ),
                    });
                    return;
                }
            }
        }
        let Some(run) = &mut self.challenge else {
            return;
        };
        if run.dot(now).is_some() {
            // The dot's animation.
            ctx.request_repaint();
        } else if run.end_recording_if_late(now) {
            // Awake to end a recording the camera left waiting.
            ctx.request_repaint_after(Duration::from_millis(250));
        }
    }

    /// Where the next attempt's path comes from: the back end's once it answers, the
    /// kiosk's own when there is no back end to ask or it issued none in time; `Waiting`
    /// while it is asked (the screen says "get ready").
    fn path_for_next_attempt(&mut self, ctx: &egui::Context, now: Instant) -> PathSource {
        let Some(issuer) = &self.challenge_setup.issuer else {
            return PathSource::Kiosk("no back end to ask".into());
        };
        let request = self.path_request.get_or_insert_with(|| {
            let wake = ctx.clone();
            PathRequest::ask(issuer, &self.runtime, now, move || wake.request_repaint())
        });
        let source = request.poll(now);
        match &source {
            PathSource::Waiting => {
                // Awake to give up waiting in time, should the answer never come.
                ctx.request_repaint_after(Duration::from_millis(200));
            }
            PathSource::Issued(..) => self.path_request = None,
            PathSource::Kiosk(why) => {
                self.path_request = None;
                tracing::warn!(
                    "the back end issued no challenge ({why}): the kiosk draws the path, and \
                     the back end cannot score the following"
                );
            }
        }
        source
    }

    /// Whether the challenge's screen waits for the back end's path.
    pub(super) fn challenge_preparing(&self) -> bool {
        self.challenge.is_none() && self.path_request.is_some()
    }

    /// Off the challenge's screen: the run (and its frames) dropped, the demo told.
    fn end_challenge(&mut self) {
        self.path_request = None;
        if self.challenge.take().is_some() {
            self.camera.hint().set_challenge(None);
        }
    }

    /// What the frame analysis says about the preview (capture screens only).
    /// Staff chose another capture preset: the gates from the next frame on.
    pub(super) fn set_thresholds(&mut self, thresholds: crate::quality::Thresholds) {
        self.thresholds = thresholds;
        self.analyser.set_thresholds(thresholds);
    }

    /// Staff chose another camera (`camera.device`'s values): the old one is closed and
    /// the new one opened, with its own frame analysis. A camera that cannot open shows as
    /// unavailable, as at start, and is tried again each second.
    pub(super) fn switch_camera(
        &mut self,
        ctx: &egui::Context,
        device: &str,
    ) -> std::io::Result<()> {
        let repaint_ctx = ctx.clone();
        let visible = self.preview_visible.clone();
        let camera = Camera::start(
            crate::camera::camera_source(device, self.hint.clone()),
            self.hint.clone(),
            &self.clock,
            move || {
                if visible.load(Ordering::Relaxed) {
                    repaint_ctx.request_repaint();
                }
            },
        )?;
        let analysis_ctx = ctx.clone();
        let analyser = Analyser::start(
            camera.tap(),
            self.hint.clone(),
            self.faces.clone(),
            self.thresholds,
            move || analysis_ctx.request_repaint(),
        )?;
        // The old analysis stops first (it reads the old camera's frames), then the camera.
        self.analyser = analyser;
        self.camera = camera;
        self.camera_texture = None;
        self.capture_screen = None;
        tracing::info!(device, "staff chose a camera");
        Ok(())
    }

    /// Staff's settings are open: the preview shows there too.
    pub(super) fn set_preview_for_staff(&mut self, shown: bool) {
        self.preview_for_staff = shown;
    }

    pub(super) fn guide(&self) -> Option<&CaptureGuide> {
        self.guide.as_ref()
    }

    pub(super) fn camera_status(&self) -> CameraStatus {
        self.camera.status()
    }

    pub(super) fn camera_texture(&self) -> Option<&TextureHandle> {
        self.camera_texture.as_ref().map(|(_, texture)| texture)
    }

    pub(super) fn retry_camera(&self) {
        self.camera.retry_now();
    }

    /// The Capture button: the newest checked frame when it is recent (a card is then cut
    /// out along the outline the check found), else the newest frame.
    pub(super) fn take_picture(&mut self, flow: &Flow) {
        let Screen::Capture(target) = *flow.screen() else {
            return;
        };
        let since = self.screen_since(target);
        let now = self.clock.now();
        let recent = self.analyser.latest().filter(|analysis| {
            analysis.target == target
                && taken_after(&analysis.frame, since)
                && now.saturating_duration_since(analysis.frame.taken_at)
                    < Duration::from_millis(500)
        });
        match recent {
            Some(analysis) => {
                self.capture_frame(target, analysis.frame.clone(), analysis.check.card)
            }
            None => {
                // The button is enabled only once a frame of this screen arrived.
                if let Some(frame) = self
                    .camera
                    .latest()
                    .filter(|frame| taken_after(frame, since))
                {
                    self.capture_frame(target, frame, None);
                }
            }
        }
    }

    /// `frame` becomes the still, prepared off the UI thread. A card is flattened along
    /// `card` (looked for here when the frame was not checked) when the whole card was
    /// found, else cropped to the outline (with a margin); a selfie keeps the whole frame.
    fn capture_frame(&self, target: CaptureTarget, frame: Arc<Frame>, card: Option<Quad>) {
        let (sender, limits) = (self.sender.clone(), self.image_limits);
        self.runtime.spawn_blocking(move || {
            let card = match (target, card) {
                (CaptureTarget::Selfie, _) => None,
                (_, Some(card)) => Some(card),
                (_, None) => find_card(&Luma::from_rgb(&frame.image)),
            };
            let image = match (target, card) {
                (CaptureTarget::Selfie, _) => DynamicImage::ImageRgb8(frame.image.clone()),
                (_, Some(card)) if !card.cut_off => {
                    DynamicImage::ImageRgb8(flatten_card(&frame.image, &card))
                }
                _ => crop_card(&DynamicImage::ImageRgb8(frame.image.clone())),
            };
            let name = match target {
                CaptureTarget::Front => "front.jpg",
                CaptureTarget::Back => "back.jpg",
                CaptureTarget::Selfie => "selfie.jpg",
            };
            let message = match prepare_decoded(image.clone(), name, &limits) {
                Ok(upload) => Message::Captured(Capture::new(upload, &image)),
                Err(error) => Message::CaptureFailed(error.to_string()),
            };
            let _ = sender.send(message);
        });
    }

    /// The identify screen: the newest frame's QR code (and now and then its MRZ) read off
    /// the UI thread, one frame at a time. A card's number becomes [`Message::Identified`];
    /// the frame is dropped either way (no picture of the card is kept).
    fn scan_for_card(&mut self, now: Instant) {
        let scan = self.scan.get_or_insert_with(|| CardScan {
            since: now,
            last: None,
            last_mrz: None,
            in_flight: Arc::new(AtomicBool::new(false)),
        });
        if scan.in_flight.load(Ordering::Acquire)
            || scan
                .last
                .is_some_and(|last| now.duration_since(last) < SCAN_EVERY)
        {
            return;
        }
        let since = scan.since;
        let Some(frame) = self
            .camera
            .latest()
            .filter(|frame| taken_after(frame, since))
        else {
            return;
        };
        scan.last = Some(now);
        let try_mrz = scan
            .last_mrz
            .is_none_or(|last| now.duration_since(last) >= MRZ_EVERY);
        if try_mrz {
            scan.last_mrz = Some(now);
        }
        scan.in_flight.store(true, Ordering::Release);
        let (in_flight, sender) = (scan.in_flight.clone(), self.sender.clone());
        self.runtime.spawn_blocking(move || {
            let number = card_number_in(&frame, try_mrz);
            drop(frame);
            if let Some(number) = number {
                tracing::info!("identify: the customer's card was read");
                let _ = sender.send(Message::Identified(number));
            }
            in_flight.store(false, Ordering::Release);
        });
    }

    /// When the capture screen for `target` appeared (now, if it is not showing).
    fn screen_since(&self, target: CaptureTarget) -> Instant {
        match self.capture_screen {
            Some((showing, since)) if showing == target => since,
            _ => self.clock.now(),
        }
    }

    /// Follows the frame analysis on a capture screen: the guide drawn over the preview,
    /// and the automatic picture when every gate held long enough.
    pub(super) fn follow(&mut self, ctx: &egui::Context, flow: &Flow, now: Instant) {
        if *flow.screen() == Screen::Identify {
            self.scan_for_card(now);
        } else {
            self.scan = None;
        }
        if *flow.screen() == Screen::Challenge {
            self.follow_challenge(ctx, now);
        } else {
            self.end_challenge();
        }
        let Screen::Capture(target) = *flow.screen() else {
            if self.capture_screen.take().is_some() {
                // Off the capture screens, nothing of the customer stays in the analysis.
                self.analyser.set_active(false);
                self.analyser.set_earlier_side(None);
                self.guide = None;
            }
            return;
        };
        if self
            .capture_screen
            .is_none_or(|(showing, _)| showing != target)
        {
            // The demo camera plays what it is told; told first, then the clock starts.
            self.camera.hint().set(target);
            self.capture_screen = Some((target, self.clock.now()));
            if let Some(auto) = &mut self.auto_capture {
                auto.reset();
            }
            let earlier_side = match target {
                CaptureTarget::Back => flow.capture(CaptureTarget::Front).map(|front| {
                    SideSignature::of_flat(
                        &DynamicImage::ImageRgba8(front.preview.clone()).to_rgb8(),
                    )
                }),
                _ => None,
            };
            self.analyser.set_earlier_side(earlier_side);
        }
        self.analyser.set_active(true);
        let since = self.screen_since(target);
        let face_guidance_off = target == CaptureTarget::Selfie && !self.analyser.face_guidance();
        let analysis = self
            .analyser
            .latest()
            .filter(|analysis| analysis.target == target && taken_after(&analysis.frame, since));
        let mut guide = CaptureGuide {
            face_guidance_off,
            fresh_frame: self
                .camera
                .latest()
                .is_some_and(|frame| taken_after(&frame, since)),
            ..CaptureGuide::default()
        };
        let Some(analysis) = analysis else {
            self.guide = Some(guide);
            return;
        };
        let check = &analysis.check;
        guide.checked = true;
        guide.instruction = check.instruction;
        guide.card = check
            .card
            .map(|card| card.corners.map(|corner| egui::pos2(corner.x, corner.y)));
        guide.faces = check
            .faces
            .iter()
            .flatten()
            .map(|face| {
                egui::Rect::from_min_size(
                    egui::pos2(face.left, face.top),
                    egui::vec2(face.width, face.height),
                )
            })
            .collect();
        let automatic = self.auto_capture.as_mut().filter(|_| !face_guidance_off);
        if let Some(auto) = automatic {
            match auto.update(analysis.frame.sequence, check.passed(), now) {
                AutoCaptureState::Waiting => {}
                AutoCaptureState::Countdown { left } => {
                    guide.countdown = Some(left);
                    ctx.request_repaint_after(Duration::from_millis(100));
                }
                AutoCaptureState::Capture => {
                    tracing::info!(?target, "automatic capture");
                    self.capture_frame(target, analysis.frame.clone(), check.card);
                }
            }
        }
        self.guide = Some(guide);
    }

    /// "Load from file": the dialog runs on its own thread (GTK back end, so it also
    /// appears in a bare kiosk session without a desktop portal).
    pub(super) fn load_from_file(&self, ctx: &egui::Context, lang: Lang) {
        // Anything loaded is marked as such: a selfie so taken is never reported live.
        let (sender, limits, ctx) = (self.sender.clone(), self.image_limits, ctx.clone());
        let spawned = std::thread::Builder::new()
            .name("file-dialog".into())
            .spawn(move || {
                let picked = rfd::FileDialog::new()
                    .set_title(ui::text(lang, "capture-load-file"))
                    .add_filter("JPEG / PNG", &["jpg", "jpeg", "png", "JPG", "JPEG", "PNG"])
                    .pick_file();
                let Some(path) = picked else { return };
                let message = match prepare_image_file(&path, &limits) {
                    Ok(upload) => match image::load_from_memory(&upload.jpeg) {
                        Ok(image) => {
                            Message::Captured(Capture::new(upload, &image).loaded_from_file())
                        }
                        Err(error) => Message::CaptureFailed(error.to_string()),
                    },
                    Err(error) => {
                        tracing::info!("file refused: {error}");
                        Message::CaptureFailed(ui::text(lang, "file-not-image"))
                    }
                };
                let _ = sender.send(message);
                ctx.request_repaint();
            });
        if let Err(error) = spawned {
            tracing::error!("cannot open the file dialog: {error}");
        }
    }

    /// Uploads the newest camera frame as the preview's texture, only while a capture
    /// screen shows (and only then do frames cause repaints).
    pub(super) fn sync_preview(&mut self, ctx: &egui::Context, flow: &Flow) {
        let target = match flow.screen() {
            Screen::Capture(target) => Some(*target),
            Screen::Challenge => Some(CaptureTarget::Selfie),
            // The card's front, shown for its QR code.
            Screen::Identify => Some(CaptureTarget::Front),
            // Staff choosing a camera between customers see what it sees.
            Screen::Welcome if self.preview_for_staff => Some(CaptureTarget::Front),
            _ => None,
        };
        self.preview_visible
            .store(target.is_some(), Ordering::Relaxed);
        self.camera.set_wanted(target.is_some());
        let Some(target) = target else {
            // The last preview frame shows the customer: it does not outlive its screen (nor
            // greet the next customer before the camera's first new frame), and its texture
            // (3.6 MB at 1280×720) is freed.
            self.camera_texture = None;
            self.first_preview_screen = None;
            return;
        };
        self.first_preview_screen
            .get_or_insert_with(std::time::Instant::now);
        self.camera.hint().set(target);
        let Some(frame) = self.camera.latest() else {
            return;
        };
        if self
            .camera_texture
            .as_ref()
            .is_some_and(|(sequence, _)| *sequence == frame.sequence)
        {
            return;
        }
        let size = [frame.image.width() as usize, frame.image.height() as usize];
        let image = ColorImage::from_rgb(size, frame.image.as_raw());
        match &mut self.camera_texture {
            Some((sequence, texture)) => {
                texture.set(image, TextureOptions::LINEAR);
                *sequence = frame.sequence;
            }
            None => {
                let waited = self
                    .first_preview_screen
                    .map_or(0, |opened| opened.elapsed().as_millis());
                if !self.preview_shown {
                    self.preview_shown = true;
                    tracing::info!(
                        "vitals: first preview frame shown {waited} ms after its screen opened ({} ms after start)",
                        super::since_process_start()
                    );
                } else {
                    tracing::debug!("preview frame shown {waited} ms after its screen opened");
                }
                self.camera_texture = Some((
                    frame.sequence,
                    ctx.load_texture("camera", image, TextureOptions::LINEAR),
                ))
            }
        }
    }
}

/// A card capture: the frame cropped to the card outline, with a 3 % margin so a card
/// held a little off-centre is not cut.
pub fn crop_card(frame: &DynamicImage) -> DynamicImage {
    let (width, height) = (frame.width() as f32, frame.height() as f32);
    let outline =
        ui::capture::card_outline(width, height).expand2(egui::vec2(width * 0.03, height * 0.03));
    let left = outline.min.x.max(0.0) as u32;
    let top = outline.min.y.max(0.0) as u32;
    let crop_width = (outline.width() as u32).min(frame.width() - left);
    let crop_height = (outline.height() as u32).min(frame.height() - top);
    frame.crop_imm(left, top, crop_width, crop_height)
}
