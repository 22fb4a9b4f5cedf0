//! Property tests of the native core (proptest, with shrinking and saved
//! regressions in `proptest-regressions/`). Each case starts from a valid
//! connection, request and Klarna answer built from connector.json and
//! varies one dimension, so most cases get as deep as that dimension lets
//! them:
//! - a valid panel opens; a changed one is refused naming the changed field;
//! - a valid request with Klarna's usual answer succeeds; a changed request is
//!   refused before anything is sent, naming the changed field, or is sent;
//! - a changed answer gives the error its status or body calls for;
//! - never a panic, never a secret in an error or a log line.
//!
//! `FUZZ_CASES` sets the number of cases per property (default 3,000, the
//! same on every run; `./x fuzz` runs 200,000 with `FUZZ_SEED=random`). Each property prints how many cases reached
//! each check, and fails when one was never reached.

use crate::support::cases::{self, Request};
use crate::support::fake_klarna::{self, AnswerChange, FakeKlarna, NEXT_FORMS};
use crate::support::tally::Tally;
use crate::support::SECRET;
use klarna_connector::connection::Connection;
use klarna_connector::error::ConnectorError;
use klarna_connector::manifest::{Check, EntitySpec, Manifest, Pagination, RetrySafety};
use klarna_connector::model::PublishResult;
use proptest::prop_assert;
use proptest::test_runner::TestCaseError;

/// Fails the case when `text` shows the planted secret.
fn no_secret(what: &str, text: &str) -> Result<(), TestCaseError> {
    prop_assert!(!text.contains(SECRET), "{what} shows the secret: {text}");
    Ok(())
}

#[test]
fn a_changed_panel_is_refused_naming_the_changed_field() {
    let (mut runner, cases) = crate::support::runner("tests/proptest-regressions/fuzz.txt");
    let tally = Tally::default();
    let any_entity = &Manifest::get().entities[0];
    let outcome = runner.run(&cases::connection_case(), |case| {
        let (config, field) = case.config();
        let result = Connection::open(config, FakeKlarna::new(any_entity, AnswerChange::None));
        match (&result, &field) {
            (Ok(_), _) => tally.passed("open"),
            (Err(ConnectorError::InvalidConfig(message)), Some(field)) => {
                prop_assert!(message.starts_with(field.as_str()), "changed {field}, refused as {message}");
                no_secret("open", message)?;
                tally.refused("open");
            }
            (Err(error), _) => prop_assert!(false, "{field:?}: {error:?}"),
        }
        prop_assert!(field.is_some() || result.is_ok(), "a valid panel was refused");
        Ok(())
    });
    tally.print_and_check(cases, outcome);
    assert!(tally.unreached(&["open"]).is_empty());
}

/// Every check of a request, in the order the connector runs them, then the
/// answer's.
const CHECKS: [&str; 22] = [
    "entity",
    "method",
    "path parameters",
    "query and header parameters",
    "cursor",
    "since",
    "page size",
    "payload",
    "check: order",
    "check: payment_request",
    "check: payment_authorization",
    "upload",
    "idempotency key",
    "answer: usual",
    "answer: error status",
    "answer: unreadable body",
    "answer: next link followed",
    "answer: next link refused",
    "answer: connection failure",
    "answer: outcome unknown",
    "answer: not sent",
    "answer: incremental page",
];

/// The tally name of an entity's payload check.
fn check_name(check: &Check) -> &'static str {
    match check {
        Check::Order => "check: order",
        Check::PaymentRequest => "check: payment_request",
        Check::PaymentAuthorization => "check: payment_authorization",
        Check::ShippingOptions => "check: shipping_options",
    }
}

/// The check that refused a request with `message`.
fn refused_by(message: &str, entity: &EntitySpec) -> &'static str {
    let field = message.split(':').next().unwrap_or_default();
    match field.split('.').next().unwrap_or_default() {
        "entity" => "entity",
        "method" => "method",
        "cursor" => "cursor",
        "since" => "since",
        "page-size" => "page size",
        "idempotency-key" => "idempotency key",
        _ if field.starts_with("params.path") => "path parameters",
        _ if field.starts_with("params.query") => "query and header parameters",
        _ if field == "params.payload" => "payload",
        _ if entity.upload.is_some() => "upload",
        _ => entity.checks.first().map_or("payload", check_name),
    }
}

