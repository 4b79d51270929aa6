//! The compliance register's storage: the whole [`register::Register`] is loaded and saved as
//! one value, with a version counter that the purpose worker watches (as it watches the
//! organisation's) so a recorded duty opens the gate without a restart.
//!
//! Architecture Invariant: a register change and its audit ledger entries are written in one
//! transaction: there is no change without its entry, and no entry for a change that failed.
//!
//! The register holds some personal data: employee numbers (acknowledgements, access cases) and
//! what an access case opened. Today its readers are the purpose worker (the gate) and the
//! operator's command line; a reader on behalf of a user (HTTP) must hold the privacy
//! officer's capability first — see `access::Policy`.

use crate::{AuditRecord, StoreError};

pub trait RegisterStore: Send + Sync {
    /// Bumped by every saved change.
    fn register_version(&self) -> Result<i64, StoreError>;
    /// The register and the version it was read at.
    fn load_register(&self) -> Result<(i64, register::Register), StoreError>;
    /// Replaces the stored register with `register` and appends `audit` to the ledger, in one
    /// transaction; returns the new version. Refused when the register changed since
    /// `expected_version` was read (someone else saved meanwhile: load and try again).
    fn save_register(
        &self,
        register: &register::Register,
        expected_version: i64,
        audit: Vec<AuditRecord>,
    ) -> Result<i64, StoreError>;
}
