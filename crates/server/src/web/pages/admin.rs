//! The admin's configuration pages: the organisation, vehicles and their purposes, devices with
//! their field inventory (what each sends, what each purpose drops) and their health, employees
//! and assignments, sites, users and roles — shown and changed in the browser.
//!
//! Configuration only: no tracking data, and no personal data either. Employees appear by
//! number with only *whether* a name, e-mail, phone or driver id is on record; the form takes
//! those values in but never shows them back. Every change goes through `crate::org_admin`,
//! the same door as `sporvern org apply` (the organisation file's own parser validates it, and
//! each change is on the ledger); `sporvern org show` prints the result.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use toml::Value;

use super::super::data::{self, DataError, invalid};
use super::super::i18n::{Lang, field_name, purpose_name, role_name};
use super::super::layout::{Page, html_response};
use super::super::map::{MapData, SCRIPTS, map};
use super::super::session::Viewer;
use super::super::{FormResult, Web, blocking};
use super::failed;
use crate::org_admin::{self, Changer, entry};

pub async fn page(
    State(state): State<Web>,
    viewer: Viewer,
    axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>,
) -> Response {
    let saved: Option<usize> = q.get("changes").and_then(|n| n.parse().ok());
    let (reads, v) = (state.reads.clone(), viewer.clone());
    let a = match blocking(move || data::admin(&reads, &v)).await {
        Ok(Ok(a)) => a,
        Ok(Err(e)) => return failed(&viewer, e),
        Err(r) => return r,
    };
    let lang = viewer.lang;
    let health = state.shared.health.clone();
    let now = crate::ingest::now();
    let csrf = viewer.csrf.as_str();
    let body = html! {
        h1 { (lang.t("Administrasjon", "Administration")) }
        p.lead { (lang.t(
            "Oppsettet av organisasjonen. Administratoren konfigurerer, men leser ingen personopplysninger: ansatte vises med nummer, og navn, e-post og telefon tas imot, men vises ikke igjen. Hver endring føres i revisjonsloggen, og sporvern org show skriver ut organisasjonsfilen slik den er nå.",
            "The organisation's configuration. The admin configures but reads no personal data: employees appear by number, and names, e-mail and phone are taken in but not shown back. Every change is on the audit ledger, and sporvern org show prints the organisation file as it is now.")) }
        @if let Some(n) = saved {
            p.notice #admin-saved role="status" { @if n == 0 { (lang.t("Ingen endringer: alt var slik allerede.", "No changes: everything was like that already.")) } @else {
                (super::super::i18n::count(lang, n, ("endring lagret", "endringer lagret"), ("change saved", "changes saved"))) } }
        }
        nav.card aria-label=(lang.t("Deler av siden", "Parts of the page")) {
            ul.inline-list {
                li { a href="#vehicles-h" { (lang.t("Kjøretøy", "Vehicles")) } }
                li { a href="#devices-h" { (lang.t("Enheter", "Devices")) } }
                li { a href="#health-h" { (lang.t("Enhetenes helse", "Device health")) } }
                li { a href="#employees-h" { (lang.t("Ansatte", "Employees")) } }
                li { a href="#sites-h" { (lang.t("Steder", "Sites")) } }
                li { a href="#users-h" { (lang.t("Brukere", "Users")) } }
            }
        }
        section.card {
            h2 { (a.org.organisation.name) }
            @if let Some(n) = &a.org.organisation.org_number { p { (lang.t("Organisasjonsnummer ", "Organisation number ")) (n) } }
        }
        (vehicles(lang, &a, csrf))
        (devices(lang, &a, csrf))
        (device_health(lang, &a, &health, now))
        (employees(lang, &a, csrf))
        (sites(lang, &a, csrf, state.tiles.as_deref()))
        (users(lang, &a, csrf))
    };
    let mut page = Page::new(lang, lang.t("Administrasjon", "Administration"))
        .path("/admin")
        .images_from(state.tiles.as_ref().map(|t| t.origin.clone()));
    for s in SCRIPTS {
        page = page.script(s);
    }
    page.script("/static/admin.js")
        .body(body)
        .render(Some(&viewer))
}

