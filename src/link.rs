//! The URLs the connector reads: Klarna's `pagination.next` links and
//! `Location` headers, and the `https://` URLs a merchant gives in answers
//! and settings.
//!
//! `http::Uri` parses them; the rules below are the connector's own, on top
//! of what `http::Uri` accepts, because it is looser than RFC 3986 in ways
//! that matter here: it takes user info (`https://api.klarna.com@evil.example/`
//! has the host `evil.example`), port 0, an empty port, `\`, `"`, `{`, `}`
//! and raw non-ASCII bytes in paths, and `//host/x` as a path.

use http::Uri;

/// Why a text is not a URL the connector takes (for the message that names the field).
pub type Refusal = String;

/// A link Klarna gave: absolute on `api_host` (`https`, its name in any
/// case, port 443 or none, no user info) or relative to it (`/path?query`).
/// Returns the path and the query (empty when none).
pub fn klarna_link(text: &str, api_host: &str) -> Result<(String, String), Refusal> {
    let uri = parse(text)?;
    if uri.scheme().is_some() {
        check_https(&uri)?;
        let host = uri.host().unwrap_or_default();
        if !host.eq_ignore_ascii_case(api_host) || !matches!(uri.port_u16(), None | Some(443)) {
            return Err(format!("leaves the API host {api_host}"));
        }
    } else if !text.starts_with('/') || text.starts_with("//") {
        return Err("is neither an https URL nor a path on the API host".to_string());
    }
    Ok((uri.path().to_string(), uri.query().unwrap_or_default().to_string()))
}

/// A merchant's absolute `https://` URL: a host, no user info, a port (if
/// any) from 1 to 65,535.
pub fn merchant_url(text: &str) -> Result<Uri, Refusal> {
    let uri = parse(text)?;
    if uri.scheme().is_none() {
        return Err("is not an absolute https:// URL".to_string());
    }
    check_https(&uri)?;
    Ok(uri)
}

/// Longest URL a setting holds (Klarna's limit on registered URLs).
pub const MAX_SETTING_URL_CHARS: usize = 2000;

/// An `https_url` setting (`field` is `settings.<key>`): a merchant URL
/// ([`merchant_url`]) without a query, at most [`MAX_SETTING_URL_CHARS`].
pub fn https_setting(field: &str, text: &str) -> crate::error::Result<()> {
    let why = match merchant_url(text) {
        Ok(uri) if uri.query().is_some() => "has a query".to_string(),
        Ok(_) if text.chars().count() > MAX_SETTING_URL_CHARS => format!("is over {MAX_SETTING_URL_CHARS} characters"),
        Ok(_) => return Ok(()),
        Err(why) => why,
    };
    Err(crate::error::ConnectorError::config(
        field,
        format!("must be an absolute https:// URL without user info or a query, at most {MAX_SETTING_URL_CHARS} characters: it {why}"),
    ))
}

/// `text` as a URI whose characters RFC 3986 allows where they are.
fn parse(text: &str) -> Result<Uri, Refusal> {
    let uri: Uri = text.parse().map_err(|e| format!("is not a URL ({e})"))?;
    let (path, query) = (uri.path(), uri.query().unwrap_or_default());
    let strict = |part: &str, extra: &[u8]| {
        part.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=:@".contains(&b) || extra.contains(&b))
    };
    if !strict(path, b"/") || !strict(query, b"/?") {
        return Err("holds characters a URL must encode".to_string());
    }
    if uri.scheme().is_none() && path == "*" {
        return Err("is not a URL".to_string());
    }
    Ok(uri)
}

/// Absolute `https`, with a host, without user info, with no empty or zero port.
fn check_https(uri: &Uri) -> Result<(), Refusal> {
    if uri.scheme() != Some(&http::uri::Scheme::HTTPS) {
        return Err("is not https".to_string());
    }
    let authority = uri.authority().map(|a| a.as_str()).unwrap_or_default();
    if authority.contains('@') {
        return Err("carries user info".to_string());
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err("has no host".to_string());
    }
    if authority.ends_with(':') || uri.port_u16() == Some(0) {
        return Err("has an empty or zero port".to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn klarna_links_in_every_form_klarna_sends() {
        for link in [
            "https://api.klarna.com/settlements/v1/payouts?offset=1&size=1",
            "/settlements/v1/payouts?offset=1&size=1",
            "https://api.klarna.com:443/settlements/v1/payouts?offset=1&size=1",
            "HTTPS://API.KLARNA.COM/settlements/v1/payouts?offset=1&size=1",
            "https://api.klarna.com/settlements/v1/payouts?offset=1&size=1#top",
        ] {
            let parts = klarna_link(link, "api.klarna.com");
            assert_eq!(parts, Ok(("/settlements/v1/payouts".into(), "offset=1&size=1".into())), "{link}");
        }
    }

    #[test]
    fn klarna_links_elsewhere_are_refused() {
        for (link, why) in [
            ("http://api.klarna.com/x", "is not https"),
            ("https://api.klarna.com@evil.example/x", "user info"),
            ("https://user@api.klarna.com/x", "user info"),
            ("https://evil.example/x", "leaves the API host"),
            ("https://api.klarna.com.evil.example/x", "leaves the API host"),
            ("https://api.klarna.com:8443/x", "leaves the API host"),
            ("https://api.klarna.com:0/x", "zero port"),
            ("https://api.klarna.com:/x", "empty or zero port"),
            ("//evil.example/x", "neither"),
            ("x/y", "not a URL"),
            ("*", "not a URL"),
            ("https://api.klarna.com/a\\b", "must encode"),
            ("https://api.klarna.com/a\"b", "must encode"),
            ("https://api.klarna.com/a{b}", "must encode"),
            ("https://api.klarna.com/é", "must encode"),
            ("https://ev%69l.example/x", "not a URL"),
            ("https://api.klarna.com/x y", "not a URL"),
        ] {
            match klarna_link(link, "api.klarna.com") {
                Err(message) => assert!(message.contains(why), "{link}: {message}"),
                Ok(parts) => panic!("{link}: taken as {parts:?}"),
            }
        }
    }

    #[test]
    fn merchant_urls_are_absolute_https_without_user_info() {
        assert!(merchant_url("https://shop.example/confirm?id=1").is_ok());
        assert!(merchant_url("https://shop.example:8443/confirm").is_ok());
        for url in
            ["http://shop.example/", "/confirm", "https://a@shop.example/", "https://shop.example:0/", "ftp://x/"]
        {
            assert!(merchant_url(url).is_err(), "{url}");
        }
    }
}
