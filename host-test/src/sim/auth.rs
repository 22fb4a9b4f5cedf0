//! Who a request is from: Klarna's credential forms (API username and
//! password, API key as `Basic <key>` or `Basic base64(uuid:key)`, bearer
//! tokens) and the OAuth 2.0 client-credentials token endpoint.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::json;

use super::http::{SimRequest, SimResponse};

/// The default merchant's API username.
pub const USERNAME: &str = "PK46120_sim0a1b2c3d";
/// The default merchant's API password.
pub const PASSWORD: &str = "sim-pass-7f3c9e21";
/// The default merchant's playground API key.
pub const API_KEY: &str = "klarna_test_api_c2ltLWtleS0xLTdmM2M5ZTIx";
/// The UUID shown with the API key (for username/password clients).
pub const API_KEY_UUID: &str = "6f9619ff-8b86-4d01-b42d-00c04fc964ff";
/// The default merchant's OAuth 2.0 client id.
pub const CLIENT_ID: &str = "sim-client-4471";
/// The default merchant's OAuth 2.0 client secret.
pub const CLIENT_SECRET: &str = "sim-client-secret-0b9e";
/// A bearer token the shipping assistant accepts.
pub const SHIPPING_TOKEN: &str = "sim-shipping-token-5d2a";

/// Lifetime of issued access tokens, in seconds.
pub const TOKEN_LIFETIME_S: u64 = 3600;

/// The credentials of one merchant account.
#[derive(Debug)]
pub struct Credentials {
    /// Username of the username/password credential.
    pub username: String,
    /// Its password.
    pub password: String,
    /// API key.
    pub api_key: String,
    /// The UUID of the API key.
    pub api_key_uuid: String,
    /// OAuth 2.0 client id.
    pub client_id: String,
    /// OAuth 2.0 client secret.
    pub client_secret: String,
    /// A static bearer token.
    pub shipping_token: String,
    /// Access tokens issued and still valid.
    pub access_tokens: BTreeMap<String, ()>,
    issued: u64,
}

impl Credentials {
    /// The default merchant's credentials.
    pub fn default_merchant() -> Self {
        Self {
            username: USERNAME.into(),
            password: PASSWORD.into(),
            api_key: API_KEY.into(),
            api_key_uuid: API_KEY_UUID.into(),
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
            shipping_token: SHIPPING_TOKEN.into(),
            access_tokens: BTreeMap::new(),
            issued: 0,
        }
    }

    /// Whether the request's `Authorization` header is one of these credentials.
    pub fn accepts(&self, request: &SimRequest) -> bool {
        let Some(header) = request.header("Authorization") else { return false };
        if let Some(token) = header.strip_prefix("Bearer ") {
            return token == self.shipping_token || self.access_tokens.contains_key(token);
        }
        let Some(value) = header.strip_prefix("Basic ") else { return false };
        let value = value.trim();
        // An API key is sent as it is.
        if value == self.api_key {
            return true;
        }
        let Some((user, pass)) = decode_basic(value) else { return false };
        (user == self.username && pass == self.password) || (user == self.api_key_uuid && pass == self.api_key)
    }

    /// `POST /oauth2/token` (client credentials, client authenticated with Basic).
    pub fn token_endpoint(&mut self, request: &SimRequest) -> SimResponse {
        let refuse = |status: u16, error: &str, description: &str| {
            SimResponse::json(status, &json!({ "error": error, "error_description": description }))
        };
        let client =
            request.header("Authorization").and_then(|h| h.strip_prefix("Basic ")).and_then(|v| decode_basic(v.trim()));
        let Some((id, secret)) = client else {
            return refuse(401, "invalid_client", "Client authentication is required.");
        };
        if percent_decode(&id) != self.client_id || percent_decode(&secret) != self.client_secret {
            return refuse(401, "invalid_client", "Client authentication failed.");
        }
        let grant = form_urlencoded::parse(&request.body).find(|(k, _)| k == "grant_type").map(|(_, v)| v);
        if grant.as_deref() != Some("client_credentials") {
            return refuse(400, "unsupported_grant_type", "Only client_credentials is supported.");
        }
        self.issued += 1;
        let token = format!("sim-at-{:04}-{}", self.issued, &self.client_id[..3]);
        self.access_tokens.insert(token.clone(), ());
        SimResponse::json(
            200,
            &json!({ "access_token": token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME_S }),
        )
    }

    /// Invalidates every access token (as an expiry or a revocation would).
    pub fn revoke_access_tokens(&mut self) {
        self.access_tokens.clear();
    }
}

fn decode_basic(value: &str) -> Option<(String, String)> {
    let decoded = base64::engine::general_purpose::STANDARD.decode(value).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, pass) = decoded.split_once(':')?;
    Some((user.to_string(), pass.to_string()))
}

fn percent_decode(value: &str) -> String {
    super::http::decode(value).unwrap_or_else(|| value.to_string())
}
