//! A design review on the canvas: what changed since the design compared with, drawn over the design. Added
//! services and calls are outlined green, changed ones orange; removed ones are drawn red and dashed where they
//! were, as ghosts; a legend says what is compared and that Escape leaves.

use std::collections::HashMap;

use super::*;
use crate::model::diff::DesignDiff;

/// How an item changed, for its outline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeMark {
    /// Only in the current design.
    Added,
    /// In both, with different fields.
    Changed,
}

/// Green of added items.
pub const ADDED_COLOR: Color32 = Color32::from_rgb(67, 160, 71);
/// Red of removed items' ghosts.
pub const REMOVED_COLOR: Color32 = Color32::from_rgb(229, 57, 53);
/// Orange of changed items.
pub const CHANGED_COLOR: Color32 = Color32::from_rgb(251, 140, 0);

impl ChangeMark {
    /// The mark's colour.
    pub fn color(self) -> Color32 {
        match self {
            ChangeMark::Added => ADDED_COLOR,
            ChangeMark::Changed => CHANGED_COLOR,
        }
    }
}

/// A removed service drawn where it was.
#[derive(Debug, Clone, PartialEq)]
pub struct GhostService {
    /// Its id in the design compared with.
    pub id: ServiceId,
    /// Its display name.
    pub name: String,
    /// Its centre, in canvas units.
    pub center: Pos2,
}

/// What the canvas draws of a comparison.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CompareMarks {
    /// What the design is compared with ("HEAD~1", a file name).
    pub label: String,
    /// Added and changed services of the current design.
    pub services: HashMap<ServiceId, ChangeMark>,
    /// Added and changed calls of the current design.
    pub edges: HashMap<EdgeId, ChangeMark>,
    /// Removed services.
    pub ghost_services: Vec<GhostService>,
    /// Removed calls, from and to (canvas units): the ends' current places, or their ghosts'.
    pub ghost_calls: Vec<(EdgeId, Pos2, Pos2)>,
}

impl CompareMarks {
    /// The marks of `diff`, the change from `old` to `current`.
    pub fn new(label: &str, diff: &DesignDiff, old: &Design, current: &Design) -> Self {
        let mut marks = Self {
            label: label.to_owned(),
            ..Self::default()
        };
        for id in &diff.services.added {
            marks.services.insert(id.as_str().into(), ChangeMark::Added);
        }
        for id in diff.services.changed.keys() {
            marks
                .services
                .insert(id.as_str().into(), ChangeMark::Changed);
        }
        for id in &diff.edges.added {
            marks.edges.insert(id.as_str().into(), ChangeMark::Added);
        }
        for id in diff.edges.changed.keys() {
            marks.edges.insert(id.as_str().into(), ChangeMark::Changed);
        }
        let center = |design: &Design, id: &str| {
            design
                .service(id)
                .and_then(|s| s.position)
                .map(|[x, y]| Pos2::new(x, y))
        };
        for id in &diff.services.removed {
            if let Some(service) = old.service(id)
                && let Some(at) = center(old, id)
            {
                marks.ghost_services.push(GhostService {
                    id: service.id.clone(),
                    name: service.display_name().to_owned(),
                    center: at,
                });
            }
        }
        for id in &diff.edges.removed {
            let Some(edge) = old.edge(id) else { continue };
            let end = |service: &ServiceId| {
                center(current, service.as_str()).or_else(|| center(old, service.as_str()))
            };
            if let (Some(from), Some(to)) = (end(&edge.from), end(&edge.to)) {
                marks.ghost_calls.push((edge.id.clone(), from, to));
            }
        }
        marks
    }
}

impl Canvas {
    /// Draws a comparison over the design from now on, or stops (`None`).
    pub fn set_compare(&mut self, marks: Option<CompareMarks>) {
        if self.compare != marks {
            self.compare = marks;
            // The outlines are part of the view graph's shapes.
            self.built_for_state = None;
        }
    }

    /// The comparison drawn now.
    pub fn compare_marks(&self) -> Option<&CompareMarks> {
        self.compare.as_ref()
    }

    /// Brings a removed service's or call's ghost to the centre of the view on the next frame.
    pub fn center_on_ghost(&mut self, subject: &Subject) {
        let Some(marks) = &self.compare else { return };
        let target = match subject {
            Subject::Service(id) => marks
                .ghost_services
                .iter()
                .find(|g| g.id.as_str() == id)
                .map(|g| g.center),
            Subject::Edge(id) => marks
                .ghost_calls
                .iter()
                .find(|(edge, _, _)| edge.as_str() == id)
                .map(|(_, from, to)| *from + (*to - *from) / 2.0),
            Subject::Flow(_) => None,
        };
        if target.is_some() {
            self.pending_center = target;
            self.auto_fit = false;
        }
    }

