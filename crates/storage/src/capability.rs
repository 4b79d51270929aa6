//! How personal-data queries check the [`Capability`] they are handed.
//!
//! The type system already makes sure a query cannot be named without a capability (only
//! `access::Policy::authorise` makes one). These checks make sure the capability is for *this*
//! data: a fleet-view capability does not open the driving log, a capability for one vehicle
//! does not open another, and an "own data" capability selects only the holder's rows.
//!
//! Public so that every backend (the embedded SQLite here, `storage-postgres`) applies the
//! same checks: a backend decides how to query, never whom a capability opens.

use access::{Capability, ReadPurpose, Scope, View};

use crate::StoreError;

/// Whose rows a query may return, once the capability has been checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rows {
    /// Every row the query selects (scope "all", or a vehicle checked by the backend).
    Any,
    /// Only rows about this employee number.
    Employee(String),
}

/// Checks that `cap` was granted for one of `purposes`, and says whose rows it opens.
pub fn rows_for(
    cap: &Capability,
    purposes: &[ReadPurpose],
    what: &str,
) -> Result<Rows, StoreError> {
    if !purposes.contains(&cap.purpose()) {
        return Err(StoreError::Refused(format!(
            "a capability for {} does not open {what}",
            cap.purpose()
        )));
    }
    match cap.scope() {
        Scope::Own | Scope::AccessRequest { .. } => cap
            .subject()
            .map(|s| Rows::Employee(s.to_owned()))
            .ok_or_else(|| StoreError::Refused(format!("{what}: no employee record"))),
        Scope::Vehicle(_) | Scope::All => Ok(Rows::Any),
    }
}

/// For a vehicle-scoped capability, checks that it names the vehicle with registration `reg`.
pub fn covers(cap: &Capability, reg: &str, what: &str) -> Result<(), StoreError> {
    match cap.scope() {
        Scope::Vehicle(_) if !cap.covers_vehicle(reg) => Err(StoreError::Refused(format!(
            "a capability for another vehicle does not open {what} of {reg}"
        ))),
        _ => Ok(()),
    }
}

/// Whether the log keeper's restriction applies: unclassified trips as date and km only.
pub fn keeper_view(cap: &Capability) -> bool {
    cap.view() == View::DrivingLogKeeper
}

/// Applies the capability's view: through the log keeper's view an unclassified trip is its
/// date and km only (SPEC.md section 3: unclassified trips as km until classified).
pub fn through_view(
    cap: &Capability,
    log: Vec<domain::drivinglog::LogEntry>,
) -> Vec<domain::drivinglog::LogEntry> {
    use domain::drivinglog::{Classification, LogEntry, PendingTrip};
    if !keeper_view(cap) {
        return log;
    }
    log.into_iter()
        .map(|e| match e {
            LogEntry::Trip(t) if t.classification == Classification::Unclassified => {
                LogEntry::Unclassified(PendingTrip {
                    id: t.id,
                    date: t.date,
                    km: t.km,
                })
            }
            other => other,
        })
        .collect()
}
