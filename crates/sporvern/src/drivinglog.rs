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
        /// The user the export is made by (on the audit ledger).
        #[arg(long = "as")]
        as_user: String,
        /// One of the user's roles (log_keeper, or employee for one's own vehicle).
        #[arg(long)]
        role: Option<String>,
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
            format,
            as_user,
            role,
        } => {
            period(&month)?;
            let (reads, who) = acting(open_existing(&data)?, &as_user, role.as_deref())?;
            let log = reads.driving_log(&who, None, &reg, &month, ledger::Action::Export)?;
            eprintln!(
                "driving log of {} {month}, read as {as_user} ({}); on the audit ledger",
                log.vehicle, who.role
            );
            use std::io::Write;
            if let Format::Pdf = format {
                std::io::stdout()
                    .write_all(&log.pdf(report::Lang::Nb))
                    .context("writing the PDF")?;
                return Ok(ExitCode::SUCCESS);
            }
            print!("{}", log.csv());
            for (role, by, at) in &log.signoffs {
                println!("# signert/signed {} {by} {at}", role.as_str());
            }
            println!(
                "# hittil i år/year to date: yrke/business {:.1} km, privat/private {:.1} km over {} dager/days, ikke klassifisert/unclassified {:.1} km",
                log.year.business_km,
                log.year.private_km,
                log.year.private_days,
                log.year.unclassified_km
            );
            for n in &log.notices {
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
            let role = match role {
                Role::Driver => "employee",
                Role::Keeper => "log_keeper",
            };
            let (reads, who) = acting(open_existing(&data)?, &as_user, Some(role))?;
            reads.sign_month(&who, &reg, &month)?;
            println!("{month} of {reg} signed by {as_user} ({role})");
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
            reads.classify(&who, trip, &class)?;
            println!("trip {trip} classified as {} by {as_user}", class.as_str());
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
    let reg = reads.switch_privacy(
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
            let w = reads.open_alarm(&who, &reg, police_report.as_deref())?;
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
            reads.resolve_alarm(&who, window, incident, &note)?;
            println!(
                "alarm window {window} resolved; its positions are deleted after {} days",
                if incident { 365 } else { 30 }
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
