//! The compliance gate: may a measure collect, and if not, what exactly is missing.
//!
//! A measure collects nothing until its latest assessment is lawful (`compliant`,
//! `outside_prohibition` or `permitted_exception`) and every duty due before start is on
//! record: the balancing test (GDPR 6(1)(f)); the DPIA where required (art. 35; always for
//! systematic monitoring of employees and always for driver behaviour); the discussion with the
//! representatives (aml. § 9-2 (1)), also when a collective agreement requires it (seed 000
//! advice 5); the information to employees, published and complete (§ 9-2 (2), art. 13); the
//! processor agreement when a processor is named (art. 28); the risk assessment (seed 000
//! advice 4; seed 001 5.1). Which of these apply is decided by the duties assess lists for the
//! measure, so the law stays in assess's `rules.toml`; the gate adds only what the register
//! knows (a named processor, the driver-behaviour rule, the tariff check's answer).
//!
//! An evaluation overdue by more than a grace period (default 30 days) raises a warning to the
//! privacy officer and the representatives but does NOT stop collection. The law asks that the
//! employer evaluates the need *together with the representatives* (§ 9-2 (3)); that is a
//! meeting people must hold, not something the software can do for them by switching a purpose
//! off. Silently stopping a driving log would also break the employer's documentation to the
//! tax authorities and surprise drivers, dispatchers and representatives alike. The remedy is
//! the warning, to the people who can hold the evaluation, and the option they have there to
//! end the measure: an evaluation with decision `end` (or status `Ended`) does stop collection,
//! and the gate then says that deletion must be scheduled.

use assess::{Assessment, Code, Verdict};
use time::{Date, Duration, Month};

use crate::duties::{Decision, Duties, Duty};
use crate::measure::{LegalBasis, Measure, Status};

/// Intervals and grace periods. Defaults: evaluation and role review every 12 months, a 30-day
/// grace before an overdue one is warned about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateConfig {
    pub evaluation_interval_months: u32,
    pub evaluation_grace_days: i64,
    pub role_review_interval_months: u32,
}

impl Default for GateConfig {
    fn default() -> Self {
        GateConfig {
            evaluation_interval_months: 12,
            evaluation_grace_days: 30,
            role_review_interval_months: 12,
        }
    }
}

/// Something missing before the measure may collect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    /// assess's duty or finding code where there is one (`dpia`, `information`, `excess_data`
    /// …), the verdict code when the assessment is not lawful, or one of the register's own
    /// (`measure_ended`).
    pub code: String,
    pub citation: String,
    pub text_nb: String,
    pub text_en: String,
}

/// Who must hear about a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipient {
    PrivacyOfficer,
    Representatives,
}

/// Something to act on that does not stop collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// `evaluation_overdue`, `role_review_overdue`, `consent_basis`, `unknown_facts`.
    pub code: String,
    pub citation: String,
    pub text_nb: String,
    pub text_en: String,
    pub notify: Vec<Recipient>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateState {
    /// The measure's verdict as the register knows it ([`assessed`]): the one verdict every
    /// door (web, API, command line, documents) shows.
    pub verdict: Verdict,
    pub may_collect: bool,
    pub missing: Vec<Missing>,
    pub warnings: Vec<Warning>,
    /// The measure has ended: its data must be scheduled for deletion.
    pub schedule_deletion: bool,
    /// When the next evaluation with the representatives falls due, for a started measure that
    /// needs one.
    pub next_evaluation_due: Option<Date>,
}

impl GateState {
    pub fn missing_codes(&self) -> Vec<&str> {
        self.missing.iter().map(|m| m.code.as_str()).collect()
    }

    pub fn warning_codes(&self) -> Vec<&str> {
        self.warnings.iter().map(|m| m.code.as_str()).collect()
    }
}

