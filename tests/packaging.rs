//! What the Debian package installs (`[package.metadata.deb]` in Cargo.toml, `packaging/`)
//! fits together: the files exist, the shipped configuration loads and is a kiosk's, the
//! units run the installed binary with the installed config, the desktop file names the
//! icons and the window's app id. The install itself: `packaging/prove-install`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at what it did not expect

use std::path::{Path, PathBuf};

use ekyc_kiosk::config::{BackendKind, Config, SYSTEM_CONFIG_PATH};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo(path)).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// `[package.metadata.deb]` of the package whose manifest is `manifest`.
fn deb_metadata_in(manifest: &str) -> toml::Table {
    let parsed: toml::Table = read(manifest).parse().unwrap();
    parsed["package"]["metadata"]["deb"]
        .as_table()
        .unwrap_or_else(|| panic!("no [package.metadata.deb] in {manifest}"))
        .clone()
}

fn deb_metadata() -> toml::Table {
    deb_metadata_in("Cargo.toml")
}

/// `(source, destination)` of every asset, destinations made absolute and completed with
/// the file name when they end in `/`, as cargo-deb does.
fn assets() -> Vec<(String, String)> {
    deb_metadata()["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|asset| {
            let asset = asset.as_array().unwrap();
            let source = asset[0].as_str().unwrap().to_owned();
            let mut target = format!("/{}", asset[1].as_str().unwrap());
            if target.ends_with('/') {
                target.push_str(Path::new(&source).file_name().unwrap().to_str().unwrap());
            }
            (source, target)
        })
        .collect()
}

#[test]
fn every_asset_but_the_release_binary_is_in_the_repository() {
    let assets = assets();
    assert!(assets.len() >= 8, "{assets:?}");
    for (source, _) in &assets {
        if source.starts_with("assets/models/blazeface/")
            || source.starts_with("assets/models/dlib/")
            || source.starts_with("assets/models/mediapipe/")
        {
            // Fetched, not committed (./test runs ./fetch-models first).
            assert!(
                repo(source).is_file(),
                "{source} is missing: run ./fetch-models"
            );
        } else if source != "target/release/ekyc-kiosk" {
            assert!(repo(source).is_file(), "{source} is missing");
        }
    }
    let targets: Vec<&str> = assets.iter().map(|(_, target)| target.as_str()).collect();
    assert!(targets.contains(&"/usr/bin/ekyc-kiosk"));
    assert!(targets.contains(&SYSTEM_CONFIG_PATH));
}

#[test]
fn the_system_config_is_a_conffile_so_upgrades_keep_local_edits() {
    let conffiles = deb_metadata()["conf-files"].clone();
    assert_eq!(conffiles, toml::Value::from(vec![SYSTEM_CONFIG_PATH]));
}

#[test]
fn the_packaged_config_loads_and_is_a_kiosks() {
    let loaded =
        Config::load_searching(Some(&repo("packaging/config.toml")), &[], &|_| None, &[]).unwrap();
    let config = loaded.config;
    assert!(config.ui.kiosk_mode, "full screen, close refused");
    assert_eq!(config.backend, BackendKind::Local, "works with no account");
    assert!(
        config.engine.addr.ip().is_loopback(),
        "serve stays local until IT opens it"
    );
    assert!(
        config.api_key_file.is_none(),
        "no key file that does not exist yet"
    );
    // Every liveness setting is written out (with its default), for IT to see and change.
    let text = std::fs::read_to_string(repo("packaging/config.toml")).unwrap();
    let table: toml::Table = text.parse().unwrap();
    let written: Vec<&String> = table["liveness"].as_table().unwrap().keys().collect();
    let known = toml::Table::try_from(&config.liveness).unwrap();
    assert_eq!(written, known.keys().collect::<Vec<_>>());
    assert_eq!(
        config.liveness,
        ekyc_kiosk::config::LivenessConfig::default()
    );
}

#[test]
fn both_units_run_the_installed_binary_with_the_installed_config() {
    for unit in [
        "packaging/debian/ekyc-kiosk.service",
        "packaging/debian/ekyc-kiosk-serve.service",
    ] {
        let text = read(unit);
        let exec = text
            .lines()
            .find_map(|line| line.strip_prefix("ExecStart="))
            .unwrap_or_else(|| panic!("{unit} has no ExecStart"));
        assert!(exec.contains("/usr/bin/ekyc-kiosk"), "{unit}: {exec}");
        assert!(
            text.contains(&format!("EKYC_CONFIG={SYSTEM_CONFIG_PATH}")),
            "{unit} names the config"
        );
        assert!(text.contains("User=ekyc-kiosk"), "{unit} runs unprivileged");
        assert!(text.contains("Restart="), "{unit} restarts");
    }
    let kiosk = read("packaging/debian/ekyc-kiosk.service");
    assert!(kiosk.contains("ExecStart=/usr/bin/cage "));
    let serve = read("packaging/debian/ekyc-kiosk-serve.service");
    assert!(serve.contains("ExecStart=/usr/bin/ekyc-kiosk serve"));
    // The user the units run as is the one the package creates.
    let sysusers = read("packaging/debian/ekyc-kiosk.sysusers");
    assert!(sysusers
        .lines()
        .any(|line| line.starts_with("u ekyc-kiosk ")));
}

