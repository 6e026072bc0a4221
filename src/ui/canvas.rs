//! The design canvas, drawn with egui_graphs.
//!
//! The view graph is derived from the model and holds only ids; it is rebuilt whenever the document changes.
//! Positions come from the design (a layout that keeps them replaces egui_graphs' random one), fit-to-screen runs
//! only when asked, and idle frames are painted without `GraphView::show`, which would otherwise request a new
//! frame every frame and keep the CPU busy.

use std::collections::HashMap;

use egui::{
    Color32, FontId, Pos2, Rect, Sense, Shape, Stroke, StrokeKind, Vec2,
    epaint::{PathShape, PathStroke, TextShape},
};
use egui_graphs::{
    DisplayEdge, DisplayNode, DrawContext, EdgeProps, GraphChange, GraphView, Layout, LayoutState,
    MetadataFrame, NodeProps, SettingsInteraction, SettingsNavigation, SettingsStyle,
};
use petgraph::{
    Directed,
    stable_graph::{DefaultIx, EdgeIndex, NodeIndex},
};
use serde::{Deserialize, Serialize};

use crate::app::Command;
use crate::model::{CallMode, Design, Edge, EdgeId, Fault, ServiceId, ServiceKind};
use crate::rules::{Report, Severity, Subject};
use crate::sim::BreakerState;
use crate::sim::history::{EdgeNow, RunHistory, ServiceNow};
use crate::ui::warnings::severity_color;

/// Finding counts per service and per call, with the worst severity, drawn as badges.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Badges {
    services: HashMap<String, (Severity, usize)>,
    edges: HashMap<String, (Severity, usize)>,
}

impl Badges {
    /// Counts every finding against each service and call it names.
    pub fn from_report(report: &Report) -> Self {
        let mut badges = Self::default();
        for finding in &report.findings {
            for subject in &finding.subjects {
                let (map, id) = match subject {
                    Subject::Service(id) => (&mut badges.services, id),
                    Subject::Edge(id) => (&mut badges.edges, id),
                    Subject::Flow(_) => continue,
                };
                let entry = map.entry(id.clone()).or_insert((finding.severity, 0));
                entry.0 = entry.0.min(finding.severity);
                entry.1 += 1;
            }
        }
        badges
    }
}

/// Width of a service box, in canvas units.
pub const SERVICE_WIDTH: f32 = 150.0;
/// Height of a service box, in canvas units.
pub const SERVICE_HEIGHT: f32 = 56.0;
/// The egui_graphs id under which pan and zoom are kept.
const CANVAS_ID: &str = "syncopate-canvas";

/// The graph type behind the canvas: payloads are ids only.
pub type CanvasGraph =
    egui_graphs::Graph<ServiceId, EdgeId, Directed, DefaultIx, ServiceShape, CallShape>;

/// What is selected on the canvas.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Selected services.
    pub services: Vec<ServiceId>,
    /// Selected calls.
    pub edges: Vec<EdgeId>,
}

impl Selection {
    /// Whether nothing is selected.
    pub fn is_empty(&self) -> bool {
        self.services.is_empty() && self.edges.is_empty()
    }
}

/// The canvas widget state: the derived view graph and what it was built from.
pub struct Canvas {
    graph: CanvasGraph,
    nodes: HashMap<ServiceId, NodeIndex>,
    built_for_state: Option<u64>,
    fit_requested: bool,
    /// Keep fitting the view to the window (as it settles or is resized) until the user pans or zooms.
    auto_fit: bool,
    last_canvas_size: Vec2,
    /// The badges the view graph was built with.
    badges: Badges,
    /// A canvas position to bring to the centre of the view on the next frame.
    pending_center: Option<Pos2>,
    /// Connect mode: dragging from one service to another draws a call.
    pub connecting: bool,
    /// The service a connecting drag started from.
    connect_from: Option<ServiceId>,
    /// The kind given to services added by double-clicking the canvas.
    pub new_service_kind: ServiceKind,
    /// The canvas rectangle and view transform (zoom, pan) of the last frame, to map canvas and screen positions.
    last_view: Option<(Rect, f32, Vec2)>,
    /// Whether `GraphView::show` has run: on its first frame it fits the view its own way, which is undone.
    graph_view_started: bool,
    /// Position of the dragged service when the drag started, so a drag becomes one move command.
    drag_origin: Option<(ServiceId, Pos2)>,
    /// The view graph's edge of each call.
    edges: HashMap<EdgeId, EdgeIndex>,
    /// The live simulation's numbers, drawn over the design while a run is on.
    live: Option<LiveOverlay>,
    /// The focused flow's services and calls: everything else is drawn faintly. `None`: nothing is dimmed.
    focus: Option<(Vec<ServiceId>, Vec<EdgeId>)>,
    /// The focus the view graph was last built with.
    built_focus: Option<(Vec<ServiceId>, Vec<EdgeId>)>,
    /// Whether the view graph's shapes carry live numbers now (so they are cleared once when the run goes).
    live_drawn: bool,
    /// Seconds of dot animation; it advances only while the simulation runs.
    animation_s: f64,
    /// The service whose fault menu is open, and where on screen.
    fault_menu: Option<(ServiceId, Pos2)>,
    /// What the user asked of the simulation on the canvas this frame; the app takes it.
    pub fault_request: Option<FaultRequest>,
}

impl Default for Canvas {
    fn default() -> Self {
        Self {
            graph: CanvasGraph::new(),
            nodes: HashMap::new(),
            built_for_state: None,
            fit_requested: true,
            auto_fit: true,
            last_canvas_size: Vec2::ZERO,
            graph_view_started: false,
            badges: Badges::default(),
            pending_center: None,
            connecting: false,
            connect_from: None,
            new_service_kind: ServiceKind::Service,
            last_view: None,
            drag_origin: None,
            edges: HashMap::new(),
            live: None,
            focus: None,
            built_focus: None,
            live_drawn: false,
            animation_s: 0.0,
            fault_menu: None,
            fault_request: None,
        }
    }
}

/// A layout that leaves every node where the design put it.
#[derive(Debug, Default)]
struct KeepPositions;

/// The (empty) state of [`KeepPositions`].
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct KeepPositionsState;

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

impl Canvas {
    /// Asks for the view to fit the whole design on the next frame.
    pub fn request_fit(&mut self) {
        self.fit_requested = true;
        self.auto_fit = true;
    }

    /// Marks `selection` as selected in the view, e.g. after a click in the warnings panel.
    pub fn show_selection(&mut self, selection: &Selection) {
        let node_ids: Vec<_> = self.graph.g().node_indices().collect();
        for index in node_ids {
            if let Some(node) = self.graph.node_mut(index) {
                let selected = selection.services.contains(node.payload());
                node.set_selected(selected);
            }
        }
        let edge_ids: Vec<_> = self.graph.g().edge_indices().collect();
        for index in edge_ids {
            if let Some(edge) = self.graph.edge_mut(index) {
                let selected = selection.edges.contains(edge.payload());
                edge.set_selected(selected);
            }
        }
        let nodes: Vec<_> = self
            .graph
            .nodes_iter()
            .filter(|(_, n)| n.selected())
            .map(|(i, _)| i)
            .collect();
        self.graph.set_selected_nodes(nodes);
        let edges: Vec<_> = self
            .graph
            .edges_iter()
            .filter(|(_, e)| e.selected())
            .map(|(i, _)| i)
            .collect();
        self.graph.set_selected_edges(edges);
    }

    /// Brings a service or call to the centre of the view on the next frame.
    pub fn center_on(&mut self, design: &Design, subject: &Subject) {
        let position_of = |id: &str| {
            design
                .service(id)
                .and_then(|s| s.position)
                .map(|[x, y]| Pos2::new(x, y))
        };
        let target = match subject {
            Subject::Service(id) => position_of(id),
            Subject::Edge(id) => design.edge(id).and_then(|e| {
                let (a, b) = (position_of(e.from.as_str())?, position_of(e.to.as_str())?);
                Some(a + (b - a) / 2.0)
            }),
            Subject::Flow(id) => design.flow(id).and_then(|f| position_of(f.entry.as_str())),
        };
        if target.is_some() {
            self.pending_center = target;
            self.auto_fit = false;
        }
    }

