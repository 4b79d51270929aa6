//! The rules of the changes door (`server::changes`), sans-IO: may this trip be classified,
//! may this month be submitted, approved or returned, by whom, given its trips, its review
//! steps and today's date. The door loads the facts, asks here, and records what happened;
//! web, API and command line only call the door, so each rule exists once.
//!
//! The month's review (issue 12's approval flow): the driver *submits* a month that has ended
//! and whose trips are all classified; the log keeper *approves* it or *returns* it with a
//! comment the driver sees; the driver corrects and submits again. Only approval makes the
//! month final: after it no trip of the month changes through any door. A month without trips
//! is not signed at all (there is nothing to confirm; the log shows no trips for it).
//!
//! Source: Skatteetaten's demands on an electronic driving log as the vendors and accountants
//! quote them (seed 001, 2.2.3; Skatte-ABC "Bil – fordel av fri bil"): the log is kept
//! continuously, recorded distance, date and time cannot be corrected, and it is confirmed by
//! the driver and the employer.

use std::fmt;

use time::Date;

use crate::Timestamp;
use crate::drivinglog::{Classification, LogEntry};

/// What kind of "no" a rule gave: the doors answer 404, 403 or 409 (400 for bad input).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefusalKind {
    /// What was asked for does not exist.
    NotFound,
    /// It exists, but it is someone else's to change.
    NotYours,
    /// It cannot be done in the state it is in (a final month, a month not ended).
    Conflict,
    /// The request itself is malformed (an empty purpose, a bad month).
    Invalid,
}

/// A rule's refusal: why, in bokmål and English, so a person can act on it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{en}")]
pub struct Refusal {
    pub kind: RefusalKind,
    pub nb: String,
    pub en: String,
}

fn refuse(kind: RefusalKind, nb: impl Into<String>, en: impl Into<String>) -> Refusal {
    Refusal {
        kind,
        nb: nb.into(),
        en: en.into(),
    }
}

/// A calendar month, `YYYY-MM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    first: Date,
}

impl Month {
    /// Parses `YYYY-MM`; the error says how to write it.
    pub fn parse(s: &str) -> Result<Month, Refusal> {
        let bad = || {
            refuse(
                RefusalKind::Invalid,
                format!("en måned skrives ÅÅÅÅ-MM, for eksempel 2026-11, ikke {s:?}"),
                format!("a month is written YYYY-MM, e.g. 2026-11, not {s:?}"),
            )
        };
        let b = s.as_bytes();
        if b.len() != 7 || b[4] != b'-' || !s[..4].bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        let year: i32 = s[..4].parse().map_err(|_| bad())?;
        let month: u8 = s[5..].parse().map_err(|_| bad())?;
        let month = time::Month::try_from(month).map_err(|_| bad())?;
        let first = Date::from_calendar_date(year, month, 1).map_err(|_| bad())?;
        Ok(Month { first })
    }

    /// The month a date lies in.
    pub fn of(d: Date) -> Month {
        Month {
            first: d.replace_day(1).unwrap_or(d),
        }
    }

    pub fn first_day(self) -> Date {
        self.first
    }

    pub fn last_day(self) -> Date {
        let days = self.first.month().length(self.first.year());
        self.first.replace_day(days).unwrap_or(self.first)
    }

    /// The first day after the month.
    pub fn next_first_day(self) -> Date {
        self.last_day().next_day().unwrap_or(self.first)
    }

    pub fn contains(self, d: Date) -> bool {
        (self.first..=self.last_day()).contains(&d)
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}",
            self.first.year(),
            u8::from(self.first.month())
        )
    }
}

/// One step of a month's review.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepKind {
    /// The driver confirms the month's trips and hands it to the log keeper.
    Submitted,
    /// The log keeper sends it back with a comment; the driver can change it again.
    Returned,
    /// The log keeper approves: the month is final.
    Approved,
}

impl StepKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::Submitted => "submitted",
            StepKind::Returned => "returned",
            StepKind::Approved => "approved",
        }
    }

    pub fn parse(s: &str) -> Option<StepKind> {
        [StepKind::Submitted, StepKind::Returned, StepKind::Approved]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// A recorded step of a month's review: what, by whom (a user name), when, and the keeper's
/// comment when returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonthStep {
    pub kind: StepKind,
    pub by: String,
    pub at: Timestamp,
    pub comment: Option<String>,
}

