//! `sporvern demo`: the example organisation, the server, and vehicles driving around Oslo
//! through the real protocols — everything working within a minute of a fresh clone.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use domain::Protocol;

use crate::cli::ServeArgs;

/// The demo's users: one per role, the driver linked to employee 1001 (EK 12345).
const DEMO_USERS: &[(&str, &str, Option<&str>, &str)] = &[
    (
        "kari",
        "employee",
        Some("1001"),
        "sjåfør / driver (EK 12345)",
    ),
    (
        "ola",
        "employee",
        Some("1002"),
        "sjåfør / driver (EL 23456)",
    ),
    ("disponent", "dispatcher", None, "disponent / dispatcher"),
    ("lars", "log_keeper", None, "kjørebokansvarlig / log keeper"),
    (
        "vakt",
        "security_operator",
        None,
        "sikkerhet / security operator",
    ),
    ("analytiker", "analyst", None, "analytiker / analyst"),
    (
        "pvo",
        "privacy_officer",
        None,
        "personvernombud / privacy officer",
    ),
    (
        "tillitsvalgt",
        "representative",
        None,
        "tillitsvalgt / employee representative",
    ),
    ("admin", "admin", None, "administrator"),
];

/// Creates the demo users, or gives them new passwords: a fresh random password per user and
/// run, printed once (no fixed password exists, not even in the demo).
fn demo_users(store: &dyn storage::Store) -> anyhow::Result<String> {
    let existing: Vec<String> = store.users()?.into_iter().map(|u| u.name).collect();
    let mut out = String::from(
        "  demo users (new passwords each run; log in at the web page or POST /api/v1/login):\n",
    );
    for (name, role, employee, what) in DEMO_USERS {
        let (password, _) = access::new_token();
        let password: String = password
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(16)
            .collect();
        let hash = access::hash_password(&password);
        if existing.iter().any(|e| e == name) {
            store.set_password_hash(name, &hash)?;
        } else {
            store.add_user(
                &storage::NewUser {
                    name: (*name).to_owned(),
                    roles: vec![(*role).to_owned()],
                    employee_number: employee.map(str::to_owned),
                    password_hash: Some(hash),
                },
                server::ingest::now(),
            )?;
        }
        out.push_str(&format!("    {name:<13} {password}   {what}\n"));
    }
    Ok(out)
}

/// The demo's open alarm: a theft of EK 12345 reported 20 minutes ago, with a police
/// reference, which stays open until the security operator resolves it; on the ledger.
fn open_theft(store: &dyn storage::Store) -> anyhow::Result<String> {
    let reg = domain::RegNo::parse("EK 12345").map_err(|e| anyhow::anyhow!("{e}"))?;
    let Some(vehicle) = store.vehicle_id(&reg)? else {
        return Ok(String::new());
    };
    let at = domain::Timestamp::from_millis(server::ingest::now().millis() - 20 * 60_000);
    let applied = store.apply_change(
        &storage::Change::OpenAlarm {
            vehicle,
            report: storage::AlarmReport {
                trigger: "theft".to_owned(),
                reference: Some("DEMO-26-104211".to_owned()),
                by: "sporvern demo".to_owned(),
            },
        },
        storage::AuditRecord {
            at,
            actor: "sporvern demo".to_owned(),
            role: "server operator (command line)".to_owned(),
            purpose: "alarm".to_owned(),
            subject: Some("1001".to_owned()),
            action: ledger::Action::Change,
            object: "open alarm window for EK12345: reported theft".to_owned(),
            outcome: "ok".to_owned(),
        },
    )?;
    let storage::Applied::AlarmWindow(_) = applied else {
        anyhow::bail!("opening the demo's alarm window gave no window");
    };
    Ok(
        "  an alarm window is open: EK 12345 reported stolen (log in as vakt to handle it)\n"
            .to_owned(),
    )
}

/// The analyst's first view: anonymous trip facts of the last three finished weeks for a
/// simulated group of six vans (vehicle keys that are no real vehicle's), so the weekly release
/// publishes them at start with the ordinary k = 5. Its name says it is simulated.
fn seed_utilization(store: &dyn storage::Store) -> anyhow::Result<String> {
    const GROUP: &str = "Demo: simulert servicegruppe";
    let now = server::ingest::now().millis();
    let day = 86_400_000_i64;
    let mut facts = Vec::new();
    let cell = |lat: f64, lon: f64| {
        let c = domain::Position::new(lat, lon)
            .map(stats::Cell::of)
            .unwrap_or(stats::Cell {
                lat_index: 0,
                lon_index: 0,
            });
        (c.lat_index, c.lon_index)
    };
    let mut seed: u64 = 0x5eed;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    // Days 8 to 28 ago: three whole ISO weeks are finished whichever weekday today is.
    for days_ago in 8..=28 {
        let midnight = (now - days_ago * day) / day * day;
        for van in 0..6_i64 {
            for trip in 0..3_i64 {
                let start = midnight + 6 * 3_600_000 + trip * 3 * 3_600_000 + van * 600_000;
                let minutes = 15 + (next() % 45) as i64;
                let km = 4.0 + (next() % 300) as f64 / 10.0;
                let (lat, lon) = (
                    59.90 + (next() % 60) as f64 / 1000.0,
                    10.70 + (next() % 150) as f64 / 1000.0,
                );
                facts.push(storage::UtilizationFact {
                    group: GROUP.to_owned(),
                    vehicle_key: -1 - van,
                    start: domain::Timestamp::from_millis(start),
                    end: domain::Timestamp::from_millis(start + minutes * 60_000),
                    km,
                    start_cell: cell(lat, lon),
                    end_cell: cell(lat + 0.01, lon + 0.02),
                });
            }
        }
    }
    let n = facts.len();
    let mut feed = store.purpose_feed()?;
    let up_to = feed.cursor()?;
    feed.commit(&storage::PurposeBatch {
        up_to,
        entries: Vec::new(),
        deviations: Vec::new(),
        privacy_switches: Vec::new(),
        watermarks: Vec::new(),
        alarms: Vec::new(),
        utilization: facts,
        recorded_at: server::ingest::now(),
    })?;
    Ok(format!(
        "  the analyst's statistics show three past weeks of a simulated group of six vans ({n} trips, \"{GROUP}\")\n"
    ))
}

