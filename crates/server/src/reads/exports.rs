//! The accountant's downloads, through the same door as every other read: one vehicle's
//! driving log as PDF, CSV (for Norwegian Excel or RFC 4180), XLSX or all of them in a ZIP;
//! every vehicle for a month in one download; the tax year per vehicle and per employee; and
//! the payroll file of private km per employee per month. Each is one authorisation under the
//! `driving_log` purpose, on the ledger before anything is built, with the drivers of the
//! period as its subjects. The files' columns are documented in `docs/exports.md`.

use std::collections::BTreeSet;
use std::io::Write as _;

use access::{ReadPurpose, Scope};
use domain::changes::{MonthStep, StepKind};
use domain::drivinglog::LogEntry;
use domain::{RegNo, VehicleId};
use ledger::Action;
use report::{Dialect, Lang, Person, Signature, Signer, Table};

use super::{DrivingLogPeriod, ReadError, Reads, Who, declared};
use crate::ingest::now;

/// What a download is written as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Pdf,
    /// One table as CSV: `part` names it (the first when none).
    Csv {
        dialect: Dialect,
        part: Option<String>,
    },
    /// Every table as a sheet of one workbook.
    Xlsx,
    /// Every table as CSV (in `dialect`), the workbook, and the PDFs.
    Zip {
        dialect: Dialect,
    },
}

impl Format {
    /// `format` (json, pdf, csv, xlsx, zip; `default` when none), `dialect` (excel, the
    /// default, or rfc4180) and `part` (which table a CSV holds).
    pub fn parse(
        format: Option<&str>,
        dialect: Option<&str>,
        part: Option<&str>,
        default: Format,
    ) -> Result<Format, ReadError> {
        let dialect = dialect
            .map(Dialect::parse)
            .transpose()
            .map_err(ReadError::Invalid)?
            .unwrap_or_default();
        Ok(match format {
            None => default,
            Some("json") => Format::Json,
            Some("pdf") => Format::Pdf,
            Some("csv") => Format::Csv {
                dialect,
                part: part.map(str::to_owned),
            },
            Some("xlsx") => Format::Xlsx,
            Some("zip") => Format::Zip { dialect },
            Some(other) => {
                return Err(ReadError::Invalid(format!(
                    "format is json, pdf, csv, xlsx or zip, not {other:?}"
                )));
            }
        })
    }

    /// Reading as JSON is a read; every file is an export.
    pub fn action(&self) -> Action {
        match self {
            Format::Json => Action::Read,
            _ => Action::Export,
        }
    }

    fn label(&self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Pdf => "pdf",
            Format::Csv {
                dialect: Dialect::Excel,
                ..
            } => "csv for Excel",
            Format::Csv { .. } => "csv rfc4180",
            Format::Xlsx => "xlsx",
            Format::Zip { .. } => "zip",
        }
    }
}

/// A file to hand over: its name, content type and bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Download {
    pub file_name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// The vehicle's registration number as a file-name part: `EK12345`.
fn file_part(s: &str) -> String {
    s.chars().filter(char::is_ascii_alphanumeric).collect()
}

/// A driving log with the names and signatures the documents show, owned.
struct LogDoc {
    log: DrivingLogPeriod,
    drivers: Vec<Person>,
    signatures: Vec<Signature>,
    supplements: Vec<report::Supplement>,
}

impl LogDoc {
    fn report(&self, generated: domain::Timestamp) -> report::DrivingLogReport<'_> {
        report::DrivingLogReport {
            organisation: &self.log.organisation,
            org_number: self.log.org_number.as_deref(),
            vehicle: self.log.vehicle.as_str(),
            vehicle_kind: self.log.kind,
            period: &self.log.period,
            generated_at: generated,
            entries: &self.log.entries,
            deviations: &self.log.deviations,
            odometer_readings: &self.log.odometer_readings,
            drivers: &self.drivers,
            signatures: &self.signatures,
            year: &self.log.year,
            supplements: &self.supplements,
        }
    }
}

