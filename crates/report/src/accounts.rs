//! The accountant's tables: the trips of one or more vehicles, their summary (a separate
//! table, never mixed into the rows), their deviations, the tax year per vehicle and per
//! employee, and the payroll file of private km per employee per month. Each column is
//! documented in `docs/exports.md`.
//!
//! Who drove a trip: the driver the trip recorded, else the one employee assigned the vehicle
//! that day (a private trip keeps no driver, and the log keeper sees an unclassified trip as
//! date and km only). A trip no single assignment explains stays unattributed, with its km,
//! rather than being guessed.

use std::collections::{BTreeMap, BTreeSet};

use domain::VehicleKind;
use domain::drivinglog::{Classification, LogEntry, RecordedDeviation};
use purposes::tax::{OCCASIONAL_DAYS, OCCASIONAL_KM, WORK_KM, YearTotals};
use time::Date;

use crate::model::{DrivingLogReport, Person, Signer};
use crate::table::{Cell, Column, Table, col};
use crate::words;

const VEHICLE: Column = col("Kjøretøy", "Vehicle", "vehicle");
const KIND: Column = col("Kjøretøytype", "Vehicle kind", "vehicle_kind");
const PERIOD: Column = col("Periode", "Period", "period");
const EMPLOYEE: Column = col("Ansattnr.", "Employee no.", "employee_number");
const NAME: Column = col("Navn", "Name", "employee_name");

fn kind_cell(kind: VehicleKind) -> Cell {
    match kind {
        VehicleKind::Car => Cell::word("car", "personbil", "car"),
        VehicleKind::Van => Cell::word("van", "varebil", "van"),
    }
}

/// One row per trip of every vehicle in `logs`, in each log's order.
pub fn trips_table(logs: &[DrivingLogReport]) -> Table {
    let columns = vec![
        VEHICLE,
        col("Tur-id", "Trip id", "trip_id"),
        col("Dato", "Date", "date"),
        col("Start", "Start", "start"),
        col("Slutt", "End", "end"),
        col("Fra", "From", "from"),
        col("Til", "To", "to"),
        col("Km-stand start", "Odometer start", "odometer_start_km"),
        col("Km-stand slutt", "Odometer end", "odometer_end_km"),
        col("Km", "Km", "km"),
        col("Distansekilde", "Distance source", "distance_source"),
        col(
            "Sjåførens ansattnr.",
            "Driver's employee no.",
            "driver_number",
        ),
        col("Sjåfør", "Driver", "driver_name"),
        col("Type", "Type", "type"),
        col("Formål / kunde", "Purpose / customer", "purpose"),
    ];
    let mut rows = Vec::new();
    for log in logs {
        for e in log.entries {
            let (key, nb, en) = words::entry_type(e);
            let ty = Cell::word(key, nb, en);
            let reg = Cell::text(log.vehicle);
            let row = match e {
                LogEntry::Private(p) => short_row(reg, p.id, p.date, p.km, ty),
                LogEntry::Unclassified(p) => short_row(reg, p.id, p.date, p.km, ty),
                LogEntry::Trip(t) if t.classification == Classification::Private => {
                    short_row(reg, t.id, t.date, t.km, ty)
                }
                LogEntry::Trip(t) => {
                    let (src_nb, src_en) = words::distance_source(&t.distance_source);
                    let driver =
                        log.driver_of(t.id, t.driver.as_deref().filter(|d| !d.trim().is_empty()));
                    let driver = driver.as_deref();
                    vec![
                        reg,
                        Cell::Count(t.id),
                        Cell::Date(t.date),
                        Cell::Time(t.start),
                        Cell::Time(t.end),
                        Cell::text(t.start_place.clone()),
                        Cell::text(t.end_place.clone()),
                        Cell::opt_km(t.odometer_start_km),
                        Cell::opt_km(t.odometer_end_km),
                        Cell::Km(t.km),
                        Cell::word(&t.distance_source, src_nb, src_en),
                        Cell::text(driver.unwrap_or_default()),
                        Cell::text(driver.and_then(|d| log.driver_name(d)).unwrap_or_default()),
                        ty,
                        match &t.classification {
                            Classification::Business { purpose } => Cell::text(purpose.clone()),
                            _ => Cell::Empty,
                        },
                    ]
                }
            };
            rows.push(row);
        }
    }
    Table {
        name: ("Turer", "Trips"),
        file: "turer",
        columns,
        rows,
    }
}

