//! Turns `connector.json` into Rust statics (`$OUT_DIR/manifest.rs`), so the
//! component carries the entity table as data, with no JSON parser run at
//! start-up. The manifest is read through the serde types of
//! `build/format.rs`: an unknown key, a missing one or a wrong type fails the
//! build with serde's message, which names the key and its line.

// Some fields are there for hosts only (`$schema`, the auth kinds' WIT
// templates): the build parses them, so they are checked, but does not use them.
#[allow(dead_code)]
#[path = "build/format.rs"]
mod format;

use std::fmt::Debug;
use std::{env, fs, path::Path};

use format::{ApiType, Entity, Manifest, Setting, SettingType, Upload};

fn main() {
    println!("cargo:rerun-if-changed=connector.json");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build/format.rs");
    let text =
        fs::read_to_string("connector.json").unwrap_or_else(|e| fail(&format!("cannot read connector.json: {e}")));
    let manifest: Manifest = serde_json::from_str(&text).unwrap_or_else(|e| fail(&format!("connector.json: {e}")));
    check(&manifest);
    let out = Path::new(&env::var("OUT_DIR").unwrap_or_else(|_| fail("OUT_DIR is not set"))).join("manifest.rs");
    fs::write(&out, manifest_code(&manifest)).unwrap_or_else(|e| fail(&format!("cannot write {}: {e}", out.display())));
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1)
}

/// What the types cannot say: integer common settings need a whole-number
/// default (the connector falls back to it), an upload needs a positive
/// limit and a content type, a probe accepts only HTTP statuses.
fn check(m: &Manifest) {
    for (i, s) in m.panel.common_settings.iter().enumerate() {
        let whole = s.default.as_deref().is_some_and(|d| d.parse::<u64>().is_ok());
        if matches!(s.kind, SettingType::Integer) && !whole {
            fail(&format!("connector.json: panel.common_settings[{i}] ({}) needs a whole-number default", s.key));
        }
    }
    for t in &m.panel.api_types {
        if t.test.accept.iter().any(|s| !(100..600).contains(s)) {
            fail(&format!("connector.json: api type {}: test.accept must hold HTTP statuses", t.id));
        }
    }
    for e in &m.entities {
        let max_page = match &e.pagination {
            Some(
                format::Pagination::Offset { max_page_size, .. } | format::Pagination::Cursor { max_page_size, .. },
            ) => Some(*max_page_size),
            None => None,
        };
        if max_page == Some(0) || (max_page.is_some() && e.records.is_none()) {
            fail(&format!("connector.json: entity {}: paging needs max_page_size > 0 and records", e.name));
        }
        if let Some(upload) = &e.upload {
            if upload.max_bytes == 0 || upload.types.is_empty() {
                fail(&format!("connector.json: entity {}: upload needs max_bytes > 0 and a content type", e.name));
            }
        }
    }
}

/// The `http::Method` constant of a manifest method (`GET`, `POST`, ...).
fn method_const(method: format::MethodName) -> String {
    format!("{method:?}").to_ascii_uppercase()
}

/// A Rust string literal.
fn lit(text: &str) -> String {
    format!("{text:?}")
}

/// `Some(literal)` or `None`.
fn opt<T: Debug>(value: &Option<T>) -> String {
    value.as_ref().map_or("None".to_string(), |v| format!("Some({v:?})"))
}

/// A slice of string literals.
fn strings(items: &[String]) -> String {
    format!("&[{}]", items.iter().map(|s| lit(s)).collect::<Vec<_>>().join(", "))
}

fn setting(s: &Setting) -> String {
    let show_when = match &s.show_when {
        None => "None".to_string(),
        Some(when) => format!("Some(ShowWhen {{ auth: {} }})", strings(&when.auth)),
    };
    format!(
        "Setting {{ key: {}, label: {}, help: {}, kind: SettingType::{:?}, required: {}, secret: {}, default: {}, min: {}, max: {}, show_when: {show_when} }}",
        lit(&s.key),
        lit(&s.label),
        lit(&s.help),
        s.kind,
        s.required,
        s.secret,
        opt(&s.default),
        opt(&s.min),
        opt(&s.max),
    )
}

fn settings(items: &[Setting]) -> String {
    format!("&[{}]", items.iter().map(setting).collect::<Vec<_>>().join(",\n"))
}

fn api_type(t: &ApiType) -> String {
    let query: Vec<String> = t.test.query.iter().map(|(k, v)| format!("({}, {})", lit(k), lit(v))).collect();
    format!(
        "ApiType {{ id: {}, label: {}, description: {}, hosts: {}, auth: {}, settings: {}, test: Probe {{ method: Method::{}, path: {}, query: &[{}], accept: &{:?}, checks: {} }} }}",
        lit(&t.id),
        lit(&t.label),
        lit(&t.description),
        lit(&t.hosts),
        strings(&t.auth),
        settings(&t.settings),
        method_const(t.test.method),
        lit(&t.test.path),
        query.join(", "),
        t.test.accept,
        lit(&t.test.checks),
    )
}

