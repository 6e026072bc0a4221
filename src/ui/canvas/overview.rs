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
        let map = minimap_rect(canvas);
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

    /// Sets zoom and pan so the whole design (or only these services) fits in a view of `size`, clear of the
    /// minimap.
    pub(super) fn fit_to(&self, ui: &mut egui::Ui, size: Vec2, only: Option<&[ServiceId]>) {
        let mut meta = MetadataFrame::new(Some(CANVAS_ID.to_owned())).load(ui);
        let boxes: Vec<Rect> = self
            .graph
            .nodes_iter()
            .filter(|(_, node)| only.is_none_or(|ids| ids.contains(node.payload())))
            .map(|(_, node)| {
                Rect::from_center_size(node.location(), Vec2::new(SERVICE_WIDTH, SERVICE_HEIGHT))
            })
            .collect();
        let minimap = (self.graph.node_count() >= MINIMAP_MIN_SERVICES
            && size.x >= 3.0 * MINIMAP_SIZE.x)
            .then(|| minimap_rect(Rect::from_min_size(Pos2::ZERO, size)));
        (meta.zoom, meta.pan) = fit_view(&boxes, size, minimap);
        meta.save(ui);
    }
}

/// Where the minimap goes in a canvas.
pub(super) fn minimap_rect(canvas: Rect) -> Rect {
    Rect::from_min_size(
        canvas.right_bottom() - MINIMAP_SIZE - Vec2::splat(10.0),
        MINIMAP_SIZE,
    )
}

/// Space kept between the design and the canvas' edges when it is fitted, in px: room for group boxes' titles
/// above their services.
const FIT_MARGIN: f32 = 40.0;

/// Zoom and pan (screen offset of the canvas origin) that show every box (canvas units) in a view of `size`, as
/// large as they can be, centred, and clear of `minimap` (screen, relative to the view): the whole view when no box
/// falls under the minimap, else the larger of the views left of it and above it.
pub fn fit_view(boxes: &[Rect], size: Vec2, minimap: Option<Rect>) -> (f32, Vec2) {
    let bounds = boxes.iter().fold(Rect::NOTHING, |b, r| b.union(*r));
    if !bounds.is_positive() {
        return (1.0, size / 2.0);
    }
    let fit_in = |area: Rect| {
        let zoom_x = (area.width() - 2.0 * FIT_MARGIN).max(50.0) / bounds.width();
        let zoom_y = (area.height() - 2.0 * FIT_MARGIN).max(50.0) / bounds.height();
        let zoom = zoom_x.min(zoom_y).clamp(0.1, 1.2);
        (
            zoom,
            area.center().to_vec2() - bounds.center().to_vec2() * zoom,
        )
    };
    let whole = Rect::from_min_size(Pos2::ZERO, size);
    let fitted = fit_in(whole);
    let Some(map) = minimap else {
        return fitted;
    };
    let (zoom, pan) = fitted;
    let covered = boxes.iter().any(|b| {
        Rect::from_min_max(
            pan.to_pos2() + b.min.to_vec2() * zoom,
            pan.to_pos2() + b.max.to_vec2() * zoom,
        )
        .intersects(map.expand(4.0))
    });
    if !covered {
        return fitted;
    }
    let left = fit_in(Rect::from_min_max(
        whole.min,
        Pos2::new(map.left() - 4.0, whole.bottom()),
    ));
    let above = fit_in(Rect::from_min_max(
        whole.min,
        Pos2::new(whole.right(), map.top() - 4.0),
    ));
    if left.0 >= above.0 { left } else { above }
}

/// Below this zoom the canvas draws an overview (a whole large design in view): no names, labels or counts,
/// square corners, and fewer dashes and dots. Text there would be under 5 px and spill over its box, and thousands of
/// rounded corners, dashes and dots were most of the frame's vertices.
pub(super) const FAR_ZOOM: f32 = 0.35;

/// From this zoom up a service shows its name, never under `NAME_MIN_SIZE`: the zoom at which a design of some 70
/// services fits a 1280x800 window is 0.12-0.3 (TrainTicket's tallest layer holds 20 services, 0.13). A row of
/// the tidy layout is then 12 px, a line of 10 px text; further out names would cover each other.
pub(super) const NAME_ZOOM: f32 = 0.12;

/// The smallest font size of a service's name or kind line, in px: the smallest that reads.
pub(super) const NAME_MIN_SIZE: f32 = 10.0;

