//! The whole server on either database: `sporvern migrate`, the operator's commands and
//! `sporvern serve` with `--database postgres://…` work as they do on the embedded database —
//! a device's trip reaches the driving log through the purpose engine, an employee reads it
//! over the API, the dispatcher sees the vehicle live, and the ledger verifies. On the
//! embedded database always, on PostgreSQL when `SPORVERN_TEST_POSTGRES` is set.

mod common;

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use codec::teltonika::Record;
use common::*;

fn sporvern(db: &TestDb, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sporvern"))
        .args(args)
        .args(db.args())
        .output()
        .expect("run sporvern")
}

/// `sporvern serve` on port 0; (the process, HTTP, Teltonika) from its JSON log.
fn serve(db: &TestDb) -> (Child, SocketAddr, SocketAddr) {
    let Served {
        child,
        http,
        teltonika,
        database,
    } = serve_process(&db.args());
    let expected = if db.postgres.is_some() {
        "PostgreSQL at postgres://"
    } else {
        "the embedded database in"
    };
    assert!(database.starts_with(expected), "{}: {database}", db.name());
    (child, http, teltonika)
}

#[test]
fn the_whole_server_runs_on_either_database() {
    for db in test_databases("serve") {
        the_whole_server_runs_on(&db);
    }
}

