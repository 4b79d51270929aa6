//! Shared by the integration tests: a real server on port 0 with a fresh data folder holding
//! the example organisation, and ways to look into that folder afterwards.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use codec::teltonika::{IoValue, Record};
use domain::{Imei, Timestamp};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub const EXAMPLE_ORG: &str = include_str!("../../../../examples/org.toml");
pub const TELTONIKA_IMEI: &str = "123456789012345";

pub struct TestApp {
    pub dir: tempfile::TempDir,
    pub http: SocketAddr,
    pub teltonika: SocketAddr,
    pub osmand: SocketAddr,
    pub shared: std::sync::Arc<server::purpose_worker::Shared>,
}

impl TestApp {
    pub fn data(&self) -> &Path {
        self.dir.path()
    }

    /// Rows in the staging area, as (device external id, fix time ms), straight from the
    /// database file: what a crash would leave behind.
    pub fn staged(&self) -> Vec<(String, i64)> {
        staged_in(self.dir.path())
    }
}

pub fn staged_in(dir: &Path) -> Vec<(String, i64)> {
    let conn = rusqlite::Connection::open(dir.join("sporvern.db")).expect("open db");
    let mut stmt = conn
        .prepare("SELECT d.external_id, s.fix_time FROM staged_fix s JOIN device d ON d.id = s.device_id ORDER BY s.fix_time")
        .expect("prepare");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .map(|r| r.expect("row"))
        .collect()
}

pub const EXAMPLE_REGISTER: &str = include_str!("../../../../examples/register.toml");

/// The example organisation and its compliance register (`examples/register.toml`), so the
/// demo purposes pass the compliance gate and collect.
pub fn apply_example(dir: &Path) {
    apply_example_to(storage::open(dir).expect("open store").as_ref());
}

/// The example organisation and its register, in any store.
pub fn apply_example_to(store: &dyn storage::Store) {
    let org = org::parse(EXAMPLE_ORG).expect("example parses");
    store.apply_org(&org).expect("apply");
    let (version, mut reg) = store.register().load_register().expect("load register");
    reg.sync_org(&org);
    reg.apply_str(EXAMPLE_REGISTER, &org)
        .expect("the example register applies");
    store
        .register()
        .save_register(&reg, version, Vec::new())
        .expect("save register");
}

/// Starts the real server in this process with the example organisation.
pub async fn spawn_app(adjust: impl FnOnce(&mut server::Settings)) -> TestApp {
    spawn_app_prepared(apply_example, adjust).await
}

/// Starts the real server on a fresh data folder that `prepare` has filled.
pub async fn spawn_app_prepared(
    prepare: impl FnOnce(&Path),
    adjust: impl FnOnce(&mut server::Settings),
) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    prepare(dir.path());
    let mut settings = server::Settings::for_tests(PathBuf::from(dir.path()));
    adjust(&mut settings);
    let app = server::Application::build(settings)
        .await
        .expect("server builds");
    let (http, teltonika, osmand) = (app.http_addr(), app.teltonika_addr(), app.osmand_addr());
    let shared = app.shared();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        dir,
        http,
        teltonika,
        osmand,
        shared,
    }
}

pub fn record(t_ms: i64, lat: f64, lon: f64) -> Record {
    Record {
        time: Timestamp::from_millis(t_ms),
        priority: 0,
        lon,
        lat,
        altitude: 90,
        angle: 180,
        satellites: 10,
        speed_kmh: 54,
        event_io_id: 0,
        generation_type: None,
        io: vec![
            (239, IoValue::U8(1)),
            (240, IoValue::U8(1)),
            (24, IoValue::U16(54)),
            (85, IoValue::U16(2300)),
            (89, IoValue::U8(40)),
            (16, IoValue::U32(123_456)),
        ],
    }
}

/// A logged-in Teltonika connection.
pub struct Teltonika {
    pub stream: TcpStream,
}

