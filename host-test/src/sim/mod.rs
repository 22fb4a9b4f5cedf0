//! An honest, stateful fake of Klarna's merchant APIs, one module per API
//! family, following Klarna's documented rules and the OpenAPI files vendored
//! in `host-test/specs/klarna`.
//!
//! It checks credentials per host ([`auth`]: username/password, API keys,
//! OAuth 2.0 client credentials and bearer tokens), answers with Klarna's
//! status codes, headers and error bodies (fresh `correlation_id` each), honours
//! `Klarna-Idempotency-Key` on Order Management, customer-token and Klarna
//! Network payment writes (same key: applied once, first answer returned), and can
//! inject faults.

pub mod auth;
pub mod checkout;
pub mod clock;
pub mod customer_tokens;
pub mod disputes;
pub mod errors;
pub mod faults;
pub mod hosted_payment_page;
pub mod http;
pub mod merchant_card;
pub mod multipart;
pub mod network_payments;
pub mod notifications;
pub mod order_management;
pub mod outbox;
pub mod payments;
pub mod settlements;
pub mod shipping_service;

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use auth::Credentials;
pub use auth::{API_KEY, API_KEY_UUID, CLIENT_ID, CLIENT_SECRET, PASSWORD, SHIPPING_TOKEN, USERNAME};
use checkout::Checkouts;
use customer_tokens::TokenBook;
use disputes::DisputeBook;
pub use faults::Fault;
use hosted_payment_page::HostedPages;
pub use http::{NetworkFailure, SimRequest, SimResponse, Target};
use merchant_card::CardService;
use network_payments::NetworkPayments;
use notifications::Notifications;
use order_management::OrderBook;
pub use outbox::Outgoing;
use payments::Payments;
use settlements::Ledger;
pub use shipping_service::{Interrupted, ShippingService};

/// Klarna's classic API hosts, by (environment, region).
pub const CLASSIC_HOSTS: [(&str, &str, &str); 6] = [
    ("production", "eu", "api.klarna.com"),
    ("production", "na", "api-na.klarna.com"),
    ("production", "oc", "api-oc.klarna.com"),
    ("playground", "eu", "api.playground.klarna.com"),
    ("playground", "na", "api-na.playground.klarna.com"),
    ("playground", "oc", "api-oc.playground.klarna.com"),
];

/// Klarna Network's global hosts, by environment.
pub const GLOBAL_HOSTS: [(&str, &str); 2] =
    [("production", "api-global.klarna.com"), ("playground", "api-global.test.klarna.com")];

/// Klarna's OAuth 2.0 servers, by environment.
pub const LOGIN_HOSTS: [(&str, &str); 2] =
    [("production", "login.klarna.com"), ("playground", "login.playground.klarna.com")];

/// A merchant account: credentials valid on one environment and region.
#[derive(Debug)]
struct Account {
    credentials: Credentials,
    environment: &'static str,
    region: &'static str,
    orders: OrderBook,
    ledger: Ledger,
    payments: Payments,
    tokens: TokenBook,
    hosted_pages: HostedPages,
    checkouts: Checkouts,
    cards: CardService,
    disputes: DisputeBook,
    notifications: Notifications,
    network_payments: NetworkPayments,
}

impl Account {
    /// Whether the account's credentials work on `host`: its region's classic
    /// host and its environment's global host.
    fn serves(&self, host: &str) -> bool {
        CLASSIC_HOSTS.iter().any(|(e, r, h)| *e == self.environment && *r == self.region && *h == host)
            || GLOBAL_HOSTS.iter().any(|(e, h)| *e == self.environment && *h == host)
    }
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
    /// The fault injected into this request, if any ([`Fault::name`]).
    pub fault: Option<&'static str>,
    /// Whether the request reached Klarna's business logic (it may have acted).
    pub applied: bool,
}

/// How many resources of the kinds a resend could double exist at Klarna.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resources {
    /// Payments sessions.
    pub payment_sessions: usize,
    /// Hosted Payment Page sessions.
    pub hpp_sessions: usize,
    /// Checkout orders.
    pub checkout_orders: usize,
    /// Merchant Card Service promises.
    pub card_promises: usize,
    /// Merchant Card Service settlements (issued cards).
    pub card_settlements: usize,
}

