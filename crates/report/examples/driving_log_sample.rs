//! Writes a sample driving log to look at, and says how long each file took:
//! `cargo run --release -p report --example driving_log_sample -- OUT.pdf [nb|en] [TRIPS]`.
//! Without TRIPS it renders a mixed month (business, unclassified, private trips); with TRIPS it
//! renders that many business trips. Beside OUT.pdf it writes OUT.csv (for Norwegian Excel) and
//! OUT.xlsx (trips, summary, deviations).

#[path = "../tests/fixture/mod.rs"]
mod fixture;

use std::time::Instant;

use report::accounts::{deviations_table, summary_table, trips_table};
use report::{Dialect, Lang, driving_log_pdf};

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
    let r = fixture::report(&entries, &devs, &reads, &x);
    let t = Instant::now();
    let pdf = driving_log_pdf(&r, lang);
    let pdf_time = t.elapsed();
    let t = Instant::now();
    let one = [r];
    let tables = [
        trips_table(&one),
        summary_table(&one),
        deviations_table(&one),
    ];
    let csv = tables[0].csv(Dialect::Excel, lang);
    let csv_time = t.elapsed();
    let t = Instant::now();
    let xlsx = report::xlsx(&tables.iter().collect::<Vec<_>>(), lang).expect("the workbook");
    let xlsx_time = t.elapsed();
    let stem = out.strip_suffix(".pdf").unwrap_or(&out).to_owned();
    std::fs::write(&out, &pdf).expect("write the sample PDF");
    std::fs::write(format!("{stem}.csv"), &csv).expect("write the CSV");
    std::fs::write(format!("{stem}.xlsx"), &xlsx).expect("write the workbook");
    println!(
        "{} trips: {out} ({} bytes) in {pdf_time:?}; {stem}.csv ({} bytes, with the tables) in {csv_time:?}; {stem}.xlsx ({} bytes) in {xlsx_time:?}",
        entries.len(),
        pdf.len(),
        csv.len(),
        xlsx.len()
    );
}
