//! The connection's rules through the real component, against the
//! simulator: describe, entities, test(), what open and each call refuse
//! before sending, and the limits of uploads.

use crate::common::{first_dispute, Harness};
use base64::Engine as _;
use host_test::runtime::{ConnectorError, Method};
use host_test::sim::{Fault, SimResponse};
use klarna_connector::manifest::Manifest;
use serde_json::json;

/// `describe()` is connector.json minified: the same JSON value (keys in the
/// file's order), with no whitespace between tokens.
#[test]
fn describe_returns_the_manifest_minified() {
    let mut h = Harness::new();
    let described = h.instance.describe().expect("describe");
    host_test::manifest_text::assert_is_the_manifest_minified(&described);
}

#[test]
fn entities_are_those_of_the_api_type() {
    let mut h = Harness::new();
    let manifest = Manifest::get();
    for api_type in ["purchase", "post-purchase", "settlements", "disputes"] {
        let connection = h.open(api_type);
        let entities = h.instance.entities(connection).expect("entities");
        let expected: Vec<_> = manifest.entities.iter().filter(|e| e.api_type.as_str() == api_type).collect();
        assert_eq!(entities.len(), expected.len());
        for (got, want) in entities.iter().zip(expected) {
            assert_eq!(
                (got.name.as_str(), got.api_type.as_str(), got.paginated),
                (want.name, api_type, want.paginated())
            );
            assert_eq!(got.operations.len(), want.operations.len());
            assert_eq!(got.operations[0].path, want.operations[0].path);
            assert_eq!(got.primary_key, want.primary_key.to_vec());
        }
    }
}

#[test]
fn test_checks_credentials() {
    let mut h = Harness::new();
    for api_type in ["post-purchase", "settlements"] {
        let connection = h.open(api_type);
        assert_eq!(h.instance.test(connection).expect("no trap"), Ok(()), "{api_type}");
    }
    let mut wrong = crate::common::config("settlements");
    wrong.auth = host_test::runtime::Auth::Basic(host_test::runtime::BasicAuth {
        username: host_test::sim::USERNAME.into(),
        password: "not-the-password".into(),
    });
    let connection = h.try_open(&wrong).expect("open sends nothing, so it succeeds");
    match h.instance.test(connection).expect("no trap") {
        Err(ConnectorError::Unauthorized(e)) => assert_eq!(e.status, 401),
        other => panic!("expected unauthorized, got {other:?}"),
    }
    // The same credentials on another region's host are refused too.
    let mut na = crate::common::config("settlements");
    na.region = "na".into();
    let connection = h.try_open(&na).expect("open");
    assert!(matches!(h.instance.test(connection).expect("no trap"), Err(ConnectorError::Unauthorized(_))));
}

#[test]
fn open_names_the_wrong_field_and_sends_nothing() {
    let mut h = Harness::new();
    let mut config = crate::common::config("post-purchase");
    config.region = "xx".into();
    match h.try_open(&config) {
        Err(ConnectorError::InvalidConfig(m)) => {
            assert!(m.starts_with("region:") && m.contains("\"xx\""), "{m}")
        }
        other => panic!("expected invalid-config, got {other:?}"),
    }
    assert!(h.sim.received().is_empty(), "open sent a request");
}

#[test]
fn unknown_order_is_not_found_and_unknown_entity_is_invalid_input() {
    let mut h = Harness::new();
    let om = h.open("post-purchase");
    match h.read(om, "order", &[("order_id", "does-not-exist")]) {
        Err(ConnectorError::NotFound(e)) => {
            assert_eq!((e.status, e.code.as_deref()), (404, Some("NO_SUCH_ORDER")));
            assert!(e.correlation_id.is_some());
        }
        other => panic!("expected not-found, got {other:?}"),
    }
    match h.subscribe(om, "orders", &[], &[], None, None) {
        Err(ConnectorError::InvalidInput(m)) => assert!(m.starts_with("entity:"), "{m}"),
        other => panic!("expected invalid-input, got {other:?}"),
    }
    // An entity of another API type is unknown on this connection.
    assert!(matches!(h.subscribe(om, "payouts", &[], &[], None, None), Err(ConnectorError::InvalidInput(_))));
    // A method the entity does not offer.
    match h.publish(om, "order", Method::Delete, &[("order_id", "x")], None, None) {
        Err(ConnectorError::InvalidInput(m)) => assert!(m.starts_with("method:"), "{m}"),
        other => panic!("expected invalid-input, got {other:?}"),
    }
    let requests = h.sim.received().len();
    assert_eq!(requests, 1, "only the order read was sent");
}

