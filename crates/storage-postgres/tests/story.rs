//! The storage story, told to every backend: the embedded SQLite always, and PostgreSQL when
//! `SPORVERN_TEST_POSTGRES` names a database (`postgres://root@127.0.0.1:5432/test`; each
//! test gets a fresh schema there, dropped afterwards). Without it every test says that it
//! skipped PostgreSQL. The same assertions hold on both, word for word: that is the promise of
//! one `Store` trait.

use domain::drivinglog::{Classification, LogEntry, NewLogEntry};
use domain::{AttrKey, AttrValue, Attribute, DeviceId, FieldKind, Fix, Position, Timestamp};
use storage::{AuditRecord, Change, FieldSeen, PurposeBatch, RetentionPolicy, StagedFix, Store};

enum Location {
    Sqlite(tempfile::TempDir),
    Postgres {
        url: String,
        base: String,
        schema: String,
    },
}

struct Backend {
    name: &'static str,
    location: Location,
}

impl Backend {
    fn open(&self) -> Box<dyn Store> {
        match &self.location {
            Location::Sqlite(dir) => storage::open(dir.path()).expect("open SQLite"),
            Location::Postgres { url, .. } => storage_postgres::open(url).expect("open PostgreSQL"),
        }
    }

    /// Runs SQL around the store, as someone with the database's password could; the error
    /// message when the database refuses.
    fn raw_sql(&self, sql: &str) -> Result<(), String> {
        match &self.location {
            Location::Sqlite(dir) => rusqlite::Connection::open(dir.path().join("sporvern.db"))
                .and_then(|c| c.execute_batch(sql))
                .map_err(|e| e.to_string()),
            Location::Postgres { url, .. } => pg_batch(url, sql),
        }
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Location::Postgres { base, schema, .. } = &self.location {
            let _ = pg_batch(base, &format!("DROP SCHEMA {schema} CASCADE"));
        }
    }
}

fn pg_batch(url: &str, sql: &str) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
        tokio::spawn(conn);
        client.batch_execute(sql).await
    })
    .map_err(|e| match e.as_db_error() {
        Some(d) => d.message().to_owned(),
        None => e.to_string(),
    })
}

/// Every backend this run can reach, each fresh.
fn backends(test: &str) -> Vec<Backend> {
    let mut out = vec![Backend {
        name: "sqlite",
        location: Location::Sqlite(tempfile::tempdir().expect("tempdir")),
    }];
    match std::env::var("SPORVERN_TEST_POSTGRES") {
        Ok(base) if !base.is_empty() => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            let schema = format!("story_{test}_{}_{nanos}", std::process::id());
            let url = storage_postgres::create_schema(&base, &schema).expect(
                "SPORVERN_TEST_POSTGRES names a PostgreSQL this test can create a schema in",
            );
            out.push(Backend {
                name: "postgres",
                location: Location::Postgres { url, base, schema },
            });
        }
        _ => eprintln!("{test}: PostgreSQL skipped (set SPORVERN_TEST_POSTGRES to run it too)"),
    }
    out
}

