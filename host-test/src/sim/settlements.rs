//! Settlements API v1 (`/settlements/v1/...`): seeded payouts and
//! transactions, paged with `offset`/`size` and absolute `pagination.next`
//! links, as Klarna serves them.

use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::clock;
use super::errors;
use super::http::{encode, SimResponse, Target};

/// Klarna's default page size.
const DEFAULT_SIZE: usize = 20;
/// Klarna's largest page.
const MAX_SIZE: usize = 500;

/// Seeded settlement data of one merchant.
#[derive(Debug, Default)]
pub struct Ledger {
    payouts: Vec<Value>,
    transactions: Vec<Value>,
}

impl Ledger {
    /// `transactions` transactions spread over payouts of at most 100 each,
    /// all derived from `seed`.
    pub fn seeded(transactions: usize, seed: u64) -> Self {
        let mut ledger = Ledger::default();
        let payouts = transactions.div_ceil(100).max(1);
        let mut rng = seed | 1;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        for p in 0..payouts {
            let payout_time = clock::EPOCH_START - (payouts - p) as i64 * 86_400;
            let count = (transactions - p * 100).min(100);
            ledger.add_payout(payout_time, count, &mut next);
        }
        ledger
    }

    /// A payout dated `payout_time` with `count` transactions (amounts from
    /// `next`); kept with the others newest first, as Klarna lists them.
    /// Returns its payment reference.
    pub fn add_payout(&mut self, payout_time: i64, count: usize, next: &mut dyn FnMut() -> u64) -> String {
        let p = self.payouts.len();
        let payment_reference = format!("XISA{:08}", 1000 + p);
        let first = self.transactions.len();
        let (mut sale, mut fees) = (0i64, 0i64);
        for t in 0..count {
            let n = (first + t) as u64;
            let amount = 1_000 + (next() % 50_000) as i64;
            let is_fee = t % 10 == 9;
            let (kind, detailed, signed) =
                if is_fee { ("FEE", "PURCHASE_FEE_PERCENTAGE", -(amount / 40)) } else { ("SALE", "PURCHASE", amount) };
            if is_fee {
                fees += -signed;
            } else {
                sale += signed;
            }
            let order_id = clock::uuid(0x5e77, n / 2);
            self.transactions.push(json!({
                "amount": signed,
                "capture_id": clock::uuid(0xca97, n),
                "merchant_reference1": format!("shop-{n}"),
                "sale_date": clock::rfc3339(payout_time - 3 * 86_400),
                "type": kind,
                "detailed_type": detailed,
                "capture_date": clock::rfc3339(payout_time - 2 * 86_400),
                "payment_reference": payment_reference,
                "order_id": order_id,
                "short_order_id": &order_id[..8],
                "currency_code": "EUR",
                "purchase_country": "DE",
                "vat_rate": 0,
                "vat_amount": 0,
                "shipping_country": "DE",
                "initial_payment_method_type": "invoice",
            }));
        }
        let payout = json!({
            "payment_reference": payment_reference,
            "payout_date": clock::rfc3339(payout_time),
            "currency_code": "EUR",
            "currency_code_of_registration_country": "EUR",
            "merchant_settlement_type": "NET",
            "merchant_id": "N100001",
            "transactions": format!("/settlements/v1/transactions?payment_reference={payment_reference}"),
            "totals": {
                "commission_amount": 0, "repay_amount": 0, "sale_amount": sale, "holdback_amount": 0,
                "tax_amount": 0, "settlement_amount": sale - fees, "fee_correction_amount": 0,
                "reversal_amount": 0, "release_amount": 0, "return_amount": 0, "fee_amount": fees,
                "charge_amount": 0, "credit_amount": 0, "fee_refund_amount": 0, "tax_refund_amount": 0,
                "deposit_amount": 0, "opening_debt_balance_amount": 0, "closing_debt_balance_amount": 0,
            },
        });
        let at = self.payouts.iter().position(|other| other["payout_date"].as_str() < payout["payout_date"].as_str());
        self.payouts.insert(at.unwrap_or(self.payouts.len()), payout);
        payment_reference
    }

    /// Number of transactions.
    pub fn transaction_count(&self) -> usize {
        self.transactions.len()
    }

