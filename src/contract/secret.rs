//! Credentials that must never be printed.

use std::fmt;
use std::path::Path;

use zeroize::Zeroizing;

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

/// 32 bytes written as 64 hex digits (either case, spaces around allowed).
pub fn hex_32(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut bytes = [0u8; 32];
    for (index, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[index * 2..index * 2 + 2], 16).ok()?;
    }
    Some(bytes)
}

/// Reads a key file of 64 hex digits, refused when others can read it; makes one when it
/// does not exist. `what` names the key in messages ("enrolment", "outbox").
pub fn read_or_make_key_file(key_path: &Path, what: &str) -> Result<[u8; 32], String> {
    if !key_path.exists() {
        let key = make_key(key_path)?;
        tracing::info!("the {what} key is new");
        return Ok(key);
    }
    check_owner_only(key_path)?;
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(key_path).map_err(|error| format!("cannot read it: {error}"))?,
    );
    hex_32(&text).ok_or_else(|| "it must hold 64 hex digits (32 random bytes)".into())
}

/// Makes a key file of 32 random bytes (64 hex digits), readable by its owner alone, in a
/// folder only its owner enters.
pub fn make_key(key_path: &Path) -> Result<[u8; 32], String> {
    use std::io::Write;
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|error| format!("no randomness: {error}"))?;
    if let Some(folder) = key_path
        .parent()
        .filter(|folder| !folder.as_os_str().is_empty())
    {
        make_private_folder(folder)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(key_path)
        .map_err(|error| format!("cannot make it: {error}"))?;
    let hex = Zeroizing::new(lower_hex(&key));
    file.write_all(hex.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|error| format!("cannot write it: {error}"))?;
    tracing::info!("made a new key file {}", key_path.display());
    Ok(key)
}

/// Makes `folder` (mode 0700) unless it exists.
pub fn make_private_folder(folder: &Path) -> Result<(), String> {
    if folder.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(folder)
        .map_err(|error| format!("cannot make the folder {}: {error}", folder.display()))
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
