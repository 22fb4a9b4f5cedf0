//! The simulator's answers and the connector's request bodies, checked against
//! Klarna's published OpenAPI files, vendored in `host-test/specs/klarna`.

use std::collections::BTreeSet;
use std::path::Path;

use crate::common::Harness;
use crate::openapi::Spec;
use host_test::runtime::Method;
use host_test::sim::Fault;
use serde_json::{json, Value};

fn load(file: &str, base_path: &str) -> Spec {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/klarna").join(file);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    // The copies carry stray control bytes from their source (see the specs' README).
    let text: String = String::from_utf8_lossy(&bytes)
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
        .collect();
    let doc: Value = serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
    Spec::new(doc, base_path)
}

/// Drives every first-slice operation, including refusals and errors.
fn exercise(h: &mut Harness) {
    let om = h.open("post-purchase");
    let order_id = h.order(10_000);
    let order = [("order_id", order_id.as_str())];
    let post = |h: &mut Harness, entity: &str, payload: Option<Value>| {
        let _ = h.publish(om, entity, Method::Post, &order, payload, None);
    };
    let _ = h.read(om, "order", &order);
    let _ = h.subscribe(om, "order-captures", &order, &[], None, None);
    post(h, "order-refunds", Some(json!({"refunded_amount": 100})));
    post(h, "order-captures", Some(json!({"captured_amount": 4000, "description": "first", "reference": "r1"})));
    post(h, "order-captures", Some(json!({"captured_amount": 9000})));
    let captures = h.subscribe(om, "order-captures", &order, &[], None, None).expect("captures");
    let capture: Value = serde_json::from_str(&captures.records[0]).expect("json");
    let _ = h.read(
        om,
        "order-capture",
        &[("order_id", &order_id), ("capture_id", capture["capture_id"].as_str().expect("id"))],
    );
    let _ = h.read(om, "order-capture", &[("order_id", &order_id), ("capture_id", "missing")]);
    post(h, "order-refunds", Some(json!({"refunded_amount": 1500, "description": "return"})));
    let refund_id = h.sim.order(&order_id).expect("order").refunds[0].refund_id.clone();
    let _ = h.read(om, "order-refund", &[("order_id", &order_id), ("refund_id", &refund_id)]);
    post(h, "order-cancel", None);
    post(h, "order-extend-authorization-time", None);
    post(h, "order-acknowledge", None);
    post(h, "order-release-remaining-authorization", None);
    let _ = h.read(om, "order", &order);
    let _ = h.read(om, "order", &[("order_id", "unknown")]);
    let fresh = h.order(500);
    let _ = h.publish(om, "order-cancel", Method::Post, &[("order_id", &fresh)], None, None);

    let lines = json!([{"name": "Item", "quantity": 2, "unit_price": 6000, "total_amount": 12000, "tax_rate": 2500, "total_tax_amount": 2400}]);
    let _ = h.publish(
        om,
        "order-authorization",
        Method::Patch,
        &[("order_id", &fresh)],
        Some(json!({"order_amount": 12000, "order_lines": lines})),
        None,
    );

    let shipped = h.order(20_000);
    let references = json!({"merchant_reference1": "10001", "merchant_reference2": "ERP-77"});
    let _ =
        h.publish(om, "order-merchant-references", Method::Patch, &[("order_id", &shipped)], Some(references), None);
    let address = json!({"shipping_address": {"given_name": "Testperson-de", "family_name": "Approved", "city": "Neuss", "country": "DE"}});
    let _ = h.publish(om, "order-customer-details", Method::Patch, &[("order_id", &shipped)], Some(address), None);
    let info = json!({"shipping_info": [{"shipping_company": "DHL", "shipping_method": "Home", "tracking_number": "00340434292135100186"}]});
    let _ = h.publish(om, "order-shipping-info", Method::Post, &[("order_id", &shipped)], Some(info.clone()), None);
    let capture_id = h
        .publish(
            om,
            "order-captures",
            Method::Post,
            &[("order_id", &shipped)],
            Some(json!({"captured_amount": 7000})),
            None,
        )
        .expect("capture")
        .id
        .expect("id");
    let at = [("order_id", shipped.as_str()), ("capture_id", capture_id.as_str())];
    let _ = h.publish(om, "order-capture-shipping-info", Method::Post, &at, Some(info), None);
    let _ = h.read(om, "order-capture-extend-due-date-options", &at);
    let _ =
        h.publish(om, "order-capture-extend-due-date", Method::Patch, &at, Some(json!({"number_of_days": 14})), None);
    let _ = h.publish(om, "order-capture-trigger-send-out", Method::Post, &at, None, None);
    let _ = h.read(om, "order", &[("order_id", &shipped)]);

    let carded = h.order(9000);
    let promise = json!({"order_id": carded, "cards": [{"amount": 6000, "currency": "EUR", "reference": "hotel-1", "fund_amount": 6000}]});
    let promise_id =
        h.publish(om, "card-promises", Method::Post, &[], Some(promise), None).expect("promise").id.expect("id");
    let _ = h.read(om, "card-promise", &[("promise_id", &promise_id)]);
    let _ = h.read(om, "card-cancel-request", &[("order_id", &carded)]);
    let settled = json!({"order_id": carded, "promise_id": promise_id, "key_id": "sim-key-1"});
    let settlement =
        h.publish(om, "card-settlements", Method::Post, &[], Some(settled), None).expect("settle").id.expect("id");
    let _ =
        h.subscribe(om, "card-settlement", &[("settlement_id", &settlement)], &[("KeyId", "sim-key-1")], None, None);
    let _ =
        h.subscribe(om, "card-settlement-by-order", &[("order_id", &carded)], &[("KeyId", "sim-key-1")], None, None);
    let _ = h.publish(om, "card-cancel-request", Method::Post, &[("order_id", &carded)], None, None);
    let _ = h.read(om, "card-cancel-request", &[("order_id", &carded)]);

    let p = h.open("purchase");
    let order = json!({
        "purchase_country": "SE", "purchase_currency": "SEK", "locale": "sv-SE", "intent": "buy",
        "order_amount": 10000, "order_tax_amount": 2000,
        "order_lines": [{"type": "physical", "reference": "19-402", "name": "Battery", "quantity": 1, "unit_price": 10000, "tax_rate": 2500, "total_amount": 10000, "total_discount_amount": 0, "total_tax_amount": 2000}],
        "merchant_urls": {"confirmation": "https://shop.example/confirm", "authorization": "https://shop.example/auth"}
    });
    let created = h.publish(p, "payment-sessions", Method::Post, &[], Some(order.clone()), None).expect("session");
    let session_id = created.id.expect("session id");
    let mut recurring = order.clone();
    recurring["intent"] = json!("buy_and_tokenize");
    recurring["order_lines"][0]["subscription"] =
        json!({"name": "Battery plan", "interval": "MONTH", "interval_count": 3});
    h.publish(p, "payment-sessions", Method::Post, &[], Some(recurring), None).expect("recurring session");
    let _ = h.read(p, "payment-session", &[("session_id", &session_id)]);
    let _ = h.publish(
        p,
        "payment-session",
        Method::Post,
        &[("session_id", &session_id)],
        Some(json!({"merchant_reference1": "45aa52f387871e3a210645d4"})),
        None,
    );
    let _ = h.read(p, "payment-session", &[("session_id", "missing")]);
    let token = h.sim.authorize_session(&session_id).expect("authorized");
    let _ = h.read(p, "payment-session", &[("session_id", &session_id)]);
    let customer_token = json!({"purchase_country": "SE", "purchase_currency": "SEK", "locale": "sv-SE", "description": "Subscription", "intended_use": "SUBSCRIPTION"});
    let customer = h
        .publish(
            p,
            "payment-authorization-customer-tokens",
            Method::Post,
            &[("authorizationToken", &token)],
            Some(customer_token),
            None,
        )
        .expect("customer token")
        .id
        .expect("token id");
    let _ = h.read(p, "customer-token", &[("customerToken", &customer)]);
    let recurring = json!({
        "purchase_currency": "SEK", "order_amount": 10000, "order_tax_amount": 2000, "merchant_reference1": "sub-1",
        "order_lines": [{"type": "physical", "reference": "19-402", "name": "Battery", "quantity": 1, "unit_price": 10000, "tax_rate": 2500, "total_amount": 10000, "total_discount_amount": 0, "total_tax_amount": 2000}]
    });
    let _ = h.publish(
        p,
        "customer-token-orders",
        Method::Post,
        &[("customerToken", &customer)],
        Some(recurring.clone()),
        None,
    );
    let _ = h.publish(
        p,
        "customer-token-status",
        Method::Patch,
        &[("customerToken", &customer)],
        Some(json!({"status": "CANCELLED"})),
        None,
    );
    let _ = h.publish(
        p,
        "customer-token-orders",
        Method::Post,
        &[("customerToken", &customer)],
        Some(recurring),
        Some("after-cancel"),
    );
    let _ = h.publish(
        p,
        "payment-authorization-orders",
        Method::Post,
        &[("authorizationToken", &token)],
        Some(order.clone()),
        None,
    );
    let _ = h.publish(
        p,
        "payment-authorization-orders",
        Method::Post,
        &[("authorizationToken", &token)],
        Some(order.clone()),
        Some("again"),
    );
    let second = h
        .publish(p, "payment-sessions", Method::Post, &[], Some(order.clone()), None)
        .expect("session")
        .id
        .expect("id");
    let token = h.sim.authorize_session(&second).expect("authorized");
    let _ = h.publish(p, "payment-authorization", Method::Delete, &[("authorizationToken", &token)], None, None);

    let urls = json!({"terms": "https://shop.example/terms", "checkout": "https://shop.example/checkout", "confirmation": "https://shop.example/confirmation", "push": "https://shop.example/push"});
    let mut checkout_order = order.clone();
    checkout_order.as_object_mut().map(|o| o.remove("intent"));
    checkout_order["merchant_urls"] = urls;
    let checkout = h
        .publish(p, "checkout-orders", Method::Post, &[], Some(checkout_order.clone()), None)
        .expect("checkout")
        .id
        .expect("id");
    let _ = h.read(p, "checkout-order", &[("order_id", &checkout)]);
    let _ = h.publish(p, "checkout-order", Method::Post, &[("order_id", &checkout)], Some(checkout_order), None);
    let _ = h.publish(p, "checkout-order-abort", Method::Post, &[("order_id", &checkout)], None, None);
    let _ = h.read(p, "checkout-order", &[("order_id", "missing")]);
    let third = h
        .publish(p, "payment-sessions", Method::Post, &[], Some(order.clone()), None)
        .expect("session")
        .id
        .expect("id");
    let url = format!("https://api.playground.klarna.com/payments/v1/sessions/{third}");
    let merchant_urls = json!({"success": "https://shop.example/success", "cancel": "https://shop.example/cancel"});
    let hpp = h
        .publish(
            p,
            "hpp-sessions",
            Method::Post,
            &[],
            Some(json!({"payment_session_url": url, "merchant_urls": merchant_urls})),
            None,
        )
        .expect("hpp")
        .id
        .expect("id");
    let _ = h.read(p, "hpp-session", &[("session_id", &hpp)]);
    let send = json!({"method": "email", "contact_information": {"email": "customer@example.com"}});
    let _ = h.publish(p, "hpp-session-distribution", Method::Post, &[("session_id", &hpp)], Some(send), None);
    let _ = h.publish(p, "hpp-session", Method::Delete, &[("session_id", &hpp)], None, None);
    let _ = h.read(p, "hpp-session", &[("session_id", &hpp)]);

    let st = h.open("settlements");
    let _ = h.read_all(st, "payouts", &[], 7);
    let _ = h.read_all(st, "transactions", &[], 500);
    let _ = h.read(st, "payout", &[("payment_reference", "XISA00001003")]);
    let period = [("start_date", "2026-01-01T00:00:00Z"), ("end_date", "2026-01-31T00:00:00Z")];
    let _ = h.subscribe(st, "payouts-summary", &[], &period, None, None);
    let _ = h.subscribe(st, "payouts-summary", &[], &period[..1], None, None);
    for report in ["report-payout-with-transactions", "report-payout"] {
        let _ = h.subscribe(st, report, &[], &[("payment_reference", "XISA00001003")], None, None);
    }
    for report in ["report-payouts-summary-with-transactions", "report-payouts-summary"] {
        let _ = h.subscribe(st, report, &[], &period, None, None);
    }
    let _ = h.read(st, "payout", &[("payment_reference", "nope")]);
    let _ = h.subscribe(st, "transactions", &[], &[("size", "501")], None, None);
    h.sim.inject([Fault::RateLimited { retry_after_s: 0 }, Fault::ServerTimeout]);
    let _ = h.subscribe(st, "payouts", &[], &[], None, None);
}

