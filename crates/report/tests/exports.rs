//! The accountant's files, read back as the accountant's tools read them: the CSV by Python's
//! `csv` module (as Excel's import does: `;`, UTF-8 with BOM), the RFC 4180 CSV with `,`, and
//! the workbook by `calamine`.

mod fixture;

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use domain::VehicleKind;
use domain::drivinglog::{LogEntry, PrivateTrip};
use fixture::{business, deviations, extras, month, readings, report};
use report::accounts::{
    VehicleYear, deviations_table, payroll, summary_table, tax_year, trips_table,
};
use report::{Dialect, Lang, Person, Table};
use time::macros::date;

/// Parses `csv` with Python's `csv` module (`utf-8-sig` strips the BOM; `strict` refuses
/// malformed quoting) and returns the rows, or `None` with a SKIPPED line when there is no
/// Python.
fn python_rows(csv: &[u8], delimiter: char) -> Option<Vec<Vec<String>>> {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("report-csv-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("file.csv");
    std::fs::write(&file, csv).expect("write csv");
    let script = format!(
        "import csv, json, sys\n\
         with open(sys.argv[1], newline='', encoding='utf-8-sig') as f:\n\
         \x20   print(json.dumps(list(csv.reader(f, delimiter='{delimiter}', strict=True))))\n"
    );
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&file)
        .output();
    let _ = std::fs::remove_dir_all(&dir);
    let Ok(out) = out else {
        println!("SKIPPED: python3 is not installed; the CSV is not read back by Python's csv");
        return None;
    };
    assert!(
        out.status.success(),
        "Python's csv refused the file: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).expect("json rows"))
}

fn col(t: &[Vec<String>], name: &str) -> usize {
    t[0].iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name:?} in {:?}", t[0]))
}

struct Sample {
    entries: Vec<LogEntry>,
    devs: Vec<domain::drivinglog::RecordedDeviation>,
    reads: Vec<report::OdometerReading>,
    x: fixture::Extras,
}

fn sample() -> Sample {
    let mut entries = month();
    entries.insert(0, business(9, "Kunde: Ærlighet; \"Sønn\" & Ås, Storgata 1"));
    Sample {
        entries,
        devs: deviations(),
        reads: readings(),
        x: extras(),
    }
}

fn tables(s: &Sample) -> [Table; 3] {
    let r = [report(&s.entries, &s.devs, &s.reads, &s.x)];
    [trips_table(&r), summary_table(&r), deviations_table(&r)]
}

#[test]
fn csv_for_norwegian_excel() {
    let s = sample();
    let [trips, summary, devs] = tables(&s);
    let bytes = trips.csv(Dialect::Excel, Lang::Nb).into_bytes();
    assert!(bytes.starts_with(b"\xef\xbb\xbf"), "UTF-8 byte order mark");
    assert!(bytes.windows(2).any(|w| w == b"\r\n"), "CRLF line ends");
    let Some(rows) = python_rows(&bytes, ';') else {
        return;
    };
    assert_eq!(rows[0][0], "Kjøretøy", "headings in bokmål, æøå intact");
    assert!(rows.iter().all(|r| r.len() == rows[0].len()), "one width");
    assert_eq!(
        rows.len(),
        1 + s.entries.len(),
        "a row per trip, nothing else"
    );
    let (km, date, purpose, driver, odo) = (
        col(&rows, "Km"),
        col(&rows, "Dato"),
        col(&rows, "Formål / kunde"),
        col(&rows, "Sjåfør"),
        col(&rows, "Km-stand start"),
    );
    assert_eq!(rows[1][km], "23,5", "decimal comma");
    assert_eq!(rows[1][date], "04.11.2026");
    assert_eq!(
        rows[1][purpose], "Kunde: Ærlighet; \"Sønn\" & Ås, Storgata 1",
        "a semicolon and quotes survive quoting"
    );
    assert_eq!(rows[1][driver], "Åse Kjærstad-Øvrebø");
    assert_eq!(
        rows[1][odo], "48211,5",
        "no thousands separator Excel would read as text"
    );
    // The private trip: date and km only.
    let private = rows
        .iter()
        .find(|r| r[col(&rows, "Type")] == "Privat")
        .expect("a private row");
    let filled: Vec<&String> = private.iter().filter(|c| !c.is_empty()).collect();
    assert_eq!(filled.len(), 5, "vehicle, id, date, km, type: {private:?}");
    assert!(
        rows.iter().flatten().all(|c| !c.starts_with('#')),
        "no summary lines mixed in"
    );

    // The summary is its own file.
    let Some(sum) = python_rows(summary.csv(Dialect::Excel, Lang::Nb).as_bytes(), ';') else {
        return;
    };
    assert_eq!(sum.len(), 2);
    assert_eq!(sum[1][col(&sum, "Yrke km")], "94,0");
    assert_eq!(sum[1][col(&sum, "Privat km")], "39,5");
    assert_eq!(sum[1][col(&sum, "Km totalt")], "157,0");
    assert_eq!(sum[1][col(&sum, "Siste km-stand")], "49310,4");
    assert_eq!(sum[1][col(&sum, "Km-stand lest")], "27.11.2026");
    assert_eq!(
        sum[1][col(&sum, "Signert av kjørebokfører")],
        "Bjørn Bokholder (E-2001)"
    );
    // Deviations in words, with start and end in Norwegian time.
    let Some(dev) = python_rows(devs.csv(Dialect::Excel, Lang::Nb).as_bytes(), ';') else {
        return;
    };
    assert_eq!(
        dev[1][col(&dev, "Avvik")],
        "Enheten var uten forbindelse mens kjøretøyet var i bevegelse"
    );
    assert_eq!(dev[1][col(&dev, "Start")], "04.11.2026 10:00");
    assert_eq!(dev[1][col(&dev, "Km")], "7,2");
    assert_eq!(dev[2][col(&dev, "Km-stand før")], "10091,8");
    assert_eq!(dev[2][col(&dev, "Km-stand etter")], "10000,5");
}

