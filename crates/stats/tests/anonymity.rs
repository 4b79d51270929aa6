//! The anonymity rules of a release, end to end.

use domain::{Position, Timestamp};
use stats::{Aggregator, Caps, Cell, Config, GroupWeek, SuppressionReason, TripFact, WeekStats};

fn ts(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).expect("valid time")
}

fn cell(lat: f64, lon: f64) -> Cell {
    Cell::of(Position::new(lat, lon).expect("valid position"))
}

fn depot() -> Cell {
    cell(59.91, 10.75)
}

/// A 30-minute, 12 km trip from the depot back to the depot.
fn fact(group: &str, vehicle: u64, start: &str) -> TripFact {
    let start = ts(start);
    TripFact {
        group: group.to_owned(),
        vehicle,
        start,
        end: Timestamp::from_millis(start.millis() + 30 * 60 * 1000),
        km: 12.0,
        start_cell: depot(),
        end_cell: depot(),
    }
}

fn only(release: &stats::Release) -> &GroupWeek {
    assert_eq!(release.weeks.len(), 1, "{release:?}");
    &release.weeks[0]
}

fn published(gw: &GroupWeek) -> &WeekStats {
    gw.published().expect("published")
}

/// Vehicle ids nobody would write by accident.
const IDS: [u64; 6] = [
    9_876_543_210_123,
    8_765_432_109_876,
    7_654_321_098_765,
    6_543_210_987_654,
    5_432_109_876_543,
    4_321_098_765_432,
];

/// `n` vehicles, one trip each on Wednesday 2024-01-10 at 08:15 local (07:15Z).
fn fleet(n: usize) -> Aggregator {
    let mut agg = Aggregator::new();
    for id in IDS.iter().take(n) {
        agg.add(fact("Service Øst", *id, "2024-01-10T07:15:00Z"));
    }
    agg
}

#[test]
fn a_group_week_below_k_is_suppressed_without_figures() {
    let agg = fleet(4);
    let release = agg.release(&Config::new(), 1);
    assert_eq!(release.k, 5);
    let gw = only(&release);
    assert_eq!(
        gw,
        &GroupWeek::Suppressed {
            group: "Service Øst".to_owned(),
            year: 2024,
            week: 2,
            reason: SuppressionReason::TooFewVehicles,
        }
    );
    let json = serde_json::to_value(gw).expect("serialises");
    let mut keys: Vec<&str> = json
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["group", "reason", "status", "week", "year"]);
    assert_eq!(json["status"], "suppressed");
    assert_eq!(json["reason"], "too_few_vehicles");
}

#[test]
fn a_group_week_with_exactly_k_vehicles_is_published() {
    let release = fleet(5).release(&Config::new(), 1);
    let s = published(only(&release));
    assert_eq!((s.group.as_str(), s.year, s.week), ("Service Øst", 2024, 2));
    assert_eq!(s.vehicles, 5);
    assert_eq!(s.trips, 5);
    assert_eq!(s.km, 60.0);
    assert_eq!(s.hours_in_use, 2.5);
    let mut hours = [0u64; 24];
    hours[8] = 5;
    assert_eq!(s.by_hour, hours);
    assert_eq!(s.by_hour_other, 0);
    assert_eq!(s.heat, vec![(depot(), 10)]);
    assert_eq!(s.heat_other, 0);
    assert_eq!(s.noise, None);
    assert_eq!(release.noise, None);
}

#[test]
fn k_is_configurable_but_never_below_two() {
    let release = fleet(3).release(&Config::new().with_k(3), 1);
    assert_eq!(published(only(&release)).vehicles, 3);
    let release = fleet(1).release(&Config::new().with_k(1), 1);
    assert_eq!(release.k, 2);
    assert!(only(&release).published().is_none());
    let release = fleet(2).release(&Config::new().with_k(0), 1);
    assert!(only(&release).published().is_some());
}

