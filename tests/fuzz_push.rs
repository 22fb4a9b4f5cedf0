//! Property tests of the push side (`receive`, `respond`) on the native core.
//! Each case starts from a valid delivery of one of connector.json's
//! callbacks, built from the manifest (its route, query, required fields,
//! template sources and route parameters, and a valid signature, URL secret,
//! nonce digest or bearer token), and changes one dimension: the method, the
//! route, the size, the proof, the body's bytes, or a field the callback
//! needs. A valid delivery must become one event (or, at the Shipping
//! Service's `/auth`, an issued token); a changed one must be refused at the
//! check its change concerns (or pass when the change happened to keep it
//! valid), never panic, and never show a secret.
//!
//! `FUZZ_CASES` and `FUZZ_SEED` work as in `fuzz.rs`. Each property prints how
//! many cases reached each check and fails when one was never reached.

// Shares the fake Klarna and the tally with `fuzz.rs`; the request cases are its own.

use crate::support::fake_klarna::{AnswerChange, FakeKlarna};
use crate::support::tally::Tally;
use crate::support::SECRET;
use hmac::{Hmac, Mac};
use klarna_connector::connection::Connection;
use klarna_connector::error::ConnectorError;
use klarna_connector::manifest::{AnswerForm, CallbackSpec, Manifest, Verify};
use klarna_connector::model::{Auth, ConnectionConfig, IncomingRequest, Method};
use klarna_connector::push::incoming::MAX_DELIVERY_BYTES;
use klarna_connector::push::token;
use klarna_connector::secret::Secret;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const KEY_ID: &str = "krn:partner:global:notification:signing-key:fuzz";

/// The shipping assistant's identifier (its key is [`SECRET`]).
const IDENTIFIER: &str = "tms-fuzz-merchant";

/// The shipping assistant's public URL.
const PUBLIC_URL: &str = "https://hooks.example/klarna";

/// A connection of the callback's API type whose secrets hold [`SECRET`].
fn connection(callback: &CallbackSpec) -> Connection<FakeKlarna> {
    let (auth, settings) = match callback.verify {
        Verify::HmacSha256 { keys_setting, .. } => (
            Auth::Basic { username: String::new(), password: Secret::new("klarna_test_api_fuzz") },
            vec![(keys_setting.to_string(), format!("{KEY_ID}={SECRET}"))],
        ),
        Verify::UrlSecret { setting, .. } => (
            Auth::Basic { username: "PK1_fuzz".into(), password: Secret::new("pw") },
            vec![(setting.to_string(), SECRET.to_string())],
        ),
        Verify::NonceDigest { .. } | Verify::BearerToken => (
            Auth::Basic { username: IDENTIFIER.into(), password: Secret::new(SECRET) },
            vec![("public_url".to_string(), PUBLIC_URL.to_string())],
        ),
    };
    let config = ConnectionConfig {
        api_type: callback.api_type.as_str().into(),
        environment: "playground".into(),
        region: "eu".into(),
        auth,
        settings,
    };
    let order = Manifest::get().entity("order").expect("the order entity");
    Connection::open(config, FakeKlarna::new(order, AnswerChange::None)).expect("a valid connection")
}

/// Sets `value` at a dotted path of `body`, making the objects on the way.
fn set(body: &mut Value, path: &str, value: Value) {
    let mut at = body;
    for key in path.split('.') {
        if !at.is_object() {
            *at = json!({});
        }
        at = at.as_object_mut().expect("object").entry(key).or_insert(Value::Null);
    }
    if at.is_null() {
        *at = value;
    }
}