    /// Rebuilds the view graph from the design when the document or its findings have changed since the last build.
    fn sync_with(
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

    /// Dims every service and call but these (sorted), or nothing (`None`).
    pub fn set_focus(&mut self, focus: Option<(Vec<ServiceId>, Vec<EdgeId>)>) {
        self.focus = focus;
    }

    /// The services drawn faintly now, in the view graph's order (for tests and tooling).
    pub fn dimmed_services(&self) -> Vec<ServiceId> {
        self.graph
            .nodes_iter()
            .filter(|(_, node)| node.display().dimmed)
            .map(|(_, node)| node.payload().clone())
            .collect()
    }

    /// Shows a run's live numbers over the design from now on, or stops showing them (`None`).
    pub fn set_live(&mut self, live: Option<LiveOverlay>) {
        self.live = live;
        if self.live.is_none() {
            self.fault_menu = None;
        }
    }

    /// Moves the dots along the calls on by `seconds` (called while the simulation runs).
    pub fn advance_animation(&mut self, seconds: f64) {
        self.animation_s += seconds;
    }

    /// Copies the live numbers into the view graph's shapes, or clears them once the run is gone.
    fn apply_live(&mut self) {
        let Some(live) = &self.live else {
            if self.live_drawn {
                for node in self.graph.g_mut().node_weights_mut() {
                    node.display_mut().live = None;
                }
                for edge in self.graph.g_mut().edge_weights_mut() {
                    edge.display_mut().live = None;
                }
                self.live_drawn = false;
            }
            return;
        };
        for (id, index) in &self.nodes {
            if let Some(node) = self.graph.node_mut(*index) {
                node.display_mut().live = live.services.get(id.as_str()).map(|s| ServiceOverlay {
                    utilization: s.utilization,
                    queue_length: s.queue_length,
                    queue_capacity: s.queue_capacity,
                    rejected: s.rejected,
                    failed: s.failed,
                    faulted: s.faulted,
                });
            }
        }
        for (id, index) in &self.edges {
            if let Some(edge) = self.graph.edge_mut(*index) {
                edge.display_mut().live = live.edges.get(id.as_str()).map(|e| CallOverlay {
                    calls_rps: e.calls_rps,
                    failures_rps: e.failures_rps,
                    breaker: e.has_breaker.then_some(e.breaker),
                    animation_s: self.animation_s,
                });
            }
        }
        self.live_drawn = true;
    }

    /// Draws the canvas and turns the user's gestures into commands and selection changes.
    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        design: &Design,
        state_id: u64,
        badges: &Badges,
        selection: &mut Selection,
        commands: &mut Vec<Command>,
    ) {
        self.sync_with(design, state_id, selection, badges);
        let interacting = ui.input(|i| {
            !i.events.is_empty()
                || i.pointer.any_down()
                || i.pointer.any_released()
                || i.smooth_scroll_delta != Vec2::ZERO
                || i.zoom_delta() != 1.0
        });
        let canvas_size = ui.available_size();
        if self.fit_requested || (self.auto_fit && canvas_size != self.last_canvas_size) {
            self.fit_requested = false;
            self.fit_to(ui, canvas_size);
        }
        self.last_canvas_size = canvas_size;
        if let Some(target) = self.pending_center.take() {
            let mut meta = MetadataFrame::new(Some(CANVAS_ID.to_owned())).load(ui);
            meta.pan = canvas_size / 2.0 - target.to_vec2() * meta.zoom;
            meta.save(ui);
        }
        self.apply_live();
        let response = if interacting {
            self.show_interactive(ui, design, selection, commands)
        } else {
            self.paint_static(ui)
        };
        if self.live.is_some() {
            self.live_extras(ui, &response);
        }
        if self.graph.node_count() >= MINIMAP_MIN_SERVICES {
            self.minimap(ui, response.rect);
        }
    }

    /// On a large design, a map of the whole in the canvas' lower right corner with the part in view outlined;
    /// a click or drag on it brings that point to the centre.
    fn minimap(&mut self, ui: &mut egui::Ui, canvas: Rect) {
        let Some((_, zoom, pan)) = self.last_view else {
            return;
        };
        let bounds = self.bounds();
        if !bounds.is_positive() || canvas.width() < 3.0 * MINIMAP_SIZE.x {
            return;
        }
        let map = Rect::from_min_size(
            canvas.right_bottom() - MINIMAP_SIZE - Vec2::splat(10.0),
            MINIMAP_SIZE,
        );
        let inner = map.shrink(4.0);
        let scale = (inner.width() / bounds.width()).min(inner.height() / bounds.height());
        let offset = inner.center() - bounds.center().to_vec2() * scale;
        let to_map = |p: Pos2| offset + p.to_vec2() * scale;
        // The canvas area in view: screen offsets from the canvas' corner, less the pan, over the zoom.
        let view = Rect::from_min_max(
            (-pan / zoom).to_pos2(),
            ((canvas.size() - pan) / zoom).to_pos2(),
        );
        let dark = ui.visuals().dark_mode;
        let area = egui::Area::new(egui::Id::new("canvas-minimap"))
            .order(egui::Order::Foreground)
            .fixed_pos(map.min)
            .show(ui.ctx(), |ui| {
                let (response, painter) = ui.allocate_painter(map.size(), Sense::click_and_drag());
                painter.rect_filled(
                    map,
                    4.0,
                    if dark {
                        Color32::from_black_alpha(235)
                    } else {
                        Color32::from_white_alpha(240)
                    },
                );
                painter.rect_stroke(
                    map,
                    4.0,
                    Stroke::new(1.0, Color32::GRAY),
                    StrokeKind::Inside,
                );
                let dot = Vec2::new(
                    (SERVICE_WIDTH * scale).max(1.5),
                    (SERVICE_HEIGHT * scale).max(1.5),
                );
                let color = if dark {
                    Color32::from_gray(170)
                } else {
                    Color32::from_gray(90)
                };
                for (_, node) in self.graph.nodes_iter() {
                    let fill = if node.selected() {
                        Color32::from_rgb(255, 171, 0)
                    } else {
                        color
                    };
                    painter.rect_filled(
                        Rect::from_center_size(to_map(node.location()), dot),
                        0.0,
                        fill,
                    );
                }
                let shown = Rect::from_min_max(to_map(view.min), to_map(view.max)).intersect(map);
                painter.rect_stroke(
                    shown,
                    0.0,
                    Stroke::new(1.5, Color32::from_rgb(255, 171, 0)),
                    StrokeKind::Inside,
                );
                response
                    .interact_pointer_pos()
                    .filter(|_| response.clicked() || response.dragged())
            });
        if let Some(at) = area.inner {
            self.pending_center = Some(((at - offset) / scale).to_pos2());
            self.auto_fit = false;
            ui.ctx().request_repaint();
        }
    }

    /// While a run is on: the legend, live numbers of what the pointer is over, and the fault menu a right-click
    /// on a service opens.
    fn live_extras(&mut self, ui: &mut egui::Ui, response: &egui::Response) {
        let Some(live) = &self.live else { return };
        paint_legend(ui, response.rect);
        let pointer = ui.input(|i| i.pointer.hover_pos());
        let mut just_opened = false;
        if ui.input(|i| i.pointer.secondary_clicked())
            && let Some(at) = pointer
            && response.rect.contains(at)
        {
            self.fault_menu = self.service_at(at).map(|id| (id, at));
            just_opened = self.fault_menu.is_some();
        }
        if self.fault_menu.is_none()
            && let Some(at) = pointer.filter(|p| response.rect.contains(*p))
        {
            let lines = if let Some(id) = self.service_at(at) {
                live.services
                    .get(id.as_str())
                    .map(|s| service_hover_lines(id.as_str(), s))
            } else {
                self.edge_at(at).and_then(|id| {
                    live.edges
                        .get(id.as_str())
                        .map(|e| edge_hover_lines(id.as_str(), e))
                })
            };
            if let Some(lines) = lines {
                paint_hover_box(ui, at, &lines);
            }
        }
        let Some((service, at)) = self.fault_menu.clone() else {
            return;
        };
        let area = egui::Area::new(egui::Id::new("canvas-fault-menu"))
            .order(egui::Order::Foreground)
            .fixed_pos(at)
            .show(ui.ctx(), |ui| {
                egui::Frame::menu(ui.style())
                    .show(ui, |ui| fault_menu(ui, &service))
                    .inner
            });
        if let Some(request) = area.inner {
            self.fault_request = Some(request);
            self.fault_menu = None;
        } else if !just_opened
            && (area.response.clicked_elsewhere() || ui.input(|i| i.key_pressed(egui::Key::Escape)))
        {
            self.fault_menu = None;
        }
    }

    /// The call drawn at a screen position.
    fn edge_at(&self, screen: Pos2) -> Option<EdgeId> {
        let at = self.canvas_position(screen)?;
        self.edges.iter().find_map(|(id, index)| {
            let (from, to) = self.graph.edge_endpoints(*index)?;
            let (start, end) = (self.graph.node(from)?, self.graph.node(to)?);
            let edge = self.graph.edge(*index)?;
            DisplayEdge::<ServiceId, EdgeId, Directed, DefaultIx, ServiceShape>::is_inside(
                edge.display(),
                start,
                end,
                at,
            )
            .then(|| id.clone())
        })
    }

    /// Where the canvas was on screen last frame.
    pub fn screen_rect(&self) -> Option<Rect> {
        self.last_view.map(|(rect, _, _)| rect)
    }

