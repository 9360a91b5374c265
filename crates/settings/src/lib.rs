//! The configuration schema, written once. Each section is a struct declared with
//! [`section!`]: every key with its type, its default and a doc comment, and, where it has
//! one, its environment variable. From that one declaration come the serde struct (unknown
//! keys refused, missing ones defaulted), its `Default`, and the key list ([`keys`]) that
//! `config` prints, that `--set` and the environment variables are checked against, and
//! that tells how a value given as text is typed ([`Kind`]).
//!
//! [`load`] reads a file, then the environment, then flags, each over the one before, and
//! names what is wrong: the file's line and key, the variable or the flag. [`documented`]
//! writes a configuration back as a TOML file with every key's doc comment.
//!
//! Each crate declares its own section (the engine its `[engine]`, the clients their
//! `[network]`), checks it, and builds from it; the binaries put sections together. This
//! crate uses only `ekyc-secrets`, for the credential files a configuration names.
#![warn(missing_docs)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;

/// How a key's value is typed when it is given as text (an environment variable, `--set`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Kept as text (names, paths, addresses, a choice among words).
    Text,
    /// A whole number.
    Integer,
    /// A number with a fraction allowed.
    Number,
    /// `true` or `false` (also `1`/`0`, `yes`/`no`, `on`/`off`).
    Boolean,
    /// Words separated by commas, or a TOML array (`["a", "b"]`).
    List,
}

/// One configuration key, as the schema declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// Dotted from the file's top: `network.retries`.
    pub name: String,
    /// Its environment variable, when it has one.
    pub env: Option<&'static str>,
    /// Its doc comment, one line per source line, leading spaces dropped.
    pub doc: String,
    /// How its value is typed from text.
    pub kind: Kind,
}

/// Something that can stand in a configuration: a value (one key) or a section (a table of
/// keys). Values of our own types say so with [`text_setting!`]; sections get it from
/// [`section!`].
pub trait Setting {
    /// Adds this setting's keys, found at `path`, to `keys`.
    fn describe(path: &str, doc: &'static str, env: Option<&'static str>, keys: &mut Vec<Key>);
}

/// Every key of the configuration `T`, in the order they are declared.
pub fn keys<T: Setting>() -> Vec<Key> {
    let mut keys = Vec::new();
    T::describe("", "", None, &mut keys);
    keys
}

/// `path.name`, or `name` at the top.
pub fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

/// Adds one key of `kind` (for [`Setting`] implementations of values).
pub fn value_key(
    kind: Kind,
    path: &str,
    doc: &'static str,
    env: Option<&'static str>,
    keys: &mut Vec<Key>,
) {
    let doc = doc
        .lines()
        .map(|line| line.strip_prefix(' ').unwrap_or(line).trim_end())
        .collect::<Vec<_>>()
        .join("\n");
    keys.push(Key {
        name: path.to_owned(),
        env,
        doc: doc.trim().to_owned(),
        kind,
    });
}

macro_rules! value_kinds {
    ($($kind:ident: $($type:ty),+;)+) => {
        $($(
            impl Setting for $type {
                fn describe(
                    path: &str,
                    doc: &'static str,
                    env: Option<&'static str>,
                    keys: &mut Vec<Key>,
                ) {
                    value_key(Kind::$kind, path, doc, env, keys);
                }
            }
        )+)+
    };
}

value_kinds! {
    Text: String, PathBuf, SocketAddr;
    Integer: u8, u16, u32, u64, usize, i32, i64;
    Number: f32, f64;
    Boolean: bool;
}

impl<T: Setting> Setting for Option<T> {
    fn describe(path: &str, doc: &'static str, env: Option<&'static str>, keys: &mut Vec<Key>) {
        T::describe(path, doc, env, keys);
    }
}

impl<T> Setting for Vec<T> {
    fn describe(path: &str, doc: &'static str, env: Option<&'static str>, keys: &mut Vec<Key>) {
        value_key(Kind::List, path, doc, env, keys);
    }
}

