//! The web interface: server-rendered pages for every role, in bokmål and English.
//!
//! Pages are `maud` templates compiled into the binary; the stylesheet and the little script
//! the live map needs are embedded too (`crates/server/static/`), so nothing is built with Node
//! and nothing is fetched from elsewhere. Every page that shows personal data gets it through
//! [`data`], which asks the policy engine for a capability and puts the read on the audit
//! ledger first; a refusal becomes a 403 page with the policy's reason.
//!
//! * [`session`]: login, logout, session cookies, CSRF tokens, the language switch.
//! * [`layout`]: the page shell, navigation per role, error pages.
//! * [`pages`]: one function per page; [`fleet`] the dispatcher's live map and its feed.

mod data;
mod fleet;
mod i18n;
mod layout;
mod map;
mod pages;
mod session;

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::purpose_worker::Shared;
use crate::reads::Reads;
pub use i18n::Lang;

/// What every page handler can reach.
#[derive(Clone)]
pub struct Web {
    /// Every read of personal data goes through here (policy, ledger, then the query).
    reads: Reads,
    shared: Arc<Shared>,
    /// The key of this process's CSRF tokens (a restart asks open forms to be reloaded).
    secret: Arc<[u8]>,
    /// Map tiles under the fleet map, when configured.
    tiles: Option<Arc<MapTiles>>,
    /// Mark cookies `Secure` (the server is reached over HTTPS).
    secure_cookies: bool,
}

/// Map tiles for the fleet map (`map_tiles_url`); none by default.
#[derive(Clone, Debug)]
pub struct MapTiles {
    /// The URL template with `{z}`, `{x}` and `{y}`.
    pub url: String,
    /// Its origin, allowed as an image source in the page's Content-Security-Policy.
    pub origin: String,
    pub attribution: String,
}

impl MapTiles {
    pub fn from_settings(s: &crate::Settings) -> Option<MapTiles> {
        let url = s.map_tiles_url.clone()?;
        let origin = crate::config::tile_origin(&url)?;
        Some(MapTiles {
            url,
            origin,
            attribution: s.map_tiles_attribution.clone().unwrap_or_default(),
        })
    }
}

/// A form body, or why it could not be read (answered with the CSRF error page).
type FormResult = Result<axum::Form<HashMap<String, String>>, FormRejection>;

