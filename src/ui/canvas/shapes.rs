//! How a service box and a call line are drawn (egui_graphs display shapes).

use super::*;

/// Colours of a service kind: fill and border.
pub(super) fn kind_colors(kind: ServiceKind, dark: bool) -> (Color32, Color32) {
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
        // Teal, not red: red on the canvas means failure (failed counts, open breakers, failing calls).
        ServiceKind::Broker => (
            Color32::from_rgb(224, 242, 241),
            Color32::from_rgb(20, 62, 60),
            Color32::from_rgb(0, 137, 123),
        ),
        ServiceKind::External => (
            Color32::from_rgb(240, 240, 240),
            Color32::from_rgb(56, 56, 56),
            Color32::from_rgb(117, 117, 117),
        ),
    };
    (if dark { fill_dark } else { fill_light }, border)
}

use crate::ui::contrast;

/// The colour of the kind line under a service's name: the kind's colour where it reads on the box's fill (a
/// contrast of 3 or more, the least for text this size), else the text colour, softened. The kind's own colour
/// on its dark fill, or on the utilization colours while simulating, vanished.
pub(super) fn tag_color(kind_color: Color32, fill: Color32, text: Color32) -> Color32 {
    const READABLE: f32 = 3.0;
    if contrast(kind_color, fill) >= READABLE {
        return kind_color;
    }
    let softened = lerp_color(text, fill, 0.25);
    if contrast(softened, fill) >= READABLE {
        softened
    } else {
        text
    }
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
    /// A collapsed group's box: how many services it holds.
    pub group_members: Option<usize>,
    /// The boxes drawn over this one (later in the view graph), in canvas units: a click there is theirs, since
    /// egui_graphs gives a click to the first node that contains it, which is the one drawn underneath.
    pub covered_by: Vec<Rect>,
    /// Outlined while comparing: added or changed since the design compared with.
    pub change: Option<ChangeMark>,
    /// The whole display name when the label drops the design's common prefix.
    pub full_name: Option<String>,
    /// Whether the name drawn last was shortened or left out (so hovering shows it whole).
    pub(super) name_cut: bool,
    /// The distance between neighbouring columns of boxes in the design (canvas units), the room names may take.
    pub column_gap: f32,
    /// The name drawn last and its font size in px (`None`: no name drawn), for tests and tooling.
    pub drawn_name: Option<(String, f32)>,
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
            group_members: None,
            covered_by: Vec::new(),
            change: None,
            full_name: None,
            name_cut: false,
            drawn_name: None,
            column_gap: crate::model::layout::LAYER_SPACING,
        }
    }
}

impl ServiceShape {
    pub(super) fn rect(&self) -> Rect {
        Rect::from_center_size(self.pos, Vec2::new(SERVICE_WIDTH, SERVICE_HEIGHT))
    }
}

