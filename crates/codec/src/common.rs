//! Helpers shared by the HTTP protocols.

use domain::{AttrValue, Timestamp};

/// Decodes one `application/x-www-form-urlencoded` component: `+` is a space, `%XX` a byte.
/// A malformed escape is kept as written.
pub(crate) fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = b
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `a=1&b=2` → pairs, decoded, in order. Empty keys are dropped.
pub(crate) fn form_pairs(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (url_decode(k), url_decode(v)),
            None => (url_decode(p), String::new()),
        })
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

/// A free-form value: `true`/`false` → Bool, an integer → Int, a finite number → Float, else
/// Text.
pub(crate) fn parse_value(s: &str) -> AttrValue {
    match s {
        "true" => return AttrValue::Bool(true),
        "false" => return AttrValue::Bool(false),
        _ => {}
    }
    if let Ok(i) = s.parse::<i64>() {
        return AttrValue::Int(i);
    }
    match s.parse::<f64>() {
        Ok(f) if f.is_finite() && s.bytes().any(|b| b.is_ascii_digit()) => AttrValue::Float(f),
        _ => AttrValue::Text(s.to_owned()),
    }
}

/// A JSON scalar as an attribute value; `None` for null, arrays and objects.
pub(crate) fn json_value(v: &serde_json::Value) -> Option<AttrValue> {
    use serde_json::Value;
    match v {
        Value::Bool(b) => Some(AttrValue::Bool(*b)),
        Value::Number(n) => n
            .as_i64()
            .map(AttrValue::Int)
            .or_else(|| n.as_f64().map(AttrValue::Float)),
        Value::String(s) => Some(AttrValue::Text(s.clone())),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// Unix seconds or milliseconds (more than 10^11 means milliseconds: 10^11 s is the year 5138).
pub(crate) fn unix_time(v: f64) -> Option<Timestamp> {
    if !(0.0..=1e16).contains(&v) {
        return None;
    }
    let ms = if v > 1e11 { v } else { v * 1000.0 };
    Some(Timestamp::from_millis(ms.round() as i64))
}

/// A timestamp as the OsmAnd apps send it: Unix seconds or milliseconds, RFC 3339 / ISO 8601,
/// or `yyyy-MM-dd HH:mm:ss` in UTC.
pub(crate) fn parse_time(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if let Ok(v) = s.parse::<f64>() {
        return unix_time(v);
    }
    if let Some(t) = Timestamp::parse_rfc3339(s) {
        return Some(t);
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let fmt_t = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let dt = time::PrimitiveDateTime::parse(s, fmt)
        .or_else(|_| time::PrimitiveDateTime::parse(s, fmt_t))
        .ok()?;
    let ms = dt.assume_utc().unix_timestamp_nanos() / 1_000_000;
    i64::try_from(ms).ok().map(Timestamp::from_millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_decoding() {
        assert_eq!(
            url_decode("2016-01-27T18%3A55%3A47Z"),
            "2016-01-27T18:55:47Z"
        );
        assert_eq!(url_decode("a+b%zz%4"), "a b%zz%4");
    }

    #[test]
    fn times() {
        let t = Some(Timestamp::from_millis(1_377_177_267_000));
        assert_eq!(parse_time("1377177267"), t);
        assert_eq!(parse_time("1377177267000"), t);
        assert_eq!(parse_time("2013-08-22T13:14:27Z"), t);
        assert_eq!(parse_time("2013-08-22 13:14:27"), t);
        assert_eq!(parse_time("2013-08-22T13:14:27"), t);
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(parse_time("-5"), None);
    }

    #[test]
    fn values() {
        assert_eq!(parse_value("true"), AttrValue::Bool(true));
        assert_eq!(parse_value("12"), AttrValue::Int(12));
        assert_eq!(parse_value("0.5"), AttrValue::Float(0.5));
        assert_eq!(parse_value("inf"), AttrValue::Text("inf".into()));
        assert_eq!(parse_value("NaN"), AttrValue::Text("NaN".into()));
        assert_eq!(parse_value("ABC123"), AttrValue::Text("ABC123".into()));
    }
}
