//! The OsmAnd protocol, as the Traccar Client phone app speaks it: HTTP GET with a query, POST
//! with a form, or POST with JSON (the current app).
//!
//! Source: `shared/protocols.md` and the Traccar Client documentation. Every error maps to
//! HTTP 400 at the edge, and says what the sender should change.

use crate::common::{form_pairs, json_value, parse_time, parse_value};
use domain::{AttrKey, AttrValue, Attribute, FieldKind, Fix, Position};
use serde_json::Value;

/// Knots to km/h.
const KNOTS: f64 = 1.852;
/// m/s to km/h.
const MPS: f64 = 3.6;

/// One request's positions, with the identity the device claims.
#[derive(Debug, Clone, PartialEq)]
pub struct OsmandMessage {
    pub device_id: String,
    pub fixes: Vec<Fix>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OsmandError {
    #[error("no device id: send `id` (or `deviceid`) in the query or form, or `device_id` in JSON")]
    MissingId,
    #[error("`{0}` is missing: every position needs it")]
    Missing(&'static str),
    #[error("`{key}` = {value:?} is not valid: expected {expected}")]
    Invalid {
        key: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("the body is not UTF-8 (invalid byte at {at})")]
    NotUtf8 { at: usize },
    #[error("the body is not valid JSON: {0}")]
    Json(String),
    #[error("the JSON holds no location: expected {{\"location\": {{...}}, \"device_id\": ...}}")]
    NoLocation,
    #[error("one request carries one device's positions; found device ids {0:?} and {1:?}")]
    MixedDevices(String, String),
}

fn invalid(key: &'static str, value: &str, expected: &'static str) -> OsmandError {
    // At most 80 characters (not bytes: a cut inside a UTF-8 character would panic).
    let value = value.chars().take(80).collect();
    OsmandError::Invalid {
        key,
        value,
        expected,
    }
}

/// Parses one request: its query string (with or without the leading `/?`), its
/// `Content-Type`, and its body (empty for GET).
///
/// A form body is merged with the query (the body wins on a repeated key). A JSON body (by
/// content type, or a body starting with `{` or `[`) is read as the current Traccar Client
/// sends it: one `{"location": {...}, "device_id": ...}`, an array of them, or `location` as
/// an array; a device id in the query is used when the JSON has none.
pub fn parse(
    query: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<OsmandMessage, OsmandError> {
    let query = query.split_once('?').map_or(query, |(_, q)| query_after(q));
    let mut pairs = form_pairs(query);
    let body = std::str::from_utf8(body)
        .map_err(|e| OsmandError::NotUtf8 {
            at: e.valid_up_to(),
        })?
        .trim();
    let is_json = content_type.is_some_and(|c| c.to_ascii_lowercase().contains("json"))
        || body.starts_with('{')
        || body.starts_with('[');
    if is_json {
        let fallback_id = lookup(&pairs, &["id", "deviceid"]).map(str::to_owned);
        return parse_json(body, fallback_id);
    }
    pairs.extend(form_pairs(body));
    parse_pairs(&pairs)
}

fn query_after(q: &str) -> &str {
    q.split_once('#').map_or(q, |(q, _)| q)
}

fn lookup<'a>(pairs: &'a [(String, String)], keys: &[&str]) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| keys.contains(&k.as_str()))
        .map(|(_, v)| v.as_str())
}

fn number(pairs: &[(String, String)], key: &'static str) -> Result<Option<f64>, OsmandError> {
    match lookup(pairs, &[key]) {
        None | Some("") => Ok(None),
        Some(v) => match v.trim().parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Some(f)),
            _ => Err(invalid(key, v, "a number")),
        },
    }
}

/// Keys that become the fix's own fields, not attributes.
const FIX_KEYS: &[&str] = &[
    "id",
    "deviceid",
    "timestamp",
    "lat",
    "lon",
    "location",
    "speed",
    "bearing",
    "heading",
    "altitude",
];

