//! Records out of list responses, and the cursor of the next page.

use serde_json::Value;

use crate::error::{ApiError, ConnectorError, Result};
use crate::manifest::{EntitySpec, Pagination};
use crate::path;

/// Klarna Settlements serves at most 500 records a page.
pub const MAX_OFFSET_PAGE: u32 = 500;

/// The records of a read response, each as one JSON object text.
pub fn records(entity: &EntitySpec, body: Option<Value>) -> Result<Vec<String>> {
    let Some(body) = body else { return Ok(vec![]) };
    let items = match entity.records.as_deref() {
        None => vec![body],
        Some("*") => match body {
            Value::Array(items) => items,
            _ => return Err(malformed(entity, "expected a JSON array")),
        },
        Some(key) => match body {
            Value::Object(mut map) => match map.remove(key) {
                Some(Value::Array(items)) => items,
                None | Some(Value::Null) => vec![],
                Some(_) => return Err(malformed(entity, &format!("`{key}` is not an array"))),
            },
            _ => return Err(malformed(entity, "expected a JSON object")),
        },
    };
    items
        .into_iter()
        .map(|item| match item {
            Value::Object(_) => Ok(item.to_string()),
            _ => Err(malformed(entity, "a record is not a JSON object")),
        })
        .collect()
}

/// The cursor for the page after this one: the query of Klarna's own
/// `pagination.next` link, after checking it points at the same host and path.
/// Never guessed from counts.
pub fn next_cursor(entity: &EntitySpec, body: &Value, base_url: &str, path: &str) -> Result<Option<String>> {
    match entity.pagination {
        Pagination::None => Ok(None),
        Pagination::Offset => {
            let next = body.pointer("/pagination/next");
            let Some(next) = next.and_then(Value::as_str).filter(|s| !s.is_empty()) else {
                return Ok(None);
            };
            let Some(rest) = next.strip_prefix(base_url) else {
                return Err(malformed(entity, &format!("pagination.next {next:?} leaves the API host")));
            };
            let (next_path, query) = rest.split_once('?').unwrap_or((rest, ""));
            if next_path != path {
                return Err(malformed(entity, &format!("pagination.next {next:?} leaves {path}")));
            }
            Ok(Some(query.to_string()))
        }
    }
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
