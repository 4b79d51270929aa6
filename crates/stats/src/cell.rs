//! The coarse grid the heat map is drawn on.

use domain::Position;
use serde::Serialize;

/// Height of a cell in degrees of latitude (≈ 5.6 km).
pub const CELL_LAT_DEG: f64 = 0.05;
/// Width of a cell in degrees of longitude (≈ 5.6 km at 60° N, where a degree of longitude is
/// half as long as at the equator).
pub const CELL_LON_DEG: f64 = 0.1;

/// A coarse grid cell: [`CELL_LAT_DEG`] × [`CELL_LON_DEG`], about 5.5 km × 5.5 km in southern
/// Norway. The finest place this crate ever knows or outputs: positions are reduced to a cell
/// before they reach the [`crate::Aggregator`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Cell {
    /// `floor(lat / CELL_LAT_DEG)`.
    pub lat_index: i32,
    /// `floor(lon / CELL_LON_DEG)`.
    pub lon_index: i32,
}

impl Cell {
    /// The cell a position lies in.
    pub fn of(p: Position) -> Cell {
        // Position guarantees |lat| ≤ 90 and |lon| ≤ 180, so the indices fit an i32 easily.
        Cell {
            lat_index: (p.lat() / CELL_LAT_DEG).floor() as i32,
            lon_index: (p.lon() / CELL_LON_DEG).floor() as i32,
        }
    }

    /// South-west corner `(lat, lon)`.
    pub fn south_west(self) -> (f64, f64) {
        (
            f64::from(self.lat_index) * CELL_LAT_DEG,
            f64::from(self.lon_index) * CELL_LON_DEG,
        )
    }

    /// Centre `(lat, lon)`, for drawing.
    pub fn centre(self) -> (f64, f64) {
        let (lat, lon) = self.south_west();
        (lat + CELL_LAT_DEG / 2.0, lon + CELL_LON_DEG / 2.0)
    }

    /// A short human label, the south-west corner: `"59.90N 10.70E"`.
    pub fn label(self) -> String {
        let (lat, lon) = self.south_west();
        let ns = if lat < 0.0 { 'S' } else { 'N' };
        let ew = if lon < 0.0 { 'W' } else { 'E' };
        format!("{:.2}{ns} {:.2}{ew}", lat.abs(), lon.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(lat: f64, lon: f64) -> Position {
        Position::new(lat, lon).expect("valid position")
    }

    #[test]
    fn nearby_points_share_a_cell_and_far_ones_do_not() {
        // Two points in central Oslo, a few hundred metres apart.
        assert_eq!(
            Cell::of(pos(59.9139, 10.7522)),
            Cell::of(pos(59.9115, 10.7400))
        );
        // Oslo and Lillestrøm (≈ 18 km) are in different cells.
        assert_ne!(
            Cell::of(pos(59.9139, 10.7522)),
            Cell::of(pos(59.9550, 11.0490))
        );
        let c = Cell::of(pos(59.9139, 10.7522));
        assert_eq!((c.lat_index, c.lon_index), (1198, 107));
        assert_eq!(c.label(), "59.90N 10.70E");
        let (lat, lon) = c.centre();
        assert!((lat - 59.925).abs() < 1e-9 && (lon - 10.75).abs() < 1e-9);
    }

    #[test]
    fn negative_coordinates_floor_downwards() {
        let c = Cell::of(pos(-0.01, -0.01));
        assert_eq!((c.lat_index, c.lon_index), (-1, -1));
        assert_eq!(c.label(), "0.05S 0.10W");
    }
}
