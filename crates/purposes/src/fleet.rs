//! The fleet view (flåtestyring): where each vehicle is now. In memory only; a position
//! expires when it is stale, and a vehicle in privacy mode is absent. Nothing here is ever
//! written anywhere (seed 001, Flåtestyring: storing is not necessary).

use std::collections::HashMap;

use domain::{Position, Timestamp, VehicleId};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LivePosition {
    pub time: Timestamp,
    pub position: Position,
}

#[derive(Debug)]
pub struct FleetView {
    stale_after_ms: i64,
    latest: HashMap<VehicleId, LivePosition>,
}

impl FleetView {
    pub fn new(stale_after_ms: i64) -> FleetView {
        FleetView {
            stale_after_ms,
            latest: HashMap::new(),
        }
    }

    /// Takes a newer position for the vehicle; older ones (late, buffered records) are ignored.
    /// Returns whether the view changed.
    pub fn update(&mut self, vehicle: VehicleId, p: LivePosition, now: Timestamp) -> bool {
        if now.millis() - p.time.millis() > self.stale_after_ms {
            return false;
        }
        match self.latest.get(&vehicle) {
            Some(old) if old.time >= p.time => false,
            _ => {
                self.latest.insert(vehicle, p);
                true
            }
        }
    }

    /// Forgets the vehicle (privacy mode switched on). Returns whether it was there.
    pub fn forget(&mut self, vehicle: VehicleId) -> bool {
        self.latest.remove(&vehicle).is_some()
    }

    /// Drops stale positions; returns the vehicles that left the view.
    pub fn expire(&mut self, now: Timestamp) -> Vec<VehicleId> {
        let limit = self.stale_after_ms;
        let gone: Vec<VehicleId> = self
            .latest
            .iter()
            .filter(|(_, p)| now.millis() - p.time.millis() > limit)
            .map(|(v, _)| *v)
            .collect();
        for v in &gone {
            self.latest.remove(v);
        }
        gone
    }

    /// The current view, vehicle by vehicle.
    pub fn snapshot(&self) -> Vec<(VehicleId, LivePosition)> {
        let mut v: Vec<_> = self.latest.iter().map(|(k, p)| (*k, *p)).collect();
        v.sort_by_key(|(k, _)| *k);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64, lat: f64) -> LivePosition {
        LivePosition {
            time: Timestamp::from_millis(ms),
            position: Position::new(lat, 10.0).expect("valid"),
        }
    }

    #[test]
    fn newest_wins_stale_expires_and_privacy_forgets() {
        let mut view = FleetView::new(600_000);
        let now = Timestamp::from_millis(1_000_000);
        assert!(view.update(VehicleId(1), at(990_000, 59.0), now));
        assert!(
            !view.update(VehicleId(1), at(980_000, 58.0), now),
            "a late record does not move the vehicle back"
        );
        assert!(
            !view.update(VehicleId(2), at(100_000, 58.0), now),
            "already stale"
        );
        assert_eq!(view.snapshot().len(), 1);
        assert!(view.forget(VehicleId(1)));
        assert!(view.snapshot().is_empty());
        view.update(VehicleId(3), at(990_000, 59.0), now);
        assert_eq!(
            view.expire(Timestamp::from_millis(990_000 + 600_001)),
            vec![VehicleId(3)]
        );
        assert!(view.snapshot().is_empty());
    }
}
