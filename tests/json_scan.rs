//! The record path's JSON scanner held to serde_json, on generated JSON
//! texts of which about half are then broken by one edit:
//! - a text is accepted exactly when serde_json accepts it as a skipped
//!   value (`IgnoredAny`), and an accepted value's extent is the whole text;
//! - the texts reach what a scanner gets wrong first, each a gated case the
//!   run must reach: nesting deeper than 4 (up to 200 levels), strings over
//!   256 bytes (skipped 8 bytes at a time), surrogate-pair and lone surrogate
//!   escapes, `-0`, `1e309` and other exponents beyond f64's range;
//! - a list answer gives the records and the paging value that the previous
//!   serde_json reader (`RawValue` records, kept below as the oracle) gave,
//!   or is refused where it refused.
//!
//! `FUZZ_CASES` sets the number of cases (default 3,000, fixed seed); each
//! property prints how many cases reached each outcome and fails when one
//! was never reached or too few texts survived the edits.

use std::borrow::Cow;

use crate::support::tally::Tally;
use klarna_connector::error::ConnectorError;
use klarna_connector::json_scan::{self, Scanner};
use klarna_connector::manifest::Manifest;
use klarna_connector::pagination::read_page;
use proptest::prelude::*;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::Value;

/// Strings with what JSON must escape or may carry: quotes, backslashes,
/// control characters, and multi-byte UTF-8; now and then over 256 bytes.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => "[a-z \"\\\\/\n\t\u{1}\u{1f}é€😀]{0,12}",
        1 => "[a-zé€😀 \"\\\\]{260,700}",
    ]
}

/// Number and escape tokens serde_json never writes, put into a written
/// text in place of a marker string ([`RAW`]).
const RAW_TOKENS: &[&str] = &[
    "-0",
    "-0.0",
    "0e0",
    "1e309",
    "-1e309",
    "1e-400",
    "1E+999999999999999999",
    "123456789012345678901234567890",
    "\"\\ud83d\\ude00\"",
    "\"a\\uD83D\\uDE00b\"",
    "\"\\udc00\"",
    "\"\\ud800\\u0041\"",
];

/// The marker a raw token's string leaf starts with (`\u{0}` never comes
/// out of [`text`] unescaped).
const RAW: &str = "\u{0}raw";

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        2 => Just(Value::Null),
        2 => any::<bool>().prop_map(Value::Bool),
        2 => any::<i64>().prop_map(Value::from),
        2 => (-1e9f64..1e9).prop_map(Value::from),
        4 => text().prop_map(Value::String),
        2 => (0..RAW_TOKENS.len()).prop_map(|i| Value::String(format!("{RAW}{i}"))),
    ];
    leaf.prop_recursive(6, 48, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((text(), inner), 0..5)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

/// A value wrapped in 5 to 200 arrays or single-member objects.
fn deep() -> impl Strategy<Value = Value> {
    (json(), prop::collection::vec(any::<bool>(), 5..200)).prop_map(|(mut value, levels)| {
        for in_array in levels {
            value = if in_array { Value::Array(vec![value]) } else { serde_json::json!({ "k": value }) };
        }
        value
    })
}

/// JSON text as serde_json writes it, compact or indented, with each raw
/// token's marker string replaced by the token.
fn written(value: &Value, pretty: bool) -> String {
    let mut written = if pretty { serde_json::to_string_pretty(value) } else { serde_json::to_string(value) };
    let Ok(text) = written.as_mut() else { return String::new() };
    for (i, token) in RAW_TOKENS.iter().enumerate().rev() {
        *text = text.replace(&format!("\"\\u0000raw{i}\""), token);
    }
    written.unwrap_or_default()
}

/// What a text holds that the gated cases ask for.
fn features(text: &str, value: &Value) -> Vec<&'static str> {
    let mut found = Vec::new();
    if depth(value) > 4 {
        found.push("nesting deeper than 4");
    }
    if long_string(value) {
        found.push("a string over 256 bytes");
    }
    let lower = text.to_ascii_lowercase();
    if lower.contains("\\ud83d\\ude00") {
        found.push("a surrogate pair escape");
    }
    if lower.contains("\\udc00") || lower.contains("\\ud800\\u0041") {
        found.push("a lone surrogate escape");
    }
    if text.contains("-0,") || text.contains("-0]") || text.contains("-0}") || text.contains("-0.0") || text == "-0" {
        found.push("-0");
    }
    if text.contains("1e309") {
        found.push("1e309");
    }
    if text.contains("1E+999999999999999999") || text.contains("1e-400") {
        found.push("an exponent far beyond f64");
    }
    found
}

fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fn long_string(value: &Value) -> bool {
    match value {
        Value::String(s) => s.len() > 256,
        Value::Array(items) => items.iter().any(long_string),
        Value::Object(map) => map.iter().any(|(k, v)| k.len() > 256 || long_string(v)),
        _ => false,
    }
}

