//! The duty records a measure carries, each with who recorded it, when, and its source.
//!
//! A record dated after `now` does not count as done: the gate looks only at what has happened.

use serde::{Deserialize, Serialize};
use time::Date;

/// What every duty record says about itself: its code (assess's duty code where there is one)
/// and the provision it fulfils.
pub trait Duty {
    const CODE: &'static str;
    const CITATION: &'static str;
    /// The day the duty was done.
    fn done_on(&self) -> Date;
}

macro_rules! duty {
    ($t:ty, $code:literal, $cit:literal, $field:ident) => {
        impl Duty for $t {
            const CODE: &'static str = $code;
            const CITATION: &'static str = $cit;
            fn done_on(&self) -> Date {
                self.$field
            }
        }
    };
}

/// The balancing test (interesseavveining), GDPR art. 6(1)(f).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalancingTest {
    pub by: String,
    /// The organisation's legitimate interest.
    pub interest: String,
    /// Why the measure is necessary for it, and why less intrusive means do not do.
    pub necessity: String,
    /// The employees' interests and reasonable expectations.
    pub employees_side: String,
    pub outcome: String,
    pub decided_on: Date,
}
duty!(
    BalancingTest,
    "balancing_test",
    "GDPR art. 6(1)(f)",
    decided_on
);

/// The data protection impact assessment, GDPR art. 35.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dpia {
    pub by: String,
    pub done_on: Date,
    /// The views of the employees or their representatives (art. 35(9)).
    pub employees_views: String,
    /// The data protection officer's advice (art. 35(2)); `None` when there is no DPO.
    pub dpo_advice: Option<String>,
    /// The risk that remains after the measures taken (art. 35(7)(c)–(d)); high means prior
    /// consultation with Datatilsynet before processing (art. 36(1)).
    pub residual_risk: Option<RiskLevel>,
}

/// A level of risk to the employees' rights and freedoms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    Low,
    Medium,
    High,
}

impl RiskLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            RiskLevel::Low => "low",
            RiskLevel::Medium => "medium",
            RiskLevel::High => "high",
        }
    }

    pub fn parse(s: &str) -> Option<RiskLevel> {
        [RiskLevel::Low, RiskLevel::Medium, RiskLevel::High]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// Prior consultation with Datatilsynet (GDPR art. 36(1)): due before processing when the DPIA
/// records a high residual risk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorConsultation {
    pub by: String,
    pub submitted_on: Date,
    /// Datatilsynet's written advice (art. 36(2)), once given.
    pub advice: Option<String>,
}
duty!(
    PriorConsultation,
    "prior_consultation",
    "GDPR art. 36 (1) og (2)",
    submitted_on
);

/// The privacy officer's closing of a period a measure ran without a duty that was due before
/// it started (a late discussion or information): what was done about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LateClosure {
    /// `discussion` or `information`.
    pub duty: String,
    pub by: String,
    pub closed_on: Date,
    pub note: String,
}

/// The internal-control routine to catch private driving in the driving log (seed 001 4):
/// who reviews the log, how often and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivateDrivingRoutine {
    pub by: String,
    /// Who carries out the review (a role, e.g. the log keeper).
    pub reviewer: String,
    pub interval_months: u32,
    pub how: String,
    pub adopted_on: Date,
}
duty!(
    PrivateDrivingRoutine,
    "private_driving_routine",
    "GDPR art. 5(2) og 24; Datatilsynet, «Sporingsteknologi i kjøretøy» (2016) pkt. 4",
    adopted_on
);

/// One review under the routine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivateDrivingReview {
    pub by: String,
    pub date: Date,
    pub notes: String,
}
duty!(Dpia, "dpia", "GDPR art. 35 (2) og (9)", done_on);

/// Discussion with the employees' representatives (arbeidsmiljøloven § 9-2 (1)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discussion {
    pub by: String,
    pub date: Date,
    pub participants: Vec<String>,
    pub minutes: String,
}
duty!(
    Discussion,
    "discussion",
    "arbeidsmiljøloven § 9-2 (1)",
    date
);

