//! Klarna Network payment rules, checked before a payment request or a
//! payment authorization is sent (Partner Product API – Payment, v2/r6 and
//! stable/v1): a supported ISO 4217 currency, and amounts in minor units
//! between 1 and 2 147 483 647, unless only a customer token is asked for.

use crate::error::{ConnectorError, Result};
use serde_json::Value;

/// Currencies the Payment Request API accepts.
pub const CURRENCIES: [&str; 15] =
    ["AUD", "EUR", "CAD", "CZK", "DKK", "HUF", "MXN", "NZD", "NOK", "PLN", "RON", "SEK", "CHF", "GBP", "USD"];

/// The largest amount Klarna accepts (`int32` maximum), in minor units.
pub const MAX_AMOUNT: i64 = 2_147_483_647;

/// Checks the payment request in `payload` (a JSON object).
pub fn check(payload: &Value) -> Result<()> {
    let Some(request) = payload.as_object() else { return Ok(()) };
    check_currency(request.get("currency"))?;
    match request.get("amount") {
        None if request.contains_key("request_customer_token") => Ok(()),
        None => Err(ConnectorError::input(
            "params.payload.amount",
            "required (minor units), unless the request only asks for a customer token (request_customer_token)",
        )),
        Some(value) => check_amount("params.payload.amount", value),
    }
}

/// Checks the payment authorization in `payload` (a JSON object): a currency,
/// and a `request_payment_transaction` with its amount, or only a
/// `request_customer_token`.
pub fn check_authorization(payload: &Value) -> Result<()> {
    let Some(request) = payload.as_object() else { return Ok(()) };
    check_currency(request.get("currency"))?;
    match request.get("request_payment_transaction") {
        None if request.contains_key("request_customer_token") => Ok(()),
        None => Err(ConnectorError::input(
            "params.payload.request_payment_transaction",
            "required ({amount, payment_transaction_reference}), unless only a customer token is asked for",
        )),
        Some(transaction) => match transaction.get("amount") {
            None => Err(ConnectorError::input("params.payload.request_payment_transaction.amount", "required")),
            Some(amount) => check_amount("params.payload.request_payment_transaction.amount", amount),
        },
    }
}

fn check_currency(value: Option<&Value>) -> Result<()> {
    let Some(value) = value else {
        return Err(ConnectorError::input("params.payload.currency", "required (ISO 4217, e.g. EUR)"));
    };
    let currency = value.as_str().unwrap_or_default();
    if CURRENCIES.iter().any(|c| c.eq_ignore_ascii_case(currency)) {
        return Ok(());
    }
    Err(ConnectorError::input(
        "params.payload.currency",
        format!("{currency:?} is not a currency of Klarna Network payments ({})", CURRENCIES.join(", ")),
    ))
}

fn check_amount(field: &str, value: &Value) -> Result<()> {
    match value.as_i64() {
        Some(amount) if (1..=MAX_AMOUNT).contains(&amount) => Ok(()),
        Some(amount) => {
            Err(ConnectorError::input(field, format!("must be 1 to {MAX_AMOUNT} minor units, got {amount}")))
        }
        None => Err(ConnectorError::input(
            field,
            format!("must be a whole number of minor units (25.00 EUR is 2500), got {value}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reason(payload: Value) -> String {
        match check(&payload) {
            Err(ConnectorError::InvalidInput(message)) => message,
            other => panic!("expected invalid input, got {other:?}"),
        }
    }

    #[test]
    fn a_complete_request_passes() {
        let request = json!({"currency": "EUR", "amount": 1000, "customer_interaction_config": {"method": "HANDOVER"}});
        assert!(check(&request).is_ok());
        assert!(check(&json!({"currency": "usd", "amount": 1})).is_ok(), "the pattern allows lower case");
        assert!(check(
            &json!({"currency": "SEK", "request_customer_token": {"scopes": ["payment:customer_not_present"]}})
        )
        .is_ok());
    }

    #[test]
    fn currency_is_required_and_supported() {
        assert_eq!(reason(json!({"amount": 100})), "params.payload.currency: required (ISO 4217, e.g. EUR)");
        assert!(
            reason(json!({"currency": "JPY", "amount": 100})).starts_with("params.payload.currency: \"JPY\" is not")
        );
        assert!(reason(json!({"currency": 978, "amount": 100})).starts_with("params.payload.currency: \"\" is not"));
    }

    #[test]
    fn an_authorization_needs_a_transaction_or_a_token_request() {
        let approved = json!({"currency": "EUR", "request_payment_transaction": {"amount": 2500, "payment_transaction_reference": "t1"}});
        assert!(check_authorization(&approved).is_ok());
        assert!(check_authorization(&json!({"currency": "EUR", "request_customer_token": {"scopes": ["x"]}})).is_ok());
        let bare = match check_authorization(&json!({"currency": "EUR"})) {
            Err(ConnectorError::InvalidInput(m)) => m,
            other => panic!("{other:?}"),
        };
        assert!(bare.starts_with("params.payload.request_payment_transaction: required"), "{bare}");
        let zero = json!({"currency": "EUR", "request_payment_transaction": {"amount": 0}});
        assert!(
            matches!(check_authorization(&zero), Err(ConnectorError::InvalidInput(m)) if m.starts_with("params.payload.request_payment_transaction.amount: must be 1"))
        );
        assert!(check_authorization(&json!({"currency": "XXX", "request_payment_transaction": {"amount": 1}})).is_err());
    }

    #[test]
    fn amount_is_whole_minor_units_in_range() {
        assert!(reason(json!({"currency": "EUR"})).starts_with("params.payload.amount: required"));
        assert_eq!(
            reason(json!({"currency": "EUR", "amount": 0})),
            "params.payload.amount: must be 1 to 2147483647 minor units, got 0"
        );
        assert!(reason(json!({"currency": "EUR", "amount": 2_147_483_648_i64})).contains("got 2147483648"));
        assert!(reason(json!({"currency": "EUR", "amount": 10.5})).contains("whole number"));
        assert!(reason(json!({"currency": "EUR", "amount": "1000"})).contains("whole number"));
    }
}
