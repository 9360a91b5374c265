//! The kiosk's configuration: `config.toml` (`--config`/`EKYC_CONFIG`, else the first of
//! the XDG config folder's and `/etc/ekyc-kiosk/config.toml` that exists), then `EKYC_…`
//! environment variables, then flags (`--set key=value` and the named ones).
//!
//! The schema is the sections' own declarations (`ekyc_settings::section!`), each where
//! what it configures lives; [`Config`] puts them together, and the key list, the
//! environment variables and `ekyc-kiosk config`'s printout come from them:
//!
//! | section | declared in | builds |
//! |---|---|---|
//! | top level (`backend`, `lang`, …) | here | [`LoadedConfig::fpt_settings`] |
//! | `[fpt]`, `[krypton]`, `[network]` | `ekyc_client::config` | the clients' TLS and retries |
//! | `[images]` | `ekyc_imaging::config` | [`ImageLimits`] |
//! | `[engine]` | `ekyc_engine::config` | the in-process engine and `serve` |
//! | `[ui]`, `[journey]`, `[liveness]` | [`window`] (here) | the window |
//! | `[camera]` | [`crate::camera`] | |
//! | `[capture]` | [`crate::quality::config`] | the gates' thresholds |
//! | `[desk]` | [`crate::records`] | the state database, the attempt log |
//! | `[staff]` | [`crate::staff`] | the PIN |
//! | `[report]` | [`crate::report`] | the outbox and the bank's webhook |

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub mod window;

pub use crate::camera::{CameraConfig, DemoFace};
pub use crate::chip::{ChipConfig, ChipMode};
pub use crate::quality::config::{CaptureConfig, CardOverrides, SelfieOverrides};
#[cfg(test)]
use crate::quality::Preset;
#[cfg(test)]
use crate::quality::Thresholds;
pub use crate::records::RecordsConfig;
pub use crate::report::ReportConfig;
pub use crate::staff::StaffConfig;
pub use ekyc_client::config::{FptConfig, KryptonConfig, NetworkConfig};
use ekyc_client::{ClientTls, FptSettings, RetryPolicy};
pub use ekyc_contract::LivenessModel;
use ekyc_contract::{Lang, Secret};
pub use ekyc_engine::config::EngineConfig;
use ekyc_engine::EngineSettings;
pub use ekyc_imaging::config::ImagesConfig;
use ekyc_imaging::ImageLimits;
use ekyc_settings::{section, Program};
pub use ekyc_settings::{ConfigError, Key};
pub use window::{JourneyConfig, JourneyName, LivenessConfig, UiConfig, UiMode};

/// The kiosk's files: `/etc/ekyc-kiosk/config.toml` (or `EKYC_CONFIG`), its data under
/// `$XDG_DATA_HOME/ekyc-kiosk`.
pub const PROGRAM: Program = Program {
    name: "ekyc-kiosk",
    config_env: CONFIG_PATH_ENV,
};

/// Which kind of back end the app talks to (`backend` in the file); the back end itself,
/// set up, is [`crate::verification::Backend`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// The local engine, started in-process on a free loopback port.
    #[default]
    Local,
    /// An FPT.AI-contract back end at `fpt.base_url`.
    Fpt,
    /// A Krypton v3 back end at `krypton.url`.
    Krypton,
}

ekyc_settings::text_setting!(BackendKind);

