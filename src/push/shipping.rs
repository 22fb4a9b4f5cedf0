//! The flow's answers to Klarna's Shipping Service (Shipping Service
//! Callback API 1.3.0), rendered with the callback's media type:
//!
//! - `{"options": {…}}`: the shipping options, passed through untouched
//!   (Klarna's material does not give their full schema);
//! - `{"reservation": {…}}`: a shipment reservation, passed through, with the
//!   `Location` the Shipping Service reads it back from: the `public_url`
//!   setting followed by the callback's `location` path, whose `{field}`
//!   comes from the reservation or else from the setting of that name;
//! - `{"failure_reason": "…"}`: 400 with that body, which interrupts the purchase.

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use serde_json::{json, Value};

use super::content_type;
use crate::config::ValidConfig;
use crate::error::{ConnectorError, Result};
use crate::manifest::CallbackSpec;
use crate::model::Reply;
use crate::path::fill;

/// A path segment of the `Location` handed back: the controls, space,
/// `" # % / < > ? `` ` `` { }` are encoded, the other segment characters stay.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// The status of a `failure_reason` answer.
pub const FAILURE_STATUS: u16 = 400;

/// Longest `failure_reason` sent back (it is for debugging, not for the customer).
const MAX_FAILURE_CHARS: usize = 1000;

/// `{"options": {…}}`: the callback's success status with the object as it is.
pub fn options(callback: &CallbackSpec, value: &Value) -> Result<Reply> {
    if !value.is_object() {
        return Err(ConnectorError::input("answer.options", "must be an object (the shipping options response)"));
    }
    Ok(success(callback, value, vec![]))
}

/// `{"reservation": {…}}`: the reservation as it is, with its `Location`.
pub fn reservation(config: &ValidConfig, callback: &CallbackSpec, value: &Value) -> Result<Reply> {
    let object = value.as_object().ok_or_else(|| ConnectorError::input("answer.reservation", "must be an object"))?;
    let template = callback.location.unwrap_or_default();
    let base = config
        .value("public_url")
        .ok_or_else(|| ConnectorError::config("settings.public_url", "required to answer a reservation"))?;
    check_public_url(base)?;
    let path = fill(template, &mut |field| {
        let given = match object.get(field) {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(Value::Null) | None => None,
            Some(_) => return Err(ConnectorError::input(format!("answer.reservation.{field}"), "must be text")),
        };
        let value = given.or_else(|| config.value(field).map(str::to_string)).ok_or_else(|| {
            ConnectorError::input(format!("answer.reservation.{field}"), format!("required (or the {field} setting)"))
        })?;
        if value.chars().any(char::is_control) || value.len() > 255 {
            return Err(ConnectorError::input(
                format!("answer.reservation.{field}"),
                "at most 255 bytes without control characters",
            ));
        }
        Ok(utf8_percent_encode(&value, SEGMENT).to_string())
    })?;
    let location = format!("{}{path}", base.trim_end_matches('/'));
    Ok(success(callback, value, vec![("Location".into(), location)]))
}

/// `{"failure_reason": "…"}`: 400 with `{failure_reason}`.
pub fn failure(callback: &CallbackSpec, value: &Value) -> Result<Reply> {
    let text = value.as_str().map(str::trim).filter(|t| !t.is_empty() && t.chars().count() <= MAX_FAILURE_CHARS);
    let Some(text) = text else {
        return Err(ConnectorError::input(
            "answer.failure_reason",
            format!("must be text of 1 to {MAX_FAILURE_CHARS} characters"),
        ));
    };
    let body = json!({ "failure_reason": text }).to_string().into_bytes();
    Ok(Reply { status: FAILURE_STATUS, headers: content_type(callback.media_type), body })
}

/// The `public_url` setting: an absolute `https://` URL with a host, no user info and no query.
pub fn check_public_url(url: &str) -> Result<()> {
    crate::link::https_setting("settings.public_url", url)
}

/// The callback's success status (200 unless it says otherwise) with `value` as the body.
fn success(callback: &CallbackSpec, value: &Value, mut headers: Vec<(String, String)>) -> Reply {
    headers.extend(content_type(callback.media_type));
    Reply { status: callback.answer_status.unwrap_or(200), headers, body: value.to_string().into_bytes() }
}
