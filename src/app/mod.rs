//! The kiosk application: the [`Flow`], the camera, the submission worker and the screens,
//! tied together. Screens return [`Action`]s; they are applied once, at the end of the
//! frame, and the flow's [`Effect`]s after them.

mod attempt_recorder;
mod auth_tries;
mod capture;
mod challenge;
mod chip_station;
pub mod out_of_service;
mod report_sender;
mod staff_mode;
pub mod submission;
pub mod voice;

use std::collections::HashMap;
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::{Color32, ColorImage, TextureHandle, TextureOptions};
use zeroize::Zeroize;

use crate::camera::{CameraStatus, SceneHint, SourceFactory};
use crate::config::{CaptureConfig, LivenessConfig, LivenessModel};
use crate::flow::{Capture, CaptureTarget, Effect, Event, Flow, Screen};
use crate::quality::Thresholds;
use crate::ui::capture::CaptureGuide;
use crate::ui::{self, Action, Type, View};
pub use attempt_recorder::screen_name;
use attempt_recorder::AttemptRecorder;
pub use capture::crop_card;
use capture::CapturePipeline;
pub use challenge::{dot_path, ChallengeSetup};
pub use chip_station::ChipSetup;
use ekyc_client::{FptClient, KryptonClient, OcrRequest};
use ekyc_contract::{KryptonAction, KryptonFlow, Lang, Secret};
use ekyc_engine::EngineHandle;
use ekyc_face::{FaceDetector, FaceMesh, FaceModels};
use ekyc_imaging::ImageLimits;
use report_sender::ReportSender;
pub use report_sender::ReportSetup;
pub use staff_mode::StaffSetup;
use staff_mode::{ResultDecision, StaffMode};
use submission::{Selfies, Submission};

/// The Wayland app id and X11 class: the desktop file and the icons carry the same name
/// (`packaging/vn.ekyc.kiosk.desktop`, `assets/icons/`).
pub const APP_ID: &str = "vn.ekyc.kiosk";

static PROCESS_START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

/// Notes when the process started (the first thing `main` does), for the start-up figures
/// the log gives (`benches/kiosk-vitals` reads them).
pub fn mark_process_start() {
    PROCESS_START.get_or_init(Instant::now);
}

/// Milliseconds since [`mark_process_start`] (since first asked, without it).
pub(crate) fn since_process_start() -> u128 {
    PROCESS_START
        .get_or_init(Instant::now)
        .elapsed()
        .as_millis()
}

/// What the kiosk needs to run, made before the window opens (the face models in it are
/// read behind the Welcome screen: [`FaceModels`], [`ekyc_engine::start_loading`]).
pub struct KioskSetup {
    /// The time the kiosk's own timing reads (idle, staff mode): the system's.
    pub clock: crate::clock::Clock,
    pub lang: Lang,
    pub kiosk_mode: bool,
    pub idle_timeout: Duration,
    /// How long "Do you need more time?" waits.
    pub more_time: Duration,
    /// Spoken instructions (`ui.voice`); `None`: silent.
    pub voice: Option<voice::VoiceSetup>,
    pub score_threshold: f32,
    pub face_match_threshold: f32,
    pub image_limits: ImageLimits,
    pub client: FptClient,
    /// Opens Krypton sessions (AUTH, LIVENESS, ENROLL keeping the face); `None` with an
    /// FPT.AI back end, which then offers ENROLL only.
    pub krypton: Option<KryptonClient>,
    /// Every verification goes through a Krypton session (`backend = "krypton"`).
    pub krypton_only: bool,
    /// The journeys offered (`[journey]`).
    pub journeys: JourneySetup,
    /// The in-process engine, when the back end is local (kept alive here).
    pub engine: Option<EngineHandle>,
    pub runtime: tokio::runtime::Handle,
    pub camera: SourceFactory,
    /// The camera's name in `camera.device` terms (`demo`, `auto`, an index), for staff.
    pub camera_device: String,
    pub hint: Arc<SceneHint>,
    pub capture: CaptureSetup,
    /// Staff mode: its PIN, its time-out, whether a clerk decides each result.
    pub staff: StaffSetup,
    /// The attempt log (`desk.attempt_log`), and the state database it is read from.
    pub records: RecordsSetup,
    /// The report of each result to the bank.
    pub reports: ReportSetup,
    /// The card's chip: when journeys read it, the reader, the CSCA list.
    pub chip: ChipSetup,
}

/// The kiosk's records, from the configuration (`[desk]`).
#[derive(Default)]
pub struct RecordsSetup {
    /// The attempt log, started; `None`: nothing recorded.
    pub attempt_log: Option<crate::records::AttemptLog>,
    /// Where the attempt log is read for the dashboard.
    pub state: Option<crate::records::StateDb>,
}

/// The journeys this kiosk offers (`[journey]`).
#[derive(Debug, Clone)]
pub struct JourneySetup {
    /// The first is Start's; more than one puts a choice on the Welcome screen.
    pub offered: Vec<KryptonAction>,
    /// ENROLL: card or face first.
    pub order: KryptonFlow,
    /// ENROLL: keep the face for a later AUTH, under the card's ID number (read from its
    /// QR code on this machine).
    pub keep_face: bool,
    /// Failed AUTH tries in an hour after which AUTH is for staff mode only.
    pub auth_tries_per_hour: u32,
}

impl Default for JourneySetup {
    fn default() -> Self {
        Self {
            offered: vec![KryptonAction::Enroll],
            order: KryptonFlow::CardFirst,
            keep_face: false,
            auth_tries_per_hour: 10,
        }
    }
}

