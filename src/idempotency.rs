//! `Klarna-Idempotency-Key`: the host's key, or one derived from the request.
//!
//! A derived key is a UUID v5 (the form Klarna suggests) of the entity, the
//! method, the path parameters, the header parameters and the payload in
//! canonical JSON. A host that
//! re-sends the same record after a crash therefore gets the same key, and
//! Klarna applies the write once. The price: two deliberate, identical writes
//! (two equal partial captures) need two distinct host keys.

use std::fmt::Write as _;

use crate::error::{ConnectorError, Result};
use crate::json::{write_string, Value};
use crate::model::{Method, Pairs};
use crate::uuid::Uuid;

/// Namespace of derived keys (a fixed, random UUID of this connector).
const NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_2a4e_93b7_4d0a_8c55_1e2f_7a9b_3c11);

/// Klarna Network APIs accept keys of at most 255 characters.
const MAX_KEY_LEN: usize = 255;

/// Checks a host-chosen key: 1 to 255 visible ASCII characters.
pub fn check_key(key: &str) -> Result<()> {
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err(ConnectorError::input("idempotency-key", format!("must be 1 to {MAX_KEY_LEN} characters")));
    }
    if !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ConnectorError::input("idempotency-key", "must be visible ASCII characters only"));
    }
    Ok(())
}

/// The key derived from a request (`payload` already parsed, so key order and
/// white space do not matter). Header parameters count (a payment request
/// with a customer token is another request than one without); requests
/// without any derive the same keys as before header parameters existed.
pub fn derive(entity: &str, method: &Method, path: &Pairs, headers: &Pairs, payload: Option<&Value>) -> String {
    // One pair type for both lists, so the component carries one sort, not two.
    let mut path: Vec<(String, &str)> = path.iter().map(|(k, v)| (k.clone(), v.as_str())).collect();
    path.sort_unstable(); // whole pairs: equal ones are identical, so stability is moot
    let mut headers: Vec<(String, &str)> = headers.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.as_str())).collect();
    headers.sort_unstable();
    let canonical = canonical(entity, &headers, method.as_str(), &path, payload);
    Uuid::new_v5(&NAMESPACE, canonical.as_bytes()).hyphenated()
}

/// What a derived key is a hash of: `{"entity":…,"headers":[[name,value],…],
/// "method":…,"path":[[name,value],…],"payload":…}`, compact, members in
/// alphabetical order (as a JSON object with sorted keys has them), and
/// `headers` left out when there are none, so keys stay what they were.
fn canonical(
    entity: &str,
    headers: &[(String, &str)],
    method: &str,
    path: &[(String, &str)],
    payload: Option<&Value>,
) -> String {
    let pairs = |out: &mut String, pairs: &[(String, &str)]| {
        out.push('[');
        for (i, (name, value)) in pairs.iter().enumerate() {
            out.push_str(if i == 0 { "[" } else { ",[" });
            let _ = write_string(out, name);
            out.push(',');
            let _ = write_string(out, value);
            out.push(']');
        }
        out.push(']');
    };
    // Writing into a String cannot fail.
    let mut out = String::from("{\"entity\":");
    let _ = write_string(&mut out, entity);
    if !headers.is_empty() {
        out.push_str(",\"headers\":");
        pairs(&mut out, headers);
    }
    out.push_str(",\"method\":");
    let _ = write_string(&mut out, method);
    out.push_str(",\"path\":");
    pairs(&mut out, path);
    out.push_str(",\"payload\":");
    let _ = write!(out, "{}", payload.unwrap_or(&Value::Null));
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::json;

    #[test]
    fn same_request_same_key_whatever_the_json_layout() {
        let path = vec![("order_id".to_string(), "o1".to_string())];
        let a = derive(
            "order-captures",
            &Method::Post,
            &path,
            &vec![],
            Some(&json!({"captured_amount": 100, "description": "x"})),
        );
        let b: Value = crate::json::from_str(r#"{ "description":"x",  "captured_amount":100 }"#).expect("json");
        assert_eq!(a, derive("order-captures", &Method::Post, &path, &vec![], Some(&b)));
        assert_ne!(a, derive("order-captures", &Method::Post, &path, &vec![], Some(&json!({"captured_amount": 101}))));
        assert_ne!(
            a,
            derive(
                "order-refunds",
                &Method::Post,
                &path,
                &vec![],
                Some(&json!({"captured_amount": 100, "description": "x"}))
            )
        );
        assert_eq!(::uuid::Uuid::parse_str(&a).map(|u| u.get_version_num()), Ok(5));
    }

    #[test]
    fn header_parameters_count_and_keys_stay_stable() {
        let payload = json!({"currency": "EUR", "amount": 100});
        let plain = derive("payment-requests", &Method::Post, &vec![], &vec![], Some(&payload));
        let token = vec![("Klarna-Customer-Token".to_string(), "krn:t".to_string())];
        let tokenized = derive("payment-requests", &Method::Post, &vec![], &token, Some(&payload));
        assert_ne!(plain, tokenized, "a customer token makes another request");
        let lower = vec![("klarna-customer-token".to_string(), "krn:t".to_string())];
        assert_eq!(tokenized, derive("payment-requests", &Method::Post, &vec![], &lower, Some(&payload)));
        // A host retrying across a connector upgrade must get the same key.
        let path = vec![("order_id".to_string(), "o1".to_string())];
        let capture = derive("order-captures", &Method::Post, &path, &vec![], Some(&json!({"captured_amount": 100})));
        assert_eq!(capture, "5b539176-bf8a-5f3c-b8f1-9aec70f1fc60");
    }

    #[test]
    fn parameter_order_does_not_change_the_key() {
        let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
        let key = |path: &Pairs, headers: &Pairs| derive("e", &Method::Post, path, headers, None);
        let (a, b) = (pair("order_id", "o1"), pair("capture_id", "c1"));
        let (h, i) = (pair("Klarna-Customer-Token", "t"), pair("X-Other", "x"));
        let forward = key(&vec![a.clone(), b.clone()], &vec![h.clone(), i.clone()]);
        assert_eq!(forward, key(&vec![b.clone(), a.clone()], &vec![i, h]));
        assert_ne!(forward, key(&vec![a, pair("capture_id", "c2")], &vec![]));
    }

    #[test]
    fn host_keys_are_checked() {
        assert!(check_key("order-1-capture-1").is_ok());
        assert!(check_key("").is_err());
        assert!(check_key("a b").is_err());
        assert!(check_key(&"k".repeat(256)).is_err());
    }
}