fn example_org() -> org::Org {
    org::parse(include_str!("../../../examples/org.toml")).expect("valid example")
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

fn date(y: i32, m: u8, d: u8) -> time::Date {
    time::Date::from_calendar_date(y, time::Month::try_from(m).expect("month"), d).expect("date")
}

fn at(y: i32, m: u8, d: u8) -> Timestamp {
    Timestamp::from_secs(date(y, m, d).midnight().assume_utc().unix_timestamp())
}

fn vehicle(store: &dyn Store, reg: &str) -> domain::VehicleId {
    store
        .vehicle_id(&domain::RegNo::parse(reg).expect("reg"))
        .expect("query")
        .expect("vehicle")
}

/// A capability from the policy (the only door), as a user with `employee`'s number.
fn cap(
    role: access::Role,
    purpose: access::ReadPurpose,
    scope: access::Scope,
    employee: Option<&str>,
) -> access::Capability {
    let user = access::User {
        id: access::UserId("test".to_owned()),
        name: "test".to_owned(),
        roles: vec![role],
        employee: employee.map(str::to_owned),
    };
    access::Policy::authorise(&user, role, purpose, scope, 0)
        .expect("allowed")
        .into_parts()
        .0
}

fn keeper() -> access::Capability {
    cap(
        access::Role::LogKeeper,
        access::ReadPurpose::DrivingLog,
        access::Scope::All,
        None,
    )
}

fn batch() -> PurposeBatch {
    PurposeBatch {
        up_to: 0,
        entries: vec![],
        deviations: vec![],
        privacy_switches: vec![],
        watermarks: vec![],
        alarms: vec![],
        utilization: vec![],
        recorded_at: at(2026, 11, 2),
    }
}

/// A change through the store, as the changes door makes it after its rule allowed it.
fn change(
    store: &dyn Store,
    change: Change,
    at: Timestamp,
) -> Result<storage::Applied, storage::StoreError> {
    store.apply_change(
        &change,
        AuditRecord {
            at,
            actor: "keeper".into(),
            role: "log_keeper".into(),
            purpose: "driving_log".into(),
            subject: Some("1001".into()),
            action: ledger::Action::Change,
            object: format!("{change:?}"),
            outcome: "ok".into(),
        },
    )
}

fn record(object: &str, subject: Option<&str>) -> AuditRecord {
    AuditRecord {
        at: Timestamp::from_millis(1_700_000_000_000),
        actor: "test".into(),
        role: "privacy_officer".into(),
        purpose: "register".into(),
        subject: subject.map(str::to_owned),
        action: ledger::Action::Change,
        object: object.into(),
        outcome: "ok".into(),
    }
}

#[test]
fn applying_the_same_org_twice_changes_nothing_the_second_time() {
    for b in backends("org") {
        let store = b.open();
        let org = example_org();
        assert!(
            !store.apply_org(&org).expect("apply").is_empty(),
            "{}",
            b.name
        );
        assert_eq!(store.org_version().expect("version"), 1, "{}", b.name);
        let again = store.apply_org(&org).expect("apply again");
        assert!(again.is_empty(), "{}: {again}", b.name);
        assert_eq!(store.org_version().expect("version"), 1, "{}", b.name);
        let loaded = store.load_org().expect("load");
        assert!(org::diff(&loaded, &org).is_empty(), "{}", b.name);

        let mut smaller = org.clone();
        let gone = smaller.devices.remove(0);
        let changes = store.apply_org(&smaller).expect("apply smaller");
        assert_eq!(
            changes.to_string(),
            format!("- device {} {}\n", gone.protocol, gone.external_id),
            "{}",
            b.name
        );
        assert_eq!(
            store.devices().expect("devices").len(),
            org.devices.len() - 1
        );
        store.apply_org(&org).expect("apply full");
        assert_eq!(store.devices().expect("devices").len(), org.devices.len());
    }
}

#[test]
fn staged_fixes_are_stored_once_and_survive_reopening() {
    for b in backends("staging") {
        let store = b.open();
        store.apply_org(&example_org()).expect("apply");
        let device = store.devices().expect("devices")[0].id;
        let mut w = store.ingest_writer().expect("writer");
        let now = Timestamp::from_millis(1_700_000_000_000);
        let mut staged: Vec<StagedFix> = (0..10)
            .map(|i| StagedFix {
                device,
                received_at: now,
                fix: fix(1_700_000_000_000 + i * 1000),
            })
            .collect();
        let seen = |t: i64| FieldSeen {
            device,
            key: "io:239".into(),
            kind: FieldKind::Ignition,
            at: Timestamp::from_millis(t),
        };
        // A device that resends inside one batch: stored once, acknowledged both times.
        staged.push(staged[3].clone());
        let out = w
            .commit(&staged, &[seen(now.millis()), seen(now.millis() - 5)])
            .expect("commit");
        assert_eq!((out.inserted, out.duplicates), (10, 1), "{}", b.name);
        let out = w
            .commit(&staged[5..10], &[seen(now.millis() + 7)])
            .expect("commit again");
        assert_eq!((out.inserted, out.duplicates), (0, 5), "{}", b.name);
        let out = w.commit(&[], &[]).expect("an empty batch");
        assert_eq!((out.inserted, out.duplicates), (0, 0), "{}", b.name);
        drop(w);
        drop(store);

        let store = b.open();
        assert_eq!(store.staging_stats().expect("stats").rows, 10, "{}", b.name);
        assert_eq!(
            store.staging_stats().expect("stats").oldest_received,
            Some(now)
        );
        let inv = store.inventory(device).expect("inventory");
        assert_eq!(inv.len(), 1, "{}", b.name);
        assert_eq!(
            (
                inv[0].key.as_str(),
                inv[0].kind,
                inv[0].first_seen.millis(),
                inv[0].last_seen.millis()
            ),
            (
                "io:239",
                FieldKind::Ignition,
                now.millis() - 5,
                now.millis() + 7
            ),
            "{}",
            b.name
        );
        assert_eq!(store.inventory(DeviceId(999)).expect("inventory"), vec![]);

        // The purpose engine reads them back as they were sent.
        let mut feed = store.purpose_feed().expect("feed");
        let rows = feed.next(0, 100).expect("next");
        assert_eq!(rows.len(), 10, "{}", b.name);
        assert!(rows.windows(2).all(|w| w[0].id < w[1].id));
        assert_eq!(rows[0].fix, staged[0].fix, "{}", b.name);
        drop(feed);
        assert_eq!(
            store
                .purge_staging(Timestamp::from_millis(now.millis() + 1))
                .expect("purge"),
            10
        );
        assert_eq!(store.staging_stats().expect("stats").rows, 0, "{}", b.name);
    }
}

#[test]
fn each_staged_fix_is_consumed_once_and_replayed_in_fix_time_order() {
    for b in backends("feed") {
        let store = b.open();
        store.apply_org(&example_org()).expect("apply");
        let devices = store.devices().expect("devices");
        let (d1, v1) = (devices[0].id, devices[0].vehicle);
        let mut w = store.ingest_writer().expect("writer");
        let received = at(2026, 11, 2);
        // Sent out of order: 3 s, 1 s, 2 s.
        let staged: Vec<StagedFix> = [3, 1, 2]
            .iter()
            .map(|s| StagedFix {
                device: d1,
                received_at: received,
                fix: fix(received.millis() + s * 1000),
            })
            .collect();
        w.commit(&staged, &[]).expect("commit");
        let mut feed = store.purpose_feed().expect("feed");
        assert_eq!(feed.cursor().expect("cursor"), 0);
        let rows = feed.next(0, 2).expect("next");
        assert_eq!(rows.len(), 2, "{}", b.name);
        let up_to = rows[1].id;
        feed.commit(&PurposeBatch {
            up_to,
            watermarks: vec![(v1, rows[0].id)],
            privacy_switches: vec![(v1, received, true, "input")],
            ..batch()
        })
        .expect("commit");
        assert_eq!(feed.cursor().expect("cursor"), up_to, "{}", b.name);
        // A second engine (after a restart) starts where the first stopped.
        let mut again = store.purpose_feed().expect("feed");
        let cursor = again.cursor().expect("cursor");
        assert_eq!(
            again.next(cursor, 100).expect("next").len(),
            1,
            "{}",
            b.name
        );
        assert_eq!(
            again.watermarks().expect("watermarks"),
            vec![(v1, rows[0].id)]
        );
        assert_eq!(again.privacy_states().expect("states"), vec![(v1, true)]);
        // The cursor never goes back.
        again
            .commit(&PurposeBatch {
                up_to: 0,
                watermarks: vec![(v1, 0)],
                ..batch()
            })
            .expect("commit");
        assert_eq!(again.cursor().expect("cursor"), up_to, "{}", b.name);
        assert_eq!(
            again.watermarks().expect("watermarks"),
            vec![(v1, rows[0].id)]
        );
        let replay = again.replay(&[d1], 0, i64::MAX).expect("replay");
        let times: Vec<i64> = replay
            .iter()
            .map(|r| (r.fix.time.millis() - received.millis()) / 1000)
            .collect();
        assert_eq!(times, vec![1, 2, 3], "{}", b.name);
        // Consumed and old enough: purged; the unconsumed one stays.
        assert_eq!(
            store
                .purge_consumed(Timestamp::from_millis(received.millis() + 1))
                .expect("purge"),
            2,
            "{}",
            b.name
        );
        assert_eq!(store.staging_stats().expect("stats").rows, 1);
    }
}

#[test]
fn a_private_trip_is_date_and_km_and_the_database_refuses_anything_else() {
    for b in backends("private") {
        let store = b.open();
        store.apply_org(&example_org()).expect("apply");
        let v = vehicle(store.as_ref(), "EK 12345");
        let day = date(2026, 11, 2);
        let mut feed = store.purpose_feed().expect("feed");
        feed.commit(&PurposeBatch {
            entries: vec![
                NewLogEntry::Private {
                    vehicle: v,
                    date: day,
                    km: 7.5,
                },
                NewLogEntry::Trip {
                    vehicle: v,
                    date: day,
                    start: at(2026, 11, 2),
                    end: Timestamp::from_millis(at(2026, 11, 2).millis() + 600_000),
                    start_place: "Lager Alnabru".into(),
                    end_place: "Tøyen".into(),
                    odometer_start_km: Some(1000.0),
                    odometer_end_km: Some(1012.0),
                    km: 12.0,
                    distance_source: "odometer",
                    driver: Some("1001".into()),
                },
            ],
            deviations: vec![domain::drivinglog::Deviation {
                vehicle: v,
                date: day,
                from: at(2026, 11, 2),
                to: Timestamp::from_millis(at(2026, 11, 2).millis() + 60_000),
                kind: "gap",
                km: 1.0,
                note: "silence".into(),
                odometer_km: None,
            }],
            ..batch()
        })
        .expect("commit");
        let log = store.driving_log(&keeper(), v, day, day).expect("log");
        let business = Classification::Business {
            purpose: "Kunde Tøyen".into(),
        };
        let LogEntry::Unclassified(pending) = &log[1] else {
            panic!("{}: {log:?}", b.name)
        };
        let id = pending.id;
        change(
            store.as_ref(),
            Change::Classify {
                trip: id,
                class: business.clone(),
            },
            at(2026, 11, 2),
        )
        .expect("classify");
        let log = store.driving_log(&keeper(), v, day, day).expect("log");
        assert_eq!(log.len(), 2, "{}", b.name);
        assert!(
            matches!(&log[0], LogEntry::Private(p) if p.km == 7.5 && p.date == day),
            "{}: {log:?}",
            b.name
        );
        let LogEntry::Trip(trip) = &log[1] else {
            panic!("{}: a business trip reads back whole: {log:?}", b.name)
        };
        assert_eq!(
            (
                trip.start_place.as_str(),
                trip.end_place.as_str(),
                trip.driver.as_deref(),
                trip.km
            ),
            ("Lager Alnabru", "Tøyen", Some("1001"), 12.0),
            "{}",
            b.name
        );
        assert_eq!(
            store
                .deviations(&keeper(), v, day, day)
                .expect("deviations")
                .len(),
            1
        );

        // Classified private afterwards: read back as date and km, like one switched private.
        change(
            store.as_ref(),
            Change::Classify {
                trip: trip.id,
                class: Classification::Private,
            },
            at(2026, 11, 3),
        )
        .expect("classify");
        let log = store.driving_log(&keeper(), v, day, day).expect("log");
        assert!(
            log.iter().all(|e| matches!(e, LogEntry::Private(_))),
            "{}: {log:?}",
            b.name
        );
        // The driver's own view: their trip (driven by them) is there.
        let own = cap(
            access::Role::Employee,
            access::ReadPurpose::OwnData,
            access::Scope::Own,
            Some("1001"),
        );
        let mine = store.own_driving_log(&own, day, day).expect("own");
        assert!(
            mine.iter()
                .any(|(reg, e)| reg == "EK12345"
                    && matches!(e, LogEntry::Private(p) if p.id == trip.id)),
            "{}: {mine:?}",
            b.name
        );
        // Private is for ever: the store refuses to classify it back.
        let refused = change(
            store.as_ref(),
            Change::Classify {
                trip: trip.id,
                class: Classification::Unclassified,
            },
            at(2026, 11, 3),
        );
        assert!(
            matches!(&refused, Err(storage::StoreError::Refused(m)) if m.contains("is private")),
            "{}: {refused:?}",
            b.name
        );

        // Around the store: the database itself keeps the shape and the recorded values.
        let err = b
            .raw_sql(&format!(
                "INSERT INTO trip (vehicle_id, local_date, km, private, start_time, recorded_at)
                 VALUES ({}, '2026-11-02', 3.0, {}, 1, 1)",
                v.0,
                if b.name == "sqlite" { "1" } else { "TRUE" }
            ))
            .expect_err("a private trip with a time is refused");
        assert!(err.to_lowercase().contains("check"), "{}: {err}", b.name);
        let err = b
            .raw_sql("UPDATE trip SET km = km + 1")
            .expect_err("recorded values are final");
        assert!(err.contains("cannot be changed"), "{}: {err}", b.name);
        let err = b
            .raw_sql("DELETE FROM trip")
            .expect_err("only retention deletes");
        assert!(
            err.contains("deleted only by retention"),
            "{}: {err}",
            b.name
        );
        assert_eq!(
            store
                .driving_log(&keeper(), v, day, day)
                .expect("log")
                .len(),
            2
        );
    }
}

#[test]
fn the_retention_plan_and_run_agree_and_leave_receipts() {
    for b in backends("retention") {
        let store = b.open();
        store.apply_org(&example_org()).expect("apply");
        let v = vehicle(store.as_ref(), "EK 12345");
        let private = |d: time::Date| NewLogEntry::Private {
            vehicle: v,
            date: d,
            km: 12.5,
        };
        let mut feed = store.purpose_feed().expect("feed");
        feed.commit(&PurposeBatch {
            entries: vec![
                private(date(2019, 6, 1)),
                private(date(2020, 12, 31)),
                private(date(2021, 1, 1)),
            ],
            privacy_switches: vec![
                (v, at(2025, 12, 1), true, "test"),
                (v, at(2025, 12, 1), false, "test"),
            ],
            recorded_at: at(2021, 1, 2),
            ..batch()
        })
        .expect("commit");
        let policy = RetentionPolicy::default();
        let plan = store
            .retention_plan(&policy, at(2025, 12, 31))
            .expect("plan");
        let rows: Vec<(String, &str, u64)> = plan
            .iter()
            .filter(|p| p.kind != "audit_entry")
            .map(|p| {
                (
                    p.due.map_or("kept".to_owned(), |d| d.to_string()),
                    p.kind,
                    p.count,
                )
            })
            .collect();
        assert_eq!(
            rows,
            vec![
                ("2025-01-01".to_owned(), "driving_log_trip", 1),
                ("2026-01-01".to_owned(), "driving_log_trip", 1),
                ("2026-03-02".to_owned(), "privacy_switch", 2),
                ("2027-01-01".to_owned(), "driving_log_trip", 1),
            ],
            "{}",
            b.name
        );
        assert!(
            store
                .retention_run(&policy, at(2024, 12, 31))
                .expect("run")
                .is_empty()
        );
        let receipts = store.retention_run(&policy, at(2025, 1, 1)).expect("run");
        assert_eq!(
            receipts
                .iter()
                .map(|r| (r.kind.as_str(), r.count))
                .collect::<Vec<_>>(),
            vec![("driving_log_trip", 1)],
            "{}",
            b.name
        );
        let left = store
            .driving_log(&keeper(), v, date(2019, 1, 1), date(2021, 12, 31))
            .expect("log");
        assert_eq!(
            left.iter()
                .map(|e| e.date().to_string())
                .collect::<Vec<_>>(),
            vec!["2020-12-31", "2021-01-01"],
            "{}",
            b.name
        );
        let receipts = store.retention_run(&policy, at(2026, 3, 2)).expect("run");
        assert_eq!(
            receipts
                .iter()
                .map(|r| (r.kind.as_str(), r.count))
                .collect::<Vec<_>>(),
            vec![("driving_log_trip", 1), ("privacy_switch", 2)],
            "{}",
            b.name
        );
        assert_eq!(store.retention_receipts().expect("receipts").len(), 3);
        // The gate closed with the run: deleting by hand is refused again.
        let err = b.raw_sql("DELETE FROM trip").expect_err("refused");
        assert!(
            err.contains("deleted only by retention"),
            "{}: {err}",
            b.name
        );
    }
}

#[test]
fn an_ended_alarm_measure_s_positions_go_and_released_weeks_replace_their_facts() {
    for b in backends("ended") {
        let store = b.open();
        store.apply_org(&example_org()).expect("apply");
        let v = vehicle(store.as_ref(), "EK 12345");
        let position = Position::new(59.9275, 10.8452).expect("position");
        let fact = |key: i64, start: Timestamp| storage::UtilizationFact {
            group: "Service Oslo".into(),
            vehicle_key: key,
            start,
            end: Timestamp::from_millis(start.millis() + 1_800_000),
            km: 12.0,
            start_cell: (1198, 107),
            end_cell: (1198, 108),
        };
        let mut feed = store.purpose_feed().expect("feed");
        feed.commit(&PurposeBatch {
            alarms: vec![
                storage::AlarmAction::Open {
                    vehicle: v,
                    at: at(2026, 11, 2),
                    triggers: "panic".into(),
                    position: Some(position),
                },
                storage::AlarmAction::Position {
                    vehicle: v,
                    at: Timestamp::from_millis(at(2026, 11, 2).millis() + 1000),
                    position,
                    trigger: true,
                },
            ],
            utilization: vec![fact(1, at(2026, 11, 10)), fact(2, at(2026, 11, 17))],
            ..batch()
        })
        .expect("commit");
        assert_eq!(feed.open_alarms().expect("open").len(), 1, "{}", b.name);
        let security = cap(
            access::Role::SecurityOperator,
            access::ReadPurpose::Alarm,
            access::Scope::All,
            None,
        );
        let windows = store.alarm_windows(&security).expect("windows");
        assert_eq!(windows.len(), 1, "{}", b.name);
        assert_eq!(
            windows[0].last_trigger_at.millis(),
            at(2026, 11, 2).millis() + 1000
        );
        assert_eq!(
            store
                .alarm_positions(&security, windows[0].id)
                .expect("positions")
                .len(),
            2,
            "{}",
            b.name
        );
        // A reported theft while a window is open joins that window.
        assert_eq!(
            change(
                store.as_ref(),
                Change::OpenAlarm {
                    vehicle: v,
                    report: storage::AlarmReport {
                        trigger: "theft".into(),
                        reference: Some("POL-1".into()),
                        by: "operator".into(),
                    },
                },
                at(2026, 11, 2),
            )
            .expect("open"),
            storage::Applied::AlarmWindow(windows[0].id)
        );

        let cutoff = at(2026, 11, 16);
        assert_eq!(
            feed.utilization_facts_before(cutoff).expect("facts").len(),
            1
        );
        let week = storage::ReleasedWeek {
            group: "Service Oslo".into(),
            year: 2026,
            week: 46,
            body: "{\"status\":\"suppressed\"}".into(),
        };
        feed.release_utilization(std::slice::from_ref(&week), cutoff)
            .expect("release");
        assert!(
            feed.utilization_facts_before(cutoff)
                .expect("facts")
                .is_empty()
        );
        let analyst = cap(
            access::Role::Analyst,
            access::ReadPurpose::Utilization,
            access::Scope::All,
            None,
        );
        assert_eq!(
            store.utilization_weeks(&analyst).expect("weeks"),
            vec![week]
        );
        drop(feed);

        let ended = RetentionPolicy {
            ended: vec![org::Purpose::Alarm, org::Purpose::Utilization],
            ..RetentionPolicy::default()
        };
        let receipts = store.retention_run(&ended, at(2026, 11, 18)).expect("run");
        assert_eq!(
            receipts
                .iter()
                .map(|r| (r.kind.as_str(), r.count))
                .collect::<Vec<_>>(),
            vec![("alarm_position", 2), ("utilization_fact", 1)],
            "{}",
            b.name
        );
        let windows = store.alarm_windows(&security).expect("windows");
        assert_eq!(windows[0].resolved_by.as_deref(), Some("measure ended"));
        change(
            store.as_ref(),
            Change::ResolveAlarm {
                window: windows[0].id,
                incident: true,
                note: "  found in the yard ".into(),
            },
            at(2026, 11, 19),
        )
        .expect("resolve");
        let windows = store.alarm_windows(&security).expect("windows");
        assert!(windows[0].incident, "{}", b.name);
        assert_eq!(windows[0].resolved_by.as_deref(), Some("measure ended"));
        assert_eq!(
            windows[0].note.as_deref(),
            Some("found in the yard"),
            "{}",
            b.name
        );
        let refused = change(
            store.as_ref(),
            Change::ResolveAlarm {
                window: 999_999,
                incident: false,
                note: "x".into(),
            },
            at(2026, 11, 19),
        );
        assert!(
            matches!(&refused, Err(storage::StoreError::Refused(m)) if m.contains("no alarm window")),
            "{}: {refused:?}",
            b.name
        );
    }
}

const MORE_REGISTER: &str = r#"
[[breaches]]
id = "2026-03-telefon"
measure = "vehicle.driving_log"
discovered_at = 2026-03-02T09:15:00+01:00
description = "En telefon med Traccar-appen ble mistet."
personal_data_affected = true
notified_datatilsynet_at = 2026-03-03T10:00:00+01:00
employees_informed = { decision = "not_required", reason = "Telefonen var låst og kryptert.", decided_on = 2026-03-03 }

[[access_cases]]
id = "2026-001"
employee = "0907"
ground = "daily_operation"
explanation = "En kunde venter på svar på en e-post til en tidligere ansatt."
notice_impossible = "Den tidligere ansatte svarer ikke på telefon eller e-post."
presence = "not_possible"
presence_reason = "Ikke mulig å nå."
opened = ["Innboksen: mapper «Kunder/Tøyen Torg»"]
documentation = "Åpnet av Jon Moe med Anne Lie til stede."
closed_on = 2026-03-10
"#;

#[test]
fn the_register_round_trips_and_a_stale_save_changes_nothing() {
    for b in backends("register") {
        let store = b.open();
        let org = example_org();
        store.apply_org(&org).expect("apply org");
        let (v0, mut reg) = store.register().load_register().expect("load");
        assert_eq!(v0, 0);
        reg.sync_org(&org);
        reg.apply_str(include_str!("../../../examples/register.toml"), &org)
            .expect("example");
        reg.apply_str(MORE_REGISTER, &org)
            .expect("a breach and a case");
        let v1 = store
            .register()
            .save_register(&reg, v0, vec![record("register all", None)])
            .expect("save");
        assert_eq!(v1, 1);
        let (v, loaded) = store.register().load_register().expect("load again");
        assert_eq!(v, 1);
        assert_eq!(loaded, reg, "{}: what was saved is what is loaded", b.name);
        let before = store.audit_entries().expect("ledger").len();
        let err = store
            .register()
            .save_register(&reg, v0, vec![record("stale", None)])
            .expect_err("stale version refused");
        assert!(err.to_string().contains("changed by someone else"), "{err}");
        assert_eq!(store.audit_entries().expect("ledger").len(), before);
        assert_eq!(store.register().register_version().expect("version"), 1);
    }
}

#[test]
fn the_ledger_is_one_chain_from_every_writer_and_cannot_be_edited() {
    for b in backends("ledger") {
        let store: std::sync::Arc<dyn Store> = std::sync::Arc::from(b.open());
        // The server's writer thread and direct appends, at once.
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let store = store.clone();
                std::thread::spawn(move || {
                    let mut writer = store.audit_writer().expect("writer");
                    for i in 0..10 {
                        let subject = if i % 2 == 0 { Some("1001,1002") } else { None };
                        if t % 2 == 0 {
                            writer
                                .append_many(vec![record(&format!("w{t}.{i}"), subject)])
                                .expect("append");
                        } else {
                            store
                                .audit_append(record(&format!("s{t}.{i}"), subject))
                                .expect("append");
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        let entries = store.audit_entries().expect("ledger");
        assert_eq!(entries.len(), 40, "{}", b.name);
        ledger::verify(&entries).expect("one intact chain");
        let officer = cap(
            access::Role::PrivacyOfficer,
            access::ReadPurpose::LedgerMetadata,
            access::Scope::All,
            None,
        );
        let about = store
            .audit_entries_for(&officer, Some("1002"), 100)
            .expect("about");
        assert_eq!(about.len(), 20, "{}", b.name);
        assert!(about.windows(2).all(|w| w[0].entry.seq > w[1].entry.seq));
        assert_eq!(
            store
                .audit_entries_for(&officer, Some("100"), 100)
                .expect("about")
                .len(),
            0,
            "{}: an employee number matches whole",
            b.name
        );
        assert_eq!(
            store
                .audit_entries_for(&officer, None, 5)
                .expect("newest")
                .len(),
            5
        );
        for sql in [
            "UPDATE audit_entry SET outcome = 'x'",
            "DELETE FROM audit_entry",
        ] {
            let err = b.raw_sql(sql).expect_err("append-only");
            assert!(err.contains("append-only"), "{}: {err}", b.name);
        }
    }
}

#[test]
fn users_tokens_and_signatures_behave_alike() {
    for b in backends("users") {
        let store = b.open();
        store.apply_org(&example_org()).expect("apply");
        let now = at(2026, 11, 2);
        let user = storage::NewUser {
            name: "kari".into(),
            roles: vec!["employee".into(), "driver".into()],
            employee_number: Some("1001".into()),
            password_hash: Some("$argon2id$x".into()),
        };
        store.add_user(&user, now).expect("add");
        let again = store.add_user(&user, now);
        assert!(
            matches!(&again, Err(storage::StoreError::Refused(m)) if m.contains("exists already")),
            "{}: {again:?}",
            b.name
        );
        assert_eq!(
            store.password_hash("kari").expect("hash").as_deref(),
            Some("$argon2id$x")
        );
        let later = Timestamp::from_millis(now.millis() + 3_600_000);
        store.add_token("aa", "kari", later, now).expect("token");
        store.add_token("bb", "kari", later, now).expect("token");
        let u = store.token_user("aa", now).expect("lookup").expect("valid");
        assert_eq!(
            (u.name.as_str(), u.roles.len(), u.has_password, u.disabled),
            ("kari", 2, true, false),
            "{}",
            b.name
        );
        assert!(
            store.token_user("aa", later).expect("lookup").is_none(),
            "expired"
        );
        assert!(store.revoke_token("aa").expect("revoke"));
        assert!(!store.revoke_token("aa").expect("revoke twice"));
        assert!(store.token_user("aa", now).expect("lookup").is_none());
        store.set_password_hash("kari", "$argon2id$y").expect("set");
        assert!(
            store.token_user("bb", now).expect("lookup").is_none(),
            "{}: a new password ends every token",
            b.name
        );
        assert_eq!(store.revoke_user_tokens("kari").expect("revoke all"), 0);
        assert!(store.set_password_hash("nobody", "x").is_err());
        assert!(
            store
                .users()
                .expect("users")
                .iter()
                .any(|u| u.name == "kari")
        );

        let v = vehicle(store.as_ref(), "EK 12345");
        let step = |kind, comment: Option<&str>, t| {
            change(
                store.as_ref(),
                Change::MonthStep {
                    vehicle: v,
                    month: "2026-10".into(),
                    step: kind,
                    comment: comment.map(str::to_owned),
                },
                t,
            )
        };
        use domain::changes::StepKind;
        step(StepKind::Submitted, None, now).expect("driver submits");
        step(StepKind::Returned, Some("trip 3 lacks a purpose"), later).expect("returned");
        step(StepKind::Submitted, None, later).expect("submitted again");
        step(StepKind::Approved, None, later).expect("keeper approves");
        let refused = step(StepKind::Returned, Some("too late"), later);
        assert!(
            matches!(&refused, Err(storage::StoreError::Refused(m)) if m.contains("approved")),
            "{}: {refused:?}",
            b.name
        );
        let review = store.month_review(v, "2026-10").expect("review");
        assert_eq!(
            review
                .iter()
                .map(|s| (s.kind, s.comment.as_deref()))
                .collect::<Vec<_>>(),
            vec![
                (StepKind::Submitted, None),
                (StepKind::Returned, Some("trip 3 lacks a purpose")),
                (StepKind::Submitted, None),
                (StepKind::Approved, None),
            ],
            "{}",
            b.name
        );
        assert_eq!(review[0].at, now, "{}", b.name);
        assert_eq!(review[0].by, "keeper", "{}", b.name);
        assert!(
            store.month_review(v, "2026-11").expect("review").is_empty(),
            "{}",
            b.name
        );

        change(
            store.as_ref(),
            Change::Privacy {
                vehicle: v,
                private: true,
                source: "web".into(),
            },
            now,
        )
        .expect("switch");
        let switches = store.privacy_switches(&keeper(), v).expect("switches");
        assert_eq!(switches, vec![(now, true, "web".to_owned())], "{}", b.name);
        let own = cap(
            access::Role::Employee,
            access::ReadPurpose::OwnData,
            access::Scope::Own,
            Some("1002"),
        );
        assert!(
            store
                .privacy_switches(&own, v)
                .expect("switches")
                .is_empty(),
            "{}: not made while the vehicle was theirs",
            b.name
        );
    }
}

#[test]
fn a_capability_for_one_purpose_or_vehicle_does_not_open_another() {
    for b in backends("capability") {
        let store = b.open();
        store.apply_org(&example_org()).expect("apply");
        let v = vehicle(store.as_ref(), "EK 12345");
        let other = vehicle(store.as_ref(), "EL 23456");
        let day = date(2026, 11, 2);
        let fleet = cap(
            access::Role::Dispatcher,
            access::ReadPurpose::FleetView,
            access::Scope::All,
            None,
        );
        let refused = store.driving_log(&fleet, v, day, day);
        assert!(
            matches!(&refused, Err(storage::StoreError::Refused(m)) if m.contains("does not open the driving log")),
            "{}: {refused:?}",
            b.name
        );
        assert!(store.alarm_windows(&fleet).is_err());
        assert!(store.utilization_weeks(&fleet).is_err());
        let one = cap(
            access::Role::LogKeeper,
            access::ReadPurpose::DrivingLog,
            access::Scope::Vehicle("EK12345".to_owned()),
            None,
        );
        assert!(store.driving_log(&one, v, day, day).is_ok());
        let refused = store.driving_log(&one, other, day, day);
        assert!(
            matches!(&refused, Err(storage::StoreError::Refused(m)) if m.contains("another vehicle")),
            "{}: {refused:?}",
            b.name
        );
    }
}

#[test]
fn a_connection_postgresql_drops_fails_its_batch_and_the_next_one_connects_again() {
    for b in backends("reconnect") {
        let Location::Postgres { url, base, .. } = &b.location else {
            continue; // the embedded database has no connection to lose
        };
        // A name of this test's own, so that only its backends are cut.
        let name = format!("sporvern_reconnect_{}", std::process::id());
        let store =
            storage_postgres::open(&format!("{url}&application_name={name}")).expect("open");
        store.apply_org(&example_org()).expect("apply");
        let device = store.devices().expect("devices")[0].id;
        let mut writer = store.ingest_writer().expect("writer");
        let mut feed = store.purpose_feed().expect("feed");
        let staged = |t: i64| StagedFix {
            device,
            received_at: Timestamp::from_millis(t),
            fix: fix(t),
        };
        writer.commit(&[staged(1_000)], &[]).expect("commit");
        pg_batch(
            base,
            &format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{name}'"
            ),
        )
        .expect("terminate");
        // Each batch either fails (and nothing of it is acknowledged) or is stored; within a
        // few tries the writer is back.
        let mut stored = vec![1_000];
        for t in 2..6 {
            if writer.commit(&[staged(t * 1000)], &[]).is_ok() {
                stored.push(t * 1000);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert!(stored.len() >= 3, "the writer connected again: {stored:?}");
        let mut rows = Vec::new();
        for _ in 0..5 {
            if let Ok(r) = feed.next(0, 100) {
                rows = r;
                break;
            }
        }
        let times: Vec<i64> = rows.iter().map(|r| r.fix.time.millis()).collect();
        assert_eq!(times, stored, "exactly the acknowledged batches are staged");
        assert_eq!(
            store.staging_stats().expect("stats").rows as usize,
            stored.len()
        );
    }
}
