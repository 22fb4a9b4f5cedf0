//! Turns `connector.json` into Rust statics (`$OUT_DIR/manifest.rs`), so the
//! component carries the entity table as data, with no JSON parser run at
//! start-up, and a malformed manifest fails the build instead of a call.

use std::fmt::Write as _;
use std::{env, fs, path::Path};

use serde_json::{Map, Value};

fn main() {
    println!("cargo:rerun-if-changed=connector.json");
    println!("cargo:rerun-if-changed=build.rs");
    let text =
        fs::read_to_string("connector.json").unwrap_or_else(|e| fail(&format!("cannot read connector.json: {e}")));
    let manifest: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| fail(&format!("connector.json is not JSON: {e}")));
    let code = manifest_code(&manifest);
    let out = Path::new(&env::var("OUT_DIR").unwrap_or_else(|_| fail("OUT_DIR is not set"))).join("manifest.rs");
    fs::write(&out, code).unwrap_or_else(|e| fail(&format!("cannot write {}: {e}", out.display())));
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1)
}

fn obj<'a>(value: &'a Value, at: &str) -> &'a Map<String, Value> {
    value.as_object().unwrap_or_else(|| fail(&format!("connector.json: {at} must be an object")))
}

fn field<'a>(value: &'a Value, key: &str, at: &str) -> &'a Value {
    obj(value, at).get(key).unwrap_or_else(|| fail(&format!("connector.json: {at}.{key} is missing")))
}

fn text(value: &Value, key: &str, at: &str) -> String {
    let v = field(value, key, at);
    format!("{:?}", v.as_str().unwrap_or_else(|| fail(&format!("connector.json: {at}.{key} must be a string"))))
}

fn opt_text(value: &Value, key: &str, at: &str) -> String {
    match obj(value, at).get(key) {
        None | Some(Value::Null) => "None".into(),
        Some(Value::String(s)) => format!("Some({s:?})"),
        Some(_) => fail(&format!("connector.json: {at}.{key} must be a string")),
    }
}

fn opt_u64(value: &Value, key: &str, at: &str) -> String {
    match obj(value, at).get(key) {
        None | Some(Value::Null) => "None".into(),
        Some(v) => format!(
            "Some({})",
            v.as_u64().unwrap_or_else(|| fail(&format!("connector.json: {at}.{key} must be a whole number")))
        ),
    }
}

fn flag(value: &Value, key: &str, at: &str) -> bool {
    field(value, key, at)
        .as_bool()
        .unwrap_or_else(|| fail(&format!("connector.json: {at}.{key} must be true or false")))
}

fn list<'a>(value: &'a Value, key: &str, at: &str) -> &'a [Value] {
    match obj(value, at).get(key) {
        None => &[],
        Some(v) => v
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_else(|| fail(&format!("connector.json: {at}.{key} must be a list"))),
    }
}

fn strings(value: &Value, key: &str, at: &str) -> String {
    let items: Vec<String> = list(value, key, at)
        .iter()
        .map(|v| {
            format!(
                "{:?}",
                v.as_str().unwrap_or_else(|| fail(&format!("connector.json: {at}.{key} must hold strings")))
            )
        })
        .collect();
    format!("&[{}]", items.join(", "))
}

fn variant(value: &Value, key: &str, at: &str, allowed: &[(&str, &str)]) -> String {
    let name = field(value, key, at).as_str().unwrap_or("");
    match allowed.iter().find(|(id, _)| *id == name) {
        Some((_, rust)) => rust.to_string(),
        None => fail(&format!(
            "connector.json: {at}.{key} is {name:?}, expected one of {:?}",
            allowed.iter().map(|a| a.0).collect::<Vec<_>>()
        )),
    }
}

const METHODS: [(&str, &str); 5] = [
    ("get", "MethodName::Get"),
    ("post", "MethodName::Post"),
    ("put", "MethodName::Put"),
    ("patch", "MethodName::Patch"),
    ("delete", "MethodName::Delete"),
];

fn setting(s: &Value, at: &str) -> String {
    let kind = variant(
        s,
        "type",
        at,
        &[
            ("string", "SettingType::String"),
            ("integer", "SettingType::Integer"),
            ("string_list", "SettingType::StringList"),
        ],
    );
    let show_when = match obj(s, at).get("show_when") {
        None | Some(Value::Null) => "None".to_string(),
        Some(when) => format!("Some(ShowWhen {{ auth: {} }})", strings(when, "auth", &format!("{at}.show_when"))),
    };
    format!(
        "Setting {{ key: {}, label: {}, help: {}, kind: {kind}, required: {}, secret: {}, default: {}, min: {}, max: {}, show_when: {show_when} }}",
        text(s, "key", at),
        text(s, "label", at),
        text(s, "help", at),
        flag(s, "required", at),
        flag(s, "secret", at),
        opt_text(s, "default", at),
        opt_u64(s, "min", at),
        opt_u64(s, "max", at),
    )
}