/// A private or (for the keeper) unclassified trip: its date and km, nothing else.
fn short_row(reg: Cell, id: i64, date: Date, km: f64, ty: Cell) -> Vec<Cell> {
    let mut row = vec![Cell::Empty; 15];
    row[0] = reg;
    row[1] = Cell::Count(id);
    row[2] = Cell::Date(date);
    row[9] = Cell::Km(km);
    row[13] = ty;
    row
}

/// Counts and km by type.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Totals {
    pub business_km: f64,
    pub private_km: f64,
    pub unclassified_km: f64,
    pub business: usize,
    pub private: usize,
    pub unclassified: usize,
}

impl Totals {
    pub fn of(entries: &[LogEntry]) -> Totals {
        let mut t = Totals::default();
        for e in entries {
            let km = if e.km().is_finite() { e.km() } else { 0.0 };
            match words::entry_type(e).0 {
                "business" => {
                    t.business_km += km;
                    t.business += 1;
                }
                "private" => {
                    t.private_km += km;
                    t.private += 1;
                }
                _ => {
                    t.unclassified_km += km;
                    t.unclassified += 1;
                }
            }
        }
        t
    }

    pub fn total_km(&self) -> f64 {
        self.business_km + self.private_km + self.unclassified_km
    }

    pub fn count(&self) -> usize {
        self.business + self.private + self.unclassified
    }
}

/// One row per vehicle: counts and km by type, deviations, the last odometer reading, the
/// sign-offs and the year so far.
pub fn summary_table(logs: &[DrivingLogReport]) -> Table {
    let columns = vec![
        VEHICLE,
        KIND,
        PERIOD,
        col("Turer", "Trips", "trips"),
        col("Yrketurer", "Business trips", "business_trips"),
        col("Yrke km", "Business km", "business_km"),
        col("Privatturer", "Private trips", "private_trips"),
        col("Privat km", "Private km", "private_km"),
        col(
            "Ikke klassifiserte turer",
            "Unclassified trips",
            "unclassified_trips",
        ),
        col("Ikke klassifisert km", "Unclassified km", "unclassified_km"),
        col("Km totalt", "Total km", "total_km"),
        col("Avvik", "Deviations", "deviations"),
        col("Siste km-stand", "Last odometer reading", "odometer_km"),
        col("Km-stand lest", "Odometer read on", "odometer_date"),
        col("Signert av sjåfør", "Signed by driver", "signed_by_driver"),
        col(
            "Signert av kjørebokfører",
            "Signed by log keeper",
            "signed_by_keeper",
        ),
        col(
            "Yrke km hittil i år",
            "Business km this year",
            "year_business_km",
        ),
        col(
            "Privat km hittil i år",
            "Private km this year",
            "year_private_km",
        ),
        col(
            "Privatdager hittil i år",
            "Private days this year",
            "year_private_days",
        ),
    ];
    let rows = logs
        .iter()
        .map(|log| {
            let t = Totals::of(log.entries);
            let reading = log.odometer_readings.last().copied();
            let signed = |s: Signer| {
                log.signed_by(s).map_or(Cell::Empty, |sig| {
                    Cell::text(match &sig.person {
                        Some(p) => format!("{} ({})", p.name, p.number),
                        None => sig.user.clone(),
                    })
                })
            };
            vec![
                Cell::text(log.vehicle),
                kind_cell(log.vehicle_kind),
                Cell::text(log.period),
                Cell::count(t.count()),
                Cell::count(t.business),
                Cell::Km(t.business_km),
                Cell::count(t.private),
                Cell::Km(t.private_km),
                Cell::count(t.unclassified),
                Cell::Km(t.unclassified_km),
                Cell::Km(t.total_km()),
                Cell::count(log.deviations.len()),
                reading.map_or(Cell::Empty, |r| Cell::Km(r.km)),
                reading.map_or(Cell::Empty, |r| Cell::Date(r.date)),
                signed(Signer::Driver),
                signed(Signer::Keeper),
                Cell::Km(log.year.business_km),
                Cell::Km(log.year.private_km),
                Cell::count(log.year.private_days),
            ]
        })
        .collect();
    Table {
        name: ("Sammendrag", "Summary"),
        file: "sammendrag",
        columns,
        rows,
    }
}

