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
//! and the gate then says that deletion must be scheduled. So does an evaluation that records
//! the need as gone without a reason to continue (seed 001 3.2: «Hvis behovet ikke lenger er
//! tilstede, må tiltaket bringes til opphør»).
//!
//! Also before start: the private-driving routine of a driving log (seed 001 4: the
//! internal-control system is in place «forut for behandlingen»); the organisation's criteria
//! for acceptable risk before a risk assessment counts (seed 001 5.1), and for the
//! security-breach exception the assessment's conclusion that the measure is needed (seed 000,
//! «Data loss prevention»); the art. 28(3) content of a named processor's agreement (seed 001
//! 7); prior consultation when the DPIA records a high residual risk (GDPR art. 36(1)).
//!
//! Warnings, which never stop collection: a discussion or information recorded after the start
//! (the period it ran without them is a deviation the privacy officer closes, `late_closures`);
//! a private-driving review due under the routine; missing security goals and strategy (5.2)
//! or a deviation routine known to staff (5.4); a configured address lookup or map tile server
//! (`GateConfig::services`) without a processor agreement linked to it; consent as the basis of
//! a measure that is not a control measure; unknown facts.

use assess::{Assessment, Code, Verdict};
use time::{Date, Duration, Month};

use crate::duties::{Duties, Duty, ProcessorAgreement as Agreement, RiskLevel};
use crate::measure::{Concerned, LegalBasis, Measure, MeasureKind, Status};
use crate::security::Security;

/// The third-party services Sporvern is configured to use, each of which receives personal
/// data and so needs a processor agreement (GDPR art. 28): the address lookup
/// (`address_lookup_url`: trip ends) and the map tiles (`map_tiles_url`: which area a
/// dispatcher or security operator views).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Services {
    pub address_lookup: bool,
    pub map_tiles: bool,
}

/// Intervals, grace periods and the configured services. Defaults: evaluation and role review
/// every 12 months, a 30-day grace before an overdue one is warned about, no services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateConfig {
    pub evaluation_interval_months: u32,
    pub evaluation_grace_days: i64,
    pub role_review_interval_months: u32,
    pub services: Services,
}

impl Default for GateConfig {
    fn default() -> Self {
        GateConfig {
            evaluation_interval_months: 12,
            evaluation_grace_days: 30,
            role_review_interval_months: 12,
            services: Services::default(),
        }
    }
}

