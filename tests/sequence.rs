//! Sequence diagrams: golden files for every flow of every sample in all three formats, and their structure.

use std::path::Path;

use syncopate::model;
use syncopate::sequence::{self, Item, MessageKind};

fn samples() -> Vec<(String, model::Design)> {
    let mut paths: Vec<_> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("samples"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (name, model::load_file(&p).unwrap())
        })
        .collect()
}

#[test]
fn golden_mermaid_plantuml_and_svg_of_every_flow() {
    for (name, design) in samples() {
        for diagram in sequence::diagrams(&design) {
            let key = format!("{name}__{}", diagram.flow);
            insta::assert_snapshot!(format!("{key}.mmd"), sequence::to_mermaid(&diagram));
            insta::assert_snapshot!(format!("{key}.puml"), sequence::to_plantuml(&diagram));
            insta::assert_snapshot!(format!("{key}.svg"), sequence::to_svg(&diagram));
        }
    }
}

#[test]
fn every_svg_is_well_formed_xml() {
    for (name, design) in samples() {
        for diagram in sequence::diagrams(&design) {
            let svg = sequence::to_svg(&diagram);
            let document = roxmltree::Document::parse(&svg)
                .unwrap_or_else(|e| panic!("{name}/{}: {e}", diagram.flow));
            assert_eq!(document.root_element().tag_name().name(), "svg");
        }
    }
}

fn count(items: &[Item], predicate: &dyn Fn(&Item) -> bool) -> usize {
    items
        .iter()
        .map(|item| {
            let inner = match item {
                Item::Par(branches) => branches.iter().map(|b| count(b, predicate)).sum(),
                Item::Opt { items, .. } => count(items, predicate),
                _ => 0,
            };
            inner + usize::from(predicate(item))
        })
        .sum()
}

#[test]
fn parallel_calls_are_a_par_block_and_sync_calls_are_answered() {
    let design = samples()
        .into_iter()
        .find(|(n, _)| n == "parallel-orchestrator")
        .unwrap()
        .1;
    let diagram = sequence::diagram(&design, "home-screen").unwrap();
    assert_eq!(
        diagram.participants[0].id, "mobile-app",
        "the caller comes first"
    );
    let par = diagram.items.iter().find_map(|i| match i {
        Item::Par(branches) => Some(branches.len()),
        _ => None,
    });
    assert_eq!(par, Some(4));
    let requests = count(&diagram.items, &|i| {
        matches!(
            i,
            Item::Message {
                kind: MessageKind::Request,
                ..
            }
        )
    });
    let replies = count(&diagram.items, &|i| {
        matches!(
            i,
            Item::Message {
                kind: MessageKind::Reply,
                ..
            }
        )
    });
    assert_eq!(requests, replies);
    assert!(sequence::to_mermaid(&diagram).contains("\n    par\n"));
}

#[test]
fn async_work_is_shown_after_the_answer() {
    let design = samples()
        .into_iter()
        .find(|(n, _)| n == "ocr-pipeline")
        .unwrap()
        .1;
    let diagram = sequence::diagram(&design, "submit-document").unwrap();
    let divider = diagram
        .items
        .iter()
        .position(|i| matches!(i, Item::Divider(_)))
        .expect("a divider");
    let answer = diagram
        .items
        .iter()
        .position(|i| {
            matches!(
                i,
                Item::Message {
                    kind: MessageKind::Reply,
                    to: 0,
                    ..
                }
            )
        })
        .expect("the caller's answer");
    assert!(
        answer < divider,
        "the answer comes before the asynchronous work"
    );
    let mermaid = sequence::to_mermaid(&diagram);
    assert!(
        mermaid.contains("-)"),
        "async messages use open arrows: {mermaid}"
    );
    let plantuml = sequence::to_plantuml(&diagram);
    assert!(plantuml.starts_with("@startuml\n") && plantuml.ends_with("@enduml\n"));
}

#[test]
fn optional_calls_and_cycles() {
    let design = model::load_from_str(
        r#"{"type":"syncopate","version":1,"services":[{"id":"a"},{"id":"b"}],
            "edges":[{"from":"a","to":"b","mode":"sync","probability":0.25},{"from":"b","to":"a","mode":"sync"}],
            "flows":[{"id":"f","entry":"a","rate_rps":1}]}"#,
        "t",
    )
    .unwrap();
    let diagram = sequence::diagram(&design, "f").unwrap();
    let mermaid = sequence::to_mermaid(&diagram);
    assert!(mermaid.contains("opt p = 0.25"), "{mermaid}");
    assert!(mermaid.contains("stopped here (cycle)"), "{mermaid}");
}

#[test]
fn display_names_cannot_break_the_diagram_languages() {
    let design = model::load_from_str(
        r#"{"type":"syncopate","version":1,"services":[{"id":"a","name":"A; end\n#x <b>\"q\""},{"id":"b","name":"B & co"}],
            "edges":[{"from":"a","to":"b","mode":"sync"}],
            "flows":[{"id":"f","name":"Line\nbreak","entry":"a","rate_rps":1}]}"#,
        "t",
    )
    .unwrap();
    let diagram = sequence::diagram(&design, "f").unwrap();
    let mermaid = sequence::to_mermaid(&diagram);
    assert!(!mermaid.contains("A; end"), "{mermaid}");
    assert_eq!(mermaid.lines().filter(|l| l.contains("title")).count(), 1);
    roxmltree::Document::parse(&sequence::to_svg(&diagram)).unwrap();
    let plantuml = sequence::to_plantuml(&diagram);
    assert!(
        plantuml.contains("participant \"A; end #x <b>'q'\" as p_a"),
        "{plantuml}"
    );
}
