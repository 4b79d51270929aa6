//! Trip building throughput over a long synthetic in-order trace, one core.
//!
//! `cargo bench -p trips --bench build`. The trace is generated while it is fed (cheap
//! arithmetic), so the numbers include making the points: a lower bound for the builder.

use std::hint::black_box;
use std::time::Instant;

use domain::{Position, Timestamp};
use trips::{Event, TrackPoint, TripBuilder, TripConfig};

/// A vehicle that drives for 20 minutes at about 50 km/h, then parks for 10 with the GPS
/// wandering around the parking spot, reporting every second.
struct Trace {
    i: i64,
    lat: f64,
    lon: f64,
    odo: f64,
    rng: u64,
    ignition: bool,
}

impl Trace {
    fn next(&mut self) -> TrackPoint {
        self.i += 1;
        self.rng = self
            .rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let noise = ((self.rng >> 33) as f64 / (1u64 << 31) as f64 - 0.5) * 0.0002;
        let phase = self.i % 1800;
        let driving = phase < 1200;
        if driving {
            let heading = (self.i / 300) as f64 * 0.7;
            self.lat += heading.cos() * 0.00012;
            self.lon += heading.sin() * 0.00024;
            self.odo += 14.0;
            if self.lat > 63.0 || self.lat < 58.5 {
                self.lat = 60.0;
            }
            if self.lon > 12.0 || self.lon < 6.0 {
                self.lon = 10.0;
            }
        }
        let (lat, lon) = if driving {
            (self.lat, self.lon)
        } else {
            (self.lat + noise * 0.2, self.lon + noise * 0.4)
        };
        TrackPoint {
            time: Timestamp::from_millis(1_700_000_000_000 + self.i * 1000),
            position: Position::new(lat, lon),
            ignition: self.ignition.then_some(driving),
            odometer_m: self.ignition.then_some(self.odo),
            driver_id: None,
            private: false,
            rank: 0,
        }
    }
}

fn run(name: &str, ignition: bool, n: i64) {
    let mut trace = Trace {
        i: 0,
        lat: 59.91,
        lon: 10.75,
        odo: 100_000.0,
        rng: 7,
        ignition,
    };
    let mut b = TripBuilder::new(TripConfig::default());
    let mut out: Vec<Event> = Vec::with_capacity(16);
    let mut trips = 0u64;
    let start = Instant::now();
    for _ in 0..n {
        b.push(trace.next(), &mut out);
        trips += out
            .iter()
            .filter(|e| matches!(e, Event::TripClosed(_)))
            .count() as u64;
        out.clear();
    }
    let secs = start.elapsed().as_secs_f64();
    black_box(&b);
    println!(
        "{name:<22} {n} points in {secs:.3} s = {:.1} M points/s ({trips} trips)",
        n as f64 / secs / 1e6
    );
}

/// A fixed tracker and a phone in the same vehicle, each at 1 Hz, the phone half a second
/// after the tracker and 15 m off: every phone point is covered by the tracker's.
fn run_merged(n: i64) {
    let mut trace = Trace {
        i: 0,
        lat: 59.91,
        lon: 10.75,
        odo: 100_000.0,
        rng: 7,
        ignition: true,
    };
    let mut b = TripBuilder::new(TripConfig::default());
    let mut out: Vec<Event> = Vec::with_capacity(16);
    let mut trips = 0u64;
    let start = Instant::now();
    for _ in 0..n / 2 {
        let p = trace.next();
        let phone = TrackPoint {
            time: Timestamp::from_millis(p.time.millis() + 500),
            position: p
                .position
                .and_then(|q| Position::new(q.lat() + 0.000_135, q.lon())),
            ignition: None,
            odometer_m: None,
            driver_id: None,
            private: false,
            rank: 1,
        };
        b.push(p, &mut out);
        b.push(phone, &mut out);
        trips += out
            .iter()
            .filter(|e| matches!(e, Event::TripClosed(_)))
            .count() as u64;
        out.clear();
    }
    let secs = start.elapsed().as_secs_f64();
    black_box(&b);
    println!(
        "{:<22} {n} points in {secs:.3} s = {:.1} M points/s ({trips} trips)",
        "tracker+phone merged",
        n as f64 / secs / 1e6
    );
}

fn main() {
    let n = std::env::var("POINTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000_000);
    run("by motion", false, n);
    run("by ignition+odometer", true, n);
    run_merged(n);
}
