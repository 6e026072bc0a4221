//! Design review (`syncopate diff`, `model::diff`, `review`): exact change sets and field paths on edited samples
//! and generated designs, the diff's inverse, the git form, the Markdown bound, and `--simulate` equal to
//! `simulate --json` on each side.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use proptest::prelude::*;
use serde_json::{Value, json};
use syncopate::model::diff::{DiffOptions, apply, diff};
use syncopate::model::{self, CallMode, Design, Edge, Fault, FaultKind, Service, generate};
use syncopate::review;

fn syncopate_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_syncopate"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn samples() -> Vec<PathBuf> {
    common::sample_paths()
}

/// JSON values equal with numbers compared as numbers (`2000` and `2000.0` are one value).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// Edits every sample the same way and checks the JSON names exactly what was edited.
#[test]
fn edited_samples_report_exactly_their_edits() {
    let dir = tempfile::tempdir().unwrap();
    for path in samples() {
        let old = model::load_file(&path).unwrap();
        let mut new = old.clone();
        new.services[0].replicas += 1;
        new.services[1].position = Some([1234.0, 567.0]);
        let removed_edge = new.edges.iter().rposition(|e| {
            e.compensates.is_none() && {
                let id = &e.id;
                !new.edges.iter().any(|o| o.compensates.as_ref() == Some(id))
            }
        });
        let removed_edge = new.edges.remove(removed_edge.unwrap()).id.0;
        new.services.push(Service::new("zz-added"));
        let sync = new
            .edges
            .iter_mut()
            .find(|e| e.mode == CallMode::Sync)
            .unwrap();
        let sync_id = sync.id.0.clone();
        let (path_changed, old_value, new_value) = match &mut sync.retry {
            Some(retry) => {
                let before = retry.max_retries;
                retry.max_retries += 1;
                ("retry.max_retries", json!(before), json!(before + 1))
            }
            None => {
                let before = sync.timeout_ms;
                sync.timeout_ms = Some(before.unwrap_or(100.0) + 1.0);
                (
                    "timeout_ms",
                    json!(before),
                    json!(before.unwrap_or(100.0) + 1.0),
                )
            }
        };
        new.faults.push(Fault {
            service: new.services[0].id.clone(),
            kind: FaultKind::Down,
            start_s: 3.0,
            end_s: Some(4.0),
            factor: None,
            error_rate: None,
        });
        assert!(model::validate(&new).is_empty(), "{}", path.display());
        let new_path = dir.path().join("new.syncopate");
        model::save_file(&new_path, &new).unwrap();

        let output = syncopate_in(
            dir.path(),
            &["diff", path.to_str().unwrap(), "new.syncopate", "--json"],
        );
        assert_eq!(output.status.code(), Some(1), "{}", path.display());
        let report: Value = serde_json::from_slice(&output.stdout).unwrap();
        let name = path.display();
        assert_eq!(ids(&report["services"]["added"]), ["zz-added"], "{name}");
        assert!(ids(&report["services"]["removed"]).is_empty(), "{name}");
        let changed = report["services"]["changed"].as_object().unwrap();
        assert_eq!(
            changed.keys().collect::<Vec<_>>(),
            [old.services[0].id.as_str()],
            "{name}: the moved service is not changed"
        );
        assert_eq!(
            changed[old.services[0].id.as_str()],
            json!({"replicas": [old.services[0].replicas, old.services[0].replicas + 1]}),
            "{name}"
        );
        assert_eq!(ids(&report["edges"]["removed"]), [removed_edge], "{name}");
        assert!(ids(&report["edges"]["added"]).is_empty(), "{name}");
        let edge_changes = report["edges"]["changed"].as_object().unwrap();
        assert_eq!(edge_changes.len(), 1, "{name}: {edge_changes:?}");
        let expected = json!({path_changed: [old_value, new_value]});
        assert!(
            same(&edge_changes[&sync_id], &expected),
            "{name}: {}",
            edge_changes[&sync_id]
        );
        assert_eq!(
            ids(&report["faults"]["added"]),
            [format!("{}/down@3", old.services[0].id)],
            "{name}"
        );
        assert!(report["flows"]["changed"].as_object().unwrap().is_empty());
        assert!(
            report["settings"]["changed"]
                .as_object()
                .unwrap()
                .is_empty()
        );
        assert!(report.get("simulated").is_none());

        // The same file against itself: exit 0, and a move alone is no change unless --positions.
        let same = syncopate_in(
            dir.path(),
            &["diff", path.to_str().unwrap(), path.to_str().unwrap()],
        );
        assert_eq!(same.status.code(), Some(0), "{name}");
    }
}

