//! Records out of list responses, and the cursor of the next page.

use serde_json::Value;

use crate::error::{ApiError, ConnectorError, Result};
use crate::json_scan::{self, Scanner};
use crate::manifest::{EntitySpec, Pagination};
use crate::model::Page;
use crate::path;

/// A list response read in one pass: the records under their key and the
/// top-level value that holds the paging field, as slices of the text
/// (checked whole, never built); every other member checked and skipped.
struct ListBody<'a> {
    records: Vec<&'a str>,
    paging: Option<&'a str>,
}

/// Reads a [`ListBody`] out of the object at the scanner: the records under `records` (an
/// array, or `null` for none), the value under `paging`. A key given twice
/// counts the last time, as serde_json would have it.
fn list_body<'a>(scanner: &mut Scanner<'a>, records: &str, paging: Option<&str>) -> json_scan::Result<ListBody<'a>> {
    let mut body = ListBody { records: Vec::new(), paging: None };
    scanner.expect(b'{', "an object")?;
    if !scanner.eat(b'}') {
        loop {
            let key = scanner.key()?;
            if key == records {
                body.records = match scanner.peek() {
                    Some(b'n') => scanner.value().map(|_| Vec::new())?,
                    _ => elements(scanner)?,
                };
            } else if Some(key.as_ref()) == paging {
                body.paging = Some(scanner.value()?);
            } else {
                scanner.value()?;
            }
            if !scanner.comma_or(b'}')? {
                break;
            }
        }
    }
    Ok(body)
}

/// The elements of the array that comes next, each checked whole.
fn elements<'a>(scanner: &mut Scanner<'a>) -> json_scan::Result<Vec<&'a str>> {
    let mut items = Vec::new();
    scanner.expect(b'[', "an array of records")?;
    if scanner.eat(b']') {
        return Ok(items);
    }
    loop {
        items.push(scanner.value()?);
        if !scanner.comma_or(b']')? {
            return Ok(items);
        }
    }
}

/// A dotted path into an answer (`pagination.next`): its top-level key and
/// the dotted path of the rest within that key's value.
fn split_path(path: &str) -> (&str, &str) {
    path.split_once('.').unwrap_or((path, ""))
}

/// Where the entity's paging field is read from, if it pages.
fn paging_field(entity: &EntitySpec) -> Option<&'static str> {
    match entity.pagination {
        Pagination::None => None,
        Pagination::Offset { next_link, .. } => Some(next_link),
        Pagination::Cursor { cursor_from, .. } => Some(cursor_from),
    }
}

/// One page out of a read response. The body is checked as UTF-8 once, then
/// scanned once ([`json_scan`]): each record is handed on as Klarna's own
/// JSON text (its syntax checked, never rebuilt), which keeps paging cheap.
///
/// `host` and `path` are those of the request; what comes next is read where
/// the entity's `pagination` says: the query of the next link (after checking
/// the link stays on that host and path), or the same query continuing after
/// the last item. Never guessed from counts.
pub fn read_page(entity: &EntitySpec, body: &[u8], host: &str, path: &str, sent_query: &str) -> Result<Page> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Page::default());
    }
    let text = std::str::from_utf8(body).map_err(|e| malformed(entity, &format!("not UTF-8 ({e})")))?;
    let field = paging_field(entity).map(split_path);
    let (items, paging) = match entity.records {
        None => (
            vec![json_scan::whole(text, Scanner::value)
                .map_err(|e| malformed(entity, &format!("not valid JSON ({e})")))?],
            None,
        ),
        Some("*") => (
            json_scan::whole(text, elements)
                .map_err(|e| malformed(entity, &format!("expected a JSON array of records ({e})")))?,
            None,
        ),
        Some(key) => {
            let paging_key = field.as_ref().map(|(top, _)| *top);
            let list = json_scan::whole(text, |scanner| list_body(scanner, key, paging_key))
                .map_err(|e| malformed(entity, &format!("expected an object with a `{key}` list ({e})")))?;
            (list.records, list.paging)
        }
    };
    let records = items
        .into_iter()
        .map(|item| match item.starts_with('{') {
            true => Ok(item.to_string()),
            false => Err(malformed(entity, "a record is not a JSON object")),
        })
        .collect::<Result<Vec<_>>>()?;
    let next = next_value(entity, paging, field.as_ref())?;
    let next_cursor = match (entity.pagination, next) {
        (_, None) | (Pagination::None, _) => None,
        (Pagination::Offset { .. }, Some(link)) => Some(cursor_from_link(entity, &link, host, path)?),
        // The same query, continuing after the last item of this page.
        (Pagination::Cursor { cursor_param, .. }, Some(last)) => {
            let mut query = path::parse_query(sent_query)?;
            query.retain(|(k, _)| k != cursor_param);
            query.push((cursor_param.to_string(), last));
            Some(path::query_string(&query))
        }
    };
    Ok(Page { records, next_cursor, state: None })
}

