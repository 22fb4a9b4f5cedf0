//! The connector's URL reader held to `http::Uri`, the parser it replaced,
//! on URL texts assembled from parts, each part drawn from well-formed and
//! ill-formed choices:
//! - a text the connector reads as a URL, `http::Uri` reads too, to the same
//!   scheme, host, port, path and query (never looser, never different);
//! - a text built only from well-formed parts is read by both.
//!
//! The connector is stricter on purpose in a few places (an empty port, a
//! fragment with characters no URL has, a text that is neither absolute nor
//! `/`-relative); the tally counts those as "stricter".
//!
//! `FUZZ_CASES` sets the number of cases (default 3,000, fixed seed).

#[allow(dead_code)] // the runner and the tally, not the fake Klarna
mod support;

use klarna_connector::url;
use proptest::prelude::*;
use support::tally::Tally;

/// One part of a URL: its text, and whether it is well-formed there.
type Part = (&'static str, bool);

/// A well-formed choice six times in seven, so that most texts are URLs
/// and each ill-formed part is met alone as often as with others.
fn part(choices: &'static [Part]) -> impl Strategy<Value = Part> {
    let (good, bad): (Vec<Part>, Vec<Part>) = choices.iter().partition(|(_, ok)| *ok);
    prop_oneof![6 => prop::sample::select(good), 1 => prop::sample::select(bad)]
}

const SCHEMES: &[Part] = &[
    ("https://", true),
    ("HTTPS://", true),
    ("http://", true),
    ("ftp+x.y-z://", true),
    ("", true), // relative to the host
    ("1x://", false),
    ("https:/", false),
    ("https:", false),
];
const USER_INFO: &[Part] = &[("", true), ("user@", true), ("user:pw%20x@", true), ("us er@", false), ("a@b@", false)];
const HOSTS: &[Part] = &[
    ("api.klarna.com", true),
    ("API.Klarna.COM", true),
    ("x-1_y~", true),
    ("[::1]", true),
    ("[2001:db8::7]", true),
    ("", false),
    ("ho st", false),
    ("ho<st", false),
    ("[zz]", false),
    ("[::1", false),
];
const PORTS: &[Part] =
    &[("", true), (":443", true), (":8443", true), (":0", true), (":", false), (":65536", false), (":4x", false)];
const PATHS: &[Part] = &[
    ("", true),
    ("/", true),
    ("/settlements/v1/payouts", true),
    ("/a/%20b/{\"c\"}/é€", true),
    ("//x/y", true),
    ("/a b", false),
    ("/a\tb", false),
    ("/a<b>", false),
    ("/a`b", false),
    ("/a\\b", true),
    ("x/y", false),
];
const QUERIES: &[Part] = &[
    ("", true),
    ("?", true),
    ("?offset=1&size=20", true),
    ("?a=%2F/?'é", true),
    ("?a b", false),
    ("?a<b", false),
    ("?a\"b", false),
];
const FRAGMENTS: &[Part] = &[("", true), ("#top", true), ("#/confirm?x=1", true), ("#a b", false)];

/// A URL text and whether every part of it is well-formed.
fn url_text() -> impl Strategy<Value = (String, bool)> {
    (part(SCHEMES), part(USER_INFO), part(HOSTS), part(PORTS), part(PATHS), part(QUERIES), part(FRAGMENTS)).prop_map(
        |(scheme, user, host, port, path, query, fragment)| {
            let absolute = !scheme.0.is_empty();
            let (user, host, port) = if absolute { (user, host, port) } else { (("", true), ("", true), ("", true)) };
            // A relative URL is a path from `/`; an absolute one needs a path that starts there or is empty.
            let path_ok = path.1 && (path.0.starts_with('/') || (absolute && path.0.is_empty()));
            let text = [scheme.0, user.0, host.0, port.0, path.0, query.0, fragment.0].concat();
            let well_formed = scheme.1 && user.1 && host.1 && port.1 && path_ok && query.1 && fragment.1;
            (text, well_formed)
        },
    )
}

/// Scheme (in lowercase), host, port, path and query.
type Parts = (Option<String>, Option<String>, Option<u16>, String, Option<String>);

/// The parts `http::Uri` reads, as the connector's [`url::Url`] holds them.
fn oracle(text: &str) -> Option<Parts> {
    let uri: http::Uri = text.parse().ok()?;
    let authority = uri.authority();
    Some((
        uri.scheme_str().map(str::to_ascii_lowercase),
        authority.map(|a| a.host().to_string()),
        authority.and_then(|a| a.port_u16()),
        uri.path().to_string(),
        uri.query().map(str::to_string),
    ))
}

#[test]
fn urls_are_read_as_http_uri_reads_them() {
    let (mut runner, cases) = support::runner("tests/proptest-regressions/url.txt");
    let tally = Tally::default();
    let outcome = runner.run(&url_text(), |(text, well_formed)| {
        let ours = url::parse(&text);
        let theirs = oracle(&text);
        if well_formed {
            prop_assert!(ours.is_some(), "well-formed, refused: {:?}", text);
        }
        match (ours, theirs) {
            (Some(url), Some(theirs)) => {
                let ours: Parts = (
                    url.scheme.map(str::to_ascii_lowercase),
                    url.host.map(str::to_string),
                    url.port,
                    url.path.to_string(),
                    url.query.map(str::to_string),
                );
                prop_assert_eq!(ours, theirs, "parts of {:?}", text);
                tally.passed("both read");
            }
            (Some(_), None) => prop_assert!(false, "read a text http::Uri refuses: {:?}", text),
            (None, Some(_)) => tally.passed("stricter"),
            (None, None) => tally.refused("both refuse"),
        }
        Ok(())
    });
    tally.print_and_check(cases, outcome);
    let unreached = tally.unreached(&["both read", "stricter", "both refuse"]);
    assert!(unreached.is_empty(), "never reached: {unreached:?}");
    let read = tally.passed_count("both read");
    assert!(read * 4 >= u64::from(cases), "only {read} of {cases} texts were read by both");
}
