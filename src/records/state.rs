//! The kiosk's own state database, `kiosk.redb` in its data folder (`desk.state_db`): the
//! attempt log ([`super::attempts`]) and the report outbox ([`crate::report::outbox`]).
//!
//! One redb file (ACID, crash-safe) opened in redb's multi-writer mode, so that the kiosk,
//! `submit` and `stats` may have it open at once. A write that fails (a full disk) poisons
//! redb's handle; [`StateDb::write`] then opens the file again on the next write, so the
//! kiosk recovers by itself once space is freed.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use redb::{
    ConcurrencyMode, Database, ReadOnlyTable, ReadTransaction, TableDefinition, WriteTransaction,
};

/// Why the state database could not be used. Words for staff, with the file named.
#[derive(Debug, thiserror::Error)]
#[error("the kiosk's state database {path}: {message}")]
pub struct StateError {
    pub path: PathBuf,
    pub message: String,
}

/// The state database, opened on first use and again after a failed write.
#[derive(Clone)]
pub struct StateDb {
    path: PathBuf,
    database: Arc<Mutex<Option<Database>>>,
}

impl std::fmt::Debug for StateDb {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("StateDb")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl StateDb {
    /// The database at `path` (made, with its folder, on the first write).
    pub fn at(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            database: Arc::new(Mutex::new(None)),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn problem(&self, message: impl std::fmt::Display) -> StateError {
        StateError {
            path: self.path.clone(),
            message: message.to_string(),
        }
    }

    fn open(&self) -> Result<Database, StateError> {
        if let Some(folder) = self
            .path
            .parent()
            .filter(|folder| !folder.as_os_str().is_empty())
        {
            std::fs::create_dir_all(folder).map_err(|error| self.problem(error))?;
        }
        let database = redb::Builder::new()
            .set_concurrency_mode(ConcurrencyMode::MultiWriter)
            .create(&self.path)
            .map_err(|error| self.problem(error))?;
        restrict_to_owner(&self.path);
        Ok(database)
    }

    /// Runs `work` in one write transaction and commits it. On any failure the handle is
    /// dropped, so the next call opens the file afresh (redb refuses every write after a
    /// failed one until then).
    pub fn write<T>(
        &self,
        work: impl FnOnce(&WriteTransaction) -> Result<T, redb::Error>,
    ) -> Result<T, StateError> {
        let mut slot = self
            .database
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let database = match &mut *slot {
            Some(database) => database,
            None => slot.insert(self.open()?),
        };
        let outcome = (|| {
            let transaction = database.begin_write()?;
            let value = work(&transaction)?;
            transaction.commit()?;
            Ok::<T, redb::Error>(value)
        })();
        outcome.map_err(|error| {
            *slot = None;
            self.problem(error)
        })
    }

    /// Runs `work` on `table` in one read transaction; a database never written, or one
    /// without that table, reads as empty (`T::default()`).
    pub fn read_table<K: redb::Key + 'static, V: redb::Value + 'static, T: Default>(
        &self,
        table: TableDefinition<K, V>,
        work: impl FnOnce(&ReadOnlyTable<K, V>) -> Result<T, redb::Error>,
    ) -> Result<T, StateError> {
        let value = self.read(|transaction| match transaction.open_table(table) {
            Ok(table) => work(&table),
            Err(redb::TableError::TableDoesNotExist(_)) => Ok(T::default()),
            Err(error) => Err(error.into()),
        })?;
        Ok(value.unwrap_or_default())
    }

    /// Runs `work` in one read transaction; a database never written reads as empty
    /// (`Ok(None)`).
    fn read<T>(
        &self,
        work: impl FnOnce(&ReadTransaction) -> Result<T, redb::Error>,
    ) -> Result<Option<T>, StateError> {
        use redb::ReadableDatabase;
        let mut slot = self
            .database
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if slot.is_none() && !self.path.exists() {
            return Ok(None);
        }
        let database = match &mut *slot {
            Some(database) => database,
            None => slot.insert(self.open()?),
        };
        let outcome = (|| {
            let transaction = database.begin_read()?;
            work(&transaction)
        })();
        outcome.map(Some).map_err(|error| {
            *slot = None;
            self.problem(error)
        })
    }
}

/// The database holds the outbox's sealed reports and the attempt log: its owner alone
/// reads it.
fn restrict_to_owner(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Err(error) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
            tracing::warn!("cannot make {} private: {error}", path.display());
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}
