//! The service: serves any `ipaas:connector` plugin over `wasi:http`, so an
//! engine that runs `wasi:http/proxy` components (wasmtime serve, Spin,
//! wasmCloud) can run the connector. One deployment is one connection, read
//! from the environment ([`settings`]). Routes ([`routes`]):
//!
//! - `GET /describe`, `GET /entities`, `POST /test`, `POST /subscribe`,
//!   `POST /publish`: the plugin's functions, their WIT records as JSON ([`json`]);
//! - `GET /records/{entity}`: every record of every page as NDJSON, streamed;
//! - `/callbacks/…`: a delivery from Klarna (any method) handed to `receive`.
//!
//! The management routes need `Authorization: Bearer <SERVICE_TOKEN>`; the
//! callback routes are verified by the plugin itself. Errors are RFC 9457
//! `application/problem+json` ([`problem`]).

mod http;
mod json;
mod problem;
mod routes;
mod settings;

#[allow(missing_docs, clippy::all)]
mod wit {
    wit_bindgen::generate!({
        path: ["../../wit/connector.wit", "../wit/adapters.wit"],
        world: "ipaas:adapters/service@0.3.0",
        generate_all,
    });
}

use wasip2::http::types::{IncomingRequest, ResponseOutparam};

/// The component's `wasi:http/incoming-handler` export.
struct Service;

impl wasip2::exports::http::incoming_handler::Guest for Service {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        routes::handle(request, out);
    }
}

wasip2::http::proxy::export!(Service);
