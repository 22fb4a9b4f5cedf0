//! The service's routes (see the crate docs).

use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use wasip2::http::types::{IncomingRequest, ResponseOutparam};

use crate::http::{read_body, respond, BodyError, Head, Streaming};
use crate::json;
use crate::problem::Problem;
use crate::settings::Settings;
use crate::wit::ipaas::connector::connector::{describe, Connection};
use crate::wit::ipaas::connector::types::{self as wit_types, Params, SubscribeRequest};

/// Where Klarna's deliveries arrive; the rest of the path is the plugin's route.
const CALLBACKS: &str = "/callbacks";

/// Most records asked for per page while streaming, when the URL gives no `page_size`.
const STREAM_PAGE_SIZE: u32 = 500;

/// Answers one request.
pub fn handle(request: IncomingRequest, out: ResponseOutparam) {
    let settings = Settings::from_deployment();
    let head = Head::of(&request);
    if let Some(rest) = head.path.strip_prefix(CALLBACKS).filter(|r| r.is_empty() || r.starts_with('/')) {
        let route = if rest.is_empty() { "/".to_string() } else { rest.to_string() };
        return match read(request, &head, &settings) {
            Ok(body) => callback(out, &settings, &head, route, body),
            Err(problem) => problem.send(out),
        };
    }
    if !authorized(&head, settings.service_token.as_deref()) {
        let why = if settings.service_token.is_some() {
            "a wrong or missing bearer token"
        } else {
            "SERVICE_TOKEN is not set"
        };
        return Problem::service(
            401,
            "service-token",
            format!("the management routes need Authorization: Bearer <SERVICE_TOKEN> ({why})"),
        )
        .send(out);
    }
    let body = match read(request, &head, &settings) {
        Ok(body) => body,
        Err(problem) => return problem.send(out),
    };
    let result = match (head.method.as_str(), head.path.as_str()) {
        ("GET", "/describe") => {
            return respond(out, 200, &[("content-type", "application/json".into())], describe().as_bytes())
        }
        ("GET", "/entities") => open(&settings).map(|c| json::entities(&c.entities())),
        ("POST", "/test") => {
            open(&settings).and_then(|c| c.test().map_err(Problem::management)).map(|()| json!({"ok": true}))
        }
        ("POST", "/subscribe") => json::subscribe_request(&body)
            .map_err(|m| Problem::service(400, "invalid-input", m))
            .and_then(|request| open(&settings)?.subscribe(&request).map_err(Problem::management))
            .map(|page| json::page(&page)),
        ("POST", "/publish") => json::publish_request(&body)
            .map_err(|m| Problem::service(400, "invalid-input", m))
            .and_then(|request| open(&settings)?.publish(&request).map_err(Problem::management))
            .map(|result| json::publish_result(&result)),
        ("GET", path) if path.starts_with("/records/") => {
            return stream_records(out, &settings, &path["/records/".len()..], &head.query)
        }
        (_, "/describe" | "/entities" | "/test" | "/subscribe" | "/publish") => {
            Err(Problem::service(405, "method", format!("{} does not take {}", head.path, head.method)))
        }
        _ => Err(Problem::service(404, "route", format!("no route {} {}", head.method, head.path))),
    };
    match result {
        Ok(value) => respond(out, 200, &[("content-type", "application/json".into())], value.to_string().as_bytes()),
        Err(problem) => problem.send(out),
    }
}

/// The body, or the problem that refuses it (413 over the limit).
fn read(request: IncomingRequest, head: &Head, settings: &Settings) -> Result<Vec<u8>, Problem> {
    read_body(request, head, settings.max_body_bytes).map_err(|e| match e {
        BodyError::TooLarge => Problem::service(
            413,
            "body-too-large",
            format!(
                "the body is over the service's limit of {} bytes (SERVICE_MAX_BODY_BYTES)",
                settings.max_body_bytes
            ),
        ),
        BodyError::Broken(why) => Problem::service(400, "body", format!("the body broke off: {why}")),
    })
}

/// Whether the request carries the service token (compared in constant time, hashed first so the length does not show).
fn authorized(head: &Head, token: Option<&str>) -> bool {
    let (Some(expected), Some(given)) = (token, head.header("authorization")) else { return false };
    let Some(given) = given.strip_prefix("Bearer ").or_else(|| given.strip_prefix("bearer ")) else { return false };
    bool::from(Sha256::digest(given.trim().as_bytes()).ct_eq(&Sha256::digest(expected.as_bytes())))
}

/// The deployment's connection.
fn open(settings: &Settings) -> Result<Connection, Problem> {
    let config = settings.connection.as_ref().map_err(|m| Problem::service(500, "invalid-config", m.clone()))?;
    Connection::open(config).map_err(Problem::management)
}

