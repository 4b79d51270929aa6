//! The in-order segmenter: points in time order in, closed trips and deviations out.
//!
//! Everything the builder does with late data rests on this being a pure function of its state
//! and the next point: the builder keeps copies of the state ([`Machine`] is `Clone`) and
//! replays the points after a copy when a late point lands before them.

use domain::{Position, Timestamp};

use crate::config::{Limits, ODOMETER_BACKWARDS_TOLERANCE_M, ODOMETER_SLACK_M};
use crate::geo::dist_m;
use crate::types::{Deviation, DeviationKind, DistanceSource, TrackPoint, Trip};

/// What the segmenter produces, in time order.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Record {
    Trip(Trip),
    Deviation(Deviation),
}

/// A trip's running totals up to some point.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Mark {
    time: Timestamp,
    pos: Option<Position>,
    odo: Option<f64>,
    dist: f64,
    /// The farthest the track got from the trip's start.
    reach: f64,
    points: u32,
}

#[derive(Clone, Debug, PartialEq)]
struct Open {
    start: Timestamp,
    start_pos: Option<Position>,
    odo_start: Option<f64>,
    driver_id: Option<String>,
    /// Privacy mode: a switch while the trip is open splits it, so this holds for all of it.
    private: bool,
    /// An odometer deviation happened during the trip: its distance comes from the track.
    odo_broken: bool,
    /// Totals through the latest point.
    cur: Mark,
    /// Where the trip would end if the vehicle is found to have stopped. By motion: the totals
    /// at the last point that moved beyond the jitter radius (always set). By ignition: the
    /// totals at the first ignition-off point (unset while the ignition is on).
    stop: Option<Mark>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Machine {
    last_time: Option<Timestamp>,
    /// The last accepted position and its time.
    last_pos: Option<(Timestamp, Position)>,
    /// The odometer at the last accepted position.
    last_pos_odo: Option<f64>,
    last_odo: Option<f64>,
    /// The last vehicle odometer reading and when it was read, to check the next one against.
    last_reading: Option<(Timestamp, f64)>,
    /// Points without a position arrived since `last_pos`.
    fixless: bool,
    rejected_in_row: u8,
    /// The device reports ignition: trips follow it instead of motion.
    ignition_mode: bool,
    ignition: Option<bool>,
    /// Where the vehicle stands (idle: the mean of the positions seen there, so that GPS
    /// wandering around the spot stays within the jitter radius of it), or the last point that
    /// moved beyond the jitter radius (in a trip): distance is counted from anchor to anchor.
    anchor: Option<Position>,
    /// How many positions the idle anchor is the mean of (capped: it follows slow drift).
    anchor_n: u32,
    open: Option<Open>,
    pub trips_closed: u64,
    pub devs_closed: u64,
}

fn ms_between(a: Timestamp, b: Timestamp) -> i64 {
    b.millis().saturating_sub(a.millis())
}

/// An odometer difference, when it is believable for the time it took.
fn odometer_delta(a: Option<f64>, b: Option<f64>, ms: i64, lim: &Limits) -> Option<f64> {
    let d = b? - a?;
    let max = lim.max_speed_mps * (ms as f64 / 1000.0) + ODOMETER_SLACK_M;
    (d.is_finite() && d >= 0.0 && d <= max).then_some(d)
}

/// Whether a trip counts: far enough, or long enough while moving. A distance from the track
/// counts only if the track also got farther than the jitter's diameter from the start, so that
/// GPS wandering around a parked car, summed up, is no trip.
fn counts(dist: f64, source: DistanceSource, duration_ms: i64, reach: f64, lim: &Limits) -> bool {
    let long_enough = dist >= lim.min_trip_distance_m
        || (duration_ms >= lim.min_trip_ms && dist >= lim.jitter_radius_m);
    long_enough && (source == DistanceSource::Odometer || reach > 2.0 * lim.jitter_radius_m)
}

/// A trip's distance: by odometer when believable and unbroken, else by track.
fn trip_distance(open: &Open, at: &Mark, ms: i64, lim: &Limits) -> (f64, DistanceSource) {
    match odometer_delta(open.odo_start, at.odo, ms, lim).filter(|_| !open.odo_broken) {
        Some(d) => (d, DistanceSource::Odometer),
        None => (at.dist, DistanceSource::Track),
    }
}

/// The running mean of `n` positions and `q`.
fn mean(a: Position, q: Position, n: u32) -> Position {
    let w = 1.0 / f64::from(n);
    Position::new(
        a.lat() + (q.lat() - a.lat()) * w,
        a.lon() + (q.lon() - a.lon()) * w,
    )
    .unwrap_or(a)
}

const ANCHOR_MEAN_CAP: u32 = 32;

impl Machine {
    pub fn last_time(&self) -> Option<Timestamp> {
        self.last_time
    }

