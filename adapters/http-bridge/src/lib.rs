//! The http bridge: implements the imports of any `ipaas:connector` plugin
//! with standard WASI, so that the plugin runs on engines that know nothing
//! of `ipaas:connector` (composed with the service adapter, see `./x service`).
//!
//! - `http.send` becomes a `wasi:http/outgoing-handler` request. Only
//!   `https://` URLs whose host is listed in `CONNECTOR_ALLOWED_HOSTS`
//!   (space-separated; the manifest's `hosts.allowed`) are sent, anything
//!   else is `denied`; `timeout-ms` bounds connecting, the first byte and the
//!   gap between bytes; a timeout of the engine is `http-error::timeout`.
//! - `log.log` writes one line to stderr: `[level] message`.

mod send;

#[allow(missing_docs, clippy::all)]
mod wit {
    wit_bindgen::generate!({
        path: ["../../wit/connector.wit", "../wit/adapters.wit"],
        world: "ipaas:adapters/http-bridge@0.3.0",
    });
}

use wit::exports::ipaas::connector::http::{Guest as Http, HttpError, Request, Response};
use wit::exports::ipaas::connector::log::{Guest as Log, Level};

/// The component's exports.
struct Bridge;

impl Http for Bridge {
    fn send(request: Request) -> Result<Response, HttpError> {
        send::send(request)
    }
}

impl Log for Bridge {
    fn log(level: Level, message: String) {
        let level = match level {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        };
        eprintln!("[{level}] {message}");
    }
}

wit::export!(Bridge with_types_in wit);