/// One row per recorded deviation, in words, with its start, end and km.
pub fn deviations_table(logs: &[DrivingLogReport]) -> Table {
    let columns = vec![
        VEHICLE,
        col("Dato", "Date", "date"),
        col("Avvik", "Deviation", "kind"),
        col("Start", "Start", "start"),
        col("Slutt", "End", "end"),
        col("Km", "Km", "km"),
        col("Km-stand før", "Odometer before", "odometer_before_km"),
        col("Km-stand etter", "Odometer after", "odometer_after_km"),
        col("Merknad", "Note", "note"),
    ];
    let rows = logs
        .iter()
        .flat_map(|log| {
            log.deviations
                .iter()
                .map(move |d| deviation_row(log.vehicle, d))
        })
        .collect();
    Table {
        name: ("Avvik", "Deviations"),
        file: "avvik",
        columns,
        rows,
    }
}

fn deviation_row(reg: &str, d: &RecordedDeviation) -> Vec<Cell> {
    let (nb, en) = words::deviation(&d.kind);
    vec![
        Cell::text(reg),
        Cell::Date(d.date),
        Cell::word(&d.kind, nb, en),
        Cell::DateTime(d.from),
        Cell::DateTime(d.to),
        Cell::Km(d.km),
        Cell::opt_km(d.odometer_km.map(|o| o.0)),
        Cell::opt_km(d.odometer_km.map(|o| o.1)),
        Cell::text(d.note.clone()),
    ]
}

/// A vehicle's trips in a tax year (or up to a date in it), as the keeper's capability
/// returned them.
#[derive(Clone, Copy, Debug)]
pub struct VehicleYear<'a> {
    pub vehicle: &'a str,
    pub kind: VehicleKind,
    pub entries: &'a [LogEntry],
}

/// Who drove `e` in `vehicle`: its recorded driver, else the one employee assigned the
/// vehicle that day; `None` when neither says.
pub fn attribute(e: &LogEntry, vehicle: &str, assignments: &[org::Assignment]) -> Option<String> {
    if let LogEntry::Trip(t) = e
        && let Some(d) = t.driver.as_deref().filter(|d| !d.trim().is_empty())
    {
        return Some(d.to_owned());
    }
    let date = e.date();
    let reg = domain::RegNo::parse(vehicle).ok();
    let mut who: Vec<&str> = assignments
        .iter()
        .filter(|a| {
            reg.as_ref() == Some(&a.vehicle) && a.from <= date && a.to.is_none_or(|to| date < to)
        })
        .map(|a| a.employee.as_str())
        .collect();
    who.sort_unstable();
    who.dedup();
    match who.as_slice() {
        [one] => Some((*one).to_owned()),
        _ => None,
    }
}

fn name_of<'p>(people: &'p [Person], number: &str) -> &'p str {
    people
        .iter()
        .find(|p| p.number == number)
        .map_or("", |p| p.name.as_str())
}

const UNATTRIBUTED_NB: &str = "(ingen entydig sjåfør)";
const UNATTRIBUTED_EN: &str = "(no single driver)";

fn threshold_cells(t: &YearTotals) -> Vec<Cell> {
    vec![
        Cell::Km(t.business_km),
        Cell::Km(t.private_km),
        Cell::count(t.private_days),
        Cell::Km(t.unclassified_km),
        Cell::count(OCCASIONAL_DAYS.saturating_sub(t.private_days)),
        Cell::Km((OCCASIONAL_KM - t.private_km).max(0.0)),
        Cell::Yes(t.occasional_private_use()),
        Cell::Km((WORK_KM - t.business_km).max(0.0)),
        Cell::Yes(t.work_driving_over_threshold()),
    ]
}

