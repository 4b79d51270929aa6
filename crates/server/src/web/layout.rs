//! The page shell: `lang` attribute, skip link, navigation for the roles the user holds, the
//! language switch, logout; and the error pages.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use super::i18n::{Lang, role_name};
use super::session::{Viewer, encode};

/// Where each role starts.
pub fn home_of(role: access::Role) -> &'static str {
    use access::Role::*;
    match role {
        Employee => "/me",
        Dispatcher => "/fleet",
        LogKeeper => "/drivinglog",
        SecurityOperator => "/alarms",
        Analyst => "/stats",
        PrivacyOfficer | Representative => "/register",
        Admin => "/admin",
    }
}

/// The pages of a role, in navigation order: (path, label).
fn pages_of(lang: Lang, role: access::Role) -> Vec<(&'static str, &'static str)> {
    use access::Role::*;
    match role {
        PrivacyOfficer | Representative => vec![
            ("/register", lang.t("Kontrolltiltak", "Measures")),
            ("/ledger", lang.t("Revisjonslogg", "Audit ledger")),
        ],
        r => vec![(home_of(r), nav_label(lang, r))],
    }
}

fn nav_label(lang: Lang, role: access::Role) -> &'static str {
    use access::Role::*;
    match role {
        Employee => lang.t("Mine data", "My data"),
        Dispatcher => lang.t("Flåtekart", "Fleet map"),
        LogKeeper => lang.t("Kjørebok", "Driving log"),
        SecurityOperator => lang.t("Alarmer", "Alarms"),
        Analyst => lang.t("Statistikk", "Statistics"),
        PrivacyOfficer | Representative => lang.t("Kontrolltiltak", "Measures"),
        Admin => lang.t("Administrasjon", "Administration"),
    }
}

/// Every page the user's roles open, once each.
fn nav(lang: Lang, roles: &[access::Role]) -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&'static str, &'static str)> = Vec::new();
    for r in roles {
        for p in pages_of(lang, *r) {
            if !out.iter().any(|(h, _)| *h == p.0) {
                out.push(p);
            }
        }
    }
    out
}

pub struct Page {
    lang: Lang,
    title: String,
    /// The request path, for the language switch to come back to.
    path: String,
    body: Markup,
    scripts: Vec<&'static str>,
    wide: bool,
    /// Another origin the page may load images from (the map tiles).
    img_origin: Option<String>,
}

impl Page {
    pub fn new(lang: Lang, title: &str) -> Page {
        Page {
            lang,
            title: title.to_owned(),
            path: "/".to_owned(),
            body: html! {},
            scripts: Vec::new(),
            wide: false,
            img_origin: None,
        }
    }

    /// Lets the page load images from `origin` too (the configured map tiles).
    pub fn images_from(mut self, origin: Option<String>) -> Page {
        self.img_origin = origin;
        self
    }

    pub fn path(mut self, path: impl Into<String>) -> Page {
        self.path = path.into();
        self
    }

    pub fn body(mut self, body: Markup) -> Page {
        self.body = body;
        self
    }

    /// Uses the full width of a large screen (the map).
    pub fn wide(mut self) -> Page {
        self.wide = true;
        self
    }

    pub fn script(mut self, src: &'static str) -> Page {
        self.scripts.push(src);
        self
    }

