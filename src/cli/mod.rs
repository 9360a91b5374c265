//! The command line: `serve`, `submit`, `config`.

mod desk;
mod enrolments;
mod inspect;
mod kiosk;
mod mrz;
pub mod submit;
mod values;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::api::{ApiError, KryptonClient};
use crate::config::{Config, LoadedConfig, KEYS};
use crate::contract::{
    DocumentType, KryptonAction, KryptonExtra, KryptonFlow, Lang, LivenessModel, Secret,
    SessionType,
};
use crate::engine::{self, Script};
use crate::verification::{Backend, BackendError, Journey};
use submit::{Outcome, ReportError, Step, SubmitFiles, SubmitReport};

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
    #[arg(long = "set", global = true, value_name = "KEY=VALUE", value_parser = parse_key_value)]
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
    Enrolments(enrolments::EnrolmentsCommand),
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
    /// Staff mode's PIN.
    #[command(subcommand)]
    Staff(desk::StaffCommand),
    /// The reports waiting for the bank's system (`report.webhook_url`).
    #[command(subcommand)]
    Outbox(desk::OutboxCommand),
}

#[derive(Debug, Args)]
pub struct KryptonArgs {
    #[arg(long, value_enum)]
    pub action: KryptonAction,
    /// Session types (repeatable), e.g. `--session-type enroll --session-type ocr`.
    #[arg(long = "session-type", value_enum, required = true)]
    pub session_types: Vec<SessionType>,
    /// Required when ENROLL includes OCR.
    #[arg(long, value_enum)]
    pub flow: Option<KryptonFlow>,
    #[arg(long, value_enum)]
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
pub struct ServeArgs {
    /// Address to listen on (default: engine.addr, 127.0.0.1:8480).
    #[arg(long)]
    pub addr: Option<SocketAddr>,
    /// An accepted API key (repeatable). Default: EKYC_API_KEY or api_key_file; with none,
    /// a random key is made and printed once.
    #[arg(long = "api-key", value_name = "KEY")]
    pub api_keys: Vec<String>,
    /// Scripted mode, for tests and staff training: canned answers and faults from FILE.
    #[arg(long, value_name = "FILE")]
    pub script: Option<PathBuf>,
    /// HTTPS with this certificate chain (PEM; default: engine.tls_cert). Read again on
    /// SIGHUP, open connections and sessions kept.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM; default: engine.tls_key).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Only clients with a certificate from this CA connect (PEM; default:
    /// engine.tls_client_ca).
    #[arg(long, value_name = "FILE")]
    pub tls_client_ca: Option<PathBuf>,
    /// Serve plain HTTP on an address beyond loopback (ID card photos in clear on the
    /// network; warned at every start).
    #[arg(long)]
    pub insecure_http: bool,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Image of the document's front side (or a passport's data page).
    #[arg(long, value_name = "FILE")]
    pub front: PathBuf,
    /// Image of the back side (an ID card's MRZ is there).
    #[arg(long, value_name = "FILE")]
    pub back: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "idr")]
    pub document: DocumentType,
    /// The journey (Krypton's action): `enroll` (document and selfie), `auth` (a selfie
    /// against the customer's enrolment: needs --user-id), `liveness` (a selfie only).
    #[arg(long, value_enum, default_value = "enroll")]
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
    #[arg(long, value_enum, default_value = "idr")]
    pub document: DocumentType,
    /// The journey (Krypton's action): `enroll` (document and selfie), `auth` (a selfie
    /// against the customer's enrolment: needs --user-id), `liveness` (a selfie only).
    #[arg(long, value_enum, default_value = "enroll")]
    pub action: KryptonAction,
    /// The bank's customer id: `enroll` keeps the face for it, `auth` matches against it.
    #[arg(long, value_name = "ID", required_if_eq("action", "auth"))]
    pub user_id: Option<String>,
    /// Language of the back end's messages (default: the `lang` key).
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,
    /// An FPT.AI-contract back end at this address (key from EKYC_API_KEY or api_key_file),
    /// instead of the configured back end.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Print one JSON object (schema `ekyc-kiosk/submit/1`, see README) instead of a table.
    #[arg(long)]
    pub json: bool,
}