#[test]
fn path_parameters_cannot_steer_the_request() {
    let mut h = Harness::new();
    let om = h.open("post-purchase");
    for hostile in ["../../settlements/v1/payouts", "a/b", "..", "x\r\nHost: evil.example"] {
        match h.read(om, "order", &[("order_id", hostile)]) {
            Err(ConnectorError::InvalidInput(m)) => {
                assert!(m.starts_with("params.path.order_id"), "{m}")
            }
            other => panic!("{hostile:?}: expected invalid-input, got {other:?}"),
        }
    }
    // Characters that are legal in a value are encoded, never interpreted.
    let _ = h.read(om, "order", &[("order_id", "a?b#c@evil.example")]);
    let urls: Vec<String> = h.sim.received().into_iter().map(|r| r.url).collect();
    assert_eq!(urls, ["https://api.playground.klarna.com/ordermanagement/v1/orders/a%3Fb%23c%40evil.example"]);
}

#[test]
fn a_cursor_is_only_ever_a_query() {
    let mut h = Harness::new();
    let st = h.open("settlements");
    let page = h.subscribe(st, "transactions", &[], &[], Some("offset=20&size=5".into()), None).expect("page");
    assert_eq!(page.records.len(), 5);
    let _ = h.subscribe(st, "transactions", &[], &[], Some("https://evil.example/x?offset=0".into()), None);
    for request in h.sim.received() {
        assert!(
            request.url.starts_with("https://api.playground.klarna.com/settlements/v1/transactions?"),
            "{}",
            request.url
        );
    }
}

#[test]
fn writes_carry_idempotency_keys_and_standard_headers() {
    let mut h = Harness::new();
    let om = h.open("post-purchase");
    let order_id = h.order(10_000);
    let order = [("order_id", order_id.as_str())];
    let payload = json!({"captured_amount": 1000});
    let first = h.publish(om, "order-captures", Method::Post, &order, Some(payload.clone()), None).expect("capture");
    let again = h.publish(om, "order-captures", Method::Post, &order, Some(payload.clone()), None).expect("capture");
    assert_eq!(first.id, again.id, "a re-sent record is applied once");
    assert_eq!(h.sim.order(&order_id).expect("order").captures.len(), 1);
    // Two deliberate identical captures need two host keys.
    h.publish(om, "order-captures", Method::Post, &order, Some(payload.clone()), Some("shipment-2")).expect("capture");
    h.publish(om, "order-captures", Method::Post, &order, Some(payload), Some("shipment-3")).expect("capture");
    assert_eq!(h.sim.order(&order_id).expect("order").captures.len(), 3);
    let received = h.sim.received();
    let keys: Vec<_> = received
        .iter()
        .map(|r| r.headers.iter().find(|(k, _)| k == "Klarna-Idempotency-Key").map(|(_, v)| v.clone()))
        .collect();
    assert_eq!(keys[0], keys[1]);
    assert_eq!(keys[2].as_deref(), Some("shipment-2"));
    for r in &received {
        let header = |name: &str| r.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
        let library = "Library/klarna-connector_0.3.0 Platform/ipaas-wasm_0.3.0 ";
        assert!(header("User-Agent").is_some_and(|ua| ua.starts_with(library)), "{:?}", header("User-Agent"));
        assert_eq!(header("Content-Type"), Some("application/json"));
        assert!(header("Authorization").is_some_and(|a| a.starts_with("Basic ")));
    }
}

#[test]
fn bad_payloads_are_refused_before_sending() {
    let mut h = Harness::new();
    let om = h.open("post-purchase");
    let cases = [("not json", "params.payload: not valid JSON"), ("[1,2]", "params.payload: must be a JSON object")];
    for (payload, expected) in cases {
        let request = host_test::runtime::PublishRequest {
            entity: "order-captures".into(),
            method: Method::Post,
            params: host_test::runtime::Params {
                path: crate::common::pairs(&[("order_id", "o")]),
                query: vec![],
                payload: Some(payload.into()),
            },
            idempotency_key: None,
        };
        match h.instance.publish(om, &request).expect("no trap") {
            Err(ConnectorError::InvalidInput(m)) => assert!(m.starts_with(expected), "{m}"),
            other => panic!("expected invalid-input, got {other:?}"),
        }
    }
    let big = json!({"captured_amount": 1, "description": "x".repeat(1_000_001)});
    match h.publish(om, "order-captures", Method::Post, &[("order_id", "o")], Some(big), None) {
        Err(ConnectorError::InvalidInput(m)) => assert!(m.contains("1 MB"), "{m}"),
        other => panic!("expected invalid-input, got {other:?}"),
    }
    assert!(h.sim.received().is_empty());
}

