//! The whole register as one value: every measure with its origin and its duty records, the
//! breaches and the access cases. Storage loads and saves it whole; the organisation and the
//! register file change it through [`Register::sync_org`] and [`Register::apply_str`], which
//! say what changed so the caller can put it on the audit ledger.

use std::fmt;

use time::Date;

use crate::access::AccessCase;
use crate::breach::Breach;
use crate::duties::Duties;
use crate::gate::{GateConfig, GateState, gate_with};
use crate::measure::{Measure, measures_from_org};

/// Where a measure comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Generated from a vehicle purpose in the organisation file; its facts follow the
    /// organisation and cannot be edited in the register.
    Organisation,
    /// Entered by the privacy officer (firewall logging, DLP, …).
    Entered,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Organisation => "organisation",
            Origin::Entered => "entered",
        }
    }

    pub fn parse(s: &str) -> Option<Origin> {
        match s {
            "organisation" => Some(Origin::Organisation),
            "entered" => Some(Origin::Entered),
            _ => None,
        }
    }
}

/// One measure and everything on record for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub measure: Measure,
    pub origin: Origin,
    /// A generated measure whose purpose no vehicle has any more. Kept, because its records
    /// are the employer's documentation; it gates nothing.
    pub retired: bool,
    pub duties: Duties,
}

impl Entry {
    /// The measure as the register knows it on `today` ([`crate::assessed`]), for documents.
    pub fn as_recorded(&self, today: Date) -> Measure {
        crate::gate::assessed(&self.measure, &self.duties, today)
    }

    /// The measure's one verdict on `today` (the same the gate uses).
    pub fn verdict(&self, today: Date) -> assess::Verdict {
        self.as_recorded(today).assessment.verdict()
    }
}

/// A deviation or personal-data breach with its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreachRecord {
    pub id: String,
    /// The measure it happened in, if any.
    pub measure: Option<String>,
    pub breach: Breach,
}

/// Everything in the register.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Register {
    pub entries: Vec<Entry>,
    pub breaches: Vec<BreachRecord>,
    pub access_cases: Vec<AccessCase>,
    /// The organisation's security records (seed 001 5.1–5.4), read by every measure's gate.
    pub security: crate::security::Security,
}

/// One change, as `register apply` prints it and the audit ledger records it. Never holds
/// personal data beyond employee numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// `+` added, `~` changed, `-` retired.
    pub sign: char,
    /// The measure, breach or access case.
    pub object: String,
    pub what: String,
    /// The employee the change is about (an acknowledgement, an access case), by number.
    pub subject: Option<String>,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.sign, self.object, self.what)
    }
}

pub(crate) fn change(sign: char, object: &str, what: impl Into<String>) -> Change {
    Change {
        sign,
        object: object.to_owned(),
        what: what.into(),
        subject: None,
    }
}

/// Why a breach could not be recorded as asked; the message says what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BreachError {
    #[error("a breach needs an id and a description of what happened")]
    Incomplete,
    #[error("breach {0} is recorded already")]
    Exists(String),
    #[error("no breach {0} in the register")]
    Unknown(String),
    #[error("no measure {0} in the register")]
    NoMeasure(String),
    #[error("say why the breach is unlikely to result in a risk to the employees")]
    NoReason,
    #[error(
        "breach {0} is notified already or touches no personal data: there is nothing to decide"
    )]
    NothingToDecide(String),
}

/// A measure's gate, for `sporvern gate` and the purpose worker.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasureGate<'a> {
    pub entry: &'a Entry,
    pub state: GateState,
}

impl Register {
    /// Records a deviation or personal-data breach; the 72-hour clock (GDPR art. 33) runs from
    /// `discovered_at` when personal data is affected.
    pub fn open_breach(
        &mut self,
        id: &str,
        description: &str,
        discovered_at: time::OffsetDateTime,
        personal_data_affected: bool,
        measure: Option<String>,
    ) -> Result<Change, BreachError> {
        let (id, description) = (id.trim(), description.trim());
        if id.is_empty() || description.is_empty() {
            return Err(BreachError::Incomplete);
        }
        if self.breaches.iter().any(|b| b.id == id) {
            return Err(BreachError::Exists(id.to_owned()));
        }
        if let Some(m) = &measure
            && self.entry(m).is_none()
        {
            return Err(BreachError::NoMeasure(m.clone()));
        }
        self.breaches.push(BreachRecord {
            id: id.to_owned(),
            measure,
            breach: Breach {
                discovered_at,
                description: description.to_owned(),
                personal_data_affected,
                notified_datatilsynet_at: None,
                employees_informed: None,
                not_notified: None,
            },
        });
        Ok(change('+', &format!("breach {id}"), "recorded"))
    }

    /// Records when Datatilsynet was notified of a breach.
    pub fn notify_breach(
        &mut self,
        id: &str,
        at: time::OffsetDateTime,
    ) -> Result<Change, BreachError> {
        let b = self
            .breaches
            .iter_mut()
            .find(|b| b.id == id)
            .ok_or_else(|| BreachError::Unknown(id.to_owned()))?;
        b.breach.notified_datatilsynet_at = Some(at);
        let when = at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        Ok(change(
            '~',
            &format!("breach {id}"),
            format!("Datatilsynet notified at {when}"),
        ))
    }

