//! The format of `connector.json`, as serde types: `build.rs` reads the
//! manifest through them (an unknown or missing key fails the build, naming
//! it), and `connector.schema.json`, the JSON Schema hosts validate against,
//! is generated from them (`host-test/tests/manifest_schema.rs` keeps it in
//! sync). The `///` docs below become the schema's descriptions.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

/// The Klarna connector's manifest: the connection panel a host draws, the
/// hosts the connector may call, and every entity it can read or write.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The JSON Schema this file follows (`./connector.schema.json`).
    #[serde(rename = "$schema")]
    pub schema: String,
    /// Stable connector id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Connector version; equals the crate's version.
    pub version: String,
    /// The WIT package the component implements, e.g. `ipaas:connector@0.1.0`.
    pub wit: String,
    /// One line on what the connector does.
    pub description: String,
    /// The connection panel.
    pub panel: Panel,
    /// Where requests may go.
    pub hosts: Hosts,
    /// Every entity, in the order hosts list them.
    pub entities: Vec<Entity>,
    /// What Klarna pushes to a connection (webhooks and merchant callbacks):
    /// how each delivery is recognised, verified, read and answered.
    pub callbacks: Vec<Callback>,
}

/// The connection panel: API type, environment, region, credentials and settings.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Panel {
    /// Environments (`playground`, `production`).
    pub environments: Vec<Choice>,
    /// Regions (`eu`, `na`, `oc`).
    pub regions: Vec<Choice>,
    /// The auth kinds, with the fields each shows and how they fill the WIT `auth` variant.
    pub auth_kinds: Vec<AuthKind>,
    /// Settings every API type shows (timeouts, retries); integers need a default.
    pub common_settings: Vec<Setting>,
    /// The API types (Celigo's "API type"); a connection is opened for one.
    pub api_types: Vec<ApiType>,
}

/// One choice of a select field.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    /// The value sent in the connection config.
    pub id: String,
    /// What the user sees.
    pub label: String,
}

/// An auth kind: the fields it shows and the WIT `auth` value they make.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthKind {
    /// `api_key`, `basic`, `oauth2` or `token`.
    pub id: String,
    /// What the user sees.
    pub label: String,
    /// How the fields fill the WIT `auth` variant: `{field}` is replaced by the field's value.
    pub wit: WitAuth,
    /// The fields the kind shows.
    pub fields: Vec<Setting>,
}

/// The WIT `auth` variant an auth kind's fields become.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(tag = "variant", deny_unknown_fields)]
pub enum WitAuth {
    /// `basic(basic-auth)`.
    #[serde(rename = "basic")]
    Basic {
        /// The username template (empty for an API key).
        username: String,
        /// The password template.
        password: String,
    },
    /// `oauth2(oauth2-client)`.
    #[serde(rename = "oauth2")]
    OAuth2 {
        /// The client id template.
        #[serde(rename = "client-id")]
        client_id: String,
        /// The client secret template.
        #[serde(rename = "client-secret")]
        client_secret: String,
        /// The template of the space-separated scopes.
        scopes: String,
    },
    /// `token(string)`.
    #[serde(rename = "token")]
    Token {
        /// The token template.
        value: String,
    },
}

/// One field of the panel.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Setting {
    /// The key in the connection's `settings` (or the auth template's `{key}`).
    pub key: String,
    /// The field's label.
    pub label: String,
    /// Help shown beside the field.
    pub help: String,
    /// The value's type.
    #[serde(rename = "type")]
    pub kind: SettingType,
    /// Whether the field must be filled.
    pub required: bool,
    /// Whether the value is write-only: never shown again, never logged.
    pub secret: bool,
    /// The value used when the field is left empty.
    #[serde(default)]
    pub default: Option<String>,
    /// Smallest allowed value of an integer setting.
    #[serde(default)]
    pub min: Option<u64>,
    /// Largest allowed value of an integer setting.
    #[serde(default)]
    pub max: Option<u64>,
    /// Show (and accept) the field only for these auth kinds.
    #[serde(default)]
    pub show_when: Option<ShowWhen>,
}

/// The type of a setting's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SettingType {
    /// Free text.
    String,
    /// A whole number.
    Integer,
    /// Space-separated words.
    StringList,
    /// `true` or `false`.
    Boolean,
    /// Space-separated `name=value` pairs with distinct names.
    KeyValueList,
    /// An absolute `https://` URL with a host, without user info or a query
    /// (at most 2,000 characters, Klarna's limit on registered URLs).
    HttpsUrl,
}

/// When a setting is shown.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowWhen {
    /// The auth kinds that show it.
    pub auth: Vec<String>,
}

