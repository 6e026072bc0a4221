//! What changed between two designs, item by item: the structural half of a design review (`syncopate diff`, the
//! app's Compare with…). Pure: no files, no git; the shells read both sides and hand them here.
//!
//! Items are matched by id (services, calls, flows); planned faults, which have no id, by a key made of their
//! service, kind and start (`payments/down@20`). A changed field is named by its path in the file format
//! (`retry.max_retries`, `service_time.mean_ms`); a field left out of the file counts as its default value, so
//! writing a default out or leaving it out is no change. Objects are compared field by field; lists (a call's
//! `flows`, a flow's `pattern`) as whole values. Positions are layout, not design: ignored unless asked for.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;
use serde_json::{Map, Value};

use super::design::{Design, Edge, Fault, Flow, LintSettings, Service, SimulationSettings};

/// Old and new value of one changed field (`null` for a field without a value on that side).
pub type FieldChange = [Value; 2];

/// The changes of one kind of item.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ItemChanges {
    /// Ids only in the new design, sorted.
    pub added: Vec<String>,
    /// Ids only in the old design, sorted.
    pub removed: Vec<String>,
    /// Items in both that differ: id (the new id, when `--match-names` paired a renamed item) → field path → old
    /// and new value.
    pub changed: BTreeMap<String, BTreeMap<String, FieldChange>>,
}

impl ItemChanges {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }

    /// How many items were added, removed or changed.
    pub fn count(&self) -> usize {
        self.added.len() + self.removed.len() + self.changed.len()
    }
}

/// Changes of the design's own settings (name, simulation, lint): field path → old and new value.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SettingsChanges {
    /// Changed fields, by path (`name`, `simulation.seed`, `lint.disabled`).
    pub changed: BTreeMap<String, FieldChange>,
}

/// How two designs differ, item by item.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DesignDiff {
    /// Services.
    pub services: ItemChanges,
    /// Calls.
    pub edges: ItemChanges,
    /// Flows.
    pub flows: ItemChanges,
    /// Planned faults, keyed by [`fault_key`].
    pub faults: ItemChanges,
    /// The design's settings.
    pub settings: SettingsChanges,
}

impl DesignDiff {
    /// Whether the designs are the same (as compared: positions only when asked for).
    pub fn is_empty(&self) -> bool {
        self.services.is_empty()
            && self.edges.is_empty()
            && self.flows.is_empty()
            && self.faults.is_empty()
            && self.settings.changed.is_empty()
    }
}

/// How to compare.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiffOptions {
    /// Pair a removed and an added item with the same display name (services and flows by name, calls by their
    /// callers' and callees' names and topic) as one renamed item.
    pub match_names: bool,
    /// Count moved services as changed (`position`).
    pub positions: bool,
}

/// The key a planned fault is matched by: `<service>/<kind>@<start_s>`, with `#2`, `#3`… for repeats.
pub fn fault_key(fault: &Fault) -> String {
    format!(
        "{}/{}@{}",
        fault.service,
        fault.kind.as_str(),
        fault.start_s
    )
}

/// Keys of the faults in order, repeats numbered.
fn fault_keys(faults: &[Fault]) -> Vec<String> {
    let mut seen: HashMap<String, u32> = HashMap::new();
    faults
        .iter()
        .map(|fault| {
            let key = fault_key(fault);
            let n = seen.entry(key.clone()).or_insert(0);
            *n += 1;
            if *n == 1 { key } else { format!("{key}#{n}") }
        })
        .collect()
}