/// The journeys the kiosk can offer of those configured: without a back end that speaks
/// Krypton v3 (an FPT.AI back end: no AUTH, no separate liveness session, nothing kept),
/// ENROLL alone, and the log says why.
pub fn journeys_offered(configured: &[KryptonAction], speaks_krypton: bool) -> Vec<KryptonAction> {
    if speaks_krypton {
        return configured.to_vec();
    }
    if configured
        .iter()
        .any(|action| *action != KryptonAction::Enroll)
    {
        tracing::warn!(
            "journeys AUTH and LIVENESS need a back end that speaks Krypton v3 (the local \
             engine, or backend = \"krypton\"): this kiosk offers ENROLL only"
        );
    }
    vec![KryptonAction::Enroll]
}

/// The capture screens' gates and auto-capture.
pub struct CaptureSetup {
    pub thresholds: Thresholds,
    /// Take the picture by itself when every gate holds.
    pub auto_capture: bool,
    pub steady_frames: u32,
    pub countdown: Duration,
    /// The face detector (without it selfies are not checked for faces) and the mesh,
    /// also the challenge's ([`ChallengeSetup::faces`]).
    pub faces: FaceModels,
    /// The liveness challenge after the selfie.
    pub challenge: ChallengeSetup,
}

impl CaptureSetup {
    /// From the `[capture]` and `[liveness]` settings, the face models read behind the
    /// Welcome screen; a missing or broken face model is logged once and leaves face
    /// guidance off (the app works without it); without the face mesh models the challenge
    /// runs unscored here (the back end judges it).
    pub fn from_config(config: &CaptureConfig, liveness: &LivenessConfig) -> Self {
        let (face_model, min_score) = (config.face_model.clone(), config.face_min_score);
        let faces = FaceModels::load_in_background(move || {
            let detector = match FaceDetector::load(face_model.as_deref()) {
                Ok(mut detector) => {
                    detector.min_score = min_score;
                    Some(Arc::new(detector))
                }
                Err(error) => {
                    tracing::warn!("face guidance off: {error}");
                    None
                }
            };
            let mesh = match FaceMesh::load(None) {
                Ok(mesh) => Some(Arc::new(mesh)),
                Err(error) => {
                    tracing::warn!("the kiosk cannot score the liveness challenge: {error}");
                    None
                }
            };
            (detector, mesh)
        });
        let challenge = ChallengeSetup {
            length: Duration::from_millis(liveness.challenge_ms),
            attempts: (liveness.model == LivenessModel::Gaze).then_some(liveness.attempts),
            thresholds: liveness.challenge_thresholds(),
            faces: faces.clone(),
            // Set to the kiosk's back end when the window starts.
            issuer: None,
        };
        Self {
            challenge,
            thresholds: config.thresholds(),
            auto_capture: config.auto_capture,
            steady_frames: config.steady_frames,
            countdown: Duration::from_millis(config.countdown_ms),
            faces,
        }
    }
}

/// Messages from worker threads to the UI thread.
// A few per customer, moved once: their size does not matter.
#[allow(clippy::large_enum_variant)]
enum Message {
    /// A still is ready (camera or file).
    Captured(Capture),
    /// A still could not be made (a file that is not an image, …).
    CaptureFailed(String),
    /// A report from the submission worker.
    Submission { generation: u64, event: Event },
    /// The customer's card was read on the identify screen: their ID number.
    Identified(Secret),
    /// A line for staff (a report saved, or why not).
    Notice(String),
    /// The verdict of the liveness challenge numbered `serial`.
    ChallengeDone {
        serial: u64,
        outcome: crate::flow::ChallengeOutcome,
    },
    /// The outcome of the chip read numbered `serial`.
    Chip {
        serial: u64,
        event: chip_station::ChipEvent,
    },
}

/// A texture made from a capture, remembered with the capture's serial.
struct CaptureTexture {
    serial: u64,
    texture: TextureHandle,
}

pub struct KioskApp {
    /// The time the flow's and staff mode's timing reads.
    clock: crate::clock::Clock,
    flow: Flow,
    kiosk_mode: bool,
    /// Every step of the attempt, in the attempt log.
    attempts: AttemptRecorder,
    /// The result's report to the bank.
    reports: ReportSender,
    /// Staff mode: the PIN pad, the time-out, the dashboard and the settings.
    staff: StaffMode,
    /// The decision on the result (at a desk, or in staff mode).
    decision: ResultDecision,
    /// Failed AUTH tries lately: past the limit, AUTH is for staff mode only.
    auth_tries: auth_tries::AuthTries,
    /// The journeys this kiosk's back end can run (staff may offer any of them).
    possible_journeys: Vec<KryptonAction>,
    /// The camera in use, as `camera.device` names it, and those staff may choose from.
    camera_device: String,
    cameras: Vec<(String, String)>,
    score_threshold: f32,
    face_match_threshold: f32,
    backend_is_local: bool,
    /// The camera, the preview's analysis and the stills.
    capture: CapturePipeline,
    thumbnails: HashMap<CaptureTarget, CaptureTexture>,
    pending_texture: Option<CaptureTexture>,
    notice: Option<String>,
    submission: Submission,
    messages: Receiver<Message>,
    /// For worker threads started later (the report's save dialog).
    sender: std::sync::mpsc::Sender<Message>,
    /// The identify screen's number, as typed (zeroed at the wipe).
    keypad: zeroize::Zeroizing<String>,
    /// The current customer's text size and contrast (back to the default at the wipe).
    look: ui::look::Look,
    /// The wipe asked for the default look (applied in the next frame, with the context).
    reset_look: bool,
    /// Counts the screens shown: each new one gets a fresh scroll position.
    visit: u64,
    last_screen: Screen,
    /// Spoken instructions (`ui.voice`).
    voice: Option<voice::Voice>,
    /// The chip step's reads.
    chip: chip_station::ChipStation,
    /// The card readers staff may choose from (listed when the settings open; `None` with
    /// the chip off), or why none could be listed.
    chip_readers: Option<Result<Vec<String>, String>>,
    /// The chip's photo, uploaded for staff's comparison.
    chip_photo: Option<TextureHandle>,
    /// The card's numbers as staff type them on the chip screen (zeroed at the wipe).
    chip_key: ui::chip::ChipKeyDraft,
    /// The first frame was drawn (logged once, with the time since start).
    drawn: bool,
    _engine: Option<EngineHandle>,
}

