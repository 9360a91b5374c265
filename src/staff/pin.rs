//! The staff PIN: stored as an Argon2id hash (`ekyc-kiosk staff set-pin`), checked on the
//! kiosk's PIN pad, locked after too many wrong tries. No digit of a PIN is ever logged.

use std::path::Path;
use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Params, Version};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use ekyc_secrets::{hex_32, lower_hex};

/// Argon2id's cost: 19 MiB, 2 passes, 1 lane (OWASP's first recommended setting); a check
/// takes tens of milliseconds.
const MEMORY_KIB: u32 = 19 * 1024;
const PASSES: u32 = 2;
const LANES: u32 = 1;
/// A PIN's digits.
pub const PIN_DIGITS: std::ops::RangeInclusive<usize> = 4..=12;

/// Why a PIN or a stored hash is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PinError {
    #[error("a PIN is 4 to 12 digits")]
    BadPin,
    #[error("the stored PIN hash is not one `ekyc-kiosk staff set-pin` makes: set the PIN again")]
    BadHash,
    #[error("{0}")]
    Io(String),
}

fn argon2(memory: u32, passes: u32, lanes: u32) -> Result<Argon2<'static>, PinError> {
    let params = Params::new(memory, passes, lanes, Some(32)).map_err(|_| PinError::BadHash)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Checks the PIN's form: digits only, 4 to 12 of them.
pub fn check_pin_form(pin: &str) -> Result<(), PinError> {
    if PIN_DIGITS.contains(&pin.len()) && pin.bytes().all(|byte| byte.is_ascii_digit()) {
        Ok(())
    } else {
        Err(PinError::BadPin)
    }
}

/// The hash of `pin`, as stored: `argon2id$v=19$m=…,t=…,p=…$<salt hex>$<hash hex>`.
pub fn hash_pin(pin: &str) -> Result<String, PinError> {
    check_pin_form(pin)?;
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|error| PinError::Io(error.to_string()))?;
    let mut hash = Zeroizing::new([0u8; 32]);
    argon2(MEMORY_KIB, PASSES, LANES)?
        .hash_password_into(pin.as_bytes(), &salt, hash.as_mut())
        .map_err(|_| PinError::BadPin)?;
    Ok(format!(
        "argon2id$v=19$m={MEMORY_KIB},t={PASSES},p={LANES}${}${}",
        lower_hex(&salt),
        lower_hex(hash.as_ref())
    ))
}

/// Whether `pin` is the one `stored` was made from (compared in constant time).
pub fn verify_pin(pin: &str, stored: &str) -> Result<bool, PinError> {
    let parts: Vec<&str> = stored.trim().split('$').collect();
    let [algorithm, version, params, salt, hash] = parts.as_slice() else {
        return Err(PinError::BadHash);
    };
    if *algorithm != "argon2id" || *version != "v=19" {
        return Err(PinError::BadHash);
    }
    let mut cost = [0u32; 3];
    for (slot, (name, value)) in cost
        .iter_mut()
        .zip(params.split(',').filter_map(|pair| pair.split_once('=')))
    {
        *slot = value.parse().map_err(|_| PinError::BadHash)?;
        let _ = name;
    }
    let salt = hex_bytes(salt).ok_or(PinError::BadHash)?;
    let expected = hex_32(hash).ok_or(PinError::BadHash)?;
    if check_pin_form(pin).is_err() {
        return Ok(false);
    }
    let mut computed = Zeroizing::new([0u8; 32]);
    argon2(cost[0], cost[1], cost[2])?
        .hash_password_into(pin.as_bytes(), &salt, computed.as_mut())
        .map_err(|_| PinError::BadHash)?;
    Ok(computed.ct_eq(&expected).into())
}

fn hex_bytes(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || text.len() < 16 || !text.is_ascii() {
        return None;
    }
    (0..text.len() / 2)
        .map(|index| u8::from_str_radix(&text[index * 2..index * 2 + 2], 16).ok())
        .collect()
}

/// Writes `hash` to `path`, readable by its owner alone (the folder made 0700).
pub fn write_pin_file(path: &Path, hash: &str) -> Result<(), PinError> {
    use std::io::Write;
    let io = |error: std::io::Error| PinError::Io(format!("{}: {error}", path.display()));
    if let Some(folder) = path
        .parent()
        .filter(|folder| !folder.as_os_str().is_empty())
    {
        ekyc_secrets::make_private_folder(folder)
            .map_err(|error| PinError::Io(error.to_string()))?;
    }
    let temporary = path.with_extension("new");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&temporary).map_err(io)?;
    file.write_all(format!("{hash}\n").as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io)?;
    std::fs::rename(&temporary, path).map_err(io)
}

