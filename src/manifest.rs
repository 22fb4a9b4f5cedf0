//! `connector.json`: the manifest a host reads to draw the panel, and the
//! connector's only entity table. `build.rs` turns it into the statics below
//! at compile time; `describe()` returns it minified (the same JSON value).

use std::sync::OnceLock;

use crate::model::Method;

/// The minified manifest, then the few strings the statics use that it does
/// not hold verbatim, as one text, LZ4-compressed by build.rs (about a
/// quarter of its size).
const PACKED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/manifest.lz4"));

/// The unpacked text, unpacked once per instance at first use. Empty only if
/// the build's packing were broken (build.rs checks that it unpacks, the
/// tests that it holds connector.json and every static's string).
fn unpacked() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        let bytes = lz4_flex::block::decompress(PACKED, TEXT_LEN).unwrap_or_default();
        String::from_utf8(bytes).unwrap_or_default()
    })
}

/// The manifest as `describe()` returns it: connector.json without the
/// whitespace between tokens (strings and key order untouched). `None` only
/// if the build's packing were broken.
pub fn manifest_json() -> Option<String> {
    unpacked().get(..MANIFEST_LEN).map(str::to_owned)
}

/// A string of the statics (a label, help text, path, key): where it is in
/// the unpacked text. Four bytes in the component's data, where a
/// `&'static str` would take eight and its bytes besides. It reads as a
/// `str` (`Deref`), and compares by its characters.
#[derive(Clone, Copy)]
pub struct Text {
    at: u16,
    len: u16,
}

impl Text {
    /// The string at `at`, `len` bytes long (build.rs writes these).
    const fn at(at: u16, len: u16) -> Self {
        Self { at, len }
    }

    /// The string, for as long as the instance lives.
    pub fn as_str(self) -> &'static str {
        let start = usize::from(self.at);
        unpacked().get(start..start + usize::from(self.len)).unwrap_or_default()
    }

    /// The first occurrence of `string` in the text, for tests that build
    /// manifest data of their own out of the manifest's words.
    #[cfg(test)]
    pub(crate) fn of(string: &str) -> Self {
        let at = unpacked().find(string).unwrap_or_else(|| panic!("{string:?} is not in the manifest text"));
        let number = |n: usize| u16::try_from(n).expect("the text is under 64 KiB");
        Self::at(number(at), number(string.len()))
    }
}

impl std::ops::Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<Text> for &String {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
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

/// The whole manifest.
#[derive(Debug)]
pub struct Manifest {
    /// Connector id.
    pub id: Text,
    /// Display name.
    pub name: Text,
    /// Version, equal to the crate's.
    pub version: Text,
    /// The WIT package the component implements.
    pub wit: Text,
    /// One-line description.
    pub description: Text,
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
    pub id: Text,
    /// What the user sees.
    pub label: Text,
}

/// An auth kind and the fields it asks for.
#[derive(Debug)]
pub struct AuthKind {
    /// Which kind.
    pub id: AuthKindId,
    /// What the user sees.
    pub label: Text,
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
}

/// One field of the panel.
#[derive(Debug)]
pub struct Setting {
    /// Key in `settings`.
    pub key: Text,
    /// Field label.
    pub label: Text,
    /// Help text.
    pub help: Text,
    /// Value type.
    pub kind: SettingType,
    /// Whether the field must be filled.
    pub required: bool,
    /// Whether the value is write-only.
    pub secret: bool,
    /// Value used when the field is left empty.
    pub default: Option<Text>,
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
    pub label: Text,
    /// What it covers.
    pub description: Text,
    /// Host family in [`Hosts::families`].
    pub hosts: Text,
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
    pub path: Text,
    /// Query pairs sent with it.
    pub query: &'static [(Text, Text)],
    /// Statuses that mean "authenticated".
    pub accept: &'static [u16],
    /// What a success proves, for the user.
    pub checks: Text,
}

/// Host families, the OAuth 2.0 token URLs, and the allow-list of every host the connector may call.
#[derive(Debug)]
pub struct Hosts {
    /// Every host name the connector may call.
    pub allowed: &'static [Text],
    /// (environment, token URL template with `{subdomain}`).
    pub oauth_token: &'static [(Text, Text)],
    /// The API host families.
    pub families: &'static [HostFamily],
}

/// The hosts of one API family (`classic`, `global`).
#[derive(Debug)]
pub struct HostFamily {
    /// Family name, as API types refer to it.
    pub name: Text,
    /// (environment, region, host).
    pub hosts: &'static [(Text, Text, Text)],
}

impl Hosts {
    /// The allow-list as `CONNECTOR_ALLOWED_HOSTS` spells it: the host names,
    /// separated by spaces.
    pub fn allowed_list(&self) -> String {
        self.allowed.iter().map(|host| host.as_str()).collect::<Vec<_>>().join(" ")
    }

