//! The result depends on the set of points in the late-data window, not on the order they
//! arrived in: shuffled arrival (one by one or in batches) folds to the same trips and
//! deviations as in-order arrival.

use std::path::Path;

use domain::{Position, Timestamp};
use proptest::prelude::*;
use trips::trace::{self, Folded, Item};
use trips::{TrackPoint, TripBuilder, TripConfig};

/// Feeds points in the given order (in batches of `batch` when > 1), lets the caller's clock
/// tick after every `clock_every`-th push (0: never) to `lag_s` past the newest point so far,
/// then lets the clock run past the end, and folds the events.
fn run_with_clock(
    points: &[TrackPoint],
    batch: usize,
    clock_every: usize,
    lag_s: i64,
    end: Timestamp,
) -> Folded {
    let mut b = TripBuilder::new(TripConfig::default());
    let mut out = Vec::new();
    let mut newest = i64::MIN;
    for (i, chunk) in points.chunks(batch.max(1)).enumerate() {
        if batch <= 1 {
            b.push(chunk[0].clone(), &mut out);
        } else {
            b.push_batch(chunk.iter().cloned(), &mut out);
        }
        newest = chunk.iter().map(|p| p.time.millis()).fold(newest, i64::max);
        if clock_every > 0 && i % clock_every == 0 {
            b.advance_to(Timestamp::from_millis(newest + lag_s * 1000), &mut out);
        }
    }
    b.advance_to(end, &mut out);
    trace::fold(&out)
}

fn run(points: &[TrackPoint], batch: usize, end: Timestamp) -> Folded {
    run_with_clock(points, batch, 0, 0, end)
}

fn in_order(points: &[TrackPoint]) -> (Folded, Timestamp) {
    let mut sorted = points.to_vec();
    sorted.sort_by_key(|p| p.time);
    let end = Timestamp::from_millis(sorted.last().map_or(0, |p| p.time.millis()) + 3 * 3_600_000);
    (run(&sorted, 1, end), end)
}

#[derive(Clone, Debug)]
enum Segment {
    Park {
        points: u32,
        jitter_m: f64,
    },
    Drive {
        points: u32,
        step_m: f64,
        heading: f64,
    },
    NoFix {
        points: u32,
    },
    Silent {
        secs: i64,
        step_m: f64,
    },
}

fn segment() -> impl Strategy<Value = Segment> {
    prop_oneof![
        3 => (1u32..25, 0.0f64..40.0).prop_map(|(points, jitter_m)| Segment::Park { points, jitter_m }),
        4 => (1u32..40, 5.0f64..600.0, 0.0f64..360.0)
            .prop_map(|(points, step_m, heading)| Segment::Drive { points, step_m, heading }),
        1 => (1u32..10).prop_map(|points| Segment::NoFix { points }),
        1 => (60i64..1500, 0.0f64..8000.0).prop_map(|(secs, step_m)| Segment::Silent { secs, step_m }),
    ]
}

#[derive(Clone, Debug)]
struct Device {
    ignition: bool,
    odometer: bool,
    every_s: i64,
}

/// A synthetic trace in time order, spanning well under the 6 h window.
fn trace() -> impl Strategy<Value = Vec<TrackPoint>> {
    (
        any::<bool>(),
        any::<bool>(),
        5i64..60,
        prop::collection::vec((segment(), any::<bool>()), 1..14),
        any::<u64>(),
    )
        .prop_map(|(ignition, odometer, every_s, segments, seed)| {
            let dev = Device {
                ignition,
                odometer,
                every_s,
            };
            build(&dev, &segments, seed)
        })
}