/// Declares that our own types (enums written as a word in the file) are text values:
/// `text_setting!(Lang, Backend);`.
#[macro_export]
macro_rules! text_setting {
    ($($type:ty),+ $(,)?) => {
        $(
            impl $crate::Setting for $type {
                fn describe(
                    path: &str,
                    doc: &'static str,
                    env: ::std::option::Option<&'static str>,
                    keys: &mut ::std::vec::Vec<$crate::Key>,
                ) {
                    $crate::value_key($crate::Kind::Text, path, doc, env, keys);
                }
            }
        )+
    };
}

/// Declares a configuration section: a struct whose every field has a doc comment, an
/// optional `#[env = "EKYC_…"]` (after the doc comment) and a default after `=`.
///
/// ```
/// ekyc_settings::section! {
///     /// The bank's back end.
///     pub struct BackEnd {
///         /// Where it answers.
///         #[env = "EXAMPLE_URL"]
///         pub url: String = "https://bank.example".into(),
///         /// Tries in all.
///         pub retries: u32 = 3,
///     }
/// }
/// let keys = ekyc_settings::keys::<BackEnd>();
/// assert_eq!(keys[0].name, "url");
/// assert_eq!(keys[0].env, Some("EXAMPLE_URL"));
/// assert_eq!(BackEnd::default().retries, 3);
/// ```
///
/// The struct derives `Debug`, `Clone`, `PartialEq` and serde's traits (unknown keys are
/// refused, missing ones take their default); a field whose type is itself a section is a
/// `[section.sub]` table. The crate using it needs `serde` among its dependencies.
#[macro_export]
macro_rules! section {
    (
        $(#[doc = $section_doc:literal])*
        pub struct $name:ident {
            $(
                $(#[doc = $doc:literal])+
                $(#[env = $env:literal])?
                pub $field:ident: $type:ty = $default:expr
            ),+ $(,)?
        }
    ) => {
        $(#[doc = $section_doc])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct $name {
            $(
                $(#[doc = $doc])+
                pub $field: $type,
            )+
        }

        impl ::std::default::Default for $name {
            fn default() -> Self {
                Self {
                    $($field: $default,)+
                }
            }
        }

        impl $crate::Setting for $name {
            fn describe(
                path: &str,
                _doc: &'static str,
                _env: ::std::option::Option<&'static str>,
                keys: &mut ::std::vec::Vec<$crate::Key>,
            ) {
                $(
                    <$type as $crate::Setting>::describe(
                        &$crate::join(path, stringify!($field)),
                        concat!($($doc, "\n"),+),
                        $crate::env_name!($($env)?),
                        keys,
                    );
                )+
            }
        }
    };
}

/// `Some("EKYC_…")` for a declared variable, `None` without one (used by [`section!`]).
#[doc(hidden)]
#[macro_export]
macro_rules! env_name {
    () => {
        ::std::option::Option::None
    };
    ($env:literal) => {
        ::std::option::Option::Some($env)
    };
}

/// A configuration that cannot be used, naming the file, line, key, variable or flag to fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file exists but cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Bad TOML, an unknown key or a value of the wrong type; toml's message gives line,
    /// column and key.
    #[error("{}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// toml's message.
        message: String,
    },
    /// An environment variable or flag that cannot be applied.
    #[error("{origin}: {message}")]
    Override {
        /// `EKYC_RETRIES=lots` or `--set network.retries=lots`.
        origin: String,
        /// Why.
        message: String,
    },
    /// A value of the right type but out of range.
    #[error("configuration key `{key}`: {message}")]
    Invalid {
        /// The dotted key.
        key: String,
        /// Why, and what is allowed.
        message: String,
    },
    /// A credential, key or PIN file that is missing, empty, unreadable or readable by
    /// others.
    #[error("{}: {message}", path.display())]
    SecretFile {
        /// The file.
        path: PathBuf,
        /// Why, and how to put it right.
        message: String,
    },
}

impl ConfigError {
    /// A value out of range: `key` is the dotted key.
    pub fn invalid(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            key: key.into(),
            message: message.into(),
        }
    }

    /// A credential, key or PIN file at `path` that cannot be used, and why.
    pub fn secret_file(path: &Path, why: impl std::fmt::Display) -> Self {
        Self::SecretFile {
            path: path.to_path_buf(),
            message: why.to_string(),
        }
    }

    /// The same problem, its key found under `section` (`jpeg_quality` →
    /// `images.jpeg_quality`; an empty key is the section itself).
    pub fn in_section(self, section: &str) -> Self {
        match self {
            Self::Invalid { key, message } => Self::Invalid {
                key: if key.is_empty() {
                    section.to_owned()
                } else {
                    join(section, &key)
                },
                message,
            },
            other => other,
        }
    }
}

/// Reads a credential file named by the configuration (see
/// [`ekyc_secrets::read_secret_file`]), its path in the error.
pub fn read_secret_file(path: &Path) -> Result<ekyc_secrets::Secret, ConfigError> {
    ekyc_secrets::read_secret_file(path).map_err(|error| ConfigError::secret_file(path, error))
}

/// A credential from its environment variable (`EKYC_API_KEY`), else from the file the
/// configuration names (`api_key_file`); `Ok(None)` when neither is set.
pub fn credential(
    from_env: Option<String>,
    file: Option<&Path>,
) -> Result<Option<ekyc_secrets::Secret>, ConfigError> {
    if let Some(value) = from_env.filter(|value| !value.trim().is_empty()) {
        return Ok(Some(ekyc_secrets::Secret::new(value.trim())));
    }
    file.map(read_secret_file).transpose()
}

/// `--set KEY=VALUE` as the command line gives it (a clap value parser).
pub fn parse_set(text: &str) -> Result<(String, String), String> {
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not KEY=VALUE"))?;
    Ok((key.trim().to_owned(), value.to_owned()))
}

/// What `config` says of a credential: set, not set (and where it would come from), or
/// why it cannot be used. Never the credential itself.
pub fn credential_state(
    credential: &Result<Option<ekyc_secrets::Secret>, ConfigError>,
    from: &str,
) -> String {
    match credential {
        Ok(Some(_)) => "set".to_string(),
        Ok(None) => format!("not set ({from})"),
        Err(error) => format!("unusable: {error}"),
    }
}

/// Where a program of ours (`ekyc-kiosk`, `ekyc-engine`) keeps its files.
#[derive(Debug, Clone, Copy)]
pub struct Program {
    /// Its name, the folder's name under the config and data folders and `/etc`.
    pub name: &'static str,
    /// The variable naming its configuration file (`EKYC_CONFIG`).
    pub config_env: &'static str,
}

impl Program {
    /// The system-wide file, installed by the Debian package and managed by IT:
    /// `/etc/<name>/config.toml`.
    pub fn system_config(&self) -> PathBuf {
        Path::new("/etc").join(self.name).join("config.toml")
    }

    /// The user's file: `$XDG_CONFIG_HOME/<name>/config.toml`, or under `~/.config`.
    pub fn user_config(&self, env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
        let base = env("XDG_CONFIG_HOME")
            .filter(|dir| Path::new(dir).is_absolute())
            .map(PathBuf::from)
            .or_else(|| env("HOME").map(|home| Path::new(&home).join(".config")))?;
        Some(base.join(self.name).join("config.toml"))
    }

    /// Where a configuration file is looked for without one given: the user's own file
    /// first, then the system's. The first that exists is read, alone.
    pub fn config_search_path(&self, env: &dyn Fn(&str) -> Option<String>) -> Vec<PathBuf> {
        self.user_config(env)
            .into_iter()
            .chain([self.system_config()])
            .collect()
    }

    /// The file named by its variable, when set and not empty.
    pub fn config_from_env(&self, env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
        env(self.config_env)
            .filter(|path| !path.is_empty())
            .map(PathBuf::from)
    }

    /// Its data folder (databases, keys made on first use): `$XDG_DATA_HOME/<name>`, or
    /// under `~/.local/share`; `None` when neither is known.
    pub fn data_dir(&self, env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
        let base = env("XDG_DATA_HOME")
            .filter(|dir| Path::new(dir).is_absolute())
            .map(PathBuf::from)
            .or_else(|| env("HOME").map(|home| Path::new(&home).join(".local").join("share")))?;
        Some(base.join(self.name))
    }
}

/// `true` for an `http://` or `https://` address with something after the scheme.
pub fn is_http_url(url: &str) -> bool {
    (url.starts_with("http://") || url.starts_with("https://")) && url.len() > "https://".len()
}

/// Where a configuration comes from.
pub struct Sources<'a> {
    /// The file given (`--config`); `None`: the first of `search` that exists, if any.
    pub file: Option<&'a Path>,
    /// The files looked for without one given, in order; only the first found is read.
    pub search: &'a [PathBuf],
    /// The environment, as a function (tests give their own).
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// `--set key=value` and the named flags, applied last, in order.
    pub sets: &'a [(String, String)],
}

