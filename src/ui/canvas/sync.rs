//! The view graph derived from the design: rebuilt when the document, its findings or the focus change.

use super::*;

impl Canvas {
    /// Rebuilds the view graph from the design when the document, its findings, the focus or the collapsed groups
    /// have changed since the last build.
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
            && self.built_collapsed == self.collapsed
        {
            return;
        }
        self.built_focus = self.focus.clone();
        self.built_collapsed = self.collapsed.clone();
        self.built_for_state = Some(state_id);
        self.badges = badges.clone();
        let focused = |id: &ServiceId| {
            self.focus
                .as_ref()
                .is_none_or(|(services, _)| services.binary_search(id).is_ok())
        };
        let mut graph = CanvasGraph::new();
        let mut nodes = HashMap::with_capacity(design.services.len());
        let mut group_nodes: HashMap<NodeIndex, GroupNode> = HashMap::new();
        let mut group_index: HashMap<&str, NodeIndex> = HashMap::new();
        let mut next_free_slot = 0.0f32;
        // A prefix every name shares is said once on the canvas rather than on every box.
        let prefix = names::common_prefix(design.services.iter().map(|s| s.display_name()));
        let suffix = names::frequent_suffix(design.services.iter().map(|s| s.display_name()));
        let gap = column_gap(
            design
                .services
                .iter()
                .filter_map(|s| s.position.map(|[x, _]| x)),
        );
        let short = |name: &'_ str| -> String {
            names::shortened(name, prefix.as_deref(), suffix.as_deref()).to_owned()
        };
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
            if let Some(group) = service
                .group
                .as_deref()
                .filter(|g| self.collapsed.contains(*g))
            {
                let index = *group_index.entry(group).or_insert_with(|| {
                    graph.add_node_with_label_and_location(
                        group_node_id(group),
                        group.to_owned(),
                        Pos2::ZERO,
                    )
                });
                group_nodes
                    .entry(index)
                    .or_default()
                    .members
                    .push((service.id.clone(), service.total_workers() as f64));
                if let Some(node) = graph.node_mut(index) {
                    // The box sits where its members' centre is.
                    let members = group_nodes.get(&index).map_or(1, |g| g.members.len()) as f32;
                    let location = node.location()
                        + (position.to_vec2() - node.location().to_vec2()) / members;
                    node.set_location(location);
                    let selected = node.selected() || selection.services.contains(&service.id);
                    node.set_selected(selected);
                    let display = node.display_mut();
                    display.group_members = Some(members as usize);
                    // Dimmed when no member is on the focus.
                    let first_member = members == 1.0;
                    display.dimmed = (first_member || display.dimmed) && !focused(&service.id);
                }
                nodes.insert(service.id.clone(), index);
                continue;
            }
            let index = graph.add_node_with_label_and_location(
                service.id.clone(),
                short(service.display_name()),
                position,
            );
            if let Some(node) = graph.node_mut(index) {
                node.set_selected(selection.services.contains(&service.id));
                let display = node.display_mut();
                display.column_gap = gap;
                display.full_name = (short(service.display_name()) != service.display_name())
                    .then(|| service.display_name().to_owned());
                display.kind = service.kind;
                display.replicas = service.replicas;
                display.badge = badges.services.get(service.id.as_str()).copied();
                display.dimmed = !focused(&service.id);
                display.change = self
                    .compare
                    .as_ref()
                    .and_then(|c| c.services.get(&service.id).copied());
            }
            nodes.insert(service.id.clone(), index);
        }
        // The calls to draw: each design call between the nodes its ends are drawn as; a collapsed group's calls
        // in and out are merged per pair of ends, and its calls within are not drawn.
        let mut drawn: Vec<(NodeIndex, NodeIndex, Vec<&Edge>)> = Vec::new();
        let mut merged_at: HashMap<(NodeIndex, NodeIndex), usize> = HashMap::new();
        for edge in &design.edges {
            let (Some(&from), Some(&to)) = (nodes.get(&edge.from), nodes.get(&edge.to)) else {
                continue;
            };
            let grouped = group_nodes.contains_key(&from) || group_nodes.contains_key(&to);
            if grouped && from == to {
                continue;
            }
            if grouped {
                if let Some(&at) = merged_at.get(&(from, to)) {
                    drawn[at].2.push(edge);
                    continue;
                }
                merged_at.insert((from, to), drawn.len());
            }
            drawn.push((from, to, vec![edge]));
        }
        // Calls joining the same two boxes (either way) get side-by-side lanes.
        let pair = |a: NodeIndex, b: NodeIndex| if a <= b { (a, b) } else { (b, a) };
        let mut pair_counts: HashMap<(NodeIndex, NodeIndex), usize> = HashMap::new();
        for (from, to, _) in &drawn {
            *pair_counts.entry(pair(*from, *to)).or_default() += 1;
        }
        let mut pair_seen: HashMap<(NodeIndex, NodeIndex), usize> = HashMap::new();
        let mut edges = HashMap::with_capacity(design.edges.len());
        let mut merged_edges = HashMap::new();
        let on_focus = |id: &EdgeId| {
            self.focus
                .as_ref()
                .is_none_or(|(_, edges)| edges.binary_search(id).is_ok())
        };
        for (from, to, calls) in drawn {
            let Some(first) = calls.first() else {
                continue;
            };
            let key = pair(from, to);
            let lanes = pair_counts.get(&key).copied().unwrap_or(1);
            let seen = pair_seen.entry(key).or_default();
            let mut lane_offset = (*seen as f32 - (lanes as f32 - 1.0) / 2.0) * LANE_SPACING;
            *seen += 1;
            if from > to {
                // The normal flips with the direction; flipping the offset too keeps lanes apart.
                lane_offset = -lane_offset;
            }
            let index = graph.add_edge(from, to, first.id.clone());
            for call in &calls {
                edges.insert(call.id.clone(), index);
            }
            if let Some(view_edge) = graph.edge_mut(index) {
                view_edge.set_selected(calls.iter().any(|c| selection.edges.contains(&c.id)));
                let display = view_edge.display_mut();
                display.lane_offset = lane_offset;
                display.dimmed = !calls.iter().any(|c| on_focus(&c.id));
                display.has_breaker = calls.iter().any(|c| c.circuit_breaker.is_some());
                display.compensation = calls.len() == 1 && first.is_compensation();
                display.change = self.compare.as_ref().and_then(|c| {
                    calls
                        .iter()
                        .filter_map(|call| c.edges.get(&call.id).copied())
                        .min_by_key(|mark| *mark == ChangeMark::Changed)
                });
                if calls.len() == 1 {
                    display.mode = first.mode;
                    display.label = call_label(design, first);
                    display.short_label = first.effective_protocol().as_str().to_owned();
                    display.badge = badges.edges.get(first.id.as_str()).copied();
                } else {
                    let all_async = calls.iter().all(|c| c.mode == CallMode::Async);
                    display.mode = if all_async {
                        CallMode::Async
                    } else {
                        CallMode::Sync
                    };
                    display.label = format!("{} calls", calls.len());
                    display.badge = calls
                        .iter()
                        .filter_map(|c| badges.edges.get(c.id.as_str()).copied())
                        .reduce(|a, b| (a.0.min(b.0), a.1 + b.1));
                }
            }
            if calls.len() > 1 {
                merged_edges.insert(index, calls.iter().map(|c| c.id.clone()).collect());
            }
        }
        self.name_affixes = (prefix, suffix);
        cover_overlapping_boxes(&mut graph);
        route_calls_around_boxes(&mut graph);
        self.graph = graph;
        self.graph_generation += 1;
        self.nodes = nodes;
        self.edges = edges;
        self.group_nodes = group_nodes;
        self.merged_edges = merged_edges;
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

