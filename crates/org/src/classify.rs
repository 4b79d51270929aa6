//! Automatic classification, as the Norwegian driving-log products do it: per-organisation
//! rules that *propose* a class for a trip its driver has not classified. The driver confirms
//! or changes the proposal until the month is signed; a proposal is never a classification
//! (SPEC.md: "Drivers classify trips"), and it is computed from the rules in force when the log
//! is read, so a corrected rule corrects every open proposal.
//!
//! The rules, first match wins:
//! 1. privacy mode: a trip driven in privacy mode is private and gets no proposal at all — no
//!    rule can make it business (the caller only asks for trips that are not private);
//! 2. sites: a trip ending (else starting) at a site a rule names (by name or by kind) gets
//!    that rule's class; business with the site's name as its purpose ("Kunde: …");
//! 3. periods: a trip starting on a date in a period (holidays) gets the period's class;
//! 4. working hours: a trip starting inside the working hours of its weekday is business
//!    (the driver states the purpose); outside them, `outside_working_hours`.
//!
//! Sans-IO: local times come in, the caller converts from UTC.

use time::{Date, PrimitiveDateTime, Time, Weekday};

use crate::model::{Site, SiteKind};

/// The class a rule proposes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleClass {
    Business,
    Private,
}

impl RuleClass {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleClass::Business => "business",
            RuleClass::Private => "private",
        }
    }

    pub fn parse(s: &str) -> Option<RuleClass> {
        match s {
            "business" => Some(RuleClass::Business),
            "private" => Some(RuleClass::Private),
            _ => None,
        }
    }
}

/// Working hours of one weekday, local time: from (inclusive) to (exclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hours {
    pub from: Time,
    pub to: Time,
}

impl Hours {
    pub fn contains(&self, t: Time) -> bool {
        self.from <= t && t < self.to
    }
}

/// A date range with a class, e.g. the company's Christmas holiday = private.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeriodRule {
    pub name: String,
    /// First and last day, both inclusive.
    pub from: Date,
    pub to: Date,
    pub class: RuleClass,
}

/// Which sites a site rule matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SiteMatch {
    Named(String),
    Kind(SiteKind),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteRule {
    pub site: SiteMatch,
    pub class: RuleClass,
}

/// The organisation's classification rules (`[classification]` in the organisation file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassificationRules {
    /// Monday first; `None`: no working hours that day.
    pub working_hours: [Option<Hours>; 7],
    /// What a trip outside working hours is proposed as; `None`: no proposal.
    pub outside_working_hours: Option<RuleClass>,
    pub periods: Vec<PeriodRule>,
    pub sites: Vec<SiteRule>,
    /// The keeper's list of trips still unclassified after this many days.
    pub unclassified_after_days: u32,
}

impl Default for ClassificationRules {
    fn default() -> ClassificationRules {
        ClassificationRules {
            working_hours: [None; 7],
            outside_working_hours: None,
            periods: Vec::new(),
            sites: Vec::new(),
            unclassified_after_days: 7,
        }
    }
}

/// The weekday names of the file, Monday first.
pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// What the rules see of a trip. Only trips that are not private are ever passed in.
#[derive(Clone, Copy, Debug)]
pub struct TripFacts<'a> {
    /// Local (Norwegian) start time.
    pub start: PrimitiveDateTime,
    pub start_place: &'a str,
    pub end_place: &'a str,
}

/// A proposed class, the purpose that goes with it, and the rule that made it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposal {
    pub class: RuleClass,
    /// For a business proposal by site: the site's name.
    pub purpose: Option<String>,
    pub rule: ProposedBy,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProposedBy {
    Site(String),
    Period(String),
    WorkingHours,
    OutsideWorkingHours,
}

impl ProposedBy {
    /// For the log: which rule, in bokmål or English.
    pub fn describe(&self, english: bool) -> String {
        match (self, english) {
            (ProposedBy::Site(s), false) => format!("sted: {s}"),
            (ProposedBy::Site(s), true) => format!("site: {s}"),
            (ProposedBy::Period(p), false) => format!("periode: {p}"),
            (ProposedBy::Period(p), true) => format!("period: {p}"),
            (ProposedBy::WorkingHours, false) => "i arbeidstiden".to_owned(),
            (ProposedBy::WorkingHours, true) => "within working hours".to_owned(),
            (ProposedBy::OutsideWorkingHours, false) => "utenfor arbeidstiden".to_owned(),
            (ProposedBy::OutsideWorkingHours, true) => "outside working hours".to_owned(),
        }
    }
}

fn weekday_index(w: Weekday) -> usize {
    usize::from(w.number_days_from_monday())
}

/// The site a trip end is named after: the driving log names a site's trip ends by the site's
/// name, followed by its address in parentheses when it has one (`places::PlaceName::render`).
fn site_at<'s>(sites: &'s [Site], place: &str) -> Option<&'s Site> {
    sites.iter().find(|s| {
        place == s.name
            || place
                .strip_prefix(s.name.as_str())
                .is_some_and(|rest| rest.starts_with(" ("))
    })
}

