//! Merchant callbacks through the component's `receive` and `respond`: the
//! Checkout push (read back and acknowledged through Order Management), the
//! Checkout validation and update callbacks (answered by the flow), the
//! Payments authorization and the Hosted Payment Page status update, each
//! sent by the simulator to the URLs registered with it.

use sha2::Digest as _;

use crate::common::{Harness, MOUNT};
use host_test::runtime::{ConnectorError, Method};
use host_test::sim::Outgoing;
use serde_json::{json, Value};
use wasmtime::component::ResourceAny;

const SECRET: &str = "cb-Secret-7f3a9d2e41b8";

/// A purchase connection with the callback secret (and acknowledgement as given).
fn purchase(h: &mut Harness, acknowledge: Option<&str>) -> ResourceAny {
    let mut config = crate::common::config("purchase");
    config.settings = vec![("callback_secret".into(), SECRET.into())];
    if let Some(flag) = acknowledge {
        config.settings.push(("acknowledge_push".into(), flag.into()));
    }
    h.try_open(&config).expect("open")
}

/// A Checkout order whose push URL is this connection's route; returns its id once completed.
fn completed_checkout(h: &mut Harness, p: ResourceAny) -> String {
    let order = json!({
        "purchase_country": "DE", "purchase_currency": "EUR", "locale": "de-DE",
        "order_amount": 2000, "order_tax_amount": 319,
        "order_lines": [{"name": "Shoes", "quantity": 1, "unit_price": 2000, "total_amount": 2000, "tax_rate": 1900, "total_tax_amount": 319}],
        "merchant_urls": {
            "terms": "https://shop.example/terms", "checkout": "https://shop.example/checkout",
            "confirmation": "https://shop.example/confirmation",
            "push": format!("{MOUNT}/checkout/push?order_id={{checkout.order.id}}&token={SECRET}")
        }
    });
    let id = h.publish(p, "checkout-orders", Method::Post, &[], Some(order), None).expect("checkout").id.expect("id");
    assert!(h.sim.complete_checkout(&id));
    id
}

fn post(path: &str, body: Value) -> Outgoing {
    Outgoing::json(format!("{MOUNT}{path}"), &body)
}

#[test]
fn a_checkout_push_is_read_back_acknowledged_and_stops() {
    let mut h = Harness::new();
    let p = purchase(&mut h, None);
    let order_id = completed_checkout(&mut h, p);
    let push = h.sim.deliveries().pop().expect("Klarna pushed");
    assert!(push.body.is_empty(), "the push has no body");
    let delivery = h.receive(p, &push).expect("a real order");
    let event = &delivery.events[0];
    assert_eq!((event.kind.as_str(), event.entity.as_deref()), ("checkout.push", Some("order")));
    assert_eq!(event.id, format!("checkout.push:{order_id}"));
    let order: Value = serde_json::from_str(&event.record).expect("the order as Klarna returns it");
    assert_eq!(order["order_id"], order_id.as_str());
    assert_eq!(delivery.reply.expect("reply").status, 200);
    assert!(h.sim.order(&order_id).expect("order").acknowledged, "acknowledged through Order Management");
    assert_eq!(h.sim.repush_unacknowledged(), 0, "Klarna stops pushing an acknowledged order");
    let again = h.receive(p, &push).expect("a redelivered push is fine");
    assert_eq!(again.events[0].id, event.id, "a redelivered push has the same id");
}

#[test]
fn without_acknowledgement_klarna_keeps_pushing_and_a_forged_push_is_refused() {
    let mut h = Harness::new();
    let p = purchase(&mut h, Some("false"));
    let order_id = completed_checkout(&mut h, p);
    let push = h.sim.deliveries().pop().expect("pushed");
    h.receive(p, &push).expect("received");
    assert!(!h.sim.order(&order_id).expect("order").acknowledged);
    assert_eq!(h.sim.repush_unacknowledged(), 1, "not acknowledged: pushed again");

    let before = h.sim.received().len();
    let forged = [
        ("no token", format!("{MOUNT}/checkout/push?order_id={order_id}")),
        ("a wrong token", format!("{MOUNT}/checkout/push?order_id={order_id}&token=guess")),
        ("the token with a character more", format!("{MOUNT}/checkout/push?order_id={order_id}&token={SECRET}x")),
    ];
    for (what, url) in forged {
        let delivery = Outgoing { method: "POST".into(), url, headers: vec![], body: vec![] };
        match h.receive(p, &delivery) {
            Err(ConnectorError::Unauthorized(e)) => assert_eq!(e.status, 401, "{what}"),
            other => panic!("{what}: expected unauthorized, got {other:?}"),
        }
    }
    assert_eq!(h.sim.received().len(), before, "nothing read back for a refused push");
    let unknown = Outgoing {
        method: "POST".into(),
        url: format!("{MOUNT}/checkout/push?order_id=no-such-order&token={SECRET}"),
        headers: vec![],
        body: vec![],
    };
    assert!(matches!(h.receive(p, &unknown), Err(ConnectorError::NotFound(_))), "Klarna does not know the order");
}

