//! The record path's JSON scanner held to serde_json, on generated JSON
//! texts of which about half are then broken by one edit:
//! - a text is accepted exactly when serde_json accepts it as a skipped
//!   value (`IgnoredAny`), and an accepted value's extent is the whole text;
//! - the connector's JSON values (`src/json.rs`) are read from exactly the
//!   texts serde_json reads, to the same value, and written back as the
//!   same text (numbers serde_json reads as floats: the same value; one
//!   beyond f64's range, which serde_json refuses, is kept as written);
//! - a list answer gives the records and the paging value that the previous
//!   serde_json reader (`RawValue` records, kept below as the oracle) gave,
//!   or is refused where it refused.
//!
//! `FUZZ_CASES` sets the number of cases (default 3,000, fixed seed); each
//! property prints how many cases reached each outcome and fails when one
//! was never reached or too few texts survived the edits.

#[allow(dead_code)] // the runner and the tally, not the fake Klarna
mod support;

use std::borrow::Cow;

use klarna_connector::error::ConnectorError;
use klarna_connector::json;
use klarna_connector::json_scan::{self, Scanner};
use klarna_connector::manifest::Manifest;
use klarna_connector::pagination::read_page;
use proptest::prelude::*;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::Value;
use support::tally::Tally;

/// Strings with what JSON must escape or may carry: quotes, backslashes,
/// control characters, and multi-byte UTF-8.
fn text() -> impl Strategy<Value = String> {
    "[a-z \"\\\\/\n\t\u{1}\u{1f}é€😀]{0,12}"
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e9f64..1e9).prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((text(), inner), 0..6)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

/// JSON text as serde_json writes it, compact or indented.
fn written(value: &Value, pretty: bool) -> String {
    let written = if pretty { serde_json::to_string_pretty(value) } else { serde_json::to_string(value) };
    written.unwrap_or_default()
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

/// A generated JSON text, compact or indented, then maybe broken by one edit.
fn edited_text() -> impl Strategy<Value = String> {
    (json(), any::<bool>(), edit()).prop_map(|(value, pretty, edit)| apply(&written(&value, pretty), &edit))
}

#[test]
fn the_scanner_accepts_what_serde_json_accepts() {
    let (mut runner, cases) = support::runner("tests/proptest-regressions/json_scan.txt");
    let tally = Tally::default();
    let outcome = runner.run(&edited_text(), |text| {
        let theirs = serde_json::from_str::<IgnoredAny>(&text).is_ok();
        let ours = json_scan::whole(&text, Scanner::value).ok();
        prop_assert_eq!(ours.is_some(), theirs, "scanner and serde_json disagree on {:?}", text);
        if let Some(extent) = ours {
            prop_assert_eq!(extent, text.trim_matches([' ', '\t', '\n', '\r']), "the value's extent");
            tally.passed("text");
        } else {
            tally.refused("text");
        }
        Ok(())
    });
    tally.print_and_check(cases, outcome);
    let (passed, refused) = (tally.passed_count("text"), tally.refused_count("text"));
    assert!(passed * 4 >= u64::from(cases) && refused * 4 >= u64::from(cases), "{passed} valid, {refused} broken");
}

/// Whether serde_json read a number of `value` as a float (the connector
/// keeps those as written, so only their value can be compared).
fn has_float(value: &Value) -> bool {
    match value {
        Value::Number(n) => n.is_f64(),
        Value::Array(items) => items.iter().any(has_float),
        Value::Object(map) => map.values().any(has_float),
        _ => false,
    }
}

#[test]
fn values_are_read_and_written_as_serde_json_reads_and_writes_them() {
    let (mut runner, cases) = support::runner("tests/proptest-regressions/json_scan.txt");
    let tally = Tally::default();
    let outcome = runner.run(&edited_text(), |text| {
        let theirs = serde_json::from_str::<Value>(&text);
        let ours = json::from_str(&text);
        // The one difference: a number beyond f64's range is kept as written.
        if theirs.as_ref().is_err_and(|e| e.to_string().starts_with("number out of range")) && ours.is_ok() {
            tally.passed("beyond f64, kept");
            return Ok(());
        }
        prop_assert_eq!(ours.is_ok(), theirs.is_ok(), "reader and serde_json disagree on {:?}", text);
        let (Ok(ours), Ok(theirs)) = (ours, theirs) else {
            tally.refused("read");
            return Ok(());
        };
        tally.passed("read");
        let written = ours.to_string();
        prop_assert_eq!(serde_json::from_str::<Value>(&written).ok(), Some(theirs.clone()), "the value of {:?}", text);
        if has_float(&theirs) {
            tally.refused("same text (no float)");
        } else {
            prop_assert_eq!(&written, &theirs.to_string(), "the text written for {:?}", text);
            tally.passed("same text (no float)");
        }
        Ok(())
    });
    tally.print_and_check(cases, outcome);
    let (read, refused) = (tally.passed_count("read"), tally.refused_count("read"));
    let same_text = tally.passed_count("same text (no float)");
    assert!(read * 4 >= u64::from(cases) && refused * 4 >= u64::from(cases), "{read} read, {refused} refused");
    assert!(same_text * 4 >= read, "only {same_text} of {read} values were compared as text");
}

// The oracle: the list reader this scanner replaced, on serde_json's
// `RawValue` (a dev-only feature here).

struct OracleBody<'a> {
    records: Option<Vec<&'a RawValue>>,
    paging: Option<Value>,
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
                body.paging = map.next_value::<Option<Value>>()?;
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
    let next = match list.paging.as_ref().and_then(|p| p.pointer("/next")) {
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
    let (mut runner, cases) = support::runner("tests/proptest-regressions/json_scan.txt");
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
