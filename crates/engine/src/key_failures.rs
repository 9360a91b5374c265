//! Wrong keys counted in the database a bank's replicas share, by client address: an
//! address that sends `failures` wrong keys within `window` is refused by every replica
//! for `lockout`, however the load balancer spread its guesses (in one engine's memory
//! the count is `routes::guard`'s). The same rules as there; the database's clock.

use std::net::IpAddr;
use std::time::Duration;

use crate::database::Database;
use crate::LockoutLimits;

/// How much longer `address` is locked out, if it is.
pub fn locked(database: &Database, address: IpAddr) -> Result<Option<Duration>, String> {
    database.with(|client| {
        Ok(client
            .query_opt(
                "SELECT extract(epoch FROM locked_until - now())::float8 \
                 FROM ekyc_key_failures WHERE address = $1 AND locked_until > now()",
                &[&address.to_string()],
            )?
            .and_then(|row| Duration::try_from_secs_f64(row.get::<_, f64>(0)).ok()))
    })
}

/// Counts a wrong key from `address`; `true` when this one locked it.
pub fn failed(database: &Database, address: IpAddr, limits: LockoutLimits) -> Result<bool, String> {
    let (window, lockout) = (limits.window.as_secs_f64(), limits.lockout.as_secs_f64());
    let most = i32::try_from(limits.failures.max(1)).unwrap_or(i32::MAX);
    database.with(|client| {
        let mut transaction = client.transaction()?;
        // Addresses whose count no longer matters go, so the table stays small.
        transaction.execute(
            "DELETE FROM ekyc_key_failures WHERE since < now() - make_interval(secs => $1) \
             AND (locked_until IS NULL OR locked_until <= now())",
            &[&window],
        )?;
        transaction.execute(
            "INSERT INTO ekyc_key_failures (address, failures, since) VALUES ($1, 0, now()) \
             ON CONFLICT (address) DO NOTHING",
            &[&address.to_string()],
        )?;
        let row = transaction.query_one(
            "SELECT failures, locked_until > now() IS TRUE FROM ekyc_key_failures \
             WHERE address = $1 FOR UPDATE",
            &[&address.to_string()],
        )?;
        let (failures, locked): (i32, bool) = (row.get(0), row.get(1));
        let now_locked = !locked && failures + 1 >= most;
        if now_locked {
            transaction.execute(
                "UPDATE ekyc_key_failures SET failures = 0, since = now(), \
                 locked_until = now() + make_interval(secs => $2) WHERE address = $1",
                &[&address.to_string(), &lockout],
            )?;
        } else {
            transaction.execute(
                "UPDATE ekyc_key_failures SET failures = failures + 1 WHERE address = $1",
                &[&address.to_string()],
            )?;
        }
        transaction.commit()?;
        Ok(now_locked)
    })
}

/// A right key from `address`: its wrong ones are forgotten (a lockout stays).
pub fn succeeded(database: &Database, address: IpAddr) -> Result<(), String> {
    database.with(|client| {
        client
            .execute(
                "DELETE FROM ekyc_key_failures WHERE address = $1 AND locked_until IS NULL",
                &[&address.to_string()],
            )
            .map(drop)
    })
}
