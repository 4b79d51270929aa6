use std::fmt;
use std::str::FromStr;

/// A value that failed to parse, with what would have been valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {value:?} is not valid: {expected}")]
pub struct ParseError {
    pub what: &'static str,
    pub value: String,
    pub expected: &'static str,
}

fn err(what: &'static str, value: &str, expected: &'static str) -> ParseError {
    // Truncated by characters: a byte cut could fall inside a multi-byte character.
    let value = value.chars().take(80).collect();
    ParseError {
        what,
        value,
        expected,
    }
}

macro_rules! row_id {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub i64);
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

row_id!(
    /// A device as Sporvern knows it (its row in the organisation).
    DeviceId
);
row_id!(
    /// A vehicle as Sporvern knows it.
    VehicleId
);
row_id!(
    /// An employee (current or former: e-postforskriften protects both).
    EmployeeId
);
row_id!(
    /// A named site: customer, depot, building site.
    SiteId
);

/// A 15-digit IMEI, the identity a Teltonika device sends in its handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Imei(u64);

impl Imei {
    pub fn parse(s: &str) -> Result<Imei, ParseError> {
        const EXPECTED: &str = "an IMEI is 15 decimal digits";
        if s.len() != 15 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err("IMEI", s, EXPECTED));
        }
        s.parse().map(Imei).map_err(|_| err("IMEI", s, EXPECTED))
    }

    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Imei {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:015}", self.0)
    }
}

/// The device protocols Sporvern speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    /// Teltonika Codec 8 / 8E / 16 over TCP and UDP.
    Teltonika,
    /// The OsmAnd HTTP protocol (the Traccar Client phone app).
    Osmand,
    /// OwnTracks JSON over HTTP.
    Owntracks,
}

impl Protocol {
    pub const ALL: [Protocol; 3] = [Protocol::Teltonika, Protocol::Osmand, Protocol::Owntracks];

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Teltonika => "teltonika",
            Protocol::Osmand => "osmand",
            Protocol::Owntracks => "owntracks",
        }
    }

    pub fn parse(s: &str) -> Result<Protocol, ParseError> {
        Protocol::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| err("protocol", s, "one of teltonika, osmand, owntracks"))
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Protocol {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Protocol::parse(s)
    }
}

/// The identity a device reports for itself: the IMEI for Teltonika, the `id` for OsmAnd,
/// `user/device` for OwnTracks.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExternalId(String);

impl ExternalId {
    pub fn parse(protocol: Protocol, s: &str) -> Result<ExternalId, ParseError> {
        if protocol == Protocol::Teltonika {
            return Imei::parse(s).map(|i| ExternalId(i.to_string()));
        }
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._:/-@".contains(&b));
        if ok {
            Ok(ExternalId(s.to_owned()))
        } else {
            Err(err(
                "device id",
                s,
                "1 to 64 characters of letters, digits and . _ : / - @",
            ))
        }
    }

    pub fn from_imei(imei: Imei) -> ExternalId {
        ExternalId(imei.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ExternalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A Norwegian registration number (kjennemerke), normalised to upper case without spaces,
/// e.g. `EK12345`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RegNo(String);

impl RegNo {
    pub fn parse(s: &str) -> Result<RegNo, ParseError> {
        let norm: String = s
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .flat_map(char::to_uppercase)
            .collect();
        let ok = (2..=10).contains(&norm.chars().count())
            && norm
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "ÆØÅ".contains(c));
        if ok {
            Ok(RegNo(norm))
        } else {
            Err(err(
                "registration number",
                s,
                "2 to 10 letters and digits, e.g. \"EK 12345\"",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RegNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Car or van: the tax rules differ (vans valued individually are taxed per km of private use).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VehicleKind {
    Car,
    Van,
}

impl VehicleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            VehicleKind::Car => "car",
            VehicleKind::Van => "van",
        }
    }

    pub fn parse(s: &str) -> Result<VehicleKind, ParseError> {
        match s {
            "car" => Ok(VehicleKind::Car),
            "van" => Ok(VehicleKind::Van),
            _ => Err(err("vehicle kind", s, "car or van")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imei_is_fifteen_digits() {
        assert_eq!(
            Imei::parse("123456789012345").map(|i| i.to_string()),
            Ok("123456789012345".into())
        );
        assert_eq!(
            Imei::parse("012345678901234").map(|i| i.as_u64()),
            Ok(12345678901234)
        );
        assert!(Imei::parse("12345678901234").is_err());
        assert!(Imei::parse("12345678901234x").is_err());
        assert!(Imei::parse("+23456789012345").is_err());
    }

    #[test]
    fn long_non_ascii_input_is_an_error_not_a_panic() {
        let long = format!("a{}", "ø".repeat(50));
        assert!(RegNo::parse(&long).is_err());
        assert!(ExternalId::parse(Protocol::Osmand, &long).is_err());
    }

    #[test]
    fn regno_normalises() {
        assert_eq!(
            RegNo::parse("ek 12345").map(|r| r.to_string()),
            Ok("EK12345".into())
        );
        assert!(RegNo::parse("E").is_err());
        assert!(RegNo::parse("EK 12345; drop").is_err());
    }

    #[test]
    fn external_id_rules_per_protocol() {
        assert!(ExternalId::parse(Protocol::Osmand, "123456").is_ok());
        assert!(ExternalId::parse(Protocol::Owntracks, "anna/phone").is_ok());
        assert!(ExternalId::parse(Protocol::Osmand, "").is_err());
        assert!(ExternalId::parse(Protocol::Osmand, "a b").is_err());
        assert!(ExternalId::parse(Protocol::Teltonika, "123456").is_err());
    }
}
