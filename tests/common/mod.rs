//! Helpers shared by the integration tests that need outside programs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Whether `tool` is on the PATH. When it is not, the test skips with a message, unless `SYNCOPATE_REQUIRE_TOOLS`
/// is set (as `.ci/run` does, after installing every tool), where a missing tool fails the test.
#[allow(dead_code)] // Not every test that includes this module needs outside programs.
pub fn installed(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("SYNCOPATE_REQUIRE_TOOLS").is_none(),
            "{tool} is required (SYNCOPATE_REQUIRE_TOOLS is set) but was not found"
        );
        println!("skipped: {tool} is not installed");
    }
    found
}

/// The sample designs of `samples/`, sorted by path.
#[allow(dead_code)] // Not every test that includes this module reads the samples.
pub fn sample_paths() -> Vec<std::path::PathBuf> {
    let mut paths: Vec<std::path::PathBuf> =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/samples"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "syncopate"))
            .collect();
    paths.sort();
    paths
}

/// A design of an edge list (`caller -> callee : sync|async : protocol`, `#` comments; tests/layout/*.txt and
/// ../shared/real-world/edges), not laid out. Names become ids (lower case, other characters `-`, `s-` before one
/// that does not start with a letter); services named like databases are databases; each pair of ends is one call.
#[allow(dead_code)] // Not every test that includes this module reads edge lists.
pub fn design_from_edge_list(name: &str, text: &str) -> syncopate::model::Design {
    use syncopate::model::{CallMode, Design, Edge, Protocol, Service, ServiceKind};
    let mut design = Design::new(name);
    let id_of = |name: &str| -> String {
        let id: String = name
            .trim()
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect::<String>()
            .trim_matches('-')
            .to_owned();
        if id.starts_with(|c: char| c.is_ascii_lowercase()) {
            id
        } else {
            format!("s-{id}").trim_end_matches('-').to_owned()
        }
    };
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let Some((from, rest)) = line.split_once("->") else {
            continue;
        };
        let mut parts = rest.split(':').map(str::trim);
        let (from, to) = (id_of(from), id_of(parts.next().unwrap_or("")));
        let mode = if parts.next().is_some_and(|m| m == "async") {
            CallMode::Async
        } else {
            CallMode::Sync
        };
        for id in [&from, &to] {
            if design.service(id).is_none() {
                let mut service = Service::new(id.as_str());
                if ["mongo", "mysql", "db", "redis", "memcached"]
                    .iter()
                    .any(|s| id.ends_with(s))
                {
                    service.kind = ServiceKind::Database;
                }
                design.services.push(service);
            }
        }
        if design
            .edges
            .iter()
            .any(|e| e.from.as_str() == from && e.to.as_str() == to)
        {
            continue;
        }
        let mut edge = Edge::new(from.as_str(), to.as_str(), mode);
        edge.id = format!("e{}", design.edges.len()).into();
        edge.protocol = match parts.next().unwrap_or("") {
            "grpc" | "thrift" => Some(Protocol::Grpc),
            "amqp" => Some(Protocol::Amqp),
            "kafka" => Some(Protocol::Kafka),
            "tcp" | "mongodb" | "redis" | "memcached" => Some(Protocol::Tcp),
            _ => None,
        };
        design.edges.push(edge);
    }
    design
}

/// A program's exit status and output, for an assertion message.
#[allow(dead_code)] // Used by the tests of exported files.
pub fn report(what: &str, out: &Output) -> String {
    format!(
        "{what}: {}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Writes a broken copy of `file`: `from` replaced by `to` (which must change it).
#[allow(dead_code)] // Used by the tests of exported files.
pub fn broken_copy(file: &Path, from: &str, to: &str) -> PathBuf {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(
        text.contains(from),
        "{} has no {from:?} to break",
        file.display()
    );
    let broken = file.with_file_name(format!(
        "broken-{}",
        file.file_name().unwrap().to_string_lossy()
    ));
    std::fs::write(&broken, text.replacen(from, to, 1)).unwrap();
    broken
}

/// Runs a one-file validator on every file (each must pass), then on a copy of the first with `from` replaced by
/// `to` (which must fail), so the check is shown able to fail.
#[allow(dead_code)] // Used by the tests of exported files.
pub fn every_file_passes_and_a_broken_one_fails(
    files: &[PathBuf],
    (from, to): (&str, &str),
    validator: &str,
    run: impl Fn(&Path) -> Output,
) {
    for file in files {
        let out = run(file);
        assert!(
            out.status.success(),
            "{}",
            report(&file.display().to_string(), &out)
        );
    }
    let broken = broken_copy(&files[0], from, to);
    assert!(
        !run(&broken).status.success(),
        "{validator} accepted a file with {to:?} in place of {from:?}"
    );
}

/// The Python that has `modules` (the tests' venv in CI, `SYNCOPATE_PYTHON`), or `None` after saying the test
/// skipped (failing instead when tools are required). `package` is what to install.
#[allow(dead_code)] // Used by the tests of exported files.
pub fn python_with(modules: &str, package: &str) -> Option<String> {
    let python = std::env::var("SYNCOPATE_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let found = Command::new(&python)
        .args(["-c", &format!("import {modules}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("SYNCOPATE_REQUIRE_TOOLS").is_none(),
            "{package} is required (SYNCOPATE_REQUIRE_TOOLS is set) for {python}"
        );
        println!("skipped: {package} is not installed for {python}");
        return None;
    }
    Some(python)
}
