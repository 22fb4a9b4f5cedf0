//! The connector's base64 held to the `base64` crate, whose `STANDARD` and
//! `URL_SAFE_NO_PAD` engines it replaced:
//! - any bytes encode to the same text in both forms;
//! - a text decodes to the same bytes, or is refused by both. The texts are
//!   encodings of random bytes, most of them then changed in one way a bad
//!   input differs (a symbol replaced, padding added or dropped, the text
//!   cut, the last symbol's spare bits set), so that each refusal is met.
//!
//! The tally counts each refusal by the connector's reason.
//!
//! `FUZZ_CASES` sets the number of cases (default 3,000, fixed seed).

#[allow(dead_code)] // the runner and the tally, not the fake Klarna
mod support;

use base64::Engine as _;
use klarna_connector::base64::{Base64, DecodeError, STANDARD, URL_SAFE_NO_PAD};
use proptest::prelude::*;
use proptest::sample::Index;
use support::tally::Tally;

/// The two forms, with the crate's engine for each.
fn forms() -> [(&'static str, Base64, base64::engine::GeneralPurpose); 2] {
    [
        ("standard", STANDARD, base64::engine::general_purpose::STANDARD),
        ("url-safe", URL_SAFE_NO_PAD, base64::engine::general_purpose::URL_SAFE_NO_PAD),
    ]
}

/// How a valid encoding is changed before it is decoded.
#[derive(Clone, Debug)]
enum Change {
    None,
    /// The symbol at the index replaced by this byte.
    Replace(Index, u8),
    /// `=` added at the end.
    Pad,
    /// The last byte dropped.
    Cut,
    /// The last symbol before any padding moved up by one in the alphabet.
    Bump,
}

fn change() -> impl Strategy<Value = Change> {
    let byte = prop_oneof![
        Just(b'='),
        Just(b'+'),
        Just(b'/'),
        Just(b'-'),
        Just(b'_'),
        Just(b' '),
        Just(b'A'),
        Just(b'z'),
        any::<u8>()
    ];
    prop_oneof![
        2 => Just(Change::None),
        2 => (any::<Index>(), byte).prop_map(|(i, b)| Change::Replace(i, b)),
        1 => Just(Change::Pad),
        1 => Just(Change::Cut),
        1 => Just(Change::Bump),
    ]
}

fn changed(mut text: Vec<u8>, change: &Change, alphabet: &[u8]) -> Vec<u8> {
    match change {
        Change::None => {}
        Change::Replace(at, byte) if !text.is_empty() => {
            let at = at.index(text.len());
            text[at] = *byte;
        }
        Change::Replace(..) => text.push(b'A'),
        Change::Pad => text.push(b'='),
        Change::Cut => {
            text.pop();
        }
        Change::Bump => {
            let last = text.iter().rposition(|&b| b != b'=');
            if let Some(at) = last {
                let value = alphabet.iter().position(|&s| s == text[at]).unwrap_or(0);
                text[at] = alphabet[(value + 1) % 64];
            }
        }
    }
    text
}

const STANDARD_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

#[test]
fn base64_encodes_and_decodes_as_the_base64_crate() {
    let (mut runner, cases) = support::runner("tests/proptest-regressions/base64.txt");
    let tally = Tally::default();
    let strategy = (prop::collection::vec(any::<u8>(), 0..40), change());
    let outcome = runner.run(&strategy, |(bytes, change)| {
        for (name, ours, theirs) in forms() {
            let encoded = ours.encode(&bytes);
            prop_assert_eq!(&encoded, &theirs.encode(&bytes), "{} encoding of {:?}", name, bytes);
            let alphabet = if name == "standard" { STANDARD_ALPHABET } else { URL_SAFE_ALPHABET };
            let text = changed(encoded.into_bytes(), &change, alphabet);
            match (ours.decode(&text), theirs.decode(&text)) {
                (Ok(ours), Ok(theirs)) => {
                    prop_assert_eq!(ours, theirs, "{} decoding of {:?}", name, String::from_utf8_lossy(&text));
                    tally.passed(if matches!(change, Change::None) {
                        "decoded, unchanged"
                    } else {
                        "decoded, changed"
                    });
                }
                (Err(why), Err(_)) => tally.refused(match why {
                    DecodeError::InvalidByte { .. } => "refused: byte",
                    DecodeError::InvalidLength => "refused: length",
                    DecodeError::InvalidPadding => "refused: padding",
                    DecodeError::InvalidLastSymbol { .. } => "refused: last symbol",
                }),
                (ours, theirs) => prop_assert!(
                    false,
                    "{} decoding of {:?}: ours {:?}, the crate's {:?}",
                    name,
                    String::from_utf8_lossy(&text),
                    ours,
                    theirs
                ),
            }
        }
        Ok(())
    });
    tally.print_and_check(cases, outcome);
    let checks = [
        "decoded, unchanged",
        "decoded, changed",
        "refused: byte",
        "refused: length",
        "refused: padding",
        "refused: last symbol",
    ];
    let unreached = tally.unreached(&checks);
    assert!(unreached.is_empty(), "never reached: {unreached:?}");
    let decoded = tally.passed_count("decoded, unchanged") + tally.passed_count("decoded, changed");
    assert!(decoded * 4 >= u64::from(cases), "only {decoded} of {} texts were decoded", 2 * cases);
}
