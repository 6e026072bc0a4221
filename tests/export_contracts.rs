//! The chaos experiments and contracts pass the real programs that consume them: `chaos validate` (Chaos Toolkit,
//! with chaostoolkit-kubernetes for the cluster actions), the Chaos Mesh CRD schemas (closed, as a strict apply
//! reads them), the Istio CRD models (fault routes), `@asyncapi/parser` (no error diagnostics),
//! `openapi-spec-validator` and `protoc`. Every sample is exported as it is, and the hostile-names design with a
//! planned fault of every kind on services of every protocol; each check is shown to fail on a broken file.
//!
//! `.ci/run` installs every tool and sets `SYNCOPATE_REQUIRE_TOOLS=1`, so in CI a missing tool fails its test;
//! elsewhere the test says it skipped.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{broken_copy, every_file_passes_and_a_broken_one_fails, python_with, report};

use syncopate::export::{self, Target, chaos};
use syncopate::model::{self, Design, Fault, FaultKind, ServiceId};

fn require_tools() -> bool {
    std::env::var_os("SYNCOPATE_REQUIRE_TOOLS").is_some()
}

fn skipped(what: &str) {
    assert!(
        !require_tools(),
        "{what} is required (SYNCOPATE_REQUIRE_TOOLS is set) but was not found"
    );
    println!("skipped: {what} is not installed");
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The hostile design's service with the longest id (63 characters).
const LONG_ID: &str = "sxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx9";

/// The hostile-names design with a planned fault of every kind, on services that speak HTTP, gRPC, TCP and AMQP,
/// overlapping in time, one without an end.
fn hostile_with_faults() -> Design {
    let mut design =
        model::load_file(&root().join("tests/designs/hostile-names.syncopate")).unwrap();
    let fault = |service: &str, kind: FaultKind, start_s: f64, end_s: Option<f64>| Fault {
        service: ServiceId::new(service),
        kind,
        start_s,
        end_s,
        factor: (kind == FaultKind::Slow).then_some(4.0),
        error_rate: (kind == FaultKind::Errors).then_some(0.3),
    };
    design.faults = vec![
        fault("cart", FaultKind::Errors, 5.0, Some(15.0)),
        fault("mailer", FaultKind::Slow, 10.0, Some(30.0)),
        fault("cart-db", FaultKind::Down, 12.5, Some(20.0)),
        fault(LONG_ID, FaultKind::Hang, 0.0, None),
        fault("catalog", FaultKind::Errors, 25.0, None),
        fault("catalog", FaultKind::Down, 40.0, Some(45.0)),
    ];
    let problems = model::validate(&design);
    assert!(problems.is_empty(), "{problems:?}");
    design
}

/// Every sample as it is, and the hostile design with faults.
fn designs() -> Vec<(String, Design)> {
    let mut designs: Vec<(String, Design)> = common::sample_paths()
        .into_iter()
        .map(|path| {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            (name, model::load_file(&path).unwrap())
        })
        .collect();
    designs.push(("hostile-with-faults".to_owned(), hostile_with_faults()));
    // Neither faults nor SLOs: the experiment still runs (a harmless probe), with no hypothesis.
    let mut bare = designs[0].1.clone();
    bare.faults.clear();
    bare.flows.iter_mut().for_each(|f| f.slo_p99_ms = None);
    designs.push(("no-faults-no-slo".to_owned(), bare));
    // Faults outside the cluster: on a client (nothing in a cluster stands for it) and on an external service of
    // every kind (made on its callers' traffic to it).
    let mut outside = model::load_file(&root().join("samples/iot-ingest.syncopate")).unwrap();
    let fault = |service: &str, kind: FaultKind, start_s: f64, end_s: f64| Fault {
        service: ServiceId::new(service),
        kind,
        start_s,
        end_s: Some(end_s),
        factor: (kind == FaultKind::Slow).then_some(3.0),
        error_rate: (kind == FaultKind::Errors).then_some(0.25),
    };
    outside.faults = vec![
        fault("devices", FaultKind::Down, 1.0, 3.0),
        fault("pager", FaultKind::Down, 1.0, 2.0),
        fault("pager", FaultKind::Errors, 3.0, 4.0),
        fault("pager", FaultKind::Hang, 5.0, 6.0),
        fault("pager", FaultKind::Slow, 7.0, 8.0),
    ];
    assert!(model::validate(&outside).is_empty());
    designs.push(("faults-outside-the-cluster".to_owned(), outside));
    // Call ids that collide once a format's characters are applied (`x-y`, `x_y`, `xY`; `ñ`, `ü`), that hold a
    // format's syntax (`a{b}`, `a/b`, `a#b`, `~x`), or that take a generated name (`pollStatus`).
    designs.push((
        "awkward-call-ids".to_owned(),
        model::load_file(&root().join("tests/designs/awkward-call-ids.syncopate")).unwrap(),
    ));
    designs
}

/// Writes the files under `dir/<design>/`, returning the paths written.
fn write(dir: &Path, design_name: &str, files: &[export::ExportedFile]) -> Vec<PathBuf> {
    files
        .iter()
        .map(|file| {
            let path = dir.join(design_name).join(&file.path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &file.contents).unwrap();
            path
        })
        .collect()
}

fn write_target(dir: &Path, target: Target) -> Vec<PathBuf> {
    let mut written = Vec::new();
    for (name, design) in designs() {
        let files = export::export(&design, target);
        assert!(!files.is_empty(), "{name} exports nothing for {target}");
        written.extend(write(dir, &name, &files));
    }
    written
}

#[test]
fn chaos_toolkit_validates_every_experiment_for_a_cluster_and_for_the_emulator() {
    if !common::installed("chaos") {
        return;
    }
    // The cluster actions name chaostoolkit-kubernetes' functions, which `chaos validate` imports.
    if python_with("chaosk8s", "chaostoolkit-kubernetes").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut experiments = Vec::new();
    for (name, design) in designs() {
        for (runner, folder) in [
            (chaos::ChaosRunner::Cluster, "cluster"),
            (chaos::ChaosRunner::Emulator, "emulator"),
        ] {
            let written = write(
                &dir.path().join(folder),
                &name,
                &chaos::files(&design, runner),
            );
            experiments.extend(
                written
                    .into_iter()
                    .filter(|p| p.ends_with("experiment.json")),
            );
        }
    }
    let validate = |experiment: &Path| {
        Command::new("chaos")
            .args(["--no-log-file", "validate"])
            .arg(experiment.file_name().unwrap())
            .current_dir(experiment.parent().unwrap())
            .output()
            .unwrap()
    };
    for experiment in &experiments {
        let out = validate(experiment);
        assert!(
            out.status.success(),
            "{}: {}",
            experiment.display(),
            report("chaos validate", &out)
        );
    }
    // The hostile design's experiment holds its faults in time order, each started once and cleared by a rollback.
    let hostile = dir
        .path()
        .join("emulator/hostile-with-faults/chaos/experiment.json");
    let experiment: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&hostile).unwrap()).unwrap();
    let starts: Vec<&str> = experiment["method"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["provider"]["arguments"]["id"].as_str())
        .collect();
    assert_eq!(starts.len(), 6, "{starts:?}");
    assert!(
        starts[0].starts_with("01-sxxx") && starts[0].ends_with("-hang") && starts[0].len() <= 63
    );
    assert_eq!(
        starts[1..],
        [
            "02-cart-errors",
            "03-mailer-slow",
            "04-cart-db-down",
            "05-catalog-errors",
            "06-catalog-down"
        ]
    );
    assert_eq!(experiment["rollbacks"].as_array().unwrap().len(), 6);
    let title = experiment["title"].as_str().unwrap();
    // `$` doubled: Chaos Toolkit substitutes `${...}` in the title, and `$$` is its escape for a plain `$`.
    assert!(title.contains("injected: ls # $${HOME} $$(id)"), "{title}");
    // A broken experiment (a probe without its provider's type) is refused.
    let broken = broken_copy(&hostile, "\"type\": \"http\"", "\"type\": \"htp\"");
    let out = validate(&broken);
    assert!(
        !out.status.success(),
        "a broken experiment was accepted: {}",
        report("chaos", &out)
    );
}