/// The checks a request that reached Klarna passed.
fn passed_checks(request: &Request, entity: &EntitySpec, tally: &Tally) {
    for always in ["entity", "method", "path parameters", "query and header parameters"] {
        tally.passed(always);
    }
    let (payload, key, cursor, page_size) = match request {
        Request::Subscribe(r) => (false, false, r.cursor.is_some(), r.page_size.is_some()),
        Request::Publish(r) => (r.params.payload.is_some(), r.idempotency_key.is_some(), false, false),
    };
    for (ran, check) in [(payload, "payload"), (key, "idempotency key"), (cursor, "cursor"), (page_size, "page size")] {
        if ran {
            tally.passed(check);
        }
    }
    if payload {
        for check in entity.checks {
            tally.passed(check_name(check));
        }
        if entity.upload.is_some() {
            tally.passed("upload");
        }
    }
}

/// What a call returned, reduced to what the answer checks look at.
enum Outcome {
    Page { next_cursor: Option<String> },
    Written(PublishResult),
}

#[test]
fn requests_and_answers_end_as_klarna_and_the_change_call_for() {
    let (mut runner, cases) = crate::support::runner("tests/proptest-regressions/fuzz.txt");
    let tally = Tally::default();
    let strategy = (cases::valid_connection(), cases::request_case(), fake_klarna::answer_change());
    let outcome = runner.run(&strategy, |(connection, request_case, answer)| {
        let (config, _) = connection.config();
        let (entity, operation) = request_case.target(connection.api_type().id);
        let (request, changed_field) = request_case.request(entity, operation);
        let Ok(conn) = Connection::open(config, FakeKlarna::new(entity, answer.clone())) else {
            return Err(TestCaseError::fail("a valid panel was refused"));
        };
        let result = match &request {
            Request::Subscribe(r) => conn.subscribe(r).map(|p| Outcome::Page { next_cursor: p.next_cursor }),
            Request::Publish(r) => conn.publish(r).map(Outcome::Written),
        };
        let sent = conn.transport().sent.borrow().len();
        for line in conn.transport().logs.borrow().iter() {
            no_secret("a log line", line)?;
        }
        if let Err(error) = &result {
            no_secret("an error", &format!("{error} {error:?}"))?;
        }
        if let Err(ConnectorError::InvalidInput(message)) = &result {
            let Some(field) = &changed_field else {
                return Err(TestCaseError::fail(format!("a valid request was refused: {message}")));
            };
            prop_assert!(message.starts_with(field.as_str()), "changed {field}, refused as {message}");
            prop_assert!(sent == 0, "refused after sending");
            tally.refused(refused_by(message, entity));
            return Ok(());
        }
        prop_assert!(sent > 0, "neither refused nor sent: {:?}", result.as_ref().err());
        passed_checks(&request, entity, &tally);
        if let (Some(_), Request::Publish(publish)) = (&entity.upload, &request) {
            let body = conn.transport().sent.borrow()[0].body.clone().unwrap_or_default();
            uploaded_file_is_the_one_part(publish.params.payload.as_deref().unwrap_or_default(), &body)?;
        }
        check_answer(&answer, entity, &request, result, sent, &tally)
    });
    tally.print_and_check(cases, outcome);
    let unreached = tally.unreached(&CHECKS);
    assert!(unreached.is_empty(), "no case reached {unreached:?}");
    assert!(tally.passed_count("answer: usual") * 4 >= u64::from(cases), "too few cases reach Klarna unchanged");
}

