//! Validation of the connection panel: what `open` checks before anything is sent.

use crate::error::{ConnectorError, Result};
use crate::manifest::{ApiType, Manifest, Setting, SettingType};
use crate::model::{Auth, ConnectionConfig, Pairs};

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
    /// Credentials.
    pub auth: Auth,
    /// API-type settings that were filled in, used as default path parameters.
    pub defaults: Pairs,
    /// Per-request time limit.
    pub timeout_ms: u32,
    /// Retry limits.
    pub retry: RetryPolicy,
}

impl ValidConfig {
    /// `https://<host>`.
    pub fn base_url(&self) -> String {
        format!("https://{}", self.host)
    }
}

/// Checks `config` against the manifest's panel; names the first wrong field.
pub fn validate(config: ConnectionConfig) -> Result<ValidConfig> {
    let manifest = Manifest::get()?;
    let api_type = manifest.api_type(&config.api_type).ok_or_else(|| {
        let known: Vec<_> = manifest
            .panel
            .api_types
            .iter()
            .map(|t| t.id.as_str())
            .collect();
        ConnectorError::config(
            "api-type",
            format!(
                "unknown API type {:?} (expected one of {})",
                config.api_type,
                known.join(", ")
            ),
        )
    })?;
    let environment = choose(
        "environment",
        &config.environment,
        &manifest.panel.environments,
    )?;
    let region = choose("region", &config.region, &manifest.panel.regions)?;
    let host = manifest
        .hosts
        .families
        .get(&api_type.hosts)
        .and_then(|envs| envs.get(&environment))
        .and_then(|regions| regions.get(&region))
        .ok_or_else(|| {
            ConnectorError::config(
                "region",
                format!("no {environment} host for region {region}"),
            )
        })?
        .clone();
    check_auth(api_type, &config.auth)?;

    let mut defaults = Pairs::new();
    let mut timeout_ms = 30_000;
    let mut retry = RetryPolicy {
        max_attempts: 3,
        budget_ms: 5_000,
        base_delay_ms: 200,
    };
    for (index, (key, value)) in config.settings.iter().enumerate() {
        let field = format!("settings.{key}");
        if config.settings[..index].iter().any(|(k, _)| k == key) {
            return Err(ConnectorError::config(field, "given twice"));
        }
        let setting = api_type
            .settings
            .iter()
            .chain(&manifest.panel.common_settings)
            .find(|s| s.key == *key)
            .ok_or_else(|| {
                let known: Vec<_> = api_type
                    .settings
                    .iter()
                    .chain(&manifest.panel.common_settings)
                    .map(|s| s.key.as_str())
                    .collect();
                ConnectorError::config(
                    &field,
                    format!(
                        "unknown setting for API type {} (known: {})",
                        api_type.id,
                        known.join(", ")
                    ),
                )
            })?;
        if value.trim().is_empty() {
            continue;
        }
        check_value(&field, setting, value)?;
        match key.as_str() {
            "timeout_ms" => timeout_ms = integer_in(&field, value, 1_000, 120_000)? as u32,
            "max_attempts" => retry.max_attempts = integer_in(&field, value, 1, 5)? as u32,
            "retry_budget_ms" => retry.budget_ms = integer_in(&field, value, 0, 60_000)?,
            "retry_delay_ms" => retry.base_delay_ms = integer_in(&field, value, 0, 10_000)?,
            _ => defaults.push((key.clone(), value.trim().to_string())),
        }
    }
    for setting in &api_type.settings {
        let filled = config
            .settings
            .iter()
            .any(|(k, v)| *k == setting.key && !v.trim().is_empty());
        if setting.required && !filled {
            return Err(ConnectorError::config(
                format!("settings.{}", setting.key),
                "required",
            ));
        }
    }
    Ok(ValidConfig {
        api_type,
        environment,
        region,
        host,
        auth: config.auth,
        defaults,
        timeout_ms,
        retry,
    })
}

fn choose(field: &str, value: &str, choices: &[crate::manifest::Choice]) -> Result<String> {
    if choices.iter().any(|c| c.id == value) {
        return Ok(value.to_string());
    }
    let known: Vec<_> = choices.iter().map(|c| c.id.as_str()).collect();
    Err(ConnectorError::config(
        field,
        format!(
            "unknown value {value:?} (expected one of {})",
            known.join(", ")
        ),
    ))
}