/// Where a month's review stands: the latest step decides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Review<'a> {
    /// Nobody has submitted it yet: the driver may change and then submit it.
    Open,
    /// With the log keeper: nothing changes until it is approved or returned.
    Submitted(&'a MonthStep),
    /// Back with the driver, with the keeper's comment.
    Returned(&'a MonthStep),
    /// Final.
    Approved(&'a MonthStep),
}

/// The state of a month from its steps, oldest first.
pub fn review(steps: &[MonthStep]) -> Review<'_> {
    match steps.last() {
        None => Review::Open,
        Some(s) => match s.kind {
            StepKind::Submitted => Review::Submitted(s),
            StepKind::Returned => Review::Returned(s),
            StepKind::Approved => Review::Approved(s),
        },
    }
}

fn when(t: Timestamp) -> String {
    t.rfc3339()
}

/// Whether the month's trips may still change (classification, driver attribution): only
/// while it is open or returned to the driver.
pub fn month_open_for_changes(month: Month, steps: &[MonthStep]) -> Result<(), Refusal> {
    match review(steps) {
        Review::Open | Review::Returned(_) => Ok(()),
        Review::Submitted(s) => Err(refuse(
            RefusalKind::Conflict,
            format!(
                "{month} er sendt til kjørebokføreren ({} {}) og kan ikke endres før den er godkjent eller sendt tilbake",
                s.by,
                when(s.at)
            ),
            format!(
                "{month} was submitted to the log keeper ({} {}) and cannot change until it is approved or returned",
                s.by,
                when(s.at)
            ),
        )),
        Review::Approved(s) => Err(refuse(
            RefusalKind::Conflict,
            format!(
                "{month} er godkjent av kjørebokføreren ({} {}); kjøreboken for måneden er endelig",
                s.by,
                when(s.at)
            ),
            format!(
                "{month} was approved by the log keeper ({} {}); the month's driving log is final",
                s.by,
                when(s.at)
            ),
        )),
    }
}

/// A trip as the rules need to know it: no places, no times.
#[derive(Clone, Debug, PartialEq)]
pub struct TripFacts {
    pub id: i64,
    pub date: Date,
    /// The recorded driver's employee number (none for a private trip or an unknown driver).
    pub driver: Option<String>,
    /// Stored as a private trip (date and km only): by privacy mode or classified private.
    pub private: bool,
}

/// Whose trip it is: the recorded driver, or — when none is recorded (a private trip, a unit
/// without driver identification) — the employee assigned to the vehicle that day.
pub fn is_drivers_trip(trip: &TripFacts, employee: &str, assigned_that_day: bool) -> bool {
    match &trip.driver {
        Some(d) => d == employee,
        None => assigned_that_day,
    }
}

/// May `employee` classify `trip` as `class`, given its month's review steps?
pub fn may_classify(
    employee: &str,
    trip: &TripFacts,
    assigned_that_day: bool,
    class: &Classification,
    steps: &[MonthStep],
) -> Result<(), Refusal> {
    if !is_drivers_trip(trip, employee, assigned_that_day) {
        return Err(refuse(
            RefusalKind::NotYours,
            format!(
                "tur {} ble ikke kjørt av deg; sjåføren klassifiserer den",
                trip.id
            ),
            format!(
                "trip {} was not driven by you; its driver classifies it",
                trip.id
            ),
        ));
    }
    match class {
        Classification::Business { purpose } if purpose.trim().is_empty() => {
            return Err(refuse(
                RefusalKind::Invalid,
                "skriv formålet eller kunden for yrkeskjøringen",
                "write the purpose or the customer of the business trip",
            ));
        }
        Classification::Unclassified => {
            return Err(refuse(
                RefusalKind::Invalid,
                "en tur klassifiseres som yrkeskjøring (med formål) eller privat",
                "a trip is classified as business (with a purpose) or private",
            ));
        }
        _ => {}
    }
    month_open_for_changes(Month::of(trip.date), steps)?;
    if trip.private && class != &Classification::Private {
        return Err(refuse(
            RefusalKind::Conflict,
            format!(
                "tur {} er privat: steder, tider og kilometerstand er slettet, så den kan ikke bli yrkeskjøring",
                trip.id
            ),
            format!(
                "trip {} is private: its places, times and odometer readings are erased, so it cannot become a business trip",
                trip.id
            ),
        ));
    }
    Ok(())
}

/// How many of the entries still wait for their driver's classification.
pub fn unclassified(entries: &[LogEntry]) -> usize {
    entries
        .iter()
        .filter(|e| match e {
            LogEntry::Unclassified(_) => true,
            LogEntry::Trip(t) => t.classification == Classification::Unclassified,
            LogEntry::Private(_) => false,
        })
        .count()
}

fn month_has_ended(month: Month, today: Date) -> Result<(), Refusal> {
    if today <= month.last_day() {
        return Err(refuse(
            RefusalKind::Conflict,
            format!(
                "{month} er ikke slutt ennå; den kan signeres fra {}",
                month.next_first_day()
            ),
            format!(
                "{month} has not ended yet; it can be signed from {}",
                month.next_first_day()
            ),
        ));
    }
    Ok(())
}

fn all_classified(month: Month, entries: &[LogEntry]) -> Result<(), Refusal> {
    if entries.is_empty() {
        return Err(refuse(
            RefusalKind::Conflict,
            format!("det er ingen turer i {month}; en måned uten turer har ingenting å signere"),
            format!("there are no trips in {month}; a month without trips has nothing to sign"),
        ));
    }
    match unclassified(entries) {
        0 => Ok(()),
        n => Err(refuse(
            RefusalKind::Conflict,
            format!("{n} tur(er) i {month} er ikke klassifisert; klassifiser dem først"),
            format!("{n} trip(s) in {month} are not classified; classify them first"),
        )),
    }
}

/// May the driver submit `month` (signing it), given its trips and review steps? `driver`
/// says whether the acting employee drove the vehicle (by assignment) in the month.
pub fn may_submit(
    month: Month,
    today: Date,
    driver: bool,
    entries: &[LogEntry],
    steps: &[MonthStep],
) -> Result<(), Refusal> {
    if !driver {
        return Err(refuse(
            RefusalKind::NotYours,
            format!("bilen var ikke tildelt deg i {month}; sjåføren signerer"),
            format!("the vehicle was not assigned to you in {month}; its driver signs it"),
        ));
    }
    month_has_ended(month, today)?;
    match review(steps) {
        Review::Open | Review::Returned(_) => {}
        Review::Submitted(s) => {
            return Err(refuse(
                RefusalKind::Conflict,
                format!("{month} er allerede sendt inn ({} {})", s.by, when(s.at)),
                format!("{month} is already submitted ({} {})", s.by, when(s.at)),
            ));
        }
        Review::Approved(_) => return month_open_for_changes(month, steps),
    }
    all_classified(month, entries)
}

/// May the log keeper approve `month`? Only a submitted month whose trips are all classified.
pub fn may_approve(
    month: Month,
    today: Date,
    entries: &[LogEntry],
    steps: &[MonthStep],
) -> Result<(), Refusal> {
    month_has_ended(month, today)?;
    submitted(month, steps)?;
    all_classified(month, entries)
}

/// May the log keeper return `month` to the driver with `comment`?
pub fn may_return(month: Month, comment: &str, steps: &[MonthStep]) -> Result<(), Refusal> {
    if comment.trim().is_empty() {
        return Err(refuse(
            RefusalKind::Invalid,
            "skriv hvorfor måneden sendes tilbake, så sjåføren vet hva som skal rettes",
            "write why the month is returned, so the driver knows what to correct",
        ));
    }
    submitted(month, steps)
}

fn submitted(month: Month, steps: &[MonthStep]) -> Result<(), Refusal> {
    match review(steps) {
        Review::Submitted(_) => Ok(()),
        Review::Approved(_) => month_open_for_changes(month, steps),
        Review::Open | Review::Returned(_) => Err(refuse(
            RefusalKind::Conflict,
            format!("sjåføren har ikke sendt inn {month} ennå; sjåføren signerer først"),
            format!("the driver has not submitted {month} yet; the driver signs first"),
        )),
    }
}

/// Which vehicle a privacy switch is for: `asked` when it is assigned to the employee today,
/// else the first one assigned today.
pub fn privacy_vehicle<'a, R: PartialEq + fmt::Display>(
    assigned_today: &'a [R],
    asked: Option<&R>,
) -> Result<&'a R, Refusal> {
    match asked {
        Some(r) => assigned_today.iter().find(|a| *a == r).ok_or_else(|| {
            refuse(
                RefusalKind::NotYours,
                format!("{r} er ikke tildelt deg i dag; privatmodus gjelder bilen du kjører"),
                format!(
                    "{r} is not assigned to you today; privacy mode is for the vehicle you drive"
                ),
            )
        }),
        None => assigned_today.first().ok_or_else(|| {
            refuse(
                RefusalKind::Conflict,
                "ingen bil er tildelt deg i dag i organisasjonsfilen",
                "no vehicle is assigned to you today in the organisation file",
            )
        }),
    }
}

