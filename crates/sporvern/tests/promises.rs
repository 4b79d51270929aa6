//! Every promise holds through every door. Each promise is tried through the web (a form post
//! with a session cookie and its CSRF token), the JSON API (a bearer token) and the command
//! line (the real binary on the same data folder), against the real server on port 0; each
//! door must give the same answer and leave the same ledger entry (action, object, outcome
//! and subject — the employee whose data it touches, not the actor).

mod common;

use std::time::Duration;

use common::*;
use domain::Timestamp;
use domain::changes::StepKind;
use domain::drivinglog::NewLogEntry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PASSWORD: &str = "correct horse battery staple";

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn this_month() -> String {
    let d = trips::oslo_date(Timestamp::from_millis(now_ms()));
    format!("{:04}-{:02}", d.year(), u8::from(d.month()))
}

/// A month that has ended: `back` months before this one.
fn month_ago(back: u8) -> (time::Date, String) {
    let mut d = trips::oslo_date(Timestamp::from_millis(now_ms()))
        .replace_day(1)
        .expect("1st");
    for _ in 0..back {
        d = d.previous_day().expect("day").replace_day(1).expect("1st");
    }
    let day = d.replace_day(5).expect("5th");
    (day, format!("{:04}-{:02}", d.year(), u8::from(d.month())))
}

fn vehicle(store: &dyn storage::Store, reg: &str) -> domain::VehicleId {
    store
        .vehicle_id(&domain::RegNo::parse(reg).expect("reg"))
        .expect("query")
        .expect("vehicle")
}

/// Writes trips straight into the driving log, as the purpose engine would; returns their ids
/// in order.
fn seed_trips(dir: &std::path::Path, trips: Vec<NewLogEntry>) -> Vec<i64> {
    let store = storage::open(dir).expect("open");
    let before = max_trip(dir);
    let n = trips.len() as i64;
    store
        .purpose_feed()
        .expect("feed")
        .commit(&storage::PurposeBatch {
            up_to: 0,
            entries: trips,
            deviations: vec![],
            privacy_switches: vec![],
            watermarks: vec![],
            alarms: vec![],
            utilization: vec![],
            recorded_at: Timestamp::from_millis(now_ms()),
        })
        .expect("commit");
    (before + 1..=before + n).collect()
}

fn max_trip(dir: &std::path::Path) -> i64 {
    let conn = rusqlite::Connection::open(dir.join("sporvern.db")).expect("db");
    conn.query_row("SELECT COALESCE(MAX(id), 0) FROM trip", [], |r| r.get(0))
        .expect("max")
}

fn trip(vehicle: domain::VehicleId, day: time::Date, driver: &str, hour: i64) -> NewLogEntry {
    let t = |h: i64| Timestamp::from_secs(day.midnight().assume_utc().unix_timestamp() + h * 3600);
    NewLogEntry::Trip {
        vehicle,
        date: day,
        start: t(hour),
        end: t(hour + 1),
        start_place: "Lager Alnabru".into(),
        end_place: "Kunde: Sameiet Tøyen Torg".into(),
        odometer_start_km: Some(10_000.0),
        odometer_end_km: Some(10_012.5),
        km: 12.5,
        distance_source: "odometer",
        driver: Some(driver.into()),
    }
}

/// One HTTP/1.1 request; the status, the raw head and the body.
async fn raw(
    app: &TestApp,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    let mut s = tokio::net::TcpStream::connect(app.http)
        .await
        .expect("connect");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).await.expect("send");
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut out))
        .await
        .expect("an answer in time")
        .expect("read");
    let text = String::from_utf8_lossy(&out).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status: {text:?}"));
    (status, head.to_owned(), body.to_owned())
}

fn set_cookie(head: &str, name: &str) -> Option<String> {
    head.lines()
        .filter_map(|l| {
            l.strip_prefix("set-cookie: ")
                .or_else(|| l.strip_prefix("Set-Cookie: "))
        })
        .filter_map(|c| c.split(';').next())
        .find_map(|c| c.strip_prefix(&format!("{name}=")).map(str::to_owned))
}

