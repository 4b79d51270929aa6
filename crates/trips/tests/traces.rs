//! Trip traces from `test_data/trips/*.trace`, each run by one `check` helper against the
//! snapshot `<name>.expected` beside it. `UPDATE_EXPECT=1` rewrites the snapshots; review every
//! change by hand: a snapshot must be right, not only stable.

use std::path::{Path, PathBuf};

use trips::trace::{self, render_deviation, render_event, render_trip};
use trips::{TripBuilder, TripConfig};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test_data/trips")
}

fn check(name: &str) {
    let path = dir().join(format!("{name}.trace"));
    let text = std::fs::read_to_string(&path).expect("the trace file is readable");
    let items = trace::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut builder = TripBuilder::new(TripConfig::default());
    let events = trace::run(&mut builder, &items);

    let mut actual = String::from("# events, in the order emitted\n");
    for e in &events {
        actual.push_str(&render_event(e));
        actual.push('\n');
    }
    let folded = trace::fold(&events);
    actual.push_str("\n# the driving log after applying them\n");
    for t in folded.trips.values() {
        actual.push_str(&format!("trip      {}\n", render_trip(t)));
    }
    for d in folded.deviations.values() {
        actual.push_str(&format!("deviation {}\n", render_deviation(d)));
    }

    let expected_path = dir().join(format!("{name}.expected"));
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&expected_path, &actual).expect("the snapshot is writable");
        return;
    }
    let expected = std::fs::read_to_string(&expected_path)
        .unwrap_or_else(|_| panic!("{name}: no snapshot; run with UPDATE_EXPECT=1 and review it"));
    if expected != actual {
        panic!(
            "{name}: events differ from {}\n--- expected\n{expected}\n--- actual\n{actual}",
            expected_path.display()
        );
    }
}

#[test]
fn every_trace_has_a_test() {
    let mut names: Vec<String> = std::fs::read_dir(dir())
        .expect("test_data/trips exists")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".trace"))
                .map(str::to_owned)
        })
        .collect();
    names.sort();
    assert_eq!(names, TRACES);
}

const TRACES: [&str; 12] = [
    "ignition_commute",
    "midnight",
    "month_boundary",
    "motion_only",
    "odometer_reset_jump",
    "out_of_order_buffered",
    "parked_jitter",
    "privacy_mid_drive",
    "private_errand",
    "tracker_and_phone",
    "tunnel_gap",
    "urban_stop_and_go",
];

macro_rules! traces {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                check(stringify!($name));
            }
        )*
    };
}

traces!(
    ignition_commute,
    midnight,
    month_boundary,
    motion_only,
    odometer_reset_jump,
    out_of_order_buffered,
    parked_jitter,
    privacy_mid_drive,
    private_errand,
    tracker_and_phone,
    tunnel_gap,
    urban_stop_and_go,
);