/// Compares two designs.
pub fn diff(old: &Design, new: &Design, options: DiffOptions) -> DiffResult {
    let service_pairs = if options.match_names {
        pair_by_name(
            old.services
                .iter()
                .map(|s| (s.id.as_str(), s.display_name())),
            new.services
                .iter()
                .map(|s| (s.id.as_str(), s.display_name())),
        )
    } else {
        BTreeMap::new()
    };
    let flow_pairs = if options.match_names {
        pair_by_name(
            old.flows.iter().map(|f| (f.id.as_str(), f.display_name())),
            new.flows.iter().map(|f| (f.id.as_str(), f.display_name())),
        )
    } else {
        BTreeMap::new()
    };
    let edge_pairs = if options.match_names {
        let old_names: Vec<(&str, String)> = old
            .edges
            .iter()
            .map(|e| (e.id.as_str(), call_key(old, e)))
            .collect();
        let new_names: Vec<(&str, String)> = new
            .edges
            .iter()
            .map(|e| (e.id.as_str(), call_key(new, e)))
            .collect();
        pair_by_name(
            old_names.iter().map(|(id, n)| (*id, n.as_str())),
            new_names.iter().map(|(id, n)| (*id, n.as_str())),
        )
    } else {
        BTreeMap::new()
    };
    // With names matched, the old side's references are read through the pairs, so a renamed service does not
    // make every call to it "changed".
    let renamed = |pairs: &BTreeMap<String, String>, id: &str| -> String {
        pairs.get(id).cloned().unwrap_or_else(|| id.to_owned())
    };
    let mut old = old.clone();
    for edge in &mut old.edges {
        edge.from.0 = renamed(&service_pairs, edge.from.as_str());
        edge.to.0 = renamed(&service_pairs, edge.to.as_str());
        if let Some(flows) = &mut edge.flows {
            for flow in flows.iter_mut() {
                flow.0 = renamed(&flow_pairs, flow.as_str());
            }
        }
        if let Some(compensated) = &mut edge.compensates {
            compensated.0 = renamed(&edge_pairs, compensated.as_str());
        }
    }
    for flow in &mut old.flows {
        flow.entry.0 = renamed(&service_pairs, flow.entry.as_str());
    }
    for fault in &mut old.faults {
        fault.service.0 = renamed(&service_pairs, fault.service.as_str());
    }

    let service_defaults = service_defaults();
    let ignored: &[&str] = if options.positions {
        &[]
    } else {
        &["position"]
    };
    let services = compare_items(
        keyed(&old.services, |s| s.id.as_str().to_owned()),
        keyed(&new.services, |s| s.id.as_str().to_owned()),
        &service_pairs,
        &service_defaults,
        ignored,
    );
    let edges = compare_items(
        keyed(&old.edges, |e| e.id.as_str().to_owned()),
        keyed(&new.edges, |e| e.id.as_str().to_owned()),
        &edge_pairs,
        &edge_defaults(),
        &[],
    );
    let flows = compare_items(
        keyed(&old.flows, |f| f.id.as_str().to_owned()),
        keyed(&new.flows, |f| f.id.as_str().to_owned()),
        &flow_pairs,
        &flow_defaults(),
        &[],
    );
    let faults = compare_items(
        fault_keys(&old.faults)
            .into_iter()
            .zip(old.faults.iter().map(to_object))
            .collect(),
        fault_keys(&new.faults)
            .into_iter()
            .zip(new.faults.iter().map(to_object))
            .collect(),
        &BTreeMap::new(),
        &Map::new(),
        &[],
    );
    let mut settings = SettingsChanges::default();
    compare_objects(
        "",
        &settings_object(&old),
        &settings_object(new),
        &settings_defaults(),
        &[],
        &mut settings.changed,
    );
    DiffResult {
        diff: DesignDiff {
            services,
            edges,
            flows,
            faults,
            settings,
        },
        pairs: Pairs {
            services: service_pairs,
            edges: edge_pairs,
            flows: flow_pairs,
        },
    }
}

/// A diff and the renamed items `--match-names` paired.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DiffResult {
    /// The changes.
    pub diff: DesignDiff,
    /// The renamed items paired by name.
    pub pairs: Pairs,
}