    /// The service whose fault menu is open.
    pub fn fault_menu_service(&self) -> Option<&ServiceId> {
        self.fault_menu.as_ref().map(|(id, _)| id)
    }

    /// Where a service is on screen, as of the last frame.
    pub fn screen_position(&self, service: &str) -> Option<Pos2> {
        let (rect, zoom, pan) = self.last_view?;
        let index = self.nodes.get(service)?;
        let location = self.graph.node(*index)?.location();
        Some(rect.min + pan + location.to_vec2() * zoom)
    }

    /// The canvas position under a screen position, as of the last frame.
    pub fn canvas_position(&self, screen: Pos2) -> Option<Pos2> {
        let (rect, zoom, pan) = self.last_view?;
        Some(((screen - rect.min - pan) / zoom).to_pos2())
    }

    /// The service drawn at a screen position.
    fn service_at(&self, screen: Pos2) -> Option<ServiceId> {
        let at = self.canvas_position(screen)?;
        self.graph
            .nodes_iter()
            .find(|(_, node)| {
                DisplayNode::<ServiceId, EdgeId, Directed, DefaultIx>::is_inside(node.display(), at)
            })
            .map(|(_, node)| node.payload().clone())
    }

    fn show_interactive(
        &mut self,
        ui: &mut egui::Ui,
        design: &Design,
        selection: &mut Selection,
        commands: &mut Vec<Command>,
    ) -> egui::Response {
        // A click selects one thing; shift-click adds to the selection.
        let adding = ui.input(|i| i.modifiers.shift);
        let interactions = SettingsInteraction::new()
            .with_dragging_enabled(!self.connecting)
            .with_hover_enabled(true)
            .with_node_clicking_enabled(true)
            .with_node_selection_enabled(true)
            .with_node_selection_multi_enabled(adding)
            .with_edge_clicking_enabled(true)
            .with_edge_selection_enabled(true)
            .with_edge_selection_multi_enabled(adding);
        let navigation = SettingsNavigation::new()
            .with_fit_to_screen_enabled(false)
            // The canvas zooms itself (`wheel_zoom`): egui_graphs zooms a fixed step per frame of Ctrl+wheel and not
            // at all on the plain wheel.
            .with_zoom_speed(0.0)
            // In connect mode a drag draws a call, so it must not pan the view.
            .with_zoom_and_pan_enabled(!self.connecting);
        let view_before = (!self.graph_view_started)
            .then(|| MetadataFrame::new(Some(CANVAS_ID.to_owned())).load(ui));
        self.graph_view_started = true;
        let response = GraphView::<KeepPositionsState, KeepPositions>::new()
            .with_id(Some(CANVAS_ID.to_owned()))
            .with_interactions(&interactions)
            .with_navigations(&navigation)
            .with_styles(&SettingsStyle::new().with_labels_always(true))
            .show(ui, &mut self.graph);
        if let Some(before) = view_before {
            let mut meta = MetadataFrame::new(Some(CANVAS_ID.to_owned())).load(ui);
            meta.zoom = before.zoom;
            meta.pan = before.pan;
            meta.save(ui);
        }
        self.wheel_zoom(ui, &response.response);
        let meta = MetadataFrame::new(Some(CANVAS_ID.to_owned())).load(ui);
        self.last_view = Some((response.response.rect, meta.zoom, meta.pan));
        self.handle_editing_gestures(ui, &response.response, design, commands);
        let mut selection_changed = false;
        for change in &response.changes {
            match change {
                GraphChange::NodeDragStarted { node } => {
                    if let Some(n) = self.graph.node(*node) {
                        self.drag_origin = Some((n.payload().clone(), n.location()));
                    }
                }
                GraphChange::NodeDragEnded { node } => {
                    if let (Some(n), Some((id, origin))) =
                        (self.graph.node(*node), self.drag_origin.take())
                        && n.location() != origin
                        && *n.payload() == id
                    {
                        let at = n.location();
                        commands.push(Command::MoveServices(vec![(
                            id,
                            [at.x.round(), at.y.round()],
                        )]));
                    }
                }
                GraphChange::Panned { .. } | GraphChange::Zoomed { .. } => self.auto_fit = false,
                GraphChange::NodeSelected { .. }
                | GraphChange::NodeDeselected { .. }
                | GraphChange::EdgeSelected { .. }
                | GraphChange::EdgeDeselected { .. } => selection_changed = true,
                _ => {}
            }
        }
        if selection_changed {
            // The view's own selected lists are refreshed only at its next frame; the flags are current.
            selection.services = self
                .graph
                .nodes_iter()
                .filter(|(_, n)| n.selected())
                .map(|(_, n)| n.payload().clone())
                .collect();
            selection.edges = self
                .graph
                .edges_iter()
                .filter(|(_, e)| e.selected())
                .map(|(_, e)| e.payload().clone())
                .collect();
        }
        response.response
    }

    /// Double-click on empty canvas adds a service; in connect mode, a drag from one service to another adds a call.
    fn handle_editing_gestures(
        &mut self,
        ui: &egui::Ui,
        response: &egui::Response,
        design: &Design,
        commands: &mut Vec<Command>,
    ) {
        let pointer = ui.input(|i| i.pointer.interact_pos());
        if response.double_clicked()
            && let Some(at) = pointer
            && self.service_at(at).is_none()
            && let Some(position) = self.canvas_position(at)
        {
            commands.push(Command::AddService(new_service(
                design,
                self.new_service_kind,
                position,
            )));
        }
        if !self.connecting {
            self.connect_from = None;
            return;
        }
        if ui.input(|i| i.pointer.primary_pressed())
            && let Some(at) = pointer
            && response.rect.contains(at)
        {
            self.connect_from = self.service_at(at);
        }
        if let (Some(from), Some(at)) = (&self.connect_from, pointer) {
            if let Some(start) = self.screen_position(from.as_str()) {
                ui.painter().line_segment(
                    [start, at],
                    Stroke::new(2.0, Color32::from_rgb(255, 171, 0)),
                );
            }
            if ui.input(|i| i.pointer.primary_released()) {
                if let Some(to) = self.service_at(at)
                    && to != *from
                {
                    commands.push(Command::AddEdge(new_edge(design, from, &to)));
                }
                self.connect_from = None;
            }
        }
    }

    /// Paints the graph exactly as `GraphView` would, without its interaction handling or repaint request.
    fn paint_static(&mut self, ui: &mut egui::Ui) -> egui::Response {
        let (response, painter) = ui.allocate_painter(ui.available_size(), Sense::click_and_drag());
        let mut meta = MetadataFrame::new(Some(CANVAS_ID.to_owned())).load(ui);
        self.last_view = Some((response.rect, meta.zoom, meta.pan));
        meta.pan += response.rect.left_top().to_vec2();
        let style = SettingsStyle::new().with_labels_always(true);
        let ctx = DrawContext {
            ctx: ui.ctx(),
            painter: &painter,
            style: &style,
            is_directed: true,
            meta: &meta,
        };
        // Bring every shape up to date with its props first, as egui_graphs' drawer does: a view graph that has
        // only been painted here would otherwise still show the state its shapes were created with.
        for node in self.graph.g_mut().node_weights_mut() {
            let props = node.props().clone();
            DisplayNode::<ServiceId, EdgeId, Directed, DefaultIx>::update(
                node.display_mut(),
                &props,
            );
        }
        for edge in self.graph.g_mut().edge_weights_mut() {
            let props = edge.props().clone();
            DisplayEdge::<ServiceId, EdgeId, Directed, DefaultIx, ServiceShape>::update(
                edge.display_mut(),
                &props,
            );
        }
        let edge_indices: Vec<_> = self.graph.g().edge_indices().collect();
        for index in edge_indices {
            let Some((from, to)) = self.graph.edge_endpoints(index) else {
                continue;
            };
            let (Some(start), Some(end), Some(edge)) = (
                self.graph.node(from),
                self.graph.node(to),
                self.graph.edge(index),
            ) else {
                continue;
            };
            let mut display = edge.display().clone();
            painter.extend(DisplayEdge::shapes(&mut display, start, end, &ctx));
        }
        for node in self.graph.g_mut().node_weights_mut() {
            painter.extend(
                DisplayNode::<ServiceId, EdgeId, Directed, DefaultIx>::shapes(
                    node.display_mut(),
                    &ctx,
                ),
            );
        }
        response
    }

