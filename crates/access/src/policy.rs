//! The role × purpose policy: one table, each cell with its legal reason, and the only door to
//! a [`Capability`].

use std::fmt;

use ledger::{Action, Entry};

use crate::role::{ReadPurpose, Role, Scope, User};

/// Why a cell says what it says: the source, and the reason in plain bokmål and English.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reason {
    /// Where the rule comes from (law, decision, seed passage).
    pub citation: &'static str,
    /// Plain bokmål.
    pub nb: &'static str,
    /// Plain English.
    pub en: &'static str,
}

/// What an allowed reader gets to see. Queries must render data through this restriction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum View {
    /// Where the vehicles are now: live positions only, no history.
    FleetLive,
    /// The driving log as its keeper sees it: business trips in full, private trips as date
    /// and km only, unclassified trips as km only until the driver has classified them.
    DrivingLogKeeper,
    /// Positions inside alarm windows only.
    AlarmWindow,
    /// Anonymous aggregates over a group, never one person.
    Aggregate,
    /// Everything about the employee themselves, within the purpose.
    OwnFull,
    /// The compliance register: measures, assessments, duties. No tracking data.
    RegisterEntries,
    /// Ledger metadata: who, when, role, purpose, object, outcome. No tracking data.
    LedgerMetadata,
}

/// Which scopes an allowed cell accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeRule {
    /// Only [`Scope::Own`]: the user's own employee data.
    OwnOnly,
    /// [`Scope::Vehicle`] or [`Scope::All`], never "own" (that is the employee role's door).
    VehicleOrAll,
    /// Only [`Scope::AccessRequest`]: one employee's data, to answer their request.
    AccessRequestOnly,
}

impl ScopeRule {
    pub fn accepts(self, scope: &Scope) -> bool {
        match self {
            ScopeRule::OwnOnly => matches!(scope, Scope::Own),
            ScopeRule::VehicleOrAll => matches!(scope, Scope::Vehicle(_) | Scope::All),
            ScopeRule::AccessRequestOnly => matches!(scope, Scope::AccessRequest { .. }),
        }
    }
}

/// What one cell decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    Allowed {
        view: View,
        scope: ScopeRule,
    },
    /// Not this role's purpose (access control per purpose).
    Denied,
    /// A use the seeds declare incompatible with the purpose the data was collected for.
    Incompatible,
}

/// One cell of the table: a role, a purpose, the rule and its reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cell {
    pub role: Role,
    pub purpose: ReadPurpose,
    pub rule: Rule,
    pub reason: &'static Reason,
}

// ---------------------------------------------------------------------------------------------
// The reasons, citing the law and Datatilsynet's two guidance documents by their titles: on
// monitoring employees' electronic equipment (e-postforskriften; seed 000) and on tracking in
// company vehicles (2016; seed 001, whose body numbers Flåtestyring 2.2.3, Rasjonalisering 2.2.4
// and Øvrige formål 2.2.5 while its contents page says 2.2.4–2.2.6: we cite the body).
// ---------------------------------------------------------------------------------------------

const FLEET: Reason = Reason {
    citation: "Datatilsynet, Retningslinjer for bruk av sporingsteknologi i virksomheters kjøretøy (2016), pkt. 2.2.3 «Flåtestyring»; GDPR art. 6(1)(f) og 5(1)(c)",
    nb: "Flåtestyring gir oversikt over hvor bilene er nå. Den eneste relevante opplysningen er posisjon i sanntid, og den trenger ikke lagres.",
    en: "Fleet management shows where the vehicles are now. The only relevant data is the live position, which need not be stored.",
};

const DRIVING_LOG_KEEPER: Reason = Reason {
    citation: "Datatilsynet, Retningslinjer for bruk av sporingsteknologi i virksomheters kjøretøy (2016), pkt. 2.2.3 «Elektronisk kjørebok»; GDPR art. 5(1)(b) og (c)",
    nb: "Kjøreboken dokumenterer yrkeskjøring overfor skattemyndighetene. Private turer vises bare som dato og km, uklassifiserte turer bare som km til de er klassifisert; annet er overskuddsinformasjon.",
    en: "The driving log documents business driving to the tax authorities. Private trips show as date and km only, unclassified trips as km only until classified; anything more is surplus data.",
};