#[test]
fn heat_cells_reached_by_fewer_than_k_vehicles_are_merged_into_other() {
    let mut agg = fleet(5);
    // One vehicle also drives to a cabin far away, twice; a second vehicle joins it once.
    let cabin = cell(61.10, 9.10);
    for (id, start) in [
        (IDS[0], "2024-01-11T07:15:00Z"),
        (IDS[0], "2024-01-12T07:15:00Z"),
        (IDS[1], "2024-01-12T08:15:00Z"),
    ] {
        agg.add(TripFact {
            end_cell: cabin,
            ..fact("Service Øst", id, start)
        });
    }
    let release = agg.release(&Config::new(), 1);
    let s = published(only(&release));
    assert_eq!(s.trips, 8);
    // Depot: 5 trips there and back, 3 starts of the cabin trips.
    assert_eq!(s.heat, vec![(depot(), 13)]);
    assert_eq!(s.heat_other, 3);
    assert!(!s.heat.iter().any(|(c, _)| *c == cabin));
    // With k = 2 the cabin cell (two vehicles) is published.
    let release = agg.release(&Config::new().with_k(2), 1);
    let s = published(only(&release));
    assert_eq!(s.heat, vec![(depot(), 13), (cabin, 3)]);
    assert_eq!(s.heat_other, 0);
}

#[test]
fn hours_driven_by_fewer_than_k_vehicles_read_zero_and_count_as_other() {
    let mut agg = fleet(5);
    // One night owl: 03:10 local on two nights.
    agg.add(fact("Service Øst", IDS[2], "2024-01-11T02:10:00Z"));
    agg.add(fact("Service Øst", IDS[2], "2024-01-12T02:10:00Z"));
    let release = agg.release(&Config::new(), 1);
    let s = published(only(&release));
    assert_eq!(s.trips, 7);
    assert_eq!(s.by_hour[3], 0);
    assert_eq!(s.by_hour[8], 5);
    assert_eq!(s.by_hour_other, 2);
    assert_eq!(s.by_hour.iter().sum::<u64>() + s.by_hour_other, s.trips);
}

#[test]
fn vehicle_ids_and_timestamps_never_reach_the_output() {
    let mut agg = fleet(6);
    agg.add(fact("Service Øst", IDS[0], "2024-01-11T02:10:00Z"));
    agg.add(fact("Liten gruppe", IDS[5], "2024-01-11T02:10:00Z"));
    let needles: Vec<String> = IDS
        .iter()
        .map(u64::to_string)
        .chain([
            ts("2024-01-10T07:15:00Z").millis().to_string(),
            ts("2024-01-11T02:10:00Z").millis().to_string(),
            "2024-01".to_owned(),
            "07:15".to_owned(),
            "59.91".to_owned(),
        ])
        .collect();
    let mut outputs = vec![format!("{agg:?}"), format!("{agg:#?}")];
    for config in [
        Config::new(),
        Config::new().with_k(2),
        Config::new().with_laplace(1.0).expect("valid ε"),
    ] {
        let release = agg.release(&config, 99);
        assert_eq!(release.weeks.len(), 2);
        outputs.push(format!("{release:?}"));
        outputs.push(format!("{release:#?}"));
        outputs.push(serde_json::to_string(&release).expect("serialises"));
    }
    for out in &outputs {
        for needle in &needles {
            assert!(!out.contains(needle.as_str()), "{needle} in {out}");
        }
    }
}

#[test]
fn laplace_noise_is_reported_reproducible_and_clamped() {
    let config = Config::new().with_laplace(1.0).expect("valid ε");
    let agg = fleet(5);
    let a = agg.release(&config, 7);
    assert_eq!(a, agg.release(&config, 7), "same seed, same release");
    assert_ne!(a, agg.release(&config, 8), "another seed, other noise");
    let noise = a.noise.expect("noise reported on the release");
    assert_eq!(noise.mechanism, "laplace");
    assert_eq!(noise.epsilon, 1.0);
    assert!((noise.epsilon_per_measure - 1.0 / 6.0).abs() < 1e-12);
    let s = published(only(&a));
    assert_eq!(s.noise, Some(noise));
    assert!(s.km >= 0.0 && s.km.fract() == 0.0);
    assert!(s.hours_in_use >= 0.0 && s.hours_in_use.fract() == 0.0);
    let json = serde_json::to_value(&a).expect("serialises");
    assert_eq!(json["weeks"][0]["noise"]["epsilon"], 1.0);
    assert_eq!(json["weeks"][0]["status"], "published");

    // A group-week's noise does not depend on what else is released.
    let mut more = fleet(5);
    for id in IDS {
        more.add(fact("Annen gruppe", id, "2024-01-10T07:15:00Z"));
    }
    let b = more.release(&config, 7);
    let same = b
        .weeks
        .iter()
        .find(|w| w.key().0 == "Service Øst")
        .expect("group present");
    assert_eq!(same, only(&a));
}