    /// Zooms around the pointer, smoothly, by the wheel (and by Ctrl+wheel or a trackpad pinch, which egui reports
    /// as a zoom factor): each wheel line is about 12%, whatever the frame rate, and the point under the pointer
    /// stays under it.
    fn wheel_zoom(&mut self, ui: &mut egui::Ui, response: &egui::Response) {
        /// Zoom per point of vertical scroll: a wheel line is 50 points in egui, about 12% here.
        const ZOOM_PER_POINT: f32 = 0.0023;
        if self.connecting {
            return;
        }
        let Some(pointer) = response.hover_pos() else {
            return;
        };
        let factor =
            ui.input(|i| i.zoom_delta() * (i.smooth_scroll_delta.y * ZOOM_PER_POINT).exp());
        if !factor.is_finite() || (factor - 1.0).abs() < 1e-4 {
            return;
        }
        let mut meta = MetadataFrame::new(Some(CANVAS_ID.to_owned())).load(ui);
        let zoom = (meta.zoom * factor).clamp(0.05, 4.0);
        let local = (pointer - response.rect.left_top()).to_pos2();
        // local = canvas × zoom + pan, kept for the canvas point under the pointer.
        meta.pan = local.to_vec2() - (local.to_vec2() - meta.pan) * (zoom / meta.zoom);
        meta.zoom = zoom;
        meta.save(ui);
        self.auto_fit = false;
        ui.ctx().request_repaint();
    }

    /// The canvas area the services' boxes take up (`Rect::NOTHING` without services).
    fn bounds(&self) -> Rect {
        self.graph
            .nodes_iter()
            .map(|(_, node)| {
                Rect::from_center_size(node.location(), Vec2::new(SERVICE_WIDTH, SERVICE_HEIGHT))
            })
            .fold(Rect::NOTHING, |bounds, rect| bounds.union(rect))
    }

    /// Sets zoom and pan so the whole design fits in a view of `size`.
    fn fit_to(&self, ui: &mut egui::Ui, size: Vec2) {
        let mut meta = MetadataFrame::new(Some(CANVAS_ID.to_owned())).load(ui);
        let bounds = self.bounds();
        if !bounds.is_positive() {
            meta.zoom = 1.0;
            meta.pan = size / 2.0;
        } else {
            let margin = 40.0;
            let zoom_x = (size.x - 2.0 * margin).max(50.0) / bounds.width();
            let zoom_y = (size.y - 2.0 * margin).max(50.0) / bounds.height();
            meta.zoom = zoom_x.min(zoom_y).clamp(0.1, 1.2);
            meta.pan = size / 2.0 - bounds.center().to_vec2() * meta.zoom;
        }
        meta.save(ui);
    }
}

/// The free spot nearest to `wanted` where a new service's box overlaps no other (with a margin): `wanted` itself
/// when it is free, else the closest point of a grid around it, ring by ring.
pub fn free_spot(design: &Design, wanted: Pos2) -> Pos2 {
    let (step_x, step_y) = (SERVICE_WIDTH + 30.0, SERVICE_HEIGHT + 30.0);
    let free = |at: Pos2| {
        design
            .services
            .iter()
            .filter_map(|s| s.position)
            .all(|[x, y]| {
                (x - at.x).abs() >= SERVICE_WIDTH + 20.0
                    || (y - at.y).abs() >= SERVICE_HEIGHT + 20.0
            })
    };
    for ring in 0..=50_i32 {
        // The ring's grid points, nearest first.
        let mut candidates: Vec<Pos2> = (-ring..=ring)
            .flat_map(|i| (-ring..=ring).map(move |j| (i, j)))
            .filter(|(i, j)| i.abs() == ring || j.abs() == ring)
            .map(|(i, j)| wanted + egui::vec2(i as f32 * step_x, j as f32 * step_y))
            .collect();
        candidates.sort_by(|a, b| a.distance(wanted).total_cmp(&b.distance(wanted)));
        if let Some(spot) = candidates.into_iter().find(|&at| free(at)) {
            return spot;
        }
    }
    wanted
}

/// A new service of `kind` at a canvas position (the free spot nearest to it), with an id not yet used.
pub fn new_service(design: &Design, kind: ServiceKind, position: Pos2) -> crate::model::Service {
    let position = free_spot(design, position);
    let base = kind.as_str();
    let id = (1..)
        .map(|n| format!("{base}-{n}"))
        .find(|id| design.service(id).is_none())
        .unwrap_or_else(|| base.to_owned());
    let mut service = crate::model::Service::new(id);
    service.kind = kind;
    if kind == ServiceKind::Client {
        // People: as many requests in flight as they like, no work of their own.
        service.concurrency = 10_000;
        service.service_time = crate::model::Distribution::Constant { ms: 0.0 };
    }
    service.position = Some([position.x.round(), position.y.round()]);
    service
}

/// A new sync call between two services, with an id not yet used.
pub fn new_edge(design: &Design, from: &ServiceId, to: &ServiceId) -> Edge {
    let mut edge = Edge::new(from.as_str(), to.as_str(), CallMode::Sync);
    edge.id = design.free_edge_id(edge.id.as_str());
    edge
}

/// Distance between calls that join the same two services, in canvas units.
const LANE_SPACING: f32 = 18.0;

fn unordered_pair(edge: &Edge) -> (&str, &str) {
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

/// Colours of a service kind: fill and border.
fn kind_colors(kind: ServiceKind, dark: bool) -> (Color32, Color32) {
    let (fill_light, fill_dark, border) = match kind {
        ServiceKind::Client => (
            Color32::from_rgb(232, 240, 254),
            Color32::from_rgb(36, 52, 82),
            Color32::from_rgb(66, 133, 244),
        ),
        ServiceKind::Gateway => (
            Color32::from_rgb(243, 232, 253),
            Color32::from_rgb(62, 40, 84),
            Color32::from_rgb(142, 68, 173),
        ),
        ServiceKind::Service => (
            Color32::from_rgb(232, 245, 233),
            Color32::from_rgb(33, 64, 40),
            Color32::from_rgb(46, 125, 50),
        ),
        ServiceKind::Database => (
            Color32::from_rgb(255, 243, 224),
            Color32::from_rgb(80, 56, 24),
            Color32::from_rgb(230, 126, 34),
        ),
        ServiceKind::Broker => (
            Color32::from_rgb(255, 235, 238),
            Color32::from_rgb(84, 34, 40),
            Color32::from_rgb(198, 40, 40),
        ),
        ServiceKind::External => (
            Color32::from_rgb(240, 240, 240),
            Color32::from_rgb(56, 56, 56),
            Color32::from_rgb(117, 117, 117),
        ),
    };
    (if dark { fill_dark } else { fill_light }, border)
}

/// How a service is drawn: a box whose outline tells its kind, with its name.
#[derive(Debug, Clone)]
pub struct ServiceShape {
    pos: Pos2,
    label: String,
    selected: bool,
    hovered: bool,
    dragged: bool,
    /// The service's kind (set when the view graph is built).
    pub kind: ServiceKind,
    /// The service's replicas, shown as a stacked outline when more than one.
    pub replicas: u32,
    /// The worst severity and the number of findings about this service.
    pub badge: Option<(Severity, usize)>,
    /// Live numbers while a simulation is on.
    pub live: Option<ServiceOverlay>,
    /// Drawn faintly: not on the focused flow.
    pub dimmed: bool,
}

/// A service's live numbers as the canvas draws them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ServiceOverlay {
    /// Busy workers over all workers, 0 to 1.
    pub utilization: f64,
    /// Requests waiting.
    pub queue_length: u64,
    /// The queue's capacity over all replicas, when bounded.
    pub queue_capacity: Option<u64>,
    /// Rejections since the run started.
    pub rejected: u64,
    /// Failures since the run started.
    pub failed: u64,
    /// Whether a fault is in force.
    pub faulted: bool,
}

/// A call's live numbers as the canvas draws them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CallOverlay {
    /// Calls per second.
    pub calls_rps: f64,
    /// Failed calls per second.
    pub failures_rps: f64,
    /// The breaker's state, when the call has one.
    pub breaker: Option<BreakerState>,
    /// Seconds of animation so far; the dots' positions follow it.
    pub animation_s: f64,
}

/// The live numbers of a run, by service and call id, for the canvas.
#[derive(Debug, Clone, Default)]
pub struct LiveOverlay {
    /// Per service id.
    pub services: HashMap<String, ServiceNow>,
    /// Per call id.
    pub edges: HashMap<String, EdgeNow>,
}

impl LiveOverlay {
    /// The overlay of a run's history.
    pub fn from_history(history: &RunHistory) -> Self {
        Self {
            services: history
                .services
                .iter()
                .map(|s| (s.id.clone(), s.clone()))
                .collect(),
            edges: history
                .edges
                .iter()
                .map(|e| (e.id.clone(), e.clone()))
                .collect(),
        }
    }
}

/// What the user asked of the live simulation on the canvas (right-click on a service).
#[derive(Debug, Clone, PartialEq)]
pub enum FaultRequest {
    /// Inject this fault now.
    Inject(Fault),
    /// Clear every fault of this service now.
    Clear(ServiceId),
}