    pub fn markup(&self, viewer: Option<&Viewer>) -> Markup {
        let lang = self.lang;
        let other = lang.other();
        html! {
            (DOCTYPE)
            html lang=(lang.code()) {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (self.title) " · Sporvern" }
                    @if self.scripts.contains(&"/static/leaflet.js") {
                        link rel="stylesheet" href="/static/leaflet.css";
                    }
                    link rel="stylesheet" href="/static/app.css";
                    @for s in &self.scripts {
                        script src=(s) defer {}
                    }
                }
                body {
                    a.skip href="#main" { (lang.t("Hopp til innholdet", "Skip to content")) }
                    header.top {
                        a.brand href="/" { "Sporvern" }
                        @if let Some(v) = viewer {
                            nav aria-label=(lang.t("Sider", "Pages")) {
                                ul {
                                    @for (href, label) in nav(lang, &v.roles) {
                                        li { a href=(href) aria-current=[(self.path.starts_with(href)).then_some("page")] { (label) } }
                                    }
                                }
                            }
                        }
                        div.tools {
                            a href={ "/lang?to=" (other.code()) "&next=" (encode(&self.path)) } lang=(other.code()) hreflang=(other.code()) {
                                (lang.t("English", "Norsk"))
                            }
                            @if let Some(v) = viewer {
                                span.who title=(v.roles.iter().map(|r| role_name(lang, *r)).collect::<Vec<_>>().join(", ")) { (v.name) }
                                form.inline method="post" action="/logout" {
                                    input type="hidden" name="csrf" value=(v.csrf);
                                    button.link type="submit" { (lang.t("Logg ut", "Log out")) }
                                }
                            }
                        }
                    }
                    main #main.(if self.wide { "wide" } else { "" }) tabindex="-1" {
                        (self.body)
                    }
                    footer.bottom {
                        p { (lang.t(
                            "Sporvern: sporing bare slik loven tillater. Alt innsyn føres i revisjonsloggen.",
                            "Sporvern: tracking only as the law allows. Every access is recorded in the audit ledger.")) }
                    }
                }
            }
        }
    }

    pub fn render(&self, viewer: Option<&Viewer>) -> Response {
        let mut r = html_response(StatusCode::OK, self.markup(viewer));
        if let Some(origin) = &self.img_origin
            && let Ok(v) = header::HeaderValue::from_str(&csp(Some(origin)))
        {
            r.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
        }
        r
    }
}

/// Only our own stylesheet and script (and images from `img_origin`, the map tiles); no
/// framing, no referrer outside.
fn csp(img_origin: Option<&str>) -> String {
    format!(
        "default-src 'self'; img-src 'self' data:{}; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        img_origin.map(|o| format!(" {o}")).unwrap_or_default()
    )
}

pub fn html_response(status: StatusCode, markup: Markup) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::CONTENT_SECURITY_POLICY, &csp(None)),
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::REFERRER_POLICY, "same-origin"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        markup.into_string(),
    )
        .into_response()
}

/// A page that says what went wrong and what to do about it.
pub fn error_page(
    lang: Lang,
    status: StatusCode,
    title: &str,
    text: &str,
    viewer: Option<&Viewer>,
) -> Response {
    let page = Page::new(lang, title).body(html! {
        section.card.error {
            p.status { (status.as_u16()) }
            h1 { (title) }
            p { (text) }
            p { a href="/" { (lang.t("Til startsiden", "To the start page")) } }
        }
    });
    html_response(status, page.markup(viewer))
}

/// The policy's refusal, in the viewer's language, with its source.
pub fn refused(viewer: &Viewer, message_nb: &str, message_en: &str) -> Response {
    let lang = viewer.lang;
    let page = Page::new(lang, lang.t("Ingen tilgang", "Access refused")).body(html! {
        section.card.error {
            p.status { "403" }
            h1 { (lang.t("Ingen tilgang", "Access refused")) }
            p.reason role="alert" { (lang.t(message_nb, message_en)) }
            p.muted { (lang.t(
                "Tilgang gis bare for et formål rollen din har. Forsøket er ført i revisjonsloggen, der personvernombudet, de tillitsvalgte og den ansatte det gjelder kan se det.",
                "Access is given only for a purpose your role has. The attempt is recorded in the audit ledger, where the privacy officer, the employee representatives and the employee concerned can see it.")) }
            p { a href="/" { (lang.t("Til startsiden", "To the start page")) } }
        }
    });
    html_response(StatusCode::FORBIDDEN, page.markup(Some(viewer)))
}