#[test]
fn positions_count_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let old_path = samples().remove(0);
    let mut moved = model::load_file(&old_path).unwrap();
    moved.services[0].position = Some([-500.0, 42.0]);
    model::save_file(&dir.path().join("moved.syncopate"), &moved).unwrap();
    let old = old_path.to_str().unwrap();
    let plain = syncopate_in(dir.path(), &["diff", old, "moved.syncopate"]);
    assert_eq!(plain.status.code(), Some(0));
    let with = syncopate_in(
        dir.path(),
        &["diff", old, "moved.syncopate", "--positions", "--json"],
    );
    assert_eq!(with.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&with.stdout).unwrap();
    let service = moved.services[0].id.as_str();
    assert!(same(
        &report["services"]["changed"][service]["position"][1],
        &json!([-500, 42])
    ));
}

#[test]
fn usage_errors_and_unreadable_inputs_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let sample = samples().remove(0);
    let sample = sample.to_str().unwrap();
    for args in [
        vec!["diff", sample],
        vec!["diff", sample, sample, "--format", "yaml"],
        vec!["diff", sample, sample, "--seed", "3"],
        vec!["diff", sample, "missing.syncopate"],
        vec!["diff", sample, sample, "--simulate", "--duration-s", "-1"],
    ] {
        let output = syncopate_in(dir.path(), &args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(!output.stderr.is_empty(), "{args:?}");
    }
    let missing = syncopate_in(dir.path(), &["diff", sample, "missing.syncopate"]);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("missing.syncopate"));
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

#[test]
fn reads_a_committed_revision_from_git() {
    if !common::installed("git") {
        return;
    }
    let repo = tempfile::tempdir().unwrap();
    let sample = samples().remove(0);
    std::fs::create_dir(repo.path().join("designs")).unwrap();
    let file = repo.path().join("designs/shop.syncopate");
    std::fs::copy(&sample, &file).unwrap();
    git(repo.path(), &["init", "-q"]);
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-q", "-m", "first"]);
    let mut design = model::load_file(&file).unwrap();
    design.services[0].replicas += 2;
    model::save_file(&file, &design).unwrap();

    let output = syncopate_in(
        repo.path(),
        &[
            "diff",
            "HEAD:designs/shop.syncopate",
            "designs/shop.syncopate",
            "--json",
        ],
    );
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        report["services"]["changed"][design.services[0].id.as_str()]["replicas"][1],
        json!(design.services[0].replicas)
    );
    // From the file's own folder, `./` as git reads it.
    let inner = syncopate_in(
        &repo.path().join("designs"),
        &["diff", "HEAD:./shop.syncopate", "shop.syncopate"],
    );
    assert_eq!(inner.status.code(), Some(1));
    let unchanged = syncopate_in(
        repo.path(),
        &[
            "diff",
            "HEAD:designs/shop.syncopate",
            sample.to_str().unwrap(),
        ],
    );
    assert_eq!(unchanged.status.code(), Some(0));

    let unknown = syncopate_in(
        repo.path(),
        &[
            "diff",
            "nope~3:designs/shop.syncopate",
            "designs/shop.syncopate",
        ],
    );
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown revision"));
    let absent = syncopate_in(
        repo.path(),
        &[
            "diff",
            "HEAD:designs/none.syncopate",
            "designs/shop.syncopate",
        ],
    );
    assert_eq!(absent.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&absent.stderr).contains("not in revision"));
    let outside = tempfile::tempdir().unwrap();
    let no_repo = syncopate_in(
        outside.path(),
        &["diff", "HEAD:shop.syncopate", file.to_str().unwrap()],
    );
    assert_eq!(no_repo.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&no_repo.stderr).contains("not inside a git repository"),
        "{}",
        String::from_utf8_lossy(&no_repo.stderr)
    );
}

