//! Scenarios of Klarna Payments and the Customer Token API (`/payments/v1`, `/customer-token/v1`).

use super::*;

/// Runs the scenario of one (entity, method); `false` when there is none.
pub fn run(h: &mut Harness, entity: &str, method: Method) -> bool {
    match (entity, method) {
        ("payment-sessions", Method::Post) => {
            let p = h.open("purchase");
            let result = h.publish(p, entity, method, &[], Some(session_order()), None).expect("session");
            assert_eq!(result.status, 200);
            let data: Value = serde_json::from_str(&result.data.expect("data")).expect("json");
            assert_eq!(result.id.as_deref(), data["session_id"].as_str());
            assert!(data["client_token"].is_string());
            let mut wrong = session_order();
            wrong["order_lines"][0]["total_amount"] = json!(1900);
            let before = h.sim.received().len();
            match h.publish(p, entity, method, &[], Some(wrong), None) {
                Err(ConnectorError::InvalidInput(m)) => {
                    assert_eq!(
                        m,
                        "params.payload.order_lines[0].total_amount: expected 1800 (2 × 1000 − 200), got 1900"
                    )
                }
                other => panic!("expected invalid-input, got {other:?}"),
            }
            assert_eq!(h.sim.received().len(), before, "nothing sent");
            let mut recurring = session_order();
            recurring["intent"] = json!("buy_and_tokenize");
            recurring["order_lines"][1]["subscription"] =
                json!({"name": "Shoe care plan", "interval": "MONTH", "interval_count": 1});
            h.publish(p, entity, method, &[], Some(recurring.clone()), None).expect("recurring session");
            let sent: Value = serde_json::from_slice(&h.sim.received().pop().expect("sent").body).expect("json");
            assert_eq!(sent["order_lines"][1]["subscription"]["interval"], "MONTH");
            recurring["order_lines"][1]["subscription"]["interval"] = json!("QUARTER");
            let before = h.sim.received().len();
            let refused = h.publish(p, entity, method, &[], Some(recurring), None);
            assert!(
                matches!(refused, Err(ConnectorError::InvalidInput(ref m)) if m.starts_with("params.payload.order_lines[1].subscription.interval")),
                "{refused:?}"
            );
            assert_eq!(h.sim.received().len(), before, "nothing sent");
        }
        ("payment-session", Method::Get) => {
            let (p, session_id) = session(h);
            let read = h.read(p, entity, &[("session_id", &session_id)]).expect("session");
            assert_eq!((read["status"].as_str(), read["order_amount"].as_i64()), (Some("incomplete"), Some(3800)));
            assert_eq!(read["expires_at"], "2026-01-17T10:00:01Z", "48 hours after creation");
            h.sim.authorize_session(&session_id).expect("authorized");
            let read = h.read(p, entity, &[("session_id", &session_id)]).expect("session");
            assert_eq!(read["status"], "complete");
            assert!(read["authorization_token"].is_string());
            h.sim.advance(48 * 3600);
            assert!(
                matches!(h.read(p, entity, &[("session_id", &session_id)]), Err(ConnectorError::NotFound(_))),
                "expired"
            );
        }
        ("payment-session", Method::Post) => {
            let (p, session_id) = session(h);
            let mut update = session_order();
            update["order_lines"][1]["quantity"] = json!(2);
            update["order_lines"][1]["total_amount"] = json!(4000);
            update["order_lines"][1]["total_tax_amount"] = json!(639);
            update["order_amount"] = json!(5800);
            update["order_tax_amount"] = json!(927);
            let result =
                h.publish(p, entity, method, &[("session_id", &session_id)], Some(update), None).expect("update");
            assert_eq!(result.status, 204);
            assert_eq!(h.read(p, entity, &[("session_id", &session_id)]).expect("session")["order_amount"], 5800);
        }
        ("payment-authorization-orders", Method::Post) => {
            let (p, session_id) = session(h);
            let token = h.sim.authorize_session(&session_id).expect("authorized");
            let placed = h
                .publish(p, entity, method, &[("authorizationToken", &token)], Some(session_order()), None)
                .expect("order");
            let order_id = placed.id.expect("order id");
            let order = h.sim.order(&order_id).expect("the order is in Order Management");
            assert_eq!((order.order_amount, order.order_lines.as_array().map(Vec::len)), (3800, Some(3)));
            let again = h.publish(
                p,
                entity,
                method,
                &[("authorizationToken", &token)],
                Some(session_order()),
                Some("second-try"),
            );
            assert!(matches!(again, Err(ConnectorError::Rejected(ref e)) if e.status == 409), "{again:?}");
            assert!(
                matches!(
                    h.read(p, "payment-session", &[("session_id", &session_id)]),
                    Err(ConnectorError::NotFound(_))
                ),
                "closed"
            );
        }
        ("payment-authorization", Method::Delete) => {
            let (p, session_id) = session(h);
            let token = h.sim.authorize_session(&session_id).expect("authorized");
            assert_eq!(
                h.publish(p, entity, method, &[("authorizationToken", &token)], None, None).expect("cancel").status,
                204
            );
            let order = h.publish(
                p,
                "payment-authorization-orders",
                Method::Post,
                &[("authorizationToken", &token)],
                Some(session_order()),
                None,
            );
            assert!(matches!(order, Err(ConnectorError::NotFound(_))), "{order:?}");
        }
        ("payment-authorization-customer-tokens", Method::Post) => {
            let (p, session_id) = session(h);
            let token = h.sim.authorize_session(&session_id).expect("authorized");
            let request = json!({"purchase_country": "DE", "purchase_currency": "EUR", "locale": "de-DE", "description": "Coffee subscription", "intended_use": "SUBSCRIPTION"});
            let created =
                h.publish(p, entity, method, &[("authorizationToken", &token)], Some(request), None).expect("token");
            assert!(created.id.is_some_and(|id| !id.is_empty()));
        }
        ("customer-token", Method::Get) => {
            let (p, token) = customer_token(h);
            let read = h.read(p, entity, &[("customerToken", &token)]).expect("token");
            assert_eq!(read["status"], "ACTIVE");
            assert!(matches!(h.read(p, entity, &[("customerToken", "nope")]), Err(ConnectorError::NotFound(_))));
        }
        ("customer-token-orders", Method::Post) => {
            let (p, token) = customer_token(h);
            let mut recurring = session_order();
            recurring.as_object_mut().map(|o| o.remove("intent"));
            let placed = h
                .publish(p, entity, method, &[("customerToken", &token)], Some(recurring.clone()), Some("sub-2026-01"))
                .expect("order");
            let order_id = placed.id.expect("order id");
            assert_eq!(h.sim.order(&order_id).map(|o| o.order_amount), Some(3800));
            let replay = h
                .publish(p, entity, method, &[("customerToken", &token)], Some(recurring.clone()), Some("sub-2026-01"))
                .expect("replay");
            assert_eq!(replay.id.as_deref(), Some(order_id.as_str()), "same key: one order");
            recurring["order_tax_amount"] = json!(1);
            assert!(matches!(
                h.publish(p, entity, method, &[("customerToken", &token)], Some(recurring), None),
                Err(ConnectorError::InvalidInput(_))
            ));
        }
        ("customer-token-status", Method::Patch) => {
            let (p, token) = customer_token(h);
            let cancel = h
                .publish(p, entity, method, &[("customerToken", &token)], Some(json!({"status": "CANCELLED"})), None)
                .expect("cancel");
            assert_eq!(cancel.status, 202);
            assert_eq!(
                h.read(p, "customer-token", &[("customerToken", &token)]).expect("token")["status"],
                "CANCELLED"
            );
            let mut recurring = session_order();
            recurring.as_object_mut().map(|o| o.remove("intent"));
            let refused = h.publish(
                p,
                "customer-token-orders",
                Method::Post,
                &[("customerToken", &token)],
                Some(recurring),
                None,
            );
            assert_eq!(rejected_code(refused).0, "NOT_ALLOWED", "a cancelled token takes no orders");
        }
        _ => return false,
    }
    true
}
