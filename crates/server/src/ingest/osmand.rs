//! The OsmAnd protocol (the Traccar Client app): GET query, POST form or JSON, on its own port.
//! 200 only when the fixes are durable; the app resends anything else.

use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;

use axum::body::Body;
use axum::http::{Method, Request, Response, StatusCode, header};
use domain::{ExternalId, Protocol};
use hyper::body::Incoming;

use super::{Ingestor, Registry};
use crate::http::{CloseConnection, plain, read_body, refuse_device};

/// Unknown device ids a source address may try before it is refused for a while: the device
/// id is the protocol's only credential, so guessing must be slow (README: use long random
/// ids).
pub const UNKNOWN_IDS_PER_SOURCE: u32 = 20;
pub const UNKNOWN_ID_WINDOW: std::time::Duration = std::time::Duration::from_secs(10 * 60);

pub async fn handle(
    req: Request<Incoming>,
    peer: SocketAddr,
    ingestor: Ingestor,
    registry: Registry,
    guesses: super::SourceLimiter,
) -> Result<Response<Body>, CloseConnection> {
    let counters = ingestor.metrics().protocol(Protocol::Osmand);
    let reject = |status: StatusCode, why: String| {
        refuse_device(ingestor.metrics(), Protocol::Osmand, peer, status, why)
    };
    if req.method() != Method::GET && req.method() != Method::POST {
        return reject(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("method {} not allowed: use GET or POST", req.method()),
        );
    }
    let query = req.uri().query().unwrap_or("").to_owned();
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = match read_body(req.into_body()).await {
        Ok(b) => b,
        Err(why) => return reject(StatusCode::BAD_REQUEST, why),
    };
    let msg = match codec::osmand::parse(&query, content_type.as_deref(), &body) {
        Ok(m) => m,
        Err(e) => return reject(StatusCode::BAD_REQUEST, e.to_string()),
    };
    // A source over its allowance of unknown ids is refused whatever id it sends now, so its
    // answers tell it nothing more about which ids exist.
    if guesses.over(peer.ip()) {
        counters.connections_refused.fetch_add(1, Relaxed);
        counters
            .records_rejected
            .fetch_add(msg.fixes.len() as u64, Relaxed);
        if let Some(more) = crate::throttle::allow("osmand: unknown-id limit") {
            tracing::warn!(%peer, refused_since_last = more, "osmand request refused: too many unknown device ids from this address");
        }
        let mut r = plain(
            StatusCode::TOO_MANY_REQUESTS,
            "too many unknown device ids from this address; try again later",
        );
        r.headers_mut().insert(
            header::RETRY_AFTER,
            header::HeaderValue::from(UNKNOWN_ID_WINDOW.as_secs()),
        );
        return Ok(r);
    }
    let device = ExternalId::parse(Protocol::Osmand, &msg.device_id)
        .ok()
        .and_then(|id| registry.lookup(Protocol::Osmand, &id));
    let Some(device) = device else {
        guesses.record(peer.ip());
        counters.connections_refused.fetch_add(1, Relaxed);
        counters
            .records_rejected
            .fetch_add(msg.fixes.len() as u64, Relaxed);
        return reject(
            StatusCode::NOT_FOUND,
            format!(
                "unknown device id {:?}: register it in the organisation file",
                msg.device_id
            ),
        );
    };
    let (fixes, refused) = ingestor.screen(
        Protocol::Osmand,
        &msg.device_id,
        peer,
        msg.fixes.into_iter().map(Ok),
    );
    match ingestor.submit(Protocol::Osmand, device.id, fixes).await {
        // Refused records are answered 400 with the reason, the good ones in the same request
        // stored (a resend stores them once): the app and its integrator are told what to fix.
        Ok(_) if !refused.is_empty() => Ok(plain(
            StatusCode::BAD_REQUEST,
            format!(
                "{} record(s) refused, not stored: {}",
                refused.len(),
                refused[0].why
            ),
        )),
        Ok(_) => Ok(plain(StatusCode::OK, "OK")),
        Err(e) => {
            if let Some(more) = crate::throttle::allow("osmand: not stored") {
                tracing::error!(%peer, device = %msg.device_id, error = %e, suppressed_since_last = more, "osmand fixes not stored");
            }
            Ok(plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "not stored; send again later",
            ))
        }
    }
}