fn settings(value: &Value, key: &str, at: &str) -> String {
    let items: Vec<String> =
        list(value, key, at).iter().enumerate().map(|(i, s)| setting(s, &format!("{at}.{key}[{i}]"))).collect();
    format!("&[{}]", items.join(",\n"))
}

/// The settings every API type has (timeouts, retries): integers whose
/// defaults the connector uses when a field is left empty, so each needs one.
fn common_settings(panel: &Value) -> String {
    for (i, s) in list(panel, "common_settings", "panel").iter().enumerate() {
        if s["type"] == "integer" && s["default"].as_str().is_none_or(|d| d.parse::<u64>().is_err()) {
            fail(&format!("connector.json: panel.common_settings[{i}] needs a whole-number default"));
        }
    }
    settings(panel, "common_settings", "panel")
}

fn choices(value: &Value, key: &str, at: &str) -> String {
    let items: Vec<String> = list(value, key, at)
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let at = format!("{at}.{key}[{i}]");
            format!("Choice {{ id: {}, label: {} }}", text(c, "id", &at), text(c, "label", &at))
        })
        .collect();
    format!("&[{}]", items.join(", "))
}

fn pairs(value: &Value, key: &str, at: &str) -> String {
    let items: Vec<String> = list(value, key, at)
        .iter()
        .map(|p| match p.as_array().map(Vec::as_slice) {
            Some([Value::String(k), Value::String(v)]) => format!("({k:?}, {v:?})"),
            _ => fail(&format!("connector.json: {at}.{key} must hold [name, value] pairs")),
        })
        .collect();
    format!("&[{}]", items.join(", "))
}

/// The checks an entity's payload gets; only known ones are accepted.
const CHECKS: [(&str, &str); 3] = [
    ("order", "Check::Order"),
    ("payment_request", "Check::PaymentRequest"),
    ("payment_authorization", "Check::PaymentAuthorization"),
];

fn checks(entity: &Value, at: &str) -> String {
    let items: Vec<String> = list(entity, "checks", at)
        .iter()
        .enumerate()
        .map(|(i, check)| {
            variant(&serde_json::json!({ "check": check }), "check", &format!("{at}.checks[{i}]"), &CHECKS)
        })
        .collect();
    format!("&[{}]", items.join(", "))
}

/// A file upload (`multipart/form-data`): the part's name, the size limit and
/// the accepted content types with their file name extensions.
fn upload(entity: &Value, at: &str) -> String {
    let Some(spec) = obj(entity, at).get("upload") else { return "None".into() };
    let at = format!("{at}.upload");
    let max_bytes = spec["max_bytes"]
        .as_u64()
        .filter(|n| *n > 0)
        .unwrap_or_else(|| fail(&format!("connector.json: {at}.max_bytes must be a positive whole number")));
    let types: Vec<String> = obj(field(spec, "types", &at), &format!("{at}.types"))
        .iter()
        .map(|(content_type, extensions)| {
            let extensions =
                strings(&serde_json::json!({ "e": extensions }), "e", &format!("{at}.types.{content_type}"));
            format!("({content_type:?}, {extensions})")
        })
        .collect();
    if types.is_empty() {
        fail(&format!("connector.json: {at}.types must name at least one content type"));
    }
    format!(
        "Some(UploadSpec {{ part: {}, max_bytes: {max_bytes}, types: &[{}] }})",
        text(spec, "part", &at),
        types.join(", ")
    )
}