impl Teltonika {
    pub async fn login(addr: SocketAddr, imei: &str) -> (Teltonika, u8) {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let imei = Imei::parse(imei).expect("imei");
        stream
            .write_all(&codec::teltonika::encode_login(imei))
            .await
            .expect("send login");
        let mut answer = [0u8; 1];
        let got = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer))
            .await
            .expect("login answer in time");
        let answer = match got {
            Ok(1) => answer[0],
            _ => 0xEE, // closed without a byte
        };
        (Teltonika { stream }, answer)
    }

    pub async fn send(&mut self, frame: &[u8]) {
        self.stream.write_all(frame).await.expect("send frame");
    }

    /// The 4-byte ACK, or `None` when the server closed the connection instead.
    pub async fn ack(&mut self) -> Option<u32> {
        let mut ack = [0u8; 4];
        match tokio::time::timeout(Duration::from_secs(10), self.stream.read_exact(&mut ack)).await
        {
            Ok(Ok(_)) => Some(u32::from_be_bytes(ack)),
            Ok(Err(_)) => None,
            Err(_) => panic!("no ACK and no close within 10 s"),
        }
    }
}

pub fn frame(records: &[Record]) -> Vec<u8> {
    codec::teltonika::encode_tcp_frame(codec::teltonika::Codec::Codec8E, records).expect("encode")
}

/// One HTTP/1.1 request on a fresh connection; returns (status, body), or `None` when the
/// server closed the connection without answering.
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).await.expect("send");
    s.write_all(body).await.expect("send body");
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .expect("answer in time")
        .ok()?;
    if out.is_empty() {
        return None;
    }
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text.split(' ').nth(1)?.parse().ok()?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Some((status, body))
}

/// A capability for a test's own look at the data, through the only door there is: the policy.
pub fn capability(
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
    let grant =
        access::Policy::authorise(&user, role, purpose, scope, 0).expect("the policy allows it");
    grant.into_parts().0
}

/// What the driver of the example organisation's EK 12345 (employee 1001) sees of their trips.
pub fn driver_1001() -> access::Capability {
    capability(
        access::Role::Employee,
        access::ReadPurpose::DrivingLog,
        access::Scope::Own,
        Some("1001"),
    )
}

/// What a security operator sees: alarm windows.
pub fn security() -> access::Capability {
    capability(
        access::Role::SecurityOperator,
        access::ReadPurpose::Alarm,
        access::Scope::All,
        None,
    )
}

/// Adds a user with `sporvern user add`, the password on standard input as an operator types it.
pub fn add_user(data: &str, args: &[&str]) -> std::process::Output {
    add_user_with(data, args, "correct horse battery")
}

/// [`add_user`] with a password of the test's choosing.
pub fn add_user_with(data: &str, args: &[&str], password: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sporvern"))
        .args(["user", "add", "--data", data])
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    // A refused command may exit before it reads the password: a closed pipe is its answer.
    let _ = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{password}\n").as_bytes());
    child.wait_with_output().expect("output")
}

