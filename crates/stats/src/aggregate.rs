//! The accumulator and the release it produces.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

use crate::noise::{SplitMix64, fnv1a, mix};
use crate::{Caps, Cell, Config, TripFact};

/// How many figures of a group-week share the ε budget: vehicles, trips, km, hours in use, the
/// hour histogram, the heat map.
pub const NOISY_MEASURES: u32 = 6;

/// One trip as kept in memory: reduced to its local hour on arrival.
#[derive(Clone, Debug)]
struct Entry {
    hour: u8,
    hours: f64,
    km: f64,
    start_cell: Cell,
    end_cell: Cell,
}

/// (group, ISO year, ISO week).
type WeekKey = (String, i32, u8);
/// vehicle → trip start (ms, UTC; in memory only, for a deterministic cap order) → trip.
type Vehicles = BTreeMap<u64, BTreeMap<i64, Entry>>;

/// Collects [`TripFact`]s, in any order, and releases anonymous per-group weekly statistics.
///
/// A trip is filed under the ISO week (Monday–Sunday, Norwegian local time) of its start. A
/// second fact with the same vehicle and start replaces the first, so a revised trip can simply
/// be added again. The result depends only on the set of facts, not on their order.
///
/// `Debug` shows sizes only: the aggregator holds vehicle keys in memory and must not spill them
/// into a log.
#[derive(Clone, Default)]
pub struct Aggregator {
    weeks: BTreeMap<WeekKey, Vehicles>,
}

impl fmt::Debug for Aggregator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Aggregator")
            .field("group_weeks", &self.weeks.len())
            .field("trips", &self.trips())
            .finish()
    }
}

/// Why a group-week was not published. Carries no figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SuppressionReason {
    /// Fewer than `k` distinct vehicles drove in the group that week.
    TooFewVehicles,
}

impl fmt::Display for SuppressionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SuppressionReason::TooFewVehicles => f.write_str("fewer than k vehicles"),
        }
    }
}

/// That noise was added, and how much budget it used.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct NoiseReport {
    /// Always `"laplace"`.
    pub mechanism: &'static str,
    /// The total budget of this group-week's release.
    pub epsilon: f64,
    /// `epsilon / NOISY_MEASURES`: what each of the six figures got.
    pub epsilon_per_measure: f64,
}

/// The published statistics of one group in one ISO week. Nothing here identifies a vehicle or
/// a driver: no vehicle keys, no time finer than the hour of day, no place finer than a
/// [`Cell`], and every part stands on at least `k` distinct vehicles.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WeekStats {
    pub group: String,
    /// ISO week-numbering year (2024-12-30 is in 2025-W01).
    pub year: i32,
    pub week: u8,
    /// Distinct vehicles that drove (≥ k before noise).
    pub vehicles: usize,
    pub trips: u64,
    /// Rounded to 0.1 km (whole km when noisy).
    pub km: f64,
    /// Sum of trip durations, rounded to 0.1 h (whole hours when noisy).
    pub hours_in_use: f64,
    /// Trips started per local (Norwegian) hour of day. An hour whose trips come from fewer
    /// than `k` vehicles reads 0 here (indistinguishable from an empty hour) and its trips are
    /// counted in `by_hour_other`.
    pub by_hour: [u64; 24],
    /// Trips started in hours suppressed from `by_hour`.
    pub by_hour_other: u64,
    /// Trip starts plus trip ends per cell, for cells reached by at least `k` vehicles; sorted
    /// by cell.
    pub heat: Vec<(Cell, u64)>,
    /// Trip starts plus ends in cells left out of `heat`.
    pub heat_other: u64,
    /// `Some` when the figures carry Laplace noise.
    pub noise: Option<NoiseReport>,
}

/// One group-week of a release.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum GroupWeek {
    /// Boxed: a published week is ten times the size of a suppressed one.
    Published(Box<WeekStats>),
    /// Nothing but the fact of suppression: no counts at all.
    Suppressed {
        group: String,
        year: i32,
        week: u8,
        reason: SuppressionReason,
    },
}

impl GroupWeek {
    pub fn key(&self) -> (&str, i32, u8) {
        match self {
            GroupWeek::Published(s) => (&s.group, s.year, s.week),
            GroupWeek::Suppressed {
                group, year, week, ..
            } => (group, *year, *week),
        }
    }

