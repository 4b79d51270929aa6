//! The online builder: one per vehicle, points in as they arrive, events out.

use std::collections::VecDeque;

use domain::Timestamp;

use crate::config::{Limits, TripConfig};
use crate::machine::{Machine, Record};
use crate::types::{Deviation, Event, TrackPoint, Trip};

/// A point of the window. `covered`: a device of a lower rank sent a point within
/// `gap_fill_cover` of it, so the segmenter skips it (once covered, always: points are only
/// ever added to the window).
#[derive(Clone, Debug)]
struct Held {
    p: TrackPoint,
    covered: bool,
}

/// A copy of the segmenter's state after the point at `key` (`i64::MIN` for the empty start).
#[derive(Clone, Debug)]
struct Checkpoint {
    key: Timestamp,
    machine: Machine,
}

/// Builds one vehicle's trips online.
///
/// In-order points take the fast path: one step of the segmenter, no allocation (beyond a
/// state copy every five minutes of device time and the trips it closes). A point older than
/// the newest one is inserted into the buffer of the last `late_window`, the trips from the
/// nearest state copy before it are rebuilt, and the differences are reported as
/// [`Event::TripRevised`], [`Event::TripReplaced`], [`Event::TripClosed`] (a trip only the late
/// data shows), [`Event::Deviation`] and [`Event::DeviationWithdrawn`]. Points at or before the
/// window start (newest point's time minus `late_window`) are reported as
/// [`Event::LateDropped`]; a point with the same time and rank as one already held is a
/// duplicate and is ignored (the first one wins).
///
/// One vehicle, several devices: each point carries its device's rank ([`TrackPoint::rank`]).
/// The segmenter sees the merged stream: a point is skipped when a point of a lower rank lies
/// within `gap_fill_cover` of it. A covered point, however late it comes, changes nothing, so a
/// late batch from a phone cannot revise a trip the tracker recorded; a phone point the
/// tracker later covers is taken out by a rebuild.
///
/// Architecture Invariant: no clock. Time moves only with the points and with
/// [`TripBuilder::advance_to`], which the caller calls with its clock.
#[derive(Clone, Debug)]
pub struct TripBuilder {
    lim: Limits,
    /// The points of the window, in (time, rank) order.
    buf: VecDeque<Held>,
    /// `checkpoints[0]` is the base: nothing before its key can change any more.
    checkpoints: VecDeque<Checkpoint>,
    live: Machine,
    newest: Option<Timestamp>,
    /// The latest time given to `advance_to`.
    clock: Option<Timestamp>,
    /// The clock closed a trip the points alone have not closed yet: a point before `clock`
    /// must go through a rebuild.
    clock_closed: bool,
    /// Published trips and deviations with their sequence numbers, back to the base.
    trips: VecDeque<(u64, Trip)>,
    devs: VecDeque<(u64, Deviation)>,
    announced: Option<Timestamp>,
    scratch: Vec<Record>,
    /// How many points of the window from a device of rank above 0 are in use (not covered):
    /// while there are none, a point covers nothing and the fast path skips the search.
    uncovered_ranked: usize,
}

impl TripBuilder {
    pub fn new(config: TripConfig) -> TripBuilder {
        let lim = Limits::from(&config);
        let mut checkpoints = VecDeque::new();
        checkpoints.push_back(Checkpoint {
            key: Timestamp::from_millis(i64::MIN),
            machine: Machine::default(),
        });
        TripBuilder {
            lim,
            buf: VecDeque::new(),
            checkpoints,
            live: Machine::default(),
            newest: None,
            clock: None,
            clock_closed: false,
            trips: VecDeque::new(),
            devs: VecDeque::new(),
            announced: None,
            scratch: Vec::new(),
            uncovered_ranked: 0,
        }
    }

    /// The start of the late-data window: points at or before it are dropped.
    pub fn window_start(&self) -> Option<Timestamp> {
        self.newest
            .map(|n| Timestamp::from_millis(n.millis().saturating_sub(self.lim.window_ms)))
    }

    /// The start of the trip in progress, once it counts as a trip.
    pub fn open_trip(&self) -> Option<Timestamp> {
        self.announced
    }

    /// Takes one point as it arrives.
    pub fn push(&mut self, p: TrackPoint, out: &mut Vec<Event>) {
        match self.admit(p, out) {
            Admit::Step(p) => self.step_fast(p, out),
            Admit::Rebuild(t) => self.rebuild(t, out),
            Admit::Held => {}
        }
        self.prune();
    }

