//! `Klarna-Idempotency-Key`: the host's key, or one derived from the request.
//!
//! A derived key is a UUID v5 (the form Klarna suggests) of the entity, the
//! method, the path parameters and the payload in canonical JSON. A host that
//! re-sends the same record after a crash therefore gets the same key, and
//! Klarna applies the write once. The price: two deliberate, identical writes
//! (two equal partial captures) need two distinct host keys.

use serde_json::Value;
use uuid::Uuid;

use crate::error::{ConnectorError, Result};
use crate::model::{Method, Pairs};

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
/// white space do not matter).
pub fn derive(entity: &str, method: &Method, path: &Pairs, payload: Option<&Value>) -> String {
    let mut path: Vec<_> = path.iter().collect();
    path.sort();
    let canonical = serde_json::json!({
        "entity": entity,
        "method": method.as_str(),
        "path": path,
        "payload": payload,
    });
    Uuid::new_v5(&NAMESPACE, canonical.to_string().as_bytes()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn same_request_same_key_whatever_the_json_layout() {
        let path = vec![("order_id".to_string(), "o1".to_string())];
        let a =
            derive("order-captures", &Method::POST, &path, Some(&json!({"captured_amount": 100, "description": "x"})));
        let b: Value = serde_json::from_str(r#"{ "description":"x",  "captured_amount":100 }"#).expect("json");
        assert_eq!(a, derive("order-captures", &Method::POST, &path, Some(&b)));
        assert_ne!(a, derive("order-captures", &Method::POST, &path, Some(&json!({"captured_amount": 101}))));
        assert_ne!(
            a,
            derive("order-refunds", &Method::POST, &path, Some(&json!({"captured_amount": 100, "description": "x"})))
        );
        assert_eq!(Uuid::parse_str(&a).map(|u| u.get_version_num()), Ok(5));
    }

    #[test]
    fn host_keys_are_checked() {
        assert!(check_key("order-1-capture-1").is_ok());
        assert!(check_key("").is_err());
        assert!(check_key("a b").is_err());
        assert!(check_key(&"k".repeat(256)).is_err());
    }
}
