//! `ekyc-kiosk` without a subcommand: the kiosk window.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use crate::app::out_of_service::OutOfService;
use crate::app::voice::VoiceSetup;
use crate::app::{CaptureSetup, JourneySetup, KioskApp, KioskSetup, APP_ID};
use crate::camera::{camera_source, SceneHint};
use crate::config::LoadedConfig;
use crate::verification::Backend;

/// The application icon, bundled; `None` only if the PNG were broken.
fn window_icon() -> Option<egui::IconData> {
    let png = include_bytes!("../../assets/icons/vn.ekyc.kiosk-256.png");
    let image = image::load_from_memory(png).ok()?.into_rgba8();
    Some(egui::IconData {
        width: image.width(),
        height: image.height(),
        rgba: image.into_raw(),
    })
}

/// Opens the window and runs until it closes.
pub fn run(runtime: &tokio::runtime::Runtime, loaded: &LoadedConfig) -> ExitCode {
    let setup = match runtime.block_on(setup(runtime.handle().clone(), loaded)) {
        Ok(setup) => setup,
        Err(message) => return out_of_service(&message, loaded.config.ui.kiosk_mode),
    };
    let kiosk_mode = setup.kiosk_mode;
    let mut options = window_options(kiosk_mode);
    let (backends, _probe) = renderer_backends(runtime);
    if let eframe::egui_wgpu::WgpuSetup::CreateNew(setup) = &mut options.wgpu_options.wgpu_setup {
        setup.instance_descriptor.backends = backends;
    }
    let result = eframe::run_native(
        "ekyc-kiosk",
        options,
        Box::new(move |cc| Ok(Box::new(KioskApp::new(cc, setup)?))),
    );
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: the window could not be opened: {error}");
            eprintln!("(a display is needed: run it in a desktop session, or under Xvfb)");
            ExitCode::from(1)
        }
    }
}

/// The kiosk cannot start (`problem`: a configuration error, a missing key file): says so
/// on stderr (the journal) and, where there is a display, in an "out of service" window
/// that stays up until it is closed (refused in kiosk mode), so a customer never faces a
/// blank screen and systemd does not restart it in a loop. Exit 2 afterwards.
pub fn out_of_service(problem: &str, kiosk_mode: bool) -> ExitCode {
    eprintln!("error: {problem}");
    let problem = problem.to_owned();
    let shown = eframe::run_native(
        "ekyc-kiosk",
        window_options(kiosk_mode),
        Box::new(move |cc| Ok(Box::new(OutOfService::new(cc, problem, kiosk_mode)))),
    );
    if let Err(error) = shown {
        eprintln!("(the out-of-service window could not be opened either: {error})");
    }
    ExitCode::from(2)
}

/// Vulkan alone where the machine has it (a GPU's driver, or Mesa's software one): wgpu
/// otherwise also starts OpenGL to list its adapters, and that keeps a second software
/// renderer loaded (8 MB of the kiosk's memory here). OpenGL stays for machines without
/// Vulkan; `WGPU_BACKEND` (e.g. `gl`) overrides both. The instance that looked is
/// returned, to be kept while the window opens: its drivers stay loaded for the window's
/// own instance (else loaded twice, 70 ms more to the first frame here).
fn renderer_backends(
    runtime: &tokio::runtime::Runtime,
) -> (eframe::wgpu::Backends, Option<eframe::wgpu::Instance>) {
    use eframe::wgpu::{Backends, Instance, InstanceDescriptor};
    if let Some(chosen) = Backends::from_env() {
        return (chosen, None);
    }
    let probe = Instance::new(InstanceDescriptor {
        backends: Backends::VULKAN,
        ..InstanceDescriptor::new_without_display_handle()
    });
    if runtime
        .block_on(probe.enumerate_adapters(Backends::VULKAN))
        .is_empty()
    {
        tracing::info!("no Vulkan driver: the window is drawn with OpenGL");
        return (Backends::PRIMARY | Backends::GL, None);
    }
    (Backends::VULKAN, Some(probe))
}

fn window_options(kiosk_mode: bool) -> eframe::NativeOptions {
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("ekyc-kiosk")
        .with_app_id(APP_ID)
        .with_inner_size([1280.0, 860.0])
        .with_min_inner_size([1024.0, 700.0]);
    if let Some(icon) = window_icon() {
        viewport = viewport.with_icon(Arc::new(icon));
    }
    if kiosk_mode {
        viewport = viewport.with_fullscreen(true).with_decorations(false);
    }
    let mut options = eframe::NativeOptions {
        viewport,
        ..eframe::NativeOptions::default()
    };
    // The renderer's memory in blocks sized for a kiosk's few textures, not for a game's:
    // with Mesa's software renderer (no GPU) the default took a 64 MB block at start, and
    // `MemoryUsage`'s blocks doubling up to 64 MB held 21 MB after a verification; the
    // smallest blocks wgpu allows (4–8 MB) give a camera frame's upload back once done.
    if let eframe::egui_wgpu::WgpuSetup::CreateNew(setup) = &mut options.wgpu_options.wgpu_setup {
        let egui_default = setup.device_descriptor.clone();
        setup.device_descriptor = Arc::new(move |adapter| eframe::wgpu::DeviceDescriptor {
            memory_hints: eframe::wgpu::MemoryHints::Manual {
                suballocated_device_memory_block_size: 4 << 20..8 << 20,
            },
            ..egui_default(adapter)
        });
    }
    // Two window images, not three: a kiosk's screens change at a touch, not at a game's
    // frame rate (4.4 MB less at 1280×860).
    options.wgpu_options.surface = eframe::egui_wgpu::SurfaceConfig::LOW_LATENCY;
    options
}