fn parse_pairs(pairs: &[(String, String)]) -> Result<OsmandMessage, OsmandError> {
    let device_id = lookup(pairs, &["id", "deviceid"])
        .filter(|s| !s.is_empty())
        .ok_or(OsmandError::MissingId)?
        .to_owned();
    let ts = lookup(pairs, &["timestamp"]).ok_or(OsmandError::Missing("timestamp"))?;
    let time = parse_time(ts).ok_or_else(|| {
        invalid(
            "timestamp",
            ts,
            "Unix seconds or milliseconds, ISO 8601, or yyyy-MM-dd HH:mm:ss (UTC)",
        )
    })?;
    let (lat, lon) = match (number(pairs, "lat")?, number(pairs, "lon")?) {
        (Some(lat), Some(lon)) => (lat, lon),
        _ => match lookup(pairs, &["location"]) {
            Some(loc) => {
                let bad = || invalid("location", loc, "\"lat,lon\" in degrees");
                let (a, b) = loc.split_once(',').ok_or_else(bad)?;
                let lat = a.trim().parse::<f64>().map_err(|_| bad())?;
                let lon = b.trim().parse::<f64>().map_err(|_| bad())?;
                (lat, lon)
            }
            None if number(pairs, "lat")?.is_none() => return Err(OsmandError::Missing("lat")),
            None => return Err(OsmandError::Missing("lon")),
        },
    };
    let position = Position::new(lat, lon).ok_or_else(|| {
        invalid(
            "lat,lon",
            &format!("{lat},{lon}"),
            "latitude -90..90 and longitude -180..180",
        )
    })?;
    let speed_kmh = number(pairs, "speed")?.map(|knots| (knots * KNOTS) as f32);
    let course = match number(pairs, "bearing")? {
        Some(c) => Some(c),
        None => number(pairs, "heading")?,
    };
    let altitude_m = number(pairs, "altitude")?.map(|a| a as f32);
    let mut attributes: Vec<Attribute> = Vec::new();
    for (k, v) in pairs {
        if FIX_KEYS.contains(&k.as_str()) {
            continue;
        }
        let attr = Attribute {
            key: AttrKey::Named(k.clone()),
            value: parse_value(v),
        };
        // A repeated key: the last one wins, as for the fix's fields.
        match attributes.iter_mut().find(|a| a.key == attr.key) {
            Some(a) => *a = attr,
            None => attributes.push(attr),
        }
    }
    let fix = Fix {
        time,
        position: Some(position),
        altitude_m,
        course_deg: course.map(course_deg),
        satellites: None,
        speed_kmh,
        attributes,
    };
    Ok(OsmandMessage {
        device_id,
        fixes: vec![fix],
    })
}

fn course_deg(c: f64) -> u16 {
    c.round().rem_euclid(360.0) as u16
}

fn parse_json(body: &str, fallback_id: Option<String>) -> Result<OsmandMessage, OsmandError> {
    let root: Value = serde_json::from_str(body).map_err(|e| OsmandError::Json(e.to_string()))?;
    let roots: Vec<&Value> = match &root {
        Value::Array(items) => items.iter().collect(),
        v => vec![v],
    };
    let mut device_id: Option<String> = None;
    let mut fixes = Vec::new();
    for r in roots {
        let id = r
            .get("device_id")
            .or_else(|| r.get("id"))
            .and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .filter(|s| !s.is_empty());
        if let Some(id) = id {
            match &device_id {
                Some(d) if *d != id => return Err(OsmandError::MixedDevices(d.clone(), id)),
                _ => device_id = Some(id),
            }
        }
        match r.get("location") {
            Some(Value::Array(locs)) => {
                for l in locs {
                    fixes.push(json_location(l)?);
                }
            }
            Some(l @ Value::Object(_)) => fixes.push(json_location(l)?),
            _ => return Err(OsmandError::NoLocation),
        }
    }
    if fixes.is_empty() {
        return Err(OsmandError::NoLocation);
    }
    let device_id = device_id.or(fallback_id).ok_or(OsmandError::MissingId)?;
    Ok(OsmandMessage { device_id, fixes })
}

fn json_f64(v: Option<&Value>) -> Option<f64> {
    v.and_then(Value::as_f64).filter(|f| f.is_finite())
}

