//! The rule table: `rules.toml`, embedded and parsed once.
//!
//! Architecture Invariant: the legal source and wording of every code live in `rules.toml` and
//! nowhere else. This module only names the codes (so the compiler catches a typo) and looks
//! them up; a test checks that the table and the enums agree both ways.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::Deserialize;

use crate::Lang;

/// The embedded rule table, as a lawyer reads it.
pub const RULES_TOML: &str = include_str!("../rules.toml");

macro_rules! codes {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($variant:ident = $s:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name { $($variant),* }

        impl $name {
            /// Every value, in table order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The code as written in `rules.toml` and in JSON output.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),* }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

codes! {
    /// A reason (electronic equipment), finding (vehicle tracking) or duty (both).
    pub enum Code {
        FactsPresumed = "facts_presumed",
        NotPersonalData = "not_personal_data",
        PersonalData = "personal_data",
        ElectronicEquipment = "electronic_equipment",
        NotElectronicEquipment = "not_electronic_equipment",
        EmployerAccess = "employer_access",
        NoEmployerAccess = "no_employer_access",
        MonitoringMainPurposeControl = "monitoring_main_purpose_control",
        MonitoringFeelsWatched = "monitoring_feels_watched",
        MonitoringContinuousCollection = "monitoring_continuous_collection",
        NotMonitoringLiveStatus = "not_monitoring_live_status",
        NotMonitoringOneOff = "not_monitoring_one_off",
        NotMonitoringEmployeeRequested = "not_monitoring_employee_requested",
        FormerEmployeesProtected = "former_employees_protected",
        NotEmployees = "not_employees",
        CallRecordingOutside = "call_recording_outside",
        PrivateUseStillProtected = "private_use_still_protected",
        RiskAssessmentShowsNoNecessity = "risk_assessment_shows_no_necessity",
        NotEmployeesVehicle = "not_employees_vehicle",
        SoleProprietorsAreDataSubjects = "sole_proprietors_are_data_subjects",
        TrackingIsControlMeasure = "tracking_is_control_measure",
        AlarmContinuousIsControlMeasure = "alarm_continuous_is_control_measure",
        AlarmOnTriggerNotControlMeasure = "alarm_on_trigger_not_control_measure",
        ConsentRarelyFree = "consent_rarely_free",
        IdentifiableStorageTooLong = "identifiable_storage_too_long",
        ConsentNotFree = "consent_not_free",
        ConsentConditions = "consent_conditions",
        ExceptionNetworkAdministration = "exception_network_administration",
        ExceptionSecurityBreach = "exception_security_breach",
        PurposeNotException = "purpose_not_exception",
        CustomerRelationsNotException = "customer_relations_not_exception",
        ExceptionMixedPurpose = "exception_mixed_purpose",
        PurposeUnknown = "purpose_unknown",
        ExceptionWouldApply = "exception_would_apply",
        GdprStillApplies = "gdpr_still_applies",
        PurposeNotSpecified = "purpose_not_specified",
        ExcessData = "excess_data",
        IncompatiblePurpose = "incompatible_purpose",
        StorageNotNecessary = "storage_not_necessary",
        RetentionTooLong = "retention_too_long",
        ControlMeasure = "control_measure",
        LegalBasisMissing = "legal_basis_missing",
        StopMeasure = "stop_measure",
        Discussion = "discussion",
        TariffCheck = "tariff_check",
        ControlMeasureCheck = "control_measure_check",
        BalancingTest = "balancing_test",
        Minimisation = "minimisation",
        RiskAssessment = "risk_assessment",
        Dpia = "dpia",
        FieldInventory = "field_inventory",
        Information = "information",
        InformationGdpr = "information_gdpr",
        ProcessorAgreement = "processor_agreement",
        AccessControl = "access_control",
        AdminAccessLogging = "admin_access_logging",
        OneOffAccessProcedure = "one_off_access_procedure",
        KeepAccessBarrier = "keep_access_barrier",
        PrivateUseOptOut = "private_use_opt_out",
        PrivateDrivingRoutine = "private_driving_routine",
        Anonymise = "anonymise",
        DeletionRoutine = "deletion_routine",
        Records = "records",
        Evaluation = "evaluation",
    }
}

codes! {
    /// A fact of the assessment file, named as its key.
    pub enum Fact {
        PersonalData = "personal_data",
        ElectronicEquipment = "electronic_equipment",
        EmployerAccess = "employer_access",
        MainPurposeControl = "main_purpose_control",
        Recorded = "recorded",
        Continuous = "continuous",
        EmployeesCanTellWhen = "employees_can_tell_when",
        NotifiedShare = "notified_share",
        Purposes = "purposes",
        Purpose = "purpose",
        Fields = "fields",
        StoredDays = "stored_days",
        LegalBasisRecorded = "legal_basis_recorded",
        LegalBasis = "legal_basis",
        Concerns = "concerns",
        RiskAssessmentShowsNecessity = "risk_assessment_shows_necessity",
        EmployeeRequested = "employee_requested",
        PrivateUse = "private_use",
        CallRecording = "call_recording",
    }
}

codes! {
    /// The verdict of an assessment.
    pub enum Verdict {
        NotPersonalData = "not_personal_data",
        OutsideProhibition = "outside_prohibition",
        Prohibited = "prohibited",
        PermittedException = "permitted_exception",
        Compliant = "compliant",
        NonCompliant = "non_compliant",
    }
}

/// Where a rule's code goes in the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    Reason,
    Finding,
    Duty,
}

/// One entry of the table, as written in `rules.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub code: String,
    /// Only `[[rule]]` entries have a kind.
    pub kind: Option<RuleKind>,
    /// When the engine emits the code, in words. Only `[[rule]]` entries have it.
    pub when: Option<String>,
    pub citation: String,
    pub text_nb: String,
    pub text_en: String,
}

impl Entry {
    pub fn text(&self, lang: Lang) -> &str {
        match lang {
            Lang::Nb => &self.text_nb,
            Lang::En => &self.text_en,
        }
    }
}

/// The numbers the rules use; each is explained in `rules.toml`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    pub feels_watched_notified_share: f64,
    pub driving_log_max_stored_days: u64,
    pub alarm_max_stored_days: u64,
    pub utilization_identifiable_max_stored_days: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTable {
    pub thresholds: Thresholds,
    pub verdict: Vec<Entry>,
    pub rule: Vec<Entry>,
    pub fact: Vec<Entry>,
}

/// The parsed table, indexed by code.
pub struct Table {
    pub thresholds: Thresholds,
    pub verdicts: HashMap<String, Entry>,
    pub rules: HashMap<String, Entry>,
    pub facts: HashMap<String, Entry>,
}

fn index(entries: Vec<Entry>) -> HashMap<String, Entry> {
    entries.into_iter().map(|e| (e.code.clone(), e)).collect()
}

static TABLE: LazyLock<Table> = LazyLock::new(|| {
    // The table is compiled in and checked by `tests::table_matches_codes`; a broken table is a
    // build defect, not a user error.
    #[allow(clippy::expect_used)]
    let raw: RawTable = toml::from_str(RULES_TOML).expect("rules.toml is valid (tested)");
    Table {
        thresholds: raw.thresholds,
        verdicts: index(raw.verdict),
        rules: index(raw.rule),
        facts: index(raw.fact),
    }
});

pub fn table() -> &'static Table {
    &TABLE
}

