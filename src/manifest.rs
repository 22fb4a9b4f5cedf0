//! `connector.json`: the manifest a host reads to draw the panel, and the
//! connector's only entity table. `build.rs` turns it into the statics below
//! at compile time, so no JSON is parsed when an instance starts;
//! `describe()` returns it minified (the same JSON value).

use std::sync::OnceLock;

use crate::model::Method;

/// connector.json minified by build.rs (serde_json, keys in the file's
/// order), LZ4-packed: `describe()` alone reads it, and unpacks it then.
const PACKED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/manifest.lz4"));

/// Every string of the statics, each once; the statics are slices of it.
const TEXT: &str = include_str!(concat!(env!("OUT_DIR"), "/strings.text"));

/// The manifest as `describe()` returns it: connector.json without the
/// whitespace between tokens, the same JSON value with its keys in the
/// file's order. Unpacked once per instance, at the first call; `None` only
/// if the build's packing were broken (build.rs checks that it unpacks).
pub fn manifest_json() -> Option<&'static str> {
    static JSON: OnceLock<Option<String>> = OnceLock::new();
    JSON.get_or_init(|| {
        let bytes = lz4_flex::block::decompress(PACKED, MANIFEST_LEN).ok()?;
        String::from_utf8(bytes).ok()
    })
    .as_deref()
}

/// An entity's label and description, as `entities()` hands them to a host:
/// read from `describe()`'s text, parsed once per instance at the first call
/// (the component carries them once, packed, instead of a second time as
/// statics). Empty only if the build's packing were broken.
pub fn entity_texts(name: &str) -> (&'static str, &'static str) {
    static TEXTS: OnceLock<Vec<(String, String, String)>> = OnceLock::new();
    let texts = TEXTS.get_or_init(|| {
        let Some(value) = manifest_json().and_then(|text| crate::response::read_json(text.as_bytes()).ok()) else {
            return Vec::new();
        };
        let text = |entity: &serde_json::Value, key: &str| {
            entity.get(key).and_then(|v| v.as_str()).unwrap_or_default().to_string()
        };
        let entities = value.get("entities").and_then(|e| e.as_array()).map(Vec::as_slice).unwrap_or_default();
        entities.iter().map(|e| (text(e, "name"), text(e, "label"), text(e, "description"))).collect()
    });
    texts.iter().find(|(n, _, _)| n == name).map_or(("", ""), |(_, label, description)| (label, description))
}

/// The `len` bytes of [`TEXT`] at `at`, at compile time (build.rs writes the
/// offsets; a wrong one fails the build, not an instance).
const fn text(at: usize, len: usize) -> &'static str {
    let (_, rest) = TEXT.as_bytes().split_at(at);
    let (bytes, _) = rest.split_at(len);
    match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(_) => panic!("build.rs cut the manifest text inside a character"),
    }
}

include!(concat!(env!("OUT_DIR"), "/manifest.rs"));

impl std::fmt::Display for AuthKindId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for ApiTypeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The manifest as the component uses it: what it routes, checks and
/// answers by. Labels, help texts and descriptions a host draws the panel
/// with stay in the JSON text (`describe()`), except the API types' labels,
/// which messages carry; `entities()` reads the entities' from the text
/// ([`entity_texts`]).
#[derive(Debug)]
pub struct Manifest {
    /// Version, equal to the crate's.
    pub version: &'static str,
    /// The WIT package the component implements.
    pub wit: &'static str,
    /// The connection panel.
    pub panel: Panel,
    /// Where requests may go.
    pub hosts: Hosts,
    /// Every entity.
    pub entities: &'static [EntitySpec],
    /// Every kind of delivery Klarna pushes (webhooks and merchant callbacks).
    pub callbacks: &'static [CallbackSpec],
}

