//! `host-test serve`: the embedded simulator over HTTP/1.1 on loopback, for
//! hosts written in other languages (the jco tests in `host-test/js`).
//!
//! A host maps Klarna's URLs to this server: `https://<host>/<path>` becomes
//! `http://127.0.0.1:<port>/<path>` with the header `X-Klarna-Host: <host>`.
//! Paths under `/__sim/` control the simulator: `POST /__sim/orders` places an
//! order, `GET /__sim/orders/{id}` shows its state, `POST /__sim/faults`
//! queues faults, `GET /__sim/requests` counts the requests served.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};

use serde_json::{json, Value};

use crate::sim::{Fault, NetworkFailure, SimRequest, SimResponse, Simulator};

/// Largest request body accepted (Klarna's limit is 1 MB; leave room to test it).
const MAX_BODY: usize = 4 << 20;

/// Binds `127.0.0.1:port` (0 = any free port) and returns the listener.
pub fn bind(port: u16) -> std::io::Result<TcpListener> {
    TcpListener::bind(("127.0.0.1", port))
}

/// Serves connections until the process ends, one thread per connection.
pub fn run(listener: TcpListener, simulator: Simulator) {
    for stream in listener.incoming().flatten() {
        let simulator = simulator.clone();
        std::thread::spawn(move || {
            let _ = serve_connection(stream, &simulator);
        });
    }
}

/// One HTTP/1.1 request as read off the socket.
pub(crate) struct Incoming {
    pub(crate) method: String,
    pub(crate) target: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

/// Reads one request (`None` when the client closed the connection).
pub(crate) fn read_request(reader: &mut BufReader<TcpStream>) -> std::io::Result<Option<Incoming>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Err(std::io::Error::other("bad request line"));
    };
    let (method, target) = (method.to_string(), target.to_string());
    let mut headers = vec![];
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        if let Some((name, value)) = trimmed.split_once(':') {
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    if length > MAX_BODY {
        return Err(std::io::Error::other("body too large"));
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(Some(Incoming { method, target, headers, body }))
}

fn serve_connection(stream: TcpStream, simulator: &Simulator) -> std::io::Result<()> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader)? {
        let response = if request.target.starts_with("/__sim/") {
            control(simulator, &request)
        } else {
            forward(simulator, request)
        };
        write_response(&mut writer, response.status, &response.headers, &response.body)?;
    }
    Ok(())
}

/// Writes one HTTP/1.1 response.
pub(crate) fn write_response(
    writer: &mut impl Write,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    writer.write_all(head.as_bytes())?;
    writer.write_all(body)?;
    writer.flush()
}

/// A Klarna request: rebuilt from `X-Klarna-Host` and handed to the simulator.
fn forward(simulator: &Simulator, request: Incoming) -> SimResponse {
    let Some(host) =
        request.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("x-klarna-host")).map(|(_, v)| v.clone())
    else {
        return SimResponse::json(400, &json!({"error": "missing X-Klarna-Host"}));
    };
    let headers = request.headers.into_iter().filter(|(k, _)| !k.eq_ignore_ascii_case("x-klarna-host")).collect();
    let sim_request = SimRequest {
        method: request.method,
        url: format!("https://{host}{}", request.target),
        headers,
        body: request.body,
    };
    match simulator.handle(&sim_request) {
        Ok(response) => response,
        // The loopback transport cannot drop a connection on cue; say what happened instead.
        Err(NetworkFailure::Timeout) => SimResponse::json(599, &json!({"network_failure": "timeout"})),
        Err(NetworkFailure::Connection(why)) => {
            SimResponse::json(599, &json!({"network_failure": "connection", "reason": why}))
        }
    }
}

fn control(simulator: &Simulator, request: &Incoming) -> SimResponse {
    let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
    let path: Vec<&str> = request.target.trim_start_matches("/__sim/").split('/').collect();
    match (request.method.as_str(), path.as_slice()) {
        ("POST", ["orders"]) => {
            let amount = body["amount"].as_i64().unwrap_or(10_000);
            let text = |key: &str, default: &str| body[key].as_str().unwrap_or(default).to_string();
            let id = simulator.place_order(
                amount,
                &text("currency", "EUR"),
                &text("country", "DE"),
                &text("locale", "de-DE"),
            );
            SimResponse::json(201, &json!({ "order_id": id }))
        }
        ("GET", ["orders", id]) => match simulator.order(id) {
            Some(o) => SimResponse::json(
                200,
                &json!({
                    "captures": o.captures.len(),
                    "captured_amount": o.captured_amount(),
                    "refunded_amount": o.refunded_amount(),
                    "remaining_authorized_amount": o.remaining_authorized_amount(),
                }),
            ),
            None => SimResponse::json(404, &json!({})),
        },
        ("POST", ["faults"]) => {
            let faults: Option<Vec<Fault>> = body.as_array().map(|items| items.iter().filter_map(fault).collect());
            match faults {
                Some(faults) => {
                    simulator.inject(faults);
                    SimResponse::empty(204)
                }
                None => SimResponse::json(400, &json!({"error": "expected a JSON array of faults"})),
            }
        }
        ("GET", ["requests"]) => SimResponse::json(200, &json!({ "count": simulator.received().len() })),
        _ => SimResponse::json(404, &json!({"error": "unknown control path"})),
    }
}

fn fault(spec: &Value) -> Option<Fault> {
    Some(match spec["kind"].as_str()? {
        "rate_limited" => Fault::RateLimited { retry_after_s: spec["retry_after_s"].as_u64().unwrap_or(0) as u32 },
        "server_timeout" => Fault::ServerTimeout,
        "apply_then_server_timeout" => Fault::ApplyThenServerTimeout,
        "service_unavailable" => Fault::ServiceUnavailable,
        _ => return None,
    })
}