fn purposes_of(lang: Lang, v: &org::Vehicle) -> String {
    v.purposes
        .iter()
        .map(|p| purpose_name(lang, p.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn vehicles(lang: Lang, a: &data::Admin, csrf: &str) -> Markup {
    html! {
        section.card aria-labelledby="vehicles-h" {
            h2 #vehicles-h { (lang.t("Kjøretøy og formål", "Vehicles and purposes")) }
            div.scroll tabindex="0" { table #vehicle-table {
                thead { tr {
                    th scope="col" { (lang.t("Bil", "Vehicle")) }
                    th scope="col" { (lang.t("Gruppe", "Group")) }
                    th scope="col" { (lang.t("Formål", "Purposes")) }
                    th scope="col" { (lang.t("Ta ut av bruk", "Retire")) }
                } }
                tbody { @for v in &a.org.vehicles { tr data-vehicle=(v.reg) {
                    td { (v.reg) " " small.muted { (v.kind.as_str()) } br; small.muted { (v.description.as_deref().unwrap_or("")) } }
                    td { (v.group.as_deref().unwrap_or("—")) }
                    td { (purposes_of(lang, v)) }
                    td { form.inline method="post" action="/admin/vehicles/retire" {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="reg" value=(v.reg);
                        button type="submit" aria-label={ (lang.t("Ta ut av bruk: ", "Retire: ")) (v.reg) } { (lang.t("Ta ut", "Retire")) }
                    } }
                } } }
            } }
            details {
                summary { (lang.t("Legg til eller endre et kjøretøy", "Add or change a vehicle")) }
                form.stack #vehicle-form method="post" action="/admin/vehicles" {
                    input type="hidden" name="csrf" value=(csrf);
                    label for="v-reg" { (lang.t("Registreringsnummer (et eksisterende endres)", "Registration number (an existing one is changed)")) }
                    input #v-reg name="reg" required maxlength="12" autocomplete="off";
                    label for="v-kind" { (lang.t("Type", "Kind")) }
                    select #v-kind name="kind" {
                        option value="van" { (lang.t("varebil", "van")) }
                        option value="car" { (lang.t("personbil", "car")) }
                    }
                    label for="v-group" { (lang.t("Gruppe (for statistikken)", "Group (for the statistics)")) }
                    input #v-group name="group" maxlength="60";
                    label for="v-desc" { (lang.t("Beskrivelse", "Description")) }
                    input #v-desc name="description" maxlength="120";
                    fieldset {
                        legend { (lang.t("Formål", "Purposes")) }
                        @for p in org::Purpose::ALL {
                            label.check { input type="checkbox" name={ "purpose_" (p.as_str()) } value="on"; " " (purpose_name(lang, p.as_str())) }
                        }
                    }
                    button.primary type="submit" { (lang.t("Lagre kjøretøy", "Save vehicle")) }
                }
            }
        }
    }
}

fn devices(lang: Lang, a: &data::Admin, csrf: &str) -> Markup {
    html! {
        section.card aria-labelledby="devices-h" {
            h2 #devices-h { (lang.t("Enheter og feltoversikt", "Devices and field inventory")) }
            p.muted { (lang.t(
                "Hvilke slags data hver enhet sender, og hvilke formål som får dem. Overskuddsinformasjon (fart, turtall, drivstoff …) kastes ved mottak for kjørebok og flåtestyring.",
                "Which kinds of data each device sends, and which purposes receive them. Surplus data (speed, RPM, fuel …) is dropped on arrival for the driving log and the fleet view.")) }
            @for d in &a.org.devices {
                @let inv = a.devices.iter().find(|(r, _)| r.protocol == d.protocol && r.external_id == d.external_id).map(|(_, i)| i.as_slice()).unwrap_or(&[]);
                @let purposes = a.org.vehicles.iter().find(|v| v.reg == d.vehicle).map(|v| v.purposes.clone()).unwrap_or_default();
                article.device data-device=(d.external_id.as_str()) {
                    h3 { (d.protocol.as_str()) " " (d.external_id.as_str()) " → " (d.vehicle) @if let Some(m) = &d.model { " (" (m) ")" } }
                    form.inline method="post" action="/admin/devices/remove" {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="protocol" value=(d.protocol.as_str());
                        input type="hidden" name="id" value=(d.external_id.as_str());
                        button type="submit" aria-label={ (lang.t("Fjern enheten ", "Remove the device ")) (d.external_id.as_str()) } { (lang.t("Fjern", "Remove")) }
                    }
                    @if inv.is_empty() { p.muted { (lang.t("Har ikke sendt noe ennå.", "Has sent nothing yet.")) } } @else {
                        div.scroll tabindex="0" { table {
                            thead { tr {
                                th scope="col" { (lang.t("Felt", "Field")) }
                                th scope="col" { (lang.t("Sist sett (dag)", "Last seen (day)")) }
                                @for p in &purposes { th scope="col" { (purpose_name(lang, p.as_str())) } }
                            } }
                            tbody { @for f in inv { tr {
                                td { (field_name(lang, f.kind)) " " small.muted { "(" (f.key) ")" } }
                                td.nowrap { (data::today(f.last_seen)) }
                                @for p in &purposes {
                                    td { @if purposes::policy::allowed(*p, f.kind) { (lang.t("får", "receives")) } @else { span.muted { (lang.t("kastes", "dropped")) } } }
                                }
                            } } }
                        } }
                    }
                }
            }
            details {
                summary { (lang.t("Legg til eller endre en enhet", "Add or change a device")) }
                form.stack #device-form method="post" action="/admin/devices" {
                    input type="hidden" name="csrf" value=(csrf);
                    label for="d-protocol" { (lang.t("Protokoll", "Protocol")) }
                    select #d-protocol name="protocol" {
                        option value="teltonika" { "Teltonika (IMEI)" }
                        option value="osmand" { "OsmAnd / Traccar Client" }
                        option value="owntracks" { "OwnTracks" }
                    }
                    label for="d-id" { (lang.t("Enhetens ID (IMEI, enhets-ID eller bruker/enhet)", "The device's id (IMEI, device id, or user/device)")) }
                    input #d-id name="id" required maxlength="64" autocomplete="off";
                    label for="d-vehicle" { (lang.t("Kjøretøy", "Vehicle")) }
                    select #d-vehicle name="vehicle" required {
                        @for v in &a.org.vehicles { option value=(v.reg) { (v.reg) } }
                    }
                    label for="d-model" { (lang.t("Modell", "Model")) }
                    input #d-model name="model" maxlength="60";
                    label for="d-privacy" { (lang.t("Inngang for privatmodus (f.eks. din2)", "Privacy-mode input (e.g. din2)")) }
                    input #d-privacy name="privacy_input" maxlength="30";
                    label for="d-panic" { (lang.t("Inngang for panikknapp (f.eks. din1)", "Panic-button input (e.g. din1)")) }
                    input #d-panic name="panic_input" maxlength="30";
                    button.primary type="submit" { (lang.t("Lagre enhet", "Save device")) }
                }
            }
        }
    }
}

