//! The security operator's alarm windows (sikkerhet): open windows with their track on the map,
//! the nearest place and the driver to call; resolve with a note, or as an incident (positions
//! kept longer); report a theft (a window opened by hand that stays open until resolved).
//! Positions exist only inside a window. The page follows the windows live over the same
//! server-sent events as the fleet map (`fleet_api::stream_alarm_changes`), with a sound and a
//! browser notification when one opens.
//!
//! The handlers only read the form and call `reads` through `super::super::data`; the rules
//! (a note is required, who may open or resolve) live there.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use super::super::data::{self, Alarms};
use super::super::i18n::{Lang, triggers};
use super::super::layout::{Page, html_response};
use super::super::map::{MapData, SCRIPTS, map};
use super::super::session::Viewer;
use super::super::{FormResult, MapTiles, Web, blocking};
use super::{failed, local};

async fn read(state: &Web, viewer: &Viewer) -> Result<Alarms, Response> {
    let (reads, v) = (state.reads.clone(), viewer.clone());
    match blocking(move || data::alarm_windows(&reads, &v)).await? {
        Ok(a) => Ok(a),
        Err(e) => Err(failed(viewer, e)),
    }
}

pub async fn page(State(state): State<Web>, viewer: Viewer) -> Response {
    let alarms = match read(&state, &viewer).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let lang = viewer.lang;
    let body = html! {
        h1 { (lang.t("Alarmer", "Alarms")) }
        p.lead { (lang.t(
            "Sikkerhetsformålet: posisjoner lagres bare i et alarmvindu (panikknapp, kollisjon, sabotasje, meldt tyveri). Løs vinduet når saken er over; marker det som hendelse bare når posisjonene må tas vare på lenger.",
            "The security purpose: positions are kept only inside an alarm window (panic button, crash, tamper, reported theft). Resolve the window when it is over; mark it as an incident only when its positions must be kept longer.")) }
        div.live-bar {
            p #alarm-live.muted role="status" { (lang.t("Kobler til …", "Connecting …")) }
            button #alarm-notify type="button" { (lang.t("Slå på lyd og varsler", "Turn on sound and notifications")) }
        }
        (lists(lang, &alarms, state.tiles.as_deref(), &viewer.csrf))
        section.card aria-labelledby="theft-h" {
            h2 #theft-h { (lang.t("Meld tyveri", "Report a theft")) }
            p.muted { (lang.t(
                "Åpner et alarmvindu for bilen: posisjonene lagres fra nå av. Vinduet står åpent til noen løser det, også om bilen ikke sender nye alarmer.",
                "Opens an alarm window for the vehicle: its positions are kept from now on. The window stays open until someone resolves it, even when the vehicle sends no new alarm.")) }
            @if alarms.alarm_vehicles.is_empty() {
                p { (lang.t("Ingen bil har sikkerhetsformålet.", "No vehicle has the security purpose.")) }
            } @else {
                form.stack method="post" action="/alarms/theft" {
                    input type="hidden" name="csrf" value=(viewer.csrf);
                    label for="theft-vehicle" { (lang.t("Bil", "Vehicle")) }
                    select #theft-vehicle name="vehicle" required {
                        @for r in &alarms.alarm_vehicles { option value=(r) { (r) } }
                    }
                    label for="theft-ref" { (lang.t("Politiets anmeldelsesnummer (hvis det finnes)", "The police report's reference (if there is one)")) }
                    input #theft-ref type="text" name="reference" maxlength="100" autocomplete="off";
                    button.primary type="submit" { (lang.t("Åpne alarmvindu for tyveri", "Open a theft alarm window")) }
                }
            }
        }
    };
    let mut page = Page::new(lang, lang.t("Alarmer", "Alarms"))
        .path("/alarms")
        .images_from(state.tiles.as_ref().map(|t| t.origin.clone()));
    for s in SCRIPTS {
        page = page.script(s);
    }
    page.script("/static/alarms.js")
        .body(body)
        .render(Some(&viewer))
}

/// The open and resolved windows, which the page's script replaces when a window opens or
/// closes.
pub async fn live(State(state): State<Web>, viewer: Viewer) -> Response {
    match read(&state, &viewer).await {
        Ok(alarms) => html_response(
            axum::http::StatusCode::OK,
            lists(viewer.lang, &alarms, state.tiles.as_deref(), &viewer.csrf),
        ),
        Err(r) => r,
    }
}

