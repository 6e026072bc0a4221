//! The sequence-diagram panel: the flow's diagram drawn with egui's painter, with a flow picker and zoom. Clicking a
//! message selects its call; the selected call's messages are highlighted.

use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Shape, Stroke, Vec2};

use crate::model::{self, Design};
use crate::sequence::{self, Item, MessageKind, SequenceDiagram};
use crate::ui::canvas::Selection;
use crate::ui::warnings::{HopLatency, hop_text};
use std::collections::HashMap;

/// Width of one lifeline's column, at zoom 1.
const COLUMN: f32 = 160.0;
/// Height of one row, at zoom 1.
const ROW: f32 = 30.0;
const HEAD: f32 = 32.0;
/// The smallest text the panel draws, in px.
const MIN_TEXT: f32 = 10.0;

/// A message row's height at `zoom`: never less than two lines of the smallest text.
fn row_height(zoom: f32) -> f32 {
    (ROW * zoom).max(2.0 * MIN_TEXT + 6.0)
}

/// The panel's state: which flow is shown, and the zoom.
#[derive(Debug, Clone)]
pub struct SequencePanel {
    /// The flow shown; the design's first flow when unset or gone.
    pub flow: Option<String>,
    zoom: f32,
    /// The flow the zoom was last fitted to: a flow is shown at a zoom that fits its width when it comes up.
    fitted_flow: Option<String>,
    cached: Option<(u64, String, SequenceDiagram)>,
    /// Where each call's request arrow was drawn last frame (screen coordinates), so tests and tooling can aim.
    pub message_points: Vec<(String, Pos2)>,
    /// Where each participant's name was drawn last frame (screen coordinates), and the part of the panel in view.
    pub header_text_rects: Vec<Rect>,
    /// The part of the panel the diagram was visible in last frame (screen coordinates).
    pub visible_rect: Option<Rect>,
}

impl Default for SequencePanel {
    fn default() -> Self {
        Self {
            flow: None,
            zoom: 1.0,
            fitted_flow: None,
            cached: None,
            message_points: Vec::new(),
            header_text_rects: Vec::new(),
            visible_rect: None,
        }
    }
}

/// What the user asked for in the panel.
#[derive(Debug, Clone, PartialEq)]
pub enum SequenceAction {
    /// Select this call (edge id) on the canvas.
    Select(String),
    /// Save this SVG document to a file the user picks; the second field is a suggested file name.
    SaveSvg(String, String),
}

impl SequencePanel {
    /// The diagram's zoom (1: columns of 160 px).
    pub fn zoom(&self) -> f32 {
        self.zoom
    }

    /// Shows the panel; returns what the user asked for, if anything.
    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        design: &Design,
        state_id: u64,
        selection: &Selection,
        hops: Option<&HashMap<String, HopLatency>>,
    ) -> Option<SequenceAction> {
        if design.flows.is_empty() {
            ui.label("This design has no flows yet: add a flow to see how its requests move through the services.");
            return None;
        }
        let flow = match &self.flow {
            Some(id) if design.flow(id).is_some() => id.clone(),
            _ => design.flows[0].id.to_string(),
        };
        let mut clicked = None;
        ui.horizontal(|ui| {
            ui.label("Flow:");
            egui::ComboBox::from_id_salt("sequence-flow")
                .selected_text(
                    design
                        .flow(&flow)
                        .map_or(flow.as_str(), |f| f.display_name()),
                )
                .show_ui(ui, |ui| {
                    for f in &design.flows {
                        if ui
                            .selectable_label(f.id.as_str() == flow, f.display_name())
                            .clicked()
                        {
                            self.flow = Some(f.id.to_string());
                        }
                    }
                });
            ui.add(
                egui::Slider::new(&mut self.zoom, 0.5..=2.0)
                    .text("zoom")
                    .fixed_decimals(2),
            )
            .on_hover_text("Size of the diagram");
        });
        let flow = self
            .flow
            .clone()
            .filter(|f| design.flow(f).is_some())
            .unwrap_or(flow);
        let stale = self
            .cached
            .as_ref()
            .is_none_or(|(s, f, _)| *s != state_id || *f != flow);
        if stale {
            self.cached = sequence::diagram(design, &flow).map(|d| (state_id, flow.clone(), d));
        }
        let Some((_, _, diagram)) = &self.cached else {
            return None;
        };
        if self.fitted_flow.as_deref() != Some(flow.as_str()) {
            // Every participant in view: the zoom at which the lifelines fill the panel's width, at most 1.
            let wide = diagram.participants.len() as f32 * COLUMN + 40.0;
            self.zoom = ((ui.available_width() - 16.0) / wide).clamp(0.5, 1.0);
            self.fitted_flow = Some(flow.clone());
        }
        let mut save = None;
        ui.horizontal(|ui| {
            if ui
                .button("Copy as Mermaid")
                .on_hover_text("Copy the diagram as Mermaid text (for Markdown, GitHub, GitLab)")
                .clicked()
            {
                ui.ctx().copy_text(sequence::to_mermaid(diagram));
            }
            if ui
                .button("Copy as PlantUML")
                .on_hover_text("Copy the diagram as PlantUML text")
                .clicked()
            {
                ui.ctx().copy_text(sequence::to_plantuml(diagram));
            }
            if ui
                .button("Save SVG…")
                .on_hover_text("Save the diagram as an SVG image")
                .clicked()
            {
                save = Some(SequenceAction::SaveSvg(
                    sequence::to_svg(diagram),
                    format!("{}.svg", model::ids::portable_file_stem(&diagram.flow)),
                ));
            }
        });
        let mut points = Vec::new();
        let mut headers = Vec::new();
        let mut visible = None;
        egui::ScrollArea::both()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                visible = Some(ui.clip_rect());
                clicked = paint(
                    ui,
                    diagram,
                    self.zoom,
                    selection,
                    hops,
                    &mut points,
                    &mut headers,
                );
            });
        self.message_points = points;
        self.header_text_rects = headers;
        self.visible_rect = visible;
        save.or(clicked.map(SequenceAction::Select))
    }
}