/// An API type: its host family, auth kinds, settings and test probe.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiType {
    /// Id, e.g. `post-purchase`.
    pub id: String,
    /// What the user sees.
    pub label: String,
    /// What it covers.
    pub description: String,
    /// The host family (a key of `hosts`) its requests go to.
    pub hosts: String,
    /// The auth kinds it allows.
    pub auth: Vec<String>,
    /// Its own settings; string settings fill path parameters a request leaves out.
    pub settings: Vec<Setting>,
    /// The cheapest authenticated read, which `test()` makes; absent for an
    /// API type that calls nothing at Klarna (Klarna calls it).
    #[serde(default)]
    pub test: Option<Probe>,
}

/// The request `test()` sends to prove the credentials work.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Probe {
    /// The method.
    pub method: MethodName,
    /// The path (no placeholders).
    pub path: String,
    /// Query pairs.
    #[serde(default)]
    pub query: Vec<(String, String)>,
    /// Statuses that mean the credentials were accepted.
    pub accept: Vec<u16>,
    /// What a success proves, in words for the user.
    pub checks: String,
}

/// An HTTP method, as the manifest spells it.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MethodName {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
}

/// The hosts: the allow-list, the OAuth 2.0 token URLs, and one host family
/// per other key (`environment → region → host`).
#[derive(Debug, Deserialize, JsonSchema)]
pub struct Hosts {
    /// Every host name the connector may call; hosts may enforce it.
    pub allowed: Vec<String>,
    /// Environment → token URL, with `{subdomain}` for the OAuth subdomain setting.
    pub oauth_token: BTreeMap<String, String>,
    /// Host families: family → environment → region → host name.
    #[serde(flatten)]
    pub families: BTreeMap<String, BTreeMap<String, BTreeMap<String, String>>>,
}

/// An entity: one Klarna path template and its operations.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Entity {
    /// Stable id, e.g. `order-captures`.
    pub name: String,
    /// Short label.
    pub label: String,
    /// What it is and when to use it.
    pub description: String,
    /// The API type it belongs to.
    pub api_type: String,
    /// Its operations, at most one per method, all on one path template.
    pub operations: Vec<Operation>,
    /// Where a read's records are: absent when the body is one record, `*`
    /// for an array body, otherwise the key of the array in the body.
    #[serde(default)]
    pub records: Option<String>,
    /// How reads are paged; absent when one answer holds every record.
    #[serde(default)]
    pub pagination: Option<Pagination>,
    /// Fields that identify a record.
    pub primary_key: Vec<String>,
    /// Where a create's id comes from, in order: `header:<Name>`, `location`,
    /// `body:<field>` (`body:a.b` for a nested field).
    #[serde(default)]
    pub created_id: Vec<String>,
    /// Checks a write's payload gets before it is sent.
    #[serde(default)]
    pub checks: Vec<CheckName>,
    /// `file` when a read answers a file (CSV, PDF), which becomes one record
    /// `{content_type, filename, content_base64}`.
    #[serde(default)]
    pub response: Option<ResponseKind>,
    /// Request headers the host passes as `params.query` pairs of the same name.
    #[serde(default)]
    pub header_params: Vec<String>,
    /// Present when a write uploads a file as `multipart/form-data`.
    #[serde(default)]
    pub upload: Option<Upload>,
    /// Present when a read can ask only for what changed since the last one.
    #[serde(default)]
    pub incremental: Option<Incremental>,
    /// Present when the entity is read per record of another one (its
    /// parent), whose incremental window it follows.
    #[serde(default)]
    pub parent: Option<Parent>,
}

/// One operation of an entity.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Operation {
    /// The method.
    pub method: MethodName,
    /// The path template, exactly as Klarna's API reference writes it.
    pub path: String,
    /// How a resend behaves: required on every write, absent on reads (a
    /// read is `natural`).
    #[serde(default)]
    pub retry: Option<Retry>,
}

/// How a write behaves when it is sent twice, and where that is written.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Retry {
    /// `key`, `natural` or `none`.
    pub safety: RetrySafety,
    /// Where Klarna (or HTTP itself) says so; required for `key` and
    /// `natural`. When the sources are silent, the operation is `none`.
    #[serde(default)]
    pub source: Option<String>,
    /// For `none`: how to find out whether a write whose outcome is unknown
    /// happened (the entity to read and the reference to look for, where
    /// Klarna offers one); the `outcome-unknown` message carries it.
    #[serde(default)]
    pub check: Option<String>,
}

/// How a resend of a write behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RetrySafety {
    /// Klarna honours `Klarna-Idempotency-Key` for the operation.
    Key,
    /// The operation is idempotent by itself (a PUT, a DELETE, a status set to a value).
    Natural,
    /// A resend may act twice: sent again only when the first attempt surely did not reach Klarna.
    None,
}

