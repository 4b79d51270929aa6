//! Electronic equipment: the checklist of seed 000 (e-postforskriften § 2).
//!
//! Sources and wording of every code are in `rules.toml`; this file decides when each is
//! emitted. Facts not given are read so that the ban applies until the facts that take a
//! measure outside it are established: an escape from the ban (`personal_data = false`,
//! `electronic_equipment = false`, `employer_access = false`, `recorded = false`,
//! `continuous = false`, an exception purpose) needs the fact; a reason that establishes
//! monitoring on its own (`main_purpose_control`, feeling watched) also needs its facts.

use crate::input::{Concern, EquipmentFacts, Purpose};
use crate::table::{Code, Fact, Verdict, thresholds};
use crate::unknown::{Domain, relevant, stable};

/// The result of the checklist for one measure.
#[derive(Debug, Clone, PartialEq)]
pub struct EquipmentOutcome {
    pub verdict: Verdict,
    pub monitoring: Option<bool>,
    pub exception: Option<Purpose>,
    pub reasons: Vec<Code>,
    pub duties: Vec<Code>,
    pub unknown: Vec<Fact>,
}

/// Whether the measure is monitoring, and why.
///
/// Duration is a condition of every route to monitoring (seed 000, «Tiltaket må ha en viss
/// varighet»: the measure must *moreover* last a while or be repeated): a one-off access is not
/// monitoring even when its purpose is control; it gets the §§ 3–4 procedure instead.
fn monitoring(f: &EquipmentFacts) -> (bool, Vec<Code>) {
    if f.employee_requested == Some(true) {
        return (false, vec![Code::NotMonitoringEmployeeRequested]);
    }
    if f.continuous == Some(false) {
        return if f.recorded == Some(false) {
            (false, vec![Code::NotMonitoringLiveStatus])
        } else {
            (false, vec![Code::NotMonitoringOneOff])
        };
    }
    let mut why = Vec::new();
    if f.main_purpose_control == Some(true) {
        why.push(Code::MonitoringMainPurposeControl);
    }
    let feels_watched = f.employees_can_tell_when == Some(false)
        && f.notified_share
            .is_some_and(|s| s >= thresholds().feels_watched_notified_share);
    if feels_watched {
        why.push(Code::MonitoringFeelsWatched);
    }
    if f.recorded != Some(false) {
        why.push(Code::MonitoringContinuousCollection);
    }
    if !why.is_empty() {
        return (true, why);
    }
    (false, vec![Code::NotMonitoringLiveStatus])
}

/// Whether the security-breach exception is shown: not when a risk assessment on record shows
/// the measure is not needed for an acceptable level of risk (seed 000, «Data loss
/// prevention»).
fn covered(p: Purpose, f: &EquipmentFacts) -> bool {
    match p {
        Purpose::SecurityBreach => f.risk_assessment_shows_necessity != Some(false),
        p => p.is_exception(),
    }
}

/// The checklist on the facts as given.
fn decide(f: &EquipmentFacts) -> (Verdict, Option<Purpose>, Vec<Code>, Vec<Code>) {
    use Code::*;
    let mut reasons = Vec::new();
    let mut duties = Vec::new();

    // Checklist point 1: personal data?
    if f.personal_data == Some(false) {
        reasons.push(NotPersonalData);
        return (Verdict::NotPersonalData, None, reasons, duties);
    }
    reasons.push(PersonalData);

    // Whom it concerns: e-postforskriften protects current and former employees; the duties of
    // arbeidsmiljøloven chapter 9 concern employees.
    let concerns = f.concerns();
    let protected = concerns.iter().any(|c| c.email_regulation_applies());
    let employees = concerns.contains(&Concern::Employees);
    if concerns.contains(&Concern::FormerEmployees) {
        reasons.push(FormerEmployeesProtected);
    }
    if !protected {
        reasons.push(NotEmployees);
        reasons.push(GdprStillApplies);
        duties.extend([BalancingTest, InformationGdpr, Records]);
        return (Verdict::OutsideProhibition, None, reasons, duties);
    }

    // Checklist point 2: electronic equipment, monitoring, employer access.
    let calls = f.call_recording == Some(true);
    let equipment = f.electronic_equipment != Some(false) && !calls;
    reasons.push(if calls {
        CallRecordingOutside
    } else if equipment {
        ElectronicEquipment
    } else {
        NotElectronicEquipment
    });
    if equipment && f.private_use == Some(true) {
        reasons.push(PrivateUseStillProtected);
    }
    // Monitoring is assessed only for a measure that concerns electronic equipment: what is
    // banned is monitoring of the *use of* such equipment.
    let is_monitoring = if equipment {
        let (is_monitoring, why) = monitoring(f);
        reasons.extend(why);
        is_monitoring
    } else {
        false
    };
    let access = f.employer_access != Some(false);
    reasons.push(if access {
        EmployerAccess
    } else {
        NoEmployerAccess
    });

    if !(equipment && is_monitoring && access) {
        let all_exceptions = f
            .purposes
            .as_ref()
            .is_some_and(|ps| ps.iter().all(|p| p.is_exception()));
        if equipment && !is_monitoring && all_exceptions {
            reasons.push(ExceptionWouldApply);
        }
        reasons.push(GdprStillApplies);
        duties.push(BalancingTest);
        if employees {
            duties.extend([ControlMeasureCheck, TariffCheck]);
        }
        let requested = f.employee_requested == Some(true);
        let one_off = equipment && !is_monitoring && f.recorded != Some(false) && !requested;
        if one_off {
            duties.push(OneOffAccessProcedure);
        }
        if !access {
            duties.push(KeepAccessBarrier);
        }
        duties.extend([InformationGdpr, Records]);
        return (Verdict::OutsideProhibition, None, reasons, duties);
    }

    // Checklist point 3: is the monitoring for one of the two exceptions?
    let Some(purposes) = &f.purposes else {
        reasons.push(PurposeUnknown);
        duties.push(StopMeasure);
        return (Verdict::Prohibited, None, reasons, duties);
    };
    let exception = purposes.iter().copied().filter(|p| covered(*p, f)).min();
    if purposes.contains(&Purpose::NetworkAdministration) {
        reasons.push(ExceptionNetworkAdministration);
    }
    if purposes.contains(&Purpose::SecurityBreach) {
        reasons.push(ExceptionSecurityBreach);
        if f.risk_assessment_shows_necessity == Some(false) {
            reasons.push(RiskAssessmentShowsNoNecessity);
        }
    }
    let others = purposes.iter().any(|p| !covered(*p, f));
    if purposes.iter().any(|p| !p.is_exception()) {
        reasons.push(PurposeNotException);
    }
    if purposes.contains(&Purpose::CustomerRelations) {
        reasons.push(CustomerRelationsNotException);
    }
    match (exception, others) {
        (Some(_), true) => {
            if purposes.iter().any(|p| !p.is_exception()) {
                reasons.push(ExceptionMixedPurpose);
            }
            duties.push(StopMeasure);
            (Verdict::Prohibited, None, reasons, duties)
        }
        (None, _) => {
            duties.push(StopMeasure);
            (Verdict::Prohibited, None, reasons, duties)
        }
        (Some(e), false) => {
            if employees {
                duties.extend([Discussion, TariffCheck]);
            }
            duties.push(BalancingTest);
            if purposes.contains(&Purpose::SecurityBreach) {
                duties.push(RiskAssessment);
            }
            duties.push(Dpia);
            duties.push(if employees {
                Information
            } else {
                InformationGdpr
            });
            duties.extend([Minimisation, AdminAccessLogging, Records]);
            if employees {
                duties.push(Evaluation);
            }
            (Verdict::PermittedException, Some(e), reasons, duties)
        }
    }
}

