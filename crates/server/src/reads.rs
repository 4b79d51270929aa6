//! Every read of personal data, for every user-facing path (the JSON API, the web pages, the
//! command line), goes through here: the policy decides (`access::Policy::authorise`), the
//! answer — yes or no — is appended to the audit ledger and durable before anything is shown,
//! and only then is the storage query called with the capability the policy handed out.
//!
//! Architecture Invariant: this module is the only caller of `Policy::authorise` outside
//! tests, and it never shows data whose ledger entry failed to commit.

use std::sync::Arc;

use access::{Capability, Denial, Policy, ReadPurpose, Role, Scope};
use domain::drivinglog::{Classification, LogEntry, OdometerReading, RecordedDeviation};
use domain::{RegNo, Timestamp, VehicleId};
use ledger::Action;
use org::classify::Proposal;
use storage::{Store, StoreError};

use crate::audit_log::{AuditError, AuditLog};
use crate::ingest::now;
use crate::purpose_worker::Shared;

pub mod exports;

/// Norwegian local time at `t`, for the classification rules.
fn oslo_local(t: Timestamp) -> time::PrimitiveDateTime {
    let utc = t
        .to_offset_date_time()
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let local = utc.to_offset(trips::oslo_offset(t));
    time::PrimitiveDateTime::new(local.date(), local.time())
}

/// The rules' proposals for the unclassified trips among `entries`.
pub fn propose_all(org: &org::Org, entries: &[LogEntry]) -> Vec<(i64, Proposal)> {
    entries
        .iter()
        .filter_map(|e| match e {
            LogEntry::Trip(t) if t.classification == Classification::Unclassified => org
                .classification
                .propose(
                    &org.sites,
                    &org::classify::TripFacts {
                        start: oslo_local(t.start),
                        start_place: &t.start_place,
                        end_place: &t.end_place,
                    },
                )
                .map(|p| (t.id, p)),
            _ => None,
        })
        .collect()
}

/// How many ledger entries one page of the ledger shows at most.
pub const LEDGER_PAGE: usize = 500;

/// Who acts: a logged-in user, in one of their roles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Who {
    pub user: access::User,
    pub role: Role,
}

impl Who {
    /// The acting user from their stored row. `role` picks one of the user's roles; without
    /// it, the user's first role.
    pub fn from_row(row: &storage::UserRow, role: Option<&str>) -> Result<Who, ReadError> {
        let roles: Vec<Role> = row
            .roles
            .iter()
            .filter_map(|r| Role::parse(r).ok())
            .collect();
        let role = match role {
            Some(r) => Role::parse(r).map_err(|e| ReadError::Invalid(e.to_string()))?,
            None => *roles
                .first()
                .ok_or_else(|| ReadError::Invalid(format!("user {} has no role", row.name)))?,
        };
        Ok(Who {
            user: access::User {
                id: access::UserId(row.name.clone()),
                name: row.name.clone(),
                roles,
                employee: row.employee_number.clone(),
            },
            role,
        })
    }
}

