//! Payment Dispute API v4 (`/v4/payment/disputes`): seeded disputes, listed
//! with cursor paging (`size`, `starting_after` = the previous page's
//! `pagination.last_item`, which is null on the last page), and the
//! merchant's side of a dispute: upload evidence files, accept the loss
//! (INITIATED or PRE_ARBITRATION), represent with uploaded evidence
//! (INITIATED → REPRESENTMENT, Klarna's review), appeal a preliminary decision
//! (PRE_ARBITRATION → ARBITRATION); anything else is a 409.

use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use std::collections::BTreeMap;

use super::clock;
use super::errors;
use super::http::{SimRequest, SimResponse, Target};
use super::multipart;

/// Default and largest page.
const DEFAULT_SIZE: usize = 20;
const MAX_SIZE: usize = 100;

/// Evidence files Klarna accepts: PDF, JPEG, PNG and DOCX, up to 7 MB.
const EVIDENCE_TYPES: [&str; 4] = [
    "application/pdf",
    "image/jpeg",
    "image/png",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
];
/// Largest evidence file, in bytes.
pub const MAX_EVIDENCE_BYTES: usize = 7 * 1024 * 1024;

/// An uploaded evidence file.
#[derive(Debug)]
struct Upload {
    content_type: String,
    filename: String,
    bytes: Vec<u8>,
}

/// The disputes of one merchant, oldest first.
#[derive(Debug, Default)]
pub struct DisputeBook {
    disputes: Vec<Value>,
    uploads: BTreeMap<String, Upload>,
}

impl DisputeBook {
    /// `count` disputes in various states.
    pub fn seeded(count: usize) -> Self {
        let states = ["INITIATED", "REPRESENTMENT", "PRE_ARBITRATION", "ARBITRATION", "CLOSED"];
        let reasons = ["RETURN_NOT_REFUNDED", "PRODUCTS_NOT_RECEIVED", "PRODUCTS_FAULTY", "CAPTURE_AMOUNT_INCORRECT"];
        let disputes = (0..count as u64)
            .map(|n| {
                json!({
                    "payment_dispute_id": format!("krn:payment:eu1:dispute:{}", clock::uuid(0xd159, n)),
                    "dispute_reason": reasons[n as usize % reasons.len()],
                    "state": states[n as usize % states.len()],
                    "payment_transaction_id": format!("krn:payment:eu1:transaction:{}", clock::uuid(0x7a25, n)),
                    "order_id": clock::uuid(0x0de7, 1000 + n),
                    "dispute_details": { "dispute_amount": 1000 + 37 * n as i64, "currency": "EUR", "created_by": "CUSTOMER" },
                    "created_at": clock::rfc3339(clock::EPOCH_START - (count as i64 - n as i64) * 3600),
                    "updated_at": clock::rfc3339(clock::EPOCH_START - (count as i64 - n as i64) * 1800),
                    "attachments": [{ "payment_dispute_attachment_id": format!("att-{n}"), "description": "Customer evidence", "mime_type": "application/pdf" }],
                })
            })
            .collect();
        Self { disputes, uploads: BTreeMap::new() }
    }

    /// Moves a dispute to `state` at `now`; `false` when it does not exist.
    pub fn change(&mut self, id: &str, state: &str, now: i64) -> bool {
        let Some(dispute) = self.disputes.iter_mut().find(|d| d["payment_dispute_id"] == id) else { return false };
        dispute["previous_state"] = dispute["state"].clone();
        dispute["state"] = json!(state);
        dispute["updated_at"] = json!(clock::rfc3339(now));
        true
    }

    /// Every dispute id, oldest first.
    pub fn ids(&self) -> Vec<String> {
        self.disputes.iter().filter_map(|d| d["payment_dispute_id"].as_str().map(str::to_string)).collect()
    }

    /// The state of a dispute.
    pub fn state(&self, id: &str) -> Option<String> {
        self.disputes
            .iter()
            .find(|d| d["payment_dispute_id"] == id)
            .and_then(|d| d["state"].as_str().map(str::to_string))
    }