    pub fn published(&self) -> Option<&WeekStats> {
        match self {
            GroupWeek::Published(s) => Some(s),
            GroupWeek::Suppressed { .. } => None,
        }
    }
}

/// A release: every group-week the aggregator holds, sorted by group, year, week, with the
/// rules it was made under.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Release {
    pub k: usize,
    pub caps: Caps,
    pub noise: Option<NoiseReport>,
    pub weeks: Vec<GroupWeek>,
}

impl Aggregator {
    pub fn new() -> Aggregator {
        Aggregator::default()
    }

    /// Adds one closed, non-private trip. A fact whose start lies outside the calendar the
    /// `time` crate handles (years beyond ±9999) is ignored; so is its returning `false`.
    pub fn add(&mut self, fact: TripFact) -> bool {
        let Some(utc) = fact.start.to_offset_date_time() else {
            return false;
        };
        let Some(local) = utc.checked_to_offset(trips::oslo_offset(fact.start)) else {
            return false;
        };
        let (year, week, _) = local.to_iso_week_date();
        let duration_ms = fact.end.millis().saturating_sub(fact.start.millis()).max(0);
        let entry = Entry {
            hour: local.hour(),
            hours: duration_ms as f64 / 3_600_000.0,
            km: if fact.km.is_finite() && fact.km > 0.0 {
                fact.km
            } else {
                0.0
            },
            start_cell: fact.start_cell,
            end_cell: fact.end_cell,
        };
        self.weeks
            .entry((fact.group, year, week))
            .or_default()
            .entry(fact.vehicle)
            .or_default()
            .insert(fact.start.millis(), entry);
        true
    }

    /// Trips held, before any cap.
    pub fn trips(&self) -> usize {
        self.weeks
            .values()
            .flat_map(|v| v.values())
            .map(BTreeMap::len)
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.weeks.is_empty()
    }

    /// Drops what is held for one group-week (once it is released and stored, or expired).
    /// Returns whether there was anything.
    pub fn forget(&mut self, group: &str, year: i32, week: u8) -> bool {
        self.weeks.remove(&(group.to_owned(), year, week)).is_some()
    }

    /// Releases every group-week held.
    ///
    /// `seed` drives the Laplace noise when `config` asks for it; each group-week gets its own
    /// stream derived from the seed and (group, year, week), so its noise does not depend on
    /// what else is released. Keep the seed secret and fixed per installation, and release a
    /// week once, when it is closed, and store that release: noise drawn afresh for every
    /// request could be averaged away, and the same noise over changed data would let the
    /// change be read off exactly.
    pub fn release(&self, config: &Config, seed: u64) -> Release {
        Release {
            k: config.k(),
            caps: config.caps(),
            noise: noise_report(config),
            weeks: self
                .weeks
                .iter()
                .map(|(key, vehicles)| release_one(key, vehicles, config, seed))
                .collect(),
        }
    }

    /// Releases one group-week, or `None` when nothing is held for it.
    pub fn release_week(
        &self,
        config: &Config,
        seed: u64,
        group: &str,
        year: i32,
        week: u8,
    ) -> Option<GroupWeek> {
        let key = (group.to_owned(), year, week);
        let vehicles = self.weeks.get(&key)?;
        Some(release_one(&key, vehicles, config, seed))
    }
}

fn noise_report(config: &Config) -> Option<NoiseReport> {
    config.epsilon().map(|epsilon| NoiseReport {
        mechanism: "laplace",
        epsilon,
        epsilon_per_measure: epsilon / f64::from(NOISY_MEASURES),
    })
}

fn round_to(x: f64, step: f64) -> f64 {
    (x / step).round() * step
}