const ALARM: Reason = Reason {
    citation: "Datatilsynet, Retningslinjer for bruk av sporingsteknologi i virksomheters kjøretøy (2016), pkt. 2.2.5 «Sikkerhetshensyn»; GDPR art. 6(1)(d) og (f), art. 5(1)(c)",
    nb: "Sikkerhetsformålet er å hjelpe den ansatte når en alarm går. Posisjoner vises bare innenfor alarmvinduet.",
    en: "The safety purpose is to help the employee when an alarm goes off. Positions are shown only inside the alarm window.",
};

const AGGREGATE: Reason = Reason {
    citation: "Datatilsynet, Retningslinjer for bruk av sporingsteknologi i virksomheters kjøretøy (2016), pkt. 2.2.4 «Rasjonalisering» (lagring for omorganisering: anonymt); GDPR fortale 26",
    nb: "Vurdering av bilparken trenger bare anonyme tall over en gruppe kjøretøy, aldri opplysninger om enkeltpersoner.",
    en: "Assessing the fleet needs only anonymous figures over a group of vehicles, never data about one person.",
};

const OWN: Reason = Reason {
    citation: "GDPR art. 15 (innsyn og kopi, art. 15 nr. 3)",
    nb: "Den ansatte har rett til innsyn i og kopi av alle opplysninger om seg selv, men bare om seg selv.",
    en: "Employees have the right to see and copy all data about themselves, and only about themselves.",
};

const OWN_LEDGER: Reason = Reason {
    citation: "GDPR art. 15(1)(c); Datatilsynet, Overvåking av ansattes bruk av elektronisk utstyr, «Spamfilter» (logg innsyn slik at snoking kan avdekkes)",
    nb: "Den ansatte kan se hvem som har sett opplysningene om dem, når og til hvilket formål.",
    en: "Employees can see who accessed their data, when and for which purpose.",
};

const EMPLOYEE_REGISTER: Reason = Reason {
    citation: "Arbeidsmiljøloven § 9-2 (informasjon om kontrolltiltak); GDPR art. 13",
    nb: "De ansatte skal informeres om kontrolltiltakene, formålet og varigheten; registeret inneholder ingen sporingsdata.",
    en: "Employees must be told about control measures, their purpose and duration; the register holds no tracking data.",
};

const OVERSIGHT_REGISTER: Reason = Reason {
    citation: "GDPR art. 38 og 39 (personvernombud); arbeidsmiljøloven § 9-2 (drøfting med tillitsvalgte)",
    nb: "Personvernombud og tillitsvalgte skal kunne kontrollere tiltakene og vurderingene bak dem.",
    en: "The privacy officer and the employees' representatives must be able to check the measures and their assessments.",
};

const OVERSIGHT_LEDGER: Reason = Reason {
    citation: "Datatilsynet, Overvåking av ansattes bruk av elektronisk utstyr, «Spamfilter» (logg administratorenes innsyn slik at virksomheten kan avdekke snoking); GDPR art. 5(2) og 39(1)(b)",
    nb: "Tilgangsloggens metadata (hvem, når, rolle, formål) lar tilsynsrollene avdekke snoking uten å se selve sporingsdataene.",
    en: "The access log's metadata (who, when, role, purpose) lets the oversight roles find snooping without seeing the tracking data itself.",
};

const OVERSIGHT_NO_TRACKING: Reason = Reason {
    citation: "Datatilsynet, Retningslinjer for bruk av sporingsteknologi i virksomheters kjøretøy (2016), pkt. 5.3 «Tilgangsstyring»; GDPR art. 5(1)(c) og 32",
    nb: "Tilsynsrollene kontrollerer behandlingen, ikke de ansatte: de har ingen tilgang til sporingsdata.",
    en: "The oversight roles check the processing, not the employees: they have no access to tracking data.",
};