/// The employees assigned `reg` in the period, then any other employee a trip names as its
/// driver: with their names from the organisation.
fn people_of(
    org: &org::Org,
    reg: &RegNo,
    from: time::Date,
    to: time::Date,
    entries: &[LogEntry],
) -> Vec<Person> {
    let mut numbers: Vec<String> = Vec::new();
    for a in &org.assignments {
        if &a.vehicle == reg
            && a.from <= to
            && a.to.is_none_or(|t| from < t)
            && !numbers.contains(&a.employee)
        {
            numbers.push(a.employee.clone());
        }
    }
    for e in entries {
        if let LogEntry::Trip(t) = e
            && let Some(d) = &t.driver
            && !numbers.contains(d)
        {
            numbers.push(d.clone());
        }
    }
    numbers
        .into_iter()
        .filter_map(|n| {
            org.employees
                .iter()
                .find(|e| e.number == n)
                .map(|e| Person {
                    number: e.number.clone(),
                    name: e.name.clone(),
                })
        })
        .collect()
}

fn everyone(org: &org::Org) -> Vec<Person> {
    org.employees
        .iter()
        .map(|e| Person {
            number: e.number.clone(),
            name: e.name.clone(),
        })
        .collect()
}

/// The month's review steps as the documents show them, with the signer's name and employee
/// number when the user is an employee: the driver's submission is the driver's signature, the
/// keeper's approval the keeper's; a return is kept with its comment.
fn signatures_of(
    org: &org::Org,
    users: &[storage::UserRow],
    month: &str,
    steps: &[MonthStep],
) -> Vec<Signature> {
    steps
        .iter()
        .map(|s| Signature {
            month: month.to_owned(),
            signer: match s.kind {
                StepKind::Submitted => Signer::Driver,
                StepKind::Returned | StepKind::Approved => Signer::Keeper,
            },
            user: s.by.clone(),
            person: users
                .iter()
                .find(|u| u.name == s.by)
                .and_then(|u| u.employee_number.as_deref())
                .and_then(|n| org.employees.iter().find(|e| e.number == n))
                .map(|e| Person {
                    number: e.number.clone(),
                    name: e.name.clone(),
                }),
            at: s.at,
            returned: match s.kind {
                StepKind::Returned => Some(s.comment.clone().unwrap_or_default()),
                _ => None,
            },
        })
        .collect()
}

/// The corrections of trips' drivers, as supplements.
fn supplements_of(corrections: &[storage::DriverCorrection]) -> Vec<report::Supplement> {
    corrections
        .iter()
        .map(|c| report::Supplement {
            trip: c.trip,
            recorded: c.recorded.clone(),
            driver: c.driver.clone(),
            reason: c.reason.clone(),
            by: c.by.clone(),
            at: c.at,
        })
        .collect()
}

/// The drivers of every vehicle in the period, as employee numbers.
fn all_drivers(org: &org::Org, from: time::Date, to: time::Date) -> Option<String> {
    let numbers: BTreeSet<&str> = org
        .assignments
        .iter()
        .filter(|a| a.from <= to && a.to.is_none_or(|t| from < t))
        .map(|a| a.employee.as_str())
        .collect();
    (!numbers.is_empty()).then(|| numbers.into_iter().collect::<Vec<_>>().join(","))
}

/// Which table a CSV holds: by its file stem (`turer`) or its English name (`trips`).
fn pick<'t>(tables: &'t [Table], part: Option<&str>) -> Result<&'t Table, ReadError> {
    let Some(part) = part else {
        return tables
            .first()
            .ok_or_else(|| ReadError::Invalid("nothing to export".to_owned()));
    };
    let english = |t: &Table| t.name.1.to_lowercase().replace(' ', "-");
    tables
        .iter()
        .find(|t| t.file == part || english(t) == part)
        .ok_or_else(|| {
            ReadError::Invalid(format!(
                "part is one of {}, not {part:?}",
                tables.iter().map(english).collect::<Vec<_>>().join(", ")
            ))
        })
}

