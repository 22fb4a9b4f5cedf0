//! Customer Token API v1 (`/customer-token/v1/tokens/{token}`): tokens made
//! from an authorization (Payments), charged for recurring orders until the
//! merchant cancels them; a cancelled token refuses further orders.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::errors;
use super::http::SimResponse;
use super::order_management::OrderBook;

/// A token's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenStatus {
    /// Can be charged.
    Active,
    /// Cancelled by the merchant.
    Cancelled,
}

#[derive(Debug)]
struct Token {
    status: TokenStatus,
    currency: String,
    country: String,
    locale: String,
}

/// The customer tokens of one merchant.
#[derive(Debug, Default)]
pub struct TokenBook {
    tokens: BTreeMap<String, Token>,
}

impl TokenBook {
    /// Registers a token issued for a purchase in `country` / `currency`.
    pub fn issue(&mut self, token_id: &str, country: &str, currency: &str, locale: &str) {
        let token = Token {
            status: TokenStatus::Active,
            currency: currency.into(),
            country: country.into(),
            locale: locale.into(),
        };
        self.tokens.insert(token_id.to_string(), token);
    }

    /// Answers `/customer-token/v1/tokens/<token>/<rest>`.
    pub fn handle(
        &mut self,
        method: &str,
        token_id: &str,
        rest: &[&str],
        body: &[u8],
        orders: &mut OrderBook,
        now: i64,
    ) -> SimResponse {
        let Some(token) = self.tokens.get_mut(token_id) else {
            return errors::classic(404, "NOT_FOUND", "The customer token does not exist.");
        };
        let payload = serde_json::from_slice::<Value>(body).ok().filter(Value::is_object);
        match (method, rest) {
            ("GET", []) => SimResponse::json(
                200,
                &json!({
                    "status": if token.status == TokenStatus::Active { "ACTIVE" } else { "CANCELLED" },
                    "payment_method_type": "INVOICE",
                }),
            ),
            ("PATCH", ["status"]) => match payload.as_ref().and_then(|p| p.get("status")).and_then(Value::as_str) {
                Some("CANCELLED") => {
                    token.status = TokenStatus::Cancelled;
                    SimResponse::empty(202)
                }
                _ => errors::bad_value("status"),
            },
            ("POST", ["order"]) => {
                if token.status == TokenStatus::Cancelled {
                    return errors::classic(403, "NOT_ALLOWED", "The customer token is cancelled.");
                }
                let Some(p) = payload else { return errors::bad_value("body") };
                for field in ["purchase_currency", "order_amount", "order_tax_amount", "order_lines"] {
                    if p.get(field).is_none() {
                        return errors::bad_value(field);
                    }
                }
                if p["purchase_currency"] != token.currency.as_str() {
                    return errors::bad_value("purchase_currency");
                }
                let lines = p["order_lines"].as_array().cloned().unwrap_or_default();
                let total: Option<i64> = lines.iter().map(|l| l.get("total_amount").and_then(Value::as_i64)).sum();
                let amount = p["order_amount"].as_i64();
                if total.is_none() || total != amount {
                    return errors::bad_value("order_amount");
                }
                let order_id = orders.place_with_lines(
                    amount.unwrap_or(0),
                    &token.currency,
                    &token.country,
                    &token.locale,
                    Value::Array(lines),
                    now,
                );
                SimResponse::json(
                    200,
                    &json!({
                        "order_id": order_id,
                        "fraud_status": "ACCEPTED",
                        "redirect_url": format!("https://payments.playground.klarna.com/redirect/{}", &order_id[..8]),
                        "authorized_payment_method": { "type": "invoice", "number_of_days": 30 },
                    }),
                )
            }
            (_, [] | ["status"] | ["order"]) => errors::method_not_allowed(),
            _ => errors::unknown_path(),
        }
    }
}
