//! The local engine's enrolments: the face template of each customer enrolled in a
//! Krypton ENROLL session, for their later AUTH sessions.
//!
//! Behind one small interface, [`EnrolmentStore`], with two implementations that seal
//! alike (`Keys`):
//! - [`FileEnrolments`] (`file.rs`), the default: an embedded database (redb: ACID,
//!   crash-safe) in one file, for one kiosk or one engine, no server to run;
//! - [`PgEnrolments`] (`postgres.rs`), for a bank: PostgreSQL shared by every replica of
//!   the engine, so that a customer enrolled at one branch is known at every other.
//!
//! In both:
//! - the customer id is never stored: only its HMAC-SHA256 under the store's key
//!   ([`CustomerHash`]), so the database cannot be searched for a known id without the key;
//! - the template (128 numbers, no image: no image is ever stored) is sealed with
//!   XChaCha20-Poly1305, its nonce random, bound to its customer hash and enrolment date;
//! - the key is a file only its owner can read (refused otherwise, like the API key file);
//!   both subkeys are derived from it. Every replica of a bank is given the same file.
//!
//! A template older than the retention limit is treated as absent and deleted.

mod file;
mod postgres;

pub use crate::database::DatabaseSettings;
pub use file::FileEnrolments;
pub use postgres::PgEnrolments;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

use ekyc_face::{Embedding, EMBEDDING_SIZE};
use ekyc_secrets::{hex_32, lower_hex, read_or_make_key_file, Sealer};

/// The name of the sealed known text that tells a store opened with another key from a
/// damaged one.
const KEY_CHECK: &str = "key_check";
const KEY_CHECK_TEXT: &[u8] = b"ekyc-kiosk enrolments v1";

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

/// What went wrong with the store; every message says what to do. `store` names the
/// database: its file, or `postgres://user@host:port/name` (never a password).
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
    /// The database cannot be opened (a damaged or foreign file, a file in use, a server
    /// that cannot be reached or refuses the login).
    #[error("the enrolment database {store} cannot be opened: {message}")]
    Open {
        /// The database.
        store: String,
        /// Why.
        message: String,
    },
    /// The database was sealed with another key file.
    #[error(
        "the enrolment database {store} was made with another key file: \
         restore the key that belongs to it (every replica of a bank is given the same \
         one), or move the database away to start over"
    )]
    WrongKey {
        /// The database.
        store: String,
    },
    /// Reading or writing failed (disk full, I/O error, the server gone).
    #[error("the enrolment database {store}: {message}")]
    Storage {
        /// The database.
        store: String,
        /// Why.
        message: String,
    },
    /// An enrolment does not open with the store's key: altered or damaged.
    #[error("an enrolment in {store} is damaged or was altered; delete it and enrol again")]
    Damaged {
        /// The database.
        store: String,
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
    /// Whether the store can serve now (a server store: reached, answering).
    fn check(&self) -> Result<(), EnrolmentError> {
        Ok(())
    }
}

/// The store's two keys, derived from the key file's 32 bytes, and what is done with
/// them: the same in every implementation, so that the sealing is written once.
struct Keys {
    sealer: Sealer,
    id_key: Zeroizing<[u8; 32]>,
    /// Seals open sessions where replicas share them (PostgreSQL).
    session_key: Zeroizing<[u8; 32]>,
}

impl Keys {
    fn derive(master: &[u8; 32]) -> Self {
        let sealing = Zeroizing::new(derive(master, b"ekyc-kiosk enrolment template key v1"));
        Self {
            sealer: Sealer::new(&sealing),
            id_key: Zeroizing::new(derive(master, b"ekyc-kiosk customer id key v1")),
            session_key: Zeroizing::new(derive(master, b"ekyc-kiosk session state key v1")),
        }
    }

    fn session_sealer(&self) -> Sealer {
        Sealer::new(&self.session_key)
    }

    fn customer_hash(&self, customer_id: &str) -> CustomerHash {
        let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(self.id_key.as_slice())
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(customer_id.trim().as_bytes());
        CustomerHash(mac.finalize().into_bytes().into())
    }

