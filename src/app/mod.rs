//! The kiosk application: the [`Flow`], the camera, the submission worker and the screens,
//! tied together. Screens return [`Action`]s; they are applied once, at the end of the
//! frame, and the flow's [`Effect`]s after them.

pub mod out_of_service;
pub mod submission;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::{Color32, ColorImage, RichText, TextureHandle, TextureOptions};
use image::DynamicImage;

use crate::api::{prepare_decoded, prepare_image_file, FptClient, ImageLimits, Lang, OcrRequest};
use crate::camera::{Camera, CameraStatus, Frame, SceneHint, SourceFactory};
use crate::config::CaptureConfig;
use crate::engine::EngineHandle;
use crate::face::FaceDetector;
use crate::flow::{Capture, CaptureTarget, Effect, Event, Flow, Screen};
use crate::quality::{
    find_card, flatten_card, Analyser, AutoCapture, AutoCaptureState, Luma, Quad, SideSignature,
    Thresholds,
};
use crate::ui::capture::CaptureGuide;
use crate::ui::{self, Action, View};
use submission::Submission;

/// The Wayland app id and X11 class: the desktop file and the icons carry the same name
/// (`packaging/vn.ekyc.kiosk.desktop`, `assets/icons/`).
pub const APP_ID: &str = "vn.ekyc.kiosk";

/// What the kiosk needs to run, made before the window opens.
pub struct KioskSetup {
    pub lang: Lang,
    pub kiosk_mode: bool,
    pub idle_timeout: Duration,
    pub score_threshold: f32,
    pub face_match_threshold: f32,
    pub image_limits: ImageLimits,
    pub client: FptClient,
    /// The in-process engine, when the back end is local (kept alive here).
    pub engine: Option<EngineHandle>,
    pub runtime: tokio::runtime::Handle,
    pub camera: SourceFactory,
    pub hint: Arc<SceneHint>,
    pub capture: CaptureSetup,
}

/// The capture screens' gates and auto-capture.
pub struct CaptureSetup {
    pub thresholds: Thresholds,
    /// Take the picture by itself when every gate holds.
    pub auto_capture: bool,
    pub steady_frames: u32,
    pub countdown: Duration,
    /// `None`: the face model is not installed; selfies are not checked for faces.
    pub detector: Option<Arc<FaceDetector>>,
}

impl CaptureSetup {
    /// From the `[capture]` settings; a missing or broken face model is logged once and
    /// leaves face guidance off (the app works without it).
    pub fn from_config(config: &CaptureConfig) -> Self {
        let detector = match FaceDetector::load(config.face_model.as_deref()) {
            Ok(mut detector) => {
                detector.min_score = config.face_min_score;
                Some(Arc::new(detector))
            }
            Err(error) => {
                tracing::warn!("face guidance off: {error}");
                None
            }
        };
        Self {
            thresholds: config.thresholds(),
            auto_capture: config.auto_capture,
            steady_frames: config.steady_frames,
            countdown: Duration::from_millis(config.countdown_ms),
            detector,
        }
    }
}

/// Messages from worker threads to the UI thread.
enum Message {
    /// A still is ready (camera or file).
    Captured(Capture),
    /// A still could not be made (a file that is not an image, …).
    CaptureFailed(String),
    /// A report from the submission worker.
    Submission { generation: u64, event: Event },
}

/// A texture made from a capture, remembered with the capture's serial.
struct CaptureTexture {
    serial: u64,
    texture: TextureHandle,
}

