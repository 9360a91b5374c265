//! `ekyc-engine`: the local engine on a server, without the kiosk's window or its
//! libraries. `serve` answers the FPT.AI and Krypton v3 contracts (the same flags as
//! `ekyc-kiosk serve`), `enrolments` is staff's view of the enrolment store, `config`
//! prints the configuration in force.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ekyc_engine::cli::{EnrolmentsCommand, ServeArgs, ServeSetup};
use ekyc_engine::config::{ServerConfig, PROGRAM};
use ekyc_settings::{ConfigError, Sources};

/// The credential the kiosks present: it wins over `api_key_file`.
const API_KEY_ENV: &str = "EKYC_API_KEY";

#[derive(Debug, Parser)]
#[command(
    name = "ekyc-engine",
    version,
    about = "The eKYC engine: the FPT.AI eKYC and Krypton v3 contracts, served"
)]
struct Cli {
    /// Configuration file (default: $XDG_CONFIG_HOME/ekyc-engine/config.toml, else
    /// /etc/ekyc-engine/config.toml; or $EKYC_ENGINE_CONFIG).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,

    /// Override one configuration key, e.g. `--set engine.uploads_at_once=8` (repeatable).
    #[arg(long = "set", global = true, value_name = "KEY=VALUE", value_parser = ekyc_settings::parse_set)]
    sets: Vec<(String, String)>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the FPT.AI and Krypton v3 contracts until SIGTERM (SIGHUP reads TLS again).
    Serve(ServeArgs),
    /// The enrolments (Krypton ENROLL/AUTH): list (hashes and dates only), delete one,
    /// purge those past `engine.enrolment_days`.
    #[command(subcommand)]
    Enrolments(EnrolmentsCommand),
    /// Print the configuration in force, where it came from, and every key's variable.
    Config,
}

/// The configuration in force, and the environment it was read with.
struct Loaded {
    config: ServerConfig,
    path: Option<PathBuf>,
    env: HashMap<String, String>,
}

fn load(cli: &Cli) -> Result<Loaded, ConfigError> {
    let env: HashMap<String, String> = std::env::vars().collect();
    let lookup = |name: &str| env.get(name).cloned();
    let explicit = cli
        .config
        .clone()
        .or_else(|| PROGRAM.config_from_env(&lookup));
    let (config, path) = ekyc_settings::load::<ServerConfig>(&Sources {
        file: explicit.as_deref(),
        search: &PROGRAM.config_search_path(&lookup),
        env: &lookup,
        sets: &cli.sets,
    })?;
    config
        .engine
        .validate()
        .map_err(|error| error.in_section("engine"))?;
    Ok(Loaded { config, path, env })
}

impl Loaded {
    fn setup(&self) -> ServeSetup {
        let lookup = |name: &str| self.env.get(name).cloned();
        ServeSetup {
            engine: self.config.engine.clone(),
            api_key: ekyc_settings::credential(
                lookup(API_KEY_ENV),
                self.config.api_key_file.as_deref(),
            ),
            data_dir: PROGRAM.data_dir(&lookup),
            face_model: None,
        }
    }
}

fn main() -> ExitCode {
    ekyc_process::memory::limit_arenas();
    let cli = Cli::parse();
    let serving = matches!(cli.command, Command::Serve(_));
    if !serving {
        ekyc_process::die_quietly_on_a_closed_pipe();
    }
    ekyc_process::init_logging(
        if serving { "warn,ekyc=info" } else { "warn" },
        "ekyc-engine",
    );
    let loaded = match load(&cli) {
        Ok(loaded) => loaded,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Command::Serve(args) => match ekyc_process::async_runtime("ekyc-engine", None) {
            Ok(runtime) => runtime.block_on(ekyc_engine::cli::serve(args, loaded.setup())),
            Err(code) => code,
        },
        Command::Enrolments(command) => {
            let data_dir = loaded.setup().data_dir;
            ekyc_engine::cli::enrolments::run(
                command,
                loaded.config.engine.enrolments(data_dir.as_deref()),
            )
        }
        Command::Config => match ekyc_settings::in_force(loaded.path.as_deref(), &loaded.config) {
            Ok(text) => {
                print!("{text}");
                let key = loaded.setup().api_key;
                let state = ekyc_settings::credential_state(&key, "EKYC_API_KEY or api_key_file");
                println!("# API key: {state}");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("error: {error}");
                ExitCode::from(1)
            }
        },
    }
}
