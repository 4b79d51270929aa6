//! The web interface in a real browser: headless Chromium, driven over WebDriver
//! (chromedriver), against the real server with the demo organisation.
//!
//! The story: the driver Kari logs in on her phone, classifies a trip and switches privacy mode
//! on; the dispatcher's open map loses her van without a reload; the dispatcher types a
//! driving-log address and is refused with the policy's reason; the log keeper exports the
//! month as PDF. Every page is saved as a screenshot under `target/screenshots/`.
//!
//! Needs `chromium` and `chromedriver` (Debian: `apt-get install chromium chromium-driver`;
//! `.ci/run` installs them). Without them the test says so and passes without running: the
//! README's `cargo test --workspace` must work on a machine that has only Rust.

mod common;

use std::time::Duration;

use codec::teltonika::{IoValue, Record};
use common::*;
#[path = "support/browser.rs"]
mod support;
use domain::Timestamp;
use fantoccini::Locator;
use support::*;
use support::{add_user, now_ms};

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

/// Kari's van drives from the depot to a customer and parks (one unclassified business
/// trip), and reports from there now; the building crew's van reports from Groruddalen.
async fn drive(app: &TestApp) {
    let depot = (59.9275, 10.8452);
    let customer = (59.9155, 10.7725);
    let t0 = now_ms() - 12 * 60_000;
    let mut records = Vec::new();
    let mut odo = 2_000_000u32;
    for i in 0..=48 {
        let f = f64::from(i) / 48.0;
        let at = (
            depot.0 + (customer.0 - depot.0) * f,
            depot.1 + (customer.1 - depot.1) * f,
        );
        records.push(point(t0 + i64::from(i) * 10_000, at, true, odo));
        odo += 90;
    }
    for i in 1..=14 {
        records.push(point(t0 + 480_000 + i * 10_000, customer, false, odo));
    }
    let (mut dev, answer) = Teltonika::login(app.teltonika, TELTONIKA_IMEI).await;
    assert_eq!(answer, 1);
    for chunk in records.chunks(20) {
        dev.send(&frame(chunk)).await;
        assert_eq!(dev.ack().await, Some(chunk.len() as u32));
    }
    let (mut crew, answer) = Teltonika::login(app.teltonika, "356307042441013").await;
    assert_eq!(answer, 1);
    crew.send(&frame(&[point(
        now_ms() - 1_000,
        (59.9460, 10.8800),
        true,
        1_000,
    )]))
    .await;
    assert_eq!(crew.ack().await, Some(1));

    // The purpose engine has built the trip when the driving log has it.
    let store = storage::open(app.data()).expect("open");
    let vehicle = store
        .vehicle_id(&domain::RegNo::parse("EK12345").expect("reg"))
        .expect("query")
        .expect("vehicle");
    let today = trips::oslo_date(Timestamp::from_millis(now_ms()));
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while store
        .driving_log(&driver_1001(), vehicle, today, today)
        .expect("log")
        .is_empty()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the trip reached the driving log"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Theft is reported: an alarm window opens, and the van's next positions are kept in it.
    let window = open_alarm(
        store.as_ref(),
        vehicle,
        Timestamp::from_millis(now_ms() - 5_000),
    );
    let mut path = Vec::new();
    for i in 0..4 {
        let at = (
            customer.0 + 0.0008 * f64::from(i),
            customer.1 - 0.0015 * f64::from(i),
        );
        path.push(point(
            now_ms() - 4_000 + i64::from(i) * 1_000,
            at,
            true,
            odo,
        ));
    }
    dev.send(&frame(&path)).await;
    assert_eq!(dev.ack().await, Some(path.len() as u32));
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while store
        .alarm_positions(&security(), window)
        .expect("positions")
        .len()
        < path.len()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the positions reached the alarm window"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A released week of anonymous statistics, shaped as the weekly release writes it.
    let by_hour: Vec<u64> = (0..24u64)
        .map(|h| if (7..17).contains(&h) { 3 + h % 4 } else { 0 })
        .collect();
    let week = serde_json::json!({
        "status": "published", "group": "Service Oslo", "year": 2026, "week": 46,
        "vehicles": 6, "trips": 41, "km": 812.4, "hours_in_use": 37.5,
        "by_hour": by_hour, "by_hour_other": 0, "heat": [], "heat_other": 0, "noise": null,
    });
    store
        .purpose_feed()
        .expect("the release's writer")
        .release_utilization(
            &[storage::ReleasedWeek {
                group: "Service Oslo".into(),
                year: 2026,
                week: 46,
                body: week.to_string(),
            }],
            Timestamp::from_millis(0),
        )
        .expect("release a week");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_uses_the_web_interface_in_a_real_browser() {
    let Some((chromium, chromedriver)) = chrome("every role") else {
        return;
    };
    let app = spawn_app(|_| {}).await;
    add_user(&app, "kari", &["employee"], Some("1001"));
    add_user(&app, "disp", &["dispatcher"], None);
    add_user(&app, "bokholder", &["log_keeper"], None);
    add_user(&app, "vakt", &["security_operator"], None);
    add_user(&app, "analytiker", &["analyst"], None);
    add_user(&app, "pvo", &["privacy_officer"], None);
    add_user(&app, "ada", &["admin"], None);
    add_user(&app, "tillitsvalgt", &["representative"], None);
    drive(&app).await;
    let base = format!("http://{}", app.http);
    let driver = start_driver(&chromedriver).await;

    // The driver, on a phone-sized screen (tall, so the screenshot shows the whole page).
    let phone = browser(&driver, &chromium, 412, 2200).await;
    phone.goto(&format!("{base}/me")).await.expect("goto");
    assert!(
        phone.current_url().await.expect("url").path() == "/login",
        "a page needs a login"
    );
    shot(&phone, "01-login").await;
    log_in(&phone, &base, "kari").await;
    assert_eq!(phone.current_url().await.expect("url").path(), "/me");
    let lang = phone
        .find(Locator::Css("html"))
        .await
        .expect("html")
        .attr("lang")
        .await
        .expect("attr");
    assert_eq!(lang.as_deref(), Some("nb"), "bokmål by default");
    assert!(text(&phone, "#privacy-h").await.contains("Privatmodus"));
    shot(&phone, "02-driver-my-data").await;

    // Classify the trip in two taps: the purpose, then «Jobb».
    let trip = phone
        .find(Locator::Css("li.trip.unclassified"))
        .await
        .expect("an unclassified trip");
    trip.find(Locator::Css("input[name=purpose]"))
        .await
        .expect("purpose field")
        .send_keys("Service, Tøyen Torg")
        .await
        .expect("type");
    click_through(&phone, "li.trip.unclassified button.business").await;
    assert!(
        text(&phone, "p.notice").await.contains("klassifisert"),
        "the driver is told the trip is classified"
    );
    assert!(
        text(&phone, "li.trip.business")
            .await
            .contains("Service, Tøyen Torg"),
        "the trip now shows as business with its purpose"
    );
    assert!(
        phone
            .find_all(Locator::Css("li.trip.unclassified"))
            .await
            .expect("find")
            .is_empty()
    );

    // Every trip classified, but the month is still running: it is signed once it has ended.
    assert!(
        text(&phone, "#sign-h + p")
            .await
            .contains("Den kan signeres fra"),
        "the running month says when it can be signed"
    );
    assert!(
        phone
            .find_all(Locator::Css("form[action='/me/sign']"))
            .await
            .expect("find")
            .is_empty(),
        "no sign form for the running month"
    );

    // The dispatcher's map, open in another browser, shows both vans.
    let desk = browser(&driver, &chromium, 1280, 1000).await;
    log_in(&desk, &base, "disp").await;
    assert_eq!(desk.current_url().await.expect("url").path(), "/fleet");
    until(
        &desk,
        "both vans on the map",
        "return !!document.querySelector('.smap-label[data-vehicle=EK12345]') && !!document.querySelector('.smap-label[data-vehicle=BR34567]')",
    )
    .await;
    shot(&desk, "03-dispatcher-map").await;
    desk.execute("window.__sameDocument = true; return true;", vec![])
        .await
        .expect("mark the document");

    // Privacy mode on, from the phone.
    click_through(&phone, "#privacy-toggle").await;
    let pressed = phone
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css("#privacy-toggle[aria-pressed=true]"))
        .await;
    assert!(pressed.is_ok(), "the switch shows privacy mode on");
    shot(&phone, "04-driver-privacy-on").await;

    // The dispatcher's map loses the van without a reload; the other stays.
    until(
        &desk,
        "the van to leave the map",
        "return !document.querySelector('.smap-label[data-vehicle=EK12345]') && !!document.querySelector('.smap-label[data-vehicle=BR34567]')",
    )
    .await;
    let same = desk
        .execute("return window.__sameDocument === true;", vec![])
        .await
        .expect("script");
    assert_eq!(same, serde_json::Value::Bool(true), "no reload happened");
    assert!(
        !text(&desk, "#fleet-list").await.contains("EK12345"),
        "the list under the map lost it too"
    );
    shot(&desk, "05-dispatcher-map-van-gone").await;

    // A dispatcher who types a driving-log address is refused, with the reason.
    desk.goto(&format!("{base}/drivinglog?vehicle=EK12345"))
        .await
        .expect("goto");
    assert_eq!(text(&desk, "h1").await, "Ingen tilgang");
    let reason = text(&desk, "p.reason").await;
    assert!(
        reason.contains("Tilgang styres per formål") && reason.contains("Forsøket er registrert"),
        "the policy's reason, and that the attempt is recorded: {reason}"
    );
    shot(&desk, "06-dispatcher-refused-driving-log").await;
    let store = storage::open(app.data()).expect("open");
    let denied = store
        .audit_entries()
        .expect("ledger")
        .into_iter()
        .filter(|e| e.entry.actor == "disp" && e.entry.action == ledger::Action::Denied)
        .count();
    assert_eq!(denied, 1, "the refused attempt is on the ledger");

    // An unknown address is a 404 page, not a bare text.
    desk.goto(&format!("{base}/no/such/page"))
        .await
        .expect("goto");
    assert_eq!(text(&desk, "h1").await, "Siden finnes ikke");
    shot(&desk, "07-not-found").await;

    // The log keeper exports the month as PDF.
    desk.goto(&format!("{base}/fleet")).await.expect("goto");
    log_out(&desk).await;
    log_in(&desk, &base, "bokholder").await;
    assert_eq!(desk.current_url().await.expect("url").path(), "/drivinglog");
    let table = text(&desk, "#log-table").await;
    assert!(
        table.contains("Service, Tøyen Torg") && table.contains("Lager Alnabru"),
        "the classified trip with its places: {table}"
    );
    shot(&desk, "08-log-keeper-driving-log").await;
    // The running month is not submitted yet: nothing for the keeper to approve.
    assert!(
        desk.find_all(Locator::Css("form[action='/drivinglog/sign']"))
            .await
            .expect("find")
            .is_empty(),
        "no approval before the driver submits"
    );
    let pdf = desk
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               fetch(document.getElementById('export-pdf').href)
                 .then(r => r.arrayBuffer().then(b => done({
                   status: r.status,
                   type: r.headers.get('content-type'),
                   bytes: Array.from(new Uint8Array(b)) })))
                 .catch(e => done({ error: String(e) }));"#,
            vec![],
        )
        .await
        .expect("fetch the PDF");
    assert_eq!(pdf["status"], 200, "{}", pdf["error"]);
    assert_eq!(pdf["type"], "application/pdf");
    let bytes: Vec<u8> = pdf["bytes"]
        .as_array()
        .expect("bytes")
        .iter()
        .filter_map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
        .collect();
    assert!(bytes.starts_with(b"%PDF-"), "a PDF");
    std::fs::write(screenshots().join("08-driving-log.pdf"), &bytes).expect("save the PDF");
    let exports = store
        .audit_entries()
        .expect("ledger")
        .into_iter()
        .filter(|e| e.entry.actor == "bokholder" && e.entry.action == ledger::Action::Export)
        .count();
    assert_eq!(exports, 1, "the export is on the ledger");
    // The table names the driver and the distance source; every vehicle's month is one ZIP.
    let table = text(&desk, "#log-table").await;
    assert!(
        table.contains("Kari Nordmann (1001)") && table.contains("Kilometerteller"),
        "driver and distance source: {table}"
    );
    let zip = desk
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               fetch(document.getElementById('export-fleet').href)
                 .then(r => r.arrayBuffer().then(b => done({
                   status: r.status,
                   type: r.headers.get('content-type'),
                   size: b.byteLength })))
                 .catch(e => done({ error: String(e) }));"#,
            vec![],
        )
        .await
        .expect("fetch the ZIP");
    assert_eq!(zip["status"], 200, "{}", zip["error"]);
    assert_eq!(zip["type"], "application/zip");
    assert!(zip["size"].as_u64().is_some_and(|n| n > 1000), "{zip}");

    // Every other role's page, for the screenshots, and in English once.
    // The security operator sees the open alarm window with its positions, and resolves it.
    log_out(&desk).await;
    log_in(&desk, &base, "vakt").await;
    assert_eq!(desk.current_url().await.expect("url").path(), "/alarms");
    let alarm = text(&desk, "article.alarm").await;
    assert!(
        alarm.contains("EK12345") && alarm.contains("4 posisjoner"),
        "the open window with its positions: {alarm}"
    );
    assert!(
        desk.find(Locator::Css(
            "article.alarm .smap .leaflet-overlay-pane path"
        ))
        .await
        .is_ok(),
        "the positions are drawn"
    );
    shot(&desk, "09-security-alarms").await;
    desk.find(Locator::Css("article.alarm textarea[name=note]"))
        .await
        .expect("the note")
        .send_keys("Tyveriet er meldt; bilen er funnet på Alnabru.")
        .await
        .expect("type the note");
    click_through(&desk, "article.alarm button[value='1']").await;
    assert!(
        text(&desk, "#open-h").await.contains("(0)"),
        "no open window after resolving"
    );
    assert!(
        text(&desk, "table").await.contains("ja"),
        "kept as an incident"
    );
    shot(&desk, "09b-security-alarm-resolved").await;

    for (user, path, name, heading) in [
        (
            "analytiker",
            "/stats",
            "10-analyst-statistics",
            "Statistikk",
        ),
        (
            "pvo",
            "/register",
            "11-privacy-officer-register",
            "Kontrolltiltak",
        ),
        (
            "tillitsvalgt",
            "/register",
            "11e-representative-register",
            "Kontrolltiltak",
        ),
        ("ada", "/admin", "12-admin", "Administrasjon"),
    ] {
        log_out(&desk).await;
        log_in(&desk, &base, user).await;
        assert_eq!(desk.current_url().await.expect("url").path(), path);
        assert_eq!(text(&desk, "h1").await, heading);
        shot(&desk, name).await;
    }
    assert!(
        text(&desk, "body").await.contains("FMB920"),
        "the admin sees the devices"
    );
    // …and configures, but reads no personal data.
    desk.goto(&format!("{base}/drivinglog?vehicle=EK12345"))
        .await
        .expect("goto");
    assert_eq!(text(&desk, "h1").await, "Ingen tilgang");
    log_out(&desk).await;
    log_in(&desk, &base, "pvo").await;
    // The privacy officer downloads the information notice of the driving log.
    let measure = text(&desk, "[id='measure-vehicle.driving_log']").await;
    assert!(
        measure.contains("Får samle inn"),
        "the example register opens the gate: {measure}"
    );
    let notice = desk
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               fetch(document.querySelector("[id='measure-vehicle.driving_log'] a.notice-pdf").href)
                 .then(r => r.arrayBuffer().then(b => done({
                   status: r.status, type: r.headers.get('content-type'),
                   bytes: Array.from(new Uint8Array(b)) })))
                 .catch(e => done({ status: 0, error: String(e) }));"#,
            vec![],
        )
        .await
        .expect("fetch the notice");
    assert_eq!(notice["status"], 200, "{}", notice["error"]);
    assert_eq!(notice["type"], "application/pdf");
    let bytes: Vec<u8> = notice["bytes"]
        .as_array()
        .expect("bytes")
        .iter()
        .filter_map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
        .collect();
    assert!(bytes.starts_with(b"%PDF-"), "a PDF");
    std::fs::write(screenshots().join("11-information-notice.pdf"), &bytes).expect("save");
    // …and runs an assessment: automatic forwarding of e-mail for customer relations.
    click_through(&desk, "#assess-link").await;
    desk.find(Locator::Id("name"))
        .await
        .expect("the name field")
        .send_keys("Automatisk videresending av e-post")
        .await
        .expect("type");
    for (fact, answer) in [
        ("personal_data", "yes"),
        ("electronic_equipment", "yes"),
        ("employer_access", "yes"),
        ("main_purpose_control", "no"),
        ("recorded", "yes"),
        ("continuous", "yes"),
    ] {
        desk.find(Locator::Css(&format!("input[name={fact}][value={answer}]")))
            .await
            .expect("the answer")
            .click()
            .await
            .expect("choose");
    }
    desk.find(Locator::Css("input[name=purpose_customer_relations]"))
        .await
        .expect("the purpose")
        .click()
        .await
        .expect("choose");
    shot(&desk, "11c-privacy-officer-assessment-form").await;
    click_through(&desk, "form.assess button[type=submit]").await;
    let verdict = text(&desk, "#verdict").await;
    assert!(
        verdict.contains("forbudt") && verdict.contains("e-postforskriften"),
        "prohibited, with its source: {verdict}"
    );
    shot(&desk, "11d-privacy-officer-assessment-verdict").await;

    desk.goto(&format!("{base}/ledger")).await.expect("goto");
    assert!(
        text(&desk, "#verify").await.contains("verifisert"),
        "the ledger verifies"
    );
    shot(&desk, "11b-privacy-officer-ledger").await;
    // An access request from Kari: the privacy officer downloads her report under its case
    // number.
    let report = desk
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               fetch('/ledger/report?employee=1001&reference=SAK-7')
                 .then(r => r.arrayBuffer().then(b => done({
                   status: r.status, type: r.headers.get('content-type'), size: b.byteLength })))
                 .catch(e => done({ status: 0, error: String(e) }));"#,
            vec![],
        )
        .await
        .expect("fetch the report");
    assert_eq!(report["status"], 200, "{}", report["error"]);
    assert_eq!(report["type"], "application/zip");

    // Kari has a notice she has not acknowledged yet (the fleet view's): she reads it and
    // acknowledges it.
    phone.goto(&format!("{base}/me")).await.expect("goto");
    assert!(
        text(&phone, "#notices-h ~ p.alert")
            .await
            .contains("venter")
    );
    click_through(
        &phone,
        "form[action='/me/notice/vehicle.fleet_view/ack'] button",
    )
    .await;
    assert!(
        text(&phone, "p.notice")
            .await
            .contains("lest informasjonen")
    );
    let store = storage::open(app.data()).expect("open");
    let (_, register) = store.register().load_register().expect("register");
    assert!(
        register
            .entry("vehicle.fleet_view")
            .expect("the measure")
            .duties
            .acknowledgements
            .iter()
            .any(|a| a.employee == "1001"),
        "the acknowledgement is in the register"
    );

    // Kari sees who looked at her driving log, and the dispatcher's refused attempt.
    phone.goto(&format!("{base}/me")).await.expect("goto");
    let looked = text(&phone, "#looked-h ~ ul.looked").await;
    assert!(
        looked.contains("bokholder")
            && looked.contains("disp")
            && looked.contains("AVVIST")
            && looked.contains("SAK-7"),
        "the keeper's read, the dispatcher's refused attempt and the access report: {looked}"
    );
    // Her copy of everything held about her (GDPR art. 15 and 20), from the export link.
    let export = phone
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               fetch(document.getElementById('export-mine').href)
                 .then(r => r.arrayBuffer().then(b => done({
                   status: r.status, type: r.headers.get('content-type'),
                   bytes: Array.from(new Uint8Array(b)) })))
                 .catch(e => done({ status: 0, error: String(e) }));"#,
            vec![],
        )
        .await
        .expect("fetch the export");
    assert_eq!(export["status"], 200, "{}", export["error"]);
    assert_eq!(export["type"], "application/zip");
    let bytes: Vec<u8> = export["bytes"]
        .as_array()
        .expect("bytes")
        .iter()
        .filter_map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
        .collect();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a ZIP");
    let mut read = |name: &str| {
        use std::io::Read as _;
        let mut s = String::new();
        zip.by_name(name)
            .unwrap_or_else(|e| panic!("{name} in the ZIP: {e}"))
            .read_to_string(&mut s)
            .expect("read");
        s
    };
    assert!(
        read("trips.csv").contains("Service, Tøyen Torg"),
        "her classified trip"
    );
    assert!(
        read("access-log.csv").contains("bokholder"),
        "who looked at her data"
    );
    click_through(&phone, "a[hreflang=en]").await;
    assert_eq!(text(&phone, "h1").await, "My data");
    shot(&phone, "13-driver-my-data-english").await;

    phone.close().await.expect("close");
    desk.close().await.expect("close");
}

