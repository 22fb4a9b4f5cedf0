//! Klarna Network webhooks through the component's `receive`: signed by the
//! simulator with keys created through the `signing-keys` entity, delivered
//! to webhooks created through the `webhooks` entity, verified, read, and
//! refused when anything about the signature is off.

use crate::common::{Harness, MOUNT};
use host_test::runtime::{ConnectorError, Method};
use host_test::sim::Outgoing;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use wasmtime::component::ResourceAny;

/// HMAC-SHA256 written out from RFC 2104, independent of the connector's and
/// the simulator's code: H((K ^ opad) || H((K ^ ipad) || message)), lowercase hex.
fn hmac_sha256_hex(key: &[u8], message: &[u8]) -> String {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new().chain_update(pad(0x36)).chain_update(message).finalize();
    let outer = Sha256::new().chain_update(pad(0x5c)).chain_update(inner).finalize();
    hex::encode(outer)
}

#[test]
fn the_independent_hmac_matches_rfc_4231() {
    // RFC 4231, test case 2.
    assert_eq!(
        hmac_sha256_hex(b"Jefe", b"what do ya want for nothing?"),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

/// A signing key and a webhook created through the entities; returns the
/// listening connection (its settings hold the key) and the key.
fn subscribed(h: &mut Harness, event_types: Value) -> (ResourceAny, String, String) {
    let n = h.open("network");
    let key = h.publish(n, "signing-keys", Method::Post, &[], None, None).expect("signing key");
    let key_id = key.id.expect("signing_key_id");
    let data: Value = serde_json::from_str(&key.data.expect("data")).expect("json");
    let secret = data["signing_key"].as_str().expect("the key, shown once").to_string();
    let hook = json!({
        "url": format!("{MOUNT}/network/notifications"), "event_types": event_types,
        "event_version": "v1", "signing_key_id": key_id, "status": "ENABLED"
    });
    h.publish(n, "webhooks", Method::Post, &[], Some(hook), None).expect("webhook");
    let mut config = crate::common::config("network");
    config.settings = vec![("signing_keys".into(), format!("{key_id}={secret}"))];
    let listener = h.try_open(&config).expect("open");
    (listener, key_id, secret)
}

/// The simulator's delivery when a payment request completes.
fn completed_payment_delivery(h: &mut Harness) -> (Outgoing, String) {
    let n = h.open("network");
    let request = json!({"currency": "EUR", "amount": 1000, "customer_interaction_config": {"method": "HANDOVER", "return_url": "https://shop.example/r"}});
    let id = h.publish(n, "payment-requests", Method::Post, &[], Some(request), None).expect("request").id.expect("id");
    h.sim.complete_payment_request(&id).expect("completed");
    let mut deliveries = h.sim.deliveries();
    assert_eq!(deliveries.len(), 1, "one webhook subscribed");
    (deliveries.remove(0), id)
}

fn header<'d>(delivery: &'d Outgoing, name: &str) -> &'d str {
    delivery.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).expect(name)
}

#[test]
fn a_completed_payment_request_arrives_as_one_verified_event_with_klarnas_event_id() {
    let mut h = Harness::new();
    let (listener, key_id, secret) = subscribed(&mut h, json!(["payment.request.*"]));
    let (delivery, request_id) = completed_payment_delivery(&mut h);
    assert_eq!(header(&delivery, "Klarna-Signing-Key-Id"), key_id);
    assert_eq!(header(&delivery, "Klarna-Signature"), hmac_sha256_hex(secret.as_bytes(), &delivery.body));

    let received = h.receive(listener, &delivery).expect("verified");
    let envelope: Value = serde_json::from_slice(&delivery.body).expect("json");
    let [event] = received.events.as_slice() else { panic!("one event: {received:?}") };
    assert_eq!(event.kind, "payment.request.state-change.completed");
    assert_eq!(event.id, envelope["metadata"]["event_id"].as_str().expect("event_id"));
    assert_eq!(event.entity.as_deref(), Some("payment-request"));
    let record: Value = serde_json::from_str(&event.record).expect("record is JSON");
    assert_eq!(record["payload"]["payment_request_id"], request_id.as_str());
    let reply = received.reply.expect("answered at once");
    assert_eq!(reply.status, 200);

    let again = h.receive(listener, &delivery).expect("a redelivery verifies too");
    assert_eq!(again.events[0].id, event.id, "a redelivery has the same id");
}

