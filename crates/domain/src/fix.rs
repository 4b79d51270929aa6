//! A fix: one record a device sent, as it arrived, before any purpose has looked at it.
//!
//! Fixes live only in the staging area (see `storage::staging`); no user-facing path reads
//! them. The purpose engine takes them and keeps per purpose only what that purpose may have.

use crate::Timestamp;

/// A WGS 84 position. Constructed only through [`Position::new`], which rejects values outside
/// the globe.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Position {
    lat: f64,
    lon: f64,
}

impl Position {
    pub fn new(lat: f64, lon: f64) -> Option<Position> {
        let ok = lat.is_finite() && lon.is_finite() && lat.abs() <= 90.0 && lon.abs() <= 180.0;
        ok.then_some(Position { lat, lon })
    }

    pub fn lat(self) -> f64 {
        self.lat
    }

    pub fn lon(self) -> f64 {
        self.lon
    }

    /// Great-circle distance in metres (haversine; ample for trip lengths).
    pub fn distance_m(self, other: Position) -> f64 {
        const R: f64 = 6_371_008.8;
        let (p1, p2) = (self.lat.to_radians(), other.lat.to_radians());
        let dp = p2 - p1;
        let dl = (other.lon - self.lon).to_radians();
        let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * R * a.sqrt().asin()
    }
}

/// The key of a device-specific value: a numeric IO id (Teltonika) or a named key (OsmAnd,
/// OwnTracks).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AttrKey {
    Io(u16),
    Named(String),
}