pub fn router(
    reads: Reads,
    shared: Arc<Shared>,
    tiles: Option<MapTiles>,
    secure_cookies: bool,
) -> axum::Router {
    let mut secret = [0u8; 32];
    if getrandom::getrandom(&mut secret).is_err() {
        // Without randomness no CSRF token could be trusted: refuse every form instead.
        tracing::error!("no randomness for the CSRF key; web forms will be refused");
    }
    let state = Web {
        reads,
        shared,
        secret: Arc::from(secret.as_slice()),
        tiles: tiles.map(Arc::new),
        secure_cookies,
    };
    axum::Router::new()
        .route("/", get(home))
        .route("/login", get(session::login_page).post(session::login))
        .route("/logout", post(session::logout))
        .route("/lang", get(session::switch_lang))
        .route("/static/app.css", get(css))
        .route("/static/fleet.js", get(fleet_js))
        .route("/static/map.js", get(map_js))
        .route("/static/alarms.js", get(alarms_js))
        .route("/static/admin.js", get(admin_js))
        .route("/static/leaflet.js", get(leaflet_js))
        .route("/static/leaflet.css", get(leaflet_css))
        .route("/me", get(pages::me::page))
        .route("/me/privacy", post(pages::me::privacy))
        .route("/me/trips/{id}", post(pages::me::classify))
        .route("/me/sign", post(pages::me::sign))
        .route("/me/export.zip", get(pages::me::export))
        .route("/fleet", get(fleet::page))
        .route("/fleet/stream", get(fleet::stream))
        .route("/drivinglog", get(pages::drivinglog::page))
        .route("/drivinglog/export", get(pages::drivinglog::export))
        .route("/drivinglog/accounts", get(pages::drivinglog::accounts))
        .route("/drivinglog/sign", post(pages::drivinglog::sign))
        .route("/drivinglog/return", post(pages::drivinglog::return_month))
        .route(
            "/drivinglog/driver",
            post(pages::drivinglog::correct_driver),
        )
        .route("/alarms", get(pages::alarms::page))
        .route("/alarms/{id}/resolve", post(pages::alarms::resolve))
        .route("/alarms/live", get(pages::alarms::live))
        .route("/alarms/stream", get(pages::alarms::stream))
        .route("/alarms/theft", post(pages::alarms::open_theft))
        .route("/stats", get(pages::stats::page))
        .route("/ledger", get(pages::ledger::page))
        .route("/ledger/report", get(pages::ledger::report))
        .route("/register", get(pages::register::page))
        .route("/register/breaches", post(pages::register::open_breach))
        .route(
            "/register/measures/{id}/evaluations",
            post(pages::register::record_evaluation),
        )
        .route(
            "/register/breaches/{id}/notify",
            post(pages::register::notify_breach),
        )
        .route(
            "/register/breaches/{id}/not-notified",
            post(pages::register::not_notify_breach),
        )
        .route("/register/document", get(pages::register::document))
        .route(
            "/register/assess",
            get(pages::assess::page).post(pages::assess::submit),
        )
        .route("/me/notice/{measure}", get(pages::me::notice))
        .route("/me/notice/{measure}/ack", post(pages::me::acknowledge))
        .route("/admin", get(pages::admin::page))
        .route("/admin/{what}", post(pages::admin::submit))
        .route("/admin/{what}/{sub}", post(pages::admin::submit_sub))
        .fallback(not_found)
        .with_state(state)
}

/// The start page is the page of the user's first role.
async fn home(viewer: session::Viewer) -> Response {
    let to = viewer
        .roles
        .first()
        .map(|r| layout::home_of(*r))
        .unwrap_or("/me");
    Redirect::to(to).into_response()
}

async fn not_found(lang: Lang, uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        return crate::api::problem(
            StatusCode::NOT_FOUND,
            "Not found",
            format!("there is nothing at {}", uri.path()),
        );
    }
    layout::error_page(
        lang,
        StatusCode::NOT_FOUND,
        lang.t("Siden finnes ikke", "Page not found"),
        lang.t(
            "Det finnes ingen side på denne adressen. Sjekk adressen, eller gå til startsiden.",
            "There is no page at this address. Check the address, or go to the start page.",
        ),
        None,
    )
}

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("../../static/app.css"),
    )
        .into_response()
}

fn script(body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        body,
    )
        .into_response()
}

async fn fleet_js() -> Response {
    script(include_str!("../../static/fleet.js"))
}

async fn map_js() -> Response {
    script(include_str!("../../static/map.js"))
}

async fn admin_js() -> Response {
    script(include_str!("../../static/admin.js"))
}

async fn alarms_js() -> Response {
    script(include_str!("../../static/alarms.js"))
}

/// Leaflet 1.9.4, vendored unmodified (`static/vendor/leaflet/ATTRIBUTION.md`).
async fn leaflet_js() -> Response {
    script(include_str!("../../static/vendor/leaflet/leaflet.js"))
}

async fn leaflet_css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("../../static/vendor/leaflet/leaflet.css"),
    )
        .into_response()
}

fn unexpected(lang: Lang, e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "web request failed");
    layout::error_page(
        lang,
        StatusCode::INTERNAL_SERVER_ERROR,
        lang.t("Noe gikk galt", "Something went wrong"),
        lang.t(
            "Serveren kunne ikke fullføre forespørselen. Prøv igjen om litt; feilen er logget.",
            "The server could not complete the request. Try again in a moment; the error has been logged.",
        ),
        None,
    )
}

/// Runs blocking storage work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Response> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| unexpected(Lang::Nb, e))
}
