//! Klarna Shipping Service authentication (Shipping Service Callback API
//! 1.3.0): `POST /auth` proves the caller knows the key, and the connection
//! answers with a bearer token every later call carries.
//!
//! - The digest is SHA-256 of the nonce followed by the key (no separator),
//!   in hex; Klarna's example prints it in uppercase, so any case is accepted.
//! - The token is a JWT (RFC 7519) signed with HS256. Its key is derived from
//!   the panel's key (HMAC-SHA256 of a fixed label), never the key itself, so
//!   any instance of the connection can check a token another one issued,
//!   with no shared state. Its claims name the identifier and an expiry.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::content_type;
use super::incoming::{at, Incoming};
use crate::error::{ApiError, ConnectorError, Result};
use crate::model::Reply;
use crate::secret::Secret;

/// The status that makes Klarna's Shipping Service authenticate again.
pub const UNAUTHORIZED_STATUS: u16 = 401;

/// The status of a malformed `/auth` request (answered with `failure_reason`).
pub const MALFORMED_STATUS: u16 = 400;

/// The status of an issued token.
pub const ISSUED_STATUS: u16 = 201;

/// The `iss` claim of issued tokens.
const ISSUER: &str = "klarna-connector/shipping-assistant";

/// What the signing key is derived under (changing it revokes every token).
const KEY_LABEL: &[u8] = b"ipaas:connector klarna shipping-assistant token v1";

/// Seconds a token's `iat` may lie ahead of this instance's clock (clocks of instances differ).
const CLOCK_SKEW_S: u64 = 300;

/// Longest bearer token read.
const MAX_TOKEN_CHARS: usize = 4096;

/// The `/auth` fields, as connector.json names them.
pub struct AuthFields<'m> {
    /// Dotted path of the identifier.
    pub identifier: &'m str,
    /// Dotted path of the nonce.
    pub nonce: &'m str,
    /// Dotted path of the digest.
    pub digest: &'m str,
    /// The answer's field that carries the token.
    pub token: &'m str,
}

/// Answers a `POST /auth`: 201 with a token valid `lifetime_s` seconds when
/// the identifier and digest match; 400 with `failure_reason` when the
/// request is malformed; `unauthorized` (401) otherwise.
pub fn authenticate(
    incoming: &Incoming,
    fields: &AuthFields,
    credentials: Option<(&str, &Secret)>,
    media_type: Option<&str>,
    now_s: u64,
    lifetime_s: u32,
) -> Result<Reply> {
    let malformed = |why: String| {
        let body = json!({ "failure_reason": why }).to_string().into_bytes();
        Ok(Reply { status: MALFORMED_STATUS, headers: content_type(media_type), body })
    };
    let body = match incoming.json_object() {
        Ok(body) => body,
        Err(e) => return malformed(e.to_string()),
    };
    let text = |path: &str| at(&body, path).and_then(Value::as_str).filter(|v| !v.is_empty());
    let (Some(identifier), Some(nonce), Some(digest)) =
        (text(fields.identifier), text(fields.nonce), text(fields.digest))
    else {
        let names = [fields.identifier, fields.nonce, fields.digest].join(", ");
        return malformed(format!("{names} are required, each a non-empty string"));
    };
    let Some(digest) = hex_32(digest) else {
        return malformed(format!("{} must be 64 hexadecimal digits (SHA-256)", fields.digest));
    };
    let Some((expected_identifier, key)) = credentials else {
        return Err(refused(
            "this connection is set up with a configured token: Klarna presents it on every call, /auth issues none",
        ));
    };
    // Both checks run whatever the first one says, so timing does not tell which failed.
    let same_identifier = same(identifier.as_bytes(), expected_identifier.as_bytes());
    let mut hasher = Sha256::new();
    hasher.update(nonce.as_bytes());
    hasher.update(key.expose().as_bytes());
    let same_digest = bool::from(hasher.finalize().as_slice().ct_eq(&digest));
    if !(same_identifier & same_digest) {
        return Err(refused("the identifier or the digest (SHA-256 of nonce followed by key) does not match"));
    }
    let token = issue(key, identifier, now_s, lifetime_s)?;
    let mut answer = serde_json::Map::new();
    answer.insert(fields.token.to_string(), Value::String(token));
    let body = Value::Object(answer).to_string().into_bytes();
    Ok(Reply { status: ISSUED_STATUS, headers: content_type(media_type), body })
}

