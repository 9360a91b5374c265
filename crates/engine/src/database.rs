//! The PostgreSQL database a bank's replicas share: how it is reached (TLS verified
//! against the bank's CA, as libpq's `sslmode=verify-full`), a small pool of connections
//! per replica, and the schema, made and moved forward by the first replica to start.
//! What is kept there: enrolments (`enrolments/postgres.rs`), open sessions
//! (`sessions/postgres.rs`), issued liveness challenges (`challenges.rs`) and wrong keys
//! by client address (`key_failures.rs`).
//!
//! The client is `postgres` (the blocking face of `tokio-postgres`, rust-postgres's kept
//! pure-Rust client): every call is blocking and runs off the engine's async threads, and
//! the pool here bounds the connections without another crate. TLS is rustls (the
//! engine's own).
//!
//! Migrations run in one transaction under an advisory lock, so that replicas starting at
//! once take turns and the later ones find the work done.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use postgres::{Client, NoTls};

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
    // 2: open sessions and issued challenges, so that any replica continues any session.
    // Both keyed by the SHA-256 of their id (the id is the caller's bearer token); a
    // session's state is sealed (it may hold a face's embedding), a path is not personal.
    "CREATE TABLE ekyc_sessions (
         id bytea PRIMARY KEY CHECK (length(id) = 32),
         last_used timestamptz NOT NULL,
         sealed bytea NOT NULL
     );
     CREATE INDEX ekyc_sessions_last_used ON ekyc_sessions (last_used);
     CREATE TABLE ekyc_challenges (
         id bytea PRIMARY KEY CHECK (length(id) = 32),
         issued_at timestamptz NOT NULL,
         path bytea NOT NULL
     );
     CREATE INDEX ekyc_challenges_issued_at ON ekyc_challenges (issued_at);",
    // 3: wrong keys by client address, so that a lockout holds on every replica.
    "CREATE TABLE ekyc_key_failures (
         address text PRIMARY KEY,
         failures integer NOT NULL,
         since timestamptz NOT NULL,
         locked_until timestamptz
     );",
];

/// The schema's version once every migration has run (`ekyc_schema.version`).
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

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

/// The database as this replica reaches it: its name for messages
/// (`postgres://user@host:port/name`, never a password) and its connections.
pub struct Database {
    name: String,
    pool: Pool,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "Database({})", self.name)
    }
}

impl Database {
    /// Connects as `settings` say and moves the schema forward if this is the first
    /// replica of a newer engine; `Err` with what staff can act on.
    pub fn open(settings: &DatabaseSettings) -> Result<Self, String> {
        let (mut config, tls) = parse(&settings.url)?;
        config
            .connect_timeout(CONNECT_TIMEOUT)
            .options(&format!("-c statement_timeout={STATEMENT_TIMEOUT_MS}"))
            .application_name("ekyc-engine");
        if let Some(file) = &settings.password_file {
            let password = ekyc_secrets::read_secret_file(file)
                .map_err(|error| format!("the password file {}: {error}", file.display()))?;
            config.password(password.expose());
        }
        let tls = match (tls, &settings.ca_file) {
            (Tls::Off, _) | (Tls::Unsaid, None) => None,
            (Tls::Unsaid | Tls::Verified, Some(ca_file)) => {
                // A CA given means TLS: never a silent fall back to plain text.
                config.ssl_mode(postgres::config::SslMode::Require);
                Some(rustls_connector(ca_file)?)
            }
            (Tls::Verified, None) => {
                return Err("TLS is asked for (sslmode) but no CA was given: set \
                     engine.database_ca_file to the bank's CA (PEM)"
                    .into())
            }
        };
        let database = Self {
            name: settings.to_string(),
            pool: Pool {
                config,
                tls,
                idle: Mutex::new((Vec::new(), 0)),
                freed: Condvar::new(),
                max: settings.max_connections.max(1),
            },
        };
        database.with(migrate)?;
        Ok(database)
    }

    /// `postgres://user@host:port/name`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How many connections this replica holds, and how many are in use now.
    pub fn pool_use(&self) -> PoolUse {
        let state = self
            .pool
            .idle
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        PoolUse {
            open: state.1,
            busy: state.1.saturating_sub(state.0.len()),
        }
    }

    /// Runs `work` on one of the pool's connections (waiting up to `POOL_WAIT` for
    /// one); `Err` with what staff can act on. Blocking.
    pub fn with<T>(
        &self,
        work: impl FnOnce(&mut Client) -> Result<T, postgres::Error>,
    ) -> Result<T, String> {
        self.pool.with(work)
    }
}

/// A pool's connections at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUse {
    /// Held (idle or in use).
    pub open: usize,
    /// In use by a request.
    pub busy: usize,
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
    if done < SCHEMA_VERSION {
        transaction.execute(
            "UPDATE ekyc_schema SET version = $1",
            &[&(SCHEMA_VERSION as i32)],
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
}
