//! `host-test panel`: a reference connection panel in the browser, served on
//! 127.0.0.1. The page (`host-test/panel/`) draws itself from `describe()`
//! alone; this server only hands its requests to the component:
//!
//! | Route | What it does |
//! | --- | --- |
//! | `GET /` , `/panel.js`, `/panel.css` | the page |
//! | `GET /api/describe` | `describe()` |
//! | `POST /api/connections` | `open` then `test()` with the panel's values; on success the connection is kept under an id and its entities are returned |
//! | `POST /api/page` | the first page of an entity of a kept connection (`subscribe`) |
//!
//! The auth kind's values become the WIT `auth` case through the kind's
//! `wit` template in the manifest (`{field}` placeholders), as a host would
//! do it. Secrets stay here: no answer carries a value the page sent.

use std::collections::HashMap;

use serde_json::{json, Map, Value};
use wasmtime::component::ResourceAny;

use crate::http_server::{Request as Incoming, Response};
use crate::runtime::{
    Auth, BasicAuth, ConnectionConfig, ConnectorError, Entity, Instance, Method, Oauth2Client, Params, Runtime,
    SubscribeRequest,
};

/// The page, its script and its style, served as they are.
const PAGE: &str = include_str!("../panel/index.html");
const SCRIPT: &str = include_str!("../panel/panel.js");
const STYLE: &str = include_str!("../panel/panel.css");

/// Records shown of an entity's first page.
const PAGE_SIZE: u32 = 20;

/// The component and the connections the panel opened.
struct Panel {
    instance: Instance,
    manifest: Value,
    describe: String,
    connections: HashMap<String, ResourceAny>,
    opened: u64,
}

/// Serves the panel until the process ends, one request at a time (the
/// instance is not shared between threads; a panel has one user).
pub fn run(listener: std::net::TcpListener, instance: Instance, runtime: Runtime) -> Result<String, String> {
    let mut instance = instance;
    let describe = instance.describe().map_err(crate::cli::trap)?;
    let manifest = serde_json::from_str(&describe).map_err(|e| format!("describe() is not JSON: {e}"))?;
    let mut panel = Panel { instance, manifest, describe, connections: HashMap::new(), opened: 0 };
    crate::http_server::serve(listener, move |request| {
        let (status, kind, body) = panel.route(&request);
        let headers =
            vec![("Content-Type".to_string(), kind.to_string()), ("Cache-Control".to_string(), "no-store".to_string())];
        Response { status, headers, body }
    })
    .map_err(|e| format!("serving: {e}"))?;
    drop(runtime);
    Ok(String::new())
}

/// One answer: status, content type, body.
type Answer = (u16, &'static str, Vec<u8>);

fn json_answer(status: u16, value: &Value) -> Answer {
    (status, "application/json", value.to_string().into_bytes())
}

/// A failure of the panel's own request (not a connector error): `{"error": {"case", "message"}}`.
fn failure(status: u16, case: &str, message: impl std::fmt::Display) -> Answer {
    json_answer(status, &json!({"error": {"case": case, "message": message.to_string()}}))
}

impl Panel {
    fn route(&mut self, request: &Incoming) -> Answer {
        let path = request.target.split('?').next().unwrap_or_default();
        match (request.method.as_str(), path) {
            ("GET", "/") => (200, "text/html; charset=utf-8", PAGE.as_bytes().to_vec()),
            ("GET", "/panel.js") => (200, "text/javascript; charset=utf-8", SCRIPT.as_bytes().to_vec()),
            ("GET", "/panel.css") => (200, "text/css; charset=utf-8", STYLE.as_bytes().to_vec()),
            ("GET", "/api/describe") => (200, "application/json", self.describe.as_bytes().to_vec()),
            ("POST", "/api/connections") => match serde_json::from_slice(&request.body) {
                Ok(form) => self.connect(&form),
                Err(e) => failure(400, "invalid-input", e),
            },
            ("POST", "/api/page") => match serde_json::from_slice(&request.body) {
                Ok(body) => self.first_page(&body),
                Err(e) => failure(400, "invalid-input", e),
            },
            _ => failure(404, "not-found", format!("no route {path}")),
        }
    }

    /// `open` and `test()`; on success the connection is kept.
    fn connect(&mut self, form: &Value) -> Answer {
        let config = match connection_config(&self.manifest, form) {
            Ok(config) => config,
            Err(message) => return failure(400, "invalid-input", message),
        };
        let opened = match self.instance.open(&config) {
            Ok(Ok(connection)) => connection,
            Ok(Err(error)) => {
                return json_answer(200, &json!({"ok": false, "step": "open", "error": error_json(&error)}))
            }
            Err(trap) => return failure(500, "trap", format!("{trap:#}")),
        };
        match self.instance.test(opened) {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                let _ = self.instance.close(opened);
                return json_answer(200, &json!({"ok": false, "step": "test", "error": error_json(&error)}));
            }
            Err(trap) => return failure(500, "trap", format!("{trap:#}")),
        }
        let entities = match self.instance.entities(opened) {
            Ok(entities) => entities,
            Err(trap) => return failure(500, "trap", format!("{trap:#}")),
        };
        self.opened += 1;
        let id = format!("connection-{}", self.opened);
        self.connections.insert(id.clone(), opened);
        json_answer(
            200,
            &json!({"ok": true, "connection": id, "entities": entities.iter().map(entity_json).collect::<Vec<_>>()}),
        )
    }

    /// The first page of `entity` on a kept connection.
    fn first_page(&mut self, body: &Value) -> Answer {
        let connection = body["connection"].as_str().and_then(|id| self.connections.get(id)).copied();
        let Some(connection) = connection else {
            return failure(404, "not-found", "no such connection: test it again");
        };
        let path = body["path"]
            .as_object()
            .map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
            .unwrap_or_default();
        let request = SubscribeRequest {
            entity: body["entity"].as_str().unwrap_or_default().to_string(),
            params: Params { path, query: vec![], payload: None },
            cursor: None,
            page_size: Some(PAGE_SIZE),
            since: None,
        };
        match self.instance.subscribe(connection, &request) {
            Ok(Ok(page)) => {
                let records: Vec<Value> =
                    page.records.iter().map(|r| serde_json::from_str(r).unwrap_or(Value::String(r.clone()))).collect();
                json_answer(200, &json!({"ok": true, "records": records, "more": page.next_cursor.is_some()}))
            }
            Ok(Err(error)) => json_answer(200, &json!({"ok": false, "error": error_json(&error)})),
            Err(trap) => failure(500, "trap", format!("{trap:#}")),
        }
    }
}

