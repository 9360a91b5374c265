//! The configuration reader on any file: parsed, validated, or refused with a message.
#![no_main]

use std::sync::OnceLock;

use ekyc_kiosk::config::Config;
use libfuzzer_sys::fuzz_target;

fn file() -> &'static std::path::Path {
    static DIR: OnceLock<std::path::PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("ekyc-fuzz-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("config.toml")
    })
}

fuzz_target!(|data: &[u8]| {
    std::fs::write(file(), data).unwrap();
    if let Err(error) = Config::load_searching(Some(file()), &[], &|_| None, &[]) {
        assert!(!error.to_string().is_empty());
    }
});