fn the_whole_server_runs_on(db: &TestDb) {
    let out = sporvern(db, &["migrate"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = if db.postgres.is_some() {
        "applied migrations 0001"
    } else {
        "schema up to date"
    };
    assert!(said.contains(expected), "{}: {said}", db.name());
    let again = sporvern(db, &["migrate"]);
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("schema up to date"),
        "{}: a second migrate changes nothing",
        db.name()
    );
    db.apply_example();
    let data = db.dir.path().display().to_string();
    for args in [
        &["kari", "--role", "employee", "--employee", "1001"][..],
        &["disp", "--role", "dispatcher"],
    ] {
        let mut all: Vec<&str> = args.to_vec();
        if let Some((url, _, _)) = &db.postgres {
            all.extend(["--database", url.as_str()]);
        }
        let o = add_user(&data, &all);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let shown = sporvern(db, &["org", "show"]);
    assert!(
        String::from_utf8_lossy(&shown.stdout).contains("12345"),
        "{}: the command line reads the same organisation",
        db.name()
    );

    let (mut child, http_addr, teltonika) = serve(db);
    if db.postgres.is_some() {
        // A second node on the same database without NATS would show a fleet view of only its
        // own vehicles: refused at start.
        let mut second = Command::new(env!("CARGO_BIN_EXE_sporvern"))
            .args([
                "serve",
                "--http",
                "127.0.0.1:0",
                "--teltonika",
                "127.0.0.1:0",
            ])
            .args(["--osmand", "127.0.0.1:0"])
            .args(db.args())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start a second sporvern");
        let started = Instant::now();
        while second.try_wait().expect("wait").is_none()
            && started.elapsed() < Duration::from_secs(30)
        {
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = second.kill();
        let out = second.wait_with_output().expect("output");
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success()
                && said.contains("another Sporvern node")
                && said.contains("several nodes need NATS"),
            "{said}"
        );
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let t0 = now - 20 * 60_000;
    let rec = |i: i64, ignition: bool| trip_record(t0, i, ignition);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let day = trips::oslo_date(domain::Timestamp::from_millis(t0));
    let month = format!("{:04}-{:02}", day.year(), u8::from(day.month()));
    let (trips, fleet) = runtime.block_on(async {
        let (mut dev, answer) = Teltonika::login(teltonika, TELTONIKA_IMEI).await;
        assert_eq!(answer, 1);
        let mut records: Vec<Record> = (0..=60).map(|i| rec(i, i <= 48)).collect();
        // Parked where the trip ended, reporting now: live on the dispatcher's map.
        let mut parked = rec(60, false);
        parked.time = domain::Timestamp::from_millis(now);
        records.push(parked);
        for chunk in records.chunks(10) {
            dev.send(&frame(chunk)).await;
            assert_eq!(dev.ack().await, Some(chunk.len() as u32), "acknowledged");
        }
        let token = |name: &'static str| async move {
            let body = serde_json::json!({ "name": name, "password": "correct horse battery" })
                .to_string();
            let (status, text) = http(
                http_addr,
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
        };
        let health = http(http_addr, "GET", "/healthz", &[], b"").await;
        let expected = format!("database: {} ok", db.name());
        assert!(
            health
                .as_ref()
                .is_some_and(|(s, b)| *s == 200 && b.contains(&expected)),
            "{health:?}"
        );
        let kari = format!("Bearer {}", token("kari").await);
        let disp = format!("Bearer {}", token("disp").await);
        let started = Instant::now();
        let mut trips = serde_json::Value::Null;
        while started.elapsed() < Duration::from_secs(20) {
            let (status, text) = http(
                http_addr,
                "GET",
                &format!("/api/v1/me/trips?month={month}"),
                &[("Authorization", kari.as_str())],
                b"",
            )
            .await
            .expect("an answer");
            assert_eq!(status, 200, "{text}");
            trips = serde_json::from_str(&text).expect("json");
            if trips["trips"].as_array().is_some_and(|t| !t.is_empty()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let (status, fleet) = http(
            http_addr,
            "GET",
            "/api/v1/fleet",
            &[("Authorization", disp.as_str())],
            b"",
        )
        .await
        .expect("an answer");
        assert_eq!(status, 200, "{fleet}");
        (trips, fleet)
    });
    // A backup while the server runs: a consistent copy on SQLite; PostgreSQL's own tools
    // on PostgreSQL, and the command says which.
    let copy = db.dir.path().join("backup.db");
    let backup = sporvern(db, &["backup", "--out", copy.to_str().expect("path")]);
    child.kill().expect("stop");
    let _ = child.wait();
    if db.postgres.is_some() {
        assert!(
            !backup.status.success() && String::from_utf8_lossy(&backup.stderr).contains("pg_dump"),
            "{}",
            String::from_utf8_lossy(&backup.stderr)
        );
    } else {
        assert!(
            backup.status.success(),
            "{}",
            String::from_utf8_lossy(&backup.stderr)
        );
        let restored = tempfile::tempdir().expect("tempdir");
        std::fs::copy(&copy, restored.path().join("sporvern.db")).expect("restore");
        let store = storage::open(restored.path()).expect("the copy opens");
        assert_eq!(
            store.audit_entries().expect("ledger").len(),
            db.open().audit_entries().expect("ledger").len(),
            "the copy holds the ledger as it was"
        );
        ledger::verify(&store.audit_entries().expect("ledger")).expect("intact");
        assert!(store.staging_stats().expect("stats").rows > 0);
    }
    let list = trips["trips"].as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 1, "{}: one trip: {trips}", db.name());
    assert_eq!(list[0]["vehicle"], "EK12345", "{}: {trips}", db.name());
    assert!(
        fleet.contains("EK12345"),
        "{}: the dispatcher sees the vehicle: {fleet}",
        db.name()
    );
    let verified = sporvern(db, &["audit", "verify"]);
    assert!(
        verified.status.success(),
        "{}: {}{}",
        db.name(),
        String::from_utf8_lossy(&verified.stdout),
        String::from_utf8_lossy(&verified.stderr)
    );
    let ledger = db.open().audit_entries().expect("ledger");
    assert!(
        ledger
            .iter()
            .any(|e| e.entry.object.contains("EK12345") || e.entry.purpose == "driving_log"),
        "{}: the reads are on the ledger: {:?}",
        db.name(),
        ledger.iter().map(|e| &e.entry.object).collect::<Vec<_>>()
    );
}
