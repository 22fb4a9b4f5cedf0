//! Random deliveries and answers through the component itself: whatever
//! arrives at a connection's public endpoint, `receive` answers with a result,
//! never a trap, and a refusal is a case a host can answer; every route of
//! connector.json is sent to. Every answer form of every callback that takes
//! one is rendered with its status, and a broken answer is refused naming the
//! answer. `PUSH_CASES` sets the number of cases (default 600); the test fails
//! when a route or an answer form was never reached.

use std::collections::BTreeMap;

use crate::common::{Harness, Rng};
use host_test::runtime::{ConnectorError, IncomingRequest, Method};
use klarna_connector::manifest::{AnswerForm, Manifest};
use serde_json::{json, Value};

const METHODS: [Method; 5] = [Method::Get, Method::Post, Method::Put, Method::Patch, Method::Delete];
const PIECES: [&str; 15] = [
    "\"identifier\":\"tms\",",
    "\"secret\":{\"nonce\":\"n\",\"digest\":",
    "\"8C3891B3162DB3AB61A9B2DA74E6A479553ABA897894E5236ED290C11A0B832B\"",
    "{",
    "}",
    "\"metadata\":",
    "{\"event_type\":\"x\",\"event_id\":\"1\"}",
    "\"order_amount\":",
    "1",
    "[",
    "]",
    ",",
    "\u{1F600}",
    "\\u0000",
    "null",
];

fn text(rng: &mut Rng, pieces: &[&str], most: u64) -> String {
    (0..rng.below(most)).map(|_| pieces[rng.below(pieces.len() as u64) as usize]).collect()
}

/// Every route of connector.json's callbacks (a `{name}` filled), and two that are none.
fn routes() -> Vec<String> {
    let mut routes: Vec<String> =
        Manifest::get().callbacks.iter().map(|c| c.route.replace("{shipment_id}", "s%2F1")).collect();
    routes.extend(["/".to_string(), "/%00/..".to_string()]);
    routes
}

/// A valid answer of `form` (as Klarna's callback API and the Shipping Service take it).
fn valid_answer(form: AnswerForm) -> Value {
    let mut order = crate::scenarios::session_order();
    order.as_object_mut().map(|o| o.remove("intent"));
    match form {
        AnswerForm::Approve => json!({"approve": true}),
        AnswerForm::Redirect => json!({"redirect": "https://shop.example/klarna/sorry"}),
        AnswerForm::Error => json!({"error": {"error_type": "address_error", "error_text": "We do not ship there."}}),
        AnswerForm::Order => json!({ "order": order }),
        AnswerForm::Options => json!({"options": {"shipping_options": [{"id": "home", "name": "Home delivery"}]}}),
        AnswerForm::Reservation => json!({"reservation": {"shipment_id": "ship-7", "tms_reference": "r-7"}}),
        AnswerForm::Failure => json!({"failure_reason": "No carrier serves this address."}),
    }
}

/// The status a rendered answer of `form` has, for a callback with `answer_status`.
fn status_of(form: AnswerForm, answer_status: Option<u16>) -> u16 {
    match form {
        AnswerForm::Redirect => 303,
        AnswerForm::Error | AnswerForm::Failure => 400,
        AnswerForm::Options | AnswerForm::Reservation => answer_status.unwrap_or(200),
        AnswerForm::Approve | AnswerForm::Order => 200,
    }
}