/// One raw HTTP/1.1 exchange: (status, headers, body).
async fn exchange(
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
    tokio::time::timeout(PATIENCE, s.read_to_end(&mut out))
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

/// The value of a cookie the response sets.
fn set_cookie(head: &str, name: &str) -> Option<String> {
    head.lines()
        .filter_map(|l| l.strip_prefix("set-cookie: "))
        .filter_map(|l| l.split(';').next())
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn csrf_in(body: &str) -> String {
    body.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a CSRF token in the form")
        .to_owned()
}

fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                char::from(b).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Sessions without a browser: forms need their CSRF token, logout ends the session for good,
/// guessing passwords is slowed down, and unknown addresses get a page (or a problem document
/// under /api/).
#[tokio::test]
async fn sessions_need_csrf_tokens_end_at_logout_and_slow_down_guessing() {
    let app = spawn_app(|_| {}).await;
    add_user(&app, "kari", &["employee"], Some("1001"));

    let (status, head, body) = exchange(&app, "GET", "/login", "", "").await;
    assert_eq!(status, 200);
    assert!(head.contains("HttpOnly") && head.contains("SameSite=Strict"));
    let pre = set_cookie(&head, "sporvern_prelogin").expect("a pre-login cookie");
    let login_csrf = csrf_in(&body);

    // Without the pre-login cookie the login form's token is worth nothing.
    let form = format!(
        "csrf={login_csrf}&name=kari&password={}",
        form_encode(PASSWORD)
    );
    let (status, _, body) = exchange(&app, "POST", "/login", "", &form).await;
    assert_eq!(status, 403);
    assert!(body.contains("CSRF"), "{body}");

    let cookie = format!("sporvern_prelogin={pre}");
    let (status, head, _) = exchange(&app, "POST", "/login", &cookie, &form).await;
    assert_eq!(status, 303);
    let session = set_cookie(&head, "sporvern_session").expect("a session cookie");
    assert!(
        head.contains("HttpOnly") && head.contains("SameSite=Strict") && head.contains("Path=/")
    );
    let cookie = format!("sporvern_session={session}");

    let (status, _, page) = exchange(&app, "GET", "/me", &cookie, "").await;
    assert_eq!(status, 200);
    let csrf = csrf_in(&page);

    // A form without its token (or with another session's) changes nothing.
    let (status, _, body) = exchange(&app, "POST", "/me/privacy", &cookie, "on=1").await;
    assert_eq!(status, 403);
    assert!(
        body.contains("CSRF") && body.contains("<html lang=\"nb\""),
        "{body}"
    );
    let (status, _, _) = exchange(
        &app,
        "POST",
        "/me/privacy",
        &cookie,
        &format!("on=1&csrf={login_csrf}"),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _, _) = exchange(
        &app,
        "POST",
        "/me/privacy",
        &cookie,
        &format!("on=1&csrf={csrf}"),
    )
    .await;
    assert_eq!(status, 303, "with its token the form works");

    // Logout revokes the session: the old cookie opens nothing afterwards.
    let (status, _, _) = exchange(&app, "POST", "/logout", &cookie, &format!("csrf={csrf}")).await;
    assert_eq!(status, 303);
    let (status, head, _) = exchange(&app, "GET", "/me", &cookie, "").await;
    assert_eq!(status, 303);
    assert!(head.contains("location: /login"), "{head}");

    // A dispatcher who types a driving-log address gets a 403 page with the policy's reason.
    add_user(&app, "disp", &["dispatcher"], None);
    let (_, head, body) = exchange(&app, "GET", "/login", "", "").await;
    let disp_pre = set_cookie(&head, "sporvern_prelogin").expect("a pre-login cookie");
    let disp_form = format!(
        "csrf={}&name=disp&password={}",
        csrf_in(&body),
        form_encode(PASSWORD)
    );
    let (status, head, _) = exchange(
        &app,
        "POST",
        "/login",
        &format!("sporvern_prelogin={disp_pre}"),
        &disp_form,
    )
    .await;
    assert_eq!(status, 303);
    let disp = format!(
        "sporvern_session={}",
        set_cookie(&head, "sporvern_session").expect("a session")
    );
    let (status, _, body) = exchange(
        &app,
        "GET",
        "/drivinglog?vehicle=EK12345&month=2026-11",
        &disp,
        "",
    )
    .await;
    assert_eq!(status, 403);
    assert!(
        body.contains("Ingen tilgang") && body.contains("Forsøket er registrert"),
        "{body}"
    );

    // Guessing is slowed down: after five wrong passwords even the right one waits.
    for _ in 0..5 {
        let wrong = format!("csrf={login_csrf}&name=kari&password=wrong");
        let (status, _, _) = exchange(
            &app,
            "POST",
            "/login",
            &format!("sporvern_prelogin={pre}"),
            &wrong,
        )
        .await;
        assert_eq!(status, 401);
    }
    let (status, _, body) = exchange(
        &app,
        "POST",
        "/login",
        &format!("sporvern_prelogin={pre}"),
        &form,
    )
    .await;
    assert_eq!(status, 429);
    assert!(body.contains("sekunder"), "{body}");

    // Unknown addresses: a page for people, a problem document for programs.
    let (status, _, body) = exchange(&app, "GET", "/no/such/page?lang=en", "", "").await;
    assert_eq!(status, 404);
    assert!(body.contains("Page not found") && body.contains("<html lang=\"en\""));
    let (status, head, _) = exchange(&app, "GET", "/api/v1/nothing", "", "").await;
    assert_eq!(status, 404);
    assert!(head.contains("application/problem+json"), "{head}");
}

/// An 8 × 8 grey-green PNG: what the test's tile server answers for every tile.
const TILE_PNG: [u8; 74] = [
    137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 8, 0, 0, 0, 8, 8, 2, 0,
    0, 0, 75, 109, 41, 220, 0, 0, 0, 17, 73, 68, 65, 84, 120, 156, 99, 56, 113, 253, 44, 86, 196,
    48, 180, 36, 0, 143, 12, 155, 1, 209, 155, 154, 132, 0, 0, 0, 0, 73, 69, 78, 68, 174, 66, 96,
    130,
];

/// A tile server on a free port that answers every request with [`TILE_PNG`] and remembers
/// the paths it was asked for.
async fn tile_server() -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::Mutex<Vec<String>>>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = asked.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let n = s.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]).into_owned();
                if let Some(path) = head.split(' ').nth(1) {
                    seen.lock().expect("lock").push(path.to_owned());
                }
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    TILE_PNG.len()
                );
                let _ = s.write_all(answer.as_bytes()).await;
                let _ = s.write_all(&TILE_PNG).await;
            });
        }
    });
    (addr, asked)
}

