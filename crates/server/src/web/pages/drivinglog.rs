//! The log keeper's driving log (kjørebok) per vehicle and month: trips with their driver and
//! distance source, deviations in words, sign-off state, the keeper's signature, and the
//! downloads (PDF, CSV for Excel or RFC 4180, XLSX, ZIP; all vehicles for the month, the tax
//! year, the payroll file), each through `reads::exports`.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use domain::RegNo;
use domain::changes::{MonthStep, Review, StepKind};
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
use crate::reads::Who;
use crate::reads::exports::Format;
use ledger::Action;

#[derive(serde::Deserialize)]
pub struct LogQuery {
    vehicle: Option<String>,
    month: Option<String>,
    format: Option<String>,
    dialect: Option<String>,
    part: Option<String>,
    /// For `/drivinglog/accounts`: `fleet`, `tax-year` or `payroll`.
    what: Option<String>,
    done: Option<String>,
}

/// The vehicle and month asked for, defaulting to the first vehicle and this month.
async fn load(
    state: &Web,
    viewer: &Viewer,
    q: &LogQuery,
    action: Action,
) -> Result<(Log, Vec<RegNo>, Names), Response> {
    let (reads, v) = (state.reads.clone(), viewer.clone());
    let (vehicle, month) = (q.vehicle.clone(), q.month.clone());
    let r = blocking(
        move || -> Result<(Log, Vec<RegNo>, Names), data::DataError> {
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
            let org = reads.store().load_org()?;
            let names = Names {
                employees: org
                    .employees
                    .into_iter()
                    .map(|e| (e.number, e.name))
                    .collect(),
            };
            Ok((log, all, names))
        },
    )
    .await?;
    r.map_err(|e| failed(viewer, e))
}

/// Employee names by number: the organisation's configuration, so the table can name drivers.
pub struct Names {
    employees: Vec<(String, String)>,
}

impl Names {
    /// `Kari Nordmann (1001)`, or the number alone when the organisation does not name it.
    fn employee(&self, number: &str) -> String {
        match self.employees.iter().find(|(n, _)| n == number) {
            Some((n, name)) => format!("{name} ({n})"),
            None => number.to_owned(),
        }
    }
}