/// The tables as JSON: `{ "trips": [ {column key: value, …}, … ], … }`.
pub fn tables_json(tables: &[Table]) -> serde_json::Value {
    use report::Cell;
    use serde_json::{Value, json};
    let mut out = serde_json::Map::new();
    for t in tables {
        let rows: Vec<Value> = t
            .rows
            .iter()
            .map(|row| {
                let mut o = serde_json::Map::new();
                for (c, cell) in t.columns.iter().zip(row) {
                    let v = match cell {
                        Cell::Empty => Value::Null,
                        Cell::Text(s) => json!(s),
                        Cell::Km(v) => json!((v * 10.0).round() / 10.0 + 0.0),
                        Cell::Count(n) => json!(n),
                        Cell::Date(d) => json!(d.to_string()),
                        Cell::Time(t) | Cell::DateTime(t) => json!(t.rfc3339()),
                        Cell::Yes(b) => json!(b),
                        Cell::Word { key, .. } => json!(key),
                    };
                    o.insert(c.key.to_owned(), v);
                }
                Value::Object(o)
            })
            .collect();
        out.insert(
            t.name.1.to_lowercase().replace(' ', "_"),
            Value::Array(rows),
        );
    }
    Value::Object(out)
}

fn zip_files(files: Vec<(String, Vec<u8>)>) -> Result<Vec<u8>, ReadError> {
    let err = |e: zip::result::ZipError| ReadError::Invalid(format!("writing the ZIP: {e}"));
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in files {
        w.start_file(name, options).map_err(err)?;
        w.write_all(&bytes)
            .map_err(|e| ReadError::Invalid(format!("writing the ZIP: {e}")))?;
    }
    Ok(w.finish().map_err(err)?.into_inner())
}

/// What the ZIP holds, for the person who opens it.
fn readme(files: &[String], lang: Lang) -> Vec<u8> {
    let mut s = String::from(lang.pick(
        "Kjørebok fra Sporvern\r\n\r\nCSV-filene er laget for norsk Excel (semikolon, desimalkomma, UTF-8) eller etter RFC 4180 (komma, desimalpunktum), som valgt. Sammendraget står i egen fil. Kolonnene er beskrevet i docs/exports.md.\r\n\r\n",
        "Driving log from Sporvern\r\n\r\nThe CSV files are made for Norwegian Excel (semicolon, decimal comma, UTF-8) or to RFC 4180 (comma, decimal point), as chosen. The summary is a file of its own. The columns are described in docs/exports.md.\r\n\r\n",
    ));
    for f in files {
        s.push_str(f);
        s.push_str("\r\n");
    }
    s.into_bytes()
}

