//! The live fleet view over HTTP: a snapshot (`GET /api/v1/fleet`) and a server-sent event
//! stream (`GET /api/v1/fleet/stream`) for the dispatcher's map. Positions and registration
//! numbers only — no driver, no speed, no history. Until users and roles arrive, the feed
//! needs the bearer token from the configuration (`fleet_feed_token`); without one it is
//! closed.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::stream::{self, Stream, StreamExt};

use crate::config::Secret;
use crate::purpose_worker::{FleetChange, Shared};

#[derive(Clone)]
struct FleetState {
    shared: Arc<Shared>,
    token: Option<Secret>,
}

pub fn router(shared: Arc<Shared>, token: Option<Secret>) -> axum::Router {
    axum::Router::new()
        .route("/api/v1/fleet", get(snapshot))
        .route("/api/v1/fleet/stream", get(stream_changes))
        .with_state(FleetState { shared, token })
}

fn refuse(status: StatusCode, why: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{why}\n"),
    )
        .into_response()
}

/// `None` when the request may read the feed, else the refusal to send.
fn refusal(state: &FleetState, headers: &HeaderMap) -> Option<Response> {
    let Some(token) = &state.token else {
        return Some(refuse(
            StatusCode::FORBIDDEN,
            "the live fleet feed is closed: set fleet_feed_token in sporvern.toml (until users and roles arrive)",
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if token.matches(given) {
        None
    } else {
        Some(refuse(
            StatusCode::UNAUTHORIZED,
            "a valid bearer token is needed for the fleet feed",
        ))
    }
}

fn moved_json(
    shared: &Shared,
    vehicle: domain::VehicleId,
    lat: f64,
    lon: f64,
    time: domain::Timestamp,
) -> serde_json::Value {
    let reg = shared
        .names
        .read()
        .ok()
        .and_then(|n| n.get(&vehicle).cloned())
        .unwrap_or_default();
    serde_json::json!({ "vehicle": reg, "lat": lat, "lon": lon, "time": time.rfc3339() })
}

fn current(shared: &Shared) -> Vec<serde_json::Value> {
    let snapshot = shared
        .fleet
        .read()
        .map(|f| f.snapshot())
        .unwrap_or_default();
    snapshot
        .into_iter()
        .map(|(v, p)| moved_json(shared, v, p.position.lat(), p.position.lon(), p.time))
        .collect()
}

async fn snapshot(State(state): State<FleetState>, headers: HeaderMap) -> Response {
    if let Some(r) = refusal(&state, &headers) {
        return r;
    }
    axum::Json(serde_json::json!({ "vehicles": current(&state.shared) })).into_response()
}

async fn stream_changes(State(state): State<FleetState>, headers: HeaderMap) -> Response {
    if let Some(r) = refusal(&state, &headers) {
        return r;
    }
    let shared = state.shared.clone();
    // Subscribe before the snapshot, so nothing falls between them.
    let rx = shared.fleet_changes.subscribe();
    let first = Event::default()
        .event("snapshot")
        .data(serde_json::json!({ "vehicles": current(&shared) }).to_string());
    let changes = stream::unfold((rx, shared), |(mut rx, shared)| async move {
        let event = match rx.recv().await {
            Ok(FleetChange::Moved {
                vehicle,
                lat,
                lon,
                time,
            }) => Event::default()
                .event("moved")
                .data(moved_json(&shared, vehicle, lat, lon, time).to_string()),
            Ok(FleetChange::Gone { vehicle }) => {
                let reg = shared
                    .names
                    .read()
                    .ok()
                    .and_then(|n| n.get(&vehicle).cloned())
                    .unwrap_or_default();
                Event::default()
                    .event("gone")
                    .data(serde_json::json!({ "vehicle": reg }).to_string())
            }
            // A slow client missed changes: send a fresh snapshot instead.
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => Event::default()
                .event("snapshot")
                .data(serde_json::json!({ "vehicles": current(&shared) }).to_string()),
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
        };
        Some((Ok::<Event, Infallible>(event), (rx, shared)))
    });
    let body: std::pin::Pin<Box<dyn Stream<Item = Result<Event, Infallible>> + Send>> =
        Box::pin(stream::once(async move { Ok(first) }).chain(changes));
    Sse::new(body)
        .keep_alive(KeepAlive::default())
        .into_response()
}
