//! Gestures on the canvas: clicks, drags, connecting calls, the wheel, and idle frames painted without them.

use super::*;

impl Canvas {
    /// The call drawn at a screen position.
    pub(super) fn edge_at(&self, screen: Pos2) -> Option<EdgeId> {
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

    /// The service drawn at a screen position.
    pub(super) fn service_at(&self, screen: Pos2) -> Option<ServiceId> {
        let at = self.canvas_position(screen)?;
        self.graph
            .nodes_iter()
            .find(|(_, node)| {
                DisplayNode::<ServiceId, EdgeId, Directed, DefaultIx>::is_inside(node.display(), at)
            })
            .map(|(_, node)| node.payload().clone())
    }

    pub(super) fn show_interactive(
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
                        let moves = match self.group_nodes.get(node) {
                            // A collapsed group moves its members by as much as its box moved.
                            Some(group) => {
                                let delta = at - origin;
                                group
                                    .members
                                    .iter()
                                    .filter_map(|(member, _)| {
                                        let [x, y] = design.service(member.as_str())?.position?;
                                        Some((
                                            member.clone(),
                                            [(x + delta.x).round(), (y + delta.y).round()],
                                        ))
                                    })
                                    .collect()
                            }
                            None => vec![(id, [at.x.round(), at.y.round()])],
                        };
                        commands.push(Command::MoveServices(moves));
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
            // A collapsed group selects its members.
            selection.services = self
                .graph
                .nodes_iter()
                .filter(|(_, n)| n.selected())
                .flat_map(|(index, n)| match self.group_nodes.get(&index) {
                    Some(group) => group.members.iter().map(|(id, _)| id.clone()).collect(),
                    None => vec![n.payload().clone()],
                })
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
    pub(super) fn handle_editing_gestures(
        &mut self,
        ui: &egui::Ui,
        response: &egui::Response,
        design: &Design,
        commands: &mut Vec<Command>,
    ) {
        let pointer = ui.input(|i| i.pointer.interact_pos());
        if response.double_clicked()
            && let Some(at) = pointer
        {
            match self.service_at(at) {
                // A double-click on a collapsed group opens it again.
                Some(node) => {
                    if let Some(group) = collapsed_group_of(&node).map(str::to_owned) {
                        self.toggle_group(&group);
                    }
                }
                None => {
                    if let Some(position) = self.canvas_position(at) {
                        commands.push(Command::AddService(new_service(
                            design,
                            self.new_service_kind,
                            position,
                        )));
                    }
                }
            }
        }
        if !self.connecting {
            self.connect_from = None;
            return;
        }
        if ui.input(|i| i.pointer.primary_pressed())
            && let Some(at) = pointer
            && response.rect.contains(at)
        {
            // Calls join services, not collapsed groups.
            self.connect_from = self
                .service_at(at)
                .filter(|id| collapsed_group_of(id).is_none());
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
                    && collapsed_group_of(&to).is_none()
                {
                    commands.push(Command::AddEdge(new_edge(design, from, &to)));
                }
                self.connect_from = None;
            }
        }
    }

    /// Paints the graph exactly as `GraphView` would, without its interaction handling or repaint request.
    /// Brings every box's shape up to date with its node's props (where it is, its label, selection), as
    /// egui_graphs' drawer does before it draws.
    pub(super) fn update_node_shapes(&mut self) {
        for node in self.graph.g_mut().node_weights_mut() {
            let props = node.props().clone();
            DisplayNode::<ServiceId, EdgeId, Directed, DefaultIx>::update(
                node.display_mut(),
                &props,
            );
        }
    }

    pub(super) fn paint_static(&mut self, ui: &mut egui::Ui) -> egui::Response {
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
        self.update_node_shapes();
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
    pub(super) fn wheel_zoom(&mut self, ui: &mut egui::Ui, response: &egui::Response) {
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
}
