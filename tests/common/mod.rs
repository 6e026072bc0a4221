//! Helpers shared by the integration tests that need outside programs.

use std::process::Command;

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
