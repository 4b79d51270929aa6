//! The compliance register (kontrolltiltak) for the privacy officer (personvernombud) and,
//! read-only, the employee representatives (tillitsvalgte): each measure with its gate — what
//! is missing before it may collect, with the source of each duty — the next evaluation,
//! the documents generated from it, breaches with the 72-hour clock, and access cases.
//! The privacy officer records deviations and breaches (the 72-hour clock starts at once) and
//! evaluations with the representatives here; the other changes are made with
//! `sporvern register apply` on the server.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use super::super::data::{self, RegisterView};
use super::super::i18n::Lang;
use super::super::layout::Page;
use super::super::session::Viewer;
use super::super::{FormResult, Web, blocking};
use super::failed;
use crate::ingest::now;

#[derive(serde::Deserialize)]
pub struct Flash {
    done: Option<String>,
}

pub async fn page(State(state): State<Web>, viewer: Viewer, Query(f): Query<Flash>) -> Response {
    let (reads, v) = (state.reads.clone(), viewer.clone());
    let view = match blocking(move || data::register(&reads, &v, now())).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return failed(&viewer, e),
        Err(r) => return r,
    };
    let lang = viewer.lang;
    Page::new(lang, lang.t("Kontrolltiltak", "Monitoring measures"))
        .path("/register")
        .body(html! {
            @if f.done.as_deref() == Some("breach") {
                p.notice role="status" { (lang.t(
                    "Bruddet er registrert. Klokken på 72 timer til Datatilsynet går fra da det ble oppdaget.",
                    "The breach is recorded. The 72-hour clock to Datatilsynet runs from its discovery.")) }
            }
            @if f.done.as_deref() == Some("evaluated") {
                p.notice role="status" { (lang.t("Evalueringen er registrert.", "The evaluation is recorded.")) }
            }
            @if f.done.as_deref() == Some("not-notified") {
                p.notice role="status" { (lang.t("Avgjørelsen om ikke å melde bruddet er registrert med begrunnelsen.", "The decision not to notify the breach is recorded with its reason.")) }
            }
            @if f.done.as_deref() == Some("notified") {
                p.notice role="status" { (lang.t("Meldingen til Datatilsynet er registrert.", "The notification to Datatilsynet is recorded.")) }
            }
            (body(lang, &view, &state.shared.gate_config(), viewer.holds(access::Role::PrivacyOfficer).then_some(viewer.csrf.as_str())))
        })
        .render(Some(&viewer))
}

/// The privacy officer records a deviation or personal-data breach.
pub async fn open_breach(State(state): State<Web>, viewer: Viewer, form: FormResult) -> Response {
    let r = super::me::act(&state, &viewer, form, |reads, v, form| {
        let field = |k: &str| form.get(k).map(String::as_str);
        data::open_breach(
            reads,
            v,
            field("description").unwrap_or(""),
            field("discovered"),
            field("personal") == Some("1"),
            field("measure"),
            now(),
        )
    })
    .await;
    match r {
        Ok(id) => Redirect::to(&format!("/register?done=breach#breach-{id}")).into_response(),
        Err(r) => r,
    }
}

/// The privacy officer records an evaluation of a measure with the representatives.
pub async fn record_evaluation(
    State(state): State<Web>,
    viewer: Viewer,
    Path(measure): Path<String>,
    form: FormResult,
) -> Response {
    let r = super::me::act(&state, &viewer, form, move |reads, v, form| {
        let field = |k: &str| form.get(k).map(String::as_str);
        data::record_evaluation(
            reads,
            v,
            &data::EvaluationForm {
                measure: &measure,
                date: field("date"),
                with: field("with").unwrap_or(""),
                need_still_present: field("need") == Some("1"),
                decision: field("decision").unwrap_or(""),
                reason_to_continue: field("reason").unwrap_or(""),
            },
            now(),
        )
        .map(|()| measure)
    })
    .await;
    match r {
        Ok(m) => Redirect::to(&format!("/register?done=evaluated#measure-{m}")).into_response(),
        Err(r) => r,
    }
}

