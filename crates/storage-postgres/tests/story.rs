//! The storage story, told to every backend: the embedded SQLite always, and PostgreSQL when
//! `SPORVERN_TEST_POSTGRES` names a database (`postgres://root@127.0.0.1:5432/test`; each
//! test gets a fresh schema there, dropped afterwards). Without it every test says that it
//! skipped PostgreSQL. The same assertions hold on both, word for word: that is the promise of
//! one `Store` trait.

use domain::drivinglog::{Classification, LogEntry, NewLogEntry};
use domain::{AttrKey, AttrValue, Attribute, DeviceId, FieldKind, Fix, Position, Timestamp};
use std::time::{Duration, Instant};
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

impl Backend {
    /// Every table of the store, each row as text (values joined by tabs), read around the
    /// store: what someone with the database could see.
    fn dump(&self) -> Vec<(String, Vec<String>)> {
        match &self.location {
            Location::Sqlite(dir) => {
                let conn = rusqlite::Connection::open(dir.path().join("sporvern.db")).expect("db");
                let tables: Vec<String> = conn
                    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
                    .expect("tables")
                    .query_map([], |r| r.get(0))
                    .expect("query")
                    .map(|r| r.expect("name"))
                    .collect();
                tables
                    .into_iter()
                    .map(|t| {
                        let mut stmt = conn.prepare(&format!("SELECT * FROM {t}")).expect("select");
                        let n = stmt.column_count();
                        let rows = stmt
                            .query_map([], |r| {
                                let mut cells = Vec::new();
                                for i in 0..n {
                                    use rusqlite::types::ValueRef;
                                    cells.push(match r.get_ref(i)? {
                                        ValueRef::Null => String::new(),
                                        ValueRef::Integer(v) => v.to_string(),
                                        ValueRef::Real(v) => v.to_string(),
                                        ValueRef::Text(v) | ValueRef::Blob(v) => {
                                            String::from_utf8_lossy(v).into_owned()
                                        }
                                    });
                                }
                                Ok(cells.join("\t"))
                            })
                            .expect("rows")
                            .map(|r| r.expect("row"))
                            .collect();
                        (t, rows)
                    })
                    .collect()
            }
            Location::Postgres { url, .. } => {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async {
                    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                        .await
                        .expect("connect");
                    tokio::spawn(conn);
                    let tables: Vec<String> = client
                        .query(
                            "SELECT table_name::text FROM information_schema.tables
                             WHERE table_schema = current_schema() ORDER BY 1",
                            &[],
                        )
                        .await
                        .expect("tables")
                        .iter()
                        .map(|r| r.get(0))
                        .collect();
                    let mut out = Vec::new();
                    for t in tables {
                        let rows = client
                            .query(&format!("SELECT r::text FROM {t} r"), &[])
                            .await
                            .expect("rows")
                            .iter()
                            .map(|r| r.get::<_, String>(0))
                            .collect();
                        out.push((t, rows));
                    }
                    out
                })
            }
        }
    }

    fn tables(&self) -> Vec<String> {
        self.dump().into_iter().map(|(t, _)| t).collect()
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
        _ => {
            // Straight to stderr, past the test harness's capture: a run that skipped
            // PostgreSQL says so even when every test passes.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "{test}: PostgreSQL skipped (set SPORVERN_TEST_POSTGRES to run it too)"
            );
        }
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
            object: "a change".into(),
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

fn staged(device: DeviceId, t: Timestamp) -> StagedFix {
    StagedFix {
        device,
        received_at: t,
        fix: Fix {
            attributes: vec![],
            ..fix(t.millis())
        },
    }
}

fn ms(t: Timestamp, plus: i64) -> Timestamp {
    Timestamp::from_millis(t.millis() + plus)
}

#[allow(clippy::too_many_arguments)]
fn business_trip(
    vehicle: domain::VehicleId,
    day: time::Date,
    start: Timestamp,
    end: Timestamp,
    from: &str,
    to: &str,
    odometer: (f64, f64),
    driver: &str,
) -> NewLogEntry {
    NewLogEntry::Trip {
        vehicle,
        date: day,
        start,
        end,
        start_place: from.into(),
        end_place: to.into(),
        odometer_start_km: Some(odometer.0),
        odometer_end_km: Some(odometer.1),
        km: odometer.1 - odometer.0,
        distance_source: "odometer",
        driver: Some(driver.into()),
    }
}

/// The ids of a vehicle's non-private trips between two dates, in time order.
fn trip_ids(store: &dyn Store, v: domain::VehicleId, from: time::Date, to: time::Date) -> Vec<i64> {
    store
        .driving_log(&keeper(), v, from, to)
        .expect("log")
        .iter()
        .filter_map(|e| match e {
            LogEntry::Trip(t) => Some(t.id),
            LogEntry::Unclassified(t) => Some(t.id),
            LogEntry::Private(_) => None,
        })
        .collect()
}