impl ClassificationRules {
    /// Whether any rule is configured.
    pub fn is_empty(&self) -> bool {
        self.working_hours.iter().all(Option::is_none)
            && self.periods.is_empty()
            && self.sites.is_empty()
    }

    /// Whether a local time falls inside the working hours of its weekday. Without working
    /// hours configured at all, nothing is outside them.
    pub fn within_working_hours(&self, t: PrimitiveDateTime) -> Option<bool> {
        if self.working_hours.iter().all(Option::is_none) {
            return None;
        }
        Some(self.working_hours[weekday_index(t.weekday())].is_some_and(|h| h.contains(t.time())))
    }

    /// The proposal for a trip that is not private, if a rule makes one.
    pub fn propose(&self, sites: &[Site], trip: &TripFacts<'_>) -> Option<Proposal> {
        for place in [trip.end_place, trip.start_place] {
            let Some(site) = site_at(sites, place) else {
                continue;
            };
            let rule = self.sites.iter().find(|r| match &r.site {
                SiteMatch::Named(n) => *n == site.name,
                SiteMatch::Kind(k) => *k == site.kind,
            });
            if let Some(r) = rule {
                return Some(Proposal {
                    class: r.class,
                    purpose: (r.class == RuleClass::Business).then(|| site.name.clone()),
                    rule: ProposedBy::Site(site.name.clone()),
                });
            }
        }
        let date = trip.start.date();
        if let Some(p) = self.periods.iter().find(|p| p.from <= date && date <= p.to) {
            return Some(Proposal {
                class: p.class,
                purpose: None,
                rule: ProposedBy::Period(p.name.clone()),
            });
        }
        match self.within_working_hours(trip.start)? {
            true => Some(Proposal {
                class: RuleClass::Business,
                purpose: None,
                rule: ProposedBy::WorkingHours,
            }),
            false => self.outside_working_hours.map(|class| Proposal {
                class,
                purpose: None,
                rule: ProposedBy::OutsideWorkingHours,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Geometry;
    use time::macros::{date, datetime, time};

    fn rules() -> ClassificationRules {
        let day = Some(Hours {
            from: time!(07:00),
            to: time!(17:00),
        });
        ClassificationRules {
            working_hours: [day, day, day, day, day, None, None],
            outside_working_hours: Some(RuleClass::Private),
            periods: vec![PeriodRule {
                name: "Juleferie".into(),
                from: date!(2026 - 12 - 24),
                to: date!(2027 - 01 - 01),
                class: RuleClass::Private,
            }],
            sites: vec![SiteRule {
                site: SiteMatch::Kind(SiteKind::Customer),
                class: RuleClass::Business,
            }],
            unclassified_after_days: 7,
        }
    }

    fn sites() -> Vec<Site> {
        vec![Site {
            name: "Kunde: Sameiet Tøyen Torg".into(),
            kind: SiteKind::Customer,
            address: Some("Tøyengata 40".into()),
            geometry: Geometry::Circle {
                lat: 59.9,
                lon: 10.7,
                radius_m: 100.0,
            },
        }]
    }

    fn propose(start: PrimitiveDateTime, end_place: &str) -> Option<(RuleClass, Option<String>)> {
        rules()
            .propose(
                &sites(),
                &TripFacts {
                    start,
                    start_place: "Oslo",
                    end_place,
                },
            )
            .map(|p| (p.class, p.purpose))
    }

    #[test]
    fn rules_in_order() {
        // Tuesday 10:00 to a customer: business with the customer as purpose.
        assert_eq!(
            propose(
                datetime!(2026-11-03 10:00),
                "Kunde: Sameiet Tøyen Torg (Tøyengata 40)"
            ),
            Some((
                RuleClass::Business,
                Some("Kunde: Sameiet Tøyen Torg".into())
            ))
        );
        // Tuesday 10:00 elsewhere: business, purpose left to the driver.
        assert_eq!(
            propose(datetime!(2026-11-03 10:00), "Lillestrøm"),
            Some((RuleClass::Business, None))
        );
        // Tuesday 19:30: outside working hours.
        assert_eq!(
            propose(datetime!(2026-11-03 19:30), "Lillestrøm"),
            Some((RuleClass::Private, None))
        );
        // Saturday: no working hours.
        assert_eq!(
            propose(datetime!(2026-11-07 10:00), "Lillestrøm"),
            Some((RuleClass::Private, None))
        );
        // A weekday in the Christmas holiday.
        assert_eq!(
            propose(datetime!(2026-12-28 10:00), "Lillestrøm"),
            Some((RuleClass::Private, None))
        );
        // A site name is matched whole, not as a prefix of another name.
        assert_eq!(
            propose(datetime!(2026-11-03 19:30), "Kunde: Sameiet Tøyen Torg II"),
            Some((RuleClass::Private, None))
        );
    }

    #[test]
    fn no_rules_no_proposal() {
        let none = ClassificationRules::default();
        let facts = TripFacts {
            start: datetime!(2026-11-03 10:00),
            start_place: "a",
            end_place: "b",
        };
        assert_eq!(none.propose(&sites(), &facts), None);
        assert_eq!(none.within_working_hours(facts.start), None);
    }
}
