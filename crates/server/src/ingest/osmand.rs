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

pub async fn handle(
    req: Request<Incoming>,
    peer: SocketAddr,
    ingestor: Ingestor,
    registry: Registry,
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
    let device = ExternalId::parse(Protocol::Osmand, &msg.device_id)
        .ok()
        .and_then(|id| registry.lookup(Protocol::Osmand, &id));
    let Some(device) = device else {
        counters.connections_refused.fetch_add(1, Relaxed);
        return reject(
            StatusCode::NOT_FOUND,
            format!(
                "unknown device id {:?}: register it in the organisation file",
                msg.device_id
            ),
        );
    };
    match ingestor
        .submit(Protocol::Osmand, device.id, msg.fixes)
        .await
    {
        Ok(_) => Ok(plain(StatusCode::OK, "OK")),
        Err(e) => {
            tracing::error!(%peer, device = %msg.device_id, error = %e, "osmand fixes not stored");
            Ok(plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "not stored; send again later",
            ))
        }
    }
}
