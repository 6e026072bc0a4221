//! The automatic tidy layout, a layered layout in the manner of Graphviz dot: services in layers from left to
//! right by call depth (`layers`), calls longer than one layer broken into chains of dummy nodes, the layers
//! reordered to few crossings (`order`), then heights that keep long calls straight and away from boxes
//! (`coords`). Used by the editor's "Tidy layout", every importer and `syncopate layout`.

mod coords;
mod order;

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

/// Lays the design out in layers, left to right, and writes every service's position.
pub fn tidy_layout(design: &mut Design) {
    let count = design.services.len();
    if count == 0 {
        return;
    }
    let layer = layers(design);
    let mut graph = order::Layered::new(&layer, &call_pairs(design));
    graph.minimise_crossings();
    let heights = coords::heights(&graph);
    for (s, service) in design.services.iter_mut().enumerate() {
        let x = ORIGIN[0] + layer[s] as f32 * LAYER_SPACING;
        let y = ORIGIN[1] + heights[s] as f32 * ROW_SPACING;
        service.position = Some([x.round(), y.round()]);
    }
}

/// Crossings of the design as drawn: pairs of calls whose straight segments between their services' positions
/// cross (calls that share a service, self-calls and services without a position left out; a call each way
/// between two services is one segment). The measure the layout is held to, and the one its comparison with
/// Graphviz dot uses.
pub fn crossings(design: &Design) -> usize {
    let mut segments: Vec<(usize, usize)> = call_pairs(design)
        .into_iter()
        .map(|(a, b)| (a.min(b), a.max(b)))
        .collect();
    segments.sort_unstable();
    segments.dedup();
    let at = |i: usize| {
        design.services[i]
            .position
            .map(|p| (f64::from(p[0]), f64::from(p[1])))
    };
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
}