/// Why a read gave nothing.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The policy refused; the attempt is on the ledger. The message says why, with its source.
    #[error("{}", .0.message_en())]
    Denied(Box<Denial>),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    /// A rule of the changes door said no; the attempt is on the ledger as refused.
    #[error("{}", .0.en)]
    Refused(domain::changes::Refusal),
    #[error(transparent)]
    Audit(#[from] AuditError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The read purposes any endpoint may be asked to serve although the policy always refuses
/// them: so that the attempt can be named, refused with its reason and recorded.
pub fn declarable(natural: ReadPurpose) -> Vec<ReadPurpose> {
    vec![
        natural,
        ReadPurpose::TimesheetControl,
        ReadPurpose::PerformanceReview,
    ]
}

/// The purpose a request declared, checked against what the endpoint serves.
fn declared(natural: ReadPurpose, asked: Option<ReadPurpose>) -> Result<ReadPurpose, ReadError> {
    match asked {
        None => Ok(natural),
        Some(p) if declarable(natural).contains(&p) => Ok(p),
        Some(p) => Err(ReadError::Invalid(format!(
            "this endpoint serves the purpose {natural}; {p} data is read elsewhere (see /api/v1/openapi.json)"
        ))),
    }
}

/// A position in the live fleet view.
#[derive(Clone, Debug, PartialEq)]
pub struct FleetPosition {
    pub vehicle: String,
    pub lat: f64,
    pub lon: f64,
    pub time: Timestamp,
}

/// The vehicles one opened fleet view has shown, so that each lands once on the ledger of its
/// drivers (who are told who saw where their vehicle was, and when).
pub struct FleetWatch {
    reads: Reads,
    who: Who,
    purpose: ReadPurpose,
    seen: std::collections::HashSet<String>,
}

impl FleetWatch {
    /// Records the vehicles among `regs` this view has not shown yet, durably, before they
    /// are shown: one entry each, its subject the drivers assigned to the vehicle today.
    pub fn record(&mut self, regs: &[&str]) -> Result<(), ReadError> {
        let fresh: Vec<String> = regs
            .iter()
            .filter(|r| !r.is_empty() && !self.seen.contains(**r))
            .map(|r| (*r).to_owned())
            .collect();
        if fresh.is_empty() {
            return Ok(());
        }
        let org = self.reads.store.load_org()?;
        let day = today();
        let mut pending = Vec::new();
        for reg in &fresh {
            let subject = RegNo::parse(reg)
                .ok()
                .and_then(|r| drivers_of(&org, &r, day, day));
            pending.push(self.reads.audit.submit(storage::AuditRecord {
                at: now(),
                actor: self.who.user.id.0.clone(),
                role: self.who.role.as_str().to_owned(),
                purpose: self.purpose.as_str().to_owned(),
                subject,
                action: Action::Read,
                object: format!("fleet view: where {reg} is now"),
                outcome: "ok".to_owned(),
            })?);
        }
        for p in pending {
            p.wait()?;
        }
        self.seen.extend(fresh);
        Ok(())
    }

    /// Whether this view has shown the vehicle already.
    pub fn has_seen(&self, reg: &str) -> bool {
        self.seen.contains(reg)
    }
}

/// One vehicle's driving log for a period, as the reader's capability shows it.
#[derive(Clone, Debug)]
pub struct DrivingLogPeriod {
    pub organisation: String,
    pub org_number: Option<String>,
    pub vehicle: RegNo,
    pub kind: domain::VehicleKind,
    pub period: String,
    pub entries: Vec<LogEntry>,
    pub deviations: Vec<RecordedDeviation>,
    /// Per month of the period, the last real vehicle odometer reading with its date
    /// (`Store::monthly_odometer`); none for a vehicle without a vehicle odometer.
    pub odometer_readings: Vec<OdometerReading>,
    /// The month's review steps (submitted, returned, approved), oldest first. Empty for a
    /// year.
    pub signoffs: Vec<domain::changes::MonthStep>,
    /// Corrections of a trip's driver (supplements beside the recorded driver), oldest first.
    pub driver_corrections: Vec<storage::DriverCorrection>,
    /// The calendar year to the end of the period, for the tax thresholds.
    pub year: purposes::tax::YearTotals,
    pub notices: Vec<purposes::tax::Notice>,
}

/// Everything held about one employee, for GDPR art. 15 and 20.
#[derive(Clone, Debug)]
pub struct MyData {
    pub employee: Option<org::Employee>,
    pub assignments: Vec<org::Assignment>,
    /// Who asked for the report (the employee, or the privacy officer answering their request).
    pub user: String,
    pub roles: Vec<String>,
    /// The access request's reference, when the privacy officer produced the report.
    pub request: Option<String>,
    pub year: i32,
    /// (vehicle, entry)
    pub trips: Vec<(String, LogEntry)>,
    /// (vehicle, at, on, source)
    pub privacy_switches: Vec<(String, Timestamp, bool, String)>,
    pub alarm_windows: Vec<storage::AlarmWindow>,
    /// The positions kept inside those windows, by window id.
    pub alarm_positions: Vec<(i64, Vec<(Timestamp, domain::Position)>)>,
    pub ledger: Vec<ledger::StoredEntry>,
}

/// An allowed read: the capability for the query, and its ledger entry on the way to disk.
#[must_use = "the data may be shown only through finish, after the ledger entry is durable"]
pub struct Granted {
    pub cap: Capability,
    recorded: crate::audit_log::Pending,
}

impl Granted {
    /// Waits until the read's ledger entry is durable, then hands over the data.
    pub fn finish<T>(self, data: T) -> Result<T, ReadError> {
        self.recorded.wait()?;
        Ok(data)
    }

    /// Waits until the entry is durable (before a change is made), keeping the capability.
    pub fn recorded(self) -> Result<Capability, ReadError> {
        self.recorded.wait()?;
        Ok(self.cap)
    }
}

/// The latest verification of the whole audit ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerCheck {
    pub at: Timestamp,
    /// The verified head, or what is wrong (the first bad entry).
    pub outcome: Result<ledger::Head, String>,
}

