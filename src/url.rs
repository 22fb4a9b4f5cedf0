//! The URLs the connector reads: Klarna's `pagination.next` links and
//! `Location` headers, and the `https://` URLs a merchant gives in answers
//! and settings. Two forms only, as RFC 3986 writes them:
//!
//! - absolute: `scheme://[userinfo@]host[:port][/path][?query][#fragment]`;
//! - relative to the host: `/path[?query][#fragment]`.
//!
//! Characters are those `http::Uri` accepts in each part (which follows the
//! WHATWG URL standard's path and query sets), UTF-8 included; anything else
//! (white space, control characters, an empty host, a port that is not a
//! number below 65,536) makes the text no URL. The fragment is dropped, as a
//! client drops it before sending. `tests/url.rs` holds this to `http::Uri`.

/// The parts of a URL the connector looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url<'a> {
    /// `https`, `http`, …, as written; `None` for a relative URL.
    pub scheme: Option<&'a str>,
    /// Everything between `//` and the path, user info included.
    pub authority: Option<&'a str>,
    /// The host, without user info or port (`[…]` for an IPv6 address).
    pub host: Option<&'a str>,
    /// The port, when one is written.
    pub port: Option<u16>,
    /// The path (`/` for an absolute URL written without one).
    pub path: &'a str,
    /// What follows `?`, when there is a `?`.
    pub query: Option<&'a str>,
}

impl Url<'_> {
    /// Absolute, with the `https` scheme (in any case).
    pub fn is_https(&self) -> bool {
        self.scheme.is_some_and(|s| s.eq_ignore_ascii_case("https"))
    }
}

/// The longest URL taken (`http::Uri`'s limit).
const MAX_LEN: usize = u16::MAX as usize - 1;

/// Bytes a path may hold as they are (WHATWG path set, with `"`, `{`, `}`
/// tolerated as `http::Uri` does); UTF-8 beyond ASCII is allowed too.
fn path_byte(b: u8) -> bool {
    matches!(b, 0x21..=0x22 | 0x24..=0x3b | 0x3d | 0x40..=0x5f | 0x61..=0x7e) || b >= 0x80
}

/// Bytes a query may hold as they are (WHATWG query set).
fn query_byte(b: u8) -> bool {
    matches!(b, 0x21 | 0x24..=0x3b | 0x3d | 0x3f..=0x7e) || b >= 0x80
}

/// Bytes of user info and of a registered host name: RFC 3986's unreserved
/// and sub-delims, `%` for escapes, and `:` (user info's separator).
fn authority_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=%:".contains(&b)
}

/// The URL `text` is, or `None` if it is neither form.
pub fn parse(text: &str) -> Option<Url<'_>> {
    if text.is_empty() || text.len() > MAX_LEN {
        return None;
    }
    // A scheme holds no `:`, so the first one ends it (and `://` follows).
    let split = text.split_once(':').and_then(|(scheme, rest)| Some((scheme, rest.strip_prefix("//")?)));
    let (scheme, authority, rest) = match split {
        Some((scheme, rest)) if is_scheme(scheme) => {
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            (Some(scheme), Some(&rest[..end]), &rest[end..])
        }
        _ if text.starts_with('/') => (None, None, text),
        _ => return None,
    };
    let (host, port) = match authority {
        Some(authority) => {
            let (host, port) = host_and_port(authority)?;
            (Some(host), port)
        }
        None => (None, None),
    };
    // The fragment is dropped, but must still be URL characters.
    let (rest, fragment) = rest.split_once('#').unwrap_or((rest, ""));
    if !fragment.bytes().all(query_byte) {
        return None;
    }
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    if !path.bytes().all(path_byte) || !query.is_none_or(|q| q.bytes().all(query_byte)) {
        return None;
    }
    let path = if path.is_empty() && authority.is_some() { "/" } else { path };
    Some(Url { scheme, authority, host, port, path, query })
}

/// `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`.
fn is_scheme(text: &str) -> bool {
    let mut bytes = text.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

/// The host and port of an authority (`[userinfo@]host[:port]`).
fn host_and_port(authority: &str) -> Option<(&str, Option<u16>)> {
    let (user_info, host_port) = authority.rsplit_once('@').map_or(("", authority), |(u, h)| (u, h));
    if !user_info.bytes().all(authority_byte) {
        return None;
    }
    let (host, port) = if host_port.starts_with('[') {
        // An IPv6 address: hex digits, `:` and `.` (an embedded IPv4 address) between brackets.
        let close = host_port.find(']')?;
        let (host, after) = host_port.split_at(close + 1);
        let inside = &host[1..close];
        if inside.is_empty() || !inside.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.') {
            return None;
        }
        (host, if after.is_empty() { None } else { Some(after.strip_prefix(':')?) })
    } else {
        match host_port.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        }
    };
    if host.is_empty() || (!host.starts_with('[') && !host.bytes().all(|b| authority_byte(b) && b != b':')) {
        return None;
    }
    let port = match port {
        None => None,
        Some(digits) if !digits.is_empty() && digits.len() <= 5 && digits.bytes().all(|b| b.is_ascii_digit()) => {
            Some(digits.parse().ok()?)
        }
        Some(_) => return None,
    };
    Some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_are_read_into_their_parts() {
        let url = parse("HTTPS://user:pw@Api.Klarna.com:443/settlements/v1/payouts?offset=1&size=1#top");
        assert_eq!(
            url,
            Some(Url {
                scheme: Some("HTTPS"),
                authority: Some("user:pw@Api.Klarna.com:443"),
                host: Some("Api.Klarna.com"),
                port: Some(443),
                path: "/settlements/v1/payouts",
                query: Some("offset=1&size=1"),
            })
        );
        assert!(url.is_some_and(|u| u.is_https()));
        let relative = parse("/v1/orders/o%201?a=b").expect("relative");
        assert_eq!(
            (relative.scheme, relative.host, relative.path, relative.query),
            (None, None, "/v1/orders/o%201", Some("a=b"))
        );
        assert_eq!(
            parse("https://[::1]:8443").map(|u| (u.host, u.port, u.path)),
            Some((Some("[::1]"), Some(8443), "/"))
        );
    }

    #[test]
    fn other_texts_are_no_urls() {
        for text in [
            "",
            "api.klarna.com/v1",
            "*",
            "https://",
            "https://:443/x",
            "https://host:/x",
            "https://host:65536/x",
            "https://host:44x/x",
            "https://ho st/x",
            "https://host/a b",
            "https://host/a\tb",
            "https://host/?a=<b>",
            "https://host/#a b",
            "1https://host/",
            "https://[zz]/",
        ] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }
}
