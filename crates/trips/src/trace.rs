//! A plain-text trace format and a plain-text rendering of events: for the test traces in
//! `test_data/trips/`, and for replaying a vehicle's points when a trip looks wrong.
//!
//! One item per line, in arrival order (which need not be time order):
//!
//! ```text
//! # time, lat, lon, ignition, odometer_m, private, driver, rank
//! 2024-03-04T07:00:00Z, 59.91000, 10.75000, 1, 120000, 0, D17
//! 2024-03-04T07:00:30Z, , , 1, , ,          # no fix: empty fields are absent values
//! @advance 2024-03-04T09:00:00Z             # the caller's clock (TripBuilder::advance_to)
//! @batch                                    # the points up to @end go in one push_batch
//! @end
//! ```
//!
//! `ignition` and `private` are `1`/`0` (empty: absent and not private); `rank` is the device's
//! rank on the vehicle (empty: 0, the first device); trailing fields may be left out. `#`
//! starts a comment.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use domain::{Position, Timestamp};

use crate::{Deviation, DeviationKind, Event, TrackPoint, Trip, TripBuilder};

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Point(TrackPoint),
    Advance(Timestamp),
    Batch(Vec<TrackPoint>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceError {
    pub line: usize,
    pub what: String,
}

impl std::fmt::Display for TraceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "trace line {}: {}", self.line, self.what)
    }
}

impl std::error::Error for TraceError {}

fn field<T>(
    line: usize,
    name: &str,
    s: Option<&str>,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Option<T>, TraceError> {
    match s.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => parse(v).map(Some).ok_or_else(|| TraceError {
            line,
            what: format!("{name} {v:?} is not valid"),
        }),
    }
}

fn flag(v: &str) -> Option<bool> {
    match v {
        "1" => Some(true),
        "0" => Some(false),
        _ => None,
    }
}

fn point(line: usize, text: &str) -> Result<TrackPoint, TraceError> {
    let mut f = text.split(',');
    let time = field(line, "time", f.next(), Timestamp::parse_rfc3339)?.ok_or(TraceError {
        line,
        what: "a point needs a time".into(),
    })?;
    let lat = field(line, "lat", f.next(), |v| v.parse::<f64>().ok())?;
    let lon = field(line, "lon", f.next(), |v| v.parse::<f64>().ok())?;
    let position = match (lat, lon) {
        (Some(lat), Some(lon)) => Some(Position::new(lat, lon).ok_or(TraceError {
            line,
            what: format!("{lat},{lon} is not on the globe"),
        })?),
        (None, None) => None,
        _ => {
            return Err(TraceError {
                line,
                what: "lat and lon come together".into(),
            });
        }
    };
    let ignition = field(line, "ignition", f.next(), flag)?;
    let odometer_m = field(line, "odometer", f.next(), |v| v.parse::<f64>().ok())?;
    let private = field(line, "private", f.next(), flag)?.unwrap_or(false);
    let driver_id = field(line, "driver", f.next(), |v| Some(v.to_owned()))?;
    let rank = field(line, "rank", f.next(), |v| v.parse::<u8>().ok())?.unwrap_or(0);
    Ok(TrackPoint {
        time,
        position,
        ignition,
        odometer_m,
        driver_id,
        private,
        rank,
    })
}

/// Parses a trace.
pub fn parse(text: &str) -> Result<Vec<Item>, TraceError> {
    let mut items = Vec::new();
    let mut batch: Option<Vec<TrackPoint>> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let l = raw.split('#').next().unwrap_or(raw).trim();
        if l.is_empty() {
            continue;
        }
        if let Some(rest) = l.strip_prefix("@advance") {
            let t = Timestamp::parse_rfc3339(rest.trim()).ok_or(TraceError {
                line,
                what: format!("{:?} is not an RFC 3339 time", rest.trim()),
            })?;
            items.push(Item::Advance(t));
        } else if l == "@batch" {
            batch = Some(Vec::new());
        } else if l == "@end" {
            let b = batch.take().ok_or(TraceError {
                line,
                what: "@end without @batch".into(),
            })?;
            items.push(Item::Batch(b));
        } else if l.starts_with('@') {
            return Err(TraceError {
                line,
                what: format!("unknown directive {l:?}"),
            });
        } else {
            let p = point(line, l)?;
            match batch.as_mut() {
                Some(b) => b.push(p),
                None => items.push(Item::Point(p)),
            }
        }
    }
    if batch.is_some() {
        return Err(TraceError {
            line: text.lines().count(),
            what: "@batch without @end".into(),
        });
    }
    Ok(items)
}

