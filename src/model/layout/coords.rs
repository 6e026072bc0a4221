//! Where each node of an ordered layered graph goes within its layer: as close as it can to the mean height of
//! its neighbours, in its layer's order and at least a gap from the next node. Each layer is one weighted
//! isotonic regression (pool adjacent violators), swept down and up the layers a few times; dummy nodes pull
//! harder, so long calls run straight, and need less room than a box, so they pass between boxes rather than
//! through them.

use super::order::Layered;

/// Sweeps over the layers.
const SWEEPS: usize = 12;
/// How much harder a dummy node (a long call passing a layer) pulls toward its neighbours than a service.
const DUMMY_WEIGHT: f64 = 4.0;

/// The least distance between two neighbours in a layer, in rows: a full row between services, less where a call
/// passes.
fn gap(graph: &Layered, a: usize, b: usize) -> f64 {
    match (a < graph.real, b < graph.real) {
        (true, true) => 1.0,
        (true, false) | (false, true) => 0.6,
        (false, false) => 0.3,
    }
}

/// The height of every node, in rows (the first node of the tallest layer at 0).
pub(super) fn heights(graph: &Layered) -> Vec<f64> {
    let nodes = graph.layer.len();
    let mut y = vec![0.0f64; nodes];
    for row in &graph.rows {
        let mut at = 0.0;
        for (i, &n) in row.iter().enumerate() {
            if i > 0 {
                at += gap(graph, row[i - 1], n);
            }
            y[n] = at;
        }
        // Centred on 0.
        let half = at / 2.0;
        for &n in row {
            y[n] -= half;
        }
    }
    let layers: Vec<usize> = (0..graph.rows.len()).collect();
    for sweep in 0..SWEEPS {
        let order: Box<dyn Iterator<Item = &usize>> = if sweep % 2 == 0 {
            Box::new(layers.iter())
        } else {
            Box::new(layers.iter().rev())
        };
        for &l in order {
            place_layer(graph, &graph.rows[l], &mut y);
        }
    }
    let top = y.iter().copied().fold(f64::INFINITY, f64::min);
    if top.is_finite() {
        for v in &mut y {
            *v -= top;
        }
    }
    y
}

/// Places one layer: the heights in order with their gaps that are closest (weighted least squares) to the mean
/// heights of each node's neighbours.
fn place_layer(graph: &Layered, row: &[usize], y: &mut [f64]) {
    if row.is_empty() {
        return;
    }
    // With offsets o_i (the sum of the gaps before node i), z_i = y_i - o_i must not decrease: isotonic regression
    // of the targets t_i = wanted_i - o_i.
    let mut offset = 0.0;
    let mut blocks: Vec<(f64, f64, usize)> = Vec::with_capacity(row.len()); // (weighted sum, weight, count)
    let mut offsets = Vec::with_capacity(row.len());
    for (i, &n) in row.iter().enumerate() {
        if i > 0 {
            offset += gap(graph, row[i - 1], n);
        }
        offsets.push(offset);
        let neighbours: Vec<f64> = graph.up[n]
            .iter()
            .chain(&graph.down[n])
            .map(|&m| y[m])
            .collect();
        let wanted = if neighbours.is_empty() {
            y[n]
        } else {
            neighbours.iter().sum::<f64>() / neighbours.len() as f64
        };
        let weight =
            if n < graph.real { 1.0 } else { DUMMY_WEIGHT } * (neighbours.len().max(1) as f64);
        let target = wanted - offset;
        blocks.push((target * weight, weight, 1));
        while blocks.len() > 1 {
            let last = blocks[blocks.len() - 1];
            let before = blocks[blocks.len() - 2];
            if before.0 / before.1 <= last.0 / last.1 {
                break;
            }
            blocks.pop();
            if let Some(merged) = blocks.last_mut() {
                *merged = (before.0 + last.0, before.1 + last.1, before.2 + last.2);
            }
        }
    }
    let mut i = 0;
    for (sum, weight, count) in blocks {
        let z = sum / weight;
        for _ in 0..count {
            y[row[i]] = z + offsets[i];
            i += 1;
        }
    }
}
