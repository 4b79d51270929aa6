//! What the pages read and change, shaped for the pages. Every read of personal data goes
//! through `crate::reads::Reads` (the policy's decision, a durable ledger entry, then the
//! storage query that takes the capability); this module only picks the acting role, gathers
//! what one page shows, and reads configuration (the organisation, users), which is not
//! personal tracking data. Blocking: call through `super::blocking`.

use access::Role;
use domain::changes::{MonthStep, Review};
use domain::drivinglog::{Classification, LogEntry};
use domain::{RegNo, Timestamp};
use ledger::Action;
use time::Date;

use super::session::Viewer;
use crate::reads::{DrivingLogPeriod, ReadError, Reads, Who};

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The request cannot be done as asked: why, in both languages.
    #[error("{en}")]
    Invalid { nb: String, en: String },
    /// Not this user's page: why, in both languages.
    #[error("{en}")]
    Refused { nb: String, en: String },
    #[error(transparent)]
    Store(#[from] storage::StoreError),
}

pub fn invalid(nb: &str, en: &str) -> DataError {
    DataError::Invalid {
        nb: nb.to_owned(),
        en: en.to_owned(),
    }
}

/// The viewer acting in `role` (the policy refuses a role they do not hold, with its reason).
fn who(viewer: &Viewer, role: Role) -> Who {
    Who {
        user: viewer.user(),
        role,
    }
}

pub fn today(at: Timestamp) -> Date {
    trips::oslo_date(at)
}

pub fn this_month(at: Timestamp) -> String {
    let d = today(at);
    format!("{:04}-{:02}", d.year(), u8::from(d.month()))
}

/// `YYYY-MM` → its first and last day.
pub fn month_bounds(month: &str) -> Option<(Date, Date)> {
    if month.len() != 7 {
        return None;
    }
    report::period(month).ok()
}

/// Local (Oslo) clock time of a timestamp, `HH:MM`.
pub fn clock(t: Timestamp) -> String {
    t.to_offset_date_time()
        .map(|d| {
            let local = d.to_offset(trips::oslo_offset(t));
            format!("{:02}:{:02}", local.hour(), local.minute())
        })
        .unwrap_or_default()
}

/// The vehicle assigned to an employee on a date (organisation data, not tracking data).
fn assigned(org: &org::Org, employee: &str, day: Date) -> Option<RegNo> {
    org.assignments
        .iter()
        .find(|a| a.employee == employee && a.from <= day && a.to.is_none_or(|t| day < t))
        .map(|a| a.vehicle.clone())
}

fn entry_date(e: &LogEntry) -> Date {
    e.date()
}

/// Everything on the driver's page.
pub struct Own {
    pub employee: String,
    pub employee_name: Option<String>,
    /// Today's vehicle, if any.
    pub vehicle: Option<RegNo>,
    pub private_now: bool,
    pub month: String,
    /// This month's trips, (vehicle, entry), oldest first.
    pub trips: Vec<(String, LogEntry)>,
    /// What the organisation's rules propose for the unclassified ones: (trip id, proposal).
    pub proposals: Vec<(i64, org::classify::Proposal)>,
    pub year: purposes::tax::YearTotals,
    pub notices: Vec<purposes::tax::Notice>,
    /// The month's review steps (submitted, returned, approved), for the vehicle its trips
    /// were made in, oldest first.
    pub signoffs: Vec<MonthStep>,
    /// Whether the month shown is this month.
    pub current: bool,
    /// Last month, when it has trips and the driver has not signed it yet.
    pub previous_unsigned: Option<String>,
    /// The vehicle the month's trips were made in (today's when there are none).
    pub month_vehicle: Option<RegNo>,
    /// Ledger entries about me made by others, and every refused attempt; newest first.
    pub looked: Vec<ledger::StoredEntry>,
    /// What is held per purpose: this year's trips (count, km), privacy switches and alarm
    /// windows of my vehicles, newest first.
    pub year_trips: usize,
    pub year_km: f64,
    pub privacy_switches: Vec<(String, Timestamp, bool, String)>,
    pub alarm_windows: Vec<storage::AlarmWindow>,
}

/// The month before `month` (`YYYY-MM`).
pub fn previous_month(month: &str) -> Option<String> {
    let (first, _) = month_bounds(month)?;
    let prev = first.previous_day()?;
    Some(format!("{:04}-{:02}", prev.year(), u8::from(prev.month())))
}

