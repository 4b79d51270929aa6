//! Entries, the chain, tamper detection, checkpoints and the appender.

use ledger::{
    Action, Appender, DecodeError, Entry, FrontierError, GENESIS_CHAIN, Hash, Head, ParseHeadError,
    SeqError, StoredEntry, VerifyError, chain_next, inclusion_proof, root, verify, verify_against,
    verify_consistency, verify_inclusion,
};
use proptest::prelude::*;

fn entry(seq: u64) -> Entry {
    let action = Action::ALL[(seq % 6) as usize];
    Entry {
        seq,
        at_ms: 1_793_000_000_000 + seq as i64 * 1_000,
        actor: format!("user-{}", seq % 3),
        role: "log_keeper".into(),
        purpose: "driving_log".into(),
        subject: (!seq.is_multiple_of(4)).then(|| format!("EK{:05}", 12_000 + seq)),
        action,
        object: format!("driving_log EK{:05} 2026-11", 12_000 + seq),
        outcome: if action == Action::Denied {
            "denied: no purpose".into()
        } else {
            "ok".into()
        },
    }
}

fn ledger(n: u64) -> Vec<StoredEntry> {
    let mut app = Appender::new();
    (0..n)
        .map(|i| app.append(entry(i)).expect("in sequence"))
        .collect()
}

/// Recomputes every chain hash, as someone rewriting history would.
fn rechain(entries: &mut [StoredEntry]) {
    let mut chain = GENESIS_CHAIN;
    for s in entries {
        chain = chain_next(&chain, &s.entry.leaf_hash());
        s.chain = chain;
    }
}

// ---- canonical encoding ----

#[test]
fn canonical_encoding_round_trips_and_is_versioned() {
    for i in 0..12 {
        let e = entry(i);
        let bytes = e.canonical_bytes();
        assert_eq!(bytes[0], ledger::ENCODING_VERSION);
        assert_eq!(Entry::from_canonical(&bytes), Ok(e));
    }
}

#[test]
fn canonical_encoding_layout_is_pinned() {
    let e = Entry {
        seq: 1,
        at_ms: -2,
        actor: "a".into(),
        role: "r".into(),
        purpose: "".into(),
        subject: Some("EK1".into()),
        action: Action::Export,
        object: "o".into(),
        outcome: "ok".into(),
    };
    let want: Vec<u8> = [
        &[1u8][..],
        &[0, 0, 0, 0, 0, 0, 0, 1],
        &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe],
        &[0, 0, 0, 1, b'a'],
        &[0, 0, 0, 1, b'r'],
        &[0, 0, 0, 0],
        &[1, 0, 0, 0, 3, b'E', b'K', b'1'],
        &[2],
        &[0, 0, 0, 1, b'o'],
        &[0, 0, 0, 2, b'o', b'k'],
    ]
    .concat();
    assert_eq!(e.canonical_bytes(), want);
}

#[test]
fn moving_bytes_between_fields_changes_the_hash() {
    let base = entry(1);
    let mut a = base.clone();
    a.actor = "ab".into();
    a.role = "c".into();
    let mut b = base.clone();
    b.actor = "a".into();
    b.role = "bc".into();
    assert_ne!(a.leaf_hash(), b.leaf_hash());

    let mut none = base.clone();
    none.subject = None;
    let mut empty = base;
    empty.subject = Some(String::new());
    assert_ne!(none.leaf_hash(), empty.leaf_hash());
}

#[test]
fn malformed_encodings_are_rejected() {
    let good = entry(5).canonical_bytes();
    let mut v2 = good.clone();
    v2[0] = 2;
    assert_eq!(Entry::from_canonical(&v2), Err(DecodeError::Version(2)));
    assert_eq!(
        Entry::from_canonical(&good[..good.len() - 1]),
        Err(DecodeError::Truncated)
    );
    let mut long = good.clone();
    long.push(0);
    assert_eq!(Entry::from_canonical(&long), Err(DecodeError::Trailing(1)));
    assert_eq!(Entry::from_canonical(&[]), Err(DecodeError::Truncated));
}

