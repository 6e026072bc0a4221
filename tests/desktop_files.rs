//! The Linux desktop integration files pass the freedesktop validators (`desktop-file-validate` from
//! desktop-file-utils, `appstreamcli validate` from appstream), and a broken copy of each fails them. `.ci/run`
//! installs both and sets `SYNCOPATE_REQUIRE_TOOLS=1`; elsewhere a missing tool skips the test with a message.

mod common;
use common::installed;

use std::path::{Path, PathBuf};
use std::process::Command;

fn asset(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets/linux")
        .join(name)
}

/// Runs `tool args… file`; returns whether it accepted the file, and what it said.
fn validate(tool: &str, args: &[&str], file: &Path) -> (bool, String) {
    let output = Command::new(tool).args(args).arg(file).output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), said)
}

/// Checks the file, then a copy with `from` replaced by `to`, which must fail.
fn passes_and_a_broken_copy_fails(tool: &str, args: &[&str], name: &str, from: &str, to: &str) {
    if !installed(tool) {
        return;
    }
    let file = asset(name);
    let (ok, said) = validate(tool, args, &file);
    assert!(ok, "{name}: {said}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(from));
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join(name);
    std::fs::write(&broken, text.replace(from, to)).unwrap();
    let (ok, said) = validate(tool, args, &broken);
    assert!(!ok, "a broken {name} must fail: {said}");
}

#[test]
fn the_desktop_entry_is_valid() {
    passes_and_a_broken_copy_fails(
        "desktop-file-validate",
        &[],
        "syncopate.desktop",
        "Type=Application",
        "Type=Program",
    );
}

#[test]
fn the_appstream_metainfo_is_valid() {
    passes_and_a_broken_copy_fails(
        "appstreamcli",
        &["validate", "--no-net"],
        "io.github.syncopate.Syncopate.metainfo.xml",
        "<summary>",
        "<sumary>",
    );
}

#[test]
fn the_desktop_entry_launches_the_binary_and_names_the_icon_and_file_type() {
    let entry = std::fs::read_to_string(asset("syncopate.desktop")).unwrap();
    assert!(entry.contains("Exec=syncopate %f"));
    assert!(entry.contains("Icon=syncopate"));
    let mime = std::fs::read_to_string(asset("syncopate-mime.xml")).unwrap();
    assert!(mime.contains(r#"<glob pattern="*.syncopate"/>"#));
    assert!(entry.contains("MimeType=application/x-syncopate+json;"));
    for size in [16, 32, 48, 64, 128, 256, 512] {
        let png = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("assets/icons/syncopate-{size}.png"));
        let image = image::open(&png).unwrap();
        assert_eq!(
            (image.width(), image.height()),
            (size, size),
            "{}",
            png.display()
        );
    }
}
