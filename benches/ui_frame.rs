//! The UI's own work per frame on a generated 300-service, 900-call design while the user pans (middle-button drag)
//! and zooms, and on idle frames. It drives the real app through egui_kittest without a renderer, so what is timed
//! is the app's frame: our panels and canvas, egui_graphs and egui's layout (plus kittest's accessibility tree,
//! which makes the figure an upper bound).
//!
//! Then the same while the simulator runs the design as fast as possible on its own thread: the canvas overlay
//! (utilization, queues, moving dots), the dashboard's charts, and its 300-row service table, idle and panning.
//!
//! Run: `cargo bench --bench ui_frame` (300 services; the budget is 16 ms) or `cargo bench --bench ui_frame --
//! 1000` (the 1,000-service, 3,000-call design; the budget is 33 ms). Prints median, 95th percentile and worst frame
//! per phase, and the process's peak resident memory with the design open and simulating.

mod common;

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use syncopate::app::{Document, SyncopateApp};
use syncopate::model::generate::layered_design;

const FRAMES: usize = 240;

fn report(phase: &str, budget_ms: u32, mut times: Vec<Duration>) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{phase:<8} {} frames: median {:.2} ms, p95 {:.2} ms, worst {:.2} ms (budget {budget_ms} ms)",
        times.len(),
        ms(times[times.len() / 2]),
        ms(times[times.len() * 95 / 100]),
        ms(times[times.len() - 1])
    );
}

fn button(harness: &Harness<'static, SyncopateApp>, pos: egui::Pos2, pressed: bool) {
    harness.event(egui::Event::PointerButton {
        pos,
        button: egui::PointerButton::Middle,
        pressed,
        modifiers: egui::Modifiers::NONE,
    });
}

/// The size of the last frame's tessellated mesh: what the renderer uploads and rasterises every frame.
fn mesh_size(harness: &Harness<'static, SyncopateApp>, phase: &str) {
    let output = harness.output();
    let primitives = harness
        .ctx
        .tessellate(output.shapes.clone(), output.pixels_per_point);
    let (mut vertices, mut indices) = (0, 0);
    for primitive in &primitives {
        if let egui::epaint::Primitive::Mesh(mesh) = &primitive.primitive {
            vertices += mesh.vertices.len();
            indices += mesh.indices.len();
        }
    }
    println!("{phase:<8} frame mesh: {vertices} vertices, {indices} indices");
}

/// Times one frame.
fn timed(harness: &mut Harness<'static, SyncopateApp>) -> Duration {
    let start = Instant::now();
    harness.step();
    start.elapsed()
}

/// Drags the view with the middle button in circles of 150 px around `centre` (the whole design keeps moving under
/// the pointer), timing each frame.
fn pan_in_circles(
    harness: &mut Harness<'static, SyncopateApp>,
    centre: egui::Pos2,
) -> Vec<Duration> {
    let mut times = Vec::with_capacity(FRAMES);
    button(harness, centre, true);
    harness.step();
    for frame in 0..FRAMES {
        let angle = frame as f32 / 20.0;
        let pos = centre + egui::vec2(angle.cos(), angle.sin()) * 150.0;
        harness.event(egui::Event::PointerMoved(pos));
        times.push(timed(harness));
    }
    button(harness, centre, false);
    times
}

fn main() {
    // `cargo bench` passes `--bench`; a number among the arguments picks the design's size.
    let services: usize = std::env::args()
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(300);
    let (design, budget_ms) = if services >= 1000 {
        (layered_design(services, services * 3, 42), 33)
    } else {
        (layered_design(services, services * 3, 7), 16)
    };
    println!(
        "design: {} services, {} calls, {} flows",
        design.services.len(),
        design.edges.len(),
        design.flows.len()
    );
    let mut harness = Harness::builder()
        .with_size([1600.0, 1000.0])
        .with_step_dt(1.0 / 60.0)
        .build_eframe(move |_| SyncopateApp::new(Document::new(design)));
    // The first frames build the view graph and the findings.
    let start = Instant::now();
    harness.run_steps(3);
    println!(
        "first 3 frames (view graph, rules): {:.1} ms",
        start.elapsed().as_secs_f64() * 1000.0
    );
    harness.run_steps(30);

    let centre = egui::pos2(450.0, 350.0);

    harness.event(egui::Event::PointerMoved(centre));
    harness.step();
    let pan = pan_in_circles(&mut harness, centre);
    harness.run_steps(5);
    report("pan", budget_ms, pan);

    // egui_graphs zooms by a fixed step (10%) per zoom event, whatever its size: ten steps in, ten out, over and
    // over, stays between the fitted view and about 2.6 times it, as a person zooming in and out does.
    let mut zoom = Vec::with_capacity(FRAMES);
    for frame in 0..FRAMES {
        let factor = if (frame / 10) % 2 == 0 {
            1.1
        } else {
            1.0 / 1.1
        };
        harness.event(egui::Event::Zoom(factor));
        zoom.push(timed(&mut harness));
    }
    report("zoom", budget_ms, zoom);
    harness.run_steps(5);
    let idle: Vec<Duration> = (0..FRAMES).map(|_| timed(&mut harness)).collect();
    report("idle", budget_ms, idle);
    mesh_size(&harness, "idle");

    // The simulator runs as fast as it can on the other core while the UI draws what it publishes.
    use syncopate::app::sim_runner::Speed;
    use syncopate::ui::sim_bar::SimAction;
    let ctx = harness.ctx.clone();
    harness
        .state_mut()
        .simulation_action(&ctx, SimAction::SetDuration(86_400.0));
    harness
        .state_mut()
        .simulation_action(&ctx, SimAction::SetSpeed(Speed::Fastest));
    harness.state_mut().simulation_action(&ctx, SimAction::Run);
    harness.run_steps(10);
    let running: Vec<Duration> = (0..FRAMES).map(|_| timed(&mut harness)).collect();
    report("sim", budget_ms, running);
    mesh_size(&harness, "sim");
    let panning = pan_in_circles(&mut harness, centre);
    report("sim+pan", budget_ms, panning);
    harness
        .state_mut()
        .set_dashboard_tab(syncopate::ui::dashboard::DashboardTab::Services);
    harness.run_steps(5);
    let table: Vec<Duration> = (0..FRAMES).map(|_| timed(&mut harness)).collect();
    report("sim+table", budget_ms, table);
    let status = harness.state().simulation_status();
    println!("simulation: {status}");
    println!(
        "memory with the design open and simulating: peak RSS {:.0} MiB, now {:.0} MiB",
        common::status_mib("self", "VmHWM").unwrap_or(f64::NAN),
        common::status_mib("self", "VmRSS").unwrap_or(f64::NAN)
    );
    assert!(
        status.contains("running"),
        "the simulation ran throughout: {status}"
    );
}
