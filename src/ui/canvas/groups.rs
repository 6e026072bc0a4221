//! Groups on the canvas: a labelled box behind each group's services, and collapsed groups drawn as one box whose
//! calls are the group's calls in and out (merged per pair of ends), with the members' live numbers summed.

use super::*;

/// Node payloads of collapsed groups start with this; service ids are DNS labels and never contain `:`.
const GROUP_NODE_PREFIX: &str = "group:";

/// Room between a group's box and its services, in canvas units.
const GROUP_PADDING: f32 = 18.0;
/// Height of a group box's title band, in canvas units.
const GROUP_TITLE_HEIGHT: f32 = 24.0;
/// The smallest title, in px: a group's name stays readable with a whole large design in view.
const MIN_TITLE_SIZE: f32 = 10.0;

/// Where a group's title goes on screen: the band at the top of its box, or, zoomed out so far that the band is
/// lower than a title, just above the box.
fn title_band(rect: Rect, zoom: f32) -> Rect {
    let band = GROUP_TITLE_HEIGHT * zoom;
    let needed = MIN_TITLE_SIZE + 6.0;
    if band >= needed {
        Rect::from_min_max(rect.min, Pos2::new(rect.max.x, rect.min.y + band))
    } else {
        Rect::from_min_max(
            Pos2::new(rect.min.x, rect.min.y - needed),
            Pos2::new(rect.max.x, rect.min.y),
        )
    }
}

/// The view graph node id of a collapsed group.
pub(super) fn group_node_id(group: &str) -> ServiceId {
    ServiceId::new(format!("{GROUP_NODE_PREFIX}{group}"))
}

/// The group a view graph node stands for, when it is a collapsed group.
pub fn collapsed_group_of(node: &ServiceId) -> Option<&str> {
    node.as_str().strip_prefix(GROUP_NODE_PREFIX)
}

/// A collapsed group's node: its members with the weight (workers) each has in the group's utilization.
#[derive(Debug, Clone, Default)]
pub(super) struct GroupNode {
    pub(super) members: Vec<(ServiceId, f64)>,
}

/// A group box as drawn this frame: its group, its canvas rectangle (title band included), whether every member is
/// dimmed.
pub(super) struct GroupBox {
    pub(super) group: String,
    pub(super) rect: Rect,
    pub(super) dimmed: bool,
}

impl Canvas {
    /// Collapses a group into one box, or expands it again.
    pub fn toggle_group(&mut self, group: &str) {
        if !self.collapsed.remove(group) {
            self.collapsed.insert(group.to_owned());
        }
    }

    /// The ids of the nodes drawn now: services, and `group:<name>` for each collapsed group (for tests and
    /// tooling), sorted.
    pub fn drawn_nodes(&self) -> Vec<String> {
        let mut nodes: Vec<String> = self
            .graph
            .nodes_iter()
            .map(|(_, node)| node.payload().to_string())
            .collect();
        nodes.sort();
        nodes
    }

    /// The calls drawn now, each as the ids of the design's calls it stands for (several for a collapsed group's
    /// merged calls), sorted (for tests and tooling).
    pub fn drawn_calls(&self) -> Vec<Vec<String>> {
        let mut calls: Vec<Vec<String>> = self
            .graph
            .edges_iter()
            .map(|(index, edge)| {
                self.merged_edges.get(&index).map_or_else(
                    || vec![edge.payload().to_string()],
                    |ids| ids.iter().map(ToString::to_string).collect(),
                )
            })
            .collect();
        calls.sort();
        calls
    }

    /// The boxes of the expanded groups, around their services where they are drawn now (so a box follows a
    /// dragged service), in group order.
    pub(super) fn group_boxes(&self, design: &Design) -> Vec<GroupBox> {
        let mut boxes: Vec<GroupBox> = Vec::new();
        for group in design.groups() {
            if self.collapsed.contains(group) {
                continue;
            }
            let mut rect = Rect::NOTHING;
            let mut dimmed = true;
            for service in design
                .services
                .iter()
                .filter(|s| s.group.as_deref() == Some(group))
            {
                let Some(node) = self
                    .nodes
                    .get(&service.id)
                    .and_then(|index| self.graph.node(*index))
                else {
                    continue;
                };
                rect = rect.union(Rect::from_center_size(
                    node.location(),
                    Vec2::new(SERVICE_WIDTH, SERVICE_HEIGHT),
                ));
                dimmed &= node.display().dimmed;
            }
            if rect.is_positive() {
                let mut rect = rect.expand(GROUP_PADDING);
                rect.min.y -= GROUP_TITLE_HEIGHT;
                boxes.push(GroupBox {
                    group: group.to_owned(),
                    rect,
                    dimmed,
                });
            }
        }
        boxes
    }

    /// Each expanded group's box and title band on screen, as of the last frame.
    fn group_boxes_on_screen(&self, design: &Design) -> Vec<(GroupBox, Rect, Rect)> {
        let Some((canvas, zoom, pan)) = self.last_view else {
            return Vec::new();
        };
        let to_screen = |p: Pos2| canvas.min + pan + p.to_vec2() * zoom;
        self.group_boxes(design)
            .into_iter()
            .map(|group_box| {
                let rect = Rect::from_min_max(
                    to_screen(group_box.rect.min),
                    to_screen(group_box.rect.max),
                );
                let title = title_band(rect, zoom);
                (group_box, rect, title)
            })
            .collect()
    }

