//! Owned AVL records and their conversion into domain fixes.

use domain::{AttrKey, AttrValue, Attribute, Fix, Position, Timestamp};

/// An IO element's value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IoValue {
    U8(u8),
    U16(u16),
    U32(u32),
    U64(u64),
    /// A variable-length value (Codec 8E's NX group), e.g. a VIN.
    Bytes(Vec<u8>),
}

impl IoValue {
    /// The attribute value: numbers as unsigned integers in an `Int`; an 8-byte value past
    /// `i64::MAX` as its 8 big-endian bytes.
    pub fn to_attr_value(&self) -> AttrValue {
        match self {
            IoValue::U8(v) => AttrValue::Int(i64::from(*v)),
            IoValue::U16(v) => AttrValue::Int(i64::from(*v)),
            IoValue::U32(v) => AttrValue::Int(i64::from(*v)),
            IoValue::U64(v) => match i64::try_from(*v) {
                Ok(i) => AttrValue::Int(i),
                Err(_) => AttrValue::Bytes(v.to_be_bytes().to_vec()),
            },
            IoValue::Bytes(b) => AttrValue::Bytes(b.clone()),
        }
    }
}

/// One AVL record, owned.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub time: Timestamp,
    /// 0 low, 1 high, 2 panic.
    pub priority: u8,
    /// Degrees; the wire carries degrees × 10^7.
    pub lon: f64,
    /// Degrees; the wire carries degrees × 10^7.
    pub lat: f64,
    pub altitude: i16,
    pub angle: u16,
    /// 0 means the device had no valid fix.
    pub satellites: u8,
    pub speed_kmh: u16,
    /// The IO id that triggered the record, 0 when periodic.
    pub event_io_id: u16,
    /// Codec 16 only.
    pub generation_type: Option<u8>,
    /// In the order sent: 1-, 2-, 4-, 8-byte values, then variable-length ones.
    pub io: Vec<(u16, IoValue)>,
}

impl Record {
    /// The domain fix: no position without satellites or outside the globe; every IO element
    /// becomes an attribute keyed by its IO id.
    pub fn to_fix(&self) -> Fix {
        let position = if self.satellites == 0 {
            None
        } else {
            Position::new(self.lat, self.lon)
        };
        Fix {
            time: self.time,
            position,
            altitude_m: Some(f32::from(self.altitude)),
            course_deg: Some(self.angle),
            satellites: Some(self.satellites),
            speed_kmh: Some(f32::from(self.speed_kmh)),
            attributes: self
                .io
                .iter()
                .map(|(id, v)| Attribute {
                    key: AttrKey::Io(*id),
                    value: v.to_attr_value(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(satellites: u8, lat: f64) -> Record {
        Record {
            time: Timestamp::from_millis(1_546_604_839_000),
            priority: 0,
            lon: 16.3745183,
            lat,
            altitude: 190,
            angle: 198,
            satellites,
            speed_kmh: 83,
            event_io_id: 0,
            generation_type: None,
            io: vec![
                (240, IoValue::U8(1)),
                (78, IoValue::U64(u64::MAX)),
                (78, IoValue::U64(7)),
                (256, IoValue::Bytes(b"VIN".to_vec())),
            ],
        }
    }

    #[test]
    fn no_satellites_means_no_position() {
        assert_eq!(record(0, 48.15).to_fix().position, None);
        assert_eq!(record(15, 91.0).to_fix().position, None);
        let fix = record(15, 48.15).to_fix();
        assert_eq!(fix.position, Position::new(48.15, 16.3745183));
        assert_eq!(fix.speed_kmh, Some(83.0));
    }

    #[test]
    fn io_values_keep_their_unsigned_meaning() {
        let fix = record(15, 48.15).to_fix();
        let values: Vec<_> = fix
            .attributes
            .into_iter()
            .map(|a| (a.key, a.value))
            .collect();
        assert_eq!(
            values,
            vec![
                (AttrKey::Io(240), AttrValue::Int(1)),
                (AttrKey::Io(78), AttrValue::Bytes(vec![0xFF; 8])),
                (AttrKey::Io(78), AttrValue::Int(7)),
                (AttrKey::Io(256), AttrValue::Bytes(b"VIN".to_vec())),
            ]
        );
    }
}