/// The width a name may take when its box is too small for it at `NAME_MIN_SIZE`: its box and most of the gap to
/// the next column of boxes (half of it on each side, as the neighbours' names take the other halves), in screen
/// px. `column_gap` is the distance between neighbouring columns' centres in canvas units (the tidy layout's
/// `LAYER_SPACING`, or more for a design spread to the canvas' shape).
pub(super) fn name_room(zoom: f32, column_gap: f32) -> f32 {
    let gap = column_gap - SERVICE_WIDTH;
    (SERVICE_WIDTH + 0.9 * gap.max(0.0)) * zoom
}

/// The distance between neighbouring columns of boxes, in canvas units: the smallest step between the distinct
/// x positions of services, at least a box's width (boxes side by side) and at most three tidy layers.
pub(super) fn column_gap(xs: impl Iterator<Item = f32>) -> f32 {
    let mut xs: Vec<f32> = xs.map(|x| x.round()).collect();
    xs.sort_by(f32::total_cmp);
    xs.dedup();
    xs.windows(2)
        .map(|w| w[1] - w[0])
        .fold(f32::INFINITY, f32::min)
        .clamp(SERVICE_WIDTH, 3.0 * crate::model::layout::LAYER_SPACING)
}

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

#[cfg(test)]
mod fit_tests {
    use super::*;

    #[test]
    fn names_take_the_room_between_the_columns_the_design_has() {
        let tidy = [60.0, 360.0, 660.0, 360.0];
        assert_eq!(column_gap(tidy.into_iter()), 300.0);
        let spread = [60.0, 810.0, 1560.0];
        assert_eq!(column_gap(spread.into_iter()), 750.0);
        // Boxes placed by hand a few units apart leave their names no more than their box.
        assert_eq!(column_gap([0.0, 10.0, 400.0].into_iter()), SERVICE_WIDTH);
        assert!(name_room(0.13, 750.0) > 2.0 * name_room(0.13, 300.0));
        assert_eq!(name_room(1.0, SERVICE_WIDTH), SERVICE_WIDTH);
    }

    #[test]
    fn a_wide_design_fills_the_width_and_a_tall_one_the_height() {
        let size = Vec2::new(960.0, 440.0);
        let wide = [Rect::from_min_size(Pos2::ZERO, Vec2::new(2000.0, 200.0))];
        let (zoom, pan) = fit_view(&wide, size, None);
        let shown = wide[0].width() * zoom;
        assert!((shown - (960.0 - 2.0 * FIT_MARGIN)).abs() < 0.5, "{shown}");
        assert!(
            (pan.x + wide[0].center().x * zoom - 480.0).abs() < 0.5,
            "centred"
        );
        let tall = [Rect::from_min_size(Pos2::ZERO, Vec2::new(300.0, 2000.0))];
        let (zoom, _) = fit_view(&tall, size, None);
        assert!((tall[0].height() * zoom - (440.0 - 2.0 * FIT_MARGIN)).abs() < 0.5);
    }

    #[test]
    fn no_box_is_left_under_the_minimap() {
        let size = Vec2::new(960.0, 440.0);
        let map = minimap_rect(Rect::from_min_size(Pos2::ZERO, size));
        // A grid of boxes filling the canvas: fitted to the whole view, the lower right ones fall under the map.
        let boxes: Vec<Rect> = (0..6)
            .flat_map(|x| (0..5).map(move |y| (x, y)))
            .map(|(x, y)| {
                Rect::from_center_size(
                    Pos2::new(x as f32 * 300.0, y as f32 * 100.0),
                    Vec2::new(SERVICE_WIDTH, SERVICE_HEIGHT),
                )
            })
            .collect();
        let (zoom, pan) = fit_view(&boxes, size, Some(map));
        for b in &boxes {
            let on_screen = Rect::from_min_max(
                pan.to_pos2() + b.min.to_vec2() * zoom,
                pan.to_pos2() + b.max.to_vec2() * zoom,
            );
            assert!(
                !on_screen.intersects(map),
                "{on_screen:?} under the minimap {map:?}"
            );
            assert!(Rect::from_min_size(Pos2::ZERO, size).contains_rect(on_screen));
        }
        // Without the map in the way the whole view is used.
        let (whole_zoom, whole_pan) = fit_view(&boxes, size, None);
        assert!(whole_zoom > zoom);
        let last = boxes[boxes.len() - 1];
        let under = Rect::from_min_max(
            whole_pan.to_pos2() + last.min.to_vec2() * whole_zoom,
            whole_pan.to_pos2() + last.max.to_vec2() * whole_zoom,
        );
        assert!(
            under.intersects(map),
            "the case needs a box under the map: {under:?}"
        );
    }
}
