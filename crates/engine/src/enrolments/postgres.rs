//! Enrolments in PostgreSQL, for a bank whose engine runs as several replicas: every
//! replica reads and writes the same rows, sealed as the embedded store seals them (the
//! database holds keyed hashes, dates and sealed bytes, never an id or a template in
//! clear; every replica is given the same key file).
//!
//! The client is `postgres` (the blocking face of `tokio-postgres`, rust-postgres's kept
//! pure-Rust client): the store's calls are blocking already, run off the engine's async
//! threads, and a small pool of its own here bounds the connections without another
//! crate. TLS is rustls (the engine's own), always verifying the server's certificate and
//! name against the bank's CA (`engine.database_ca_file`), as libpq's
//! `sslmode=verify-full` does.
//!
//! The schema is made and moved forward by the first replica to start: migrations run in
//! one transaction under an advisory lock, so that replicas starting at once take turns
//! and the later ones find the work done.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use postgres::{Client, NoTls};

use super::{
    kept_template, read_or_make_key, unix_seconds, CustomerHash, EnrolmentError, EnrolmentStore,
    EnrolmentSummary, Keys, KEY_CHECK,
};
use ekyc_face::Embedding;

/// The schema, one step per entry, in order; never edited once released (a change is a
/// new step). `ekyc_schema` holds how many have run.
const MIGRATIONS: &[&str] = &[
    // 1: enrolments and the key check.
    "CREATE TABLE ekyc_enrolments (
         customer bytea PRIMARY KEY CHECK (length(customer) = 32),
         enrolled_at bigint NOT NULL,
         sealed bytea NOT NULL
     );
     CREATE INDEX ekyc_enrolments_enrolled_at ON ekyc_enrolments (enrolled_at);
     CREATE TABLE ekyc_meta (name text PRIMARY KEY, value bytea NOT NULL);",
];

/// The advisory lock the migrations run under (any number, the same in every replica):
/// "ekyc" in ASCII.
const MIGRATION_LOCK: i64 = 0x656b_7963;

/// How long a connection may take to open, and a statement to run, before the request
/// is answered "unavailable" rather than left hanging.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const STATEMENT_TIMEOUT_MS: u64 = 5_000;
/// How long a request waits for one of the pool's connections.
const POOL_WAIT: Duration = Duration::from_secs(5);

/// Where the database is and how to reach it: `engine.database_url` and its companions.
#[derive(Clone)]
pub struct DatabaseSettings {
    /// `postgres://user@host:port/name?sslmode=…` (a password here works, but belongs in
    /// `password_file`).
    pub url: String,
    /// A file holding the login's password, readable only by its owner; read when the
    /// store opens.
    pub password_file: Option<PathBuf>,
    /// The bank's CA (PEM) the server's certificate must chain to; required for TLS.
    pub ca_file: Option<PathBuf>,
    /// Connections kept at most by this replica.
    pub max_connections: usize,
}

impl std::fmt::Display for DatabaseSettings {
    /// `postgres://user@host:port/name`: never the password.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match parse(&self.url) {
            Ok((config, _)) => {
                let host = config
                    .get_hosts()
                    .first()
                    .map(|host| match host {
                        postgres::config::Host::Tcp(name) => name.clone(),
                        postgres::config::Host::Unix(path) => path.display().to_string(),
                    })
                    .unwrap_or_default();
                let port = config.get_ports().first().copied().unwrap_or(5432);
                write!(
                    formatter,
                    "postgres://{}@{host}:{port}/{}",
                    config.get_user().unwrap_or(""),
                    config.get_dbname().unwrap_or("")
                )
            }
            Err(_) => formatter.write_str("postgres://(an address that does not parse)"),
        }
    }
}

impl std::fmt::Debug for DatabaseSettings {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "DatabaseSettings({self})")
    }
}

/// Whether the address asks for TLS.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Tls {
    /// `sslmode=disable`: plain (a database on the same machine, a demo).
    Off,
    /// No `sslmode` (or libpq's `prefer`, `allow`): TLS when a CA file is given, and
    /// then required; plain otherwise.
    Unsaid,
    /// `require`, `verify-ca`, `verify-full`: TLS, the certificate and the server's name
    /// checked against the CA file, which must be given.
    Verified,
}