/// The colour of a utilization on the overlay's scale: green when idle, yellow, orange, red when saturated.
pub fn utilization_color(utilization: f64) -> Color32 {
    const STOPS: [(f64, [u8; 3]); 4] = [
        (0.0, [102, 187, 106]),
        (0.5, [253, 216, 53]),
        (0.8, [251, 140, 0]),
        (1.0, [229, 57, 53]),
    ];
    let u = if utilization.is_finite() {
        utilization.clamp(0.0, 1.0)
    } else {
        0.0
    };
    for pair in STOPS.windows(2) {
        let ((a, ca), (b, cb)) = (pair[0], pair[1]);
        if u <= b {
            let t = ((u - a) / (b - a)) as f32;
            let mix =
                |x: u8, y: u8| (f32::from(x) + (f32::from(y) - f32::from(x)) * t).round() as u8;
            return Color32::from_rgb(mix(ca[0], cb[0]), mix(ca[1], cb[1]), mix(ca[2], cb[2]));
        }
    }
    Color32::from_rgb(229, 57, 53)
}

/// The colour of a breaker state.
fn breaker_color(state: BreakerState) -> Color32 {
    match state {
        BreakerState::Closed => Color32::from_rgb(67, 160, 71),
        BreakerState::Open => Color32::from_rgb(229, 57, 53),
        BreakerState::HalfOpen => Color32::from_rgb(251, 140, 0),
    }
}

/// A breaker state's name as shown.
pub fn breaker_label(state: BreakerState) -> &'static str {
    match state {
        BreakerState::Closed => "closed",
        BreakerState::Open => "open",
        BreakerState::HalfOpen => "half-open",
    }
}

impl From<NodeProps<ServiceId>> for ServiceShape {
    fn from(props: NodeProps<ServiceId>) -> Self {
        Self {
            pos: props.location(),
            label: props.label.clone(),
            selected: props.selected,
            hovered: props.hovered,
            dragged: props.dragged,
            kind: ServiceKind::Service,
            replicas: 1,
            badge: None,
            live: None,
            dimmed: false,
        }
    }
}

impl ServiceShape {
    fn rect(&self) -> Rect {
        Rect::from_center_size(self.pos, Vec2::new(SERVICE_WIDTH, SERVICE_HEIGHT))
    }
}

impl ServiceShape {
    /// The service's shapes at full strength.
    fn paint(&mut self, ctx: &DrawContext) -> Vec<Shape> {
        let dark = ctx.ctx.global_style().visuals.dark_mode;
        let (mut fill, border) = kind_colors(self.kind, dark);
        if let Some(live) = &self.live {
            // While simulating, the fill tells how busy the service is.
            let heat = utilization_color(live.utilization);
            fill = if dark {
                heat.gamma_multiply(0.55)
            } else {
                heat.gamma_multiply(0.85)
            };
        }
        let text_color = if dark {
            Color32::from_gray(235)
        } else {
            Color32::from_gray(20)
        };
        let zoom = ctx.meta.zoom;
        let rect = Rect::from_min_max(
            ctx.meta.canvas_to_screen_pos(self.rect().min),
            ctx.meta.canvas_to_screen_pos(self.rect().max),
        );
        let emphasis = self.selected || self.dragged;
        let stroke = Stroke::new(
            if emphasis {
                3.0
            } else if self.hovered {
                2.0
            } else {
                1.5
            },
            if emphasis {
                Color32::from_rgb(255, 171, 0)
            } else {
                border
            },
        );
        let radius = |r: f32| corner(zoom, r);
        let mut shapes = Vec::new();
        if self.replicas > 1 {
            let offset = Vec2::splat(4.0 * zoom.clamp(0.5, 1.5));
            shapes.push(Shape::rect_filled(
                rect.translate(offset * 2.0),
                radius(8.0 * zoom),
                border.gamma_multiply(0.25),
            ));
            shapes.push(Shape::rect_filled(
                rect.translate(offset),
                radius(8.0 * zoom),
                border.gamma_multiply(0.45),
            ));
        }
        match self.kind {
            ServiceKind::Database => {
                // A cylinder: a body with an elliptic top.
                let cap = rect.height() * 0.18;
                shapes.push(Shape::rect_filled(rect, radius(cap.floor().max(2.0)), fill));
                shapes.push(Shape::rect_stroke(
                    rect,
                    radius(cap.floor().max(2.0)),
                    stroke,
                    StrokeKind::Middle,
                ));
                let top = Rect::from_min_size(rect.min, Vec2::new(rect.width(), cap * 2.0));
                shapes.push(Shape::ellipse_stroke(
                    top.center(),
                    top.size() / 2.0,
                    stroke,
                ));
            }
            ServiceKind::Gateway => {
                // A hexagon-like box: cut corners on the left and right.
                let cut = rect.height() / 3.0;
                let points = vec![
                    Pos2::new(rect.left() + cut, rect.top()),
                    Pos2::new(rect.right() - cut, rect.top()),
                    Pos2::new(rect.right(), rect.center().y),
                    Pos2::new(rect.right() - cut, rect.bottom()),
                    Pos2::new(rect.left() + cut, rect.bottom()),
                    Pos2::new(rect.left(), rect.center().y),
                ];
                shapes.push(Shape::Path(PathShape::convex_polygon(points, fill, stroke)));
            }
            ServiceKind::Broker => {
                shapes.push(Shape::rect_filled(rect, radius(4.0 * zoom), fill));
                shapes.push(Shape::rect_stroke(
                    rect,
                    radius(4.0 * zoom),
                    stroke,
                    StrokeKind::Middle,
                ));
                // Queue slots along the bottom edge.
                let slot_width = rect.width() / 10.0;
                for i in 1..10 {
                    let x = rect.left() + slot_width * i as f32;
                    shapes.push(Shape::line_segment(
                        [
                            Pos2::new(x, rect.bottom() - rect.height() * 0.25),
                            Pos2::new(x, rect.bottom()),
                        ],
                        Stroke::new(1.0, border),
                    ));
                }
            }
            ServiceKind::Client => {
                shapes.push(Shape::rect_filled(rect, radius(rect.height() / 2.0), fill));
                shapes.push(Shape::rect_stroke(
                    rect,
                    radius(rect.height() / 2.0),
                    stroke,
                    StrokeKind::Middle,
                ));
            }
            ServiceKind::External => {
                shapes.push(Shape::rect_filled(rect, radius(8.0 * zoom), fill));
                let corners = [
                    rect.left_top(),
                    rect.right_top(),
                    rect.right_bottom(),
                    rect.left_bottom(),
                    rect.left_top(),
                ];
                shapes.extend(Shape::dashed_line(&corners, stroke, 6.0, 4.0));
            }
            ServiceKind::Service => {
                shapes.push(Shape::rect_filled(rect, radius(8.0 * zoom), fill));
                shapes.push(Shape::rect_stroke(
                    rect,
                    radius(8.0 * zoom),
                    stroke,
                    StrokeKind::Middle,
                ));
            }
        }
        // Zoomed far out (a whole large design in view) names would be smaller than the 5 px they are clamped to
        // and spill over their boxes; they are left out, which also spares laying out two texts per service a
        // frame. Between that and the overview's threshold (a design of some 70 services fitted to a window) the
        // name alone is drawn at a readable size, cut short with an ellipsis to its box.
        if !is_far(zoom) {
            let name_size = text_size(13.0 * zoom, 5.0, 28.0);
            let tag_size = text_size(10.0 * zoom, 4.0, 20.0);
            let max_width = rect.width() - 8.0 * zoom;
            let name = ctx.ctx.fonts_mut(|f| {
                let mut job = egui::text::LayoutJob::simple_singleline(
                    self.label.clone(),
                    FontId::proportional(name_size),
                    text_color,
                );
                job.wrap.max_width = max_width;
                job.wrap.max_rows = 1;
                f.layout_job(job)
            });
            let name_pos = Pos2::new(
                rect.center().x - name.size().x / 2.0,
                rect.center().y - name.size().y * 0.75,
            );
            shapes.push(TextShape::new(name_pos, name, text_color).into());
            let tag_text = if self.replicas > 1 {
                format!("{} ×{}", self.kind.as_str(), self.replicas)
            } else {
                self.kind.as_str().to_owned()
            };
            let tag = ctx
                .ctx
                .fonts_mut(|f| f.layout_no_wrap(tag_text, FontId::proportional(tag_size), border));
            let tag_pos = Pos2::new(
                rect.center().x - tag.size().x / 2.0,
                rect.center().y + tag.size().y * 0.2,
            );
            shapes.push(TextShape::new(tag_pos, tag, border).into());
        } else if zoom >= NAME_ZOOM {
            let name = ctx.ctx.fonts_mut(|f| {
                let mut job = egui::text::LayoutJob::simple_singleline(
                    self.label.clone(),
                    FontId::proportional(FAR_NAME_SIZE.min(rect.height() * 0.9)),
                    text_color,
                );
                job.wrap.max_width = rect.width() - 2.0;
                job.wrap.max_rows = 1;
                f.layout_job(job)
            });
            let name_pos = rect.center() - name.size() / 2.0;
            shapes.push(TextShape::new(name_pos, name, text_color).into());
        }
        if let Some((severity, count)) = self.badge {
            shapes.extend(badge_shapes(ctx, rect.right_top(), severity, count));
        }
        if let Some(live) = self.live {
            shapes.extend(service_overlay_shapes(ctx, rect, &live, text_color));
        }
        shapes
    }
}