impl KioskApp {
    pub fn new(cc: &eframe::CreationContext<'_>, mut setup: KioskSetup) -> std::io::Result<Self> {
        let ctx = cc.egui_ctx.clone();
        // Each attempt's dot path is asked of the back end, which then scores the
        // following itself.
        setup.capture.challenge.issuer = Some(setup.client.clone());
        ui::install_style(&ctx);
        let (sender, messages) = std::sync::mpsc::channel();
        let capture = CapturePipeline::start(
            &ctx,
            setup.camera,
            setup.clock.clone(),
            setup.hint,
            &setup.capture,
            setup.image_limits,
            setup.runtime.clone(),
            sender.clone(),
        )?;
        let report_sender = sender.clone();
        let report_ctx = ctx.clone();
        let report: submission::Report = Arc::new(move |generation, event| {
            let _ = report_sender.send(Message::Submission { generation, event });
            report_ctx.request_repaint();
        });
        let offered = journeys_offered(&setup.journeys.offered, setup.krypton.is_some());
        let mut flow = Flow::new(setup.lang, setup.idle_timeout, setup.clock.now())
            .with_more_time(setup.more_time)
            .with_journeys(&offered, setup.journeys.order)
            .with_chip(setup.chip.mode);
        let model = match setup.capture.challenge.attempts {
            Some(attempts) => {
                flow = flow.with_challenge(attempts);
                LivenessModel::Gaze
            }
            None => LivenessModel::Passive,
        };
        Ok(Self {
            clock: setup.clock.clone(),
            flow,
            kiosk_mode: setup.kiosk_mode,
            attempts: AttemptRecorder::new(setup.records.attempt_log),
            reports: ReportSender::new(setup.reports, &setup.runtime),
            decision: ResultDecision::new(setup.staff.mode),
            auth_tries: auth_tries::AuthTries::new(setup.journeys.auth_tries_per_hour),
            staff: StaffMode::new(setup.staff, setup.records.state),
            camera_device: setup.camera_device.clone(),
            cameras: Vec::new(),
            // Without Krypton sessions (an FPT.AI back end), ENROLL alone.
            possible_journeys: if setup.krypton.is_some() {
                vec![
                    KryptonAction::Enroll,
                    KryptonAction::Auth,
                    KryptonAction::Liveness,
                ]
            } else {
                vec![KryptonAction::Enroll]
            },
            score_threshold: setup.score_threshold,
            face_match_threshold: setup.face_match_threshold,
            backend_is_local: setup.engine.is_some(),
            submission: Submission::new(
                setup.runtime,
                submission::Verifier {
                    client: setup.client,
                    krypton: setup.krypton,
                    krypton_only: setup.krypton_only,
                    model,
                    keep_face: setup.journeys.keep_face,
                },
                report,
            ),
            capture,
            thumbnails: HashMap::new(),
            pending_texture: None,
            notice: None,
            messages,
            sender: sender.clone(),
            keypad: zeroize::Zeroizing::new(String::new()),
            look: ui::look::Look::default(),
            reset_look: false,
            visit: 0,
            last_screen: Screen::Welcome,
            voice: setup.voice.map(voice::Voice::new),
            chip: chip_station::ChipStation::new(setup.chip),
            chip_key: ui::chip::ChipKeyDraft::default(),
            chip_photo: None,
            chip_readers: None,
            drawn: false,
            _engine: setup.engine,
        })
    }

    /// The wizard, for tests.
    pub fn flow(&self) -> &Flow {
        &self.flow
    }

    /// What the frame analysis says about the preview (capture screens only).
    pub fn guide(&self) -> Option<&CaptureGuide> {
        self.capture.guide()
    }

    /// What the camera thread is doing (the badges depend on it).
    pub fn camera_status(&self) -> CameraStatus {
        self.capture.camera_status()
    }

    /// The card reader the chip is read on (part of its name; empty: the first with a card).
    pub fn chip_reader(&self) -> &str {
        self.chip.reader()
    }

    /// Whether staff mode is open.
    pub fn staff_mode(&self) -> bool {
        self.staff.is_open()
    }

    /// Hands `event` to the flow, noting in the attempt log what it carried and led to.
    fn handle(&mut self, event: Event, now: Instant) -> Effect {
        if let Event::Finished(Err(error)) = &event {
            let no_match = matches!(
                error,
                ekyc_client::ApiError::FaceMismatch { .. }
                    | ekyc_client::ApiError::NotEnrolled { .. }
            );
            if no_match && self.flow.action() == KryptonAction::Auth {
                self.auth_tries.failed(now);
            }
        }
        let before = self.attempts.before(&self.flow, &event, now);
        let effect = self.flow.handle(event, now);
        let change = self
            .attempts
            .after(before, &self.flow, self.face_match_threshold, now);
        self.reports
            .follow(change, &self.flow, self.decision.decided());
        effect
    }

