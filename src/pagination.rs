//! Records out of list responses, and the cursor of the next page.

use std::borrow::Cow;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::{ApiError, ConnectorError, Result};
use crate::manifest::{EntitySpec, Pagination};
use crate::model::Page;
use crate::path;

/// Klarna Settlements serves at most 500 records a page.
pub const MAX_OFFSET_PAGE: u32 = 500;

/// The part of a list response's `pagination` object the connector follows.
#[derive(Deserialize)]
struct PaginationLinks {
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    last_item: Option<String>,
}

/// A list response read in one pass: the records under `key` kept as raw
/// JSON, `pagination` parsed, everything else skipped unparsed.
struct ListBody<'a> {
    records: Option<Vec<&'a RawValue>>,
    pagination: Option<PaginationLinks>,
}

/// Reads a [`ListBody`] whose records are under `key`.
struct ListSeed<'k>(&'k str);

impl<'de> DeserializeSeed<'de> for ListSeed<'_> {
    type Value = ListBody<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> std::result::Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ListSeed<'_> {
    type Value = ListBody<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "an object with `{}`", self.0)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Self::Value, A::Error> {
        let mut body = ListBody { records: None, pagination: None };
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key == self.0 {
                body.records = map.next_value::<Option<Vec<&'de RawValue>>>()?;
            } else if key == "pagination" {
                body.pagination = map.next_value::<Option<PaginationLinks>>()?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(body)
    }
}

/// One page out of a read response. The body is parsed once, and only as far
/// as the records: each record is handed on as Klarna's own JSON text
/// (validated, never rebuilt), which keeps paging cheap.
///
/// `base_url` and `path` are those of the request; the next cursor is the
/// query of Klarna's `pagination.next` link, after checking the link stays on
/// that host and path. Never guessed from counts.
pub fn read_page(entity: &EntitySpec, body: &[u8], base_url: &str, path: &str, sent_query: &str) -> Result<Page> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Page::default());
    }
    let (items, links): (Vec<&RawValue>, Option<PaginationLinks>) = match entity.records {
        None => {
            let record = serde_json::from_slice::<&RawValue>(body)
                .map_err(|e| malformed(entity, &format!("not valid JSON ({e})")))?;
            (vec![record], None)
        }
        Some("*") => {
            (serde_json::from_slice(body).map_err(|_| malformed(entity, "expected a JSON array of records"))?, None)
        }
        Some(key) => {
            let mut deserializer = serde_json::Deserializer::from_slice(body);
            let list = ListSeed(key)
                .deserialize(&mut deserializer)
                .and_then(|list| deserializer.end().map(|()| list))
                .map_err(|e| malformed(entity, &format!("expected an object with a `{key}` list ({e})")))?;
            (list.records.unwrap_or_default(), list.pagination)
        }
    };
    let records = items
        .into_iter()
        .map(|item| match item.get().starts_with('{') {
            true => Ok(item.get().to_string()),
            false => Err(malformed(entity, "a record is not a JSON object")),
        })
        .collect::<Result<Vec<_>>>()?;
    let links = links.unwrap_or(PaginationLinks { next: None, last_item: None });
    let next_cursor = match entity.pagination {
        Pagination::None => None,
        Pagination::Offset => match links.next.filter(|n| !n.is_empty()) {
            Some(next) => Some(cursor_from_link(entity, &next, base_url, path)?),
            None => None,
        },
        // The same query, continuing after the last item of this page.
        Pagination::Cursor => match links.last_item.filter(|l| !l.is_empty()) {
            Some(last) => {
                let mut query = path::parse_query(sent_query)?;
                query.retain(|(k, _)| k != "starting_after");
                query.push(("starting_after".to_string(), last));
                Some(path::query_string(&query))
            }
            None => None,
        },
    };
    Ok(Page { records, next_cursor })
}

fn cursor_from_link(entity: &EntitySpec, next: &str, base_url: &str, path: &str) -> Result<String> {
    let Some(rest) = next.strip_prefix(base_url) else {
        return Err(malformed(entity, &format!("pagination.next {next:?} leaves the API host")));
    };
    let (next_path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if next_path != path {
        return Err(malformed(entity, &format!("pagination.next {next:?} leaves {path}")));
    }
    Ok(query.to_string())
}

/// The query to send for a page: the cursor's, or the host's with `size`.
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
    if let (Pagination::Offset | Pagination::Cursor, Some(size)) = (entity.pagination, page_size) {
        if size == 0 {
            return Err(ConnectorError::input("page-size", "must be at least 1"));
        }
        let size = if entity.pagination == Pagination::Offset { size.min(MAX_OFFSET_PAGE) } else { size };
        query.retain(|(k, _)| k != "size");
        query.push(("size".to_string(), size.to_string()));
    }
    Ok(path::query_string(&query))
}

fn malformed(entity: &EntitySpec, what: &str) -> ConnectorError {
    ConnectorError::Unavailable(ApiError {
        status: 200,
        code: None,
        messages: vec![format!("unexpected response for entity {}: {what}", entity.name)],
        correlation_id: None,
    })
}
