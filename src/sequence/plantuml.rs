//! PlantUML sequence diagrams.

use std::fmt::Write;

use super::{Item, MessageKind, SequenceDiagram, one_line};
use crate::model::ServiceKind;

fn alias(id: &str) -> String {
    format!("p_{}", id.replace('-', "_"))
}

/// Text safe inside a quoted PlantUML name or after `:`.
fn text(raw: &str) -> String {
    one_line(raw).replace('"', "'")
}

/// The diagram as PlantUML text.
pub fn to_plantuml(diagram: &SequenceDiagram) -> String {
    let mut out = String::from("@startuml\n");
    let _ = writeln!(out, "title {}", text(&diagram.title));
    for p in &diagram.participants {
        let keyword = match p.kind {
            ServiceKind::Client => "actor",
            ServiceKind::Database => "database",
            ServiceKind::Broker => "queue",
            ServiceKind::Gateway => "boundary",
            ServiceKind::Service | ServiceKind::External => "participant",
        };
        let _ = writeln!(out, "{keyword} \"{}\" as {}", text(&p.name), alias(&p.id));
    }
    write_items(&mut out, diagram, &diagram.items, 0);
    out.push_str("@enduml\n");
    out
}

fn write_items(out: &mut String, diagram: &SequenceDiagram, items: &[Item], depth: usize) {
    let indent = "  ".repeat(depth);
    let id = |i: usize| alias(&diagram.participants[i].id);
    for item in items {
        match item {
            Item::Message {
                from,
                to,
                kind,
                label,
                ..
            } => {
                let arrow = match kind {
                    MessageKind::Request => "->",
                    MessageKind::Reply => "-->",
                    MessageKind::Async => "->>",
                };
                let _ = writeln!(
                    out,
                    "{indent}{} {arrow} {} : {}",
                    id(*from),
                    id(*to),
                    text(label)
                );
            }
            Item::Note { over, text: note } => {
                let _ = writeln!(out, "{indent}note right of {} : {}", id(*over), text(note));
            }
            Item::Par(branches) => {
                for (i, branch) in branches.iter().enumerate() {
                    let _ = writeln!(out, "{indent}{}", if i == 0 { "par" } else { "else" });
                    write_items(out, diagram, branch, depth + 1);
                }
                let _ = writeln!(out, "{indent}end");
            }
            Item::Opt { label, items } => {
                let _ = writeln!(out, "{indent}opt {}", text(label));
                write_items(out, diagram, items, depth + 1);
                let _ = writeln!(out, "{indent}end");
            }
            Item::Frame { kind, label, items } => {
                let _ = writeln!(out, "{indent}{} {}", kind.keyword(), text(label));
                write_items(out, diagram, items, depth + 1);
                let _ = writeln!(out, "{indent}end");
            }
            Item::Divider(label) => {
                let _ = writeln!(out, "{indent}== {} ==", text(label));
            }
        }
    }
}
