//! `Klarna-Idempotency-Key`: the host's key, or one derived from the request.
//!
//! A derived key is the UUID v5 (the form Klarna suggests), in this
//! connector's namespace, of the RFC 8785 (JSON Canonicalization Scheme)
//! form of the object
//! `{"entity", "headers"?, "method", "path", "payload"}`:
//!
//! - `entity`: the entity's name; `method`: `POST` or `PATCH`;
//! - `path`: the path parameters as `[name, value]` pairs, sorted;
//! - `headers`: the header parameters as `[lowercased name, value]` pairs,
//!   sorted, left out when there are none;
//! - `payload`: the payload as JSON (`null` when none).
//!
//! RFC 8785 writes members sorted and numbers as JavaScript does, so `1.5`
//! and `1.50`, `-0` and `0`, or two orders of the same members give one key;
//! any language with a JCS library and UUID v5 can reproduce a key (the jco
//! suite does, with npm's `canonicalize` and `uuid`). A host that re-sends
//! the same record after a crash therefore gets the same key, and Klarna
//! applies the write once. The price: two deliberate, identical writes (two
//! equal partial captures) need two distinct host keys.

use serde_json::{json, Value};
use sha1::{Digest, Sha1};
use uuid::Uuid;

use crate::error::{ConnectorError, Result};
use crate::model::{Method, Pairs};

/// Namespace of derived keys (a fixed, random UUID of this connector).
pub const NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_2a4e_93b7_4d0a_8c55_1e2f_7a9b_3c11);

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

/// The key derived from a request (`payload` already parsed).
pub fn derive(entity: &str, method: &Method, path: &Pairs, headers: &Pairs, payload: Option<&Value>) -> Result<String> {
    let mut hasher = HashWriter(Sha1::new().chain_update(NAMESPACE.as_bytes()));
    write_canonical(&mut hasher, entity, method, path, headers, payload)?;
    Ok(uuid_from_sha1(hasher.0).hyphenated().to_string())
}

/// The UUID v5 of `name` in `namespace` (RFC 9562 §5.5: the SHA-1 of the
/// namespace's bytes then the name, made a UUID by the uuid crate, which
/// sets the version and variant bits). SHA-1 comes from RustCrypto's `sha1`,
/// which shares its `digest` core with the `sha2` the webhooks need, where
/// the uuid crate's own `v5` would link a second SHA-1.
pub fn uuid_v5(namespace: &Uuid, name: &[u8]) -> Uuid {
    uuid_from_sha1(Sha1::new().chain_update(namespace.as_bytes()).chain_update(name))
}

fn uuid_from_sha1(hasher: Sha1) -> Uuid {
    let hash = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hash[..16]);
    uuid::Builder::from_sha1_bytes(bytes).into_uuid()
}

/// Feeds what is written into a SHA-1, so a large payload's canonical form
/// (an upload's file in base64) is hashed as it is written, never held whole.
struct HashWriter(Sha1);

impl std::io::Write for HashWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The RFC 8785 text a derived key is the UUID v5 of.
pub fn canonical(
    entity: &str,
    method: &Method,
    path: &Pairs,
    headers: &Pairs,
    payload: Option<&Value>,
) -> Result<String> {
    let mut out = Vec::new();
    write_canonical(&mut out, entity, method, path, headers, payload)?;
    String::from_utf8(out).map_err(|_| ConnectorError::input("params.payload", "has no canonical form (RFC 8785)"))
}

