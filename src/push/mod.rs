//! The push side: what Klarna sends to a connection's public endpoint.
//!
//! Every kind of delivery is a `callbacks` entry of connector.json, executed
//! here by one engine: find the callback by route, check the method, the
//! size and the media type, verify it ([`verify`], [`token`]) before reading
//! the body, check the required fields, read the record back from Klarna and
//! acknowledge it where the manifest says so, then emit the event
//! ([`template`]) and the reply. A flow's answer to a callback that needs one
//! is rendered by [`answer`].

pub mod answer;
pub mod incoming;
pub mod shipping;
pub mod template;
pub mod token;
pub mod verify;

use serde_json::Value;

use crate::config::Credentials;
use crate::connection::Connection;
use crate::error::{ConnectorError, Result};
use crate::manifest::{CallbackSpec, EntityCall, Manifest};
use crate::model::{Delivery, Event, IncomingRequest, Method, Pairs, Reply};
use crate::transport::{Level, Transport};
use incoming::{at, Incoming};
use template::Sources;
use verify::Verified;

impl<T: Transport> Connection<T> {
    /// Verifies and reads one delivery from Klarna (see the WIT `receive`).
    pub fn receive(&self, request: &IncomingRequest) -> Result<Delivery> {
        let mut incoming = Incoming::parse(request)?;
        let callback = self.callback_at(&mut incoming)?;
        incoming.check_media_type(callback.media_type)?;
        let now = self.transport().now_unix_s();
        if let Verified::Answered(reply) = verify::verify(self.config(), callback, &incoming, now)? {
            let outcome = if reply.status < 300 { "answered" } else { "refused as malformed" };
            self.transport().log(Level::Info, &format!("{} {outcome} ({})", callback.kind, reply.status));
            return Ok(Delivery { events: vec![], reply: Some(reply) });
        }
        let Some(spec) = &callback.event else {
            return Err(ConnectorError::config("callbacks", format!("{} has no event", callback.kind)));
        };
        let body = if callback.json_body {
            let value = incoming.json_object()?;
            if let Some(missing) = callback.required.iter().find(|path| at(&value, path).is_none()) {
                return Err(ConnectorError::input(format!("body.{missing}"), "required"));
            }
            Some(value)
        } else {
            None
        };
        let sources = Sources { incoming: &incoming, body: body.as_ref() };
        let kind = sources.render(spec.kind)?;
        let id = sources.render(spec.id)?;
        let read_back = match &callback.read_back {
            Some(call) => Some(self.call(call, &sources, Method::Get)?.ok_or_else(|| {
                ConnectorError::Unexpected(crate::error::ApiError {
                    status: 200,
                    messages: vec![format!("{} answered no record to read back", call.entity)],
                    ..Default::default()
                })
            })?),
            None => None,
        };
        if let Some((call, setting)) = &callback.acknowledge {
            if self.config().value(setting) == Some("true") {
                self.call(call, &sources, Method::Post)?;
            }
        }
        let record = match spec.record {
            "read_back" => read_back.unwrap_or_default(),
            "body" => String::from_utf8_lossy(&request.body).into_owned(),
            "path" | "body+path" => {
                let mut record = match (spec.record, body) {
                    ("body+path", Some(Value::Object(fields))) => fields,
                    _ => serde_json::Map::new(),
                };
                for (name, value) in &incoming.params {
                    record.entry(name.to_string()).or_insert_with(|| Value::String(value.clone()));
                }
                Value::Object(record).to_string()
            }
            path => {
                let part = path.strip_prefix("body.").and_then(|p| at(body.as_ref()?, p)).filter(|v| v.is_object());
                part.map(Value::to_string).ok_or_else(|| ConnectorError::input(path, "required, a JSON object"))?
            }
        };
        let entity = spec
            .entity
            .or_else(|| spec.entity_by_kind.iter().find(|(prefix, _)| kind.starts_with(prefix)).map(|(_, e)| *e));
        self.transport().log(Level::Info, &format!("received {} (event {kind}, id {id})", callback.kind));
        let event = Event { kind, id, entity: entity.map(|e| e.to_string()), record };
        let reply = callback.reply.map(|status| Reply { status, headers: vec![], body: vec![] });
        Ok(Delivery { events: vec![event], reply })
    }

