//! Credentials and keys, in memory and in files. A [`Secret`] (an API key, a company id)
//! never prints; the files that hold credentials and keys must be readable by their owner
//! alone ([`check_owner_only`], [`read_secret_file`]); sealing keys are 32 random bytes
//! written as 64 hex digits, made on first use in a folder only their owner enters
//! ([`read_or_make_key_file`]); what is kept at rest is sealed under them ([`Sealer`]).
//!
//! It uses no other crate of ours; the engine, the configuration and the kiosk's records
//! use it.
#![warn(missing_docs)]

mod sealing;

pub use sealing::{SealError, Sealer};

use std::fmt;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

/// A credential (API key, company id). Its `Debug` output is redacted and it has no
/// `Display`, so it cannot reach a log line, an error message or a panic by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// A credential from its value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself, for the one place that needs it: the request header.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether it holds nothing but spaces (an unset credential).
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

/// A credential or key file that cannot be used; each says how to put it right.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// The file (or its metadata) cannot be read.
    #[error("cannot read it: {0}")]
    Unreadable(std::io::Error),
    /// Other users can read or write it.
    #[error("other users can read it (mode {mode:o}); run `chmod 600 {}`", path.display())]
    OpenToOthers {
        /// Its permission bits.
        mode: u32,
        /// The file.
        path: PathBuf,
    },
    /// It holds nothing but spaces.
    #[error("it is empty")]
    Empty,
    /// A sealing key that is not 64 hex digits.
    #[error("it must hold 64 hex digits (32 random bytes)")]
    NotAKey,
    /// The OS gave no randomness for a new key.
    #[error("no randomness: {0}")]
    NoRandomness(getrandom::Error),
    /// A new key file cannot be made (it exists already, or the folder refuses).
    #[error("cannot make it: {0}")]
    Create(std::io::Error),
    /// A new key file cannot be written.
    #[error("cannot write it: {0}")]
    Write(std::io::Error),
    /// The folder for a new key file cannot be made.
    #[error("cannot make the folder {}: {source}", folder.display())]
    Folder {
        /// The folder.
        folder: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Refuses a credential file that other users can read or write.
pub fn check_owner_only(path: &Path) -> Result<(), KeyFileError> {
    let metadata = std::fs::metadata(path).map_err(KeyFileError::Unreadable)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyFileError::OpenToOthers {
                mode,
                path: path.to_path_buf(),
            });
        }
    }
    #[cfg(not(unix))]
    let _ = metadata;
    Ok(())
}

/// Reads a credential file (an API key, a company id), refusing one that other users can
/// read and one that is empty. Spaces and line ends around the value are dropped.
pub fn read_secret_file(path: &Path) -> Result<Secret, KeyFileError> {
    check_owner_only(path)?;
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(KeyFileError::Unreadable)?);
    let secret = Secret::new(text.trim());
    if secret.is_empty() {
        return Err(KeyFileError::Empty);
    }
    Ok(secret)
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
/// does not exist. `what` names the key in the log ("enrolment", "outbox").
pub fn read_or_make_key_file(key_path: &Path, what: &str) -> Result<[u8; 32], KeyFileError> {
    if !key_path.exists() {
        let key = make_key(key_path)?;
        tracing::info!("the {what} key is new");
        return Ok(key);
    }
    check_owner_only(key_path)?;
    let text = Zeroizing::new(std::fs::read_to_string(key_path).map_err(KeyFileError::Unreadable)?);
    hex_32(&text).ok_or(KeyFileError::NotAKey)
}

/// Makes a key file of 32 random bytes (64 hex digits), readable by its owner alone, in a
/// folder only its owner enters.
pub fn make_key(key_path: &Path) -> Result<[u8; 32], KeyFileError> {
    use std::io::Write;
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(KeyFileError::NoRandomness)?;
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
    let mut file = options.open(key_path).map_err(KeyFileError::Create)?;
    let hex = Zeroizing::new(lower_hex(&key));
    file.write_all(hex.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(KeyFileError::Write)?;
    tracing::info!("made a new key file {}", key_path.display());
    Ok(key)
}

/// Makes `folder` (mode 0700) unless it exists.
pub fn make_private_folder(folder: &Path) -> Result<(), KeyFileError> {
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
        .map_err(|source| KeyFileError::Folder {
            folder: folder.to_path_buf(),
            source,
        })
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
