//! The driving log (elektronisk kjørebok) as the people who keep and read it see it.
//!
//! A private trip is its own type holding a date and km and nothing else (SPEC.md: "private
//! trips: date and km only"), so no code path can show where or when a private trip went.

use time::Date;

use crate::{Timestamp, VehicleId};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Classification {
    Unclassified,
    Business { purpose: String },
    Private,
}

impl Classification {
    pub fn as_str(&self) -> &'static str {
        match self {
            Classification::Unclassified => "unclassified",
            Classification::Business { .. } => "business",
            Classification::Private => "private",
        }
    }
}

/// A trip as recorded, with its current classification.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedTrip {
    pub id: i64,
    pub date: Date,
    pub start: Timestamp,
    pub end: Timestamp,
    pub start_place: String,
    pub end_place: String,
    pub odometer_start_km: Option<f64>,
    pub odometer_end_km: Option<f64>,
    pub km: f64,
    /// `odometer` or `track`.
    pub distance_source: String,
    /// The employee number of the driver, when known.
    pub driver: Option<String>,
    pub classification: Classification,
}

/// A private trip: the date and the distance. Nothing else exists to be shown.
#[derive(Clone, Debug, PartialEq)]
pub struct PrivateTrip {
    pub id: i64,
    pub date: Date,
    pub km: f64,
}

/// A trip not yet classified by its driver, through the log keeper's view: date and km.
#[derive(Clone, Debug, PartialEq)]
pub struct PendingTrip {
    pub id: i64,
    pub date: Date,
    pub km: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub enum LogEntry {
    Trip(RecordedTrip),
    Private(PrivateTrip),
    /// A trip the driver has not classified yet, as the log keeper sees it: date and km, until
    /// the driver says whether it was business or private (SPEC.md section 3).
    Unclassified(PendingTrip),
}

impl LogEntry {
    pub fn date(&self) -> Date {
        match self {
            LogEntry::Trip(t) => t.date,
            LogEntry::Private(p) => p.date,
            LogEntry::Unclassified(p) => p.date,
        }
    }

    /// The trip's id in the driving log.
    pub fn id(&self) -> i64 {
        match self {
            LogEntry::Trip(t) => t.id,
            LogEntry::Private(p) => p.id,
            LogEntry::Unclassified(p) => p.id,
        }
    }

    pub fn km(&self) -> f64 {
        match self {
            LogEntry::Trip(t) => t.km,
            LogEntry::Private(p) => p.km,
            LogEntry::Unclassified(p) => p.km,
        }
    }
}

/// A trip the purpose engine hands to storage.
#[derive(Clone, Debug, PartialEq)]
pub enum NewLogEntry {
    Trip {
        vehicle: VehicleId,
        date: Date,
        start: Timestamp,
        end: Timestamp,
        start_place: String,
        end_place: String,
        odometer_start_km: Option<f64>,
        odometer_end_km: Option<f64>,
        km: f64,
        distance_source: &'static str,
        driver: Option<String>,
    },
    Private {
        vehicle: VehicleId,
        date: Date,
        km: f64,
    },
}

/// A stretch the log records rather than hides (device silence while moving, late data, an
/// odometer that went backwards or jumped).
#[derive(Clone, Debug, PartialEq)]
pub struct Deviation {
    pub vehicle: VehicleId,
    pub date: Date,
    pub from: Timestamp,
    pub to: Timestamp,
    pub kind: &'static str,
    pub km: f64,
    pub note: String,
    /// For `odometer_backwards` and `odometer_jump`: the reading before and after, in km.
    pub odometer_km: Option<(f64, f64)>,
}

/// A deviation as stored and read back.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedDeviation {
    pub date: Date,
    pub from: Timestamp,
    pub to: Timestamp,
    /// `device_silent`, `no_fix`, `late_data`, `odometer_backwards`, `odometer_jump`.
    pub kind: String,
    pub km: f64,
    pub note: String,
    /// For an odometer deviation: the reading before and after, in km.
    pub odometer_km: Option<(f64, f64)>,
}

/// Why a trip is on the log keeper's follow-up list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FollowUp {
    /// Started outside the organisation's working hours and has no business purpose yet
    /// (unclassified, or business without a purpose).
    OutsideWorkingHoursWithoutPurpose,
    /// Still unclassified this many days after it was driven.
    UnclassifiedTooLong,
}

impl FollowUp {
    pub fn as_str(self) -> &'static str {
        match self {
            FollowUp::OutsideWorkingHoursWithoutPurpose => "outside_working_hours_without_purpose",
            FollowUp::UnclassifiedTooLong => "unclassified_too_long",
        }
    }
}

/// A trip on the log keeper's follow-up list: the vehicle, date and km, and nothing else (the
/// keeper sees an unclassified trip as date and km; a private trip is never on the list).
#[derive(Clone, Debug, PartialEq)]
pub struct FollowUpTrip {
    pub why: FollowUp,
    pub vehicle: String,
    pub trip: PendingTrip,
}

/// A monthly odometer reading (Skatteetaten: the total is read at least monthly): the last
/// real vehicle odometer reading of the month and the date it was read. Only a vehicle
/// odometer (CAN/OBD, or a configured virtual odometer) is a reading; a phone's distance never
/// is, and nothing is added up or estimated.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OdometerReading {
    /// The local date of the reading (the date of the trip it ended).
    pub date: Date,
    pub km: f64,
}

/// The last reading of each month among `readings` (any order): one per calendar month,
/// in month order. The rule behind [`OdometerReading`], for storage and for anyone holding
/// a vehicle's readings.
pub fn monthly_readings(readings: &[(Timestamp, OdometerReading)]) -> Vec<OdometerReading> {
    let mut sorted: Vec<&(Timestamp, OdometerReading)> = readings.iter().collect();
    sorted.sort_by_key(|(t, _)| *t);
    let mut out: Vec<OdometerReading> = Vec::new();
    for (_, r) in sorted {
        match out.last_mut() {
            Some(last)
                if (last.date.year(), last.date.month()) == (r.date.year(), r.date.month()) =>
            {
                *last = *r;
            }
            _ => out.push(*r),
        }
    }
    out
}
