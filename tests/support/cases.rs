//! Valid connections and requests, built from connector.json, and the one
//! dimension a case varies. A case starts valid, so that it gets as deep as
//! the dimension it varies lets it; each variation knows which field a
//! refusal must name.

use base64::Engine as _;
use klarna_connector::manifest::{ApiType, ApiTypeId, AuthKindId, Check, EntitySpec, Manifest, OperationSpec};
use klarna_connector::model::{Auth, ConnectionConfig, Method, Params, PublishRequest, SubscribeRequest};
use klarna_connector::path;
use klarna_connector::secret::Secret;
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{json, Value};

use super::SECRET;

/// Text with the characters that break paths, queries, headers and JSON.
pub fn tricky_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => "[a-zA-Z0-9_-]{1,6}",
        1 => prop::sample::select(vec![
            "/", "\\", "..", "?", "#", "%", "%2F", "&", "=", "+", " ", "\n", "\r", "\t", "\0", "\u{7f}", "é", "💳",
            "{", "}", "\"", ":", "https://evil.example/", "klarna_test_api_",
        ])
        .prop_map(str::to_string),
    ];
    prop::collection::vec(piece, 0..6).prop_map(|pieces| pieces.concat())
}

/// What a connection case changes in an otherwise valid panel.
#[derive(Clone, Debug)]
pub enum ConfigChange {
    /// Nothing: the panel is valid.
    None,
    /// The API type.
    ApiType(String),
    /// The environment.
    Environment(String),
    /// The region.
    Region(String),
    /// The username of a Basic pair, or the OAuth client id.
    Username(String),
    /// The secret (password, API key, client secret or token), kept recognisable.
    Secret(String),
    /// The value of one common setting.
    Setting(Index, String),
    /// A setting the panel does not have.
    UnknownSetting(String),
}

/// A connection: an API type, one of its auth kinds, a region and one change.
#[derive(Clone, Debug)]
pub struct ConnectionCase {
    /// Only API types that have entities (for request cases).
    with_entities: bool,
    api_type: Index,
    auth: Index,
    region: Index,
    change: ConfigChange,
}

impl ConnectionCase {
    /// The panel as the host would send it, and the field a refusal must name.
    pub fn config(&self) -> (ConnectionConfig, Option<String>) {
        let manifest = Manifest::get();
        let api_type = self.api_type();
        let kind = *self.auth.get(api_type.auth);
        let mut config = ConnectionConfig {
            api_type: api_type.id.to_string(),
            environment: "playground".into(),
            region: self.region.get(manifest.panel.regions).id.to_string(),
            auth: auth(kind, SECRET),
            // Required settings are strings (the shipping assistant's public URL): one valid value fits them all.
            settings: api_type
                .settings
                .iter()
                .filter(|s| s.required)
                .map(|s| (s.key.to_string(), "https://hooks.example/klarna".to_string()))
                .collect(),
        };
        let field = match &self.change {
            ConfigChange::None => return (config, None),
            ConfigChange::ApiType(id) => {
                config.api_type = format!("x{id}");
                "api-type".to_string()
            }
            ConfigChange::Environment(environment) => {
                config.environment = environment.clone();
                "environment".to_string()
            }
            ConfigChange::Region(region) => {
                config.region = region.clone();
                "region".to_string()
            }
            ConfigChange::Username(name) => {
                match &mut config.auth {
                    Auth::Basic { username, .. } if matches!(kind, AuthKindId::Basic | AuthKindId::ShippingKey) => {
                        *username = name.clone()
                    }
                    Auth::OAuth2 { client_id, .. } => *client_id = name.clone(),
                    _ => return (config, None),
                }
                "auth".to_string()
            }
            ConfigChange::Secret(text) => {
                config.auth = auth(kind, &format!("{text}{SECRET}{text}"));
                "auth".to_string()
            }
            ConfigChange::Setting(which, value) => {
                let setting = which.get(manifest.panel.common_settings);
                config.settings.push((setting.key.to_string(), value.clone()));
                format!("settings.{}", setting.key)
            }
            ConfigChange::UnknownSetting(key) => {
                config.settings.push((format!("x{key}"), "1".into()));
                "settings.".to_string()
            }
        };
        (config, Some(field))
    }