fn parse_key_value(text: &str) -> Result<(String, String), String> {
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not KEY=VALUE"))?;
    Ok((key.trim().to_owned(), value.to_owned()))
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    crate::app::mark_process_start();
    crate::app::memory::limit_arenas();
    let cli = Cli::parse();
    if !matches!(cli.command, None | Some(Command::Serve(_))) {
        die_quietly_on_a_closed_pipe();
    }
    init_logging(matches!(cli.command, None | Some(Command::Serve(_))));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("ekyc-runtime")
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(1);
        }
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
        Command::Serve(args) => runtime.block_on(serve(args, loaded)),
        Command::Submit(args) => runtime.block_on(submit(args, loaded)),
        Command::KryptonSession(args) => runtime.block_on(krypton_session(args, loaded)),
        Command::Config => print_config(&loaded),
        Command::Enrolments(command) => enrolments::run(command, &loaded),
        Command::Mrz { json } => mrz::run(json),
        Command::Stats { since, json } => desk::run_stats(&loaded, since.as_deref(), json),
        Command::Staff(command) => desk::run_staff(command, &loaded),
        Command::Outbox(command) => runtime.block_on(desk::run_outbox(command, &loaded)),
        Command::Inspect(args) => inspect::run(
            &args.front,
            args.back.as_ref(),
            args.document,
            args.json,
            loaded.image_limits().max_file_bytes,
        ),
    }
}

/// One-shot commands end quietly when their reader goes away (`ekyc-kiosk config | head`),
/// as Unix tools do, instead of panicking in `println!` on the broken pipe. The kiosk and
/// `serve` keep Rust's default (the signal ignored): a closed log pipe must not stop them.
fn die_quietly_on_a_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: called at the start of `main`, before any thread exists; restores the
    // signal's default disposition and installs no handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Logs go to the systemd journal when systemd connected stderr to it (each event with its
/// priority), else to stderr. `EKYC_LOG` (tracing's filter syntax) sets the level. No event
/// carries personal data: `tests/cli.rs` and `tests/kiosk_ui.rs` log at trace and look.
fn init_logging(verbose: bool) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    // Ours at info for the kiosk and the engine; the libraries' chatter (winit, wgpu) only
    // from warnings up.
    let default = if verbose {
        "warn,ekyc_kiosk=info"
    } else {
        "warn"
    };
    let filter = || {
        tracing_subscriber::EnvFilter::try_from_env("EKYC_LOG")
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default))
    };
    if stderr_is_the_journal() {
        if let Ok(journal) = tracing_journald::layer() {
            let _ = tracing_subscriber::registry()
                .with(filter())
                .with(journal.with_syslog_identifier("ekyc-kiosk".into()))
                .try_init();
            return;
        }
    }
    // Colour only on a terminal: escape codes are noise in a log file.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_ansi(colour)
        .with_writer(std::io::stderr)
        .try_init();
}

/// systemd sets `JOURNAL_STREAM=device:inode` for a service whose stderr is the journal;
/// the variable alone may have been inherited by a child whose stderr went elsewhere.
fn stderr_is_the_journal() -> bool {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::MetadataExt;
        let Some(stream) = std::env::var_os("JOURNAL_STREAM") else {
            return false;
        };
        std::fs::metadata("/proc/self/fd/2").is_ok_and(|stderr| {
            stream.to_string_lossy() == format!("{}:{}", stderr.dev(), stderr.ino())
        })
    }
    #[cfg(not(target_os = "linux"))]
    false
}

