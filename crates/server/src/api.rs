//! The JSON API under `/api/v1`. The router and the OpenAPI document (`/api/v1/openapi.json`)
//! are both built from one table, [`ENDPOINTS`], so they cannot drift; the authorisation
//! matrix test walks the same table. Every read of personal data goes through
//! [`crate::reads`] (policy, ledger, capability). Errors are `application/problem+json`
//! (RFC 9457) with a message a person can act on.

use std::net::SocketAddr;
use std::sync::Arc;

use access::ReadPurpose;
use axum::Json;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use domain::Timestamp;
use domain::changes::RefusalKind;
use domain::drivinglog::{Classification, LogEntry};
use ledger::Action;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::ingest::now;
use crate::purpose_worker::Shared;
use crate::reads::exports::{Download, Format};
use crate::reads::{ReadError, Reads, Who};

/// How long a token from `POST /api/v1/login` is valid.
pub const TOKEN_LIFETIME_MS: i64 = 12 * 3600 * 1000;

#[derive(Clone)]
struct ApiState {
    reads: Reads,
    shared: Arc<Shared>,
}

/// HTTP methods the API uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// Whose data an endpoint reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// No personal data (login, identity, the document itself).
    None,
    /// The caller's own data (scope "own").
    Own,
    /// One vehicle's data (scope "vehicle"; an employee reads their own trips in it).
    Vehicle,
    /// Everything the purpose covers (scope "all").
    All,
    /// One employee's data, to answer their access request.
    AccessRequest,
}

/// What an endpoint does; one handler each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Login,
    Logout,
    Me,
    OpenApi,
    Fleet,
    FleetStream,
    DrivingLog,
    SignMonth,
    ReturnMonth,
    OwnTrips,
    Classify,
    CorrectDriver,
    Privacy,
    Alarms,
    AlarmPositions,
    ResolveAlarm,
    Aggregates,
    Ledger,
    OwnLedger,
    Register,
    MyData,
    MyExport,
    AccessReport,
    Followups,
    FleetMonthExport,
    TaxYear,
    Payroll,
}

/// A query parameter, for the OpenAPI document.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    pub name: &'static str,
    pub required: bool,
    pub description: &'static str,
}

/// One endpoint: method, path, what it does, the purpose its data serves, and whose data.
#[derive(Clone, Copy, Debug)]
pub struct Endpoint {
    pub method: Method,
    /// axum's path syntax: `{name}` for a path parameter.
    pub path: &'static str,
    pub op: Op,
    pub summary: &'static str,
    /// The purpose the endpoint serves; `None` when it reads no personal data.
    pub purpose: Option<ReadPurpose>,
    pub reach: Reach,
    pub query: &'static [Param],
    /// The JSON body a POST takes, as an example.
    pub body: Option<&'static str>,
    /// The content type of a successful answer.
    pub produces: &'static str,
}

const ROLE: Param = Param {
    name: "role",
    required: false,
    description: "Which of your roles you act in (default: your first role).",
};
const PURPOSE: Param = Param {
    name: "purpose",
    required: false,
    description: "The purpose of the read (default: the endpoint's). Timesheet control and performance review are refused with the reason and recorded.",
};
const MONTH: Param = Param {
    name: "month",
    required: true,
    description: "YYYY-MM for a month, YYYY for a year.",
};
const FORMAT: Param = Param {
    name: "format",
    required: false,
    description: "json (default), pdf, csv, xlsx or zip (pdf, every table as csv, the workbook); every file is an export, recorded as one.",
};
const FILE_FORMAT: Param = Param {
    name: "format",
    required: false,
    description: "json (default), csv, xlsx or zip (every table as csv, the workbook; for all vehicles also each vehicle's pdf); every file is an export, recorded as one.",
};
const DIALECT: Param = Param {
    name: "dialect",
    required: false,
    description: "For csv and zip: excel (default: semicolon, decimal comma, UTF-8 with BOM, for Norwegian Excel) or rfc4180 (comma, decimal point, ISO dates, for programs).",
};
const PART: Param = Param {
    name: "part",
    required: false,
    description: "For csv: which table (driving log: trips (default), summary, deviations; tax year: per-vehicle (default), per-employee). Columns in docs/exports.md.",
};
const YEAR_MONTH: Param = Param {
    name: "month",
    required: true,
    description: "YYYY for the whole year, or YYYY-MM for the year up to the end of that month.",
};
const ONE_MONTH: Param = Param {
    name: "month",
    required: true,
    description: "YYYY-MM.",
};
const SUBJECT: Param = Param {
    name: "subject",
    required: false,
    description: "An employee number: only the entries about that employee (an access report).",
};
const REFERENCE: Param = Param {
    name: "reference",
    required: true,
    description: "The access request's reference (its case number); recorded on the ledger.",
};
const ZIP: Param = Param {
    name: "format",
    required: false,
    description: "json (default) or zip (JSON and CSV files).",
};
const LANG: Param = Param {
    name: "lang",
    required: false,
    description: "nb (default) or en, for the PDF.",
};

const fn ep(
    method: Method,
    path: &'static str,
    op: Op,
    summary: &'static str,
    purpose: Option<ReadPurpose>,
    reach: Reach,
) -> Endpoint {
    Endpoint {
        method,
        path,
        op,
        summary,
        purpose,
        reach,
        query: &[ROLE, PURPOSE],
        body: None,
        produces: "application/json",
    }
}

