//! Commands for staff and IT: `stats` (the attempt log's figures), `staff set-pin`, `outbox
//! status|deliver` (the reports waiting for the bank).

use std::io::BufRead;
use std::process::ExitCode;

use clap::Subcommand;

use crate::config::LoadedConfig;
use crate::records::{attempts, stats};
use crate::staff::pin;

#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Set the staff PIN (4 to 12 digits, asked twice on standard input). Its Argon2id
    /// hash goes to `staff.pin_file` (mode 0600); the PIN itself is stored nowhere.
    SetPin,
}

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// How many reports wait for the bank's system, and since when.
    Status,
    /// Try every waiting report now, once. Exit 0 when none is left waiting.
    Deliver,
}

fn failed(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

/// `YYYY-MM-DD` (UTC midnight) as milliseconds since the Unix epoch.
pub fn parse_date_ms(text: &str) -> Result<u64, String> {
    let bad = || format!("`{text}` is not a date: write YYYY-MM-DD");
    let mut parts = text.trim().split('-');
    let (Some(year), Some(month), Some(day), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let (year, month, day): (i64, i64, i64) = (
        year.parse().map_err(|_| bad())?,
        month.parse().map_err(|_| bad())?,
        day.parse().map_err(|_| bad())?,
    );
    if !(1970..=9999).contains(&year) || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err(bad());
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let shifted_year = if month <= 2 { year - 1 } else { year };
    let era = shifted_year.div_euclid(400);
    let year_of_era = shifted_year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    Ok(days as u64 * 86_400_000)
}

/// `stats`: the attempt log's figures since `since` (all of it without).
pub fn run_stats(loaded: &LoadedConfig, since: Option<&str>, json: bool) -> ExitCode {
    let since_ms = match since.map(parse_date_ms).transpose() {
        Ok(since) => since.unwrap_or(0),
        Err(message) => return failed(message),
    };
    let Some(state) = loaded.state_db() else {
        return failed("no data folder is known (HOME unset): set desk.state_db");
    };
    let records = match attempts::records_since(&state, since_ms) {
        Ok(records) => records,
        Err(error) => return failed(error),
    };
    let figures = stats::compute(&records);
    if json {
        match serde_json::to_string_pretty(&figures) {
            Ok(text) => println!("{text}"),
            Err(error) => return failed(error),
        }
    } else {
        print!("{}", stats::render_table(&figures));
    }
    ExitCode::SUCCESS
}

pub fn run_staff(command: StaffCommand, loaded: &LoadedConfig) -> ExitCode {
    match command {
        StaffCommand::SetPin => set_pin(loaded),
    }
}

fn set_pin(loaded: &LoadedConfig) -> ExitCode {
    let Some(path) = loaded.staff_pin_file() else {
        return failed("no data folder is known (HOME unset): set staff.pin_file");
    };
    if loaded.config.staff.pin_hash.is_some() {
        eprintln!(
            "note: staff.pin_hash in the configuration wins over {}: remove it there",
            path.display()
        );
    }
    eprintln!("New staff PIN (4 to 12 digits), then the same again:");
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let mut read = || {
        lines
            .next()
            .and_then(Result::ok)
            .map(|line| zeroize::Zeroizing::new(line.trim().to_owned()))
    };
    let (Some(first), Some(second)) = (read(), read()) else {
        return failed("the PIN was not given twice");
    };
    if *first != *second {
        return failed("the two PINs differ; nothing was changed");
    }
    let hash = match pin::hash_pin(&first) {
        Ok(hash) => hash,
        Err(error) => return failed(error),
    };
    if let Err(error) = pin::write_pin_file(&path, &hash) {
        return failed(error);
    }
    println!("The staff PIN is set ({}).", path.display());
    tracing::info!("staff PIN changed");
    ExitCode::SUCCESS
}

pub async fn run_outbox(command: OutboxCommand, loaded: &LoadedConfig) -> ExitCode {
    let (outbox, webhook) = match loaded.report_outbox() {
        Ok(Some(pair)) => pair,
        Ok(None) => return failed("report.webhook_url is not set: there is no outbox"),
        Err(error) => return failed(error),
    };
    let status = match command {
        OutboxCommand::Status => outbox.status(),
        OutboxCommand::Deliver => match outbox.deliver_everything_now(&webhook).await {
            Ok(round) => {
                println!(
                    "Delivered {}, not delivered {}.",
                    round.delivered, round.failed
                );
                if let Some(problem) = &round.problem {
                    println!("Not delivered: {problem}.");
                }
                outbox.status()
            }
            Err(error) => return failed(error),
        },
    };
    match status {
        Ok(status) => {
            match status.oldest_ms {
                Some(oldest) => println!(
                    "{} report(s) waiting, the oldest since {}.",
                    status.waiting,
                    crate::report::rfc3339(oldest)
                ),
                None => println!("No report waiting."),
            }
            if status.waiting == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(4)
            }
        }
        Err(error) => failed(error),
    }
}