/// The connection panel.
#[derive(Debug)]
pub struct Panel {
    /// Environments (`playground`, `production`).
    pub environments: &'static [Choice],
    /// Regions (`eu`, `na`, `oc`).
    pub regions: &'static [Choice],
    /// Auth kinds and their fields (the `wit` templates stay in the JSON, for hosts).
    pub auth_kinds: &'static [AuthKind],
    /// Settings every API type has.
    pub common_settings: &'static [Setting],
    /// API types.
    pub api_types: &'static [ApiType],
}

/// One choice of a select field.
#[derive(Debug)]
pub struct Choice {
    /// Value sent in the config.
    pub id: &'static str,
}

/// An auth kind and the fields it asks for.
#[derive(Debug)]
pub struct AuthKind {
    /// Which kind.
    pub id: AuthKindId,
    /// Its fields.
    pub fields: &'static [Setting],
}

/// Value type of a setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
    /// An absolute `https://` URL without user info or a query ([`crate::link::https_setting`]).
    HttpsUrl,
}

/// One field of the panel.
#[derive(Debug)]
pub struct Setting {
    /// Key in `settings`.
    pub key: &'static str,
    /// Value type.
    pub kind: SettingType,
    /// Whether the field must be filled.
    pub required: bool,
    /// Whether the value is write-only.
    pub secret: bool,
    /// Value used when the field is left empty.
    pub default: Option<&'static str>,
    /// Smallest allowed value of an integer setting.
    pub min: Option<u64>,
    /// Largest allowed value of an integer setting.
    pub max: Option<u64>,
    /// When to show (and accept) the field.
    pub show_when: Option<ShowWhen>,
}

/// The condition under which a setting is shown.
#[derive(Debug)]
pub struct ShowWhen {
    /// The auth kinds that show it.
    pub auth: &'static [AuthKindId],
}

/// An API type (Celigo's "API type"): its hosts, auth kinds, settings and test probe.
#[derive(Debug)]
pub struct ApiType {
    /// Which API type.
    pub id: ApiTypeId,
    /// What the user sees.
    pub label: &'static str,
    /// Host family in [`Hosts::families`].
    pub hosts: &'static str,
    /// Allowed auth kinds.
    pub auth: &'static [AuthKindId],
    /// Its own settings.
    pub settings: &'static [Setting],
    /// The cheapest authenticated read, used by `test()`; `None` when the
    /// API type calls nothing at Klarna.
    pub test: Option<Probe>,
}

/// A request that proves the credentials work.
#[derive(Debug)]
pub struct Probe {
    /// The method.
    pub method: Method,
    /// Path (no placeholders).
    pub path: &'static str,
    /// Query pairs sent with it.
    pub query: &'static [(&'static str, &'static str)],
    /// Statuses that mean "authenticated".
    pub accept: &'static [u16],
    /// What a success proves, for the user.
    pub checks: &'static str,
}

/// Host families, the OAuth 2.0 token URLs, and the allow-list of every host the connector may call.
#[derive(Debug)]
pub struct Hosts {
    /// Every host name the connector may call.
    pub allowed: &'static [&'static str],
    /// (environment, token URL template with `{subdomain}`).
    pub oauth_token: &'static [(&'static str, &'static str)],
    /// The API host families.
    pub families: &'static [HostFamily],
}

/// The hosts of one API family (`classic`, `global`).
#[derive(Debug)]
pub struct HostFamily {
    /// Family name, as API types refer to it.
    pub name: &'static str,
    /// (environment, region, host).
    pub hosts: &'static [(&'static str, &'static str, &'static str)],
}

impl Hosts {
    /// The allow-list as `CONNECTOR_ALLOWED_HOSTS` spells it: the host names,
    /// separated by spaces.
    pub fn allowed_list(&self) -> String {
        self.allowed.join(" ")
    }

    /// The host of `family` for `environment` and `region`.
    pub fn host(&self, family: &str, environment: &str, region: &str) -> Option<&'static str> {
        let family = self.families.iter().find(|f| f.name == family)?;
        family.hosts.iter().find(|(e, r, _)| *e == environment && *r == region).map(|(_, _, h)| *h)
    }

    /// The OAuth 2.0 token URL template of `environment`.
    pub fn oauth_token(&self, environment: &str) -> Option<&'static str> {
        self.oauth_token.iter().find(|(e, _)| *e == environment).map(|(_, url)| *url)
    }
}

