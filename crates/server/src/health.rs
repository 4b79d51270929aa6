//! Device health for the admin: which units are connected now, and what was refused and why —
//! enough to find a misconfigured unit (an IMEI missing from the organisation file, a phone
//! app with the wrong device id, a unit sending malformed frames) without reading a position.
//! In memory only: counts, reasons and days, never a position, a time of day or a value.

use std::collections::HashMap;
use std::sync::Mutex;

use domain::Protocol;

/// At most this many distinct refusals are remembered (the oldest is forgotten first).
const MAX_REFUSALS: usize = 50;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub protocol: Protocol,
    /// The unit's id when it is known (a Teltonika IMEI at login).
    pub device: Option<String>,
    pub why: String,
    pub count: u64,
    /// The last day it happened (Norwegian date).
    pub last_day: time::Date,
}

#[derive(Default)]
struct Inner {
    /// Open connections per (protocol, external id).
    connected: HashMap<(Protocol, String), usize>,
    refusals: Vec<Refusal>,
}

#[derive(Default)]
pub struct DeviceHealth {
    inner: Mutex<Inner>,
}

impl DeviceHealth {
    /// A unit logged in on a connection that stays open (Teltonika over TCP).
    pub fn connected(&self, protocol: Protocol, id: &str) {
        if let Ok(mut i) = self.inner.lock() {
            *i.connected.entry((protocol, id.to_owned())).or_default() += 1;
        }
    }

    pub fn disconnected(&self, protocol: Protocol, id: &str) {
        if let Ok(mut i) = self.inner.lock() {
            let key = (protocol, id.to_owned());
            if let Some(n) = i.connected.get_mut(&key) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    i.connected.remove(&key);
                }
            }
        }
    }

    pub fn is_connected(&self, protocol: Protocol, id: &str) -> bool {
        self.inner
            .lock()
            .map(|i| i.connected.contains_key(&(protocol, id.to_owned())))
            .unwrap_or(false)
    }

    /// Something a device sent was refused: counted per (protocol, device, reason).
    pub fn refused(&self, protocol: Protocol, device: Option<&str>, why: &str) {
        let day = trips::oslo_date(crate::ingest::now());
        let why: String = why.chars().take(300).collect();
        if let Ok(mut i) = self.inner.lock() {
            if let Some(r) = i
                .refusals
                .iter_mut()
                .find(|r| r.protocol == protocol && r.device.as_deref() == device && r.why == why)
            {
                r.count += 1;
                r.last_day = day;
                return;
            }
            if i.refusals.len() >= MAX_REFUSALS {
                i.refusals.remove(0);
            }
            i.refusals.push(Refusal {
                protocol,
                device: device.map(str::to_owned),
                why,
                count: 1,
                last_day: day,
            });
        }
    }

    /// The refusals remembered, most recent day first.
    pub fn refusals(&self) -> Vec<Refusal> {
        let mut out = self
            .inner
            .lock()
            .map(|i| i.refusals.clone())
            .unwrap_or_default();
        out.sort_by_key(|r| std::cmp::Reverse(r.last_day));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_counted_by_reason_and_connections_by_unit() {
        let h = DeviceHealth::default();
        h.refused(Protocol::Teltonika, Some("1"), "IMEI not registered");
        h.refused(Protocol::Teltonika, Some("1"), "IMEI not registered");
        h.refused(Protocol::Osmand, None, "unknown device id \"x\"");
        let r = h.refusals();
        assert_eq!(r.len(), 2);
        assert_eq!(r.iter().map(|r| r.count).sum::<u64>(), 3);
        h.connected(Protocol::Teltonika, "1");
        h.connected(Protocol::Teltonika, "1");
        h.disconnected(Protocol::Teltonika, "1");
        assert!(h.is_connected(Protocol::Teltonika, "1"));
        h.disconnected(Protocol::Teltonika, "1");
        assert!(!h.is_connected(Protocol::Teltonika, "1"));
    }
}
