//! Incremental reads (connector.json's `incremental` and `parent`), run by
//! one engine for every entity that has them.
//!
//! A read of an incremental entity keeps the latest value of the entity's
//! field it has seen; its last page hands the host a `state` with it
//! ([`token`]). The next read, given that state as `since`, asks Klarna only
//! for records from that value less the look-back window ([`window`]), so a
//! record that arrived late or changed within the window is read again:
//! delivery is at least once, and hosts deduplicate on the primary key.
//!
//! A child entity (`payout-transactions`) is read per record of its parent
//! (`payouts`): the parent's pages within the window, then for each parent
//! record the child's pages with the parent's field as a query parameter.
//! Both levels page inside one cursor.

pub mod token;
pub mod window;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::connection::Connection;
use crate::error::{ConnectorError, Result};
use crate::json_scan;
use crate::manifest::{EntitySpec, IncrementalSpec, Manifest, OperationSpec, ParentSpec};
use crate::model::{Method, Page, Pairs, Params, SubscribeRequest};
use crate::transport::{Level, Transport};
use token::{Cursor, State};

/// Most parent pages one call reads when they hold no child to start.
const MAX_PARENT_PAGES_PER_CALL: usize = 4;

/// A digest of a read's parameters: its path parameters and its query
/// parameters but the window's own, sorted, so that a state is only taken
/// back by a read of the same records.
pub fn params_digest(params: &Params, window: &[&str]) -> String {
    let (mut path, mut query) = (unwindowed(&params.path, window), unwindowed(&params.query, window));
    // Unstable sorts of one pair type, as the idempotency keys', so the component carries one sort.
    path.sort_unstable();
    query.sort_unstable();
    let text = serde_json::json!({ "path": path, "query": query }).to_string();
    hex::encode(&Sha256::digest(text.as_bytes())[..12])
}

