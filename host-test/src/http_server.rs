//! The harness's loopback HTTP servers (the simulator for other hosts, a
//! connection's public endpoint, the reference panel), on hyper: HTTP/1.1
//! with keep-alive, several connections at once (a browser opens a few), and
//! requests handed one at a time to a plain handler, which may hold a
//! wasmtime instance (not shared between threads).

use std::cell::RefCell;
use std::rc::Rc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::server::conn::http1;
use wasmtime_wasi_http::io::TokioIo;

/// The largest request body read (Klarna refuses over 1 MB; room to test that and uploads).
pub const MAX_BODY: usize = 16 << 20;

/// One request as it arrived.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path and query (`/__sim/orders?x=1`).
    pub target: String,
    /// The headers, in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The whole body.
    pub body: Vec<u8>,
}

impl Request {
    /// The first header named `name`, in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// The answer to one request.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers (a `Content-Length` is added by hyper).
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

/// Binds `127.0.0.1:port` (0: any free port).
pub fn bind(port: u16) -> std::io::Result<std::net::TcpListener> {
    std::net::TcpListener::bind(("127.0.0.1", port))
}

/// Serves `listener` until the process ends (or the listener fails).
pub fn serve(
    listener: std::net::TcpListener,
    handle: impl FnMut(Request) -> Response + 'static,
) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let local = tokio::task::LocalSet::new();
    let handle = Rc::new(RefCell::new(handle));
    local.block_on(&runtime, async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        loop {
            let (stream, _) = listener.accept().await?;
            let handle = handle.clone();
            tokio::task::spawn_local(async move {
                let service = hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                    let handle = handle.clone();
                    async move {
                        let response = match read(request).await {
                            Ok(request) => (handle.borrow_mut())(request),
                            Err(why) => Response { status: 400, headers: vec![], body: why.into_bytes() },
                        };
                        Ok::<_, std::convert::Infallible>(write(response))
                    }
                });
                // A client that goes away mid-request is no failure of the server.
                let _ = http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), service).await;
            });
        }
    })
}

/// The request with its whole body (at most [`MAX_BODY`] bytes).
async fn read(request: hyper::Request<hyper::body::Incoming>) -> Result<Request, String> {
    let (parts, body) = request.into_parts();
    let body = Limited::new(body, MAX_BODY).collect().await.map_err(|e| format!("body: {e}"))?.to_bytes();
    let headers = parts
        .headers
        .iter()
        .map(|(name, value)| (name.as_str().to_string(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
        .collect();
    let target = parts.uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
    Ok(Request { method: parts.method.as_str().to_string(), target, headers, body: body.to_vec() })
}

/// The hyper response; a header hyper refuses is left out (the harness's own answers never carry one).
fn write(response: Response) -> hyper::Response<Full<Bytes>> {
    let mut built = hyper::Response::new(Full::new(Bytes::from(response.body)));
    *built.status_mut() =
        hyper::StatusCode::from_u16(response.status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in response.headers {
        if let (Ok(name), Ok(value)) =
            (hyper::header::HeaderName::from_bytes(name.as_bytes()), hyper::header::HeaderValue::from_str(&value))
        {
            built.headers_mut().append(name, value);
        }
    }
    built
}
