//! A staged fix, projected onto each purpose: only what the purpose may have survives.

use domain::{AttrKey, AttrValue, FieldKind, Fix, Position, Timestamp};
use org::Purpose;

use crate::fleet::LivePosition;
use crate::policy::allowed;

/// What the engine needs to know about the fix's vehicle and device.
pub struct Inputs<'a> {
    /// Purposes configured for the vehicle *and* allowed to collect (the compliance gate).
    pub purposes: &'a [Purpose],
    /// The protocol's dictionary: which kind of data an attribute key holds.
    pub kind_of: &'a dyn Fn(&AttrKey) -> FieldKind,
    /// A digital input the organisation maps to privacy mode (e.g. Teltonika DIN2 = `io:2`).
    pub privacy_input: Option<&'a AttrKey>,
    /// A digital input the organisation maps to a panic button (e.g. DIN1 = `io:1`).
    pub panic_input: Option<&'a AttrKey>,
    /// Which odometer attributes are the *vehicle's* odometer, as (metres per unit,
    /// preference: lower first); `None` for any other (a phone's GPS distance, a unit's own
    /// GPS-counted odometer). Only a vehicle odometer reaches the driving log: it alone may be
    /// printed as a km reading (see `codec::odometer`).
    pub vehicle_odometer: &'a dyn Fn(&AttrKey) -> Option<(f64, u8)>,
}

/// What the driving log (and the utilisation statistics) may see of a fix. There is no field
/// for speed, RPM, fuel or any sensor value: they cannot be carried on.
#[derive(Clone, Debug, PartialEq)]
pub struct LogPoint {
    pub time: Timestamp,
    pub position: Option<Position>,
    pub ignition: Option<bool>,
    /// The vehicle's odometer, metres: only a vehicle odometer reading (CAN/OBD, or a
    /// configured virtual odometer), never a phone's GPS distance.
    pub odometer_m: Option<f64>,
    /// The driver's identification (iButton / driver card), when the unit reads one.
    pub driver_id: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AlarmTrigger {
    Panic,
    Crash,
    Towing,
    Jamming,
    Unplug,
    Alarm,
}

impl AlarmTrigger {
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmTrigger::Panic => "panic",
            AlarmTrigger::Crash => "crash",
            AlarmTrigger::Towing => "towing",
            AlarmTrigger::Jamming => "jamming",
            AlarmTrigger::Unplug => "unplug",
            AlarmTrigger::Alarm => "alarm",
        }
    }
}

