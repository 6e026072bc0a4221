//! A standalone SVG drawing of a sequence diagram, laid out here (no browser needed).

use std::fmt::Write;

use super::{Item, MessageKind, SequenceDiagram};

const COLUMN: f64 = 170.0;
const MARGIN: f64 = 30.0;
const HEAD: f64 = 40.0;
const ROW: f64 = 34.0;
const FRAME_PAD: f64 = 8.0;

/// Escapes text for XML content and attributes.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in super::one_line(text).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

fn x_of(participant: usize) -> f64 {
    MARGIN + COLUMN / 2.0 + participant as f64 * COLUMN
}

struct Layout {
    body: String,
    y: f64,
    width: f64,
}

/// The diagram as an SVG document.
pub fn to_svg(diagram: &SequenceDiagram) -> String {
    let width = MARGIN * 2.0 + COLUMN * diagram.participants.len().max(1) as f64;
    let mut layout = Layout {
        body: String::new(),
        y: MARGIN + HEAD + 30.0,
        width,
    };
    draw_items(&mut layout, &diagram.items, 0);
    let width = layout.width;
    let height = layout.y + HEAD + MARGIN;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        out,
        r#"<text x="{:.0}" y="{:.0}" font-size="15" font-weight="bold" text-anchor="middle">{}</text>"#,
        width / 2.0,
        MARGIN,
        xml(&diagram.title)
    );
    let bottom = height - MARGIN - HEAD;
    for (i, p) in diagram.participants.iter().enumerate() {
        let x = x_of(i);
        let _ = writeln!(
            out,
            r##"<line x1="{x:.0}" y1="{:.0}" x2="{x:.0}" y2="{bottom:.0}" stroke="#999" stroke-dasharray="4 4"/>"##,
            MARGIN + 10.0 + HEAD
        );
        for top in [MARGIN + 10.0, bottom] {
            let _ = writeln!(
                out,
                r##"<rect x="{:.0}" y="{top:.0}" width="{:.0}" height="{HEAD:.0}" rx="6" fill="#eef3fb" stroke="#4a6fa5"/><text x="{x:.0}" y="{:.0}" text-anchor="middle">{}</text>"##,
                x - COLUMN / 2.0 + 10.0,
                COLUMN - 20.0,
                top + HEAD / 2.0 + 4.0,
                xml(&p.name)
            );
        }
    }
    out.push_str(&layout.body);
    out.push_str("</svg>\n");
    out
}

/// The leftmost and rightmost participants an item list touches.
fn span(items: &[Item]) -> Option<(usize, usize)> {
    let mut range: Option<(usize, usize)> = None;
    let mut take = |i: usize| {
        range = Some(match range {
            None => (i, i),
            Some((a, b)) => (a.min(i), b.max(i)),
        });
    };
    for item in items {
        match item {
            Item::Message { from, to, .. } => {
                take(*from);
                take(*to);
            }
            Item::Note { over, .. } => take(*over),
            Item::Par(branches) => {
                for branch in branches {
                    if let Some((a, b)) = span(branch) {
                        take(a);
                        take(b);
                    }
                }
            }
            Item::Opt { items, .. } | Item::Frame { items, .. } => {
                if let Some((a, b)) = span(items) {
                    take(a);
                    take(b);
                }
            }
            Item::Divider(_) => {}
        }
    }
    range
}

/// Items inside a titled frame, `title_room` below the frame's top.
fn framed(layout: &mut Layout, title: &str, items: &[Item], depth: usize, title_room: f64) {
    let top = layout.y - 18.0;
    layout.y += title_room;
    draw_items(layout, items, depth + 1);
    draw_frame(layout, title, items, top, layout.y - 14.0, depth);
    layout.y += 8.0;
}

fn draw_frame(
    layout: &mut Layout,
    label: &str,
    items: &[Item],
    top: f64,
    bottom: f64,
    depth: usize,
) {
    let (a, b) = span(items).unwrap_or((0, 0));
    let inset = FRAME_PAD * depth as f64;
    let left = x_of(a) - COLUMN / 2.0 + 6.0 + inset;
    let right = x_of(b) + COLUMN / 2.0 - 6.0 - inset;
    let _ = writeln!(
        layout.body,
        r##"<rect x="{left:.0}" y="{top:.0}" width="{:.0}" height="{:.0}" fill="none" stroke="#777"/><text x="{:.0}" y="{:.0}" font-weight="bold">{}</text>"##,
        right - left,
        bottom - top,
        left + 4.0,
        top + 13.0,
        xml(label)
    );
}

