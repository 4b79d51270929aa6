//! Names the places where trips start and end, for the driving log ("hvor kjøringen
//! avsluttes", seed 001, 2.2.3): the employer's own sites first (a customer, a building site, the
//! depot), then the nearest Norwegian locality from an offline gazetteer. An address service,
//! when configured, comes after this crate and is not its business.
//!
//! Architecture Invariant: sans-IO and offline. The gazetteer ships inside the binary
//! (`data/no_localities.tsv`, GeoNames, CC BY 4.0: show [`ATTRIBUTION`] wherever the names are
//! shown or exported); no lookup leaves the machine, so no position is disclosed to a third party.

use std::fmt;
use std::sync::OnceLock;

use domain::Position;
use org::{Geometry, Site, SiteKind};

/// The credit the gazetteer's licence (CC BY 4.0) asks for.
pub const ATTRIBUTION: &str = "Place names: GeoNames (geonames.org), CC BY 4.0";
/// [`ATTRIBUTION`] in bokmål, for Norwegian documents.
pub const ATTRIBUTION_NB: &str = "Stedsnavn: GeoNames (geonames.org), CC BY 4.0";

/// A locality is named plainly within this distance, and as "near …" beyond it.
pub const NEAR_M: f64 = 2_000.0;

/// Beyond this distance from every locality a place is [`PlaceName::Unknown`] (at sea, abroad,
/// deep in the mountains).
pub const MAX_LOCALITY_M: f64 = 30_000.0;

const EMBEDDED: &str = include_str!("../data/no_localities.tsv");

#[derive(Clone, Debug, PartialEq)]
pub struct Locality {
    pub name: String,
    pub lat: f64,
    pub lon: f64,
    /// 0 when GeoNames does not know it.
    pub population: u32,
}

/// A list of localities, sorted by latitude for the nearest-neighbour search.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Gazetteer {
    by_lat: Vec<Locality>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GazetteerError {
    pub line: usize,
    pub what: &'static str,
}

impl fmt::Display for GazetteerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "gazetteer line {}: {} (expected name<TAB>lat<TAB>lon<TAB>population)",
            self.line, self.what
        )
    }
}

impl std::error::Error for GazetteerError {}

const M_PER_DEG_LAT: f64 = 111_195.0;

impl Gazetteer {
    /// The Norwegian localities shipped with Sporvern, parsed on first use.
    pub fn embedded() -> &'static Gazetteer {
        static G: OnceLock<Gazetteer> = OnceLock::new();
        G.get_or_init(|| Gazetteer::parse(EMBEDDED).expect("the embedded gazetteer is valid"))
    }

    /// Parses `name<TAB>lat<TAB>lon[<TAB>population]` lines; `#` lines are comments.
    pub fn parse(text: &str) -> Result<Gazetteer, GazetteerError> {
        let mut by_lat = Vec::new();
        for (i, l) in text.lines().enumerate() {
            if l.trim().is_empty() || l.starts_with('#') {
                continue;
            }
            let err = |what| GazetteerError { line: i + 1, what };
            let mut f = l.split('\t');
            let name = f.next().map(str::trim).filter(|n| !n.is_empty());
            let name = name.ok_or(err("no name"))?;
            let lat = f.next().and_then(|v| v.trim().parse::<f64>().ok());
            let lon = f.next().and_then(|v| v.trim().parse::<f64>().ok());
            let (Some(lat), Some(lon)) = (lat, lon) else {
                return Err(err("no valid lat and lon"));
            };
            if Position::new(lat, lon).is_none() {
                return Err(err("lat/lon outside the globe"));
            }
            let population = match f.next().map(str::trim) {
                None | Some("") => 0,
                Some(v) => v.parse().map_err(|_| err("population is not a number"))?,
            };
            by_lat.push(Locality {
                name: name.to_owned(),
                lat,
                lon,
                population,
            });
        }
        by_lat.sort_by(|a, b| a.lat.total_cmp(&b.lat));
        Ok(Gazetteer { by_lat })
    }

    pub fn len(&self) -> usize {
        self.by_lat.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_lat.is_empty()
    }

    pub fn localities(&self) -> &[Locality] {
        &self.by_lat
    }

    /// The nearest locality and its distance in metres. Searches outwards from the latitude
    /// and stops once the latitude difference alone exceeds the best distance found.
    pub fn nearest(&self, lat: f64, lon: f64) -> Option<(&str, f64)> {
        let q = Position::new(lat, lon)?;
        let all = &self.by_lat;
        let mut best: Option<(usize, f64)> = None;
        // Looks at locality `i`; false once it (and all beyond it) lie farther in latitude
        // alone than the best so far.
        let mut look = |i: usize| -> bool {
            let Some(l) = all.get(i) else { return false };
            let lat_gap = (l.lat - lat).abs() * M_PER_DEG_LAT;
            if best.is_some_and(|(_, d)| lat_gap > d) {
                return false;
            }
            if let Some(d) = Position::new(l.lat, l.lon).map(|p| q.distance_m(p))
                && best.is_none_or(|(_, bd)| d < bd)
            {
                best = Some((i, d));
            }
            true
        };
        let start = all.partition_point(|l| l.lat < lat);
        let (mut up, mut down) = (start, start);
        let (mut up_open, mut down_open) = (true, true);
        while up_open || down_open {
            if up_open {
                up_open = look(up);
                up += 1;
            }
            if down_open {
                down_open = down > 0 && look(down - 1);
                down = down.saturating_sub(1);
            }
        }
        best.and_then(|(i, d)| all.get(i).map(|l| (l.name.as_str(), d)))
    }
}

