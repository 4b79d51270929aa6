//! The dispatcher's live map (flåtestyring): where the vehicles are now, drawn as SVG over the
//! employer's sites on a plain background, updated by server-sent events on the session
//! cookie. Vehicles in privacy mode are simply absent; nothing on the page is history.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream, StreamExt};
use maud::html;

use super::data;
use super::layout::Page;
use super::pages::failed;
use super::session::Viewer;
use super::{Web, blocking};
use crate::purpose_worker::{FleetChange, Shared};

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
    let sites_json = serde_json::Value::Array(
        sites
            .iter()
            .map(|s| match &s.geometry {
                org::Geometry::Circle { lat, lon, radius_m } => serde_json::json!({
                    "name": s.name, "circle": [lat, lon, radius_m]
                }),
                org::Geometry::Polygon(ring) => serde_json::json!({
                    "name": s.name, "polygon": ring
                }),
            })
            .collect(),
    )
    .to_string();
    let lang = viewer.lang;
    let body = html! {
        h1 { (lang.t("Flåtekart", "Fleet map")) }
        p.lead { (lang.t(
            "Hvor bilene er nå (flåtestyring). Kartet viser bare siste posisjon og lagrer ingenting; biler i privatmodus vises ikke.",
            "Where the vehicles are now (fleet view, flåtestyring). The map shows only the latest position and stores nothing; vehicles in privacy mode are not shown.")) }
        div.fleet-grid {
        section.card.map-card {
            div #fleet-map data-sites=(sites_json) data-lang=(lang.code())
                role="img" aria-label=(lang.t("Kart over bilene nå, med firmaets steder", "Map of the vehicles now, with the company's sites")) {
                svg #fleet-svg viewBox="0 0 1000 600" preserveAspectRatio="xMidYMid meet" {}
            }
            p #fleet-status.muted role="status" { (lang.t("Kobler til …", "Connecting …")) }
        }
        section.card aria-labelledby="list-h" {
            h2 #list-h { (lang.t("Biler på kartet", "Vehicles on the map")) }
            table #fleet-table {
                thead { tr {
                    th scope="col" { (lang.t("Bil", "Vehicle")) }
                    th scope="col" { (lang.t("Sist sett", "Last seen")) }
                } }
                // Filled in on the server too, so the list works without JavaScript.
                tbody #fleet-list aria-live="polite" {
                    @for v in &now {
                        tr data-vehicle=(v.vehicle) { td { (v.vehicle) } td { (super::pages::clock_s(v.time)) } }
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
        .script("/static/fleet.js")
        .wide()
        .body(body)
        .render(Some(&viewer))
}

/// How often an open feed checks that its session still stands.
const SESSION_RECHECK: std::time::Duration = std::time::Duration::from_secs(30);

struct Recheck {
    store: Arc<dyn storage::Store>,
    token_hash: String,
}

impl Recheck {
    async fn still_valid(&self) -> bool {
        let (store, hash) = (self.store.clone(), self.token_hash.clone());
        matches!(
            tokio::task::spawn_blocking(move || store.token_user(&hash, crate::ingest::now()))
                .await,
            Ok(Ok(Some(_)))
        )
    }
}

fn reg_of(shared: &Shared, vehicle: domain::VehicleId) -> String {
    shared
        .names
        .read()
        .ok()
        .and_then(|n| n.get(&vehicle).cloned())
        .unwrap_or_default()
}

fn current(shared: &Shared) -> String {
    let snapshot = shared
        .fleet
        .read()
        .map(|f| f.snapshot())
        .unwrap_or_default();
    let vehicles: Vec<_> = snapshot
        .into_iter()
        .map(|(v, p)| {
            serde_json::json!({
                "vehicle": reg_of(shared, v),
                "lat": p.position.lat(),
                "lon": p.position.lon(),
                "time": p.time.rfc3339(),
            })
        })
        .collect();
    serde_json::json!({ "vehicles": vehicles }).to_string()
}

/// The live feed for the map, on the session cookie: a snapshot, then moves and departures.
pub async fn stream(State(state): State<Web>, viewer: Viewer) -> Response {
    if let Err(r) = authorised(&state, &viewer).await {
        return r;
    }
    let shared: Arc<Shared> = state.shared.clone();
    // Subscribe before the snapshot, so nothing falls between them.
    let rx = shared.fleet_changes.subscribe();
    let first = Event::default().event("snapshot").data(current(&shared));
    // The session is checked again every half minute: a logout or an expired session ends the
    // feed even in a tab that stays open.
    let mut recheck = tokio::time::interval(SESSION_RECHECK);
    recheck.reset();
    let session = Recheck {
        store: state.reads.store().clone(),
        token_hash: viewer.session.clone(),
    };
    let changes = stream::unfold(
        (rx, shared, recheck, session),
        |(mut rx, shared, mut recheck, session)| async move {
            let event = loop {
                tokio::select! {
                    change = rx.recv() => break change,
                    _ = recheck.tick() => {
                        if !session.still_valid().await {
                            return None;
                        }
                    }
                }
            };
            let event = match event {
                Ok(FleetChange::Moved {
                    vehicle,
                    lat,
                    lon,
                    time,
                }) => Event::default().event("moved").data(
                    serde_json::json!({
                        "vehicle": reg_of(&shared, vehicle),
                        "lat": lat, "lon": lon, "time": time.rfc3339(),
                    })
                    .to_string(),
                ),
                Ok(FleetChange::Gone { vehicle }) => Event::default()
                    .event("gone")
                    .data(serde_json::json!({ "vehicle": reg_of(&shared, vehicle) }).to_string()),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    Event::default().event("snapshot").data(current(&shared))
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            };
            Some((
                Ok::<Event, Infallible>(event),
                (rx, shared, recheck, session),
            ))
        },
    );
    let body: std::pin::Pin<Box<dyn Stream<Item = Result<Event, Infallible>> + Send>> =
        Box::pin(stream::once(async move { Ok(first) }).chain(changes));
    Sse::new(body)
        .keep_alive(KeepAlive::default())
        .into_response()
}
