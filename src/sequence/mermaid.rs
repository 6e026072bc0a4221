//! Mermaid `sequenceDiagram` text.

use std::fmt::Write;

use super::{Item, MessageKind, SequenceDiagram, one_line};
use crate::model::ServiceKind;

/// A Mermaid identifier for a participant: ids are `a-z0-9-`, and Mermaid reads `-` as part of arrows.
fn alias(id: &str) -> String {
    format!("p_{}", id.replace('-', "_"))
}

/// Text safe after a Mermaid `:`; `#` and `;` are written as entities, since Mermaid treats them specially.
fn text(raw: &str) -> String {
    one_line(raw).replace('#', "#35;").replace(';', "#59;")
}

/// The diagram as Mermaid text.
pub fn to_mermaid(diagram: &SequenceDiagram) -> String {
    let mut out = String::from("sequenceDiagram\n");
    let _ = writeln!(out, "    title {}", text(&diagram.title));
    for p in &diagram.participants {
        let keyword = if p.kind == ServiceKind::Client {
            "actor"
        } else {
            "participant"
        };
        let _ = writeln!(out, "    {keyword} {} as {}", alias(&p.id), text(&p.name));
    }
    write_items(&mut out, diagram, &diagram.items, 1);
    out
}

fn write_items(out: &mut String, diagram: &SequenceDiagram, items: &[Item], depth: usize) {
    let indent = "    ".repeat(depth);
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
                    MessageKind::Request => "->>",
                    MessageKind::Reply => "-->>",
                    MessageKind::Async => "-)",
                };
                let _ = writeln!(
                    out,
                    "{indent}{}{arrow}{}: {}",
                    id(*from),
                    id(*to),
                    text(label)
                );
            }
            Item::Note { over, text: note } => {
                let _ = writeln!(out, "{indent}Note right of {}: {}", id(*over), text(note));
            }
            Item::Par(branches) => {
                for (i, branch) in branches.iter().enumerate() {
                    let _ = writeln!(out, "{indent}{}", if i == 0 { "par" } else { "and" });
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
                let first = id(0);
                let last = id(diagram.participants.len() - 1);
                let span = if first == last {
                    first
                } else {
                    format!("{first},{last}")
                };
                let _ = writeln!(out, "{indent}Note over {span}: {}", text(label));
            }
        }
    }
}
