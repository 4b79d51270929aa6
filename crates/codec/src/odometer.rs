//! Which odometer a device reports is the *vehicle's* odometer: the only kind of value the
//! driving log may print as a km reading (Skatteetaten: "kjørelengden ifølge
//! kilometertelleren", seed 001, 2.2.3).
//!
//! - Teltonika: the CAN odometer (IO 87, LVCAN "Total Mileage", metres) and the OBD odometer
//!   (IO 389, "OBD OEM Total Mileage", km) are the vehicle's. The unit's own total odometer
//!   (IO 16, metres) is GPS-counted by the unit unless it was set to the vehicle's reading at
//!   installation (or fed by CAN/OBD): then the organisation marks the device
//!   `virtual_odometer = true` and it counts. IO 199 (trip odometer) is never a reading.
//! - Phones (OsmAnd / Traccar Client, OwnTracks): whatever they call `odometer` is distance
//!   the phone summed from its own GPS, never a reading of the car.
//!
//! Source for the IO ids: Teltonika wiki, "FMB AVL ID" list.

use domain::{AttrKey, Protocol};

/// An attribute that is a vehicle odometer reading, and how to read it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VehicleOdometer {
    /// Metres per unit of the attribute's value.
    pub metres_per_unit: f64,
    /// Lower is preferred when a record carries several (the vehicle's own counter first).
    pub preference: u8,
}

/// Whether `key`, sent by a device speaking `protocol`, is a vehicle odometer reading;
/// `virtual_odometer` says whether the organisation configured the unit's own odometer as one.
pub fn vehicle_odometer(
    protocol: Protocol,
    key: &AttrKey,
    virtual_odometer: bool,
) -> Option<VehicleOdometer> {
    let reading = |metres_per_unit, preference| {
        Some(VehicleOdometer {
            metres_per_unit,
            preference,
        })
    };
    match (protocol, key) {
        (Protocol::Teltonika, AttrKey::Io(87)) => reading(1.0, 0),
        (Protocol::Teltonika, AttrKey::Io(389)) => reading(1000.0, 1),
        (Protocol::Teltonika, AttrKey::Io(16)) if virtual_odometer => reading(1.0, 2),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_vehicle_odometers_are_readings() {
        let tk = Protocol::Teltonika;
        assert!(vehicle_odometer(tk, &AttrKey::Io(87), false).is_some());
        assert_eq!(
            vehicle_odometer(tk, &AttrKey::Io(389), false).map(|o| o.metres_per_unit),
            Some(1000.0)
        );
        assert!(vehicle_odometer(tk, &AttrKey::Io(16), false).is_none());
        assert!(vehicle_odometer(tk, &AttrKey::Io(16), true).is_some());
        assert!(vehicle_odometer(tk, &AttrKey::Io(199), true).is_none());
        let odo = AttrKey::Named("odometer".into());
        assert!(vehicle_odometer(Protocol::Osmand, &odo, true).is_none());
        assert!(vehicle_odometer(Protocol::Owntracks, &odo, true).is_none());
    }
}
