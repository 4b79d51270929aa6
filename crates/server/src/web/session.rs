//! Sessions for the web: a random token in an `HttpOnly; SameSite=Strict` cookie, stored only
//! as its SHA-256 hash (the same table as the API's bearer tokens), revoked at logout; a CSRF
//! token in every form, an HMAC of the session's token hash under a per-process secret; login
//! slowed down by the same `access::LoginLimiter` as the API.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use domain::Timestamp;
use maud::{Markup, html};

use super::i18n::Lang;
use super::layout::{self, Page};
use super::{FormResult, Web, blocking, unexpected};
use crate::ingest::now;

pub const SESSION_COOKIE: &str = "sporvern_session";
/// Before login there is no session: the login form's CSRF token is bound to this cookie.
const PRELOGIN_COOKIE: &str = "sporvern_prelogin";
/// How long a web session lasts (a working day).
const SESSION_LIFETIME_MS: i64 = 12 * 3600 * 1000;

/// A cookie's value from the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// A session cookie; `Secure` when the server is reached over HTTPS (`secure_cookies`).
fn set_cookie(secure: bool, name: &str, value: &str, max_age_s: i64) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let v =
        format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_s}{secure}");
    HeaderValue::from_str(&v).unwrap_or(HeaderValue::from_static(""))
}

/// The logged-in user of a request, with the roles they hold.
#[derive(Clone, Debug)]
pub struct Viewer {
    pub name: String,
    pub roles: Vec<access::Role>,
    pub employee: Option<String>,
    /// The session token's hash: names the session without being it.
    pub session: String,
    /// The CSRF token to put in this session's forms.
    pub csrf: String,
    pub lang: Lang,
}

impl Viewer {
    pub fn holds(&self, role: access::Role) -> bool {
        self.roles.contains(&role)
    }

    /// As the policy engine sees the user.
    pub fn user(&self) -> access::User {
        access::User {
            id: access::UserId(self.name.clone()),
            name: self.name.clone(),
            roles: self.roles.clone(),
            employee: self.employee.clone(),
        }
    }

    /// The role to act in on a page made for `wanted`: that role when held, else the user's
    /// first role — so the policy, not the page, says why someone without it is refused.
    pub fn acting(&self, wanted: access::Role) -> access::Role {
        if self.holds(wanted) {
            wanted
        } else {
            self.roles.first().copied().unwrap_or(wanted)
        }
    }

    /// Checks a submitted form's CSRF token; the refusal page when it is missing or wrong.
    pub fn check_csrf(&self, secret: &[u8], form: &HashMap<String, String>) -> Option<Response> {
        let given = form.get("csrf").map(String::as_str).unwrap_or("");
        (!access::verify_csrf(secret, &self.session, given)).then(|| csrf_refused(self.lang))
    }
}

pub fn csrf_refused(lang: Lang) -> Response {
    let mut r = layout::error_page(
        lang,
        StatusCode::FORBIDDEN,
        lang.t("Skjemaet kunne ikke sendes", "The form could not be sent"),
        lang.t(
            "Skjemaet manglet sikkerhetsnøkkelen (CSRF-token), eller den hørte til en annen innlogging. Gå tilbake, last siden på nytt og prøv igjen.",
            "The form lacked its security token (CSRF token), or it belonged to another login. Go back, reload the page and try again.",
        ),
        None,
    );
    // Counted for the audit ledger, per source and minute (`http::route`).
    r.extensions_mut().insert(crate::login::Refusal::Csrf);
    r
}