/// Reads the configuration `T`: the file, then each key's environment variable, then the
/// flags. Returns it with the file that was read.
pub fn load<T>(sources: &Sources<'_>) -> Result<(T, Option<PathBuf>), ConfigError>
where
    T: Setting + DeserializeOwned,
{
    let (mut table, path) = match sources.file {
        Some(path) => (read_table::<T>(path)?, Some(path.to_path_buf())),
        None => match sources.search.iter().find(|path| path.exists()) {
            Some(path) => (read_table::<T>(path)?, Some(path.clone())),
            None => (toml::Table::new(), None),
        },
    };
    let mut config = T::deserialize(table.clone()).map_err(|error| ConfigError::Parse {
        path: path.clone().unwrap_or_default(),
        message: error.to_string(),
    })?;
    let keys = keys::<T>();
    let from_env = keys.iter().filter_map(|key| {
        let variable = key.env?;
        let value = (sources.env)(variable)?;
        Some((key.name.clone(), value, variable.to_owned()))
    });
    let from_flags = sources
        .sets
        .iter()
        .map(|(key, value)| (key.clone(), value.clone(), format!("--set {key}")));
    let overrides: Vec<_> = from_env.chain(from_flags).collect();
    for (key, value, origin) in overrides {
        config = apply_override(&mut table, &keys, &key, &value).map_err(|message| {
            ConfigError::Override {
                origin: format!("{origin}={value}"),
                message,
            }
        })?;
    }
    Ok((config, path))
}

fn read_table<T: DeserializeOwned>(path: &Path) -> Result<toml::Table, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let parse = |message: String| ConfigError::Parse {
        path: path.to_path_buf(),
        message,
    };
    // Read as `T` first so that unknown keys and wrong types are reported with their line.
    toml::from_str::<T>(&text).map_err(|error| parse(error.to_string()))?;
    toml::from_str::<toml::Table>(&text).map_err(|error| parse(error.to_string()))
}