#[test]
fn actions_have_stable_tags_and_names() {
    for (a, (tag, name)) in Action::ALL.into_iter().zip([
        (1, "read"),
        (2, "export"),
        (3, "change"),
        (4, "delete"),
        (5, "denied"),
        (6, "config"),
    ]) {
        assert_eq!(a.tag(), tag);
        assert_eq!(Action::from_tag(tag), Some(a));
        assert_eq!(a.to_string(), name);
        assert_eq!(name.parse::<Action>(), Ok(a));
    }
    assert_eq!(Action::from_tag(0), None);
    assert!("snoop".parse::<Action>().is_err());
}

// ---- verification and tampering ----

#[test]
fn an_intact_ledger_verifies_to_the_appender_head() {
    for n in [0u64, 1, 2, 7, 64, 100] {
        let entries = ledger(n);
        let app = Appender::from_stored(&entries).expect("intact");
        let head = verify(&entries).expect("intact");
        assert_eq!(head, app.head());
        assert_eq!(head.size, n);
        let leaves: Vec<Hash> = entries.iter().map(|s| s.entry.leaf_hash()).collect();
        assert_eq!(head.root, root(&leaves));
        assert_eq!(verify_against(&entries, &head), Ok(head));
    }
    assert_eq!(verify(&[]), Ok(Head::empty()));
}

type Edit = fn(&mut Entry);

#[test]
fn editing_any_field_of_entry_k_names_k() {
    let edits: [(&str, Edit); 8] = [
        ("at_ms", |e| e.at_ms += 1),
        ("actor", |e| e.actor.push('x')),
        ("role", |e| e.role = "admin".into()),
        ("purpose", |e| e.purpose = "snooping".into()),
        ("subject", |e| {
            e.subject = match e.subject.take() {
                Some(_) => None,
                None => Some("EK99999".into()),
            }
        }),
        ("action", |e| {
            e.action = if e.action == Action::Read {
                Action::Export
            } else {
                Action::Read
            }
        }),
        ("object", |e| e.object.push('!')),
        ("outcome", |e| e.outcome = "ok (edited)".into()),
    ];
    for k in [0u64, 1, 5, 19] {
        for (name, edit) in edits {
            let mut entries = ledger(20);
            edit(&mut entries[k as usize].entry);
            assert_eq!(
                verify(&entries),
                Err(VerifyError::Edited { seq: k }),
                "{name} of {k}"
            );
        }
        // Editing the stored chain hash itself is found at the same row.
        let mut entries = ledger(20);
        entries[k as usize].chain[7] ^= 1;
        assert_eq!(verify(&entries), Err(VerifyError::Edited { seq: k }));
    }
}

#[test]
fn deleting_entry_k_is_missing_k() {
    for k in [0usize, 1, 10, 18] {
        let mut entries = ledger(20);
        entries.remove(k);
        assert_eq!(
            verify(&entries),
            Err(VerifyError::Missing {
                expected_seq: k as u64,
                found_seq: k as u64 + 1
            })
        );
    }
    // A block of entries removed.
    let mut entries = ledger(20);
    entries.drain(4..9);
    assert_eq!(
        verify(&entries),
        Err(VerifyError::Missing {
            expected_seq: 4,
            found_seq: 9
        })
    );
}

#[test]
fn swapping_entries_is_found_at_the_first() {
    for (a, b) in [(0usize, 1usize), (3, 4), (2, 15), (0, 19)] {
        let mut entries = ledger(20);
        entries.swap(a, b);
        assert_eq!(
            verify(&entries),
            Err(VerifyError::OutOfOrder {
                expected_seq: a as u64,
                found_seq: b as u64
            }),
            "swap {a} {b}"
        );
    }
    // Renumbering after a swap does not help: the chain breaks instead.
    let mut entries = ledger(20);
    entries.swap(6, 7);
    entries[6].entry.seq = 6;
    entries[7].entry.seq = 7;
    assert_eq!(verify(&entries), Err(VerifyError::Edited { seq: 6 }));
}

#[test]
fn a_duplicated_entry_is_out_of_order() {
    let mut entries = ledger(10);
    let dup = entries[3].clone();
    entries.insert(4, dup);
    assert_eq!(
        verify(&entries),
        Err(VerifyError::OutOfOrder {
            expected_seq: 4,
            found_seq: 3
        })
    );
}