    /// The open trip's start, once it has gone far or long enough to count.
    pub fn confirmed_open(&self, lim: &Limits) -> Option<(Timestamp, bool)> {
        let open = self.open.as_ref()?;
        let at = if self.ignition_mode {
            open.cur
        } else {
            open.stop.unwrap_or(open.cur)
        };
        let ms = ms_between(open.start, at.time);
        let (dist, source) = trip_distance(open, &at, ms, lim);
        counts(dist, source, ms, at.reach, lim).then_some((open.start, open.private))
    }

    /// Takes the next point; `p.time` must be later than every point before.
    pub fn step(&mut self, p: &TrackPoint, lim: &Limits, out: &mut Vec<Record>) {
        let t = p.time;
        if let (Some(open), Some(last)) = (&self.open, self.last_time) {
            if ms_between(last, t) > lim.max_gap_ms {
                let end = Self::gap_end(open);
                self.close(end, lim, out);
            } else if let Some(stop) = open.stop
                && self.ignition_mode
                && ms_between(stop.time, t) >= lim.ignition_off_ms
            {
                self.close(stop, lim, out);
            }
        }

        if self.open.as_ref().is_some_and(|o| o.private != p.private) {
            self.split_at_privacy_switch(p.private, lim, out);
        }
        if let Some(reading) = p.odometer_m {
            self.check_odometer(t, reading, lim, out);
        }

        let pos = p.position.filter(|&q| self.plausible(q, t, lim));
        let odo = p.odometer_m.or(self.last_odo);
        let mut displaced = false;
        if let (Some(q), Some((lt, lp))) = (pos, self.last_pos) {
            let ms = ms_between(lt, t);
            if ms > lim.silent_ms {
                let (m, source) = match odometer_delta(self.last_pos_odo, p.odometer_m, ms, lim) {
                    Some(d) => (d, DistanceSource::Odometer),
                    None => (dist_m(lp, q), DistanceSource::Track),
                };
                if m >= lim.silent_min_m {
                    displaced = true;
                    let kind = if self.fixless {
                        DeviationKind::NoFix
                    } else {
                        DeviationKind::DeviceSilent
                    };
                    out.push(Record::Deviation(Deviation {
                        from: lt,
                        to: t,
                        kind,
                        km_across: m / 1000.0,
                        source,
                        odometer_m: None,
                    }));
                    self.devs_closed += 1;
                }
            }
        }
        if let Some(i) = p.ignition {
            self.ignition_mode = true;
            self.ignition = Some(i);
        }

        if self.ignition_mode {
            self.step_ignition(p, pos, odo, lim);
        } else {
            self.step_motion(p, pos, odo, displaced, lim, out);
        }

        self.last_time = Some(t);
        if let Some(q) = pos {
            self.last_pos = Some((t, q));
            self.last_pos_odo = odo;
            self.fixless = false;
        } else {
            self.fixless = true;
        }
        self.last_odo = odo;
    }

    /// A vehicle odometer reading against the last one: backwards, or further than the
    /// vehicle can have driven in the time between, is a deviation with both readings. The new
    /// reading is the reference afterwards, and an open trip takes its distance from the track.
    fn check_odometer(&mut self, t: Timestamp, reading: f64, lim: &Limits, out: &mut Vec<Record>) {
        if !reading.is_finite() {
            return;
        }
        if let Some((lt, last)) = self.last_reading {
            let ms = ms_between(lt, t);
            let max = lim.max_speed_mps * (ms as f64 / 1000.0) + ODOMETER_SLACK_M;
            let d = reading - last;
            let kind = if d < -ODOMETER_BACKWARDS_TOLERANCE_M {
                Some(DeviationKind::OdometerBackwards)
            } else if d > max {
                Some(DeviationKind::OdometerJump)
            } else {
                None
            };
            if let Some(kind) = kind {
                out.push(Record::Deviation(Deviation {
                    from: lt,
                    to: t,
                    kind,
                    km_across: d / 1000.0,
                    source: DistanceSource::Odometer,
                    odometer_m: Some((last, reading)),
                }));
                self.devs_closed += 1;
                if let Some(open) = self.open.as_mut() {
                    open.odo_broken = true;
                }
            }
        }
        self.last_reading = Some((t, reading));
    }