/// Sets `key` (dotted) to `value`, typed by the schema, and returns the configuration it
/// makes.
fn apply_override<T: DeserializeOwned>(
    table: &mut toml::Table,
    keys: &[Key],
    key: &str,
    value: &str,
) -> Result<T, String> {
    let Some(known) = keys.iter().find(|known| known.name == key) else {
        let names: Vec<&str> = keys.iter().map(|known| known.name.as_str()).collect();
        return Err(format!(
            "unknown key `{key}`; known keys: {}",
            names.join(", ")
        ));
    };
    let typed = typed_value(known.kind, key, value)?;
    let mut parts: Vec<&str> = key.split('.').collect();
    let leaf = parts.pop().unwrap_or(key);
    let mut section = &mut *table;
    for part in parts {
        let entry = section
            .entry(part.to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        section = entry
            .as_table_mut()
            .ok_or_else(|| format!("`{part}` is not a section in the config file"))?;
    }
    section.insert(leaf.to_owned(), typed);
    T::deserialize(table.clone()).map_err(|error| error.to_string())
}

/// `value` as the TOML value a key of `kind` takes.
fn typed_value(kind: Kind, key: &str, value: &str) -> Result<toml::Value, String> {
    let value = value.trim();
    Ok(match kind {
        Kind::Text => toml::Value::String(value.to_owned()),
        Kind::Integer => toml::Value::Integer(
            value
                .parse::<i64>()
                .map_err(|_| format!("`{key}` takes a whole number"))?,
        ),
        Kind::Number => toml::Value::Float(
            value
                .parse::<f64>()
                .map_err(|_| format!("`{key}` takes a number"))?,
        ),
        Kind::Boolean => match value.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => toml::Value::Boolean(true),
            "false" | "0" | "no" | "off" => toml::Value::Boolean(false),
            _ => return Err(format!("`{key}` takes true or false")),
        },
        Kind::List if value.starts_with('[') => {
            let wrapped: toml::Table = toml::from_str(&format!("list = {value}"))
                .map_err(|error| format!("`{key}` takes a list: {}", error.message()))?;
            wrapped
                .get("list")
                .cloned()
                .ok_or_else(|| format!("`{key}` takes a list"))?
        }
        Kind::List => toml::Value::Array(
            value
                .split(',')
                .map(str::trim)
                .filter(|word| !word.is_empty())
                .map(|word| toml::Value::String(word.to_owned()))
                .collect(),
        ),
    })
}