fn device_health(
    lang: Lang,
    a: &data::Admin,
    health: &crate::health::DeviceHealth,
    now: domain::Timestamp,
) -> Markup {
    let refusals = health.refusals();
    html! {
        section.card aria-labelledby="health-h" {
            h2 #health-h { (lang.t("Enhetenes helse", "Device health")) }
            p.muted { (lang.t(
                "Om enheten er tilkoblet nå, siste dag den hadde kontakt, og hva som ble avvist og hvorfor. Ingen posisjoner.",
                "Whether the device is connected now, the last day it made contact, and what was refused and why. No positions.")) }
            div.scroll tabindex="0" { table #health-table {
                thead { tr {
                    th scope="col" { (lang.t("Enhet", "Device")) }
                    th scope="col" { (lang.t("Protokoll", "Protocol")) }
                    th scope="col" { (lang.t("Tilkoblet nå", "Connected now")) }
                    th scope="col" { (lang.t("Siste kontakt", "Last contact")) }
                    th scope="col" { (lang.t("Modell / fastvare", "Model / firmware")) }
                    th scope="col" { (lang.t("Avvist", "Refused")) }
                } }
                tbody { @for d in &a.org.devices {
                    @let id = d.external_id.as_str();
                    @let last = a.devices.iter().find(|(r, _)| r.protocol == d.protocol && r.external_id == d.external_id)
                        .and_then(|(_, inv)| inv.iter().map(|f| f.last_seen).max());
                    // Units on HTTP (phones) hold no connection: "connected" is a contact in the last 10 minutes.
                    @let connected = health.is_connected(d.protocol, id)
                        || (d.protocol != domain::Protocol::Teltonika && last.is_some_and(|t| now.millis() - t.millis() < 10 * 60_000));
                    @let refused: Vec<_> = refusals.iter().filter(|r| r.protocol == d.protocol && r.device.as_deref() == Some(id)).collect();
                    tr data-device=(id) {
                        td { (id) " → " (d.vehicle) }
                        td { (d.protocol.as_str()) }
                        td.connected { @if connected { (lang.t("ja", "yes")) } @else { (lang.t("nei", "no")) } }
                        td { @match last { Some(t) => { (data::today(t)) }, None => { span.muted { (lang.t("aldri", "never")) } } } }
                        td { (d.model.as_deref().unwrap_or("—")) " / " span.muted { (lang.t("ikke rapportert", "not reported")) } }
                        td { @if refused.is_empty() { "0" } @else { @for r in &refused { (r.count) " × " (r.why) " (" (r.last_day) ")" br; } } }
                    }
                } }
            } }
            @let unknown: Vec<_> = refusals.iter().filter(|r| !a.org.devices.iter().any(|d| d.protocol == r.protocol && r.device.as_deref() == Some(d.external_id.as_str()))).collect();
            h3 { (lang.t("Avvist fra enheter som ikke er registrert", "Refused from devices that are not registered")) }
            @if unknown.is_empty() { p.muted { (lang.t("Ingenting avvist.", "Nothing refused.")) } } @else {
                ul #refusals { @for r in &unknown {
                    li { (r.protocol.as_str()) @if let Some(d) = &r.device { " " (d) } ": " (r.why) " — " (r.count) "× (" (lang.t("sist ", "last ")) (r.last_day) ")" }
                } }
            }
        }
    }
}

