//! The order of services within their layers: long calls are broken into chains of dummy nodes, one per layer
//! they pass, then the layers are reordered by median and barycenter sweeps with transpositions, keeping the order
//! with the fewest crossings (the scheme of Sugiyama et al. and of Graphviz dot).

/// A layered graph: real services `0..real`, then dummy nodes of long calls.
pub(super) struct Layered {
    /// Number of real services (the first nodes).
    pub(super) real: usize,
    /// Each node's layer.
    pub(super) layer: Vec<usize>,
    /// Neighbours in the layer before (`up`) and after (`down`).
    pub(super) up: Vec<Vec<usize>>,
    pub(super) down: Vec<Vec<usize>>,
    /// The nodes of each layer, in order.
    pub(super) rows: Vec<Vec<usize>>,
}

/// The first orders tried (see `Layered::initial_order`); the layout keeps whichever ends with the fewest
/// crossings.
pub(super) const STARTS: usize = 4;

/// Sweeps without improvement before the ordering stops.
const PATIENCE: usize = 4;
/// Most sweeps in all.
const MAX_SWEEPS: usize = 32;

impl Layered {
    /// The layered graph of `pairs` (caller, callee) over services in `layer`: each pair points from its lower
    /// layer to its higher, and spans of more than one layer get a dummy node in each layer between. Pairs within
    /// one layer are left out (they do not constrain the order). `start` picks the first order (see
    /// [`STARTS`]).
    pub(super) fn new(layer: &[usize], pairs: &[(usize, usize)], start: usize) -> Self {
        let real = layer.len();
        let mut graph = Self {
            real,
            layer: layer.to_vec(),
            up: vec![Vec::new(); real],
            down: vec![Vec::new(); real],
            rows: Vec::new(),
        };
        let mut seen = std::collections::HashSet::new();
        for &(a, b) in pairs {
            let (from, to) = match layer[a].cmp(&layer[b]) {
                std::cmp::Ordering::Less => (a, b),
                std::cmp::Ordering::Greater => (b, a),
                std::cmp::Ordering::Equal => continue,
            };
            if !seen.insert((from, to)) {
                continue;
            }
            let mut previous = from;
            for l in layer[from] + 1..layer[to] {
                let dummy = graph.layer.len();
                graph.layer.push(l);
                graph.up.push(vec![previous]);
                graph.down.push(Vec::new());
                graph.down[previous].push(dummy);
                previous = dummy;
            }
            graph.down[previous].push(to);
            graph.up[to].push(previous);
        }
        let layers = graph.layer.iter().max().map_or(0, |m| m + 1);
        graph.rows = vec![Vec::new(); layers];
        graph.initial_order(start);
        graph
    }

    /// A first order: depth-first from the services that nothing calls (or, for odd `start`, from those that call
    /// nothing, upward), in file order (or, for `start` of 2 and 3, in reverse), so that a caller's callees (a
    /// callee's callers) start out together. The sweeps end in different local optima from different starts.
    fn initial_order(&mut self, start: usize) {
        let nodes = self.layer.len();
        let mut placed = vec![false; nodes];
        let upward = start % 2 == 1;
        let file_order: Vec<usize> = if start / 2 % 2 == 1 {
            (0..nodes).rev().collect()
        } else {
            (0..nodes).collect()
        };
        let is_end = |n: usize| {
            if upward {
                self.down[n].is_empty()
            } else {
                self.up[n].is_empty()
            }
        };
        let starts: Vec<usize> = file_order
            .iter()
            .copied()
            .filter(|&n| is_end(n))
            .chain(file_order.iter().copied())
            .collect();
        for start in starts {
            if placed[start] {
                continue;
            }
            let mut stack = vec![start];
            while let Some(node) = stack.pop() {
                if placed[node] {
                    continue;
                }
                placed[node] = true;
                self.rows[self.layer[node]].push(node);
                let next_nodes = if upward {
                    &self.up[node]
                } else {
                    &self.down[node]
                };
                for &next in next_nodes.iter().rev() {
                    if !placed[next] {
                        stack.push(next);
                    }
                }
            }
        }
    }

    fn positions(&self) -> Vec<usize> {
        let mut position = vec![0; self.layer.len()];
        for row in &self.rows {
            for (i, &n) in row.iter().enumerate() {
                position[n] = i;
            }
        }
        position
    }

    /// Crossings between every pair of adjacent layers.
    pub(super) fn crossings(&self) -> usize {
        let position = self.positions();
        (0..self.rows.len().saturating_sub(1))
            .map(|l| self.crossings_between(l, &position))
            .sum()
    }