fn draw_items(layout: &mut Layout, items: &[Item], depth: usize) {
    for item in items {
        match item {
            Item::Message {
                from,
                to,
                kind,
                label,
                ..
            } => {
                let (x1, x2) = (x_of(*from), x_of(*to));
                let y = layout.y;
                let dash = if *kind == MessageKind::Reply {
                    r#" stroke-dasharray="6 4""#
                } else {
                    ""
                };
                let _ = writeln!(
                    layout.body,
                    r##"<line x1="{x1:.0}" y1="{y:.0}" x2="{x2:.0}" y2="{y:.0}" stroke="#333"{dash}/><text x="{:.0}" y="{:.0}" text-anchor="middle">{}</text>"##,
                    (x1 + x2) / 2.0,
                    y - 5.0,
                    xml(label)
                );
                // Arrowheads are drawn as shapes: sync requests filled, replies and async messages open.
                let back = if x2 >= x1 { -10.0 } else { 10.0 };
                let points = format!(
                    "{:.0},{:.0} {x2:.0},{y:.0} {:.0},{:.0}",
                    x2 + back,
                    y - 5.0,
                    x2 + back,
                    y + 5.0
                );
                let _ = match kind {
                    MessageKind::Request => {
                        writeln!(layout.body, r##"<polygon points="{points}" fill="#333"/>"##)
                    }
                    MessageKind::Reply | MessageKind::Async => {
                        writeln!(
                            layout.body,
                            r##"<polyline points="{points}" fill="none" stroke="#333"/>"##
                        )
                    }
                };
                layout.y += ROW;
            }
            Item::Note { over, text } => {
                let x = x_of(*over) + 8.0;
                let y = layout.y - 12.0;
                let note_width = text.chars().count() as f64 * 6.4 + 12.0;
                // Long notes widen the drawing instead of running off its edge.
                layout.width = layout.width.max(x + note_width + MARGIN);
                let _ = writeln!(
                    layout.body,
                    r##"<rect x="{x:.0}" y="{y:.0}" width="{:.0}" height="20" fill="#fff8c4" stroke="#c8b560"/><text x="{:.0}" y="{:.0}" font-size="11">{}</text>"##,
                    note_width,
                    x + 5.0,
                    y + 14.0,
                    xml(text)
                );
                layout.y += ROW - 6.0;
            }
            Item::Par(branches) => {
                let top = layout.y - 18.0;
                layout.y += 10.0;
                let (a, b) = span(std::slice::from_ref(item)).unwrap_or((0, 0));
                let inset = FRAME_PAD * depth as f64;
                for (i, branch) in branches.iter().enumerate() {
                    if i > 0 {
                        let _ = writeln!(
                            layout.body,
                            r##"<line x1="{:.0}" y1="{:.0}" x2="{:.0}" y2="{:.0}" stroke="#777" stroke-dasharray="3 3"/>"##,
                            x_of(a) - COLUMN / 2.0 + 6.0 + inset,
                            layout.y - 20.0,
                            x_of(b) + COLUMN / 2.0 - 6.0 - inset,
                            layout.y - 20.0
                        );
                    }
                    draw_items(layout, branch, depth + 1);
                }
                draw_frame(
                    layout,
                    "par",
                    std::slice::from_ref(item),
                    top,
                    layout.y - 14.0,
                    depth,
                );
                layout.y += 8.0;
            }
            Item::Opt { label, items } => {
                framed(layout, &format!("opt [{label}]"), items, depth, 10.0);
            }
            Item::Frame { kind, label, items } => {
                // Room under the title, so it never sits on the first message's label.
                framed(
                    layout,
                    &format!("{} [{label}]", kind.keyword()),
                    items,
                    depth,
                    24.0,
                );
            }
            Item::Divider(label) => {
                let y = layout.y;
                let _ = writeln!(
                    layout.body,
                    r##"<line x1="{:.0}" y1="{y:.0}" x2="{:.0}" y2="{y:.0}" stroke="#4a6fa5" stroke-width="2" stroke-dasharray="8 4"/><text x="{:.0}" y="{:.0}" text-anchor="middle" fill="#4a6fa5" font-style="italic">{}</text>"##,
                    MARGIN,
                    layout.width - MARGIN,
                    layout.width / 2.0,
                    y - 6.0,
                    xml(label)
                );
                layout.y += ROW;
            }
        }
    }
}
