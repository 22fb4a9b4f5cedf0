//! Reading a delivery as Klarna sent it: the route, the query, the headers
//! (names in any case) and the body, with the limits a delivery must keep.

use crate::error::{ConnectorError, Result};
use crate::model::IncomingRequest;
use serde_json::Value;

/// The largest delivery body read, in bytes: Klarna's own request limit
/// (1 MB); a Checkout order of 1,000 lines stays well below it.
pub const MAX_DELIVERY_BYTES: usize = 1_000_000;

/// The longest path and query accepted (Klarna's `merchant_urls` are at most 2,000 characters).
pub const MAX_PATH_CHARS: usize = 4_096;

/// A delivery split into its parts; the body is parsed only after it is verified.
#[derive(Debug)]
pub struct Incoming<'r> {
    /// The path without the query (one trailing `/` removed).
    pub route: &'r str,
    /// The query's pairs, percent-decoded.
    pub query: Vec<(String, String)>,
    /// The route's `{name}` segments, percent-decoded (set once the callback is found).
    pub params: Vec<(&'static str, String)>,
    /// The request.
    pub request: &'r IncomingRequest,
}

impl<'r> Incoming<'r> {
    /// Splits `request`; a path that is not `/…`, too long, or a query that
    /// names a parameter twice is `invalid-input`.
    pub fn parse(request: &'r IncomingRequest) -> Result<Self> {
        if request.path.len() > MAX_PATH_CHARS {
            return Err(ConnectorError::input("path", format!("longer than {MAX_PATH_CHARS} characters")));
        }
        if !request.path.starts_with('/') || request.path.chars().any(char::is_control) {
            return Err(ConnectorError::input("path", "must start with / and hold no control characters"));
        }
        let (route, query) = request.path.split_once('?').unwrap_or((&request.path, ""));
        let route = route.strip_suffix('/').filter(|r| !r.is_empty()).unwrap_or(route);
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let (name, value) = (name.into_owned(), value.into_owned());
            if pairs.iter().any(|(n, _)| *n == name) {
                // Never quote the value: it may be the URL secret.
                return Err(ConnectorError::input(format!("query.{name}"), "given twice"));
            }
            pairs.push((name, value));
        }
        if request.body.len() > MAX_DELIVERY_BYTES {
            return Err(ConnectorError::input(
                "body",
                format!("{} bytes is over the {MAX_DELIVERY_BYTES}-byte limit", request.body.len()),
            ));
        }
        Ok(Self { route, query: pairs, params: Vec::new(), request })
    }

    /// Whether the path matches `template` (`/shipment/{shipment_id}`); if so,
    /// the values of its `{name}` segments (each non-empty, percent-decoded).
    pub fn match_route(&self, template: &'static str) -> Option<Vec<(&'static str, String)>> {
        let (mut given, mut wanted) = (self.route.split('/'), template.split('/'));
        let mut params = Vec::new();
        loop {
            match (given.next(), wanted.next()) {
                (None, None) => return Some(params),
                (Some(value), Some(segment)) => match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(name) if !value.is_empty() => params.push((name, decode_path(value))),
                    None if value == segment => {}
                    _ => return None,
                },
                _ => return None,
            }
        }
    }

    /// A route parameter's value.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    /// Checks `Content-Type` where the callback names a media type: absent,
    /// `application/json` or any `application/…+json` (Klarna spells its
    /// types `vdn.klarna…`, a typo of `vnd`; both pass) is accepted.
    pub fn check_media_type(&self, expected: Option<&str>) -> Result<()> {
        let (Some(expected), Some(given)) = (expected, self.header("Content-Type")?) else { return Ok(()) };
        let essence = given.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        let json = essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"));
        if json {
            return Ok(());
        }
        Err(ConnectorError::input("header Content-Type", format!("must be {expected} or another JSON type")))
    }

    /// A query parameter's value.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// A header's value, its name compared without case; a header given
    /// twice is `invalid-input` (which one was signed is unknowable).
    pub fn header(&self, name: &str) -> Result<Option<&'r str>> {
        let mut found = self.request.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name));
        let first = found.next().map(|(_, v)| v.trim());
        if found.next().is_some() {
            return Err(ConnectorError::input(format!("header {name}"), "given twice"));
        }
        Ok(first)
    }

    /// The body as a JSON object.
    pub fn json_object(&self) -> Result<Value> {
        let text = std::str::from_utf8(&self.request.body)
            .map_err(|_| ConnectorError::input("body", "is not UTF-8 text (a JSON object is expected)"))?;
        match crate::response::read_json(text.as_bytes()) {
            Ok(value @ Value::Object(_)) => Ok(value),
            Ok(_) => Err(ConnectorError::input("body", "is JSON but not an object")),
            Err(e) => Err(ConnectorError::input("body", format!("is not JSON ({e})"))),
        }
    }
}