/// The information to employees before the measure starts (arbeidsmiljøloven § 9-2 (2) a–c and
/// GDPR art. 13).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Information {
    pub by: String,
    /// The controller: the employer's name and contact.
    pub controller: String,
    /// § 9-2 (2) a.
    pub purpose: String,
    /// § 9-2 (2) b: the practical consequences…
    pub practical_consequences: String,
    /// …including how the measure is carried out.
    pub how_carried_out: String,
    /// § 9-2 (2) c.
    pub expected_duration: String,
    /// Art. 13 (1) c.
    pub legal_basis: String,
    /// Art. 13 (2) a.
    pub retention: String,
    /// Art. 13 (1) e: recipients, who has access.
    pub access: String,
    pub published_on: Date,
    /// Art. 13 (1) b: the data protection officer's contact, where there is one.
    pub dpo_contact: Option<String>,
    /// Art. 13 (1) f: transfers to countries outside the EU/EEA, and on what basis; `None`
    /// when none is stated.
    pub transfers_abroad: Option<String>,
}
duty!(
    Information,
    "information",
    "arbeidsmiljøloven § 9-2 (2) a–c; GDPR art. 13",
    published_on
);

impl Information {
    /// The parts a notice must have that are left empty.
    pub fn empty_parts(&self) -> Vec<&'static str> {
        [
            ("controller", &self.controller),
            ("purpose", &self.purpose),
            ("practical_consequences", &self.practical_consequences),
            ("how_carried_out", &self.how_carried_out),
            ("expected_duration", &self.expected_duration),
            ("legal_basis", &self.legal_basis),
            ("retention", &self.retention),
            ("access", &self.access),
        ]
        .into_iter()
        .filter(|(_, v)| v.trim().is_empty())
        .map(|(k, _)| k)
        .collect()
    }
}

/// One employee's acknowledgement of the information.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledgement {
    /// The employee number.
    pub employee: String,
    pub on: Date,
}
duty!(
    Acknowledgement,
    "acknowledgement",
    "arbeidsmiljøloven § 9-2 (2)",
    on
);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Continue,
    /// End the measure: collection stops and deletion must be scheduled.
    End,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Continue => "continue",
            Decision::End => "end",
        }
    }

    pub fn parse(s: &str) -> Option<Decision> {
        match s {
            "continue" => Some(Decision::Continue),
            "end" => Some(Decision::End),
            _ => None,
        }
    }
}

/// The regular evaluation of the need for the measure with the representatives
/// (arbeidsmiljøloven § 9-2 (3)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub by: String,
    pub date: Date,
    pub with_representatives: Vec<String>,
    pub need_still_present: bool,
    pub decision: Decision,
    /// Why the measure continues although the need is recorded as gone. Without it an
    /// evaluation that finds the need gone ends the measure (seed 001 3.2).
    pub reason_to_continue: Option<String>,
}

impl Evaluation {
    /// Whether this evaluation ends the measure: decided so, or the need is gone and no reason
    /// to continue is recorded (seed 001 3.2: «Hvis behovet ikke lenger er tilstede, må tiltaket
    /// bringes til opphør»).
    pub fn ends_measure(&self) -> bool {
        self.decision == Decision::End
            || (!self.need_still_present
                && self
                    .reason_to_continue
                    .as_deref()
                    .is_none_or(|r| r.trim().is_empty()))
    }
}
duty!(
    Evaluation,
    "evaluation",
    "arbeidsmiljøloven § 9-2 (3)",
    date
);

/// A data processing agreement with a supplier (GDPR art. 28).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessorAgreement {
    pub by: String,
    pub processor: String,
    pub signed_on: Date,
    /// The points of GDPR art. 28(3) a–h the agreement covers ([`ART28_POINTS`]).
    pub covers: Vec<String>,
    /// The processor's own duty to keep the data secure (art. 28(3)(c) and 32): what it does.
    pub processor_security: String,
    /// The services Sporvern can be configured to use that this processor runs: `address`
    /// (address lookup, `address_lookup_url`) and `map_tiles` (`map_tiles_url`).
    pub services: Vec<String>,
}