/// How a list is paged (connector.json's `pagination`): the parameters to
/// send, and where the answer says what comes next (dotted paths such as
/// `pagination.next`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pagination {
    /// One answer is everything.
    None,
    /// An offset and a page size; the next page is the query of the answer's
    /// link at `next_link` (absent or empty on the last page).
    Offset {
        /// The page size's query parameter.
        page_size_param: &'static str,
        /// The largest page the API serves; a larger request is capped to it.
        max_page_size: u32,
        /// Where the answer holds the next page's link.
        next_link: &'static str,
    },
    /// A cursor: the same query again, with `cursor_param` set to the value
    /// at `cursor_from` (null on the last page).
    Cursor {
        /// The page size's query parameter.
        page_size_param: &'static str,
        /// The largest page the API serves; a larger request is capped to it.
        max_page_size: u32,
        /// The query parameter that continues after an item.
        cursor_param: &'static str,
        /// Where the answer holds the last item's id.
        cursor_from: &'static str,
    },
}

/// One operation of an entity.
#[derive(Debug)]
pub struct OperationSpec {
    /// The method.
    pub method: Method,
    /// Path template, exactly as Klarna's API reference writes it.
    pub path: &'static str,
    /// How a resend behaves (`natural` for reads).
    pub retry: RetrySafety,
    /// For `none`: how to find out whether a write with an unknown outcome happened.
    pub check: Option<&'static str>,
}

/// How an operation behaves when sent twice (connector.json's `retry`, the WIT `retry-safety`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetrySafety {
    /// Klarna honours `Klarna-Idempotency-Key` for it.
    Key,
    /// Idempotent by itself.
    Natural,
    /// A resend may act twice.
    None,
}

/// Reading only what changed since the last read (connector.json's `incremental`).
#[derive(Debug)]
pub struct IncrementalSpec {
    /// The record field it goes by.
    pub field: &'static str,
    /// The query parameter of the window's start.
    pub from: &'static str,
    /// The query parameter of its end, where Klarna has one.
    pub to: Option<&'static str>,
    /// The format of the parameters and the field.
    pub format: DateFormat,
    /// The order Klarna returns records in.
    pub order: RecordOrder,
    /// Days re-read before the end of the last read, unless the connection's
    /// `lookback_days` setting says otherwise.
    pub lookback_days: u32,
}

/// The format of a date parameter or field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateFormat {
    /// `2026-01-15`.
    Date,
    /// RFC 3339.
    DateTime,
}

/// The order records come in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordOrder {
    /// Oldest first.
    Ascending,
    /// Newest first.
    Descending,
    /// Klarna does not say.
    Unspecified,
}

/// The entity a child entity is read per record of.
#[derive(Debug)]
pub struct ParentSpec {
    /// The parent entity.
    pub entity: &'static str,
    /// The parent record's field that names a child set.
    pub field: &'static str,
    /// The child read's query parameter it is sent as.
    pub param: &'static str,
}

