//! The one door for changes of personal data, beside [`crate::reads`], the door for reads:
//! classifying a trip, a month's review (submit, approve, return), privacy mode, opening and
//! resolving alarm windows, acknowledging an information notice. The web pages, the JSON API
//! and the command line only call this door, so each promise is kept in one place:
//!
//! 1. the access policy decides for the role and purpose (a refusal is on the ledger);
//! 2. the facts are loaded and the sans-IO rule (`domain::changes`) is asked; its refusal
//!    is on the ledger as `refused: <reason>`;
//! 3. the change and its ledger entry (`ok`) commit in one transaction
//!    (`Store::apply_change`); a change the store could not make is on the ledger as
//!    `refused` (the database's own guard, e.g. a month approved meanwhile) or `failed`.
//!
//! The entry's subject is the employee whose data the change touches (a trip's driver, the
//! drivers of a vehicle in the month or on the day), never the actor merely because they act.
//!
//! Architecture Invariant: no door changes personal data except through here; the store has
//! no other method that changes a trip, a month's review, a privacy switch or an alarm window.

use access::{Capability, ReadPurpose, Role, Scope};
use domain::changes::{self as rules, Month, Refusal, RefusalKind, StepKind};
use domain::drivinglog::Classification;
use domain::{RegNo, Timestamp, VehicleId};
use ledger::Action;
use storage::{Applied, AuditRecord, Change, StoreError};

use crate::ingest::now;
use crate::reads::{ReadError, Reads, Who, drivers_of};

/// The changes door. Cheap to clone; made by [`Reads::changes`].
#[derive(Clone)]
pub struct Changes {
    reads: Reads,
}

impl Reads {
    /// The door for changes, on the same store and ledger as the reads.
    pub fn changes(&self) -> Changes {
        Changes {
            reads: self.clone(),
        }
    }
}

/// An attempt the policy allowed: its capability and the ledger entry still to be written
/// with what actually happens.
struct Attempt {
    cap: Capability,
    record: AuditRecord,
}

fn today() -> time::Date {
    trips::oslo_date(now())
}

fn refusal(kind: RefusalKind, nb: String, en: String) -> Refusal {
    Refusal { kind, nb, en }
}

impl Changes {
    fn store(&self) -> &dyn storage::Store {
        self.reads.store().as_ref()
    }

    /// Step 1: the policy. A refusal is recorded (with `subject`) and returned.
    fn attempt(
        &self,
        who: &Who,
        purpose: ReadPurpose,
        scope: Scope,
        subject: Option<String>,
        object: String,
    ) -> Result<Attempt, ReadError> {
        let (cap, mut record) = self.reads.decide(who, purpose, scope, subject, object)?;
        record.action = Action::Change;
        Ok(Attempt { cap, record })
    }

    /// Step 2's "no": recorded as refused, with the reason.
    fn refuse(&self, a: Attempt, r: Refusal) -> ReadError {
        let mut record = a.record;
        record.outcome = format!("refused: {}", r.en);
        if let Err(e) = self.reads.audit().append(record) {
            return ReadError::Audit(e);
        }
        ReadError::Refused(r)
    }

    /// Step 3: the change and its `ok` entry together; what the store refused or failed at is
    /// recorded as such.
    fn commit(&self, a: Attempt, change: Change) -> Result<Applied, ReadError> {
        let mut record = a.record;
        record.outcome = "ok".to_owned();
        match self.store().apply_change(&change, record.clone()) {
            Ok(applied) => Ok(applied),
            Err(StoreError::Refused(why)) => {
                record.outcome = format!("refused: {why}");
                self.reads.audit().append(record)?;
                Err(ReadError::Refused(refusal(
                    RefusalKind::Conflict,
                    why.clone(),
                    why,
                )))
            }
            Err(e) => {
                record.outcome = format!("failed: {e}");
                if let Err(ledger) = self.reads.audit().append(record) {
                    tracing::error!(error = %ledger, "a failed change could not be recorded either");
                }
                Err(ReadError::Store(e))
            }
        }
    }

    fn vehicle(&self, reg: &str) -> Result<(RegNo, VehicleId), ReadError> {
        let reg = RegNo::parse(reg).map_err(|e| ReadError::Invalid(e.to_string()))?;
        let id = self
            .store()
            .vehicle_id(&reg)?
            .ok_or_else(|| ReadError::NotFound(format!("no vehicle {reg} in the organisation")))?;
        Ok((reg, id))
    }

    /// The registration number of a vehicle id (organisation data).
    fn reg_of(&self, org: &org::Org, id: VehicleId) -> Result<Option<RegNo>, ReadError> {
        for v in &org.vehicles {
            if self.store().vehicle_id(&v.reg)? == Some(id) {
                return Ok(Some(v.reg.clone()));
            }
        }
        Ok(None)
    }

