//! Reading the driving log from the command line. Until access control lands (users, roles,
//! the audit ledger), every read names who it is made for with `--as USER` and says so.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use domain::drivinglog::{Classification, LogEntry};
use domain::{RegNo, Timestamp, VehicleId};

use crate::cli::open_existing;

#[derive(Subcommand)]
pub enum Command {
    /// Export a vehicle's driving log for a month (or a whole year) as CSV.
    Export {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
        #[arg(long)]
        vehicle: String,
        /// YYYY-MM for a month, YYYY for a year.
        #[arg(long)]
        month: String,
        #[arg(long, value_enum, default_value_t = Format::Csv)]
        format: Format,
        /// Who the export is made for (recorded once the audit ledger exists).
        #[arg(long = "as")]
        as_user: String,
    },
    /// Sign off a month: the driver first, then the log keeper (after which the month's
    /// classifications are final).
    Sign {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
        #[arg(long)]
        vehicle: String,
        /// YYYY-MM
        #[arg(long)]
        month: String,
        #[arg(long, value_enum)]
        role: Role,
        #[arg(long = "as")]
        as_user: String,
    },
    /// Classify a trip: business with a purpose, or private. Recorded values never change;
    /// every classification is kept.
    Classify {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
        #[arg(long)]
        trip: i64,
        /// Business trip with this purpose or customer.
        #[arg(long, conflicts_with = "private", required_unless_present = "private")]
        business: Option<String>,
        #[arg(long)]
        private: bool,
        #[arg(long = "as")]
        as_user: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Role {
    Driver,
    Keeper,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Csv,
    /// A PDF a driver can hand to the tax office (written to standard output).
    Pdf,
}

#[derive(Args)]
pub struct PrivacyArgs {
    /// on, off, or history (the vehicle's switches, newest first)
    pub state: String,
    #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
    pub data: PathBuf,
    #[arg(long)]
    pub vehicle: String,
    #[arg(long = "as")]
    pub as_user: String,
}

use server::ingest::now;

/// Puts a read or change made from the command line on the audit ledger. Until users and
/// roles exist, the actor is who `--as` names and the role says it is unverified.
pub fn audit(
    store: &dyn storage::Store,
    as_user: &str,
    purpose: &str,
    subject: Option<String>,
    action: ledger::Action,
    object: String,
) -> anyhow::Result<()> {
    store
        .audit_append(storage::AuditRecord {
            at: now(),
            actor: as_user.to_owned(),
            role: "unverified (command line, --as)".to_owned(),
            purpose: purpose.to_owned(),
            subject,
            action,
            object,
            outcome: "allowed".to_owned(),
        })
        .context("recording the access in the audit ledger; nothing was shown")?;
    Ok(())
}

/// The employees who drove `reg` (by assignment) in the period, as employee numbers.
fn drivers_of(org: &org::Org, reg: &RegNo, from: time::Date, to: time::Date) -> Option<String> {
    let mut numbers: Vec<&str> = org
        .assignments
        .iter()
        .filter(|a| &a.vehicle == reg && a.from <= to && a.to.is_none_or(|t| from < t))
        .map(|a| a.employee.as_str())
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    (!numbers.is_empty()).then(|| numbers.join(","))
}

fn vehicle(store: &dyn storage::Store, reg: &str) -> anyhow::Result<VehicleId> {
    let reg = RegNo::parse(reg)?;
    store
        .vehicle_id(&reg)?
        .with_context(|| format!("no vehicle {reg} in the organisation"))
}

/// `YYYY-MM` → that month; `YYYY` → that year.
fn period(s: &str) -> anyhow::Result<(time::Date, time::Date)> {
    let bad = || anyhow::anyhow!("--month is YYYY-MM (a month) or YYYY (a year), not {s:?}");
    let (year, month) = match s.split_once('-') {
        Some((y, m)) => (
            y.parse::<i32>().map_err(|_| bad())?,
            Some(m.parse::<u8>().map_err(|_| bad())?),
        ),
        None => (s.parse::<i32>().map_err(|_| bad())?, None),
    };
    let date = |m: u8, d: u8| -> anyhow::Result<time::Date> {
        let month = time::Month::try_from(m).map_err(|_| bad())?;
        time::Date::from_calendar_date(year, month, d).map_err(|_| bad())
    };
    Ok(match month {
        Some(m) => {
            let first = date(m, 1)?;
            let last = date(m, time::util::days_in_month(first.month(), year))?;
            (first, last)
        }
        None => (date(1, 1)?, date(12, 31)?),
    })
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn local_time(t: Timestamp) -> String {
    let offset = trips::oslo_offset(t);
    t.to_offset_date_time()
        .map(|d| d.to_offset(offset))
        .map(|d| format!("{:02}:{:02}", d.hour(), d.minute()))
        .unwrap_or_default()
}

/// The CSV a log keeper or a driver hands on: one row per trip, private trips as date and km.
pub fn csv(
    reg: &str,
    entries: &[LogEntry],
    deviations: &[domain::drivinglog::RecordedDeviation],
) -> String {
    let mut out = String::from(
        "dato/date,start,slutt/end,fra/from,til/to,km-stand start/odometer start,km-stand slutt/odometer end,km,sjåfør/driver,type,formål/purpose\n",
    );
    let mut business = 0.0;
    let mut private = 0.0;
    for e in entries {
        match e {
            LogEntry::Private(p) => {
                private += p.km;
                out.push_str(&format!("{},,,,,,,{:.1},,privat/private,\n", p.date, p.km));
            }
            LogEntry::Trip(t) => {
                let (kind, purpose) = match &t.classification {
                    Classification::Business { purpose } => ("yrke/business", purpose.as_str()),
                    Classification::Unclassified => ("ikke klassifisert/unclassified", ""),
                    Classification::Private => ("privat/private", ""),
                };
                if matches!(t.classification, Classification::Business { .. }) {
                    business += t.km;
                }
                let odo = |v: Option<f64>| v.map(|v| format!("{v:.1}")).unwrap_or_default();
                out.push_str(&format!(
                    "{},{},{},{},{},{},{},{:.1},{},{},{}\n",
                    t.date,
                    local_time(t.start),
                    local_time(t.end),
                    csv_field(&t.start_place),
                    csv_field(&t.end_place),
                    odo(t.odometer_start_km),
                    odo(t.odometer_end_km),
                    t.km,
                    csv_field(t.driver.as_deref().unwrap_or("")),
                    kind,
                    csv_field(purpose)
                ));
            }
        }
    }
    out.push_str(&format!(
        "\n# {reg}: {} trips, business {business:.1} km, private {private:.1} km, total {:.1} km\n",
        entries.len(),
        entries.iter().map(LogEntry::km).sum::<f64>()
    ));
    for d in deviations {
        out.push_str(&format!(
            "# avvik/deviation {} {} {:.1} km: {}\n",
            d.date, d.kind, d.km, d.note
        ));
    }
    out
}

/// The odometer at the end of each month in `entries` (Skatteetaten: the total is read at
/// least monthly): the last trip's end reading plus the private km driven after it.
pub fn odometer_readings(entries: &[LogEntry]) -> Vec<(time::Date, f64)> {
    let mut out: Vec<(time::Date, f64)> = Vec::new();
    let mut last: Option<(time::Date, f64)> = None;
    let month_end = |d: time::Date| {
        time::Date::from_calendar_date(
            d.year(),
            d.month(),
            time::util::days_in_month(d.month(), d.year()),
        )
        .unwrap_or(d)
    };
    for e in entries {
        let end = month_end(e.date());
        if let Some((m, km)) = last
            && m != end
        {
            out.push((m, km));
            last = None;
        }
        last = match (e, last) {
            (LogEntry::Trip(t), _) => t.odometer_end_km.map(|k| (end, k)).or(last),
            (LogEntry::Private(p), Some((m, km))) => Some((m, km + p.km)),
            (LogEntry::Private(_), None) => None,
        };
    }
    out.extend(last);
    out
}

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Export {
            data,
            vehicle: reg,
            month,
            format,
            as_user,
        } => {
            let store = open_existing(&data)?;
            let id = vehicle(store.as_ref(), &reg)?;
            let (from, to) = period(&month)?;
            let entries = store.driving_log(id, from, to)?;
            let deviations = store.deviations(id, from, to)?;
            let reg_no = RegNo::parse(&reg)?;
            let kind = store
                .load_org()?
                .vehicles
                .iter()
                .find(|v| v.reg == reg_no)
                .map_or(domain::VehicleKind::Car, |v| v.kind);
            let org_now = store.load_org()?;
            audit(
                store.as_ref(),
                &as_user,
                "driving_log",
                drivers_of(&org_now, &reg_no, from, to),
                ledger::Action::Export,
                format!(
                    "driving log {reg_no} {month} ({})",
                    match format {
                        Format::Csv => "csv",
                        Format::Pdf => "pdf",
                    }
                ),
            )?;
            let year_start = time::Date::from_calendar_date(to.year(), time::Month::January, 1)?;
            let year = purposes::tax::totals(&store.driving_log(id, year_start, to)?);
            let notices = purposes::tax::notices(kind, &year);
            eprintln!(
                "driving log of {reg} {from} – {to}, read as {as_user:?} (on the audit ledger; roles arrive with the access issue)"
            );
            if let Format::Pdf = format {
                let org = store.load_org()?;
                let generated = now().rfc3339();
                let kind_name = match kind {
                    domain::VehicleKind::Car => "personbil",
                    domain::VehicleKind::Van => "varebil",
                };
                let vehicle_name = reg_no.to_string();
                let pdf = report::driving_log_pdf(
                    &report::DrivingLogReport {
                        organisation: &org.organisation.name,
                        org_number: org.organisation.org_number.as_deref(),
                        vehicle: &vehicle_name,
                        vehicle_kind: kind_name,
                        period: &month,
                        generated_at: &generated,
                        entries: &entries,
                        deviations: &deviations,
                        odometer_readings: &odometer_readings(&entries),
                        attribution: places::ATTRIBUTION,
                    },
                    report::Lang::Nb,
                );
                use std::io::Write;
                std::io::stdout()
                    .write_all(&pdf)
                    .context("writing the PDF")?;
                return Ok(ExitCode::SUCCESS);
            }
            print!("{}", csv(&reg_no.to_string(), &entries, &deviations));
            for (date, km) in odometer_readings(&entries) {
                println!("# km-stand/odometer {date}: {km:.1} km");
            }
            if month.len() == 7 {
                for (role, by, at) in store.signoffs(id, &month)? {
                    println!("# signert/signed {} {by} {at}", role.as_str());
                }
            }
            println!(
                "# hittil i år/year to date: yrke/business {:.1} km, privat/private {:.1} km over {} dager/days, ikke klassifisert/unclassified {:.1} km",
                year.business_km, year.private_km, year.private_days, year.unclassified_km
            );
            for n in notices {
                println!("# skatt/tax: {} / {}", n.nb, n.en);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Sign {
            data,
            vehicle: reg,
            month,
            role,
            as_user,
        } => {
            let store = open_existing(&data)?;
            let id = vehicle(store.as_ref(), &reg)?;
            let role = match role {
                Role::Driver => storage::SignRole::Driver,
                Role::Keeper => storage::SignRole::Keeper,
            };
            store.sign_month(id, &month, role, &as_user, now())?;
            audit(
                store.as_ref(),
                &as_user,
                "driving_log",
                None,
                ledger::Action::Change,
                format!("driving log {reg} {month} signed by the {}", role.as_str()),
            )?;
            println!(
                "{month} of {reg} signed by the {} ({as_user})",
                role.as_str()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Classify {
            data,
            trip,
            business,
            private,
            as_user,
        } => {
            let store = open_existing(&data)?;
            let class = match (business, private) {
                (Some(purpose), false) if !purpose.trim().is_empty() => Classification::Business {
                    purpose: purpose.trim().to_owned(),
                },
                (None, true) => Classification::Private,
                _ => bail!("give --business \"purpose or customer\" or --private"),
            };
            store.classify_trip(trip, &class, &as_user, now())?;
            audit(
                store.as_ref(),
                &as_user,
                "driving_log",
                None,
                ledger::Action::Change,
                format!("trip {trip} classified {}", class.as_str()),
            )?;
            println!("trip {trip} classified as {} by {as_user}", class.as_str());
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub fn privacy(args: PrivacyArgs) -> anyhow::Result<ExitCode> {
    let store = open_existing(&args.data)?;
    let id = vehicle(store.as_ref(), &args.vehicle)?;
    let on = match args.state.as_str() {
        "on" => true,
        "off" => false,
        "history" => {
            audit(
                store.as_ref(),
                &args.as_user,
                "privacy_mode",
                None,
                ledger::Action::Read,
                format!("privacy switches of {}", args.vehicle),
            )?;
            eprintln!(
                "privacy switches of {}, read as {:?}",
                args.vehicle, args.as_user
            );
            for (at, private, source) in store.privacy_switches(id)? {
                println!("{at} {} ({source})", if private { "on" } else { "off" });
            }
            return Ok(ExitCode::SUCCESS);
        }
        other => bail!("privacy mode is on or off (or history to list switches), not {other:?}"),
    };
    store.switch_privacy(id, on, &format!("command line ({})", args.as_user), now())?;
    audit(
        store.as_ref(),
        &args.as_user,
        "privacy_mode",
        None,
        ledger::Action::Change,
        format!(
            "privacy mode {} for {}",
            if on { "on" } else { "off" },
            args.vehicle
        ),
    )?;
    println!(
        "privacy mode {} for {}: {}",
        if on { "on" } else { "off" },
        args.vehicle,
        if on {
            "the vehicle leaves the fleet view and the trip is logged as private (date and km only)"
        } else {
            "tracking as usual"
        }
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(Subcommand)]
pub enum AlarmCommand {
    /// Every alarm window: when, why, resolved or open.
    List {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
        #[arg(long = "as")]
        as_user: String,
    },
    /// The positions inside one alarm window.
    Show {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
        #[arg(long)]
        window: i64,
        #[arg(long = "as")]
        as_user: String,
    },
    /// Open a window for a vehicle by hand, e.g. when a theft is reported.
    Open {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
        #[arg(long)]
        vehicle: String,
        #[arg(long, default_value = "theft")]
        reason: String,
        #[arg(long = "as")]
        as_user: String,
    },
    /// Resolve a window; --incident keeps its positions for a year instead of 30 days.
    Resolve {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
        #[arg(long)]
        window: i64,
        #[arg(long)]
        incident: bool,
        #[arg(long = "as")]
        as_user: String,
    },
}

pub fn alarm(command: AlarmCommand) -> anyhow::Result<ExitCode> {
    match command {
        AlarmCommand::List { data, as_user } => {
            let store = open_existing(&data)?;
            audit(
                store.as_ref(),
                &as_user,
                "alarm",
                None,
                ledger::Action::Read,
                "alarm windows (list)".to_owned(),
            )?;
            eprintln!(
                "alarm windows, read as {as_user:?} (on the audit ledger; roles arrive with the access issue)"
            );
            for w in store.alarm_windows()? {
                let state = match (&w.resolved_at, &w.resolved_by) {
                    (Some(at), Some(by)) => format!("resolved {at} by {by}"),
                    _ => "OPEN".to_owned(),
                };
                println!(
                    "#{} vehicle {} opened {} ({}){} — {}",
                    w.id,
                    w.vehicle,
                    w.opened_at,
                    w.triggers,
                    if w.incident { " [incident]" } else { "" },
                    state
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        AlarmCommand::Show {
            data,
            window,
            as_user,
        } => {
            let store = open_existing(&data)?;
            audit(
                store.as_ref(),
                &as_user,
                "alarm",
                None,
                ledger::Action::Read,
                format!("alarm window {window} positions"),
            )?;
            eprintln!("alarm window {window}, read as {as_user:?}");
            for (at, p) in store.alarm_positions(window)? {
                println!("{at} {:.6} {:.6}", p.lat(), p.lon());
            }
            Ok(ExitCode::SUCCESS)
        }
        AlarmCommand::Open {
            data,
            vehicle: reg,
            reason,
            as_user,
        } => {
            let store = open_existing(&data)?;
            let id = vehicle(store.as_ref(), &reg)?;
            let w = store.open_alarm(id, &format!("{reason} (reported by {as_user})"), now())?;
            audit(
                store.as_ref(),
                &as_user,
                "alarm",
                None,
                ledger::Action::Change,
                format!("alarm window {w} opened for {reg}: {reason}"),
            )?;
            println!("alarm window {w} open for {reg}: positions are kept until it is resolved");
            Ok(ExitCode::SUCCESS)
        }
        AlarmCommand::Resolve {
            data,
            window,
            incident,
            as_user,
        } => {
            let store = open_existing(&data)?;
            store.resolve_alarm(window, &as_user, incident, now())?;
            audit(
                store.as_ref(),
                &as_user,
                "alarm",
                None,
                ledger::Action::Change,
                format!(
                    "alarm window {window} resolved{}",
                    if incident { " as an incident" } else { "" }
                ),
            )?;
            println!(
                "alarm window {window} resolved; its positions are deleted after {} days",
                if incident { 365 } else { 30 }
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