fn csrf_in(page: &str) -> String {
    let at = page
        .find(r#"name="csrf" value=""#)
        .unwrap_or_else(|| panic!("a CSRF field: {page}"));
    let rest = &page[at + r#"name="csrf" value=""#.len()..];
    rest[..rest.find('"').expect("end")].to_owned()
}

fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            let enc: String = v
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                        (b as char).to_string()
                    }
                    b' ' => "+".to_owned(),
                    _ => format!("%{b:02X}"),
                })
                .collect();
            format!("{k}={enc}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A logged-in browser: its session cookie and the CSRF token its pages carry.
struct Web {
    cookie: String,
    csrf: String,
}

async fn web_login(app: &TestApp, name: &str) -> Web {
    web_login_at(app, name, "/me").await
}

/// Logs in and takes the CSRF token from `page`, one the user's role may open.
async fn web_login_at(app: &TestApp, name: &str, home: &str) -> Web {
    let (_, head, page) = raw(app, "GET", "/login", &[], "").await;
    let pre = set_cookie(&head, "sporvern_prelogin").expect("prelogin cookie");
    let body = form(&[
        ("csrf", &csrf_in(&page)),
        ("name", name),
        ("password", PASSWORD),
        ("next", "/me"),
    ]);
    let cookie = format!("sporvern_prelogin={pre}");
    let (status, head, _) = raw(
        app,
        "POST",
        "/login",
        &[
            ("Cookie", &cookie),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        &body,
    )
    .await;
    assert_eq!(status, 303, "logged in: {head}");
    let session = set_cookie(&head, "sporvern_session").expect("session cookie");
    let cookie = format!("sporvern_session={session}");
    let (status, _, page) = raw(app, "GET", home, &[("Cookie", &cookie)], "").await;
    assert_eq!(status, 200, "{page}");
    Web {
        csrf: csrf_in(&page),
        cookie,
    }
}

impl Web {
    async fn post(&self, app: &TestApp, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
        let mut all = vec![("csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        let (status, _, body) = raw(
            app,
            "POST",
            path,
            &[
                ("Cookie", &self.cookie),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            &form(&all),
        )
        .await;
        (status, body)
    }
}

async fn api(app: &TestApp, token: &str, path: &str, body: &str) -> (u16, String) {
    let auth = format!("Bearer {token}");
    let (status, _, body) = raw(
        app,
        "POST",
        path,
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        body,
    )
    .await;
    (status, body)
}

/// Runs `sporvern ARGS --data DIR`; (success, stdout + stderr).
fn cli(app: &TestApp, args: &[&str]) -> (bool, String) {
    let data = app.data().to_string_lossy().to_string();
    let (head, tail) = args.split_at(2.min(args.len()));
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_sporvern"));
    cmd.args(head).args(["--data", &data]).args(tail);
    let out = cmd.output().expect("run sporvern");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// The last change on the ledger: (action, object, outcome, subject, actor).
fn last_change(app: &TestApp) -> (String, String, String, Option<String>, String) {
    let entries = storage::open(app.data())
        .expect("open")
        .audit_entries()
        .expect("ledger");
    let e = &entries
        .iter()
        .rev()
        .find(|e| e.entry.action == ledger::Action::Change)
        .expect("a change on the ledger")
        .entry;
    (
        e.action.as_str().to_owned(),
        e.object.clone(),
        e.outcome.clone(),
        e.subject.clone(),
        e.actor.clone(),
    )
}

/// How one attempt went at one door: the HTTP status (the command line: 0 for success, 1
/// for failure) and the ledger's last change.
#[derive(Debug)]
struct Seen {
    door: &'static str,
    status: u16,
    entry: (String, String, String, Option<String>, String),
    said: String,
}

struct Case {
    name: &'static str,
    web: (&'static str, Vec<(&'static str, String)>),
    api: (String, String),
    cli: Vec<String>,
    status: u16,
    /// What the outcome must start with (`ok`, or `refused: ` and the reason's start).
    outcome: &'static str,
    subject: Option<&'static str>,
}

#[tokio::test]
async fn each_promise_gives_the_same_answer_and_ledger_entry_through_every_door() {
    let app = spawn_app(|_| {}).await;
    let token = user_token(&app, "kari", "employee", Some("1001")).await;
    user_token(&app, "per", "employee", Some("1002")).await;
    let web = web_login(&app, "kari").await;
    let store = storage::open(app.data()).expect("open");
    let ek = vehicle(store.as_ref(), "EK 12345");
    let el = vehicle(store.as_ref(), "EL 23456");

    // A month approved by the keeper (two months ago), a month with an unclassified trip
    // (last month), a trip of another driver, and a trip of kari's to classify.
    let (approved_day, approved) = month_ago(2);
    let (last_day, last) = month_ago(1);
    let ids = seed_trips(
        app.data(),
        vec![
            trip(ek, approved_day, "1001", 7),
            trip(ek, last_day, "1001", 7),
            trip(el, last_day, "1002", 9),
            trip(ek, last_day, "1001", 12),
        ],
    );
    let (final_trip, pending_trip, others_trip, own_trip) = (ids[0], ids[1], ids[2], ids[3]);
    change(
        store.as_ref(),
        storage::Change::Classify {
            trip: final_trip,
            class: domain::drivinglog::Classification::Business {
                purpose: "Service".into(),
            },
        },
        "kari",
    );
    for step in [StepKind::Submitted, StepKind::Approved] {
        change(
            store.as_ref(),
            storage::Change::MonthStep {
                vehicle: ek,
                month: approved.clone(),
                step,
                comment: None,
            },
            "lars",
        );
    }

    let now_month = this_month();
    let classify_api =
        |id: i64, body: &str| (format!("/api/v1/me/trips/{id}/classify"), body.to_owned());
    let cases = vec![
        Case {
            name: "classify a trip of an approved month",
            web: (
                "trips",
                vec![("class", "private".into()), ("confirm", "yes".into())],
            ),
            api: classify_api(final_trip, r#"{"private": true}"#),
            cli: vec![
                "drivinglog".into(),
                "classify".into(),
                "--trip".into(),
                final_trip.to_string(),
                "--private".into(),
                "--as".into(),
                "kari".into(),
            ],
            status: 409,
            outcome: "refused: ",
            subject: Some("1001"),
        },
        Case {
            name: "sign the running month",
            web: ("/me/sign", vec![("month", now_month.clone())]),
            api: (
                format!("/api/v1/vehicles/EK12345/driving-log/{now_month}/sign"),
                String::new(),
            ),
            cli: [
                "drivinglog",
                "sign",
                "--vehicle",
                "EK 12345",
                "--month",
                &now_month,
                "--role",
                "driver",
                "--as",
                "kari",
            ]
            .map(String::from)
            .to_vec(),
            status: 409,
            outcome: "refused: ",
            subject: Some("1001"),
        },
        Case {
            name: "sign a month with an unclassified trip",
            web: ("/me/sign", vec![("month", last.clone())]),
            api: (
                format!("/api/v1/vehicles/EK12345/driving-log/{last}/sign"),
                String::new(),
            ),
            cli: [
                "drivinglog",
                "sign",
                "--vehicle",
                "EK 12345",
                "--month",
                &last,
                "--role",
                "driver",
                "--as",
                "kari",
            ]
            .map(String::from)
            .to_vec(),
            status: 409,
            outcome: "refused: ",
            subject: Some("1001"),
        },
        Case {
            name: "classify someone else's trip",
            web: (
                "trips",
                vec![("class", "business".into()), ("purpose", "Kunde".into())],
            ),
            api: classify_api(others_trip, r#"{"business": "Kunde"}"#),
            cli: vec![
                "drivinglog".into(),
                "classify".into(),
                "--trip".into(),
                others_trip.to_string(),
                "--business".into(),
                "Kunde".into(),
                "--as".into(),
                "kari".into(),
            ],
            status: 403,
            outcome: "refused: trip ",
            subject: Some("1002"),
        },
        Case {
            name: "privacy mode for a vehicle not yours",
            web: (
                "/me/privacy",
                vec![("on", "1".into()), ("vehicle", "EL 23456".into())],
            ),
            api: (
                "/api/v1/me/privacy".into(),
                r#"{"on": true, "vehicle": "EL 23456"}"#.into(),
            ),
            cli: ["privacy", "on", "--vehicle", "EL 23456", "--as", "kari"]
                .map(String::from)
                .to_vec(),
            status: 403,
            outcome: "refused: EL23456 is not assigned to you today",
            subject: Some("1002"),
        },
        Case {
            name: "classify an own trip as business",
            web: (
                "trips",
                vec![
                    ("class", "business".into()),
                    ("purpose", "Kunde: Tøyen".into()),
                ],
            ),
            api: classify_api(own_trip, r#"{"business": "Kunde: Tøyen"}"#),
            cli: vec![
                "drivinglog".into(),
                "classify".into(),
                "--trip".into(),
                own_trip.to_string(),
                "--business".into(),
                "Kunde: Tøyen".into(),
                "--as".into(),
                "kari".into(),
            ],
            status: 200,
            outcome: "ok",
            subject: Some("1001"),
        },
    ];
    let trip_of = |c: &Case| -> i64 {
        c.api
            .0
            .strip_prefix("/api/v1/me/trips/")
            .and_then(|r| r.split('/').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    let _ = pending_trip;

    for case in &cases {
        let mut seen = Vec::new();
        // The web: a form post with the session and its CSRF token.
        let path = match case.web.0 {
            "trips" => format!("/me/trips/{}", trip_of(case)),
            p => p.to_owned(),
        };
        let fields: Vec<(&str, &str)> = case.web.1.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, body) = web.post(&app, &path, &fields).await;
        // A change the web made redirects back to the page (303); that is its "200".
        let status = if status == 303 { 200 } else { status };
        seen.push(Seen {
            door: "web",
            status,
            entry: last_change(&app),
            said: body,
        });
        // The API.
        let (status, body) = api(&app, &token, &case.api.0, &case.api.1).await;
        seen.push(Seen {
            door: "api",
            status,
            entry: last_change(&app),
            said: body,
        });
        // The command line.
        let args: Vec<&str> = case.cli.iter().map(String::as_str).collect();
        let (ok, said) = cli(&app, &args);
        seen.push(Seen {
            door: "cli",
            status: if ok { 200 } else { case.status.max(400) },
            entry: last_change(&app),
            said,
        });

        for s in &seen {
            assert_eq!(
                s.status, case.status,
                "{}: {} answered {s:#?}",
                case.name, s.door
            );
            let (action, _, outcome, subject, actor) = &s.entry;
            assert_eq!(action, "change", "{}: {s:#?}", case.name);
            assert!(
                outcome.starts_with(case.outcome),
                "{}: {} recorded {outcome:?}",
                case.name,
                s.door
            );
            assert_eq!(
                subject.as_deref(),
                case.subject,
                "{}: {} subject",
                case.name,
                s.door
            );
            assert_eq!(actor, "kari", "{}", case.name);
        }
        // The same entry through every door: object and outcome word for word.
        for s in &seen[1..] {
            assert_eq!(
                (&s.entry.1, &s.entry.2),
                (&seen[0].entry.1, &seen[0].entry.2),
                "{}: {} and web differ",
                case.name,
                s.door
            );
        }
        // A refusal says why, in every door (the CLI's message and the API's detail name it).
        if case.status != 200 {
            let reason = seen[0].entry.2.trim_start_matches("refused: ").to_owned();
            assert!(
                seen[1].said.contains(&reason),
                "{}: the API says {:?}",
                case.name,
                seen[1].said
            );
            assert!(
                seen[2].said.contains(&reason),
                "{}: the CLI says {:?}",
                case.name,
                seen[2].said
            );
            assert!(
                seen[1].said.contains("\"detail_nb\""),
                "{}: the API says it in bokmål too",
                case.name
            );
        }
    }

    // Nothing refused changed anything: the approved month's trip is still business, the
    // other driver's trip unclassified, no privacy switch for EL 23456.
    let log = store
        .driving_log(&driver_1001(), ek, approved_day, approved_day)
        .expect("log");
    assert!(
        matches!(&log[0], domain::drivinglog::LogEntry::Trip(t) if t.classification.as_str() == "business"),
        "{log:?}"
    );
    let switches = store
        .privacy_switches(
            &capability(
                access::Role::Employee,
                access::ReadPurpose::DrivingLog,
                access::Scope::Own,
                Some("1002"),
            ),
            el,
        )
        .expect("switches");
    assert!(switches.is_empty(), "{switches:?}");
}

#[tokio::test]
async fn a_month_is_submitted_returned_with_a_comment_resubmitted_and_approved_then_final() {
    let app = spawn_app(|_| {}).await;
    let kari = user_token(&app, "kari", "employee", Some("1001")).await;
    let lars = user_token(&app, "lars", "log_keeper", None).await;
    let store = storage::open(app.data()).expect("open");
    let ek = vehicle(store.as_ref(), "EK 12345");
    let (day, month) = month_ago(1);
    let ids = seed_trips(
        app.data(),
        vec![trip(ek, day, "1001", 7), trip(ek, day, "1001", 12)],
    );
    let sign = format!("/api/v1/vehicles/EK12345/driving-log/{month}/sign");
    let back = format!("/api/v1/vehicles/EK12345/driving-log/{month}/return");
    let classify = |id: i64| format!("/api/v1/me/trips/{id}/classify");

    for id in &ids {
        let (status, body) = api(&app, &kari, &classify(*id), r#"{"business": "Service"}"#).await;
        assert_eq!(status, 200, "{body}");
    }
    // The keeper cannot approve what the driver has not submitted.
    let (status, body) = api(&app, &lars, &sign, "").await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("has not submitted"), "{body}");
    // Submitted: now the month waits for the keeper, and the driver cannot change it.
    let (status, body) = api(&app, &kari, &sign, "").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = api(&app, &kari, &classify(ids[0]), r#"{"private": true}"#).await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("submitted to the log keeper"), "{body}");
    // Returned with a comment the driver sees.
    let (status, body) = api(&app, &lars, &back, r#"{"comment": ""}"#).await;
    assert_eq!(status, 400, "a return says why: {body}");
    // (the keeper returns it on the web)
    let desk = web_login_at(&app, "lars", "/drivinglog").await;
    let (status, body) = desk
        .post(
            &app,
            "/drivinglog/return",
            &[
                ("vehicle", "EK 12345"),
                ("month", &month),
                ("comment", "Trip 2 was private"),
            ],
        )
        .await;
    assert_eq!(status, 303, "{body}");
    let auth = format!("Bearer {kari}");
    let (_, _, log) = raw(
        &app,
        "GET",
        &format!("/api/v1/vehicles/EK12345/driving-log?month={month}"),
        &[("Authorization", &auth)],
        "",
    )
    .await;
    let log: serde_json::Value = serde_json::from_str(&log).expect("json");
    let steps: Vec<&str> = log["signoffs"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["step"].as_str())
        .collect();
    assert_eq!(steps, ["submitted", "returned"], "{log}");
    assert_eq!(log["signoffs"][1]["comment"], "Trip 2 was private");
    let web = web_login(&app, "kari").await;
    let (_, _, page) = raw(
        &app,
        "GET",
        &format!("/me?month={month}"),
        &[("Cookie", &web.cookie)],
        "",
    )
    .await;
    assert!(
        page.contains("Trip 2 was private"),
        "the driver's page shows the comment"
    );
    // The driver corrects it (the web asks first, saying what private erases) and submits
    // again; the keeper approves on the command line.
    let (status, body) = web
        .post(
            &app,
            &format!("/me/trips/{}", ids[1]),
            &[("class", "private"), ("month", &month)],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("slettes dette for godt")
            && body.contains("kan ikke angres")
            && body.contains(r#"name="confirm" value="yes""#),
        "the confirmation says what is erased: {body}"
    );
    assert_eq!(
        last_change(&app).1,
        format!("driving log EK12345 {month}: return to the driver"),
        "nothing changed before the confirmation"
    );
    let (status, body) = web
        .post(
            &app,
            &format!("/me/trips/{}", ids[1]),
            &[("class", "private"), ("confirm", "yes"), ("month", &month)],
        )
        .await;
    assert_eq!(status, 303, "{body}");
    let (status, body) = web.post(&app, "/me/sign", &[("month", &month)]).await;
    assert_eq!(status, 303, "{body}");
    let (ok, said) = cli(
        &app,
        &[
            "drivinglog",
            "sign",
            "--vehicle",
            "EK 12345",
            "--month",
            &month,
            "--role",
            "keeper",
            "--as",
            "lars",
        ],
    );
    assert!(ok, "{said}");
    let review = store.month_review(ek, &month).expect("review");
    assert_eq!(
        review.iter().map(|s| s.kind).collect::<Vec<_>>(),
        [
            StepKind::Submitted,
            StepKind::Returned,
            StepKind::Submitted,
            StepKind::Approved
        ]
    );
    // Final: every door refuses any change to the month, with the reason, on the ledger.
    let (status, body) = api(&app, &kari, &classify(ids[0]), r#"{"private": true}"#).await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("final"), "{body}");
    let (status, _) = web
        .post(
            &app,
            &format!("/me/trips/{}", ids[0]),
            &[("class", "business"), ("purpose", "Other")],
        )
        .await;
    assert_eq!(status, 409);
    let (ok, said) = cli(
        &app,
        &[
            "drivinglog",
            "classify",
            "--trip",
            &ids[0].to_string(),
            "--business",
            "x",
            "--as",
            "kari",
        ],
    );
    assert!(!ok && said.contains("final"), "{said}");
    for (who, path, body) in [
        (&lars, &sign, ""),
        (&lars, &back, r#"{"comment": "late"}"#),
        (&kari, &sign, ""),
    ] {
        let (status, text) = api(&app, who, path, body).await;
        assert_eq!(status, 409, "{path}: {text}");
    }
    let (_, _, outcome, subject, _) = last_change(&app);
    assert!(
        outcome.starts_with("refused: ") && outcome.contains("final"),
        "{outcome}"
    );
    assert_eq!(subject.as_deref(), Some("1001"));
    // The database itself refuses too, whatever writes to it.
    let conn = rusqlite::Connection::open(app.data().join("sporvern.db")).expect("db");
    let err = conn
        .execute(
            "INSERT INTO trip_class (trip_id, at, by_user, class) VALUES (?1, 0, 'sql', 'private')",
            [ids[0]],
        )
        .expect_err("a final month refuses at the database too");
    assert!(err.to_string().contains("final"), "{err}");
}

fn teltonika_point(
    t: i64,
    at: (f64, f64),
    ignition: bool,
    odometer_m: u32,
) -> codec::teltonika::Record {
    use codec::teltonika::IoValue;
    codec::teltonika::Record {
        time: Timestamp::from_millis(t),
        priority: 0,
        lon: at.1,
        lat: at.0,
        altitude: 20,
        angle: 90,
        satellites: 11,
        speed_kmh: if ignition { 60 } else { 0 },
        event_io_id: 0,
        generation_type: None,
        io: vec![
            (239, IoValue::U8(u8::from(ignition))),
            (16, IoValue::U32(odometer_m)),
        ],
    }
}

fn lerp(a: (f64, f64), b: (f64, f64), f: f64) -> (f64, f64) {
    (a.0 + (b.0 - a.0) * f, a.1 + (b.1 - a.1) * f)
}

fn find(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The database file and its write-ahead log, after the log was emptied into the file.
fn files_after_checkpoint(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let conn = rusqlite::Connection::open(dir.join("sporvern.db")).expect("db");
    for _ in 0..50 {
        let busy: i64 = conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))
            .expect("checkpoint");
        if busy == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(conn);
    ["sporvern.db", "sporvern.db-wal"]
        .iter()
        .filter_map(|f| {
            std::fs::read(dir.join(f))
                .ok()
                .map(|b| ((*f).to_owned(), b))
        })
        .collect()
}

#[tokio::test]
async fn a_trip_classified_private_keeps_its_date_and_km_and_nothing_else_in_any_file() {
    let app = spawn_app(|_| {}).await;
    let kari = user_token(&app, "kari", "employee", Some("1001")).await;
    // A business trip in Drammen, then the trip that will be private, each followed by a stop.
    let a = (59.7440, 10.2045);
    let b = (59.7420, 10.1500);
    let c = (59.7470, 10.0160);
    let t0 = now_ms() - 30 * 60_000;
    let mut odo = 2_345_000u32;
    let mut records = Vec::new();
    for i in 0..6 {
        records.push(teltonika_point(t0 + i * 10_000, a, false, odo));
    }
    let mut t = t0 + 60_000;
    for (from, to) in [(a, b), (b, c)] {
        for i in 0..=36 {
            records.push(teltonika_point(
                t,
                lerp(from, to, f64::from(i) / 36.0),
                true,
                odo,
            ));
            odo += 110;
            t += 10_000;
        }
        for _ in 0..18 {
            records.push(teltonika_point(t, to, false, odo));
            t += 10_000;
        }
    }
    let (mut dev, answer) = Teltonika::login(app.teltonika, TELTONIKA_IMEI).await;
    assert_eq!(answer, 1);
    for chunk in records.chunks(20) {
        dev.send(&frame(chunk)).await;
        assert_eq!(dev.ack().await, Some(chunk.len() as u32));
    }
    let auth = format!("Bearer {kari}");
    let month = this_month();
    let trips_now = || async {
        let (_, _, body) = raw(
            &app,
            "GET",
            &format!("/api/v1/me/trips?month={month}"),
            &[("Authorization", &auth)],
            "",
        )
        .await;
        let v: serde_json::Value = serde_json::from_str(&body).expect("json");
        v["trips"].as_array().cloned().unwrap_or_default()
    };
    let mut trips = Vec::new();
    for _ in 0..300 {
        trips = trips_now().await;
        if trips.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(trips.len(), 2, "two trips: {trips:#?}");
    let errand = trips[1].clone();
    let id = errand["id"].as_i64().expect("id");
    let place = errand["to"].as_str().expect("end place").to_owned();
    let start = Timestamp::parse_rfc3339(errand["start"].as_str().expect("start")).expect("t");
    let end = Timestamp::parse_rfc3339(errand["end"].as_str().expect("end")).expect("t");
    let odometer_end = errand["odometer_end_km"].as_f64().expect("odometer");
    assert_ne!(
        place, trips[0]["to"],
        "the errand ends somewhere of its own"
    );
    // SQLite keeps a millisecond time as a 6-byte big-endian integer, a km reading as an
    // 8-byte big-endian float.
    let needles: Vec<(&str, Vec<u8>)> = vec![
        ("the end place", place.clone().into_bytes()),
        ("the start time", start.millis().to_be_bytes()[2..].to_vec()),
        ("the end time", end.millis().to_be_bytes()[2..].to_vec()),
        ("the end odometer", odometer_end.to_be_bytes().to_vec()),
    ];
    // The test can fail: before the classification the file holds them.
    let before = files_after_checkpoint(app.data());
    for (what, needle) in &needles {
        assert!(
            before.iter().any(|(_, bytes)| find(bytes, needle)),
            "{what} is in the database before"
        );
    }

    let (status, body) = api(
        &app,
        &kari,
        &format!("/api/v1/me/trips/{id}/classify"),
        r#"{"private": true}"#,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // Irreversible: it cannot become a business trip again.
    let (status, body) = api(
        &app,
        &kari,
        &format!("/api/v1/me/trips/{id}/classify"),
        r#"{"business": "Kunde"}"#,
    )
    .await;
    assert_eq!(status, 409, "{body}");

    // The driver's own copy (GDPR art. 15) shows it as date and km: all there is.
    let (_, _, body) = raw(
        &app,
        "GET",
        "/api/v1/me/data",
        &[("Authorization", &auth)],
        "",
    )
    .await;
    let data: serde_json::Value = serde_json::from_str(&body).expect("json");
    let held = data["driving_log"]["trips"]
        .as_array()
        .expect("trips")
        .iter()
        .find(|t| t["id"] == id)
        .expect("the trip is in the export")
        .clone();
    let mut keys: Vec<&str> = held
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["date", "id", "km", "type", "vehicle"], "{held}");
    assert_eq!(held["type"], "private");

    // No column holds them…
    let conn = rusqlite::Connection::open(app.data().join("sporvern.db")).expect("db");
    let row: (i64, Option<i64>, Option<String>, Option<f64>, Option<String>) = conn
        .query_row(
            "SELECT private, start_time, end_place, odometer_end_km, driver_number FROM trip WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .expect("the row stays");
    assert_eq!(row, (1, None, None, None, None));
    drop(conn);
    // …and no page of the database file nor of its write-ahead log, without compaction.
    for (file, bytes) in files_after_checkpoint(app.data()) {
        for (what, needle) in &needles {
            assert!(!find(&bytes, needle), "{what} is still in {file}");
        }
    }
}

/// Reads a server-sent event stream until `until` appears (or 10 s pass); what arrived.
async fn read_until(s: &mut tokio::net::TcpStream, seen: &mut String, until: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut chunk = [0u8; 4096];
    while !seen.contains(until) {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, s.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => seen.push_str(&String::from_utf8_lossy(&chunk[..n])),
            _ => panic!("no {until:?} in the stream: {seen}"),
        }
    }
}

fn entries_about(app: &TestApp, employee: &str) -> Vec<ledger::Entry> {
    storage::open(app.data())
        .expect("open")
        .audit_entries()
        .expect("ledger")
        .into_iter()
        .map(|s| s.entry)
        .filter(|e| {
            e.subject
                .as_deref()
                .is_some_and(|s| s.split(',').any(|n| n == employee))
        })
        .collect()
}

#[tokio::test]
async fn the_driver_sees_the_security_operators_and_the_dispatchers_views_of_their_data() {
    let app = spawn_app(|_| {}).await;
    let kari = user_token(&app, "kari", "employee", Some("1001")).await;
    let vakt = user_token(&app, "vakt", "security_operator", None).await;
    let disp = user_token(&app, "disp", "dispatcher", None).await;
    let store = storage::open(app.data()).expect("open");
    let ek = vehicle(store.as_ref(), "EK 12345");

    // The dispatcher opens the live stream before kari's van is on the map…
    let mut sse = tokio::net::TcpStream::connect(app.http)
        .await
        .expect("connect");
    sse.write_all(
        format!(
            "GET /api/v1/fleet/stream HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {disp}\r\n\r\n"
        )
        .as_bytes(),
    )
    .await
    .expect("send");
    let mut seen = String::new();
    read_until(&mut sse, &mut seen, "event: snapshot").await;
    // …then the van drives; its first position in the stream is put on kari's ledger first.
    let window = open_alarm(
        store.as_ref(),
        ek,
        Timestamp::from_millis(now_ms() - 60_000),
    );
    let (mut dev, answer) = Teltonika::login(app.teltonika, TELTONIKA_IMEI).await;
    assert_eq!(answer, 1);
    let t = now_ms() - 20_000;
    let fixes: Vec<_> = (0..3)
        .map(|i| {
            teltonika_point(
                t + i * 5_000,
                (59.92 + 0.001 * i as f64, 10.77),
                true,
                1_000_000,
            )
        })
        .collect();
    dev.send(&frame(&fixes)).await;
    assert_eq!(dev.ack().await, Some(3));
    read_until(&mut sse, &mut seen, "event: moved").await;
    let streamed = entries_about(&app, "1001")
        .into_iter()
        .filter(|e| e.actor == "disp" && e.object.contains("EK12345"))
        .count();
    assert_eq!(
        streamed, 1,
        "one entry for the van in this view, not one per position"
    );
    // More positions in the same view add nothing.
    dev.send(&frame(&[teltonika_point(
        t + 16_000,
        (59.925, 10.77),
        true,
        1_000_000,
    )]))
    .await;
    assert_eq!(dev.ack().await, Some(1));
    read_until(&mut sse, &mut seen, "59.925").await;
    drop(sse);
    assert_eq!(
        entries_about(&app, "1001")
            .iter()
            .filter(|e| e.actor == "disp" && e.object.contains("EK12345"))
            .count(),
        1
    );

    // A fresh view of the map (JSON) is one more entry for the van.
    let auth = |t: &str| format!("Bearer {t}");
    let (status, _, body) = raw(
        &app,
        "GET",
        "/api/v1/fleet",
        &[("Authorization", &auth(&disp))],
        "",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("EK12345"), "{body}");
    // The security operator reads the alarm window's positions and the list of windows.
    let (status, _, body) = raw(
        &app,
        "GET",
        &format!("/api/v1/alarms/{window}/positions"),
        &[("Authorization", &auth(&vakt))],
        "",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, _, _) = raw(
        &app,
        "GET",
        "/api/v1/alarms",
        &[("Authorization", &auth(&vakt))],
        "",
    )
    .await;
    assert_eq!(status, 200);
    // A window that does not exist is a 404, recorded as such.
    let (status, _, body) = raw(
        &app,
        "GET",
        "/api/v1/alarms/999/positions",
        &[("Authorization", &auth(&vakt))],
        "",
    )
    .await;
    assert_eq!(status, 404, "{body}");

    // Kari's own log has all of it: who, in which role, for which purpose, when.
    let (_, _, body) = raw(
        &app,
        "GET",
        "/api/v1/me/ledger",
        &[("Authorization", &auth(&kari))],
        "",
    )
    .await;
    let mine: serde_json::Value = serde_json::from_str(&body).expect("json");
    let entries = mine["entries"].as_array().expect("entries");
    let by = |actor: &str, purpose: &str, object: &str| {
        entries
            .iter()
            .filter(|e| {
                e["actor"] == actor
                    && e["purpose"] == purpose
                    && e["object"].as_str().is_some_and(|o| o.contains(object))
                    && e["at"].is_string()
            })
            .count()
    };
    assert_eq!(
        by("disp", "fleet_view", "where EK12345 is now"),
        2,
        "{mine:#}"
    );
    assert_eq!(
        by("vakt", "alarm", &format!("alarm window {window} positions")),
        1,
        "{mine:#}"
    );
    assert_eq!(by("vakt", "alarm", "alarm windows"), 1, "{mine:#}");
    assert!(entries.iter().any(|e| e["role"] == "security_operator"));
    // The access report answers her request with the same, and with the positions held.
    let pvo = user_token(&app, "pvo", "privacy_officer", None).await;
    let (status, _, body) = raw(
        &app,
        "GET",
        "/api/v1/employees/1001/access-report?reference=INN-1",
        &[("Authorization", &auth(&pvo))],
        "",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let report: serde_json::Value = serde_json::from_str(&body).expect("json");
    let windows = report["alarm"]["windows"].as_array().expect("windows");
    assert!(
        windows
            .iter()
            .any(|w| w["id"] == window && w["positions"].as_array().is_some_and(|p| !p.is_empty())),
        "the report shows the positions held in the window: {report:#}"
    );
    assert!(
        report["access_log"]
            .as_array()
            .expect("log")
            .iter()
            .any(|e| e["actor"] == "vakt"),
        "and who looked at them"
    );

    // On her page, in bokmål and in English.
    let web = web_login(&app, "kari").await;
    for (lang, role, purpose) in [
        ("nb", "Sikkerhetsvakt", "sikkerhet (alarm)"),
        ("en", "Security operator", "security (alarm)"),
    ] {
        let (_, _, page) = raw(
            &app,
            "GET",
            &format!("/me?lang={lang}"),
            &[("Cookie", &web.cookie)],
            "",
        )
        .await;
        let looked = &page[page.find("looked-h").expect("who looked")..];
        assert!(
            looked.contains("vakt") && looked.contains(role) && looked.contains(purpose),
            "{lang}: {looked}"
        );
        assert!(looked.contains("disp"), "{lang}: the dispatcher too");
    }
}

/// One request for the property test: status, content type and body (a stream: its head).
async fn probe(
    app: &TestApp,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String, String) {
    let mut s = tokio::net::TcpStream::connect(app.http)
        .await
        .expect("connect");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    )
    .into_bytes();
    for (k, v) in headers {
        req.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    req.extend_from_slice(b"\r\n");
    req.extend_from_slice(body);
    s.write_all(&req).await.expect("send");
    let mut out = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        match tokio::time::timeout(Duration::from_millis(3000), s.read(&mut chunk)).await {
            Ok(Ok(0)) | Err(_) => break,
            Ok(Ok(n)) => out.extend_from_slice(&chunk[..n]),
            Ok(Err(_)) => break,
        }
        let text = String::from_utf8_lossy(&out);
        if text.contains("\r\n\r\n") && text.to_ascii_lowercase().contains("text/event-stream") {
            break;
        }
    }
    let text = String::from_utf8_lossy(&out).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no answer to {method} {path}: {text:?}"));
    let content_type = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-type")
                .then(|| v.trim().to_owned())
        })
        .unwrap_or_default();
    (status, content_type, body.to_owned())
}

#[tokio::test]
async fn no_request_to_the_api_gets_a_5xx_or_an_error_that_is_not_problem_json() {
    use server::api::{ENDPOINTS, Method};
    let app = spawn_app(|_| {}).await;
    let day = month_ago(1).0;
    seed_trip(app.data(), day);
    let employee = user_token(&app, "kari", "employee", Some("1001")).await;
    let keeper = user_token(&app, "lars", "log_keeper", None).await;
    let officer = user_token(&app, "pvo", "privacy_officer", None).await;
    let security = user_token(&app, "vakt", "security_operator", None).await;

    // Values for each path parameter: malformed ones, and well-formed ones for what does not
    // exist (which must be 404).
    let params: &[(&str, &[&str])] = &[
        (
            "{id}",
            &["abc", "-1", "99999999999999999999", "1.5", "%00", "999999"],
        ),
        (
            "{reg}",
            &[
                "%21%21",
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                "ZZ99999",
                "EK12345",
            ],
        ),
        ("{month}", &["2026-13", "x", "20261", "2026-11"]),
        ("{number}", &["nobody", "%FF", "1001"]),
    ];
    let queries = [
        "",
        "?month=garbage&format=xml&lang=zz",
        "?role=nope",
        "?purpose=nope",
        "?purpose=timesheet_control",
        "?month=2026-11&format=pdf&reference=",
        "?subject=%27%3B--&reference=X&month=1",
        "?month=2026-02-30",
    ];
    let bodies: &[&[u8]] = &[
        b"",
        b"{",
        b"null",
        b"[]",
        br#"{"on": "yes"}"#,
        br#"{"business": 7, "private": "no"}"#,
        br#"{"business": "", "private": true}"#,
        br#"{"incident": null, "comment": ["x"]}"#,
        br#"{"name": "kari", "password": 5}"#,
        b"\xff\xfe not utf-8",
    ];
    let tokens = [
        None,
        Some("not-a-token"),
        Some(employee.as_str()),
        Some(keeper.as_str()),
        Some(officer.as_str()),
        Some(security.as_str()),
    ];

    let mut paths = Vec::new();
    for e in ENDPOINTS {
        let mut variants = vec![e.path.to_owned()];
        for (name, values) in params {
            if !e.path.contains(name) {
                continue;
            }
            variants = variants
                .iter()
                .flat_map(|p| values.iter().map(move |v| p.replace(name, v)))
                .collect();
        }
        for p in variants {
            paths.push((e.method, p));
        }
    }
    // And what is not in the table: an unknown path, a wrong method.
    paths.push((Method::Get, "/api/v1/nothing-here".to_owned()));
    paths.push((Method::Post, "/api/v1/me".to_owned()));
    paths.push((Method::Get, "/api/v1/me/privacy".to_owned()));

    let mut requests = 0;
    let mut problems = 0;
    for (method, path) in &paths {
        for (qi, query) in queries.iter().enumerate() {
            for (bi, body) in bodies.iter().enumerate() {
                // The whole product for GETs is their queries; for POSTs, their bodies.
                if (*method == Method::Get && bi > 0) || (*method == Method::Post && qi > 1) {
                    continue;
                }
                for token in tokens {
                    // Logging out with a real token would end it for the requests after.
                    if path == "/api/v1/logout" && token.is_some_and(|t| t.len() > 20) {
                        continue;
                    }
                    let auth = token.map(|t| format!("Bearer {t}"));
                    let mut headers = vec![("Content-Type", "application/json")];
                    if let Some(a) = &auth {
                        headers.push(("Authorization", a.as_str()));
                    }
                    let url = format!("{path}{query}");
                    let (status, content_type, text) =
                        probe(&app, method.as_str(), &url, &headers, body).await;
                    requests += 1;
                    let what = format!(
                        "{} {url} body {:?} token {token:?}: {status} {content_type} {text}",
                        method.as_str(),
                        String::from_utf8_lossy(body)
                    );
                    assert!(status < 500, "a 5xx: {what}");
                    if status >= 400 {
                        problems += 1;
                        assert!(
                            content_type.starts_with("application/problem+json"),
                            "not problem+json: {what}"
                        );
                        let p: serde_json::Value =
                            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {what}"));
                        assert_eq!(p["status"], status, "{what}");
                        for field in ["type", "title", "detail"] {
                            assert!(
                                p[field].as_str().is_some_and(|s| !s.is_empty()),
                                "{field} missing: {what}"
                            );
                        }
                    }
                }
            }
        }
    }
    assert!(
        requests > 1000 && problems > 900,
        "{requests} requests, {problems} problems"
    );

    // What does not exist is 404, not 409 and not 500.
    let auth = |t: &str| format!("Bearer {t}");
    for (token, method, path, body) in [
        (
            &employee,
            "POST",
            "/api/v1/me/trips/999999/classify",
            r#"{"private": true}"#,
        ),
        (
            &security,
            "POST",
            "/api/v1/alarms/999999/resolve",
            r#"{"incident": false}"#,
        ),
        (&security, "GET", "/api/v1/alarms/999999/positions", ""),
        (
            &keeper,
            "GET",
            "/api/v1/vehicles/ZZ99999/driving-log?month=2026-11",
            "",
        ),
        (
            &officer,
            "GET",
            "/api/v1/employees/9999/access-report?reference=X",
            "",
        ),
    ] {
        let a = auth(token);
        let (status, content_type, text) = probe(
            &app,
            method,
            path,
            &[("Authorization", &a), ("Content-Type", "application/json")],
            body.as_bytes(),
        )
        .await;
        assert_eq!(status, 404, "{method} {path}: {text}");
        assert!(content_type.starts_with("application/problem+json"));
    }
}

#[tokio::test]
async fn a_wrong_driver_is_corrected_by_a_supplement_through_every_door_and_never_after_approval() {
    let app = spawn_app(|_| {}).await;
    let kari = user_token(&app, "kari", "employee", Some("1001")).await;
    let lars = user_token(&app, "lars", "log_keeper", None).await;
    let store = storage::open(app.data()).expect("open");
    let ek = vehicle(store.as_ref(), "EK 12345");
    let (day, month) = month_ago(1);
    let ids = seed_trips(
        app.data(),
        vec![
            trip(ek, day, "1001", 6),
            trip(ek, day, "1001", 9),
            trip(ek, day, "1001", 12),
        ],
    );
    let web = web_login_at(&app, "lars", "/drivinglog").await;

    // The keeper on the web, the keeper through the API, kari (wrongly attributed) on the
    // command line: the same kind of entry, about both drivers.
    let (status, body) = web
        .post(
            &app,
            "/drivinglog/driver",
            &[
                ("vehicle", "EK 12345"),
                ("month", &month),
                ("trip", &ids[0].to_string()),
                ("driver", "1002"),
                ("reason", "Per drove EK 12345 that morning"),
            ],
        )
        .await;
    assert_eq!(status, 303, "{body}");
    let web_entry = last_change(&app);
    let (status, body) = api(
        &app,
        &lars,
        &format!("/api/v1/trips/{}/driver", ids[1]),
        r#"{"driver": "1002", "reason": "Per drove EK 12345 that morning"}"#,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let api_entry = last_change(&app);
    let (ok, said) = cli(
        &app,
        &[
            "drivinglog",
            "driver",
            "--trip",
            &ids[2].to_string(),
            "--driver",
            "1002",
            "--reason",
            "Per drove EK 12345 that morning",
            "--as",
            "kari",
        ],
    );
    assert!(ok, "{said}");
    let cli_entry = last_change(&app);
    for (door, e) in [
        ("web", &web_entry),
        ("api", &api_entry),
        ("cli", &cli_entry),
    ] {
        assert_eq!(e.2, "ok", "{door}: {e:?}");
        assert_eq!(
            e.3.as_deref(),
            Some("1001,1002"),
            "{door}: both drivers are told"
        );
        assert!(e.1.contains("to employee 1002"), "{door}: {e:?}");
    }

    // The recorded values and the recorded driver stay; the correction stands beside them.
    let auth = format!("Bearer {lars}");
    let (_, _, body) = raw(
        &app,
        "GET",
        &format!("/api/v1/vehicles/EK12345/driving-log?month={month}"),
        &[("Authorization", &auth)],
        "",
    )
    .await;
    let log: serde_json::Value = serde_json::from_str(&body).expect("json");
    let corrections = log["driver_corrections"].as_array().expect("corrections");
    assert_eq!(corrections.len(), 3, "{log:#}");
    assert!(
        corrections
            .iter()
            .all(|c| c["recorded_driver"] == "1001" && c["driver"] == "1002")
    );
    let conn = rusqlite::Connection::open(app.data().join("sporvern.db")).expect("db");
    let (driver, km): (String, f64) = conn
        .query_row(
            "SELECT driver_number, km FROM trip WHERE id = ?1",
            [ids[0]],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("trip");
    assert_eq!(
        (driver.as_str(), km),
        ("1001", 12.5),
        "the trip itself is unchanged"
    );
    drop(conn);
    // The trips are the right driver's now: kari may no longer classify them.
    let (status, body) = api(
        &app,
        &kari,
        &format!("/api/v1/me/trips/{}/classify", ids[0]),
        r#"{"private": true}"#,
    )
    .await;
    assert_eq!(status, 403, "{body}");
    // Someone else's trip is not the employee's to correct.
    let (ok, said) = cli(
        &app,
        &[
            "drivinglog",
            "driver",
            "--trip",
            &ids[0].to_string(),
            "--driver",
            "1003",
            "--reason",
            "x",
            "--as",
            "kari",
        ],
    );
    assert!(!ok && said.contains("not attributed to you"), "{said}");

    // After approval nothing in the month changes, a correction included.
    for step in [StepKind::Submitted, StepKind::Approved] {
        change(
            store.as_ref(),
            storage::Change::MonthStep {
                vehicle: ek,
                month: month.clone(),
                step,
                comment: None,
            },
            "lars",
        );
    }
    let (status, body) = api(
        &app,
        &lars,
        &format!("/api/v1/trips/{}/driver", ids[0]),
        r#"{"driver": "1003", "reason": "late"}"#,
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("final"), "{body}");
    let (_, _, outcome, _, _) = last_change(&app);
    assert!(outcome.starts_with("refused: "), "{outcome}");
}
