//! Every sample loads, validates, and survives load → save → load unchanged.

mod common;

use syncopate::model;

use common::sample_paths;

#[test]
fn there_are_at_least_nine_samples() {
    assert!(sample_paths().len() >= 9, "{:?}", sample_paths());
}

#[test]
fn every_sample_round_trips_losslessly() {
    let dir = tempfile::tempdir().unwrap();
    for path in sample_paths() {
        let design = model::load_file(&path).unwrap_or_else(|e| panic!("{e}"));
        let copy = dir.path().join(path.file_name().unwrap());
        model::save_file(&copy, &design).unwrap();
        let reloaded = model::load_file(&copy).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(design, reloaded, "{}", path.display());
        // Saving again gives the same bytes: output is deterministic.
        assert_eq!(
            std::fs::read_to_string(&copy).unwrap(),
            model::to_json_pretty(&reloaded),
            "{}",
            path.display()
        );
    }
}

#[test]
fn samples_are_saved_in_canonical_form() {
    // The committed samples are exactly what Syncopate writes, so opening and saving one shows no diff.
    // SYNCOPATE_BLESS=1 rewrites them in canonical form after a format change.
    let bless = std::env::var_os("SYNCOPATE_BLESS").is_some();
    for path in sample_paths() {
        let text = std::fs::read_to_string(&path).unwrap();
        let design = model::load_from_str(&text, &path.display().to_string())
            .unwrap_or_else(|e| panic!("{e}"));
        let canonical = model::to_json_pretty(&design);
        if bless {
            model::save_file(&path, &design).unwrap();
        } else {
            assert_eq!(text, canonical, "{} is not canonical", path.display());
        }
    }
}

#[test]
fn every_sample_is_laid_out() {
    for path in sample_paths() {
        let design = model::load_file(&path).unwrap();
        for service in &design.services {
            assert!(
                service.position.is_some(),
                "{}: {} has no position",
                path.display(),
                service.id
            );
        }
        // No two services overlap (services are drawn about 150 x 60 canvas units).
        for (i, a) in design.services.iter().enumerate() {
            for b in &design.services[i + 1..] {
                let (pa, pb) = (a.position.unwrap(), b.position.unwrap());
                let apart = (pa[0] - pb[0]).abs() >= 160.0 || (pa[1] - pb[1]).abs() >= 70.0;
                assert!(apart, "{}: {} and {} overlap", path.display(), a.id, b.id);
            }
        }
    }
}