struct Painter<'a> {
    painter: egui::Painter,
    origin: Pos2,
    zoom: f32,
    y: f32,
    pointer: Option<Pos2>,
    clicked: bool,
    hit: Option<String>,
    selection: &'a Selection,
    hops: Option<&'a HashMap<String, HopLatency>>,
    text: Color32,
    /// The panel's colour, behind labels and the header row.
    background: Color32,
    points: &'a mut Vec<(String, Pos2)>,
}

impl Painter<'_> {
    /// Text of `size` px at zoom 1, never under [`MIN_TEXT`]: zoomed out to fit a wide flow, the columns narrow but
    /// the text stays readable.
    fn font(&self, size: f32) -> FontId {
        FontId::proportional((size * self.zoom).max(MIN_TEXT))
    }

    /// The height of a message's row: room for its label above the line and a hop's latency below.
    fn row(&self) -> f32 {
        row_height(self.zoom)
    }

    fn x(&self, participant: usize) -> f32 {
        self.origin.x + (COLUMN / 2.0 + participant as f32 * COLUMN) * self.zoom
    }

    fn items(&mut self, items: &[Item]) {
        for item in items {
            match item {
                Item::Message {
                    from,
                    to,
                    kind,
                    label,
                    edge,
                } => {
                    let (x1, x2, y) = (self.x(*from), self.x(*to), self.y);
                    let selected = edge
                        .as_ref()
                        .is_some_and(|e| self.selection.edges.iter().any(|s| s.as_str() == e));
                    let color = if selected {
                        Color32::from_rgb(255, 171, 0)
                    } else {
                        self.text
                    };
                    let stroke = Stroke::new(if selected { 2.5 } else { 1.2 }, color);
                    if *kind == MessageKind::Reply {
                        self.painter.extend(Shape::dashed_line(
                            &[Pos2::new(x1, y), Pos2::new(x2, y)],
                            stroke,
                            6.0,
                            4.0,
                        ));
                    } else {
                        self.painter
                            .line_segment([Pos2::new(x1, y), Pos2::new(x2, y)], stroke);
                    }
                    let back = if x2 >= x1 { -9.0 } else { 9.0 } * self.zoom;
                    let head = [
                        Pos2::new(x2 + back, y - 5.0),
                        Pos2::new(x2, y),
                        Pos2::new(x2 + back, y + 5.0),
                    ];
                    if *kind == MessageKind::Request {
                        self.painter
                            .add(Shape::convex_polygon(head.to_vec(), color, Stroke::NONE));
                    } else {
                        self.painter.add(Shape::line(head.to_vec(), stroke));
                    }
                    // On the panel's colour, so the lifelines it crosses do not run through the text.
                    let galley = self
                        .painter
                        .layout_no_wrap(label.clone(), self.font(11.0), color);
                    let label_rect = Align2::CENTER_BOTTOM
                        .anchor_size(Pos2::new((x1 + x2) / 2.0, y - 3.0), galley.size());
                    self.painter
                        .rect_filled(label_rect.expand(1.0), 2.0, self.background);
                    self.painter.galley(label_rect.min, galley, color);
                    // After a run, each answer shows the hop's simulated latency beside the estimate.
                    if *kind == MessageKind::Reply
                        && let Some(hop) =
                            edge.as_ref().and_then(|e| self.hops.and_then(|h| h.get(e)))
                    {
                        self.painter.text(
                            Pos2::new((x1 + x2) / 2.0, y + 3.0),
                            Align2::CENTER_TOP,
                            hop_text(hop),
                            self.font(10.0),
                            Color32::from_rgb(30, 136, 229),
                        );
                    }
                    let hit_rect = Rect::from_min_max(
                        Pos2::new(x1.min(x2), y - 12.0),
                        Pos2::new(x1.max(x2), y + 6.0),
                    );
                    if let (MessageKind::Request | MessageKind::Async, Some(edge)) = (kind, edge) {
                        self.points
                            .push((edge.clone(), Pos2::new((x1 + x2) / 2.0, y - 2.0)));
                    }
                    if self.clicked && self.pointer.is_some_and(|p| hit_rect.contains(p)) {
                        self.hit.clone_from(edge);
                    }
                    self.y += self.row();
                }
                Item::Note { over, text } => {
                    // Wrapped to about a column and a half, so a long note ("timeout 3000 ms · 2 retries …")
                    // is read whole rather than cut, and the rows after it make room for its lines.
                    let galley = self.painter.layout(
                        text.clone(),
                        self.font(10.0),
                        Color32::from_gray(30),
                        (COLUMN * 1.5 * self.zoom).max(140.0),
                    );
                    let rect = Rect::from_min_size(
                        Pos2::new(self.x(*over) + 6.0, self.y - 14.0 * self.zoom),
                        galley.size() + Vec2::splat(6.0),
                    );
                    self.painter
                        .rect_filled(rect, 2.0, Color32::from_rgb(255, 248, 196));
                    self.painter.galley(
                        rect.min + Vec2::splat(3.0),
                        galley,
                        Color32::from_gray(30),
                    );
                    self.y += ((ROW - 6.0) * self.zoom).max(rect.height() + 14.0 * self.zoom + 6.0);
                }
                Item::Par(branches) => {
                    let top = self.y - 18.0 * self.zoom;
                    self.y += 8.0 * self.zoom;
                    for (i, branch) in branches.iter().enumerate() {
                        if i > 0 {
                            self.y += 4.0 * self.zoom;
                        }
                        self.items(branch);
                    }
                    self.frame("par", top);
                }
                Item::Opt { label, items } => self.framed(&format!("opt [{label}]"), items, 8.0),
                // Room under the title, so it never sits on the first message's label.
                Item::Frame { kind, label, items } => {
                    self.framed(&format!("{} [{label}]", kind.keyword()), items, 22.0)
                }
                Item::Divider(label) => {
                    let width = self.painter.clip_rect().width().max(COLUMN);
                    let left = self.origin.x;
                    let y = self.y;
                    self.painter.extend(Shape::dashed_line(
                        &[Pos2::new(left, y), Pos2::new(left + width, y)],
                        Stroke::new(2.0, Color32::from_rgb(74, 111, 165)),
                        8.0,
                        4.0,
                    ));
                    self.painter.text(
                        Pos2::new(left + 8.0, y - 4.0),
                        Align2::LEFT_BOTTOM,
                        label,
                        self.font(11.0),
                        Color32::from_rgb(100, 140, 200),
                    );
                    self.y += self.row();
                }
            }
        }
    }

    /// Items inside a titled frame, `title_room` (at zoom 1) below the frame's top.
    fn framed(&mut self, title: &str, items: &[Item], title_room: f32) {
        let top = self.y - 18.0 * self.zoom;
        self.y += title_room * self.zoom;
        self.items(items);
        self.frame(title, top);
    }

    fn frame(&mut self, label: &str, top: f32) {
        let bottom = self.y - 14.0 * self.zoom;
        let rect = Rect::from_min_max(
            Pos2::new(self.origin.x + 4.0, top),
            Pos2::new(self.painter.clip_rect().right() - 4.0, bottom),
        );
        self.painter.rect_stroke(
            rect,
            2.0,
            Stroke::new(1.0, Color32::GRAY),
            egui::StrokeKind::Inside,
        );
        self.painter.text(
            rect.left_top() + Vec2::new(4.0, 2.0),
            Align2::LEFT_TOP,
            label,
            self.font(10.0),
            Color32::GRAY,
        );
        self.y += 6.0 * self.zoom;
    }
}

