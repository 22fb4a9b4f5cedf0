//! The connector's percent-encoding held to the `percent-encoding` crate,
//! which it replaced:
//! - any text encodes to the same text with both of the connector's sets
//!   (`COMPONENT` for paths and queries, `SEGMENT` for a `Location`);
//! - any text decodes to the same bytes (and as a form component, `+` a
//!   space, to the same bytes as the crate's decoding after that swap). The texts are drawn from a small
//!   alphabet rich in `%`, hex digits and multi-byte characters, so that
//!   escapes, lone or cut `%`s and escapes that leave invalid UTF-8 all occur.
//!
//! The tally counts what each case held (an escape decoded, a `%` kept, ...).
//!
//! `FUZZ_CASES` sets the number of cases (default 3,000, fixed seed).

#[allow(dead_code)] // the runner and the tally, not the fake Klarna
mod support;

use klarna_connector::percent::{self, COMPONENT, SEGMENT};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS, NON_ALPHANUMERIC};
use proptest::prelude::*;
use support::tally::Tally;

/// The crate's sets the connector's stand for, as src/path.rs and
/// src/push/shipping.rs defined them before.
const CRATE_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
const CRATE_SEGMENT: &AsciiSet = &CONTROLS
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

/// One character: mostly `%` and hex digits, then any ASCII, then others.
fn character() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => Just('%'),
        1 => Just('+'),
        4 => prop::sample::select(b"0123456789abcdefABCDEFgz".map(char::from).to_vec()),
        3 => (0u8..0x80).prop_map(char::from),
        1 => prop::sample::select(vec!['é', '\u{80}', '€', '\u{10ffff}', '😀']),
    ]
}

/// How many `%XX` escapes `text` holds, read left to right.
fn escapes(text: &str) -> usize {
    let bytes = text.as_bytes();
    let (mut count, mut at) = (0, 0);
    while at < bytes.len() {
        if bytes[at] == b'%' && bytes.len() > at + 2 && bytes[at + 1..at + 3].iter().all(u8::is_ascii_hexdigit) {
            count += 1;
            at += 3;
        } else {
            at += 1;
        }
    }
    count
}

#[test]
fn percent_encodes_and_decodes_as_the_percent_encoding_crate() {
    let (mut runner, cases) = support::runner("tests/proptest-regressions/percent.txt");
    let tally = Tally::default();
    let strategy = prop::collection::vec(character(), 0..24).prop_map(String::from_iter);
    let outcome = runner.run(&strategy, |text| {
        for (name, ours, theirs) in [("component", COMPONENT, CRATE_COMPONENT), ("segment", SEGMENT, CRATE_SEGMENT)] {
            let encoded = percent::encode(&text, &ours);
            prop_assert_eq!(
                &encoded,
                &utf8_percent_encode(&text, theirs).to_string(),
                "{} encoding of {:?}",
                name,
                text
            );
            tally.passed(if encoded == text { "encoded, unchanged" } else { "encoded, changed" });
            prop_assert_eq!(percent::decode(&encoded), text.as_bytes(), "{} encoding decodes back", name);
        }
        let decoded = percent::decode(&text);
        prop_assert_eq!(&decoded, &percent_decode_str(&text).collect::<Vec<u8>>(), "decoding of {:?}", text);
        let form = percent_decode_str(&text.replace('+', " ")).collect::<Vec<u8>>();
        prop_assert_eq!(percent::decode_form(&text), form, "form decoding of {:?}", text);
        let escapes = escapes(&text);
        if escapes > 0 {
            tally.passed("decoded, an escape");
        }
        if text.matches('%').count() > escapes {
            tally.passed("decoded, a % kept");
        }
        if std::str::from_utf8(&decoded).is_err() {
            tally.passed("decoded, not UTF-8");
        }
        Ok(())
    });
    tally.print_and_check(cases, outcome);
    let checks =
        ["encoded, unchanged", "encoded, changed", "decoded, an escape", "decoded, a % kept", "decoded, not UTF-8"];
    let unreached = tally.unreached(&checks);
    assert!(unreached.is_empty(), "never reached: {unreached:?}");
    let escaped = tally.passed_count("decoded, an escape");
    assert!(escaped * 4 >= u64::from(cases), "only {escaped} of {cases} texts held an escape");
}
