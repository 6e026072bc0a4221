//! What every fuzz target checks. A panic anywhere (including the assertions here) is a finding.

use syncopate::model::{self, Design};
use syncopate::{export, import, rules, sequence};

/// Loads `data` as a design file; a design that loads must also survive everything the app does with one.
pub fn load_design(data: &[u8]) {
    if let Ok(design) = model::file::load_from_bytes(data, "fuzz.syncopate") {
        use_design(&design);
    }
}

/// Imports `data` with `source`'s importer; an imported design must be valid and survive the same.
pub fn import_as(source: import::Source, data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(imported) = import::import(source, text, "fuzz-input") {
        let problems = model::validate(&imported.design);
        assert!(
            problems.is_empty(),
            "an import produced an invalid design: {problems:?}"
        );
        use_design(&imported.design);
    }
}

/// The file round trip, the rules and their fixes, the sequence renderers and every exporter.
fn use_design(design: &Design) {
    let text = model::to_json_pretty(design);
    let reloaded = model::load_from_str(&text, "round trip")
        .unwrap_or_else(|e| panic!("a valid design does not read back: {e}"));
    assert!(
        reloaded == *design,
        "a design reads back different from what was saved"
    );
    let report = rules::check(design);
    for finding in report.findings.iter().take(4) {
        if let Some(fix) = &finding.fix {
            let fixed = rules::apply_fix(design, fix);
            let problems = model::validate(&fixed);
            assert!(
                problems.is_empty(),
                "a fix produced an invalid design: {problems:?}"
            );
        }
    }
    for diagram in sequence::diagrams(design) {
        let _ = sequence::to_mermaid(&diagram);
        let _ = sequence::to_plantuml(&diagram);
        let _ = sequence::to_svg(&diagram);
    }
    for target in export::Target::ALL {
        let _ = export::export(design, target);
    }
}
