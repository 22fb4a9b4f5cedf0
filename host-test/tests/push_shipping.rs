//! The shipping assistant through the component's `receive` and `respond`:
//! the simulator plays Klarna's Shipping Service (auth, options, reservation,
//! update, confirm, and a new `/auth` after a 401), with Klarna's own test
//! vector, and every way a token or digest can be wrong.

use std::time::Duration;

use crate::common::{Harness, MOUNT};
use host_test::runtime::{Auth, BasicAuth, ConnectionConfig, ConnectorError, IncomingRequest, Reply};
use host_test::sim::{Outgoing, ShippingService, SimResponse};
use serde_json::{json, Value};
use wasmtime::component::ResourceAny;

/// Klarna's example identifier and key.
const IDENTIFIER: &str = host_test::sim::shipping_service::EXAMPLE_IDENTIFIER;
const KEY: &str = host_test::sim::shipping_service::EXAMPLE_KEY;
/// Klarna's example digest of nonce `lRFUpqW7Xd` with that key.
const DOCS_DIGEST: &str = "8C3891B3162DB3AB61A9B2DA74E6A479553ABA897894E5236ED290C11A0B832B";

fn config(auth: Auth, settings: &[(&str, &str)]) -> ConnectionConfig {
    let mut config = crate::common::config("shipping-assistant");
    config.auth = auth;
    config.settings = crate::common::pairs(&[&[("public_url", MOUNT)], settings].concat());
    config
}

fn shipping_key(identifier: &str, key: &str) -> Auth {
    Auth::Basic(BasicAuth { username: identifier.into(), password: key.into() })
}

/// A connection with Klarna's example identifier and key.
fn docs_connection(h: &mut Harness) -> ResourceAny {
    h.try_open(&config(shipping_key(IDENTIFIER, KEY), &[])).expect("open")
}

/// What a host's endpoint answers: `receive`, then `respond` with the flow's
/// answer for the event, errors as the WIT docs' status table says.
fn endpoint<'h>(
    h: &'h mut Harness,
    connection: ResourceAny,
    mut flow: impl FnMut(&host_test::runtime::Event) -> Value + 'h,
) -> impl FnMut(&Outgoing) -> SimResponse + 'h {
    move |request| {
        let path = request.path_after(MOUNT).expect("under the mount");
        let method = host_test::listen::method(&request.method).expect("a method");
        let incoming = IncomingRequest { method, path, headers: request.headers.clone(), body: request.body.clone() };
        let reply = match h.instance.receive(connection, &incoming).expect("no trap") {
            Ok(delivery) => match (delivery.reply, delivery.events.first()) {
                (Some(reply), _) => reply,
                (None, Some(event)) => {
                    let answer = flow(event).to_string();
                    h.instance.respond(connection, &event.kind, &answer).expect("no trap").expect("answer rendered")
                }
                (None, None) => panic!("a delivery with neither events nor reply"),
            },
            Err(error) => Reply { status: host_test::listen::refusal_status(&error), headers: vec![], body: vec![] },
        };
        SimResponse { status: reply.status, headers: reply.headers, body: reply.body }
    }
}

/// The flow of a TMS: two options, reservations named after the session.
fn tms(event: &host_test::runtime::Event) -> Value {
    let record: Value = serde_json::from_str(&event.record).expect("a JSON record");
    match event.kind.as_str() {
        "shipping.options" => json!({ "options": { "shipping_options": [
            { "id": "home", "name": "Home delivery", "price": 490, "tax_amount": 98, "tax_rate": 2500,
              "delivery_time": { "interval": { "earliest": 1, "latest": 3 } } },
            { "id": "pickup", "name": "Pick-up point", "price": 0, "tax_amount": 0, "tax_rate": 2500 }
        ], "tms_note": "kept as given" } }),
        "shipping.shipment_create" => json!({ "reservation": {
            "shipment_id": format!("shp-{}", record["session_id"].as_str().unwrap_or("none")),
            "selected_option": record["selected_option"] } }),
        "shipping.shipment_update" => json!({ "reservation": {
            "shipment_id": record["shipment_id"], "selected_option": record["selected_option"] } }),
        other => panic!("no answer for {other}"),
    }
}

fn selection(option: &str) -> Value {
    json!({ "currency": "SEK", "locale": "sv-SE", "session_id": "s-42", "selected_option": { "id": option },
            "order": { "tags": ["member"], "id": "o-1" } })
}

