//! The period a month names, and the CSV field escaper other files share.

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