/// Pieces an edit inserts: structure, escapes (the forms serde_json never
/// writes too), number and literal parts, whitespace, a raw control byte.
const PIECES: &[&str] = &[
    "\"", "\\", "\\u00e9", "\\ud800", "\\/", "\\x", "{", "}", "[", "]", ",", ":", "-", "0", "01", "1e5", "2.", ".5",
    "e", "E+", "true", "nul", " ", "\n", "\u{1}", "é", "{}", "[]", "\"k\":1",
];

/// One edit at a character boundary: delete a run, insert a piece, or
/// replace a run with a piece.
#[derive(Debug, Clone)]
enum Edit {
    None,
    Delete { at: usize, len: usize },
    Insert { at: usize, piece: usize },
    Replace { at: usize, len: usize, piece: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        2 => Just(Edit::None),
        1 => (any::<usize>(), 1..3usize).prop_map(|(at, len)| Edit::Delete { at, len }),
        1 => (any::<usize>(), 0..PIECES.len()).prop_map(|(at, piece)| Edit::Insert { at, piece }),
        1 => (any::<usize>(), 1..3usize, 0..PIECES.len()).prop_map(|(at, len, piece)| Edit::Replace { at, len, piece }),
    ]
}

fn apply(text: &str, edit: &Edit) -> String {
    let bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
    let pick = |at: usize| bounds[at % bounds.len()];
    let span = |at: usize, len: usize| {
        let start = at % bounds.len();
        (bounds[start], bounds[(start + len).min(bounds.len() - 1)])
    };
    match *edit {
        Edit::None => text.to_string(),
        Edit::Delete { at, len } => {
            let (from, to) = span(at, len);
            format!("{}{}", &text[..from], &text[to..])
        }
        Edit::Insert { at, piece } => {
            let at = pick(at);
            format!("{}{}{}", &text[..at], PIECES[piece], &text[at..])
        }
        Edit::Replace { at, len, piece } => {
            let (from, to) = span(at, len);
            format!("{}{}{}", &text[..from], PIECES[piece], &text[to..])
        }
    }
}

/// A generated JSON text (now and then deeply nested), compact or
/// indented, then maybe broken by one edit; with the gated features of the
/// text before the edit.
fn edited_text() -> impl Strategy<Value = (String, Vec<&'static str>)> {
    let value = prop_oneof![6 => json(), 1 => deep()];
    (value, any::<bool>(), edit()).prop_map(|(value, pretty, edit)| {
        let text = written(&value, pretty);
        let found = features(&text, &value);
        (apply(&text, &edit), found)
    })
}

/// The cases every run must reach (each counted whether the edit kept the text valid or not).
const GATED: &[&str] = &[
    "nesting deeper than 4",
    "a string over 256 bytes",
    "a surrogate pair escape",
    "a lone surrogate escape",
    "-0",
    "1e309",
    "an exponent far beyond f64",
];

#[test]
fn the_scanner_accepts_what_serde_json_accepts() {
    let (mut runner, cases) = crate::support::runner("tests/proptest-regressions/json_scan.txt");
    let tally = Tally::default();
    let outcome = runner.run(&edited_text(), |(text, found)| {
        let theirs = serde_json::from_str::<IgnoredAny>(&text).is_ok();
        let ours = json_scan::whole(&text, Scanner::value).ok();
        prop_assert_eq!(ours.is_some(), theirs, "scanner and serde_json disagree on {:?}", text);
        if let Some(extent) = ours {
            prop_assert_eq!(extent, text.trim_matches([' ', '\t', '\n', '\r']), "the value's extent");
            tally.passed("text");
            found.iter().for_each(|f| tally.passed(f));
        } else {
            tally.refused("text");
            found.iter().for_each(|f| tally.refused(f));
        }
        Ok(())
    });
    tally.print_and_check(cases, outcome);
    let unreached = tally.unreached(GATED);
    assert!(unreached.is_empty(), "never reached: {unreached:?}");
    let accepted_unreached: Vec<_> = GATED.iter().filter(|f| tally.passed_count(f) == 0).collect();
    assert!(accepted_unreached.is_empty(), "never reached in a valid text: {accepted_unreached:?}");
    let (passed, refused) = (tally.passed_count("text"), tally.refused_count("text"));
    assert!(passed * 4 >= u64::from(cases) && refused * 4 >= u64::from(cases), "{passed} valid, {refused} broken");
}

// The oracle: the list reader this scanner replaced, on serde_json's
// `RawValue` (a dev-only feature here).

struct OracleBody<'a> {
    records: Option<Vec<&'a RawValue>>,
    /// The last paging member, read as a value only once the body is read
    /// (a key given twice counts the last time, as serde_json's maps have it).
    paging: Option<&'a RawValue>,
}

struct OracleSeed<'k> {
    records: &'k str,
    paging: &'k str,
}

