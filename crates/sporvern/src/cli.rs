//! Command-line arguments and what each command does.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use domain::{Fix, Protocol};

#[derive(Parser)]
#[command(
    name = "sporvern",
    version,
    about = "Vehicle tracking and employee monitoring, only as Norwegian law allows."
)]
pub struct Cli {
    #[command(flatten)]
    pub log: LogArgs,
    /// A PostgreSQL database instead of the embedded one in the data folder, for every command
    /// (e.g. postgres://sporvern@db.internal:5432/sporvern); also `database_url` in the data
    /// folder's sporvern.toml [default: the embedded database]
    #[arg(long, env = "SPORVERN_DATABASE", global = true)]
    pub database: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args)]
pub struct LogArgs {
    /// Log filter, e.g. `info` or `server=debug,info`.
    #[arg(
        long = "log",
        env = "SPORVERN_LOG",
        default_value = "info",
        global = true
    )]
    pub log_filter: String,
    /// `text` for people, `json` for log collectors.
    #[arg(long = "log-format", env = "SPORVERN_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

pub fn init_logging(args: &LogArgs) {
    let filter = tracing_subscriber::EnvFilter::try_new(&args.log_filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match args.log_format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the server on the embedded database in the data folder (or on PostgreSQL with
    /// --database).
    Serve(ServeArgs),
    /// Copy the embedded database to a new file, consistently, also while the server runs.
    Backup {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
        /// The new file to write (e.g. /backup/sporvern-2026-12-01.db).
        #[arg(long)]
        out: PathBuf,
    },
    /// Create or upgrade the database's schema and exit (the server does it too at start).
    Migrate {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
    },
    /// Create the example organisation, start the server and drive simulated vehicles.
    Demo(ServeArgs),
    /// Apply or show the organisation (vehicles, devices, employees, sites).
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// Print what a device packet holds, as JSON.
    Decode(DecodeArgs),
    /// Drive simulated vehicles against a server over the real protocols.
    Simulate(SimulateArgs),
    /// Assess a monitoring measure described in a TOML file (see SPEC.md).
    Assess(AssessArgs),
    /// The driving log (elektronisk kjørebok): export, classify trips.
    Drivinglog {
        #[command(subcommand)]
        command: crate::drivinglog::Command,
    },
    /// Switch privacy mode for a vehicle (the driver's private errand).
    Privacy(crate::drivinglog::PrivacyArgs),
    /// Alarm windows (sikkerhet): list, show, open for a reported theft, resolve.
    Alarm {
        #[command(subcommand)]
        command: crate::drivinglog::AlarmCommand,
    },
    /// The anonymous utilisation statistics (rasjonalisering): released weeks per vehicle
    /// group, suppressed below 5 vehicles.
    Stats {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
        #[arg(long = "as")]
        as_user: String,
    },
    /// Users: add one (the first admin comes from here; there is no default password), list.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// The audit ledger: verify it, write a checkpoint to keep outside the server, list it.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Retention: what will be deleted when (plan), delete what is due (run), receipts.
    Retention {
        #[command(subcommand)]
        command: RetentionCommand,
    },
    /// The compliance register: apply the privacy officer's register file, record
    /// acknowledgements, list measures, write documents (HTML or PDF).
    Register {
        #[command(subcommand)]
        command: crate::register::RegisterCommand,
    },
    /// The compliance gate: per measure, whether it may collect and what is missing.
    Gate(crate::register::GateArgs),
    /// Deviations and personal-data breaches: the 72-hour clock (GDPR art. 33), art. 34.
    Breach {
        #[command(subcommand)]
        command: crate::register::BreachCommand,
    },
    /// One-off access cases (innsyn, e-postforskriften §§ 3–4): list, close.
    AccessCase {
        #[command(subcommand)]
        command: crate::register::AccessCaseCommand,
    },
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Adds a user. The password is read from standard input (one line, at least 12
    /// characters); it is stored only as an Argon2id hash.
    Add {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
        name: String,
        /// employee, dispatcher, log_keeper, security_operator, analyst, privacy_officer,
        /// representative or admin (repeat for several).
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// The employee number, for the employee role (from the organisation file).
        #[arg(long)]
        employee: Option<String>,
    },
    /// Lists users and their roles (never passwords).
    List {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
    },
    /// Sets a user's password (from standard input; for users declared in the organisation
    /// file, or a forgotten one). Every token the user had ends.
    Password {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
        name: String,
    },
    /// Ends every session and token of a user now (a lost phone, a user leaving).
    Revoke {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
        name: String,
    },
}

/// Reads a new password from standard input and checks the rules.
fn read_password(name: &str) -> anyhow::Result<String> {
    eprintln!("password for {name} (one line, at least 12 characters):");
    let mut password = String::new();
    std::io::stdin()
        .read_line(&mut password)
        .context("reading the password from standard input")?;
    let password = password.trim_end_matches(['\n', '\r']).to_owned();
    access::check_password_rules(&password).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(password)
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Checks every entry, and that the ledger still holds what a checkpoint saw: the one given
    /// with --checkpoint, else the server's newest (in its ledger_checkpoint_dir). Names the
    /// first bad entry; exits 1 when the ledger was tampered with.
    Verify {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
        #[arg(long)]
        checkpoint: Option<PathBuf>,
    },
    /// Writes the ledger's current head (size, Merkle root, chain hash) to a file: keep it
    /// somewhere the server cannot change.
    Checkpoint {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
        out: PathBuf,
    },
    /// Every entry: who, role, purpose, whose, what, when, outcome.
    List {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum RetentionCommand {
    /// A dry run: what will be deleted, when, and under which rule.
    Plan {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
    },
    /// Delete what is due now (the server also does this daily); prints the receipts.
    Run {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
        /// Pretend today is this date (YYYY-MM-DD), to check what a run would do then.
        #[arg(long)]
        today: Option<String>,
    },
    /// Every deletion retention has made: counts and rules, never the data.
    Receipts {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
    },
}

#[derive(Args, Clone)]
pub struct ServeArgs {
    /// The data folder (database, configuration).
    #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
    pub data: PathBuf,
    /// A configuration file (default: sporvern.toml in the data folder, if present).
    #[arg(long, env = "SPORVERN_CONFIG")]
    pub config: Option<PathBuf>,
    /// Web interface, API, metrics and OwnTracks [default: 0.0.0.0:8080]
    #[arg(long, env = "SPORVERN_HTTP")]
    pub http: Option<SocketAddr>,
    /// Teltonika TCP and UDP [default: 0.0.0.0:5027]
    #[arg(long, env = "SPORVERN_TELTONIKA")]
    pub teltonika: Option<SocketAddr>,
    /// OsmAnd / Traccar Client [default: 0.0.0.0:5055]
    #[arg(long, env = "SPORVERN_OSMAND")]
    pub osmand: Option<SocketAddr>,
    /// OwnTracks over MQTT: the broker the phones publish to, e.g. mqtt://127.0.0.1:1883
    /// (topic owntracks/+/+; `mqtt_topic` in sporvern.toml changes it) [default: none]
    #[arg(long, env = "SPORVERN_MQTT_URL")]
    pub mqtt_url: Option<String>,
    /// Several nodes on one PostgreSQL database: the NATS server the live fleet view fans out
    /// over, e.g. nats://127.0.0.1:4222 [default: none]
    #[arg(long, env = "SPORVERN_NATS_URL")]
    pub nats_url: Option<String>,
    /// This node's name among several [default: host name and process id]
    #[arg(long, env = "SPORVERN_NODE")]
    pub node: Option<String>,
}

impl ServeArgs {
    pub fn settings(&self) -> anyhow::Result<server::Settings> {
        let mut s = server::Settings::defaults(self.data.clone());
        s.apply_file(self.config.as_deref())?;
        if let Some(url) = database_flag() {
            s.database_url = Some(url);
        }
        if let Some(a) = self.http {
            s.http = a;
        }
        if let Some(a) = self.teltonika {
            s.teltonika = a;
        }
        if let Some(a) = self.osmand {
            s.osmand = a;
        }
        if let Some(url) = &self.mqtt_url {
            let topic = s
                .mqtt
                .as_ref()
                .map_or("owntracks/+/+".to_owned(), |m| m.topic.clone());
            s.mqtt = Some(
                server::ingest::owntracks_mqtt::MqttSettings::parse(url, &topic, "sporvern")
                    .with_context(|| format!("--mqtt-url is mqtt://host[:port], not {url:?}"))?,
            );
        }
        if let Some(url) = &self.nats_url {
            s.nats_url = Some(url.clone());
        }
        if let Some(n) = &self.node {
            s.node_name = Some(n.clone());
        }
        s.validate()?;
        Ok(s)
    }
}

#[derive(Subcommand)]
pub enum OrgCommand {
    /// Apply an organisation file; applying the same file again changes nothing.
    Apply {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
        file: PathBuf,
    },
    /// Print the organisation as an organisation file.
    Show {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
    },
    /// Print each device's field inventory: which kinds of data it has sent, and when
    /// (never the values).
    Inventory {
        #[arg(long, env = "SPORVERN_DATA", default_value = "./sporvern-data")]
        data: PathBuf,
    },
}

#[derive(Args)]
pub struct DecodeArgs {
    #[arg(long, value_parser = parse_protocol)]
    pub protocol: Protocol,
    /// The packet as hex (spaces allowed).
    #[arg(long, conflicts_with = "input", required_unless_present = "input")]
    pub hex: Option<String>,
    /// A file holding the packet: hex text or raw bytes (Teltonika), a query string or JSON
    /// body (OsmAnd), a JSON body (OwnTracks).
    #[arg(long)]
    pub input: Option<PathBuf>,
}

fn parse_protocol(s: &str) -> Result<Protocol, String> {
    Protocol::parse(s).map_err(|e| e.to_string())
}

#[derive(Args)]
pub struct SimulateArgs {
    /// The server's Teltonika address.
    #[arg(long, default_value = "127.0.0.1:5027")]
    pub teltonika: SocketAddr,
    /// The server's OsmAnd address.
    #[arg(long, default_value = "127.0.0.1:5055")]
    pub osmand: SocketAddr,
    /// The server's HTTP address (OwnTracks).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub http: SocketAddr,
    /// Simulate a Teltonika fleet of this many devices, IMEIs from --first-imei on.
    #[arg(long, default_value_t = 10)]
    pub devices: usize,
    #[arg(long, default_value_t = 350_000_000_000_000)]
    pub first_imei: u64,
    /// Or simulate these devices instead, as PROTOCOL:ID (repeatable), e.g. osmand:123456.
    #[arg(long = "device", value_parser = parse_sim_device)]
    pub device: Vec<simulate::SimDevice>,
    /// Records per second, all devices together.
    #[arg(long, default_value_t = 10.0)]
    pub rate: f64,
    /// Records per Teltonika frame.
    #[arg(long, default_value_t = 1)]
    pub records_per_frame: usize,
    /// Seconds to run.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Seconds over which devices connect.
    #[arg(long, default_value_t = 2.0)]
    pub ramp: f64,
    /// Send no speed, RPM, fuel or driving events.
    #[arg(long)]
    pub no_sensors: bool,
    /// Write the organisation file that registers the --devices fleet to this path, and exit.
    #[arg(long)]
    pub write_org: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

fn parse_sim_device(s: &str) -> Result<simulate::SimDevice, String> {
    let (p, id) = s
        .split_once(':')
        .ok_or("expected PROTOCOL:ID, e.g. teltonika:123456789012345")?;
    let protocol = Protocol::parse(p).map_err(|e| e.to_string())?;
    let seed = id
        .bytes()
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    Ok(simulate::SimDevice {
        protocol,
        id: id.to_owned(),
        seed,
    })
}

#[derive(Args)]
pub struct AssessArgs {
    pub file: PathBuf,
    #[arg(long, default_value = "text")]
    pub format: String,
    #[arg(long, default_value = "nb")]
    pub lang: String,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// `--database` / `SPORVERN_DATABASE`, once parsed.
static DATABASE: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();

fn database_flag() -> Option<String> {
    DATABASE.get().cloned().flatten()
}

/// The database a command works on: `--database` (or `SPORVERN_DATABASE`), else the data
/// folder's sporvern.toml `database_url`, else the embedded database in the data folder.
pub fn database(data: &Path) -> anyhow::Result<server::database::Database> {
    let url = match database_flag() {
        Some(url) => Some(url),
        None => {
            let mut s = server::Settings::defaults(data.to_path_buf());
            s.apply_file(None)?;
            s.database_url
        }
    };
    Ok(server::database::Database::chosen(data, url.as_deref()))
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let _ = DATABASE.set(cli.database.clone());
    match cli.command {
        Command::Backup { data, out } => {
            if let server::database::Database::Postgres(_) = database(&data)? {
                bail!(
                    "the data is in PostgreSQL: back it up with PostgreSQL's tools, e.g. `pg_dump --format=custom --file sporvern.dump DATABASE` (consistent while the server runs), or a base backup with WAL archiving (README, \"On PostgreSQL\")"
                );
            }
            let bytes = storage::backup(&data, &out)?;
            println!(
                "{} ({bytes} bytes): a consistent copy of {}",
                out.display(),
                data.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate { data } => {
            println!("{}", database(&data)?.migrate()?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve(args) => {
            let settings = args.settings()?;
            runtime()?.block_on(async {
                let app = server::Application::build(settings).await?;
                app.run_until_stopped().await
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo(args) => crate::demo::run(&args),
        Command::Org { command } => org_command(command),
        Command::Decode(args) => decode(args),
        Command::Simulate(args) => simulate_command(args),
        Command::Assess(args) => Ok(assess_command(&args)),
        Command::Drivinglog { command } => crate::drivinglog::run(command),
        Command::Privacy(args) => crate::drivinglog::privacy(args),
        Command::Retention { command } => retention_command(command),
        Command::Audit { command } => audit_command(command),
        Command::User { command } => user_command(command),
        Command::Alarm { command } => crate::drivinglog::alarm(command),
        Command::Register { command } => crate::register::register_command(command),
        Command::Gate(args) => crate::register::gate_command(args),
        Command::Breach { command } => crate::register::breach_command(command),
        Command::AccessCase { command } => crate::register::access_case_command(command),
        Command::Stats { data, as_user } => {
            let (reads, who) =
                crate::drivinglog::acting(open_existing(&data)?, &as_user, Some("analyst"))?;
            let weeks = reads.aggregates(&who, None)?;
            if weeks.is_empty() {
                eprintln!("no week released yet: a week is released 12 hours after it ends");
            }
            for w in weeks {
                println!("{}", w.body);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn user_command(command: UserCommand) -> anyhow::Result<ExitCode> {
    match command {
        UserCommand::Add {
            data,
            name,
            roles,
            employee,
        } => {
            let name = name.trim().to_owned();
            if name.is_empty() || name.len() > 64 || name.chars().any(char::is_whitespace) {
                bail!("a user name is 1 to 64 characters without spaces");
            }
            let mut parsed = Vec::new();
            for r in &roles {
                let role = access::Role::parse(r).map_err(|e| anyhow::anyhow!("{e}"))?;
                if !parsed.contains(&role) {
                    parsed.push(role);
                }
            }
            let store = open_existing(&data)?;
            if parsed.contains(&access::Role::Employee) {
                let Some(number) = &employee else {
                    bail!("the employee role needs --employee NUMBER (from the organisation file)");
                };
                if !store
                    .load_org()?
                    .employees
                    .iter()
                    .any(|e| &e.number == number)
                {
                    bail!("no employee {number} in the organisation");
                }
            }
            let password = read_password(&name)?;
            let hash = access::hash_password(&password);
            store.add_user(
                &storage::NewUser {
                    name: name.clone(),
                    roles: parsed.iter().map(|r| r.as_str().to_owned()).collect(),
                    employee_number: employee.clone(),
                    password_hash: Some(hash),
                },
                server::ingest::now(),
            )?;
            operator_audit(
                store.as_ref(),
                "server operator (command line)",
                "access",
                employee,
                ledger::Action::Config,
                format!(
                    "user {name} added with roles {}",
                    parsed
                        .iter()
                        .map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )?;
            println!("user {name} added");
            Ok(ExitCode::SUCCESS)
        }
        UserCommand::List { data } => {
            let store = open_existing(&data)?;
            for u in store.users()? {
                println!(
                    "{:<20} {:<40} employee {:<8} {}{}",
                    u.name,
                    u.roles.join(","),
                    u.employee_number.as_deref().unwrap_or("-"),
                    if u.has_password {
                        "password set"
                    } else {
                        "no password"
                    },
                    if u.disabled { " (disabled)" } else { "" }
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        UserCommand::Password { data, name } => {
            let store = open_existing(&data)?;
            let password = read_password(&name)?;
            store.set_password_hash(&name, &access::hash_password(&password))?;
            operator_audit(
                store.as_ref(),
                "server operator (command line)",
                "access",
                None,
                ledger::Action::Config,
                format!("password of user {name} set; their tokens revoked"),
            )?;
            println!("password of {name} set; every earlier login of theirs has ended");
            Ok(ExitCode::SUCCESS)
        }
        UserCommand::Revoke { data, name } => {
            let store = open_existing(&data)?;
            let n = store.revoke_user_tokens(&name)?;
            operator_audit(
                store.as_ref(),
                "server operator (command line)",
                "access",
                None,
                ledger::Action::Config,
                format!("{n} tokens of user {name} revoked"),
            )?;
            println!("{n} tokens of {name} revoked");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn audit_command(command: AuditCommand) -> anyhow::Result<ExitCode> {
    match command {
        AuditCommand::Verify { data, checkpoint } => {
            let store = open_existing(&data)?;
            let entries = store.audit_entries()?;
            // Without --checkpoint: the server's newest checkpoint (its configured
            // `ledger_checkpoint_dir`), so a ledger cut short or rewritten as a whole is found.
            let checkpoint = match checkpoint {
                Some(p) => Some(p),
                None => {
                    let mut settings = server::Settings::defaults(data.clone());
                    settings.apply_file(None)?;
                    let dir = &settings.ledger_checkpoint_dir;
                    let newest = server::newest_checkpoint(dir).with_context(|| {
                        format!("cannot read the checkpoint folder {}", dir.display())
                    })?;
                    if newest.is_none() {
                        eprintln!(
                            "warning: no checkpoint in {}: only the chain is checked, so a ledger cut short or rewritten as a whole would pass; give --checkpoint FILE from a copy kept elsewhere",
                            dir.display()
                        );
                    }
                    newest.map(|(_, p)| p)
                }
            };
            let result = match &checkpoint {
                Some(path) => {
                    let head = server::read_checkpoint(path)?;
                    eprintln!("checking against the checkpoint {}", path.display());
                    ledger::verify_against(&entries, &head)
                }
                None => ledger::verify(&entries),
            };
            match result {
                Ok(head) => {
                    println!("the audit ledger is intact: {} entries", head.size);
                    print!("{head}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("the audit ledger has been tampered with: {e}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        AuditCommand::Checkpoint { data, out } => {
            let store = open_existing(&data)?;
            let head = ledger::verify(&store.audit_entries()?).map_err(|e| {
                anyhow::anyhow!("no checkpoint written: the ledger is not intact: {e}")
            })?;
            std::fs::write(&out, head.to_string())
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!(
                "checkpoint of {} entries written to {}",
                head.size,
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::List { data } => {
            let store = open_existing(&data)?;
            for s in store.audit_entries()? {
                let e = &s.entry;
                println!(
                    "{:>6} {} {} ({}) purpose {} subject {} {} {}: {}",
                    e.seq,
                    domain::Timestamp::from_millis(e.at_ms),
                    e.actor,
                    e.role,
                    e.purpose,
                    e.subject.as_deref().unwrap_or("-"),
                    e.action,
                    e.object,
                    e.outcome
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn retention_command(command: RetentionCommand) -> anyhow::Result<ExitCode> {
    let data = match &command {
        RetentionCommand::Plan { data }
        | RetentionCommand::Run { data, .. }
        | RetentionCommand::Receipts { data } => data.clone(),
    };
    // The register says which measures have ended: their data goes at this run.
    let policy = server::retention_policy(open_existing(&data)?.as_ref())?;
    match command {
        RetentionCommand::Plan { data } => {
            let store = open_existing(&data)?;
            let plan = store.retention_plan(&policy, server::ingest::now())?;
            if plan.is_empty() {
                println!("nothing is held that retention will delete");
            }
            for p in plan {
                let due = p.due.map_or_else(|| "kept".to_owned(), |d| d.to_string());
                println!("{due:<10}  {:>8}  {:<26} {}", p.count, p.kind, p.rule);
            }
            Ok(ExitCode::SUCCESS)
        }
        RetentionCommand::Run { data, today } => {
            let store = open_existing(&data)?;
            let now = match today {
                Some(d) => {
                    let fmt = time::macros::format_description!("[year]-[month]-[day]");
                    let date = time::Date::parse(&d, &fmt)
                        .with_context(|| format!("--today is YYYY-MM-DD, not {d:?}"))?;
                    domain::Timestamp::from_secs(date.midnight().assume_utc().unix_timestamp())
                }
                None => server::ingest::now(),
            };
            let receipts = store.retention_run(&policy, now)?;
            for r in &receipts {
                operator_audit(
                    store.as_ref(),
                    "sporvern retention (command line)",
                    "retention",
                    None,
                    ledger::Action::Delete,
                    format!("{} {} deleted: {}", r.count, r.kind, r.rule),
                )?;
            }
            if receipts.is_empty() {
                println!("nothing was due");
            }
            for r in receipts {
                println!("deleted {} {} ({})", r.count, r.kind, r.rule);
            }
            Ok(ExitCode::SUCCESS)
        }
        RetentionCommand::Receipts { data } => {
            let store = open_existing(&data)?;
            for r in store.retention_receipts()? {
                println!("{}  {:>8}  {:<22} {}", r.at, r.count, r.kind, r.rule);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn org_command(command: OrgCommand) -> anyhow::Result<ExitCode> {
    match command {
        OrgCommand::Apply { data, file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let org = org::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let store = database(&data)?.open()?;
            let changes = store.apply_org(&org)?;
            print!("{changes}");
            record_org_changes(store.as_ref(), "server operator (command line)", &changes)?;
            crate::register::sync_with_org(store.as_ref(), "server operator (command line)")?;
            Ok(ExitCode::SUCCESS)
        }
        OrgCommand::Inventory { data } => {
            let store = open_existing(&data)?;
            let org = store.load_org()?;
            for device in store.devices()? {
                let vehicle = org
                    .devices
                    .iter()
                    .find(|d| d.protocol == device.protocol && d.external_id == device.external_id)
                    .map(|d| d.vehicle.to_string())
                    .unwrap_or_default();
                println!(
                    "{} {} (vehicle {vehicle})",
                    device.protocol, device.external_id
                );
                let fields = store.inventory(device.id)?;
                if fields.is_empty() {
                    println!("  nothing received yet");
                }
                for f in fields {
                    println!(
                        "  {:<14} {:<16} first {}  last {}",
                        f.key,
                        f.kind.as_str(),
                        f.first_seen,
                        f.last_seen
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        OrgCommand::Show { data } => {
            let store = open_existing(&data)?;
            print!("{}", org::to_toml(&store.load_org()?));
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Puts each change to the organisation (vehicles, devices, employees, assignments, sites,
/// users and their roles) on the audit ledger: keys only (registration numbers, employee
/// numbers, user names), never names or positions.
pub fn record_org_changes(
    store: &dyn storage::Store,
    actor: &str,
    changes: &org::Changes,
) -> anyhow::Result<()> {
    let at = server::ingest::now();
    let records = changes
        .0
        .iter()
        .map(|c| storage::AuditRecord {
            at,
            actor: actor.to_owned(),
            role: "server operator (command line)".to_owned(),
            purpose: "organisation".to_owned(),
            subject: (c.entity == "employee").then(|| c.key.clone()),
            action: ledger::Action::Config,
            object: format!("organisation {c}"),
            outcome: "done".to_owned(),
        })
        .collect::<Vec<_>>();
    if !records.is_empty() {
        store
            .audit_append_many(records)
            .context("recording the organisation's changes in the audit ledger")?;
    }
    Ok(())
}

/// Puts a change made by the server's operator (user administration, retention) on the audit
/// ledger: whoever runs the command on the server acts as its operator.
pub fn operator_audit(
    store: &dyn storage::Store,
    actor: &str,
    purpose: &str,
    subject: Option<String>,
    action: ledger::Action,
    object: String,
) -> anyhow::Result<()> {
    store
        .audit_append(storage::AuditRecord {
            at: server::ingest::now(),
            actor: actor.to_owned(),
            role: "server operator (command line)".to_owned(),
            purpose: purpose.to_owned(),
            subject,
            action,
            object,
            outcome: "done".to_owned(),
        })
        .context("recording the change in the audit ledger")?;
    Ok(())
}

pub fn open_existing(data: &Path) -> anyhow::Result<Box<dyn storage::Store>> {
    let db = database(data)?;
    if let server::database::Database::Postgres(_) = db {
        return db.open();
    }
    if !data.join("sporvern.db").exists() {
        bail!(
            "no Sporvern data in {}: run `sporvern org apply --data {} FILE` first",
            data.display(),
            data.display()
        );
    }
    db.open()
}

fn decode(args: DecodeArgs) -> anyhow::Result<ExitCode> {
    let bytes = match (&args.hex, &args.input) {
        (Some(h), _) => hex(h)?,
        (None, Some(path)) => {
            let raw =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            match (
                args.protocol,
                std::str::from_utf8(&raw).ok().map(|s| hex(s.trim())),
            ) {
                (Protocol::Teltonika, Some(Ok(b))) => b,
                _ => raw,
            }
        }
        (None, None) => bail!("give the packet with --hex HEX or --input FILE"),
    };
    let value = match args.protocol {
        Protocol::Teltonika => codec::teltonika::decode_json(&bytes)
            .map_err(|e| anyhow::anyhow!("cannot decode: {e}"))?,
        Protocol::Osmand => {
            let text = String::from_utf8(bytes).context("an OsmAnd request is text")?;
            let text = text.trim();
            let (query, content_type, body) = if let Some(req) = http_request(text) {
                req
            } else if text.starts_with('{') || text.starts_with('[') {
                ("", Some("application/json"), text)
            } else {
                let q = text.split_once('?').map_or(text, |(_, q)| q);
                (q, None, "")
            };
            let msg = codec::osmand::parse(query, content_type, body.as_bytes())
                .map_err(|e| anyhow::anyhow!("cannot decode: {e}"))?;
            serde_json::json!({"type": "data", "device_id": msg.device_id, "records": msg.fixes.iter().map(fix_json).collect::<Vec<_>>()})
        }
        Protocol::Owntracks => {
            let text = String::from_utf8_lossy(&bytes).to_string();
            let body = http_request(text.trim()).map_or(bytes.as_slice(), |(_, _, b)| b.as_bytes());
            let msg =
                codec::owntracks::parse(body).map_err(|e| anyhow::anyhow!("cannot decode: {e}"))?;
            match msg {
                codec::owntracks::OwntracksMessage::Location(f) => {
                    serde_json::json!({"type": "location", "records": [fix_json(&f)]})
                }
                other => {
                    serde_json::json!({"type": "other", "message": format!("{other:?}"), "records": []})
                }
            }
        }
    };
    println!("{}", serde_json::to_string_pretty(&value)?);
    Ok(ExitCode::SUCCESS)
}

/// A raw HTTP request as captured (request line, headers, blank line, body; `#` comment lines
/// before it are skipped): its query, its `Content-Type` and its body. `None` when `text` does
/// not start with a request line.
fn http_request(text: &str) -> Option<(&str, Option<&str>, &str)> {
    let mut rest = text;
    while rest.starts_with('#') {
        rest = rest.split_once('\n').map_or("", |(_, r)| r);
    }
    let (line, after) = rest.split_once('\n').unwrap_or((rest, ""));
    let mut parts = line.trim_end_matches('\r').split(' ');
    let method = parts.next()?;
    let target = parts.next()?;
    if !["GET", "POST", "PUT"].contains(&method) || !target.starts_with('/') {
        return None;
    }
    let (head, body) = after
        .split_once("\r\n\r\n")
        .or_else(|| after.split_once("\n\n"))
        .unwrap_or((after, ""));
    let content_type = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("content-type")
            .then_some(v.trim())
    });
    let query = target.split_once('?').map_or("", |(_, q)| q);
    Some((query, content_type, body.trim()))
}

fn hex(s: &str) -> anyhow::Result<Vec<u8>> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        bail!("the hex has an odd number of digits ({})", digits.len());
    }
    digits
        .chunks(2)
        .enumerate()
        .map(|(i, pair)| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "not hex at digit {}: {:?}",
                        i * 2,
                        String::from_utf8_lossy(pair)
                    )
                })
        })
        .collect()
}

fn fix_json(f: &Fix) -> serde_json::Value {
    let attrs: serde_json::Map<String, serde_json::Value> = f
        .attributes
        .iter()
        .map(|a| {
            let v = match &a.value {
                domain::AttrValue::Int(i) => serde_json::json!(i),
                domain::AttrValue::Float(x) => serde_json::json!(x),
                domain::AttrValue::Bool(b) => serde_json::json!(b),
                domain::AttrValue::Text(t) => serde_json::json!(t),
                domain::AttrValue::Bytes(b) => {
                    serde_json::json!(b.iter().map(|x| format!("{x:02x}")).collect::<String>())
                }
            };
            (a.key.to_string(), v)
        })
        .collect();
    serde_json::json!({
        "time": f.time.rfc3339(),
        "lat": f.position.map(|p| p.lat()),
        "lon": f.position.map(|p| p.lon()),
        "altitude": f.altitude_m,
        "course": f.course_deg,
        "satellites": f.satellites,
        "speed_kmh": f.speed_kmh,
        "attributes": attrs,
    })
}

fn simulate_command(args: SimulateArgs) -> anyhow::Result<ExitCode> {
    if let Some(path) = &args.write_org {
        std::fs::write(path, simulate::fleet_org(args.first_imei, args.devices))
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!(
            "wrote an organisation with {} Teltonika devices to {}",
            args.devices,
            path.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let devices = if args.device.is_empty() {
        simulate::teltonika_fleet(args.first_imei, args.devices)
    } else {
        args.device.clone()
    };
    let n = devices.len().max(1);
    let mut cfg = simulate::Config::new(
        devices,
        simulate::Targets {
            teltonika: Some(args.teltonika),
            osmand: Some(args.osmand),
            http: Some(args.http),
        },
    );
    cfg.records_per_second = args.rate / n as f64;
    // A device's clock never runs ahead of real time (the server refuses records more than a
    // few minutes in its future): above one record a second, each record moves it 1/rate.
    if cfg.records_per_second > 1.0 {
        cfg.fix_step =
            Duration::from_millis((1000.0 / cfg.records_per_second).floor().max(1.0) as u64);
    }
    cfg.records_per_frame = args.records_per_frame.max(1);
    cfg.duration = Some(Duration::from_secs_f64(args.duration));
    cfg.ramp = Duration::from_secs_f64(args.ramp);
    cfg.sensor_data = !args.no_sensors;
    let report = runtime()?.block_on(simulate::run(cfg));
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "devices": report.devices, "sent": report.sent, "acknowledged": report.acknowledged,
                "refused_devices": report.refused_devices, "errors": report.errors,
                "elapsed_s": report.elapsed.as_secs_f64(), "records_per_s": report.records_per_second(),
                "ack_p50_ms": report.latency_percentile_ms(0.5), "ack_p99_ms": report.latency_percentile_ms(0.99),
            })
        );
    } else {
        println!("{}", report.summary());
    }
    Ok(if report.acknowledged > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Exit 0 for any verdict, 2 for a file it cannot read (SPEC.md, "The assessment file").
fn assess_command(args: &AssessArgs) -> ExitCode {
    let fail = |msg: String| {
        eprintln!("error: {msg}");
        ExitCode::from(2)
    };
    let (Ok(format), Ok(lang)) = (
        args.format.parse::<assess::Format>(),
        args.lang.parse::<assess::Lang>(),
    ) else {
        return fail("--format is text or json; --lang is nb or en".into());
    };
    let source = match std::fs::read_to_string(&args.file) {
        Ok(s) => s,
        Err(e) => return fail(format!("cannot read {}: {e}", args.file.display())),
    };
    match assess::assess_str(&source) {
        Ok(a) => {
            println!("{}", assess::render(&a, format, lang));
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("{}: {e}", args.file.display())),
    }
}