/// The live feed of alarm changes, on the session cookie, after the policy allowed it.
pub async fn stream(State(state): State<Web>, viewer: Viewer) -> Response {
    let (reads, v) = (state.reads.clone(), viewer.clone());
    match blocking(move || data::alarm_feed(&reads, &v)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return failed(&viewer, e),
        Err(r) => return r,
    }
    crate::fleet_api::stream_alarm_changes(
        state.shared.clone(),
        state.reads.store().clone(),
        viewer.session.clone(),
    )
}

fn lists(lang: Lang, alarms: &Alarms, tiles: Option<&MapTiles>, csrf: &str) -> Markup {
    let (open, closed): (Vec<_>, Vec<_>) = alarms
        .windows
        .iter()
        .partition(|a| a.window.resolved_at.is_none());
    html! {
        div #alarm-lists data-open=(open.iter().map(|a| a.window.id.to_string()).collect::<Vec<_>>().join(",")) {
        section.card aria-labelledby="open-h" {
            h2 #open-h { (lang.t("Åpne alarmvinduer", "Open alarm windows")) " (" span #open-count { (open.len()) } ")" }
            @if open.is_empty() { p { (lang.t("Ingen åpne alarmer.", "No open alarms.")) } }
            @for a in &open {
                @let w = &a.window;
                article.alarm id={ "alarm-" (w.id) } data-window=(w.id) {
                    h3 { (a.reg) " · " (triggers(lang, &w.triggers)) }
                    p { (lang.t("Åpnet ", "Opened ")) (local(w.opened_at)) " · "
                        (lang.t("siste utløser ", "last trigger ")) (local(w.last_trigger_at)) " · "
                        (super::super::i18n::count(lang, a.positions.len(), ("posisjon i vinduet", "posisjoner i vinduet"), ("position in the window", "positions in the window"))) }
                    @if let Some(by) = &w.opened_by {
                        p.opened-by { (lang.t("Meldt av ", "Reported by ")) (by)
                            @if let Some(r) = &w.reference { " · " (lang.t("anmeldelse ", "police report ")) (r) }
                            " · " (lang.t("står åpent til det løses", "stays open until resolved")) }
                    }
                    dl.facts {
                        dt { (lang.t("Nærmeste sted", "Nearest place")) }
                        dd.place { @match &a.place { Some((nb, en)) => { (lang.t(nb, en)) }, None => { (lang.t("ingen posisjon ennå", "no position yet")) } } }
                        dt { (lang.t("Sjåfør", "Driver")) }
                        dd.driver { @match &a.driver {
                            Some(d) => {
                                (d.name)
                                @if let Some(p) = &d.phone { " · " a href={ "tel:" (p.replace(' ', "")) } { (p) } }
                                @else { " · " span.muted { (lang.t("ingen telefon registrert", "no phone registered")) } }
                            },
                            None => { span.muted { (lang.t("ingen tildelt bilen denne dagen", "nobody assigned to the vehicle that day")) } },
                        } }
                    }
                    @if a.positions.is_empty() {
                        p.muted { (lang.t("Ingen posisjoner i vinduet ennå.", "No positions in the window yet.")) }
                    } @else {
                        @let last = a.positions.last().map(|(t, p)| (p.lat(), p.lon(), super::short(*t)));
                        (map(lang, None, lang.t("Posisjoner i alarmvinduet", "Positions in the alarm window"),
                            &MapData {
                                sites: &alarms.sites,
                                track: a.positions.iter().map(|(_, p)| (p.lat(), p.lon())).collect(),
                                marks: last.map(|(la, lo, t)| vec![(la, lo, t, "now")]).unwrap_or_default(),
                            }, tiles, "window"))
                    }
                    form.resolve method="post" action={ "/alarms/" (w.id) "/resolve" } {
                        input type="hidden" name="csrf" value=(csrf);
                        label for={ "note-" (w.id) } { (lang.t("Notat: hva skjedde, og hvordan endte det? (påkrevd)", "Note: what happened, and how did it end? (required)")) }
                        textarea id={ "note-" (w.id) } name="note" rows="2" required maxlength="2000" {}
                        div.actions {
                            button.primary type="submit" name="incident" value="0" { (lang.t("Løs", "Resolve")) }
                            button type="submit" name="incident" value="1" { (lang.t("Løs som hendelse", "Resolve as incident")) }
                        }
                    }
                }
            }
        }
        section.card aria-labelledby="closed-h" {
            h2 #closed-h { (lang.t("Løste alarmvinduer", "Resolved alarm windows")) }
            @if closed.is_empty() { p { (lang.t("Ingen ennå.", "None yet.")) } } @else {
                div.scroll tabindex="0" { table {
                    thead { tr {
                        th scope="col" { (lang.t("Bil", "Vehicle")) }
                        th scope="col" { (lang.t("Utløser", "Trigger")) }
                        th scope="col" { (lang.t("Åpnet", "Opened")) }
                        th scope="col" { (lang.t("Løst", "Resolved")) }
                        th scope="col" { (lang.t("Notat", "Note")) }
                        th scope="col" { (lang.t("Hendelse", "Incident")) }
                    } }
                    tbody { @for a in &closed { @let w = &a.window; tr data-window=(w.id) {
                        td { (a.reg) } td { (triggers(lang, &w.triggers)) } td { (local(w.opened_at)) }
                        td { @if let Some(t) = w.resolved_at { (local(t)) } @if let Some(by) = &w.resolved_by { ", " (resolved_by(lang, by)) } }
                        td.note { (w.note.as_deref().unwrap_or("—")) }
                        td { @if w.incident { (lang.t("ja", "yes")) } @else { (lang.t("nei", "no")) } }
                    } } }
                } }
            }
        }
        }
    }
}