#[tokio::test]
async fn the_dispatcher_map_draws_configured_tiles_under_the_vehicles() {
    let Some((chromium, chromedriver)) = chrome("map tiles") else {
        return;
    };
    let (tiles, asked) = tile_server().await;
    let template = format!("http://{tiles}/{{z}}/{{x}}/{{y}}.png");
    let app = spawn_app(|s| {
        s.map_tiles_url = Some(template.clone());
        s.map_tiles_attribution = Some("© test tiles".to_owned());
    })
    .await;
    add_user(&app, "disp", &["dispatcher"], None);
    let base = format!("http://{}", app.http);
    let driver = start_driver(&chromedriver).await;
    let c = browser(&driver, &chromium, 1280, 900).await;
    log_in(&c, &base, "disp").await;
    c.goto(&format!("{base}/fleet")).await.expect("fleet");
    until(
        &c,
        "tiles drawn and loaded",
        "return document.querySelectorAll('#fleet-map img.leaflet-tile').length > 0",
    )
    .await;
    // Every tile the page draws comes from the configured server, at one zoom level, in the
    // Oslo area (zoom 10–14 puts Oslo near x ≈ 0.53·2^z, y ≈ 0.29·2^z).
    let hrefs = c
        .execute(
            "return Array.from(document.querySelectorAll('#fleet-map img.leaflet-tile')).map(i => i.getAttribute('src'))",
            vec![],
        )
        .await
        .expect("hrefs");
    let hrefs: Vec<String> = serde_json::from_value(hrefs).expect("strings");
    let prefix = format!("http://{tiles}/");
    for h in &hrefs {
        let parts: Vec<f64> = h
            .strip_prefix(&prefix)
            .and_then(|p| p.strip_suffix(".png"))
            .unwrap_or_else(|| panic!("a tile from the configured server: {h}"))
            .split('/')
            .map(|n| n.parse().expect("a number"))
            .collect();
        let n = 2f64.powf(parts[0]);
        assert!((10.0..=14.0).contains(&parts[0]), "zoom {h}");
        assert!(
            (parts[1] / n - 0.53).abs() < 0.01 && (parts[2] / n - 0.29).abs() < 0.01,
            "{h}"
        );
    }
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while asked.lock().expect("lock").is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the browser fetched the tiles"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        text(&c, "#fleet-map .leaflet-control-attribution")
            .await
            .contains("© test tiles")
    );
    shot(&c, "14-dispatcher-map-with-tiles").await;

    // The security operator's alarm window is drawn over the same tiles, by the same map.
    {
        let store = storage::open(app.data()).expect("open");
        let vehicle = store
            .vehicle_id(&domain::RegNo::parse("EK 12345").expect("reg"))
            .expect("query")
            .expect("vehicle");
        let at = Timestamp::from_millis(now_ms());
        store
            .purpose_feed()
            .expect("feed")
            .commit(&storage::PurposeBatch {
                up_to: 0,
                entries: vec![],
                deviations: vec![],
                privacy_switches: vec![],
                watermarks: vec![],
                alarms: vec![storage::AlarmAction::Open {
                    vehicle,
                    at,
                    triggers: "panic".into(),
                    position: domain::Position::new(59.9275, 10.8452),
                }],
                utilization: vec![],
                recorded_at: at,
            })
            .expect("commit");
    }
    add_user(&app, "vakt", &["security_operator"], None);
    log_out(&c).await;
    log_in(&c, &base, "vakt").await;
    c.goto(&format!("{base}/alarms")).await.expect("alarms");
    let tile = c
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css("article.alarm img.leaflet-tile"))
        .await
        .expect("a tile under the alarm window")
        .attr("src")
        .await
        .expect("href")
        .unwrap_or_default();
    assert!(tile.starts_with(&prefix), "{tile}");
    shot(&c, "16-security-alarm-with-tiles").await;
}

