//! Scenarios of the Payment Dispute API (`/v4/payment/disputes`).

use super::*;

/// Runs the scenario of one (entity, method); `false` when there is none.
pub fn run(h: &mut Harness, entity: &str, method: Method) -> bool {
    match (entity, method) {
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
                        assert!(next.starts_with("c1."), "an incremental entity's own cursor: {next}");
                        cursor = Some(next);
                    }
                    None => break,
                }
                let sent = h.sim.received().last().expect("sent").url.clone();
                assert!(sent.contains("sort_by=created_at"), "the query carried on: {sent}");
            }
            assert_eq!((seen.len(), pages), (45, 5), "every dispute once, 10 a page");
            // Incremental by updated_at: a changed dispute is read again, with the 3 days before the last read's newest.
            let (all, state) = h.sync(d, entity, &[], None, 50).expect("a full read");
            assert_eq!(all.len(), 45, "the seeded disputes changed within a day");
            let ids = h.sim.dispute_ids();
            h.sim.advance(30 * 86_400);
            assert!(h.sim.change_dispute(&ids[0], "CLOSED"));
            let (again, state) = h.sync(d, entity, &[], Some(state), 50).expect("an incremental read");
            assert_eq!(again.len(), 45, "the window still holds every seeded dispute, the changed one among them once");
            h.sim.advance(30 * 86_400);
            assert!(h.sim.change_dispute(&ids[1], "ARBITRATION"));
            let (later, _) = h.sync(d, entity, &[], Some(state), 50).expect("the next incremental read");
            let read: Vec<_> = later.iter().map(|r| (r["payment_dispute_id"].as_str(), r["state"].as_str())).collect();
            assert_eq!(
                read,
                [(Some(ids[0].as_str()), Some("CLOSED")), (Some(ids[1].as_str()), Some("ARBITRATION"))],
                "never the whole history"
            );
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