/// The address as `tokio-postgres` reads it, and the TLS it asks for. libpq's
/// `verify-ca` and `verify-full` are not words `tokio-postgres` knows; with rustls every
/// connection is verified in full, so both become its `require`.
fn parse(url: &str) -> Result<(postgres::Config, Tls), String> {
    let mut asked = None;
    let rewritten = url
        .split(['?', '&'])
        .find_map(|part| part.strip_prefix("sslmode="))
        .map(|mode| {
            asked = Some(mode.to_owned());
            match mode {
                "verify-ca" | "verify-full" => {
                    url.replace(&format!("sslmode={mode}"), "sslmode=require")
                }
                _ => url.to_owned(),
            }
        })
        .unwrap_or_else(|| url.to_owned());
    let config: postgres::Config = rewritten.parse().map_err(|error| {
        format!("the address does not parse ({error}); it reads postgres://user@host:port/name")
    })?;
    let tls = match asked.as_deref() {
        Some("disable") => Tls::Off,
        Some("require" | "verify-ca" | "verify-full") => Tls::Verified,
        _ => Tls::Unsaid,
    };
    Ok((config, tls))
}

/// The connections this replica keeps, at most `max`; a request waits up to
/// [`POOL_WAIT`] for one.
struct Pool {
    config: postgres::Config,
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
    idle: Mutex<(Vec<Client>, usize)>,
    freed: Condvar,
    max: usize,
}

impl Pool {
    fn connect(&self) -> Result<Client, postgres::Error> {
        match &self.tls {
            Some(tls) => self.config.connect(tls.clone()),
            None => self.config.connect(NoTls),
        }
    }

    /// Runs `work` on a connection; a connection that failed is closed, not kept.
    fn with<T>(
        &self,
        work: impl FnOnce(&mut Client) -> Result<T, postgres::Error>,
    ) -> Result<T, String> {
        let mut client = {
            let mut state = self
                .idle
                .lock()
                .unwrap_or_else(|poison| poison.into_inner());
            loop {
                if let Some(client) = state.0.pop() {
                    if !client.is_closed() {
                        break Some(client);
                    }
                    state.1 -= 1;
                    continue;
                }
                if state.1 < self.max {
                    state.1 += 1;
                    break None;
                }
                let (next, waited) = self
                    .freed
                    .wait_timeout(state, POOL_WAIT)
                    .unwrap_or_else(|poison| poison.into_inner());
                state = next;
                if waited.timed_out() && state.0.is_empty() && state.1 >= self.max {
                    return Err(format!(
                        "all {} connections stayed busy for {} s",
                        self.max,
                        POOL_WAIT.as_secs()
                    ));
                }
            }
        };
        if client.is_none() {
            match self.connect() {
                Ok(opened) => client = Some(opened),
                Err(error) => {
                    self.give_back(None);
                    return Err(describe(&error));
                }
            }
        }
        let Some(mut client) = client else {
            unreachable!("a connection was taken or opened above")
        };
        let result = work(&mut client);
        let keep = result.is_ok() || !client.is_closed();
        self.give_back(keep.then_some(client));
        result.map_err(|error| describe(&error))
    }

    fn give_back(&self, client: Option<Client>) {
        let mut state = self
            .idle
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        match client {
            Some(client) => state.0.push(client),
            None => state.1 -= 1,
        }
        self.freed.notify_one();
    }
}

impl Drop for Pool {
    /// A client's drop waits for its connection to end on a runtime of its own, which
    /// must not happen on an async thread (where the engine's last reference to its
    /// store may go): the connections are closed on a thread of their own.
    fn drop(&mut self) {
        let state = self
            .idle
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let idle = std::mem::take(&mut state.0);
        if !idle.is_empty() {
            let closing = std::thread::Builder::new()
                .name("ekyc-db-close".into())
                .spawn(move || drop(idle));
            if let Err(error) = closing {
                tracing::warn!("the database connections were left open: {error}");
            }
        }
    }
}

/// A database error in words staff can act on: the server's own message (never a value:
/// the statements carry hashes and sealed bytes only), or why it could not be reached.
fn describe(error: &postgres::Error) -> String {
    if let Some(database) = error.as_db_error() {
        return format!("{} ({})", database.message(), database.code().code());
    }
    if error.is_closed() {
        return "the connection to the database was closed (is it running?)".into();
    }
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}

