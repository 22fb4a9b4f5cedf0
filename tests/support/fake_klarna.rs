//! A fake Klarna for one case: it answers the way Klarna does for the
//! entity (a page with its paging links, a record, a file, a created
//! resource), or with the one thing the case varies; it never sleeps, and it
//! records what reached it.

use std::cell::RefCell;
use std::time::Duration;

use klarna_connector::manifest::{EntitySpec, Manifest, Pagination};
use klarna_connector::model::Method;
use klarna_connector::transport::{HttpRequest, HttpResponse, Level, Transport, TransportError};
use proptest::prelude::*;
use proptest::sample::Index;

/// What the answer to the API request changes.
#[derive(Clone, Debug)]
pub enum AnswerChange {
    /// Nothing: Klarna's usual answer.
    None,
    /// An error status with Klarna's error body.
    Status(u16),
    /// The success body cut short (at least its first byte kept).
    Truncate(Index),
    /// The success body replaced by an HTML page.
    Html,
    /// `pagination.next` in this form (see [`NEXT_FORMS`]).
    NextLink(Index),
    /// The connection fails on every attempt (after the request may have left).
    ConnectionFails,
    /// The request never leaves on every attempt (the host's `not-sent`).
    NotSent,
}

/// Forms of `pagination.next` for a request to `https://{host}{path}`, and
/// whether the connector must follow them.
pub const NEXT_FORMS: [(&str, bool); 9] = [
    ("https://{host}{path}?offset=2&size=2", true),
    ("{path}?offset=2&size=2", true),
    ("https://{host}:443{path}?offset=2&size=2", true),
    ("https://{HOST}{path}?offset=2&size=2", true),
    ("http://{host}{path}?offset=2&size=2", false),
    ("https://{host}.evil.example{path}?offset=2&size=2", false),
    ("https://{host}:8443{path}?offset=2&size=2", false),
    ("https://{host}/elsewhere?offset=2&size=2", false),
    ("offset=2&size=2", false),
];

/// Answers that are usually right.
pub fn answer_change() -> impl Strategy<Value = AnswerChange> {
    let statuses = vec![301, 400, 401, 403, 404, 409, 413, 429, 500, 502, 503, 999];
    prop_oneof![
        8 => Just(AnswerChange::None),
        2 => prop::sample::select(statuses).prop_map(AnswerChange::Status),
        1 => any::<Index>().prop_map(AnswerChange::Truncate),
        1 => Just(AnswerChange::Html),
        2 => any::<Index>().prop_map(AnswerChange::NextLink),
        1 => Just(AnswerChange::ConnectionFails),
        1 => Just(AnswerChange::NotSent),
    ]
}

/// The fake, for one entity and one answer change.
pub struct FakeKlarna {
    entity: &'static EntitySpec,
    change: AnswerChange,
    /// The API requests that reached it (token requests not counted).
    pub sent: RefCell<Vec<HttpRequest>>,
    /// Every log line the connector wrote.
    pub logs: RefCell<Vec<String>>,
}

impl FakeKlarna {
    /// A fake for requests to `entity`.
    pub fn new(entity: &'static EntitySpec, change: AnswerChange) -> Self {
        Self { entity, change, sent: RefCell::default(), logs: RefCell::default() }
    }

    /// The entity a request reads: the case's own, or its parent when the
    /// case's entity is read per record of another.
    fn read_entity(&self, request: &HttpRequest) -> &'static EntitySpec {
        let parent = self.entity.parent.as_ref().and_then(|p| Manifest::get().entity(p.entity));
        let path = request.url.split('?').next().unwrap_or_default();
        match parent {
            Some(parent) if parent.operations.iter().any(|op| path.ends_with(op.path)) => parent,
            _ => self.entity,
        }
    }

    /// The success answer for `request`, before any change.
    fn usual_answer(&self, request: &HttpRequest) -> HttpResponse {
        let entity = self.read_entity(request);
        let record = r#"{"id":"r1","order_id":"o1","capture_id":"c1","amount":100,"payment_reference":"p1","payout_date":"2026-01-15T10:00:00Z","updated_at":"2026-01-15T10:00:00Z"}"#;
        let json = |status: u16, body: String| HttpResponse {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.into_bytes(),
        };
        if request.method != Method::Get {
            let mut answer = json(201, r#"{"id":"created-1"}"#.to_string());
            answer.headers.push(("Location".into(), format!("{}/created-1", request.url)));
            return answer;
        }
        if entity.file_response {
            let headers = vec![("Content-Type".into(), "text/csv".into())];
            return HttpResponse { status: 200, headers, body: b"a,b\n1,2\n".to_vec() };
        }
        let records = format!("[{record},{record}]");
        match (entity.records, entity.pagination) {
            (None, _) => json(200, record.to_string()),
            (Some("*"), _) => json(200, records),
            (Some(key), Pagination::Offset { .. }) => {
                let next = self.next_link(request);
                json(200, format!(r#"{{"{key}":{records},"pagination":{{"count":2,"next":{next:?}}}}}"#))
            }
            (Some(key), Pagination::Cursor { .. }) => {
                json(200, format!(r#"{{"{key}":{records},"pagination":{{"last_item":"r2"}}}}"#))
            }
            (Some(key), Pagination::None) => json(200, format!(r#"{{"{key}":{records}}}"#)),
        }
    }

    /// `pagination.next` for `request`, in the form the case chose.
    fn next_link(&self, request: &HttpRequest) -> String {
        let form = match &self.change {
            AnswerChange::NextLink(which) => which.get(&NEXT_FORMS).0,
            _ => NEXT_FORMS[0].0,
        };
        let rest = request.url.strip_prefix("https://").unwrap_or_default();
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        let path = format!("/{}", path.split('?').next().unwrap_or_default());
        form.replace("{host}", host).replace("{HOST}", &host.to_ascii_uppercase()).replace("{path}", &path)
    }
}

impl Transport for FakeKlarna {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let host = request.url.strip_prefix("https://").and_then(|rest| rest.split('/').next()).unwrap_or("");
        let allowed = Manifest::get().hosts.allowed;
        assert!(allowed.contains(&host), "request left the Klarna hosts: {}", request.url);
        if request.url.ends_with("/oauth2/token") {
            let body = br#"{"access_token":"fuzz-access-token","token_type":"bearer","expires_in":3600}"#;
            return Ok(HttpResponse { status: 200, headers: vec![], body: body.to_vec() });
        }
        self.sent.borrow_mut().push(request.clone());
        let mut answer = self.usual_answer(request);
        match &self.change {
            AnswerChange::None | AnswerChange::NextLink(_) => {}
            AnswerChange::Status(status) => {
                answer.status = *status;
                answer.body = br#"{"error_code":"FUZZ","error_messages":["fuzz"],"correlation_id":"c-1"}"#.to_vec();
                if *status == 429 {
                    answer.headers.push(("Retry-After".into(), "999".into()));
                }
            }
            AnswerChange::Truncate(at) => {
                let cut = 1 + at.index(answer.body.len().saturating_sub(1).max(1));
                answer.body.truncate(cut);
            }
            AnswerChange::Html => answer.body = b"<html><body>502 Bad Gateway</body></html>".to_vec(),
            AnswerChange::ConnectionFails => return Err(TransportError::Connection("reset by peer".into())),
            AnswerChange::NotSent => return Err(TransportError::NotSent("connection refused".into())),
        }
        Ok(answer)
    }

    fn log(&self, _level: Level, message: &str) {
        self.logs.borrow_mut().push(message.to_string());
    }

    fn sleep(&self, _duration: Duration) {}

    fn random_seed(&self) -> u64 {
        7
    }
}
