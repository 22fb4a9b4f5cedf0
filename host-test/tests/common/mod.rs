//! Shared set-up of the integration tests: one compiled component per test
//! binary, a fresh instance and simulator per test.

#![allow(dead_code)]

use std::sync::OnceLock;

use host_test::backend::SimulatorBackend;
use host_test::runtime::{
    default_component_path, ConnectionConfig, ConnectorError, Delivery, IncomingRequest, Instance, Limits, Method,
    Page, Params, PublishRequest, PublishResult, Reply, Runtime, SubscribeRequest,
};
use host_test::sim::{Outgoing, Simulator};
use serde_json::Value;
use wasmtime::component::ResourceAny;

/// The component, compiled once.
pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let path = default_component_path();
        Runtime::load(&path, Limits::default())
            .unwrap_or_else(|e| panic!("cannot load {} — run `./x build` first: {e:?}", path.display()))
    })
}

/// A configuration with the simulator's credentials.
pub fn config(api_type: &str) -> ConnectionConfig {
    host_test::backend::simulator_config(api_type)
}

/// Pairs from string pairs.
pub fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// A fresh simulator and component instance.
pub struct Harness {
    /// The simulated Klarna.
    pub sim: Simulator,
    /// The component.
    pub instance: Instance,
}

impl Harness {
    /// With the default simulator (1,234 settlement transactions).
    pub fn new() -> Self {
        Self::with_simulator(Simulator::default())
    }

    /// With a given simulator.
    pub fn with_simulator(sim: Simulator) -> Self {
        let instance = runtime().instantiate(Box::new(SimulatorBackend(sim.clone()))).expect("instantiate");
        Self { sim, instance }
    }

    /// Opens a connection or fails the test.
    pub fn open(&mut self, api_type: &str) -> ResourceAny {
        self.try_open(&config(api_type)).expect("open succeeds")
    }

    /// Opens a connection.
    pub fn try_open(&mut self, config: &ConnectionConfig) -> Result<ResourceAny, ConnectorError> {
        self.instance.open(config).expect("no trap")
    }

    /// Reads one page.
    pub fn subscribe(
        &mut self,
        connection: ResourceAny,
        entity: &str,
        path: &[(&str, &str)],
        query: &[(&str, &str)],
        cursor: Option<String>,
        page_size: Option<u32>,
    ) -> Result<Page, ConnectorError> {
        let request = SubscribeRequest {
            entity: entity.into(),
            params: Params { path: pairs(path), query: pairs(query), payload: None },
            cursor,
            page_size,
            since: None,
        };
        self.instance.subscribe(connection, &request).expect("no trap")
    }

    /// Reads the one record of a single-record entity.
    pub fn read(
        &mut self,
        connection: ResourceAny,
        entity: &str,
        path: &[(&str, &str)],
    ) -> Result<Value, ConnectorError> {
        let page = self.subscribe(connection, entity, path, &[], None, None)?;
        assert_eq!(page.records.len(), 1, "{entity}: one record");
        assert_eq!(page.next_cursor, None);
        Ok(serde_json::from_str(&page.records[0]).expect("record is JSON"))
    }

