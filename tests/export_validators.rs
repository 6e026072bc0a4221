//! Every exported file passes the real program that would consume it: Envoy (`envoy --mode validate`), the Istio
//! CRD models with unknown fields forbidden, `kubernetes-validate --strict`, `docker-compose config` and the
//! compose-spec schema, `nginx -t`, and a real RabbitMQ server importing the definitions. Each check is also shown
//! to fail on a deliberately broken file, so a check that cannot fail would be caught.
//!
//! `.ci/run` installs every tool and sets `SYNCOPATE_REQUIRE_TOOLS=1`, so in CI a missing tool fails its test;
//! elsewhere the test says it skipped.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::{broken_copy, every_file_passes_and_a_broken_one_fails, python_with, report};
use std::time::{Duration, Instant};

use syncopate::export::{self, Target};
use syncopate::model::{self, Design};

fn require_tools() -> bool {
    std::env::var_os("SYNCOPATE_REQUIRE_TOOLS").is_some()
}

fn which(name: &str) -> Option<PathBuf> {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .ok()?;
    let path = String::from_utf8_lossy(&found.stdout).trim().to_owned();
    (!path.is_empty()).then(|| PathBuf::from(path))
}

/// The tool, or `None` after saying the test skipped (failing instead when tools are required).
fn tool(name: &str) -> Option<PathBuf> {
    let found = which(name);
    if found.is_none() {
        assert!(
            !require_tools(),
            "{name} is required (SYNCOPATE_REQUIRE_TOOLS is set) but was not found"
        );
        println!("skipped: {name} is not installed");
    }
    found
}

fn designs() -> Vec<(String, Design)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths: Vec<PathBuf> = std::fs::read_dir(root.join("samples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    paths.push(root.join("tests/designs/hostile-names.syncopate"));
    // Call ids holding the syntax of the formats (route and cluster names, comments).
    paths.push(root.join("tests/designs/awkward-call-ids.syncopate"));
    paths
        .into_iter()
        .map(|path| {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            (name, model::load_file(&path).unwrap())
        })
        .collect()
}

/// Writes one target's files of every design under `dir/<design>/`, returning the paths written.
fn write_target(dir: &Path, target: Target) -> Vec<PathBuf> {
    let mut written = Vec::new();
    for (name, design) in designs() {
        for file in export::export(&design, target) {
            let path = dir.join(&name).join(&file.path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &file.contents).unwrap();
            written.push(path);
        }
    }
    assert!(!written.is_empty(), "no design exports {target}");
    written
}

#[test]
fn envoy_validates_every_bootstrap() {
    let Some(envoy) = tool("envoy") else { return };
    let dir = tempfile::tempdir().unwrap();
    let files = write_target(dir.path(), Target::Envoy);
    let validate = |file: &Path| {
        Command::new(&envoy)
            .args([
                "--mode",
                "validate",
                "--disable-hot-restart",
                "--log-level",
                "error",
                "-c",
            ])
            .arg(file)
            .output()
            .unwrap()
    };
    every_file_passes_and_a_broken_one_fails(
        &files,
        ("STRICT_DNS", "STRICT_DNZ"),
        "Envoy",
        validate,
    );
}

#[test]
fn istio_crd_models_accept_every_resource_and_no_unknown_field() {
    let Some(python) = python_with(
        "cloudcoil.models.istio.networking.v1",
        "cloudcoil-models-istio",
    ) else {
        return;
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/validate_istio.py");
    let dir = tempfile::tempdir().unwrap();
    let files = write_target(dir.path(), Target::Istio);
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
    let with_timeout = files
        .iter()
        .find(|f| {
            std::fs::read_to_string(f)
                .unwrap()
                .contains("perTryTimeout:")
        })
        .unwrap();
    let broken = broken_copy(with_timeout, "perTryTimeout:", "perTryTimout:");
    let out = Command::new(&python)
        .arg(&script)
        .arg(&broken)
        .output()
        .unwrap();
    assert!(!out.status.success(), "an unknown Istio field was accepted");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("perTryTimout"),
        "{}",
        report("broken", &out)
    );
}

#[test]
fn kubernetes_validate_accepts_every_manifest_strictly() {
    let Some(validator) = tool("kubernetes-validate") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let files = write_target(dir.path(), Target::Kubernetes);
    let out = Command::new(&validator)
        .arg("--strict")
        .args(&files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        report("kubernetes-validate", &out)
    );
    let broken = broken_copy(&files[0], "replicas:", "replicaz:");
    let out = Command::new(&validator)
        .arg("--strict")
        .arg(&broken)
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "kubernetes-validate accepted an unknown field"
    );
}