/// `config` as a TOML file that explains itself: every key of the schema in its section,
/// its doc comment above it and its environment variable beside it, a key without a value
/// (unset) written as a comment.
pub fn documented<T: Setting + Serialize>(config: &T) -> Result<String, toml::ser::Error> {
    let mut value = toml::Value::try_from(config)?;
    as_configured(&mut value);
    let empty = toml::Table::new();
    let table = value.as_table().unwrap_or(&empty);
    let mut text = String::new();
    let mut section_shown: Option<String> = None;
    for key in keys::<T>() {
        let (section, leaf) = match key.name.rsplit_once('.') {
            Some((section, leaf)) => (section.to_owned(), leaf.to_owned()),
            None => (String::new(), key.name.clone()),
        };
        if section_shown.as_deref() != Some(section.as_str()) {
            if !section.is_empty() {
                text.push_str(&format!("\n[{section}]\n"));
            }
            section_shown = Some(section.clone());
        }
        for line in key.doc.lines() {
            text.push_str(&format!("# {line}\n").replace("# \n", "#\n"));
        }
        if let Some(variable) = key.env {
            text.push_str(&format!("# environment: {variable}\n"));
        }
        match lookup(table, &key.name) {
            Some(value) => text.push_str(&format!("{leaf} = {value}\n")),
            None => text.push_str(&format!("# {leaf} = (unset)\n")),
        }
    }
    Ok(text)
}

/// What `config` prints: where the configuration came from, the [`documented`] file, and
/// every key with its environment variable.
pub fn in_force<T: Setting + Serialize>(
    path: Option<&Path>,
    config: &T,
) -> Result<String, toml::ser::Error> {
    let mut text = match path {
        Some(path) => format!("# read from {}\n", path.display()),
        None => "# no configuration file; defaults\n".to_owned(),
    };
    text.push_str(&documented(config)?);
    text.push_str(
        "\n# Every key can be overridden with --set KEY=VALUE; these by their variable too:\n",
    );
    for key in keys::<T>() {
        if let Some(variable) = key.env {
            text.push_str(&format!("#   {:<32} {variable}\n", key.name));
        }
    }
    Ok(text)
}

fn lookup<'a>(table: &'a toml::Table, dotted: &str) -> Option<&'a toml::Value> {
    let mut parts = dotted.split('.');
    let mut value = table.get(parts.next()?)?;
    for part in parts {
        value = value.as_table()?.get(part)?;
    }
    Some(value)
}