#[tokio::test]
async fn cookies_are_marked_secure_when_the_server_is_reached_over_https() {
    let plain = spawn_app(|_| {}).await;
    let (_, head, _) = exchange(&plain, "GET", "/login", "", "").await;
    let cookie = head
        .lines()
        .find(|l| l.starts_with("set-cookie: "))
        .expect("a pre-login cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP by default: {cookie}"
    );
    let tls = spawn_app(|s| s.secure_cookies = true).await;
    let (_, head, _) = exchange(&tls, "GET", "/login", "", "").await;
    assert!(
        head.lines()
            .filter(|l| l.starts_with("set-cookie: "))
            .all(|l| l.ends_with("; Secure")),
        "{head}"
    );
}

#[tokio::test]
async fn a_driver_classifies_and_signs_last_month_after_it_has_ended() {
    let Some((chromium, chromedriver)) = chrome("last month") else {
        return;
    };
    let app = spawn_app(|_| {}).await;
    add_user(&app, "kari", &["employee"], Some("1001"));
    // A trip of Kari's on the 3rd of last month, still unclassified.
    let today = time::OffsetDateTime::now_utc().date();
    let last_month = today
        .replace_day(1)
        .expect("first")
        .previous_day()
        .expect("last month");
    let day = last_month.replace_day(3).expect("the 3rd");
    let month = format!("{:04}-{:02}", day.year(), u8::from(day.month()));
    seed_trip(app.data(), day);
    let base = format!("http://{}", app.http);
    let driver = start_driver(&chromedriver).await;
    let phone = browser(&driver, &chromium, 412, 1600).await;
    log_in(&phone, &base, "kari").await;
    phone.goto(&format!("{base}/me")).await.expect("goto");
    assert!(
        text(&phone, "#trips-h ~ p.alert")
            .await
            .contains("ikke signert"),
        "this month's page says last month waits"
    );
    click_through(&phone, "#trips-h ~ p.alert a").await;
    assert!(
        phone
            .current_url()
            .await
            .expect("url")
            .query()
            .is_some_and(|q| q.contains(&month)),
        "on last month's page"
    );
    phone
        .find(Locator::Css("li.trip.unclassified input[name=purpose]"))
        .await
        .expect("last month's trip to classify")
        .send_keys("Service, Tøyen Torg")
        .await
        .expect("type");
    click_through(&phone, "li.trip.unclassified button.business").await;
    assert!(
        phone
            .current_url()
            .await
            .expect("url")
            .query()
            .is_some_and(|q| q.contains(&month)),
        "back on last month after classifying"
    );
    assert!(
        text(&phone, "li.trip.business")
            .await
            .contains("Service, Tøyen Torg")
    );
    click_through(&phone, "form[action='/me/sign'] button").await;
    assert!(text(&phone, "#sign-h + p").await.contains("Du signerte"));
    shot(&phone, "15-driver-signs-last-month").await;
    let store = storage::open(app.data()).expect("open");
    let vehicle = store
        .vehicle_id(&domain::RegNo::parse("EK 12345").expect("reg"))
        .expect("query")
        .expect("vehicle");
    let signed = store.month_review(vehicle, &month).expect("review");
    assert_eq!(signed.len(), 1, "{signed:?}");
    assert_eq!(signed[0].by, "kari");
    assert_eq!(signed[0].kind, domain::changes::StepKind::Submitted);
    // Back on this month, nothing waits any more.
    phone.goto(&format!("{base}/me")).await.expect("goto");
    assert!(
        phone
            .find_all(Locator::Css("#trips-h ~ p.alert"))
            .await
            .expect("find")
            .is_empty()
    );
}