/// «Mine data» for `month` (`YYYY-MM`; this month when `None`).
pub fn own(
    reads: &Reads,
    viewer: &Viewer,
    at: Timestamp,
    month: Option<&str>,
) -> Result<Own, DataError> {
    let me = who(viewer, Role::Employee);
    let this = this_month(at);
    let month = match month {
        Some(m) if month_bounds(m).is_some() && m <= this.as_str() => m.to_owned(),
        Some(_) => {
            return Err(invalid(
                "Måneden skrives ÅÅÅÅ-MM og kan ikke ligge fram i tid.",
                "A month is written YYYY-MM and cannot be in the future.",
            ));
        }
        None => this.clone(),
    };
    let data = reads.my_data(&me, None, Action::Read)?;
    let employee = data
        .employee
        .as_ref()
        .map(|e| e.number.clone())
        .or_else(|| viewer.employee.clone())
        .unwrap_or_default();
    let org = reads.store().load_org()?;
    let day = today(at);
    let vehicle = assigned(&org, &employee, day);
    let mut private_now = false;
    let mut signoffs = Vec::new();
    if let Some(reg) = &vehicle {
        // Newest first: the latest switch of today's vehicle says whether it is private now.
        private_now = data
            .privacy_switches
            .iter()
            .filter(|(v, ..)| v == reg.as_str())
            .max_by_key(|(_, t, ..)| t.millis())
            .is_some_and(|(_, _, on, _)| *on);
    }
    let (first, last) = month_bounds(&month).ok_or_else(|| invalid("måned", "month"))?;
    let year_entries: Vec<LogEntry> = data.trips.iter().map(|(_, e)| e.clone()).collect();
    let (year_trips, year_km) = (
        year_entries.len(),
        year_entries.iter().map(LogEntry::km).sum::<f64>(),
    );
    let mut privacy_switches = data.privacy_switches.clone();
    privacy_switches.sort_by_key(|(_, t, ..)| std::cmp::Reverse(t.millis()));
    let year = purposes::tax::totals(&year_entries);
    let kind = vehicle
        .as_ref()
        .and_then(|r| org.vehicles.iter().find(|v| &v.reg == r))
        .map_or(domain::VehicleKind::Car, |v| v.kind);
    let notices = purposes::tax::notices(kind, &year);
    // The month's trips: from this year's data, or read for the month when it lies in an
    // earlier year (a December signed in January).
    let mut trips: Vec<(String, LogEntry)> = if first.year() == day.year() {
        data.trips
            .iter()
            .filter(|(_, e)| (first..=last).contains(&entry_date(e)))
            .cloned()
            .collect()
    } else {
        reads.own_trips(&me, None, &month)?
    };
    // The month is signed for the vehicle its trips were made in (today's vehicle when none).
    let month_vehicle = trips
        .first()
        .and_then(|(reg, _)| RegNo::parse(reg).ok())
        .or_else(|| vehicle.clone());
    if let Some(reg) = &month_vehicle
        && let Some(id) = reads.store().vehicle_id(reg)?
    {
        signoffs = reads.store().month_review(id, &month)?;
    }
    // Last month still waits for the driver's signature: the page says so.
    let previous_unsigned = match previous_month(&this) {
        Some(prev) if month == this && first.year() == day.year() => {
            let (pf, pl) = month_bounds(&prev).ok_or_else(|| invalid("måned", "month"))?;
            let prev_trip = data
                .trips
                .iter()
                .find(|(_, e)| (pf..=pl).contains(&entry_date(e)));
            match prev_trip.and_then(|(reg, _)| RegNo::parse(reg).ok()) {
                Some(reg) => match reads.store().vehicle_id(&reg)? {
                    Some(id) => matches!(
                        domain::changes::review(&reads.store().month_review(id, &prev)?),
                        Review::Open | Review::Returned(_)
                    )
                    .then_some(prev),
                    None => None,
                },
                None => None,
            }
        }
        _ => None,
    };
    trips.sort_by_key(|(_, e)| match e {
        LogEntry::Trip(t) => (t.date, t.start.millis()),
        LogEntry::Private(p) => (p.date, 0),
        LogEntry::Unclassified(p) => (p.date, 0),
    });
    let mut looked: Vec<ledger::StoredEntry> = data
        .ledger
        .into_iter()
        .filter(|e| !(e.entry.actor == viewer.name && e.entry.action == Action::Read))
        .collect();
    looked.sort_by_key(|e| std::cmp::Reverse(e.entry.seq));
    looked.truncate(50);
    let entries: Vec<LogEntry> = trips.iter().map(|(_, e)| e.clone()).collect();
    let proposals = crate::reads::propose_all(&org, &entries);
    Ok(Own {
        proposals,
        employee_name: data.employee.map(|e| e.name),
        employee,
        current: month == this,
        previous_unsigned,
        month_vehicle,
        vehicle,
        private_now,
        month,
        trips,
        year,
        notices,
        signoffs,
        looked,
        year_trips,
        year_km,
        privacy_switches,
        alarm_windows: data.alarm_windows,
    })
}