/// What a place is called in the driving log.
#[derive(Clone, Debug, PartialEq)]
pub enum PlaceName<'a> {
    /// One of the employer's own sites.
    Site {
        name: &'a str,
        kind: SiteKind,
        address: Option<&'a str>,
    },
    /// The nearest locality, `distance_m` away.
    Locality {
        name: &'a str,
        distance_m: f64,
    },
    Unknown,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Norwegian,
    English,
}

impl PlaceName<'_> {
    /// The name as the driving log shows it: "Kunde AS (Storgata 1, Oslo)", "Lillestrøm",
    /// "nær Lillestrøm" / "near Lillestrøm" beyond [`NEAR_M`], "ukjent sted" / "unknown place".
    pub fn render(&self, lang: Lang) -> String {
        match (self, lang) {
            (PlaceName::Site { name, address, .. }, _) => match address {
                Some(a) => format!("{name} ({a})"),
                None => (*name).to_owned(),
            },
            (PlaceName::Locality { name, distance_m }, _) if *distance_m <= NEAR_M => {
                (*name).to_owned()
            }
            (PlaceName::Locality { name, .. }, Lang::Norwegian) => format!("nær {name}"),
            (PlaceName::Locality { name, .. }, Lang::English) => format!("near {name}"),
            (PlaceName::Unknown, Lang::Norwegian) => "ukjent sted".to_owned(),
            (PlaceName::Unknown, Lang::English) => "unknown place".to_owned(),
        }
    }
}

impl fmt::Display for PlaceName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(Lang::Norwegian))
    }
}

/// Names positions: the employer's sites first, then the gazetteer.
#[derive(Clone, Debug)]
pub struct PlaceNamer<'a> {
    sites: &'a [Site],
    gazetteer: &'a Gazetteer,
}

/// A site's reference point, to choose the nearest when several contain a position.
fn centre(g: &Geometry) -> Option<Position> {
    match g {
        Geometry::Circle { lat, lon, .. } => Position::new(*lat, *lon),
        Geometry::Polygon(ring) if !ring.is_empty() => {
            let n = ring.len() as f64;
            let (la, lo) = ring
                .iter()
                .fold((0.0, 0.0), |(a, b), (la, lo)| (a + la, b + lo));
            Position::new(la / n, lo / n)
        }
        Geometry::Polygon(_) => None,
    }
}

impl<'a> PlaceNamer<'a> {
    /// With the embedded gazetteer.
    pub fn new(sites: &'a [Site]) -> PlaceNamer<'a> {
        PlaceNamer::with_gazetteer(sites, Gazetteer::embedded())
    }

    pub fn with_gazetteer(sites: &'a [Site], gazetteer: &'a Gazetteer) -> PlaceNamer<'a> {
        PlaceNamer { sites, gazetteer }
    }

    pub fn name(&self, lat: f64, lon: f64) -> PlaceName<'a> {
        let Some(q) = Position::new(lat, lon) else {
            return PlaceName::Unknown;
        };
        let site = self
            .sites
            .iter()
            .filter(|s| s.geometry.contains(lat, lon))
            .map(|s| (s, centre(&s.geometry).map_or(0.0, |c| c.distance_m(q))))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((s, _)) = site {
            return PlaceName::Site {
                name: &s.name,
                kind: s.kind,
                address: s.address.as_deref(),
            };
        }
        match self.gazetteer.nearest(lat, lon) {
            Some((name, distance_m)) if distance_m <= MAX_LOCALITY_M => {
                PlaceName::Locality { name, distance_m }
            }
            _ => PlaceName::Unknown,
        }
    }

    /// Shorthand for a [`Position`].
    pub fn name_position(&self, p: Position) -> PlaceName<'a> {
        self.name(p.lat(), p.lon())
    }
}
