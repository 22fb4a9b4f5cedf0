//! Klarna's order-data rules, checked before an order is sent
//! (Klarna's order-line rules, listed in docs/manifest.md): integer minor units, line totals,
//! line tax, order totals, at most 1000 lines, a complete `subscription` on
//! recurring lines, and a purchase country, currency and locale that Klarna
//! supports together.

use crate::error::{ConnectorError, Result};
use serde_json::{Map, Value};

/// Klarna accepts at most this many order lines.
pub const MAX_ORDER_LINES: usize = 1000;

/// The cadence units of a subscription order line.
const SUBSCRIPTION_INTERVALS: [&str; 4] = ["DAY", "WEEK", "MONTH", "YEAR"];

/// Country → (currency, locales), Klarna Payments' supported combinations.
const MARKETS: &[(&str, &str, &[&str])] = &[
    ("AT", "EUR", &["de-AT", "en-AT"]),
    ("BE", "EUR", &["nl-BE", "fr-BE", "be-BE", "en-BE"]),
    ("CA", "CAD", &["en-CA", "fr-CA"]),
    ("CZ", "CZK", &["cs-CZ", "en-CZ"]),
    ("DK", "DKK", &["da-DK", "en-DK"]),
    ("FI", "EUR", &["fi-FI", "sv-FI", "en-FI"]),
    ("FR", "EUR", &["fr-FR", "en-FR"]),
    ("DE", "EUR", &["de-DE", "en-DE"]),
    ("GR", "EUR", &["el-GR", "en-GR"]),
    ("IE", "EUR", &["en-IE"]),
    ("IT", "EUR", &["it-IT", "en-IT"]),
    ("NL", "EUR", &["nl-NL", "en-NL"]),
    ("NZ", "NZD", &["en-NZ"]),
    ("NO", "NOK", &["nb-NO", "en-NO"]),
    ("PL", "PLN", &["pl-PL", "en-PL"]),
    ("PT", "EUR", &["pt-PT", "en-PT"]),
    ("ES", "EUR", &["es-ES", "en-ES"]),
    ("SE", "SEK", &["sv-SE", "en-SE"]),
    ("CH", "CHF", &["de-CH", "fr-CH", "it-CH", "en-CH"]),
    ("GB", "GBP", &["en-GB"]),
    ("US", "USD", &["en-US", "es-US"]),
    ("AU", "AUD", &["en-AU"]),
];

/// Checks the order in `payload` (a JSON object); the first violation names
/// the field and both numbers, e.g.
/// `order_lines[2].total_amount: expected 1800 (2 × 1000 − 200), got 1900`.
pub fn check(payload: &Value) -> Result<()> {
    let Some(order) = payload.as_object() else { return Ok(()) };
    check_market(order)?;
    let order_amount = optional_amount(order, "order_amount", "")?;
    let order_tax = optional_amount(order, "order_tax_amount", "")?;
    let Some(lines) = order.get("order_lines") else { return Ok(()) };
    let lines =
        lines.as_array().ok_or_else(|| ConnectorError::input("params.payload.order_lines", "must be a list"))?;
    if lines.len() > MAX_ORDER_LINES {
        return Err(ConnectorError::input(
            "params.payload.order_lines",
            format!("{} lines is over Klarna's limit of {MAX_ORDER_LINES}", lines.len()),
        ));
    }
    let (mut sum_total, mut sum_tax, mut sales_tax) = (0i64, 0i64, 0i64);
    for (index, line) in lines.iter().enumerate() {
        let at = format!("order_lines[{index}]");
        let line = line
            .as_object()
            .ok_or_else(|| ConnectorError::input(format!("params.payload.{at}"), "must be an object"))?;
        let (total, tax) = check_line(line, &at)?;
        let too_large = |what: &str| {
            ConnectorError::input(
                "params.payload.order_lines",
                format!("the sum of the lines' {what} is too large to be an amount in minor units"),
            )
        };
        sum_total = sum_total.checked_add(total).ok_or_else(|| too_large("total_amount"))?;
        sum_tax = sum_tax.checked_add(tax).ok_or_else(|| too_large("total_tax_amount"))?;
        if line.get("type").and_then(Value::as_str) == Some("sales_tax") {
            sales_tax = sales_tax.checked_add(total).ok_or_else(|| too_large("sales_tax total_amount"))?;
        }
    }
    if let Some(amount) = order_amount {
        if amount != sum_total {
            return Err(ConnectorError::input(
                "params.payload.order_amount",
                format!("expected {sum_total} (the sum of the order lines' total_amount), got {amount}"),
            ));
        }
    }
    if let Some(tax) = order_tax {
        let us = order.get("purchase_country").and_then(Value::as_str).is_some_and(|c| c.eq_ignore_ascii_case("US"));
        let (expected, how) = if us {
            (sales_tax, "the sum of the sales_tax lines (US sales tax)")
        } else {
            (sum_tax, "the sum of the order lines' total_tax_amount")
        };
        if tax != expected {
            return Err(ConnectorError::input(
                "params.payload.order_tax_amount",
                format!("expected {expected} ({how}), got {tax}"),
            ));
        }
    }
    Ok(())
}

