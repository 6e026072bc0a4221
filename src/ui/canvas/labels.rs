//! Where call labels go. Each label is placed, not painted over what is there: beside its call at the first place
//! along it (the middle first, then further out both ways, above the line then below) where it covers no box, no
//! service's name and no label placed before it. Where the whole label finds no room it says only its protocol;
//! where that finds none either it is left out, and the call's inspector still says everything. Calls from one
//! service with the same label (a fan of "#1 par · grpc") of which any finds no room for its whole label share one
//! label, "3 calls · #1 par · grpc", placed near the caller along one of them. Shorter calls are placed first: they
//! have the fewest places.
//!
//! Placement works at screen scale (canvas units times the zoom, without the pan), with the sizes the painter lays
//! the texts out at, so the rectangles placed are the rectangles painted. It runs when the view graph is rebuilt or
//! the zoom comes to rest at a new value, not every frame.

use std::collections::HashMap;

use super::*;

/// One label to place: the paths it may go along (more than one for a shared label), its texts' sizes in px, and
/// where it may go.
pub(super) struct LabelRequest {
    /// Each path in screen scale, from caller to callee.
    pub paths: Vec<Vec<Pos2>>,
    /// The whole label's size, and the short one's (`None`: no shorter form).
    pub sizes: [Option<Vec2>; 2],
    /// Room for a finding badge right of the label, in px (0 without one).
    pub badge_room: f32,
    /// Whether the label may go below its line (not for a call whose breaker state goes there while simulating).
    pub may_go_below: bool,
    /// Whether it is a shared label, which prefers the stretch near the caller where the fan is still together.
    pub shared: bool,
}

/// A call of the view graph and its path at screen scale.
type CallPath = (EdgeIndex, Vec<Pos2>);

/// A label's calls, its whole and short texts, and its badge.
type LabelTexts = (Vec<EdgeIndex>, String, String, Option<(Severity, usize)>);

/// A call's label as placed: where, what it says, and the badge beside it (of a shared label: the findings of all
/// its calls).
#[derive(Debug, Clone, PartialEq)]
pub struct CallLabel {
    /// Where it goes along the call.
    pub place: PlacedLabel,
    /// What it says.
    pub text: String,
    /// The worst severity and the number of findings drawn beside it.
    pub badge: Option<(Severity, usize)>,
}

/// Where a label went.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlacedLabel {
    /// Which of its request's paths it goes along.
    pub path: usize,
    /// How far along the path (0 at the caller, 1 at the callee).
    pub at: f32,
    /// Above the line, or below it.
    pub above: bool,
    /// Whether it shows the short text.
    pub short: bool,
}

/// Places along a call, in the order tried: the middle, then further out both ways.
const ALONG: [f32; 9] = [0.5, 0.4, 0.6, 0.3, 0.7, 0.22, 0.78, 0.15, 0.85];
/// The same for a shared label: near the caller first.
const ALONG_SHARED: [f32; 8] = [0.3, 0.22, 0.4, 0.15, 0.5, 0.6, 0.7, 0.8];

/// The rectangle of a label's text frame of `size` placed at `place` on `path` (screen positions): the painter's
/// and the placement's one definition.
pub(super) fn label_frame(path: &[Pos2], place: &PlacedLabel, size: Vec2) -> Rect {
    let (point, along) = route::point_along(path, place.at);
    beside_line(point - along, point + along, 0.5, size, place.above).expand(2.0)
}

/// A label's frame with the room of its badge to the right: what it covers.
fn footprint(frame: Rect, badge_room: f32) -> Rect {
    Rect::from_min_max(frame.min, frame.max + Vec2::new(badge_room, 0.0))
}

/// Rectangles by grid cell, to find those near a candidate without looking at all of them.
struct Grid {
    cell: f32,
    cells: HashMap<(i32, i32), Vec<usize>>,
    rects: Vec<Rect>,
}

