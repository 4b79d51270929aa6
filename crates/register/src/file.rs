//! The register file (`sporvern register apply FILE`): the privacy officer's records in TOML.
//!
//! Applying a file adds and updates, never removes: a duty record is the employer's
//! documentation, so one that leaves the file stays on record. Records are matched by their
//! key — a measure by `id`; the balancing test, DPIA, information, risk assessment and tariff
//! check once per measure; discussions, evaluations and role reviews by `date`; processor
//! agreements by `processor`; acknowledgements by `employee`; breaches and access cases by
//! `id` — so applying the same file again changes nothing. The whole file is checked before
//! anything changes; the first error names its line and field.
//!
//! `examples/register.toml` shows every part.

use std::ops::Range;

use serde::Deserialize;
use time::{Date, OffsetDateTime};
use toml::Spanned;
use toml::value::Datetime;

use crate::access::{AccessCase, AccessGround, Notice, Presence};
use crate::book::{BreachRecord, Change, Entry, Origin, Register, change};
use crate::breach::{Art34Decision, Breach, EmployeesInformed, NotNotified};
use crate::duties::{
    ART28_POINTS, Acknowledgement, BalancingTest, Decision, Discussion, Dpia, Duties, Evaluation,
    Information, LateClosure, PriorConsultation, PrivateDrivingReview, PrivateDrivingRoutine,
    ProcessorAgreement, RiskAssessment, RiskLevel, RoleReview, TariffCheck,
};
use crate::measure::{Concerned, LegalBasis, Measure, MeasureKind, Status};
use crate::security::{DeviationRoutine, SecurityRecord};

/// What is wrong with a register file, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, field \"{field}\": {message}")]
pub struct RegisterFileError {
    pub line: usize,
    pub field: String,
    pub message: String,
}

