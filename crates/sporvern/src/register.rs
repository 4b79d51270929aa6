//! The compliance register from the command line: `register apply|ack|show|document`,
//! `gate`, `breach open|notify|decide|list`. Every change goes to the audit ledger in the same
//! transaction as the change itself (`RegisterStore::save_register`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use register::{Change, Lang, Register};
use time::{Date, OffsetDateTime};

use crate::cli::open_existing;

/// Who changes the register from the command line. Users and roles over HTTP are the access
/// work's; here the operator acts as the privacy officer.
const ACTOR: &str = "privacy officer (command line)";

#[derive(Subcommand)]
pub enum RegisterCommand {
    /// Apply a register file (TOML; see examples/register.toml): measures, duty records,
    /// acknowledgements, evaluations, processors, breaches, access cases. Adds and updates,
    /// never removes; applying the same file again changes nothing. Exit 2 and nothing
    /// written when the file is wrong (the message names the line and field).
    Apply {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
        file: PathBuf,
    },
    /// Record that an employee has read the information about a measure.
    Ack {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
        #[arg(long)]
        measure: String,
        /// The employee number.
        #[arg(long)]
        employee: String,
        /// The day (YYYY-MM-DD); today by default.
        #[arg(long)]
        on: Option<String>,
    },
    /// List the measures with their origin, status and assessment, and who has not yet
    /// acknowledged the information.
    Show {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
    },
    /// Write a document generated from the register.
    Document(DocumentArgs),
}