/// What the connector made of Klarna's answer, for a request that was sent.
fn check_answer(
    answer: &AnswerChange,
    entity: &EntitySpec,
    request: &Request,
    result: Result<Outcome, ConnectorError>,
    sent: usize,
    tally: &Tally,
) -> Result<(), TestCaseError> {
    let json_read = matches!(request, Request::Subscribe(_)) && !entity.file_response;
    let offset_read = json_read && matches!(entity.pagination, Pagination::Offset { .. });
    let incremental = json_read && (entity.incremental.is_some() || entity.parent.is_some());
    // A write whose resend may act twice is sent once when it may have reached Klarna.
    let once = match request {
        Request::Publish(p) => entity.operation(&p.method).is_some_and(|op| op.retry == RetrySafety::None),
        Request::Subscribe(_) => false,
    };
    // The pages of an incremental read go on in a cursor of the connector's own.
    let next_of_page = |next: Option<&str>| match incremental {
        true => next.is_some_and(|n| n.starts_with("c1.")),
        false => next == Some("offset=2&size=2"),
    };
    match answer {
        AnswerChange::None => {
            let outcome = result.map_err(|e| TestCaseError::fail(format!("usual answer, got {e:?}")))?;
            if let (true, Outcome::Page { next_cursor }) = (offset_read, &outcome) {
                prop_assert!(next_of_page(next_cursor.as_deref()), "{next_cursor:?}");
                if incremental {
                    tally.passed("answer: incremental page");
                }
            }
            if let Outcome::Written(written) = &outcome {
                prop_assert!(written.status == 201, "{}", written.status);
            }
            tally.passed("answer: usual");
        }
        AnswerChange::Status(status) => {
            let class_ok = match (status, &result) {
                (401, Err(ConnectorError::Unauthorized(e))) | (404, Err(ConnectorError::NotFound(e))) => {
                    e.status == *status
                }
                (429, Err(ConnectorError::RateLimited { retry_after_ms, .. })) => {
                    *retry_after_ms == Some(999_000) && sent == 1
                }
                (500..=599, Err(ConnectorError::Unavailable(e))) => !once && e.status == *status && sent == 3,
                (500..=599, Err(ConnectorError::OutcomeUnknown(m))) => {
                    tally.passed("answer: outcome unknown");
                    once && sent == 1 && m.contains(&format!("HTTP {status}")) && m.contains("To find out: ")
                }
                (400..=499, Err(ConnectorError::Rejected(e))) => e.code.as_deref() == Some("FUZZ"),
                (_, Err(ConnectorError::Unexpected(_))) => !(400..=599).contains(status),
                _ => false,
            };
            prop_assert!(class_ok, "HTTP {status} after {sent} attempts gave {:?}", result.err());
            tally.passed("answer: error status");
        }
        AnswerChange::Truncate(_) | AnswerChange::Html => {
            let readable = !json_read && matches!(request, Request::Subscribe(_));
            match &result {
                Ok(_) => prop_assert!(readable, "an unreadable body was accepted"),
                Err(ConnectorError::Unexpected(e)) => prop_assert!(e.status == 200 || e.status == 201),
                Err(other) => prop_assert!(false, "an unreadable body gave {other:?}"),
            }
            tally.passed("answer: unreadable body");
        }
        AnswerChange::NextLink(which) if offset_read => {
            let follow = which.get(&NEXT_FORMS).1;
            match (&result, follow) {
                (Ok(Outcome::Page { next_cursor }), true) => {
                    prop_assert!(next_of_page(next_cursor.as_deref()), "{next_cursor:?}");
                    tally.passed("answer: next link followed");
                }
                (Err(ConnectorError::Unexpected(e)), false) => {
                    prop_assert!(e.messages[0].contains("pagination.next"), "{:?}", e.messages);
                    tally.passed("answer: next link refused");
                }
                (other, _) => prop_assert!(false, "{} gave {:?}", which.get(&NEXT_FORMS).0, other.as_ref().err()),
            }
        }
        AnswerChange::NextLink(_) => prop_assert!(result.is_ok(), "{:?}", result.err()),
        AnswerChange::ConnectionFails if once => {
            let unknown = matches!(&result, Err(ConnectorError::OutcomeUnknown(m)) if m.contains("To find out: "));
            prop_assert!(unknown && sent == 1, "{:?} after {sent}", result.err());
            tally.passed("answer: outcome unknown");
        }
        AnswerChange::ConnectionFails => {
            prop_assert!(matches!(result, Err(ConnectorError::Transport(_))) && sent == 3, "{:?}", result.err());
            tally.passed("answer: connection failure");
        }
        AnswerChange::NotSent => {
            // Never left: every write is sent again, a `none` one too.
            prop_assert!(matches!(result, Err(ConnectorError::Transport(_))) && sent == 3, "{:?}", result.err());
            tally.passed("answer: not sent");
        }
    }
    Ok(())
}

/// An upload's body is one `multipart/form-data` part holding exactly the
/// file of the payload, closed by a boundary the file does not contain.
fn uploaded_file_is_the_one_part(payload: &str, body: &[u8]) -> Result<(), TestCaseError> {
    use base64::Engine as _;
    let record: serde_json::Value = serde_json::from_str(payload).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let file = base64::engine::general_purpose::STANDARD
        .decode(record["content_base64"].as_str().unwrap_or_default())
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let head_end = body.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4);
    let boundary = body.split(|b| *b == b'\r').next().unwrap_or_default();
    prop_assert!(head_end.is_some() && boundary.starts_with(b"--"), "no part head");
    let tail = [b"\r\n".as_slice(), boundary, b"--\r\n"].concat();
    let start = head_end.unwrap_or_default();
    prop_assert!(body.len() == start + file.len() + tail.len(), "the part holds more or less than the file");
    prop_assert!(body[start..start + file.len()] == file[..] && body.ends_with(&tail), "the part is not the file");
    prop_assert!(!file.windows(boundary.len() - 2).any(|w| w == &boundary[2..]), "the file holds the boundary");
    Ok(())
}