/// Checks one line; returns its total and tax.
fn check_line(line: &Map<String, Value>, at: &str) -> Result<(i64, i64)> {
    let quantity = optional_amount(line, "quantity", at)?;
    let unit_price = optional_amount(line, "unit_price", at)?;
    let discount = optional_amount(line, "total_discount_amount", at)?.unwrap_or(0);
    let total = optional_amount(line, "total_amount", at)?;
    let tax_rate = optional_amount(line, "tax_rate", at)?;
    let tax = optional_amount(line, "total_tax_amount", at)?;
    if let Some(q) = quantity {
        if q < 0 {
            return Err(ConnectorError::input(
                format!("params.payload.{at}.quantity"),
                format!("must not be negative, got {q}"),
            ));
        }
    }
    if let Some(rate) = tax_rate {
        if !(0..=10_000).contains(&rate) {
            return Err(ConnectorError::input(
                format!("params.payload.{at}.tax_rate"),
                format!("must be 0 to 10000 (two implicit decimals: 2500 = 25 %), got {rate}"),
            ));
        }
    }
    if discount < 0 {
        return Err(ConnectorError::input(
            format!("params.payload.{at}.total_discount_amount"),
            format!("must not be negative, got {discount}"),
        ));
    }
    let total = match (quantity, unit_price, total) {
        (Some(q), Some(p), Some(t)) => {
            // Each value is bounded, but their product need not fit in 64 bits.
            let expected = q.checked_mul(p).and_then(|gross| gross.checked_sub(discount)).ok_or_else(|| {
                ConnectorError::input(
                    format!("params.payload.{at}.total_amount"),
                    format!("{q} × {p} − {discount} is too large to be an amount in minor units"),
                )
            })?;
            if t != expected {
                return Err(ConnectorError::input(
                    format!("params.payload.{at}.total_amount"),
                    format!("expected {expected} ({q} × {p} − {discount}), got {t}"),
                ));
            }
            t
        }
        (_, _, Some(t)) => t,
        (_, _, None) => return Err(ConnectorError::input(format!("params.payload.{at}.total_amount"), "required")),
    };
    if let (Some(rate), Some(tax)) = (tax_rate, tax) {
        // total − total × 10000 / (10000 + tax_rate), within ±1 (Klarna's tolerance).
        // |total| ≤ 1e12 and 0 ≤ rate ≤ 10000 were checked, so this cannot overflow.
        let expected = total - total * 10_000 / (10_000 + rate);
        if tax.abs_diff(expected) > 1 {
            return Err(ConnectorError::input(
                format!("params.payload.{at}.total_tax_amount"),
                format!("expected {expected} ± 1 ({total} − {total} × 10000 / (10000 + {rate})), got {tax}"),
            ));
        }
    }
    if let Some(subscription) = line.get("subscription") {
        check_subscription(subscription, &format!("params.payload.{at}.subscription"))?;
    }
    Ok((total, tax.unwrap_or(0)))
}

