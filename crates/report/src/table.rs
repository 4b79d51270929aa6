//! One table model for the accountant's files, rendered three ways: CSV for Norwegian Excel,
//! RFC 4180 CSV for machines, and XLSX. Each export (trips, summary, deviations, tax year,
//! payroll) is built once as a [`Table`], so the three files cannot say different things.
//!
//! - **Excel (Norway)**: UTF-8 with a byte order mark (without it Excel reads the file as
//!   Windows-1252 and mangles æøå), `;` between fields (the list separator of a Norwegian
//!   Windows, because `,` is the decimal mark), decimal comma, dates `dd.mm.yyyy`, headings in
//!   the reader's language, and a text that starts with `=`, `+`, `-` or `@` prefixed with `'`
//!   so Excel does not run it as a formula.
//! - **RFC 4180**: `,` between fields, decimal point, ISO 8601 dates and times with their UTC
//!   offset, and stable English `snake_case` headings, for programs.
//!
//! Both end lines with CRLF (RFC 4180 §2) and quote a field holding the separator, a quote or
//! a line break. A distance is printed with one decimal, and a distance that rounds to zero is
//! `0,0`, never `-0,0`.

use domain::Timestamp;
use time::Date;

use crate::Lang;

/// Which CSV a file is written as.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Dialect {
    /// Semicolon, decimal comma, UTF-8 with BOM: what Norwegian Excel opens correctly.
    #[default]
    Excel,
    /// Comma, decimal point, ISO dates: RFC 4180, for machines.
    Rfc4180,
}

impl Dialect {
    /// `excel` or `rfc4180`.
    pub fn parse(s: &str) -> Result<Dialect, String> {
        match s {
            "excel" => Ok(Dialect::Excel),
            "rfc4180" => Ok(Dialect::Rfc4180),
            other => Err(format!(
                "a CSV dialect is excel (semicolon, decimal comma, for Norwegian Excel) or rfc4180 (comma, decimal point, for programs), not {other:?}"
            )),
        }
    }
}

/// One value in a table.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    /// A distance in km, shown with one decimal.
    Km(f64),
    Count(i64),
    Date(Date),
    /// A moment, shown in Norwegian local time (`HH:MM` for people, ISO 8601 for machines).
    Time(Timestamp),
    /// A moment with its date, in Norwegian local time.
    DateTime(Timestamp),
    Yes(bool),
    /// A value from a fixed vocabulary: its machine name for RFC 4180, its words for people.
    Word {
        key: String,
        nb: &'static str,
        en: &'static str,
    },
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        let s = s.into();
        if s.is_empty() {
            Cell::Empty
        } else {
            Cell::Text(s)
        }
    }

    pub fn opt_km(v: Option<f64>) -> Cell {
        v.map_or(Cell::Empty, Cell::Km)
    }

    pub fn word(key: &str, nb: &'static str, en: &'static str) -> Cell {
        Cell::Word {
            key: key.to_owned(),
            nb,
            en,
        }
    }

    pub fn count(n: usize) -> Cell {
        Cell::Count(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

/// A column: its heading in bokmål and English, and its machine name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    pub nb: &'static str,
    pub en: &'static str,
    /// The RFC 4180 heading: English `snake_case`, stable across releases.
    pub key: &'static str,
}

pub(crate) const fn col(nb: &'static str, en: &'static str, key: &'static str) -> Column {
    Column { nb, en, key }
}

/// A sheet of an export: a name, columns and rows.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// The sheet's name in bokmål and English (at most 31 characters: Excel's limit).
    pub name: (&'static str, &'static str),
    /// The file name stem (ASCII), e.g. `turer`.
    pub file: &'static str,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn sheet_name(&self, lang: Lang) -> &'static str {
        lang.pick(self.name.0, self.name.1)
    }

    /// The table as CSV text (the Excel dialect starts with a byte order mark).
    pub fn csv(&self, dialect: Dialect, lang: Lang) -> String {
        let sep = match dialect {
            Dialect::Excel => ';',
            Dialect::Rfc4180 => ',',
        };
        let mut out = String::new();
        if dialect == Dialect::Excel {
            out.push('\u{feff}');
        }
        let heads: Vec<String> = self
            .columns
            .iter()
            .map(|c| match dialect {
                Dialect::Excel => field(lang.pick(c.nb, c.en), sep),
                Dialect::Rfc4180 => field(c.key, sep),
            })
            .collect();
        out.push_str(&heads.join(&sep.to_string()));
        out.push_str("\r\n");
        for row in &self.rows {
            let cells: Vec<String> = (0..self.columns.len())
                .map(|i| {
                    let cell = row.get(i).unwrap_or(&Cell::Empty);
                    field(&csv_value(cell, dialect, lang), sep)
                })
                .collect();
            out.push_str(&cells.join(&sep.to_string()));
            out.push_str("\r\n");
        }
        out
    }
}