impl FromRequestParts<Web> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Web) -> Result<Viewer, Response> {
        let lang = Lang::of(parts);
        let to_login = || {
            let next = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            Redirect::to(&format!("/login?next={}", encode(next))).into_response()
        };
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE).filter(|t| !t.is_empty()) else {
            return Err(to_login());
        };
        let hash = access::TokenHash::of(&token).to_hex();
        let store = state.reads.store().clone();
        let h = hash.clone();
        let row = match blocking(move || store.token_user(&h, now())).await {
            Ok(Ok(Some(row))) => row,
            Ok(Ok(None)) => return Err(to_login()),
            Ok(Err(e)) => return Err(unexpected(lang, e)),
            Err(r) => return Err(r),
        };
        if row.disabled {
            return Err(to_login());
        }
        let roles = row
            .roles
            .iter()
            .filter_map(|r| access::Role::parse(r).ok())
            .collect();
        let csrf = access::csrf_token(&state.secret, &hash);
        Ok(Viewer {
            name: row.name,
            roles,
            employee: row.employee_number,
            session: hash,
            csrf,
            lang,
        })
    }
}

/// Percent-encodes a value for a query string.
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Only a local path may be a redirect target (no open redirects): it starts with one `/`,
/// and has no backslash, space or control character a browser might drop or reinterpret
/// (`/\t/evil.example` would become `//evil.example`).
pub fn safe_next(next: Option<&String>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && n.chars().all(|c| c.is_ascii_graphic() && c != '\\') =>
        {
            n.clone()
        }
        _ => "/".to_owned(),
    }
}

#[derive(serde::Deserialize)]
pub struct NextQuery {
    next: Option<String>,
    error: Option<String>,
}

fn login_form(lang: Lang, csrf: &str, next: &str, error: Option<&str>) -> Markup {
    html! {
        section.card.narrow {
            h1 { (lang.t("Logg inn", "Log in")) }
            p.muted { (lang.t(
                "Sporvern viser bare det rollen din trenger, og alt du ser blir ført i revisjonsloggen.",
                "Sporvern shows only what your role needs, and everything you look at is recorded in the audit ledger.")) }
            @if let Some(e) = error {
                p.alert role="alert" { (e) }
            }
            form method="post" action="/login" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="next" value=(next);
                label for="name" { (lang.t("Brukernavn", "User name")) }
                input #name type="text" name="name" autocomplete="username" autocapitalize="none" required autofocus;
                label for="password" { (lang.t("Passord", "Password")) }
                input #password type="password" name="password" autocomplete="current-password" required;
                button.primary type="submit" { (lang.t("Logg inn", "Log in")) }
            }
        }
    }
}

pub async fn login_page(
    State(state): State<Web>,
    lang: Lang,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<NextQuery>,
) -> Response {
    let pre = cookie(&headers, PRELOGIN_COOKIE)
        .filter(|p| p.len() == 64)
        .unwrap_or_else(|| access::new_token().1.to_hex());
    let csrf = access::csrf_token(&state.secret, &pre);
    let next = safe_next(q.next.as_ref());
    let error = q.error.as_deref().map(|e| match e {
        "expired" => lang.t(
            "Innloggingen er utløpt. Logg inn igjen.",
            "Your session has ended. Log in again.",
        ),
        _ => lang.t("Logg inn for å fortsette.", "Log in to continue."),
    });
    let mut r = Page::new(lang, lang.t("Logg inn", "Log in"))
        .body(login_form(lang, &csrf, &next, error))
        .render(None);
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(state.secure_cookies, PRELOGIN_COOKIE, &pre, 3600),
    );
    r
}