fn employees(lang: Lang, a: &data::Admin, csrf: &str) -> Markup {
    let yes = |b: bool| if b { lang.t("ja", "yes") } else { "—" };
    html! {
        section.card aria-labelledby="employees-h" {
            h2 #employees-h { (lang.t("Ansatte og tildelinger", "Employees and assignments")) }
            p.muted { (lang.t("Navn, e-post og telefon vises ikke her: de er personopplysninger. Sikkerhetsoperatøren ser sjåførens navn og telefon i et åpent alarmvindu.", "Names, e-mail and phone are not shown here: they are personal data. The security operator sees the driver's name and phone in an open alarm window.")) }
            div.scroll tabindex="0" { table #employee-table {
                thead { tr {
                    th scope="col" { (lang.t("Ansattnr.", "Number")) }
                    th scope="col" { (lang.t("Status", "Status")) }
                    th scope="col" { (lang.t("E-post", "E-mail")) }
                    th scope="col" { (lang.t("Telefon", "Phone")) }
                    th scope="col" { (lang.t("Sjåfør-ID", "Driver id")) }
                } }
                tbody { @for e in &a.org.employees { tr data-employee=(e.number) {
                    td { (e.number) }
                    td { @if e.status == org::EmployeeStatus::Former { (lang.t("tidligere", "former")) } @else { (lang.t("ansatt", "current")) } }
                    td { (yes(e.email.is_some())) }
                    td { (yes(e.phone.is_some())) }
                    td { (yes(e.driver_id.is_some())) }
                } } }
            } }
            details {
                summary { (lang.t("Legg til eller endre en ansatt", "Add or change an employee")) }
                form.stack #employee-form method="post" action="/admin/employees" {
                    input type="hidden" name="csrf" value=(csrf);
                    p.muted { (lang.t("For en ansatt som finnes, endres bare feltene du fyller ut.", "For an existing employee, only the fields you fill in change.")) }
                    label for="e-number" { (lang.t("Ansattnummer", "Employee number")) }
                    input #e-number name="number" required maxlength="20" autocomplete="off";
                    label for="e-name" { (lang.t("Navn", "Name")) }
                    input #e-name name="name" maxlength="100" autocomplete="off";
                    label for="e-email" { (lang.t("E-post", "E-mail")) }
                    input #e-email name="email" type="email" maxlength="100" autocomplete="off";
                    label for="e-phone" { (lang.t("Telefon (for alarmer)", "Phone (for alarms)")) }
                    input #e-phone name="phone" type="tel" maxlength="20" autocomplete="off";
                    label for="e-driver" { (lang.t("Sjåfør-ID (iButton/kort)", "Driver id (iButton/card)")) }
                    input #e-driver name="driver_id" maxlength="40" autocomplete="off";
                    label for="e-status" { (lang.t("Status", "Status")) }
                    select #e-status name="status" {
                        option value="" { (lang.t("uendret", "unchanged")) }
                        option value="current" { (lang.t("ansatt", "current")) }
                        option value="former" { (lang.t("tidligere ansatt", "former employee")) }
                    }
                    button.primary type="submit" { (lang.t("Lagre ansatt", "Save employee")) }
                }
            }
            h3 { (lang.t("Hvem kjører hvilken bil", "Who drives which vehicle")) }
            div.scroll tabindex="0" { table #assignment-table {
                thead { tr {
                    th scope="col" { (lang.t("Ansattnr.", "Number")) }
                    th scope="col" { (lang.t("Bil", "Vehicle")) }
                    th scope="col" { (lang.t("Fra", "From")) }
                    th scope="col" { (lang.t("Til", "To")) }
                } }
                tbody { @for x in &a.org.assignments { tr {
                    td { (x.employee) } td { (x.vehicle) } td { (x.from) }
                    td { @match x.to { Some(t) => { (t) }, None => { (lang.t("løpende", "ongoing")) } } }
                } } }
            } }
            details {
                summary { (lang.t("Tildel en bil", "Assign a vehicle")) }
                form.stack method="post" action="/admin/assignments" {
                    input type="hidden" name="csrf" value=(csrf);
                    label for="x-employee" { (lang.t("Ansattnummer", "Employee number")) }
                    select #x-employee name="employee" required { @for e in &a.org.employees { option value=(e.number) { (e.number) } } }
                    label for="x-vehicle" { (lang.t("Bil", "Vehicle")) }
                    select #x-vehicle name="vehicle" required { @for v in &a.org.vehicles { option value=(v.reg) { (v.reg) } } }
                    label for="x-from" { (lang.t("Fra og med", "From")) }
                    input #x-from name="from" type="date" required;
                    label for="x-to" { (lang.t("Til (tom = løpende; en tildeling som finnes, avsluttes)", "To (empty = ongoing; an existing assignment is ended)")) }
                    input #x-to name="to" type="date";
                    button.primary type="submit" { (lang.t("Lagre tildeling", "Save assignment")) }
                }
            }
        }
    }
}

