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
    /// Absolute: the whole request head within this, however slowly it drips (hyper's timer
    /// starts at the head's first read and is not restarted by each byte).
    pub header_timeout: Duration,
    /// Absolute: a request's handling — reading its body included — within this.
    pub request_timeout: Duration,
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
    metrics.health.refused(protocol, None, &why);
    if let Some(more) = crate::throttle::allow("http: device request refused") {
        tracing::warn!(%peer, %status, %protocol, suppressed_since_last = more, "request refused: {why}");
    }
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
                if let Some(more) = crate::throttle::allow("http: accept failed") {
                    tracing::warn!(error = %e, failed_since_last = more, "http accept failed");
                }
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
            if let Some(more) = crate::throttle::allow("http: connection cap reached") {
                tracing::warn!(%peer, max = limits.max_connections, refused_since_last = more, "http connection refused: connection cap reached");
            }
            continue;
        };
        let handler = handler.clone();
        let metrics = metrics.clone();
        tokio::spawn(async move {
            if let Some(p) = protocol {
                metrics.protocol(p).connections_total.fetch_add(1, Relaxed);
                metrics.protocol(p).connections_open.fetch_add(1, Relaxed);
            }
            let deadline = limits.request_timeout;
            let svc = hyper::service::service_fn(move |req| {
                let handling = handler(req, peer);
                async move {
                    match tokio::time::timeout(deadline, handling).await {
                        Ok(r) => r,
                        Err(_) => {
                            if let Some(more) = crate::throttle::allow("http: request deadline") {
                                tracing::info!(%peer, closed_since_last = more, "http request not complete within the request deadline; connection closed");
                            }
                            Err(CloseConnection("request deadline passed".into()))
                        }
                    }
                }
            });
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

/// The web port's routes for operators: `/metrics`, and `/healthz` and `/readyz`, which fail
/// (503, with the reason) when the database does not answer, or when the purpose engine has
/// stopped (no round for `max_lag`) or is more than `max_lag` behind the fixes devices were
/// told are stored — listeners that acknowledge while nothing reaches the driving log, the fleet
/// view or the alarm windows are not healthy; `/readyz` also while the engine is starting. The
/// body names each part on a line of its own (`database: postgres ok`), never an address or a
/// password.
pub fn router(
    metrics: Arc<Metrics>,
    max_lag: Duration,
    logins: Arc<crate::login::Logins>,
    store: Arc<dyn storage::Store>,
    db_kind: &'static str,
    shared: Arc<crate::purpose_worker::Shared>,
) -> axum::Router {
    let lag_ms = i64::try_from(max_lag.as_millis()).unwrap_or(i64::MAX);
    let check = move |m: Arc<Metrics>, store: Arc<dyn storage::Store>, need_ready: bool| {
        let shared = shared.clone();
        async move {
            let database = match tokio::task::spawn_blocking(move || store.org_version()).await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => Err(format!("failing: {e}")),
                Err(e) => Err(format!("check failed: {e}")),
            };
            let engine = if need_ready && !m.engine.ready.load(Relaxed) {
                Some("the purpose engine is starting".to_owned())
            } else {
                m.engine
                    .unhealthy(crate::ingest::now().millis(), lag_ms, lag_ms)
            };
            let (node, node_ok) = shared.cluster.health_lines(crate::ingest::now());
            let mut body = String::new();
            let healthy = database.is_ok() && engine.is_none() && node_ok;
            body.push_str(if healthy { "ok\n" } else { "unhealthy\n" });
            match &database {
                Ok(()) => body.push_str(&format!("database: {db_kind} ok\n")),
                Err(why) => body.push_str(&format!("database: {db_kind} {why}\n")),
            }
            match &engine {
                None => body.push_str("purpose engine: ok\n"),
                Some(why) => body.push_str(&format!("purpose engine: {why}\n")),
            }
            body.push_str(&node);
            let status = if healthy {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            (status, body).into_response()
        }
    };
    let (m, r) = (metrics.clone(), metrics.clone());
    let (sh, sr) = (store.clone(), store);
    let (check_h, check_r) = (check.clone(), check);
    axum::Router::new()
        // Liveness: the database answers, the engine runs (a round within `max_lag`, counted
        // from the start) and keeps up.
        .route(
            "/healthz",
            get(move || check_h(m.clone(), sh.clone(), false)),
        )
        // Readiness: as /healthz, and the engine has finished its first round.
        .route("/readyz", get(move || check_r(r.clone(), sr.clone(), true)))
        .route(
            "/metrics",
            get(move || {
                let m = metrics.clone();
                let logins = logins.clone();
                async move {
                    let mut text = m.render_at(crate::ingest::now().millis());
                    logins.render(&mut text);
                    (
                        [(
                            header::CONTENT_TYPE,
                            "text/plain; version=0.0.4; charset=utf-8",
                        )],
                        text,
                    )
                        .into_response()
                }
            }),
        )
}

/// Runs a request through an axum router, telling handlers who is asking (for rate limits).
/// Refused requests (an answer marked with a `login::Refusal`, or any 401) are counted for the
/// audit ledger, per source and minute.
pub async fn route(
    router: axum::Router,
    mut req: Request<Incoming>,
    peer: SocketAddr,
    logins: &crate::login::Logins,
) -> Result<Response<Body>, CloseConnection> {
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(peer));
    use tower::ServiceExt;
    let r: Result<Response<Body>, Infallible> = router.oneshot(req).await;
    let r = r.map_err(|e| match e {})?;
    let kind = r
        .extensions()
        .get::<crate::login::Refusal>()
        .copied()
        .or((r.status() == StatusCode::UNAUTHORIZED).then_some(crate::login::Refusal::NotLoggedIn));
    if let Some(kind) = kind {
        logins.note(kind, peer.ip(), crate::ingest::now());
    }
    Ok(r)
}