    /// Renders the flow's answer to a callback of `kind` (see the WIT `respond`).
    pub fn respond(&self, kind: &str, answer: &str) -> Result<Reply> {
        let api_type = self.config().api_type.id;
        let answerable: Vec<&CallbackSpec> =
            Manifest::get().callbacks(api_type).filter(|c| !c.answers.is_empty()).collect();
        let Some(callback) = answerable.iter().find(|c| c.kind == kind) else {
            let kinds: Vec<&str> = answerable.iter().map(|c| c.kind).collect();
            let known = if kinds.is_empty() { "none".to_string() } else { kinds.join(", ") };
            return Err(ConnectorError::input(
                "kind",
                format!("{kind:?} takes no answer on API type {api_type} (answered through respond: {known})"),
            ));
        };
        answer::render(self.config(), callback, answer)
    }

    /// `test()` of an API type Klarna calls and that calls nothing at Klarna:
    /// what can be proven without a delivery.
    pub(crate) fn check_listener(&self) -> Result<String> {
        let config = self.config();
        let routes: Vec<String> =
            Manifest::get().callbacks(config.api_type.id).map(|c| format!("{} {}", c.method, c.route)).collect();
        if let Some(base) = config.value("public_url") {
            shipping::check_public_url(base)?;
        }
        let proof = match &config.credentials {
            Credentials::ShippingKey { identifier, key } => {
                let now = self.transport().now_unix_s();
                token::check(key, identifier, &token::issue(key, identifier, now, 60)?, now)?;
                format!("a bearer token issued now for identifier {identifier} checks")
            }
            Credentials::Bearer(_) => "Klarna must present the configured token on every call".to_string(),
            _ => "its credentials are complete".to_string(),
        };
        Ok(format!(
            "{} calls nothing at Klarna; Klarna calls it at {}; {proof}",
            config.api_type.label,
            routes.join(", ")
        ))
    }

    /// The connection's callback at the delivery's route, with its method;
    /// fills the delivery's route parameters.
    fn callback_at(&self, incoming: &mut Incoming) -> Result<&'static CallbackSpec> {
        let api_type = self.config().api_type.id;
        let mut callbacks = Manifest::get().callbacks(api_type);
        let found = callbacks.find_map(|c| Some((c, incoming.match_route(c.route)?)));
        let Some((callback, params)) = found else {
            let routes: Vec<&str> = Manifest::get().callbacks(api_type).map(|c| c.route).collect();
            let known = if routes.is_empty() { "none".to_string() } else { routes.join(", ") };
            return Err(ConnectorError::input(
                "path",
                format!("{} is not a route of API type {api_type} (routes: {known})", incoming.route),
            ));
        };
        incoming.params = params;
        if incoming.request.method != callback.method {
            return Err(ConnectorError::input(
                "method",
                format!("{} takes {}, not {}", callback.route, callback.method, incoming.request.method),
            ));
        }
        Ok(callback)
    }

    /// Makes a callback's entity call with its path parameters filled from the delivery.
    fn call(&self, call: &EntityCall, sources: &Sources, method: Method) -> Result<Option<String>> {
        let path: Pairs = call
            .params
            .iter()
            .map(|(param, source)| Ok((param.to_string(), sources.first(source)?)))
            .collect::<Result<_>>()?;
        self.call_for_delivery(call.entity, method, path)
    }
}

/// `Content-Type` of a reply with a body: the callback's media type, else JSON.
pub fn content_type(media_type: Option<&str>) -> Vec<(String, String)> {
    vec![("Content-Type".into(), media_type.unwrap_or("application/json").into())]
}