#[test]
fn chaos_mesh_resources_match_their_crd_schemas_strictly() {
    let Some(python) = python_with("jsonschema, yaml", "jsonschema and PyYAML") else {
        return;
    };
    let schemas = root().join("../shared/schemas/chaos-mesh");
    if !schemas.join("podchaos.yaml").exists() {
        skipped("the Chaos Mesh CRD schemas (../shared/schemas/chaos-mesh)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<PathBuf> = write_target(dir.path(), Target::Chaos)
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("/chaos-mesh/"))
        .collect();
    // The hostile design's six faults: a resource each and the workflow; every kind of chaos is among them.
    let kinds: Vec<String> = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .flat_map(|t| {
            t.lines()
                .filter(|l| l.starts_with("kind: "))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    for kind in ["PodChaos", "NetworkChaos", "HTTPChaos", "Workflow"] {
        assert!(
            kinds.iter().any(|k| k.ends_with(kind)),
            "no {kind} among {kinds:?}"
        );
    }
    let script = root().join("tests/tools/validate_chaos_mesh.py");
    let validate = |paths: &[PathBuf]| {
        Command::new(&python)
            .arg(&script)
            .arg(&schemas)
            .args(paths)
            .output()
            .unwrap()
    };
    let out = validate(&files);
    assert!(
        out.status.success(),
        "{}",
        report("validate_chaos_mesh.py", &out)
    );
    let containing = |text: &str| {
        files
            .iter()
            .find(|f| std::fs::read_to_string(f).unwrap().contains(text))
            .unwrap()
    };
    for (file, from, to, what) in [
        (
            containing("kind: NetworkChaos"),
            "direction: to",
            "direktion: to",
            "an unknown Chaos Mesh field",
        ),
        (
            containing("kind: Workflow"),
            "action: delay",
            "action: dilly",
            "a workflow's bad chaos spec",
        ),
    ] {
        let broken = broken_copy(file, from, to);
        assert!(!validate(&[broken]).status.success(), "{what} was accepted");
    }
}

#[test]
fn istio_crd_models_accept_every_fault_route() {
    let Some(python) = python_with(
        "cloudcoil.models.istio.networking.v1",
        "cloudcoil-models-istio",
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<PathBuf> = write_target(dir.path(), Target::Chaos)
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("/istio-faults/"))
        .collect();
    let texts: String = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    for what in [
        "httpStatus: 500",
        "grpcStatus: INTERNAL",
        "fixedDelay:",
        "value: 30.0",
    ] {
        assert!(texts.contains(what), "no fault route has {what}");
    }
    let script = root().join("tests/tools/validate_istio.py");
    let out = Command::new(&python)
        .arg(&script)
        .args(&files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        report("validate_istio.py", &out)
    );
    let broken = broken_copy(&files[0], "percentage:", "percentag:");
    let out = Command::new(&python)
        .arg(&script)
        .arg(&broken)
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "an unknown Istio fault field was accepted"
    );
}

/// Node and the folder holding `@asyncapi/parser` (`SYNCOPATE_NODE_MODULES`, else the CI tools' folder).
fn asyncapi_parser() -> Option<PathBuf> {
    let modules = std::env::var_os("SYNCOPATE_NODE_MODULES").map_or_else(
        || {
            let cache = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
                .unwrap_or_default();
            cache.join("syncopate-ci-tools/node_modules")
        },
        PathBuf::from,
    );
    if !common::installed("node") {
        return None;
    }
    if !modules.join("@asyncapi/parser").exists() {
        skipped(&format!("@asyncapi/parser (in {})", modules.display()));
        return None;
    }
    Some(modules)
}

#[test]
fn the_asyncapi_parser_accepts_every_document_and_reads_topics_as_text() {
    let Some(modules) = asyncapi_parser() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let files = write_target(dir.path(), Target::Asyncapi);
    let script = root().join("tests/tools/validate_asyncapi.mjs");
    let run = |paths: &[PathBuf]| {
        Command::new("node")
            .arg(&script)
            .args(paths)
            .env("NODE_PATH", &modules)
            .output()
            .unwrap()
    };
    let out = run(&files);
    assert!(out.status.success(), "{}", report("@asyncapi/parser", &out));
    // The hostile topics come back as the design's text: a wildcard-looking key, and a topic with braces kept as
    // an extension rather than read as a parameter.
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("address \"cart.*\""), "{said}");
    let hostile = files
        .iter()
        .find(|f| f.to_string_lossy().contains("hostile-with-faults"))
        .unwrap();
    let text = std::fs::read_to_string(hostile).unwrap();
    assert!(!text.contains("\ninjected"), "a name broke a line:\n{text}");
    // A polling flow's messages carry their request's number as the correlation id.
    let travel = files
        .iter()
        .find(|f| f.to_string_lossy().contains("travel-booking"))
        .unwrap();
    assert!(
        std::fs::read_to_string(travel)
            .unwrap()
            .contains("correlationId")
    );
    let broken = broken_copy(hostile, "action: send", "action: sned");
    let out = run(&[broken]);
    assert!(
        !out.status.success(),
        "a broken AsyncAPI document was accepted"
    );
}

#[test]
fn openapi_spec_validator_and_protoc_accept_every_contract() {
    let openapi_ok = common::installed("openapi-spec-validator");
    let protoc_ok = common::installed("protoc");
    let dir = tempfile::tempdir().unwrap();
    let files = write_target(dir.path(), Target::Openapi);
    let (yaml, proto): (Vec<&PathBuf>, Vec<&PathBuf>) = files
        .iter()
        .partition(|f| f.extension().is_some_and(|e| e == "yaml"));
    assert!(!yaml.is_empty() && !proto.is_empty());
    let yaml: Vec<PathBuf> = yaml.into_iter().cloned().collect();
    let proto: Vec<PathBuf> = proto.into_iter().cloned().collect();
    if openapi_ok {
        every_file_passes_and_a_broken_one_fails(
            &yaml,
            ("responses:", "responzes:"),
            "openapi-spec-validator",
            |file| {
                Command::new("openapi-spec-validator")
                    .arg(file)
                    .output()
                    .unwrap()
            },
        );
        // The polling flow's entry answers 202 with Location and Retry-After, and has its status endpoint.
        let polled: String = yaml
            .iter()
            .filter(|f| f.to_string_lossy().contains("travel-booking"))
            .map(|f| std::fs::read_to_string(f).unwrap())
            .collect();
        for what in ["'202':", "Retry-After", "Location", "/status/{request}"] {
            assert!(
                polled.contains(what),
                "travel-booking's OpenAPI has no {what}"
            );
        }
    }
    if protoc_ok {
        every_file_passes_and_a_broken_one_fails(&proto, ("  rpc ", "  rpx "), "protoc", |file| {
            Command::new("protoc")
                .arg("-I")
                .arg(file.parent().unwrap())
                .arg("--descriptor_set_out=/dev/null")
                .arg(file)
                .output()
                .unwrap()
        });
    }
}

#[test]
fn export_all_leaves_the_chaos_and_contract_targets_out_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_syncopate"))
        .args([
            "export",
            "samples/payment-guarded.syncopate",
            "--target",
            "all",
            "-o",
        ])
        .arg(dir.path())
        .current_dir(root())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", report("export all", &out));
    assert!(!dir.path().join("chaos").exists());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--target chaos"));
    let out = Command::new(env!("CARGO_BIN_EXE_syncopate"))
        .args([
            "export",
            "samples/payment-guarded.syncopate",
            "--target",
            "openapi",
            "--for-emulator",
        ])
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        report("--for-emulator with openapi", &out)
    );
}