/// A field quoted when it holds the separator, a quote or a line break.
fn field(s: &str, sep: char) -> String {
    if s.contains([sep, '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// One decimal, `-0.0` folded to `0.0`; `None` for a value that is not a number.
pub(crate) fn km1(v: f64) -> Option<f64> {
    if !v.is_finite() {
        return None;
    }
    let r = (v * 10.0).round() / 10.0;
    Some(if r == 0.0 { 0.0 } else { r })
}

fn csv_value(cell: &Cell, dialect: Dialect, lang: Lang) -> String {
    match (cell, dialect) {
        (Cell::Empty, _) => String::new(),
        (Cell::Text(s), Dialect::Excel) if s.starts_with(['=', '+', '-', '@']) => {
            format!("'{s}")
        }
        (Cell::Text(s), _) => s.clone(),
        (Cell::Km(v), _) => match km1(*v) {
            None => String::new(),
            Some(v) => {
                let s = format!("{v:.1}");
                match dialect {
                    Dialect::Excel => s.replace('.', ","),
                    Dialect::Rfc4180 => s,
                }
            }
        },
        (Cell::Count(n), _) => n.to_string(),
        (Cell::Date(d), Dialect::Excel) => crate::drivinglog::fmt_date(*d, Lang::Nb),
        (Cell::Date(d), Dialect::Rfc4180) => d.to_string(),
        (Cell::Time(t), Dialect::Excel) => crate::drivinglog::clock(*t),
        (Cell::Time(t) | Cell::DateTime(t), Dialect::Rfc4180) => local_iso(*t),
        (Cell::DateTime(t), Dialect::Excel) => {
            format!(
                "{} {}",
                crate::drivinglog::fmt_date(trips::oslo_date(*t), Lang::Nb),
                crate::drivinglog::clock(*t)
            )
        }
        (Cell::Yes(b), Dialect::Excel) => match (b, lang) {
            (true, Lang::Nb) => "ja",
            (false, Lang::Nb) => "nei",
            (true, Lang::En) => "yes",
            (false, Lang::En) => "no",
        }
        .to_owned(),
        (Cell::Yes(b), Dialect::Rfc4180) => b.to_string(),
        (Cell::Word { key, .. }, Dialect::Rfc4180) => key.clone(),
        (Cell::Word { nb, en, .. }, Dialect::Excel) => lang.pick(nb, en).to_owned(),
    }
}

/// ISO 8601 in Norwegian local time with its offset, e.g. `2026-11-02T07:13:00+01:00`.
pub(crate) fn local_iso(t: Timestamp) -> String {
    let Some(utc) = t.to_offset_date_time() else {
        return String::new();
    };
    let l = utc.to_offset(trips::oslo_offset(t));
    let (h, m) = (
        l.offset().whole_hours(),
        l.offset().minutes_past_hour().abs(),
    );
    format!(
        "{}T{:02}:{:02}:{:02}{}{:02}:{:02}",
        l.date(),
        l.hour(),
        l.minute(),
        l.second(),
        if h < 0 { '-' } else { '+' },
        h.abs(),
        m
    )
}

/// The tables as one workbook, a sheet each, headings bold and frozen, in the reader's
/// language. Distances are numbers with one decimal, dates real dates.
pub fn xlsx(tables: &[&Table], lang: Lang) -> Result<Vec<u8>, String> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let km = Format::new().set_num_format("0.0");
    let date = Format::new().set_num_format("dd.mm.yyyy");
    let err = |e: rust_xlsxwriter::XlsxError| format!("writing the workbook: {e}");
    for t in tables {
        let sheet = book.add_worksheet();
        sheet.set_name(t.sheet_name(lang)).map_err(err)?;
        for (c, column) in t.columns.iter().enumerate() {
            let c = u16::try_from(c).map_err(|_| "too many columns".to_owned())?;
            sheet
                .write_string_with_format(0, c, lang.pick(column.nb, column.en), &bold)
                .map_err(err)?;
        }
        sheet.set_freeze_panes(1, 0).map_err(err)?;
        for (r, row) in t.rows.iter().enumerate() {
            let r = u32::try_from(r + 1).map_err(|_| "too many rows".to_owned())?;
            for (c, cell) in row.iter().enumerate() {
                let c = u16::try_from(c).map_err(|_| "too many columns".to_owned())?;
                match cell {
                    Cell::Empty => {}
                    Cell::Text(s) => {
                        sheet.write_string(r, c, s).map_err(err)?;
                    }
                    Cell::Km(v) => {
                        if let Some(v) = km1(*v) {
                            sheet.write_number_with_format(r, c, v, &km).map_err(err)?;
                        }
                    }
                    Cell::Count(n) => {
                        sheet.write_number(r, c, *n as f64).map_err(err)?;
                    }
                    Cell::Date(d) => {
                        let d = ExcelDateTime::from_ymd(
                            u16::try_from(d.year()).map_err(|_| "a date before year 0")?,
                            u8::from(d.month()),
                            d.day(),
                        )
                        .map_err(err)?;
                        sheet
                            .write_datetime_with_format(r, c, d, &date)
                            .map_err(err)?;
                    }
                    Cell::Time(t) => {
                        sheet
                            .write_string(r, c, crate::drivinglog::clock(*t))
                            .map_err(err)?;
                    }
                    Cell::DateTime(t) => {
                        let s = format!(
                            "{} {}",
                            crate::drivinglog::fmt_date(trips::oslo_date(*t), Lang::Nb),
                            crate::drivinglog::clock(*t)
                        );
                        sheet.write_string(r, c, s).map_err(err)?;
                    }
                    Cell::Word { nb, en, .. } => {
                        sheet.write_string(r, c, lang.pick(nb, en)).map_err(err)?;
                    }
                    Cell::Yes(b) => {
                        sheet
                            .write_string(
                                r,
                                c,
                                if *b {
                                    lang.pick("ja", "yes")
                                } else {
                                    lang.pick("nei", "no")
                                },
                            )
                            .map_err(err)?;
                    }
                }
            }
        }
        for c in 0..t.columns.len() {
            let c = u16::try_from(c).map_err(|_| "too many columns".to_owned())?;
            sheet.set_column_width(c, 14).map_err(err)?;
        }
    }
    book.save_to_buffer().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> Table {
        Table {
            name: ("Turer", "Trips"),
            file: "turer",
            columns: vec![col("Formål", "Purpose", "purpose"), col("Km", "Km", "km")],
            rows: vec![
                vec![Cell::text("Kunde; Tøyen \"Bygg\""), Cell::Km(-0.01)],
                vec![Cell::text("=SUM(A1)"), Cell::Km(1234.56)],
            ],
        }
    }

    #[test]
    fn excel_dialect() {
        let s = t().csv(Dialect::Excel, Lang::Nb);
        assert_eq!(
            s,
            "\u{feff}Formål;Km\r\n\"Kunde; Tøyen \"\"Bygg\"\"\";0,0\r\n'=SUM(A1);1234,6\r\n"
        );
    }

    #[test]
    fn rfc_dialect() {
        let s = t().csv(Dialect::Rfc4180, Lang::Nb);
        assert_eq!(
            s,
            "purpose,km\r\n\"Kunde; Tøyen \"\"Bygg\"\"\",0.0\r\n=SUM(A1),1234.6\r\n"
        );
    }

    #[test]
    fn local_iso_has_the_oslo_offset() {
        // 2026-07-01 10:00 UTC = 12:00 CEST; 2026-11-02 06:13 UTC = 07:13 CET.
        assert_eq!(
            local_iso(Timestamp::from_secs(1_782_900_000)),
            "2026-07-01T12:00:00+02:00"
        );
        assert_eq!(
            local_iso(Timestamp::from_secs(1_793_577_600 + 6 * 3600 + 13 * 60)),
            "2026-11-02T07:13:00+01:00"
        );
    }
}
