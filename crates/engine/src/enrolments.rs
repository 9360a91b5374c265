//! The local engine's enrolments: the face template of each customer enrolled in a
//! Krypton ENROLL session, for their later AUTH sessions.
//!
//! Behind one small interface, [`EnrolmentStore`], so that a bank enrolling at one branch
//! and authenticating at another can put a shared server database behind it. The one
//! implementation here, [`FileEnrolments`], is an embedded database (redb: ACID, crash-safe)
//! in which:
//! - the customer id is never stored: only its HMAC-SHA256 under the store's key
//!   ([`CustomerHash`]), so the file cannot be searched for a known id without the key;
//! - the template (128 numbers, no image: no image is ever stored) is sealed with
//!   XChaCha20-Poly1305, its nonce random, bound to its customer hash and enrolment date;
//! - the key is a file only its owner can read (refused otherwise, like the API key file),
//!   made on first use; both subkeys are derived from it.
//!
//! A template older than the retention limit is treated as absent and deleted.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::XChaCha20Poly1305;
use hmac::{Hmac, Mac};
use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

use ekyc_face::{Embedding, EMBEDDING_SIZE};
use ekyc_secrets::{hex_32, lower_hex, make_private_folder, read_or_make_key_file};

/// Customer hash → (enrolled at, Unix seconds; nonce and sealed template).
const ENROLMENTS: TableDefinition<&[u8], (u64, &[u8])> = TableDefinition::new("enrolments");
/// `key_check` → a known text sealed under the store's key: a database opened with another
/// key is told apart from a damaged one.
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const KEY_CHECK: &str = "key_check";
const KEY_CHECK_TEXT: &[u8] = b"ekyc-kiosk enrolments v1";
const NONCE_BYTES: usize = 24;

/// A customer id as the store knows it: HMAC-SHA256 of the id under the store's key.
/// What `enrolments list` shows and `enrolments delete` takes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CustomerHash(pub [u8; 32]);

impl CustomerHash {
    /// 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        lower_hex(&self.0)
    }

    /// The hash as `to_hex` writes it (either case); `None` for anything else.
    pub fn parse_hex(text: &str) -> Option<Self> {
        hex_32(text).map(Self)
    }
}

impl std::fmt::Debug for CustomerHash {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "CustomerHash({}…)", &self.to_hex()[..12])
    }
}

/// One enrolment as staff may see it: the hash and the date, nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolmentSummary {
    /// Whom it is for: the keyed hash of their id.
    pub customer: CustomerHash,
    /// When they enrolled.
    pub enrolled_at: SystemTime,
}

/// What went wrong with the store; every message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum EnrolmentError {
    /// The key file is unusable (other users can read it, not 64 hex digits, missing
    /// while the database exists).
    #[error("the enrolment key file {path}: {message}")]
    Key {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The database file cannot be opened (damaged, truncated, not a database, in use).
    #[error("the enrolment database {path} cannot be opened: {message}")]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The database was sealed with another key file.
    #[error(
        "the enrolment database {path} was made with another key file: \
         restore the key that belongs to it, or move the database away to start over"
    )]
    WrongKey {
        /// The file.
        path: PathBuf,
    },
    /// Reading or writing failed (disk full, I/O error).
    #[error("the enrolment database {path}: {message}")]
    Storage {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// An enrolment does not open with the store's key: altered or damaged.
    #[error("an enrolment in {path} is damaged or was altered; delete it and enrol again")]
    Damaged {
        /// The file.
        path: PathBuf,
    },
}

/// Where enrolments are kept. Every call is blocking: the engine calls it off the async
/// threads.
pub trait EnrolmentStore: Send + Sync + std::fmt::Debug {
    /// The customer id as this store keys it.
    fn customer_hash(&self, customer_id: &str) -> CustomerHash;
    /// Keeps `template` for `customer`, replacing an earlier enrolment.
    fn enrol(&self, customer: CustomerHash, template: &Embedding) -> Result<(), EnrolmentError>;
    /// The customer's template, if enrolled within the retention limit.
    fn template(&self, customer: CustomerHash) -> Result<Option<Embedding>, EnrolmentError>;
    /// Forgets a customer; `false` when there was nothing to forget.
    fn delete(&self, customer: CustomerHash) -> Result<bool, EnrolmentError>;
    /// Every enrolment, oldest first.
    fn list(&self) -> Result<Vec<EnrolmentSummary>, EnrolmentError>;
    /// Forgets every enrolment made before `cutoff`; returns how many.
    fn purge_before(&self, cutoff: SystemTime) -> Result<usize, EnrolmentError>;
    /// How long an enrolment is kept.
    fn retention(&self) -> Duration;
}

/// The store's two keys, derived from the key file's 32 bytes.
struct Keys {
    cipher: XChaCha20Poly1305,
    id_key: Zeroizing<[u8; 32]>,
}

