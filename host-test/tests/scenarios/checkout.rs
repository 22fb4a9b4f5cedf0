//! Scenarios of Checkout (`/checkout/v3`) and the Hosted Payment Page (`/hpp/v1`).

use super::*;

/// Runs the scenario of one (entity, method); `false` when there is none.
pub fn run(h: &mut Harness, entity: &str, method: Method) -> bool {
    match (entity, method) {
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
        _ => return false,
    }
    true
}