/// The privacy officer records that Datatilsynet has been notified of a breach.
pub async fn notify_breach(
    State(state): State<Web>,
    viewer: Viewer,
    Path(id): Path<String>,
    form: FormResult,
) -> Response {
    let r = super::me::act(&state, &viewer, form, move |reads, v, _| {
        data::notify_breach(reads, v, &id, now()).map(|()| id)
    })
    .await;
    match r {
        Ok(id) => Redirect::to(&format!("/register?done=notified#breach-{id}")).into_response(),
        Err(r) => r,
    }
}

/// The privacy officer records that a breach is unlikely to result in a risk, so Datatilsynet
/// is not notified (GDPR art. 33(1)), with the reason.
pub async fn not_notify_breach(
    State(state): State<Web>,
    viewer: Viewer,
    Path(id): Path<String>,
    form: FormResult,
) -> Response {
    let r = super::me::act(&state, &viewer, form, move |reads, v, form| {
        let reason = form.get("reason").map(String::as_str).unwrap_or("");
        data::not_notify_breach(reads, v, &id, reason, now()).map(|()| id)
    })
    .await;
    match r {
        Ok(id) => Redirect::to(&format!("/register?done=not-notified#breach-{id}")).into_response(),
        Err(r) => r,
    }
}

pub fn verdict_label(lang: Lang, v: &str) -> &'static str {
    match v {
        "not_personal_data" => lang.t("ikke personopplysninger", "not personal data"),
        "outside_prohibition" => lang.t(
            "utenfor forbudet (GDPR gjelder)",
            "outside the ban (GDPR applies)",
        ),
        "prohibited" => lang.t("forbudt", "prohibited"),
        "permitted_exception" => lang.t("tillatt unntak", "permitted exception"),
        "compliant" => lang.t("lovlig", "lawful"),
        "non_compliant" => lang.t("ikke lovlig slik det er", "not lawful as it stands"),
        _ => lang.t("ukjent", "unknown"),
    }
}

fn status_name(lang: Lang, s: register::Status) -> &'static str {
    match s {
        register::Status::Planned => lang.t("planlagt", "planned"),
        register::Status::Active => lang.t("i bruk", "in use"),
        register::Status::Ended => lang.t("avsluttet", "ended"),
    }
}

fn doc_link(kind: &str, measure: Option<&str>, pdf: bool) -> String {
    format!(
        "/register/document?kind={kind}{}{}",
        measure.map(|m| format!("&measure={m}")).unwrap_or_default(),
        if pdf { "&format=pdf" } else { "" }
    )
}

