//! Automatic classification through the real server: a Teltonika van drives a holiday, a
//! working day with a customer visit and a privacy-mode errand, and an evening errand; the
//! organisation's rules (examples/org.toml, plus a holiday) propose a class for each trip the
//! driver has not classified, privacy mode is never proposed anything, the driver overrides one
//! proposal, and the log keeper's follow-up lists (date and km only) follow.

mod common;

use std::time::Duration;

use codec::teltonika::{IoValue, Record};
use common::*;
use domain::Timestamp;
use serde_json::Value;

const DEPOT: (f64, f64) = (59.9275, 10.8452); // Lager Alnabru
const OFFICE: (f64, f64) = (59.9296, 10.7155); // Kontor Majorstuen
const CUSTOMER: (f64, f64) = (59.9155, 10.7725); // Kunde: Sameiet Tøyen Torg
const LOKKA: (f64, f64) = (59.9230, 10.7590); // no site

fn record(t: i64, at: (f64, f64), ignition: bool, odometer_m: u32, private: bool) -> Record {
    Record {
        time: Timestamp::from_millis(t),
        priority: 0,
        lon: at.1,
        lat: at.0,
        altitude: 60,
        angle: 90,
        satellites: 11,
        speed_kmh: if ignition { 45 } else { 0 },
        event_io_id: 0,
        generation_type: None,
        io: vec![
            (239, IoValue::U8(u8::from(ignition))),
            (2, IoValue::U8(u8::from(private))),
            (16, IoValue::U32(odometer_m)),
        ],
    }
}

/// A trip from `a` to `b` starting at local time `hh:mm` on `day` (winter: UTC+1, summer
/// UTC+2, as Norway keeps it), ten minutes of driving and two parked.
fn drive(
    out: &mut Vec<Record>,
    odo: &mut u32,
    day: time::Date,
    (hh, mm): (u8, u8),
    a: (f64, f64),
    b: (f64, f64),
    private: bool,
) {
    let noon = day.midnight().assume_utc().unix_timestamp() + 12 * 3600;
    let offset = i64::from(trips::oslo_offset(Timestamp::from_secs(noon)).whole_hours());
    let start =
        (day.midnight().assume_utc().unix_timestamp() + i64::from(hh) * 3600 + i64::from(mm) * 60
            - offset * 3600)
            * 1000;
    out.push(record(start - 60_000, a, false, *odo, private));
    for i in 0..=40 {
        let f = f64::from(i) / 40.0;
        let at = (a.0 + (b.0 - a.0) * f, a.1 + (b.1 - a.1) * f);
        out.push(record(
            start + i64::from(i) * 15_000,
            at,
            i < 40,
            *odo,
            private,
        ));
        *odo += 150;
    }
    for i in 1..=8 {
        out.push(record(
            start + 600_000 + i * 15_000,
            b,
            false,
            *odo,
            private,
        ));
    }
}

/// The last day at least two days back that is Tuesday to Friday and not the 1st, so that
/// it and the day before it (the holiday, a weekday too) are in one month.
fn working_day(today: time::Date) -> time::Date {
    let mut d = today - time::Duration::days(2);
    while !(matches!(
        d.weekday(),
        time::Weekday::Tuesday
            | time::Weekday::Wednesday
            | time::Weekday::Thursday
            | time::Weekday::Friday
    ) && d.day() > 1)
    {
        d -= time::Duration::days(1);
    }
    d
}

async fn get(app: &TestApp, token: &str, path: &str) -> Value {
    let (status, body) = http(
        app.http,
        "GET",
        path,
        &[("Authorization", &format!("Bearer {token}"))],
        b"",
    )
    .await
    .expect("an answer");
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).expect("json")
}

/// Logs in through the web's login form (the password `user_token` gave the user); returns
/// the session cookie.
async fn web_login(app: &TestApp, name: &str) -> String {
    let (status, head, body) = raw(app, "GET", "/login", "", "").await;
    assert_eq!(status, 200);
    let pre = cookie_in(&head, "sporvern_prelogin");
    let form = format!(
        "csrf={}&name={name}&password=correct+horse+battery+staple",
        csrf_in(&body)
    );
    let (status, head, _) = raw(
        app,
        "POST",
        "/login",
        &format!("sporvern_prelogin={pre}"),
        &form,
    )
    .await;
    assert_eq!(status, 303, "{head}");
    format!("sporvern_session={}", cookie_in(&head, "sporvern_session"))
}