/// An entity: one Klarna path template and its operations.
#[derive(Debug)]
pub struct EntitySpec {
    /// Stable id hosts refer to (`order-captures`).
    pub name: &'static str,
    /// The API type it belongs to.
    pub api_type: ApiTypeId,
    /// At most one per method.
    pub operations: &'static [OperationSpec],
    /// Where a read's records are: `None` = the body is one record, `*` = the
    /// body is an array of records, otherwise the key of an array in the body.
    pub records: Option<&'static str>,
    /// How the `get` operation pages.
    pub pagination: Pagination,
    /// Fields that identify a record.
    pub primary_key: &'static [&'static str],
    /// Where a create's id comes from, in order: `header:<Name>`, `location`,
    /// `body:<field>` (`body:a.b.c` for a nested field). When empty:
    /// `location`, then the primary key in the body.
    pub created_id: &'static [&'static str],
    /// Checks a write's payload gets before it is sent.
    pub checks: &'static [Check],
    /// Whether a read answers a file (CSV, PDF) rather than JSON: it becomes one
    /// record `{content_type, filename, content_base64}`.
    pub file_response: bool,
    /// Request headers the host passes as `params.query` pairs of the same
    /// name (e.g. Merchant Card Service's `KeyId`); they are sent as headers.
    pub header_params: &'static [&'static str],
    /// Whether a write uploads a file as `multipart/form-data` rather than
    /// sending its payload as JSON.
    pub upload: Option<&'static UploadSpec>,
    /// Whether a read can ask only for what changed since the last one.
    pub incremental: Option<&'static IncrementalSpec>,
    /// The entity this one is read per record of.
    pub parent: Option<&'static ParentSpec>,
}

/// A check of a write's payload before it is sent (`checks` in connector.json).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// `order`: Klarna's order-data rules ([`crate::order_data`]).
    Order,
    /// `payment_request`: a Klarna Network payment request ([`crate::payment_request::check`]).
    PaymentRequest,
    /// `payment_authorization`: a Klarna Network authorization ([`crate::payment_request::check_authorization`]).
    PaymentAuthorization,
    /// `shipping_options`: the shipping options and merchant data of a
    /// Checkout callback's answer ([`crate::push::answer`]).
    ShippingOptions,
}

/// One kind of delivery Klarna pushes (`callbacks` in connector.json).
#[derive(Debug)]
pub struct CallbackSpec {
    /// The callback's name (`checkout.push`).
    pub kind: &'static str,
    /// The API type of the connection that receives it.
    pub api_type: ApiTypeId,
    /// The method Klarna uses.
    pub method: Method,
    /// The path under the host's mount point.
    pub route: &'static str,
    /// How a delivery is verified.
    pub verify: Verify,
    /// Whether the body is a JSON object.
    pub json_body: bool,
    /// Body fields a delivery must carry (dotted paths).
    pub required: &'static [&'static str],
    /// The media type of bodies both ways (checked on deliveries, sent on replies).
    pub media_type: Option<&'static str>,
    /// The event a delivery becomes; `None` for a `nonce_digest` callback.
    pub event: Option<EventSpec>,
    /// The read that authenticates the delivery and becomes the record.
    pub read_back: Option<EntityCall>,
    /// The write that acknowledges the delivery, and the boolean setting that turns it on.
    pub acknowledge: Option<(EntityCall, &'static str)>,
    /// The status answered at once; `None` when the flow answers through `respond`.
    pub reply: Option<u16>,
    /// The forms of answer `respond` accepts.
    pub answers: &'static [AnswerForm],
    /// Checks on an `order` answer.
    pub answer_checks: &'static [Check],
    /// The status of an `options` or `reservation` answer (200 when `None`).
    pub answer_status: Option<u16>,
    /// A reservation's `Location` path after the `public_url` setting.
    pub location: Option<&'static str>,
}

/// How a delivery is verified.
#[derive(Debug)]
pub enum Verify {
    /// Lowercase hex HMAC-SHA256 of the raw body with the key the key id header names.
    HmacSha256 {
        /// The header with the signature.
        signature_header: &'static str,
        /// The header with the signing key's id.
        key_id_header: &'static str,
        /// The secret setting with `signing_key_id=signing_key` pairs.
        keys_setting: &'static str,
    },
    /// A secret in the registered URL's query.
    UrlSecret {
        /// The query parameter.
        query_param: &'static str,
        /// The secret setting it must equal.
        setting: &'static str,
    },
    /// Klarna Shipping Service `/auth`: SHA-256(nonce ‖ key) for the panel's
    /// identifier, answered with a bearer token ([`crate::push::token`]).
    NonceDigest {
        /// Dotted path of the identifier in the body.
        identifier_field: &'static str,
        /// Dotted path of the nonce.
        nonce_field: &'static str,
        /// Dotted path of the digest.
        digest_field: &'static str,
        /// How long an issued token is valid, in seconds.
        token_lifetime_s: u32,
        /// The field of the 201 answer that carries the token.
        token_field: &'static str,
    },
    /// `Authorization: Bearer`: an issued token or the configured one.
    BearerToken,
}

