//! Small cases beside the trace files: rules that need no map to review.

use trips::trace::{self, render_event};
use trips::{DeviationKind, DistanceSource, Event, TripBuilder, TripConfig};

fn events(text: &str) -> Vec<Event> {
    let items = trace::parse(text).expect("a valid trace");
    trace::run(&mut TripBuilder::new(TripConfig::default()), &items)
}

fn render(events: &[Event]) -> Vec<String> {
    events.iter().map(render_event).collect()
}

#[test]
fn a_trip_without_any_fix_is_a_deviation_with_its_odometer_km() {
    let ev = events(
        "2024-03-04T07:00:00Z, , , 1, 1000
         2024-03-04T07:05:00Z, , , 1, 4000
         2024-03-04T07:10:00Z, , , 0, 7000
         @advance 2024-03-04T08:00:00Z",
    );
    let devs: Vec<_> = ev
        .iter()
        .filter_map(|e| match e {
            Event::Deviation(d) => Some(d),
            _ => None,
        })
        .collect();
    assert_eq!(devs.len(), 1, "{:#?}", render(&ev));
    assert_eq!(devs[0].kind, DeviationKind::NoFix);
    assert_eq!(devs[0].source, DistanceSource::Odometer);
    assert!((devs[0].km_across - 6.0).abs() < 1e-9);
    assert!(!ev.iter().any(|e| matches!(e, Event::TripClosed(_))));
}

#[test]
fn an_odometer_that_jumps_back_is_not_believed() {
    let ev = events(
        "2024-03-04T07:00:00Z, 59.90000, 10.70000, 1, 50000
         2024-03-04T07:01:00Z, 59.90500, 10.70000, 1, 50560
         2024-03-04T07:02:00Z, 59.91000, 10.70000, 1, 0
         2024-03-04T07:03:00Z, 59.91500, 10.70000, 0, 10
         @advance 2024-03-04T08:00:00Z",
    );
    let Some(Event::TripClosed(t)) = ev.iter().find(|e| matches!(e, Event::TripClosed(_))) else {
        panic!("{:#?}", render(&ev));
    };
    assert_eq!(t.distance_source, DistanceSource::Track);
    assert!((t.distance_m - 1668.0).abs() < 5.0, "{}", t.distance_m);
}

#[test]
fn ignition_off_closes_only_once_the_clock_or_a_point_shows_it_stayed_off() {
    let trace = "2024-03-04T07:00:00Z, 59.90000, 10.70000, 1, 50000
                 2024-03-04T07:05:00Z, 59.93000, 10.70000, 1, 53400
                 2024-03-04T07:06:00Z, 59.93000, 10.70000, 0, 53400";
    assert!(
        !events(trace)
            .iter()
            .any(|e| matches!(e, Event::TripClosed(_)))
    );
    let early = format!("{trace}\n@advance 2024-03-04T07:06:59Z");
    assert!(
        !events(&early)
            .iter()
            .any(|e| matches!(e, Event::TripClosed(_)))
    );
    let late = format!("{trace}\n@advance 2024-03-04T07:07:00Z");
    assert!(
        events(&late).iter().any(
            |e| matches!(e, Event::TripClosed(t) if t.end.rfc3339() == "2024-03-04T07:06:00Z")
        )
    );
}

#[test]
fn a_flap_reported_late_reopens_a_trip_the_clock_closed() {
    // The clock closed the trip at 07:06; then a record from 07:06:30 (ignition on again, the
    // driver drove on) arrives late. The closed trip is withdrawn (replaced by none: the trip
    // is in progress again), and the trip that goes on to 07:20 closes later.
    let ev = events(
        "2024-03-04T07:00:00Z, 59.90000, 10.70000, 1, 50000
         2024-03-04T07:05:00Z, 59.93000, 10.70000, 1, 53400
         2024-03-04T07:06:00Z, 59.93000, 10.70000, 0, 53400
         @advance 2024-03-04T07:10:00Z
         2024-03-04T07:20:00Z, 59.99000, 10.70000, 0, 60100
         2024-03-04T07:06:30Z, 59.93000, 10.70000, 1, 53400
         @advance 2024-03-04T07:30:00Z",
    );
    let r = render(&ev);
    let folded = trace::fold(&ev);
    assert_eq!(folded.trips.len(), 1, "{r:#?}");
    let t = folded.trips.values().next().expect("one trip");
    assert_eq!(t.end.rfc3339(), "2024-03-04T07:20:00Z", "{r:#?}");
    assert!((t.distance_m - 10_100.0).abs() < 1e-9);
    assert!(
        ev.iter().any(
            |e| matches!(e, Event::TripReplaced { old, new } if old.len() == 1 && new.is_empty())
        ),
        "{r:#?}"
    );
}

#[test]
fn privacy_on_right_after_the_start_makes_the_whole_trip_private() {
    // 100 m of business driving, then privacy mode: too short to be a trip of its own, it
    // joins the private trip (privacy wins) instead of being dropped or staying business.
    let ev = events(
        "2024-03-04T07:00:00Z, 59.90000, 10.70000, 1, 50000, 0
         2024-03-04T07:00:10Z, 59.90090, 10.70000, 1, 50100, 0
         2024-03-04T07:00:20Z, 59.90180, 10.70000, 1, 50200, 1
         2024-03-04T07:03:00Z, 59.93000, 10.70000, 1, 53400, 1
         2024-03-04T07:04:00Z, 59.93000, 10.70000, 0, 53400, 1
         @advance 2024-03-04T08:00:00Z",
    );
    let folded = trace::fold(&ev);
    let trips: Vec<_> = folded.trips.values().collect();
    assert_eq!(trips.len(), 1, "{:#?}", render(&ev));
    assert!(trips[0].private);
    assert_eq!(trips[0].start.rfc3339(), "2024-03-04T07:00:00Z");
    assert!((trips[0].distance_m - 3400.0).abs() < 1e-9);
}

#[test]
fn a_phone_live_first_gives_way_to_the_trackers_buffered_records() {
    // The phone (rank 1) reports live while the tracker (rank 0) has no coverage; the tracker's
    // buffered records for the same minutes arrive afterwards and replace the phone's points:
    // the trip is the tracker's (its odometer), and the phone's points are no longer used.
    let ev = events(
        "2024-03-04T07:00:05Z, 59.90010, 10.70000, , , , , 1
         2024-03-04T07:01:05Z, 59.90510, 10.70000, , , , , 1
         2024-03-04T07:02:05Z, 59.91010, 10.70000, , , , , 1
         2024-03-04T07:03:05Z, 59.91510, 10.70000, , , , , 1
         @batch
         2024-03-04T06:59:00Z, 59.90000, 10.70000, 0, 50000
         2024-03-04T07:00:00Z, 59.90000, 10.70000, 1, 50000
         2024-03-04T07:01:00Z, 59.90500, 10.70000, 1, 50560
         2024-03-04T07:02:00Z, 59.91000, 10.70000, 1, 51120
         2024-03-04T07:03:00Z, 59.91500, 10.70000, 0, 51680
         @end
         @advance 2024-03-04T08:00:00Z",
    );
    let folded = trace::fold(&ev);
    let trips: Vec<_> = folded.trips.values().collect();
    assert_eq!(trips.len(), 1, "{:#?}", render(&ev));
    assert_eq!(trips[0].distance_source, DistanceSource::Odometer);
    assert!((trips[0].distance_m - 1680.0).abs() < 1e-9);
    assert_eq!(trips[0].start.rfc3339(), "2024-03-04T07:00:00Z");
    assert!(folded.deviations.is_empty(), "{:#?}", render(&ev));
}