fn header<'r>(reply: &'r SimResponse, name: &str) -> Option<&'r str> {
    reply.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

#[test]
fn klarnas_test_vector_authenticates_and_a_checkout_goes_through() {
    let mut h = Harness::new();
    let c = docs_connection(&mut h);
    let mut kss = ShippingService::new(MOUNT, IDENTIFIER, KEY);
    let auth = kss.auth_request("lRFUpqW7Xd");
    let body: Value = serde_json::from_slice(&auth.body).expect("json");
    assert_eq!(body["secret"]["digest"], DOCS_DIGEST, "the simulator digests as Klarna's example does");
    let mut send = endpoint(&mut h, c, tms);
    let issued = send(&auth);
    assert_eq!(issued.status, 201);
    assert_eq!(header(&issued, "Content-Type"), Some("application/vdn.klarna.shipping.auth-v1+json"));
    let lowercase = kss.auth_request("lRFUpqW7Xd");
    let lowered =
        String::from_utf8(lowercase.body.clone()).expect("utf-8").replace(DOCS_DIGEST, &DOCS_DIGEST.to_lowercase());
    assert_eq!(send(&Outgoing { body: lowered.into_bytes(), ..lowercase }).status, 201, "any case");

    let options = kss.list_options(&mut send, &json!({ "currency": "SEK", "locale": "sv-SE" })).expect("options");
    assert_eq!(options["shipping_options"][0]["id"], "home");
    assert_eq!(options["tms_note"], "kept as given", "unknown fields pass through");
    let id = kss.create_shipment(&mut send, &selection("home")).expect("reserved");
    assert_eq!(id, "shp-s-42");
    let updated = kss.update_shipment(&mut send, &id, &selection("pickup")).expect("updated");
    assert_eq!(updated, id, "the update's Location names the same reservation");
    assert_eq!(kss.confirm(&mut send, &id).expect("confirmed"), 200);
    let calls: Vec<(&str, u16)> = kss.exchanges.iter().map(|e| (e.call.as_str(), e.status)).collect();
    assert_eq!(
        calls,
        [
            ("POST /auth", 201),
            ("POST /shipping-options", 200),
            ("POST /shipment", 201),
            ("PUT /shipment/shp-s-42", 200),
            ("POST /shipment/shp-s-42/confirm", 200),
        ],
        "one /auth, then each call once"
    );
}

#[test]
fn events_carry_what_the_flow_needs_and_replies_what_klarna_reads() {
    let mut h = Harness::new();
    let c = docs_connection(&mut h);
    let mut kss = ShippingService::new(MOUNT, IDENTIFIER, KEY);
    let mut events = Vec::new();
    let mut location = None;
    {
        let mut send = endpoint(&mut h, c, |event| {
            events.push((event.kind.clone(), event.id.clone(), event.record.clone()));
            tms(event)
        });
        let id = kss.create_shipment(&mut send, &selection("home")).expect("reserved");
        let mut capture = |r: &Outgoing| {
            let answer = send(r);
            location = header(&answer, "Location").map(str::to_string);
            answer
        };
        kss.update_shipment(&mut capture, &id, &selection("pickup")).expect("updated");
        kss.confirm(&mut send, &id).expect("confirmed");
    }
    assert_eq!(location.as_deref(), Some(format!("{MOUNT}/shipment/shp-s-42").as_str()));
    let kinds: Vec<&str> = events.iter().map(|(k, _, _)| k.as_str()).collect();
    assert_eq!(kinds, ["shipping.shipment_create", "shipping.shipment_update"], "confirm needs no answer");
    let update: Value = serde_json::from_str(&events[1].2).expect("json");
    assert_eq!(update["shipment_id"], "shp-s-42", "the path's id is added to the update's record");
    assert_eq!(update["selected_option"]["id"], "pickup");
    assert!(events[1].1.starts_with("shipping.shipment_update:shp-s-42:"), "{}", events[1].1);
    // The confirm becomes an event too, answered 200 at once.
    let confirm = Outgoing {
        method: "POST".into(),
        url: format!("{MOUNT}/shipment/shp-s-42/confirm"),
        headers: vec![("Authorization".into(), format!("Bearer {}", kss.token().expect("token")))],
        body: vec![],
    };
    let delivery = h.receive(c, &confirm).expect("verified");
    assert_eq!(delivery.reply.map(|r| r.status), Some(200));
    assert_eq!(delivery.events[0].kind, "shipping.shipment_confirm");
    assert_eq!(delivery.events[0].id, "shipping.shipment_confirm:shp-s-42");
    assert_eq!(
        serde_json::from_str::<Value>(&delivery.events[0].record).expect("json"),
        json!({"shipment_id": "shp-s-42"})
    );
}

