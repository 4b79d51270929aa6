//! Printable reports. Sans-IO: values in, bytes out.
//!
//! [`driving_log_pdf`] renders the driving log (elektronisk kjørebok) of one vehicle for one
//! period as a PDF the driver can hand to the tax office: per trip the date, start and end time
//! (Norwegian local time), start and end place, odometer start and end, km, driver,
//! classification and purpose; private trips with their date and km only; totals; the monthly
//! odometer readings; the recorded deviations; and on every page the place-name attribution
//! and the statement that recorded distance, date and time cannot be changed.
//!
//! The PDF is written by the small writer in [`pdf`] (no PDF crate): standard Type1 fonts with
//! WinAnsi encoding, so Norwegian letters print without embedding a font.

mod csv;
mod drivinglog;
mod htmldoc;
mod metrics;
pub mod pdf;

pub use csv::{csv_field, driving_log_csv, odometer_readings, period};
pub use drivinglog::{DrivingLogReport, driving_log_pdf};
pub use htmldoc::html_document_pdf;

/// The language of a report. Bokmål unless asked otherwise.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Lang {
    #[default]
    Nb,
    En,
}

impl Lang {
    /// `nb` or `en` as the language asks.
    pub(crate) fn pick(self, nb: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Nb => nb,
            Lang::En => en,
        }
    }
}
