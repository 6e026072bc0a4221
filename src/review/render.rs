//! A review as text for a terminal and as Markdown for a pull-request comment (under [`MARKDOWN_MAX_CHARS`] however
//! large the change: long lists are cut with a count of what was left out).

use std::fmt::Write as _;

use serde_json::Value;

use super::{Pair, Review};
use crate::model::diff::{FieldChange, ItemChanges};
use crate::rules::Finding;

/// Longest Markdown comment written; GitHub refuses comments over 65,536 characters.
pub const MARKDOWN_MAX_CHARS: usize = 65_000;

/// Longest value shown in a table cell or line before it is cut with "…".
const MAX_VALUE_CHARS: usize = 60;

/// The kinds of items, their JSON key and how one is named in sentences.
fn sections(review: &Review) -> [(&'static str, &'static str, &ItemChanges); 4] {
    [
        ("service", "services", &review.structure.services),
        ("call", "calls", &review.structure.edges),
        ("flow", "flows", &review.structure.flows),
        ("fault", "faults", &review.structure.faults),
    ]
}

/// A JSON value, compact and cut to [`MAX_VALUE_CHARS`].
fn value(value: &Value) -> String {
    let text = match value {
        Value::Null => "none".to_owned(),
        Value::String(s) => format!("\"{s}\""),
        other => other.to_string(),
    };
    cut(&text, MAX_VALUE_CHARS)
}

fn cut(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        text.to_owned()
    } else {
        let mut short: String = text.chars().take(max_chars - 1).collect();
        short.push('…');
        short
    }
}

/// One changed field: `path old → new`.
fn field(path: &str, change: &FieldChange) -> String {
    format!("{path} {} → {}", value(&change[0]), value(&change[1]))
}

/// `a → b` with the relative change, for a measure with a unit, and whether it changed at the precision shown.
fn pair(pair: &Pair, unit: &str, scale: f64, decimals: usize) -> (String, bool) {
    let show = |v: Option<f64>| match v {
        Some(v) => format!("{:.*}{unit}", decimals, v * scale),
        None => "–".to_owned(),
    };
    let (old, new) = (show(pair[0]), show(pair[1]));
    let changed = old != new;
    let mut text = format!("{old} → {new}");
    if let [Some(a), Some(b)] = pair
        && changed
    {
        if a.abs() > 1e-12 {
            let pct = (b - a) / a.abs() * 100.0;
            let arrow = if pct > 0.0 { "▲" } else { "▼" };
            let _ = write!(text, " {arrow} {pct:+.0}%");
        } else {
            text.push_str(" ▲");
        }
    }
    (text, changed)
}

/// A measure as shown, whether or not it changed.
fn shown(p: &Pair, unit: &str, scale: f64, decimals: usize) -> String {
    pair(p, unit, scale, decimals).0
}