    /// Sorts a point into the fast path, the window without effect (covered, dropped or a
    /// duplicate), or a rebuild from a time.
    fn admit(&mut self, p: TrackPoint, out: &mut Vec<Event>) -> Admit {
        // One device, or a phone wholly covered by the tracker (the common cases): nothing to
        // cover, and only a phone's point can be covered.
        let may_cover = self.uncovered_ranked > 0;
        let covered = p.rank > 0 && self.is_covered(&p);
        if !covered && self.fast_path_takes(&p) && !(may_cover && self.covers_used(p.time, p.rank))
        {
            return Admit::Step(p);
        }
        let (t, rank) = (p.time, p.rank);
        if self.insert_late(p, covered, out).is_none() {
            return Admit::Held;
        }
        let uncovered_from = if may_cover {
            self.cover_higher_ranks(t, rank)
        } else {
            None
        };
        match (uncovered_from, covered) {
            (Some(u), false) => Admit::Rebuild(u.min(t)),
            (Some(u), true) => Admit::Rebuild(u),
            (None, false) => Admit::Rebuild(t),
            (None, true) => Admit::Held,
        }
    }

    /// Whether a point of a lower rank lies within the cover of `p`.
    fn is_covered(&self, p: &TrackPoint) -> bool {
        if p.rank == 0 {
            return false;
        }
        let (lo, hi) = self.cover_range(p.time);
        self.buf.range(lo..hi).any(|h| h.p.rank < p.rank)
    }

    /// Whether a point of a rank higher than `rank` within the cover of `t` is in use.
    fn covers_used(&self, t: Timestamp, rank: u8) -> bool {
        let (lo, hi) = self.cover_range(t);
        self.buf
            .range(lo..hi)
            .any(|h| h.p.rank > rank && !h.covered)
    }

    /// Marks the points of ranks higher than `rank` around `t` as covered; returns the
    /// earliest one the segmenter had used, if any (the trips from there are rebuilt without
    /// it).
    fn cover_higher_ranks(&mut self, t: Timestamp, rank: u8) -> Option<Timestamp> {
        let (lo, hi) = self.cover_range(t);
        let mut earliest = None;
        for h in self.buf.range_mut(lo..hi) {
            if h.p.rank > rank && !h.covered {
                h.covered = true;
                self.uncovered_ranked = self.uncovered_ranked.saturating_sub(1);
                earliest = Some(earliest.map_or(h.p.time, |e: Timestamp| e.min(h.p.time)));
            }
        }
        earliest
    }

    /// The buffer's index range of the points within the cover of `t`.
    fn cover_range(&self, t: Timestamp) -> (usize, usize) {
        let from = t.millis().saturating_sub(self.lim.cover_ms);
        let to = t.millis().saturating_add(self.lim.cover_ms);
        let lo = self.buf.partition_point(|h| h.p.time.millis() < from);
        let hi = self.buf.partition_point(|h| h.p.time.millis() <= to);
        (lo, hi.max(lo))
    }

    /// Takes a batch (e.g. a device's buffered records after a coverage gap): like pushing
    /// each, but rebuilds at most once.
    pub fn push_batch(
        &mut self,
        points: impl IntoIterator<Item = TrackPoint>,
        out: &mut Vec<Event>,
    ) {
        let mut earliest: Option<Timestamp> = None;
        for p in points {
            match self.admit(p, out) {
                Admit::Step(p) if earliest.is_none() => self.step_fast(p, out),
                Admit::Step(p) => {
                    let t = p.time;
                    if self.insert_late(p, false, out).is_some() {
                        earliest = Some(earliest.map_or(t, |e| e.min(t)));
                    }
                }
                Admit::Rebuild(t) => earliest = Some(earliest.map_or(t, |e| e.min(t))),
                Admit::Held => {}
            }
        }
        if let Some(t) = earliest {
            self.rebuild(t, out);
        }
        self.prune();
    }

    /// Tells the builder the caller's time. Closes the trip in progress when the clock shows it
    /// has ended: ignition off for `ignition_off_min`, or no points for `trip_max_gap`.
    pub fn advance_to(&mut self, now: Timestamp, out: &mut Vec<Event>) {
        self.clock = Some(self.clock.map_or(now, |c| c.max(now)));
        self.scratch.clear();
        if self.live.close_by_clock(now, &self.lim, &mut self.scratch) {
            self.clock_closed = true;
        }
        self.publish(out);
        self.sync_open(out);
    }

    fn fast_path_takes(&self, p: &TrackPoint) -> bool {
        let after_last = self.live.last_time().is_none_or(|lt| p.time > lt);
        let after_clock = !self.clock_closed || self.clock.is_none_or(|c| p.time >= c);
        after_last && after_clock
    }