section! {
    /// Everything the kiosk reads from its configuration.
    pub struct Config {
        /// Which back end verifies the customer: `local` (the engine built into the app),
        /// `fpt` (an FPT.AI-contract back end at `fpt.base_url`) or `krypton`.
        #[env = "EKYC_BACKEND"]
        pub backend: BackendKind = BackendKind::Local,
        /// The language of the back end's messages and of the screens at start: `en`
        /// or `vi`.
        #[env = "EKYC_LANG"]
        pub lang: Lang = Lang::En,
        /// Sent as `device-type`; the back end binds the session to it.
        #[env = "EKYC_DEVICE_TYPE"]
        pub device_type: String = "web-sdk".into(),
        /// Sent as `client_uuid`: this kiosk's stable id. Not sent when unset.
        #[env = "EKYC_CLIENT_UUID"]
        pub client_uuid: Option<String> = None,
        /// A file holding the API key, readable only by its owner. `EKYC_API_KEY` wins.
        /// For `serve`, the key the desks must present.
        #[env = "EKYC_API_KEY_FILE"]
        pub api_key_file: Option<PathBuf> = None,
        /// An FPT.AI-contract back end.
        pub fpt: FptConfig = FptConfig::default(),
        /// A Krypton v3 back end.
        pub krypton: KryptonConfig = KryptonConfig::default(),
        /// Timeouts, retries and TLS to the back end.
        pub network: NetworkConfig = NetworkConfig::default(),
        /// How pictures are prepared before they are sent.
        pub images: ImagesConfig = ImagesConfig::default(),
        /// The local engine (in-process, or `serve`).
        pub engine: EngineConfig = EngineConfig::default(),
        /// The window and its screens.
        pub ui: UiConfig = UiConfig::default(),
        /// Which camera.
        pub camera: CameraConfig = CameraConfig::default(),
        /// The card's chip and its reader.
        pub chip: ChipConfig = ChipConfig::default(),
        /// The capture screens' gates and the automatic picture.
        pub capture: CaptureConfig = CaptureConfig::default(),
        /// The liveness challenge.
        pub liveness: LivenessConfig = LivenessConfig::default(),
        /// The journeys offered.
        pub journey: JourneyConfig = JourneyConfig::default(),
        /// The kiosk's records: attempt log and outbox.
        pub desk: RecordsConfig = RecordsConfig::default(),
        /// Staff mode.
        pub staff: StaffConfig = StaffConfig::default(),
        /// The report to the bank.
        pub report: ReportConfig = ReportConfig::default(),
    }
}

/// The API key itself comes from the environment or a file, never from config.toml.
pub const API_KEY_ENV: &str = "EKYC_API_KEY";
/// A config file other than the default one.
pub const CONFIG_PATH_ENV: &str = "EKYC_CONFIG";
/// The Krypton company id (a credential); it wins over `krypton.company_id_file`.
pub const KRYPTON_COMPANY_ENV: &str = "EKYC_KRYPTON_COMPANY_ID";
/// The system-wide file, installed by the Debian package and managed by IT.
pub const SYSTEM_CONFIG_PATH: &str = "/etc/ekyc-kiosk/config.toml";

/// Every configuration key, with its environment variable, doc and kind, from the schema.
pub fn keys() -> Vec<Key> {
    ekyc_settings::keys::<Config>()
}

/// Where a configuration file is looked for without `--config`/`EKYC_CONFIG`: the
/// user's own file first, then the system's. The first that exists is read, alone.
pub fn config_search_path(env: &dyn Fn(&str) -> Option<String>) -> Vec<PathBuf> {
    PROGRAM.config_search_path(env)
}

/// The user's file: `$XDG_CONFIG_HOME/ekyc-kiosk/config.toml`, or under `~/.config`.
pub fn default_config_path(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    PROGRAM.user_config(env)
}

/// Where the kiosk (and its in-process engine) keep their files unless told otherwise.
pub fn default_data_dir(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    PROGRAM.data_dir(env)
}

/// Reads a credential file, refusing one that other users can read.
pub fn read_secret_file(path: &Path) -> Result<Secret, ConfigError> {
    ekyc_settings::read_secret_file(path)
}

/// The configuration in force, where it came from, and the credentials the environment
/// gave.
#[derive(Debug, Clone, Default)]
pub struct LoadedConfig {
    /// The configuration.
    pub config: Config,
    /// The file read, if one was.
    pub path: Option<PathBuf>,
    api_key_from_env: Option<String>,
    krypton_company_from_env: Option<String>,
    /// `$XDG_DATA_HOME/ekyc-kiosk` or `~/.local/share/ekyc-kiosk`, when either is known.
    data_dir: Option<PathBuf>,
}