pub async fn page(State(state): State<Web>, viewer: Viewer, Query(q): Query<LogQuery>) -> Response {
    let (log, all, names) = match load(&state, &viewer, &q, Action::Read).await {
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
            (body(lang, &viewer, &log, &all, &names, q.done.as_deref()))
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

fn body(
    lang: Lang,
    viewer: &Viewer,
    log: &Log,
    all: &[RegNo],
    names: &Names,
    done: Option<&str>,
) -> Markup {
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
    let review = domain::changes::review(&log.signoffs);
    let q = format!(
        "vehicle={}&month={}",
        encode(log.vehicle.as_str()),
        log.period
    );
    // In date order, private trips among the others; within a day in the order recorded (a
    // private trip keeps no time to sort by).
    let mut entries: Vec<&LogEntry> = log.entries.iter().collect();
    entries.sort_by_key(|e| (e.date(), entry_id(e)));
    html! {
        h1 { (lang.t("Kjørebok", "Driving log")) }
        p.lead { (lang.t(
            "Elektronisk kjørebok for skattemyndighetene. Private turer vises bare som dato og km; uklassifiserte turer bare som km til sjåføren har klassifisert dem. Registrert distanse, dato og tid kan ikke endres.",
            "The electronic driving log (kjørebok) for the tax authorities. Private trips show as date and km only; unclassified trips as km only until the driver classifies them. Recorded distance, date and time cannot be changed.")) }
        @if done == Some("signed") {
            p.notice role="status" { (lang.t("Måneden er godkjent.", "The month is approved.")) }
        }
        @if done == Some("corrected") {
            p.notice role="status" { (lang.t("Sjåføren er rettet.", "The driver is corrected.")) }
        }
        @if done == Some("returned") {
            p.notice role="status" { (lang.t("Måneden er sendt tilbake til sjåføren.", "The month is returned to the driver.")) }
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
                    @match review {
                        Review::Approved(_) => { span.badge.signed { (lang.t("godkjent", "approved")) } }
                        Review::Submitted(_) => { span.badge.unclassified { (lang.t("venter på godkjenning", "awaiting approval")) } }
                        Review::Returned(_) => { span.badge.unclassified { (lang.t("sendt tilbake", "returned")) } }
                        Review::Open => { span.badge.unclassified { (lang.t("nei", "no")) } }
                    }
                } }
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
                            th scope="col" { (lang.t("Distansekilde", "Distance source")) }
                            th scope="col" { (lang.t("Sjåfør", "Driver")) }
                            th scope="col" { (lang.t("Formål", "Purpose")) }
                        } }
                        tbody {
                            @for e in &entries { (row(lang, e, names)) }
                        }
                    }
                }
            }
            (downloads(lang, &q, &log.period))
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
                        td.nowrap { (moment(lang, d.from)) } td.nowrap { (moment(lang, d.to)) }
                        td { (deviation(lang, &d.kind)) }
                        td.num { (km(lang, d.km)) } td { (d.note) }
                    } } }
                } }
            }
        }
        section.card aria-labelledby="driver-h" {
            h2 #driver-h { (lang.t("Rettet sjåfør", "Corrected drivers")) }
            p.muted { (lang.t(
                "En feil sjåfør rettes med et tillegg: den registrerte sjåføren, distansen, datoen og tiden står som før.",
                "A wrong driver is corrected by a supplement: the recorded driver, distance, date and time stay as they were.")) }
            @if log.driver_corrections.is_empty() {
                p { (lang.t("Ingen rettelser.", "No corrections.")) }
            } @else {
                ul.corrections {
                    @for c in &log.driver_corrections {
                        li {
                            (lang.t("Tur ", "Trip ")) (c.trip) ": "
                            (c.recorded.as_deref().unwrap_or("—")) " → " strong { (c.driver) }
                            " («" (c.reason) "», " (c.by) ", " (local(c.at)) ")"
                        }
                    }
                }
            }
            @if viewer.holds(access::Role::LogKeeper) && !matches!(review, Review::Approved(_)) {
                form.correct method="post" action="/drivinglog/driver" {
                    input type="hidden" name="csrf" value=(viewer.csrf);
                    input type="hidden" name="vehicle" value=(log.vehicle.as_str());
                    input type="hidden" name="month" value=(log.period);
                    label for="correct-trip" { (lang.t("Tur (nummer)", "Trip (number)")) }
                    input #correct-trip type="number" name="trip" min="1" required;
                    label for="correct-driver" { (lang.t("Riktig sjåfør (ansattnummer)", "Right driver (employee number)")) }
                    input #correct-driver type="text" name="driver" required;
                    label for="correct-reason" { (lang.t("Begrunnelse", "Reason")) }
                    input #correct-reason type="text" name="reason" required;
                    button type="submit" { (lang.t("Rett sjåfør", "Correct the driver")) }
                }
            }
        }
        section.card aria-labelledby="sign-h" {
            h2 #sign-h { (lang.t("Signering", "Sign-off")) }
            p.muted { (lang.t(
                "Sjåføren sender inn måneden når den er slutt og alle turene er klassifisert. Kjørebokføreren godkjenner den, eller sender den tilbake med en kommentar. Bare godkjenning gjør måneden endelig; etter det endres ingenting i den.",
                "The driver submits the month once it has ended and every trip is classified. The log keeper approves it, or returns it with a comment. Only approval makes the month final; after it nothing in it changes.")) }
            (steps(lang, &log.signoffs))
            @if matches!(review, Review::Submitted(_)) && viewer.holds(access::Role::LogKeeper) {
                form method="post" action="/drivinglog/sign" {
                    input type="hidden" name="csrf" value=(viewer.csrf);
                    input type="hidden" name="vehicle" value=(log.vehicle.as_str());
                    input type="hidden" name="month" value=(log.period);
                    button.primary type="submit" { (lang.t("Godkjenn som kjørebokfører", "Approve as log keeper")) }
                }
                form.return method="post" action="/drivinglog/return" {
                    input type="hidden" name="csrf" value=(viewer.csrf);
                    input type="hidden" name="vehicle" value=(log.vehicle.as_str());
                    input type="hidden" name="month" value=(log.period);
                    label for="return-comment" { (lang.t("Kommentar til sjåføren", "Comment to the driver")) }
                    textarea #return-comment name="comment" rows="2" required {}
                    button type="submit" { (lang.t("Send tilbake til sjåføren", "Return to the driver")) }
                }
            } @else if matches!(review, Review::Open | Review::Returned(_)) {
                p.muted { (lang.t("Sjåføren signerer først.", "The driver signs first.")) }
            }
        }
    }
}