    /// The API type the case opens.
    pub fn api_type(&self) -> &'static ApiType {
        let manifest = Manifest::get();
        let types: Vec<&'static ApiType> = manifest
            .panel
            .api_types
            .iter()
            .filter(|t| !self.with_entities || manifest.entities.iter().any(|e| e.api_type == t.id))
            .collect();
        types[self.api_type.index(types.len())]
    }
}

/// Credentials of auth `kind` holding `secret`.
fn auth(kind: AuthKindId, secret: &str) -> Auth {
    match kind {
        AuthKindId::ApiKey => {
            Auth::Basic { username: String::new(), password: Secret::new(format!("klarna_test_api_{secret}")) }
        }
        AuthKindId::Basic => Auth::Basic { username: "PK1_fuzz".into(), password: Secret::new(secret) },
        AuthKindId::Oauth2 => {
            Auth::OAuth2 { client_id: "client-1".into(), client_secret: Secret::new(secret), scopes: vec![] }
        }
        AuthKindId::Token => Auth::Token(Secret::new(secret)),
        AuthKindId::ShippingKey => Auth::Basic { username: "tms-fuzz".into(), password: Secret::new(secret) },
    }
}

/// Connections that start valid, most of them left so.
pub fn connection_case() -> impl Strategy<Value = ConnectionCase> {
    let change = prop_oneof![
        6 => Just(ConfigChange::None),
        1 => "[a-z-]{0,12}".prop_map(ConfigChange::ApiType),
        1 => prop_oneof![Just("production".to_string()), tricky_text()].prop_map(ConfigChange::Environment),
        1 => prop_oneof![Just("na".to_string()), tricky_text()].prop_map(ConfigChange::Region),
        1 => tricky_text().prop_map(ConfigChange::Username),
        1 => tricky_text().prop_map(ConfigChange::Secret),
        1 => (any::<Index>(), prop_oneof![(0u64..200_000).prop_map(|n| n.to_string()), tricky_text()])
            .prop_map(|(i, v)| ConfigChange::Setting(i, v)),
        1 => "[a-z_]{1,10}".prop_map(ConfigChange::UnknownSetting),
    ];
    (any::<Index>(), any::<Index>(), any::<Index>(), change).prop_map(|(api_type, auth, region, change)| {
        ConnectionCase { with_entities: false, api_type, auth, region, change }
    })
}

/// One order line: quantity, unit price, discount in percent, tax rate index.
type Line = (i64, i64, i64, Index);

/// What a request case changes in an otherwise valid request.
#[derive(Clone, Debug)]
pub enum RequestChange {
    /// Nothing: the request is valid.
    None,
    /// An entity name that does not exist.
    Entity(String),
    /// A method the entity does not offer.
    Method(Index),
    /// The value of one path parameter.
    PathValue(Index, String),
    /// A path parameter the template does not have.
    ExtraPath(String),
    /// One more query pair.
    Query(String, String),
    /// The value of one header parameter.
    HeaderValue(Index, String),
    /// The payload's content.
    Payload(PayloadChange),
    /// A cursor.
    Cursor(String),
    /// A `since` that is no state of this read.
    Since(String),
    /// A page size (0 is refused; large ones are capped).
    PageSize(u32),
    /// The host's idempotency key.
    IdempotencyKey(String),
}

/// What a payload change does.
#[derive(Clone, Debug)]
pub enum PayloadChange {
    /// One line's total is off by the amount.
    LineTotal(Index, i64),
    /// One line's quantity and unit price multiply past 64 bits.
    Overflow(Index),
    /// One line's unit price has a fraction.
    Fraction(Index),
    /// The order amount is off by the amount.
    OrderAmount(i64),
    /// The currency (order or payment).
    Currency(String),
    /// The payment amount.
    Amount(i64),
    /// The file name of an upload.
    Filename(String),
    /// The file's base64 text.
    FileBase64(String),
    /// The payload text replaced by this.
    Text(String),
}

