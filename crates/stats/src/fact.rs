//! What goes in: one closed business trip, reduced to what the statistics need.

use domain::Timestamp;
use trips::Trip;

use crate::Cell;

/// One closed, **non-private** trip of a vehicle in a group.
///
/// Private trips are not input: the caller drops them before they get here (privacy mode means
/// the employer learns date and km for the driving log and nothing else; they do not feed the
/// employer's statistics either). [`TripFact::from_trip`] does so and returns `None` for them.
///
/// Positions are already reduced to a [`Cell`]. The timestamps are exact on input; the
/// [`crate::Aggregator`] reduces them to the local hour and the ISO week on arrival.
#[derive(Clone, Debug, PartialEq)]
pub struct TripFact {
    /// The vehicle group the statistics are reported for ("Servicebiler Øst"). The group name
    /// is published: it must name a group, never a person or a single vehicle (the `k` rule
    /// suppresses a one-vehicle group anyway).
    pub group: String,
    /// Opaque vehicle key, used only to count distinct vehicles and to cap each vehicle's
    /// contribution. Never output.
    pub vehicle: u64,
    /// Start of the trip, UTC. The trip is counted in the ISO week and local hour of its start.
    pub start: Timestamp,
    /// End of the trip, UTC.
    pub end: Timestamp,
    /// Distance driven. Negative or non-finite values count as 0.
    pub km: f64,
    pub start_cell: Cell,
    pub end_cell: Cell,
}

impl TripFact {
    /// The fact for a closed trip, or `None` when the trip is private.
    pub fn from_trip(group: impl Into<String>, vehicle: u64, trip: &Trip) -> Option<TripFact> {
        if trip.private {
            return None;
        }
        Some(TripFact {
            group: group.into(),
            vehicle,
            start: trip.start,
            end: trip.end,
            km: trip.distance_m / 1000.0,
            start_cell: Cell::of(trip.start_pos),
            end_cell: Cell::of(trip.end_pos),
        })
    }
}
