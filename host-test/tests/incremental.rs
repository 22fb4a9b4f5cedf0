//! Incremental reads through the component (#30): a sync reads only what
//! changed since the state the last one ended with, plus the look-back
//! window; a state of another read is refused naming `since`, and a state
//! carries no credential. A property over random schedules (payouts that
//! settle day by day, late ones, disputes that change, syncs at random times
//! with pages of random size) holds every incremental read to a full read at
//! the end, and each read to its window.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::common::{Harness, Rng};
use host_test::runtime::ConnectorError;

/// A sync's state, with its body decoded: what a host stores.
fn decoded(state: &str) -> String {
    let body = state.split('.').nth(1).unwrap_or_default();
    String::from_utf8(base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(body).unwrap_or_default())
        .unwrap_or_default()
}

#[test]
fn a_state_of_another_read_or_an_edited_one_is_refused_naming_since() {
    let mut h = Harness::new();
    let st = h.open("settlements");
    let (_, payouts) = h.sync(st, "payouts", &[], None, 20).expect("payouts");
    let (_, eur) = h.sync(st, "payouts", &[("currency_code", "EUR")], None, 20).expect("EUR payouts");
    let (_, children) = h.sync(st, "payout-transactions", &[], None, 500).expect("transactions");
    let d = h.open("disputes");
    let (_, disputes) = h.sync(d, "disputes", &[], None, 50).expect("disputes");
    let (head, rest) = payouts.split_once('.').expect("parts");
    let (body, check) = rest.split_once('.').expect("parts");
    let edited_body =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(decoded(&payouts).replace("2026", "2025").as_bytes());
    let cases = [
        ("disputes", disputes.clone(), "payouts", vec![], "a state of entity disputes"),
        ("payout-transactions", children, "payouts", vec![], "a state of entity payout-transactions"),
        ("other parameters", eur, "payouts", vec![], "other parameters"),
        (
            "the same read with a filter added",
            payouts.clone(),
            "payouts",
            vec![("currency_code", "SEK")],
            "other parameters",
        ),
        ("an edited date", format!("{head}.{edited_body}.{check}"), "payouts", vec![], "edited or cut"),
        ("a cut one", payouts[..payouts.len() - 3].to_string(), "payouts", vec![], "edited or cut"),
        ("another version", format!("s2.{body}.{check}"), "payouts", vec![], "version 2"),
        ("a date", "2026-01-01".to_string(), "payouts", vec![], "not one this connector wrote"),
        ("a cursor", format!("c1.{body}.{check}"), "payouts", vec![], "not one this connector wrote"),
        ("a state for a full-read entity", payouts.clone(), "transactions", vec![], "not read incrementally"),
    ];
    for (what, since, entity, query, why) in cases {
        let query: Vec<(&str, &str)> = query;
        let connection = if entity == "disputes" { d } else { st };
        match h.sync(connection, entity, &query, Some(since), 20) {
            Err(ConnectorError::InvalidInput(m)) => assert!(m.starts_with("since: ") && m.contains(why), "{what}: {m}"),
            other => panic!("{what}: expected invalid-input naming since, got {other:?}"),
        }
    }
    assert!(h.sync(st, "payouts", &[], Some(payouts), 20).is_ok(), "the state itself is taken");
}

#[test]
fn a_state_holds_no_credential() {
    let mut h = Harness::new();
    let st = h.open("settlements");
    let (_, state) = h.sync(st, "payouts", &[("currency_code", "EUR")], None, 3).expect("payouts");
    let page = h.subscribe(st, "payout-transactions", &[], &[], None, Some(5)).expect("a page");
    let cursor = page.next_cursor.expect("a cursor");
    for text in [state.clone(), decoded(&state), cursor.clone(), decoded(&cursor)] {
        crate::common::assert_no_leak(
            &text,
            host_test::sim::USERNAME,
            &[host_test::sim::PASSWORD, host_test::sim::USERNAME],
        );
        assert!(!text.contains("EUR"), "parameters are kept as a digest only: {text}");
    }
    assert!(decoded(&state).contains("\"high\":\"2026-01-14T10:00:00Z\""), "{}", decoded(&state));
}

/// One step of a schedule.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// A day passes and Klarna settles a payout of `n` transactions today.
    Settle(usize),
    /// A payout dated `days` before today appears (late), with `n` transactions.
    Late(i64, usize),
    /// A dispute changes state.
    Dispute(usize),
    /// Hours pass.
    Wait(i64),
    /// The host syncs, in pages of this size.
    Sync(u32),
}

