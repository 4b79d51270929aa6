//! HTTP: the listener loop shared by the web port and the OsmAnd port, and the web port's
//! router (health, metrics; the fleet feed is `fleet_api`; users, the API and pages come next).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use domain::Protocol;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::metrics::Metrics;

/// Returned by a handler that must not answer at all: the connection is closed without a
/// response (OwnTracks treats any answer as delivered).
#[derive(Debug)]
pub struct CloseConnection(pub String);

impl std::fmt::Display for CloseConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "closing the connection without an answer: {}", self.0)
    }
}

impl std::error::Error for CloseConnection {}

#[derive(Clone, Copy)]
pub struct HttpLimits {
    pub max_connections: usize,
    pub header_timeout: Duration,
}

/// The largest request body a device may send (a Traccar Client batch is a few KiB).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Reads a whole body, refusing more than [`MAX_BODY_BYTES`].
pub async fn read_body(body: Incoming) -> Result<bytes::Bytes, String> {
    let limited = http_body_util::Limited::new(body, MAX_BODY_BYTES);
    match limited.collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) => Err(format!(
            "request body unreadable or over {MAX_BODY_BYTES} bytes: {e}"
        )),
    }
}

/// Refuses a device's request: counts it, logs why and from where, and answers with the
/// reason so the integrator can fix it.
pub fn refuse_device(
    metrics: &Metrics,
    protocol: Protocol,
    peer: SocketAddr,
    status: StatusCode,
    why: String,
) -> Result<Response<Body>, CloseConnection> {
    metrics
        .protocol(protocol)
        .frames_rejected
        .fetch_add(1, Relaxed);
    tracing::warn!(%peer, %status, %protocol, "request refused: {why}");
    Ok(plain(status, why))
}

pub fn plain(status: StatusCode, text: impl Into<String>) -> Response<Body> {
    let mut r = Response::new(Body::from(text.into() + "\n"));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// Accepts connections and serves HTTP/1.1 on each with `handler`, at most
/// `max_connections` at a time (more are closed on accept).
pub async fn serve<H, F>(
    listener: TcpListener,
    limits: HttpLimits,
    protocol: Option<Protocol>,
    metrics: Arc<Metrics>,
    handler: H,
) where
    H: Fn(Request<Incoming>, SocketAddr) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<Response<Body>, CloseConnection>> + Send + 'static,
{
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "http accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            if let Some(p) = protocol {
                metrics
                    .protocol(p)
                    .connections_refused
                    .fetch_add(1, Relaxed);
            }
            tracing::warn!(%peer, "http connection refused: connection cap reached");
            continue;
        };
        let handler = handler.clone();
        let metrics = metrics.clone();
        tokio::spawn(async move {
            if let Some(p) = protocol {
                metrics.protocol(p).connections_total.fetch_add(1, Relaxed);
                metrics.protocol(p).connections_open.fetch_add(1, Relaxed);
            }
            let svc = hyper::service::service_fn(move |req| handler(req, peer));
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .serve_connection(TokioIo::new(stream), svc);
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "http connection ended");
            }
            if let Some(p) = protocol {
                metrics.protocol(p).connections_open.fetch_sub(1, Relaxed);
            }
            drop(permit);
        });
    }
}

/// The web port's routes that need nothing but the metrics (`/healthz`, which asks the
/// database, is `database::health`).
pub fn router(metrics: Arc<Metrics>) -> axum::Router {
    axum::Router::new().route(
        "/metrics",
        get(move || {
            let m = metrics.clone();
            async move {
                (
                    [(
                        header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    m.render(),
                )
                    .into_response()
            }
        }),
    )
}

/// Runs a request through an axum router, telling handlers who is asking (for rate limits).
pub async fn route(
    router: axum::Router,
    mut req: Request<Incoming>,
    peer: SocketAddr,
) -> Result<Response<Body>, CloseConnection> {
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(peer));
    use tower::ServiceExt;
    let r: Result<Response<Body>, Infallible> = router.oneshot(req).await;
    r.map_err(|e| match e {})
}
