//! `enrolments list|delete ID|purge` (`ekyc-engine` and `ekyc-kiosk` alike): staff's view of the engine's
//! enrolments. It shows customer hashes and dates only: the store holds no id in clear and
//! no image, and the templates stay sealed.

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::Subcommand;

use ekyc_reading::CardDate;

use crate::enrolments::{CustomerHash, EnrolmentError};
use crate::Enrolments;

/// What to do with the enrolments.
#[derive(Debug, Subcommand)]
pub enum EnrolmentsCommand {
    /// Every enrolment: the customer's hash and when they enrolled, oldest first.
    List,
    /// Forget one customer, by their id or by the hash `list` shows.
    Delete {
        /// The customer id the bank gave at enrolment, or its hash from `list`.
        id: String,
    },
    /// Forget every enrolment past the retention limit (`engine.enrolment_days`).
    Purge {
        /// Forget every enrolment, whatever its age.
        #[arg(long)]
        all: bool,
    },
}

/// Exit 0 done, 1 nothing to delete, 2 the store cannot be opened. `enrolments` is the
/// store as configured (`None`: no database path and no data folder known).
pub fn run(command: EnrolmentsCommand, enrolments: Option<Enrolments>) -> ExitCode {
    let Some(enrolments) = enrolments else {
        eprintln!("error: no enrolment database: set engine.enrolment_db (or HOME)");
        return ExitCode::from(2);
    };
    let store = match enrolments.store() {
        Ok(store) => store,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let failed = |error: EnrolmentError| {
        eprintln!("error: {error}");
        ExitCode::from(2)
    };
    match command {
        EnrolmentsCommand::List => match store.list() {
            Ok(enrolments) => {
                println!("{:<64}  Enrolled (UTC)", "Customer hash");
                for enrolment in &enrolments {
                    println!(
                        "{}  {}",
                        enrolment.customer.to_hex(),
                        utc_time(enrolment.enrolled_at)
                    );
                }
                println!(
                    "{} enrolment(s); kept {} days",
                    enrolments.len(),
                    store.retention().as_secs() / 86_400
                );
                ExitCode::SUCCESS
            }
            Err(error) => failed(error),
        },
        EnrolmentsCommand::Delete { id } => {
            // A hash from `list`, else a customer id.
            let customer = CustomerHash::parse_hex(&id)
                .filter(|hash| {
                    store
                        .list()
                        .is_ok_and(|all| all.iter().any(|entry| entry.customer == *hash))
                })
                .unwrap_or_else(|| store.customer_hash(&id));
            match store.delete(customer) {
                Ok(true) => {
                    println!("deleted {}", customer.to_hex());
                    ExitCode::SUCCESS
                }
                Ok(false) => {
                    eprintln!("no enrolment for that customer");
                    ExitCode::from(1)
                }
                Err(error) => failed(error),
            }
        }
        EnrolmentsCommand::Purge { all } => {
            let cutoff = if all {
                SystemTime::now() + std::time::Duration::from_secs(1)
            } else {
                SystemTime::now()
                    .checked_sub(store.retention())
                    .unwrap_or(UNIX_EPOCH)
            };
            match store.purge_before(cutoff) {
                Ok(count) => {
                    println!("{count} enrolment(s) forgotten");
                    ExitCode::SUCCESS
                }
                Err(error) => failed(error),
            }
        }
    }
}

/// `YYYY-MM-DD HH:MM`, UTC.
fn utc_time(time: SystemTime) -> String {
    let seconds = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    let date = CardDate::from_days_since_epoch((seconds / 86_400) as i64);
    let minutes = seconds % 86_400 / 60;
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        date.year,
        date.month,
        date.day,
        minutes / 60,
        minutes % 60
    )
}