/// Who resolved a window: a user's name, or what the server did by itself.
fn resolved_by(lang: Lang, by: &str) -> String {
    match by {
        "automatic: no new alarm" => lang
            .t(
                "automatisk: ingen ny alarm på 30 minutter",
                "automatically: no new alarm for 30 minutes",
            )
            .to_owned(),
        "measure ended" => lang
            .t("tiltaket ble avsluttet", "the measure was ended")
            .to_owned(),
        user => user.to_owned(),
    }
}

pub async fn resolve(
    State(state): State<Web>,
    viewer: Viewer,
    Path(id): Path<i64>,
    form: FormResult,
) -> Response {
    let Ok(axum::Form(form)) = form else {
        return super::super::session::csrf_refused(viewer.lang);
    };
    if let Some(r) = viewer.check_csrf(&state.secret, &form) {
        return r;
    }
    let incident = form.get("incident").map(String::as_str) == Some("1");
    let note = form.get("note").cloned().unwrap_or_default();
    if note.trim().is_empty() {
        // `reads` refuses it too; this says so in the page's language.
        return failed(
            &viewer,
            data::invalid(
                "Skriv et notat om hva som skjedde og hvordan det endte før du løser alarmen.",
                "Write a note saying what happened and how it ended before resolving the alarm.",
            ),
        );
    }
    let (reads, v) = (state.reads.clone(), viewer.clone());
    match blocking(move || data::resolve_alarm(&reads, &v, id, incident, &note)).await {
        Ok(Ok(())) => Redirect::to("/alarms").into_response(),
        Ok(Err(e)) => failed(&viewer, e),
        Err(r) => r,
    }
}

pub async fn open_theft(State(state): State<Web>, viewer: Viewer, form: FormResult) -> Response {
    let Ok(axum::Form(form)) = form else {
        return super::super::session::csrf_refused(viewer.lang);
    };
    if let Some(r) = viewer.check_csrf(&state.secret, &form) {
        return r;
    }
    let reg = form.get("vehicle").cloned().unwrap_or_default();
    let reference = form.get("reference").cloned();
    let (reads, v) = (state.reads.clone(), viewer.clone());
    match blocking(move || data::open_theft(&reads, &v, &reg, reference.as_deref())).await {
        Ok(Ok(id)) => Redirect::to(&format!("/alarms#alarm-{id}")).into_response(),
        Ok(Err(e)) => failed(&viewer, e),
        Err(r) => r,
    }
}
