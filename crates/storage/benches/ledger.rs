//! Durable audit-ledger appends: one transaction per entry, and group commits of 10, 100 and
//! 1,000 entries. `cargo bench -p storage --bench ledger`

use std::time::Instant;

use domain::Timestamp;
use storage::AuditRecord;

fn record(i: u64) -> AuditRecord {
    AuditRecord {
        at: Timestamp::from_millis(1_767_261_600_000 + i as i64),
        actor: "kari".into(),
        role: "employee".into(),
        purpose: "driving_log".into(),
        subject: Some("1001".into()),
        action: ledger::Action::Read,
        object: format!("driving log EK12345 2026-11 (request {i})"),
        outcome: "allowed".into(),
    }
}

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = storage::open(dir.path()).expect("open");
    let mut n = 0u64;
    println!(
        "{:>14} {:>10} {:>16}",
        "entries/commit", "entries", "appends/s"
    );
    for batch in [1usize, 10, 100, 1_000] {
        let total = if batch == 1 { 2_000 } else { 50_000 };
        let started = Instant::now();
        for _ in 0..total / batch {
            let records: Vec<AuditRecord> = (0..batch)
                .map(|_| {
                    n += 1;
                    record(n)
                })
                .collect();
            store.audit_append_many(records).expect("append");
        }
        let secs = started.elapsed().as_secs_f64();
        println!("{batch:>14} {total:>10} {:>16.0}", total as f64 / secs);
    }
    let started = Instant::now();
    let entries = store.audit_entries().expect("entries");
    let head = ledger::verify(&entries).expect("intact");
    println!(
        "verify {} entries: {:.0} ms",
        head.size,
        started.elapsed().as_secs_f64() * 1000.0
    );
}