async fn serve(args: ServeArgs, loaded: LoadedConfig) -> ExitCode {
    let mut settings = match loaded.engine_settings(&args.api_keys) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    if let Some(path) = &args.script {
        match Script::from_file(path) {
            Ok(script) => settings.script = Some(script),
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::from(2);
            }
        }
        println!(
            "SCRIPTED MODE: answers come from {}, not from the images",
            path.display()
        );
    }
    let addr = args.addr.unwrap_or(loaded.config.engine.addr);
    if settings.api_keys.is_empty() && !addr.ip().is_loopback() {
        eprintln!(
            "error: the engine would listen on {addr}, reachable from the network, with a \
             key made up for this run and printed to the log; give it a key file: \
             api_key_file in the configuration (or EKYC_API_KEY, --api-key)"
        );
        return ExitCode::from(2);
    }
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        settings.tls = Some(engine::TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
            client_ca: None,
        });
    }
    if let Some(client_ca) =
        args.tls_client_ca
            .clone()
            .or(loaded.config.engine.tls_client_ca.clone())
    {
        match &mut settings.tls {
            Some(files) => files.client_ca = Some(client_ca),
            None => {
                eprintln!(
                    "error: --tls-client-ca needs TLS: give --tls-cert and --tls-key (or \
                     engine.tls_cert and engine.tls_key)"
                );
                return ExitCode::from(2);
            }
        }
    }
    let insecure_http = args.insecure_http || loaded.config.engine.insecure_http;
    if settings.tls.is_none() && !addr.ip().is_loopback() {
        if !insecure_http {
            eprintln!(
                "error: the engine would listen on {addr}, reachable from the network, in \
                 plain HTTP: photos of ID cards and faces would cross the network unencrypted. \
                 Give it a certificate (--tls-cert and --tls-key, or engine.tls_cert and \
                 engine.tls_key), or accept the risk with --insecure-http"
            );
            return ExitCode::from(2);
        }
        tracing::warn!(
            "INSECURE: serving plain HTTP on {addr}: ID card photos and faces cross the \
             network unencrypted (--insecure-http / engine.insecure_http)"
        );
    }
    let signals = ServeSignals::take_over();
    let handle = match engine::start(addr, settings).await {
        Ok(handle) => handle,
        Err(error) => {
            eprintln!("error: {error}");
            let configuration = matches!(error, engine::EngineError::Tls(_));
            return ExitCode::from(if configuration { 2 } else { 4 });
        }
    };
    // stdout, for the operator and for scripts that wait for it; the log has it too. A
    // reader that stopped reading (closed the pipe) must not stop the engine.
    let say = |line: String| {
        use std::io::Write;
        let _ = writeln!(std::io::stdout(), "{line}");
    };
    say(format!("local engine listening on {}", handle.base_url()));
    if handle.company_id_was_generated() {
        say(format!(
            "Krypton company id for this run (engine.company_id_file is not set): {}",
            handle.company_id().expose()
        ));
    }
    if handle.key_was_generated() {
        say(format!(
            "API key for this run (none was configured): {}",
            handle.api_key().expose()
        ));
    }
    if !handle.address().ip().is_loopback() {
        tracing::warn!(
            "the engine is reachable from the network at {}",
            handle.address()
        );
    }
    signals.wait_for_stop(&handle).await;
    say("stopping".into());
    handle.stop().await;
    ExitCode::SUCCESS
}

/// The signals `serve` answers: SIGTERM and Ctrl+C stop it, SIGHUP reads the TLS files
/// again. Taken over before it says it listens, so that a signal sent right after never
/// meets the default action (which ends the process at once).
struct ServeSignals {
    terminate: Option<Signal>,
    hangup: Option<Signal>,
}

#[cfg(unix)]
type Signal = tokio::signal::unix::Signal;
#[cfg(not(unix))]
type Signal = std::convert::Infallible;

impl ServeSignals {
    fn take_over() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Self {
                terminate: signal(SignalKind::terminate()).ok(),
                hangup: signal(SignalKind::hangup()).ok(),
            }
        }
        #[cfg(not(unix))]
        Self {
            terminate: None,
            hangup: None,
        }
    }

    /// Waits for a stop, reloading TLS at each SIGHUP meanwhile.
    async fn wait_for_stop(self, handle: &engine::EngineHandle) {
        let Self {
            mut terminate,
            mut hangup,
        } = self;
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => return,
                () = next(terminate.as_mut()) => return,
                () = next(hangup.as_mut()) => match handle.reload_tls() {
                    Ok(()) if handle.uses_tls() => {
                        tracing::info!("SIGHUP: TLS certificate read again; new connections use it");
                    }
                    Ok(()) => tracing::info!("SIGHUP: nothing to reload (no TLS)"),
                    Err(error) => tracing::error!(
                        "SIGHUP: the TLS files cannot be used, the certificate in use stays: {error}"
                    ),
                },
            }
        }
    }
}