pub struct KioskApp {
    flow: Flow,
    kiosk_mode: bool,
    staff_mode: bool,
    score_threshold: f32,
    face_match_threshold: f32,
    image_limits: ImageLimits,
    backend_is_local: bool,
    runtime: tokio::runtime::Handle,
    camera: Camera,
    /// Checks the preview on its own thread while a capture screen shows.
    analyser: Analyser,
    auto_capture: Option<AutoCapture>,
    /// The capture screen showing and since when: frames taken before it are of the step
    /// before (the customer still holding the front, say) and are neither checked nor
    /// taken.
    capture_screen: Option<(CaptureTarget, Instant)>,
    guide: Option<CaptureGuide>,
    /// Set while a capture screen shows: only then do camera frames cause repaints.
    preview_visible: Arc<AtomicBool>,
    camera_texture: Option<(u64, TextureHandle)>,
    thumbnails: HashMap<CaptureTarget, CaptureTexture>,
    pending_texture: Option<CaptureTexture>,
    notice: Option<String>,
    submission: Submission,
    messages: Receiver<Message>,
    sender: Sender<Message>,
    _engine: Option<EngineHandle>,
}

impl KioskApp {
    pub fn new(cc: &eframe::CreationContext<'_>, setup: KioskSetup) -> std::io::Result<Self> {
        let ctx = cc.egui_ctx.clone();
        ui::install_style(&ctx);
        let (sender, messages) = std::sync::mpsc::channel();
        let preview_visible = Arc::new(AtomicBool::new(false));
        let repaint_ctx = ctx.clone();
        let visible = preview_visible.clone();
        let camera = Camera::start(setup.camera, setup.hint.clone(), move || {
            if visible.load(Ordering::Relaxed) {
                repaint_ctx.request_repaint();
            }
        })?;
        let analysis_ctx = ctx.clone();
        let analyser = Analyser::start(
            camera.tap(),
            setup.hint.clone(),
            setup.capture.detector.clone(),
            setup.capture.thresholds,
            move || analysis_ctx.request_repaint(),
        )?;
        let auto_capture = setup
            .capture
            .auto_capture
            .then(|| AutoCapture::new(setup.capture.steady_frames, setup.capture.countdown));
        let report_sender = sender.clone();
        let report_ctx = ctx.clone();
        let report: submission::Report = Arc::new(move |generation, event| {
            let _ = report_sender.send(Message::Submission { generation, event });
            report_ctx.request_repaint();
        });
        Ok(Self {
            flow: Flow::new(setup.lang, setup.idle_timeout, Instant::now()),
            kiosk_mode: setup.kiosk_mode,
            staff_mode: false,
            score_threshold: setup.score_threshold,
            face_match_threshold: setup.face_match_threshold,
            image_limits: setup.image_limits,
            backend_is_local: setup.engine.is_some(),
            submission: Submission::new(setup.runtime.clone(), setup.client, report),
            runtime: setup.runtime,
            camera,
            analyser,
            auto_capture,
            capture_screen: None,
            guide: None,
            preview_visible,
            camera_texture: None,
            thumbnails: HashMap::new(),
            pending_texture: None,
            notice: None,
            messages,
            sender,
            _engine: setup.engine,
        })
    }

    /// The wizard, for tests.
    pub fn flow(&self) -> &Flow {
        &self.flow
    }

    /// What the frame analysis says about the preview (capture screens only).
    pub fn guide(&self) -> Option<&CaptureGuide> {
        self.guide.as_ref()
    }

    /// What the camera thread is doing (the badges depend on it).
    pub fn camera_status(&self) -> CameraStatus {
        self.camera.status()
    }

    fn apply(&mut self, ctx: &egui::Context, action: Action) {
        let now = Instant::now();
        match action {
            Action::Flow(event) => {
                self.notice = None;
                let effect = self.flow.handle(event, now);
                self.apply_effect(effect);
            }
            Action::TakePicture => self.take_picture(),
            Action::LoadFromFile => self.load_from_file(ctx),
            Action::RetryCamera => self.camera.retry_now(),
            Action::Quit => ctx.send_viewport_cmd(egui::ViewportCommand::Close),
        }
    }