impl DisplayNode<ServiceId, EdgeId, Directed, DefaultIx> for ServiceShape {
    fn closest_boundary_point(&self, dir: Vec2) -> Pos2 {
        // Where a ray from the centre along `dir` leaves the box.
        let half = Vec2::new(SERVICE_WIDTH / 2.0, SERVICE_HEIGHT / 2.0);
        if dir.length_sq() == 0.0 {
            return self.pos;
        }
        let scale_x = if dir.x.abs() > 0.0 {
            half.x / dir.x.abs()
        } else {
            f32::INFINITY
        };
        let scale_y = if dir.y.abs() > 0.0 {
            half.y / dir.y.abs()
        } else {
            f32::INFINITY
        };
        self.pos + dir * scale_x.min(scale_y)
    }

    fn shapes(&mut self, ctx: &DrawContext) -> Vec<Shape> {
        let mut shapes = self.paint(ctx);
        if self.dimmed {
            dim(&mut shapes);
        }
        shapes
    }

    fn update(&mut self, props: &NodeProps<ServiceId>) {
        self.pos = props.location();
        self.label.clone_from(&props.label);
        self.selected = props.selected;
        self.hovered = props.hovered;
        self.dragged = props.dragged;
    }

    fn is_inside(&self, pos: Pos2) -> bool {
        self.rect().contains(pos)
    }
}

/// How a call is drawn: sync solid with a filled arrowhead, async dashed with an open one, and a label.
#[derive(Debug, Clone)]
pub struct CallShape {
    selected: bool,
    /// Sideways offset from the straight line between the services, for calls that share a pair.
    pub lane_offset: f32,
    /// Sync or async (set when the view graph is built).
    pub mode: CallMode,
    /// Protocol and policies (set when the view graph is built).
    pub label: String,
    /// The worst severity and the number of findings about this call.
    pub badge: Option<(Severity, usize)>,
    /// Live numbers while a simulation is on.
    pub live: Option<CallOverlay>,
    /// Drawn faintly: not on the focused flow.
    pub dimmed: bool,
}

impl From<EdgeProps<EdgeId>> for CallShape {
    fn from(props: EdgeProps<EdgeId>) -> Self {
        Self {
            selected: props.selected,
            lane_offset: 0.0,
            mode: CallMode::Sync,
            label: String::new(),
            badge: None,
            live: None,
            dimmed: false,
        }
    }
}

type ServiceNode = egui_graphs::Node<ServiceId, EdgeId, Directed, DefaultIx, ServiceShape>;

impl CallShape {
    /// The call's end points in canvas units, offset sideways when several calls join the same two services.
    fn endpoints(&self, start: &ServiceNode, end: &ServiceNode) -> (Pos2, Pos2) {
        let (a, b) = (start.location(), end.location());
        if a == b {
            // A call to itself: a short hook on the right side.
            let right = a + Vec2::new(SERVICE_WIDTH / 2.0, 0.0);
            return (right + Vec2::new(0.0, -10.0), right + Vec2::new(0.0, 10.0));
        }
        let dir = (b - a).normalized();
        let normal = Vec2::new(-dir.y, dir.x);
        let offset = normal * self.lane_offset;
        let from = DisplayNode::<ServiceId, EdgeId, Directed, DefaultIx>::closest_boundary_point(
            start.display(),
            dir,
        ) + offset;
        let to = DisplayNode::<ServiceId, EdgeId, Directed, DefaultIx>::closest_boundary_point(
            end.display(),
            -dir,
        ) + offset;
        (from, to)
    }
}

impl CallShape {
    /// The call's shapes at full strength.
    fn paint(&mut self, start: &ServiceNode, end: &ServiceNode, ctx: &DrawContext) -> Vec<Shape> {
        let dark = ctx.ctx.global_style().visuals.dark_mode;
        let base = if dark {
            Color32::from_gray(200)
        } else {
            Color32::from_gray(70)
        };
        let color = if self.selected {
            Color32::from_rgb(255, 171, 0)
        } else {
            base
        };
        let zoom = ctx.meta.zoom;
        let mut width = if self.selected { 2.5 } else { 1.5 } * zoom.clamp(0.6, 1.6);
        let mut color = color;
        if let Some(live) = &self.live {
            // Thicker with throughput (log scale: 1 call/s to thousands stay readable), redder with failures.
            width += (live.calls_rps.max(0.0) + 1.0).log2().min(10.0) as f32
                * 0.6
                * zoom.clamp(0.6, 1.6);
            if live.failures_rps > 0.0 && !self.selected {
                let share = (live.failures_rps / live.calls_rps.max(live.failures_rps)) as f32;
                color = lerp_color(color, Color32::from_rgb(229, 57, 53), 0.35 + 0.65 * share);
            }
        }
        let (from, to) = self.endpoints(start, end);
        let (from, to) = (
            ctx.meta.canvas_to_screen_pos(from),
            ctx.meta.canvas_to_screen_pos(to),
        );
        let mut shapes = Vec::new();
        let dir = (to - from).normalized();
        let head_length = 12.0 * zoom.clamp(0.5, 1.5);
        let head_width = 6.0 * zoom.clamp(0.5, 1.5);
        let normal = Vec2::new(-dir.y, dir.x);
        let base_point = to - dir * head_length;
        let head = vec![
            to,
            base_point + normal * head_width,
            base_point - normal * head_width,
        ];
        match self.mode {
            CallMode::Sync => {
                shapes.push(Shape::line_segment(
                    [from, base_point],
                    Stroke::new(width, color),
                ));
                shapes.push(Shape::Path(PathShape::convex_polygon(
                    head,
                    color,
                    Stroke::NONE,
                )));
            }
            CallMode::Async => {
                // Dashes never shrink below 6 px on screen, and zoomed far out a call has at most
                // `FAR_DASHES_PER_CALL` of them: a large design's async calls would otherwise be tens of
                // thousands of dashes (and vertices) a frame, for lines too thin to see the dashes of.
                let (mut dash, mut gap) = ((8.0 * zoom).max(6.0), (5.0 * zoom).max(4.0));
                if is_far(zoom) {
                    let stretch =
                        ((to - from).length() / (FAR_DASHES_PER_CALL * (dash + gap))).max(1.0);
                    (dash, gap) = (dash * stretch, gap * stretch);
                }
                shapes.extend(Shape::dashed_line(
                    &[from, to],
                    Stroke::new(width, color),
                    dash,
                    gap,
                ));
                shapes.push(Shape::Path(PathShape {
                    points: vec![head[1], to, head[2]],
                    closed: false,
                    fill: Color32::TRANSPARENT,
                    stroke: PathStroke::new(width, color),
                }));
            }
        }
        if !self.label.is_empty() && !is_far(zoom) {
            let size = text_size(10.5 * zoom, 6.0, 18.0);
            let text_color = if self.selected {
                color
            } else if dark {
                Color32::from_gray(220)
            } else {
                Color32::from_gray(40)
            };
            let galley = ctx.ctx.fonts_mut(|f| {
                f.layout_no_wrap(self.label.clone(), FontId::proportional(size), text_color)
            });
            // The label sits beside the line, on the side the normal points to, so the arrow stays visible.
            let middle = from + (to - from) / 2.0;
            let side = if normal.y <= 0.0 { normal } else { -normal };
            let lift =
                side * (galley.size().y / 2.0 + 3.0) + side.x.abs() * side * galley.size().x / 2.0;
            let rect = Rect::from_center_size(middle + lift, galley.size()).expand(2.0);
            let background = if dark {
                Color32::from_black_alpha(170)
            } else {
                Color32::from_white_alpha(220)
            };
            shapes.push(Shape::rect_filled(rect, 3.0, background));
            shapes.push(TextShape::new(rect.min + Vec2::splat(2.0), galley, text_color).into());
            if let Some((severity, count)) = self.badge {
                shapes.extend(badge_shapes(
                    ctx,
                    rect.right_center() + Vec2::new(8.0, 0.0),
                    severity,
                    count,
                ));
            }
        } else if let Some((severity, count)) = self.badge {
            shapes.extend(badge_shapes(ctx, from + (to - from) / 2.0, severity, count));
        }
        if let Some(live) = self.live {
            shapes.extend(call_overlay_shapes(ctx, from, to, self.mode, &live, width));
        }
        shapes
    }
}

impl DisplayEdge<ServiceId, EdgeId, Directed, DefaultIx, ServiceShape> for CallShape {
    fn shapes(&mut self, start: &ServiceNode, end: &ServiceNode, ctx: &DrawContext) -> Vec<Shape> {
        let mut shapes = self.paint(start, end, ctx);
        if self.dimmed {
            dim(&mut shapes);
        }
        shapes
    }