impl Grid {
    fn new(cell: f32) -> Self {
        Self {
            cell,
            cells: HashMap::new(),
            rects: Vec::new(),
        }
    }

    fn cells_of(&self, rect: Rect) -> impl Iterator<Item = (i32, i32)> + use<> {
        let to_cell = |v: f32| (v / self.cell).floor() as i32;
        let (x0, x1) = (to_cell(rect.min.x), to_cell(rect.max.x));
        let (y0, y1) = (to_cell(rect.min.y), to_cell(rect.max.y));
        (x0..=x1).flat_map(move |x| (y0..=y1).map(move |y| (x, y)))
    }

    fn insert(&mut self, rect: Rect) {
        let index = self.rects.len();
        self.rects.push(rect);
        for cell in self.cells_of(rect) {
            self.cells.entry(cell).or_default().push(index);
        }
    }

    fn is_free(&self, rect: Rect) -> bool {
        self.cells_of(rect).all(|cell| {
            self.cells
                .get(&cell)
                .is_none_or(|list| list.iter().all(|&i| !self.rects[i].intersects(rect)))
        })
    }
}

/// Places every label (see the module's comment) among `obstacles` (boxes and names, screen scale): for each
/// request, where it went, or `None` where it found no room.
pub(super) fn place(requests: &[LabelRequest], obstacles: &[Rect]) -> Vec<Option<PlacedLabel>> {
    let mut grid = Grid::new(64.0);
    for rect in obstacles {
        grid.insert(*rect);
    }
    let length =
        |path: &Vec<Pos2>| -> f32 { path.windows(2).map(|w| (w[1] - w[0]).length()).sum() };
    let mut order: Vec<usize> = (0..requests.len()).collect();
    order.sort_by(|&a, &b| {
        let shortest = |r: &LabelRequest| r.paths.iter().map(length).fold(f32::INFINITY, f32::min);
        shortest(&requests[a])
            .total_cmp(&shortest(&requests[b]))
            .then(a.cmp(&b))
    });
    let mut placed = vec![None; requests.len()];
    for index in order {
        let request = &requests[index];
        let along: &[f32] = if request.shared {
            &ALONG_SHARED
        } else {
            &ALONG
        };
        let sides: &[bool] = if request.may_go_below {
            &[true, false]
        } else {
            &[true]
        };
        'texts: for (short, size) in request.sizes.iter().enumerate() {
            let Some(size) = size else { continue };
            for &at in along {
                for (path_index, path) in request.paths.iter().enumerate() {
                    for &above in sides {
                        let place = PlacedLabel {
                            path: path_index,
                            at,
                            above,
                            short: short == 1,
                        };
                        let rect = footprint(label_frame(path, &place, *size), request.badge_room);
                        if grid.is_free(rect) {
                            grid.insert(rect);
                            placed[index] = Some(place);
                            break 'texts;
                        }
                    }
                }
            }
        }
    }
    placed
}