#[test]
fn markdown_stays_under_the_comment_bound_for_a_1000_service_change() {
    let old = generate::layered_design(1000, 2500, 11);
    let mut new = old.clone();
    for (i, service) in new.services.iter_mut().enumerate() {
        service.replicas += 1;
        service.name = Some(format!(
            "renamed service | number {i} with a long name `to` <b>fill</b>"
        ));
    }
    new.edges.retain(|e| !e.id.as_str().ends_with('7'));
    for i in 0..500 {
        new.services.push(Service::new(format!("added-{i}")));
    }
    let review = review::review(("old", &old), ("new", &new), DiffOptions::default());
    let markdown = review::render::markdown(&review);
    assert!(
        markdown.chars().count() <= review::render::MARKDOWN_MAX_CHARS,
        "{}",
        markdown.len()
    );
    assert!(markdown.contains("more (`syncopate diff --json` lists all)"));
    assert!(
        markdown.contains("1000 services changed"),
        "{}",
        &markdown[..400]
    );
    // Names from the design cannot break the table or inject HTML.
    assert!(!markdown.contains("<b>"));
    assert!(!markdown.contains(" | number"));
}

#[test]
fn simulate_equals_simulate_json_on_each_side() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["payment-guarded", "ecommerce"] {
        let old_path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/samples"))
            .join(format!("{name}.syncopate"));
        let mut new = model::load_file(&old_path).unwrap();
        // A variant: the first sync call with retries retries once more, and the busiest flow doubles.
        if let Some(edge) = new.edges.iter_mut().find(|e| e.retry.is_some()) {
            edge.retry.as_mut().unwrap().max_retries += 1;
        }
        new.flows[0].rate_rps *= 2.0;
        let new_path = dir.path().join(format!("{name}-new.syncopate"));
        model::save_file(&new_path, &new).unwrap();
        let (old_arg, new_arg) = (old_path.to_str().unwrap(), new_path.to_str().unwrap());
        let run = ["--seed", "5", "--duration-s", "12"];
        let review = syncopate_in(
            dir.path(),
            &[
                &["diff", old_arg, new_arg, "--json", "--simulate"][..],
                &run,
            ]
            .concat(),
        );
        assert_eq!(
            review.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&review.stderr)
        );
        let review: Value = serde_json::from_slice(&review.stdout).unwrap();
        for (side, path) in [(0, old_arg), (1, new_arg)] {
            let out = syncopate_in(
                dir.path(),
                &[&["simulate", path, "--json"][..], &run].concat(),
            );
            let report: Value = serde_json::from_slice(&out.stdout).unwrap();
            let flows = report["flows"].as_object().unwrap();
            assert_eq!(
                review["simulated"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .collect::<BTreeSet<_>>(),
                flows.keys().collect::<BTreeSet<_>>()
            );
            for (id, flow) in flows {
                let got = &review["simulated"][id];
                assert_eq!(got["goodput_rps"][side], flow["goodput_rps"], "{name} {id}");
                assert_eq!(
                    got["p99_ms"][side], flow["latency_ms"]["p99"],
                    "{name} {id}"
                );
                assert_eq!(
                    got["settle_p99_ms"][side], flow["settle_ms"]["p99"],
                    "{name} {id}"
                );
                let (done, failed) = (
                    flow["completed"].as_f64().unwrap(),
                    flow["failed"].as_f64().unwrap(),
                );
                let rate = if done + failed > 0.0 {
                    failed / (done + failed)
                } else {
                    0.0
                };
                assert_eq!(
                    got["error_rate"][side].as_f64().unwrap(),
                    rate,
                    "{name} {id}"
                );
            }
        }
        assert!(same(
            &review["simulated_with"],
            &json!({"duration_s": 12, "seed": 5})
        ));
    }
}