/// A call drawn between two different services (a call to itself is a loop below its box: no label to move, no
/// line to route), with its ends.
pub(super) struct DrawnCall<'g> {
    pub(super) index: EdgeIndex,
    pub(super) shape: &'g CallShape,
    pub(super) from: NodeIndex,
    pub(super) to: NodeIndex,
    pub(super) start: &'g ServiceNode,
    pub(super) end: &'g ServiceNode,
}

pub(super) fn calls_between_two_services(
    graph: &CanvasGraph,
) -> impl Iterator<Item = DrawnCall<'_>> {
    graph.edges_iter().filter_map(|(index, edge)| {
        let (from, to) = graph.edge_endpoints(index)?;
        let (start, end) = (graph.node(from)?, graph.node(to)?);
        (from != to).then_some(DrawnCall {
            index,
            shape: edge.display(),
            from,
            to,
            start,
            end,
        })
    })
}

/// Every box of the view graph, sorted by its left edge. From the nodes' locations, not their shapes' (which catch
/// up only when egui_graphs next updates them).
fn boxes_by_left_edge(graph: &CanvasGraph) -> Vec<(NodeIndex, Rect)> {
    let size = Vec2::new(SERVICE_WIDTH, SERVICE_HEIGHT);
    let mut boxes: Vec<(NodeIndex, Rect)> = graph
        .nodes_iter()
        .map(|(index, node)| (index, Rect::from_center_size(node.location(), size)))
        .collect();
    boxes.sort_by(|a, b| a.1.min.x.total_cmp(&b.1.min.x));
    boxes
}