impl Canvas {
    /// Places every call label for the view graph as built and the zoom (see the module's comment), unless they
    /// are placed for both already.
    pub(super) fn place_call_labels(&mut self, ctx: &egui::Context, zoom: f32) {
        let key = (self.graph_generation, zoom);
        let zooming = self.labels_zoom_last_frame.replace(zoom) != Some(zoom);
        let rebuilt = self.labels_placed_for.map(|(generation, _)| generation) != Some(key.0);
        if self.labels_placed_for == Some(key) {
            return;
        }
        if zooming && !rebuilt {
            // In the middle of a zoom gesture the labels keep their places (they scale with the view), and are
            // placed again once the zoom rests (`show` asks for the frame that does it): placing them anew every
            // frame of the gesture cost a large design its frame budget.
            return;
        }
        self.labels_placed_for = Some(key);
        // The calls' ends come from the boxes' shapes, which learn where their nodes are only when updated.
        self.update_node_shapes();
        let edges: Vec<EdgeIndex> = self.graph.g().edge_indices().collect();
        for &index in &edges {
            if let Some(edge) = self.graph.edge_mut(index) {
                let display = edge.display_mut();
                display.placed_label = None;
                display.label_shared = false;
            }
        }
        if is_far(zoom) {
            return;
        }
        let font = call_label_font(zoom);
        let measure = |text: &str| -> Vec2 {
            ctx.fonts_mut(|f| {
                f.layout_no_wrap(text.to_owned(), font.clone(), Color32::WHITE)
                    .size()
            })
        };
        let badge_room = badge_room(zoom);
        // Calls from one service with the same label (a fan) may share one label, their findings counted in one
        // badge.
        let mut fans: HashMap<(NodeIndex, &str), Vec<CallPath>> = HashMap::new();
        for call in calls_between_two_services(&self.graph) {
            let shape = call.shape;
            if shape.label.is_empty() {
                continue;
            }
            let path: Vec<Pos2> = shape
                .path(call.start, call.end)
                .into_iter()
                .map(|p| (p.to_vec2() * zoom).to_pos2())
                .collect();
            fans.entry((call.from, shape.label.as_str()))
                .or_default()
                .push((call.index, path));
        }
        let mut fans: Vec<_> = fans.into_iter().collect();
        fans.sort_by_key(|((from, label), _)| (*from, label.to_string()));
        // Each label's calls, texts and badge (the calls it may go along, the whole text, the short one, the badge),
        // and what to place: a label per call, but one for each fan in `merged`.
        let requests_for = |merged: &[bool]| -> (Vec<LabelTexts>, Vec<LabelRequest>) {
            let mut texts: Vec<LabelTexts> = Vec::new();
            let mut requests: Vec<LabelRequest> = Vec::new();
            for (fan, ((_, label), members)) in fans.iter().enumerate() {
                let groups: Vec<&[CallPath]> = if merged[fan] {
                    vec![members.as_slice()]
                } else {
                    members.chunks(1).collect()
                };
                for group in groups {
                    let shapes: Vec<&CallShape> = group
                        .iter()
                        .filter_map(|(index, _)| self.graph.edge(*index).map(|e| e.display()))
                        .collect();
                    let shared = group.len() > 1;
                    let (whole, short) = if shared {
                        let count = group.len();
                        (format!("{count} calls · {label}"), format!("{count} calls"))
                    } else {
                        (
                            (*label).to_owned(),
                            shapes
                                .first()
                                .map(|s| s.short_label.clone())
                                .unwrap_or_default(),
                        )
                    };
                    let badge = shapes
                        .iter()
                        .filter_map(|s| s.badge)
                        .reduce(|a, b| (a.0.min(b.0), a.1 + b.1));
                    requests.push(LabelRequest {
                        sizes: [
                            Some(measure(&whole)),
                            (!short.is_empty() && short != whole).then(|| measure(&short)),
                        ],
                        paths: group.iter().map(|(_, path)| path.clone()).collect(),
                        badge_room: if badge.is_some() { badge_room } else { 0.0 },
                        may_go_below: shapes.iter().all(|s| !s.has_breaker),
                        shared,
                    });
                    texts.push((group.iter().map(|(i, _)| *i).collect(), whole, short, badge));
                }
            }
            (texts, requests)
        };
        let obstacles = self.box_footprints(ctx, zoom);
        // First every call on its own; then a fan of calls with one label of which any could not say it whole
        // shares one label instead (two calls whose labels both fit keep their own: a shared label sits on one of
        // its calls only).
        let mut merged = vec![false; fans.len()];
        let (mut texts, mut requests) = requests_for(&merged);
        let mut placed = place(&requests, &obstacles);
        let mut at = 0;
        for (fan, (_, members)) in fans.iter().enumerate() {
            let crowded = placed[at..at + members.len()]
                .iter()
                .any(|p| p.is_none_or(|p| p.short));
            merged[fan] = members.len() > 1 && crowded;
            at += members.len();
        }
        if merged.contains(&true) {
            (texts, requests) = requests_for(&merged);
            placed = place(&requests, &obstacles);
        }
        for ((calls, whole, short, badge), place) in texts.into_iter().zip(placed) {
            let Some(place) = place else { continue };
            let text = if place.short { short } else { whole };
            for (i, &index) in calls.iter().enumerate() {
                let Some(edge) = self.graph.edge_mut(index) else {
                    continue;
                };
                let display = edge.display_mut();
                if i == place.path {
                    display.placed_label = Some(CallLabel {
                        place: PlacedLabel { path: 0, ..place },
                        text: text.clone(),
                        badge,
                    });
                } else {
                    // Said by the shared label, findings included.
                    display.label_shared = true;
                }
            }
        }
    }