/// Collects every key of a JSON value.
fn keys(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, inner) in map {
                out.push(key.clone());
                keys(inner, out);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| keys(i, out)),
        _ => {}
    }
}

#[test]
fn pyyaml_reads_the_hostile_names_of_every_new_file_as_text_never_as_keys() {
    let Some(python) = python_with("yaml", "PyYAML") else {
        return;
    };
    let design = hostile_with_faults();
    let dir = tempfile::tempdir().unwrap();
    let mut yaml = Vec::new();
    let mut json_files = Vec::new();
    for target in Target::ON_REQUEST {
        for path in write(dir.path(), "hostile", &export::export(&design, target)) {
            match path.extension().and_then(|e| e.to_str()) {
                Some("yaml") => yaml.push(path),
                Some("json") => json_files.push(path),
                _ => {}
            }
        }
    }
    let out = Command::new(&python)
        .arg(root().join("tests/tools/read_yaml.py"))
        .args(&yaml)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", report("read_yaml.py", &out));
    let mut read: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for path in &json_files {
        let value: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        read[path.to_string_lossy().as_ref()] = value;
    }
    let mut found = Vec::new();
    keys(&read, &mut found);
    let injected: Vec<&String> = found.iter().filter(|k| k.contains("injected")).collect();
    assert!(injected.is_empty(), "names became keys: {injected:?}");
    // The topics come back exactly as the design holds them, as channel addresses (or the extension for braces).
    let asyncapi = &read[dir
        .path()
        .join("hostile/asyncapi/asyncapi.yaml")
        .to_string_lossy()
        .as_ref()][0];
    let addresses: Vec<&str> = asyncapi["channels"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(|c| c["address"].as_str().or(c["x-syncopate-address"].as_str()))
        .collect();
    for topic in ["cart.*", "cart.paid", "cart/checked out #1 ${x}"] {
        assert!(
            addresses.contains(&topic),
            "{topic:?} not among {addresses:?}"
        );
    }
}