/// The signal's next delivery; never, without one.
async fn next(signal: Option<&mut Signal>) {
    match signal {
        #[cfg(unix)]
        Some(signal) => {
            signal.recv().await;
        }
        _ => std::future::pending().await,
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
    let started_ms = crate::desk::attempts::now_ms();
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
    report: &SubmitReport,
    started_ms: u64,
    outbox: &crate::desk::outbox::Outbox,
    webhook: &crate::desk::outbox::Webhook,
) {
    // Through text, as `--json` prints it: f32 figures stay as printed (96.03, not
    // 96.02999877929688).
    let verification = serde_json::to_string(report)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default();
    let mut report = crate::desk::report::VerificationReport::new(&loaded.kiosk_id(), verification);
    report.started_at = Some(crate::desk::report::rfc3339(started_ms));
    if let Err(error) = outbox.put(&report) {
        // Not kept: sent from memory, once.
        eprintln!("warning: the report could not be kept in the outbox: {error}");
        let body = zeroize::Zeroizing::new(serde_json::to_vec(&report).unwrap_or_default());
        let delivery = crate::desk::outbox::send(webhook, &report.report_id, &body).await;
        eprintln!("report: {delivery:?}");
        return;
    }
    match outbox.deliver_due(webhook).await {
        Ok(round) if round.waiting == 0 => eprintln!("report: delivered to the bank's system"),
        Ok(round) => eprintln!(
            "report: not delivered yet; {} report(s) wait in the outbox \
             (`ekyc-kiosk outbox deliver`, or the kiosk sends them)",
            round.waiting
        ),
        Err(error) => eprintln!("warning: outbox: {error}"),
    }
}

async fn submit_report(args: &SubmitArgs, loaded: &LoadedConfig) -> SubmitReport {
    let files = SubmitFiles {
        document: args.document,
        action: args.action,
        front: args.front.clone(),
        back: args.back.clone(),
        selfie: args.selfie.clone(),
    };
    let fail = |step, outcome, error: &ApiError| {
        SubmitReport::failed(args.document, outcome, ReportError::from_api(step, error))
    };
    let fail_with = |outcome: Outcome, message: String| {
        SubmitReport::failed(
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
            match engine::start(SocketAddr::from(([127, 0, 0, 1], 0)), settings).await {
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

/// Numbers held as `f32` are written as they were configured (`0.6`), not as the nearest
/// `f64` of that `f32` (`0.6000000238418579`): a float that is exactly an `f32` is written
/// with the `f32`'s shortest digits.
fn as_configured(value: &mut toml::Value) {
    match value {
        toml::Value::Float(number) => {
            let single = *number as f32;
            if f64::from(single) == *number {
                if let Ok(shortest) = single.to_string().parse::<f64>() {
                    *number = shortest;
                }
            }
        }
        toml::Value::Table(table) => table.iter_mut().for_each(|(_, value)| as_configured(value)),
        toml::Value::Array(values) => values.iter_mut().for_each(as_configured),
        _ => {}
    }
}

fn print_config(loaded: &LoadedConfig) -> ExitCode {
    match &loaded.path {
        Some(path) => println!("# read from {}", path.display()),
        None => println!("# no configuration file; defaults"),
    }
    let written = toml::Value::try_from(&loaded.config).and_then(|mut value| {
        as_configured(&mut value);
        toml::to_string_pretty(&value)
    });
    match written {
        Ok(text) => println!("{text}"),
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(1);
        }
    }
    println!(
        "# API key: {}",
        match loaded.api_key() {
            Ok(Some(_)) => "set".to_string(),
            Ok(None) => "not set (EKYC_API_KEY or api_key_file)".to_string(),
            Err(error) => format!("unusable: {error}"),
        }
    );
    println!("# Every key can be overridden by its environment variable or --set KEY=VALUE:");
    for (key, variable) in KEYS {
        println!("#   {key:<32} {variable}");
    }
    ExitCode::SUCCESS
}
