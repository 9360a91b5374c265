//! The enrolment stores' one suite, run against both: the embedded file (the default) and
//! PostgreSQL (a real server, `common::postgres`), and what only the server store must
//! show: replicas starting at once, a database that goes away and comes back, TLS checked
//! against the bank's CA, and a backup that holds nothing in clear.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at what it did not expect

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use common::postgres::Postgres;
use ekyc_engine::enrolments::{
    DatabaseSettings, EnrolmentError, EnrolmentStore, FileEnrolments, PgEnrolments,
};
use ekyc_face::{Embedding, EMBEDDING_SIZE};

const HOUR: Duration = Duration::from_secs(3600);

fn template(seed: f32) -> Embedding {
    let mut values = [0.0; EMBEDDING_SIZE];
    for (index, value) in values.iter_mut().enumerate() {
        *value = seed + index as f32 / 1000.0;
    }
    Embedding(values)
}

/// Opens the store under test with the key file `key`, keeping enrolments `retention`.
type Open<'a> = &'a dyn Fn(&Path, Duration) -> Result<Arc<dyn EnrolmentStore>, EnrolmentError>;

/// What every store must do; `open` reaches the same database each time.
fn suite(open: Open<'_>, keys: &Path) {
    let key = keys.join("enrolment.key");
    // Kept across handles; only its customer finds it.
    let customer = {
        let store = open(&key, HOUR).unwrap();
        let customer = store.customer_hash("079203001234");
        store.enrol(customer, &template(0.25)).unwrap();
        customer
    };
    let store = open(&key, HOUR).unwrap();
    assert_eq!(store.customer_hash(" 079203001234 "), customer);
    assert_eq!(
        store.template(customer).unwrap().unwrap().0,
        template(0.25).0
    );
    let stranger = store.customer_hash("079203001235");
    assert!(store.template(stranger).unwrap().is_none());
    // Enrolling again replaces.
    store.enrol(customer, &template(0.5)).unwrap();
    assert_eq!(
        store.template(customer).unwrap().unwrap().0,
        template(0.5).0
    );
    assert_eq!(store.list().unwrap().len(), 1);
    // Two handles (two replicas, or the engine and staff's CLI) see each other's writes.
    let other = open(&key, HOUR).unwrap();
    other.enrol(stranger, &template(0.75)).unwrap();
    assert!(store.template(stranger).unwrap().is_some());
    assert!(other.delete(customer).unwrap());
    assert!(!store.delete(customer).unwrap());
    assert!(store.template(customer).unwrap().is_none());
    // Retention: purged by date, and an expired template is gone when asked for.
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
    let short = open(&key, Duration::ZERO).unwrap();
    short.enrol(customer, &template(0.1)).unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    assert!(short.template(customer).unwrap().is_none());
    assert!(
        short.list().unwrap().is_empty(),
        "deleted when found expired"
    );
    // Another key is told apart from damage.
    let another = keys.join("another.key");
    ekyc_secrets::make_key(&another).unwrap();
    assert!(matches!(
        open(&another, HOUR).unwrap_err(),
        EnrolmentError::WrongKey { .. }
    ));
}

#[test]
fn the_file_store_passes_the_suite() {
    let folder = tempfile::tempdir().unwrap();
    let database = folder.path().join("enrolments.redb");
    suite(
        &|key, retention| {
            FileEnrolments::open(&database, key, retention)
                .map(|store| Arc::new(store) as Arc<dyn EnrolmentStore>)
        },
        folder.path(),
    );
}

fn settings(url: String) -> DatabaseSettings {
    DatabaseSettings {
        url,
        password_file: None,
        ca_file: None,
        max_connections: 4,
    }
}

fn open_pg(
    settings: &DatabaseSettings,
) -> impl Fn(&Path, Duration) -> Result<Arc<dyn EnrolmentStore>, EnrolmentError> + '_ {
    move |key, retention| {
        PgEnrolments::open(settings, key, retention)
            .map(|store| Arc::new(store) as Arc<dyn EnrolmentStore>)
    }
}

#[test]
fn the_postgres_store_passes_the_suite_and_its_backup_holds_nothing_in_clear() {
    let server = Postgres::start();
    server.create_database("suite");
    let folder = tempfile::tempdir().unwrap();
    let database = settings(server.url("suite"));
    suite(&open_pg(&database), folder.path());

    // What a pg_dump holds: hashes, dates and sealed bytes; not the id, not the template.
    server.create_database("backup");
    let database = settings(server.url("backup"));
    let store = open_pg(&database)(&folder.path().join("enrolment.key"), HOUR).unwrap();
    let customer = store.customer_hash("079203001234");
    store.enrol(customer, &template(0.25)).unwrap();
    let dump = server.dump("backup");
    assert!(dump.contains(&customer.to_hex()), "the row is in the dump");
    assert!(!dump.contains("079203001234"));
    let clear: String = template(0.25).0[..4]
        .iter()
        .flat_map(|value| value.to_le_bytes())
        .map(|byte| format!("{byte:02x}"))
        .collect();
    assert!(!dump.contains(&clear), "the template is sealed");
    // A sealed template moved to another customer's row does not open.
    let other = store.customer_hash("079203009999");
    server.psql(
        "backup",
        &format!(
            "INSERT INTO ekyc_enrolments SELECT '\\x{}'::bytea, enrolled_at, sealed \
             FROM ekyc_enrolments",
            other.to_hex()
        ),
    );
    assert!(matches!(
        store.template(other).unwrap_err(),
        EnrolmentError::Damaged { .. }
    ));
}