/// The paging field's value (a link or a cursor), read out of the paging
/// member's text: none when it is absent, `null` or empty.
fn next_value(entity: &EntitySpec, paging: Option<&str>, field: Option<&(&str, &str)>) -> Result<Option<String>> {
    let (Some(raw), Some((top, rest))) = (paging, field) else { return Ok(None) };
    // The paging member is small: read it whole, as a `Value`.
    let value: Value = crate::response::read_json(raw.as_bytes())
        .map_err(|e| malformed(entity, &format!("{top} is not readable ({e})")))?;
    // Walked key by key (`Value::pointer` would link a substring searcher for its `~1` escapes).
    let at = rest.split('.').filter(|key| !key.is_empty()).try_fold(&value, |v, key| v.get(key));
    match at {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone()).filter(|t| !t.is_empty())),
        Some(other) => {
            let at = paging_field(entity).unwrap_or_default();
            Err(malformed(entity, &format!("{at} is {other}, not a string")))
        }
    }
}

/// The query of Klarna's `pagination.next` link, which must point at the
/// same resource: an absolute `https` URL on the API host (its name in any
/// case, with or without the default port 443) or a link relative to it, and
/// the request's path. Anything else is refused rather than followed.
fn cursor_from_link(entity: &EntitySpec, next: &str, host: &str, path: &str) -> Result<String> {
    let at = paging_field(entity).unwrap_or_default();
    let refuse = |why: &str| malformed(entity, &format!("{at} {next:?} {why}"));
    let (link_path, query) = crate::link::klarna_link(next, host).map_err(|why| refuse(&why))?;
    if link_path != path {
        return Err(refuse(&format!("leaves {path}")));
    }
    Ok(query)
}

/// The query to send for a page: the cursor's, or the host's with the page
/// size (capped at the API's largest page) in the entity's parameter.
pub fn page_query(
    entity: &EntitySpec,
    query: &crate::model::Pairs,
    cursor: Option<&str>,
    page_size: Option<u32>,
) -> Result<String> {
    if let Some(cursor) = cursor {
        if !entity.paginated() {
            return Err(ConnectorError::input("cursor", format!("entity {} is not paginated", entity.name)));
        }
        // Decode and re-encode, so a cursor can only ever be a query string.
        return Ok(path::query_string(&path::parse_query(cursor)?));
    }
    let mut query = query.clone();
    let sizing = match entity.pagination {
        Pagination::None => None,
        Pagination::Offset { page_size_param, max_page_size, .. }
        | Pagination::Cursor { page_size_param, max_page_size, .. } => Some((page_size_param, max_page_size)),
    };
    if let (Some((param, max)), Some(size)) = (sizing, page_size) {
        if size == 0 {
            return Err(ConnectorError::input("page-size", "must be at least 1"));
        }
        query.retain(|(k, _)| k != param);
        query.push((param.to_string(), size.min(max).to_string()));
    }
    Ok(path::query_string(&query))
}

fn malformed(entity: &EntitySpec, what: &str) -> ConnectorError {
    ConnectorError::Unexpected(ApiError {
        status: 200,
        code: None,
        messages: vec![format!("unexpected response for entity {}: {what}", entity.name)],
        correlation_id: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Manifest;

    fn next_of(link: &str) -> Result<Option<String>> {
        let entity = Manifest::get().entity("payouts").expect("an offset-paged entity");
        let body = format!(r#"{{"payouts":[{{"payment_reference":"p1"}}],"pagination":{{"next":{link:?}}}}}"#);
        read_page(entity, body.as_bytes(), "api.klarna.com", "/settlements/v1/payouts", "size=1")
            .map(|page| page.next_cursor)
    }

    #[test]
    fn next_links_on_the_api_host_are_followed_in_every_form() {
        for link in [
            "https://api.klarna.com/settlements/v1/payouts?offset=1&size=1",
            "/settlements/v1/payouts?offset=1&size=1",
            "https://api.klarna.com:443/settlements/v1/payouts?offset=1&size=1",
            "https://API.KLARNA.COM/settlements/v1/payouts?offset=1&size=1",
            "HTTPS://Api.Klarna.Com:443/settlements/v1/payouts?offset=1&size=1",
        ] {
            assert_eq!(next_of(link), Ok(Some("offset=1&size=1".to_string())), "{link}");
        }
    }

    #[test]
    fn next_links_elsewhere_are_refused() {
        for (link, why) in [
            ("http://api.klarna.com/settlements/v1/payouts?offset=1", "is not https"),
            ("https://api.klarna.com.evil.example/settlements/v1/payouts?offset=1", "leaves the API host"),
            ("https://evil.example/settlements/v1/payouts?offset=1", "leaves the API host"),
            ("https://api.klarna.com:8443/settlements/v1/payouts?offset=1", "leaves the API host"),
            ("https://user@api.klarna.com/settlements/v1/payouts?offset=1", "user info"),
            ("https://api.klarna.com@evil.example/settlements/v1/payouts?offset=1", "user info"),
            ("https://api.klarna.com/settlements/v1/transactions?offset=1", "leaves /settlements/v1/payouts"),
            ("settlements/v1/payouts?offset=1", "is not a URL"),
            ("*", "is not a URL"),
            ("//evil.example/settlements/v1/payouts?offset=1", "neither"),
            ("https://api.klarna.com/settlements/v1/payouts?offset=1 x", "is not a URL"),
        ] {
            match next_of(link) {
                Err(ConnectorError::Unexpected(e)) => {
                    assert!(
                        e.messages[0].contains(why) && e.messages[0].contains("pagination.next"),
                        "{link}: {}",
                        e.messages[0]
                    )
                }
                other => panic!("{link}: expected a refusal, got {other:?}"),
            }
        }
    }
}
