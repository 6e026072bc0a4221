//! Where new services and calls go, and the ids they get.

use super::*;

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