    /// AUTH asked for after too many failed tries lately: refused outside staff mode, the
    /// customer asked to see staff, the refusal in the attempt log.
    fn refuse_auth(&mut self, action: &Action, now: Instant) -> bool {
        let journey = match action {
            Action::Flow(Event::StartJourney(journey)) => *journey,
            _ => self.flow.offered()[0],
        };
        if journey != KryptonAction::Auth || self.staff.is_open() || !self.auth_tries.exhausted(now)
        {
            return false;
        }
        tracing::warn!("AUTH refused: too many failed tries on this kiosk lately");
        self.attempts.refused(journey, "auth_tries");
        self.notice = Some(ui::text(self.flow.lang(), "welcome-auth-ask-staff"));
        true
    }

    fn apply(&mut self, ctx: &egui::Context, action: Action) {
        let now = self.clock.now();
        match action {
            Action::Flow(Event::Finish) if !self.decision.may_finish() => {}
            Action::Flow(Event::Start | Event::StartJourney(_))
                if self.refuse_auth(&action, now) => {}
            Action::Flow(event) => {
                self.notice = None;
                let starts = matches!(event, Event::Start | Event::StartJourney(_));
                let effect = self.handle(event, now);
                self.apply_effect(effect);
                if starts && self.chip_required_and_missing() {
                    tracing::warn!("chip.mode is required and no card reader answers");
                    let effect = self.handle(Event::NoChipReader, now);
                    self.apply_effect(effect);
                }
            }
            Action::ChipRetry => {
                self.flow.touch(now);
                self.start_chip_read(ctx, None);
            }
            Action::ChipKeyDraft(draft) => {
                self.flow.touch(now);
                self.chip_key = draft;
            }
            Action::ChipReadWithKey => {
                self.flow.touch(now);
                if let Some(key) = self.chip_key.key() {
                    self.start_chip_read(ctx, Some(key));
                }
            }
            Action::TakePicture => {
                let gate = self
                    .capture
                    .guide()
                    .and_then(|guide| guide.instruction)
                    .map(|instruction| format!("{instruction:?}"));
                self.attempts.manual_capture(gate);
                self.capture.take_picture(&self.flow);
            }
            Action::OpenPinPad => self.staff.open_pin_pad(),
            Action::LeaveStaffMode => self.staff.leave("asked"),
            Action::Pin(key) => self.staff.pin_key(key, self.flow.lang(), now),
            Action::DecisionDraft(draft) => {
                self.flow.touch(now);
                self.decision.draft = draft;
            }
            Action::Decide(decision) => {
                self.flow.touch(now);
                self.attempts.decided(&decision);
                self.decision.decide(decision);
            }
            Action::SaveReport(page) => self.save_report(ctx, *page),
            Action::Dashboard(open) => self.staff.show_dashboard(open, self.attempts.log()),
            Action::Settings(open) => {
                self.staff.show_settings(open);
                if self.staff.settings_open() {
                    // Names only, no camera opened: fast, and fine while one is in use.
                    let mut cameras = vec![
                        (
                            "demo".to_owned(),
                            ui::text(self.flow.lang(), "settings-camera-demo"),
                        ),
                        (
                            "auto".to_owned(),
                            ui::text(self.flow.lang(), "settings-camera-auto"),
                        ),
                    ];
                    cameras.extend(crate::camera::camera_names());
                    self.cameras = cameras;
                    self.chip_readers =
                        (self.chip.mode() != crate::chip::ChipMode::Off).then(|| self.chip.list());
                }
            }
            Action::Setting(setting) => self.change_setting(ctx, setting, now),
            Action::LoadFromFile => self.capture.load_from_file(ctx, self.flow.lang()),
            Action::RetryCamera => self.capture.retry_camera(),
            Action::Keypad(key) => self.keypad_key(key, now),
            Action::Quit => ctx.send_viewport_cmd(egui::ViewportCommand::Close),
            Action::SetLook(look) => {
                self.flow.touch(now);
                self.set_look(ctx, look);
            }
        }
    }

    /// A journey that must read the chip was started and no card reader answers.
    fn chip_required_and_missing(&self) -> bool {
        self.flow.chip_mode() == crate::chip::ChipMode::Required
            && self.flow.reads_chip()
            && !self.chip.reader_present()
    }

    /// Starts the chip's read: with `typed` (staff's numbers), else with the MRZ read on
    /// the card's back (or a passport's front).
    fn start_chip_read(&mut self, ctx: &egui::Context, typed: Option<ekyc_chip::ChipKey>) {
        let pictures = [CaptureTarget::Back, CaptureTarget::Front]
            .into_iter()
            .filter_map(|target| self.flow.capture(target))
            .map(|capture| capture.upload.jpeg.clone())
            .collect();
        self.chip.start(ctx, pictures, typed, self.sender.clone());
    }

    /// A setting changed in staff mode, in force at once (until the kiosk restarts).
    fn change_setting(
        &mut self,
        ctx: &egui::Context,
        setting: ui::staff::StaffSetting,
        now: Instant,
    ) {
        use ui::staff::StaffSetting;
        if !self.staff.is_open() {
            return;
        }
        tracing::info!(?setting, "staff changed a setting");
        match setting {
            StaffSetting::Language(lang) => {
                let effect = self.handle(Event::SetLanguage(lang), now);
                self.apply_effect(effect);
            }
            StaffSetting::Journey(journey, offer) => {
                let mut offered = self.flow.offered().to_vec();
                offered.retain(|known| *known != journey);
                if offer && self.possible_journeys.contains(&journey) {
                    offered.push(journey);
                }
                if !self.flow.set_journeys(&offered) {
                    self.notice = Some(ui::text(self.flow.lang(), "settings-after-customer"));
                }
            }
            StaffSetting::Camera(device) => {
                if *self.flow.screen() != Screen::Welcome {
                    return;
                }
                match self.capture.switch_camera(ctx, &device) {
                    Ok(()) => self.camera_device = device.clone(),
                    Err(error) => {
                        tracing::error!("cannot start the camera thread: {error}");
                        self.notice = Some(error.to_string());
                    }
                }
            }
            StaffSetting::ChipReader(reader) => self.chip.set_reader(reader),
            StaffSetting::Preset(preset) => {
                self.staff.preset = preset;
                self.capture
                    .set_thresholds(crate::quality::Thresholds::preset(preset));
            }
        }
    }