#[test]
fn evidence_files_up_to_7_mib_upload_and_larger_ones_are_refused_before_sending() {
    let mut h = Harness::new();
    let (d, id) = first_dispute(&mut h, "INITIATED");
    let path = [("payment_dispute_id", id.as_str())];
    let limit = host_test::sim::disputes::MAX_EVIDENCE_BYTES;
    let record = |size: usize| {
        let mut png = vec![0u8; size];
        png[..8].copy_from_slice(b"\x89PNG\r\n\x1a\n");
        json!({
            "content_type": "image/png",
            "filename": "parcel.png",
            "content_base64": base64::engine::general_purpose::STANDARD.encode(&png),
        })
    };
    let uploaded = h.publish(d, "dispute-attachments", Method::Post, &path, Some(record(limit)), None);
    assert_eq!(uploaded.expect("7 MiB upload").status, 201);
    println!("peak linear memory after a 7 MiB upload: {} bytes", h.instance.peak_memory());
    let sent = h.sim.received().pop().expect("request");
    assert!(sent.body.len() > limit && sent.body.len() < limit + 512, "one part: {} bytes", sent.body.len());
    let before = h.sim.received().len();
    let refused = h.publish(d, "dispute-attachments", Method::Post, &path, Some(record(limit + 1)), None);
    assert!(
        matches!(refused, Err(ConnectorError::InvalidInput(ref m)) if m.contains("7340033 bytes is over Klarna's limit of 7340032")),
        "{refused:?}"
    );
    assert_eq!(h.sim.received().len(), before, "nothing sent");
}

#[test]
fn an_order_line_whose_amounts_overflow_is_invalid_input_and_nothing_is_sent() {
    let mut h = Harness::new();
    let p = h.open("purchase");
    let order = json!({
        "purchase_country": "DE", "purchase_currency": "EUR", "locale": "de-DE",
        "order_amount": 5, "order_tax_amount": 0,
        "order_lines": [{"name": "x", "quantity": 10_000_000_000i64, "unit_price": 10_000_000_000i64,
            "total_amount": 5, "tax_rate": 0, "total_tax_amount": 0}]
    });
    match h.publish(p, "payment-sessions", Method::Post, &[], Some(order), None) {
        Err(ConnectorError::InvalidInput(m)) => assert_eq!(
            m,
            "params.payload.order_lines[0].total_amount: 10000000000 × 10000000000 − 0 is too large to be an amount in minor units"
        ),
        other => panic!("expected invalid-input, got {other:?}"),
    }
    assert!(h.sim.received().is_empty(), "nothing sent");
}

#[test]
fn pagination_next_is_followed_on_the_api_host_in_any_form_and_refused_elsewhere() {
    let forms = [
        ("https://api.playground.klarna.com/settlements/v1/payouts?offset=1&size=1", true),
        ("/settlements/v1/payouts?offset=1&size=1", true),
        ("https://api.playground.klarna.com:443/settlements/v1/payouts?offset=1&size=1", true),
        ("https://API.PLAYGROUND.KLARNA.COM/settlements/v1/payouts?offset=1&size=1", true),
        ("http://api.playground.klarna.com/settlements/v1/payouts?offset=1&size=1", false),
        ("https://api.klarna.com/settlements/v1/payouts?offset=1&size=1", false),
        ("https://api.playground.klarna.com.evil.example/settlements/v1/payouts?offset=1&size=1", false),
        ("https://api.playground.klarna.com@evil.example/settlements/v1/payouts?offset=1&size=1", false),
        ("https://user:pw@api.playground.klarna.com/settlements/v1/payouts?offset=1&size=1", false),
        ("https://api.playground.klarna.com/settlements/v1/pay\\outs?offset=1&size=1", false),
        ("https://api.playground.klarna.com/settlements/v1/\"payouts\"?offset=1&size=1", false),
        ("https://api.playground.klarna.com/settlements/v1/{payouts}?offset=1&size=1", false),
        ("//evil.example/settlements/v1/payouts?offset=1&size=1", false),
        ("https://api.playground.kl%61rna.com/settlements/v1/payouts?offset=1&size=1", false),
        ("https://api.playground.klarna.com:0/settlements/v1/payouts?offset=1&size=1", false),
        ("https://api.playground.klarna.com:/settlements/v1/payouts?offset=1&size=1", false),
    ];
    for (link, follow) in forms {
        let mut h = Harness::new();
        let st = h.open("settlements");
        let link = link.replace("/payouts", "/transactions");
        let page =
            json!({"transactions": [{"payment_reference": "XISA00001000"}], "pagination": {"count": 1, "next": link}});
        h.sim.inject([Fault::Answer(SimResponse::json(200, &page))]);
        let first = h.subscribe(st, "transactions", &[], &[], None, Some(1));
        match (first, follow) {
            (Ok(page), true) => {
                assert_eq!(page.next_cursor.as_deref(), Some("offset=1&size=1"), "{link}");
                let second = h.subscribe(st, "transactions", &[], &[], page.next_cursor, None).expect("the next page");
                assert_eq!(second.records.len(), 1, "{link}");
                assert!(h.sim.received()[1].url.ends_with("/settlements/v1/transactions?offset=1&size=1"), "{link}");
            }
            (Err(ConnectorError::Unexpected(e)), false) => {
                assert!(e.messages[0].contains("pagination.next"), "{link}: {:?}", e.messages);
                assert_eq!(h.sim.received().len(), 1, "{link}: not retried");
            }
            (other, _) => panic!("{link}: {other:?}"),
        }
    }
}