/// The capability-gated read service. Cheap to clone.
#[derive(Clone)]
pub struct Reads {
    store: Arc<dyn Store>,
    audit: AuditLog,
    shared: Option<Arc<Shared>>,
    /// Kept by the server's hourly ledger check, so that a page does not read the whole
    /// ledger to show its status.
    check: Arc<std::sync::RwLock<Option<LedgerCheck>>>,
    /// Password logins, shared by the web and the API (one limiter for both).
    logins: Arc<crate::login::Logins>,
}

impl Reads {
    /// `shared` is the running server's live fleet view (none on the command line).
    pub fn new(store: Arc<dyn Store>, audit: AuditLog, shared: Option<Arc<Shared>>) -> Reads {
        Reads {
            store,
            audit,
            shared,
            check: Arc::default(),
            logins: Arc::default(),
        }
    }

    /// The one login door of the web and the API.
    pub fn logins(&self) -> &Arc<crate::login::Logins> {
        &self.logins
    }

    /// The ledger's verification status: the latest scheduled check, or one made now when
    /// there is none yet (the command line, a server just started).
    pub fn ledger_check(&self) -> LedgerCheck {
        if let Some(c) = self.check.read().ok().and_then(|c| c.clone()) {
            return c;
        }
        let outcome = self
            .store
            .audit_entries()
            .map_err(|e| e.to_string())
            .and_then(|all| ledger::verify(&all).map_err(|e| e.to_string()));
        let c = LedgerCheck { at: now(), outcome };
        self.record_ledger_check(c.clone());
        c
    }

    /// Records the outcome of a verification of the whole ledger.
    pub fn record_ledger_check(&self, c: LedgerCheck) {
        if let Ok(mut slot) = self.check.write() {
            *slot = Some(c);
        }
    }

    /// The store, for what is not personal data (the organisation, users) and for changes
    /// made after an [`Reads::authorise`].
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The one door: asks the policy, puts its answer on the ledger (durably), and hands out
    /// the capability. `subject` names whose data it is when the scope does not (the drivers
    /// of a vehicle in the period), so that they find the access in their own ledger view.
    pub fn authorise(
        &self,
        who: &Who,
        purpose: ReadPurpose,
        scope: Scope,
        subject: Option<String>,
        action: Action,
        object: String,
    ) -> Result<Granted, ReadError> {
        let at = now();
        let fill = |r: &mut access::AuditRecord| {
            if r.subject.is_none() {
                r.subject.clone_from(&subject);
            }
            r.object.clone_from(&object);
        };
        match Policy::authorise(&who.user, who.role, purpose, scope, at.millis()) {
            Ok(grant) => {
                let (cap, mut record) = grant.into_parts();
                fill(&mut record);
                record.action = action;
                let recorded = self.audit.submit(storage_record(record))?;
                Ok(Granted { cap, recorded })
            }
            Err(denial) => {
                let mut record = denial.audit().clone();
                fill(&mut record);
                self.audit.append(storage_record(record))?;
                Err(ReadError::Denied(Box::new(denial)))
            }
        }
    }