/// What a data processing agreement must stipulate (GDPR art. 28(3) a–h), by key.
pub const ART28_POINTS: &[(&str, &str, &str)] = &[
    (
        "instructions",
        "a) behandler bare etter dokumenterte instrukser",
        "a) processes only on documented instructions",
    ),
    (
        "confidentiality",
        "b) taushetsplikt for dem som behandler opplysningene",
        "b) confidentiality of those who process the data",
    ),
    (
        "security",
        "c) sikkerhetstiltak etter art. 32",
        "c) the security measures of art. 32",
    ),
    (
        "sub_processors",
        "d) vilkår for underdatabehandlere",
        "d) conditions for sub-processors",
    ),
    (
        "data_subject_rights",
        "e) bistand med de registrertes rettigheter",
        "e) assistance with the data subjects' rights",
    ),
    (
        "assistance",
        "f) bistand med art. 32–36 (sikkerhet, brudd, DPIA)",
        "f) assistance with art. 32–36 (security, breaches, DPIA)",
    ),
    (
        "deletion_or_return",
        "g) sletting eller tilbakelevering ved avtalens slutt",
        "g) deletion or return at the end of the agreement",
    ),
    (
        "audits",
        "h) informasjon og revisjon",
        "h) information and audits",
    ),
];

impl ProcessorAgreement {
    /// The art. 28(3) points not covered, in bokmål and English.
    pub fn missing_points(&self) -> Vec<(&'static str, &'static str)> {
        ART28_POINTS
            .iter()
            .filter(|(k, _, _)| !self.covers.iter().any(|c| c == k))
            .map(|(_, nb, en)| (*nb, *en))
            .collect()
    }
}
duty!(
    ProcessorAgreement,
    "processor_agreement",
    "GDPR art. 28",
    signed_on
);

/// The information-security risk assessment before the measure (seed 000 advice 4; seed 001
/// 5.1; GDPR art. 32).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskAssessment {
    pub by: String,
    pub done_on: Date,
    /// For a security measure: why it is needed for an acceptable level of risk.
    pub conclusion: String,
    /// Whether the assessment shows the measure is necessary to reach an acceptable level of
    /// risk (seed 000, «Data loss prevention»); passed to the engine as
    /// `risk_assessment_shows_necessity`.
    pub shows_necessity: Option<bool>,
}
duty!(
    RiskAssessment,
    "risk_assessment",
    "GDPR art. 32; Datatilsynet, «Overvåking av ansattes bruk av elektronisk utstyr», råd nr. 4; Datatilsynet, «Sporingsteknologi i kjøretøy» (2016) pkt. 5.1",
    done_on
);

/// Whether a collective agreement requires discussion (seed 000 advice 5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TariffCheck {
    pub by: String,
    pub checked_on: Date,
    /// The agreements looked at; empty when the organisation is bound by none.
    pub agreements: Vec<String>,
    pub requires_discussion: bool,
}
duty!(
    TariffCheck,
    "tariff_check",
    "Datatilsynet, «Overvåking av ansattes bruk av elektronisk utstyr», råd til arbeidsgiveren nr. 5",
    checked_on
);

/// A review of who holds which role and so may see which data (seed 001 5.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleReview {
    pub by: String,
    pub date: Date,
    pub notes: String,
}
duty!(
    RoleReview,
    "role_review",
    "GDPR art. 32; Datatilsynet, «Sporingsteknologi i kjøretøy» (2016) pkt. 5.3",
    date
);