/// The sources a callback's templates and calls read (first alternatives).
fn sources(callback: &CallbackSpec) -> Vec<&'static str> {
    let mut out = Vec::new();
    for template in callback.event.iter().flat_map(|e| [e.kind, e.id]) {
        let mut rest: &str = template;
        while let (Some(open), Some(close)) = (rest.find('{'), rest.find('}')) {
            out.extend(rest[open + 1..close].split('|').next());
            rest = &rest[close + 1..];
        }
    }
    for call in callback.read_back.iter().chain(callback.acknowledge.iter().map(|(c, _)| c)) {
        out.extend(call.params.iter().map(|(_, source)| *source));
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// A valid delivery of `callback`, and the body fields it needs.
fn valid(callback: &CallbackSpec) -> (IncomingRequest, Vec<String>) {
    let mut body = json!({});
    let mut query = Vec::new();
    let mut needed: Vec<String> = callback.required.iter().map(|r| r.to_string()).collect();
    for source in sources(callback) {
        if let Some(param) = source.strip_prefix("query.") {
            query.push(format!("{param}=v-{param}"));
        } else if let Some(path) = source.strip_prefix("body.") {
            needed.push(path.to_string());
        }
    }
    for path in &needed {
        set(&mut body, path, json!(format!("v-{path}")));
    }
    if let Some(part) = callback.event.as_ref().and_then(|e| e.record.strip_prefix("body.")) {
        set(&mut body, part, json!({}));
    }
    if let Verify::NonceDigest { identifier_field, nonce_field, digest_field, .. } = callback.verify {
        let (identifier_field, nonce_field, digest_field) = (identifier_field, nonce_field, digest_field);
        needed.extend([identifier_field, nonce_field, digest_field].map(str::to_string));
        set(&mut body, identifier_field, json!(IDENTIFIER));
        set(&mut body, nonce_field, json!("n-fuzz-1"));
        let digest: String = Sha256::digest(format!("n-fuzz-1{SECRET}")).iter().map(|b| format!("{b:02X}")).collect();
        set(&mut body, digest_field, json!(digest));
    }
    let media_type = callback.media_type.unwrap_or("application/json");
    let mut headers = vec![("Content-Type".to_string(), media_type.to_string())];
    if let Verify::BearerToken = callback.verify {
        let bearer = token::issue(&Secret::new(SECRET), IDENTIFIER, now(), 3600).expect("a token");
        headers.push(("Authorization".to_string(), format!("Bearer {bearer}")));
    }
    if let Verify::UrlSecret { query_param, .. } = callback.verify {
        query.push(format!("{query_param}={SECRET}"));
    }
    let body = if callback.json_body { body.to_string().into_bytes() } else { vec![] };
    if let Verify::HmacSha256 { signature_header, key_id_header, .. } = callback.verify {
        headers.push((signature_header.to_string(), sign(&body)));
        headers.push((key_id_header.to_string(), KEY_ID.to_string()));
    }
    // Route parameters (`{shipment_id}`) get a value of their own name.
    let route: Vec<String> = callback
        .route
        .split('/')
        .map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')).map_or(s.to_string(), |p| format!("v-{p}")))
        .collect();
    let route = route.join("/");
    let path = if query.is_empty() { route } else { format!("{route}?{}", query.join("&")) };
    (IncomingRequest { method: callback.method, path, headers, body }, needed)
}

/// Unix seconds, as the connection's transport reads them.
fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key length");
    mac.update(body);
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// One changed dimension of a delivery.
#[derive(Clone, Debug)]
enum Change {
    None,
    Method(Index),
    Route(String),
    Oversize,
    Proof(Index, String),
    BodyByte(Index, u8),
    DropField(Index),
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        2 => Just(Change::None),
        1 => any::<Index>().prop_map(Change::Method),
        1 => "(/[a-z-]{0,12}){0,3}".prop_map(Change::Route),
        1 => Just(Change::Oversize),
        2 => (any::<Index>(), "[ -~]{0,70}").prop_map(|(i, s)| Change::Proof(i, s)),
        2 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Change::BodyByte(i, b)),
        2 => any::<Index>().prop_map(Change::DropField),
    ]
}

const METHODS: [Method; 5] = [Method::Get, Method::Post, Method::Put, Method::Patch, Method::Delete];

