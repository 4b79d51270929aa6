//! Every read and change the pages make, in one place. A read of personal data first asks the
//! policy engine (`access::Policy::authorise`) for a capability in the acting role and puts
//! the answer — granted or refused — on the audit ledger; only then is the data read.
//! Blocking: call through `super::blocking`.

use access::{ReadPurpose, Role, Scope};
use domain::drivinglog::{Classification, LogEntry, RecordedDeviation};
use domain::{RegNo, Timestamp, VehicleId, VehicleKind};
use storage::{SignRole, Store, StoreError};
use time::Date;

use super::session::Viewer;

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The policy refused: the person-readable reason in both languages.
    #[error("{en}")]
    Denied { nb: String, en: String },
    /// What was asked for does not exist (or is not the asker's).
    #[error("not found: {0}")]
    NotFound(String),
    /// The request cannot be done as asked: says why, in both languages.
    #[error("{en}")]
    Invalid { nb: String, en: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(nb: &str, en: &str) -> DataError {
    DataError::Invalid {
        nb: nb.to_owned(),
        en: en.to_owned(),
    }
}

fn audit_record(r: access::AuditRecord) -> storage::AuditRecord {
    storage::AuditRecord {
        at: Timestamp::from_millis(r.at_ms),
        actor: r.actor,
        role: r.role,
        purpose: r.purpose,
        subject: r.subject,
        action: r.action,
        object: r.object,
        outcome: r.outcome,
    }
}

/// Asks the policy for a capability and records the answer on the ledger before anything is
/// read; a failed append reads nothing.
fn authorise(
    store: &dyn Store,
    viewer: &Viewer,
    role: Role,
    purpose: ReadPurpose,
    scope: Scope,
    at: Timestamp,
) -> Result<access::Capability, DataError> {
    authorise_about(store, viewer, role, purpose, scope, None, at)
}

/// [`authorise`] for a read about someone other than the asker (a vehicle's driver): the
/// ledger entry names them, so they see who looked — and who tried.
fn authorise_about(
    store: &dyn Store,
    viewer: &Viewer,
    role: Role,
    purpose: ReadPurpose,
    scope: Scope,
    subject: Option<String>,
    at: Timestamp,
) -> Result<access::Capability, DataError> {
    let about = |mut r: storage::AuditRecord| {
        if r.subject.is_none() {
            r.subject = subject.clone();
        }
        r
    };
    match access::Policy::authorise(&viewer.user(), role, purpose, scope, at.millis()) {
        Ok(grant) => {
            let (cap, record) = grant.into_parts();
            store.audit_append(about(audit_record(record)))?;
            Ok(cap)
        }
        Err(denial) => {
            let (nb, en) = (denial.message_nb(), denial.message_en());
            store.audit_append(about(audit_record(denial.into_audit())))?;
            Err(DataError::Denied { nb, en })
        }
    }
}

/// Who drove a vehicle in a period, by the organisation's assignments (for the ledger).
fn drivers_of(org: &org::Org, reg: &RegNo, from: Date, to: Date) -> Option<String> {
    let mut who: Vec<&str> = org
        .assignments
        .iter()
        .filter(|a| &a.vehicle == reg && a.from <= to && a.to.is_none_or(|t| from < t))
        .map(|a| a.employee.as_str())
        .collect();
    who.sort_unstable();
    who.dedup();
    (!who.is_empty()).then(|| who.join(","))
}

fn change(
    store: &dyn Store,
    viewer: &Viewer,
    role: Role,
    purpose: &str,
    subject: Option<String>,
    object: String,
    at: Timestamp,
) -> Result<(), DataError> {
    store.audit_append(storage::AuditRecord {
        at,
        actor: viewer.name.clone(),
        role: role.as_str().to_owned(),
        purpose: purpose.to_owned(),
        subject,
        action: ledger::Action::Change,
        object,
        outcome: "done".to_owned(),
    })?;
    Ok(())
}

/// `YYYY-MM` → its first and last day.
pub fn month_bounds(month: &str) -> Option<(Date, Date)> {
    let (y, m) = month.split_once('-')?;
    if m.len() != 2 {
        return None;
    }
    let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
    let first = Date::from_calendar_date(y.parse().ok()?, month, 1).ok()?;
    let last = Date::from_calendar_date(
        first.year(),
        month,
        time::util::days_in_month(month, first.year()),
    )
    .ok()?;
    Some((first, last))
}

pub fn today(at: Timestamp) -> Date {
    trips::oslo_date(at)
}

pub fn this_month(at: Timestamp) -> String {
    let d = today(at);
    format!("{:04}-{:02}", d.year(), u8::from(d.month()))
}

/// The vehicle assigned to an employee on a date (organisation data, not tracking data).
fn assigned(org: &org::Org, employee: &str, day: Date) -> Option<RegNo> {
    org.assignments
        .iter()
        .find(|a| a.employee == employee && a.from <= day && a.to.is_none_or(|t| day < t))
        .map(|a| a.vehicle.clone())
}

fn kind_of(org: &org::Org, reg: &RegNo) -> VehicleKind {
    org.vehicles
        .iter()
        .find(|v| &v.reg == reg)
        .map_or(VehicleKind::Car, |v| v.kind)
}

fn vehicle(store: &dyn Store, reg: &RegNo) -> Result<VehicleId, DataError> {
    store
        .vehicle_id(reg)?
        .ok_or_else(|| DataError::NotFound(format!("vehicle {reg}")))
}

/// The employee's own trips between two dates, with the vehicle they were made in: the
/// vehicles assigned to them, over the days of the assignment.
fn own_trips(
    store: &dyn Store,
    org: &org::Org,
    employee: &str,
    from: Date,
    to: Date,
) -> Result<Vec<(RegNo, LogEntry)>, DataError> {
    let mut out = Vec::new();
    for a in org.assignments.iter().filter(|a| a.employee == employee) {
        let start = from.max(a.from);
        let end = match a.to.and_then(|t| t.previous_day()) {
            Some(last) => to.min(last),
            None => to,
        };
        if start > end {
            continue;
        }
        let Some(id) = store.vehicle_id(&a.vehicle)? else {
            continue;
        };
        for e in store.driving_log(id, start, end)? {
            out.push((a.vehicle.clone(), e));
        }
    }
    out.sort_by_key(|(_, e)| match e {
        LogEntry::Trip(t) => (t.date, t.start.millis()),
        LogEntry::Private(p) => (p.date, 0),
    });
    Ok(out)
}

/// Everything on the driver's page.
pub struct Own {
    pub employee: String,
    pub employee_name: Option<String>,
    /// Today's vehicle, if any.
    pub vehicle: Option<RegNo>,
    pub private_now: bool,
    pub month: String,
    pub trips: Vec<(RegNo, LogEntry)>,
    pub year: purposes::tax::YearTotals,
    pub notices: Vec<purposes::tax::Notice>,
    /// Who signed this month, for today's vehicle.
    pub signoffs: Vec<(SignRole, String, Timestamp)>,
    /// Ledger entries about me, newest first.
    pub looked: Vec<ledger::StoredEntry>,
}

pub fn own(store: &dyn Store, viewer: &Viewer, at: Timestamp) -> Result<Own, DataError> {
    let _cap = authorise(
        store,
        viewer,
        Role::Employee,
        ReadPurpose::OwnData,
        Scope::Own,
        at,
    )?;
    let employee = viewer
        .employee
        .clone()
        .ok_or_else(|| invalid("Ingen ansattpost", "No employee record"))?;
    let org = store.load_org()?;
    let day = today(at);
    let month = this_month(at);
    let vehicle = assigned(&org, &employee, day);
    let mut private_now = false;
    let mut signoffs = Vec::new();
    if let Some(reg) = &vehicle {
        let id = vehicle_id_or_none(store, reg)?;
        if let Some(id) = id {
            private_now = store
                .privacy_switches(id)?
                .first()
                .is_some_and(|(_, on, _)| *on);
            signoffs = store.signoffs(id, &month)?;
        }
    }
    let (first, _) = month_bounds(&month).ok_or_else(|| DataError::NotFound(month.clone()))?;
    let trips = own_trips(store, &org, &employee, first, day)?;
    let year_start = Date::from_calendar_date(day.year(), time::Month::January, 1)
        .map_err(|_| DataError::NotFound("year".into()))?;
    let year_entries: Vec<LogEntry> = own_trips(store, &org, &employee, year_start, day)?
        .into_iter()
        .map(|(_, e)| e)
        .collect();
    let year = purposes::tax::totals(&year_entries);
    let kind = vehicle
        .as_ref()
        .map_or(VehicleKind::Car, |r| kind_of(&org, r));
    let notices = purposes::tax::notices(kind, &year);
    let mut looked: Vec<_> = store
        .audit_entries()?
        .into_iter()
        .filter(|e| {
            e.entry
                .subject
                .as_deref()
                .is_some_and(|s| s.split(',').any(|x| x == employee))
                && !(e.entry.actor == viewer.name && e.entry.action == ledger::Action::Read)
        })
        .collect();
    looked.reverse();
    looked.truncate(50);
    let employee_name = org
        .employees
        .iter()
        .find(|e| e.number == employee)
        .map(|e| e.name.clone());
    Ok(Own {
        employee,
        employee_name,
        vehicle,
        private_now,
        month,
        trips,
        year,
        notices,
        signoffs,
        looked,
    })
}

fn vehicle_id_or_none(store: &dyn Store, reg: &RegNo) -> Result<Option<VehicleId>, DataError> {
    Ok(store.vehicle_id(reg)?)
}

/// The driver's privacy switch for today's vehicle. Returns the vehicle.
pub fn switch_privacy(
    store: &dyn Store,
    viewer: &Viewer,
    on: bool,
    at: Timestamp,
) -> Result<RegNo, DataError> {
    let employee = driver(viewer)?;
    let org = store.load_org()?;
    let reg = assigned(&org, &employee, today(at)).ok_or_else(|| {
        invalid(
            "Du har ingen bil tildelt i dag.",
            "No vehicle is assigned to you today.",
        )
    })?;
    let id = vehicle(store, &reg)?;
    store.switch_privacy(id, on, &format!("web ({})", viewer.name), at)?;
    change(
        store,
        viewer,
        Role::Employee,
        "privacy_mode",
        Some(employee),
        format!("privacy mode {} for {reg}", if on { "on" } else { "off" }),
        at,
    )?;
    Ok(reg)
}

fn driver(viewer: &Viewer) -> Result<String, DataError> {
    match (&viewer.employee, viewer.holds(Role::Employee)) {
        (Some(e), true) => Ok(e.clone()),
        _ => Err(DataError::Denied {
            nb: "Avvist: bare den ansatte som kjører, kan gjøre dette, og denne brukeren har ingen ansattpost.".into(),
            en: "Refused: only the employee who drives can do this, and this user has no employee record.".into(),
        }),
    }
}

/// The driver classifies one of their own trips of this year.
pub fn classify(
    store: &dyn Store,
    viewer: &Viewer,
    trip: i64,
    class: &Classification,
    at: Timestamp,
) -> Result<(), DataError> {
    let employee = driver(viewer)?;
    if let Classification::Business { purpose } = class
        && purpose.trim().is_empty()
    {
        return Err(invalid(
            "Skriv formålet eller kunden for yrkeskjøringen.",
            "Write the purpose or the customer of the business trip.",
        ));
    }
    let org = store.load_org()?;
    let day = today(at);
    let year_start = Date::from_calendar_date(day.year(), time::Month::January, 1)
        .map_err(|_| DataError::NotFound("year".into()))?;
    let mine = own_trips(store, &org, &employee, year_start, day)?;
    let Some((reg, _)) = mine.iter().find(|(_, e)| match e {
        LogEntry::Trip(t) => t.id == trip,
        LogEntry::Private(p) => p.id == trip,
    }) else {
        return Err(DataError::NotFound(format!("trip {trip}")));
    };
    store.classify_trip(trip, class, &viewer.name, at)?;
    change(
        store,
        viewer,
        Role::Employee,
        "driving_log",
        Some(employee),
        format!("trip {trip} in {reg} classified {}", class.as_str()),
        at,
    )
}

/// The driver signs this month for today's vehicle.
pub fn sign_driver(store: &dyn Store, viewer: &Viewer, at: Timestamp) -> Result<(), DataError> {
    let employee = driver(viewer)?;
    let org = store.load_org()?;
    let reg = assigned(&org, &employee, today(at)).ok_or_else(|| {
        invalid(
            "Du har ingen bil tildelt i dag.",
            "No vehicle is assigned to you today.",
        )
    })?;
    let id = vehicle(store, &reg)?;
    let month = this_month(at);
    store.sign_month(id, &month, SignRole::Driver, &viewer.name, at)?;
    change(
        store,
        viewer,
        Role::Employee,
        "driving_log",
        Some(employee),
        format!("driving log {reg} {month} signed by the driver"),
        at,
    )
}

/// The employee's own trips of a month as CSV (their copy, GDPR art. 15 and 20).
pub fn own_csv(store: &dyn Store, viewer: &Viewer, at: Timestamp) -> Result<String, DataError> {
    let _cap = authorise(
        store,
        viewer,
        Role::Employee,
        ReadPurpose::OwnData,
        Scope::Own,
        at,
    )?;
    let employee = driver(viewer)?;
    let org = store.load_org()?;
    let day = today(at);
    let year_start = Date::from_calendar_date(day.year(), time::Month::January, 1)
        .map_err(|_| DataError::NotFound("year".into()))?;
    let mut out = String::from("vehicle,date,start,end,from,to,km,classification,purpose\n");
    for (reg, e) in own_trips(store, &org, &employee, year_start, day)? {
        match e {
            LogEntry::Trip(t) => {
                let purpose = match &t.classification {
                    Classification::Business { purpose } => purpose.as_str(),
                    _ => "",
                };
                out.push_str(&format!(
                    "{reg},{},{},{},{},{},{:.1},{},{}\n",
                    t.date,
                    clock(t.start),
                    clock(t.end),
                    csv_field(&t.start_place),
                    csv_field(&t.end_place),
                    t.km,
                    t.classification.as_str(),
                    csv_field(purpose)
                ));
            }
            LogEntry::Private(p) => {
                out.push_str(&format!("{reg},{},,,,,{:.1},private,\n", p.date, p.km));
            }
        }
    }
    Ok(out)
}

pub fn csv_field(s: &str) -> String {
    // A leading =, +, - or @ would be a formula in a spreadsheet.
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// Local (Oslo) clock time of a timestamp, `HH:MM`.
pub fn clock(t: Timestamp) -> String {
    t.to_offset_date_time()
        .map(|d| {
            let offset = trips::oslo_offset(t);
            let local = d.to_offset(offset);
            format!("{:02}:{:02}", local.hour(), local.minute())
        })
        .unwrap_or_default()
}

/// A month of one vehicle's driving log, as its keeper sees it.
pub struct Log {
    pub reg: RegNo,
    pub kind: VehicleKind,
    pub month: String,
    pub entries: Vec<LogEntry>,
    pub deviations: Vec<RecordedDeviation>,
    pub signoffs: Vec<(SignRole, String, Timestamp)>,
    pub organisation: String,
    pub org_number: Option<String>,
}

pub fn vehicles(store: &dyn Store) -> Result<Vec<RegNo>, DataError> {
    Ok(store.load_org()?.vehicles.into_iter().map(|v| v.reg).collect())
}

pub fn driving_log(
    store: &dyn Store,
    viewer: &Viewer,
    reg: &RegNo,
    month: &str,
    at: Timestamp,
) -> Result<Log, DataError> {
    let (from, to) = month_bounds(month).ok_or_else(|| {
        invalid(
            "Måneden skrives ÅÅÅÅ-MM, for eksempel 2026-11.",
            "Write the month as YYYY-MM, e.g. 2026-11.",
        )
    })?;
    let org = store.load_org()?;
    let _cap = authorise_about(
        store,
        viewer,
        viewer.acting(Role::LogKeeper),
        ReadPurpose::DrivingLog,
        Scope::Vehicle(reg.to_string()),
        drivers_of(&org, reg, from, to),
        at,
    )?;
    let id = vehicle(store, reg)?;
    Ok(Log {
        reg: reg.clone(),
        kind: kind_of(&org, reg),
        month: month.to_owned(),
        entries: store.driving_log(id, from, to)?,
        deviations: store.deviations(id, from, to)?,
        signoffs: store.signoffs(id, month)?,
        organisation: org.organisation.name.clone(),
        org_number: org.organisation.org_number.clone(),
    })
}

/// The keeper signs a month (after the driver).
pub fn sign_keeper(
    store: &dyn Store,
    viewer: &Viewer,
    reg: &RegNo,
    month: &str,
    at: Timestamp,
) -> Result<(), DataError> {
    if !viewer.holds(Role::LogKeeper) {
        return Err(DataError::Denied {
            nb: "Avvist: bare kjørebokføreren signerer måneden.".into(),
            en: "Refused: only the log keeper signs the month.".into(),
        });
    }
    let id = vehicle(store, reg)?;
    store.sign_month(id, month, SignRole::Keeper, &viewer.name, at)?;
    change(
        store,
        viewer,
        Role::LogKeeper,
        "driving_log",
        None,
        format!("driving log {reg} {month} signed by the keeper"),
        at,
    )
}

/// Records an export of the driving log on the ledger.
pub fn record_export(
    store: &dyn Store,
    viewer: &Viewer,
    log: &Log,
    format: &str,
    at: Timestamp,
) -> Result<(), DataError> {
    let org = store.load_org()?;
    let subject = month_bounds(&log.month).and_then(|(f, t)| drivers_of(&org, &log.reg, f, t));
    store.audit_append(storage::AuditRecord {
        at,
        actor: viewer.name.clone(),
        role: Role::LogKeeper.as_str().to_owned(),
        purpose: "driving_log".to_owned(),
        subject,
        action: ledger::Action::Export,
        object: format!("driving log {} {} ({format})", log.reg, log.month),
        outcome: "done".to_owned(),
    })?;
    Ok(())
}

/// An alarm window with its vehicle and the positions kept inside it.
pub struct Alarm {
    pub window: storage::AlarmWindow,
    pub reg: String,
    pub positions: Vec<(Timestamp, domain::Position)>,
}

pub fn alarm_windows(
    store: &dyn Store,
    viewer: &Viewer,
    at: Timestamp,
) -> Result<Vec<Alarm>, DataError> {
    let _cap = authorise(
        store,
        viewer,
        viewer.acting(Role::SecurityOperator),
        ReadPurpose::Alarm,
        Scope::All,
        at,
    )?;
    let org = store.load_org()?;
    let names: Vec<(VehicleId, String)> = org
        .vehicles
        .iter()
        .filter_map(|v| {
            store
                .vehicle_id(&v.reg)
                .ok()
                .flatten()
                .map(|id| (id, v.reg.to_string()))
        })
        .collect();
    let mut out = Vec::new();
    for w in store.alarm_windows()? {
        let reg = names
            .iter()
            .find(|(id, _)| *id == w.vehicle)
            .map(|(_, r)| r.clone())
            .unwrap_or_default();
        let positions = store.alarm_positions(w.id)?;
        out.push(Alarm {
            window: w,
            reg,
            positions,
        });
    }
    Ok(out)
}

pub fn resolve_alarm(
    store: &dyn Store,
    viewer: &Viewer,
    window: i64,
    incident: bool,
    at: Timestamp,
) -> Result<(), DataError> {
    if !viewer.holds(Role::SecurityOperator) {
        return Err(DataError::Denied {
            nb: "Avvist: bare sikkerhetsvakten løser alarmer.".into(),
            en: "Refused: only the security operator resolves alarms.".into(),
        });
    }
    store.resolve_alarm(window, &viewer.name, incident, at)?;
    change(
        store,
        viewer,
        Role::SecurityOperator,
        "alarm",
        None,
        format!(
            "alarm window {window} resolved{}",
            if incident { " as an incident" } else { "" }
        ),
        at,
    )
}

pub fn aggregates(
    store: &dyn Store,
    viewer: &Viewer,
    at: Timestamp,
) -> Result<Vec<serde_json::Value>, DataError> {
    let _cap = authorise(
        store,
        viewer,
        viewer.acting(Role::Analyst),
        ReadPurpose::Utilization,
        Scope::All,
        at,
    )?;
    Ok(store
        .utilization_weeks()?
        .into_iter()
        .filter_map(|w| serde_json::from_str(&w.body).ok())
        .collect())
}

/// The ledger's metadata, newest first, with whether the whole ledger verifies.
pub struct LedgerView {
    pub entries: Vec<ledger::StoredEntry>,
    pub total: usize,
    pub verified: Result<ledger::Head, ledger::VerifyError>,
}

pub fn ledger(store: &dyn Store, viewer: &Viewer, at: Timestamp) -> Result<LedgerView, DataError> {
    let role = if viewer.holds(Role::PrivacyOfficer) {
        Role::PrivacyOfficer
    } else {
        viewer.acting(Role::Representative)
    };
    let _cap = authorise(
        store,
        viewer,
        role,
        ReadPurpose::LedgerMetadata,
        Scope::All,
        at,
    )?;
    let all = store.audit_entries()?;
    let verified = ledger::verify(&all);
    let total = all.len();
    let mut entries = all;
    entries.reverse();
    entries.truncate(200);
    Ok(LedgerView {
        entries,
        total,
        verified,
    })
}

/// The organisation as the admin configures it: no tracking data.
pub struct Admin {
    pub org: org::Org,
    pub devices: Vec<(storage::RegisteredDevice, Vec<storage::InventoryEntry>)>,
    pub users: Vec<storage::UserRow>,
}

pub fn admin(store: &dyn Store, viewer: &Viewer) -> Result<Admin, DataError> {
    if !viewer.holds(Role::Admin) {
        return Err(DataError::Denied {
            nb: "Avvist: bare administratoren ser oppsettet av organisasjonen.".into(),
            en: "Refused: only the administrator sees the organisation's configuration.".into(),
        });
    }
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

/// The dispatcher's right to the live fleet view (nothing stored is read).
pub fn fleet(store: &dyn Store, viewer: &Viewer, at: Timestamp) -> Result<(), DataError> {
    let _cap = authorise(
        store,
        viewer,
        viewer.acting(Role::Dispatcher),
        ReadPurpose::FleetView,
        Scope::All,
        at,
    )?;
    Ok(())
}

/// Ends a session: its token no longer opens anything.
pub fn revoke(store: &dyn Store, token_hash: &str) -> Result<(), DataError> {
    // TODO(reads): store.revoke_token lands with the access work; until then logout only
    // clears the cookie and the token expires on its own.
    let _ = (store, token_hash);
    Ok(())
}
