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
            "\nSporvern is running.\n  web, API, metrics:  http://{}/  (health: /healthz, metrics: /metrics)\n  Teltonika:          {} (TCP and UDP)\n  OsmAnd (Traccar Client): {}\n{}Simulated vehicles are driving around Oslo. Stop with Ctrl-C.\n",
            targets.http.map(|a| a.to_string()).unwrap_or_default(),
            targets.teltonika.map(|a| a.to_string()).unwrap_or_default(),
            targets.osmand.map(|a| a.to_string()).unwrap_or_default(),
            logins,
        );
        let devices = org
            .devices
            .iter()
            .enumerate()
            .map(|(i, d)| simulate::SimDevice { protocol: d.protocol, id: d.external_id.to_string(), seed: 1000 + i as u64 })
            .collect::<Vec<_>>();
        let teltonika = devices.iter().filter(|d| d.protocol == Protocol::Teltonika).count();
        tracing::info!(devices = devices.len(), teltonika, "starting simulated vehicles");
        let server = tokio::spawn(app.run_until_stopped());
        // First the last three hours, fast-forwarded (a fix every 5 s of the vehicles' time,
        // 60 a second), so the driving log has trips — a private errand and an alarm among
        // them — within a minute; then real time, one fix every 2 s, for the live fleet view.
        let mut history = simulate::Config::new(devices.clone(), targets);
        history.history = Some(Duration::from_secs(3 * 3600));
        history.fix_step = Duration::from_secs(5);
        history.records_per_second = 60.0;
        history.records_per_frame = 10;
        history.duration = None;
        let mut live = simulate::Config::new(devices, targets);
        live.records_per_second = 0.5;
        live.fix_step = Duration::from_secs(2);
        live.duration = None;
        let sim = tokio::spawn(async move {
            let report = simulate::run(history).await;
            println!("History of the last three hours sent ({} fixes); try:\n  sporvern drivinglog export --data DIR --vehicle \"EK 12345\" --month YYYY-MM --as kari\n  sporvern alarm list --data DIR --as vakt\n  sporvern gate --data DIR --lang en\nNow driving in real time.", report.acknowledged);
            simulate::run(live).await
        });
        tokio::select! {
            r = server => r.context("the server task failed")??,
            _ = sim => {}
            _ = tokio::signal::ctrl_c() => println!("stopping"),
        }
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
