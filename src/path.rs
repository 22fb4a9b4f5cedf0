//! Path templates, percent-encoding and query strings.

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::error::{ConnectorError, Result};
use crate::model::Pairs;

/// A path segment or a query component: everything but RFC 3986's
/// unreserved characters (`A–Z a–z 0–9 - . _ ~`) is encoded.
pub const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Longest path parameter accepted (Klarna ids are far shorter; KRNs stay under 200).
const MAX_PARAM_LEN: usize = 1024;

/// The `{placeholder}` names of a template, in order.
pub fn placeholders(template: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        names.push(&rest[start + 1..start + len]);
        rest = &rest[start + len + 1..];
    }
    names
}

/// Fills `template`'s placeholders from `given`, then from `defaults`, each
/// value percent-encoded as one path segment.
///
/// A missing value, a value given for no placeholder, or a value that would
/// change the path (`/`, `\`, `.`/`..`, control characters) is `invalid-input`.
pub fn render(template: &str, given: &Pairs, defaults: &Pairs) -> Result<String> {
    let names = placeholders(template);
    for (index, (key, _)) in given.iter().enumerate() {
        if !names.contains(&key.as_str()) {
            return Err(ConnectorError::input(format!("params.path.{key}"), format!("{template} has no {{{key}}}")));
        }
        if given[..index].iter().any(|(k, _)| k == key) {
            return Err(ConnectorError::input(format!("params.path.{key}"), "given twice"));
        }
    }
    fill(template, &mut |name| {
        let field = format!("params.path.{name}");
        let value = given
            .iter()
            .chain(defaults)
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| ConnectorError::input(&field, format!("required by {template}")))?;
        check_segment(&field, value)?;
        Ok(encode(value))
    })
}

/// Fills each `{name}` of `template` with `value(name)`; the first error stops it.
///
/// One function for every template (paths, token URLs, event ids, a
/// `Location`), taking the filler as `dyn` so that it is compiled once.
pub fn fill(template: &str, value: &mut dyn FnMut(&str) -> Result<String>) -> Result<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else { break };
        out.push_str(&value(&rest[open + 1..open + close])?);
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn check_segment(field: &str, value: &str) -> Result<()> {
    if value.len() > MAX_PARAM_LEN {
        return Err(ConnectorError::input(field, format!("longer than {MAX_PARAM_LEN} bytes")));
    }
    if value == "." || value == ".." {
        return Err(ConnectorError::input(field, format!("{value:?} would change the path")));
    }
    if let Some(c) = value.chars().find(|c| matches!(c, '/' | '\\') || c.is_control()) {
        return Err(ConnectorError::input(field, format!("{c:?} would change the path")));
    }
    Ok(())
}

/// Percent-encodes one path segment or query component.
pub fn encode(value: &str) -> String {
    utf8_percent_encode(value, COMPONENT).to_string()
}

/// `a=1&b=x%20y` from pairs.
pub fn query_string(pairs: &Pairs) -> String {
    let mut out = String::new();
    for (key, value) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&encode(key));
        out.push('=');
        out.push_str(&encode(value));
    }
    out
}

/// Pairs from a query string (`+` is a space, as in forms).
pub fn parse_query(query: &str) -> Result<Pairs> {
    let decode = |s: &str| {
        Ok(decode_form(s)
            .map_err(|_| ConnectorError::input("cursor", "not UTF-8 after percent-decoding"))?
            .into_owned())
    };
    query
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (key, value) = part.split_once('=').unwrap_or((part, ""));
            Ok((decode(key)?, decode(value)?))
        })
        .collect()
}

/// A query component as forms write it, decoded: `+` is a space (an encoded
/// `%2B` stays a plus), then percent-decoding; an error when the bytes are
/// not UTF-8.
pub fn decode_form(component: &str) -> std::result::Result<std::borrow::Cow<'_, str>, std::str::Utf8Error> {
    if component.contains('+') {
        let spaced = component.replace('+', " ");
        return percent_decode_str(&spaced).decode_utf8().map(|text| std::borrow::Cow::Owned(text.into_owned()));
    }
    percent_decode_str(component).decode_utf8()
}

/// Checks query parameters from the host: names non-empty, no control characters.
pub fn check_query(pairs: &Pairs) -> Result<()> {
    for (key, value) in pairs {
        if key.is_empty() {
            return Err(ConnectorError::input("params.query", "empty parameter name"));
        }
        if key.chars().chain(value.chars()).any(char::is_control) {
            return Err(ConnectorError::input(format!("params.query.{key}"), "control characters"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Pairs {
        items.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn renders_and_encodes() {
        let t = "/ordermanagement/v1/orders/{order_id}/captures/{capture_id}";
        assert_eq!(placeholders(t), ["order_id", "capture_id"]);
        let path = render(t, &pairs(&[("capture_id", "c 1?#%"), ("order_id", "ö-1")]), &vec![]).expect("renders");
        assert_eq!(path, "/ordermanagement/v1/orders/%C3%B6-1/captures/c%201%3F%23%25");
    }

    #[test]
    fn defaults_fill_what_is_left_out() {
        let t = "/ordermanagement/v1/orders/{order_id}";
        assert_eq!(
            render(t, &vec![], &pairs(&[("order_id", "abc")])).expect("renders"),
            "/ordermanagement/v1/orders/abc"
        );
        assert_eq!(
            render(t, &pairs(&[("order_id", "x")]), &pairs(&[("order_id", "abc")])).expect("renders"),
            "/ordermanagement/v1/orders/x"
        );
    }

    #[test]
    fn refuses_values_that_change_the_path() {
        let t = "/ordermanagement/v1/orders/{order_id}";
        for bad in ["..", ".", "a/b", "a\\b", "a\nb", "\u{7f}"] {
            let e = render(t, &pairs(&[("order_id", bad)]), &vec![]).expect_err(bad);
            assert!(matches!(&e, ConnectorError::InvalidInput(m) if m.starts_with("params.path.order_id")), "{e:?}");
        }
        assert_eq!(
            render(t, &vec![], &vec![]),
            Err(ConnectorError::InvalidInput(
                "params.path.order_id: required by /ordermanagement/v1/orders/{order_id}".into()
            ))
        );
        assert!(render(t, &pairs(&[("orderid", "1")]), &vec![]).is_err());
    }

    #[test]
    fn query_round_trips() {
        let q = pairs(&[("payment_reference", "a b&c=d"), ("size", "500")]);
        let s = query_string(&q);
        assert_eq!(s, "payment_reference=a%20b%26c%3Dd&size=500");
        assert_eq!(parse_query(&s).expect("parses"), q);
    }
}
