//! Groups kept together. Each group is a band: within every layer its services (and the long calls leaving them)
//! sit next to each other, and the bands are stacked top to bottom with room between them, so the box drawn
//! around a group's services holds them and nothing else. Services without a group form a band of their own.

use super::order::Layered;

/// Room between the bands of two groups, in rows: two boxes' padding and a group's title fit in it.
const BAND_GAP: f64 = 1.6;

/// The band of every node: a service's own (`band`, by service), a dummy node's that of the service its call
/// leaves from, so a long call runs along its caller's band.
fn node_bands(graph: &Layered, band: &[usize]) -> Vec<usize> {
    let mut bands = band.to_vec();
    for n in graph.real..graph.layer.len() {
        // Dummy nodes are numbered along their chain, so the one above is already banded.
        let above = graph.up[n].first().copied().unwrap_or(0);
        let of_above = bands.get(above).copied().unwrap_or(0);
        bands.push(of_above);
    }
    bands
}

/// Reorders every layer so each band's nodes are contiguous, keeping the crossing-minimised order within a band;
/// the bands are ranked by where their services sit on average. Returns the bands' rank of every node.
pub(super) fn group_layers(graph: &mut Layered, band: &[usize]) -> Vec<usize> {
    let bands = node_bands(graph, band);
    let count = bands.iter().max().map_or(0, |m| m + 1);
    let (mut sum, mut members) = (vec![0.0f64; count], vec![0usize; count]);
    for row in &graph.rows {
        for (i, &n) in row.iter().enumerate() {
            if n < graph.real {
                sum[bands[n]] += (i as f64 + 0.5) / row.len() as f64;
                members[bands[n]] += 1;
            }
        }
    }
    let mut by_place: Vec<usize> = (0..count).collect();
    by_place.sort_by(|&a, &b| {
        let mean = |x: usize| sum[x] / members[x].max(1) as f64;
        mean(a).total_cmp(&mean(b)).then(a.cmp(&b))
    });
    let mut rank = vec![0usize; count];
    for (r, &b) in by_place.iter().enumerate() {
        rank[b] = r;
    }
    let node_rank: Vec<usize> = bands.iter().map(|&b| rank[b]).collect();
    for row in &mut graph.rows {
        row.sort_by_key(|&n| node_rank[n]);
    }
    node_rank
}

/// Moves each band as a whole so that it lies below the one ranked before it, `BAND_GAP` rows apart.
pub(super) fn stack_bands(node_rank: &[usize], heights: &mut [f64]) {
    let count = node_rank.iter().max().map_or(0, |m| m + 1);
    let (mut low, mut high) = (vec![f64::INFINITY; count], vec![f64::NEG_INFINITY; count]);
    for (&r, &y) in node_rank.iter().zip(heights.iter()) {
        low[r] = low[r].min(y);
        high[r] = high[r].max(y);
    }
    let mut offset = vec![0.0f64; count];
    let mut bottom: Option<f64> = None;
    for r in 0..count {
        if !low[r].is_finite() {
            continue;
        }
        offset[r] = bottom.map_or(-low[r], |b| b + BAND_GAP - low[r]);
        bottom = Some(high[r] + offset[r]);
    }
    for (&r, y) in node_rank.iter().zip(heights.iter_mut()) {
        *y += offset[r];
    }
}
