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
                        (super::super::i18n::count(lang, a.positions.len(), ("posisjon i vinduet", "posisjoner i vinduet"), ("position in the window", "positions in the window"))) }
                    (track(lang, &a.positions, state.tiles.as_deref()))
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
        .images_from(state.tiles.as_ref().map(|t| t.origin.clone()))
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

/// Web Mercator: world coordinates in [0, 1), as map tiles use them.
fn merc(p: &domain::Position) -> (f64, f64) {
    let lat = p.lat().clamp(-85.0, 85.0).to_radians();
    (
        (p.lon() + 180.0) / 360.0,
        (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0,
    )
}

/// The positions inside an alarm window, over the configured map tiles or on a plain
/// background: the path, and the latest position marked. Server-rendered; nothing outside the
/// window exists to be drawn.
fn track(
    lang: super::super::i18n::Lang,
    points: &[(domain::Timestamp, domain::Position)],
    tiles: Option<&super::super::MapTiles>,
) -> Markup {
    let Some((last_t, last)) = points.last() else {
        return html! { p.muted { (lang.t("Ingen posisjoner i vinduet ennå.", "No positions in the window yet.")) } };
    };
    let (w, h, pad) = (640.0, 280.0, 30.0);
    let world: Vec<(f64, f64)> = points.iter().map(|(_, p)| merc(p)).collect();
    let (x0, x1) = world.iter().fold((f64::MAX, f64::MIN), |(a, b), (x, _)| {
        (a.min(*x), b.max(*x))
    });
    let (y0, y1) = world.iter().fold((f64::MAX, f64::MIN), |(a, b), (_, y)| {
        (a.min(*y), b.max(*y))
    });
    // At least about 1 km across (at 60° N, 1 km ≈ 5.6e-6 of the world's width), so a standing
    // vehicle is a dot in the middle, not a blow-up.
    let span_x = (x1 - x0).max(1e-5);
    let span_y = (y1 - y0).max(5e-6);
    let scale = ((w - 2.0 * pad) / span_x).min((h - 2.0 * pad) / span_y);
    let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    let (ox, oy) = (w / 2.0 - cx * scale, h / 2.0 - cy * scale);
    let xy = |p: &domain::Position| {
        let (x, y) = merc(p);
        (ox + x * scale, oy + y * scale)
    };
    let mut images = String::new();
    let mut attribution = String::new();
    if let Some(t) = tiles {
        let z = (scale / 256.0).log2().round().clamp(0.0, 19.0);
        let n = 2f64.powf(z);
        let size = scale / n;
        let first = |o: f64| ((0.0 - o) / size).floor().max(0.0) as u32;
        let last = |o: f64, extent: f64| (((extent - o) / size).floor()).min(n - 1.0) as u32;
        for tx in first(ox)..=last(ox, w) {
            for ty in first(oy)..=last(oy, h) {
                let href = t
                    .url
                    .replace("{z}", &format!("{z}"))
                    .replace("{x}", &tx.to_string())
                    .replace("{y}", &ty.to_string());
                images.push_str(&format!(
                    r#"<image class="tile" href="{}" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" preserveAspectRatio="none"/>"#,
                    maud::html! { (href) }.into_string(),
                    ox + f64::from(tx) * size,
                    oy + f64::from(ty) * size,
                    size + 0.5,
                    size + 0.5
                ));
            }
        }
        if !t.attribution.is_empty() {
            attribution = format!(
                r#"<text class="attribution" x="{}" y="{}" text-anchor="end">{}</text>"#,
                w - 6.0,
                h - 6.0,
                maud::html! { (t.attribution) }.into_string()
            );
        }
    }
    let path: Vec<String> = points
        .iter()
        .map(|(_, p)| {
            let (x, y) = xy(p);
            format!("{x:.1},{y:.1}")
        })
        .collect();
    let (lx, ly) = xy(last);
    let svg = format!(
        r#"<svg class="track" viewBox="0 0 {w} {h}" role="img" aria-label="{label}"><rect width="{w}" height="{h}" class="bg"/>{images}<polyline points="{pts}" class="path"/><circle cx="{lx:.1}" cy="{ly:.1}" r="9" class="now"/><text x="{tx:.1}" y="{ty:.1}">{time}</text>{attribution}</svg>"#,
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
