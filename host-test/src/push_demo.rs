//! The push side of `host-test demo`: a signed Klarna Network webhook, a
//! Checkout push and a Shipping Service checkout, sent by the simulator to the
//! URLs registered with it and handed to the component's `receive` as a
//! host's public endpoint would ([`crate::listen::handle`]).

use serde_json::{json, Value};

use crate::cli::{describe_error, trap};
use crate::listen;
use crate::runtime::{ConnectionConfig, IncomingRequest, Instance, Method, Params, PublishRequest};
use crate::sim::shipping_service::{EXAMPLE_IDENTIFIER, EXAMPLE_KEY};
use crate::sim::{Outgoing, ShippingService, SimResponse, Simulator};

/// Where the demo's host mounts its connections.
const MOUNT: &str = "https://shop.example/klarna";

/// A callback secret for the demo's purchase connection.
const CALLBACK_SECRET: &str = "demo-callback-secret-5c1d";

/// Runs the push steps; returns (title, text) pairs for the demo to print.
pub fn run(
    instance: &mut Instance,
    simulator: &Simulator,
    network: ConnectionConfig,
    mut purchase: ConnectionConfig,
) -> Result<Vec<(String, String)>, String> {
    let mut steps = Vec::new();
    let n = instance.open(&network).map_err(trap)?.map_err(|e| describe_error(&e))?;
    let publish = |instance: &mut Instance, connection, entity: &str, path: Vec<(String, String)>, payload: Value| {
        let request = PublishRequest {
            entity: entity.into(),
            method: Method::Post,
            params: Params { path, query: vec![], payload: Some(payload.to_string()) },
            idempotency_key: None,
        };
        instance.publish(connection, &request).map_err(trap)?.map_err(|e| describe_error(&e))
    };
    let key = publish(instance, n, "signing-keys", vec![], json!({}))?;
    let key_id = key.id.unwrap_or_default();
    let secret = key
        .data
        .and_then(|d| serde_json::from_str::<Value>(&d).ok())
        .and_then(|d| d["signing_key"].as_str().map(str::to_string))
        .ok_or("no signing_key in the answer")?;
    let hook = json!({"url": format!("{MOUNT}/network/notifications"), "event_types": ["payment.request.state-change.*"],
        "event_version": "v1", "signing_key_id": key_id, "status": "ENABLED"});
    publish(instance, n, "webhooks", vec![], hook)?;
    let request = json!({"currency": "EUR", "amount": 4990, "customer_interaction_config": {"method": "HANDOVER", "return_url": "https://shop.example/return"}});
    let request_id = publish(instance, n, "payment-requests", vec![], request)?.id.unwrap_or_default();
    simulator.complete_payment_request(&request_id).ok_or("the payment request did not complete")?;
    steps.push((
        "publish(signing-keys), publish(webhooks), publish(payment-requests); the customer completes it (simulated)"
            .into(),
        format!("signing key {key_id} (its secret goes into the listener's signing_keys setting, write-only)"),
    ));
    let mut listener_config = network;
    listener_config.settings = vec![("signing_keys".into(), format!("{key_id}={secret}"))];
    let listener = instance.open(&listener_config).map_err(trap)?.map_err(|e| describe_error(&e))?;
    let webhook = simulator.deliveries().pop().ok_or("Klarna sent no webhook")?;
    let signature = webhook.headers.iter().find(|(n, _)| n == "Klarna-Signature").map(|(_, v)| v.clone());
    steps.push((
        "Klarna POSTs a signed webhook to the registered URL → receive()".into(),
        format!(
            "Klarna-Signature {}…\n{}",
            signature.unwrap_or_default().get(..16).unwrap_or_default(),
            deliver(instance, listener, &webhook)?
        ),
    ));
    let mut tampered = webhook.clone();
    if let Some(byte) = tampered.body.get_mut(30) {
        *byte ^= 1;
    }
    steps.push(("the same webhook with one byte changed → receive()".into(), deliver(instance, listener, &tampered)?));

    purchase.settings = vec![("callback_secret".into(), CALLBACK_SECRET.into())];
    let p = instance.open(&purchase).map_err(trap)?.map_err(|e| describe_error(&e))?;
    let order = json!({"purchase_country": "DE", "purchase_currency": "EUR", "locale": "de-DE",
        "order_amount": 4990, "order_tax_amount": 797,
        "order_lines": [{"name": "Lamp", "quantity": 1, "unit_price": 4990, "total_amount": 4990, "tax_rate": 1900, "total_tax_amount": 797}],
        "merchant_urls": {"terms": "https://shop.example/terms", "checkout": "https://shop.example/checkout",
            "confirmation": "https://shop.example/confirmation",
            "push": format!("{MOUNT}/checkout/push?order_id={{checkout.order.id}}&token={CALLBACK_SECRET}")}});
    let order_id = publish(instance, p, "checkout-orders", vec![], order)?.id.unwrap_or_default();
    simulator.complete_checkout(&order_id);
    let push = simulator.deliveries().pop().ok_or("Klarna sent no push")?;
    steps.push((
        format!("the customer completes Checkout order {order_id}; Klarna POSTs an empty push → receive()"),
        deliver(instance, p, &push)?,
    ));
    steps.push((
        "Klarna's next push round".into(),
        format!(
            "{} orders still unacknowledged (the connector read the order back and acknowledged it)",
            simulator.repush_unacknowledged()
        ),
    ));
    Ok(steps)
}

