//! The driving log's vocabulary in words, bokmål and English, shared by the PDF and the
//! accountant's files: what a trip was, where its distance came from, what a deviation means.

use domain::drivinglog::{Classification, LogEntry};

/// A trip's type: machine name, bokmål, English. A private trip, whichever way it is stored,
/// is `private`.
pub fn entry_type(e: &LogEntry) -> (&'static str, &'static str, &'static str) {
    const BUSINESS: (&str, &str, &str) = ("business", "Yrke", "Business");
    const PRIVATE: (&str, &str, &str) = ("private", "Privat", "Private");
    const UNCLASSIFIED: (&str, &str, &str) = ("unclassified", "Ikke klassifisert", "Unclassified");
    match e {
        LogEntry::Private(_) => PRIVATE,
        LogEntry::Unclassified(_) => UNCLASSIFIED,
        LogEntry::Trip(t) => match t.classification {
            Classification::Business { .. } => BUSINESS,
            Classification::Private => PRIVATE,
            Classification::Unclassified => UNCLASSIFIED,
        },
    }
}

/// Where a trip's distance came from: the vehicle's odometer or the GPS track.
pub fn distance_source(source: &str) -> (&'static str, &'static str) {
    match source {
        "odometer" => ("Kilometerteller", "Odometer"),
        "track" | "gps" => ("GPS-spor", "GPS track"),
        _ => ("Ukjent", "Unknown"),
    }
}

/// A recorded deviation's kind in words. The kinds are those the trip builder records
/// (`trips`), including the odometer checks; an unknown kind is "another deviation", with its
/// note beside it.
pub fn deviation(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "device_silent" => (
            "Enheten var uten forbindelse mens kjøretøyet var i bevegelse",
            "The device was out of contact while the vehicle was moving",
        ),
        "no_fix" => (
            "Enheten hadde ingen GPS-posisjon",
            "The device had no GPS fix",
        ),
        "late_data" => (
            "Data kom for sent til å bli med i turen",
            "Data arrived too late to be part of the trip",
        ),
        "odometer_backwards" | "odometer_back" | "odometer_decrease" => (
            "Kilometertelleren gikk bakover",
            "The odometer went backwards",
        ),
        "odometer_jump" => (
            "Kilometertelleren hoppet fremover uten tilsvarende kjøring",
            "The odometer jumped forward without matching driving",
        ),
        "odometer_reset" => ("Kilometertelleren ble nullstilt", "The odometer was reset"),
        "device_changed" | "device_switch" => (
            "Kjøretøyet ble sporet av en annen enhet",
            "The vehicle was tracked by another device",
        ),
        _ => ("Annet avvik", "Other deviation"),
    }
}
