//! The workspace's shape, kept: each crate uses only crates of the layers below its own
//! (the README's "Layout" draws them), the engine's build holds no GUI crate, and inside
//! every crate no two top-level modules import each other, directly or around a circle.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at what it did not expect

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, from the bottom. A crate may use crates of lower layers only.
const LAYERS: &[&[&str]] = &[
    &[
        "ekyc-secrets",
        "ekyc-tflite",
        "ekyc-process",
        "ekyc-chip",
        "ekyc-testchip",
    ],
    &["ekyc-settings"],
    &["ekyc-contract", "ekyc-imaging"],
    &["ekyc-face"],
    &["ekyc-liveness", "ekyc-reading"],
    &["ekyc-client", "ekyc-engine"],
    &["ekyc-kiosk"],
];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn layer_of(name: &str) -> usize {
    LAYERS
        .iter()
        .position(|layer| layer.contains(&name))
        .unwrap_or_else(|| panic!("{name} is in no layer: add it to LAYERS and the README"))
}

/// Every package of the workspace: its name and its folder.
fn packages() -> Vec<(String, PathBuf)> {
    let mut packages = vec![("ekyc-kiosk".to_owned(), repo())];
    for entry in std::fs::read_dir(repo().join("crates")).unwrap() {
        let folder = entry.unwrap().path();
        let manifest: toml::Table = std::fs::read_to_string(folder.join("Cargo.toml"))
            .unwrap()
            .parse()
            .unwrap();
        let name = manifest["package"]["name"].as_str().unwrap().to_owned();
        packages.push((name, folder));
    }
    packages
}

#[test]
fn every_crate_uses_only_the_layers_below_its_own() {
    let mut seen = 0;
    for (name, folder) in packages() {
        let manifest: toml::Table = std::fs::read_to_string(folder.join("Cargo.toml"))
            .unwrap()
            .parse()
            .unwrap();
        let own = layer_of(&name);
        let dependencies = manifest
            .get("dependencies")
            .and_then(toml::Value::as_table)
            .cloned()
            .unwrap_or_default();
        for dependency in dependencies.keys().filter(|key| key.starts_with("ekyc-")) {
            assert!(
                layer_of(dependency) < own,
                "{name} (layer {own}) uses {dependency} (layer {}), which is not below it",
                layer_of(dependency)
            );
        }
        seen += 1;
    }
    assert_eq!(seen, LAYERS.iter().map(|layer| layer.len()).sum::<usize>());
}

#[test]
fn the_engine_builds_without_any_gui_crate() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = std::process::Command::new(cargo)
        .args(["tree", "--offline", "--locked", "-p", "ekyc-engine"])
        .args(["-e", "normal", "--prefix", "none"])
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = String::from_utf8(output.stdout).unwrap();
    assert!(tree.contains("ekyc-face"), "not the engine's tree: {tree}");
    for line in tree.lines() {
        let name = line.split_whitespace().next().unwrap_or_default();
        for gui in [
            "egui",
            "eframe",
            "winit",
            "wgpu",
            "glow",
            "gtk",
            "nokhwa",
            "rfd",
            "accesskit",
        ] {
            assert!(!name.contains(gui), "the engine's build holds {line}");
        }
    }
}

/// The top-level modules of the crate whose sources are in `src`, each with the top-level
/// modules it names (`crate::x`, `crate::{x, y}`, a sibling through `super::`).
fn module_imports(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut modules = BTreeMap::new();
    for entry in std::fs::read_dir(src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if name == "lib" || name == "main" || name == "bin" {
            continue;
        }
        let mut files = Vec::new();
        if path.is_dir() {
            collect_files(&path, &mut files);
        } else {
            files.push(path.clone());
        }
        modules.insert(name, files);
    }
    let names: BTreeSet<String> = modules.keys().cloned().collect();
    let mut imports = BTreeMap::new();
    for (module, files) in &modules {
        let mut named = BTreeSet::new();
        for file in files {
            let code = without_comments(&std::fs::read_to_string(file).unwrap());
            // How many `super::` from this file reach the crate's root (a `mod.rs` is its
            // folder's module, one step nearer).
            let mut depth = file.strip_prefix(src).unwrap().components().count();
            if file.file_name().is_some_and(|name| name == "mod.rs") {
                depth -= 1;
            }
            let to_root = "super::".repeat(depth);
            for start in [String::from("crate::"), to_root] {
                for path in paths_after(&code, &start) {
                    named.insert(path);
                }
            }
        }
        named.retain(|name| names.contains(name) && name != module);
        imports.insert(module.clone(), named);
    }
    imports
}

