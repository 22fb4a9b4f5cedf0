//! # Klarna connector
//!
//! A Klarna connector for integration platforms, shipped as a WASI 0.2
//! component that implements `ipaas:connector@0.3.0` (`wit/connector.wit`):
//! the pull side (subscribe, publish) and the push side (receive, respond).
//!
//! The Klarna logic is plain Rust behind the [`transport::Transport`] trait,
//! driven by the entity table in `connector.json` ([`manifest`]); it runs and
//! is tested natively. This file only binds the WIT world to that core when
//! the crate is built for `wasm32`.

pub mod checks;
pub mod client;
pub mod config;
pub mod connection;
pub mod error;
pub mod header_params;
pub mod idempotency;
pub mod json_scan;
pub mod link;
pub mod manifest;
pub mod model;
pub mod oauth;
pub mod order_data;
pub mod pagination;
pub mod path;
pub mod payment_request;
pub mod push;
pub mod request;
pub mod response;
pub mod secret;
pub mod sync;
pub mod transport;
pub mod upload;

#[cfg(target_arch = "wasm32")]
mod component {
    //! The WIT binding: `http` and `log` imports as the transport, the
    //! `connector` export on top of [`crate::connection::Connection`].

    wit_bindgen::generate!({ path: "wit", world: "plugin" });

    use exports::ipaas::connector::connector as wit;
    use ipaas::connector::{http as wit_http, log as wit_log, types as t};

    use crate::connection::Connection;
    use crate::error::{ApiError, ConnectorError};
    use crate::manifest::{entity_texts, manifest_json, EntitySpec, RetrySafety};
    use crate::model::{self, Method};
    use crate::secret::Secret;
    use crate::transport::{HttpRequest, HttpResponse, Level, Transport, TransportError};

    struct Component;

    /// The host's `http` and `log` imports.
    struct HostTransport;

    impl Transport for HostTransport {
        fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
            let wit_request = wit_http::Request {
                method: to_wit_method(request.method),
                url: request.url.clone(),
                headers: request.headers.clone(),
                body: request.body.clone(),
                timeout_ms: request.timeout_ms,
            };
            match wit_http::send(&wit_request) {
                Ok(r) => Ok(HttpResponse { status: r.status, headers: r.headers, body: r.body }),
                Err(wit_http::HttpError::Timeout) => Err(TransportError::Timeout),
                Err(wit_http::HttpError::Denied(m)) => Err(TransportError::Denied(m)),
                Err(wit_http::HttpError::Connection(m)) => Err(TransportError::Connection(m)),
                Err(wit_http::HttpError::Other(m)) => Err(TransportError::Other(m)),
                Err(wit_http::HttpError::NotSent(m)) => Err(TransportError::NotSent(m)),
            }
        }