/// The register's own notes: code, citation, bokmål, English. The duties assess knows are
/// looked up in its rule table instead.
const MEASURE_ENDED: (&str, &str, &str, &str) = (
    "measure_ended",
    "arbeidsmiljøloven § 9-2 (3); GDPR art. 5(1)(e) og 17",
    "Tiltaket er avsluttet. Det skal ikke samles inn mer, og sletting av opplysningene må planlegges.",
    "The measure has ended. Nothing more may be collected, and deletion of the data must be scheduled.",
);
const DRIVER_BEHAVIOUR: (&str, &str, &str, &str) = (
    "driver_behaviour_basis",
    "GDPR art. 6(1)(f) og 35; «Sporingsteknologi i kjøretøy» pkt. 2.2.5 «Registrering av detaljopplysninger»",
    "Kjøreatferd (sensordata) krever alltid en dokumentert interesseavveining og en DPIA før innsamling.",
    "Driver behaviour (sensor data) always needs a documented balancing test and a DPIA before collection.",
);
const INFORMATION_INCOMPLETE: (&str, &str) = ("Informasjonen mangler: ", "The information lacks: ");
const PROCESSOR: (&str, &str) = (
    "Det mangler databehandleravtale med ",
    "No data processing agreement is on record with ",
);
const TARIFF_DISCUSSION: (&str, &str, &str) = (
    "«Overvåking av ansattes bruk av elektronisk utstyr», råd til arbeidsgiveren nr. 5; arbeidsmiljøloven § 9-2 (1)",
    "Tariffavtalen krever drøfting med de tillitsvalgte før tiltaket settes i gang.",
    "The collective agreement requires discussion with the representatives before the measure starts.",
);
const EVALUATION_OVERDUE: (&str, &str, &str, &str) = (
    "evaluation_overdue",
    "arbeidsmiljøloven § 9-2 (3)",
    "Evalueringen av behovet for tiltaket sammen med de tillitsvalgte er forfalt. Innsamlingen fortsetter; hold evalueringen, og avslutt tiltaket der om behovet ikke lenger er til stede.",
    "The evaluation of the need for the measure with the representatives is overdue. Collection continues; hold the evaluation, and end the measure there if the need is no longer present.",
);
const ROLE_REVIEW_OVERDUE: (&str, &str, &str, &str) = (
    "role_review_overdue",
    "GDPR art. 32; «Sporingsteknologi i kjøretøy» pkt. 5.3",
    "Gjennomgangen av hvem som har hvilken rolle og tilgang, er forfalt.",
    "The review of who holds which role and access is overdue.",
);
const CONSENT_BASIS: (&str, &str, &str, &str) = (
    "consent_basis",
    "GDPR art. 4(11) og 7; «Sporingsteknologi i kjøretøy» pkt. 2.2.1",
    "Samtykke er valgt som behandlingsgrunnlag. I et arbeidsforhold er samtykke sjelden frivillig; bruk normalt en interesseavveining (art. 6(1)(f)).",
    "Consent is chosen as the legal basis. In employment consent is rarely free; normally use a balancing test (art. 6(1)(f)).",
);
const UNKNOWN_FACTS: (&str, &str, &str, &str) = (
    "unknown_facts",
    "GDPR art. 5(2)",
    "Vurderingen bygger på antakelser: noen fakta som kan endre resultatet, er ikke oppgitt.",
    "The assessment rests on presumptions: some facts that could change the result are not given.",
);

fn own(n: (&str, &str, &str, &str)) -> Missing {
    Missing {
        code: n.0.into(),
        citation: n.1.into(),
        text_nb: n.2.into(),
        text_en: n.3.into(),
    }
}

fn warning(n: (&str, &str, &str, &str), notify: &[Recipient]) -> Warning {
    Warning {
        code: n.0.into(),
        citation: n.1.into(),
        text_nb: n.2.into(),
        text_en: n.3.into(),
        notify: notify.to_vec(),
    }
}

/// A missing item from assess's rule table.
fn from_rule(code: Code) -> Missing {
    match assess::rule(code) {
        Some(e) => Missing {
            code: e.code.clone(),
            citation: e.citation.clone(),
            text_nb: e.text_nb.clone(),
            text_en: e.text_en.clone(),
        },
        None => Missing {
            code: code.as_str().into(),
            citation: String::new(),
            text_nb: String::new(),
            text_en: String::new(),
        },
    }
}

