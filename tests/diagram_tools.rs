//! The generated Mermaid and PlantUML render in the real tools: the Mermaid CLI (on Debian's Chromium) and Debian's
//! PlantUML. `.ci/run` installs both and sets `SYNCOPATE_REQUIRE_TOOLS=1`, so in CI a missing tool fails the test;
//! elsewhere the test says it skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

use syncopate::{model, sequence};

fn require_tools() -> bool {
    std::env::var_os("SYNCOPATE_REQUIRE_TOOLS").is_some()
}

fn tool(env: &str, name: &str) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(env) {
        return Some(PathBuf::from(path));
    }
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .ok()?;
    let path = String::from_utf8_lossy(&found.stdout).trim().to_owned();
    (!path.is_empty()).then(|| PathBuf::from(path))
}

fn skip_or_fail(what: &str) {
    assert!(
        !require_tools(),
        "{what} is required (SYNCOPATE_REQUIRE_TOOLS is set) but was not found"
    );
    println!("skipped: {what} is not installed");
}

fn all_diagrams() -> Vec<(String, sequence::SequenceDiagram)> {
    let mut out = Vec::new();
    let mut paths: Vec<_> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("samples"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
    paths.sort();
    for path in paths {
        let design = model::load_file(&path).unwrap();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        for diagram in sequence::diagrams(&design) {
            out.push((format!("{name}__{}", diagram.flow), diagram));
        }
    }
    out
}

/// Renders Mermaid text files with the Mermaid CLI; true when every one rendered.
fn mermaid_renders(mmdc: &Path, files: &[PathBuf], dir: &Path) -> bool {
    let config = dir.join("puppeteer.json");
    std::fs::write(
        &config,
        r#"{"executablePath": "/usr/bin/chromium", "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]}"#,
    )
    .unwrap();
    files.iter().all(|file| {
        let out = Command::new(mmdc)
            .arg("-q")
            .arg("-p")
            .arg(&config)
            .arg("-i")
            .arg(file)
            .arg("-o")
            .arg(file.with_extension("svg"))
            .output()
            .expect("mmdc runs");
        if !out.status.success() {
            println!(
                "{}: {}",
                file.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        out.status.success()
    })
}

/// Checks PlantUML files with Debian's plantuml; true when every one is valid.
fn plantuml_accepts(plantuml: &Path, files: &[PathBuf]) -> bool {
    let out = Command::new(plantuml)
        .args(["-checkonly", "-failfast2"])
        .args(files)
        .output()
        .expect("plantuml runs");
    if !out.status.success() {
        println!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out.status.success()
}

#[test]
fn every_mermaid_diagram_renders_in_the_mermaid_cli() {
    let Some(mmdc) = tool("SYNCOPATE_MMDC", "mmdc") else {
        return skip_or_fail("the Mermaid CLI (mmdc)");
    };
    let dir = tempfile::tempdir().unwrap();
    // One file holding every diagram keeps it to one browser start per file; the files are few.
    let files: Vec<PathBuf> = all_diagrams()
        .into_iter()
        .map(|(key, diagram)| {
            let file = dir.path().join(format!("{key}.mmd"));
            std::fs::write(&file, sequence::to_mermaid(&diagram)).unwrap();
            file
        })
        .collect();
    assert!(mermaid_renders(&mmdc, &files, dir.path()));
    // The check can fail: a broken diagram is rejected.
    let broken = dir.path().join("broken.mmd");
    std::fs::write(
        &broken,
        "sequenceDiagram\n    par\n    a->>b: unterminated block\n    end\n    end\n",
    )
    .unwrap();
    assert!(
        !mermaid_renders(&mmdc, &[broken], dir.path()),
        "a broken Mermaid diagram must fail"
    );
}

#[test]
fn every_plantuml_diagram_is_valid_for_plantuml() {
    let Some(plantuml) = tool("SYNCOPATE_PLANTUML", "plantuml") else {
        return skip_or_fail("plantuml");
    };
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<PathBuf> = all_diagrams()
        .into_iter()
        .map(|(key, diagram)| {
            let file = dir.path().join(format!("{key}.puml"));
            std::fs::write(&file, sequence::to_plantuml(&diagram)).unwrap();
            file
        })
        .collect();
    assert!(plantuml_accepts(&plantuml, &files));
    let broken = dir.path().join("broken.puml");
    std::fs::write(
        &broken,
        "@startuml\na -> b : ok\nend\nthis is not plantuml ->->\n@enduml\n",
    )
    .unwrap();
    assert!(
        !plantuml_accepts(&plantuml, &[broken]),
        "a broken PlantUML diagram must fail"
    );
}