/// Enrolments in PostgreSQL (see the module's documentation).
pub struct PgEnrolments {
    name: String,
    pool: Arc<Pool>,
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
        let (mut config, tls) = parse(&database.url).map_err(&open_error)?;
        config
            .connect_timeout(CONNECT_TIMEOUT)
            .options(&format!("-c statement_timeout={STATEMENT_TIMEOUT_MS}"))
            .application_name("ekyc-engine");
        if let Some(file) = &database.password_file {
            let password = ekyc_secrets::read_secret_file(file).map_err(|error| {
                open_error(format!("the password file {}: {error}", file.display()))
            })?;
            config.password(password.expose());
        }
        let tls = match (tls, &database.ca_file) {
            (Tls::Off, _) | (Tls::Unsaid, None) => None,
            (Tls::Unsaid | Tls::Verified, Some(ca_file)) => {
                // A CA given means TLS: never a silent fall back to plain text.
                config.ssl_mode(postgres::config::SslMode::Require);
                Some(rustls_connector(ca_file).map_err(&open_error)?)
            }
            (Tls::Verified, None) => {
                return Err(open_error(
                    "TLS is asked for (sslmode) but no CA was given: set \
                     engine.database_ca_file to the bank's CA (PEM)"
                        .into(),
                ))
            }
        };
        let pool = Arc::new(Pool {
            config,
            tls,
            idle: Mutex::new((Vec::new(), 0)),
            freed: Condvar::new(),
            max: database.max_connections.max(1),
        });
        pool.with(migrate).map_err(&open_error)?;
        let sealed_check = pool
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
            pool,
            keys,
            retention,
        };
        store.check_key(sealed_check)?;
        Ok(store)
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
                self.pool
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

/// Runs the migrations this database has not had, under the advisory lock.
fn migrate(client: &mut Client) -> Result<(), postgres::Error> {
    let mut transaction = client.transaction()?;
    transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    transaction
        .batch_execute("CREATE TABLE IF NOT EXISTS ekyc_schema (version integer NOT NULL)")?;
    let done: Option<i32> = transaction
        .query_opt("SELECT version FROM ekyc_schema", &[])?
        .map(|row| row.get(0));
    if done.is_none() {
        transaction.execute("INSERT INTO ekyc_schema (version) VALUES (0)", &[])?;
    }
    let done = done.unwrap_or(0).max(0) as usize;
    for step in MIGRATIONS.iter().skip(done) {
        transaction.batch_execute(step)?;
    }
    if done < MIGRATIONS.len() {
        transaction.execute(
            "UPDATE ekyc_schema SET version = $1",
            &[&(MIGRATIONS.len() as i32)],
        )?;
    }
    transaction.commit()
}

/// TLS with the server's certificate verified against `ca_file` alone, and its name.
fn rustls_connector(ca_file: &Path) -> Result<tokio_postgres_rustls::MakeRustlsConnect, String> {
    let mut roots = rustls::RootCertStore::empty();
    for certificate in crate::tls::read_certificates(ca_file).map_err(|error| error.to_string())? {
        roots
            .add(certificate)
            .map_err(|error| format!("{}: {error}", ca_file.display()))?;
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|error| error.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
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
        self.pool
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
            .pool
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
        self.pool
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
            .pool
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
        self.pool
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
        self.pool
            .with(|client| client.simple_query("SELECT 1").map(drop))
            .map_err(|e| self.storage(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_full_is_read_as_tls_and_the_password_is_never_shown() {
        let (config, tls) =
            parse("postgres://ekyc:s3cret@db.bank.example:6432/ekyc?sslmode=verify-full").unwrap();
        assert_eq!(tls, Tls::Verified);
        assert_eq!(config.get_dbname(), Some("ekyc"));
        assert_eq!(
            parse("postgres://ekyc@db/ekyc?sslmode=disable").unwrap().1,
            Tls::Off
        );
        assert_eq!(parse("postgres://ekyc@db/ekyc").unwrap().1, Tls::Unsaid);
        let settings = DatabaseSettings {
            url: "postgres://ekyc:s3cret@db.bank.example:6432/ekyc?sslmode=verify-full".into(),
            password_file: None,
            ca_file: None,
            max_connections: 4,
        };
        assert_eq!(
            settings.to_string(),
            "postgres://ekyc@db.bank.example:6432/ekyc"
        );
        assert!(!format!("{settings:?}").contains("s3cret"));
        assert!(parse("mysql:/nonsense").is_err());
    }

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
