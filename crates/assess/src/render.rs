//! Output: the JSON of SPEC.md and a readable text, both in bokmål or English.

use serde::Serialize;

use crate::table::{self, Code, Fact, Verdict};
use crate::{Assessment, Lang};

/// `{code, citation, text}` in the output.
#[derive(Debug, Serialize)]
struct Item<'a> {
    code: &'a str,
    citation: &'a str,
    text: &'a str,
}

fn item(code: Code, lang: Lang) -> Item<'static> {
    match table::rule(code) {
        Some(e) => Item {
            code: code.as_str(),
            citation: &e.citation,
            text: e.text(lang),
        },
        None => Item {
            code: code.as_str(),
            citation: "",
            text: code.as_str(),
        },
    }
}

fn items(codes: &[Code], lang: Lang) -> Vec<Item<'static>> {
    codes.iter().map(|c| item(*c, lang)).collect()
}

fn facts(unknown: &[Fact]) -> Vec<&'static str> {
    unknown.iter().map(|f| f.as_str()).collect()
}

#[derive(Serialize)]
struct EquipmentJson<'a> {
    kind: &'static str,
    name: &'a str,
    verdict: &'static str,
    monitoring: Option<bool>,
    exception: Option<&'static str>,
    reasons: Vec<Item<'static>>,
    duties: Vec<Item<'static>>,
    unknown: Vec<&'static str>,
}