/// A month's review steps, oldest first: who submitted, returned (with the comment) and
/// approved it, and when.
pub(super) fn steps(lang: Lang, steps: &[MonthStep]) -> Markup {
    html! {
        @if steps.is_empty() {
            p { (lang.t("Ikke signert.", "Not signed.")) }
        } @else {
            ul.steps {
                @for s in steps {
                    li {
                        (match s.kind {
                            StepKind::Submitted => lang.t("Signert og sendt inn av sjåføren ", "Signed and submitted by the driver "),
                            StepKind::Returned => lang.t("Sendt tilbake av kjørebokføreren ", "Returned by the log keeper "),
                            StepKind::Approved => lang.t("Godkjent av kjørebokføreren ", "Approved by the log keeper "),
                        })
                        strong { (s.by) } ", " (local(s.at))
                        @if let Some(c) = &s.comment { ": «" (c) "»" }
                    }
                }
            }
        }
    }
}

fn entry_id(e: &LogEntry) -> i64 {
    match e {
        LogEntry::Trip(t) => t.id,
        LogEntry::Private(p) => p.id,
        LogEntry::Unclassified(p) => p.id,
    }
}

/// A date as the page's language writes it.
fn date(lang: Lang, d: time::Date) -> String {
    match lang {
        Lang::Nb => format!("{:02}.{:02}.{}", d.day(), u8::from(d.month()), d.year()),
        Lang::En => d.to_string(),
    }
}

/// A moment in Norwegian time, its date as the page's language writes it.
fn moment(lang: Lang, t: domain::Timestamp) -> String {
    format!("{} {}", date(lang, data::today(t)), data::clock(t))
}

fn deviation(lang: Lang, kind: &str) -> &'static str {
    let (nb, en) = report::deviation_words(kind);
    lang.t(nb, en)
}

fn row(lang: Lang, e: &LogEntry, names: &Names) -> Markup {
    let private = |d: time::Date, v: f64| {
        html! {
            tr.private { td.nowrap { (date(lang, d)) } td colspan="4" { (lang.t("Privat tur", "Private trip")) } td.num { (km(lang, v)) } td {} td {} td { (lang.t("privat", "private")) } }
        }
    };
    let pending = |d: time::Date, v: f64| {
        html! {
            tr { td.nowrap { (date(lang, d)) } td colspan="4" { span.badge.unclassified { (lang.t("venter på sjåføren", "awaiting the driver")) } } td.num { (km(lang, v)) } td {} td {} td { "—" } }
        }
    };
    match e {
        LogEntry::Private(p) => private(p.date, p.km),
        LogEntry::Unclassified(p) => pending(p.date, p.km),
        LogEntry::Trip(t) => match &t.classification {
            // The keeper's view: an unclassified trip is km only until the driver classifies it.
            Classification::Unclassified => pending(t.date, t.km),
            Classification::Private => private(t.date, t.km),
            Classification::Business { purpose } => {
                let (src_nb, src_en) = report::distance_source(&t.distance_source);
                html! {
                    tr {
                        td.nowrap { (date(lang, t.date)) }
                        td.nowrap { (data::clock(t.start)) "–" (data::clock(t.end)) }
                        td { (t.start_place) }
                        td { (t.end_place) }
                        td.num { @if t.distance_source == "odometer" { @if let (Some(a), Some(b)) = (t.odometer_start_km, t.odometer_end_km) { (km(lang, a)) "–" (km(lang, b)) } } }
                        td.num { (km(lang, t.km)) }
                        td { (lang.t(src_nb, src_en)) }
                        td { @if let Some(d) = &t.driver { (names.employee(d)) } @else { "—" } }
                        td { (purpose) }
                    }
                }
            }
        },
    }
}