/// A recurring line's `subscription`: `name` (1 to 255 characters), `interval`
/// (DAY, WEEK, MONTH or YEAR) and `interval_count` (at least 1), all required.
fn check_subscription(subscription: &Value, at: &str) -> Result<()> {
    let Some(subscription) = subscription.as_object() else {
        return Err(ConnectorError::input(at, "must be an object {name, interval, interval_count}"));
    };
    let name = subscription.get("name").and_then(Value::as_str).map(|n| n.chars().count());
    if !name.is_some_and(|n| (1..=255).contains(&n)) {
        return Err(ConnectorError::input(format!("{at}.name"), "required, 1 to 255 characters"));
    }
    let interval = subscription.get("interval").and_then(Value::as_str);
    if !interval.is_some_and(|i| SUBSCRIPTION_INTERVALS.contains(&i)) {
        return Err(ConnectorError::input(
            format!("{at}.interval"),
            format!("required, one of {}", SUBSCRIPTION_INTERVALS.join(", ")),
        ));
    }
    if subscription.get("interval_count").and_then(Value::as_i64).is_none_or(|n| n < 1) {
        return Err(ConnectorError::input(format!("{at}.interval_count"), "required, a whole number of at least 1"));
    }
    Ok(())
}

/// An amount that must be a whole number of minor units, when present.
fn optional_amount(object: &Map<String, Value>, key: &str, at: &str) -> Result<Option<i64>> {
    let field = if at.is_empty() { format!("params.payload.{key}") } else { format!("params.payload.{at}.{key}") };
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(v) if v.unsigned_abs() <= 1_000_000_000_000 => Ok(Some(v)),
            _ => Err(ConnectorError::input(
                field,
                format!("must be a whole number in minor units (25 EUR = 2500), got {n}"),
            )),
        },
        Some(other) => Err(ConnectorError::input(field, format!("must be a whole number in minor units, got {other}"))),
    }
}

