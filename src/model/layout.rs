//! The automatic tidy layout: services in layers from left to right by call depth, ordered within each layer to
//! keep calls short and uncrossed. Used by the editor's "Tidy layout" command and by importers.

use std::collections::HashMap;

use super::design::Design;

/// Horizontal distance between layers, in canvas units.
pub const LAYER_SPACING: f32 = 300.0;
/// Vertical distance between services in a layer, in canvas units.
pub const ROW_SPACING: f32 = 100.0;
/// Where the first layer and row start.
pub const ORIGIN: [f32; 2] = [60.0, 60.0];

/// Rounds of barycentric reordering; a handful settles real designs.
const ORDERING_SWEEPS: usize = 8;

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
    let layer_count = layer.iter().max().map_or(0, |m| m + 1);
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); layer_count];
    for (service, &l) in layer.iter().enumerate() {
        rows[l].push(service);
    }
    let mut neighbours: Vec<Vec<usize>> = vec![Vec::new(); count];
    for (a, b) in call_pairs(design) {
        neighbours[a].push(b);
        neighbours[b].push(a);
    }
    let mut slot = vec![0f32; count];
    let place = |rows: &Vec<Vec<usize>>, slot: &mut Vec<f32>| {
        for row in rows {
            let offset = (row.len() as f32 - 1.0) / 2.0;
            for (i, &s) in row.iter().enumerate() {
                slot[s] = i as f32 - offset;
            }
        }
    };
    place(&rows, &mut slot);
    for sweep in 0..ORDERING_SWEEPS {
        // Alternate directions so both callers and callees pull on the order.
        let layer_order: Vec<usize> = if sweep % 2 == 0 {
            (1..layer_count).collect()
        } else {
            (0..layer_count.saturating_sub(1)).rev().collect()
        };
        for l in layer_order {
            let reference = if sweep % 2 == 0 { l - 1 } else { l + 1 };
            let mut keyed: Vec<(f32, usize, usize)> = rows[l]
                .iter()
                .enumerate()
                .map(|(position, &s)| {
                    let pulls: Vec<f32> = neighbours[s]
                        .iter()
                        .filter(|&&n| layer[n] == reference)
                        .map(|&n| slot[n])
                        .collect();
                    let key = if pulls.is_empty() {
                        slot[s]
                    } else {
                        pulls.iter().sum::<f32>() / pulls.len() as f32
                    };
                    (key, position, s)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            rows[l] = keyed.into_iter().map(|(_, _, s)| s).collect();
            let offset = (rows[l].len() as f32 - 1.0) / 2.0;
            for (i, &s) in rows[l].iter().enumerate() {
                slot[s] = i as f32 - offset;
            }
        }
    }
    let tallest = rows.iter().map(Vec::len).max().unwrap_or(1) as f32;
    let middle = ORIGIN[1] + (tallest - 1.0) / 2.0 * ROW_SPACING;
    for (l, row) in rows.iter().enumerate() {
        for &s in row {
            let x = ORIGIN[0] + l as f32 * LAYER_SPACING;
            let y = middle + slot[s] * ROW_SPACING;
            design.services[s].position = Some([x.round(), y.round()]);
        }
    }
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