/// The event a delivery becomes; `kind` and `id` are templates
/// ([`crate::push::template`]).
#[derive(Debug)]
pub struct EventSpec {
    /// The kind template.
    pub kind: &'static str,
    /// The id template.
    pub id: &'static str,
    /// The entity of every record, if fixed.
    pub entity: Option<&'static str>,
    /// The entity by the kind's prefix, first match wins.
    pub entity_by_kind: &'static [(&'static str, &'static str)],
    /// `body`, `body.<path>`, `read_back`, `path` or `body+path`.
    pub record: &'static str,
}

/// An entity call made while receiving.
#[derive(Debug)]
pub struct EntityCall {
    /// The entity.
    pub entity: &'static str,
    /// Path parameter → source.
    pub params: &'static [(&'static str, &'static str)],
}

/// A form of answer to a callback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnswerForm {
    /// `{"approve": true}`.
    Approve,
    /// `{"redirect": "https://…"}`.
    Redirect,
    /// `{"error": {"error_type", "error_text"}}`.
    Error,
    /// `{"order": {…}}`.
    Order,
    /// `{"options": {…}}`: shipping options, passed through.
    Options,
    /// `{"reservation": {…}}`: a shipment reservation, with its `Location`.
    Reservation,
    /// `{"failure_reason": "…"}`: the Shipping Service's refusal.
    Failure,
}

impl AnswerForm {
    /// The answer's key, as connector.json spells the form.
    pub const fn key(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Redirect => "redirect",
            Self::Error => "error",
            Self::Order => "order",
            Self::Options => "options",
            Self::Reservation => "reservation",
            Self::Failure => "failure_reason",
        }
    }
}

/// A file upload: the payload is a file record `{content_type, filename,
/// content_base64}` (the shape file reads return), sent as one
/// `multipart/form-data` part.
#[derive(Debug)]
pub struct UploadSpec {
    /// The form field that carries the file.
    pub part: &'static str,
    /// The largest file Klarna accepts, in bytes (decoded).
    pub max_bytes: u64,
    /// Accepted content types, each with its file name extensions.
    pub types: &'static [(&'static str, &'static [&'static str])],
}

impl EntitySpec {
    /// The operation with `method`, if the entity has one.
    pub fn operation(&self, method: &Method) -> Option<&'static OperationSpec> {
        self.operations.iter().find(|op| op.method == *method)
    }

    /// Whether `subscribe` pages through results.
    pub fn paginated(&self) -> bool {
        self.pagination != Pagination::None || self.parent.is_some()
    }

    /// The record field an incremental read goes by: the entity's own, or
    /// its parent's for a child entity.
    pub fn incremental_field(&self) -> Option<&'static str> {
        match (self.incremental, self.parent) {
            (Some(incremental), _) => Some(incremental.field),
            (None, Some(parent)) => Manifest::get().entity(parent.entity)?.incremental.map(|i| i.field),
            (None, None) => None,
        }
    }
}

