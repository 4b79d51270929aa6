//! Sporvern's compliance register: the monitoring measures (kontrolltiltak) an employer runs,
//! the duties each one carries, the compliance gate that decides whether a purpose may collect,
//! deviations and breaches with the 72-hour clock, one-off access cases, and the documents
//! generated from all of it (SPEC.md section 4).
//!
//! Architecture Invariant: sans-IO. No database and no clock: `now` is passed in, records are
//! values; storing them and showing them belong to the caller.
//!
//! Architecture Invariant: the law of the measures is assess's. The register asks assess which
//! duties a measure brings (its duty codes: `dpia`, `information`, `discussion`, …) and reuses
//! their citations and texts; the register adds only the duties assess does not model (role
//! review, breaches, access cases) and the gate, with their sources next to them.
//!
//! Code map: `measure` (Measure, MeasureKind, Concerned, Status, measures_from_org), `duties`
//! (the duty records and Duties), `gate` (gate, GateState, the evaluation clock), `breach`
//! (Breach, the art. 33 clock), `access` (AccessCase and its validation), `documents` (HTML),
//! `book` (Register: the whole register as one value, synced with the organisation), `file`
//! (the register file: `Register::apply_str`, errors naming line and field).

mod access;
mod book;
mod breach;
mod documents;
mod duties;
mod file;
mod gate;
mod measure;
pub mod persist;
mod security;

pub use access::{AccessCase, AccessCaseError, AccessGround, Notice, Presence};
pub use assess::Lang;
pub use book::{BreachError, BreachRecord, Change, Entry, MeasureGate, Origin, Register};
pub use breach::{
    Art34Decision, BREACH_CITATION, Breach, BreachStatus, EmployeesInformed, NOTIFICATION_HOURS,
    NotNotified, breach_deadline, breach_status,
};
pub use documents::{
    NoticePage, access_case_record, discussion_agenda, dpia_draft, escape, information_notice,
    information_notice_page, kind_label, records_of_processing, retention_words, verdict_label,
};
pub use duties::{
    ART28_POINTS, Acknowledgement, BalancingTest, Decision, Discussion, Dpia, Duties, Duty,
    Evaluation, Information, LateClosure, PriorConsultation, PrivateDrivingReview,
    PrivateDrivingRoutine, ProcessorAgreement, RiskAssessment, RiskLevel, RoleReview, TariffCheck,
};
pub use file::RegisterFileError;
pub use gate::{
    GateConfig, GateState, LateDuty, Missing, Recipient, Services, Warning, add_months, assessed,
    gate, gate_with, is_lawful, next_evaluation_due,
};
pub use measure::{Concerned, LegalBasis, Measure, MeasureKind, Status, measures_from_org};
pub use security::{DeviationRoutine, Security, SecurityRecord};