impl ServiceShape {
    /// The service's shapes at full strength.
    pub(super) fn paint(&mut self, ctx: &DrawContext) -> Vec<Shape> {
        let dark = ctx.ctx.global_style().visuals.dark_mode;
        let (mut fill, mut border) = kind_colors(self.kind, dark);
        if self.group_members.is_some() {
            // A collapsed group: the colours of an expanded group's box, solid.
            (fill, border) = if dark {
                (
                    Color32::from_rgb(44, 50, 66),
                    Color32::from_rgb(140, 155, 195),
                )
            } else {
                (
                    Color32::from_rgb(226, 232, 244),
                    Color32::from_rgb(95, 112, 155),
                )
            };
        }
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
        if self.replicas > 1 || self.group_members.is_some() {
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
        // frame. Above that names never go under 10 px: where the box is too small for that, the name may take
        // the room between the layers, on a backing so it reads over the calls, and loses its middle if it must.
        self.name_cut = true;
        self.drawn_name = None;
        if zoom >= NAME_ZOOM && (self.group_members.is_none() || !is_far(zoom)) {
            let name_size = name_font_size(zoom);
            let overflows = name_spills(zoom);
            let max_width = if overflows {
                name_room(zoom, self.column_gap)
            } else {
                rect.width() - 8.0 * zoom
            };
            let font = FontId::proportional(name_size);
            let shown = ctx.ctx.fonts_mut(|f| {
                names::middle_ellipsis(&self.label, max_width, |s| {
                    s.chars().map(|c| f.glyph_width(&font, c)).sum()
                })
            });
            self.name_cut = shown != self.label || self.full_name.is_some();
            self.drawn_name = Some((shown.clone(), name_size));
            let name = ctx
                .ctx
                .fonts_mut(|f| f.layout_no_wrap(shown, font.clone(), text_color));
            // The kind line goes where it can be 10 px tall under the name; otherwise the name is centred alone.
            let with_tag = 10.0 * zoom >= NAME_MIN_SIZE;
            let name_pos = Pos2::new(
                rect.center().x - name.size().x / 2.0,
                if with_tag {
                    rect.center().y - name.size().y * 0.75
                } else {
                    rect.center().y - name.size().y / 2.0
                },
            );
            if name.size().x > rect.width() {
                shapes.push(Shape::rect_filled(
                    Rect::from_min_size(name_pos, name.size()).expand(1.5),
                    2.0,
                    fill.gamma_multiply(0.92),
                ));
            }
            shapes.push(TextShape::new(name_pos, name, text_color).into());
            if !with_tag {
                if let Some((severity, count)) = self.badge {
                    shapes.extend(badge_shapes(ctx, rect.right_top(), severity, count));
                }
                if let Some(live) = self.live {
                    shapes.extend(service_overlay_shapes(ctx, rect, &live, text_color));
                }
                self.paint_change_mark(rect, zoom, &mut shapes);
                return shapes;
            }
            let tag_size = text_size(10.0 * zoom, NAME_MIN_SIZE, 20.0);
            let tag_text = if let Some(members) = self.group_members {
                format!("group of {members}")
            } else if self.replicas > 1 {
                format!("{} ×{}", self.kind.as_str(), self.replicas)
            } else {
                self.kind.as_str().to_owned()
            };
            let tag_color = tag_color(border, fill, text_color);
            let tag = ctx.ctx.fonts_mut(|f| {
                f.layout_no_wrap(tag_text, FontId::proportional(tag_size), tag_color)
            });
            let tag_pos = Pos2::new(
                rect.center().x - tag.size().x / 2.0,
                rect.center().y + tag.size().y * 0.2,
            );
            shapes.push(TextShape::new(tag_pos, tag, tag_color).into());
        } else if self.group_members.is_some() {
            // A collapsed group keeps its name readable at every zoom (above its box when the box is too small),
            // like an expanded group's title.
            let name = ctx.ctx.fonts_mut(|f| {
                let mut job = egui::text::LayoutJob::simple_singleline(
                    self.label.clone(),
                    FontId::proportional(10.0),
                    text_color,
                );
                job.wrap.max_width = 180.0;
                job.wrap.max_rows = 1;
                f.layout_job(job)
            });
            let name_pos = Pos2::new(
                rect.center().x - name.size().x / 2.0,
                rect.top() - name.size().y - 2.0,
            );
            shapes.push(TextShape::new(name_pos, name, text_color).into());
        }
        if let Some((severity, count)) = self.badge {
            shapes.extend(badge_shapes(ctx, rect.right_top(), severity, count));
        }
        if let Some(live) = self.live {
            shapes.extend(service_overlay_shapes(ctx, rect, &live, text_color));
        }
        self.paint_change_mark(rect, zoom, &mut shapes);
        shapes
    }

    /// The outline of a comparison's mark (added, changed).
    fn paint_change_mark(&self, rect: Rect, zoom: f32, shapes: &mut Vec<Shape>) {
        if let Some(mark) = self.change {
            shapes.push(Shape::rect_stroke(
                rect.expand(4.0 * zoom.clamp(0.5, 1.5)),
                corner(zoom, 10.0 * zoom),
                Stroke::new(3.0 * zoom.clamp(0.6, 1.4), mark.color()),
                StrokeKind::Outside,
            ));
        }
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
        self.rect().contains(pos) && !self.covered_by.iter().any(|above| above.contains(pos))
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
    /// The label's short form, said where the whole one finds no room (the protocol; empty: none).
    pub short_label: String,
    /// Where the label goes and what it says (see `labels`); `None`: not drawn (no room, or shared with another
    /// call from the same service).
    pub placed_label: Option<CallLabel>,
    /// The call's label and findings are said by a label another call from the same service shares with it.
    pub label_shared: bool,
    /// The call has a breaker, whose state is drawn below the line while simulating: its label stays above.
    pub has_breaker: bool,
    /// How far the middle of the call bends sideways to go round boxes in its way, in canvas units (0: straight;
    /// see `route::bend_around`).
    pub bend: f32,
    /// A saga's compensating call: drawn dotted, like a return, since it is made only when the saga rolls back.
    pub compensation: bool,
    /// Underlaid while comparing: added or changed since the design compared with.
    pub change: Option<ChangeMark>,
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
            short_label: String::new(),
            placed_label: None,
            label_shared: false,
            has_breaker: false,
            bend: 0.0,
            compensation: false,
            change: None,
        }
    }
}