/// Bends each call whose straight line crosses another box round it (see `route`). Boxes are sorted by their left
/// edge so that a call looks only at the boxes within its horizontal reach.
fn route_calls_around_boxes(graph: &mut CanvasGraph) {
    let boxes = boxes_by_left_edge(graph);
    let mut bends = Vec::new();
    for call in calls_between_two_services(graph) {
        let (from, to) = (call.from, call.to);
        let (a, b) = (call.start.location(), call.end.location());
        let shift = route::normal(a, b) * call.shape.lane_offset;
        let (a, b) = (a + shift, b + shift);
        // Boxes within the call's reach sideways and lengthwise, but for its own two.
        let reach = (b - a).length() / 2.0 + 400.0;
        let middle = a + (b - a) / 2.0;
        let first = boxes.partition_point(|(_, r)| r.min.x < middle.x - reach - SERVICE_WIDTH);
        let near: Vec<Rect> = boxes[first..]
            .iter()
            .take_while(|(_, r)| r.min.x <= middle.x + reach)
            .filter(|(node, _)| *node != from && *node != to)
            .map(|(_, r)| *r)
            .collect();
        let bend = route::bend_around(a, b, &near);
        if bend != 0.0 {
            bends.push((call.index, bend));
        }
    }
    for (index, bend) in bends {
        if let Some(edge) = graph.edge_mut(index) {
            edge.display_mut().bend = bend;
        }
    }
}

/// Tells every box which later boxes (drawn over it) overlap it, so the topmost box takes a click. Boxes are
/// sorted by their left edge so that only neighbours within a box's width are compared.
fn cover_overlapping_boxes(graph: &mut CanvasGraph) {
    let boxes = boxes_by_left_edge(graph);
    let mut covers: Vec<(NodeIndex, Rect)> = Vec::new();
    for (i, &(a, rect_a)) in boxes.iter().enumerate() {
        for &(b, rect_b) in &boxes[i + 1..] {
            if rect_b.min.x >= rect_a.max.x {
                break;
            }
            if rect_a.intersects(rect_b) {
                // The later node in the view graph is drawn over the earlier one.
                let (under, over) = if a < b { (a, rect_b) } else { (b, rect_a) };
                covers.push((under, over));
            }
        }
    }
    for (under, over) in covers {
        if let Some(node) = graph.node_mut(under) {
            node.display_mut().covered_by.push(over);
        }
    }
}

/// Distance between calls that join the same two services, in canvas units.
pub(super) const LANE_SPACING: f32 = 18.0;