    /// What each box covers at `zoom`, at screen scale: the box, widened where its name spills out of it (zoomed
    /// out, names keep 10 px and take the room between the layers), and its finding badge.
    fn box_footprints(&self, ctx: &egui::Context, zoom: f32) -> Vec<Rect> {
        let name_size = name_font_size(zoom);
        let spills = name_spills(zoom);
        let font = FontId::proportional(name_size);
        self.graph
            .nodes_iter()
            .map(|(_, node)| {
                let center = (node.location().to_vec2() * zoom).to_pos2();
                let drawn_box =
                    Rect::from_center_size(center, Vec2::new(SERVICE_WIDTH, SERVICE_HEIGHT) * zoom);
                let mut rect = drawn_box;
                let shape = node.display();
                if spills && zoom >= NAME_ZOOM {
                    let width = ctx.fonts_mut(|f| {
                        f.layout_no_wrap(node.label(), font.clone(), Color32::WHITE)
                            .size()
                            .x
                    });
                    let width = width.min(name_room(zoom, shape.column_gap)) + 3.0;
                    rect = rect.union(Rect::from_center_size(
                        center,
                        Vec2::new(width, name_size * 1.4),
                    ));
                }
                if shape.badge.is_some() {
                    // Its finding badge sits on its upper right corner.
                    rect = rect.union(Rect::from_center_size(
                        drawn_box.right_top(),
                        Vec2::splat(2.0 * badge_radius(zoom)),
                    ));
                }
                if shape.group_members.is_some() {
                    // A collapsed group's name may sit above its box.
                    rect.min.y -= 16.0;
                }
                rect.expand(2.0)
            })
            .collect()
    }

    /// Every call label drawn at the last frame: the call's id (of a shared label, the call it goes along), its
    /// text and its frame on screen, with the badge beside it (for tests and tooling).
    pub fn drawn_call_labels(&self, ctx: &egui::Context) -> Vec<(EdgeId, String, Rect)> {
        let Some((screen, zoom, pan)) = self.last_view else {
            return Vec::new();
        };
        if is_far(zoom) {
            return Vec::new();
        }
        let font = call_label_font(zoom);
        calls_between_two_services(&self.graph)
            .filter_map(|call| {
                let CallLabel {
                    place, text, badge, ..
                } = call.shape.placed_label.as_ref()?;
                let path: Vec<Pos2> = call
                    .shape
                    .path(call.start, call.end)
                    .into_iter()
                    .map(|p| screen.min + pan + p.to_vec2() * zoom)
                    .collect();
                let size = ctx.fonts_mut(|f| {
                    f.layout_no_wrap(text.clone(), font.clone(), Color32::WHITE)
                        .size()
                });
                let frame = label_frame(&path, place, size);
                let frame = match badge {
                    Some(_) => footprint(frame, badge_room(zoom)),
                    None => frame,
                };
                Some((
                    self.graph.edge(call.index)?.payload().clone(),
                    text.clone(),
                    frame,
                ))
            })
            .collect()
    }

