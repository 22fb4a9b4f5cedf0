//! An honest, stateful fake of Klarna's merchant APIs, one module per API
//! family, following Klarna's documented rules (../shared/docs, ../shared/specs).
//!
//! It checks Basic credentials per host, answers with Klarna's status codes,
//! headers and error bodies (fresh `correlation_id` each), honours
//! `Klarna-Idempotency-Key` on Order Management writes (same key: applied
//! once, first answer returned), and can inject faults.

pub mod clock;
pub mod errors;
pub mod faults;
pub mod http;
pub mod order_management;
pub mod settlements;

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use base64::Engine as _;

pub use faults::Fault;
pub use http::{NetworkFailure, SimRequest, SimResponse, Target};
use order_management::OrderBook;
use settlements::Ledger;

/// Klarna's classic API hosts, by (environment, region).
pub const CLASSIC_HOSTS: [(&str, &str, &str); 6] = [
    ("production", "eu", "api.klarna.com"),
    ("production", "na", "api-na.klarna.com"),
    ("production", "oc", "api-oc.klarna.com"),
    ("playground", "eu", "api.playground.klarna.com"),
    ("playground", "na", "api-na.playground.klarna.com"),
    ("playground", "oc", "api-oc.playground.klarna.com"),
];

/// The default merchant's API username.
pub const USERNAME: &str = "PK46120_sim0a1b2c3d";
/// The default merchant's API password.
pub const PASSWORD: &str = "sim-pass-7f3c9e21";

/// A merchant account: credentials valid on one environment and region.
#[derive(Debug)]
struct Account {
    username: String,
    password: String,
    host: String,
    orders: OrderBook,
    ledger: Ledger,
}

/// A request the simulator received (headers included, for assertions).
#[derive(Clone, Debug)]
pub struct Received {
    /// Method.
    pub method: String,
    /// URL.
    pub url: String,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
    /// What the simulator answered (`None` when a network failure was simulated).
    pub response: Option<SimResponse>,
}

#[derive(Debug, Default)]
struct State {
    accounts: Vec<Account>,
    idempotency: BTreeMap<(String, String), SimResponse>,
    faults: VecDeque<Fault>,
    received: Vec<Received>,
    now: i64,
}

/// The simulator; clones share one Klarna.
#[derive(Clone, Debug)]
pub struct Simulator {
    state: Arc<Mutex<State>>,
}

impl Default for Simulator {
    fn default() -> Self {
        Self::new(1_234)
    }
}

