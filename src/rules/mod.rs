//! The trade-off rules: findings that explain, on the user's own design and with its own numbers, what its sync and
//! async choices cost and how to improve them.
//!
//! Each rule family lives in its own file and registers its rules in [`RULES`]. Rules share one [`Topology`] and
//! one traffic [`Analysis`] per run. See `docs/rules.md` for every rule with an example.

pub mod analysis;
mod capacity;
pub mod fix;
mod patterns;
mod resilience;
mod structure;
mod styles;

use std::cmp::Ordering;

use serde::Serialize;

pub use analysis::{Analysis, Topology, analyse};
pub use fix::{Fix, apply_fix};
pub use structure::{BrokerWork, work_asked_of_brokers};

use crate::model::{Design, Edge, LintThresholds};

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The design will not work as drawn (overload, unbounded retries).
    Error,
    /// A trade-off that will hurt under load or failure.
    Warning,
    /// Worth knowing; not necessarily wrong.
    Info,
}

impl Severity {
    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// What a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Subject {
    /// A service, by id.
    Service(String),
    /// A call, by edge id.
    Edge(String),
    /// A flow, by id.
    Flow(String),
}

/// One finding of one rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The rule's id, e.g. `missing-timeout`.
    pub rule: &'static str,
    /// How serious it is.
    pub severity: Severity,
    /// What it is about; the first subject is the main one.
    pub subjects: Vec<Subject>,
    /// One line with the design's own numbers.
    pub message: String,
    /// The trade-off behind it, in two or three sentences.
    pub tradeoff: &'static str,
    /// A concrete suggestion.
    pub suggestion: String,
    /// A mechanical fix the app can apply as one undoable edit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
    /// Other fixes offered beside `fix`, when the finding has more than one way out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_fixes: Vec<Fix>,
}

/// Thresholds in force: the design's `lint.thresholds`, or the defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Most sync hops from a flow's entry before `deep-sync-chain`.
    pub max_sync_depth: u32,
    /// Sync hops of a write flow from which `write-heavy-sync-chain` warns.
    pub write_sync_depth: u32,
    /// Worst-case calls per request above which `retry-storm` warns.
    pub max_retry_amplification: f64,
    /// Utilization from which `over-capacity` warns.
    pub utilization_warning: f64,
    /// Utilization from which `over-capacity` is an error.
    pub utilization_error: f64,
    /// Sync downstream calls that make a service an orchestrator.
    pub orchestrator_sync_calls: u32,
    /// Sequential sync calls from which `sequential-fan-out` suggests parallel calls.
    pub sequential_fan_out: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            max_sync_depth: 3,
            write_sync_depth: 3,
            max_retry_amplification: 8.0,
            utilization_warning: 0.8,
            utilization_error: 1.0,
            orchestrator_sync_calls: 3,
            sequential_fan_out: 3,
        }
    }
}

impl Thresholds {
    /// The thresholds of a design's lint settings, defaults where unset.
    pub fn from_settings(settings: &LintThresholds) -> Self {
        let default = Self::default();
        Self {
            max_sync_depth: settings.max_sync_depth.unwrap_or(default.max_sync_depth),
            write_sync_depth: settings
                .write_sync_depth
                .unwrap_or(default.write_sync_depth),
            max_retry_amplification: settings
                .max_retry_amplification
                .unwrap_or(default.max_retry_amplification),
            utilization_warning: settings
                .utilization_warning
                .unwrap_or(default.utilization_warning),
            utilization_error: settings
                .utilization_error
                .unwrap_or(default.utilization_error),
            orchestrator_sync_calls: settings
                .orchestrator_sync_calls
                .unwrap_or(default.orchestrator_sync_calls),
            sequential_fan_out: settings
                .sequential_fan_out
                .unwrap_or(default.sequential_fan_out),
        }
    }
}

/// What every rule gets to look at.
pub struct Context<'a> {
    /// The design.
    pub design: &'a Design,
    /// Its indexes.
    pub topology: &'a Topology<'a>,
    /// The traffic analysis.
    pub analysis: &'a Analysis,
    /// Thresholds in force.
    pub thresholds: Thresholds,
}

impl Context<'_> {
    /// The name people read for a service: its display name, or its id when it has none. Messages and
    /// suggestions use names; subjects and fixes keep ids.
    pub fn name<'s>(&'s self, service_id: &'s (impl std::borrow::Borrow<str> + ?Sized)) -> &'s str {
        self.design.service_name(service_id.borrow())
    }

    /// A call as people read it: `caller -> callee`, by names.
    pub fn call(&self, edge: &Edge) -> String {
        self.design.call_name(edge)
    }
}

/// A registered rule.
pub struct Rule {
    /// Stable id, used in reports and in `lint.disabled`.
    pub id: &'static str,
    /// A short title.
    pub title: &'static str,
    /// Finds the rule's findings.
    pub check: fn(&Context, &mut Vec<Finding>),
}