const ACCESS_REQUEST: Reason = Reason {
    citation: "GDPR art. 12(3) og 15; art. 38(4) og 39 (personvernombudet er kontaktpunkt for de registrerte)",
    nb: "Personvernombudet kan hente ut alt som er lagret om én ansatt for å besvare den ansattes innsynsbegjæring. Uttaket registreres med begjæringens referanse og vises i den ansattes egen tilgangslogg.",
    en: "The privacy officer may produce everything held about one employee to answer that employee's access request. The extract is recorded with the request's reference and shows in the employee's own access log.",
};

const ADMIN_NO_DATA: Reason = Reason {
    citation: "GDPR art. 25(2) og 32; Datatilsynet, Overvåking av ansattes bruk av elektronisk utstyr, «Spamfilter» (begrens tilgangen til så få administratorer som mulig); Datatilsynet, Retningslinjer for bruk av sporingsteknologi i virksomheters kjøretøy (2016), pkt. 5.3 «Tilgangsstyring»",
    nb: "Administratorer konfigurerer systemet og leser ingen personopplysninger.",
    en: "Administrators configure the system and read no personal data.",
};

const PER_PURPOSE: Reason = Reason {
    citation: "Datatilsynet, Retningslinjer for bruk av sporingsteknologi i virksomheters kjøretøy (2016), pkt. 5.3 «Tilgangsstyring» (tilgang vurderes per formål; ingen skal ha tilgang til flere opplysninger enn nødvendig); GDPR art. 5(1)(b) og (c)",
    nb: "Tilgang styres per formål. Denne rollen trenger ikke disse opplysningene for å gjøre jobben sin.",
    en: "Access is granted per purpose. This role does not need this data to do its job.",
};

const OWN_ONLY_EMPLOYEE: Reason = Reason {
    citation: "GDPR art. 15; Datatilsynet, Retningslinjer for bruk av sporingsteknologi i virksomheters kjøretøy (2016), pkt. 5.3 «Tilgangsstyring»",
    nb: "Innsynsretten gjelder egne opplysninger. Opplysninger om andre leses bare gjennom en rolle som har formålet.",
    en: "The right of access covers one's own data. Data about others is read only through a role that has the purpose.",
};

const DRIVER_BEHAVIOUR: Reason = Reason {
    citation: "Datatilsynet, Retningslinjer for bruk av sporingsteknologi i virksomheters kjøretøy (2016), pkt. 2.2.5 «Registrering av detaljopplysninger»; GDPR art. 6(1)(f) og 35",
    nb: "Detaljerte sensordata om kjøremåte krever eget behandlingsgrunnlag og en personvernkonsekvensvurdering (DPIA). Ingen rolle leser dem om andre før vurderingen sier hvem; denne cellen endres sammen med DPIA-en.",
    en: "Detailed sensor data about driving needs its own legal basis and a DPIA. No role reads it about others until the assessment says who; change this cell together with the DPIA.",
};

const TIMESHEET: Reason = Reason {
    citation: "Personvernnemnda PVN-2011-04 (Avfallsservice) og PVN-2016-06 (Vaktmester Andersen); Datatilsynet, Retningslinjer for bruk av sporingsteknologi i virksomheters kjøretøy (2016), pkt. 2.2.3 «Formål»; GDPR art. 5(1)(b) og 6(4)",
    nb: "Å bruke data fra sporingsenheten, samlet inn for å dokumentere yrkeskjøring, til å kontrollere timelister eller arbeidstid er uforenlig med det opprinnelige formålet.",
    en: "Using tracking data, collected to document business driving, to check timesheets or working hours is incompatible with the purpose it was collected for.",
};

const PERFORMANCE_SECURITY: Reason = Reason {
    citation: "Datatilsynet, Overvåking av ansattes bruk av elektronisk utstyr, «Unntak fra forbudet» (opplysninger samlet inn for sikkerhetsformål kan ikke brukes til å undersøke om arbeidstakeren har oppfylt pliktene sine etter arbeidsavtalen); GDPR art. 5(1)(b)",
    nb: "Data samlet inn for sikkerhet kan ikke brukes til å kontrollere arbeidsinnsats eller om den ansatte har oppfylt pliktene sine.",
    en: "Data collected for security may not be used to check work performance or whether the employee has fulfilled their duties.",
};

