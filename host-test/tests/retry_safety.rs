//! Writes that are safe to retry (#29), through the component: a write whose
//! resend may act twice (`none`) is sent again only when the first attempt
//! surely did not reach Klarna (a 429, or a connection refused before
//! sending); after a timeout, a connection lost after sending or a 5xx the
//! host is told `outcome-unknown`, with the manifest's way to find out, and
//! Klarna holds exactly what the one attempt made. `key` and `natural`
//! writes are resent after a lost answer and still act once.

use crate::common::Harness;
use crate::scenarios::{card_promise, checkout, checkout_order, hpp_session, session, session_order};
use host_test::runtime::{ConnectorError, Method};
use host_test::sim::{Fault, Resources};
use klarna_connector::manifest::{Manifest, RetrySafety};
use serde_json::{json, Value};
use wasmtime::component::ResourceAny;

/// A valid call of a `none` write: the connection, path parameters and payload.
struct Call {
    connection: ResourceAny,
    path: Vec<(String, String)>,
    payload: Option<Value>,
}

/// Sets up what `entity`'s write needs and returns the call.
fn prepare(h: &mut Harness, entity: &str) -> Call {
    let call = |connection, path: &[(&str, &str)], payload| Call {
        connection,
        path: path.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        payload,
    };
    match entity {
        "payment-sessions" => call(h.open("purchase"), &[], Some(session_order())),
        "payment-authorization-orders" => {
            let (p, session_id) = session(h);
            let token = h.sim.authorize_session(&session_id).expect("authorized");
            call(p, &[("authorizationToken", &token)], Some(session_order()))
        }
        "payment-authorization-customer-tokens" => {
            let (p, session_id) = session(h);
            let token = h.sim.authorize_session(&session_id).expect("authorized");
            let request = json!({"purchase_country": "DE", "purchase_currency": "EUR", "locale": "de-DE", "description": "Coffee subscription", "intended_use": "SUBSCRIPTION"});
            call(p, &[("authorizationToken", &token)], Some(request))
        }
        "checkout-orders" => call(h.open("purchase"), &[], Some(checkout_order())),
        "checkout-order-abort" => {
            let (p, id) = checkout(h);
            call(p, &[("order_id", &id)], None)
        }
        "hpp-sessions" => {
            let (p, session_id) = session(h);
            let url = format!("https://api.playground.klarna.com/payments/v1/sessions/{session_id}");
            call(p, &[], Some(json!({ "payment_session_url": url })))
        }
        "hpp-session-distribution" => {
            let (p, _, hpp) = hpp_session(h);
            let send =
                json!({"method": "sms", "contact_information": {"phone": "+46701234567", "phone_country": "SE"}});
            call(p, &[("session_id", &hpp)], Some(send))
        }
        "card-promises" => {
            let om = h.open("post-purchase");
            let order_id = h.order(10_000);
            let promise =
                json!({"order_id": order_id, "cards": [{"amount": 6000, "currency": "EUR", "reference": "hotel-1"}]});
            call(om, &[], Some(promise))
        }
        "card-settlements" => {
            let om = h.open("post-purchase");
            let order_id = h.order(10_000);
            let promise_id = card_promise(h, om, &order_id);
            let settle = json!({"order_id": order_id, "promise_id": promise_id, "key_id": "sim-key-1"});
            call(om, &[], Some(settle))
        }
        "card-cancel-request" => {
            let om = h.open("post-purchase");
            let order_id = h.order(8_000);
            card_promise(h, om, &order_id);
            h.publish(
                om,
                "card-settlements",
                Method::Post,
                &[],
                Some(json!({"order_id": order_id, "key_id": "k"})),
                None,
            )
            .expect("a card");
            call(om, &[("order_id", &order_id)], None)
        }
        "dispute-accept-loss" => {
            let (d, id) = crate::common::first_dispute(h, "INITIATED");
            call(d, &[("payment_dispute_id", &id)], None)
        }
        "dispute-representment" | "dispute-appeal" => {
            let state = if entity == "dispute-appeal" { "PRE_ARBITRATION" } else { "INITIATED" };
            let (d, id) = crate::common::first_dispute(h, state);
            let attachment = crate::scenarios::upload_evidence(h, d, &id);
            let evidence = json!({
                "attachments": [{"payment_dispute_attachment_id": attachment}],
                "additional_information": "Delivered to the customer's address, signed for.",
            });
            call(d, &[("payment_dispute_id", &id)], Some(evidence))
        }
        "dispute-attachments" => {
            let (d, id) = crate::common::first_dispute(h, "INITIATED");
            let file = json!({"content_type": "application/pdf", "filename": "evidence.pdf", "content_base64": "JVBERi0xLjQKJSVFT0YK"});
            call(d, &[("payment_dispute_id", &id)], Some(file))
        }
        "dispute-merchant-enrollment" => call(h.open("disputes"), &[("merchant_id", "N100001")], None),
        "dispute-partner-enrollment" => call(
            h.open("disputes"),
            &[("partner_id", "krn:partner:global:account:test:P1")],
            Some(json!({"client_id": "abcdefghijklmnop1234567890"})),
        ),
        other => panic!("{other} is a none write this test cannot prepare: add it"),
    }
}

