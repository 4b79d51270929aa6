//! Running totals against the tax thresholds that matter to the people who drive, with a
//! warning before a limit is crossed.
//!
//! Source: Skatteetaten, Skatte-ABC, "Bil – fri bruk" (as vendors and accountants quote it):
//! occasional private use of a company car is tax-free only at most 10 days **and** 1,000 km
//! a year; a van valued individually is taxed per km of private driving; more than 40,000 km
//! of work driving a year lowers the car's valuation base, documented by a driving log.

use std::collections::BTreeSet;

use domain::VehicleKind;
use domain::drivinglog::{Classification, LogEntry};

/// One year's totals so far.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct YearTotals {
    pub private_days: usize,
    pub private_km: f64,
    pub business_km: f64,
    pub unclassified_km: f64,
}

pub fn totals(entries: &[LogEntry]) -> YearTotals {
    let mut days = BTreeSet::new();
    let mut t = YearTotals::default();
    for e in entries {
        match e {
            LogEntry::Private(p) => {
                days.insert(p.date);
                t.private_km += p.km;
            }
            LogEntry::Unclassified(p) => t.unclassified_km += p.km,
            LogEntry::Trip(trip) => match &trip.classification {
                Classification::Business { .. } => t.business_km += trip.km,
                Classification::Unclassified => t.unclassified_km += trip.km,
                Classification::Private => {
                    days.insert(trip.date);
                    t.private_km += trip.km;
                }
            },
        }
    }
    t.private_days = days.len();
    t
}

/// A notice about a threshold, in bokmål and English.
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    pub code: &'static str,
    pub nb: String,
    pub en: String,
}

/// Occasional private use: at most this many days a year …
pub const OCCASIONAL_DAYS: usize = 10;
/// … and at most this many km a year (both limits).
pub const OCCASIONAL_KM: f64 = 1_000.0;
/// Work driving above this many km a year lowers the valuation base.
pub const WORK_KM: f64 = 40_000.0;
/// Warn at this share of a limit.
const WARN_AT: f64 = 0.8;

impl YearTotals {
    /// Whether private use so far stays within occasional private use (10 days and 1,000 km).
    pub fn occasional_private_use(&self) -> bool {
        self.private_days <= OCCASIONAL_DAYS && self.private_km <= OCCASIONAL_KM
    }

    /// Whether work driving so far is above 40,000 km.
    pub fn work_driving_over_threshold(&self) -> bool {
        self.business_km > WORK_KM
    }
}

pub fn notices(kind: VehicleKind, t: &YearTotals) -> Vec<Notice> {
    let mut out = Vec::new();
    match kind {
        VehicleKind::Car => {
            if t.private_days > OCCASIONAL_DAYS || t.private_km > OCCASIONAL_KM {
                out.push(Notice {
                    code: "occasional_private_use_exceeded",
                    nb: format!(
                        "Privat bruk i år: {} dager og {:.0} km. Grensen for sporadisk privat bruk (høyst 10 dager og 1 000 km) er passert; bilen kan bli fordelsbeskattet.",
                        t.private_days, t.private_km
                    ),
                    en: format!(
                        "Private use this year: {} days and {:.0} km. The limit for occasional private use (at most 10 days and 1,000 km) is passed; the car may be taxed as a benefit.",
                        t.private_days, t.private_km
                    ),
                });
            } else if t.private_days as f64 >= WARN_AT * OCCASIONAL_DAYS as f64
                || t.private_km >= WARN_AT * OCCASIONAL_KM
            {
                out.push(Notice {
                    code: "occasional_private_use_near",
                    nb: format!(
                        "Privat bruk i år: {} av 10 dager og {:.0} av 1 000 km for sporadisk privat bruk.",
                        t.private_days, t.private_km
                    ),
                    en: format!(
                        "Private use this year: {} of 10 days and {:.0} of 1,000 km allowed for occasional private use.",
                        t.private_days, t.private_km
                    ),
                });
            }
        }
        VehicleKind::Van => {
            if t.private_km > 0.0 {
                out.push(Notice {
                    code: "van_private_km",
                    nb: format!("Privat kjøring med varebil i år: {:.0} km (skattlegges per km når varebilen verdsettes individuelt).", t.private_km),
                    en: format!("Private driving with the van this year: {:.0} km (taxed per km when the van is valued individually).", t.private_km),
                });
            }
        }
    }
    if t.business_km > WORK_KM {
        out.push(Notice {
            code: "work_driving_over_40000",
            nb: format!("Yrkeskjøring i år: {:.0} km, over 40 000 km: kjøreboken dokumenterer redusert beregningsgrunnlag.", t.business_km),
            en: format!("Work driving this year: {:.0} km, over 40,000 km: the driving log documents a reduced valuation base.", t.business_km),
        });
    } else if t.business_km >= WARN_AT * WORK_KM {
        out.push(Notice {
            code: "work_driving_near_40000",
            nb: format!("Yrkeskjøring i år: {:.0} av 40 000 km.", t.business_km),
            en: format!("Work driving this year: {:.0} of 40,000 km.", t.business_km),
        });
    }
    if t.unclassified_km > 0.0 {
        out.push(Notice {
            code: "unclassified_trips",
            nb: format!(
                "{:.0} km er ikke klassifisert ennå (yrke eller privat).",
                t.unclassified_km
            ),
            en: format!(
                "{:.0} km are not classified yet (business or private).",
                t.unclassified_km
            ),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::drivinglog::PrivateTrip;

    fn private(day: u8, km: f64) -> LogEntry {
        let date = time::Date::from_calendar_date(2026, time::Month::March, day).expect("date");
        LogEntry::Private(PrivateTrip {
            id: i64::from(day),
            date,
            km,
        })
    }

    fn codes(kind: VehicleKind, entries: &[LogEntry]) -> Vec<&'static str> {
        notices(kind, &totals(entries))
            .into_iter()
            .map(|n| n.code)
            .collect()
    }

    #[test]
    fn occasional_private_use_is_ten_days_and_a_thousand_km_both() {
        let seven: Vec<_> = (1..=7).map(|d| private(d, 20.0)).collect();
        assert!(codes(VehicleKind::Car, &seven).is_empty());
        let eight: Vec<_> = (1..=8).map(|d| private(d, 20.0)).collect();
        assert_eq!(
            codes(VehicleKind::Car, &eight),
            vec!["occasional_private_use_near"]
        );
        let eleven: Vec<_> = (1..=11).map(|d| private(d, 5.0)).collect();
        assert_eq!(
            codes(VehicleKind::Car, &eleven),
            vec!["occasional_private_use_exceeded"],
            "days alone"
        );
        let long = vec![private(1, 600.0), private(2, 450.0)];
        assert_eq!(
            codes(VehicleKind::Car, &long),
            vec!["occasional_private_use_exceeded"],
            "km alone"
        );
        // Two trips on one day count as one day.
        let same_day = vec![private(3, 5.0), private(3, 5.0)];
        assert_eq!(totals(&same_day).private_days, 1);
    }

    #[test]
    fn a_van_reports_private_km() {
        assert_eq!(
            codes(VehicleKind::Van, &[private(1, 12.0)]),
            vec!["van_private_km"]
        );
    }
}
