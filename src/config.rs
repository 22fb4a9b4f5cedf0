//! Validation of the connection panel: what `open` checks before anything is sent.

use crate::error::{ConnectorError, Result};
use crate::manifest::{ApiType, AuthKindId, Manifest, Setting, SettingType};
use crate::model::{Auth, ConnectionConfig, Pairs};
use crate::path::fill;
use crate::secret::Secret;

/// Retry limits of a connection (see the `common_settings` of the manifest).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per request, at least 1.
    pub max_attempts: u32,
    /// Most time spent waiting between attempts of one request.
    pub budget_ms: u64,
    /// Wait before the first retry; doubles each attempt.
    pub base_delay_ms: u64,
}

/// The connection's credentials, in the form its requests carry them.
#[derive(Clone, Debug)]
pub enum Credentials {
    /// `Authorization: Basic base64(username:password)`.
    Basic {
        /// The API username.
        username: String,
        /// The API password.
        password: Secret,
    },
    /// `Authorization: Basic <API key>`, the key as it is (Klarna's form for API keys).
    ApiKey(Secret),
    /// OAuth 2.0 client credentials: access tokens come from `token_url`.
    OAuth2 {
        /// The token endpoint (the OAuth subdomain setting filled in).
        token_url: String,
        /// The client id.
        client_id: String,
        /// The client secret.
        client_secret: Secret,
        /// Scopes requested with each token.
        scopes: Vec<String>,
    },
    /// `Authorization: Bearer <token>`; for the shipping assistant, the token
    /// Klarna's Shipping Service presents.
    Bearer(Secret),
    /// The identifier and key Klarna's Shipping Service authenticates with
    /// (nothing is sent to Klarna with them).
    ShippingKey {
        /// The identifier Klarna sends to `/auth`.
        identifier: String,
        /// The key its digest is made with.
        key: Secret,
    },
}

