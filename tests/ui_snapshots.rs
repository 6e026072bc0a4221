//! Image snapshots of the real app, rendered on the CPU through wgpu and Mesa's lavapipe (`.ci/run` installs
//! mesa-vulkan-drivers). Fixed window size and the sample's fixed positions keep them stable.
//! `UPDATE_SNAPSHOTS=1 cargo test --test ui_snapshots` rewrites them after a deliberate UI change.

use std::path::Path;

use egui_kittest::Harness;
use syncopate::app::SyncopateApp;

/// Whether a Vulkan driver is installed. Linux machines without a GPU need Mesa's lavapipe
/// (`apt-get install mesa-vulkan-drivers`); without it the snapshots are skipped, except in CI, which
/// requires every tool (`SYNCOPATE_REQUIRE_TOOLS`).
fn can_render() -> bool {
    if !cfg!(target_os = "linux") {
        return true;
    }
    let has_driver = ["/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d"]
        .iter()
        .filter_map(|dir| std::fs::read_dir(dir).ok())
        .flatten()
        .any(|entry| entry.is_ok());
    assert!(
        has_driver || std::env::var_os("SYNCOPATE_REQUIRE_TOOLS").is_none(),
        "a Vulkan driver is required (SYNCOPATE_REQUIRE_TOOLS is set): apt-get install mesa-vulkan-drivers"
    );
    if !has_driver {
        println!(
            "skipped: no Vulkan driver; apt-get install mesa-vulkan-drivers to render snapshots"
        );
    }
    has_driver
}

fn snapshot_of(sample: &str) {
    if !can_render() {
        return;
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples")
        .join(format!("{sample}.syncopate"));
    let mut harness = Harness::builder()
        .with_size([1280.0, 800.0])
        .with_step_dt(1.0 / 60.0)
        .wgpu()
        .build_eframe(move |_| SyncopateApp::with_file(Some(path)));
    harness.run_steps(6);
    harness.snapshot(format!("app-{sample}"));
}

#[test]
fn payment_guarded_sample() {
    snapshot_of("payment-guarded");
}

#[test]
fn ecommerce_sample_with_warnings() {
    snapshot_of("ecommerce");
}