    /// The policy's decision for a change: a refusal is recorded (with `subject`) and
    /// returned; a grant gives the capability and the ledger entry still to be written, by
    /// the changes door, with what actually happened.
    pub(crate) fn decide(
        &self,
        who: &Who,
        purpose: ReadPurpose,
        scope: Scope,
        subject: Option<String>,
        object: String,
    ) -> Result<(Capability, storage::AuditRecord), ReadError> {
        let at = now();
        let fill = |r: &mut access::AuditRecord| {
            if r.subject.is_none() {
                r.subject.clone_from(&subject);
            }
            r.object.clone_from(&object);
        };
        match Policy::authorise(&who.user, who.role, purpose, scope, at.millis()) {
            Ok(grant) => {
                let (cap, mut record) = grant.into_parts();
                fill(&mut record);
                Ok((cap, storage_record(record)))
            }
            Err(denial) => {
                let mut record = denial.audit().clone();
                fill(&mut record);
                self.audit.append(storage_record(record))?;
                Err(ReadError::Denied(Box::new(denial)))
            }
        }
    }

    /// The ledger's writer, for the changes door.
    pub(crate) fn audit(&self) -> &AuditLog {
        &self.audit
    }

    /// Puts a decided read on its way to the ledger.
    fn granted(&self, cap: Capability, record: storage::AuditRecord) -> Result<Granted, ReadError> {
        let recorded = self.audit.submit(record)?;
        Ok(Granted { cap, recorded })
    }

    fn vehicle(&self, reg: &str) -> Result<(RegNo, VehicleId), ReadError> {
        let reg = RegNo::parse(reg).map_err(|e| ReadError::Invalid(e.to_string()))?;
        let id = self
            .store
            .vehicle_id(&reg)?
            .ok_or_else(|| ReadError::NotFound(format!("no vehicle {reg} in the organisation")))?;
        Ok((reg, id))
    }

    /// The live fleet view: where the vehicles are now; vehicles in privacy mode are absent.
    pub fn fleet(
        &self,
        who: &Who,
        asked: Option<ReadPurpose>,
    ) -> Result<Vec<FleetPosition>, ReadError> {
        self.fleet_view(who, asked).map(|(now, _)| now)
    }

    /// The fleet view opened: its positions, each vehicle's view on the ledger of the drivers
    /// assigned to it today (one entry per opened view and vehicle, never per position), and
    /// the watch that records the vehicles that appear later in a live stream.
    pub fn fleet_view(
        &self,
        who: &Who,
        asked: Option<ReadPurpose>,
    ) -> Result<(Vec<FleetPosition>, FleetWatch), ReadError> {
        let purpose = declared(ReadPurpose::FleetView, asked)?;
        let g = self.authorise(
            who,
            purpose,
            Scope::All,
            None,
            Action::Read,
            "fleet view, all vehicles now".to_owned(),
        )?;
        let now = self.fleet_now();
        let mut watch = FleetWatch {
            reads: self.clone(),
            who: who.clone(),
            purpose,
            seen: std::collections::HashSet::new(),
        };
        let regs: Vec<&str> = now.iter().map(|p| p.vehicle.as_str()).collect();
        watch.record(&regs)?;
        let now = g.finish(now)?;
        Ok((now, watch))
    }

    /// The fleet view's current positions, for a caller that already holds a fleet-view
    /// capability (the live stream after its one ledgered authorisation).
    pub fn fleet_now(&self) -> Vec<FleetPosition> {
        self.shared
            .as_deref()
            .map(crate::fleet_api::positions)
            .unwrap_or_default()
    }