fn json_location(l: &Value) -> Result<Fix, OsmandError> {
    let time = match l.get("timestamp") {
        None => return Err(OsmandError::Missing("timestamp")),
        Some(Value::String(s)) => parse_time(s),
        Some(Value::Number(n)) => n.as_f64().and_then(crate::common::unix_time),
        Some(_) => None,
    }
    .ok_or_else(|| {
        invalid(
            "timestamp",
            &l.get("timestamp").map(Value::to_string).unwrap_or_default(),
            "an ISO 8601 time or Unix seconds or milliseconds",
        )
    })?;
    let coords = l.get("coords").ok_or(OsmandError::Missing("coords"))?;
    let lat = json_f64(coords.get("latitude")).ok_or(OsmandError::Missing("coords.latitude"))?;
    let lon = json_f64(coords.get("longitude")).ok_or(OsmandError::Missing("coords.longitude"))?;
    let position = Position::new(lat, lon).ok_or_else(|| {
        invalid(
            "coords",
            &format!("{lat},{lon}"),
            "latitude -90..90 and longitude -180..180",
        )
    })?;
    // The app sends -1 for an unknown speed or heading.
    let speed_kmh = json_f64(coords.get("speed"))
        .filter(|s| *s >= 0.0)
        .map(|s| (s * MPS) as f32);
    let course = json_f64(coords.get("heading"))
        .filter(|h| *h >= 0.0)
        .map(course_deg);
    let altitude_m = json_f64(coords.get("altitude")).map(|a| a as f32);
    let mut attributes = Vec::new();
    let mut put = |key: &str, value: Option<AttrValue>| {
        if let Some(value) = value {
            attributes.push(Attribute {
                key: AttrKey::Named(key.to_owned()),
                value,
            });
        }
    };
    put(
        "accuracy",
        json_f64(coords.get("accuracy")).map(AttrValue::Float),
    );
    put(
        "motion",
        l.get("is_moving")
            .and_then(Value::as_bool)
            .map(AttrValue::Bool),
    );
    put(
        "odometer",
        json_f64(l.get("odometer")).map(AttrValue::Float),
    );
    put("event", l.get("event").and_then(json_value));
    if let Some(b) = l.get("battery") {
        let level = json_f64(b.get("level")).filter(|v| *v >= 0.0);
        put(
            "batt",
            level.map(|v| AttrValue::Float((v * 1000.0).round() / 10.0)),
        );
        put(
            "charge",
            b.get("is_charging")
                .and_then(Value::as_bool)
                .map(AttrValue::Bool),
        );
    }
    put("activity", l.pointer("/activity/type").and_then(json_value));
    // Traccar Client's SOS button: `alarm` among the location's extras (as `alarm=sos` in the
    // form and query formats).
    put(
        "alarm",
        l.get("alarm")
            .or_else(|| l.pointer("/extras/alarm"))
            .and_then(json_value),
    );
    Ok(Fix {
        time,
        position: Some(position),
        altitude_m,
        course_deg: course,
        satellites: None,
        speed_kmh,
        attributes,
    })
}

/// The kind of data a named OsmAnd key carries.
pub fn field_kind(key: &str) -> FieldKind {
    match key {
        "lat" | "lon" | "location" | "bearing" | "heading" | "altitude" => FieldKind::Position,
        "timestamp" => FieldKind::Time,
        "speed" | "obdSpeed" => FieldKind::Speed,
        "odometer" | "totalDistance" | "distance" | "obdOdometer" => FieldKind::Odometer,
        "ignition" => FieldKind::Ignition,
        "motion" | "is_moving" => FieldKind::Movement,
        "driverUniqueId" => FieldKind::DriverId,
        "fuel" | "fuelLevel" | "fuelUsed" | "fuelConsumption" => FieldKind::Fuel,
        "rpm" => FieldKind::Rpm,
        "batt" | "battery" | "batteryLevel" | "charge" => FieldKind::Battery,
        "power" => FieldKind::ExternalPower,
        "accuracy" | "hdop" | "vdop" | "pdop" | "sat" => FieldKind::Accuracy,
        "activity" | "event" => FieldKind::Activity,
        "alarm" => FieldKind::Alarm,
        "hardBraking" | "hardAcceleration" | "hardCornering" => FieldKind::HarshEvent,
        "rssi" | "signal" => FieldKind::Signal,
        "vin" => FieldKind::Vin,
        _ => FieldKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_non_ascii_value_is_cut_at_a_character() {
        // Found by the `osmand` fuzz target: truncating at byte 80 split a character.
        let query = format!("id=1&timestamp=1&lat={}&lon=1", "ø".repeat(100));
        let Err(OsmandError::Invalid { value, .. }) = parse(&query, None, b"") else {
            panic!("expected an invalid lat")
        };
        assert_eq!(value.chars().count(), 80);
    }

    #[test]
    fn field_kinds() {
        assert_eq!(field_kind("driverUniqueId"), FieldKind::DriverId);
        assert_eq!(field_kind("batt"), FieldKind::Battery);
        assert_eq!(field_kind("hdop"), FieldKind::Accuracy);
        assert_eq!(field_kind("whatever"), FieldKind::Other);
    }
}
