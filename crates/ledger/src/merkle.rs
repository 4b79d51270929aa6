//! RFC 6962 Merkle tree hashing, audit paths and consistency proofs.
//!
//! Leaf hash `SHA-256(0x00 || data)`, interior node `SHA-256(0x01 || left ||
//! right)`, the empty tree hashes to `SHA-256("")`, and a tree of `n > 1`
//! leaves splits at the largest power of two smaller than `n` (RFC 6962
//! §2.1). Proof verification follows RFC 9162 §2.1.3.2 and §2.1.4.2, which
//! check the same proofs as RFC 6962 without rebuilding the tree.

use sha2::{Digest, Sha256};

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// `SHA-256("")`, the root of the empty tree.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(data);
    h.finalize().into()
}

/// `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// Largest power of two strictly smaller than `n` (`n >= 2`).
fn split(n: usize) -> usize {
    debug_assert!(n >= 2);
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// The Merkle tree hash (MTH) over leaf hashes, RFC 6962 §2.1.
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves {
        [] => empty_root(),
        [one] => *one,
        _ => {
            let k = split(leaves.len());
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// The audit path (RFC 6962 §2.1.1) for leaf `index` in the tree over
/// `leaves`, ordered from the leaf upwards. Empty if `index` is out of range
/// (which no verifier accepts, except for the one-leaf tree where the path is
/// legitimately empty).
pub fn inclusion_proof(leaves: &[Hash], index: u64) -> Vec<Hash> {
    let mut out = Vec::new();
    if let Ok(i) = usize::try_from(index)
        && i < leaves.len()
    {
        path(i, leaves, &mut out);
    }
    out
}

fn path(m: usize, leaves: &[Hash], out: &mut Vec<Hash>) {
    if leaves.len() <= 1 {
        return;
    }
    let k = split(leaves.len());
    if m < k {
        path(m, &leaves[..k], out);
        out.push(root(&leaves[k..]));
    } else {
        path(m - k, &leaves[k..], out);
        out.push(root(&leaves[..k]));
    }
}

/// Checks an audit path: does leaf `leaf` sit at `index` in a tree of `size`
/// leaves with root `root`?
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    snode == 0 && r == *root
}

/// The consistency proof (RFC 6962 §2.1.2) that the tree over the first `m`
/// leaves is a prefix of the tree over all `leaves`. Empty when `m == 0`,
/// `m == leaves.len()` (nothing to prove) or `m > leaves.len()` (no proof
/// exists; no verifier accepts it).
pub fn consistency_proof(m: u64, leaves: &[Hash]) -> Vec<Hash> {
    let mut out = Vec::new();
    if let Ok(m) = usize::try_from(m)
        && m > 0
        && m < leaves.len()
    {
        subproof(m, leaves, true, &mut out);
    }
    out
}

fn subproof(m: usize, leaves: &[Hash], whole: bool, out: &mut Vec<Hash>) {
    let n = leaves.len();
    if m == n {
        if !whole {
            out.push(root(leaves));
        }
        return;
    }
    let k = split(n);
    if m <= k {
        subproof(m, &leaves[..k], whole, out);
        out.push(root(&leaves[k..]));
    } else {
        subproof(m - k, &leaves[k..], false, out);
        out.push(root(&leaves[..k]));
    }
}

/// Checks that the tree of size `m` with root `root_m` is a prefix of the
/// tree of size `n` with root `root_n`. The empty tree (`m == 0`, root
/// `SHA-256("")`) is a prefix of every tree, with an empty proof.
pub fn verify_consistency(m: u64, n: u64, root_m: &Hash, root_n: &Hash, proof: &[Hash]) -> bool {
    if m > n {
        return false;
    }
    if m == 0 {
        return proof.is_empty() && *root_m == empty_root();
    }
    if m == n {
        return proof.is_empty() && root_m == root_n;
    }
    let Some((first, rest)) = proof.split_first() else {
        return false;
    };
    // When m is a power of two the old root is itself a node of the new tree
    // and the proof leaves it out.
    let (seed, rest) = if m.is_power_of_two() {
        (root_m, proof)
    } else {
        (first, rest)
    };
    let (mut fnode, mut snode) = (m - 1, n - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (*seed, *seed);
    for c in rest {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    fr == *root_m && sr == *root_n && snode == 0
}
