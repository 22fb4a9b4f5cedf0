//! The plugin's WIT records as JSON, in both directions. Requests:
//!
//! ```json
//! {"entity": "order", "params": {"path": {"order_id": "…"}, "query": {}, "payload": {…}},
//!  "cursor": null, "page_size": 100, "since": null}                     (subscribe)
//! {"entity": "captures", "method": "post", "params": {…}, "idempotency_key": "k1"}  (publish)
//! ```
//!
//! Records, `data` and payloads are JSON values, not strings holding JSON.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::wit::ipaas::connector::types::{
    Entity, Method, Page, Params, PublishRequest, PublishResult, RetrySafety, SubscribeRequest,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ParamsIn {
    #[serde(default)]
    path: BTreeMap<String, String>,
    #[serde(default)]
    query: BTreeMap<String, String>,
    #[serde(default)]
    payload: Option<Box<RawValue>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubscribeIn {
    entity: String,
    #[serde(default)]
    params: Option<ParamsIn>,
    #[serde(default)]
    cursor: Option<String>,
    #[serde(default)]
    page_size: Option<u32>,
    #[serde(default)]
    since: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishIn {
    entity: String,
    method: String,
    #[serde(default)]
    params: Option<ParamsIn>,
    #[serde(default)]
    idempotency_key: Option<String>,
}

fn params(params: Option<ParamsIn>) -> Params {
    let Some(p) = params else { return Params { path: vec![], query: vec![], payload: None } };
    Params {
        path: p.path.into_iter().collect(),
        query: p.query.into_iter().collect(),
        payload: p.payload.map(|raw| raw.get().to_string()),
    }
}

/// A `subscribe-request` from its JSON.
pub fn subscribe_request(body: &[u8]) -> Result<SubscribeRequest, String> {
    let input: SubscribeIn = serde_json::from_slice(body).map_err(|e| format!("the subscribe request: {e}"))?;
    Ok(SubscribeRequest {
        entity: input.entity,
        params: params(input.params),
        cursor: input.cursor,
        page_size: input.page_size,
        since: input.since,
    })
}

/// A `publish-request` from its JSON.
pub fn publish_request(body: &[u8]) -> Result<PublishRequest, String> {
    let input: PublishIn = serde_json::from_slice(body).map_err(|e| format!("the publish request: {e}"))?;
    Ok(PublishRequest {
        entity: input.entity,
        method: method(&input.method)?,
        params: params(input.params),
        idempotency_key: input.idempotency_key,
    })
}

/// A method by its name, any case.
pub fn method(name: &str) -> Result<Method, String> {
    Ok(match name.to_ascii_lowercase().as_str() {
        "get" => Method::Get,
        "post" => Method::Post,
        "put" => Method::Put,
        "patch" => Method::Patch,
        "delete" => Method::Delete,
        _ => return Err(format!("method {name:?} is not get, post, put, patch or delete")),
    })
}

fn method_name(method: Method) -> &'static str {
    match method {
        Method::Get => "get",
        Method::Post => "post",
        Method::Put => "put",
        Method::Patch => "patch",
        Method::Delete => "delete",
    }
}

/// A plugin's JSON text as a value; text that is not JSON stays a string.
pub fn value(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

/// The entities as JSON.
pub fn entities(entities: &[Entity]) -> Value {
    Value::Array(
        entities
            .iter()
            .map(|e| {
                let operations: Vec<Value> = e
                    .operations
                    .iter()
                    .map(|op| json!({ "method": method_name(op.method), "path": op.path, "retry": retry_name(op.retry) }))
                    .collect();
                json!({
                    "name": e.name, "label": e.label, "description": e.description, "api_type": e.api_type,
                    "operations": operations, "paginated": e.paginated, "primary_key": e.primary_key,
                    "incremental": e.incremental,
                })
            })
            .collect(),
    )
}

/// A page as JSON: `{"records": [...], "next_cursor": ..., "state": ...}`.
pub fn page(page: &Page) -> Value {
    json!({
        "records": page.records.iter().map(|r| value(r)).collect::<Vec<_>>(),
        "next_cursor": page.next_cursor,
        "state": page.state,
    })
}

/// A retry safety as the WIT spells it.
fn retry_name(retry: RetrySafety) -> &'static str {
    match retry {
        RetrySafety::Key => "key",
        RetrySafety::Natural => "natural",
        RetrySafety::None => "none",
    }
}

/// A publish result as JSON.
pub fn publish_result(result: &PublishResult) -> Value {
    json!({ "status": result.status, "id": result.id, "data": result.data.as_deref().map(value) })
}
