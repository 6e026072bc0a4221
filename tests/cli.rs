//! The command line, run as a user would: the built binary, its output and its exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the binary with its data directory (and so its log files) in a folder of the tests', not the user's.
fn syncopate(args: &[&str]) -> Output {
    syncopate_with_data(args, &std::env::temp_dir().join("syncopate-cli-tests"))
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

#[test]
fn check_prints_findings_grouped_by_severity() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/ecommerce.syncopate");
    let out = syncopate(&["check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "warnings alone do not fail");
    let stdout = text(&out.stdout);
    assert!(stdout.contains("Warnings ("), "{stdout}");
    assert!(stdout.contains("warning[missing-timeout]"), "{stdout}");
    assert!(stdout.contains("why: "), "{stdout}");
}

#[test]
fn deny_warnings_fails_on_warnings_only() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let warned = syncopate(&[
        "check",
        "--deny-warnings",
        dir.join("ecommerce.syncopate").to_str().unwrap(),
    ]);
    assert_eq!(warned.status.code(), Some(1));
    let clean = syncopate(&[
        "check",
        "--deny-warnings",
        dir.join("payment-guarded.syncopate").to_str().unwrap(),
    ]);
    assert_eq!(clean.status.code(), Some(0), "{}", text(&clean.stdout));
}

#[test]
fn error_findings_fail_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("overloaded.syncopate");
    std::fs::write(
        &path,
        r#"{"type":"syncopate","version":1,"services":[{"id":"a","concurrency":1,"service_time":{"dist":"constant","ms":100}}],
            "flows":[{"id":"f","entry":"a","rate_rps":50}]}"#,
    )
    .unwrap();
    let out = syncopate(&["check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("error[over-capacity]"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn check_json_is_stable_and_complete() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/ecommerce.syncopate");
    let first = syncopate(&["check", "--json", path.to_str().unwrap()]);
    let second = syncopate(&["check", "--json", path.to_str().unwrap()]);
    assert_eq!(first.stdout, second.stdout, "deterministic");
    let report: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(report["valid"], true);
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(
        report["summary"]["warnings"].as_u64().unwrap() as usize,
        findings.len()
    );
    for finding in findings {
        for key in [
            "rule",
            "severity",
            "subjects",
            "message",
            "tradeoff",
            "suggestion",
        ] {
            assert!(finding.get(key).is_some(), "{key} missing in {finding}");
        }
        let subject = &finding["subjects"][0];
        assert!(["service", "edge", "flow"].contains(&subject["kind"].as_str().unwrap()));
    }
    assert!(findings.iter().any(|f| f["fix"]["kind"] == "add_timeout"));
}

#[test]
fn sequence_prints_every_flow_or_one() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/cqrs.syncopate");
    let all = syncopate(&["sequence", path.to_str().unwrap()]);
    assert_eq!(all.status.code(), Some(0));
    assert_eq!(text(&all.stdout).matches("sequenceDiagram").count(), 2);
    let one = syncopate(&[
        "sequence",
        path.to_str().unwrap(),
        "--flow",
        "view-orders",
        "--format",
        "plantuml",
    ]);
    assert_eq!(one.status.code(), Some(0));
    assert_eq!(text(&one.stdout).matches("@startuml").count(), 1);
    let missing = syncopate(&["sequence", path.to_str().unwrap(), "--flow", "nope"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("place-order, view-orders"));
}