/// The requests of the write under test (its method and path, after the preparation).
fn attempts(h: &Harness, before: usize, method: &str) -> Vec<host_test::sim::Received> {
    h.sim.received().into_iter().skip(before).filter(|r| r.method == method).collect()
}

/// The one resource kind an entity's create makes, read off the simulator.
fn made(resources: &Resources, entity: &str) -> Option<usize> {
    match entity {
        "payment-sessions" => Some(resources.payment_sessions),
        "hpp-sessions" => Some(resources.hpp_sessions),
        "checkout-orders" => Some(resources.checkout_orders),
        "card-promises" => Some(resources.card_promises),
        "card-settlements" => Some(resources.card_settlements),
        _ => None,
    }
}

/// The faults, whether the attempt they hit may have reached Klarna, and
/// whether Klarna acted on it.
const FAULTS: [(&str, bool, bool); 7] = [
    ("apply_then_timeout", true, true),
    ("apply_then_connection_error", true, true),
    ("apply_then_server_timeout", true, true),
    ("timeout", true, false),
    ("service_unavailable", true, false),
    ("rate_limited", false, false),
    ("connect_refused", false, false),
];

fn fault(name: &str) -> Fault {
    match name {
        "apply_then_timeout" => Fault::ApplyThenTimeout,
        "apply_then_connection_error" => Fault::ApplyThenConnectionError,
        "apply_then_server_timeout" => Fault::ApplyThenServerTimeout,
        "timeout" => Fault::Timeout,
        "service_unavailable" => Fault::ServiceUnavailable,
        "rate_limited" => Fault::RateLimited { retry_after_s: 0 },
        _ => Fault::ConnectRefused,
    }
}

