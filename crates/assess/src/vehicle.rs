//! Vehicle tracking: the rules of seed 001 (Datatilsynet, Sporingsteknologi i kjøretøy).
//!
//! Sources and wording of every code are in `rules.toml`; this file decides when each is
//! emitted. A finding about what the measure does (excess data, storage, continuous alarm
//! tracking) needs the fact that shows it; a finding about what the employer must have
//! documented (a stated purpose, a legal basis for detailed data or rationalisation) stands
//! until the fact shows it is done (GDPR art. 5(2): the employer must be able to show it).

use crate::input::{Concern, Field, LegalBasis, VehicleFacts, VehiclePurpose};
use crate::table::{Code, Fact, Verdict, thresholds};
use crate::unknown::{Domain, Setter, relevant};

/// A boolean fact: its name, its value as given, and how to set it.
type BoolFact = (Fact, Option<bool>, fn(&mut VehicleFacts, Option<bool>));

/// The result of the vehicle rules for one measure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VehicleOutcome {
    pub verdict: Verdict,
    pub reasons: Vec<Code>,
    pub findings: Vec<Code>,
    pub duties: Vec<Code>,
    pub unknown: Vec<Fact>,
}

fn findings(f: &VehicleFacts) -> Vec<Code> {
    use VehiclePurpose::*;
    let t = thresholds();
    let mut out = Vec::new();
    let fields = f.fields.as_deref().unwrap_or(&[]);
    let sensor = fields.iter().any(|x| x.is_sensor());
    let stored = f.stored_days;

    if f.purpose.is_none() {
        out.push(Code::PurposeNotSpecified);
    }
    let excess = match f.purpose {
        Some(DrivingLog) => sensor,
        Some(FleetView) => sensor || fields.contains(&Field::Odometer),
        _ => false,
    };
    if excess {
        out.push(Code::ExcessData);
    }
    if f.purpose == Some(TimesheetControl) {
        out.push(Code::IncompatiblePurpose);
    }
    if f.purpose == Some(FleetView) && stored.is_some_and(|d| d > 0) {
        out.push(Code::StorageNotNecessary);
    }
    let too_long = match f.purpose {
        Some(DrivingLog) => stored.is_some_and(|d| d > t.driving_log_max_stored_days),
        Some(Alarm) => stored.is_some_and(|d| d > t.alarm_max_stored_days),
        _ => false,
    };
    if too_long {
        out.push(Code::RetentionTooLong);
    }
    // Rationalisation (seed 001 2.2.4): "i utgangspunktet kunne lagre slike opplysninger
    // anonymt"; identifiable trips kept for years are a storage-time fault whatever the
    // balancing test says.
    let identifiable = fields.contains(&Field::DriverId);
    if f.purpose == Some(Utilization)
        && identifiable
        && stored.is_some_and(|d| d > t.utilization_identifiable_max_stored_days)
    {
        out.push(Code::IdentifiableStorageTooLong);
    }
    if f.purpose == Some(Alarm) && f.continuous == Some(true) {
        out.push(Code::ControlMeasure);
    }
    let needs_specific_basis = sensor || matches!(f.purpose, Some(DriverBehaviour | Utilization));
    let basis_missing = match basis(f) {
        Some(LegalBasis::None) => true,
        // Consent is rarely free in employment, least of all for a control measure (seed 001
        // 2.2.1): it cannot carry one alone.
        Some(LegalBasis::Consent) => is_control_measure(f),
        Some(_) => false,
        None => needs_specific_basis,
    };
    if basis_missing {
        out.push(Code::LegalBasisMissing);
        if basis(f) == Some(LegalBasis::Consent) {
            out.push(Code::ConsentNotFree);
        }
    }
    out
}

/// The legal basis as given: `legal_basis`, or its short form `legal_basis_recorded`.
fn basis(f: &VehicleFacts) -> Option<LegalBasis> {
    f.legal_basis.or(match f.legal_basis_recorded {
        Some(true) => Some(LegalBasis::LegitimateInterests),
        Some(false) => Some(LegalBasis::None),
        None => None,
    })
}

/// What the rules say about the measure that is not a fault.
fn reasons(f: &VehicleFacts) -> Vec<Code> {
    use VehiclePurpose::*;
    let mut out = Vec::new();
    let concerns = f.concerns();
    if !concerns.contains(&Concern::Employees) {
        out.push(Code::NotEmployeesVehicle);
    }
    if concerns.contains(&Concern::Contractors) {
        out.push(Code::SoleProprietorsAreDataSubjects);
    }
    match (f.purpose, f.continuous) {
        (Some(Alarm), Some(true)) => out.push(Code::AlarmContinuousIsControlMeasure),
        (Some(Alarm), _) => out.push(Code::AlarmOnTriggerNotControlMeasure),
        _ if is_control_measure(f) => out.push(Code::TrackingIsControlMeasure),
        _ => {}
    }
    if basis(f) == Some(LegalBasis::Consent) && !is_control_measure(f) {
        out.push(Code::ConsentRarelyFree);
    }
    out
}