    fn step_fast(&mut self, p: TrackPoint, out: &mut Vec<Event>) {
        let t = p.time;
        self.scratch.clear();
        self.live.step(&p, &self.lim, &mut self.scratch);
        if p.rank > 0 {
            self.uncovered_ranked += 1;
        }
        // Covered points of another device may already lie after it in the window.
        let key = (p.time, p.rank);
        if self.buf.back().is_some_and(|h| (h.p.time, h.p.rank) > key) {
            let at = self.buf.partition_point(|h| (h.p.time, h.p.rank) < key);
            self.buf.insert(at, Held { p, covered: false });
        } else {
            self.buf.push_back(Held { p, covered: false });
        }
        self.newest = Some(self.newest.map_or(t, |n| n.max(t)));
        self.clock_closed = false;
        if self
            .checkpoints
            .back()
            .is_none_or(|c| t.millis().saturating_sub(c.key.millis()) >= self.lim.checkpoint_ms)
        {
            self.checkpoints.push_back(Checkpoint {
                key: t,
                machine: self.live.clone(),
            });
        }
        if let Some(c) = self.clock
            && c > t
            && self.live.close_by_clock(c, &self.lim, &mut self.scratch)
        {
            self.clock_closed = true;
        }
        self.publish(out);
        self.sync_open(out);
    }

    /// Puts a late point into the buffer; returns its time, or `None` when it was dropped or a
    /// duplicate.
    fn insert_late(
        &mut self,
        p: TrackPoint,
        covered: bool,
        out: &mut Vec<Event>,
    ) -> Option<Timestamp> {
        let base = self.checkpoints.front().map(|c| c.key);
        if let Some(window_start) = self.window_start()
            && (p.time <= window_start || base.is_some_and(|b| p.time <= b))
        {
            out.push(Event::LateDropped {
                time: p.time,
                window_start,
            });
            return None;
        }
        let key = (p.time, p.rank);
        let at = self.buf.partition_point(|h| (h.p.time, h.p.rank) < key);
        if self
            .buf
            .get(at)
            .is_some_and(|h| (h.p.time, h.p.rank) == key)
        {
            return None;
        }
        let t = p.time;
        if p.rank > 0 && !covered {
            self.uncovered_ranked += 1;
        }
        self.buf.insert(at, Held { p, covered });
        self.newest = Some(self.newest.map_or(t, |n| n.max(t)));
        Some(t)
    }

    /// Replays the buffer from the last state copy before `from` and reports what changed.
    fn rebuild(&mut self, from: Timestamp, out: &mut Vec<Event>) {
        let keep = self.checkpoints.partition_point(|c| c.key < from).max(1);
        self.checkpoints.truncate(keep);
        let Some(base) = self.checkpoints.back() else {
            return;
        };
        let mut m = base.machine.clone();
        let (trip_seq, dev_seq) = (m.trips_closed, m.devs_closed);
        let start = self.buf.partition_point(|h| h.p.time <= base.key);
        let mut last_key = base.key;
        self.scratch.clear();
        for h in self.buf.range(start..) {
            if h.covered {
                continue;
            }
            let p = &h.p;
            m.step(p, &self.lim, &mut self.scratch);
            if p.time.millis().saturating_sub(last_key.millis()) >= self.lim.checkpoint_ms {
                last_key = p.time;
                self.checkpoints.push_back(Checkpoint {
                    key: p.time,
                    machine: m.clone(),
                });
            }
        }
        self.clock_closed = match self.clock {
            Some(c) if m.last_time().is_none_or(|lt| c > lt) => {
                m.close_by_clock(c, &self.lim, &mut self.scratch)
            }
            _ => false,
        };
        self.live = m;

        let old_trips: Vec<Trip> = drain_from(&mut self.trips, trip_seq);
        let old_devs: Vec<Deviation> = drain_from(&mut self.devs, dev_seq);
        let mut new_trips = Vec::new();
        let mut new_devs = Vec::new();
        for r in self.scratch.drain(..) {
            match r {
                Record::Trip(t) => new_trips.push(t),
                Record::Deviation(d) => new_devs.push(d),
            }
        }
        diff_trips(&old_trips, &new_trips, out);
        diff_devs(&old_devs, &new_devs, out);
        self.trips.extend((trip_seq..).zip(new_trips));
        self.devs.extend((dev_seq..).zip(new_devs));
        self.sync_open(out);
    }