/// The driver's privacy switch for today's vehicle. Returns the vehicle.
pub fn switch_privacy(
    reads: &Reads,
    viewer: &Viewer,
    vehicle: Option<&str>,
    on: bool,
) -> Result<String, DataError> {
    Ok(reads.changes().switch_privacy(
        &who(viewer, Role::Employee),
        vehicle,
        on,
        &format!("web ({})", viewer.name),
    )?)
}

/// The driver classifies one of their own trips.
pub fn classify(
    reads: &Reads,
    viewer: &Viewer,
    trip: i64,
    class: &Classification,
) -> Result<(), DataError> {
    Ok(reads
        .changes()
        .classify(&who(viewer, Role::Employee), trip, class)?)
}

/// The driver signs a month (this month when `None`) for the vehicle its trips were made in.
pub fn sign_driver(
    reads: &Reads,
    viewer: &Viewer,
    at: Timestamp,
    month: Option<&str>,
) -> Result<(), DataError> {
    let own = own(reads, viewer, at, month)?;
    let reg = own.month_vehicle.ok_or_else(|| {
        invalid(
            "Du har ingen bil å signere for denne måneden.",
            "You have no vehicle to sign for this month.",
        )
    })?;
    Ok(reads
        .changes()
        .sign_month(&who(viewer, Role::Employee), reg.as_str(), &own.month)?)
}

/// Everything held about the employee as a ZIP of JSON and CSV (GDPR art. 15 and 20), put on
/// the ledger as an export.
pub fn own_export(reads: &Reads, viewer: &Viewer) -> Result<Vec<u8>, DataError> {
    let d = reads.my_data(&who(viewer, Role::Employee), None, Action::Export)?;
    crate::export::zip(&d).map_err(|e| {
        tracing::error!(error = %e, "the export could not be packed");
        invalid(
            "Eksporten kunne ikke pakkes. Prøv igjen.",
            "The export could not be packed. Try again.",
        )
    })
}

pub fn vehicles(reads: &Reads) -> Result<Vec<RegNo>, DataError> {
    Ok(reads
        .store()
        .load_org()?
        .vehicles
        .into_iter()
        .map(|v| v.reg)
        .collect())
}

/// A month of one vehicle's driving log, as the acting role's capability shows it.
pub fn driving_log(
    reads: &Reads,
    viewer: &Viewer,
    reg: &RegNo,
    month: &str,
    action: Action,
) -> Result<DrivingLogPeriod, DataError> {
    if month_bounds(month).is_none() {
        return Err(invalid(
            "Måneden skrives ÅÅÅÅ-MM, for eksempel 2026-11.",
            "Write the month as YYYY-MM, e.g. 2026-11.",
        ));
    }
    // A page made for the log keeper; someone without the role acts in their own first role,
    // so the policy's refusal names the real reason.
    let role = viewer.acting(Role::LogKeeper);
    Ok(reads.driving_log(&who(viewer, role), None, reg.as_str(), month, action)?)
}

/// The log keeper's follow-up lists for a month (date and km only).
pub fn followups(
    reads: &Reads,
    viewer: &Viewer,
    month: &str,
) -> Result<Vec<domain::drivinglog::FollowUpTrip>, DataError> {
    Ok(reads.followups(&who(viewer, Role::LogKeeper), None, month)?)
}

/// The keeper signs a month (after the driver).
pub fn sign_keeper(
    reads: &Reads,
    viewer: &Viewer,
    reg: &RegNo,
    month: &str,
) -> Result<(), DataError> {
    Ok(reads.changes().sign_month(
        &who(viewer, viewer.acting(Role::LogKeeper)),
        reg.as_str(),
        month,
    )?)
}

/// The keeper corrects a trip's driver (a supplement beside the recorded one).
pub fn correct_driver(
    reads: &Reads,
    viewer: &Viewer,
    trip: i64,
    driver: &str,
    reason: &str,
) -> Result<(), DataError> {
    Ok(reads.changes().correct_driver(
        &who(viewer, viewer.acting(Role::LogKeeper)),
        trip,
        driver,
        reason,
    )?)
}

/// The keeper returns a submitted month to its driver, with a comment the driver sees.
pub fn return_keeper(
    reads: &Reads,
    viewer: &Viewer,
    reg: &RegNo,
    month: &str,
    comment: &str,
) -> Result<(), DataError> {
    Ok(reads.changes().return_month(
        &who(viewer, viewer.acting(Role::LogKeeper)),
        reg.as_str(),
        month,
        comment,
    )?)
}