    /// *Save report…*: the save dialog on its own thread (GTK, as "Load from file"), then
    /// the PDF written there, readable by its owner alone. Nothing is written otherwise.
    fn save_report(&self, ctx: &egui::Context, page: crate::report::pdf::PageText) {
        let (sender, lang, ctx) = (self.sender.clone(), self.flow.lang(), ctx.clone());
        let spawned = std::thread::Builder::new()
            .name("report-file".into())
            .spawn(move || {
                let picked = rfd::FileDialog::new()
                    .set_title(ui::text(lang, "report-save"))
                    .set_file_name("ekyc-report.pdf")
                    .add_filter("PDF", &["pdf"])
                    .save_file();
                let Some(path) = picked else { return };
                let written = crate::report::pdf::render(&page)
                    .and_then(|pdf| write_private(&path, &pdf).map_err(|error| error.to_string()));
                let notice = match written {
                    Ok(()) => {
                        tracing::info!("verification report saved by staff");
                        ui::text_with(
                            lang,
                            "report-saved",
                            &[("path", path.display().to_string())],
                        )
                    }
                    Err(reason) => ui::text_with(lang, "report-not-saved", &[("reason", reason)]),
                };
                let _ = sender.send(Message::Notice(notice));
                ctx.request_repaint();
            });
        if let Err(error) = spawned {
            tracing::error!("cannot open the save dialog: {error}");
        }
    }

    fn set_look(&mut self, ctx: &egui::Context, look: ui::look::Look) {
        if look != self.look {
            self.look = look;
            ui::look::apply(ctx, look);
        }
    }

    /// The current customer's text size and contrast, for tests.
    pub fn look(&self) -> ui::look::Look {
        self.look
    }

    fn keypad_key(&mut self, key: ui::identify::Key, now: Instant) {
        use ui::identify::{Key, MAX_DIGITS};
        if !self.staff.is_open() {
            // Staff type the number; a customer alone holds up the card.
            return;
        }
        match key {
            Key::Digit(digit) if self.keypad.len() < MAX_DIGITS && digit < 10 => {
                self.keypad.push(char::from(b'0' + digit));
            }
            Key::Digit(_) => {}
            Key::Erase => {
                self.keypad.pop();
            }
            Key::Done if !self.keypad.is_empty() => {
                let typed = Secret::new(self.keypad.as_str());
                self.keypad.zeroize();
                let effect = self.handle(Event::Identified(typed), now);
                self.apply_effect(effect);
            }
            Key::Done => {}
        }
    }

    fn apply_effect(&mut self, effect: Effect) {
        match effect {
            Effect::None => {}
            Effect::StartSubmission => {
                if let Some((request, selfies)) = self.submission_content() {
                    let journey = self.journey();
                    self.submission.start(journey, request, selfies);
                }
            }
            Effect::ResubmitSelfie => {
                if let Some((request, selfies)) = self.submission_content() {
                    let journey = self.journey();
                    self.submission.resubmit_selfie(journey, request, selfies);
                }
            }
            Effect::CancelSubmission => self.submission.cancel(),
            Effect::WipeSession => {
                self.chip.stop();
                self.chip_key = ui::chip::ChipKeyDraft::default();
                self.attempts.wipe();
                self.reports.wipe();
                self.decision.wipe();
                self.keypad.zeroize();
                self.reset_look = true;
                self.submission.wipe();
                self.thumbnails.clear();
                self.pending_texture = None;
                self.notice = None;
                ekyc_process::memory::release_freed();
            }
        }
    }

    /// The current customer's journey, for the submission.
    fn journey(&self) -> submission::KioskJourney {
        submission::KioskJourney {
            action: self.flow.action(),
            order: self.flow.order(),
            customer_id: self.flow.customer_id().cloned(),
            chip: self.flow.chip().cloned(),
        }
    }

    /// What a submission sends: the document's sides (ENROLL), and the selfie followed by
    /// the challenge's frames (with the back end's challenge they followed), once all are
    /// taken.
    fn submission_content(&self) -> Option<(Option<OcrRequest>, Selfies)> {
        let selfie = self.flow.capture(CaptureTarget::Selfie)?;
        let request = if self.flow.action() == KryptonAction::Enroll {
            let document = self.flow.document()?;
            let front = self.flow.capture(CaptureTarget::Front)?;
            let back = self
                .flow
                .capture(CaptureTarget::Back)
                .filter(|_| document.has_back());
            Some(OcrRequest::both_sides(
                document,
                front.upload.clone(),
                back.map(|back| back.upload.clone()),
            ))
        } else {
            None
        };
        let mut frames = vec![selfie.upload.clone()];
        let mut challenge = None;
        if let Some(recording) = self.flow.recording() {
            frames.extend(recording.frames.iter().cloned());
            challenge = recording.engine_challenge.clone();
        }
        Some((request, Selfies { frames, challenge }))
    }

