//! connector.json as a published format: `connector.schema.json` (JSON
//! Schema 2020-12) is generated from the serde types `build.rs` reads the
//! manifest with (`build/format.rs`), connector.json follows it, and a
//! misspelt key is refused by both, naming the key.
//!
//! After changing `build/format.rs`, regenerate the schema with
//! `UPDATE_SCHEMA=1 cargo test -p host-test --test main -- manifest_schema::`.

// The build reads what the component needs; the rest is there for hosts.
#[allow(dead_code)]
#[path = "../../build/format.rs"]
mod format;

use std::path::PathBuf;

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn generated_schema() -> String {
    let schema = schemars::schema_for!(format::Manifest);
    format!("{}\n", serde_json::to_string_pretty(&schema).expect("a schema is JSON"))
}

fn manifest() -> Value {
    serde_json::from_str(&std::fs::read_to_string(root().join("connector.json")).expect("connector.json"))
        .expect("connector.json is JSON")
}

/// Every way `manifest` breaks the schema (the generated one, which the
/// first test proves equal to the published file).
fn schema_errors(manifest: &Value) -> Vec<String> {
    let schema: Value = serde_json::from_str(&generated_schema()).expect("the schema is JSON");
    let validator = jsonschema::draft202012::new(&schema).expect("the schema compiles");
    validator.iter_errors(manifest).map(|e| format!("{}: {e}", e.instance_path())).collect()
}

#[test]
fn the_published_schema_is_the_one_the_build_types_generate() {
    let path = root().join("connector.schema.json");
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, generated_schema()).expect("write connector.schema.json");
    }
    let published = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        published == generated_schema(),
        "connector.schema.json is not what build/format.rs generates: UPDATE_SCHEMA=1 cargo test -p host-test --test main -- manifest_schema::"
    );
}

#[test]
fn connector_json_follows_the_published_schema() {
    let manifest = manifest();
    assert_eq!(manifest["$schema"], "./connector.schema.json");
    let errors = schema_errors(&manifest);
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn a_misspelt_key_is_refused_by_the_schema_and_the_build_naming_it() {
    // (JSON pointer of the object, the key, its misspelling)
    let typos = [
        ("/entities/34", "header_params", "header_parmas"),
        ("/entities/0", "checks", "check"),
        ("/panel/common_settings/0", "default", "defualt"),
        ("/panel/api_types/2/test", "accept", "acept"),
        ("/panel", "auth_kinds", "authkinds"),
        ("", "entities", "entites"),
    ];
    for (at, key, typo) in typos {
        let mut manifest = manifest();
        let object = manifest.pointer_mut(at).and_then(Value::as_object_mut).expect("the object");
        let value = object.remove(key).unwrap_or_else(|| panic!("{at} has {key}"));
        object.insert(typo.to_string(), value);
        let errors = schema_errors(&manifest);
        assert!(errors.iter().any(|e| e.contains(typo)), "schema, {at}/{typo}: {errors:#?}");
        let build = serde_json::from_value::<format::Manifest>(manifest).expect_err("the build refuses it");
        assert!(build.to_string().contains(typo), "build, {at}/{typo}: {build}");
    }
}
