//! A month of one vehicle's driving log, with five years of a 1,000-vehicle fleet's trips in
//! the database: p50/p99 of the query a log keeper or driver makes.
//! `cargo bench -p storage --bench drivinglog` (VEHICLES, YEARS, TRIPS_PER_DAY to change).

use std::time::Instant;

use domain::drivinglog::NewLogEntry;
use domain::{Timestamp, VehicleId};
use storage::PurposeBatch;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let vehicles = env("VEHICLES", 1000);
    let years = env("YEARS", 5);
    let per_day = env("TRIPS_PER_DAY", 4);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = storage::open(dir.path()).expect("open");
    let mut file = String::from("[organisation]\nname = \"Bench\"\n");
    for i in 0..vehicles {
        file.push_str(&format!(
            "[[vehicles]]\nreg = \"BN{i:05}\"\nkind = \"car\"\n"
        ));
    }
    store
        .apply_org(&org::parse(&file).expect("org"))
        .expect("apply");
    let ids: Vec<VehicleId> = (0..vehicles)
        .map(|i| {
            store
                .vehicle_id(&domain::RegNo::parse(&format!("BN{i:05}")).expect("reg"))
                .expect("query")
                .expect("vehicle")
        })
        .collect();
    let first = time::Date::from_calendar_date(2021, time::Month::January, 1).expect("date");
    let days = (365.25 * years as f64) as i64;
    let started = Instant::now();
    let mut feed = store.purpose_feed().expect("feed");
    let mut rows = 0usize;
    for day in 0..days {
        let date = first + time::Duration::days(day);
        let midnight = date.midnight().assume_utc().unix_timestamp();
        let mut entries = Vec::with_capacity(vehicles * per_day);
        for (v, id) in ids.iter().enumerate() {
            for k in 0..per_day {
                let start =
                    Timestamp::from_secs(midnight + 6 * 3600 + (k as i64) * 7200 + v as i64);
                if (v + k + day as usize).is_multiple_of(9) {
                    entries.push(NewLogEntry::Private {
                        vehicle: *id,
                        date,
                        km: 7.5,
                    });
                } else {
                    entries.push(NewLogEntry::Trip {
                        vehicle: *id,
                        date,
                        start,
                        end: Timestamp::from_millis(start.millis() + 1_800_000),
                        start_place: "Lager Alnabru (Strømsveien 266, 0668 Oslo)".into(),
                        end_place: "Kunde: Sameiet Tøyen Torg (Tøyengata 40, 0578 Oslo)".into(),
                        odometer_start_km: Some(10_000.0 + k as f64),
                        odometer_end_km: Some(10_012.5 + k as f64),
                        km: 12.5,
                        distance_source: "odometer",
                        driver: Some("1001".into()),
                    });
                }
            }
        }
        rows += entries.len();
        feed.commit(&PurposeBatch {
            up_to: 0,
            entries,
            deviations: vec![],
            privacy_switches: vec![],
            watermarks: vec![],
            alarms: vec![],
            utilization: vec![],
            recorded_at: Timestamp::from_secs(midnight),
        })
        .expect("commit");
    }
    drop(feed);
    println!(
        "filled {rows} trips ({vehicles} vehicles × {years} years × {per_day}/day) in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut times = Vec::new();
    // The log keeper's capability, from the policy, as every read in the server gets one.
    let user = access::User {
        id: access::UserId("bench".to_owned()),
        name: "bench".to_owned(),
        roles: vec![access::Role::LogKeeper],
        employee: None,
    };
    let keeper = access::Policy::authorise(
        &user,
        access::Role::LogKeeper,
        access::ReadPurpose::DrivingLog,
        access::Scope::All,
        0,
    )
    .expect("allowed")
    .into_parts()
    .0;
    let mut returned = 0usize;
    for _ in 0..2000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let v = ids[(x % vehicles as u64) as usize];
        let month_index = (x >> 20) % (12 * years as u64);
        let year = 2021 + (month_index / 12) as i32;
        let month = time::Month::try_from((month_index % 12) as u8 + 1).expect("month");
        let from = time::Date::from_calendar_date(year, month, 1).expect("date");
        let to =
            time::Date::from_calendar_date(year, month, time::util::days_in_month(month, year))
                .expect("date");
        let t = Instant::now();
        returned += store
            .driving_log(&keeper, v, from, to)
            .expect("query")
            .len();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| times[((times.len() - 1) as f64 * p) as usize];
    println!(
        "month query, 2000 random (vehicle, month): p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms; {:.0} entries per month on average",
        pct(0.5),
        pct(0.99),
        pct(1.0),
        returned as f64 / 2000.0
    );
}