/// Applies `change`; returns the check that should refuse it.
fn apply(callback: &CallbackSpec, request: &mut IncomingRequest, needed: &[String], change: &Change) -> &'static str {
    let hmac = matches!(callback.verify, Verify::HmacSha256 { .. });
    match change {
        Change::None => "none",
        Change::Method(i) => {
            request.method = *i.get(&METHODS);
            "method"
        }
        Change::Route(path) => {
            request.path = format!("{path}{}", request.path.find('?').map_or("", |q| &request.path[q..]));
            "route"
        }
        Change::Oversize => {
            request.body = vec![b' '; MAX_DELIVERY_BYTES + 1];
            "size"
        }
        Change::Proof(i, text) => {
            match callback.verify {
                Verify::HmacSha256 { .. } => {
                    let header = i.index(2);
                    request.headers[1 + header].1 = text.clone();
                }
                Verify::UrlSecret { query_param, .. } => {
                    // As a URL carries it: percent-encoded.
                    let text = percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC);
                    request.path =
                        request.path.replace(&format!("{query_param}={SECRET}"), &format!("{query_param}={text}"));
                }
                Verify::NonceDigest { digest_field, .. } => {
                    // Half the cases a well-formed digest of other text, half the text itself.
                    let text = if i.index(2) == 0 {
                        text.clone()
                    } else {
                        Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
                    };
                    let mut body: Value = serde_json::from_slice(&request.body).expect("json");
                    let (parent, leaf) = digest_field.rsplit_once('.').unwrap_or(("", digest_field));
                    let slot = parent.split('.').filter(|k| !k.is_empty()).try_fold(&mut body, |v, k| v.get_mut(k));
                    if let Some(object) = slot.and_then(Value::as_object_mut) {
                        object.insert(leaf.to_string(), json!(text));
                    }
                    request.body = body.to_string().into_bytes();
                    // A digest of the wrong form is a malformed request (400), a wrong one unauthorized (401).
                    let well_formed = text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit());
                    return if well_formed { "verify" } else { "body" };
                }
                Verify::BearerToken => request.headers[1].1 = text.clone(),
            }
            "verify"
        }
        Change::BodyByte(i, byte) => {
            if let Some(slot) = (!request.body.is_empty()).then(|| i.index(request.body.len())) {
                request.body[slot] = *byte;
            }
            if hmac {
                "verify"
            } else {
                "body"
            }
        }
        Change::DropField(i) => {
            if needed.is_empty() || !callback.json_body {
                return "none";
            }
            let mut body: Value = serde_json::from_slice(&request.body).expect("json");
            let path = i.get(needed);
            let (parent, leaf) = path.rsplit_once('.').map_or((None, path.as_str()), |(p, l)| (Some(p), l));
            let target = match parent {
                Some(p) => p.split('.').try_fold(&mut body, |v, k| v.get_mut(k)),
                None => Some(&mut body),
            };
            if let Some(object) = target.and_then(Value::as_object_mut) {
                object.remove(leaf);
            }
            request.body = body.to_string().into_bytes();
            if hmac {
                let signature = sign(&request.body);
                request.headers[1].1 = signature;
            }
            "body"
        }
    }
}

/// The checks of `receive`, in the order it runs them.
const CHECKS: [&str; 5] = ["route", "method", "size", "verify", "body"];

/// The check an error came from.
fn refused_by(error: &ConnectorError) -> &'static str {
    match error {
        ConnectorError::Unauthorized(_) => "verify",
        ConnectorError::InvalidInput(m) if m.starts_with("path:") || m.starts_with("query.") => "route",
        ConnectorError::InvalidInput(m) if m.starts_with("method:") => "method",
        ConnectorError::InvalidInput(m) if m.starts_with("body:") && m.contains("-byte limit") => "size",
        ConnectorError::InvalidInput(m) if m.starts_with("header ") => "verify",
        ConnectorError::InvalidInput(_) => "body",
        _ => "other",
    }
}

