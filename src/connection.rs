//! The generic engine: every entity of `connector.json` is executed here.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};

use crate::client::{Call, Client};
use crate::config::{self, Credentials, ValidConfig};
use crate::error::{ConnectorError, Result};
use crate::manifest::{EntitySpec, Manifest, OperationSpec, RetrySafety};
use crate::model::{ConnectionConfig, Method, Page, Pairs, Params, PublishRequest, PublishResult, SubscribeRequest};
use crate::transport::{HttpResponse, Transport};
use crate::{checks, header_params, idempotency, pagination, path, request, response, upload};

/// Klarna refuses request bodies over 1 MB (HTTP 413).
pub const MAX_BODY_BYTES: usize = 1_000_000;

/// Responses larger than this are refused instead of parsed.
pub const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// An open connection: one account, API type, environment and region.
pub struct Connection<T> {
    client: Client<T>,
}

impl<T: Transport> Connection<T> {
    /// Validates `config`; sends nothing.
    pub fn open(config: ConnectionConfig, transport: T) -> Result<Self> {
        Ok(Self { client: Client::new(transport, config::validate(config)?) })
    }

    /// The validated configuration.
    pub fn config(&self) -> &ValidConfig {
        self.client.config()
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        self.client.transport()
    }

    /// The cheapest authenticated read of the API type; `Ok` says what it proved.
    pub fn test(&self) -> Result<String> {
        let Some(probe) = &self.config().api_type.test else { return self.check_listener() };
        let call = Call {
            method: probe.method,
            path: probe.path.to_string(),
            query: path::query_string(&probe.query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()),
            body: None,
            content_type: None,
            headers: vec![],
            retry: RetrySafety::Natural,
            check: None,
        };
        let answer = self.client.send(&call).map_err(|e| self.explain(e))?;
        if probe.accept.contains(&answer.status) {
            return Ok(format!("{} on {}", probe.checks, self.config().describe_target()));
        }
        Err(self.explain(response::error_for(&answer, self.transport().now_unix_s())))
    }

    /// Puts a one-line reason a person can act on in front of a `test()` failure.
    fn explain(&self, error: ConnectorError) -> ConnectorError {
        let config = self.config();
        let target = config.describe_target();
        match error {
            ConnectorError::Unauthorized(mut e) => {
                let hint = match config.credentials {
                    Credentials::ApiKey(_) | Credentials::Basic { .. } => format!(
                        "Klarna refused these credentials on {target}: check them, and that they were issued for {} in this region (credentials work on one environment and region only)",
                        config.environment
                    ),
                    Credentials::Bearer(_) => format!("Klarna refused the bearer token on {target}: it may be wrong or expired"),
                    Credentials::OAuth2 { .. } => format!("no usable OAuth 2.0 access token for {target}"),
                    Credentials::ShippingKey { .. } => format!("the shipping assistant's key is not for {target}"),
                };
                e.messages.insert(0, hint);
                ConnectorError::Unauthorized(e)
            }
            ConnectorError::Rejected(mut e) if e.status == 403 => {
                e.messages.insert(
                    0,
                    format!(
                        "Klarna answered 403 on {target}: these credentials may not have access to the {} API",
                        config.api_type.label
                    ),
                );
                ConnectorError::Rejected(e)
            }
            ConnectorError::Transport(why) => ConnectorError::Transport(format!("could not reach {target}: {why}")),
            other => other,
        }
    }

