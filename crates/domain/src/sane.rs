//! Is a record believable? The one check every door for device data goes through: the
//! listeners call it with the server's clock before anything is acknowledged as data, and the
//! purpose engine calls it again with each staged row's arrival time (rows staged before this
//! check existed, or by another writer), so a forged or broken record reaches no purpose.
//!
//! Sans-IO: the caller passes the clock in.

use crate::{Fix, Protocol, Timestamp};

/// How far ahead of the server's clock a record's time may be: device clocks drift and GPS
/// time leads a server that is itself a little slow. More than this is a broken or forged
/// clock, not drift.
pub const MAX_AHEAD_MS: i64 = 5 * 60_000;

/// The earliest believable record time per protocol: before the protocol existed no device
/// spoke it, so an earlier time is an unset clock (GPS week rollover, a device reporting 0).
/// Teltonika's AVL protocol (Codec 8) dates from the FM series of the mid-2000s; the OsmAnd
/// protocol from the Traccar Client of the early 2010s; OwnTracks from 2013 (then MQTTitude).
/// Each bound is taken a little before, to refuse nothing real.
pub fn earliest(protocol: Protocol) -> Timestamp {
    match protocol {
        Protocol::Teltonika => Timestamp::from_secs(1_104_537_600), // 2005-01-01
        Protocol::Osmand => Timestamp::from_secs(1_262_304_000),    // 2010-01-01
        Protocol::Owntracks => Timestamp::from_secs(1_325_376_000), // 2012-01-01
    }
}

/// Why a record is not accepted as data. The text says what the device's owner can fix.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Insane {
    #[error(
        "record time {time} is before {earliest}, when no {protocol} device existed: the device clock is not set"
    )]
    BeforeProtocol {
        protocol: Protocol,
        time: Timestamp,
        earliest: Timestamp,
    },
    #[error("record time {time} is ahead of the server clock ({now}) by more than {} minutes: set the device clock", MAX_AHEAD_MS / 60_000)]
    Future { time: Timestamp, now: Timestamp },
    #[error(
        "latitude {lat}, longitude {lon} is not a position on the globe (latitude −90…90, longitude −180…180)"
    )]
    Position { lat: f64, lon: f64 },
}

impl Insane {
    /// A short label for metrics and logs (never carries the values).
    pub fn code(&self) -> &'static str {
        match self {
            Insane::BeforeProtocol { .. } => "time_before_protocol",
            Insane::Future { .. } => "time_in_future",
            Insane::Position { .. } => "position_out_of_range",
        }
    }

    pub const CODES: [&'static str; 3] = [
        "time_before_protocol",
        "time_in_future",
        "position_out_of_range",
    ];
}

/// Checks a record's time against the window `earliest(protocol) ..= now + MAX_AHEAD_MS`.
pub fn check_time(protocol: Protocol, time: Timestamp, now: Timestamp) -> Result<(), Insane> {
    let first = earliest(protocol);
    if time < first {
        return Err(Insane::BeforeProtocol {
            protocol,
            time,
            earliest: first,
        });
    }
    if time.millis() > now.millis().saturating_add(MAX_AHEAD_MS) {
        return Err(Insane::Future { time, now });
    }
    Ok(())
}

/// Checks coordinates as a device reported them (a [`crate::Position`] cannot hold bad ones;
/// this is for the edge, before a codec would quietly drop them).
pub fn check_coordinates(lat: f64, lon: f64) -> Result<(), Insane> {
    match crate::Position::new(lat, lon) {
        Some(_) => Ok(()),
        None => Err(Insane::Position { lat, lon }),
    }
}

/// Checks a decoded fix: its time (its position is valid by construction).
pub fn check_fix(protocol: Protocol, fix: &Fix, now: Timestamp) -> Result<(), Insane> {
    check_time(protocol, fix.time, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp::from_millis(1_796_083_200_000); // 2026-12-01

    #[test]
    fn the_window_refuses_unset_and_future_clocks() {
        let p = Protocol::Osmand;
        assert!(check_time(p, NOW, NOW).is_ok());
        assert!(check_time(p, Timestamp::from_millis(NOW.millis() + MAX_AHEAD_MS), NOW).is_ok());
        for bad in [
            i64::MAX,
            i64::MIN,
            0,
            -1,
            253_402_214_400_000, // 9999-12-31
            4_070_908_800_000,   // 2099-01-01
            NOW.millis() + MAX_AHEAD_MS + 1,
        ] {
            assert!(
                check_time(p, Timestamp::from_millis(bad), NOW).is_err(),
                "{bad} must be refused"
            );
        }
        let e = check_time(p, Timestamp::from_millis(0), NOW).expect_err("refused");
        assert_eq!(e.code(), "time_before_protocol");
        assert!(e.to_string().contains("clock"), "{e}");
    }

    #[test]
    fn coordinates_off_the_globe_are_refused() {
        assert!(check_coordinates(59.9, 10.7).is_ok());
        for (lat, lon) in [
            (214.0, 10.0),
            (59.0, 181.0),
            (f64::NAN, 0.0),
            (0.0, f64::INFINITY),
        ] {
            assert_eq!(
                check_coordinates(lat, lon).map_err(|e| e.code()),
                Err("position_out_of_range")
            );
        }
    }
}