/// A delivery from Klarna: `receive`, then its reply; the events go to stderr, one JSON line each.
fn callback(out: ResponseOutparam, settings: &Settings, head: &Head, route: String, body: Vec<u8>) {
    let connection = match open(settings) {
        Ok(c) => c,
        Err(problem) => return problem.send(out),
    };
    let Ok(method) = json::method(&head.method) else {
        return Problem::service(405, "method", format!("Klarna does not send {}", head.method)).send(out);
    };
    let path = if head.query.is_empty() { route } else { format!("{route}?{}", head.query) };
    let request = wit_types::IncomingRequest { method, path, headers: head.headers.clone(), body };
    match connection.receive(&request) {
        Ok(delivery) => {
            for event in &delivery.events {
                let line = json!({"event": {"kind": event.kind, "id": event.id, "entity": event.entity, "record": json::value(&event.record)}});
                eprintln!("{line}");
            }
            match delivery.reply {
                Some(reply) => {
                    let headers: Vec<(&str, String)> = reply.headers.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
                    respond(out, reply.status, &headers, &reply.body);
                }
                None => Problem::service(
                    503,
                    "needs-answer",
                    "this callback waits for a flow's answer (respond), which this service does not run; Klarna falls back to its default",
                )
                .send(out),
            }
        }
        Err(error) => Problem::callback(error).send(out),
    }
}

/// `GET /records/{entity}?page_size=N&path.<name>=V&<query>=V&since=S&cursor=C&max_pages=K`:
/// every page from `cursor` (or the first), one record per line, written as
/// each page arrives (constant memory). A page with more after it ends with
/// `{"@page": {"pages", "records", "cursor"}}`: a client cut off by an
/// engine's execution limit drops the records after the last `@page` line
/// it got and resumes from its `cursor`. The last line is
/// `{"@end": {"pages", "records", "cursor", "state"}}`: `cursor` when the
/// stream stopped after `max_pages` pages with more to read (pass it back to
/// go on), `state` after the last page of an incremental entity (pass it
/// back as `since` next time), and `error` instead when a page failed after
/// the first (the status was sent).
fn stream_records(out: ResponseOutparam, settings: &Settings, entity: &str, query: &str) {
    let mut params = Params { path: vec![], query: vec![], payload: None };
    let mut request = SubscribeRequest {
        entity: decode(entity),
        params: Params { path: vec![], query: vec![], payload: None },
        cursor: None,
        page_size: Some(STREAM_PAGE_SIZE),
        since: None,
    };
    let mut max_pages: Option<u64> = None;
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        let (name, value) = (name.into_owned(), value.into_owned());
        match (name.strip_prefix("path."), name.as_str()) {
            (Some(param), _) => params.path.push((param.to_string(), value)),
            (None, "page_size") => request.page_size = value.parse().ok(),
            (None, "since") => request.since = Some(value),
            (None, "cursor") => request.cursor = Some(value),
            (None, "max_pages") => match value.parse::<u64>() {
                Ok(pages) if pages > 0 => max_pages = Some(pages),
                _ => {
                    return Problem::service(400, "invalid-input", "max_pages: a whole number of pages, at least 1")
                        .send(out)
                }
            },
            (None, _) => params.query.push((name, value)),
        }
    }
    request.params = params;
    let connection = match open(settings) {
        Ok(c) => c,
        Err(problem) => return problem.send(out),
    };
    // The first page decides the status: an error before any record is a problem document.
    let mut page = match connection.subscribe(&request) {
        Ok(page) => page,
        Err(error) => return Problem::management(error).send(out),
    };
    let Some(mut stream) = Streaming::start(out, 200, &[("content-type", "application/x-ndjson".into())]) else {
        return;
    };
    let (mut pages, mut records) = (0u64, 0u64);
    let end = loop {
        pages += 1;
        records += page.records.len() as u64;
        let mut lines = String::new();
        for record in &page.records {
            lines.push_str(record);
            lines.push('\n');
        }
        let next = page.next_cursor.take();
        if let Some(cursor) = &next {
            let checkpoint = json!({ "@page": { "pages": pages, "records": records, "cursor": cursor } });
            lines.push_str(&format!("{checkpoint}\n"));
        }
        if !stream.write(lines.as_bytes()) {
            return;
        }
        let Some(cursor) = next else {
            break json!({ "state": page.state.take() });
        };
        if max_pages.is_some_and(|most| pages >= most) {
            break json!({ "cursor": cursor });
        }
        request.cursor = Some(cursor.clone());
        request.since = None;
        page = match connection.subscribe(&request) {
            Ok(page) => page,
            // The status is sent: the last line says why the stream ends early, and where to go on from.
            Err(error) => break json!({ "cursor": cursor, "error": Problem::management(error).body() }),
        };
    };
    let mut trailer = json!({ "pages": pages, "records": records, "cursor": null, "state": null });
    if let (Some(trailer), Some(end)) = (trailer.as_object_mut(), end.as_object()) {
        trailer.extend(end.clone());
    }
    stream.write(format!("{}\n", json!({ "@end": trailer })).as_bytes());
    stream.finish();
}

/// Percent-decodes a path segment.
fn decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned()
}