    /// A vehicle's driving log for a month (`YYYY-MM`) or a year (`YYYY`).
    pub fn driving_log(
        &self,
        who: &Who,
        asked: Option<ReadPurpose>,
        reg: &str,
        period: &str,
        action: Action,
    ) -> Result<DrivingLogPeriod, ReadError> {
        let purpose = declared(ReadPurpose::DrivingLog, asked)?;
        let (from, to) = report::period(period).map_err(ReadError::Invalid)?;
        let (reg, id) = self.vehicle(reg)?;
        let org = self.store.load_org()?;
        // An employee reads their own trips in the vehicle; the other roles the vehicle's log.
        let scope = match who.role {
            Role::Employee => Scope::Own,
            _ => Scope::Vehicle(reg.to_string()),
        };
        let g = self.authorise(
            who,
            purpose,
            scope,
            drivers_of(&org, &reg, from, to),
            action,
            format!("driving log {reg} {period}"),
        )?;
        let entries = self.store.driving_log(&g.cap, id, from, to)?;
        let deviations = self.store.deviations(&g.cap, id, from, to)?;
        let driver_corrections = self.store.driver_corrections(&g.cap, id, from, to)?;
        let odometer_readings = self.store.monthly_odometer(&g.cap, id, from, to)?;
        let signoffs = if period.len() == 7 {
            self.store.month_review(id, period)?
        } else {
            Vec::new()
        };
        let year_start = time::Date::from_calendar_date(to.year(), time::Month::January, 1)
            .map_err(|e| ReadError::Invalid(e.to_string()))?;
        let year = purposes::tax::totals(&self.store.driving_log(&g.cap, id, year_start, to)?);
        let kind = org
            .vehicles
            .iter()
            .find(|v| v.reg == reg)
            .map_or(domain::VehicleKind::Car, |v| v.kind);
        g.finish(DrivingLogPeriod {
            notices: purposes::tax::notices(kind, &year),
            organisation: org.organisation.name.clone(),
            org_number: org.organisation.org_number.clone(),
            vehicle: reg,
            kind,
            period: period.to_owned(),
            entries,
            deviations,
            odometer_readings,
            signoffs,
            driver_corrections,
            year,
        })
    }

    /// What the organisation's classification rules propose for the unclassified trips among
    /// `entries` (which the caller has read through its own door): (trip id, proposal). A
    /// private trip (privacy mode or classified so) is never proposed anything; a proposal is
    /// not a classification: the driver confirms or changes it (`Reads::classify`).
    pub fn proposals(&self, entries: &[LogEntry]) -> Result<Vec<(i64, Proposal)>, ReadError> {
        let org = self.store.load_org()?;
        Ok(propose_all(&org, entries))
    }

    /// The log keeper's follow-up lists for a month or year over every vehicle: trips that
    /// started outside working hours without a business purpose, and trips still unclassified
    /// after the organisation's `unclassified_after_days`. Date and km only.
    pub fn followups(
        &self,
        who: &Who,
        asked: Option<ReadPurpose>,
        period: &str,
    ) -> Result<Vec<domain::drivinglog::FollowUpTrip>, ReadError> {
        let purpose = declared(ReadPurpose::DrivingLog, asked)?;
        let (from, to) = report::period(period).map_err(ReadError::Invalid)?;
        let org = self.store.load_org()?;
        let g = self.authorise(
            who,
            purpose,
            Scope::All,
            None,
            Action::Read,
            format!("driving log follow-up lists {period}"),
        )?;
        let rules = &org.classification;
        let outside = |t: Timestamp| rules.within_working_hours(oslo_local(t)) == Some(false);
        let today = trips::oslo_date(now());
        let before = today
            .checked_sub(time::Duration::days(i64::from(
                rules.unclassified_after_days,
            )))
            .unwrap_or(today);
        let lists = self.store.followups(&g.cap, from, to, &outside, before)?;
        g.finish(lists)
    }

    /// The acting employee's own trips in a month or year, in every vehicle they drove.
    pub fn own_trips(
        &self,
        who: &Who,
        asked: Option<ReadPurpose>,
        period: &str,
    ) -> Result<Vec<(String, LogEntry)>, ReadError> {
        let purpose = declared(ReadPurpose::DrivingLog, asked)?;
        let (from, to) = report::period(period).map_err(ReadError::Invalid)?;
        let g = self.authorise(
            who,
            purpose,
            Scope::Own,
            None,
            Action::Read,
            format!("own trips {period}"),
        )?;
        let trips = self.store.own_driving_log(&g.cap, from, to)?;
        g.finish(trips)
    }

