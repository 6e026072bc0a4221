//! A save killed at any moment (SIGKILL, no chance to clean up) leaves the design file complete: the old version or
//! the new one, never a mix or a truncated file. The test runs itself as the child process that saves in a loop.

use std::path::Path;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use syncopate::model::{self, Design, generate};

const CHILD_ENV: &str = "SYNCOPATE_SAVE_LOOP_TARGET";

/// Two large designs (about a megabyte of JSON each), so a kill often lands in the middle of writing one.
fn two_versions() -> (Design, Design) {
    let old = generate::layered_design(300, 900, 1);
    let mut new = generate::layered_design(300, 900, 2);
    new.name = "the new version".to_owned();
    (old, new)
}

fn save_forever(target: &Path) -> ! {
    let (old, new) = two_versions();
    loop {
        for design in [&new, &old] {
            if let Err(error) = model::save_file(target, design) {
                eprintln!("{error}");
                std::process::exit(2);
            }
            // Tells the parent the saves are under way (it kills only after this, however slowly the child
            // started on a busy machine).
            let _ = std::fs::write(started_marker(target), b"");
        }
    }
}

/// The file a child writes once it has saved.
fn started_marker(target: &Path) -> std::path::PathBuf {
    target.with_extension("started")
}

#[test]
fn a_save_killed_at_any_moment_leaves_the_old_or_the_new_file() {
    if let Some(target) = std::env::var_os(CHILD_ENV) {
        save_forever(Path::new(&target));
    }
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("design.syncopate");
    let (old, new) = two_versions();
    model::save_file(&target, &old).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let iterations = 40;
    let mut saw_new = false;
    for iteration in 0..iterations {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "a_save_killed_at_any_moment_leaves_the_old_or_the_new_file",
                "--nocapture",
            ])
            .env(CHILD_ENV, &target)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Let it start and save, then for a random while (a few saves), then kill it without warning.
        let spawned = std::time::Instant::now();
        while !started_marker(&target).exists() && spawned.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis(rng.random_range(0..120)));
        child.kill().unwrap();
        let status = child.wait().unwrap();
        let _ = std::fs::remove_file(started_marker(&target));
        assert!(
            !status.success(),
            "iteration {iteration}: the child was killed, it did not finish"
        );
        let loaded = model::load_file(&target).unwrap_or_else(|e| {
            panic!("iteration {iteration}: the file is not a complete design: {e}")
        });
        assert!(
            loaded == old || loaded == new,
            "iteration {iteration}: the file is neither version"
        );
        saw_new |= loaded == new;
    }
    assert!(
        saw_new,
        "the children did save (the new version was seen at least once)"
    );
}
