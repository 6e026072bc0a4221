//! Mechanical fixes that findings offer: each turns the design into a corrected one in a single step.

use serde::Serialize;

use crate::model::{CallMode, CircuitBreaker, Design, RetryPolicy};

/// A change the app can apply as one undoable edit.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fix {
    /// Give a sync call a timeout.
    AddTimeout {
        /// The call.
        edge: String,
        /// The timeout to set.
        timeout_ms: f64,
    },
    /// Give a sync call a circuit breaker.
    AddCircuitBreaker {
        /// The call.
        edge: String,
    },
    /// Run more replicas of a service.
    SetReplicas {
        /// The service.
        service: String,
        /// The new number of replicas.
        replicas: u32,
    },
    /// Make a service's sync calls run in parallel (one `order` group).
    MakeCallsParallel {
        /// The calling service.
        service: String,
    },
    /// Turn a sync call into an async message.
    SwitchToAsync {
        /// The call.
        edge: String,
    },
    /// Give a call's retries an exponential backoff.
    AddBackoff {
        /// The call.
        edge: String,
        /// The first backoff.
        backoff_ms: f64,
    },
    /// Give a call's retries a per-try timeout.
    AddPerTryTimeout {
        /// The call.
        edge: String,
        /// The per-try timeout.
        per_try_timeout_ms: f64,
    },
}

impl Fix {
    /// The button text.
    pub fn label(&self) -> String {
        match self {
            Fix::AddTimeout { timeout_ms, .. } => format!("Add a {timeout_ms} ms timeout"),
            Fix::AddCircuitBreaker { .. } => "Add a circuit breaker".to_owned(),
            Fix::SetReplicas { replicas, .. } => format!("Run {replicas} replicas"),
            Fix::MakeCallsParallel { .. } => "Make the calls parallel".to_owned(),
            Fix::SwitchToAsync { .. } => "Switch the call to async".to_owned(),
            Fix::AddBackoff { backoff_ms, .. } => format!("Back off {backoff_ms} ms"),
            Fix::AddPerTryTimeout {
                per_try_timeout_ms, ..
            } => format!("Add a {per_try_timeout_ms} ms per-try timeout"),
        }
    }
}

/// The design with `fix` applied. A fix naming something that no longer exists changes nothing.
pub fn apply_fix(design: &Design, fix: &Fix) -> Design {
    let mut fixed = design.clone();
    match fix {
        Fix::AddTimeout { edge, timeout_ms } => {
            if let Some(e) = fixed.edge_mut(edge) {
                e.timeout_ms = Some(*timeout_ms);
            }
        }
        Fix::AddCircuitBreaker { edge } => {
            if let Some(e) = fixed.edge_mut(edge) {
                e.circuit_breaker = Some(CircuitBreaker::default());
            }
        }
        Fix::SetReplicas { service, replicas } => {
            if let Some(s) = fixed.service_mut(service) {
                s.replicas = *replicas;
            }
        }
        Fix::MakeCallsParallel { service } => {
            let first = fixed
                .edges
                .iter()
                .filter(|e| e.from.as_str() == service && e.mode == CallMode::Sync)
                .map(|e| e.order)
                .min();
            if let Some(first) = first {
                for e in fixed
                    .edges
                    .iter_mut()
                    .filter(|e| e.from.as_str() == service && e.mode == CallMode::Sync)
                {
                    e.order = first;
                }
            }
        }
        Fix::SwitchToAsync { edge } => {
            if let Some(e) = fixed.edge_mut(edge) {
                e.mode = CallMode::Async;
                e.protocol = None;
                // An async hand-off does not wait, so timeouts no longer apply; retries of the publish stay.
                e.timeout_ms = None;
                if let Some(retry) = &mut e.retry {
                    retry.per_try_timeout_ms = None;
                }
            }
        }
        Fix::AddBackoff { edge, backoff_ms } => {
            if let Some(retry) = fixed.edge_mut(edge).and_then(|e| e.retry.as_mut()) {
                retry.backoff_ms = *backoff_ms;
            }
        }
        Fix::AddPerTryTimeout {
            edge,
            per_try_timeout_ms,
        } => {
            if let Some(e) = fixed.edge_mut(edge) {
                let retry = e.retry.get_or_insert(RetryPolicy {
                    max_retries: 0,
                    backoff_ms: 0.0,
                    per_try_timeout_ms: None,
                });
                retry.per_try_timeout_ms = Some(*per_try_timeout_ms);
            }
        }
    }
    fixed
}

/// Rounds a suggested time up to a value people would type: 50 ms steps below a second, 100 ms steps above.
pub fn round_up_ms(ms: f64) -> f64 {
    if !ms.is_finite() || ms <= 0.0 {
        return 100.0;
    }
    let step = if ms < 1000.0 { 50.0 } else { 100.0 };
    ((ms / step).ceil() * step).max(step)
}
