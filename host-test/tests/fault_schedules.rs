//! Seeded random fault schedules over many publish sequences:
//! - Order Management writes (`key`): the Klarna-side state after a faulty
//!   run equals the state after a fault-free run, so no money moves twice;
//! - creates whose resend may act twice (`none`: sessions, Checkout orders,
//!   HPP sessions, card promises and settlements): never sent again after an
//!   attempt that may have reached Klarna, at most one resource per publish,
//!   and every `outcome-unknown` names a way to check;
//! - paging under faults returns every record once, an incremental read's too.
//!
//! Each test counts the faults the simulator actually injected, by kind, and
//! fails unless every kind hit a write (or a read) at least once.

use std::collections::{BTreeMap, BTreeSet};

use crate::common::{Harness, Rng};
use host_test::runtime::{ConnectorError, Method};
use host_test::sim::{Fault, Received, SimResponse, Simulator};
use serde_json::{json, Value};

/// Every kind of fault [`random_fault`] makes.
const KINDS: [&str; 10] = [
    "rate_limited",
    "server_timeout",
    "apply_then_server_timeout",
    "service_unavailable",
    "connection_error",
    "apply_then_connection_error",
    "timeout",
    "apply_then_timeout",
    "connect_refused",
    "answer",
];

/// The faults injected into writes (POST, PATCH) among `received`, by kind.
fn faults_on_writes(received: &[Received], tally: &mut BTreeMap<&'static str, u64>) {
    for r in received.iter().filter(|r| matches!(r.method.as_str(), "POST" | "PATCH")) {
        if let Some(kind) = r.fault {
            *tally.entry(kind).or_default() += 1;
        }
    }
}

/// Fails unless every kind of fault was injected into a request at least once.
fn every_kind_hit(tally: &BTreeMap<&'static str, u64>, what: &str) {
    let missing: Vec<_> = KINDS.iter().filter(|k| tally.get(*k).copied().unwrap_or(0) == 0).collect();
    println!("faults injected into {what}, by kind: {tally:?}");
    assert!(missing.is_empty(), "no fault of kind {missing:?} hit {what}");
}

