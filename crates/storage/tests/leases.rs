//! The purpose engine's leases on one database, as two nodes see them: shares are fair, a
//! batch commits only under the leases it was made for, and a node that stops renewing loses
//! its partitions to the other within the lease's lifetime.

use std::time::{Duration, Instant};

use storage::{ENGINE_PARTITIONS, Fence, PurposeBatch, PurposeFeed, lease_plan};

fn empty_batch(up_to: i64) -> PurposeBatch {
    PurposeBatch {
        up_to,
        entries: Vec::new(),
        deviations: Vec::new(),
        privacy_switches: Vec::new(),
        watermarks: Vec::new(),
        alarms: Vec::new(),
        utilization: Vec::new(),
        recorded_at: domain::Timestamp::from_millis(0),
    }
}

#[test]
fn a_plan_gives_each_node_its_share_and_takes_only_free_partitions() {
    let all: Vec<u16> = (0..ENGINE_PARTITIONS).collect();
    // Alone: everything.
    assert_eq!(lease_plan(&[], 1, &all), (vec![], all.clone()));
    // A second node arrived: the first gives up the upper half, the second takes only what
    // is free.
    assert_eq!(lease_plan(&all, 2, &[]), (all[8..].to_vec(), vec![]));
    assert_eq!(lease_plan(&[], 2, &all[8..]), (vec![], all[8..].to_vec()));
    // Three nodes: shares of 6, 6 and 4; never more than the share.
    assert_eq!(lease_plan(&all[..6], 3, &all[6..]), (vec![], vec![]));
    assert_eq!(lease_plan(&[], 3, &all[12..]).1, all[12..].to_vec());
}

/// Runs lease rounds for `node` until `done` says so, or fails after `within`.
fn rounds_until(
    feed: &mut dyn PurposeFeed,
    node: &str,
    ttl_ms: i64,
    within: Duration,
    done: impl Fn(&storage::LeaseGrant) -> bool,
) -> storage::LeaseGrant {
    let start = Instant::now();
    loop {
        let grant = feed.lease_round(node, ttl_ms).expect("lease round");
        if done(&grant) {
            return grant;
        }
        assert!(
            start.elapsed() < within,
            "{node} never got there; last grant {grant:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn two_nodes_share_the_partitions_and_one_takes_over_when_the_other_stops() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = storage::open(dir.path()).expect("open");
    let mut a = store.purpose_feed().expect("feed a");
    let mut b = store.purpose_feed().expect("feed b");
    let ttl = 400;
    let first = a.lease_round("a", ttl).expect("a alone");
    assert_eq!(first.partitions.len(), usize::from(ENGINE_PARTITIONS));
    assert!(first.schedule, "the first node runs the scheduled work");
    assert_eq!(first.nodes, 1);

    // b arrives: it gets nothing yet (a holds all), a gives up half at its next round, b takes
    // them at its next.
    let b0 = b.lease_round("b", ttl).expect("b arrives");
    assert!(b0.partitions.is_empty() && !b0.schedule, "{b0:?}");
    let a1 = a.lease_round("a", ttl).expect("a renews");
    assert_eq!(a1.partitions.len(), 8);
    assert_eq!(a1.nodes, 2);
    let b1 = b.lease_round("b", ttl).expect("b takes");
    assert_eq!(b1.partitions.len(), 8);
    assert!(
        a1.partitions.iter().all(|p| !b1.partitions.contains(p)),
        "one owner per partition: {a1:?} {b1:?}"
    );
    assert!(a1.schedule && !b1.schedule, "one node runs the schedule");

    // A batch made for b's partitions by a is refused, and moves no cursor.
    let before = a.cursors().expect("cursors");
    let refused = a.commit_leased(
        &empty_batch(99),
        Fence {
            node: "a",
            partitions: &b1.partitions,
        },
    );
    assert!(
        matches!(refused, Err(storage::StoreError::Refused(_))),
        "{refused:?}"
    );
    assert_eq!(a.cursors().expect("cursors"), before);
    // Its own commits, and moves only its partitions' cursors.
    a.commit_leased(
        &empty_batch(7),
        Fence {
            node: "a",
            partitions: &a1.partitions,
        },
    )
    .expect("a's own batch");
    let after = a.cursors().expect("cursors");
    for p in 0..ENGINE_PARTITIONS {
        let want = if a1.partitions.contains(&p) { 7 } else { 0 };
        assert_eq!(after[usize::from(p)], want, "partition {p}");
    }
    assert_eq!(a.cursor().expect("lowest cursor"), 0);

    // a stops renewing (killed): within the lease's lifetime b holds everything, the
    // schedule too, and a's late batch is refused.
    let stopped = Instant::now();
    let all = rounds_until(
        b.as_mut(),
        "b",
        ttl,
        Duration::from_millis(u64::try_from(ttl).expect("ttl") * 3),
        |g| g.partitions.len() == usize::from(ENGINE_PARTITIONS) && g.schedule,
    );
    assert!(
        stopped.elapsed() <= Duration::from_millis(u64::try_from(ttl).expect("ttl") + 300),
        "takeover took {:?}",
        stopped.elapsed()
    );
    assert_eq!(all.nodes, 1);
    let late = a.commit_leased(
        &empty_batch(50),
        Fence {
            node: "a",
            partitions: &a1.partitions,
        },
    );
    assert!(
        matches!(late, Err(storage::StoreError::Refused(_))),
        "{late:?}"
    );
    // Renewing after the lease ran out gives a nothing back: its partitions are b's now.
    let a2 = a.lease_round("a", ttl).expect("a comes back");
    assert!(a2.partitions.is_empty() && !a2.schedule, "{a2:?}");

    let rows = store.leases().expect("leases");
    assert!(
        rows.iter()
            .filter(|l| l.name.starts_with("partition/"))
            .all(|l| l.holder == "b"),
        "{rows:?}"
    );
    // A clean stop gives everything up at once.
    b.lease_release("b").expect("release");
    let a3 = a.lease_round("a", ttl).expect("a again");
    assert_eq!(
        a3.partitions.len(),
        usize::from(ENGINE_PARTITIONS),
        "b is gone: a takes everything"
    );
}

#[test]
fn the_shared_secret_is_made_once_and_is_the_same_for_every_reader() {
    let dir = tempfile::tempdir().expect("tempdir");
    let one = storage::open(dir.path()).expect("open");
    let first = one.shared_secret("csrf").expect("secret");
    assert_eq!(first.len(), 32);
    let two = storage::open(dir.path()).expect("open again");
    assert_eq!(two.shared_secret("csrf").expect("secret"), first);
    assert_ne!(one.shared_secret("cluster").expect("other"), first);
}
