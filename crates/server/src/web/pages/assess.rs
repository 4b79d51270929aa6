//! The privacy officer's guided assessment of a monitoring measure on employees' electronic
//! equipment (e-postforskriften § 2): one question per fact of the assessment file (SPEC.md,
//! "The assessment file"), each explained with the example Datatilsynet's guidance (seed 000)
//! gives for it. The answers go to the assessment engine (`assess::assess_str`) and the verdict
//! comes back rule by rule with its citations. A fact left unanswered is unknown, and the
//! engine says which unknown facts would change the verdict. Nothing is stored: the facts
//! block is shown for the register file (`sporvern register apply`).

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};

use super::super::i18n::Lang;
use super::super::layout::{self, Page};
use super::super::session::{Viewer, csrf_refused};
use super::super::{FormResult, Web};

/// A yes/no fact: its key in the assessment file, the question, and the guidance's example.
struct Question {
    key: &'static str,
    nb: &'static str,
    en: &'static str,
    example_nb: &'static str,
    example_en: &'static str,
}

const QUESTIONS: &[Question] = &[
    Question {
        key: "personal_data",
        nb: "Behandler tiltaket personopplysninger?",
        en: "Does the measure process personal data?",
        example_nb: "Alt som kan knyttes til en ansatt: logger over innlogging, e-post, nettbruk, skjermbilder.",
        example_en: "Anything that can be linked to an employee: logs of logins, e-mail, web use, screenshots.",
    },
    Question {
        key: "electronic_equipment",
        nb: "Gjelder det de ansattes bruk av elektronisk utstyr (også internett)?",
        en: "Does it concern employees' use of electronic equipment (the internet included)?",
        example_nb: "Veilederen nevner datamaskiner, nettbrett, mobiltelefoner og printere som arbeidsgiveren har gitt til bruk i arbeidet — også når de brukes privat.",
        example_en: "The guidance names computers, tablets, mobile phones and printers the employer provides for work — also when used privately.",
    },
    Question {
        key: "employer_access",
        nb: "Kan arbeidsgiveren få tilgang til opplysningene om den enkelte ansatte?",
        en: "Can the employer obtain the data about individual employees?",
        example_nb: "I sandkasseprosjektet Secure Practice var tiltaket ikke forbudt så lenge kontrakt og tekniske tiltak hindret arbeidsgiveren i å se hva den enkelte kunne om informasjonssikkerhet.",
        example_en: "In the Secure Practice sandbox project the measure was not prohibited as long as contract and technical measures kept the employer from seeing what each employee knew about security.",
    },
    Question {
        key: "main_purpose_control",
        nb: "Er hovedformålet å kartlegge eller kontrollere de ansattes atferd eller arbeidsutførelse?",
        en: "Is its main purpose to map or control employees' behaviour or performance?",
        example_nb: "«Sjefsvare» som teller tastetrykk, registrerer hvilke programmer som brukes, eller tar opptak fra webkamera.",
        example_en: "“Bossware” that counts keystrokes, records which applications are used, or records from the webcam.",
    },
    Question {
        key: "recorded",
        nb: "Samler tiltaket inn eller registrerer det noe om bruken (logger, opptak, kopier, videresending), og ikke bare viser en status nå?",
        en: "Does it collect or record something about the use (logs, recordings, copies, forwarding), rather than only show a live status?",
        example_nb: "En indikator i samhandlingsverktøyet som viser om du er pålogget eller borte, er i utgangspunktet ikke overvåking; å registrere tilstedeværelsen for å kontrollere kan være det.",
        example_en: "An indicator in a collaboration tool showing whether you are online or away is not monitoring as such; recording presence to check on someone can be.",
    },
    Question {
        key: "continuous",
        nb: "Pågår det over tid eller gjentas det, og er det ikke et enkeltstående innsyn?",
        en: "Is it ongoing or repeated over time, rather than a one-off access?",
        example_nb: "Automatisk videresending av e-post er overvåking fordi den er kontinuerlig; et enkeltstående innsyn i e-post er det ikke.",
        example_en: "Automatic forwarding of e-mail is monitoring because it is continuous; a one-off look into a mailbox is not.",
    },
    Question {
        key: "employees_can_tell_when",
        nb: "Kan de ansatte vite når de blir registrert?",
        en: "Can employees tell when they are being recorded?",
        example_nb: "Skjermopptak for opplæring i kundeservice: opptak i 2,5 % av tiden, men varslet i 25 % av tiden uten at de ansatte visste når — ikke i samsvar med e-postforskriften.",
        example_en: "Screen recording for customer-service training: recording 2.5% of the time, announced for 25% of the time without employees knowing when — not in line with e-postforskriften.",
    },
    Question {
        key: "employee_requested",
        nb: "Har den ansatte selv bedt om det, og deltar hun eller han (for eksempel brukerstøtte)?",
        en: "Did the employee ask for it, and do they take part (for example a support session)?",
        example_nb: "Skjermdeling med IT-personellet som den ansatte samtykker til når behovet oppstår, omfattes av unntaket for å administrere nettverket, og det er tvilsomt om det i det hele tatt er overvåking.",
        example_en: "Screen sharing with IT staff that the employee agrees to when the need arises falls under the network administration exception, and it is doubtful whether it is monitoring at all.",
    },
    Question {
        key: "risk_assessment_shows_necessity",
        nb: "Viser en risikovurdering gjort på forhånd at tiltaket trengs for et akseptabelt risikonivå (sikkerhetsformål)?",
        en: "Does a prior risk assessment show the measure is needed for an acceptable level of risk (security purpose)?",
        example_nb: "Datatapsteknologi (DLP) kan være lovlig når den er innført etter en forutgående risikovurdering og er nødvendig for å oppnå et akseptabelt nivå av risiko for sikkerhetsbrudd.",
        example_en: "Data loss prevention (DLP) can be lawful when introduced after a prior risk assessment and needed to reach an acceptable level of risk of security breaches.",
    },
    Question {
        key: "private_use",
        nb: "Bruker de ansatte også utstyret privat?",
        en: "Do employees also use the equipment privately?",
        example_nb: "Ansatte som også bruker utstyret privat, er likevel beskyttet av forskriften.",
        example_en: "Employees who also use the equipment privately are protected by the regulation all the same.",
    },
    Question {
        key: "call_recording",
        nb: "Tar tiltaket opp telefonsamtaler (lyd)?",
        en: "Does the measure record phone calls (sound)?",
        example_nb: "Datatilsynet har vurdert lydopptak av telefonsamtaler til å falle utenfor e-postforskriften; det har egen veiledning om lydopptak i arbeidslivet.",
        example_en: "Datatilsynet has found recordings of phone calls to fall outside e-postforskriften; it has separate guidance on sound recordings at work.",
    },
];