#[test]
fn sequence_writes_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/cqrs.syncopate");
    let file = dir.path().join("one.svg");
    let out = syncopate(&[
        "sequence",
        path.to_str().unwrap(),
        "--flow",
        "place-order",
        "--format",
        "svg",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(std::fs::read_to_string(&file).unwrap().starts_with("<svg"));
    let folder = dir.path().join("all");
    let out = syncopate(&[
        "sequence",
        path.to_str().unwrap(),
        "--format",
        "svg",
        "-o",
        folder.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(folder.join("place-order.svg").exists() && folder.join("view-orders.svg").exists());
}

/// A flow id is free text: `/`, `..`, a Windows device name or a case twin must still give one file per flow, each
/// directly inside the folder asked for, and nothing outside it.
#[test]
fn sequence_files_of_flows_with_any_id_stay_in_their_folder() {
    let dir = tempfile::tempdir().unwrap();
    let ids = [
        "../escape",
        "a/b",
        "a_b",
        "Pay",
        "pay",
        "con",
        ".hidden",
        "x:y*z?",
        "place-order",
    ];
    let flows: Vec<String> = ids
        .iter()
        .map(|id| format!(r#"{{"id": {id:?}, "entry": "api", "rate_rps": 1}}"#))
        .collect();
    let design = format!(
        r#"{{"type": "syncopate", "version": 1, "name": "ids",
            "services": [{{"id": "api"}}, {{"id": "db", "kind": "database"}}],
            "edges": [{{"from": "api", "to": "db", "mode": "sync"}}],
            "flows": [{}]}}"#,
        flows.join(", ")
    );
    let path = dir.path().join("ids.syncopate");
    std::fs::write(&path, design).unwrap();
    let folder = dir.path().join("out").join("diagrams");
    let out = syncopate(&[
        "sequence",
        path.to_str().unwrap(),
        "-o",
        folder.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let printed: Vec<PathBuf> = text(&out.stdout).lines().map(PathBuf::from).collect();
    assert_eq!(printed.len(), ids.len(), "{printed:?}");
    let mut lower_names = std::collections::BTreeSet::new();
    for file in &printed {
        assert_eq!(file.parent(), Some(folder.as_path()), "{}", file.display());
        let name = file.file_name().unwrap().to_str().unwrap();
        assert!(
            !name.starts_with('.') && !name.contains([':', '*', '?', '/', '\\']),
            "{name}"
        );
        assert!(lower_names.insert(name.to_lowercase()), "{name} twice");
        let stem = name.split('.').next().unwrap().to_lowercase();
        assert_ne!(stem, "con", "a Windows device name");
        assert!(
            std::fs::read_to_string(file)
                .unwrap()
                .contains("sequenceDiagram")
        );
    }
    // Nothing beside the folder, and an id that is already a fine file name keeps it.
    let beside: Vec<_> = std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(beside, vec![std::ffi::OsString::from("diagrams")]);
    assert!(folder.join("place-order.mmd").exists());
    assert_eq!(std::fs::read_dir(&folder).unwrap().count(), ids.len());
}

#[test]
fn export_writes_every_target_and_prints_the_paths() {
    let dir = tempfile::tempdir().unwrap();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/order-saga.syncopate");
    let out = syncopate(&[
        "export",
        sample.to_str().unwrap(),
        "--target",
        "all",
        "-o",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let printed: Vec<String> = text(&out.stdout).lines().map(str::to_owned).collect();
    assert!(!printed.is_empty());
    for path in &printed {
        assert!(
            Path::new(path).is_file(),
            "{path} was printed but not written"
        );
    }
    for folder in ["envoy", "istio", "kubernetes", "compose", "rabbitmq"] {
        assert!(
            printed.iter().any(|p| p.contains(&format!("/{folder}/"))),
            "no {folder} file in {printed:?}"
        );
    }
    // The same design exports the same bytes.
    let again = tempfile::tempdir().unwrap();
    syncopate(&[
        "export",
        sample.to_str().unwrap(),
        "--target",
        "all",
        "-o",
        again.path().to_str().unwrap(),
    ]);
    for path in &printed {
        let relative = Path::new(path).strip_prefix(dir.path()).unwrap();
        assert_eq!(
            std::fs::read(path).unwrap(),
            std::fs::read(again.path().join(relative)).unwrap()
        );
    }
}

#[test]
fn export_of_a_target_the_design_has_nothing_for_says_why() {
    let dir = tempfile::tempdir().unwrap();
    // The error of exporting a design (from the project folder) to a target it has nothing for.
    let refused = |design: &str, target: &str| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(design);
        let out = syncopate(&[
            "export",
            path.to_str().unwrap(),
            "--target",
            target,
            "-o",
            dir.path().to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(1));
        text(&out.stderr)
    };
    let stderr = refused("samples/order-saga.syncopate", "kafka");
    assert!(stderr.contains("nothing to export for kafka"), "{stderr}");
    // It says what the named target needs, not what every other target does.
    assert!(stderr.contains("kafka needs a Kafka broker"), "{stderr}");
    assert!(!stderr.contains("envoy"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    // All: each need once, with the targets that share it. (An absolute path replaces the project folder.)
    let lone = dir.path().join("lone-client.syncopate");
    std::fs::write(
        &lone,
        r#"{"type": "syncopate", "version": 1, "services": [{"id": "web", "kind": "client"}]}"#,
    )
    .unwrap();
    let stderr = refused(lone.to_str().unwrap(), "all");
    assert!(
        stderr.contains(
            "envoy and istio need sync calls; kubernetes and compose need deployable services"
        ),
        "{stderr}"
    );

    // A contract target says what it needs too: the tandem has only async calls, so no service takes HTTP calls.
    let stderr = refused("tests/designs/tandem-mm2.syncopate", "openapi");
    assert!(
        stderr.contains(
            "nothing to export for openapi: openapi needs a service that takes sync HTTP"
        ),
        "{stderr}"
    );
}

#[test]
fn export_of_a_broken_design_fails_with_the_loader_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.syncopate");
    std::fs::write(&path, "{").unwrap();
    let out = syncopate(&[
        "export",
        path.to_str().unwrap(),
        "--target",
        "envoy",
        "-o",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("bad.syncopate"),
        "{}",
        text(&out.stderr)
    );
    assert!(!dir.path().join("envoy").exists());
}

/// Runs the binary with its data directory (and so its log folder) in `data_home`.
fn syncopate_with_data(args: &[&str], data_home: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_syncopate"))
        .args(args)
        .env("XDG_DATA_HOME", data_home)
        .output()
        .expect("the syncopate binary runs")
}

fn logs(data_home: &Path) -> Vec<(PathBuf, String)> {
    let Ok(entries) = std::fs::read_dir(data_home.join("syncopate/logs")) else {
        return Vec::new();
    };
    entries
        .map(|e| {
            let path = e.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            (path, text)
        })
        .collect()
}

#[test]
fn every_run_is_logged_to_a_daily_file_in_the_data_directory_and_never_to_the_terminal() {
    let data = tempfile::tempdir().unwrap();
    let sample = samples()[0].clone();
    let out = syncopate_with_data(&["check", sample.to_str().unwrap()], data.path());
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stderr).is_empty(), "{}", text(&out.stderr));
    let files = logs(data.path());
    assert_eq!(files.len(), 1, "one log file: {files:?}");
    let (path, log) = &files[0];
    let name = path.file_name().unwrap().to_str().unwrap();
    assert!(
        name.starts_with("syncopate.")
            && name.ends_with(".log")
            && name.len() == "syncopate.2026-12-01.log".len(),
        "a dated file name: {name}"
    );
    assert!(
        log.contains("INFO") && log.contains("syncopate started"),
        "{log}"
    );
    assert!(
        log.contains("command finished") && log.contains("exit_code=0"),
        "{log}"
    );
    assert!(!log.contains("DEBUG"), "the default level is info:\n{log}");

    // A failing command: still one error line on the terminal; the log has the exit code.
    let missing = data.path().join("missing.syncopate");
    let out = syncopate_with_data(
        &["check", missing.to_str().unwrap(), "--log-level", "debug"],
        data.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr).lines().count(),
        1,
        "{}",
        text(&out.stderr)
    );
    let (_, log) = &logs(data.path())[0];
    assert!(log.contains("exit_code=1"), "{log}");
}

#[test]
fn log_level_off_writes_no_log_and_a_bad_level_is_a_usage_error() {
    let data = tempfile::tempdir().unwrap();
    let sample = samples()[0].clone();
    let out = syncopate_with_data(
        &["--log-level", "off", "check", sample.to_str().unwrap()],
        data.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(logs(data.path()).is_empty());
    let out = syncopate_with_data(&["--log-level", "loud", "check", "x"], data.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("possible values"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_file_to_open_and_a_subcommand_together_are_a_usage_error() {
    let sample = samples()[0].clone();
    let sample = sample.to_str().unwrap();
    let out = syncopate(&[sample, "check", sample]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("cannot be used with a subcommand"),
        "{}",
        text(&out.stderr)
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_ends_a_long_simulation_with_a_partial_report() {
    // payment-guarded at a rate that takes many seconds to simulate.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/payment-guarded.syncopate");
    let mut design: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    design["flows"][0]["rate_rps"] = serde_json::json!(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("busy.syncopate");
    std::fs::write(&file, design.to_string()).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_syncopate"))
        .args([
            "simulate",
            file.to_str().unwrap(),
            "--json",
            "--duration-s",
            "600",
            "--warmup-s",
            "0",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["partial"], true);
    let simulated = report["simulated_s"].as_f64().unwrap();
    assert!(simulated > 0.0 && simulated < 600.0, "{simulated}");
    assert!(report["flows"]["pay"]["started"].as_u64().unwrap() > 0);
    assert!(
        text(&out.stderr).contains("partial"),
        "{}",
        text(&out.stderr)
    );
    // A whole run says nothing of it.
    let whole = syncopate(&[
        "simulate",
        file.to_str().unwrap(),
        "--json",
        "--duration-s",
        "0.01",
        "--warmup-s",
        "0",
    ]);
    assert!(whole.status.success());
    assert!(!text(&whole.stdout).contains("partial"));
}
