//! The automatic tidy layout, a layered layout in the manner of Graphviz dot: services in layers from left to
//! right by call depth (`layers`), calls longer than one layer broken into chains of dummy nodes, the layers
//! reordered to few crossings (`order`), then heights that keep long calls straight and away from boxes
//! (`coords`). Used by the editor's "Tidy layout", every importer and `syncopate layout`.

mod coords;
mod groups;
mod order;
mod refine;

use std::collections::HashMap;

use super::design::Design;

/// Horizontal distance between layers, in canvas units.
pub const LAYER_SPACING: f32 = 300.0;
/// Vertical distance between services in a layer, in canvas units.
pub const ROW_SPACING: f32 = 100.0;
/// Where the first layer and row start.
pub const ORIGIN: [f32; 2] = [60.0, 60.0];

/// Every call as a (caller, callee) pair of service indices, self-calls left out.
fn call_pairs(design: &Design) -> Vec<(usize, usize)> {
    let index: HashMap<&str, usize> = design
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    design
        .edges
        .iter()
        .filter_map(|edge| {
            Some((
                *index.get(edge.from.as_str())?,
                *index.get(edge.to.as_str())?,
            ))
        })
        .filter(|(from, to)| from != to)
        .collect()
}

/// The layer (call depth) of every service, by index into `design.services`. Sources are layer 0; each call puts
/// its callee at least one layer right of its caller, except calls that close a cycle, which are ignored.
pub fn layers(design: &Design) -> Vec<usize> {
    let count = design.services.len();
    let mut outgoing: Vec<Vec<usize>> = vec![Vec::new(); count];
    for (from, to) in call_pairs(design) {
        outgoing[from].push(to);
    }
    // Depth-first search from every root in file order marks the calls that close cycles (back edges), so the
    // rest form a DAG whose longest paths give the layers.
    let mut state = vec![0u8; count]; // 0 = unseen, 1 = on the stack, 2 = done
    let mut order = Vec::with_capacity(count); // reverse post-order = a topological order of the DAG
    let mut incoming = vec![0usize; count];
    for targets in &outgoing {
        for &t in targets {
            incoming[t] += 1;
        }
    }
    let roots = (0..count).filter(|&i| incoming[i] == 0).chain(0..count);
    let mut forward: Vec<Vec<usize>> = vec![Vec::new(); count];
    for root in roots {
        if state[root] != 0 {
            continue;
        }
        // Iterative DFS: (node, next child position).
        let mut stack = vec![(root, 0usize)];
        state[root] = 1;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&child) = outgoing[node].get(*next) {
                *next += 1;
                match state[child] {
                    0 => {
                        forward[node].push(child);
                        state[child] = 1;
                        stack.push((child, 0));
                    }
                    2 => forward[node].push(child),
                    _ => {} // a back edge: it closes a cycle
                }
            } else {
                state[node] = 2;
                order.push(node);
                stack.pop();
            }
        }
    }
    let mut layer = vec![0usize; count];
    for &node in order.iter().rev() {
        for &child in &forward[node] {
            layer[child] = layer[child].max(layer[node] + 1);
        }
    }
    layer
}

/// A connected part laid out on its own: its services (indices), their positions relative to the part's top
/// left, and the part's size.
type Part = (Vec<usize>, Vec<[f32; 2]>, [f32; 2]);

/// The canvas shape the packed components aim at (width over height): the editor's canvas in a 1280x800 or
/// 1920x1080 window, beside the inspector and above the bottom panel, is a little over 2.
const ASPECT: f32 = 2.0;
/// The most a tall design's layers are spread apart to take the canvas' shape.
const MAX_STRETCH: f32 = 2.5;
/// Room between packed components, in canvas units.
const COMPONENT_GAP: f32 = 120.0;