    /// The entities of the connection's API type.
    pub fn entities(&self) -> Vec<&'static EntitySpec> {
        let api_type = &self.config().api_type.id;
        Manifest::get().entities.iter().filter(|e| e.api_type == *api_type).collect()
    }

    /// Reads one page of `request.entity` with its `get` operation; an
    /// incremental or child entity through [`crate::sync`].
    pub fn subscribe(&self, request: &SubscribeRequest) -> Result<Page> {
        let (entity, operation) = self.operation(&request.entity, &Method::Get)?;
        if entity.incremental.is_some() || entity.parent.is_some() {
            return self.read_incremental(entity, operation, request);
        }
        if request.since.is_some() {
            return Err(ConnectorError::input("since", format!("entity {} is not read incrementally", entity.name)));
        }
        self.read(entity, operation, request)
    }

    /// One page of `entity`, as `request` asks (its cursor a query string).
    pub(crate) fn read(
        &self,
        entity: &EntitySpec,
        operation: &OperationSpec,
        request: &SubscribeRequest,
    ) -> Result<Page> {
        if request.params.payload.is_some() {
            return Err(ConnectorError::input("params.payload", "a read sends no payload"));
        }
        let target = request::target(entity, operation, &request.params, &self.config().defaults)?;
        let query = pagination::page_query(entity, &target.query, request.cursor.as_deref(), request.page_size)?;
        let call = Call {
            method: Method::Get,
            path: target.path.clone(),
            query: query.clone(),
            body: None,
            content_type: None,
            headers: target.headers,
            retry: RetrySafety::Natural,
            check: None,
        };
        let answer = self.expect_success(self.client.send(&call)?)?;
        if entity.file_response {
            return Ok(Page { records: vec![file_record(entity, &answer)], next_cursor: None, state: None });
        }
        pagination::read_page(entity, &answer.body, &self.config().host, &target.path, &query)
    }

    /// Writes to `request.entity` with its operation of `request.method`.
    pub fn publish(&self, request: &PublishRequest) -> Result<PublishResult> {
        let (entity, operation) = self.operation(&request.entity, &request.method)?;
        self.write(entity, operation, request)
    }

    /// Calls `entity` with `method` on behalf of a delivery being received:
    /// any entity on the connection's hosts (build.rs checks the manifest's
    /// callbacks name only those), a read answering its first record.
    pub(crate) fn call_for_delivery(&self, entity: &str, method: Method, path: Pairs) -> Result<Option<String>> {
        let spec = Manifest::get().entity(entity).ok_or_else(|| ConnectorError::input("entity", entity))?;
        let operation = spec.operation(&method).ok_or_else(|| ConnectorError::input("method", method))?;
        let params = Params { path, ..Params::default() };
        if method == Method::Get {
            let request = SubscribeRequest { entity: entity.to_string(), params, ..SubscribeRequest::default() };
            return Ok(self.read(spec, operation, &request)?.records.into_iter().next());
        }
        let request = PublishRequest { entity: entity.to_string(), method, params, idempotency_key: None };
        Ok(self.write(spec, operation, &request)?.data)
    }

    fn write(&self, entity: &EntitySpec, operation: &OperationSpec, request: &PublishRequest) -> Result<PublishResult> {
        let request::Target { path: rendered, query, mut headers } =
            request::target(entity, operation, &request.params, &self.config().defaults)?;
        let payload = parse_payload(&request.params, entity)?;
        if let Some(payload) = &payload {
            checks::run_checks(entity.checks, payload)?;
        }
        let keyed = matches!(request.method, Method::Post | Method::Patch);
        if keyed {
            let key = match &request.idempotency_key {
                Some(key) => {
                    idempotency::check_key(key)?;
                    key.clone()
                }
                None => {
                    let semantic = header_params::semantic(&headers);
                    idempotency::derive(
                        entity.name,
                        &request.method,
                        &request.params.path,
                        &semantic,
                        payload.as_ref(),
                    )?
                }
            };
            headers.push(("Klarna-Idempotency-Key".to_string(), key));
        }
        let (body, content_type) = request_body(entity, payload)?;
        let call = Call {
            method: request.method,
            path: rendered,
            query: path::query_string(&query),
            body,
            content_type,
            headers,
            retry: operation.retry,
            check: operation.check,
        };
        let answer = self.expect_success(self.client.send(&call)?)?;
        let data = response::json_body(&answer)?;
        let (id, warning) = created_id(entity, &answer, data.as_ref(), &self.config().host);
        if let Some(warning) = warning {
            self.transport()
                .log(crate::transport::Level::Warn, &format!("{} {}: {warning}", request.method, entity.name));
        }
        Ok(PublishResult { status: answer.status, id, data: data.map(|d| d.to_string()) })
    }

    fn operation(&self, name: &str, method: &Method) -> Result<(&'static EntitySpec, &'static OperationSpec)> {
        let entity =
            Manifest::get().entity(name).filter(|e| e.api_type == self.config().api_type.id).ok_or_else(|| {
                ConnectorError::input(
                    "entity",
                    format!("unknown entity {name:?} for API type {}", self.config().api_type.id),
                )
            })?;
        let operation = entity.operation(method).ok_or_else(|| {
            let offered: Vec<_> = entity.operations.iter().map(|o| o.method.to_string()).collect();
            ConnectorError::input(
                "method",
                format!("entity {name} has no {method} operation (offers {})", offered.join(", ")),
            )
        })?;
        Ok((entity, operation))
    }

    fn expect_success(&self, answer: HttpResponse) -> Result<HttpResponse> {
        if answer.body.len() > MAX_RESPONSE_BYTES {
            return Err(ConnectorError::Unexpected(crate::error::ApiError {
                status: answer.status,
                messages: vec![format!(
                    "response body of {} bytes is over the {MAX_RESPONSE_BYTES}-byte limit",
                    answer.body.len()
                )],
                ..Default::default()
            }));
        }
        if (200..300).contains(&answer.status) {
            Ok(answer)
        } else {
            Err(response::error_for(&answer, self.transport().now_unix_s()))
        }
    }
}

/// The body to send and its content type when not JSON: the payload as JSON
/// (at most Klarna's 1 MB), or an upload's file as `multipart/form-data`.
/// Takes the payload, so a large upload's parsed record is freed early.
fn request_body(entity: &EntitySpec, payload: Option<Value>) -> Result<(Option<Vec<u8>>, Option<String>)> {
    match (entity.upload, payload) {
        (Some(spec), Some(record)) => {
            let multipart = upload::encode(spec, &record)?;
            Ok((Some(multipart.body), Some(multipart.content_type)))
        }
        (Some(_), None) => Err(ConnectorError::input(
            "params.payload",
            "a file record {content_type, filename, content_base64} is required",
        )),
        (None, None) => Ok((None, None)),
        (None, Some(payload)) => {
            let body = payload.to_string().into_bytes();
            if body.len() > MAX_BODY_BYTES {
                return Err(ConnectorError::input(
                    "params.payload",
                    format!("{} bytes is over Klarna's 1 MB limit", body.len()),
                ));
            }
            Ok((Some(body), None))
        }
    }
}

