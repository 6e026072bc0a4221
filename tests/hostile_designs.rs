//! The catalogue of bad designs in `tests/hostile/` (wrong types, missing ids, dangling references, duplicate ids,
//! negative, NaN and huge numbers, a newer version, invalid UTF-8, truncated, empty, not an object), plus two made
//! at run time (a 100 MB file and JSON nested 100,000 deep): each gives exactly one clear error line from
//! `syncopate check` naming the file, where, and what was expected, within a second; the app shows the same line and
//! keeps the design it had.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Each file, and what its error must mention (where, and what).
const CATALOGUE: [(&str, &[&str]); 14] = [
    (
        "wrong-type",
        &["services[0].replicas", "invalid type", "whole number"],
    ),
    ("missing-id", &["services[0]", "missing field `id`"]),
    (
        "dangling-reference",
        &["edges[0].to", "unknown service \"ghost\""],
    ),
    (
        "duplicate-id",
        &["services[1].id", "duplicate service id \"api\""],
    ),
    ("negative-number", &["services[0].replicas", "-2"]),
    ("negative-rate", &["flows[0].rate_rps", "found -5"]),
    ("nan", &["not valid JSON", "line 1 column"]),
    ("huge-number", &["services[0].replicas", "1e+23"]),
    ("huge-rate", &["flows[0].rate_rps", "found 1e308"]),
    (
        "newer-version",
        &["version", "newer Syncopate", "version 7"],
    ),
    ("invalid-utf8", &["not UTF-8", "offset"]),
    ("truncated", &["not valid JSON", "EOF"]),
    ("empty", &["not valid JSON"]),
    ("not-an-object", &["expected a JSON object"]),
];

fn hostile(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/hostile")
        .join(format!("{name}.syncopate"))
}

/// Runs `syncopate check` on a file: exit code, stderr, and how long it took.
fn check(path: &Path) -> (Option<i32>, String, Duration) {
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_syncopate"))
        .arg("check")
        .arg(path)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        started.elapsed(),
    )
}

fn assert_one_clear_line(path: &Path, stderr: &str, mentions: &[&str]) {
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line for {}: {stderr}", path.display());
    let line = lines[0];
    assert!(line.starts_with("error: "), "{line}");
    assert!(
        line.contains(&path.display().to_string()),
        "names the file: {line}"
    );
    assert!(line.len() < 400, "short: {line}");
    for mention in mentions {
        assert!(line.contains(mention), "{line} should mention {mention}");
    }
}

#[test]
fn every_hostile_design_gets_one_clear_line_from_the_cli_within_a_second() {
    let on_disk = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile"))
        .unwrap()
        .count();
    assert_eq!(
        on_disk,
        CATALOGUE.len(),
        "every file of the catalogue is checked"
    );
    for (name, mentions) in CATALOGUE {
        let path = hostile(name);
        let (code, stderr, took) = check(&path);
        assert_eq!(code, Some(1), "{name}: {stderr}");
        assert_one_clear_line(&path, &stderr, mentions);
        assert!(took < Duration::from_secs(1), "{name} took {took:?}");
    }
}

#[test]
fn a_100_mb_file_and_json_nested_100_000_deep_are_refused_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.syncopate");
    {
        use std::io::Write;
        let mut file = std::io::BufWriter::new(std::fs::File::create(&big).unwrap());
        file.write_all(br#"{"type":"syncopate","version":1,"name":""#)
            .unwrap();
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..100 {
            file.write_all(&chunk).unwrap();
        }
        file.write_all(br#"","services":[]}"#).unwrap();
    }
    let (code, stderr, took) = check(&big);
    assert_eq!(code, Some(1), "{stderr}");
    assert_one_clear_line(&big, &stderr, &["MiB"]);
    assert!(took < Duration::from_secs(1), "took {took:?}");

    let deep = dir.path().join("deep.syncopate");
    let depth = 100_000;
    let text = format!(
        r#"{{"type":"syncopate","version":1,"name":"deep","services":[],"notes":{}{}}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    );
    std::fs::write(&deep, text).unwrap();
    let (code, stderr, took) = check(&deep);
    assert_eq!(code, Some(1), "{stderr}");
    assert_one_clear_line(&deep, &stderr, &[]);
    assert!(took < Duration::from_secs(1), "took {took:?}");
}