/// Every endpoint of the API.
pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        query: &[],
        body: Some(r#"{"name": "kari", "password": "…"}"#),
        ..ep(
            Method::Post,
            "/api/v1/login",
            Op::Login,
            "Log in; answers a bearer token valid for 12 hours.",
            None,
            Reach::None,
        )
    },
    Endpoint {
        query: &[],
        ..ep(
            Method::Post,
            "/api/v1/logout",
            Op::Logout,
            "Revoke the bearer token this request carries.",
            None,
            Reach::None,
        )
    },
    Endpoint {
        query: &[],
        ..ep(
            Method::Get,
            "/api/v1/me",
            Op::Me,
            "Who you are: name, roles, employee number.",
            None,
            Reach::None,
        )
    },
    Endpoint {
        query: &[],
        ..ep(
            Method::Get,
            "/api/v1/openapi.json",
            Op::OpenApi,
            "This document.",
            None,
            Reach::None,
        )
    },
    ep(
        Method::Get,
        "/api/v1/fleet",
        Op::Fleet,
        "The live fleet view: where the vehicles are now (vehicles in privacy mode are absent). Nothing is stored.",
        Some(ReadPurpose::FleetView),
        Reach::All,
    ),
    Endpoint {
        produces: "text/event-stream",
        ..ep(
            Method::Get,
            "/api/v1/fleet/stream",
            Op::FleetStream,
            "The live fleet view as server-sent events: snapshot, moved, gone.",
            Some(ReadPurpose::FleetView),
            Reach::All,
        )
    },
    Endpoint {
        query: &[ROLE, PURPOSE, MONTH, FORMAT, DIALECT, PART, LANG],
        ..ep(
            Method::Get,
            "/api/v1/vehicles/{reg}/driving-log",
            Op::DrivingLog,
            "A vehicle's driving log (kjørebok) for a month or year: private trips as date and km; for the log keeper, unclassified trips as date and km too. An employee sees their own trips.",
            Some(ReadPurpose::DrivingLog),
            Reach::Vehicle,
        )
    },
    Endpoint {
        query: &[ROLE],
        ..ep(
            Method::Post,
            "/api/v1/vehicles/{reg}/driving-log/{month}/sign",
            Op::SignMonth,
            "Sign a month that has ended, with every trip classified: the driver (employee role) submits it, then the log keeper approves it, which makes it final.",
            Some(ReadPurpose::DrivingLog),
            Reach::Vehicle,
        )
    },
    Endpoint {
        query: &[ROLE],
        body: Some(r#"{"comment": "Trip 17 was a customer visit: classify it as business"}"#),
        ..ep(
            Method::Post,
            "/api/v1/vehicles/{reg}/driving-log/{month}/return",
            Op::ReturnMonth,
            "The log keeper returns a submitted month to its driver with a comment the driver sees; the driver corrects it and submits again.",
            Some(ReadPurpose::DrivingLog),
            Reach::Vehicle,
        )
    },
    Endpoint {
        query: &[ROLE, PURPOSE, MONTH],
        ..ep(
            Method::Get,
            "/api/v1/me/trips",
            Op::OwnTrips,
            "Your own trips in a month or year, in every vehicle, with the tax-threshold totals.",
            Some(ReadPurpose::DrivingLog),
            Reach::Own,
        )
    },
    Endpoint {
        query: &[ROLE, PURPOSE, MONTH],
        ..ep(
            Method::Get,
            "/api/v1/driving-log/followups",
            Op::Followups,
            "The log keeper's follow-up lists for a month or year, every vehicle: trips started outside working hours without a business purpose, and trips still unclassified after the organisation's limit. Date and km only; private trips never appear.",
            Some(ReadPurpose::DrivingLog),
            Reach::All,
        )
    },
    Endpoint {
        query: &[],
        body: Some(r#"{"business": "Service, Tøyen Torg"} or {"private": true}"#),
        ..ep(
            Method::Post,
            "/api/v1/me/trips/{id}/classify",
            Op::Classify,
            "Classify one of your trips as business (with its purpose) or private.",
            Some(ReadPurpose::DrivingLog),
            Reach::Own,
        )
    },
    Endpoint {
        query: &[ROLE],
        body: Some(r#"{"driver": "1002", "reason": "We swapped vans that day"}"#),
        ..ep(
            Method::Post,
            "/api/v1/trips/{id}/driver",
            Op::CorrectDriver,
            "Correct a wrong driver attribution: the log keeper for any trip, an employee for a trip attributed to them. A supplement: the recorded driver, distance, date and time stay, and the correction is shown beside them.",
            Some(ReadPurpose::DrivingLog),
            Reach::Vehicle,
        )
    },
    Endpoint {
        query: &[],
        body: Some(r#"{"on": true} or {"on": true, "vehicle": "EK 12345"}"#),
        ..ep(
            Method::Post,
            "/api/v1/me/privacy",
            Op::Privacy,
            "Switch privacy mode for the vehicle assigned to you today: it leaves the fleet view and the trip is logged as private (date and km only).",
            Some(ReadPurpose::OwnData),
            Reach::Own,
        )
    },
    ep(
        Method::Get,
        "/api/v1/alarms",
        Op::Alarms,
        "Alarm windows, newest first.",
        Some(ReadPurpose::Alarm),
        Reach::All,
    ),
    ep(
        Method::Get,
        "/api/v1/alarms/{id}/positions",
        Op::AlarmPositions,
        "The positions kept inside one alarm window.",
        Some(ReadPurpose::Alarm),
        Reach::All,
    ),
    Endpoint {
        query: &[ROLE],
        body: Some(r#"{"incident": false}"#),
        ..ep(
            Method::Post,
            "/api/v1/alarms/{id}/resolve",
            Op::ResolveAlarm,
            "Resolve an alarm window with a note saying how it ended (`{\"note\": …, \"incident\": false}`; the note is required); an incident keeps its positions for a year instead of 30 days.",
            Some(ReadPurpose::Alarm),
            Reach::All,
        )
    },
    ep(
        Method::Get,
        "/api/v1/stats/utilization",
        Op::Aggregates,
        "Anonymous weekly utilisation aggregates per vehicle group (suppressed below 5 vehicles).",
        Some(ReadPurpose::Utilization),
        Reach::All,
    ),
    Endpoint {
        query: &[ROLE, PURPOSE, SUBJECT],
        ..ep(
            Method::Get,
            "/api/v1/ledger",
            Op::Ledger,
            "The audit ledger's metadata (who, role, purpose, whose data, what, when, outcome), newest first, with its verification status.",
            Some(ReadPurpose::LedgerMetadata),
            Reach::All,
        )
    },
    ep(
        Method::Get,
        "/api/v1/me/ledger",
        Op::OwnLedger,
        "Who looked at your data, when, and for which purpose.",
        Some(ReadPurpose::LedgerMetadata),
        Reach::Own,
    ),
    ep(
        Method::Get,
        "/api/v1/register/measures",
        Op::Register,
        "The compliance register: the monitoring measures (kontrolltiltak) with their verdict (the same on every door) and their gate today (may the purpose collect, what is missing, warnings, duties that came after the start).",
        Some(ReadPurpose::Register),
        Reach::All,
    ),
    ep(
        Method::Get,
        "/api/v1/me/data",
        Op::MyData,
        "Everything held about you, per purpose (GDPR art. 15).",
        Some(ReadPurpose::OwnData),
        Reach::Own,
    ),
    Endpoint {
        produces: "application/zip",
        ..ep(
            Method::Get,
            "/api/v1/me/export.zip",
            Op::MyExport,
            "Everything held about you as a ZIP of JSON and CSV files (GDPR art. 15 and 20).",
            Some(ReadPurpose::OwnData),
            Reach::Own,
        )
    },
    Endpoint {
        query: &[ROLE, PURPOSE, REFERENCE, ZIP],
        ..ep(
            Method::Get,
            "/api/v1/employees/{number}/access-report",
            Op::AccessReport,
            "The privacy officer answers one employee's access request (GDPR art. 15): everything held about them, as for /me/data; recorded with the request's reference and shown in the employee's own access log.",
            Some(ReadPurpose::OwnData),
            Reach::AccessRequest,
        )
    },
    Endpoint {
        query: &[ROLE, PURPOSE, ONE_MONTH, FILE_FORMAT, DIALECT, PART, LANG],
        ..ep(
            Method::Get,
            "/api/v1/driving-log",
            Op::FleetMonthExport,
            "Every vehicle's driving log for one month in one download (the log keeper's): trips, summary and deviations of all vehicles; as zip also each vehicle's PDF.",
            Some(ReadPurpose::DrivingLog),
            Reach::All,
        )
    },
    Endpoint {
        query: &[ROLE, PURPOSE, YEAR_MONTH, FILE_FORMAT, DIALECT, PART, LANG],
        ..ep(
            Method::Get,
            "/api/v1/tax-year",
            Op::TaxYear,
            "The tax year per vehicle and per employee: business and private km, private days, and the thresholds (occasional private use at most 10 days and 1,000 km; 40,000 km of business driving).",
            Some(ReadPurpose::DrivingLog),
            Reach::All,
        )
    },
    Endpoint {
        query: &[ROLE, PURPOSE, MONTH, FILE_FORMAT, DIALECT, LANG],
        ..ep(
            Method::Get,
            "/api/v1/payroll",
            Op::Payroll,
            "Private km per employee per month and vehicle, with the year so far: the payroll's input to the benefit taxation of company cars (firmabilbeskatning).",
            Some(ReadPurpose::DrivingLog),
            Reach::All,
        )
    },
];

pub fn router(reads: Reads, shared: Arc<Shared>) -> axum::Router {
    let mut router = axum::Router::new();
    for e in ENDPOINTS {
        router = router.route(e.path, handler(e.op));
    }
    router
        .route("/api/v1/{*rest}", axum::routing::any(no_such_endpoint))
        .layer(axum::middleware::map_response(as_problem))
        .with_state(ApiState { reads, shared })
}

async fn no_such_endpoint(uri: axum::http::Uri) -> Response {
    problem(
        StatusCode::NOT_FOUND,
        "No such endpoint",
        format!(
            "there is no endpoint {}; the endpoints are listed in /api/v1/openapi.json",
            uri.path()
        ),
    )
}

/// The largest body of an error answer that is turned into a problem document.
const REJECTION_LIMIT: usize = 16 * 1024;

/// Every error answer of the API is a problem document with the same fields, also those made
/// by axum itself before a handler runs (a path parameter that does not parse, a body that is
/// not the JSON asked for, a method the path does not take): their text becomes the detail.
async fn as_problem(r: Response) -> Response {
    let status = r.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return r;
    }
    let is_problem = r
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/problem+json"));
    if is_problem {
        return r;
    }
    let (parts, body) = r.into_parts();
    let text = axum::body::to_bytes(body, REJECTION_LIMIT)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let title = status.canonical_reason().unwrap_or("Error");
    let detail = if text.is_empty() {
        format!("{title}; see /api/v1/openapi.json for what this endpoint takes")
    } else {
        format!("{text}; see /api/v1/openapi.json for what this endpoint takes")
    };
    let mut out = problem(status, title, detail);
    // Keep what the client needs from the original answer (Allow, Retry-After).
    for name in [header::ALLOW, header::RETRY_AFTER] {
        if let Some(v) = parts.headers.get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    out
}

fn handler(op: Op) -> MethodRouter<ApiState> {
    match op {
        Op::Login => post(login),
        Op::Logout => post(logout),
        Op::Me => get(me),
        Op::OpenApi => get(|| async { Json(openapi()) }),
        Op::Fleet => get(fleet),
        Op::FleetStream => get(fleet_stream),
        Op::DrivingLog => get(driving_log),
        Op::SignMonth => post(sign_month),
        Op::ReturnMonth => post(return_month),
        Op::OwnTrips => get(own_trips),
        Op::Classify => post(classify),
        Op::CorrectDriver => post(correct_driver),
        Op::Privacy => post(privacy),
        Op::Alarms => get(alarms),
        Op::AlarmPositions => get(alarm_positions),
        Op::ResolveAlarm => post(resolve_alarm),
        Op::Aggregates => get(aggregates),
        Op::Ledger => get(ledger_entries),
        Op::OwnLedger => get(own_ledger),
        Op::Register => get(register_measures),
        Op::MyData => get(my_data),
        Op::MyExport => get(my_export),
        Op::AccessReport => get(access_report),
        Op::Followups => get(followups),
        Op::FleetMonthExport => get(fleet_month_export),
        Op::TaxYear => get(tax_year),
        Op::Payroll => get(payroll),
    }
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// An RFC 9457 problem document.
pub fn problem(status: StatusCode, title: &str, detail: impl Into<String>) -> Response {
    problem_with(status, title, detail, json!({}))
}

fn problem_with(
    status: StatusCode,
    title: &str,
    detail: impl Into<String>,
    extra: Value,
) -> Response {
    let mut body = json!({
        "type": "about:blank",
        "title": title,
        "status": status.as_u16(),
        "detail": detail.into(),
    });
    if let (Some(b), Value::Object(extra)) = (body.as_object_mut(), extra) {
        b.extend(extra);
    }
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

/// The answer for a read that gave nothing.
pub fn read_problem(e: ReadError) -> Response {
    match e {
        ReadError::Denied(d) => problem_with(
            StatusCode::FORBIDDEN,
            "Refused by the access policy",
            d.message_en(),
            json!({
                "kind": d.kind().as_str(),
                "citation": d.reason().citation,
                "detail_nb": d.message_nb(),
            }),
        ),
        ReadError::NotFound(m) => problem(StatusCode::NOT_FOUND, "Not found", m),
        ReadError::Invalid(m) => problem(StatusCode::BAD_REQUEST, "Bad request", m),
        ReadError::Audit(e) => {
            tracing::error!(error = %e, "audit ledger append failed");
            problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "Audit ledger unavailable",
                "the access could not be recorded, so nothing is shown; try again shortly",
            )
        }
        ReadError::Refused(r) => {
            let (status, title) = match r.kind {
                RefusalKind::NotFound => (StatusCode::NOT_FOUND, "Not found"),
                RefusalKind::NotYours => (StatusCode::FORBIDDEN, "Not yours to change"),
                RefusalKind::Conflict => (StatusCode::CONFLICT, "Not possible now"),
                RefusalKind::Invalid => (StatusCode::BAD_REQUEST, "Bad request"),
            };
            problem_with(status, title, r.en, json!({ "detail_nb": r.nb }))
        }
        ReadError::Store(storage::StoreError::Refused(m)) => {
            problem(StatusCode::CONFLICT, "Not possible", m)
        }
        ReadError::Store(e) => unexpected(e),
    }
}

/// Runs blocking storage work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Response> {
    tokio::task::spawn_blocking(f).await.map_err(unexpected)
}

/// Runs a read on a blocking thread and turns its outcome into an answer.
async fn run<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ReadError> + Send + 'static,
    ok: impl FnOnce(T) -> Response,
) -> Response {
    match blocking(f).await {
        Ok(Ok(v)) => ok(v),
        Ok(Err(e)) => read_problem(e),
        Err(r) => r,
    }
}

// ---------------------------------------------------------------------------------------------
// Who is asking
// ---------------------------------------------------------------------------------------------

/// The `role` and `purpose` every read takes.
#[derive(Debug, Default, Deserialize)]
struct Acting {
    role: Option<String>,
    purpose: Option<String>,
}

impl Acting {
    /// The declared purpose; the error says which purposes exist.
    fn purpose(&self) -> Result<Option<ReadPurpose>, String> {
        match &self.purpose {
            None => Ok(None),
            Some(p) => ReadPurpose::parse(p).map(Some).ok_or_else(|| {
                format!(
                    "purpose {p:?} is not one of: {}",
                    ReadPurpose::ALL.map(|p| p.as_str()).join(", ")
                )
            }),
        }
    }
}

fn bearer(headers: &HeaderMap) -> &str {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or("")
}

fn not_logged_in() -> Response {
    problem(
        StatusCode::UNAUTHORIZED,
        "Not logged in",
        "send Authorization: Bearer <token> from POST /api/v1/login; tokens expire after 12 hours and end at logout",
    )
}

/// The user behind the request's bearer token, or the problem to answer with.
async fn user(state: &ApiState, headers: &HeaderMap) -> Result<storage::UserRow, Response> {
    let token = bearer(headers);
    if token.is_empty() {
        return Err(not_logged_in());
    }
    let hash = access::TokenHash::of(token).to_hex();
    let store = state.reads.store().clone();
    match blocking(move || store.token_user(&hash, now())).await? {
        Ok(Some(u)) => Ok(u),
        Ok(None) => Err(not_logged_in()),
        Err(e) => Err(unexpected(e)),
    }
}

/// The acting user in the role the request names.
async fn who(
    state: &ApiState,
    headers: &HeaderMap,
    acting: &Acting,
) -> Result<(Who, Option<ReadPurpose>), Response> {
    let row = user(state, headers).await?;
    let purpose = acting
        .purpose()
        .map_err(|m| problem(StatusCode::BAD_REQUEST, "Unknown purpose", m))?;
    let who = Who::from_row(&row, acting.role.as_deref()).map_err(read_problem)?;
    Ok((who, purpose))
}

// ---------------------------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------------------------

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
    let at = now();
    let attempt = state
        .reads
        .logins()
        .attempt(state.reads.store(), &req.name, req.password, peer.ip())
        .await;
    let refused = |mut r: Response| {
        r.extensions_mut()
            .insert(crate::login::Refusal::FailedLogin);
        r
    };
    match attempt {
        Ok(crate::login::Attempt::Accepted) => {}
        Ok(crate::login::Attempt::Refused) => {
            return refused(problem(
                StatusCode::UNAUTHORIZED,
                "Login failed",
                "the user name or the password is wrong",
            ));
        }
        Ok(crate::login::Attempt::Limited(retry)) => {
            let mut r = problem(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many failed logins",
                format!("wait {} seconds before trying again", retry.secs()),
            );
            if let Ok(v) = header::HeaderValue::from_str(&retry.secs().to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return refused(r);
        }
        Ok(crate::login::Attempt::Busy) => {
            let mut r = problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "Busy",
                "every password check is busy; try again in a few seconds",
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
            return r;
        }
        Err(e) => return unexpected(e),
    }
    let (token, hash) = access::new_token();
    let expires = Timestamp::from_millis(at.millis() + TOKEN_LIFETIME_MS);
    let (store, name) = (state.reads.store().clone(), req.name.clone());
    let stored = blocking(move || store.add_token(&hash.to_hex(), &name, expires, at)).await;
    match stored {
        Ok(Ok(())) => {
            Json(json!({ "token": token, "expires_at": expires.rfc3339() })).into_response()
        }
        Ok(Err(e)) => unexpected(e),
        Err(r) => r,
    }
}

async fn logout(State(state): State<ApiState>, headers: HeaderMap) -> Response {
    let token = bearer(&headers);
    if token.is_empty() {
        return not_logged_in();
    }
    let hash = access::TokenHash::of(token).to_hex();
    let store = state.reads.store().clone();
    match blocking(move || store.revoke_token(&hash)).await {
        Ok(Ok(true)) => Json(json!({ "revoked": true })).into_response(),
        Ok(Ok(false)) => not_logged_in(),
        Ok(Err(e)) => unexpected(e),
        Err(r) => r,
    }
}

async fn me(State(state): State<ApiState>, headers: HeaderMap) -> Response {
    match user(&state, &headers).await {
        Ok(u) => Json(json!({ "name": u.name, "roles": u.roles, "employee": u.employee_number }))
            .into_response(),
        Err(r) => r,
    }
}

/// Extracts who is asking, or answers.
macro_rules! acting {
    ($state:expr, $headers:expr, $acting:expr) => {
        match who(&$state, &$headers, &$acting).await {
            Ok(w) => w,
            Err(r) => return r,
        }
    };
}

async fn fleet(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Query(q): Query<Acting>,
) -> Response {
    let (w, purpose) = acting!(state, headers, q);
    let reads = state.reads.clone();
    run(
        move || reads.fleet(&w, purpose),
        |now| Json(crate::fleet_api::positions_json(&now)).into_response(),
    )
    .await
}

async fn fleet_stream(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Query(q): Query<Acting>,
) -> Response {
    let (w, purpose) = acting!(state, headers, q);
    let reads = state.reads.clone();
    let shared = state.shared.clone();
    let store = state.reads.store().clone();
    let token_hash = access::TokenHash::of(bearer(&headers)).to_hex();
    run(
        move || reads.fleet_view(&w, purpose),
        move |(_, watch)| crate::fleet_api::stream_changes(shared, store, token_hash, watch),
    )
    .await
}

#[derive(Deserialize)]
struct LogQuery {
    role: Option<String>,
    purpose: Option<String>,
    month: Option<String>,
    format: Option<String>,
    dialect: Option<String>,
    part: Option<String>,
    lang: Option<String>,
}

fn report_lang(lang: Option<&str>) -> report::Lang {
    match lang {
        Some("en") => report::Lang::En,
        _ => report::Lang::Nb,
    }
}

/// A file as an attachment.
fn download(d: Download) -> Response {
    (
        [
            (header::CONTENT_TYPE, d.content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", d.file_name),
            ),
        ],
        d.bytes,
    )
        .into_response()
}

/// Which all-vehicle export a handler serves.
#[derive(Clone, Copy)]
enum Accounts {
    FleetMonth,
    TaxYear,
    Payroll,
}

/// The log keeper's all-vehicle exports: one read each, through `reads::exports`.
async fn accounts(state: ApiState, headers: HeaderMap, q: LogQuery, which: Accounts) -> Response {
    let acting = Acting {
        role: q.role.clone(),
        purpose: q.purpose.clone(),
    };
    let (w, purpose) = acting!(state, headers, acting);
    let Some(month) = q.month.clone() else {
        return problem(
            StatusCode::BAD_REQUEST,
            "Month missing",
            match which {
                Accounts::FleetMonth => "add ?month=YYYY-MM",
                Accounts::TaxYear => {
                    "add ?month=YYYY (the year) or YYYY-MM (the year to the end of that month)"
                }
                Accounts::Payroll => {
                    "add ?month=YYYY-MM (a month) or YYYY (every month of the year)"
                }
            },
        );
    };
    let format = match Format::parse(
        q.format.as_deref(),
        q.dialect.as_deref(),
        q.part.as_deref(),
        Format::Json,
    ) {
        Ok(f) => f,
        Err(e) => return read_problem(e),
    };
    let lang = report_lang(q.lang.as_deref());
    let reads = state.reads.clone();
    run(
        move || match which {
            Accounts::FleetMonth => reads.fleet_month_download(&w, purpose, &month, &format, lang),
            Accounts::TaxYear => reads.tax_year_download(&w, purpose, &month, &format, lang),
            Accounts::Payroll => reads.payroll_download(&w, purpose, &month, &format, lang),
        },
        |d| {
            if d.content_type == "application/json" {
                ([(header::CONTENT_TYPE, d.content_type)], d.bytes).into_response()
            } else {
                download(d)
            }
        },
    )
    .await
}

async fn fleet_month_export(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Query(q): Query<LogQuery>,
) -> Response {
    accounts(state, headers, q, Accounts::FleetMonth).await
}

async fn tax_year(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Query(q): Query<LogQuery>,
) -> Response {
    accounts(state, headers, q, Accounts::TaxYear).await
}

async fn payroll(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Query(q): Query<LogQuery>,
) -> Response {
    accounts(state, headers, q, Accounts::Payroll).await
}

async fn driving_log(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path(reg): Path<String>,
    Query(q): Query<LogQuery>,
) -> Response {
    let acting = Acting {
        role: q.role.clone(),
        purpose: q.purpose.clone(),
    };
    let (w, purpose) = acting!(state, headers, acting);
    let Some(month) = q.month.clone() else {
        return problem(
            StatusCode::BAD_REQUEST,
            "Month missing",
            "add ?month=YYYY-MM (or YYYY for a year)",
        );
    };
    let format = match Format::parse(
        q.format.as_deref(),
        q.dialect.as_deref(),
        q.part.as_deref(),
        Format::Json,
    ) {
        Ok(f) => f,
        Err(e) => return read_problem(e),
    };
    let lang = report_lang(q.lang.as_deref());
    let reads = state.reads.clone();
    if format != Format::Json {
        return run(
            move || reads.driving_log_download(&w, purpose, &reg, &month, &format, lang),
            download,
        )
        .await;
    }
    run(move || reads.driving_log(&w, purpose, &reg, &month, Action::Read), move |log| {
        Json(json!({
            "vehicle": log.vehicle.to_string(),
            "period": log.period,
            "entries": log.entries.iter().map(entry_json).collect::<Vec<_>>(),
            "deviations": log.deviations.iter().map(|d| json!({
                "date": d.date.to_string(), "from": d.from.rfc3339(), "to": d.to.rfc3339(),
                "kind": d.kind, "km": d.km, "note": d.note,
                "odometer_before_km": d.odometer_km.map(|o| o.0),
                "odometer_after_km": d.odometer_km.map(|o| o.1),
            })).collect::<Vec<_>>(),
            "odometer_readings": log.odometer_readings.iter().map(|r| json!({
                "date": r.date.to_string(), "km": r.km,
            })).collect::<Vec<_>>(),
            "signoffs": log.signoffs.iter().map(step_json).collect::<Vec<_>>(),
            "driver_corrections": log.driver_corrections.iter().map(|c| json!({
                "trip": c.trip, "recorded_driver": c.recorded, "driver": c.driver,
                "reason": c.reason, "by": c.by, "at": c.at.rfc3339(),
            })).collect::<Vec<_>>(),
            "year_to_date": totals_json(&log.year),
            "tax_notices": log.notices.iter().map(|n| json!({"code": n.code, "nb": n.nb, "en": n.en})).collect::<Vec<_>>(),
        }))
        .into_response()
    })
    .await
}

/// A driving-log entry as JSON: a private or (for the keeper) unclassified trip is its date
/// and km and nothing else.
pub fn entry_json(e: &LogEntry) -> Value {
    match e {
        LogEntry::Private(p) => {
            json!({ "id": p.id, "type": "private", "date": p.date.to_string(), "km": p.km })
        }
        LogEntry::Unclassified(p) => {
            json!({ "id": p.id, "type": "unclassified", "date": p.date.to_string(), "km": p.km })
        }
        LogEntry::Trip(t) => json!({
            "id": t.id,
            "type": t.classification.as_str(),
            "purpose": match &t.classification { Classification::Business { purpose } => Some(purpose.as_str()), _ => None },
            "date": t.date.to_string(),
            "start": t.start.rfc3339(),
            "end": t.end.rfc3339(),
            "from": t.start_place,
            "to": t.end_place,
            "odometer_start_km": t.odometer_start_km,
            "odometer_end_km": t.odometer_end_km,
            "km": t.km,
            "distance_source": t.distance_source,
            "driver": t.driver,
        }),
    }
}

fn totals_json(t: &purposes::tax::YearTotals) -> Value {
    json!({
        "business_km": t.business_km,
        "private_km": t.private_km,
        "private_days": t.private_days,
        "unclassified_km": t.unclassified_km,
    })
}

async fn sign_month(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path((reg, month)): Path<(String, String)>,
    Query(q): Query<Acting>,
) -> Response {
    let (w, _) = acting!(state, headers, q);
    let reads = state.reads.clone();
    let (r, m) = (reg.clone(), month.clone());
    run(
        move || reads.changes().sign_month(&w, &r, &m),
        |()| Json(json!({ "vehicle": reg, "month": month, "signed": true })).into_response(),
    )
    .await
}

/// A step of a month's review as JSON: submitted (the driver's signature), returned (with
/// the keeper's comment) or approved (the keeper's signature: final).
fn step_json(s: &domain::changes::MonthStep) -> Value {
    json!({
        "step": s.kind.as_str(),
        "role": match s.kind {
            domain::changes::StepKind::Submitted => "driver",
            _ => "keeper",
        },
        "by": s.by,
        "at": s.at.rfc3339(),
        "comment": s.comment,
    })
}

#[derive(Deserialize)]
struct ReturnRequest {
    comment: String,
}

async fn return_month(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path((reg, month)): Path<(String, String)>,
    Query(q): Query<Acting>,
    Json(req): Json<ReturnRequest>,
) -> Response {
    let (w, _) = acting!(state, headers, q);
    let reads = state.reads.clone();
    let (r, m) = (reg.clone(), month.clone());
    run(
        move || reads.changes().return_month(&w, &r, &m, &req.comment),
        |()| Json(json!({ "vehicle": reg, "month": month, "returned": true })).into_response(),
    )
    .await
}

#[derive(Deserialize)]
struct MonthQuery {
    role: Option<String>,
    purpose: Option<String>,
    month: Option<String>,
}

async fn own_trips(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Query(q): Query<MonthQuery>,
) -> Response {
    let acting = Acting {
        role: q.role.clone(),
        purpose: q.purpose.clone(),
    };
    let (w, purpose) = acting!(state, headers, acting);
    let Some(month) = q.month.clone() else {
        return problem(
            StatusCode::BAD_REQUEST,
            "Month missing",
            "add ?month=YYYY-MM (or YYYY for a year)",
        );
    };
    let reads = state.reads.clone();
    run(
        move || {
            let trips = reads.own_trips(&w, purpose, &month)?;
            let entries: Vec<LogEntry> = trips.iter().map(|(_, e)| e.clone()).collect();
            let proposals = reads.proposals(&entries)?;
            Ok((trips, proposals))
        },
        |(trips, proposals)| {
            let entries: Vec<LogEntry> = trips.iter().map(|(_, e)| e.clone()).collect();
            Json(json!({
                "trips": trips.iter().map(|(reg, e)| {
                    let mut v = entry_json(e);
                    if let Some(o) = v.as_object_mut() {
                        o.insert("vehicle".into(), json!(reg));
                        // What the organisation's rules propose for an unclassified trip: the
                        // driver confirms it or classifies otherwise.
                        if let Some((_, p)) = proposals.iter().find(|(id, _)| *id == e.id()) {
                            o.insert("proposed".into(), json!({
                                "class": p.class.as_str(),
                                "purpose": p.purpose,
                                "rule_nb": p.rule.describe(false),
                                "rule_en": p.rule.describe(true),
                            }));
                        }
                    }
                    v
                }).collect::<Vec<_>>(),
                "totals": totals_json(&purposes::tax::totals(&entries)),
            }))
            .into_response()
        },
    )
    .await
}

async fn followups(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Query(q): Query<MonthQuery>,
) -> Response {
    let acting = Acting {
        role: q.role.clone(),
        purpose: q.purpose.clone(),
    };
    let (w, purpose) = acting!(state, headers, acting);
    let Some(month) = q.month.clone() else {
        return problem(
            StatusCode::BAD_REQUEST,
            "Month missing",
            "add ?month=YYYY-MM (or YYYY for a year)",
        );
    };
    let reads = state.reads.clone();
    run(
        move || reads.followups(&w, purpose, &month),
        |lists| {
            let list = |why: domain::drivinglog::FollowUp| {
                let trips: Vec<Value> = lists
                    .iter()
                    .filter(|f| f.why == why)
                    .map(|f| json!({ "id": f.trip.id, "vehicle": f.vehicle, "date": f.trip.date.to_string(), "km": f.trip.km }))
                    .collect();
                json!({ "count": trips.len(), "trips": trips })
            };
            Json(json!({
                "outside_working_hours_without_purpose": list(domain::drivinglog::FollowUp::OutsideWorkingHoursWithoutPurpose),
                "unclassified_too_long": list(domain::drivinglog::FollowUp::UnclassifiedTooLong),
            }))
            .into_response()
        },
    )
    .await
}

#[derive(Deserialize)]
struct ClassifyRequest {
    business: Option<String>,
    #[serde(default)]
    private: bool,
}

async fn classify(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path(trip): Path<i64>,
    Json(req): Json<ClassifyRequest>,
) -> Response {
    let (w, _) = acting!(
        state,
        headers,
        Acting {
            role: Some("employee".to_owned()),
            purpose: None
        }
    );
    let class = match (req.business, req.private) {
        (Some(p), false) if !p.trim().is_empty() => Classification::Business {
            purpose: p.trim().to_owned(),
        },
        (None, true) => Classification::Private,
        _ => {
            return problem(
                StatusCode::BAD_REQUEST,
                "Business or private",
                r#"send {"business": "purpose or customer"} or {"private": true}"#,
            );
        }
    };
    let reads = state.reads.clone();
    run(
        move || reads.changes().classify(&w, trip, &class).map(|()| class),
        move |class| {
            Json(json!({ "trip": trip, "classification": class.as_str() })).into_response()
        },
    )
    .await
}

#[derive(Deserialize)]
struct DriverRequest {
    driver: String,
    reason: String,
}

async fn correct_driver(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path(trip): Path<i64>,
    Query(q): Query<Acting>,
    Json(req): Json<DriverRequest>,
) -> Response {
    let (w, _) = acting!(state, headers, q);
    let reads = state.reads.clone();
    let driver = req.driver.clone();
    run(
        move || {
            reads
                .changes()
                .correct_driver(&w, trip, &req.driver, &req.reason)
        },
        move |()| Json(json!({ "trip": trip, "driver": driver })).into_response(),
    )
    .await
}

#[derive(Deserialize)]
struct PrivacyRequest {
    on: bool,
    /// The vehicle, when the employee has more than one today (default: the first).
    #[serde(default)]
    vehicle: Option<String>,
}

/// The driver's privacy switch: the vehicle assigned to the employee today leaves the fleet
/// view and the trip is logged as private (date and km only).
async fn privacy(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Json(req): Json<PrivacyRequest>,
) -> Response {
    let (w, _) = acting!(
        state,
        headers,
        Acting {
            role: Some("employee".to_owned()),
            purpose: None
        }
    );
    let reads = state.reads.clone();
    let source = format!("app ({})", w.user.name);
    let (on, vehicle) = (req.on, req.vehicle);
    run(
        move || {
            reads
                .changes()
                .switch_privacy(&w, vehicle.as_deref(), on, &source)
        },
        move |reg| Json(json!({ "vehicle": reg, "private": on })).into_response(),
    )
    .await
}

async fn alarms(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Query(q): Query<Acting>,
) -> Response {
    let (w, purpose) = acting!(state, headers, q);
    let reads = state.reads.clone();
    run(
        move || reads.alarms(&w, purpose),
        |windows| {
            Json(json!({
                "windows": windows.iter().map(|(reg, w)| json!({
                    "id": w.id,
                    "vehicle": reg,
                    "opened_at": w.opened_at.rfc3339(),
                    "triggers": w.triggers,
                    "last_trigger_at": w.last_trigger_at.rfc3339(),
                    "resolved_at": w.resolved_at.map(|t| t.rfc3339()),
                    "resolved_by": w.resolved_by,
                    "incident": w.incident,
                })).collect::<Vec<_>>()
            }))
            .into_response()
        },
    )
    .await
}

async fn alarm_positions(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<Acting>,
) -> Response {
    let (w, purpose) = acting!(state, headers, q);
    let reads = state.reads.clone();
    run(
        move || reads.alarm_positions(&w, purpose, id),
        move |positions| {
            Json(json!({
                "window": id,
                "positions": positions.iter().map(|(t, p)| json!({
                    "time": t.rfc3339(), "lat": p.lat(), "lon": p.lon(),
                })).collect::<Vec<_>>()
            }))
            .into_response()
        },
    )
    .await
}

#[derive(Deserialize)]
struct ResolveRequest {
    #[serde(default)]
    incident: bool,
    /// How the alarm ended (required).
    #[serde(default)]
    note: String,
}

async fn resolve_alarm(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<Acting>,
    Json(req): Json<ResolveRequest>,
) -> Response {
    let (w, _) = acting!(state, headers, q);
    let reads = state.reads.clone();
    run(
        move || {
            reads
                .changes()
                .resolve_alarm(&w, id, req.incident, &req.note)
        },
        move |()| {
            Json(json!({ "window": id, "resolved": true, "incident": req.incident }))
                .into_response()
        },
    )
    .await
}

async fn aggregates(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Query(q): Query<Acting>,
) -> Response {
    let (w, purpose) = acting!(state, headers, q);
    let reads = state.reads.clone();
    run(
        move || reads.aggregates(&w, purpose),
        |weeks| {
            Json(json!({
                "weeks": weeks.iter().map(|w| {
                    let body: Value = serde_json::from_str(&w.body).unwrap_or(Value::Null);
                    json!({ "group": w.group, "year": w.year, "week": w.week, "aggregate": body })
                }).collect::<Vec<_>>()
            }))
            .into_response()
        },
    )
    .await
}

/// A ledger entry's metadata as JSON (the ledger never holds the data itself).
pub fn ledger_json(s: &ledger::StoredEntry) -> Value {
    let e = &s.entry;
    json!({
        "seq": e.seq,
        "at": Timestamp::from_millis(e.at_ms).rfc3339(),
        "actor": e.actor,
        "role": e.role,
        "purpose": e.purpose,
        "subject": e.subject,
        "action": e.action.as_str(),
        "object": e.object,
        "outcome": e.outcome,
    })
}

#[derive(Deserialize)]
struct LedgerQuery {
    role: Option<String>,
    purpose: Option<String>,
    subject: Option<String>,
}

async fn ledger_entries(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Query(q): Query<LedgerQuery>,
) -> Response {
    let acting = Acting {
        role: q.role.clone(),
        purpose: q.purpose.clone(),
    };
    let (w, purpose) = acting!(state, headers, acting);
    let reads = state.reads.clone();
    run(
        move || {
            let entries = reads.ledger(&w, purpose, q.subject.as_deref())?;
            Ok((entries, reads.ledger_check()))
        },
        |(entries, verified)| {
            Json(json!({
                "verification": match &verified.outcome {
                    Ok(head) => json!({ "intact": true, "entries": head.size, "checked_at": verified.at.rfc3339() }),
                    Err(e) => json!({ "intact": false, "problem": e, "checked_at": verified.at.rfc3339() }),
                },
                "entries": entries.iter().map(ledger_json).collect::<Vec<_>>(),
            }))
            .into_response()
        },
    )
    .await
}

async fn own_ledger(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Query(q): Query<Acting>,
) -> Response {
    let (w, purpose) = acting!(state, headers, q);
    let reads = state.reads.clone();
    run(
        move || reads.own_ledger(&w, purpose),
        |entries| {
            Json(json!({ "entries": entries.iter().map(ledger_json).collect::<Vec<_>>() }))
                .into_response()
        },
    )
    .await
}

async fn register_measures(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Query(q): Query<Acting>,
) -> Response {
    let (w, purpose) = acting!(state, headers, q);
    let reads = state.reads.clone();
    let cfg = state.shared.gate_config();
    run(
        move || reads.register(&w, purpose),
        move |reg| Json(register_json(&reg, trips::oslo_date(now()), &cfg)).into_response(),
    )
    .await
}

/// The register's measures with their gate today: may the purpose collect, what is missing
/// (with citations, in bokmål and English), warnings, the next evaluation.
pub fn register_json(
    reg: &register::Register,
    today: time::Date,
    cfg: &register::GateConfig,
) -> Value {
    let text = |code: &str, citation: &str, nb: &str, en: &str| json!({ "code": code, "citation": citation, "nb": nb, "en": en });
    json!({
        "today": today.to_string(),
        "measures": reg.gates(today, cfg).iter().map(|g| {
            let m = &g.entry.measure;
            json!({
                "id": m.id,
                "name": m.name,
                "purpose": match m.kind { register::MeasureKind::Vehicle(p) => Some(p.as_str()), _ => None },
                "status": format!("{:?}", m.status).to_lowercase(),
                "verdict": g.state.verdict.as_str(),
                "may_collect": g.state.may_collect,
                "missing": g.state.missing.iter().map(|x| text(&x.code, &x.citation, &x.text_nb, &x.text_en)).collect::<Vec<_>>(),
                "warnings": g.state.warnings.iter().map(|x| text(&x.code, &x.citation, &x.text_nb, &x.text_en)).collect::<Vec<_>>(),
                "next_evaluation_due": g.state.next_evaluation_due.map(|d| d.to_string()),
                "late": g.state.late.iter().map(|l| json!({ "duty": l.duty, "from": l.from.to_string(), "until": l.until.to_string(), "closed": l.closed })).collect::<Vec<_>>(),
            })
        }).collect::<Vec<_>>(),
    })
}

async fn my_data(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Query(q): Query<Acting>,
) -> Response {
    let (w, purpose) = acting!(state, headers, q);
    let reads = state.reads.clone();
    run(
        move || reads.my_data(&w, purpose, Action::Read),
        |d| Json(crate::export::my_data_json(&d)).into_response(),
    )
    .await
}

async fn my_export(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Query(q): Query<Acting>,
) -> Response {
    let (w, purpose) = acting!(state, headers, q);
    let reads = state.reads.clone();
    run(
        move || {
            let d = reads.my_data(&w, purpose, Action::Export)?;
            crate::export::zip(&d)
                .map_err(|e| ReadError::Invalid(format!("the export could not be written: {e}")))
        },
        |bytes| {
            (
                [
                    (header::CONTENT_TYPE, "application/zip"),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"mine-data.zip\"",
                    ),
                ],
                bytes,
            )
                .into_response()
        },
    )
    .await
}

#[derive(Deserialize)]
struct ReportQuery {
    role: Option<String>,
    purpose: Option<String>,
    reference: Option<String>,
    format: Option<String>,
}

async fn access_report(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path(number): Path<String>,
    Query(q): Query<ReportQuery>,
) -> Response {
    let acting = Acting {
        role: q.role.clone(),
        purpose: q.purpose.clone(),
    };
    let (w, purpose) = acting!(state, headers, acting);
    let zip = match q.format.as_deref() {
        None | Some("json") => false,
        Some("zip") => true,
        Some(other) => {
            return problem(
                StatusCode::BAD_REQUEST,
                "Unknown format",
                format!("format is json or zip, not {other:?}"),
            );
        }
    };
    let reference = q.reference.clone().unwrap_or_default();
    let reads = state.reads.clone();
    let action = if zip { Action::Export } else { Action::Read };
    run(
        move || reads.access_report(&w, purpose, &number, &reference, action),
        move |d| {
            if !zip {
                return Json(crate::export::my_data_json(&d)).into_response();
            }
            match crate::export::zip(&d) {
                Ok(bytes) => (
                    [
                        (header::CONTENT_TYPE, "application/zip"),
                        (
                            header::CONTENT_DISPOSITION,
                            "attachment; filename=\"innsyn.zip\"",
                        ),
                    ],
                    bytes,
                )
                    .into_response(),
                Err(e) => unexpected(e),
            }
        },
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// OpenAPI
// ---------------------------------------------------------------------------------------------

/// The OpenAPI 3 document, made from [`ENDPOINTS`].
pub fn openapi() -> Value {
    let problem_ref = json!({ "$ref": "#/components/responses/Problem" });
    let mut paths = serde_json::Map::new();
    for e in ENDPOINTS {
        let mut params: Vec<Value> = e
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
            .collect();
        params.extend(e.query.iter().map(|p| {
            json!({ "name": p.name, "in": "query", "required": p.required, "description": p.description, "schema": { "type": "string" } })
        }));
        let mut op = json!({
            "operationId": format!("{:?}", e.op),
            "summary": e.summary,
            "parameters": params,
            "responses": {
                "200": { "description": "OK", "content": { e.produces: { "schema": { "type": if e.produces == "application/json" { "object" } else { "string" } } } } },
                "400": problem_ref, "401": problem_ref, "403": problem_ref, "404": problem_ref,
            },
        });
        if let Some(p) = e.purpose {
            op["x-sporvern-purpose"] = json!(p.as_str());
            op["x-sporvern-scope"] = json!(format!("{:?}", e.reach).to_lowercase());
        }
        if e.op != Op::Login && e.op != Op::OpenApi {
            op["security"] = json!([{ "bearer": [] }]);
        }
        if let Some(example) = e.body {
            op["requestBody"] = json!({
                "required": true,
                "content": { "application/json": { "schema": { "type": "object" }, "example": example } }
            });
        }
        let item = paths.entry(e.path.to_owned()).or_insert_with(|| json!({}));
        item[e.method.as_str().to_lowercase()] = op;
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Sporvern API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Every read of personal data is decided by the access policy (role × purpose) and recorded in the audit ledger before anything is shown. Errors are application/problem+json (RFC 9457).",
        },
        "paths": paths,
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "responses": {
                "Problem": {
                    "description": "A problem (RFC 9457) with a message a person can act on",
                    "content": { "application/problem+json": { "schema": {
                        "type": "object",
                        "properties": {
                            "type": { "type": "string" }, "title": { "type": "string" },
                            "status": { "type": "integer" }, "detail": { "type": "string" },
                        }
                    } } }
                }
            }
        }
    })
}