/// Renamed items `--match-names` paired, old id → new id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pairs {
    /// Services paired by name.
    pub services: BTreeMap<String, String>,
    /// Calls paired by their ends' names.
    pub edges: BTreeMap<String, String>,
    /// Flows paired by name.
    pub flows: BTreeMap<String, String>,
}

/// A call's name for matching: its ends' display names, its mode and topic.
fn call_key(design: &Design, edge: &Edge) -> String {
    format!(
        "{} -> {} {} {}",
        design.service_name(edge.from.as_str()),
        design.service_name(edge.to.as_str()),
        edge.mode.as_str(),
        edge.topic.as_deref().unwrap_or("")
    )
}

/// Pairs ids only on the old side with ids only on the new side that have the same name, when that name is
/// unique among both sides' unpaired ids (an ambiguous name pairs nothing).
fn pair_by_name<'a>(
    old: impl Iterator<Item = (&'a str, &'a str)>,
    new: impl Iterator<Item = (&'a str, &'a str)>,
) -> BTreeMap<String, String> {
    let old: Vec<(&str, &str)> = old.collect();
    let new: Vec<(&str, &str)> = new.collect();
    let old_ids: BTreeSet<&str> = old.iter().map(|(id, _)| *id).collect();
    let new_ids: BTreeSet<&str> = new.iter().map(|(id, _)| *id).collect();
    let mut removed_by_name: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (id, name) in &old {
        if !new_ids.contains(id) {
            removed_by_name.entry(name).or_default().push(id);
        }
    }
    let mut added_by_name: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (id, name) in &new {
        if !old_ids.contains(id) {
            added_by_name.entry(name).or_default().push(id);
        }
    }
    removed_by_name
        .iter()
        .filter_map(
            |(name, removed)| match (removed.as_slice(), added_by_name.get(name)) {
                ([old_id], Some(added)) if added.len() == 1 => {
                    Some(((*old_id).to_owned(), added[0].to_owned()))
                }
                _ => None,
            },
        )
        .collect()
}

fn keyed<T: Serialize>(
    items: &[T],
    key: impl Fn(&T) -> String,
) -> Vec<(String, Map<String, Value>)> {
    items
        .iter()
        .map(|item| (key(item), to_object(item)))
        .collect()
}

/// An item as its JSON object in the file format.
fn to_object<T: Serialize>(item: &T) -> Map<String, Value> {
    match serde_json::to_value(item) {
        Ok(Value::Object(map)) => map,
        // Items of the model serialize to objects; anything else would be a bug in the model, shown as no fields.
        _ => Map::new(),
    }
}

fn compare_items(
    old: Vec<(String, Map<String, Value>)>,
    new: Vec<(String, Map<String, Value>)>,
    pairs: &BTreeMap<String, String>,
    defaults: &Map<String, Value>,
    ignored: &[&str],
) -> ItemChanges {
    let new_by_id: BTreeMap<&str, &Map<String, Value>> =
        new.iter().map(|(id, o)| (id.as_str(), o)).collect();
    let old_ids: BTreeSet<&str> = old.iter().map(|(id, _)| id.as_str()).collect();
    let paired_new: BTreeSet<&str> = pairs.values().map(String::as_str).collect();
    let mut changes = ItemChanges::default();
    for (id, old_object) in &old {
        let new_id = pairs.get(id).map_or(id.as_str(), String::as_str);
        let Some(new_object) = new_by_id.get(new_id) else {
            changes.removed.push(id.clone());
            continue;
        };
        let mut fields = BTreeMap::new();
        compare_objects("", old_object, new_object, defaults, ignored, &mut fields);
        if !fields.is_empty() {
            changes.changed.insert(new_id.to_owned(), fields);
        }
    }
    for (id, _) in &new {
        if !old_ids.contains(id.as_str()) && !paired_new.contains(id.as_str()) {
            changes.added.push(id.clone());
        }
    }
    changes.added.sort();
    changes.removed.sort();
    changes
}

