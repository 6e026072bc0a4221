//! The exported chaos experiment run for real against the emulation: `syncopate emulate --serve` keeps a
//! 3-service design up, `export --target chaos --for-emulator` writes the experiment, and Chaos Toolkit's `chaos run`
//! injects the planned hang through the emulator's API and checks the steady state while the hang is in force.
//! With the design's breaker the home page keeps its SLO; with the breaker removed the hung calls take every worker
//! of the API and the journal says the hypothesis deviated. Every emulator is stopped by PID, also on failure.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// An emulator serving its API, stopped (and waited for) when dropped.
struct Served {
    child: Child,
    url: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        // Ctrl+C first (the emulator stops its tasks and prints its report), then a kill if it lingers.
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        for _ in 0..50 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(design: &Path) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_syncopate"))
        .args(["emulate", "--serve", "--serve-port", "0"])
        .arg(design)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut served = Served {
        child,
        url: String::new(),
    };
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    served.url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("the emulator did not say where it serves: {line:?}"))
        .to_owned();
    served
}

/// Exports the design's experiment for the emulator, serves the design, runs the experiment; returns the journal.
fn run_experiment(dir: &Path, design: &Path) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_syncopate"))
        .args(["export", "--target", "chaos", "--for-emulator", "-o"])
        .arg(dir)
        .arg(design)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let served = serve(design);
    let journal = dir.join("journal.json");
    let run = Command::new("chaos")
        .args(["--no-log-file", "run", "--journal-path"])
        .arg(&journal)
        .arg("experiment.json")
        .current_dir(dir.join("chaos"))
        .env("SYNCOPATE_EMULATOR_URL", &served.url)
        .output()
        .unwrap();
    drop(served);
    let text = std::fs::read_to_string(&journal).unwrap_or_else(|_| {
        panic!(
            "chaos run wrote no journal:\n{}\n{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        )
    });
    serde_json::from_str(&text).unwrap()
}

/// Whether every probe of the closing steady-state check met its tolerance.
fn held(journal: &Value) -> bool {
    journal["deviated"] == Value::Bool(false)
        && journal["steady_states"]["after"]["steady_state_met"] == Value::Bool(true)
}

#[test]
fn chaos_run_against_the_emulation_holds_the_slo_with_the_breaker_and_not_without() {
    if !common::installed("chaos") {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    // The probed flow gets an id that holds URL syntax and a Chaos Toolkit substitution: the probe's URL carries it
    // percent-encoded, and the emulator's API decodes it back to the flow.
    let mut design: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("tests/designs/breaker-under-hang.syncopate")).unwrap(),
    )
    .unwrap();
    let flow = design["flows"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|f| f["id"] == "home")
        .unwrap();
    flow["id"] = Value::from("home/${emulator_url}?#%41ñ");
    let with = dir.path().join("with.syncopate");
    std::fs::write(&with, design.to_string()).unwrap();
    let journal = run_experiment(&dir.path().join("with"), &with);
    assert!(
        held(&journal),
        "with the breaker the hypothesis did not hold: {journal:#}"
    );
    // The hang was injected by the experiment, through the API, and cleared by its rollback.
    let method = &journal["run"];
    assert!(
        method
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["activity"]["name"] == "start fault 01-recs-hang"
                && a["status"] == "succeeded"),
        "{method:#}"
    );
    // The same design without its breaker: the hypothesis deviates.
    let edges = design["edges"].as_array_mut().unwrap();
    let guarded = edges.iter_mut().find(|e| e["id"] == "api-recs").unwrap();
    guarded.as_object_mut().unwrap().remove("circuit_breaker");
    let without = dir.path().join("without.syncopate");
    std::fs::write(&without, design.to_string()).unwrap();
    let journal = run_experiment(&dir.path().join("without"), &without);
    assert!(
        !held(&journal),
        "without the breaker the hypothesis held: {journal:#}"
    );
}