impl Keys {
    fn derive(master: &[u8; 32]) -> Self {
        let sealing = Zeroizing::new(derive(master, b"ekyc-kiosk enrolment template key v1"));
        Self {
            // Exactly 32 bytes: cannot fail.
            cipher: XChaCha20Poly1305::new_from_slice(sealing.as_slice())
                .unwrap_or_else(|_| unreachable!("a 32-byte key")),
            id_key: Zeroizing::new(derive(master, b"ekyc-kiosk customer id key v1")),
        }
    }
}

fn derive(master: &[u8; 32], label: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(master)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(label);
    mac.finalize().into_bytes().into()
}

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
        if let Some(folder) = path
            .parent()
            .filter(|folder| !folder.as_os_str().is_empty())
        {
            make_private_folder(folder).map_err(|error| EnrolmentError::Open {
                path: path.to_path_buf(),
                message: error.to_string(),
            })?;
        }
        let open_error = |message: String| EnrolmentError::Open {
            path: path.to_path_buf(),
            message,
        };
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

    fn storage(&self, error: impl std::fmt::Display) -> EnrolmentError {
        EnrolmentError::Storage {
            path: self.path.clone(),
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
                    if self.open_sealed(&sealed, KEY_CHECK.as_bytes()).is_none() {
                        return Err(EnrolmentError::WrongKey {
                            path: self.path.clone(),
                        });
                    }
                    return Ok(());
                }
                None => {
                    let enrolments = transaction
                        .open_table(ENROLMENTS)
                        .map_err(|e| self.storage(e))?;
                    if !enrolments.is_empty().map_err(|e| self.storage(e))? {
                        // Enrolments but no key check: not one of ours.
                        return Err(EnrolmentError::WrongKey {
                            path: self.path.clone(),
                        });
                    }
                    let sealed = self.seal(KEY_CHECK_TEXT, KEY_CHECK.as_bytes())?;
                    meta.insert(KEY_CHECK, sealed.as_slice())
                        .map_err(|e| self.storage(e))?;
                }
            }
        }
        transaction.commit().map_err(|e| self.storage(e))
    }

    /// A random nonce, then the ciphertext with its tag.
    fn seal(&self, plaintext: &[u8], bound_to: &[u8]) -> Result<Vec<u8>, EnrolmentError> {
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce).map_err(|e| self.storage(format!("no randomness: {e}")))?;
        let sealed = self
            .keys
            .cipher
            .encrypt(
                (&nonce).into(),
                Payload {
                    msg: plaintext,
                    aad: bound_to,
                },
            )
            .map_err(|_| self.storage("sealing failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    fn open_sealed(&self, sealed: &[u8], bound_to: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        if sealed.len() < NONCE_BYTES {
            return None;
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().ok()?;
        self.keys
            .cipher
            .decrypt(
                (&nonce).into(),
                Payload {
                    msg: ciphertext,
                    aad: bound_to,
                },
            )
            .ok()
            .map(Zeroizing::new)
    }

    fn cutoff(&self) -> SystemTime {
        SystemTime::now()
            .checked_sub(self.retention)
            .unwrap_or(UNIX_EPOCH)
    }
}

/// What the template is bound to: its customer and its date, so that neither can be
/// swapped in the file without the seal breaking.
fn binding(customer: CustomerHash, enrolled_at: u64) -> [u8; 40] {
    let mut bound = [0u8; 40];
    bound[..32].copy_from_slice(&customer.0);
    bound[32..].copy_from_slice(&enrolled_at.to_le_bytes());
    bound
}

fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

impl EnrolmentStore for FileEnrolments {
    fn customer_hash(&self, customer_id: &str) -> CustomerHash {
        let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(self.keys.id_key.as_slice())
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(customer_id.trim().as_bytes());
        CustomerHash(mac.finalize().into_bytes().into())
    }

