//! The purposes at work, end to end: a Teltonika unit drives a business trip and a private
//! errand, reporting speed, RPM and fuel; the driving log gets the trip and the errand as date
//! and km; the fleet view loses the vehicle in privacy mode; and once staging is purged, none
//! of the sensor values exist anywhere in the data folder.

mod common;

use std::time::Duration;

use codec::teltonika::{IoValue, Record};
use common::*;
use domain::Timestamp;
use domain::drivinglog::LogEntry;

// Distinctive values, searched for in every file afterwards.
const RPM: u16 = 4321;
const FUEL: u8 = 77;
const SPEED: u16 = 93;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A point on the straight line from `a` to `b`.
fn lerp(a: (f64, f64), b: (f64, f64), f: f64) -> (f64, f64) {
    (a.0 + (b.0 - a.0) * f, a.1 + (b.1 - a.1) * f)
}

fn point(t: i64, at: (f64, f64), ignition: bool, odometer_m: u32, private: bool) -> Record {
    Record {
        time: Timestamp::from_millis(t),
        priority: 0,
        lon: at.1,
        lat: at.0,
        altitude: 60,
        angle: 250,
        satellites: 11,
        speed_kmh: if ignition { SPEED } else { 0 },
        event_io_id: 0,
        generation_type: None,
        io: vec![
            (239, IoValue::U8(u8::from(ignition))),
            (2, IoValue::U8(u8::from(private))),
            (16, IoValue::U32(odometer_m)),
            (24, IoValue::U16(if ignition { SPEED } else { 0 })),
            (85, IoValue::U16(if ignition { RPM } else { 0 })),
            (89, IoValue::U8(FUEL)),
        ],
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn a_business_trip_and_a_private_errand_keep_only_what_they_may() {
    let app = spawn_app(|_| {}).await;
    let depot = (59.9275, 10.8452); // Lager Alnabru
    let customer = (59.9155, 10.7725); // Kunde: Sameiet Tøyen Torg
    let doctor = (59.9230, 10.6650); // somewhere in Ullern
    let t0 = now_ms() - 15 * 60_000;
    let mut odo = 1_000_000u32;
    let mut records = Vec::new();
    // Business trip: 8 minutes depot → customer (≈ 4.3 km), then parked 2 minutes.
    for i in 0..=48 {
        let f = f64::from(i) / 48.0;
        records.push(point(
            t0 + i64::from(i) * 10_000,
            lerp(depot, customer, f),
            true,
            odo,
            false,
        ));
        odo += 90;
    }
    for i in 1..=12 {
        records.push(point(
            t0 + 480_000 + i * 10_000,
            customer,
            false,
            odo,
            false,
        ));
    }
    // Private errand with DIN2 on: customer → doctor, then parked.
    let t1 = t0 + 700_000;
    for i in 0..=36 {
        let f = f64::from(i) / 36.0;
        records.push(point(
            t1 + i64::from(i) * 10_000,
            lerp(customer, doctor, f),
            true,
            odo,
            true,
        ));
        odo += 160;
    }
    for i in 1..=12 {
        records.push(point(t1 + 360_000 + i * 10_000, doctor, false, odo, true));
    }

    let (mut dev, answer) = Teltonika::login(app.teltonika, TELTONIKA_IMEI).await;
    assert_eq!(answer, 1);
    let vehicle = storage::open(app.data())
        .expect("open")
        .vehicle_id(&domain::RegNo::parse("EK 12345").expect("reg"))
        .expect("query")
        .expect("the example's vehicle");

    // The business trip first: the fleet view shows the vehicle.
    let split = 49 + 12;
    for chunk in records[..split].chunks(20) {
        dev.send(&frame(chunk)).await;
        assert_eq!(dev.ack().await, Some(chunk.len() as u32));
    }
    let mut seen_in_fleet = false;
    for _ in 0..100 {
        let snapshot = app.shared.fleet.read().expect("fleet").snapshot();
        if snapshot.iter().any(|(v, _)| *v == vehicle) {
            seen_in_fleet = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        seen_in_fleet,
        "the vehicle is on the fleet view while it drives for work"
    );

    // Then the private errand: the vehicle leaves the fleet view.
    for chunk in records[split..].chunks(20) {
        dev.send(&frame(chunk)).await;
        assert_eq!(dev.ack().await, Some(chunk.len() as u32));
    }
    let store = storage::open(app.data()).expect("open");
    let today = trips::oslo_date(Timestamp::from_millis(t0));
    let mut log = Vec::new();
    for _ in 0..200 {
        log = store
            .driving_log(&common::driver_1001(), vehicle, today, today)
            .expect("log");
        if log.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let snapshot = app.shared.fleet.read().expect("fleet").snapshot();
    assert!(
        !snapshot.iter().any(|(v, _)| *v == vehicle),
        "privacy mode removes the vehicle from the fleet view"
    );

    assert_eq!(log.len(), 2, "{log:#?}");
    let LogEntry::Trip(trip) = &log[0] else {
        panic!("first a business trip: {log:#?}")
    };
    assert_eq!(
        trip.start_place,
        "Lager Alnabru (Strømsveien 266, 0668 Oslo)"
    );
    assert_eq!(
        trip.end_place,
        "Kunde: Sameiet Tøyen Torg (Tøyengata 40, 0578 Oslo)"
    );
    assert_eq!(trip.distance_source, "odometer");
    assert!((trip.km - 4.3).abs() < 0.2, "{}", trip.km);
    assert_eq!(trip.driver.as_deref(), Some("1001"), "the assigned driver");
    let LogEntry::Private(errand) = &log[1] else {
        panic!("then a private trip: {log:#?}")
    };
    assert!((errand.km - 5.8).abs() < 0.3, "{}", errand.km);
    let switches = store
        .privacy_switches(&common::driver_1001(), vehicle)
        .expect("switches");
    assert_eq!(
        switches.first().map(|s| (s.1, s.2.as_str())),
        Some((true, "device input")),
        "the switch is recorded"
    );

    // The private trip's row holds no time or place at all.
    let conn = rusqlite::Connection::open(app.data().join("sporvern.db")).expect("db");
    let private_row: (Option<i64>, Option<String>, Option<String>) = conn
        .query_row(
            "SELECT start_time, start_place, end_place FROM trip WHERE private = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("one private row");
    assert_eq!(private_row, (None, None, None));
    // And recorded values cannot be changed, not even by SQL against the file.
    assert!(
        conn.execute("UPDATE trip SET km = 1 WHERE private = 0", [])
            .is_err()
    );
    assert!(conn.execute("DELETE FROM trip", []).is_err());
    drop(conn);

    // Purge what the purposes consumed, as the schedule does after the late-data window.
    let purged = store
        .purge_consumed(Timestamp::from_millis(i64::MAX))
        .expect("purge");
    assert_eq!(purged as usize, records.len());
    let needles: [(&str, Vec<u8>); 4] = [
        ("rpm as staged", i64::from(RPM).to_be_bytes().to_vec()),
        ("fuel as staged", i64::from(FUEL).to_be_bytes().to_vec()),
        ("speed as staged", f64::from(SPEED).to_be_bytes().to_vec()),
        ("rpm as text", RPM.to_string().into_bytes()),
    ];
    // Not in any table: every value of every row, blobs included.
    let conn = rusqlite::Connection::open(app.data().join("sporvern.db")).expect("db");
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .expect("tables")
        .query_map([], |r| r.get(0))
        .expect("query")
        .map(|r| r.expect("name"))
        .collect();
    for table in &tables {
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM \"{table}\""))
            .expect("select");
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).expect("rows");
        while let Some(row) = rows.next().expect("row") {
            for c in 0..columns {
                let bytes: Vec<u8> = match row.get_ref(c).expect("value") {
                    rusqlite::types::ValueRef::Blob(b) | rusqlite::types::ValueRef::Text(b) => {
                        b.to_vec()
                    }
                    rusqlite::types::ValueRef::Integer(i) => {
                        assert!(i != i64::from(RPM), "{table}: an RPM-valued cell");
                        continue;
                    }
                    _ => continue,
                };
                for (what, needle) in &needles {
                    assert!(!contains(&bytes, needle), "{what} in table {table}");
                }
            }
        }
    }
    // Not in the files either: SQLite can leave deleted bytes in the unused space of a page
    // until the file is compacted, so the check runs after compaction (VACUUM), which the
    // write-ahead log and every other file get no exemption from.
    conn.execute_batch("VACUUM; PRAGMA wal_checkpoint(TRUNCATE);")
        .expect("vacuum");
    drop(conn);
    // Every file in the data folder and below it (the ledger's checkpoints too).
    let mut files = Vec::new();
    let mut folders = vec![app.data().to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("data folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                folders.push(path);
            } else {
                files.push(path);
            }
        }
    }
    for path in files {
        // The WAL index (`-shm`) holds page numbers and frame hashes, never row content; with
        // more than 77 pages in the database its small integers match the 8-byte fuel needle
        // by chance. The log itself (`-wal`) and the database are checked.
        if path.to_string_lossy().ends_with("-shm") {
            continue;
        }
        let bytes = std::fs::read(&path).expect("readable");
        for (what, needle) in &needles {
            if let Some(i) = bytes.windows(needle.len()).position(|w| w == &needle[..]) {
                eprintln!(
                    "DEBUG {what} at {i} page {} page-type {} around {:02x?}",
                    i / 4096,
                    bytes[(i / 4096) * 4096 + if i / 4096 == 0 { 100 } else { 0 }],
                    &bytes[i.saturating_sub(24)..(i + 16).min(bytes.len())]
                );
            }
            assert!(
                !contains(&bytes, needle),
                "{what} found in {}",
                path.display()
            );
        }
    }
}

#[tokio::test]
async fn alarm_positions_are_kept_only_inside_an_alarm_window() {
    let app = spawn_app(|_| {}).await;
    let t0 = now_ms() - 5 * 60_000;
    let base = (59.9275, 10.8452);
    let fix = |i: i64, panic: bool| {
        let mut r = point(
            t0 + i * 10_000,
            (base.0 + i as f64 * 0.001, base.1),
            true,
            1_000_000,
            false,
        );
        r.io.push((1, IoValue::U8(u8::from(panic)))); // DIN1: the panic button
        r
    };
    let (mut dev, _) = Teltonika::login(app.teltonika, TELTONIKA_IMEI).await;
    let store = storage::open(app.data()).expect("open");
    let wait_for = |n: usize| {
        let store = &store;
        async move {
            for _ in 0..100 {
                let windows = store.alarm_windows(&common::security()).expect("windows");
                if windows.len() >= n {
                    return windows;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            store.alarm_windows(&common::security()).expect("windows")
        }
    };

    // Ordinary driving: the alarm purpose keeps nothing.
    dev.send(&frame(&[fix(0, false), fix(1, false)])).await;
    assert_eq!(dev.ack().await, Some(2));
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        store
            .alarm_windows(&common::security())
            .expect("windows")
            .is_empty(),
        "no alarm, no window"
    );

    // The driver presses the panic button: a window opens and positions are kept.
    dev.send(&frame(&[fix(2, true), fix(3, false), fix(4, false)]))
        .await;
    assert_eq!(dev.ack().await, Some(3));
    let windows = wait_for(1).await;
    assert_eq!(windows.len(), 1);
    assert_eq!(windows[0].triggers, "panic");
    for _ in 0..100 {
        if store
            .alarm_positions(&common::security(), windows[0].id)
            .expect("positions")
            .len()
            == 3
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let kept: Vec<i64> = store
        .alarm_positions(&common::security(), windows[0].id)
        .expect("positions")
        .iter()
        .map(|(t, _)| t.millis())
        .collect();
    assert_eq!(
        kept,
        vec![t0 + 20_000, t0 + 30_000, t0 + 40_000],
        "from the trigger on, nothing before it"
    );

    // Resolved by an operator: nothing more is kept.
    change(
        store.as_ref(),
        storage::Change::ResolveAlarm {
            window: windows[0].id,
            incident: false,
            note: "the driver pressed it by mistake".to_owned(),
        },
        "vakt",
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    dev.send(&frame(&[fix(5, false)])).await;
    assert_eq!(dev.ack().await, Some(1));
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        store
            .alarm_positions(&common::security(), windows[0].id)
            .expect("positions")
            .len(),
        3
    );
    assert!(
        store
            .alarm_windows(&common::security())
            .expect("windows")
            .iter()
            .all(|w| w.resolved_at.is_some())
    );
}

/// Reads server-sent events from an open stream until one named `name` arrives.
async fn next_event(
    stream: &mut tokio::net::TcpStream,
    buf: &mut String,
    name: &str,
) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(i) = buf.find(&format!("event: {name}\ndata: ")) {
            let rest = &buf[i..];
            if let Some(end) = rest.find("\n\n") {
                let data = rest[..end]
                    .lines()
                    .nth(1)
                    .map(|l| l.trim_start_matches("data: ").to_owned());
                buf.replace_range(..i + end, "");
                return data;
            }
        }
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout_at(deadline, stream.read(&mut chunk))
            .await
            .ok()?
            .ok()?;
        if n == 0 {
            return None;
        }
        buf.push_str(&String::from_utf8_lossy(&chunk[..n]));
    }
}

#[tokio::test]
async fn the_live_fleet_feed_shows_positions_and_loses_a_vehicle_in_privacy_mode() {
    use tokio::io::AsyncWriteExt;
    let app = spawn_app(|_| {}).await;
    // Closed without a login, and to a role that does not have the fleet view.
    let refused = http(app.http, "GET", "/api/v1/fleet/stream", &[], b"").await;
    assert_eq!(refused.map(|r| r.0), Some(401));
    let keeper = user_token(&app, "lars", "log_keeper", None).await;
    let refused = http(
        app.http,
        "GET",
        "/api/v1/fleet/stream",
        &[("Authorization", &format!("Bearer {keeper}"))],
        b"",
    )
    .await;
    assert_eq!(refused.map(|r| r.0), Some(403));
    let token = user_token(&app, "disponent", "dispatcher", None).await;

    let mut feed = tokio::net::TcpStream::connect(app.http)
        .await
        .expect("connect");
    feed.write_all(
        format!(
            "GET /api/v1/fleet/stream HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {token}\r\n\r\n"
        )
        .as_bytes(),
    )
    .await
    .expect("request");
    let mut buf = String::new();
    let snapshot = next_event(&mut feed, &mut buf, "snapshot")
        .await
        .expect("a snapshot first");
    assert_eq!(snapshot, r#"{"vehicles":[]}"#);

    let t = now_ms();
    let (mut dev, _) = Teltonika::login(app.teltonika, TELTONIKA_IMEI).await;
    dev.send(&frame(&[point(
        t,
        (59.9275, 10.8452),
        true,
        1_000_000,
        false,
    )]))
    .await;
    assert_eq!(dev.ack().await, Some(1));
    let moved = next_event(&mut feed, &mut buf, "moved")
        .await
        .expect("the vehicle appears");
    let v: serde_json::Value = serde_json::from_str(&moved).expect("json");
    assert_eq!(v["vehicle"], "EK12345");
    assert_eq!(v["lat"], 59.9275);
    assert!(
        v.get("speed").is_none() && !moved.contains(&SPEED.to_string()),
        "no speed on the map: {moved}"
    );

    // Privacy button: the vehicle leaves the map, without a reload.
    dev.send(&frame(&[point(
        t + 5_000,
        (59.9280, 10.8460),
        true,
        1_000_100,
        true,
    )]))
    .await;
    assert_eq!(dev.ack().await, Some(1));
    let gone = next_event(&mut feed, &mut buf, "gone")
        .await
        .expect("the vehicle leaves");
    assert_eq!(gone, r#"{"vehicle":"EK12345"}"#);
}

#[tokio::test]
async fn a_trip_end_away_from_the_sites_is_named_by_the_configured_address_service() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // A stand-in for a self-hosted Nominatim: answers every reverse lookup with one address.
    let nominatim = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", nominatim.local_addr().expect("addr"));
    let asked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = asked.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = nominatim.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut buf = [0u8; 2048];
            let _ = s.read(&mut buf).await;
            let body = r#"{"address":{"house_number":"10","road":"Schweigaards gate","city":"Oslo","postcode":"0185"}}"#;
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(answer.as_bytes()).await;
        }
    });
    let app = spawn_app(move |s| s.address_lookup_url = Some(url)).await;
    let depot = (59.9275, 10.8452);
    let elsewhere = (59.9080, 10.7620);
    let t0 = now_ms() - 15 * 60_000;
    let mut records = Vec::new();
    for i in 0..=30 {
        records.push(point(
            t0 + i * 10_000,
            lerp(depot, elsewhere, i as f64 / 30.0),
            true,
            2_000_000 + i as u32 * 150,
            false,
        ));
    }
    for i in 1..=12 {
        records.push(point(
            t0 + 300_000 + i * 10_000,
            elsewhere,
            false,
            2_004_500,
            false,
        ));
    }
    let (mut dev, _) = Teltonika::login(app.teltonika, TELTONIKA_IMEI).await;
    for chunk in records.chunks(20) {
        dev.send(&frame(chunk)).await;
        assert_eq!(dev.ack().await, Some(chunk.len() as u32));
    }
    let store = storage::open(app.data()).expect("open");
    let vehicle = store
        .vehicle_id(&domain::RegNo::parse("EK 12345").expect("reg"))
        .expect("query")
        .expect("vehicle");
    let day = trips::oslo_date(Timestamp::from_millis(t0));
    let mut log = Vec::new();
    for _ in 0..200 {
        log = store
            .driving_log(&common::driver_1001(), vehicle, day, day)
            .expect("log");
        if !log.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let Some(LogEntry::Trip(trip)) = log.first() else {
        panic!("a trip: {log:#?}")
    };
    assert_eq!(
        trip.start_place, "Lager Alnabru (Strømsveien 266, 0668 Oslo)",
        "a site needs no lookup"
    );
    assert_eq!(trip.end_place, "Schweigaards gate 10, 0185 Oslo");
    assert_eq!(
        asked.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "only the end away from the sites was looked up"
    );
}