    fn apply_effect(&mut self, effect: Effect) {
        match effect {
            Effect::None => {}
            Effect::StartSubmission => {
                let captures = (
                    self.flow.document(),
                    self.flow.capture(CaptureTarget::Front),
                    self.flow.capture(CaptureTarget::Selfie),
                );
                if let (Some(document), Some(front), Some(selfie)) = captures {
                    let back = self
                        .flow
                        .capture(CaptureTarget::Back)
                        .filter(|_| document.has_back());
                    let request = OcrRequest::both_sides(
                        document,
                        front.upload.clone(),
                        back.map(|back| back.upload.clone()),
                    );
                    self.submission.start(request, selfie.upload.clone());
                }
            }
            Effect::ResubmitSelfie => {
                if let Some(selfie) = self.flow.capture(CaptureTarget::Selfie) {
                    self.submission.resubmit_selfie(selfie.upload.clone());
                }
            }
            Effect::CancelSubmission => self.submission.cancel(),
            Effect::WipeSession => {
                self.submission.wipe();
                self.thumbnails.clear();
                self.pending_texture = None;
                self.notice = None;
            }
        }
    }

    /// The Capture button: the newest checked frame when it is recent (a card is then cut
    /// out along the outline the check found), else the newest frame.
    fn take_picture(&mut self) {
        let Screen::Capture(target) = *self.flow.screen() else {
            return;
        };
        let since = self.screen_since(target);
        let recent = self.analyser.latest().filter(|analysis| {
            analysis.target == target
                && analysis.frame.taken_at >= since
                && analysis.frame.taken_at.elapsed() < Duration::from_millis(500)
        });
        match recent {
            Some(analysis) => {
                self.capture_frame(target, analysis.frame.clone(), analysis.check.card)
            }
            None => {
                // The button is enabled only once a frame of this screen arrived.
                if let Some(frame) = self.camera.latest().filter(|frame| frame.taken_at >= since) {
                    self.capture_frame(target, frame, None);
                }
            }
        }
    }