    /// Every record of a paginated entity, following the cursor.
    pub fn read_all(
        &mut self,
        connection: ResourceAny,
        entity: &str,
        query: &[(&str, &str)],
        page_size: u32,
    ) -> (Vec<Value>, usize) {
        let mut records = vec![];
        let mut cursor = None;
        let mut pages = 0;
        loop {
            let page = self.subscribe(connection, entity, &[], query, cursor, Some(page_size)).expect("page");
            pages += 1;
            records.extend(page.records.iter().map(|r| serde_json::from_str::<Value>(r).expect("record is JSON")));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return (records, pages),
            }
            assert!(pages < 10_000, "paging does not end");
        }
    }

    /// One whole read of an incremental entity from `since` (none: a full
    /// read): every record, and the state its last page ends with.
    pub fn sync(
        &mut self,
        connection: ResourceAny,
        entity: &str,
        query: &[(&str, &str)],
        since: Option<String>,
        page_size: u32,
    ) -> Result<(Vec<Value>, String), ConnectorError> {
        let mut records = vec![];
        let mut cursor = None;
        let mut first = true;
        for _ in 0..10_000 {
            let request = SubscribeRequest {
                entity: entity.into(),
                params: Params { path: vec![], query: pairs(query), payload: None },
                cursor: cursor.take(),
                page_size: Some(page_size),
                since: if first { since.clone() } else { None },
            };
            first = false;
            let page = self.instance.subscribe(connection, &request).expect("no trap")?;
            records.extend(page.records.iter().map(|r| serde_json::from_str::<Value>(r).expect("record is JSON")));
            match (page.next_cursor, page.state) {
                (Some(next), None) => cursor = Some(next),
                (None, Some(state)) => return Ok((records, state)),
                (next, state) => panic!("a page with cursor {next:?} and state {state:?}"),
            }
        }
        panic!("paging does not end")
    }

    /// Writes.
    pub fn publish(
        &mut self,
        connection: ResourceAny,
        entity: &str,
        method: Method,
        path: &[(&str, &str)],
        payload: Option<Value>,
        key: Option<&str>,
    ) -> Result<PublishResult, ConnectorError> {
        self.publish_with_query(connection, entity, method, path, &[], payload, key)
    }

    /// [`Harness::publish`] with query pairs (header parameters among them).
    #[allow(clippy::too_many_arguments)]
    pub fn publish_with_query(
        &mut self,
        connection: ResourceAny,
        entity: &str,
        method: Method,
        path: &[(&str, &str)],
        query: &[(&str, &str)],
        payload: Option<Value>,
        key: Option<&str>,
    ) -> Result<PublishResult, ConnectorError> {
        let request = PublishRequest {
            entity: entity.into(),
            method,
            params: Params { path: pairs(path), query: pairs(query), payload: payload.map(|p| p.to_string()) },
            idempotency_key: key.map(str::to_string),
        };
        self.instance.publish(connection, &request).expect("no trap")
    }

    /// Hands a request Klarna sent to a URL under [`MOUNT`] to `receive`, as a host's public endpoint would.
    pub fn receive(&mut self, connection: ResourceAny, delivery: &Outgoing) -> Result<Delivery, ConnectorError> {
        let path = delivery.path_after(MOUNT).unwrap_or_else(|| panic!("{} is not under {MOUNT}", delivery.url));
        let method = host_test::listen::method(&delivery.method).expect("one of the five methods");
        let request = IncomingRequest { method, path, headers: delivery.headers.clone(), body: delivery.body.clone() };
        self.instance.receive(connection, &request).expect("no trap")
    }

    /// `respond(kind, answer)`.
    pub fn respond(&mut self, connection: ResourceAny, kind: &str, answer: &Value) -> Result<Reply, ConnectorError> {
        self.instance.respond(connection, kind, &answer.to_string()).expect("no trap")
    }

    /// Places an authorized order of `amount` EUR cents in Germany.
    pub fn order(&self, amount: i64) -> String {
        self.sim.place_order(amount, "EUR", "DE", "de-DE")
    }
}

/// Where the tests' host mounts a connection's public endpoint.
pub const MOUNT: &str = "https://shop.example/klarna";

/// A small seeded generator (xorshift64*), so failing schedules can be replayed by seed.
pub struct Rng(u64);

impl Rng {
    /// Seeded.
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    /// Next value.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A disputes connection and the first seeded dispute in `state`.
pub fn first_dispute(h: &mut Harness, state: &str) -> (ResourceAny, String) {
    let d = h.open("disputes");
    let page = h.subscribe(d, "disputes", &[], &[], None, Some(20)).expect("disputes");
    let id = page
        .records
        .iter()
        .map(|r| serde_json::from_str::<Value>(r).expect("json"))
        .find(|r| r["state"] == state)
        .and_then(|r| r["payment_dispute_id"].as_str().map(str::to_string))
        .expect("a dispute in that state");
    (d, id)
}

/// The forms a secret could escape in: as it is, base64 (standard and
/// URL-safe, as a Basic header or a JWT would carry it), percent-encoded
/// (as a URL would), and JSON-escaped (as a JSON string would).
pub fn leaked_forms(secret: &str) -> Vec<String> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(secret);
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
    let percent = percent_encoding::utf8_percent_encode(secret, percent_encoding::NON_ALPHANUMERIC).to_string();
    let json = serde_json::to_string(secret).unwrap_or_default();
    let mut forms = vec![secret.to_string(), b64, b64url, percent, json.trim_matches('"').to_string()];
    forms.dedup();
    forms
}

/// The Basic credentials of a username and password, as a header carries them.
pub fn basic_pair(username: &str, password: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
}

/// Fails when `text` holds any of `secrets` in any form ([`leaked_forms`]),
/// or a Basic pair of `username` with one of them.
pub fn assert_no_leak(text: &str, username: &str, secrets: &[&str]) {
    for secret in secrets {
        for form in leaked_forms(secret).iter().chain([&basic_pair(username, secret)]) {
            assert!(!text.contains(form.as_str()), "{secret} leaked as {form:?} in: {text}");
        }
    }
}
