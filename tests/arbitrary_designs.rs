//! Arbitrary valid designs (generated: up to 50 services, sync and async calls, timeouts, retries, breakers, random
//! flows, rate steps, faults and groups, and the patterns: compensating calls, polling flows, dead-letter queues,
//! idempotent calls) go through every module without a panic: validation, every rule, the sequence generator and
//! its three renderers, every exporter, the contracts and chaos experiments included (whose YAML and JSON still
//! parse), the file format's round trip, and a short simulation whose counters balance.

use proptest::prelude::*;
use serde::Deserialize;
use syncopate::export::Target;
use syncopate::model::{
    self, CallMode, DeadLetter, Edge, EdgeId, Fault, FaultKind, Polling, RateStep,
    SimulationSettings, generate,
};
use syncopate::{export, rules, sequence, sim};

/// A generated design, then changed by the strategy's choices: faults on some services, rate steps on flows, some
/// calls flipped between sync and async, and the patterns (see `add_patterns`).
fn design(
    services: usize,
    calls_per_service: usize,
    seed: u64,
    faults: &[(usize, u8, f64, f64)],
    flips: &[usize],
    burst: Option<(f64, f64)>,
    patterns: &[(usize, usize, u8)],
) -> model::Design {
    let mut design = generate::layered_design(services, services * calls_per_service, seed);
    // Most services in one of three groups (namespaces in the Kubernetes and Istio exports), some in none.
    for (i, service) in design.services.iter_mut().enumerate() {
        if !(i as u64 + seed).is_multiple_of(4) {
            service.group = Some(format!("Domain {}: {}", i % 3, ["a", "b/c", "d e"][i % 3]));
        }
    }
    for &(service, kind, start_s, length_s) in faults {
        let service = &design.services[service % design.services.len()];
        let kind = [
            FaultKind::Down,
            FaultKind::Hang,
            FaultKind::Slow,
            FaultKind::Errors,
        ][usize::from(kind) % 4];
        design.faults.push(Fault {
            service: service.id.clone(),
            kind,
            start_s,
            end_s: Some(start_s + length_s),
            factor: (kind == FaultKind::Slow).then_some(1.0 + length_s),
            error_rate: (kind == FaultKind::Errors).then_some((length_s / 10.0).min(1.0)),
        });
    }
    for &index in flips {
        let count = design.edges.len();
        if count == 0 {
            break;
        }
        let edge = &mut design.edges[index % count];
        // Async calls carry no timeout, retry or breaker; sync ones need no topic.
        if edge.mode == CallMode::Sync {
            edge.mode = CallMode::Async;
            edge.timeout_ms = None;
            edge.retry = None;
            edge.circuit_breaker = None;
            edge.max_in_flight = None;
            edge.probability = 1.0;
        }
    }
    if let Some((at_s, rate_rps)) = burst
        && let Some(flow) = design.flows.first_mut()
    {
        flow.pattern = Some(vec![RateStep { at_s, rate_rps }]);
    }
    add_patterns(&mut design, patterns);
    design
}

