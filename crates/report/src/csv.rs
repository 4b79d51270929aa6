//! The driving log as CSV, the monthly odometer readings, and the period a month names.

use domain::Timestamp;
use domain::drivinglog::{Classification, LogEntry};

/// `YYYY-MM` → that month; `YYYY` → that year.
pub fn period(s: &str) -> Result<(time::Date, time::Date), String> {
    let bad = || format!("a period is YYYY-MM (a month) or YYYY (a year), not {s:?}");
    let (year, month) = match s.split_once('-') {
        Some((y, m)) => (
            y.parse::<i32>().map_err(|_| bad())?,
            Some(m.parse::<u8>().map_err(|_| bad())?),
        ),
        None => (s.parse::<i32>().map_err(|_| bad())?, None),
    };
    let date = |m: u8, d: u8| -> Result<time::Date, String> {
        let month = time::Month::try_from(m).map_err(|_| bad())?;
        time::Date::from_calendar_date(year, month, d).map_err(|_| bad())
    };
    Ok(match month {
        Some(m) => {
            let first = date(m, 1)?;
            let last = date(m, time::util::days_in_month(first.month(), year))?;
            (first, last)
        }
        None => (date(1, 1)?, date(12, 31)?),
    })
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn local_time(t: Timestamp) -> String {
    let offset = trips::oslo_offset(t);
    t.to_offset_date_time()
        .map(|d| d.to_offset(offset))
        .map(|d| format!("{:02}:{:02}", d.hour(), d.minute()))
        .unwrap_or_default()
}

/// The CSV a log keeper or a driver hands on: one row per trip, private trips as date and km.
pub fn driving_log_csv(
    reg: &str,
    entries: &[LogEntry],
    deviations: &[domain::drivinglog::RecordedDeviation],
) -> String {
    let mut out = String::from(
        "dato/date,start,slutt/end,fra/from,til/to,km-stand start/odometer start,km-stand slutt/odometer end,km,sjåfør/driver,type,formål/purpose\n",
    );
    let mut business = 0.0;
    let mut private = 0.0;
    for e in entries {
        match e {
            LogEntry::Private(p) => {
                private += p.km;
                out.push_str(&format!("{},,,,,,,{:.1},,privat/private,\n", p.date, p.km));
            }
            LogEntry::Unclassified(p) => {
                out.push_str(&format!(
                    "{},,,,,,,{:.1},,ikke klassifisert/unclassified,\n",
                    p.date, p.km
                ));
            }
            LogEntry::Trip(t) => {
                let (kind, purpose) = match &t.classification {
                    Classification::Business { purpose } => ("yrke/business", purpose.as_str()),
                    Classification::Unclassified => ("ikke klassifisert/unclassified", ""),
                    Classification::Private => ("privat/private", ""),
                };
                if matches!(t.classification, Classification::Business { .. }) {
                    business += t.km;
                }
                let odo = |v: Option<f64>| v.map(|v| format!("{v:.1}")).unwrap_or_default();
                out.push_str(&format!(
                    "{},{},{},{},{},{},{},{:.1},{},{},{}\n",
                    t.date,
                    local_time(t.start),
                    local_time(t.end),
                    csv_field(&t.start_place),
                    csv_field(&t.end_place),
                    odo(t.odometer_start_km),
                    odo(t.odometer_end_km),
                    t.km,
                    csv_field(t.driver.as_deref().unwrap_or("")),
                    kind,
                    csv_field(purpose)
                ));
            }
        }
    }
    out.push_str(&format!(
        "\n# {reg}: {} trips, business {business:.1} km, private {private:.1} km, total {:.1} km\n",
        entries.len(),
        entries.iter().map(LogEntry::km).sum::<f64>()
    ));
    for d in deviations {
        out.push_str(&format!(
            "# avvik/deviation {} {} {:.1} km: {}\n",
            d.date, d.kind, d.km, d.note
        ));
    }
    out
}

/// The odometer at the end of each month in `entries` (Skatteetaten: the total is read at
/// least monthly): the last trip's end reading plus the private km driven after it.
pub fn odometer_readings(entries: &[LogEntry]) -> Vec<(time::Date, f64)> {
    let mut out: Vec<(time::Date, f64)> = Vec::new();
    let mut last: Option<(time::Date, f64)> = None;
    let month_end = |d: time::Date| {
        time::Date::from_calendar_date(
            d.year(),
            d.month(),
            time::util::days_in_month(d.month(), d.year()),
        )
        .unwrap_or(d)
    };
    for e in entries {
        let end = month_end(e.date());
        if let Some((m, km)) = last
            && m != end
        {
            out.push((m, km));
            last = None;
        }
        last = match (e, last) {
            (LogEntry::Trip(t), _) => t.odometer_end_km.map(|k| (end, k)).or(last),
            (LogEntry::Private(p), Some((m, km))) => Some((m, km + p.km)),
            (LogEntry::Unclassified(p), Some((m, km))) => Some((m, km + p.km)),
            (LogEntry::Private(_) | LogEntry::Unclassified(_), None) => None,
        };
    }
    out.extend(last);
    out
}
