//! The purpose engine.
//!
//! Raw fixes are never a product. A staged fix is *projected* once per purpose active for its
//! vehicle: each purpose receives only the fields the [`policy`] table lets it have, and the
//! rest is dropped at this step. Speed, RPM, fuel, pedal and g-forces never reach the driving
//! log or the fleet view.
//!
//! Architecture Invariant: sans-IO. No clock (times are passed in), no database, no sockets.
//! Architecture Invariant: a projection type has no field for data its purpose may not have,
//! so dropping is not a runtime choice that could be forgotten.

pub mod fleet;
pub mod gate;
pub mod policy;
pub mod projection;
pub mod tax;

pub use fleet::{FleetView, LivePosition};
pub use policy::{Rule, allowed, rule};
pub use projection::{AlarmTrigger, Inputs, LogPoint, Projected, project};
