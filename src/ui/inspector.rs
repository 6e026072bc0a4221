//! The inspector panel: the fields of the selected service or call, or a summary of the design.

use crate::model::{Design, Distribution};
use crate::ui::canvas::Selection;

/// Shows the inspector for the current selection.
pub fn show(ui: &mut egui::Ui, design: &Design, selection: &Selection) {
    ui.heading("Inspector");
    ui.separator();
    if let [id] = selection.services.as_slice()
        && selection.edges.is_empty()
        && let Some(service) = design.service(id.as_str())
    {
        egui::Grid::new("service-fields")
            .num_columns(2)
            .striped(true)
            .show(ui, |ui| {
                row(ui, "Id", service.id.as_str());
                row(ui, "Name", service.display_name());
                row(ui, "Kind", service.kind.as_str());
                row(ui, "Replicas", &service.replicas.to_string());
                row(ui, "Workers / replica", &service.concurrency.to_string());
                let queue = service
                    .queue_capacity
                    .map_or_else(|| "unbounded".to_owned(), |q| q.to_string());
                row(ui, "Queue / replica", &queue);
                row(
                    ui,
                    "Service time",
                    &describe_distribution(&service.service_time),
                );
                row(ui, "Error rate", &service.error_rate.to_string());
                if let Some(image) = &service.image {
                    row(ui, "Image", image);
                }
                if let Some(port) = service.port {
                    row(ui, "Port", &port.to_string());
                }
            });
        if let Some(notes) = &service.notes {
            ui.separator();
            ui.label(notes);
        }
    } else if let [id] = selection.edges.as_slice()
        && selection.services.is_empty()
        && let Some(edge) = design.edge(id.as_str())
    {
        egui::Grid::new("edge-fields")
            .num_columns(2)
            .striped(true)
            .show(ui, |ui| {
                row(ui, "Id", edge.id.as_str());
                row(ui, "From", edge.from.as_str());
                row(ui, "To", edge.to.as_str());
                row(ui, "Mode", edge.mode.as_str());
                row(ui, "Protocol", edge.effective_protocol().as_str());
                row(ui, "Order", &edge.order.to_string());
                row(ui, "Probability", &edge.probability.to_string());
                let timeout = edge
                    .timeout_ms
                    .map_or_else(|| "none".to_owned(), |t| format!("{t} ms"));
                row(ui, "Timeout", &timeout);
                if let Some(retry) = &edge.retry {
                    row(
                        ui,
                        "Retries",
                        &format!("{} (backoff {} ms)", retry.max_retries, retry.backoff_ms),
                    );
                }
                if let Some(breaker) = &edge.circuit_breaker {
                    row(
                        ui,
                        "Breaker",
                        &format!(
                            "opens after {} failures for {} ms",
                            breaker.consecutive_failures, breaker.open_ms
                        ),
                    );
                }
                if let Some(topic) = &edge.topic {
                    row(ui, "Topic", topic);
                }
            });
    } else if selection.is_empty() {
        ui.label(egui::RichText::new(&design.name).strong());
        ui.label(format!(
            "{} services, {} calls, {} flows",
            design.services.len(),
            design.edges.len(),
            design.flows.len()
        ));
        ui.separator();
        for flow in &design.flows {
            ui.label(format!(
                "{}: {} rps into {}",
                flow.display_name(),
                flow.rate_rps,
                flow.entry
            ));
        }
    } else {
        ui.label(format!(
            "{} services and {} calls selected",
            selection.services.len(),
            selection.edges.len()
        ));
    }
}

fn row(ui: &mut egui::Ui, name: &str, value: &str) {
    ui.label(name);
    ui.label(value);
    ui.end_row();
}

/// A distribution in words, e.g. "lognormal, median 10 ms, p99 80 ms".
pub fn describe_distribution(dist: &Distribution) -> String {
    match *dist {
        Distribution::Exponential { mean_ms } => format!("exponential, mean {mean_ms} ms"),
        Distribution::Constant { ms } => format!("constant {ms} ms"),
        Distribution::Uniform { min_ms, max_ms } => format!("uniform {min_ms}–{max_ms} ms"),
        Distribution::Lognormal { median_ms, p99_ms } => {
            format!("lognormal, median {median_ms} ms, p99 {p99_ms} ms")
        }
    }
}
