//! The embedded enrolment database: one redb file (ACID, crash-safe), the default.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};

use super::{
    kept_template, read_or_make_key, unix_seconds, CustomerHash, EnrolmentError, EnrolmentStore,
    EnrolmentSummary, Keys, KEY_CHECK,
};
use ekyc_face::Embedding;
use ekyc_secrets::make_private_folder;

/// Customer hash → (enrolled at, Unix seconds; nonce and sealed template).
const ENROLMENTS: TableDefinition<&[u8], (u64, &[u8])> = TableDefinition::new("enrolments");
/// `key_check` → a known text sealed under the store's key: a database opened with another
/// key is told apart from a damaged one.
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

/// The embedded database (see the module's documentation).
pub struct FileEnrolments {
    path: PathBuf,
    database: Database,
    keys: Keys,
    retention: Duration,
}

impl std::fmt::Debug for FileEnrolments {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("FileEnrolments")
            .field("path", &self.path)
            .field("retention", &self.retention)
            .finish_non_exhaustive()
    }
}

impl FileEnrolments {
    /// Opens (or makes) the database at `path` with the key in `key_path` (made, readable
    /// only by its owner, when neither exists yet).
    pub fn open(path: &Path, key_path: &Path, retention: Duration) -> Result<Self, EnrolmentError> {
        let master = read_or_make_key(key_path, path.exists())?;
        let keys = Keys::derive(&master);
        let open_error = |message: String| EnrolmentError::Open {
            store: path.display().to_string(),
            message,
        };
        if let Some(folder) = path
            .parent()
            .filter(|folder| !folder.as_os_str().is_empty())
        {
            make_private_folder(folder).map_err(|error| open_error(error.to_string()))?;
        }
        // A damaged file must be an error, never a panic in the caller.
        // Several processes may write: the engine serving and staff's `enrolments delete`.
        let opened = std::panic::catch_unwind(|| {
            Database::builder()
                .set_concurrency_mode(redb::ConcurrencyMode::MultiWriter)
                .create(path)
        })
        .map_err(|_| open_error("the file is damaged".into()))?;
        let database = opened.map_err(|error| open_error(describe_open_error(&error)))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                .map_err(|error| open_error(error.to_string()))?;
        }
        let store = Self {
            path: path.to_path_buf(),
            database,
            keys,
            retention,
        };
        store.check_key()?;
        Ok(store)
    }

    fn name(&self) -> String {
        self.path.display().to_string()
    }

    fn storage(&self, error: impl std::fmt::Display) -> EnrolmentError {
        EnrolmentError::Storage {
            store: self.name(),
            message: error.to_string(),
        }
    }

    /// The first open seals a known text; later ones must open it.
    fn check_key(&self) -> Result<(), EnrolmentError> {
        let transaction = self.database.begin_write().map_err(|e| self.storage(e))?;
        {
            let mut meta = transaction.open_table(META).map_err(|e| self.storage(e))?;
            let sealed = meta
                .get(KEY_CHECK)
                .map_err(|e| self.storage(e))?
                .map(|value| value.value().to_vec());
            match sealed {
                Some(sealed) => {
                    if !self.keys.opens_key_check(&sealed) {
                        return Err(EnrolmentError::WrongKey { store: self.name() });
                    }
                    return Ok(());
                }
                None => {
                    let enrolments = transaction
                        .open_table(ENROLMENTS)
                        .map_err(|e| self.storage(e))?;
                    if !enrolments.is_empty().map_err(|e| self.storage(e))? {
                        // Enrolments but no key check: not one of ours.
                        return Err(EnrolmentError::WrongKey { store: self.name() });
                    }
                    let sealed = self.keys.key_check().map_err(|e| self.storage(e))?;
                    meta.insert(KEY_CHECK, sealed.as_slice())
                        .map_err(|e| self.storage(e))?;
                }
            }
        }
        transaction.commit().map_err(|e| self.storage(e))
    }
}

impl EnrolmentStore for FileEnrolments {
    fn customer_hash(&self, customer_id: &str) -> CustomerHash {
        self.keys.customer_hash(customer_id)
    }