/// Whom a measure can concern (`concerns`), with their names.
const CONCERNS: &[(&str, &str, &str)] = &[
    ("employees", "ansatte", "employees"),
    ("former_employees", "tidligere ansatte", "former employees"),
    ("contractors", "oppdragstakere", "contractors"),
    ("customers", "kunder", "customers"),
];

/// The purposes of the assessment file's vocabulary, with their names.
const PURPOSES: &[(&str, &str, &str)] = &[
    (
        "network_administration",
        "administrere datanettverket",
        "administering the network",
    ),
    (
        "security_breach",
        "avdekke eller oppklare sikkerhetsbrudd",
        "detecting or clearing up security breaches",
    ),
    (
        "customer_relations",
        "ivareta kundeforhold",
        "customer relations",
    ),
    ("training", "opplæring", "training"),
    ("performance", "arbeidsutførelse", "work performance"),
    (
        "timesheet_control",
        "kontroll av timelister",
        "timesheet control",
    ),
    ("presence", "tilstedeværelse", "presence"),
    ("other", "annet", "other"),
];

/// The refusal for anyone but the privacy officer.
fn refusal(viewer: &Viewer) -> Option<Response> {
    (!viewer.holds(access::Role::PrivacyOfficer)).then(|| {
        layout::refused(
            viewer,
            "Avvist: vurderingen av kontrolltiltak er personvernombudets verktøy.",
            "Refused: assessing monitoring measures is the privacy officer's tool.",
        )
    })
}

pub async fn page(viewer: Viewer) -> Response {
    if let Some(r) = refusal(&viewer) {
        return r;
    }
    render(&viewer, &HashMap::new(), None)
}