    fn update(&mut self, props: &EdgeProps<EdgeId>) {
        self.selected = props.selected;
    }

    fn is_inside(&self, start: &ServiceNode, end: &ServiceNode, pos: Pos2) -> bool {
        let (from, to) = self.endpoints(start, end);
        distance_to_segment(pos, from, to) <= 6.0
    }
}

/// A round badge with a finding count, coloured by the worst severity.
fn badge_shapes(ctx: &DrawContext, center: Pos2, severity: Severity, count: usize) -> Vec<Shape> {
    let color = severity_color(severity);
    if is_far(ctx.meta.zoom) {
        // Zoomed far out, a dot of the severity's colour: the count would not be readable, and the badge would
        // cover its service.
        return vec![Shape::circle_filled(center, 3.0, color)];
    }
    let radius = (8.0 * ctx.meta.zoom).clamp(6.0, 11.0);
    let galley = ctx.ctx.fonts_mut(|f| {
        f.layout_no_wrap(
            count.to_string(),
            FontId::proportional(text_size(radius * 1.3, 4.0, 40.0)),
            Color32::WHITE,
        )
    });
    let text_pos = center - galley.size() / 2.0;
    vec![
        Shape::circle_filled(center, radius, color),
        Shape::circle_stroke(center, radius, Stroke::new(1.0, Color32::WHITE)),
        TextShape::new(text_pos, galley, Color32::WHITE).into(),
    ]
}

/// Distance from `point` to the segment `a`-`b`, in the same units.
fn distance_to_segment(point: Pos2, a: Pos2, b: Pos2) -> f32 {
    let ab = b - a;
    let length_sq = ab.length_sq();
    if length_sq == 0.0 {
        return (point - a).length();
    }
    let t = ((point - a).dot(ab) / length_sq).clamp(0.0, 1.0);
    (point - (a + ab * t)).length()
}

/// Below this zoom the canvas draws an overview (a whole large design in view): no names, labels or counts,
/// square corners, and fewer dashes and dots. Text there would be under 5 px and spill over its box, and thousands of
/// rounded corners, dashes and dots were most of the frame's vertices.
const FAR_ZOOM: f32 = 0.35;

/// From this zoom up to `FAR_ZOOM` a service shows its name alone, at `FAR_NAME_SIZE` and cut to its box: the
/// zoom at which a design of some 70 services fits a 1280x800 window is about 0.3. Further out the boxes are too
/// small for any of it.
const NAME_ZOOM: f32 = 0.2;

/// The font size of names between `NAME_ZOOM` and `FAR_ZOOM`, in px: the smallest that reads.
const FAR_NAME_SIZE: f32 = 8.0;

/// Designs of at least this many services get a minimap.
const MINIMAP_MIN_SERVICES: usize = 25;

/// The minimap's size on screen.
const MINIMAP_SIZE: Vec2 = Vec2::new(200.0, 130.0);

/// The most dashes an async call is drawn with when zoomed far out.
const FAR_DASHES_PER_CALL: f32 = 8.0;

/// Whether the canvas is zoomed out to the overview (`FAR_ZOOM`).
fn is_far(zoom: f32) -> bool {
    zoom < FAR_ZOOM
}

/// A corner radius of `radius` px, or square corners when zoomed far out (each rounded one is a fan of vertices).
fn corner(zoom: f32, radius: f32) -> f32 {
    if is_far(zoom) { 0.0 } else { radius }
}

/// A font size for canvas text at the current zoom, snapped to half pixels: text that follows the zoom exactly
/// would ask for a new size every frame of a zoom gesture, and egui lays out and rasterizes every new size afresh.
/// Half a pixel is too small to see.
fn text_size(size: f32, min: f32, max: f32) -> f32 {
    ((size * 2.0).round() / 2.0).clamp(min, max)
}

/// Makes shapes faint: services and calls off the focused flow.
fn dim(shapes: &mut [Shape]) {
    for shape in shapes {
        egui::epaint::shape_transform::adjust_colors(shape, |color| {
            *color = color.gamma_multiply(0.18);
        });
    }
}

/// A colour part way from `a` to `b`.
fn lerp_color(a: Color32, b: Color32, t: f32) -> Color32 {
    let t = t.clamp(0.0, 1.0);
    let mix = |x: u8, y: u8| (f32::from(x) + (f32::from(y) - f32::from(x)) * t).round() as u8;
    Color32::from_rgb(mix(a.r(), b.r()), mix(a.g(), b.g()), mix(a.b(), b.b()))
}

/// The live marks of a service: its queue bar under the box, rejected and failed counts, and a fault tag.
fn service_overlay_shapes(
    ctx: &DrawContext,
    rect: Rect,
    live: &ServiceOverlay,
    text_color: Color32,
) -> Vec<Shape> {
    let zoom = ctx.meta.zoom;
    let mut shapes = Vec::new();
    let bar = Rect::from_min_size(
        Pos2::new(rect.left(), rect.bottom() + 3.0 * zoom),
        Vec2::new(rect.width(), (5.0 * zoom).max(2.0)),
    );
    // Bounded queues fill to their capacity; unbounded ones on a log scale up to a thousand waiting.
    let fraction = match live.queue_capacity {
        Some(capacity) if capacity > 0 => live.queue_length as f64 / capacity as f64,
        _ => (live.queue_length as f64 + 1.0).ln() / 1001f64.ln(),
    }
    .clamp(0.0, 1.0) as f32;
    let bar_radius = corner(zoom, 2.0);
    shapes.push(Shape::rect_filled(
        bar,
        bar_radius,
        Color32::from_gray(128).gamma_multiply(0.35),
    ));
    if fraction > 0.0 {
        let filled = Rect::from_min_size(bar.min, Vec2::new(bar.width() * fraction, bar.height()));
        shapes.push(Shape::rect_filled(
            filled,
            bar_radius,
            utilization_color(f64::from(fraction)),
        ));
    }
    let small = text_size(10.0 * zoom, 5.0, 18.0);
    let mut notes = Vec::new();
    if live.queue_length > 0 {
        notes.push(format!("queue {}", live.queue_length));
    }
    if live.rejected > 0 {
        notes.push(format!("{} rejected", live.rejected));
    }
    if live.failed > 0 {
        notes.push(format!("{} failed", live.failed));
    }
    if !notes.is_empty() && !is_far(zoom) {
        let color = if live.rejected > 0 || live.failed > 0 {
            Color32::from_rgb(229, 57, 53)
        } else {
            text_color
        };
        let galley = ctx
            .ctx
            .fonts_mut(|f| f.layout_no_wrap(notes.join(" · "), FontId::proportional(small), color));
        let pos = Pos2::new(rect.center().x - galley.size().x / 2.0, bar.bottom() + 2.0);
        shapes.push(TextShape::new(pos, galley, color).into());
    }
    if live.faulted {
        let galley = ctx.ctx.fonts_mut(|f| {
            f.layout_no_wrap(
                "⚡ fault".to_owned(),
                FontId::proportional(small),
                Color32::WHITE,
            )
        });
        let tag = Rect::from_min_size(
            rect.left_top() - Vec2::new(0.0, galley.size().y + 4.0),
            galley.size() + Vec2::splat(4.0),
        );
        shapes.push(Shape::rect_filled(tag, 3.0, Color32::from_rgb(198, 40, 40)));
        shapes.push(TextShape::new(tag.min + Vec2::splat(2.0), galley, Color32::WHITE).into());
    }
    shapes
}