/// Lays the design out in layers, left to right, and writes every service's position. Each connected part of the
/// design (services linked by calls) is laid out on its own, then the parts are packed in rows, largest first, so
/// that several systems side by side fill a window rather than a tall column.
pub fn tidy_layout(design: &mut Design) {
    let count = design.services.len();
    if count == 0 {
        return;
    }
    let layer = layers(design);
    let pairs = call_pairs(design);
    // A group's band by service: 0 without a group, else 1 + the group's place among the design's groups.
    let groups = design.groups();
    let band: Vec<usize> = design
        .services
        .iter()
        .map(|s| {
            s.group
                .as_deref()
                .and_then(|g| groups.binary_search(&g).ok())
                .map_or(0, |i| i + 1)
        })
        .collect();
    // A group's services are laid out as one part even where no call joins them.
    let mut joined = pairs.clone();
    let mut first_of_band: HashMap<usize, usize> = HashMap::new();
    for (s, &b) in band.iter().enumerate() {
        if b > 0 {
            joined.push((*first_of_band.entry(b).or_insert(s), s));
        }
    }
    let mut parts: Vec<Part> = components(count, &joined)
        .into_iter()
        .map(|members| {
            let local: HashMap<usize, usize> =
                members.iter().enumerate().map(|(i, &s)| (s, i)).collect();
            let first_layer = members.iter().map(|&s| layer[s]).min().unwrap_or(0);
            let part_layer: Vec<usize> = members.iter().map(|&s| layer[s] - first_layer).collect();
            let part_pairs: Vec<(usize, usize)> = pairs
                .iter()
                .filter_map(|(a, b)| Some((*local.get(a)?, *local.get(b)?)))
                .collect();
            let part_band: Vec<usize> = members.iter().map(|&s| band[s]).collect();
            // The sweeps end in different local optima from different first orders: each is laid out and the
            // one whose calls, drawn straight, cross least is kept (ties: the first).
            // A small part is refined from every first order; a large one only from the best, as the refinement
            // costs more than the ordering there.
            let refine_each = part_pairs.len() <= REFINE_EACH_MAX_CALLS;
            let mut best = (0..order::STARTS)
                .map(|start| {
                    let mut laid_out = lay_out_part(&part_layer, &part_pairs, &part_band, start);
                    if refine_each {
                        laid_out.refine(&part_band, &part_pairs);
                    }
                    laid_out
                })
                .min_by_key(|laid_out| laid_out.straight_crossings(&part_pairs))
                .unwrap_or_default();
            if !refine_each {
                best.refine(&part_band, &part_pairs);
            }
            let positions = best.positions();
            let size = positions.iter().fold([0f32, 0f32], |size, p| {
                [size[0].max(p[0]), size[1].max(p[1])]
            });
            (members, positions, size)
        })
        .collect();
    // One system alone that is taller than the canvas' shape (a layer of many services) spreads its layers apart
    // until it has that shape, at most 2.5 times as far: it then fills the window's width as it fills its height,
    // and names get room between the layers. Only x is stretched, so no crossing or straight run changes.
    if let [(_, positions, size)] = parts.as_mut_slice() {
        let stretch = (size[1] * ASPECT / size[0].max(1.0)).clamp(1.0, MAX_STRETCH);
        if size[0] > 0.0 && stretch > 1.05 {
            for p in positions.iter_mut() {
                p[0] *= stretch;
            }
            size[0] *= stretch;
        }
    }
    // Largest first (then file order), in rows: of the row widths a packing can have, the one whose whole fits
    // a canvas of the aimed shape at the largest zoom.
    parts.sort_by(|a, b| {
        (b.2[0] * b.2[1] + b.0.len() as f32)
            .total_cmp(&(a.2[0] * a.2[1] + a.0.len() as f32))
            .then(a.0[0].cmp(&b.0[0]))
    });
    let sizes: Vec<[f32; 2]> = parts.iter().map(|p| p.2).collect();
    let mut candidates: Vec<f32> = sizes
        .iter()
        .scan(0f32, |width, size| {
            *width += size[0] + PART_SPACING;
            Some(*width)
        })
        .collect();
    candidates.push(sizes.iter().map(|s| s[0]).fold(0f32, f32::max));
    let best = candidates
        .into_iter()
        .map(|row_width| {
            let (origins, total) = pack(&sizes, row_width);
            ((total[0] / ASPECT).max(total[1]), origins)
        })
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, origins)| origins)
        .unwrap_or_default();
    for ((members, positions, _), origin) in parts.iter().zip(best) {
        for (&s, p) in members.iter().zip(positions) {
            let at = [ORIGIN[0] + origin[0] + p[0], ORIGIN[1] + origin[1] + p[1]];
            design.services[s].position = Some([at[0].round(), at[1].round()]);
        }
    }
}

/// The most calls a part may have for each of its first orders to be refined (see `refine`).
const REFINE_EACH_MAX_CALLS: usize = 400;

/// A connected part laid out: each service's layer and height (in rows).
#[derive(Default)]
struct LaidOut {
    layer: Vec<usize>,
    height: Vec<f64>,
}

