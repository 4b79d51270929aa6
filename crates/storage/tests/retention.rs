//! Retention with a fake clock: the plan says what goes when; the run deletes exactly that and
//! leaves receipts; nothing else can delete the driving log.

use domain::drivinglog::NewLogEntry;
use domain::{Timestamp, VehicleId};
use storage::{PurposeBatch, RetentionPolicy};

fn date(y: i32, m: u8, d: u8) -> time::Date {
    time::Date::from_calendar_date(y, time::Month::try_from(m).expect("month"), d).expect("date")
}

fn at(y: i32, m: u8, d: u8) -> Timestamp {
    Timestamp::from_secs(date(y, m, d).midnight().assume_utc().unix_timestamp())
}

fn example_org() -> org::Org {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/org.toml"
    ))
    .expect("example file");
    org::parse(&text).expect("valid example")
}

#[test]
fn the_plan_and_the_run_agree_and_leave_receipts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = storage::open(dir.path()).expect("open");
    store.apply_org(&example_org()).expect("apply");
    let vehicle: VehicleId = store
        .vehicle_id(&domain::RegNo::parse("EK 12345").expect("reg"))
        .expect("query")
        .expect("vehicle");
    let private = |d: time::Date| NewLogEntry::Private {
        vehicle,
        date: d,
        km: 12.5,
    };
    let mut feed = store.purpose_feed().expect("feed");
    feed.commit(&PurposeBatch {
        up_to: 0,
        entries: vec![
            private(date(2019, 6, 1)),
            private(date(2020, 12, 31)),
            private(date(2021, 1, 1)),
        ],
        deviations: vec![],
        privacy_switches: vec![
            (vehicle, at(2025, 12, 1), true, "test"),
            (vehicle, at(2025, 12, 1), false, "test"),
        ],
        watermarks: vec![],
        alarms: vec![],
        utilization: vec![],
        recorded_at: at(2021, 1, 2),
    })
    .expect("commit");
    let policy = RetentionPolicy::default();

    let plan = store
        .retention_plan(&policy, at(2025, 12, 31))
        .expect("plan");
    let rows: Vec<(String, &str, u64)> = plan
        .iter()
        .map(|p| (p.due.to_string(), p.kind, p.count))
        .collect();
    assert_eq!(
        rows,
        vec![
            ("2025-01-01".to_owned(), "driving_log_trip", 1),
            ("2026-01-01".to_owned(), "driving_log_trip", 1),
            ("2026-03-02".to_owned(), "privacy_switch", 2),
            ("2027-01-01".to_owned(), "driving_log_trip", 1),
        ]
    );

    // The day before: nothing is due.
    assert!(
        store
            .retention_run(&policy, at(2024, 12, 31))
            .expect("run")
            .is_empty()
    );
    // New Year's Day 2025: the 2019 entry goes (five years after the end of 2019 have passed).
    let receipts = store.retention_run(&policy, at(2025, 1, 1)).expect("run");
    assert_eq!(
        receipts
            .iter()
            .map(|r| (r.kind.as_str(), r.count))
            .collect::<Vec<_>>(),
        vec![("driving_log_trip", 1)]
    );
    let left = store
        .driving_log(
            &cap(access::Role::LogKeeper, access::ReadPurpose::DrivingLog),
            vehicle,
            date(2019, 1, 1),
            date(2021, 12, 31),
        )
        .expect("log");
    assert_eq!(
        left.iter()
            .map(|e| e.date().to_string())
            .collect::<Vec<_>>(),
        vec!["2020-12-31", "2021-01-01"]
    );
    // Ninety days after the switches they go too, with the 2020 entry due since New Year.
    let receipts = store.retention_run(&policy, at(2026, 3, 2)).expect("run");
    assert_eq!(
        receipts
            .iter()
            .map(|r| (r.kind.as_str(), r.count))
            .collect::<Vec<_>>(),
        vec![("driving_log_trip", 1), ("privacy_switch", 2)]
    );
    assert_eq!(
        store.retention_receipts().expect("receipts").len(),
        3,
        "every deletion has its receipt"
    );

    // Outside retention, the driving log cannot be deleted, even with SQL against the file.
    let conn = rusqlite::Connection::open(dir.path().join("sporvern.db")).expect("db");
    let err = conn.execute("DELETE FROM trip", []).expect_err("refused");
    assert!(
        err.to_string().contains("deleted only by retention"),
        "{err}"
    );
}

