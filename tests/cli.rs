//! The command line, run as a user would: the built binary, its output and its exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn syncopate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_syncopate"))
        .args(args)
        .output()
        .expect("the syncopate binary runs")
}

fn samples() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("samples"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
    paths.sort();
    paths
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn check_accepts_every_sample() {
    for sample in samples() {
        let out = syncopate(&["check", sample.to_str().unwrap()]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            sample.display(),
            text(&out.stderr)
        );
        assert!(text(&out.stdout).contains("valid"), "{}", text(&out.stdout));
    }
}

#[test]
fn check_rejects_a_malformed_file_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.syncopate");
    std::fs::write(
        &path,
        r#"{"type":"syncopate","version":1,"name":"x","services":[{"id":"a"}],
            "edges":[{"from":"a","to":"b","mode":"sync"}],"flows":[]}"#,
    )
    .unwrap();
    let out = syncopate(&["check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("bad.syncopate"), "{stderr}");
    assert!(stderr.contains("edges[0].to"), "{stderr}");
    assert!(stderr.contains("unknown service \"b\""), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn check_reports_unreadable_files() {
    let out = syncopate(&["check", "/nonexistent/design.syncopate"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("/nonexistent/design.syncopate: cannot read"));
}

#[test]
fn check_json_lists_the_problems() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.syncopate");
    std::fs::write(
        &path,
        r#"{"type":"syncopate","version":1,"services":[{"id":"A"},{"id":"b","replicas":0}]}"#,
    )
    .unwrap();
    let out = syncopate(&["check", "--json", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["valid"], false);
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0]["path"], "services[0].id");
    assert_eq!(errors[1]["path"], "services[1].replicas");
}

#[test]
fn a_newer_file_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.syncopate");
    std::fs::write(
        &path,
        r#"{"type":"syncopate","version":7,"services":[],"holograms":[]}"#,
    )
    .unwrap();
    let out = syncopate(&["check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("newer Syncopate"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn usage_errors_exit_with_2() {
    assert_eq!(syncopate(&["check"]).status.code(), Some(2));
    assert_eq!(
        syncopate(&["check", "x", "--frobnicate"]).status.code(),
        Some(2)
    );
    assert_eq!(
        syncopate(&["export", "x", "--target", "helm"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        syncopate(&["sequence", "x", "--format", "png"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        syncopate(&["import", "terraform", "x"]).status.code(),
        Some(2)
    );
}

#[test]
fn version_and_help() {
    let out = syncopate(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).starts_with("syncopate "));
    let out = syncopate(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    for command in ["check", "simulate", "sequence", "export", "import"] {
        assert!(text(&out.stdout).contains(command), "{command}");
    }
}
