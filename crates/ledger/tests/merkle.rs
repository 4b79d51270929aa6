//! RFC 6962 hashing against published Certificate Transparency vectors and a
//! naive recursive reference built here from the RFC's definitions.

use ledger::{
    Hash, consistency_proof, empty_root, inclusion_proof, leaf_hash, node_hash, root,
    verify_consistency, verify_inclusion,
};
use sha2::{Digest, Sha256};

fn h(s: &str) -> Hash {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).expect("test vector is 64 hex digits");
    out
}

/// The leaf inputs of the Certificate Transparency reference tree.
const CT_INPUTS: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

/// Published roots of the reference tree for sizes 0..=8.
const CT_ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

fn ct_leaves() -> Vec<Hash> {
    CT_INPUTS
        .iter()
        .map(|s| leaf_hash(&hex::decode(s).expect("hex input")))
        .collect()
}

#[test]
fn empty_tree_is_sha256_of_nothing() {
    let want: Hash = Sha256::digest(b"").into();
    assert_eq!(empty_root(), want);
    assert_eq!(root(&[]), want);
}

#[test]
fn one_leaf_tree_is_its_leaf_hash() {
    let leaf = leaf_hash(b"");
    assert_eq!(root(&[leaf]), leaf);
    assert_eq!(leaf, h(CT_ROOTS[1]));
}

#[test]
fn roots_match_the_published_ct_vectors() {
    let leaves = ct_leaves();
    for (n, want) in CT_ROOTS.iter().enumerate() {
        assert_eq!(root(&leaves[..n]), h(want), "size {n}");
    }
}

