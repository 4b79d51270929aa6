//! Kill -9 during a stream: every record the server acknowledged is there after a restart.
//! On the embedded database always, and on PostgreSQL when `SPORVERN_TEST_POSTGRES` is set.

mod common;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;

/// Starts `sporvern serve` on the test's database; its Teltonika address.
fn start_server(db: &TestDb) -> (Child, SocketAddr) {
    let served = serve_process(&db.args());
    (served.child, served.teltonika)
}

#[test]
fn sigkill_during_a_stream_loses_no_acknowledged_record() {
    for db in test_databases("crash_stream") {
        sigkill_during_a_stream(&db);
    }
}

fn sigkill_during_a_stream(db: &TestDb) {
    db.apply_example();
    let (mut child, addr) = start_server(db);

    let acked: Arc<Mutex<BTreeSet<(String, i64)>>> = Arc::default();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let streams: Vec<_> = ["123456789012345", "356307042441013"]
        .into_iter()
        .enumerate()
        .map(|(n, imei)| {
            let acked = acked.clone();
            runtime.spawn(async move {
                let (mut dev, answer) = Teltonika::login(addr, imei).await;
                assert_eq!(answer, 1);
                let base = 1_767_261_600_000 + n as i64 * 7;
                for batch in 0i64.. {
                    let records: Vec<_> = (0..10)
                        .map(|i| record(base + (batch * 10 + i) * 1000, 59.9, 10.7))
                        .collect();
                    dev.send(&frame(&records)).await;
                    let mut ack = [0u8; 4];
                    use tokio::io::AsyncReadExt;
                    if dev.stream.read_exact(&mut ack).await.is_err() {
                        return; // the server died mid-exchange: this batch was not acknowledged
                    }
                    let n = u32::from_be_bytes(ack) as usize;
                    let mut set = acked.lock().expect("lock");
                    for r in &records[..n] {
                        set.insert((imei.to_owned(), r.time.millis()));
                    }
                }
            })
        })
        .collect();

    // Let the stream run, then kill the server without warning.
    let started = Instant::now();
    while acked.lock().expect("lock").len() < 400 && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    runtime.block_on(async {
        for s in streams {
            let _ = tokio::time::timeout(Duration::from_secs(10), s).await;
        }
    });
    let acked = acked.lock().expect("lock").clone();
    assert!(
        acked.len() >= 400,
        "{}: the stream ran before the kill ({} acknowledged)",
        db.name(),
        acked.len()
    );

    // Restart on the same data folder: it recovers and still serves.
    let (mut child, addr) = start_server(db);
    let stored: BTreeSet<(String, i64)> = db.staged().into_iter().collect();
    let lost: Vec<_> = acked.difference(&stored).collect();
    assert!(
        lost.is_empty(),
        "{}: {} acknowledged records lost, e.g. {:?}",
        db.name(),
        lost.len(),
        lost.first()
    );

    let resent = runtime.block_on(async {
        let (mut dev, answer) = Teltonika::login(addr, "123456789012345").await;
        assert_eq!(answer, 1);
        dev.send(&frame(&[record(1_767_261_600_000, 59.9, 10.7)]))
            .await;
        dev.ack().await
    });
    assert_eq!(
        resent,
        Some(1),
        "a resend after the restart is acknowledged"
    );
    assert_eq!(
        db.staged().len(),
        stored.len(),
        "{}: and stored once",
        db.name()
    );
    child.kill().expect("stop");
    let _ = child.wait();
}

#[test]
fn a_trip_open_when_the_server_dies_is_rebuilt_after_the_restart() {
    for db in test_databases("crash_trip") {
        a_trip_open_when_the_server_dies_is_rebuilt(&db);
    }
}

fn a_trip_open_when_the_server_dies_is_rebuilt(db: &TestDb) {
    use codec::teltonika::Record;
    db.apply_example();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let t0 = now - 20 * 60_000;
    let rec = |i: i64, ignition: bool| trip_record(t0, i, ignition);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let send = |addr: SocketAddr, records: Vec<Record>| {
        runtime.block_on(async {
            let (mut dev, answer) = Teltonika::login(addr, "123456789012345").await;
            assert_eq!(answer, 1);
            for chunk in records.chunks(10) {
                dev.send(&frame(chunk)).await;
                assert_eq!(dev.ack().await, Some(chunk.len() as u32));
            }
        })
    };

    // The first half of the trip, then the server dies with the trip open.
    let (mut child, addr) = start_server(db);
    send(addr, (0..25).map(|i| rec(i, true)).collect());
    // Wait until the purpose engine has consumed it, so the restart must rebuild the open trip
    // from staging rather than simply process it for the first time.
    let cursor = || db.cursor();
    let started = Instant::now();
    while cursor() < 25 && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        cursor() >= 25,
        "the first half was consumed before the crash"
    );
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");

    // After the restart: the rest of the trip and the stop.
    let (mut child, addr) = start_server(db);
    let mut rest: Vec<Record> = (25..=48).map(|i| rec(i, true)).collect();
    rest.extend((49..=60).map(|i| rec(i, false)));
    send(addr, rest);
    let store = db.open();
    let vehicle = store
        .vehicle_id(&domain::RegNo::parse("EK 12345").expect("reg"))
        .expect("query")
        .expect("vehicle");
    let day = trips::oslo_date(domain::Timestamp::from_millis(t0));
    let mut log = Vec::new();
    for _ in 0..100 {
        log = store
            .driving_log(&common::driver_1001(), vehicle, day, day)
            .expect("log");
        if !log.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().expect("stop");
    let _ = child.wait();
    assert_eq!(
        log.len(),
        1,
        "{}: one trip, not two halves: {log:#?}",
        db.name()
    );
    let domain::drivinglog::LogEntry::Trip(trip) = &log[0] else {
        panic!("a business trip")
    };
    assert_eq!(
        trip.start.millis(),
        t0,
        "it starts where it started before the crash"
    );
    assert!((trip.km - 4.3).abs() < 0.1, "{}", trip.km);
    assert_eq!(
        trip.start_place,
        "Lager Alnabru (Strømsveien 266, 0668 Oslo)"
    );
}
