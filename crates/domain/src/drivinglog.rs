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

/// A stretch the log records rather than hides (device silence while moving, late data).
#[derive(Clone, Debug, PartialEq)]
pub struct Deviation {
    pub vehicle: VehicleId,
    pub date: Date,
    pub from: Timestamp,
    pub to: Timestamp,
    pub kind: &'static str,
    pub km: f64,
    pub note: String,
}

/// A deviation as stored and read back.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedDeviation {
    pub date: Date,
    pub from: Timestamp,
    pub to: Timestamp,
    pub kind: String,
    pub km: f64,
    pub note: String,
}
