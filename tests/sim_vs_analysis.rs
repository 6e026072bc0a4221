//! The static estimates of the rules' traffic analysis agree with the simulator on the samples at moderate load.

use std::path::Path;

use syncopate::model::{self, SimulationSettings};
use syncopate::rules::{Topology, analyse};
use syncopate::sim::simulate;

const SAMPLES: [&str; 9] = [
    "cqrs",
    "ecommerce",
    "event-choreography",
    "iot-ingest",
    "ocr-pipeline",
    "order-saga",
    "parallel-orchestrator",
    "payment-guarded",
    "weather-api",
];

#[test]
fn utilization_and_critical_path_latency_agree_within_ten_percent() {
    let mut report_lines = Vec::new();
    let mut failures = Vec::new();
    for name in SAMPLES {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("samples/{name}.syncopate"));
        let mut design = model::load_file(&path).unwrap();
        // Planned faults are not moderate load: compare the design as it runs normally.
        design.faults.clear();
        let topology = Topology::new(&design);
        let analysis = analyse(&topology);
        let settings = SimulationSettings {
            duration_s: 300.0,
            warmup_s: 20.0,
            seed: 11,
        };
        let simulated = simulate(&design, settings).unwrap();
        for (i, service) in design.services.iter().enumerate() {
            let estimate = analysis.utilization[i];
            let measured = simulated.services[service.id.as_str()].utilization;
            // Only services doing real work; the tiniest utilizations are dominated by noise.
            if estimate < 0.05 {
                continue;
            }
            let error = (measured - estimate).abs() / estimate;
            report_lines.push(format!(
                "{name}/{}: utilization estimate {estimate:.3} simulated {measured:.3}",
                service.id
            ));
            if error > 0.10 {
                failures.push(report_lines.last().unwrap().clone());
            }
        }
        for (f, flow) in design.flows.iter().enumerate() {
            let estimate = analysis.flow_latency_ms[f];
            let measured = simulated.flows[flow.id.as_str()].latency_ms.mean;
            if estimate < 1.0 {
                continue;
            }
            let error = (measured - estimate).abs() / estimate;
            report_lines.push(format!(
                "{name}/{}: latency estimate {estimate:.2} ms simulated {measured:.2} ms",
                flow.id
            ));
            if error > 0.10 {
                failures.push(report_lines.last().unwrap().clone());
            }
        }
    }
    println!("{}", report_lines.join("\n"));
    assert!(
        failures.is_empty(),
        "estimates off by more than 10%:\n{}",
        failures.join("\n")
    );
}
