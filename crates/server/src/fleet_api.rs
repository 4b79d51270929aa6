//! The live fleet view as JSON and as a server-sent event stream for the dispatcher's map.
//! Positions and registration numbers only — no driver, no speed, no history. Who may read it
//! is decided (and recorded) by `reads` before these are called: `api` serves them at
//! `GET /api/v1/fleet` and `GET /api/v1/fleet/stream`.

use std::convert::Infallible;
use std::sync::Arc;

use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream, StreamExt};

use crate::purpose_worker::{FleetChange, Shared};

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

/// The fleet view as JSON: `{"vehicles": [{vehicle, lat, lon, time}]}`.
pub fn snapshot_json(shared: &Shared) -> serde_json::Value {
    serde_json::json!({ "vehicles": current(shared) })
}

/// The live stream of the fleet view for a reader the policy has already allowed (and whose
/// access is on the ledger): a snapshot, then `moved` and `gone` events.
pub fn stream_changes(shared: Arc<Shared>) -> Response {
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