#[derive(Debug, Default)]
struct State {
    accounts: Vec<Account>,
    idempotency: BTreeMap<(String, String), SimResponse>,
    faults: VecDeque<Fault>,
    received: Vec<Received>,
    /// What Klarna has sent to merchant URLs and the test host has not taken yet.
    outbox: Vec<Outgoing>,
    now: i64,
    /// Whether the request being answered reached an API's logic.
    applied: bool,
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
                credentials: Credentials::default_merchant(),
                environment: "playground",
                region: "eu",
                orders: OrderBook::default(),
                ledger: Ledger::seeded(transactions, 0x5eed),
                payments: Payments::default(),
                tokens: TokenBook::default(),
                hosted_pages: HostedPages::default(),
                checkouts: Checkouts::default(),
                cards: CardService::default(),
                disputes: DisputeBook::seeded(45),
                notifications: Notifications::default(),
                network_payments: NetworkPayments::default(),
            }],
            now: clock::EPOCH_START,
            ..State::default()
        };
        Self { state: Arc::new(Mutex::new(state)) }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state half-updated
        // in a way that matters to a test double; keep serving.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Places an authorized order for the default merchant; returns its id.
    pub fn place_order(&self, amount: i64, currency: &str, country: &str, locale: &str) -> String {
        let mut state = self.lock();
        let now = state.now;
        state.accounts[0].orders.place(amount, currency, country, locale, now)
    }

    /// The default merchant's order, as Klarna would answer `GET` for it.
    pub fn order(&self, order_id: &str) -> Option<order_management::Order> {
        self.lock().accounts[0].orders.get(order_id).cloned()
    }

    /// The simulator's clock (Unix seconds).
    pub fn now(&self) -> i64 {
        self.lock().now
    }

    /// Klarna settles: a payout dated `days_ago` days before now (0: today;
    /// more: one that appears late, after later ones were read) with
    /// `transactions` transactions. Returns its payment reference.
    pub fn settle(&self, days_ago: i64, transactions: usize) -> String {
        let mut state = self.lock();
        let at = state.now - days_ago * 86_400;
        let mut rng = (at as u64) | 1;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        state.accounts[0].ledger.add_payout(at, transactions, &mut next)
    }

    /// A dispute moves to `state` now (its `updated_at` is now); `false`
    /// when there is no such dispute.
    pub fn change_dispute(&self, id: &str, new_state: &str) -> bool {
        let mut state = self.lock();
        let now = state.now;
        state.accounts[0].disputes.change(id, new_state, now)
    }

    /// Every dispute id, oldest first.
    pub fn dispute_ids(&self) -> Vec<String> {
        self.lock().accounts[0].disputes.ids()
    }

    /// Number of seeded settlement transactions.
    pub fn transaction_count(&self) -> usize {
        self.lock().accounts[0].ledger.transaction_count()
    }

    /// The customer authorizes a payment session in Klarna's widget; returns
    /// the authorization token, or `None` for an unknown session.
    pub fn authorize_session(&self, session_id: &str) -> Option<String> {
        let mut state = self.lock();
        let now = state.now;
        let account = &mut state.accounts[0];
        let token = account.payments.authorize(session_id, now)?;
        let mut sent: Vec<Outgoing> = account.payments.authorization_callback(session_id).into_iter().collect();
        sent.extend(account.hosted_pages.completed(session_id, &token, now));
        state.outbox.extend(sent);
        Some(token)
    }

    /// The customer completes a Checkout order: it becomes an Order
    /// Management order with the same id. Returns whether the order existed.
    pub fn complete_checkout(&self, order_id: &str) -> bool {
        let mut state = self.lock();
        let now = state.now;
        let account = &mut state.accounts[0];
        let Some(order) = account.checkouts.complete(order_id, now) else { return false };
        let text = |key: &str| order[key].as_str().unwrap_or_default().to_string();
        let amount = order["order_amount"].as_i64().unwrap_or(0);
        let lines = order["order_lines"].clone();
        account.orders.insert(
            order_id,
            amount,
            &text("purchase_currency"),
            &text("purchase_country"),
            &text("locale"),
            lines,
            now,
        );
        let push = account.checkouts.push(order_id);
        state.outbox.extend(push);
        true
    }

    /// Klarna's push schedule: pushes again every completed Checkout order that
    /// Order Management has not seen acknowledged (Klarna retries for 48 hours).
    pub fn repush_unacknowledged(&self) -> usize {
        let mut state = self.lock();
        let account = &state.accounts[0];
        let pushes: Vec<Outgoing> = account
            .checkouts
            .completed()
            .iter()
            .filter(|id| account.orders.get(id).is_some_and(|o| !o.acknowledged))
            .filter_map(|id| account.checkouts.push(id))
            .collect();
        let count = pushes.len();
        state.outbox.extend(pushes);
        count
    }

    /// Takes what Klarna has sent to merchant URLs since the last call, in order.
    pub fn deliveries(&self) -> Vec<Outgoing> {
        let mut state = self.lock();
        let simulated = state.accounts[0].notifications.take_outbox();
        state.outbox.extend(simulated);
        std::mem::take(&mut state.outbox)
    }

    /// How many times an HPP session's link was distributed.
    pub fn hpp_distributions(&self, session_id: &str) -> Option<u32> {
        self.lock().accounts[0].hosted_pages.distributions(session_id)
    }

    /// The state of a dispute (`INITIATED`, ..., `CLOSED`).
    pub fn dispute_state(&self, id: &str) -> Option<String> {
        self.lock().accounts[0].disputes.state(id)
    }

    /// The customer approves a Klarna Network payment request; returns the
    /// `klarna_network_session_token`, or `None` when it is unknown or no longer open.
    pub fn complete_payment_request(&self, id: &str) -> Option<String> {
        let mut state = self.lock();
        let now = state.now;
        let account = &mut state.accounts[0];
        let token = account.network_payments.complete(id, now)?;
        let payload = serde_json::json!({
            "payment_request_id": id,
            "state": "COMPLETED",
            "klarna_network_session_token": token,
        });
        let sent = account.notifications.notify("payment.request.state-change.completed", &payload, now);
        state.outbox.extend(sent);
        Some(token)
    }

    /// Moves the simulator's clock forward (sessions and authorizations expire).
    pub fn advance(&self, seconds: i64) {
        self.lock().now += seconds;
    }

    /// Invalidates every OAuth 2.0 access token issued so far.
    pub fn revoke_access_tokens(&self) {
        self.lock().accounts[0].credentials.revoke_access_tokens();
    }

    /// Queues faults; each applies to one of the next requests, in order.
    pub fn inject(&self, faults: impl IntoIterator<Item = Fault>) {
        self.lock().faults.extend(faults);
    }

    /// Drops the faults not yet injected.
    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    /// Every request received so far.
    pub fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    /// The resources of the kinds a resend could double.
    pub fn resources(&self) -> Resources {
        let state = self.lock();
        let account = &state.accounts[0];
        let (card_promises, card_settlements) = account.cards.counts();
        Resources {
            payment_sessions: account.payments.session_count(),
            hpp_sessions: account.hosted_pages.session_count(),
            checkout_orders: account.checkouts.order_count(),
            card_promises,
            card_settlements,
        }
    }

    /// Answers one request as Klarna would.
    pub fn handle(&self, request: &SimRequest) -> Result<SimResponse, NetworkFailure> {
        let mut state = self.lock();
        let (outcome, fault, applied) = answer(&mut state, request);
        state.received.push(Received {
            method: request.method.clone(),
            url: request.url.clone(),
            headers: request.headers.clone(),
            body: request.body.clone(),
            response: outcome.as_ref().ok().cloned(),
            fault,
            applied,
        });
        outcome
    }
}

