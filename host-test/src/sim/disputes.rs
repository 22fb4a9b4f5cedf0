//! Payment Dispute API v4 (`/v4/payment/disputes`): seeded disputes, listed
//! with cursor paging (`size`, `starting_after` = the previous page's
//! `pagination.last_item`, which is null on the last page).

use serde_json::{json, Value};

use super::clock;
use super::errors;
use super::http::{SimResponse, Target};

/// Default and largest page.
const DEFAULT_SIZE: usize = 20;
const MAX_SIZE: usize = 100;

/// The disputes of one merchant, oldest first.
#[derive(Debug, Default)]
pub struct DisputeBook {
    disputes: Vec<Value>,
}

impl DisputeBook {
    /// `count` disputes in various states.
    pub fn seeded(count: usize) -> Self {
        let states = ["INITIATED", "REPRESENTMENT", "PRE_ARBITRATION", "ARBITRATION", "CLOSED"];
        let reasons = ["RETURN_NOT_REFUNDED", "PRODUCTS_NOT_RECEIVED", "PRODUCTS_FAULTY", "CAPTURE_AMOUNT_INCORRECT"];
        let disputes = (0..count as u64)
            .map(|n| {
                json!({
                    "payment_dispute_id": format!("krn:payment:eu1:dispute:{}", clock::uuid(0xd159, n)),
                    "dispute_reason": reasons[n as usize % reasons.len()],
                    "state": states[n as usize % states.len()],
                    "payment_transaction_id": format!("krn:payment:eu1:transaction:{}", clock::uuid(0x7a25, n)),
                    "order_id": clock::uuid(0x0de7, 1000 + n),
                    "dispute_details": { "dispute_amount": 1000 + 37 * n as i64, "currency": "EUR", "created_by": "CUSTOMER" },
                    "created_at": clock::rfc3339(clock::EPOCH_START - (count as i64 - n as i64) * 3600),
                    "updated_at": clock::rfc3339(clock::EPOCH_START - (count as i64 - n as i64) * 1800),
                })
            })
            .collect();
        Self { disputes }
    }

    /// Answers `/v4/payment/disputes/<rest>`.
    pub fn handle(&self, method: &str, rest: &[&str], target: &Target) -> SimResponse {
        match (method, rest) {
            ("GET", []) => self.list(target),
            ("GET", [id]) => match self.disputes.iter().find(|d| d["payment_dispute_id"] == *id) {
                Some(d) => SimResponse::json(200, d),
                None => errors::network(404, "RESOURCE_ERROR", "NOT_FOUND", "The dispute does not exist."),
            },
            _ => errors::network(404, "RESOURCE_ERROR", "NOT_FOUND", "Unknown resource."),
        }
    }

    fn list(&self, target: &Target) -> SimResponse {
        let size = match target.query("size").map(str::parse::<usize>) {
            None => DEFAULT_SIZE,
            Some(Ok(n)) if (1..=MAX_SIZE).contains(&n) => n,
            Some(_) => return errors::network(400, "INPUT_ERROR", "VALIDATION_ERROR", "size must be 1 to 100"),
        };
        let start = match target.query("starting_after") {
            None => 0,
            Some(after) => match self.disputes.iter().position(|d| d["payment_dispute_id"] == after) {
                Some(i) => i + 1,
                None => {
                    return errors::network(
                        400,
                        "INPUT_ERROR",
                        "VALIDATION_ERROR",
                        "starting_after is not a dispute id",
                    )
                }
            },
        };
        let page: Vec<&Value> = self.disputes.iter().skip(start).take(size).collect();
        let more = start + page.len() < self.disputes.len();
        let last_item = if more { page.last().map(|d| d["payment_dispute_id"].clone()) } else { None };
        SimResponse::json(
            200,
            &json!({
                "disputes": page,
                "pagination": {
                    "count": page.len(),
                    "total": self.disputes.len(),
                    "first_item": page.first().map(|d| d["payment_dispute_id"].clone()),
                    "last_item": last_item,
                },
            }),
        )
    }
}