pub fn thresholds() -> Thresholds {
    table().thresholds
}

// Every `Code`, `Verdict` and `Fact` is in the table (tested by `table_matches_codes`), so the
// lookups below return `None` only for a build defect; the renderer then shows the bare code.

/// The table entry of a reason, finding or duty.
pub fn rule(code: Code) -> Option<&'static Entry> {
    table().rules.get(code.as_str())
}

/// The table entry of a verdict.
pub fn verdict(v: Verdict) -> Option<&'static Entry> {
    table().verdicts.get(v.as_str())
}

/// The table entry of a fact: the question a user answers in the assessment file.
pub fn fact(f: Fact) -> Option<&'static Entry> {
    table().facts.get(f.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn table_matches_codes() {
        let raw: RawTable = toml::from_str(RULES_TOML).expect("rules.toml parses");
        let codes = |es: &[Entry]| -> Vec<String> { es.iter().map(|e| e.code.clone()).collect() };
        for (what, list) in [
            ("verdict", codes(&raw.verdict)),
            ("rule", codes(&raw.rule)),
            ("fact", codes(&raw.fact)),
        ] {
            let unique: HashSet<_> = list.iter().collect();
            assert_eq!(
                unique.len(),
                list.len(),
                "duplicate {what} code in rules.toml"
            );
        }
        let rules: HashSet<String> = codes(&raw.rule).into_iter().collect();
        let enum_rules: HashSet<String> = Code::ALL.iter().map(|c| c.as_str().into()).collect();
        assert_eq!(
            rules, enum_rules,
            "rules.toml [[rule]] codes and enum Code differ"
        );
        let verdicts: HashSet<String> = codes(&raw.verdict).into_iter().collect();
        let enum_v: HashSet<String> = Verdict::ALL.iter().map(|c| c.as_str().into()).collect();
        assert_eq!(
            verdicts, enum_v,
            "rules.toml [[verdict]] codes and enum Verdict differ"
        );
        let facts: HashSet<String> = codes(&raw.fact).into_iter().collect();
        let enum_f: HashSet<String> = Fact::ALL.iter().map(|c| c.as_str().into()).collect();
        assert_eq!(
            facts, enum_f,
            "rules.toml [[fact]] codes and enum Fact differ"
        );
    }

    #[test]
    fn every_entry_is_complete() {
        let raw: RawTable = toml::from_str(RULES_TOML).expect("rules.toml parses");
        for e in &raw.rule {
            assert!(e.kind.is_some(), "rule {} has no kind", e.code);
            assert!(
                e.when.as_deref().is_some_and(|w| !w.is_empty()),
                "rule {} has no `when`",
                e.code
            );
        }
        for e in raw.verdict.iter().chain(&raw.rule).chain(&raw.fact) {
            assert!(!e.citation.trim().is_empty(), "{} has no citation", e.code);
            assert!(!e.text_nb.trim().is_empty(), "{} has no text_nb", e.code);
            assert!(!e.text_en.trim().is_empty(), "{} has no text_en", e.code);
        }
        for e in raw.verdict.iter().chain(&raw.fact) {
            assert!(
                e.kind.is_none() && e.when.is_none(),
                "{}: kind/when only on rules",
                e.code
            );
        }
    }
}