    /// Answers `/v4/payment/disputes/<rest>`.
    pub fn handle(&mut self, request: &SimRequest, rest: &[&str], target: &Target, now: i64) -> SimResponse {
        let payload = serde_json::from_slice::<Value>(&request.body).ok().filter(Value::is_object);
        match (request.method.as_str(), rest) {
            ("GET", []) => self.list(target),
            ("POST", ["merchants", merchant, "enroll"]) => match merchant.starts_with('N') || merchant.starts_with('K')
            {
                true => SimResponse::empty(204),
                false => errors::network(
                    403,
                    "ACCESS_ERROR",
                    "FORBIDDEN",
                    "Merchant has a partner relation. Enroll is not permitted.",
                ),
            },
            ("POST", ["partners", _, "enroll"]) => match payload.as_ref().and_then(|p| p["client_id"].as_str()) {
                Some(_) => SimResponse::empty(204),
                None => errors::network(400, "INPUT_ERROR", "VALIDATION_ERROR", "client_id is required"),
            },
            ("GET", [id]) => match self.find(id) {
                Some(d) => SimResponse::json(200, d),
                None => not_found(),
            },
            ("POST", [id, "attachments"]) => self.upload(request, id, now),
            ("GET", [id, "attachments", attachment, "download"]) => match self.find(id) {
                Some(_) if self.uploads.contains_key(*attachment) => {
                    let upload = &self.uploads[*attachment];
                    SimResponse { status: 200, headers: vec![], body: upload.bytes.clone() }
                        .with_header("Content-Type", upload.content_type.clone())
                        .with_header("Content-Disposition", format!("attachment; filename=\"{}\"", upload.filename))
                }
                Some(d)
                    if d["attachments"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|x| x["payment_dispute_attachment_id"] == *attachment)) =>
                {
                    SimResponse {
                        status: 200,
                        headers: vec![],
                        body: format!("%PDF-1.4\n% evidence {attachment}\n%%EOF\n").into_bytes(),
                    }
                    .with_header("Content-Type", "application/pdf")
                    .with_header("Content-Disposition", format!("attachment; filename=\"{attachment}.pdf\""))
                }
                Some(_) => errors::network(404, "RESOURCE_ERROR", "NOT_FOUND", "The attachment does not exist."),
                None => not_found(),
            },
            ("POST", [id, action @ ("accept-loss" | "represent" | "appeal")]) => {
                self.act(id, action, payload.as_ref(), now)
            }
            _ => errors::network(404, "RESOURCE_ERROR", "NOT_FOUND", "Unknown resource."),
        }
    }

    /// Accept loss (INITIATED or PRE_ARBITRATION → CLOSED, LOST), represent
    /// (INITIATED → REPRESENTMENT, with uploaded evidence) or appeal
    /// (PRE_ARBITRATION → ARBITRATION, with a reason); 409 in any other state.
    fn act(&mut self, id: &str, action: &str, payload: Option<&Value>, now: i64) -> SimResponse {
        let uploads = &self.uploads;
        let Some(dispute) = self.disputes.iter_mut().find(|d| d["payment_dispute_id"] == id) else {
            return not_found();
        };
        let state = dispute["state"].as_str().unwrap_or_default().to_string();
        let next = match (action, state.as_str()) {
            ("accept-loss", "INITIATED" | "PRE_ARBITRATION") => "CLOSED",
            ("represent", "INITIATED") => "REPRESENTMENT",
            ("appeal", "PRE_ARBITRATION") => "ARBITRATION",
            _ => {
                return errors::network(
                    409,
                    "RESOURCE_ERROR",
                    "CONFLICT",
                    &format!("The dispute is in state {state}, where {action} is not possible."),
                )
            }
        };
        let empty = json!({});
        let body = payload.unwrap_or(&empty);
        let invalid =
            |parameter: &str, reason: &str| errors::validation(json!({ "parameter": parameter, "reason": reason }));
        // Evidence must be files uploaded to this dispute.
        let attachments = body["attachments"].as_array().cloned().unwrap_or_default();
        let known = |a: &Value| {
            a["payment_dispute_attachment_id"].as_str().is_some_and(|x| {
                uploads.contains_key(x)
                    && dispute["attachments"]
                        .as_array()
                        .is_some_and(|l| l.iter().any(|d| d["payment_dispute_attachment_id"] == x))
            })
        };
        if !attachments.iter().all(known) {
            return invalid("attachments", "every payment_dispute_attachment_id must be uploaded to this dispute");
        }
        match action {
            "represent" => {
                if attachments.is_empty() {
                    return invalid("attachments", "at least one uploaded evidence file is required");
                }
                let disputed = dispute["dispute_details"]["dispute_amount"].as_i64().unwrap_or(0);
                if let Some(proposed) = body.get("partner_proposed_refund_amount") {
                    if !proposed.as_i64().is_some_and(|p| (0..disputed).contains(&p)) {
                        return invalid("partner_proposed_refund_amount", "must be less than the disputed amount");
                    }
                }
                dispute["partner_evidence"] = json!({
                    "created_at": clock::rfc3339(now),
                    "additional_information": body.get("additional_information"),
                    "attachments": attachments,
                });
            }
            "appeal" => {
                if body["additional_information"].as_str().is_none_or(|t| t.trim().is_empty()) {
                    return invalid("additional_information", "is required");
                }
            }
            _ => dispute["outcome"] = json!("LOST"),
        }
        dispute["previous_state"] = json!(state);
        dispute["state"] = json!(next);
        dispute["updated_at"] = json!(clock::rfc3339(now));
        SimResponse::json(200, dispute)
    }

    /// Stores an evidence file sent as the `file` part of a
    /// `multipart/form-data` body, while evidence can still be submitted
    /// (409 otherwise, e.g. once the representment is in).
    fn upload(&mut self, request: &SimRequest, id: &str, now: i64) -> SimResponse {
        let Some(dispute) = self.disputes.iter_mut().find(|d| d["payment_dispute_id"] == id) else {
            return not_found();
        };
        // Evidence goes with a representment (INITIATED) or an appeal (PRE_ARBITRATION).
        if !matches!(dispute["state"].as_str(), Some("INITIATED" | "PRE_ARBITRATION")) {
            return errors::network(
                409,
                "RESOURCE_ERROR",
                "CONFLICT",
                "The dispute is not in a state where attachments can be uploaded.",
            );
        }
        let invalid = |reason: &str| errors::validation(json!({ "parameter": "file", "reason": reason }));
        let parts = match multipart::parse(request.header("Content-Type").unwrap_or_default(), &request.body) {
            Ok(parts) => parts,
            Err(why) => return invalid(&why),
        };
        let Some(file) = parts.iter().find(|p| p.name == "file") else { return invalid("is required") };
        let content_type = file.content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        if !EVIDENCE_TYPES.contains(&content_type.as_str()) {
            return invalid("must be a PDF, JPEG, PNG or DOCX file");
        }
        if file.body.is_empty() || file.body.len() > MAX_EVIDENCE_BYTES {
            return invalid("must hold 1 byte to 7 MB");
        }
        let original = file.filename.clone().unwrap_or_else(|| "evidence".to_string());
        let filename = match parts.iter().find(|p| p.name == "filename") {
            Some(name) => {
                let name = String::from_utf8_lossy(&name.body).to_string();
                let extension = |n: &str| n.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
                if extension(&name) != extension(&original) {
                    return errors::validation(
                        json!({ "parameter": "filename", "reason": "the extension must match the uploaded file's" }),
                    );
                }
                name
            }
            None => original,
        };
        let attachment_id =
            format!("krn:payment:eu1:dispute-attachment:{}", clock::uuid(0xa77a, self.uploads.len() as u64));
        if let Some(list) = dispute["attachments"].as_array_mut() {
            list.push(json!({
                "payment_dispute_attachment_id": attachment_id,
                "description": filename,
                "mime_type": content_type,
                "created_by": "PARTNER",
            }));
        }
        dispute["updated_at"] = json!(clock::rfc3339(now));
        self.uploads.insert(attachment_id.clone(), Upload { content_type, filename, bytes: file.body.clone() });
        SimResponse::json(201, &json!({ "payment_dispute_attachment_id": attachment_id }))
    }

    fn find(&self, id: &str) -> Option<&Value> {
        self.disputes.iter().find(|d| d["payment_dispute_id"] == id)
    }

    fn list(&self, target: &Target) -> SimResponse {
        let size = match target.query("size").map(str::parse::<usize>) {
            None => DEFAULT_SIZE,
            Some(Ok(n)) if (1..=MAX_SIZE).contains(&n) => n,
            Some(_) => return errors::network(400, "INPUT_ERROR", "VALIDATION_ERROR", "size must be 1 to 100"),
        };
        let start = match target.query("starting_after") {
            None => 0,
            Some(after) => match self.disputes.iter().position(|d| d["payment_dispute_id"] == after) {
                Some(i) => i + 1,
                None => {
                    return errors::network(
                        400,
                        "INPUT_ERROR",
                        "VALIDATION_ERROR",
                        "starting_after is not a dispute id",
                    )
                }
            },
        };
        // The filters of the APIM reference (created_at and updated_at ranges, state); the
        // page goes on after `starting_after` in the list's order, matching or not.
        let matching: Vec<(usize, &Value)> = match self.filtered(target) {
            Ok(matching) => matching,
            Err(e) => return e,
        };
        let after: Vec<&Value> = matching.iter().filter(|(i, _)| *i >= start).map(|(_, d)| *d).collect();
        let page: Vec<&Value> = after.iter().take(size).copied().collect();
        let more = page.len() < after.len();
        let last_item = if more { page.last().map(|d| d["payment_dispute_id"].clone()) } else { None };
        SimResponse::json(
            200,
            &json!({
                "disputes": page,
                "pagination": {
                    "count": page.len(),
                    "total": matching.len(),
                    "first_item": page.first().map(|d| d["payment_dispute_id"].clone()),
                    "last_item": last_item,
                },
            }),
        )
    }
}