#[test]
fn laplace_noise_on_trips_has_the_calibrated_spread() {
    // ε = 6 gives each figure ε = 1; a 10-trip cap makes the trips' scale 10.
    let caps = Caps {
        trips: 10,
        ..Caps::default()
    };
    let config = Config::new()
        .with_caps(caps)
        .expect("valid caps")
        .with_laplace(6.0)
        .expect("valid ε");
    let mut agg = Aggregator::new();
    let groups = 600;
    for g in 0..groups {
        let group = format!("g{g}");
        for (v, id) in IDS.iter().take(5).enumerate() {
            for t in 0..10 {
                let start = format!("2024-01-{:02}T{:02}:{:02}:00Z", 8 + t % 5, 6 + v, t);
                agg.add(fact(&group, *id, &start));
            }
        }
    }
    let release = agg.release(&config, 123);
    let deviations: Vec<f64> = release
        .weeks
        .iter()
        .map(|w| published(w).trips as f64 - 50.0)
        .collect();
    assert_eq!(deviations.len(), groups);
    let n = deviations.len() as f64;
    let mean = deviations.iter().sum::<f64>() / n;
    let mean_abs = deviations.iter().map(|d| d.abs()).sum::<f64>() / n;
    // Laplace(10): mean 0, E|x| = 10; standard errors ≈ 0.6 and 0.4.
    assert!(mean.abs() < 2.5, "mean {mean}");
    assert!((mean_abs - 10.0).abs() < 2.0, "mean |noise| {mean_abs}");
    // Not all the same: the groups get independent streams.
    assert!(deviations.iter().any(|d| *d != deviations[0]));
}

#[test]
fn a_trip_late_on_sunday_belongs_to_that_iso_week() {
    let weeks = |start: &str| {
        let mut agg = Aggregator::new();
        assert!(agg.add(fact("g", 1, start)));
        let release = agg.release(&Config::new(), 0);
        let (_, year, week) = only(&release).key();
        (year, week)
    };
    // Sunday 7 January 2024, 23:30 local (winter, UTC+1).
    assert_eq!(weeks("2024-01-07T22:30:00Z"), (2024, 1));
    // 23:30 UTC that Sunday is already Monday 00:30 in Oslo.
    assert_eq!(weeks("2024-01-07T23:30:00Z"), (2024, 2));
    // Summer time: Sunday 30 June 2024, 23:30 local is 21:30 UTC.
    assert_eq!(weeks("2024-06-30T21:30:00Z"), (2024, 26));
    assert_eq!(weeks("2024-06-30T22:30:00Z"), (2024, 27));
    // Year boundaries: 29 December 2024 is in 2024-W52, 30 December in 2025-W01.
    assert_eq!(weeks("2024-12-29T22:30:00Z"), (2024, 52));
    assert_eq!(weeks("2024-12-29T23:30:00Z"), (2025, 1));
    // Sunday 3 January 2021 is in 2020-W53.
    assert_eq!(weeks("2021-01-03T22:30:00Z"), (2020, 53));
}

#[test]
fn hours_of_day_are_norwegian_local_time() {
    let mut agg = Aggregator::new();
    for id in IDS.iter().take(5) {
        // 22:30 UTC on a Sunday in January is 23:30 in Oslo; in June 06:00 UTC is 08:00.
        agg.add(fact("g", *id, "2024-01-07T22:30:00Z"));
        agg.add(fact("g", *id, "2024-06-12T06:00:00Z"));
    }
    let release = agg.release(&Config::new(), 0);
    assert_eq!(release.weeks.len(), 2);
    assert_eq!(published(&release.weeks[0]).by_hour[23], 5);
    assert_eq!(published(&release.weeks[1]).by_hour[8], 5);
}