#[test]
fn validation_is_answered_by_the_flow_with_approve_redirect_or_error() {
    let mut h = Harness::new();
    let p = purchase(&mut h, None);
    let order = json!({"order_id": "o-1", "purchase_country": "DE", "purchase_currency": "EUR", "locale": "de-DE",
        "order_amount": 2000, "order_tax_amount": 319, "order_lines": [{"name": "Shoes", "quantity": 1, "unit_price": 2000, "total_amount": 2000, "tax_rate": 1900, "total_tax_amount": 319}]});
    let delivery = h.receive(p, &post(&format!("/checkout/validation?token={SECRET}"), order.clone())).expect("read");
    assert_eq!(delivery.reply, None, "the flow answers");
    assert_eq!(delivery.events[0].kind, "checkout.validation");
    assert_eq!(serde_json::from_str::<Value>(&delivery.events[0].record).expect("json"), order);
    let same = h.receive(p, &post(&format!("/checkout/validation?token={SECRET}"), order)).expect("read");
    assert_eq!(same.events[0].id, delivery.events[0].id, "the same order gives the same id");

    let approve = h.respond(p, "checkout.validation", &json!({"approve": true})).expect("approve");
    assert_eq!((approve.status, approve.body.len()), (200, 0));
    let redirect =
        h.respond(p, "checkout.validation", &json!({"redirect": "https://shop.example/sorry"})).expect("redirect");
    assert_eq!(redirect.status, 303);
    assert_eq!(redirect.headers, vec![("Location".to_string(), "https://shop.example/sorry".to_string())]);
    let error = json!({"error": {"error_type": "address_error", "error_text": "We do not ship to P.O. boxes"}});
    let refused = h.respond(p, "checkout.validation", &error).expect("error");
    assert_eq!(refused.status, 400);
    let body: Value = serde_json::from_slice(&refused.body).expect("json");
    assert_eq!(body, json!({"error_type": "address_error", "error_text": "We do not ship to P.O. boxes"}));

    for (answer, field) in [
        (json!({"redirect": "http://shop.example/sorry"}), "answer.redirect"),
        (json!({"error": {"error_type": "out_of_stock", "error_text": "x"}}), "answer.error.error_type"),
        (json!({"error": {"error_type": "approval_failed"}}), "answer.error.error_text"),
        (json!({"approve": true, "redirect": "https://shop.example"}), "answer"),
        (json!({"order": {}}), "answer"),
        (json!({"approve": false}), "answer.approve"),
    ] {
        match h.respond(p, "checkout.validation", &answer) {
            Err(ConnectorError::InvalidInput(m)) => assert!(m.starts_with(&format!("{field}:")), "{answer}: {m}"),
            other => panic!("{answer}: expected invalid-input on {field}, got {other:?}"),
        }
    }
    assert!(
        matches!(h.respond(p, "checkout.push", &json!({"approve": true})), Err(ConnectorError::InvalidInput(ref m)) if m.starts_with("kind:"))
    );
}