/// Writes `tables` (and `pdfs`) as `format`, under the file-name `stem`.
fn render(
    stem: &str,
    tables: &[Table],
    pdfs: Vec<(String, Vec<u8>)>,
    format: &Format,
    lang: Lang,
) -> Result<Download, ReadError> {
    let xlsx = || {
        let refs: Vec<&Table> = tables.iter().collect();
        report::xlsx(&refs, lang).map_err(ReadError::Invalid)
    };
    Ok(match format {
        Format::Json => Download {
            file_name: format!("{stem}.json"),
            content_type: "application/json",
            bytes: serde_json::to_vec_pretty(&tables_json(tables)).unwrap_or_default(),
        },
        Format::Pdf => {
            let mut pdfs = pdfs;
            if pdfs.len() != 1 {
                return Err(ReadError::Invalid(
                    "a PDF is one vehicle's driving log; for several vehicles ask for zip"
                        .to_owned(),
                ));
            }
            let (name, bytes) = pdfs.remove(0);
            Download {
                file_name: name,
                content_type: "application/pdf",
                bytes,
            }
        }
        Format::Csv { dialect, part } => {
            let t = pick(tables, part.as_deref())?;
            Download {
                file_name: format!("{stem}-{}.csv", t.file),
                content_type: "text/csv; charset=utf-8; header=present",
                bytes: t.csv(*dialect, lang).into_bytes(),
            }
        }
        Format::Xlsx => Download {
            file_name: format!("{stem}.xlsx"),
            content_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            bytes: xlsx()?,
        },
        Format::Zip { dialect } => {
            let mut files: Vec<(String, Vec<u8>)> = tables
                .iter()
                .map(|t| {
                    (
                        format!("{}.csv", t.file),
                        t.csv(*dialect, lang).into_bytes(),
                    )
                })
                .collect();
            files.push((format!("{stem}.xlsx"), xlsx()?));
            files.extend(pdfs);
            let names: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
            files.insert(0, ("LESMEG.txt".to_owned(), readme(&names, lang)));
            Download {
                file_name: format!("{stem}.zip"),
                content_type: "application/zip",
                bytes: zip_files(files)?,
            }
        }
    })
}

fn year_start(to: time::Date) -> Result<time::Date, ReadError> {
    time::Date::from_calendar_date(to.year(), time::Month::January, 1)
        .map_err(|e| ReadError::Invalid(e.to_string()))
}

impl Reads {
    /// One vehicle's driving log for a month or a year as a file: the PDF, a CSV (trips,
    /// summary or deviations), the workbook, or all of them in a ZIP.
    pub fn driving_log_download(
        &self,
        who: &Who,
        asked: Option<ReadPurpose>,
        reg: &str,
        period: &str,
        format: &Format,
        lang: Lang,
    ) -> Result<Download, ReadError> {
        let log = self.driving_log(who, asked, reg, period, format.action())?;
        let (from, to) = report::period(period).map_err(ReadError::Invalid)?;
        let org = self.store.load_org()?;
        let users = self.store.users()?;
        let mut drivers = people_of(&org, &log.vehicle, from, to, &log.entries);
        if who.role == access::Role::Employee {
            // A driver's own copy names the driver, not the colleagues who shared the vehicle.
            drivers.retain(|p| who.user.employee.as_deref() == Some(p.number.as_str()));
        }
        // A year is signed month by month: every month's signatures.
        let signatures = if period.len() == 4 {
            let (_, id) = self.vehicle(reg)?;
            let mut all = Vec::new();
            for m in 1..=12 {
                let month = format!("{period}-{m:02}");
                all.extend(signatures_of(
                    &org,
                    &users,
                    &month,
                    &self.store.month_review(id, &month)?,
                ));
            }
            all
        } else {
            signatures_of(&org, &users, period, &log.signoffs)
        };
        let doc = LogDoc {
            drivers,
            signatures,
            supplements: supplements_of(&log.driver_corrections),
            log,
        };
        let generated = now();
        let r = doc.report(generated);
        let stem = format!("kjorebok-{}-{period}", file_part(r.vehicle));
        let pdfs = match format {
            Format::Pdf | Format::Zip { .. } => {
                vec![(format!("{stem}.pdf"), report::driving_log_pdf(&r, lang))]
            }
            _ => Vec::new(),
        };
        let one = [r];
        let tables = [
            report::accounts::trips_table(&one),
            report::accounts::summary_table(&one),
            report::accounts::deviations_table(&one),
        ];
        render(&stem, &tables, pdfs, format, lang)
    }

    /// Authorises a read of every vehicle's driving log in the period (the log keeper's).
    fn authorise_all(
        &self,
        who: &Who,
        asked: Option<ReadPurpose>,
        org: &org::Org,
        (from, to): (time::Date, time::Date),
        format: &Format,
        what: String,
    ) -> Result<super::Granted, ReadError> {
        let purpose = declared(ReadPurpose::DrivingLog, asked)?;
        self.authorise(
            who,
            purpose,
            Scope::All,
            all_drivers(org, from, to),
            format.action(),
            format!("{what} ({})", format.label()),
        )
    }