const PERFORMANCE: Reason = Reason {
    citation: "GDPR art. 5(1)(b) og 6(4); Datatilsynet, Retningslinjer for bruk av sporingsteknologi i virksomheters kjøretøy (2016), pkt. 2.2.3 «Formål» (gjenbruk til uforenlige formål); Datatilsynet, Overvåking av ansattes bruk av elektronisk utstyr, «Unntak fra forbudet»; arbeidsmiljøloven § 9-1",
    nb: "Sporingsdata er samlet inn for kjørebok, flåtestyring, sikkerhet eller statistikk, ikke for å vurdere den ansattes arbeidsinnsats. Slik gjenbruk er uforenlig med formålet.",
    en: "Tracking data is collected for the driving log, fleet management, safety or statistics, not to assess an employee's performance. Such reuse is incompatible with the purpose.",
};

const ROLE_NOT_HELD: Reason = Reason {
    citation: "Datatilsynet, Retningslinjer for bruk av sporingsteknologi i virksomheters kjøretøy (2016), pkt. 5.3 «Tilgangsstyring»; GDPR art. 32",
    nb: "Brukeren har ikke denne rollen og kan ikke handle i den.",
    en: "The user does not hold this role and cannot act in it.",
};

const NO_EMPLOYEE_RECORD: Reason = Reason {
    citation: "GDPR art. 15",
    nb: "Brukeren er ikke knyttet til en ansattpost, så det finnes ingen egne opplysninger å lese.",
    en: "The user is not linked to an employee record, so there is no own data to read.",
};

// Short constructors so the table reads as one line per cell.
const fn allow(
    role: Role,
    purpose: ReadPurpose,
    view: View,
    scope: ScopeRule,
    reason: &'static Reason,
) -> Cell {
    Cell {
        role,
        purpose,
        rule: Rule::Allowed { view, scope },
        reason,
    }
}

const fn deny(role: Role, purpose: ReadPurpose, reason: &'static Reason) -> Cell {
    Cell {
        role,
        purpose,
        rule: Rule::Denied,
        reason,
    }
}

const fn incompatible(role: Role, purpose: ReadPurpose, reason: &'static Reason) -> Cell {
    Cell {
        role,
        purpose,
        rule: Rule::Incompatible,
        reason,
    }
}

use ReadPurpose::{
    Alarm, DriverBehaviour, DrivingLog, FleetView, LedgerMetadata, OwnData, PerformanceReview,
    Register, TimesheetControl, Utilization,
};
use Role::{
    Admin, Analyst, Dispatcher, Employee, LogKeeper, PrivacyOfficer, Representative,
    SecurityOperator,
};
use ScopeRule::{AccessRequestOnly, OwnOnly, VehicleOrAll};