/// Whether a verdict lets a measure collect.
pub fn is_lawful(v: Verdict) -> bool {
    matches!(
        v,
        Verdict::Compliant | Verdict::OutsideProhibition | Verdict::PermittedException
    )
}

/// `date` plus `months` calendar months, the day clamped to the month's length.
pub fn add_months(date: Date, months: u32) -> Date {
    let m0 = date.month() as i32 - 1 + months as i32;
    let year = date.year() + m0.div_euclid(12);
    let month = Month::try_from((m0.rem_euclid(12) + 1) as u8).unwrap_or(Month::January);
    let last = month.length(year);
    Date::from_calendar_date(year, month, date.day().min(last)).unwrap_or(date)
}

/// The gate with the default intervals.
pub fn gate(m: &Measure, d: &Duties, now: Date) -> GateState {
    gate_with(m, d, now, &GateConfig::default())
}

/// When the next evaluation falls due: the interval after the latest evaluation, or after the
/// start when none has been held. `None` before the measure starts or when none is required.
pub fn next_evaluation_due(m: &Measure, d: &Duties, now: Date, cfg: &GateConfig) -> Option<Date> {
    if !m.assessment.duties().contains(&Code::Evaluation) {
        return None;
    }
    let from = d.latest_evaluation(now).map(|e| e.date).or(m.started_on)?;
    Some(add_months(from, cfg.evaluation_interval_months))
}

/// The measure as the register knows it on `today`: its facts completed with what the register
/// records about it, and assessed again. This is the single source of a measure's verdict:
/// the gate, `Entry::verdict`, the web, the API, the command line and the documents all read
/// it from here.
///
/// What the register adds: a balancing test on record answers `legal_basis_recorded = true`
/// (GDPR art. 5(2): the register is where the basis is documented).
pub fn assessed(m: &Measure, d: &Duties, today: Date) -> Measure {
    let vehicle = matches!(m.assessment, Assessment::VehicleTracking(_));
    let mut extra: Vec<(&str, toml::Value)> = Vec::new();
    if vehicle && d.balancing_test_done(today) {
        extra.push(("legal_basis_recorded", toml::Value::Boolean(true)));
    }
    if extra.is_empty() {
        return m.clone();
    }
    let Ok(mut table) = m.facts.parse::<toml::Table>() else {
        return m.clone();
    };
    for (k, v) in extra {
        table.insert(k.into(), v);
    }
    let mut out = m.clone();
    match toml::to_string(&table).map(|facts| out.reassess(facts)) {
        Ok(Ok(())) => out,
        _ => m.clone(),
    }
}