#[test]
fn a_trip_classified_private_is_erased_from_every_table_with_its_ledger_entry() {
    for b in backends("erasure") {
        let store = b.open();
        store.apply_org(&example_org()).expect("apply");
        let v = vehicle(store.as_ref(), "EK 12345");
        let device = store
            .devices()
            .expect("devices")
            .into_iter()
            .find(|d| d.vehicle == v)
            .expect("a device in EK 12345")
            .id;
        let day = date(2026, 11, 2);
        // Distinctive times and readings, to look for afterwards.
        let start = ms(at(2026, 11, 2), 37_123_457);
        let end = ms(start, 1_234_567);
        let next = ms(end, 7_200_000);
        let mut writer = store.ingest_writer().expect("writer");
        writer
            .commit(
                &[
                    staged(device, ms(start, -600_000)),
                    staged(device, start),
                    staged(device, ms(start, 61_111)),
                    staged(device, end),
                    staged(device, next),
                ],
                &[],
            )
            .expect("stage");
        let mut feed = store.purpose_feed().expect("feed");
        let consumed = feed.next(0, 100).expect("next");
        assert_eq!(consumed.len(), 5, "{}", b.name);
        let up_to = consumed.iter().map(|r| r.id).max().expect("ids");
        let fact = |s: Timestamp, e: Timestamp| storage::UtilizationFact {
            group: "Service Oslo".into(),
            vehicle_key: v.0,
            start: s,
            end: e,
            km: 12.2,
            start_cell: (1, 2),
            end_cell: (3, 4),
        };
        feed.commit(&PurposeBatch {
            up_to,
            entries: vec![
                business_trip(
                    v,
                    day,
                    start,
                    end,
                    "Sørbyhaugen 17",
                    "Trosterud 9",
                    (48213.7, 48225.9),
                    "1001",
                ),
                business_trip(
                    v,
                    day,
                    next,
                    ms(next, 600_000),
                    "Kontoret",
                    "Verkstedet",
                    (48230.5, 48240.5),
                    "1001",
                ),
            ],
            utilization: vec![fact(start, end), fact(next, ms(next, 600_000))],
            ..batch()
        })
        .expect("commit");
        // A fix that arrived after the batch, not consumed yet: the engine still has to see it.
        writer
            .commit(&[staged(device, ms(start, 120_001))], &[])
            .expect("stage late");
        let ids = trip_ids(store.as_ref(), v, day, day);
        let (trip, other) = (ids[0], ids[1]);
        change(
            store.as_ref(),
            Change::Classify {
                trip,
                class: Classification::Business {
                    purpose: "Kunde Haslum".into(),
                },
            },
            at(2026, 11, 3),
        )
        .expect("business first");
        let ledger_before = store.audit_entries().expect("ledger").len();
        change(
            store.as_ref(),
            Change::Classify {
                trip,
                class: Classification::Private,
            },
            at(2026, 11, 4),
        )
        .expect("then private");
        let ledger = store.audit_entries().expect("ledger");
        assert_eq!(ledger.len(), ledger_before + 1, "{}", b.name);
        assert_eq!(ledger.last().expect("entry").entry.outcome, "ok");

        let log = store.driving_log(&keeper(), v, day, day).expect("log");
        assert!(
            matches!(&log[0], LogEntry::Private(p) if p.id == trip && (p.km - 12.2).abs() < 1e-9 && p.date == day),
            "{}: {log:?}",
            b.name
        );
        let (_, facts) = store
            .trip_facts(&keeper(), trip)
            .expect("facts")
            .expect("trip");
        assert!(facts.private && facts.driver.is_none(), "{}", b.name);

        // Nothing of the trip is left anywhere: not its places, times, readings, purpose, the
        // fixes consumed from its start to the next trip, or its utilisation fact.
        let needles = [
            "Sørbyhaugen 17".to_owned(),
            "Trosterud".to_owned(),
            "Haslum".to_owned(),
            "48213.7".to_owned(),
            "48225.9".to_owned(),
            start.millis().to_string(),
            end.millis().to_string(),
            ms(start, 61_111).millis().to_string(),
        ];
        for (table, rows) in b.dump() {
            for row in &rows {
                for needle in &needles {
                    assert!(
                        !row.contains(needle.as_str()),
                        "{}: {table} still holds {needle}: {row}",
                        b.name
                    );
                }
            }
        }
        // What is not the trip's stays: the fix before it, the next trip's, the late one, the
        // next trip and its fact.
        let left = store.staging_stats().expect("stats").rows;
        assert_eq!(left, 3, "{}", b.name);
        assert_eq!(
            feed.utilization_facts_before(at(2026, 12, 1))
                .expect("facts")
                .len(),
            1,
            "{}",
            b.name
        );
        assert!(
            matches!(store.driving_log(&keeper(), v, day, day).expect("log").get(1),
                Some(LogEntry::Unclassified(t)) if t.id == other),
            "{}",
            b.name
        );

        // The erasure was the one update the trip could take: it cannot be undone around the
        // store, nor can a private row hold a place.
        let err = b
            .raw_sql(&format!(
                "UPDATE trip SET start_place = 'Sørbyhaugen 17' WHERE id = {trip}"
            ))
            .expect_err("a private trip keeps no place");
        assert!(
            err.contains("cannot be changed") || err.to_lowercase().contains("check"),
            "{}: {err}",
            b.name
        );
        let err = b
            .raw_sql(&format!("UPDATE trip SET km = km + 1 WHERE id = {other}"))
            .expect_err("recorded values are final");
        assert!(err.contains("cannot be changed"), "{}: {err}", b.name);
        if b.name == "postgres" {
            // PostgreSQL also keeps a trip's classifications and refuses a half erasure.
            let err = b
                .raw_sql(&format!(
                    "UPDATE trip_class SET class = 'business' WHERE trip_id = {trip}"
                ))
                .expect_err("classifications are kept");
            assert!(err.contains("kept as recorded"), "{err}");
            let err = b
                .raw_sql(&format!(
                    "UPDATE trip SET private = TRUE, recorded_at = (local_date - DATE '1970-01-01')::bigint * 86400000 WHERE id = {other}"
                ))
                .expect_err("a half erasure");
            assert!(err.contains("private_trip_is_date_and_km"), "{err}");
            let err = b
                .raw_sql("DELETE FROM trip_class")
                .expect_err("retention only");
            assert!(err.contains("deleted only by retention"), "{err}");
        }
        // Private is for ever.
        let refused = change(
            store.as_ref(),
            Change::Classify {
                trip,
                class: Classification::Business {
                    purpose: "Kunde Haslum".into(),
                },
            },
            at(2026, 11, 5),
        );
        assert!(
            matches!(&refused, Err(storage::StoreError::Refused(m)) if m.contains("is private")),
            "{}: {refused:?}",
            b.name
        );
        assert_eq!(
            store.audit_entries().expect("ledger").len(),
            ledger_before + 1,
            "{}: a refused change writes nothing",
            b.name
        );
    }
}