fn manifest_code(m: &Value) -> String {
    let mut out = String::from("// Generated by build.rs from connector.json. Do not edit.\n\n");
    let panel = field(m, "panel", "manifest");
    let auth_kinds: Vec<String> = list(panel, "auth_kinds", "panel")
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let at = format!("panel.auth_kinds[{i}]");
            field(k, "wit", &at);
            format!(
                "AuthKind {{ id: {}, label: {}, fields: {} }}",
                text(k, "id", &at),
                text(k, "label", &at),
                settings(k, "fields", &at)
            )
        })
        .collect();
    let api_types: Vec<String> = list(panel, "api_types", "panel")
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let at = format!("panel.api_types[{i}]");
            let probe = field(t, "test", &at);
            let probe_at = format!("{at}.test");
            let accept: Vec<String> = list(probe, "accept", &probe_at)
                .iter()
                .map(|s| s.as_u64().filter(|s| (100..600).contains(s)).map(|s| s.to_string()).unwrap_or_else(|| fail(&format!("connector.json: {probe_at}.accept must hold statuses"))))
                .collect();
            format!(
                "ApiType {{ id: {}, label: {}, description: {}, hosts: {}, auth: {}, settings: {}, test: Probe {{ method: {}, path: {}, query: {}, accept: &[{}], checks: {} }} }}",
                text(t, "id", &at),
                text(t, "label", &at),
                text(t, "description", &at),
                text(t, "hosts", &at),
                strings(t, "auth", &at),
                settings(t, "settings", &at),
                variant(probe, "method", &probe_at, &METHODS),
                text(probe, "path", &probe_at),
                pairs(probe, "query", &probe_at),
                accept.join(", "),
                text(probe, "checks", &probe_at),
            )
        })
        .collect();
    let hosts = field(m, "hosts", "manifest");
    let mut families = vec![];
    let mut oauth = vec![];
    for (name, table) in obj(hosts, "hosts") {
        match name.as_str() {
            "allowed" => {}
            "oauth_token" => {
                for (env, url) in obj(table, "hosts.oauth_token") {
                    oauth.push(format!(
                        "({env:?}, {:?})",
                        url.as_str()
                            .unwrap_or_else(|| fail("connector.json: hosts.oauth_token values must be strings"))
                    ));
                }
            }
            family => {
                let mut rows = vec![];
                for (env, regions) in obj(table, &format!("hosts.{family}")) {
                    for (region, host) in obj(regions, &format!("hosts.{family}.{env}")) {
                        let host = host.as_str().unwrap_or_else(|| {
                            fail(&format!("connector.json: hosts.{family}.{env}.{region} must be a string"))
                        });
                        rows.push(format!("({env:?}, {region:?}, {host:?})"));
                    }
                }
                families.push(format!("HostFamily {{ name: {family:?}, hosts: &[{}] }}", rows.join(", ")));
            }
        }
    }
    let entities: Vec<String> = list(m, "entities", "manifest")
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let at = format!("entities[{i}]");
            let operations: Vec<String> = list(e, "operations", &at)
                .iter()
                .enumerate()
                .map(|(j, op)| {
                    let op_at = format!("{at}.operations[{j}]");
                    format!("OperationSpec {{ method: {}, path: {} }}", variant(op, "method", &op_at, &METHODS), text(op, "path", &op_at))
                })
                .collect();
            format!(
                "EntitySpec {{ name: {}, label: {}, description: {}, api_type: {}, operations: &[{}], records: {}, pagination: {}, primary_key: {}, created_id: {}, checks: {}, file_response: {}, header_params: {}, upload: {} }}",
                text(e, "name", &at),
                text(e, "label", &at),
                text(e, "description", &at),
                text(e, "api_type", &at),
                operations.join(", "),
                opt_text(e, "records", &at),
                variant(e, "pagination", &at, &[("none", "Pagination::None"), ("offset", "Pagination::Offset"), ("cursor", "Pagination::Cursor")]),
                strings(e, "primary_key", &at),
                strings(e, "created_id", &at),
                checks(e, &at),
                match obj(e, &at).get("response").and_then(Value::as_str) {
                    None | Some("json") => false,
                    Some("file") => true,
                    Some(other) => fail(&format!("connector.json: {at}.response is {other:?}, expected \"json\" or \"file\"")),
                },
                strings(e, "header_params", &at),
                upload(e, &at),
            )
        })
        .collect();
    let _ = write!(
        out,
        "/// The manifest, as Rust data.\npub static MANIFEST: Manifest = Manifest {{\n    id: {},\n    name: {},\n    version: {},\n    wit: {},\n    description: {},\n    panel: Panel {{\n        environments: {},\n        regions: {},\n        auth_kinds: &[{}],\n        common_settings: {},\n        api_types: &[{}],\n    }},\n    hosts: Hosts {{ allowed: {}, oauth_token: &[{}], families: &[{}] }},\n    entities: &[\n{}\n    ],\n}};\n",
        text(m, "id", "manifest"),
        text(m, "name", "manifest"),
        text(m, "version", "manifest"),
        text(m, "wit", "manifest"),
        text(m, "description", "manifest"),
        choices(panel, "environments", "panel"),
        choices(panel, "regions", "panel"),
        auth_kinds.join(",\n"),
        common_settings(panel),
        api_types.join(",\n"),
        strings(hosts, "allowed", "hosts"),
        oauth.join(", "),
        families.join(", "),
        entities.join(",\n"),
    );
    out
}
