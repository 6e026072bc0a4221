//! Image snapshots of the real app, rendered on the CPU through wgpu and Mesa's lavapipe (`.ci/run` installs
//! mesa-vulkan-drivers). Fixed window size and the sample's fixed positions keep them stable.
//! `UPDATE_SNAPSHOTS=1 cargo test --test ui_snapshots` rewrites them after a deliberate UI change.

use std::path::Path;

use egui_kittest::Harness;
use syncopate::app::SyncopateApp;

fn snapshot_of(sample: &str) {
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
