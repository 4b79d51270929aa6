//! Distances for the hot path.

use domain::Position;

const EARTH_RADIUS_M: f64 = 6_371_008.8;
const M_PER_DEG: f64 = EARTH_RADIUS_M * std::f64::consts::PI / 180.0;

/// Distance in metres: the equirectangular approximation (one cosine, error far below GPS
/// noise for steps of a few km), and the haversine of [`Position::distance_m`] beyond 10 km.
#[inline]
pub(crate) fn dist_m(a: Position, b: Position) -> f64 {
    let dy = (b.lat() - a.lat()) * M_PER_DEG;
    let mean_lat = ((a.lat() + b.lat()) * 0.5).to_radians();
    let dx = (b.lon() - a.lon()) * M_PER_DEG * mean_lat.cos();
    let d = (dx * dx + dy * dy).sqrt();
    if d > 10_000.0 { a.distance_m(b) } else { d }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_to_haversine() {
        let a = Position::new(59.91, 10.75).expect("valid");
        for (lat, lon) in [
            (59.9101, 10.7502),
            (59.915, 10.76),
            (59.95, 10.9),
            (63.43, 10.39),
        ] {
            let b = Position::new(lat, lon).expect("valid");
            let (fast, exact) = (dist_m(a, b), a.distance_m(b));
            assert!(
                (fast - exact).abs() <= exact * 1e-3 + 1e-6,
                "{fast} vs {exact}"
            );
        }
    }
}
