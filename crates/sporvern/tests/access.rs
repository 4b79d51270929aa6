//! Access control over real HTTP. The authorisation matrix is generated from the two tables
//! that decide it — the policy (`access::Policy::table`) and the API's endpoints
//! (`server::api::ENDPOINTS`) — so a new role, purpose or endpoint is covered without anyone
//! writing a test for it. Every request is also checked to have written exactly one ledger
//! entry: the read (or change) when allowed, the refused attempt when not.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use access::{Policy, ReadPurpose, Role, Rule, Scope};
use common::*;
use server::api::{ENDPOINTS, Method, Op, Reach};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Sends a request and returns the status and as much of the body as arrives before the
/// server closes or goes quiet (the fleet stream never ends by itself).
async fn request(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    body: &str,
) -> (u16, Vec<u8>) {
    let mut s = tokio::net::TcpStream::connect(app.http)
        .await
        .expect("connect");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.expect("send");
    let mut out = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        match tokio::time::timeout(Duration::from_millis(1500), s.read(&mut chunk)).await {
            Ok(Ok(0)) | Err(_) => break,
            Ok(Ok(n)) => out.extend_from_slice(&chunk[..n]),
            Ok(Err(e)) => panic!("read: {e}"),
        }
        // A stream: the headers and the first event are enough.
        if out.windows(4).any(|w| w == b"\r\n\r\n") && out.starts_with(b"HTTP/1.1 200") {
            let head = String::from_utf8_lossy(&out);
            if head.contains("text/event-stream") && head.contains("event: snapshot") {
                break;
            }
        }
    }
    let text = String::from_utf8_lossy(&out);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status for {method} {path}: {text:?}"));
    let body = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| out[i + 4..].to_vec())
        .unwrap_or_default();
    (status, body)
}

/// One of the employee 1001's trips, and an open alarm window, so that allowed requests have
/// something real to read and change.
fn seed(app: &TestApp) -> (i64, i64) {
    let day = time::Date::from_calendar_date(2026, time::Month::November, 2).expect("date");
    let vehicle = seed_trip(app.data(), day);
    let at = domain::Timestamp::from_secs(day.midnight().assume_utc().unix_timestamp() + 36_000);
    let window = open_alarm(
        storage::open(app.data()).expect("open").as_ref(),
        vehicle,
        at,
    );
    (1, window)
}

fn ledger_len(app: &TestApp) -> usize {
    storage::open(app.data())
        .expect("open")
        .audit_entries()
        .expect("ledger")
        .len()
}

/// The scope an endpoint asks for when `role` calls it.
fn scope(reach: Reach, role: Role) -> Scope {
    match reach {
        Reach::Own => Scope::Own,
        Reach::Vehicle if role == Role::Employee => Scope::Own,
        Reach::Vehicle => Scope::Vehicle("EK12345".to_owned()),
        Reach::AccessRequest => Scope::AccessRequest {
            employee: "1001".to_owned(),
            reference: "INN-7".to_owned(),
        },
        Reach::All | Reach::None => Scope::All,
    }
}

/// What the policy table says about one cell.
fn allowed(role: Role, purpose: ReadPurpose, scope: &Scope) -> bool {
    match Policy::cell(role, purpose).rule {
        Rule::Allowed { scope: rule, .. } => rule.accepts(scope),
        Rule::Denied | Rule::Incompatible => false,
    }
}

fn path(template: &str, trip: i64, window: i64) -> String {
    template
        .replace("{number}", "1001")
        .replace("{reg}", "EK12345")
        .replace("{month}", "2026-11")
        .replace(
            "{id}",
            &if template.contains("trips") {
                trip
            } else {
                window
            }
            .to_string(),
        )
}

