//! The compliance gate end to end: the real server, a Teltonika unit driving, and the
//! privacy officer's command line. The driving log's measure lacks one duty (the information
//! to employees), so a trip driven then leaves no trace in the driving log while the fleet view
//! (whose measure is complete) still works; once the missing duty is recorded with
//! `sporvern register apply`, the running server picks it up and the next trip is logged.

mod common;

use std::process::{Command, Output};
use std::time::Duration;

use codec::teltonika::{IoValue, Record};
use common::*;
use domain::Timestamp;

fn sporvern(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sporvern"))
        .args(args)
        .output()
        .expect("run sporvern")
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

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

/// A business trip depot → customer starting at `t0`: 8 minutes driving, 2 minutes parked.
fn trip(t0: i64, odo: &mut u32) -> Vec<Record> {
    let depot = (59.9275, 10.8452);
    let customer = (59.9155, 10.7725);
    let mut records = Vec::new();
    for i in 0..=48 {
        let f = f64::from(i) / 48.0;
        let at = (
            depot.0 + (customer.0 - depot.0) * f,
            depot.1 + (customer.1 - depot.1) * f,
        );
        records.push(point(t0 + i64::from(i) * 10_000, at, true, *odo));
        *odo += 90;
    }
    for i in 1..=12 {
        records.push(point(t0 + 480_000 + i * 10_000, customer, false, *odo));
    }
    records
}

/// The gate of one measure, as `sporvern gate --format json` prints it.
fn gate_of(data: &str, measure: &str) -> serde_json::Value {
    let o = sporvern(&["gate", "--data", data, "--format", "json", "--lang", "en"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    v["measures"]
        .as_array()
        .expect("measures")
        .iter()
        .find(|m| m["measure"] == measure)
        .cloned()
        .expect("the measure")
}

/// The driving log's information record, as the privacy officer records it at last.
const INFORMATION: &str = r#"
[[measures]]
id = "vehicle.driving_log"

[measures.information]
by = "Siri Dahl, personvernansvarlig"
controller = "Rørlegger Hansen AS, org.nr. 912 345 678"
purpose = "Føre elektronisk kjørebok for firmabilene, slik skattereglene krever."
practical_consequences = "Hver tur registreres med dato, tid, start- og sluttsted, kilometerstand og sjåfør."
how_carried_out = "En sporingsenhet i bilen sender posisjon og kilometerstand til virksomhetens server."
expected_duration = "Så lenge virksomheten har firmabiler."
legal_basis = "Personvernforordningen art. 6 nr. 1 bokstav f."
retention = "Til utgangen av regnskapsåret pluss fem år (bokføringsloven § 13)."
access = "Du selv og regnskapsansvarlig."
published_on = 2025-01-20
"#;

#[tokio::test]
async fn a_purpose_collects_nothing_until_its_last_missing_duty_is_recorded() {
    // The example register, but the driving log's information to employees is not on record.
    let app = spawn_app_prepared(
        |dir| {
            apply_example(dir);
            let store = storage::open(dir).expect("open");
            let (version, mut reg) = store.register().load_register().expect("load");
            let entry = reg.entry_mut("vehicle.driving_log").expect("measure");
            entry.duties.information = None;
            entry.duties.acknowledgements.clear();
            store
                .register()
                .save_register(&reg, version, Vec::new())
                .expect("save");
        },
        // The trips below are replayed from the last hour: keep them on the fleet view.
        |s| s.fleet_stale_after = Duration::from_secs(3 * 3600),
    )
    .await;
    let data = app.data().to_str().expect("utf8").to_owned();
    let g = gate_of(&data, "vehicle.driving_log");
    assert_eq!(g["may_collect"], false);
    let missing: Vec<&str> = g["missing"]
        .as_array()
        .expect("missing")
        .iter()
        .filter_map(|m| m["code"].as_str())
        .collect();
    assert_eq!(missing, ["information"], "the one missing duty");
    assert_eq!(gate_of(&data, "vehicle.fleet_view")["may_collect"], true);

    let store = storage::open(app.data()).expect("open");
    let vehicle = store
        .vehicle_id(&domain::RegNo::parse("EK 12345").expect("reg"))
        .expect("query")
        .expect("the example's vehicle");
    let (mut dev, answer) = Teltonika::login(app.teltonika, TELTONIKA_IMEI).await;
    assert_eq!(answer, 1);
    let mut odo = 2_000_000u32;

    // A trip while the gate is closed: the device is acknowledged (its records are staged),
    // the fleet view follows it, the driving log gets nothing.
    let t0 = now_ms() - 40 * 60_000;
    let first = trip(t0, &mut odo);
    let last_time = first.last().map(|r| r.time).expect("records");
    for chunk in first.chunks(20) {
        dev.send(&frame(chunk)).await;
        assert_eq!(dev.ack().await, Some(chunk.len() as u32));
    }
    let mut processed = false;
    for _ in 0..200 {
        let snapshot = app.shared.fleet.read().expect("fleet").snapshot();
        if snapshot
            .iter()
            .any(|(v, p)| *v == vehicle && p.time == last_time)
        {
            processed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(processed, "the purpose engine consumed the first trip");
    // Give the trip builder's clock a few rounds: a trip would have closed by now.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let day = trips::oslo_date(Timestamp::from_millis(t0));
    let later = trips::oslo_date(Timestamp::from_millis(now_ms()));
    assert!(
        store
            .driving_log(&driver_1001(), vehicle, day, later)
            .expect("log")
            .is_empty(),
        "no trip is logged while the driving log's measure lacks a duty"
    );

    // The privacy officer records the last missing duty; the running server picks it up.
    let file = app.data().join("information.toml");
    std::fs::write(&file, INFORMATION).expect("write");
    let o = sporvern(&[
        "register",
        "apply",
        "--data",
        &data,
        file.to_str().expect("utf8"),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .contains("vehicle.driving_log: information to employees recorded"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert_eq!(gate_of(&data, "vehicle.driving_log")["may_collect"], true);

    // The next trip is logged.
    let t1 = now_ms() - 15 * 60_000;
    let second = trip(t1, &mut odo);
    for chunk in second.chunks(20) {
        dev.send(&frame(chunk)).await;
        assert_eq!(dev.ack().await, Some(chunk.len() as u32));
    }
    let mut log = Vec::new();
    for _ in 0..200 {
        log = store
            .driving_log(&driver_1001(), vehicle, day, later)
            .expect("log");
        if !log.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        log.len(),
        1,
        "only the trip after the duty was recorded: {log:#?}"
    );
    let domain::drivinglog::LogEntry::Trip(t) = &log[0] else {
        panic!("a business trip: {log:#?}")
    };
    assert!(t.start.millis() >= t1, "the second trip, not the first");
    assert_eq!(t.start_place, "Lager Alnabru (Strømsveien 266, 0668 Oslo)");

    // The change is on the audit ledger.
    let audit =
        String::from_utf8_lossy(&sporvern(&["audit", "list", "--data", &data]).stdout).into_owned();
    assert!(
        audit.contains("register vehicle.driving_log")
            && audit.contains("information to employees recorded"),
        "{audit}"
    );
}