/// The patterns, one per choice `(edge, service, what)`: the chosen call gets a compensating call to the chosen
/// service (sync or async), is marked idempotent, or gets a dead-letter queue (async calls), or the chosen service's
/// flows poll for their results.
fn add_patterns(design: &mut model::Design, patterns: &[(usize, usize, u8)]) {
    for (n, &(edge, service, what)) in patterns.iter().enumerate() {
        let forward: Vec<usize> = (0..design.edges.len())
            .filter(|&e| design.edges[e].compensates.is_none())
            .collect();
        if forward.is_empty() {
            return;
        }
        let e = forward[edge % forward.len()];
        let to = design.services[service % design.services.len()].id.clone();
        match what % 4 {
            0 | 1 => {
                let target = design.edges[e].id.clone();
                if design
                    .edges
                    .iter()
                    .any(|c| c.compensates.as_ref() == Some(&target))
                {
                    continue;
                }
                let mode = if what % 4 == 0 {
                    CallMode::Sync
                } else {
                    CallMode::Async
                };
                let undo = Edge {
                    id: EdgeId::new(format!("undo-{n}")),
                    flows: design.edges[e].flows.clone(),
                    compensates: Some(target),
                    ..Edge::new(design.edges[e].from.as_str(), to.as_str(), mode)
                };
                design.edges.push(undo);
            }
            2 => {
                let call = &mut design.edges[e];
                if call.mode == CallMode::Async {
                    call.dead_letter = Some(DeadLetter {
                        after_deliveries: 1 + (n as u32 % 4),
                    });
                } else {
                    call.idempotent = true;
                }
            }
            _ => {
                for flow in design.flows.iter_mut().filter(|f| f.entry == to) {
                    flow.caller_waits = false;
                    flow.polling = Some(Polling {
                        interval_ms: 50.0 * (1 + n) as f64,
                    });
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, .. ProptestConfig::default() })]

    #[test]
    fn every_module_handles_any_valid_design(
        services in 4usize..50,
        calls_per_service in 1usize..4,
        seed in any::<u64>(),
        faults in proptest::collection::vec((0usize..50, 0u8..4, 0.0f64..4.0, 0.1f64..5.0), 0..4),
        flips in proptest::collection::vec(0usize..200, 0..6),
        burst in proptest::option::of((0.5f64..3.0, 0.0f64..200.0)),
        patterns in proptest::collection::vec((0usize..200, 0usize..50, 0u8..4), 0..8),
    ) {
        let design = design(services, calls_per_service, seed, &faults, &flips, burst, &patterns);
        let problems = model::validate(&design);
        // Only valid designs go further, as in the app; the generator and the changes above keep them valid.
        prop_assert!(problems.is_empty(), "{problems:?}");

        let text = model::to_json_pretty(&design);
        let reloaded = model::load_from_str(&text, "generated").map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&reloaded, &design);

        let report = rules::check(&design);
        for finding in &report.findings {
            prop_assert!(!finding.message.is_empty());
        }
        for fix in report.findings.iter().filter_map(|f| f.fix.as_ref()) {
            let fixed = rules::apply_fix(&design, fix);
            prop_assert!(model::validate(&fixed).is_empty(), "fix {} breaks the design", fix.label());
        }

        for diagram in sequence::diagrams(&design) {
            prop_assert!(sequence::to_mermaid(&diagram).starts_with("sequenceDiagram"));
            prop_assert!(sequence::to_plantuml(&diagram).contains("@enduml"));
            let svg = sequence::to_svg(&diagram);
            prop_assert!(roxmltree::Document::parse(&svg).is_ok(), "the SVG is XML");
        }

        let contracts = Target::ON_REQUEST.into_iter().flat_map(|t| export::export(&design, t));
        for file in export::export_all(&design).into_iter().chain(contracts) {
            let parsed = if file.path.ends_with(".json") {
                serde_json::from_str::<serde_json::Value>(&file.contents).map(|_| ()).map_err(|e| e.to_string())
            } else if file.path.ends_with(".yaml") || file.path.ends_with(".yml") {
                serde_yaml_ng::Deserializer::from_str(&file.contents)
                    .try_for_each(|document| {
                        serde_yaml_ng::Value::deserialize(document).map(|_| ())
                    })
                    .map_err(|e| e.to_string())
            } else {
                Ok(())
            };
            prop_assert!(parsed.is_ok(), "{}: {:?}", file.path, parsed);
        }

        let run = sim::simulate(&design, SimulationSettings { duration_s: 6.0, warmup_s: 1.0, seed })
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        for (id, flow) in &run.flows {
            prop_assert_eq!(flow.started, flow.completed + flow.failed + flow.in_flight, "flow {}", id);
        }
        for (id, edge) in &run.edges {
            prop_assert!(edge.failures <= edge.calls + edge.retries, "edge {}: {:?}", id, edge);
        }
        for (id, service) in &run.services {
            prop_assert!(service.utilization.is_finite() && service.utilization >= 0.0, "{}", id);
            prop_assert!(service.utilization <= 1.0 + 1e-9, "{}: {}", id, service.utilization);
        }
    }
}
