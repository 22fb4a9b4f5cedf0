//! One plugin request as a `wasi:http/outgoing-handler` exchange.

use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    ErrorCode, Fields, Method as WasiMethod, OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};
use wasip2::io::streams::StreamError;

use crate::wit::exports::ipaas::connector::http::{HttpError, Request, Response};
use crate::wit::exports::ipaas::connector::types::Method;

/// The deployment variable with the hosts the plugin may reach.
pub const ALLOWED_HOSTS: &str = "CONNECTOR_ALLOWED_HOSTS";

/// Largest write to an output stream in one call (wasi:io allows 4096 at least).
const WRITE_CHUNK: usize = 4096;

/// Largest read from an input stream in one call.
const READ_CHUNK: u64 = 64 * 1024;

/// The hosts the plugin may reach, read from the deployment's variables once
/// per instance (they do not change while it runs; every page of a read
/// would otherwise read the whole environment, and `wasi:config`, again).
fn allowed_hosts() -> Result<&'static str, &'static str> {
    static ALLOWED: std::sync::OnceLock<Result<String, String>> = std::sync::OnceLock::new();
    let allowed = ALLOWED.get_or_init(|| {
        let vars = ipaas_deployment_vars::all()?;
        vars.into_iter().find(|(name, _)| name == ALLOWED_HOSTS).map(|(_, v)| v).ok_or_else(|| {
            format!("{ALLOWED_HOSTS} is not set: the deployment must list the hosts the connector may reach")
        })
    });
    allowed.as_deref().map_err(String::as_str)
}

/// Sends `request`; see the crate docs for what is refused.
pub fn send(request: Request) -> Result<Response, HttpError> {
    let (authority, path) = split_https(&request.url)?;
    let host = authority.split(':').next().unwrap_or_default();
    let allowed = allowed_hosts().map_err(|why| HttpError::Denied(why.to_string()))?;
    if !allowed.split_whitespace().any(|h| h.eq_ignore_ascii_case(host)) {
        return Err(HttpError::Denied(format!("{host:?} is not in {ALLOWED_HOSTS}")));
    }
    let headers: Vec<(String, Vec<u8>)> =
        request.headers.iter().map(|(k, v)| (k.clone(), v.clone().into_bytes())).collect();
    let fields =
        Fields::from_list(&headers).map_err(|e| HttpError::Other(format!("a request header is refused: {e:?}")))?;
    let outgoing = OutgoingRequest::new(fields);
    let refused = |what: &str| HttpError::Other(format!("the engine refused the request's {what}"));
    outgoing.set_method(&method(request.method)).map_err(|()| refused("method"))?;
    outgoing.set_scheme(Some(&Scheme::Https)).map_err(|()| refused("scheme"))?;
    outgoing.set_authority(Some(authority)).map_err(|()| refused("authority"))?;
    outgoing.set_path_with_query(Some(path)).map_err(|()| refused("path"))?;
    let body = outgoing.body().map_err(|()| refused("body"))?;
    let options = request.timeout_ms.map(|ms| {
        let options = RequestOptions::new();
        let nanos = Some(u64::from(ms) * 1_000_000);
        // An engine that does not support one of the timeouts refuses it; the others still apply.
        let _ = options.set_connect_timeout(nanos);
        let _ = options.set_first_byte_timeout(nanos);
        let _ = options.set_between_bytes_timeout(nanos);
        options
    });
    let pending = outgoing_handler::handle(outgoing, options).map_err(error)?;
    write_body(body, request.body.as_deref())?;
    pending.subscribe().block();
    let answer = match pending.get() {
        Some(Ok(Ok(answer))) => answer,
        Some(Ok(Err(code))) => return Err(error(code)),
        Some(Err(())) | None => return Err(HttpError::Other("the response was taken twice or never came".into())),
    };
    let status = answer.status();
    let headers =
        answer.headers().entries().into_iter().map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned())).collect();
    let incoming = answer.consume().map_err(|()| HttpError::Other("the response body was taken twice".into()))?;
    let stream = incoming.stream().map_err(|()| HttpError::Other("the response body was taken twice".into()))?;
    let mut body = Vec::new();
    loop {
        match stream.blocking_read(READ_CHUNK) {
            Ok(chunk) => body.extend_from_slice(&chunk),
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(e)) => {
                return Err(HttpError::Connection(format!("the response body broke off: {}", e.to_debug_string())))
            }
        }
    }
    Ok(Response { status, headers, body })
}

/// `https://authority/path?query` split into the authority and the path with query.
fn split_https(url: &str) -> Result<(&str, &str), HttpError> {
    let rest = url.strip_prefix("https://").ok_or_else(|| HttpError::Denied("only https:// URLs are sent".into()))?;
    let cut = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(cut);
    if authority.is_empty() || authority.contains('@') {
        return Err(HttpError::Denied(format!("{url:?} names no plain host")));
    }
    Ok((authority, if path.is_empty() { "/" } else { path }))
}

fn write_body(body: OutgoingBody, bytes: Option<&[u8]>) -> Result<(), HttpError> {
    let broke = |e: StreamError| HttpError::Connection(format!("the request body could not be sent: {e:?}"));
    if let Some(bytes) = bytes {
        let stream = body.write().map_err(|()| HttpError::Other("the request body was taken twice".into()))?;
        for chunk in bytes.chunks(WRITE_CHUNK) {
            stream.blocking_write_and_flush(chunk).map_err(broke)?;
        }
        drop(stream);
    }
    OutgoingBody::finish(body, None).map_err(error)
}

fn method(method: Method) -> WasiMethod {
    match method {
        Method::Get => WasiMethod::Get,
        Method::Post => WasiMethod::Post,
        Method::Put => WasiMethod::Put,
        Method::Patch => WasiMethod::Patch,
        Method::Delete => WasiMethod::Delete,
    }
}

/// An engine's error code as the plugin's `http-error`.
fn error(code: ErrorCode) -> HttpError {
    match code {
        ErrorCode::ConnectionTimeout
        | ErrorCode::ConnectionReadTimeout
        | ErrorCode::ConnectionWriteTimeout
        | ErrorCode::HttpResponseTimeout => HttpError::Timeout,
        ErrorCode::HttpRequestDenied => HttpError::Denied("the engine denied the request".into()),
        // Before the request could leave: no name, no route, refused, or no TLS session.
        ErrorCode::DnsTimeout
        | ErrorCode::DnsError(_)
        | ErrorCode::DestinationNotFound
        | ErrorCode::DestinationUnavailable
        | ErrorCode::DestinationIpProhibited
        | ErrorCode::DestinationIpUnroutable
        | ErrorCode::ConnectionRefused
        | ErrorCode::TlsProtocolError
        | ErrorCode::TlsCertificateError
        | ErrorCode::TlsAlertReceived(_) => HttpError::NotSent(format!("{code:?}")),
        // After it may have arrived.
        ErrorCode::ConnectionTerminated => HttpError::Connection(format!("{code:?}")),
        other => HttpError::Other(format!("{other:?}")),
    }
}
