//! The dispatcher's live map (flåtestyring): where the vehicles are now, on the shared map
//! component (`super::map`) over the employer's sites, updated by server-sent events on the
//! session cookie. Vehicles in privacy mode are simply absent; nothing on the page is history.

use axum::extract::State;
use axum::response::Response;
use maud::html;

use super::data;
use super::layout::Page;
use super::pages::failed;
use super::session::Viewer;
use super::{Web, blocking};

/// Asks the policy (dispatcher, fleet view, all vehicles) and records it on the ledger.
async fn authorised(
    state: &Web,
    viewer: &Viewer,
) -> Result<Vec<crate::reads::FleetPosition>, Response> {
    let (reads, v) = (state.reads.clone(), viewer.clone());
    match blocking(move || data::fleet(&reads, &v)).await? {
        Ok(now) => Ok(now),
        Err(e) => Err(failed(viewer, e)),
    }
}

pub async fn page(State(state): State<Web>, viewer: Viewer) -> Response {
    let now = match authorised(&state, &viewer).await {
        Ok(now) => now,
        Err(r) => return r,
    };
    let store = state.reads.store().clone();
    let sites = match blocking(move || store.load_org()).await {
        Ok(Ok(org)) => org.sites,
        Ok(Err(e)) => return super::unexpected(viewer.lang, e),
        Err(r) => return r,
    };
    let lang = viewer.lang;
    let body = html! {
        h1 { (lang.t("Flåtekart", "Fleet map")) }
        p.lead { (lang.t(
            "Hvor bilene er nå (flåtestyring). Kartet viser bare siste posisjon og lagrer ingenting; biler i privatmodus vises ikke.",
            "Where the vehicles are now (fleet view, flåtestyring). The map shows only the latest position and stores nothing; vehicles in privacy mode are not shown.")) }
        div.fleet-grid {
        section.card.map-card {
            (super::map::map(lang, Some("fleet-map"),
                lang.t("Kart over bilene nå, med firmaets steder", "Map of the vehicles now, with the company's sites"),
                &super::map::MapData { sites: &sites, ..Default::default() },
                state.tiles.as_deref(), "fleet"))
            p #fleet-status.muted role="status" { (lang.t("Kobler til …", "Connecting …")) }
        }
        section.card aria-labelledby="list-h" {
            h2 #list-h { (lang.t("Biler på kartet", "Vehicles on the map")) }
            table #fleet-table {
                thead { tr {
                    th scope="col" { (lang.t("Bil", "Vehicle")) }
                    th scope="col" { (lang.t("Sist sett", "Last seen")) }
                    th scope="col" { (lang.t("Følg på kartet", "Follow on the map")) }
                } }
                // Filled in on the server too, so the list works without JavaScript.
                tbody #fleet-list aria-live="polite" {
                    @for v in &now {
                        tr data-vehicle=(v.vehicle) { td { (v.vehicle) } td { (super::pages::clock_s(v.time)) } td {} }
                    }
                }
            }
            p #fleet-empty.muted hidden[!now.is_empty()] { (lang.t("Ingen biler å vise akkurat nå.", "No vehicles to show right now.")) }
            noscript { p.muted { (lang.t("Kartet oppdateres av seg selv bare med JavaScript; last siden på nytt for å se nye posisjoner.", "The map updates itself only with JavaScript; reload the page to see new positions.")) } }
        }
        }
    };
    Page::new(lang, lang.t("Flåtekart", "Fleet map"))
        .path("/fleet")
        .script(super::map::SCRIPTS[0])
        .script(super::map::SCRIPTS[1])
        .script("/static/fleet.js")
        .images_from(state.tiles.as_ref().map(|t| t.origin.clone()))
        .wide()
        .body(body)
        .render(Some(&viewer))
}

/// The live feed for the map, on the session cookie: a snapshot, then moves and departures,
/// until the session ends.
pub async fn stream(State(state): State<Web>, viewer: Viewer) -> Response {
    let (reads, v) = (state.reads.clone(), viewer.clone());
    let watch = match blocking(move || data::fleet_view(&reads, &v)).await {
        Ok(Ok((_, watch))) => watch,
        Ok(Err(e)) => return failed(&viewer, e),
        Err(r) => return r,
    };
    crate::fleet_api::stream_changes(
        state.shared.clone(),
        state.reads.store().clone(),
        viewer.session.clone(),
        watch,
    )
}