#[test]
fn simulator_answers_and_connector_requests_follow_klarnas_specs() {
    let specs = [
        ("/ordermanagement/", load("order-management-api-openapi.yml", "")),
        ("/settlements/v1/", load("klarna-settlements-api-openapi.yml", "/settlements/v1")),
        ("/payments/v1/", load("klarna-payments-api-openapi.yml", "")),
        ("/customer-token/v1/", load("klarna-customer-token-api-openapi.yml", "")),
        ("/checkout/v3/", load("kustom-checkout-api-openapi.yml", "")),
        ("/hpp/v1/", load("hosted-payment-page-api-openapi.yml", "")),
        ("/merchantcard/v3/", load("merchant-card-service-api-openapi.yml", "")),
    ];
    let classic = &specs[0].1;
    let mut h = Harness::new();
    exercise(&mut h);
    let (mut checked_bodies, mut checked_requests) = (0, 0);
    let mut operations = BTreeSet::new();
    let mut problems = vec![];
    for exchange in h.sim.received() {
        let target = host_test::sim::Target::parse(&exchange.url).expect("a Klarna URL");
        let path = format!("/{}", target.segments.join("/"));
        let Some((_, spec)) = specs.iter().find(|(prefix, _)| path.starts_with(prefix)) else {
            panic!("no spec for {path}");
        };
        let Some((template, operation)) = spec.operation(&exchange.method, &path) else {
            panic!("{} {path} is not an operation of Klarna's spec", exchange.method);
        };
        operations.insert(format!("{} {template}", exchange.method));
        if !exchange.body.is_empty() {
            let body: Value = serde_json::from_slice(&exchange.body).expect("request body is JSON");
            let schema = spec.request_schema(operation).unwrap_or_else(|| panic!("{template}: no request schema"));
            for v in spec.validate(schema, &body) {
                problems.push(format!("request {} {template}{}: {}", exchange.method, v.at, v.problem));
            }
            checked_requests += 1;
        }
        let Some(response) = exchange.response else {
            continue;
        };
        let content_type =
            response.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("content-type")).map(|(_, v)| v.as_str());
        if response.body.is_empty() || matches!(content_type, Some("text/csv" | "application/pdf")) {
            continue;
        }
        let body: Value = serde_json::from_slice(&response.body).expect("response body is JSON");
        // Statuses a spec does not list (401, 429, 5xx), and errors of specs that
        // declare no error schema (Checkout, HPP), carry Klarna's classic error
        // body, the same across its APIs (Order Management's ErrorMessageDto).
        let own_error = ["ErrorMessageDto", "ErrorResponse", "ErrorV2"].iter().find_map(|name| spec.schema(name));
        let declared = spec
            .declares(operation, response.status)
            .then(|| spec.response_schema(operation, response.status))
            .flatten();
        if !spec.declares(operation, response.status) {
            assert!(response.status >= 400, "{template}: undeclared success status {}", response.status);
        }
        let (checker, schema) = match (declared, own_error) {
            (Some(schema), _) => (spec, schema),
            (None, Some(schema)) => (spec, schema),
            (None, None) => (classic, classic.schema("ErrorMessageDto").expect("ErrorMessageDto")),
        };
        for v in checker.validate(schema, &body) {
            problems
                .push(format!("response {} {} {template}{}: {}", response.status, exchange.method, v.at, v.problem));
        }
        checked_bodies += 1;
    }
    assert!(problems.is_empty(), "{} violations:\n{}", problems.len(), problems.join("\n"));
    assert!(checked_bodies >= 20, "{checked_bodies} response bodies checked");
    assert!(checked_requests >= 10, "{checked_requests} request bodies checked");
    assert!(operations.len() >= 49, "operations exercised: {operations:?}");
}