    fn enrol(&self, customer: CustomerHash, template: &Embedding) -> Result<(), EnrolmentError> {
        let enrolled_at = unix_seconds(SystemTime::now());
        let mut plaintext = Zeroizing::new(Vec::with_capacity(EMBEDDING_SIZE * 4));
        for value in template.0 {
            plaintext.extend_from_slice(&value.to_le_bytes());
        }
        let sealed = self.seal(&plaintext, &binding(customer, enrolled_at))?;
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
        if enrolled_at < unix_seconds(self.cutoff()) {
            // Past the retention limit: gone now, not at the next purge.
            self.delete(customer)?;
            return Ok(None);
        }
        let plaintext = self
            .open_sealed(&sealed, &binding(customer, enrolled_at))
            .filter(|plaintext| plaintext.len() == EMBEDDING_SIZE * 4)
            .ok_or_else(|| EnrolmentError::Damaged {
                path: self.path.clone(),
            })?;
        let mut template = Embedding([0.0; EMBEDDING_SIZE]);
        for (value, bytes) in template.0.iter_mut().zip(plaintext.chunks_exact(4)) {
            let mut word = [0u8; 4];
            word.copy_from_slice(bytes);
            *value = f32::from_le_bytes(word);
            word.zeroize();
        }
        Ok(Some(template))
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
                return Err(EnrolmentError::Damaged {
                    path: self.path.clone(),
                });
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

/// The engine's way to its store: opened on first need (an engine that never enrols
/// makes no file), and tried again after a failure (staff fixed the key file's mode).
pub struct Enrolments {
    files: Option<(PathBuf, PathBuf, Duration)>,
    store: std::sync::Mutex<Option<Arc<dyn EnrolmentStore>>>,
}

impl std::fmt::Debug for Enrolments {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Enrolments")
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

impl Enrolments {
    /// The database at `database`, sealed with the key in `key`, kept `retention`.
    pub fn at(database: PathBuf, key: PathBuf, retention: Duration) -> Self {
        Self {
            files: Some((database, key, retention)),
            store: std::sync::Mutex::new(None),
        }
    }

    /// A store already open (another implementation, or one shared with tests).
    pub fn with_store(store: Arc<dyn EnrolmentStore>) -> Self {
        Self {
            files: None,
            store: std::sync::Mutex::new(Some(store)),
        }
    }

    /// The store, opened now if it was not yet. Blocking.
    pub fn store(&self) -> Result<Arc<dyn EnrolmentStore>, EnrolmentError> {
        let mut store = self
            .store
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(store) = store.as_ref() {
            return Ok(store.clone());
        }
        let Some((database, key, retention)) = &self.files else {
            // `with_store` always holds its store: never reached.
            return Err(EnrolmentError::Open {
                path: PathBuf::new(),
                message: "no enrolment store was given".into(),
            });
        };
        let opened: Arc<dyn EnrolmentStore> =
            Arc::new(FileEnrolments::open(database, key, *retention)?);
        *store = Some(opened.clone());
        Ok(opened)
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

/// Reads the 32-byte key (64 hex digits), or makes one when there is no database yet.
fn read_or_make_key(key_path: &Path, database_exists: bool) -> Result<[u8; 32], EnrolmentError> {
    let problem = |message: String| EnrolmentError::Key {
        path: key_path.to_path_buf(),
        message,
    };
    if !key_path.exists() && database_exists {
        return Err(problem(
            "it is missing, and the enrolments cannot be read without it: restore it, \
             or move the database away to start over"
                .into(),
        ));
    }
    read_or_make_key_file(key_path, "enrolment").map_err(|error| problem(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn a_template_survives_reopening_and_only_its_customer_finds_it() {
        let folder = tempfile::tempdir().unwrap();
        let customer = {
            let store = open(folder.path()).unwrap();
            let customer = store.customer_hash("customer-7");
            store.enrol(customer, &template(0.25)).unwrap();
            customer
        };
        let store = open(folder.path()).unwrap();
        assert_eq!(store.customer_hash("customer-7"), customer);
        assert_eq!(
            store.template(customer).unwrap().unwrap().0,
            template(0.25).0
        );
        let stranger = store.customer_hash("customer-8");
        assert!(store.template(stranger).unwrap().is_none());
        assert_eq!(store.list().unwrap().len(), 1);
        assert!(store.delete(customer).unwrap());
        assert!(!store.delete(customer).unwrap());
        assert!(store.template(customer).unwrap().is_none());
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
    fn enrolments_past_retention_are_gone() {
        let folder = tempfile::tempdir().unwrap();
        let store = open(folder.path()).unwrap();
        let customer = store.customer_hash("old");
        store.enrol(customer, &template(0.1)).unwrap();
        assert_eq!(
            store
                .purge_before(SystemTime::now() - Duration::from_secs(60))
                .unwrap(),
            0
        );
        assert_eq!(
            store
                .purge_before(SystemTime::now() + Duration::from_secs(60))
                .unwrap(),
            1
        );
        assert!(store.list().unwrap().is_empty());
        let short = FileEnrolments {
            retention: Duration::ZERO,
            ..store
        };
        short.enrol(customer, &template(0.1)).unwrap();
        std::thread::sleep(Duration::from_millis(1100));
        assert!(short.template(customer).unwrap().is_none());
        assert!(
            short.list().unwrap().is_empty(),
            "deleted when found expired"
        );
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

    #[test]
    fn two_handles_on_one_database_see_each_others_writes() {
        // The engine serving and staff's `enrolments delete` at the same time.
        let folder = tempfile::tempdir().unwrap();
        let engine = open(folder.path()).unwrap();
        let staff = open(folder.path()).unwrap();
        let customer = engine.customer_hash("c-1");
        engine.enrol(customer, &template(0.3)).unwrap();
        assert_eq!(staff.list().unwrap().len(), 1);
        assert!(staff.delete(customer).unwrap());
        assert!(engine.template(customer).unwrap().is_none());
    }

    #[test]
    fn customer_hashes_print_and_parse_as_hex() {
        let hash = CustomerHash([0xab; 32]);
        assert_eq!(CustomerHash::parse_hex(&hash.to_hex()), Some(hash));
        assert_eq!(
            CustomerHash::parse_hex(&hash.to_hex().to_uppercase()),
            Some(hash)
        );
        assert_eq!(CustomerHash::parse_hex("abc"), None);
        assert_eq!(CustomerHash::parse_hex(&"zz".repeat(32)), None);
        assert!(!format!("{hash:?}").contains(&hash.to_hex()));
    }
}
