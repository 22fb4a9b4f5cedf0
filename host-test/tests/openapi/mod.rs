//! Klarna's OpenAPI 3.0 documents (vendored in `host-test/specs/klarna`) as
//! JSON Schema, validated by the `jsonschema` crate (draft 2020-12, formats
//! checked). The tests hold the simulator's answers and the connector's
//! request bodies to them.
//!
//! OpenAPI 3.0's schema objects are not quite JSON Schema; [`Spec::new`]
//! rewrites the differences once, for the whole document:
//! - `nullable: true` becomes a `null` alternative;
//! - a `$ref` ignores its sibling keywords (OpenAPI 3.0), so they are dropped,
//!   and spaces in it (Order Management's schema names) are percent-encoded;
//! - boolean `exclusiveMinimum`/`exclusiveMaximum` (draft 4) become numbers;
//! - an enum value written as one string of `a|b|c` alternatives (a quirk of
//!   the Order Management export) becomes those alternatives.

use serde_json::{Map, Value};

/// One place where a value breaks its schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// JSON pointer of the value.
    pub at: String,
    /// What is wrong, as the validator says it.
    pub problem: String,
}

/// A parsed OpenAPI document, its schemas rewritten as JSON Schema.
pub struct Spec {
    doc: Value,
    /// Prefix of every path (the server URL's path, e.g. `/settlements/v1`).
    base_path: String,
}

impl Spec {
    /// Wraps a parsed document; `base_path` is prepended to its paths.
    pub fn new(mut doc: Value, base_path: &str) -> Self {
        to_json_schema(&mut doc);
        Self { doc, base_path: base_path.to_string() }
    }

    /// The operation object for `method` on a concrete `path`, with its template.
    pub fn operation(&self, method: &str, path: &str) -> Option<(String, &Value)> {
        let paths = self.doc.get("paths")?.as_object()?;
        let relative = path.strip_prefix(&self.base_path)?;
        let concrete: Vec<&str> = relative.split('/').collect();
        let mut best: Option<(usize, &String, &Value)> = None;
        for (template, item) in paths {
            let parts: Vec<&str> = template.split('/').collect();
            if parts.len() != concrete.len() {
                continue;
            }
            let mut literal = 0;
            let fits = parts.iter().zip(&concrete).all(|(t, c)| {
                if t.starts_with('{') {
                    true
                } else {
                    literal += 1;
                    t == c
                }
            });
            let operation = item.get(method.to_ascii_lowercase());
            if let (true, Some(op)) = (fits, operation) {
                if best.is_none_or(|(l, _, _)| literal > l) {
                    best = Some((literal, template, op));
                }
            }
        }
        best.map(|(_, t, op)| (format!("{}{t}", self.base_path), op))
    }

    /// The JSON schema of an operation's request body.
    pub fn request_schema<'a>(&'a self, operation: &'a Value) -> Option<&'a Value> {
        self.resolve(operation.get("requestBody")?)?.pointer("/content/application~1json/schema")
    }

    /// The JSON schema of an operation's response with `status` (its
    /// `application/json` content, else its only one, as `*/*` in the
    /// callback spec's validation answer).
    pub fn response_schema<'a>(&'a self, operation: &'a Value, status: u16) -> Option<&'a Value> {
        let response = operation.get("responses")?.get(status.to_string())?;
        let content = self.resolve(response)?.get("content")?.as_object()?;
        let media = content.get("application/json").or_else(|| content.values().next())?;
        media.get("schema")
    }

    /// Whether the operation declares `status` at all.
    pub fn declares(&self, operation: &Value, status: u16) -> bool {
        operation.get("responses").and_then(|r| r.get(status.to_string())).is_some()
    }

    /// A named schema of `components/schemas`.
    pub fn schema(&self, name: &str) -> Option<&Value> {
        self.doc.get("components")?.get("schemas")?.get(name)
    }

    /// Follows `$ref`s to a request body or response object.
    fn resolve<'a>(&'a self, mut value: &'a Value) -> Option<&'a Value> {
        for _ in 0..32 {
            match value.get("$ref").and_then(Value::as_str) {
                Some(reference) => value = self.doc.pointer(&reference.strip_prefix('#')?.replace("%20", " "))?,
                None => return Some(value),
            }
        }
        None
    }

