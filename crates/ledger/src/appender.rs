//! Incremental appends: chain head plus the Merkle frontier.

use crate::entry::{Entry, StoredEntry};
use crate::head::Head;
use crate::merkle::{Hash, empty_root, node_hash};
use crate::verify::{GENESIS_CHAIN, VerifyError, chain_next, verify};

/// Appends entries in O(log n) hashes and knows the root at any time.
///
/// The frontier is the right edge of the tree: the roots of the perfect
/// subtrees that the binary digits of `size` split the leaves into, largest
/// (leftmost) first — one hash per set bit of `size`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appender {
    size: u64,
    frontier: Vec<Hash>,
    chain: Hash,
}

impl Default for Appender {
    fn default() -> Self {
        Self::new()
    }
}

/// An entry handed to [`Appender::append`] out of sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("audit entry has seq {found}, but the ledger's next seq is {expected}")]
pub struct SeqError {
    /// The ledger's next sequence number.
    pub expected: u64,
    /// The entry's sequence number.
    pub found: u64,
}

/// A frontier that cannot belong to a tree of the given size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a tree of {size} leaves has a frontier of {expected} hashes, got {found}")]
pub struct FrontierError {
    /// The claimed tree size.
    pub size: u64,
    /// Hashes a frontier of that size has (`size.count_ones()`).
    pub expected: usize,
    /// Hashes given.
    pub found: usize,
}

impl Appender {
    /// An empty ledger.
    pub fn new() -> Self {
        Appender {
            size: 0,
            frontier: Vec::new(),
            chain: GENESIS_CHAIN,
        }
    }

    /// Resumes from a saved frontier (see [`frontier`](Self::frontier)) and
    /// the chain hash of the last entry.
    pub fn from_frontier(
        size: u64,
        frontier: Vec<Hash>,
        chain: Hash,
    ) -> Result<Self, FrontierError> {
        let expected = size.count_ones() as usize;
        if frontier.len() != expected {
            return Err(FrontierError {
                size,
                expected,
                found: frontier.len(),
            });
        }
        Ok(Appender {
            size,
            frontier,
            chain,
        })
    }

    /// Resumes from the stored leaf hashes (recomputing the frontier, O(n))
    /// and the chain hash of the last entry ([`GENESIS_CHAIN`] if none).
    pub fn from_leaves(leaves: &[Hash], chain: Hash) -> Self {
        let mut app = Appender::new();
        for leaf in leaves {
            app.push_frontier(*leaf);
        }
        app.chain = chain;
        app
    }

    /// Verifies a stored ledger ([`verify`]) and resumes after its last entry.
    pub fn from_stored(entries: &[StoredEntry]) -> Result<Self, VerifyError> {
        verify(entries)?;
        let leaves: Vec<Hash> = entries.iter().map(|s| s.entry.leaf_hash()).collect();
        let chain = entries.last().map_or(GENESIS_CHAIN, |s| s.chain);
        Ok(Self::from_leaves(&leaves, chain))
    }

    /// Number of entries appended so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The sequence number the next entry must carry.
    pub fn next_seq(&self) -> u64 {
        self.size
    }

    /// Chain hash of the last entry ([`GENESIS_CHAIN`] when empty).
    pub fn chain(&self) -> Hash {
        self.chain
    }

    /// The frontier, largest subtree first; save it with
    /// [`size`](Self::size) and [`chain`](Self::chain) to resume with
    /// [`from_frontier`](Self::from_frontier).
    pub fn frontier(&self) -> &[Hash] {
        &self.frontier
    }

    /// The RFC 6962 root of all entries so far, in O(log n) hashes.
    pub fn root(&self) -> Hash {
        let mut rev = self.frontier.iter().rev();
        match rev.next() {
            None => empty_root(),
            Some(last) => rev.fold(*last, |acc, left| node_hash(left, &acc)),
        }
    }

    /// Size, root and chain hash: what a checkpoint records.
    pub fn head(&self) -> Head {
        Head {
            size: self.size,
            root: self.root(),
            chain: self.chain,
        }
    }

    /// Appends an entry whose `seq` is [`next_seq`](Self::next_seq) and
    /// returns it with its chain hash, ready to store.
    pub fn append(&mut self, entry: Entry) -> Result<StoredEntry, SeqError> {
        if entry.seq != self.size {
            return Err(SeqError {
                expected: self.size,
                found: entry.seq,
            });
        }
        let chain = self.append_leaf(entry.leaf_hash());
        Ok(StoredEntry { entry, chain })
    }

    /// Appends a leaf hash and returns the new chain hash. The caller is
    /// responsible for the leaf being the next entry's
    /// [`leaf_hash`](Entry::leaf_hash).
    pub fn append_leaf(&mut self, leaf: Hash) -> Hash {
        self.push_frontier(leaf);
        self.chain = chain_next(&self.chain, &leaf);
        self.chain
    }

    fn push_frontier(&mut self, leaf: Hash) {
        let mut h = leaf;
        let mut s = self.size;
        while s & 1 == 1 {
            let left = self
                .frontier
                .pop()
                .expect("the frontier holds one hash per set bit of size");
            h = node_hash(&left, &h);
            s >>= 1;
        }
        self.frontier.push(h);
        self.size += 1;
    }
}