#[test]
fn replicas_starting_at_once_make_the_schema_once_and_share_one_key() {
    let server = Postgres::start();
    server.create_database("replicas");
    let folder = tempfile::tempdir().unwrap();
    let key = folder.path().join("enrolment.key");
    ekyc_secrets::make_key(&key).unwrap();
    let database = settings(server.url("replicas"));
    let opened: Vec<Result<(), String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|_| {
                scope.spawn(|| {
                    PgEnrolments::open(&database, &key, HOUR)
                        .map(drop)
                        .map_err(|error| error.to_string())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().unwrap())
            .collect()
    });
    assert!(opened.iter().all(Result::is_ok), "{opened:?}");
    assert_eq!(
        server.psql("replicas", "SELECT version FROM ekyc_schema"),
        format!("{}\n", ekyc_engine::database::SCHEMA_VERSION)
    );
    assert_eq!(
        server.psql("replicas", "SELECT count(*) FROM ekyc_schema"),
        "1\n"
    );
    // A replica given another key file is refused, naming the fix.
    let stray = folder.path().join("stray.key");
    ekyc_secrets::make_key(&stray).unwrap();
    let error = PgEnrolments::open(&database, &stray, HOUR).unwrap_err();
    assert!(error.to_string().contains("same"), "{error}");
}

#[test]
fn a_database_that_goes_away_is_a_clear_error_and_coming_back_is_recovered_by_itself() {
    let server = Postgres::start();
    server.create_database("away");
    let folder = tempfile::tempdir().unwrap();
    let database = settings(server.url("away"));
    let store = open_pg(&database)(&folder.path().join("enrolment.key"), HOUR).unwrap();
    let customer = store.customer_hash("c-1");
    store.enrol(customer, &template(0.3)).unwrap();
    server.stop();
    let started = std::time::Instant::now();
    let error = store.template(customer).unwrap_err();
    // Not a hang: refused connections fail at once, and connecting gives up after 5 s.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(error, EnrolmentError::Storage { .. }), "{error}");
    let text = error.to_string();
    assert!(text.contains("postgres://ekyc@127.0.0.1"), "{text}");
    server.restart();
    assert_eq!(
        store.template(customer).unwrap().unwrap().0,
        template(0.3).0
    );
    // Nothing listening at all: opening says so.
    let nowhere = settings("postgres://ekyc@127.0.0.1:1/away".into());
    let error =
        PgEnrolments::open(&nowhere, &folder.path().join("enrolment.key"), HOUR).unwrap_err();
    assert!(matches!(error, EnrolmentError::Open { .. }), "{error}");
}

#[test]
fn tls_to_the_database_is_checked_against_the_banks_ca() {
    let folder = tempfile::tempdir().unwrap();
    let bank = common::tls::Authority::new("Bank CA");
    let (cert, key) = bank.issue(folder.path(), "server");
    let server = Postgres::start_with_tls(&cert, &key);
    server.create_database("tls");
    let verified = DatabaseSettings {
        url: format!("{}?sslmode=verify-full", server.url("tls")),
        ca_file: Some(bank.write(folder.path(), "bank-ca")),
        ..settings(String::new())
    };
    let store = open_pg(&verified)(&folder.path().join("enrolment.key"), HOUR).unwrap();
    store
        .enrol(store.customer_hash("c-tls"), &template(0.2))
        .unwrap();
    assert_eq!(
        server.psql(
            "tls",
            "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
             WHERE s.ssl AND a.application_name = 'ekyc-engine'"
        ),
        "1\n",
        "the engine's connection is encrypted"
    );
    // A server whose certificate another CA signed is refused.
    let stranger = common::tls::Authority::new("Somebody else");
    let wrong = DatabaseSettings {
        ca_file: Some(stranger.write(folder.path(), "stranger-ca")),
        ..verified.clone()
    };
    let error = open_pg(&wrong)(&folder.path().join("enrolment.key"), HOUR).unwrap_err();
    assert!(matches!(error, EnrolmentError::Open { .. }), "{error}");
    assert!(
        error.to_string().to_lowercase().contains("certificate"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_store_let_go_on_an_async_thread_closes_its_connections_without_a_panic() {
    // As when the engine stops: its last reference to the store goes on a runtime
    // thread, where the blocking client may not wait for its connections.
    let server = Postgres::start();
    server.create_database("drop");
    let folder = tempfile::tempdir().unwrap();
    let database = settings(server.url("drop"));
    let key = folder.path().join("enrolment.key");
    let store = tokio::task::spawn_blocking(move || {
        let store = PgEnrolments::open(&database, &key, HOUR).unwrap();
        store.list().unwrap();
        store
    })
    .await
    .unwrap();
    drop(store);
    // The connections are closed soon after, on their own thread.
    let mut open = String::new();
    for _ in 0..50 {
        open = server.psql(
            "postgres",
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'ekyc-engine'",
        );
        if open == "0\n" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(open, "0\n");
}

#[test]
fn a_ca_given_means_tls_never_a_silent_fall_back_to_plain_text() {
    // A server without TLS, and a configuration naming the bank's CA but no sslmode.
    let server = Postgres::start();
    server.create_database("plain");
    let folder = tempfile::tempdir().unwrap();
    let bank = common::tls::Authority::new("Bank CA");
    let database = DatabaseSettings {
        ca_file: Some(bank.write(folder.path(), "bank-ca")),
        ..settings(server.url("plain"))
    };
    let error = open_pg(&database)(&folder.path().join("enrolment.key"), HOUR).unwrap_err();
    assert!(matches!(error, EnrolmentError::Open { .. }), "{error}");
}
