//! Writes a sample driving log PDF, to look at:
//! `cargo run -p report --example driving_log_sample -- OUT.pdf [nb|en] [TRIPS]`.
//! Without TRIPS it renders a mixed month (business, unclassified, private trips); with TRIPS it
//! renders that many business trips.

#[path = "../tests/fixture/mod.rs"]
mod fixture;

use report::{Lang, driving_log_pdf};

fn main() {
    let mut args = std::env::args().skip(1);
    let out = args
        .next()
        .unwrap_or_else(|| "driving-log-sample.pdf".into());
    let lang = match args.next().as_deref() {
        Some("en") => Lang::En,
        _ => Lang::Nb,
    };
    let entries = match args.next().and_then(|n| n.parse::<i64>().ok()) {
        Some(n) => (0..n).map(|i| fixture::business(i, "Kundebesøk")).collect(),
        None => fixture::month(),
    };
    let (devs, reads, x) = (
        fixture::deviations(),
        fixture::readings(),
        fixture::extras(),
    );
    let pdf = driving_log_pdf(&fixture::report(&entries, &devs, &reads, &x), lang);
    std::fs::write(&out, pdf).expect("write the sample PDF");
    println!("wrote {out}");
}