/// The payload as a JSON object; an upload's may be as large as its file
/// in base64, any other's at most Klarna's 1 MB.
fn parse_payload(params: &Params, entity: &EntitySpec) -> Result<Option<Value>> {
    let Some(text) = params.payload.as_deref() else {
        return Ok(None);
    };
    let (limit, what) = match entity.upload {
        Some(spec) => (upload::max_payload_chars(spec), "the upload limit (the largest file in base64)"),
        None => (MAX_BODY_BYTES, "Klarna's 1 MB limit"),
    };
    if text.len() > limit {
        return Err(ConnectorError::input("params.payload", format!("{} bytes is over {what}", text.len())));
    }
    match response::read_json(text.as_bytes()) {
        Ok(value @ Value::Object(_)) => Ok(Some(value)),
        Ok(_) => Err(ConnectorError::input("params.payload", "must be a JSON object")),
        Err(e) => Err(ConnectorError::input("params.payload", format!("not valid JSON: {e}"))),
    }
}

/// A file answer (CSV, PDF) as one JSON record. The file name comes from
/// `Content-Disposition` when Klarna sends one, otherwise from the entity.
fn file_record(entity: &EntitySpec, answer: &HttpResponse) -> String {
    let content_type = answer.header("Content-Type").unwrap_or("application/octet-stream");
    let filename = answer
        .header("Content-Disposition")
        .and_then(|d| d.split(';').find_map(|part| part.trim().strip_prefix("filename=")))
        .map(|f| f.trim_matches('"').to_string())
        .filter(|f| !f.is_empty() && !f.contains(['/', '\\']))
        .unwrap_or_else(|| {
            let extension = match content_type.split(';').next().unwrap_or("") {
                "text/csv" => "csv",
                "application/pdf" => "pdf",
                _ => "bin",
            };
            format!("{}.{extension}", entity.name)
        });
    json!({"content_type": content_type, "filename": filename, "content_base64": STANDARD.encode(&answer.body)})
        .to_string()
}

/// The id of what a write created, from the sources the entity names. A
/// `Location` off the API host (or not a URL) gives no id, with a warning in
/// the log: the write itself succeeded, so it is not failed for that.
fn created_id(
    entity: &EntitySpec,
    answer: &HttpResponse,
    data: Option<&Value>,
    host: &str,
) -> (Option<String>, Option<String>) {
    // `a.b.c` walks into nested objects.
    let body_field = |field: &str| {
        let value = field.split('.').try_fold(data?, |v, key| v.get(key))?;
        value.as_str().map(str::to_string).or_else(|| value.as_u64().map(|n| n.to_string()))
    };
    let mut warning = None;
    // The last segment of the `Location` URL's path (absolute or relative; its query is not part of the id).
    let mut location = || {
        let header = answer.header("Location")?;
        match crate::link::klarna_link(header, host) {
            Ok((path, _)) => {
                path.trim_end_matches('/').rsplit('/').next().filter(|s| !s.is_empty()).map(str::to_string)
            }
            Err(why) => {
                warning = Some(format!("Location {header:?} {why}: the created id is not taken from it"));
                None
            }
        }
    };
    let id = if entity.created_id.is_empty() {
        location().or_else(|| entity.primary_key.iter().find_map(|k| body_field(k)))
    } else {
        entity.created_id.iter().find_map(|source| match source.split_once(':') {
            Some(("header", name)) => answer.header(name).map(str::to_string),
            Some(("body", field)) => body_field(field),
            _ if *source == "location" => location(),
            _ => None,
        })
    };
    (id, warning)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_created_id_is_the_last_segment_of_the_location_path() {
        let entity =
            Manifest::get().entities.iter().find(|e| e.created_id.is_empty()).expect("an entity without sources");
        for (location, id) in [
            ("https://api.klarna.com/hpp/v1/sessions/abc", Some("abc")),
            ("https://api.klarna.com/hpp/v1/sessions/abc/", Some("abc")),
            ("/hpp/v1/sessions/abc?expand=all", Some("abc")),
            ("https://api.klarna.com/hpp/v1/sessions/abc#top", Some("abc")),
            ("https://API.KLARNA.COM:443/hpp/v1/sessions/abc", Some("abc")),
            ("not a url", None),
            ("https://api.klarna.com@evil.example/hpp/v1/sessions/abc", None),
            ("https://evil.example/hpp/v1/sessions/abc", None),
            ("//evil.example/hpp/v1/sessions/abc", None),
        ] {
            let answer =
                HttpResponse { status: 201, headers: vec![("Location".into(), location.into())], body: vec![] };
            let (found, warning) = created_id(entity, &answer, None, "api.klarna.com");
            assert_eq!(found.as_deref(), id, "{location}");
            assert_eq!(warning.is_some(), id.is_none(), "{location}: a refused Location is named in a warning");
        }
    }
}