/// A capture's id comes from `Capture-Id`, else the last segment of
/// `Location` when that points at the API host in a form Klarna sends; a
/// `Location` elsewhere gives no id and a warning naming it (the capture was
/// made: the write is not failed for that).
#[test]
fn created_ids_come_from_a_location_on_the_api_host_only() {
    let path = "/ordermanagement/v1/orders/o1/captures/cap-9";
    let forms = [
        (format!("https://api.playground.klarna.com{path}"), Some("cap-9")),
        (path.to_string(), Some("cap-9")),
        (format!("https://API.PLAYGROUND.KLARNA.COM:443{path}"), Some("cap-9")),
        (format!("https://api.playground.klarna.com@evil.example{path}"), None),
        (format!("https://evil.example{path}"), None),
        (format!("//evil.example{path}"), None),
        (format!("http://api.playground.klarna.com{path}"), None),
        (format!("https://api.playground.klarna.com:0{path}"), None),
    ];
    for (location, id) in forms {
        let mut h = Harness::new();
        let om = h.open("post-purchase");
        let order = h.order(10_000);
        h.sim.inject([Fault::Answer(SimResponse::empty(201).with_header("Location", location.clone()))]);
        let created = h
            .publish(
                om,
                "order-captures",
                Method::Post,
                &[("order_id", &order)],
                Some(json!({"captured_amount": 100})),
                None,
            )
            .unwrap_or_else(|e| panic!("{location}: {e:?}"));
        assert_eq!(created.id.as_deref(), id, "{location}");
        let warned =
            h.instance.logs().iter().any(|l| l.message.contains("Location") && l.message.contains("not taken"));
        assert_eq!(warned, id.is_none(), "{location}: a refused Location is named in the log");
    }
}

/// Merchant URLs: a redirect answered to a Checkout callback and the
/// shipping assistant's `public_url` are absolute https URLs without user
/// info; anything else is refused naming the field, before anything is sent.
#[test]
fn merchant_urls_are_https_without_user_info() {
    let mut h = Harness::new();
    let mut purchase = crate::common::config("purchase");
    purchase.settings = crate::common::pairs(&[("callback_secret", "s3cret-s3cret-s3cret")]);
    let p = h.try_open(&purchase).expect("opens");
    for url in ["https://shop.example/sorry", "https://shop.example:8443/sorry?x=1"] {
        let reply = h.respond(p, "checkout.validation", &json!({ "redirect": url })).expect("a redirect");
        assert_eq!(reply.status, 303, "{url}");
    }
    for url in [
        "https://shop.example@evil.example/sorry",
        "http://shop.example/sorry",
        "/sorry",
        "//evil.example/sorry",
        "https://shop.example:0/sorry",
        "https://shop.example/so{rr}y",
    ] {
        match h.respond(p, "checkout.validation", &json!({ "redirect": url })) {
            Err(ConnectorError::InvalidInput(m)) => assert!(m.starts_with("answer.redirect: "), "{url}: {m}"),
            other => panic!("{url}: {other:?}"),
        }
    }
    for url in ["https://user@shop.example/klarna", "https://shop.example/klarna?x=1", "http://shop.example/klarna"] {
        let mut shipping = crate::common::config("shipping-assistant");
        shipping.settings = crate::common::pairs(&[("public_url", url)]);
        match h.try_open(&shipping) {
            Err(ConnectorError::InvalidConfig(m)) => assert!(m.starts_with("settings.public_url: "), "{url}: {m}"),
            other => panic!("{url}: {other:?}"),
        }
    }
    assert!(h.sim.received().is_empty(), "nothing sent");
}

#[test]
fn page_sizes_are_capped_at_the_largest_page_the_manifest_declares() {
    let mut h = Harness::new();
    let st = h.open("settlements");
    h.subscribe(st, "transactions", &[], &[], None, Some(5_000)).expect("a capped page");
    let d = h.open("disputes");
    let page = h.subscribe(d, "disputes", &[], &[], None, Some(5_000)).expect("a capped page");
    let sent: Vec<String> = h.sim.received().iter().map(|r| r.url.clone()).collect();
    assert!(sent[0].ends_with("/settlements/v1/transactions?size=500"), "{}", sent[0]);
    assert!(sent[1].ends_with("/v4/payment/disputes?size=100"), "{}", sent[1]);
    assert!(page.records.len() <= 100);
}
