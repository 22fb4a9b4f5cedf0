//! Merchant Card Service v3 (`/merchantcard/v3/...`): virtual-card promises
//! for an order (a new promise replaces the older one), settlements that
//! issue the cards (read back only with the settlement's `KeyId`), and order
//! cancel requests (PENDING while a card is out, then CANCELLED).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::clock;
use super::errors;
use super::http::{SimRequest, SimResponse};
use super::order_management::OrderBook;

/// How long a promise can be settled.
const PROMISE_LIFETIME_S: i64 = 7 * 86_400;
/// How long a pending cancel request takes to resolve.
const CANCEL_DELAY_S: i64 = 3600;

#[derive(Debug)]
struct Promise {
    order_id: String,
    cards: Vec<Value>,
    created_at: i64,
    replaced: bool,
}

#[derive(Debug)]
struct Settlement {
    body: Value,
    key_id: String,
}

/// The virtual cards of one merchant.
#[derive(Debug, Default)]
pub struct CardService {
    promises: BTreeMap<String, Promise>,
    settlements: BTreeMap<String, Settlement>,
    cancel_requests: BTreeMap<String, i64>,
    serial: u64,
}

impl CardService {
    /// How many promises and settlements (issued cards) were made.
    pub fn counts(&self) -> (usize, usize) {
        (self.promises.len(), self.settlements.len())
    }

    /// Answers `/merchantcard/v3/<rest>`.
    pub fn handle(&mut self, request: &SimRequest, rest: &[&str], orders: &mut OrderBook, now: i64) -> SimResponse {
        let payload = serde_json::from_slice::<Value>(&request.body).ok().filter(Value::is_object);
        let key_id = request.header("KeyId").map(str::to_string);
        match (request.method.as_str(), rest) {
            ("POST", ["promises"]) => self.promise(payload, orders, now),
            ("GET", ["promises", id]) => match self.promises.get(*id).filter(|p| !p.replaced) {
                Some(p) => SimResponse::json(
                    200,
                    &json!({
                        "promise_id": id,
                        "order_id": p.order_id,
                        "cards": p.cards,
                        "created_at": clock::rfc3339(p.created_at),
                        "expire_at": clock::rfc3339(p.created_at + PROMISE_LIFETIME_S),
                    }),
                ),
                None => errors::classic(404, "NOT_FOUND", "The promise does not exist or was replaced."),
            },
            ("POST", ["settlements"]) => self.settle(payload, now),
            ("GET", ["settlements", "order", order_id]) => {
                let found = self.settlements.values().find(|s| s.body["order_id"] == *order_id);
                read_settlement(found, key_id.as_deref())
            }
            ("GET", ["settlements", id]) => read_settlement(self.settlements.get(*id), key_id.as_deref()),
            ("POST", ["orders", order_id, "cancel-request"]) => {
                if orders.get(order_id).is_none() {
                    return errors::no_such_order();
                }
                let card_out = self.settlements.values().any(|s| s.body["order_id"] == *order_id);
                if card_out {
                    self.cancel_requests.insert(order_id.to_string(), now);
                    SimResponse::json(
                        202,
                        &json!({ "status": "PENDING", "check_after": clock::rfc3339(now + CANCEL_DELAY_S) }),
                    )
                } else {
                    self.cancel_requests.insert(order_id.to_string(), now - CANCEL_DELAY_S);
                    orders.cancel_by_card_service(order_id);
                    SimResponse::json(200, &json!({ "status": "CANCELLED" }))
                }
            }
            ("GET", ["orders", order_id, "cancel-request"]) => match self.cancel_requests.get(*order_id) {
                Some(at) if now - at >= CANCEL_DELAY_S => {
                    orders.cancel_by_card_service(order_id);
                    SimResponse::json(200, &json!({ "status": "CANCELLED" }))
                }
                Some(at) => SimResponse::json(
                    200,
                    &json!({ "status": "PENDING", "check_after": clock::rfc3339(at + CANCEL_DELAY_S) }),
                ),
                None => SimResponse::json(
                    400,
                    &json!({ "status": "NO_REQUEST_FOUND", "reason_code": "NO_REQUEST_FOUND", "reason_message": "No cancel request for this order." }),
                ),
            },
            _ => errors::unknown_path(),
        }
    }