/// Host check, faults, then the API: the outcome, the fault injected, and
/// whether the request reached the API's logic.
fn answer(
    state: &mut State,
    request: &SimRequest,
) -> (Result<SimResponse, NetworkFailure>, Option<&'static str>, bool) {
    let fault = state.faults.front().map(Fault::name);
    let outcome = faulted(state, request);
    let applied = state.applied;
    state.applied = false;
    (outcome, fault, applied)
}

/// [`answer`]'s work; `state.applied` says whether the API's logic ran.
fn faulted(state: &mut State, request: &SimRequest) -> Result<SimResponse, NetworkFailure> {
    state.now += 1;
    let Some(target) = Target::parse(&request.url) else {
        return Err(NetworkFailure::NotSent(format!("cannot resolve {}", request.url)));
    };
    let mut known = CLASSIC_HOSTS
        .iter()
        .map(|(_, _, h)| *h)
        .chain(GLOBAL_HOSTS.iter().map(|(_, h)| *h))
        .chain(LOGIN_HOSTS.iter().map(|(_, h)| *h));
    if !known.any(|h| h == target.host) {
        return Err(NetworkFailure::NotSent(format!("could not resolve host {}", target.host)));
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
        Some(Fault::ServerTimeout) => return Ok(errors::classic(500, "TIMEOUT", "Request timed out.")),
        Some(Fault::ServiceUnavailable) => return Ok(errors::classic(503, "SERVICE_UNAVAILABLE", "Try again later.")),
        Some(Fault::ConnectionError) => return Err(NetworkFailure::Connection("connection reset by peer".into())),
        Some(Fault::ConnectRefused) => return Err(NetworkFailure::NotSent("connection refused".into())),
        Some(Fault::Timeout) => return Err(NetworkFailure::Timeout),
        Some(Fault::Answer(response)) => return Ok(response.clone()),
        _ => {}
    }
    let answer = serve(state, request, &target);
    state.applied = true;
    match fault {
        Some(Fault::ApplyThenServerTimeout) => Ok(errors::classic(500, "TIMEOUT", "Request timed out.")),
        Some(Fault::ApplyThenConnectionError) => Err(NetworkFailure::Connection("connection reset by peer".into())),
        Some(Fault::ApplyThenTimeout) => Err(NetworkFailure::Timeout),
        _ => Ok(answer),
    }
}

