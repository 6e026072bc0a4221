//! The last step of the tidy layout: local moves judged on the picture itself. The ordering minimises crossings of
//! the layered graph, long calls broken into dummy nodes; what a person sees, and what the layout is held to
//! against Graphviz dot, are the calls drawn straight between services. Two orders the sweeps cannot tell apart
//! can differ by many such crossings, and a service placed in its own layer by call depth alone can sit far from
//! every service it talks to. So each service in turn tries to swap places with another of its layer, to move to a
//! free place level with one of its neighbours, or to move to another layer its calls allow (callers stay left of
//! callees), and keeps the move when the straight calls then cross less (or as little, with shorter calls). It
//! stops when a pass finds nothing, or at a budget of segment tests that keeps 1,000 services well under a second.

use super::{Point, segments_cross, segments_of};

/// Segment-pair tests the search may spend (30-35 ns each on the CI machine, the loop around them included).
const BUDGET_TESTS: u64 = 5_000_000;
/// Passes over every service at most.
const MAX_PASSES: usize = 8;
/// Other services of its layer a service tries to swap with: the nearest above and below.
const SWAP_REACH: usize = 12;
/// Layers each way a service tries to move to.
const LAYER_REACH: usize = 4;

/// A part's picture in layout units: each service's layer (x) and height (y, in rows; services of one layer at
/// least a row apart), and its calls as straight segments.
pub(super) struct Picture<'a> {
    layer: &'a mut [usize],
    height: &'a mut [f64],
    /// Which band (group) each service keeps to; with bands, services only swap within their band.
    band: &'a [usize],
    /// Each call once, its ends as service indices (no self-calls; a call each way is one segment).
    segments: Vec<(usize, usize)>,
    /// The calls that go right (caller's layer before callee's) when the search starts: they must keep going right.
    rightward: Vec<(usize, usize)>,
    /// Segments at each service.
    incident: Vec<Vec<usize>>,
    /// Segments whose horizontal extent holds each layer, to test a segment only against those it can meet.
    by_layer: Vec<Vec<usize>>,
    /// The services of each layer.
    members: Vec<Vec<usize>>,
    /// Stamps to test each segment once per question.
    seen: Vec<u64>,
    stamp: u64,
    tests: u64,
}

impl<'a> Picture<'a> {
    pub(super) fn new(
        layer: &'a mut [usize],
        height: &'a mut [f64],
        band: &'a [usize],
        pairs: &[(usize, usize)],
    ) -> Self {
        let segments = segments_of(pairs);
        let rightward = pairs
            .iter()
            .copied()
            .filter(|&(a, b)| layer[a] < layer[b])
            .collect();
        let mut incident = vec![Vec::new(); layer.len()];
        for (s, &(a, b)) in segments.iter().enumerate() {
            incident[a].push(s);
            incident[b].push(s);
        }
        let layers = layer.iter().max().map_or(0, |m| m + 1);
        let seen = vec![0; segments.len()];
        let mut members = vec![Vec::new(); layers];
        for (n, &l) in layer.iter().enumerate() {
            members[l].push(n);
        }
        let mut picture = Self {
            layer,
            height,
            band,
            segments,
            rightward,
            incident,
            by_layer: vec![Vec::new(); layers],
            members,
            seen,
            stamp: 0,
            tests: 0,
        };
        for s in 0..picture.segments.len() {
            picture.index(s);
        }
        picture
    }

    fn span(&self, s: usize) -> (usize, usize) {
        let (a, b) = self.segments[s];
        let (la, lb) = (self.layer[a], self.layer[b]);
        (la.min(lb), la.max(lb))
    }

    fn index(&mut self, s: usize) {
        let (low, high) = self.span(s);
        for l in low..=high {
            self.by_layer[l].push(s);
        }
    }

    fn unindex(&mut self, s: usize) {
        let (low, high) = self.span(s);
        for l in low..=high {
            self.by_layer[l].retain(|&t| t != s);
        }
    }

    fn at(&self, n: usize) -> Point {
        (self.layer[n] as f64, self.height[n])
    }

    /// Crossings that involve a call of `moved`: each pair counted once.
    fn crossings_at(&mut self, moved: &[usize]) -> usize {
        let mine: Vec<usize> = moved
            .iter()
            .flat_map(|&n| self.incident[n].iter().copied())
            .collect();
        let mut count = 0;
        for (i, &s) in mine.iter().enumerate() {
            if mine[..i].contains(&s) {
                continue;
            }
            self.stamp += 1;
            let (a, b) = self.segments[s];
            let (p1, p2) = (self.at(a), self.at(b));
            let (low, high) = self.span(s);
            for l in low..=high {
                for k in 0..self.by_layer[l].len() {
                    let t = self.by_layer[l][k];
                    if self.seen[t] == self.stamp {
                        continue;
                    }
                    self.seen[t] = self.stamp;
                    // A pair of two moved calls is counted from the first of them only.
                    if let Some(j) = mine.iter().position(|&m| m == t)
                        && j <= i
                    {
                        continue;
                    }
                    let (c, d) = self.segments[t];
                    if a == c || a == d || b == c || b == d {
                        continue;
                    }
                    self.tests += 1;
                    if segments_cross(p1, p2, self.at(c), self.at(d)) {
                        count += 1;
                    }
                }
            }
        }
        count
    }