#[test]
fn an_updated_order_must_add_up_before_klarna_gets_it() {
    let mut h = Harness::new();
    let p = purchase(&mut h, None);
    let request = json!({"purchase_currency": "EUR", "order_amount": 2000, "order_tax_amount": 319,
        "order_lines": [{"name": "Shoes", "quantity": 1, "unit_price": 2000, "total_amount": 2000, "tax_rate": 1900, "total_tax_amount": 319}],
        "shipping_address": {"country": "de", "postal_code": "10115"}});
    for route in ["address-update", "shipping-option-update", "country-change"] {
        let delivery = h.receive(p, &post(&format!("/checkout/{route}?token={SECRET}"), request.clone())).expect(route);
        assert_eq!(delivery.reply, None, "{route}: the flow answers");
    }
    let mut updated = request.clone();
    updated["order_lines"].as_array_mut().expect("lines").push(json!({"type": "shipping_fee", "name": "Express", "quantity": 1, "unit_price": 500, "total_amount": 500, "tax_rate": 1900, "total_tax_amount": 80}));
    updated["order_amount"] = json!(2500);
    updated["order_tax_amount"] = json!(399);
    updated["shipping_options"] = json!([{"id": "express", "name": "Express", "price": 500, "tax_amount": 80, "tax_rate": 1900, "shipping_method": "Home"}]);
    let reply = h.respond(p, "checkout.address_update", &json!({"order": updated})).expect("a consistent order");
    assert_eq!(reply.status, 200);
    assert_eq!(serde_json::from_slice::<Value>(&reply.body).expect("json"), updated, "passed through untouched");

    let mut wrong_total = updated.clone();
    wrong_total["order_amount"] = json!(2000);
    let mut bad_option = updated.clone();
    bad_option["shipping_options"][0]["name"] = json!("");
    let mut bad_method = updated.clone();
    bad_method["shipping_options"][0]["shipping_method"] = json!("Drone");
    let mut no_currency = updated.clone();
    no_currency.as_object_mut().expect("object").remove("purchase_currency");
    for (order, field) in [
        (wrong_total, "answer.order.order_amount: expected 2500"),
        (bad_option, "answer.order.shipping_options[0].name"),
        (bad_method, "answer.order.shipping_options[0].shipping_method"),
        (no_currency, "answer.order.purchase_currency: required"),
    ] {
        match h.respond(p, "checkout.shipping_option_update", &json!({"order": order})) {
            Err(ConnectorError::InvalidInput(m)) => assert!(m.starts_with(field), "{m}"),
            other => panic!("expected invalid-input {field}, got {other:?}"),
        }
    }
}

#[test]
fn payments_authorization_and_hpp_status_updates_arrive_as_events() {
    let mut h = Harness::new();
    let p = purchase(&mut h, None);
    let mut session = json!({"purchase_country": "DE", "purchase_currency": "EUR", "locale": "de-DE", "intent": "buy",
        "order_amount": 2000, "order_tax_amount": 319,
        "order_lines": [{"name": "Shoes", "quantity": 1, "unit_price": 2000, "total_amount": 2000, "tax_rate": 1900, "total_tax_amount": 319}]});
    session["merchant_urls"] = json!({"authorization": format!("{MOUNT}/payments/authorization?token={SECRET}")});
    let session_id =
        h.publish(p, "payment-sessions", Method::Post, &[], Some(session), None).expect("session").id.expect("id");
    let hpp = json!({
        "payment_session_url": format!("https://api.playground.klarna.com/payments/v1/sessions/{session_id}"),
        "merchant_urls": {"status_update": format!("{MOUNT}/hpp/status-update?token={SECRET}&hpp={{{{session_id}}}}")}
    });
    let hpp_id = h.publish(p, "hpp-sessions", Method::Post, &[], Some(hpp), None).expect("hpp").id.expect("id");
    let token = h.sim.authorize_session(&session_id).expect("authorized");
    let deliveries = h.sim.deliveries();
    assert_eq!(deliveries.len(), 2, "the authorization callback and the HPP status update");
    let events: Vec<_> = deliveries.iter().map(|d| h.receive(p, d).expect("verified").events.remove(0)).collect();
    assert_eq!(events[0].kind, "payments.authorization");
    let digest = hex::encode(sha2::Sha256::digest(&deliveries[0].body));
    assert_eq!(events[0].id, format!("payments.authorization:{session_id}:{digest}"));
    assert!(!events[0].id.contains(&token), "the id holds no authorization token");
    assert_eq!(events[0].entity.as_deref(), Some("payment-authorization-orders"));
    let record: Value = serde_json::from_str(&events[0].record).expect("json");
    assert_eq!(record, json!({"authorization_token": token, "session_id": session_id}));
    assert_eq!(events[1].kind, "hpp.status_update");
    let session: Value = serde_json::from_str(&events[1].record).expect("the session");
    assert_eq!(
        (session["session_id"].as_str(), session["status"].as_str()),
        (Some(hpp_id.as_str()), Some("COMPLETED"))
    );
    let sent: Value = serde_json::from_slice(&deliveries[1].body).expect("json");
    assert_eq!(events[1].id, sent["event_id"].as_str().expect("event_id"), "HPP's event_id is the id");

    let half = post(&format!("/payments/authorization?token={SECRET}"), json!({"session_id": "s"}));
    assert!(
        matches!(h.receive(p, &half), Err(ConnectorError::InvalidInput(ref m)) if m == "body.authorization_token: required")
    );
}

