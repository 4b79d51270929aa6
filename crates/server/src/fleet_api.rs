//! The live fleet view as JSON and as a server-sent event stream for the dispatcher's map, and
//! the alarm windows' changes for the security operator's page, over the same mechanism.
//! Positions and registration numbers only — no driver, no speed, no history. Who may read it
//! is decided (and recorded) by `reads` before these are called: `api` serves them at
//! `GET /api/v1/fleet` and `GET /api/v1/fleet/stream`.

use std::convert::Infallible;
use std::sync::Arc;

use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream, StreamExt};

use tokio::sync::broadcast::error::RecvError;

use crate::purpose_worker::{AlarmChange, FleetChange, Shared};

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

/// Where the vehicles are now, by registration number.
pub fn positions(shared: &Shared) -> Vec<crate::reads::FleetPosition> {
    let names = shared.names.read().map(|n| n.clone()).unwrap_or_default();
    let mut out: Vec<crate::reads::FleetPosition> = shared
        .fleet
        .read()
        .map(|f| f.snapshot())
        .unwrap_or_default()
        .into_iter()
        .map(|(v, p)| crate::reads::FleetPosition {
            vehicle: names.get(&v).cloned().unwrap_or_default(),
            lat: p.position.lat(),
            lon: p.position.lon(),
            time: p.time,
        })
        .collect();
    out.sort_by(|a, b| a.vehicle.cmp(&b.vehicle));
    out
}

/// Positions as JSON: `{"vehicles": [{vehicle, lat, lon, time}]}`.
pub fn positions_json(positions: &[crate::reads::FleetPosition]) -> serde_json::Value {
    let vehicles: Vec<serde_json::Value> = positions
        .iter()
        .map(|p| {
            serde_json::json!({ "vehicle": p.vehicle, "lat": p.lat, "lon": p.lon, "time": p.time.rfc3339() })
        })
        .collect();
    serde_json::json!({ "vehicles": vehicles })
}

/// How often an open stream checks that its login (bearer token or session) is still valid:
/// a logout, a password change or an expiry ends the feed even in a tab that stays open.
const SESSION_RECHECK: std::time::Duration = std::time::Duration::from_secs(30);

/// Records the vehicles among `regs` the view has not shown yet (off the async threads);
/// gives the watch back, or nothing when the ledger could not record them.
async fn noted(
    mut watch: crate::reads::FleetWatch,
    regs: Vec<String>,
) -> Option<crate::reads::FleetWatch> {
    if regs.iter().all(|r| watch.has_seen(r)) {
        return Some(watch);
    }
    let done = tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = regs.iter().map(String::as_str).collect();
        let r = watch.record(&refs);
        (watch, r)
    })
    .await;
    match done {
        Ok((watch, Ok(()))) => Some(watch),
        Ok((_, Err(e))) => {
            tracing::error!(error = %e, "fleet stream: a view could not be recorded; the stream ends");
            None
        }
        Err(_) => None,
    }
}