    fn enrol(&self, customer: CustomerHash, template: &Embedding) -> Result<(), EnrolmentError> {
        let enrolled_at = unix_seconds(SystemTime::now());
        let sealed = self
            .keys
            .seal_template(customer, enrolled_at, template)
            .map_err(|e| self.storage(e))?;
        let transaction = self.database.begin_write().map_err(|e| self.storage(e))?;
        {
            let mut table = transaction
                .open_table(ENROLMENTS)
                .map_err(|e| self.storage(e))?;
            table
                .insert(customer.0.as_slice(), (enrolled_at, sealed.as_slice()))
                .map_err(|e| self.storage(e))?;
        }
        transaction.commit().map_err(|e| self.storage(e))
    }

    fn template(&self, customer: CustomerHash) -> Result<Option<Embedding>, EnrolmentError> {
        let found = {
            let transaction = self.database.begin_read().map_err(|e| self.storage(e))?;
            let table = match transaction.open_table(ENROLMENTS) {
                Ok(table) => table,
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
                Err(error) => return Err(self.storage(error)),
            };
            let value = table
                .get(customer.0.as_slice())
                .map_err(|e| self.storage(e))?;
            value.map(|value| {
                let (enrolled_at, sealed) = value.value();
                (enrolled_at, sealed.to_vec())
            })
        };
        let Some((enrolled_at, sealed)) = found else {
            return Ok(None);
        };
        kept_template(
            self,
            &self.keys,
            &self.name(),
            customer,
            enrolled_at,
            &sealed,
        )
    }

    fn delete(&self, customer: CustomerHash) -> Result<bool, EnrolmentError> {
        let transaction = self.database.begin_write().map_err(|e| self.storage(e))?;
        let removed = {
            let mut table = transaction
                .open_table(ENROLMENTS)
                .map_err(|e| self.storage(e))?;
            let removed = table
                .remove(customer.0.as_slice())
                .map_err(|e| self.storage(e))?
                .is_some();
            removed
        };
        transaction.commit().map_err(|e| self.storage(e))?;
        Ok(removed)
    }

    fn list(&self) -> Result<Vec<EnrolmentSummary>, EnrolmentError> {
        let transaction = self.database.begin_read().map_err(|e| self.storage(e))?;
        let table = match transaction.open_table(ENROLMENTS) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(error) => return Err(self.storage(error)),
        };
        let mut summaries = Vec::new();
        for entry in table.iter().map_err(|e| self.storage(e))? {
            let (key, value) = entry.map_err(|e| self.storage(e))?;
            let Ok(hash) = <[u8; 32]>::try_from(key.value()) else {
                return Err(EnrolmentError::Damaged { store: self.name() });
            };
            summaries.push(EnrolmentSummary {
                customer: CustomerHash(hash),
                enrolled_at: UNIX_EPOCH + Duration::from_secs(value.value().0),
            });
        }
        summaries.sort_by_key(|summary| summary.enrolled_at);
        Ok(summaries)
    }

    fn purge_before(&self, cutoff: SystemTime) -> Result<usize, EnrolmentError> {
        let cutoff = unix_seconds(cutoff);
        let transaction = self.database.begin_write().map_err(|e| self.storage(e))?;
        let removed = {
            let mut table = transaction
                .open_table(ENROLMENTS)
                .map_err(|e| self.storage(e))?;
            let before = table.len().map_err(|e| self.storage(e))?;
            table
                .retain(|_, (enrolled_at, _)| enrolled_at >= cutoff)
                .map_err(|e| self.storage(e))?;
            let after = table.len().map_err(|e| self.storage(e))?;
            (before - after) as usize
        };
        transaction.commit().map_err(|e| self.storage(e))?;
        Ok(removed)
    }

    fn retention(&self) -> Duration {
        self.retention
    }
}