#[test]
fn a_changed_delivery_is_refused_at_the_check_its_change_concerns() {
    let (mut runner, cases) = crate::support::runner("tests/proptest-regressions/fuzz_push.txt");
    let tally = Tally::default();
    let callbacks = Manifest::get().callbacks;
    let outcome =
        runner.run(&(any::<Index>(), change()), |(which, change)| {
            let callback = which.get(callbacks);
            let connection = connection(callback);
            let (mut request, needed) = valid(callback);
            let original = request.clone();
            let mut expected = apply(callback, &mut request, &needed, &change);
            if request == original {
                expected = "none";
            }
            let nonce = matches!(callback.verify, Verify::NonceDigest { .. });
            let result = match connection.receive(&request) {
                // At the Shipping Service's /auth the connection answers a malformed
                // request itself (400 with failure_reason): a refusal at the body check.
                Ok(d) if nonce && d.reply.as_ref().is_some_and(|r| r.status == 400) => {
                    let reason = d.reply.map(|r| String::from_utf8_lossy(&r.body).into_owned()).unwrap_or_default();
                    prop_assert!(reason.contains("failure_reason") && d.events.is_empty(), "{reason}");
                    Err(ConnectorError::InvalidInput(format!("body: {reason}")))
                }
                other => other,
            };
            let logs = connection.transport().logs.borrow().join("\n");
            prop_assert!(!logs.contains(SECRET), "a log shows the secret: {logs}");
            match &result {
                Ok(delivery) => {
                    // Only a body change can leave a delivery valid (a byte inside a
                    // value, a field with a fallback); any other change must be refused.
                    prop_assert!(matches!(expected, "none" | "body"), "{}: {:?} was accepted", callback.kind, change);
                    CHECKS.iter().for_each(|check| tally.passed(check));
                    if nonce {
                        // The answer is an issued token, and it opens the other routes.
                        let reply = delivery.reply.as_ref().map(|r| (r.status, r.body.clone()));
                        let field = match callback.verify {
                            Verify::NonceDigest { token_field, .. } => token_field,
                            _ => "",
                        };
                        let token = reply.as_ref().filter(|(status, _)| *status == 201).and_then(|(_, body)| {
                            serde_json::from_slice::<Value>(body).ok()?.get(field)?.as_str().map(str::to_string)
                        });
                        prop_assert!(delivery.events.is_empty() && token.is_some(), "{reply:?}");
                        let issued = token.unwrap_or_default();
                        prop_assert!(token::check(&Secret::new(SECRET), IDENTIFIER, &issued, now()).is_ok());
                        tally.passed("token");
                    } else {
                        prop_assert_eq!(delivery.events.len(), 1);
                        prop_assert!(
                            serde_json::from_str::<Value>(&delivery.events[0].record).is_ok_and(|r| r.is_object())
                        );
                        prop_assert_eq!(delivery.reply.is_none(), !callback.answers.is_empty());
                        tally.passed("event");
                    }
                }
                Err(error) => {
                    let text = format!("{error:?} {error}");
                    prop_assert!(!text.contains(SECRET), "the error shows the secret: {text}");
                    let at = refused_by(error);
                    prop_assert!(expected != "none", "{}: a valid delivery was refused: {error}", callback.kind);
                    // At /auth the proof is in the body: a changed byte can break the JSON or the digest.
                    let digest_changed = nonce && expected == "body" && at == "verify";
                    prop_assert!(
                        at == expected || digest_changed,
                        "{}: {:?} refused as {}",
                        callback.kind,
                        change,
                        error
                    );
                    CHECKS.iter().take_while(|check| **check != at).for_each(|check| tally.passed(check));
                    tally.refused(at);
                }
            }
            Ok::<(), TestCaseError>(())
        });
    println!("receive: {}", tally.report(cases));
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
    let unreached = tally.unreached(&["route", "method", "size", "verify", "body", "event", "token"]);
    assert!(unreached.is_empty(), "never reached: {unreached:?}");
}