#[test]
fn an_expired_token_gets_401_and_klarna_authenticates_again() {
    let mut h = Harness::new();
    let c = docs_connection(&mut h);
    let mut kss = ShippingService::new(MOUNT, IDENTIFIER, KEY);
    kss.list_options(&mut endpoint(&mut h, c, tms), &json!({})).expect("options");
    let old = kss.token().expect("token").to_string();
    h.instance.advance_wall_clock(Duration::from_secs(3600));
    kss.list_options(&mut endpoint(&mut h, c, tms), &json!({})).expect("options after a new /auth");
    let calls: Vec<(&str, u16)> = kss.exchanges.iter().map(|e| (e.call.as_str(), e.status)).collect();
    assert_eq!(
        calls,
        [
            ("POST /auth", 201),
            ("POST /shipping-options", 200),
            ("POST /shipping-options", 401),
            ("POST /auth", 201),
            ("POST /shipping-options", 200)
        ]
    );
    assert_ne!(kss.token(), Some(old.as_str()), "a new token");
    kss.set_token(Some(old));
    let replayed = kss.confirm(&mut endpoint(&mut h, c, tms), "shp-1").expect("re-authenticated");
    assert_eq!((replayed, kss.exchanges[5].status), (200, 401), "the replayed expired token was refused first");
}

/// `receive` of one request on `c`, the status a host answers.
fn status(h: &mut Harness, c: ResourceAny, request: &Outgoing) -> u16 {
    endpoint(h, c, tms)(request).status
}

fn bearer(path: &str, token: &str) -> Outgoing {
    let mut request = Outgoing::json(format!("{MOUNT}{path}"), &selection("home"));
    request.headers.push(("Authorization".into(), format!("Bearer {token}")));
    request
}

#[test]
fn wrong_digests_identifiers_and_tokens_get_401_and_any_instance_checks_a_token() {
    let mut h = Harness::new();
    let c = docs_connection(&mut h);
    let wrong_key = ShippingService::new(MOUNT, IDENTIFIER, "smOOOth2").auth_request("lRFUpqW7Xd");
    assert_eq!(status(&mut h, c, &wrong_key), 401, "wrong digest");
    let unknown = ShippingService::new(MOUNT, "sweMerch124", KEY).auth_request("lRFUpqW7Xd");
    assert_eq!(status(&mut h, c, &unknown), 401, "unknown identifier");

    // Tokens issued by other connections: another key, another identifier, the same configuration.
    let mut other = Harness::new();
    let forged_key = {
        let o = other.try_open(&config(shipping_key(IDENTIFIER, "another-key"), &[])).expect("open");
        let mut kss = ShippingService::new(MOUNT, IDENTIFIER, "another-key");
        kss.authenticate(&mut endpoint(&mut other, o, tms)).expect("its own key works");
        kss.token().expect("token").to_string()
    };
    let other_identifier = {
        let o = other.try_open(&config(shipping_key("sweMerch999", KEY), &[])).expect("open");
        let mut kss = ShippingService::new(MOUNT, "sweMerch999", KEY);
        kss.authenticate(&mut endpoint(&mut other, o, tms)).expect("its own identifier works");
        kss.token().expect("token").to_string()
    };
    let same_config = {
        let o = docs_connection(&mut other);
        let mut kss = ShippingService::new(MOUNT, IDENTIFIER, KEY);
        kss.authenticate(&mut endpoint(&mut other, o, tms)).expect("authenticated");
        kss.token().expect("token").to_string()
    };
    assert_eq!(status(&mut h, c, &bearer("/shipment", &forged_key)), 401, "signed with another key");
    assert_eq!(status(&mut h, c, &bearer("/shipment", &other_identifier)), 401, "for another identifier");
    assert_eq!(status(&mut h, c, &bearer("/shipment", "not.a.token")), 401, "garbage");
    let mut no_token = Outgoing::json(format!("{MOUNT}/shipment"), &selection("home"));
    assert_eq!(status(&mut h, c, &no_token), 401, "no Authorization");
    no_token.headers.push(("Authorization".into(), format!("Basic {same_config}")));
    assert_eq!(status(&mut h, c, &no_token), 401, "not Bearer");
    assert_eq!(status(&mut h, c, &bearer("/shipment", &same_config)), 201, "another instance's token checks here");
}