    /// The privacy switches of a vehicle made while it was assigned to the acting employee,
    /// newest first. Only the driver reads them: they tell when private trips began.
    pub fn privacy_history(
        &self,
        who: &Who,
        reg: &str,
    ) -> Result<Vec<(Timestamp, bool, String)>, ReadError> {
        let (reg, id) = self.vehicle(reg)?;
        let g = self.authorise(
            who,
            ReadPurpose::OwnData,
            Scope::Own,
            None,
            Action::Read,
            format!("own privacy switches in {reg}"),
        )?;
        let switches = self.store.privacy_switches(&g.cap, id)?;
        g.finish(switches)
    }

    /// Alarm windows, newest first. Each window is about the drivers of its vehicle while it
    /// was open: they are the read's subject, and find it in their own access log.
    pub fn alarms(
        &self,
        who: &Who,
        asked: Option<ReadPurpose>,
    ) -> Result<Vec<(String, storage::AlarmWindow)>, ReadError> {
        let purpose = declared(ReadPurpose::Alarm, asked)?;
        let (cap, mut record) =
            self.decide(who, purpose, Scope::All, None, "alarm windows".to_owned())?;
        let names = self.vehicle_names()?;
        let org = self.store.load_org()?;
        let windows: Vec<(String, storage::AlarmWindow)> = self
            .store
            .alarm_windows(&cap)?
            .into_iter()
            .map(|w| (names(w.vehicle), w))
            .collect();
        let mut drivers: Vec<String> = windows
            .iter()
            .filter_map(|(reg, w)| window_drivers(&org, reg, w))
            .flat_map(|d| d.split(',').map(str::to_owned).collect::<Vec<_>>())
            .collect();
        drivers.sort_unstable();
        drivers.dedup();
        record.subject = (!drivers.is_empty()).then(|| drivers.join(","));
        self.granted(cap, record)?.finish(windows)
    }

    /// Who drove the vehicle when an alarm window opened (the assignment that day), with the
    /// phone number the operator calls: the driver may be the one in danger.
    pub fn alarm_driver(
        &self,
        who: &Who,
        reg: &str,
        opened_at: Timestamp,
    ) -> Result<Option<AlarmDriver>, ReadError> {
        let (reg, _) = self.vehicle(reg)?;
        let org = self.store.load_org()?;
        let day = trips::oslo_date(opened_at);
        let driver = org
            .assignments
            .iter()
            .filter(|a| a.vehicle == reg && a.from <= day && a.to.is_none_or(|t| day < t))
            .find_map(|a| org.employees.iter().find(|e| e.number == a.employee));
        let Some(e) = driver else {
            return Ok(None);
        };
        let g = self.authorise(
            who,
            ReadPurpose::Alarm,
            Scope::All,
            Some(e.number.clone()),
            Action::Read,
            format!("driver of {reg} in an alarm window"),
        )?;
        g.finish(Some(AlarmDriver {
            number: e.number.clone(),
            name: e.name.clone(),
            phone: e.phone.clone(),
        }))
    }

    /// The positions kept inside one alarm window: its subject is the drivers assigned to the
    /// vehicle while the window was open.
    pub fn alarm_positions(
        &self,
        who: &Who,
        asked: Option<ReadPurpose>,
        window: i64,
    ) -> Result<Vec<(Timestamp, domain::Position)>, ReadError> {
        let purpose = declared(ReadPurpose::Alarm, asked)?;
        let (cap, mut record) = self.decide(
            who,
            purpose,
            Scope::All,
            None,
            format!("alarm window {window} positions"),
        )?;
        let found = self
            .store
            .alarm_windows(&cap)?
            .into_iter()
            .find(|w| w.id == window);
        let Some(w) = found else {
            record.outcome = format!("refused: there is no alarm window {window}");
            self.audit.append(record)?;
            return Err(ReadError::NotFound(format!(
                "there is no alarm window {window}"
            )));
        };
        let names = self.vehicle_names()?;
        record.subject = window_drivers(&self.store.load_org()?, &names(w.vehicle), &w);
        let g = self.granted(cap, record)?;
        let positions = self.store.alarm_positions(&g.cap, window)?;
        g.finish(positions)
    }

