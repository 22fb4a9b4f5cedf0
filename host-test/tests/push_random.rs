//! Random deliveries and answers through the component itself: whatever
//! arrives at a connection's public endpoint, `receive` and `respond` answer
//! with a result, never a trap (the native property tests in `tests/fuzz_push.rs`
//! check what the results are; this checks the WIT edge and the guest).
//! `PUSH_CASES` sets the number of cases (default 600).

use crate::common::{Harness, Rng};
use host_test::runtime::{IncomingRequest, Method};

const METHODS: [Method; 5] = [Method::Get, Method::Post, Method::Put, Method::Patch, Method::Delete];
const ROUTES: [&str; 12] = [
    "/network/notifications",
    "/auth",
    "/shipping-options",
    "/shipment",
    "/shipment/s%2F1/confirm",
    "/checkout/push",
    "/checkout/validation",
    "/checkout/address-update",
    "/payments/authorization",
    "/hpp/status-update",
    "/",
    "/%00/..",
];
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

#[test]
fn random_deliveries_and_answers_never_trap() {
    let cases: u64 = std::env::var("PUSH_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(600);
    let mut h = Harness::new();
    let mut purchase = crate::common::config("purchase");
    purchase.settings = crate::common::pairs(&[("callback_secret", "s3cret-s3cret-s3cret")]);
    let mut network = crate::common::config("network");
    network.settings = crate::common::pairs(&[("signing_keys", "k1=key-one k2=key-two")]);
    let mut shipping = crate::common::config("shipping-assistant");
    shipping.settings = crate::common::pairs(&[("public_url", crate::common::MOUNT)]);
    let connections = [
        h.try_open(&purchase).expect("open"),
        h.try_open(&network).expect("open"),
        h.try_open(&shipping).expect("open"),
    ];
    let mut rng = Rng::new(0x9a5e);
    let (mut answered, mut refused) = (0, 0);
    for _ in 0..cases {
        let connection = connections[rng.below(3) as usize];
        let query = text(&mut rng, &["?", "&", "token=", "s3cret-s3cret-s3cret", "order_id=", "%", "=", "a"], 6);
        let request = IncomingRequest {
            method: METHODS[rng.below(5) as usize],
            path: format!("{}{query}", ROUTES[rng.below(ROUTES.len() as u64) as usize]),
            headers: (0..rng.below(4))
                .map(|_| {
                    let names = ["Klarna-Signature", "klarna-signing-key-id", "Content-Type", "Authorization", ""];
                    let name = names[rng.below(5) as usize];
                    (name.to_string(), text(&mut rng, &["a", "0", "k1", "f", "\u{e9}", "Bearer ", "."], 70))
                })
                .collect(),
            body: text(&mut rng, &PIECES, 30).into_bytes(),
        };
        match h.instance.receive(connection, &request).expect("receive never traps") {
            Ok(_) => answered += 1,
            Err(_) => refused += 1,
        }
        let kinds = ["checkout.validation", "checkout.country_change", "checkout.push", "shipping.shipment_update", ""];
        let kind = kinds[rng.below(5) as usize];
        let answer = text(&mut rng, &PIECES, 20);
        let _ = h.instance.respond(connection, kind, &answer).expect("respond never traps");
    }
    println!("{cases} random deliveries: {answered} answered, {refused} refused; no trap");
    assert_eq!(answered + refused, cases);
}
