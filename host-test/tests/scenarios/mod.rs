//! The scenario of every (entity, method) in connector.json, one module per
//! Klarna API family, and the helpers they share. Each scenario drives the
//! real component against the simulator and checks what Klarna would do.

mod checkout;
mod disputes;
mod merchant_card;
mod network;
mod order_management;
mod payments;
mod settlements;

pub use base64::Engine as _;
pub use host_test::runtime::{ConnectorError, Method};
pub use serde_json::{json, Value};
pub use wasmtime::component::ResourceAny;

pub use crate::common::{first_dispute, Harness};

/// One family's scenarios: runs (entity, method), `false` when it has none.
type Scenarios = fn(&mut Harness, &str, Method) -> bool;

/// Which family's module holds an entity's scenarios, by its API path.
const FAMILIES: [(&str, Scenarios); 10] = [
    ("/ordermanagement/", order_management::run),
    ("/merchantcard/", merchant_card::run),
    ("/settlements/", settlements::run),
    ("/payments/", payments::run),
    ("/customer-token/", payments::run),
    ("/checkout/", checkout::run),
    ("/hpp/", checkout::run),
    ("/v4/payment/disputes", disputes::run),
    ("/v1/notification", network::run),
    ("/v2/payment", network::run),
];

/// Runs the scenario of `entity`'s `method` (the entity's API path picks the
/// family); `false` when there is none.
pub fn run(h: &mut Harness, entity: &str, path: &str, method: Method) -> bool {
    FAMILIES.iter().find(|(prefix, _)| path.starts_with(prefix)).is_some_and(|(_, family)| family(h, entity, method))
}

/// The Klarna error code and correlation id of a refusal.
pub fn rejected_code(result: Result<impl std::fmt::Debug, ConnectorError>) -> (String, Option<String>) {
    match result {
        Err(ConnectorError::Rejected(e)) => (e.code.unwrap_or_default(), e.correlation_id),
        other => panic!("expected rejected, got {other:?}"),
    }
}

/// A Klarna Network connection (API key auth on the global host).
pub fn network(h: &mut Harness) -> ResourceAny {
    h.open("network")
}

/// A payment request for a 123.36 EUR purchase, handed over to Klarna's purchase journey.
pub fn payment_request() -> Value {
    json!({
        "currency": "EUR",
        "amount": 12_336,
        "payment_request_reference": "shop-order-7",
        "customer_interaction_config": {"method": "HANDOVER", "return_url": "https://shop.example/klarna/return"}
    })
}

/// Creates a payment request on Klarna Network connection `n`; returns its id.
pub fn create_payment_request(h: &mut Harness, n: ResourceAny) -> String {
    h.publish(n, "payment-requests", Method::Post, &[], Some(payment_request()), None)
        .expect("payment request")
        .id
        .expect("id")
}

/// A webhook for payment events, signed with a signing key created first on `n`.
pub fn webhook(h: &mut Harness, n: ResourceAny) -> Value {
    let key = h.publish(n, "signing-keys", Method::Post, &[], None, Some("webhook-key")).expect("signing key");
    json!({
        "url": "https://shop.example/klarna/network/notifications",
        "event_types": ["payment.request.state-change.authorized", "payment.*"],
        "event_version": "v1",
        "signing_key_id": key.id.expect("signing_key_id"),
        "status": "ENABLED"
    })
}

/// Downloads a dispute attachment: one file record `{content_type, filename, content_base64}`.
pub fn download_attachment(h: &mut Harness, d: ResourceAny, dispute_id: &str, attachment_id: &str) -> Value {
    let path = [("payment_dispute_id", dispute_id), ("payment_dispute_attachment_id", attachment_id)];
    let page = h.subscribe(d, "dispute-attachment", &path, &[], None, None).expect("download");
    serde_json::from_str(&page.records[0]).expect("json")
}

/// Uploads a small PDF as evidence to a dispute; returns its attachment id.
pub fn upload_evidence(h: &mut Harness, d: ResourceAny, dispute_id: &str) -> String {
    let file = json!({
        "content_type": "application/pdf",
        "filename": "evidence.pdf",
        "content_base64": base64::engine::general_purpose::STANDARD.encode(b"%PDF-1.4\n%%EOF\n"),
    });
    h.publish(d, "dispute-attachments", Method::Post, &[("payment_dispute_id", dispute_id)], Some(file), None)
        .expect("upload")
        .id
        .expect("attachment id")
}