/// The JOSE header of every token issued: HS256 only, so a token naming any
/// other algorithm (`none` included) is refused before its signature is read.
const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// A token for `identifier`, valid from `now_s` for `lifetime_s` seconds: a
/// JWT (RFC 7519) in its compact form, the header and the claims as
/// base64url JSON, signed with HS256.
pub fn issue(key: &Secret, identifier: &str, now_s: u64, lifetime_s: u32) -> Result<String> {
    let expires = now_s
        .checked_add(u64::from(lifetime_s))
        .ok_or_else(|| ConnectorError::config("token_lifetime_s", "too large for the clock"))?;
    let claims = json!({ "iss": ISSUER, "sub": identifier, "iat": now_s, "exp": expires });
    let signed = format!("{}.{}", URL_SAFE_NO_PAD.encode(HEADER), URL_SAFE_NO_PAD.encode(claims.to_string()));
    let signer = mac(key, signed.as_bytes()).ok_or_else(|| ConnectorError::config("auth", "unusable key"))?;
    Ok(format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signer.finalize().into_bytes())))
}

/// Checks a token this connection (any instance) issued: its header (HS256
/// only), the signature under the key, the identifier, and that `now_s`
/// lies within its validity.
pub fn check(key: &Secret, identifier: &str, token: &str, now_s: u64) -> Result<()> {
    if token.len() > MAX_TOKEN_CHARS {
        return Err(refused("the bearer token is too long to be one this connection issued"));
    }
    let mut parts = token.split('.');
    let (Some(header), Some(claims), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(refused("the bearer token is not a JWT this connection issued"));
    };
    if header != URL_SAFE_NO_PAD.encode(HEADER) {
        return Err(refused("the bearer token's header is not this connection's (HS256 only)"));
    }
    let signature =
        URL_SAFE_NO_PAD.decode(signature).map_err(|_| refused("the bearer token's signature is not base64url"))?;
    let signed = &token[..header.len() + 1 + claims.len()];
    if mac(key, signed.as_bytes()).is_none_or(|m| m.verify_slice(&signature).is_err()) {
        return Err(refused("the bearer token was not signed with this connection's key"));
    }
    let claims: Value = URL_SAFE_NO_PAD
        .decode(claims)
        .ok()
        .and_then(|bytes| crate::response::read_json(&bytes).ok())
        .ok_or_else(|| refused("the bearer token's claims are not JSON"))?;
    let number = |name: &str| claims.get(name).and_then(Value::as_u64);
    let (Some(issued), Some(expires)) = (number("iat"), number("exp")) else {
        return Err(refused("the bearer token has no iat and exp"));
    };
    if claims.get("sub").and_then(Value::as_str) != Some(identifier) {
        return Err(refused("the bearer token was issued for another identifier"));
    }
    if now_s >= expires || issued > now_s.saturating_add(CLOCK_SKEW_S) {
        return Err(refused("the bearer token has expired (authenticate again at /auth)"));
    }
    Ok(())
}

/// Compares a presented bearer token with the configured one, in constant time.
pub fn same_token(given: &str, expected: &Secret) -> bool {
    !expected.expose().is_empty() && same(given.as_bytes(), expected.expose().as_bytes())
}

/// The bearer token of an `Authorization` header, or `unauthorized`.
pub fn bearer<'r>(incoming: &Incoming<'r>) -> Result<&'r str> {
    let header = incoming.header("Authorization")?.ok_or_else(|| refused("no Authorization header"))?;
    let (scheme, token) = header.split_once(' ').ok_or_else(|| refused("Authorization is not Bearer <token>"))?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(refused("Authorization is not Bearer <token>"));
    }
    Ok(token)
}