/// A connection configuration that passed every check of the panel.
#[derive(Debug)]
pub struct ValidConfig {
    /// The API type.
    pub api_type: &'static ApiType,
    /// `playground` or `production`.
    pub environment: String,
    /// `eu`, `na` or `oc`.
    pub region: String,
    /// Host name requests go to.
    pub host: String,
    /// The credentials, as requests carry them.
    pub credentials: Credentials,
    /// API-type settings that were filled in, used as default path parameters.
    pub defaults: Pairs,
    /// Every setting that is not secret, filled in or defaulted (booleans, flags).
    pub values: Vec<(&'static str, String)>,
    /// The secret settings that were filled in (callback secret, signing keys).
    pub secrets: Vec<(&'static str, Secret)>,
    /// Per-request time limit.
    pub timeout_ms: u32,
    /// Retry limits.
    pub retry: RetryPolicy,
}

impl ValidConfig {
    /// A non-secret setting's value (filled in or the default).
    pub fn value(&self, key: &str) -> Option<&str> {
        self.values.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_str())
    }

    /// A secret setting's value, if it was filled in.
    pub fn secret(&self, key: &str) -> Option<&Secret> {
        self.secrets.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// `https://<host>`.
    pub fn base_url(&self) -> String {
        format!("https://{}", self.host)
    }

    /// Where the connection points, for messages: `api.klarna.com (production, eu)`.
    pub fn describe_target(&self) -> String {
        format!("{} ({}, {})", self.host, self.environment, self.region)
    }
}

/// The panel's auth kind of a WIT `auth` value: a Basic pair is the
/// shipping assistant's identifier and key where the API type offers them
/// (build.rs checks it then offers no other Basic kind), else a Basic pair
/// with an empty username is an API key.
pub fn panel_kind(auth: &Auth, api_type: &ApiType) -> AuthKindId {
    match auth {
        Auth::Basic { .. } if api_type.auth.contains(&AuthKindId::ShippingKey) => AuthKindId::ShippingKey,
        Auth::Basic { username, .. } if username.is_empty() => AuthKindId::ApiKey,
        Auth::Basic { .. } => AuthKindId::Basic,
        Auth::OAuth2 { .. } => AuthKindId::Oauth2,
        Auth::Token(_) => AuthKindId::Token,
    }
}

/// Auth kinds as a list for messages.
fn kinds(kinds: &[AuthKindId], separator: &str) -> String {
    kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(separator)
}

/// Checks `config` against the manifest's panel; names the first wrong field.
pub fn validate(config: ConnectionConfig) -> Result<ValidConfig> {
    let manifest = Manifest::get();
    let api_type = manifest.api_type(&config.api_type).ok_or_else(|| {
        let known: Vec<_> = manifest.panel.api_types.iter().map(|t| t.id.as_str()).collect();
        ConnectorError::config(
            "api-type",
            format!("unknown API type {:?} (expected one of {})", config.api_type, known.join(", ")),
        )
    })?;
    let environment = choose("environment", &config.environment, manifest.panel.environments)?;
    let region = choose("region", &config.region, manifest.panel.regions)?;
    let host = manifest
        .hosts
        .host(api_type.hosts, &environment, &region)
        .ok_or_else(|| ConnectorError::config("region", format!("no {environment} host for region {region}")))?
        .to_string();
    let kind = panel_kind(&config.auth, api_type);
    check_auth(api_type, &config.auth, kind, &environment)?;

    let settings: Vec<&Setting> = api_type.settings.iter().chain(manifest.panel.common_settings).collect();
    let mut values: Vec<(&Setting, String)> = Vec::new();
    for (index, (key, value)) in config.settings.iter().enumerate() {
        let field = format!("settings.{key}");
        if config.settings[..index].iter().any(|(k, _)| k == key) {
            return Err(ConnectorError::config(field, "given twice"));
        }
        let setting = settings.iter().find(|s| s.key == *key).ok_or_else(|| {
            let known: Vec<_> = settings.iter().map(|s| s.key).collect();
            ConnectorError::config(
                &field,
                format!("unknown setting for API type {} (known: {})", api_type.id, known.join(", ")),
            )
        })?;
        if !shown(setting, kind) {
            return Err(ConnectorError::config(field, format!("only used with auth {}", shown_for(setting))));
        }
        if value.trim().is_empty() {
            continue;
        }
        check_value(&field, setting, value)?;
        values.push((setting, value.trim().to_string()));
    }
    for setting in settings.iter().filter(|s| s.required && shown(s, kind)) {
        if !values.iter().any(|(s, _)| s.key == setting.key) {
            return Err(ConnectorError::config(format!("settings.{}", setting.key), "required"));
        }
    }
    let value_of = |key: &str| -> Option<String> {
        values
            .iter()
            .find(|(s, _)| s.key == key)
            .map(|(_, v)| v.clone())
            .or_else(|| settings.iter().find(|s| s.key == key).and_then(|s| s.default).map(|d| d.to_string()))
    };
    // Integer common settings always have a default (build.rs checks it).
    let number = |key: &str| value_of(key).and_then(|v| v.parse::<u64>().ok()).unwrap_or_default();
    let credentials = match config.auth {
        Auth::Basic { password, .. } if kind == AuthKindId::ApiKey => Credentials::ApiKey(password),
        Auth::Basic { username, password } if kind == AuthKindId::ShippingKey => {
            Credentials::ShippingKey { identifier: username.trim().to_string(), key: password }
        }
        Auth::Basic { username, password } => Credentials::Basic { username, password },
        Auth::Token(token) => Credentials::Bearer(token),
        Auth::OAuth2 { client_id, client_secret, scopes } => {
            let subdomain = value_of("subdomain").unwrap_or_else(|| "login".to_string());
            let template = manifest
                .hosts
                .oauth_token(&environment)
                .ok_or_else(|| ConnectorError::config("auth", format!("no OAuth 2.0 token URL for {environment}")))?;
            Credentials::OAuth2 {
                token_url: fill(template, &mut |name| match name {
                    "subdomain" => Ok(subdomain.clone()),
                    _ => Err(ConnectorError::config("auth", format!("{{{name}}} in the OAuth 2.0 token URL"))),
                })?,
                client_id,
                client_secret,
                scopes,
            }
        }
    };
    let defaults = values
        .iter()
        .filter(|(s, _)| s.kind == SettingType::String && s.show_when.is_none() && !s.secret)
        .map(|(s, v)| (s.key.to_string(), v.clone()))
        .collect();
    let secrets = values.iter().filter(|(s, _)| s.secret).map(|(s, v)| (s.key, Secret::new(v.clone()))).collect();
    let non_secret = settings
        .iter()
        .filter(|s| !s.secret && shown(s, kind))
        .filter_map(|s| Some((s.key, value_of(s.key)?)))
        .collect();
    Ok(ValidConfig {
        api_type,
        environment,
        region,
        host,
        credentials,
        defaults,
        values: non_secret,
        secrets,
        timeout_ms: number("timeout_ms") as u32,
        retry: RetryPolicy {
            max_attempts: number("max_attempts") as u32,
            budget_ms: number("retry_budget_ms"),
            base_delay_ms: number("retry_delay_ms"),
        },
    })
}

fn shown(setting: &Setting, kind: AuthKindId) -> bool {
    setting.show_when.as_ref().is_none_or(|w| w.auth.contains(&kind))
}

fn shown_for(setting: &Setting) -> String {
    setting.show_when.as_ref().map(|w| kinds(w.auth, " or ")).unwrap_or_default()
}

fn choose(field: &str, value: &str, choices: &[crate::manifest::Choice]) -> Result<String> {
    if choices.iter().any(|c| c.id == value) {
        return Ok(value.to_string());
    }
    let known: Vec<_> = choices.iter().map(|c| c.id).collect();
    Err(ConnectorError::config(field, format!("unknown value {value:?} (expected one of {})", known.join(", "))))
}

/// `klarna_live_api_…` or `klarna_test_api_…`: which environment a key is for.
fn api_key_environment(key: &str) -> Option<&'static str> {
    if key.starts_with("klarna_live_api_") {
        Some("production")
    } else if key.starts_with("klarna_test_api_") {
        Some("playground")
    } else {
        None
    }
}

fn check_auth(api_type: &ApiType, auth: &Auth, kind: AuthKindId, environment: &str) -> Result<()> {
    if !api_type.auth.contains(&kind) {
        return Err(ConnectorError::config(
            "auth",
            format!("{kind} is not offered for API type {} (allowed: {})", api_type.id, kinds(api_type.auth, ", ")),
        ));
    }
    let no_controls = |field: &str, value: &str| {
        if value.chars().any(char::is_control) {
            Err(ConnectorError::config(field, "must not contain control characters"))
        } else {
            Ok(())
        }
    };
    match auth {
        Auth::Basic { username, password } if kind == AuthKindId::ShippingKey => {
            if username.trim().is_empty() {
                return Err(ConnectorError::config("auth.basic.username (identifier)", "required"));
            }
            no_controls("auth.basic.username (identifier)", username)?;
            if password.is_blank() {
                return Err(ConnectorError::config("auth.basic.password (key)", "required"));
            }
            no_controls("auth.basic.password (key)", password.expose())?;
        }
        Auth::Basic { username, password } => {
            let api_key = kind == AuthKindId::ApiKey;
            let field = if api_key { "auth.basic.password (API key)" } else { "auth.basic.password" };
            if password.is_blank() {
                return Err(ConnectorError::config(field, "required"));
            }
            no_controls(field, password.expose())?;
            if username.contains(':') {
                return Err(ConnectorError::config("auth.basic.username", "must not contain ':' (HTTP Basic)"));
            }
            no_controls("auth.basic.username", username)?;
            if api_key && password.expose().contains(char::is_whitespace) {
                return Err(ConnectorError::config(field, "an API key has no spaces"));
            }
            if api_key && api_key_environment(password.expose()).is_none() {
                return Err(ConnectorError::config(
                    field,
                    "a Klarna API key starts with klarna_live_api_ or klarna_test_api_",
                ));
            }
            if let Some(key_environment) = api_key_environment(password.expose()) {
                if key_environment != environment {
                    let (key, env) =
                        if key_environment == "production" { ("live", "production") } else { ("test", "playground") };
                    return Err(ConnectorError::config(
                        "environment",
                        format!("a {key} API key (klarna_{key}_api_…) only works on {env}, but the connection is set to {environment}; Klarna would answer 401"),
                    ));
                }
            }
        }
        Auth::OAuth2 { client_id, client_secret, scopes } => {
            if client_id.trim().is_empty() {
                return Err(ConnectorError::config("auth.oauth2.client-id", "required"));
            }
            no_controls("auth.oauth2.client-id", client_id)?;
            if client_secret.is_blank() {
                return Err(ConnectorError::config("auth.oauth2.client-secret", "required"));
            }
            no_controls("auth.oauth2.client-secret", client_secret.expose())?;
            if let Some(scope) =
                scopes.iter().find(|s| s.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control()))
            {
                return Err(ConnectorError::config("auth.oauth2.scopes", format!("{scope:?} is not a single scope")));
            }
        }
        Auth::Token(token) => {
            if token.is_blank() {
                return Err(ConnectorError::config("auth.token", "required"));
            }
            if token.expose().chars().any(|c| c.is_control() || c == ' ') {
                return Err(ConnectorError::config("auth.token", "must not contain spaces or control characters"));
            }
        }
    }
    Ok(())
}

