//! Appends per second of the in-memory [`ledger::Appender`]: canonical
//! encoding, leaf hash, chain hash and the O(log n) frontier update, no I/O.
//!
//! `cargo bench -p ledger --bench append`

use std::hint::black_box;
use std::time::Instant;

use ledger::{Action, Appender, Entry};

fn main() {
    const N: u64 = 200_000;
    let template = Entry {
        seq: 0,
        at_ms: 1_793_000_000_000,
        actor: "user-42".into(),
        role: "log_keeper".into(),
        purpose: "driving_log".into(),
        subject: Some("EK12345".into()),
        action: Action::Read,
        object: "driving_log EK12345 2026-11".into(),
        outcome: "ok".into(),
    };

    let mut app = Appender::new();
    let start = Instant::now();
    for seq in 0..N {
        let mut e = template.clone();
        e.seq = seq;
        e.at_ms += seq as i64;
        let stored = app.append(e).expect("appended in sequence");
        black_box(stored.chain);
    }
    let appends = start.elapsed();

    let start = Instant::now();
    let mut root = [0u8; 32];
    for _ in 0..1_000 {
        root = black_box(&app).root();
    }
    let roots = start.elapsed();

    println!(
        "append: {N} entries in {:.3} s = {:.0} appends/s ({:.2} µs each)",
        appends.as_secs_f64(),
        N as f64 / appends.as_secs_f64(),
        appends.as_secs_f64() * 1e6 / N as f64
    );
    println!(
        "root:   {:.2} µs at size {N} (root {})",
        roots.as_secs_f64() * 1e6 / 1_000.0,
        hex::encode(&root[..8])
    );
}