    /// `frame` becomes the still, prepared off the UI thread. A card is flattened along
    /// `card` (looked for here when the frame was not checked) when the whole card was
    /// found, else cropped to the outline (with a margin); a selfie keeps the whole frame.
    fn capture_frame(&mut self, target: CaptureTarget, frame: Arc<Frame>, card: Option<Quad>) {
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

    /// When the capture screen for `target` appeared (now, if it is not showing).
    fn screen_since(&self, target: CaptureTarget) -> Instant {
        match self.capture_screen {
            Some((showing, since)) if showing == target => since,
            _ => Instant::now(),
        }
    }

    /// Follows the frame analysis on a capture screen: the guide drawn over the preview,
    /// and the automatic picture when every gate held long enough.
    fn follow_analysis(&mut self, ctx: &egui::Context, now: Instant) {
        let Screen::Capture(target) = *self.flow.screen() else {
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
            self.capture_screen = Some((target, Instant::now()));
            if let Some(auto) = &mut self.auto_capture {
                auto.reset();
            }
            let earlier_side = match target {
                CaptureTarget::Back => self.flow.capture(CaptureTarget::Front).map(|front| {
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
            .filter(|analysis| analysis.target == target && analysis.frame.taken_at >= since);
        let mut guide = CaptureGuide {
            face_guidance_off,
            fresh_frame: self
                .camera
                .latest()
                .is_some_and(|frame| frame.taken_at >= since),
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
        guide.face = check.faces.as_deref().and_then(|faces| match faces {
            [face] => Some(egui::Rect::from_min_size(
                egui::pos2(face.left, face.top),
                egui::vec2(face.width, face.height),
            )),
            _ => None,
        });
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
    fn load_from_file(&mut self, ctx: &egui::Context) {
        let (sender, limits, ctx) = (self.sender.clone(), self.image_limits, ctx.clone());
        let lang = self.flow.lang();
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
                        Ok(image) => Message::Captured(Capture::new(upload, &image)),
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

    fn receive_messages(&mut self) {
        let now = Instant::now();
        while let Ok(message) = self.messages.try_recv() {
            let effect = match message {
                Message::Captured(capture) => self.flow.handle(Event::Captured(capture), now),
                Message::CaptureFailed(reason) => {
                    self.notice = Some(reason);
                    Effect::None
                }
                Message::Submission { generation, event }
                    if generation == self.submission.generation() =>
                {
                    self.flow.handle(event, now)
                }
                Message::Submission { .. } => Effect::None,
            };
            self.apply_effect(effect);
        }
    }

    /// Uploads what changed since the last frame: the newest camera frame (only while a
    /// capture screen shows), and the captures' previews.
    fn sync_textures(&mut self, ctx: &egui::Context) {
        let capture_screen = matches!(self.flow.screen(), Screen::Capture(_));
        self.preview_visible
            .store(capture_screen, Ordering::Relaxed);
        if let Screen::Capture(target) = self.flow.screen() {
            self.camera.hint().set(*target);
            if let Some(frame) = self.camera.latest() {
                if self
                    .camera_texture
                    .as_ref()
                    .is_none_or(|(sequence, _)| *sequence != frame.sequence)
                {
                    let size = [frame.image.width() as usize, frame.image.height() as usize];
                    let image = ColorImage::from_rgb(size, frame.image.as_raw());
                    match &mut self.camera_texture {
                        Some((sequence, texture)) => {
                            texture.set(image, TextureOptions::LINEAR);
                            *sequence = frame.sequence;
                        }
                        None => {
                            self.camera_texture = Some((
                                frame.sequence,
                                ctx.load_texture("camera", image, TextureOptions::LINEAR),
                            ))
                        }
                    }
                }
            }
        }
        for target in [
            CaptureTarget::Front,
            CaptureTarget::Back,
            CaptureTarget::Selfie,
        ] {
            match self.flow.capture(target) {
                Some(capture)
                    if self
                        .thumbnails
                        .get(&target)
                        .is_none_or(|known| known.serial != capture.serial) =>
                {
                    self.thumbnails
                        .insert(target, capture_texture(ctx, capture, "thumbnail"));
                }
                Some(_) => {}
                None => {
                    self.thumbnails.remove(&target);
                }
            }
        }
        self.pending_texture = match self.flow.pending_capture() {
            Some(capture) => match self.pending_texture.take() {
                Some(known) if known.serial == capture.serial => Some(known),
                _ => Some(capture_texture(ctx, capture, "still")),
            },
            None => None,
        };
    }
}

/// Product name, the badges (local engine, demo camera, staff mode) and, after Welcome, the
/// language switch.
fn top_bar_ui(
    ui: &mut egui::Ui,
    view: &View,
    backend_is_local: bool,
    staff_mode: bool,
) -> Option<Action> {
    let mut action = None;
    ui.horizontal(|ui| {
        ui.label(RichText::new(view.text("app-name")).size(22.0).strong());
        if backend_is_local {
            badge(
                ui,
                &view.text("badge-local-engine"),
                Color32::from_rgb(90, 90, 160),
            );
        }
        if let CameraStatus::Running { demo: true, .. } = view.camera_status {
            badge(
                ui,
                &view.text("badge-demo-camera"),
                Color32::from_rgb(150, 100, 0),
            );
        }
        if staff_mode {
            badge(
                ui,
                &view.text("badge-staff-mode"),
                Color32::from_rgb(160, 40, 40),
            );
            if ui.button(view.text("staff-quit")).clicked() {
                action = Some(Action::Quit);
            }
        }
        if *view.flow.screen() != Screen::Welcome {
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                for (lang, id) in [(Lang::Vi, "language-vi"), (Lang::En, "language-en")] {
                    if ui
                        .add(egui::Button::selectable(view.lang == lang, view.text(id)))
                        .clicked()
                    {
                        action = Some(Action::Flow(Event::SetLanguage(lang)));
                    }
                }
            });
        }
    });
    action
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

fn capture_texture(ctx: &egui::Context, capture: &Capture, name: &str) -> CaptureTexture {
    let size = [
        capture.preview.width() as usize,
        capture.preview.height() as usize,
    ];
    let image = ColorImage::from_rgba_unmultiplied(size, capture.preview.as_raw());
    CaptureTexture {
        serial: capture.serial,
        texture: ctx.load_texture(name, image, TextureOptions::LINEAR),
    }
}

fn badge(ui: &mut egui::Ui, label: &str, colour: Color32) {
    egui::Frame::new()
        .fill(colour)
        .corner_radius(8.0)
        .inner_margin(egui::Margin::symmetric(10, 4))
        .show(ui, |ui| {
            ui.label(RichText::new(label).size(18.0).color(Color32::WHITE));
        });
}

impl eframe::App for KioskApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        let now = Instant::now();
        self.receive_messages();
        let (active, close_requested, staff_chord) = ctx.input(|input| {
            let active = input.pointer.any_down()
                || input.events.iter().any(|event| {
                    matches!(
                        event,
                        egui::Event::Key { .. }
                            | egui::Event::Touch { .. }
                            | egui::Event::PointerButton { .. }
                    )
                });
            let chord =
                input.modifiers.ctrl && input.modifiers.alt && input.key_pressed(egui::Key::S);
            (active, input.viewport().close_requested(), chord)
        });
        if active {
            self.flow.touch(now);
        }
        if staff_chord {
            self.staff_mode = !self.staff_mode;
            tracing::info!(staff_mode = self.staff_mode, "staff mode toggled");
        }
        if close_requested && self.kiosk_mode && !self.staff_mode {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
        }
        let effect = self.flow.tick(now);
        self.apply_effect(effect);
        if *self.flow.screen() != Screen::Welcome {
            // Idle time passes without input: look again soon, cheaply.
            let soon = if self.flow.idle_countdown(now).is_some() {
                250
            } else {
                1000
            };
            ctx.request_repaint_after(Duration::from_millis(soon));
        }
        self.follow_analysis(ctx, now);
        self.sync_textures(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        let status = self.camera.status();
        let screen = self.flow.screen().clone();
        let actions = {
            let view = View {
                flow: &self.flow,
                lang: self.flow.lang(),
                camera_status: &status,
                camera_texture: self.camera_texture.as_ref().map(|(_, texture)| texture),
                thumbnails: &self
                    .thumbnails
                    .iter()
                    .map(|(target, known)| (*target, known.texture.clone()))
                    .collect(),
                pending: self.pending_texture.as_ref().map(|known| &known.texture),
                score_threshold: self.score_threshold,
                face_match_threshold: self.face_match_threshold,
                notice: self.notice.as_deref(),
                guide: self.guide.as_ref(),
            };
            let mut actions = Vec::new();
            let (local, staff) = (self.backend_is_local, self.staff_mode);
            egui::Panel::top("top-bar")
                .show(ui, |ui| actions.extend(top_bar_ui(ui, &view, local, staff)));
            egui::CentralPanel::default().show(ui, |ui| {
                let action = match &screen {
                    Screen::Welcome => ui::welcome::welcome_ui(ui, &view),
                    Screen::Consent => ui::consent::consent_ui(ui, &view),
                    Screen::DocumentChoice => ui::document_choice::document_choice_ui(ui, &view),
                    Screen::Capture(target) => ui::capture::capture_ui(ui, &view, *target),
                    Screen::Still(target) => ui::capture::still_ui(ui, &view, *target),
                    Screen::Review => ui::review::review_ui(ui, &view),
                    Screen::Submitting(step) => ui::submitting::submitting_ui(ui, &view, *step),
                    Screen::Result => ui::result::result_ui(ui, &view),
                    Screen::Guidance(guidance) => ui::guidance::guidance_ui(ui, &view, guidance),
                    Screen::BackendUnavailable => ui::guidance::backend_unavailable_ui(ui, &view),
                };
                actions.extend(action);
            });
            if let Some(left) = self.flow.idle_countdown(Instant::now()) {
                actions.extend(ui::idle::idle_ui(&ctx, &view, left));
            }
            actions
        };
        for action in actions {
            self.apply(&ctx, action);
        }
    }
}