/// Reads the stored hash from `path` (refused when others can read it).
pub fn read_pin_file(path: &Path) -> Result<String, PinError> {
    ekyc_secrets::check_owner_only(path)
        .map_err(|message| PinError::Io(format!("{}: {message}", path.display())))?;
    std::fs::read_to_string(path)
        .map(|text| text.trim().to_owned())
        .map_err(|error| PinError::Io(format!("{}: {error}", path.display())))
}

/// What a PIN typed on the pad came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinOutcome {
    Accepted,
    /// Wrong; `left` tries before the lock.
    Wrong {
        left: u32,
    },
    /// Too many wrong PINs: the pad takes none until `until`.
    Locked {
        until: Instant,
    },
}

/// Counts wrong PINs and locks the pad after `max_wrong` of them, for `lock_for`.
#[derive(Debug, Clone)]
pub struct PinGuard {
    hash: Option<String>,
    max_wrong: u32,
    lock_for: Duration,
    wrong: u32,
    locked_until: Option<Instant>,
}

impl PinGuard {
    /// `hash`: the stored one; `None`: no PIN set, staff mode cannot be opened.
    pub fn new(hash: Option<String>, max_wrong: u32, lock_for: Duration) -> Self {
        Self {
            hash,
            max_wrong: max_wrong.max(1),
            lock_for,
            wrong: 0,
            locked_until: None,
        }
    }

    pub fn is_set(&self) -> bool {
        self.hash.is_some()
    }

    /// Until when the pad is locked, if it is.
    pub fn locked_until(&self, now: Instant) -> Option<Instant> {
        self.locked_until.filter(|until| *until > now)
    }

    /// Checks `pin`. Logs wrong tries and the lock (never the digits).
    pub fn try_pin(&mut self, pin: &str, now: Instant) -> PinOutcome {
        if let Some(until) = self.locked_until(now) {
            return PinOutcome::Locked { until };
        }
        let right = match &self.hash {
            Some(hash) => verify_pin(pin, hash).unwrap_or_else(|error| {
                tracing::error!("staff PIN: {error}");
                false
            }),
            None => false,
        };
        if right {
            self.wrong = 0;
            self.locked_until = None;
            tracing::info!("staff PIN accepted: staff mode opened");
            return PinOutcome::Accepted;
        }
        self.wrong += 1;
        if self.wrong >= self.max_wrong {
            self.wrong = 0;
            let until = now + self.lock_for;
            self.locked_until = Some(until);
            tracing::warn!(
                wrong = self.max_wrong,
                lock_secs = self.lock_for.as_secs(),
                "staff PIN pad locked after too many wrong PINs"
            );
            return PinOutcome::Locked { until };
        }
        let left = self.max_wrong - self.wrong;
        tracing::warn!(left, "wrong staff PIN");
        PinOutcome::Wrong { left }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pin_verifies_against_its_own_hash_only() {
        let hash = hash_pin("482913").unwrap();
        assert!(hash.starts_with("argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(!hash.contains("482913"));
        assert!(verify_pin("482913", &hash).unwrap());
        assert!(!verify_pin("482914", &hash).unwrap());
        // Two hashes of one PIN differ (random salt).
        assert_ne!(hash, hash_pin("482913").unwrap());
        assert_eq!(
            verify_pin("482913", "argon2id$v=19$junk"),
            Err(PinError::BadHash)
        );
        assert_eq!(hash_pin("12a4"), Err(PinError::BadPin));
        assert_eq!(hash_pin("123"), Err(PinError::BadPin));
    }

    #[test]
    fn five_wrong_pins_lock_the_pad_for_the_set_time() {
        let hash = hash_pin("2468").unwrap();
        let mut guard = PinGuard::new(Some(hash), 5, Duration::from_secs(300));
        let start = Instant::now();
        for left in (1..5).rev() {
            assert_eq!(guard.try_pin("1111", start), PinOutcome::Wrong { left });
        }
        let until = start + Duration::from_secs(300);
        assert_eq!(guard.try_pin("1111", start), PinOutcome::Locked { until });
        // Locked: even the right PIN is not checked.
        assert_eq!(
            guard.try_pin("2468", start + Duration::from_secs(299)),
            PinOutcome::Locked { until }
        );
        assert_eq!(
            guard.try_pin("2468", start + Duration::from_secs(300)),
            PinOutcome::Accepted
        );
    }
}
