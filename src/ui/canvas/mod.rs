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

use crate::edit::Command;
use crate::model::{CallMode, Design, Edge, EdgeId, Fault, ServiceId, ServiceKind};
use crate::rules::{Report, Severity, Subject};
use crate::sim::BreakerState;
use crate::sim::history::{EdgeNow, RunHistory, ServiceNow};
use crate::ui::warnings::severity_color;

mod compare;
mod groups;
mod interaction;
mod labels;
pub mod names;
mod overlay;
mod overview;
mod placement;
mod route;
mod shapes;
mod sync;

pub use compare::{
    ADDED_COLOR, CHANGED_COLOR, ChangeMark, CompareMarks, GhostService, REMOVED_COLOR,
};
pub use groups::collapsed_group_of;
use groups::*;
use labels::*;
pub use labels::{CallLabel, PlacedLabel};
use overlay::*;
pub use overlay::{
    CallOverlay, FaultRequest, LiveOverlay, ServiceOverlay, breaker_label, utilization_color,
};
use overview::*;
pub use placement::{free_spot, new_edge, new_service};
use shapes::*;
pub use shapes::{CallShape, ServiceShape};
pub use sync::call_label;
use sync::*;

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
/// Frames after a fit during which the canvas' size may still change as the panels around it take their sizes.
const FRAMES_TO_SETTLE: u32 = 30;

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
    /// The window's size at the last frame: auto-fit follows the window, not the panels around the canvas.
    last_window_size: Vec2,
    /// Frames since the last fit: the panels settle over the first few, and the fit follows them meanwhile.
    frames_since_fit: u32,
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
    /// The groups drawn as one box each.
    collapsed: std::collections::BTreeSet<String>,
    /// The collapsed groups the view graph was last built with.
    built_collapsed: std::collections::BTreeSet<String>,
    /// The view graph's nodes that stand for collapsed groups, with their members.
    group_nodes: HashMap<NodeIndex, GroupNode>,
    /// The view graph's edges that stand for several calls (a collapsed group's calls in or out, merged per pair of
    /// ends), with the calls.
    merged_edges: HashMap<EdgeIndex, Vec<EdgeId>>,
    /// A design review drawn over the design: changed items outlined, removed ones as ghosts.
    compare: Option<CompareMarks>,
    /// The prefix every service name shares and the suffix most share, left off the boxes and said once in a
    /// corner.
    name_affixes: (Option<String>, Option<String>),
    /// The services the next fit frames (a focus), instead of the whole design.
    fit_only: Option<Vec<ServiceId>>,
    /// Counts the view graph's rebuilds.
    graph_generation: u64,
    /// The rebuild and zoom the call labels were last placed for.
    labels_placed_for: Option<(u64, f32)>,
    /// The zoom at the last frame's label placement, to tell a zoom gesture from a zoom at rest.
    labels_zoom_last_frame: Option<f32>,
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
            last_window_size: Vec2::ZERO,
            frames_since_fit: 0,
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
            collapsed: Default::default(),
            built_collapsed: Default::default(),
            group_nodes: HashMap::new(),
            merged_edges: HashMap::new(),
            compare: None,
            name_affixes: (None, None),
            fit_only: None,
            graph_generation: 0,
            labels_placed_for: None,
            labels_zoom_last_frame: None,
        }
    }
}

impl Canvas {
    /// Asks for the view to fit the whole design on the next frame.
    pub fn request_fit(&mut self) {
        self.fit_requested = true;
        self.auto_fit = true;
        self.fit_only = None;
    }

    /// Asks for the view to frame these services (a focus) on the next frame; the view then stays put.
    pub fn request_fit_on(&mut self, services: Vec<ServiceId>) {
        self.fit_requested = true;
        self.auto_fit = false;
        self.fit_only = Some(services);
    }