#[test]
fn released_utilization_weeks_replace_their_facts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = storage::open(dir.path()).expect("open");
    let fact = |v: i64, start: Timestamp| storage::UtilizationFact {
        group: "Service Oslo".into(),
        vehicle_key: v,
        start,
        end: Timestamp::from_millis(start.millis() + 1_800_000),
        km: 12.0,
        start_cell: (1198, 107),
        end_cell: (1198, 108),
    };
    let mut feed = store.purpose_feed().expect("feed");
    feed.commit(&PurposeBatch {
        up_to: 0,
        entries: vec![],
        deviations: vec![],
        privacy_switches: vec![],
        watermarks: vec![],
        alarms: vec![],
        utilization: vec![fact(1, at(2026, 11, 10)), fact(2, at(2026, 11, 17))],
        recorded_at: at(2026, 11, 18),
    })
    .expect("commit");
    let cutoff = at(2026, 11, 16);
    assert_eq!(
        store
            .purpose_feed()
            .expect("feed")
            .utilization_facts_before(cutoff)
            .expect("facts")
            .len(),
        1
    );
    let week = storage::ReleasedWeek {
        group: "Service Oslo".into(),
        year: 2026,
        week: 46,
        body: "{\"status\":\"suppressed\"}".into(),
    };
    store
        .purpose_feed()
        .expect("feed")
        .release_utilization(std::slice::from_ref(&week), cutoff)
        .expect("release");
    assert!(
        store
            .purpose_feed()
            .expect("feed")
            .utilization_facts_before(cutoff)
            .expect("facts")
            .is_empty(),
        "released facts are deleted"
    );
    assert_eq!(
        store
            .purpose_feed()
            .expect("feed")
            .utilization_facts_before(at(2026, 12, 1))
            .expect("facts")
            .len(),
        1,
        "the running week stays"
    );
    assert_eq!(
        store
            .utilization_weeks(&cap(
                access::Role::Analyst,
                access::ReadPurpose::Utilization
            ))
            .expect("weeks"),
        vec![week]
    );
}

/// A capability for the test's look at the data, from the policy (the only door).
fn cap(role: access::Role, purpose: access::ReadPurpose) -> access::Capability {
    let user = access::User {
        id: access::UserId("test".to_owned()),
        name: "test".to_owned(),
        roles: vec![role],
        employee: None,
    };
    access::Policy::authorise(&user, role, purpose, access::Scope::All, 0)
        .expect("allowed")
        .into_parts()
        .0
}

#[test]
fn an_ended_measure_s_data_goes_at_the_next_run_but_the_driving_log_stays() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = storage::open(dir.path()).expect("open");
    store.apply_org(&example_org()).expect("apply");
    let vehicle: VehicleId = store
        .vehicle_id(&domain::RegNo::parse("EK 12345").expect("reg"))
        .expect("query")
        .expect("vehicle");
    let position = domain::Position::new(59.9275, 10.8452).expect("position");
    let mut feed = store.purpose_feed().expect("feed");
    feed.commit(&PurposeBatch {
        up_to: 0,
        entries: vec![NewLogEntry::Private {
            vehicle,
            date: date(2026, 11, 2),
            km: 4.2,
        }],
        deviations: vec![],
        privacy_switches: vec![],
        watermarks: vec![],
        alarms: vec![storage::AlarmAction::Open {
            vehicle,
            at: at(2026, 11, 2),
            triggers: "panic".into(),
            position: Some(position),
        }],
        utilization: vec![],
        recorded_at: at(2026, 11, 2),
    })
    .expect("commit");
    drop(feed);
    let now = at(2026, 11, 3);
    let running = RetentionPolicy::default();
    assert!(
        store.retention_run(&running, now).expect("run").is_empty(),
        "an open window keeps its positions while the measure runs"
    );
    let ended = RetentionPolicy {
        ended: vec![org::Purpose::Alarm, org::Purpose::DrivingLog],
        ..RetentionPolicy::default()
    };
    let plan = store.retention_plan(&ended, now).expect("plan");
    assert!(
        plan.iter()
            .any(|p| p.kind == "alarm_position" && p.count == 1 && p.due == date(2026, 11, 3)),
        "{plan:?}"
    );
    let receipts = store.retention_run(&ended, now).expect("run");
    assert_eq!(receipts.len(), 1, "{receipts:?}");
    assert!(
        receipts[0].rule.contains("measure has ended"),
        "{receipts:?}"
    );
    let security = cap(access::Role::SecurityOperator, access::ReadPurpose::Alarm);
    let windows = store.alarm_windows(&security).expect("windows");
    assert_eq!(windows[0].resolved_by.as_deref(), Some("measure ended"));
    assert!(
        store
            .alarm_positions(&security, windows[0].id)
            .expect("positions")
            .is_empty()
    );
    let keeper = cap(access::Role::LogKeeper, access::ReadPurpose::DrivingLog);
    assert_eq!(
        store
            .driving_log(&keeper, vehicle, date(2026, 11, 1), date(2026, 11, 30))
            .expect("log")
            .len(),
        1,
        "the driving log is kept for bokføringsloven even when its measure ends"
    );
}
