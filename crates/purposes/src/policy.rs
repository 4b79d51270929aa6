//! The policy table: which kinds of data each purpose may receive, and why. One entry per
//! purpose, with its source, so that a lawyer can review it without reading the engine.
//!
//! Sources: Datatilsynet, *Sporingsteknologi i virksomheters kjøretøy* (2016) ("seed 001"),
//! read against today's GDPR as SPEC.md maps it.

use domain::FieldKind::{self, *};
use org::Purpose;

#[derive(Debug)]
pub struct Rule {
    pub purpose: Purpose,
    /// The kinds of data the purpose may receive from a fix. Everything else is dropped.
    pub receives: &'static [FieldKind],
    /// What the purpose keeps, in words.
    pub keeps: &'static str,
    pub source: &'static str,
}

pub const RULES: &[Rule] = &[
    Rule {
        purpose: Purpose::DrivingLog,
        receives: &[Time, Position, Odometer, Ignition, DriverId],
        keeps: "trips: date, start/end time and place, odometer, km, driver; private trips date and km only",
        source: "seed 001 2.2.3 (Krav, Formål): the log documents where driving started and ended, what was visited, and km by the odometer; \
                 speed and pedal pressure are excess information (overskuddsinformasjon) — GDPR art. 5(1)(b)(c); bokføringsloven § 13 for retention",
    },
    Rule {
        purpose: Purpose::FleetView,
        receives: &[Time, Position],
        keeps: "the latest position of each vehicle, in memory, until stale; nothing stored",
        source: "seed 001, Flåtestyring: the only relevant data is the vehicle's location in real time, and storing it is not necessary — \
                 GDPR art. 5(1)(c)(e)",
    },
    Rule {
        purpose: Purpose::Alarm,
        receives: &[
            Time,
            Position,
            Alarm,
            Crash,
            Towing,
            Jamming,
            Unplug,
            DigitalInput,
        ],
        keeps: "positions inside an alarm window only (panic, crash, tamper, theft)",
        source: "seed 001, Sikkerhetshensyn: the location is registered only when the situation occurs; continuous registration would make it a \
                 control measure (arbeidsmiljøloven ch. 9)",
    },
    Rule {
        purpose: Purpose::Utilization,
        receives: &[Time, Position, Odometer, Ignition],
        keeps: "anonymous aggregates per vehicle group, suppressed below k vehicles",
        source: "seed 001, Rasjonalisering: data may be kept anonymously for reorganising the fleet; a balancing test decides — GDPR art. 6(1)(f), 5(1)(c)",
    },
    Rule {
        purpose: Purpose::DriverBehaviour,
        receives: &[
            Time, DriverId, Speed, HarshEvent, Overspeed, Idling, Pedal, GForce, Rpm,
        ],
        keeps: "harsh braking/acceleration, speeding, idling — only with a recorded legal basis and DPIA",
        source: "seed 001, Registrering av detaljopplysninger: detailed sensor data needs its own legal basis — GDPR art. 6(1)(f), art. 35",
    },
];

pub fn rule(purpose: Purpose) -> &'static Rule {
    RULES
        .iter()
        .find(|r| r.purpose == purpose)
        .unwrap_or_else(|| panic!("the policy table lacks {purpose:?}: every purpose has a rule"))
}

pub fn allowed(purpose: Purpose, kind: FieldKind) -> bool {
    rule(purpose).receives.contains(&kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_purpose_has_exactly_one_rule() {
        for p in Purpose::ALL {
            assert_eq!(RULES.iter().filter(|r| r.purpose == p).count(), 1, "{p:?}");
        }
    }

    #[test]
    fn excess_data_never_reaches_the_driving_log_or_the_fleet_view() {
        // Seed 001 2.2.3: speed, pedal pressure; "Registrering av detaljopplysninger": idling,
        // sharp turns, fuel, g-forces.
        for kind in [
            Speed, Pedal, GForce, Idling, Rpm, Fuel, HarshEvent, Overspeed,
        ] {
            assert!(!allowed(Purpose::DrivingLog, kind), "{kind:?}");
            assert!(!allowed(Purpose::FleetView, kind), "{kind:?}");
            assert!(!allowed(Purpose::Utilization, kind), "{kind:?}");
        }
        assert!(
            !allowed(Purpose::FleetView, DriverId),
            "the fleet view knows vehicles, not drivers"
        );
    }
}
