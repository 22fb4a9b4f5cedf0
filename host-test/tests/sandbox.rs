//! Hostile answers become typed errors; traps, memory caps and epoch
//! deadlines cost one instance, never the host.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::common::Harness;
use host_test::backend::SimulatorBackend;
use host_test::runtime::{
    default_component_path, ConnectorError, HttpBackend, HttpError, Limits, Params, Request, Response, Runtime,
    Sandbox, SubscribeRequest,
};
use host_test::sim::{Fault, SimResponse, Simulator};

fn answer(status: u16, content_type: &str, body: Vec<u8>) -> Fault {
    Fault::Answer(SimResponse { status, headers: vec![("Content-Type".into(), content_type.into())], body })
}

#[test]
fn hostile_answers_become_typed_errors() {
    let cases: Vec<(&str, Fault)> = vec![
        (
            "html from a proxy",
            answer(200, "text/html", b"<html><body>Welcome to the captive portal</body></html>".to_vec()),
        ),
        ("truncated json", answer(200, "application/json", br#"{"order_id": "abc", "order_amou"#.to_vec())),
        ("a json array", answer(200, "application/json", b"[1, 2, 3]".to_vec())),
        ("a json string", answer(200, "application/json", br#""order""#.to_vec())),
        ("binary", answer(200, "application/octet-stream", vec![0xff, 0xfe, 0x00, 0x80])),
        ("over the size limit", answer(200, "application/json", vec![b' '; 17 * 1024 * 1024])),
        ("an html 404 from a proxy", answer(404, "text/html", b"<h1>Not Found</h1>".to_vec())),
        ("a redirect", answer(302, "text/html", b"moved".to_vec())),
    ];
    for (what, fault) in cases {
        let mut h = Harness::new();
        let mut config = crate::common::config("post-purchase");
        config.settings = crate::common::pairs(&[("max_attempts", "1")]);
        let om_once = h.try_open(&config).expect("open");
        h.sim.inject([fault]);
        let result = h.subscribe(om_once, "order", &[("order_id", "x")], &[], None, None);
        // A 404 is Klarna's answer; every other one is unusable: `unexpected`, not retried.
        match (what, result) {
            ("an html 404 from a proxy", Err(ConnectorError::NotFound(_))) => {}
            (what, Err(ConnectorError::Unexpected(_))) if what != "an html 404 from a proxy" => {}
            (what, other) => panic!("{what}: expected a typed error, got {other:?}"),
        }
    }
}

#[test]
fn a_settlements_page_without_its_list_is_empty_not_a_trap() {
    let mut h = Harness::new();
    let st = h.open("settlements");
    h.sim.inject([answer(200, "application/json", br#"{"pagination": {"count": 0}}"#.to_vec())]);
    let page = h.subscribe(st, "transactions", &[], &[], None, None).expect("a page");
    assert_eq!((page.records.len(), page.next_cursor), (0, None));
    h.sim.inject([answer(200, "application/json", br#"{"transactions": {"not": "a list"}}"#.to_vec())]);
    assert!(matches!(h.subscribe(st, "transactions", &[], &[], None, None), Err(ConnectorError::Unexpected(_))));
    h.sim.inject([answer(
        200,
        "application/json",
        br#"{"transactions": [], "pagination": {"next": "https://evil.example/settlements/v1/transactions?offset=5"}}"#
            .to_vec(),
    )]);
    assert!(matches!(h.subscribe(st, "transactions", &[], &[], None, None), Err(ConnectorError::Unexpected(_))));
}

/// Answers from the simulator, but can be told to misbehave.
struct Misbehaving {
    sim: SimulatorBackend,
    huge: Arc<AtomicBool>,
    slow: Arc<AtomicBool>,
}

impl HttpBackend for Misbehaving {
    fn send(&mut self, request: Request) -> Result<Response, HttpError> {
        if self.huge.swap(false, Ordering::SeqCst) {
            return Ok(Response { status: 200, headers: vec![], body: vec![b' '; 48 << 20] });
        }
        if self.slow.swap(false, Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(1_300));
        }
        self.sim.send(request)
    }
}

#[test]
fn a_trapped_instance_is_replaced_and_the_next_call_succeeds() {
    // 16 MiB of linear memory; 100 ms of compute per call, plus the one
    // attempt of at most 1 s this connection's settings allow.
    let limits = Limits { memory_bytes: 16 << 20, compute_ticks: 10 };
    let runtime = Runtime::load(&default_component_path(), limits).expect("component");
    let sim = Simulator::default();
    let (huge, slow) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
    let make = || -> Box<dyn HttpBackend> {
        Box::new(Misbehaving { sim: SimulatorBackend(sim.clone()), huge: huge.clone(), slow: slow.clone() })
    };
    let mut config = crate::common::config("settlements");
    config.settings = crate::common::pairs(&[("timeout_ms", "1000"), ("max_attempts", "1"), ("retry_budget_ms", "0")]);
    let mut sandbox = Sandbox::new(&runtime, config, make);
    let request = SubscribeRequest {
        entity: "payouts".into(),
        params: Params { path: vec![], query: vec![], payload: None },
        cursor: None,
        page_size: Some(3),
        since: None,
    };
    assert_eq!(sandbox.subscribe(&request).expect("no trap").expect("page").records.len(), 3);

    huge.store(true, Ordering::SeqCst);
    let trap = sandbox.subscribe(&request).expect_err("a 48 MiB answer cannot fit a 16 MiB instance");
    assert_eq!(sandbox.restarts, 1, "{:?}", trap.0);
    assert_eq!(sandbox.subscribe(&request).expect("fresh instance").expect("page").records.len(), 3);

    slow.store(true, Ordering::SeqCst);
    let trap = sandbox.subscribe(&request).expect_err("a host import that overruns the 1 s timeout by 300 ms");
    assert_eq!(sandbox.restarts, 2, "{:?}", trap.0);
    assert_eq!(sandbox.subscribe(&request).expect("fresh instance").expect("page").records.len(), 3);
}