#[test]
fn any_change_to_body_key_or_signature_is_refused_and_emits_nothing() {
    let mut h = Harness::new();
    let (listener, key_id, secret) = subscribed(&mut h, json!(["payment.*"]));
    let (delivery, _) = completed_payment_delivery(&mut h);
    let with = |change: &dyn Fn(&mut Outgoing)| {
        let mut d = delivery.clone();
        change(&mut d);
        d
    };
    let set = |d: &mut Outgoing, name: &str, value: &str| {
        d.headers.retain(|(n, _)| n != name);
        d.headers.push((name.to_string(), value.to_string()));
    };
    let signature = header(&delivery, "Klarna-Signature").to_string();
    let cases: Vec<(&str, Outgoing, &str)> = vec![
        ("one changed byte in the body", with(&|d| d.body[20] ^= 0x01), "unauthorized"),
        (
            "a wrong key id",
            with(&|d| set(d, "Klarna-Signing-Key-Id", "krn:partner:global:notification:signing-key:other")),
            "unauthorized",
        ),
        // Unsigned is a failed authentication, as a wrong signature is (400 either way).
        ("no signature header", with(&|d| d.headers.retain(|(n, _)| n != "Klarna-Signature")), "unauthorized"),
        ("no key id header", with(&|d| d.headers.retain(|(n, _)| n != "Klarna-Signing-Key-Id")), "unauthorized"),
        ("an empty signature", with(&|d| set(d, "Klarna-Signature", "")), "unauthorized"),
        ("an empty key id", with(&|d| set(d, "Klarna-Signing-Key-Id", "")), "unauthorized"),
        (
            "the signature in uppercase",
            with(&|d| set(d, "Klarna-Signature", &signature.to_uppercase())),
            "unauthorized",
        ),
        (
            "a signature with another key",
            with(&|d| set(d, "Klarna-Signature", &hmac_sha256_hex(b"not-the-key", &d.body))),
            "unauthorized",
        ),
        (
            "the signature header twice",
            with(&|d| d.headers.push(("klarna-signature".into(), signature.clone()))),
            "invalid-input",
        ),
    ];
    for (what, tampered, expected) in cases {
        match (h.receive(listener, &tampered), expected) {
            (Err(ConnectorError::Unauthorized(e)), "unauthorized") => {
                assert_eq!(e.status, 400, "{what}: Klarna asks for 400 on a bad signature")
            }
            (Err(ConnectorError::InvalidInput(_)), "invalid-input") => {}
            (other, _) => panic!("{what}: expected {expected}, got {other:?}"),
        }
    }
    // Header names in any case, and a second key during a rotation.
    let mut lower = delivery.clone();
    lower.headers = lower.headers.into_iter().map(|(n, v)| (n.to_ascii_lowercase(), v)).collect();
    assert!(h.receive(listener, &lower).is_ok(), "header names are read without case");
    let mut config = crate::common::config("network");
    config.settings = vec![("signing_keys".into(), format!("krn:old=old-key {key_id}={secret}"))];
    let rotated = h.try_open(&config).expect("open");
    assert!(h.receive(rotated, &delivery).is_ok(), "the key is found among several");
}

#[test]
fn a_delivery_signed_by_the_test_verifies_and_any_event_type_becomes_an_event() {
    let mut h = Harness::new();
    let mut config = crate::common::config("network");
    config.settings = vec![("signing_keys".into(), "krn:test:key-1=k3y-one".into())];
    let listener = h.try_open(&config).expect("open");
    let deliver = |h: &mut Harness, body: Value| {
        let body = body.to_string().into_bytes();
        let headers = vec![
            ("Content-Type".into(), "application/json".into()),
            ("Klarna-Signature".into(), hmac_sha256_hex(b"k3y-one", &body)),
            ("Klarna-Signing-Key-ID".into(), "krn:test:key-1".into()),
        ];
        let delivery = Outgoing { method: "POST".into(), url: format!("{MOUNT}/network/notifications"), headers, body };
        h.receive(listener, &delivery)
    };
    let dispute = json!({"metadata": {"event_type": "payment.dispute.state-change.initiated", "event_id": "e-1"}, "payload": {"payment_dispute_id": "krn:network:us1:live:payment:dispute:1"}});
    let event = deliver(&mut h, dispute).expect("verified").events.remove(0);
    assert_eq!(
        (event.kind.as_str(), event.id.as_str(), event.entity.as_deref()),
        ("payment.dispute.state-change.initiated", "e-1", Some("dispute"))
    );
    let unknown = json!({"metadata": {"event_type": "partner.account.state-change.operational", "event_id": "e-2"}, "payload": {}});
    let event = deliver(&mut h, unknown).expect("verified").events.remove(0);
    assert_eq!((event.kind.as_str(), event.entity), ("partner.account.state-change.operational", None));
    let top_level = json!({"event_type": "payment.transaction.state-change.authorized", "event_id": "e-3", "metadata": {}, "payload": {}});
    assert_eq!(deliver(&mut h, top_level).expect("verified").events[0].id, "e-3", "ids at the top level are read too");
    for (what, body) in [
        ("no event id", json!({"metadata": {"event_type": "payment.x"}, "payload": {}})),
        ("not an object", json!(["metadata"])),
    ] {
        assert!(matches!(deliver(&mut h, body), Err(ConnectorError::InvalidInput(_))), "{what}");
    }
    let no_keys = h.open("network");
    let delivery = Outgoing {
        method: "POST".into(),
        url: format!("{MOUNT}/network/notifications"),
        headers: vec![("Klarna-Signature".into(), "00".repeat(32)), ("Klarna-Signing-Key-Id".into(), "k".into())],
        body: b"{}".to_vec(),
    };
    assert!(
        matches!(h.receive(no_keys, &delivery), Err(ConnectorError::InvalidConfig(ref m)) if m.starts_with("settings.signing_keys"))
    );
}