/// The example organisation's people as users: kari drives EK 12345 (employee 1001), lars keeps
/// the driving log, vakt is on the security desk.
pub fn add_example_users(data: &str) {
    for args in [
        &["kari", "--role", "employee", "--employee", "1001"][..],
        &["lars", "--role", "log_keeper"],
        &["vakt", "--role", "security_operator"],
    ] {
        let o = add_user(data, args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
}

/// Creates a user with one role (and an employee number) in the running app's store, logs in
/// over HTTP and returns the bearer token.
pub async fn user_token(app: &TestApp, name: &str, role: &str, employee: Option<&str>) -> String {
    const PASSWORD: &str = "correct horse battery staple";
    let store = storage::open(app.data()).expect("open");
    let hash = access::hash_password_with(PASSWORD, access::PasswordParams::TEST).expect("hash");
    store
        .add_user(
            &storage::NewUser {
                name: name.to_owned(),
                roles: vec![role.to_owned()],
                employee_number: employee.map(str::to_owned),
                password_hash: Some(hash),
            },
            Timestamp::from_millis(0),
        )
        .expect("user");
    let body = serde_json::json!({ "name": name, "password": PASSWORD }).to_string();
    let (status, text) = http(
        app.http,
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
}

/// Writes one business trip of employee 1001 in EK 12345 on `day` (07:00–08:00 UTC, Lager
/// Alnabru → Sameiet Tøyen Torg, 12.5 km, unclassified) straight into the driving log, as the
/// purpose engine would; returns the vehicle.
pub fn seed_trip(dir: &Path, day: time::Date) -> domain::VehicleId {
    let store = storage::open(dir).expect("open");
    let vehicle = store
        .vehicle_id(&domain::RegNo::parse("EK 12345").expect("reg"))
        .expect("query")
        .expect("vehicle");
    let t = |h: i64| Timestamp::from_secs(day.midnight().assume_utc().unix_timestamp() + h * 3600);
    store
        .purpose_feed()
        .expect("feed")
        .commit(&storage::PurposeBatch {
            up_to: 0,
            entries: vec![domain::drivinglog::NewLogEntry::Trip {
                vehicle,
                date: day,
                start: t(7),
                end: t(8),
                start_place: "Lager Alnabru".into(),
                end_place: "Kunde: Sameiet Tøyen Torg".into(),
                odometer_start_km: Some(10_000.0),
                odometer_end_km: Some(10_012.5),
                km: 12.5,
                distance_source: "odometer",
                driver: Some("1001".into()),
            }],
            deviations: vec![],
            privacy_switches: vec![],
            watermarks: vec![],
            alarms: vec![],
            utilization: vec![],
            recorded_at: t(9),
        })
        .expect("commit");
    vehicle
}

/// A fresh database for one test: always a data folder (the embedded database, the
/// configuration, the ledger's checkpoints), and a fresh PostgreSQL schema when the test runs
/// against PostgreSQL ([`test_databases`]). The schema is dropped afterwards.
pub struct TestDb {
    pub dir: tempfile::TempDir,
    /// (the URL with the schema as search path, the URL as given, the schema)
    pub postgres: Option<(String, String, String)>,
}

impl TestDb {
    pub fn name(&self) -> &'static str {
        if self.postgres.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    }

    pub fn open(&self) -> Box<dyn storage::Store> {
        match &self.postgres {
            Some((url, _, _)) => storage_postgres::open(url).expect("open PostgreSQL"),
            None => storage::open(self.dir.path()).expect("open SQLite"),
        }
    }

    /// `--data DIR` and, on PostgreSQL, `--database URL`: for `sporvern serve` and friends.
    pub fn args(&self) -> Vec<String> {
        let mut out = vec!["--data".to_owned(), self.dir.path().display().to_string()];
        if let Some((url, _, _)) = &self.postgres {
            out.extend(["--database".to_owned(), url.clone()]);
        }
        out
    }

    /// The example organisation and register, as [`apply_example`] does for a folder.
    pub fn apply_example(&self) {
        apply_example_to(self.open().as_ref());
    }

    /// Rows in the staging area as (device external id, fix time ms), read around the store.
    pub fn staged(&self) -> Vec<(String, i64)> {
        match &self.postgres {
            None => staged_in(self.dir.path()),
            Some((url, _, _)) => pg_query(
                url,
                "SELECT d.external_id, s.fix_time FROM staged_fix s JOIN device d ON d.id = s.device_id ORDER BY s.fix_time",
            )
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect(),
        }
    }

    /// The purpose engine's cursor over staging, read around the store.
    pub fn cursor(&self) -> i64 {
        match &self.postgres {
            None => rusqlite::Connection::open(self.dir.path().join("sporvern.db"))
                .and_then(|c| {
                    c.query_row("SELECT last_staged_id FROM purpose_cursor", [], |r| {
                        r.get(0)
                    })
                })
                .unwrap_or(0),
            Some((url, _, _)) => pg_query(url, "SELECT last_staged_id FROM purpose_cursor")
                .first()
                .map_or(0, |r| r.get(0)),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((_, base, schema)) = &self.postgres {
            pg_query(base, &format!("DROP SCHEMA {schema} CASCADE"));
        }
    }
}

/// Runs one statement on PostgreSQL outside the store (as a test looks around it).
pub fn pg_query(url: &str, sql: &str) -> Vec<tokio_postgres::Row> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .expect("connect to PostgreSQL");
        tokio::spawn(conn);
        client.query(sql, &[]).await.expect("query")
    })
}

/// The databases a test runs on: the embedded one always, and PostgreSQL when
/// `SPORVERN_TEST_POSTGRES` names one (`postgres://root@127.0.0.1:5432/test`); without it
/// the test says that it skipped PostgreSQL.
pub fn test_databases(test: &str) -> Vec<TestDb> {
    let mut out = vec![TestDb {
        dir: tempfile::tempdir().expect("tempdir"),
        postgres: None,
    }];
    match std::env::var("SPORVERN_TEST_POSTGRES") {
        Ok(base) if !base.is_empty() => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            let schema = format!("it_{test}_{}_{nanos}", std::process::id());
            let url = storage_postgres::create_schema(&base, &schema).expect(
                "SPORVERN_TEST_POSTGRES names a PostgreSQL that lets this test make a schema",
            );
            out.push(TestDb {
                dir: tempfile::tempdir().expect("tempdir"),
                postgres: Some((url, base, schema)),
            });
        }
        _ => eprintln!("{test}: PostgreSQL skipped (set SPORVERN_TEST_POSTGRES to run it too)"),
    }
    out
}

