//! Klarna's error answers, each with a fresh `correlation_id`.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::json;

use super::http::SimResponse;

static NEXT_CORRELATION: AtomicU64 = AtomicU64::new(1);

/// A fresh correlation id, in Klarna's UUID form.
pub fn correlation_id() -> String {
    let n = NEXT_CORRELATION.fetch_add(1, Ordering::Relaxed);
    format!(
        "c0e1a7ed-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (n >> 24) & 0xffff,
        (n >> 12) & 0xfff,
        n & 0xfff,
        n.wrapping_mul(0x9e37_79b9)
    )
}

/// The classic error body: `error_code`, `error_messages`, `correlation_id`.
pub fn classic(status: u16, code: &str, message: &str) -> SimResponse {
    SimResponse::json(
        status,
        &json!({ "error_code": code, "error_messages": [message], "correlation_id": correlation_id() }),
    )
}

/// 401 for missing or wrong credentials.
pub fn unauthorized() -> SimResponse {
    classic(401, "UNAUTHORIZED", "Unauthorized. Check the API credentials, environment and region.")
}

/// 400 `BAD_VALUE` naming the field.
pub fn bad_value(field: &str) -> SimResponse {
    classic(400, "BAD_VALUE", &format!("Bad value: {field}"))
}

/// 404 `NO_SUCH_ORDER`.
pub fn no_such_order() -> SimResponse {
    classic(404, "NO_SUCH_ORDER", "The order does not exist.")
}

/// Klarna answers 403 for paths it does not know.
pub fn unknown_path() -> SimResponse {
    classic(403, "NOT_ALLOWED", "Access denied to the requested resource.")
}

/// 405 for a known path with the wrong method.
pub fn method_not_allowed() -> SimResponse {
    classic(405, "METHOD_NOT_ALLOWED", "Method not allowed.")
}

/// The Klarna Network error body: `error_id`, `error_type`, `error_code`, `error_message`.
pub fn network(status: u16, error_type: &str, code: &str, message: &str) -> SimResponse {
    SimResponse::json(
        status,
        &json!({ "error_id": correlation_id(), "error_type": error_type, "error_code": code, "error_message": message }),
    )
}

/// 400 in the Klarna Network shape, with one entry of `validation_errors`.
pub fn validation(reason: serde_json::Value) -> SimResponse {
    SimResponse::json(
        400,
        &json!({
            "error_id": correlation_id(), "error_type": "INPUT_ERROR", "error_code": "VALIDATION_ERROR",
            "error_message": "The request is not valid.", "validation_errors": [reason],
        }),
    )
}