/// `officer_csrf`: the privacy officer's form token (the forms are theirs alone).
fn body(
    lang: Lang,
    view: &RegisterView,
    cfg: &register::GateConfig,
    officer_csrf: Option<&str>,
) -> Markup {
    let privacy_officer = officer_csrf.is_some();
    let gates = view.register.gates(view.today, cfg);
    let current: Vec<&str> = view
        .org
        .employees
        .iter()
        .filter(|e| e.status == org::EmployeeStatus::Current)
        .map(|e| e.number.as_str())
        .collect();
    let employees = current.len();
    let now_utc = time::OffsetDateTime::now_utc();
    html! {
        h1 { (lang.t("Kontrolltiltak", "Monitoring measures (kontrolltiltak)")) }
        p.lead { (lang.t(
            "Registeret over kontrolltiltak: hvert tiltak med vurderingen, pliktene det fører med seg og hva som mangler før det får samle inn. Avvik, brudd og evalueringer med de tillitsvalgte registreres her; andre endringer gjøres med «sporvern register apply» på serveren.",
            "The register of monitoring measures: each measure with its assessment, the duties it brings and what is missing before it may collect. Deviations, breaches and evaluations with the representatives are recorded here; other changes are made with “sporvern register apply” on the server.")) }
        section.card {
            h2 { (lang.t("Dokumenter", "Documents")) }
            div.actions {
                a.button href=(doc_link("records", None, true)) download { (lang.t("Protokoll over behandlinger (art. 30), PDF", "Records of processing (art. 30), PDF")) }
                @if privacy_officer {
                    a.button #assess-link href="/register/assess" { (lang.t("Vurder et nytt kontrolltiltak", "Assess a new monitoring measure")) }
                }
            }
        }
        @if gates.is_empty() {
            section.card { p { (lang.t("Registeret er tomt: bruk «sporvern register apply».", "The register is empty: use “sporvern register apply”.")) } }
        }
        @for g in &gates {
            @let e = g.entry;
            @let m = &e.as_recorded(view.today);
            @let acknowledged = e.duties.acknowledgements.iter().filter(|a| current.contains(&a.employee.as_str())).count();
            section.card.measure id={ "measure-" (m.id) } {
                h2 { (m.name) }
                p.muted { code { (m.id) } " · " (if g.state.schedule_deletion { lang.t("avsluttet", "ended") } else { status_name(lang, m.status) }) " · "
                    (lang.t("vurdering: ", "assessment: ")) span.verdict data-verdict=(g.state.verdict.as_str()) { (verdict_label(lang, g.state.verdict.as_str())) } }
                @if g.state.may_collect {
                    p.gate.open { span.badge.signed { (lang.t("Får samle inn", "May collect")) } }
                } @else {
                    p.gate.closed { span.badge.unclassified { (lang.t("Samler ikke inn", "Not collecting")) }
                        " " (lang.t("Dette mangler først:", "Missing first:")) }
                    ul.missing {
                        @for x in &g.state.missing {
                            li { (lang.t(&x.text_nb, &x.text_en)) " " small.muted { "(" (x.citation) ")" } }
                        }
                    }
                }
                @if !g.state.warnings.is_empty() {
                    ul.warnings {
                        @for w in &g.state.warnings {
                            li.alert { (lang.t(&w.text_nb, &w.text_en)) " " small { "(" (w.citation) ")" } }
                        }
                    }
                }
                dl.held {
                    @if let Some(due) = g.state.next_evaluation_due {
                        div { dt { (lang.t("Neste evaluering med de tillitsvalgte", "Next evaluation with the representatives")) } dd { (due) } }
                    }
                    div { dt { (lang.t("Drøftet med de tillitsvalgte", "Discussed with the representatives")) } dd {
                        @if e.duties.discussions.is_empty() {
                            (lang.t("ikke registrert", "not recorded"))
                        }
                        @for d in &e.duties.discussions {
                            p.entry { (d.date) " · " (d.participants.join(", ")) @if !d.minutes.is_empty() { br; span.muted { (d.minutes) } } }
                        }
                    } }
                    div { dt { (lang.t("Evalueringer", "Evaluations")) } dd {
                        @if e.duties.evaluations.is_empty() {
                            (lang.t("ingen ennå", "none yet"))
                        }
                        @for ev in &e.duties.evaluations {
                            p.entry { (ev.date) " · " (ev.with_representatives.join(", ")) " · "
                                (match ev.decision { register::Decision::Continue => lang.t("fortsetter", "continues"), register::Decision::End => lang.t("avsluttes", "ends") })
                                @if !ev.need_still_present { " · " (lang.t("behovet er ikke lenger til stede", "the need is no longer present")) }
                                @if let Some(r) = &ev.reason_to_continue { " · " (lang.t("fortsetter fordi: ", "continues because: ")) (r) } }
                        }
                    } }
                    div { dt { (lang.t("Informasjon til de ansatte", "Information to employees")) } dd {
                        @if let Some(info) = &e.duties.information {
                            (lang.t("publisert ", "published ")) (info.published_on) " · "
                            (acknowledged) " / " (employees) (lang.t(" ansatte har bekreftet", " employees have acknowledged"))
                        } @else {
                            (lang.t("ikke registrert", "not recorded"))
                        }
                    } }
                }
                @if let Some(csrf) = officer_csrf {
                    details.evaluate id={ "evaluate-" (m.id) } {
                        summary { (lang.t("Registrer en evaluering med de tillitsvalgte", "Record an evaluation with the representatives")) }
                        form.stack method="post" action={ "/register/measures/" (m.id) "/evaluations" } {
                            input type="hidden" name="csrf" value=(csrf);
                            label for={ "ev-date-" (m.id) } { (lang.t("Dato (tom = i dag)", "Date (empty = today)")) }
                            input id={ "ev-date-" (m.id) } type="date" name="date";
                            label for={ "ev-with-" (m.id) } { (lang.t("Tillitsvalgte som deltok (skill med komma)", "Representatives who took part (comma-separated)")) }
                            input id={ "ev-with-" (m.id) } type="text" name="with" required;
                            label.check {
                                input type="checkbox" name="need" value="1" checked;
                                " " (lang.t("Behovet for tiltaket er fortsatt til stede", "The need for the measure is still present"))
                            }
                            label for={ "ev-reason-" (m.id) } { (lang.t("Er behovet borte, men tiltaket skal fortsette: hvorfor? (uten grunn avsluttes tiltaket)", "If the need is gone but the measure is to continue: why? (without a reason the measure ends)")) }
                            input id={ "ev-reason-" (m.id) } type="text" name="reason";
                            label for={ "ev-decision-" (m.id) } { (lang.t("Beslutning", "Decision")) }
                            select id={ "ev-decision-" (m.id) } name="decision" {
                                option value="continue" { (lang.t("Tiltaket fortsetter", "The measure continues")) }
                                option value="end" { (lang.t("Tiltaket avsluttes: innsamlingen stopper og dataene slettes", "The measure ends: collection stops and its data is deleted")) }
                            }
                            button.primary type="submit" { (lang.t("Registrer evalueringen", "Record the evaluation")) }
                        }
                    }
                }
                div.actions {
                    @if e.duties.information.is_some() {
                        a.button.notice-pdf href=(doc_link("notice", Some(&m.id), true)) download { (lang.t("Informasjonsskriv (PDF)", "Information notice (PDF)")) }
                        a.button href=(doc_link("notice", Some(&m.id), false)) download { "HTML" }
                    }
                    a.button href=(doc_link("dpia", Some(&m.id), true)) download { (lang.t("DPIA-utkast", "DPIA draft")) }
                    a.button href=(doc_link("agenda", Some(&m.id), true)) download { (lang.t("Drøftingsagenda", "Discussion agenda")) }
                }
            }
        }
        section.card {
            h2 { (lang.t("Avvik og brudd", "Deviations and breaches")) }
            @if view.register.breaches.is_empty() {
                p { (lang.t("Ingen registrert.", "None recorded.")) }
            } @else {
                ul.looked { @for b in &view.register.breaches {
                    li id={ "breach-" (b.id) } {
                        div.when { code { (b.id) } " · " (b.breach.discovered_at.date()) }
                        div.what { (b.breach.description) " — " (clock(lang, register::breach_status(&b.breach, now_utc)))
                            @if let Some(n) = &b.breach.not_notified { br; span.muted { (n.reason) } } }
                        @if let Some(csrf) = officer_csrf {
                            @if b.breach.personal_data_affected && b.breach.notified_datatilsynet_at.is_none() {
                                form method="post" action={ "/register/breaches/" (b.id) "/notify" } {
                                    input type="hidden" name="csrf" value=(csrf);
                                    button type="submit" { (lang.t("Registrer: meldt til Datatilsynet nå", "Record: Datatilsynet notified now")) }
                                }
                                @if b.breach.not_notified.is_none() {
                                    form.stack method="post" action={ "/register/breaches/" (b.id) "/not-notified" } {
                                        input type="hidden" name="csrf" value=(csrf);
                                        label for={ "nn-" (b.id) } { (lang.t("Eller: bruddet medfører neppe risiko for de ansatte (art. 33 nr. 1). Begrunnelse:", "Or: the breach is unlikely to result in a risk to the employees (art. 33(1)). Reason:")) }
                                        input id={ "nn-" (b.id) } type="text" name="reason" required;
                                        button type="submit" { (lang.t("Registrer: meldes ikke", "Record: not notified")) }
                                    }
                                }
                            }
                        }
                    }
                } }
            }
            @if let Some(csrf) = officer_csrf {
                details #new-breach {
                    summary { (lang.t("Registrer et avvik eller brudd", "Record a deviation or breach")) }
                    form.stack method="post" action="/register/breaches" {
                        input type="hidden" name="csrf" value=(csrf);
                        label for="breach-description" { (lang.t("Hva skjedde?", "What happened?")) }
                        textarea #breach-description name="description" rows="3" required {}
                        label for="breach-discovered" { (lang.t("Oppdaget (tom = nå)", "Discovered (empty = now)")) }
                        input #breach-discovered type="datetime-local" name="discovered";
                        label for="breach-measure" { (lang.t("Kontrolltiltak (valgfritt)", "Monitoring measure (optional)")) }
                        select #breach-measure name="measure" {
                            option value="" { "—" }
                            @for e in &view.register.entries { option value=(e.measure.id) { (e.measure.name) } }
                        }
                        label.check {
                            input type="checkbox" name="personal" value="1" checked;
                            " " (lang.t("Personopplysninger er berørt (72-timersfristen gjelder, GDPR art. 33)", "Personal data is affected (the 72-hour deadline applies, GDPR art. 33)"))
                        }
                        button.primary type="submit" { (lang.t("Registrer", "Record")) }
                    }
                }
            }
        }
        section.card {
            h2 { (lang.t("Innsynssaker (e-postforskriften §§ 3–4)", "Access cases (e-postforskriften §§ 3–4)")) }
            @if view.register.access_cases.is_empty() {
                p { (lang.t("Ingen.", "None.")) }
            } @else {
                ul.looked { @for c in &view.register.access_cases {
                    li {
                        div.when { code { (c.id) } " · " (lang.t("ansatt ", "employee ")) (c.employee) }
                        div.what { @if let Some(d) = c.closed_on { (lang.t("lukket ", "closed ")) (d) } @else { (lang.t("åpen", "open")) } }
                    }
                } }
            }
        }
    }
}