/// Promises 6,000 in one virtual card for the order; returns the promise id.
pub fn card_promise(h: &mut Harness, om: ResourceAny, order_id: &str) -> String {
    let promise = json!({"order_id": order_id, "cards": [{"amount": 6000, "currency": "EUR", "reference": "hotel-1"}]});
    h.publish(om, "card-promises", Method::Post, &[], Some(promise), None).expect("promise").id.expect("promise id")
}

/// A valid Checkout order (the session order plus the required merchant URLs).
pub fn checkout_order() -> Value {
    let mut order = session_order();
    let o = order.as_object_mut().expect("object");
    o.remove("intent");
    o.insert(
        "merchant_urls".into(),
        json!({
            "terms": "https://shop.example/terms", "checkout": "https://shop.example/checkout",
            "confirmation": "https://shop.example/confirmation", "push": "https://shop.example/push"
        }),
    );
    order
}

/// A purchase connection and a new Checkout order.
pub fn checkout(h: &mut Harness) -> (ResourceAny, String) {
    let p = h.open("purchase");
    let id = h
        .publish(p, "checkout-orders", Method::Post, &[], Some(checkout_order()), None)
        .expect("checkout")
        .id
        .expect("id");
    (p, id)
}

/// A purchase connection, a payment session and an HPP session for it.
pub fn hpp_session(h: &mut Harness) -> (ResourceAny, String, String) {
    let (p, session_id) = session(h);
    let url = format!("https://api.playground.klarna.com/payments/v1/sessions/{session_id}");
    let hpp = h
        .publish(p, "hpp-sessions", Method::Post, &[], Some(json!({"payment_session_url": url})), None)
        .expect("hpp")
        .id
        .expect("id");
    (p, session_id, hpp)
}

/// A purchase connection and an active customer token.
pub fn customer_token(h: &mut Harness) -> (ResourceAny, String) {
    let (p, session_id) = session(h);
    let authorization = h.sim.authorize_session(&session_id).expect("authorized");
    let request = json!({"purchase_country": "DE", "purchase_currency": "EUR", "locale": "de-DE", "description": "Coffee subscription", "intended_use": "SUBSCRIPTION"});
    let token = h
        .publish(
            p,
            "payment-authorization-customer-tokens",
            Method::Post,
            &[("authorizationToken", &authorization)],
            Some(request),
            None,
        )
        .expect("token")
        .id
        .expect("token id");
    (p, token)
}

pub fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(text).expect("base64")
}

/// Captures `amount` of the order; returns the capture id.
pub fn capture(h: &mut Harness, om: ResourceAny, order_id: &str, amount: i64) -> String {
    h.publish(
        om,
        "order-captures",
        Method::Post,
        &[("order_id", order_id)],
        Some(json!({"captured_amount": amount})),
        None,
    )
    .expect("capture")
    .id
    .expect("Capture-Id")
}

/// A German order of three lines (one a zero-value voucher) that follows every rule.
pub fn session_order() -> Value {
    json!({
        "purchase_country": "DE", "purchase_currency": "EUR", "locale": "de-DE", "intent": "buy",
        "order_amount": 3800, "order_tax_amount": 607,
        "order_lines": [
            {"name": "Shirt", "quantity": 2, "unit_price": 1000, "total_discount_amount": 200, "total_amount": 1800, "tax_rate": 1900, "total_tax_amount": 287},
            {"name": "Shoes", "quantity": 1, "unit_price": 2000, "total_amount": 2000, "tax_rate": 1900, "total_tax_amount": 319},
            {"type": "discount", "name": "Voucher", "quantity": 1, "unit_price": 0, "total_amount": 0, "tax_rate": 1900, "total_tax_amount": 1}
        ]
    })
}

/// A purchase connection and a new payment session.
pub fn session(h: &mut Harness) -> (ResourceAny, String) {
    let p = h.open("purchase");
    let id = h
        .publish(p, "payment-sessions", Method::Post, &[], Some(session_order()), None)
        .expect("session")
        .id
        .expect("id");
    (p, id)
}