    /// The vehicles of the organisation with their store ids.
    fn fleet_ids(
        &self,
        org: &org::Org,
    ) -> Result<Vec<(RegNo, VehicleId, domain::VehicleKind)>, ReadError> {
        let mut out = Vec::new();
        for v in &org.vehicles {
            if let Some(id) = self.store.vehicle_id(&v.reg)? {
                out.push((v.reg.clone(), id, v.kind));
            }
        }
        Ok(out)
    }

    /// Every vehicle's driving log for one month in one download: a ZIP (each vehicle's PDF,
    /// the trips, summary and deviations of all vehicles as CSV, and the workbook), one
    /// workbook, one CSV table, or JSON.
    pub fn fleet_month_download(
        &self,
        who: &Who,
        asked: Option<ReadPurpose>,
        month: &str,
        format: &Format,
        lang: Lang,
    ) -> Result<Download, ReadError> {
        if month.len() != 7 {
            return Err(ReadError::Invalid(format!(
                "all vehicles are exported per month, YYYY-MM, not {month:?}"
            )));
        }
        if *format == Format::Pdf {
            return Err(ReadError::Invalid(
                "a PDF is one vehicle's driving log; for several vehicles ask for zip".to_owned(),
            ));
        }
        let (from, to) = report::period(month).map_err(ReadError::Invalid)?;
        let org = self.store.load_org()?;
        let users = self.store.users()?;
        let g = self.authorise_all(
            who,
            asked,
            &org,
            (from, to),
            format,
            format!("driving log, all vehicles {month}"),
        )?;
        let mut docs = Vec::new();
        for (reg, id, kind) in self.fleet_ids(&org)? {
            let entries = self.store.driving_log(&g.cap, id, from, to)?;
            let deviations = self.store.deviations(&g.cap, id, from, to)?;
            let odometer_readings = self.store.monthly_odometer(&g.cap, id, from, to)?;
            let signoffs = self.store.month_review(id, month)?;
            let driver_corrections = self.store.driver_corrections(&g.cap, id, from, to)?;
            let year =
                purposes::tax::totals(&self.store.driving_log(&g.cap, id, year_start(to)?, to)?);
            docs.push(LogDoc {
                drivers: people_of(&org, &reg, from, to, &entries),
                signatures: signatures_of(&org, &users, month, &signoffs),
                supplements: supplements_of(&driver_corrections),
                log: DrivingLogPeriod {
                    notices: purposes::tax::notices(kind, &year),
                    organisation: org.organisation.name.clone(),
                    org_number: org.organisation.org_number.clone(),
                    vehicle: reg,
                    kind,
                    period: month.to_owned(),
                    entries,
                    deviations,
                    odometer_readings,
                    signoffs,
                    driver_corrections,
                    year,
                },
            });
        }
        let generated = now();
        let reports: Vec<report::DrivingLogReport> =
            docs.iter().map(|d| d.report(generated)).collect();
        let stem = format!("kjorebok-alle-{month}");
        let pdfs = match format {
            Format::Zip { .. } => reports
                .iter()
                .map(|r| {
                    (
                        format!("pdf/kjorebok-{}-{month}.pdf", file_part(r.vehicle)),
                        report::driving_log_pdf(r, lang),
                    )
                })
                .collect(),
            _ => Vec::new(),
        };
        let tables = [
            report::accounts::trips_table(&reports),
            report::accounts::summary_table(&reports),
            report::accounts::deviations_table(&reports),
        ];
        let out = render(&stem, &tables, pdfs, format, lang);
        g.finish(out?)
    }