/// A duty due before start that was recorded after the measure started: the period it ran
/// without it is a deviation the privacy officer must close (`Duties::late_closures`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LateDuty {
    /// `discussion` or `information`.
    pub duty: String,
    pub from: Date,
    pub until: Date,
    pub closed: bool,
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
    /// Duties due before start that came after it (each also a warning until closed).
    pub late: Vec<LateDuty>,
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
    "GDPR art. 6(1)(f) og 35; Datatilsynet, «Sporingsteknologi i kjøretøy» (2016) pkt. 2.2.5 «Registrering av detaljopplysninger»",
    "Kjøreatferd (sensordata) krever alltid en dokumentert interesseavveining og en DPIA før innsamling.",
    "Driver behaviour (sensor data) always needs a documented balancing test and a DPIA before collection.",
);
const INFORMATION_INCOMPLETE: (&str, &str) = ("Informasjonen mangler: ", "The information lacks: ");
const PROCESSOR: (&str, &str) = (
    "Det mangler databehandleravtale med ",
    "No data processing agreement is on record with ",
);
const TARIFF_DISCUSSION: (&str, &str, &str) = (
    "Datatilsynet, «Overvåking av ansattes bruk av elektronisk utstyr», råd til arbeidsgiveren nr. 5; arbeidsmiljøloven § 9-2 (1)",
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
    "GDPR art. 32; Datatilsynet, «Sporingsteknologi i kjøretøy» (2016) pkt. 5.3",
    "Gjennomgangen av hvem som har hvilken rolle og tilgang, er forfalt.",
    "The review of who holds which role and access is overdue.",
);
const CONSENT_BASIS: (&str, &str, &str, &str) = (
    "consent_basis",
    "GDPR art. 4(11) og 7; Datatilsynet, «Sporingsteknologi i kjøretøy» (2016) pkt. 2.2.1",
    "Samtykke er valgt som behandlingsgrunnlag. I et arbeidsforhold er samtykke sjelden frivillig; bruk normalt en interesseavveining (art. 6(1)(f)).",
    "Consent is chosen as the legal basis. In employment consent is rarely free; normally use a balancing test (art. 6(1)(f)).",
);
const NEED_GONE: (&str, &str, &str, &str) = (
    "need_gone",
    "arbeidsmiljøloven § 9-2 (3); Datatilsynet, «Sporingsteknologi i kjøretøy» (2016) pkt. 3.2",
    "Evalueringen fant at behovet for tiltaket ikke lenger er til stede, og ingen grunn til å fortsette er registrert. Da må tiltaket bringes til opphør: det samles ikke inn mer, og sletting må planlegges.",
    "The evaluation found the need for the measure no longer present, and no reason to continue is recorded. The measure must then end: nothing more is collected, and deletion must be scheduled.",
);
const PRIOR_CONSULTATION: (&str, &str, &str, &str) = (
    "prior_consultation",
    "GDPR art. 36 (1)",
    "DPIA-en viser høy restrisiko. Datatilsynet skal konsulteres før behandlingen starter.",
    "The DPIA shows a high residual risk. Datatilsynet must be consulted before processing starts.",
);
const RISK_NECESSITY_UNRECORDED: (&str, &str) = (
    "Risikovurderingen sier ikke om tiltaket er nødvendig for å oppnå et akseptabelt risikonivå. ",
    "The risk assessment does not say whether the measure is necessary to reach an acceptable level of risk. ",
);
const ACCEPTANCE_CRITERIA: (&str, &str, &str, &str) = (
    "risk_acceptance_criteria",
    "GDPR art. 32; Datatilsynet, «Sporingsteknologi i kjøretøy» (2016) pkt. 5.1",
    "Virksomheten har ikke fastlagt kriterier for akseptabel risiko. Risikovurderingen skal måles mot dem.",
    "The organisation has not set criteria for acceptable risk. The risk assessment is to be measured against them.",
);
const GOALS_STRATEGY: (&str, &str, &str, &str) = (
    "security_goals_missing",
    "GDPR art. 24 og 32; Datatilsynet, «Sporingsteknologi i kjøretøy» (2016) pkt. 5.2",
    "Sikkerhetsmål og sikkerhetsstrategi er ikke registrert: formålet med behandlingen, føringene for bruk av informasjonsteknologi og valgene som er gjort.",
    "No security goals and strategy are recorded: the purpose of the processing, the principles for using information technology and the choices made.",
);
const DEVIATION_ROUTINE: (&str, &str, &str, &str) = (
    "deviation_routine_missing",
    "GDPR art. 33 (5); Datatilsynet, «Sporingsteknologi i kjøretøy» (2016) pkt. 5.4",
    "Det er ikke registrert en rutine for avvikshåndtering som de ansatte kjenner til: hva et avvik er, og hvordan det rapporteres og følges opp.",
    "No deviation routine known to staff is recorded: what a deviation is, and how it is reported and followed up.",
);
const PRIVATE_DRIVING_REVIEW_DUE: (&str, &str, &str, &str) = (
    "private_driving_review_due",
    "GDPR art. 5(2) og 24; Datatilsynet, «Sporingsteknologi i kjøretøy» (2016) pkt. 4",
    "Gjennomgangen av kjøreboken for å fange opp privat kjøring er forfalt etter rutinen.",
    "The review of the driving log to catch private driving is due under the routine.",
);
const SERVICE_WITHOUT_AGREEMENT: (&str, &str, &str, &str) = (
    "service_without_processor_agreement",
    "GDPR art. 28 (1) og (3)",
    "er satt opp, men ingen databehandleravtale er knyttet til tjenesten. Tjenesten mottar personopplysninger; registrer avtalen med leverandøren (services = [...]) eller slå tjenesten av.",
    "is configured, but no data processing agreement is linked to the service. The service receives personal data; record the agreement with its provider (services = [...]) or switch the service off.",
);
const LATE: (&str, &str) = ("duty_late", "arbeidsmiljøloven § 9-2 (1) og (2)");
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