/// Every answer form of the Checkout callbacks, as `respond` renders it,
/// against Kustom's callback spec (`kustom-checkout-callback-api-openapi.yml`):
/// a status the callback declares, a `Location` for a redirect, and a body
/// that follows the status's schema.
#[test]
fn checkout_callback_answers_follow_the_callback_spec() {
    use klarna_connector::manifest::{AnswerForm, Manifest};
    let spec = load("kustom-checkout-callback-api-openapi.yml", "");
    let mut h = Harness::new();
    let mut config = crate::common::config("purchase");
    config.settings = crate::common::pairs(&[("callback_secret", "s3cret-s3cret-s3cret")]);
    let p = h.try_open(&config).expect("open");
    let mut order = crate::scenarios::checkout_order();
    order["shipping_options"] = json!([{"id": "home", "name": "Home delivery", "price": 490, "tax_amount": 78, "tax_rate": 1900, "shipping_method": "Home"}]);
    let mut checked = BTreeSet::new();
    for callback in
        Manifest::get().callbacks.iter().filter(|c| c.kind.starts_with("checkout.") && !c.answers.is_empty())
    {
        let route = format!("/merchant_urls.{}", callback.kind.trim_start_matches("checkout."));
        let (_, operation) =
            spec.operation("post", &route).unwrap_or_else(|| panic!("{route} is not in the callback spec"));
        for form in callback.answers {
            let answer = match form {
                AnswerForm::Approve => json!({"approve": true}),
                AnswerForm::Redirect => json!({"redirect": "https://shop.example/klarna/sorry"}),
                AnswerForm::Error => {
                    json!({"error": {"error_type": "address_error", "error_text": "We do not ship there."}})
                }
                AnswerForm::Order => json!({ "order": order }),
                other => panic!("{}: a Checkout callback with a {} answer", callback.kind, other.key()),
            };
            let reply =
                h.respond(p, callback.kind, &answer).unwrap_or_else(|e| panic!("{} {answer}: {e:?}", callback.kind));
            let at = format!("{} {}", callback.kind, form.key());
            assert!(spec.declares(operation, reply.status), "{at}: {} is not a status the spec declares", reply.status);
            if (300..400).contains(&reply.status) {
                assert!(
                    reply.headers.iter().any(|(k, v)| k == "Location" && v.starts_with("https://")),
                    "{at}: no Location"
                );
            }
            match spec.response_schema(operation, reply.status) {
                Some(schema) => {
                    let body: Value = serde_json::from_slice(&reply.body).unwrap_or_else(|e| panic!("{at}: {e}"));
                    let violations = spec.validate(schema, &body);
                    assert!(violations.is_empty(), "{at}: {violations:?}\n{body}");
                }
                None => assert!(reply.body.is_empty(), "{at}: a body where the spec declares none"),
            }
            checked.insert(at);
        }
    }
    println!("callback answers checked against the spec: {checked:?}");
    assert_eq!(checked.len(), 12, "validation in 3 forms, and the 3 updates in 3 each: {checked:?}");
}
