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
        .filter_map(|p| Some((p.due?.to_string(), p.kind, p.count)))
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
        plan.iter().any(|p| p.kind == "alarm_position"
            && p.count == 1
            && p.due == Some(date(2026, 11, 3))),
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

fn record(actor: &str, at: Timestamp) -> storage::AuditRecord {
    storage::AuditRecord {
        at,
        actor: actor.to_owned(),
        role: "test".to_owned(),
        purpose: "test".to_owned(),
        subject: None,
        action: ledger::Action::Change,
        object: "test set-up".to_owned(),
        outcome: "ok".to_owned(),
    }
}

/// Every table of the schema that holds personal data has its place in the retention plan,
/// with when and why; every other table says why it is not personal tracking data. A new
/// table fails here until it is classified.
const PLANNED: &[(&str, &[&str])] = &[
    ("staged_fix", &["staged_fix"]),
    ("trip", &["driving_log_trip"]),
    ("trip_class", &["driving_log_classification"]),
    ("trip_driver_correction", &["driving_log_driver_correction"]),
    ("month_step", &["driving_log_signoff"]),
    ("deviation", &["driving_log_deviation"]),
    ("privacy_switch", &["privacy_switch"]),
    ("alarm_window", &["alarm_window", "alarm_incident"]),
    ("alarm_position", &["alarm_position"]),
    ("utilization_fact", &["utilization_fact"]),
    ("audit_entry", &["audit_entry"]),
];
const NOT_TRACKING_DATA: &[(&str, &str)] = &[
    ("organisation", "the employer"),
    ("vehicle", "the employer's vehicles"),
    ("device", "the employer's devices"),
    (
        "device_field",
        "which kinds of data a device sends, never a value",
    ),
    (
        "employee",
        "the organisation file's employees: kept while they are in it, retired after",
    ),
    ("assignment", "the organisation file's assignments"),
    ("site", "the employer's sites"),
    ("org_version", "a counter"),
    ("app_user", "user accounts, managed with `sporvern user`"),
    ("api_token", "token hashes with their expiry"),
    ("purpose_cursor", "a staged id"),
    ("drivinglog_watermark", "staged ids per vehicle"),
    ("retention_gate", "a flag"),
    ("retention_receipt", "counts and rules, never the data"),
    (
        "utilization_week",
        "anonymous aggregates over at least five vehicles",
    ),
    ("schema_migrations", "migration numbers"),
];

