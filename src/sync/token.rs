//! The texts an incremental read hands the host: the `state` a read ends
//! with and the `cursor` of its next page. Both are opaque to the host:
//! `<kind><version>.<base64url of a JSON object>.<base64url of a check>`,
//! where the check is SHA-256 of the kind, the version and the JSON, cut to
//! 12 bytes. The check finds a text that was cut or edited; it is no secret
//! (anyone can compute it), as a state carries no secret either: an entity
//! name, a digest of the read's parameters, and dates.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::error::{ConnectorError, Result};

/// The version of the texts written now; another one is refused.
pub const VERSION: u32 = 1;

/// Longest text read (a cursor holds at most one parent page's references).
const MAX_CHARS: usize = 64 * 1024;

/// What a read ends with, to start the next one from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct State {
    /// The entity read.
    pub entity: String,
    /// A digest of the read's parameters ([`super::params_digest`]).
    pub params: String,
    /// The latest value of the incremental field seen, RFC 3339 or a date
    /// (the window's end); none when no record had one.
    pub high: Option<String>,
}

/// Where an incremental read goes on: the next page of the entity (or of its
/// parent, and of the current parent record's children), and the latest
/// field value so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cursor {
    /// The entity read.
    pub entity: String,
    /// A digest of the read's parameters.
    pub params: String,
    /// The latest field value so far (carried into the state).
    pub high: Option<String>,
    /// The query of the next page of the entity itself, or of the parent
    /// entity for a child read; none when no page of it is left.
    pub next: Option<String>,
    /// A child read: the parent records of the current page not started yet.
    pub refs: Vec<String>,
    /// A child read: the query of the next page of the current parent
    /// record's children.
    pub child: Option<String>,
}

/// The texts' kinds.
#[derive(Clone, Copy)]
enum Kind {
    State,
    Cursor,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Kind::State => "s",
            Kind::Cursor => "c",
        }
    }
}

/// `state` as the text a page hands the host.
pub fn write_state(state: &State) -> String {
    write(Kind::State, &json!({ "entity": state.entity, "params": state.params, "high": state.high }))
}

/// `cursor` as the text a page hands the host.
pub fn write_cursor(cursor: &Cursor) -> String {
    let value = json!({
        "entity": cursor.entity,
        "params": cursor.params,
        "high": cursor.high,
        "next": cursor.next,
        "refs": cursor.refs,
        "child": cursor.child,
    });
    write(Kind::Cursor, &value)
}

/// The state in `text`; `invalid-input` naming `since` otherwise.
pub fn read_state(text: &str) -> Result<State> {
    let fields = read(Kind::State, "since", text)?;
    Ok(State { high: fields.text("high"), entity: fields.entity, params: fields.params })
}

/// The cursor in `text`; `invalid-input` naming `cursor` otherwise.
pub fn read_cursor(text: &str) -> Result<Cursor> {
    let fields = read(Kind::Cursor, "cursor", text)?;
    let refs = fields.all.get("refs").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    Ok(Cursor {
        high: fields.text("high"),
        next: fields.text("next"),
        refs: refs.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        child: fields.text("child"),
        entity: fields.entity,
        params: fields.params,
    })
}

/// Whether `text` is a cursor of an incremental read (rather than a plain query).
pub fn is_cursor(text: &str) -> bool {
    text.starts_with(Kind::Cursor.prefix()) && text.contains('.')
}

fn write(kind: Kind, value: &Value) -> String {
    let json = value.to_string().into_bytes();
    let head = format!("{}{VERSION}", kind.prefix());
    format!("{head}.{}.{}", URL_SAFE_NO_PAD.encode(&json), URL_SAFE_NO_PAD.encode(check(&head, &json)))
}

/// A text read back: the entity and the parameters' digest every text
/// names, and all its fields for those of its kind.
struct Fields {
    entity: String,
    params: String,
    all: Map<String, Value>,
}

impl Fields {
    /// A text field of the kind's; none when absent or not text.
    fn text(&self, key: &str) -> Option<String> {
        self.all.get(key).and_then(Value::as_str).map(str::to_string)
    }
}

/// The fields of the JSON object in `text`, once its kind, version and check
/// are right and it names its entity and parameters.
fn read(kind: Kind, field: &str, text: &str) -> Result<Fields> {
    let refuse = |why: &str| ConnectorError::input(field, why);
    if text.len() > MAX_CHARS {
        return Err(refuse("is too long to be one this connector wrote"));
    }
    let mut parts = text.split('.');
    let (Some(head), Some(body), Some(sum), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(refuse("is not one this connector wrote (it has three parts)"));
    };
    let version = head.strip_prefix(kind.prefix()).and_then(|v| v.parse::<u32>().ok());
    match version {
        Some(VERSION) => {}
        Some(other) => {
            return Err(refuse(&format!("is of version {other}; this connector reads version {VERSION}")));
        }
        None => return Err(refuse("is not one this connector wrote")),
    }
    let json = URL_SAFE_NO_PAD.decode(body).map_err(|_| refuse("is not one this connector wrote (not base64url)"))?;
    let given = URL_SAFE_NO_PAD.decode(sum).unwrap_or_default();
    if given != check(head, &json) {
        return Err(refuse("does not match its check: it was edited or cut"));
    }
    let Ok(Value::Object(all)) = crate::response::read_json(&json) else {
        return Err(refuse("is not one this connector wrote"));
    };
    let text = |key: &str| all.get(key).and_then(Value::as_str).map(str::to_string);
    let (Some(entity), Some(params)) = (text("entity"), text("params")) else {
        return Err(refuse("is not one this connector wrote"));
    };
    Ok(Fields { entity, params, all })
}

/// The check of a text's body.
fn check(head: &str, json: &[u8]) -> Vec<u8> {
    let digest = Sha256::new().chain_update(b"klarna-connector sync ").chain_update(head).chain_update(json).finalize();
    digest[..12].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> State {
        State { entity: "payouts".into(), params: "p1".into(), high: Some("2026-01-15T00:00:00Z".into()) }
    }

    #[test]
    fn texts_read_back_as_written() {
        assert_eq!(read_state(&write_state(&state())), Ok(state()));
        let cursor = Cursor { entity: "e".into(), refs: vec!["r1".into()], ..Cursor::default() };
        let text = write_cursor(&cursor);
        assert!(is_cursor(&text) && !is_cursor("offset=1&size=2"));
        assert_eq!(read_cursor(&text), Ok(cursor));
    }

    #[test]
    fn edited_cut_foreign_and_other_versions_are_refused_naming_the_field() {
        let text = write_state(&state());
        let (head, rest) = text.split_once('.').expect("parts");
        let (body, sum) = rest.split_once('.').expect("parts");
        let mut json = String::from_utf8(URL_SAFE_NO_PAD.decode(body).expect("base64")).expect("text");
        json = json.replace("2026-01-15", "2025-01-15");
        let edited = format!("{head}.{}.{sum}", URL_SAFE_NO_PAD.encode(json));
        let cases = [
            (edited, "edited or cut"),
            (text[..text.len() - 2].to_string(), "edited or cut"),
            (format!("s2.{rest}"), "version 2"),
            (format!("c1.{rest}"), "not one this connector wrote"),
            ("2026-01-15".to_string(), "three parts"),
            (String::new(), "three parts"),
        ];
        for (given, why) in cases {
            match read_state(&given) {
                Err(ConnectorError::InvalidInput(m)) => {
                    assert!(m.starts_with("since: ") && m.contains(why), "{given}: {m}")
                }
                other => panic!("{given}: {other:?}"),
            }
        }
    }
}