#[test]
fn no_minus_zero() {
    let entries = vec![LogEntry::Private(PrivateTrip {
        id: 1,
        date: date!(2026 - 11 - 02),
        km: -0.0001,
    })];
    let x = extras();
    let r = [report(&entries, &[], &[], &x)];
    for d in [Dialect::Excel, Dialect::Rfc4180] {
        let csv = trips_table(&r).csv(d, Lang::Nb) + &summary_table(&r).csv(d, Lang::Nb);
        assert!(!csv.contains("-0,0") && !csv.contains("-0.0"), "{csv}");
    }
}

#[test]
fn rfc4180_for_machines() {
    let s = sample();
    let [trips, ..] = tables(&s);
    let text = trips.csv(Dialect::Rfc4180, Lang::Nb);
    assert!(!text.starts_with('\u{feff}'), "no BOM for machines");
    let Some(rows) = python_rows(text.as_bytes(), ',') else {
        return;
    };
    assert_eq!(rows[0][..4], ["vehicle", "trip_id", "date", "start"]);
    assert_eq!(rows[1][col(&rows, "km")], "23.5");
    assert_eq!(rows[1][col(&rows, "date")], "2026-11-04");
    assert_eq!(rows[1][col(&rows, "start")], "2026-11-04T09:13:00+01:00");
    assert_eq!(rows[1][col(&rows, "type")], "business");
    assert_eq!(rows[1][col(&rows, "distance_source")], "odometer");
    assert_eq!(rows[1][col(&rows, "driver_number")], "E-1042");
}

fn cell(range: &calamine::Range<Data>, r: usize, c: usize) -> Data {
    range.get((r, c)).cloned().unwrap_or(Data::Empty)
}

#[test]
fn workbook_read_back_by_calamine() {
    let s = sample();
    let t = tables(&s);
    let bytes = report::xlsx(&t.iter().collect::<Vec<_>>(), Lang::Nb).expect("xlsx");
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).expect("open");
    assert_eq!(book.sheet_names(), ["Turer", "Sammendrag", "Avvik"]);
    let trips = book.worksheet_range("Turer").expect("trips");
    assert_eq!(cell(&trips, 0, 0), Data::String("Kjøretøy".into()));
    assert_eq!(cell(&trips, 1, 0), Data::String("EL 12345".into()));
    assert_eq!(cell(&trips, 1, 9), Data::Float(23.5), "km is a number");
    assert_eq!(
        cell(&trips, 1, 14),
        Data::String("Kunde: Ærlighet; \"Sønn\" & Ås, Storgata 1".into())
    );
    // The date is a real date: Excel's serial for 4 November 2026.
    let serial = (date!(2026 - 11 - 04) - date!(1899 - 12 - 30)).whole_days() as f64;
    match cell(&trips, 1, 2) {
        Data::DateTime(d) => assert_eq!(d.as_f64(), serial),
        other => panic!("a date cell, not {other:?}"),
    }
    assert_eq!(trips.height(), 1 + s.entries.len());
    let summary = book.worksheet_range("Sammendrag").expect("summary");
    assert_eq!(cell(&summary, 0, 5), Data::String("Yrke km".into()));
    assert_eq!(cell(&summary, 1, 5), Data::Float(94.0));
    assert_eq!(cell(&summary, 1, 1), Data::String("varebil".into()));
    let devs = book.worksheet_range("Avvik").expect("deviations");
    assert_eq!(
        cell(&devs, 2, 2),
        Data::String("Kilometertelleren gikk bakover".into())
    );

    let en = report::xlsx(&t.iter().collect::<Vec<_>>(), Lang::En).expect("xlsx");
    let book: Xlsx<_> = open_workbook_from_rs(Cursor::new(en)).expect("open");
    assert_eq!(book.sheet_names(), ["Trips", "Summary", "Deviations"]);
}