impl Simulator {
    /// A Klarna with the default merchant (playground, Europe), `transactions`
    /// seeded settlement transactions and no orders.
    pub fn new(transactions: usize) -> Self {
        let state = State {
            accounts: vec![Account {
                username: USERNAME.into(),
                password: PASSWORD.into(),
                host: "api.playground.klarna.com".into(),
                orders: OrderBook::default(),
                ledger: Ledger::seeded(transactions, 0x5eed),
            }],
            now: clock::EPOCH_START,
            ..State::default()
        };
        Self {
            state: Arc::new(Mutex::new(state)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state half-updated
        // in a way that matters to a test double; keep serving.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Places an authorized order for the default merchant; returns its id.
    pub fn place_order(&self, amount: i64, currency: &str, country: &str, locale: &str) -> String {
        let mut state = self.lock();
        let now = state.now;
        state.accounts[0]
            .orders
            .place(amount, currency, country, locale, now)
    }

    /// The default merchant's order, as Klarna would answer `GET` for it.
    pub fn order(&self, order_id: &str) -> Option<order_management::Order> {
        self.lock().accounts[0].orders.get(order_id).cloned()
    }

    /// Number of seeded settlement transactions.
    pub fn transaction_count(&self) -> usize {
        self.lock().accounts[0].ledger.transaction_count()
    }

    /// Queues faults; each applies to one of the next requests, in order.
    pub fn inject(&self, faults: impl IntoIterator<Item = Fault>) {
        self.lock().faults.extend(faults);
    }

    /// Every request received so far.
    pub fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    /// Answers one request as Klarna would.
    pub fn handle(&self, request: &SimRequest) -> Result<SimResponse, NetworkFailure> {
        let mut state = self.lock();
        let outcome = answer(&mut state, request);
        state.received.push(Received {
            method: request.method.clone(),
            url: request.url.clone(),
            headers: request.headers.clone(),
            body: request.body.clone(),
            response: outcome.as_ref().ok().cloned(),
        });
        outcome
    }
}

/// Host check, faults, then the API.
fn answer(state: &mut State, request: &SimRequest) -> Result<SimResponse, NetworkFailure> {
    state.now += 1;
    let Some(target) = Target::parse(&request.url) else {
        return Err(NetworkFailure::Connection(format!(
            "cannot resolve {}",
            request.url
        )));
    };
    if !CLASSIC_HOSTS.iter().any(|(_, _, h)| *h == target.host) {
        return Err(NetworkFailure::Connection(format!(
            "could not resolve host {}",
            target.host
        )));
    }
    let fault = state.faults.pop_front();
    match &fault {
        Some(Fault::RateLimited { retry_after_s }) => {
            return Ok(errors::classic(429, "RATE_LIMITED", "Too many requests.")
                .with_header("Retry-After", retry_after_s.to_string())
                .with_header("X-Ratelimit-Limit", "50")
                .with_header("X-Ratelimit-Remaining", "0")
                .with_header("X-Ratelimit-Reset", retry_after_s.to_string()))
        }
        Some(Fault::ServerTimeout) => {
            return Ok(errors::classic(500, "TIMEOUT", "Request timed out."))
        }
        Some(Fault::ServiceUnavailable) => {
            return Ok(errors::classic(
                503,
                "SERVICE_UNAVAILABLE",
                "Try again later.",
            ))
        }
        Some(Fault::ConnectionError) => {
            return Err(NetworkFailure::Connection(
                "connection reset by peer".into(),
            ))
        }
        Some(Fault::Timeout) => return Err(NetworkFailure::Timeout),
        Some(Fault::Answer(response)) => return Ok(response.clone()),
        _ => {}
    }
    let answer = serve(state, request, &target);
    match fault {
        Some(Fault::ApplyThenServerTimeout) => {
            Ok(errors::classic(500, "TIMEOUT", "Request timed out."))
        }
        Some(Fault::ApplyThenConnectionError) => Err(NetworkFailure::Connection(
            "connection reset by peer".into(),
        )),
        _ => Ok(answer),
    }
}

/// Authenticates, applies idempotency, and routes to an API family.
fn serve(state: &mut State, request: &SimRequest, target: &Target) -> SimResponse {
    let Some(account_index) = authenticate(state, request, &target.host) else {
        return errors::unauthorized();
    };
    let parts = target.parts();
    let is_om_write = matches!(parts.as_slice(), ["ordermanagement", ..])
        && matches!(request.method.as_str(), "POST" | "PATCH");
    let key = request.header("Klarna-Idempotency-Key").map(str::to_string);
    if let (true, Some(key)) = (is_om_write, &key) {
        let slot = (state.accounts[account_index].username.clone(), key.clone());
        if let Some(first) = state.idempotency.get(&slot) {
            return first.clone();
        }
    }
    let now = state.now;
    let account = &mut state.accounts[account_index];
    let answer = match (request.method.as_str(), parts.as_slice()) {
        (method, ["ordermanagement", "v1", "orders", order_id, rest @ ..]) => account
            .orders
            .handle(method, order_id, rest, &request.body, &target.host, now),
        (method, ["settlements", "v1", rest @ ..]) => account.ledger.handle(method, rest, target),
        _ => errors::unknown_path(),
    };
    if let (true, Some(key)) = (is_om_write, key) {
        if answer.status < 500 {
            let slot = (state.accounts[account_index].username.clone(), key);
            state.idempotency.insert(slot, answer.clone());
        }
    }
    answer
}

/// The account whose Basic credentials the request carries, if they are valid on `host`.
fn authenticate(state: &State, request: &SimRequest, host: &str) -> Option<usize> {
    let encoded = request.header("Authorization")?.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (username, password) = decoded.split_once(':')?;
    state
        .accounts
        .iter()
        .position(|a| a.username == username && a.password == password && a.host == host)
}