/// What the alarm purpose may see: the triggers in this fix and where it was. Positions are
/// kept only inside an alarm window; deciding that is the alarm store's job.
#[derive(Clone, Debug, PartialEq)]
pub struct AlarmPoint {
    pub time: Timestamp,
    pub position: Option<Position>,
    pub triggers: Vec<AlarmTrigger>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Projected {
    pub driving_log: Option<LogPoint>,
    pub utilization: Option<LogPoint>,
    pub fleet_view: Option<LivePosition>,
    pub alarm: Option<AlarmPoint>,
    /// The state of the input mapped to privacy mode, when the fix reports it.
    pub privacy_input: Option<bool>,
}

fn truthy(v: &AttrValue) -> Option<bool> {
    match v {
        AttrValue::Int(i) => Some(*i != 0),
        AttrValue::Float(f) => Some(*f != 0.0),
        AttrValue::Bool(b) => Some(*b),
        AttrValue::Text(t) => match t.as_str() {
            "1" | "true" | "on" => Some(true),
            "0" | "false" | "off" => Some(false),
            _ => None,
        },
        AttrValue::Bytes(_) => None,
    }
}

fn number(v: &AttrValue) -> Option<f64> {
    match v {
        AttrValue::Int(i) => Some(*i as f64),
        AttrValue::Float(f) if f.is_finite() => Some(*f),
        AttrValue::Text(t) => t.parse().ok().filter(|f: &f64| f.is_finite()),
        _ => None,
    }
}

fn identifier(v: &AttrValue) -> Option<String> {
    match v {
        // An iButton key is 8 bytes, customarily written as 16 hex digits.
        AttrValue::Int(i) if *i != 0 => Some(format!("{:016X}", *i as u64)),
        AttrValue::Text(t) if !t.trim().is_empty() => Some(t.trim().to_owned()),
        AttrValue::Bytes(b) if b.iter().any(|x| *x != 0) => {
            Some(b.iter().map(|x| format!("{x:02X}")).collect())
        }
        _ => None,
    }
}

/// A named alarm (`alarm=sos`, as Traccar Client's SOS button and the OsmAnd protocol send it;
/// the names are Traccar's alarm vocabulary). Only alarms about the vehicle's or the driver's
/// safety open a window; speeding, harsh driving, geofences, idling and battery warnings are
/// not security alarms and open none (seed 001, Sikkerhetshensyn: positions only when the
/// situation occurs; no driver surveillance through the alarm purpose).
fn named_alarm(name: &str) -> Option<AlarmTrigger> {
    match name.trim() {
        "sos" => Some(AlarmTrigger::Panic),
        "accident" => Some(AlarmTrigger::Crash),
        "tow" => Some(AlarmTrigger::Towing),
        "jamming" => Some(AlarmTrigger::Jamming),
        "powerCut" | "removing" | "tampering" => Some(AlarmTrigger::Unplug),
        "general" => Some(AlarmTrigger::Alarm),
        _ => None,
    }
}

/// Projects one fix onto the active purposes.
pub fn project(fix: &Fix, inputs: &Inputs<'_>) -> Projected {
    let active = |p: Purpose| inputs.purposes.contains(&p);
    let mut ignition = None;
    // (metres, preference) of the preferred vehicle odometer in the fix.
    let mut odometer: Option<(f64, u8)> = None;
    let mut driver_id = None;
    let mut triggers = Vec::new();
    let mut privacy_input = None;
    for a in &fix.attributes {
        if Some(&a.key) == inputs.privacy_input {
            privacy_input = truthy(&a.value);
            continue;
        }
        if Some(&a.key) == inputs.panic_input {
            if truthy(&a.value) == Some(true) {
                triggers.push(AlarmTrigger::Panic);
            }
            continue;
        }
        match (inputs.kind_of)(&a.key) {
            FieldKind::Ignition => ignition = truthy(&a.value).or(ignition),
            FieldKind::Odometer => {
                if let (Some((unit, pref)), Some(v)) =
                    ((inputs.vehicle_odometer)(&a.key), number(&a.value))
                    && odometer.is_none_or(|(_, p)| pref < p)
                {
                    odometer = Some((v * unit, pref));
                }
            }
            FieldKind::DriverId => driver_id = identifier(&a.value).or(driver_id),
            FieldKind::Alarm => {
                // Teltonika's record priority: 2 is a panic; 1 (high) is not an alarm.
                let panic_priority = matches!(&a.key, AttrKey::Named(k) if k == "priority");
                match (panic_priority, number(&a.value)) {
                    (true, Some(2.0)) => triggers.push(AlarmTrigger::Panic),
                    (true, _) => {}
                    (false, _) if matches!(a.value, AttrValue::Text(_)) => {
                        if let AttrValue::Text(t) = &a.value
                            && let Some(t) = named_alarm(t)
                        {
                            triggers.push(t);
                        }
                    }
                    (false, _) if truthy(&a.value) == Some(true) => {
                        triggers.push(AlarmTrigger::Alarm)
                    }
                    (false, _) => {}
                }
            }
            FieldKind::Crash if truthy(&a.value) == Some(true) => {
                triggers.push(AlarmTrigger::Crash)
            }
            FieldKind::Towing if truthy(&a.value) == Some(true) => {
                triggers.push(AlarmTrigger::Towing)
            }
            FieldKind::Jamming if truthy(&a.value) == Some(true) => {
                triggers.push(AlarmTrigger::Jamming)
            }
            FieldKind::Unplug if truthy(&a.value) == Some(true) => {
                triggers.push(AlarmTrigger::Unplug)
            }
            _ => {}
        }
    }
    triggers.sort_unstable();
    triggers.dedup();
    let odometer_m = odometer.map(|(m, _)| m);

    let log_point = |p: Purpose| {
        active(p).then(|| LogPoint {
            time: fix.time,
            position: fix.position,
            ignition: ignition.filter(|_| allowed(p, FieldKind::Ignition)),
            odometer_m: odometer_m.filter(|_| allowed(p, FieldKind::Odometer)),
            driver_id: driver_id
                .clone()
                .filter(|_| allowed(p, FieldKind::DriverId)),
        })
    };
    Projected {
        driving_log: log_point(Purpose::DrivingLog),
        utilization: log_point(Purpose::Utilization),
        fleet_view: (active(Purpose::FleetView))
            .then_some(fix.position)
            .flatten()
            .map(|position| LivePosition {
                time: fix.time,
                position,
            }),
        // The alarm purpose sees every fix's position, but keeps one only inside an alarm
        // window, which only a trigger opens (the alarm store decides; see the worker).
        alarm: active(Purpose::Alarm).then_some(AlarmPoint {
            time: fix.time,
            position: fix.position,
            triggers,
        }),
        privacy_input,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::Attribute;

    fn kind_of(k: &AttrKey) -> FieldKind {
        match k {
            AttrKey::Io(239) => FieldKind::Ignition,
            AttrKey::Io(16) => FieldKind::Odometer,
            AttrKey::Io(78) => FieldKind::DriverId,
            AttrKey::Io(24) => FieldKind::Speed,
            AttrKey::Io(85) => FieldKind::Rpm,
            AttrKey::Io(247) => FieldKind::Crash,
            AttrKey::Named(n) if n == "priority" => FieldKind::Alarm,
            AttrKey::Io(1 | 2) => FieldKind::DigitalInput,
            _ => FieldKind::Other,
        }
    }

    /// IO 16 as a configured virtual odometer, IO 389 as the OBD odometer in km.
    fn vehicle_odometer(k: &AttrKey) -> Option<(f64, u8)> {
        match k {
            AttrKey::Io(389) => Some((1000.0, 1)),
            AttrKey::Io(16) => Some((1.0, 2)),
            _ => None,
        }
    }

    #[test]
    fn only_a_vehicle_odometer_reaches_the_driving_log() {
        let inputs = |vo: &'static dyn Fn(&AttrKey) -> Option<(f64, u8)>| Inputs {
            purposes: &[Purpose::DrivingLog],
            kind_of: &|k| match k {
                AttrKey::Io(16 | 199 | 389) => FieldKind::Odometer,
                AttrKey::Named(n) if n == "odometer" => FieldKind::Odometer,
                _ => FieldKind::Other,
            },
            privacy_input: None,
            panic_input: None,
            vehicle_odometer: vo,
        };
        let odo = |f: &Fix, vo| {
            project(f, &inputs(vo))
                .driving_log
                .and_then(|l| l.odometer_m)
        };
        // A phone's odometer is its GPS distance: no reading.
        let phone = fix(vec![Attribute {
            key: AttrKey::Named("odometer".into()),
            value: AttrValue::Float(3500.0),
        }]);
        assert_eq!(odo(&phone, &|_| None), None);
        // The OBD odometer (km) is preferred to the unit's own, whatever the order.
        let both = fix(vec![attr(16, 99_000), attr(199, 500), attr(389, 10_091)]);
        assert_eq!(odo(&both, &vehicle_odometer), Some(10_091_000.0));
        // The trip odometer alone is no reading.
        assert_eq!(odo(&fix(vec![attr(199, 500)]), &vehicle_odometer), None);
    }

    fn attr(id: u16, v: i64) -> Attribute {
        Attribute {
            key: AttrKey::Io(id),
            value: AttrValue::Int(v),
        }
    }

    fn fix(attrs: Vec<Attribute>) -> Fix {
        Fix {
            time: Timestamp::from_millis(1_767_261_600_000),
            position: Position::new(59.91, 10.75),
            altitude_m: Some(10.0),
            course_deg: Some(90),
            satellites: Some(9),
            speed_kmh: Some(87.0),
            attributes: attrs,
        }
    }

    #[test]
    fn the_driving_log_gets_trip_facts_and_nothing_else() {
        let f = fix(vec![
            attr(239, 1),
            attr(16, 123_456),
            attr(78, 0x01A2_B3C4_D5E6_F708),
            attr(24, 87),
            attr(85, 2500),
        ]);
        let privacy = AttrKey::Io(2);
        let inputs = Inputs {
            purposes: &[Purpose::DrivingLog],
            kind_of: &kind_of,
            privacy_input: Some(&privacy),
            panic_input: None,
            vehicle_odometer: &vehicle_odometer,
        };
        let p = project(&f, &inputs);
        assert_eq!(
            p.driving_log,
            Some(LogPoint {
                time: f.time,
                position: f.position,
                ignition: Some(true),
                odometer_m: Some(123_456.0),
                driver_id: Some("01A2B3C4D5E6F708".into()),
            })
        );
        assert_eq!(p.fleet_view, None, "not an active purpose");
        assert_eq!(p.alarm, None, "not an active purpose");
        assert_eq!(p.privacy_input, None);
    }

    #[test]
    fn the_fleet_view_gets_position_and_time_only() {
        let f = fix(vec![attr(239, 1), attr(78, 5)]);
        let inputs = Inputs {
            purposes: &[Purpose::FleetView],
            kind_of: &kind_of,
            privacy_input: None,
            panic_input: None,
            vehicle_odometer: &vehicle_odometer,
        };
        let p = project(&f, &inputs);
        assert_eq!(
            p.fleet_view,
            Some(LivePosition {
                time: f.time,
                position: f.position.expect("valid")
            })
        );
        assert_eq!(p.driving_log, None);
    }

    #[test]
    fn alarms_come_from_panic_priority_crash_and_a_mapped_panic_input() {
        let panic_in = AttrKey::Io(1);
        let inputs = Inputs {
            purposes: &[Purpose::Alarm],
            kind_of: &kind_of,
            privacy_input: None,
            panic_input: Some(&panic_in),
            vehicle_odometer: &vehicle_odometer,
        };
        let quiet = fix(vec![
            attr(239, 1),
            Attribute {
                key: AttrKey::Named("priority".into()),
                value: AttrValue::Int(1),
            },
        ]);
        assert_eq!(
            project(&quiet, &inputs).alarm.map(|a| a.triggers),
            Some(vec![]),
            "high priority is not a panic"
        );
        let panic = fix(vec![
            Attribute {
                key: AttrKey::Named("priority".into()),
                value: AttrValue::Int(2),
            },
            attr(247, 1),
            attr(1, 1),
        ]);
        let alarm = project(&panic, &inputs).alarm.expect("alarm");
        assert_eq!(
            alarm.triggers,
            vec![AlarmTrigger::Panic, AlarmTrigger::Crash]
        );
    }

    #[test]
    fn traccar_client_sos_opens_an_alarm_and_driving_alarms_do_not() {
        let inputs = Inputs {
            purposes: &[Purpose::Alarm],
            kind_of: &|k: &AttrKey| match k {
                AttrKey::Named(n) if n == "alarm" => FieldKind::Alarm,
                _ => FieldKind::Other,
            },
            privacy_input: None,
            panic_input: None,
            vehicle_odometer: &vehicle_odometer,
        };
        let named = |v: &str| {
            fix(vec![Attribute {
                key: AttrKey::Named("alarm".into()),
                value: AttrValue::Text(v.into()),
            }])
        };
        let triggers = |v: &str| project(&named(v), &inputs).alarm.map(|a| a.triggers);
        assert_eq!(triggers("sos"), Some(vec![AlarmTrigger::Panic]));
        assert_eq!(triggers("accident"), Some(vec![AlarmTrigger::Crash]));
        assert_eq!(triggers("tow"), Some(vec![AlarmTrigger::Towing]));
        assert_eq!(triggers("tampering"), Some(vec![AlarmTrigger::Unplug]));
        for not_security in [
            "overspeed",
            "hardBraking",
            "geofenceEnter",
            "lowBattery",
            "idle",
        ] {
            assert_eq!(triggers(not_security), Some(vec![]), "{not_security}");
        }
    }

    #[test]
    fn a_mapped_input_reports_privacy_mode() {
        let privacy = AttrKey::Io(2);
        let inputs = Inputs {
            purposes: &[Purpose::DrivingLog],
            kind_of: &kind_of,
            privacy_input: Some(&privacy),
            panic_input: None,
            vehicle_odometer: &vehicle_odometer,
        };
        assert_eq!(
            project(&fix(vec![attr(2, 1)]), &inputs).privacy_input,
            Some(true)
        );
        assert_eq!(
            project(&fix(vec![attr(2, 0)]), &inputs).privacy_input,
            Some(false)
        );
    }
}