/// HMAC-SHA256 of `message` under the key derived from the panel's key
/// (HMAC-SHA256 of a fixed label), never the key itself (`None` never
/// happens: HMAC takes keys of any length).
fn mac(key: &Secret, message: &[u8]) -> Option<Hmac<Sha256>> {
    let derived = <Hmac<Sha256> as Mac>::new_from_slice(key.expose().as_bytes()).ok()?.chain_update(KEY_LABEL);
    let signer = <Hmac<Sha256> as Mac>::new_from_slice(&derived.finalize().into_bytes()).ok()?;
    Some(signer.chain_update(message))
}

/// Equality in time that depends only on the lengths (both sides are hashed).
fn same(a: &[u8], b: &[u8]) -> bool {
    bool::from(Sha256::digest(a).as_slice().ct_eq(Sha256::digest(b).as_slice()))
}

/// 64 hex digits, any case, as 32 bytes.
fn hex_32(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

/// `unauthorized` with the status that makes Klarna authenticate again.
fn refused(why: &str) -> ConnectorError {
    ConnectorError::Unauthorized(ApiError {
        status: UNAUTHORIZED_STATUS,
        messages: vec![why.to_string()],
        ..ApiError::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Klarna's example: identifier sweMerch123, key smOOOth, nonce lRFUpqW7Xd.
    const DOCS_DIGEST: &str = "8C3891B3162DB3AB61A9B2DA74E6A479553ABA897894E5236ED290C11A0B832B";
    const NOW: u64 = 1_790_000_000;

    fn key(text: &str) -> Secret {
        Secret::new(text.to_string())
    }

    #[test]
    fn the_docs_digest_is_sha256_of_nonce_then_key() {
        let digest = Sha256::digest(b"lRFUpqW7XdsmOOOth");
        assert_eq!(hex_32(DOCS_DIGEST), Some(digest.into()));
        assert_eq!(hex_32(&DOCS_DIGEST.to_lowercase()), Some(digest.into()), "any case");
        assert_eq!(hex_32(&DOCS_DIGEST[..62]), None);
        assert_eq!(hex_32(&DOCS_DIGEST.replace('C', "G")), None);
    }

    #[test]
    fn a_token_checks_until_it_expires_for_its_identifier_and_key_only() {
        let token = issue(&key("smOOOth"), "sweMerch123", NOW, 600).expect("issued");
        assert!(check(&key("smOOOth"), "sweMerch123", &token, NOW).is_ok());
        assert!(check(&key("smOOOth"), "sweMerch123", &token, NOW + 599).is_ok());
        assert!(check(&key("smOOOth"), "sweMerch123", &token, NOW + 600).is_err(), "expired");
        assert!(check(&key("smOOOth"), "sweMerch123", &token, NOW - CLOCK_SKEW_S - 1).is_err(), "issued in the future");
        assert!(check(&key("smOOOth!"), "sweMerch123", &token, NOW).is_err(), "another key");
        assert!(check(&key("smOOOth"), "sweMerch124", &token, NOW).is_err(), "another identifier");
        let mut parts: Vec<&str> = token.split('.').collect();
        let none_alg = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        parts[0] = &none_alg;
        let message = check(&key("smOOOth"), "sweMerch123", &parts.join("."), NOW).expect_err("alg none").to_string();
        assert!(message.contains("header is not this connection's"), "refused before the signature is read: {message}");
    }

    #[test]
    fn a_changed_claim_breaks_the_signature() {
        let token = issue(&key("k"), "id", NOW, 60).expect("issued");
        let parts: Vec<&str> = token.split('.').collect();
        let longer =
            URL_SAFE_NO_PAD.encode(json!({"iss": ISSUER, "sub": "id", "iat": NOW, "exp": NOW + 6000}).to_string());
        let forged = format!("{}.{longer}.{}", parts[0], parts[2]);
        let message = check(&key("k"), "id", &forged, NOW + 100).expect_err("forged").to_string();
        assert!(message.contains("not signed with this connection's key"), "{message}");
    }
}
