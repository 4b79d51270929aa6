//! The organisation Sporvern serves: vehicles, devices, employees, driver assignments and named
//! sites, as declared in a TOML file (`sporvern org apply FILE`).
//!
//! Architecture Invariant: sans-IO. This crate parses text into a validated [`Org`] and
//! computes what applying it to the current organisation changes ([`diff`]); storage writes
//! it, the CLI reads the file.

pub mod classify;
mod diff;
mod file;
mod model;
mod show;

pub use classify::ClassificationRules;
pub use diff::{Change, ChangeKind, Changes, diff};
pub use file::{OrgFileError, parse, parse_classification, valid_phone};
pub use model::{
    Assignment, Device, Employee, EmployeeStatus, Geometry, LegalBasis, Org, Organisation, Purpose,
    ROLES, Site, SiteKind, User, Vehicle,
};
pub use show::{classification_toml, to_toml};