#[test]
fn truncation_after_a_checkpoint_is_found() {
    let entries = ledger(30);
    let checkpoint = verify(&entries[..25]).expect("intact");
    assert_eq!(
        verify_against(&entries, &checkpoint),
        Ok(verify(&entries).expect("intact"))
    );
    for keep in [0usize, 1, 24] {
        let cut = &entries[..keep];
        assert_eq!(
            verify(cut).map(|h| h.size),
            Ok(keep as u64),
            "a cut alone verifies"
        );
        assert_eq!(
            verify_against(cut, &checkpoint),
            Err(VerifyError::Truncated {
                checkpoint_size: 25,
                found_size: keep as u64
            })
        );
    }
}

#[test]
fn rewritten_history_does_not_match_the_checkpoint() {
    let entries = ledger(30);
    let checkpoint = verify(&entries[..20]).expect("intact");
    for k in [0usize, 10, 19] {
        let mut forged = entries.clone();
        forged[k].entry.purpose = "nothing to see".into();
        rechain(&mut forged);
        assert!(
            verify(&forged).is_ok(),
            "a rechained ledger is self-consistent"
        );
        assert_eq!(
            verify_against(&forged, &checkpoint),
            Err(VerifyError::RootMismatch {
                checkpoint_size: 20
            })
        );
    }
    // Rewriting only after the checkpoint is not a rewrite of its history.
    let mut later = entries.clone();
    later[25].entry.outcome = "changed".into();
    rechain(&mut later);
    assert!(verify_against(&later, &checkpoint).is_ok());
    // Deleting inside the checkpoint and renumbering is caught too.
    let mut shifted = entries;
    shifted.remove(5);
    for (i, s) in shifted.iter_mut().enumerate() {
        s.entry.seq = i as u64;
    }
    rechain(&mut shifted);
    assert_eq!(
        verify_against(&shifted, &checkpoint),
        Err(VerifyError::RootMismatch {
            checkpoint_size: 20
        })
    );
}

#[test]
fn errors_read_well() {
    assert_eq!(
        VerifyError::Edited { seq: 7 }.to_string(),
        "audit entry 7 was edited: its chain hash does not match"
    );
    assert_eq!(
        VerifyError::Missing {
            expected_seq: 3,
            found_seq: 5
        }
        .to_string(),
        "audit entry 3 is missing (found entry 5 in its place)"
    );
}

// ---- appender ----

#[test]
fn appender_rejects_out_of_sequence_entries() {
    let mut app = Appender::new();
    assert_eq!(
        app.append(entry(1)),
        Err(SeqError {
            expected: 0,
            found: 1
        })
    );
    app.append(entry(0)).expect("seq 0");
    assert_eq!(app.next_seq(), 1);
    assert_eq!(
        app.append(entry(0)),
        Err(SeqError {
            expected: 1,
            found: 0
        })
    );
    assert_eq!(app.size(), 1);
}

#[test]
fn appender_resumes_from_its_frontier_and_from_leaves() {
    let all = ledger(45);
    for cut in [0usize, 1, 2, 3, 16, 31, 32, 33] {
        let first = Appender::from_stored(&all[..cut]).expect("intact");
        assert_eq!(first.frontier().len(), (cut as u64).count_ones() as usize);
        let mut resumed =
            Appender::from_frontier(first.size(), first.frontier().to_vec(), first.chain())
                .expect("valid frontier");
        let leaves: Vec<Hash> = all[..cut].iter().map(|s| s.entry.leaf_hash()).collect();
        assert_eq!(Appender::from_leaves(&leaves, first.chain()), first);
        for s in &all[cut..] {
            assert_eq!(resumed.append(s.entry.clone()).as_ref(), Ok(s));
        }
        assert_eq!(resumed.head(), verify(&all).expect("intact"));
    }
    assert_eq!(
        Appender::from_frontier(3, vec![[0; 32]], GENESIS_CHAIN),
        Err(FrontierError {
            size: 3,
            expected: 2,
            found: 1
        })
    );
}

#[test]
fn employees_can_check_their_entries_are_in_a_checkpoint() {
    let entries = ledger(23);
    let leaves: Vec<Hash> = entries.iter().map(|s| s.entry.leaf_hash()).collect();
    let head = verify(&entries).expect("intact");
    for s in &entries {
        let proof = inclusion_proof(&leaves, s.entry.seq);
        assert!(verify_inclusion(
            &s.entry.leaf_hash(),
            s.entry.seq,
            head.size,
            &proof,
            &head.root
        ));
    }
    // An older checkpoint is a prefix of the newer one.
    let old = verify(&entries[..9]).expect("intact");
    let proof = ledger::consistency_proof(old.size, &leaves);
    assert!(verify_consistency(
        old.size, head.size, &old.root, &head.root, &proof
    ));
}

