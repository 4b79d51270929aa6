//! Who may read what, and for which purpose.
//!
//! Architecture Invariant: this crate is sans-IO. It knows no database, no HTTP and no clock:
//! every time is passed in as milliseconds since the Unix epoch, and every decision comes back
//! as a value the caller stores or sends.
//!
//! * [`Role`], [`User`]: who acts, in which capacity.
//! * [`ReadPurpose`], [`Scope`]: what a read is for and whose data it touches.
//! * [`Policy`]: the ONE role × purpose table ([`Policy::table`]), each cell with its legal
//!   reason, and [`Policy::authorise`], the only way to get a [`Capability`]. Every answer,
//!   yes or no, carries the [`AuditRecord`] to append to the ledger.
//! * [`credentials`]: Argon2id password hashes, bearer/session tokens hashed at rest.
//! * [`LoginLimiter`]: login rate limiting by user name and by source address.
//! * [`csrf_token`] / [`verify_csrf`]: HMAC-SHA256 form tokens bound to a session.

pub mod credentials;
mod csrf;
mod limiter;
mod policy;
mod role;

pub use credentials::{
    PasswordParams, PasswordRuleError, TokenError, TokenHash, TokenRecord, check_password_rules,
    hash_password, hash_password_with, new_token, verify_password,
};
pub use csrf::{csrf_token, hmac_sha256, verify_csrf};
pub use limiter::{LimitKey, LoginLimiter, RetryAfter};
pub use policy::{
    AuditRecord, Capability, Cell, Denial, DenialKind, Grant, Policy, Reason, Rule, ScopeRule, View,
};
pub use role::{ParseRoleError, ReadPurpose, Role, Scope, User, UserId};

/// Compares two byte strings in time that depends only on their lengths, not their contents.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}