/// Feeds a parsed trace to a builder and returns everything it emitted.
pub fn run(builder: &mut TripBuilder, items: &[Item]) -> Vec<Event> {
    let mut out = Vec::new();
    for item in items {
        match item {
            Item::Point(p) => builder.push(p.clone(), &mut out),
            Item::Advance(t) => builder.advance_to(*t, &mut out),
            Item::Batch(b) => builder.push_batch(b.iter().cloned(), &mut out),
        }
    }
    out
}

/// The trips and deviations a consumer holds after applying `events` in order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Folded {
    pub trips: BTreeMap<Timestamp, Trip>,
    /// Keyed by start and kind: an odometer deviation can start where a silence does.
    pub deviations: BTreeMap<(Timestamp, DeviationKind), Deviation>,
}

/// Applies events the way a driving log would store them.
pub fn fold<'a>(events: impl IntoIterator<Item = &'a Event>) -> Folded {
    let mut f = Folded::default();
    for e in events {
        match e {
            Event::TripClosed(t) => {
                f.trips.insert(t.start, t.clone());
            }
            Event::TripRevised { old, new } => {
                f.trips.remove(&old.start);
                f.trips.insert(new.start, new.clone());
            }
            Event::TripReplaced { old, new } => {
                for t in old {
                    f.trips.remove(&t.start);
                }
                for t in new {
                    f.trips.insert(t.start, t.clone());
                }
            }
            Event::Deviation(d) => {
                f.deviations.insert((d.from, d.kind), d.clone());
            }
            Event::DeviationWithdrawn(d) => {
                f.deviations.remove(&(d.from, d.kind));
            }
            Event::TripOpened { .. }
            | Event::OpenTripWithdrawn { .. }
            | Event::LateDropped { .. } => {}
        }
    }
    f
}

fn pos(p: Position) -> String {
    format!("{:.5},{:.5}", p.lat(), p.lon())
}

fn odo(m: Option<f64>) -> String {
    m.map_or_else(|| "-".to_owned(), |m| format!("{m:.0}"))
}

/// One trip on one line.
pub fn render_trip(t: &Trip) -> String {
    let mut s = format!(
        "{} -> {} (date {}) {:.3} km by {}, odometer {} -> {}, {} -> {}, {} points",
        t.start,
        t.end,
        t.local_date(),
        t.distance_m / 1000.0,
        t.distance_source.as_str(),
        odo(t.odometer_start_m),
        odo(t.odometer_end_m),
        pos(t.start_pos),
        pos(t.end_pos),
        t.points,
    );
    if let Some(d) = &t.driver_id {
        let _ = write!(s, ", driver {d}");
    }
    if t.private {
        s.push_str(", PRIVATE");
    }
    s
}

/// One deviation on one line.
pub fn render_deviation(d: &Deviation) -> String {
    let mut s = format!(
        "{} {} -> {}, {:.3} km across by {}",
        d.kind.as_str(),
        d.from,
        d.to,
        d.km_across,
        d.source.as_str()
    );
    if let Some((before, after)) = d.odometer_m {
        let _ = write!(s, ", odometer {before:.0} -> {after:.0}");
    }
    s
}

/// One event, one or more lines.
pub fn render_event(e: &Event) -> String {
    match e {
        Event::TripOpened { start, private } => {
            format!(
                "opened    {start}{}",
                if *private { " PRIVATE" } else { "" }
            )
        }
        Event::TripClosed(t) => format!("closed    {}", render_trip(t)),
        Event::TripRevised { old, new } => format!(
            "revised   {}\n       to {}",
            render_trip(old),
            render_trip(new)
        ),
        Event::TripReplaced { old, new } => {
            let mut s = String::from("replaced");
            for t in old {
                let _ = write!(s, "\n  old     {}", render_trip(t));
            }
            if new.is_empty() {
                s.push_str("\n  new     (none)");
            }
            for t in new {
                let _ = write!(s, "\n  new     {}", render_trip(t));
            }
            s
        }
        Event::OpenTripWithdrawn { start } => format!("withdrawn open trip from {start}"),
        Event::Deviation(d) => format!("deviation {}", render_deviation(d)),
        Event::DeviationWithdrawn(d) => format!("deviation withdrawn {}", render_deviation(d)),
        Event::LateDropped { time, window_start } => {
            format!("late-dropped {time} (window starts after {window_start})")
        }
    }
}