impl Manifest {
    /// The manifest.
    pub fn get() -> &'static Manifest {
        &MANIFEST
    }

    /// The API type with `id`.
    pub fn api_type(&self, id: &str) -> Option<&'static ApiType> {
        MANIFEST.panel.api_types.iter().find(|t| t.id.as_str() == id)
    }

    /// The entity with `name`.
    pub fn entity(&self, name: &str) -> Option<&'static EntitySpec> {
        MANIFEST.entities.iter().find(|e| e.name == name)
    }

    /// The callbacks a connection of `api_type` receives.
    pub fn callbacks(&self, api_type: ApiTypeId) -> impl Iterator<Item = &'static CallbackSpec> {
        MANIFEST.callbacks.iter().filter(move |c| c.api_type == api_type)
    }

    /// The auth kind with `id`.
    pub fn auth_kind(&self, id: &str) -> Option<&'static AuthKind> {
        MANIFEST.panel.auth_kinds.iter().find(|k| k.id.as_str() == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn the_packed_text_unpacks_to_connector_json_minified() {
        let text = manifest_json().expect("the packed manifest unpacks");
        let parse = |text: &str| serde_json::from_str::<serde_json::Value>(text).expect("JSON");
        assert_eq!(parse(text), parse(include_str!("../connector.json")));
        assert!(!text.contains("\n  "), "minified");
    }

    /// The statics hold the strings connector.json has at their place.
    #[test]
    fn the_statics_hold_connector_json_strings() {
        let json = parse_connector_json();
        let at = |pointer: &str| json.pointer(pointer).and_then(|v| v.as_str()).unwrap_or("(absent)").to_string();
        let m = Manifest::get();
        for (i, e) in m.entities.iter().enumerate() {
            assert_eq!(e.name, at(&format!("/entities/{i}/name")), "entity {i} name");
            let (label, description) = entity_texts(e.name);
            assert_eq!(label, at(&format!("/entities/{i}/label")), "entity {i} label");
            assert_eq!(description, at(&format!("/entities/{i}/description")), "entity {i} description");
        }
        for (i, c) in m.callbacks.iter().enumerate() {
            assert_eq!(c.kind, at(&format!("/callbacks/{i}/kind")));
            assert_eq!(c.route, at(&format!("/callbacks/{i}/route")));
        }
        for (i, s) in m.panel.common_settings.iter().enumerate() {
            assert_eq!(s.key, at(&format!("/panel/common_settings/{i}/key")));
        }
    }

    fn parse_connector_json() -> serde_json::Value {
        serde_json::from_str(include_str!("../connector.json")).expect("JSON")
    }

    #[test]
    fn manifest_parses_and_is_consistent() {
        let m = Manifest::get();
        assert_eq!(m.version, env!("CARGO_PKG_VERSION"), "manifest version = crate version");
        assert_eq!(m.wit, "ipaas:connector@0.3.0");
        let ids: Vec<_> = m.panel.api_types.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["purchase", "post-purchase", "settlements", "disputes", "shipping-assistant", "network"]);
        let mut names = BTreeSet::new();
        for e in m.entities {
            assert!(names.insert(e.name), "duplicate entity {}", e.name);
            let methods: BTreeSet<_> = e.operations.iter().map(|o| format!("{:?}", o.method)).collect();
            assert_eq!(methods.len(), e.operations.len(), "{}: two operations with one method", e.name);
            for op in e.operations {
                let write = op.method != Method::Get;
                assert_eq!(
                    op.check.is_some(),
                    op.retry == RetrySafety::None,
                    "{}: a check for none writes only",
                    e.name
                );
                assert!(write || op.retry == RetrySafety::Natural, "{}: reads are natural", e.name);
            }
            let paths: BTreeSet<_> = e.operations.iter().map(|o| o.path).collect();
            assert_eq!(paths.len(), 1, "{}: one path template per entity", e.name);
            assert!(!e.primary_key.is_empty(), "{}: primary key", e.name);
            if e.paginated() {
                assert!(e.records.is_some(), "{}: paginated needs records", e.name);
            }
        }
        for t in m.panel.api_types {
            // Auth kinds and API types are enums whose every reference build.rs checked.
            assert!(!t.auth.is_empty(), "{}: no auth kind", t.id);
            for env in m.panel.environments {
                for region in m.panel.regions {
                    let host =
                        m.hosts.host(t.hosts, env.id, region.id).expect("a host for every environment and region");
                    assert!(m.hosts.allowed.contains(&host), "{host} not in allow-list");
                }
            }
        }
    }
}