    /// Every vehicle's trips in a year up to `to`, under one capability.
    fn year_of_every_vehicle(
        &self,
        g: &super::Granted,
        org: &org::Org,
        to: time::Date,
    ) -> Result<Vec<(String, domain::VehicleKind, Vec<LogEntry>)>, ReadError> {
        let from = year_start(to)?;
        let mut out = Vec::new();
        for (reg, id, kind) in self.fleet_ids(org)? {
            out.push((
                reg.to_string(),
                kind,
                self.store.driving_log(&g.cap, id, from, to)?,
            ));
        }
        Ok(out)
    }

    /// The tax year per vehicle and per employee: business and private km, private days,
    /// and the thresholds (10 days / 1,000 km of occasional private use, 40,000 km of business
    /// driving). `period` is a year (`YYYY`) or the year to the end of a month (`YYYY-MM`).
    pub fn tax_year_download(
        &self,
        who: &Who,
        asked: Option<ReadPurpose>,
        period: &str,
        format: &Format,
        lang: Lang,
    ) -> Result<Download, ReadError> {
        let (_, to) = report::period(period).map_err(ReadError::Invalid)?;
        let from = year_start(to)?;
        if *format == Format::Pdf {
            return Err(ReadError::Invalid(
                "there is no PDF of this table; ask for csv, xlsx, zip or json".to_owned(),
            ));
        }
        let org = self.store.load_org()?;
        let g = self.authorise_all(
            who,
            asked,
            &org,
            (from, to),
            format,
            format!("tax year {} to {to}, all vehicles and employees", to.year()),
        )?;
        let years = self.year_of_every_vehicle(&g, &org, to)?;
        let vehicles: Vec<report::accounts::VehicleYear> = years
            .iter()
            .map(|(v, kind, entries)| report::accounts::VehicleYear {
                vehicle: v,
                kind: *kind,
                entries,
            })
            .collect();
        let (per_vehicle, per_employee) =
            report::accounts::tax_year(to.year(), &vehicles, &org.assignments, &everyone(&org));
        let out = render(
            &format!("skatteaar-{period}"),
            &[per_vehicle, per_employee],
            Vec::new(),
            format,
            lang,
        );
        g.finish(out?)
    }

    /// The payroll file: private km per employee per month (the input to the benefit taxation
    /// of company cars), for a month (`YYYY-MM`) or every month of a year (`YYYY`).
    pub fn payroll_download(
        &self,
        who: &Who,
        asked: Option<ReadPurpose>,
        period: &str,
        format: &Format,
        lang: Lang,
    ) -> Result<Download, ReadError> {
        let (first, to) = report::period(period).map_err(ReadError::Invalid)?;
        let from = year_start(to)?;
        if *format == Format::Pdf {
            return Err(ReadError::Invalid(
                "there is no PDF of this table; ask for csv, xlsx, zip or json".to_owned(),
            ));
        }
        let org = self.store.load_org()?;
        let g = self.authorise_all(
            who,
            asked,
            &org,
            (from, to),
            format,
            format!("payroll private km {period}, all employees"),
        )?;
        let years = self.year_of_every_vehicle(&g, &org, to)?;
        let vehicles: Vec<report::accounts::VehicleYear> = years
            .iter()
            .map(|(v, kind, entries)| report::accounts::VehicleYear {
                vehicle: v,
                kind: *kind,
                entries,
            })
            .collect();
        let mut months = Vec::new();
        let mut m = first;
        while m <= to {
            let key = format!("{:04}-{:02}", m.year(), u8::from(m.month()));
            let bounds = report::period(&key).map_err(ReadError::Invalid)?;
            months.push(bounds);
            m = bounds.1.next_day().unwrap_or(time::Date::MAX);
        }
        let table =
            report::accounts::payroll(&months, &vehicles, &org.assignments, &everyone(&org));
        let out = render(
            &format!("lonn-privat-km-{period}"),
            &[table],
            Vec::new(),
            format,
            lang,
        );
        g.finish(out?)
    }
}
