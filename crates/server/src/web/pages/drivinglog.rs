//! The log keeper's driving log (kjørebok) per vehicle and month: trips, deviations, sign-off
//! state, the keeper's signature, and CSV/PDF export.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use domain::RegNo;
use domain::drivinglog::{Classification, FollowUp, FollowUpTrip, LogEntry};
use maud::{Markup, html};

use super::super::data;
use super::super::i18n::{Lang, km, month_name};
use super::super::layout::Page;
use super::super::session::{Viewer, encode};
use super::super::{FormResult, Web, blocking};
use super::{failed, local};
use crate::ingest::now;
use crate::reads::DrivingLogPeriod as Log;
use ledger::Action;

#[derive(serde::Deserialize)]
pub struct LogQuery {
    vehicle: Option<String>,
    month: Option<String>,
    format: Option<String>,
    done: Option<String>,
}

/// The vehicle and month asked for, defaulting to the first vehicle and this month.
async fn load(
    state: &Web,
    viewer: &Viewer,
    q: &LogQuery,
    action: Action,
) -> Result<(Log, Vec<RegNo>), Response> {
    let (reads, v) = (state.reads.clone(), viewer.clone());
    let (vehicle, month) = (q.vehicle.clone(), q.month.clone());
    let r = blocking(move || -> Result<(Log, Vec<RegNo>), data::DataError> {
        let all = data::vehicles(&reads)?;
        let reg = match vehicle.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => RegNo::parse(s).map_err(|_| data::DataError::Invalid {
                nb: format!("«{s}» er ikke et registreringsnummer."),
                en: format!("“{s}” is not a registration number."),
            })?,
            None => all.first().cloned().ok_or_else(|| {
                data::invalid(
                    "Organisasjonen har ingen kjøretøy ennå.",
                    "The organisation has no vehicles yet.",
                )
            })?,
        };
        let month = month
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| data::this_month(now()));
        let log = data::driving_log(&reads, &v, &reg, &month, action)?;
        Ok((log, all))
    })
    .await?;
    r.map_err(|e| failed(viewer, e))
}

pub async fn page(State(state): State<Web>, viewer: Viewer, Query(q): Query<LogQuery>) -> Response {
    let (log, all) = match load(&state, &viewer, &q, Action::Read).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let lang = viewer.lang;
    // The keeper's follow-up lists for the month, over every vehicle (only for the keeper, so
    // that other viewers leave no refused read on the ledger).
    let lists = if viewer.holds(access::Role::LogKeeper) {
        let (reads, v, month) = (state.reads.clone(), viewer.clone(), log.period.clone());
        match blocking(move || data::followups(&reads, &v, &month)).await {
            Ok(Ok(l)) => Some(l),
            _ => None,
        }
    } else {
        None
    };
    Page::new(lang, lang.t("Kjørebok", "Driving log"))
        .path(format!(
            "/drivinglog?vehicle={}&month={}",
            encode(log.vehicle.as_str()),
            log.period
        ))
        .body(html! {
            (body(lang, &viewer, &log, &all, q.done.as_deref()))
            @if let Some(l) = &lists { (followups_card(lang, l)) }
        })
        .render(Some(&viewer))
}