#[test]
fn the_desktop_file_names_the_installed_icons_and_the_windows_app_id() {
    let app_id = ekyc_kiosk::app::APP_ID;
    let desktop = read(&format!("packaging/{app_id}.desktop"));
    assert!(desktop.contains(&format!("\nIcon={app_id}\n")));
    assert!(desktop.contains(&format!("\nStartupWMClass={app_id}\n")));
    let targets: Vec<String> = assets().into_iter().map(|(_, target)| target).collect();
    for size in ["48x48", "128x128", "256x256"] {
        let icon = format!("/usr/share/icons/hicolor/{size}/apps/{app_id}.png");
        assert!(targets.contains(&icon), "{icon} is not installed");
    }
    for (source, target) in assets() {
        if let Some(size) = target
            .strip_prefix("/usr/share/icons/hicolor/")
            .and_then(|rest| rest.split_once('x'))
            .and_then(|(width, _)| width.parse::<u32>().ok())
        {
            let (width, height) = image::image_dimensions(repo(&source)).unwrap();
            assert_eq!(
                (width, height),
                (size, size),
                "{source} installed as {target}"
            );
        }
    }
}

#[test]
fn the_engine_package_is_the_server_alone_with_its_unit_config_and_the_face_models() {
    let metadata = deb_metadata_in("crates/engine/Cargo.toml");
    let mut targets = Vec::new();
    for asset in metadata["assets"].as_array().unwrap() {
        let asset = asset.as_array().unwrap();
        let source = asset[0].as_str().unwrap();
        let mut target = format!("/{}", asset[1].as_str().unwrap());
        if target.ends_with('/') {
            target.push_str(Path::new(source).file_name().unwrap().to_str().unwrap());
        }
        if source != "target/release/ekyc-engine" {
            // From the engine crate's folder, as cargo-deb reads them.
            let path = repo("crates/engine").join(source);
            assert!(path.is_file(), "{source} is missing (./fetch-models?)");
        }
        targets.push(target);
    }
    for installed in [
        "/usr/bin/ekyc-engine",
        "/etc/ekyc-engine/config.toml",
        "/usr/share/ekyc-engine/models/blazeface/face_detection_front_128x128.onnx",
        "/usr/share/ekyc-engine/models/dlib/dlib_face_recognition_resnet_model_v1.dat",
        "/usr/share/ekyc-engine/models/mediapipe/face_landmark.tflite",
    ] {
        assert!(
            targets.iter().any(|target| target == installed),
            "{installed}"
        );
    }
    // Where the package puts the models is where the programs look for them.
    assert!(ekyc_face::model_roots().contains(&PathBuf::from("/usr/share/ekyc-engine/models")));
    assert_eq!(
        metadata["conf-files"],
        toml::Value::from(vec!["/etc/ekyc-engine/config.toml"])
    );
    let depends = metadata["depends"].as_str().unwrap();
    for gui in [
        "gtk", "egl", "gl1", "vulkan", "mesa", "wayland", "x11", "xkb",
    ] {
        assert!(
            !depends.contains(gui),
            "the server depends on {gui}: {depends}"
        );
    }
    // The kiosk's package brings the engine's (and with it the models).
    assert!(deb_metadata()["depends"]
        .as_str()
        .unwrap()
        .contains("ekyc-engine"));

    let unit = read("packaging/engine/debian/ekyc-engine.service");
    assert!(
        unit.contains("\nExecStart=/usr/bin/ekyc-engine serve\n"),
        "{unit}"
    );
    assert!(unit.contains("EKYC_ENGINE_CONFIG=/etc/ekyc-engine/config.toml"));
    assert!(unit.contains("\nUser=ekyc-engine\n"));
    assert!(unit.contains("\nStateDirectory=ekyc-engine\n"));
    let sysusers = read("packaging/engine/debian/ekyc-engine.sysusers");
    assert!(sysusers
        .lines()
        .any(|line| line.starts_with("u ekyc-engine ")));

    // The packaged configuration loads as the engine reads it, and stays on loopback.
    let (config, _) =
        ekyc_settings::load::<ekyc_engine::config::ServerConfig>(&ekyc_settings::Sources {
            file: Some(&repo("packaging/engine/config.toml")),
            search: &[],
            env: &|_| None,
            sets: &[],
        })
        .unwrap();
    assert!(config.engine.addr.ip().is_loopback());
    assert!(config.api_key_file.is_none());
    config.engine.validate().unwrap();
}