/// Sequences per run; `FAULT_SEQUENCES` raises it.
fn sequences() -> u64 {
    std::env::var("FAULT_SEQUENCES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000)
}

#[derive(Clone, Debug)]
struct Op {
    entity: &'static str,
    payload: Option<Value>,
    key: Option<String>,
}

fn plan(rng: &mut Rng, seed: u64) -> (i64, Vec<Op>) {
    let amount = 5_000 + rng.below(45_000) as i64;
    let ops = (0..3 + rng.below(6))
        .map(|i| {
            let (entity, payload) = match rng.below(6) {
                0 | 1 => ("order-captures", Some(json!({"captured_amount": 1 + rng.below(amount as u64 / 2) as i64}))),
                2 => ("order-refunds", Some(json!({"refunded_amount": 1 + rng.below(amount as u64 / 3) as i64}))),
                3 => ("order-cancel", None),
                4 => ("order-release-remaining-authorization", None),
                _ => ("order-extend-authorization-time", None),
            };
            // Half the sequences let the connector derive keys, half bring their own.
            let key = seed.is_multiple_of(2).then(|| format!("s{seed}-op{i}"));
            Op { entity, payload, key }
        })
        .collect();
    (amount, ops)
}

fn random_fault(rng: &mut Rng) -> Fault {
    match rng.below(10) {
        0 => Fault::RateLimited { retry_after_s: 0 },
        1 => Fault::ServerTimeout,
        2 => Fault::ApplyThenServerTimeout,
        3 => Fault::ServiceUnavailable,
        4 => Fault::ConnectionError,
        5 => Fault::ApplyThenConnectionError,
        6 => Fault::Timeout,
        7 => Fault::ApplyThenTimeout,
        8 => Fault::ConnectRefused,
        _ => Fault::Answer(SimResponse {
            status: 502,
            headers: vec![("Content-Type".into(), "text/html".into())],
            body: b"<html><body>502 Bad Gateway</body></html>".to_vec(),
        }),
    }
}

/// What a run leaves behind at Klarna, and what each operation answered
/// (the faults it injected are added to `tally`).
fn run(seed: u64, faulty: bool, tally: &mut BTreeMap<&'static str, u64>) -> (String, Vec<String>) {
    let mut rng = Rng::new(seed);
    let (amount, ops) = plan(&mut rng, seed);
    let mut fault_rng = Rng::new(seed ^ 0xfa17);
    let mut h = Harness::with_simulator(Simulator::new(0));
    let mut config = crate::common::config("post-purchase");
    config.settings = crate::common::pairs(&[("retry_delay_ms", "0")]);
    let om = h.try_open(&config).expect("open");
    let order_id = h.order(amount);
    let mut outcomes = vec![];
    for op in &ops {
        if faulty {
            let count = fault_rng.below(4);
            h.sim.inject((0..count).map(|_| random_fault(&mut fault_rng)));
        }
        // The host re-publishes the same record while the failure is transient.
        let mut outcome = None;
        for _ in 0..8 {
            match h.publish(
                om,
                op.entity,
                Method::Post,
                &[("order_id", &order_id)],
                op.payload.clone(),
                op.key.as_deref(),
            ) {
                Ok(r) => outcome = Some(format!("ok {}", r.status)),
                Err(ConnectorError::Unavailable(_) | ConnectorError::RateLimited(_) | ConnectorError::Transport(_)) => {
                    continue
                }
                Err(ConnectorError::Rejected(e)) => outcome = Some(format!("rejected {}", e.code.unwrap_or_default())),
                Err(other) => panic!("seed {seed}: unexpected {other:?}"),
            }
            break;
        }
        outcomes.push(outcome.unwrap_or_else(|| panic!("seed {seed}: {op:?} never got through")));
    }
    let o = h.sim.order(&order_id).expect("order");
    let captures: Vec<i64> = o.captures.iter().map(|c| c.captured_amount).collect();
    let refunds: Vec<i64> = o.refunds.iter().map(|r| r.refunded_amount).collect();
    assert!(
        o.captured_amount() <= o.order_amount && o.refunded_amount() <= o.captured_amount(),
        "seed {seed}: money invariant"
    );
    let state = format!(
        "{:?} captured {} {captures:?} refunded {} {refunds:?} released {} expires {}",
        o.status,
        o.captured_amount(),
        o.refunded_amount(),
        o.released,
        o.expires_at - o.created_at
    );
    faults_on_writes(&h.sim.received(), tally);
    (state, outcomes)
}

fn base_seed() -> u64 {
    std::env::var("FAULT_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5eed_0000u64)
}

#[test]
fn faulty_runs_end_in_the_same_state_as_fault_free_runs() {
    let mut tally = BTreeMap::new();
    for seed in base_seed()..base_seed() + sequences() {
        let clean = run(seed, false, &mut BTreeMap::new());
        let faulty = run(seed, true, &mut tally);
        assert_eq!(faulty, clean, "seed {seed} (replay with FAULT_SEED={seed} FAULT_SEQUENCES=1)");
    }
    every_kind_hit(&tally, "Order Management writes");
}

/// A create whose resend may act twice, and how to count what it made.
const CREATES: [(&str, &str); 5] = [
    ("payment-sessions", "purchase"),
    ("checkout-orders", "purchase"),
    ("hpp-sessions", "purchase"),
    ("card-promises", "post-purchase"),
    ("card-settlements", "post-purchase"),
];

/// The count of `entity`'s resources at the simulator.
fn count(sim: &Simulator, entity: &str) -> usize {
    let r = sim.resources();
    match entity {
        "payment-sessions" => r.payment_sessions,
        "checkout-orders" => r.checkout_orders,
        "hpp-sessions" => r.hpp_sessions,
        "card-promises" => r.card_promises,
        _ => r.card_settlements,
    }
}

/// A valid payload for a create of `entity` (a card settlement settles a
/// promise made for it first, outside the faults).
fn create_payload(h: &mut Harness, entity: &str, om: wasmtime::component::ResourceAny) -> Value {
    match entity {
        "payment-sessions" => crate::scenarios::session_order(),
        "checkout-orders" => crate::scenarios::checkout_order(),
        "hpp-sessions" => {
            let (_, session_id) = crate::scenarios::session(h);
            json!({"payment_session_url": format!("https://api.playground.klarna.com/payments/v1/sessions/{session_id}")})
        }
        "card-promises" => {
            let order_id = h.order(10_000);
            json!({"order_id": order_id, "cards": [{"amount": 6000, "currency": "EUR", "reference": "hotel-1"}]})
        }
        _ => {
            let order_id = h.order(10_000);
            let promise_id = crate::scenarios::card_promise(h, om, &order_id);
            json!({"order_id": order_id, "promise_id": promise_id, "key_id": "sim-key-1"})
        }
    }
}

/// Whether an attempt surely did not reach Klarna (then a resend is safe).
fn surely_not_arrived(r: &Received) -> bool {
    matches!(r.fault, Some("rate_limited" | "connect_refused"))
}

#[test]
fn a_write_whose_resend_may_act_twice_is_never_sent_twice_and_makes_one_resource_at_most() {
    let mut tally = BTreeMap::new();
    let mut outcomes: BTreeMap<&str, u64> = BTreeMap::new();
    for seed in base_seed()..base_seed() + sequences() {
        let mut rng = Rng::new(seed);
        let mut h = Harness::with_simulator(Simulator::new(0));
        let settings = crate::common::pairs(&[("retry_delay_ms", "0")]);
        let purchase = h
            .try_open(&host_test::runtime::ConnectionConfig {
                settings: settings.clone(),
                ..crate::common::config("purchase")
            })
            .expect("open");
        let om = h
            .try_open(&host_test::runtime::ConnectionConfig { settings, ..crate::common::config("post-purchase") })
            .expect("open");
        for _ in 0..2 + rng.below(4) {
            let (entity, api_type) = CREATES[rng.below(CREATES.len() as u64) as usize];
            let connection = if api_type == "purchase" { purchase } else { om };
            let payload = create_payload(&mut h, entity, om);
            let (before, made_before) = (h.sim.received().len(), count(&h.sim, entity));
            h.sim.inject((0..rng.below(4)).map(|_| random_fault(&mut rng)));
            // The host publishes the record again while the failure says nothing was done;
            // never after `outcome-unknown`.
            let mut outcome = "gave up";
            for _ in 0..6 {
                match h.publish(connection, entity, Method::Post, &[], Some(payload.clone()), None) {
                    Ok(_) => outcome = "ok",
                    Err(ConnectorError::OutcomeUnknown(m)) => {
                        assert!(m.contains("To find out: "), "seed {seed}: {entity}: no way to check: {m}");
                        outcome = "outcome unknown";
                    }
                    Err(ConnectorError::RateLimited(_) | ConnectorError::Transport(_)) => continue,
                    Err(other) => panic!("seed {seed}: {entity}: {other:?}"),
                }
                break;
            }
            h.sim.clear_faults();
            *outcomes.entry(outcome).or_default() += 1;
            let sent: Vec<Received> =
                h.sim.received().into_iter().skip(before).filter(|r| r.method == "POST").collect();
            let made = count(&h.sim, entity) - made_before;
            let at = format!("seed {seed} (FAULT_SEED={seed} FAULT_SEQUENCES=1): {entity} {outcome}");
            assert!(made <= 1, "{at}: {made} resources for one publish");
            assert_eq!(made == 1, outcome == "ok" || sent.iter().any(|r| r.applied), "{at}");
            if let Some((_, earlier)) = sent.split_last() {
                assert!(
                    earlier.iter().all(surely_not_arrived),
                    "{at}: sent again after an attempt that may have arrived: {:?}",
                    sent.iter().map(|r| r.fault).collect::<Vec<_>>()
                );
            }
            faults_on_writes(&sent, &mut tally);
        }
    }
    println!("outcomes of the none creates: {outcomes:?}");
    assert!(outcomes.get("outcome unknown").copied().unwrap_or(0) > 0 && outcomes.get("ok").copied().unwrap_or(0) > 0);
    every_kind_hit(&tally, "writes whose resend may act twice");
}

#[test]
fn paging_under_faults_returns_every_record_exactly_once() {
    for seed in 0..20u64 {
        let mut rng = Rng::new(seed);
        let mut h = Harness::with_simulator(Simulator::new(1_234));
        let mut config = crate::common::config("settlements");
        config.settings = crate::common::pairs(&[("retry_delay_ms", "0")]);
        let st = h.try_open(&config).expect("open");
        let mut seen = BTreeSet::new();
        let mut total = 0;
        let mut cursor = None;
        loop {
            h.sim.inject((0..rng.below(3)).map(|_| random_fault(&mut rng)));
            let page = match h.subscribe(st, "transactions", &[], &[], cursor.clone(), Some(97)) {
                Ok(page) => page,
                Err(ConnectorError::Unavailable(_) | ConnectorError::RateLimited(_) | ConnectorError::Transport(_)) => {
                    continue
                }
                Err(other) => panic!("seed {seed}: {other:?}"),
            };
            for record in &page.records {
                let record: Value = serde_json::from_str(record).expect("json");
                seen.insert(record["capture_id"].as_str().expect("id").to_string());
                total += 1;
            }
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        assert_eq!((total, seen.len()), (1_234, 1_234), "seed {seed}");
    }
}