#[tokio::test]
async fn every_role_endpoint_and_purpose_is_allowed_or_refused_as_the_policy_table_says() {
    let app = spawn_app(|_| {}).await;
    let (trip, window) = seed(&app);
    let mut tokens = HashMap::new();
    for role in Role::ALL {
        let employee = (role == Role::Employee).then_some("1001");
        tokens.insert(
            role,
            user_token(&app, role.as_str(), role.as_str(), employee).await,
        );
    }

    let mut cells = 0;
    for e in ENDPOINTS {
        let Some(natural) = e.purpose else { continue };
        let purposes = match e.method {
            Method::Get => server::reads::declarable(natural),
            Method::Post => vec![natural],
        };
        for role in Role::ALL {
            for &purpose in &purposes {
                let expect = allowed(role, purpose, &scope(e.reach, role));
                let mut url = path(e.path, trip, window);
                if e.method == Method::Get {
                    url.push_str(&format!(
                        "?purpose={}&month=2026-11&reference=INN-7",
                        purpose.as_str()
                    ));
                }
                let body = match e.op {
                    Op::Classify => r#"{"business": "Service"}"#,
                    Op::Privacy => r#"{"on": true}"#,
                    Op::ResolveAlarm => r#"{"incident": false, "note": "checked with the driver"}"#,
                    Op::ReturnMonth => r#"{"comment": "trip 1 needs a purpose"}"#,
                    Op::CorrectDriver => r#"{"driver": "1002", "reason": "swapped vans"}"#,
                    _ => "",
                };
                let before = ledger_len(&app);
                let (status, text) =
                    request(&app, e.method.as_str(), &url, &tokens[&role], body).await;
                let what = format!(
                    "{} {} as {role} for {purpose}: {status} {}",
                    e.method.as_str(),
                    e.path,
                    String::from_utf8_lossy(&text)
                );
                // A change the policy allows may still be refused by its rule (the changes
                // door): a month not submitted yet, already approved. That is a 409, and the
                // ledger says "refused" with the reason.
                let ruled_out = expect && e.method == Method::Post && status == 409;
                if expect && !ruled_out {
                    assert_eq!(status, 200, "allowed by the table: {what}");
                } else if !expect {
                    assert_eq!(status, 403, "refused by the table: {what}");
                    let problem: serde_json::Value =
                        serde_json::from_slice(&text).expect("a problem document");
                    assert!(
                        problem["detail"]
                            .as_str()
                            .is_some_and(|d| d.contains("recorded"))
                            && problem["citation"].is_string(),
                        "the refusal says why, with its source: {what}"
                    );
                }
                let entries = storage::open(app.data())
                    .expect("open")
                    .audit_entries()
                    .expect("ledger");
                assert_eq!(
                    entries.len(),
                    before + 1,
                    "exactly one ledger entry: {what}"
                );
                let entry = &entries[before].entry;
                assert_eq!(entry.actor, role.as_str(), "{what}");
                assert_eq!(entry.purpose, purpose.as_str(), "{what}");
                let action = entry.action.as_str();
                match (expect, e.method) {
                    (true, Method::Get) => {
                        assert!(action == "read" || action == "export", "{action}: {what}");
                    }
                    (true, Method::Post) => {
                        assert_eq!(action, "change", "{what}");
                        if ruled_out {
                            assert!(entry.outcome.starts_with("refused: "), "{what}");
                        } else {
                            assert_eq!(entry.outcome, "ok", "{what}");
                        }
                    }
                    (false, _) => assert_eq!(action, "denied", "{what}"),
                }
                cells += 1;
            }
        }
    }
    assert!(cells > 200, "the matrix covered {cells} cells");
}

