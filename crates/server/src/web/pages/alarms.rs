//! The security operator's alarm windows (sikkerhet): open and resolved windows, resolve, or
//! resolve as an incident (positions kept longer). Positions exist only inside a window.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use super::super::data;
use super::super::layout::Page;
use super::super::session::Viewer;
use super::super::{FormResult, Web, blocking};
use super::{failed, local};
use crate::ingest::now;

pub async fn page(State(state): State<Web>, viewer: Viewer) -> Response {
    let (store, v) = (state.store.clone(), viewer.clone());
    let windows = match blocking(move || data::alarm_windows(store.as_ref(), &v, now())).await {
        Ok(Ok(w)) => w,
        Ok(Err(e)) => return failed(&viewer, e),
        Err(r) => return r,
    };
    let lang = viewer.lang;
    let (open, closed): (Vec<_>, Vec<_>) = windows.iter().partition(|(w, _, _)| w.resolved_at.is_none());
    let body = html! {
        h1 { (lang.t("Alarmer", "Alarms")) }
        p.lead { (lang.t(
            "Sikkerhetsformålet: posisjoner lagres bare i et alarmvindu (panikknapp, kollisjon, sabotasje, meldt tyveri). Løs vinduet når saken er over; marker det som hendelse bare når posisjonene må tas vare på lenger.",
            "The security purpose: positions are kept only inside an alarm window (panic button, crash, tamper, reported theft). Resolve the window when it is over; mark it as an incident only when its positions must be kept longer.")) }
        section.card aria-labelledby="open-h" {
            h2 #open-h { (lang.t("Åpne alarmvinduer", "Open alarm windows")) " (" (open.len()) ")" }
            @if open.is_empty() { p { (lang.t("Ingen åpne alarmer.", "No open alarms.")) } }
            @for (w, reg, n) in &open {
                article.card.alarm id={ "alarm-" (w.id) } {
                    h3 { (reg) " · " (w.triggers) }
                    p { (lang.t("Åpnet ", "Opened ")) (local(w.opened_at)) " · "
                        (lang.t("siste utløser ", "last trigger ")) (local(w.last_trigger_at)) " · "
                        (n) (lang.t(" posisjoner i vinduet", " positions in the window")) }
                    form.actions method="post" action={ "/alarms/" (w.id) "/resolve" } {
                        input type="hidden" name="csrf" value=(viewer.csrf);
                        button.primary type="submit" name="incident" value="0" { (lang.t("Løs", "Resolve")) }
                        button type="submit" name="incident" value="1" { (lang.t("Løs som hendelse", "Resolve as incident")) }
                    }
                }
            }
        }
        section.card aria-labelledby="closed-h" {
            h2 #closed-h { (lang.t("Løste alarmvinduer", "Resolved alarm windows")) }
            @if closed.is_empty() { p { (lang.t("Ingen ennå.", "None yet.")) } } @else {
                div.scroll { table {
                    thead { tr {
                        th scope="col" { (lang.t("Bil", "Vehicle")) }
                        th scope="col" { (lang.t("Utløser", "Trigger")) }
                        th scope="col" { (lang.t("Åpnet", "Opened")) }
                        th scope="col" { (lang.t("Løst", "Resolved")) }
                        th scope="col" { (lang.t("Hendelse", "Incident")) }
                    } }
                    tbody { @for (w, reg, _) in &closed { tr {
                        td { (reg) } td { (w.triggers) } td { (local(w.opened_at)) }
                        td { @if let Some(t) = w.resolved_at { (local(t)) } " " (w.resolved_by.as_deref().unwrap_or("")) }
                        td { @if w.incident { (lang.t("ja", "yes")) } @else { (lang.t("nei", "no")) } }
                    } } }
                } }
            }
        }
    };
    Page::new(lang, lang.t("Alarmer", "Alarms"))
        .path("/alarms")
        .body(body)
        .render(Some(&viewer))
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
    if let Err(r) = viewer.check_csrf(&state.secret, &form) {
        return r;
    }
    let incident = form.get("incident").map(String::as_str) == Some("1");
    let (store, v) = (state.store.clone(), viewer.clone());
    match blocking(move || data::resolve_alarm(store.as_ref(), &v, id, incident, now())).await {
        Ok(Ok(())) => Redirect::to("/alarms").into_response(),
        Ok(Err(e)) => failed(&viewer, e),
        Err(r) => r,
    }
}