pub async fn login(
    State(state): State<Web>,
    lang: Lang,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    form: FormResult,
) -> Response {
    let Ok(axum::Form(form)) = form else {
        return csrf_refused(lang);
    };
    let pre = cookie(&headers, PRELOGIN_COOKIE).unwrap_or_default();
    let given = form.get("csrf").map(String::as_str).unwrap_or("");
    if pre.is_empty() || !access::verify_csrf(&state.secret, &pre, given) {
        return csrf_refused(lang);
    }
    let name = form.get("name").cloned().unwrap_or_default();
    let password = form.get("password").cloned().unwrap_or_default();
    let next = safe_next(form.get("next"));
    let at = now();
    let again = |status: StatusCode, msg: String| {
        let csrf = access::csrf_token(&state.secret, &pre);
        let mut r = Page::new(lang, lang.t("Logg inn", "Log in"))
            .body(login_form(lang, &csrf, &next, Some(&msg)))
            .render(None);
        *r.status_mut() = status;
        r
    };
    let attempt = state
        .reads
        .logins()
        .attempt(state.reads.store(), &name, password, peer.ip())
        .await;
    let refused = |mut r: Response| {
        r.extensions_mut()
            .insert(crate::login::Refusal::FailedLogin);
        r
    };
    match attempt {
        Ok(crate::login::Attempt::Accepted) => {}
        Ok(crate::login::Attempt::Refused) => {
            return refused(again(
                StatusCode::UNAUTHORIZED,
                lang.t(
                    "Feil brukernavn eller passord.",
                    "Wrong user name or password.",
                )
                .to_owned(),
            ));
        }
        Ok(crate::login::Attempt::Limited(retry)) => {
            return refused(again(
                StatusCode::TOO_MANY_REQUESTS,
                match lang {
                    Lang::Nb => format!(
                        "For mange mislykkede forsøk. Vent {} sekunder før du prøver igjen.",
                        retry.secs()
                    ),
                    Lang::En => format!(
                        "Too many failed attempts. Wait {} seconds before trying again.",
                        retry.secs()
                    ),
                },
            ));
        }
        Ok(crate::login::Attempt::Busy) => {
            return again(
                StatusCode::SERVICE_UNAVAILABLE,
                lang.t(
                    "Innloggingen er opptatt akkurat nå. Prøv igjen om noen sekunder.",
                    "Logins are busy right now. Try again in a few seconds.",
                )
                .to_owned(),
            );
        }
        Err(e) => return unexpected(lang, e),
    }
    let (token, hash) = access::new_token();
    let expires = Timestamp::from_millis(at.millis() + SESSION_LIFETIME_MS);
    let store = state.reads.store().clone();
    match blocking(move || store.add_token(&hash.to_hex(), &name, expires, at)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return unexpected(lang, e),
        Err(r) => return r,
    }
    let mut r = Redirect::to(&next).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            state.secure_cookies,
            SESSION_COOKIE,
            &token,
            SESSION_LIFETIME_MS / 1000,
        ),
    );
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(state.secure_cookies, PRELOGIN_COOKIE, "", 0),
    );
    r
}

pub async fn logout(State(state): State<Web>, viewer: Viewer, form: FormResult) -> Response {
    let Ok(axum::Form(form)) = form else {
        return csrf_refused(viewer.lang);
    };
    if let Some(r) = viewer.check_csrf(&state.secret, &form) {
        return r;
    }
    let reads = state.reads.clone();
    let hash = viewer.session.clone();
    match blocking(move || super::data::revoke(&reads, &hash)).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => return unexpected(viewer.lang, e),
        Err(r) => return r,
    }
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(state.secure_cookies, SESSION_COOKIE, "", 0),
    );
    r
}

#[derive(serde::Deserialize)]
pub struct LangQuery {
    to: Option<String>,
    next: Option<String>,
}

/// The language switch: remembers the choice in a cookie for a year.
pub async fn switch_lang(axum::extract::Query(q): axum::extract::Query<LangQuery>) -> Response {
    let lang = q.to.as_deref().and_then(Lang::parse).unwrap_or_default();
    let mut r = Redirect::to(&safe_next(q.next.as_ref())).into_response();
    let v = format!(
        "lang={}; Path=/; SameSite=Strict; Max-Age=31536000",
        lang.code()
    );
    if let Ok(v) = HeaderValue::from_str(&v) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_redirect_targets() {
        let check = |next: &str| safe_next(Some(&next.to_owned()));
        assert_eq!(
            check("/drivinglog?vehicle=EK12345&month=2026-11"),
            "/drivinglog?vehicle=EK12345&month=2026-11"
        );
        for evil in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "https://evil.example",
            "evil",
            "/ /x",
        ] {
            assert_eq!(check(evil), "/", "{evil:?}");
        }
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("lang=en; sporvern_session=abc; x=y"),
        );
        assert_eq!(cookie(&h, "sporvern_session").as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "lang").as_deref(), Some("en"));
        assert_eq!(cookie(&h, "missing"), None);
    }
}