/// The back end (an in-process engine unless an FPT.AI-contract one is configured), the
/// camera and the settings.
pub async fn setup(
    runtime: tokio::runtime::Handle,
    loaded: &LoadedConfig,
) -> Result<KioskSetup, String> {
    let config = &loaded.config;
    let backend = Backend::start(loaded)
        .await
        .map_err(|error| error.to_string())?;
    let hint = Arc::new(SceneHint::new(config.camera.demo_face));
    Ok(KioskSetup {
        clock: crate::clock::Clock::system(),
        lang: config.lang,
        kiosk_mode: config.ui.kiosk_mode,
        idle_timeout: Duration::from_secs(config.ui.idle_timeout_secs),
        more_time: Duration::from_secs(config.ui.more_time_secs),
        voice: config.ui.voice.then(|| VoiceSetup {
            command: config.ui.voice_command.clone(),
            reads_values: config.ui.voice_reads_values,
        }),
        score_threshold: config.ui.score_threshold as f32,
        face_match_threshold: config.ui.face_match_threshold as f32,
        image_limits: loaded.image_limits(),
        client: backend.client,
        krypton: backend.krypton,
        krypton_only: backend.krypton_only,
        journeys: JourneySetup {
            offered: config.journey.offered(),
            order: config.journey.flow,
            keep_face: config.journey.keep_face,
            auth_tries_per_hour: config.journey.auth_tries_per_hour,
        },
        engine: backend.engine,
        runtime,
        camera: camera_source(&config.camera.device, hint.clone()),
        camera_device: config.camera.device.clone(),
        hint,
        capture: CaptureSetup::from_config(&config.capture, &config.liveness),
        staff: staff_setup(loaded)?,
        records: crate::app::RecordsSetup {
            attempt_log: loaded.attempt_log(),
            state: loaded.state_db(),
        },
        reports: report_setup(loaded)?,
        chip: chip_setup(loaded)?,
    })
}

/// The chip from `[chip]`: a CSCA list that cannot be read stops the start with the
/// reason (the out-of-service screen) when journeys read the chip.
fn chip_setup(loaded: &LoadedConfig) -> Result<crate::app::ChipSetup, String> {
    let config = &loaded.config.chip;
    let trust = if config.mode == crate::chip::ChipMode::Off {
        Default::default()
    } else {
        crate::chip::trust_list(&config.csca).map_err(|error| format!("chip.csca: {error}"))?
    };
    if config.mode != crate::chip::ChipMode::Off && trust.is_empty() {
        tracing::warn!(
            "chip.csca names no CSCA certificate: the kiosk's own chip verdicts can only be \"untrusted\""
        );
    }
    Ok(crate::app::ChipSetup {
        mode: config.mode,
        reader: config.reader.clone(),
        trust: std::sync::Arc::new(trust),
        readers: std::sync::Arc::new(crate::chip::Pcsc),
    })
}

/// Staff mode from `[ui] mode`, `[staff]` and the capture preset. A PIN file that cannot be
/// used stops the start with the reason (the out-of-service screen).
fn staff_setup(loaded: &LoadedConfig) -> Result<crate::app::StaffSetup, String> {
    let config = &loaded.config;
    let pin_hash = loaded.staff_pin_hash().map_err(|error| error.to_string())?;
    if pin_hash.is_none() {
        tracing::warn!(
            "no staff PIN is set: staff mode cannot be opened (ekyc-kiosk staff set-pin)"
        );
    }
    Ok(crate::app::StaffSetup {
        mode: config.ui.mode,
        pin: crate::staff::pin::PinGuard::new(
            pin_hash,
            config.staff.max_wrong,
            Duration::from_secs(config.staff.lock_secs),
        ),
        exit_after: Duration::from_secs(config.staff.exit_secs),
        preset: config.capture.preset,
    })
}

/// The reports to the bank from `[report]` (a signing key that cannot be used stops the
/// start with the reason), with this kiosk's and the staff's ids.
fn report_setup(loaded: &LoadedConfig) -> Result<crate::app::ReportSetup, String> {
    let config = &loaded.config;
    Ok(crate::app::ReportSetup {
        outbox: loaded.report_outbox().map_err(|error| error.to_string())?,
        kiosk_id: loaded.kiosk_id(),
        staff_id: config.staff.id.clone(),
        alert_after: Duration::from_secs(config.report.alert_after_hours * 3600),
    })
}
