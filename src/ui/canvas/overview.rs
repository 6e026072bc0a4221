//! The whole design at once: the far-zoom overview, the minimap, the design's bounds and fit to view.

use super::*;

impl Canvas {
    /// On a large design, a map of the whole in the canvas' lower right corner with the part in view outlined;
    /// a click or drag on it brings that point to the centre.
    pub(super) fn minimap(&mut self, ui: &mut egui::Ui, canvas: Rect) {
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

    /// The canvas area the services' boxes take up (`Rect::NOTHING` without services).
    pub(super) fn bounds(&self) -> Rect {
        self.graph
            .nodes_iter()
            .map(|(_, node)| {
                Rect::from_center_size(node.location(), Vec2::new(SERVICE_WIDTH, SERVICE_HEIGHT))
            })
            .fold(Rect::NOTHING, |bounds, rect| bounds.union(rect))
    }

    /// Sets zoom and pan so the whole design fits in a view of `size`.
    pub(super) fn fit_to(&self, ui: &mut egui::Ui, size: Vec2) {
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

/// Below this zoom the canvas draws an overview (a whole large design in view): no names, labels or counts,
/// square corners, and fewer dashes and dots. Text there would be under 5 px and spill over its box, and thousands of
/// rounded corners, dashes and dots were most of the frame's vertices.
pub(super) const FAR_ZOOM: f32 = 0.35;

/// From this zoom up to `FAR_ZOOM` a service shows its name alone, at `FAR_NAME_SIZE` and cut to its box: the
/// zoom at which a design of some 70 services fits a 1280x800 window is about 0.3. Further out the boxes are too
/// small for any of it.
pub(super) const NAME_ZOOM: f32 = 0.2;

/// The font size of names between `NAME_ZOOM` and `FAR_ZOOM`, in px: the smallest that reads.
pub(super) const FAR_NAME_SIZE: f32 = 8.0;

/// Designs of at least this many services get a minimap.
pub(super) const MINIMAP_MIN_SERVICES: usize = 25;

/// The minimap's size on screen.
pub(super) const MINIMAP_SIZE: Vec2 = Vec2::new(200.0, 130.0);

/// The most dashes an async call is drawn with when zoomed far out.
pub(super) const FAR_DASHES_PER_CALL: f32 = 8.0;

/// Whether the canvas is zoomed out to the overview (`FAR_ZOOM`).
pub(super) fn is_far(zoom: f32) -> bool {
    zoom < FAR_ZOOM
}