impl LaidOut {
    /// Reduces the straight calls' crossings by local moves (see `refine`).
    fn refine(&mut self, band: &[usize], pairs: &[(usize, usize)]) {
        refine::Picture::new(&mut self.layer, &mut self.height, band, pairs).improve();
    }

    /// Crossings of the calls drawn straight.
    fn straight_crossings(&self, pairs: &[(usize, usize)]) -> usize {
        segment_crossings(pairs, |i| {
            Some((*self.layer.get(i)? as f64, *self.height.get(i)?))
        })
    }

    /// Each service's position in canvas units relative to the part's top left.
    fn positions(&self) -> Vec<[f32; 2]> {
        let first_layer = self.layer.iter().copied().min().unwrap_or(0);
        let top = self.height.iter().copied().fold(f64::INFINITY, f64::min);
        self.layer
            .iter()
            .zip(&self.height)
            .map(|(&layer, &height)| {
                [
                    (layer - first_layer) as f32 * LAYER_SPACING,
                    (height - top) as f32 * ROW_SPACING,
                ]
            })
            .collect()
    }
}

/// One connected part laid out from one first order (`start`): layers ordered to few crossings, groups made
/// bands, heights assigned.
fn lay_out_part(
    layer: &[usize],
    pairs: &[(usize, usize)],
    band: &[usize],
    start: usize,
) -> LaidOut {
    let mut graph = order::Layered::new(layer, pairs, start);
    graph.minimise_crossings();
    let grouped = band.iter().any(|&b| b > 0);
    let node_rank = grouped.then(|| groups::group_layers(&mut graph, band));
    let mut height = coords::heights(&graph);
    if let Some(node_rank) = &node_rank {
        groups::stack_bands(node_rank, &mut height);
    }
    height.truncate(layer.len());
    LaidOut {
        layer: layer.to_vec(),
        height,
    }
}

/// Horizontal room between packed parts: a gap plus half a layer, so calls of neighbouring parts are not mistaken
/// for one another.
const PART_SPACING: f32 = COMPONENT_GAP + LAYER_SPACING / 2.0;

/// Packs parts of `sizes` in rows at most `row_width` wide (a part wider than that gets a row of its own): each
/// part's top left, and the size of the whole.
fn pack(sizes: &[[f32; 2]], row_width: f32) -> (Vec<[f32; 2]>, [f32; 2]) {
    let (mut x, mut y, mut row_height, mut width) = (0f32, 0f32, 0f32, 0f32);
    let mut origins = Vec::with_capacity(sizes.len());
    for size in sizes {
        if x > 0.0 && x + size[0] > row_width + 1.0 {
            x = 0.0;
            y += row_height + COMPONENT_GAP;
            row_height = 0.0;
        }
        origins.push([x, y]);
        width = width.max(x + size[0]);
        x += size[0] + PART_SPACING;
        row_height = row_height.max(size[1]);
    }
    (origins, [width, y + row_height])
}

/// The connected parts of the graph (calls in either direction), each a list of service indices in file order,
/// in the order of their first service.
fn components(count: usize, pairs: &[(usize, usize)]) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..count).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for &(a, b) in pairs {
        let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
        if ra != rb {
            parent[ra.max(rb)] = ra.min(rb);
        }
    }
    let mut parts: Vec<Vec<usize>> = Vec::new();
    let mut part_of: HashMap<usize, usize> = HashMap::new();
    for i in 0..count {
        let r = root(&mut parent, i);
        let part = *part_of.entry(r).or_insert_with(|| {
            parts.push(Vec::new());
            parts.len() - 1
        });
        parts[part].push(i);
    }
    parts
}

/// Crossings of the design as drawn: pairs of calls whose straight segments between their services' positions
/// cross (calls that share a service, self-calls and services without a position left out; a call each way
/// between two services is one segment). The measure the layout is held to, and the one its comparison with
/// Graphviz dot uses.
pub fn crossings(design: &Design) -> usize {
    segment_crossings(&call_pairs(design), |i| {
        design.services[i]
            .position
            .map(|p| (f64::from(p[0]), f64::from(p[1])))
    })
}

