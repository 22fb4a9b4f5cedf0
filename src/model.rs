//! The connector's plain Rust view of the WIT records (`ipaas:connector/types`).
//!
//! `lib.rs` converts between these and the generated bindings; everything else
//! in the crate works on these types only, so it runs natively in tests.

use crate::secret::Secret;

/// An HTTP method: the five the contract carries and Klarna's APIs use.
///
/// The one method type of the crate; `lib.rs` converts it to and from the
/// WIT `method` at the edge.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Method {
    /// GET: reads, never with a body (the default, as in `http`).
    #[default]
    Get,
    /// POST: creates and actions (capture, refund, cancel, ...).
    Post,
    /// PUT: replaces a resource (HPP session, customer token status).
    Put,
    /// PATCH: partial updates.
    Patch,
    /// DELETE: removals.
    Delete,
}

impl Method {
    /// The method's name on the wire, upper case (`GET`, `POST`, ...); the
    /// idempotency key's canonical form includes it, so it must not change.
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Ordered name/value pairs.
pub type Pairs = Vec<(String, String)>;

/// Credentials of a connection.
#[derive(Clone, Debug)]
pub enum Auth {
    /// HTTP Basic: API username and password (or API key).
    Basic {
        /// API username.
        username: String,
        /// API password or key.
        password: Secret,
    },
    /// OAuth 2.0 client credentials.
    OAuth2 {
        /// Client id.
        client_id: String,
        /// Client secret.
        client_secret: Secret,
        /// Scopes to request.
        scopes: Vec<String>,
    },
    /// Bearer token.
    Token(Secret),
}

/// What the user filled in on the connection panel.
#[derive(Clone, Debug)]
pub struct ConnectionConfig {
    /// API type id.
    pub api_type: String,
    /// `playground` or `production`.
    pub environment: String,
    /// `eu`, `na` or `oc`.
    pub region: String,
    /// The credentials the user gave, as the WIT `auth` variant.
    pub auth: Auth,
    /// API-type and common settings.
    pub settings: Pairs,
}

/// Parameters of a request.
#[derive(Clone, Debug, Default)]
pub struct Params {
    /// Values for the path template's placeholders.
    pub path: Pairs,
    /// Query parameters.
    pub query: Pairs,
    /// JSON body.
    pub payload: Option<String>,
}

/// Read one page of an entity.
#[derive(Clone, Debug, Default)]
pub struct SubscribeRequest {
    /// Entity name.
    pub entity: String,
    /// Path and query parameters.
    pub params: Params,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
    /// Records per page.
    pub page_size: Option<u32>,
    /// The state a previous incremental read ended with (first page only).
    pub since: Option<String>,
}

/// One page of records, each a JSON object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Page {
    /// The records as JSON text.
    pub records: Vec<String>,
    /// Cursor of the next page; `None` on the last page.
    pub next_cursor: Option<String>,
    /// On the last page of an incremental entity's read: what to pass as `since` next time.
    pub state: Option<String>,
}

/// Write to an entity.
#[derive(Clone, Debug)]
pub struct PublishRequest {
    /// Entity name.
    pub entity: String,
    /// Which operation of the entity.
    pub method: Method,
    /// Path, query and payload.
    pub params: Params,
    /// Idempotency key chosen by the host.
    pub idempotency_key: Option<String>,
}

/// Outcome of a successful write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishResult {
    /// HTTP status.
    pub status: u16,
    /// Id of the created resource.
    pub id: Option<String>,
    /// Response JSON.
    pub data: Option<String>,
}

/// A request Klarna sent to the host's public endpoint for a connection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IncomingRequest {
    /// The method Klarna used.
    pub method: Method,
    /// Path and query after the host's mount point (`/checkout/push?order_id=…`).
    pub path: String,
    /// The headers as received.
    pub headers: Pairs,
    /// The raw body.
    pub body: Vec<u8>,
}

/// Something Klarna told the connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Klarna's event type or the callback's kind.
    pub kind: String,
    /// Stable across redeliveries.
    pub id: String,
    /// The manifest entity the record belongs to.
    pub entity: Option<String>,
    /// One JSON object.
    pub record: String,
}

/// The HTTP answer for Klarna.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: Pairs,
    /// Body.
    pub body: Vec<u8>,
}

/// What one delivery carried, and the answer when it is known at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The events.
    pub events: Vec<Event>,
    /// The answer; `None` when the flow answers through `respond`.
    pub reply: Option<Reply>,
}
