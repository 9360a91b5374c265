//! The command line: `serve`, `submit`, `config`.

mod chip;
mod inspect;
mod kiosk;
mod mrz;
mod staff;
pub mod submit;
mod values;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::config::{Config, LoadedConfig};
use crate::verification::{Backend, BackendError, Journey};
use crate::verification::{Outcome, ReportError, Step, Summary};
use ekyc_client::{ApiError, KryptonClient};
use ekyc_contract::{
    DocumentType, KryptonAction, KryptonExtra, KryptonFlow, Lang, LivenessModel, Secret,
    SessionType,
};
use ekyc_engine::cli::{EnrolmentsCommand, ServeArgs};
use submit::SubmitFiles;

#[derive(Debug, Parser)]
#[command(
    name = "ekyc-kiosk",
    version,
    about = "Identity verification for bank branch kiosks"
)]
pub struct Cli {
    /// Configuration file (default: $XDG_CONFIG_HOME/ekyc-kiosk/config.toml, or $EKYC_CONFIG).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Override one configuration key, e.g. `--set network.retries=5` (repeatable).
    #[arg(long = "set", global = true, value_name = "KEY=VALUE", value_parser = ekyc_settings::parse_set)]
    pub sets: Vec<(String, String)>,

    /// Kiosk window only: a normal window instead of kiosk mode (fullscreen, close refused).
    #[arg(long)]
    pub windowed: bool,

