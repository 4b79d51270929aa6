//! A hostile device, slow sockets and a starved process, against the real server on port 0:
//! one bad record or a thousand slow connections must stop nobody.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::*;
use domain::{RegNo, VehicleId};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const OTHER_IMEI: &str = "356307042441013"; // BR 34567
const Y9999_MS: i64 = 253_402_300_799_000; // 9999-12-31T23:59:59Z
const Y2099_MS: i64 = 4_070_908_800_000; // 2099-01-01T00:00:00Z

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn vehicle(app: &TestApp, reg: &str) -> VehicleId {
    storage::open(app.data())
        .expect("open")
        .vehicle_id(&RegNo::parse(reg).expect("reg"))
        .expect("query")
        .expect("vehicle")
}

/// The vehicle's time on the fleet view, if it is there.
fn fleet_time(app: &TestApp, v: VehicleId) -> Option<i64> {
    app.shared
        .fleet
        .read()
        .expect("fleet")
        .snapshot()
        .into_iter()
        .find(|(id, _)| *id == v)
        .map(|(_, p)| p.time.millis())
}

/// Waits up to 5 s for the vehicle to show `t` on the fleet view.
async fn until_fleet_shows(app: &TestApp, v: VehicleId, t: i64) -> Option<i64> {
    for _ in 0..250 {
        if fleet_time(app, v) == Some(t) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    fleet_time(app, v)
}

async fn metrics(app: &TestApp) -> String {
    http(app.http, "GET", "/metrics", &[], b"")
        .await
        .expect("metrics")
        .1
}

async fn health(addr: SocketAddr) -> (u16, String) {
    http(addr, "GET", "/healthz", &[], b"")
        .await
        .expect("an answer")
}

/// `/healthz` once it answers 200, or its last answer after 3 s.
async fn healthy(addr: SocketAddr) -> (u16, String) {
    let mut answer = health(addr).await;
    for _ in 0..30 {
        if answer.0 == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        answer = health(addr).await;
    }
    answer
}

fn db(app: &TestApp) -> rusqlite::Connection {
    let c = rusqlite::Connection::open(app.data().join("sporvern.db")).expect("open db");
    c.busy_timeout(Duration::from_secs(10)).expect("busy");
    c
}

#[tokio::test]
async fn a_fix_dated_9999_is_refused_and_the_device_told_while_the_fleet_goes_on() {
    let app = spawn_app(|_| {}).await;
    let osmand_car = vehicle(&app, "EL 23456");
    let van = vehicle(&app, "EK 12345");
    let (mut dev, _) = Teltonika::login(app.teltonika, TELTONIKA_IMEI).await;

    let query = format!("/?id=123456&timestamp={Y9999_MS}&lat=59.91&lon=10.75&speed=10");
    let (status, why) = http(app.osmand, "GET", &query, &[], b"")
        .await
        .expect("an answer");
    assert_eq!(status, 400, "{why}");
    assert!(
        why.contains("9999-12-31") && why.contains("clock"),
        "the device is told what is wrong: {why}"
    );
    assert!(app.staged().is_empty(), "nothing of it is staged");

    // The other vehicle, and then the same phone with its clock right, go on.
    let t = now_ms() - 1000;
    dev.send(&frame(&[record(t, 59.91, 10.75)])).await;
    assert_eq!(dev.ack().await, Some(1));
    assert_eq!(until_fleet_shows(&app, van, t).await, Some(t));
    let good = format!(
        "/?id=123456&timestamp={}&lat=59.92&lon=10.76&speed=10",
        t / 1000
    );
    assert_eq!(
        http(app.osmand, "GET", &good, &[], b"").await.map(|r| r.0),
        Some(200)
    );
    let shown = t / 1000 * 1000;
    assert_eq!(
        until_fleet_shows(&app, osmand_car, shown).await,
        Some(shown)
    );
    assert_eq!(healthy(app.http).await.0, 200);
    let m = metrics(&app).await;
    assert!(
        m.contains(
            "sporvern_records_invalid_total{protocol=\"osmand\",reason=\"time_in_future\"} 1"
        ),
        "{m}"
    );
    assert!(
        m.contains("sporvern_records_rejected_total{protocol=\"osmand\"} 1"),
        "{m}"
    );
}

#[tokio::test]
async fn a_frame_with_a_2099_record_among_good_ones_is_acknowledged_whole_and_the_forgery_goes_nowhere()
 {
    let app = spawn_app(|_| {}).await;
    let van = vehicle(&app, "EK 12345");
    let (mut dev, _) = Teltonika::login(app.teltonika, TELTONIKA_IMEI).await;
    let t = now_ms() - 5000;
    dev.send(&frame(&[
        record(t, 59.91, 10.75),
        record(Y2099_MS, 59.95, 10.80),
        record(t + 1000, 59.911, 10.751),
    ]))
    .await;
    assert_eq!(
        dev.ack().await,
        Some(3),
        "every record of the frame is acknowledged, or the device would resend the bad one for ever"
    );
    let staged: Vec<i64> = app.staged().into_iter().map(|(_, t)| t).collect();
    assert_eq!(staged, vec![t, t + 1000], "the 2099 record is not stored");
    assert_eq!(until_fleet_shows(&app, van, t + 1000).await, Some(t + 1000));

    // The vehicle is not blinded: the next real record moves it on the map.
    dev.send(&frame(&[record(t + 2000, 59.912, 10.752)])).await;
    assert_eq!(dev.ack().await, Some(1));
    assert_eq!(until_fleet_shows(&app, van, t + 2000).await, Some(t + 2000));
    let m = metrics(&app).await;
    assert!(
        m.contains(
            "sporvern_records_invalid_total{protocol=\"teltonika\",reason=\"time_in_future\"} 1"
        ),
        "{m}"
    );
}

#[tokio::test]
async fn times_of_i64_max_zero_and_negative_and_latitude_214_are_refused() {
    let app = spawn_app(|_| {}).await;
    let (mut dev, _) = Teltonika::login(app.teltonika, TELTONIKA_IMEI).await;
    let t = now_ms() - 1000;
    let mut bad_lat = record(t - 500, 59.91, 10.75);
    bad_lat.lat = 214.0;
    let frame_bytes = frame(&[
        record(0, 59.91, 10.75),
        record(t, 59.91, 10.75),
        bad_lat,
        record(-1_000, 59.91, 10.75),
    ]);
    dev.send(&frame_bytes).await;
    assert_eq!(dev.ack().await, Some(4));
    let staged: Vec<i64> = app.staged().into_iter().map(|(_, t)| t).collect();
    assert_eq!(staged, vec![t], "only the believable record is stored");

    for (query, what) in [
        (
            format!("/?id=123456&timestamp={}&lat=59.9&lon=10.7", i64::MAX),
            "i64::MAX",
        ),
        ("/?id=123456&timestamp=0&lat=59.9&lon=10.7".to_owned(), "0"),
        (
            "/?id=123456&timestamp=-5&lat=59.9&lon=10.7".to_owned(),
            "negative",
        ),
        (
            format!("/?id=123456&timestamp={}&lat=214&lon=10.7", t / 1000),
            "lat 214",
        ),
    ] {
        let (status, body) = http(app.osmand, "GET", &query, &[], b"")
            .await
            .expect("an answer");
        assert_eq!(status, 400, "{what}: {body}");
    }
    let body = r#"{"_type":"location","lat":59.95,"lon":10.8,"tst":0}"#;
    let (status, _) = http(
        app.http,
        "POST",
        "/owntracks",
        &[("X-Limit-U", "ingrid"), ("X-Limit-D", "phone")],
        body.as_bytes(),
    )
    .await
    .expect("an answer");
    assert_eq!(status, 400);
    assert_eq!(app.staged().len(), 1);
    let m = metrics(&app).await;
    for needle in [
        // 0, and −1 s (the wire's unsigned time makes that far in the future).
        "sporvern_records_invalid_total{protocol=\"teltonika\",reason=\"time_before_protocol\"} 1",
        "sporvern_records_invalid_total{protocol=\"teltonika\",reason=\"time_in_future\"} 1",
        "sporvern_records_invalid_total{protocol=\"teltonika\",reason=\"position_out_of_range\"} 1",
        "sporvern_records_invalid_total{protocol=\"owntracks\",reason=\"time_before_protocol\"} 1",
    ] {
        assert!(m.contains(needle), "{needle} in\n{m}");
    }
}

#[tokio::test]
async fn a_staged_row_the_engine_cannot_use_is_set_aside_and_the_cursor_moves_on() {
    let app = spawn_app(|_| {}).await;
    let other = vehicle(&app, "BR 34567");
    // A 9999 fix already in staging, as a server before the edge check would have left it.
    let conn = db(&app);
    let device: i64 = conn
        .query_row(
            "SELECT id FROM device WHERE external_id = ?1",
            [TELTONIKA_IMEI],
            |r| r.get(0),
        )
        .expect("device");
    conn.execute(
        "INSERT INTO staged_fix (fix_time, device_id, received_at, lat, lon, satellites, attrs) VALUES (?1, ?2, ?3, 59.9, 10.7, 9, x'')",
        rusqlite::params![Y9999_MS, device, now_ms()],
    )
    .expect("stage");
    let (mut dev, _) = Teltonika::login(app.teltonika, OTHER_IMEI).await;
    let t = now_ms() - 1000;
    dev.send(&frame(&[record(t, 59.93, 10.9)])).await;
    assert_eq!(dev.ack().await, Some(1));
    assert_eq!(
        until_fleet_shows(&app, other, t).await,
        Some(t),
        "another vehicle is not held up"
    );
    // The fleet view moves inside the engine's round; the row set aside is written with the
    // round's commit, a moment later.
    let set_aside = || {
        conn.query_row("SELECT staged_id, reason FROM staged_set_aside", [], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })
    };
    for _ in 0..100 {
        if set_aside().is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let (id, reason) = set_aside().expect("set aside");
    assert!(reason.contains("ahead of the server clock"), "{reason}");
    // The fleet view moves inside the engine's round; its cursor with the round's commit.
    let cursor = || -> i64 {
        conn.query_row("SELECT last_staged_id FROM purpose_cursor", [], |r| {
            r.get(0)
        })
        .expect("cursor")
    };
    for _ in 0..100 {
        if cursor() > id {
            break;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    assert!(cursor() > id, "the cursor moved past the row set aside");
    // `/healthz` says ok, and names the database, the engine and what this node holds.
    let (status, body) = healthy(app.http).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.starts_with("ok\ndatabase: sqlite ok\npurpose engine: ok\nnode: embedded; engine partitions held: 16 of 16"),
        "{body}"
    );
    let m = metrics(&app).await;
    assert!(m.contains("sporvern_purpose_set_aside_total 1"), "{m}");
}

#[tokio::test]
async fn health_fails_while_the_engine_cannot_move_and_recovers() {
    let app = spawn_app(|s| s.purpose_max_lag = Duration::from_secs(1)).await;
    for _ in 0..100 {
        if health(app.http).await.0 == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(health(app.http).await.0, 200);
    // The engine's writes fail from now on (as on a broken disk for its tables only).
    let conn = db(&app);
    conn.execute_batch(
        "CREATE TRIGGER block_engine BEFORE UPDATE ON purpose_cursor BEGIN SELECT RAISE(ABORT, 'blocked by the test'); END;",
    )
    .expect("trigger");
    let (mut dev, _) = Teltonika::login(app.teltonika, TELTONIKA_IMEI).await;
    dev.send(&frame(&[record(now_ms() - 1000, 59.91, 10.75)]))
        .await;
    assert_eq!(dev.ack().await, Some(1), "devices are still acknowledged");
    let mut answer = (0, String::new());
    for _ in 0..60 {
        answer = health(app.http).await;
        if answer.0 == 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(answer.0, 503, "{answer:?}");
    assert!(answer.1.contains("purpose engine"), "{answer:?}");
    let ready = http(app.http, "GET", "/readyz", &[], b"")
        .await
        .map(|r| r.0);
    assert_eq!(ready, Some(503), "not ready either");
    let m = metrics(&app).await;
    assert!(m.contains("sporvern_purpose_backlog_rows 1"), "{m}");
    conn.execute_batch("DROP TRIGGER block_engine;")
        .expect("drop trigger");
    for _ in 0..60 {
        answer = health(app.http).await;
        if answer.0 == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(answer.0, 200, "{answer:?}");
}

/// Sends `bytes` one at a time, `gap` apart, until the server closes; returns how long the
/// connection lived.
async fn drip(addr: SocketAddr, bytes: &[u8], gap: Duration) -> Duration {
    let started = Instant::now();
    let mut s = TcpStream::connect(addr).await.expect("connect");
    for b in bytes.iter().cycle().take(200) {
        if s.write_all(&[*b]).await.is_err() {
            break;
        }
        let mut buf = [0u8; 512];
        match tokio::time::timeout(gap, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(_)) | Err(_) => {}
        }
    }
    started.elapsed()
}

#[tokio::test]
async fn dripping_connections_are_closed_at_the_first_byte_deadline() {
    let app = spawn_app(|s| {
        s.first_byte_timeout = Duration::from_millis(700);
        s.request_timeout = Duration::from_millis(900);
    })
    .await;
    let gap = Duration::from_millis(100);
    // A Teltonika login, one byte every 100 ms: 17 bytes would take 1.7 s.
    let login = codec::teltonika::encode_login(domain::Imei::parse(TELTONIKA_IMEI).expect("imei"));
    let lived = drip(app.teltonika, &login, gap).await;
    assert!(
        lived >= Duration::from_millis(600) && lived < Duration::from_millis(1500),
        "teltonika: {lived:?}"
    );
    // HTTP headers dripped to the web port and the OsmAnd port.
    let head =
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    for addr in [app.http, app.osmand] {
        let lived = drip(addr, head, gap).await;
        assert!(lived < Duration::from_millis(1500), "headers: {lived:?}");
    }
    // An OsmAnd body dripped after complete headers: the request deadline ends it.
    let started = Instant::now();
    let mut s = TcpStream::connect(app.osmand).await.expect("connect");
    s.write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n")
        .await
        .expect("head");
    let mut closed = false;
    for _ in 0..40 {
        if s.write_all(b"i").await.is_err() {
            closed = true;
            break;
        }
        let mut buf = [0u8; 512];
        if let Ok(Ok(0) | Err(_)) = tokio::time::timeout(gap, s.read(&mut buf)).await {
            closed = true;
            break;
        }
    }
    assert!(closed, "a dripping body is cut off");
    assert!(
        started.elapsed() < Duration::from_millis(2000),
        "body: {:?}",
        started.elapsed()
    );
    // An honest device still gets in.
    let (_, answer) = Teltonika::login(app.teltonika, TELTONIKA_IMEI).await;
    assert_eq!(answer, 1);
}

fn free_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr")
}

#[tokio::test]
async fn with_a_low_descriptor_limit_a_device_flood_leaves_the_web_answering() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("sporvern.toml"),
        "first_byte_timeout_secs = 120\n",
    )
    .expect("config");
    let (web, tk, osm) = (free_port(), free_port(), free_port());
    let log = dir.path().join("server.log");
    let mut child = std::process::Command::new("prlimit")
        .arg("--nofile=300:400")
        .arg(env!("CARGO_BIN_EXE_sporvern"))
        .args(["--log", "info", "--log-format", "json", "serve", "--data"])
        .arg(dir.path())
        .args(["--http", &web.to_string()])
        .args(["--teltonika", &tk.to_string()])
        .args(["--osmand", &osm.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("spawn the server under prlimit");
    let mut up = false;
    for _ in 0..200 {
        if let Ok(s) = TcpStream::connect(web).await {
            drop(s);
            if health(web).await.0 == 200 {
                up = true;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "the server came up");
    let limits =
        std::fs::read_to_string(format!("/proc/{}/limits", child.id())).unwrap_or_default();
    // 450 connections that never log in: more than the process has descriptors.
    let mut flood = Vec::new();
    for _ in 0..450 {
        if let Ok(s) = TcpStream::connect(tk).await {
            flood.push(s);
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, _) = health(web).await;
    let m = http(web, "GET", "/metrics", &[], b"")
        .await
        .expect("metrics")
        .1;
    let _ = child.kill();
    let _ = child.wait();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(status, 200, "the web answers during the flood");
    assert!(
        text.contains("raised the open-file limit") && text.contains("\"open_file_limit\":400"),
        "the soft limit is raised to the hard one: {limits}\n{text}"
    );
    // 400 − 256 reserved = 144: half to Teltonika.
    assert!(
        m.contains("sporvern_connections_open{protocol=\"teltonika\"} 72"),
        "{m}"
    );
    let refused = m
        .lines()
        .find_map(|l| l.strip_prefix("sporvern_connections_refused_total{protocol=\"teltonika\"} "))
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(0);
    assert!(refused >= 300, "{refused} refused at the cap\n{m}");
    let cap_lines = text.matches("connection cap reached").count();
    assert!(
        cap_lines < 20,
        "refusals are logged at most once a second: {cap_lines} lines"
    );
    drop(flood);
}

#[tokio::test]
async fn unknown_osmand_ids_are_rate_limited_per_source() {
    let app = spawn_app(|_| {}).await;
    let t = now_ms() / 1000;
    let mut statuses = Vec::new();
    for i in 0..25 {
        let q = format!("/?id=guess{i}&timestamp={t}&lat=59.9&lon=10.7");
        statuses.push(
            http(app.osmand, "GET", &q, &[], b"")
                .await
                .expect("answer")
                .0,
        );
    }
    assert!(statuses[..20].iter().all(|s| *s == 404), "{statuses:?}");
    assert!(statuses[20..].iter().all(|s| *s == 429), "{statuses:?}");
    // Over its allowance, the source learns nothing about a real id either.
    let q = format!("/?id=123456&timestamp={t}&lat=59.9&lon=10.7");
    assert_eq!(
        http(app.osmand, "GET", &q, &[], b"").await.map(|r| r.0),
        Some(429)
    );
}

const PASSWORD: &str = "correct horse battery staple";

fn add_api_user(app: &TestApp, name: &str) {
    let store = storage::open(app.data()).expect("open");
    let hash = access::hash_password_with(PASSWORD, access::PasswordParams::TEST).expect("hash");
    store
        .add_user(
            &storage::NewUser {
                name: name.to_owned(),
                roles: vec!["employee".to_owned()],
                employee_number: Some("1001".to_owned()),
                password_hash: Some(hash),
            },
            domain::Timestamp::from_millis(0),
        )
        .expect("user");
}

async fn api_login(app: &TestApp, name: &str, password: &str) -> u16 {
    let body = serde_json::json!({ "name": name, "password": password }).to_string();
    http(
        app.http,
        "POST",
        "/api/v1/login",
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
    .await
    .map_or(0, |r| r.0)
}

/// The web login form: (status) for `name` and `password`, with a fresh pre-login cookie.
async fn web_login(app: &TestApp, name: &str, password: &str) -> u16 {
    async fn exchange(addr: SocketAddr, req: String) -> String {
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.write_all(req.as_bytes()).await.expect("send");
        let mut out = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await;
        String::from_utf8_lossy(&out).to_string()
    }
    let page = exchange(
        app.http,
        "GET /login HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".to_owned(),
    )
    .await;
    let pre = page
        .lines()
        .filter_map(|l| l.strip_prefix("set-cookie: sporvern_prelogin="))
        .find_map(|v| v.split(';').next())
        .expect("a pre-login cookie")
        .to_owned();
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a CSRF token")
        .to_owned();
    let form = format!(
        "csrf={csrf}&name={name}&password={}",
        password.replace(' ', "+")
    );
    let answer = exchange(
        app.http,
        format!(
            "POST /login HTTP/1.1\r\nHost: t\r\nConnection: close\r\nCookie: sporvern_prelogin={pre}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
            form.len()
        ),
    )
    .await;
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn metric(m: &str, name: &str) -> u64 {
    m.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.parse().ok())
        .unwrap_or(u64::MAX)
}

#[tokio::test]
async fn a_hundred_parallel_guesses_are_throttled_and_the_right_password_waits_through_either_door()
{
    let app = spawn_app(|s| s.refusal_window = Duration::from_secs(1)).await;
    add_api_user(&app, "kari");
    let app = std::sync::Arc::new(app);
    let guesses: Vec<_> = (0..100)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move { api_login(&app, "kari", &format!("guess number {i}")).await })
        })
        .collect();
    let mut statuses = Vec::new();
    for g in guesses {
        statuses.push(g.await.expect("task"));
    }
    let wrong = statuses.iter().filter(|s| **s == 401).count();
    let held = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(
        (wrong, held),
        (access::LoginLimiter::FREE_FAILURES as usize, 95),
        "{statuses:?}"
    );
    // The right password right after, through the API and through the web form.
    assert_eq!(api_login(&app, "kari", PASSWORD).await, 429);
    assert_eq!(web_login(&app, "kari", PASSWORD).await, 429);
    let m = metrics(&app).await;
    assert_eq!(
        metric(&m, "sporvern_login_checks_total"),
        u64::from(access::LoginLimiter::FREE_FAILURES),
        "only the admitted attempts cost a password check\n{m}"
    );
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get()) as u64;
    assert!(metric(&m, "sporvern_login_checks_peak") <= cores, "{m}");

    // The flood is on the ledger, summed per source and window: a handful of entries.
    let mut entries = Vec::new();
    for _ in 0..100 {
        entries = storage::open(app.data())
            .expect("open")
            .audit_entries()
            .expect("ledger")
            .into_iter()
            .map(|e| e.entry)
            .filter(|e| e.purpose == "login" && e.actor == "anonymous from 127.0.0.1")
            .collect::<Vec<_>>();
        let counted: u64 = entries
            .iter()
            .filter_map(|e| e.object.split(' ').next()?.parse::<u64>().ok())
            .sum();
        if counted >= 102 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let counted: u64 = entries
        .iter()
        .filter_map(|e| e.object.split(' ').next()?.parse::<u64>().ok())
        .sum();
    assert!(
        counted >= 102,
        "every refused attempt is counted: {entries:?}"
    );
    assert!(
        entries.len() <= 8,
        "a bounded number of entries: {entries:?}"
    );
    assert!(
        entries
            .iter()
            .all(|e| e.object.contains("failed login attempts") && e.outcome == "refused"),
        "{entries:?}"
    );
}

#[tokio::test]
async fn an_unknown_user_costs_the_same_password_check_as_a_known_one() {
    let app = spawn_app(|_| {}).await;
    assert_eq!(
        api_login(&app, "nobody-here", "some password 123").await,
        401
    );
    let m = metrics(&app).await;
    assert_eq!(metric(&m, "sporvern_login_checks_total"), 1, "{m}");
}

fn sql(dir: &std::path::Path, script: &str) {
    let c = rusqlite::Connection::open(dir.join("sporvern.db")).expect("open");
    c.busy_timeout(Duration::from_secs(10)).expect("busy");
    c.execute_batch(script).expect("sql");
}

async fn ledger_problem(app: &TestApp, token: &str, wanted: &str) -> serde_json::Value {
    let mut verification = serde_json::Value::Null;
    for _ in 0..60 {
        let (status, body) = http(
            app.http,
            "GET",
            "/api/v1/ledger",
            &[("Authorization", &format!("Bearer {token}"))],
            b"",
        )
        .await
        .expect("answer");
        assert_eq!(status, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).expect("json");
        verification = v["verification"].clone();
        if verification["problem"]
            .as_str()
            .is_some_and(|p| p.contains(wanted))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    verification
}

#[tokio::test]
async fn a_deleted_checkpoint_folder_is_noticed_and_a_cut_ledger_still_caught() {
    let checkpoints = tempfile::tempdir().expect("tempdir");
    let dir = checkpoints.path().join("heads");
    let d = dir.clone();
    let app = spawn_app(move |s| {
        s.ledger_checkpoint_dir = d;
        s.ledger_checkpoint_every = Duration::from_millis(200);
    })
    .await;
    let pvo = user_token(&app, "pvo", "privacy_officer", None).await;
    for _ in 0..3 {
        let _ = http(
            app.http,
            "GET",
            "/api/v1/ledger",
            &[("Authorization", &format!("Bearer {pvo}"))],
            b"",
        )
        .await;
    }
    let store = storage::open(app.data()).expect("open");
    let size = store.audit_entries().expect("ledger").len();
    let head = dir.join(format!("head-{size:012}.txt"));
    for _ in 0..50 {
        if head.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(head.exists(), "a checkpoint of {size} entries");
    std::fs::remove_dir_all(&dir).expect("delete the checkpoint folder");
    let v = ledger_problem(&app, &pvo, "no longer holds the checkpoint").await;
    assert_eq!(v["intact"], false, "{v}");
    // Someone cuts the ledger and removes the checkpoints: the server's memory catches it.
    sql(
        app.data(),
        "DROP TRIGGER audit_entry_no_update; DROP TRIGGER audit_entry_no_delete; DELETE FROM audit_entry WHERE seq >= 2;",
    );
    let _ = std::fs::remove_dir_all(&dir);
    let v = ledger_problem(&app, &pvo, "tampered").await;
    assert!(
        v["problem"]
            .as_str()
            .is_some_and(|p| p.contains("tampered")),
        "{v}"
    );
}

#[tokio::test]
async fn audit_verify_uses_the_servers_newest_checkpoint_and_dropped_triggers_come_back() {
    let app = spawn_app(|s| s.ledger_checkpoint_every = Duration::from_millis(200)).await;
    let pvo = user_token(&app, "pvo", "privacy_officer", None).await;
    for _ in 0..3 {
        let _ = http(
            app.http,
            "GET",
            "/api/v1/ledger",
            &[("Authorization", &format!("Bearer {pvo}"))],
            b"",
        )
        .await;
    }
    let cps = app.data().join("ledger-checkpoints");
    let store = storage::open(app.data()).expect("open");
    let size = store.audit_entries().expect("ledger").len();
    for _ in 0..50 {
        if cps.join(format!("head-{size:012}.txt")).exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    sql(
        app.data(),
        "DROP TRIGGER audit_entry_no_update; DROP TRIGGER audit_entry_no_delete; DELETE FROM audit_entry WHERE seq >= 2;",
    );
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_sporvern"))
        .args(["audit", "verify", "--data"])
        .arg(app.data())
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success(),
        "the cut ledger fails against the server's checkpoint: {err}"
    );
    assert!(err.contains("checking against the checkpoint"), "{err}");
    // The command opened the store: the triggers are back.
    let c = rusqlite::Connection::open(app.data().join("sporvern.db")).expect("open");
    let refused = c.execute("DELETE FROM audit_entry", []);
    assert!(refused.is_err(), "the append-only trigger is restored");
}

/// Runs `sporvern ARGS` with its standard output a pipe whose reader is already gone.
fn with_closed_stdout(args: &[&str]) -> std::process::Output {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    std::process::Command::new(env!("CARGO_BIN_EXE_sporvern"))
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .args(args)
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("run")
}

#[test]
fn a_closed_standard_output_ends_a_command_quietly() {
    for args in [
        &["assess", "test_data/assess/ee_all_unknown.toml"][..],
        &[
            "decode",
            "--protocol",
            "osmand",
            "--input",
            "test_data/packets/osmand/post_json.txt",
        ],
    ] {
        let o = with_closed_stdout(args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(err.trim().is_empty(), "{args:?}: {err}");
        assert_eq!(o.status.code(), Some(141), "{args:?}: {err}");
    }
}

#[test]
fn decode_takes_a_captured_http_request_as_well_as_a_bare_body() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    for file in ["post_json.txt", "post_form.txt", "get_seconds.txt"] {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_sporvern"))
            .current_dir(root)
            .args(["decode", "--protocol", "osmand", "--input"])
            .arg(format!("test_data/packets/osmand/{file}"))
            .output()
            .expect("run");
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let v: serde_json::Value = serde_json::from_str(&out).expect("json");
        assert_eq!(
            v["records"].as_array().map(Vec::len),
            Some(1),
            "{file}: {v}"
        );
    }
}

/// What the OwnTracks app sends with encryption on: libsodium's secretbox under the passphrase.
fn encrypted(passphrase: &str, plain: &str) -> String {
    use base64::Engine;
    use crypto_secretbox::aead::{Aead, KeyInit};
    let key = server::ingest::owntracks::key_from_passphrase(passphrase);
    let nonce = [7u8; 24];
    let sealed = crypto_secretbox::XSalsa20Poly1305::new(&crypto_secretbox::Key::from(key))
        .encrypt(
            crypto_secretbox::Nonce::from_slice(&nonce),
            plain.as_bytes(),
        )
        .expect("encrypt");
    let mut data = nonce.to_vec();
    data.extend(sealed);
    serde_json::json!({
        "_type": "encrypted",
        "data": base64::engine::general_purpose::STANDARD.encode(data)
    })
    .to_string()
}

fn keys(pairs: &[(&str, &str)]) -> server::ingest::owntracks::Keys {
    server::ingest::owntracks::Keys::from_passphrases(
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect(),
    )
}

#[tokio::test]
async fn owntracks_encrypted_payloads_are_opened_with_the_devices_key_or_refused_saying_so() {
    let app = spawn_app(|s| s.owntracks_keys = keys(&[("ingrid/phone", "kjempehemmelig")])).await;
    let tst = now_ms() / 1000 - 5;
    let plain = format!(r#"{{"_type":"location","lat":59.95,"lon":10.8,"tst":{tst}}}"#);
    let post = |body: String| {
        let addr = app.http;
        async move {
            http(
                addr,
                "POST",
                "/owntracks",
                &[("X-Limit-U", "ingrid"), ("X-Limit-D", "phone")],
                body.as_bytes(),
            )
            .await
            .expect("an answer")
        }
    };
    let (status, body) = post(encrypted("kjempehemmelig", &plain)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.staged(), vec![("ingrid/phone".to_owned(), tst * 1000)]);
    let (status, body) = post(encrypted("a wrong passphrase", &plain)).await;
    assert_eq!(status, 400);
    assert!(
        body.contains("does not open with the configured key"),
        "{body}"
    );

    // A server with no key for the phone refuses it, and says what is missing.
    let bare = spawn_app(|_| {}).await;
    let (status, body) = http(
        bare.http,
        "POST",
        "/owntracks",
        &[("X-Limit-U", "ingrid"), ("X-Limit-D", "phone")],
        encrypted("kjempehemmelig", &plain).as_bytes(),
    )
    .await
    .expect("an answer");
    assert_eq!(status, 400);
    assert!(body.contains("no key is configured"), "{body}");
    assert!(bare.staged().is_empty());
    let m = metrics(&bare).await;
    assert!(
        m.contains("sporvern_records_rejected_total{protocol=\"owntracks\"} 1"),
        "{m}"
    );
}

#[tokio::test]
async fn over_mqtt_encrypted_payloads_are_stored_and_refused_ones_counted() {
    let addr = "127.0.0.1:1883";
    if std::net::TcpStream::connect_timeout(&addr.parse().expect("addr"), Duration::from_secs(1))
        .is_err()
    {
        eprintln!("SKIPPED: no MQTT broker at {addr} (start Mosquitto)");
        return;
    }
    let run = format!("sporvern-hostile-{}-{}", std::process::id(), now_ms());
    let app = spawn_app(|s| {
        s.mqtt = Some(server::ingest::owntracks_mqtt::MqttSettings {
            host: "127.0.0.1".into(),
            port: 1883,
            topic: format!("{run}/owntracks/+/+"),
            client_id: format!("{run}-server"),
        });
        s.owntracks_keys = keys(&[("ingrid/phone", "kjempehemmelig")]);
    })
    .await;
    let mut options = rumqttc::MqttOptions::new(format!("{run}-phone"), "127.0.0.1", 1883);
    options.set_keep_alive(Duration::from_secs(10));
    let (phone, mut events) = rumqttc::AsyncClient::new(options, 16);
    tokio::spawn(async move { while events.poll().await.is_ok() {} });
    tokio::time::sleep(Duration::from_millis(800)).await;
    let topic = format!("{run}/owntracks/ingrid/phone");
    let tst = now_ms() / 1000 - 5;
    let plain = format!(r#"{{"_type":"location","lat":59.95,"lon":10.8,"tst":{tst}}}"#);
    for payload in [
        encrypted("kjempehemmelig", &plain),
        "not json at all".to_owned(),
        encrypted("wrong", &plain),
    ] {
        phone
            .publish(&topic, rumqttc::QoS::AtLeastOnce, false, payload)
            .await
            .expect("publish");
    }
    let mut m = String::new();
    for _ in 0..100 {
        m = metrics(&app).await;
        if m.contains("sporvern_records_rejected_total{protocol=\"owntracks\"} 2")
            && !app.staged().is_empty()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.staged(), vec![("ingrid/phone".to_owned(), tst * 1000)]);
    assert!(
        m.contains("sporvern_records_rejected_total{protocol=\"owntracks\"} 2"),
        "{m}"
    );
}
