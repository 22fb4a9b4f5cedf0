//! Seeded random fault schedules over many publish sequences: the Klarna-side
//! state after a faulty run equals the state after a fault-free run, so no
//! money ever moves twice; and paging under faults returns every record once.

use std::collections::BTreeSet;

use crate::common::{Harness, Rng};
use host_test::runtime::{ConnectorError, Method};
use host_test::sim::{Fault, SimResponse, Simulator};
use serde_json::{json, Value};

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
    match rng.below(8) {
        0 => Fault::RateLimited { retry_after_s: 0 },
        1 => Fault::ServerTimeout,
        2 => Fault::ApplyThenServerTimeout,
        3 => Fault::ServiceUnavailable,
        4 => Fault::ConnectionError,
        5 => Fault::ApplyThenConnectionError,
        6 => Fault::Timeout,
        _ => Fault::Answer(SimResponse {
            status: 502,
            headers: vec![("Content-Type".into(), "text/html".into())],
            body: b"<html><body>502 Bad Gateway</body></html>".to_vec(),
        }),
    }
}

/// What a run leaves behind at Klarna, and what each operation answered.
fn run(seed: u64, faulty: bool) -> (String, Vec<String>) {
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
    (state, outcomes)
}

#[test]
fn faulty_runs_end_in_the_same_state_as_fault_free_runs() {
    let base = std::env::var("FAULT_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5eed_0000u64);
    let mut faults_seen = 0;
    for seed in base..base + sequences() {
        let clean = run(seed, false);
        let faulty = run(seed, true);
        assert_eq!(faulty, clean, "seed {seed} (replay with FAULT_SEED={seed} FAULT_SEQUENCES=1)");
        faults_seen += 1;
    }
    assert_eq!(faults_seen, sequences());
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