    /// The acting employee classifies one of their own trips. Private erases the trip to its
    /// date and km, irreversibly.
    pub fn classify(&self, who: &Who, trip: i64, class: &Classification) -> Result<(), ReadError> {
        let a = self.attempt(
            who,
            ReadPurpose::DrivingLog,
            Scope::Own,
            None,
            format!("classify trip {trip} as {}", class.as_str()),
        )?;
        let employee = a.cap.subject().unwrap_or_default().to_owned();
        let Some((vehicle, facts)) = self.store().trip_facts(&a.cap, trip)? else {
            let r = refusal(
                RefusalKind::NotFound,
                format!("det finnes ingen tur {trip} i kjøreboken"),
                format!("there is no trip {trip} in the driving log"),
            );
            return Err(self.refuse(a, r));
        };
        let org = self.store().load_org()?;
        let reg = self.reg_of(&org, vehicle)?;
        let assigned = reg
            .as_ref()
            .is_some_and(|r| crate::reads::drove(&org, &employee, r, facts.date, facts.date));
        // Whose trip it is: its recorded driver, else whoever was assigned the vehicle that day.
        let mut a = a;
        a.record.subject = facts.driver.clone().or_else(|| {
            reg.as_ref()
                .and_then(|r| drivers_of(&org, r, facts.date, facts.date))
        });
        let steps = self
            .store()
            .month_review(vehicle, &Month::of(facts.date).to_string())?;
        if let Err(r) = rules::may_classify(&employee, &facts, assigned, class, &steps) {
            return Err(self.refuse(a, r));
        }
        self.commit(
            a,
            Change::Classify {
                trip,
                class: class.clone(),
            },
        )?;
        Ok(())
    }

    /// Records the right driver of a trip, with the reason: the log keeper for any trip, an
    /// employee for a trip attributed to them wrongly. A supplement: the recorded driver,
    /// distance, date and time stay as they are, and the correction is shown beside them.
    pub fn correct_driver(
        &self,
        who: &Who,
        trip: i64,
        driver: &str,
        reason: &str,
    ) -> Result<(), ReadError> {
        let driver = driver.trim();
        let keeper = who.role != Role::Employee;
        let a = self.attempt(
            who,
            ReadPurpose::DrivingLog,
            if keeper { Scope::All } else { Scope::Own },
            None,
            format!("correct the driver of trip {trip} to employee {driver}"),
        )?;
        let Some((vehicle, facts)) = self.store().trip_facts(&a.cap, trip)? else {
            let r = refusal(
                RefusalKind::NotFound,
                format!("det finnes ingen tur {trip} i kjøreboken"),
                format!("there is no trip {trip} in the driving log"),
            );
            return Err(self.refuse(a, r));
        };
        let org = self.store().load_org()?;
        // Whose data: the driver it was attributed to and the one it is corrected to.
        let mut a = a;
        let mut subject: Vec<String> = facts.driver.iter().cloned().collect();
        if !subject.iter().any(|s| s == driver) && !driver.is_empty() {
            subject.push(driver.to_owned());
        }
        a.record.subject = (!subject.is_empty()).then(|| subject.join(","));
        if !driver.is_empty() && !org.employees.iter().any(|e| e.number == driver) {
            let r = refusal(
                RefusalKind::Invalid,
                format!("det finnes ingen ansatt {driver} i organisasjonen"),
                format!("there is no employee {driver} in the organisation"),
            );
            return Err(self.refuse(a, r));
        }
        let steps = self
            .store()
            .month_review(vehicle, &Month::of(facts.date).to_string())?;
        let verdict =
            rules::may_correct_driver(&facts, keeper, a.cap.subject(), driver, reason, &steps);
        if let Err(r) = verdict {
            return Err(self.refuse(a, r));
        }
        self.commit(
            a,
            Change::CorrectDriver {
                trip,
                driver: driver.to_owned(),
                reason: reason.trim().to_owned(),
            },
        )?;
        Ok(())
    }

    /// Signs a month of a vehicle's driving log: the driver (employee role) submits it, the
    /// log keeper approves it, which makes it final.
    pub fn sign_month(&self, who: &Who, reg: &str, month: &str) -> Result<(), ReadError> {
        match who.role {
            Role::Employee => self.review(who, reg, month, StepKind::Submitted, None),
            _ => self.review(who, reg, month, StepKind::Approved, None),
        }
    }

    /// The log keeper returns a submitted month to its driver, with a comment saying why.
    pub fn return_month(
        &self,
        who: &Who,
        reg: &str,
        month: &str,
        comment: &str,
    ) -> Result<(), ReadError> {
        self.review(who, reg, month, StepKind::Returned, Some(comment))
    }