impl Config {
    /// Loads from the process environment. `path` is `--config`; `sets` are
    /// `--set key=value` and the named flags, applied last.
    pub fn load(
        path: Option<&Path>,
        sets: &[(String, String)],
    ) -> Result<LoadedConfig, ConfigError> {
        let vars: HashMap<String, String> = std::env::vars().collect();
        Self::load_with(path, &|name| vars.get(name).cloned(), sets)
    }

    /// [`Config::load`] with the environment given as a function, for tests.
    pub fn load_with(
        path: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
        sets: &[(String, String)],
    ) -> Result<LoadedConfig, ConfigError> {
        Self::load_searching(path, &config_search_path(env), env, sets)
    }

    /// [`Config::load_with`] with the files to look for given, for tests that must not
    /// depend on this machine's `/etc`.
    pub fn load_searching(
        path: Option<&Path>,
        search: &[PathBuf],
        env: &dyn Fn(&str) -> Option<String>,
        sets: &[(String, String)],
    ) -> Result<LoadedConfig, ConfigError> {
        let explicit = path
            .map(Path::to_path_buf)
            .or_else(|| PROGRAM.config_from_env(env));
        let (mut config, path) = ekyc_settings::load::<Config>(&ekyc_settings::Sources {
            file: explicit.as_deref(),
            search,
            env,
            sets,
        })?;
        config.validate()?;
        // The 3D check's older key, where a file still has it.
        if let Some(min_parallax) = config.liveness.min_parallax {
            config.engine.min_parallax = min_parallax;
        }
        Ok(LoadedConfig {
            config,
            path,
            api_key_from_env: env(API_KEY_ENV),
            krypton_company_from_env: env(KRYPTON_COMPANY_ENV),
            data_dir: default_data_dir(env),
        })
    }

    /// Each section's own checks, its keys named from the top, then what spans sections.
    fn validate(&self) -> Result<(), ConfigError> {
        if self.device_type.trim().is_empty() {
            return Err(ConfigError::invalid("device_type", "must not be empty"));
        }
        let sections = [
            ("fpt", self.fpt.validate()),
            ("krypton", self.krypton.validate()),
            ("network", self.network.validate()),
            ("images", self.images.validate()),
            ("ui", self.ui.validate()),
            ("capture", self.capture.validate()),
            ("engine", self.engine.validate()),
            ("report", self.report.validate()),
            ("staff", self.staff.validate()),
            ("liveness", self.liveness.validate()),
        ];
        for (section, checked) in sections {
            checked.map_err(|error| error.in_section(section))?;
        }
        if self.backend == BackendKind::Krypton && self.krypton.url.is_none() {
            return Err(ConfigError::invalid(
                "krypton.url",
                "is required when backend = \"krypton\"",
            ));
        }
        Ok(())
    }
}

impl LoadedConfig {
    /// The API key: `EKYC_API_KEY`, else `api_key_file`. `None` when neither is set.
    pub fn api_key(&self) -> Result<Option<Secret>, ConfigError> {
        ekyc_settings::credential(
            self.api_key_from_env.clone(),
            self.config.api_key_file.as_deref(),
        )
    }

    /// The Krypton company id: `EKYC_KRYPTON_COMPANY_ID`, else `krypton.company_id_file`.
    pub fn krypton_company_id(&self) -> Result<Option<Secret>, ConfigError> {
        ekyc_settings::credential(
            self.krypton_company_from_env.clone(),
            self.config.krypton.company_id_file.as_deref(),
        )
    }

    /// The limits pictures are prepared within (`[images]`).
    pub fn image_limits(&self) -> ImageLimits {
        self.config.images.limits()
    }

    /// Tries and pauses for a transient failure (`[network]`).
    pub fn retry_policy(&self) -> RetryPolicy {
        self.config.network.retry_policy()
    }

    /// The clients' TLS: the bank's CA, this kiosk's certificate (`[network]`).
    pub fn client_tls(&self) -> ClientTls {
        self.config.network.client_tls()
    }

