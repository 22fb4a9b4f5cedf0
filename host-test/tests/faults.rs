//! Injected faults: lost responses, 429, 5xx, timeouts and broken connections.

use crate::common::Harness;
use host_test::runtime::{ConnectorError, Method};
use host_test::sim::Fault;
use serde_json::json;

#[test]
fn a_capture_whose_response_is_lost_is_applied_exactly_once() {
    for fault in [Fault::ApplyThenServerTimeout, Fault::ApplyThenConnectionError] {
        let mut h = Harness::new();
        let om = h.open("post-purchase");
        let order_id = h.order(10_000);
        h.sim.inject([fault.clone()]);
        let result = h
            .publish(
                om,
                "order-captures",
                Method::Post,
                &[("order_id", &order_id)],
                Some(json!({"captured_amount": 3000})),
                None,
            )
            .expect("the retry gets Klarna's first answer");
        let order = h.sim.order(&order_id).expect("order");
        assert_eq!(order.captures.len(), 1, "{fault:?}");
        assert_eq!(result.id.as_deref(), Some(order.captures[0].capture_id.as_str()));
        assert_eq!(h.sim.received().len(), 2, "one retry");
        // A host that re-publishes the same record later gets the same capture, too.
        h.publish(
            om,
            "order-captures",
            Method::Post,
            &[("order_id", &order_id)],
            Some(json!({"captured_amount": 3000})),
            None,
        )
        .expect("replay");
        assert_eq!(h.sim.order(&order_id).expect("order").captures.len(), 1);
    }
}

#[test]
fn transient_failures_are_retried_then_succeed() {
    let faults = [
        Fault::RateLimited { retry_after_s: 0 },
        Fault::ServerTimeout,
        Fault::ServiceUnavailable,
        Fault::ConnectionError,
        Fault::Timeout,
    ];
    for fault in faults {
        let mut h = Harness::new();
        let st = h.open("settlements");
        h.sim.inject([fault.clone()]);
        let page = h.subscribe(st, "payouts", &[], &[], None, Some(2)).unwrap_or_else(|e| panic!("{fault:?}: {e:?}"));
        assert_eq!(page.records.len(), 2, "{fault:?}");
        assert_eq!(h.sim.received().len(), 2, "{fault:?}: one retry");
    }
}

#[test]
fn retries_stop_at_the_attempt_limit() {
    let mut h = Harness::new();
    let st = h.open("settlements");
    h.sim.inject([Fault::ServerTimeout, Fault::ServerTimeout, Fault::ServerTimeout, Fault::ServerTimeout]);
    match h.subscribe(st, "payouts", &[], &[], None, None) {
        Err(ConnectorError::Unavailable(e)) => {
            assert_eq!((e.status, e.code.as_deref()), (500, Some("TIMEOUT")))
        }
        other => panic!("expected unavailable, got {other:?}"),
    }
    assert_eq!(h.sim.received().len(), 3, "default: 3 attempts");

    let mut h = Harness::new();
    let mut config = crate::common::config("settlements");
    config.settings = crate::common::pairs(&[("max_attempts", "1")]);
    let st = h.try_open(&config).expect("open");
    h.sim.inject([Fault::ConnectionError]);
    match h.subscribe(st, "payouts", &[], &[], None, None) {
        Err(ConnectorError::Transport(m)) => assert!(m.contains("connection"), "{m}"),
        other => panic!("expected transport, got {other:?}"),
    }
    assert_eq!(h.sim.received().len(), 1, "retries disabled");
}

#[test]
fn a_long_retry_after_is_handed_to_the_host() {
    let mut h = Harness::new();
    let st = h.open("settlements");
    h.sim.inject([Fault::RateLimited { retry_after_s: 30 }]);
    match h.subscribe(st, "payouts", &[], &[], None, None) {
        Err(ConnectorError::RateLimited(r)) => {
            assert_eq!(r.retry_after_ms, Some(30_000));
            assert_eq!(r.error.status, 429);
        }
        other => panic!("expected rate-limited, got {other:?}"),
    }
    assert_eq!(h.sim.received().len(), 1, "30 s is past the 5 s budget: no wait, no retry");
}

