//! Reverse geocoding through a Nominatim-compatible service, when one is configured: the last
//! resort for naming a trip end that is not one of the organisation's sites. Results are
//! cached by ~10 m cell; a failure falls back to the gazetteer's name and is logged once a
//! minute at most.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct AddressLookup {
    base: String,
    agent: ureq::Agent,
    cache: Mutex<HashMap<(i64, i64), Option<String>>>,
    last_warning: Mutex<Option<Instant>>,
}

const CACHE_MAX: usize = 50_000;

impl AddressLookup {
    pub fn new(base: &str) -> AddressLookup {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(3)))
            .user_agent("sporvern (self-hosted; driving log place names)")
            .build()
            .new_agent();
        AddressLookup {
            base: base.trim_end_matches('/').to_owned(),
            agent,
            cache: Mutex::new(HashMap::new()),
            last_warning: Mutex::new(None),
        }
    }

    /// "Road 12, 0123 City", or `None` when the service has nothing or cannot be reached.
    pub fn address(&self, lat: f64, lon: f64) -> Option<String> {
        let key = (
            (lat * 10_000.0).round() as i64,
            (lon * 10_000.0).round() as i64,
        );
        if let Some(hit) = self.cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
            return hit;
        }
        let url = format!(
            "{}/reverse?format=jsonv2&addressdetails=1&zoom=18&lat={lat:.6}&lon={lon:.6}",
            self.base
        );
        let found = match self.agent.get(&url).call() {
            Ok(mut response) => match response.body_mut().read_to_string() {
                Ok(body) => format_address(&body),
                Err(e) => {
                    self.warn(&e.to_string());
                    return None;
                }
            },
            Err(e) => {
                self.warn(&e.to_string());
                return None; // not cached: the service may come back
            }
        };
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_MAX {
                cache.clear();
            }
            cache.insert(key, found.clone());
        }
        found
    }

    fn warn(&self, error: &str) {
        let Ok(mut last) = self.last_warning.lock() else {
            return;
        };
        if last.is_none_or(|t| t.elapsed() > Duration::from_secs(60)) {
            *last = Some(Instant::now());
            tracing::warn!(service = %self.base, error, "address lookup failed; naming places from the gazetteer");
        }
    }
}

/// Builds "road house_number, postcode city" from a Nominatim `jsonv2` answer, or takes its
/// `display_name`.
pub fn format_address(body: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let a = &v["address"];
    let s = |k: &str| {
        a.get(k)
            .and_then(|x| x.as_str())
            .map(str::trim)
            .filter(|x| !x.is_empty())
    };
    let street = match (s("road"), s("house_number")) {
        (Some(r), Some(n)) => Some(format!("{r} {n}")),
        (Some(r), None) => Some(r.to_owned()),
        _ => None,
    };
    let place = s("city")
        .or(s("town"))
        .or(s("village"))
        .or(s("municipality"));
    let town = match (s("postcode"), place) {
        (Some(p), Some(c)) => Some(format!("{p} {c}")),
        (None, Some(c)) => Some(c.to_owned()),
        _ => None,
    };
    match (street, town) {
        (Some(a), Some(b)) => Some(format!("{a}, {b}")),
        (Some(a), None) | (None, Some(a)) => Some(a),
        (None, None) => v
            .get("display_name")
            .and_then(|d| d.as_str())
            .map(str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nominatim_answers_become_short_addresses() {
        let body = r#"{"display_name":"10, Schweigaards gate, Gamle Oslo, Oslo, 0185, Norge","address":{"house_number":"10","road":"Schweigaards gate","suburb":"Gamle Oslo","city":"Oslo","postcode":"0185","country":"Norge"}}"#;
        assert_eq!(
            format_address(body).as_deref(),
            Some("Schweigaards gate 10, 0185 Oslo")
        );
        let rural = r#"{"display_name":"Nordre Follo","address":{"village":"Sofiemyr"}}"#;
        assert_eq!(format_address(rural).as_deref(), Some("Sofiemyr"));
        assert_eq!(format_address(r#"{"error":"Unable to geocode"}"#), None);
        assert_eq!(format_address("not json"), None);
    }
}
