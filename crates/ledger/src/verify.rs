//! The hash chain and the verification of a stored ledger.

use sha2::{Digest, Sha256};

use crate::appender::Appender;
use crate::entry::StoredEntry;
use crate::head::Head;
use crate::merkle::Hash;

/// The chain value "before" entry 0: 32 zero bytes.
pub const GENESIS_CHAIN: Hash = [0u8; 32];

/// `SHA-256(prev || leaf)`: the chain hash stored with an entry whose leaf
/// hash is `leaf`, following an entry whose chain hash is `prev`.
pub fn chain_next(prev: &Hash, leaf: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(leaf);
    h.finalize().into()
}

/// What is wrong with a ledger, naming the first bad entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// Entry `seq` (or its stored chain hash) does not match the chain: it was
    /// edited after it was written.
    #[error("audit entry {seq} was edited: its chain hash does not match")]
    Edited {
        /// The first entry whose chain hash does not match.
        seq: u64,
    },
    /// Entry `expected_seq` is gone: the next entry stored is `found_seq` and
    /// `expected_seq` appears nowhere later.
    #[error("audit entry {expected_seq} is missing (found entry {found_seq} in its place)")]
    Missing {
        /// The sequence number that should come next.
        expected_seq: u64,
        /// The sequence number actually stored there.
        found_seq: u64,
    },
    /// Entries are not in sequence order: at the place of `expected_seq`
    /// stands `found_seq`, and `expected_seq` is stored elsewhere (swapped,
    /// moved or duplicated).
    #[error("audit entries out of order: expected entry {expected_seq}, found entry {found_seq}")]
    OutOfOrder {
        /// The sequence number that should come next.
        expected_seq: u64,
        /// The sequence number actually stored there.
        found_seq: u64,
    },
    /// The ledger is shorter than a checkpoint taken earlier: entries at the
    /// end were removed.
    #[error(
        "audit ledger truncated: the checkpoint covers {checkpoint_size} entries, only {found_size} remain"
    )]
    Truncated {
        /// Entries covered by the checkpoint.
        checkpoint_size: u64,
        /// Entries in the ledger now.
        found_size: u64,
    },
    /// The first `checkpoint_size` entries chain correctly but do not
    /// reproduce the checkpoint's root: history was rewritten.
    #[error(
        "audit ledger rewritten: its first {checkpoint_size} entries do not reproduce the checkpoint root"
    )]
    RootMismatch {
        /// Entries covered by the checkpoint.
        checkpoint_size: u64,
    },
}

/// Checks a whole ledger: sequence numbers 0, 1, 2, … (finds removed and
/// reordered entries) and every chain hash (finds edited entries). Returns
/// the head — size, Merkle root and last chain hash — to compare with a
/// checkpoint or to publish as one.
pub fn verify(entries: &[StoredEntry]) -> Result<Head, VerifyError> {
    scan(entries, None).map(|(head, _)| head)
}

/// [`verify`], and then checks that the ledger extends `checkpoint`: it is at
/// least as long and its first `checkpoint.size` entries give the
/// checkpoint's root and chain hash. Returns the current head.
pub fn verify_against(entries: &[StoredEntry], checkpoint: &Head) -> Result<Head, VerifyError> {
    let (head, at) = scan(entries, Some(checkpoint.size))?;
    let Some(at) = at else {
        return Err(VerifyError::Truncated {
            checkpoint_size: checkpoint.size,
            found_size: head.size,
        });
    };
    if at.root != checkpoint.root || at.chain != checkpoint.chain {
        return Err(VerifyError::RootMismatch {
            checkpoint_size: checkpoint.size,
        });
    }
    Ok(head)
}

/// Walks the ledger once; also returns the head after `at` entries if the
/// ledger is that long.
fn scan(entries: &[StoredEntry], at: Option<u64>) -> Result<(Head, Option<Head>), VerifyError> {
    let mut app = Appender::new();
    let mut snapshot = None;
    for (i, stored) in entries.iter().enumerate() {
        if at == Some(app.size()) {
            snapshot = Some(app.head());
        }
        let expected = app.size();
        let found = stored.entry.seq;
        if found != expected {
            return Err(misplaced(&entries[i + 1..], expected, found));
        }
        let leaf = stored.entry.leaf_hash();
        if app.append_leaf(leaf) != stored.chain {
            return Err(VerifyError::Edited { seq: expected });
        }
    }
    if at == Some(app.size()) {
        snapshot = Some(app.head());
    }
    Ok((app.head(), snapshot))
}

fn misplaced(rest: &[StoredEntry], expected: u64, found: u64) -> VerifyError {
    if found > expected && !rest.iter().any(|s| s.entry.seq == expected) {
        VerifyError::Missing {
            expected_seq: expected,
            found_seq: found,
        }
    } else {
        VerifyError::OutOfOrder {
            expected_seq: expected,
            found_seq: found,
        }
    }
}