    /// Answers `/settlements/v1/<rest>`.
    pub fn handle(&self, method: &str, rest: &[&str], target: &Target) -> SimResponse {
        if method != "GET" {
            return errors::method_not_allowed();
        }
        match rest {
            ["payouts"] => {
                let currency = target.query("currency_code");
                // Klarna: ISO 8601 date-times, a bare date read as 00:00:00 of that day.
                let (start, end) = match (bound(target, "start_date"), bound(target, "end_date")) {
                    (Ok(start), Ok(end)) => (start, end),
                    (Err(e), _) | (_, Err(e)) => return e,
                };
                let matching: Vec<&Value> = self
                    .payouts
                    .iter()
                    .filter(|p| currency.is_none_or(|c| p["currency_code"] == c))
                    .filter(|p| start.is_none_or(|s| date_of(p).is_some_and(|d| d >= s)))
                    .filter(|p| end.is_none_or(|e| date_of(p).is_some_and(|d| d <= e)))
                    .collect();
                page("payouts", &matching, target)
            }
            ["payouts", "summary"] => match period(target) {
                Ok((start, end)) => {
                    SimResponse::json(200, &Value::Array(self.summary(start, end, target.query("currency_code"))))
                }
                Err(e) => e,
            },
            ["payouts", reference] => match self.payouts.iter().find(|p| p["payment_reference"] == *reference) {
                Some(p) => SimResponse::json(200, p),
                None => errors::classic(404, "NOT_FOUND", "No payout with that payment reference."),
            },
            ["transactions"] => {
                let reference = target.query("payment_reference");
                let order = target.query("order_id");
                let matching: Vec<&Value> = self
                    .transactions
                    .iter()
                    .filter(|t| reference.is_none_or(|r| t["payment_reference"] == r))
                    .filter(|t| order.is_none_or(|o| t["order_id"] == o))
                    .collect();
                page("transactions", &matching, target)
            }
            ["reports", "payout-with-transactions"] => match self.payout_of(target) {
                Ok(reference) => self.csv(&format!("payout-{reference}.csv"), |t| t["payment_reference"] == reference),
                Err(e) => e,
            },
            ["reports", "payout"] => match self.payout_of(target) {
                Ok(reference) => pdf(&format!("payout-{reference}.pdf"), &format!("Payout {reference}")),
                Err(e) => e,
            },
            ["reports", "payouts-summary-with-transactions"] => match period(target) {
                Ok((start, end)) => {
                    let references = self.references_between(start, end);
                    self.csv(&format!("payouts-{}-{}.csv", &start[..10], &end[..10]), |t| {
                        t["payment_reference"].as_str().is_some_and(|r| references.iter().any(|x| x == r))
                    })
                }
                Err(e) => e,
            },
            ["reports", "payouts-summary"] => match period(target) {
                Ok((start, end)) => {
                    pdf(&format!("payouts-{}-{}.pdf", &start[..10], &end[..10]), &format!("Payouts {start} to {end}"))
                }
                Err(e) => e,
            },
            _ => errors::unknown_path(),
        }
    }

    /// The `payment_reference` query, which must name a payout.
    fn payout_of<'t>(&self, target: &'t Target) -> Result<&'t str, SimResponse> {
        let reference = target.query("payment_reference").ok_or_else(|| errors::bad_value("payment_reference"))?;
        if self.payouts.iter().any(|p| p["payment_reference"] == reference) {
            Ok(reference)
        } else {
            Err(errors::classic(404, "NOT_FOUND", "No payout with that payment reference."))
        }
    }

    fn references_between(&self, start: &str, end: &str) -> Vec<String> {
        self.payouts
            .iter()
            .filter(|p| p["payout_date"].as_str().is_some_and(|d| d >= start && d <= end))
            .filter_map(|p| p["payment_reference"].as_str().map(str::to_string))
            .collect()
    }

    /// Totals per currency of the payouts in the period.
    fn summary(&self, start: &str, end: &str, currency: Option<&str>) -> Vec<Value> {
        let payouts: Vec<&Value> = self
            .payouts
            .iter()
            .filter(|p| p["payout_date"].as_str().is_some_and(|d| d >= start && d <= end))
            .filter(|p| currency.is_none_or(|c| p["currency_code"] == c))
            .collect();
        let mut currencies: Vec<&str> = payouts.iter().filter_map(|p| p["currency_code"].as_str()).collect();
        currencies.sort_unstable();
        currencies.dedup();
        currencies
            .into_iter()
            .map(|code| {
                let of: Vec<&&Value> = payouts.iter().filter(|p| p["currency_code"] == code).collect();
                let sum = |key: &str| of.iter().map(|p| p["totals"][key].as_i64().unwrap_or(0)).sum::<i64>();
                let dates: Vec<&str> = of.iter().filter_map(|p| p["payout_date"].as_str()).collect();
                json!({
                    "summary_settlement_currency": code,
                    "summary_payout_date_start": dates.iter().min().copied().unwrap_or(start),
                    "summary_payout_date_end": dates.iter().max().copied().unwrap_or(end),
                    "summary_total_sale_amount": sum("sale_amount"),
                    "summary_total_fee_amount": sum("fee_amount"),
                    "summary_total_settlement_amount": sum("settlement_amount"),
                    "summary_total_fee_correction_amount": sum("fee_correction_amount"),
                    "summary_total_release_amount": sum("release_amount"),
                    "summary_total_tax_amount": sum("tax_amount"),
                    "summary_total_holdback_amount": sum("holdback_amount"),
                    "summary_total_reversal_amount": sum("reversal_amount"),
                    "summary_total_return_amount": sum("return_amount"),
                    "summary_total_commission_amount": sum("commission_amount"),
                    "summary_total_repay_amount": sum("repay_amount"),
                })
            })
            .collect()
    }

    /// A CSV report of the matching transactions.
    fn csv(&self, filename: &str, keep: impl Fn(&Value) -> bool) -> SimResponse {
        let columns = [
            "payment_reference",
            "order_id",
            "capture_id",
            "type",
            "detailed_type",
            "amount",
            "currency_code",
            "sale_date",
        ];
        let mut out = columns.join(",");
        out.push('\n');
        for t in self.transactions.iter().filter(|t| keep(t)) {
            let row: Vec<String> = columns
                .iter()
                .map(|c| t[*c].as_str().map(str::to_string).unwrap_or_else(|| t[*c].to_string()))
                .collect();
            out.push_str(&row.join(","));
            out.push('\n');
        }
        SimResponse { status: 200, headers: vec![], body: out.into_bytes() }
            .with_header("Content-Type", "text/csv")
            .with_header("Content-Disposition", format!("attachment; filename=\"{filename}\""))
    }
}