    /// Every service box drawn at the last frame, on screen (for tests and tooling).
    pub fn drawn_boxes(&self) -> Vec<(ServiceId, Rect)> {
        let Some((screen, zoom, pan)) = self.last_view else {
            return Vec::new();
        };
        self.graph
            .nodes_iter()
            .map(|(_, node)| {
                let center = screen.min + pan + node.location().to_vec2() * zoom;
                (
                    node.payload().clone(),
                    Rect::from_center_size(center, Vec2::new(SERVICE_WIDTH, SERVICE_HEIGHT) * zoom),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(from: Pos2, to: Pos2, width: f32) -> LabelRequest {
        LabelRequest {
            paths: vec![vec![from, to]],
            sizes: [Some(Vec2::new(width, 10.0)), Some(Vec2::new(20.0, 10.0))],
            badge_room: 0.0,
            may_go_below: true,
            shared: false,
        }
    }

    fn rects(requests: &[LabelRequest], placed: &[Option<PlacedLabel>]) -> Vec<Rect> {
        requests
            .iter()
            .zip(placed)
            .filter_map(|(r, p)| {
                let p = p.as_ref()?;
                let size = r.sizes[usize::from(p.short)]?;
                Some(footprint(
                    label_frame(&r.paths[p.path], p, size),
                    r.badge_room,
                ))
            })
            .collect()
    }

    #[test]
    fn labels_of_a_fan_into_one_service_never_overlap_each_other_or_boxes() {
        // Twelve callers in a column, all calling one service: the lines converge, and their middles are close.
        let target = Pos2::new(400.0, 300.0);
        let boxes: Vec<Rect> = (0..12)
            .map(|i| Rect::from_center_size(Pos2::new(0.0, i as f32 * 50.0), Vec2::new(90.0, 34.0)))
            .chain([Rect::from_center_size(target, Vec2::new(90.0, 34.0))])
            .collect();
        let requests: Vec<LabelRequest> = (0..12)
            .map(|i| {
                request(
                    Pos2::new(45.0, i as f32 * 50.0),
                    target - Vec2::new(45.0, 0.0),
                    70.0,
                )
            })
            .collect();
        let placed = place(&requests, &boxes);
        let drawn = rects(&requests, &placed);
        assert!(drawn.len() >= 6, "most find room: {placed:?}");
        for (i, a) in drawn.iter().enumerate() {
            assert!(
                boxes.iter().all(|b| !a.intersects(*b)),
                "{a:?} covers a box"
            );
            for b in &drawn[i + 1..] {
                assert!(!a.intersects(*b), "{a:?} and {b:?} overlap");
            }
        }
    }

    #[test]
    fn a_label_with_no_room_for_its_whole_text_says_its_protocol_then_nothing() {
        // A short call between two boxes: a 200 px label fits nowhere beside it, the 20 px protocol does.
        let boxes = [
            Rect::from_min_max(Pos2::new(0.0, -60.0), Pos2::new(100.0, 60.0)),
            Rect::from_min_max(Pos2::new(160.0, -60.0), Pos2::new(260.0, 60.0)),
        ];
        let requests = [request(Pos2::new(100.0, 0.0), Pos2::new(160.0, 0.0), 200.0)];
        let placed = place(&requests, &boxes);
        assert!(placed[0].is_some_and(|p| p.short), "{placed:?}");
        // With boxes that leave no room at all, nothing is drawn.
        let tight = [Rect::from_min_max(
            Pos2::new(0.0, -60.0),
            Pos2::new(260.0, 60.0),
        )];
        assert_eq!(place(&requests, &tight), [None]);
    }

    #[test]
    fn a_call_with_a_breaker_keeps_its_label_above_the_line() {
        let mut with_breaker = request(Pos2::new(0.0, 0.0), Pos2::new(300.0, 0.0), 60.0);
        with_breaker.may_go_below = false;
        let other = request(Pos2::new(0.0, 4.0), Pos2::new(300.0, 4.0), 60.0);
        let placed = place(&[other, with_breaker], &[]);
        assert!(placed.iter().all(Option::is_some));
        assert!(placed[1].is_some_and(|p| p.above));
    }
}
