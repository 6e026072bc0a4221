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