    fn receive_messages(&mut self) {
        let now = self.clock.now();
        while let Ok(message) = self.messages.try_recv() {
            let effect = match message {
                Message::Captured(capture) => self.handle(Event::Captured(capture), now),
                Message::CaptureFailed(reason) | Message::Notice(reason) => {
                    self.notice = Some(reason);
                    Effect::None
                }
                Message::Identified(customer_id) => {
                    self.handle(Event::Identified(customer_id), now)
                }
                Message::Submission { generation, event }
                    if generation == self.submission.generation() =>
                {
                    self.handle(event, now)
                }
                Message::Submission { .. } => Effect::None,
                Message::ChallengeDone { serial, outcome }
                    if serial == self.capture.challenge_serial() =>
                {
                    self.handle(Event::ChallengeDone(outcome), now)
                }
                Message::ChallengeDone { .. } => Effect::None,
                Message::Chip { serial, event } if serial == self.chip.serial() => match event {
                    chip_station::ChipEvent::Read(outcome) => {
                        self.handle(Event::ChipRead(outcome), now)
                    }
                    chip_station::ChipEvent::NoReader => self.handle(Event::NoChipReader, now),
                    chip_station::ChipEvent::Failed(problem) => {
                        self.attempts.chip_problem(problem.code());
                        Effect::None
                    }
                },
                Message::Chip { .. } => Effect::None,
            };
            self.apply_effect(effect);
        }
    }