#[derive(Clone, Copy, ValueEnum)]
pub enum DocumentKind {
    /// The information notice to employees (aml. § 9-2 (2), GDPR art. 13).
    InformationNotice,
    /// The DPIA draft (GDPR art. 35).
    Dpia,
    /// The record of processing activities (GDPR art. 30), all measures.
    Records,
    /// The agenda for the discussion with the representatives (aml. § 9-2 (1)).
    Agenda,
    /// The record of an access case (e-postforskriften §§ 3–4); needs --case.
    AccessCase,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum DocFormat {
    Html,
    Pdf,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum LangArg {
    Nb,
    En,
}

impl LangArg {
    fn lang(self) -> Lang {
        match self {
            LangArg::Nb => Lang::Nb,
            LangArg::En => Lang::En,
        }
    }
}

#[derive(Args)]
pub struct DocumentArgs {
    #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
    data: PathBuf,
    #[arg(value_enum)]
    kind: DocumentKind,
    /// The measure (not for records and access-case).
    #[arg(long)]
    measure: Option<String>,
    /// The access case's id (for access-case).
    #[arg(long)]
    case: Option<String>,
    #[arg(long, value_enum, default_value_t = LangArg::Nb)]
    lang: LangArg,
    #[arg(long, value_enum, default_value_t = DocFormat::Html)]
    format: DocFormat,
    #[arg(short = 'o', long = "out")]
    out: PathBuf,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum OutFormat {
    Text,
    Json,
}

#[derive(Args)]
pub struct GateArgs {
    #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
    data: PathBuf,
    #[arg(long, value_enum, default_value_t = OutFormat::Text)]
    format: OutFormat,
    #[arg(long, value_enum, default_value_t = LangArg::Nb)]
    lang: LangArg,
    /// Decide as of this day (YYYY-MM-DD) instead of today: what will be due.
    #[arg(long)]
    today: Option<String>,
    /// Days an evaluation may be overdue before the warning (as `evaluation_grace_days` in
    /// sporvern.toml).
    #[arg(long, default_value_t = 30)]
    grace_days: i64,
}

#[derive(Subcommand)]
pub enum AccessCaseCommand {
    /// Every access case: employee, ground, and what still stops it from being closed.
    List {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
    },
    /// Close a case: refused until the ground, the notice (or why it was impossible) and what
    /// was opened are recorded (e-postforskriften §§ 3–4). Open and fill cases in the register
    /// file (`[[access_cases]]`).
    Close {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
        #[arg(long)]
        id: String,
        /// The day (YYYY-MM-DD); today by default.
        #[arg(long)]
        on: Option<String>,
    },
}

pub fn access_case_command(command: AccessCaseCommand) -> anyhow::Result<ExitCode> {
    match command {
        AccessCaseCommand::List { data } => {
            let store = open_existing(&data)?;
            let (_, reg) = store.register().load_register()?;
            crate::cli::operator_audit(
                store.as_ref(),
                ACTOR,
                "register",
                None,
                ledger::Action::Read,
                "access cases".to_owned(),
            )?;
            if reg.access_cases.is_empty() {
                println!("no access cases recorded");
            }
            for c in &reg.access_cases {
                let ground = c
                    .ground
                    .as_ref()
                    .map_or("no ground recorded", |g| g.citation());
                let state = match c.closed_on {
                    Some(d) => format!("closed {d}"),
                    None => {
                        let problems: Vec<String> =
                            c.close_problems().iter().map(ToString::to_string).collect();
                        if problems.is_empty() {
                            "open, may be closed".to_owned()
                        } else {
                            format!("open; before closing: {}", problems.join("; "))
                        }
                    }
                };
                println!("{} employee {} ({ground}): {state}", c.id, c.employee);
            }
            Ok(ExitCode::SUCCESS)
        }
        AccessCaseCommand::Close { data, id, on } => {
            let on = on
                .map(|d| parse_date(&d, "--on"))
                .transpose()?
                .unwrap_or_else(today);
            let store = open_existing(&data)?;
            let (version, mut reg) = store.register().load_register()?;
            let Some(c) = reg.access_cases.iter_mut().find(|c| c.id == id) else {
                bail!("no access case {id} in the register");
            };
            c.close(on)
                .map_err(|e| anyhow::anyhow!("access case {id} cannot be closed: {e}"))?;
            let changes = [Change {
                sign: '~',
                object: format!("access case {id}"),
                what: format!("closed {on}"),
                subject: Some(c.employee.clone()),
            }];
            save(store.as_ref(), &reg, version, &changes, ACTOR)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[derive(Subcommand)]
pub enum BreachCommand {
    /// Record a deviation or personal-data breach; the 72-hour clock (GDPR art. 33) runs from
    /// --discovered-at.
    Open {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
        #[arg(long)]
        id: String,
        #[arg(long)]
        description: String,
        /// When it was discovered (RFC 3339, e.g. 2026-03-02T09:15:00+01:00); now by default.
        #[arg(long)]
        discovered_at: Option<String>,
        /// A deviation that touches no personal data: recorded, no notification clock.
        #[arg(long)]
        no_personal_data: bool,
        #[arg(long)]
        measure: Option<String>,
    },
    /// Record that Datatilsynet was notified.
    Notify {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
        #[arg(long)]
        id: String,
        /// When (RFC 3339); now by default.
        #[arg(long)]
        at: Option<String>,
    },
    /// Record the art. 33(1) decision not to notify Datatilsynet: the breach is unlikely to
    /// result in a risk to the employees' rights and freedoms, with the reason (art. 33(5)).
    NotNotified {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
        #[arg(long)]
        id: String,
        /// Why the breach is unlikely to result in a risk.
        #[arg(long)]
        reason: String,
        /// When it was decided (RFC 3339); now by default.
        #[arg(long)]
        at: Option<String>,
    },
    /// Record the art. 34 decision: inform the employees, or why it is not required.
    Decide {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
        #[arg(long)]
        id: String,
        #[arg(
            long,
            conflicts_with = "not_required",
            required_unless_present = "not_required"
        )]
        inform: bool,
        /// The reason informing is not required (art. 34 (3) a–c, or no high risk).
        #[arg(long)]
        not_required: Option<String>,
        #[arg(long)]
        on: Option<String>,
    },
    /// Every breach with its clock.
    List {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
        /// Show the clocks as of this time (RFC 3339) instead of now.
        #[arg(long)]
        now: Option<String>,
        #[arg(long, value_enum, default_value_t = OutFormat::Text)]
        format: OutFormat,
    },
}

fn now_utc() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(
        i128::from(server::ingest::now().millis()) * 1_000_000,
    )
    .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn today() -> Date {
    trips::oslo_date(server::ingest::now())
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

fn parse_date(s: &str, what: &str) -> anyhow::Result<Date> {
    Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
        .with_context(|| format!("{what} is YYYY-MM-DD, not {s:?}"))
}

fn parse_time(s: &str, what: &str) -> anyhow::Result<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .with_context(|| format!("{what} is a time like 2026-03-02T09:15:00+01:00, not {s:?}"))
}

/// The ledger entries for register changes: who, which measure or case, what; employee
/// numbers as subject, never names or free text.
fn audit_records(changes: &[Change], actor: &str) -> Vec<storage::AuditRecord> {
    let at = server::ingest::now();
    changes
        .iter()
        .map(|c| storage::AuditRecord {
            at,
            actor: actor.to_owned(),
            role: "server operator (command line)".to_owned(),
            purpose: "register".to_owned(),
            subject: c.subject.clone(),
            action: ledger::Action::Change,
            object: format!("register {}", c.object),
            outcome: format!("{} {}", c.sign, c.what),
        })
        .collect()
}

/// Saves `reg` with its changes on the ledger, when there are any; prints them.
fn save(
    store: &dyn storage::Store,
    reg: &Register,
    version: i64,
    changes: &[Change],
    actor: &str,
) -> anyhow::Result<()> {
    if changes.is_empty() {
        println!("no changes");
        return Ok(());
    }
    store
        .register()
        .save_register(reg, version, audit_records(changes, actor))
        .context("saving the register; nothing was changed")?;
    for c in changes {
        println!("{c}");
    }
    Ok(())
}

/// After the organisation changed: one measure per configured vehicle purpose, retired ones
/// kept. Called by `org apply` and `demo`; prints what changed in the register.
pub fn sync_with_org(store: &dyn storage::Store, actor: &str) -> anyhow::Result<()> {
    let org = store.load_org()?;
    let (version, mut reg) = store.register().load_register()?;
    let changes = reg.sync_org(&org);
    if !changes.is_empty() {
        store
            .register()
            .save_register(&reg, version, audit_records(&changes, actor))
            .context("updating the register's measures from the organisation")?;
        for c in &changes {
            println!("register {c}");
        }
    }
    Ok(())
}

/// Applies a register file's text: the outer error is the store's, the inner one the file's
/// (nothing written). Measures follow the organisation before the file refers to them.
pub fn apply_text(
    store: &dyn storage::Store,
    text: &str,
) -> anyhow::Result<Result<Vec<Change>, register::RegisterFileError>> {
    let org = store.load_org()?;
    let (version, mut reg) = store.register().load_register()?;
    let mut changes = reg.sync_org(&org);
    match reg.apply_str(text, &org) {
        Ok(more) => changes.extend(more),
        Err(e) => return Ok(Err(e)),
    }
    if !changes.is_empty() {
        store
            .register()
            .save_register(&reg, version, audit_records(&changes, ACTOR))
            .context("saving the register; nothing was changed")?;
    }
    Ok(Ok(changes))
}

pub fn register_command(command: RegisterCommand) -> anyhow::Result<ExitCode> {
    match command {
        RegisterCommand::Apply { data, file } => {
            let text = match std::fs::read_to_string(&file) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("error: cannot read {}: {e}", file.display());
                    return Ok(ExitCode::from(2));
                }
            };
            let store = open_existing(&data)?;
            match apply_text(store.as_ref(), &text)? {
                Ok(changes) => {
                    if changes.is_empty() {
                        println!("no changes");
                    }
                    for c in changes {
                        println!("{c}");
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("error: {}: {e}", file.display());
                    eprintln!("nothing was written");
                    Ok(ExitCode::from(2))
                }
            }
        }
        RegisterCommand::Ack {
            data,
            measure,
            employee,
            on,
        } => {
            let on = on
                .map(|d| parse_date(&d, "--on"))
                .transpose()?
                .unwrap_or_else(today);
            let store = open_existing(&data)?;
            let org = store.load_org()?;
            if !org.employees.iter().any(|e| e.number == employee) {
                bail!("no employee {employee} in the organisation");
            }
            let (version, mut reg) = store.register().load_register()?;
            let Some(entry) = reg.entry_mut(&measure) else {
                bail!("no measure {measure} in the register (see `sporvern register show`)");
            };
            if entry.duties.information.is_none() {
                bail!(
                    "no information to employees is recorded for {measure}: record it before acknowledgements"
                );
            }
            let acks = &mut entry.duties.acknowledgements;
            let changes = match acks.iter_mut().find(|a| a.employee == employee) {
                Some(a) if a.on == on => Vec::new(),
                Some(a) => {
                    a.on = on;
                    vec![ack_change(&measure, &employee, "changed")]
                }
                None => {
                    acks.push(register::Acknowledgement {
                        employee: employee.clone(),
                        on,
                    });
                    vec![ack_change(&measure, &employee, "recorded")]
                }
            };
            save(store.as_ref(), &reg, version, &changes, ACTOR)?;
            Ok(ExitCode::SUCCESS)
        }
        RegisterCommand::Show { data } => {
            let store = open_existing(&data)?;
            let org = store.load_org()?;
            let (_, reg) = store.register().load_register()?;
            // Who has not acknowledged is about employees: on the ledger before it is shown.
            crate::cli::operator_audit(
                store.as_ref(),
                ACTOR,
                "register",
                None,
                ledger::Action::Read,
                "register measures and acknowledgements".to_owned(),
            )?;
            let employees: Vec<&str> = org
                .employees
                .iter()
                .filter(|e| e.status == org::EmployeeStatus::Current)
                .map(|e| e.number.as_str())
                .collect();
            for e in &reg.entries {
                let m = &e.measure;
                println!(
                    "{:<28} {:<12} {:<8}{} {:<20} {}",
                    m.id,
                    e.origin.as_str(),
                    m.status.as_str(),
                    if e.retired { " retired" } else { "" },
                    e.verdict(today()).as_str(),
                    m.name
                );
                if e.duties.information.is_some() {
                    let missing = e.duties.unacknowledged(&employees);
                    if !missing.is_empty() {
                        println!("    not yet acknowledged by: {}", missing.join(", "));
                    }
                }
            }
            for b in &reg.breaches {
                println!(
                    "breach {}: {:?}",
                    b.id,
                    register::breach_status(&b.breach, now_utc())
                );
            }
            for c in &reg.access_cases {
                println!(
                    "access case {} (employee {}): {}",
                    c.id,
                    c.employee,
                    c.closed_on
                        .map_or_else(|| "open".to_owned(), |d| format!("closed {d}"))
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        RegisterCommand::Document(args) => document(args),
    }
}

fn ack_change(measure: &str, employee: &str, how: &str) -> Change {
    Change {
        sign: '~',
        object: measure.to_owned(),
        what: format!("acknowledgement by employee {employee} {how}"),
        subject: Some(employee.to_owned()),
    }
}

fn document(args: DocumentArgs) -> anyhow::Result<ExitCode> {
    let store = open_existing(&args.data)?;
    let org = store.load_org()?;
    let (_, reg) = store.register().load_register()?;
    let lang = args.lang.lang();
    let entry = || -> anyhow::Result<&register::Entry> {
        let Some(id) = &args.measure else {
            bail!("this document is about one measure: give --measure ID");
        };
        reg.entry(id)
            .with_context(|| format!("no measure {id} in the register"))
    };
    let (html, title, subject) = match args.kind {
        DocumentKind::InformationNotice => {
            let e = entry()?;
            let Some(info) = &e.duties.information else {
                bail!(
                    "no information to employees is recorded for {}: record it in the register file first",
                    e.measure.id
                );
            };
            (
                register::information_notice(e, info, lang),
                e.measure.name.clone(),
                None,
            )
        }
        DocumentKind::Dpia => {
            let e = entry()?;
            (
                register::dpia_draft(e, today(), lang),
                e.measure.name.clone(),
                None,
            )
        }
        DocumentKind::Agenda => {
            let e = entry()?;
            (
                register::discussion_agenda(e, today(), lang),
                e.measure.name.clone(),
                None,
            )
        }
        DocumentKind::Records => (
            register::records_of_processing(&org, &reg, today(), lang),
            org.organisation.name.clone(),
            None,
        ),
        DocumentKind::AccessCase => {
            let Some(id) = &args.case else {
                bail!("an access-case record needs --case ID");
            };
            let Some(c) = reg.access_cases.iter().find(|c| &c.id == id) else {
                bail!("no access case {id} in the register");
            };
            (
                register::access_case_record(c, lang),
                id.clone(),
                Some(c.employee.clone()),
            )
        }
    };
    let bytes = match args.format {
        DocFormat::Html => html.into_bytes(),
        DocFormat::Pdf => report::html_document_pdf(
            &html,
            &report::pdf::Info {
                title: title.clone(),
                author: org.organisation.name.clone(),
                subject: "Sporvern".to_owned(),
            },
            &format!("{} · Sporvern", org.organisation.name),
        ),
    };
    write_file(&args.out, &bytes)?;
    // An access-case record holds what was opened of an employee's data: its export is on the
    // ledger like any other.
    if let Some(employee) = subject {
        crate::cli::operator_audit(
            store.as_ref(),
            ACTOR,
            "register",
            Some(employee),
            ledger::Action::Export,
            format!("access case record {title}"),
        )?;
    }
    println!("wrote {}", args.out.display());
    Ok(ExitCode::SUCCESS)
}

fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

fn lang_text(lang: Lang, nb: String, en: String) -> String {
    match lang {
        Lang::Nb => nb,
        Lang::En => en,
    }
}

/// The server's gate configuration for the data folder (its `sporvern.toml`): the same the
/// running server, the web and the API use (`server::gate_config`).
fn gate_config_of(data: &Path) -> anyhow::Result<register::GateConfig> {
    let mut s = server::Settings::defaults(data.to_path_buf());
    s.apply_file(None)?;
    Ok(server::gate_config(&s))
}

pub fn gate_command(args: GateArgs) -> anyhow::Result<ExitCode> {
    let day = args
        .today
        .as_deref()
        .map(|d| parse_date(d, "--today"))
        .transpose()?
        .unwrap_or_else(today);
    let cfg = register::GateConfig {
        evaluation_grace_days: args.grace_days,
        ..gate_config_of(&args.data)?
    };
    let lang = args.lang.lang();
    let store = open_existing(&args.data)?;
    let org = store.load_org()?;
    let (_, reg) = store.register().load_register()?;
    let gates = reg.gates(day, &cfg);
    // A purpose configured on a vehicle whose measure is not in the register collects nothing
    // (the organisation was changed without `sporvern org apply`).
    let unregistered: Vec<&str> = org::Purpose::ALL
        .into_iter()
        .filter(|p| org.vehicles.iter().any(|v| v.purposes.contains(p)))
        .filter(|p| reg.vehicle_entry(*p).is_none())
        .map(|p| p.as_str())
        .collect();
    match args.format {
        OutFormat::Json => {
            let items: Vec<serde_json::Value> = gates
                .iter()
                .map(|g| {
                    let m = &g.entry.measure;
                    serde_json::json!({
                        "measure": m.id,
                        "name": m.name,
                        "purpose": match m.kind { register::MeasureKind::Vehicle(p) => Some(p.as_str()), _ => None },
                        "verdict": g.state.verdict.as_str(),
                        "may_collect": g.state.may_collect,
                        "missing": g.state.missing.iter().map(|x| serde_json::json!({
                            "code": x.code, "citation": x.citation,
                            "text": lang_text(lang, x.text_nb.clone(), x.text_en.clone()),
                        })).collect::<Vec<_>>(),
                        "warnings": g.state.warnings.iter().map(|w| serde_json::json!({
                            "code": w.code, "citation": w.citation,
                            "text": lang_text(lang, w.text_nb.clone(), w.text_en.clone()),
                            "notify": w.notify.iter().map(|r| match r {
                                register::Recipient::PrivacyOfficer => "privacy_officer",
                                register::Recipient::Representatives => "representatives",
                            }).collect::<Vec<_>>(),
                        })).collect::<Vec<_>>(),
                        "schedule_deletion": g.state.schedule_deletion,
                        "next_evaluation_due": g.state.next_evaluation_due.map(|d| d.to_string()),
                        "late": g.state.late.iter().map(|l| serde_json::json!({
                            "duty": l.duty, "from": l.from.to_string(),
                            "until": l.until.to_string(), "closed": l.closed,
                        })).collect::<Vec<_>>(),
                    })
                })
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "today": day.to_string(),
                    "measures": items,
                    "purposes_without_measure": unregistered,
                }))?
            );
        }
        OutFormat::Text => {
            if gates.is_empty() {
                println!(
                    "the register has no measures: `sporvern org apply` makes one per vehicle purpose"
                );
            }
            for p in &unregistered {
                println!(
                    "vehicle.{p}: collects nothing: no measure in the register (run `sporvern org apply`)"
                );
            }
            for g in &gates {
                let m = &g.entry.measure;
                let verdict = if g.state.may_collect {
                    lang_text(lang, "kan samle inn".into(), "may collect".into())
                } else {
                    lang_text(lang, "samler ikke inn".into(), "collects nothing".into())
                };
                println!(
                    "{} ({}): {verdict}; {} {}",
                    m.id,
                    m.name,
                    lang_text(lang, "vurdering:".into(), "assessment:".into()),
                    register::verdict_label(g.state.verdict, lang)
                );
                // Codes are in `--format json`; the text says it in the language asked for.
                for x in &g.state.missing {
                    println!(
                        "  {} {} [{}]",
                        lang_text(lang, "mangler:".into(), "missing:".into()),
                        lang_text(lang, x.text_nb.clone(), x.text_en.clone()),
                        x.citation
                    );
                }
                for w in &g.state.warnings {
                    println!(
                        "  {} {} [{}]",
                        lang_text(lang, "advarsel:".into(), "warning:".into()),
                        lang_text(lang, w.text_nb.clone(), w.text_en.clone()),
                        w.citation
                    );
                }
                if let Some(due) = g.state.next_evaluation_due {
                    println!(
                        "  {} {due}",
                        lang_text(lang, "neste evaluering:".into(), "next evaluation:".into())
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn breach_command(command: BreachCommand) -> anyhow::Result<ExitCode> {
    match command {
        BreachCommand::Open {
            data,
            id,
            description,
            discovered_at,
            no_personal_data,
            measure,
        } => {
            let discovered_at = discovered_at
                .map(|t| parse_time(&t, "--discovered-at"))
                .transpose()?
                .unwrap_or_else(now_utc);
            let store = open_existing(&data)?;
            let (version, mut reg) = store.register().load_register()?;
            let change = reg
                .open_breach(&id, &description, discovered_at, !no_personal_data, measure)
                .map_err(|e| anyhow::anyhow!("{e} (--id, --description, --measure)"))?;
            let deadline = register::breach_deadline(&reg.breaches[reg.breaches.len() - 1].breach);
            let changes = [change];
            save(store.as_ref(), &reg, version, &changes, ACTOR)?;
            if !no_personal_data {
                println!(
                    "notify Datatilsynet by {} (72 hours, {})",
                    rfc3339(deadline),
                    register::BREACH_CITATION
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        BreachCommand::Notify { data, id, at } => {
            let at = at
                .map(|t| parse_time(&t, "--at"))
                .transpose()?
                .unwrap_or_else(now_utc);
            let store = open_existing(&data)?;
            let (version, mut reg) = store.register().load_register()?;
            let changes = [reg.notify_breach(&id, at)?];
            save(store.as_ref(), &reg, version, &changes, ACTOR)?;
            Ok(ExitCode::SUCCESS)
        }
        BreachCommand::NotNotified {
            data,
            id,
            reason,
            at,
        } => {
            let at = at
                .map(|t| parse_time(&t, "--at"))
                .transpose()?
                .unwrap_or_else(now_utc);
            let store = open_existing(&data)?;
            let (version, mut reg) = store.register().load_register()?;
            let changes = [reg
                .record_not_notified(&id, &reason, at)
                .map_err(|e| anyhow::anyhow!("{e} (--id, --reason)"))?];
            save(store.as_ref(), &reg, version, &changes, ACTOR)?;
            Ok(ExitCode::SUCCESS)
        }
        BreachCommand::Decide {
            data,
            id,
            inform,
            not_required,
            on,
        } => {
            let on = on
                .map(|d| parse_date(&d, "--on"))
                .transpose()?
                .unwrap_or_else(today);
            let decision = match (inform, not_required) {
                (true, _) => register::Art34Decision::Inform,
                (false, Some(reason)) if !reason.trim().is_empty() => {
                    register::Art34Decision::NotRequired { reason }
                }
                _ => bail!("give --inform or --not-required REASON"),
            };
            let store = open_existing(&data)?;
            let (version, mut reg) = store.register().load_register()?;
            let Some(b) = reg.breaches.iter_mut().find(|b| b.id == id) else {
                bail!("no breach {id} in the register");
            };
            let what = match &decision {
                register::Art34Decision::Inform => "art. 34: the employees are informed",
                register::Art34Decision::NotRequired { .. } => {
                    "art. 34: informing the employees is not required"
                }
            };
            b.breach.employees_informed = Some(register::EmployeesInformed {
                decision,
                decided_on: on,
            });
            let changes = [Change {
                sign: '~',
                object: format!("breach {id}"),
                what: what.into(),
                subject: None,
            }];
            save(store.as_ref(), &reg, version, &changes, ACTOR)?;
            Ok(ExitCode::SUCCESS)
        }
        BreachCommand::List { data, now, format } => {
            let now = now
                .map(|t| parse_time(&t, "--now"))
                .transpose()?
                .unwrap_or_else(now_utc);
            let store = open_existing(&data)?;
            let (_, reg) = store.register().load_register()?;
            let rows: Vec<serde_json::Value> = reg
                .breaches
                .iter()
                .map(|r| {
                    let b = &r.breach;
                    let (status, hours) = match register::breach_status(b, now) {
                        register::BreachStatus::Due { hours_left } => ("due", Some(hours_left)),
                        register::BreachStatus::Overdue { hours_over } => {
                            ("overdue", Some(hours_over))
                        }
                        register::BreachStatus::Notified => ("notified", None),
                        register::BreachStatus::RiskUnlikely => {
                            ("not_notified_risk_unlikely", None)
                        }
                        register::BreachStatus::NotNotifiable => ("not_notifiable", None),
                    };
                    serde_json::json!({
                        "id": r.id,
                        "measure": r.measure,
                        "discovered_at": rfc3339(b.discovered_at),
                        "deadline": rfc3339(register::breach_deadline(b)),
                        "status": status,
                        "hours": hours,
                        "art34_decision_pending": b.art34_decision_pending(),
                    })
                })
                .collect();
            match format {
                OutFormat::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
                OutFormat::Text => {
                    if rows.is_empty() {
                        println!("no breaches recorded");
                    }
                    for r in &rows {
                        let hours = match (r["status"].as_str(), r["hours"].as_i64()) {
                            (Some("due"), Some(h)) => format!(", {h} h left"),
                            (Some("overdue"), Some(h)) => format!(", {h} h overdue"),
                            _ => String::new(),
                        };
                        println!(
                            "{}: {}{hours} (deadline {}){}",
                            r["id"].as_str().unwrap_or(""),
                            r["status"].as_str().unwrap_or(""),
                            r["deadline"].as_str().unwrap_or(""),
                            if r["art34_decision_pending"].as_bool() == Some(true) {
                                "; art. 34 decision pending"
                            } else {
                                ""
                            }
                        );
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