/// An alarm window with its vehicle and, for an open one, the positions kept inside it, the
/// nearest site or place, and the driver assigned that day with their phone.
pub struct Alarm {
    pub window: storage::AlarmWindow,
    pub reg: String,
    pub positions: Vec<(Timestamp, domain::Position)>,
    pub place: Option<(String, String)>,
    pub driver: Option<crate::reads::AlarmDriver>,
}

/// What the alarms page shows: the windows, the sites (for the maps), and the vehicles whose
/// theft can be reported (those with the alarm purpose).
pub struct Alarms {
    pub windows: Vec<Alarm>,
    pub sites: Vec<org::Site>,
    pub alarm_vehicles: Vec<RegNo>,
}

pub fn alarm_windows(reads: &Reads, viewer: &Viewer) -> Result<Alarms, DataError> {
    let me = who(viewer, viewer.acting(Role::SecurityOperator));
    let org = reads.store().load_org()?;
    let namer = places::PlaceNamer::new(&org.sites);
    let mut out = Vec::new();
    for (reg, window) in reads.alarms(&me, None)? {
        // Positions and the driver are read (and ledgered) only for the windows still open.
        let (positions, driver) = if window.resolved_at.is_none() {
            (
                reads.alarm_positions(&me, None, window.id)?,
                reads.alarm_driver(&me, &reg, window.opened_at)?,
            )
        } else {
            (Vec::new(), None)
        };
        let place = positions.last().map(|(_, p)| {
            let name = namer.name_position(*p);
            (
                name.render(places::Lang::Norwegian),
                name.render(places::Lang::English),
            )
        });
        out.push(Alarm {
            window,
            reg,
            positions,
            place,
            driver,
        });
    }
    let alarm_vehicles = org
        .vehicles
        .iter()
        .filter(|v| v.purposes.contains(&org::Purpose::Alarm))
        .map(|v| v.reg.clone())
        .collect();
    Ok(Alarms {
        windows: out,
        sites: org.sites,
        alarm_vehicles,
    })
}

/// Authorises the live feed of alarm changes (one ledger entry per feed opened).
pub fn alarm_feed(reads: &Reads, viewer: &Viewer) -> Result<(), DataError> {
    reads.alarms(&who(viewer, viewer.acting(Role::SecurityOperator)), None)?;
    Ok(())
}

pub fn resolve_alarm(
    reads: &Reads,
    viewer: &Viewer,
    window: i64,
    incident: bool,
    note: &str,
) -> Result<(), DataError> {
    Ok(reads.changes().resolve_alarm(
        &who(viewer, viewer.acting(Role::SecurityOperator)),
        window,
        incident,
        note,
    )?)
}

/// A reported theft: a window opened by hand, with the police report's reference.
pub fn open_theft(
    reads: &Reads,
    viewer: &Viewer,
    reg: &str,
    reference: Option<&str>,
) -> Result<i64, DataError> {
    Ok(reads.changes().open_alarm(
        &who(viewer, viewer.acting(Role::SecurityOperator)),
        reg,
        "theft",
        reference,
    )?)
}

pub fn aggregates(reads: &Reads, viewer: &Viewer) -> Result<Vec<serde_json::Value>, DataError> {
    Ok(reads
        .aggregates(&who(viewer, viewer.acting(Role::Analyst)), None)?
        .into_iter()
        .filter_map(|w| serde_json::from_str(&w.body).ok())
        .collect())
}

/// The ledger's metadata, newest first, with whether the whole ledger verifies.
pub struct LedgerView {
    pub entries: Vec<ledger::StoredEntry>,
    pub verified: crate::reads::LedgerCheck,
}

/// The ledger for the oversight roles; with `employee`, the access report about one employee
/// (on request, GDPR art. 15).
pub fn ledger(
    reads: &Reads,
    viewer: &Viewer,
    employee: Option<&str>,
) -> Result<LedgerView, DataError> {
    let role = if viewer.holds(Role::PrivacyOfficer) {
        Role::PrivacyOfficer
    } else {
        viewer.acting(Role::Representative)
    };
    let mut entries = reads.ledger(&who(viewer, role), None, employee)?;
    entries.sort_by_key(|e| std::cmp::Reverse(e.entry.seq));
    // The server verifies the whole chain every hour; the page shows the latest verdict.
    let verified = reads.ledger_check();
    Ok(LedgerView { entries, verified })
}