    /// Reports what the last step closed and keeps it for later comparison.
    fn publish(&mut self, out: &mut Vec<Event>) {
        let (mut trips, mut devs) = (0, 0);
        for r in &self.scratch {
            match r {
                Record::Trip(_) => trips += 1,
                Record::Deviation(_) => devs += 1,
            }
        }
        let mut trip_seq = self.live.trips_closed.saturating_sub(trips);
        let mut dev_seq = self.live.devs_closed.saturating_sub(devs);
        for r in self.scratch.drain(..) {
            match r {
                Record::Trip(t) => {
                    out.push(Event::TripClosed(t.clone()));
                    self.trips.push_back((trip_seq, t));
                    trip_seq += 1;
                }
                Record::Deviation(d) => {
                    out.push(Event::Deviation(d.clone()));
                    self.devs.push_back((dev_seq, d));
                    dev_seq += 1;
                }
            }
        }
    }

    /// Announces a newly counting open trip, or withdraws one that turned out to be none.
    fn sync_open(&mut self, out: &mut Vec<Event>) {
        let now = self.live.confirmed_open(&self.lim);
        if now.map(|(s, _)| s) == self.announced {
            return;
        }
        if let Some(a) = self.announced.take()
            && !self.trips.iter().rev().any(|(_, t)| t.start == a)
        {
            out.push(Event::OpenTripWithdrawn { start: a });
        }
        if let Some((start, private)) = now {
            out.push(Event::TripOpened { start, private });
            self.announced = Some(start);
        }
    }

    /// Forgets what the window no longer covers.
    fn prune(&mut self) {
        let Some(window_start) = self.window_start() else {
            return;
        };
        while self.checkpoints.len() >= 2
            && self
                .checkpoints
                .get(1)
                .is_some_and(|c| c.key <= window_start)
        {
            self.checkpoints.pop_front();
        }
        let Some(base) = self.checkpoints.front() else {
            return;
        };
        while self.buf.front().is_some_and(|h| h.p.time <= base.key) {
            if self
                .buf
                .pop_front()
                .is_some_and(|h| h.p.rank > 0 && !h.covered)
            {
                self.uncovered_ranked = self.uncovered_ranked.saturating_sub(1);
            }
        }
        let (ts, ds) = (base.machine.trips_closed, base.machine.devs_closed);
        while self.trips.front().is_some_and(|(s, _)| *s < ts) {
            self.trips.pop_front();
        }
        while self.devs.front().is_some_and(|(s, _)| *s < ds) {
            self.devs.pop_front();
        }
    }
}

/// What [`TripBuilder::admit`] decided for a point.
enum Admit {
    Step(TrackPoint),
    Rebuild(Timestamp),
    Held,
}

fn drain_from<T>(q: &mut VecDeque<(u64, T)>, seq: u64) -> Vec<T> {
    let at = q.partition_point(|(s, _)| *s < seq);
    q.drain(at..).map(|(_, t)| t).collect()
}

/// Groups old and new trips that overlap in time and says how each group changed.
fn diff_trips(old: &[Trip], new: &[Trip], out: &mut Vec<Event>) {
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        // Start a group with the earlier-starting trip, then take every trip that overlaps
        // the group's span.
        let first_old = match (old.get(i), new.get(j)) {
            (Some(o), Some(n)) => o.start <= n.start,
            (Some(_), None) => true,
            _ => false,
        };
        let mut end = if first_old { old[i].end } else { new[j].end };
        let (gi, gj) = (i, j);
        if first_old {
            i += 1;
        } else {
            j += 1;
        }
        loop {
            if let Some(o) = old.get(i)
                && o.start <= end
            {
                end = end.max(o.end);
                i += 1;
            } else if let Some(n) = new.get(j)
                && n.start <= end
            {
                end = end.max(n.end);
                j += 1;
            } else {
                break;
            }
        }
        match (&old[gi..i], &new[gj..j]) {
            ([], ns) => out.extend(ns.iter().cloned().map(Event::TripClosed)),
            (os, ns) if os == ns => {}
            ([o], [n]) => out.push(Event::TripRevised {
                old: o.clone(),
                new: n.clone(),
            }),
            (os, ns) => out.push(Event::TripReplaced {
                old: os.to_vec(),
                new: ns.to_vec(),
            }),
        }
    }
}

fn diff_devs(old: &[Deviation], new: &[Deviation], out: &mut Vec<Event>) {
    for o in old {
        if !new.contains(o) {
            out.push(Event::DeviationWithdrawn(o.clone()));
        }
    }
    for n in new {
        if !old.contains(n) {
            out.push(Event::Deviation(n.clone()));
        }
    }
}
