//! `host-test serve`: the embedded simulator over HTTP/1.1 on loopback, for
//! hosts written in other languages (the jco tests in `host-test/js`).
//!
//! A host maps Klarna's URLs to this server: `https://<host>/<path>` becomes
//! `http://127.0.0.1:<port>/<path>` with the header `X-Klarna-Host: <host>`.
//! Paths under `/__sim/` control the simulator: `POST /__sim/orders` places an
//! order, `GET /__sim/orders/{id}` shows its state, `POST /__sim/faults`
//! queues faults (`rate_limited`, `server_timeout`, `apply_then_server_timeout`,
//! `service_unavailable`, or an `answer` given whole), `GET /__sim/requests`
//! counts the requests served; for incremental reads, `POST /__sim/clock`
//! `{"days": N}` moves the clock on, `POST /__sim/settlements`
//! `{"days_ago", "transactions"}` adds a payout, `GET /__sim/disputes` lists
//! the dispute ids and `POST /__sim/disputes/{id}` `{"state"}` changes one.

use serde_json::{json, Value};

use crate::http_server::{Request as Incoming, Response};
use crate::sim::{Fault, NetworkFailure, SimRequest, SimResponse, Simulator};

pub use crate::http_server::bind;

/// Serves the simulator until the process ends.
pub fn run(listener: std::net::TcpListener, simulator: Simulator) -> std::io::Result<()> {
    crate::http_server::serve(listener, move |request| {
        let response = if request.target.starts_with("/__sim/") {
            control(&simulator, &request)
        } else {
            forward(&simulator, request)
        };
        Response { status: response.status, headers: response.headers, body: response.body }
    })
}

/// A Klarna request: rebuilt from `X-Klarna-Host` and handed to the simulator.
fn forward(simulator: &Simulator, request: Incoming) -> SimResponse {
    let Some(host) = request.header("x-klarna-host").map(str::to_string) else {
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
        Err(NetworkFailure::NotSent(why)) => {
            SimResponse::json(599, &json!({"network_failure": "not_sent", "reason": why}))
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
        ("POST", ["clock"]) => {
            simulator.advance(body["days"].as_i64().unwrap_or(1).saturating_mul(86_400));
            SimResponse::empty(204)
        }
        ("POST", ["settlements"]) => {
            let days_ago = body["days_ago"].as_i64().unwrap_or(0);
            let transactions = body["transactions"].as_u64().and_then(|n| usize::try_from(n).ok()).unwrap_or(2);
            let reference = simulator.settle(days_ago, transactions);
            SimResponse::json(201, &json!({ "payment_reference": reference }))
        }
        ("GET", ["disputes"]) => SimResponse::json(200, &json!({ "ids": simulator.dispute_ids() })),
        ("POST", ["disputes", id]) => match body["state"].as_str() {
            Some(state) if simulator.change_dispute(id, state) => SimResponse::empty(204),
            Some(_) => SimResponse::json(404, &json!({"error": "no such dispute"})),
            None => SimResponse::json(400, &json!({"error": "expected {\"state\"}"})),
        },
        _ => SimResponse::json(404, &json!({"error": "unknown control path"})),
    }
}

fn fault(spec: &Value) -> Option<Fault> {
    Some(match spec["kind"].as_str()? {
        "rate_limited" => Fault::RateLimited { retry_after_s: spec["retry_after_s"].as_u64().unwrap_or(0) as u32 },
        "server_timeout" => Fault::ServerTimeout,
        "apply_then_server_timeout" => Fault::ApplyThenServerTimeout,
        "service_unavailable" => Fault::ServiceUnavailable,
        "connection_error" => Fault::ConnectionError,
        "connect_refused" => Fault::ConnectRefused,
        "timeout" => Fault::Timeout,
        "apply_then_timeout" => Fault::ApplyThenTimeout,
        "apply_then_connection_error" => Fault::ApplyThenConnectionError,
        // An answer as given: {"kind": "answer", "status", "headers": [[name, value]], "body": text}.
        "answer" => Fault::Answer(SimResponse {
            status: spec["status"].as_u64().and_then(|s| u16::try_from(s).ok())?,
            headers: spec["headers"]
                .as_array()
                .map(|pairs| {
                    pairs
                        .iter()
                        .filter_map(|p| Some((p[0].as_str()?.to_string(), p[1].as_str()?.to_string())))
                        .collect()
                })
                .unwrap_or_default(),
            body: spec["body"].as_str().unwrap_or_default().as_bytes().to_vec(),
        }),
        _ => return None,
    })
}