/// Country, currency and locale must be a combination Klarna supports.
fn check_market(order: &Map<String, Value>) -> Result<()> {
    let text = |key: &str| order.get(key).and_then(Value::as_str);
    let Some(country) = text("purchase_country") else { return Ok(()) };
    let Some((country_code, currency, locales)) = MARKETS.iter().find(|(c, _, _)| c.eq_ignore_ascii_case(country))
    else {
        let known: Vec<_> = MARKETS.iter().map(|m| m.0).collect();
        return Err(ConnectorError::input(
            "params.payload.purchase_country",
            format!("{country:?} is not a Klarna purchase country ({})", known.join(", ")),
        ));
    };
    if let Some(given) = text("purchase_currency") {
        if !given.eq_ignore_ascii_case(currency) {
            return Err(ConnectorError::input(
                "params.payload.purchase_currency",
                format!("{country_code} purchases are in {currency}, got {given}"),
            ));
        }
    }
    if let Some(locale) = text("locale") {
        if !locales.iter().any(|l| l.eq_ignore_ascii_case(locale)) {
            return Err(ConnectorError::input(
                "params.payload.locale",
                format!("{country_code} supports {}, got {locale}", locales.join(", ")),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn order() -> Value {
        json!({
            "purchase_country": "DE", "purchase_currency": "EUR", "locale": "de-DE",
            "order_amount": 3800, "order_tax_amount": 607,
            "order_lines": [
                {"name": "Shirt", "quantity": 2, "unit_price": 1000, "total_discount_amount": 200, "total_amount": 1800, "tax_rate": 1900, "total_tax_amount": 287},
                {"name": "Shoes", "quantity": 1, "unit_price": 2000, "total_amount": 2000, "tax_rate": 1900, "total_tax_amount": 319},
                {"type": "discount", "name": "Voucher", "quantity": 1, "unit_price": 0, "total_amount": 0, "tax_rate": 1900, "total_tax_amount": 1},
            ]
        })
    }

    fn message(payload: Value) -> String {
        match check(&payload) {
            Err(ConnectorError::InvalidInput(m)) => m,
            other => panic!("expected invalid-input, got {other:?}"),
        }
    }

    #[test]
    fn a_consistent_order_passes() {
        assert_eq!(check(&order()), Ok(()));
    }

    #[test]
    fn subscription_lines_need_name_interval_and_count() {
        let mut o = order();
        o["order_lines"][0]["subscription"] = json!({"name": "Coffee club", "interval": "MONTH", "interval_count": 1});
        assert!(check(&o).is_ok());
        let cases = [
            (json!({"interval": "MONTH", "interval_count": 1}), "subscription.name: required, 1 to 255 characters"),
            (json!({"name": "x", "interval": "month", "interval_count": 1}), "subscription.interval: required, one of"),
            (json!({"name": "x", "interval": "WEEK", "interval_count": 0}), "subscription.interval_count: required"),
            (json!("monthly"), "subscription: must be an object"),
        ];
        for (subscription, expected) in cases {
            let mut o = order();
            o["order_lines"][0]["subscription"] = subscription;
            let m = message(o);
            assert!(m.starts_with(&format!("params.payload.order_lines[0].{expected}")), "{m}");
        }
    }

    #[test]
    fn each_rule_names_the_field_and_both_numbers() {
        let mut o = order();
        o["order_lines"][0]["total_amount"] = json!(1900);
        assert_eq!(message(o), "params.payload.order_lines[0].total_amount: expected 1800 (2 × 1000 − 200), got 1900");
        let mut o = order();
        o["order_lines"][1]["total_tax_amount"] = json!(330);
        assert_eq!(
            message(o),
            "params.payload.order_lines[1].total_tax_amount: expected 320 ± 1 (2000 − 2000 × 10000 / (10000 + 1900)), got 330"
        );
        let mut o = order();
        o["order_amount"] = json!(3900);
        assert_eq!(
            message(o),
            "params.payload.order_amount: expected 3800 (the sum of the order lines' total_amount), got 3900"
        );
        let mut o = order();
        o["order_tax_amount"] = json!(600);
        assert!(message(o).starts_with("params.payload.order_tax_amount: expected 607"));
        let mut o = order();
        o["order_amount"] = json!(38.0);
        assert!(message(o).starts_with("params.payload.order_amount: must be a whole number in minor units"));
        let mut o = order();
        o["purchase_currency"] = json!("SEK");
        assert_eq!(message(o), "params.payload.purchase_currency: DE purchases are in EUR, got SEK");
        let mut o = order();
        o["locale"] = json!("sv-SE");
        assert_eq!(message(o), "params.payload.locale: DE supports de-DE, en-DE, got sv-SE");
        let mut o = order();
        o["order_lines"] = json!(vec![json!({"quantity": 1, "unit_price": 1, "total_amount": 1}); 1001]);
        o["order_amount"] = json!(1001);
        o["order_tax_amount"] = json!(0);
        assert_eq!(message(o), "params.payload.order_lines: 1001 lines is over Klarna's limit of 1000");
    }

    #[test]
    fn amounts_whose_product_or_sum_overflows_are_invalid_input() {
        let mut o = order();
        o["order_lines"][0]["quantity"] = json!(10_000_000_000i64);
        o["order_lines"][0]["unit_price"] = json!(10_000_000_000i64);
        o["order_lines"][0]["total_discount_amount"] = json!(0);
        assert_eq!(
            message(o),
            "params.payload.order_lines[0].total_amount: 10000000000 × 10000000000 − 0 is too large to be an amount in minor units"
        );
        let big = 1_000_000_000_000i64;
        let line = json!({"quantity": 1, "unit_price": big, "total_amount": big});
        let o = json!({"order_lines": vec![line; 1000]});
        // 1000 × 1e12 fits in i64: the sum is checked, not refused.
        assert_eq!(check(&o), Ok(()));
        // i64::MIN has no absolute value in i64: it must not slip past the bound.
        let mut o = order();
        o["order_lines"][0]["unit_price"] = json!(i64::MIN);
        assert!(message(o).starts_with("params.payload.order_lines[0].unit_price: must be a whole number"));
        let line = json!({"quantity": -1, "unit_price": big, "total_amount": -big});
        let o = json!({"order_lines": [line]});
        assert!(message(o).starts_with("params.payload.order_lines[0].quantity: must not be negative"));
    }

    #[test]
    fn us_orders_carry_tax_as_sales_tax_lines() {
        let us = json!({
            "purchase_country": "US", "purchase_currency": "USD", "locale": "en-US",
            "order_amount": 1066, "order_tax_amount": 66,
            "order_lines": [
                {"name": "Mug", "quantity": 1, "unit_price": 1000, "total_amount": 1000},
                {"type": "sales_tax", "name": "Tax", "quantity": 1, "unit_price": 66, "total_amount": 66},
            ]
        });
        assert_eq!(check(&us), Ok(()));
    }
}
