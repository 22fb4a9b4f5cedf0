//! The checks connector.json names (`checks` of an entity on a write's
//! payload, `answer_checks` of a callback on the flow's answer), run before
//! anything is sent: Klarna's order rules, Klarna Network's payment rules,
//! and a Checkout order's shipping options.

use serde_json::Value;

use crate::error::{ConnectorError, Result};
use crate::manifest::Check;
use crate::{order_data, payment_request};

/// `shipping_method`s of a shipping option.
const SHIPPING_METHODS: [&str; 9] =
    ["PickUpStore", "Home", "BoxReg", "BoxUnreg", "PickUpPoint", "Own", "Postal", "DHLPackstation", "Digital"];

/// Longest `merchant_data` of an updated order.
const MAX_MERCHANT_DATA: usize = 1024;

/// Runs `checks` (an entity's on a write's payload, or a callback's on an
/// answer) on `payload`; the first violation names the field.
pub fn run_checks(checks: &[Check], payload: &Value) -> Result<()> {
    for check in checks {
        match check {
            Check::Order => order_data::check(payload)?,
            Check::PaymentRequest => payment_request::check(payload)?,
            Check::PaymentAuthorization => payment_request::check_authorization(payload)?,
            Check::ShippingOptions => check_shipping_options(payload)?,
        }
    }
    Ok(())
}

/// Checks the shipping options and merchant data of an order (as a payload:
/// fields are named `params.payload.…`).
pub fn check_shipping_options(order: &Value) -> Result<()> {
    let field = |rest: &str| format!("params.payload.{rest}");
    if let Some(data) = order.get("merchant_data").and_then(Value::as_str) {
        if data.chars().count() > MAX_MERCHANT_DATA {
            return Err(ConnectorError::input(
                field("merchant_data"),
                format!("at most {MAX_MERCHANT_DATA} characters"),
            ));
        }
    }
    let Some(options) = order.get("shipping_options") else { return Ok(()) };
    let options =
        options.as_array().ok_or_else(|| ConnectorError::input(field("shipping_options"), "must be a list"))?;
    for (i, option) in options.iter().enumerate() {
        let at = |key: &str| field(&format!("shipping_options[{i}].{key}"));
        let option = option.as_object().ok_or_else(|| ConnectorError::input(at(""), "must be an object"))?;
        let text = |key: &str| option.get(key).and_then(Value::as_str);
        if text("id").is_none_or(str::is_empty) {
            return Err(ConnectorError::input(at("id"), "required"));
        }
        if !text("name").is_some_and(|n| (1..=255).contains(&n.chars().count())) {
            return Err(ConnectorError::input(at("name"), "required, 1 to 255 characters"));
        }
        for key in ["price", "tax_amount"] {
            if option.get(key).and_then(Value::as_i64).is_none_or(|v| v < 0) {
                return Err(ConnectorError::input(at(key), "required, a whole number of minor units, at least 0"));
            }
        }
        if !option.get("tax_rate").and_then(Value::as_i64).is_some_and(|r| (0..=10_000).contains(&r)) {
            return Err(ConnectorError::input(at("tax_rate"), "required, 0 to 10000 (two implicit decimals)"));
        }
        if let Some(method) = option.get("shipping_method") {
            if !method.as_str().is_some_and(|m| SHIPPING_METHODS.contains(&m)) {
                return Err(ConnectorError::input(
                    at("shipping_method"),
                    format!("must be one of {}", SHIPPING_METHODS.join(", ")),
                ));
            }
        }
    }
    Ok(())
}