#[tokio::test]
async fn the_log_keeper_sees_an_unclassified_trip_as_date_and_km_and_the_driver_sees_it_whole() {
    let app = spawn_app(|_| {}).await;
    seed(&app);
    let keeper = user_token(&app, "lars", "log_keeper", None).await;
    let driver = user_token(&app, "kari", "employee", Some("1001")).await;
    let (status, body) = request(
        &app,
        "GET",
        "/api/v1/vehicles/EK12345/driving-log?month=2026-11",
        &keeper,
        "",
    )
    .await;
    assert_eq!(status, 200);
    let log: serde_json::Value = serde_json::from_slice(&body).expect("json");
    let trip = &log["entries"][0];
    assert_eq!(trip["type"], "unclassified");
    assert_eq!(
        trip.as_object().map(|o| o.len()),
        Some(4),
        "id, type, date and km only: {trip}"
    );
    let (_, body) = request(&app, "GET", "/api/v1/me/trips?month=2026-11", &driver, "").await;
    let mine: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(mine["trips"][0]["from"], "Lager Alnabru", "{mine}");

    // Once the driver has classified it as business, the keeper sees the trip.
    let (status, _) = request(
        &app,
        "POST",
        "/api/v1/me/trips/1/classify",
        &driver,
        r#"{"business": "Service, Tøyen Torg"}"#,
    )
    .await;
    assert_eq!(status, 200);
    let (_, body) = request(
        &app,
        "GET",
        "/api/v1/vehicles/EK12345/driving-log?month=2026-11",
        &keeper,
        "",
    )
    .await;
    let log: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(log["entries"][0]["purpose"], "Service, Tøyen Torg", "{log}");

    // The driver finds the keeper's reads in their own ledger view.
    let (_, body) = request(&app, "GET", "/api/v1/me/ledger", &driver, "").await;
    let ledger: serde_json::Value = serde_json::from_slice(&body).expect("json");
    let keeper_reads = ledger["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["actor"] == "lars" && e["purpose"] == "driving_log")
        .count();
    assert_eq!(keeper_reads, 2, "{ledger}");
}

#[tokio::test]
async fn a_timesheet_check_is_refused_with_its_reason_and_recorded() {
    let app = spawn_app(|_| {}).await;
    let keeper = user_token(&app, "lars", "log_keeper", None).await;
    let (status, body) = request(
        &app,
        "GET",
        "/api/v1/vehicles/EK12345/driving-log?month=2026-11&purpose=timesheet_control",
        &keeper,
        "",
    )
    .await;
    assert_eq!(status, 403);
    let problem: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(problem["kind"], "incompatible_purpose");
    assert!(
        problem["citation"]
            .as_str()
            .is_some_and(|c| c.contains("PVN-2011-04")),
        "{problem}"
    );
    assert!(
        problem["detail_nb"]
            .as_str()
            .is_some_and(|d| d.contains("timelister")),
        "{problem}"
    );
    let entries = storage::open(app.data())
        .expect("open")
        .audit_entries()
        .expect("ledger");
    let last = &entries.last().expect("an entry").entry;
    assert_eq!(
        (
            last.actor.as_str(),
            last.purpose.as_str(),
            last.action.as_str()
        ),
        ("lars", "timesheet_control", "denied")
    );
    assert_eq!(
        last.subject.as_deref(),
        Some("1001"),
        "whose data it was: the driver that month"
    );
}

#[tokio::test]
async fn expired_and_revoked_tokens_are_refused() {
    let app = spawn_app(|_| {}).await;
    let token = user_token(&app, "kari", "employee", Some("1001")).await;
    let (status, _) = request(&app, "GET", "/api/v1/me", &token, "").await;
    assert_eq!(status, 200);
    let (status, _) = request(&app, "POST", "/api/v1/logout", &token, "").await;
    assert_eq!(status, 200);
    let (status, body) = request(&app, "GET", "/api/v1/me", &token, "").await;
    assert_eq!(
        status,
        401,
        "a revoked token: {}",
        String::from_utf8_lossy(&body)
    );

    // A token past its expiry, stored as login would have stored it.
    let (expired, hash) = access::new_token();
    let store = storage::open(app.data()).expect("open");
    let now = server::ingest::now().millis();
    store
        .add_token(
            &hash.to_hex(),
            "kari",
            domain::Timestamp::from_millis(now - 1),
            domain::Timestamp::from_millis(now - server::api::TOKEN_LIFETIME_MS),
        )
        .expect("token");
    let (status, _) = request(&app, "GET", "/api/v1/me", &expired, "").await;
    assert_eq!(status, 401, "an expired token");
    // A new password revokes every token.
    let fresh = {
        let body = r#"{"name": "kari", "password": "correct horse battery staple"}"#;
        let (_, b) = request(&app, "POST", "/api/v1/login", "", body).await;
        let v: serde_json::Value = serde_json::from_slice(&b).expect("json");
        v["token"].as_str().expect("token").to_owned()
    };
    store
        .set_password_hash(
            "kari",
            &access::hash_password_with("another good password", access::PasswordParams::TEST)
                .expect("hash"),
        )
        .expect("set");
    let (status, _) = request(&app, "GET", "/api/v1/me", &fresh, "").await;
    assert_eq!(status, 401, "tokens end with a password change");
}

#[tokio::test]
async fn the_openapi_document_lists_every_endpoint_the_router_serves() {
    let app = spawn_app(|_| {}).await;
    let (status, body) = request(&app, "GET", "/api/v1/openapi.json", "", "").await;
    assert_eq!(status, 200);
    let doc: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(doc["openapi"], "3.0.3");
    for e in ENDPOINTS {
        let op = &doc["paths"][e.path][e.method.as_str().to_lowercase()];
        assert!(
            op["summary"].is_string(),
            "{} {} documented",
            e.method.as_str(),
            e.path
        );
        // And the router serves it: not a 404 from the fallback.
        let (status, _) = request(&app, e.method.as_str(), &path(e.path, 1, 1), "", "").await;
        assert_ne!(status, 404, "{} {} is routed", e.method.as_str(), e.path);
    }
}

#[tokio::test]
async fn an_employee_downloads_everything_held_about_them_as_a_zip() {
    let app = spawn_app(|_| {}).await;
    seed(&app);
    let driver = user_token(&app, "kari", "employee", Some("1001")).await;
    let (status, body) = request(&app, "GET", "/api/v1/me/export.zip", &driver, "").await;
    assert_eq!(status, 200);
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(body)).expect("a zip");
    let mut names: Vec<String> = zip.file_names().map(str::to_owned).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "README.txt",
            "access-log.csv",
            "mine-data.json",
            "trips.csv"
        ]
    );
    let mut json = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("mine-data.json").expect("json"), &mut json)
        .expect("read");
    let data: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(data["employee"]["number"], "1001");
    assert_eq!(data["driving_log"]["trips"][0]["from"], "Lager Alnabru");
    let mut trips = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("trips.csv").expect("csv"), &mut trips)
        .expect("read");
    assert!(
        trips.contains("EK12345,1,unclassified,2026-11-02"),
        "{trips}"
    );
    let ledger = storage::open(app.data())
        .expect("open")
        .audit_entries()
        .expect("ledger");
    let last = &ledger.last().expect("entry").entry;
    assert_eq!(
        (last.action.as_str(), last.purpose.as_str()),
        ("export", "own_data")
    );
}

