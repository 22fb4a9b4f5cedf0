//! The flow's answer to a callback, checked against Klarna's rules for it and
//! rendered as the HTTP reply Klarna expects (Kustom Checkout callback API:
//! `shipping_service_response`, `shipping_service_error_response`; the
//! Shipping Service's forms are in [`super::shipping`]).
//!
//! An answer is a JSON object with exactly one of the callback's forms:
//! `{"approve": true}`, `{"redirect": "https://…"}`,
//! `{"error": {"error_type", "error_text"}}`, `{"order": {…}}`,
//! `{"options": {…}}`, `{"reservation": {…}}` or `{"failure_reason": "…"}`.

use super::shipping;
use crate::checks::run_checks;
use crate::config::ValidConfig;
use crate::error::{ConnectorError, Result};
use crate::manifest::{AnswerForm, CallbackSpec};
use crate::model::Reply;
use serde_json::{json, Map, Value};

/// `error_type`s Klarna shows to the customer.
const ERROR_TYPES: [&str; 3] = ["address_error", "unsupported_shipping_address", "approval_failed"];

/// Fields an updated order must carry.
const ORDER_FIELDS: [&str; 4] = ["order_amount", "order_tax_amount", "order_lines", "purchase_currency"];

/// Longest redirect URL (Klarna's limit on `merchant_urls`).
const MAX_URL_CHARS: usize = 2000;

/// Renders `answer` for `callback`, or `invalid-input` naming the first wrong field.
pub fn render(config: &ValidConfig, callback: &CallbackSpec, answer: &str) -> Result<Reply> {
    let answer: Value = crate::response::read_json(answer.as_bytes())
        .map_err(|e| ConnectorError::input("answer", format!("is not JSON ({e})")))?;
    let forms: Vec<String> = callback.answers.iter().map(|f| format!("{{\"{}\": …}}", f.key())).collect();
    let expected = || format!("must be one of {} for {}", forms.join(", "), callback.kind);
    let Some(object) = answer.as_object().filter(|o| o.len() == 1) else {
        return Err(ConnectorError::input("answer", expected()));
    };
    let Some((key, value)) = object.iter().next() else { return Err(ConnectorError::input("answer", expected())) };
    let Some(form) = callback.answers.iter().find(|f| f.key() == key) else {
        return Err(ConnectorError::input("answer", expected()));
    };
    match form {
        AnswerForm::Approve if *value == Value::Bool(true) => Ok(reply(200, vec![], vec![])),
        AnswerForm::Approve => Err(ConnectorError::input("answer.approve", "must be true")),
        AnswerForm::Redirect => {
            let url = value.as_str().ok_or_else(|| ConnectorError::input("answer.redirect", "must be a URL"))?;
            check_https_url(url)?;
            Ok(reply(303, vec![("Location".into(), url.into())], vec![]))
        }
        AnswerForm::Error => {
            let body = error_body(value)?;
            Ok(reply(400, super::content_type(None), body.to_string().into_bytes()))
        }
        AnswerForm::Order => {
            let order = value.as_object().ok_or_else(|| ConnectorError::input("answer.order", "must be an object"))?;
            if let Some(missing) = ORDER_FIELDS.iter().find(|f| order.get(**f).is_none_or(Value::is_null)) {
                return Err(ConnectorError::input(format!("answer.order.{missing}"), "required"));
            }
            run_checks(callback.answer_checks, value).map_err(|e| rename(e, "params.payload", "answer.order"))?;
            Ok(reply(200, super::content_type(None), value.to_string().into_bytes()))
        }
        AnswerForm::Options => shipping::options(callback, value),
        AnswerForm::Reservation => shipping::reservation(config, callback, value),
        AnswerForm::Failure => shipping::failure(callback, value),
    }
}

/// `{error_type, error_text}`, both required; no other fields.
fn error_body(value: &Value) -> Result<Value> {
    let object: &Map<String, Value> =
        value.as_object().ok_or_else(|| ConnectorError::input("answer.error", "must be an object"))?;
    if let Some(extra) = object.keys().find(|k| !matches!(k.as_str(), "error_type" | "error_text")) {
        return Err(ConnectorError::input(format!("answer.error.{extra}"), "unknown field"));
    }
    let error_type = object.get("error_type").and_then(Value::as_str).filter(|t| ERROR_TYPES.contains(t));
    let Some(error_type) = error_type else {
        return Err(ConnectorError::input(
            "answer.error.error_type",
            format!("must be one of {}", ERROR_TYPES.join(", ")),
        ));
    };
    let text = object.get("error_text").and_then(Value::as_str).filter(|t| !t.trim().is_empty());
    let Some(error_text) = text else {
        return Err(ConnectorError::input("answer.error.error_text", "required: the message the customer sees"));
    };
    Ok(json!({ "error_type": error_type, "error_text": error_text }))
}

/// An absolute `https://` URL with a host, at most 2,000 characters.
fn check_https_url(url: &str) -> Result<()> {
    let why = match crate::link::merchant_url(url) {
        Ok(_) if url.chars().count() > MAX_URL_CHARS => format!("is over {MAX_URL_CHARS} characters"),
        Ok(_) => return Ok(()),
        Err(why) => why,
    };
    Err(ConnectorError::input(
        "answer.redirect",
        format!("must be an absolute https:// URL without user info, at most {MAX_URL_CHARS} characters: it {why}"),
    ))
}

/// Renames the field an `invalid-input` message starts with (`from…` to `to…`).
fn rename(error: ConnectorError, from: &str, to: &str) -> ConnectorError {
    match error {
        ConnectorError::InvalidInput(m) => match m.strip_prefix(from) {
            Some(rest) => ConnectorError::InvalidInput(format!("{to}{rest}")),
            None => ConnectorError::InvalidInput(m),
        },
        other => other,
    }
}

fn reply(status: u16, headers: Vec<(String, String)>, body: Vec<u8>) -> Reply {
    Reply { status, headers, body }
}
