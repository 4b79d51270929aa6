//! The driving log's integrity through the real server and the real protocols: privacy
//! switched on mid-drive splits the trip; an odometer that goes backwards or jumps is a
//! deviation with both readings; only a vehicle odometer is a km reading (a phone's is GPS
//! distance); and one vehicle with a fixed tracker and a phone keeps the tracker's trip when
//! the phone's late batch arrives, without spurious deviations.

mod common;

use std::time::Duration;

use codec::teltonika::{IoValue, Record};
use common::*;
use domain::Timestamp;
use domain::drivinglog::LogEntry;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn lerp(a: (f64, f64), b: (f64, f64), f: f64) -> (f64, f64) {
    (a.0 + (b.0 - a.0) * f, a.1 + (b.1 - a.1) * f)
}

/// A Teltonika record with ignition, the unit's own odometer (IO 16) and the DIN2 input.
fn point(t: i64, at: (f64, f64), ignition: bool, odometer_m: u32) -> Record {
    Record {
        time: Timestamp::from_millis(t),
        priority: 0,
        lon: at.1,
        lat: at.0,
        altitude: 60,
        angle: 250,
        satellites: 11,
        speed_kmh: if ignition { 50 } else { 0 },
        event_io_id: 0,
        generation_type: None,
        io: vec![
            (239, IoValue::U8(u8::from(ignition))),
            (16, IoValue::U32(odometer_m)),
        ],
    }
}

async fn send_all(app: &TestApp, imei: &str, records: &[Record]) {
    let (mut dev, answer) = Teltonika::login(app.teltonika, imei).await;
    assert_eq!(answer, 1, "the unit is registered");
    for chunk in records.chunks(20) {
        dev.send(&frame(chunk)).await;
        assert_eq!(dev.ack().await, Some(chunk.len() as u32));
    }
}

