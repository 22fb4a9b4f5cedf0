//! Every entity of connector.json through the real component, against the
//! simulator; a test fails when an (entity, method) has no scenario.

mod common;

use base64::Engine as _;
use common::Harness;
use host_test::runtime::{ConnectorError, Method};
use klarna_connector::manifest::Manifest;
use serde_json::{json, Value};

fn rejected_code(result: Result<impl std::fmt::Debug, ConnectorError>) -> (String, Option<String>) {
    match result {
        Err(ConnectorError::Rejected(e)) => (e.code.unwrap_or_default(), e.correlation_id),
        other => panic!("expected rejected, got {other:?}"),
    }
}

/// Runs the scenario of one (entity, method); `false` when there is none.
fn scenario(h: &mut Harness, entity: &str, method: Method) -> bool {
    let om = h.open("post-purchase");
    let order_id = h.order(10_000);
    let order = [("order_id", order_id.as_str())];
    let snapshot = |h: &Harness| h.sim.order(&order_id).expect("order exists");
    match (entity, method) {
        ("order", Method::Get) => {
            let record = h.read(om, "order", &order).expect("order");
            assert_eq!(record["order_id"], order_id.as_str());
            assert_eq!(record["status"], "AUTHORIZED");
            assert_eq!(record["remaining_authorized_amount"], 10_000);
        }
        ("order-captures", Method::Post) => {
            let result =
                h.publish(om, entity, method, &order, Some(json!({"captured_amount": 4000})), None).expect("capture");
            assert_eq!(result.status, 201);
            let capture_id = result.id.expect("Capture-Id");
            assert_eq!(snapshot(h).captures[0].capture_id, capture_id);
            assert_eq!(snapshot(h).captured_amount(), 4000);
            let too_much = h.publish(om, entity, method, &order, Some(json!({"captured_amount": 6001})), None);
            assert_eq!(rejected_code(too_much).0, "CAPTURE_NOT_ALLOWED");
        }
        ("order-captures", Method::Get) => {
            let empty = h.subscribe(om, entity, &order, &[], None, None).expect("list");
            assert!(empty.records.is_empty());
            for amount in [1000, 2000] {
                h.publish(om, entity, Method::Post, &order, Some(json!({"captured_amount": amount})), None)
                    .expect("capture");
            }
            let page = h.subscribe(om, entity, &order, &[], None, None).expect("list");
            let amounts: Vec<i64> = page
                .records
                .iter()
                .map(|r| serde_json::from_str::<Value>(r).expect("json")["captured_amount"].as_i64().expect("amount"))
                .collect();
            assert_eq!(amounts, [1000, 2000]);
            assert_eq!(page.next_cursor, None);
        }
        ("order-capture", Method::Get) => {
            let id = h
                .publish(
                    om,
                    "order-captures",
                    Method::Post,
                    &order,
                    Some(json!({"captured_amount": 2500, "reference": "ship-1"})),
                    None,
                )
                .expect("capture")
                .id
                .expect("id");
            let record = h.read(om, entity, &[("order_id", &order_id), ("capture_id", &id)]).expect("capture");
            assert_eq!(
                (record["capture_id"].as_str(), record["captured_amount"].as_i64(), record["reference"].as_str()),
                (Some(id.as_str()), Some(2500), Some("ship-1"))
            );
            assert!(matches!(
                h.read(om, entity, &[("order_id", &order_id), ("capture_id", "nope")]),
                Err(ConnectorError::NotFound(_))
            ));
        }
        ("order-refunds", Method::Post) => {
            let early = h.publish(om, entity, method, &order, Some(json!({"refunded_amount": 100})), None);
            assert_eq!(rejected_code(early).0, "REFUND_NOT_ALLOWED", "refund before capture");
            h.publish(om, "order-captures", Method::Post, &order, Some(json!({"captured_amount": 3000})), None)
                .expect("capture");
            let result = h
                .publish(
                    om,
                    entity,
                    method,
                    &order,
                    Some(json!({"refunded_amount": 1000, "description": "return"})),
                    None,
                )
                .expect("refund");
            assert_eq!(result.status, 201);
            assert_eq!(snapshot(h).refunds[0].refund_id, result.id.expect("Refund-Id"));
            let over = h.publish(om, entity, method, &order, Some(json!({"refunded_amount": 2001})), None);
            assert_eq!(rejected_code(over).0, "REFUND_NOT_ALLOWED", "refund over captured");
        }
        ("order-refund", Method::Get) => {
            h.publish(om, "order-captures", Method::Post, &order, Some(json!({"captured_amount": 3000})), None)
                .expect("capture");
            let id = h
                .publish(om, "order-refunds", Method::Post, &order, Some(json!({"refunded_amount": 700})), None)
                .expect("refund")
                .id
                .expect("id");
            let record = h.read(om, entity, &[("order_id", &order_id), ("refund_id", &id)]).expect("refund");
            assert_eq!(record["refunded_amount"], 700);
        }
        ("order-cancel", Method::Post) => {
            let result = h.publish(om, entity, method, &order, None, None).expect("cancel");
            assert_eq!((result.status, result.id, result.data), (204, None, None));
            assert_eq!(h.read(om, "order", &order).expect("order")["status"], "CANCELLED");
            let other = h.order(5000);
            let other = [("order_id", other.as_str())];
            h.publish(om, "order-captures", Method::Post, &other, Some(json!({"captured_amount": 100})), None)
                .expect("capture");
            let (code, correlation) = rejected_code(h.publish(om, entity, method, &other, None, None));
            assert_eq!(code, "CANCEL_NOT_ALLOWED");
            assert!(correlation.is_some_and(|c| !c.is_empty()), "correlation id kept");
        }
        ("order-release-remaining-authorization", Method::Post) => {
            h.publish(om, "order-captures", Method::Post, &order, Some(json!({"captured_amount": 4000})), None)
                .expect("capture");
            assert_eq!(h.publish(om, entity, method, &order, None, None).expect("release").status, 204);
            let record = h.read(om, "order", &order).expect("order");
            assert_eq!(
                (record["status"].as_str(), record["remaining_authorized_amount"].as_i64()),
                (Some("CAPTURED"), Some(0))
            );
            // The same request again carries the same derived key: Klarna replays the first answer.
            assert_eq!(h.publish(om, entity, method, &order, None, None).expect("replayed").status, 204);
            // A new attempt (new key) is refused: nothing is left to release.
            assert_eq!(rejected_code(h.publish(om, entity, method, &order, None, Some("release-2"))).0, "NOT_ALLOWED");
        }
        ("order-extend-authorization-time", Method::Post) => {
            let before = snapshot(h).expires_at;
            assert_eq!(h.publish(om, entity, method, &order, None, None).expect("extend").status, 204);
            assert_eq!(snapshot(h).expires_at - before, 7 * 86_400);
        }
        ("order-acknowledge", Method::Post) => {
            assert_eq!(h.publish(om, entity, method, &order, None, None).expect("acknowledge").status, 204);
            assert!(snapshot(h).acknowledged);
        }
        ("payouts", Method::Get) => {
            let st = h.open("settlements");
            let (payouts, pages) = h.read_all(st, entity, &[], 5);
            assert_eq!(payouts.len(), 13, "1,234 transactions in payouts of 100");
            assert_eq!(pages, 3);
            let eur = h.subscribe(st, entity, &[], &[("currency_code", "EUR")], None, Some(1)).expect("filtered");
            assert_eq!(eur.records.len(), 1);
            assert!(
                eur.next_cursor.as_deref().is_some_and(|c| c.contains("currency_code=EUR")),
                "filters carried by the cursor"
            );
        }
        ("payout", Method::Get) => {
            let st = h.open("settlements");
            let first = h.subscribe(st, "payouts", &[], &[], None, Some(1)).expect("payouts");
            let reference = serde_json::from_str::<Value>(&first.records[0]).expect("json")["payment_reference"]
                .as_str()
                .expect("ref")
                .to_string();
            let payout = h.read(st, entity, &[("payment_reference", &reference)]).expect("payout");
            assert_eq!(payout["payment_reference"], reference.as_str());
            assert!(payout["totals"]["settlement_amount"].is_i64());
            assert!(matches!(h.read(st, entity, &[("payment_reference", "XISA0")]), Err(ConnectorError::NotFound(_))));
        }
        ("transactions", Method::Get) => {
            let st = h.open("settlements");
            let (records, pages) = h.read_all(st, entity, &[], 100);
            assert_eq!(pages, 13);
            assert_eq!(records.len(), h.sim.transaction_count());
            let ids: std::collections::BTreeSet<_> =
                records.iter().map(|r| r["capture_id"].as_str().expect("id").to_string()).collect();
            assert_eq!(ids.len(), records.len(), "every record exactly once");
            let (one_payout, _) = h.read_all(st, entity, &[("payment_reference", "XISA00001000")], 30);
            assert_eq!(one_payout.len(), 100);
            assert!(one_payout.iter().all(|r| r["payment_reference"] == "XISA00001000"));
        }
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
        ("order-authorization", Method::Patch) => {
            h.publish(om, "order-captures", Method::Post, &order, Some(json!({"captured_amount": 3000})), None)
                .expect("capture");
            let lines = json!([{"name": "Item", "quantity": 2, "unit_price": 6000, "total_amount": 12000}]);
            let update = json!({"order_amount": 12000, "order_lines": lines});
            assert_eq!(h.publish(om, entity, method, &order, Some(update), None).expect("update").status, 204);
            assert_eq!(snapshot(h).order_amount, 12000);
            let below = json!({"order_amount": 2000, "order_lines": [{"name": "Item", "quantity": 1, "unit_price": 2000, "total_amount": 2000}]});
            assert_eq!(rejected_code(h.publish(om, entity, method, &order, Some(below), None)).0, "NOT_ALLOWED");
            let wrong = json!({"order_amount": 12001, "order_lines": lines});
            assert!(matches!(
                h.publish(om, entity, method, &order, Some(wrong), None),
                Err(ConnectorError::InvalidInput(_))
            ));
        }
        ("order-merchant-references", Method::Patch) => {
            let refs = json!({"merchant_reference1": "10001", "merchant_reference2": "ERP-77"});
            assert_eq!(h.publish(om, entity, method, &order, Some(refs), None).expect("update").status, 204);
            let read = h.read(om, "order", &order).expect("order");
            assert_eq!(
                (read["merchant_reference1"].as_str(), read["merchant_reference2"].as_str()),
                (Some("10001"), Some("ERP-77"))
            );
            let too_long = json!({"merchant_reference1": "x".repeat(256)});
            assert_eq!(rejected_code(h.publish(om, entity, method, &order, Some(too_long), None)).0, "BAD_VALUE");
        }
        ("order-customer-details", Method::Patch) => {
            let address = json!({"shipping_address": {"given_name": "Testperson-de", "family_name": "Approved", "street_address": "Hellersbergstraße 14", "postal_code": "41460", "city": "Neuss", "country": "DE"}});
            assert_eq!(h.publish(om, entity, method, &order, Some(address), None).expect("update").status, 204);
            assert_eq!(h.read(om, "order", &order).expect("order")["shipping_address"]["city"], "Neuss");
        }
        ("order-shipping-info", Method::Post) => {
            let info = json!({"shipping_info": [{"shipping_company": "DHL", "shipping_method": "Home", "tracking_number": "00340434292135100186"}]});
            assert_eq!(h.publish(om, entity, method, &order, Some(info), None).expect("add").status, 204);
            assert_eq!(
                h.read(om, "order", &order).expect("order")["shipping_info"][0]["tracking_number"],
                "00340434292135100186"
            );
            let empty = json!({"shipping_info": [{"shipping_method": "Home"}]});
            assert_eq!(rejected_code(h.publish(om, entity, method, &order, Some(empty), None)).0, "BAD_VALUE");
        }
        ("order-capture-shipping-info", Method::Post) => {
            let capture_id = capture(h, om, &order_id, 4000);
            let path = [("order_id", order_id.as_str()), ("capture_id", capture_id.as_str())];
            let info = json!({"shipping_info": [{"shipping_company": "PostNord", "tracking_number": "ABC123"}]});
            assert_eq!(h.publish(om, entity, method, &path, Some(info), None).expect("add").status, 204);
            assert_eq!(snapshot(h).captures[0].shipping_info.len(), 1);
        }
        ("order-capture-extend-due-date-options", Method::Get) => {
            let capture_id = capture(h, om, &order_id, 7000);
            let options = h.read(om, entity, &[("order_id", &order_id), ("capture_id", &capture_id)]).expect("options");
            assert_eq!(options["currency"], "EUR");
            assert_eq!(options["options"][0], json!({"number_of_days": 7, "amount": 70}));
        }
        ("order-capture-extend-due-date", Method::Patch) => {
            let capture_id = capture(h, om, &order_id, 7000);
            let path = [("order_id", order_id.as_str()), ("capture_id", capture_id.as_str())];
            assert_eq!(
                h.publish(om, entity, method, &path, Some(json!({"number_of_days": 14})), None).expect("extend").status,
                204
            );
            assert_eq!(snapshot(h).captures[0].due_date_extension_days, 14);
            let again = h.publish(om, entity, method, &path, Some(json!({"number_of_days": 7})), None);
            assert_eq!(rejected_code(again).0, "NOT_ALLOWED", "a due date is extended once");
            let odd = h.publish(om, entity, method, &path, Some(json!({"number_of_days": 5})), None);
            assert_eq!(rejected_code(odd).0, "BAD_VALUE", "only the offered options");
        }
        ("order-capture-trigger-send-out", Method::Post) => {
            let capture_id = capture(h, om, &order_id, 1000);
            let path = [("order_id", order_id.as_str()), ("capture_id", capture_id.as_str())];
            assert_eq!(h.publish(om, entity, method, &path, None, None).expect("send out").status, 204);
            assert_eq!(snapshot(h).captures[0].send_outs, 1);
            let missing = h.publish(om, entity, method, &[("order_id", &order_id), ("capture_id", "nope")], None, None);
            assert!(matches!(missing, Err(ConnectorError::NotFound(_))), "{missing:?}");
        }
        ("payouts-summary", Method::Get) => {
            let st = h.open("settlements");
            let period = [("start_date", "2026-01-01T00:00:00Z"), ("end_date", "2026-01-31T00:00:00Z")];
            let page = h.subscribe(st, entity, &[], &period, None, None).expect("summary");
            assert_eq!(page.records.len(), 1, "one currency");
            let summary: Value = serde_json::from_str(&page.records[0]).expect("json");
            let (payouts, _) = h.read_all(st, "payouts", &[], 500);
            let settled: i64 = payouts.iter().map(|p| p["totals"]["settlement_amount"].as_i64().unwrap_or(0)).sum();
            assert_eq!(summary["summary_total_settlement_amount"].as_i64(), Some(settled));
            let missing = h.subscribe(st, entity, &[], &[("start_date", "2026-01-01T00:00:00Z")], None, None);
            assert!(
                matches!(missing, Err(ConnectorError::Rejected(ref e)) if e.code.as_deref() == Some("BAD_VALUE")),
                "{missing:?}"
            );
        }
        ("report-payout-with-transactions" | "report-payout", Method::Get) => {
            let st = h.open("settlements");
            let file = h.read(st, entity, &[]).err();
            assert!(matches!(file, Some(ConnectorError::Rejected(_))), "payment_reference is required: {file:?}");
            let page =
                h.subscribe(st, entity, &[], &[("payment_reference", "XISA00001003")], None, None).expect("report");
            let record: Value = serde_json::from_str(&page.records[0]).expect("json");
            let content = base64_decode(record["content_base64"].as_str().expect("content"));
            if entity == "report-payout" {
                assert_eq!(
                    (record["content_type"].as_str(), record["filename"].as_str()),
                    (Some("application/pdf"), Some("payout-XISA00001003.pdf"))
                );
                assert!(content.starts_with(b"%PDF-"));
            } else {
                assert_eq!(record["content_type"], "text/csv");
                let text = String::from_utf8(content).expect("utf-8");
                assert_eq!(text.lines().count(), 101, "a header and the payout's 100 transactions");
            }
            let unknown = h.subscribe(st, entity, &[], &[("payment_reference", "nope")], None, None);
            assert!(matches!(unknown, Err(ConnectorError::NotFound(_))), "{unknown:?}");
        }
        ("report-payouts-summary-with-transactions" | "report-payouts-summary", Method::Get) => {
            let st = h.open("settlements");
            let period = [("start_date", "2026-01-01T00:00:00Z"), ("end_date", "2026-01-31T00:00:00Z")];
            let page = h.subscribe(st, entity, &[], &period, None, None).expect("report");
            let record: Value = serde_json::from_str(&page.records[0]).expect("json");
            let content = base64_decode(record["content_base64"].as_str().expect("content"));
            assert_eq!(record["filename"].as_str().map(|f| f.starts_with("payouts-2026-01-01-2026-01-31")), Some(true));
            if entity == "report-payouts-summary" {
                assert!(content.starts_with(b"%PDF-"));
            } else {
                assert_eq!(String::from_utf8(content).expect("utf-8").lines().count(), 1 + h.sim.transaction_count());
            }
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
        ("checkout-orders", Method::Post) => {
            let p = h.open("purchase");
            let created = h.publish(p, entity, method, &[], Some(checkout_order()), None).expect("checkout");
            assert_eq!(created.status, 201);
            let data: Value = serde_json::from_str(&created.data.expect("data")).expect("json");
            assert_eq!(created.id.as_deref(), data["order_id"].as_str());
            assert!(data["html_snippet"].as_str().is_some_and(|s| s.contains("klarna-checkout-container")));
            let mut no_terms = checkout_order();
            no_terms["merchant_urls"].as_object_mut().map(|u| u.remove("terms"));
            assert_eq!(rejected_code(h.publish(p, entity, method, &[], Some(no_terms), None)).0, "BAD_VALUE");
        }
        ("checkout-order", Method::Get) => {
            let (p, id) = checkout(h);
            assert_eq!(h.read(p, entity, &[("order_id", &id)]).expect("order")["status"], "checkout_incomplete");
            assert!(h.sim.complete_checkout(&id));
            assert_eq!(h.read(p, entity, &[("order_id", &id)]).expect("order")["status"], "checkout_complete");
            // A completed Checkout order is managed (and acknowledged) with Order Management.
            let om = h.open("post-purchase");
            assert_eq!(h.read(om, "order", &[("order_id", &id)]).expect("order")["order_amount"], 3800);
            assert_eq!(
                h.publish(om, "order-acknowledge", Method::Post, &[("order_id", &id)], None, None).expect("ack").status,
                204
            );
        }
        ("checkout-order", Method::Post) => {
            let (p, id) = checkout(h);
            let update = json!({"merchant_reference1": "45aa52f387871e3a210645d4"});
            let updated =
                h.publish(p, entity, method, &[("order_id", &id)], Some(update.clone()), None).expect("update");
            assert_eq!(updated.status, 200);
            assert!(h.sim.complete_checkout(&id));
            assert_eq!(
                rejected_code(h.publish(p, entity, method, &[("order_id", &id)], Some(update), Some("late"))).0,
                "READ_ONLY_ORDER"
            );
        }
        ("checkout-order-abort", Method::Post) => {
            let (p, id) = checkout(h);
            assert_eq!(h.publish(p, entity, method, &[("order_id", &id)], None, None).expect("abort").status, 200);
            assert_eq!(h.read(p, "checkout-order", &[("order_id", &id)]).expect("order")["status"], "checkout_aborted");
            let update = h.publish(
                p,
                "checkout-order",
                Method::Post,
                &[("order_id", &id)],
                Some(json!({"merchant_reference2": "x"})),
                None,
            );
            assert_eq!(rejected_code(update).0, "READ_ONLY_ORDER");
        }
        ("hpp-sessions", Method::Post) => {
            let (p, session_id) = session(h);
            let url = format!("https://api.playground.klarna.com/payments/v1/sessions/{session_id}");
            let created =
                h.publish(p, entity, method, &[], Some(json!({"payment_session_url": url})), None).expect("hpp");
            assert_eq!(created.status, 201);
            let data: Value = serde_json::from_str(&created.data.expect("data")).expect("json");
            assert!(data["redirect_url"].as_str().is_some_and(|u| u.starts_with("https://")));
            let elsewhere =
                json!({"payment_session_url": "https://api.playground.klarna.com/payments/v1/sessions/unknown"});
            assert_eq!(rejected_code(h.publish(p, entity, method, &[], Some(elsewhere), None)).0, "BAD_VALUE");
        }
        ("hpp-session", Method::Get) => {
            let (p, payment_session, hpp) = hpp_session(h);
            assert_eq!(h.read(p, entity, &[("session_id", &hpp)]).expect("status")["status"], "WAITING");
            let token = h.sim.authorize_session(&payment_session).expect("authorized");
            let status = h.read(p, entity, &[("session_id", &hpp)]).expect("status");
            assert_eq!(
                (status["status"].as_str(), status["authorization_token"].as_str()),
                (Some("COMPLETED"), Some(token.as_str()))
            );
        }
        ("hpp-session", Method::Delete) => {
            let (p, _, hpp) = hpp_session(h);
            assert_eq!(h.publish(p, entity, method, &[("session_id", &hpp)], None, None).expect("disable").status, 204);
            assert_eq!(h.read(p, entity, &[("session_id", &hpp)]).expect("status")["status"], "DISABLED");
            let send = json!({"method": "email", "contact_information": {"email": "customer@example.com"}});
            assert_eq!(
                rejected_code(h.publish(
                    p,
                    "hpp-session-distribution",
                    Method::Post,
                    &[("session_id", &hpp)],
                    Some(send),
                    None
                ))
                .0,
                "NOT_ALLOWED"
            );
        }
        ("hpp-session-distribution", Method::Post) => {
            let (p, _, hpp) = hpp_session(h);
            let send =
                json!({"method": "sms", "contact_information": {"phone": "+46701234567", "phone_country": "SE"}});
            assert_eq!(
                h.publish(p, entity, method, &[("session_id", &hpp)], Some(send), None).expect("send").status,
                201
            );
            assert_eq!(h.sim.hpp_distributions(&hpp), Some(1));
            let no_phone = json!({"method": "sms", "contact_information": {"email": "a@example.com"}});
            assert_eq!(
                rejected_code(h.publish(p, entity, method, &[("session_id", &hpp)], Some(no_phone), None)).0,
                "BAD_VALUE"
            );
        }
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
        ("disputes", Method::Get) => {
            let d = h.open("disputes");
            let mut seen = std::collections::BTreeSet::new();
            let (mut cursor, mut pages) = (None, 0);
            loop {
                let page = h.subscribe(d, entity, &[], &[("sort_by", "created_at")], cursor, Some(10)).expect("page");
                pages += 1;
                for r in &page.records {
                    assert!(
                        seen.insert(serde_json::from_str::<Value>(r).expect("json")["payment_dispute_id"].to_string())
                    );
                }
                match page.next_cursor {
                    Some(next) => {
                        assert!(next.contains("sort_by=created_at") && next.contains("starting_after="), "{next}");
                        cursor = Some(next);
                    }
                    None => break,
                }
            }
            assert_eq!((seen.len(), pages), (45, 5), "every dispute once, 10 a page");
        }
        ("dispute", Method::Get) => {
            let (d, id) = first_dispute(h, "INITIATED");
            assert_eq!(h.read(d, entity, &[("payment_dispute_id", &id)]).expect("dispute")["state"], "INITIATED");
            match h.read(d, entity, &[("payment_dispute_id", "krn:payment:eu1:dispute:nope")]) {
                Err(ConnectorError::NotFound(e)) => {
                    assert_eq!(e.code.as_deref(), Some("NOT_FOUND"), "Network error shape mapped")
                }
                other => panic!("expected not-found, got {other:?}"),
            }
        }
        ("dispute-accept-loss", Method::Post) => {
            let (d, id) = first_dispute(h, "INITIATED");
            let path = [("payment_dispute_id", id.as_str())];
            assert_eq!(h.publish(d, entity, method, &path, None, None).expect("accept").status, 200);
            assert_eq!(h.sim.dispute_state(&id).as_deref(), Some("CLOSED"));
            assert_eq!(h.read(d, "dispute", &path).expect("dispute")["outcome"], "LOST");
            let again = h.publish(d, entity, method, &path, None, Some("again"));
            assert!(matches!(again, Err(ConnectorError::Rejected(ref e)) if e.status == 409), "{again:?}");
            let (_, in_review) = first_dispute(h, "REPRESENTMENT");
            let refused = h.publish(d, entity, method, &[("payment_dispute_id", &in_review)], None, None);
            assert!(matches!(refused, Err(ConnectorError::Rejected(ref e)) if e.status == 409), "{refused:?}");
        }
        ("dispute-representment", Method::Post) => {
            let (d, id) = first_dispute(h, "INITIATED");
            let path = [("payment_dispute_id", id.as_str())];
            let unknown = json!({"attachments": [{"payment_dispute_attachment_id": "att-404"}]});
            let refused = h.publish(d, entity, method, &path, Some(unknown), None);
            assert!(
                matches!(refused, Err(ConnectorError::Rejected(ref e)) if e.status == 400),
                "evidence must be uploaded first: {refused:?}"
            );
            let attachment = upload_evidence(h, d, &id);
            let too_much = json!({"attachments": [{"payment_dispute_attachment_id": attachment}], "partner_proposed_refund_amount": 1_000_000});
            let refused = h.publish(d, entity, method, &path, Some(too_much), None);
            assert!(matches!(refused, Err(ConnectorError::Rejected(ref e)) if e.status == 400), "{refused:?}");
            let evidence = json!({
                "attachments": [{"payment_dispute_attachment_id": attachment, "description": "Signed delivery receipt"}],
                "additional_information": "Delivered to the customer's address, signed for.",
            });
            let answer = h.publish(d, entity, method, &path, Some(evidence.clone()), None).expect("represent");
            assert_eq!(answer.status, 200);
            assert_eq!(h.sim.dispute_state(&id).as_deref(), Some("REPRESENTMENT"), "Klarna reviews the evidence");
            let record = h.read(d, "dispute", &path).expect("dispute");
            assert_eq!(
                record["partner_evidence"]["attachments"][0]["payment_dispute_attachment_id"],
                attachment.as_str()
            );
            let again = h.publish(d, entity, method, &path, Some(evidence), Some("again"));
            assert!(matches!(again, Err(ConnectorError::Rejected(ref e)) if e.status == 409), "{again:?}");
        }
        ("dispute-appeal", Method::Post) => {
            let (d, id) = first_dispute(h, "PRE_ARBITRATION");
            let path = [("payment_dispute_id", id.as_str())];
            let empty = h.publish(d, entity, method, &path, Some(json!({})), None);
            assert!(
                matches!(empty, Err(ConnectorError::Rejected(ref e)) if e.status == 400),
                "a reason is required: {empty:?}"
            );
            let attachment = upload_evidence(h, d, &id);
            let appeal = json!({
                "additional_information": "The carrier's tracking shows delivery before the claim.",
                "attachments": [{"payment_dispute_attachment_id": attachment}],
            });
            assert_eq!(h.publish(d, entity, method, &path, Some(appeal), None).expect("appeal").status, 200);
            assert_eq!(h.sim.dispute_state(&id).as_deref(), Some("ARBITRATION"));
            let (_, early) = first_dispute(h, "INITIATED");
            let refused = h.publish(
                d,
                entity,
                method,
                &[("payment_dispute_id", &early)],
                Some(json!({"additional_information": "x"})),
                None,
            );
            assert!(
                matches!(refused, Err(ConnectorError::Rejected(ref e)) if e.code.as_deref() == Some("CONFLICT")),
                "{refused:?}"
            );
        }
        ("dispute-attachment", Method::Get) => {
            let (d, id) = first_dispute(h, "INITIATED");
            let record = download_attachment(h, d, &id, "att-0");
            assert_eq!(
                (record["content_type"].as_str(), record["filename"].as_str()),
                (Some("application/pdf"), Some("att-0.pdf"))
            );
            assert!(base64_decode(record["content_base64"].as_str().expect("content")).starts_with(b"%PDF"));
        }
        ("dispute-merchant-enrollment", Method::Post) => {
            let d = h.open("disputes");
            assert_eq!(
                h.publish(d, entity, method, &[("merchant_id", "N100001")], None, None).expect("enroll").status,
                204
            );
            let partnered = h.publish(d, entity, method, &[("merchant_id", "P200002")], None, None);
            assert!(matches!(partnered, Err(ConnectorError::Rejected(ref e)) if e.status == 403), "{partnered:?}");
        }
        ("dispute-partner-enrollment", Method::Post) => {
            let d = h.open("disputes");
            let enrolled = h.publish(
                d,
                entity,
                method,
                &[("partner_id", "krn:partner:global:account:test:P1")],
                Some(json!({"client_id": "abcdefghijklmnop1234567890"})),
                None,
            );
            assert_eq!(enrolled.expect("enroll").status, 204);
        }
        ("webhooks", Method::Post) => {
            let n = network(h);
            let created = h.publish(n, entity, method, &[], Some(webhook()), None).expect("webhook");
            assert_eq!(created.status, 201);
            assert!(created.id.as_deref().is_some_and(|id| id.starts_with("krn:partner:global:notification:webhook:")));
            match h.publish(n, entity, method, &[], Some(json!({"url": "http://plain.example", "event_types": ["payment.*"], "event_version": "v1", "signing_key_id": "k"})), None) {
                Err(ConnectorError::Rejected(e)) => assert!(e.messages.iter().any(|m| m == "url: must be an HTTPS URL"), "{:?}", e.messages),
                other => panic!("expected rejected with validation errors, got {other:?}"),
            }
            let again = h.publish(n, entity, method, &[], Some(webhook()), Some("second"));
            assert!(matches!(again, Err(ConnectorError::Rejected(ref e)) if e.status == 409), "{again:?}");
        }
        ("webhooks", Method::Get) => {
            let n = network(h);
            h.publish(n, entity, Method::Post, &[], Some(webhook()), None).expect("webhook");
            let page = h.subscribe(n, entity, &[], &[], None, None).expect("webhooks");
            assert_eq!(page.records.len(), 1);
        }
        ("webhook", Method::Get) => {
            let n = network(h);
            let id =
                h.publish(n, "webhooks", Method::Post, &[], Some(webhook()), None).expect("webhook").id.expect("id");
            assert_eq!(
                h.read(n, entity, &[("webhook_id", &id)]).expect("webhook")["url"],
                "https://shop.example/klarna/events"
            );
            assert!(matches!(h.read(n, entity, &[("webhook_id", "krn:nope")]), Err(ConnectorError::NotFound(_))));
        }
        ("webhook", Method::Patch) => {
            let n = network(h);
            let id =
                h.publish(n, "webhooks", Method::Post, &[], Some(webhook()), None).expect("webhook").id.expect("id");
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
            let id =
                h.publish(n, "webhooks", Method::Post, &[], Some(webhook()), None).expect("webhook").id.expect("id");
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
            let id = h
                .publish(n, "payment-requests", Method::Post, &[], Some(payment_request()), None)
                .expect("payment request")
                .id
                .expect("id");
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
        ("payment-authorizations", Method::Post) => {
            let n = network(h);
            let id = h
                .publish(n, "payment-requests", Method::Post, &[], Some(payment_request()), None)
                .expect("payment request")
                .id
                .expect("id");
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
        ("dispute-attachments", Method::Post) => {
            let (d, id) = first_dispute(h, "INITIATED");
            let pdf = b"%PDF-1.4\n% delivery receipt, signed\n%%EOF\n";
            let file = json!({
                "content_type": "application/pdf",
                "filename": "delivery-receipt.pdf",
                "content_base64": base64::engine::general_purpose::STANDARD.encode(pdf),
            });
            let path = [("payment_dispute_id", id.as_str())];
            let uploaded = h.publish(d, entity, method, &path, Some(file), None).expect("upload");
            assert_eq!(uploaded.status, 201);
            let attachment = uploaded.id.expect("payment_dispute_attachment_id");
            let sent = h.sim.received().pop().expect("request");
            let content_type = sent.headers.iter().find(|(k, _)| k == "Content-Type").map(|(_, v)| v.as_str());
            assert!(content_type.is_some_and(|t| t.starts_with("multipart/form-data; boundary=")), "{content_type:?}");
            let record = download_attachment(h, d, &id, &attachment);
            assert_eq!(
                (record["content_type"].as_str(), record["filename"].as_str()),
                (Some("application/pdf"), Some("delivery-receipt.pdf"))
            );
            let round_trip =
                h.publish(d, entity, method, &path, Some(record.clone()), Some("again")).expect("re-upload");
            assert_eq!(round_trip.status, 201, "a downloaded file record uploads unchanged");
            let wrong_name =
                json!({"content_type": "image/png", "filename": "photo.pdf", "content_base64": "iVBORw0KGgo="});
            let before = h.sim.received().len();
            let refused = h.publish(d, entity, method, &path, Some(wrong_name), None);
            assert!(
                matches!(refused, Err(ConnectorError::InvalidInput(ref m)) if m.starts_with("params.payload.filename")),
                "{refused:?}"
            );
            assert_eq!(h.sim.received().len(), before, "nothing sent");
            let (d, closed) = first_dispute(h, "CLOSED");
            let late = h.publish(d, entity, method, &[("payment_dispute_id", &closed)], Some(record), None);
            assert!(matches!(late, Err(ConnectorError::Rejected(ref e)) if e.status == 409), "{late:?}");
        }
        _ => return false,
    }
    true
}

/// A Klarna Network connection (API key auth on the global host).
fn network(h: &mut Harness) -> wasmtime::component::ResourceAny {
    h.open("network")
}

/// A payment request for a 123.36 EUR purchase, handed over to Klarna's purchase journey.
fn payment_request() -> Value {
    json!({
        "currency": "EUR",
        "amount": 12_336,
        "payment_request_reference": "shop-order-7",
        "customer_interaction_config": {"method": "HANDOVER", "return_url": "https://shop.example/klarna/return"}
    })
}

fn webhook() -> Value {
    json!({
        "url": "https://shop.example/klarna/events",
        "event_types": ["payment.request.state-change.authorized", "payment.*"],
        "event_version": "v1",
        "signing_key_id": "krn:partner:global:notification:signing-key:49bcd37b-79a7-4e6e-b067-2903b45fef42",
        "status": "ENABLED"
    })
}

/// A disputes connection and the first seeded dispute in `state`.
fn first_dispute(h: &mut Harness, state: &str) -> (wasmtime::component::ResourceAny, String) {
    let d = h.open("disputes");
    let page = h.subscribe(d, "disputes", &[], &[], None, Some(20)).expect("disputes");
    let id = page
        .records
        .iter()
        .map(|r| serde_json::from_str::<Value>(r).expect("json"))
        .find(|r| r["state"] == state)
        .and_then(|r| r["payment_dispute_id"].as_str().map(str::to_string))
        .expect("a dispute in that state");
    (d, id)
}

/// Downloads a dispute attachment: one file record `{content_type, filename, content_base64}`.
fn download_attachment(
    h: &mut Harness,
    d: wasmtime::component::ResourceAny,
    dispute_id: &str,
    attachment_id: &str,
) -> Value {
    let path = [("payment_dispute_id", dispute_id), ("payment_dispute_attachment_id", attachment_id)];
    let page = h.subscribe(d, "dispute-attachment", &path, &[], None, None).expect("download");
    serde_json::from_str(&page.records[0]).expect("json")
}

/// Uploads a small PDF as evidence to a dispute; returns its attachment id.
fn upload_evidence(h: &mut Harness, d: wasmtime::component::ResourceAny, dispute_id: &str) -> String {
    let file = json!({
        "content_type": "application/pdf",
        "filename": "evidence.pdf",
        "content_base64": base64::engine::general_purpose::STANDARD.encode(b"%PDF-1.4\n%%EOF\n"),
    });
    h.publish(d, "dispute-attachments", Method::Post, &[("payment_dispute_id", dispute_id)], Some(file), None)
        .expect("upload")
        .id
        .expect("attachment id")
}

/// Promises 6,000 in one virtual card for the order; returns the promise id.
fn card_promise(h: &mut Harness, om: wasmtime::component::ResourceAny, order_id: &str) -> String {
    let promise = json!({"order_id": order_id, "cards": [{"amount": 6000, "currency": "EUR", "reference": "hotel-1"}]});
    h.publish(om, "card-promises", Method::Post, &[], Some(promise), None).expect("promise").id.expect("promise id")
}

/// A valid Checkout order (the session order plus the required merchant URLs).
fn checkout_order() -> Value {
    let mut order = session_order();
    let o = order.as_object_mut().expect("object");
    o.remove("intent");
    o.insert(
        "merchant_urls".into(),
        json!({
            "terms": "https://shop.example/terms", "checkout": "https://shop.example/checkout",
            "confirmation": "https://shop.example/confirmation", "push": "https://shop.example/push"
        }),
    );
    order
}

/// A purchase connection and a new Checkout order.
fn checkout(h: &mut Harness) -> (wasmtime::component::ResourceAny, String) {
    let p = h.open("purchase");
    let id = h
        .publish(p, "checkout-orders", Method::Post, &[], Some(checkout_order()), None)
        .expect("checkout")
        .id
        .expect("id");
    (p, id)
}

/// A purchase connection, a payment session and an HPP session for it.
fn hpp_session(h: &mut Harness) -> (wasmtime::component::ResourceAny, String, String) {
    let (p, session_id) = session(h);
    let url = format!("https://api.playground.klarna.com/payments/v1/sessions/{session_id}");
    let hpp = h
        .publish(p, "hpp-sessions", Method::Post, &[], Some(json!({"payment_session_url": url})), None)
        .expect("hpp")
        .id
        .expect("id");
    (p, session_id, hpp)
}

/// A purchase connection and an active customer token.
fn customer_token(h: &mut Harness) -> (wasmtime::component::ResourceAny, String) {
    let (p, session_id) = session(h);
    let authorization = h.sim.authorize_session(&session_id).expect("authorized");
    let request = json!({"purchase_country": "DE", "purchase_currency": "EUR", "locale": "de-DE", "description": "Coffee subscription", "intended_use": "SUBSCRIPTION"});
    let token = h
        .publish(
            p,
            "payment-authorization-customer-tokens",
            Method::Post,
            &[("authorizationToken", &authorization)],
            Some(request),
            None,
        )
        .expect("token")
        .id
        .expect("token id");
    (p, token)
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(text).expect("base64")
}

/// Captures `amount` of the order; returns the capture id.
fn capture(h: &mut Harness, om: wasmtime::component::ResourceAny, order_id: &str, amount: i64) -> String {
    h.publish(
        om,
        "order-captures",
        Method::Post,
        &[("order_id", order_id)],
        Some(json!({"captured_amount": amount})),
        None,
    )
    .expect("capture")
    .id
    .expect("Capture-Id")
}

/// A German order of three lines (one a zero-value voucher) that follows every rule.
fn session_order() -> Value {
    json!({
        "purchase_country": "DE", "purchase_currency": "EUR", "locale": "de-DE", "intent": "buy",
        "order_amount": 3800, "order_tax_amount": 607,
        "order_lines": [
            {"name": "Shirt", "quantity": 2, "unit_price": 1000, "total_discount_amount": 200, "total_amount": 1800, "tax_rate": 1900, "total_tax_amount": 287},
            {"name": "Shoes", "quantity": 1, "unit_price": 2000, "total_amount": 2000, "tax_rate": 1900, "total_tax_amount": 319},
            {"type": "discount", "name": "Voucher", "quantity": 1, "unit_price": 0, "total_amount": 0, "tax_rate": 1900, "total_tax_amount": 1}
        ]
    })
}

/// A purchase connection and a new payment session.
fn session(h: &mut Harness) -> (wasmtime::component::ResourceAny, String) {
    let p = h.open("purchase");
    let id = h
        .publish(p, "payment-sessions", Method::Post, &[], Some(session_order()), None)
        .expect("session")
        .id
        .expect("id");
    (p, id)
}

#[test]
fn every_operation_in_connector_json_has_a_passing_scenario() {
    let manifest = Manifest::get();
    let mut missing = vec![];
    let mut ran = 0;
    for entity in manifest.entities {
        for operation in entity.operations {
            let method = match operation.method.to_method().as_str() {
                "GET" => Method::Get,
                "POST" => Method::Post,
                "PUT" => Method::Put,
                "PATCH" => Method::Patch,
                _ => Method::Delete,
            };
            let mut h = Harness::new();
            if scenario(&mut h, entity.name, method) {
                ran += 1;
            } else {
                missing.push(format!("{} {:?}", entity.name, operation.method));
            }
        }
    }
    assert!(missing.is_empty(), "entities in connector.json without a test: {missing:?}");
    assert!(ran >= 64, "{ran} scenarios");
}

#[test]
fn describe_returns_the_manifest_byte_for_byte() {
    let mut h = Harness::new();
    assert_eq!(h.instance.describe().expect("describe"), include_str!("../../connector.json"));
}

#[test]
fn entities_are_those_of_the_api_type() {
    let mut h = Harness::new();
    let manifest = Manifest::get();
    for api_type in ["purchase", "post-purchase", "settlements", "disputes"] {
        let connection = h.open(api_type);
        let entities = h.instance.entities(connection).expect("entities");
        let expected: Vec<_> = manifest.entities.iter().filter(|e| e.api_type == api_type).collect();
        assert_eq!(entities.len(), expected.len());
        for (got, want) in entities.iter().zip(expected) {
            assert_eq!(
                (got.name.as_str(), got.api_type.as_str(), got.paginated),
                (want.name, api_type, want.paginated())
            );
            assert_eq!(got.operations.len(), want.operations.len());
            assert_eq!(got.operations[0].path, want.operations[0].path);
            assert_eq!(got.primary_key, want.primary_key);
        }
    }
}

#[test]
fn test_checks_credentials() {
    let mut h = Harness::new();
    for api_type in ["post-purchase", "settlements"] {
        let connection = h.open(api_type);
        assert_eq!(h.instance.test(connection).expect("no trap"), Ok(()), "{api_type}");
    }
    let mut wrong = common::config("settlements");
    wrong.auth = host_test::runtime::Auth::Basic(host_test::runtime::BasicAuth {
        username: host_test::sim::USERNAME.into(),
        password: "not-the-password".into(),
    });
    let connection = h.try_open(&wrong).expect("open sends nothing, so it succeeds");
    match h.instance.test(connection).expect("no trap") {
        Err(ConnectorError::Unauthorized(e)) => assert_eq!(e.status, 401),
        other => panic!("expected unauthorized, got {other:?}"),
    }
    // The same credentials on another region's host are refused too.
    let mut na = common::config("settlements");
    na.region = "na".into();
    let connection = h.try_open(&na).expect("open");
    assert!(matches!(h.instance.test(connection).expect("no trap"), Err(ConnectorError::Unauthorized(_))));
}

#[test]
fn open_names_the_wrong_field_and_sends_nothing() {
    let mut h = Harness::new();
    let mut config = common::config("post-purchase");
    config.region = "xx".into();
    match h.try_open(&config) {
        Err(ConnectorError::InvalidConfig(m)) => {
            assert!(m.starts_with("region:") && m.contains("\"xx\""), "{m}")
        }
        other => panic!("expected invalid-config, got {other:?}"),
    }
    assert!(h.sim.received().is_empty(), "open sent a request");
}

#[test]
fn unknown_order_is_not_found_and_unknown_entity_is_invalid_input() {
    let mut h = Harness::new();
    let om = h.open("post-purchase");
    match h.read(om, "order", &[("order_id", "does-not-exist")]) {
        Err(ConnectorError::NotFound(e)) => {
            assert_eq!((e.status, e.code.as_deref()), (404, Some("NO_SUCH_ORDER")));
            assert!(e.correlation_id.is_some());
        }
        other => panic!("expected not-found, got {other:?}"),
    }
    match h.subscribe(om, "orders", &[], &[], None, None) {
        Err(ConnectorError::InvalidInput(m)) => assert!(m.starts_with("entity:"), "{m}"),
        other => panic!("expected invalid-input, got {other:?}"),
    }
    // An entity of another API type is unknown on this connection.
    assert!(matches!(h.subscribe(om, "payouts", &[], &[], None, None), Err(ConnectorError::InvalidInput(_))));
    // A method the entity does not offer.
    match h.publish(om, "order", Method::Delete, &[("order_id", "x")], None, None) {
        Err(ConnectorError::InvalidInput(m)) => assert!(m.starts_with("method:"), "{m}"),
        other => panic!("expected invalid-input, got {other:?}"),
    }
    let requests = h.sim.received().len();
    assert_eq!(requests, 1, "only the order read was sent");
}

#[test]
fn path_parameters_cannot_steer_the_request() {
    let mut h = Harness::new();
    let om = h.open("post-purchase");
    for hostile in ["../../settlements/v1/payouts", "a/b", "..", "x\r\nHost: evil.example"] {
        match h.read(om, "order", &[("order_id", hostile)]) {
            Err(ConnectorError::InvalidInput(m)) => {
                assert!(m.starts_with("params.path.order_id"), "{m}")
            }
            other => panic!("{hostile:?}: expected invalid-input, got {other:?}"),
        }
    }
    // Characters that are legal in a value are encoded, never interpreted.
    let _ = h.read(om, "order", &[("order_id", "a?b#c@evil.example")]);
    let urls: Vec<String> = h.sim.received().into_iter().map(|r| r.url).collect();
    assert_eq!(urls, ["https://api.playground.klarna.com/ordermanagement/v1/orders/a%3Fb%23c%40evil.example"]);
}

#[test]
fn a_cursor_is_only_ever_a_query() {
    let mut h = Harness::new();
    let st = h.open("settlements");
    let page = h.subscribe(st, "transactions", &[], &[], Some("offset=20&size=5".into()), None).expect("page");
    assert_eq!(page.records.len(), 5);
    let _ = h.subscribe(st, "transactions", &[], &[], Some("https://evil.example/x?offset=0".into()), None);
    for request in h.sim.received() {
        assert!(
            request.url.starts_with("https://api.playground.klarna.com/settlements/v1/transactions?"),
            "{}",
            request.url
        );
    }
}

#[test]
fn writes_carry_idempotency_keys_and_standard_headers() {
    let mut h = Harness::new();
    let om = h.open("post-purchase");
    let order_id = h.order(10_000);
    let order = [("order_id", order_id.as_str())];
    let payload = json!({"captured_amount": 1000});
    let first = h.publish(om, "order-captures", Method::Post, &order, Some(payload.clone()), None).expect("capture");
    let again = h.publish(om, "order-captures", Method::Post, &order, Some(payload.clone()), None).expect("capture");
    assert_eq!(first.id, again.id, "a re-sent record is applied once");
    assert_eq!(h.sim.order(&order_id).expect("order").captures.len(), 1);
    // Two deliberate identical captures need two host keys.
    h.publish(om, "order-captures", Method::Post, &order, Some(payload.clone()), Some("shipment-2")).expect("capture");
    h.publish(om, "order-captures", Method::Post, &order, Some(payload), Some("shipment-3")).expect("capture");
    assert_eq!(h.sim.order(&order_id).expect("order").captures.len(), 3);
    let received = h.sim.received();
    let keys: Vec<_> = received
        .iter()
        .map(|r| r.headers.iter().find(|(k, _)| k == "Klarna-Idempotency-Key").map(|(_, v)| v.clone()))
        .collect();
    assert_eq!(keys[0], keys[1]);
    assert_eq!(keys[2].as_deref(), Some("shipment-2"));
    for r in &received {
        let header = |name: &str| r.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
        assert!(header("User-Agent").is_some_and(|ua| ua.starts_with("Library/klarna-connector_0.1.0 ")));
        assert_eq!(header("Content-Type"), Some("application/json"));
        assert!(header("Authorization").is_some_and(|a| a.starts_with("Basic ")));
    }
}

#[test]
fn bad_payloads_are_refused_before_sending() {
    let mut h = Harness::new();
    let om = h.open("post-purchase");
    let cases = [("not json", "params.payload: not valid JSON"), ("[1,2]", "params.payload: must be a JSON object")];
    for (payload, expected) in cases {
        let request = host_test::runtime::PublishRequest {
            entity: "order-captures".into(),
            method: Method::Post,
            params: host_test::runtime::Params {
                path: common::pairs(&[("order_id", "o")]),
                query: vec![],
                payload: Some(payload.into()),
            },
            idempotency_key: None,
        };
        match h.instance.publish(om, &request).expect("no trap") {
            Err(ConnectorError::InvalidInput(m)) => assert!(m.starts_with(expected), "{m}"),
            other => panic!("expected invalid-input, got {other:?}"),
        }
    }
    let big = json!({"captured_amount": 1, "description": "x".repeat(1_000_001)});
    match h.publish(om, "order-captures", Method::Post, &[("order_id", "o")], Some(big), None) {
        Err(ConnectorError::InvalidInput(m)) => assert!(m.contains("1 MB"), "{m}"),
        other => panic!("expected invalid-input, got {other:?}"),
    }
    assert!(h.sim.received().is_empty());
}

#[test]
fn evidence_files_up_to_7_mib_upload_and_larger_ones_are_refused_before_sending() {
    let mut h = Harness::new();
    let (d, id) = first_dispute(&mut h, "INITIATED");
    let path = [("payment_dispute_id", id.as_str())];
    let limit = host_test::sim::disputes::MAX_EVIDENCE_BYTES;
    let record = |size: usize| {
        let mut png = vec![0u8; size];
        png[..8].copy_from_slice(b"\x89PNG\r\n\x1a\n");
        json!({
            "content_type": "image/png",
            "filename": "parcel.png",
            "content_base64": base64::engine::general_purpose::STANDARD.encode(&png),
        })
    };
    let uploaded = h.publish(d, "dispute-attachments", Method::Post, &path, Some(record(limit)), None);
    assert_eq!(uploaded.expect("7 MiB upload").status, 201);
    println!("peak linear memory after a 7 MiB upload: {} bytes", h.instance.peak_memory());
    let sent = h.sim.received().pop().expect("request");
    assert!(sent.body.len() > limit && sent.body.len() < limit + 512, "one part: {} bytes", sent.body.len());
    let before = h.sim.received().len();
    let refused = h.publish(d, "dispute-attachments", Method::Post, &path, Some(record(limit + 1)), None);
    assert!(
        matches!(refused, Err(ConnectorError::InvalidInput(ref m)) if m.contains("7340033 bytes is over Klarna's limit of 7340032")),
        "{refused:?}"
    );
    assert_eq!(h.sim.received().len(), before, "nothing sent");
}