    fn review(
        &self,
        who: &Who,
        reg: &str,
        month_text: &str,
        step: StepKind,
        comment: Option<&str>,
    ) -> Result<(), ReadError> {
        let month = Month::parse(month_text).map_err(|r| ReadError::Invalid(r.en))?;
        let (reg, id) = self.vehicle(reg)?;
        let org = self.store().load_org()?;
        let (from, to) = (month.first_day(), month.last_day());
        // The driver acts on their own trips, the keeper on the vehicle's log.
        let scope = match who.role {
            Role::Employee => Scope::Own,
            _ => Scope::Vehicle(reg.to_string()),
        };
        let what = match step {
            StepKind::Submitted => "submit (driver's signature)",
            StepKind::Approved => "approve (log keeper's signature)",
            StepKind::Returned => "return to the driver",
        };
        let a = self.attempt(
            who,
            ReadPurpose::DrivingLog,
            scope,
            drivers_of(&org, &reg, from, to),
            format!("driving log {reg} {month}: {what}"),
        )?;
        let entries = self.store().driving_log(&a.cap, id, from, to)?;
        let steps = self.store().month_review(id, &month.to_string())?;
        let verdict = match step {
            StepKind::Submitted => {
                let driver = a
                    .cap
                    .subject()
                    .is_some_and(|e| crate::reads::drove(&org, e, &reg, from, to));
                rules::may_submit(month, today(), driver, &entries, &steps)
            }
            StepKind::Approved => rules::may_approve(month, today(), &entries, &steps),
            StepKind::Returned if who.role == Role::Employee => Err(refusal(
                RefusalKind::Conflict,
                "bare kjørebokføreren sender en måned tilbake; sjåføren signerer den".to_owned(),
                "only the log keeper returns a month; its driver signs it".to_owned(),
            )),
            StepKind::Returned => rules::may_return(month, comment.unwrap_or_default(), &steps),
        };
        if let Err(r) = verdict {
            return Err(self.refuse(a, r));
        }
        self.commit(
            a,
            Change::MonthStep {
                vehicle: id,
                month: month.to_string(),
                step,
                comment: comment.map(|c| c.trim().to_owned()),
            },
        )?;
        Ok(())
    }

    /// The acting employee switches privacy mode for the vehicle assigned to them today (or
    /// `reg`, when given, if it is assigned to them today). Returns the vehicle.
    pub fn switch_privacy(
        &self,
        who: &Who,
        reg: Option<&str>,
        on: bool,
        source: &str,
    ) -> Result<String, ReadError> {
        let org = self.store().load_org()?;
        let day = today();
        let asked = match reg {
            Some(r) => Some(self.vehicle(r)?.0),
            None => None,
        };
        let employee = who.user.employee.clone().unwrap_or_default();
        let assigned: Vec<RegNo> = org
            .assignments
            .iter()
            .filter(|a| {
                a.employee == employee && crate::reads::drove(&org, &employee, &a.vehicle, day, day)
            })
            .map(|a| a.vehicle.clone())
            .collect();
        let target = asked.clone().or_else(|| assigned.first().cloned());
        let a = self.attempt(
            who,
            ReadPurpose::OwnData,
            Scope::Own,
            None,
            format!(
                "privacy mode {} for {}",
                if on { "on" } else { "off" },
                target
                    .as_ref()
                    .map_or("no vehicle".to_owned(), ToString::to_string)
            ),
        )?;
        // Whose tracking it switches: the drivers of that vehicle today.
        let mut a = a;
        a.record.subject = target.as_ref().and_then(|r| drivers_of(&org, r, day, day));
        let chosen = match rules::privacy_vehicle(&assigned, asked.as_ref()) {
            Ok(r) => r.clone(),
            Err(r) => return Err(self.refuse(a, r)),
        };
        let (_, id) = self.vehicle(chosen.as_str())?;
        self.commit(
            a,
            Change::Privacy {
                vehicle: id,
                private: on,
                source: source.to_owned(),
            },
        )?;
        Ok(chosen.to_string())
    }