    /// The host of `family` for `environment` and `region`.
    pub fn host(&self, family: &str, environment: &str, region: &str) -> Option<&'static str> {
        let family = self.families.iter().find(|f| f.name == family)?;
        family.hosts.iter().find(|(e, r, _)| *e == environment && *r == region).map(|(_, _, h)| h.as_str())
    }

    /// The OAuth 2.0 token URL template of `environment`.
    pub fn oauth_token(&self, environment: &str) -> Option<&'static str> {
        self.oauth_token.iter().find(|(e, _)| *e == environment).map(|(_, url)| url.as_str())
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
        page_size_param: Text,
        /// The largest page the API serves; a larger request is capped to it.
        max_page_size: u32,
        /// Where the answer holds the next page's link.
        next_link: Text,
    },
    /// A cursor: the same query again, with `cursor_param` set to the value
    /// at `cursor_from` (null on the last page).
    Cursor {
        /// The page size's query parameter.
        page_size_param: Text,
        /// The largest page the API serves; a larger request is capped to it.
        max_page_size: u32,
        /// The query parameter that continues after an item.
        cursor_param: Text,
        /// Where the answer holds the last item's id.
        cursor_from: Text,
    },
}

/// One operation of an entity.
#[derive(Debug)]
pub struct OperationSpec {
    /// The method.
    pub method: Method,
    /// Path template, exactly as Klarna's API reference writes it.
    pub path: Text,
}

/// An entity: one Klarna path template and its operations.
#[derive(Debug)]
pub struct EntitySpec {
    /// Stable id hosts refer to (`order-captures`).
    pub name: Text,
    /// Short label for the user.
    pub label: Text,
    /// What it is and when to use it.
    pub description: Text,
    /// The API type it belongs to.
    pub api_type: ApiTypeId,
    /// At most one per method.
    pub operations: &'static [OperationSpec],
    /// Where a read's records are: `None` = the body is one record, `*` = the
    /// body is an array of records, otherwise the key of an array in the body.
    pub records: Option<Text>,
    /// How the `get` operation pages.
    pub pagination: Pagination,
    /// Fields that identify a record.
    pub primary_key: &'static [Text],
    /// Where a create's id comes from, in order: `header:<Name>`, `location`,
    /// `body:<field>` (`body:a.b.c` for a nested field). When empty:
    /// `location`, then the primary key in the body.
    pub created_id: &'static [Text],
    /// Checks a write's payload gets before it is sent.
    pub checks: &'static [Check],
    /// Whether a read answers a file (CSV, PDF) rather than JSON: it becomes one
    /// record `{content_type, filename, content_base64}`.
    pub file_response: bool,
    /// Request headers the host passes as `params.query` pairs of the same
    /// name (e.g. Merchant Card Service's `KeyId`); they are sent as headers.
    pub header_params: &'static [Text],
    /// Whether a write uploads a file as `multipart/form-data` rather than
    /// sending its payload as JSON.
    pub upload: Option<UploadSpec>,
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
    pub kind: Text,
    /// Short label.
    pub label: Text,
    /// What Klarna sends and when.
    pub description: Text,
    /// The API type of the connection that receives it.
    pub api_type: ApiTypeId,
    /// The method Klarna uses.
    pub method: Method,
    /// The path under the host's mount point.
    pub route: Text,
    /// What the user registers at Klarna after the mount point.
    pub register_url: Text,
    /// Where it is registered at Klarna.
    pub register_at: Text,
    /// How a delivery is verified.
    pub verify: Verify,
    /// Whether the body is a JSON object.
    pub json_body: bool,
    /// Body fields a delivery must carry (dotted paths).
    pub required: &'static [Text],
    /// The media type of bodies both ways (checked on deliveries, sent on replies).
    pub media_type: Option<Text>,
    /// The event a delivery becomes; `None` for a `nonce_digest` callback.
    pub event: Option<EventSpec>,
    /// The read that authenticates the delivery and becomes the record.
    pub read_back: Option<EntityCall>,
    /// The write that acknowledges the delivery, and the boolean setting that turns it on.
    pub acknowledge: Option<(EntityCall, Text)>,
    /// The status answered at once; `None` when the flow answers through `respond`.
    pub reply: Option<u16>,
    /// The forms of answer `respond` accepts.
    pub answers: &'static [AnswerForm],
    /// Checks on an `order` answer.
    pub answer_checks: &'static [Check],
    /// The status of an `options` or `reservation` answer (200 when `None`).
    pub answer_status: Option<u16>,
    /// A reservation's `Location` path after the `public_url` setting.
    pub location: Option<Text>,
}

