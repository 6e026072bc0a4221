//! The live simulation drawn over the design: utilization, queues, call rates, breakers, hover boxes, the fault menu.

use super::*;

impl Canvas {
    /// Copies the live numbers into the view graph's shapes, or clears them once the run is gone.
    pub(super) fn apply_live(&mut self) {
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
            if self.group_nodes.contains_key(index) {
                continue;
            }
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
        let groups: Vec<(NodeIndex, Option<ServiceOverlay>)> = self
            .group_nodes
            .iter()
            .map(|(index, group)| (*index, self.group_overlay(group, live)))
            .collect();
        for (index, overlay) in groups {
            if let Some(node) = self.graph.node_mut(index) {
                node.display_mut().live = overlay;
            }
        }
        for (id, index) in &self.edges {
            if self.merged_edges.contains_key(index) {
                continue;
            }
            if let Some(edge) = self.graph.edge_mut(*index) {
                edge.display_mut().live = live.edges.get(id.as_str()).map(|e| CallOverlay {
                    calls_rps: e.calls_rps,
                    failures_rps: e.failures_rps,
                    breaker: e.has_breaker.then_some(e.breaker),
                    animation_s: self.animation_s,
                });
            }
        }
        let merged: Vec<(EdgeIndex, Option<CallOverlay>)> = self
            .merged_edges
            .iter()
            .map(|(index, ids)| (*index, self.merged_call_overlay(ids, live)))
            .collect();
        for (index, overlay) in merged {
            if let Some(edge) = self.graph.edge_mut(index) {
                edge.display_mut().live = overlay;
            }
        }
        self.live_drawn = true;
    }

    /// While a run is on: the legend, live numbers of what the pointer is over, and the fault menu a right-click
    /// on a service opens.
    pub(super) fn live_extras(&mut self, ui: &mut egui::Ui, response: &egui::Response) {
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
                    .map(|s| service_hover_lines(&self.name_of(&id), s))
            } else {
                self.edge_at(at).and_then(|id| {
                    let title = self.call_title(&id);
                    live.edges
                        .get(id.as_str())
                        .map(|e| edge_hover_lines(&title, e))
                })
            };
            if let Some(lines) = lines {
                paint_hover_box(ui, at, &lines);
            }
        }
        let Some((service, at)) = self.fault_menu.clone() else {
            return;
        };
        let name = self.name_of(&service);
        let area = egui::Area::new(egui::Id::new("canvas-fault-menu"))
            .order(egui::Order::Foreground)
            .fixed_pos(at)
            .show(ui.ctx(), |ui| {
                egui::Frame::menu(ui.style())
                    .show(ui, |ui| fault_menu(ui, &service, &name))
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

impl Canvas {
    /// A service's name as drawn, with its id when they differ ("Payment (payment-svc)"): people read names, and
    /// the id is what files and exports use.
    pub(super) fn name_of(&self, id: &ServiceId) -> String {
        let label = self
            .nodes
            .get(id)
            .and_then(|index| self.graph.node(*index))
            .map(|node| node.label());
        match label {
            Some(label) if label != id.as_str() => format!("{label} ({id})"),
            _ => id.to_string(),
        }
    }

    /// A call's title: its caller's and callee's names.
    pub(super) fn call_title(&self, id: &EdgeId) -> String {
        let ends = self
            .edges
            .get(id)
            .and_then(|index| self.graph.edge_endpoints(*index))
            .and_then(|(from, to)| Some((self.graph.node(from)?, self.graph.node(to)?)));
        match ends {
            Some((from, to)) => format!("{} -> {}", from.label(), to.label()),
            None => id.to_string(),
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
pub(super) fn breaker_color(state: BreakerState) -> Color32 {
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

/// The live marks of a service: its queue bar under the box, rejected and failed counts, and a fault tag.
pub(super) fn service_overlay_shapes(
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
pub(super) fn call_overlay_shapes(
    ctx: &DrawContext,
    path: &[Pos2],
    mode: CallMode,
    live: &CallOverlay,
    width: f32,
) -> Vec<Shape> {
    let zoom = ctx.meta.zoom;
    let mut shapes = Vec::new();
    let length: f32 = path.windows(2).map(|w| (w[1] - w[0]).length()).sum();
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
            let at = route::point_along(path, t).0;
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
        let (center, along) = route::point_along(path, 0.22);
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
        // Below the line: the call's label is above it.
        let rect = beside_line(
            center - along,
            center + along,
            0.5,
            galley.size() + Vec2::new(8.0, 4.0),
            false,
        );
        shapes.push(Shape::rect_filled(rect, rect.height() / 2.0, color));
        shapes.push(TextShape::new(rect.min + Vec2::new(4.0, 2.0), galley, Color32::WHITE).into());
    }
    shapes
}

/// The legend of the live overlay, in the canvas' lower left corner.
pub(super) fn paint_legend(ui: &egui::Ui, canvas: Rect) {
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
/// A service's live numbers for its hover box, under `title` (its name, with the id when they differ).
pub(super) fn service_hover_lines(title: &str, s: &ServiceNow) -> Vec<String> {
    let capacity = s
        .queue_capacity
        .map_or(String::new(), |c| format!(" of {c}"));
    vec![
        title.to_owned(),
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
/// A call's live numbers for its hover box, under `title` (caller and callee by name).
pub(super) fn edge_hover_lines(title: &str, e: &EdgeNow) -> Vec<String> {
    let mut lines = vec![
        title.to_owned(),
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
pub(super) fn paint_hover_box(ui: &egui::Ui, at: Pos2, lines: &[String]) {
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
pub(super) fn fault_menu(
    ui: &mut egui::Ui,
    service: &ServiceId,
    name: &str,
) -> Option<FaultRequest> {
    use crate::model::FaultKind;
    ui.label(egui::RichText::new(format!("Inject a fault into {name}")).strong());
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
