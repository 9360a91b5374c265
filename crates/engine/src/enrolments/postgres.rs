//! Enrolments in PostgreSQL, for a bank whose engine runs as several replicas: every
//! replica reads and writes the same rows, sealed as the embedded store seals them (the
//! database holds keyed hashes, dates and sealed bytes, never an id or a template in
//! clear; every replica is given the same key file).
//!
//! The connection, its TLS, the pool and the schema are the shared database's
//! ([`crate::database`]).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{
    kept_template, read_or_make_key, unix_seconds, CustomerHash, EnrolmentError, EnrolmentStore,
    EnrolmentSummary, Keys, KEY_CHECK,
};
use crate::database::{Database, DatabaseSettings};
use ekyc_face::Embedding;

/// Enrolments in PostgreSQL (see the module's documentation).
pub struct PgEnrolments {
    name: String,
    database: Arc<Database>,
    keys: Keys,
    retention: Duration,
}

impl std::fmt::Debug for PgEnrolments {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("PgEnrolments")
            .field("database", &self.name)
            .field("retention", &self.retention)
            .finish_non_exhaustive()
    }
}

impl PgEnrolments {
    /// Connects, moves the schema forward if this is the first replica of a newer engine,
    /// and checks that the key in `key_path` is the one the database was sealed with (the
    /// key is made, readable only by its owner, only when the database holds no
    /// enrolments' key yet; every other replica must be given that file).
    pub fn open(
        database: &DatabaseSettings,
        key_path: &Path,
        retention: Duration,
    ) -> Result<Self, EnrolmentError> {
        let name = database.to_string();
        let open_error = |message: String| EnrolmentError::Open {
            store: name.clone(),
            message,
        };
        let shared = Arc::new(Database::open(database).map_err(&open_error)?);
        let sealed_check = shared
            .with(|client| {
                Ok(client
                    .query_opt("SELECT value FROM ekyc_meta WHERE name = $1", &[&KEY_CHECK])?
                    .map(|row| row.get::<_, Vec<u8>>(0)))
            })
            .map_err(&open_error)?;
        let master = read_or_make_key(key_path, sealed_check.is_some())?;
        let keys = Keys::derive(&master);
        let store = Self {
            name,
            database: shared,
            keys,
            retention,
        };
        store.check_key(sealed_check)?;
        Ok(store)
    }

    /// The database and the session key, for the sessions and challenges the replicas
    /// share.
    pub(super) fn shared(&self) -> super::SharedDatabase {
        super::SharedDatabase {
            database: self.database.clone(),
            sessions: self.keys.session_sealer(),
        }
    }

    fn storage(&self, message: String) -> EnrolmentError {
        EnrolmentError::Storage {
            store: self.name.clone(),
            message,
        }
    }

    /// The first replica seals a known text (two starting at once: one wins, both check
    /// the winner's); later ones must open it.
    fn check_key(&self, sealed: Option<Vec<u8>>) -> Result<(), EnrolmentError> {
        let sealed = match sealed {
            Some(sealed) => sealed,
            None => {
                let ours = self.keys.key_check().map_err(|e| self.storage(e))?;
                self.database
                    .with(|client| {
                        client.execute(
                            "INSERT INTO ekyc_meta (name, value) VALUES ($1, $2) \
                             ON CONFLICT (name) DO NOTHING",
                            &[&KEY_CHECK, &ours],
                        )?;
                        Ok(client
                            .query_one(
                                "SELECT value FROM ekyc_meta WHERE name = $1",
                                &[&KEY_CHECK],
                            )?
                            .get::<_, Vec<u8>>(0))
                    })
                    .map_err(|e| self.storage(e))?
            }
        };
        if self.keys.opens_key_check(&sealed) {
            Ok(())
        } else {
            Err(EnrolmentError::WrongKey {
                store: self.name.clone(),
            })
        }
    }
}

/// Unix seconds as the database stores them.
fn seconds(time: u64) -> i64 {
    i64::try_from(time).unwrap_or(i64::MAX)
}

impl EnrolmentStore for PgEnrolments {
    fn customer_hash(&self, customer_id: &str) -> CustomerHash {
        self.keys.customer_hash(customer_id)
    }

