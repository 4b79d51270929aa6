//! Two `sporvern serve` nodes on one PostgreSQL database and one NATS server, as a national
//! fleet runs them behind a load balancer: a Teltonika unit drives on node A while a
//! dispatcher's fleet stream on node B sees it; A is killed with SIGKILL mid-trip; the unit
//! reconnects to B; the trip is completed once, no acknowledged record is lost, the ledger
//! both nodes wrote verifies, and the vehicle's partition moved to B within the lease's bound.
//!
//! Needs `SPORVERN_TEST_POSTGRES` and `SPORVERN_TEST_NATS` (`.ci/run` sets both); without
//! them it says it is skipped.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, Command};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use codec::teltonika::Record;
use common::*;

struct Node {
    child: Child,
    http: SocketAddr,
    teltonika: SocketAddr,
}

/// Starts a node: its own data folder (configuration, ledger checkpoints), the shared
/// database, NATS, and a name.
fn node(db: &TestDb, data: &std::path::Path, nats: &str, name: &str) -> Node {
    let (url, _, _) = db.postgres.as_ref().expect("a PostgreSQL test database");
    let served = serve_process(&[
        "--data".to_owned(),
        data.display().to_string(),
        "--database".to_owned(),
        url.clone(),
        "--nats-url".to_owned(),
        nats.to_owned(),
        "--node".to_owned(),
        name.to_owned(),
    ]);
    Node {
        child: served.child,
        http: served.http,
        teltonika: served.teltonika,
    }
}

/// Who holds a lease now (an unexpired one), by the database.
fn holder(url: &str, lease: &str) -> Option<String> {
    pg_query(
        url,
        &format!(
            "SELECT holder FROM engine_lease WHERE name = '{lease}' AND expires_at > (extract(epoch FROM clock_timestamp()) * 1000)::bigint"
        ),
    )
    .first()
    .map(|r| r.get(0))
}

/// Opens the fleet stream on `addr` and sends each `moved` event's data down the channel,
/// with when it arrived.
fn fleet_stream(addr: SocketAddr, token: &str) -> mpsc::Receiver<(Instant, String)> {
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "GET /api/v1/fleet/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
    )
    .expect("request");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut moved = false;
        for line in BufReader::new(s).lines().map_while(Result::ok) {
            if line.starts_with("event: moved") {
                moved = true;
            } else if let Some(data) = line.strip_prefix("data:")
                && std::mem::take(&mut moved)
                && tx.send((Instant::now(), data.trim().to_owned())).is_err()
            {
                return;
            }
        }
    });
    rx
}

