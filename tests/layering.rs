//! The core modules stay free of GUI and async-runtime dependencies, so they can run headless in the CLI, in
//! tests and on any thread.

use std::path::Path;

const CORE_MODULES: &[&str] = &[
    "model", "review", "rules", "sequence", "sim", "export", "import", "capacity", "edit",
    "samples",
];
const FORBIDDEN: &[&str] = &[
    "egui",
    "eframe",
    "egui_graphs",
    "egui_plot",
    "egui_kittest",
    "rfd",
    "tokio",
    "hyper",
    "hyper_util",
    "http_body_util",
    "amqprs",
    "crate::app",
    "crate::ui",
    "crate::emulate",
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Whether `line` names `name` as a path root (`name::`, `use name`, `name as`), ignoring comments.
fn mentions(line: &str, name: &str) -> bool {
    let code = line.split("//").next().unwrap_or("");
    code.match_indices(name).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = &code[at + name.len()..];
        let starts_word = before.is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        starts_word
            && (after.starts_with("::")
                || after.starts_with(';')
                || after.starts_with(" as ")
                || after.starts_with('{'))
    })
}

#[test]
fn core_modules_do_not_import_gui_or_runtime_crates() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut checked = 0;
    for module in CORE_MODULES {
        let mut files = Vec::new();
        rust_files(&src.join(module), &mut files);
        let single = src.join(format!("{module}.rs"));
        if single.exists() {
            files.push(single);
        }
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for (n, line) in text.lines().enumerate() {
                for name in FORBIDDEN {
                    assert!(
                        !mentions(line, name),
                        "{}:{}: core module uses {name}: {line}",
                        file.display(),
                        n + 1
                    );
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 0, "no core module files were found");
}

/// The panels read the design and the runs and emit edits; the app applies them. The arrow goes one way: nothing
/// under `src/ui` names the app (its edits are `crate::edit`, the runs it shows `crate::runs`).
#[test]
fn ui_imports_nothing_from_app() {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ui"),
        &mut files,
    );
    assert!(!files.is_empty(), "no ui files were found");
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            assert!(
                !mentions(line, "crate::app") && !mentions(line, "super::super::app"),
                "{}:{}: ui uses the app: {line}",
                file.display(),
                n + 1
            );
        }
    }
}

/// Each room of the app does one thing: no file under `src/app` grows past 600 lines.
#[test]
fn app_rooms_stay_small() {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/app"),
        &mut files,
    );
    assert!(!files.is_empty());
    for file in files {
        let lines = std::fs::read_to_string(&file).unwrap().lines().count();
        assert!(lines <= 600, "{}: {lines} lines", file.display());
    }
}

#[test]
fn the_checker_catches_imports() {
    assert!(mentions("use egui::Pos2;", "egui"));
    assert!(mentions("    let x = tokio::spawn(f);", "tokio"));
    assert!(mentions("use crate::app::Document;", "crate::app"));
    assert!(!mentions("// egui:: is not used here", "egui"));
    assert!(!mentions("let my_egui_thing = 1;", "egui"));
}
