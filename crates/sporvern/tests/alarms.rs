//! Alarm windows over the real server: Traccar Client's SOS button (`alarm=sos` over the OsmAnd
//! protocol) opens one; a window a device opened closes by itself when no new alarm comes for
//! 30 minutes, while a theft reported by hand stays open until an operator resolves it.

mod common;

use std::time::Duration;

use common::{EXAMPLE_ORG, EXAMPLE_REGISTER, http, spawn_app, spawn_app_prepared};
use domain::{RegNo, Timestamp};

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn vehicle(store: &dyn storage::Store, reg: &str) -> domain::VehicleId {
    store
        .vehicle_id(&RegNo::parse(reg).expect("reg"))
        .expect("query")
        .expect("vehicle")
}

#[tokio::test]
async fn a_reported_theft_stays_open_while_a_quiet_device_alarm_closes_itself() {
    let app = spawn_app(|_| {}).await;
    let store = storage::open(app.data()).expect("open");
    let forty_minutes_ago = Timestamp::from_millis(now_ms() - 40 * 60_000);
    let storage::Applied::AlarmWindow(theft) = common::change_at(
        store.as_ref(),
        storage::Change::OpenAlarm {
            vehicle: vehicle(store.as_ref(), "EK 12345"),
            report: storage::AlarmReport {
                trigger: "theft".into(),
                reference: Some("23-4711".into()),
                by: "vakt".into(),
            },
        },
        "vakt",
        forty_minutes_ago,
    ) else {
        panic!("no theft window");
    };
    // A panic 40 minutes ago on another van, and nothing since.
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
                vehicle: vehicle(store.as_ref(), "BR 34567"),
                at: forty_minutes_ago,
                triggers: "panic".into(),
                position: domain::Position::new(59.93, 10.85),
            }],
            utilization: vec![],
            recorded_at: forty_minutes_ago,
        })
        .expect("device window");
    let windows =
        |store: &dyn storage::Store| store.alarm_windows(&common::security()).expect("windows");
    let mut closed = false;
    for _ in 0..60 {
        closed = windows(store.as_ref())
            .iter()
            .any(|w| w.triggers == "panic" && w.resolved_at.is_some());
        if closed {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(closed, "the quiet device alarm closed itself");
    // Several more rounds of the purpose engine: the theft window is still open.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let all = windows(store.as_ref());
    let w = all
        .iter()
        .find(|w| w.id == theft)
        .expect("the theft window");
    assert_eq!(w.resolved_at, None, "a reported theft stays open: {w:?}");
    assert_eq!(w.opened_by.as_deref(), Some("vakt"));
    assert_eq!(w.reference.as_deref(), Some("23-4711"));
    let device = all.iter().find(|w| w.triggers == "panic").expect("device");
    assert_eq!(
        device.resolved_by.as_deref(),
        Some("automatic: no new alarm")
    );
}

#[tokio::test]
async fn traccar_clients_sos_button_opens_an_alarm_window() {
    // The phone's car (EL 23456) with the security purpose too.
    let org = EXAMPLE_ORG.replacen(
        "purposes = [\"driving_log\", \"fleet_view\"]",
        "purposes = [\"driving_log\", \"fleet_view\", \"alarm\"]",
        1,
    );
    assert_ne!(org, EXAMPLE_ORG, "the example's EL 23456 purposes moved");
    let app = spawn_app_prepared(
        |dir| {
            let store = storage::open(dir).expect("open store");
            let org = org::parse(&org).expect("parses");
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
    let secs = now_ms() / 1000;
    // An ordinary fix first: no window.
    let plain = format!("/?id=123456&timestamp={}&lat=59.91&lon=10.75", secs - 20);
    assert_eq!(
        http(app.osmand, "GET", &plain, &[], b"").await.map(|r| r.0),
        Some(200)
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    let store = storage::open(app.data()).expect("open");
    assert!(
        store
            .alarm_windows(&common::security())
            .expect("windows")
            .is_empty()
    );
    let sos = format!(
        "/?id=123456&timestamp={}&lat=59.912&lon=10.751&alarm=sos",
        secs - 10
    );
    assert_eq!(
        http(app.osmand, "GET", &sos, &[], b"").await.map(|r| r.0),
        Some(200)
    );
    let mut windows = Vec::new();
    for _ in 0..50 {
        windows = store.alarm_windows(&common::security()).expect("windows");
        if !windows.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(windows.len(), 1, "SOS opens a window");
    assert_eq!(windows[0].triggers, "panic");
    assert_eq!(windows[0].opened_by, None, "opened by the device");
    // Speeding is not an alarm: no window for it (the SOS one stays the only one).
    let speeding = format!(
        "/?id=123456&timestamp={}&lat=59.913&lon=10.752&alarm=overspeed",
        secs - 5
    );
    assert_eq!(
        http(app.osmand, "GET", &speeding, &[], b"")
            .await
            .map(|r| r.0),
        Some(200)
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    let after = store.alarm_windows(&common::security()).expect("windows");
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].last_trigger_at, windows[0].last_trigger_at);
}
