//! The values that go in and come out of the builder.

use domain::{Position, Timestamp};

/// One point of a vehicle's track, as the purpose engine hands it over: only what the driving
/// log may have. Speed is deliberately absent (seed 001, 2.2.3: speed is excess information for
/// the driving log); motion is derived from positions.
#[derive(Clone, Debug, PartialEq)]
pub struct TrackPoint {
    pub time: Timestamp,
    /// `None` when the device had no valid fix.
    pub position: Option<Position>,
    /// `None` when the device does not report ignition (phones) or left it out of this record.
    pub ignition: Option<bool>,
    /// The device's total odometer in metres (e.g. Teltonika IO 16), when reported.
    pub odometer_m: Option<f64>,
    /// The driver identification (iButton / card) read at this point, when any.
    pub driver_id: Option<String>,
    /// Privacy mode was on at this point.
    pub private: bool,
    /// The rank of the device that sent it among the vehicle's devices: 0 first (the fixed
    /// tracker), higher ranks only fill the gaps of lower ones (a phone). A point is not used
    /// when a point of a lower rank lies within [`crate::TripConfig::gap_fill_cover`] of it.
    pub rank: u8,
}

/// Where a trip's or a deviation's distance came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DistanceSource {
    /// The device's total odometer, end minus start: what Skatteetaten asks for ("kjørelengden
    /// ifølge kilometertelleren", seed 001, 2.2.3).
    Odometer,
    /// Summed from the positions, with GPS jitter and implausible jumps filtered out.
    Track,
}

impl DistanceSource {
    pub fn as_str(self) -> &'static str {
        match self {
            DistanceSource::Odometer => "odometer",
            DistanceSource::Track => "track",
        }
    }
}

/// A closed trip. Times are UTC; [`Trip::local_date`] gives the date the driving log files it
/// under.
#[derive(Clone, Debug, PartialEq)]
pub struct Trip {
    pub start: Timestamp,
    pub end: Timestamp,
    pub start_pos: Position,
    pub end_pos: Position,
    pub distance_m: f64,
    pub odometer_start_m: Option<f64>,
    pub odometer_end_m: Option<f64>,
    pub distance_source: DistanceSource,
    /// The first driver identification read during the trip.
    pub driver_id: Option<String>,
    /// Privacy mode was on for the trip: the driving log keeps date and km only. A switch
    /// while driving splits the trip at the switch, so a trip is wholly private or not.
    pub private: bool,
    /// How many track points the trip is built from.
    pub points: u32,
}

impl Trip {
    /// The date the trip is filed under: the local Norwegian date of its start (a trip over
    /// midnight belongs to the day it started).
    pub fn local_date(&self) -> time::Date {
        crate::local::oslo_date(self.start)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DeviationKind {
    /// No records at all for longer than `device_silent_after`, while the vehicle moved.
    DeviceSilent,
    /// Records came, but without a position, for longer than `device_silent_after` while the
    /// vehicle moved (a tunnel, a shielded device); or a whole trip without any position.
    NoFix,
    /// The vehicle odometer read less than before (a reset, a swapped unit, a bad reading).
    OdometerBackwards,
    /// The vehicle odometer read more than the vehicle can have driven since the last reading.
    OdometerJump,
}

impl DeviationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviationKind::DeviceSilent => "device_silent",
            DeviationKind::NoFix => "no_fix",
            DeviationKind::OdometerBackwards => "odometer_backwards",
            DeviationKind::OdometerJump => "odometer_jump",
        }
    }
}

/// A stretch the track does not document although the vehicle moved, or an odometer reading
/// that cannot be right. Skatteetaten wants deviations such as device downtime recorded, not
/// papered over (SPEC.md, `driving_log`).
#[derive(Clone, Debug, PartialEq)]
pub struct Deviation {
    pub from: Timestamp,
    pub to: Timestamp,
    pub kind: DeviationKind,
    /// How far the vehicle moved across the stretch, in km: by odometer when both ends have
    /// one, otherwise the straight line (a lower bound). For an odometer deviation: the
    /// difference of the two readings (negative when it went backwards).
    pub km_across: f64,
    pub source: DistanceSource,
    /// For an odometer deviation: the reading before and the reading after, in metres.
    pub odometer_m: Option<(f64, f64)>,
}

/// What the builder tells its caller. Trips and deviations are final unless a later event
/// revises them; a consumer that applies the events in order holds the builder's result.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A trip has begun and has already moved far or long enough to count. Informational: no
    /// position, so that nothing here can feed a live map of a private trip.
    TripOpened { start: Timestamp, private: bool },
    /// A trip ended.
    TripClosed(Trip),
    /// Late data changed one closed trip; `old` is replaced by `new`.
    TripRevised { old: Trip, new: Trip },
    /// Late data changed how closed trips are cut: all of `old` are replaced by all of `new`
    /// (a split, a merge, or `new` empty when the late points showed `old` was no trip).
    TripReplaced { old: Vec<Trip>, new: Vec<Trip> },
    /// The trip announced by [`Event::TripOpened`] with this start is not a trip after all
    /// (late data, or it ended too short to count).
    OpenTripWithdrawn { start: Timestamp },
    /// The track does not document a stretch over which the vehicle moved.
    Deviation(Deviation),
    /// Late data filled a stretch earlier reported as a deviation.
    DeviationWithdrawn(Deviation),
    /// A point older than the late-data window arrived; it was not used. The trips it fell
    /// into are final.
    LateDropped {
        time: Timestamp,
        window_start: Timestamp,
    },
}