/// Numbers held as `f32` are written as they were configured (`0.6`), not as the nearest
/// `f64` of that `f32` (`0.6000000238418579`): a float that is exactly an `f32` is written
/// with the `f32`'s shortest digits.
fn as_configured(value: &mut toml::Value) {
    match value {
        toml::Value::Float(number) => {
            let single = *number as f32;
            if f64::from(single) == *number {
                if let Ok(shortest) = single.to_string().parse::<f64>() {
                    *number = shortest;
                }
            }
        }
        toml::Value::Table(table) => table.iter_mut().for_each(|(_, value)| as_configured(value)),
        toml::Value::Array(values) => values.iter_mut().for_each(as_configured),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "lowercase")]
    pub enum Colour {
        Red,
        Blue,
    }
    text_setting!(Colour);

    section! {
        /// An inner table.
        pub struct Inner {
            /// A share.
            pub share: f32 = 0.6,
            /// Words.
            pub words: Vec<String> = vec!["a".into()],
        }
    }

    section! {
        /// The whole.
        pub struct Whole {
            /// A colour.
            #[env = "TEST_COLOUR"]
            pub colour: Colour = Colour::Red,
            /// Tries in all.
            ///
            /// At least one.
            #[env = "TEST_TRIES"]
            pub tries: u32 = 3,
            /// On or off.
            #[env = "TEST_ON"]
            pub on: bool = false,
            /// A file.
            pub file: Option<PathBuf> = None,
            /// The inner table.
            pub inner: Inner = Inner::default(),
        }
    }

    fn load_whole(
        text: Option<&str>,
        env: &dyn Fn(&str) -> Option<String>,
        sets: &[(&str, &str)],
    ) -> Result<Whole, ConfigError> {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("config.toml");
        if let Some(text) = text {
            std::fs::write(&path, text).unwrap();
        }
        let sets: Vec<(String, String)> = sets
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect();
        let search = [path];
        load::<Whole>(&Sources {
            file: None,
            search: &search,
            env,
            sets: &sets,
        })
        .map(|(whole, _)| whole)
    }

    #[test]
    fn every_key_comes_from_the_declaration_with_its_type_doc_and_variable() {
        let keys = keys::<Whole>();
        let names: Vec<&str> = keys.iter().map(|key| key.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "colour",
                "tries",
                "on",
                "file",
                "inner.share",
                "inner.words"
            ]
        );
        let kinds: Vec<Kind> = keys.iter().map(|key| key.kind).collect();
        use Kind::*;
        assert_eq!(kinds, [Text, Integer, Boolean, Text, Number, List]);
        assert_eq!(keys[1].env, Some("TEST_TRIES"));
        assert_eq!(keys[3].env, None);
        assert_eq!(keys[1].doc, "Tries in all.\n\nAt least one.");
    }

    #[test]
    fn the_file_then_the_environment_then_flags_each_typed_by_the_schema() {
        let env = |name: &str| match name {
            "TEST_TRIES" => Some("5".to_string()),
            "TEST_ON" => Some("yes".to_string()),
            _ => None,
        };
        let whole = load_whole(
            Some("colour = \"blue\"\ntries = 2\n[inner]\nshare = 0.5\n"),
            &env,
            &[
                ("tries", "7"),
                ("inner.share", "0.25"),
                ("inner.words", "x, y"),
            ],
        )
        .unwrap();
        assert_eq!(whole.colour, Colour::Blue);
        assert_eq!(whole.tries, 7, "a flag wins over the environment");
        assert!(whole.on);
        assert_eq!(whole.inner.share, 0.25);
        assert_eq!(whole.inner.words, ["x", "y"]);
        let whole = load_whole(None, &|_| None, &[("inner.words", "[\"a, b\", \"c\"]")]).unwrap();
        assert_eq!(whole.inner.words, ["a, b", "c"]);
        assert_eq!(load_whole(None, &|_| None, &[]).unwrap(), Whole::default());
    }

    #[test]
    fn wrong_values_name_their_origin_and_what_the_key_takes() {
        let env = |name: &str| (name == "TEST_TRIES").then(|| "lots".to_string());
        let error = load_whole(None, &env, &[]).unwrap_err().to_string();
        assert_eq!(error, "TEST_TRIES=lots: `tries` takes a whole number");
        let error = load_whole(None, &|_| None, &[("on", "maybe")])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("--set on=maybe") && error.contains("true or false"),
            "{error}"
        );
        let error = load_whole(None, &|_| None, &[("inner.shares", "1")])
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown key `inner.shares`"), "{error}");
        let error = load_whole(Some("[inner]\nshares = 1\n"), &|_| None, &[])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("line 2") && error.contains("shares"),
            "{error}"
        );
    }

    #[test]
    fn the_documented_file_reads_back_as_the_same_configuration() {
        let whole = Whole {
            tries: 9,
            inner: Inner {
                share: 0.45,
                ..Inner::default()
            },
            ..Whole::default()
        };
        let text = documented(&whole).unwrap();
        assert!(
            text.contains(
                "# Tries in all.\n#\n# At least one.\n# environment: TEST_TRIES\ntries = 9\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("\n[inner]\n# A share.\nshare = 0.45\n"),
            "{text}"
        );
        assert!(text.contains("# file = (unset)\n"), "{text}");
        let back: Whole = toml::from_str(&text).unwrap();
        assert_eq!(back, whole);
    }
}
