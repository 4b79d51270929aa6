//! Sporvern's tamper-evident audit ledger, without I/O.
//!
//! Every read, export, change and deletion of personal data, every denied
//! attempt and every change to purposes, roles, retention or organisation is
//! an [`Entry`]. Entries are hashed in a canonical byte encoding (never JSON)
//! and bound together twice:
//!
//! * a **hash chain**, `chain_i = SHA-256(chain_{i-1} || leaf_i)` starting
//!   from [`GENESIS_CHAIN`], stored with each entry so a linear scan names the
//!   first edited row ([`verify`]);
//! * an **RFC 6962 Merkle tree** over the leaf hashes, whose root goes into a
//!   [`Head`] checkpoint kept outside the server, with inclusion proofs an
//!   employee can check and consistency proofs between two checkpoints.
//!
//! The ledger never holds personal data itself: `subject` is an employee
//! number and `object` names *what* was touched, not its contents.
//!
//! [`Appender`] keeps the chain head and the Merkle frontier so an append
//! costs O(log n) hashes and the root is always at hand.

mod appender;
mod entry;
mod head;
pub mod merkle;
mod verify;

pub use appender::{Appender, FrontierError, SeqError};
pub use entry::{Action, DecodeError, ENCODING_VERSION, Entry, ParseActionError, StoredEntry};
pub use head::{Head, ParseHeadError};
pub use merkle::{
    Hash, consistency_proof, empty_root, inclusion_proof, leaf_hash, node_hash, root,
    verify_consistency, verify_inclusion,
};
pub use verify::{GENESIS_CHAIN, VerifyError, chain_next, verify, verify_against};
