//! Bokmål by default, English on request: `?lang=en` on any page, or the `lang` cookie that
//! the language switch (`/lang`) sets. Texts live beside the markup as (bokmål, English) pairs,
//! so a page cannot forget one of them.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::session::cookie;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Nb,
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "nb" | "no" => Some(Lang::Nb),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The `lang` attribute of the page.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Nb => "nb",
            Lang::En => "en",
        }
    }

    /// The other language, for the switch.
    pub fn other(self) -> Lang {
        match self {
            Lang::Nb => Lang::En,
            Lang::En => Lang::Nb,
        }
    }

    /// Picks the text in this language.
    pub fn t<'a>(self, nb: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Nb => nb,
            Lang::En => en,
        }
    }

    pub fn report(self) -> report::Lang {
        match self {
            Lang::Nb => report::Lang::Nb,
            Lang::En => report::Lang::En,
        }
    }

    /// The language of a request: `?lang=` first, then the cookie, then bokmål.
    pub fn of(parts: &Parts) -> Lang {
        let from_query = parts.uri.query().and_then(|q| {
            q.split('&')
                .filter_map(|kv| kv.split_once('='))
                .find(|(k, _)| *k == "lang")
                .and_then(|(_, v)| Lang::parse(v))
        });
        from_query
            .or_else(|| cookie(&parts.headers, "lang").and_then(|v| Lang::parse(&v)))
            .unwrap_or_default()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Lang, Self::Rejection> {
        Ok(Lang::of(parts))
    }
}

/// A month's name, for headings.
pub fn month_name(lang: Lang, month: time::Month) -> &'static str {
    use time::Month::*;
    match (lang, month) {
        (Lang::Nb, January) => "januar",
        (Lang::Nb, February) => "februar",
        (Lang::Nb, March) => "mars",
        (Lang::Nb, April) => "april",
        (Lang::Nb, May) => "mai",
        (Lang::Nb, June) => "juni",
        (Lang::Nb, July) => "juli",
        (Lang::Nb, August) => "august",
        (Lang::Nb, September) => "september",
        (Lang::Nb, October) => "oktober",
        (Lang::Nb, November) => "november",
        (Lang::Nb, December) => "desember",
        (Lang::En, January) => "January",
        (Lang::En, February) => "February",
        (Lang::En, March) => "March",
        (Lang::En, April) => "April",
        (Lang::En, May) => "May",
        (Lang::En, June) => "June",
        (Lang::En, July) => "July",
        (Lang::En, August) => "August",
        (Lang::En, September) => "September",
        (Lang::En, October) => "October",
        (Lang::En, November) => "November",
        (Lang::En, December) => "December",
    }
}

/// A number of km with one decimal and the locale's decimal mark.
pub fn km(lang: Lang, v: f64) -> String {
    // An empty sum of f64 is -0.0; nobody drove minus nothing.
    let v = if v == 0.0 { 0.0 } else { v };
    let s = format!("{v:.1}");
    match lang {
        Lang::Nb => s.replace('.', ","),
        Lang::En => s,
    }
}

/// A role's name for people.
pub fn role_name(lang: Lang, role: access::Role) -> &'static str {
    use access::Role::*;
    match role {
        Employee => lang.t("Sjåfør / ansatt", "Driver / employee"),
        Dispatcher => lang.t("Disponent", "Dispatcher"),
        LogKeeper => lang.t("Kjørebokfører", "Log keeper"),
        SecurityOperator => lang.t("Sikkerhetsvakt", "Security operator"),
        Analyst => lang.t("Analytiker", "Analyst"),
        PrivacyOfficer => lang.t("Personvernombud", "Privacy officer"),
        Representative => lang.t("Tillitsvalgt", "Employee representative"),
        Admin => lang.t("Administrator", "Administrator"),
    }
}