/// THE policy: every role × read purpose, exactly once, with its reason. This is the only place
/// access is decided; change it here, with the reason, and the tests and the HTTP matrix follow.
#[rustfmt::skip]
const TABLE: [Cell; 80] = [
    // ── employee: everything about themselves, nothing about others ─────────────────────────
    allow(Employee, DrivingLog,        View::OwnFull,         OwnOnly,      &OWN),
    allow(Employee, FleetView,         View::OwnFull,         OwnOnly,      &OWN),
    allow(Employee, Alarm,             View::OwnFull,         OwnOnly,      &OWN),
    deny (Employee, Utilization,                                            &PER_PURPOSE),
    allow(Employee, DriverBehaviour,   View::OwnFull,         OwnOnly,      &OWN),
    allow(Employee, Register,          View::RegisterEntries, VehicleOrAll, &EMPLOYEE_REGISTER),
    allow(Employee, LedgerMetadata,    View::LedgerMetadata,  OwnOnly,      &OWN_LEDGER),
    allow(Employee, OwnData,           View::OwnFull,         OwnOnly,      &OWN),
    incompatible(Employee, TimesheetControl,                                &TIMESHEET),
    incompatible(Employee, PerformanceReview,                               &PERFORMANCE),
    // ── dispatcher: the fleet view only ──────────────────────────────────────────────────────
    deny (Dispatcher, DrivingLog,                                           &PER_PURPOSE),
    allow(Dispatcher, FleetView,       View::FleetLive,       VehicleOrAll, &FLEET),
    deny (Dispatcher, Alarm,                                                &PER_PURPOSE),
    deny (Dispatcher, Utilization,                                          &PER_PURPOSE),
    deny (Dispatcher, DriverBehaviour,                                      &DRIVER_BEHAVIOUR),
    deny (Dispatcher, Register,                                             &PER_PURPOSE),
    deny (Dispatcher, LedgerMetadata,                                       &PER_PURPOSE),
    deny (Dispatcher, OwnData,                                              &OWN_ONLY_EMPLOYEE),
    incompatible(Dispatcher, TimesheetControl,                              &TIMESHEET),
    incompatible(Dispatcher, PerformanceReview,                             &PERFORMANCE),
    // ── log keeper: the driving log, restricted ──────────────────────────────────────────────
    allow(LogKeeper, DrivingLog,       View::DrivingLogKeeper, VehicleOrAll, &DRIVING_LOG_KEEPER),
    deny (LogKeeper, FleetView,                                             &PER_PURPOSE),
    deny (LogKeeper, Alarm,                                                 &PER_PURPOSE),
    deny (LogKeeper, Utilization,                                           &PER_PURPOSE),
    deny (LogKeeper, DriverBehaviour,                                       &DRIVER_BEHAVIOUR),
    deny (LogKeeper, Register,                                              &PER_PURPOSE),
    deny (LogKeeper, LedgerMetadata,                                        &PER_PURPOSE),
    deny (LogKeeper, OwnData,                                               &OWN_ONLY_EMPLOYEE),
    incompatible(LogKeeper, TimesheetControl,                               &TIMESHEET),
    incompatible(LogKeeper, PerformanceReview,                              &PERFORMANCE),
    // ── security operator: alarm windows ─────────────────────────────────────────────────────
    deny (SecurityOperator, DrivingLog,                                     &PER_PURPOSE),
    deny (SecurityOperator, FleetView,                                      &PER_PURPOSE),
    allow(SecurityOperator, Alarm,     View::AlarmWindow,     VehicleOrAll, &ALARM),
    deny (SecurityOperator, Utilization,                                    &PER_PURPOSE),
    deny (SecurityOperator, DriverBehaviour,                                &DRIVER_BEHAVIOUR),
    deny (SecurityOperator, Register,                                       &PER_PURPOSE),
    deny (SecurityOperator, LedgerMetadata,                                 &PER_PURPOSE),
    deny (SecurityOperator, OwnData,                                        &OWN_ONLY_EMPLOYEE),
    incompatible(SecurityOperator, TimesheetControl,                        &TIMESHEET),
    incompatible(SecurityOperator, PerformanceReview,                       &PERFORMANCE_SECURITY),
    // ── analyst: anonymous aggregates ────────────────────────────────────────────────────────
    deny (Analyst, DrivingLog,                                              &PER_PURPOSE),
    deny (Analyst, FleetView,                                               &PER_PURPOSE),
    deny (Analyst, Alarm,                                                   &PER_PURPOSE),
    allow(Analyst, Utilization,        View::Aggregate,       VehicleOrAll, &AGGREGATE),
    deny (Analyst, DriverBehaviour,                                         &DRIVER_BEHAVIOUR),
    deny (Analyst, Register,                                                &PER_PURPOSE),
    deny (Analyst, LedgerMetadata,                                          &PER_PURPOSE),
    deny (Analyst, OwnData,                                                 &OWN_ONLY_EMPLOYEE),
    incompatible(Analyst, TimesheetControl,                                 &TIMESHEET),
    incompatible(Analyst, PerformanceReview,                                &PERFORMANCE),
    // ── privacy officer: the register and the ledger's metadata, not tracking data ───────────
    deny (PrivacyOfficer, DrivingLog,                                       &OVERSIGHT_NO_TRACKING),
    deny (PrivacyOfficer, FleetView,                                        &OVERSIGHT_NO_TRACKING),
    deny (PrivacyOfficer, Alarm,                                            &OVERSIGHT_NO_TRACKING),
    deny (PrivacyOfficer, Utilization,                                      &OVERSIGHT_NO_TRACKING),
    deny (PrivacyOfficer, DriverBehaviour,                                  &OVERSIGHT_NO_TRACKING),
    allow(PrivacyOfficer, Register,    View::RegisterEntries, VehicleOrAll, &OVERSIGHT_REGISTER),
    allow(PrivacyOfficer, LedgerMetadata, View::LedgerMetadata, VehicleOrAll, &OVERSIGHT_LEDGER),
    allow(PrivacyOfficer, OwnData,     View::OwnFull,         AccessRequestOnly, &ACCESS_REQUEST),
    incompatible(PrivacyOfficer, TimesheetControl,                          &TIMESHEET),
    incompatible(PrivacyOfficer, PerformanceReview,                         &PERFORMANCE),
    // ── representative: the register and the ledger's metadata, not tracking data ────────────
    deny (Representative, DrivingLog,                                       &OVERSIGHT_NO_TRACKING),
    deny (Representative, FleetView,                                        &OVERSIGHT_NO_TRACKING),
    deny (Representative, Alarm,                                            &OVERSIGHT_NO_TRACKING),
    deny (Representative, Utilization,                                      &OVERSIGHT_NO_TRACKING),
    deny (Representative, DriverBehaviour,                                  &OVERSIGHT_NO_TRACKING),
    allow(Representative, Register,    View::RegisterEntries, VehicleOrAll, &OVERSIGHT_REGISTER),
    allow(Representative, LedgerMetadata, View::LedgerMetadata, VehicleOrAll, &OVERSIGHT_LEDGER),
    deny (Representative, OwnData,                                          &OWN_ONLY_EMPLOYEE),
    incompatible(Representative, TimesheetControl,                          &TIMESHEET),
    incompatible(Representative, PerformanceReview,                         &PERFORMANCE),
    // ── admin: configures, reads no personal data ────────────────────────────────────────────
    deny (Admin, DrivingLog,                                                &ADMIN_NO_DATA),
    deny (Admin, FleetView,                                                 &ADMIN_NO_DATA),
    deny (Admin, Alarm,                                                     &ADMIN_NO_DATA),
    deny (Admin, Utilization,                                               &ADMIN_NO_DATA),
    deny (Admin, DriverBehaviour,                                           &ADMIN_NO_DATA),
    deny (Admin, Register,                                                  &ADMIN_NO_DATA),
    deny (Admin, LedgerMetadata,                                            &ADMIN_NO_DATA),
    deny (Admin, OwnData,                                                   &ADMIN_NO_DATA),
    incompatible(Admin, TimesheetControl,                                   &TIMESHEET),
    incompatible(Admin, PerformanceReview,                                  &PERFORMANCE),
];

