//! Records out of list responses, and the cursor of the next page.

use std::collections::BTreeMap;

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
}

/// One page out of a read response. The body is parsed only as far as the
/// records: each record is handed on as Klarna's own JSON text (validated,
/// never rebuilt), which keeps paging cheap.
///
/// `base_url` and `path` are those of the request; the next cursor is the
/// query of Klarna's `pagination.next` link, after checking the link stays on
/// that host and path. Never guessed from counts.
pub fn read_page(entity: &EntitySpec, body: &[u8], base_url: &str, path: &str) -> Result<Page> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Page::default());
    }
    let parse_error = |e: serde_json::Error| malformed(entity, &format!("not valid JSON ({e})"));
    let (items, pagination): (Vec<&RawValue>, Option<&RawValue>) = match entity.records.as_deref() {
        None => (vec![serde_json::from_slice::<&RawValue>(body).map_err(parse_error)?], None),
        Some("*") => {
            (serde_json::from_slice(body).map_err(|_| malformed(entity, "expected a JSON array of records"))?, None)
        }
        Some(key) => {
            let top: BTreeMap<String, &RawValue> =
                serde_json::from_slice(body).map_err(|_| malformed(entity, "expected a JSON object"))?;
            let items = match top.get(key) {
                None => vec![],
                Some(raw) if raw.get() == "null" => vec![],
                Some(raw) => serde_json::from_str(raw.get())
                    .map_err(|_| malformed(entity, &format!("`{key}` is not an array")))?,
            };
            (items, top.get("pagination").copied())
        }
    };
    let records = items
        .into_iter()
        .map(|item| match item.get().starts_with('{') {
            true => Ok(item.get().to_string()),
            false => Err(malformed(entity, "a record is not a JSON object")),
        })
        .collect::<Result<Vec<_>>>()?;
    let next_cursor = match (entity.pagination, pagination) {
        (Pagination::Offset, Some(raw)) if raw.get() != "null" => {
            let links: PaginationLinks =
                serde_json::from_str(raw.get()).map_err(|_| malformed(entity, "`pagination` is not an object"))?;
            match links.next.filter(|n| !n.is_empty()) {
                Some(next) => Some(cursor_from_link(entity, &next, base_url, path)?),
                None => None,
            }
        }
        _ => None,
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
    if let (Pagination::Offset, Some(size)) = (entity.pagination, page_size) {
        if size == 0 {
            return Err(ConnectorError::input("page-size", "must be at least 1"));
        }
        query.retain(|(k, _)| k != "size");
        query.push(("size".to_string(), size.min(MAX_OFFSET_PAGE).to_string()));
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