fn sites(
    lang: Lang,
    a: &data::Admin,
    csrf: &str,
    tiles: Option<&super::super::MapTiles>,
) -> Markup {
    html! {
        section.card aria-labelledby="sites-h" {
            h2 #sites-h { (lang.t("Steder", "Sites")) }
            p.muted { (lang.t("Turer som starter eller slutter innenfor et sted, får stedets navn i kjøreboken. Klikk i kartet for å sette midten av et nytt sted.", "Trips that start or end inside a site get its name in the driving log. Click the map to set the centre of a new site.")) }
            (map(lang, Some("sites-map"), lang.t("Kart over firmaets steder", "Map of the company's sites"),
                &MapData { sites: &a.org.sites, ..Default::default() }, tiles, "sites"))
            ul #site-list { @for s in &a.org.sites { li {
                (s.name) @if let Some(ad) = &s.address { " — " (ad) }
                form.inline method="post" action="/admin/sites/remove" {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="name" value=(s.name);
                    button type="submit" aria-label={ (lang.t("Fjern stedet ", "Remove the site ")) (s.name) } { (lang.t("Fjern", "Remove")) }
                }
            } } }
            details {
                summary { (lang.t("Legg til eller endre et sted", "Add or change a site")) }
                form.stack #site-form method="post" action="/admin/sites" {
                    input type="hidden" name="csrf" value=(csrf);
                    label for="s-name" { (lang.t("Navn", "Name")) }
                    input #s-name name="name" required maxlength="80";
                    label for="s-kind" { (lang.t("Slags sted", "Kind of site")) }
                    select #s-kind name="kind" {
                        option value="customer" { (lang.t("kunde", "customer")) }
                        option value="building_site" { (lang.t("byggeplass", "building site")) }
                        option value="depot" { (lang.t("lager", "depot")) }
                        option value="office" { (lang.t("kontor", "office")) }
                        option value="other" { (lang.t("annet", "other")) }
                    }
                    label for="s-address" { (lang.t("Adresse", "Address")) }
                    input #s-address name="address" maxlength="120";
                    fieldset {
                        legend { (lang.t("Form", "Shape")) }
                        label.check { input type="radio" name="shape" value="circle" checked; " " (lang.t("sirkel: klikk midten i kartet", "circle: click its centre on the map")) }
                        label.check { input type="radio" name="shape" value="polygon"; " " (lang.t("mangekant: klikk hjørnene i kartet etter tur", "polygon: click its corners on the map in turn")) }
                    }
                    label for="s-lat" { (lang.t("Breddegrad (sirkel)", "Latitude (circle)")) }
                    input #s-lat name="lat" inputmode="decimal";
                    label for="s-lon" { (lang.t("Lengdegrad (sirkel)", "Longitude (circle)")) }
                    input #s-lon name="lon" inputmode="decimal";
                    label for="s-radius" { (lang.t("Radius i meter (sirkel)", "Radius in metres (circle)")) }
                    input #s-radius name="radius_m" inputmode="numeric" value="100";
                    label for="s-points" { (lang.t("Hjørner (mangekant): «breddegrad, lengdegrad» per linje, minst tre", "Corners (polygon): \"latitude, longitude\" per line, at least three")) }
                    textarea #s-points name="points" rows="4" {}
                    button.primary type="submit" { (lang.t("Lagre sted", "Save site")) }
                }
            }
        }
    }
}

fn users(lang: Lang, a: &data::Admin, csrf: &str) -> Markup {
    html! {
        section.card aria-labelledby="users-h" {
            h2 #users-h { (lang.t("Brukere og roller", "Users and roles")) }
            div.scroll tabindex="0" { table #user-table {
                thead { tr {
                    th scope="col" { (lang.t("Bruker", "User")) }
                    th scope="col" { (lang.t("Roller", "Roles")) }
                    th scope="col" { (lang.t("Ansatt", "Employee")) }
                    th scope="col" { (lang.t("Status", "Status")) }
                    th scope="col" { (lang.t("Handlinger", "Actions")) }
                } }
                tbody { @for u in &a.users { tr data-user=(u.name) {
                    td { (u.name) }
                    td { (u.roles.iter().map(|r| access::Role::parse(r).map(|r| role_name(lang, r).to_owned()).unwrap_or_else(|_| r.clone())).collect::<Vec<_>>().join(", ")) }
                    td { (u.employee_number.as_deref().unwrap_or("—")) }
                    td { @if u.disabled { (lang.t("sperret", "disabled")) } @else if !u.has_password { (lang.t("uten passord", "no password")) } @else { (lang.t("aktiv", "active")) } }
                    td.actions { @if !u.disabled {
                        form.inline method="post" action="/admin/users/password" {
                            input type="hidden" name="csrf" value=(csrf);
                            input type="hidden" name="name" value=(u.name);
                            button type="submit" aria-label={ (lang.t("Nytt passord for ", "New password for ")) (u.name) } { (lang.t("Nytt passord", "New password")) }
                        }
                        form.inline method="post" action="/admin/users/disable" {
                            input type="hidden" name="csrf" value=(csrf);
                            input type="hidden" name="name" value=(u.name);
                            button type="submit" aria-label={ (lang.t("Sperr ", "Disable ")) (u.name) } { (lang.t("Sperr", "Disable")) }
                        }
                    } }
                } } }
            } }
            details {
                summary { (lang.t("Ny bruker", "New user")) }
                form.stack #user-form method="post" action="/admin/users" {
                    input type="hidden" name="csrf" value=(csrf);
                    label for="u-name" { (lang.t("Brukernavn (uten mellomrom)", "User name (no spaces)")) }
                    input #u-name name="name" required maxlength="64" autocomplete="off";
                    fieldset {
                        legend { (lang.t("Roller", "Roles")) }
                        @for r in org::ROLES {
                            @if let Ok(role) = access::Role::parse(r) {
                                label.check { input type="checkbox" name={ "role_" (r) } value="on"; " " (role_name(lang, role)) }
                            }
                        }
                    }
                    label for="u-employee" { (lang.t("Ansattnummer (for rollen ansatt)", "Employee number (for the employee role)")) }
                    input #u-employee name="employee" maxlength="20" autocomplete="off";
                    button.primary type="submit" { (lang.t("Lag bruker", "Create user")) }
                }
            }
        }
    }
}

/// A form's field, trimmed; empty when absent.
fn field(form: &HashMap<String, String>, name: &str) -> String {
    form.get(name)
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

fn s(v: &str) -> Value {
    Value::String(v.to_owned())
}

fn number(
    form: &HashMap<String, String>,
    name: &str,
    nb: &str,
    en: &str,
) -> Result<f64, DataError> {
    field(form, name)
        .replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| invalid(nb, en))
}

