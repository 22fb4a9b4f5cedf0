//! Scenarios of Order Management (`/ordermanagement/v1`).

use super::*;

/// Runs the scenario of one (entity, method); `false` when there is none.
pub fn run(h: &mut Harness, entity: &str, method: Method) -> bool {
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
        _ => return false,
    }
    true
}