fn check_value(field: &str, setting: &Setting, value: &str) -> Result<()> {
    if value.chars().any(char::is_control) {
        return Err(ConnectorError::config(field, "must not contain control characters"));
    }
    match setting.kind {
        SettingType::Integer => {
            let number: u64 = value
                .trim()
                .parse()
                .map_err(|_| ConnectorError::config(field, format!("expected a whole number, got {value:?}")))?;
            let (min, max) = (setting.min.unwrap_or(0), setting.max.unwrap_or(u64::MAX));
            if !(min..=max).contains(&number) {
                return Err(ConnectorError::config(field, format!("{number} is outside {min}..={max}")));
            }
        }
        SettingType::Boolean if !matches!(value.trim(), "true" | "false") => {
            return Err(ConnectorError::config(field, "expected true or false"));
        }
        SettingType::KeyValueList => {
            let mut names: Vec<&str> = Vec::new();
            for pair in value.split_whitespace() {
                // Never quote the value: a key-value list may hold secrets.
                let name = match pair.split_once('=') {
                    Some((name, v)) if !name.is_empty() && !v.is_empty() => name,
                    _ => return Err(ConnectorError::config(field, "expected name=value pairs separated by spaces")),
                };
                if names.contains(&name) {
                    return Err(ConnectorError::config(field, format!("{name} is given twice")));
                }
                names.push(name);
            }
        }
        SettingType::HttpsUrl => crate::link::https_setting(field, value)?,
        SettingType::String if setting.key == "subdomain" => {
            let ok = !value.is_empty()
                && value.len() <= 63
                && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !ok {
                return Err(ConnectorError::config(field, "a subdomain is 1 to 63 lowercase letters, digits or '-'"));
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn config(api_type: &str, environment: &str, region: &str) -> ConnectionConfig {
        ConnectionConfig {
            api_type: api_type.into(),
            environment: environment.into(),
            region: region.into(),
            auth: Auth::Basic { username: "PK123_abc".into(), password: Secret::new("pw") },
            settings: vec![],
        }
    }

    fn err(config: ConnectionConfig) -> String {
        match validate(config) {
            Err(ConnectorError::InvalidConfig(m)) => m,
            other => panic!("expected invalid-config, got {other:?}"),
        }
    }

    #[test]
    fn hosts_follow_environment_and_region() {
        let cases = [
            ("post-purchase", "production", "eu", "api.klarna.com"),
            ("post-purchase", "playground", "eu", "api.playground.klarna.com"),
            ("settlements", "production", "na", "api-na.klarna.com"),
            ("settlements", "playground", "oc", "api-oc.playground.klarna.com"),
            ("network", "playground", "eu", "api-global.test.klarna.com"),
            ("network", "production", "na", "api-global.klarna.com"),
        ];
        for (api, env, region, host) in cases {
            let mut c = config(api, env, region);
            if api == "network" {
                let key = if env == "production" { "klarna_live_api_k" } else { "klarna_test_api_k" };
                c.auth = Auth::Basic { username: String::new(), password: Secret::new(key) };
            }
            assert_eq!(validate(c).expect("valid").host, host, "{api} {env} {region}");
        }
    }

    #[test]
    fn wrong_fields_are_named() {
        assert!(err(config("post-purchase", "playground", "xx")).starts_with("region: unknown value \"xx\""));
        assert!(err(config("post-purchase", "test", "eu")).starts_with("environment:"));
        assert!(err(config("orders", "playground", "eu")).starts_with("api-type:"));
        let mut c = config("shipping-assistant", "playground", "eu");
        assert_eq!(err(c.clone()), "settings.public_url: required", "a Basic pair is the identifier and key here");
        c.auth = Auth::Basic { username: " ".into(), password: Secret::new("key") };
        assert_eq!(err(c.clone()), "auth.basic.username (identifier): required");
        c.auth = Auth::Token(Secret::new(""));
        assert_eq!(err(c), "auth.token: required");
        let mut c = config("settlements", "playground", "eu");
        c.auth = Auth::Basic { username: "a:b".into(), password: Secret::new("x") };
        assert!(err(c).starts_with("auth.basic.username"));
        let mut c = config("settlements", "playground", "eu");
        c.settings = vec![("order_id".into(), "x".into())];
        assert!(err(c).starts_with("settings.order_id: unknown setting for API type settlements"));
        let mut c = config("settlements", "playground", "eu");
        c.settings = vec![("max_attempts".into(), "9".into())];
        assert_eq!(err(c), "settings.max_attempts: 9 is outside 1..=5");
        let mut c = config("settlements", "playground", "eu");
        c.settings = vec![("timeout_ms".into(), "soon".into())];
        assert!(err(c).starts_with("settings.timeout_ms: expected a whole number"));
    }

    #[test]
    fn settings_become_defaults_and_limits() {
        let mut c = config("post-purchase", "playground", "eu");
        c.settings = vec![
            ("order_id".into(), " abc ".into()),
            ("max_attempts".into(), "1".into()),
            ("timeout_ms".into(), "".into()),
        ];
        let valid = validate(c).expect("valid");
        assert_eq!(valid.defaults, vec![("order_id".to_string(), "abc".to_string())]);
        assert_eq!(valid.retry.max_attempts, 1);
        assert_eq!(valid.timeout_ms, 30_000);
    }
}