#[test]
fn random_deliveries_and_answers_are_answered_or_refused_as_the_contract_says() {
    let cases: u64 = std::env::var("PUSH_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(600);
    let mut h = Harness::new();
    let mut purchase = crate::common::config("purchase");
    purchase.settings = crate::common::pairs(&[("callback_secret", "s3cret-s3cret-s3cret")]);
    let mut network = crate::common::config("network");
    network.settings = crate::common::pairs(&[("signing_keys", "k1=key-one k2=key-two")]);
    let mut shipping = crate::common::config("shipping-assistant");
    shipping.settings = crate::common::pairs(&[("public_url", crate::common::MOUNT)]);
    let connections = [
        ("purchase", h.try_open(&purchase).expect("open")),
        ("network", h.try_open(&network).expect("open")),
        ("shipping-assistant", h.try_open(&shipping).expect("open")),
    ];
    let routes = routes();
    let answerable: Vec<_> = Manifest::get().callbacks.iter().filter(|c| !c.answers.is_empty()).collect();
    let mut rng = Rng::new(0x9a5e);
    let mut reached: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut forms: BTreeMap<&str, u64> = BTreeMap::new();
    let mut broken_refused = 0;
    for _ in 0..cases {
        let (_, connection) = connections[rng.below(3) as usize];
        let query = text(&mut rng, &["?", "&", "token=", "s3cret-s3cret-s3cret", "order_id=", "%", "=", "a"], 6);
        let route = &routes[rng.below(routes.len() as u64) as usize];
        let request = IncomingRequest {
            method: METHODS[rng.below(5) as usize],
            path: format!("{route}{query}"),
            headers: (0..rng.below(4))
                .map(|_| {
                    let names = ["Klarna-Signature", "klarna-signing-key-id", "Content-Type", "Authorization", ""];
                    let name = names[rng.below(5) as usize];
                    (name.to_string(), text(&mut rng, &["a", "0", "k1", "f", "\u{e9}", "Bearer ", "."], 70))
                })
                .collect(),
            body: text(&mut rng, &PIECES, 30).into_bytes(),
        };
        let row = reached.entry(route.clone()).or_default();
        match h.instance.receive(connection, &request).expect("receive never traps") {
            Ok(delivery) => {
                row.0 += 1;
                assert!(delivery.reply.is_some() || !delivery.events.is_empty(), "{request:?}: an empty delivery");
            }
            Err(
                ConnectorError::InvalidInput(_) | ConnectorError::Unauthorized(_) | ConnectorError::InvalidConfig(_),
            ) => row.1 += 1,
            Err(other) => panic!("{:?} {}: a refusal no host can answer: {other:?}", request.method, request.path),
        }
        // An answer to a callback that takes one, on its own connection: valid or broken.
        let callback = answerable[rng.below(answerable.len() as u64) as usize];
        let own = connections.iter().find(|(api, _)| *api == callback.api_type.as_str()).expect("a connection").1;
        let form = callback.answers[rng.below(callback.answers.len() as u64) as usize];
        let broken = rng.below(3) == 0;
        let answer = if broken { text(&mut rng, &PIECES, 20) } else { valid_answer(form).to_string() };
        match (h.instance.respond(own, callback.kind, &answer).expect("respond never traps"), broken) {
            (Ok(reply), false) => {
                assert_eq!(reply.status, status_of(form, callback.answer_status), "{} {answer}", callback.kind);
                *forms.entry(form.key()).or_default() += 1;
            }
            (Err(ConnectorError::InvalidInput(m)), true) => {
                assert!(m.starts_with("answer"), "{}: {m}", callback.kind);
                broken_refused += 1;
            }
            (other, broken) => panic!("{} {answer} (broken: {broken}): {other:?}", callback.kind),
        }
    }
    println!("{cases} deliveries, per route (answered, refused): {reached:?}");
    println!("answers rendered per form: {forms:?}; broken answers refused: {broken_refused}");
    let missing: Vec<_> = routes.iter().filter(|r| !reached.contains_key(*r)).collect();
    assert!(missing.is_empty(), "routes never sent: {missing:?}");
    let every_form: Vec<AnswerForm> = answerable.iter().flat_map(|c| c.answers.iter().copied()).collect();
    let unrendered: Vec<_> = every_form.iter().filter(|f| !forms.contains_key(f.key())).map(|f| f.key()).collect();
    assert!(unrendered.is_empty(), "answer forms never rendered: {unrendered:?}");
    assert!(broken_refused > 0, "no broken answer was tried");
}
