//! Scenarios of Settlements (`/settlements/v1`).

use super::*;

/// Runs the scenario of one (entity, method); `false` when there is none.
pub fn run(h: &mut Harness, entity: &str, method: Method) -> bool {
    match (entity, method) {
        ("payouts", Method::Get) => {
            let st = h.open("settlements");
            let (payouts, pages) = h.read_all(st, entity, &[], 5);
            assert_eq!(payouts.len(), 13, "1,234 transactions in payouts of 100");
            assert_eq!(pages, 3);
            let eur = h.subscribe(st, entity, &[], &[("currency_code", "EUR")], None, Some(1)).expect("filtered");
            assert_eq!(eur.records.len(), 1);
            h.subscribe(st, entity, &[], &[("currency_code", "EUR")], eur.next_cursor, Some(1)).expect("next");
            let sent = h.sim.received().last().expect("a request").url.clone();
            assert!(
                sent.contains("currency_code=EUR") && sent.contains("offset=1"),
                "filters carried by the cursor: {sent}"
            );
            // Incremental: a full read ends with a state; the next read asks from the newest payout less 7 days.
            let (all, state) = h.sync(st, entity, &[], None, 5).expect("a full read");
            assert_eq!(all.len(), 13);
            let (again, _) = h.sync(st, entity, &[], Some(state), 5).expect("an incremental read");
            assert_eq!(again.len(), 8, "the newest payout's day and the 7 days before it");
            assert!(h.sim.received().last().expect("sent").url.contains("start_date=2026-01-07T10%3A00%3A00Z"));
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
        ("payout-transactions", Method::Get) => {
            let st = h.open("settlements");
            let (all, state) = h.sync(st, entity, &[], None, 40).expect("a full read");
            assert_eq!(all.len(), h.sim.transaction_count(), "every payout's transactions");
            h.sim.advance(86_400);
            let new = h.sim.settle(0, 7);
            let (again, _) = h.sync(st, entity, &[], Some(state), 40).expect("an incremental read");
            let fresh = again.iter().filter(|t| t["payment_reference"] == new.as_str()).count();
            assert_eq!(fresh, 7, "the new payout's transactions");
            let payouts: std::collections::BTreeSet<_> =
                again.iter().map(|t| t["payment_reference"].to_string()).collect();
            assert_eq!(payouts.len(), 9, "the new payout, and the last read's newest with the 7 days before it");
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
        _ => return false,
    }
    true
}