    /// Where a removed service's ghost is on screen, as of the last frame.
    pub fn ghost_screen_rect(&self, id: &str) -> Option<Rect> {
        let (rect, zoom, pan) = self.last_view?;
        let ghost = self
            .compare
            .as_ref()?
            .ghost_services
            .iter()
            .find(|g| g.id.as_str() == id)?;
        let center = rect.min + pan + ghost.center.to_vec2() * zoom;
        Some(Rect::from_center_size(
            center,
            Vec2::new(SERVICE_WIDTH, SERVICE_HEIGHT) * zoom,
        ))
    }

    /// The ghosts of removed services and calls, and the legend.
    pub(super) fn paint_compare(&self, ui: &egui::Ui, canvas: Rect) {
        let (Some(marks), Some((rect, zoom, pan))) = (&self.compare, self.last_view) else {
            return;
        };
        let painter = ui.painter_at(canvas);
        let to_screen = |p: Pos2| rect.min + pan + p.to_vec2() * zoom;
        let stroke = Stroke::new(2.0, REMOVED_COLOR);
        for (_, from, to) in &marks.ghost_calls {
            painter.extend(Shape::dashed_line(
                &[to_screen(*from), to_screen(*to)],
                stroke,
                8.0,
                5.0,
            ));
        }
        for ghost in &marks.ghost_services {
            let center = to_screen(ghost.center);
            let r = Rect::from_center_size(center, Vec2::new(SERVICE_WIDTH, SERVICE_HEIGHT) * zoom);
            painter.rect_filled(r, 6.0 * zoom, REMOVED_COLOR.gamma_multiply(0.12));
            let corners = [
                r.left_top(),
                r.right_top(),
                r.right_bottom(),
                r.left_bottom(),
                r.left_top(),
            ];
            painter.extend(Shape::dashed_line(&corners, stroke, 6.0, 4.0));
            if zoom >= 0.35 {
                let galley = painter.layout(
                    ghost.name.clone(),
                    FontId::proportional((12.0 * zoom).clamp(10.0, 22.0)),
                    REMOVED_COLOR,
                    r.width() - 6.0,
                );
                painter.galley(center - galley.size() / 2.0, galley, REMOVED_COLOR);
            }
        }
        paint_compare_legend(ui, canvas, &marks.label);
    }
}

/// The legend in the canvas' upper left corner: what is compared, the three colours, and how to leave.
fn paint_compare_legend(ui: &egui::Ui, canvas: Rect, label: &str) {
    let painter = ui.painter_at(canvas);
    let visuals = ui.visuals();
    let font = FontId::proportional(12.0);
    let title = painter.layout(
        format!("Compared with {label} (Esc leaves)"),
        font.clone(),
        visuals.strong_text_color(),
        canvas.width() - 24.0,
    );
    let keys = [
        ("added", ADDED_COLOR),
        ("removed", REMOVED_COLOR),
        ("changed", CHANGED_COLOR),
    ];
    let key_galleys: Vec<_> = keys
        .iter()
        .map(|(text, color)| {
            (
                painter.layout_no_wrap((*text).to_owned(), font.clone(), visuals.text_color()),
                *color,
            )
        })
        .collect();
    let keys_width: f32 = key_galleys.iter().map(|(g, _)| g.size().x + 26.0).sum();
    let size = Vec2::new(
        title.size().x.max(keys_width),
        title.size().y + 4.0 + key_galleys.first().map_or(0.0, |(g, _)| g.size().y),
    ) + Vec2::splat(12.0);
    let frame = Rect::from_min_size(canvas.left_top() + Vec2::new(8.0, 8.0), size);
    painter.rect_filled(frame, 4.0, visuals.extreme_bg_color.gamma_multiply(0.94));
    painter.rect_stroke(
        frame,
        4.0,
        Stroke::new(1.0, CHANGED_COLOR),
        StrokeKind::Inside,
    );
    let mut at = frame.min + Vec2::splat(6.0);
    let title_height = title.size().y;
    painter.galley(at, title, visuals.strong_text_color());
    at.y += title_height + 4.0;
    for (galley, color) in key_galleys {
        let swatch = Rect::from_min_size(
            at + Vec2::new(0.0, 3.0),
            Vec2::new(14.0, galley.size().y - 6.0),
        );
        painter.rect_filled(swatch, 2.0, color);
        let width = galley.size().x;
        painter.galley(at + Vec2::new(18.0, 0.0), galley, visuals.text_color());
        at.x += width + 26.0;
    }
}