    /// Client settings for an FPT.AI-contract back end at `base_url` with `api_key`.
    pub fn fpt_settings(&self, base_url: &str, api_key: Secret) -> FptSettings {
        let config = &self.config;
        FptSettings {
            base_url: base_url.to_owned(),
            api_key,
            device_type: config.device_type.clone(),
            client_uuid: config.client_uuid.clone(),
            lang: config.lang,
            connect_timeout: config.network.connect_timeout(),
            request_timeout: config.network.request_timeout(),
            retry: self.retry_policy(),
            tls: self.client_tls(),
            gateway: config.network.gateway,
        }
    }

    /// The kiosk's data folder, when known.
    pub fn data_dir(&self) -> Option<&Path> {
        self.data_dir.as_deref()
    }

    /// The kiosk's state database (attempt log, outbox); `None` when neither
    /// `desk.state_db` nor a data folder is known.
    pub fn state_db(&self) -> Option<crate::records::StateDb> {
        self.config.desk.state_db(self.data_dir())
    }

    /// The attempt log, started (off with `desk.attempt_log = false`).
    pub fn attempt_log(&self) -> Option<crate::records::AttemptLog> {
        self.config.desk.attempt_log(self.data_dir())
    }

    /// This kiosk's name in reports: `desk.kiosk_id`, else `client_uuid`, else the host's.
    pub fn kiosk_id(&self) -> String {
        self.config
            .desk
            .kiosk_id(self.config.client_uuid.as_deref())
    }

    /// Where `staff set-pin` writes the PIN's hash.
    pub fn staff_pin_file(&self) -> Option<PathBuf> {
        self.config.staff.pin_file(self.data_dir())
    }

    /// The staff PIN's hash: `staff.pin_hash`, else the PIN file; `Ok(None)` when no PIN
    /// is set (staff mode then cannot be opened from the screen).
    pub fn staff_pin_hash(&self) -> Result<Option<String>, ConfigError> {
        self.config.staff.pin_hash(self.data_dir())
    }

    /// The report outbox and where it delivers; `Ok(None)` without `report.webhook_url`.
    /// A signing key file that is missing, readable by others or too short is refused.
    pub fn report_outbox(
        &self,
    ) -> Result<
        Option<(
            crate::report::outbox::Outbox,
            crate::report::outbox::Webhook,
        )>,
        ConfigError,
    > {
        let network = &self.config.network;
        let client = || {
            ekyc_client::http_client(
                network.connect_timeout(),
                network.request_timeout(),
                &network.client_tls(),
            )
            .map_err(|error| ConfigError::invalid("network.ca_file", error.to_string()))
        };
        self.config.report.outbox(client, self.state_db(), |state| {
            self.config.desk.outbox_key_file(state)
        })
    }

    /// What `serve` (and `ekyc-kiosk enrolments`) start the engine with: the `[engine]`
    /// section, the configured key, the kiosk's data folder and its face detector.
    pub fn serve_setup(&self) -> ekyc_engine::cli::ServeSetup {
        ekyc_engine::cli::ServeSetup {
            engine: self.config.engine.clone(),
            api_key: self.api_key(),
            data_dir: self.data_dir.clone(),
            face_model: self.config.capture.face_model.clone(),
        }
    }

    /// Engine settings with the face models loaded; accepted keys are `extra_keys` (from
    /// `--api-key`) or this configuration's API key.
    pub fn engine_settings(&self, extra_keys: &[String]) -> Result<EngineSettings, ConfigError> {
        let mut settings = self.engine_settings_without_models(extra_keys)?;
        self.engine_models()(&mut settings);
        Ok(settings)
    }

    /// Engine settings without the face models (which [`Self::engine_models`] loads): what
    /// the configuration says, read now so that a mistake in it stops the start.
    pub fn engine_settings_without_models(
        &self,
        extra_keys: &[String],
    ) -> Result<EngineSettings, ConfigError> {
        let mut api_keys: Vec<Secret> = extra_keys
            .iter()
            .map(|key| Secret::new(key.trim()))
            .collect();
        if api_keys.is_empty() {
            api_keys.extend(self.api_key()?);
        }
        self.config
            .engine
            .settings_without_models(api_keys, self.data_dir())
    }