/// Everything on record for one measure.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Duties {
    pub balancing_test: Option<BalancingTest>,
    pub dpia: Option<Dpia>,
    pub discussions: Vec<Discussion>,
    pub information: Option<Information>,
    pub acknowledgements: Vec<Acknowledgement>,
    pub evaluations: Vec<Evaluation>,
    pub processor_agreements: Vec<ProcessorAgreement>,
    pub risk_assessment: Option<RiskAssessment>,
    pub tariff_check: Option<TariffCheck>,
    pub role_reviews: Vec<RoleReview>,
    pub prior_consultation: Option<PriorConsultation>,
    pub late_closures: Vec<LateClosure>,
    pub private_driving_routine: Option<PrivateDrivingRoutine>,
    pub private_driving_reviews: Vec<PrivateDrivingReview>,
}

fn by<T: Duty>(x: &T, now: Date) -> bool {
    x.done_on() <= now
}

impl Duties {
    pub fn balancing_test_done(&self, now: Date) -> bool {
        self.balancing_test.as_ref().is_some_and(|x| by(x, now))
    }

    pub fn dpia_done(&self, now: Date) -> bool {
        self.dpia.as_ref().is_some_and(|x| by(x, now))
    }

    pub fn discussed(&self, now: Date) -> bool {
        self.discussions.iter().any(|x| by(x, now))
    }

    /// The information, if published by `now`.
    pub fn published_information(&self, now: Date) -> Option<&Information> {
        self.information.as_ref().filter(|x| by(*x, now))
    }

    pub fn risk_assessed(&self, now: Date) -> bool {
        self.risk_assessment.as_ref().is_some_and(|x| by(x, now))
    }

    pub fn tariff_checked(&self, now: Date) -> Option<&TariffCheck> {
        self.tariff_check.as_ref().filter(|x| by(*x, now))
    }

    pub fn has_processor_agreement(&self, processor: &str, now: Date) -> bool {
        self.processor_agreement(processor, now).is_some()
    }

    /// The agreement with `processor` signed by `now`.
    pub fn processor_agreement(&self, processor: &str, now: Date) -> Option<&ProcessorAgreement> {
        self.processor_agreements
            .iter()
            .find(|a| a.processor == processor && by(*a, now))
    }

    /// An agreement signed by `now` that covers the configured service `service`.
    pub fn agreement_for_service(&self, service: &str, now: Date) -> Option<&ProcessorAgreement> {
        self.processor_agreements
            .iter()
            .find(|a| a.services.iter().any(|s| s == service) && by(*a, now))
    }

    pub fn prior_consultation_done(&self, now: Date) -> bool {
        self.prior_consultation.as_ref().is_some_and(|x| by(x, now))
    }

    pub fn private_driving_routine(&self, now: Date) -> Option<&PrivateDrivingRoutine> {
        self.private_driving_routine
            .as_ref()
            .filter(|x| by(*x, now))
    }

    /// The latest review under the private-driving routine held by `now`.
    pub fn latest_private_driving_review(&self, now: Date) -> Option<&PrivateDrivingReview> {
        self.private_driving_reviews
            .iter()
            .filter(|r| r.date <= now)
            .max_by_key(|r| r.date)
    }

    /// Whether the privacy officer has closed the late period of `duty`.
    pub fn late_closed(&self, duty: &str, now: Date) -> bool {
        self.late_closures
            .iter()
            .any(|c| c.duty == duty && c.closed_on <= now)
    }

    /// The latest evaluation held by `now`.
    pub fn latest_evaluation(&self, now: Date) -> Option<&Evaluation> {
        self.evaluations
            .iter()
            .filter(|e| by(*e, now))
            .max_by_key(|e| e.date)
    }

    pub fn latest_role_review(&self, now: Date) -> Option<&RoleReview> {
        self.role_reviews
            .iter()
            .filter(|e| by(*e, now))
            .max_by_key(|e| e.date)
    }

    /// The employees (by number) among `employees` who have not acknowledged the information.
    pub fn unacknowledged<'a>(&self, employees: &[&'a str]) -> Vec<&'a str> {
        employees
            .iter()
            .copied()
            .filter(|e| !self.acknowledgements.iter().any(|a| a.employee == *e))
            .collect()
    }
}