/// A request on a connection: which entity and operation, its valid content,
/// and one change.
#[derive(Clone, Debug)]
pub struct RequestCase {
    entity: Index,
    operation: Index,
    lines: Vec<Line>,
    amount: i64,
    file: Vec<u8>,
    page_size: Option<u32>,
    /// The change.
    pub change: RequestChange,
}

/// A request, ready to send.
#[derive(Debug)]
pub enum Request {
    /// A read.
    Subscribe(SubscribeRequest),
    /// A write.
    Publish(PublishRequest),
}

impl RequestCase {
    /// The entity and operation the case uses on a connection of `api_type`.
    pub fn target(&self, api_type: ApiTypeId) -> (&'static EntitySpec, &'static OperationSpec) {
        let entities: Vec<_> = Manifest::get().entities.iter().filter(|e| e.api_type == api_type).collect();
        let entity = *self.entity.get(&entities);
        (entity, self.operation.get(entity.operations))
    }

    /// The request, and the field a refusal must name (none when the change
    /// does not apply to this request, which is then valid).
    pub fn request(&self, entity: &EntitySpec, operation: &OperationSpec) -> (Request, Option<String>) {
        let mut params = Params {
            path: path::placeholders(operation.path).iter().map(|p| (p.to_string(), format!("id-{p}"))).collect(),
            query: entity.header_params.iter().map(|h| (h.to_string(), "Abc123".to_string())).collect(),
            payload: None,
        };
        let method = operation.method;
        let mut payload = self.payload(entity, &method);
        let (mut name, mut method_used, mut cursor, mut key) = (entity.name.to_string(), method, None, None);
        let mut since = None;
        let mut page_size = self.page_size.filter(|_| entity.paginated());
        let field = match &self.change {
            RequestChange::None => None,
            RequestChange::Entity(other) => {
                name = format!("x-{other}");
                Some("entity".to_string())
            }
            RequestChange::Method(which) => {
                let offered: Vec<Method> = entity.operations.iter().map(|o| o.method).collect();
                let absent: Vec<Method> = [Method::Get, Method::Post, Method::Put, Method::Patch, Method::Delete]
                    .into_iter()
                    .filter(|m| !offered.contains(m))
                    .collect();
                (!absent.is_empty()).then(|| {
                    method_used = *which.get(&absent);
                    "method".to_string()
                })
            }
            RequestChange::PathValue(which, value) if !params.path.is_empty() => {
                let at = which.index(params.path.len());
                params.path[at].1 = value.clone();
                Some(format!("params.path.{}", params.path[at].0))
            }
            RequestChange::ExtraPath(key) => {
                params.path.push((format!("x{key}"), "1".into()));
                Some(format!("params.path.x{key}"))
            }
            RequestChange::Query(k, v) => {
                params.query.push((k.clone(), v.clone()));
                Some("params.query".to_string())
            }
            RequestChange::HeaderValue(which, value) if !params.query.is_empty() => {
                let at = which.index(params.query.len());
                params.query[at].1 = value.clone();
                Some(format!("params.query.{}", params.query[at].0))
            }
            RequestChange::Payload(change) => payload.as_mut().and_then(|p| apply(change, p)).map(str::to_string),
            RequestChange::Cursor(text) if method == Method::Get => {
                cursor = Some(text.clone());
                Some("cursor".to_string())
            }
            RequestChange::Since(text) if method == Method::Get => {
                since = Some(text.clone());
                Some("since".to_string())
            }
            RequestChange::PageSize(size) if entity.paginated() => {
                page_size = Some(*size);
                Some("page-size".to_string())
            }
            RequestChange::IdempotencyKey(text) if matches!(method, Method::Post | Method::Patch) => {
                key = Some(text.clone());
                Some("idempotency-key".to_string())
            }
            _ => None,
        };
        params.payload = payload.map(|p| match p {
            Value::String(text) => text,
            other => other.to_string(),
        });
        let request = if method == Method::Get && method_used == Method::Get {
            Request::Subscribe(SubscribeRequest { entity: name, params, cursor, page_size, since })
        } else {
            Request::Publish(PublishRequest { entity: name, method: method_used, params, idempotency_key: key })
        };
        (request, field)
    }