/// A read purpose's name for people (the law's term first in bokmål).
pub fn purpose_name(lang: Lang, purpose: &str) -> String {
    let (nb, en) = match purpose {
        "driving_log" => ("kjørebok", "driving log"),
        "fleet_view" => ("flåtestyring", "fleet view"),
        "alarm" => ("sikkerhet (alarm)", "security (alarm)"),
        "utilization" => ("rasjonalisering (anonymt)", "utilisation (anonymous)"),
        "driver_behaviour" => ("kjøreatferd", "driver behaviour"),
        "register" => (
            "kontrolltiltak-registeret",
            "register of monitoring measures",
        ),
        "ledger_metadata" => ("revisjonslogg", "audit ledger"),
        "own_data" => ("egne data", "own data"),
        "privacy_mode" => ("privatmodus", "privacy mode"),
        "timesheet_control" => ("timelistekontroll", "timesheet control"),
        "performance_review" => ("kontroll av arbeidsprestasjon", "performance review"),
        other => return other.to_owned(),
    };
    lang.t(nb, en).to_owned()
}

/// What a ledger entry records, for people.
pub fn action_name(lang: Lang, action: ledger::Action) -> &'static str {
    match action.as_str() {
        "read" => lang.t("lest", "read"),
        "export" => lang.t("eksportert", "exported"),
        "change" => lang.t("endret", "changed"),
        "delete" => lang.t("slettet", "deleted"),
        "denied" => lang.t("AVVIST", "REFUSED"),
        "config" => lang.t("oppsett endret", "configured"),
        other => other,
    }
}

/// An alarm window's triggers (comma-separated as stored), for people.
pub fn triggers(lang: Lang, triggers: &str) -> String {
    triggers
        .split(',')
        .map(|t| match t.trim() {
            "panic" => lang.t("panikknapp", "panic button"),
            "crash" => lang.t("kollisjon", "crash"),
            "tamper" => lang.t("sabotasje", "tamper"),
            "theft" => lang.t("meldt tyveri", "reported theft"),
            "towing" => lang.t("slep", "towing"),
            "jamming" => lang.t("signalforstyrrelse", "jamming"),
            "unplug" => lang.t("frakoblet strøm", "unplugged"),
            "alarm" => lang.t("alarm fra enheten", "alarm from the device"),
            other => other,
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A kind of data a device sends, for people.
pub fn field_name(lang: Lang, kind: domain::FieldKind) -> &'static str {
    use domain::FieldKind::*;
    match kind {
        Position => lang.t("posisjon", "position"),
        Time => lang.t("tid", "time"),
        Speed => lang.t("fart", "speed"),
        Odometer => lang.t("kilometerstand", "odometer"),
        Ignition => lang.t("tenning", "ignition"),
        Movement => lang.t("bevegelse", "movement"),
        DriverId => lang.t("sjåfør-ID", "driver id"),
        Fuel => lang.t("drivstoff", "fuel"),
        Rpm => lang.t("turtall", "RPM"),
        HarshEvent => lang.t("brå manøvrer", "harsh events"),
        Crash => lang.t("kollisjon", "crash"),
        Idling => lang.t("tomgang", "idling"),
        Pedal => lang.t("pedalbruk", "pedal"),
        GForce => lang.t("g-krefter", "g-force"),
        DigitalInput => lang.t("digital inngang", "digital input"),
        Alarm => lang.t("alarm", "alarm"),
        Towing => lang.t("slep", "towing"),
        Jamming => lang.t("signalforstyrrelse", "jamming"),
        Unplug => lang.t("frakoblet", "unplugged"),
        Overspeed => lang.t("fartsovertredelse", "overspeed"),
        Battery => lang.t("batteri", "battery"),
        ExternalPower => lang.t("ekstern strøm", "external power"),
        Signal => lang.t("signalstyrke", "signal"),
        Accuracy => lang.t("nøyaktighet", "accuracy"),
        Activity => lang.t("aktivitet", "activity"),
        Vin => lang.t("understellsnummer (VIN)", "VIN"),
        Other => lang.t("annet", "other"),
    }
}

/// "1 tur", "2 turer": a count with the noun in the right number.
pub fn count(lang: Lang, n: usize, nb: (&str, &str), en: (&str, &str)) -> String {
    let (one, many) = match lang {
        Lang::Nb => nb,
        Lang::En => en,
    };
    format!("{n} {}", if n == 1 { one } else { many })
}
