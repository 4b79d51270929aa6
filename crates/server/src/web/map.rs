//! The one map component on the server side: the markup `static/map.js` turns into a map
//! (Leaflet, vendored under `static/vendor/leaflet`), for the fleet view, alarm windows and
//! sites. Everything it draws is in the element's data attributes; with no tile server
//! configured it carries the names of nearby places from the embedded gazetteer as a readable
//! background (nothing leaves the server for that).

use maud::{Markup, html};

use super::{Lang, MapTiles};

/// What a map shows.
#[derive(Default)]
pub struct MapData<'a> {
    pub sites: &'a [org::Site],
    /// A path, oldest first (an alarm window's positions).
    pub track: Vec<(f64, f64)>,
    /// Marked points: (lat, lon, label, kind) with kind `now`, `start`, `end` or `mark`.
    pub marks: Vec<(f64, f64, String, &'static str)>,
}

/// The scripts a page with a map loads, in order.
pub const SCRIPTS: [&str; 2] = ["/static/leaflet.js", "/static/map.js"];

fn sites_json(sites: &[org::Site]) -> String {
    serde_json::Value::Array(
        sites
            .iter()
            .map(|s| match &s.geometry {
                org::Geometry::Circle { lat, lon, radius_m } => serde_json::json!({
                    "name": s.name, "circle": [lat, lon, radius_m]
                }),
                org::Geometry::Polygon(ring) => serde_json::json!({
                    "name": s.name, "polygon": ring
                }),
            })
            .collect(),
    )
    .to_string()
}

/// Up to 120 of the largest places in and around the area the map shows (its sites, track and
/// marks, or Oslo when it has none), as background labels.
fn places_json(points: &[(f64, f64)]) -> String {
    let (mut s, mut n, mut w, mut e) = (90.0f64, -90.0f64, 180.0f64, -180.0f64);
    for (lat, lon) in points {
        s = s.min(*lat);
        n = n.max(*lat);
        w = w.min(*lon);
        e = e.max(*lon);
    }
    if points.is_empty() {
        (s, n, w, e) = (59.91, 59.91, 10.75, 10.75);
    }
    // A margin of about 15 km, so a zoomed-out view still has names at its edges.
    let (s, n, w, e) = (s - 0.15, n + 0.15, w - 0.3, e + 0.3);
    let mut near: Vec<&places::Locality> = places::Gazetteer::embedded()
        .localities()
        .iter()
        .filter(|l| l.lat >= s && l.lat <= n && l.lon >= w && l.lon <= e)
        .collect();
    near.sort_by_key(|l| std::cmp::Reverse(l.population));
    near.truncate(120);
    serde_json::Value::Array(
        near.iter()
            .map(|l| serde_json::json!({ "name": l.name, "lat": l.lat, "lon": l.lon }))
            .collect(),
    )
    .to_string()
}

fn site_points(sites: &[org::Site]) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    for s in sites {
        match &s.geometry {
            org::Geometry::Circle { lat, lon, .. } => out.push((*lat, *lon)),
            org::Geometry::Polygon(ring) => out.extend(ring.iter().copied()),
        }
    }
    out
}

/// A map element: `id` for the page's own script (the fleet view), `label` for screen readers.
pub fn map(
    lang: Lang,
    id: Option<&str>,
    label: &str,
    data: &MapData<'_>,
    tiles: Option<&MapTiles>,
    class: &str,
) -> Markup {
    let mut points = site_points(data.sites);
    points.extend(data.track.iter().copied());
    points.extend(data.marks.iter().map(|(a, b, _, _)| (*a, *b)));
    let track =
        serde_json::to_string(&data.track.iter().map(|(a, b)| [*a, *b]).collect::<Vec<_>>())
            .unwrap_or_else(|_| "[]".to_owned());
    let marks = serde_json::Value::Array(
        data.marks
            .iter()
            .map(|(lat, lon, label, kind)| {
                serde_json::json!({ "lat": lat, "lon": lon, "label": label, "kind": kind })
            })
            .collect(),
    )
    .to_string();
    html! {
        div.smap.(class) id=[id] role="region" aria-label=(label)
            data-lang=(lang.code())
            data-sites=(sites_json(data.sites))
            data-track=(track)
            data-marks=(marks)
            data-places=[tiles.is_none().then(|| places_json(&points))]
            data-tiles=[tiles.map(|t| t.url.as_str())]
            data-attribution=[tiles.map(|t| t.attribution.as_str())] {
            div.smap-canvas {}
            noscript { p.muted { (lang.t("Kartet trenger JavaScript.", "The map needs JavaScript.")) } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_background_names_places_near_what_the_map_shows() {
        let names = places_json(&[(59.91, 10.75)]);
        assert!(names.contains("Oslo"), "{names}");
        let far = places_json(&[(69.65, 18.96)]);
        assert!(far.contains("Troms"), "{far}");
        assert!(!far.contains("\"Oslo\""), "{far}");
    }
}