#[tokio::test]
async fn a_switch_made_elsewhere_is_not_undone_by_the_button_at_rest() {
    let app = spawn_app(|_| {}).await;
    let t = now_ms() - 60_000;
    let (mut dev, _) = Teltonika::login(app.teltonika, TELTONIKA_IMEI).await;
    dev.send(&frame(&[point(
        t,
        (59.9275, 10.8452),
        true,
        1_000_000,
        false,
    )]))
    .await;
    assert_eq!(dev.ack().await, Some(1));
    let store = storage::open(app.data()).expect("open");
    let vehicle = store
        .vehicle_id(&domain::RegNo::parse("EK 12345").expect("reg"))
        .expect("query")
        .expect("vehicle");
    let in_fleet = || {
        app.shared
            .fleet
            .read()
            .expect("fleet")
            .snapshot()
            .iter()
            .any(|(v, _)| *v == vehicle)
    };
    for _ in 0..100 {
        if in_fleet() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(in_fleet());
    // The driver goes private from the command line (or, later, the app)…
    change(
        store.as_ref(),
        storage::Change::Privacy {
            vehicle,
            private: true,
            source: "command line (kari)".to_owned(),
        },
        "kari",
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    // …while the unit keeps reporting the privacy button at rest.
    dev.send(&frame(&[point(
        t + 10_000,
        (59.9280, 10.8460),
        true,
        1_000_100,
        false,
    )]))
    .await;
    assert_eq!(dev.ack().await, Some(1));
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        !in_fleet(),
        "still private: the resting button does not switch privacy off"
    );
    assert_eq!(
        store
            .privacy_switches(&common::driver_1001(), vehicle)
            .expect("switches")
            .first()
            .map(|s| s.1),
        Some(true)
    );
}