    /// Every way `value` breaks `schema` (a schema of this document, whose
    /// `$ref`s point into its `components`).
    pub fn validate(&self, schema: &Value, value: &Value) -> Vec<Violation> {
        let mut root = Map::new();
        root.insert("$schema".into(), "https://json-schema.org/draft/2020-12/schema".into());
        root.insert("allOf".into(), Value::Array(vec![schema.clone()]));
        if let Some(components) = self.doc.get("components") {
            root.insert("components".into(), components.clone());
        }
        let validator = match jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&Value::Object(root))
        {
            Ok(validator) => validator,
            Err(e) => {
                return vec![Violation { at: String::new(), problem: format!("the schema does not compile: {e}") }]
            }
        };
        validator
            .iter_errors(value)
            .map(|e| Violation { at: e.instance_path().to_string(), problem: e.to_string() })
            .collect()
    }
}

/// Rewrites every schema object of an OpenAPI 3.0 document as JSON Schema
/// 2020-12 (see the module's documentation).
fn to_json_schema(value: &mut Value) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(to_json_schema),
        Value::Object(object) => {
            object.values_mut().for_each(to_json_schema);
            if let Some(Value::String(reference)) = object.get_mut("$ref") {
                // A `$ref` is a URI reference: names with spaces must be percent-encoded.
                *reference = reference.replace(' ', "%20");
                object.retain(|k, _| k == "$ref" || k == "nullable");
            }
            for (exclusive, bound) in [("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")] {
                if let Some(Value::Bool(on)) = object.remove(exclusive) {
                    if let (true, Some(limit)) = (on, object.remove(bound)) {
                        object.insert(exclusive.into(), limit);
                    }
                }
            }
            if let Some(Value::Array(options)) = object.get_mut("enum") {
                let split: Vec<Value> = options
                    .iter()
                    .flat_map(|o| match o.as_str() {
                        Some(text) if text.contains('|') => text.split('|').map(Value::from).collect(),
                        _ => vec![o.clone()],
                    })
                    .collect();
                *options = split;
            }
            if object.remove("nullable") == Some(Value::Bool(true)) {
                match object.get_mut("type") {
                    Some(Value::String(kind)) => {
                        let kind = kind.clone();
                        object.insert("type".into(), Value::Array(vec![kind.into(), "null".into()]));
                        if let Some(Value::Array(options)) = object.get_mut("enum") {
                            options.push(Value::Null);
                        }
                    }
                    _ => {
                        let inner = Value::Object(std::mem::take(object));
                        object.insert("anyOf".into(), Value::Array(vec![serde_json::json!({"type": "null"}), inner]));
                    }
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec() -> Spec {
        Spec::new(
            json!({"components": {"schemas": {
                "Money": {"type": "integer", "minimum": 0, "maximum": 100, "exclusiveMaximum": true},
                "Capture": {"type": "object", "required": ["captured_amount"], "properties": {
                    "captured_amount": {"$ref": "#/components/schemas/Money"},
                    "status": {"type": "string", "enum": ["A|B"]},
                    "note": {"type": "string", "maxLength": 3, "pattern": "^[a-z]+$", "nullable": true},
                    "when": {"type": "string", "format": "date-time"},
                    "kind": {"oneOf": [{"type": "integer"}, {"type": "number"}]},
                    "lines": {"type": "array", "maxItems": 1, "items": {"type": "object"}}}}}}}),
            "",
        )
    }

    #[test]
    fn openapi_quirks_become_json_schema() {
        let spec = spec();
        let schema = json!({"$ref": "#/components/schemas/Capture"});
        let ok = json!({"captured_amount": 99, "status": "B", "note": null, "when": "2026-01-17T10:00:00Z", "kind": 1.5, "lines": [{}]});
        assert_eq!(spec.validate(&schema, &ok), []);
    }

    #[test]
    fn catches_what_it_should() {
        let spec = spec();
        let schema = json!({"$ref": "#/components/schemas/Capture"});
        let cases = [
            (json!({}), ""),
            (json!({"captured_amount": 100}), "/captured_amount"),
            (json!({"captured_amount": 1, "status": "C"}), "/status"),
            (json!({"captured_amount": 1, "note": "abcd"}), "/note"),
            (json!({"captured_amount": 1, "note": "AB"}), "/note"),
            (json!({"captured_amount": 1, "when": "yesterday"}), "/when"),
            (json!({"captured_amount": 1, "kind": 1}), "/kind"),
            (json!({"captured_amount": 1, "lines": [{}, {}]}), "/lines"),
        ];
        for (value, at) in cases {
            let problems = spec.validate(&schema, &value);
            assert_eq!(problems.len(), 1, "{value}: {problems:?}");
            assert_eq!(problems[0].at, at, "{value}: {problems:?}");
        }
    }
}