pub async fn submit(State(state): State<Web>, viewer: Viewer, form: FormResult) -> Response {
    if let Some(r) = refusal(&viewer) {
        return r;
    }
    let Ok(axum::Form(form)) = form else {
        return csrf_refused(viewer.lang);
    };
    if let Some(r) = viewer.check_csrf(&state.secret, &form) {
        return r;
    }
    let source = facts_toml(&form);
    let result = match ::assess::assess_str(&source) {
        Ok(a) => Ok((a.to_json(report_lang(viewer.lang)), source)),
        Err(e) => Err(e.to_string()),
    };
    let mut r = render(&viewer, &form, Some(result));
    *r.status_mut() = StatusCode::OK;
    r
}

fn report_lang(lang: Lang) -> ::assess::Lang {
    match lang {
        Lang::Nb => ::assess::Lang::Nb,
        Lang::En => ::assess::Lang::En,
    }
}

/// The answers as an assessment file: unanswered facts are left out (unknown).
fn facts_toml(form: &HashMap<String, String>) -> String {
    let name = form.get("name").map(|s| s.trim()).unwrap_or("");
    let name = if name.is_empty() {
        "Kontrolltiltak"
    } else {
        name
    };
    let mut out = String::from("kind = \"electronic_equipment\"\n");
    out.push_str(&format!(
        "name = {}\n",
        toml::Value::String(name.to_owned())
    ));
    for q in QUESTIONS {
        match form.get(q.key).map(String::as_str) {
            Some("yes") => out.push_str(&format!("{} = true\n", q.key)),
            Some("no") => out.push_str(&format!("{} = false\n", q.key)),
            _ => {}
        }
    }
    let purposes: Vec<String> = PURPOSES
        .iter()
        .filter(|(key, ..)| form.contains_key(&format!("purpose_{key}")))
        .map(|(key, ..)| format!("\"{key}\""))
        .collect();
    out.push_str(&format!("purposes = [{}]\n", purposes.join(", ")));
    let concerns: Vec<String> = CONCERNS
        .iter()
        .filter(|(key, ..)| form.contains_key(&format!("concerns_{key}")))
        .map(|(key, ..)| format!("\"{key}\""))
        .collect();
    if !concerns.is_empty() {
        out.push_str(&format!("concerns = [{}]\n", concerns.join(", ")));
    }
    out
}

/// An unknown fact as the question it asks, in the page's language (never its code).
fn fact_question(code: &str, lang: Lang) -> String {
    ::assess::Fact::ALL
        .iter()
        .find(|f| f.as_str() == code)
        .and_then(|f| ::assess::fact(*f))
        .map(|e| e.text(report_lang(lang)).to_owned())
        .unwrap_or_else(|| code.to_owned())
}

