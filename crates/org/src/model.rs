use domain::{ExternalId, Protocol, RegNo, VehicleKind};
use time::Date;

/// The whole organisation, validated: every reference resolves, every key is unique.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Org {
    pub organisation: Organisation,
    pub vehicles: Vec<Vehicle>,
    pub devices: Vec<Device>,
    pub employees: Vec<Employee>,
    pub assignments: Vec<Assignment>,
    pub sites: Vec<Site>,
    /// Users declared here get their roles from the file and no password: one is set on the
    /// server (`sporvern user password`). Removing one from the file disables it.
    pub users: Vec<User>,
    /// The rules that propose a class for unclassified trips (`[classification]`).
    pub classification: crate::classify::ClassificationRules,
}

/// The roles a user may hold (the access policy, `access::Role`, has a row for each).
pub const ROLES: [&str; 8] = [
    "employee",
    "dispatcher",
    "log_keeper",
    "security_operator",
    "analyst",
    "privacy_officer",
    "representative",
    "admin",
];

/// A user declared in the organisation file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub roles: Vec<String>,
    /// The employee this user is (required for the employee role).
    pub employee: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Organisation {
    pub name: String,
    /// Organisasjonsnummer (Brønnøysund), 9 digits, when given.
    pub org_number: Option<String>,
    /// Where the legal basis for driver-behaviour data is recorded. Without it no vehicle may
    /// list the `driver_behaviour` purpose (seed 001, "Registrering av detaljopplysninger":
    /// detailed sensor data needs its own legal basis — GDPR art. 6(1)(f); a DPIA, art. 35).
    pub driver_behaviour_basis: Option<LegalBasis>,
}

/// References to the documents that record a legal basis.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LegalBasis {
    /// The balancing test (interesseavveining), GDPR art. 6(1)(f).
    pub balancing_test: String,
    /// The data protection impact assessment (DPIA), GDPR art. 35.
    pub dpia: String,
}

/// The purposes a vehicle's data may serve (SPEC.md, "Purposes decide what is kept").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Purpose {
    /// Elektronisk kjørebok: documentation for the tax authorities.
    DrivingLog,
    /// Flåtestyring: where the vehicles are now; nothing stored.
    FleetView,
    /// Sikkerhet: positions only inside an alarm window.
    Alarm,
    /// Rasjonalisering: anonymous aggregates only.
    Utilization,
    /// Sensordata: off unless a legal basis and a DPIA are recorded.
    DriverBehaviour,
}