/// The live fleet view now (one ledger entry per page or stream opened).
pub fn fleet(
    reads: &Reads,
    viewer: &Viewer,
) -> Result<Vec<crate::reads::FleetPosition>, DataError> {
    Ok(reads.fleet(&who(viewer, viewer.acting(Role::Dispatcher)), None)?)
}

/// The fleet view opened for the live feed, with the watch that records vehicles appearing
/// later.
pub fn fleet_view(
    reads: &Reads,
    viewer: &Viewer,
) -> Result<(Vec<crate::reads::FleetPosition>, crate::reads::FleetWatch), DataError> {
    Ok(reads.fleet_view(&who(viewer, viewer.acting(Role::Dispatcher)), None)?)
}

/// The organisation as the admin configures it: no tracking data.
pub struct Admin {
    pub org: org::Org,
    pub devices: Vec<(storage::RegisteredDevice, Vec<storage::InventoryEntry>)>,
    pub users: Vec<storage::UserRow>,
}

pub fn admin(reads: &Reads, viewer: &Viewer) -> Result<Admin, DataError> {
    if !viewer.holds(Role::Admin) {
        return Err(DataError::Refused {
            nb: "Bare administratoren ser oppsettet av organisasjonen.".into(),
            en: "Only the administrator sees the organisation's configuration.".into(),
        });
    }
    let store = reads.store();
    let org = store.load_org()?;
    let mut devices = Vec::new();
    for d in store.devices()? {
        let inv = store.inventory(d.id)?;
        devices.push((d, inv));
    }
    Ok(Admin {
        org,
        devices,
        users: store.users()?,
    })
}

/// Ends a session: its token no longer opens anything.
pub fn revoke(reads: &Reads, token_hash: &str) -> Result<(), DataError> {
    reads.store().revoke_token(token_hash)?;
    Ok(())
}

/// The compliance register (kontrolltiltak) as the privacy officer or a representative reads
/// it: every measure with its gate, the breaches and the access cases.
pub struct RegisterView {
    pub register: register::Register,
    pub org: org::Org,
    pub today: Date,
}

fn oversight(viewer: &Viewer) -> Role {
    if viewer.holds(Role::PrivacyOfficer) {
        Role::PrivacyOfficer
    } else {
        viewer.acting(Role::Representative)
    }
}

pub fn register(reads: &Reads, viewer: &Viewer, at: Timestamp) -> Result<RegisterView, DataError> {
    let register = reads.register(&who(viewer, oversight(viewer)), None)?;
    let org = reads.store().load_org()?;
    Ok(RegisterView {
        register,
        org,
        today: today(at),
    })
}

/// The privacy officer's answer to one employee's access request (GDPR art. 15): everything
/// held about them as the ZIP the employee would get, under the request's reference; the
/// employee sees it in their own access log.
pub fn access_report(
    reads: &Reads,
    viewer: &Viewer,
    employee: &str,
    reference: &str,
) -> Result<Vec<u8>, DataError> {
    let d = reads.access_report(
        &who(viewer, Role::PrivacyOfficer),
        None,
        employee.trim(),
        reference,
        Action::Export,
    )?;
    crate::export::zip(&d).map_err(|e| {
        tracing::error!(error = %e, "the access report could not be packed");
        invalid(
            "Rapporten kunne ikke pakkes. Prøv igjen.",
            "The report could not be packed. Try again.",
        )
    })
}

/// A document generated from the register: (file name, content type, bytes). Put on the
/// ledger as an export.
pub fn register_document(
    reads: &Reads,
    viewer: &Viewer,
    kind: &str,
    measure: Option<&str>,
    pdf: bool,
    lang: super::Lang,
    at: Timestamp,
) -> Result<(String, &'static str, Vec<u8>), DataError> {
    let g = reads.authorise(
        &who(viewer, oversight(viewer)),
        access::ReadPurpose::Register,
        access::Scope::All,
        None,
        Action::Export,
        format!("register document {kind} {}", measure.unwrap_or("")),
    )?;
    let (_, reg) = reads.store().register().load_register()?;
    let org = reads.store().load_org()?;
    let day = today(at);
    let lang_r = match lang {
        super::Lang::Nb => register::Lang::Nb,
        super::Lang::En => register::Lang::En,
    };
    let entry = || {
        measure.and_then(|id| reg.entry(id)).ok_or_else(|| {
            invalid(
                "Velg et kontrolltiltak fra registeret.",
                "Choose a measure from the register.",
            )
        })
    };
    let (html, title) = match kind {
        "notice" => {
            let e = entry()?;
            let info = e.duties.information.as_ref().ok_or_else(|| {
                invalid(
                    "Informasjonen til de ansatte er ikke registrert for dette tiltaket ennå.",
                    "The information to employees is not recorded for this measure yet.",
                )
            })?;
            (
                register::information_notice(e, info, lang_r),
                e.measure.name.clone(),
            )
        }
        "dpia" => {
            let e = entry()?;
            (register::dpia_draft(e, day, lang_r), e.measure.name.clone())
        }
        "agenda" => {
            let e = entry()?;
            (
                register::discussion_agenda(e, day, lang_r),
                e.measure.name.clone(),
            )
        }
        "records" => (
            register::records_of_processing(&org, &reg, day, lang_r),
            org.organisation.name.clone(),
        ),
        _ => {
            return Err(invalid("Ukjent dokument.", "Unknown document."));
        }
    };
    let name = format!(
        "{kind}{}.{}",
        measure.map(|m| format!("-{m}")).unwrap_or_default(),
        if pdf { "pdf" } else { "html" }
    );
    let doc = if pdf {
        (
            name,
            "application/pdf",
            report::html_document_pdf(
                &html,
                &report::pdf::Info {
                    title,
                    author: org.organisation.name.clone(),
                    subject: "Sporvern".to_owned(),
                },
                &format!("{} · Sporvern", org.organisation.name),
            ),
        )
    } else {
        (name, "text/html; charset=utf-8", html.into_bytes())
    };
    Ok(g.finish(doc)?)
}