/// Authenticates, applies idempotency, and routes to an API family.
fn serve(state: &mut State, request: &SimRequest, target: &Target) -> SimResponse {
    let parts = target.parts();
    if let Some((environment, _)) = LOGIN_HOSTS.iter().find(|(_, h)| *h == target.host) {
        return match (request.method.as_str(), parts.as_slice()) {
            ("POST", ["oauth2", "token"]) => match state.accounts.iter_mut().find(|a| a.environment == *environment) {
                Some(account) => account.credentials.token_endpoint(request),
                None => SimResponse::json(401, &serde_json::json!({"error": "invalid_client"})),
            },
            _ => SimResponse::json(404, &serde_json::json!({"error": "not_found"})),
        };
    }
    let Some(account_index) =
        state.accounts.iter().position(|a| a.serves(&target.host) && a.credentials.accepts(request))
    else {
        return if GLOBAL_HOSTS.iter().any(|(_, h)| *h == target.host) {
            errors::network(401, "ACCESS_ERROR", "UNAUTHORIZED", "The request was not authorized.")
        } else {
            errors::unauthorized()
        };
    };
    // Klarna declares Klarna-Idempotency-Key on Order Management writes and on customer-token orders;
    // Klarna Network recommends it on its payment writes.
    let keyed_write = matches!(
        (request.method.as_str(), parts.as_slice()),
        ("POST" | "PATCH", ["ordermanagement", ..])
            | ("POST", ["customer-token", "v1", "tokens", _, "order"])
            | ("POST", ["v2", "payment", "requests" | "authorize"])
    );
    let key = request.header("Klarna-Idempotency-Key").map(str::to_string);
    if let (true, Some(key)) = (keyed_write, &key) {
        let slot = (state.accounts[account_index].credentials.username.clone(), key.clone());
        if let Some(first) = state.idempotency.get(&slot) {
            return first.clone();
        }
    }
    let now = state.now;
    let account = &mut state.accounts[account_index];
    let global = GLOBAL_HOSTS.iter().any(|(_, h)| *h == target.host);
    let answer = match (global, request.method.as_str(), parts.as_slice()) {
        (false, method, ["ordermanagement", "v1", "orders", order_id, rest @ ..]) => {
            account.orders.handle(method, order_id, rest, &request.body, &target.host, now)
        }
        (false, method, ["settlements", "v1", rest @ ..]) => account.ledger.handle(method, rest, target),
        (false, method, ["hpp", "v1", "sessions", rest @ ..]) => {
            let payments = &account.payments;
            account
                .hosted_pages
                .handle(method, rest, &request.body, &target.host, now, |id| payments.authorization_of(id))
        }
        (false, method, ["checkout", "v3", "orders", rest @ ..]) => {
            account.checkouts.handle(method, rest, &request.body, now)
        }
        (false, _, ["merchantcard", "v3", rest @ ..]) => account.cards.handle(request, rest, &mut account.orders, now),
        (false, method, ["customer-token", "v1", "tokens", token, rest @ ..]) => {
            account.tokens.handle(method, token, rest, &request.body, &mut account.orders, now)
        }
        (false, method, ["payments", "v1", rest @ ..]) => {
            account.payments.handle(method, rest, &request.body, &mut account.orders, &mut account.tokens, now)
        }
        (false, _, ["v4", "payment", "disputes", rest @ ..]) => account.disputes.handle(request, rest, target, now),
        (true, method, ["v1", "notification", rest @ ..]) => {
            account.notifications.handle(method, rest, &request.body, now)
        }
        (true, _, ["v2", "payment", rest @ ..]) => {
            account.network_payments.handle(request, rest, account.environment == "production", now)
        }
        (true, ..) => errors::network(404, "RESOURCE_ERROR", "NOT_FOUND", "Unknown resource."),
        _ => errors::unknown_path(),
    };
    if let (true, Some(key)) = (keyed_write, key) {
        if answer.status < 500 {
            let slot = (state.accounts[account_index].credentials.username.clone(), key);
            state.idempotency.insert(slot, answer.clone());
        }
    }
    answer
}