#[test]
fn deliveries_this_connection_does_not_understand_are_invalid_input() {
    let mut h = Harness::new();
    let p = purchase(&mut h, None);
    let token = format!("?token={SECRET}");
    let mut put = post(&format!("/checkout/validation{token}"), json!({}));
    put.method = "PUT".into();
    let mut not_json = post(&format!("/payments/authorization{token}"), json!({}));
    not_json.body = b"authorization_token=abc".to_vec();
    let mut too_big = post(&format!("/payments/authorization{token}"), json!({}));
    too_big.body = format!("{{\"pad\": \"{}\"}}", "x".repeat(1_000_000)).into_bytes();
    let cases = [
        ("an unknown route", post(&format!("/checkout/other{token}"), json!({})), "path:"),
        ("a network route on a purchase connection", post("/network/notifications", json!({})), "path:"),
        ("the wrong method", put, "method:"),
        ("a body that is not JSON", not_json, "body:"),
        ("a body over the limit", too_big, "body:"),
        ("a token given twice", post(&format!("/payments/authorization{token}&token=x"), json!({})), "query.token:"),
    ];
    for (what, delivery, field) in cases {
        match h.receive(p, &delivery) {
            Err(ConnectorError::InvalidInput(m)) => assert!(m.starts_with(field), "{what}: {m}"),
            other => panic!("{what}: expected invalid-input, got {other:?}"),
        }
    }
    let no_secret = h.open("purchase");
    let delivery =
        post(&format!("/payments/authorization{token}"), json!({"authorization_token": "a", "session_id": "s"}));
    assert!(
        matches!(h.receive(no_secret, &delivery), Err(ConnectorError::InvalidConfig(ref m)) if m.starts_with("settings.callback_secret"))
    );
}

#[test]
fn callback_secrets_never_reach_errors_or_logs() {
    let mut h = Harness::new();
    let p = purchase(&mut h, None);
    let order_id = completed_checkout(&mut h, p);
    let push = h.sim.deliveries().pop().expect("pushed");
    let mut texts = vec![format!("{:?}", h.receive(p, &push))];
    let wrong =
        Outgoing { url: format!("{MOUNT}/checkout/push?order_id={order_id}&token={SECRET}-nope"), ..push.clone() };
    texts.push(format!("{:?}", h.receive(p, &wrong)));
    texts.push(format!("{:?}", h.respond(p, "checkout.validation", &json!({"redirect": SECRET}))));
    texts.extend(h.instance.logs().iter().map(|l| l.message.clone()));
    let mut config = crate::common::config("purchase");
    config.settings = vec![("callback_secret".into(), SECRET.into()), ("acknowledge_push".into(), "maybe".into())];
    texts.push(format!("{:?}", h.try_open(&config)));
    for text in texts {
        crate::common::assert_no_leak(&text, "", &[SECRET]);
    }
}

/// Klarna may authorize one session twice (the customer goes back and pays
/// again): each authorization token places an order, so each is its own
/// event, while a redelivery of the same one keeps its id, so a host that
/// deduplicates on the id keeps every token and drops only repeats.
#[test]
fn two_authorizations_of_one_session_are_two_events_and_a_redelivery_one() {
    let mut h = Harness::new();
    let p = purchase(&mut h, None);
    let url = format!("{MOUNT}/payments/authorization?token={SECRET}");
    let authorization =
        |token: &str| Outgoing::json(url.clone(), &json!({"authorization_token": token, "session_id": "s-twice"}));
    let mut ids = vec![];
    for delivery in [authorization("tok-first"), authorization("tok-first"), authorization("tok-second")] {
        let events = h.receive(p, &delivery).expect("verified").events;
        assert_eq!(events.len(), 1);
        assert!(!events[0].id.contains("tok-"), "the id holds no token: {}", events[0].id);
        ids.push(events[0].id.clone());
    }
    assert_eq!(ids[0], ids[1], "a redelivery keeps its id");
    assert_ne!(ids[0], ids[2], "a second authorization is a second event");
    assert!(ids.iter().all(|id| id.starts_with("payments.authorization:s-twice:")), "{ids:?}");
}