    /// Loads the engine's face models into its settings (see
    /// [`EngineConfig::model_loader`]); the detector is `engine.face_model`, else the
    /// kiosk's `capture.face_model`.
    pub fn engine_models(&self) -> impl FnOnce(&mut EngineSettings) + Send + 'static {
        self.config
            .engine
            .model_loader(self.config.capture.face_model.clone())
    }

    /// The enrolment store as configured (opened on first use); `None` when neither a
    /// database path nor a data folder is known.
    pub fn enrolments(&self) -> Option<ekyc_engine::Enrolments> {
        self.config.engine.enrolments(self.data_dir())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn write_config(text: &str) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        file
    }

    #[test]
    fn defaults_without_a_file() {
        let env = |name: &str| (name == "HOME").then(|| "/nonexistent-home".to_string());
        let search = [default_config_path(&env).unwrap()];
        let loaded = Config::load_searching(None, &search, &env, &[]).unwrap();
        assert_eq!(loaded.config, Config::default());
        assert_eq!(loaded.config.backend, BackendKind::Local);
        assert!(loaded.path.is_none());
    }

    #[test]
    fn file_then_environment_then_flags() {
        let file = write_config("backend = \"fpt\"\nlang = \"vi\"\n[network]\nretries = 2\n[fpt]\nbase_url = \"https://file.example\"\n");
        let env = |name: &str| match name {
            "EKYC_BASE_URL" => Some("https://env.example".to_string()),
            "EKYC_RETRIES" => Some("5".to_string()),
            _ => None,
        };
        let sets = [("network.retries".to_string(), "4".to_string())];
        let loaded = Config::load_with(Some(file.path()), &env, &sets).unwrap();
        assert_eq!(loaded.config.backend, BackendKind::Fpt);
        assert_eq!(loaded.config.lang, Lang::Vi);
        assert_eq!(loaded.config.fpt.base_url, "https://env.example");
        assert_eq!(
            loaded.config.network.retries, 4,
            "flags win over the environment"
        );
    }

    #[test]
    fn the_chip_modes_are_read_and_a_mode_not_known_is_refused_in_words() {
        for (text, mode) in [
            ("off", ChipMode::Off),
            ("when_present", ChipMode::WhenPresent),
            ("required", ChipMode::Required),
        ] {
            let file = write_config(&format!("[chip]\nmode = \"{text}\"\n"));
            let loaded = Config::load_with(Some(file.path()), &|_| None, &[]).unwrap();
            assert_eq!(loaded.config.chip.mode, mode);
        }
        let file = write_config("[chip]\nmode = \"always\"\n");
        let error = Config::load_with(Some(file.path()), &|_| None, &[])
            .unwrap_err()
            .to_string();
        // The line, the word, and the words that would do.
        assert!(
            error.contains("line 2")
                && error.contains("`always`")
                && error.contains("`when_present`"),
            "{error}"
        );
        let file = write_config("[chip]\nmode = \"off\"\ncsca = [\"/etc/ekyc-kiosk/csca\"]\n");
        let loaded = Config::load_with(Some(file.path()), &|_| None, &[]).unwrap();
        assert_eq!(
            loaded.config.chip.csca,
            vec![PathBuf::from("/etc/ekyc-kiosk/csca")]
        );
    }

    #[test]
    fn config_file_from_the_environment_and_xdg() {
        let file = write_config("lang = \"vi\"\n");
        let path = file.path().to_string_lossy().into_owned();
        let env = |name: &str| (name == CONFIG_PATH_ENV).then(|| path.clone());
        assert_eq!(
            Config::load_with(None, &env, &[]).unwrap().config.lang,
            Lang::Vi
        );

        let xdg = |name: &str| (name == "XDG_CONFIG_HOME").then(|| "/etc/xdg-test".to_string());
        assert_eq!(
            default_config_path(&xdg).unwrap(),
            Path::new("/etc/xdg-test/ekyc-kiosk/config.toml")
        );
    }

    #[test]
    fn the_users_file_comes_before_the_systems_and_only_one_is_read() {
        let env = |name: &str| (name == "HOME").then(|| "/home/clerk".to_string());
        assert_eq!(
            config_search_path(&env),
            [
                PathBuf::from("/home/clerk/.config/ekyc-kiosk/config.toml"),
                PathBuf::from(SYSTEM_CONFIG_PATH)
            ]
        );

        let user = write_config("lang = \"vi\"\n");
        let system = write_config("lang = \"en\"\ndevice_type = \"kiosk-7\"\n");
        let missing = PathBuf::from("/nonexistent-home/.config/ekyc-kiosk/config.toml");
        let both = [user.path().to_path_buf(), system.path().to_path_buf()];
        let loaded = Config::load_searching(None, &both, &no_env, &[]).unwrap();
        assert_eq!(loaded.path.as_deref(), Some(user.path()));
        assert_eq!(loaded.config.lang, Lang::Vi);
        assert_eq!(loaded.config.device_type, Config::default().device_type);

        let system_only = [missing, system.path().to_path_buf()];
        let loaded = Config::load_searching(None, &system_only, &no_env, &[]).unwrap();
        assert_eq!(loaded.path.as_deref(), Some(system.path()));
        assert_eq!(loaded.config.device_type, "kiosk-7");
    }

    #[test]
    fn malformed_files_name_the_key_and_line() {
        let file = write_config("lang = \"en\"\n\n[network]\nretries = \"three\"\n");
        let error = Config::load_with(Some(file.path()), &no_env, &[])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("line 4") && error.contains("retries"),
            "{error}"
        );

        let file = write_config("backend = \"local\"\nbase_urll = \"x\"\n");
        let error = Config::load_with(Some(file.path()), &no_env, &[])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("line 2") && error.contains("base_urll"),
            "{error}"
        );

        let file = write_config("backend = \n");
        let error = Config::load_with(Some(file.path()), &no_env, &[])
            .unwrap_err()
            .to_string();
        assert!(error.contains("line 1"), "{error}");
    }

    #[test]
    fn bad_overrides_name_their_origin() {
        let env = |name: &str| (name == "EKYC_RETRIES").then(|| "lots".to_string());
        let error = Config::load_with(None, &env, &[]).unwrap_err().to_string();
        assert!(error.starts_with("EKYC_RETRIES=lots"), "{error}");

        let env = |name: &str| (name == "EKYC_BACKEND").then(|| "cloud".to_string());
        let error = Config::load_with(None, &env, &[]).unwrap_err().to_string();
        assert!(
            error.contains("EKYC_BACKEND") && error.contains("cloud"),
            "{error}"
        );

        let sets = [("network.retriez".to_string(), "2".to_string())];
        let error = Config::load_with(None, &no_env, &sets)
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown key `network.retriez`"), "{error}");
    }

    #[test]
    fn kiosk_mode_and_camera_come_from_the_environment() {
        let env = |name: &str| match name {
            "EKYC_KIOSK_MODE" => Some("true".to_string()),
            "EKYC_CAMERA" => Some("demo".to_string()),
            _ => None,
        };
        let loaded = Config::load_with(None, &env, &[]).unwrap();
        assert!(loaded.config.ui.kiosk_mode);
        assert_eq!(loaded.config.camera.device, "demo");
        let env = |name: &str| (name == "EKYC_KIOSK_MODE").then(|| "maybe".to_string());
        let error = Config::load_with(None, &env, &[]).unwrap_err().to_string();
        assert!(error.contains("true or false"), "{error}");
    }

    #[test]
    fn out_of_range_values_name_the_key() {
        let sets = [("images.jpeg_quality".to_string(), "0".to_string())];
        let error = Config::load_with(None, &no_env, &sets)
            .unwrap_err()
            .to_string();
        assert!(error.contains("images.jpeg_quality"), "{error}");
        let sets = [("backend".to_string(), "krypton".to_string())];
        let error = Config::load_with(None, &no_env, &sets)
            .unwrap_err()
            .to_string();
        assert!(error.contains("krypton.url"), "{error}");
    }

    #[test]
    fn liveness_settings_are_read_and_every_key_is_checked() {
        let file = write_config(
            "[liveness]\nmodel = \"passive\"\nchallenge_ms = 4000\nattempts = 3\nmin_parallax = 0.03\n[camera]\ndemo_face = \"print\"\n",
        );
        let config = Config::load_with(Some(file.path()), &no_env, &[])
            .unwrap()
            .config;
        assert_eq!(config.liveness.model, LivenessModel::Passive);
        assert_eq!(config.liveness.challenge_ms, 4000);
        assert_eq!(config.liveness.attempts, 3);
        assert_eq!(config.engine.min_parallax, 0.03);
        assert_eq!(config.camera.demo_face, DemoFace::Print);
        for (key, value) in [
            ("liveness.challenge_ms", "8500"),
            ("liveness.challenge_ms", "500"),
            ("liveness.attempts", "0"),
            ("liveness.min_correlation", "1.5"),
            ("liveness.min_coverage", "0.1"),
            ("liveness.min_parallax", "0.5"),
        ] {
            let file = write_config(&format!(
                "[liveness]\n{} = {value}\n",
                key.trim_start_matches("liveness.")
            ));
            let error = Config::load_with(Some(file.path()), &no_env, &[])
                .unwrap_err()
                .to_string();
            assert!(error.contains(key), "{key} = {value}: {error}");
        }
        for value in ["0.001", "0.5"] {
            let file = write_config(&format!("[engine]\nmin_face_depth = {value}\n"));
            let error = Config::load_with(Some(file.path()), &no_env, &[])
                .unwrap_err()
                .to_string();
            assert!(error.contains("min_face_depth"), "{value}: {error}");
        }
        for (key, value) in [
            ("min_depth_following_across", "0"),
            ("min_depth_following_down", "1.5"),
        ] {
            let file = write_config(&format!("[engine]\n{key} = {value}\n"));
            let error = Config::load_with(Some(file.path()), &no_env, &[])
                .unwrap_err()
                .to_string();
            assert!(error.contains(key), "{key} = {value}: {error}");
        }
        // WCAG 2.2.1: at least 20 seconds to ask for more time; 20 itself is fine.
        let file = write_config("[ui]\nmore_time_secs = 19\n");
        let error = Config::load_with(Some(file.path()), &no_env, &[])
            .unwrap_err()
            .to_string();
        assert!(error.contains("ui.more_time_secs"), "{error}");
        let file = write_config("[ui]\nmore_time_secs = 45\nvoice = true\n");
        let loaded = Config::load_with(Some(file.path()), &no_env, &[]).unwrap();
        assert_eq!(loaded.config.ui.more_time_secs, 45);
        assert_eq!(loaded.config.ui.voice_command[0], "espeak-ng");
        let env = |name: &str| (name == "EKYC_LIVENESS_MODEL").then(|| "blink".to_string());
        let error = Config::load_with(None, &env, &[]).unwrap_err().to_string();
        assert!(
            error.contains("blink") || error.contains("liveness.model"),
            "{error}"
        );
    }

    #[test]
    fn capture_thresholds_come_from_the_preset_and_the_file_and_nonsense_is_named() {
        let file = write_config(
            "[capture]\npreset = \"strict\"\nauto_capture = false\n[capture.card]\nmax_glare = 0.03\n",
        );
        let loaded = Config::load_with(Some(file.path()), &no_env, &[]).unwrap();
        let thresholds = loaded.config.capture.thresholds();
        assert!(!loaded.config.capture.auto_capture);
        assert_eq!(thresholds.card.max_glare, 0.03, "the file's value");
        assert_eq!(
            thresholds.card.min_sharpness,
            Thresholds::preset(Preset::Strict).card.min_sharpness,
            "the preset's value"
        );
        let file = write_config("[capture.selfie]\nmin_face_height = 1.5\n");
        let error = Config::load_with(Some(file.path()), &no_env, &[])
            .unwrap_err()
            .to_string();
        assert!(error.contains("selfie.min_face_height"), "{error}");
        let env = |name: &str| (name == "EKYC_CAPTURE_PRESET").then(|| "lenient".to_string());
        let error = Config::load_with(None, &env, &[]).unwrap_err().to_string();
        assert!(
            error.contains("capture.preset") || error.contains("lenient"),
            "{error}"
        );
    }

    #[test]
    fn api_key_from_environment_or_a_private_file() {
        let env = |name: &str| (name == API_KEY_ENV).then(|| " key-from-env \n".to_string());
        let loaded = Config::load_with(None, &env, &[]).unwrap();
        assert_eq!(loaded.api_key().unwrap().unwrap().expose(), "key-from-env");

        let key_file = write_config("key-from-file\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(key_file.path(), std::fs::Permissions::from_mode(0o644))
                .unwrap();
            let config = write_config(&format!("api_key_file = {:?}\n", key_file.path()));
            let loaded = Config::load_with(Some(config.path()), &no_env, &[]).unwrap();
            let error = loaded.api_key().unwrap_err().to_string();
            assert!(error.contains("chmod 600"), "{error}");
            assert!(
                !error.contains("key-from-file"),
                "the key must not be printed: {error}"
            );
            std::fs::set_permissions(key_file.path(), std::fs::Permissions::from_mode(0o600))
                .unwrap();
            assert_eq!(loaded.api_key().unwrap().unwrap().expose(), "key-from-file");
        }
    }

    #[test]
    fn every_key_with_a_variable_is_in_the_readmes_table_and_nothing_else() {
        let readme =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
                .unwrap();
        let table = readme
            .split("| key | environment variable |\n|---|---|\n")
            .nth(1)
            .and_then(|rest| rest.split("\n\n").next())
            .unwrap();
        let written: Vec<String> = table.lines().map(str::to_owned).collect();
        let schema: Vec<String> = keys()
            .into_iter()
            .filter_map(|key| Some(format!("| `{}` | `{}` |", key.name, key.env?)))
            .collect();
        assert_eq!(
            written,
            schema,
            "the README's table, as the schema has it:\n{}",
            schema.join("\n")
        );
        // Every key can be set by --set, variable or not, each typed by its declaration.
        let sets = [
            ("engine.match_distance".to_string(), "0.45".to_string()),
            (
                "ui.voice_command".to_string(),
                "say, -v, {voice}".to_string(),
            ),
            ("journey.journeys".to_string(), "auth, liveness".to_string()),
        ];
        let loaded = Config::load_with(None, &no_env, &sets).unwrap();
        assert_eq!(loaded.config.engine.match_distance, 0.45);
        assert_eq!(loaded.config.ui.voice_command, ["say", "-v", "{voice}"]);
        assert_eq!(
            loaded.config.journey.journeys,
            [JourneyName::Auth, JourneyName::Liveness]
        );
    }

    #[test]
    fn the_3d_checks_older_key_still_sets_it_and_is_checked_where_it_stands() {
        let file = write_config("[engine]\nmin_parallax = 0.05\n");
        let config = Config::load_with(Some(file.path()), &no_env, &[])
            .unwrap()
            .config;
        assert_eq!(config.engine.min_parallax, 0.05);
        let file = write_config("[engine]\nmin_parallax = 0.05\n[liveness]\nmin_parallax = 0.03\n");
        let config = Config::load_with(Some(file.path()), &no_env, &[])
            .unwrap()
            .config;
        assert_eq!(
            config.engine.min_parallax, 0.03,
            "the older key, where written, wins"
        );
        let file = write_config("[engine]\nmin_parallax = 0.5\n");
        let error = Config::load_with(Some(file.path()), &no_env, &[])
            .unwrap_err()
            .to_string();
        assert!(error.contains("engine.min_parallax"), "{error}");
    }
}