/// Writes the RFC 8785 form of `{"entity", "headers"?, "method", "path",
/// "payload"}`: the members in that order, which is RFC 8785's (their
/// names are ASCII), each value in its RFC 8785 form, so the payload is
/// neither copied nor buffered a second time inside a wrapping object.
fn write_canonical(
    out: &mut dyn std::io::Write,
    entity: &str,
    method: &Method,
    path: &Pairs,
    headers: &Pairs,
    payload: Option<&Value>,
) -> Result<()> {
    let mut path: Vec<(&str, &str)> = path.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    path.sort_unstable();
    let names: Vec<String> = headers.iter().map(|(k, _)| k.to_ascii_lowercase()).collect();
    let mut headers: Vec<(&str, &str)> =
        names.iter().zip(headers).map(|(k, (_, v))| (k.as_str(), v.as_str())).collect();
    headers.sort_unstable();
    let failed = |e: &dyn std::fmt::Display| {
        ConnectorError::input("params.payload", format!("has no canonical form (RFC 8785): {e}"))
    };
    // Every member as a `Value` (the small ones copied), so one canonical writer is compiled.
    let mut member = |name: &str, value: &Value| -> Result<()> {
        out.write_all(name.as_bytes()).map_err(|e| failed(&e))?;
        serde_json_canonicalizer::to_writer(value, &mut &mut *out).map_err(|e| failed(&e))
    };
    member("{\"entity\":", &json!(entity))?;
    if !headers.is_empty() {
        member(",\"headers\":", &json!(headers))?;
    }
    member(",\"method\":", &json!(method.as_str()))?;
    member(",\"path\":", &json!(path))?;
    member(",\"payload\":", payload.unwrap_or(&Value::Null))?;
    out.write_all(b"}").map_err(|e| failed(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(entity: &str, path: &[(&str, &str)], headers: &[(&str, &str)], payload: &str) -> String {
        let pairs = |items: &[(&str, &str)]| items.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let payload: Value = serde_json::from_str(payload).expect("JSON");
        derive(entity, &Method::Post, &pairs(path), &pairs(headers), Some(&payload)).expect("a key")
    }

    /// Known keys, pinned: a host that reproduces the derivation (docs/host-guide.md,
    /// "Idempotency keys") gets these, and so does the jco suite.
    #[test]
    fn known_vectors() {
        let capture = key("order-captures", &[("order_id", "o1")], &[], r#"{"captured_amount":100}"#);
        assert_eq!(capture, "5b539176-bf8a-5f3c-b8f1-9aec70f1fc60", "unchanged from 0.2.0: integers only");
        assert_eq!(
            canonical(
                "order-captures",
                &Method::Post,
                &vec![("order_id".into(), "o1".into())],
                &vec![],
                Some(&json!({"captured_amount": 100}))
            )
            .expect("canonical"),
            r#"{"entity":"order-captures","method":"POST","path":[["order_id","o1"]],"payload":{"captured_amount":100}}"#
        );
        let token =
            key("payment-requests", &[], &[("Klarna-Customer-Token", "krn:t")], r#"{"amount":1.5,"currency":"EUR"}"#);
        assert_eq!(token, "5f88e74d-d8f3-59cc-b603-78d902757c3b");
    }

    #[test]
    fn numbers_and_member_order_do_not_change_the_key() {
        let a = key(
            "order-captures",
            &[("order_id", "o1")],
            &[],
            r#"{"captured_amount":100,"description":"x","rate":1.5}"#,
        );
        for same in [
            r#"{ "description":"x",  "rate":1.50, "captured_amount":100 }"#,
            r#"{"captured_amount":1e2,"description":"x","rate":15e-1}"#,
            r#"{"captured_amount":100.0,"description":"\u0078","rate":1.5}"#,
        ] {
            assert_eq!(a, key("order-captures", &[("order_id", "o1")], &[], same), "{same}");
        }
        assert_ne!(
            a,
            key(
                "order-captures",
                &[("order_id", "o1")],
                &[],
                r#"{"captured_amount":101,"description":"x","rate":1.5}"#
            )
        );
        assert_ne!(
            a,
            key("order-refunds", &[("order_id", "o1")], &[], r#"{"captured_amount":100,"description":"x","rate":1.5}"#)
        );
        assert_eq!(Uuid::parse_str(&a).map(|u| u.get_version_num()), Ok(5));
    }

    /// RFC 8785 §3.2.2.3: minus zero is written `0`.
    #[test]
    fn minus_zero_is_zero() {
        let zero = key("e", &[], &[], r#"{"n":0}"#);
        assert_eq!(zero, key("e", &[], &[], r#"{"n":-0}"#));
        assert_eq!(zero, key("e", &[], &[], r#"{"n":-0.0}"#));
        assert_eq!(
            canonical("e", &Method::Post, &vec![], &vec![], Some(&json!({"n": -0.0}))).expect("canonical"),
            r#"{"entity":"e","method":"POST","path":[],"payload":{"n":0}}"#
        );
    }

    #[test]
    fn header_parameters_count_in_any_case() {
        let plain = key("payment-requests", &[], &[], r#"{"currency":"EUR","amount":100}"#);
        let tokenized =
            key("payment-requests", &[], &[("Klarna-Customer-Token", "krn:t")], r#"{"currency":"EUR","amount":100}"#);
        assert_ne!(plain, tokenized, "a customer token makes another request");
        let lower =
            key("payment-requests", &[], &[("klarna-customer-token", "krn:t")], r#"{"currency":"EUR","amount":100}"#);
        assert_eq!(tokenized, lower);
    }

    #[test]
    fn parameter_order_does_not_change_the_key() {
        let forward = key(
            "e",
            &[("order_id", "o1"), ("capture_id", "c1")],
            &[("Klarna-Customer-Token", "t"), ("X-Other", "x")],
            "{}",
        );
        assert_eq!(
            forward,
            key(
                "e",
                &[("capture_id", "c1"), ("order_id", "o1")],
                &[("X-Other", "x"), ("Klarna-Customer-Token", "t")],
                "{}"
            )
        );
        assert_ne!(forward, key("e", &[("order_id", "o1"), ("capture_id", "c2")], &[], "{}"));
    }

    #[test]
    fn uuid_v5_is_the_uuid_crates() {
        for name in [&b""[..], b"a", b"order-captures", &[0xff; 300]] {
            assert_eq!(uuid_v5(&NAMESPACE, name), Uuid::new_v5(&NAMESPACE, name));
            assert_eq!(uuid_v5(&Uuid::NAMESPACE_DNS, name), Uuid::new_v5(&Uuid::NAMESPACE_DNS, name));
        }
        // RFC 9562 Appendix A.4: "www.example.com" in the DNS namespace.
        assert_eq!(
            uuid_v5(&Uuid::NAMESPACE_DNS, b"www.example.com").to_string(),
            "2ed6657d-e927-568b-95e1-2665a8aea6a2"
        );
    }

    #[test]
    fn host_keys_are_checked() {
        assert!(check_key("order-1-capture-1").is_ok());
        assert!(check_key("").is_err());
        assert!(check_key("a b").is_err());
        assert!(check_key(&"k".repeat(256)).is_err());
    }
}