    /// Kiosk window only: `demo`, `auto`, a camera index or part of its name (default:
    /// the `camera.device` key).
    #[arg(long, value_name = "CAMERA")]
    pub camera: Option<String>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the local engine: the FPT.AI and Krypton v3 contracts on this machine.
    Serve(ServeArgs),
    /// Run one verification without a window and print the result.
    Submit(SubmitArgs),
    /// Open a Krypton v3 eKYC session (`POST /api/v3/ekyc`) and print the answer as received.
    KryptonSession(KryptonArgs),
    /// The local engine's enrolments (Krypton ENROLL/AUTH): list (hashes and dates only),
    /// delete one, purge those past `engine.enrolment_days`.
    #[command(subcommand)]
    Enrolments(EnrolmentsCommand),
    /// Print the configuration in force, where it came from, and every key's variable.
    Config,
    /// List the cameras the system offers, with their formats.
    Cameras,
    /// Read a card on this machine, with no back end: its QR code, MRZ (every check digit)
    /// and printed fields (Tesseract). Exit 0 if something was read, 3 if nothing was.
    Inspect(InspectArgs),
    /// Read MRZ lines (ID card or passport) on standard input; print the fields and every
    /// check digit's verdict. Exit 0 if all hold, 3 if one fails, 2 if it is no MRZ.
    Mrz {
        /// One JSON object (schema `ekyc-kiosk/mrz/1`) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// The branch's figures from the attempt log (no personal data): the funnel, retries
    /// and time per step, liveness and face-match failure rates, decisions.
    Stats {
        /// From this day on (YYYY-MM-DD, UTC); default: everything kept.
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
        /// One JSON object (schema `ekyc-kiosk/stats/1`) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// The card's chip: `chip readers`, `chip read` (BAC, the data groups, passive
    /// authentication against the CSCA list, the chip's photo matched with a selfie).
    #[command(subcommand)]
    Chip(chip::ChipCommand),
    /// Staff mode's PIN.
    #[command(subcommand)]
    Staff(staff::StaffCommand),
    /// The reports waiting for the bank's system (`report.webhook_url`).
    #[command(subcommand)]
    Outbox(staff::OutboxCommand),
}

#[derive(Debug, Args)]
pub struct KryptonArgs {
    #[arg(long, value_parser = values::KRYPTON_ACTION)]
    pub action: KryptonAction,
    /// Session types (repeatable), e.g. `--session-type enroll --session-type ocr`.
    #[arg(long = "session-type", value_parser = values::SESSION_TYPE, required = true)]
    pub session_types: Vec<SessionType>,
    /// Required when ENROLL includes OCR.
    #[arg(long, value_parser = values::KRYPTON_FLOW)]
    pub flow: Option<KryptonFlow>,
    #[arg(long, value_parser = values::LIVENESS_MODEL)]
    pub model: LivenessModel,
    #[arg(long)]
    pub user_id: String,
    /// `extra.krPath`: the Krypton server path for the eKYC data exchange.
    #[arg(long)]
    pub kr_path: Option<String>,
    /// The Krypton server (default: `krypton.url`; without one, a local engine in-process).
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Image of the document's front side (or a passport's data page).
    #[arg(long, value_name = "FILE")]
    pub front: PathBuf,
    /// Image of the back side (an ID card's MRZ is there).
    #[arg(long, value_name = "FILE")]
    pub back: Option<PathBuf>,
    #[arg(long, value_parser = values::DOCUMENT_TYPE, default_value = "idr")]
    pub document: DocumentType,
    /// The journey (Krypton's action): `enroll` (document and selfie), `auth` (a selfie
    /// against the customer's enrolment: needs --user-id), `liveness` (a selfie only).
    #[arg(long, value_parser = values::KRYPTON_ACTION, default_value = "enroll")]
    pub action: KryptonAction,
    /// The bank's customer id: `enroll` keeps the face for it, `auth` matches against it.
    #[arg(long, value_name = "ID", required_if_eq("action", "auth"))]
    pub user_id: Option<String>,
    /// One JSON object (schema `ekyc-kiosk/inspect/1`) instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// Image of the document's front side (JPEG or PNG); required for `enroll`.
    #[arg(long, value_name = "FILE", required_if_eq("action", "enroll"))]
    pub front: Option<PathBuf>,
    /// Image of the back side (not for a passport).
    #[arg(long, value_name = "FILE")]
    pub back: Option<PathBuf>,
    /// The customer's selfie.
    #[arg(long, value_name = "FILE")]
    pub selfie: PathBuf,
    #[arg(long, value_parser = values::DOCUMENT_TYPE, default_value = "idr")]
    pub document: DocumentType,
    /// The journey (Krypton's action): `enroll` (document and selfie), `auth` (a selfie
    /// against the customer's enrolment: needs --user-id), `liveness` (a selfie only).
    #[arg(long, value_parser = values::KRYPTON_ACTION, default_value = "enroll")]
    pub action: KryptonAction,
    /// The bank's customer id: `enroll` keeps the face for it, `auth` matches against it.
    #[arg(long, value_name = "ID", required_if_eq("action", "auth"))]
    pub user_id: Option<String>,
    /// Language of the back end's messages (default: the `lang` key).
    #[arg(long, value_parser = values::LANG)]
    pub lang: Option<Lang>,
    /// An FPT.AI-contract back end at this address (key from EKYC_API_KEY or api_key_file),
    /// instead of the configured back end.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Print one JSON object (schema `ekyc-kiosk/submit/1`, see README) instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    crate::app::mark_process_start();
    ekyc_process::memory::limit_arenas();
    let cli = Cli::parse();
    let long_running = matches!(cli.command, None | Some(Command::Serve(_)));
    if !long_running {
        ekyc_process::die_quietly_on_a_closed_pipe();
    }
    // Ours at info for the kiosk and the engine; the libraries' chatter (winit, wgpu) only
    // from warnings up.
    let default_filter = if long_running {
        "warn,ekyc=info"
    } else {
        "warn"
    };
    ekyc_process::init_logging(default_filter, "ekyc-kiosk");
    let runtime = match ekyc_process::async_runtime("ekyc-runtime", Some(2)) {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    let mut sets = cli.sets;
    if let Some(camera) = &cli.camera {
        sets.push(("camera.device".into(), camera.clone()));
    }
    if cli.windowed {
        sets.push(("ui.kiosk_mode".into(), "false".into()));
    }
    if let Some(Command::Submit(args)) = &cli.command {
        if let Some(lang) = args.lang {
            sets.push(("lang".into(), lang.as_str().into()));
        }
        if let Some(base_url) = &args.base_url {
            sets.push(("backend".into(), "fpt".into()));
            sets.push(("fpt.base_url".into(), base_url.clone()));
        }
    }
    let loaded = match Config::load(cli.config.as_deref(), &sets) {
        Ok(loaded) => loaded,
        // The kiosk says so on screen: its configuration is unknown, so kiosk mode holds
        // unless --windowed.
        Err(error) if cli.command.is_none() => {
            return kiosk::out_of_service(&error.to_string(), !cli.windowed)
        }
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let Some(command) = cli.command else {
        return kiosk::run(&runtime, &loaded);
    };
    match command {
        Command::Cameras => list_cameras(),
        Command::Serve(args) => {
            runtime.block_on(ekyc_engine::cli::serve(args, loaded.serve_setup()))
        }
        Command::Submit(args) => runtime.block_on(submit(args, loaded)),
        Command::KryptonSession(args) => runtime.block_on(krypton_session(args, loaded)),
        Command::Config => print_config(&loaded),
        Command::Enrolments(command) => {
            ekyc_engine::cli::enrolments::run(command, loaded.enrolments())
        }
        Command::Mrz { json } => mrz::run(json),
        Command::Chip(command) => chip::run(command, &loaded),
        Command::Stats { since, json } => staff::run_stats(&loaded, since.as_deref(), json),
        Command::Staff(command) => staff::run_staff(command, &loaded),
        Command::Outbox(command) => runtime.block_on(staff::run_outbox(command, &loaded)),
        Command::Inspect(args) => inspect::run(
            &args.front,
            args.back.as_ref(),
            args.document,
            args.json,
            loaded.image_limits().max_file_bytes,
        ),
    }
}

async fn submit(args: SubmitArgs, loaded: LoadedConfig) -> ExitCode {
    // A webhook that cannot be used is refused before any customer's image is sent.
    let reporting = match loaded.report_outbox() {
        Ok(reporting) => reporting,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let started_ms = crate::records::attempts::now_ms();
    let report = submit_report(&args, &loaded).await;
    if args.json {
        match serde_json::to_string_pretty(&report) {
            Ok(json) => println!("{json}"),
            Err(error) => eprintln!("error: cannot write the report: {error}"),
        }
    } else {
        print!("{}", submit::render_table(&report));
    }
    if let Some((outbox, webhook)) = reporting {
        send_report(&loaded, &report, started_ms, &outbox, &webhook).await;
    }
    ExitCode::from(report.exit_code)
}

/// The report to the bank's system: into the outbox first (so nothing is lost), then one
/// try now; what is left waits for `outbox deliver` or the kiosk's courier.
async fn send_report(
    loaded: &LoadedConfig,
    report: &Summary,
    started_ms: u64,
    outbox: &crate::report::outbox::Outbox,
    webhook: &crate::report::outbox::Webhook,
) {
    // Through text, as `--json` prints it: f32 figures stay as printed (96.03, not
    // 96.02999877929688).
    let verification = serde_json::to_string(report)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default();
    let mut report = crate::report::VerificationReport::new(&loaded.kiosk_id(), verification);
    report.started_at = Some(crate::report::rfc3339(started_ms));
    if let Err(error) = outbox.put(&report) {
        // Not kept: sent from memory, once.
        eprintln!("warning: the report could not be kept in the outbox: {error}");
        let body = zeroize::Zeroizing::new(serde_json::to_vec(&report).unwrap_or_default());
        let delivery = crate::report::outbox::send(webhook, &report.report_id, &body).await;
        eprintln!("report: {delivery:?}");
        return;
    }
    match outbox.deliver_due(webhook).await {
        Ok(round) if round.waiting == 0 => eprintln!("report: delivered to the bank's system"),
        Ok(round) => eprintln!(
            "report: not delivered yet ({}); {} report(s) wait in the outbox \
             (`ekyc-kiosk outbox deliver`, or the kiosk sends them)",
            round.problem.as_deref().unwrap_or("no answer"),
            round.waiting
        ),
        Err(error) => eprintln!("warning: outbox: {error}"),
    }
}

async fn submit_report(args: &SubmitArgs, loaded: &LoadedConfig) -> Summary {
    let files = SubmitFiles {
        document: args.document,
        action: args.action,
        front: args.front.clone(),
        back: args.back.clone(),
        selfie: args.selfie.clone(),
    };
    let fail = |step, outcome, error: &ApiError| {
        Summary::failed(args.document, outcome, ReportError::from_api(step, error))
    };
    let fail_with = |outcome: Outcome, message: String| {
        Summary::failed(
            args.document,
            outcome,
            ReportError {
                step: Step::Connect,
                kind: None,
                code: None,
                message,
                raw_body: None,
            },
        )
    };
    let submission = match files.prepare(&loaded.image_limits()) {
        Ok(submission) => submission,
        Err(error) => return fail(Step::PrepareImages, Outcome::BadInput, &error),
    };
    let backend = match Backend::start(loaded).await {
        Ok(backend) => backend,
        Err(error) if error.is_bad_configuration() => {
            return fail_with(Outcome::BadInput, error.to_string())
        }
        Err(BackendError::Client(error)) => {
            return fail(Step::Connect, Outcome::BackendFailure, &error)
        }
        Err(error) => return fail_with(Outcome::BackendFailure, error.to_string()),
    };
    let journey = Journey {
        action: args.action,
        flow: KryptonFlow::CardFirst,
        model: loaded.config.liveness.model,
        customer_id: args.user_id.as_deref().map(Secret::new),
    };
    let verification = match backend.verification(&journey) {
        Ok(verification) => verification,
        Err(error) => return fail(Step::Connect, Outcome::BadInput, &error),
    };
    submit::run_submission(verification, backend.info.clone(), submission).await
}

async fn krypton_session(args: KryptonArgs, loaded: LoadedConfig) -> ExitCode {
    let fail = |code: u8, message: String| {
        eprintln!("error: {message}");
        ExitCode::from(code)
    };
    let mut company_id = match loaded.krypton_company_id() {
        Ok(company_id) => company_id,
        Err(error) => return fail(2, error.to_string()),
    };
    // Keeps the in-process engine alive until the answer is in.
    let mut _engine = None;
    let url = match args
        .url
        .clone()
        .or_else(|| loaded.config.krypton.url.clone())
    {
        Some(url) => url,
        None => {
            let settings = match loaded.engine_settings(&[]) {
                Ok(settings) => settings,
                Err(error) => return fail(2, error.to_string()),
            };
            match ekyc_engine::start(SocketAddr::from(([127, 0, 0, 1], 0)), settings).await {
                Ok(handle) => {
                    // The in-process engine accepts its own company id.
                    company_id = Some(handle.company_id().clone());
                    _engine.insert(handle).base_url().to_owned()
                }
                Err(error) => return fail(4, error.to_string()),
            }
        }
    };
    let network = &loaded.config.network;
    let Some(company_id) = company_id else {
        return fail(
            2,
            format!("no Krypton company id: set {KRYPTON_COMPANY_ENV} or krypton.company_id_file"),
        );
    };
    let client = match KryptonClient::new(
        url,
        company_id,
        std::time::Duration::from_secs(network.connect_timeout_secs),
        std::time::Duration::from_secs(network.request_timeout_secs),
        loaded.retry_policy(),
        &loaded.client_tls(),
    ) {
        Ok(client) => client,
        Err(error) => return fail(4, error.to_string()),
    };
    let extra = KryptonExtra {
        action: args.action,
        flow: args.flow,
        model: args.model,
        user_id: args.user_id,
        kr_path: args.kr_path,
    };
    let request = client.request(args.session_types, extra);
    match client.create_session(&request).await {
        Ok(body) => {
            println!("{body}");
            ExitCode::SUCCESS
        }
        Err(error @ ApiError::InvalidRequest(_)) => fail(2, error.to_string()),
        Err(error) => {
            let body = error
                .raw_body()
                .map(|raw| format!("\n{}", raw.text()))
                .unwrap_or_default();
            fail(
                if error.is_backend_failure() { 4 } else { 3 },
                format!("{error}{body}"),
            )
        }
    }
}

pub use crate::config::KRYPTON_COMPANY_ENV;

fn list_cameras() -> ExitCode {
    match crate::camera::list_cameras() {
        Ok(cameras) if cameras.is_empty() => {
            println!("no camera found (the kiosk will use the demo camera with camera.device = \"auto\")");
            ExitCode::SUCCESS
        }
        Ok(cameras) => {
            for camera in cameras {
                println!("{}: {} ({})", camera.index, camera.name, camera.description);
                match camera.formats {
                    Ok(formats) => formats.iter().for_each(|format| println!("    {format}")),
                    Err(error) => println!("    formats cannot be read: {error}"),
                }
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            eprintln!(
                "the kiosk still runs with the demo camera (--camera demo) or \"Load from file\""
            );
            ExitCode::from(4)
        }
    }
}

/// `config`: the configuration in force as a file, every key with its doc comment and
/// variable, then whether the API key is set (never the key).
fn print_config(loaded: &LoadedConfig) -> ExitCode {
    match ekyc_settings::in_force(loaded.path.as_deref(), &loaded.config) {
        Ok(text) => print!("{text}"),
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(1);
        }
    }
    let state = ekyc_settings::credential_state(&loaded.api_key(), "EKYC_API_KEY or api_key_file");
    println!("# API key: {state}");
    ExitCode::SUCCESS
}