/// A generated design and a copy changed by the strategy's choices, with what was changed.
fn edited(
    services: usize,
    seed: u64,
    bump: &[usize],
    drop_edges: &[usize],
    added: usize,
    timeouts: &[(usize, u16)],
) -> (
    Design,
    Design,
    BTreeSet<String>,
    BTreeSet<String>,
    BTreeSet<String>,
) {
    let old = generate::layered_design(services, services * 2, seed);
    let mut new = old.clone();
    let mut bumped = BTreeSet::new();
    for &i in bump {
        let service = &mut new.services[i % services];
        service.replicas += 1;
        bumped.insert(service.id.0.clone());
    }
    let mut dropped = BTreeSet::new();
    for &i in drop_edges {
        if !new.edges.is_empty() {
            let index = i % new.edges.len();
            dropped.insert(new.edges.remove(index).id.0);
        }
    }
    let mut retimed = BTreeSet::new();
    for &(i, ms) in timeouts {
        let count = new.edges.len();
        if count == 0 {
            break;
        }
        let edge = &mut new.edges[i % count];
        if edge.mode == CallMode::Sync && edge.timeout_ms != Some(f64::from(ms) + 1.0) {
            edge.timeout_ms = Some(f64::from(ms) + 1.0);
            retimed.insert(edge.id.0.clone());
        }
    }
    for i in 0..added {
        new.services.push(Service::new(format!("new-{i}")));
        new.edges.push(Edge::new(
            old.services[0].id.0.clone(),
            format!("new-{i}"),
            CallMode::Async,
        ));
    }
    // A timeout set back to its old value is no change.
    retimed.retain(|id| {
        old.edge(id).and_then(|e| e.timeout_ms) != new.edge(id).and_then(|e| e.timeout_ms)
    });
    (old, new, bumped, dropped, retimed)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn diff_is_exact_and_its_inverse_gives_the_new_design(
        services in 3usize..40,
        seed in any::<u64>(),
        bump in proptest::collection::vec(0usize..40, 0..5),
        drop_edges in proptest::collection::vec(0usize..200, 0..4),
        added in 0usize..3,
        timeouts in proptest::collection::vec((0usize..200, 1u16..5000), 0..4),
    ) {
        let (old, new, bumped, dropped, retimed) = edited(services, seed, &bump, &drop_edges, added, &timeouts);
        prop_assert!(diff(&old, &old, DiffOptions::default()).diff.is_empty());
        prop_assert!(diff(&new, &new, DiffOptions::default()).diff.is_empty());
        let d = diff(&old, &new, DiffOptions::default()).diff;
        let changed_services: BTreeSet<String> = d.services.changed.keys().cloned().collect();
        prop_assert_eq!(changed_services, bumped);
        for fields in d.services.changed.values() {
            prop_assert_eq!(fields.keys().collect::<Vec<_>>(), vec!["replicas"]);
        }
        let added_services: BTreeSet<String> = (0..added).map(|i| format!("new-{i}")).collect();
        prop_assert_eq!(d.services.added.iter().cloned().collect::<BTreeSet<_>>(), added_services);
        // A dropped call whose id comes back as an added one (same ends) is a change, not a removal.
        let removed: BTreeSet<String> = d.edges.removed.iter().cloned().collect();
        prop_assert!(removed.is_subset(&dropped));
        let changed_edges: BTreeSet<String> = d.edges.changed.keys().cloned().collect();
        prop_assert!(retimed.is_subset(&changed_edges));
        for (id, fields) in &d.edges.changed {
            if retimed.contains(id) {
                prop_assert!(fields.contains_key("timeout_ms"));
            }
        }
        let applied = apply(&old, &d, &new).map_err(TestCaseError::fail)?;
        prop_assert!(diff(&applied, &new, DiffOptions::default()).diff.is_empty());
        let ids = |d: &Design| d.services.iter().map(|s| s.id.0.clone()).collect::<BTreeSet<_>>();
        prop_assert_eq!(ids(&applied), ids(&new));
    }
}