    /// Privacy mode switched while a trip is open: the trip splits at the switch. The part
    /// before keeps its class (a business trip stays one, with its places); the part from the
    /// last point before the switch has the new one. A business part too short to count on its
    /// own becomes part of the private trip (privacy wins); a private part too short to count
    /// is dropped like any trip too short, and never merged into a business trip.
    fn split_at_privacy_switch(&mut self, private: bool, lim: &Limits, out: &mut Vec<Record>) {
        let Some(open) = self.open.as_mut() else {
            return;
        };
        let end = open.stop.unwrap_or(open.cur);
        let ms = ms_between(open.start, end.time);
        let (dist, source) = trip_distance(open, &end, ms, lim);
        if private && !counts(dist, source, ms, end.reach, lim) {
            open.private = true;
            return;
        }
        let driver_id = open.driver_id.clone();
        self.close(end, lim, out);
        let mark = Mark {
            time: end.time,
            pos: end.pos,
            odo: end.odo,
            dist: 0.0,
            reach: 0.0,
            points: 1,
        };
        let pending_stop = !self.ignition_mode || self.ignition != Some(true);
        self.anchor = end.pos.or(self.anchor);
        self.open = Some(Open {
            start: end.time,
            start_pos: end.pos,
            odo_start: end.odo,
            driver_id,
            private,
            odo_broken: false,
            cur: mark,
            stop: pending_stop.then_some(mark),
        });
    }

    /// Closes the open trip if the caller's clock shows it has ended: silent longer than
    /// `trip_max_gap`, or (ignition) off for `ignition_off_min`. Exactly what the next point
    /// would do if it came at `now`. Returns whether a trip was closed.
    pub fn close_by_clock(&mut self, now: Timestamp, lim: &Limits, out: &mut Vec<Record>) -> bool {
        let (Some(open), Some(last)) = (&self.open, self.last_time) else {
            return false;
        };
        if ms_between(last, now) > lim.max_gap_ms {
            let end = Self::gap_end(open);
            self.close(end, lim, out);
            true
        } else if let Some(stop) = open.stop
            && self.ignition_mode
            && ms_between(stop.time, now) >= lim.ignition_off_ms
        {
            self.close(stop, lim, out);
            true
        } else {
            false
        }
    }

    /// Where a trip that fell silent ends: at the ignition-off or (by motion) the last point
    /// that moved, else at its last point.
    fn gap_end(open: &Open) -> Mark {
        open.stop.unwrap_or(open.cur)
    }

    /// Whether a position is a believable move from the last accepted one.
    fn plausible(&mut self, q: Position, t: Timestamp, lim: &Limits) -> bool {
        let Some((lt, lp)) = self.last_pos else {
            return true;
        };
        let reach = lim.max_speed_mps * (ms_between(lt, t) as f64 / 1000.0) + lim.jitter_radius_m;
        if dist_m(lp, q) <= reach || self.rejected_in_row >= 3 {
            self.rejected_in_row = 0;
            true
        } else {
            self.rejected_in_row += 1;
            false
        }
    }

    /// Moves the anchor if `q` left the jitter radius; returns the distance moved.
    #[inline]
    fn hop(&mut self, q: Position, lim: &Limits) -> Option<f64> {
        match self.anchor {
            Some(a) => {
                let d = dist_m(a, q);
                if d > lim.jitter_radius_m {
                    self.anchor = Some(q);
                    Some(d)
                } else {
                    None
                }
            }
            None => {
                self.anchor = Some(q);
                None
            }
        }
    }

    fn extend(open: &mut Open, p: &TrackPoint, odo: Option<f64>) {
        open.cur.time = p.time;
        open.cur.points += 1;
        open.cur.odo = odo;
        if open.driver_id.is_none() && p.driver_id.is_some() {
            open.driver_id.clone_from(&p.driver_id);
        }
    }