    /// Opens an alarm window by hand (a reported theft); returns its id.
    pub fn open_alarm(
        &self,
        who: &Who,
        reg: &str,
        reason: &str,
        reference: Option<&str>,
    ) -> Result<i64, ReadError> {
        let (reg, id) = self.vehicle(reg)?;
        let org = self.store().load_org()?;
        let day = today();
        let reason = reason.trim();
        let a = self.attempt(
            who,
            ReadPurpose::Alarm,
            Scope::All,
            drivers_of(&org, &reg, day, day),
            format!("open alarm window for {reg}"),
        )?;
        if reason.is_empty() {
            let r = refusal(
                RefusalKind::Invalid,
                "skriv hvorfor alarmvinduet åpnes (for eksempel «tyveri»)".to_owned(),
                "write why the alarm window is opened (e.g. \"theft\")".to_owned(),
            );
            return Err(self.refuse(a, r));
        }
        let reference = reference.map(str::trim).filter(|r| !r.is_empty());
        if reference.is_some_and(|r| r.chars().count() > 100) {
            let r = refusal(
                RefusalKind::Invalid,
                "politianmeldelsens referanse er på høyst 100 tegn".to_owned(),
                "the police report's reference is at most 100 characters".to_owned(),
            );
            return Err(self.refuse(a, r));
        }
        match self.commit(
            a,
            Change::OpenAlarm {
                vehicle: id,
                report: storage::AlarmReport {
                    trigger: reason.to_owned(),
                    reference: reference.map(str::to_owned),
                    by: who.user.name.clone(),
                },
            },
        )? {
            Applied::AlarmWindow(w) => Ok(w),
            Applied::Done => Err(ReadError::Store(StoreError::Corrupt(
                "opening an alarm window gave no window".to_owned(),
            ))),
        }
    }

    /// Resolves an alarm window (security operator) with a note saying how it ended, kept with
    /// the window (the ledger holds no free text); `incident` keeps it longer.
    pub fn resolve_alarm(
        &self,
        who: &Who,
        window: i64,
        incident: bool,
        note: &str,
    ) -> Result<(), ReadError> {
        let a = self.attempt(
            who,
            ReadPurpose::Alarm,
            Scope::All,
            None,
            format!(
                "resolve alarm window {window}{}",
                if incident { " as an incident" } else { "" }
            ),
        )?;
        let found = self
            .store()
            .alarm_windows(&a.cap)?
            .into_iter()
            .find(|w| w.id == window);
        let mut a = a;
        if let Some(w) = &found {
            let org = self.store().load_org()?;
            let day = trips::oslo_date(w.opened_at);
            a.record.subject = self
                .reg_of(&org, w.vehicle)?
                .and_then(|r| drivers_of(&org, &r, day, trips::oslo_date(now())));
        }
        let facts = found.map(|w| rules::AlarmFacts {
            resolved: w.resolved_at.is_some(),
            incident: w.incident,
        });
        if let Err(r) = rules::may_resolve(window, facts, incident) {
            return Err(self.refuse(a, r));
        }
        let note = note.trim();
        if note.is_empty() || note.chars().count() > 2000 {
            let r = refusal(
                RefusalKind::Invalid,
                "skriv en merknad (høyst 2000 tegn) om hvordan alarmen endte før du lukker den"
                    .to_owned(),
                "write a note (at most 2000 characters) saying how the alarm ended before resolving it"
                    .to_owned(),
            );
            return Err(self.refuse(a, r));
        }
        self.commit(
            a,
            Change::ResolveAlarm {
                window,
                incident,
                note: note.to_owned(),
            },
        )?;
        Ok(())
    }

    /// The employee acknowledges having read a published information notice
    /// (arbeidsmiljøloven § 9-2 (2)): recorded in the register with its ledger entry, in one
    /// transaction. Acknowledging twice changes nothing.
    pub fn acknowledge(&self, who: &Who, measure: &str, at: Timestamp) -> Result<(), ReadError> {
        let a = self.attempt(
            who,
            ReadPurpose::OwnData,
            Scope::Own,
            None,
            format!("acknowledge information notice {measure}"),
        )?;
        let employee = a.cap.subject().unwrap_or_default().to_owned();
        let store = self.store().register();
        let (version, mut reg) = store.load_register()?;
        let day = trips::oslo_date(at);
        let Some(entry) = reg
            .entry_mut(measure)
            .filter(|e| e.duties.published_information(day).is_some())
        else {
            let r = refusal(
                RefusalKind::NotFound,
                format!("det finnes ikke noe publisert informasjonsskriv for {measure}"),
                format!("there is no published information notice for {measure}"),
            );
            return Err(self.refuse(a, r));
        };
        if entry
            .duties
            .acknowledgements
            .iter()
            .any(|k| k.employee == employee)
        {
            return Ok(());
        }
        entry
            .duties
            .acknowledgements
            .push(register::Acknowledgement {
                employee: employee.clone(),
                on: day,
            });
        let mut record = a.record;
        record.outcome = "ok".to_owned();
        match store.save_register(&reg, version, vec![record.clone()]) {
            Ok(_) => Ok(()),
            Err(e) => {
                record.outcome = match &e {
                    StoreError::Refused(why) => format!("refused: {why}"),
                    other => format!("failed: {other}"),
                };
                self.reads.audit().append(record)?;
                Err(ReadError::Store(e))
            }
        }
    }
}
