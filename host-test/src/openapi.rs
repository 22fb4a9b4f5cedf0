//! A small OpenAPI 3.0 schema checker, enough for Klarna's published specs:
//! `$ref`, `type`, `properties`, `required`, `items`, `enum`, `allOf`,
//! `oneOf`/`anyOf`, `nullable`, `additionalProperties`, `minimum`/`maximum`.
//! Used by the tests to hold the simulator (and the connector's requests)
//! to `../shared/specs/klarna`.

use serde_json::Value;

/// One place where a value breaks its schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// JSON pointer of the value.
    pub at: String,
    /// What is wrong.
    pub problem: String,
}

/// A parsed OpenAPI document.
pub struct Spec {
    doc: Value,
    /// Prefix of every path (the server URL's path, e.g. `/settlements/v1`).
    base_path: String,
}

impl Spec {
    /// Wraps a parsed document; `base_path` is prepended to its paths.
    pub fn new(doc: Value, base_path: &str) -> Self {
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

    /// The JSON schema of an operation's response with `status`.
    pub fn response_schema<'a>(&'a self, operation: &'a Value, status: u16) -> Option<&'a Value> {
        let response = operation.get("responses")?.get(status.to_string())?;
        self.resolve(response)?.pointer("/content/application~1json/schema")
    }

    /// Whether the operation declares `status` at all.
    pub fn declares(&self, operation: &Value, status: u16) -> bool {
        operation.get("responses").and_then(|r| r.get(status.to_string())).is_some()
    }

    /// A named schema of `components/schemas`.
    pub fn schema(&self, name: &str) -> Option<&Value> {
        self.doc.get("components")?.get("schemas")?.get(name)
    }

    fn resolve<'a>(&'a self, mut value: &'a Value) -> Option<&'a Value> {
        for _ in 0..32 {
            match value.get("$ref").and_then(Value::as_str) {
                Some(reference) => {
                    value = self.doc.pointer(reference.strip_prefix('#')?)?;
                }
                None => return Some(value),
            }
        }
        None
    }

    /// Every way `value` breaks `schema`.
    pub fn validate(&self, schema: &Value, value: &Value) -> Vec<Violation> {
        let mut out = vec![];
        self.check(schema, value, "", &mut out);
        out
    }

    fn check(&self, schema: &Value, value: &Value, at: &str, out: &mut Vec<Violation>) {
        let Some(schema) = self.resolve(schema) else {
            out.push(Violation { at: at.into(), problem: "unresolvable $ref".into() });
            return;
        };
        if value.is_null() && schema.get("nullable").and_then(Value::as_bool) == Some(true) {
            return;
        }
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            for s in all {
                self.check(s, value, at, out);
            }
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(options) = schema.get(key).and_then(Value::as_array) {
                if !options.iter().any(|s| self.validate(s, value).is_empty()) {
                    out.push(Violation { at: at.into(), problem: format!("matches none of {key}") });
                }
            }
        }
        let mut fail = |problem: String| out.push(Violation { at: at.to_string(), problem });
        if let Some(kind) = schema.get("type").and_then(Value::as_str) {
            let ok = match kind {
                "object" => value.is_object(),
                "array" => value.is_array(),
                "string" => value.is_string(),
                "integer" => value.is_i64() || value.is_u64(),
                "number" => value.is_number(),
                "boolean" => value.is_boolean(),
                _ => true,
            };
            if !ok {
                fail(format!("expected {kind}, got {value}"));
                return;
            }
        }
        if let Some(options) = schema.get("enum").and_then(Value::as_array) {
            // Spec quirk: the Order Management export writes some enums as one
            // string of `a|b|c` alternatives.
            let alternative = |o: &Value| {
                o.as_str().is_some_and(|o| o.contains('|') && o.split('|').any(|a| Some(a) == value.as_str()))
            };
            if !options.contains(value) && !options.iter().any(alternative) {
                fail(format!("{value} is not one of {}", Value::Array(options.clone())));
            }
        }
        if let (Some(min), Some(n)) = (schema.get("minimum").and_then(Value::as_f64), value.as_f64()) {
            if n < min {
                fail(format!("{n} is below the minimum {min}"));
            }
        }
        if let (Some(max), Some(n)) = (schema.get("maximum").and_then(Value::as_f64), value.as_f64()) {
            if n > max {
                fail(format!("{n} is above the maximum {max}"));
            }
        }
        if let Value::Object(map) = value {
            if let Some(required) = schema.get("required").and_then(Value::as_array) {
                for name in required.iter().filter_map(Value::as_str) {
                    if !map.contains_key(name) {
                        fail(format!("missing required property {name}"));
                    }
                }
            }
            let properties = schema.get("properties").and_then(Value::as_object);
            for (name, item) in map {
                let child = format!("{at}/{name}");
                match (properties.and_then(|p| p.get(name)), schema.get("additionalProperties")) {
                    (Some(s), _) => self.check(s, item, &child, out),
                    (None, Some(Value::Bool(false))) => {
                        out.push(Violation { at: child, problem: "property not allowed".into() })
                    }
                    (None, Some(s)) if s.is_object() => self.check(s, item, &child, out),
                    _ => {}
                }
            }
        }
        if let (Value::Array(items), Some(item_schema)) = (value, schema.get("items")) {
            for (i, item) in items.iter().enumerate() {
                self.check(item_schema, item, &format!("{at}/{i}"), out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn catches_what_it_should() {
        let doc = json!({"components": {"schemas": {
            "Money": {"type": "integer", "minimum": 0},
            "Capture": {"type": "object", "required": ["captured_amount"], "properties": {
                "captured_amount": {"$ref": "#/components/schemas/Money"},
                "status": {"type": "string", "enum": ["A", "B"]},
                "lines": {"type": "array", "items": {"type": "object"}}}}}}});
        let spec = Spec::new(doc, "");
        let schema = json!({"$ref": "#/components/schemas/Capture"});
        assert!(spec.validate(&schema, &json!({"captured_amount": 5, "status": "A", "lines": [{}]})).is_empty());
        let problems = spec.validate(&schema, &json!({"captured_amount": -1, "status": "C", "lines": [1]}));
        let at: Vec<_> = problems.iter().map(|v| v.at.as_str()).collect();
        assert_eq!(at, ["/captured_amount", "/lines/0", "/status"]);
        assert_eq!(spec.validate(&schema, &json!({}))[0].problem, "missing required property captured_amount");
    }
}