// ---- checkpoints ----

#[test]
fn checkpoint_text_round_trips() {
    for n in [0u64, 1, 1234] {
        let head = Appender::from_stored(&ledger(n)).expect("intact").head();
        let text = head.to_string();
        assert_eq!(text.parse::<Head>(), Ok(head));
        assert_eq!(text.replace('\n', "\r\n").parse::<Head>(), Ok(head));
        assert_eq!(text.trim_end().parse::<Head>(), Ok(head));
    }
    let head = Head {
        size: 1234,
        root: [0xab; 32],
        chain: [0x01; 32],
    };
    assert_eq!(
        head.to_string(),
        format!(
            "sporvern-ledger-checkpoint v1\nsize 1234\nroot {}\nchain {}\n",
            "ab".repeat(32),
            "01".repeat(32)
        )
    );
}

#[test]
fn malformed_checkpoints_are_rejected() {
    let good = Head {
        size: 5,
        root: [0x11; 32],
        chain: [0x22; 32],
    }
    .to_string();
    let cases: Vec<(String, ParseHeadError)> = vec![
        (String::new(), ParseHeadError::Magic),
        (good.replace("v1", "v2"), ParseHeadError::Magic),
        (good.replace("size 5", "size -5"), ParseHeadError::Size),
        (good.replace("size 5", "size +5"), ParseHeadError::Size),
        (good.replace("size 5", "size 05"), ParseHeadError::Size),
        (
            good.replace("size 5", "size"),
            ParseHeadError::Field("size"),
        ),
        (good.replace("root ", "rot "), ParseHeadError::Field("root")),
        (
            good.replace(&"11".repeat(32), &"11".repeat(31)),
            ParseHeadError::Hex("root"),
        ),
        (
            good.replace(&"22".repeat(32), &"zz".repeat(32)),
            ParseHeadError::Hex("chain"),
        ),
        (
            good.lines().take(3).collect::<Vec<_>>().join("\n"),
            ParseHeadError::Field("chain"),
        ),
        (format!("{good}extra\n"), ParseHeadError::Trailing),
    ];
    for (text, want) in cases {
        assert_eq!(text.parse::<Head>(), Err(want), "{text:?}");
    }
}

// ---- properties ----

proptest! {
    #[test]
    fn incremental_root_equals_batch_root(n in 0usize..300, seed in any::<u64>()) {
        let leaves: Vec<Hash> = (0..n as u64)
            .map(|i| ledger::leaf_hash(&(seed ^ i).to_be_bytes()))
            .collect();
        let mut app = Appender::new();
        for (i, leaf) in leaves.iter().enumerate() {
            app.append_leaf(*leaf);
            if i % 37 == 0 {
                prop_assert_eq!(app.root(), root(&leaves[..=i]));
            }
        }
        prop_assert_eq!(app.root(), root(&leaves));
        prop_assert_eq!(app.size(), n as u64);
    }

    #[test]
    fn any_single_edit_is_found_at_its_row(n in 1u64..60, k in any::<prop::sample::Index>(), text in ".{0,12}") {
        let mut entries = ledger(n);
        let k = k.index(n as usize);
        let before = entries[k].entry.clone();
        entries[k].entry.object = text;
        prop_assume!(entries[k].entry != before);
        prop_assert_eq!(verify(&entries), Err(VerifyError::Edited { seq: k as u64 }));
    }

    #[test]
    fn canonical_encoding_round_trips(
        seq in any::<u64>(), at_ms in any::<i64>(), actor in ".{0,8}", subject in proptest::option::of("[A-Z0-9]{0,8}"),
        tag in 1u8..=6, object in ".{0,16}",
    ) {
        let e = Entry {
            seq, at_ms, actor, role: "analyst".into(), purpose: "stats".into(), subject,
            action: Action::from_tag(tag).expect("tag in range"), object, outcome: "ok".into(),
        };
        prop_assert_eq!(Entry::from_canonical(&e.canonical_bytes()), Ok(e));
    }
}