    /// Layers the calls of `moved` span, summed: shorter calls are the tie-break.
    fn span_at(&self, moved: &[usize]) -> usize {
        moved
            .iter()
            .flat_map(|&n| self.incident[n].iter())
            .map(|&s| {
                let (low, high) = self.span(s);
                high - low
            })
            .sum()
    }

    fn cost(&mut self, moved: &[usize]) -> (usize, usize) {
        (self.crossings_at(moved), self.span_at(moved))
    }

    /// Puts `n` at `layer` and `height`, keeping the layer index of its calls.
    fn place(&mut self, n: usize, layer: usize, height: f64) {
        if layer != self.layer[n] {
            let calls = self.incident[n].clone();
            for &s in &calls {
                self.unindex(s);
            }
            self.members[self.layer[n]].retain(|&m| m != n);
            self.members[layer].push(n);
            self.layer[n] = layer;
            for &s in &calls {
                self.index(s);
            }
        }
        self.height[n] = height;
    }

    /// The layers `n` may move to: right of every service that calls it rightward, left of every one it so calls,
    /// within the part's layers.
    fn allowed_layers(&self, n: usize) -> (usize, usize) {
        let last = self.by_layer.len().saturating_sub(1);
        let (mut low, mut high) = (0, last);
        for &(a, b) in &self.rightward {
            if b == n {
                low = low.max(self.layer[a] + 1);
            }
            if a == n {
                high = high.min(self.layer[b].saturating_sub(1));
            }
        }
        (low, high)
    }

    /// Whether `height` in `layer` is at least a row from every service there but `n`.
    fn free(&self, n: usize, layer: usize, height: f64) -> bool {
        self.members[layer]
            .iter()
            .all(|&m| m == n || (self.height[m] - height).abs() >= 1.0 - 1e-9)
    }

    /// The free heights nearest `target` in `layer` (for `n`): the target itself when free, else the nearest
    /// free height above and below it.
    fn free_near(&self, n: usize, layer: usize, target: f64) -> Vec<f64> {
        if self.free(n, layer, target) {
            return vec![target];
        }
        let mut taken: Vec<f64> = self.members[layer]
            .iter()
            .filter(|&&m| m != n)
            .map(|&m| self.height[m])
            .collect();
        taken.sort_by(f64::total_cmp);
        let mut places = Vec::new();
        // Up: from the target, past every taken height less than a row away, nearest first.
        let mut up = target;
        for &h in taken.iter().rev() {
            if (h - up).abs() < 1.0 - 1e-9 {
                up = h - 1.0;
            }
        }
        places.push(up);
        let mut down = target;
        for &h in &taken {
            if (h - down).abs() < 1.0 - 1e-9 {
                down = h + 1.0;
            }
        }
        places.push(down);
        places.retain(|&h| self.free(n, layer, h));
        places
    }

    /// Improves the picture by local moves until a pass finds none or the budget is spent.
    pub(super) fn improve(&mut self) {
        let grouped = self.band.iter().any(|&b| b > 0);
        let count = self.layer.len();
        for _ in 0..MAX_PASSES {
            let mut improved = false;
            for n in 0..count {
                if self.tests > BUDGET_TESTS {
                    return;
                }
                if self.incident[n].is_empty() {
                    continue;
                }
                improved |= self.try_swaps(n);
                if !grouped {
                    improved |= self.try_moves(n);
                }
            }
            if !improved {
                break;
            }
        }
    }

    fn try_swaps(&mut self, n: usize) -> bool {
        let layer = self.layer[n];
        let mut others: Vec<usize> = self.members[layer]
            .iter()
            .copied()
            .filter(|&m| m != n && self.band[m] == self.band[n])
            .collect();
        let here = self.height[n];
        others.sort_by(|&a, &b| {
            (self.height[a] - here)
                .abs()
                .total_cmp(&(self.height[b] - here).abs())
        });
        others.truncate(2 * SWAP_REACH);
        let mut improved = false;
        for m in others {
            let pair = [n, m];
            let before = self.cost(&pair);
            let (hn, hm) = (self.height[n], self.height[m]);
            self.height[n] = hm;
            self.height[m] = hn;
            if self.cost(&pair) < before {
                improved = true;
            } else {
                self.height[n] = hn;
                self.height[m] = hm;
            }
        }
        improved
    }

    fn try_moves(&mut self, n: usize) -> bool {
        let (low, high) = self.allowed_layers(n);
        let (layer, height) = (self.layer[n], self.height[n]);
        let mut targets: Vec<f64> = self.incident[n]
            .iter()
            .map(|&s| {
                let (a, b) = self.segments[s];
                self.height[if a == n { b } else { a }]
            })
            .collect();
        targets.push(height);
        targets.sort_by(f64::total_cmp);
        targets.dedup();
        let mut candidates: Vec<(usize, f64)> = Vec::new();
        // The layers nearest its own, at most `LAYER_REACH` each way.
        let (low, high) = (
            low.max(layer.saturating_sub(LAYER_REACH)),
            high.min(layer + LAYER_REACH),
        );
        for l in low..=high {
            for &target in &targets {
                for h in self.free_near(n, l, target) {
                    if (l, h) != (layer, height) {
                        candidates.push((l, h));
                    }
                }
            }
        }
        let mut best = self.cost(&[n]);
        let mut best_at = None;
        for (l, h) in candidates {
            self.place(n, l, h);
            let cost = self.cost(&[n]);
            if cost < best {
                best = cost;
                best_at = Some((l, h));
            }
        }
        let (l, h) = best_at.unwrap_or((layer, height));
        self.place(n, l, h);
        best_at.is_some()
    }
}