fn render(
    viewer: &Viewer,
    form: &HashMap<String, String>,
    result: Option<Result<(serde_json::Value, String), String>>,
) -> Response {
    let lang = viewer.lang;
    let answer = |key: &str| form.get(key).map(String::as_str).unwrap_or("unknown");
    let body = html! {
        h1 { (lang.t("Vurder et kontrolltiltak", "Assess a monitoring measure")) }
        p.lead { (lang.t(
            "Spørsmålene følger Datatilsynets veileder om overvåking av ansattes bruk av elektronisk utstyr (e-postforskriften § 2). Svar «vet ikke» der du ikke vet: da sier vurderingen hvilke opplysninger som ville endre utfallet.",
            "The questions follow Datatilsynet's guidance on monitoring employees' use of electronic equipment (e-postforskriften § 2). Answer “don't know” where you do not know: the assessment then says which facts would change the verdict.")) }
        @if let Some(r) = &result { (verdict(lang, r)) }
        form.card.assess method="post" action="/register/assess" {
            input type="hidden" name="csrf" value=(viewer.csrf);
            label for="name" { (lang.t("Tiltakets navn", "Name of the measure")) }
            input #name type="text" name="name" value=(form.get("name").map(String::as_str).unwrap_or("")) required;
            @for q in QUESTIONS {
                fieldset.question {
                    legend { (lang.t(q.nb, q.en)) }
                    p.example { strong { (lang.t("Eksempel fra veilederen: ", "Example from the guidance: ")) } (lang.t(q.example_nb, q.example_en)) }
                    div.choices {
                        @for (value, nb, en) in [("yes", "Ja", "Yes"), ("no", "Nei", "No"), ("unknown", "Vet ikke", "Don't know")] {
                            label.choice {
                                input type="radio" name=(q.key) value=(value) checked[answer(q.key) == value];
                                " " (lang.t(nb, en))
                            }
                        }
                    }
                }
            }
            fieldset.question {
                legend { (lang.t("Hva er formålet?", "What is it for?")) }
                p.example { strong { (lang.t("Fra veilederen: ", "From the guidance: ")) }
                    (lang.t("Bare to formål kan gjøre overvåking lovlig: å administrere datanettverket og å avdekke eller oppklare sikkerhetsbrudd. Kundeforhold er ikke et av dem.",
                            "Only two purposes can make monitoring lawful: administering the network and detecting or clearing up security breaches. Customer relations is not one of them.")) }
                div.choices {
                    @for (key, nb, en) in PURPOSES {
                        @let field = format!("purpose_{key}");
                        label.choice {
                            input type="checkbox" name=(field) value="1" checked[form.contains_key(&field)];
                            " " (lang.t(nb, en))
                        }
                    }
                }
            }
            fieldset.question {
                legend { (lang.t("Hvem gjelder tiltaket?", "Whom does it concern?")) }
                p.example { strong { (lang.t("Fra veilederen: ", "From the guidance: ")) }
                    (lang.t("E-postforskriften gjelder både nåværende og tidligere arbeidstakere. Overvåking av oppdragstakere eller kunder reguleres bare av personopplysningsloven med personvernforordningen. Krysser du ikke av, gjelder det ansatte.",
                            "E-postforskriften covers current and former employees alike. Monitoring contractors or customers is governed by the Personal Data Act and the GDPR alone. If you tick nothing, it concerns employees.")) }
                div.choices {
                    @for (key, nb, en) in CONCERNS {
                        @let field = format!("concerns_{key}");
                        label.choice {
                            input type="checkbox" name=(field) value="1" checked[form.contains_key(&field)];
                            " " (lang.t(nb, en))
                        }
                    }
                }
            }
            button.primary type="submit" { (lang.t("Vurder", "Assess")) }
        }
    };
    Page::new(
        lang,
        lang.t("Vurder et kontrolltiltak", "Assess a monitoring measure"),
    )
    .path("/register/assess")
    .body(body)
    .render(Some(viewer))
}

fn verdict(lang: Lang, r: &Result<(serde_json::Value, String), String>) -> Markup {
    let list = |v: &serde_json::Value| -> Vec<(String, String, String)> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|x| {
                        (
                            x["code"].as_str().unwrap_or("").to_owned(),
                            x["text"].as_str().unwrap_or("").to_owned(),
                            x["citation"].as_str().unwrap_or("").to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    match r {
        Err(e) => html! { section.card { p.alert role="alert" { (e) } } },
        Ok((j, source)) => {
            let v = j["verdict"].as_str().unwrap_or("");
            let lawful = matches!(
                v,
                "not_personal_data" | "outside_prohibition" | "permitted_exception"
            );
            let unknown: Vec<String> = j["unknown"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            html! {
                section.card.verdict #verdict role="status" {
                    h2 { (lang.t("Vurdering: ", "Verdict: "))
                        span.(if lawful { "verify-ok" } else { "verify-bad" }) data-verdict=(v) { (super::register::verdict_label(lang, v)) } }
                    h3 { (lang.t("Begrunnelse", "Reasons")) }
                    ul.reasons { @for (_, text, citation) in list(&j["reasons"]) {
                        li { (text) " " small.muted { "(" (citation) ")" } }
                    } }
                    @let duties = list(&j["duties"]);
                    @if !duties.is_empty() {
                        h3 { (lang.t("Plikter", "Duties")) }
                        ul.reasons { @for (_, text, citation) in &duties {
                            li { (text) " " small.muted { "(" (citation) ")" } }
                        } }
                    }
                    @if !unknown.is_empty() {
                        p.alert { (lang.t("Disse opplysningene mangler og kan endre utfallet:", "These facts are missing and could change the verdict:")) }
                        ul.unknown { @for u in &unknown { li { (fact_question(u, lang)) } } }
                    }
                    details {
                        summary { (lang.t("Faktaene som vurderingsfil (for registeret)", "The facts as an assessment file (for the register)")) }
                        pre { (source) }
                    }
                }
            }
        }
    }
}
