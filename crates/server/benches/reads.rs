//! What access control costs a read: the policy decision alone, and the decision plus its
//! durable ledger entry through the group-commit writer (`server::audit_log`), with 1 to 64
//! readers at once. `cargo bench -p server --bench reads`
//!
//! Reported per concurrency: the median and p99 time one read waits for "decided and on the
//! ledger", the appends per second the ledger sustains, and the amortised cost per read
//! (wall time ÷ reads: what the machine spends on it, as opposed to what one reader waits).

use std::sync::{Arc, Barrier};
use std::time::Instant;

use access::{Policy, ReadPurpose, Role, Scope, User, UserId};
use server::audit_log::AuditLog;

fn user() -> User {
    User {
        id: UserId("lars".into()),
        name: "lars".into(),
        roles: vec![Role::LogKeeper],
        employee: None,
    }
}

fn record(r: access::AuditRecord) -> storage::AuditRecord {
    storage::AuditRecord {
        at: domain::Timestamp::from_millis(r.at_ms),
        actor: r.actor,
        role: r.role,
        purpose: r.purpose,
        subject: Some("1001".into()),
        action: r.action,
        object: "driving log EK12345 2026-11".into(),
        outcome: r.outcome,
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    // The policy decision alone.
    let u = user();
    let n = 1_000_000;
    let started = Instant::now();
    let mut granted = 0usize;
    for i in 0..n {
        let scope = Scope::Vehicle("EK12345".into());
        if let Ok(g) = Policy::authorise(&u, Role::LogKeeper, ReadPurpose::DrivingLog, scope, i) {
            granted += usize::from(g.audit().outcome == "ok");
        }
    }
    let per = started.elapsed().as_secs_f64() / n as f64 * 1e9;
    println!("policy decision alone: {per:.0} ns per read ({granted} granted)");

    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn storage::Store> = Arc::from(storage::open(dir.path()).expect("open"));
    let log = AuditLog::start(store.as_ref()).expect("writer");
    println!(
        "\n{:>8} {:>9} {:>12} {:>10} {:>10} {:>14}",
        "readers", "reads", "appends/s", "median µs", "p99 µs", "amortised µs"
    );
    for readers in [1usize, 4, 16, 64] {
        let per_reader = if readers == 1 {
            2_000
        } else {
            40_000 / readers
        };
        let barrier = Arc::new(Barrier::new(readers + 1));
        let handles: Vec<_> = (0..readers)
            .map(|_| {
                let (log, barrier, u) = (log.clone(), barrier.clone(), user());
                std::thread::spawn(move || {
                    barrier.wait();
                    let mut waits = Vec::with_capacity(per_reader);
                    for i in 0..per_reader {
                        let t = Instant::now();
                        let scope = Scope::Vehicle("EK12345".into());
                        let grant = Policy::authorise(
                            &u,
                            Role::LogKeeper,
                            ReadPurpose::DrivingLog,
                            scope,
                            i as i64,
                        )
                        .expect("allowed");
                        let (_cap, audit) = grant.into_parts();
                        log.append(record(audit)).expect("durable");
                        waits.push(t.elapsed().as_secs_f64() * 1e6);
                    }
                    waits
                })
            })
            .collect();
        barrier.wait();
        let started = Instant::now();
        let mut waits: Vec<f64> = handles
            .into_iter()
            .flat_map(|h| h.join().expect("reader"))
            .collect();
        let secs = started.elapsed().as_secs_f64();
        waits.sort_by(f64::total_cmp);
        let total = waits.len();
        println!(
            "{readers:>8} {total:>9} {:>12.0} {:>10.1} {:>10.1} {:>14.1}",
            total as f64 / secs,
            percentile(&waits, 0.5),
            percentile(&waits, 0.99),
            secs * 1e6 / total as f64
        );
    }
    let entries = store.audit_entries().expect("entries");
    let head = ledger::verify(&entries).expect("the ledger is intact");
    println!("\nledger intact after the run: {} entries", head.size);
    added_latency();
}

/// What the policy and the ledger add to a real read — a month of one vehicle's driving log
/// (180 trips) — when the entry is written while the query runs and the data is held back
/// until the entry is durable (`server::reads`).
fn added_latency() {
    use domain::drivinglog::NewLogEntry;
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn storage::Store> = Arc::from(storage::open(dir.path()).expect("open"));
    let org = org::parse(include_str!("../../../examples/org.toml")).expect("org");
    store.apply_org(&org).expect("apply");
    let vehicle = store
        .vehicle_id(&domain::RegNo::parse("EK 12345").expect("reg"))
        .expect("query")
        .expect("vehicle");
    let first = time::Date::from_calendar_date(2026, time::Month::November, 1).expect("date");
    let mut entries = Vec::new();
    for day in 0..30 {
        let date = first + time::Duration::days(day);
        for k in 0..6i64 {
            let start = domain::Timestamp::from_secs(
                date.midnight().assume_utc().unix_timestamp() + 6 * 3600 + k * 5400,
            );
            entries.push(NewLogEntry::Trip {
                vehicle,
                date,
                start,
                end: domain::Timestamp::from_millis(start.millis() + 1_800_000),
                start_place: "Lager Alnabru".into(),
                end_place: "Kunde: Sameiet Tøyen Torg".into(),
                odometer_start_km: None,
                odometer_end_km: None,
                km: 12.5,
                distance_source: "track",
                driver: Some("1001".into()),
            });
        }
    }
    let mut feed = store.purpose_feed().expect("feed");
    feed.commit(&storage::PurposeBatch {
        up_to: 0,
        entries,
        deviations: vec![],
        privacy_switches: vec![],
        watermarks: vec![],
        alarms: vec![],
        utilization: vec![],
        recorded_at: domain::Timestamp::from_millis(0),
    })
    .expect("commit");
    drop(feed);
    let last = time::Date::from_calendar_date(2026, time::Month::November, 30).expect("date");
    let reads = server::reads::Reads::new(
        store.clone(),
        AuditLog::start(store.as_ref()).expect("writer"),
        None,
    );
    let who = server::reads::Who {
        user: user(),
        role: Role::LogKeeper,
    };
    let cap = Policy::authorise(
        &who.user,
        Role::LogKeeper,
        ReadPurpose::DrivingLog,
        Scope::All,
        0,
    )
    .expect("allowed")
    .into_parts()
    .0;
    let rounds = 2_000;
    let mut plain = Vec::with_capacity(rounds);
    let mut gated = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let t = Instant::now();
        let log = store
            .driving_log(&cap, vehicle, first, last)
            .expect("query");
        plain.push(t.elapsed().as_secs_f64() * 1e6);
        assert_eq!(log.len(), 180);

        let t = Instant::now();
        let g = reads
            .authorise(
                &who,
                ReadPurpose::DrivingLog,
                Scope::Vehicle("EK12345".into()),
                Some("1001".into()),
                ledger::Action::Read,
                "driving log EK12345 2026-11".into(),
            )
            .expect("allowed");
        let log = store
            .driving_log(&g.cap, vehicle, first, last)
            .expect("query");
        let log = g.finish(log).expect("durable");
        gated.push(t.elapsed().as_secs_f64() * 1e6);
        assert_eq!(log.len(), 180);
    }
    plain.sort_by(f64::total_cmp);
    gated.sort_by(f64::total_cmp);
    let (p, g) = (percentile(&plain, 0.5), percentile(&gated, 0.5));
    println!(
        "\na month of the driving log (180 trips), one reader, {rounds} reads:\n  query alone: median {p:.1} µs\n  decided + ledgered + query: median {g:.1} µs (p99 {:.1} µs)\n  added by policy and ledger: median {:.1} µs",
        percentile(&gated, 0.99),
        g - p
    );
}