/// The keeper's follow-up lists: trips outside working hours without a purpose, and trips
/// unclassified too long — vehicle, date and km only.
fn followups_card(lang: Lang, lists: &[FollowUpTrip]) -> Markup {
    let part =
        |why: FollowUp| -> Vec<&FollowUpTrip> { lists.iter().filter(|f| f.why == why).collect() };
    let outside = part(FollowUp::OutsideWorkingHoursWithoutPurpose);
    let late = part(FollowUp::UnclassifiedTooLong);
    let table = |id: &str, trips: &[&FollowUpTrip]| {
        html! {
            @if trips.is_empty() {
                p { (lang.t("Ingen.", "None.")) }
            } @else {
                div.scroll tabindex="0" { table id=(id) {
                    thead { tr {
                        th scope="col" { (lang.t("Dato", "Date")) }
                        th scope="col" { (lang.t("Bil", "Vehicle")) }
                        th.num scope="col" { "Km" }
                    } }
                    tbody { @for f in trips { tr {
                        td.nowrap { (f.trip.date) } td { (f.vehicle) } td.num { (km(lang, f.trip.km)) }
                    } } }
                } }
            }
        }
    };
    html! {
        section.card aria-labelledby="follow-h" {
            h2 #follow-h { (lang.t("Til oppfølging (alle biler)", "To follow up (all vehicles)")) }
            p.muted { (lang.t(
                "Forslag fra organisasjonens regler er ikke klassifiseringer: sjåføren bekrefter eller endrer dem. Her vises bare dato og km.",
                "The organisation's rules only propose; the driver confirms or changes. Only date and km are shown here.")) }
            h3 { (lang.t("Utenfor arbeidstid uten formål", "Outside working hours without a purpose")) " (" (outside.len()) ")" }
            (table("follow-outside", &outside))
            h3 { (lang.t("Uklassifisert for lenge", "Unclassified too long")) " (" (late.len()) ")" }
            (table("follow-late", &late))
        }
    }
}