    /// The released anonymous aggregates.
    pub fn aggregates(
        &self,
        who: &Who,
        asked: Option<ReadPurpose>,
    ) -> Result<Vec<storage::ReleasedWeek>, ReadError> {
        let purpose = declared(ReadPurpose::Utilization, asked)?;
        let g = self.authorise(
            who,
            purpose,
            Scope::All,
            None,
            Action::Read,
            "anonymous utilisation aggregates".to_owned(),
        )?;
        let weeks = self.store.utilization_weeks(&g.cap)?;
        g.finish(weeks)
    }

    /// The ledger's metadata, newest first: everything for the oversight roles, or the entries
    /// about one employee (`subject`: an access report on request).
    pub fn ledger(
        &self,
        who: &Who,
        asked: Option<ReadPurpose>,
        subject: Option<&str>,
    ) -> Result<Vec<ledger::StoredEntry>, ReadError> {
        let purpose = declared(ReadPurpose::LedgerMetadata, asked)?;
        let g = self.authorise(
            who,
            purpose,
            Scope::All,
            subject.map(str::to_owned),
            Action::Read,
            match subject {
                Some(s) => format!("audit ledger entries about employee {s}"),
                None => "audit ledger".to_owned(),
            },
        )?;
        let entries = self.store.audit_entries_for(&g.cap, subject, LEDGER_PAGE)?;
        g.finish(entries)
    }

    /// The ledger entries about the acting employee: who looked at my data, when, and why.
    pub fn own_ledger(
        &self,
        who: &Who,
        asked: Option<ReadPurpose>,
    ) -> Result<Vec<ledger::StoredEntry>, ReadError> {
        let purpose = declared(ReadPurpose::LedgerMetadata, asked)?;
        let g = self.authorise(
            who,
            purpose,
            Scope::Own,
            None,
            Action::Read,
            "own audit ledger entries".to_owned(),
        )?;
        let entries = self.store.audit_entries_for(&g.cap, None, LEDGER_PAGE)?;
        g.finish(entries)
    }

    /// The compliance register: the measures (kontrolltiltak), their assessments and duty
    /// records, and each one's gate today.
    pub fn register(
        &self,
        who: &Who,
        asked: Option<ReadPurpose>,
    ) -> Result<register::Register, ReadError> {
        let purpose = declared(ReadPurpose::Register, asked)?;
        let g = self.authorise(
            who,
            purpose,
            Scope::All,
            None,
            Action::Read,
            "compliance register".to_owned(),
        )?;
        let (_, reg) = self.store.register().load_register()?;
        g.finish(reg)
    }

    /// Everything held about the acting employee (GDPR art. 15): this year's trips, the
    /// privacy switches and alarm windows of the vehicles assigned to them, and who looked.
    pub fn my_data(
        &self,
        who: &Who,
        asked: Option<ReadPurpose>,
        action: Action,
    ) -> Result<MyData, ReadError> {
        let purpose = declared(ReadPurpose::OwnData, asked)?;
        let g = self.authorise(
            who,
            purpose,
            Scope::Own,
            None,
            action,
            match action {
                Action::Export => "own data export (zip)".to_owned(),
                _ => "own data".to_owned(),
            },
        )?;
        self.data_of(who, g)
    }

    /// The same report about one employee, produced by the privacy officer to answer that
    /// employee's access request (`reference` names the request). The employee finds it in
    /// their own access log.
    pub fn access_report(
        &self,
        who: &Who,
        asked: Option<ReadPurpose>,
        employee: &str,
        reference: &str,
        action: Action,
    ) -> Result<MyData, ReadError> {
        let reference = reference.trim();
        if reference.is_empty() {
            return Err(ReadError::Invalid(
                "name the access request with ?reference= (e.g. its case number)".to_owned(),
            ));
        }
        if !self
            .store
            .load_org()?
            .employees
            .iter()
            .any(|e| e.number == employee)
        {
            return Err(ReadError::NotFound(format!(
                "no employee {employee} in the organisation"
            )));
        }
        let purpose = declared(ReadPurpose::OwnData, asked)?;
        let g = self.authorise(
            who,
            purpose,
            Scope::AccessRequest {
                employee: employee.to_owned(),
                reference: reference.to_owned(),
            },
            None,
            action,
            format!("access report for employee {employee} (request {reference})"),
        )?;
        self.data_of(who, g)
    }