fn schedule(rng: &mut Rng) -> Vec<Step> {
    (0..4 + rng.below(10))
        .map(|_| match rng.below(6) {
            0 | 1 => Step::Settle(1 + rng.below(9) as usize),
            2 => Step::Late(1 + rng.below(6) as i64, 1 + rng.below(5) as usize),
            3 => Step::Dispute(rng.below(45) as usize),
            4 => Step::Wait(1 + rng.below(72) as i64),
            _ => Step::Sync(1 + rng.below(60) as u32),
        })
        .chain([Step::Sync(25)])
        .collect()
}

/// The entities a schedule syncs, each with its key fields, its incremental
/// field (the parent's for a child) and its look-back window in days.
const SYNCED: [(&str, &str, &[&str], &str, i64); 3] = [
    ("settlements", "payouts", &["payment_reference"], "payout_date", 7),
    ("settlements", "payout-transactions", &["payment_reference", "capture_id"], "payment_reference", 7),
    ("disputes", "disputes", &["payment_dispute_id"], "updated_at", 3),
];

fn key(record: &Value, fields: &[&str]) -> String {
    fields.iter().map(|f| record[*f].to_string()).collect::<Vec<_>>().join("|")
}

fn at(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

#[test]
fn incremental_reads_over_random_schedules_miss_nothing_and_stay_in_their_window() {
    let cases: u64 = std::env::var("SYNC_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(40);
    let mut reached: BTreeMap<&str, u64> = BTreeMap::new();
    for seed in 0..cases {
        let mut rng = Rng::new(0x51ac_0000 + seed);
        let mut h = Harness::new();
        let st = h.open("settlements");
        let d = h.open("disputes");
        let steps = schedule(&mut rng);
        let mut states: BTreeMap<&str, String> = BTreeMap::new();
        let mut seen: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for step in &steps {
            match *step {
                Step::Settle(n) => {
                    h.sim.advance(86_400);
                    h.sim.settle(0, n);
                    *reached.entry("new payouts").or_default() += 1;
                }
                Step::Late(days, n) => {
                    h.sim.settle(days, n);
                    *reached.entry("late payouts").or_default() += 1;
                }
                Step::Dispute(which) => {
                    let ids = h.sim.dispute_ids();
                    h.sim
                        .change_dispute(&ids[which % ids.len()], ["REPRESENTMENT", "CLOSED", "ARBITRATION"][which % 3]);
                    *reached.entry("dispute changes").or_default() += 1;
                }
                Step::Wait(hours) => h.sim.advance(hours * 3600),
                Step::Sync(page_size) => {
                    for (api, entity, fields, field, lookback) in SYNCED {
                        let connection = if api == "disputes" { d } else { st };
                        let since = states.get(entity).cloned();
                        let previous_high = since
                            .as_deref()
                            .map(decoded)
                            .and_then(|s| serde_json::from_str::<Value>(&s).ok()?["high"].as_str().and_then(at));
                        let (records, state) = h
                            .sync(connection, entity, &[], since.clone(), page_size)
                            .unwrap_or_else(|e| panic!("seed {seed} {entity}: {e:?}"));
                        // Each incremental read stays in its window: nothing older than the last high less the look-back.
                        if let Some(high) = previous_high {
                            let start = high - time::Duration::days(lookback);
                            for record in &records {
                                let date = if entity == "payout-transactions" {
                                    let payout = h
                                        .read(
                                            st,
                                            "payout",
                                            &[(
                                                "payment_reference",
                                                record["payment_reference"].as_str().unwrap_or_default(),
                                            )],
                                        )
                                        .expect("its payout");
                                    payout["payout_date"].as_str().and_then(at)
                                } else {
                                    record[field].as_str().and_then(at)
                                };
                                assert!(
                                    date.is_some_and(|d| d >= start),
                                    "seed {seed}: {entity} read {record} before its window starting {start}"
                                );
                            }
                            *reached.entry("incremental reads").or_default() += 1;
                        } else {
                            *reached.entry("first reads").or_default() += 1;
                        }
                        seen.entry(entity).or_default().extend(records.iter().map(|r| key(r, fields)));
                        states.insert(entity, state);
                    }
                }
            }
        }
        // Every record a full read returns now was in an incremental read.
        for (api, entity, fields, _, _) in SYNCED {
            let connection = if api == "disputes" { d } else { st };
            let (full, _) = h.sync(connection, entity, &[], None, 100).expect("a full read");
            let union = seen.get(entity).cloned().unwrap_or_default();
            let missed: Vec<String> = full.iter().map(|r| key(r, fields)).filter(|k| !union.contains(k)).collect();
            assert!(missed.is_empty(), "seed {seed}: {entity}: the syncs missed {missed:?} ({steps:?})");
            // Disputes that changed are read in their new state.
            if entity == "disputes" {
                *reached.entry("full reads compared").or_default() += 1;
            }
        }
    }
    println!("{cases} schedules; reached: {reached:?}");
    for step in
        ["new payouts", "late payouts", "dispute changes", "first reads", "incremental reads", "full reads compared"]
    {
        assert!(reached.get(step).copied().unwrap_or(0) > 0, "no schedule reached {step}");
    }
}

/// The days between a record's date and `newest`, the newest date of a read.
fn days_before(newest: OffsetDateTime, record: &Value, field: &str) -> i64 {
    let at = record[field].as_str().and_then(at).expect("a date");
    (newest - at).whole_days()
}

/// What a host sees, step by step: the first sync returns all and a state;
/// with nothing new, only the look-back window; new payouts come with the
/// window, so do their transactions; an updated dispute comes with its
/// window, never the whole history.
#[test]
fn each_sync_reads_what_is_new_plus_its_window_and_never_the_whole_history() {
    let mut h = Harness::new();
    let st = h.open("settlements");
    let ids = |records: &[Value], field: &str| -> BTreeSet<String> {
        records.iter().filter_map(|r| r[field].as_str().map(str::to_string)).collect()
    };

    let (all, state) = h.sync(st, "payouts", &[], None, 5).expect("first sync");
    assert_eq!(all.len(), 13, "the first sync returns every payout");
    let (quiet, state) = h.sync(st, "payouts", &[], Some(state), 5).expect("nothing new");
    let newest = all.iter().filter_map(|r| r["payout_date"].as_str().and_then(at)).max().expect("dates");
    assert!(quiet.len() < all.len(), "not the whole history: {}", quiet.len());
    assert!(quiet.iter().all(|r| days_before(newest, r, "payout_date") <= 7), "only the 7-day window");

    h.sim.advance(2 * 86_400);
    let new = [h.sim.settle(0, 3), h.sim.settle(0, 2)];
    let (after, _) = h.sync(st, "payouts", &[], Some(state), 5).expect("new payouts");
    let read = ids(&after, "payment_reference");
    assert!(new.iter().all(|n| read.contains(n)), "the new payouts");
    // The window reaches back 7 days from the newest payout the state had seen.
    assert!(after.iter().all(|r| days_before(newest, r, "payout_date") <= 7), "plus the window only");
    assert_eq!(after.len(), quiet.len() + new.len());

    let (transactions, state) = h.sync(st, "payout-transactions", &[], None, 50).expect("first sync");
    let fresh = h.sim.settle(0, 4);
    let (more, _) = h.sync(st, "payout-transactions", &[], Some(state), 50).expect("new transactions");
    let of_fresh = more.iter().filter(|t| t["payment_reference"] == fresh.as_str()).count();
    assert_eq!(of_fresh, 4, "the new payout's transactions");
    assert!(more.len() < transactions.len() + 4, "not every payout's transactions again");

    // Disputes: the seeded ones all changed on one day, so the first incremental read's window
    // holds them all; ten days and a change later, only that change and its window come.
    let d = h.open("disputes");
    let (disputes, state) = h.sync(d, "disputes", &[], None, 50).expect("first sync");
    let ids_now = h.sim.dispute_ids();
    h.sim.advance(10 * 86_400);
    assert!(h.sim.change_dispute(&ids_now[0], "CLOSED"));
    let (first_change, state) = h.sync(d, "disputes", &[], Some(state), 50).expect("a change");
    assert!(ids(&first_change, "payment_dispute_id").contains(&ids_now[0]));
    h.sim.advance(10 * 86_400);
    assert!(h.sim.change_dispute(&ids_now[1], "REPRESENTMENT"));
    let (updated, _) = h.sync(d, "disputes", &[], Some(state), 50).expect("updated disputes");
    assert_eq!(
        ids(&updated, "payment_dispute_id"),
        BTreeSet::from([ids_now[0].clone(), ids_now[1].clone()]),
        "the updated dispute and the one inside its window, never the {} of the history",
        disputes.len()
    );
}
