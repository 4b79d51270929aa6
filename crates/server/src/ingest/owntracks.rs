//! OwnTracks JSON over HTTP (`POST /owntracks`). The app treats any answer as delivered, so a
//! storage failure closes the connection instead of answering.

use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, Response, StatusCode, header};
use base64::Engine;
use domain::{ExternalId, Protocol};
use hyper::body::Incoming;

use super::{Ingestor, Registry};
use crate::http::{CloseConnection, plain, read_body, refuse_device};

/// The device identity: `user/device` from the `X-Limit-U` and `X-Limit-D` headers, or the
/// HTTP basic-auth user (then `user/device` with `X-Limit-D`, or the user alone).
fn identity(headers: &HeaderMap) -> Option<String> {
    let h = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let basic_user = h(header::AUTHORIZATION.as_str())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|s| s.split_once(':').map(|(u, _)| u.to_owned()).or(Some(s)));
    let user = h("x-limit-u").map(str::to_owned).or(basic_user)?;
    Some(match h("x-limit-d") {
        Some(d) => format!("{user}/{d}"),
        None => user,
    })
}

fn json(status: StatusCode, body: &'static str) -> Response<Body> {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    r
}

pub async fn handle(
    req: Request<Incoming>,
    peer: SocketAddr,
    ingestor: Ingestor,
    registry: Registry,
) -> Result<Response<Body>, CloseConnection> {
    let counters = ingestor.metrics().protocol(Protocol::Owntracks);
    let reject = |status: StatusCode, why: String| {
        refuse_device(ingestor.metrics(), Protocol::Owntracks, peer, status, why)
    };
    if req.method() != Method::POST {
        return reject(
            StatusCode::METHOD_NOT_ALLOWED,
            "OwnTracks publishes with POST".into(),
        );
    }
    let Some(who) = identity(req.headers()) else {
        return reject(
            StatusCode::UNAUTHORIZED,
            "no device identity: set the user (basic auth or X-Limit-U) and device (X-Limit-D) in the app".into(),
        );
    };
    let device = ExternalId::parse(Protocol::Owntracks, &who)
        .ok()
        .and_then(|id| registry.lookup(Protocol::Owntracks, &id));
    let Some(device) = device else {
        counters.connections_refused.fetch_add(1, Relaxed);
        return reject(
            StatusCode::FORBIDDEN,
            format!(
                "unknown device {who:?}: register it in the organisation file (protocol = \"owntracks\")"
            ),
        );
    };
    let body = match read_body(req.into_body()).await {
        Ok(b) => b,
        Err(why) => return reject(StatusCode::BAD_REQUEST, why),
    };
    let fix = match codec::owntracks::parse(&body) {
        Ok(codec::owntracks::OwntracksMessage::Location(fix)) => Some(fix),
        Ok(_) => None,
        Err(e) => return reject(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let Some(fix) = fix else {
        // transition, waypoint, lwt …: understood, nothing to store.
        return Ok(json(StatusCode::OK, "[]"));
    };
    let (fixes, refused) = ingestor.screen(Protocol::Owntracks, &who, peer, [Ok(fix)]);
    if let Some(r) = refused.first() {
        // Any answer is "delivered" to the app, so the refusal ends there; the reason is in
        // the answer for whoever looks, and in the log and the metrics for the operator.
        return Ok(plain(
            StatusCode::BAD_REQUEST,
            format!("record refused, not stored: {}", r.why),
        ));
    }
    match ingestor.submit(Protocol::Owntracks, device.id, fixes).await {
        Ok(_) => Ok(json(StatusCode::OK, "[]")),
        Err(e) => {
            tracing::error!(%peer, device = %who, error = %e, "owntracks fix not stored; closing without an answer so the app resends");
            Err(CloseConnection(e.to_string()))
        }
    }
}
