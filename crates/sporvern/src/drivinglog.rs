//! Reading and changing the driving log, privacy mode and alarm windows from the command line.
//! Every command acts as a user of this server (`--as USER`, in one of their roles with
//! `--role`), through the same policy and audit ledger as the web pages and the API
//! (`server::reads`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use domain::drivinglog::Classification;

use crate::cli::open_existing;

#[derive(Subcommand)]
pub enum Command {
    /// Export a vehicle's driving log for a month (or a whole year): CSV (trips, or
    /// `--part summary|deviations`), PDF, XLSX or a ZIP of all of them.
    Export {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
        #[arg(long)]
        vehicle: String,
        /// YYYY-MM for a month, YYYY for a year.
        #[arg(long)]
        month: String,
        #[command(flatten)]
        file: FileArgs,
        /// The user the export is made by (on the audit ledger).
        #[arg(long = "as")]
        as_user: String,
        /// One of the user's roles (log_keeper, or employee for one's own vehicle).
        #[arg(long)]
        role: Option<String>,
    },
    /// Every vehicle's driving log for one month in one file (the log keeper's): a ZIP of each
    /// vehicle's PDF and the trips, summary and deviations as CSV and XLSX, or one of them.
    ExportAll {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
        /// YYYY-MM
        #[arg(long)]
        month: String,
        #[command(flatten)]
        file: FileArgs,
        #[arg(long = "as")]
        as_user: String,
    },
    /// The tax year per vehicle and per employee: business and private km, private days, and
    /// the thresholds (10 days / 1,000 km of occasional private use, 40,000 km of business
    /// driving). `--part per-employee` for the second table as CSV.
    TaxYear {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
        /// YYYY for the year, YYYY-MM for the year to the end of that month.
        #[arg(long)]
        year: String,
        #[command(flatten)]
        file: FileArgs,
        #[arg(long = "as")]
        as_user: String,
    },
    /// The payroll file: private km per employee per month and vehicle (the input to the
    /// benefit taxation of company cars). Columns in docs/exports.md.
    Payroll {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
        /// YYYY-MM for one month, YYYY for every month of the year.
        #[arg(long)]
        month: String,
        #[command(flatten)]
        file: FileArgs,
        #[arg(long = "as")]
        as_user: String,
    },
    /// Sign a month that has ended, with every trip classified: the driver submits it
    /// (`--role driver`), then the log keeper approves it (`--role keeper`), which makes it
    /// final. A month without trips is not signed.
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
    /// The log keeper returns a submitted month to its driver, with a comment the driver sees.
    Return {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
        #[arg(long)]
        vehicle: String,
        /// YYYY-MM
        #[arg(long)]
        month: String,
        /// Why the month goes back: what the driver is to correct.
        #[arg(long)]
        comment: String,
        #[arg(long = "as")]
        as_user: String,
    },
    /// Correct a wrong driver attribution (the log keeper, or the employee a trip is wrongly
    /// attributed to): a supplement beside the recorded driver, whose distance, date and time
    /// stay as recorded.
    Driver {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
        #[arg(long)]
        trip: i64,
        /// The employee number of the right driver.
        #[arg(long)]
        driver: String,
        #[arg(long)]
        reason: String,
        #[arg(long = "as")]
        as_user: String,
        /// log_keeper (default: the user's first role) or employee.
        #[arg(long)]
        role: Option<String>,
    },
    /// Classify a trip: business with a purpose, or private. Private erases the trip's
    /// places, times, odometer readings and driver for good (date and km stay). Recorded
    /// distance, date and time never change; every classification is kept.
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
    /// The log keeper's follow-up lists for a month or year, every vehicle: trips started
    /// outside working hours without a purpose, and trips unclassified too long (the
    /// organisation's `[classification]` rules). Date and km only.
    Followups {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
        /// YYYY-MM for a month, YYYY for a year.
        #[arg(long)]
        month: String,
        #[arg(long = "as")]
        as_user: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Role {
    Driver,
    Keeper,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One table as CSV (see --dialect and --part).
    Csv,
    /// A PDF a driver can hand to the tax office (one vehicle).
    Pdf,
    /// Every table as a sheet of one workbook.
    Xlsx,
    /// Every table as CSV, the workbook and the PDFs.
    Zip,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Dialect {
    /// Semicolon, decimal comma, UTF-8 with BOM: for Norwegian Excel.
    Excel,
    /// Comma, decimal point, ISO dates: RFC 4180, for programs.
    Rfc4180,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum LangArg {
    Nb,
    En,
}

/// How an export is written.
#[derive(Args)]
pub struct FileArgs {
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    format: Format,
    #[arg(long, value_enum, default_value_t = Dialect::Excel)]
    dialect: Dialect,
    /// For CSV: which table (trips, summary, deviations; per-vehicle, per-employee).
    #[arg(long)]
    part: Option<String>,
    /// The language of the headings and the PDF.
    #[arg(long, value_enum, default_value_t = LangArg::Nb)]
    lang: LangArg,
    /// Write to this file instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
}

impl FileArgs {
    fn format(&self) -> server::reads::exports::Format {
        use server::reads::exports::Format as F;
        let dialect = match self.dialect {
            Dialect::Excel => report::Dialect::Excel,
            Dialect::Rfc4180 => report::Dialect::Rfc4180,
        };
        match self.format {
            Format::Csv => F::Csv {
                dialect,
                part: self.part.clone(),
            },
            Format::Pdf => F::Pdf,
            Format::Xlsx => F::Xlsx,
            Format::Zip => F::Zip { dialect },
            Format::Json => F::Json,
        }
    }

    fn lang(&self) -> report::Lang {
        match self.lang {
            LangArg::Nb => report::Lang::Nb,
            LangArg::En => report::Lang::En,
        }
    }

    /// Writes the download to `--out` or standard output, and says so on standard error.
    fn write(&self, d: &server::reads::exports::Download) -> anyhow::Result<()> {
        use std::io::Write;
        match &self.out {
            Some(path) => {
                std::fs::write(path, &d.bytes)
                    .with_context(|| format!("writing {}", path.display()))?;
                eprintln!("wrote {} ({})", path.display(), d.file_name);
            }
            None => std::io::stdout()
                .write_all(&d.bytes)
                .context("writing to standard output")?,
        }
        Ok(())
    }
}

/// The all-vehicle exports act as the log keeper.
const KEEPER: Option<&str> = Some("log_keeper");

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

use server::reads::{Reads, Who};

/// The acting user: `--as` names a user of this server, `--role` one of their roles (their
/// first role when omitted).
pub fn acting(
    store: Box<dyn storage::Store>,
    as_user: &str,
    role: Option<&str>,
) -> anyhow::Result<(Reads, Who)> {
    let store: Arc<dyn storage::Store> = Arc::from(store);
    let row = store
        .users()?
        .into_iter()
        .find(|u| u.name == as_user && !u.disabled)
        .with_context(|| {
            format!("no user {as_user:?} on this server: add one with `sporvern user add`")
        })?;
    let who = Who::from_row(&row, role)?;
    let reads = Reads::new(
        store.clone(),
        server::audit_log::AuditLog::Direct(store),
        None,
    );
    Ok((reads, who))
}

/// `YYYY-MM` → that month; `YYYY` → that year.
fn period(s: &str) -> anyhow::Result<(time::Date, time::Date)> {
    report::period(s).map_err(|e| anyhow::anyhow!("--month: {e}"))
}

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Export {
            data,
            vehicle: reg,
            month,
            file,
            as_user,
            role,
        } => {
            period(&month)?;
            let (reads, who) = acting(open_existing(&data)?, &as_user, role.as_deref())?;
            let d = reads.driving_log_download(
                &who,
                None,
                &reg,
                &month,
                &file.format(),
                file.lang(),
            )?;
            eprintln!(
                "driving log of {reg} {month}, read as {as_user} ({}); on the audit ledger",
                who.role
            );
            file.write(&d)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::ExportAll {
            data,
            month,
            file,
            as_user,
        } => {
            let (reads, who) = acting(open_existing(&data)?, &as_user, KEEPER)?;
            let d = reads.fleet_month_download(&who, None, &month, &file.format(), file.lang())?;
            eprintln!(
                "every vehicle's driving log {month}, read as {as_user}; on the audit ledger"
            );
            file.write(&d)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::TaxYear {
            data,
            year,
            file,
            as_user,
        } => {
            let (reads, who) = acting(open_existing(&data)?, &as_user, KEEPER)?;
            let d = reads.tax_year_download(&who, None, &year, &file.format(), file.lang())?;
            eprintln!("tax year {year}, read as {as_user}; on the audit ledger");
            file.write(&d)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Payroll {
            data,
            month,
            file,
            as_user,
        } => {
            let (reads, who) = acting(open_existing(&data)?, &as_user, KEEPER)?;
            let d = reads.payroll_download(&who, None, &month, &file.format(), file.lang())?;
            eprintln!("payroll file {month}, read as {as_user}; on the audit ledger");
            file.write(&d)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Sign {
            data,
            vehicle: reg,
            month,
            role,
            as_user,
        } => {
            let role = match role {
                Role::Driver => "employee",
                Role::Keeper => "log_keeper",
            };
            let (reads, who) = acting(open_existing(&data)?, &as_user, Some(role))?;
            reads.changes().sign_month(&who, &reg, &month)?;
            println!(
                "{month} of {reg} {} by {as_user} ({role})",
                if role == "employee" {
                    "signed and submitted to the log keeper"
                } else {
                    "approved: the month is final"
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Return {
            data,
            vehicle: reg,
            month,
            comment,
            as_user,
        } => {
            let (reads, who) = acting(open_existing(&data)?, &as_user, Some("log_keeper"))?;
            reads.changes().return_month(&who, &reg, &month, &comment)?;
            println!("{month} of {reg} returned to its driver by {as_user}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Driver {
            data,
            trip,
            driver,
            reason,
            as_user,
            role,
        } => {
            let (reads, who) = acting(open_existing(&data)?, &as_user, role.as_deref())?;
            reads
                .changes()
                .correct_driver(&who, trip, &driver, &reason)?;
            println!(
                "trip {trip}: driver corrected to employee {driver} by {as_user}; the recorded attribution stays beside it"
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
            let class = match (business, private) {
                (Some(purpose), false) if !purpose.trim().is_empty() => Classification::Business {
                    purpose: purpose.trim().to_owned(),
                },
                (None, true) => Classification::Private,
                _ => bail!("give --business \"purpose or customer\" or --private"),
            };
            let (reads, who) = acting(open_existing(&data)?, &as_user, Some("employee"))?;
            reads.changes().classify(&who, trip, &class)?;
            println!("trip {trip} classified as {} by {as_user}", class.as_str());
            Ok(ExitCode::SUCCESS)
        }
        Command::Followups {
            data,
            month,
            as_user,
        } => {
            period(&month)?;
            let (reads, who) = acting(open_existing(&data)?, &as_user, Some("log_keeper"))?;
            let lists = reads.followups(&who, None, &month)?;
            use domain::drivinglog::FollowUp;
            for (why, nb, en) in [
                (
                    FollowUp::OutsideWorkingHoursWithoutPurpose,
                    "utenfor arbeidstid uten formål",
                    "outside working hours without a purpose",
                ),
                (
                    FollowUp::UnclassifiedTooLong,
                    "uklassifisert for lenge",
                    "unclassified too long",
                ),
            ] {
                let trips: Vec<_> = lists.iter().filter(|f| f.why == why).collect();
                println!("{nb} / {en}: {}", trips.len());
                for f in trips {
                    println!(
                        "  {}  {}  {:.1} km  (trip {})",
                        f.trip.date, f.vehicle, f.trip.km, f.trip.id
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub fn privacy(args: PrivacyArgs) -> anyhow::Result<ExitCode> {
    let (reads, who) = acting(open_existing(&args.data)?, &args.as_user, Some("employee"))?;
    let on = match args.state.as_str() {
        "on" => true,
        "off" => false,
        "history" => {
            for (at, private, source) in reads.privacy_history(&who, &args.vehicle)? {
                println!("{at} {} ({source})", if private { "on" } else { "off" });
            }
            return Ok(ExitCode::SUCCESS);
        }
        other => bail!("privacy mode is on or off (or history to list switches), not {other:?}"),
    };
    let reg = reads.changes().switch_privacy(
        &who,
        Some(&args.vehicle),
        on,
        &format!("command line ({})", args.as_user),
    )?;
    println!(
        "privacy mode {} for {reg}: {}",
        if on { "on" } else { "off" },
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
    /// Open a window for a vehicle by hand when a theft is reported; it stays open until it
    /// is resolved.
    Open {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
        #[arg(long)]
        vehicle: String,
        /// The police report's reference (anmeldelsesnummer), when there is one.
        #[arg(long)]
        police_report: Option<String>,
        #[arg(long = "as")]
        as_user: String,
    },
    /// Resolve a window with a note; --incident keeps its positions for a year instead of 30
    /// days.
    Resolve {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
        #[arg(long)]
        window: i64,
        #[arg(long)]
        incident: bool,
        /// How the alarm ended (kept with the window).
        #[arg(long)]
        note: String,
        #[arg(long = "as")]
        as_user: String,
    },
}

/// Alarm commands act as a security operator.
const SECURITY: Option<&str> = Some("security_operator");

pub fn alarm(command: AlarmCommand) -> anyhow::Result<ExitCode> {
    match command {
        AlarmCommand::List { data, as_user } => {
            let (reads, who) = acting(open_existing(&data)?, &as_user, SECURITY)?;
            for (reg, w) in reads.alarms(&who, None)? {
                let state = match (&w.resolved_at, &w.resolved_by) {
                    (Some(at), Some(by)) => format!("resolved {at} by {by}"),
                    _ => "OPEN".to_owned(),
                };
                println!(
                    "#{} vehicle {reg} opened {} ({}){} — {}",
                    w.id,
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
            let (reads, who) = acting(open_existing(&data)?, &as_user, SECURITY)?;
            for (at, p) in reads.alarm_positions(&who, None, window)? {
                println!("{at} {:.6} {:.6}", p.lat(), p.lon());
            }
            Ok(ExitCode::SUCCESS)
        }
        AlarmCommand::Open {
            data,
            vehicle: reg,
            police_report,
            as_user,
        } => {
            let (reads, who) = acting(open_existing(&data)?, &as_user, SECURITY)?;
            let w = reads
                .changes()
                .open_alarm(&who, &reg, "theft", police_report.as_deref())?;
            println!("alarm window {w} open for {reg}: positions are kept until it is resolved");
            Ok(ExitCode::SUCCESS)
        }
        AlarmCommand::Resolve {
            data,
            window,
            incident,
            note,
            as_user,
        } => {
            let (reads, who) = acting(open_existing(&data)?, &as_user, SECURITY)?;
            reads
                .changes()
                .resolve_alarm(&who, window, incident, &note)?;
            println!(
                "alarm window {window} resolved; its positions are deleted after {} days",
                if incident { 365 } else { 30 }
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