fn build(dev: &Device, segments: &[(Segment, bool)], seed: u64) -> Vec<TrackPoint> {
    let (mut lat, mut lon, mut odo) = (59.9, 10.7, 10_000.0);
    let mut t = 1_710_000_000_000i64;
    let mut rng = seed;
    let mut noise = move || {
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (rng >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let mut out = Vec::new();
    let step = |lat: &mut f64, lon: &mut f64, m: f64, heading: f64| {
        let h = heading.to_radians();
        *lat += m * h.cos() / 111_195.0;
        *lon += m * h.sin() / (111_195.0 * lat.to_radians().cos());
    };
    for (seg, private) in segments {
        let moving = matches!(seg, Segment::Drive { .. } | Segment::NoFix { .. });
        let point = |t: i64, pos: Option<(f64, f64)>, odo: f64| TrackPoint {
            time: Timestamp::from_millis(t),
            position: pos.and_then(|(a, b)| Position::new(a, b)),
            ignition: dev.ignition.then_some(moving),
            odometer_m: dev.odometer.then_some(odo.round()),
            driver_id: None,
            private: *private,
            rank: 0,
        };
        match *seg {
            Segment::Park { points, jitter_m } => {
                for _ in 0..points {
                    t += dev.every_s * 1000;
                    let (mut a, mut b) = (lat, lon);
                    step(
                        &mut a,
                        &mut b,
                        jitter_m * noise().abs() * 2.0,
                        noise() * 720.0,
                    );
                    out.push(point(t, Some((a, b)), odo));
                }
            }
            Segment::Drive {
                points,
                step_m,
                heading,
            } => {
                for _ in 0..points {
                    t += dev.every_s * 1000;
                    step(&mut lat, &mut lon, step_m, heading + noise() * 30.0);
                    odo += step_m;
                    out.push(point(t, Some((lat, lon)), odo));
                }
            }
            Segment::NoFix { points } => {
                for _ in 0..points {
                    t += dev.every_s * 1000;
                    odo += 300.0;
                    step(&mut lat, &mut lon, 300.0, 0.0);
                    out.push(point(t, None, odo));
                }
            }
            Segment::Silent { secs, step_m } => {
                t += secs * 1000;
                step(&mut lat, &mut lon, step_m, 90.0);
                odo += step_m * 1.1;
                out.push(point(t, Some((lat, lon)), odo));
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn shuffled_arrival_gives_the_same_trips(
        (points, order) in trace().prop_flat_map(|pts| {
            let n = pts.len();
            (Just(pts), Just((0..n).collect::<Vec<_>>()).prop_shuffle())
        }),
        batch in prop_oneof![Just(1usize), 2usize..40],
        clock_every in 0usize..8,
        lag_s in 0i64..5000,
    ) {
        let (expected, end) = in_order(&points);
        let shuffled: Vec<TrackPoint> = order.iter().map(|&i| points[i].clone()).collect();
        let actual = run_with_clock(&shuffled, batch, clock_every, lag_s, end);
        prop_assert_eq!(actual, expected);
    }

    #[test]
    fn a_tracker_and_a_phone_in_any_arrival_order_give_the_same_trips(
        (points, order) in (trace(), 0.0f64..1.0, 0.0f64..0.5).prop_flat_map(|(tracker, gap_at, gap_len)| {
            // The tracker falls silent for a stretch; the driver's phone (rank 1) rode along
            // all the time, 7 s after each tracker point and about 20 m off, without ignition
            // or odometer.
            let n = tracker.len();
            let (a, b) = ((n as f64 * gap_at) as usize, ((n as f64 * (gap_at + gap_len)) as usize).min(n));
            let mut pts: Vec<TrackPoint> = tracker
                .iter()
                .map(|p| TrackPoint {
                    time: Timestamp::from_millis(p.time.millis() + 7_000),
                    position: p.position.and_then(|q| Position::new(q.lat() + 0.00018, q.lon())),
                    ignition: None,
                    odometer_m: None,
                    driver_id: None,
                    private: p.private,
                    rank: 1,
                })
                .collect();
            pts.extend(tracker[..a].iter().cloned());
            pts.extend(tracker[b..].iter().cloned());
            let m = pts.len();
            (Just(pts), Just((0..m).collect::<Vec<_>>()).prop_shuffle())
        }),
        batch in prop_oneof![Just(1usize), 2usize..40],
    ) {
        let (expected, end) = in_order(&points);
        let shuffled: Vec<TrackPoint> = order.iter().map(|&i| points[i].clone()).collect();
        prop_assert_eq!(run(&shuffled, batch, end), expected);
    }

    #[test]
    fn buffered_tail_arriving_late_gives_the_same_trips(
        points in trace(),
        cut in 0.0f64..1.0,
        reversed in any::<bool>(),
    ) {
        // A device loses coverage: the records after `cut` are held back while newer live
        // records (the last quarter) arrive first, then the buffer is emptied.
        let (expected, end) = in_order(&points);
        let n = points.len();
        let a = ((n as f64) * cut) as usize;
        let b = a + (n - a) * 3 / 4;
        let mut arrival: Vec<TrackPoint> = points[..a].to_vec();
        arrival.extend_from_slice(&points[b..]);
        let mut held: Vec<TrackPoint> = points[a..b].to_vec();
        if reversed {
            held.reverse();
        }
        arrival.extend(held);
        prop_assert_eq!(run(&arrival, 1, end), expected);
    }
}

/// The test traces too, shuffled (only the points inside the window of the newest one: older
/// ones are dropped by design, so their effect depends on arrival).
#[test]
fn test_data_traces_shuffled() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test_data/trips");
    let window = TripConfig::default().late_window.as_millis() as i64;
    for entry in std::fs::read_dir(&dir).expect("test_data/trips exists") {
        let path = entry.expect("a directory entry").path();
        if path.extension().is_none_or(|e| e != "trace") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable");
        let items = trace::parse(&text).expect("a valid trace");
        let mut points: Vec<TrackPoint> = Vec::new();
        for item in items {
            match item {
                Item::Point(p) => points.push(p),
                Item::Batch(b) => points.extend(b),
                Item::Advance(_) => {}
            }
        }
        points.sort_by_key(|p| p.time);
        points.dedup_by_key(|p| p.time);
        let newest = points.last().map_or(0, |p| p.time.millis());
        points.retain(|p| p.time.millis() > newest - window);
        let (expected, end) = in_order(&points);
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for round in 0..20 {
            let mut shuffled = points.clone();
            for i in (1..shuffled.len()).rev() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                shuffled.swap(i, (seed % (i as u64 + 1)) as usize);
            }
            let batch = if round % 2 == 0 { 1 } else { 7 };
            assert_eq!(run(&shuffled, batch, end), expected, "{}", path.display());
        }
    }
}
