//! The JSON API under `/api/v1`: login with a bearer token, who am I, and the driver's privacy
//! switch. Errors are `application/problem+json` (RFC 9457) with a message a person can act
//! on. Every change is put on the audit ledger.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use domain::Timestamp;
use serde::Deserialize;

use crate::ingest::now;

/// How long a token from `POST /api/v1/login` is valid.
const TOKEN_LIFETIME_MS: i64 = 12 * 3600 * 1000;

#[derive(Clone)]
struct ApiState {
    store: Arc<dyn storage::Store>,
    limiter: Arc<Mutex<access::LoginLimiter>>,
}

pub fn router(store: Arc<dyn storage::Store>) -> axum::Router {
    axum::Router::new()
        .route("/api/v1/login", post(login))
        .route("/api/v1/me", get(me))
        .route("/api/v1/me/privacy", post(privacy))
        .with_state(ApiState {
            store,
            limiter: Arc::new(Mutex::new(access::LoginLimiter::default())),
        })
}

/// An RFC 9457 problem document.
pub fn problem(status: StatusCode, title: &str, detail: impl Into<String>) -> Response {
    let body = serde_json::json!({
        "type": "about:blank",
        "title": title,
        "status": status.as_u16(),
        "detail": detail.into(),
    });
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        body.to_string(),
    )
        .into_response()
}

fn unexpected(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "api request failed");
    problem(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Internal error",
        "the server could not complete the request; try again",
    )
}

/// Runs blocking storage work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Response> {
    tokio::task::spawn_blocking(f).await.map_err(unexpected)
}

// The limiter is locked only inside these plain functions, so no lock guard can live across
// an await in a handler.
fn limiter_check(
    m: &Mutex<access::LoginLimiter>,
    name: &str,
    ip: &str,
    at: Timestamp,
) -> Option<access::RetryAfter> {
    m.lock().ok()?.check_login(name, ip, at.millis()).err()
}

fn limiter_record(
    m: &Mutex<access::LoginLimiter>,
    name: &str,
    ip: &str,
    at: Timestamp,
    success: bool,
) {
    if let Ok(mut l) = m.lock() {
        if success {
            l.record_login_success(name);
        } else {
            l.record_login_failure(name, ip, at.millis());
        }
    }
}

#[derive(Deserialize)]
struct LoginRequest {
    name: String,
    password: String,
}

async fn login(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(req): Json<LoginRequest>,
) -> Response {
    let ip = peer.ip().to_string();
    let at = now();
    if let Some(retry) = limiter_check(&state.limiter, &req.name, &ip, at) {
        let mut r = problem(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many failed logins",
            format!("wait {} seconds before trying again", retry.secs()),
        );
        if let Ok(v) = header::HeaderValue::from_str(&retry.secs().to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return r;
    }
    let (store, name, password) = (state.store.clone(), req.name.clone(), req.password);
    let verified = blocking(move || -> Result<bool, storage::StoreError> {
        Ok(store
            .password_hash(&name)?
            .is_some_and(|hash| access::verify_password(&password, &hash)))
    })
    .await;
    let verified = match verified {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => return unexpected(e),
        Err(r) => return r,
    };
    if !verified {
        limiter_record(&state.limiter, &req.name, &ip, at, false);
        return problem(
            StatusCode::UNAUTHORIZED,
            "Login failed",
            "the user name or the password is wrong",
        );
    }
    limiter_record(&state.limiter, &req.name, &ip, at, true);
    let (token, hash) = access::new_token();
    let expires = Timestamp::from_millis(at.millis() + TOKEN_LIFETIME_MS);
    let (store, name) = (state.store.clone(), req.name.clone());
    let stored = blocking(move || store.add_token(&hash.to_hex(), &name, expires, at)).await;
    match stored {
        Ok(Ok(())) => Json(serde_json::json!({ "token": token, "expires_at": expires.rfc3339() }))
            .into_response(),
        Ok(Err(e)) => unexpected(e),
        Err(r) => r,
    }
}

/// The user behind the request's bearer token, or the problem to answer with.
async fn user(state: &ApiState, headers: &HeaderMap) -> Result<storage::UserRow, Response> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or("");
    let missing = || {
        problem(
            StatusCode::UNAUTHORIZED,
            "Not logged in",
            "send Authorization: Bearer <token> from POST /api/v1/login; tokens expire after 12 hours",
        )
    };
    if token.is_empty() {
        return Err(missing());
    }
    let hash = access::TokenHash::of(token).to_hex();
    let store = state.store.clone();
    match blocking(move || store.token_user(&hash, now())).await? {
        Ok(Some(u)) => Ok(u),
        Ok(None) => Err(missing()),
        Err(e) => Err(unexpected(e)),
    }
}

async fn me(State(state): State<ApiState>, headers: HeaderMap) -> Response {
    match user(&state, &headers).await {
        Ok(u) => Json(
            serde_json::json!({ "name": u.name, "roles": u.roles, "employee": u.employee_number }),
        )
        .into_response(),
        Err(r) => r,
    }
}

#[derive(Deserialize)]
struct PrivacyRequest {
    on: bool,
}

/// The driver's privacy switch: the vehicle assigned to the employee today leaves the fleet
/// view and the trip is logged as private (date and km only).
async fn privacy(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Json(req): Json<PrivacyRequest>,
) -> Response {
    let u = match user(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let Some(employee) = u
        .employee_number
        .clone()
        .filter(|_| u.roles.iter().any(|r| r == "employee"))
    else {
        return problem(
            StatusCode::FORBIDDEN,
            "Not a driver",
            "privacy mode is switched by the employee who drives; this user has no employee record",
        );
    };
    let store = state.store.clone();
    let result = blocking(move || -> Result<Option<String>, storage::StoreError> {
        let at = now();
        let today = at.to_offset_date_time().map(|d| d.date());
        let org = store.load_org()?;
        let Some(reg) = org
            .assignments
            .iter()
            .find(|a| {
                a.employee == employee
                    && today.is_some_and(|d| a.from <= d && a.to.is_none_or(|t| d < t))
            })
            .map(|a| a.vehicle.clone())
        else {
            return Ok(None);
        };
        let Some(vehicle) = store.vehicle_id(&reg)? else {
            return Ok(None);
        };
        store.switch_privacy(vehicle, req.on, &format!("app ({})", u.name), at)?;
        store.audit_append(storage::AuditRecord {
            at,
            actor: u.name.clone(),
            role: "employee".to_owned(),
            purpose: "privacy_mode".to_owned(),
            subject: Some(employee),
            action: ledger::Action::Change,
            object: format!(
                "privacy mode {} for {reg}",
                if req.on { "on" } else { "off" }
            ),
            outcome: "done".to_owned(),
        })?;
        Ok(Some(reg.to_string()))
    })
    .await;
    match result {
        Ok(Ok(Some(reg))) => {
            Json(serde_json::json!({ "vehicle": reg, "private": req.on })).into_response()
        }
        Ok(Ok(None)) => problem(
            StatusCode::CONFLICT,
            "No vehicle today",
            "no vehicle is assigned to you today in the organisation file",
        ),
        Ok(Err(e)) => unexpected(e),
        Err(r) => r,
    }
}