fn assignment(employee: &str, vehicle: &str, from: time::Date) -> org::Assignment {
    org::Assignment {
        employee: employee.into(),
        vehicle: domain::RegNo::parse(vehicle).expect("reg"),
        from,
        to: None,
    }
}

fn private(id: i64, date: time::Date, km: f64) -> LogEntry {
    LogEntry::Private(PrivateTrip { id, date, km })
}

#[test]
fn tax_year_and_payroll_per_employee() {
    // Åse drives EL 12345 all year; Per drives EK 99999 from March. Private trips carry no
    // driver, so they are the assigned employee's.
    let el: Vec<LogEntry> = (0..11)
        .map(|d| private(d, date!(2026 - 01 - 05) + time::Duration::days(d), 20.0))
        .chain([business(3, "Kunde")])
        .collect();
    let ek = vec![
        private(50, date!(2026 - 03 - 02), 400.0),
        private(51, date!(2026 - 11 - 03), 700.0),
    ];
    let vehicles = [
        VehicleYear {
            vehicle: "EL 12345",
            kind: VehicleKind::Van,
            entries: &el,
        },
        VehicleYear {
            vehicle: "EK 99999",
            kind: VehicleKind::Car,
            entries: &ek,
        },
    ];
    let assignments = [
        assignment("E-1042", "EL 12345", date!(2025 - 01 - 01)),
        assignment("E-7", "EK 99999", date!(2026 - 03 - 01)),
    ];
    let people = [
        Person {
            number: "E-1042".into(),
            name: "Åse".into(),
        },
        Person {
            number: "E-7".into(),
            name: "Per".into(),
        },
    ];
    let (per_vehicle, per_employee) = tax_year(2026, &vehicles, &assignments, &people);
    let Some(v) = python_rows(per_vehicle.csv(Dialect::Excel, Lang::Nb).as_bytes(), ';') else {
        return;
    };
    assert_eq!(v[1][col(&v, "Kjøretøy")], "EL 12345");
    assert_eq!(v[1][col(&v, "Privatdager")], "11");
    assert_eq!(v[1][col(&v, "Privat km")], "220,0");
    assert_eq!(v[1][col(&v, "Yrke km")], "23,5");
    assert_eq!(
        v[1][col(&v, "Dager igjen av 10 (sporadisk privat bruk)")],
        "0"
    );
    assert_eq!(
        v[1][col(&v, "Innenfor sporadisk privat bruk")],
        "nei",
        "11 days > 10"
    );
    assert_eq!(v[2][col(&v, "Privat km")], "1100,0");
    assert_eq!(
        v[2][col(&v, "Innenfor sporadisk privat bruk")],
        "nei",
        "1,100 km > 1,000"
    );
    assert_eq!(
        v[2][col(&v, "Km igjen til 40 000 km yrkeskjøring")],
        "40000,0"
    );
    let Some(e) = python_rows(per_employee.csv(Dialect::Excel, Lang::Nb).as_bytes(), ';') else {
        return;
    };
    let per = e.iter().find(|r| r[1] == "E-7").expect("Per's row");
    assert_eq!(per[col(&e, "Navn")], "Per");
    assert_eq!(per[col(&e, "Privat km")], "1100,0");
    assert_eq!(per[col(&e, "Privatdager")], "2");

    // The payroll file: November for both, zeros included.
    let months = [(date!(2026 - 11 - 01), date!(2026 - 11 - 30))];
    let pay = payroll(&months, &vehicles, &assignments, &people);
    let Some(p) = python_rows(pay.csv(Dialect::Excel, Lang::Nb).as_bytes(), ';') else {
        return;
    };
    assert_eq!(p.len(), 3, "{p:?}");
    let aase = p.iter().find(|r| r[1] == "E-1042").expect("Åse");
    assert_eq!(aase[col(&p, "Måned")], "2026-11");
    assert_eq!(
        aase[col(&p, "Privat km")],
        "0,0",
        "no private km in November"
    );
    assert_eq!(aase[col(&p, "Privat km hittil i år")], "220,0");
    let per = p.iter().find(|r| r[1] == "E-7").expect("Per");
    assert_eq!(per[col(&p, "Privat km")], "700,0");
    assert_eq!(per[col(&p, "Privatdager")], "1");
    assert_eq!(per[col(&p, "Privat km hittil i år")], "1100,0");
    assert_eq!(per[col(&p, "Kjøretøytype")], "personbil");
}