#[test]
fn each_vehicle_contribution_is_capped() {
    let mut agg = fleet(5);
    // One vehicle: 150 trips of 40 km and 1 h, Monday to Friday; trips 101–150 at 18:xx local.
    for i in 0..150u32 {
        let day = 8 + i / 30;
        let (hour, minute) = if i < 100 {
            (5 + (i % 30) / 6, (i % 6) * 10)
        } else {
            (17, i % 30)
        };
        let start = ts(&format!("2024-01-{day:02}T{hour:02}:{minute:02}:00Z"));
        agg.add(TripFact {
            end: Timestamp::from_millis(start.millis() + 60 * 60 * 1000),
            km: 40.0,
            ..fact("Service Øst", IDS[5], &start.rfc3339())
        });
    }
    let release = agg.release(&Config::new(), 0);
    let s = published(only(&release));
    assert_eq!(s.vehicles, 6);
    // 5 single trips + 100 of the 150.
    assert_eq!(s.trips, 105);
    // 5 × 12 km + min(100 × 40, 3000) km.
    assert_eq!(s.km, 3060.0);
    // 5 × 0.5 h + min(100 × 1 h, 60 h).
    assert_eq!(s.hours_in_use, 62.5);
    let all: u64 = s.by_hour.iter().sum::<u64>() + s.by_hour_other;
    assert_eq!(all, 105);
    // The capped trips (the latest, 18:xx local) are in no figure.
    assert_eq!(s.by_hour[18], 0);
    assert_eq!(s.heat, vec![(depot(), 210)]);

    // Caps are configurable.
    let caps = Caps {
        trips: 2,
        km: 50.0,
        hours: 1.0,
    };
    let release = agg.release(&Config::new().with_caps(caps).expect("valid caps"), 0);
    let s = published(only(&release));
    assert_eq!(s.trips, 7);
    assert_eq!(s.km, 110.0);
    assert_eq!(s.hours_in_use, 3.5);
}

#[test]
fn order_does_not_matter_and_a_revised_trip_replaces_the_old() {
    let facts: Vec<TripFact> = IDS
        .iter()
        .enumerate()
        .flat_map(|(v, id)| {
            (0..4).map(move |d| {
                fact(
                    "g",
                    *id,
                    &format!("2024-03-{:02}T{:02}:00:00Z", 4 + d, 6 + v),
                )
            })
        })
        .collect();
    let mut forward = Aggregator::new();
    facts.iter().cloned().for_each(|f| {
        forward.add(f);
    });
    let mut backward = Aggregator::new();
    facts.iter().rev().cloned().for_each(|f| {
        backward.add(f);
    });
    let config = Config::new().with_laplace(1.0).expect("valid ε");
    assert_eq!(forward.release(&config, 5), backward.release(&config, 5));
    assert_eq!(forward.trips(), 24);

    forward.add(TripFact {
        km: 100.0,
        ..facts[0].clone()
    });
    assert_eq!(forward.trips(), 24);
    let s = forward.release(&Config::new(), 0);
    assert_eq!(published(only(&s)).km, 23.0 * 12.0 + 100.0);
}

#[test]
fn release_week_and_forget() {
    let mut agg = fleet(5);
    let config = Config::new();
    let gw = agg
        .release_week(&config, 0, "Service Øst", 2024, 2)
        .expect("held");
    assert_eq!(published(&gw).trips, 5);
    assert!(
        agg.release_week(&config, 0, "Service Øst", 2024, 3)
            .is_none()
    );
    assert!(agg.forget("Service Øst", 2024, 2));
    assert!(!agg.forget("Service Øst", 2024, 2));
    assert!(agg.is_empty());
}

#[test]
fn private_trips_are_not_facts() {
    let pos = Position::new(59.91, 10.75).expect("valid position");
    let mut trip = trips::Trip {
        start: ts("2024-01-10T07:15:00Z"),
        end: ts("2024-01-10T07:45:00Z"),
        start_pos: pos,
        end_pos: pos,
        distance_m: 12_345.0,
        odometer_start_m: None,
        odometer_end_m: None,
        distance_source: trips::DistanceSource::Track,
        driver_id: Some("driver-1".to_owned()),
        private: false,
        points: 10,
    };
    let f = TripFact::from_trip("g", 3, &trip).expect("business trip");
    assert_eq!(f.km, 12.345);
    assert_eq!(f.start_cell, depot());
    trip.private = true;
    assert_eq!(TripFact::from_trip("g", 3, &trip), None);
}