/// The live stream of the fleet view for a reader the policy has already allowed (and whose
/// access is on the ledger): a snapshot, then `moved` and `gone` events, for as long as the
/// login behind `token_hash` (an API token or a web session) stays valid. A vehicle the view
/// has not shown before is put on its drivers' ledger (`watch`) before it is sent.
pub fn stream_changes(
    shared: Arc<Shared>,
    store: Arc<dyn storage::Store>,
    token_hash: String,
    watch: crate::reads::FleetWatch,
) -> Response {
    // Subscribe before the snapshot, so nothing falls between them.
    let rx = shared.fleet_changes.subscribe();
    let snapshot = positions(&shared);
    let mut recheck = tokio::time::interval(SESSION_RECHECK);
    recheck.reset();
    let still_valid = move || {
        let (store, hash) = (store.clone(), token_hash.clone());
        async move {
            matches!(
                tokio::task::spawn_blocking(move || store.token_user(&hash, crate::ingest::now()))
                    .await,
                Ok(Ok(Some(_)))
            )
        }
    };
    let changes = stream::unfold(
        (
            rx,
            shared,
            recheck,
            still_valid,
            Some(watch),
            Some(snapshot),
        ),
        |(mut rx, shared, mut recheck, still_valid, watch, first)| async move {
            let mut watch = watch?;
            if let Some(first) = first {
                let regs = first.iter().map(|p| p.vehicle.clone()).collect();
                watch = noted(watch, regs).await?;
                let event = Event::default()
                    .event("snapshot")
                    .data(positions_json(&first).to_string());
                return Some((
                    Ok::<Event, Infallible>(event),
                    (rx, shared, recheck, still_valid, Some(watch), None),
                ));
            }
            let change = loop {
                tokio::select! {
                    change = rx.recv() => break change,
                    _ = recheck.tick() => {
                        if !still_valid().await {
                            return None;
                        }
                    }
                }
            };
            let event = match change {
                Ok(FleetChange::Moved {
                    vehicle,
                    lat,
                    lon,
                    time,
                    ..
                }) => {
                    let moved = moved_json(&shared, vehicle, lat, lon, time);
                    let reg = moved["vehicle"].as_str().unwrap_or_default().to_owned();
                    watch = noted(watch, vec![reg]).await?;
                    Event::default().event("moved").data(moved.to_string())
                }
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
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    let now = positions(&shared);
                    watch = noted(watch, now.iter().map(|p| p.vehicle.clone()).collect()).await?;
                    Event::default()
                        .event("snapshot")
                        .data(positions_json(&now).to_string())
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            };
            Some((
                Ok::<Event, Infallible>(event),
                (rx, shared, recheck, still_valid, Some(watch), None),
            ))
        },
    );
    let body: std::pin::Pin<Box<dyn Stream<Item = Result<Event, Infallible>> + Send>> =
        Box::pin(changes);
    Sse::new(body)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// The live stream of alarm windows opening and closing, for the security operator's page
/// (already allowed and on the ledger): `alarm` events naming the window and whether it
/// `opened` or was `resolved` — never a vehicle's position, which the page then reads through
/// `reads` like any other view of the window.
pub fn stream_alarm_changes(
    shared: Arc<Shared>,
    store: Arc<dyn storage::Store>,
    token_hash: String,
) -> Response {
    let rx = shared.alarm_changes.subscribe();
    let first = Event::default().event("ready").data("{}");
    live(rx, first, store, token_hash, |change| {
        let (window, change) = match change {
            Ok(AlarmChange::Opened { window, .. }) => (Some(window), "opened"),
            Ok(AlarmChange::Resolved { window }) => (Some(window), "resolved"),
            // Missed changes: the page reloads its list.
            Err(RecvError::Lagged(_)) => (None, "missed"),
            Err(RecvError::Closed) => return None,
        };
        Some(
            Event::default()
                .event("alarm")
                .data(serde_json::json!({ "window": window, "change": change }).to_string()),
        )
    })
}

/// One live mechanism for every feed: `first`, then each change as `to_event` makes it (`None`
/// ends the stream), with keep-alives, ended when the login behind `token_hash` is no longer
/// valid.
fn live<T: Clone + Send + 'static>(
    rx: tokio::sync::broadcast::Receiver<T>,
    first: Event,
    store: Arc<dyn storage::Store>,
    token_hash: String,
    to_event: impl Fn(Result<T, RecvError>) -> Option<Event> + Send + Sync + 'static,
) -> Response {
    let mut recheck = tokio::time::interval(SESSION_RECHECK);
    recheck.reset();
    let still_valid = move || {
        let (store, hash) = (store.clone(), token_hash.clone());
        async move {
            matches!(
                tokio::task::spawn_blocking(move || store.token_user(&hash, crate::ingest::now()))
                    .await,
                Ok(Ok(Some(_)))
            )
        }
    };
    let to_event = Arc::new(to_event);
    let changes = stream::unfold(
        (rx, recheck, still_valid, to_event),
        |(mut rx, mut recheck, still_valid, to_event)| async move {
            let change = loop {
                tokio::select! {
                    change = rx.recv() => break change,
                    _ = recheck.tick() => {
                        if !still_valid().await {
                            return None;
                        }
                    }
                }
            };
            let event = to_event(change)?;
            Some((
                Ok::<Event, Infallible>(event),
                (rx, recheck, still_valid, to_event),
            ))
        },
    );
    let body: std::pin::Pin<Box<dyn Stream<Item = Result<Event, Infallible>> + Send>> =
        Box::pin(stream::once(async move { Ok(first) }).chain(changes));
    Sse::new(body)
        .keep_alive(KeepAlive::default())
        .into_response()
}