    /// Uploads what changed since the last frame: the newest camera frame (only while a
    /// capture screen shows), and the captures' previews.
    fn sync_textures(&mut self, ctx: &egui::Context) {
        self.capture.sync_preview(ctx, &self.flow);
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
        match self.flow.chip() {
            Some(chip) if self.chip_photo.is_none() => {
                self.chip_photo = crate::chip::photo_pixels(&chip.read).ok().map(|photo| {
                    let image = ColorImage::from_rgb(
                        [photo.width() as usize, photo.height() as usize],
                        photo.as_raw(),
                    );
                    ctx.load_texture("chip-photo", image, TextureOptions::LINEAR)
                });
            }
            Some(_) => {}
            None => self.chip_photo = None,
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

/// Product name and the badges (local engine, demo camera, staff mode) on the left; on
/// the right, on every screen, A+ and high contrast and, after Welcome, the language
/// switch. Left to right in the order a screen reader reads them.
fn top_bar_ui(
    ui: &mut egui::Ui,
    view: &View,
    backend_is_local: bool,
    staff_mode: bool,
) -> Option<Action> {
    let mut action = None;
    let palette = ui::look::palette(ui.ctx());
    // Wrapped: with larger text the toggles take a second row rather than leave the screen.
    ui.horizontal_wrapped(|ui| {
        // A long press on the name opens the staff PIN pad (a kiosk has no keyboard).
        let name = ui.add(
            egui::Label::new(Type::Note.text(view.text("app-name")).strong())
                .sense(egui::Sense::click()),
        );
        let held = ui.input(|input| {
            input
                .pointer
                .press_start_time()
                .map(|start| input.time - start)
        });
        if name.is_pointer_button_down_on() {
            match held {
                Some(held) if held >= LONG_PRESS_SECS => action = Some(Action::OpenPinPad),
                _ => ui.ctx().request_repaint_after(Duration::from_millis(100)),
            }
        }
        if backend_is_local {
            badge(ui, &view.text("badge-local-engine"), palette.info_banner);
        }
        if let CameraStatus::Running { demo: true, .. } = view.camera_status {
            badge(ui, &view.text("badge-demo-camera"), palette.caution_banner);
        }
        if staff_mode {
            badge(ui, &view.text("badge-staff-mode"), palette.bad_banner);
            if ui.button(view.text("staff-leave")).clicked() {
                action = Some(Action::LeaveStaffMode);
            }
            if ui.button(view.text("staff-dashboard")).clicked() {
                action = Some(Action::Dashboard(true));
            }
            if ui.button(view.text("staff-settings")).clicked() {
                action = Some(Action::Settings(true));
            }
            if ui.button(view.text("staff-quit")).clicked() {
                action = Some(Action::Quit);
            }
        }
        // (visible text, what a screen reader says, selected, what a press does)
        let mut toggles = vec![
            (
                "A+".to_owned(),
                view.text("look-larger-text"),
                view.look.large_text,
                Action::SetLook(ui::look::Look {
                    large_text: !view.look.large_text,
                    ..view.look
                }),
            ),
            (
                "◐".to_owned(),
                view.text("look-high-contrast"),
                view.look.high_contrast,
                Action::SetLook(ui::look::Look {
                    high_contrast: !view.look.high_contrast,
                    ..view.look
                }),
            ),
        ];
        if *view.flow.screen() != Screen::Welcome {
            for (lang, id) in [(Lang::En, "language-en"), (Lang::Vi, "language-vi")] {
                let name = view.text(id);
                toggles.push((
                    name.clone(),
                    name,
                    view.lang == lang,
                    Action::Flow(Event::SetLanguage(lang)),
                ));
            }
        }
        // Pushed to the right edge by their width (as drawn last frame; estimated on the
        // first), not by a right-to-left layout, which would hand a screen reader the
        // buttons in reverse. One group: with larger text it moves to a second row whole.
        let width_key = egui::Id::unique("top-bar-toggles-width");
        let estimate = toggles.len() as f32 * 140.0;
        let width = ui
            .ctx()
            .data(|data| data.get_temp::<f32>(width_key))
            .unwrap_or(estimate);
        // (In a wrapping row, `available_width` is a whole row's; what is left of this
        // one is `available_size_before_wrap`.)
        if ui.available_size_before_wrap().x < width + 1.0 {
            ui.end_row();
        }
        ui.add_space((ui.available_size_before_wrap().x - width - 1.0).max(0.0));
        let group = ui.horizontal(|ui| {
            for (text, spoken, selected, toggle) in toggles {
                let response = ui
                    .add(ui::toggle(ui, selected, &text).min_size(egui::vec2(56.0, 56.0)))
                    .on_hover_text(&spoken);
                response.widget_info(|| {
                    egui::WidgetInfo::selected(egui::Role::Button, true, selected, &spoken)
                });
                if response.clicked() {
                    action = Some(toggle);
                }
            }
        });
        let drawn = group.response.rect.width();
        if (drawn - width).abs() > 0.5 {
            ui.ctx().data_mut(|data| data.insert_temp(width_key, drawn));
            ui.ctx().request_repaint();
        }
    });
    action
}

/// The PIN pad's keys typed on a keyboard this frame.
fn pin_keys_typed(input: &egui::InputState) -> Vec<ui::staff::PinKey> {
    use egui::Key;
    use ui::staff::PinKey;
    const DIGITS: [Key; 10] = [
        Key::Num0,
        Key::Num1,
        Key::Num2,
        Key::Num3,
        Key::Num4,
        Key::Num5,
        Key::Num6,
        Key::Num7,
        Key::Num8,
        Key::Num9,
    ];
    input
        .events
        .iter()
        .filter_map(|event| match event {
            egui::Event::Key {
                key, pressed: true, ..
            } => match key {
                Key::Backspace => Some(PinKey::Erase),
                Key::Enter => Some(PinKey::Enter),
                Key::Escape => Some(PinKey::Close),
                digit => DIGITS
                    .iter()
                    .position(|known| known == digit)
                    .map(|value| PinKey::Digit(value as u8)),
            },
            _ => None,
        })
        .collect()
}

/// How long the title is held to open the staff PIN pad.
const LONG_PRESS_SECS: f64 = 2.0;

/// Staff mode: how many reports wait for the bank, and the alert when one waited too long.
fn staff_outbox_ui(ui: &mut egui::Ui, view: &View, waiting: u64, overdue_hours: Option<u64>) {
    let palette = ui::look::palette(ui.ctx());
    ui.horizontal_wrapped(|ui| {
        let text = ui::text_with(
            view.lang,
            "outbox-waiting",
            &[("count", waiting.to_string())],
        );
        badge(ui, &text, palette.info_banner);
        if let Some(hours) = overdue_hours {
            let alert = ui::text_with(view.lang, "outbox-overdue", &[("hours", hours.to_string())]);
            badge(ui, &alert, palette.bad_banner);
        }
    });
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
    let on_banner = ui::look::palette(ui.ctx()).on_banner;
    egui::Frame::new()
        .fill(colour)
        .corner_radius(8.0)
        .inner_margin(egui::Margin::symmetric(10, 4))
        .show(ui, |ui| {
            ui.label(Type::Small.text(label).color(on_banner));
        });
}

impl eframe::App for KioskApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        let now = self.clock.now();
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
        if self.staff.pin_pad_open() {
            // At a desk with a keyboard the PIN is typed too: digits, Backspace, Enter, Escape.
            let keys = ctx.input(pin_keys_typed);
            for key in keys {
                self.staff.pin_key(key, self.flow.lang(), now);
            }
        }
        if staff_chord {
            self.staff.chord();
        }
        if let Some(left) = self.staff.tick(active, now) {
            // Staff mode closes by itself: look again when it is due.
            ctx.request_repaint_after(left);
        }
        if close_requested && self.kiosk_mode && !self.staff.is_open() {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
        }
        let before = self.flow.screen().clone();
        let effect = self.flow.tick(now);
        let change = self.attempts.ticked(&before, &self.flow, now);
        self.reports
            .follow(change, &self.flow, self.decision.decided());
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
        // A+ or high contrast chosen on Welcome by someone who then walked away: the next
        // customer gets the kiosk's own look after the idle time (Welcome has no session to
        // wipe, and no repaint loop: one wake-up is asked for).
        if *self.flow.screen() == Screen::Welcome && self.look != ui::look::Look::default() {
            if self.flow.untouched_since_timeout(now) {
                self.reset_look = true;
            } else {
                ctx.request_repaint_after(Duration::from_secs(1));
            }
        }
        if std::mem::take(&mut self.reset_look) {
            self.set_look(ctx, ui::look::Look::default());
        }
        if *self.flow.screen() != self.last_screen {
            if self.last_screen == Screen::Chip {
                self.chip.stop();
            }
            self.last_screen = self.flow.screen().clone();
            self.visit += 1;
            if self.last_screen == Screen::Chip {
                self.chip_photo = None;
                self.start_chip_read(ctx, None);
            }
        }
        self.capture
            .set_preview_for_staff(self.staff.settings_open());
        // The camera's frames keep the system's time.
        self.capture.follow(ctx, &self.flow, self.clock.now());
        self.sync_textures(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        let outbox = self
            .staff
            .is_open()
            .then(|| self.reports.outbox_status(Instant::now()))
            .flatten();
        let dashboard = self
            .staff
            .dashboard(Instant::now(), self.attempts.log())
            .cloned();
        let settings_open = self.staff.settings_open();
        let (preset, possible) = (self.staff.preset, self.possible_journeys.clone());
        let (cameras, camera_device) = (self.cameras.clone(), self.camera_device.clone());
        let (chip_readers, chip_reader) =
            (self.chip_readers.clone(), self.chip.reader().to_owned());
        let status = self.capture.camera_status();
        let screen = self.flow.screen().clone();
        let actions = {
            let view = View {
                flow: &self.flow,
                lang: self.flow.lang(),
                camera_status: &status,
                camera_texture: self.capture.camera_texture(),
                thumbnails: &self
                    .thumbnails
                    .iter()
                    .map(|(target, known)| (*target, known.texture.clone()))
                    .collect(),
                pending: self.pending_texture.as_ref().map(|known| &known.texture),
                score_threshold: self.score_threshold,
                face_match_threshold: self.face_match_threshold,
                notice: self.notice.as_deref(),
                guide: self.capture.guide(),
                challenge_dot: self.capture.challenge_dot(self.clock.now()),
                challenge_preparing: self.capture.challenge_preparing(),
                staff_mode: self.staff.is_open(),
                keypad: self.keypad.as_str(),
                look: self.look,
                decision: self
                    .decision
                    .view(self.staff.is_open(), self.reports.kiosk_id()),
                chip_photo: self.chip_photo.as_ref(),
                chip: (screen == Screen::Chip).then(|| ui::chip::ChipView {
                    status: self.chip.status(),
                    mode: self.chip.mode(),
                    draft: &self.chip_key,
                }),
            };
            let mut actions = Vec::new();
            let (local, staff) = (self.backend_is_local, self.staff.is_open());
            let alert_hours = self.reports.alert_hours();
            egui::Panel::top("top-bar").show(ui, |ui| {
                actions.extend(top_bar_ui(ui, &view, local, staff));
                if let Some((status, overdue)) = outbox {
                    staff_outbox_ui(ui, &view, status.waiting, overdue.then_some(alert_hours));
                }
            });
            if let Some(pad) = self.staff.pin_pad(view.lang, self.clock.now()) {
                if let Some(key) = ui::staff::pin_pad_ui(&ctx, &view, &pad) {
                    actions.push(Action::Pin(key));
                }
            }
            let visit = self.visit;
            egui::CentralPanel::default().show(ui, |ui| {
                if settings_open {
                    let settings = ui::staff::SettingsView {
                        preset,
                        possible: &possible,
                        cameras: &cameras,
                        camera: &camera_device,
                        chip_readers: chip_readers.as_ref(),
                        chip_reader: &chip_reader,
                        preview: view.camera_texture,
                    };
                    let height = ui.available_height();
                    let action = ui::scroll_with_cue(ui, &view, "settings", height, |ui| {
                        ui::staff::settings_ui(ui, &view, &settings)
                    });
                    actions.extend(action);
                    return;
                }
                if let Some(stats) = &dashboard {
                    // Staff mode's dashboard over the customer's screen, until closed.
                    let line = outbox.map(|(status, overdue)| ui::dashboard::OutboxLine {
                        waiting: status.waiting,
                        overdue_hours: overdue.then_some(alert_hours),
                    });
                    let height = ui.available_height();
                    let action = ui::scroll_with_cue(ui, &view, "dashboard", height, |ui| {
                        ui::dashboard::dashboard_ui(ui, &view, stats, line.as_ref())
                    });
                    actions.extend(action);
                    return;
                }
                // Every screen scrolls when its content is taller than the window (A+).
                let height = ui.available_height();
                let action =
                    ui::scroll_with_cue(ui, &view, ("screen", visit), height, |ui| match &screen {
                        Screen::Welcome => ui::welcome::welcome_ui(ui, &view),
                        Screen::Identify => ui::identify::identify_ui(ui, &view),
                        Screen::Consent => ui::consent::consent_ui(ui, &view),
                        Screen::DocumentChoice => {
                            ui::document_choice::document_choice_ui(ui, &view)
                        }
                        Screen::Capture(target) => ui::capture::capture_ui(ui, &view, *target),
                        Screen::Still(target) => ui::capture::still_ui(ui, &view, *target),
                        Screen::Challenge => {
                            ui::challenge::challenge_ui(ui, &view);
                            None
                        }
                        Screen::Chip => view
                            .chip
                            .as_ref()
                            .and_then(|chip| ui::chip::chip_ui(ui, &view, chip)),
                        Screen::Review => ui::review::review_ui(ui, &view),
                        Screen::Submitting(step) => ui::submitting::submitting_ui(ui, &view, *step),
                        Screen::Result => ui::result::result_ui(ui, &view),
                        Screen::Guidance(guidance) => {
                            ui::guidance::guidance_ui(ui, &view, guidance)
                        }
                        Screen::BackendUnavailable => {
                            ui::guidance::backend_unavailable_ui(ui, &view)
                        }
                    });
                actions.extend(action);
            });
            let more_time = self.flow.idle_countdown(self.clock.now());
            if let Some(left) = more_time {
                actions.extend(ui::idle::idle_ui(&ctx, &view, left));
            }
            if let Some(voice) = &mut self.voice {
                // The question's full time, not the seconds left: said once, not every second.
                let asked = more_time.map(|_| self.flow.more_time());
                let words = ui::spoken::spoken(&view, asked, voice.reads_values());
                voice.say(view.lang, words);
            }
            actions
        };
        for action in actions {
            self.apply(&ctx, action);
        }
        if !std::mem::replace(&mut self.drawn, true) {
            tracing::info!(
                "vitals: first frame drawn {} ms after start",
                since_process_start()
            );
        }
    }
}

/// Writes `bytes` to `path`, readable and writable by its owner alone.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_fpt_back_end_offers_enroll_alone() {
        let configured = [KryptonAction::Auth, KryptonAction::Liveness];
        assert_eq!(journeys_offered(&configured, true), configured);
        assert_eq!(
            journeys_offered(&configured, false),
            [KryptonAction::Enroll]
        );
    }
}