/// The download links: this vehicle's month in every format, then every vehicle's month,
/// the tax year and the payroll file.
fn downloads(lang: Lang, q: &str, month: &str) -> Markup {
    let one = |format: &str| format!("/drivinglog/export?{q}&format={format}");
    let acc = |what: &str, format: &str| {
        format!("/drivinglog/accounts?what={what}&month={month}&format={format}")
    };
    let year = month.get(..4).unwrap_or(month);
    html! {
        div.actions {
            a.button #export-pdf href=(one("pdf")) download { (lang.t("PDF", "PDF")) }
            a.button #export-csv href=(one("csv")) download title=(lang.t("Semikolon og desimalkomma, for norsk Excel", "Semicolon and decimal comma, for Norwegian Excel")) { (lang.t("CSV for Excel", "CSV for Excel")) }
            a.button #export-summary href={ (one("csv")) "&part=summary" } download { (lang.t("Sammendrag (CSV)", "Summary (CSV)")) }
            a.button #export-xlsx href=(one("xlsx")) download { "XLSX" }
            a.button #export-zip href=(one("zip")) download { (lang.t("Alt (ZIP)", "Everything (ZIP)")) }
            a.button #export-rfc href={ (one("csv")) "&dialect=rfc4180" } download title=(lang.t("Komma og desimalpunktum (RFC 4180), for programmer", "Comma and decimal point (RFC 4180), for programs")) { (lang.t("CSV for programmer", "CSV for programs")) }
        }
        h3 { (lang.t("For regnskap og lønn", "For accounts and payroll")) }
        div.actions {
            a.button #export-fleet href=(acc("fleet", "zip")) download { (lang.t("Alle kjøretøy denne måneden (ZIP)", "All vehicles this month (ZIP)")) }
            a.button #export-fleet-xlsx href=(acc("fleet", "xlsx")) download { (lang.t("Alle kjøretøy (XLSX)", "All vehicles (XLSX)")) }
            a.button #export-tax href={ "/drivinglog/accounts?what=tax-year&month=" (year) "&format=xlsx" } download { (lang.t("Skatteåret per kjøretøy og ansatt (XLSX)", "Tax year per vehicle and employee (XLSX)")) }
            a.button #export-payroll href={ "/drivinglog/accounts?what=payroll&month=" (year) "&format=csv" } download { (lang.t("Lønnsfil: privat km per ansatt og måned (CSV)", "Payroll file: private km per employee and month (CSV)")) }
        }
    }
}

/// A download made, or the page that says why not.
async fn deliver(
    viewer: &Viewer,
    r: Result<Result<crate::reads::exports::Download, crate::reads::ReadError>, Response>,
) -> Response {
    match r {
        Ok(Ok(d)) => (
            [
                (header::CONTENT_TYPE, d.content_type.to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{}\"", d.file_name),
                ),
            ],
            d.bytes,
        )
            .into_response(),
        Ok(Err(e)) => failed(viewer, data::DataError::Read(e)),
        Err(r) => r,
    }
}

fn format_of(q: &LogQuery, default: Format) -> Result<Format, data::DataError> {
    Format::parse(
        q.format.as_deref(),
        q.dialect.as_deref(),
        q.part.as_deref(),
        default,
    )
    .map_err(data::DataError::Read)
}

/// The viewer as the log keeper (or in their own first role, so a refusal is the real one).
fn keeper(viewer: &Viewer) -> Who {
    Who {
        user: viewer.user(),
        role: viewer.acting(access::Role::LogKeeper),
    }
}

pub async fn export(
    State(state): State<Web>,
    viewer: Viewer,
    Query(q): Query<LogQuery>,
) -> Response {
    let format = match format_of(&q, Format::Pdf) {
        Ok(f) => f,
        Err(e) => return failed(&viewer, e),
    };
    let month = q
        .month
        .clone()
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| data::this_month(now()));
    let Some(reg) = q.vehicle.clone().filter(|v| !v.trim().is_empty()) else {
        return failed(
            &viewer,
            data::invalid("Velg et kjøretøy.", "Choose a vehicle."),
        );
    };
    let (reads, who, lang) = (state.reads.clone(), keeper(&viewer), viewer.lang.report());
    let r =
        blocking(move || reads.driving_log_download(&who, None, &reg, &month, &format, lang)).await;
    deliver(&viewer, r).await
}

