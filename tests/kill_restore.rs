//! End to end in a real window (Xvfb, driven by xdotool): start the app on a design, edit it, wait for the
//! autosave, kill the process with SIGKILL, start the app again, restore the unsaved work and save it. The saved
//! file must be exactly the design as it was edited before the kill.
//!
//! `.ci/run` installs Xvfb, xdotool and a software Vulkan/OpenGL driver and sets `SYNCOPATE_REQUIRE_TOOLS=1`;
//! elsewhere a missing tool skips the test with a message.

#![cfg(unix)]

mod common;
use common::installed;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use syncopate::model::{self, Design, Service};

/// The window's size (`app::run` opens it at 1280×800; without a window manager it sits at the screen's origin).
const SCREEN: &str = "1280x800x24";

/// An Xvfb display, stopped when dropped.
struct VirtualScreen {
    server: Child,
    display: String,
}

impl VirtualScreen {
    fn start() -> Self {
        // A display number nobody uses; the range is away from the screenshot tool's (91 and up).
        let number = (140..240)
            .find(|n| {
                !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                    && !Path::new(&format!("/tmp/.X{n}-lock")).exists()
            })
            .expect("a free X display number");
        let display = format!(":{number}");
        let server = Command::new("Xvfb")
            .args([&display, "-screen", "0", SCREEN, "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb starts");
        let screen = Self { server, display };
        wait_for("the X server", Duration::from_secs(10), || {
            screen.xdotool(&["getdisplaygeometry"]).is_some()
        });
        screen
    }

    /// Runs xdotool on this display; its output when it succeeded.
    fn xdotool(&self, args: &[&str]) -> Option<String> {
        let output = Command::new("xdotool")
            .args(args)
            .env("DISPLAY", &self.display)
            .output()
            .ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
    }

    fn act(&self, args: &[&str]) {
        assert!(self.xdotool(args).is_some(), "xdotool {args:?} failed");
        // Give the app a few frames to take the input in.
        std::thread::sleep(Duration::from_millis(400));
    }
}

impl Drop for VirtualScreen {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Where the app keeps its data with `XDG_DATA_HOME` set to `home` (the `directories` crate's Linux layout).
fn data_dir(home: &Path) -> PathBuf {
    home.join("syncopate")
}

/// Everything the app wrote to its log files so far.
fn log_text(home: &Path) -> String {
    let Ok(entries) = std::fs::read_dir(data_dir(home).join("logs")) else {
        return String::new();
    };
    let mut text = String::new();
    for entry in entries.flatten() {
        text.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
    }
    text
}

/// Starts the app on the virtual screen and waits until it drew its first frame (as its log says).
fn start_app(screen: &VirtualScreen, home: &Path, runtime: &Path, file: Option<&Path>) -> Child {
    let frames_before = log_text(home).matches("first frame").count();
    let mut command = Command::new(env!("CARGO_BIN_EXE_syncopate"));
    command
        .env("DISPLAY", &screen.display)
        .env("XDG_DATA_HOME", home)
        .env("XDG_RUNTIME_DIR", runtime)
        .env_remove("WAYLAND_DISPLAY")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(file) = file {
        command.arg(file);
    }
    let mut app = command.spawn().expect("the app starts");
    let started = Instant::now();
    while log_text(home).matches("first frame").count() == frames_before {
        if let Ok(Some(status)) = app.try_wait() {
            panic!("the app exited at start with {status}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the app drew no frame within 30 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // A little longer for the window to settle (the canvas fits the design as the window reaches its size).
    std::thread::sleep(Duration::from_secs(2));
    app
}

fn one_service_design() -> Design {
    let mut design = Design::new("kill and restore");
    let mut api = Service::new("api");
    api.position = Some([0.0, 0.0]);
    design.services.push(api);
    design
}

#[test]
fn unsaved_work_survives_sigkill_and_is_restored_in_the_next_window() {
    if !installed("Xvfb") || !installed("xdotool") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let home = work.path().join("data");
    let runtime = work.path().join("runtime");
    std::fs::create_dir_all(&runtime).unwrap();
    std::fs::set_permissions(
        &runtime,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let file = work.path().join("work.syncopate");
    model::save_file(&file, &one_service_design()).unwrap();
    let recovery_file = data_dir(&home).join("recovery.syncopate");
    let screen = VirtualScreen::start();

    // 1. Start on the design and add a service by double-clicking an empty part of the canvas (the one service is
    //    fitted to the middle of the canvas; its upper left is empty).
    let mut app = start_app(&screen, &home, &runtime, Some(&file));
    screen.act(&["mousemove", "150", "200"]);
    screen.act(&["click", "--repeat", "2", "--delay", "80", "1"]);

    // 2. Within the autosave interval the edited design is in the recovery file.
    let mut autosaved: Option<Design> = None;
    wait_for("the autosave of the edit", Duration::from_secs(20), || {
        autosaved = model::load_file(&recovery_file)
            .ok()
            .filter(|d| d.services.len() == 2);
        autosaved.is_some()
    });
    let autosaved = autosaved.unwrap();
    assert_eq!(
        model::load_file(&file).unwrap(),
        one_service_design(),
        "nothing was saved to the design's own file yet"
    );

    // 3. SIGKILL: no chance to clean up.
    app.kill().unwrap();
    app.wait().unwrap();
    assert!(
        recovery_file.exists(),
        "the recovery file outlives the kill"
    );

    // 4. Start again, without a file, as from the desktop menu: the app offers the unsaved work back; Enter takes
    //    the default answer, Restore. Then save (the restored design still belongs to its file).
    let mut app = start_app(&screen, &home, &runtime, None);
    assert!(
        log_text(&home).contains("recovery offered"),
        "the second start found the unsaved work:\n{}",
        log_text(&home)
    );
    // Without a window manager, keys go to the window only once it has the X input focus.
    screen.act(&["search", "--name", "Syncopate", "windowfocus"]);
    screen.act(&["key", "Return"]);
    wait_for("the restore", Duration::from_secs(10), || {
        log_text(&home).contains("restored unsaved work")
    });
    screen.act(&["key", "ctrl+s"]);

    // 5. The design's file is now exactly what was edited before the kill, and the recovery file is gone.
    wait_for("the save", Duration::from_secs(10), || {
        model::load_file(&file).is_ok_and(|d| d.services.len() == 2)
    });
    assert_eq!(model::load_file(&file).unwrap(), autosaved);
    wait_for(
        "the recovery file to be removed",
        Duration::from_secs(10),
        || !recovery_file.exists(),
    );
    app.kill().unwrap();
    app.wait().unwrap();
}
