//! What a member of staff does at the kiosk: opens staff mode with the PIN ([`pin`],
//! Argon2id, and its lockout), and decides a result ([`decision`]: approve, reject with a
//! reason, escalate). The screens are `ui::staff`; staff mode's state, `app::staff_mode`.

pub mod decision;
pub mod pin;

pub use decision::{Decision, DecisionKind, RejectReason};

use std::path::{Path, PathBuf};

use ekyc_settings::ConfigError;

ekyc_settings::section! {
    /// Staff mode: its PIN and how long it stays open.
    pub struct StaffConfig {
        /// The PIN's Argon2id hash, as `staff set-pin` prints it; `pin_file` instead keeps
        /// it out of the configuration.
        pub pin_hash: Option<String> = None,
        /// A file holding the hash, readable by its owner alone (default: `staff.pin` in
        /// the data folder, where `staff set-pin` writes it).
        #[env = "EKYC_STAFF_PIN_FILE"]
        pub pin_file: Option<PathBuf> = None,
        /// Wrong PINs before the pad locks.
        #[env = "EKYC_STAFF_MAX_WRONG"]
        pub max_wrong: u32 = 5,
        /// How long the pad stays locked, in seconds.
        #[env = "EKYC_STAFF_LOCK_SECS"]
        pub lock_secs: u64 = 300,
        /// Staff mode closes by itself after this long without a touch, in seconds.
        #[env = "EKYC_STAFF_EXIT_SECS"]
        pub exit_secs: u64 = 120,
        /// The staff id written in reports.
        #[env = "EKYC_STAFF_ID"]
        pub id: Option<String> = None,
    }
}

impl StaffConfig {
    /// Checks the counts; the key in the error is the section's own.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_wrong == 0 || self.exit_secs == 0 {
            return Err(ConfigError::invalid(
                "max_wrong",
                "max_wrong and exit_secs must be at least 1",
            ));
        }
        Ok(())
    }

    /// Where `staff set-pin` writes the PIN's hash.
    pub fn pin_file(&self, data_dir: Option<&Path>) -> Option<PathBuf> {
        self.pin_file
            .clone()
            .or_else(|| Some(data_dir?.join("staff.pin")))
    }

    /// The staff PIN's hash: `pin_hash`, else the PIN file; `Ok(None)` when no PIN is set
    /// (staff mode then cannot be opened from the screen).
    pub fn pin_hash(&self, data_dir: Option<&Path>) -> Result<Option<String>, ConfigError> {
        if let Some(hash) = &self.pin_hash {
            return Ok(Some(hash.clone()));
        }
        match self.pin_file(data_dir) {
            Some(path) if path.exists() => pin::read_pin_file(&path)
                .map(Some)
                .map_err(|error| ConfigError::secret_file(&path, error)),
            _ => Ok(None),
        }
    }
}