/// An information notice the employee is to read and acknowledge.
pub struct NoticeToRead {
    pub measure: String,
    pub name: String,
    pub acknowledged_on: Option<Date>,
}

/// The information notices published to employees, with whether this employee has
/// acknowledged each (arbeidsmiljøloven § 9-2 (2)).
pub fn notices(
    reads: &Reads,
    viewer: &Viewer,
    at: Timestamp,
) -> Result<Vec<NoticeToRead>, DataError> {
    let g = reads.authorise(
        &who(viewer, Role::Employee),
        access::ReadPurpose::OwnData,
        access::Scope::Own,
        None,
        Action::Read,
        "information notices and own acknowledgements".to_owned(),
    )?;
    let employee = g.cap.subject().unwrap_or_default().to_owned();
    let (_, reg) = reads.store().register().load_register()?;
    let day = today(at);
    let out = reg
        .entries
        .iter()
        .filter(|e| !e.retired && e.duties.published_information(day).is_some())
        .map(|e| NoticeToRead {
            measure: e.measure.id.clone(),
            name: e.measure.name.clone(),
            acknowledged_on: e
                .duties
                .acknowledgements
                .iter()
                .find(|a| a.employee == employee)
                .map(|a| a.on),
        })
        .collect();
    Ok(g.finish(out)?)
}

/// The notice itself, for the employee to read (HTML, in the viewer's language).
pub fn notice_html(
    reads: &Reads,
    viewer: &Viewer,
    measure: &str,
    lang: super::Lang,
    pdf: bool,
    at: Timestamp,
) -> Result<(String, Vec<u8>), DataError> {
    let g = reads.authorise(
        &who(viewer, Role::Employee),
        access::ReadPurpose::OwnData,
        access::Scope::Own,
        None,
        Action::Read,
        format!("information notice {measure}"),
    )?;
    let (_, reg) = reads.store().register().load_register()?;
    let day = today(at);
    let e = reg
        .entry(measure)
        .filter(|e| e.duties.published_information(day).is_some())
        .ok_or_else(|| invalid("Ukjent informasjonsskriv.", "Unknown information notice."))?;
    let info = e
        .duties
        .information
        .as_ref()
        .ok_or_else(|| invalid("Ukjent informasjonsskriv.", "Unknown information notice."))?;
    let lang_r = match lang {
        super::Lang::Nb => register::Lang::Nb,
        super::Lang::En => register::Lang::En,
    };
    if pdf {
        let org = reads.store().load_org()?;
        let html = register::information_notice(e, info, lang_r);
        let bytes = report::html_document_pdf(
            &html,
            &report::pdf::Info {
                title: e.measure.name.clone(),
                author: org.organisation.name.clone(),
                subject: "Sporvern".to_owned(),
            },
            &format!("{} · Sporvern", org.organisation.name),
        );
        return Ok(("application/pdf".to_owned(), g.finish(bytes)?));
    }
    // The phone page: back to «Mine data», a PDF copy, and the «I have read it» button that
    // posts to the acknowledgement the employee's own page uses.
    let acknowledged_on = viewer.employee.as_deref().and_then(|n| {
        e.duties
            .acknowledgements
            .iter()
            .find(|a| a.employee == n)
            .map(|a| a.on)
    });
    let page = register::NoticePage {
        back: Some("/me".to_owned()),
        acknowledge: Some((format!("/me/notice/{measure}/ack"), viewer.csrf.clone())),
        acknowledged_on,
        pdf: Some(format!("/me/notice/{measure}?format=pdf")),
    };
    let html = register::information_notice_page(e, info, lang_r, &page);
    Ok((
        "text/html; charset=utf-8".to_owned(),
        g.finish(html)?.into_bytes(),
    ))
}

