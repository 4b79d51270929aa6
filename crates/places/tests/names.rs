//! Naming trip ends: sites first, then the gazetteer.

use org::{Geometry, Site, SiteKind};
use places::{Gazetteer, Lang, MAX_LOCALITY_M, PlaceName, PlaceNamer};

fn sites() -> Vec<Site> {
    vec![
        Site {
            name: "Depot Alnabru".into(),
            kind: SiteKind::Depot,
            address: Some("Alnabruveien 1, 0668 Oslo".into()),
            geometry: Geometry::Circle {
                lat: 59.9300,
                lon: 10.8400,
                radius_m: 150.0,
            },
        },
        // A building site in the middle of Lillestrøm, as a polygon.
        Site {
            name: "Byggeplass Storgata".into(),
            kind: SiteKind::BuildingSite,
            address: None,
            geometry: Geometry::Polygon(vec![
                (59.9550, 11.0480),
                (59.9550, 11.0510),
                (59.9570, 11.0510),
                (59.9570, 11.0480),
            ]),
        },
        // A large customer area overlapping the building site: the nearer centre wins.
        Site {
            name: "Kunde Lillestrøm Senter".into(),
            kind: SiteKind::Customer,
            address: None,
            geometry: Geometry::Circle {
                lat: 59.9600,
                lon: 11.0500,
                radius_m: 800.0,
            },
        },
    ]
}

fn locality(p: &PlaceName<'_>) -> (String, f64) {
    match p {
        PlaceName::Locality { name, distance_m } => ((*name).to_owned(), *distance_m),
        other => panic!("expected a locality, got {other:?}"),
    }
}

#[test]
fn embedded_gazetteer_has_the_norwegian_towns_with_their_proper_names() {
    let g = Gazetteer::embedded();
    assert!(g.len() > 600, "{}", g.len());
    for name in [
        "Oslo",
        "Drammen",
        "Lillestrøm",
        "Trondheim",
        "Tromsø",
        "Bodø",
        "Ålesund",
    ] {
        assert!(
            g.localities().iter().any(|l| l.name == name),
            "{name} is missing"
        );
    }
}

#[test]
fn known_towns() {
    let g = Gazetteer::embedded();
    for (lat, lon, want) in [
        (59.7441, 10.2045, "Drammen"),
        (59.9560, 11.0490, "Lillestrøm"),
        (63.4305, 10.3951, "Trondheim"),
        (59.9127, 10.7461, "Oslo"),
    ] {
        let (name, d) = g.nearest(lat, lon).expect("a locality");
        assert_eq!(name, want);
        assert!(d < 1_000.0, "{want}: {d} m");
    }
}

#[test]
fn nearest_matches_a_full_scan() {
    let g = Gazetteer::embedded();
    let q = domain::Position::new(61.0, 9.0).expect("valid");
    let scan = g
        .localities()
        .iter()
        .map(|l| {
            let p = domain::Position::new(l.lat, l.lon).expect("valid");
            (l.name.as_str(), q.distance_m(p))
        })
        .min_by(|a, b| a.1.total_cmp(&b.1));
    assert_eq!(g.nearest(61.0, 9.0), scan);
}

#[test]
fn depot_is_named_by_the_site() {
    let sites = sites();
    let namer = PlaceNamer::new(&sites);
    let p = namer.name(59.9301, 10.8402);
    assert_eq!(
        p,
        PlaceName::Site {
            name: "Depot Alnabru",
            kind: SiteKind::Depot,
            address: Some("Alnabruveien 1, 0668 Oslo"),
        }
    );
    assert_eq!(p.to_string(), "Depot Alnabru (Alnabruveien 1, 0668 Oslo)");
}

#[test]
fn site_is_preferred_over_the_town_and_the_nearest_site_wins() {
    let sites = sites();
    let namer = PlaceNamer::new(&sites);
    // Inside both the building site and the customer circle, in Lillestrøm itself.
    let p = namer.name(59.9560, 11.0495);
    assert!(
        matches!(
            p,
            PlaceName::Site {
                name: "Byggeplass Storgata",
                kind: SiteKind::BuildingSite,
                ..
            }
        ),
        "{p:?}"
    );
    // Only inside the customer's circle.
    let p = namer.name(59.9620, 11.0500);
    assert!(
        matches!(
            p,
            PlaceName::Site {
                name: "Kunde Lillestrøm Senter",
                ..
            }
        ),
        "{p:?}"
    );
    // Without sites the same point is the town.
    let no_sites = PlaceNamer::new(&[]);
    assert_eq!(locality(&no_sites.name(59.9560, 11.0495)).0, "Lillestrøm");
}

#[test]
fn town_centre_is_named_plainly_and_farther_out_as_near() {
    let namer = PlaceNamer::new(&[]);
    let p = namer.name(59.7441, 10.2045);
    assert_eq!(p.render(Lang::Norwegian), "Drammen");
    // Kjeller airfield, ~4 km north-east of Lillestrøm's centre: nearer Lillestrøm than any
    // other locality in the list, but not in it.
    let p = namer.name(59.9700, 11.1000);
    let (name, d) = locality(&p);
    assert!(d > 2_000.0, "{name} {d}");
    assert_eq!(p.render(Lang::Norwegian), format!("nær {name}"));
    assert_eq!(p.render(Lang::English), format!("near {name}"));
}

#[test]
fn a_point_at_sea_is_unknown() {
    let namer = PlaceNamer::new(&[]);
    // The North Sea, ~150 km west of Stavanger.
    let p = namer.name(58.9, 3.0);
    assert_eq!(p, PlaceName::Unknown);
    assert_eq!(p.render(Lang::Norwegian), "ukjent sted");
    assert_eq!(p.render(Lang::English), "unknown place");
    let (_, d) = Gazetteer::embedded()
        .nearest(58.9, 3.0)
        .expect("some locality");
    assert!(d > MAX_LOCALITY_M);
}

#[test]
fn invalid_input_is_unknown_not_a_panic() {
    let namer = PlaceNamer::new(&[]);
    assert_eq!(namer.name(f64::NAN, 10.0), PlaceName::Unknown);
    assert_eq!(namer.name(95.0, 10.0), PlaceName::Unknown);
    assert_eq!(Gazetteer::default().nearest(59.9, 10.7), None);
}

#[test]
fn gazetteer_parse_errors_say_where() {
    let e = Gazetteer::parse("#h\nOslo\t59.9\n").expect_err("no lon");
    assert_eq!(e.line, 2);
    let g = Gazetteer::parse("A\t1.0\t2.0\nB\t-1.0\t2.0\t7\n").expect("valid");
    assert_eq!(g.len(), 2);
    assert_eq!(g.nearest(-0.9, 2.0).map(|(n, _)| n), Some("B"));
}
