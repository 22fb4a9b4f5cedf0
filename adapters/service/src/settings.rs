//! The deployment's variables (the environment, or also `wasi:config` in the
//! `wasi-config` build; see `ipaas-deployment-vars`): the one connection it
//! serves, and the service's own settings. Names (all optional unless said):
//!
//! | Variable | Meaning |
//! | --- | --- |
//! | `CONNECTOR_API_TYPE` | required: the connection's API type |
//! | `CONNECTOR_ENVIRONMENT`, `CONNECTOR_REGION` | default `playground`, `eu` |
//! | `CONNECTOR_AUTH` | `basic` (default), `oauth2` or `token`: the WIT `auth` case |
//! | `CONNECTOR_USERNAME`, `CONNECTOR_PASSWORD` | `basic` (an API key: empty username, the key as password) |
//! | `CONNECTOR_CLIENT_ID`, `CONNECTOR_CLIENT_SECRET`, `CONNECTOR_SCOPES` | `oauth2` (scopes space-separated) |
//! | `CONNECTOR_TOKEN` | `token` |
//! | `CONNECTOR_SETTING_<KEY>` | one panel setting; the key is lowercased (`CONNECTOR_SETTING_MAX_ATTEMPTS`) |
//! | `SERVICE_TOKEN` | the bearer token of the management routes (none set: they all answer 401) |
//! | `SERVICE_MAX_BODY_BYTES` | the largest request body read, default 8,388,608 |

use crate::wit::ipaas::connector::types::{Auth, BasicAuth, ConnectionConfig, Oauth2Client};

/// The default of `SERVICE_MAX_BODY_BYTES` (8 MiB: a dispute evidence file, base64, fits).
pub const DEFAULT_MAX_BODY_BYTES: u64 = 8 * 1024 * 1024;

/// The service's settings.
pub struct Settings {
    /// The connection the deployment serves, or why it cannot be read.
    pub connection: Result<ConnectionConfig, String>,
    /// The management routes' bearer token.
    pub service_token: Option<String>,
    /// The largest request body read.
    pub max_body_bytes: u64,
}

impl Settings {
    /// Reads the deployment's variables (the environment, or also
    /// `wasi:config` in the `wasi-config` build).
    pub fn from_deployment() -> Self {
        match ipaas_deployment_vars::all() {
            Ok(vars) => Self::from_vars(&vars),
            Err(reason) => {
                Self { connection: Err(reason), service_token: None, max_body_bytes: DEFAULT_MAX_BODY_BYTES }
            }
        }
    }

    /// Reads `vars` (name, value).
    pub fn from_vars(vars: &[(String, String)]) -> Self {
        let get = |name: &str| vars.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
        let max_body_bytes =
            get("SERVICE_MAX_BODY_BYTES").and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_MAX_BODY_BYTES);
        Self {
            connection: connection(&get, vars),
            service_token: get("SERVICE_TOKEN").filter(|t| !t.is_empty()),
            max_body_bytes,
        }
    }
}

fn connection(get: &dyn Fn(&str) -> Option<String>, vars: &[(String, String)]) -> Result<ConnectionConfig, String> {
    let api_type = get("CONNECTOR_API_TYPE").ok_or("CONNECTOR_API_TYPE is not set")?;
    let value = |name: &str| get(name).unwrap_or_default();
    let auth = match get("CONNECTOR_AUTH").as_deref().unwrap_or("basic") {
        "basic" => {
            Auth::Basic(BasicAuth { username: value("CONNECTOR_USERNAME"), password: value("CONNECTOR_PASSWORD") })
        }
        "oauth2" => Auth::Oauth2(Oauth2Client {
            client_id: value("CONNECTOR_CLIENT_ID"),
            client_secret: value("CONNECTOR_CLIENT_SECRET"),
            scopes: value("CONNECTOR_SCOPES").split_whitespace().map(str::to_string).collect(),
        }),
        "token" => Auth::Token(value("CONNECTOR_TOKEN")),
        other => return Err(format!("CONNECTOR_AUTH is {other:?}, not basic, oauth2 or token")),
    };
    let mut settings: Vec<(String, String)> = vars
        .iter()
        .filter_map(|(name, v)| Some((name.strip_prefix("CONNECTOR_SETTING_")?.to_ascii_lowercase(), v.clone())))
        .collect();
    settings.sort();
    Ok(ConnectionConfig {
        api_type,
        environment: get("CONNECTOR_ENVIRONMENT").unwrap_or_else(|| "playground".into()),
        region: get("CONNECTOR_REGION").unwrap_or_else(|| "eu".into()),
        auth,
        settings,
    })
}
