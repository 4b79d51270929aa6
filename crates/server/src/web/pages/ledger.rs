//! The audit ledger (revisjonslogg) for the privacy officer and the employee representatives
//! (tillitsvalgte): who read what, when, in which role and for which purpose, and whether the
//! hash chain and Merkle tree still verify. Metadata only; never the tracking data.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::html;

use super::super::data;
use super::super::i18n::{action_name, purpose_name, role_name};
use super::super::layout::Page;
use super::super::session::Viewer;
use super::super::{Web, blocking};
use super::{failed, local};

#[derive(serde::Deserialize)]
pub struct LedgerQuery {
    employee: Option<String>,
}

pub async fn page(
    State(state): State<Web>,
    viewer: Viewer,
    Query(q): Query<LedgerQuery>,
) -> Response {
    let (reads, v) = (state.reads.clone(), viewer.clone());
    let employee = q
        .employee
        .map(|e| e.trim().to_owned())
        .filter(|e| !e.is_empty());
    let about = employee.clone();
    let view = match blocking(move || data::ledger(&reads, &v, about.as_deref())).await {
        Ok(Ok(w)) => w,
        Ok(Err(e)) => return failed(&viewer, e),
        Err(r) => return r,
    };
    let lang = viewer.lang;
    let body = html! {
        h1 { (lang.t("Revisjonslogg", "Audit ledger")) }
        p.lead { (lang.t(
            "Hver lesing, eksport og endring av personopplysninger, og hvert avvist forsøk. Loggen er hash-kjedet og et Merkle-tre, så endrede, slettede eller omrokkerte oppføringer oppdages.",
            "Every read, export and change of personal data, and every refused attempt. The ledger is hash-chained and a Merkle tree, so edited, removed or reordered entries are detected.")) }
        section.card #verify {
            @match &view.verified.outcome {
                Ok(head) => p.verify-ok role="status" {
                    "✓ " (lang.t("Loggen er verifisert: ", "The ledger verifies: ")) (head.size) (lang.t(" oppføringer, rot ", " entries, root "))
                    code { (hex::encode(&head.root[..8])) "…" }
                },
                Err(e) => p.verify-bad role="alert" { "✗ " (lang.t("Loggen er IKKE intakt: ", "The ledger is NOT intact: ")) (e) },
            }
            p.muted { (lang.t("Kontrollert ", "Checked ")) (super::local(view.verified.at)) (lang.t(
                " — serveren kontrollerer hele loggen hver time; oppføringer etter det kontrolleres ved neste runde.",
                " — the server checks the whole ledger every hour; later entries are checked at the next round.")) }
        }
        section.card {
            form.pick method="get" action="/ledger" {
                div {
                    label for="employee" { (lang.t("Innsynsrapport for ansatt (nummer)", "Access report for an employee (number)")) }
                    input #employee type="text" name="employee" inputmode="numeric" value=(employee.as_deref().unwrap_or(""));
                }
                button.primary type="submit" { (lang.t("Vis", "Show")) }
            }
            @if employee.is_some() {
                p { a href="/ledger" { (lang.t("Vis hele loggen", "Show the whole ledger")) } }
            }
        }
        @if viewer.holds(access::Role::PrivacyOfficer) {
            section.card {
                h2 { (lang.t("Svar på en innsynsbegjæring", "Answer an access request")) }
                p.muted { (lang.t(
                    "Alt som er lagret om én ansatt, som ZIP — det samme den ansatte selv kan laste ned (personvernforordningen art. 15). Oppgi saksnummeret; uttaket føres i loggen og vises for den ansatte.",
                    "Everything held about one employee, as a ZIP — the same the employee can download (GDPR art. 15). Give the case number; the export is recorded and shown to the employee.")) }
                form.pick method="get" action="/ledger/report" {
                    div {
                        label for="report-employee" { (lang.t("Ansattnummer", "Employee number")) }
                        input #report-employee type="text" name="employee" inputmode="numeric" required;
                    }
                    div {
                        label for="reference" { (lang.t("Saksnummer", "Case number")) }
                        input #reference type="text" name="reference" required;
                    }
                    button.primary type="submit" { (lang.t("Last ned rapport", "Download report")) }
                }
            }
        }
        section.card {
            h2 {
                @if let Some(e) = &employee {
                    (lang.t("Oppføringer om ansatt ", "Entries about employee ")) (e)
                } @else {
                    (lang.t("Siste oppføringer", "Latest entries"))
                }
                " (" (view.entries.len()) ")"
            }
            div.scroll tabindex="0" { table {
                thead { tr {
                    th.num scope="col" { "#" }
                    th scope="col" { (lang.t("Når", "When")) }
                    th scope="col" { (lang.t("Hvem", "Who")) }
                    th scope="col" { (lang.t("Rolle", "Role")) }
                    th scope="col" { (lang.t("Formål", "Purpose")) }
                    th scope="col" { (lang.t("Gjelder", "About")) }
                    th scope="col" { (lang.t("Hva", "What")) }
                    th scope="col" { (lang.t("Utfall", "Outcome")) }
                } }
                tbody { @for s in &view.entries {
                    @let e = &s.entry;
                    tr.(if e.action == ledger::Action::Denied { "denied" } else { "" }) {
                        td.num { (e.seq) }
                        td.nowrap { (local(domain::Timestamp::from_millis(e.at_ms))) }
                        td { (e.actor) }
                        td { (access::Role::parse(&e.role).map(|r| role_name(lang, r)).unwrap_or(&e.role)) }
                        td { (purpose_name(lang, &e.purpose)) }
                        td { (e.subject.as_deref().unwrap_or("—")) }
                        td { (action_name(lang, e.action)) ": " (e.object) }
                        td { (e.outcome) }
                    }
                } }
            } }
        }
    };
    Page::new(lang, lang.t("Revisjonslogg", "Audit ledger"))
        .path("/ledger")
        .body(body)
        .render(Some(&viewer))
}

#[derive(serde::Deserialize)]
pub struct ReportQuery {
    employee: Option<String>,
    reference: Option<String>,
}

/// The access report for one employee's request, as a ZIP.
pub async fn report(
    State(state): State<Web>,
    viewer: Viewer,
    Query(q): Query<ReportQuery>,
) -> Response {
    let (reads, v) = (state.reads.clone(), viewer.clone());
    let employee = q.employee.unwrap_or_default();
    let reference = q.reference.unwrap_or_default();
    let name = format!("innsyn-{}.zip", employee.trim());
    match blocking(move || data::access_report(&reads, &v, &employee, &reference)).await {
        Ok(Ok(zip)) => (
            [
                (header::CONTENT_TYPE, "application/zip".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{}\"", name.replace(['"', '\\'], "")),
                ),
            ],
            zip,
        )
            .into_response(),
        Ok(Err(e)) => failed(&viewer, e),
        Err(r) => r,
    }
}
