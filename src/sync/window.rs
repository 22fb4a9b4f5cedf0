//! The dates an incremental read goes by: a record's field read as a point
//! in time, the latest of them kept, and the window's start (that point less
//! the look-back) written as Klarna's parameter wants it. Dates are read and
//! written by the `time` crate in its RFC 3339 form only (a full date is that
//! form's first ten characters, RFC 3339 §5.6's `full-date`), which keeps its
//! general format-description machinery out of the component.

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

use crate::manifest::DateFormat;

/// The length of RFC 3339's `full-date` (`2026-01-15`).
const FULL_DATE_LEN: usize = 10;

/// A record's field value as a point in time (UTC); `None` when it is not a
/// date or date-time of `format`. A date-time field may also be read where
/// the entity's parameters take dates (and the other way round), as
/// Klarna's fields and parameters do not always agree.
pub fn read(text: &str, format: DateFormat) -> Option<OffsetDateTime> {
    let parse = |text: &str| OffsetDateTime::parse(text, &Rfc3339).ok().map(|t| t.to_offset(UtcOffset::UTC));
    let date_time = || parse(text);
    let date = || (text.len() == FULL_DATE_LEN).then(|| parse(&format!("{text}T00:00:00Z"))).flatten();
    match format {
        DateFormat::DateTime => date_time().or_else(date),
        DateFormat::Date => date().or_else(date_time),
    }
}

/// `at` as the entity's parameters and states write it.
pub fn write(at: OffsetDateTime, format: DateFormat) -> Option<String> {
    match format {
        DateFormat::DateTime => at.replace_nanosecond(0).ok()?.format(&Rfc3339).ok(),
        DateFormat::Date => {
            let text = at.format(&Rfc3339).ok()?;
            text.get(..FULL_DATE_LEN).map(str::to_string)
        }
    }
}

/// The start of the window after `high`: `lookback_days` days before it, in
/// the parameter's format (a date rounds down to its day, as Klarna reads a
/// bare date as 00:00:00). `None` when it would fall before year 1.
pub fn start(high: OffsetDateTime, lookback_days: u32, format: DateFormat) -> Option<String> {
    write(high.checked_sub(Duration::days(i64::from(lookback_days)))?, format)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_read_in_either_form() {
        let noon = read("2026-01-15T12:00:00Z", DateFormat::DateTime).expect("RFC 3339");
        assert_eq!(
            read("2026-01-15T13:00:00.250+01:00", DateFormat::DateTime).map(|t| t.replace_nanosecond(0).ok()),
            Some(Some(noon))
        );
        assert_eq!(read("2026-01-15", DateFormat::DateTime).map(|t| t.hour()), Some(0), "a bare date is 00:00:00");
        assert!(read("15.01.2026", DateFormat::Date).is_none());
        assert!(read("2026-02-30", DateFormat::Date).is_none());
    }

    #[test]
    fn the_window_starts_the_look_back_before() {
        let high = read("2026-03-01T08:30:00Z", DateFormat::DateTime).expect("RFC 3339");
        assert_eq!(start(high, 7, DateFormat::DateTime).as_deref(), Some("2026-02-22T08:30:00Z"));
        assert_eq!(start(high, 0, DateFormat::Date).as_deref(), Some("2026-03-01"));
        assert_eq!(start(high, 1, DateFormat::Date).as_deref(), Some("2026-02-28"));
        let early = read("0000-01-05", DateFormat::Date).expect("a date");
        assert_eq!(start(early, 30, DateFormat::Date), None);
    }
}