impl DisputeBook {
    /// The disputes the list's filters keep, oldest first.
    fn filtered(&self, target: &Target) -> Result<Vec<(usize, &Value)>, SimResponse> {
        let ranges = [
            ("created_at", "created_at_start", "created_at_end"),
            ("updated_at", "updated_at_start", "updated_at_end"),
        ];
        let mut bounds = vec![];
        for (field, from, to) in ranges {
            for (name, lower) in [(from, true), (to, false)] {
                if let Some(text) = target.query(name) {
                    let at = OffsetDateTime::parse(text, &Rfc3339).map_err(|_| {
                        errors::network(
                            400,
                            "INPUT_ERROR",
                            "VALIDATION_ERROR",
                            &format!("{name} is not an RFC 3339 date-time"),
                        )
                    })?;
                    bounds.push((field, lower, at));
                }
            }
        }
        let states: Vec<&str> = target.query("state").map(|s| s.split(',').collect()).unwrap_or_default();
        Ok(self
            .disputes
            .iter()
            .enumerate()
            .filter(|(_, d)| states.is_empty() || d["state"].as_str().is_some_and(|s| states.contains(&s)))
            .filter(|(_, d)| {
                bounds.iter().all(|(field, lower, at)| {
                    let value = d[*field].as_str().and_then(|v| OffsetDateTime::parse(v, &Rfc3339).ok());
                    value.is_some_and(|v| if *lower { v >= *at } else { v <= *at })
                })
            })
            .collect())
    }
}

fn not_found() -> SimResponse {
    errors::network(404, "RESOURCE_ERROR", "NOT_FOUND", "The dispute does not exist.")
}