/// Compares two objects field by field into `out` (path → old, new); a field missing on one side reads as its
/// default (from `defaults`, by path) or `null`.
fn compare_objects(
    prefix: &str,
    old: &Map<String, Value>,
    new: &Map<String, Value>,
    defaults: &Map<String, Value>,
    ignored: &[&str],
    out: &mut BTreeMap<String, FieldChange>,
) {
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for key in keys {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        if ignored.contains(&path.as_str()) {
            continue;
        }
        let default = defaults.get(&path).cloned().unwrap_or(Value::Null);
        let old_value = old.get(key).cloned().unwrap_or_else(|| default.clone());
        let new_value = new.get(key).cloned().unwrap_or(default);
        match (&old_value, &new_value) {
            (Value::Object(a), Value::Object(b)) => {
                compare_objects(&path, a, b, defaults, ignored, out);
            }
            (a, b) if a != b => {
                out.insert(path, [old_value, new_value]);
            }
            _ => {}
        }
    }
}

/// The design's own settings as one object.
fn settings_object(design: &Design) -> Map<String, Value> {
    let mut object = Map::new();
    object.insert("name".to_owned(), Value::String(design.name.clone()));
    object.insert(
        "simulation".to_owned(),
        serde_json::to_value(design.simulation_settings()).unwrap_or(Value::Null),
    );
    object.insert(
        "lint".to_owned(),
        serde_json::to_value(&design.lint).unwrap_or(Value::Null),
    );
    object
}

/// Values of fields the file format leaves out when they are at their default, by path; taken from the model's
/// own defaults so they cannot drift.
fn service_defaults() -> Map<String, Value> {
    let service = Service::new("x");
    let mut defaults = Map::new();
    let mut put = |key: &str, value: Value| {
        defaults.insert(key.to_owned(), value);
    };
    put("kind", json(&service.kind));
    put("replicas", json(&service.replicas));
    put("concurrency", json(&service.concurrency));
    put("queue_capacity", json(&service.queue_capacity));
    put("service_time", json(&service.service_time));
    put("error_rate", json(&service.error_rate));
    put("workload", json(&service.workload));
    defaults
}

fn edge_defaults() -> Map<String, Value> {
    let edge = Edge::new("a", "b", super::design::CallMode::Sync);
    let mut defaults = Map::new();
    defaults.insert("order".to_owned(), json(&edge.order));
    defaults.insert("probability".to_owned(), json(&edge.probability));
    defaults.insert("idempotent".to_owned(), json(&edge.idempotent));
    defaults
}

fn flow_defaults() -> Map<String, Value> {
    let flow = Flow::new("f", "x", 1.0);
    let mut defaults = Map::new();
    defaults.insert("arrival".to_owned(), json(&flow.arrival));
    defaults.insert("kind".to_owned(), json(&flow.kind));
    defaults.insert("caller_waits".to_owned(), json(&flow.caller_waits));
    defaults
}

fn settings_defaults() -> Map<String, Value> {
    let lint = LintSettings::default();
    let mut defaults = Map::new();
    defaults.insert(
        "simulation".to_owned(),
        json(&SimulationSettings::default()),
    );
    defaults.insert("lint.disabled".to_owned(), json(&lint.disabled));
    defaults.insert("lint.thresholds".to_owned(), Value::Object(Map::new()));
    defaults
}

