//! Proving a delivery comes from Klarna, before its body is read.
//!
//! - Klarna Network webhooks: `Klarna-Signature` is the HMAC-SHA256 of the raw
//!   body, keyed by the signing key (its text as bytes) that
//!   `Klarna-Signing-Key-Id` names, in lowercase hex. Klarna's pages do not
//!   print the encoding; Krokedil's production verifier (Klarna's WooCommerce
//!   plugins) settles it: PHP `hash_hmac('sha256', body, key)` compared with
//!   `hash_equals`, case-sensitively. So an uppercase signature is refused.
//! - Merchant callbacks (Checkout, Payments, HPP) carry no signature; Klarna
//!   recommends a secret in the URL, compared here in constant time.
//! - Klarna's Shipping Service authenticates at `/auth` with a nonce digest
//!   and then presents a bearer token ([`super::token`]).

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::incoming::Incoming;
use super::token::{self, AuthFields};
use crate::config::{Credentials, ValidConfig};
use crate::error::{ApiError, ConnectorError, Result};
use crate::manifest::{CallbackSpec, Verify};
use crate::model::Reply;

/// The status Klarna asks for when a webhook's signature is wrong.
pub const BAD_SIGNATURE_STATUS: u16 = 400;

/// The status answered to a callback without the right URL secret.
pub const BAD_SECRET_STATUS: u16 = 401;

/// What verifying a delivery settled.
#[derive(Debug)]
pub enum Verified {
    /// It comes from Klarna: read it.
    Proven,
    /// The reply is the whole answer (an `/auth` token, or why `/auth` was malformed).
    Answered(Reply),
}

/// Checks the delivery against the callback's `verify` rule at `now_s` (Unix seconds).
pub fn verify(config: &ValidConfig, callback: &CallbackSpec, incoming: &Incoming, now_s: u64) -> Result<Verified> {
    match callback.verify {
        Verify::NonceDigest { identifier_field, nonce_field, digest_field, token_lifetime_s, token_field } => {
            let fields = AuthFields {
                identifier: identifier_field,
                nonce: nonce_field,
                digest: digest_field,
                token: token_field,
            };
            let credentials = match &config.credentials {
                Credentials::ShippingKey { identifier, key } => Some((identifier.as_str(), key)),
                _ => None,
            };
            let reply =
                token::authenticate(incoming, &fields, credentials, callback.media_type, now_s, token_lifetime_s)?;
            Ok(Verified::Answered(reply))
        }
        Verify::BearerToken => {
            let presented = token::bearer(incoming)?;
            match &config.credentials {
                Credentials::ShippingKey { identifier, key } => token::check(key, identifier, presented, now_s)?,
                Credentials::Bearer(expected) if token::same_token(presented, expected) => {}
                _ => {
                    return Err(refused(
                        token::UNAUTHORIZED_STATUS,
                        "the bearer token is not the configured one".into(),
                    ))
                }
            }
            Ok(Verified::Proven)
        }
        Verify::HmacSha256 { signature_header, key_id_header, keys_setting } => {
            // An unsigned delivery is a failed authentication, not a malformed one.
            let signature = signed_header(incoming, signature_header)?;
            let key_id = signed_header(incoming, key_id_header)?;
            let keys = config.secret(keys_setting).ok_or_else(|| {
                ConnectorError::config(format!("settings.{keys_setting}"), "required to verify webhooks")
            })?;
            let key = keys
                .expose()
                .split_whitespace()
                .filter_map(|pair| pair.split_once('='))
                .find(|(id, _)| *id == key_id)
                .map(|(_, key)| key)
                .ok_or_else(|| {
                    refused(BAD_SIGNATURE_STATUS, format!("{key_id_header} names a key not in settings.{keys_setting}"))
                })?;
            if !signature_matches(key.as_bytes(), &incoming.request.body, signature) {
                return Err(refused(
                    BAD_SIGNATURE_STATUS,
                    format!("{signature_header} is not the HMAC-SHA256 of the body (lowercase hex)"),
                ));
            }
            Ok(Verified::Proven)
        }
        Verify::UrlSecret { query_param, setting } => {
            let expected = config.secret(setting).ok_or_else(|| {
                ConnectorError::config(format!("settings.{setting}"), format!("required to receive {}", callback.kind))
            })?;
            let given = incoming.query(query_param).unwrap_or("");
            if !same_secret(given, expected.expose()) {
                return Err(refused(
                    BAD_SECRET_STATUS,
                    format!("the URL's {query_param} parameter is not the connection's {setting}"),
                ));
            }
            Ok(Verified::Proven)
        }
    }
}

/// Whether `signature` is the lowercase hex HMAC-SHA256 of `body` under `key`
/// (compared in constant time by the MAC).
pub fn signature_matches(key: &[u8], body: &[u8], signature: &str) -> bool {
    let Some(bytes) = lowercase_hex(signature) else { return false };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else { return false };
    mac.update(body);
    mac.verify_slice(&bytes).is_ok()
}

/// 64 lowercase hex digits as 32 bytes (the hex crate takes either case;
/// Klarna's signatures are lowercase, compared case-sensitively).
fn lowercase_hex(text: &str) -> Option<[u8; 32]> {
    if text.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

/// Constant-time equality that does not reveal the secret's length either:
/// both sides are hashed first.
fn same_secret(given: &str, expected: &str) -> bool {
    let (a, b) = (Sha256::digest(given.as_bytes()), Sha256::digest(expected.as_bytes()));
    !expected.is_empty() && bool::from(a.as_slice().ct_eq(b.as_slice()))
}

/// A header of the signature that must be present and not empty;
/// otherwise `unauthorized` with the status Klarna asks for (a header given
/// twice stays `invalid-input`: which one was signed is unknowable).
fn signed_header<'r>(incoming: &Incoming<'r>, name: &str) -> Result<&'r str> {
    incoming.header(name)?.filter(|v| !v.is_empty()).ok_or_else(|| {
        refused(BAD_SIGNATURE_STATUS, format!("header {name} is missing or empty: the delivery is not signed"))
    })
}

/// `unauthorized`, carrying the status the host answers with.
fn refused(status: u16, why: String) -> ConnectorError {
    ConnectorError::Unauthorized(ApiError { status, messages: vec![why], ..ApiError::default() })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
    const RFC4231_2: &str = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";

    #[test]
    fn the_rfc_4231_vector_verifies_in_lowercase_only() {
        assert!(signature_matches(b"Jefe", b"what do ya want for nothing?", RFC4231_2));
        assert!(!signature_matches(b"Jefe", b"what do ya want for nothing?", &RFC4231_2.to_uppercase()));
        assert!(!signature_matches(b"Jefe", b"what do ya want for nothing!", RFC4231_2));
        assert!(!signature_matches(b"Jeff", b"what do ya want for nothing?", RFC4231_2));
        assert!(!signature_matches(b"Jefe", b"what do ya want for nothing?", &RFC4231_2[..62]));
        assert!(!signature_matches(b"Jefe", b"what do ya want for nothing?", ""));
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(same_secret("s3cret-s3cret-s3cret", "s3cret-s3cret-s3cret"));
        assert!(!same_secret("s3cret-s3cret-s3cre", "s3cret-s3cret-s3cret"));
        assert!(!same_secret("", ""));
    }
}