fn date(v: &str, nb: &str, en: &str) -> Result<Value, DataError> {
    time::Date::parse(v, time::macros::format_description!("[year]-[month]-[day]"))
        .ok()
        .and_then(|_| v.parse::<toml::value::Datetime>().ok())
        .map(Value::Datetime)
        .ok_or_else(|| invalid(nb, en))
}

/// What a form asks of the organisation: a new organisation file.
fn edit(what: &str, form: &HashMap<String, String>, org: &org::Org) -> Result<String, DataError> {
    let mut org = org.clone();
    let tail = match what {
        "vehicles" => {
            let reg = domain::RegNo::parse(&field(form, "reg")).map_err(|e| {
                invalid(
                    &format!("Registreringsnummeret kan ikke leses: {e}"),
                    &format!("The registration number cannot be read: {e}"),
                )
            })?;
            org.vehicles.retain(|v| v.reg != reg);
            let purposes: Vec<Value> = org::Purpose::ALL
                .iter()
                .filter(|p| form.contains_key(&format!("purpose_{}", p.as_str())))
                .map(|p| s(p.as_str()))
                .collect();
            entry(
                "vehicles",
                &[
                    ("reg", s(reg.as_str())),
                    ("kind", s(&field(form, "kind"))),
                    ("group", s(&field(form, "group"))),
                    ("description", s(&field(form, "description"))),
                    ("purposes", Value::Array(purposes)),
                ],
            )
        }
        "vehicles/retire" => {
            let reg = domain::RegNo::parse(&field(form, "reg"))
                .map_err(|_| invalid("Ukjent kjøretøy.", "Unknown vehicle."))?;
            org.vehicles.retain(|v| v.reg != reg);
            // Its devices and assignments leave with it (retired too, kept for history).
            org.devices.retain(|d| d.vehicle != reg);
            org.assignments.retain(|a| a.vehicle != reg);
            String::new()
        }
        "devices" => {
            let (protocol, id) = (field(form, "protocol"), field(form, "id"));
            org.devices
                .retain(|d| !(d.protocol.as_str() == protocol && d.external_id.as_str() == id));
            entry(
                "devices",
                &[
                    ("protocol", s(&protocol)),
                    ("id", s(&id)),
                    ("vehicle", s(&field(form, "vehicle"))),
                    ("model", s(&field(form, "model"))),
                    ("privacy_input", s(&field(form, "privacy_input"))),
                    ("panic_input", s(&field(form, "panic_input"))),
                ],
            )
        }
        "devices/remove" => {
            let (protocol, id) = (field(form, "protocol"), field(form, "id"));
            org.devices
                .retain(|d| !(d.protocol.as_str() == protocol && d.external_id.as_str() == id));
            String::new()
        }
        "employees" => {
            let number = field(form, "number");
            let old = org.employees.iter().position(|e| e.number == number);
            let old = old.map(|i| org.employees.remove(i));
            let keep = |new: String, old: Option<&String>| {
                if new.is_empty() {
                    old.cloned().unwrap_or_default()
                } else {
                    new
                }
            };
            let status = match (field(form, "status").as_str(), &old) {
                ("", Some(o)) => o.status.as_str().to_owned(),
                ("", None) => "current".to_owned(),
                (s, _) => s.to_owned(),
            };
            entry(
                "employees",
                &[
                    ("number", s(&number)),
                    (
                        "name",
                        s(&keep(field(form, "name"), old.as_ref().map(|o| &o.name))),
                    ),
                    (
                        "email",
                        s(&keep(
                            field(form, "email"),
                            old.as_ref().and_then(|o| o.email.as_ref()),
                        )),
                    ),
                    (
                        "phone",
                        s(&keep(
                            field(form, "phone"),
                            old.as_ref().and_then(|o| o.phone.as_ref()),
                        )),
                    ),
                    ("status", s(&status)),
                    (
                        "driver_id",
                        s(&keep(
                            field(form, "driver_id"),
                            old.as_ref().and_then(|o| o.driver_id.as_ref()),
                        )),
                    ),
                ],
            )
        }
        "assignments" => {
            let (employee, vehicle, from) = (
                field(form, "employee"),
                field(form, "vehicle"),
                field(form, "from"),
            );
            let bad = (
                "Datoen skrives ÅÅÅÅ-MM-DD.",
                "Dates are written YYYY-MM-DD.",
            );
            let from_v = date(&from, bad.0, bad.1)?;
            let to = field(form, "to");
            org.assignments.retain(|a| {
                !(a.employee == employee
                    && a.vehicle.as_str() == vehicle.replace(' ', "")
                    && a.from.to_string() == from)
            });
            let mut fields = vec![
                ("employee", s(&employee)),
                ("vehicle", s(&vehicle)),
                ("from", from_v),
            ];
            if !to.is_empty() {
                fields.push(("to", date(&to, bad.0, bad.1)?));
            }
            entry("assignments", &fields)
        }
        "sites" => {
            let name = field(form, "name");
            org.sites.retain(|x| x.name != name);
            let geometry = if field(form, "shape") == "polygon" {
                let mut ring = Vec::new();
                for line in field(form, "points")
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                {
                    let point = line
                        .split(',')
                        .map(|n| n.trim().parse::<f64>().ok().filter(|x| x.is_finite()))
                        .collect::<Option<Vec<f64>>>()
                        .filter(|p| p.len() == 2)
                        .ok_or_else(|| {
                            invalid(
                                &format!(
                                    "Et hjørne skrives «breddegrad, lengdegrad», ikke «{}».",
                                    line.trim()
                                ),
                                &format!(
                                    "A corner is written \"latitude, longitude\", not \"{}\".",
                                    line.trim()
                                ),
                            )
                        })?;
                    ring.push(Value::Array(vec![
                        Value::Float(point[0]),
                        Value::Float(point[1]),
                    ]));
                }
                ("polygon", Value::Array(ring))
            } else {
                let lat = number(
                    form,
                    "lat",
                    "Breddegraden er et tall, som 59.91.",
                    "The latitude is a number, such as 59.91.",
                )?;
                let lon = number(
                    form,
                    "lon",
                    "Lengdegraden er et tall, som 10.75.",
                    "The longitude is a number, such as 10.75.",
                )?;
                let radius = number(
                    form,
                    "radius_m",
                    "Radien er et tall i meter.",
                    "The radius is a number of metres.",
                )?;
                let mut circle = toml::Table::new();
                circle.insert("lat".into(), Value::Float(lat));
                circle.insert("lon".into(), Value::Float(lon));
                circle.insert("radius_m".into(), Value::Float(radius));
                ("circle", Value::Table(circle))
            };
            entry(
                "sites",
                &[
                    ("name", s(&name)),
                    ("kind", s(&field(form, "kind"))),
                    ("address", s(&field(form, "address"))),
                    geometry,
                ],
            )
        }
        "sites/remove" => {
            let name = field(form, "name");
            org.sites.retain(|x| x.name != name);
            String::new()
        }
        "users" => {
            let name = field(form, "name");
            if name.is_empty() || name.len() > 64 || name.chars().any(char::is_whitespace) {
                return Err(invalid(
                    "Et brukernavn er 1 til 64 tegn uten mellomrom.",
                    "A user name is 1 to 64 characters without spaces.",
                ));
            }
            org.users.retain(|u| u.name != name);
            let roles: Vec<Value> = org::ROLES
                .iter()
                .filter(|r| form.contains_key(&format!("role_{r}")))
                .map(|r| s(r))
                .collect();
            if roles.is_empty() {
                return Err(invalid("Velg minst én rolle.", "Choose at least one role."));
            }
            entry(
                "users",
                &[
                    ("name", s(&name)),
                    ("roles", Value::Array(roles)),
                    ("employee", s(&field(form, "employee"))),
                ],
            )
        }
        _ => return Err(invalid("Ukjent endring.", "Unknown change.")),
    };
    Ok(org::to_toml(&org) + &tail)
}