    /// Records the art. 33(1) decision that a breach is unlikely to result in a risk to the
    /// employees' rights and freedoms, so Datatilsynet is not notified; the reason is kept
    /// (art. 33(5)). Refused for a breach already notified or one that touches no personal data.
    pub fn record_not_notified(
        &mut self,
        id: &str,
        reason: &str,
        at: time::OffsetDateTime,
    ) -> Result<Change, BreachError> {
        let b = self
            .breaches
            .iter_mut()
            .find(|b| b.id == id)
            .ok_or_else(|| BreachError::Unknown(id.to_owned()))?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(BreachError::NoReason);
        }
        if b.breach.notified_datatilsynet_at.is_some() || !b.breach.personal_data_affected {
            return Err(BreachError::NothingToDecide(id.to_owned()));
        }
        b.breach.not_notified = Some(crate::breach::NotNotified {
            reason: reason.to_owned(),
            decided_at: at,
        });
        Ok(change(
            '~',
            &format!("breach {id}"),
            "art. 33(1): not notified, unlikely to result in a risk",
        ))
    }

    /// Records (or corrects, by date) an evaluation of a measure with the employee
    /// representatives (arbeidsmiljøloven § 9-2 (3)); a decision to end the measure stops its
    /// collection at the gate and schedules its data for deletion.
    pub fn record_evaluation(
        &mut self,
        measure: &str,
        evaluation: crate::duties::Evaluation,
    ) -> Result<Change, String> {
        if evaluation.with_representatives.is_empty() {
            return Err(
                "an evaluation is held with the representatives: name who took part".into(),
            );
        }
        let entry = self
            .entry_mut(measure)
            .ok_or_else(|| format!("no measure {measure} in the register"))?;
        let what = format!(
            "evaluation of {}: {}",
            evaluation.date,
            evaluation.decision.as_str()
        );
        let list = &mut entry.duties.evaluations;
        match list.iter_mut().find(|e| e.date == evaluation.date) {
            Some(old) => *old = evaluation,
            None => list.push(evaluation),
        }
        Ok(change('+', measure, what))
    }

    /// The next free breach id of the form `avvik-N`.
    pub fn next_breach_id(&self) -> String {
        let n = self
            .breaches
            .iter()
            .filter_map(|b| b.id.strip_prefix("avvik-")?.parse::<u32>().ok())
            .max()
            .unwrap_or(0);
        format!("avvik-{}", n + 1)
    }

    pub fn entry(&self, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.measure.id == id)
    }

    pub fn entry_mut(&mut self, id: &str) -> Option<&mut Entry> {
        self.entries.iter_mut().find(|e| e.measure.id == id)
    }

    /// The measure a vehicle purpose collects under: `vehicle.<purpose>`, when it is in the
    /// register and not retired.
    pub fn vehicle_entry(&self, p: org::Purpose) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.measure.kind == crate::MeasureKind::Vehicle(p) && !e.retired)
    }

    /// Whether a configured vehicle purpose may collect on `today`: its measure is in the
    /// register and passes the gate. A purpose without a measure collects nothing.
    pub fn purpose_may_collect(&self, p: org::Purpose, today: Date, cfg: &GateConfig) -> bool {
        self.vehicle_entry(p).is_some_and(|e| {
            gate_with(&e.measure, &e.duties, &self.security, today, cfg).may_collect
        })
    }

    /// The gate of every measure that is not retired, in register order.
    pub fn gates(&self, today: Date, cfg: &GateConfig) -> Vec<MeasureGate<'_>> {
        self.entries
            .iter()
            .filter(|e| !e.retired)
            .map(|entry| MeasureGate {
                entry,
                state: gate_with(&entry.measure, &entry.duties, &self.security, today, cfg),
            })
            .collect()
    }

    /// Brings the generated measures in step with the organisation: one per configured
    /// vehicle purpose (new ones are added as planned, their facts follow the organisation),
    /// and those no vehicle has any more are retired. What the register file added to them
    /// (status, start, duty records) is kept.
    pub fn sync_org(&mut self, o: &org::Org) -> Vec<Change> {
        let generated = measures_from_org(o);
        let mut changes = Vec::new();
        for m in &generated {
            match self.entry_mut(&m.id) {
                Some(e) => {
                    if e.retired {
                        e.retired = false;
                        changes.push(change('+', &m.id, "in use again by the organisation"));
                    }
                    if e.measure.facts != m.facts {
                        e.measure.facts = m.facts.clone();
                        e.measure.assessment = m.assessment.clone();
                        changes.push(change(
                            '~',
                            &m.id,
                            format!(
                                "facts from the organisation, assessed {}",
                                m.assessment.verdict().as_str()
                            ),
                        ));
                    }
                }
                None => {
                    self.entries.push(Entry {
                        measure: m.clone(),
                        origin: Origin::Organisation,
                        retired: false,
                        duties: Duties::default(),
                    });
                    changes.push(change(
                        '+',
                        &m.id,
                        format!(
                            "measure generated from the organisation, assessed {}",
                            m.assessment.verdict().as_str()
                        ),
                    ));
                }
            }
        }
        for e in &mut self.entries {
            if e.origin == Origin::Organisation
                && !e.retired
                && !generated.iter().any(|m| m.id == e.measure.id)
            {
                e.retired = true;
                changes.push(change(
                    '-',
                    &e.measure.id,
                    "retired: no vehicle has this purpose any more (records kept)",
                ));
            }
        }
        changes
    }
}