impl Purpose {
    pub const ALL: [Purpose; 5] = [
        Purpose::DrivingLog,
        Purpose::FleetView,
        Purpose::Alarm,
        Purpose::Utilization,
        Purpose::DriverBehaviour,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::DrivingLog => "driving_log",
            Purpose::FleetView => "fleet_view",
            Purpose::Alarm => "alarm",
            Purpose::Utilization => "utilization",
            Purpose::DriverBehaviour => "driver_behaviour",
        }
    }

    pub fn parse(s: &str) -> Option<Purpose> {
        Purpose::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Vehicle {
    pub reg: RegNo,
    pub kind: VehicleKind,
    /// The group the anonymous utilisation statistics are aggregated over.
    pub group: Option<String>,
    pub description: Option<String>,
    pub purposes: Vec<Purpose>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Device {
    pub protocol: Protocol,
    pub external_id: ExternalId,
    pub vehicle: RegNo,
    pub model: Option<String>,
    /// A device input that switches privacy mode (e.g. `din2` on a Teltonika unit, or the name
    /// of an attribute the device sends), so a driver can go private with a button.
    pub privacy_input: Option<String>,
    /// A device input wired to a panic button (e.g. `din1`).
    pub panic_input: Option<String>,
    /// The unit's own total odometer (Teltonika IO 16) was set to the vehicle's odometer
    /// reading at installation (or is fed by its CAN/OBD), so it counts as a km reading.
    /// Without it only the CAN/OBD odometer IOs are readings; a phone's is never one.
    pub virtual_odometer: bool,
    /// The device's rank among its vehicle's devices, 0 first (default: a fixed tracker 0, a
    /// phone 1). A higher rank only fills the gaps of the lower ones.
    pub rank: Option<u8>,
}

impl Device {
    /// The rank the trip builder merges the vehicle's devices by (see [`Device::rank`]).
    pub fn effective_rank(&self) -> u8 {
        self.rank.unwrap_or(match self.protocol {
            domain::Protocol::Teltonika => 0,
            _ => 1,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmployeeStatus {
    Current,
    /// E-postforskriften protects former employees too (seed 000, "Hvilke regelverk gjelder?").
    Former,
}

impl EmployeeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EmployeeStatus::Current => "current",
            EmployeeStatus::Former => "former",
        }
    }

    pub fn parse(s: &str) -> Option<EmployeeStatus> {
        match s {
            "current" => Some(EmployeeStatus::Current),
            "former" => Some(EmployeeStatus::Former),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Employee {
    /// The employer's own employee number; the key in the file.
    pub number: String,
    pub name: String,
    pub email: Option<String>,
    /// A phone number, for the security operator to reach the driver during an alarm.
    pub phone: Option<String>,
    pub status: EmployeeStatus,
    /// The iButton / driver card id the vehicle units read, when the employee has one.
    pub driver_id: Option<String>,
}

/// Who drives a vehicle from `from` (inclusive) until `to` (exclusive; open when `None`).
#[derive(Clone, Debug, PartialEq)]
pub struct Assignment {
    pub employee: String,
    pub vehicle: RegNo,
    pub from: Date,
    pub to: Option<Date>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SiteKind {
    Depot,
    Customer,
    BuildingSite,
    Office,
    Other,
}

impl SiteKind {
    pub const ALL: [SiteKind; 5] = [
        SiteKind::Depot,
        SiteKind::Customer,
        SiteKind::BuildingSite,
        SiteKind::Office,
        SiteKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SiteKind::Depot => "depot",
            SiteKind::Customer => "customer",
            SiteKind::BuildingSite => "building_site",
            SiteKind::Office => "office",
            SiteKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<SiteKind> {
        SiteKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Geometry {
    Circle {
        lat: f64,
        lon: f64,
        radius_m: f64,
    },
    /// A closed ring of (lat, lon) points; the last point joins the first.
    Polygon(Vec<(f64, f64)>),
}

impl Geometry {
    /// Whether a point lies inside (used to name trip ends after the employer's own sites).
    pub fn contains(&self, lat: f64, lon: f64) -> bool {
        match self {
            Geometry::Circle {
                lat: clat,
                lon: clon,
                radius_m,
            } => match (
                domain::Position::new(*clat, *clon),
                domain::Position::new(lat, lon),
            ) {
                (Some(c), Some(p)) => c.distance_m(p) <= *radius_m,
                _ => false,
            },
            Geometry::Polygon(ring) => {
                // Ray casting in the plane; sites are small enough for that.
                let mut inside = false;
                let n = ring.len();
                for i in 0..n {
                    let (yi, xi) = ring[i];
                    let (yj, xj) = ring[(i + n - 1) % n];
                    if (yi > lat) != (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi {
                        inside = !inside;
                    }
                }
                inside
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Site {
    pub name: String,
    pub kind: SiteKind,
    pub address: Option<String>,
    pub geometry: Geometry,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometry_contains() {
        let c = Geometry::Circle {
            lat: 59.93,
            lon: 10.84,
            radius_m: 150.0,
        };
        assert!(c.contains(59.9301, 10.8401));
        assert!(!c.contains(59.94, 10.84));
        let p = Geometry::Polygon(vec![(59.0, 10.0), (59.0, 11.0), (60.0, 11.0), (60.0, 10.0)]);
        assert!(p.contains(59.5, 10.5));
        assert!(!p.contains(60.5, 10.5));
    }
}