/// An alarm window as the rules need it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlarmFacts {
    pub resolved: bool,
    pub incident: bool,
}

/// May a window be resolved (or, once resolved, marked as an incident)?
pub fn may_resolve(window: i64, facts: Option<AlarmFacts>, incident: bool) -> Result<(), Refusal> {
    match facts {
        None => Err(refuse(
            RefusalKind::NotFound,
            format!("det finnes ikke noe alarmvindu {window}"),
            format!("there is no alarm window {window}"),
        )),
        Some(f) if f.resolved && (!incident || f.incident) => Err(refuse(
            RefusalKind::Conflict,
            format!("alarmvindu {window} er allerede løst"),
            format!("alarm window {window} is already resolved"),
        )),
        Some(_) => Ok(()),
    }
}

/// May `driver` be recorded as the real driver of `trip` by `actor` (the log keeper, or the
/// employee the trip is wrongly attributed to)? The recorded distance, date and time never
/// change: the correction is a supplement beside the original attribution.
pub fn may_correct_driver(
    trip: &TripFacts,
    keeper: bool,
    actor_employee: Option<&str>,
    driver: &str,
    reason: &str,
    steps: &[MonthStep],
) -> Result<(), Refusal> {
    if driver.trim().is_empty() || reason.trim().is_empty() {
        return Err(refuse(
            RefusalKind::Invalid,
            "oppgi riktig sjåfør (ansattnummer) og en begrunnelse",
            "give the right driver (employee number) and a reason",
        ));
    }
    let attributed_to_actor = actor_employee.is_some() && trip.driver.as_deref() == actor_employee;
    if !keeper && !attributed_to_actor {
        return Err(refuse(
            RefusalKind::NotYours,
            format!(
                "tur {} er ikke ført på deg; kjørebokføreren retter sjåføren",
                trip.id
            ),
            format!(
                "trip {} is not attributed to you; the log keeper corrects its driver",
                trip.id
            ),
        ));
    }
    if trip.private {
        return Err(refuse(
            RefusalKind::Conflict,
            format!(
                "tur {} er privat; sjåføren er den som var tildelt bilen den dagen",
                trip.id
            ),
            format!(
                "trip {} is private; its driver is the employee assigned to the vehicle that day",
                trip.id
            ),
        ));
    }
    if trip.driver.as_deref() == Some(driver.trim()) {
        return Err(refuse(
            RefusalKind::Conflict,
            format!("tur {} er allerede ført på {driver}", trip.id),
            format!("trip {} is already attributed to {driver}", trip.id),
        ));
    }
    month_open_for_changes(Month::of(trip.date), steps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drivinglog::{PendingTrip, PrivateTrip};
    use time::macros::date;

    fn step(kind: StepKind) -> MonthStep {
        MonthStep {
            kind,
            by: "x".into(),
            at: Timestamp::from_millis(0),
            comment: None,
        }
    }

    fn trip(driver: Option<&str>, private: bool) -> TripFacts {
        TripFacts {
            id: 7,
            date: date!(2026 - 10 - 05),
            driver: driver.map(str::to_owned),
            private,
        }
    }

    fn business() -> Classification {
        Classification::Business {
            purpose: "Kunde".into(),
        }
    }

    #[test]
    fn months_parse_and_end() {
        let m = Month::parse("2026-02").expect("month");
        assert_eq!(m.last_day(), date!(2026 - 02 - 28));
        assert_eq!(m.next_first_day(), date!(2026 - 03 - 01));
        assert_eq!(m.to_string(), "2026-02");
        for bad in ["2026-13", "2026-1", "26-01", "2026_01", "+026-01", ""] {
            assert_eq!(
                Month::parse(bad).map_err(|e| e.kind),
                Err(RefusalKind::Invalid),
                "{bad}"
            );
        }
    }

    #[test]
    fn only_the_driver_classifies_and_only_while_the_month_is_open() {
        let t = trip(Some("1001"), false);
        assert!(may_classify("1001", &t, false, &business(), &[]).is_ok());
        let r = may_classify("1002", &t, true, &business(), &[]).expect_err("not theirs");
        assert_eq!(r.kind, RefusalKind::NotYours);
        // No recorded driver: the employee assigned that day.
        let t = trip(None, false);
        assert!(may_classify("1002", &t, true, &business(), &[]).is_ok());
        assert!(may_classify("1002", &t, false, &business(), &[]).is_err());
        for (steps, ok) in [
            (vec![], true),
            (vec![step(StepKind::Submitted)], false),
            (
                vec![step(StepKind::Submitted), step(StepKind::Returned)],
                true,
            ),
            (
                vec![step(StepKind::Submitted), step(StepKind::Approved)],
                false,
            ),
        ] {
            assert_eq!(
                may_classify("1002", &t, true, &business(), &steps).is_ok(),
                ok,
                "{steps:?}"
            );
        }
    }

    #[test]
    fn a_private_trip_stays_private() {
        let t = trip(None, true);
        let r = may_classify("1001", &t, true, &business(), &[]).expect_err("erased");
        assert_eq!(r.kind, RefusalKind::Conflict);
        assert!(may_classify("1001", &t, true, &Classification::Private, &[]).is_ok());
    }

    #[test]
    fn a_month_is_submitted_after_it_ended_with_every_trip_classified() {
        let m = Month::parse("2026-10").expect("month");
        let classified = vec![LogEntry::Private(PrivateTrip {
            id: 1,
            date: date!(2026 - 10 - 02),
            km: 3.0,
        })];
        let pending = vec![LogEntry::Unclassified(PendingTrip {
            id: 2,
            date: date!(2026 - 10 - 03),
            km: 3.0,
        })];
        let after = date!(2026 - 11 - 01);
        assert!(may_submit(m, after, true, &classified, &[]).is_ok());
        let last_day = may_submit(m, date!(2026 - 10 - 31), true, &classified, &[]);
        assert_eq!(last_day.map_err(|e| e.kind), Err(RefusalKind::Conflict));
        assert!(may_submit(m, after, true, &pending, &[]).is_err());
        assert!(may_submit(m, after, true, &[], &[]).is_err());
        assert_eq!(
            may_submit(m, after, false, &classified, &[]).map_err(|e| e.kind),
            Err(RefusalKind::NotYours)
        );
        let submitted = [step(StepKind::Submitted)];
        assert!(may_submit(m, after, true, &classified, &submitted).is_err());
        assert!(may_approve(m, after, &classified, &submitted).is_ok());
        assert!(may_approve(m, after, &classified, &[]).is_err());
        assert!(may_return(m, "", &submitted).is_err());
        assert!(may_return(m, "trip 3 is a customer visit", &submitted).is_ok());
        let returned = [step(StepKind::Submitted), step(StepKind::Returned)];
        assert!(may_submit(m, after, true, &classified, &returned).is_ok());
        let approved = [step(StepKind::Submitted), step(StepKind::Approved)];
        assert!(may_approve(m, after, &classified, &approved).is_err());
        assert!(may_return(m, "late", &approved).is_err());
        assert!(may_submit(m, after, true, &classified, &approved).is_err());
    }

    #[test]
    fn privacy_is_for_the_vehicle_assigned_today() {
        let mine = ["EK 1".to_owned()];
        assert!(privacy_vehicle(&mine, Some(&"EK 1".to_owned())).is_ok());
        assert_eq!(
            privacy_vehicle(&mine, Some(&"EK 2".to_owned())).map_err(|e| e.kind),
            Err(RefusalKind::NotYours)
        );
        let none: [String; 0] = [];
        assert!(privacy_vehicle(&none, None).is_err());
    }

    #[test]
    fn alarm_windows_resolve_once_and_can_become_incidents() {
        let open = AlarmFacts {
            resolved: false,
            incident: false,
        };
        let done = AlarmFacts {
            resolved: true,
            incident: false,
        };
        assert_eq!(
            may_resolve(9, None, false).map_err(|e| e.kind),
            Err(RefusalKind::NotFound)
        );
        assert!(may_resolve(9, Some(open), false).is_ok());
        assert!(may_resolve(9, Some(done), false).is_err());
        assert!(may_resolve(9, Some(done), true).is_ok());
    }

    #[test]
    fn a_driver_correction_is_the_keepers_or_the_wrongly_attributed_drivers() {
        let t = trip(Some("1001"), false);
        assert!(may_correct_driver(&t, true, None, "1002", "swap", &[]).is_ok());
        assert!(may_correct_driver(&t, false, Some("1001"), "1002", "swap", &[]).is_ok());
        assert!(may_correct_driver(&t, false, Some("1003"), "1002", "swap", &[]).is_err());
        assert!(may_correct_driver(&t, true, None, "1002", " ", &[]).is_err());
        let approved = [step(StepKind::Submitted), step(StepKind::Approved)];
        assert!(may_correct_driver(&t, true, None, "1002", "swap", &approved).is_err());
    }
}