/// The gate with the default intervals and no configured services. `security` holds the
/// organisation's security records (`Register::security`).
pub fn gate(m: &Measure, d: &Duties, security: &Security, now: Date) -> GateState {
    gate_with(m, d, security, now, &GateConfig::default())
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
    let Ok(mut table) = m.facts.parse::<toml::Table>() else {
        return m.clone();
    };
    let before = table.clone();
    let words = |ws: &[&str]| {
        toml::Value::Array(
            ws.iter()
                .map(|w| toml::Value::String((*w).into()))
                .collect(),
        )
    };
    // Whom it concerns, unless the facts say so themselves.
    if !table.contains_key("concerns") {
        let mut groups: Vec<&str> = Vec::new();
        for c in &m.concerns {
            match c {
                Concerned::CurrentEmployees => groups.push("employees"),
                Concerned::FormerEmployees => groups.push("former_employees"),
                Concerned::ContractorsOrCustomers => groups.extend(["contractors", "customers"]),
            }
        }
        if !groups.is_empty() {
            table.insert("concerns".into(), words(&groups));
        }
    }
    if vehicle && !table.contains_key("legal_basis") {
        // The basis the register records: consent as chosen; the others as documented by a
        // balancing test (legitimate interests) or as chosen (contract, legal obligation).
        let basis = match m.legal_basis {
            LegalBasis::Consent => Some("consent"),
            LegalBasis::Contract => Some("contract"),
            LegalBasis::LegalObligation => Some("legal_obligation"),
            LegalBasis::LegitimateInterests => None,
        };
        if let Some(b) = basis {
            table.insert("legal_basis".into(), toml::Value::String(b.into()));
        } else if d.balancing_test_done(today) {
            table.insert("legal_basis_recorded".into(), toml::Value::Boolean(true));
        }
    }
    let security = matches!(&m.assessment, Assessment::ElectronicEquipment(_));
    if security
        && !table.contains_key("risk_assessment_shows_necessity")
        && let Some(shows) = d
            .risk_assessment
            .as_ref()
            .filter(|r| r.done_on <= today)
            .and_then(|r| r.shows_necessity)
    {
        table.insert(
            "risk_assessment_shows_necessity".into(),
            toml::Value::Boolean(shows),
        );
    }
    if table == before {
        return m.clone();
    }
    let mut out = m.clone();
    match toml::to_string(&table).map(|facts| out.reassess(facts)) {
        Ok(Ok(())) => out,
        _ => m.clone(),
    }
}