fn count(n: usize, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

fn finding_line(finding: &Finding) -> String {
    format!(
        "{}[{}] {}",
        finding.severity.as_str(),
        finding.rule,
        finding.message
    )
}

/// The review as text for a terminal.
pub fn text(review: &Review) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} → {}", review.old, review.new);
    if review.same {
        let _ = writeln!(out, "The designs are the same.");
        return out;
    }
    for (one, _, changes) in sections(review) {
        if changes.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "{}: {} added, {} removed, {} changed",
            plural(one),
            changes.added.len(),
            changes.removed.len(),
            changes.changed.len()
        );
        for id in &changes.added {
            let _ = writeln!(out, "  + {id}");
        }
        for id in &changes.removed {
            let _ = writeln!(out, "  - {id}");
        }
        for (id, fields) in &changes.changed {
            let list: Vec<String> = fields.iter().map(|(p, c)| field(p, c)).collect();
            let _ = writeln!(out, "  ~ {id}: {}", list.join("; "));
        }
    }
    if !review.structure.settings.changed.is_empty() {
        let list: Vec<String> = review
            .structure
            .settings
            .changed
            .iter()
            .map(|(p, c)| field(p, c))
            .collect();
        let _ = writeln!(out, "settings: {}", list.join("; "));
    }
    let findings = &review.findings;
    let _ = writeln!(
        out,
        "findings: {} added, {} resolved",
        findings.added.len(),
        findings.resolved.len()
    );
    for finding in &findings.added {
        let _ = writeln!(out, "  + {}", finding_line(finding));
    }
    for finding in &findings.resolved {
        let _ = writeln!(out, "  ✓ resolved: {}", finding_line(finding));
    }
    let flows = changed_flow_estimates(review);
    let services = changed_service_estimates(review);
    if !flows.is_empty() || !services.is_empty() {
        let _ = writeln!(out, "estimated (static analysis):");
        for (id, p99, mean) in &flows {
            let _ = writeln!(out, "  flow {id}: p99 {p99}, mean {mean}");
        }
        for (id, load, utilization) in &services {
            let _ = writeln!(
                out,
                "  service {id}: load {load}, utilization {utilization}"
            );
        }
    }
    if let (Some(simulated), Some(with)) = (&review.simulated, &review.simulated_with) {
        let _ = writeln!(
            out,
            "simulated (both sides: seed {}, {} s):",
            with.seed, with.duration_s
        );
        for (id, flow) in simulated {
            let _ = writeln!(
                out,
                "  {id}: goodput {}, p99 {}, errors {}, settled p99 {}",
                shown(&flow.goodput_rps, " rps", 1.0, 1),
                shown(&flow.p99_ms, " ms", 1.0, 0),
                shown(&flow.error_rate, "%", 100.0, 2),
                shown(&flow.settle_p99_ms, " ms", 1.0, 0)
            );
        }
    }
    out
}

fn plural(one: &str) -> String {
    format!("{one}s")
}

type Row = (String, String, String);

fn changed_flow_estimates(review: &Review) -> Vec<Row> {
    review
        .analysis
        .flows
        .iter()
        .filter_map(|(id, f)| {
            let (p99, a) = pair(&f.estimated_p99_ms, " ms", 1.0, 0);
            let (mean, b) = pair(&f.estimated_mean_ms, " ms", 1.0, 0);
            (a || b).then(|| (id.clone(), p99, mean))
        })
        .collect()
}

fn changed_service_estimates(review: &Review) -> Vec<Row> {
    review
        .analysis
        .services
        .iter()
        .filter_map(|(id, s)| {
            let (load, a) = pair(&s.load_rps, " rps", 1.0, 1);
            let (utilization, b) = pair(&s.utilization, "%", 100.0, 1);
            (a || b).then(|| (id.clone(), load, utilization))
        })
        .collect()
}

/// Text made inert in Markdown: no markup, links, HTML or table breaks from names in the design.
fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '~' | '!' | '(' | ')' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// The review as a Markdown comment for a pull request, under [`MARKDOWN_MAX_CHARS`].
pub fn markdown(review: &Review) -> String {
    // Fewer rows per table until it fits; the last try lists none, only counts.
    for max_rows in [200, 100, 50, 20, 5, 0] {
        let text = markdown_with(review, max_rows);
        if text.chars().count() <= MARKDOWN_MAX_CHARS {
            return text;
        }
    }
    cut(&markdown_with(review, 0), MARKDOWN_MAX_CHARS)
}

/// Appends up to `max_rows` rows, then a line saying how many were left out.
fn rows(out: &mut String, all: Vec<String>, max_rows: usize) {
    let total = all.len();
    for row in all.into_iter().take(max_rows) {
        out.push_str(&row);
        out.push('\n');
    }
    if total > max_rows {
        let _ = writeln!(
            out,
            "\n_… and {} more (`syncopate diff --json` lists all)._",
            total - max_rows
        );
    }
}