    fn data_of(&self, who: &Who, g: Granted) -> Result<MyData, ReadError> {
        let cap = &g.cap;
        let number = cap.subject().unwrap_or_default().to_owned();
        let org = self.store.load_org()?;
        let today = today();
        let year = today.year();
        let (from, to) = report::period(&year.to_string()).map_err(ReadError::Invalid)?;
        let assignments: Vec<org::Assignment> = org
            .assignments
            .iter()
            .filter(|a| a.employee == number)
            .cloned()
            .collect();
        let mut privacy_switches = Vec::new();
        let mut seen = Vec::new();
        for a in &assignments {
            if seen.contains(&a.vehicle) {
                continue;
            }
            seen.push(a.vehicle.clone());
            if let Some(id) = self.store.vehicle_id(&a.vehicle)? {
                for (at, on, source) in self.store.privacy_switches(cap, id)? {
                    privacy_switches.push((a.vehicle.to_string(), at, on, source));
                }
            }
        }
        let alarm_windows = self.store.alarm_windows(cap)?;
        let data = MyData {
            employee: org.employees.iter().find(|e| e.number == number).cloned(),
            assignments,
            user: who.user.name.clone(),
            roles: who
                .user
                .roles
                .iter()
                .map(|r| r.as_str().to_owned())
                .collect(),
            request: match cap.scope() {
                Scope::AccessRequest { reference, .. } => Some(reference.clone()),
                _ => None,
            },
            year,
            trips: self.store.own_driving_log(cap, from, to)?,
            privacy_switches,
            alarm_positions: alarm_windows
                .iter()
                .map(|w| Ok((w.id, self.store.alarm_positions(cap, w.id)?)))
                .collect::<Result<_, StoreError>>()?,
            alarm_windows,
            ledger: self.store.audit_entries_for(cap, None, LEDGER_PAGE)?,
        };
        g.finish(data)
    }

    fn vehicle_names(&self) -> Result<impl Fn(VehicleId) -> String, ReadError> {
        let org = self.store.load_org()?;
        let mut names = Vec::new();
        for v in &org.vehicles {
            if let Some(id) = self.store.vehicle_id(&v.reg)? {
                names.push((id, v.reg.to_string()));
            }
        }
        Ok(move |id: VehicleId| {
            names
                .iter()
                .find(|(v, _)| *v == id)
                .map(|(_, r)| r.clone())
                .unwrap_or_default()
        })
    }
}

fn today() -> time::Date {
    trips::oslo_date(now())
}

fn storage_record(r: access::AuditRecord) -> storage::AuditRecord {
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

/// Whether `employee` was assigned `reg` on some day of the period.
pub(crate) fn drove(
    org: &org::Org,
    employee: &str,
    reg: &RegNo,
    from: time::Date,
    to: time::Date,
) -> bool {
    org.assignments.iter().any(|a| {
        a.employee == employee && &a.vehicle == reg && a.from <= to && a.to.is_none_or(|t| from < t)
    })
}

/// The drivers of an alarm window's vehicle while it was open (to its resolution, or today).
fn window_drivers(org: &org::Org, reg: &str, w: &storage::AlarmWindow) -> Option<String> {
    let reg = RegNo::parse(reg).ok()?;
    let from = trips::oslo_date(w.opened_at);
    let to = trips::oslo_date(w.resolved_at.unwrap_or_else(now));
    drivers_of(org, &reg, from, to.max(from))
}

/// The employees who drove `reg` (by assignment) in the period, as employee numbers.
/// The driver an alarm window concerns, as the security operator sees them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlarmDriver {
    pub number: String,
    pub name: String,
    pub phone: Option<String>,
}

pub fn drivers_of(org: &org::Org, reg: &RegNo, from: time::Date, to: time::Date) -> Option<String> {
    let mut numbers: Vec<&str> = org
        .assignments
        .iter()
        .filter(|a| &a.vehicle == reg && a.from <= to && a.to.is_none_or(|t| from < t))
        .map(|a| a.employee.as_str())
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    (!numbers.is_empty()).then(|| numbers.join(","))
}