/// Waits until the purpose engine has consumed everything staged.
async fn consumed(app: &TestApp) {
    let conn = rusqlite::Connection::open(app.data().join("sporvern.db")).expect("db");
    for _ in 0..200 {
        let (cursor, max): (i64, i64) = conn
            .query_row(
                "SELECT (SELECT last_staged_id FROM purpose_cursor), (SELECT COALESCE(MAX(id), 0) FROM staged_fix)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("cursor");
        if cursor >= max {
            // One more round of the worker, for its clock.
            tokio::time::sleep(Duration::from_millis(300)).await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the purpose engine did not consume the staged fixes");
}

fn vehicle(app: &TestApp, reg: &str) -> domain::VehicleId {
    storage::open(app.data())
        .expect("open")
        .vehicle_id(&domain::RegNo::parse(reg).expect("reg"))
        .expect("query")
        .expect("the example's vehicle")
}

fn keeper() -> access::Capability {
    capability(
        access::Role::LogKeeper,
        access::ReadPurpose::DrivingLog,
        access::Scope::All,
        None,
    )
}

#[tokio::test]
async fn privacy_switched_on_mid_drive_splits_the_trip_at_the_switch() {
    let app = spawn_app(|_| {}).await;
    let token = user_token(&app, "kari", "employee", Some("1001")).await;
    let depot = (59.9275, 10.8452); // Lager Alnabru
    let west = (59.9275, 10.7820); // ≈ 3.5 km west, on the way
    let further = (59.9275, 10.7567); // ≈ 1.4 km further
    let t0 = now_ms() - 20 * 60_000;
    let mut odo = 2_000_000u32;
    // Business: 35 records, 100 m apart, from the depot.
    let mut business = vec![point(t0 - 60_000, depot, false, odo)];
    for i in 0..=35 {
        business.push(point(
            t0 + i64::from(i) * 10_000,
            lerp(depot, west, f64::from(i) / 35.0),
            true,
            odo,
        ));
        odo += 100;
    }
    odo -= 100;
    send_all(&app, TELTONIKA_IMEI, &business).await;
    consumed(&app).await;

    // The driver switches privacy on without stopping…
    let (status, body) = http(
        app.http,
        "POST",
        "/api/v1/me/privacy",
        &[
            ("Authorization", &format!("Bearer {token}")),
            ("Content-Type", "application/json"),
        ],
        br#"{"on": true}"#,
    )
    .await
    .expect("an answer");
    assert_eq!(status, 200, "{body}");
    tokio::time::sleep(Duration::from_millis(700)).await;

    // …and drives 1.4 km more, then parks.
    let t1 = t0 + 350_000;
    let mut private = Vec::new();
    for i in 1..=14 {
        odo += 100;
        private.push(point(
            t1 + i64::from(i) * 10_000,
            lerp(west, further, f64::from(i) / 14.0),
            true,
            odo,
        ));
    }
    for i in 1..=12 {
        private.push(point(t1 + 140_000 + i * 10_000, further, false, odo));
    }
    send_all(&app, TELTONIKA_IMEI, &private).await;

    let store = storage::open(app.data()).expect("open");
    let v = vehicle(&app, "EK 12345");
    let day = trips::oslo_date(Timestamp::from_millis(t0));
    let mut log = Vec::new();
    for _ in 0..200 {
        log = store.driving_log(&driver_1001(), v, day, day).expect("log");
        if log.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(log.len(), 2, "the trip splits at the switch: {log:#?}");
    let LogEntry::Trip(trip) = &log[0] else {
        panic!("the part before the switch is a business trip: {log:#?}")
    };
    assert_eq!(
        trip.start_place, "Lager Alnabru (Strømsveien 266, 0668 Oslo)",
        "it keeps its places"
    );
    assert!((trip.km - 3.5).abs() < 0.15, "business km {}", trip.km);
    assert_eq!(trip.distance_source, "odometer");
    let LogEntry::Private(errand) = &log[1] else {
        panic!("the part after the switch is private: {log:#?}")
    };
    assert!((errand.km - 1.4).abs() < 0.15, "private km {}", errand.km);

    // The private part is date and km in storage too.
    let conn = rusqlite::Connection::open(app.data().join("sporvern.db")).expect("db");
    let rows: Vec<(i64, Option<i64>, Option<String>)> = conn
        .prepare("SELECT private, start_time, start_place FROM trip ORDER BY id")
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .map(|r| r.expect("row"))
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].0, 0);
    assert!(rows[0].1.is_some() && rows[0].2.is_some());
    assert_eq!(rows[1], (1, None, None));
}

#[tokio::test]
async fn an_odometer_reset_and_a_jump_are_deviations_with_both_readings() {
    let app = spawn_app(|_| {}).await;
    let a = (59.9100, 10.7500);
    let b = (59.9370, 10.7500); // 3 km north
    let c = (59.9370, 10.8040); // 3 km east
    let t0 = now_ms() - 3 * 3_600_000;
    let mut records = Vec::new();
    // First trip: 10 090.4 km → 10 093.4 km by odometer.
    let mut odo = 10_090_400u32;
    records.push(point(t0 - 60_000, a, false, odo));
    for i in 0..=30 {
        records.push(point(
            t0 + i * 10_000,
            lerp(a, b, i as f64 / 30.0),
            i < 30,
            odo,
        ));
        odo += 100;
    }
    odo -= 100;
    for i in 1..=8 {
        records.push(point(t0 + 300_000 + i * 10_000, b, false, odo));
    }
    // Second trip, 30 minutes later: mid-way the odometer is reset to 10 000.5 km.
    let t1 = t0 + 1_800_000;
    for i in 0..=30 {
        if i == 15 {
            odo = 10_000_500;
        } else if i > 0 {
            odo += 100;
        }
        records.push(point(
            t1 + i * 10_000,
            lerp(b, c, i as f64 / 30.0),
            i < 30,
            odo,
        ));
    }
    for i in 1..=8 {
        records.push(point(t1 + 300_000 + i * 10_000, c, false, odo));
    }
    // Parked: the odometer jumps 500 km in two minutes.
    records.push(point(t1 + 600_000, c, false, odo + 500_000));
    records.push(point(t1 + 720_000, c, false, odo + 500_000));
    send_all(&app, TELTONIKA_IMEI, &records).await;
    consumed(&app).await;

    let store = storage::open(app.data()).expect("open");
    let v = vehicle(&app, "EK 12345");
    let day = trips::oslo_date(Timestamp::from_millis(t0));
    let last = trips::oslo_date(Timestamp::from_millis(t1 + 720_000));
    let mut devs = Vec::new();
    for _ in 0..100 {
        devs = store
            .deviations(&keeper(), v, day, last)
            .expect("deviations");
        if devs.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let kinds: Vec<(&str, Option<(f64, f64)>)> = devs
        .iter()
        .map(|d| (d.kind.as_str(), d.odometer_km))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("odometer_backwards", Some((10_094.8, 10_000.5))),
            ("odometer_jump", Some((10_002.0, 10_502.0))),
        ],
        "{devs:#?}"
    );
    assert!(
        devs[0].note.contains("10094.8") && devs[0].note.contains("10000.5"),
        "{}",
        devs[0].note
    );

    let log = store
        .driving_log(&driver_1001(), v, day, last)
        .expect("log");
    let trips: Vec<_> = log
        .iter()
        .filter_map(|e| match e {
            LogEntry::Trip(t) => Some(t),
            _ => None,
        })
        .collect();
    assert_eq!(trips.len(), 2, "{log:#?}");
    assert_eq!(trips[0].distance_source, "odometer");
    assert_eq!(
        trips[1].distance_source, "track",
        "a trip across a reset is measured by its track"
    );
    assert!((trips[1].km - 3.0).abs() < 0.15, "{}", trips[1].km);

    // The monthly reading is the last real reading, with its date.
    let readings = store
        .monthly_odometer(&keeper(), v, day, last)
        .expect("readings");
    assert_eq!(readings.len(), 1, "{readings:?}");
    assert_eq!(readings[0].km, 10_002.0);
    assert_eq!(
        readings[0].date,
        trips::oslo_date(Timestamp::from_millis(t1))
    );
}

#[tokio::test]
async fn a_phones_odometer_is_gps_distance_and_never_a_km_reading() {
    let app = spawn_app(|_| {}).await;
    let a = (59.9100, 10.7500);
    let b = (59.9415, 10.7500); // 3.5 km north
    let t0 = now_ms() / 1000 - 1800;
    let send = |t: i64, at: (f64, f64), odometer: f64| {
        format!(
            "/?id=123456&timestamp={t}&lat={:.6}&lon={:.6}&speed=20&accuracy=5&odometer={odometer:.0}",
            at.0, at.1
        )
    };
    let mut queries = Vec::new();
    for i in 0..5 {
        queries.push(send(t0 + i * 60, a, 0.0));
    }
    for i in 1..=35 {
        queries.push(send(
            t0 + 300 + i * 10,
            lerp(a, b, i as f64 / 35.0),
            f64::from(i as i32) * 100.0,
        ));
    }
    for i in 1..=6 {
        queries.push(send(t0 + 650 + i * 60, b, 3500.0));
    }
    for q in &queries {
        let (status, body) = http(app.osmand, "GET", q, &[], b"")
            .await
            .expect("an answer");
        assert_eq!(status, 200, "{body}");
    }
    consumed(&app).await;

    let store = storage::open(app.data()).expect("open");
    let v = vehicle(&app, "EL 23456");
    let day = trips::oslo_date(Timestamp::from_secs(t0));
    let driver = capability(
        access::Role::Employee,
        access::ReadPurpose::DrivingLog,
        access::Scope::Own,
        Some("1002"),
    );
    let mut log = Vec::new();
    for _ in 0..100 {
        log = store.driving_log(&driver, v, day, day).expect("log");
        if !log.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let [LogEntry::Trip(trip)] = log.as_slice() else {
        panic!("one trip: {log:#?}")
    };
    assert_eq!(trip.distance_source, "track");
    assert_eq!(
        (trip.odometer_start_km, trip.odometer_end_km),
        (None, None),
        "a phone's own distance is not printed as a km reading"
    );
    assert!((trip.km - 3.5).abs() < 0.2, "{}", trip.km);
    assert!(
        store
            .monthly_odometer(&keeper(), v, day, day)
            .expect("readings")
            .is_empty(),
        "no vehicle odometer, no monthly reading"
    );
}

#[tokio::test]
async fn a_late_phone_batch_leaves_the_trackers_trip_intact_without_deviations() {
    let app = spawn_app(|_| {}).await;
    // BR 34567 has a fixed Teltonika tracker and an OwnTracks phone (examples/org.toml).
    let tracker = "356307042441013";
    let a = (59.9500, 10.8800);
    let b = (59.9500, 10.9340); // 3 km east
    let t0 = now_ms() - 40 * 60_000;
    let mut records = vec![point(t0 - 60_000, a, false, 0)];
    for i in 0..=30 {
        records.push(point(
            t0 + i * 10_000,
            lerp(a, b, i as f64 / 30.0),
            i < 30,
            0,
        ));
    }
    for i in 1..=10 {
        records.push(point(t0 + 300_000 + i * 30_000, b, false, 0));
    }
    send_all(&app, tracker, &records).await;
    consumed(&app).await;

    let store = storage::open(app.data()).expect("open");
    let v = vehicle(&app, "BR 34567");
    let day = trips::oslo_date(Timestamp::from_millis(t0));
    let before = store.driving_log(&keeper(), v, day, day).expect("log");
    assert_eq!(before.len(), 1, "the tracker's trip: {before:#?}");

    // The phone rode along; its buffered points arrive afterwards, 20 m off the tracker's,
    // every 15 s from before the trip to after it.
    for i in 0..60 {
        let t = t0 - 120_000 + i * 15_000;
        let f = ((t - t0) as f64 / 300_000.0).clamp(0.0, 1.0);
        let at = lerp(a, b, f);
        let body = format!(
            r#"{{"_type":"location","lat":{:.6},"lon":{:.6},"tst":{},"acc":8,"batt":70}}"#,
            at.0 + 0.00018,
            at.1,
            t / 1000
        );
        let (status, text) = http(
            app.http,
            "POST",
            "/owntracks",
            &[
                ("X-Limit-U", "ingrid"),
                ("X-Limit-D", "phone"),
                ("Content-Type", "application/json"),
            ],
            body.as_bytes(),
        )
        .await
        .expect("an answer");
        assert_eq!(status, 200, "{text}");
    }
    consumed(&app).await;

    let after = store.driving_log(&keeper(), v, day, day).expect("log");
    assert_eq!(after, before, "the tracker's trip is intact");
    let devs = store
        .deviations(&keeper(), v, day, day)
        .expect("deviations");
    assert!(devs.is_empty(), "no spurious deviations: {devs:#?}");
}
