//! The event templates of connector.json's callbacks: `{source}` placeholders
//! where a source is `query.<param>`, `path.<route parameter>`, `body.<dotted.path>` or `digest` (the
//! SHA-256 of the body, in hex), and `{a|b}` takes the first one present.
//! build.rs checks every template names only these sources.

use sha2::{Digest, Sha256};

use super::incoming::{at, Incoming};
use crate::error::{ConnectorError, Result};
use crate::path::fill;
use serde_json::Value;

/// Longest event kind or id accepted (Klarna's `event_id` is at most 255).
pub const MAX_RENDERED_CHARS: usize = 512;

/// What templates are filled from.
pub struct Sources<'a> {
    /// The delivery.
    pub incoming: &'a Incoming<'a>,
    /// Its body, when it is JSON.
    pub body: Option<&'a Value>,
}

impl Sources<'_> {
    /// One source's value: a non-empty string or a number; objects, lists and
    /// empty strings count as absent.
    pub fn value(&self, source: &str) -> Option<String> {
        if source == "digest" {
            let digest = Sha256::digest(&self.incoming.request.body);
            return Some(hex::encode(digest));
        }
        if let Some(param) = source.strip_prefix("query.") {
            return self.incoming.query(param).filter(|v| !v.is_empty()).map(str::to_string);
        }
        if let Some(param) = source.strip_prefix("path.") {
            return self.incoming.param(param).map(str::to_string);
        }
        let path = source.strip_prefix("body.")?;
        match at(self.body?, path)? {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// The first present value of `a|b|…`, or `invalid-input` naming the first source.
    pub fn first(&self, alternatives: &str) -> Result<String> {
        alternatives
            .split('|')
            .find_map(|source| self.value(source))
            .ok_or_else(|| ConnectorError::input(alternatives.split('|').next().unwrap_or(alternatives), "required"))
    }

    /// Fills `template`; the result is at most [`MAX_RENDERED_CHARS`] and holds no control characters.
    pub fn render(&self, template: &str) -> Result<String> {
        let out = fill(template, &mut |source| self.first(source))?;
        if out.chars().count() > MAX_RENDERED_CHARS || out.chars().any(char::is_control) {
            return Err(ConnectorError::input(
                template,
                format!("must be at most {MAX_RENDERED_CHARS} characters without control characters"),
            ));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{IncomingRequest, Method};
    use serde_json::json;

    #[test]
    fn templates_take_the_first_present_source() {
        let request = IncomingRequest {
            method: Method::Post,
            path: "/checkout/push?order_id=o-1".into(),
            headers: vec![],
            body: b"{}".to_vec(),
        };
        let incoming = Incoming::parse(&request).expect("parsed");
        let body = json!({"metadata": {"event_id": "e-1", "n": 7, "empty": ""}});
        let sources = Sources { incoming: &incoming, body: Some(&body) };
        assert_eq!(sources.render("{body.event_id|body.metadata.event_id}").expect("id"), "e-1");
        assert_eq!(sources.render("push:{query.order_id}:{body.metadata.n}").expect("id"), "push:o-1:7");
        assert_eq!(
            sources.render("{digest}").expect("digest"),
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        let missing = sources.render("{body.metadata.empty|body.metadata.event_type}").expect_err("missing");
        assert_eq!(missing.to_string(), "invalid input: body.metadata.empty: required");
    }
}
