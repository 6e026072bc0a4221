//! Edits of a design: the commands the UI emits and their application, validated. They sit below both the UI
//! (which emits them) and the app (which applies each after the frame as one undoable step), so the arrow between
//! those two goes one way. Plain Rust over the model.

use crate::model::{Design, Edge, EdgeId, Service, ServiceId, validate};

/// One user action that changes the design.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Move services to new canvas positions (one drag, one step).
    MoveServices(Vec<(ServiceId, [f32; 2])>),
    /// Add a service.
    AddService(Service),
    /// Add a call.
    AddEdge(Edge),
    /// Replace a service's fields (the inspector); the id may change, and calls follow it.
    UpdateService {
        /// The service's id before the edit.
        id: ServiceId,
        /// The new fields.
        service: Service,
    },
    /// Replace a call's fields.
    UpdateEdge {
        /// The call's id before the edit.
        id: EdgeId,
        /// The new fields.
        edge: Edge,
    },
    /// Delete services (with their calls) and calls.
    Delete {
        /// Services to delete.
        services: Vec<ServiceId>,
        /// Calls to delete.
        edges: Vec<EdgeId>,
    },
    /// Replace the whole design (tidy layout, one-click fixes computed elsewhere).
    ReplaceDesign {
        /// What the step is called in the Edit menu.
        label: String,
        /// The new design.
        design: Box<Design>,
    },
}

impl Command {
    /// What the step is called in the Edit menu ("Undo Move").
    pub fn label(&self) -> String {
        match self {
            Command::MoveServices(moves) if moves.len() == 1 => "Move service".to_owned(),
            Command::MoveServices(_) => "Move services".to_owned(),
            Command::AddService(_) => "Add service".to_owned(),
            Command::AddEdge(_) => "Add call".to_owned(),
            Command::UpdateService { .. } => "Edit service".to_owned(),
            Command::UpdateEdge { .. } => "Edit call".to_owned(),
            Command::Delete { .. } => "Delete".to_owned(),
            Command::ReplaceDesign { label, .. } => label.clone(),
        }
    }

    /// Applies the edit to `design`. On error the design may be partly changed; [`apply_checked`] restores it.
    fn apply_unchecked(self, design: &mut Design) -> Result<(), String> {
        match self {
            Command::MoveServices(moves) => {
                for (id, position) in moves {
                    let service = design
                        .service_mut(id.as_str())
                        .ok_or_else(|| format!("there is no service \"{id}\""))?;
                    service.position = Some(position);
                }
            }
            Command::AddService(service) => design.services.push(service),
            Command::AddEdge(edge) => design.edges.push(edge),
            Command::UpdateService { id, service } => {
                let slot = design
                    .service_mut(id.as_str())
                    .ok_or_else(|| format!("there is no service \"{id}\""))?;
                let new_id = service.id.clone();
                *slot = service;
                if new_id != id {
                    // The service itself is already renamed: this points the references at it.
                    design.rename_service(&id, &new_id);
                }
            }
            Command::UpdateEdge { id, edge } => {
                let slot = design
                    .edge_mut(id.as_str())
                    .ok_or_else(|| format!("there is no call \"{id}\""))?;
                let new_id = edge.id.clone();
                *slot = edge;
                if new_id != id {
                    // Its compensating call follows it.
                    design.rename_edge_references(&id, &new_id);
                }
            }
            Command::Delete { services, edges } => {
                design.edges.retain(|e| {
                    !edges.contains(&e.id)
                        && !services.contains(&e.from)
                        && !services.contains(&e.to)
                });
                // A compensating call has nothing left to undo once its call is gone: it goes with it.
                let remaining: Vec<EdgeId> = design.edges.iter().map(|e| e.id.clone()).collect();
                design
                    .edges
                    .retain(|e| e.compensates.as_ref().is_none_or(|c| remaining.contains(c)));
                design.services.retain(|s| !services.contains(&s.id));
                design.flows.retain(|f| !services.contains(&f.entry));
                design.faults.retain(|f| !services.contains(&f.service));
                let flow_ids: Vec<_> = design.flows.iter().map(|f| f.id.clone()).collect();
                for edge in &mut design.edges {
                    if let Some(flows) = &mut edge.flows {
                        flows.retain(|f| flow_ids.contains(f));
                    }
                }
            }
            Command::ReplaceDesign { design: new, .. } => *design = *new,
        }
        Ok(())
    }
}

