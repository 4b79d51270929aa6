//! Printable reports and the accountant's files. Sans-IO: values in, bytes out.
//!
//! [`driving_log_pdf`] renders the driving log (elektronisk kjørebok) of one vehicle for one
//! period as a PDF an auditor accepts: who drove (name and employee number), every trip with
//! every field in full (wrapped, never cut), private trips with their date and km only, totals
//! by type, the monthly odometer readings with the moment they were read, the deviations in
//! words, the signatures and what each confirmed, the statement that recorded distance, date
//! and time cannot be changed, page numbers and the place-name credit.
//!
//! The accountant's files are built once as [`Table`]s ([`accounts`]: trips, summary,
//! deviations, tax year per vehicle and per employee, payroll) and written as CSV for
//! Norwegian Excel or RFC 4180 CSV ([`Dialect`]), or as XLSX ([`xlsx`], on
//! `rust_xlsxwriter`). Their columns are documented in `docs/exports.md`.
//!
//! The PDF is written by the small writer in [`pdf`] (no PDF crate): the standard Type1
//! fonts with WinAnsi encoding, so æøå print without embedding a font.

pub mod accounts;
mod csv;
mod drivinglog;
mod htmldoc;
mod metrics;
mod model;
pub mod pdf;
mod table;
mod words;

pub use csv::{csv_field, period};
pub use domain::drivinglog::OdometerReading;
pub use drivinglog::driving_log_pdf;
pub use htmldoc::html_document_pdf;
pub use model::{DrivingLogReport, Person, Signature, Signer, Supplement, attribution, kind_label};
pub use table::{Cell, Column, Dialect, Table, xlsx};
pub use words::{deviation as deviation_words, distance_source, entry_type};

/// The language of a report. Bokmål unless asked otherwise.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Lang {
    #[default]
    Nb,
    En,
}

impl Lang {
    /// `nb` or `en` as the language asks.
    pub fn pick(self, nb: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Nb => nb,
            Lang::En => en,
        }
    }
}