    /// Crossings of the segments between layer `l` and `l + 1`: inversions of the lower ends once the segments
    /// are sorted by their upper ends (Barth, Mutzel and Jünger), counted with a Fenwick tree.
    fn crossings_between(&self, l: usize, position: &[usize]) -> usize {
        let mut ends: Vec<(usize, usize)> = self.rows[l]
            .iter()
            .flat_map(|&u| {
                self.down[u]
                    .iter()
                    .map(move |&v| (position[u], position[v]))
            })
            .collect();
        ends.sort_unstable();
        let size = self.rows.get(l + 1).map_or(0, Vec::len) + 1;
        let mut tree = vec![0usize; size + 1];
        let mut crossings = 0;
        for (count, &(_, lower)) in ends.iter().enumerate() {
            // Segments seen so far whose lower end is right of this one cross it.
            let mut at_most = 0;
            let mut i = lower + 1;
            while i > 0 {
                at_most += tree[i];
                i -= i & i.wrapping_neg();
            }
            crossings += count - at_most;
            let mut i = lower + 1;
            while i <= size {
                tree[i] += 1;
                i += i & i.wrapping_neg();
            }
        }
        crossings
    }

    /// Reorders the layers to few crossings; keeps the best order seen.
    pub(super) fn minimise_crossings(&mut self) {
        let mut best = self.rows.clone();
        let mut best_crossings = self.crossings();
        let mut since_better = 0;
        for sweep in 0..MAX_SWEEPS {
            if best_crossings == 0 || since_better >= PATIENCE {
                break;
            }
            let downward = sweep % 2 == 0;
            let median = sweep % 4 < 2;
            self.sweep(downward, median);
            self.transpose();
            let crossings = self.crossings();
            if crossings < best_crossings {
                best_crossings = crossings;
                best = self.rows.clone();
                since_better = 0;
            } else {
                since_better += 1;
            }
        }
        self.rows = best;
    }

    /// One sweep: each layer sorted by the median (or barycenter) position of its neighbours in the layer before
    /// (downward) or after; a node without such neighbours keeps its place.
    fn sweep(&mut self, downward: bool, median: bool) {
        let layers: Vec<usize> = if downward {
            (1..self.rows.len()).collect()
        } else {
            (0..self.rows.len().saturating_sub(1)).rev().collect()
        };
        let mut position = self.positions();
        for l in layers {
            let mut keyed: Vec<(f64, usize)> = self.rows[l]
                .iter()
                .enumerate()
                .map(|(i, &n)| {
                    let neighbours = if downward { &self.up[n] } else { &self.down[n] };
                    let mut at: Vec<usize> = neighbours.iter().map(|&m| position[m]).collect();
                    let key = if at.is_empty() {
                        i as f64
                    } else if median {
                        at.sort_unstable();
                        let mid = at.len() / 2;
                        if at.len() % 2 == 1 {
                            at[mid] as f64
                        } else {
                            (at[mid - 1] + at[mid]) as f64 / 2.0
                        }
                    } else {
                        at.iter().sum::<usize>() as f64 / at.len() as f64
                    };
                    (key, n)
                })
                .collect();
            // Stable: ties keep their order.
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
            self.rows[l] = keyed.into_iter().map(|(_, n)| n).collect();
            for (i, &n) in self.rows[l].iter().enumerate() {
                position[n] = i;
            }
        }
    }

    /// Crossings between the segments of `a` and of `b` (with `a` left of `b`) to the nodes of `neighbours`.
    fn pair_crossings(position: &[usize], a: &[usize], b: &[usize]) -> usize {
        a.iter()
            .map(|&x| b.iter().filter(|&&y| position[y] < position[x]).count())
            .sum()
    }

    /// Swaps neighbours within a layer while that removes crossings.
    fn transpose(&mut self) {
        let mut position = self.positions();
        let mut improved = true;
        let mut rounds = 0;
        while improved && rounds < 8 {
            improved = false;
            rounds += 1;
            for l in 0..self.rows.len() {
                for i in 0..self.rows[l].len().saturating_sub(1) {
                    let (a, b) = (self.rows[l][i], self.rows[l][i + 1]);
                    let now = Self::pair_crossings(&position, &self.up[a], &self.up[b])
                        + Self::pair_crossings(&position, &self.down[a], &self.down[b]);
                    let swapped = Self::pair_crossings(&position, &self.up[b], &self.up[a])
                        + Self::pair_crossings(&position, &self.down[b], &self.down[a]);
                    if swapped < now {
                        self.rows[l].swap(i, i + 1);
                        position[a] = i + 1;
                        position[b] = i;
                        improved = true;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crossing_is_counted_and_removed() {
        // a -> d, b -> c with c above d: one crossing, which the ordering removes.
        let layer = [0, 0, 1, 1];
        let mut graph = Layered::new(&layer, &[(0, 3), (1, 2)], 0);
        graph.rows[1] = vec![2, 3];
        assert_eq!(graph.crossings(), 1);
        graph.minimise_crossings();
        assert_eq!(graph.crossings(), 0);
    }

    #[test]
    fn long_calls_pass_through_a_dummy_per_layer() {
        let layer = [0, 1, 2, 3];
        let graph = Layered::new(&layer, &[(0, 1), (1, 2), (2, 3), (0, 3)], 0);
        assert_eq!(
            graph.layer.len(),
            6,
            "two dummies for the call over three layers"
        );
        assert_eq!(
            graph.rows.iter().map(Vec::len).collect::<Vec<_>>(),
            [1, 2, 2, 1]
        );
    }
}