    fn enrol(&self, customer: CustomerHash, template: &Embedding) -> Result<(), EnrolmentError> {
        let enrolled_at = unix_seconds(SystemTime::now());
        let sealed = self
            .keys
            .seal_template(customer, enrolled_at, template)
            .map_err(|e| self.storage(e))?;
        self.database
            .with(|client| {
                client.execute(
                    "INSERT INTO ekyc_enrolments (customer, enrolled_at, sealed) \
                     VALUES ($1, $2, $3) \
                     ON CONFLICT (customer) DO UPDATE \
                     SET enrolled_at = EXCLUDED.enrolled_at, sealed = EXCLUDED.sealed",
                    &[&customer.0.as_slice(), &seconds(enrolled_at), &sealed],
                )
            })
            .map(drop)
            .map_err(|e| self.storage(e))
    }

    fn template(&self, customer: CustomerHash) -> Result<Option<Embedding>, EnrolmentError> {
        let found = self
            .database
            .with(|client| {
                Ok(client
                    .query_opt(
                        "SELECT enrolled_at, sealed FROM ekyc_enrolments WHERE customer = $1",
                        &[&customer.0.as_slice()],
                    )?
                    .map(|row| (row.get::<_, i64>(0), row.get::<_, Vec<u8>>(1))))
            })
            .map_err(|e| self.storage(e))?;
        let Some((enrolled_at, sealed)) = found else {
            return Ok(None);
        };
        let enrolled_at = u64::try_from(enrolled_at).unwrap_or(0);
        kept_template(self, &self.keys, &self.name, customer, enrolled_at, &sealed)
    }

    fn delete(&self, customer: CustomerHash) -> Result<bool, EnrolmentError> {
        self.database
            .with(|client| {
                client.execute(
                    "DELETE FROM ekyc_enrolments WHERE customer = $1",
                    &[&customer.0.as_slice()],
                )
            })
            .map(|removed| removed > 0)
            .map_err(|e| self.storage(e))
    }

    fn list(&self) -> Result<Vec<EnrolmentSummary>, EnrolmentError> {
        let rows = self
            .database
            .with(|client| {
                client.query(
                    "SELECT customer, enrolled_at FROM ekyc_enrolments ORDER BY enrolled_at",
                    &[],
                )
            })
            .map_err(|e| self.storage(e))?;
        rows.iter()
            .map(|row| {
                let hash: Vec<u8> = row.get(0);
                let enrolled_at: i64 = row.get(1);
                Ok(EnrolmentSummary {
                    customer: CustomerHash(hash.try_into().map_err(|_| {
                        EnrolmentError::Damaged {
                            store: self.name.clone(),
                        }
                    })?),
                    enrolled_at: UNIX_EPOCH
                        + Duration::from_secs(u64::try_from(enrolled_at).unwrap_or(0)),
                })
            })
            .collect()
    }

    fn purge_before(&self, cutoff: SystemTime) -> Result<usize, EnrolmentError> {
        let cutoff = seconds(unix_seconds(cutoff));
        self.database
            .with(|client| {
                client.execute(
                    "DELETE FROM ekyc_enrolments WHERE enrolled_at < $1",
                    &[&cutoff],
                )
            })
            .map(|removed| removed as usize)
            .map_err(|e| self.storage(e))
    }

    fn retention(&self) -> Duration {
        self.retention
    }

    fn check(&self) -> Result<(), EnrolmentError> {
        self.database
            .with(|client| client.simple_query("SELECT 1").map(drop))
            .map_err(|e| self.storage(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_without_the_banks_ca_is_refused_before_connecting() {
        let folder = tempfile::tempdir().unwrap();
        let settings = DatabaseSettings {
            // Nothing listens there: the refusal must come before any connection.
            url: "postgres://ekyc@127.0.0.1:1/ekyc?sslmode=verify-full".into(),
            password_file: None,
            ca_file: None,
            max_connections: 1,
        };
        let error = PgEnrolments::open(
            &settings,
            &folder.path().join("key"),
            Duration::from_secs(60),
        )
        .unwrap_err();
        assert!(error.to_string().contains("database_ca_file"), "{error}");
    }
}
