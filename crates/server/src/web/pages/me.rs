//! The driver's «Mine data»: the privacy switch, this month's trips to classify, the month's
//! sign-off, the tax thresholds, who looked at my data, and my copy of it.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use domain::changes::Review;
use domain::drivinglog::{Classification, LogEntry};
use maud::{Markup, html};

use super::super::data::{self, Own};
use super::super::i18n::{Lang, action_name, count, km, month_name, purpose_name, role_name};
use super::super::layout::Page;
use super::super::session::Viewer;
use super::super::{FormResult, Web, blocking};
use super::{failed, local, short};
use crate::ingest::now;

#[derive(serde::Deserialize)]
pub struct Flash {
    done: Option<String>,
    /// `YYYY-MM`: the month whose trips are shown (this month by default).
    month: Option<String>,
}

pub async fn page(State(state): State<Web>, viewer: Viewer, Query(f): Query<Flash>) -> Response {
    let (reads, v, month) = (state.reads.clone(), viewer.clone(), f.month.clone());
    let own = match blocking(move || data::own(&reads, &v, now(), month.as_deref())).await {
        Ok(Ok(own)) => own,
        Ok(Err(e)) => return failed(&viewer, e),
        Err(r) => return r,
    };
    let (reads, v) = (state.reads.clone(), viewer.clone());
    let notices = match blocking(move || data::notices(&reads, &v, now())).await {
        Ok(Ok(n)) => n,
        Ok(Err(e)) => return failed(&viewer, e),
        Err(r) => return r,
    };
    let sites: Vec<String> = match blocking({
        let store = state.reads.store().clone();
        move || {
            store
                .load_org()
                .map(|o| o.sites.into_iter().map(|s| s.name))
        }
    })
    .await
    {
        Ok(Ok(s)) => s.collect(),
        _ => Vec::new(),
    };
    let lang = viewer.lang;
    Page::new(lang, lang.t("Mine data", "My data"))
        .path(&match &f.month {
            Some(m) => format!("/me?month={m}"),
            None => "/me".to_owned(),
        })
        .body(body(
            lang,
            &viewer,
            &own,
            &notices,
            &sites,
            f.done.as_deref(),
        ))
        .render(Some(&viewer))
}

fn flash(lang: Lang, done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "privacy_on" => lang.t("Privatmodus er slått på.", "Privacy mode is on."),
        "privacy_off" => lang.t("Privatmodus er slått av.", "Privacy mode is off."),
        "classified" => lang.t("Turen er klassifisert.", "The trip is classified."),
        "signed" => lang.t("Måneden er signert.", "The month is signed."),
        "acknowledged" => lang.t(
            "Takk: det er registrert at du har lest informasjonen.",
            "Thank you: it is recorded that you have read the information.",
        ),
        _ => return None,
    })
}