/// The 72-hour clock of a breach (GDPR art. 33).
fn clock(lang: Lang, s: register::BreachStatus) -> String {
    match (lang, s) {
        (Lang::Nb, register::BreachStatus::Due { hours_left }) => {
            format!("meldes Datatilsynet innen {hours_left} timer")
        }
        (Lang::En, register::BreachStatus::Due { hours_left }) => {
            format!("notify Datatilsynet within {hours_left} hours")
        }
        (Lang::Nb, register::BreachStatus::Overdue { hours_over }) => {
            format!("FRISTEN ER PASSERT med {hours_over} timer")
        }
        (Lang::En, register::BreachStatus::Overdue { hours_over }) => {
            format!("DEADLINE PASSED by {hours_over} hours")
        }
        (l, register::BreachStatus::Notified) => l.t("meldt", "notified").to_owned(),
        (l, register::BreachStatus::RiskUnlikely) => l
            .t(
                "ikke meldt: vurdert som lite sannsynlig at bruddet medfører risiko (art. 33 nr. 1)",
                "not notified: judged unlikely to result in a risk (art. 33(1))",
            )
            .to_owned(),
        (l, register::BreachStatus::NotNotifiable) => l
            .t(
                "ingen personopplysninger berørt",
                "no personal data affected",
            )
            .to_owned(),
    }
}

#[derive(serde::Deserialize)]
pub struct DocQuery {
    kind: Option<String>,
    measure: Option<String>,
    format: Option<String>,
}

pub async fn document(
    State(state): State<Web>,
    viewer: Viewer,
    Query(q): Query<DocQuery>,
) -> Response {
    let (reads, v) = (state.reads.clone(), viewer.clone());
    let lang = viewer.lang;
    let pdf = q.format.as_deref() == Some("pdf");
    let r = blocking(move || {
        data::register_document(
            &reads,
            &v,
            q.kind.as_deref().unwrap_or(""),
            q.measure.as_deref(),
            pdf,
            lang,
            now(),
        )
    })
    .await;
    match r {
        Ok(Ok((name, content_type, bytes))) => (
            [
                (header::CONTENT_TYPE, content_type.to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                ),
            ],
            bytes,
        )
            .into_response(),
        Ok(Err(e)) => failed(&viewer, e),
        Err(r) => r,
    }
}