/// One HTTP/1.1 request to the served API: its status, its `Allow` header, and its body.
fn call(url: &str, method: &str, path: &str, body: &str) -> (u16, Option<String>, String) {
    use std::io::{Read, Write};
    let address = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {answer:?}"));
    let allow = head
        .lines()
        .find_map(|l| {
            l.strip_prefix("allow: ")
                .or_else(|| l.strip_prefix("Allow: "))
        })
        .map(str::to_owned);
    (status, allow, body.to_owned())
}

/// The fault API takes every fault a design may plan (a `slow` factor below 1 included, which the exported
/// experiment sends for such a design) and refuses, with the reason, what a design may not hold (a factor that
/// would overflow the service time, a blank id); a wrong method on a path it has is `405` with `Allow`.
#[test]
fn the_fault_api_takes_what_a_design_may_plan_and_refuses_the_rest() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let served = serve(&root.join("tests/designs/breaker-under-hang.syncopate"));
    let url = served.url.as_str();
    let post = |body: &str| call(url, "POST", "/faults", body);

    let (status, _, body) =
        post(r#"{"id": "faster", "service": "api", "kind": "slow", "factor": 0.5}"#);
    assert_eq!(status, 201, "{body}");
    assert_eq!(call(url, "GET", "/flows/home", "").0, 200);
    let (status, _, body) = post(r#"{"id": "faster", "service": "api", "kind": "hang"}"#);
    assert_eq!(status, 409, "{body}");
    for (fault, reason) in [
        (
            r#"{"service": "api", "kind": "slow", "factor": 1e308}"#,
            "fault.factor",
        ),
        (
            r#"{"service": "api", "kind": "slow", "factor": 0}"#,
            "fault.factor",
        ),
        (r#"{"service": "api", "kind": "slow"}"#, "fault.factor"),
        (
            r#"{"service": "api", "kind": "errors", "error_rate": 1.5}"#,
            "fault.error_rate",
        ),
        (
            r#"{"service": "api", "kind": "down", "factor": 2}"#,
            "fault.factor",
        ),
        (r#"{"service": "nowhere", "kind": "down"}"#, "fault.service"),
        (r#"{"id": "", "service": "api", "kind": "down"}"#, "blank"),
        (r#"{"id": " ", "service": "api", "kind": "down"}"#, "blank"),
        (r#"{"service": "api", "kind": "melt"}"#, "melt"),
    ] {
        let (status, _, body) = post(fault);
        assert_eq!(status, 400, "{fault}: {body}");
        assert!(body.contains(reason), "{fault}: {body}");
    }

    let (status, _, body) = post(r#"{"service": "api", "kind": "errors", "error_rate": 1}"#);
    assert_eq!(status, 201, "{body}");
    assert!(body.contains("api-errors-1"), "{body}");
    assert_eq!(call(url, "GET", "/flows/home", "").0, 503);
    assert_eq!(call(url, "DELETE", "/faults/api-errors-1", "").0, 204);
    assert_eq!(call(url, "DELETE", "/faults/api-errors-1", "").0, 404);
    assert_eq!(call(url, "GET", "/flows/home", "").0, 200);

    for (method, path, allow) in [
        ("PUT", "/faults", "GET, POST, DELETE"),
        ("GET", "/faults/faster", "DELETE"),
        ("POST", "/flows/home", "GET"),
        ("DELETE", "/report", "GET"),
    ] {
        let (status, allowed, body) = call(url, method, path, "");
        assert_eq!(status, 405, "{method} {path}: {body}");
        assert_eq!(allowed.as_deref(), Some(allow), "{method} {path}");
    }
    assert_eq!(call(url, "GET", "/nowhere", "").0, 404);
    assert_eq!(call(url, "DELETE", "/faults", "").0, 204);
    let (_, _, body) = call(url, "GET", "/faults", "");
    assert!(body.contains(r#""injected":{}"#), "{body}");
}
