//! Sporvern's domain types.
//!
//! Architecture Invariant: this crate knows nothing about sockets, databases, clocks or wire
//! formats. Values come in already parsed; every identifier is a newtype with a `parse()` that
//! says what is wrong with a bad input.

pub mod changes;
pub mod drivinglog;
mod fix;
mod ids;
pub mod sane;
mod time;

pub use fix::{
    AttrKey, AttrValue, Attribute, AttributeDecodeError, FieldKind, Fix, Position, encoding,
};
pub use ids::{
    DeviceId, EmployeeId, ExternalId, Imei, ParseError, Protocol, RegNo, SiteId, VehicleId,
    VehicleKind,
};
pub use time::Timestamp;