/// The employee acknowledges having read a notice: recorded in the register with its ledger
/// entry, in one transaction.
pub fn acknowledge(
    reads: &Reads,
    viewer: &Viewer,
    measure: &str,
    at: Timestamp,
) -> Result<(), DataError> {
    Ok(reads
        .changes()
        .acknowledge(&who(viewer, Role::Employee), measure, at)?)
}

/// The privacy officer records a deviation or personal-data breach; the 72-hour clock to
/// Datatilsynet (GDPR art. 33) runs from `discovered` (`YYYY-MM-DDTHH:MM`, Oslo time; now when
/// empty). Returns the breach's id.
pub fn open_breach(
    reads: &Reads,
    viewer: &Viewer,
    description: &str,
    discovered: Option<&str>,
    personal_data: bool,
    measure: Option<&str>,
    at: Timestamp,
) -> Result<String, DataError> {
    let discovered_at = match discovered.map(str::trim).filter(|d| !d.is_empty()) {
        None => at
            .to_offset_date_time()
            .ok_or_else(|| invalid("Klokken er ugyldig.", "The clock is out of range."))?,
        Some(d) => local_datetime(d).ok_or_else(|| {
            invalid(
                "Oppdaget skrives som dato og klokkeslett (ÅÅÅÅ-MM-DD TT:MM).",
                "Discovered is a date and time (YYYY-MM-DD HH:MM).",
            )
        })?,
    };
    if discovered_at.unix_timestamp() * 1000 > at.millis() + 60_000 {
        return Err(invalid(
            "Et brudd kan ikke være oppdaget fram i tid.",
            "A breach cannot be discovered in the future.",
        ));
    }
    reads
        .authorise(
            &who(viewer, Role::PrivacyOfficer),
            access::ReadPurpose::Register,
            access::Scope::All,
            None,
            Action::Change,
            "record a deviation or breach in the register".to_owned(),
        )?
        .recorded()?;
    let store = reads.store().register();
    let (version, mut reg) = store.load_register()?;
    let id = reg.next_breach_id();
    let measure = measure.map(str::trim).filter(|m| !m.is_empty());
    let change = reg
        .open_breach(
            &id,
            description,
            discovered_at,
            personal_data,
            measure.map(str::to_owned),
        )
        .map_err(|e| match e {
            register::BreachError::Incomplete => {
                invalid("Beskriv hva som skjedde.", "Describe what happened.")
            }
            other => invalid(&other.to_string(), &other.to_string()),
        })?;
    store.save_register(&reg, version, vec![register_audit(viewer, &change, at)])?;
    Ok(id)
}

/// The privacy officer records that Datatilsynet has been notified of a breach (now).
pub fn notify_breach(
    reads: &Reads,
    viewer: &Viewer,
    id: &str,
    at: Timestamp,
) -> Result<(), DataError> {
    reads
        .authorise(
            &who(viewer, Role::PrivacyOfficer),
            access::ReadPurpose::Register,
            access::Scope::All,
            None,
            Action::Change,
            format!("record the notification of breach {id}"),
        )?
        .recorded()?;
    let store = reads.store().register();
    let (version, mut reg) = store.load_register()?;
    let when = at
        .to_offset_date_time()
        .ok_or_else(|| invalid("Klokken er ugyldig.", "The clock is out of range."))?;
    let change = reg
        .notify_breach(id, when)
        .map_err(|e| invalid(&e.to_string(), &e.to_string()))?;
    store.save_register(&reg, version, vec![register_audit(viewer, &change, at)])?;
    Ok(())
}

/// The privacy officer records the art. 33(1) decision not to notify Datatilsynet of a breach
/// that is unlikely to result in a risk, with the reason (`Register::record_not_notified`,
/// shared with `sporvern breach not-notified`).
pub fn not_notify_breach(
    reads: &Reads,
    viewer: &Viewer,
    id: &str,
    reason: &str,
    at: Timestamp,
) -> Result<(), DataError> {
    reads
        .authorise(
            &who(viewer, Role::PrivacyOfficer),
            access::ReadPurpose::Register,
            access::Scope::All,
            None,
            Action::Change,
            format!("record that breach {id} is not notified"),
        )?
        .recorded()?;
    let store = reads.store().register();
    let (version, mut reg) = store.load_register()?;
    let when = at
        .to_offset_date_time()
        .ok_or_else(|| invalid("Klokken er ugyldig.", "The clock is out of range."))?;
    let change = reg.record_not_notified(id, reason, when).map_err(|e| {
        invalid(
            "Skriv hvorfor bruddet neppe medfører risiko for de ansatte; et meldt brudd eller et avvik uten personopplysninger har ingenting å avgjøre.",
            &e.to_string(),
        )
    })?;
    store.save_register(&reg, version, vec![register_audit(viewer, &change, at)])?;
    Ok(())
}