/// Applies `command` to a copy of `design` and returns the result only if it is still a valid design; otherwise
/// the first problem, so the edit can be refused with a message and nothing invalid reaches the document.
pub fn apply_checked(design: &Design, command: Command) -> Result<Design, String> {
    let mut edited = design.clone();
    command.apply_unchecked(&mut edited)?;
    match validate(&edited).into_iter().next() {
        Some(problem) => Err(problem.to_string()),
        None => Ok(edited),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CallMode;

    fn two_services() -> Design {
        let mut design = Design::new("t");
        design.services.push(Service::new("a"));
        design.services.push(Service::new("b"));
        design.edges.push(Edge::new("a", "b", CallMode::Sync));
        design
    }

    #[test]
    fn renaming_a_service_moves_its_calls() {
        let design = two_services();
        let mut renamed = Service::new("alpha");
        renamed.name = Some("Alpha".into());
        let edited = apply_checked(
            &design,
            Command::UpdateService {
                id: "a".into(),
                service: renamed,
            },
        )
        .unwrap();
        assert_eq!(edited.edges[0].from.as_str(), "alpha");
        assert_eq!(edited.edges[0].id.as_str(), "alpha-b");
    }

    #[test]
    fn invalid_edits_are_refused() {
        let design = two_services();
        let err = apply_checked(&design, Command::AddService(Service::new("a"))).unwrap_err();
        assert!(err.contains("duplicate service id"), "{err}");
        let mut bad = Service::new("b");
        bad.replicas = 0;
        let err = apply_checked(
            &design,
            Command::UpdateService {
                id: "b".into(),
                service: bad,
            },
        )
        .unwrap_err();
        assert!(err.contains("replicas"), "{err}");
    }

    #[test]
    fn deleting_a_service_deletes_its_calls() {
        let design = two_services();
        let edited = apply_checked(
            &design,
            Command::Delete {
                services: vec!["b".into()],
                edges: vec![],
            },
        )
        .unwrap();
        assert_eq!(edited.services.len(), 1);
        assert!(edited.edges.is_empty());
    }

    #[test]
    fn a_compensating_call_follows_its_call_renamed_or_deleted() {
        let mut design = two_services();
        let mut undo = Edge::new("a", "b", CallMode::Sync);
        undo.id = EdgeId::new("undo");
        undo.compensates = Some(EdgeId::new("a-b"));
        design.edges.push(undo);
        assert!(validate(&design).is_empty());
        // Renaming the caller renames the call's default id: the compensation points at the new one.
        let edited = apply_checked(
            &design,
            Command::UpdateService {
                id: "a".into(),
                service: Service::new("alpha"),
            },
        )
        .unwrap();
        assert_eq!(
            edited.edge("undo").unwrap().compensates,
            Some(EdgeId::new("alpha-b"))
        );
        // Renaming the call itself too.
        let mut call = design.edges[0].clone();
        call.id = EdgeId::new("reserve");
        let edited = apply_checked(
            &design,
            Command::UpdateEdge {
                id: "a-b".into(),
                edge: call,
            },
        )
        .unwrap();
        assert_eq!(
            edited.edge("undo").unwrap().compensates,
            Some(EdgeId::new("reserve"))
        );
        // Deleting the call deletes its compensation instead of refusing the edit.
        let edited = apply_checked(
            &design,
            Command::Delete {
                services: vec![],
                edges: vec!["a-b".into()],
            },
        )
        .unwrap();
        assert!(edited.edges.is_empty());
    }
}