/// Crossings of the segments between the ends of `pairs` (service indices) at the positions `at` gives (pairs
/// that share an end, and ends without a position, left out; a pair each way is one segment).
fn segment_crossings(pairs: &[(usize, usize)], at: impl Fn(usize) -> Option<Point>) -> usize {
    let segments = segments_of(pairs);
    // (one end, the other end, and the services at each end)
    let lines: Vec<(Point, Point, usize, usize)> = segments
        .into_iter()
        .filter_map(|(a, b)| Some((at(a)?, at(b)?, a, b)))
        .collect();
    let mut count = 0;
    for (i, &(p1, p2, a1, b1)) in lines.iter().enumerate() {
        for &(q1, q2, a2, b2) in &lines[i + 1..] {
            if a1 == a2 || a1 == b2 || b1 == a2 || b1 == b2 {
                continue;
            }
            if segments_cross(p1, p2, q1, q2) {
                count += 1;
            }
        }
    }
    count
}

/// A position on the canvas.
type Point = (f64, f64);

/// Each call as a segment between its two services, once (lower index first; a call each way is one segment,
/// self-calls left out), sorted.
fn segments_of(pairs: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let mut segments: Vec<(usize, usize)> = pairs
        .iter()
        .map(|&(a, b)| (a.min(b), a.max(b)))
        .filter(|(a, b)| a != b)
        .collect();
    segments.sort_unstable();
    segments.dedup();
    segments
}