fn release_one(key: &WeekKey, vehicles: &Vehicles, config: &Config, seed: u64) -> GroupWeek {
    let (group, year, week) = (key.0.clone(), key.1, key.2);
    let k = config.k();
    if vehicles.len() < k {
        return GroupWeek::Suppressed {
            group,
            year,
            week,
            reason: SuppressionReason::TooFewVehicles,
        };
    }
    let caps = config.caps();
    let cap_trips = usize::try_from(caps.trips).unwrap_or(usize::MAX);

    let mut trips = 0u64;
    let mut km = 0.0;
    let mut hours = 0.0;
    let mut hour_trips = [0u64; 24];
    let mut hour_vehicles = [0usize; 24];
    let mut cells: BTreeMap<Cell, (u64, usize)> = BTreeMap::new();
    for entries in vehicles.values() {
        // The cap keeps the vehicle's earliest trips of the week.
        let kept: Vec<&Entry> = entries.values().take(cap_trips).collect();
        trips += kept.len() as u64;
        km += kept.iter().map(|e| e.km).sum::<f64>().min(caps.km);
        hours += kept.iter().map(|e| e.hours).sum::<f64>().min(caps.hours);
        let mut seen_hours = [false; 24];
        let mut seen_cells = BTreeSet::new();
        for e in &kept {
            let h = usize::from(e.hour.min(23));
            hour_trips[h] += 1;
            seen_hours[h] = true;
            for c in [e.start_cell, e.end_cell] {
                cells.entry(c).or_default().0 += 1;
                seen_cells.insert(c);
            }
        }
        for (h, seen) in seen_hours.iter().enumerate() {
            if *seen {
                hour_vehicles[h] += 1;
            }
        }
        for c in seen_cells {
            cells.entry(c).or_default().1 += 1;
        }
    }

    let mut by_hour = [0u64; 24];
    let mut by_hour_other = 0u64;
    for h in 0..24 {
        if hour_vehicles[h] >= k {
            by_hour[h] = hour_trips[h];
        } else {
            by_hour_other += hour_trips[h];
        }
    }
    let mut heat = Vec::new();
    let mut heat_other = 0u64;
    for (cell, (count, distinct)) in cells {
        if distinct >= k {
            heat.push((cell, count));
        } else {
            heat_other += count;
        }
    }

    let mut stats = WeekStats {
        group,
        year,
        week,
        vehicles: vehicles.len(),
        trips,
        km: round_to(km, 0.1),
        hours_in_use: round_to(hours, 0.1),
        by_hour,
        by_hour_other,
        heat,
        heat_other,
        noise: noise_report(config),
    };
    if let Some(report) = stats.noise {
        add_noise(
            &mut stats,
            caps,
            report.epsilon_per_measure,
            seed,
            km,
            hours,
        );
    }
    GroupWeek::Published(Box::new(stats))
}

/// The noise stream of one group-week.
fn stream(seed: u64, group: &str, year: i32, week: u8) -> SplitMix64 {
    let when = (u64::from(year as u32) << 8) | u64::from(week);
    SplitMix64::new(mix(seed ^ mix(fnv1a(group.as_bytes()) ^ mix(when))))
}

/// Laplace noise on every figure, scaled to the sensitivity the caps give one vehicle:
/// vehicles 1, trips `caps.trips`, km `caps.km`, hours `caps.hours`, the hour histogram
/// (buckets and other together, L1) `caps.trips`, the heat map (cells and other together, L1)
/// `2·caps.trips` (a trip's start and end). Each figure gets `eps` of the budget.
fn add_noise(s: &mut WeekStats, caps: Caps, eps: f64, seed: u64, km: f64, hours: f64) {
    let mut rng = stream(seed, &s.group, s.year, s.week);
    let trips_cap = f64::from(caps.trips);
    let count = |x: u64, sensitivity: f64, rng: &mut SplitMix64| -> u64 {
        let noisy = (x as f64 + rng.laplace(sensitivity / eps)).round();
        // Clamped at 0; `as` saturates at the top.
        noisy.max(0.0) as u64
    };
    s.vehicles = usize::try_from(count(s.vehicles as u64, 1.0, &mut rng)).unwrap_or(usize::MAX);
    s.trips = count(s.trips, trips_cap, &mut rng);
    s.km = (km + rng.laplace(caps.km / eps)).round().max(0.0);
    s.hours_in_use = (hours + rng.laplace(caps.hours / eps)).round().max(0.0);
    for b in s.by_hour.iter_mut() {
        *b = count(*b, trips_cap, &mut rng);
    }
    s.by_hour_other = count(s.by_hour_other, trips_cap, &mut rng);
    for (_, n) in s.heat.iter_mut() {
        *n = count(*n, 2.0 * trips_cap, &mut rng);
    }
    s.heat_other = count(s.heat_other, 2.0 * trips_cap, &mut rng);
}
