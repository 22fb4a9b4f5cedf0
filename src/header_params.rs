//! Request headers a host passes as `params.query` pairs (an entity's
//! `header_params`): split from the query and checked against the limits
//! Klarna documents for them, so a bad value is refused before sending.

use crate::error::{ConnectorError, Result};
use crate::manifest::EntitySpec;
use crate::model::Pairs;

/// How a header's value may look.
struct Rule {
    name: &'static str,
    max_len: usize,
    alphanumeric: bool,
}

/// Klarna Network's documented limits (Partner Product API – Payment,
/// Payment Dispute API); other headers only need visible ASCII.
const RULES: [Rule; 3] = [
    Rule { name: "Partner-Correlation-Id", max_len: 255, alphanumeric: true },
    Rule { name: "Klarna-Interoperability-Token", max_len: 8192, alphanumeric: false },
    Rule { name: "Klarna-Customer-Token", max_len: 1024, alphanumeric: false },
];

/// Headers that only label a request for tracing; they do not change what it
/// does, so a retry with a new one is still the same request.
const LABELS: [&str; 1] = ["Partner-Correlation-Id"];

/// The header parameters that change what a request does (all but [`LABELS`]):
/// those a derived idempotency key must count.
pub fn semantic(headers: &Pairs) -> Pairs {
    headers.iter().filter(|(name, _)| !LABELS.iter().any(|l| l.eq_ignore_ascii_case(name))).cloned().collect()
}

/// Moves the entity's header parameters out of the query: `(query, headers)`.
pub fn split(entity: &EntitySpec, query: &Pairs) -> Result<(Pairs, Pairs)> {
    let (headers, query): (Pairs, Pairs) =
        query.iter().cloned().partition(|(k, _)| entity.header_params.iter().any(|h| h == k));
    for (name, value) in &headers {
        check(name, value)?;
    }
    Ok((query, headers))
}

fn check(name: &str, value: &str) -> Result<()> {
    let field = || format!("params.query.{name}");
    if value.is_empty() || !value.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) {
        return Err(ConnectorError::input(field(), "a header value of visible ASCII characters"));
    }
    let Some(rule) = RULES.iter().find(|r| r.name.eq_ignore_ascii_case(name)) else { return Ok(()) };
    if value.len() > rule.max_len {
        return Err(ConnectorError::input(
            field(),
            format!("{} characters is over Klarna's limit of {}", value.len(), rule.max_len),
        ));
    }
    if rule.alphanumeric && !value.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(ConnectorError::input(field(), "letters and digits only (Klarna: ^[A-Za-z0-9]+$)"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn correlation_ids_only_label_a_request() {
        let headers = vec![
            ("Partner-Correlation-Id".to_string(), "attempt2".to_string()),
            ("Klarna-Customer-Token".to_string(), "krn:t".to_string()),
        ];
        assert_eq!(semantic(&headers), vec![("Klarna-Customer-Token".to_string(), "krn:t".to_string())]);
    }

    #[test]
    fn documented_limits_are_enforced() {
        assert!(check("Partner-Correlation-Id", "order5678").is_ok());
        assert!(check("Partner-Correlation-Id", "order-5678").is_err(), "a hyphen is refused");
        assert!(check("Partner-Correlation-Id", &"a".repeat(256)).is_err());
        assert!(check("Klarna-Interoperability-Token", &"e".repeat(8192)).is_ok());
        assert!(check("Klarna-Interoperability-Token", &"e".repeat(8193)).is_err());
        assert!(check("Klarna-Customer-Token", &"k".repeat(1025)).is_err());
        assert!(check("KeyId", "key with spaces").is_ok(), "no rule: visible ASCII is enough");
        assert!(check("KeyId", "").is_err());
        assert!(check("KeyId", "line\nbreak").is_err());
    }
}
