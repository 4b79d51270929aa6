//! The admin's configuration pages: the organisation, vehicles and their purposes, devices with
//! their field inventory (what each sends, what each purpose drops), sites, users and roles.
//! Configuration only: no tracking data is on this page.

use axum::extract::State;
use axum::response::Response;
use maud::html;

use super::super::data;
use super::super::i18n::{field_name, purpose_name, role_name};
use super::super::layout::Page;
use super::super::session::Viewer;
use super::super::{Web, blocking};
use super::{failed, local};

pub async fn page(State(state): State<Web>, viewer: Viewer) -> Response {
    let (reads, v) = (state.reads.clone(), viewer.clone());
    let a = match blocking(move || data::admin(&reads, &v)).await {
        Ok(Ok(a)) => a,
        Ok(Err(e)) => return failed(&viewer, e),
        Err(r) => return r,
    };
    let lang = viewer.lang;
    let body = html! {
        h1 { (lang.t("Administrasjon", "Administration")) }
        p.lead { (lang.t(
            "Oppsettet av organisasjonen. Administratoren konfigurerer, men leser ingen personopplysninger. Endringer gjøres i organisasjonsfilen: sporvern org apply.",
            "The organisation's configuration. The admin configures but reads no personal data. Changes are made in the organisation file: sporvern org apply.")) }
        section.card {
            h2 { (a.org.organisation.name) }
            @if let Some(n) = &a.org.organisation.org_number { p { (lang.t("Organisasjonsnummer ", "Organisation number ")) (n) } }
        }
        section.card {
            h2 { (lang.t("Kjøretøy og formål", "Vehicles and purposes")) }
            div.scroll tabindex="0" { table {
                thead { tr {
                    th scope="col" { (lang.t("Bil", "Vehicle")) }
                    th scope="col" { (lang.t("Gruppe", "Group")) }
                    th scope="col" { (lang.t("Formål", "Purposes")) }
                } }
                tbody { @for v in &a.org.vehicles { tr {
                    td { (v.reg) br; small.muted { (v.description.as_deref().unwrap_or("")) } }
                    td { (v.group.as_deref().unwrap_or("—")) }
                    td { (v.purposes.iter().map(|p| purpose_name(lang, p.as_str())).collect::<Vec<_>>().join(", ")) }
                } } }
            } }
        }
        section.card {
            h2 { (lang.t("Enheter og feltoversikt", "Devices and field inventory")) }
            p.muted { (lang.t(
                "Hvilke slags data hver enhet sender, og hvilke formål som får dem. Overskuddsinformasjon (fart, turtall, drivstoff …) kastes ved mottak for kjørebok og flåtestyring.",
                "Which kinds of data each device sends, and which purposes receive them. Surplus data (speed, RPM, fuel …) is dropped on arrival for the driving log and the fleet view.")) }
            @for (d, inv) in &a.devices {
                @let vehicle = a.org.devices.iter().find(|o| o.external_id == d.external_id);
                @let purposes = vehicle.and_then(|o| a.org.vehicles.iter().find(|v| v.reg == o.vehicle)).map(|v| v.purposes.clone()).unwrap_or_default();
                h3 { (d.protocol.as_str()) " " (d.external_id.as_str())
                    @if let Some(o) = vehicle { " → " (o.vehicle) @if let Some(m) = &o.model { " (" (m) ")" } } }
                @if inv.is_empty() { p.muted { (lang.t("Har ikke sendt noe ennå.", "Has sent nothing yet.")) } } @else {
                    div.scroll tabindex="0" { table {
                        thead { tr {
                            th scope="col" { (lang.t("Felt", "Field")) }
                            th scope="col" { (lang.t("Sist sett", "Last seen")) }
                            @for p in &purposes { th scope="col" { (purpose_name(lang, p.as_str())) } }
                        } }
                        tbody { @for f in inv { tr {
                            td { (field_name(lang, f.kind)) " " small.muted { "(" (f.key) ")" } }
                            td.nowrap { (local(f.last_seen)) }
                            @for p in &purposes {
                                td { @if purposes::policy::allowed(*p, f.kind) { (lang.t("får", "receives")) } @else { span.muted { (lang.t("kastes", "dropped")) } } }
                            }
                        } } }
                    } }
                }
            }
        }
        section.card {
            h2 { (lang.t("Steder", "Sites")) }
            ul { @for s in &a.org.sites { li { (s.name) @if let Some(ad) = &s.address { " — " (ad) } } } }
        }
        section.card {
            h2 { (lang.t("Brukere og roller", "Users and roles")) }
            p.muted { (lang.t("Nye brukere lages på serveren: sporvern user add NAVN --role ROLLE. Ingen standardpassord.", "New users are made on the server: sporvern user add NAME --role ROLE. No default passwords.")) }
            div.scroll tabindex="0" { table {
                thead { tr {
                    th scope="col" { (lang.t("Bruker", "User")) }
                    th scope="col" { (lang.t("Roller", "Roles")) }
                    th scope="col" { (lang.t("Ansatt", "Employee")) }
                    th scope="col" { (lang.t("Status", "Status")) }
                } }
                tbody { @for u in &a.users { tr {
                    td { (u.name) }
                    td { (u.roles.iter().map(|r| access::Role::parse(r).map(|r| role_name(lang, r).to_owned()).unwrap_or_else(|_| r.clone())).collect::<Vec<_>>().join(", ")) }
                    td { (u.employee_number.as_deref().unwrap_or("—")) }
                    td { @if u.disabled { (lang.t("sperret", "disabled")) } @else if !u.has_password { (lang.t("uten passord", "no password")) } @else { (lang.t("aktiv", "active")) } }
                } } }
            } }
        }
    };
    Page::new(lang, lang.t("Administrasjon", "Administration"))
        .path("/admin")
        .body(body)
        .render(Some(&viewer))
}