/// One HTTP exchange with a cookie and a form body: (status, head, body).
async fn raw(
    app: &TestApp,
    method: &str,
    path: &str,
    cookie: &str,
    form: &str,
) -> (u16, String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(app.http)
        .await
        .expect("connect");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nCookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
        form.len()
    );
    s.write_all(req.as_bytes()).await.expect("send");
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .expect("an answer in time")
        .expect("read");
    let text = String::from_utf8_lossy(&out).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_owned(), body.to_owned())
}

fn cookie_in(head: &str, name: &str) -> String {
    head.lines()
        .filter_map(|l| l.strip_prefix("set-cookie: "))
        .filter_map(|l| l.split(';').next())
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .unwrap_or_else(|| panic!("no {name} cookie in {head}"))
}

fn csrf_in(body: &str) -> String {
    body.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a CSRF token in the form")
        .to_owned()
}

#[tokio::test]
async fn rules_propose_the_driver_confirms_or_overrides_and_the_keeper_follows_up() {
    let today = trips::oslo_date(Timestamp::from_millis(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0),
    ));
    let day = working_day(today);
    let holiday = day - time::Duration::days(1);
    // The example organisation's rules, with the day before as a holiday and a keeper who
    // wants unclassified trips followed up after one day.
    let org_text = EXAMPLE_ORG
        .replace("unclassified_after_days = 7", "unclassified_after_days = 1")
        + &format!(
            "\n[[classification.periods]]\nname = \"Fridag\"\nfrom = {holiday}\nto = {holiday}\nclass = \"private\"\n"
        );
    let app = spawn_app_prepared(
        |dir| {
            let store = storage::open(dir).expect("open store");
            let org = org::parse(&org_text).expect("the test organisation parses");
            store.apply_org(&org).expect("apply");
            let (version, mut reg) = store.register().load_register().expect("load");
            reg.sync_org(&org);
            reg.apply_str(EXAMPLE_REGISTER, &org).expect("register");
            store
                .register()
                .save_register(&reg, version, Vec::new())
                .expect("save");
        },
        |_| {},
    )
    .await;
    let kari = user_token(&app, "kari", "employee", Some("1001")).await;
    let lars = user_token(&app, "lars", "log_keeper", None).await;

    let mut records = Vec::new();
    let mut odo = 3_000_000u32;
    // The holiday (a weekday, in working hours): to the office and back.
    drive(
        &mut records,
        &mut odo,
        holiday,
        (10, 0),
        DEPOT,
        OFFICE,
        false,
    );
    drive(
        &mut records,
        &mut odo,
        holiday,
        (11, 0),
        OFFICE,
        DEPOT,
        false,
    );
    // The working day.
    drive(&mut records, &mut odo, day, (8, 30), DEPOT, OFFICE, false);
    drive(
        &mut records,
        &mut odo,
        day,
        (10, 0),
        OFFICE,
        CUSTOMER,
        false,
    );
    drive(&mut records, &mut odo, day, (11, 0), CUSTOMER, DEPOT, false);
    // In working hours, with the privacy button on: private whatever the rules say.
    drive(&mut records, &mut odo, day, (12, 0), DEPOT, OFFICE, true);
    drive(&mut records, &mut odo, day, (13, 0), OFFICE, DEPOT, false);
    // The evening errand.
    drive(&mut records, &mut odo, day, (19, 30), DEPOT, LOKKA, false);

    let (mut dev, answer) = Teltonika::login(app.teltonika, TELTONIKA_IMEI).await;
    assert_eq!(answer, 1);
    for chunk in records.chunks(25) {
        dev.send(&frame(chunk)).await;
        assert_eq!(dev.ack().await, Some(chunk.len() as u32));
    }

    let month = format!("{:04}-{:02}", day.year(), u8::from(day.month()));
    let path = format!("/api/v1/me/trips?month={month}");
    let mut trips = Vec::new();
    for _ in 0..200 {
        trips = get(&app, &kari, &path).await["trips"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if trips.len() >= 8 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seen: Vec<(String, Option<String>, Option<String>)> = trips
        .iter()
        .map(|t| {
            (
                t["type"].as_str().unwrap_or_default().to_owned(),
                t["proposed"]["class"].as_str().map(str::to_owned),
                t["proposed"]["purpose"].as_str().map(str::to_owned),
            )
        })
        .collect();
    let s = |x: &str| Some(x.to_owned());
    let u = || "unclassified".to_owned();
    assert_eq!(
        seen,
        vec![
            (u(), s("private"), None),
            (u(), s("private"), None),
            (u(), s("business"), None),
            (u(), s("business"), s("Kunde: Sameiet Tøyen Torg")),
            (u(), s("business"), s("Kunde: Sameiet Tøyen Torg")),
            ("private".to_owned(), None, None),
            (u(), s("business"), None),
            (u(), s("private"), None),
        ],
        "{trips:#?}"
    );
    assert_eq!(trips[0]["proposed"]["rule_nb"], "periode: Fridag");
    assert_eq!(trips[7]["proposed"]["rule_en"], "outside working hours");

    // The driver's web page shows the proposals; the keeper's shows the follow-up counts.
    let kari_web = web_login(&app, "kari").await;
    let (status, _, page) = raw(&app, "GET", &format!("/me?month={month}"), &kari_web, "").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Forslag: ") && page.contains("periode: Fridag"),
        "{page}"
    );
    assert!(page.contains("utenfor arbeidstiden"));
    let lars_web = web_login(&app, "lars").await;
    let (status, _, page) = raw(
        &app,
        "GET",
        &format!("/drivinglog?vehicle=EK12345&month={month}"),
        &lars_web,
        "",
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Utenfor arbeidstid uten formål (1)")
            && page.contains("Uklassifisert for lenge (7)"),
        "{page}"
    );

    // The command line, the third door, says the same.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sporvern"))
        .args([
            "drivinglog",
            "followups",
            "--month",
            &month,
            "--as",
            "lars",
            "--data",
        ])
        .arg(app.data())
        .output()
        .expect("run sporvern");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("outside working hours without a purpose: 1")
            && text.contains("unclassified too long: 7"),
        "{text}"
    );

    // The keeper's lists: the evening errand has no purpose; seven trips are unclassified
    // after more than a day. Date and km only.
    let lists_path = format!("/api/v1/driving-log/followups?month={month}");
    let lists = get(&app, &lars, &lists_path).await;
    assert_eq!(lists["outside_working_hours_without_purpose"]["count"], 1);
    assert_eq!(lists["unclassified_too_long"]["count"], 7);
    for list in [
        "outside_working_hours_without_purpose",
        "unclassified_too_long",
    ] {
        for t in lists[list]["trips"].as_array().expect("trips") {
            let mut keys: Vec<&str> = t
                .as_object()
                .expect("object")
                .keys()
                .map(String::as_str)
                .collect();
            keys.sort_unstable();
            assert_eq!(keys, ["date", "id", "km", "vehicle"], "{t}");
        }
    }
    let evening = &lists["outside_working_hours_without_purpose"]["trips"][0];
    assert_eq!(evening["id"], trips[7]["id"]);

    // The driver confirms the customer visit and overrides the evening errand: a call-out.
    let classify = |id: &Value, body: &'static str| {
        let path = format!("/api/v1/me/trips/{id}/classify");
        let kari = kari.clone();
        let addr = app.http;
        async move {
            let (status, text) = http(
                addr,
                "POST",
                &path,
                &[
                    ("Authorization", &format!("Bearer {kari}")),
                    ("Content-Type", "application/json"),
                ],
                body.as_bytes(),
            )
            .await
            .expect("an answer");
            assert_eq!(status, 200, "{text}");
        }
    };
    classify(
        &trips[3]["id"],
        r#"{"business": "Kunde: Sameiet Tøyen Torg"}"#,
    )
    .await;
    classify(
        &trips[7]["id"],
        r#"{"business": "Vakt: lekkasje, Grünerløkka"}"#,
    )
    .await;

    let after = get(&app, &kari, &path).await["trips"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(after[7]["type"], "business");
    assert_eq!(after[7]["purpose"], "Vakt: lekkasje, Grünerløkka");
    assert!(
        after[7].get("proposed").is_none(),
        "a classified trip has no proposal"
    );
    let lists = get(&app, &lars, &lists_path).await;
    assert_eq!(lists["outside_working_hours_without_purpose"]["count"], 0);
    assert_eq!(lists["unclassified_too_long"]["count"], 5);

    // The driver's lists are not theirs to read.
    let (status, _) = http(
        app.http,
        "GET",
        &lists_path,
        &[("Authorization", &format!("Bearer {kari}"))],
        b"",
    )
    .await
    .expect("an answer");
    assert_eq!(status, 403);
}
