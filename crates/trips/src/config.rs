use std::time::Duration;

/// The parameters of trip building. The defaults follow Traccar's where it has one (minimal trip
/// distance and duration, minimal stop duration) and are otherwise chosen for vehicle trackers
/// reporting every 1 to 60 seconds while moving.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TripConfig {
    /// A trip counts when it covered at least this distance … (default 200 m)
    pub min_trip_distance_m: f64,
    /// … or lasted at least this long while moving beyond `jitter_radius_m` (default 3 min).
    /// An ignition-on with the vehicle idling in place is no trip.
    pub min_trip_duration: Duration,
    /// Without ignition: the vehicle standing (staying within `jitter_radius_m`) this long ends
    /// the trip, at the moment it arrived (default 3 min).
    pub stop_duration: Duration,
    /// With ignition: ignition off for at least this long ends the trip, at the moment it went
    /// off; a shorter off (a stalled engine, a key turned back) is flapping and ignored
    /// (default 60 s).
    pub ignition_off_min: Duration,
    /// Positions wandering within this radius of where the vehicle stands are GPS jitter: no
    /// motion, no distance (default 50 m).
    pub jitter_radius_m: f64,
    /// A position implying a faster move than this from the last accepted one is dropped as an
    /// implausible jump (default 250 km/h). After three such drops in a row the next position
    /// is believed, so one bad fix cannot freeze the track.
    pub max_speed_kmh: f64,
    /// No position for longer than this … (default 5 min)
    pub device_silent_after: Duration,
    /// … while the vehicle moved at least this far is a [`crate::Deviation`] (default 200 m,
    /// the shortest trip).
    pub silent_min_displacement_m: f64,
    /// A trip silent for longer than this ends at its last point before the silence, and the
    /// caller's clock ([`crate::TripBuilder::advance_to`]) may close it once this much time has
    /// passed without points (default 1 h). Shorter silences (tunnels) stay inside the trip
    /// as deviations.
    pub trip_max_gap: Duration,
    /// Late and out-of-order points are merged into the trips if they are at most this much
    /// older than the newest point seen; older ones are reported as
    /// [`crate::Event::LateDropped`] (default 6 h). Memory per vehicle grows with it: the
    /// points of this window are kept.
    pub late_window: Duration,
    /// One vehicle, several devices: a point from a device of a higher rank (a phone) is used
    /// only when no device of a lower rank (the fixed tracker) sent a point within this long of
    /// it, so the phone fills the tracker's gaps and never competes with it (default 2 min,
    /// well under `device_silent_after`, so that the edges of a filled gap are no silence).
    pub gap_fill_cover: Duration,
}

impl Default for TripConfig {
    fn default() -> TripConfig {
        TripConfig {
            min_trip_distance_m: 200.0,
            min_trip_duration: Duration::from_secs(180),
            stop_duration: Duration::from_secs(180),
            ignition_off_min: Duration::from_secs(60),
            jitter_radius_m: 50.0,
            max_speed_kmh: 250.0,
            device_silent_after: Duration::from_secs(300),
            silent_min_displacement_m: 200.0,
            trip_max_gap: Duration::from_secs(3600),
            late_window: Duration::from_secs(6 * 3600),
            gap_fill_cover: Duration::from_secs(120),
        }
    }
}

/// The configuration in the units the hot path works in.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub min_trip_distance_m: f64,
    pub min_trip_ms: i64,
    pub stop_ms: i64,
    pub ignition_off_ms: i64,
    pub jitter_radius_m: f64,
    pub max_speed_mps: f64,
    pub silent_ms: i64,
    pub silent_min_m: f64,
    pub max_gap_ms: i64,
    pub window_ms: i64,
    pub cover_ms: i64,
    /// How often (in device time) the builder keeps a copy of its state to rebuild from.
    pub checkpoint_ms: i64,
}

/// Odometers count in whole units and devices round; allow this much beyond what the maximum
/// speed explains before distrusting an odometer difference.
pub(crate) const ODOMETER_SLACK_M: f64 = 1000.0;

/// A vehicle odometer never counts down; a reading this much below the last one is a
/// deviation (a reset, a swapped unit). The tolerance absorbs rounding differences between a
/// vehicle's two odometer sources (CAN and a configured virtual odometer), not real resets.
pub(crate) const ODOMETER_BACKWARDS_TOLERANCE_M: f64 = 100.0;

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

impl From<&TripConfig> for Limits {
    fn from(c: &TripConfig) -> Limits {
        Limits {
            min_trip_distance_m: c.min_trip_distance_m,
            min_trip_ms: ms(c.min_trip_duration),
            stop_ms: ms(c.stop_duration),
            ignition_off_ms: ms(c.ignition_off_min),
            jitter_radius_m: c.jitter_radius_m,
            max_speed_mps: c.max_speed_kmh / 3.6,
            silent_ms: ms(c.device_silent_after),
            silent_min_m: c.silent_min_displacement_m,
            max_gap_ms: ms(c.trip_max_gap),
            window_ms: ms(c.late_window),
            cover_ms: ms(c.gap_fill_cover),
            checkpoint_ms: 5 * 60 * 1000,
        }
    }
}