fn body(lang: Lang, viewer: &Viewer, log: &Log, all: &[RegNo], done: Option<&str>) -> Markup {
    let month_label = data::month_bounds(&log.period)
        .map(|(d, _)| format!("{} {}", month_name(lang, d.month()), d.year()))
        .unwrap_or_else(|| log.period.clone());
    let total: f64 = log.entries.iter().map(LogEntry::km).sum();
    let business: f64 = log
        .entries
        .iter()
        .filter_map(|e| match e {
            LogEntry::Trip(t) if matches!(t.classification, Classification::Business { .. }) => {
                Some(t.km)
            }
            _ => None,
        })
        .sum();
    let driver_signed = log
        .signoffs
        .iter()
        .find(|(r, _, _)| *r == storage::SignRole::Driver);
    let keeper_signed = log
        .signoffs
        .iter()
        .find(|(r, _, _)| *r == storage::SignRole::Keeper);
    let q = format!(
        "vehicle={}&month={}",
        encode(log.vehicle.as_str()),
        log.period
    );
    html! {
        h1 { (lang.t("Kjørebok", "Driving log")) }
        p.lead { (lang.t(
            "Elektronisk kjørebok for skattemyndighetene. Private turer vises bare som dato og km; uklassifiserte turer bare som km til sjåføren har klassifisert dem. Registrert distanse, dato og tid kan ikke endres.",
            "The electronic driving log (kjørebok) for the tax authorities. Private trips show as date and km only; unclassified trips as km only until the driver classifies them. Recorded distance, date and time cannot be changed.")) }
        @if done == Some("signed") {
            p.notice role="status" { (lang.t("Måneden er signert.", "The month is signed.")) }
        }
        section.card {
            form.pick method="get" action="/drivinglog" {
                div {
                    label for="vehicle" { (lang.t("Bil", "Vehicle")) }
                    select #vehicle name="vehicle" {
                        @for r in all {
                            option value=(r.as_str()) selected[*r == log.vehicle] { (r) }
                        }
                    }
                }
                div {
                    label for="month" { (lang.t("Måned", "Month")) }
                    input #month type="month" name="month" value=(log.period);
                }
                button.primary type="submit" { (lang.t("Vis", "Show")) }
            }
        }
        section.card aria-labelledby="log-h" {
            h2 #log-h { (log.vehicle) " · " (month_label) }
            dl.totals {
                div { dt { (lang.t("Turer", "Trips")) } dd { (log.entries.len()) } }
                div { dt { (lang.t("Km totalt", "Total km")) } dd { (km(lang, total)) } }
                div { dt { (lang.t("Yrkeskjøring km", "Business km")) } dd { (km(lang, business)) } }
                div { dt { (lang.t("Signert", "Signed")) } dd {
                    @if keeper_signed.is_some() { span.badge.signed { (lang.t("ferdig", "done")) } }
                    @else if driver_signed.is_some() { span.badge.unclassified { (lang.t("av sjåfør", "by driver")) } }
                    @else { span.badge.unclassified { (lang.t("nei", "no")) } }
                } }
            }
            div.actions {
                a.button #export-pdf href={ "/drivinglog/export?" (q) "&format=pdf" } download { (lang.t("Eksporter PDF", "Export PDF")) }
                a.button #export-csv href={ "/drivinglog/export?" (q) "&format=csv" } download { (lang.t("Eksporter CSV", "Export CSV")) }
            }
            @if log.entries.is_empty() {
                p { (lang.t("Ingen turer i denne måneden.", "No trips in this month.")) }
            } @else {
                div.scroll tabindex="0" {
                    table #log-table {
                        thead { tr {
                            th scope="col" { (lang.t("Dato", "Date")) }
                            th scope="col" { (lang.t("Tid", "Time")) }
                            th scope="col" { (lang.t("Fra", "From")) }
                            th scope="col" { (lang.t("Til", "To")) }
                            th.num scope="col" { (lang.t("Km-stand", "Odometer")) }
                            th.num scope="col" { "Km" }
                            th scope="col" { (lang.t("Formål", "Purpose")) }
                        } }
                        tbody {
                            @for e in &log.entries { (row(lang, e)) }
                        }
                    }
                }
            }
        }
        section.card aria-labelledby="dev-h" {
            h2 #dev-h { (lang.t("Avvik", "Deviations")) }
            p.muted { (lang.t("Hull i sporingen (for eksempel at enheten var nede) registreres og skjules ikke.", "Gaps in tracking (for example the device being down) are recorded, not papered over.")) }
            @if log.deviations.is_empty() {
                p { (lang.t("Ingen avvik.", "No deviations.")) }
            } @else {
                div.scroll tabindex="0" { table {
                    thead { tr {
                        th scope="col" { (lang.t("Fra", "From")) }
                        th scope="col" { (lang.t("Til", "To")) }
                        th scope="col" { (lang.t("Hva", "What")) }
                        th.num scope="col" { "Km" }
                        th scope="col" { (lang.t("Merknad", "Note")) }
                    } }
                    tbody { @for d in &log.deviations { tr {
                        td { (local(d.from)) } td { (local(d.to)) } td { (d.kind) }
                        td.num { (km(lang, d.km)) } td { (d.note) }
                    } } }
                } }
            }
        }
        section.card aria-labelledby="sign-h" {
            h2 #sign-h { (lang.t("Signering", "Sign-off")) }
            ul {
                li { (lang.t("Sjåfør: ", "Driver: "))
                    @if let Some((_, by, at)) = driver_signed { (by) ", " (local(*at)) } @else { (lang.t("ikke signert", "not signed")) } }
                li { (lang.t("Kjørebokfører: ", "Log keeper: "))
                    @if let Some((_, by, at)) = keeper_signed { (by) ", " (local(*at)) } @else { (lang.t("ikke signert", "not signed")) } }
            }
            @if keeper_signed.is_none() && viewer.holds(access::Role::LogKeeper) {
                form method="post" action="/drivinglog/sign" {
                    input type="hidden" name="csrf" value=(viewer.csrf);
                    input type="hidden" name="vehicle" value=(log.vehicle.as_str());
                    input type="hidden" name="month" value=(log.period);
                    button.primary type="submit" disabled[driver_signed.is_none()] { (lang.t("Signer som kjørebokfører", "Sign as log keeper")) }
                }
                @if driver_signed.is_none() {
                    p.muted { (lang.t("Sjåføren signerer først.", "The driver signs first.")) }
                }
            }
        }
    }
}