fn json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// Applies a diff's changed fields to `old`, taking added items from `new` (the diff names them only by id) and
/// dropping removed ones: the result has `new`'s structure. The inverse of [`diff`] (without `match_names`), used
/// to check it and to take changes over one by one.
pub fn apply(old: &Design, diff: &DesignDiff, new: &Design) -> Result<Design, String> {
    let mut design = old.clone();
    design.services = apply_items(
        &old.services,
        &new.services,
        |s| s.id.as_str().to_owned(),
        &diff.services,
        &service_defaults(),
    )?;
    design.edges = apply_items(
        &old.edges,
        &new.edges,
        |e| e.id.as_str().to_owned(),
        &diff.edges,
        &edge_defaults(),
    )?;
    design.flows = apply_items(
        &old.flows,
        &new.flows,
        |f| f.id.as_str().to_owned(),
        &diff.flows,
        &flow_defaults(),
    )?;
    let old_keys = fault_keys(&old.faults);
    let new_keys = fault_keys(&new.faults);
    let mut faults = Vec::new();
    for (key, fault) in old_keys.iter().zip(&old.faults) {
        if diff.faults.removed.contains(key) {
            continue;
        }
        faults.push(match diff.faults.changed.get(key) {
            Some(fields) => with_fields(fault, fields, &Map::new())?,
            None => fault.clone(),
        });
    }
    for (key, fault) in new_keys.iter().zip(&new.faults) {
        if diff.faults.added.contains(key) {
            faults.push(fault.clone());
        }
    }
    design.faults = faults;
    let mut settings = settings_object(&design);
    for (path, [_, value]) in &diff.settings.changed {
        set_path(&mut settings, path, value.clone(), &settings_defaults());
    }
    if let Some(Value::String(name)) = settings.get("name") {
        design.name = name.clone();
    }
    if let Some(simulation) = settings.get("simulation") {
        let simulation: SimulationSettings =
            serde_json::from_value(simulation.clone()).map_err(|e| format!("simulation: {e}"))?;
        design.simulation = (simulation != SimulationSettings::default()
            || design.simulation.is_some())
        .then_some(simulation);
    }
    if let Some(lint) = settings.get("lint") {
        design.lint = serde_json::from_value(lint.clone()).map_err(|e| format!("lint: {e}"))?;
    }
    Ok(design)
}

fn apply_items<T: Serialize + serde::de::DeserializeOwned + Clone>(
    old: &[T],
    new: &[T],
    key: impl Fn(&T) -> String,
    changes: &ItemChanges,
    defaults: &Map<String, Value>,
) -> Result<Vec<T>, String> {
    let mut items = Vec::new();
    for item in old {
        let id = key(item);
        if changes.removed.contains(&id) {
            continue;
        }
        items.push(match changes.changed.get(&id) {
            Some(fields) => with_fields(item, fields, defaults)?,
            None => item.clone(),
        });
    }
    for item in new {
        if changes.added.contains(&key(item)) {
            items.push(item.clone());
        }
    }
    Ok(items)
}

fn with_fields<T: Serialize + serde::de::DeserializeOwned>(
    item: &T,
    fields: &BTreeMap<String, FieldChange>,
    defaults: &Map<String, Value>,
) -> Result<T, String> {
    let mut object = to_object(item);
    for (path, [_, value]) in fields {
        set_path(&mut object, path, value.clone(), defaults);
    }
    serde_json::from_value(Value::Object(object)).map_err(|e| e.to_string())
}

/// Sets the field at a dotted path. `null` removes the field (it had no value on the new side) unless the
/// field's default is not `null`, where `null` is a value of its own (a service's unbounded `queue_capacity`).
fn set_path(
    object: &mut Map<String, Value>,
    path: &str,
    value: Value,
    defaults: &Map<String, Value>,
) {
    let (head, rest) = match path.split_once('.') {
        Some((head, rest)) => (head, Some(rest)),
        None => (path, None),
    };
    match rest {
        None => {
            let null_is_value = defaults.get(path).is_some_and(|d| !d.is_null());
            if value.is_null() && !null_is_value {
                object.remove(head);
            } else {
                object.insert(head.to_owned(), value);
            }
        }
        Some(rest) => {
            let child = object.entry(head.to_owned()).or_insert_with(|| {
                defaults
                    .get(head)
                    .cloned()
                    .unwrap_or(Value::Object(Map::new()))
            });
            if !child.is_object() {
                *child = Value::Object(Map::new());
            }
            if let Value::Object(child) = child {
                let nested: Map<String, Value> = defaults
                    .iter()
                    .filter_map(|(k, v)| {
                        k.strip_prefix(head)
                            .and_then(|k| k.strip_prefix('.'))
                            .map(|k| (k.to_owned(), v.clone()))
                    })
                    .collect();
                set_path(child, rest, value, &nested);
            }
        }
    }
}