/// Random answers in every form, valid and broken.
fn answer() -> impl Strategy<Value = String> {
    let text = "[ -~]{0,20}";
    prop_oneof![
        Just(r#"{"approve": true}"#.to_string()),
        text.prop_map(|t| json!({"redirect": format!("https://shop.example/{t}")}).to_string()),
        text.prop_map(|t| json!({"redirect": t}).to_string()),
        (0..4usize, text).prop_map(|(i, t)| {
            let types = ["address_error", "unsupported_shipping_address", "approval_failed", "other"];
            json!({"error": {"error_type": types[i], "error_text": t}}).to_string()
        }),
        // Totals that add up in two cases of three; off by one or two otherwise.
        (0..3000i64, 0..3000i64, prop_oneof![2 => Just(0i64), 1 => 1..3i64]).prop_map(|(a, b, off)| {
            json!({"order": {"purchase_currency": "EUR", "order_amount": a + b + off, "order_tax_amount": 0,
                "order_lines": [{"name": "a", "quantity": 1, "unit_price": a, "total_amount": a, "tax_rate": 0, "total_tax_amount": 0},
                                {"name": "b", "quantity": 1, "unit_price": b, "total_amount": b, "tax_rate": 0, "total_tax_amount": 0}]}})
            .to_string()
        }),
        text.prop_map(|t| json!({"options": {"shipping_options": [{"id": t}]}}).to_string()),
        text.prop_map(|t| json!({"options": [t]}).to_string()),
        (text, any::<bool>()).prop_map(|(t, with_id)| {
            let id = if with_id { json!(format!("shp-{t}")) } else { Value::Null };
            json!({"reservation": {"shipment_id": id, "carrier": t}}).to_string()
        }),
        text.prop_map(|t| json!({"failure_reason": t}).to_string()),
        "\\PC{0,40}",
    ]
}

#[test]
fn respond_renders_or_names_the_wrong_field_and_never_panics() {
    let (mut runner, cases) = crate::support::runner("tests/proptest-regressions/fuzz_push.txt");
    let tally = Tally::default();
    let answerable: Vec<&CallbackSpec> = Manifest::get().callbacks.iter().filter(|c| !c.answers.is_empty()).collect();
    let outcome = runner.run(&(any::<Index>(), answer()), |(which, answer)| {
        let callback = *which.get(&answerable);
        let result = connection(callback).respond(callback.kind, &answer);
        match result {
            Ok(reply) => {
                prop_assert!(matches!(reply.status, 200 | 201 | 303 | 400), "{}", reply.status);
                let location = reply.headers.iter().find(|(k, _)| k == "Location").map(|(_, v)| v.as_str());
                let body = String::from_utf8_lossy(&reply.body);
                let form = match reply.status {
                    303 => AnswerForm::Redirect,
                    400 if body.starts_with(r#"{"failure_reason":"#) => AnswerForm::Failure,
                    400 => AnswerForm::Error,
                    _ if location.is_some() => AnswerForm::Reservation,
                    _ if reply.body.is_empty() => AnswerForm::Approve,
                    _ if callback.answers.contains(&AnswerForm::Options) => AnswerForm::Options,
                    _ => AnswerForm::Order,
                };
                if let Some(location) = location.filter(|_| form == AnswerForm::Reservation) {
                    prop_assert!(location.starts_with(&format!("{PUBLIC_URL}/shipment/shp-")), "{location}");
                }
                prop_assert!(callback.answers.contains(&form));
                tally.passed(form.key());
            }
            Err(ConnectorError::InvalidInput(m)) => {
                prop_assert!(m.starts_with("answer"), "{m}");
                tally.refused(if m.starts_with("answer.order") { "order" } else { "answer" });
            }
            Err(other) => prop_assert!(false, "{other:?}"),
        }
        Ok::<(), TestCaseError>(())
    });
    println!("respond: {}", tally.report(cases));
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
    let unreached = tally.unreached(&[
        "approve",
        "redirect",
        "error",
        "order",
        "options",
        "reservation",
        "failure_reason",
        "answer",
    ]);
    assert!(unreached.is_empty(), "never reached: {unreached:?}");
    assert!(tally.passed_count("order") > 0, "no consistent order got through");
}