fn row(lang: Lang, e: &LogEntry) -> Markup {
    match e {
        LogEntry::Private(p) => html! {
            tr.private { td { (p.date) } td colspan="4" { (lang.t("Privat tur", "Private trip")) } td.num { (km(lang, p.km)) } td { (lang.t("privat", "private")) } }
        },
        LogEntry::Unclassified(p) => html! {
            tr { td.nowrap { (p.date) } td colspan="4" { span.badge.unclassified { (lang.t("venter på sjåføren", "awaiting the driver")) } } td.num { (km(lang, p.km)) } td { "—" } }
        },
        LogEntry::Trip(t) => match &t.classification {
            // The keeper's view: an unclassified trip is km only until the driver classifies it.
            Classification::Unclassified => html! {
                tr { td { (t.date) } td colspan="4" { span.badge.unclassified { (lang.t("venter på sjåføren", "awaiting the driver")) } } td.num { (km(lang, t.km)) } td { "—" } }
            },
            Classification::Private => html! {
                tr.private { td { (t.date) } td colspan="4" { (lang.t("Privat tur", "Private trip")) } td.num { (km(lang, t.km)) } td { (lang.t("privat", "private")) } }
            },
            Classification::Business { purpose } => html! {
                tr {
                    td.nowrap { (t.date) }
                    td.nowrap { (data::clock(t.start)) "–" (data::clock(t.end)) }
                    td { (t.start_place) }
                    td { (t.end_place) }
                    td.num { @if let (Some(a), Some(b)) = (t.odometer_start_km, t.odometer_end_km) { (km(lang, a)) "–" (km(lang, b)) } }
                    td.num {
                        (km(lang, t.km))
                        // Measured by the GPS track: no vehicle odometer reading for this trip.
                        @if t.distance_source == "track" {
                            " " abbr title=(lang.t("målt etter GPS-sporet, ikke kilometertelleren", "measured by the GPS track, not the odometer")) { "GPS" }
                        }
                    }
                    td { (purpose) }
                }
            },
        },
    }
}

pub async fn export(
    State(state): State<Web>,
    viewer: Viewer,
    Query(q): Query<LogQuery>,
) -> Response {
    let (log, _) = match load(&state, &viewer, &q, Action::Export).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let pdf = q.format.as_deref() == Some("pdf");
    let name = format!(
        "kjorebok-{}-{}.{}",
        log.vehicle.as_str(),
        log.period,
        if pdf { "pdf" } else { "csv" }
    );
    let (content_type, bytes) = if pdf {
        ("application/pdf", log.pdf(viewer.lang.report()))
    } else {
        ("text/csv; charset=utf-8", log.csv().into_bytes())
    };
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

pub async fn sign(State(state): State<Web>, viewer: Viewer, form: FormResult) -> Response {
    let Ok(axum::Form(form)) = form else {
        return super::super::session::csrf_refused(viewer.lang);
    };
    if let Some(r) = viewer.check_csrf(&state.secret, &form) {
        return r;
    }
    let month = form.get("month").cloned().unwrap_or_default();
    let Ok(reg) = RegNo::parse(form.get("vehicle").map(String::as_str).unwrap_or("")) else {
        return failed(
            &viewer,
            data::invalid("Ukjent kjøretøy.", "Unknown vehicle."),
        );
    };
    let (reads, v, m, r2) = (
        state.reads.clone(),
        viewer.clone(),
        month.clone(),
        reg.clone(),
    );
    match blocking(move || data::sign_keeper(&reads, &v, &r2, &m)).await {
        Ok(Ok(())) => Redirect::to(&format!(
            "/drivinglog?vehicle={}&month={}&done=signed",
            encode(reg.as_str()),
            encode(&month)
        ))
        .into_response(),
        Ok(Err(e)) => failed(&viewer, e),
        Err(r) => r,
    }
}
