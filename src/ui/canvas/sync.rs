//! The view graph derived from the design: rebuilt when the document, its findings or the focus change.

use super::*;

impl Canvas {
    /// Rebuilds the view graph from the design when the document or its findings have changed since the last build.
    pub(super) fn sync_with(
        &mut self,
        design: &Design,
        state_id: u64,
        selection: &Selection,
        badges: &Badges,
    ) {
        if self.built_for_state == Some(state_id)
            && self.badges == *badges
            && self.built_focus == self.focus
        {
            return;
        }
        self.built_focus = self.focus.clone();
        self.built_for_state = Some(state_id);
        self.badges = badges.clone();
        let mut graph = CanvasGraph::new();
        let mut nodes = HashMap::with_capacity(design.services.len());
        let mut next_free_slot = 0.0f32;
        for service in &design.services {
            let position = service.position.map_or_else(
                || {
                    // Services without a position are stacked at the left until the user lays them out.
                    next_free_slot += 1.0;
                    Pos2::new(
                        -SERVICE_WIDTH * 1.5,
                        next_free_slot * (SERVICE_HEIGHT + 20.0),
                    )
                },
                |[x, y]| Pos2::new(x, y),
            );
            let index = graph.add_node_with_label_and_location(
                service.id.clone(),
                service.display_name().to_owned(),
                position,
            );
            if let Some(node) = graph.node_mut(index) {
                node.set_selected(selection.services.contains(&service.id));
                let display = node.display_mut();
                display.kind = service.kind;
                display.replicas = service.replicas;
                display.badge = badges.services.get(service.id.as_str()).copied();
                display.dimmed = self
                    .focus
                    .as_ref()
                    .is_some_and(|(services, _)| services.binary_search(&service.id).is_err());
            }
            nodes.insert(service.id.clone(), index);
        }
        // Calls joining the same two services (either way) get side-by-side lanes.
        let mut pair_counts: HashMap<(&str, &str), usize> = HashMap::new();
        for edge in &design.edges {
            *pair_counts.entry(unordered_pair(edge)).or_default() += 1;
        }
        let mut pair_seen: HashMap<(&str, &str), usize> = HashMap::new();
        let mut edges = HashMap::with_capacity(design.edges.len());
        for edge in &design.edges {
            let (Some(&from), Some(&to)) = (nodes.get(&edge.from), nodes.get(&edge.to)) else {
                continue;
            };
            let pair = unordered_pair(edge);
            let lanes = pair_counts.get(&pair).copied().unwrap_or(1);
            let seen = pair_seen.entry(pair).or_default();
            let mut lane_offset = (*seen as f32 - (lanes as f32 - 1.0) / 2.0) * LANE_SPACING;
            *seen += 1;
            if edge.from.as_str() > edge.to.as_str() {
                // The normal flips with the direction; flipping the offset too keeps lanes apart.
                lane_offset = -lane_offset;
            }
            let index = graph.add_edge(from, to, edge.id.clone());
            edges.insert(edge.id.clone(), index);
            if let Some(view_edge) = graph.edge_mut(index) {
                view_edge.set_selected(selection.edges.contains(&edge.id));
                let display = view_edge.display_mut();
                display.mode = edge.mode;
                display.label = call_label(design, edge);
                display.lane_offset = lane_offset;
                display.badge = badges.edges.get(edge.id.as_str()).copied();
                display.dimmed = self
                    .focus
                    .as_ref()
                    .is_some_and(|(_, edges)| edges.binary_search(&edge.id).is_err());
            }
        }
        self.graph = graph;
        self.nodes = nodes;
        self.edges = edges;
        // The new shapes carry no live numbers yet.
        self.live_drawn = false;
    }
}

/// A layout that leaves every node where the design put it.
#[derive(Debug, Default)]
pub(super) struct KeepPositions;

/// The (empty) state of [`KeepPositions`].
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub(super) struct KeepPositionsState;

impl LayoutState for KeepPositionsState {}

impl Layout<KeepPositionsState> for KeepPositions {
    fn from_state(_: KeepPositionsState) -> impl Layout<KeepPositionsState> {
        KeepPositions
    }

    fn next<N, E, Ty, Ix, Dn, De>(
        &mut self,
        _: &mut egui_graphs::Graph<N, E, Ty, Ix, Dn, De>,
        _: &egui::Ui,
    ) where
        N: Clone,
        E: Clone,
        Ty: petgraph::EdgeType,
        Ix: petgraph::stable_graph::IndexType,
        Dn: DisplayNode<N, E, Ty, Ix>,
        De: DisplayEdge<N, E, Ty, Ix, Dn>,
    {
    }

    fn state(&self) -> KeepPositionsState {
        KeepPositionsState
    }
}

/// Distance between calls that join the same two services, in canvas units.
pub(super) const LANE_SPACING: f32 = 18.0;

pub(super) fn unordered_pair(edge: &Edge) -> (&str, &str) {
    let (a, b) = (edge.from.as_str(), edge.to.as_str());
    if a <= b { (a, b) } else { (b, a) }
}

/// The label of a call: its protocol and, where set, its timeout, retries, breaker and parallel group.
pub fn call_label(design: &Design, edge: &Edge) -> String {
    let mut parts = vec![edge.effective_protocol().as_str().to_owned()];
    if let Some(timeout) = edge.timeout_ms {
        parts.push(format!("{timeout}ms"));
    }
    if let Some(retry) = &edge.retry {
        parts.push(format!("↻{}", retry.max_retries));
    }
    if edge.circuit_breaker.is_some() {
        parts.push("CB".to_owned());
    }
    if edge.probability < 1.0 {
        parts.push(format!("p={}", edge.probability));
    }
    // Number the call among the calls its caller makes in the same flows; equal numbers run in parallel. Calls of
    // different flows never run together, so they are not numbered against each other.
    let shares_a_flow = |other: &Edge| match (&edge.flows, &other.flows) {
        (Some(mine), Some(theirs)) => mine.iter().any(|f| theirs.contains(f)),
        _ => true,
    };
    let siblings: Vec<&Edge> = design
        .edges
        .iter()
        .filter(|e| e.from == edge.from && shares_a_flow(e))
        .collect();
    if siblings.len() > 1 {
        let mut orders: Vec<i32> = siblings.iter().map(|e| e.order).collect();
        orders.sort_unstable();
        orders.dedup();
        let step = orders
            .iter()
            .position(|&o| o == edge.order)
            .map_or(0, |p| p + 1);
        let parallel = siblings.iter().filter(|e| e.order == edge.order).count() > 1;
        parts.insert(
            0,
            if parallel {
                format!("#{step} par")
            } else {
                format!("#{step}")
            },
        );
    }
    parts.join(" · ")
}
