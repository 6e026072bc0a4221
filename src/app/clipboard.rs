//! Copy, paste and duplicate: selected services (with the calls among them) travel as a small JSON fragment, so
//! they can also be pasted into another window.

use serde::{Deserialize, Serialize};

use crate::model::{Design, Edge, Service, ServiceId};
use crate::ui::canvas::Selection;

/// The `type` tag of a copied fragment.
const FRAGMENT_TYPE: &str = "syncopate-fragment";
/// How far pasted services are moved from the originals, in canvas units.
const PASTE_OFFSET: f32 = 40.0;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fragment {
    #[serde(rename = "type")]
    fragment_type: String,
    services: Vec<Service>,
    edges: Vec<Edge>,
}

/// The selected services and the calls among them (plus selected calls between them), as clipboard text; `None`
/// when no service is selected.
pub fn copy(design: &Design, selection: &Selection) -> Option<String> {
    let services: Vec<Service> = design
        .services
        .iter()
        .filter(|s| selection.services.contains(&s.id))
        .cloned()
        .collect();
    if services.is_empty() {
        return None;
    }
    let edges = design
        .edges
        .iter()
        .filter(|e| selection.services.contains(&e.from) && selection.services.contains(&e.to))
        .cloned()
        .collect();
    let fragment = Fragment {
        fragment_type: FRAGMENT_TYPE.to_owned(),
        services,
        edges,
    };
    serde_json::to_string_pretty(&fragment).ok()
}

/// The design with a copied fragment added: every service and call gets an id the design does not use yet (its
/// own, without a numeric suffix, when free; else with `-2`, `-3`...) and pasted services are moved
/// a little, so they do not hide the originals. Returns the new design and the ids of the pasted services, or
/// `None` when the text is not a fragment.
pub fn paste(design: &Design, text: &str) -> Option<(Design, Vec<ServiceId>)> {
    let fragment: Fragment = serde_json::from_str(text).ok()?;
    if fragment.fragment_type != FRAGMENT_TYPE {
        return None;
    }
    let mut result = design.clone();
    let mut renamed: Vec<(ServiceId, ServiceId)> = Vec::new();
    for mut service in fragment.services {
        let base = service
            .id
            .as_str()
            .trim_end_matches(|c: char| c.is_ascii_digit() || c == '-');
        let base = if base.is_empty() { "service" } else { base };
        let new_id = result.free_service_id_for(service.kind, base);
        renamed.push((service.id.clone(), new_id.clone()));
        service.id = new_id;
        service.position = service
            .position
            .map(|[x, y]| [x + PASTE_OFFSET, y + PASTE_OFFSET]);
        result.services.push(service);
    }
    let new_id_of = |old: &ServiceId| {
        renamed
            .iter()
            .find(|(o, _)| o == old)
            .map(|(_, n)| n.clone())
    };
    // The pasted calls' new ids by their old ones, for compensating calls to follow the call they undo.
    let mut edge_ids = Vec::new();
    let first_pasted = result.edges.len();
    for mut edge in fragment.edges {
        let (Some(from), Some(to)) = (new_id_of(&edge.from), new_id_of(&edge.to)) else {
            continue;
        };
        edge.from = from;
        edge.to = to;
        let old_id = std::mem::replace(
            &mut edge.id,
            result.free_edge_id(Edge::default_id(&edge.from, &edge.to).as_str()),
        );
        edge_ids.push((old_id, edge.id.clone()));
        // Flows are the design's own; a pasted call keeps only the flows that exist here.
        if let Some(flows) = &mut edge.flows {
            flows.retain(|f| design.flow(f.as_str()).is_some());
        }
        result.edges.push(edge);
    }
    // A pasted compensating call undoes the pasted copy of its call, or nothing when that was not copied (it is
    // then an ordinary call).
    for edge in &mut result.edges[first_pasted..] {
        if let Some(undone) = &edge.compensates {
            edge.compensates = edge_ids
                .iter()
                .find(|(old, _)| old == undone)
                .map(|(_, new)| new.clone());
        }
    }
    Some((result, renamed.into_iter().map(|(_, new)| new).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CallMode, validate};

    #[test]
    fn pasting_copies_gets_fresh_ids_and_keeps_the_calls_between_them() {
        let mut design = Design::new("t");
        design.services.push(Service::new("api"));
        design.services.push(Service::new("db"));
        design.services.push(Service::new("other"));
        design.edges.push(Edge::new("api", "db", CallMode::Sync));
        design.edges.push(Edge::new("api", "other", CallMode::Sync));
        let selection = Selection {
            services: vec!["api".into(), "db".into()],
            edges: vec![],
        };
        let text = copy(&design, &selection).unwrap();
        let (pasted, ids) = paste(&design, &text).unwrap();
        assert_eq!(ids, vec![ServiceId::new("api-2"), ServiceId::new("db-2")]);
        assert!(pasted.edge("api-2-db-2").is_some());
        assert_eq!(
            pasted.edges.len(),
            3,
            "the call to an unselected service stays behind"
        );
        assert!(validate(&pasted).is_empty());
        let (twice, _) = paste(&pasted, &text).unwrap();
        assert!(twice.service("api-3").is_some());
        assert!(paste(&design, "not a fragment").is_none());
    }

    #[test]
    fn a_pasted_database_with_the_longest_id_it_may_have_stays_within_it() {
        let mut design = Design::new("t");
        let long = "d".repeat(crate::model::ids::MAX_STATEFUL_SERVICE_ID_LEN);
        design.services.push(Service {
            kind: crate::model::ServiceKind::Database,
            ..Service::new(long.as_str())
        });
        let selection = Selection {
            services: vec![long.as_str().into()],
            edges: vec![],
        };
        let text = copy(&design, &selection).unwrap();
        let (pasted, ids) = paste(&design, &text).unwrap();
        assert!(ids[0].as_str().len() <= crate::model::ids::MAX_STATEFUL_SERVICE_ID_LEN);
        assert!(validate(&pasted).is_empty(), "{:?}", validate(&pasted));
    }

    #[test]
    fn a_pasted_saga_undoes_its_own_pasted_calls() {
        let mut design = Design::new("t");
        design.services.push(Service::new("orders"));
        design.services.push(Service::new("stock"));
        design
            .edges
            .push(Edge::new("orders", "stock", CallMode::Sync));
        let mut release = Edge::new("orders", "stock", CallMode::Sync);
        release.id = "release".into();
        release.compensates = Some("orders-stock".into());
        design.edges.push(release);
        assert!(validate(&design).is_empty());
        let selection = Selection {
            services: vec!["orders".into(), "stock".into()],
            edges: vec![],
        };
        let text = copy(&design, &selection).unwrap();
        let (pasted, _) = paste(&design, &text).unwrap();
        assert!(validate(&pasted).is_empty(), "{:?}", validate(&pasted));
        let copies: Vec<&Edge> = pasted
            .edges
            .iter()
            .filter(|e| e.from == "orders-2")
            .collect();
        assert_eq!(copies.len(), 2);
        let undo = copies.iter().find(|e| e.compensates.is_some()).unwrap();
        let undone = copies.iter().find(|e| e.compensates.is_none()).unwrap();
        assert_eq!(undo.compensates.as_ref(), Some(&undone.id));
    }
}
