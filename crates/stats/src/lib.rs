//! Utilisation statistics (`utilization`, rasjonalisering): anonymous aggregates per vehicle
//! group and ISO week, for analysts judging whether the fleet is organised well.
//!
//! Seed 001, 2.2.4: such data may be kept anonymously, "but in practice this has proved
//! practically or technically difficult" — small fleets re-identify easily. This crate is
//! anonymous by construction:
//!
//! - **Input** is closed, non-private trips ([`TripFact`]): the caller drops private trips
//!   ([`TripFact::from_trip`] does). Positions arrive as coarse [`Cell`]s (≈ 5.5 km); the
//!   [`Aggregator`] reduces times to the local hour and ISO week on arrival.
//! - **Output** ([`Release`]) holds per (group, ISO week) [`WeekStats`]: distinct vehicles,
//!   trips, km, hours in use, trips started per local hour, a heat map of trip starts and ends
//!   per cell. No vehicle key, no time finer than week and hour of day, no place finer than a
//!   cell.
//! - **k rule** (default k = 5, never below 2, [`Config::with_k`]): a group-week with fewer than
//!   k distinct vehicles is [`GroupWeek::Suppressed`] with no figures at all. Within a published
//!   group-week, a heat-map cell reached by fewer than k distinct vehicles, and an hour of day in
//!   which fewer than k distinct vehicles started trips, are suppressed: the hour reads 0 (like
//!   an empty hour, so which hours were suppressed does not show) and its trips go to
//!   `by_hour_other`; the cell is left out and its count goes to `heat_other`. The totals stay
//!   consistent, so nothing is learnt by subtraction beyond what the "other" figures say.
//! - **Caps** ([`Caps`], always applied): per vehicle and week at most 100 trips (the earliest
//!   by start), 3,000 km and 60 hours in use count. One vehicle cannot dominate its group, and
//!   the caps bound each vehicle's influence for the noise.
//! - **Noise** (optional, [`Config::with_laplace`]): the Laplace mechanism with a budget ε per
//!   group-week release, split evenly over six figures (vehicles, trips, km, hours, hour
//!   histogram, heat map); sensitivities come from the caps (see [`NOISY_MEASURES`]). Noisy
//!   values are rounded to whole numbers and clamped at 0, and [`WeekStats::noise`] says noise
//!   was added and with which ε. Randomness is a seeded PRNG the caller passes in
//!   ([`noise::SplitMix64`]); no global randomness.
//!
//! Honest limits: the k decisions use exact counts, so a release with noise is not formally
//! ε-differentially private end to end (whether a cell or week appears is itself exact); the
//! noise protects the figures, the k rule the structure. With a small fleet and ε = 1 the noise
//! is large (trips ± hundreds), which is the price of protecting each vehicle's whole week.
//!
//! Architecture Invariant: sans-IO. Values in, values out; no clock, no storage, no global
//! randomness. The result depends only on the set of facts, not the order they were added in.

mod aggregate;
mod cell;
mod config;
mod fact;
pub mod noise;
mod svg;

pub use aggregate::{
    Aggregator, GroupWeek, NOISY_MEASURES, NoiseReport, Release, SuppressionReason, WeekStats,
};
pub use cell::{CELL_LAT_DEG, CELL_LON_DEG, Cell};
pub use config::{Caps, Config, ConfigError, DEFAULT_K, MIN_K};
pub use fact::TripFact;
pub use svg::{escape_xml, render_svg_bars};