#[test]
fn secrets_never_reach_errors_or_logs() {
    let secret = "Zq9-SECRET-never-print-4242";
    let mut h = Harness::new();
    let mut config = crate::common::config("post-purchase");
    config.auth = host_test::runtime::Auth::Basic(host_test::runtime::BasicAuth {
        username: host_test::sim::USERNAME.into(),
        password: secret.into(),
    });
    let mut seen = vec![];
    let om = h.try_open(&config).expect("open");
    seen.push(format!("{:?}", h.instance.test(om).expect("no trap")));
    h.sim.inject([Fault::ServerTimeout, Fault::ConnectionError, Fault::Timeout]);
    seen.push(format!("{:?}", h.subscribe(om, "order", &[("order_id", "x")], &[], None, None)));
    seen.push(format!("{:?}", h.subscribe(om, "order", &[("order_id", "a/b")], &[], None, None)));
    let mut bad = config.clone();
    bad.region = "xx".into();
    seen.push(format!("{:?}", h.try_open(&bad)));
    seen.push(format!("{:?}", h.instance.entities(om).expect("no trap")));
    seen.push(h.instance.describe().expect("no trap"));
    seen.extend(h.instance.logs().iter().map(|l| l.message.clone()));
    assert!(h.instance.logs().len() >= 4, "the component logs its requests");
    for text in seen {
        crate::common::assert_no_leak(&text, host_test::sim::USERNAME, &[secret]);
    }
}

/// Reads `payouts` once on a fresh instance after injecting `faults`: the
/// result, how many requests reached Klarna, and the waits the component logged.
fn payouts_after(faults: Vec<Fault>, settings: &[(&str, &str)]) -> (Result<usize, ConnectorError>, usize, Vec<u64>) {
    let mut h = Harness::new();
    let mut config = crate::common::config("settlements");
    config.settings = crate::common::pairs(settings);
    let st = h.try_open(&config).expect("open");
    h.sim.inject(faults);
    let result = h.subscribe(st, "payouts", &[], &[], None, Some(2)).map(|page| page.records.len());
    let waits = h
        .instance
        .logs()
        .iter()
        .filter_map(|line| line.message.split("retrying in ").nth(1)?.strip_suffix(" ms")?.parse().ok())
        .collect();
    (result, h.sim.received().len(), waits)
}

#[test]
fn every_retry_after_up_to_past_the_budget_ends_without_a_trap() {
    // Default settings: 3 attempts and a 5 s retry budget. Each value runs on
    // its own instance, in parallel, because the waits are real.
    std::thread::scope(|scope| {
        let once: Vec<_> = (0..=6u32)
            .map(|s| (s, scope.spawn(move || payouts_after(vec![Fault::RateLimited { retry_after_s: s }], &[]))))
            .collect();
        let always = scope.spawn(|| payouts_after(vec![Fault::RateLimited { retry_after_s: 2 }; 3], &[]));
        for (s, handle) in once {
            let (result, sent, waits) = handle.join().expect("no trap, no panic");
            if s <= 5 {
                assert_eq!((result, sent), (Ok(2), 2), "Retry-After {s}: waited, then succeeded");
                assert_eq!(waits, [u64::from(s) * 1000], "Retry-After {s}");
            } else {
                match result {
                    Err(ConnectorError::RateLimited(r)) => assert_eq!(r.retry_after_ms, Some(6_000)),
                    other => panic!("Retry-After {s}: expected rate-limited, got {other:?}"),
                }
                assert_eq!((sent, waits.len()), (1, 0), "Retry-After {s} is past the 5 s budget: no wait");
            }
        }
        let (result, sent, waits) = always.join().expect("no trap, no panic");
        assert!(matches!(result, Err(ConnectorError::RateLimited(_))), "{result:?}");
        assert_eq!((sent, waits), (3, vec![2_000, 2_000]), "3 attempts, 4 s of the 5 s budget");
    });
}

#[test]
fn connections_retrying_the_same_url_wait_different_times() {
    // Three hosts' instances, each with a 503 on the same URL and a first
    // wait drawn from [500, 1000] ms: the same wait for all three would be a
    // synchronised retry storm.
    let settings = [("retry_delay_ms", "1000")];
    let waits: Vec<u64> = std::thread::scope(|scope| {
        let handles: Vec<_> =
            (0..3).map(|_| scope.spawn(|| payouts_after(vec![Fault::ServiceUnavailable], &settings))).collect();
        handles
            .into_iter()
            .map(|h| {
                let (result, sent, waits) = h.join().expect("no panic");
                assert_eq!((result, sent, waits.len()), (Ok(2), 2, 1));
                waits[0]
            })
            .collect()
    });
    assert!(waits.iter().all(|w| (500..=1000).contains(w)), "{waits:?}");
    assert!(waits.iter().any(|w| *w != waits[0]), "three connections waited exactly {waits:?}");
}