fn collect_files(folder: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_files(&path, files);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            files.push(path);
        }
    }
}

/// `code` without `//` comments (doc comments included: a link is no import) and without
/// `/* */` blocks. String literals are left: none names a module path.
fn without_comments(code: &str) -> String {
    let mut kept = String::with_capacity(code.len());
    for line in code.lines() {
        let line = match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        };
        kept.push_str(line);
        kept.push('\n');
    }
    while let Some(start) = kept.find("/*") {
        let end = kept[start..]
            .find("*/")
            .map_or(kept.len(), |end| start + end + 2);
        kept.replace_range(start..end, "");
    }
    kept
}

/// The first names after each `start` in `code`: `x` in `crate::x::y`, `x` and `z` in
/// `crate::{x::y, z}`.
fn paths_after(code: &str, start: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut from = 0;
    while let Some(found) = code[from..].find(start) {
        let at = from + found;
        from = at + start.len();
        let rest = &code[from..];
        // Not the tail of a longer path (`super::super::` seen as `super::`).
        let before = code[..at].chars().next_back();
        if before.is_some_and(|character| character == ':' || character.is_alphanumeric()) {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item = String::new();
            let mut at_top = true;
            for character in group.chars() {
                match character {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        at_top = true;
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 && at_top {
                    if character.is_alphanumeric() || character == '_' {
                        item.push(character);
                    } else if !item.is_empty() {
                        names.push(std::mem::take(&mut item));
                        at_top = false;
                    }
                }
            }
            if !item.is_empty() {
                names.push(item);
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|character| character.is_alphanumeric() || *character == '_')
                .collect();
            // `super::super::x` seen from `super::`: a longer path, not a module `super`.
            if name != "super" {
                names.push(name);
            }
        }
    }
    names
}

/// A circle of imports among `imports`, when there is one.
fn find_cycle(imports: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        module: &str,
        imports: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|seen| seen == module) {
            let mut cycle = path[at..].to_vec();
            cycle.push(module.to_owned());
            return Some(cycle);
        }
        if done.contains(module) {
            return None;
        }
        path.push(module.to_owned());
        for next in imports.get(module).into_iter().flatten() {
            if let Some(cycle) = visit(next, imports, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(module.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    imports
        .keys()
        .find_map(|module| visit(module, imports, &mut Vec::new(), &mut done))
}

#[test]
fn no_crate_has_a_circle_of_imports_among_its_modules() {
    for (name, folder) in packages() {
        let imports = module_imports(&folder.join("src"));
        if let Some(cycle) = find_cycle(&imports) {
            panic!("{name}: {}", cycle.join(" → "));
        }
    }
}

#[test]
fn the_checker_sees_a_circle_and_the_paths_that_make_one() {
    let code = "use crate::{flow::Screen, camera};\nfn f() { super::super::desk::x(); }";
    assert_eq!(paths_after(code, "crate::"), ["flow", "camera"]);
    assert_eq!(paths_after(code, "super::super::"), ["desk"]);
    assert!(paths_after(code, "super::").is_empty());
    assert_eq!(
        without_comments("a // crate::x\n/// [`crate::y`]\nb /* crate::z */ c"),
        "a \n\nb  c\n"
    );
    let circle = BTreeMap::from([
        ("a".to_owned(), BTreeSet::from(["b".to_owned()])),
        ("b".to_owned(), BTreeSet::from(["c".to_owned()])),
        ("c".to_owned(), BTreeSet::from(["a".to_owned()])),
    ]);
    assert_eq!(find_cycle(&circle).unwrap(), ["a", "b", "c", "a"]);
    let line = BTreeMap::from([
        ("a".to_owned(), BTreeSet::from(["b".to_owned()])),
        ("b".to_owned(), BTreeSet::new()),
    ]);
    assert_eq!(find_cycle(&line), None);
}