/// The date-time of a `start_date` or `end_date` parameter (absent: none),
/// as Klarna reads it: RFC 3339, or a bare date at 00:00:00 UTC.
fn bound(target: &Target, name: &str) -> Result<Option<OffsetDateTime>, SimResponse> {
    let Some(text) = target.query(name) else { return Ok(None) };
    let parsed = OffsetDateTime::parse(text, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(&format!("{text}T00:00:00Z"), &Rfc3339))
        .map_err(|_| errors::bad_value(name))?;
    Ok(Some(parsed))
}

/// A payout's `payout_date`.
fn date_of(payout: &Value) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(payout["payout_date"].as_str()?, &Rfc3339).ok()
}

/// `start_date` and `end_date`, both required for period reports.
fn period(target: &Target) -> Result<(&str, &str), SimResponse> {
    let start = target.query("start_date").filter(|d| d.len() >= 10).ok_or_else(|| errors::bad_value("start_date"))?;
    let end = target.query("end_date").filter(|d| d.len() >= 10).ok_or_else(|| errors::bad_value("end_date"))?;
    Ok((start, end))
}

/// A one-page PDF saying `title`.
fn pdf(filename: &str, title: &str) -> SimResponse {
    let text = format!("BT /F1 18 Tf 72 720 Td ({title}) Tj ET");
    let body = format!(
        "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >> endobj\n4 0 obj << /Length {} >> stream\n{text}\nendstream endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
        text.len()
    );
    SimResponse { status: 200, headers: vec![], body: body.into_bytes() }
        .with_header("Content-Type", "application/pdf")
        .with_header("Content-Disposition", format!("attachment; filename=\"{filename}\""))
}

/// One page of `items` as `{<key>: [...], pagination: {...}}`.
fn page(key: &str, items: &[&Value], target: &Target) -> SimResponse {
    let size = match target.query("size").map(str::parse::<usize>) {
        None => DEFAULT_SIZE,
        Some(Ok(n)) if (1..=MAX_SIZE).contains(&n) => n,
        Some(_) => return errors::bad_value("size"),
    };
    let offset = match target.query("offset").map(str::parse::<usize>) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return errors::bad_value("offset"),
    };
    let slice: Vec<&Value> = items.iter().skip(offset).take(size).copied().collect();
    let link = |offset: usize| {
        let mut query: Vec<String> = target
            .query
            .iter()
            .filter(|(k, _)| k != "offset" && k != "size")
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        query.push(format!("offset={offset}"));
        query.push(format!("size={size}"));
        format!("https://{}/settlements/v1/{key}?{}", target.host, query.join("&"))
    };
    let mut pagination = json!({ "count": slice.len(), "total": items.len(), "offset": offset });
    if offset + size < items.len() {
        pagination["next"] = json!(link(offset + size));
    }
    if offset > 0 {
        pagination["prev"] = json!(link(offset.saturating_sub(size)));
    }
    SimResponse::json(200, &json!({ key: slice, "pagination": pagination }))
}