/// Counts the rows a list of items takes, to size the drawing.
fn rows(items: &[Item]) -> usize {
    items
        .iter()
        .map(|i| match i {
            Item::Par(branches) => 2 + branches.iter().map(|b| rows(b)).sum::<usize>(),
            Item::Opt { items, .. } | Item::Frame { items, .. } => 2 + rows(items),
            _ => 1,
        })
        .sum()
}

/// Paints the diagram; returns the edge of a clicked message.
fn paint(
    ui: &mut egui::Ui,
    diagram: &SequenceDiagram,
    zoom: f32,
    selection: &Selection,
    hops: Option<&HashMap<String, HopLatency>>,
    points: &mut Vec<(String, Pos2)>,
    headers: &mut Vec<Rect>,
) -> Option<String> {
    let width = (diagram.participants.len() as f32 * COLUMN + 40.0) * zoom;
    let height =
        (rows(&diagram.items) as f32 + 2.0) * row_height(zoom) + (2.0 * HEAD + 20.0) * zoom;
    let (response, painter) = ui.allocate_painter(Vec2::new(width, height), Sense::click());
    let text = ui.visuals().text_color();
    let background = ui.visuals().panel_fill;
    let origin = response.rect.min;
    // Lifelines go behind everything: their place in the paint order is kept now and filled once the messages
    // (which decide where the diagram ends) are drawn.
    let lifelines = painter.add(Shape::Noop);
    let mut p = Painter {
        painter,
        origin,
        zoom,
        y: origin.y + (HEAD + 30.0) * zoom,
        pointer: response.interact_pointer_pos(),
        clicked: response.clicked(),
        hit: None,
        selection,
        hops,
        text,
        background,
        points,
    };
    p.items(&diagram.items);
    let bottom = p.y + 10.0 * zoom;
    // Wrapped notes may take more rows than counted: the scrolled area grows to the diagram's real end.
    if bottom > response.rect.bottom() {
        ui.allocate_space(Vec2::new(width, bottom - response.rect.bottom()));
    }
    let lines: Vec<Shape> = (0..diagram.participants.len())
        .flat_map(|i| {
            let x = p.x(i);
            Shape::dashed_line(
                &[Pos2::new(x, origin.y + HEAD * zoom), Pos2::new(x, bottom)],
                Stroke::new(1.0, Color32::GRAY),
                4.0,
                4.0,
            )
        })
        .collect();
    p.painter.set(lifelines, Shape::Vec(lines));
    // The header row stays at the top of the view when the messages scroll under it.
    let clip = ui.clip_rect();
    let top = origin.y.max(clip.top());
    p.painter.rect_filled(
        Rect::from_min_max(
            Pos2::new(clip.left(), top),
            Pos2::new(clip.right().max(origin.x + width), top + HEAD * zoom + 2.0),
        ),
        0.0,
        background,
    );
    for (i, participant) in diagram.participants.iter().enumerate() {
        let x = p.x(i);
        let head = Rect::from_center_size(
            Pos2::new(x, top + HEAD * zoom / 2.0 + 2.0),
            Vec2::new((COLUMN - 16.0) * zoom, HEAD * zoom - 4.0),
        );
        p.painter
            .rect_filled(head, 5.0, ui.visuals().widgets.inactive.bg_fill);
        p.painter.rect_stroke(
            head,
            5.0,
            Stroke::new(1.0, Color32::from_rgb(74, 111, 165)),
            egui::StrokeKind::Inside,
        );
        // A long name is cut to its box with an ellipsis; the whole name shows on hover.
        let galley = p.painter.layout_job({
            let mut job = egui::text::LayoutJob::simple_singleline(
                participant.name.clone(),
                FontId::proportional((12.0 * zoom).max(MIN_TEXT)),
                text,
            );
            job.wrap.max_width = head.width() - 10.0 * zoom;
            job.wrap.max_rows = 1;
            job
        });
        let at = Align2::CENTER_CENTER.anchor_size(head.center(), galley.size());
        headers.push(at);
        p.painter.galley(at.min, galley, text);
        ui.interact(head, ui.id().with(("sequence-head", i)), Sense::hover())
            .on_hover_text(&participant.name);
    }
    p.hit
}