fn register_audit(
    viewer: &Viewer,
    change: &register::Change,
    at: Timestamp,
) -> storage::AuditRecord {
    storage::AuditRecord {
        at,
        actor: viewer.name.clone(),
        role: Role::PrivacyOfficer.as_str().to_owned(),
        purpose: "register".to_owned(),
        subject: change.subject.clone(),
        action: Action::Change,
        object: format!("register {change} (web)"),
        outcome: "done".to_owned(),
    }
}

/// `YYYY-MM-DDTHH:MM` (a `datetime-local` field) in Oslo time.
fn local_datetime(s: &str) -> Option<time::OffsetDateTime> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let naive = time::PrimitiveDateTime::parse(s, &fmt).ok()?;
    // The Oslo offset of that moment: try winter time, then check against the rules.
    let guess = naive.assume_offset(time::UtcOffset::from_hms(1, 0, 0).ok()?);
    let t = Timestamp::from_secs(guess.unix_timestamp());
    Some(naive.assume_offset(trips::oslo_offset(t)))
}

/// What the evaluation form sends.
#[derive(Clone, Copy, Debug)]
pub struct EvaluationForm<'a> {
    pub measure: &'a str,
    /// `YYYY-MM-DD`; today when empty.
    pub date: Option<&'a str>,
    /// The representatives who took part, comma-separated.
    pub with: &'a str,
    pub need_still_present: bool,
    /// `continue` or `end`.
    pub decision: &'a str,
    /// Why the measure continues although the need is gone (seed 001 3.2); empty = none.
    pub reason_to_continue: &'a str,
}

/// The privacy officer records an evaluation of a measure held with the representatives
/// (arbeidsmiljøloven § 9-2 (3)): when, who took part, whether the need is still there, and
/// whether the measure continues or ends (ending stops collection at the gate).
pub fn record_evaluation(
    reads: &Reads,
    viewer: &Viewer,
    form: &EvaluationForm<'_>,
    at: Timestamp,
) -> Result<(), DataError> {
    let EvaluationForm {
        measure,
        date,
        with,
        need_still_present,
        decision,
        reason_to_continue,
    } = *form;
    let date = match date.map(str::trim).filter(|d| !d.is_empty()) {
        None => today(at),
        Some(d) => {
            let fmt = time::macros::format_description!("[year]-[month]-[day]");
            Date::parse(d, &fmt).map_err(|_| {
                invalid(
                    "Datoen skrives ÅÅÅÅ-MM-DD.",
                    "The date is written YYYY-MM-DD.",
                )
            })?
        }
    };
    if date > today(at) {
        return Err(invalid(
            "En evaluering kan ikke være holdt fram i tid.",
            "An evaluation cannot be held in the future.",
        ));
    }
    let decision = register::Decision::parse(decision).ok_or_else(|| {
        invalid(
            "Velg om tiltaket fortsetter eller avsluttes.",
            "Choose whether the measure continues or ends.",
        )
    })?;
    let with_representatives: Vec<String> = with
        .split([',', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if with_representatives.is_empty() {
        return Err(invalid(
            "Evalueringen holdes sammen med de tillitsvalgte: skriv hvem som deltok.",
            "The evaluation is held with the representatives: write who took part.",
        ));
    }
    reads
        .authorise(
            &who(viewer, Role::PrivacyOfficer),
            access::ReadPurpose::Register,
            access::Scope::All,
            None,
            Action::Change,
            format!("record an evaluation of {measure}"),
        )?
        .recorded()?;
    let store = reads.store().register();
    let (version, mut reg) = store.load_register()?;
    let change = reg
        .record_evaluation(
            measure,
            register::Evaluation {
                by: viewer.name.clone(),
                date,
                with_representatives,
                need_still_present,
                decision,
                reason_to_continue: Some(reason_to_continue.trim().to_owned())
                    .filter(|r| !r.is_empty()),
            },
        )
        .map_err(|e| invalid(&e, &e))?;
    store.save_register(&reg, version, vec![register_audit(viewer, &change, at)])?;
    Ok(())
}