/// The one gate: `Register::gates`, `Register::purpose_may_collect` and every door read it.
pub fn gate_with(
    m: &Measure,
    d: &Duties,
    security: &Security,
    now: Date,
    cfg: &GateConfig,
) -> GateState {
    let recorded = assessed(m, d, now);
    let m = &recorded;
    let a = &m.assessment;
    let duties = a.duties();
    let needs = |c: Code| duties.contains(&c);
    let mut missing = Vec::new();
    let mut warnings = Vec::new();

    let latest = d.latest_evaluation(now);
    let need_gone = latest.is_some_and(|e| e.ends_measure() && e.decision != crate::Decision::End);
    let ended = m.status == Status::Ended || latest.is_some_and(|e| e.ends_measure());
    if ended {
        missing.push(own(MEASURE_ENDED));
    }
    if need_gone {
        missing.push(own(NEED_GONE));
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
    let high_residual = d
        .dpia
        .as_ref()
        .filter(|x| x.done_on <= now)
        .is_some_and(|x| x.residual_risk == Some(RiskLevel::High));
    if high_residual && !d.prior_consultation_done(now) {
        missing.push(own(PRIOR_CONSULTATION));
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
    if let Some(p) = &m.processor {
        match d.processor_agreement(p, now) {
            None => {
                let mut x = from_rule(Code::ProcessorAgreement);
                x.citation = Agreement::CITATION.into();
                x.text_nb = format!("{}{p}. {}", PROCESSOR.0, x.text_nb);
                x.text_en = format!("{}{p}. {}", PROCESSOR.1, x.text_en);
                missing.push(x);
            }
            Some(a) => {
                if let Some(x) = incomplete_agreement(a) {
                    missing.push(x);
                }
            }
        }
    }
    if needs(Code::RiskAssessment) {
        if !d.risk_assessed(now) {
            missing.push(from_rule(Code::RiskAssessment));
        } else {
            // For the security-breach exception the conclusion matters, not only the record
            // (seed 000, «Data loss prevention»); `assessed` passed it to the engine, which
            // prohibits the measure when it is `false`.
            let security_exception = matches!(a, Assessment::ElectronicEquipment(e)
                if e.exception == Some(assess::Purpose::SecurityBreach));
            let unrecorded = d
                .risk_assessment
                .as_ref()
                .is_some_and(|r| r.shows_necessity.is_none());
            if security_exception && unrecorded {
                let mut x = from_rule(Code::RiskAssessment);
                x.text_nb = format!("{}{}", RISK_NECESSITY_UNRECORDED.0, x.text_nb);
                x.text_en = format!("{}{}", RISK_NECESSITY_UNRECORDED.1, x.text_en);
                missing.push(x);
            }
            if security.acceptance_criteria(now).is_none() {
                missing.push(own(ACCEPTANCE_CRITERIA));
            }
        }
    }
    if needs(Code::PrivateDrivingRoutine) && d.private_driving_routine(now).is_none() {
        missing.push(from_rule(Code::PrivateDrivingRoutine));
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
    // Late duties: due before start, recorded after it.
    let mut late = Vec::new();
    if let Some(start) = m.started_on {
        let first_discussion = d
            .discussions
            .iter()
            .map(|x| x.date)
            .filter(|x| *x <= now)
            .min();
        let published = d.published_information(now).map(|i| i.published_on);
        let due = [
            ("discussion", needs(Code::Discussion), first_discussion),
            (
                "information",
                needs(Code::Information) || needs(Code::InformationGdpr),
                published,
            ),
        ];
        for (duty, needed, on) in due {
            if let (true, Some(on)) = (needed, on)
                && on > start
            {
                let closed = d.late_closed(duty, now);
                if !closed {
                    warnings.push(late_warning(duty, start, on));
                }
                late.push(LateDuty {
                    duty: duty.into(),
                    from: start,
                    until: on,
                    closed,
                });
            }
        }
    }
    if !ended && let Some(r) = d.private_driving_routine(now) {
        let from = d
            .latest_private_driving_review(now)
            .map(|x| x.date)
            .unwrap_or(r.adopted_on)
            .max(m.started_on.unwrap_or(r.adopted_on));
        if now > add_months(from, r.interval_months.max(1)) {
            warnings.push(warning(
                PRIVATE_DRIVING_REVIEW_DUE,
                &[Recipient::PrivacyOfficer],
            ));
        }
    }
    for (service, configured, name_nb, name_en, purposes) in [
        (
            "address",
            cfg.services.address_lookup,
            "Adresseoppslag (address_lookup_url)",
            "The address lookup (address_lookup_url)",
            &[org::Purpose::DrivingLog][..],
        ),
        (
            "map_tiles",
            cfg.services.map_tiles,
            "Kartfliser (map_tiles_url)",
            "Map tiles (map_tiles_url)",
            &[org::Purpose::FleetView, org::Purpose::Alarm][..],
        ),
    ] {
        let uses = matches!(m.kind, MeasureKind::Vehicle(p) if purposes.contains(&p));
        if configured && uses && !ended && d.agreement_for_service(service, now).is_none() {
            let mut w = warning(SERVICE_WITHOUT_AGREEMENT, &[Recipient::PrivacyOfficer]);
            w.text_nb = format!("{name_nb} {}", w.text_nb);
            w.text_en = format!("{name_en} {}", w.text_en);
            warnings.push(w);
        }
    }
    if !ended && needs(Code::RiskAssessment) && security.goals_and_strategy(now).is_none() {
        warnings.push(warning(GOALS_STRATEGY, &[Recipient::PrivacyOfficer]));
    }
    if !ended && security.deviation_routine(now).is_none() {
        warnings.push(warning(DEVIATION_ROUTINE, &[Recipient::PrivacyOfficer]));
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
        late,
    }
}

/// A late duty's warning: the period the measure ran without it.
fn late_warning(duty: &str, from: Date, until: Date) -> Warning {
    let (nb, en) = match duty {
        "discussion" => (
            "drøfting med de tillitsvalgte",
            "discussion with the representatives",
        ),
        _ => ("informasjon til de ansatte", "information to the employees"),
    };
    Warning {
        code: LATE.0.into(),
        citation: LATE.1.into(),
        text_nb: format!(
            "Tiltaket var i bruk fra {from} til {until} uten {nb}, som skulle vært på plass før start. Dette er et avvik personvernombudet må lukke: registrer hva som er gjort (late_closures)."
        ),
        text_en: format!(
            "The measure ran from {from} to {until} without {en}, which was due before it started. This is a deviation the privacy officer must close: record what was done about it (late_closures)."
        ),
        notify: vec![Recipient::PrivacyOfficer, Recipient::Representatives],
    }
}

/// What an agreement on record lacks of art. 28(3), if anything.
fn incomplete_agreement(a: &Agreement) -> Option<Missing> {
    let points = a.missing_points();
    let security = a.processor_security.trim().is_empty();
    if points.is_empty() && !security {
        return None;
    }
    let mut nb: Vec<&str> = points.iter().map(|p| p.0).collect();
    let mut en: Vec<&str> = points.iter().map(|p| p.1).collect();
    if security {
        nb.push("databehandlerens egen sikkerhetsplikt (art. 32)");
        en.push("the processor's own security duty (art. 32)");
    }
    Some(Missing {
        code: "processor_agreement_content".into(),
        citation: "GDPR art. 28 (3) a–h og 32".into(),
        text_nb: format!(
            "Databehandleravtalen med {} mangler: {}.",
            a.processor,
            nb.join("; ")
        ),
        text_en: format!(
            "The data processing agreement with {} lacks: {}.",
            a.processor,
            en.join("; ")
        ),
    })
}