pub(super) type ServiceNode =
    egui_graphs::Node<ServiceId, EdgeId, Directed, DefaultIx, ServiceShape>;

/// How far a call to its own service loops out of the box's bottom, in canvas units (at the loop's tip).
const SELF_CALL_REACH: f32 = 36.0;

/// Half the width of the innermost self-call loop where it meets the box.
const SELF_CALL_HALF_WIDTH: f32 = 14.0;

impl CallShape {
    /// The end points in canvas units of a call between two different services (`path` draws a call to itself),
    /// offset sideways when several calls join the same two services.
    pub(super) fn endpoints(&self, start: &ServiceNode, end: &ServiceNode) -> (Pos2, Pos2) {
        let (a, b) = (start.location(), end.location());
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

    /// A call to its own service (centred at `center`): a loop out of the box's bottom and back, so it shows (a
    /// straight hook lay on the border, under the box's outline and the badge). The bottom, because calls to other
    /// services leave by the sides in a layered layout and the findings badge sits on the top corner. Several
    /// loops nest: lane offsets are symmetric about 0 (±9, ±27…), and each gets a width and reach of its own.
    fn self_call_loop(&self, center: Pos2) -> Vec<Pos2> {
        let lane = self.lane_offset.abs() * 2.0
            + if self.lane_offset < 0.0 {
                super::sync::LANE_SPACING
            } else {
                0.0
            };
        let bottom = center + Vec2::new(0.0, SERVICE_HEIGHT / 2.0);
        let half_width = Vec2::new(SELF_CALL_HALF_WIDTH + lane / 2.0, 0.0);
        let control = bottom + Vec2::new(0.0, 2.0 * (SELF_CALL_REACH + lane));
        route::quadratic(bottom - half_width, control, bottom + half_width)
    }

    /// The call's path in canvas units: its two end points, points along a curve when it bends round boxes, or a
    /// loop for a call to its own service.
    pub(super) fn path(&self, start: &ServiceNode, end: &ServiceNode) -> Vec<Pos2> {
        let (a, b) = (start.location(), end.location());
        if a == b {
            return self.self_call_loop(a);
        }
        if self.bend == 0.0 {
            let (from, to) = self.endpoints(start, end);
            return vec![from, to];
        }
        let control = route::control_point(a, b, self.lane_offset + self.bend);
        let from = DisplayNode::<ServiceId, EdgeId, Directed, DefaultIx>::closest_boundary_point(
            start.display(),
            control - a,
        );
        let to = DisplayNode::<ServiceId, EdgeId, Directed, DefaultIx>::closest_boundary_point(
            end.display(),
            control - b,
        );
        route::quadratic(from, control, to)
    }
}

impl CallShape {
    /// The call's shapes at full strength.
    pub(super) fn paint(
        &mut self,
        start: &ServiceNode,
        end: &ServiceNode,
        ctx: &DrawContext,
    ) -> Vec<Shape> {
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
        // In place: this runs for every call every frame, and a large design has thousands.
        let mut path = self.path(start, end);
        for point in &mut path {
            *point = ctx.meta.canvas_to_screen_pos(*point);
        }
        let to = path[path.len() - 1];
        let mut shapes = Vec::new();
        if let Some(mark) = self.change {
            // A broad band under the line, in the mark's colour.
            shapes.push(Shape::line(
                path.clone(),
                Stroke::new(
                    width + 7.0 * zoom.clamp(0.6, 1.4),
                    mark.color().gamma_multiply(0.55),
                ),
            ));
        }
        // The arrow points along the path's last stretch (a bent call arrives at an angle).
        let dir = route::point_along(&path, 1.0).1;
        let head_length = 12.0 * zoom.clamp(0.5, 1.5);
        let head_width = 6.0 * zoom.clamp(0.5, 1.5);
        let normal = Vec2::new(-dir.y, dir.x);
        let base_point = to - dir * head_length;
        let head = vec![
            to,
            base_point + normal * head_width,
            base_point - normal * head_width,
        ];
        if self.mode == CallMode::Sync && !self.compensation {
            if let [from, _] = path[..] {
                shapes.push(Shape::line_segment(
                    [from, base_point],
                    Stroke::new(width, color),
                ));
            } else {
                let mut line = path.clone();
                if let Some(last) = line.last_mut() {
                    *last = base_point;
                }
                shapes.push(Shape::line(line, Stroke::new(width, color)));
            }
            shapes.push(Shape::Path(PathShape::convex_polygon(
                head,
                color,
                Stroke::NONE,
            )));
        } else {
            let (dash, gap) = if self.compensation {
                // Dots, not dashes: a call made only when a saga rolls back reads as a return path.
                ((2.5 * zoom).max(2.0), (5.0 * zoom).max(4.0))
            } else {
                // Dashes never shrink below 6 px on screen, and zoomed far out a call has at most
                // `FAR_DASHES_PER_CALL` of them: a large design's async calls would otherwise be tens of
                // thousands of dashes (and vertices) a frame, for lines too thin to see the dashes of.
                let (dash, gap) = ((8.0 * zoom).max(6.0), (5.0 * zoom).max(4.0));
                if is_far(zoom) {
                    let length: f32 = path.windows(2).map(|w| (w[1] - w[0]).length()).sum();
                    let stretch = (length / (FAR_DASHES_PER_CALL * (dash + gap))).max(1.0);
                    (dash * stretch, gap * stretch)
                } else {
                    (dash, gap)
                }
            };
            shapes.extend(Shape::dashed_line(
                &path,
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
        let placed = self.placed_label.as_ref().filter(|_| !is_far(zoom));
        if let Some(CallLabel { place, text, badge }) = placed {
            let text_color = if self.selected {
                color
            } else if dark {
                Color32::from_gray(220)
            } else {
                Color32::from_gray(40)
            };
            let galley = ctx
                .ctx
                .fonts_mut(|f| f.layout_no_wrap(text.clone(), call_label_font(zoom), text_color));
            // Beside the line where `labels::place` found room for it, so the arrow stays visible.
            let rect = label_frame(&path, place, galley.size());
            let background = if dark {
                Color32::from_black_alpha(170)
            } else {
                Color32::from_white_alpha(220)
            };
            shapes.push(Shape::rect_filled(rect, 3.0, background));
            shapes.push(TextShape::new(rect.min + Vec2::splat(2.0), galley, text_color).into());
            if let Some((severity, count)) = *badge {
                shapes.extend(badge_shapes(ctx, badge_beside(rect, zoom), severity, count));
            }
        } else if let Some((severity, count)) = self.badge.filter(|_| !self.label_shared) {
            shapes.extend(badge_shapes(
                ctx,
                route::point_along(&path, 0.5).0,
                severity,
                count,
            ));
        }
        if let Some(live) = self.live {
            shapes.extend(call_overlay_shapes(ctx, &path, self.mode, &live, width));
        }
        shapes
    }
}

/// A rectangle of `size` beside the line from `from` to `to`, at `at` along it (0 at `from`): above the line (on
/// the side of its normal that points up) or below it, clear of the line by 3 px, and pushed sideways by half its
/// width as the line gets steep, so it never sits on the line. A call's label goes above, its breaker's state
/// below, so the two never cover each other.
pub(super) fn beside_line(from: Pos2, to: Pos2, at: f32, size: Vec2, above: bool) -> Rect {
    let dir = (to - from).normalized();
    let normal = Vec2::new(-dir.y, dir.x);
    let up = if normal.y <= 0.0 { normal } else { -normal };
    let side = if above { up } else { -up };
    let lift = side * (size.y / 2.0 + 3.0) + side.x.abs() * side * size.x / 2.0;
    Rect::from_center_size(from + (to - from) * at + lift, size)
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
        route::distance_to_path(pos, &self.path(start, end)) <= 6.0
    }
}

/// A round badge with a finding count, coloured by the worst severity.
pub(super) fn badge_shapes(
    ctx: &DrawContext,
    center: Pos2,
    severity: Severity,
    count: usize,
) -> Vec<Shape> {
    let color = severity_color(severity);
    if is_far(ctx.meta.zoom) {
        // Zoomed far out, a dot of the severity's colour: the count would not be readable, and the badge would
        // cover its service.
        return vec![Shape::circle_filled(center, 3.0, color)];
    }
    let radius = badge_radius(ctx.meta.zoom);
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

/// A finding badge's radius on screen at `zoom`.
pub(super) fn badge_radius(zoom: f32) -> f32 {
    (8.0 * zoom).clamp(6.0, 11.0)
}

/// The size of a service's name at `zoom`, in px: never under `NAME_MIN_SIZE`.
pub(super) fn name_font_size(zoom: f32) -> f32 {
    text_size(13.0 * zoom, NAME_MIN_SIZE, 28.0)
}

/// Whether names at `zoom` are kept larger than the zoom would make them, so they may spill out of their boxes
/// into the room between the layers.
pub(super) fn name_spills(zoom: f32) -> bool {
    13.0 * zoom < NAME_MIN_SIZE
}

/// The font of call labels at `zoom` (the painter's and the label placement's one definition).
pub(super) fn call_label_font(zoom: f32) -> FontId {
    FontId::proportional(text_size(10.5 * zoom, 6.0, 18.0))
}

/// The room a call's finding badge takes right of its label at `zoom` (see `badge_beside`).
pub(super) fn badge_room(zoom: f32) -> f32 {
    2.0 * badge_radius(zoom) + 2.0
}

/// Where a call's finding badge goes: right of its label, clear of it at every zoom (a fixed 8 px put the badge,
/// whose radius grows to 11 px, over the label's last letters when zoomed in).
pub(super) fn badge_beside(label: Rect, zoom: f32) -> Pos2 {
    label.right_center() + Vec2::new(badge_radius(zoom) + 2.0, 0.0)
}

/// Distance from `point` to the segment `a`-`b`, in the same units.
pub(super) fn distance_to_segment(point: Pos2, a: Pos2, b: Pos2) -> f32 {
    let ab = b - a;
    let length_sq = ab.length_sq();
    if length_sq == 0.0 {
        return (point - a).length();
    }
    let t = ((point - a).dot(ab) / length_sq).clamp(0.0, 1.0);
    (point - (a + ab * t)).length()
}

/// A corner radius of `radius` px, or square corners when zoomed far out (each rounded one is a fan of vertices).
pub(super) fn corner(zoom: f32, radius: f32) -> f32 {
    if is_far(zoom) { 0.0 } else { radius }
}

/// A font size for canvas text at the current zoom, snapped to half pixels: text that follows the zoom exactly
/// would ask for a new size every frame of a zoom gesture, and egui lays out and rasterizes every new size afresh.
/// Half a pixel is too small to see.
pub(super) fn text_size(size: f32, min: f32, max: f32) -> f32 {
    ((size * 2.0).round() / 2.0).clamp(min, max)
}

/// Makes shapes faint: services and calls off the focused flow.
pub(super) fn dim(shapes: &mut [Shape]) {
    for shape in shapes {
        egui::epaint::shape_transform::adjust_colors(shape, |color| {
            *color = color.gamma_multiply(0.18);
        });
    }
}

/// A colour part way from `a` to `b`.
pub(super) fn lerp_color(a: Color32, b: Color32, t: f32) -> Color32 {
    let t = t.clamp(0.0, 1.0);
    let mix = |x: u8, y: u8| (f32::from(x) + (f32::from(y) - f32::from(x)) * t).round() as u8;
    Color32::from_rgb(mix(a.r(), b.r()), mix(a.g(), b.g()), mix(a.b(), b.b()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kind_line_reads_on_every_fill_light_dark_and_while_simulating() {
        let heat = [0.0, 0.3, 0.6, 0.85, 1.0].map(utilization_color);
        for dark in [false, true] {
            let text = if dark {
                Color32::from_gray(235)
            } else {
                Color32::from_gray(20)
            };
            for kind in ServiceKind::ALL {
                let (fill, border) = kind_colors(kind, dark);
                // While simulating the fill is the utilization colour, toned as `paint` tones it.
                let live = heat.map(|h| {
                    if dark {
                        h.gamma_multiply(0.55)
                    } else {
                        h.gamma_multiply(0.85)
                    }
                });
                for fill in std::iter::once(fill).chain(live) {
                    let tag = tag_color(border, fill, text);
                    assert!(
                        contrast(tag, fill) >= 3.0,
                        "{kind:?} dark={dark}: {tag:?} on {fill:?} has contrast {}",
                        contrast(tag, fill)
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod beside_line_tests {
    use super::*;

    #[test]
    fn a_call_badge_never_covers_its_label() {
        let label = Rect::from_min_size(Pos2::new(100.0, 50.0), Vec2::new(60.0, 16.0));
        for zoom in [0.4, 0.8, 1.0, 1.5, 2.0, 4.0] {
            let center = badge_beside(label, zoom);
            let nearest = label.distance_to_pos(center);
            assert!(
                nearest >= badge_radius(zoom) + 1.0,
                "zoom {zoom}: the badge reaches {:.1} px into the label",
                badge_radius(zoom) - nearest
            );
        }
    }

    #[test]
    fn a_label_above_and_a_pill_below_never_cover_each_other() {
        let label = Vec2::new(150.0, 14.0);
        let pill = Vec2::new(60.0, 16.0);
        for (from, to) in [
            (Pos2::new(0.0, 0.0), Pos2::new(130.0, 0.0)),
            (Pos2::new(0.0, 0.0), Pos2::new(130.0, -60.0)),
            (Pos2::new(0.0, 0.0), Pos2::new(40.0, 200.0)),
            (Pos2::new(130.0, 0.0), Pos2::new(0.0, 10.0)),
        ] {
            let label_rect = beside_line(from, to, 0.5, label, true);
            let pill_rect = beside_line(from, to, 0.22, pill, false);
            assert!(!label_rect.intersects(pill_rect), "{from:?} -> {to:?}");
            // Centred on the line, as before, the pill covered the label of a short call.
            let old_pill = Rect::from_center_size(from + (to - from) * 0.22, pill);
            if (from - to).length() < 140.0 && (to.y - from.y).abs() < 20.0 {
                assert!(old_pill.intersects(label_rect.expand(2.0)));
            }
        }
    }
}