    fn step_ignition(
        &mut self,
        p: &TrackPoint,
        pos: Option<Position>,
        odo: Option<f64>,
        lim: &Limits,
    ) {
        let on = self.ignition == Some(true);
        if self.open.is_none() {
            if !on {
                if let Some(q) = pos {
                    self.hop(q, lim);
                }
                return;
            }
            let start_pos = pos.or(self.last_pos.map(|(_, q)| q));
            self.anchor = start_pos;
            self.open = Some(Open {
                start: p.time,
                start_pos,
                odo_start: odo,
                driver_id: p.driver_id.clone(),
                private: p.private,
                odo_broken: false,
                cur: Mark {
                    time: p.time,
                    pos: start_pos,
                    odo,
                    dist: 0.0,
                    reach: 0.0,
                    points: 1,
                },
                stop: None,
            });
            return;
        }
        let hop = pos.and_then(|q| self.hop(q, lim));
        let anchor = self.anchor;
        let Some(open) = self.open.as_mut() else {
            return;
        };
        Self::extend(open, p, odo);
        if let Some(d) = hop {
            open.cur.dist += d;
        }
        if let Some(q) = pos {
            open.cur.pos = Some(q);
            match open.start_pos {
                None => open.start_pos = Some(q),
                Some(s) if hop.is_some() && open.cur.reach <= 2.0 * lim.jitter_radius_m => {
                    open.cur.reach = open.cur.reach.max(dist_m(s, q));
                }
                Some(_) => {}
            }
        } else if open.cur.pos.is_none() {
            open.cur.pos = anchor;
        }
        if on {
            open.stop = None;
        } else if open.stop.is_none() {
            open.stop = Some(open.cur);
        }
    }

    fn step_motion(
        &mut self,
        p: &TrackPoint,
        pos: Option<Position>,
        odo: Option<f64>,
        displaced: bool,
        lim: &Limits,
        out: &mut Vec<Record>,
    ) {
        let Some(open) = self.open.as_mut() else {
            let Some(q) = pos else { return };
            match self.anchor {
                Some(a) if !displaced => {
                    let d = dist_m(a, q);
                    if d <= lim.jitter_radius_m {
                        self.anchor_n = (self.anchor_n + 1).min(ANCHOR_MEAN_CAP);
                        self.anchor = Some(mean(a, q, self.anchor_n));
                    } else {
                        let cur = Mark {
                            time: p.time,
                            pos: Some(q),
                            odo,
                            dist: d,
                            reach: d,
                            points: 1,
                        };
                        self.open = Some(Open {
                            start: p.time,
                            start_pos: Some(a),
                            odo_start: self.last_odo.or(odo),
                            driver_id: p.driver_id.clone(),
                            private: p.private,
                            odo_broken: false,
                            cur,
                            stop: Some(cur),
                        });
                        self.anchor = Some(q);
                    }
                }
                // Moved while the device was silent: where and when it drove is unknown (the
                // deviation says so); the vehicle stands here now.
                _ => {
                    self.anchor = Some(q);
                    self.anchor_n = 1;
                }
            }
            return;
        };
        Self::extend(open, p, odo);
        let Some(q) = pos else { return };
        let a = self.anchor.unwrap_or(q);
        let d = dist_m(a, q);
        if d > lim.jitter_radius_m {
            open.cur.dist += d;
            open.cur.pos = Some(q);
            if open.cur.reach <= 2.0 * lim.jitter_radius_m
                && let Some(s) = open.start_pos
            {
                open.cur.reach = open.cur.reach.max(dist_m(s, q));
            }
            open.stop = Some(open.cur);
            self.anchor = Some(q);
        } else if let Some(stop) = open.stop
            && ms_between(stop.time, p.time) >= lim.stop_ms
        {
            self.close(stop, lim, out);
        }
    }

    fn close(&mut self, end: Mark, lim: &Limits, out: &mut Vec<Record>) {
        let Some(open) = self.open.take() else {
            return;
        };
        let ms = ms_between(open.start, end.time);
        let (distance_m, distance_source) = trip_distance(&open, &end, ms, lim);
        if let Some(q) = end.pos {
            self.anchor = Some(q);
            self.anchor_n = 1;
        }
        if !counts(distance_m, distance_source, ms, end.reach, lim) {
            return;
        }
        let (Some(start_pos), Some(end_pos)) = (open.start_pos, end.pos.or(open.start_pos)) else {
            out.push(Record::Deviation(Deviation {
                from: open.start,
                to: end.time,
                kind: DeviationKind::NoFix,
                km_across: distance_m / 1000.0,
                source: distance_source,
                odometer_m: None,
            }));
            self.devs_closed += 1;
            return;
        };
        out.push(Record::Trip(Trip {
            start: open.start,
            end: end.time,
            start_pos,
            end_pos,
            distance_m,
            odometer_start_m: open.odo_start,
            odometer_end_m: end.odo,
            distance_source,
            driver_id: open.driver_id,
            private: open.private,
            points: end.points,
        }));
        self.trips_closed += 1;
    }
}