#[test]
fn docker_compose_and_the_compose_spec_accept_every_file() {
    let (Some(compose), Some(schema)) = (tool("docker-compose"), tool("check-jsonschema")) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let files = write_target(dir.path(), Target::Compose);
    let config = |file: &Path| {
        Command::new(&compose)
            .arg("-f")
            .arg(file)
            .args(["config", "-q"])
            .current_dir(file.parent().unwrap())
            .output()
            .unwrap()
    };
    let spec = |files: &[PathBuf]| {
        Command::new(&schema)
            .args(["--builtin-schema", "vendor.compose-spec"])
            .args(files)
            .output()
            .unwrap()
    };
    every_file_passes_and_a_broken_one_fails(
        &files,
        ("    image:", "    imagen:"),
        "docker-compose",
        config,
    );
    let out = spec(&files);
    assert!(out.status.success(), "{}", report("check-jsonschema", &out));
    let broken = broken_copy(&files[0], "    image:", "    imagen:");
    assert!(
        !spec(&[broken]).status.success(),
        "the compose spec accepted an unknown key"
    );
}

/// The host names an nginx file's upstreams name.
fn upstream_hosts(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|line| line.trim().strip_prefix("server "))
        .filter_map(|rest| rest.split(':').next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn nginx_accepts_every_gateway_config() {
    let Some(nginx) = tool("nginx") else { return };
    // nginx resolves upstream names while testing a config: the test runs it in a private mount namespace with a
    // hosts file that maps them to the loopback address (so it needs root, as CI has).
    let Some(unshare) = tool("unshare") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let files = write_target(dir.path(), Target::Nginx);
    let mut hosts = String::from("127.0.0.1 localhost\n");
    for file in &files {
        for host in upstream_hosts(&std::fs::read_to_string(file).unwrap()) {
            hosts.push_str(&format!("127.0.0.1 {host}\n"));
        }
    }
    let hosts_file = dir.path().join("hosts");
    std::fs::write(&hosts_file, hosts).unwrap();
    let test = |file: &Path| {
        let script = format!(
            "mount --bind '{}' /etc/hosts && exec '{}' -q -t -p '{}' -e stderr -c '{}'",
            hosts_file.display(),
            nginx.display(),
            dir.path().display(),
            file.display()
        );
        Command::new(&unshare)
            .args(["-m", "sh", "-c", &script])
            .output()
            .unwrap()
    };
    let probe = Command::new(&unshare)
        .args(["-m", "true"])
        .output()
        .unwrap();
    if !probe.status.success() {
        assert!(
            !require_tools(),
            "unshare -m needs root: {}",
            report("unshare", &probe)
        );
        println!("skipped: cannot make a mount namespace here (not root)");
        return;
    }
    every_file_passes_and_a_broken_one_fails(
        &files,
        ("_next_upstream_tries", "_next_upstream_triez"),
        "nginx",
        test,
    );
}

/// A RabbitMQ server of the test's own on loopback ports, stopped (with its epmd) by PID when dropped.
struct Rabbit {
    server: Child,
    epmd: Child,
    api: String,
    _dir: tempfile::TempDir,
}

impl Drop for Rabbit {
    fn drop(&mut self) {
        // The server script runs beam in its own process group: end the whole group.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.server.id())])
            .status();
        let _ = self.server.kill();
        let _ = self.server.wait();
        let _ = self.epmd.kill();
        let _ = self.epmd.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The RabbitMQ server and Erlang's port mapper (with curl for the management API), or `None` after saying the test
/// skipped (a failure when tools are required).
fn rabbitmq_programs() -> Option<(PathBuf, PathBuf)> {
    let server = PathBuf::from("/usr/lib/rabbitmq/bin/rabbitmq-server");
    let (Some(epmd), Some(_curl)) = (tool("epmd"), tool("curl")) else {
        return None;
    };
    if !server.exists() {
        assert!(
            !require_tools(),
            "rabbitmq-server is required (SYNCOPATE_REQUIRE_TOOLS is set)"
        );
        println!("skipped: rabbitmq-server is not installed");
        return None;
    }
    Some((server, epmd))
}

fn start_rabbit(server: &Path, epmd: &Path) -> Rabbit {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let (amqp, api, dist, epmd_port) = (free_port(), free_port(), free_port(), free_port());
    std::fs::write(
        dir.path().join("rabbitmq.conf"),
        format!(
            "listeners.tcp.1 = 127.0.0.1:{amqp}\nmanagement.tcp.ip = 127.0.0.1\nmanagement.tcp.port = {api}\nloopback_users = none\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("enabled_plugins"),
        "[rabbitmq_management].\n",
    )
    .unwrap();
    let epmd = Command::new(epmd)
        .args(["-address", "127.0.0.1", "-port", &epmd_port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let d = dir.path();
    let server = Command::new(server)
        .env("HOME", d)
        .env(
            "RABBITMQ_NODENAME",
            format!("syncopate-test-{api}@localhost"),
        )
        .env("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1")
        .env("RABBITMQ_DIST_PORT", dist.to_string())
        .env("ERL_EPMD_ADDRESS", "127.0.0.1")
        .env("ERL_EPMD_PORT", epmd_port.to_string())
        .env("RABBITMQ_MNESIA_BASE", d.join("mnesia"))
        .env("RABBITMQ_LOG_BASE", d.join("log"))
        .env("RABBITMQ_CONFIG_FILE", d.join("rabbitmq"))
        .env("RABBITMQ_ENABLED_PLUGINS_FILE", d.join("enabled_plugins"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let rabbit = Rabbit {
        server,
        epmd,
        api: format!("http://127.0.0.1:{api}/api"),
        _dir: dir,
    };
    let started = Instant::now();
    while !curl(&rabbit, "GET", "/overview", None).0.starts_with('2') {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "RabbitMQ did not start within 120 s"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    rabbit
}

/// One management API request; returns the HTTP status and the body.
fn curl(rabbit: &Rabbit, method: &str, path: &str, body: Option<&Path>) -> (String, String) {
    let mut command = Command::new("curl");
    command
        .args([
            "-s",
            "-m",
            "30",
            "-u",
            "guest:guest",
            "-X",
            method,
            "-w",
            "\n%{http_code}",
        ])
        .args(["-H", "content-type: application/json"]);
    if let Some(body) = body {
        command
            .arg("--data-binary")
            .arg(format!("@{}", body.display()));
    }
    let out = command
        .arg(format!("{}{path}", rabbit.api))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap_or(("", "000"));
    (status.to_owned(), body.to_owned())
}

#[test]
fn rabbitmq_imports_every_definitions_file() {
    let Some((server, epmd)) = rabbitmq_programs() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let files = write_target(dir.path(), Target::Rabbitmq);
    let rabbit = start_rabbit(&server, &epmd);
    let import = |vhost: &str, file: &Path| {
        let (status, body) = curl(&rabbit, "PUT", &format!("/vhosts/{vhost}"), None);
        assert!(
            status.starts_with('2'),
            "creating vhost {vhost}: {status} {body}"
        );
        curl(
            &rabbit,
            "POST",
            &format!("/definitions/{vhost}"),
            Some(file),
        )
    };
    for (i, file) in files.iter().enumerate() {
        // Each file in a fresh virtual host, so nothing one defines can make another pass.
        let vhost = format!("export-{i}");
        let (status, body) = import(&vhost, file);
        assert!(
            status.starts_with('2'),
            "{}: {status} {body}",
            file.display()
        );
        let expected: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        let (_, queues) = curl(&rabbit, "GET", &format!("/queues/{vhost}"), None);
        let queues: serde_json::Value = serde_json::from_str(&queues).unwrap();
        let names = |v: &serde_json::Value| -> BTreeSet<String> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|q| q["name"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(
            names(&queues),
            names(&expected["queues"]),
            "{}",
            file.display()
        );
        for queue in queues.as_array().unwrap() {
            let wanted = expected["queues"]
                .as_array()
                .unwrap()
                .iter()
                .find(|q| q["name"] == queue["name"])
                .unwrap();
            assert_eq!(
                queue["arguments"],
                wanted["arguments"],
                "{}",
                file.display()
            );
        }
        let (_, bindings) = curl(&rabbit, "GET", &format!("/bindings/{vhost}"), None);
        let bindings: serde_json::Value = serde_json::from_str(&bindings).unwrap();
        for wanted in expected["bindings"].as_array().unwrap() {
            assert!(
                bindings
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|b| b["source"] == wanted["source"]
                        && b["destination"] == wanted["destination"]
                        && b["routing_key"] == wanted["routing_key"]),
                "{}: binding {wanted} missing",
                file.display()
            );
        }
        routes_every_topic_to_exactly_its_consumers(&rabbit, &vhost, file);
    }
    let bounded = files
        .iter()
        .find(|f| {
            std::fs::read_to_string(f)
                .unwrap()
                .contains("reject-publish")
        })
        .unwrap();
    let broken = broken_copy(bounded, "reject-publish", "reject-publishing");
    let (status, _) = import("broken", &broken);
    assert!(
        status.starts_with('4'),
        "RabbitMQ accepted broken definitions: {status}"
    );
}

/// Every key of every mapping, at any depth.
fn json_keys(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, inner) in map {
                out.push(key.clone());
                json_keys(inner, out);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| json_keys(i, out)),
        _ => {}
    }
}

/// The YAML files as PyYAML reads them: `{path: [document, ...]}`.
fn read_yaml(python: &str, paths: &[PathBuf]) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/read_yaml.py");
    let out = Command::new(python)
        .arg(&script)
        .args(paths)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", report("read_yaml.py", &out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Writes the YAML files among `files` into `dir`, flat (`/` in their paths as `__`): their paths and contents.
fn write_yaml_files(dir: &Path, files: Vec<export::ExportedFile>) -> Vec<(PathBuf, String)> {
    files
        .into_iter()
        .filter(|file| file.path.ends_with(".yaml") || file.path.ends_with(".yml"))
        .map(|file| {
            let path = dir.join(file.path.replace('/', "__"));
            std::fs::write(&path, &file.contents).unwrap();
            (path, file.contents)
        })
        .collect()
}

/// PyYAML's Python (or `None`, the test skipping, when it is missing), the test design `name`, and a folder to
/// write its files in.
fn pyyaml_with_design(name: &str) -> Option<(String, Design, tempfile::TempDir)> {
    let python = python_with("yaml", "PyYAML")?;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let design = model::load_file(&root.join(format!("tests/designs/{name}.syncopate"))).unwrap();
    Some((python, design, tempfile::tempdir().unwrap()))
}

/// Every YAML file of every target, the chaos experiments and contracts too, as PyYAML (YAML 1.1, like kubectl's
/// go-yaml v2 and Envoy's loader) reads it equals what we wrote (read as YAML 1.2): a service `no`, a call `y` or
/// `1:20`, a topic `n` stay strings, where unquoted they were `false`, `true`, 80 and `false`.
#[test]
fn pyyaml_reads_every_yaml_file_as_written() {
    let Some((python, design, dir)) = pyyaml_with_design("awkward-call-ids") else {
        return;
    };
    let mut files = export::export_all(&design);
    for target in Target::ON_REQUEST {
        files.extend(export::export(&design, target));
    }
    let written = write_yaml_files(dir.path(), files);
    assert!(written.len() > 20, "{} files", written.len());
    let paths: Vec<PathBuf> = written.iter().map(|(p, _)| p.clone()).collect();
    let read = read_yaml(&python, &paths);
    for (path, contents) in &written {
        let ours: Vec<serde_json::Value> = serde_yaml_ng::Deserializer::from_str(contents)
            .map(|doc| serde::Deserialize::deserialize(doc).unwrap())
            .collect();
        assert_eq!(
            read[path.to_string_lossy().as_ref()],
            serde_json::Value::Array(ours),
            "{} reads otherwise in PyYAML",
            path.display()
        );
    }
}

#[test]
fn pyyaml_and_docker_compose_read_hostile_names_as_text_never_as_keys() {
    let Some((python, design, dir)) = pyyaml_with_design("hostile-names") else {
        return;
    };
    let paths: Vec<PathBuf> = write_yaml_files(dir.path(), export::export_all(&design))
        .into_iter()
        .map(|(path, _)| path)
        .collect();
    let read = read_yaml(&python, &paths);
    let mut keys = Vec::new();
    json_keys(&read, &mut keys);
    let injected: Vec<&String> = keys.iter().filter(|k| k.contains("injected")).collect();
    assert!(
        injected.is_empty(),
        "PyYAML read keys from names: {injected:?}"
    );
    // Names kept in values come back byte for byte (U+2028, U+2029 and U+0085 included).
    let catalog = design.service("catalog").unwrap().name.clone().unwrap();
    let kubernetes = dir.path().join("kubernetes__catalog.yaml");
    let docs = &read[kubernetes.to_string_lossy().as_ref()];
    assert_eq!(
        docs[0]["metadata"]["annotations"]["syncopate.dev/name"].as_str(),
        Some(catalog.as_str())
    );
    // So is a hostile group, which also names the namespace (cleaned to a DNS label).
    let group = design.service("catalog").unwrap().group.clone().unwrap();
    assert_eq!(
        docs[0]["metadata"]["annotations"]["syncopate.dev/group"].as_str(),
        Some(group.as_str())
    );
    assert_eq!(
        docs[0]["metadata"]["namespace"].as_str(),
        Some("shop-injected-1-id-x-e-q-q")
    );
    // docker-compose interpolates `$`: after its own reading, the label is the name exactly.
    let Some(compose) = tool("docker-compose") else {
        return;
    };
    let compose_file = dir.path().join("compose__docker-compose.yml");
    let resolved = Command::new(&compose)
        .arg("-f")
        .arg(&compose_file)
        .arg("config")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        resolved.status.success(),
        "{}",
        report("docker-compose config", &resolved)
    );
    let resolved_path = dir.path().join("resolved.yml");
    std::fs::write(&resolved_path, &resolved.stdout).unwrap();
    let resolved = read_yaml(&python, std::slice::from_ref(&resolved_path));
    let services = &resolved[resolved_path.to_string_lossy().as_ref()][0]["services"];
    // `config` prints a file Compose reads again, so its own `$` are doubled there too: read as Compose does,
    // `$$` is `$`. Had it interpolated (`${HOME}` to a path) or refused (`${X:?e}`), the text would differ.
    for id in ["cart-db", "catalog", "edge"] {
        let name = design.service(id).unwrap().name.clone().unwrap();
        let label = services[id]["labels"]["dev.syncopate.name"]
            .as_str()
            .map(|l| l.replace("$$", "$"));
        assert_eq!(
            label.as_deref(),
            Some(name.as_str()),
            "{id}'s name after docker-compose's interpolation"
        );
    }
    let group_label = services["catalog"]["labels"]["dev.syncopate.group"]
        .as_str()
        .map(|l| l.replace("$$", "$"));
    assert_eq!(group_label.as_deref(), Some(group.as_str()));
}

/// Publishes one message for every routing key the design's producers use on this broker, and checks that each
/// consumer's queue received exactly the messages of the topics the design delivers to it (all of them for a
/// delivery without a topic): a design topic holding `*` or `#` is a name, never a wildcard.
fn routes_every_topic_to_exactly_its_consumers(rabbit: &Rabbit, vhost: &str, file: &Path) {
    use syncopate::model::CallMode;
    // The file is `<dir>/<design>/rabbitmq/<broker>.definitions.json`.
    let design_name = file
        .parent()
        .and_then(Path::parent)
        .and_then(Path::file_name)
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let broker = file
        .file_name()
        .unwrap()
        .to_string_lossy()
        .trim_end_matches(".definitions.json")
        .to_owned();
    let design = designs()
        .into_iter()
        .find(|(name, _)| *name == design_name)
        .unwrap()
        .1;
    let mut published: Vec<String> = design
        .edges
        .iter()
        .filter(|e| e.to == broker.as_str() && e.mode == CallMode::Async)
        .map(|e| e.topic.clone().unwrap_or_default())
        .collect();
    published.sort();
    published.dedup();
    let body_file = file.with_extension("publish.json");
    for key in &published {
        let body = serde_json::json!({
            "properties": {}, "routing_key": key, "payload": key, "payload_encoding": "string"
        });
        std::fs::write(&body_file, body.to_string()).unwrap();
        let (status, answer) = curl(
            rabbit,
            "POST",
            &format!("/exchanges/{vhost}/{broker}/publish"),
            Some(&body_file),
        );
        assert!(
            status.starts_with('2'),
            "publishing {key:?}: {status} {answer}"
        );
    }
    for delivery in design
        .edges
        .iter()
        .filter(|e| e.from == broker.as_str() && e.mode == CallMode::Async)
    {
        let mut wanted: Vec<&String> = published
            .iter()
            .filter(|key| delivery.topic.as_ref().is_none_or(|t| t == *key))
            .collect();
        wanted.sort();
        let get =
            serde_json::json!({"count": 1000, "ackmode": "ack_requeue_false", "encoding": "auto"});
        std::fs::write(&body_file, get.to_string()).unwrap();
        let (status, answer) = curl(
            rabbit,
            "POST",
            &format!("/queues/{vhost}/{}/get", delivery.to),
            Some(&body_file),
        );
        assert!(
            status.starts_with('2'),
            "reading {}: {status} {answer}",
            delivery.to
        );
        let messages: serde_json::Value = serde_json::from_str(&answer).unwrap();
        let mut got: Vec<String> = messages
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["payload"].as_str().unwrap_or_default().to_owned())
            .collect();
        got.sort();
        // Several deliveries to one consumer share its queue: read it once, for the first.
        if got.is_empty() && wanted.is_empty() {
            continue;
        }
        let expected: Vec<&String> = design
            .edges
            .iter()
            .filter(|e| {
                e.from == broker.as_str() && e.mode == CallMode::Async && e.to == delivery.to
            })
            .flat_map(|e| {
                published
                    .iter()
                    .filter(move |key| e.topic.as_ref().is_none_or(|t| t == *key))
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if got.is_empty() {
            // Read already by an earlier delivery to the same consumer.
            continue;
        }
        assert_eq!(
            got.iter().collect::<Vec<_>>(),
            expected,
            "{design_name}: queue {} of {broker}",
            delivery.to
        );
    }
}

/// A dead-letter policy run for real: a consumer that rejects a message (with requeue) gets it again until its
/// last delivery, and then RabbitMQ moves it to the consumer's dead-letter queue.
#[test]
fn rabbitmq_dead_letters_a_poison_message_after_its_deliveries() {
    let Some((server, epmd)) = rabbitmq_programs() else {
        return;
    };
    let deliveries = 3;
    let design = syncopate::model::load_from_str(
        &serde_json::json!({
            "type": "syncopate", "version": 1, "name": "poison",
            "services": [{"id": "api"}, {"id": "bus", "kind": "broker"}, {"id": "worker", "error_rate": 0.5}],
            "edges": [
                {"from": "api", "to": "bus", "mode": "async", "topic": "jobs"},
                {"from": "bus", "to": "worker", "mode": "async", "topic": "jobs",
                 "dead_letter": {"after_deliveries": deliveries}}
            ],
            "flows": [{"id": "f", "entry": "api", "rate_rps": 1}]
        })
        .to_string(),
        "poison",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let files = export::export(&design, Target::Rabbitmq);
    assert_eq!(files.len(), 1);
    let definitions = dir.path().join("bus.definitions.json");
    std::fs::write(&definitions, &files[0].contents).unwrap();
    let rabbit = start_rabbit(&server, &epmd);
    let (status, body) = curl(&rabbit, "PUT", "/vhosts/poison", None);
    assert!(status.starts_with('2'), "{status} {body}");
    let (status, body) = curl(&rabbit, "POST", "/definitions/poison", Some(&definitions));
    assert!(status.starts_with('2'), "{status} {body}");
    let request = dir.path().join("request.json");
    let post = |path: &str, body: serde_json::Value| {
        std::fs::write(&request, body.to_string()).unwrap();
        let (status, answer) = curl(&rabbit, "POST", path, Some(&request));
        assert!(status.starts_with('2'), "{path}: {status} {answer}");
        serde_json::from_str::<serde_json::Value>(&answer).unwrap()
    };
    post(
        "/exchanges/poison/bus/publish",
        serde_json::json!({"properties": {}, "routing_key": "jobs", "payload": "poison", "payload_encoding": "string"}),
    );
    let reject =
        serde_json::json!({"count": 1, "ackmode": "reject_requeue_true", "encoding": "auto"});
    let mut got = 0;
    for _ in 0..deliveries {
        // Delivered (the consumer fails it and rejects it back to the queue).
        let mut taken = serde_json::Value::Array(Vec::new());
        for _ in 0..50 {
            taken = post("/queues/poison/worker/get", reject.clone());
            if taken.as_array().is_some_and(|m| !m.is_empty()) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        assert_eq!(taken[0]["payload"].as_str(), Some("poison"), "{taken}");
        got += 1;
    }
    assert_eq!(got, deliveries);
    // After its last delivery it is no longer in the queue but in the dead-letter queue.
    let mut in_dead_letters = serde_json::Value::Array(Vec::new());
    for _ in 0..50 {
        in_dead_letters = post(
            "/queues/poison/worker.dlq/get",
            serde_json::json!({"count": 10, "ackmode": "ack_requeue_false", "encoding": "auto"}),
        );
        if in_dead_letters.as_array().is_some_and(|m| !m.is_empty()) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        in_dead_letters[0]["payload"].as_str(),
        Some("poison"),
        "not dead-lettered after {deliveries} deliveries: {in_dead_letters}"
    );
    let left = post(
        "/queues/poison/worker/get",
        serde_json::json!({"count": 10, "ackmode": "ack_requeue_false", "encoding": "auto"}),
    );
    assert_eq!(left, serde_json::json!([]), "delivered a fourth time");
}