#[test]
fn a_malformed_auth_gets_400_with_failure_reason() {
    let mut h = Harness::new();
    let c = docs_connection(&mut h);
    let cases = [
        json!({ "identifier": IDENTIFIER }),
        json!({ "identifier": IDENTIFIER, "secret": { "nonce": "n", "digest": "abc" } }),
        json!({ "identifier": 7, "secret": { "nonce": "n", "digest": DOCS_DIGEST } }),
        json!([1, 2]),
    ];
    for body in cases {
        let request = Outgoing::json(format!("{MOUNT}/auth"), &body);
        let reply = endpoint(&mut h, c, tms)(&request);
        assert_eq!(reply.status, 400, "{body}");
        let answer: Value = serde_json::from_slice(&reply.body).expect("json");
        assert!(answer["failure_reason"].as_str().is_some_and(|r| !r.is_empty()), "{answer}");
    }
    let mut text = Outgoing::json(format!("{MOUNT}/auth"), &json!({}));
    text.headers = vec![("Content-Type".into(), "text/plain".into())];
    assert_eq!(status(&mut h, c, &text), 400, "not a JSON media type");
}

#[test]
fn with_the_token_auth_kind_klarna_presents_the_configured_token() {
    let mut h = Harness::new();
    let configured = "tms-Configured-Token-8c1d";
    let c = h.try_open(&config(Auth::Token(configured.into()), &[])).expect("open");
    assert_eq!(h.instance.test(c).expect("no trap"), Ok(()), "test() calls nothing at Klarna");
    assert!(h.sim.received().is_empty(), "nothing was sent to Klarna");
    assert_eq!(status(&mut h, c, &bearer("/shipment", configured)), 201);
    assert_eq!(status(&mut h, c, &bearer("/shipment", "tms-Configured-Token-8c1e")), 401);
    let auth = ShippingService::new(MOUNT, IDENTIFIER, KEY).auth_request("n0nce");
    assert_eq!(status(&mut h, c, &auth), 401, "no /auth with a configured token");
}

#[test]
fn answers_are_checked_and_the_shipment_id_setting_fills_a_missing_id() {
    let mut h = Harness::new();
    let c = docs_connection(&mut h);
    let refused = |r: Result<Reply, ConnectorError>| match r {
        Err(ConnectorError::InvalidInput(m)) => m,
        other => panic!("expected invalid-input, got {other:?}"),
    };
    let m = refused(h.respond(c, "shipping.shipment_create", &json!({"reservation": {"carrier": "x"}})));
    assert!(m.starts_with("answer.reservation.shipment_id: required (or the shipment_id setting)"), "{m}");
    assert!(refused(h.respond(c, "shipping.options", &json!({"options": []}))).starts_with("answer.options"));
    assert!(refused(h.respond(c, "shipping.shipment_create", &json!({"failure_reason": ""})))
        .starts_with("answer.failure_reason"));
    let m = refused(h.respond(c, "shipping.shipment_confirm", &json!({"reservation": {}})));
    assert!(m.contains("takes no answer"), "{m}");

    let failure =
        h.respond(c, "shipping.shipment_update", &json!({"failure_reason": "no such postcode"})).expect("rendered");
    assert_eq!((failure.status, failure.body), (400, br#"{"failure_reason":"no such postcode"}"#.to_vec()));

    let d = h.try_open(&config(shipping_key(IDENTIFIER, KEY), &[("shipment_id", "default 1")])).expect("open");
    let reply = h.respond(d, "shipping.shipment_update", &json!({"reservation": {"carrier": "x"}})).expect("rendered");
    assert_eq!(reply.status, 200);
    let location = reply.headers.iter().find(|(k, _)| k == "Location").map(|(_, v)| v.as_str());
    assert_eq!(location, Some(format!("{MOUNT}/shipment/default%201").as_str()), "the setting, escaped");
    assert_eq!(serde_json::from_slice::<Value>(&reply.body).expect("json"), json!({"carrier": "x"}), "as given");
}