/// A small design for tests: web calls pay synchronously on flow checkout.
#[cfg(test)]
pub(crate) fn test_design() -> Design {
    let mut design = Design::new("shop");
    design.services = vec![Service::new("web"), Service::new("pay")];
    design.edges = vec![Edge::new("web", "pay", super::design::CallMode::Sync)];
    design.flows = vec![Flow::new("checkout", "web", 10.0)];
    design
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RetryPolicy;

    fn design() -> Design {
        test_design()
    }

    #[test]
    fn same_design_has_no_changes() {
        let a = design();
        assert!(diff(&a, &a, DiffOptions::default()).diff.is_empty());
    }

    #[test]
    fn nested_fields_are_named_by_path_and_defaults_count_as_values() {
        let a = design();
        let mut b = a.clone();
        b.edges[0].retry = Some(RetryPolicy {
            max_retries: 2,
            backoff_ms: 0.0,
            per_try_timeout_ms: None,
        });
        b.services[1].replicas = 3;
        b.services[0].position = Some([10.0, 20.0]);
        let mut c = b.clone();
        if let Some(retry) = &mut c.edges[0].retry {
            retry.max_retries = 3;
        }
        let d = diff(&a, &b, DiffOptions::default()).diff;
        assert_eq!(d.services.changed.len(), 1, "the move is not a change");
        assert_eq!(
            d.services.changed["pay"]["replicas"],
            [Value::from(1), Value::from(3)]
        );
        assert!(d.edges.changed["web-pay"]["retry"][0].is_null());
        let d = diff(&b, &c, DiffOptions::default()).diff;
        assert_eq!(
            d.edges.changed["web-pay"]["retry.max_retries"],
            [Value::from(2), Value::from(3)]
        );
        let moved = diff(
            &a,
            &b,
            DiffOptions {
                positions: true,
                ..DiffOptions::default()
            },
        )
        .diff;
        assert!(moved.services.changed["web"].contains_key("position"));
    }

    #[test]
    fn a_rename_is_a_removal_and_an_addition_unless_names_are_matched() {
        let a = design();
        let mut b = a.clone();
        b.rename_service(&"pay".into(), &"payments".into());
        b.services[1].name = Some("pay".to_owned());
        let plain = diff(&a, &b, DiffOptions::default()).diff;
        assert_eq!(plain.services.added, ["payments"]);
        assert_eq!(plain.services.removed, ["pay"]);
        let matched = diff(
            &a,
            &b,
            DiffOptions {
                match_names: true,
                ..DiffOptions::default()
            },
        );
        assert!(matched.diff.services.added.is_empty());
        assert_eq!(matched.pairs.services["pay"], "payments");
        assert_eq!(
            matched.diff.services.changed["payments"]["id"],
            [Value::from("pay"), Value::from("payments")]
        );
        // The call to it is the same call, not "changed" for its new end.
        assert!(
            matched
                .diff
                .edges
                .changed
                .values()
                .all(|fields| !fields.contains_key("to")),
            "{:?}",
            matched.diff.edges
        );
    }

    #[test]
    fn apply_gives_the_new_structure() {
        let a = design();
        let mut b = a.clone();
        b.services[1].queue_capacity = None;
        b.edges[0].timeout_ms = Some(250.0);
        b.services.push(Service::new("mail"));
        b.flows.clear();
        b.name = "shop 2".to_owned();
        let d = diff(&a, &b, DiffOptions::default()).diff;
        let applied = apply(&a, &d, &b).unwrap();
        assert!(diff(&applied, &b, DiffOptions::default()).diff.is_empty());
        assert_eq!(applied.services[1].queue_capacity, None);
    }
}
