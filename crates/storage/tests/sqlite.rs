//! The storage story, on the embedded backend.

use domain::{AttrKey, AttrValue, Attribute, DeviceId, FieldKind, Fix, Position, Timestamp};
use storage::{FieldSeen, StagedFix};

fn example_org() -> org::Org {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/org.toml"
    ))
    .expect("example file");
    org::parse(&text).expect("valid example")
}

fn fix(t: i64) -> Fix {
    Fix {
        time: Timestamp::from_millis(t),
        position: Position::new(59.91, 10.75),
        altitude_m: Some(12.0),
        course_deg: Some(90),
        satellites: Some(9),
        speed_kmh: Some(50.0),
        attributes: vec![Attribute {
            key: AttrKey::Io(239),
            value: AttrValue::Int(1),
        }],
    }
}

#[test]
fn applying_the_same_org_twice_changes_nothing_the_second_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = storage::open(dir.path()).expect("open");
    let org = example_org();
    let first = store.apply_org(&org).expect("apply");
    assert!(!first.is_empty());
    assert_eq!(store.org_version().expect("version"), 1);
    let again = store.apply_org(&org).expect("apply again");
    assert!(again.is_empty(), "{again}");
    assert_eq!(
        store.org_version().expect("version"),
        1,
        "no change, no new version"
    );
    let loaded = store.load_org().expect("load");
    assert!(
        org::diff(&loaded, &org).is_empty(),
        "stored org equals the file"
    );

    let mut smaller = org.clone();
    let gone = smaller.devices.remove(0);
    let changes = store.apply_org(&smaller).expect("apply smaller");
    assert_eq!(
        changes.to_string(),
        format!("- device {} {}\n", gone.protocol, gone.external_id)
    );
    assert_eq!(
        store.devices().expect("devices").len(),
        org.devices.len() - 1
    );
    // Back again: re-activated, same row.
    store.apply_org(&org).expect("apply full");
    assert_eq!(store.devices().expect("devices").len(), org.devices.len());
}

#[test]
fn staged_fixes_are_stored_once_and_survive_reopening() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = storage::open(dir.path()).expect("open");
    store.apply_org(&example_org()).expect("apply");
    let device = store.devices().expect("devices")[0].id;
    let mut w = store.ingest_writer().expect("writer");
    let now = Timestamp::from_millis(1_700_000_000_000);
    let batch: Vec<StagedFix> = (0..10)
        .map(|i| StagedFix {
            device,
            received_at: now,
            fix: fix(1_700_000_000_000 + i * 1000),
        })
        .collect();
    let seen = [FieldSeen {
        device,
        key: "io:239".into(),
        kind: FieldKind::Ignition,
        at: now,
    }];
    let out = w.commit(&batch, &seen).expect("commit");
    assert_eq!((out.inserted, out.duplicates), (10, 0));
    let out = w.commit(&batch[5..], &seen).expect("commit again");
    assert_eq!((out.inserted, out.duplicates), (0, 5));
    drop(w);
    drop(store);

    let store = storage::open(dir.path()).expect("reopen");
    assert_eq!(store.staging_stats().expect("stats").rows, 10);
    let inv = store.inventory(device).expect("inventory");
    assert_eq!(inv.len(), 1);
    assert_eq!(
        (inv[0].key.as_str(), inv[0].kind),
        ("io:239", FieldKind::Ignition)
    );
    assert_eq!(store.inventory(DeviceId(999)).expect("inventory"), vec![]);
    assert_eq!(
        store
            .purge_staging(Timestamp::from_millis(now.millis() + 1))
            .expect("purge"),
        10
    );
    assert_eq!(store.staging_stats().expect("stats").rows, 0);
}

#[test]
fn every_migration_file_is_applied() {
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
        .expect("migrations folder")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "sql"))
        })
        .count();
    let dir = tempfile::tempdir().expect("tempdir");
    drop(storage::open(dir.path()).expect("open"));
    let conn = rusqlite::Connection::open(dir.path().join("sporvern.db")).expect("db");
    let applied: i64 = conn
        .query_row("SELECT COUNT(*) FROM schema_migrations", [], |r| r.get(0))
        .expect("count");
    assert_eq!(
        applied as usize, files,
        "a migration file is missing from MIGRATIONS"
    );
}
