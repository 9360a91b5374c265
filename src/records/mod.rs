//! What the kiosk keeps: the attempt log, every step of every attempt without personal
//! data ([`attempts`]), the branch's figures from it ([`stats`]), and the state database
//! it lives in with the report outbox ([`state`], `kiosk.redb`).

pub mod attempts;
pub mod state;
pub mod stats;

pub use attempts::{AttemptEvent, AttemptId, AttemptLog};
pub use state::StateDb;

use std::path::{Path, PathBuf};
use std::time::Duration;

ekyc_settings::section! {
    /// The kiosk's records: the attempt log and the report outbox (`kiosk.redb`). The
    /// section is called `[desk]` in the file, as it always was.
    pub struct RecordsConfig {
        /// This kiosk's name in reports (default: `client_uuid`, else the host's name).
        #[env = "EKYC_KIOSK_ID"]
        pub kiosk_id: Option<String> = None,
        /// The state database (default: `kiosk.redb` in the data folder).
        #[env = "EKYC_STATE_DB"]
        pub state_db: Option<PathBuf> = None,
        /// The outbox's sealing key (default: `outbox.key` beside the state database).
        #[env = "EKYC_OUTBOX_KEY_FILE"]
        pub outbox_key_file: Option<PathBuf> = None,
        /// Record each step of each attempt (no personal data) for `stats` and the
        /// dashboard.
        #[env = "EKYC_ATTEMPT_LOG"]
        pub attempt_log: bool = true,
        /// Attempt records older than this many days are deleted.
        #[env = "EKYC_RETENTION_DAYS"]
        pub retention_days: u32 = 90,
    }
}

impl RecordsConfig {
    /// The kiosk's state database (attempt log, outbox); `None` when neither `state_db`
    /// nor a data folder is known.
    pub fn state_db(&self, data_dir: Option<&Path>) -> Option<StateDb> {
        let path = self
            .state_db
            .clone()
            .or_else(|| Some(data_dir?.join("kiosk.redb")))?;
        Some(StateDb::at(path))
    }

    /// The attempt log, started (off with `attempt_log = false`).
    pub fn attempt_log(&self, data_dir: Option<&Path>) -> Option<AttemptLog> {
        if !self.attempt_log {
            return None;
        }
        let retention = Duration::from_secs(u64::from(self.retention_days) * 86_400);
        Some(AttemptLog::start(self.state_db(data_dir)?, retention))
    }

    /// The outbox's key file: `outbox_key_file`, else beside the state database.
    pub fn outbox_key_file(&self, state: &StateDb) -> PathBuf {
        self.outbox_key_file.clone().unwrap_or_else(|| {
            state
                .path()
                .parent()
                .unwrap_or(Path::new("."))
                .join("outbox.key")
        })
    }

    /// This kiosk's name in reports: `kiosk_id`, else `client_uuid`, else the host's.
    pub fn kiosk_id(&self, client_uuid: Option<&str>) -> String {
        self.kiosk_id
            .clone()
            .or_else(|| client_uuid.map(str::to_owned))
            .or_else(|| {
                std::fs::read_to_string("/etc/hostname")
                    .ok()
                    .map(|name| name.trim().to_owned())
                    .filter(|name| !name.is_empty())
            })
            .unwrap_or_else(|| "kiosk".into())
    }
}