    /// A payload that passes the entity's checks, for writes that send one.
    fn payload(&self, entity: &EntitySpec, method: &Method) -> Option<Value> {
        if matches!(*method, Method::Get | Method::Delete) {
            return None;
        }
        if entity.upload.is_some() {
            let file = if self.file.is_empty() { vec![b'%'] } else { self.file.clone() };
            let content_base64 = base64::engine::general_purpose::STANDARD.encode(file);
            return Some(
                json!({"content_type": "application/pdf", "filename": "evidence.pdf", "content_base64": content_base64}),
            );
        }
        if entity.checks.contains(&Check::Order) {
            return Some(order(&self.lines));
        }
        if entity.checks.contains(&Check::PaymentRequest) {
            return Some(json!({"currency": "EUR", "amount": self.amount}));
        }
        if entity.checks.contains(&Check::PaymentAuthorization) {
            return Some(json!({"currency": "EUR", "request_payment_transaction": {"amount": self.amount}}));
        }
        Some(json!({"note": "fuzz"}))
    }
}

/// A German order whose lines and totals add up.
fn order(lines: &[Line]) -> Value {
    const RATES: [i64; 4] = [0, 700, 1900, 2500];
    let mut order_lines = vec![];
    let (mut amount, mut tax) = (0, 0);
    for (quantity, unit_price, discount_percent, rate) in lines {
        let gross = quantity * unit_price;
        let discount = gross * discount_percent / 100;
        let total = gross - discount;
        let rate = *rate.get(&RATES);
        let line_tax = total - total * 10_000 / (10_000 + rate);
        order_lines.push(json!({"name": "Item", "quantity": quantity, "unit_price": unit_price,
            "total_discount_amount": discount, "total_amount": total, "tax_rate": rate, "total_tax_amount": line_tax}));
        amount += total;
        tax += line_tax;
    }
    json!({"purchase_country": "DE", "purchase_currency": "EUR", "locale": "de-DE",
        "order_amount": amount, "order_tax_amount": tax, "order_lines": order_lines})
}

/// One order line of `payload`, if it has any.
fn line_mut<'a>(payload: &'a mut Value, which: &Index) -> Option<&'a mut Value> {
    let lines = payload.get_mut("order_lines")?.as_array_mut()?;
    let at = which.index(lines.len().max(1));
    lines.get_mut(at)
}

/// Applies `change` to `payload`; the field a refusal must name, or none
/// when the change does not fit this payload.
fn apply(change: &PayloadChange, payload: &mut Value) -> Option<&'static str> {
    match change {
        PayloadChange::LineTotal(which, delta) => {
            let line = line_mut(payload, which)?;
            let total = line["total_amount"].as_i64()?;
            line["total_amount"] = json!(total + delta);
        }
        PayloadChange::Overflow(which) => {
            let line = line_mut(payload, which)?;
            line["quantity"] = json!(10_000_000_000i64);
            line["unit_price"] = json!(10_000_000_000i64);
        }
        PayloadChange::Fraction(which) => line_mut(payload, which)?["unit_price"] = json!(10.5),
        PayloadChange::OrderAmount(delta) => {
            let amount = payload.get("order_amount")?.as_i64()?;
            payload["order_amount"] = json!(amount + delta);
        }
        PayloadChange::Currency(currency) => {
            let key = ["purchase_currency", "currency"].into_iter().find(|k| payload.get(k).is_some())?;
            payload[key] = json!(currency);
        }
        PayloadChange::Amount(amount) => {
            if payload.get("request_payment_transaction").is_some() {
                payload["request_payment_transaction"]["amount"] = json!(amount);
            } else {
                *payload.get_mut("amount")? = json!(amount);
            }
        }
        PayloadChange::Filename(name) => *payload.get_mut("filename")? = json!(name),
        PayloadChange::FileBase64(text) => *payload.get_mut("content_base64")? = json!(text),
        PayloadChange::Text(text) => *payload = Value::String(text.clone()),
    }
    Some("params.payload")
}

