//! The real app in a real window (Xvfb, software rendering): start-up to the first frame, and the resident memory
//! of the process with the generated 1,000-service, 3,000-call design open and simulating.
//!
//! Start-up is timed from spawning the process until its log file says "first frame" (the app logs it at the end of
//! its first frame's work, after the window and the renderer exist, before that frame is painted), for a sample and for the 1,000-service design,
//! ten times each. For memory, the app opens the large design, the bench clicks ▶ Run in the simulation bar and
//! samples `VmRSS` of the process every 100 ms for 30 s.
//!
//! Then the CPU the app uses in 10 s of sitting idle on a sample.
//!
//! Run: `cargo bench --bench startup` (needs Xvfb and xdotool). Budgets: start-up under 1 s, memory under 300 MB,
//! idle CPU near zero.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use syncopate::model::{self, generate::layered_design};

const RUNS: usize = 10;

/// Where ▶ Run sits in the 1280×800 window: the simulation bar is the third top panel, Run its first button.
const RUN_BUTTON: (&str, &str) = ("100", "57");

struct Screen {
    server: Child,
    display: String,
}

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

fn start_screen() -> Screen {
    let number = (240..300)
        .find(|n| !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists())
        .expect("a free X display number");
    let display = format!(":{number}");
    let server = Command::new("Xvfb")
        .args([&display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("Xvfb is installed");
    std::thread::sleep(Duration::from_secs(1));
    Screen { server, display }
}

fn log_text(data_home: &Path) -> String {
    let Ok(entries) = std::fs::read_dir(data_home.join("syncopate/logs")) else {
        return String::new();
    };
    entries
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect()
}

/// Starts the app on `file` in a fresh data directory; returns it, its data directory and the time to its first
/// frame (the bench's clock, from spawn) with the app's own figure (from the start of `main`).
// The child is handed back to the caller, which kills and waits for it in `stop`.
#[allow(clippy::zombie_processes)]
fn start(screen: &Screen, file: &Path, work: &Path, run: usize) -> (Child, PathBuf, Duration, f64) {
    let data_home = work.join(format!("data-{run}"));
    let runtime = work.join("runtime");
    std::fs::create_dir_all(&runtime).expect("a runtime folder");
    let started = Instant::now();
    let mut app = Command::new(env!("CARGO_BIN_EXE_syncopate"))
        .arg(file)
        .env("DISPLAY", &screen.display)
        .env("XDG_DATA_HOME", &data_home)
        .env("XDG_RUNTIME_DIR", &runtime)
        .env_remove("WAYLAND_DISPLAY")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the app starts");
    loop {
        let log = log_text(&data_home);
        if let Some(line) = log.lines().find(|l| l.contains("first frame")) {
            let elapsed = started.elapsed();
            let own_ms = line
                .split("since_start_ms=")
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|ms| ms.parse().ok())
                .unwrap_or(f64::NAN);
            return (app, data_home, elapsed, own_ms);
        }
        if started.elapsed() >= Duration::from_secs(30) {
            let _ = app.kill();
            let _ = app.wait();
            panic!("no first frame within 30 s");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn stop(mut app: Child) {
    let _ = app.kill();
    let _ = app.wait();
}

/// User plus system CPU time of a process so far, in scheduler ticks (`/proc/PID/stat` fields 14 and 15).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |n: usize| {
        fields
            .get(n - 3)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(14) + field(15)
}

fn summary(label: &str, mut times: Vec<Duration>, own: &[f64]) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mut own = own.to_vec();
    own.sort_by(f64::total_cmp);
    println!(
        "start-up to first frame, {label}: median {:.0} ms, worst {:.0} ms over {} runs (from main: median {:.0} ms) \
         (budget 1000 ms)",
        ms(times[times.len() / 2]),
        ms(times[times.len() - 1]),
        times.len(),
        own[own.len() / 2]
    );
}

fn main() {
    let work = tempfile::tempdir().expect("a temporary folder");
    let large = work.path().join("large.syncopate");
    model::save_file(&large, &layered_design(1000, 3000, 42)).expect("the design saves");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/ecommerce.syncopate");
    let screen = start_screen();

    // Every start gets a data directory of its own, so each finds its own "first frame" in a fresh log.
    let mut starts = 0;
    for (label, file) in [("e-commerce sample", &sample), ("1,000 services", &large)] {
        let mut times = Vec::new();
        let mut own = Vec::new();
        for _ in 0..RUNS {
            starts += 1;
            let (app, _, elapsed, own_ms) = start(&screen, file, work.path(), starts);
            times.push(elapsed);
            own.push(own_ms);
            stop(app);
        }
        summary(label, times, &own);
    }

    // Idle CPU: the e-commerce sample in its window, untouched for 10 s.
    let (app, _, _, _) = start(&screen, &sample, work.path(), starts + 1);
    std::thread::sleep(Duration::from_secs(3));
    let before = cpu_ticks(app.id());
    std::thread::sleep(Duration::from_secs(10));
    let after = cpu_ticks(app.id());
    println!(
        "idle CPU, e-commerce sample untouched for 10 s: {} scheduler ticks (1 tick = 10 ms of CPU time)",
        after.saturating_sub(before)
    );
    stop(app);

    // Memory: the large design open, then simulating at the default speed (1×).
    let (app, data_home, _, _) = start(&screen, &large, work.path(), starts + 2);
    std::thread::sleep(Duration::from_secs(3));
    let open_mib = common::status_mib(&app.id().to_string(), "VmRSS").unwrap_or(f64::NAN);
    let clicked = Command::new("xdotool")
        .args(["mousemove", RUN_BUTTON.0, RUN_BUTTON.1, "click", "1"])
        .env("DISPLAY", &screen.display)
        .status()
        .is_ok_and(|s| s.success());
    assert!(clicked, "xdotool clicks Run");
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        log_text(&data_home).contains("simulation run started"),
        "Run started a simulation"
    );
    let mut peak_mib: f64 = 0.0;
    let sampling = Instant::now();
    while sampling.elapsed() < Duration::from_secs(30) {
        peak_mib = peak_mib.max(common::status_mib(&app.id().to_string(), "VmRSS").unwrap_or(0.0));
        std::thread::sleep(Duration::from_millis(100));
    }
    println!(
        "resident memory, 1,000 services: {open_mib:.0} MiB open, peak {peak_mib:.0} MiB over 30 s of simulating \
         (budget 300 MB = 286 MiB)"
    );
    stop(app);
}
