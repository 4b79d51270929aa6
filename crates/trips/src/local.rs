//! Norwegian local time, for dating trips.
//!
//! Norway keeps CET (UTC+1) and summer time (UTC+2) from 01:00 UTC on the last Sunday of March
//! to 01:00 UTC on the last Sunday of October (forskrift om sommertid, the EU rule since 1996).
//! That rule is computed here rather than pulling in a time-zone database; dates before 1996
//! get it too, which is wrong only for trips nobody will log.

use domain::Timestamp;
use time::{Date, Month, OffsetDateTime, UtcOffset, Weekday};

fn last_sunday(year: i32, month: Month) -> Option<Date> {
    let last = Date::from_calendar_date(year, month, 31).ok()?;
    let back = match last.weekday() {
        Weekday::Sunday => 0,
        w => w.number_days_from_sunday(),
    };
    last.checked_sub(time::Duration::days(i64::from(back)))
}

fn hours(h: i8) -> UtcOffset {
    UtcOffset::from_hms(h, 0, 0).unwrap_or(UtcOffset::UTC)
}

/// The UTC offset in force in Norway at `t`.
pub fn oslo_offset(t: Timestamp) -> UtcOffset {
    let Some(utc) = t.to_offset_date_time() else {
        return hours(1);
    };
    let year = utc.year();
    let switch = |m: Month| {
        last_sunday(year, m)
            .and_then(|d| d.with_hms(1, 0, 0).ok())
            .map(|dt| dt.assume_utc())
    };
    match (switch(Month::March), switch(Month::October)) {
        (Some(on), Some(off)) if utc >= on && utc < off => hours(2),
        _ => hours(1),
    }
}

/// The local Norwegian date at `t`.
/// Total: a time outside what the calendar holds (beyond year 9999, or whose local time would
/// be) gives the UTC date, or the epoch's, never a panic.
pub fn oslo_date(t: Timestamp) -> Date {
    let utc = t
        .to_offset_date_time()
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    utc.checked_to_offset(oslo_offset(t)).unwrap_or(utc).date()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).expect("valid time")
    }

    #[test]
    fn summer_and_winter_offsets() {
        assert_eq!(oslo_offset(ts("2024-01-15T12:00:00Z")).whole_hours(), 1);
        assert_eq!(oslo_offset(ts("2024-07-15T12:00:00Z")).whole_hours(), 2);
        // 2024: summer time from 31 March 01:00 UTC to 27 October 01:00 UTC.
        assert_eq!(oslo_offset(ts("2024-03-31T00:59:59Z")).whole_hours(), 1);
        assert_eq!(oslo_offset(ts("2024-03-31T01:00:00Z")).whole_hours(), 2);
        assert_eq!(oslo_offset(ts("2024-10-27T00:59:59Z")).whole_hours(), 2);
        assert_eq!(oslo_offset(ts("2024-10-27T01:00:00Z")).whole_hours(), 1);
    }

    #[test]
    fn local_date_after_utc_midnight_shift() {
        // 23:30 UTC on 31 January is 00:30 on 1 February in Oslo.
        let d = oslo_date(ts("2024-01-31T23:30:00Z"));
        assert_eq!((d.month(), d.day()), (Month::February, 1));
        let d = oslo_date(ts("2024-06-30T21:59:00Z"));
        assert_eq!((d.month(), d.day()), (Month::June, 30));
        let d = oslo_date(ts("2024-06-30T22:00:00Z"));
        assert_eq!((d.month(), d.day()), (Month::July, 1));
    }

    #[test]
    fn every_timestamp_has_a_date() {
        // 9999-12-31T23:30Z is past the calendar in Oslo time; extremes are past it in UTC.
        for ms in [253_402_299_000_000, i64::MAX, i64::MIN, 0, -1] {
            let _ = oslo_date(Timestamp::from_millis(ms));
            let _ = oslo_offset(Timestamp::from_millis(ms));
        }
        assert_eq!(
            oslo_date(Timestamp::from_millis(253_402_299_000_000)).year(),
            9999
        );
    }
}