#[test]
fn every_change_kind_commits_with_its_ledger_entry_or_is_refused_with_nothing_written() {
    for b in backends("changes") {
        let store = b.open();
        store.apply_org(&example_org()).expect("apply");
        let v = vehicle(store.as_ref(), "EK 12345");
        let day = date(2026, 11, 2);
        let t0 = ms(at(2026, 11, 2), 8 * 3_600_000);
        let mut feed = store.purpose_feed().expect("feed");
        feed.commit(&PurposeBatch {
            entries: vec![
                business_trip(
                    v,
                    day,
                    t0,
                    ms(t0, 900_000),
                    "A",
                    "B",
                    (100.0, 110.0),
                    "1001",
                ),
                NewLogEntry::Private {
                    vehicle: v,
                    date: day,
                    km: 3.0,
                },
            ],
            ..batch()
        })
        .expect("commit");
        let trip = trip_ids(store.as_ref(), v, day, day)[0];
        let private_trip = match &store.driving_log(&keeper(), v, day, day).expect("log")[..] {
            [_, LogEntry::Private(p)] | [LogEntry::Private(p), _] => p.id,
            log => panic!("{}: {log:?}", b.name),
        };
        let ledger = || store.audit_entries().expect("ledger").len();
        let refused = |r: Result<storage::Applied, storage::StoreError>, what: &str| {
            assert!(
                matches!(&r, Err(storage::StoreError::Refused(m)) if m.contains(what)),
                "{}: {r:?} should be refused with {what:?}",
                b.name
            );
        };

        // Classify.
        let n = ledger();
        assert_eq!(
            change(
                store.as_ref(),
                Change::Classify {
                    trip,
                    class: Classification::Business {
                        purpose: "Kunde".into()
                    }
                },
                t0
            )
            .expect("classify"),
            storage::Applied::Done
        );
        assert_eq!(ledger(), n + 1, "{}", b.name);
        let entry = store.audit_entries().expect("ledger").pop().expect("entry");
        assert_eq!(
            (entry.entry.actor.as_str(), entry.entry.outcome.as_str()),
            ("keeper", "ok")
        );
        refused(
            change(
                store.as_ref(),
                Change::Classify {
                    trip: 999_999,
                    class: Classification::Private,
                },
                t0,
            ),
            "no trip",
        );
        refused(
            change(
                store.as_ref(),
                Change::Classify {
                    trip: private_trip,
                    class: Classification::Unclassified,
                },
                t0,
            ),
            "is private",
        );
        assert_eq!(ledger(), n + 1, "{}", b.name);

        // Correct the driver: a supplement; the recorded driver stays.
        change(
            store.as_ref(),
            Change::CorrectDriver {
                trip,
                driver: " 1002 ".into(),
                reason: " they swapped vans ".into(),
            },
            ms(t0, 1),
        )
        .expect("correct");
        let (vid, facts) = store
            .trip_facts(&keeper(), trip)
            .expect("facts")
            .expect("trip");
        assert_eq!(
            (vid, facts.date, facts.driver.as_deref(), facts.private),
            (v, day, Some("1002"), false),
            "{}",
            b.name
        );
        assert!(
            store
                .trip_facts(&keeper(), 999_999)
                .expect("facts")
                .is_none()
        );
        let corrections = store
            .driver_corrections(&keeper(), v, day, day)
            .expect("corrections");
        assert_eq!(
            corrections,
            vec![storage::DriverCorrection {
                trip,
                recorded: Some("1001".into()),
                driver: "1002".into(),
                reason: "they swapped vans".into(),
                by: "keeper".into(),
                at: ms(t0, 1),
            }],
            "{}",
            b.name
        );
        let own = |e: &str| {
            cap(
                access::Role::Employee,
                access::ReadPurpose::OwnData,
                access::Scope::Own,
                Some(e),
            )
        };
        // The corrected driver has the trip among theirs; the one recorded first sees the
        // correction of the trip wrongly attributed to them.
        assert!(
            store
                .own_driving_log(&own("1002"), day, day)
                .expect("own")
                .iter()
                .any(|(_, e)| matches!(e, LogEntry::Trip(t) if t.id == trip)),
            "{}",
            b.name
        );
        assert_eq!(
            store
                .driver_corrections(&own("1001"), v, day, day)
                .expect("corrections")
                .len(),
            1
        );
        assert!(
            store
                .driver_corrections(&own("1003"), v, day, day)
                .expect("corrections")
                .is_empty()
        );
        refused(
            change(
                store.as_ref(),
                Change::CorrectDriver {
                    trip: private_trip,
                    driver: "1002".into(),
                    reason: "x".into(),
                },
                t0,
            ),
            "keeps no driver",
        );
        refused(
            change(
                store.as_ref(),
                Change::CorrectDriver {
                    trip: 999_999,
                    driver: "1002".into(),
                    reason: "x".into(),
                },
                t0,
            ),
            "no trip",
        );

        // Privacy mode.
        change(
            store.as_ref(),
            Change::Privacy {
                vehicle: v,
                private: true,
                source: "web".into(),
            },
            ms(t0, 2),
        )
        .expect("privacy");
        assert_eq!(
            feed.privacy_states().expect("states"),
            vec![(v, true)],
            "{}",
            b.name
        );

        // An alarm window opened by hand stays open until resolved, with its reference.
        let report = storage::AlarmReport {
            trigger: "theft".into(),
            reference: Some("POL-2026-1".into()),
            by: "vakt".into(),
        };
        let opened = change(
            store.as_ref(),
            Change::OpenAlarm {
                vehicle: v,
                report: report.clone(),
            },
            ms(t0, 3),
        )
        .expect("open");
        let storage::Applied::AlarmWindow(window) = opened else {
            panic!("{}: {opened:?}", b.name)
        };
        assert_eq!(
            change(
                store.as_ref(),
                Change::OpenAlarm { vehicle: v, report },
                ms(t0, 4)
            )
            .expect("again"),
            opened,
            "{}: the open window is kept",
            b.name
        );
        let open = feed.open_alarms().expect("open alarms");
        assert_eq!(
            open,
            vec![storage::OpenAlarm {
                window,
                vehicle: v,
                opened_at: ms(t0, 3),
                triggers: "theft".into(),
                last_trigger_at: ms(t0, 3),
                by_hand: true,
            }],
            "{}",
            b.name
        );
        feed.commit(&PurposeBatch {
            alarms: vec![storage::AlarmAction::AutoResolve {
                vehicle: v,
                at: ms(t0, 3_600_000),
            }],
            ..batch()
        })
        .expect("auto resolve");
        assert_eq!(
            feed.open_alarms().expect("open").len(),
            1,
            "{}: a window opened by hand does not close by itself",
            b.name
        );
        let n = ledger();
        change(
            store.as_ref(),
            Change::ResolveAlarm {
                window,
                incident: false,
                note: " the van was at the workshop ".into(),
            },
            ms(t0, 5),
        )
        .expect("resolve");
        assert_eq!(ledger(), n + 1, "{}", b.name);
        let security = cap(
            access::Role::SecurityOperator,
            access::ReadPurpose::Alarm,
            access::Scope::All,
            None,
        );
        let w = store
            .alarm_windows(&security)
            .expect("windows")
            .into_iter()
            .find(|w| w.id == window)
            .expect("window");
        assert_eq!(
            (
                w.opened_by.as_deref(),
                w.reference.as_deref(),
                w.note.as_deref(),
                w.resolved_by.as_deref(),
                w.resolved_at
            ),
            (
                Some("vakt"),
                Some("POL-2026-1"),
                Some("the van was at the workshop"),
                Some("keeper"),
                Some(ms(t0, 5))
            ),
            "{}",
            b.name
        );
        refused(
            change(
                store.as_ref(),
                Change::ResolveAlarm {
                    window: 999_999,
                    incident: true,
                    note: String::new(),
                },
                t0,
            ),
            "no alarm window",
        );

        // The month's review; once approved the month is final, by the store and by the
        // database's own triggers when written around the store.
        use domain::changes::StepKind;
        let step = |kind| Change::MonthStep {
            vehicle: v,
            month: "2026-11".into(),
            step: kind,
            comment: None,
        };
        change(store.as_ref(), step(StepKind::Submitted), ms(t0, 6)).expect("submit");
        change(store.as_ref(), step(StepKind::Approved), ms(t0, 7)).expect("approve");
        let n = ledger();
        refused(
            change(store.as_ref(), step(StepKind::Submitted), ms(t0, 8)),
            "approved",
        );
        refused(
            change(
                store.as_ref(),
                Change::Classify {
                    trip,
                    class: Classification::Unclassified,
                },
                ms(t0, 8),
            ),
            "approved",
        );
        refused(
            change(
                store.as_ref(),
                Change::CorrectDriver {
                    trip,
                    driver: "1003".into(),
                    reason: "late".into(),
                },
                ms(t0, 8),
            ),
            "approved",
        );
        assert_eq!(ledger(), n, "{}: refusals write nothing", b.name);
        for sql in [
            format!(
                "INSERT INTO trip_class (trip_id, at, by_user, class) VALUES ({trip}, 1, 'x', 'unclassified')"
            ),
            format!(
                "INSERT INTO trip_driver_correction (trip_id, at, by_user, driver_number, reason) VALUES ({trip}, 1, 'x', '1003', 'around')"
            ),
        ] {
            let err = b.raw_sql(&sql).expect_err("the month is final");
            assert!(
                err.contains("approved by the log keeper"),
                "{}: {err}",
                b.name
            );
        }
        for sql in [
            "UPDATE month_step SET step = 'returned'",
            "UPDATE trip_driver_correction SET driver_number = '1003'",
        ] {
            let err = b.raw_sql(sql).expect_err("kept as recorded");
            assert!(err.contains("kept as recorded"), "{}: {err}", b.name);
        }
        for sql in [
            "DELETE FROM month_step",
            "DELETE FROM trip_driver_correction",
        ] {
            let err = b.raw_sql(sql).expect_err("retention only");
            assert!(err.contains("only by retention"), "{}: {err}", b.name);
        }
        assert_eq!(
            store
                .month_review(v, "2026-11")
                .expect("review")
                .iter()
                .map(|s| s.kind)
                .collect::<Vec<_>>(),
            vec![StepKind::Submitted, StepKind::Approved],
            "{}",
            b.name
        );
        // A guard removed around the store is back at the next open, on both backends.
        b.raw_sql(if b.name == "postgres" {
            "DROP TRIGGER audit_entry_no_delete ON audit_entry;
             ALTER TABLE trip DISABLE TRIGGER trip_recorded_values_are_final"
        } else {
            "DROP TRIGGER audit_entry_no_delete; DROP TRIGGER trip_recorded_values_are_final"
        })
        .expect("a tamperer drops the guards");
        drop(feed);
        drop(store);
        let store = b.open();
        let err = b
            .raw_sql("DELETE FROM audit_entry")
            .expect_err("the ledger's guard is back");
        assert!(err.contains("append-only"), "{}: {err}", b.name);
        let err = b
            .raw_sql("UPDATE trip SET km = km + 1")
            .expect_err("the driving log's guard is back");
        assert!(err.contains("cannot be changed"), "{}: {err}", b.name);
        // Another month of the same vehicle is not final.
        assert!(
            store.month_review(v, "2026-12").expect("review").is_empty(),
            "{}",
            b.name
        );
    }
}