/// What the audit ledger must record about an authorisation, granted or refused. Shaped like a
/// [`ledger::Entry`] without its sequence number, which the appender assigns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRecord {
    pub at_ms: i64,
    /// The user id.
    pub actor: String,
    pub role: String,
    pub purpose: String,
    /// Whose data: an employee number when the scope is the user's own data.
    pub subject: Option<String>,
    /// [`Action::Read`] when granted, [`Action::Denied`] when refused.
    pub action: Action,
    /// What was asked for, e.g. `"driving_log vehicle EK12345"`.
    pub object: String,
    /// `"ok"`, or `"denied: <kind>: <citation>"`.
    pub outcome: String,
}

impl AuditRecord {
    /// The ledger entry at position `seq`.
    pub fn into_entry(self, seq: u64) -> Entry {
        Entry {
            seq,
            at_ms: self.at_ms,
            actor: self.actor,
            role: self.role,
            purpose: self.purpose,
            subject: self.subject,
            action: self.action,
            object: self.object,
            outcome: self.outcome,
        }
    }
}

/// Proof that the policy allowed one user, in one role, to read for one purpose in one scope,
/// and the restriction ([`View`]) the data must be rendered through.
///
/// It has no public constructor, is not `Clone` and not `Default`: the only way to get one is
/// [`Policy::authorise`], which also hands back the audit record. Storage queries for personal
/// data take a `&Capability`, so code that was not authorised cannot even name the query.
///
/// ```compile_fail
/// use access::{Capability, ReadPurpose, Role, Scope, UserId, View};
/// // Private fields: this does not compile.
/// let forged = Capability {
///     user: UserId("mallory".into()),
///     role: Role::Admin,
///     purpose: ReadPurpose::DrivingLog,
///     scope: Scope::All,
///     view: View::OwnFull,
///     subject: None,
///     at_ms: 0,
/// };
/// ```
///
/// ```compile_fail
/// // Not Clone: one grant, one capability.
/// fn copy(c: access::Capability) -> (access::Capability, access::Capability) { (c.clone(), c) }
/// ```
#[derive(Debug, PartialEq, Eq)]
pub struct Capability {
    user: crate::UserId,
    role: Role,
    purpose: ReadPurpose,
    scope: Scope,
    view: View,
    subject: Option<String>,
    at_ms: i64,
}

