//! The purpose engine's lease plan: fair shares, only free partitions taken. The leases on a
//! database as two nodes see them are in `crates/storage-postgres/tests/story.rs` (both
//! backends).

use storage::{ENGINE_PARTITIONS, lease_plan};

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
