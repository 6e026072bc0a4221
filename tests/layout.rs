//! The tidy layout against Graphviz dot on the same graphs: real call graphs from ../shared/real-world (the edge
//! lists read from the projects' sources, and their compose files imported), TrainTicket's call graph read from its
//! sources, the samples, and generated designs of TrainTicket's size and larger. Crossings are counted the same way for both (straight segments between service
//! positions, `syncopate::model::layout::crossings`); ours must stay within 1.1x dot's + 2 on every graph,
//! and at most dot's on at least half of the real systems.
//!
//! `.ci/run` installs Graphviz and sets `SYNCOPATE_REQUIRE_TOOLS=1`, so in CI a missing `dot` fails this test;
//! elsewhere it says it skipped.

mod common;

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use syncopate::model::layout::{crossings, tidy_layout};
use syncopate::model::{Design, generate};

/// A design of an edge list (see `common::design_from_edge_list`).
fn from_edges(text: &str) -> Design {
    common::design_from_edge_list("edges", text)
}

/// Crossings of the same graph as Graphviz dot lays it out (rankdir LR, boxes the size of ours).
fn dot_crossings(dot: &Path, design: &Design) -> usize {
    let mut text = String::from(
        "digraph g { rankdir=LR; node [shape=box, width=1.6, height=0.6, fixedsize=true];\n",
    );
    for service in &design.services {
        text.push_str(&format!("\"{}\";\n", service.id));
    }
    for edge in &design.edges {
        text.push_str(&format!("\"{}\" -> \"{}\";\n", edge.from, edge.to));
    }
    text.push_str("}\n");
    let mut child = Command::new(dot)
        .arg("-Tplain")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        // dot warns that the ids do not fit the fixed boxes: irrelevant to where it puts them.
        .stderr(Stdio::null())
        .spawn()
        .expect("dot starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("dot reads");
    let output = child.wait_with_output().expect("dot runs");
    let plain = String::from_utf8_lossy(&output.stdout);
    let positions: HashMap<String, [f32; 2]> = plain
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            (words.next()? == "node").then_some(())?;
            let name = words.next()?.trim_matches('"').to_owned();
            let x: f32 = words.next()?.parse().ok()?;
            let y: f32 = words.next()?.parse().ok()?;
            Some((name, [x * 100.0, y * 100.0]))
        })
        .collect();
    let mut placed = design.clone();
    for service in &mut placed.services {
        service.position = positions.get(service.id.as_str()).copied();
    }
    crossings(&placed)
}

fn dot() -> Option<std::path::PathBuf> {
    common::installed("dot").then(|| std::path::PathBuf::from("dot"))
}

#[test]
fn the_tidy_layout_crosses_about_as_few_calls_as_graphviz_dot() {
    let Some(dot) = dot() else {
        return;
    };
    let mut graphs: Vec<(String, Design)> = Vec::new();
    let real_world = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/real-world");
    for entry in std::fs::read_dir(real_world.join("edges"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        graphs.push((
            entry.file_name().to_string_lossy().into_owned(),
            from_edges(&text),
        ));
    }
    for entry in std::fs::read_dir(real_world.join("compose"))
        .into_iter()
        .flatten()
        .flatten()
    {
        if let Ok(imported) =
            syncopate::import::import_file(syncopate::import::Source::Compose, &entry.path())
        {
            graphs.push((
                entry.file_name().to_string_lossy().into_owned(),
                imported.design,
            ));
        }
    }
    if graphs.is_empty() {
        println!("note: ../shared/real-world is not beside the checkout; real topologies left out");
    }
    for sample in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("samples"))
        .expect("samples")
        .flatten()
    {
        let design = syncopate::model::load_file(&sample.path()).expect("a sample loads");
        graphs.push((sample.file_name().to_string_lossy().into_owned(), design));
    }
    // Call graphs read from real systems' sources or imported from their compose files by us (tests/layout/*.txt,
    // each file says where from): TrainTicket, the OpenTelemetry demo, eShopOnContainers, DeathStarBench's media
    // service.
    let ours_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/layout");
    let mut files: Vec<_> = std::fs::read_dir(&ours_dir)
        .expect("tests/layout")
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("an edge list");
        graphs.push((
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            from_edges(&text),
        ));
    }
    graphs.push((
        "generated 69/157".into(),
        generate::layered_design(69, 157, 7),
    ));
    graphs.push((
        "generated 140/320".into(),
        generate::layered_design(140, 320, 11),
    ));
    let mut failures = Vec::new();
    let (mut real, mut real_at_most_dot) = (0, 0);
    println!("{:36} {:>6} {:>6} {:>6}", "graph", "calls", "ours", "dot");
    for (name, mut design) in graphs {
        let theirs = dot_crossings(&dot, &design);
        tidy_layout(&mut design);
        let ours = crossings(&design);
        println!("{name:36} {:>6} {ours:>6} {theirs:>6}", design.edges.len());
        if ours as f64 > 1.1 * theirs as f64 + 2.0 {
            failures.push(format!("{name}: {ours} crossings, dot {theirs}"));
        }
        // The real systems (not the samples, not the generated graphs): at least half drawn with no more crossings
        // than dot draws them with.
        if !name.ends_with(".syncopate") && !name.starts_with("generated") {
            real += 1;
            real_at_most_dot += usize::from(ours <= theirs);
        }
    }
    println!("{real_at_most_dot} of {real} real systems with at most dot's crossings");
    assert!(failures.is_empty(), "more crossings than dot: {failures:?}");
    assert!(
        2 * real_at_most_dot >= real,
        "only {real_at_most_dot} of {real} real systems with at most dot's crossings"
    );
}
