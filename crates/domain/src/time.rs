use std::fmt;

/// An instant in UTC, milliseconds since the Unix epoch: the resolution devices report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const fn from_millis(ms: i64) -> Timestamp {
        Timestamp(ms)
    }

    pub const fn from_secs(s: i64) -> Timestamp {
        Timestamp(s.saturating_mul(1000))
    }

    pub const fn millis(self) -> i64 {
        self.0
    }

    pub fn to_offset_date_time(self) -> Option<::time::OffsetDateTime> {
        ::time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000).ok()
    }

    /// RFC 3339 in UTC, with milliseconds only when they are not zero.
    pub fn rfc3339(self) -> String {
        let Some(t) = self.to_offset_date_time() else {
            return format!("@{}ms", self.0);
        };
        let (y, mo, d) = (t.year(), u8::from(t.month()), t.day());
        let (h, mi, s, ms) = (t.hour(), t.minute(), t.second(), t.millisecond());
        if ms == 0 {
            format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
        } else {
            format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
        }
    }

    /// Parses RFC 3339 (any offset) into UTC.
    pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
        let t = ::time::OffsetDateTime::parse(s, &::time::format_description::well_known::Rfc3339)
            .ok()?;
        i64::try_from(t.unix_timestamp_nanos() / 1_000_000)
            .ok()
            .map(Timestamp)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips() {
        let t = Timestamp::from_millis(1_546_604_839_000);
        assert_eq!(t.rfc3339(), "2019-01-04T12:27:19Z");
        assert_eq!(
            Timestamp::parse_rfc3339("2019-01-04T13:27:19+01:00"),
            Some(t)
        );
        let t = Timestamp::from_millis(1_546_604_839_250);
        assert_eq!(t.rfc3339(), "2019-01-04T12:27:19.250Z");
        assert_eq!(Timestamp::parse_rfc3339(&t.rfc3339()), Some(t));
    }
}