fn check_auth(api_type: &ApiType, auth: &Auth) -> Result<()> {
    if !api_type.auth.iter().any(|k| k == auth.kind()) {
        return Err(ConnectorError::config(
            "auth",
            format!(
                "{} is not offered for API type {} (allowed: {})",
                auth.kind(),
                api_type.id,
                api_type.auth.join(", ")
            ),
        ));
    }
    match auth {
        Auth::Basic { username, password } => {
            if username.trim().is_empty() {
                return Err(ConnectorError::config("auth.basic.username", "required"));
            }
            if username.contains(':') {
                return Err(ConnectorError::config(
                    "auth.basic.username",
                    "must not contain ':' (HTTP Basic)",
                ));
            }
            if username.chars().any(char::is_control) {
                return Err(ConnectorError::config(
                    "auth.basic.username",
                    "must not contain control characters",
                ));
            }
            if password.is_blank() {
                return Err(ConnectorError::config("auth.basic.password", "required"));
            }
            if password.expose().chars().any(char::is_control) {
                return Err(ConnectorError::config(
                    "auth.basic.password",
                    "must not contain control characters",
                ));
            }
        }
        Auth::OAuth2 {
            client_id,
            client_secret,
            ..
        } => {
            if client_id.trim().is_empty() {
                return Err(ConnectorError::config("auth.oauth2.client-id", "required"));
            }
            if client_secret.is_blank() {
                return Err(ConnectorError::config(
                    "auth.oauth2.client-secret",
                    "required",
                ));
            }
        }
        Auth::Token(token) => {
            if token.is_blank() {
                return Err(ConnectorError::config("auth.token", "required"));
            }
            if token.expose().chars().any(|c| c.is_control() || c == ' ') {
                return Err(ConnectorError::config(
                    "auth.token",
                    "must not contain spaces or control characters",
                ));
            }
        }
    }
    Ok(())
}

fn check_value(field: &str, setting: &Setting, value: &str) -> Result<()> {
    if value.chars().any(char::is_control) {
        return Err(ConnectorError::config(
            field,
            "must not contain control characters",
        ));
    }
    if setting.kind == SettingType::Integer && value.trim().parse::<u64>().is_err() {
        return Err(ConnectorError::config(
            field,
            format!("expected a whole number, got {value:?}"),
        ));
    }
    Ok(())
}

fn integer_in(field: &str, value: &str, min: u64, max: u64) -> Result<u64> {
    let number: u64 = value.trim().parse().map_err(|_| {
        ConnectorError::config(field, format!("expected a whole number, got {value:?}"))
    })?;
    if !(min..=max).contains(&number) {
        return Err(ConnectorError::config(
            field,
            format!("{number} is outside {min}..={max}"),
        ));
    }
    Ok(number)
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
            auth: Auth::Basic {
                username: "PK123_abc".into(),
                password: Secret::new("pw"),
            },
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
            (
                "post-purchase",
                "playground",
                "eu",
                "api.playground.klarna.com",
            ),
            ("settlements", "production", "na", "api-na.klarna.com"),
            (
                "settlements",
                "playground",
                "oc",
                "api-oc.playground.klarna.com",
            ),
            ("network", "playground", "eu", "api-global.test.klarna.com"),
            ("network", "production", "na", "api-global.klarna.com"),
        ];
        for (api, env, region, host) in cases {
            assert_eq!(
                validate(config(api, env, region)).expect("valid").host,
                host,
                "{api} {env} {region}"
            );
        }
    }

    #[test]
    fn wrong_fields_are_named() {
        assert!(err(config("post-purchase", "playground", "xx"))
            .starts_with("region: unknown value \"xx\""));
        assert!(err(config("post-purchase", "test", "eu")).starts_with("environment:"));
        assert!(err(config("orders", "playground", "eu")).starts_with("api-type:"));
        let mut c = config("shipping-assistant", "playground", "eu");
        assert!(err(c.clone())
            .starts_with("auth: basic is not offered for API type shipping-assistant"));
        c.auth = Auth::Token(Secret::new(""));
        assert_eq!(err(c), "auth.token: required");
        let mut c = config("settlements", "playground", "eu");
        c.auth = Auth::Basic {
            username: "a:b".into(),
            password: Secret::new("x"),
        };
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
        assert_eq!(
            valid.defaults,
            vec![("order_id".to_string(), "abc".to_string())]
        );
        assert_eq!(valid.retry.max_attempts, 1);
        assert_eq!(valid.timeout_ms, 30_000);
    }
}
