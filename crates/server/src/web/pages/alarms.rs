//! The security operator's alarm windows (sikkerhet): open and resolved windows, resolve, or
//! resolve as an incident (positions kept longer). Positions exist only inside a window.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, PreEscaped, html};

use super::super::data;
use super::super::i18n::triggers;
use super::super::layout::Page;
use super::super::session::Viewer;
use super::super::{FormResult, Web, blocking};
use super::{failed, local};

pub async fn page(State(state): State<Web>, viewer: Viewer) -> Response {
    let (reads, v) = (state.reads.clone(), viewer.clone());
    let windows = match blocking(move || data::alarm_windows(&reads, &v)).await {
        Ok(Ok(w)) => w,
        Ok(Err(e)) => return failed(&viewer, e),
        Err(r) => return r,
    };
    let lang = viewer.lang;
    let (open, closed): (Vec<_>, Vec<_>) =
        windows.iter().partition(|a| a.window.resolved_at.is_none());
    let body = html! {
        h1 { (lang.t("Alarmer", "Alarms")) }
        p.lead { (lang.t(
            "Sikkerhetsformålet: posisjoner lagres bare i et alarmvindu (panikknapp, kollisjon, sabotasje, meldt tyveri). Løs vinduet når saken er over; marker det som hendelse bare når posisjonene må tas vare på lenger.",
            "The security purpose: positions are kept only inside an alarm window (panic button, crash, tamper, reported theft). Resolve the window when it is over; mark it as an incident only when its positions must be kept longer.")) }
        section.card aria-labelledby="open-h" {
            h2 #open-h { (lang.t("Åpne alarmvinduer", "Open alarm windows")) " (" (open.len()) ")" }
            @if open.is_empty() { p { (lang.t("Ingen åpne alarmer.", "No open alarms.")) } }
            @for a in &open {
                @let w = &a.window;
                article.alarm id={ "alarm-" (w.id) } {
                    h3 { (a.reg) " · " (triggers(lang, &w.triggers)) }
                    p { (lang.t("Åpnet ", "Opened ")) (local(w.opened_at)) " · "
                        (lang.t("siste utløser ", "last trigger ")) (local(w.last_trigger_at)) " · "
                        (a.positions.len()) (lang.t(" posisjoner i vinduet", " positions in the window")) }
                    (track(lang, &a.positions))
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
                div.scroll tabindex="0" { table {
                    thead { tr {
                        th scope="col" { (lang.t("Bil", "Vehicle")) }
                        th scope="col" { (lang.t("Utløser", "Trigger")) }
                        th scope="col" { (lang.t("Åpnet", "Opened")) }
                        th scope="col" { (lang.t("Løst", "Resolved")) }
                        th scope="col" { (lang.t("Hendelse", "Incident")) }
                    } }
                    tbody { @for a in &closed { @let w = &a.window; tr {
                        td { (a.reg) } td { (triggers(lang, &w.triggers)) } td { (local(w.opened_at)) }
                        td { @if let Some(t) = w.resolved_at { (local(t)) } @if let Some(by) = &w.resolved_by { ", " (by) } }
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
    if let Some(r) = viewer.check_csrf(&state.secret, &form) {
        return r;
    }
    let incident = form.get("incident").map(String::as_str) == Some("1");
    let (reads, v) = (state.reads.clone(), viewer.clone());
    match blocking(move || data::resolve_alarm(&reads, &v, id, incident)).await {
        Ok(Ok(())) => Redirect::to("/alarms").into_response(),
        Ok(Err(e)) => failed(&viewer, e),
        Err(r) => r,
    }
}

/// The positions inside an alarm window on a plain background: the path, and the latest
/// position marked. Server-rendered; nothing outside the window exists to be drawn.
fn track(
    lang: super::super::i18n::Lang,
    points: &[(domain::Timestamp, domain::Position)],
) -> Markup {
    let Some((last_t, last)) = points.last() else {
        return html! { p.muted { (lang.t("Ingen posisjoner i vinduet ennå.", "No positions in the window yet.")) } };
    };
    let (w, h, pad) = (640.0, 280.0, 30.0);
    let lats = points.iter().map(|(_, p)| p.lat());
    let lons = points.iter().map(|(_, p)| p.lon());
    let (s, n) = lats.fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(x), b.max(x)));
    let (west, east) = lons.fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(x), b.max(x)));
    let k = ((n + s) / 2.0).to_radians().cos();
    // At least about 1 km across, so a standing vehicle is a dot in the middle, not a blow-up.
    let span_x = ((east - west) * k).max(0.018);
    let span_y = (n - s).max(0.009);
    let scale = ((w - 2.0 * pad) / span_x).min((h - 2.0 * pad) / span_y);
    let (cx, cy) = ((west + east) / 2.0, (n + s) / 2.0);
    let xy = |p: &domain::Position| {
        (
            w / 2.0 + (p.lon() - cx) * k * scale,
            h / 2.0 - (p.lat() - cy) * scale,
        )
    };
    let path: Vec<String> = points
        .iter()
        .map(|(_, p)| {
            let (x, y) = xy(p);
            format!("{x:.1},{y:.1}")
        })
        .collect();
    let (lx, ly) = xy(last);
    let svg = format!(
        r#"<svg class="track" viewBox="0 0 {w} {h}" role="img" aria-label="{label}"><rect width="{w}" height="{h}" class="bg"/><polyline points="{pts}" class="path"/><circle cx="{lx:.1}" cy="{ly:.1}" r="9" class="now"/><text x="{tx:.1}" y="{ty:.1}">{time}</text></svg>"#,
        label = lang.t("Posisjoner i alarmvinduet", "Positions in the alarm window"),
        pts = path.join(" "),
        tx = lx + 14.0,
        ty = ly + 5.0,
        time = super::local(*last_t),
    );
    html! {
        div.track-wrap { (PreEscaped(svg)) }
        p.muted { (lang.t("Siste posisjon: ", "Latest position: ")) (format!("{:.5}, {:.5}", last.lat(), last.lon())) }
    }
}