/// Whether two segments cross at a point inside both (touching and collinear overlaps are not crossings).
fn segments_cross(p1: Point, p2: Point, q1: Point, q2: Point) -> bool {
    let orient = |a: Point, b: Point, c: Point| {
        let v = (b.0 - a.0) * (c.1 - a.1) - (b.1 - a.1) * (c.0 - a.0);
        if v.abs() < 1e-9 { 0.0 } else { v.signum() }
    };
    let (d1, d2) = (orient(q1, q2, p1), orient(q1, q2, p2));
    let (d3, d4) = (orient(p1, p2, q1), orient(p1, p2, q2));
    d1 * d2 < 0.0 && d3 * d4 < 0.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CallMode, Edge, Service};

    fn chain_with_cycle() -> Design {
        let mut design = Design::new("t");
        for id in ["a", "b", "c", "d"] {
            design.services.push(Service::new(id));
        }
        design.edges.push(Edge::new("a", "b", CallMode::Sync));
        design.edges.push(Edge::new("b", "c", CallMode::Sync));
        design.edges.push(Edge::new("c", "b", CallMode::Async));
        design.edges.push(Edge::new("a", "d", CallMode::Sync));
        design
    }

    #[test]
    fn layers_follow_call_depth_and_survive_cycles() {
        assert_eq!(layers(&chain_with_cycle()), vec![0, 1, 2, 1]);
    }

    #[test]
    fn a_tall_system_spreads_its_layers_to_the_canvas_shape_without_new_crossings() {
        // A gateway calling 16 services, each calling a database: three layers, sixteen rows.
        let mut design = Design::new("tall");
        design.services.push(Service::new("gw"));
        for i in 0..16 {
            design.services.push(Service::new(format!("s{i}")));
            design.services.push(Service::new(format!("db{i}")));
            design
                .edges
                .push(Edge::new("gw", format!("s{i}"), CallMode::Sync));
            design
                .edges
                .push(Edge::new(format!("s{i}"), format!("db{i}"), CallMode::Sync));
        }
        tidy_layout(&mut design);
        let xs: Vec<f32> = design
            .services
            .iter()
            .map(|s| s.position.unwrap()[0])
            .collect();
        let ys: Vec<f32> = design
            .services
            .iter()
            .map(|s| s.position.unwrap()[1])
            .collect();
        let span = |v: &[f32]| {
            v.iter().copied().fold(f32::MIN, f32::max) - v.iter().copied().fold(f32::MAX, f32::min)
        };
        let (width, height) = (span(&xs), span(&ys));
        assert!(
            width > LAYER_SPACING * 2.0 * 1.5,
            "layers spread apart: {width} wide, {height} tall"
        );
        assert!(width <= LAYER_SPACING * 2.0 * MAX_STRETCH + 1.0);
        assert_eq!(crossings(&design), 0);
    }

    #[test]
    fn the_refinement_crosses_less_keeps_callers_left_and_boxes_a_row_apart() {
        for seed in 0..12 {
            let design = crate::model::generate::layered_design(30, 70, seed);
            let layer = layers(&design);
            let pairs = call_pairs(&design);
            let band = vec![0; layer.len()];
            let plain = lay_out_part(&layer, &pairs, &band, 0);
            let mut laid_out = lay_out_part(&layer, &pairs, &band, 0);
            laid_out.refine(&band, &pairs);
            assert!(
                laid_out.straight_crossings(&pairs) <= plain.straight_crossings(&pairs),
                "seed {seed}"
            );
            let refined = laid_out.positions();
            for &(a, b) in &pairs {
                if layer[a] < layer[b] {
                    assert!(refined[a][0] < refined[b][0], "seed {seed}: {a} -> {b}");
                }
            }
            for (i, p) in refined.iter().enumerate() {
                for q in &refined[i + 1..] {
                    assert!(
                        p[0] != q[0] || (p[1] - q[1]).abs() >= ROW_SPACING - 0.01,
                        "seed {seed}: {p:?} and {q:?} overlap"
                    );
                }
            }
        }
    }

    #[test]
    fn tidy_layout_places_every_service_apart() {
        let mut design = chain_with_cycle();
        tidy_layout(&mut design);
        let positions: Vec<[f32; 2]> = design
            .services
            .iter()
            .map(|s| s.position.unwrap())
            .collect();
        for (i, a) in positions.iter().enumerate() {
            for b in &positions[i + 1..] {
                assert!(a != b);
            }
        }
        assert!(positions[1][0] > positions[0][0], "callee right of caller");
    }

    #[test]
    fn a_group_is_laid_out_together_and_apart_from_others() {
        // Two groups whose services alternate in the file and call across, one service in no group, and a
        // member of "b" joined to its group by nothing but the group.
        let mut design = Design::new("t");
        for (i, group) in ["a", "b", "a", "b", "a", "b", "", "b"].iter().enumerate() {
            let mut service = Service::new(format!("s{i}"));
            service.group = (!group.is_empty()).then(|| (*group).to_owned());
            design.services.push(service);
        }
        for (from, to) in [
            (0, 1),
            (1, 2),
            (2, 3),
            (3, 4),
            (4, 5),
            (0, 3),
            (6, 0),
            (6, 5),
        ] {
            let (from, to) = (format!("s{from}"), format!("s{to}"));
            design
                .edges
                .push(Edge::new(from.as_str(), to.as_str(), CallMode::Sync));
        }
        tidy_layout(&mut design);
        let bounds = |group: Option<&str>| {
            design
                .services
                .iter()
                .filter(|s| s.group.as_deref() == group)
                .filter_map(|s| s.position)
                .fold([f32::MAX, f32::MAX, f32::MIN, f32::MIN], |b, [x, y]| {
                    [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)]
                })
        };
        let (a, b) = (bounds(Some("a")), bounds(Some("b")));
        // Apart by more than a box and a group's title (rows are 100 apart; 160 between bands).
        assert!(a[3] + 150.0 <= b[1] || b[3] + 150.0 <= a[1], "{a:?} {b:?}");
        for service in &design.services {
            let [x, y] = service.position.unwrap();
            for (group, bounds) in [("a", a), ("b", b)] {
                let inside = x >= bounds[0] && x <= bounds[2] && y >= bounds[1] && y <= bounds[3];
                assert_eq!(
                    inside,
                    service.group.as_deref() == Some(group),
                    "{}",
                    service.id
                );
            }
        }
    }

    #[test]
    fn separate_systems_are_packed_side_by_side_not_stacked() {
        let mut design = Design::new("t");
        for system in ["a", "b", "c"] {
            for i in 0..4 {
                design.services.push(Service::new(format!("{system}{i}")));
            }
            for i in 0..3 {
                let (from, to) = (format!("{system}{i}"), format!("{system}{}", i + 1));
                design
                    .edges
                    .push(Edge::new(from.as_str(), to.as_str(), CallMode::Sync));
            }
        }
        tidy_layout(&mut design);
        let (xs, ys): (Vec<f32>, Vec<f32>) = design
            .services
            .iter()
            .map(|s| (s.position.unwrap()[0], s.position.unwrap()[1]))
            .unzip();
        let width = xs.iter().copied().fold(f32::MIN, f32::max)
            - xs.iter().copied().fold(f32::MAX, f32::min);
        let height = ys.iter().copied().fold(f32::MIN, f32::max)
            - ys.iter().copied().fold(f32::MAX, f32::min);
        // Three chains of four: a stack would be 3 rows tall and 3 layers wide; packed, wider than tall.
        assert!(width > height, "{width} x {height}");
    }
}