/// redb's errors, in words staff can act on.
fn describe_open_error(error: &redb::DatabaseError) -> String {
    match error {
        redb::DatabaseError::DatabaseAlreadyOpen => {
            "it is in use by another program (a running engine?); stop it first".into()
        }
        redb::DatabaseError::Storage(redb::StorageError::Corrupted(_)) => {
            "the file is damaged or is not an enrolment database".into()
        }
        redb::DatabaseError::Storage(redb::StorageError::Io(io))
            if io.kind() == std::io::ErrorKind::UnexpectedEof =>
        {
            "the file is damaged (cut short)".into()
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ekyc_face::EMBEDDING_SIZE;

    fn template(seed: f32) -> Embedding {
        let mut values = [0.0; EMBEDDING_SIZE];
        for (index, value) in values.iter_mut().enumerate() {
            *value = seed + index as f32 / 1000.0;
        }
        Embedding(values)
    }

    fn open(folder: &Path) -> Result<FileEnrolments, EnrolmentError> {
        FileEnrolments::open(
            &folder.join("enrolments.redb"),
            &folder.join("enrolment.key"),
            Duration::from_secs(3600),
        )
    }

    #[test]
    fn the_key_file_is_made_private_and_a_readable_one_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let folder = tempfile::tempdir().unwrap();
        drop(open(folder.path()).unwrap());
        let key = folder.path().join("enrolment.key");
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let error = open(folder.path()).unwrap_err();
        assert!(
            matches!(&error, EnrolmentError::Key { message, .. } if message.contains("chmod 600")),
            "{error}"
        );
    }

    #[test]
    fn another_key_or_a_missing_key_is_told_apart_from_damage() {
        let folder = tempfile::tempdir().unwrap();
        drop(open(folder.path()).unwrap());
        let key = folder.path().join("enrolment.key");
        std::fs::remove_file(&key).unwrap();
        assert!(matches!(
            open(folder.path()).unwrap_err(),
            EnrolmentError::Key { message, .. } if message.contains("missing")
        ));
        ekyc_secrets::make_key(&key).unwrap();
        assert!(matches!(
            open(folder.path()).unwrap_err(),
            EnrolmentError::WrongKey { .. }
        ));
    }

    #[test]
    fn a_template_moved_to_another_customer_does_not_open() {
        let folder = tempfile::tempdir().unwrap();
        let store = open(folder.path()).unwrap();
        let (first, second) = (store.customer_hash("a"), store.customer_hash("b"));
        store.enrol(first, &template(0.5)).unwrap();
        let sealed = {
            let transaction = store.database.begin_read().unwrap();
            let table = transaction.open_table(ENROLMENTS).unwrap();
            let value = table.get(first.0.as_slice()).unwrap().unwrap();
            let (at, sealed) = value.value();
            (at, sealed.to_vec())
        };
        let transaction = store.database.begin_write().unwrap();
        transaction
            .open_table(ENROLMENTS)
            .unwrap()
            .insert(second.0.as_slice(), (sealed.0, sealed.1.as_slice()))
            .unwrap();
        transaction.commit().unwrap();
        assert!(matches!(
            store.template(second).unwrap_err(),
            EnrolmentError::Damaged { .. }
        ));
    }

    #[test]
    fn a_truncated_or_foreign_file_is_a_clear_error() {
        let folder = tempfile::tempdir().unwrap();
        {
            let store = open(folder.path()).unwrap();
            for index in 0..50 {
                let customer = store.customer_hash(&format!("customer-{index}"));
                store.enrol(customer, &template(index as f32)).unwrap();
            }
        }
        let path = folder.path().join("enrolments.redb");
        let length = std::fs::metadata(&path).unwrap().len();
        for keep in [length / 2, 100] {
            let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
            file.set_len(keep).unwrap();
            drop(file);
            let error = open(folder.path()).unwrap_err();
            assert!(
                matches!(&error, EnrolmentError::Open { message, .. } if message.contains("damaged")),
                "{keep} bytes: {error}"
            );
        }
        std::fs::write(
            &path,
            b"SQLite format 3\0 and then some pages of somebody else's data",
        )
        .unwrap();
        let error = open(folder.path()).unwrap_err();
        assert!(matches!(error, EnrolmentError::Open { .. }), "{error}");
    }
}