/// A fresh password for a user, shown once to the admin: 16 letters and digits without the
/// ones that are easily confused (0/O, 1/l/I).
fn fresh_password() -> Option<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes).ok()?;
    Some(
        bytes
            .iter()
            .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
            .collect(),
    )
}

/// What a change led to: back to the page, or a page with a new password on it.
enum Done {
    Changed(usize),
    Password(String, String),
}

fn change(
    reads: &crate::reads::Reads,
    viewer: &Viewer,
    what: &str,
    form: &HashMap<String, String>,
) -> Result<Done, DataError> {
    if !viewer.holds(access::Role::Admin) {
        // A refused attempt to change the configuration is on the ledger too.
        reads.store().audit_append(storage::AuditRecord {
            at: crate::ingest::now(),
            actor: viewer.name.clone(),
            role: viewer
                .roles
                .first()
                .map(|r| r.as_str().to_owned())
                .unwrap_or_default(),
            purpose: "organisation".to_owned(),
            subject: None,
            action: ledger::Action::Denied,
            object: format!("change the organisation in the browser ({what})"),
            outcome: "refused: only the administrator changes the configuration".to_owned(),
        })?;
        return Err(DataError::Refused {
            nb: "Bare administratoren endrer oppsettet av organisasjonen.".into(),
            en: "Only the administrator changes the organisation's configuration.".into(),
        });
    }
    let store = reads.store();
    let who = Changer {
        user: &viewer.name,
        role: "admin",
    };
    let apply = |text: &str| {
        org_admin::apply_text(store.as_ref(), &who, text).map_err(|e| match e {
            org_admin::OrgChangeError::Invalid(why) => invalid(
                &format!("Organisasjonen ble ikke endret: {why}"),
                &format!("The organisation was not changed: {why}"),
            ),
            org_admin::OrgChangeError::Store(e) => DataError::Store(e),
        })
    };
    let audit = |object: String| {
        store.audit_append(storage::AuditRecord {
            at: crate::ingest::now(),
            actor: viewer.name.clone(),
            role: "admin".to_owned(),
            purpose: "access".to_owned(),
            subject: None,
            action: ledger::Action::Config,
            object,
            outcome: "done".to_owned(),
        })
    };
    let org = store.load_org()?;
    match what {
        "users/password" => {
            let name = field(form, "name");
            if !store.users()?.iter().any(|u| u.name == name && !u.disabled) {
                return Err(invalid(
                    "Ukjent eller sperret bruker.",
                    "Unknown or disabled user.",
                ));
            }
            let password = fresh_password().ok_or_else(|| {
                invalid(
                    "Ingen tilfeldighet tilgjengelig; prøv igjen.",
                    "No randomness available; try again.",
                )
            })?;
            store.set_password_hash(&name, &access::hash_password(&password))?;
            audit(format!(
                "password of user {name} reset in the browser; their sessions ended"
            ))?;
            Ok(Done::Password(name, password))
        }
        "users/disable" => {
            let name = field(form, "name");
            if name == viewer.name {
                return Err(invalid(
                    "Du kan ikke sperre deg selv.",
                    "You cannot disable yourself.",
                ));
            }
            let Some(user) = store.users()?.into_iter().find(|u| u.name == name) else {
                return Err(invalid("Ukjent bruker.", "Unknown user."));
            };
            // A user left out of the organisation is disabled; one made on the command line is
            // declared first, so that leaving it out disables it the same way.
            if !org.users.iter().any(|u| u.name == name) {
                let mut declared = org.clone();
                declared.users.push(org::User {
                    name: user.name.clone(),
                    roles: user.roles.clone(),
                    employee: user.employee_number.clone(),
                });
                org_admin::apply(store.as_ref(), &who, &declared).map_err(|e| match e {
                    org_admin::OrgChangeError::Invalid(w) => invalid(&w, &w),
                    org_admin::OrgChangeError::Store(e) => DataError::Store(e),
                })?;
            }
            let mut without = store.load_org()?;
            without.users.retain(|u| u.name != name);
            let n = org_admin::apply(store.as_ref(), &who, &without).map_err(|e| match e {
                org_admin::OrgChangeError::Invalid(w) => invalid(&w, &w),
                org_admin::OrgChangeError::Store(e) => DataError::Store(e),
            })?;
            store.revoke_user_tokens(&name)?;
            Ok(Done::Changed(n.0.len()))
        }
        "users" => {
            let name = field(form, "name");
            if store.users()?.iter().any(|u| u.name == name) {
                return Err(invalid(
                    "Brukeren finnes. Bruk «Nytt passord» i listen.",
                    "The user exists. Use \"New password\" in the list.",
                ));
            }
            apply(&edit(what, form, &org)?)?;
            let password = fresh_password().ok_or_else(|| {
                invalid(
                    "Ingen tilfeldighet tilgjengelig; prøv igjen.",
                    "No randomness available; try again.",
                )
            })?;
            store.set_password_hash(&name, &access::hash_password(&password))?;
            audit(format!("password of new user {name} set in the browser"))?;
            Ok(Done::Password(name, password))
        }
        _ => {
            let changes = apply(&edit(what, form, &org)?)?;
            Ok(Done::Changed(changes.0.len()))
        }
    }
}

