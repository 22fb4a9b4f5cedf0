//! Where one request to Klarna goes: an operation of the manifest and the
//! host's parameters made into the path, the query and the header
//! parameters, each checked before anything is sent. A read then adds its
//! page ([`crate::pagination::page_query`]), a write its body and key.

use crate::error::Result;
use crate::manifest::{EntitySpec, OperationSpec};
use crate::model::{Pairs, Params};
use crate::{header_params, path};

/// The path, query and headers of one request, checked.
pub struct Target {
    /// The operation's path template filled and percent-encoded.
    pub path: String,
    /// The host's query parameters less the entity's header parameters.
    pub query: Pairs,
    /// The entity's header parameters the host gave (as `params.query` pairs).
    pub headers: Pairs,
}

/// The target of `operation` on `entity` with the host's `params`; path
/// placeholders the host leaves out come from the connection's `defaults`.
///
/// Refused as `invalid-input`, naming the parameter: a query name that is
/// empty or a value with control characters, a header parameter outside
/// Klarna's limits, a path value missing, unknown or changing the path.
pub fn target(entity: &EntitySpec, operation: &OperationSpec, params: &Params, defaults: &Pairs) -> Result<Target> {
    path::check_query(&params.query)?;
    let (query, headers) = header_params::split(entity, &params.query)?;
    let path = path::render(operation.path, &params.path, defaults)?;
    Ok(Target { path, query, headers })
}