        fn log(&self, level: Level, message: &str) {
            let level = match level {
                Level::Debug => wit_log::Level::Debug,
                Level::Info => wit_log::Level::Info,
                Level::Warn => wit_log::Level::Warn,
                Level::Error => wit_log::Level::Error,
            };
            wit_log::log(level, message);
        }
    }

    /// The exported `connection` resource.
    struct ConnectionResource(Connection<HostTransport>);

    impl wit::Guest for Component {
        type Connection = ConnectionResource;

        fn describe() -> String {
            manifest_json().map(str::to_string).unwrap_or_else(|| {
                HostTransport.log(Level::Error, "the manifest packed into this component does not unpack: rebuild it");
                String::new()
            })
        }
    }

    impl wit::GuestConnection for ConnectionResource {
        fn open(config: t::ConnectionConfig) -> Result<wit::Connection, t::ConnectorError> {
            let auth = match config.auth {
                t::Auth::Basic(b) => model::Auth::Basic { username: b.username, password: Secret::new(b.password) },
                t::Auth::Oauth2(o) => model::Auth::OAuth2 {
                    client_id: o.client_id,
                    client_secret: Secret::new(o.client_secret),
                    scopes: o.scopes,
                },
                t::Auth::Token(token) => model::Auth::Token(Secret::new(token)),
            };
            let config = model::ConnectionConfig {
                api_type: config.api_type,
                environment: config.environment,
                region: config.region,
                auth,
                settings: config.settings,
            };
            let connection = Connection::open(config, HostTransport).map_err(to_wit_error)?;
            Ok(wit::Connection::new(ConnectionResource(connection)))
        }

        fn test(&self) -> Result<(), t::ConnectorError> {
            let checked = self.0.test().map_err(to_wit_error)?;
            HostTransport.log(Level::Info, &format!("test passed: {checked}"));
            Ok(())
        }

        fn entities(&self) -> Vec<t::Entity> {
            self.0.entities().into_iter().map(to_wit_entity).collect()
        }

        fn subscribe(&self, request: t::SubscribeRequest) -> Result<t::Page, t::ConnectorError> {
            let request = model::SubscribeRequest {
                entity: request.entity,
                params: to_params(request.params),
                cursor: request.cursor,
                page_size: request.page_size,
                since: request.since,
            };
            let page = self.0.subscribe(&request).map_err(to_wit_error)?;
            Ok(t::Page { records: page.records, next_cursor: page.next_cursor, state: page.state })
        }

        fn publish(&self, request: t::PublishRequest) -> Result<t::PublishResult, t::ConnectorError> {
            let request = model::PublishRequest {
                entity: request.entity,
                method: from_wit_method(request.method),
                params: to_params(request.params),
                idempotency_key: request.idempotency_key,
            };
            let result = self.0.publish(&request).map_err(to_wit_error)?;
            Ok(t::PublishResult { status: result.status, id: result.id, data: result.data })
        }

        fn receive(&self, request: t::IncomingRequest) -> Result<t::Delivery, t::ConnectorError> {
            let request = model::IncomingRequest {
                method: from_wit_method(request.method),
                path: request.path,
                headers: request.headers,
                body: request.body,
            };
            let delivery = self.0.receive(&request).map_err(to_wit_error)?;
            Ok(t::Delivery {
                events: delivery
                    .events
                    .into_iter()
                    .map(|e| t::Event { kind: e.kind, id: e.id, entity: e.entity, record: e.record })
                    .collect(),
                reply: delivery.reply.map(to_wit_reply),
            })
        }

        fn respond(&self, kind: String, answer: String) -> Result<t::Reply, t::ConnectorError> {
            self.0.respond(&kind, &answer).map(to_wit_reply).map_err(to_wit_error)
        }
    }

    fn to_wit_reply(reply: model::Reply) -> t::Reply {
        t::Reply { status: reply.status, headers: reply.headers, body: reply.body }
    }

    fn to_params(params: t::Params) -> model::Params {
        model::Params { path: params.path, query: params.query, payload: params.payload }
    }

    /// The WIT method of a method: the two enums have the same five cases.
    fn to_wit_method(method: Method) -> t::Method {
        match method {
            Method::Get => t::Method::Get,
            Method::Post => t::Method::Post,
            Method::Put => t::Method::Put,
            Method::Patch => t::Method::Patch,
            Method::Delete => t::Method::Delete,
        }
    }

    fn from_wit_method(method: t::Method) -> Method {
        match method {
            t::Method::Get => Method::Get,
            t::Method::Post => Method::Post,
            t::Method::Put => Method::Put,
            t::Method::Patch => Method::Patch,
            t::Method::Delete => Method::Delete,
        }
    }

    fn to_wit_entity(entity: &EntitySpec) -> t::Entity {
        let (label, description) = entity_texts(entity.name);
        t::Entity {
            name: entity.name.to_string(),
            label: label.to_string(),
            description: description.to_string(),
            api_type: entity.api_type.to_string(),
            operations: entity
                .operations
                .iter()
                .map(|op| t::Operation {
                    method: to_wit_method(op.method),
                    path: op.path.to_string(),
                    retry: match op.retry {
                        RetrySafety::Key => t::RetrySafety::Key,
                        RetrySafety::Natural => t::RetrySafety::Natural,
                        RetrySafety::None => t::RetrySafety::None,
                    },
                })
                .collect(),
            paginated: entity.paginated(),
            primary_key: entity.primary_key.iter().map(|k| k.to_string()).collect(),
            incremental: entity.incremental_field().map(str::to_string),
        }
    }

    fn to_wit_api_error(e: ApiError) -> t::ApiError {
        t::ApiError { status: e.status, code: e.code, messages: e.messages, correlation_id: e.correlation_id }
    }

    fn to_wit_error(error: ConnectorError) -> t::ConnectorError {
        match error {
            ConnectorError::InvalidConfig(m) => t::ConnectorError::InvalidConfig(m),
            ConnectorError::InvalidInput(m) => t::ConnectorError::InvalidInput(m),
            ConnectorError::Unauthorized(e) => t::ConnectorError::Unauthorized(to_wit_api_error(e)),
            ConnectorError::NotFound(e) => t::ConnectorError::NotFound(to_wit_api_error(e)),
            ConnectorError::Rejected(e) => t::ConnectorError::Rejected(to_wit_api_error(e)),
            ConnectorError::RateLimited { retry_after_ms, error } => {
                t::ConnectorError::RateLimited(t::RateLimit { retry_after_ms, error: to_wit_api_error(error) })
            }
            ConnectorError::Unavailable(e) => t::ConnectorError::Unavailable(to_wit_api_error(e)),
            ConnectorError::Transport(m) => t::ConnectorError::Transport(m),
            ConnectorError::Unexpected(e) => t::ConnectorError::Unexpected(to_wit_api_error(e)),
            ConnectorError::OutcomeUnknown(m) => t::ConnectorError::OutcomeUnknown(m),
        }
    }

    export!(Component);
}