#[derive(Serialize)]
struct VehicleJson<'a> {
    kind: &'static str,
    name: &'a str,
    verdict: &'static str,
    reasons: Vec<Item<'static>>,
    findings: Vec<Item<'static>>,
    duties: Vec<Item<'static>>,
    unknown: Vec<&'static str>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Document<'a> {
    Equipment(EquipmentJson<'a>),
    Vehicle(VehicleJson<'a>),
}

fn document(a: &Assessment, lang: Lang) -> Document<'_> {
    match a {
        Assessment::ElectronicEquipment(e) => Document::Equipment(EquipmentJson {
            kind: a.kind().as_str(),
            name: &e.name,
            verdict: e.verdict.as_str(),
            monitoring: e.monitoring,
            exception: e.exception.map(|p| p.as_str()),
            reasons: items(&e.reasons, lang),
            duties: items(&e.duties, lang),
            unknown: facts(&e.unknown),
        }),
        Assessment::VehicleTracking(v) => Document::Vehicle(VehicleJson {
            kind: a.kind().as_str(),
            name: &v.name,
            verdict: v.verdict.as_str(),
            reasons: items(&v.reasons, lang),
            findings: items(&v.findings, lang),
            duties: items(&v.duties, lang),
            unknown: facts(&v.unknown),
        }),
    }
}

// Our documents are plain structs of strings, booleans and lists: serialising them cannot fail.
#[allow(clippy::expect_used)]
pub fn json(a: &Assessment, lang: Lang) -> serde_json::Value {
    serde_json::to_value(document(a, lang)).expect("plain struct serialises")
}

/// Pretty JSON with keys in the order of SPEC.md.
#[allow(clippy::expect_used)]
pub fn json_string(a: &Assessment, lang: Lang) -> String {
    serde_json::to_string_pretty(&document(a, lang)).expect("plain struct serialises")
}

/// Words of the text rendering that are not law (the law is in `rules.toml`).
struct Words {
    kind_equipment: &'static str,
    kind_vehicle: &'static str,
    verdict: &'static str,
    monitoring: &'static str,
    exception: &'static str,
    yes: &'static str,
    no: &'static str,
    undetermined: &'static str,
    not_assessed: &'static str,
    none: &'static str,
    reasons: &'static str,
    findings: &'static str,
    duties: &'static str,
    unknown: &'static str,
    unknown_none: &'static str,
    network_administration: &'static str,
    security_breach: &'static str,
}

const NB: Words = Words {
    kind_equipment: "Overvåking av arbeidstakernes bruk av elektronisk utstyr",
    kind_vehicle: "Sporing i kjøretøy",
    verdict: "Konklusjon",
    monitoring: "Overvåking",
    exception: "Unntak",
    yes: "ja",
    no: "nei",
    undetermined: "avhenger av ukjente forhold",
    not_assessed: "ikke vurdert",
    none: "ingen",
    reasons: "Begrunnelse",
    findings: "Funn",
    duties: "Plikter",
    unknown: "Ukjente forhold som kan endre konklusjonen",
    unknown_none: "Ingen ukjente forhold kan endre konklusjonen.",
    network_administration: "administrere virksomhetens datanettverk",
    security_breach: "avdekke eller oppklare sikkerhetsbrudd i nettverket",
};

const EN: Words = Words {
    kind_equipment: "Monitoring of employees' use of electronic equipment",
    kind_vehicle: "Tracking in vehicles",
    verdict: "Verdict",
    monitoring: "Monitoring",
    exception: "Exception",
    yes: "yes",
    no: "no",
    undetermined: "depends on unknown facts",
    not_assessed: "not assessed",
    none: "none",
    reasons: "Reasons",
    findings: "Findings",
    duties: "Duties",
    unknown: "Unknown facts that could change the verdict",
    unknown_none: "No unknown fact could change the verdict.",
    network_administration: "administering the organisation's computer network",
    security_breach: "detecting or clearing up security breaches in the network",
};

fn verdict_line(out: &mut String, w: &Words, v: Verdict, lang: Lang) {
    match table::verdict(v) {
        Some(e) => {
            out.push_str(&format!("{}: {}\n", w.verdict, e.text(lang)));
            out.push_str(&format!("  ({})\n", e.citation));
        }
        None => out.push_str(&format!("{}: {}\n", w.verdict, v.as_str())),
    }
}

fn list(out: &mut String, heading: &str, codes: &[Code], w: &Words, lang: Lang) {
    out.push_str(&format!("\n{heading}:\n"));
    if codes.is_empty() {
        out.push_str(&format!("  ({})\n", w.none));
    }
    for (n, c) in codes.iter().enumerate() {
        let it = item(*c, lang);
        out.push_str(&format!("  {}. {}\n", n + 1, it.text));
        out.push_str(&format!("     ({})\n", it.citation));
    }
}

fn unknown_list(out: &mut String, unknown: &[Fact], w: &Words, lang: Lang) {
    out.push('\n');
    if unknown.is_empty() {
        out.push_str(w.unknown_none);
        out.push('\n');
        return;
    }
    out.push_str(&format!("{}:\n", w.unknown));
    for f in unknown {
        let question = table::fact(*f).map(|e| e.text(lang)).unwrap_or("");
        out.push_str(&format!("  - {}: {}\n", f.as_str(), question));
    }
}

pub fn text(a: &Assessment, lang: Lang) -> String {
    let w = match lang {
        Lang::Nb => &NB,
        Lang::En => &EN,
    };
    let mut out = String::new();
    out.push_str(a.name());
    out.push('\n');
    match a {
        Assessment::ElectronicEquipment(e) => {
            out.push_str(&format!("({})\n\n", w.kind_equipment));
            verdict_line(&mut out, w, e.verdict, lang);
            let monitoring = match e.monitoring {
                Some(true) => w.yes,
                Some(false) => w.no,
                None if e
                    .reasons
                    .iter()
                    .any(|c| matches!(c, Code::NotPersonalData | Code::NotElectronicEquipment)) =>
                {
                    w.not_assessed
                }
                None => w.undetermined,
            };
            out.push_str(&format!("{}: {}\n", w.monitoring, monitoring));
            let exception = match e.exception {
                Some(crate::Purpose::NetworkAdministration) => w.network_administration,
                Some(crate::Purpose::SecurityBreach) => w.security_breach,
                Some(other) => other.as_str(),
                None => w.none,
            };
            out.push_str(&format!("{}: {}\n", w.exception, exception));
            list(&mut out, w.reasons, &e.reasons, w, lang);
            list(&mut out, w.duties, &e.duties, w, lang);
            unknown_list(&mut out, &e.unknown, w, lang);
        }
        Assessment::VehicleTracking(v) => {
            out.push_str(&format!("({})\n\n", w.kind_vehicle));
            verdict_line(&mut out, w, v.verdict, lang);
            list(&mut out, w.reasons, &v.reasons, w, lang);
            list(&mut out, w.findings, &v.findings, w, lang);
            list(&mut out, w.duties, &v.duties, w, lang);
            unknown_list(&mut out, &v.unknown, w, lang);
        }
    }
    while out.ends_with('\n') {
        out.pop();
    }
    out
}
