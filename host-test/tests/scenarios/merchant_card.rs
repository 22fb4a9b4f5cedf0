//! Scenarios of Merchant Card Service (`/merchantcard/v3`).

use super::*;

/// Runs the scenario of one (entity, method); `false` when there is none.
pub fn run(h: &mut Harness, entity: &str, method: Method) -> bool {
    let om = h.open("post-purchase");
    let order_id = h.order(10_000);
    let order = [("order_id", order_id.as_str())];
    let snapshot = |h: &Harness| h.sim.order(&order_id).expect("order exists");
    match (entity, method) {
        ("card-promises", Method::Post) => {
            let promise =
                json!({"order_id": order_id, "cards": [{"amount": 6000, "currency": "EUR", "reference": "hotel-1"}]});
            let created = h.publish(om, entity, method, &[], Some(promise), None).expect("promise");
            assert_eq!(created.status, 201);
            assert!(created.id.is_some());
            let too_much =
                json!({"order_id": order_id, "cards": [{"amount": 10_001, "currency": "EUR", "reference": "hotel-2"}]});
            assert_eq!(rejected_code(h.publish(om, entity, method, &[], Some(too_much), None)).0, "BAD_VALUE");
        }
        ("card-promise", Method::Get) => {
            let first = card_promise(h, om, &order_id);
            assert_eq!(h.read(om, entity, &[("promise_id", &first)]).expect("promise")["order_id"], order_id.as_str());
            let _second = card_promise(h, om, &order_id);
            assert!(
                matches!(h.read(om, entity, &[("promise_id", &first)]), Err(ConnectorError::NotFound(_))),
                "replaced"
            );
        }
        ("card-settlements", Method::Post) => {
            card_promise(h, om, &order_id);
            let settled = h
                .publish(om, entity, method, &[], Some(json!({"order_id": order_id, "key_id": "sim-key-1"})), None)
                .expect("settle");
            assert_eq!(settled.status, 201);
            let data: Value = serde_json::from_str(&settled.data.expect("data")).expect("json");
            assert_eq!(data["cards"][0]["amount"], 6000);
        }
        ("card-settlement" | "card-settlement-by-order", Method::Get) => {
            card_promise(h, om, &order_id);
            let settled = h
                .publish(
                    om,
                    "card-settlements",
                    Method::Post,
                    &[],
                    Some(json!({"order_id": order_id, "key_id": "sim-key-1"})),
                    None,
                )
                .expect("settle");
            let settlement_id = settled.id.expect("id");
            let path = if entity == "card-settlement" {
                [("settlement_id", settlement_id.as_str())]
            } else {
                [("order_id", order_id.as_str())]
            };
            let page = h.subscribe(om, entity, &path, &[("KeyId", "sim-key-1")], None, None).expect("settlement");
            let record: Value = serde_json::from_str(&page.records[0]).expect("json");
            assert_eq!(record["settlement_id"], settlement_id.as_str());
            let sent = h.sim.received().pop().expect("request");
            assert!(sent.headers.iter().any(|(k, v)| k == "KeyId" && v == "sim-key-1"), "KeyId sent as a header");
            assert!(!sent.url.contains("KeyId"), "and not in the query");
            let other = h.subscribe(om, entity, &path, &[("KeyId", "another-key")], None, None);
            assert_eq!(rejected_code(other).0, "NOT_ALLOWED");
        }
        ("card-cancel-request", Method::Post) => {
            assert_eq!(h.publish(om, entity, method, &order, None, None).expect("cancel").status, 200);
            assert_eq!(snapshot(h).status, host_test::sim::order_management::Status::Cancelled);
            let other = h.order(8000);
            card_promise(h, om, &other);
            h.publish(om, "card-settlements", Method::Post, &[], Some(json!({"order_id": other, "key_id": "k"})), None)
                .expect("settle");
            let pending = h.publish(om, entity, method, &[("order_id", &other)], None, None).expect("pending");
            assert_eq!(pending.status, 202);
            let data: Value = serde_json::from_str(&pending.data.expect("data")).expect("json");
            assert_eq!(data["status"], "PENDING");
        }
        ("card-cancel-request", Method::Get) => {
            let none = h.read(om, entity, &order);
            assert!(matches!(none, Err(ConnectorError::Rejected(ref e)) if e.status == 400), "{none:?}");
            card_promise(h, om, &order_id);
            h.publish(
                om,
                "card-settlements",
                Method::Post,
                &[],
                Some(json!({"order_id": order_id, "key_id": "k"})),
                None,
            )
            .expect("settle");
            h.publish(om, entity, Method::Post, &order, None, None).expect("pending");
            assert_eq!(h.read(om, entity, &order).expect("status")["status"], "PENDING");
            h.sim.advance(3600);
            assert_eq!(h.read(om, entity, &order).expect("status")["status"], "CANCELLED");
        }
        _ => return false,
    }
    true
}
