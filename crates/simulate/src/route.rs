//! Plausible driving around Oslo: a vehicle goes from one place to the next at city speeds,
//! stops there with the ignition off, and goes on. Deterministic for a given seed.

use domain::Position;

/// Places in the Oslo area a service vehicle plausibly drives between (the demo's sites
/// among them).
pub const OSLO_PLACES: &[(f64, f64)] = &[
    (59.9275, 10.8452), // Alnabru depot
    (59.9296, 10.7155), // Majorstuen
    (59.9155, 10.7725), // Tøyen
    (59.8954, 10.6262), // Fornebu
    (59.9560, 11.0490), // Lillestrøm
    (59.9139, 10.7522), // Oslo sentrum
    (59.9494, 10.7681), // Nydalen
    (59.8833, 10.8020), // Bryn
    (59.9614, 10.9216), // Furuset
    (59.8567, 10.7906), // Holmlia
    (59.9230, 10.6650), // Ullern
    (59.7439, 10.2045), // Drammen
];

/// A small deterministic generator (xorshift): the same seed drives the same day.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// Where a vehicle is and what it is doing, advanced one step at a time.
#[derive(Clone)]
pub struct Vehicle {
    rng: Rng,
    pos: (f64, f64),
    target: (f64, f64),
    speed_kmh: f64,
    /// Seconds left standing still at a stop.
    parked_s: f64,
    pub odometer_m: f64,
    /// This leg is a private errand: the driver pressed the privacy button (DIN2).
    private: bool,
}

/// One sample of the vehicle's state.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    pub position: Position,
    pub speed_kmh: f64,
    pub course_deg: u16,
    pub ignition: bool,
    pub odometer_m: f64,
    /// The privacy button is on (a private errand).
    pub private: bool,
    /// The panic button was pressed (rarely: about once in 1,500 samples while driving).
    pub panic: bool,
}

impl Vehicle {
    pub fn new(seed: u64) -> Vehicle {
        let mut rng = Rng::new(seed);
        let start = OSLO_PLACES[rng.below(OSLO_PLACES.len())];
        let jitter = (rng.unit() - 0.5) * 0.01;
        let mut v = Vehicle {
            rng,
            pos: (start.0 + jitter, start.1 + jitter),
            target: start,
            speed_kmh: 0.0,
            parked_s: 0.0,
            odometer_m: 10_000_000.0 + (seed % 1000) as f64 * 1000.0,
            private: false,
        };
        v.pick_target();
        v
    }

    fn pick_target(&mut self) {
        // About one leg in five is a private errand (a doctor's visit, say).
        self.private = self.rng.below(5) == 0;
        let next = OSLO_PLACES[self.rng.below(OSLO_PLACES.len())];
        let j = |r: &mut Rng| (r.unit() - 0.5) * 0.004;
        self.target = (next.0 + j(&mut self.rng), next.1 + j(&mut self.rng));
    }

    /// Advances `dt` seconds and returns the new state.
    pub fn step(&mut self, dt: f64) -> Sample {
        let here = Position::new(self.pos.0, self.pos.1);
        let there = Position::new(self.target.0, self.target.1);
        let (Some(here), Some(there)) = (here, there) else {
            return self.sample(0);
        };
        if self.parked_s > 0.0 {
            self.parked_s -= dt;
            self.speed_kmh = 0.0;
            if self.parked_s <= 0.0 {
                self.pick_target();
            }
            return self.sample(0);
        }
        let dist = here.distance_m(there);
        // City traffic: 25–70 km/h, varying.
        self.speed_kmh = 25.0 + 45.0 * self.rng.unit();
        let travel = self.speed_kmh / 3.6 * dt;
        let course = bearing(here, there);
        if travel >= dist {
            self.pos = self.target;
            self.odometer_m += dist;
            // Stop 3–20 minutes: long enough to end a trip.
            self.parked_s = 180.0 + 1020.0 * self.rng.unit();
        } else {
            let f = travel / dist;
            self.pos.0 += (self.target.0 - self.pos.0) * f;
            self.pos.1 += (self.target.1 - self.pos.1) * f;
            self.odometer_m += travel;
        }
        self.sample(course)
    }

    fn sample(&mut self, course_deg: u16) -> Sample {
        let panic = self.parked_s <= 0.0 && self.rng.below(1500) == 0;
        Sample {
            position: Position::new(self.pos.0, self.pos.1)
                .expect("positions stay between Oslo places"),
            speed_kmh: self.speed_kmh,
            course_deg,
            ignition: self.parked_s <= 0.0,
            odometer_m: self.odometer_m,
            private: self.private,
            panic,
        }
    }
}

fn bearing(a: Position, b: Position) -> u16 {
    let (p1, p2) = (a.lat().to_radians(), b.lat().to_radians());
    let dl = (b.lon() - a.lon()).to_radians();
    let y = dl.sin() * p2.cos();
    let x = p1.cos() * p2.sin() - p1.sin() * p2.cos() * dl.cos();
    ((y.atan2(x).to_degrees() + 360.0) % 360.0) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vehicle_drives_stops_and_accumulates_distance() {
        let mut v = Vehicle::new(7);
        let start = v.odometer_m;
        let mut stopped = 0;
        for _ in 0..3600 {
            let s = v.step(1.0);
            assert!((59.0..61.0).contains(&s.position.lat()), "{s:?}");
            if !s.ignition {
                stopped += 1;
            }
        }
        assert!(
            v.odometer_m - start > 5_000.0,
            "an hour of driving covers ground"
        );
        assert!(stopped > 0, "it stops somewhere in an hour");
    }
}