impl<'de> DeserializeSeed<'de> for OracleSeed<'_> {
    type Value = OracleBody<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for OracleSeed<'_> {
    type Value = OracleBody<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "an object with `{}`", self.records)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut body = OracleBody { records: None, paging: None };
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key == self.records {
                body.records = map.next_value::<Option<Vec<&'de RawValue>>>()?;
            } else if key == self.paging {
                body.paging = Some(map.next_value::<&'de RawValue>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(body)
    }
}

/// What the previous reader made of a payouts answer: the records' texts
/// and the next link, or `None` where it refused the answer.
fn oracle(body: &str) -> Option<(Vec<String>, Option<String>)> {
    if body.trim().is_empty() {
        return Some((vec![], None));
    }
    let mut deserializer = serde_json::Deserializer::from_str(body);
    let list = OracleSeed { records: "payouts", paging: "pagination" }.deserialize(&mut deserializer).ok()?;
    deserializer.end().ok()?;
    let records = list.records.unwrap_or_default();
    if records.iter().any(|r| !r.get().starts_with('{')) {
        return None;
    }
    let paging: Option<Value> = match list.paging {
        Some(raw) => serde_json::from_str(raw.get()).ok()?,
        None => None,
    };
    let next = match paging.as_ref().and_then(|p| p.pointer("/next")) {
        None | Some(Value::Null) => None,
        Some(Value::String(link)) => Some(link.clone()).filter(|l| !l.is_empty()),
        Some(_) => return None,
    };
    Some((records.iter().map(|r| r.get().to_string()).collect(), next))
}

const NEXT: &str = "https://api.klarna.com/settlements/v1/payouts?offset=2&size=2";

/// A payouts answer: records (mostly objects), the pagination object, and
/// other members, in any order, some given twice.
fn payouts_answer() -> impl Strategy<Value = String> {
    let record = prop_oneof![
        4 => prop::collection::vec((text(), json()), 0..5).prop_map(|m| Value::Object(m.into_iter().collect())),
        1 => json(),
    ];
    let records = prop_oneof![
        8 => prop::collection::vec(record, 0..5).prop_map(Value::Array),
        1 => Just(Value::Null),
        1 => json(),
    ];
    let next = prop_oneof![
        4 => Just(Value::from(NEXT)),
        1 => Just(Value::Null),
        1 => Just(Value::from("")),
        1 => json(),
    ];
    let member = prop_oneof![
        3 => records.prop_map(|r| ("payouts".to_string(), r)),
        2 => next.prop_map(|n| ("pagination".to_string(), serde_json::json!({ "next": n }))),
        2 => (text(), json()),
    ];
    (prop::collection::vec(member, 0..5), any::<bool>()).prop_map(|(members, pretty)| {
        let written: Vec<String> = members
            .iter()
            .map(|(key, value)| format!("{}:{}", Value::from(key.as_str()), written(value, pretty)))
            .collect();
        format!("{{{}}}", written.join(if pretty { ",\n " } else { "," }))
    })
}

#[test]
fn list_answers_read_as_the_serde_json_reader_read_them() {
    let (mut runner, cases) = crate::support::runner("tests/proptest-regressions/json_scan.txt");
    let tally = Tally::default();
    let payouts = Manifest::get().entity("payouts").expect("payouts is in connector.json");
    let outcome = runner.run(&(payouts_answer(), edit()), |(answer, edit)| {
        let body = apply(&answer, &edit);
        let ours = read_page(payouts, body.as_bytes(), "api.klarna.com", "/settlements/v1/payouts", "size=2");
        match (oracle(&body), ours) {
            // An edit inside the link: the link's own checks (pagination.rs's
            // unit tests) may refuse it, after the same records were read.
            (Some((_, Some(link))), Err(ConnectorError::Unexpected(e))) if link != NEXT => {
                let message = e.messages.join(" ");
                prop_assert!(message.contains("pagination.next"), "{:?}: {}", body, message);
                tally.refused("answer: edited next link");
            }
            (Some((records, next)), Ok(page)) => {
                prop_assert_eq!(&page.records, &records, "records of {:?}", body);
                prop_assert_eq!(page.next_cursor.is_some(), next.is_some(), "next of {:?}", body);
                tally.passed(if records.is_empty() { "answer: no records" } else { "answer: records" });
                if next.is_some() {
                    tally.passed("answer: a next page");
                }
            }
            (None, Err(_)) => tally.refused("answer"),
            (theirs, ours) => prop_assert!(false, "{:?}: serde_json read {:?}, the scanner {:?}", body, theirs, ours),
        }
        Ok(())
    });
    tally.print_and_check(cases, outcome);
    assert!(tally.unreached(&["answer", "answer: records", "answer: no records", "answer: a next page"]).is_empty());
    let read = tally.passed_count("answer: records") + tally.passed_count("answer: no records");
    assert!(read * 4 >= u64::from(cases) && tally.refused_count("answer") * 4 >= u64::from(cases), "{read} read");
}