fn body(
    lang: Lang,
    viewer: &Viewer,
    own: &Own,
    notices: &[data::NoticeToRead],
    sites: &[String],
    done: Option<&str>,
) -> Markup {
    let month_label = data::month_bounds(&own.month)
        .map(|(d, _)| format!("{} {}", month_name(lang, d.month()), d.year()))
        .unwrap_or_else(|| own.month.clone());
    let unclassified = own
        .trips
        .iter()
        .filter(|(_, e)| matches!(e, LogEntry::Trip(t) if t.classification == Classification::Unclassified))
        .count();
    let review = domain::changes::review(&own.signoffs);
    // Trips change only while the month is with the driver (open, or returned).
    let locked = matches!(review, Review::Submitted(_) | Review::Approved(_));
    html! {
        h1 { (lang.t("Mine data", "My data")) }
        p.lead {
            @if let Some(n) = &own.employee_name { (n) " · " }
            (lang.t("ansattnummer ", "employee number ")) (own.employee)
            @if let Some(reg) = &own.vehicle {
                " · " (lang.t("bil i dag: ", "vehicle today: ")) strong { (reg) }
            }
        }
        @if let Some(msg) = flash(lang, done) {
            p.notice role="status" { (msg) }
        }

        // The privacy switch, big and first.
        section.card.privacy.(if own.private_now { "on" } else { "off" }) aria-labelledby="privacy-h" {
            h2 #privacy-h { (lang.t("Privatmodus", "Privacy mode")) }
            p.explain { (lang.t(
                "Når privatmodus er på, forsvinner bilen fra flåtekartet, og turen føres i kjøreboken som privat: bare dato og kilometer.",
                "When privacy mode is on, the vehicle disappears from the fleet map, and the trip is kept in the driving log as private: only the date and the kilometres.")) }
            @if own.vehicle.is_some() {
                form method="post" action="/me/privacy" {
                    input type="hidden" name="csrf" value=(viewer.csrf);
                    input type="hidden" name="on" value=(if own.private_now { "0" } else { "1" });
                    button #privacy-toggle.toggle type="submit" aria-pressed=(own.private_now) {
                        span.knob aria-hidden="true" {}
                        span.label {
                            @if own.private_now {
                                (lang.t("Privatmodus er PÅ — trykk for å slå av", "Privacy mode is ON — press to switch off"))
                            } @else {
                                (lang.t("Privatmodus er AV — trykk for å slå på", "Privacy mode is OFF — press to switch on"))
                            }
                        }
                    }
                }
            } @else {
                p.muted { (lang.t("Du har ingen bil tildelt i dag, så det er ingenting å skru av.", "No vehicle is assigned to you today, so there is nothing to switch off.")) }
            }
        }

        @let unread: Vec<&data::NoticeToRead> = notices.iter().filter(|n| n.acknowledged_on.is_none()).collect();
        @if !notices.is_empty() {
            section.card.notices aria-labelledby="notices-h" {
                h2 #notices-h { (lang.t("Informasjon fra arbeidsgiveren", "Information from your employer")) }
                p.muted { (lang.t(
                    "Før et kontrolltiltak tas i bruk, skal du få vite formålet, hvordan det gjøres, hva det betyr for deg og hvor lenge det varer (arbeidsmiljøloven § 9-2). Les og bekreft.",
                    "Before a monitoring measure (kontrolltiltak) starts, you are to be told its purpose, how it is done, what it means for you and how long it lasts (arbeidsmiljøloven § 9-2). Read and acknowledge.")) }
                @if !unread.is_empty() {
                    p.alert { (count(lang, unread.len(), ("skriv", "skriv"), ("notice", "notices"))) (lang.t(" venter på at du leser dem.", " waiting for you to read them.")) }
                }
                ul.looked {
                    @for n in notices {
                        li.notice-item {
                            div.what { (n.name) }
                            div.actions {
                                a.button href={ "/me/notice/" (n.measure) } { (lang.t("Les", "Read")) }
                                @if let Some(on) = n.acknowledged_on {
                                    span.badge.signed { (lang.t("Bekreftet ", "Acknowledged ")) (on) }
                                } @else {
                                    form method="post" action={ "/me/notice/" (n.measure) "/ack" } {
                                        input type="hidden" name="csrf" value=(viewer.csrf);
                                        button.primary type="submit" { (lang.t("Jeg har lest informasjonen", "I have read the information")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }

        section.card aria-labelledby="trips-h" {
            h2 #trips-h { (lang.t("Turene mine i ", "My trips in ")) (month_label) }
            @if let Some(prev) = &own.previous_unsigned {
                p.alert {
                    (lang.t("Forrige måned er ikke signert ennå. ", "Last month is not signed yet. "))
                    a href={ "/me?month=" (prev) "#trips-h" } { (lang.t("Gå til forrige måned", "Go to last month")) }
                }
            }
            nav.months aria-label=(lang.t("Velg måned", "Choose month")) {
                @if let Some(prev) = data::previous_month(&own.month) {
                    a #month-prev href={ "/me?month=" (prev) "#trips-h" } { "← " (lang.t("Forrige måned", "Previous month")) }
                }
                @if !own.current {
                    " · " a #month-now href="/me#trips-h" { (lang.t("Denne måneden", "This month")) }
                }
            }
            p.muted {
                (lang.t("Kjøreboken (elektronisk kjørebok", "The driving log (elektronisk kjørebok"))
                (lang.t(") trenger å vite om hver tur var yrkeskjøring eller privat. Skriv formål eller kunde og trykk «Jobb», eller trykk «Privat».",
                        ") needs to know whether each trip was business or private. Write the purpose or customer and press “Business”, or press “Private”."))
                @if unclassified > 0 {
                    " " strong { (unclassified) " " (match (lang, unclassified) {
                        (Lang::Nb, 1) => "tur venter.",
                        (Lang::Nb, _) => "turer venter.",
                        (Lang::En, 1) => "trip is waiting.",
                        (Lang::En, _) => "trips are waiting.",
                    }) }
                }
            }
            datalist #purposes {
                @for s in sites { option value=(s) {} }
            }
            @if own.trips.is_empty() {
                p { (lang.t("Ingen turer denne måneden.", "No trips this month.")) }
            }
            ol.trips {
                @for (reg, e) in own.trips.iter().rev() {
                    (trip(lang, viewer, reg, e, locked, own.proposals.iter().find(|(id, _)| *id == e.id()).map(|(_, p)| p)))
                }
            }
        }

        section.card aria-labelledby="sign-h" {
            h2 #sign-h { (lang.t("Signer måneden", "Sign the month")) }
            @match review {
                Review::Approved(a) => {
                    p.ok { (lang.t("Kjørebokføreren godkjente ", "The log keeper approved ")) (month_label) " (" (a.by) ", " (local(a.at)) "). "
                        (lang.t("Måneden er endelig.", "The month is final.")) }
                }
                Review::Submitted(s) => {
                    p.ok { (lang.t("Du signerte ", "You signed ")) (month_label) " (" (s.by) ", " (local(s.at)) ") "
                        (lang.t("og sendte den til kjørebokføreren, som godkjenner den eller sender den tilbake.", "and submitted it to the log keeper, who approves it or returns it.")) }
                }
                Review::Returned(r) => {
                    p.alert role="alert" { (lang.t("Kjørebokføreren sendte måneden tilbake: ", "The log keeper returned the month: "))
                        "«" (r.comment.as_deref().unwrap_or_default()) "» (" (r.by) ", " (local(r.at)) ")" }
                }
                Review::Open => {}
            }
            @if matches!(review, Review::Open | Review::Returned(_)) && own.month_vehicle.is_some() {
                @if own.current {
                    p { (lang.t(
                        "Når måneden er slutt og alle turene er klassifisert, signerer du den og sender den til kjørebokføreren. Den kan signeres fra ",
                        "Once the month has ended and every trip is classified, you sign it and submit it to the log keeper. It can be signed from "))
                        (domain::changes::Month::parse(&own.month).map(|m| m.next_first_day().to_string()).unwrap_or_default()) "." }
                } @else if own.trips.is_empty() {
                    p.muted { (lang.t("Ingen turer i måneden: det er ingenting å signere.", "No trips in the month: there is nothing to sign.")) }
                } @else {
                    p { (lang.t(
                        "Når alle turene er klassifisert, signerer du måneden og sender den til kjørebokføreren. Bare kjørebokførerens godkjenning gjør den endelig.",
                        "Once every trip is classified, you sign the month and submit it to the log keeper. Only the log keeper's approval makes it final.")) }
                    form method="post" action="/me/sign" {
                        input type="hidden" name="csrf" value=(viewer.csrf);
                        input type="hidden" name="month" value=(own.month);
                        button.primary type="submit" disabled[unclassified > 0] {
                            (lang.t("Signer ", "Sign ")) (month_label)
                        }
                    }
                    @if unclassified > 0 {
                        p.muted { (lang.t("Klassifiser de ventende turene først.", "Classify the waiting trips first.")) }
                    }
                }
            }
            (super::drivinglog::steps(lang, &own.signoffs))
        }

        section.card aria-labelledby="tax-h" {
            h2 #tax-h { (lang.t("Skattegrenser i år", "Tax thresholds this year")) }
            p.muted { (lang.t(
                "Privat bruk av firmabil er «enkeltstående» bare når den er høyst 10 dager og 1 000 km i året (begge). Over 40 000 km yrkeskjøring senker verdsettelsen bare når en elektronisk kjørebok dokumenterer det.",
                "Private use of a company car counts as occasional only when it is at most 10 days and 1,000 km a year (both). Over 40,000 km of business driving lowers the valuation only when an electronic driving log documents it.")) }
            dl.totals {
                div { dt { (lang.t("Private dager", "Private days")) } dd { (own.year.private_days) " / 10" } }
                div { dt { (lang.t("Privat km", "Private km")) } dd { (km(lang, own.year.private_km)) " / " (lang.t("1 000", "1,000")) } }
                div { dt { (lang.t("Yrkeskjøring km", "Business km")) } dd { (km(lang, own.year.business_km)) } }
                div { dt { (lang.t("Uklassifisert km", "Unclassified km")) } dd { (km(lang, own.year.unclassified_km)) } }
            }
            @for n in &own.notices {
                p.alert role="alert" { (lang.t(&n.nb, &n.en)) }
            }
        }

        section.card aria-labelledby="held-h" {
            h2 #held-h { (lang.t("Dette er lagret om meg", "What is held about me")) }
            dl.held {
                div {
                    dt { (lang.t("Kjørebok", "Driving log (kjørebok)")) }
                    dd { (count(lang, own.year_trips, ("tur", "turer"), ("trip", "trips"))) (lang.t(" i år, ", " this year, ")) (km(lang, own.year_km)) " km. "
                        (lang.t("Private turer bare som dato og km. Tas vare på ut regnskapsåret + 5 år (bokføringsloven § 13).",
                                "Private trips as date and km only. Kept to the end of the fiscal year + 5 years (bokføringsloven § 13).")) }
                }
                div {
                    dt { (lang.t("Privatmodus", "Privacy mode")) }
                    dd {
                        (count(lang, own.privacy_switches.len(), ("bryting", "brytinger"), ("switch", "switches")))
                        @if let Some((v, at, on, source)) = own.privacy_switches.first() {
                            (lang.t("; sist ", "; latest ")) (short(*at)) " " (v) ": "
                            (if *on { lang.t("på", "on") } else { lang.t("av", "off") }) " (" (source) ")"
                        }
                        "."
                    }
                }
                div {
                    dt { (lang.t("Sikkerhet (alarm)", "Security (alarm)")) }
                    dd {
                        (count(lang, own.alarm_windows.len(), ("alarmvindu", "alarmvinduer"), ("alarm window", "alarm windows"))) (lang.t(" på bilene mine", " on my vehicles"))
                        @if let Some(w) = own.alarm_windows.first() {
                            (lang.t("; sist ", "; latest ")) (short(w.opened_at)) " (" (super::super::i18n::triggers(lang, &w.triggers)) ")"
                        }
                        ". " (lang.t("Posisjoner lagres bare i et alarmvindu.", "Positions are kept only inside an alarm window."))
                    }
                }
                div {
                    dt { (lang.t("Flåtestyring", "Fleet view (flåtestyring)")) }
                    dd { (lang.t("Ingenting lagres: bare siste posisjon, i minnet, og ikke i privatmodus.", "Nothing is stored: only the latest position, in memory, and not in privacy mode.")) }
                }
                div {
                    dt { (lang.t("Rasjonalisering", "Utilisation (rasjonalisering)")) }
                    dd { (lang.t("Bare anonyme tall for en gruppe på minst 5 biler; ingenting om deg alene.", "Only anonymous figures for a group of at least 5 vehicles; nothing about you alone.")) }
                }
            }
        }

        section.card aria-labelledby="looked-h" {
            h2 #looked-h { (lang.t("Hvem har sett dataene mine", "Who looked at my data")) }
            p.muted { (lang.t(
                "Hvert innsyn i opplysninger om deg føres i revisjonsloggen: hvem, når, i hvilken rolle og til hvilket formål — også forsøk som ble avvist.",
                "Every access to data about you is recorded in the audit ledger: who, when, in which role and for which purpose — refused attempts too.")) }
            @if own.looked.is_empty() {
                p { (lang.t("Ingen oppføringer ennå.", "No entries yet.")) }
            } @else {
                ul.looked {
                    @for e in &own.looked {
                        li.(if e.entry.action == ledger::Action::Denied { "denied" } else { "" }) {
                            div.when {
                                (short(domain::Timestamp::from_millis(e.entry.at_ms))) " · "
                                strong { (e.entry.actor) } " ("
                                (access::Role::parse(&e.entry.role).map(|r| role_name(lang, r)).unwrap_or(&e.entry.role))
                                ") · " (purpose_name(lang, &e.entry.purpose))
                            }
                            div.what {
                                (action_name(lang, e.entry.action)) ": " (e.entry.object)
                                @if e.entry.outcome.starts_with("refused") {
                                    " — " (lang.t("avvist", "refused")) (e.entry.outcome.trim_start_matches("refused"))
                                } @else if e.entry.outcome.starts_with("failed") {
                                    " — " (lang.t("mislyktes", "failed"))
                                }
                            }
                        }
                    }
                }
            }
        }

        section.card aria-labelledby="export-h" {
            h2 #export-h { (lang.t("Kopi av dataene mine", "A copy of my data")) }
            p { (lang.t(
                "Du har rett til innsyn i og en kopi av alt som er lagret om deg (personvernforordningen art. 15 og 20).",
                "You have the right to see and copy everything held about you (GDPR art. 15 and 20).")) }
            a.button #export-mine href="/me/export.zip" download { (lang.t("Last ned alt om meg (ZIP med JSON og CSV)", "Download everything about me (ZIP of JSON and CSV)")) }
        }
    }
}

fn trip(
    lang: Lang,
    viewer: &Viewer,
    reg: &str,
    e: &LogEntry,
    locked: bool,
    proposal: Option<&org::classify::Proposal>,
) -> Markup {
    match e {
        LogEntry::Unclassified(p) => html! {
            li.trip.unclassified {
                div.when { (p.date) " · " (reg) }
                div.what { (km(lang, p.km)) " km" }
            }
        },
        LogEntry::Private(p) => html! {
            li.trip.private {
                div.when { (p.date) " · " (reg) }
                div.what { (lang.t("Privat tur", "Private trip")) " · " (km(lang, p.km)) " km" }
                div.state { span.badge.private { (lang.t("Privat", "Private")) } }
            }
        },
        LogEntry::Trip(t) => {
            let id = t.id;
            let form = html! {
                form.classify method="post" action={ "/me/trips/" (id) } {
                    input type="hidden" name="csrf" value=(viewer.csrf);
                    input type="hidden" name="month" value={ (t.date.year()) "-" (format!("{:02}", u8::from(t.date.month()))) };
                    label.sr for={ "purpose-" (id) } { (lang.t("Formål eller kunde", "Purpose or customer")) }
                    input id={ "purpose-" (id) } type="text" name="purpose" list="purposes"
                        placeholder=(lang.t("Formål eller kunde", "Purpose or customer"))
                        value=(match (&t.classification, proposal) {
                            (Classification::Business { purpose }, _) => purpose.as_str(),
                            (_, Some(p)) => p.purpose.as_deref().unwrap_or(""),
                            _ => "",
                        });
                    div.choice {
                        button.business type="submit" name="class" value="business" { (lang.t("Jobb", "Business")) }
                        button.private type="submit" name="class" value="private" { (lang.t("Privat", "Private")) }
                    }
                }
            };
            html! {
                li.trip.(t.classification.as_str()) id={ "trip-" (id) } {
                    div.when { (t.date) " " (data::clock(t.start)) "–" (data::clock(t.end)) " · " (reg) }
                    div.what { (t.start_place) " → " (t.end_place) " · " (km(lang, t.km)) " km" }
                    @match &t.classification {
                        Classification::Unclassified => {
                            // The rules' proposal: the driver confirms it or chooses otherwise.
                            @if let Some(p) = proposal {
                                p.proposal {
                                    (lang.t("Forslag: ", "Proposed: "))
                                    strong { @match p.class {
                                        org::classify::RuleClass::Business => (lang.t("jobb", "business")),
                                        org::classify::RuleClass::Private => (lang.t("privat", "private")),
                                    } }
                                    @if let Some(purpose) = &p.purpose { " · " (purpose) }
                                    " (" (p.rule.describe(lang == Lang::En)) ")"
                                }
                            }
                            @if locked { p.muted { (lang.t("Måneden er låst.", "The month is locked.")) } } @else { (form) }
                        }
                        Classification::Business { purpose } => {
                            div.state { span.badge.business { (lang.t("Jobb", "Business")) } " " (purpose) }
                            @if !locked { details { summary { (lang.t("Endre", "Change")) } (form) } }
                        }
                        Classification::Private => {
                            div.state { span.badge.private { (lang.t("Privat", "Private")) } }
                            @if !locked { details { summary { (lang.t("Endre", "Change")) } (form) } }
                        }
                    }
                }
            }
        }
    }
}

pub(super) async fn act<T: Send + 'static>(
    state: &Web,
    viewer: &Viewer,
    form: FormResult,
    f: impl FnOnce(
        &crate::reads::Reads,
        &Viewer,
        &std::collections::HashMap<String, String>,
    ) -> Result<T, data::DataError>
    + Send
    + 'static,
) -> Result<T, Response> {
    let Ok(axum::Form(form)) = form else {
        return Err(super::super::session::csrf_refused(viewer.lang));
    };
    if let Some(r) = viewer.check_csrf(&state.secret, &form) {
        return Err(r);
    }
    let (reads, v) = (state.reads.clone(), viewer.clone());
    match blocking(move || f(&reads, &v, &form)).await? {
        Ok(t) => Ok(t),
        Err(e) => Err(failed(viewer, e)),
    }
}

pub async fn privacy(State(state): State<Web>, viewer: Viewer, form: FormResult) -> Response {
    let r = act(&state, &viewer, form, |reads, v, form| {
        let on = form.get("on").map(String::as_str) == Some("1");
        let vehicle = form
            .get("vehicle")
            .map(String::as_str)
            .filter(|s| !s.is_empty());
        data::switch_privacy(reads, v, vehicle, on).map(|_| on)
    })
    .await;
    match r {
        Ok(true) => Redirect::to("/me?done=privacy_on").into_response(),
        Ok(false) => Redirect::to("/me?done=privacy_off").into_response(),
        Err(r) => r,
    }
}

pub async fn classify(
    State(state): State<Web>,
    viewer: Viewer,
    Path(id): Path<i64>,
    form: FormResult,
) -> Response {
    let r = act(&state, &viewer, form, move |reads, v, form| {
        let class = match form.get("class").map(String::as_str) {
            Some("private") => Classification::Private,
            Some("business") => Classification::Business {
                purpose: form
                    .get("purpose")
                    .map(|p| p.trim().to_owned())
                    .unwrap_or_default(),
            },
            _ => {
                return Err(data::invalid(
                    "Velg «Jobb» eller «Privat».",
                    "Choose “Business” or “Private”.",
                ));
            }
        };
        // Private erases the trip's places, times and readings for good: asked first.
        if class == Classification::Private
            && form.get("confirm").map(String::as_str) != Some("yes")
        {
            return Ok(Classified::Confirm(form.get("month").cloned()));
        }
        data::classify(reads, v, id, &class)?;
        Ok(Classified::Done(month_query(form)))
    })
    .await;
    match r {
        Ok(Classified::Done(month)) => {
            Redirect::to(&format!("/me?done=classified{month}#trip-{id}")).into_response()
        }
        Ok(Classified::Confirm(month)) => confirm_private(&viewer, id, month.as_deref()),
        Err(r) => r,
    }
}

enum Classified {
    Done(String),
    /// The driver is asked to confirm a private classification (the month shown).
    Confirm(Option<String>),
}

/// What classifying a trip private erases, asked before it is done.
fn confirm_private(viewer: &Viewer, id: i64, month: Option<&str>) -> Response {
    let lang = viewer.lang;
    let back = match month.filter(|m| data::month_bounds(m).is_some()) {
        Some(m) => format!("/me?month={m}#trip-{id}"),
        None => format!("/me#trip-{id}"),
    };
    Page::new(lang, lang.t("Føre turen som privat?", "Record the trip as private?"))
        .body(html! {
            h1 { (lang.t("Føre turen som privat?", "Record the trip as private?")) }
            section.card.confirm {
                p { (lang.t(
                    "En privat tur lagres bare som dato og kilometer. Når du bekrefter, slettes dette for godt fra kjøreboken og databasen:",
                    "A private trip is kept as its date and kilometres only. When you confirm, this is erased for good from the driving log and the database:")) }
                ul {
                    li { (lang.t("start- og sluttsted", "where it started and ended")) }
                    li { (lang.t("start- og sluttid", "when it started and ended")) }
                    li { (lang.t("kilometerstand ved start og slutt", "the odometer readings at start and end")) }
                    li { (lang.t("hvem som kjørte (sjåføren er den som hadde bilen den dagen)", "who drove (the driver is whoever had the vehicle that day)")) }
                    li { (lang.t("formål du har skrevet for turen", "any purpose you wrote for the trip")) }
                    li { (lang.t("posisjonene (sporet) som ennå ikke var slettet", "the positions (the track) not yet deleted")) }
                }
                p.alert { (lang.t("Dette kan ikke angres: turen kan ikke bli yrkeskjøring igjen.", "This cannot be undone: the trip cannot become a business trip again.")) }
                form method="post" action={ "/me/trips/" (id) } {
                    input type="hidden" name="csrf" value=(viewer.csrf);
                    input type="hidden" name="class" value="private";
                    input type="hidden" name="confirm" value="yes";
                    @if let Some(m) = month { input type="hidden" name="month" value=(m); }
                    button.primary #confirm-private type="submit" { (lang.t("Ja, før turen som privat og slett resten", "Yes, record it as private and erase the rest")) }
                }
                p { a href=(back) { (lang.t("Avbryt", "Cancel")) } }
            }
        })
        .render(Some(viewer))
}

/// `&month=YYYY-MM` from a form, to come back to the month the driver was looking at.
fn month_query(form: &std::collections::HashMap<String, String>) -> String {
    form.get("month")
        .filter(|m| data::month_bounds(m).is_some())
        .map(|m| format!("&month={m}"))
        .unwrap_or_default()
}

pub async fn sign(State(state): State<Web>, viewer: Viewer, form: FormResult) -> Response {
    match act(&state, &viewer, form, |reads, v, form| {
        let month = form.get("month").cloned();
        data::sign_driver(reads, v, now(), month.as_deref())?;
        Ok(month_query(form))
    })
    .await
    {
        Ok(month) => Redirect::to(&format!("/me?done=signed{month}")).into_response(),
        Err(r) => r,
    }
}

pub async fn export(State(state): State<Web>, viewer: Viewer) -> Response {
    let (reads, v) = (state.reads.clone(), viewer.clone());
    match blocking(move || data::own_export(&reads, &v)).await {
        Ok(Ok(zip)) => (
            [
                (header::CONTENT_TYPE, "application/zip"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"mine-data.zip\"",
                ),
            ],
            zip,
        )
            .into_response(),
        Ok(Err(e)) => failed(&viewer, e),
        Err(r) => r,
    }
}

#[derive(serde::Deserialize)]
pub struct NoticeQuery {
    format: Option<String>,
}

pub async fn notice(
    State(state): State<Web>,
    viewer: Viewer,
    Path(measure): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let (reads, v, lang) = (state.reads.clone(), viewer.clone(), viewer.lang);
    let pdf = q.format.as_deref() == Some("pdf");
    match blocking(move || data::notice_html(&reads, &v, &measure, lang, pdf, now())).await {
        Ok(Ok((content_type, body))) => (
            [
                (header::CONTENT_TYPE, content_type),
                (header::CACHE_CONTROL, "no-store".to_owned()),
            ],
            body,
        )
            .into_response(),
        Ok(Err(e)) => failed(&viewer, e),
        Err(r) => r,
    }
}

pub async fn acknowledge(
    State(state): State<Web>,
    viewer: Viewer,
    Path(measure): Path<String>,
    form: FormResult,
) -> Response {
    match act(&state, &viewer, form, move |reads, v, _| {
        data::acknowledge(reads, v, &measure, now())
    })
    .await
    {
        Ok(()) => Redirect::to("/me?done=acknowledged").into_response(),
        Err(r) => r,
    }
}
