//! HTTP backends for the harness: the embedded simulator (default) and real
//! HTTPS (opt-in, for trying the connector against Klarna's playground).

use std::time::Duration;

use crate::runtime::{HttpBackend, HttpError, Method, Request, Response};
use crate::sim::{NetworkFailure, SimRequest, Simulator};

/// Name of a method on the wire.
pub fn method_name(method: Method) -> &'static str {
    match method {
        Method::Get => "GET",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Patch => "PATCH",
        Method::Delete => "DELETE",
    }
}

/// A connection to the simulator's default merchant: `api_type` on the
/// European playground, with its API username and password.
pub fn simulator_config(api_type: &str) -> crate::runtime::ConnectionConfig {
    use crate::runtime::{Auth, BasicAuth, ConnectionConfig};
    let auth = if api_key_only(api_type) {
        BasicAuth { username: String::new(), password: crate::sim::API_KEY.into() }
    } else {
        BasicAuth { username: crate::sim::USERNAME.into(), password: crate::sim::PASSWORD.into() }
    };
    ConnectionConfig {
        api_type: api_type.into(),
        environment: "playground".into(),
        region: "eu".into(),
        auth: Auth::Basic(auth),
        settings: vec![],
    }
}

/// Whether the API type takes a Klarna API key only (Klarna Network).
pub fn api_key_only(api_type: &str) -> bool {
    klarna_connector::manifest::Manifest::get()
        .api_type(api_type)
        .is_some_and(|t| t.auth == [klarna_connector::manifest::AuthKindId::ApiKey])
}

/// Serves every request from the in-process simulator.
pub struct SimulatorBackend(pub Simulator);

impl HttpBackend for SimulatorBackend {
    fn send(&mut self, request: Request) -> Result<Response, HttpError> {
        let sim_request = SimRequest {
            method: method_name(request.method).to_string(),
            url: request.url,
            headers: request.headers,
            body: request.body.unwrap_or_default(),
        };
        match self.0.handle(&sim_request) {
            Ok(r) => Ok(Response { status: r.status, headers: r.headers, body: r.body }),
            Err(NetworkFailure::Timeout) => Err(HttpError::Timeout),
            Err(NetworkFailure::Connection(why)) => Err(HttpError::Connection(why)),
            Err(NetworkFailure::NotSent(why)) => Err(HttpError::NotSent(why)),
        }
    }
}

/// Real HTTPS with `ureq` (rustls); only used when asked for with `--live`.
pub struct LiveBackend {
    agent: ureq::Agent,
}

impl Default for LiveBackend {
    fn default() -> Self {
        let config = ureq::Agent::config_builder().http_status_as_error(false).build();
        Self { agent: config.into() }
    }
}

impl HttpBackend for LiveBackend {
    fn send(&mut self, request: Request) -> Result<Response, HttpError> {
        let mut builder = ureq::http::Request::builder().method(method_name(request.method)).uri(&request.url);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        let http_request =
            builder.body(request.body.unwrap_or_default()).map_err(|e| HttpError::Other(e.to_string()))?;
        let timeout = request.timeout_ms.map(|ms| Duration::from_millis(u64::from(ms)));
        let configured = self.agent.configure_request(http_request).timeout_global(timeout).build();
        let answer = self.agent.run(configured).map_err(|e| match e {
            ureq::Error::Timeout(_) => HttpError::Timeout,
            ureq::Error::Io(io) => HttpError::Connection(io.to_string()),
            // Before the request was written: the name, the connection or the TLS handshake failed.
            ureq::Error::HostNotFound => HttpError::NotSent("host not found".into()),
            ureq::Error::ConnectionFailed => HttpError::NotSent("connection failed".into()),
            ureq::Error::Tls(why) => HttpError::NotSent(format!("TLS: {why}")),
            ureq::Error::Rustls(why) => HttpError::NotSent(format!("TLS: {why}")),
            other => HttpError::Other(other.to_string()),
        })?;
        let status = answer.status().as_u16();
        let headers = answer
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let body = answer
            .into_body()
            .with_config()
            .limit(32 * 1024 * 1024)
            .read_to_vec()
            .map_err(|e| HttpError::Other(e.to_string()))?;
        Ok(Response { status, headers, body })
    }
}