    /// `plaintext` sealed, bound to `bound_to`; `Err` with the reason.
    fn seal(&self, plaintext: &[u8], bound_to: &[u8]) -> Result<Vec<u8>, String> {
        self.sealer
            .seal(plaintext, bound_to)
            .map_err(|error| error.to_string())
    }

    fn open(&self, sealed: &[u8], bound_to: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        self.sealer.open(sealed, bound_to)
    }

    /// The known text sealed, for a new database.
    fn key_check(&self) -> Result<Vec<u8>, String> {
        self.seal(KEY_CHECK_TEXT, KEY_CHECK.as_bytes())
    }

    /// Whether a database's sealed known text opens with these keys.
    fn opens_key_check(&self, sealed: &[u8]) -> bool {
        self.open(sealed, KEY_CHECK.as_bytes()).is_some()
    }

    /// `template` sealed for `customer`, enrolled at `enrolled_at` (Unix seconds).
    fn seal_template(
        &self,
        customer: CustomerHash,
        enrolled_at: u64,
        template: &Embedding,
    ) -> Result<Vec<u8>, String> {
        let mut plaintext = Zeroizing::new(Vec::with_capacity(EMBEDDING_SIZE * 4));
        for value in template.0 {
            plaintext.extend_from_slice(&value.to_le_bytes());
        }
        self.seal(&plaintext, &binding(customer, enrolled_at))
    }

    /// The template sealed for `customer` at `enrolled_at`; `None` when it does not open
    /// (altered, moved to another customer or date, damaged).
    fn open_template(
        &self,
        customer: CustomerHash,
        enrolled_at: u64,
        sealed: &[u8],
    ) -> Option<Embedding> {
        let plaintext = self
            .open(sealed, &binding(customer, enrolled_at))
            .filter(|plaintext| plaintext.len() == EMBEDDING_SIZE * 4)?;
        let mut template = Embedding([0.0; EMBEDDING_SIZE]);
        for (value, bytes) in template.0.iter_mut().zip(plaintext.chunks_exact(4)) {
            let mut word = [0u8; 4];
            word.copy_from_slice(bytes);
            *value = f32::from_le_bytes(word);
            word.zeroize();
        }
        Some(template)
    }
}

/// What a store found for `customer` (enrolled at `enrolled_at`, Unix seconds, `sealed`)
/// as [`EnrolmentStore::template`] answers it: nothing past the retention limit (deleted
/// now, not at the next purge), else the template opened with `keys`, or
/// [`EnrolmentError::Damaged`] naming `store_name` when it does not open.
fn kept_template(
    store: &dyn EnrolmentStore,
    keys: &Keys,
    store_name: &str,
    customer: CustomerHash,
    enrolled_at: u64,
    sealed: &[u8],
) -> Result<Option<Embedding>, EnrolmentError> {
    if enrolled_at < unix_seconds(cutoff(store.retention())) {
        store.delete(customer)?;
        return Ok(None);
    }
    keys.open_template(customer, enrolled_at, sealed)
        .map(Some)
        .ok_or_else(|| EnrolmentError::Damaged {
            store: store_name.to_owned(),
        })
}

fn derive(master: &[u8; 32], label: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(master)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(label);
    mac.finalize().into_bytes().into()
}

/// What the template is bound to: its customer and its date, so that neither can be
/// swapped in the database without the seal breaking.
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

