//! The engine's commands, shared by `ekyc-engine` and `ekyc-kiosk` (whose `serve` and
//! `enrolments` are these, with the same flags): [`serve`] runs the engine until a stop
//! signal, [`enrolments`] is staff's view of the enrolment store.

pub mod enrolments;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use ekyc_secrets::Secret;
use ekyc_settings::ConfigError;

use crate::config::EngineConfig;
use crate::{EngineSettings, Script};
pub use enrolments::EnrolmentsCommand;

/// What `serve` is started with besides its flags: the program's configuration.
pub struct ServeSetup {
    /// The `[engine]` section.
    pub engine: EngineConfig,
    /// The API key the configuration gives (`EKYC_API_KEY`, else `api_key_file`), or why
    /// it cannot be read; used when no `--api-key` is given.
    pub api_key: Result<Option<Secret>, ConfigError>,
    /// Where enrolments go unless `engine.enrolment_db` says.
    pub data_dir: Option<PathBuf>,
    /// The face detector when `engine.face_model` is unset (the kiosk's `capture.face_model`).
    pub face_model: Option<PathBuf>,
}

/// `serve`'s flags, the same for `ekyc-engine serve` and `ekyc-kiosk serve`.
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
    /// Keep enrolments in PostgreSQL, shared by replicas
    /// (`postgres://user@host:port/name?sslmode=verify-full`; default: engine.database_url,
    /// EKYC_DATABASE_URL; unset: the embedded database).
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

/// Runs the engine until SIGTERM or Ctrl+C: exit 0 then, 2 for a configuration it cannot
/// use, 4 when it cannot listen.
pub async fn serve(args: ServeArgs, setup: ServeSetup) -> ExitCode {
    let engine = setup.engine.clone();
    let mut settings = match settings(&args, setup) {
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
    let addr = args.addr.unwrap_or(engine.addr);
    if settings.api_keys.is_empty() && !addr.ip().is_loopback() {
        eprintln!(
            "error: the engine would listen on {addr}, reachable from the network, with a \
             key made up for this run and printed to the log; give it a key file: \
             api_key_file in the configuration (or EKYC_API_KEY, --api-key)"
        );
        return ExitCode::from(2);
    }
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        settings.tls = Some(crate::TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
            client_ca: None,
        });
    }
    if let Some(client_ca) = args.tls_client_ca.clone().or(engine.tls_client_ca.clone()) {
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
    let insecure_http = args.insecure_http || engine.insecure_http;
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
    let handle = match crate::start(addr, settings).await {
        Ok(handle) => handle,
        Err(error) => {
            eprintln!("error: {error}");
            let configuration = matches!(error, crate::EngineError::Tls(_));
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
    if engine.drain_secs > 0 {
        // The balancer's checks see /readyz fail and send the kiosks elsewhere; requests
        // that still come are served.
        say(format!(
            "draining: /readyz answers 503 for {} s, then the engine stops",
            engine.drain_secs
        ));
        handle.drain();
        tokio::time::sleep(std::time::Duration::from_secs(engine.drain_secs)).await;
    }
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
    async fn wait_for_stop(self, handle: &crate::EngineHandle) {
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

/// The engine's settings from its configuration, the keys of `--api-key` first, the face
/// models loaded.
fn settings(args: &ServeArgs, setup: ServeSetup) -> Result<EngineSettings, ConfigError> {
    let mut api_keys: Vec<Secret> = args
        .api_keys
        .iter()
        .map(|key| Secret::new(key.trim()))
        .collect();
    if api_keys.is_empty() {
        api_keys.extend(setup.api_key?);
    }
    let mut engine = setup.engine.clone();
    if let Some(url) = &args.database_url {
        engine.database_url = Some(url.clone());
        engine
            .validate()
            .map_err(|error| error.in_section("engine"))?;
    }
    let mut settings = engine.settings_without_models(api_keys, setup.data_dir.as_deref())?;
    engine.model_loader(setup.face_model)(&mut settings);
    Ok(settings)
}
