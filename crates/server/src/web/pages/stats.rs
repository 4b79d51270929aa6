//! The analyst's anonymous aggregates (rasjonalisering): per vehicle group and ISO week, with
//! server-rendered SVG charts. Weeks below k vehicles say only that they are suppressed.

use axum::extract::State;
use axum::response::Response;
use maud::{PreEscaped, html};

use super::super::data;
use super::super::i18n::km;
use super::super::layout::Page;
use super::super::session::Viewer;
use super::super::{Web, blocking};
use super::failed;

pub async fn page(State(state): State<Web>, viewer: Viewer) -> Response {
    let (reads, v) = (state.reads.clone(), viewer.clone());
    let weeks = match blocking(move || data::aggregates(&reads, &v)).await {
        Ok(Ok(w)) => w,
        Ok(Err(e)) => return failed(&viewer, e),
        Err(r) => return r,
    };
    let lang = viewer.lang;
    let published: Vec<_> = weeks
        .iter()
        .filter(|w| w["status"] == "published")
        .collect();
    let km_chart = stats::render_svg_bars(
        &published
            .iter()
            .map(|w| {
                (
                    format!(
                        "{} {}-W{:02}",
                        w["group"].as_str().unwrap_or(""),
                        w["year"],
                        w["week"].as_u64().unwrap_or(0)
                    ),
                    w["km"].as_f64().unwrap_or(0.0),
                )
            })
            .collect::<Vec<_>>(),
        lang.t("Km per gruppe og uke", "Km per group and week"),
    );
    let mut by_hour = [0f64; 24];
    for w in &published {
        if let Some(h) = w["by_hour"].as_array() {
            for (i, v) in h.iter().enumerate().take(24) {
                by_hour[i] += v.as_f64().unwrap_or(0.0);
            }
        }
    }
    let hour_chart = stats::render_svg_bars(
        &by_hour
            .iter()
            .enumerate()
            .map(|(h, v)| (format!("{h:02}:00"), *v))
            .collect::<Vec<_>>(),
        lang.t("Turer etter klokkeslett", "Trips by hour of day"),
    );
    let body = html! {
        h1 { (lang.t("Statistikk", "Statistics")) }
        p.lead { (lang.t(
            "Anonyme tall per kjøretøygruppe og uke (rasjonalisering). Uker med færre enn 5 kjøretøy i gruppen holdes tilbake, så ingen enkeltperson kan leses ut.",
            "Anonymous figures per vehicle group and week (utilisation). Weeks with fewer than 5 vehicles in the group are held back, so no single person can be read out.")) }
        @if weeks.is_empty() {
            section.card { p { (lang.t(
                "Ingen uke er frigitt ennå: en uke frigis 12 timer etter at den er slutt.",
                "No week has been released yet: a week is released 12 hours after it ends.")) } }
        } @else {
            section.card.chart { (PreEscaped(km_chart)) }
            section.card.chart { (PreEscaped(hour_chart)) }
            section.card {
                div.scroll tabindex="0" { table {
                    thead { tr {
                        th scope="col" { (lang.t("Gruppe", "Group")) }
                        th scope="col" { (lang.t("Uke", "Week")) }
                        th.num scope="col" { (lang.t("Kjøretøy", "Vehicles")) }
                        th.num scope="col" { (lang.t("Turer", "Trips")) }
                        th.num scope="col" { "Km" }
                        th.num scope="col" { (lang.t("Timer i bruk", "Hours in use")) }
                    } }
                    tbody { @for w in &weeks { tr {
                        td { (w["group"].as_str().unwrap_or("")) }
                        td { (w["year"]) "-W" (format!("{:02}", w["week"].as_u64().unwrap_or(0))) }
                        @if w["status"] == "published" {
                            td.num { (w["vehicles"]) } td.num { (w["trips"]) }
                            td.num { (km(lang, w["km"].as_f64().unwrap_or(0.0))) }
                            td.num { (km(lang, w["hours_in_use"].as_f64().unwrap_or(0.0))) }
                        } @else {
                            td colspan="4" { (lang.t("holdt tilbake (færre enn k kjøretøy)", "held back (fewer than k vehicles)")) }
                        }
                    } } }
                } }
            }
        }
    };
    Page::new(lang, lang.t("Statistikk", "Statistics"))
        .path("/stats")
        .body(body)
        .render(Some(&viewer))
}