/// The demo's organisation is the one in `examples/org.toml`.
const EXAMPLE_ORG: &str = include_str!("../../../examples/org.toml");
/// …and its compliance register the one in `examples/register.toml`.
const EXAMPLE_REGISTER: &str = include_str!("../../../examples/register.toml");

pub fn run(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let settings = args.settings()?;
    let org = org::parse(EXAMPLE_ORG).map_err(|e| anyhow::anyhow!("examples/org.toml: {e}"))?;
    let store = server::database::open(&settings)?;
    let changes = store.apply_org(&org)?;
    crate::cli::record_org_changes(store.as_ref(), "sporvern demo", &changes)?;
    println!(
        "Demo organisation «{}» in {}:",
        org.organisation.name,
        settings.data_dir.display()
    );
    print!("{changes}");
    // Its compliance register: every vehicle purpose has its measure assessed and its duties
    // on record, so the gate lets them collect (see `sporvern gate`).
    let recorded = crate::register::apply_text(store.as_ref(), EXAMPLE_REGISTER)?
        .map_err(|e| anyhow::anyhow!("examples/register.toml: {e}"))?;
    if !recorded.is_empty() {
        println!(
            "Compliance register: {} records from examples/register.toml",
            recorded.len()
        );
    }
    let logins = demo_users(store.as_ref())?;
    let mut notes = String::new();
    if !changes.0.is_empty() {
        // A fresh demo folder: give the security operator and the analyst something to see.
        notes.push_str(&open_theft(store.as_ref())?);
        notes.push_str(&seed_utilization(store.as_ref())?);
    }
    notes.push_str(
        "  on purpose: the register's spam-filter measure (it.spam_quarantine) has an overdue
  evaluation, so the server warns about it at start, as it warns the privacy officer and
  the representatives (see /register as pvo). No other warning is expected.\n",
    );
    drop(store);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let app = server::Application::build(settings).await?;
        let loopback = |a: std::net::SocketAddr| {
            if a.ip().is_unspecified() { std::net::SocketAddr::from(([127, 0, 0, 1], a.port())) } else { a }
        };
        let targets = simulate::Targets {
            teltonika: Some(loopback(app.teltonika_addr())),
            osmand: Some(loopback(app.osmand_addr())),
            http: Some(loopback(app.http_addr())),
        };
        println!(
            "\nSporvern is running.\n  web, API, metrics:  http://{}/  (health: /healthz, metrics: /metrics)\n  Teltonika:          {} (TCP and UDP)\n  OsmAnd (Traccar Client): {}\n{}{}Simulated vehicles are driving around Oslo. Stop with Ctrl-C.\n",
            targets.http.map(|a| a.to_string()).unwrap_or_default(),
            targets.teltonika.map(|a| a.to_string()).unwrap_or_default(),
            targets.osmand.map(|a| a.to_string()).unwrap_or_default(),
            logins,
            notes,
        );
        // One route per vehicle: the devices of one vehicle (BR 34567's tracker and phone)
        // ride in it together, so they report the same drive.
        let devices = org
            .devices
            .iter()
            .map(|d| {
                let vehicle = org.vehicles.iter().position(|v| v.reg == d.vehicle).unwrap_or(0);
                simulate::SimDevice { protocol: d.protocol, id: d.external_id.to_string(), seed: 1000 + vehicle as u64 }
            })
            .collect::<Vec<_>>();
        let teltonika = devices.iter().filter(|d| d.protocol == Protocol::Teltonika).count();
        tracing::info!(devices = devices.len(), teltonika, "starting simulated vehicles");
        let server = tokio::spawn(app.run_until_stopped());
        // First the last three hours, fast-forwarded (a fix every 5 s of the vehicles' time,
        // 60 a second), so the driving log has trips — a private errand and an alarm among
        // them — within a minute; then the same vehicles go on in real time, one fix every
        // 2 s, for the live fleet view (their odometers and routes carry on across the switch).
        let mut history = simulate::Config::new(devices, targets);
        history.history = Some(Duration::from_secs(3 * 3600));
        history.fix_step = Duration::from_secs(5);
        history.records_per_second = 60.0;
        history.records_per_frame = 10;
        history.duration = None;
        history.then_live = Some(Duration::from_secs(2));
        println!("The last three hours are being sent first (about a minute); then try:\n  sporvern drivinglog export --data DIR --vehicle \"EK 12345\" --month YYYY-MM --as kari\n  sporvern alarm list --data DIR --as vakt\n  sporvern gate --data DIR --lang en");
        let sim = tokio::spawn(async move { simulate::run(history).await });
        tokio::select! {
            r = server => r.context("the server task failed")??,
            _ = sim => {}
            _ = tokio::signal::ctrl_c() => println!("stopping"),
        }
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