#[test]
fn the_plan_covers_every_store_of_personal_data_and_the_run_leaves_a_receipt_for_each() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = storage::open(dir.path()).expect("open");
    store.apply_org(&example_org()).expect("apply");
    let reg = |r: &str| {
        store
            .vehicle_id(&domain::RegNo::parse(r).expect("reg"))
            .expect("query")
            .expect("vehicle")
    };
    let (ek, el, br) = (reg("EK 12345"), reg("EL 23456"), reg("BR 34567"));
    let day = date(2026, 10, 5);
    let t = |h: i64| Timestamp::from_secs(day.midnight().assume_utc().unix_timestamp() + h * 3600);
    let pos = domain::Position::new(59.9, 10.7);
    let device = store.devices().expect("devices")[0].id;
    store
        .ingest_writer()
        .expect("writer")
        .commit(
            &[storage::StagedFix {
                device,
                received_at: t(1),
                fix: domain::Fix {
                    time: t(1),
                    position: pos,
                    altitude_m: None,
                    course_deg: None,
                    satellites: None,
                    speed_kmh: None,
                    attributes: vec![],
                },
            }],
            &[],
        )
        .expect("stage");
    let open = |vehicle| storage::AlarmAction::Open {
        vehicle,
        at: t(2),
        triggers: "panic".into(),
        position: pos,
    };
    store
        .purpose_feed()
        .expect("feed")
        .commit(&PurposeBatch {
            up_to: 0,
            entries: vec![NewLogEntry::Trip {
                vehicle: ek,
                date: day,
                start: t(7),
                end: t(8),
                start_place: "A".into(),
                end_place: "B".into(),
                odometer_start_km: Some(1.0),
                odometer_end_km: Some(2.0),
                km: 1.0,
                distance_source: "odometer",
                driver: Some("1001".into()),
            }],
            deviations: vec![domain::drivinglog::Deviation {
                vehicle: ek,
                date: day,
                from: t(9),
                to: t(10),
                kind: "device_silent",
                km: 0.0,
                note: String::new(),
                odometer_km: None,
            }],
            privacy_switches: vec![(ek, t(11), true, "test")],
            watermarks: vec![],
            alarms: vec![open(ek), open(el), open(br)],
            utilization: vec![storage::UtilizationFact {
                group: "vans".into(),
                vehicle_key: ek.0,
                start: t(7),
                end: t(8),
                km: 1.0,
                start_cell: (1, 1),
                end_cell: (1, 2),
            }],
            recorded_at: t(12),
        })
        .expect("commit");
    store
        .apply_change(
            &storage::Change::Classify {
                trip: 1,
                class: domain::drivinglog::Classification::Business {
                    purpose: "x".into(),
                },
            },
            record("kari", t(13)),
        )
        .expect("classify");
    store
        .apply_change(
            &storage::Change::CorrectDriver {
                trip: 1,
                driver: "1002".into(),
                reason: "they swapped vans".into(),
            },
            record("lars", t(13)),
        )
        .expect("correct");
    store
        .apply_change(
            &storage::Change::MonthStep {
                vehicle: ek,
                month: "2026-10".into(),
                step: domain::changes::StepKind::Submitted,
                comment: None,
            },
            record("kari", t(13)),
        )
        .expect("submit");
    let windows = store
        .alarm_windows(&cap(
            access::Role::SecurityOperator,
            access::ReadPurpose::Alarm,
        ))
        .expect("windows");
    for w in &windows {
        if w.vehicle == br {
            continue; // stays open
        }
        store
            .apply_change(
                &storage::Change::ResolveAlarm {
                    window: w.id,
                    incident: w.vehicle == ek,
                    note: "checked".to_owned(),
                },
                record("vakt", t(14)),
            )
            .expect("resolve");
    }

    let plan = store
        .retention_plan(&RetentionPolicy::default(), t(15))
        .expect("plan");
    for (table, kinds) in PLANNED {
        for kind in *kinds {
            assert!(
                plan.iter()
                    .any(|p| p.kind == *kind && p.count > 0 && !p.rule.is_empty()),
                "{table}: no {kind} in the plan: {plan:#?}"
            );
        }
    }
    assert!(
        plan.iter()
            .any(|p| p.kind == "alarm_window" && p.due.is_none()),
        "the open window is kept while open, and the plan says so"
    );
    let kept: Vec<&str> = plan
        .iter()
        .filter(|p| p.due.is_none())
        .map(|p| p.kind)
        .collect();
    assert_eq!(
        kept,
        ["alarm_position", "alarm_window", "audit_entry"],
        "{plan:#?}"
    );

    // Every table is classified.
    let conn = rusqlite::Connection::open(dir.path().join("sporvern.db")).expect("db");
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .expect("tables")
        .query_map([], |r| r.get(0))
        .expect("query")
        .map(|r| r.expect("name"))
        .collect();
    // A staged row the purpose engine set aside (no position: device, claimed time, reason)
    // goes with the staging area's lifetime, and the plan says when.
    conn.execute(
        "INSERT INTO staged_set_aside (staged_id, device_id, fix_time, received_at, reason, set_aside_at)
         VALUES (999999, 1, 253402214400000, ?1, 'dated 9999', ?1)",
        [at(2026, 11, 10).millis()],
    )
    .expect("set aside");
    let plan_now = store
        .retention_plan(&RetentionPolicy::default(), at(2026, 11, 10))
        .expect("plan");
    assert!(
        plan_now
            .iter()
            .any(|p| p.kind == "staged_set_aside" && p.count == 1 && p.due.is_some()),
        "{plan_now:#?}"
    );
    for table in &tables {
        let known = PLANNED.iter().any(|(t, _)| t == table)
            || table == "staged_set_aside"
            || NOT_TRACKING_DATA.iter().any(|(t, _)| t == table)
            || table.starts_with("register_");
        assert!(
            known,
            "table {table} is neither in the retention plan nor said not to hold tracking data"
        );
    }

    // Far in the future the run deletes everything due, each kind with its receipt.
    let receipts = store
        .retention_run(&RetentionPolicy::default(), at(2033, 1, 1))
        .expect("run");
    let kinds: Vec<&str> = receipts.iter().map(|r| r.kind.as_str()).collect();
    for kind in [
        "driving_log_trip",
        "driving_log_classification",
        "driving_log_signoff",
        "driving_log_driver_correction",
        "driving_log_deviation",
        "privacy_switch",
        "alarm_position",
        "alarm_window",
        "alarm_incident",
    ] {
        assert!(kinds.contains(&kind), "no receipt for {kind}: {kinds:?}");
    }
    // The staging purge and the weekly release leave theirs too.
    store
        .purge_staging(Timestamp::from_millis(i64::MAX))
        .expect("purge");
    store
        .purpose_feed()
        .expect("feed")
        .release_utilization(&[], Timestamp::from_millis(i64::MAX))
        .expect("release");
    let all: Vec<String> = store
        .retention_receipts()
        .expect("receipts")
        .into_iter()
        .map(|r| r.kind)
        .collect();
    assert!(all.iter().any(|k| k == "staged_fix"), "{all:?}");
    assert!(all.iter().any(|k| k == "utilization_fact"), "{all:?}");
}