#[test]
fn two_nodes_act_as_one_and_a_killed_node_loses_nothing() {
    let Some(db) = test_databases("nodes")
        .into_iter()
        .find(|d| d.postgres.is_some())
    else {
        eprintln!("nodes: skipped (set SPORVERN_TEST_POSTGRES to run it)");
        return;
    };
    let Some(nats) = std::env::var("SPORVERN_TEST_NATS")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!("nodes: skipped (set SPORVERN_TEST_NATS, e.g. nats://127.0.0.1:4222)");
        return;
    };
    let (url, _, _) = db.postgres.clone().expect("postgres");
    db.apply_example();
    let data = db.dir.path().display().to_string();
    for args in [
        &["kari", "--role", "employee", "--employee", "1001"][..],
        &["disp", "--role", "dispatcher"],
    ] {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--database", url.as_str()]);
        let o = add_user(&data, &all);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let (dir_a, dir_b) = (
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    );
    let mut a = node(&db, dir_a.path(), &nats, "node-a");
    // A takes every partition; B joins and takes its half once A gives it up.
    let started = Instant::now();
    while holder(&url, "schedule").as_deref() != Some("node-a") {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "node A takes the leases"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut b = node(&db, dir_b.path(), &nats, "node-b");
    let store = db.open();
    let vehicle = store
        .vehicle_id(&domain::RegNo::parse("EK 12345").expect("reg"))
        .expect("query")
        .expect("vehicle");
    let partition = storage::partition_lease(storage::partition_of(vehicle));
    let started = Instant::now();
    loop {
        let held: Vec<String> = pg_query(
            &url,
            "SELECT holder FROM engine_lease WHERE name LIKE 'partition/%'",
        )
        .iter()
        .map(|r| r.get(0))
        .collect();
        if held.iter().filter(|h| *h == "node-b").count() == 8
            && held.iter().filter(|h| *h == "node-a").count() == 8
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the two nodes share the partitions: {held:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        holder(&url, &partition).as_deref(),
        Some("node-a"),
        "the vehicle's partition stays with the first node"
    );

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    // A session made on node A is valid on node B.
    let token = |addr: SocketAddr, name: &'static str| {
        runtime.block_on(async move {
            let body = serde_json::json!({ "name": name, "password": "correct horse battery" })
                .to_string();
            let (status, text) = http(
                addr,
                "POST",
                "/api/v1/login",
                &[("Content-Type", "application/json")],
                body.as_bytes(),
            )
            .await
            .expect("an answer");
            assert_eq!(status, 200, "{text}");
            let v: serde_json::Value = serde_json::from_str(&text).expect("json");
            v["token"].as_str().expect("token").to_owned()
        })
    };
    let dispatcher = token(a.http, "disp");
    let get = |addr: SocketAddr, path: &str, token: String| {
        let path = path.to_owned();
        runtime.block_on(async move {
            http(
                addr,
                "GET",
                &path,
                &[("Authorization", &format!("Bearer {token}"))],
                b"",
            )
            .await
            .expect("an answer")
        })
    };
    let moved = fleet_stream(b.http, &dispatcher);

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let t0 = now - 11 * 60_000;
    let rec = |i: i64, ignition: bool| trip_record(t0, i, ignition);
    let send = |addr: SocketAddr, records: Vec<Record>| {
        runtime.block_on(async {
            let (mut dev, answer) = Teltonika::login(addr, TELTONIKA_IMEI).await;
            assert_eq!(answer, 1);
            for chunk in records.chunks(5) {
                dev.send(&frame(chunk)).await;
                assert_eq!(dev.ack().await, Some(chunk.len() as u32), "acknowledged");
            }
            Instant::now()
        })
    };

    // The first half of the trip on node A; the dispatcher on node B sees the vehicle move.
    let acked = send(a.teltonika, (0..25).map(|i| rec(i, true)).collect());
    let (seen, data) = moved
        .recv_timeout(Duration::from_secs(10))
        .expect("the dispatcher on node B sees the vehicle that reports to node A");
    assert!(data.contains("EK12345"), "{data}");
    eprintln!(
        "nodes: first position seen on node B {:?} after the last acknowledgement on node A",
        seen.saturating_duration_since(acked)
    );
    // Node A's engine consumed it (so B must rebuild the open trip, not merely process it).
    let cursor = || -> i64 {
        pg_query(
            &url,
            &format!(
                "SELECT last_staged_id FROM partition_cursor WHERE part = {}",
                storage::partition_of(vehicle)
            ),
        )
        .first()
        .map_or(0, |r| r.get(0))
    };
    let started = Instant::now();
    while cursor() < 25 && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(cursor() >= 25, "node A consumed the first half");

    // The driver reads her trips on node A (a read on the ledger, appended by node A).
    let day = trips::oslo_date(domain::Timestamp::from_millis(t0));
    let own_trips = format!(
        "/api/v1/me/trips?month={:04}-{:02}",
        day.year(),
        u8::from(day.month())
    );
    let kari = token(a.http, "kari");
    let (status, text) = get(a.http, &own_trips, kari.clone());
    assert_eq!(status, 200, "{text}");

    // Node A dies mid-trip.
    a.child.kill().expect("SIGKILL");
    let killed = Instant::now();
    a.child.wait().expect("reaped");
    let mut moved_at = None;
    while killed.elapsed() < Duration::from_secs(30) {
        if holder(&url, &partition).as_deref() == Some("node-b") {
            moved_at = Some(killed.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let moved_at = moved_at.expect("node B takes the vehicle's partition over");
    eprintln!("nodes: lease takeover after SIGKILL took {moved_at:?}");
    assert!(
        moved_at <= Duration::from_secs(10),
        "the partition moved within the 10 s bound ({moved_at:?})"
    );

    // The unit reconnects (to node B, behind the load balancer) and finishes the trip.
    let mut rest: Vec<Record> = (25..=48).map(|i| rec(i, true)).collect();
    rest.extend((49..=60).map(|i| rec(i, false)));
    send(b.teltonika, rest);
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30)
        && store
            .driving_log(&common::driver_1001(), vehicle, day, day)
            .expect("log")
            .is_empty()
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    // Give a duplicate the chance to appear before counting.
    std::thread::sleep(Duration::from_secs(2));
    let log = store
        .driving_log(&common::driver_1001(), vehicle, day, day)
        .expect("log");
    assert_eq!(log.len(), 1, "one trip, once, not two halves: {log:#?}");
    let domain::drivinglog::LogEntry::Trip(trip) = &log[0] else {
        panic!("a business trip")
    };
    assert_eq!(
        trip.start.millis(),
        t0,
        "it starts where it started on node A"
    );
    assert!((trip.km - 4.3).abs() < 0.1, "{}", trip.km);
    // Every acknowledged record is stored, once.
    let staged = db.staged();
    assert_eq!(
        staged.len(),
        61,
        "61 records sent and acknowledged, each stored once"
    );

    // Her session from node A is good on node B, and she sees the one trip there.
    let (status, trips) = get(b.http, &own_trips, kari);
    assert_eq!(status, 200, "{trips}");
    assert!(trips.contains(&trip.id.to_string()), "{trips}");

    // One ledger, written by both nodes, verifies.
    let entries = store.audit_entries().expect("ledger");
    ledger::verify(&entries).expect("the ledger both nodes appended to verifies");
    let actors: std::collections::BTreeSet<String> =
        entries.iter().map(|e| e.entry.actor.clone()).collect();
    assert!(
        actors.contains("disp") && actors.contains("kari"),
        "the logins and reads on both nodes are on it: {actors:?}"
    );

    // A clean stop (SIGTERM, as a service manager sends it) gives the node's leases up at
    // once, so another node need not wait for them to run out.
    let term = Command::new("kill")
        .args(["-TERM", &b.child.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(term.success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = b.child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "node B stops on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "a clean stop: {status:?}");
    let left: Vec<String> = pg_query(
        &url,
        "SELECT name FROM engine_lease WHERE holder = 'node-b'",
    )
    .iter()
    .map(|r| r.get(0))
    .collect();
    assert!(left.is_empty(), "node B gave its leases up: {left:?}");
}