/// Reading only what changed since the last read: the record field it goes
/// by, the query parameters that bound it, and a look-back window.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Incremental {
    /// The record field (`payout_date`), as the records carry it.
    pub field: String,
    /// The query parameter of the window's start (`start_date`).
    pub from: String,
    /// The query parameter of its end, where Klarna has one (`end_date`).
    #[serde(default)]
    pub to: Option<String>,
    /// The values' format: `date` (`2026-01-15`) or `date-time` (RFC 3339).
    pub format: DateFormat,
    /// The order Klarna returns records in.
    pub order: RecordOrder,
    /// Days re-read before the end of the last read, for records that arrive
    /// late or change; the API type's `lookback_days` setting overrides it.
    pub lookback_days: u32,
}

/// The format of a date parameter or field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DateFormat {
    /// `2026-01-15`.
    Date,
    /// RFC 3339, `2026-01-15T10:00:00Z`.
    DateTime,
}

/// The order records come in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RecordOrder {
    /// Oldest first.
    Ascending,
    /// Newest first.
    Descending,
    /// Klarna does not say.
    Unspecified,
}

/// The entity whose records a child entity is read for.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Parent {
    /// The parent entity (an incremental one, of the same API type).
    pub entity: String,
    /// The parent record's field that names a child set (`payment_reference`).
    pub field: String,
    /// The child read's query parameter it is sent as.
    pub param: String,
}

/// How a list is paged: the parameters to send and where the answer says
/// what comes next. Paths into the answer are dotted (`pagination.next`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(tag = "style", rename_all = "lowercase", deny_unknown_fields)]
pub enum Pagination {
    /// `offset` + page size; the next page is the query of the answer's next link.
    Offset {
        /// The query parameter of the page size (`size`).
        page_size_param: String,
        /// The largest page the API serves; larger requests are capped to it.
        max_page_size: u32,
        /// Where the answer holds the link to the next page (absent or empty on the last).
        next_link: String,
    },
    /// A cursor: the same query, continuing after the last item of this page.
    Cursor {
        /// The query parameter of the page size (`size`).
        page_size_param: String,
        /// The largest page the API serves; larger requests are capped to it.
        max_page_size: u32,
        /// The query parameter that continues after an item (`starting_after`).
        cursor_param: String,
        /// Where the answer holds the last item's id (null on the last page).
        cursor_from: String,
    },
}

/// A check of a write's payload.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckName {
    /// Klarna's order-data rules (amounts, totals, tax, market).
    Order,
    /// A Klarna Network payment request (currency, amount).
    PaymentRequest,
    /// A Klarna Network payment authorization.
    PaymentAuthorization,
    /// The shipping options and merchant data of a Checkout callback's answer.
    ShippingOptions,
}

/// What a read answers.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ResponseKind {
    /// JSON (the default).
    Json,
    /// A file.
    File,
}

/// A file upload.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Upload {
    /// The form field that carries the file.
    pub part: String,
    /// The largest file Klarna accepts, in bytes.
    pub max_bytes: u64,
    /// Accepted content types, each with its file name extensions.
    pub types: BTreeMap<String, Vec<String>>,
}

/// One kind of delivery Klarna pushes: a webhook or a merchant callback.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Callback {
    /// The callback's name (`checkout.push`); the event kind unless `event.kind` says otherwise.
    pub kind: String,
    /// Short label.
    pub label: String,
    /// What Klarna sends and when.
    pub description: String,
    /// The API type of the connection that receives it.
    pub api_type: String,
    /// The method Klarna uses.
    pub method: MethodName,
    /// The path under the host's mount point for the connection; a `{name}`
    /// segment matches any one segment, read as the source `path.<name>`.
    pub route: String,
    /// What the user registers at Klarna after the mount point: the route and
    /// its query, with Klarna's placeholders (`{checkout.order.id}`) and `<setting>` for a setting's value.
    pub register_url: String,
    /// Where the URL is registered at Klarna.
    pub register_at: String,
    /// How a delivery is proven to come from Klarna.
    pub verify: Verify,
    /// What the body holds.
    pub body: CallbackBody,
    /// Body fields a delivery must carry (dotted paths).
    #[serde(default)]
    pub required: Vec<String>,
    /// The media type of the bodies both ways (Klarna's spelling): a
    /// delivery's `Content-Type` must be it, its `vnd` spelling,
    /// `application/json` or another `+json` type; replies carry it.
    #[serde(default)]
    pub media_type: Option<String>,
    /// The event a delivery becomes; absent only for a `nonce_digest`
    /// callback, which the connection answers itself.
    #[serde(default)]
    pub event: Option<EventSpec>,
    /// An entity read that authenticates the delivery and becomes the event's record.
    #[serde(default)]
    pub read_back: Option<EntityCall>,
    /// An entity write that tells Klarna the delivery was handled, when a setting is on.
    #[serde(default)]
    pub acknowledge: Option<Acknowledge>,
    /// The status answered at once; absent when the flow answers through `respond`.
    #[serde(default)]
    pub reply: Option<u16>,
    /// The forms of answer `respond` accepts (only when there is no `reply`).
    #[serde(default)]
    pub answers: Vec<AnswerForm>,
    /// Checks on an `order` answer.
    #[serde(default)]
    pub answer_checks: Vec<CheckName>,
    /// The status of an `options` or `reservation` answer (200 when absent).
    #[serde(default)]
    pub answer_status: Option<u16>,
    /// A `reservation` answer's `Location`: the `public_url` setting followed
    /// by this path, whose `{field}` comes from the reservation or else from
    /// the setting of that name.
    #[serde(default)]
    pub location: Option<String>,
}