/// Tracking of employees is a control measure (aml. kap. 9, seed 001 2.1) unless it is alarm
/// tracking that registers positions only when the alarm goes off (seed 001 2.2.5). Chapter 9
/// concerns employees: tracking only contractors' or customers' vehicles is not one.
fn is_control_measure(f: &VehicleFacts) -> bool {
    f.concerns().contains(&Concern::Employees)
        && (f.purpose != Some(VehiclePurpose::Alarm) || f.continuous == Some(true))
}

fn duties(f: &VehicleFacts) -> Vec<Code> {
    use Code::*;
    use VehiclePurpose::*;
    let control = is_control_measure(f);
    let mut out = Vec::new();
    if control {
        out.push(Discussion);
    }
    out.extend([BalancingTest, RiskAssessment]);
    if control {
        out.push(Dpia);
    }
    out.push(FieldInventory);
    out.push(if control {
        Information
    } else {
        InformationGdpr
    });
    if basis(f) == Some(LegalBasis::Consent) {
        out.push(ConsentConditions);
    }
    out.extend([ProcessorAgreement, AccessControl]);
    if matches!(f.purpose, Some(DrivingLog | FleetView)) {
        out.push(PrivateUseOptOut);
    }
    if f.purpose == Some(DrivingLog) {
        out.push(PrivateDrivingRoutine);
    }
    if f.purpose == Some(Utilization) {
        out.push(Anonymise);
    }
    if f.stored_days != Some(0) && f.purpose != Some(FleetView) {
        out.push(DeletionRoutine);
    }
    out.push(Records);
    if control {
        out.push(Evaluation);
    }
    out
}

fn verdict(f: &VehicleFacts) -> Verdict {
    if findings(f).is_empty() {
        Verdict::Compliant
    } else {
        Verdict::NonCompliant
    }
}

/// Values of the facts not given: "not given" plus one value on each side of every rule.
fn domains(f: &VehicleFacts) -> Vec<Domain<VehicleFacts>> {
    let t = thresholds();
    let mut doms = Vec::new();
    if f.purpose.is_none() {
        let mut values: Vec<Setter<VehicleFacts>> =
            vec![Box::new(|g: &mut VehicleFacts| g.purpose = None)];
        for p in VehiclePurpose::ALL.iter().copied() {
            values.push(Box::new(move |g: &mut VehicleFacts| g.purpose = Some(p)));
        }
        doms.push(Domain {
            fact: Fact::Purpose,
            values,
        });
    }
    if f.fields.is_none() {
        use Field::*;
        let sets: [Option<Vec<Field>>; 4] = [
            None,
            Some(vec![Position, Time]),
            Some(vec![Position, Time, Odometer]),
            Some(vec![Position, Time, Speed]),
        ];
        doms.push(Domain {
            fact: Fact::Fields,
            values: sets
                .into_iter()
                .map(|s| Box::new(move |g: &mut VehicleFacts| g.fields = s.clone()) as _)
                .collect(),
        });
    }
    if f.stored_days.is_none() {
        let days = [
            None,
            Some(0),
            Some(t.alarm_max_stored_days),
            Some(t.alarm_max_stored_days + 1),
            Some(t.driving_log_max_stored_days),
            Some(t.driving_log_max_stored_days + 1),
        ];
        doms.push(Domain {
            fact: Fact::StoredDays,
            values: days
                .into_iter()
                .map(|d| Box::new(move |g: &mut VehicleFacts| g.stored_days = d) as _)
                .collect(),
        });
    }
    let booleans: [BoolFact; 2] = [
        (Fact::Continuous, f.continuous, |g, v| g.continuous = v),
        (Fact::LegalBasisRecorded, f.legal_basis_recorded, |g, v| {
            g.legal_basis_recorded = v
        }),
    ];
    for (fact, given, set) in booleans {
        if given.is_none() {
            doms.push(Domain {
                fact,
                values: [None, Some(true), Some(false)]
                    .into_iter()
                    .map(|v| Box::new(move |g: &mut VehicleFacts| set(g, v)) as _)
                    .collect(),
            });
        }
    }
    doms
}

/// Runs the vehicle rules, and finds which unknown facts could change the verdict.
pub fn assess(f: &VehicleFacts) -> VehicleOutcome {
    VehicleOutcome {
        verdict: verdict(f),
        reasons: reasons(f),
        findings: findings(f),
        duties: duties(f),
        unknown: relevant(f, &domains(f), verdict),
    }
}
