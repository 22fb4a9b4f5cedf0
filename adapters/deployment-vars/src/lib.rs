//! The deployment's variables, the one place the adapters read their
//! configuration from: the connection, the service token, the allow-list.
//!
//! By default they are the environment (`wasi:cli/environment`):
//! `wasmtime serve --env`, `jco serve`'s process environment, Spin's
//! `environment` table. Two features add an engine's configuration store,
//! whose keys win over the environment:
//! - `wasi-config`: `wasi:config/runtime@0.2.0-draft`, how wasmCloud 1.x
//!   hands a component its wadm `config`;
//! - `wasi-config-store`: `wasi:config/store@0.2.0-draft-2024-09-27`, how
//!   Spin 3.x hands a component its variables, secrets included (from
//!   `SPIN_VARIABLE_*`, Vault, Azure Key Vault, or SpinKube's Kubernetes
//!   secrets).
//!
//! Config keys are matched as environment names: `connector_api_type`,
//! `connector-api-type` and `CONNECTOR_API_TYPE` are one name.

/// Every variable, `(NAME, value)`, names in the environment's spelling.
///
/// An engine that fails to give its configuration is an error, not an empty
/// list: the caller must refuse to serve rather than serve another connection.
pub fn all() -> Result<Vec<(String, String)>, String> {
    #[allow(unused_mut)]
    let mut vars: Vec<(String, String)> = std::env::vars().collect();
    #[cfg(feature = "wasi-config")]
    {
        vars = merge(vars, config::get_all()?);
    }
    #[cfg(feature = "wasi-config-store")]
    {
        vars = merge(vars, store::get_all()?);
    }
    Ok(vars)
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

#[cfg(feature = "wasi-config-store")]
mod store {
    #[allow(missing_docs, clippy::all)]
    mod wit {
        wit_bindgen::generate!({
            inline: "package ipaas:deployment-vars-store; world store { import wasi:config/store@0.2.0-draft-2024-09-27; }",
            path: ["../wit/deps/wasi-config-store/store.wit"],
            generate_all,
        });
    }

    use wit::wasi::config::store::{self, Error};

    /// Every variable the engine holds for this component.
    pub fn get_all() -> Result<Vec<(String, String)>, String> {
        store::get_all().map_err(|e| match e {
            Error::Upstream(m) => format!("wasi:config/store: the engine's variable provider failed: {m}"),
            Error::Io(m) => format!("wasi:config/store: I/O error: {m}"),
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