#[test]
fn a_none_write_is_sent_again_only_when_it_surely_did_not_reach_klarna() {
    let nones: Vec<_> = Manifest::get()
        .entities
        .iter()
        .flat_map(|e| e.operations.iter().map(move |op| (e, op)))
        .filter(|(_, op)| op.retry == RetrySafety::None)
        .collect();
    assert!(nones.len() >= 10, "the manifest's none writes: {}", nones.len());
    let mut checked = 0;
    for (entity, op) in &nones {
        let method = op.method.as_str();
        for (name, may_have_arrived, acted) in FAULTS {
            let mut h = Harness::new();
            let call = prepare(&mut h, entity.name);
            let before = h.sim.received().len();
            let resources = h.sim.resources();
            h.sim.inject([fault(name)]);
            let path: Vec<(&str, &str)> = call.path.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let wit = match method {
                "POST" => Method::Post,
                "PATCH" => Method::Patch,
                other => panic!("{other}"),
            };
            let result = h.publish(call.connection, entity.name, wit, &path, call.payload.clone(), None);
            let sent = attempts(&h, before, method);
            let at = format!("{} after {name}", entity.name);
            if may_have_arrived {
                let check = op.check.expect("a none write names its check");
                match &result {
                    Err(ConnectorError::OutcomeUnknown(m)) => {
                        assert!(m.contains(&format!("To find out: {check}")), "{at}: {m}");
                    }
                    other => panic!("{at}: expected outcome-unknown, got {other:?}"),
                }
                assert_eq!(sent.len(), 1, "{at}: sent once");
                assert_eq!(sent[0].applied, acted, "{at}");
            } else {
                assert!(result.is_ok(), "{at}: {result:?}");
                assert_eq!(sent.len(), 2, "{at}: sent again, as the first surely did not arrive");
                assert!(!sent[0].applied && sent[1].applied, "{at}");
            }
            if let (Some(then), Some(now)) = (made(&resources, entity.name), made(&h.sim.resources(), entity.name)) {
                let one = usize::from(acted || !may_have_arrived);
                assert_eq!(now - then, one, "{at}: exactly what the one attempt made");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, nones.len() * FAULTS.len());
}

#[test]
fn key_and_natural_writes_are_sent_again_after_a_lost_answer_and_act_once() {
    // key: Order Management honours the idempotency key.
    let mut h = Harness::new();
    let om = h.open("post-purchase");
    let order_id = h.order(10_000);
    h.sim.inject([Fault::ApplyThenTimeout]);
    let capture = h.publish(
        om,
        "order-captures",
        Method::Post,
        &[("order_id", &order_id)],
        Some(json!({"captured_amount": 4000})),
        None,
    );
    assert!(capture.is_ok(), "{capture:?}");
    let order = h.sim.order(&order_id).expect("order");
    assert_eq!((order.captures.len(), order.captured_amount()), (1, 4000), "the resend with the same key acts once");
    // natural: removing an HPP session twice leaves it removed.
    let (p, _, hpp) = hpp_session(&mut h);
    h.sim.inject([Fault::ApplyThenConnectionError]);
    let disabled = h.publish(p, "hpp-session", Method::Delete, &[("session_id", &hpp)], None, None);
    assert!(disabled.is_ok(), "{disabled:?}");
    let deletes = h.sim.received().iter().filter(|r| r.method == "DELETE").count();
    assert_eq!(deletes, 2, "sent again after the lost answer");
}

/// A `Retry-After` given as an HTTP-date is the wait until then: a short one
/// is waited and the call succeeds; a long one is handed to the host.
#[test]
fn retry_after_as_an_http_date_is_the_wait_until_then() {
    let mut h = Harness::new();
    let st = h.open("settlements");
    let date =
        |seconds: u64| httpdate::fmt_http_date(std::time::SystemTime::now() + std::time::Duration::from_secs(seconds));
    let limited = |date: String| {
        host_test::sim::SimResponse::json(429, &json!({"error_code": "RATE_LIMITED", "error_messages": ["slow down"]}))
            .with_header("Retry-After", date)
    };
    h.sim.inject([Fault::Answer(limited(date(40)))]);
    match h.subscribe(st, "transactions", &[], &[], None, Some(2)) {
        Err(ConnectorError::RateLimited(r)) => {
            let wait = r.retry_after_ms.expect("a wait");
            assert!((38_000..=40_000).contains(&wait), "the date 40 s ahead read as {wait} ms");
        }
        other => panic!("a wait past the retry budget goes to the host: {other:?}"),
    }
    h.sim.inject([Fault::Answer(limited(date(2)))]);
    let page = h.subscribe(st, "transactions", &[], &[], None, Some(2)).expect("waited, then read");
    assert_eq!(page.records.len(), 2);
    let waited: Vec<u64> = h
        .instance
        .logs()
        .iter()
        .filter_map(|l| l.message.strip_suffix(" ms")?.rsplit("retrying in ").next()?.parse().ok())
        .collect();
    assert!(waited.iter().any(|ms| (1_000..=2_000).contains(ms)), "the wait the date gives: {waited:?}");
}