pub async fn submit(
    State(state): State<Web>,
    viewer: Viewer,
    Path(what): Path<String>,
    form: FormResult,
) -> Response {
    submit_at(state, viewer, what, form).await
}

pub async fn submit_sub(
    State(state): State<Web>,
    viewer: Viewer,
    Path((what, sub)): Path<(String, String)>,
    form: FormResult,
) -> Response {
    submit_at(state, viewer, format!("{what}/{sub}"), form).await
}

async fn submit_at(state: Web, viewer: Viewer, what: String, form: FormResult) -> Response {
    let Ok(axum::Form(form)) = form else {
        return super::super::session::csrf_refused(viewer.lang);
    };
    if let Some(r) = viewer.check_csrf(&state.secret, &form) {
        return r;
    }
    let (reads, v, w) = (state.reads.clone(), viewer.clone(), what.clone());
    let anchor = match what.split('/').next() {
        Some("vehicles") => "vehicles-h",
        Some("devices") => "devices-h",
        Some("employees" | "assignments") => "employees-h",
        Some("sites") => "sites-h",
        _ => "users-h",
    };
    match blocking(move || change(&reads, &v, &w, &form)).await {
        Ok(Ok(Done::Changed(n))) => {
            Redirect::to(&format!("/admin?changes={n}#{anchor}")).into_response()
        }
        Ok(Ok(Done::Password(name, password))) => password_page(&viewer, &name, &password),
        Ok(Err(e)) => failed(&viewer, e),
        Err(r) => r,
    }
}

fn password_page(viewer: &Viewer, name: &str, password: &str) -> Response {
    let lang = viewer.lang;
    let page = Page::new(lang, lang.t("Nytt passord", "New password"))
        .path("/admin")
        .body(html! {
            section.card {
                h1 { (lang.t("Nytt passord for ", "New password for ")) (name) }
                p { (lang.t("Gi passordet til brukeren på en trygg måte. Det vises bare nå og lagres ikke; tidligere innlogginger er avsluttet.", "Give the password to the user safely. It is shown only now and is not stored; earlier logins have ended.")) }
                p { code #new-password { (password) } }
                p { a href="/admin#users-h" { (lang.t("Tilbake til administrasjonen", "Back to administration")) } }
            }
        });
    let mut r = html_response(StatusCode::OK, page.markup(Some(viewer)));
    r.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    r
}