/// The pairs but the window's, as string slices.
fn unwindowed<'p>(pairs: &'p [(String, String)], window: &[&str]) -> Vec<(&'p str, &'p str)> {
    pairs.iter().filter(|(k, _)| !window.contains(&k.as_str())).map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

impl<T: Transport> Connection<T> {
    /// One page of an incremental or child entity (see the module docs).
    pub(crate) fn read_incremental(
        &self,
        entity: &'static EntitySpec,
        operation: &'static OperationSpec,
        request: &SubscribeRequest,
    ) -> Result<Page> {
        let (spec, parent) = incremental_of(entity)?;
        let window = window_params(spec);
        let params = params_digest(&request.params, &window);
        let cursor = match request.cursor.as_deref() {
            Some(text) => {
                let cursor = token::read_cursor(text)?;
                if cursor.entity != entity.name || cursor.params != params {
                    return Err(ConnectorError::input(
                        "cursor",
                        format!("is not one of a read of {} with these parameters", entity.name),
                    ));
                }
                cursor
            }
            None => first_cursor(entity, &params, request)?,
        };
        match parent {
            None => self.read_own_page(entity, operation, spec, request, cursor),
            Some((parent, parent_entity, parent_operation)) => {
                self.read_child_page(entity, operation, parent, parent_entity, parent_operation, spec, request, cursor)
            }
        }
    }

    /// The query of a read's first page: the host's query, with the window's
    /// start when the cursor has a latest value.
    fn window_query(&self, spec: &IncrementalSpec, query: &Pairs, high: Option<&str>) -> Result<Pairs> {
        let mut query: Pairs = query.clone();
        let window = window_params(spec);
        let Some(high) = high.and_then(|h| window::read(h, spec.format)) else {
            return Ok(query);
        };
        if query.iter().any(|(k, _)| window.contains(&k.as_str())) {
            self.transport().log(
                Level::Info,
                "the window of an incremental read comes from since; the query's own bounds are replaced",
            );
            query.retain(|(k, _)| !window.contains(&k.as_str()));
        }
        let lookback = self.lookback_days(spec);
        let start = window::start(high, lookback, spec.format)
            .ok_or_else(|| ConnectorError::input("since", "its date less the look-back window is out of range"))?;
        query.push((spec.from.to_string(), start));
        Ok(query)
    }

    /// The connection's `lookback_days` setting, else the entity's default.
    fn lookback_days(&self, spec: &IncrementalSpec) -> u32 {
        self.config().value("lookback_days").and_then(|v| v.parse().ok()).unwrap_or(spec.lookback_days)
    }

    /// A page of an entity that has its own incremental field.
    fn read_own_page(
        &self,
        entity: &'static EntitySpec,
        operation: &'static OperationSpec,
        spec: &IncrementalSpec,
        request: &SubscribeRequest,
        mut cursor: Cursor,
    ) -> Result<Page> {
        let records = self.windowed_page(entity, operation, spec, request, &mut cursor, request.cursor.is_none())?;
        Ok(finish(records, cursor))
    }

    /// The next page of `entity`, which reads by `spec`: its first page from
    /// the window's start (after `cursor.high`), else the page `cursor.next`
    /// points to. The cursor takes the page's latest field value and its next
    /// page; the page's records are handed back.
    fn windowed_page(
        &self,
        entity: &'static EntitySpec,
        operation: &'static OperationSpec,
        spec: &IncrementalSpec,
        request: &SubscribeRequest,
        cursor: &mut Cursor,
        first: bool,
    ) -> Result<Vec<String>> {
        let query =
            if first { self.window_query(spec, &request.params.query, cursor.high.as_deref())? } else { vec![] };
        let next = if first { None } else { Some(cursor.next.clone().unwrap_or_default()) };
        let page_request = page_of(entity, request.params.path.clone(), query, next, request.page_size);
        let page = self.read(entity, operation, &page_request)?;
        cursor.high = latest(cursor.high.take(), &page.records, spec);
        cursor.next = page.next_cursor;
        Ok(page.records)
    }

    /// A page of a child entity: parent pages until a parent record gives a
    /// child set to read, then one page of it.
    #[allow(clippy::too_many_arguments)]
    fn read_child_page(
        &self,
        entity: &'static EntitySpec,
        operation: &'static OperationSpec,
        parent: &ParentSpec,
        parent_entity: &'static EntitySpec,
        parent_operation: &'static OperationSpec,
        spec: &IncrementalSpec,
        request: &SubscribeRequest,
        mut cursor: Cursor,
    ) -> Result<Page> {
        let mut parent_first = request.cursor.is_none();
        let mut parent_pages = 0;
        while cursor.child.is_none() && cursor.refs.is_empty() {
            if !parent_first && cursor.next.is_none() {
                return Ok(finish(vec![], cursor));
            }
            if parent_pages == MAX_PARENT_PAGES_PER_CALL {
                return Ok(finish(vec![], cursor));
            }
            // After the first parent page, the check above has made sure `cursor.next` is there.
            let records =
                self.windowed_page(parent_entity, parent_operation, spec, request, &mut cursor, parent_first)?;
            parent_first = false;
            parent_pages += 1;
            cursor.refs =
                records.iter().filter_map(|r| json_scan::member(r, parent.field)).map(|r| r.into_owned()).collect();
        }
        let (query, child_cursor) = match cursor.child.take() {
            Some(next) => (vec![], Some(next)),
            None => {
                let reference = cursor.refs.remove(0);
                (vec![(parent.param.to_string(), reference)], None)
            }
        };
        let page_request = page_of(entity, vec![], query, child_cursor, request.page_size);
        let page = self.read(entity, operation, &page_request)?;
        cursor.child = page.next_cursor;
        Ok(finish(page.records, cursor))
    }
}

/// A plain read of one page of `entity` (no `since`: the engine has set the
/// window in `query` itself).
fn page_of(
    entity: &EntitySpec,
    path: Pairs,
    query: Pairs,
    cursor: Option<String>,
    page_size: Option<u32>,
) -> SubscribeRequest {
    SubscribeRequest {
        entity: entity.name.to_string(),
        params: Params { path, query, payload: None },
        cursor,
        page_size,
        since: None,
    }
}

/// The cursor a read starts from: the window from `since` (its start
/// the state's latest value less the look-back), or a full read.
fn first_cursor(entity: &EntitySpec, params: &str, request: &SubscribeRequest) -> Result<Cursor> {
    let mut cursor = Cursor { entity: entity.name.to_string(), params: params.to_string(), ..Cursor::default() };
    let Some(since) = request.since.as_deref() else {
        return Ok(cursor);
    };
    let state = token::read_state(since)?;
    if state.entity != entity.name {
        return Err(ConnectorError::input(
            "since",
            format!("is a state of entity {}, not of {}", state.entity, entity.name),
        ));
    }
    if state.params != params {
        return Err(ConnectorError::input(
            "since",
            "is a state of a read with other parameters (read without since to start again)",
        ));
    }
    cursor.high = state.high;
    Ok(cursor)
}

/// The page to hand back: the next cursor while anything is left to read,
/// else the state to start the next read from.
fn finish(records: Vec<String>, cursor: Cursor) -> Page {
    if cursor.next.is_some() || cursor.child.is_some() || !cursor.refs.is_empty() {
        return Page { records, next_cursor: Some(token::write_cursor(&cursor)), state: None };
    }
    let state = State { entity: cursor.entity, params: cursor.params, high: cursor.high };
    Page { records, next_cursor: None, state: Some(token::write_state(&state)) }
}

/// The latest of `high` and the records' field values, written as the
/// window's parameters are (records without a readable value are left out).
fn latest(high: Option<String>, records: &[String], spec: &IncrementalSpec) -> Option<String> {
    let read = |text: &str| window::read(text, spec.format);
    let seen = records.iter().filter_map(|r| json_scan::member(r, spec.field)).filter_map(|v| read(&v)).max();
    let before = high.as_deref().and_then(read);
    let newest: Option<OffsetDateTime> = before.max(seen);
    newest.and_then(|t| window::write(t, spec.format)).or(high)
}

/// The query parameters of the window (left out of the parameters' digest).
fn window_params(spec: &IncrementalSpec) -> Vec<&'static str> {
    spec.to.into_iter().chain([spec.from]).collect()
}

/// The incremental spec an entity reads by, and for a child its parent.
#[allow(clippy::type_complexity)]
fn incremental_of(
    entity: &'static EntitySpec,
) -> Result<(&'static IncrementalSpec, Option<(&'static ParentSpec, &'static EntitySpec, &'static OperationSpec)>)> {
    if let Some(spec) = entity.incremental {
        return Ok((spec, None));
    }
    let missing = || ConnectorError::input("entity", format!("{} is not read incrementally", entity.name));
    let parent = entity.parent.ok_or_else(missing)?;
    let parent_entity = Manifest::get().entity(parent.entity).ok_or_else(missing)?;
    let parent_operation = parent_entity.operation(&Method::Get).ok_or_else(missing)?;
    let spec = parent_entity.incremental.ok_or_else(missing)?;
    Ok((spec, Some((parent, parent_entity, parent_operation))))
}