impl Capability {
    pub fn user(&self) -> &crate::UserId {
        &self.user
    }
    pub fn role(&self) -> Role {
        self.role
    }
    pub fn purpose(&self) -> ReadPurpose {
        self.purpose
    }
    pub fn scope(&self) -> &Scope {
        &self.scope
    }
    pub fn view(&self) -> View {
        self.view
    }
    /// The employee number when the scope is the user's own data.
    pub fn subject(&self) -> Option<&str> {
        self.subject.as_deref()
    }
    /// When it was granted.
    pub fn granted_at_ms(&self) -> i64 {
        self.at_ms
    }
    /// Whether this capability covers the vehicle `reg` (an "all" scope covers every vehicle;
    /// an "own" or access-request scope covers none by vehicle: that data is selected by
    /// employee).
    pub fn covers_vehicle(&self, reg: &str) -> bool {
        match &self.scope {
            Scope::All => true,
            Scope::Vehicle(v) => v == reg,
            Scope::Own | Scope::AccessRequest { .. } => false,
        }
    }
}

/// An allowed read: the capability and the audit record, which come together.
#[derive(Debug)]
#[must_use = "a grant carries an audit record that must be written"]
pub struct Grant {
    capability: Capability,
    audit: AuditRecord,
}

impl Grant {
    /// Both halves: use the capability, append the record.
    pub fn into_parts(self) -> (Capability, AuditRecord) {
        (self.capability, self.audit)
    }
    pub fn audit(&self) -> &AuditRecord {
        &self.audit
    }
    pub fn capability(&self) -> &Capability {
        &self.capability
    }
}

/// Why a read was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DenialKind {
    /// The user does not hold the role they tried to act in.
    RoleNotHeld,
    /// The role does not have this purpose.
    NotPermitted,
    /// The purpose is a use the seeds declare incompatible.
    Incompatible,
    /// The role has the purpose but not for this scope (e.g. an employee asking about others).
    ScopeNotAllowed,
    /// "Own" scope asked for by a user who is not linked to an employee record.
    NoEmployeeRecord,
}

impl DenialKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DenialKind::RoleNotHeld => "role_not_held",
            DenialKind::NotPermitted => "not_permitted",
            DenialKind::Incompatible => "incompatible_purpose",
            DenialKind::ScopeNotAllowed => "scope_not_allowed",
            DenialKind::NoEmployeeRecord => "no_employee_record",
        }
    }
}

/// A refused read: why (with its citation), and the audit record of the attempt.
#[derive(Clone, Debug)]
#[must_use = "a denial carries an audit record that must be written"]
pub struct Denial {
    kind: DenialKind,
    reason: &'static Reason,
    audit: Box<AuditRecord>,
}

