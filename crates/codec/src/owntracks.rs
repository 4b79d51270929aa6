//! OwnTracks over HTTP: a JSON object with `_type`. Only `location` carries a position; the
//! other types (transition, waypoint, lwt, card, …) are recognised, acknowledged with `[]`, and
//! store nothing. The user and device come from the HTTP headers, which the server reads.
//!
//! Source: `shared/protocols.md` and the OwnTracks booklet, "JSON".

use crate::common::{json_value, unix_time};
use domain::{AttrKey, Attribute, FieldKind, Fix, Position};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum OwntracksMessage {
    /// A `location`: one fix.
    Location(Fix),
    /// Any other `_type`, named; nothing to store.
    Other { kind: String },
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum OwntracksError {
    #[error("the body is not valid JSON: {0}")]
    Json(String),
    #[error("the body is not a JSON object with a `_type`")]
    NoType,
    #[error("the location has no valid `{0}`")]
    Missing(&'static str),
    #[error("lat {lat}, lon {lon} is not a position on the globe")]
    BadPosition { lat: f64, lon: f64 },
}

/// Keys that become the fix's own fields.
const FIX_KEYS: &[&str] = &["_type", "lat", "lon", "tst", "alt", "vel", "cog"];

/// Parses one OwnTracks HTTP body.
pub fn parse(body: &[u8]) -> Result<OwntracksMessage, OwntracksError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| OwntracksError::Json(e.to_string()))?;
    let kind = v
        .get("_type")
        .and_then(Value::as_str)
        .ok_or(OwntracksError::NoType)?;
    if kind != "location" {
        return Ok(OwntracksMessage::Other {
            kind: kind.to_owned(),
        });
    }
    let num = |k: &str| v.get(k).and_then(Value::as_f64).filter(|f| f.is_finite());
    let lat = num("lat").ok_or(OwntracksError::Missing("lat"))?;
    let lon = num("lon").ok_or(OwntracksError::Missing("lon"))?;
    let time = num("tst")
        .and_then(unix_time)
        .ok_or(OwntracksError::Missing("tst"))?;
    let position = Position::new(lat, lon).ok_or(OwntracksError::BadPosition { lat, lon })?;
    let mut attributes = Vec::new();
    if let Some(obj) = v.as_object() {
        for (k, val) in obj {
            if FIX_KEYS.contains(&k.as_str()) {
                continue;
            }
            if let Some(value) = json_value(val) {
                attributes.push(Attribute {
                    key: AttrKey::Named(k.clone()),
                    value,
                });
            }
        }
    }
    Ok(OwntracksMessage::Location(Fix {
        time,
        position: Some(position),
        altitude_m: num("alt").map(|a| a as f32),
        course_deg: num("cog").map(|c| c.round().rem_euclid(360.0) as u16),
        satellites: None,
        speed_kmh: num("vel").filter(|s| *s >= 0.0).map(|s| s as f32),
        attributes,
    }))
}

/// The kind of data an OwnTracks key carries.
pub fn field_kind(key: &str) -> FieldKind {
    match key {
        // Wi-Fi network names and region memberships locate the phone as well as lat/lon.
        "lat" | "lon" | "alt" | "cog" | "SSID" | "BSSID" | "inregions" | "inrids" => {
            FieldKind::Position
        }
        "tst" | "created_at" => FieldKind::Time,
        "vel" => FieldKind::Speed,
        "acc" | "vac" => FieldKind::Accuracy,
        "batt" | "bs" => FieldKind::Battery,
        "conn" => FieldKind::Signal,
        "motionactivities" => FieldKind::Activity,
        _ => FieldKind::Other,
    }
}