pub fn gate_with(m: &Measure, d: &Duties, now: Date, cfg: &GateConfig) -> GateState {
    let recorded = assessed(m, d, now);
    let m = &recorded;
    let a = &m.assessment;
    let duties = a.duties();
    let needs = |c: Code| duties.contains(&c);
    let mut missing = Vec::new();
    let mut warnings = Vec::new();

    let ended = m.status == Status::Ended
        || d.latest_evaluation(now)
            .is_some_and(|e| e.decision == Decision::End);
    if ended {
        missing.push(own(MEASURE_ENDED));
    }

    // Lawfulness, on the facts as the register knows them (`assessed`).
    let basis_on_record = d.balancing_test_done(now);
    let findings: Vec<Code> = match a {
        Assessment::VehicleTracking(v) => v.findings.clone(),
        Assessment::ElectronicEquipment(_) => Vec::new(),
    };
    let verdict = a.verdict();
    if !is_lawful(verdict) {
        let v = a.verdict();
        let (citation, nb, en) = assess::verdict(v)
            .map(|e| (e.citation.clone(), e.text_nb.clone(), e.text_en.clone()))
            .unwrap_or_default();
        missing.push(Missing {
            code: v.as_str().into(),
            citation,
            text_nb: nb,
            text_en: en,
        });
        missing.extend(findings.iter().map(|f| from_rule(*f)));
        if needs(Code::StopMeasure) {
            missing.push(from_rule(Code::StopMeasure));
        }
    }

    let driver_behaviour = m.is_driver_behaviour();
    if driver_behaviour && (!basis_on_record || !d.dpia_done(now)) {
        missing.push(own(DRIVER_BEHAVIOUR));
    }

    if (needs(Code::BalancingTest) || driver_behaviour) && !basis_on_record {
        missing.push(from_rule(Code::BalancingTest));
    }
    let systematic = match a {
        Assessment::ElectronicEquipment(e) => e.monitoring == Some(true),
        Assessment::VehicleTracking(_) => false,
    };
    if (needs(Code::Dpia) || driver_behaviour || systematic) && !d.dpia_done(now) {
        missing.push(from_rule(Code::Dpia));
    }
    let tariff = d.tariff_checked(now);
    if needs(Code::TariffCheck) && tariff.is_none() {
        missing.push(from_rule(Code::TariffCheck));
    }
    let tariff_requires = tariff.is_some_and(|t| t.requires_discussion);
    if !d.discussed(now) {
        if needs(Code::Discussion) {
            missing.push(from_rule(Code::Discussion));
        } else if tariff_requires {
            missing.push(Missing {
                code: "discussion".into(),
                citation: TARIFF_DISCUSSION.0.into(),
                text_nb: TARIFF_DISCUSSION.1.into(),
                text_en: TARIFF_DISCUSSION.2.into(),
            });
        }
    }
    for info_code in [Code::Information, Code::InformationGdpr] {
        if !needs(info_code) {
            continue;
        }
        match d.published_information(now) {
            None => missing.push(from_rule(info_code)),
            Some(i) => {
                let empty = i.empty_parts();
                if !empty.is_empty() {
                    let mut x = from_rule(info_code);
                    x.text_nb = format!(
                        "{}{}. {}",
                        INFORMATION_INCOMPLETE.0,
                        empty.join(", "),
                        x.text_nb
                    );
                    x.text_en = format!(
                        "{}{}. {}",
                        INFORMATION_INCOMPLETE.1,
                        empty.join(", "),
                        x.text_en
                    );
                    missing.push(x);
                }
            }
        }
    }
    if let Some(p) = &m.processor
        && !d.has_processor_agreement(p, now)
    {
        let mut x = from_rule(Code::ProcessorAgreement);
        x.citation = crate::duties::ProcessorAgreement::CITATION.into();
        x.text_nb = format!("{}{p}. {}", PROCESSOR.0, x.text_nb);
        x.text_en = format!("{}{p}. {}", PROCESSOR.1, x.text_en);
        missing.push(x);
    }
    if needs(Code::RiskAssessment) && !d.risk_assessed(now) {
        missing.push(from_rule(Code::RiskAssessment));
    }

    // Warnings: they never stop collection.
    let next_evaluation_due = if ended {
        None
    } else {
        next_evaluation_due(m, d, now, cfg)
    };
    if let Some(due) = next_evaluation_due
        && now > due + Duration::days(cfg.evaluation_grace_days)
    {
        warnings.push(warning(
            EVALUATION_OVERDUE,
            &[Recipient::PrivacyOfficer, Recipient::Representatives],
        ));
    }
    if !ended && needs(Code::AccessControl) {
        let from = d.latest_role_review(now).map(|r| r.date).or(m.started_on);
        if let Some(from) = from
            && now > add_months(from, cfg.role_review_interval_months)
        {
            warnings.push(warning(ROLE_REVIEW_OVERDUE, &[Recipient::PrivacyOfficer]));
        }
    }
    if m.legal_basis == LegalBasis::Consent {
        warnings.push(warning(CONSENT_BASIS, &[Recipient::PrivacyOfficer]));
    }
    if !a.unknown().is_empty() {
        warnings.push(warning(UNKNOWN_FACTS, &[Recipient::PrivacyOfficer]));
    }

    GateState {
        verdict,
        may_collect: missing.is_empty(),
        missing,
        warnings,
        schedule_deletion: ended,
        next_evaluation_due,
    }
}