impl Denial {
    pub fn kind(&self) -> DenialKind {
        self.kind
    }
    pub fn reason(&self) -> &'static Reason {
        self.reason
    }
    pub fn audit(&self) -> &AuditRecord {
        &self.audit
    }
    pub fn into_audit(self) -> AuditRecord {
        *self.audit
    }
    /// The message for people, in bokmål: why, and the source.
    pub fn message_nb(&self) -> String {
        format!(
            "Avvist: {} ({}). Forsøket er registrert.",
            self.reason.nb, self.reason.citation
        )
    }
    /// The message for people, in English: why, and the source.
    pub fn message_en(&self) -> String {
        format!(
            "Refused: {} ({}). The attempt has been recorded.",
            self.reason.en, self.reason.citation
        )
    }
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message_en())
    }
}

impl std::error::Error for Denial {}

/// The policy engine.
#[derive(Clone, Copy, Debug, Default)]
pub struct Policy;

impl Policy {
    /// Every cell, role-major in [`Role::ALL`] order, purposes in [`ReadPurpose::ALL`] order.
    pub fn table() -> &'static [Cell] {
        &TABLE
    }

    /// The cell for one role and purpose.
    pub fn cell(role: Role, purpose: ReadPurpose) -> &'static Cell {
        let r = Role::ALL.iter().position(|x| *x == role).unwrap_or(0);
        let p = ReadPurpose::ALL
            .iter()
            .position(|x| *x == purpose)
            .unwrap_or(0);
        let cell = &TABLE[r * ReadPurpose::ALL.len() + p];
        debug_assert!(cell.role == role && cell.purpose == purpose);
        cell
    }

    /// Decides whether `user`, acting as `role`, may read for `purpose` within `scope`.
    ///
    /// Either way the answer carries the audit record to append: a [`Grant`] cannot be taken
    /// apart without it, and a [`Denial`] records the refused attempt (seed 000: log access so
    /// snooping can be found).
    pub fn authorise(
        user: &User,
        role: Role,
        purpose: ReadPurpose,
        scope: Scope,
        at_ms: i64,
    ) -> Result<Grant, Denial> {
        let subject = match &scope {
            Scope::Own => user.employee.clone(),
            Scope::AccessRequest { employee, .. } => Some(employee.clone()),
            _ => None,
        };
        let record = |action: Action, outcome: String| AuditRecord {
            at_ms,
            actor: user.id.0.clone(),
            role: role.as_str().to_owned(),
            purpose: purpose.as_str().to_owned(),
            subject: subject.clone(),
            action,
            object: format!("{} {}", purpose.as_str(), scope.describe()),
            outcome,
        };
        let deny = |kind: DenialKind, reason: &'static Reason| Denial {
            kind,
            reason,
            audit: Box::new(record(
                Action::Denied,
                format!("denied: {}: {}", kind.as_str(), reason.citation),
            )),
        };

        if !user.holds(role) {
            return Err(deny(DenialKind::RoleNotHeld, &ROLE_NOT_HELD));
        }
        let cell = Policy::cell(role, purpose);
        let (view, scope_rule) = match cell.rule {
            Rule::Allowed { view, scope } => (view, scope),
            Rule::Denied => return Err(deny(DenialKind::NotPermitted, cell.reason)),
            Rule::Incompatible => return Err(deny(DenialKind::Incompatible, cell.reason)),
        };
        if !scope_rule.accepts(&scope) {
            let reason = match scope_rule {
                ScopeRule::OwnOnly => &OWN_ONLY_EMPLOYEE,
                ScopeRule::VehicleOrAll | ScopeRule::AccessRequestOnly => cell.reason,
            };
            return Err(deny(DenialKind::ScopeNotAllowed, reason));
        }
        if matches!(scope, Scope::Own) && subject.is_none() {
            return Err(deny(DenialKind::NoEmployeeRecord, &NO_EMPLOYEE_RECORD));
        }
        let audit = record(Action::Read, "ok".to_owned());
        Ok(Grant {
            capability: Capability {
                user: user.id.clone(),
                role,
                purpose,
                scope,
                view,
                subject,
                at_ms,
            },
            audit,
        })
    }
}