/// How a delivery is verified.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(tag = "style", rename_all = "snake_case", deny_unknown_fields)]
pub enum Verify {
    /// Lowercase hex HMAC-SHA256 of the raw body, keyed by the signing key the key id header names.
    HmacSha256 {
        /// The header with the signature.
        signature_header: String,
        /// The header with the signing key's id.
        key_id_header: String,
        /// The secret `key_value_list` setting with `signing_key_id=signing_key` pairs.
        keys_setting: String,
    },
    /// A secret the user put in the registered URL's query.
    UrlSecret {
        /// The query parameter that carries it.
        query_param: String,
        /// The secret setting it must equal.
        setting: String,
    },
    /// Klarna Shipping Service `/auth`: the body names an identifier and
    /// carries a nonce and the SHA-256 of the nonce followed by the key (hex,
    /// any case), checked against the `shipping_key` auth kind; the reply
    /// issues a bearer token. With the `token` auth kind nothing is issued (401).
    NonceDigest {
        /// Dotted path of the identifier in the body.
        identifier_field: String,
        /// Dotted path of the nonce.
        nonce_field: String,
        /// Dotted path of the digest.
        digest_field: String,
        /// How long an issued token is valid, in seconds.
        token_lifetime_s: u32,
        /// The field of the 201 answer that carries the token.
        token_field: String,
    },
    /// `Authorization: Bearer <token>`: a token the connection's `nonce_digest`
    /// callback issued (unexpired, for the panel's identifier), or the `token`
    /// auth kind's configured token.
    BearerToken {},
}

/// What a delivery's body holds.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallbackBody {
    /// Nothing (anything sent is ignored).
    None,
    /// A JSON object.
    Json,
}

/// The event a delivery becomes. Templates hold `{source}` placeholders:
/// `query.<param>`, `path.<route parameter>`, `body.<dotted.path>` or
/// `digest` (SHA-256 of the body, hex); `{a|b}` takes the first that is present.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventSpec {
    /// The event's kind.
    pub kind: String,
    /// The event's id, stable across redeliveries.
    pub id: String,
    /// The entity of the record, for every event of the callback.
    #[serde(default)]
    pub entity: Option<String>,
    /// The entity of the record by the kind's prefix, first match wins: `[prefix, entity]`.
    #[serde(default)]
    pub entity_by_kind: Vec<(String, String)>,
    /// Where the record comes from: `body`, `body.<dotted.path>`, `read_back`,
    /// `path` (the route's parameters as an object) or `body+path` (the body,
    /// with each route parameter added under its name unless the body has it).
    pub record: String,
}

/// An entity call made while receiving; params map path parameters to sources.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EntityCall {
    /// The entity (its `get` operation for a read, `post` for a write).
    pub entity: String,
    /// Path parameter → source (`query.<param>` or `body.<path>`).
    pub params: BTreeMap<String, String>,
}

/// A write that acknowledges a delivery.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Acknowledge {
    /// The entity written to with `post`.
    pub entity: String,
    /// Path parameter → source.
    pub params: BTreeMap<String, String>,
    /// The boolean setting that turns it on.
    pub setting: String,
}

/// A form of answer to a callback.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AnswerForm {
    /// `{"approve": true}`: 200.
    Approve,
    /// `{"redirect": "https://…"}`: 303 with `Location`.
    Redirect,
    /// `{"error": {"error_type", "error_text"}}`: 400 with that body.
    Error,
    /// `{"order": {…}}`: 200 with the updated order.
    Order,
    /// `{"options": {…}}`: the Shipping Service's shipping options, passed through.
    Options,
    /// `{"reservation": {…}}`: a shipment reservation, with its `Location`.
    Reservation,
    /// `{"failure_reason": "…"}`: 400 with that body (the Shipping Service's refusal).
    #[serde(rename = "failure_reason")]
    Failure,
}
