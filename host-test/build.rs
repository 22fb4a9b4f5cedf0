//! Writes `$OUT_DIR/entity_tests.rs`: one `#[test]` per (entity, method) of
//! connector.json, each running that operation's scenario (tests/entities.rs).

use std::{env, fs, path::Path};

fn main() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../connector.json");
    println!("cargo:rerun-if-changed={}", manifest.display());
    let text = fs::read_to_string(&manifest).unwrap_or_else(|e| panic!("cannot read {}: {e}", manifest.display()));
    let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("connector.json: {e}"));
    let mut code = String::new();
    for entity in json["entities"].as_array().into_iter().flatten() {
        let name = entity["name"].as_str().unwrap_or_else(|| panic!("an entity without a name"));
        for operation in entity["operations"].as_array().into_iter().flatten() {
            let method =
                operation["method"].as_str().unwrap_or_else(|| panic!("{name}: an operation without a method"));
            let variant = match method {
                "get" => "Get",
                "post" => "Post",
                "put" => "Put",
                "patch" => "Patch",
                "delete" => "Delete",
                other => panic!("{name}: unknown method {other}"),
            };
            let function = format!("{}_{method}", name.replace('-', "_"));
            code.push_str(&format!(
                "#[test]\nfn {function}() {{\n    run({name:?}, {method:?}, Method::{variant});\n}}\n\n"
            ));
        }
    }
    let out = Path::new(&env::var("OUT_DIR").expect("OUT_DIR")).join("entity_tests.rs");
    fs::write(&out, code).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}