/// Every value a fact could take, for the search over unknown facts. Only the facts that are
/// not given get a domain; `None` (not given) is always one of the values.
fn domains(f: &EquipmentFacts) -> Vec<Domain<EquipmentFacts>> {
    fn boolean(
        fact: Fact,
        given: Option<bool>,
        set: fn(&mut EquipmentFacts, Option<bool>),
    ) -> Option<Domain<EquipmentFacts>> {
        given.is_none().then(|| Domain {
            fact,
            values: [None, Some(true), Some(false)]
                .into_iter()
                .map(|v| Box::new(move |f: &mut EquipmentFacts| set(f, v)) as _)
                .collect(),
        })
    }
    let share = |v: Option<f64>| Box::new(move |f: &mut EquipmentFacts| f.notified_share = v) as _;
    let purposes = |v: Option<Vec<Purpose>>| {
        Box::new(move |f: &mut EquipmentFacts| f.purposes = v.clone()) as _
    };
    [
        boolean(Fact::PersonalData, f.personal_data, |f, v| {
            f.personal_data = v
        }),
        boolean(Fact::ElectronicEquipment, f.electronic_equipment, |f, v| {
            f.electronic_equipment = v
        }),
        boolean(Fact::EmployerAccess, f.employer_access, |f, v| {
            f.employer_access = v
        }),
        boolean(Fact::MainPurposeControl, f.main_purpose_control, |f, v| {
            f.main_purpose_control = v
        }),
        boolean(Fact::Recorded, f.recorded, |f, v| f.recorded = v),
        boolean(Fact::Continuous, f.continuous, |f, v| f.continuous = v),
        boolean(
            Fact::EmployeesCanTellWhen,
            f.employees_can_tell_when,
            |f, v| f.employees_can_tell_when = v,
        ),
        f.notified_share.is_none().then(|| Domain {
            fact: Fact::NotifiedShare,
            values: vec![share(None), share(Some(0.0)), share(Some(1.0))],
        }),
        boolean(
            Fact::RiskAssessmentShowsNecessity,
            f.risk_assessment_shows_necessity,
            |f, v| f.risk_assessment_shows_necessity = v,
        ),
        f.purposes.is_none().then(|| Domain {
            fact: Fact::Purposes,
            values: vec![
                purposes(None),
                purposes(Some(vec![Purpose::NetworkAdministration])),
                purposes(Some(vec![Purpose::SecurityBreach])),
                purposes(Some(vec![Purpose::Other])),
            ],
        }),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Runs the checklist, and finds which unknown facts could change the verdict.
pub fn assess(f: &EquipmentFacts) -> EquipmentOutcome {
    let (verdict, exception, mut reasons, duties) = decide(f);
    let doms = domains(f);
    let unknown = relevant(f, &doms, |g| decide(g).0);
    let assessed = f.personal_data != Some(false)
        && f.electronic_equipment != Some(false)
        && f.call_recording != Some(true)
        && f.concerns().iter().any(|c| c.email_regulation_applies());
    let monitoring = if !assessed {
        None
    } else {
        stable(f, &doms, |g| monitoring(g).0)
    };
    if !unknown.is_empty() {
        reasons.insert(0, Code::FactsPresumed);
    }
    EquipmentOutcome {
        verdict,
        monitoring,
        exception,
        reasons,
        duties,
        unknown,
    }
}