#[test]
fn set_aside_rows_the_backlog_the_followups_and_the_monthly_odometer_agree() {
    for b in backends("feed_lists") {
        let store = b.open();
        store.apply_org(&example_org()).expect("apply");
        let v = vehicle(store.as_ref(), "EK 12345");
        let device = store.devices().expect("devices")[0].id;
        let t0 = at(2026, 10, 5);
        let mut feed = store.purpose_feed().expect("feed");
        assert_eq!(
            feed.backlog(0).expect("backlog"),
            storage::Backlog::default(),
            "{}",
            b.name
        );
        store
            .ingest_writer()
            .expect("writer")
            .commit(
                &[
                    staged(device, ms(t0, 1_000)),
                    staged(device, ms(t0, 2_000)),
                    staged(device, ms(t0, 3_000)),
                ],
                &[],
            )
            .expect("stage");
        let rows = feed.next(0, 10).expect("next");
        assert_eq!(
            rows.iter().map(|r| r.received_at).collect::<Vec<_>>(),
            vec![ms(t0, 1_000), ms(t0, 2_000), ms(t0, 3_000)],
            "{}",
            b.name
        );
        assert_eq!(
            feed.backlog(0).expect("backlog"),
            storage::Backlog {
                rows: 3,
                oldest_received: Some(ms(t0, 1_000)),
            },
            "{}",
            b.name
        );
        assert_eq!(
            feed.backlog(rows[0].id).expect("backlog"),
            storage::Backlog {
                rows: 2,
                oldest_received: Some(ms(t0, 2_000)),
            },
            "{}",
            b.name
        );
        assert_eq!(
            feed.backlog(rows[2].id).expect("backlog"),
            storage::Backlog::default()
        );

        // Set aside, twice (a crash before the batch committed): kept once.
        let aside = storage::SetAside {
            staged_id: rows[1].id,
            device,
            fix_time: rows[1].fix.time,
            received_at: rows[1].received_at,
            reason: "dated 9999".into(),
            at: ms(t0, 5_000),
        };
        feed.set_aside(std::slice::from_ref(&aside))
            .expect("set aside");
        feed.set_aside(&[aside]).expect("set aside again");
        feed.set_aside(&[]).expect("nothing");
        let planned = |store: &dyn Store| {
            store
                .retention_plan(&RetentionPolicy::default(), t0)
                .expect("plan")
                .into_iter()
                .filter(|p| p.kind == "staged_set_aside")
                .map(|p| (p.due, p.count))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            planned(store.as_ref()),
            vec![(Some(date(2026, 10, 8)), 1)],
            "{}",
            b.name
        );
        // They go with the staging lifetime, and the purge leaves a receipt.
        assert_eq!(
            store.purge_staging(ms(t0, 10_000)).expect("purge"),
            3,
            "{}",
            b.name
        );
        assert!(planned(store.as_ref()).is_empty(), "{}", b.name);
        let receipts = store.retention_receipts().expect("receipts");
        assert_eq!(
            receipts
                .iter()
                .map(|r| (r.kind.as_str(), r.count))
                .collect::<Vec<_>>(),
            vec![("staged_fix", 3)],
            "{}",
            b.name
        );

        // Trips for the keeper's lists and the monthly readings.
        let h = |d: time::Date, hour: i64| {
            Timestamp::from_secs(d.midnight().assume_utc().unix_timestamp() + hour * 3600)
        };
        let (d1, d2, d3) = (date(2026, 10, 5), date(2026, 10, 20), date(2026, 11, 3));
        feed.commit(&PurposeBatch {
            entries: vec![
                business_trip(
                    v,
                    d1,
                    h(d1, 5),
                    h(d1, 6),
                    "A",
                    "B",
                    (1000.0, 1010.0),
                    "1001",
                ),
                business_trip(
                    v,
                    d1,
                    h(d1, 9),
                    h(d1, 10),
                    "B",
                    "C",
                    (1010.0, 1020.0),
                    "1001",
                ),
                business_trip(
                    v,
                    d2,
                    h(d2, 22),
                    h(d2, 23),
                    "C",
                    "D",
                    (1020.0, 1035.0),
                    "1001",
                ),
                NewLogEntry::Private {
                    vehicle: v,
                    date: d2,
                    km: 4.0,
                },
                business_trip(
                    v,
                    d3,
                    h(d3, 9),
                    h(d3, 10),
                    "D",
                    "E",
                    (1040.0, 1050.0),
                    "1001",
                ),
            ],
            ..batch()
        })
        .expect("commit");
        let ids = trip_ids(store.as_ref(), v, d1, d3);
        let (early, day_trip, late, november) = (ids[0], ids[1], ids[2], ids[3]);
        change(
            store.as_ref(),
            Change::Classify {
                trip: day_trip,
                class: Classification::Business {
                    purpose: "Kunde".into(),
                },
            },
            h(d1, 11),
        )
        .expect("classify");
        change(
            store.as_ref(),
            Change::Classify {
                trip: late,
                class: Classification::Business {
                    purpose: " ".into(),
                },
            },
            h(d2, 23),
        )
        .expect("classify without a purpose");
        change(
            store.as_ref(),
            Change::Classify {
                trip: november,
                class: Classification::Private,
            },
            h(d3, 11),
        )
        .expect("classify private");
        // Working hours 07–17 UTC here.
        let outside = |t: Timestamp| {
            let hour = t.millis().rem_euclid(86_400_000) / 3_600_000;
            !(7..17).contains(&hour)
        };
        let lists = store
            .followups(&keeper(), d1, d3, &outside, date(2026, 10, 10))
            .expect("followups");
        use domain::drivinglog::FollowUp;
        assert_eq!(
            lists
                .iter()
                .map(|f| (f.why, f.vehicle.as_str(), f.trip.id, f.trip.date, f.trip.km))
                .collect::<Vec<_>>(),
            vec![
                (
                    FollowUp::OutsideWorkingHoursWithoutPurpose,
                    "EK12345",
                    early,
                    d1,
                    10.0
                ),
                (FollowUp::UnclassifiedTooLong, "EK12345", early, d1, 10.0),
                (
                    FollowUp::OutsideWorkingHoursWithoutPurpose,
                    "EK12345",
                    late,
                    d2,
                    15.0
                ),
            ],
            "{}",
            b.name
        );
        let own = cap(
            access::Role::Employee,
            access::ReadPurpose::OwnData,
            access::Scope::Own,
            Some("1001"),
        );
        assert!(
            store.followups(&own, d1, d3, &outside, d3).is_err(),
            "{}: the keeper's lists only",
            b.name
        );

        // The monthly readings: the last real reading of each month; a private trip gives
        // none (the November trip was classified private and erased).
        let readings = store
            .monthly_odometer(&keeper(), v, d1, d3)
            .expect("readings");
        assert_eq!(
            readings,
            vec![domain::drivinglog::OdometerReading {
                date: d2,
                km: 1035.0
            }],
            "{}",
            b.name
        );
        assert_eq!(
            store
                .monthly_odometer(&keeper(), v, d1, d1)
                .expect("readings"),
            vec![domain::drivinglog::OdometerReading {
                date: d1,
                km: 1020.0
            }],
            "{}",
            b.name
        );
        assert!(
            store
                .monthly_odometer(&own, vehicle(store.as_ref(), "EK 12345"), d1, d3)
                .is_ok()
        );
    }
}