/// The log keeper's all-vehicle files: `what` is `fleet` (every vehicle's month), `tax-year`
/// (per vehicle and per employee) or `payroll` (private km per employee per month).
pub async fn accounts(
    State(state): State<Web>,
    viewer: Viewer,
    Query(q): Query<LogQuery>,
) -> Response {
    let format = match format_of(&q, Format::Xlsx) {
        Ok(f) => f,
        Err(e) => return failed(&viewer, e),
    };
    let month = q
        .month
        .clone()
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| data::this_month(now()));
    let what = q.what.clone().unwrap_or_default();
    let (reads, who, lang) = (state.reads.clone(), keeper(&viewer), viewer.lang.report());
    let r = blocking(move || match what.as_str() {
        "fleet" => reads.fleet_month_download(&who, None, &month, &format, lang),
        "tax-year" => reads.tax_year_download(&who, None, &month, &format, lang),
        "payroll" => reads.payroll_download(&who, None, &month, &format, lang),
        other => Err(crate::reads::ReadError::Invalid(format!(
            "what is fleet, tax-year or payroll, not {other:?}"
        ))),
    })
    .await;
    deliver(&viewer, r).await
}

pub async fn sign(State(state): State<Web>, viewer: Viewer, form: FormResult) -> Response {
    step(state, viewer, form, StepKind::Approved).await
}

pub async fn return_month(State(state): State<Web>, viewer: Viewer, form: FormResult) -> Response {
    step(state, viewer, form, StepKind::Returned).await
}

/// The keeper corrects a trip's driver, through the changes door.
pub async fn correct_driver(
    State(state): State<Web>,
    viewer: Viewer,
    form: FormResult,
) -> Response {
    let Ok(axum::Form(form)) = form else {
        return super::super::session::csrf_refused(viewer.lang);
    };
    if let Some(r) = viewer.check_csrf(&state.secret, &form) {
        return r;
    }
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let (vehicle, month, driver, reason) =
        (get("vehicle"), get("month"), get("driver"), get("reason"));
    let Ok(trip) = get("trip").trim().parse::<i64>() else {
        return failed(
            &viewer,
            data::invalid("Skriv turens nummer.", "Write the trip's number."),
        );
    };
    let (reads, v) = (state.reads.clone(), viewer.clone());
    match blocking(move || data::correct_driver(&reads, &v, trip, &driver, &reason)).await {
        Ok(Ok(())) => Redirect::to(&format!(
            "/drivinglog?vehicle={}&month={}&done=corrected#driver-h",
            encode(&vehicle),
            encode(&month)
        ))
        .into_response(),
        Ok(Err(e)) => failed(&viewer, e),
        Err(r) => r,
    }
}

/// The keeper approves or returns a month, through the changes door.
async fn step(state: Web, viewer: Viewer, form: FormResult, kind: StepKind) -> Response {
    let Ok(axum::Form(form)) = form else {
        return super::super::session::csrf_refused(viewer.lang);
    };
    if let Some(r) = viewer.check_csrf(&state.secret, &form) {
        return r;
    }
    let month = form.get("month").cloned().unwrap_or_default();
    let comment = form.get("comment").cloned().unwrap_or_default();
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
    let done = match kind {
        StepKind::Returned => "returned",
        _ => "signed",
    };
    match blocking(move || match kind {
        StepKind::Returned => data::return_keeper(&reads, &v, &r2, &m, &comment),
        _ => data::sign_keeper(&reads, &v, &r2, &m),
    })
    .await
    {
        Ok(Ok(())) => Redirect::to(&format!(
            "/drivinglog?vehicle={}&month={}&done={done}",
            encode(reg.as_str()),
            encode(&month)
        ))
        .into_response(),
        Ok(Err(e)) => failed(&viewer, e),
        Err(r) => r,
    }
}