    /// Where on screen a group's title is (the middle of its title band), as of the last frame; `None` when the
    /// group is collapsed or not drawn.
    pub fn group_title_on_screen(&self, design: &Design, group: &str) -> Option<Pos2> {
        self.group_boxes_on_screen(design)
            .into_iter()
            .find(|(b, _, _)| b.group == group)
            .map(|(_, _, title)| title.center())
    }

    /// The group whose title band is at a screen position (a click there collapses or expands it).
    pub(super) fn group_title_at(&self, design: &Design, screen: Pos2) -> Option<String> {
        self.group_boxes_on_screen(design)
            .into_iter()
            .find(|(_, _, title)| title.contains(screen))
            .map(|(b, _, _)| b.group)
    }

    /// The group boxes' shapes on screen, for the painter to draw behind everything else.
    pub(super) fn group_box_shapes(&self, ctx: &egui::Context, design: &Design) -> Vec<Shape> {
        let Some((_, zoom, _)) = self.last_view else {
            return Vec::new();
        };
        let dark = ctx.global_style().visuals.dark_mode;
        let (fill, border, title_color) = if dark {
            (
                Color32::from_rgba_unmultiplied(120, 140, 180, 22),
                Color32::from_rgb(110, 125, 160),
                Color32::from_gray(215),
            )
        } else {
            (
                Color32::from_rgba_unmultiplied(70, 100, 160, 16),
                Color32::from_rgb(125, 140, 175),
                Color32::from_gray(40),
            )
        };
        let mut shapes = Vec::new();
        for (group_box, rect, title) in self.group_boxes_on_screen(design) {
            let mut these = vec![
                Shape::rect_filled(rect, corner(zoom, 10.0 * zoom), fill),
                Shape::rect_stroke(
                    rect,
                    corner(zoom, 10.0 * zoom),
                    Stroke::new(1.2, border),
                    StrokeKind::Inside,
                ),
            ];
            // The title reads at every zoom: a whole large design in view is when groups matter most.
            let size = text_size(13.0 * zoom, MIN_TITLE_SIZE, 22.0);
            let side = size * 0.55;
            let left = title.min.x + 6.0;
            let middle = title.center().y;
            let text = ctx.fonts_mut(|f| {
                let mut job = egui::text::LayoutJob::simple_singleline(
                    group_box.group.clone(),
                    FontId::proportional(size),
                    title_color,
                );
                job.wrap.max_width = (title.width() - side - 16.0).max(10.0);
                job.wrap.max_rows = 1;
                f.layout_job(job)
            });
            // An open triangle before the title says a click there folds the group (drawn: the fonts have no
            // such glyph).
            these.push(Shape::convex_polygon(
                vec![
                    Pos2::new(left, middle - side * 0.4),
                    Pos2::new(left + side, middle - side * 0.4),
                    Pos2::new(left + side / 2.0, middle + side * 0.45),
                ],
                title_color,
                Stroke::NONE,
            ));
            let at = Pos2::new(left + side + 4.0, middle - text.size().y / 2.0);
            these.push(TextShape::new(at, text, title_color).into());
            if group_box.dimmed {
                dim(&mut these);
            }
            shapes.extend(these);
        }
        shapes
    }

    /// A collapsed group's live numbers from its members': utilization weighted by workers, queues, rejections and
    /// failures summed, faulted when any member is.
    pub(super) fn group_overlay(
        &self,
        group: &GroupNode,
        live: &LiveOverlay,
    ) -> Option<ServiceOverlay> {
        let mut overlay = ServiceOverlay::default();
        let (mut busy, mut workers, mut any) = (0.0, 0.0, false);
        let mut capacity = Some(0u64);
        for (id, weight) in &group.members {
            let Some(s) = live.services.get(id.as_str()) else {
                continue;
            };
            any = true;
            busy += s.utilization * weight;
            workers += weight;
            overlay.queue_length += s.queue_length;
            capacity = capacity.zip(s.queue_capacity).map(|(a, b)| a + b);
            overlay.rejected += s.rejected;
            overlay.failed += s.failed;
            overlay.faulted |= s.faulted;
        }
        overlay.utilization = if workers > 0.0 { busy / workers } else { 0.0 };
        overlay.queue_capacity = capacity;
        any.then_some(overlay)
    }

    /// A merged call's live numbers: rates summed; a breaker state only when it stands for one call.
    pub(super) fn merged_call_overlay(
        &self,
        ids: &[EdgeId],
        live: &LiveOverlay,
    ) -> Option<CallOverlay> {
        let mut overlay = CallOverlay {
            animation_s: self.animation_s,
            ..CallOverlay::default()
        };
        let mut any = false;
        for id in ids {
            if let Some(e) = live.edges.get(id.as_str()) {
                any = true;
                overlay.calls_rps += e.calls_rps;
                overlay.failures_rps += e.failures_rps;
                if ids.len() == 1 && e.has_breaker {
                    overlay.breaker = Some(e.breaker);
                }
            }
        }
        any.then_some(overlay)
    }
}
