//! Property tests: no input makes the loader panic, and every error is one line naming the source.

use proptest::prelude::*;
use serde_json::{Value, json};
use syncopate::model;

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        "[a-z_]{0,12}".prop_map(Value::String),
        Just(json!("syncopate")),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    "[a-z_]{1,12}",
                    Just("id".to_owned()),
                    Just("from".to_owned()),
                    Just("to".to_owned()),
                    Just("mode".to_owned()),
                    Just("services".to_owned()),
                    Just("edges".to_owned()),
                    Just("flows".to_owned()),
                    Just("dist".to_owned()),
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn check_error_shape(result: Result<model::Design, model::LoadError>) {
    if let Err(e) = result {
        let line = e.to_string();
        assert!(line.starts_with("fuzz: "), "{line}");
        assert!(!line.contains('\n'), "{line}");
    }
}

fn sample_text() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/samples/order-saga.syncopate"
    ))
    .unwrap()
}

/// Every (path, value) leaf position in a JSON tree, as JSON pointers.
fn pointers(value: &Value, prefix: String, out: &mut Vec<String>) {
    out.push(prefix.clone());
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                pointers(item, format!("{prefix}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                pointers(item, format!("{prefix}/{key}"), out);
            }
        }
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        check_error_shape(model::load_from_str(&text, "fuzz"));
    }

    #[test]
    fn arbitrary_json_never_panics(value in arbitrary_json()) {
        check_error_shape(model::load_from_str(&value.to_string(), "fuzz"));
    }

    #[test]
    fn arbitrary_json_with_a_valid_header_never_panics(services in arbitrary_json(), edges in arbitrary_json(), flows in arbitrary_json()) {
        let value = json!({"type": "syncopate", "version": 1, "services": services, "edges": edges, "flows": flows});
        check_error_shape(model::load_from_str(&value.to_string(), "fuzz"));
    }

    #[test]
    fn a_sample_with_one_value_replaced_never_panics(index in any::<prop::sample::Index>(), replacement in arbitrary_json()) {
        let mut value: Value = serde_json::from_str(&sample_text()).unwrap();
        let mut all = Vec::new();
        pointers(&value, String::new(), &mut all);
        let target = index.get(&all).clone();
        if let Some(slot) = value.pointer_mut(&target) {
            *slot = replacement;
        }
        let result = model::load_from_str(&value.to_string(), "fuzz");
        // Whatever loads must save and load back to the same design.
        if let Ok(design) = &result {
            let again = model::load_from_str(&model::to_json_pretty(design), "fuzz").unwrap();
            prop_assert_eq!(design, &again);
        }
        check_error_shape(result);
    }
}
