//! Scenarios of Klarna Network notifications and payments (`/v1/notification`, `/v2/payment`).

use super::*;

/// Runs the scenario of one (entity, method); `false` when there is none.
pub fn run(h: &mut Harness, entity: &str, method: Method) -> bool {
    match (entity, method) {
        ("webhooks", Method::Post) => {
            let n = network(h);
            let hook = webhook(h, n);
            let created = h.publish(n, entity, method, &[], Some(hook), None).expect("webhook");
            assert_eq!(created.status, 201);
            assert!(created.id.as_deref().is_some_and(|id| id.starts_with("krn:partner:global:notification:webhook:")));
            match h.publish(n, entity, method, &[], Some(json!({"url": "http://plain.example", "event_types": ["payment.*"], "event_version": "v1", "signing_key_id": "k"})), None) {
                Err(ConnectorError::Rejected(e)) => assert!(e.messages.iter().any(|m| m == "url: must be an HTTPS URL"), "{:?}", e.messages),
                other => panic!("expected rejected with validation errors, got {other:?}"),
            }
            let hook = webhook(h, n);
            let again = h.publish(n, entity, method, &[], Some(hook), Some("second"));
            assert!(matches!(again, Err(ConnectorError::Rejected(ref e)) if e.status == 409), "{again:?}");
        }
        ("webhooks", Method::Get) => {
            let n = network(h);
            let hook = webhook(h, n);
            h.publish(n, entity, Method::Post, &[], Some(hook), None).expect("webhook");
            let page = h.subscribe(n, entity, &[], &[], None, None).expect("webhooks");
            assert_eq!(page.records.len(), 1);
        }
        ("webhook", Method::Get) => {
            let n = network(h);
            let hook = webhook(h, n);
            let id = h.publish(n, "webhooks", Method::Post, &[], Some(hook), None).expect("webhook").id.expect("id");
            assert_eq!(
                h.read(n, entity, &[("webhook_id", &id)]).expect("webhook")["url"],
                "https://shop.example/klarna/network/notifications"
            );
            assert!(matches!(h.read(n, entity, &[("webhook_id", "krn:nope")]), Err(ConnectorError::NotFound(_))));
        }
        ("webhook", Method::Patch) => {
            let n = network(h);
            let hook = webhook(h, n);
            let id = h.publish(n, "webhooks", Method::Post, &[], Some(hook), None).expect("webhook").id.expect("id");
            let disable = json!({"status": "DISABLED", "url": "https://shop.example/klarna/v2"});
            let updated = h.publish(n, entity, method, &[("webhook_id", &id)], Some(disable), None).expect("update");
            assert_eq!(updated.status, 200);
            let read = h.read(n, entity, &[("webhook_id", &id)]).expect("webhook");
            assert_eq!(
                (read["status"].as_str(), read["url"].as_str()),
                (Some("DISABLED"), Some("https://shop.example/klarna/v2"))
            );
            let bad = h.publish(n, entity, method, &[("webhook_id", &id)], Some(json!({"url": "ftp://x"})), None);
            assert!(matches!(bad, Err(ConnectorError::Rejected(ref e)) if e.status == 400), "{bad:?}");
        }
        ("webhook", Method::Delete) => {
            let n = network(h);
            let hook = webhook(h, n);
            let id = h.publish(n, "webhooks", Method::Post, &[], Some(hook), None).expect("webhook").id.expect("id");
            assert_eq!(h.publish(n, entity, method, &[("webhook_id", &id)], None, None).expect("delete").status, 204);
            assert!(matches!(h.read(n, entity, &[("webhook_id", &id)]), Err(ConnectorError::NotFound(_))));
            assert!(h.subscribe(n, "webhooks", &[], &[], None, None).expect("list").records.is_empty());
        }
        ("signing-keys", Method::Post) => {
            let n = network(h);
            let created = h.publish(n, entity, method, &[], None, None).expect("key");
            assert_eq!(created.status, 201);
            assert!(created
                .id
                .as_deref()
                .is_some_and(|id| id.starts_with("krn:partner:global:notification:signing-key:")));
            let data: Value = serde_json::from_str(&created.data.expect("data")).expect("json");
            assert!(data["signing_key"].as_str().is_some_and(|k| !k.is_empty()), "the key is handed over once");
            for n_key in 1..50 {
                h.publish(n, entity, method, &[], None, Some(&format!("key-{n_key}"))).expect("keys up to 50");
            }
            let over = h.publish(n, entity, method, &[], None, Some("key-51"));
            assert!(matches!(over, Err(ConnectorError::Rejected(ref e)) if e.status == 409), "{over:?}");
        }
        ("signing-key", Method::Delete) => {
            let n = network(h);
            let id = h.publish(n, "signing-keys", Method::Post, &[], None, None).expect("key").id.expect("id");
            assert_eq!(
                h.publish(n, entity, method, &[("signing_key_id", &id)], None, None).expect("delete").status,
                204
            );
            let again = h.publish(n, entity, method, &[("signing_key_id", &id)], None, Some("again"));
            assert!(matches!(again, Err(ConnectorError::NotFound(_))), "{again:?}");
        }
        ("payment-requests", Method::Post) => {
            let n = network(h);
            let interop = "eyJhbGciOiJIUzI1NiJ9.eyJzdGF0dXMiOiJQQVlNRU5UX1BSRVBBUkVEIn0.c2lnbmF0dXJl";
            let headers = [("Klarna-Interoperability-Token", interop), ("Partner-Correlation-Id", "shop42order7")];
            let created = h
                .publish_with_query(n, entity, method, &[], &headers, Some(payment_request()), None)
                .expect("payment request");
            assert_eq!(created.status, 201);
            let id = created.id.expect("payment_request_id");
            assert!(id.starts_with("krn:payment:eu1:request:"), "{id}");
            let data: Value = serde_json::from_str(&created.data.expect("data")).expect("json");
            assert_eq!(data["state"], "SUBMITTED");
            let url = data["state_context"]["customer_interaction"]["payment_request_url"].as_str().expect("url");
            assert!(url.starts_with("https://pay.test.klarna.com/"), "{url}");
            let sent = h.sim.received().pop().expect("request");
            for (name, value) in headers {
                assert!(sent.headers.iter().any(|(k, v)| k == name && v == value), "{name} sent as a header");
            }
            assert!(!sent.url.contains('?'), "header parameters stay out of the query: {}", sent.url);
            assert!(sent.headers.iter().any(|(k, _)| k == "Klarna-Idempotency-Key"));
            let retry = [("Klarna-Interoperability-Token", interop), ("Partner-Correlation-Id", "shop42order7retry")];
            let replay =
                h.publish_with_query(n, entity, method, &[], &retry, Some(payment_request()), None).expect("replayed");
            assert_eq!(
                replay.id.as_deref(),
                Some(id.as_str()),
                "same request (a new correlation id only labels it), same key: one payment request"
            );
            let before = h.sim.received().len();
            let refused = [
                (json!({"currency": "JPY", "amount": 1000}), "params.payload.currency"),
                (json!({"currency": "EUR", "amount": 0}), "params.payload.amount"),
            ];
            for (payload, field) in refused {
                match h.publish(n, entity, method, &[], Some(payload), None) {
                    Err(ConnectorError::InvalidInput(m)) => assert!(m.starts_with(field), "{m}"),
                    other => panic!("expected invalid input on {field}, got {other:?}"),
                }
            }
            let bad_header = [("Partner-Correlation-Id", "order-7")];
            let refused = h.publish_with_query(n, entity, method, &[], &bad_header, Some(payment_request()), None);
            assert!(matches!(refused, Err(ConnectorError::InvalidInput(ref m)) if m.contains("letters and digits")));
            assert_eq!(h.sim.received().len(), before, "nothing sent for refused requests");
            let returning = h
                .publish_with_query(
                    n,
                    entity,
                    method,
                    &[],
                    &[("Klarna-Customer-Token", "krn:partner:eu1:test:identity:customer-token:abc")],
                    Some(payment_request()),
                    None,
                )
                .expect("tokenized");
            let data: Value = serde_json::from_str(&returning.data.expect("data")).expect("json");
            assert_eq!(data["state"], "COMPLETED", "a stored customer token completes the request at once");
        }
        ("payment-request", Method::Get) => {
            let n = network(h);
            let id = create_payment_request(h, n);
            let path = [("payment_request_id", id.as_str())];
            let page = h.subscribe(n, entity, &path, &[("Partner-Correlation-Id", "poll1")], None, None).expect("read");
            let record: Value = serde_json::from_str(&page.records[0]).expect("json");
            assert_eq!((record["state"].as_str(), record["amount"].as_i64()), (Some("SUBMITTED"), Some(12_336)));
            let sent = h.sim.received().pop().expect("request");
            assert!(sent.headers.iter().any(|(k, v)| k == "Partner-Correlation-Id" && v == "poll1"));
            let token = h.sim.complete_payment_request(&id).expect("customer approves");
            let record = h.read(n, entity, &path).expect("read");
            assert_eq!(record["state"], "COMPLETED");
            assert_eq!(record["state_context"]["klarna_network_session_token"], token.as_str());
            let stale = h
                .publish(n, "payment-requests", Method::Post, &[], Some(payment_request()), Some("second"))
                .expect("another")
                .id
                .expect("id");
            h.sim.advance(host_test::sim::network_payments::LIFETIME_S);
            let record = h.read(n, entity, &[("payment_request_id", &stale)]).expect("read");
            assert_eq!(
                (record["state"].as_str(), record["previous_state"].as_str()),
                (Some("EXPIRED"), Some("SUBMITTED"))
            );
            let missing = h.read(n, entity, &[("payment_request_id", "krn:payment:eu1:request:nope")]);
            assert!(matches!(missing, Err(ConnectorError::NotFound(_))), "{missing:?}");
        }
        ("webhook-simulation", Method::Post) => {
            let n = network(h);
            let key = h.publish(n, "signing-keys", Method::Post, &[], None, None).expect("key");
            let key_id = key.id.expect("signing_key_id");
            let data: Value = serde_json::from_str(&key.data.expect("data")).expect("json");
            let secret = data["signing_key"].as_str().expect("signing_key").to_string();
            let mut hook = webhook(h, n);
            hook["signing_key_id"] = json!(key_id);
            let webhook_id =
                h.publish(n, "webhooks", Method::Post, &[], Some(hook), None).expect("hook").id.expect("id");
            let test = json!({"event_type": "payment.request.state-change.completed", "event_version": "v1"});
            let sent =
                h.publish(n, entity, method, &[("webhook_id", &webhook_id)], Some(test), None).expect("simulate");
            assert_eq!(sent.status, 204);
            let deliveries = h.sim.deliveries();
            assert_eq!(deliveries.len(), 1, "one test delivery");
            let mut config = crate::common::config("network");
            config.settings = vec![("signing_keys".into(), format!("{key_id}={secret}"))];
            let listener = h.try_open(&config).expect("open");
            let delivery = h.receive(listener, &deliveries[0]).expect("a verified delivery");
            assert_eq!(delivery.events[0].kind, "payment.request.state-change.completed");
            assert_eq!(delivery.events[0].entity.as_deref(), Some("payment-request"));
            let unknown = json!({"event_type": "payment.nothing", "event_version": "v1"});
            let refused = h.publish(n, entity, method, &[("webhook_id", &webhook_id)], Some(unknown), None);
            assert!(matches!(refused, Err(ConnectorError::Rejected(ref e)) if e.status == 400), "{refused:?}");
        }
        ("payment-authorizations", Method::Post) => {
            let n = network(h);
            let id = create_payment_request(h, n);
            let token = h.sim.complete_payment_request(&id).expect("customer approves");
            let authorization = json!({
                "currency": "EUR",
                "request_payment_transaction": {"amount": 12_336, "payment_transaction_reference": "shop-order-7"},
            });
            let with_token = [("Klarna-Network-Session-Token", token.as_str())];
            let approved = h
                .publish_with_query(n, entity, method, &[], &with_token, Some(authorization.clone()), None)
                .expect("authorized");
            let data: Value = serde_json::from_str(&approved.data.expect("data")).expect("json");
            assert_eq!(data["payment_transaction_response"]["result"], "APPROVED");
            let transaction = approved.id.expect("payment_transaction_id");
            assert!(transaction.starts_with("krn:payment:eu1:transaction:"), "{transaction}");
            let sent = h.sim.received().pop().expect("request");
            assert!(sent.headers.iter().any(|(k, v)| k == "Klarna-Network-Session-Token" && v == &token));
            let replay = h
                .publish_with_query(n, entity, method, &[], &with_token, Some(authorization.clone()), None)
                .expect("replayed");
            assert_eq!(replay.id.as_deref(), Some(transaction.as_str()), "a re-sent authorization is applied once");
            let reused =
                h.publish_with_query(n, entity, method, &[], &with_token, Some(authorization.clone()), Some("new"));
            assert!(
                matches!(reused, Err(ConnectorError::Rejected(ref e)) if e.status == 400),
                "a token is usable once: {reused:?}"
            );
            let step_up = h.publish(n, entity, method, &[], Some(authorization.clone()), None).expect("step-up");
            let data: Value = serde_json::from_str(&step_up.data.expect("data")).expect("json");
            assert_eq!(data["payment_transaction_response"]["result"], "STEP_UP_REQUIRED");
            let follow_up = step_up.id.expect("the payment request's id");
            assert_eq!(
                h.read(n, "payment-request", &[("payment_request_id", &follow_up)]).expect("read")["state"],
                "SUBMITTED"
            );
            let late = h.sim.complete_payment_request(&follow_up).expect("approved");
            h.sim.advance(host_test::sim::network_payments::SESSION_TOKEN_LIFETIME_S);
            let expired = h.publish_with_query(
                n,
                entity,
                method,
                &[],
                &[("Klarna-Network-Session-Token", late.as_str())],
                Some(authorization),
                None,
            );
            assert!(matches!(expired, Err(ConnectorError::Rejected(ref e)) if e.status == 400), "{expired:?}");
            let before = h.sim.received().len();
            let bare = h.publish(n, entity, method, &[], Some(json!({"currency": "EUR"})), None);
            assert!(
                matches!(bare, Err(ConnectorError::InvalidInput(ref m)) if m.starts_with("params.payload.request_payment_transaction"))
            );
            assert_eq!(h.sim.received().len(), before, "nothing sent");
        }
        _ => return false,
    }
    true
}