#[tokio::test]
async fn the_privacy_officer_records_a_breach_and_its_notification_in_the_browser() {
    let Some((chromium, chromedriver)) = chrome("breaches") else {
        return;
    };
    let app = spawn_app(|_| {}).await;
    add_user(&app, "pvo", &["privacy_officer"], None);
    add_user(&app, "tillitsvalgt", &["representative"], None);
    let base = format!("http://{}", app.http);
    let driver = start_driver(&chromedriver).await;
    let c = browser(&driver, &chromium, 1280, 1000).await;

    // The representative reads the register but records nothing.
    log_in(&c, &base, "tillitsvalgt").await;
    c.goto(&format!("{base}/register")).await.expect("register");
    assert!(
        c.find_all(Locator::Css("#new-breach"))
            .await
            .expect("find")
            .is_empty(),
        "no breach form for the representative"
    );
    log_out(&c).await;

    log_in(&c, &base, "pvo").await;
    c.goto(&format!("{base}/register")).await.expect("register");
    c.find(Locator::Css("#new-breach summary"))
        .await
        .expect("the breach form")
        .click()
        .await
        .expect("open");
    c.find(Locator::Id("breach-description"))
        .await
        .expect("description")
        .send_keys("En kjørebokeksport ble sendt til feil mottaker")
        .await
        .expect("type");
    click_through(&c, "#new-breach button.primary").await;
    let recorded = text(&c, "#breach-avvik-1").await;
    assert!(
        recorded.contains("feil mottaker"),
        "the breach is listed: {recorded}"
    );
    assert!(recorded.contains("meldes Datatilsynet innen"), "{recorded}");
    shot(&c, "17-privacy-officer-breach-recorded").await;
    click_through(&c, "#breach-avvik-1 form button").await;
    let notified = text(&c, "#breach-avvik-1").await;
    assert!(
        !notified.contains("meldes Datatilsynet innen"),
        "{notified}"
    );
    // Both changes are on the ledger as the privacy officer's.
    let ledger = storage::open(app.data())
        .expect("open")
        .audit_entries()
        .expect("ledger");
    let changes: Vec<&str> = ledger
        .iter()
        .filter(|e| e.entry.actor == "pvo" && e.entry.purpose == "register")
        .map(|e| e.entry.object.as_str())
        .collect();
    assert!(
        changes
            .iter()
            .any(|o| o.contains("breach avvik-1: recorded"))
            && changes.iter().any(|o| o.contains("Datatilsynet notified")),
        "{changes:?}"
    );

    // An evaluation with the representatives decides to end the alarm measure: it is listed,
    // and the gate stops the purpose.
    c.find(Locator::Css("[id='evaluate-vehicle.alarm'] summary"))
        .await
        .expect("the evaluation form")
        .click()
        .await
        .expect("open");
    c.find(Locator::Id("ev-with-vehicle.alarm"))
        .await
        .expect("participants")
        .send_keys("Anne Lie (tillitsvalgt)")
        .await
        .expect("type");
    c.find(Locator::Css(
        "[id='ev-decision-vehicle.alarm'] option[value=end]",
    ))
    .await
    .expect("end")
    .click()
    .await
    .expect("choose");
    click_through(&c, "[id='evaluate-vehicle.alarm'] button.primary").await;
    assert!(
        text(&c, "p.notice")
            .await
            .contains("Evalueringen er registrert")
    );
    assert!(
        text(&c, "[id='measure-vehicle.alarm']")
            .await
            .contains("Anne Lie (tillitsvalgt)"),
        "the evaluation is listed"
    );
    assert!(
        text(&c, "[id='measure-vehicle.alarm'] p.muted")
            .await
            .contains("avsluttet"),
        "the measure shows as ended"
    );
    shot(&c, "18-privacy-officer-evaluation-recorded").await;
    let (_, reg) = storage::open(app.data())
        .expect("open")
        .register()
        .load_register()
        .expect("register");
    let today = time::OffsetDateTime::now_utc().date();
    let cfg = register::GateConfig::default();
    assert!(
        !reg.purpose_may_collect(org::Purpose::Alarm, today, &cfg),
        "the ended measure collects nothing"
    );
    assert!(reg.purpose_may_collect(org::Purpose::DrivingLog, today, &cfg));
}
