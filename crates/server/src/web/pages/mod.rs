//! One module per role's page. Each handler: who is asking (`Viewer`), the data through
//! `super::data` (policy first, ledger second, data last), and the markup.

pub mod admin;
pub mod alarms;
pub mod assess;
pub mod drivinglog;
pub mod ledger;
pub mod me;
pub mod register;
pub mod stats;

use axum::http::StatusCode;
use axum::response::Response;

use super::data::DataError;
use super::layout;
use super::session::Viewer;
use crate::reads::ReadError;
use domain::changes::RefusalKind;

/// The page for a failed read or change: the policy's refusal as 403, a missing thing as 404,
/// a request that cannot be done as 400 with what to do instead.
pub fn failed(viewer: &Viewer, e: DataError) -> Response {
    let lang = viewer.lang;
    let cannot = |nb: &str, en: &str| {
        layout::error_page(
            lang,
            StatusCode::BAD_REQUEST,
            lang.t("Kan ikke gjøres slik", "Cannot be done like that"),
            lang.t(nb, en),
            Some(viewer),
        )
    };
    match e {
        DataError::Read(ReadError::Denied(d)) => {
            layout::refused(viewer, &d.message_nb(), &d.message_en())
        }
        DataError::Refused { nb, en } => layout::refused(viewer, &nb, &en),
        DataError::Read(ReadError::Refused(r)) => {
            let (status, title) = match r.kind {
                RefusalKind::NotFound => {
                    (StatusCode::NOT_FOUND, lang.t("Finnes ikke", "Not found"))
                }
                RefusalKind::NotYours => {
                    return layout::refused(viewer, &r.nb, &r.en);
                }
                RefusalKind::Conflict => (
                    StatusCode::CONFLICT,
                    lang.t("Kan ikke gjøres nå", "Cannot be done now"),
                ),
                RefusalKind::Invalid => (
                    StatusCode::BAD_REQUEST,
                    lang.t("Kan ikke gjøres slik", "Cannot be done like that"),
                ),
            };
            layout::error_page(lang, status, title, lang.t(&r.nb, &r.en), Some(viewer))
        }
        DataError::Read(ReadError::NotFound(what)) => layout::error_page(
            lang,
            StatusCode::NOT_FOUND,
            lang.t("Finnes ikke", "Not found"),
            &match lang {
                super::Lang::Nb => {
                    format!("Det du ba om finnes ikke, eller det er ikke ditt ({what}).")
                }
                super::Lang::En => {
                    format!("What you asked for does not exist, or is not yours ({what}).")
                }
            },
            Some(viewer),
        ),
        DataError::Read(ReadError::Invalid(why)) => cannot(&why, &why),
        DataError::Invalid { nb, en } => cannot(&nb, &en),
        DataError::Read(ReadError::Store(storage::StoreError::Refused(why)))
        | DataError::Store(storage::StoreError::Refused(why)) => layout::error_page(
            lang,
            StatusCode::CONFLICT,
            lang.t("Kan ikke gjøres nå", "Cannot be done now"),
            &why,
            Some(viewer),
        ),
        DataError::Read(ReadError::Audit(e)) => {
            tracing::error!(error = %e, "web: the ledger could not record an access");
            layout::error_page(
                lang,
                StatusCode::SERVICE_UNAVAILABLE,
                lang.t("Ingenting vises nå", "Nothing can be shown now"),
                lang.t(
                    "Revisjonsloggen kunne ikke føre dette innsynet, så ingenting vises. Prøv igjen om litt.",
                    "The audit ledger could not record this access, so nothing is shown. Try again in a moment.",
                ),
                Some(viewer),
            )
        }
        DataError::Read(ReadError::Store(e)) | DataError::Store(e) => super::unexpected(lang, e),
    }
}

/// A `YYYY-MM-DD HH:MM` in Oslo time.
pub fn local(t: domain::Timestamp) -> String {
    format!("{} {}", super::data::today(t), super::data::clock(t))
}

/// A short `DD.MM. HH:MM` in Oslo time, for narrow tables.
pub fn short(t: domain::Timestamp) -> String {
    let d = super::data::today(t);
    format!(
        "{:02}.{:02}. {}",
        d.day(),
        u8::from(d.month()),
        super::data::clock(t)
    )
}

/// `HH:MM:SS` in Oslo time.
pub fn clock_s(t: domain::Timestamp) -> String {
    t.to_offset_date_time()
        .map(|d| {
            let l = d.to_offset(trips::oslo_offset(t));
            format!("{:02}:{:02}:{:02}", l.hour(), l.minute(), l.second())
        })
        .unwrap_or_default()
}