fn upload(upload: &Option<Upload>) -> String {
    let Some(spec) = upload else { return "None".into() };
    let types: Vec<String> =
        spec.types.iter().map(|(t, extensions)| format!("({}, {})", lit(t), strings(extensions))).collect();
    format!(
        "Some(UploadSpec {{ part: {}, max_bytes: {}, types: &[{}] }})",
        lit(&spec.part),
        spec.max_bytes,
        types.join(", ")
    )
}

fn entity(e: &Entity) -> String {
    let operations: Vec<String> = e
        .operations
        .iter()
        .map(|op| format!("OperationSpec {{ method: Method::{}, path: {} }}", method_const(op.method), lit(&op.path)))
        .collect();
    let checks: Vec<String> = e.checks.iter().map(|c| format!("Check::{c:?}")).collect();
    let pagination = match &e.pagination {
        None => "Pagination::None".to_string(),
        Some(format::Pagination::Offset { page_size_param, max_page_size, next_link }) => format!(
            "Pagination::Offset {{ page_size_param: {}, max_page_size: {max_page_size}, next_link: {} }}",
            lit(page_size_param),
            lit(next_link)
        ),
        Some(format::Pagination::Cursor { page_size_param, max_page_size, cursor_param, cursor_from }) => format!(
            "Pagination::Cursor {{ page_size_param: {}, max_page_size: {max_page_size}, cursor_param: {}, cursor_from: {} }}",
            lit(page_size_param),
            lit(cursor_param),
            lit(cursor_from)
        ),
    };
    format!(
        "EntitySpec {{ name: {}, label: {}, description: {}, api_type: {}, operations: &[{}], records: {}, pagination: {pagination}, primary_key: {}, created_id: {}, checks: &[{}], file_response: {}, header_params: {}, upload: {} }}",
        lit(&e.name),
        lit(&e.label),
        lit(&e.description),
        lit(&e.api_type),
        operations.join(", "),
        opt(&e.records),
        strings(&e.primary_key),
        strings(&e.created_id),
        checks.join(", "),
        matches!(e.response, Some(format::ResponseKind::File)),
        strings(&e.header_params),
        upload(&e.upload),
    )
}

fn manifest_code(m: &Manifest) -> String {
    let choices = |items: &[format::Choice]| {
        let items: Vec<String> =
            items.iter().map(|c| format!("Choice {{ id: {}, label: {} }}", lit(&c.id), lit(&c.label))).collect();
        format!("&[{}]", items.join(", "))
    };
    let auth_kinds: Vec<String> = m
        .panel
        .auth_kinds
        .iter()
        .map(|k| {
            format!("AuthKind {{ id: {}, label: {}, fields: {} }}", lit(&k.id), lit(&k.label), settings(&k.fields))
        })
        .collect();
    let oauth: Vec<String> =
        m.hosts.oauth_token.iter().map(|(env, url)| format!("({}, {})", lit(env), lit(url))).collect();
    let families: Vec<String> = m
        .hosts
        .families
        .iter()
        .map(|(family, environments)| {
            let rows: Vec<String> = environments
                .iter()
                .flat_map(|(env, regions)| {
                    regions.iter().map(move |(region, host)| format!("({}, {}, {})", lit(env), lit(region), lit(host)))
                })
                .collect();
            format!("HostFamily {{ name: {}, hosts: &[{}] }}", lit(family), rows.join(", "))
        })
        .collect();
    format!(
        "// Generated by build.rs from connector.json. Do not edit.\n\n/// The manifest, as Rust data.\npub static MANIFEST: Manifest = Manifest {{\n    id: {},\n    name: {},\n    version: {},\n    wit: {},\n    description: {},\n    panel: Panel {{\n        environments: {},\n        regions: {},\n        auth_kinds: &[{}],\n        common_settings: {},\n        api_types: &[{}],\n    }},\n    hosts: Hosts {{ allowed: {}, oauth_token: &[{}], families: &[{}] }},\n    entities: &[\n{}\n    ],\n}};\n",
        lit(&m.id),
        lit(&m.name),
        lit(&m.version),
        lit(&m.wit),
        lit(&m.description),
        choices(&m.panel.environments),
        choices(&m.panel.regions),
        auth_kinds.join(",\n"),
        settings(&m.panel.common_settings),
        m.panel.api_types.iter().map(api_type).collect::<Vec<_>>().join(",\n"),
        strings(&m.hosts.allowed),
        oauth.join(", "),
        families.join(", "),
        m.entities.iter().map(entity).collect::<Vec<_>>().join(",\n"),
    )
}