fn markdown_with(review: &Review, max_rows: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### Syncopate design review\n");
    let _ = writeln!(out, "{} → {}\n", md(&review.old), md(&review.new));
    if review.same {
        let _ = writeln!(out, "No change to the design.");
        return out;
    }
    let mut summary = Vec::new();
    for (one, _, changes) in sections(review) {
        for (n, what) in [
            (changes.added.len(), "added"),
            (changes.removed.len(), "removed"),
            (changes.changed.len(), "changed"),
        ] {
            if n > 0 {
                summary.push(format!("{} {what}", count(n, one)));
            }
        }
    }
    if !review.structure.settings.changed.is_empty() {
        summary.push("settings changed".to_owned());
    }
    let _ = writeln!(out, "**Structure:** {}\n", summary.join(", "));
    let mut table = Vec::new();
    for (one, _, changes) in sections(review) {
        for id in &changes.added {
            table.push(format!("| ➕ | {one} {} | added |", md(id)));
        }
        for id in &changes.removed {
            table.push(format!("| ➖ | {one} {} | removed |", md(id)));
        }
        for (id, fields) in &changes.changed {
            let list: Vec<String> = fields.iter().map(|(p, c)| md(&field(p, c))).collect();
            table.push(format!(
                "| ✏️ | {one} {} | {} |",
                md(id),
                cut(&list.join("; "), 400)
            ));
        }
    }
    for (path, change) in &review.structure.settings.changed {
        table.push(format!("| ✏️ | setting | {} |", md(&field(path, change))));
    }
    if !table.is_empty() {
        let _ = writeln!(out, "| | Item | Change |\n|---|---|---|");
        rows(&mut out, table, max_rows);
        out.push('\n');
    }
    let findings = &review.findings;
    let _ = writeln!(
        out,
        "**Findings:** {} added, {} resolved\n",
        findings.added.len(),
        findings.resolved.len()
    );
    let lines: Vec<String> = findings
        .added
        .iter()
        .map(|f| format!("- 🆕 {}", md(&cut(&finding_line(f), 300))))
        .chain(
            findings
                .resolved
                .iter()
                .map(|f| format!("- ✅ resolved: {}", md(&cut(&finding_line(f), 300)))),
        )
        .collect();
    if !lines.is_empty() {
        rows(&mut out, lines, max_rows);
        out.push('\n');
    }
    let flows = changed_flow_estimates(review);
    let services = changed_service_estimates(review);
    if !flows.is_empty() || !services.is_empty() {
        let _ = writeln!(out, "**Estimated** (static analysis, before → after)\n");
        let _ = writeln!(out, "| | p99 / load | mean / utilization |\n|---|---|---|");
        let table: Vec<String> = flows
            .iter()
            .map(|(id, a, b)| format!("| flow {} | {a} | {b} |", md(id)))
            .chain(
                services
                    .iter()
                    .map(|(id, a, b)| format!("| service {} | {a} | {b} |", md(id))),
            )
            .collect();
        rows(&mut out, table, max_rows);
        out.push('\n');
    }
    if let (Some(simulated), Some(with)) = (&review.simulated, &review.simulated_with) {
        let _ = writeln!(
            out,
            "**Simulated** (both sides: seed {}, {} s)\n",
            with.seed, with.duration_s
        );
        let _ = writeln!(
            out,
            "| Flow | goodput | p99 | errors | settled p99 |\n|---|---|---|---|---|"
        );
        let table: Vec<String> = simulated
            .iter()
            .map(|(id, f)| {
                format!(
                    "| {} | {} | {} | {} | {} |",
                    md(id),
                    shown(&f.goodput_rps, " rps", 1.0, 1),
                    shown(&f.p99_ms, " ms", 1.0, 0),
                    shown(&f.error_rate, "%", 100.0, 2),
                    shown(&f.settle_p99_ms, " ms", 1.0, 0)
                )
            })
            .collect();
        rows(&mut out, table, max_rows);
    }
    out
}