    /// Marks `selection` as selected in the view, e.g. after a click in the warnings panel.
    pub fn show_selection(&mut self, selection: &Selection) {
        let node_ids: Vec<_> = self.graph.g().node_indices().collect();
        for index in node_ids {
            let selected = match self.group_nodes.get(&index) {
                Some(group) => group
                    .members
                    .iter()
                    .any(|(id, _)| selection.services.contains(id)),
                None => self
                    .graph
                    .node(index)
                    .is_some_and(|n| selection.services.contains(n.payload())),
            };
            if let Some(node) = self.graph.node_mut(index) {
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

    /// The name each service's box showed at the last paint and its size in px (`None`: no name), in the view
    /// graph's order (for tests and tooling).
    pub fn drawn_names(&self) -> Vec<(ServiceId, Option<(String, f32)>)> {
        self.graph
            .nodes_iter()
            .map(|(_, node)| (node.payload().clone(), node.display().drawn_name.clone()))
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
        let window_size = ui.ctx().content_rect().size();
        // Until the user pans or zooms, the view follows the window as it settles or is resized; but a notice
        // line appearing under the canvas, or a panel being dragged, leaves it where it is (it jumped to a new
        // fit when a fault was injected).
        let settling =
            self.frames_since_fit < FRAMES_TO_SETTLE && canvas_size != self.last_canvas_size;
        if self.fit_requested
            || (self.auto_fit && (window_size != self.last_window_size || settling))
        {
            self.fit_requested = false;
            self.frames_since_fit = 0;
            let only = self.fit_only.take();
            self.fit_to(ui, canvas_size, only.as_deref());
        }
        self.frames_since_fit = self.frames_since_fit.saturating_add(1);
        self.last_canvas_size = canvas_size;
        self.last_window_size = window_size;
        if let Some(target) = self.pending_center.take() {
            let mut meta = MetadataFrame::new(Some(CANVAS_ID.to_owned())).load(ui);
            meta.pan = canvas_size / 2.0 - target.to_vec2() * meta.zoom;
            meta.save(ui);
        }
        self.apply_live();
        let zoom = MetadataFrame::new(Some(CANVAS_ID.to_owned())).load(ui).zoom;
        self.place_call_labels(ui.ctx(), zoom);
        // Group boxes go behind the services and calls: a place is kept for them now and filled once this frame's
        // view (which a drag or the wheel may change) is known.
        let behind = ui.painter().add(Shape::Noop);
        let response = if interacting {
            self.show_interactive(ui, design, selection, commands)
        } else {
            self.paint_static(ui)
        };
        let boxes = self.group_box_shapes(ui.ctx(), design);
        ui.painter().set(behind, Shape::Vec(boxes));
        if response.clicked()
            && let Some(at) = ui.input(|i| i.pointer.interact_pos())
            && self.service_at(at).is_none()
            && let Some(group) = self.group_title_at(design, at)
        {
            self.toggle_group(&group);
        }
        self.paint_compare(ui, response.rect);
        paint_affix_caption(ui, response.rect, &self.name_affixes);
        self.paint_hovered_name(ui);
        if self.live.is_some() {
            self.live_extras(ui, &response);
        } else if design.edges.iter().any(|e| e.is_compensation()) {
            paint_compensation_legend(ui, response.rect);
        }
        if self.graph.node_count() >= MINIMAP_MIN_SERVICES {
            self.minimap(ui, response.rect);
        }
        // A zoom this frame, or one still to come to rest, leaves the labels placed for another zoom: they are
        // placed again once it rests.
        if self
            .last_view
            .is_some_and(|(_, now, _)| Some(now) != self.labels_placed_for.map(|(_, z)| z))
        {
            ui.ctx().request_repaint();
        }
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
}

impl Canvas {
    /// The whole name of the service under the pointer when its box shows it shortened or not at all, above the
    /// box and above everything else on the canvas.
    fn paint_hovered_name(&self, ui: &egui::Ui) {
        let Some(pointer) = ui.input(|i| i.pointer.hover_pos()) else {
            return;
        };
        let Some((rect, zoom, pan)) = self.last_view else {
            return;
        };
        if !rect.contains(pointer) {
            return;
        }
        let Some(id) = self.service_at(pointer) else {
            return;
        };
        let Some(node) = self.nodes.get(&id).and_then(|i| self.graph.node(*i)) else {
            return;
        };
        let shape = node.display();
        if !shape.name_cut {
            return;
        }
        let name = shape.full_name.clone().unwrap_or_else(|| node.label());
        let center = rect.min + pan + node.location().to_vec2() * zoom;
        let top = center.y - SERVICE_HEIGHT * zoom / 2.0;
        let painter = ui.ctx().layer_painter(egui::LayerId::new(
            egui::Order::Tooltip,
            egui::Id::new("canvas-hovered-name"),
        ));
        let visuals = ui.visuals();
        let galley = painter.layout_no_wrap(
            name,
            FontId::proportional(13.0),
            visuals.strong_text_color(),
        );
        let at = Pos2::new(
            center.x - galley.size().x / 2.0,
            top - galley.size().y - 8.0,
        );
        let frame = Rect::from_min_size(at, galley.size()).expand(4.0);
        painter.rect_filled(frame, 4.0, visuals.extreme_bg_color);
        painter.rect_stroke(frame, 4.0, visuals.window_stroke(), StrokeKind::Inside);
        painter.galley(at, galley, visuals.strong_text_color());
    }
}

/// The caption that says what the boxes leave off their names, in the canvas' upper right corner.
fn paint_affix_caption(
    ui: &egui::Ui,
    canvas: egui::Rect,
    affixes: &(Option<String>, Option<String>),
) {
    let text = match affixes {
        (None, None) => return,
        (Some(prefix), None) => format!("Names shown without \u{201c}{prefix}\u{201d}"),
        (None, Some(suffix)) => format!("Names shown without \u{201c}{suffix}\u{201d}"),
        (Some(prefix), Some(suffix)) => {
            format!("Names shown without \u{201c}{prefix}\u{201d} and \u{201c}{suffix}\u{201d}")
        }
    };
    let painter = ui.painter_at(canvas);
    let visuals = ui.visuals();
    let galley = painter.layout_no_wrap(
        text,
        egui::FontId::proportional(11.0),
        visuals.weak_text_color(),
    );
    let at = canvas.right_top() + Vec2::new(-galley.size().x - 10.0, 6.0);
    painter.rect_filled(
        Rect::from_min_size(at, galley.size()).expand(3.0),
        3.0,
        visuals.extreme_bg_color.gamma_multiply(0.9),
    );
    painter.galley(at, galley, visuals.weak_text_color());
}

/// The legend of the dotted compensating calls, in the canvas' lower left corner (the live legend takes the place
/// while a run is on).
fn paint_compensation_legend(ui: &egui::Ui, canvas: egui::Rect) {
    let painter = ui.painter_at(canvas);
    let visuals = ui.visuals();
    let text = "Dotted call: a compensating call, made only when its saga rolls back";
    let galley = painter.layout_no_wrap(
        text.to_owned(),
        egui::FontId::proportional(11.0),
        visuals.text_color(),
    );
    let frame = egui::Rect::from_min_size(
        canvas.left_bottom() + Vec2::new(8.0, -galley.size().y - 16.0),
        galley.size() + Vec2::splat(8.0),
    );
    painter.rect_filled(frame, 4.0, visuals.extreme_bg_color.gamma_multiply(0.92));
    painter.galley(frame.min + Vec2::splat(4.0), galley, visuals.text_color());
}