/// Percent-decodes a path segment (`+` stays a plus).
fn decode_path(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment).decode_utf8_lossy().into_owned()
}

/// The value at a dotted path (`metadata.event_id`) of a JSON object.
pub fn at<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(value, |v, key| v.get(key)).filter(|v| !v.is_null())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Method;

    fn request(path: &str) -> IncomingRequest {
        IncomingRequest { method: Method::Post, path: path.into(), headers: vec![], body: vec![] }
    }

    #[test]
    fn route_and_query_are_split_and_decoded() {
        let r = request("/checkout/push/?order_id=a%2Fb&token=x+y&flag");
        let incoming = Incoming::parse(&r).expect("parsed");
        assert_eq!(incoming.route, "/checkout/push");
        assert_eq!(incoming.query("order_id"), Some("a/b"));
        assert_eq!(incoming.query("token"), Some("x y"));
        assert_eq!(incoming.query("flag"), Some(""));
    }

    #[test]
    fn ambiguous_or_oversized_requests_are_refused_without_echoing_values() {
        let twice = request("/checkout/push?token=secret-one&token=secret-two");
        let message = Incoming::parse(&twice).expect_err("refused").to_string();
        assert_eq!(message, "invalid input: query.token: given twice");
        assert!(Incoming::parse(&request("checkout/push")).is_err());
        let mut big = request("/network/notifications");
        big.body = vec![b' '; MAX_DELIVERY_BYTES + 1];
        assert!(Incoming::parse(&big).is_err());
    }

    #[test]
    fn routes_match_segment_by_segment_with_parameters() {
        let r = request("/shipment/a%20b/confirm?x=1");
        let incoming = Incoming::parse(&r).expect("parsed");
        let params = incoming.match_route("/shipment/{shipment_id}/confirm").expect("matches");
        assert_eq!(params, vec![("shipment_id", "a b".to_string())]);
        assert_eq!(incoming.match_route("/shipment/{shipment_id}"), None, "fewer segments");
        assert_eq!(incoming.match_route("/shipment/{shipment_id}/confirm/x"), None, "more segments");
        assert_eq!(incoming.match_route("/shipments/{shipment_id}/confirm"), None, "another literal");
        let empty = request("/shipment//confirm");
        assert_eq!(Incoming::parse(&empty).expect("parsed").match_route("/shipment/{id}/confirm"), None, "empty id");
    }

    #[test]
    fn json_media_types_pass_in_either_spelling() {
        let mut r = request("/auth");
        let expected = Some("application/vdn.klarna.shipping.auth-v1+json");
        for given in [
            "application/vdn.klarna.shipping.auth-v1+json",
            "application/vnd.klarna.shipping.auth-v1+json; charset=utf-8",
            "Application/JSON",
        ] {
            r.headers = vec![("content-type".into(), given.into())];
            assert!(Incoming::parse(&r).expect("parsed").check_media_type(expected).is_ok(), "{given}");
        }
        r.headers = vec![("Content-Type".into(), "text/plain".into())];
        assert!(Incoming::parse(&r).expect("parsed").check_media_type(expected).is_err());
        assert!(
            Incoming::parse(&r).expect("parsed").check_media_type(None).is_ok(),
            "not checked without a media type"
        );
    }

    #[test]
    fn headers_are_found_in_any_case_but_not_twice() {
        let mut r = request("/x");
        r.headers = vec![("klarna-signature".into(), "ab".into())];
        let incoming = Incoming::parse(&r).expect("parsed");
        assert_eq!(incoming.header("Klarna-Signature").expect("one"), Some("ab"));
        r.headers.push(("KLARNA-SIGNATURE".into(), "cd".into()));
        let incoming = Incoming::parse(&r).expect("parsed");
        assert!(incoming.header("Klarna-Signature").is_err());
    }
}