/// The oldest enrolment still kept `retention` after it was made.
fn cutoff(retention: Duration) -> SystemTime {
    SystemTime::now()
        .checked_sub(retention)
        .unwrap_or(UNIX_EPOCH)
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

/// What a bank's replicas share besides the enrolments: the database, and the key that
/// seals an open session's state there (derived from the same key file, which every
/// replica is given).
pub struct SharedDatabase {
    /// The database and this replica's connections to it.
    pub database: Arc<crate::database::Database>,
    /// Seals a session's state, bound to its id.
    pub sessions: Sealer,
}

/// Which store the engine opens.
enum Source {
    /// The embedded database file and its key file.
    File {
        database: PathBuf,
        key: PathBuf,
        retention: Duration,
    },
    /// PostgreSQL, and the key file every replica shares.
    Postgres {
        database: DatabaseSettings,
        key: PathBuf,
        retention: Duration,
    },
    /// Given open ([`Enrolments::with_store`]).
    Given,
}

/// The engine's way to its store: opened on first need (an engine that never enrols
/// makes no file and opens no connection), and tried again after a failure (staff fixed
/// the key file's mode, the database came back).
pub struct Enrolments {
    source: Source,
    store: std::sync::Mutex<Option<Arc<dyn EnrolmentStore>>>,
    /// Set when the PostgreSQL store opens.
    shared: std::sync::Mutex<Option<Arc<SharedDatabase>>>,
}

impl std::fmt::Debug for Enrolments {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let source = match &self.source {
            Source::File { database, .. } => database.display().to_string(),
            Source::Postgres { database, .. } => database.to_string(),
            Source::Given => "given".into(),
        };
        formatter
            .debug_struct("Enrolments")
            .field("source", &source)
            .finish_non_exhaustive()
    }
}

impl Enrolments {
    /// The database at `database`, sealed with the key in `key`, kept `retention`.
    pub fn at(database: PathBuf, key: PathBuf, retention: Duration) -> Self {
        Self {
            source: Source::File {
                database,
                key,
                retention,
            },
            store: std::sync::Mutex::new(None),
            shared: std::sync::Mutex::new(None),
        }
    }

    /// PostgreSQL as `database` says, sealed with the key in `key` (every replica's the
    /// same), kept `retention`.
    pub fn in_postgres(database: DatabaseSettings, key: PathBuf, retention: Duration) -> Self {
        Self {
            source: Source::Postgres {
                database,
                key,
                retention,
            },
            store: std::sync::Mutex::new(None),
            shared: std::sync::Mutex::new(None),
        }
    }

    /// A store already open (another implementation, or one shared with tests).
    pub fn with_store(store: Arc<dyn EnrolmentStore>) -> Self {
        Self {
            source: Source::Given,
            store: std::sync::Mutex::new(Some(store)),
            shared: std::sync::Mutex::new(None),
        }
    }

    /// Whether the store is a server the engine cannot serve without (PostgreSQL): what
    /// `/healthz` checks. The embedded file is not; it is opened on first need.
    pub fn is_server(&self) -> bool {
        matches!(self.source, Source::Postgres { .. })
    }

    /// Whether the store can serve now: opened (now, if it was not yet) and answering.
    /// Blocking.
    pub fn check(&self) -> Result<(), EnrolmentError> {
        self.store()?.check()
    }

    /// The database the replicas share, opened now (with the enrolments) if it was not
    /// yet; `None` when the store is not PostgreSQL. Blocking.
    pub fn shared_database(&self) -> Result<Option<Arc<SharedDatabase>>, EnrolmentError> {
        if !self.is_server() {
            return Ok(None);
        }
        self.store()?;
        Ok(self.opened_shared_database())
    }

    /// The shared database if it is open already (never blocks, never connects).
    pub fn opened_shared_database(&self) -> Option<Arc<SharedDatabase>> {
        self.shared
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .clone()
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
        let opened: Arc<dyn EnrolmentStore> = match &self.source {
            Source::File {
                database,
                key,
                retention,
            } => Arc::new(FileEnrolments::open(database, key, *retention)?),
            Source::Postgres {
                database,
                key,
                retention,
            } => {
                let opened = PgEnrolments::open(database, key, *retention)?;
                *self
                    .shared
                    .lock()
                    .unwrap_or_else(|poison| poison.into_inner()) = Some(Arc::new(opened.shared()));
                Arc::new(opened)
            }
            // `with_store` always holds its store: never reached.
            Source::Given => {
                return Err(EnrolmentError::Open {
                    store: "given".into(),
                    message: "no enrolment store was given".into(),
                })
            }
        };
        *store = Some(opened.clone());
        Ok(opened)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