/// Makes a change straight in the store, as the changes door does after its rule allowed it
/// (with a ledger entry by `actor`): for tests that set the scene rather than test the door.
pub fn change(
    store: &dyn storage::Store,
    change: storage::Change,
    actor: &str,
) -> storage::Applied {
    let now = Timestamp::from_millis(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64),
    );
    change_at(store, change, actor, now)
}

/// [`change`] made at `at`.
pub fn change_at(
    store: &dyn storage::Store,
    change: storage::Change,
    actor: &str,
    at: Timestamp,
) -> storage::Applied {
    store
        .apply_change(
            &change,
            storage::AuditRecord {
                at,
                actor: actor.to_owned(),
                role: "test".to_owned(),
                purpose: "test".to_owned(),
                subject: None,
                action: ledger::Action::Change,
                object: format!("test set-up: {change:?}"),
                outcome: "ok".to_owned(),
            },
        )
        .expect("the change applies")
}

/// Opens an alarm window for `vehicle` at `at` (as a reported theft would); returns its id.
pub fn open_alarm(store: &dyn storage::Store, vehicle: domain::VehicleId, at: Timestamp) -> i64 {
    match change_at(
        store,
        storage::Change::OpenAlarm {
            vehicle,
            report: storage::AlarmReport {
                trigger: "theft".to_owned(),
                reference: None,
                by: "vakt".to_owned(),
            },
        },
        "vakt",
        at,
    ) {
        storage::Applied::AlarmWindow(w) => w,
        storage::Applied::Done => panic!("no window"),
    }
}

/// Record `i` of the test trip from Lager Alnabru towards the centre (4.3 km): 10 s apart from
/// `t0` (ms), the unit's odometer counting 90 m a record, arriving at record 48 and parked
/// after it. `ignition` as the caller says.
pub fn trip_record(t0: i64, i: i64, ignition: bool) -> Record {
    let (a, b) = ((59.9275, 10.8452), (59.9155, 10.7725));
    let f = (i.min(48) as f64) / 48.0;
    Record {
        time: domain::Timestamp::from_millis(t0 + i * 10_000),
        priority: 0,
        lat: a.0 + (b.0 - a.0) * f,
        lon: a.1 + (b.1 - a.1) * f,
        altitude: 50,
        angle: 250,
        satellites: 10,
        speed_kmh: 40,
        event_io_id: 0,
        generation_type: None,
        io: vec![
            (239, IoValue::U8(u8::from(ignition))),
            (16, IoValue::U32(500_000 + (i.min(48) as u32) * 90)),
        ],
    }
}

/// A `sporvern serve` process on port 0, as it said where it listens.
pub struct Served {
    pub child: std::process::Child,
    pub http: SocketAddr,
    pub teltonika: SocketAddr,
    /// Where it keeps the data, as its log names it (never a password).
    pub database: String,
}

/// Starts `sporvern serve` with `args` (data folder, database …) on port 0 and reads the
/// bound ports from its JSON log.
pub fn serve_process(args: &[String]) -> Served {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_sporvern"))
        .args(["--log-format", "json", "serve"])
        .args(args)
        .args([
            "--http",
            "127.0.0.1:0",
            "--teltonika",
            "127.0.0.1:0",
            "--osmand",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sporvern");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // Read to the end, so the server never blocks on a full pipe.
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line)
                && v["fields"]["message"] == "sporvern is listening"
            {
                let f = &v["fields"];
                let field = |k: &str| f[k].as_str().unwrap_or_default().to_owned();
                let _ = tx.send((field("http"), field("teltonika"), field("database")));
            }
        }
    });
    let (http, teltonika, database) = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the server says where it listens");
    Served {
        child,
        http: http.parse().expect("an address"),
        teltonika: teltonika.parse().expect("an address"),
        database,
    }
}