type R<T> = Result<T, RegisterFileError>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    measures: Vec<RawMeasure>,
    #[serde(default)]
    breaches: Vec<RawBreach>,
    #[serde(default)]
    access_cases: Vec<RawAccessCase>,
    security: Option<RawSecurity>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSecurity {
    acceptance_criteria: Option<RawSecurityRecord>,
    goals_and_strategy: Option<RawSecurityRecord>,
    deviation_routine: Option<RawDeviationRoutine>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSecurityRecord {
    by: String,
    adopted_on: Spanned<Datetime>,
    text: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeviationRoutine {
    by: String,
    adopted_on: Spanned<Datetime>,
    text: Spanned<String>,
    made_known: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPriorConsultation {
    by: String,
    submitted_on: Spanned<Datetime>,
    advice: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLateClosure {
    duty: Spanned<String>,
    by: String,
    closed_on: Spanned<Datetime>,
    note: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrivateDrivingRoutine {
    by: String,
    reviewer: Spanned<String>,
    interval_months: Spanned<u32>,
    how: Spanned<String>,
    adopted_on: Spanned<Datetime>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrivateDrivingReview {
    by: String,
    date: Spanned<Datetime>,
    notes: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNotNotified {
    reason: Spanned<String>,
    decided_at: Spanned<Datetime>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeasure {
    id: Spanned<String>,
    name: Option<Spanned<String>>,
    kind: Option<Spanned<String>>,
    facts: Option<Spanned<String>>,
    concerns: Option<Spanned<Vec<String>>>,
    status: Option<Spanned<String>>,
    started_on: Option<Spanned<Datetime>>,
    legal_basis: Option<Spanned<String>>,
    processor: Option<Spanned<String>>,
    balancing_test: Option<RawBalancingTest>,
    dpia: Option<RawDpia>,
    #[serde(default)]
    discussions: Vec<RawDiscussion>,
    information: Option<RawInformation>,
    #[serde(default)]
    acknowledgements: Vec<RawAcknowledgement>,
    #[serde(default)]
    evaluations: Vec<RawEvaluation>,
    #[serde(default)]
    processor_agreements: Vec<RawProcessorAgreement>,
    risk_assessment: Option<RawRiskAssessment>,
    tariff_check: Option<RawTariffCheck>,
    #[serde(default)]
    role_reviews: Vec<RawRoleReview>,
    prior_consultation: Option<RawPriorConsultation>,
    #[serde(default)]
    late_closures: Vec<RawLateClosure>,
    private_driving_routine: Option<RawPrivateDrivingRoutine>,
    #[serde(default)]
    private_driving_reviews: Vec<RawPrivateDrivingReview>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBalancingTest {
    by: String,
    interest: String,
    necessity: String,
    employees_side: String,
    outcome: String,
    decided_on: Spanned<Datetime>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDpia {
    by: String,
    done_on: Spanned<Datetime>,
    employees_views: String,
    dpo_advice: Option<String>,
    residual_risk: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDiscussion {
    by: String,
    date: Spanned<Datetime>,
    participants: Vec<String>,
    minutes: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInformation {
    by: String,
    controller: String,
    purpose: String,
    practical_consequences: String,
    how_carried_out: String,
    expected_duration: String,
    legal_basis: String,
    retention: String,
    access: String,
    published_on: Spanned<Datetime>,
    dpo_contact: Option<String>,
    transfers_abroad: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAcknowledgement {
    employee: Spanned<String>,
    on: Spanned<Datetime>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvaluation {
    by: String,
    date: Spanned<Datetime>,
    with_representatives: Vec<String>,
    need_still_present: bool,
    decision: Spanned<String>,
    reason_to_continue: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProcessorAgreement {
    by: String,
    processor: String,
    signed_on: Spanned<Datetime>,
    covers: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    processor_security: String,
    services: Option<Spanned<Vec<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRiskAssessment {
    by: String,
    done_on: Spanned<Datetime>,
    conclusion: String,
    shows_necessity: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTariffCheck {
    by: String,
    checked_on: Spanned<Datetime>,
    #[serde(default)]
    agreements: Vec<String>,
    requires_discussion: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoleReview {
    by: String,
    date: Spanned<Datetime>,
    notes: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBreach {
    id: Spanned<String>,
    measure: Option<Spanned<String>>,
    discovered_at: Spanned<Datetime>,
    description: String,
    personal_data_affected: bool,
    notified_datatilsynet_at: Option<Spanned<Datetime>>,
    employees_informed: Option<RawArt34>,
    not_notified: Option<RawNotNotified>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArt34 {
    decision: Spanned<String>,
    reason: Option<String>,
    decided_on: Spanned<Datetime>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccessCase {
    id: Spanned<String>,
    employee: Spanned<String>,
    ground: Option<Spanned<String>>,
    #[serde(default)]
    explanation: String,
    notice_given_on: Option<Spanned<Datetime>>,
    notice_impossible: Option<String>,
    presence: Option<Spanned<String>>,
    representative: Option<String>,
    presence_reason: Option<String>,
    #[serde(default)]
    opened: Vec<String>,
    #[serde(default)]
    documentation: String,
    closed_on: Option<Spanned<Datetime>>,
}

struct Ctx<'a> {
    source: &'a str,
}

impl Ctx<'_> {
    fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.source.len());
        self.source.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    fn err(
        &self,
        span: Range<usize>,
        field: &str,
        message: impl Into<String>,
    ) -> RegisterFileError {
        RegisterFileError {
            line: self.line_of(span.start),
            field: field.to_owned(),
            message: message.into(),
        }
    }

    fn toml_error(&self, e: &toml::de::Error) -> RegisterFileError {
        let span = e.span().unwrap_or(0..0);
        let message = e.message().trim().to_owned();
        let names_field =
            message.starts_with("unknown field") || message.starts_with("missing field");
        let field = names_field
            .then(|| between_backticks(&message))
            .flatten()
            .or_else(|| self.key_at(span.start));
        RegisterFileError {
            line: self.line_of(span.start),
            field: field.unwrap_or_else(|| "(file)".to_owned()),
            message,
        }
    }

    /// The key on the line of `offset`, left of the nearest `=` before it.
    fn key_at(&self, offset: usize) -> Option<String> {
        let offset = offset.min(self.source.len());
        let start = self.source[..offset].rfind('\n').map_or(0, |i| i + 1);
        let line = self.source[start..].lines().next()?;
        let prefix = &self.source[start..offset];
        let before = match prefix.rfind('=') {
            Some(i) => &prefix[..i],
            None => line.split_once('=').map(|(k, _)| k)?,
        };
        let key: String = before
            .trim_end()
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        (!key.is_empty()).then_some(key)
    }

    fn date(&self, field: &str, v: &Spanned<Datetime>) -> R<Date> {
        let bad = || self.err(v.span(), field, "expected a date like 2026-01-31");
        let d = v.get_ref();
        if d.time.is_some() || d.offset.is_some() {
            return Err(bad());
        }
        let date = d.date.ok_or_else(bad)?;
        let month = time::Month::try_from(date.month).map_err(|_| bad())?;
        Date::from_calendar_date(i32::from(date.year), month, date.day).map_err(|_| bad())
    }

    fn datetime(&self, field: &str, v: &Spanned<Datetime>) -> R<OffsetDateTime> {
        let bad = || {
            self.err(
                v.span(),
                field,
                "expected a time with its offset, like 2026-03-02T09:15:00+01:00",
            )
        };
        let d = v.get_ref();
        OffsetDateTime::parse(
            &d.to_string(),
            &time::format_description::well_known::Rfc3339,
        )
        .map_err(|_| bad())
    }

    fn text(&self, field: &str, span: Range<usize>, s: &str) -> R<String> {
        if s.trim().is_empty() {
            return Err(self.err(span, field, "must not be empty"));
        }
        Ok(s.trim().to_owned())
    }
}

fn between_backticks(s: &str) -> Option<String> {
    let a = s.find('`')?;
    let b = s[a + 1..].find('`')?;
    Some(s[a + 1..a + 1 + b].to_owned())
}

/// Upserts `new` into `list` by `key`; says whether anything changed and whether it was new.
fn upsert<T: PartialEq, K: PartialEq>(
    list: &mut Vec<T>,
    new: T,
    key: impl Fn(&T) -> K,
) -> Option<&'static str> {
    match list.iter_mut().find(|x| key(x) == key(&new)) {
        Some(old) if *old == new => None,
        Some(old) => {
            *old = new;
            Some("changed")
        }
        None => {
            list.push(new);
            Some("recorded")
        }
    }
}

fn replace<T: PartialEq>(slot: &mut Option<T>, new: T) -> Option<&'static str> {
    match slot {
        Some(old) if *old == new => None,
        Some(_) => {
            *slot = Some(new);
            Some("changed")
        }
        None => {
            *slot = Some(new);
            Some("recorded")
        }
    }
}

impl Register {
    /// Checks a register file against this register and the organisation and applies it:
    /// on success the register holds the file's records and the changes are returned; on
    /// error the register is unchanged.
    pub fn apply_str(&mut self, source: &str, o: &org::Org) -> R<Vec<Change>> {
        let ctx = Ctx { source };
        let raw: RawFile = toml::from_str(source).map_err(|e| ctx.toml_error(&e))?;
        let mut next = self.clone();
        let mut changes = Vec::new();
        for m in &raw.measures {
            apply_measure(&ctx, &mut next, m, o, &mut changes)?;
        }
        for b in &raw.breaches {
            apply_breach(&ctx, &mut next, b, &mut changes)?;
        }
        for c in &raw.access_cases {
            apply_access_case(&ctx, &mut next, c, o, &mut changes)?;
        }
        if let Some(sec) = &raw.security {
            apply_security(&ctx, &mut next, sec, &mut changes)?;
        }
        *self = next;
        Ok(changes)
    }
}

fn is_employee(o: &org::Org, number: &str) -> bool {
    o.employees.iter().any(|e| e.number == number)
}

/// The line of the facts' first line in the file, for errors inside the facts.
fn facts_error(ctx: &Ctx, span: Range<usize>, e: &assess::LoadError) -> RegisterFileError {
    let start = ctx.line_of(span.start);
    // A multi-line string starting with a newline begins on the next line.
    let opens_multiline = ctx.source.get(span.start..).is_some_and(|s| {
        s.starts_with("\"\"\"\n") || s.starts_with("'''\n") || s.starts_with("\"\"\"\r\n")
    });
    let first = start + usize::from(opens_multiline);
    RegisterFileError {
        line: e.line.map_or(start, |l| (first + l).saturating_sub(1)),
        field: e
            .field
            .as_ref()
            .map_or_else(|| "facts".to_owned(), |f| format!("facts.{f}")),
        message: e.message.clone(),
    }
}

fn apply_measure(
    ctx: &Ctx,
    reg: &mut Register,
    m: &RawMeasure,
    o: &org::Org,
    changes: &mut Vec<Change>,
) -> R<()> {
    let id = ctx.text("id", m.id.span(), m.id.get_ref())?;
    let exists = reg.entry(&id).is_some();
    if !exists {
        if id.starts_with("vehicle.") {
            return Err(ctx.err(
                m.id.span(),
                "id",
                format!(
                    "no vehicle in the organisation has the purpose of {id}: vehicle measures come from the organisation file (add the purpose to a vehicle and run `sporvern org apply`)"
                ),
            ));
        }
        let (Some(name), Some(kind), Some(facts)) = (&m.name, &m.kind, &m.facts) else {
            return Err(ctx.err(
                m.id.span(),
                "id",
                format!("{id} is a new measure: give its name, kind and facts"),
            ));
        };
        let name = ctx.text("name", name.span(), name.get_ref())?;
        let k = MeasureKind::parse(kind.get_ref()).ok_or_else(|| {
            ctx.err(
                kind.span(),
                "kind",
                "expected firewall_logging, spam_quarantine, dlp, screen_recording, email_forwarding or other",
            )
        })?;
        if matches!(k, MeasureKind::Vehicle(_)) {
            return Err(ctx.err(
                kind.span(),
                "kind",
                "vehicle measures come from the organisation file, with ids like vehicle.driving_log",
            ));
        }
        let measure = Measure::new(id.clone(), name, k, facts.get_ref().clone())
            .map_err(|e| facts_error(ctx, facts.span(), &e))?;
        changes.push(change(
            '+',
            &id,
            format!(
                "measure entered, assessed {}",
                measure.assessment.verdict().as_str()
            ),
        ));
        reg.entries.push(Entry {
            measure,
            origin: Origin::Entered,
            retired: false,
            duties: Duties::default(),
        });
    }
    let Some(entry) = reg.entry_mut(&id) else {
        return Err(ctx.err(m.id.span(), "id", "measure not found"));
    };
    let mut note = |what: String| changes.push(change('~', &id, what));

    if exists {
        for (field, given) in [("name", &m.name), ("kind", &m.kind), ("facts", &m.facts)] {
            if let (Some(v), Origin::Organisation) = (given, entry.origin) {
                return Err(ctx.err(
                    v.span(),
                    field,
                    format!("{id} is generated from the organisation: change the organisation file instead"),
                ));
            }
        }
        if let Some(name) = &m.name {
            let name = ctx.text("name", name.span(), name.get_ref())?;
            if entry.measure.name != name {
                entry.measure.name = name;
                note("name".into());
            }
        }
        if let Some(kind) = &m.kind {
            let k = MeasureKind::parse(kind.get_ref())
                .filter(|k| !matches!(k, MeasureKind::Vehicle(_)))
                .ok_or_else(|| {
                    ctx.err(
                        kind.span(),
                        "kind",
                        "expected firewall_logging, spam_quarantine, dlp, screen_recording, email_forwarding or other",
                    )
                })?;
            if entry.measure.kind != k {
                entry.measure.kind = k;
                note(format!("kind {}", k.as_str()));
            }
        }
        if let Some(facts) = &m.facts
            && entry.measure.facts != *facts.get_ref()
        {
            entry
                .measure
                .reassess(facts.get_ref().clone())
                .map_err(|e| facts_error(ctx, facts.span(), &e))?;
            note(format!(
                "facts, assessed {}",
                entry.measure.assessment.verdict().as_str()
            ));
        }
    }
    if let Some(c) = &m.concerns {
        let mut concerns = Vec::new();
        for s in c.get_ref() {
            let x = Concerned::parse(s).ok_or_else(|| {
                ctx.err(
                    c.span(),
                    "concerns",
                    format!("unknown group {s:?}; expected current_employees, former_employees or contractors_or_customers"),
                )
            })?;
            if !concerns.contains(&x) {
                concerns.push(x);
            }
        }
        if concerns.is_empty() {
            return Err(ctx.err(c.span(), "concerns", "name at least one group"));
        }
        if entry.measure.concerns != concerns {
            entry.measure.concerns = concerns;
            note("whom it concerns".into());
        }
    }
    if let Some(s) = &m.status {
        let st = Status::parse(s.get_ref())
            .ok_or_else(|| ctx.err(s.span(), "status", "expected planned, active or ended"))?;
        if entry.measure.status != st {
            entry.measure.status = st;
            note(format!("status {}", s.get_ref()));
        }
    }
    if let Some(d) = &m.started_on {
        let d = ctx.date("started_on", d)?;
        if entry.measure.started_on != Some(d) {
            entry.measure.started_on = Some(d);
            note(format!("started on {d}"));
        }
    }
    if let Some(b) = &m.legal_basis {
        let lb = LegalBasis::parse(b.get_ref()).ok_or_else(|| {
            ctx.err(
                b.span(),
                "legal_basis",
                "expected legitimate_interests, consent, contract or legal_obligation",
            )
        })?;
        if entry.measure.legal_basis != lb {
            entry.measure.legal_basis = lb;
            note(format!("legal basis {}", b.get_ref()));
        }
    }
    if let Some(p) = &m.processor {
        let p = p.get_ref().trim();
        let p = (!p.is_empty()).then(|| p.to_owned());
        if entry.measure.processor != p {
            entry.measure.processor = p;
            note("processor".into());
        }
    }

    let d = &mut entry.duties;
    let mut record = |what: &str, how: Option<&'static str>| {
        if let Some(how) = how {
            note(format!("{what} {how}"));
        }
    };
    if let Some(b) = &m.balancing_test {
        let v = BalancingTest {
            by: b.by.clone(),
            interest: b.interest.clone(),
            necessity: b.necessity.clone(),
            employees_side: b.employees_side.clone(),
            outcome: b.outcome.clone(),
            decided_on: ctx.date("decided_on", &b.decided_on)?,
        };
        record("balancing test", replace(&mut d.balancing_test, v));
    }
    if let Some(x) = &m.dpia {
        let v = Dpia {
            by: x.by.clone(),
            done_on: ctx.date("done_on", &x.done_on)?,
            employees_views: x.employees_views.clone(),
            dpo_advice: x.dpo_advice.clone(),
            residual_risk: x
                .residual_risk
                .as_ref()
                .map(|r| {
                    RiskLevel::parse(r.get_ref()).ok_or_else(|| {
                        ctx.err(r.span(), "residual_risk", "expected low, medium or high")
                    })
                })
                .transpose()?,
        };
        record("DPIA", replace(&mut d.dpia, v));
    }
    for x in &m.discussions {
        let v = Discussion {
            by: x.by.clone(),
            date: ctx.date("date", &x.date)?,
            participants: x.participants.clone(),
            minutes: x.minutes.clone(),
        };
        let what = format!("discussion of {}", v.date);
        record(&what, upsert(&mut d.discussions, v, |v| v.date));
    }
    if let Some(x) = &m.information {
        let v = Information {
            by: x.by.clone(),
            controller: x.controller.clone(),
            purpose: x.purpose.clone(),
            practical_consequences: x.practical_consequences.clone(),
            how_carried_out: x.how_carried_out.clone(),
            expected_duration: x.expected_duration.clone(),
            legal_basis: x.legal_basis.clone(),
            retention: x.retention.clone(),
            access: x.access.clone(),
            published_on: ctx.date("published_on", &x.published_on)?,
            dpo_contact: x.dpo_contact.clone().filter(|v| !v.trim().is_empty()),
            transfers_abroad: x.transfers_abroad.clone().filter(|v| !v.trim().is_empty()),
        };
        record("information to employees", replace(&mut d.information, v));
    }
    for x in &m.evaluations {
        let decision = Decision::parse(x.decision.get_ref())
            .ok_or_else(|| ctx.err(x.decision.span(), "decision", "expected continue or end"))?;
        let v = Evaluation {
            by: x.by.clone(),
            date: ctx.date("date", &x.date)?,
            with_representatives: x.with_representatives.clone(),
            need_still_present: x.need_still_present,
            decision,
            reason_to_continue: x
                .reason_to_continue
                .as_ref()
                .map(|r| r.trim().to_owned())
                .filter(|r| !r.is_empty()),
        };
        let what = format!("evaluation of {}", v.date);
        record(&what, upsert(&mut d.evaluations, v, |v| v.date));
    }
    for x in &m.processor_agreements {
        let covers = x
            .covers
            .as_ref()
            .map(|c| c.get_ref().clone())
            .unwrap_or_default();
        let services = x
            .services
            .as_ref()
            .map(|c| c.get_ref().clone())
            .unwrap_or_default();
        let span = |v: &Option<Spanned<Vec<String>>>| v.as_ref().map(|v| v.span()).unwrap_or(0..0);
        for c in &covers {
            if !ART28_POINTS.iter().any(|(k, _, _)| k == c) {
                return Err(ctx.err(
                    span(&x.covers),
                    "covers",
                    format!(
                        "unknown point {c:?} of GDPR art. 28(3); expected {}",
                        ART28_POINTS
                            .iter()
                            .map(|(k, _, _)| *k)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
        for sv in &services {
            if !SERVICES.contains(&sv.as_str()) {
                return Err(ctx.err(
                    span(&x.services),
                    "services",
                    format!("unknown service {sv:?}; expected address or map_tiles"),
                ));
            }
        }
        let v = ProcessorAgreement {
            by: x.by.clone(),
            processor: x.processor.trim().to_owned(),
            signed_on: ctx.date("signed_on", &x.signed_on)?,
            covers,
            processor_security: x.processor_security.trim().to_owned(),
            services,
        };
        let what = format!("processor agreement with {}", v.processor);
        record(
            &what,
            upsert(&mut d.processor_agreements, v, |v| v.processor.clone()),
        );
    }
    if let Some(x) = &m.risk_assessment {
        let v = RiskAssessment {
            by: x.by.clone(),
            done_on: ctx.date("done_on", &x.done_on)?,
            conclusion: x.conclusion.clone(),
            shows_necessity: x.shows_necessity,
        };
        record("risk assessment", replace(&mut d.risk_assessment, v));
    }
    if let Some(x) = &m.tariff_check {
        let v = TariffCheck {
            by: x.by.clone(),
            checked_on: ctx.date("checked_on", &x.checked_on)?,
            agreements: x.agreements.clone(),
            requires_discussion: x.requires_discussion,
        };
        record(
            "collective agreement check",
            replace(&mut d.tariff_check, v),
        );
    }
    for x in &m.role_reviews {
        let v = RoleReview {
            by: x.by.clone(),
            date: ctx.date("date", &x.date)?,
            notes: x.notes.clone(),
        };
        let what = format!("role review of {}", v.date);
        record(&what, upsert(&mut d.role_reviews, v, |v| v.date));
    }
    if let Some(x) = &m.prior_consultation {
        let v = PriorConsultation {
            by: x.by.clone(),
            submitted_on: ctx.date("submitted_on", &x.submitted_on)?,
            advice: x.advice.clone().filter(|a| !a.trim().is_empty()),
        };
        record(
            "prior consultation with Datatilsynet",
            replace(&mut d.prior_consultation, v),
        );
    }
    for x in &m.late_closures {
        let duty = x.duty.get_ref().trim();
        if !matches!(duty, "discussion" | "information") {
            return Err(ctx.err(
                x.duty.span(),
                "duty",
                "expected discussion or information (the duties due before start)",
            ));
        }
        let v = LateClosure {
            duty: duty.to_owned(),
            by: x.by.clone(),
            closed_on: ctx.date("closed_on", &x.closed_on)?,
            note: ctx.text("note", x.note.span(), x.note.get_ref())?,
        };
        let what = format!("late {} closed", v.duty);
        record(&what, upsert(&mut d.late_closures, v, |v| v.duty.clone()));
    }
    if let Some(x) = &m.private_driving_routine {
        if *x.interval_months.get_ref() == 0 {
            return Err(ctx.err(
                x.interval_months.span(),
                "interval_months",
                "how often the log is reviewed, in months: 1 or more",
            ));
        }
        let v = PrivateDrivingRoutine {
            by: x.by.clone(),
            reviewer: ctx.text("reviewer", x.reviewer.span(), x.reviewer.get_ref())?,
            interval_months: *x.interval_months.get_ref(),
            how: ctx.text("how", x.how.span(), x.how.get_ref())?,
            adopted_on: ctx.date("adopted_on", &x.adopted_on)?,
        };
        record(
            "private driving routine",
            replace(&mut d.private_driving_routine, v),
        );
    }
    for x in &m.private_driving_reviews {
        let v = PrivateDrivingReview {
            by: x.by.clone(),
            date: ctx.date("date", &x.date)?,
            notes: x.notes.clone(),
        };
        let what = format!("private driving review of {}", v.date);
        record(&what, upsert(&mut d.private_driving_reviews, v, |v| v.date));
    }
    let mut acks = Vec::new();
    for x in &m.acknowledgements {
        let employee = x.employee.get_ref().trim().to_owned();
        if !is_employee(o, &employee) {
            return Err(ctx.err(
                x.employee.span(),
                "employee",
                format!("no employee {employee} in the organisation"),
            ));
        }
        let v = Acknowledgement {
            employee: employee.clone(),
            on: ctx.date("on", &x.on)?,
        };
        if let Some(how) = upsert(&mut d.acknowledgements, v, |v| v.employee.clone()) {
            acks.push((employee, how));
        }
    }
    for (employee, how) in acks {
        changes.push(Change {
            subject: Some(employee.clone()),
            ..change(
                '~',
                &id,
                format!("acknowledgement by employee {employee} {how}"),
            )
        });
    }
    Ok(())
}

fn apply_breach(ctx: &Ctx, reg: &mut Register, b: &RawBreach, changes: &mut Vec<Change>) -> R<()> {
    let id = ctx.text("id", b.id.span(), b.id.get_ref())?;
    let measure = match &b.measure {
        Some(m) => {
            if reg.entry(m.get_ref()).is_none() {
                return Err(ctx.err(
                    m.span(),
                    "measure",
                    format!("no measure {} in the register", m.get_ref()),
                ));
            }
            Some(m.get_ref().clone())
        }
        None => None,
    };
    let discovered_at = ctx.datetime("discovered_at", &b.discovered_at)?;
    let notified = b
        .notified_datatilsynet_at
        .as_ref()
        .map(|n| ctx.datetime("notified_datatilsynet_at", n))
        .transpose()?;
    let informed = match &b.employees_informed {
        None => None,
        Some(x) => {
            let decision = match (x.decision.get_ref().as_str(), &x.reason) {
                ("inform", _) => Art34Decision::Inform,
                ("not_required", Some(r)) if !r.trim().is_empty() => Art34Decision::NotRequired {
                    reason: r.trim().to_owned(),
                },
                ("not_required", _) => {
                    return Err(ctx.err(
                        x.decision.span(),
                        "reason",
                        "not_required needs the reason (GDPR art. 34 (3) a–c, or no high risk)",
                    ));
                }
                _ => {
                    return Err(ctx.err(
                        x.decision.span(),
                        "decision",
                        "expected inform or not_required",
                    ));
                }
            };
            Some(EmployeesInformed {
                decision,
                decided_on: ctx.date("decided_on", &x.decided_on)?,
            })
        }
    };
    let not_notified = match &b.not_notified {
        None => None,
        Some(x) => {
            if notified.is_some() {
                return Err(ctx.err(
                    x.reason.span(),
                    "not_notified",
                    "the breach is recorded as notified: give either notified_datatilsynet_at or not_notified",
                ));
            }
            Some(NotNotified {
                reason: ctx.text("reason", x.reason.span(), x.reason.get_ref())?,
                decided_at: ctx.datetime("decided_at", &x.decided_at)?,
            })
        }
    };
    let record = BreachRecord {
        id: id.clone(),
        measure,
        breach: Breach {
            discovered_at,
            description: b.description.clone(),
            personal_data_affected: b.personal_data_affected,
            notified_datatilsynet_at: notified,
            employees_informed: informed,
            not_notified,
        },
    };
    if let Some(how) = upsert(&mut reg.breaches, record, |r| r.id.clone()) {
        changes.push(change(
            if how == "recorded" { '+' } else { '~' },
            &format!("breach {id}"),
            how,
        ));
    }
    Ok(())
}

/// The services a processor agreement can be linked to (`GateConfig::services`).
const SERVICES: &[&str] = &["address", "map_tiles"];

fn apply_security(
    ctx: &Ctx,
    reg: &mut Register,
    s: &RawSecurity,
    changes: &mut Vec<Change>,
) -> R<()> {
    let rec = |x: &RawSecurityRecord| -> R<SecurityRecord> {
        Ok(SecurityRecord {
            by: x.by.clone(),
            adopted_on: ctx.date("adopted_on", &x.adopted_on)?,
            text: ctx.text("text", x.text.span(), x.text.get_ref())?,
        })
    };
    let sec = &mut reg.security;
    let mut note = |what: &str, how: Option<&'static str>| {
        if let Some(how) = how {
            changes.push(change('~', "security", format!("{what} {how}")));
        }
    };
    if let Some(x) = &s.acceptance_criteria {
        let v = rec(x)?;
        note(
            "risk acceptance criteria",
            replace(&mut sec.acceptance_criteria, v),
        );
    }
    if let Some(x) = &s.goals_and_strategy {
        let v = rec(x)?;
        note(
            "security goals and strategy",
            replace(&mut sec.goals_and_strategy, v),
        );
    }
    if let Some(x) = &s.deviation_routine {
        let v = DeviationRoutine {
            by: x.by.clone(),
            adopted_on: ctx.date("adopted_on", &x.adopted_on)?,
            text: ctx.text("text", x.text.span(), x.text.get_ref())?,
            made_known: x.made_known.trim().to_owned(),
        };
        note("deviation routine", replace(&mut sec.deviation_routine, v));
    }
    Ok(())
}

fn apply_access_case(
    ctx: &Ctx,
    reg: &mut Register,
    c: &RawAccessCase,
    o: &org::Org,
    changes: &mut Vec<Change>,
) -> R<()> {
    let id = ctx.text("id", c.id.span(), c.id.get_ref())?;
    let employee = c.employee.get_ref().trim().to_owned();
    if !is_employee(o, &employee) {
        return Err(ctx.err(
            c.employee.span(),
            "employee",
            format!("no employee {employee} in the organisation (former employees stay in the file with status = \"former\")"),
        ));
    }
    let ground = match &c.ground {
        None => None,
        Some(g) => Some(match g.get_ref().as_str() {
            "daily_operation" => AccessGround::DailyOperation(c.explanation.trim().to_owned()),
            "suspected_serious_breach" => {
                AccessGround::SuspectedSeriousBreach(c.explanation.trim().to_owned())
            }
            _ => {
                return Err(ctx.err(
                    g.span(),
                    "ground",
                    "expected daily_operation (e-postforskriften § 3 (1) a) or suspected_serious_breach (§ 3 (1) b)",
                ));
            }
        }),
    };
    let notice = match (&c.notice_given_on, &c.notice_impossible) {
        (Some(d), None) => Notice::GivenOn(ctx.date("notice_given_on", d)?),
        (None, Some(r)) => Notice::Impossible {
            reason: r.trim().to_owned(),
        },
        (None, None) => Notice::NotGiven,
        (Some(d), Some(_)) => {
            return Err(ctx.err(
                d.span(),
                "notice_impossible",
                "give either notice_given_on or notice_impossible, not both",
            ));
        }
    };
    let presence = match c.presence.as_ref().map(|p| (p, p.get_ref().as_str())) {
        None => Presence::NotRecorded,
        Some((_, "present")) => Presence::Present {
            representative: c.representative.clone().filter(|r| !r.trim().is_empty()),
        },
        Some((_, "declined")) => Presence::Declined,
        Some((p, "not_possible")) => Presence::NotPossible {
            reason: c
                .presence_reason
                .clone()
                .filter(|r| !r.trim().is_empty())
                .ok_or_else(|| {
                    ctx.err(
                        p.span(),
                        "presence_reason",
                        "not_possible needs presence_reason",
                    )
                })?,
        },
        Some((p, _)) => {
            return Err(ctx.err(
                p.span(),
                "presence",
                "expected present, declined or not_possible",
            ));
        }
    };
    let mut case = AccessCase {
        id: id.clone(),
        employee: employee.clone(),
        ground,
        notice,
        presence,
        opened: c.opened.clone(),
        closed_on: None,
        documentation: c.documentation.clone(),
    };
    if let Some(d) = &c.closed_on {
        let on = ctx.date("closed_on", d)?;
        case.close(on).map_err(|e| {
            ctx.err(
                d.span(),
                "closed_on",
                format!("the case cannot be closed: {e}"),
            )
        })?;
    }
    if let Some(old) = reg.access_cases.iter().find(|x| x.id == id)
        && old.closed_on.is_some()
        && *old != case
    {
        return Err(ctx.err(
            c.id.span(),
            "id",
            format!("access case {id} is closed; its record cannot change"),
        ));
    }
    if let Some(how) = upsert(&mut reg.access_cases, case, |x| x.id.clone()) {
        changes.push(Change {
            subject: Some(employee),
            ..change(
                if how == "recorded" { '+' } else { '~' },
                &format!("access case {id}"),
                how,
            )
        });
    }
    Ok(())
}