fn threshold_columns() -> Vec<Column> {
    vec![
        col("Yrke km", "Business km", "business_km"),
        col("Privat km", "Private km", "private_km"),
        col("Privatdager", "Private days", "private_days"),
        col("Ikke klassifisert km", "Unclassified km", "unclassified_km"),
        col(
            "Dager igjen av 10 (sporadisk privat bruk)",
            "Days left of 10 (occasional private use)",
            "occasional_days_left",
        ),
        col(
            "Km igjen av 1 000 (sporadisk privat bruk)",
            "Km left of 1,000 (occasional private use)",
            "occasional_km_left",
        ),
        col(
            "Innenfor sporadisk privat bruk",
            "Within occasional private use",
            "within_occasional_private_use",
        ),
        col(
            "Km igjen til 40 000 km yrkeskjøring",
            "Km left to 40,000 km business driving",
            "business_km_left_to_40000",
        ),
        col(
            "Over 40 000 km yrkeskjøring",
            "Over 40,000 km business driving",
            "business_over_40000",
        ),
    ]
}

/// The tax year per vehicle and per employee: business and private km, private days, and the
/// thresholds (occasional private use: at most 10 days and 1,000 km; 40,000 km of business
/// driving; sources in `purposes::tax`).
pub fn tax_year(
    year: i32,
    vehicles: &[VehicleYear],
    assignments: &[org::Assignment],
    people: &[Person],
) -> (Table, Table) {
    let mut per_vehicle = Vec::new();
    let mut by_employee: BTreeMap<String, (Vec<LogEntry>, BTreeSet<String>)> = BTreeMap::new();
    for v in vehicles {
        let t = purposes::tax::totals(v.entries);
        let mut row = vec![
            Cell::Count(i64::from(year)),
            Cell::text(v.vehicle),
            kind_cell(v.kind),
        ];
        row.extend(threshold_cells(&t));
        per_vehicle.push(row);
        for e in v.entries {
            let who = attribute(e, v.vehicle, assignments).unwrap_or_default();
            let slot = by_employee.entry(who).or_default();
            slot.0.push(e.clone());
            slot.1.insert(v.vehicle.to_owned());
        }
    }
    // Every employee assigned a vehicle in the year is listed, with zeros when they drove
    // nothing: the payroll needs the zero as much as the number.
    for a in assignments {
        if a.from.year() <= year && a.to.is_none_or(|to| to.year() >= year) {
            by_employee.entry(a.employee.clone()).or_default();
        }
    }
    let per_employee = by_employee
        .iter()
        .map(|(number, (entries, vehicles))| {
            let t = purposes::tax::totals(entries);
            let mut row = vec![
                Cell::Count(i64::from(year)),
                Cell::text(number.clone()),
                if number.is_empty() {
                    Cell::word("", UNATTRIBUTED_NB, UNATTRIBUTED_EN)
                } else {
                    Cell::text(name_of(people, number))
                },
                Cell::text(vehicles.iter().cloned().collect::<Vec<_>>().join(", ")),
            ];
            row.extend(threshold_cells(&t));
            row
        })
        .collect();
    let year_col = col("År", "Year", "year");
    let mut vcols = vec![year_col, VEHICLE, KIND];
    vcols.extend(threshold_columns());
    let mut ecols = vec![
        year_col,
        EMPLOYEE,
        NAME,
        col("Kjøretøy", "Vehicles", "vehicles"),
    ];
    ecols.extend(threshold_columns());
    (
        Table {
            name: ("Per kjøretøy", "Per vehicle"),
            file: "skatteaar-kjoretoy",
            columns: vcols,
            rows: per_vehicle,
        },
        Table {
            name: ("Per ansatt", "Per employee"),
            file: "skatteaar-ansatt",
            columns: ecols,
            rows: per_employee,
        },
    )
}