/// How a delivery is verified.
#[derive(Debug)]
pub enum Verify {
    /// Lowercase hex HMAC-SHA256 of the raw body with the key the key id header names.
    HmacSha256 {
        /// The header with the signature.
        signature_header: Text,
        /// The header with the signing key's id.
        key_id_header: Text,
        /// The secret setting with `signing_key_id=signing_key` pairs.
        keys_setting: Text,
    },
    /// A secret in the registered URL's query.
    UrlSecret {
        /// The query parameter.
        query_param: Text,
        /// The secret setting it must equal.
        setting: Text,
    },
    /// Klarna Shipping Service `/auth`: SHA-256(nonce ‖ key) for the panel's
    /// identifier, answered with a bearer token ([`crate::push::token`]).
    NonceDigest {
        /// Dotted path of the identifier in the body.
        identifier_field: Text,
        /// Dotted path of the nonce.
        nonce_field: Text,
        /// Dotted path of the digest.
        digest_field: Text,
        /// How long an issued token is valid, in seconds.
        token_lifetime_s: u32,
        /// The field of the 201 answer that carries the token.
        token_field: Text,
    },
    /// `Authorization: Bearer`: an issued token or the configured one.
    BearerToken,
}

/// The event a delivery becomes; `kind` and `id` are templates
/// ([`crate::push::template`]).
#[derive(Debug)]
pub struct EventSpec {
    /// The kind template.
    pub kind: Text,
    /// The id template.
    pub id: Text,
    /// The entity of every record, if fixed.
    pub entity: Option<Text>,
    /// The entity by the kind's prefix, first match wins.
    pub entity_by_kind: &'static [(Text, Text)],
    /// `body`, `body.<path>`, `read_back`, `path` or `body+path`.
    pub record: Text,
}

/// An entity call made while receiving.
#[derive(Debug)]
pub struct EntityCall {
    /// The entity.
    pub entity: Text,
    /// Path parameter → source.
    pub params: &'static [(Text, Text)],
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
    pub part: Text,
    /// The largest file Klarna accepts, in bytes (decoded).
    pub max_bytes: u64,
    /// Accepted content types, each with its file name extensions.
    pub types: &'static [(Text, &'static [Text])],
}

impl EntitySpec {
    /// The operation with `method`, if the entity has one.
    pub fn operation(&self, method: &Method) -> Option<&'static OperationSpec> {
        self.operations.iter().find(|op| op.method == *method)
    }

    /// Whether `subscribe` pages through results.
    pub fn paginated(&self) -> bool {
        self.pagination != Pagination::None
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
        let parse = |text: &str| crate::json::from_str(text).expect("JSON");
        assert_eq!(parse(&text), parse(include_str!("../connector.json")));
        assert!(!text.contains("\n  "), "minified");
        assert_eq!(unpacked().len(), TEXT_LEN);
    }

    /// The statics' strings are where build.rs said: each reads as the
    /// value connector.json has at that place.
    #[test]
    fn the_statics_read_their_strings_from_the_unpacked_text() {
        let json = crate::json::from_str(include_str!("../connector.json")).expect("JSON");
        let at = |pointer: &str| json.pointer(pointer).and_then(|v| v.as_str()).unwrap_or("(absent)").to_string();
        let m = Manifest::get();
        assert_eq!(m.description, at("/description"));
        for (i, e) in m.entities.iter().enumerate() {
            for field in ["name", "label", "description"] {
                let value = match field {
                    "name" => e.name,
                    "label" => e.label,
                    _ => e.description,
                };
                assert_eq!(value, at(&format!("/entities/{i}/{field}")).as_str(), "entity {i} {field}");
            }
        }
        for (i, c) in m.callbacks.iter().enumerate() {
            assert_eq!(c.kind, at(&format!("/callbacks/{i}/kind")).as_str());
            assert_eq!(c.description, at(&format!("/callbacks/{i}/description")).as_str());
        }
        for (i, s) in m.panel.common_settings.iter().enumerate() {
            assert_eq!(s.help, at(&format!("/panel/common_settings/{i}/help")).as_str());
        }
    }

    #[test]
    fn manifest_parses_and_is_consistent() {
        let m = Manifest::get();
        assert_eq!(m.version, env!("CARGO_PKG_VERSION"), "manifest version = crate version");
        assert_eq!(m.wit, "ipaas:connector@0.2.0");
        let ids: Vec<_> = m.panel.api_types.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["purchase", "post-purchase", "settlements", "disputes", "shipping-assistant", "network"]);
        let mut names = BTreeSet::new();
        for e in m.entities {
            assert!(names.insert(e.name), "duplicate entity {}", e.name);
            let methods: BTreeSet<_> = e.operations.iter().map(|o| format!("{:?}", o.method)).collect();
            assert_eq!(methods.len(), e.operations.len(), "{}: two operations with one method", e.name);
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
                        m.hosts.host(&t.hosts, &env.id, &region.id).expect("a host for every environment and region");
                    assert!(m.hosts.allowed.iter().any(|h| *h == host), "{host} not in allow-list");
                }
            }
        }
    }
}