/// Requests that start valid, most of them left so.
pub fn request_case() -> impl Strategy<Value = RequestCase> {
    let line = (0i64..20, 0i64..200_000, 0i64..50, any::<Index>());
    let payload = prop_oneof![
        (any::<Index>(), prop_oneof![-5i64..=-1, 1i64..=5, Just(1_000_000)])
            .prop_map(|(i, d)| PayloadChange::LineTotal(i, d)),
        any::<Index>().prop_map(PayloadChange::Overflow),
        any::<Index>().prop_map(PayloadChange::Fraction),
        prop_oneof![-3i64..=-1, 1i64..=3].prop_map(PayloadChange::OrderAmount),
        prop_oneof![Just("SEK".to_string()), Just("XXX".to_string()), "[A-Z]{3}"].prop_map(PayloadChange::Currency),
        prop_oneof![Just(0i64), Just(-1), Just(2_147_483_648), any::<i64>()].prop_map(PayloadChange::Amount),
        prop_oneof![Just("evidence.exe".to_string()), Just("a/b.pdf".to_string()), tricky_text()]
            .prop_map(PayloadChange::Filename),
        prop_oneof![Just("!!".to_string()), Just(String::new()), tricky_text()].prop_map(PayloadChange::FileBase64),
        prop_oneof![Just("[]".to_string()), Just("{".to_string()), Just("null".to_string()), tricky_text()]
            .prop_map(PayloadChange::Text),
    ];
    let change = prop_oneof![
        8 => Just(RequestChange::None),
        1 => "[a-z-]{0,10}".prop_map(RequestChange::Entity),
        1 => any::<Index>().prop_map(RequestChange::Method),
        2 => (any::<Index>(), tricky_text()).prop_map(|(i, v)| RequestChange::PathValue(i, v)),
        1 => "[a-z_]{1,8}".prop_map(RequestChange::ExtraPath),
        1 => (tricky_text(), tricky_text()).prop_map(|(k, v)| RequestChange::Query(k, v)),
        1 => (any::<Index>(), tricky_text()).prop_map(|(i, v)| RequestChange::HeaderValue(i, v)),
        4 => payload.prop_map(RequestChange::Payload),
        1 => tricky_text().prop_map(RequestChange::Cursor),
        1 => prop_oneof![tricky_text(), Just("s1.e30.AAAA".to_string())].prop_map(RequestChange::Since),
        1 => prop_oneof![Just(0u32), any::<u32>()].prop_map(RequestChange::PageSize),
        1 => prop_oneof![tricky_text(), "[a-z0-9-]{1,300}"].prop_map(RequestChange::IdempotencyKey),
    ];
    (
        any::<Index>(),
        any::<Index>(),
        prop::collection::vec(line, 1..5),
        1i64..=2_147_483_647,
        prop::collection::vec(any::<u8>(), 0..48),
        prop::option::of(1u32..1000),
        change,
    )
        .prop_map(|(entity, operation, lines, amount, file, page_size, change)| RequestCase {
            entity,
            operation,
            lines,
            amount,
            file,
            page_size,
            change,
        })
}

/// Connections left valid, of API types that have entities, for the request cases.
pub fn valid_connection() -> impl Strategy<Value = ConnectionCase> {
    (any::<Index>(), any::<Index>(), any::<Index>()).prop_map(|(api_type, auth, region)| ConnectionCase {
        with_entities: true,
        api_type,
        auth,
        region,
        change: ConfigChange::None,
    })
}