/// The label of a call: its protocol and, where set, its timeout, retries, breaker and parallel group.
pub fn call_label(design: &Design, edge: &Edge) -> String {
    let mut parts = vec![edge.effective_protocol().as_str().to_owned()];
    if let Some(undone) = &edge.compensates {
        // A compensating call has no place in the order: it says what it undoes instead.
        let name = design.edge(undone.as_str()).map_or_else(
            || undone.to_string(),
            |e| design.service_name(e.to.as_str()).to_owned(),
        );
        parts.insert(0, format!("undo {name}"));
    }
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
        .filter(|e| e.from == edge.from && shares_a_flow(e) && !e.is_compensation())
        .collect();
    if siblings.len() > 1 && !edge.is_compensation() {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A canvas of the design, its shapes told their nodes' locations as before drawing.
    fn laid_out(design: &Design) -> Canvas {
        let mut canvas = Canvas::default();
        canvas.sync_with(design, 1, &Selection::default(), &Badges::default());
        // What egui_graphs does before drawing: the shapes learn their nodes' locations.
        let nodes: Vec<NodeIndex> = canvas.graph.nodes_iter().map(|(i, _)| i).collect();
        for index in nodes {
            let node = canvas
                .graph
                .node_mut(index)
                .expect("a node listed a moment ago");
            let props = node.props().clone();
            node.display_mut().update(&props);
        }
        canvas
    }

    /// The boxes (other than its own two) that a call's drawn path crosses, for every call of a sample.
    fn crossings(path: &std::path::Path) -> Vec<String> {
        let design = crate::model::load_file(path).expect("a sample loads");
        let canvas = laid_out(&design);
        let graph = &canvas.graph;
        let size = Vec2::new(SERVICE_WIDTH, SERVICE_HEIGHT);
        let mut found = Vec::new();
        for (index, edge) in graph.edges_iter() {
            let (from, to) = graph.edge_endpoints(index).expect("an edge has ends");
            let (start, end) = (graph.node(from).unwrap(), graph.node(to).unwrap());
            let path = edge.display().path(start, end);
            for (other, node) in graph.nodes_iter() {
                let rect = Rect::from_center_size(node.location(), size);
                if other != from
                    && other != to
                    && path
                        .windows(2)
                        .any(|w| route::segment_hits_rect(w[0], w[1], rect))
                {
                    found.push(format!("{} through {}", edge.payload(), node.payload()));
                }
            }
        }
        found
    }

    #[test]
    fn no_call_of_a_sample_is_drawn_through_another_box() {
        let samples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
        let mut seen = 0;
        for entry in std::fs::read_dir(samples).expect("the samples folder") {
            let path = entry.expect("a folder entry").path();
            if path.extension().is_some_and(|e| e == "syncopate") {
                assert_eq!(crossings(&path), Vec::<String>::new(), "{}", path.display());
                seen += 1;
            }
        }
        assert!(seen >= 9, "only {seen} samples found");
    }

    /// A call to its own service loops out of the box where it can be seen (it was a hook along the border, under
    /// the outline and the badge), and two such calls make two loops.
    #[test]
    fn calls_to_their_own_service_loop_outside_the_box_apart() {
        let design = crate::model::load_from_str(
            r#"{"type": "syncopate", "version": 1, "name": "loops",
                "services": [{"id": "a", "position": [0, 0]}],
                "edges": [{"id": "again", "from": "a", "to": "a", "mode": "async", "topic": "x"},
                          {"id": "retry", "from": "a", "to": "a", "mode": "async", "topic": "y"}]}"#,
            "test",
        )
        .expect("the design loads");
        let canvas = laid_out(&design);
        let graph = &canvas.graph;
        let mut tips = Vec::new();
        for (index, edge) in graph.edges_iter() {
            let (from, to) = graph.edge_endpoints(index).expect("an edge has ends");
            let node = graph.node(from).expect("its node");
            let path = edge.display().path(node, graph.node(to).expect("its node"));
            let bottom = node.location().y + SERVICE_HEIGHT / 2.0;
            let tip = path.iter().map(|p| p.y).fold(f32::MIN, f32::max);
            assert!(
                tip >= bottom + 15.0,
                "{}: reaches {tip}, box ends at {bottom}",
                edge.payload()
            );
            tips.push(tip);
        }
        assert!(!tips.is_empty(), "the self-calls are drawn");
        tips.sort_by(f32::total_cmp);
        tips.dedup_by(|a, b| (*a - *b).abs() < 8.0);
        assert_eq!(
            tips.len(),
            graph.edges_iter().count(),
            "each call its own loop: {tips:?}"
        );
    }
}