/// Every rule, in the order of `docs/rules.md`.
pub static RULES: &[Rule] = &[
    structure::DEEP_SYNC_CHAIN,
    resilience::MISSING_TIMEOUT,
    resilience::TIMEOUT_INVERSION,
    resilience::RETRY_STORM,
    resilience::RETRY_WITHOUT_BACKOFF,
    resilience::RETRY_WITHOUT_PER_TRY_TIMEOUT,
    resilience::RETRY_NON_IDEMPOTENT,
    resilience::MISSING_CIRCUIT_BREAKER,
    capacity::OVER_CAPACITY,
    capacity::BROKER_SINGLE_REPLICA,
    capacity::ORCHESTRATOR_SINGLE_REPLICA,
    structure::SEQUENTIAL_FAN_OUT,
    structure::SYNC_CYCLE,
    styles::CALLER_WAITS_ON_ASYNC,
    styles::WRITE_HEAVY_SYNC_CHAIN,
    styles::READ_THROUGH_ASYNC,
    styles::MIXED_STYLES,
    styles::STALE_READ,
    structure::UNCONSUMED_TOPIC,
    structure::BROKER_AS_SERVICE,
    capacity::UNBOUNDED_QUEUE,
    capacity::ASYNC_BACKLOG,
    styles::SLO_MISS,
    structure::UNREACHABLE_SERVICE,
    patterns::SAGA_STEP_WITHOUT_TIMEOUT,
    patterns::SAGA_PIVOT_ORDER,
    patterns::COMPENSATION_WITHOUT_RETRY,
    patterns::POLL_TOO_OFTEN,
    patterns::POLL_TOO_RARE,
    patterns::NO_DEAD_LETTER,
    patterns::REDELIVERY_OVERLOAD,
    structure::UNKNOWN_LINT_RULE,
];

/// The rule with this id.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

/// The result of checking a design: its findings, most severe first, in a stable order.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// All findings.
    pub findings: Vec<Finding>,
    /// The analysis the findings were computed from.
    pub analysis: Analysis,
}

impl Report {
    /// How many findings have this severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }
}

/// Runs every enabled rule on a design (which should be valid).
pub fn check(design: &Design) -> Report {
    let topology = Topology::new(design);
    let analysis = analyse(&topology);
    let context = Context {
        design,
        topology: &topology,
        analysis: &analysis,
        thresholds: Thresholds::from_settings(&design.lint.thresholds),
    };
    let mut findings = Vec::new();
    for rule in RULES {
        if design.lint.disabled.iter().any(|d| d == rule.id) {
            continue;
        }
        (rule.check)(&context, &mut findings);
    }
    findings.sort_by(compare_findings);
    Report { findings, analysis }
}

fn compare_findings(a: &Finding, b: &Finding) -> Ordering {
    a.severity
        .cmp(&b.severity)
        .then_with(|| a.rule.cmp(b.rule))
        .then_with(|| a.subjects.cmp(&b.subjects))
        .then_with(|| a.message.cmp(&b.message))
}

/// A count of times for messages: `1 time`, `3 times`.
pub fn times(count: u32) -> String {
    if count == 1 {
        "1 time".to_owned()
    } else {
        format!("{count} times")
    }
}

/// Formats milliseconds for messages: `12 ms`, `1.5 s`, `∞` when unbounded.
pub fn format_ms(ms: f64) -> String {
    if !ms.is_finite() {
        "unbounded".to_owned()
    } else if ms >= 10_000.0 {
        format!("{:.0} s", ms / 1000.0)
    } else if ms >= 1000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else if ms >= 10.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

/// The most items a message lists; the rest are counted. The finding's subjects still name every one, and a list of
/// hundreds (a flow through a large design) is unreadable in a warning line and costly to draw.
const MAX_LISTED: usize = 8;

/// Joins names for a message with ", ": the first `MAX_LISTED`, then "and N more".
pub fn list_names<S: AsRef<str>>(names: &[S]) -> String {
    let shown: Vec<&str> = names.iter().take(MAX_LISTED).map(AsRef::as_ref).collect();
    let mut text = shown.join(", ");
    if names.len() > MAX_LISTED {
        text.push_str(&format!(" and {} more", names.len() - MAX_LISTED));
    }
    text
}

/// Formats a fraction as a percentage for messages.
pub fn format_percent(fraction: f64) -> String {
    if !fraction.is_finite() {
        "unbounded".to_owned()
    } else if fraction >= 0.1 {
        format!("{:.0}%", fraction * 100.0)
    } else {
        format!("{:.1}%", fraction * 100.0)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn long_lists_in_messages_are_cut_and_counted() {
        assert_eq!(super::list_names(&["a", "b"]), "a, b");
        let many: Vec<String> = (0..20).map(|i| format!("s{i}")).collect();
        assert_eq!(
            super::list_names(&many),
            "s0, s1, s2, s3, s4, s5, s6, s7 and 12 more"
        );
        assert_eq!(super::list_names::<&str>(&[]), "");
    }

    use super::*;

    #[test]
    fn rule_ids_are_unique_and_kebab_case() {
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        let before = ids.len();
        ids.dedup();
        assert_eq!(before, ids.len());
        for id in ids {
            assert!(
                id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{id}"
            );
        }
    }
}