    fn promise(&mut self, payload: Option<Value>, orders: &OrderBook, now: i64) -> SimResponse {
        let Some(p) = payload else { return errors::bad_value("body") };
        let Some(order_id) = p["order_id"].as_str() else { return errors::bad_value("order_id") };
        let Some(order) = orders.get(order_id) else { return errors::no_such_order() };
        let Some(cards) = p["cards"].as_array().filter(|c| !c.is_empty()) else { return errors::bad_value("cards") };
        let mut total = 0;
        for (i, card) in cards.iter().enumerate() {
            match (card["amount"].as_i64(), card["currency"].as_str(), card["reference"].as_str()) {
                (Some(a), Some(c), Some(_)) if a > 0 && c == order.purchase_currency => total += a,
                _ => return errors::bad_value(&format!("cards[{i}]")),
            }
        }
        if total > order.remaining_authorized_amount() {
            return errors::classic(400, "BAD_VALUE", "The cards exceed the order's remaining authorized amount.");
        }
        for old in self.promises.values_mut().filter(|old| old.order_id == order_id) {
            old.replaced = true;
        }
        self.serial += 1;
        let id = clock::uuid(0x9c0d, self.serial);
        self.promises.insert(
            id.clone(),
            Promise { order_id: order_id.to_string(), cards: cards.clone(), created_at: now, replaced: false },
        );
        SimResponse::json(201, &json!({ "promise_id": id, "expires_at": clock::rfc3339(now + PROMISE_LIFETIME_S) }))
    }

    fn settle(&mut self, payload: Option<Value>, now: i64) -> SimResponse {
        let Some(p) = payload else { return errors::bad_value("body") };
        let (Some(order_id), Some(key_id)) = (p["order_id"].as_str(), p["key_id"].as_str().filter(|k| !k.is_empty()))
        else {
            return errors::bad_value(if p["order_id"].is_string() { "key_id" } else { "order_id" });
        };
        let promise = match p["promise_id"].as_str() {
            Some(id) => self.promises.get(id).filter(|pr| pr.order_id == order_id).map(|pr| (id.to_string(), pr)),
            None => self
                .promises
                .iter()
                .find(|(_, pr)| pr.order_id == order_id && !pr.replaced)
                .map(|(id, pr)| (id.clone(), pr)),
        };
        let Some((promise_id, promise)) = promise else {
            return errors::classic(400, "BAD_VALUE", "No valid promise for this order.");
        };
        if promise.replaced || now - promise.created_at > PROMISE_LIFETIME_S {
            return errors::classic(403, "NOT_ALLOWED", "The promise was replaced or has expired.");
        }
        self.serial += 1;
        let settlement_id = clock::uuid(0x5e71, self.serial);
        let cards: Vec<Value> = promise
            .cards
            .iter()
            .enumerate()
            .map(|(i, c)| {
                json!({
                    "card_id": clock::uuid(0xcad0, self.serial * 100 + i as u64),
                    "reference": c["reference"], "amount": c["amount"], "currency": c["currency"],
                    "pci_data": "c2ltdWxhdGVkLWVuY3J5cHRlZC1jYXJkLWRhdGE=", "iv": "c2ltLWl2", "aes_key": "c2ltLWFlcy1rZXk=",
                    "brand": "VISA", "holder": "Klarna Virtual Card",
                })
            })
            .collect();
        let body = json!({
            "settlement_id": settlement_id, "promise_id": promise_id, "order_id": order_id, "cards": cards,
            "created_at": clock::rfc3339(now), "expires_at": clock::rfc3339(now + PROMISE_LIFETIME_S),
        });
        self.settlements.insert(settlement_id, Settlement { body: body.clone(), key_id: key_id.to_string() });
        SimResponse::json(201, &body)
    }
}

/// A settlement is read back only with the key id it was issued for.
fn read_settlement(settlement: Option<&Settlement>, key_id: Option<&str>) -> SimResponse {
    match (settlement, key_id) {
        (_, None) => errors::classic(400, "BAD_VALUE", "The KeyId header is required."),
        (None, _) => errors::classic(404, "NOT_FOUND", "No such settlement."),
        (Some(s), Some(k)) if s.key_id == k => SimResponse::json(200, &s.body),
        (Some(_), Some(_)) => errors::classic(403, "NOT_ALLOWED", "The settlement was issued for another key."),
    }
}