/// The live marks of a call: dots moving along it (round for sync calls, square for async messages) and its
/// breaker's state.
fn call_overlay_shapes(
    ctx: &DrawContext,
    from: Pos2,
    to: Pos2,
    mode: CallMode,
    live: &CallOverlay,
    width: f32,
) -> Vec<Shape> {
    let zoom = ctx.meta.zoom;
    let mut shapes = Vec::new();
    let length = (to - from).length();
    if live.calls_rps > 0.0 && length > 1.0 {
        // More dots for busier calls; they travel at a steady screen speed so motion reads the same at any zoom.
        let mut dots = (1.0 + live.calls_rps.log10().max(0.0) * 2.0).min(8.0) as usize;
        let far = is_far(zoom);
        if far {
            // Zoomed far out, two dots a call still show the flow; eight round ones on each of thousands of
            // calls would be over a million vertices a frame.
            dots = dots.min(2);
        }
        let speed_px = 60.0 * zoom.clamp(0.5, 2.0);
        let travelled = (live.animation_s as f32 * speed_px) / length;
        let radius = (width * 0.9).clamp(2.5, 6.0);
        let dot_color = match mode {
            CallMode::Sync => Color32::from_rgb(30, 136, 229),
            CallMode::Async => Color32::from_rgb(142, 68, 173),
        };
        for i in 0..dots {
            let t = (travelled + i as f32 / dots as f32).fract();
            let at = from + (to - from) * t;
            // Sync dots are round, async ones square; zoomed far out sync dots are squares of about a circle's
            // area too, which cost a fraction of a circle's vertices.
            let square = |side: f32| {
                Shape::rect_filled(
                    Rect::from_center_size(at, Vec2::splat(side)),
                    corner(zoom, 1.0),
                    dot_color,
                )
            };
            shapes.push(match (mode, far) {
                (CallMode::Sync, false) => Shape::circle_filled(at, radius, dot_color),
                (CallMode::Sync, true) => square(radius * 1.4),
                (CallMode::Async, _) => square(radius * 1.8),
            });
        }
    }
    if let Some(state) = live.breaker {
        let center = from + (to - from) * 0.22;
        let color = breaker_color(state);
        if is_far(zoom) {
            // Zoomed far out, a dot of the state's colour (the legend names them): the words would not be
            // readable and would cover the calls around.
            shapes.push(Shape::rect_filled(
                Rect::from_center_size(center, Vec2::splat(5.0)),
                0.0,
                color,
            ));
            return shapes;
        }
        let text = format!("⚡ {}", breaker_label(state));
        let galley = ctx.ctx.fonts_mut(|f| {
            f.layout_no_wrap(
                text,
                FontId::proportional(text_size(10.0 * zoom, 6.0, 16.0)),
                Color32::WHITE,
            )
        });
        let rect = Rect::from_center_size(center, galley.size() + Vec2::new(8.0, 4.0));
        shapes.push(Shape::rect_filled(rect, rect.height() / 2.0, color));
        shapes.push(TextShape::new(rect.min + Vec2::new(4.0, 2.0), galley, Color32::WHITE).into());
    }
    shapes
}

/// The legend of the live overlay, in the canvas' lower left corner.
fn paint_legend(ui: &egui::Ui, canvas: Rect) {
    let painter = ui.painter_at(canvas);
    let visuals = ui.visuals();
    let text = visuals.text_color();
    let font = FontId::proportional(11.0);
    let size = Vec2::new(330.0, 62.0);
    let frame = Rect::from_min_size(canvas.left_bottom() + Vec2::new(8.0, -size.y - 8.0), size);
    painter.rect_filled(frame, 6.0, visuals.extreme_bg_color.gamma_multiply(0.92));
    painter.rect_stroke(
        frame,
        6.0,
        visuals.widgets.noninteractive.bg_stroke,
        StrokeKind::Inside,
    );
    let left = frame.left() + 8.0;
    painter.text(
        Pos2::new(left, frame.top() + 6.0),
        egui::Align2::LEFT_TOP,
        "Utilization",
        font.clone(),
        text,
    );
    let bar = Rect::from_min_size(
        Pos2::new(left + 70.0, frame.top() + 7.0),
        Vec2::new(160.0, 10.0),
    );
    let steps = 32;
    for i in 0..steps {
        let x0 = bar.left() + bar.width() * i as f32 / steps as f32;
        let x1 = bar.left() + bar.width() * (i + 1) as f32 / steps as f32;
        painter.rect_filled(
            Rect::from_min_max(Pos2::new(x0, bar.top()), Pos2::new(x1, bar.bottom())),
            0.0,
            utilization_color(f64::from(i) / f64::from(steps - 1)),
        );
    }
    painter.text(
        bar.left_bottom() + Vec2::new(0.0, 1.0),
        egui::Align2::LEFT_TOP,
        "0%",
        FontId::proportional(9.0),
        text,
    );
    painter.text(
        bar.right_bottom() + Vec2::new(0.0, 1.0),
        egui::Align2::RIGHT_TOP,
        "100%",
        FontId::proportional(9.0),
        text,
    );
    painter.text(
        bar.right_center() + Vec2::new(8.0, 0.0),
        egui::Align2::LEFT_CENTER,
        "bar: queue",
        font.clone(),
        text,
    );
    let y = frame.bottom() - 14.0;
    painter.circle_filled(
        Pos2::new(left + 5.0, y),
        4.0,
        Color32::from_rgb(30, 136, 229),
    );
    painter.text(
        Pos2::new(left + 13.0, y),
        egui::Align2::LEFT_CENTER,
        "sync call",
        font.clone(),
        text,
    );
    painter.rect_filled(
        Rect::from_center_size(Pos2::new(left + 85.0, y), Vec2::splat(7.0)),
        1.0,
        Color32::from_rgb(142, 68, 173),
    );
    painter.text(
        Pos2::new(left + 93.0, y),
        egui::Align2::LEFT_CENTER,
        "async message",
        font.clone(),
        text,
    );
    let mut x = left + 190.0;
    for state in [
        BreakerState::Closed,
        BreakerState::Open,
        BreakerState::HalfOpen,
    ] {
        painter.circle_filled(Pos2::new(x, y), 4.0, breaker_color(state));
        let label = painter.text(
            Pos2::new(x + 7.0, y),
            egui::Align2::LEFT_CENTER,
            breaker_label(state),
            font.clone(),
            text,
        );
        x = label.right() + 10.0;
    }
}

/// Live numbers of a service, one line each, for the hover box.
fn service_hover_lines(id: &str, s: &ServiceNow) -> Vec<String> {
    let capacity = s
        .queue_capacity
        .map_or(String::new(), |c| format!(" of {c}"));
    vec![
        id.to_owned(),
        format!(
            "arrivals {:.1}/s · utilization {:.0}%",
            s.arrivals_rps,
            s.utilization * 100.0
        ),
        format!("queue {}{capacity}", s.queue_length),
        format!(
            "p99 {} · rejected {} · failed {}",
            s.p99_ms.map_or("–".to_owned(), crate::rules::format_ms),
            s.rejected,
            s.failed
        ),
        if s.faulted {
            "a fault is in force".to_owned()
        } else {
            "right-click to inject a fault".to_owned()
        },
    ]
}

/// Live numbers of a call, one line each, for the hover box.
fn edge_hover_lines(id: &str, e: &EdgeNow) -> Vec<String> {
    let mut lines = vec![
        id.to_owned(),
        format!(
            "{:.1} calls/s · {:.1} failed/s",
            e.calls_rps, e.failures_rps
        ),
        format!("{} in flight", e.in_flight),
    ];
    if e.has_breaker {
        lines.push(format!("circuit breaker {}", breaker_label(e.breaker)));
    }
    lines
}

/// A box of text beside the pointer, above everything else.
fn paint_hover_box(ui: &egui::Ui, at: Pos2, lines: &[String]) {
    let painter = ui.ctx().layer_painter(egui::LayerId::new(
        egui::Order::Tooltip,
        egui::Id::new("canvas-live-hover"),
    ));
    let visuals = ui.visuals();
    let galley = painter.layout_no_wrap(
        lines.join("\n"),
        FontId::proportional(12.0),
        visuals.text_color(),
    );
    let rect = Rect::from_min_size(
        at + Vec2::new(16.0, 16.0),
        galley.size() + Vec2::splat(12.0),
    );
    painter.rect_filled(rect, 6.0, visuals.window_fill);
    painter.rect_stroke(rect, 6.0, visuals.window_stroke, StrokeKind::Inside);
    painter.galley(rect.min + Vec2::splat(6.0), galley, visuals.text_color());
}

/// The fault menu of a service; returns what was chosen.
fn fault_menu(ui: &mut egui::Ui, service: &ServiceId) -> Option<FaultRequest> {
    use crate::model::FaultKind;
    ui.label(egui::RichText::new(format!("Inject a fault into {service}")).strong());
    let fault = |kind: FaultKind, factor: Option<f64>, error_rate: Option<f64>| Fault {
        service: service.clone(),
        kind,
        // The simulator starts an injected fault at its current time.
        start_s: 0.0,
        end_s: None,
        factor,
        error_rate,
    };
    let choices = [
        (
            "Down: refuses every request",
            fault(FaultKind::Down, None, None),
        ),
        (
            "Hang: takes requests, never answers",
            fault(FaultKind::Hang, None, None),
        ),
        ("Slow ×5", fault(FaultKind::Slow, Some(5.0), None)),
        ("Slow ×20", fault(FaultKind::Slow, Some(20.0), None)),
        (
            "Errors: 50% of requests fail",
            fault(FaultKind::Errors, None, Some(0.5)),
        ),
    ];
    let mut chosen = None;
    for (label, fault) in choices {
        if ui
            .button(label)
            .on_hover_text(
                "Starts now, in this run only, until cleared; plan faults in the design's settings",
            )
            .clicked()
        {
            chosen = Some(FaultRequest::Inject(fault));
        }
    }
    ui.separator();
    if ui
        .button("Clear this service's faults")
        .on_hover_text(
            "Ends every fault on it now, planned or injected, as an operator restarting it would",
        )
        .clicked()
    {
        chosen = Some(FaultRequest::Clear(service.clone()));
    }
    chosen
}
