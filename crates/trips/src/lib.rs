//! Trip building: a vehicle's track points in, the driving log's trips out.
//!
//! [`TripBuilder`] takes [`TrackPoint`]s as they arrive (late and out of order too) and emits
//! [`Event`]s: trips opened and closed, trips revised when late data changes them, deviations
//! where the track does not document movement, and points too late to use. Trips follow the
//! ignition when the device reports it, otherwise motion and stop duration; distance comes from
//! the device odometer when it has one, otherwise from the track with GPS jitter filtered.
//! [`TripConfig`] documents every threshold.
//!
//! Architecture Invariant: sans-IO. Values in, values out; no clock (the caller passes its time
//! to [`TripBuilder::advance_to`]), no storage, no knowledge of purposes or places. It never sees
//! speed: the purpose engine drops it before (seed 001, 2.2.3).
//!
//! Architecture Invariant: the result depends only on the set of points within the late-data
//! window and the caller's clock, not on the order they arrived in.

mod builder;
mod config;
mod geo;
mod local;
mod machine;
pub mod trace;
mod types;

pub use builder::TripBuilder;
pub use config::TripConfig;
pub use local::{oslo_date, oslo_offset};
pub use types::{Deviation, DeviationKind, DistanceSource, Event, TrackPoint, Trip};