#[tokio::test]
async fn the_privacy_officer_reads_the_register_with_each_purposes_gate_but_no_tracking_data() {
    let app = spawn_app(|_| {}).await;
    let pvo = user_token(&app, "pvo", "privacy_officer", None).await;
    let (status, body) = request(&app, "GET", "/api/v1/register/measures", &pvo, "").await;
    assert_eq!(status, 200);
    let reg: serde_json::Value = serde_json::from_slice(&body).expect("json");
    let log = reg["measures"]
        .as_array()
        .expect("measures")
        .iter()
        .find(|m| m["purpose"] == "driving_log")
        .expect("the driving log's measure");
    assert_eq!(
        log["may_collect"], true,
        "the example register is complete: {log}"
    );
    let (status, _) = request(
        &app,
        "GET",
        "/api/v1/vehicles/EK12345/driving-log?month=2026-11",
        &pvo,
        "",
    )
    .await;
    assert_eq!(status, 403, "the privacy officer sees no tracking data");
}

#[tokio::test]
async fn the_privacy_officer_answers_an_access_request_and_the_employee_sees_it_was_done() {
    let app = spawn_app(|_| {}).await;
    seed(&app);
    let pvo = user_token(&app, "pvo", "privacy_officer", None).await;
    let driver = user_token(&app, "kari", "employee", Some("1001")).await;
    let (status, _) = request(
        &app,
        "GET",
        "/api/v1/employees/1001/access-report",
        &pvo,
        "",
    )
    .await;
    assert_eq!(status, 400, "an access report names the request it answers");
    let (status, body) = request(
        &app,
        "GET",
        "/api/v1/employees/1001/access-report?reference=INN-2026-7",
        &pvo,
        "",
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let report: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(report["employee"]["number"], "1001");
    assert_eq!(report["access_request"], "INN-2026-7");
    assert_eq!(report["driving_log"]["trips"][0]["from"], "Lager Alnabru");
    // The same report is the employee's own: what they would download themselves.
    let (_, own) = request(&app, "GET", "/api/v1/me/data", &driver, "").await;
    let own: serde_json::Value = serde_json::from_slice(&own).expect("json");
    assert_eq!(own["driving_log"], report["driving_log"]);
    // And they see who produced it, and why.
    let (_, body) = request(&app, "GET", "/api/v1/me/ledger", &driver, "").await;
    let ledger: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert!(
        ledger["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .any(|e| e["actor"] == "pvo"
                && e["object"]
                    .as_str()
                    .is_some_and(|o| o.contains("INN-2026-7"))),
        "{ledger}"
    );
    // The privacy officer still reads no driving log by vehicle.
    let (status, _) = request(
        &app,
        "GET",
        "/api/v1/vehicles/EK12345/driving-log?month=2026-11",
        &pvo,
        "",
    )
    .await;
    assert_eq!(status, 403);
}
