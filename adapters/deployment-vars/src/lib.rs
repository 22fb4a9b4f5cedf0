//! The deployment's variables, the one place the adapters read their
//! configuration from: the connection, the service token, the allow-list.
//!
//! By default they are the environment (`wasi:cli/environment`): Spin's
//! `environment`, `wasmtime serve --env`, `jco serve`'s process environment.
//! With the `wasi-config` feature they are also read from
//! `wasi:config/runtime@0.2.0-draft`, which is how wasmCloud hands a
//! component its wadm `config`; a key set there wins over the environment.
//! Config keys are matched as environment names: `connector_api_type`,
//! `connector-api-type` and `CONNECTOR_API_TYPE` are one name.

/// Every variable, `(NAME, value)`, names in the environment's spelling.
///
/// An engine that fails to give its configuration is an error, not an empty
/// list: the caller must refuse to serve rather than serve another connection.
pub fn all() -> Result<Vec<(String, String)>, String> {
    let environment = std::env::vars().collect();
    #[cfg(feature = "wasi-config")]
    {
        let config = config::get_all()?;
        Ok(merge(environment, config))
    }
    #[cfg(not(feature = "wasi-config"))]
    Ok(environment)
}

/// The environment's name for a config key: upper case, `-` as `_`.
pub fn env_name(key: &str) -> String {
    key.trim().replace('-', "_").to_ascii_uppercase()
}

/// `environment` with each `config` entry (renamed by [`env_name`]) in place of
/// the variable of that name.
pub fn merge(environment: Vec<(String, String)>, config: Vec<(String, String)>) -> Vec<(String, String)> {
    let config: Vec<(String, String)> = config.into_iter().map(|(k, v)| (env_name(&k), v)).collect();
    let mut vars: Vec<(String, String)> =
        environment.into_iter().filter(|(name, _)| !config.iter().any(|(k, _)| k == name)).collect();
    vars.extend(config);
    vars
}

#[cfg(feature = "wasi-config")]
mod config {
    #[allow(missing_docs, clippy::all)]
    mod wit {
        wit_bindgen::generate!({
            inline: "package ipaas:deployment-vars; world config { import wasi:config/runtime@0.2.0-draft; }",
            path: ["../wit/deps/wasi-config/runtime.wit"],
            generate_all,
        });
    }

    use wit::wasi::config::runtime::{self, ConfigError};

    /// Every config entry the engine holds for this component.
    pub fn get_all() -> Result<Vec<(String, String)>, String> {
        runtime::get_all().map_err(|e| match e {
            ConfigError::Upstream(m) => format!("wasi:config: the engine's config source failed: {m}"),
            ConfigError::Io(m) => format!("wasi:config: I/O error: {m}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_keys_take_the_environment_spelling_and_win() {
        let env = vec![("CONNECTOR_REGION".into(), "eu".into()), ("HOME".into(), "/".into())];
        let config = vec![("connector-region".into(), "na".into()), ("service_token".into(), "t".into())];
        let mut vars = merge(env, config);
        vars.sort();
        let expected: Vec<(String, String)> = [("CONNECTOR_REGION", "na"), ("HOME", "/"), ("SERVICE_TOKEN", "t")]
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .to_vec();
        assert_eq!(vars, expected);
    }
}
