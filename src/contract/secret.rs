//! Credentials that must never be printed.

use std::fmt;

/// A credential (API key, company id). Its `Debug` output is redacted and it has no
/// `Display`, so it cannot reach a log line, an error message or a panic by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself, for the one place that needs it: the request header.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }

    /// A fresh random key: 32 bytes from the OS, as 64 hex digits.
    pub fn random() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)?;
        Ok(Self(lower_hex(&bytes)))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("Secret(<redacted>)")
    }
}

/// For request bodies that must carry the credential (Krypton's `companyId`); `Debug`,
/// the way into logs, stays redacted.
impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

/// `bytes` as lowercase hex digits, two per byte (keys and hashes as files and staff see
/// them).
pub fn lower_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Refuses a credential file that other users can read or write: `Err` says why and how
/// to fix it.
pub fn check_owner_only(path: &std::path::Path) -> Result<(), String> {
    let metadata = std::fs::metadata(path).map_err(|error| format!("cannot read it: {error}"))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(format!(
                "other users can read it (mode {mode:o}); run `chmod 600 {}`",
                path.display()
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = metadata;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_value() {
        let key = Secret::new("sk-live-1234567890");
        let printed = format!("{key:?} {:?}", Some(key.clone()));
        assert!(!printed.contains("1234567890"), "{printed}");
        assert_eq!(key.expose(), "sk-live-1234567890");
    }

    #[test]
    fn random_keys_differ_and_are_hex() {
        let first = Secret::random().unwrap();
        let second = Secret::random().unwrap();
        assert_ne!(first, second);
        assert_eq!(first.expose().len(), 64);
        assert!(first.expose().chars().all(|c| c.is_ascii_hexdigit()));
    }
}
