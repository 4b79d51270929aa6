//! Roles, users, read purposes and scopes.

use std::fmt;

/// A role a user can hold. A user may hold several and acts in one at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// An employee, linked to an employee record: reads everything about themselves.
    Employee,
    /// Sees where the vehicles are now (fleet view), nothing stored.
    Dispatcher,
    /// Keeps the driving log (kjørebok) for the tax authorities.
    LogKeeper,
    /// Handles alarms: positions only inside an alarm window.
    SecurityOperator,
    /// Reads anonymous aggregates only.
    Analyst,
    /// Personvernombud: the register and the ledger's metadata, not tracking data.
    PrivacyOfficer,
    /// Tillitsvalgt / verneombud: the register and the ledger's metadata, not tracking data.
    Representative,
    /// Configures the system; reads no personal data.
    Admin,
}

impl Role {
    /// Every role, in table order.
    pub const ALL: [Role; 8] = [
        Role::Employee,
        Role::Dispatcher,
        Role::LogKeeper,
        Role::SecurityOperator,
        Role::Analyst,
        Role::PrivacyOfficer,
        Role::Representative,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Employee => "employee",
            Role::Dispatcher => "dispatcher",
            Role::LogKeeper => "log_keeper",
            Role::SecurityOperator => "security_operator",
            Role::Analyst => "analyst",
            Role::PrivacyOfficer => "privacy_officer",
            Role::Representative => "representative",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Result<Role, ParseRoleError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| ParseRoleError(s.to_owned()))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown role name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown role {0:?} (expected employee, dispatcher, log_keeper, security_operator, analyst, privacy_officer, representative or admin)"
)]
pub struct ParseRoleError(pub String);

/// A user's stable identifier (the login name is not: it can change).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UserId(pub String);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Someone who can log in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub name: String,
    pub roles: Vec<Role>,
    /// The employee number this user is, when they are an employee.
    pub employee: Option<String>,
}

impl User {
    pub fn holds(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// What a read is for. The first five are the tracking purposes of `org::Purpose`; then the
/// oversight purposes; then the uses the seeds declare incompatible, which exist so that an
/// attempt can be named, refused with its reason and recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReadPurpose {
    /// Elektronisk kjørebok.
    DrivingLog,
    /// Flåtestyring: where the vehicles are now.
    FleetView,
    /// Sikkerhet: positions inside an alarm window.
    Alarm,
    /// Rasjonalisering: anonymous aggregates.
    Utilization,
    /// Sensordata about how someone drives.
    DriverBehaviour,
    /// The compliance register: the measures, their assessments and duties.
    Register,
    /// The audit ledger's metadata: who read what, when, for which purpose.
    LedgerMetadata,
    /// An employee's own data (GDPR art. 15 and 20).
    OwnData,
    /// Checking hours or timesheets against tracking data. Incompatible (PVN-2011-04).
    TimesheetControl,
    /// Checking work performance or duties under the employment contract. Incompatible.
    PerformanceReview,
}

impl ReadPurpose {
    /// Every read purpose, in table order.
    pub const ALL: [ReadPurpose; 10] = [
        ReadPurpose::DrivingLog,
        ReadPurpose::FleetView,
        ReadPurpose::Alarm,
        ReadPurpose::Utilization,
        ReadPurpose::DriverBehaviour,
        ReadPurpose::Register,
        ReadPurpose::LedgerMetadata,
        ReadPurpose::OwnData,
        ReadPurpose::TimesheetControl,
        ReadPurpose::PerformanceReview,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReadPurpose::DrivingLog => "driving_log",
            ReadPurpose::FleetView => "fleet_view",
            ReadPurpose::Alarm => "alarm",
            ReadPurpose::Utilization => "utilization",
            ReadPurpose::DriverBehaviour => "driver_behaviour",
            ReadPurpose::Register => "register",
            ReadPurpose::LedgerMetadata => "ledger_metadata",
            ReadPurpose::OwnData => "own_data",
            ReadPurpose::TimesheetControl => "timesheet_control",
            ReadPurpose::PerformanceReview => "performance_review",
        }
    }

    pub fn parse(s: &str) -> Option<ReadPurpose> {
        ReadPurpose::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// The tracking purpose this read serves, if it is one.
    pub fn tracking(self) -> Option<org::Purpose> {
        match self {
            ReadPurpose::DrivingLog => Some(org::Purpose::DrivingLog),
            ReadPurpose::FleetView => Some(org::Purpose::FleetView),
            ReadPurpose::Alarm => Some(org::Purpose::Alarm),
            ReadPurpose::Utilization => Some(org::Purpose::Utilization),
            ReadPurpose::DriverBehaviour => Some(org::Purpose::DriverBehaviour),
            _ => None,
        }
    }
}

impl From<org::Purpose> for ReadPurpose {
    fn from(p: org::Purpose) -> Self {
        match p {
            org::Purpose::DrivingLog => ReadPurpose::DrivingLog,
            org::Purpose::FleetView => ReadPurpose::FleetView,
            org::Purpose::Alarm => ReadPurpose::Alarm,
            org::Purpose::Utilization => ReadPurpose::Utilization,
            org::Purpose::DriverBehaviour => ReadPurpose::DriverBehaviour,
        }
    }
}

impl fmt::Display for ReadPurpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whose data a read touches.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// The acting user's own employee data.
    Own,
    /// One vehicle, by registration number.
    Vehicle(String),
    /// Everything the purpose covers.
    All,
    /// One employee's data, for answering their access request (GDPR art. 15) on their behalf:
    /// the employee number and the request's reference.
    AccessRequest { employee: String, reference: String },
}

impl Scope {
    /// How the scope is written in an audit record's object.
    pub fn describe(&self) -> String {
        match self {
            Scope::Own => "own".to_owned(),
            Scope::Vehicle(reg) => format!("vehicle {reg}"),
            Scope::All => "all".to_owned(),
            Scope::AccessRequest {
                employee,
                reference,
            } => format!("employee {employee} (access request {reference})"),
        }
    }
}