#[test]
fn inclusion_proofs_match_the_published_ct_vectors() {
    let leaves = ct_leaves();
    let cases: [(u64, usize, &[&str]); 3] = [
        (
            0,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            5,
            8,
            &[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            3,
            &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        ),
    ];
    for (index, size, want) in cases {
        let want: Vec<Hash> = want.iter().map(|s| h(s)).collect();
        let tree = &leaves[..size];
        assert_eq!(
            inclusion_proof(tree, index),
            want,
            "index {index} size {size}"
        );
        assert!(verify_inclusion(
            &tree[index as usize],
            index,
            size as u64,
            &want,
            &h(CT_ROOTS[size])
        ));
    }
}

#[test]
fn consistency_proofs_match_the_published_ct_vectors() {
    let leaves = ct_leaves();
    let cases: [(u64, usize, &[&str]); 4] = [
        (
            1,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            5,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
        (
            2,
            8,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
    ];
    for (m, n, want) in cases {
        let want: Vec<Hash> = want.iter().map(|s| h(s)).collect();
        assert_eq!(consistency_proof(m, &leaves[..n]), want, "m {m} n {n}");
        assert!(verify_consistency(
            m,
            n as u64,
            &h(CT_ROOTS[m as usize]),
            &h(CT_ROOTS[n]),
            &want
        ));
    }
}

// ---- naive reference, written from RFC 6962 §2.1 directly ----

fn naive_mth(d: &[Hash]) -> Hash {
    let n = d.len();
    if n == 0 {
        return Sha256::digest(b"").into();
    }
    if n == 1 {
        return d[0];
    }
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    let mut hasher = Sha256::new();
    hasher.update([1u8]);
    hasher.update(naive_mth(&d[..k]));
    hasher.update(naive_mth(&d[k..]));
    hasher.finalize().into()
}

/// Recomputes the root from a leaf and an RFC 6962 audit path by walking the
/// same recursion that produced it (independent of the RFC 9162 verifier).
fn naive_root_from_path(leaf: Hash, m: usize, n: usize, path: &[Hash]) -> Option<Hash> {
    if n == 1 {
        return path.is_empty().then_some(leaf);
    }
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    let (sibling, rest) = path.split_last()?;
    if m < k {
        Some(node_hash(&naive_root_from_path(leaf, m, k, rest)?, sibling))
    } else {
        Some(node_hash(
            sibling,
            &naive_root_from_path(leaf, m - k, n - k, rest)?,
        ))
    }
}

fn leaves(n: usize) -> Vec<Hash> {
    (0..n)
        .map(|i| leaf_hash(format!("entry {i}").as_bytes()))
        .collect()
}

#[test]
fn roots_match_the_naive_reference_up_to_70() {
    for n in 0..=70 {
        let d = leaves(n);
        assert_eq!(root(&d), naive_mth(&d), "size {n}");
    }
}

#[test]
fn every_inclusion_proof_verifies_for_every_size_up_to_33() {
    for n in 1..=33usize {
        let d = leaves(n);
        let r = naive_mth(&d);
        let size = n as u64;
        for i in 0..n {
            let idx = i as u64;
            let proof = inclusion_proof(&d, idx);
            assert_eq!(
                naive_root_from_path(d[i], i, n, &proof),
                Some(r),
                "n {n} i {i}: path does not rebuild the naive root"
            );
            assert!(
                verify_inclusion(&d[i], idx, size, &proof, &r),
                "n {n} i {i}"
            );

            // Wrong leaf, wrong index, wrong size, wrong root, altered,
            // shortened or lengthened path: all rejected.
            let other = leaf_hash(b"not in the tree");
            assert!(!verify_inclusion(&other, idx, size, &proof, &r));
            if n > 1 {
                let j = (idx + 1) % size;
                assert!(
                    !verify_inclusion(&d[i], j, size, &proof, &r),
                    "n {n} i {i} j {j}"
                );
            }
            assert!(!verify_inclusion(&d[i], size, size, &proof, &r));
            assert!(!verify_inclusion(&d[i], idx, size, &proof, &other));
            for k in 0..proof.len() {
                let mut bad = proof.clone();
                bad[k][0] ^= 1;
                assert!(
                    !verify_inclusion(&d[i], idx, size, &bad, &r),
                    "n {n} i {i} k {k}"
                );
            }
            if !proof.is_empty() {
                let short = &proof[..proof.len() - 1];
                assert!(!verify_inclusion(&d[i], idx, size, short, &r));
            }
            let mut long = proof.clone();
            long.push(other);
            assert!(!verify_inclusion(&d[i], idx, size, &long, &r));
        }
        assert!(inclusion_proof(&d, size).is_empty());
    }
}

#[test]
fn every_consistency_proof_verifies_for_every_size_up_to_33() {
    for n in 1..=33usize {
        let d = leaves(n);
        let root_n = naive_mth(&d);
        for m in 0..=n {
            let root_m = naive_mth(&d[..m]);
            let (m64, n64) = (m as u64, n as u64);
            let proof = consistency_proof(m64, &d);
            assert!(
                verify_consistency(m64, n64, &root_m, &root_n, &proof),
                "m {m} n {n}"
            );
            if m == 0 || m == n {
                assert!(proof.is_empty());
                continue;
            }
            // Any other old root, new root, or altered proof is rejected.
            let other = leaf_hash(b"forged");
            assert!(!verify_consistency(m64, n64, &other, &root_n, &proof));
            assert!(!verify_consistency(m64, n64, &root_m, &other, &proof));
            for k in 0..proof.len() {
                let mut bad = proof.clone();
                bad[k][31] ^= 0x80;
                assert!(
                    !verify_consistency(m64, n64, &root_m, &root_n, &bad),
                    "m {m} n {n} k {k}"
                );
            }
            assert!(!verify_consistency(m64, n64, &root_m, &root_n, &proof[1..]));
            let mut long = proof.clone();
            long.push(other);
            assert!(!verify_consistency(m64, n64, &root_m, &root_n, &long));
            // A tree whose leaf m-1 differs is not consistent with this one.
            let mut forked = d.clone();
            forked[m - 1] = other;
            let forked_root = naive_mth(&forked);
            assert!(!verify_consistency(m64, n64, &root_m, &forked_root, &proof));
        }
    }
}

#[test]
fn consistency_edge_cases() {
    let d = leaves(5);
    let r5 = root(&d);
    let r3 = root(&d[..3]);
    assert!(
        !verify_consistency(6, 5, &r5, &r5, &[]),
        "old larger than new"
    );
    assert!(consistency_proof(6, &d).is_empty());
    assert!(
        !verify_consistency(3, 5, &r3, &r5, &[]),
        "empty proof for m<n"
    );
    assert!(
        !verify_consistency(5, 5, &r5, &r3, &[]),
        "same size, other root"
    );
    assert!(
        !verify_consistency(0, 5, &r3, &r5, &[]),
        "size 0 must be the empty root"
    );
}