impl std::fmt::Display for AttrKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AttrKey::Io(id) => write!(f, "io:{id}"),
            AttrKey::Named(n) => write!(f, "{n}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum AttrValue {
    Int(i64),
    Float(f64),
    Bool(bool),
    Text(String),
    Bytes(Vec<u8>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Attribute {
    pub key: AttrKey,
    pub value: AttrValue,
}

/// One record from a device, as received. `speed_kmh` and the attributes are exactly the
/// detail the purposes must drop unless they may have it.
#[derive(Clone, Debug, PartialEq)]
pub struct Fix {
    pub time: Timestamp,
    /// `None` when the device had no valid fix (e.g. Teltonika with 0 satellites).
    pub position: Option<Position>,
    pub altitude_m: Option<f32>,
    pub course_deg: Option<u16>,
    pub satellites: Option<u8>,
    pub speed_kmh: Option<f32>,
    pub attributes: Vec<Attribute>,
}

/// The kinds of data a device can send, named for the people who decide what a purpose may
/// keep (seed 001, "Registrering av detaljopplysninger": the employer must know what the unit
/// registers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FieldKind {
    Position,
    Time,
    Speed,
    Odometer,
    Ignition,
    Movement,
    DriverId,
    Fuel,
    Rpm,
    HarshEvent,
    Crash,
    Idling,
    Pedal,
    GForce,
    DigitalInput,
    Alarm,
    Towing,
    Jamming,
    Unplug,
    Overspeed,
    Battery,
    ExternalPower,
    Signal,
    Accuracy,
    Activity,
    Vin,
    Other,
}

impl FieldKind {
    pub const ALL: [FieldKind; 27] = [
        FieldKind::Position,
        FieldKind::Time,
        FieldKind::Speed,
        FieldKind::Odometer,
        FieldKind::Ignition,
        FieldKind::Movement,
        FieldKind::DriverId,
        FieldKind::Fuel,
        FieldKind::Rpm,
        FieldKind::HarshEvent,
        FieldKind::Crash,
        FieldKind::Idling,
        FieldKind::Pedal,
        FieldKind::GForce,
        FieldKind::DigitalInput,
        FieldKind::Alarm,
        FieldKind::Towing,
        FieldKind::Jamming,
        FieldKind::Unplug,
        FieldKind::Overspeed,
        FieldKind::Battery,
        FieldKind::ExternalPower,
        FieldKind::Signal,
        FieldKind::Accuracy,
        FieldKind::Activity,
        FieldKind::Vin,
        FieldKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::Position => "position",
            FieldKind::Time => "time",
            FieldKind::Speed => "speed",
            FieldKind::Odometer => "odometer",
            FieldKind::Ignition => "ignition",
            FieldKind::Movement => "movement",
            FieldKind::DriverId => "driver_id",
            FieldKind::Fuel => "fuel",
            FieldKind::Rpm => "rpm",
            FieldKind::HarshEvent => "harsh_events",
            FieldKind::Crash => "crash",
            FieldKind::Idling => "idling",
            FieldKind::Pedal => "pedal",
            FieldKind::GForce => "g_force",
            FieldKind::DigitalInput => "digital_input",
            FieldKind::Alarm => "alarm",
            FieldKind::Towing => "towing",
            FieldKind::Jamming => "jamming",
            FieldKind::Unplug => "unplug",
            FieldKind::Overspeed => "overspeed",
            FieldKind::Battery => "battery",
            FieldKind::ExternalPower => "external_power",
            FieldKind::Signal => "signal",
            FieldKind::Accuracy => "accuracy",
            FieldKind::Activity => "activity",
            FieldKind::Vin => "vin",
            FieldKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<FieldKind> {
        FieldKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("staged attributes are corrupt at byte {at}: {what}")]
pub struct AttributeDecodeError {
    pub at: usize,
    pub what: &'static str,
}

/// A compact binary form of a fix's attributes, for the staging area. Self-describing so
/// that a later version can read what an earlier one staged.
pub mod encoding {
    use super::{AttrKey, AttrValue, Attribute, AttributeDecodeError};

    const KEY_IO: u8 = 0;
    const KEY_NAMED: u8 = 1;
    const V_INT: u8 = 0;
    const V_FLOAT: u8 = 1;
    const V_BOOL: u8 = 2;
    const V_TEXT: u8 = 3;
    const V_BYTES: u8 = 4;

    pub fn encode(attrs: &[Attribute], out: &mut Vec<u8>) {
        for a in attrs {
            match &a.key {
                AttrKey::Io(id) => {
                    out.push(KEY_IO);
                    out.extend_from_slice(&id.to_be_bytes());
                }
                AttrKey::Named(n) => {
                    out.push(KEY_NAMED);
                    put_bytes(out, n.as_bytes());
                }
            }
            match &a.value {
                AttrValue::Int(v) => {
                    out.push(V_INT);
                    out.extend_from_slice(&v.to_be_bytes());
                }
                AttrValue::Float(v) => {
                    out.push(V_FLOAT);
                    out.extend_from_slice(&v.to_be_bytes());
                }
                AttrValue::Bool(v) => {
                    out.push(V_BOOL);
                    out.push(u8::from(*v));
                }
                AttrValue::Text(s) => {
                    out.push(V_TEXT);
                    put_bytes(out, s.as_bytes());
                }
                AttrValue::Bytes(b) => {
                    out.push(V_BYTES);
                    put_bytes(out, b);
                }
            }
        }
    }

    fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
        let len = u16::try_from(b.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&b[..usize::from(len)]);
    }

    struct Reader<'a> {
        buf: &'a [u8],
        at: usize,
    }

    impl<'a> Reader<'a> {
        fn take(&mut self, n: usize) -> Result<&'a [u8], AttributeDecodeError> {
            let end = self.at.checked_add(n).filter(|e| *e <= self.buf.len());
            let end = end.ok_or(AttributeDecodeError {
                at: self.at,
                what: "truncated",
            })?;
            let s = &self.buf[self.at..end];
            self.at = end;
            Ok(s)
        }
        fn u8(&mut self) -> Result<u8, AttributeDecodeError> {
            Ok(self.take(1)?[0])
        }
        fn array<const N: usize>(&mut self) -> Result<[u8; N], AttributeDecodeError> {
            let mut a = [0u8; N];
            a.copy_from_slice(self.take(N)?);
            Ok(a)
        }
        fn bytes(&mut self) -> Result<&'a [u8], AttributeDecodeError> {
            let len = u16::from_be_bytes(self.array()?);
            self.take(usize::from(len))
        }
        fn text(&mut self) -> Result<String, AttributeDecodeError> {
            let at = self.at;
            String::from_utf8(self.bytes()?.to_vec()).map_err(|_| AttributeDecodeError {
                at,
                what: "text is not UTF-8",
            })
        }
    }

    pub fn decode(buf: &[u8]) -> Result<Vec<Attribute>, AttributeDecodeError> {
        let mut r = Reader { buf, at: 0 };
        let mut out = Vec::new();
        while r.at < buf.len() {
            let key = match r.u8()? {
                KEY_IO => AttrKey::Io(u16::from_be_bytes(r.array()?)),
                KEY_NAMED => AttrKey::Named(r.text()?),
                _ => {
                    return Err(AttributeDecodeError {
                        at: r.at - 1,
                        what: "unknown key tag",
                    });
                }
            };
            let value = match r.u8()? {
                V_INT => AttrValue::Int(i64::from_be_bytes(r.array()?)),
                V_FLOAT => AttrValue::Float(f64::from_be_bytes(r.array()?)),
                V_BOOL => AttrValue::Bool(r.u8()? != 0),
                V_TEXT => AttrValue::Text(r.text()?),
                V_BYTES => AttrValue::Bytes(r.bytes()?.to_vec()),
                _ => {
                    return Err(AttributeDecodeError {
                        at: r.at - 1,
                        what: "unknown value tag",
                    });
                }
            };
            out.push(Attribute { key, value });
        }
        Ok(out)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn round_trips_every_value_kind() {
            let attrs = vec![
                Attribute {
                    key: AttrKey::Io(239),
                    value: AttrValue::Int(1),
                },
                Attribute {
                    key: AttrKey::Io(256),
                    value: AttrValue::Bytes(b"1A1JC".to_vec()),
                },
                Attribute {
                    key: AttrKey::Named("rpm".into()),
                    value: AttrValue::Float(2100.5),
                },
                Attribute {
                    key: AttrKey::Named("ignition".into()),
                    value: AttrValue::Bool(true),
                },
                Attribute {
                    key: AttrKey::Named("event".into()),
                    value: AttrValue::Text("motionchange".into()),
                },
            ];
            let mut buf = Vec::new();
            encode(&attrs, &mut buf);
            assert_eq!(decode(&buf), Ok(attrs));
        }

        #[test]
        fn corrupt_input_is_an_error_not_a_panic() {
            assert!(decode(&[KEY_IO, 0]).is_err());
            assert!(decode(&[9]).is_err());
            assert!(decode(&[KEY_NAMED, 0, 5, b'a']).is_err());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_rejects_impossible_values() {
        assert!(Position::new(59.91, 10.75).is_some());
        assert!(Position::new(91.0, 0.0).is_none());
        assert!(Position::new(0.0, f64::NAN).is_none());
    }

    #[test]
    fn distance_oslo_to_drammen() {
        let oslo = Position::new(59.9139, 10.7522).expect("valid");
        let drammen = Position::new(59.7439, 10.2045).expect("valid");
        let d = oslo.distance_m(drammen);
        assert!((33_000.0..36_000.0).contains(&d), "{d}");
    }

    #[test]
    fn field_kind_names_round_trip() {
        for k in FieldKind::ALL {
            assert_eq!(FieldKind::parse(k.as_str()), Some(k));
        }
    }
}