/// Tables retention plans for, with the kinds of deletion it names for them.
const PLANNED: &[(&str, &[&str])] = &[
    ("staged_fix", &["staged_fix"]),
    ("staged_set_aside", &["staged_set_aside"]),
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

/// Tables that hold no tracking data, and why.
const NOT_TRACKING_DATA: &[(&str, &str)] = &[
    ("organisation", "the employer"),
    ("vehicle", "the employer's vehicles"),
    ("device", "the employer's devices"),
    (
        "device_field",
        "which kinds of data a device sends, never a value",
    ),
    ("employee", "the organisation file's employees"),
    ("assignment", "the organisation file's assignments"),
    ("site", "the employer's sites"),
    ("org_version", "a counter"),
    ("app_user", "user accounts"),
    ("api_token", "token hashes with their expiry"),
    ("purpose_cursor", "a staged id"),
    ("partition_cursor", "a staged id per engine partition"),
    (
        "engine_lease",
        "which node holds which engine partition, with the expiry",
    ),
    (
        "shared_secret",
        "the nodes' shared keys (the web's CSRF key)",
    ),
    (
        "staging_order",
        "one row whose lock orders the staging commits",
    ),
    ("drivinglog_watermark", "staged ids per vehicle"),
    (
        "retention_gate",
        "a flag (SQLite; PostgreSQL uses a transaction-local setting)",
    ),
    ("retention_receipt", "counts and rules, never the data"),
    (
        "utilization_week",
        "anonymous aggregates over at least five vehicles",
    ),
    ("schema_migrations", "migration numbers"),
];

#[test]
fn the_retention_plan_covers_every_table_of_tracking_data_and_each_kind_leaves_a_receipt() {
    for b in backends("coverage") {
        let store = b.open();
        store.apply_org(&example_org()).expect("apply");
        let v = vehicle(store.as_ref(), "EK 12345");
        let el = vehicle(store.as_ref(), "EL 23456");
        let day = date(2026, 10, 5);
        let t =
            |h: i64| Timestamp::from_secs(day.midnight().assume_utc().unix_timestamp() + h * 3600);
        let device = store.devices().expect("devices")[0].id;
        store
            .ingest_writer()
            .expect("writer")
            .commit(&[staged(device, t(1)), staged(device, t(2))], &[])
            .expect("stage");
        let mut feed = store.purpose_feed().expect("feed");
        let first = feed.next(0, 1).expect("next")[0].clone();
        feed.set_aside(&[storage::SetAside {
            staged_id: first.id,
            device,
            fix_time: first.fix.time,
            received_at: first.received_at,
            reason: "test".into(),
            at: t(2),
        }])
        .expect("set aside");
        let open = |vehicle| storage::AlarmAction::Open {
            vehicle,
            at: t(2),
            triggers: "panic".into(),
            position: Position::new(59.9, 10.7),
        };
        feed.commit(&PurposeBatch {
            up_to: first.id,
            entries: vec![business_trip(
                v,
                day,
                t(7),
                t(8),
                "A",
                "B",
                (1.0, 2.0),
                "1001",
            )],
            deviations: vec![domain::drivinglog::Deviation {
                vehicle: v,
                date: day,
                from: t(9),
                to: t(10),
                kind: "odometer_jump",
                km: 0.0,
                note: String::new(),
                odometer_km: Some((2.0, 900.0)),
            }],
            privacy_switches: vec![(v, t(11), true, "test")],
            alarms: vec![open(v), open(el)],
            utilization: vec![storage::UtilizationFact {
                group: "vans".into(),
                vehicle_key: v.0,
                start: t(7),
                end: t(8),
                km: 1.0,
                start_cell: (1, 1),
                end_cell: (1, 2),
            }],
            recorded_at: t(12),
            ..batch()
        })
        .expect("commit");
        assert_eq!(
            store
                .deviations(&keeper(), v, day, day)
                .expect("deviations")[0]
                .odometer_km,
            Some((2.0, 900.0)),
            "{}",
            b.name
        );
        let trip = trip_ids(store.as_ref(), v, day, day)[0];
        change(
            store.as_ref(),
            Change::Classify {
                trip,
                class: Classification::Business {
                    purpose: "x".into(),
                },
            },
            t(13),
        )
        .expect("classify");
        change(
            store.as_ref(),
            Change::CorrectDriver {
                trip,
                driver: "1002".into(),
                reason: "they swapped vans".into(),
            },
            t(13),
        )
        .expect("correct");
        change(
            store.as_ref(),
            Change::MonthStep {
                vehicle: v,
                month: "2026-10".into(),
                step: domain::changes::StepKind::Submitted,
                comment: None,
            },
            t(13),
        )
        .expect("submit");
        let security = cap(
            access::Role::SecurityOperator,
            access::ReadPurpose::Alarm,
            access::Scope::All,
            None,
        );
        let windows = store.alarm_windows(&security).expect("windows");
        let resolved = windows.iter().find(|w| w.vehicle == v).expect("window").id;
        change(
            store.as_ref(),
            Change::ResolveAlarm {
                window: resolved,
                incident: true,
                note: "checked".into(),
            },
            t(14),
        )
        .expect("resolve");
        // A window resolved without incident, opened and closed by the engine.
        feed.commit(&PurposeBatch {
            alarms: vec![storage::AlarmAction::AutoResolve {
                vehicle: el,
                at: t(15),
            }],
            ..batch()
        })
        .expect("auto resolve");
        feed.commit(&PurposeBatch {
            alarms: vec![open(el)],
            ..batch()
        })
        .expect("open again");

        let plan = store
            .retention_plan(&RetentionPolicy::default(), t(16))
            .expect("plan");
        for (table, kinds) in PLANNED {
            for kind in *kinds {
                assert!(
                    plan.iter()
                        .any(|p| p.kind == *kind && p.count > 0 && !p.rule.is_empty()),
                    "{}: {table}: no {kind} in the plan: {plan:#?}",
                    b.name
                );
            }
        }
        let kept: Vec<&str> = plan
            .iter()
            .filter(|p| p.due.is_none())
            .map(|p| p.kind)
            .collect();
        assert_eq!(
            kept,
            ["alarm_position", "alarm_window", "audit_entry"],
            "{}: {plan:#?}",
            b.name
        );
        let due = |kind: &str| {
            plan.iter()
                .filter(|p| p.kind == kind)
                .map(|p| p.due)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            due("utilization_fact"),
            vec![Some(date(2026, 10, 12))],
            "{}: released the Monday after",
            b.name
        );
        assert_eq!(
            due("driving_log_signoff"),
            vec![Some(date(2032, 1, 1))],
            "{}",
            b.name
        );
        for table in b.tables() {
            let known = PLANNED.iter().any(|(t, _)| *t == table)
                || NOT_TRACKING_DATA.iter().any(|(t, _)| *t == table)
                || table.starts_with("register_");
            assert!(
                known,
                "{}: table {table} is neither in the retention plan nor said not to hold tracking data",
                b.name
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
            assert!(
                kinds.contains(&kind),
                "{}: no receipt for {kind}: {kinds:?}",
                b.name
            );
        }
        store
            .purge_consumed(Timestamp::from_millis(i64::MAX))
            .expect("purge consumed");
        store
            .purge_staging(Timestamp::from_millis(i64::MAX))
            .expect("purge");
        feed.release_utilization(&[], Timestamp::from_millis(i64::MAX))
            .expect("release");
        let all: Vec<(String, String)> = store
            .retention_receipts()
            .expect("receipts")
            .into_iter()
            .map(|r| (r.kind, r.rule))
            .collect();
        for (kind, rule) in [
            ("staged_fix", "consumed"),
            ("staged_fix", "not yet consumed"),
            ("utilization_fact", "released"),
        ] {
            assert!(
                all.iter().any(|(k, r)| k == kind && r.contains(rule)),
                "{}: no {kind} receipt ({rule}): {all:?}",
                b.name
            );
        }
        let after = store
            .retention_plan(&RetentionPolicy::default(), at(2033, 1, 1))
            .expect("plan");
        assert!(
            after.iter().all(|p| p.due.is_none()),
            "{}: only what is kept is left: {after:#?}",
            b.name
        );
    }
}

/// A purpose batch that writes nothing but moves cursors to `up_to`.
fn lease_batch(up_to: i64) -> PurposeBatch {
    PurposeBatch { up_to, ..batch() }
}

/// Runs lease rounds for `node` until `done` says so, or fails after `within`.
fn rounds_until(
    feed: &mut dyn storage::PurposeFeed,
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
    for backend in backends("leases") {
        two_nodes_share_the_partitions(&backend);
    }
}

fn two_nodes_share_the_partitions(backend: &Backend) {
    let store = backend.open();
    let mut a = store.purpose_feed().expect("feed a");
    let mut b = store.purpose_feed().expect("feed b");
    let ttl = 400;
    let first = a.lease_round("a", ttl).expect("a alone");
    assert_eq!(
        first.partitions.len(),
        usize::from(storage::ENGINE_PARTITIONS)
    );
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
        &lease_batch(99),
        storage::Fence {
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
        &lease_batch(7),
        storage::Fence {
            node: "a",
            partitions: &a1.partitions,
        },
    )
    .expect("a's own batch");
    let after = a.cursors().expect("cursors");
    for p in 0..storage::ENGINE_PARTITIONS {
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
        |g| g.partitions.len() == usize::from(storage::ENGINE_PARTITIONS) && g.schedule,
    );
    assert!(
        stopped.elapsed() <= Duration::from_millis(u64::try_from(ttl).expect("ttl") + 300),
        "takeover took {:?}",
        stopped.elapsed()
    );
    assert_eq!(all.nodes, 1);
    let late = a.commit_leased(
        &lease_batch(50),
        storage::Fence {
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
        usize::from(storage::ENGINE_PARTITIONS),
        "b is gone: a takes everything"
    );
}

#[test]
fn the_shared_secret_is_made_once_and_is_the_same_for_every_reader() {
    for backend in backends("secret") {
        the_shared_secret_is_made_once(&backend);
    }
}

fn the_shared_secret_is_made_once(backend: &Backend) {
    let one = backend.open();
    let first = one.shared_secret("csrf").expect("secret");
    assert_eq!(first.len(), 32);
    let two = backend.open();
    assert_eq!(two.shared_secret("csrf").expect("secret"), first);
    assert_ne!(one.shared_secret("cluster").expect("other"), first);
}
