//! The IO dictionary of Teltonika's FMB family: what each IO id means, and which kind of data
//! it is for the purposes deciding what they may keep.
//!
//! Source: Teltonika wiki, "FMB AVL ID" list (<https://wiki.teltonika-gps.com/view/FMB_AVL_ID>),
//! and the "Codec" page's examples. IO ids differ between device families (FMB, FMC, FMM,
//! FMx6 CAN adapters): this table is for FMB devices only. An id not listed is `Other`, which
//! no purpose keeps unless it names it.

use domain::FieldKind;

/// `(id, short name, kind)`, sorted by id.
const FMB: &[(u16, &str, FieldKind)] = &[
    (1, "din1", FieldKind::DigitalInput),
    (2, "din2", FieldKind::DigitalInput),
    (3, "din3", FieldKind::DigitalInput),
    (4, "din4", FieldKind::DigitalInput),
    (6, "analog_input_2", FieldKind::Other),
    (9, "analog_input_1", FieldKind::Other),
    (10, "sd_status", FieldKind::Other),
    (11, "iccid1", FieldKind::Other),
    (12, "fuel_used_gps", FieldKind::Fuel),
    (13, "fuel_rate_gps", FieldKind::Fuel),
    (14, "iccid2", FieldKind::Other),
    (15, "eco_score", FieldKind::HarshEvent),
    (16, "total_odometer", FieldKind::Odometer),
    (17, "axis_x", FieldKind::GForce),
    (18, "axis_y", FieldKind::GForce),
    (19, "axis_z", FieldKind::GForce),
    (21, "gsm_signal", FieldKind::Signal),
    (24, "speed", FieldKind::Speed),
    // 30 is the number of OBD trouble codes, not RPM.
    (30, "obd_dtc_count", FieldKind::Other),
    (31, "obd_engine_load", FieldKind::Other),
    (36, "obd_engine_rpm", FieldKind::Rpm),
    (37, "obd_vehicle_speed", FieldKind::Speed),
    (41, "obd_throttle_position", FieldKind::Pedal),
    (48, "obd_fuel_level", FieldKind::Fuel),
    (60, "obd_fuel_rate", FieldKind::Fuel),
    (66, "external_voltage", FieldKind::ExternalPower),
    (67, "battery_voltage", FieldKind::Battery),
    (68, "battery_current", FieldKind::Battery),
    (69, "gnss_status", FieldKind::Other),
    (78, "ibutton", FieldKind::DriverId),
    (80, "data_mode", FieldKind::Other),
    (81, "can_vehicle_speed", FieldKind::Speed),
    (82, "can_accelerator_pedal", FieldKind::Pedal),
    (83, "can_fuel_consumed", FieldKind::Fuel),
    (84, "can_fuel_level_l", FieldKind::Fuel),
    (85, "can_engine_rpm", FieldKind::Rpm),
    (87, "can_total_mileage", FieldKind::Odometer),
    (89, "can_fuel_level_pct", FieldKind::Fuel),
    (113, "battery_level", FieldKind::Battery),
    (179, "dout1", FieldKind::Other),
    (180, "dout2", FieldKind::Other),
    (181, "gnss_pdop", FieldKind::Accuracy),
    (182, "gnss_hdop", FieldKind::Accuracy),
    (199, "trip_odometer", FieldKind::Odometer),
    (200, "sleep_mode", FieldKind::Other),
    // The serving cell locates the vehicle (coarsely): treated as position data.
    (205, "gsm_cell_id", FieldKind::Position),
    (206, "gsm_area_code", FieldKind::Position),
    (207, "rfid", FieldKind::DriverId),
    (236, "alarm", FieldKind::Alarm),
    (239, "ignition", FieldKind::Ignition),
    (240, "movement", FieldKind::Movement),
    (241, "gsm_operator", FieldKind::Other),
    (243, "green_driving_duration", FieldKind::HarshEvent),
    (246, "towing", FieldKind::Towing),
    (247, "crash", FieldKind::Crash),
    (249, "jamming", FieldKind::Jamming),
    (251, "idling", FieldKind::Idling),
    (252, "unplug", FieldKind::Unplug),
    (253, "green_driving_type", FieldKind::HarshEvent),
    (254, "green_driving_value", FieldKind::HarshEvent),
    (255, "over_speeding", FieldKind::Overspeed),
    (256, "vin", FieldKind::Vin),
    (257, "crash_trace", FieldKind::Crash),
    (389, "obd_oem_total_mileage", FieldKind::Odometer),
];

fn entry(io_id: u16) -> Option<&'static (u16, &'static str, FieldKind)> {
    FMB.binary_search_by_key(&io_id, |e| e.0)
        .ok()
        .and_then(|i| FMB.get(i))
}

/// The kind of data an FMB IO id carries; `Other` when unknown.
pub fn field_kind(io_id: u16) -> FieldKind {
    entry(io_id).map_or(FieldKind::Other, |e| e.2)
}

/// A short name for an FMB IO id, e.g. `ignition` for 239.
pub fn io_name(io_id: u16) -> Option<&'static str> {
    entry(io_id).map(|e| e.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_for_binary_search() {
        assert!(FMB.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn the_ids_the_purposes_care_about() {
        assert_eq!(field_kind(239), FieldKind::Ignition);
        assert_eq!(io_name(239), Some("ignition"));
        assert_eq!(field_kind(78), FieldKind::DriverId);
        assert_eq!(field_kind(253), FieldKind::HarshEvent);
        assert_eq!(field_kind(247), FieldKind::Crash);
        assert_eq!(field_kind(1), FieldKind::DigitalInput);
        assert_eq!(field_kind(256), FieldKind::Vin);
        assert_eq!(field_kind(30), FieldKind::Other);
        assert_eq!(field_kind(9999), FieldKind::Other);
        assert_eq!(io_name(9999), None);
    }
}