/// The connection the panel's form describes:
/// `{"api_type", "environment", "region", "auth_kind", "fields": {key: value}, "settings": {key: value}}`.
/// The auth kind's fields fill its manifest `wit` template; empty settings are left out.
pub fn connection_config(manifest: &Value, form: &Value) -> Result<ConnectionConfig, String> {
    let text = |key: &str| form[key].as_str().map(str::to_string).ok_or(format!("{key} is missing"));
    let kind_id = text("auth_kind")?;
    let kind = manifest["panel"]["auth_kinds"]
        .as_array()
        .and_then(|kinds| kinds.iter().find(|k| k["id"] == kind_id.as_str()))
        .ok_or(format!("unknown auth kind {kind_id:?}"))?;
    let fields = form["fields"].as_object().cloned().unwrap_or_default();
    let template = &kind["wit"];
    let fill = |name: &str| fill_template(template[name].as_str().unwrap_or_default(), &fields);
    let auth = match template["variant"].as_str() {
        Some("basic") => Auth::Basic(BasicAuth { username: fill("username"), password: fill("password") }),
        Some("oauth2") => Auth::Oauth2(Oauth2Client {
            client_id: fill("client-id"),
            client_secret: fill("client-secret"),
            scopes: fill("scopes").split_whitespace().map(str::to_string).collect(),
        }),
        Some("token") => Auth::Token(fill("value")),
        other => return Err(format!("auth kind {kind_id:?} has an unknown WIT variant {other:?}")),
    };
    let settings = form["settings"]
        .as_object()
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| v.as_str().filter(|v| !v.is_empty()).map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default();
    Ok(ConnectionConfig {
        api_type: text("api_type")?,
        environment: text("environment")?,
        region: text("region")?,
        auth,
        settings,
    })
}

/// `template` with each `{field}` replaced by that field's value (an absent
/// field is empty: `open` then names what is missing).
fn fill_template(template: &str, fields: &Map<String, Value>) -> String {
    let mut value = |key: &str| Ok(fields.get(key).and_then(Value::as_str).unwrap_or_default().to_string());
    klarna_connector::path::fill(template, &mut value).unwrap_or_default()
}

/// An entity as the page lists it.
fn entity_json(entity: &Entity) -> Value {
    let method = |m: &Method| match m {
        Method::Get => "GET",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Patch => "PATCH",
        Method::Delete => "DELETE",
    };
    json!({
        "name": entity.name,
        "label": entity.label,
        "description": entity.description,
        "paginated": entity.paginated,
        "operations": entity.operations.iter().map(|o| json!({"method": method(&o.method), "path": o.path})).collect::<Vec<_>>(),
    })
}

/// A connector error as the page shows it: its case, the message to act on
/// (the first of Klarna's messages, or the one naming the field), and
/// Klarna's status, code and correlation id.
pub fn error_json(error: &ConnectorError) -> Value {
    let plain = |case: &str, message: &str| json!({"case": case, "message": message});
    let api = |case: &str, e: &crate::runtime::ApiError| {
        json!({
            "case": case,
            "message": e.messages.first().cloned().unwrap_or_else(|| format!("HTTP {}", e.status)),
            "status": e.status,
            "code": e.code,
            "correlation_id": e.correlation_id,
        })
    };
    match error {
        ConnectorError::InvalidConfig(m) => plain("invalid-config", m),
        ConnectorError::InvalidInput(m) => plain("invalid-input", m),
        ConnectorError::Transport(m) => plain("transport", m),
        ConnectorError::Unauthorized(e) => api("unauthorized", e),
        ConnectorError::NotFound(e) => api("not-found", e),
        ConnectorError::Rejected(e) => api("rejected", e),
        ConnectorError::RateLimited(r) => api("rate-limited", &r.error),
        ConnectorError::Unavailable(e) => api("unavailable", e),
        ConnectorError::Unexpected(e) => api("unexpected", e),
        ConnectorError::OutcomeUnknown(m) => plain("outcome-unknown", m),
    }
}