/// Klarna's Shipping Service through a `shipping-assistant` connection with
/// Klarna's example identifier and key: `/auth`, options, a reservation, its
/// confirmation, and a new `/auth` once the token expired.
pub fn shipping(instance: &mut Instance, mut config: ConnectionConfig) -> Result<Vec<(String, String)>, String> {
    config.settings = vec![("public_url".into(), MOUNT.into())];
    let c = instance.open(&config).map_err(trap)?.map_err(|e| describe_error(&e))?;
    let mut kss = ShippingService::new(MOUNT, EXAMPLE_IDENTIFIER, EXAMPLE_KEY);
    let checkout = json!({"currency": "SEK", "locale": "sv-SE", "session_id": "demo-session"});
    let selection =
        json!({"currency": "SEK", "locale": "sv-SE", "session_id": "demo-session", "selected_option": {"id": "home"}});
    let interrupted = |e| format!("the Shipping Service stopped: {e:?}");
    let mut lines = Vec::new();
    {
        let mut to = |r: &Outgoing| exchange(instance, c, r, &mut lines);
        kss.list_options(&mut to, &checkout).map_err(interrupted)?;
        let id = kss.create_shipment(&mut to, &selection).map_err(interrupted)?;
        kss.confirm(&mut to, &id).map_err(interrupted)?;
    }
    let mut steps = vec![(
        "Klarna's Shipping Service with Klarna's example identifier and key: /auth, options, a reservation, its confirmation"
            .to_string(),
        lines.join("\n"),
    )];
    lines.clear();
    instance.advance_wall_clock(std::time::Duration::from_secs(3600));
    kss.list_options(&mut |r: &Outgoing| exchange(instance, c, r, &mut lines), &checkout).map_err(interrupted)?;
    steps.push(("an hour later the token has expired: 401, and Klarna authenticates again".into(), lines.join("\n")));
    Ok(steps)
}

/// One Shipping Service call through `receive` (and `respond` with a TMS's
/// answer where the call needs one); appends what happened to `lines`.
fn exchange(
    instance: &mut Instance,
    connection: wasmtime::component::ResourceAny,
    request: &Outgoing,
    lines: &mut Vec<String>,
) -> SimResponse {
    let path = request.path_after(MOUNT).unwrap_or_default();
    let answer = match (request.method.as_str(), path.as_str()) {
        (_, "/shipping-options") => Some(json!({"options": {"shipping_options": [
            {"id": "home", "name": "Home delivery", "price": 490, "tax_amount": 98, "tax_rate": 2500}]}})),
        ("POST", "/shipment") | ("PUT", _) => Some(json!({"reservation": {"shipment_id": "shp-demo-1"}})),
        _ => None,
    };
    let incoming = IncomingRequest {
        method: listen::method(&request.method).unwrap_or(Method::Post),
        path,
        headers: request.headers.clone(),
        body: request.body.clone(),
    };
    let answer = answer.map(|a| a.to_string());
    let (printed, reply) = listen::handle(instance, connection, &incoming, answer.as_deref());
    let location = reply.headers.iter().find(|(k, _)| k == "Location").map(|(_, v)| format!(" · Location {v}"));
    lines.push(format!("{} {} → {}{}", request.method, incoming.path, reply.status, location.unwrap_or_default()));
    lines.extend(printed.iter().filter(|l| l.starts_with("event")).map(|l| format!("  {}", shorten(l, 200))));
    SimResponse { status: reply.status, headers: reply.headers, body: reply.body }
}

/// Hands `delivery` to `receive` as the host would; the printed lines.
fn deliver(
    instance: &mut Instance,
    connection: wasmtime::component::ResourceAny,
    delivery: &Outgoing,
) -> Result<String, String> {
    let path = delivery.path_after(MOUNT).ok_or("a delivery to another URL")?;
    let method = listen::method(&delivery.method).ok_or("an unknown method")?;
    let request = IncomingRequest { method, path, headers: delivery.headers.clone(), body: delivery.body.clone() };
    let (lines, _) = listen::handle(instance, connection, &request, None);
    Ok(lines.iter().map(|l| shorten(l, 220)).collect::<Vec<_>>().join("\n"))
}

fn shorten(line: &str, most: usize) -> String {
    match line.char_indices().nth(most) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_string(),
    }
}