/// The payroll file: private km per employee per month and vehicle (the input to the benefit
/// taxation of company cars, firmabilbeskatning), with the year so far. `months` are the
/// `(first, last)` days of the months to list, in order, all in one year; `vehicles` hold the
/// year's trips up to the last of them.
pub fn payroll(
    months: &[(Date, Date)],
    vehicles: &[VehicleYear],
    assignments: &[org::Assignment],
    people: &[Person],
) -> Table {
    // (employee, vehicle) → entries, in date order per vehicle.
    let mut by: BTreeMap<(String, String), Vec<&LogEntry>> = BTreeMap::new();
    let mut kinds: BTreeMap<String, VehicleKind> = BTreeMap::new();
    for v in vehicles {
        kinds.insert(v.vehicle.to_owned(), v.kind);
        for e in v.entries {
            let who = attribute(e, v.vehicle, assignments).unwrap_or_default();
            by.entry((who, v.vehicle.to_owned())).or_default().push(e);
        }
    }
    // A vehicle is named as the caller names it; an assignment names it by its number.
    let name_of_vehicle = |reg: &domain::RegNo| {
        vehicles
            .iter()
            .find(|v| domain::RegNo::parse(v.vehicle).ok().as_ref() == Some(reg))
            .map_or_else(|| reg.to_string(), |v| v.vehicle.to_owned())
    };
    for &(first, last) in months {
        for a in assignments {
            if a.from <= last && a.to.is_none_or(|to| first < to) {
                by.entry((a.employee.clone(), name_of_vehicle(&a.vehicle)))
                    .or_default();
            }
        }
    }
    let mut rows = Vec::new();
    for &(first, last) in months {
        for ((employee, vehicle), entries) in &by {
            let reg = domain::RegNo::parse(vehicle).ok();
            let assigned = assignments.iter().any(|a| {
                &a.employee == employee
                    && reg.as_ref() == Some(&a.vehicle)
                    && a.from <= last
                    && a.to.is_none_or(|to| first < to)
            });
            let month: Vec<LogEntry> = entries
                .iter()
                .filter(|e| (first..=last).contains(&e.date()))
                .map(|e| (*e).clone())
                .collect();
            if month.is_empty() && !assigned {
                continue;
            }
            // The year so far for the employee, over every vehicle.
            let year_so_far: Vec<LogEntry> = by
                .iter()
                .filter(|((e, _), _)| e == employee)
                .flat_map(|(_, es)| es.iter())
                .filter(|e| e.date() <= last && e.date().year() == last.year())
                .map(|e| (*e).clone())
                .collect();
            let t = purposes::tax::totals(&month);
            let y = purposes::tax::totals(&year_so_far);
            rows.push(vec![
                Cell::text(format!(
                    "{:04}-{:02}",
                    first.year(),
                    u8::from(first.month())
                )),
                Cell::text(employee.clone()),
                if employee.is_empty() {
                    Cell::word("", UNATTRIBUTED_NB, UNATTRIBUTED_EN)
                } else {
                    Cell::text(name_of(people, employee))
                },
                Cell::text(vehicle.clone()),
                kinds.get(vehicle).map_or(Cell::Empty, |k| kind_cell(*k)),
                Cell::Km(t.private_km),
                Cell::count(t.private_days),
                Cell::Km(t.business_km),
                Cell::Km(t.unclassified_km),
                Cell::Km(y.private_km),
                Cell::count(y.private_days),
                Cell::Yes(y.occasional_private_use()),
            ]);
        }
    }
    Table {
        name: ("Lønn", "Payroll"),
        file: "lonn-privat-km",
        columns: vec![
            col("Måned", "Month", "month"),
            EMPLOYEE,
            NAME,
            VEHICLE,
            KIND,
            col("Privat km", "Private km", "private_km"),
            col("Privatdager", "Private days", "private_days"),
            col("Yrke km", "Business km", "business_km"),
            col("Ikke klassifisert km", "Unclassified km", "unclassified_km"),
            col(
                "Privat km hittil i år",
                "Private km this year",
                "year_private_km",
            ),
            col(
                "Privatdager hittil i år",
                "Private days this year",
                "year_private_days",
            ),
            col(
                "Innenfor sporadisk privat bruk hittil i år",
                "Within occasional private use this year",
                "within_occasional_private_use",
            ),
        ],
        rows,
    }
}
