//! The monitoring measure (kontrolltiltak) and the measures an organisation's vehicle purposes
//! make.

use assess::{Assessment, LoadError};

/// What a measure is: a vehicle purpose from the organisation, or something else the employer
/// does that is entered by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MeasureKind {
    Vehicle(org::Purpose),
    FirewallLogging,
    SpamQuarantine,
    Dlp,
    ScreenRecording,
    EmailForwarding,
    Other,
}

impl MeasureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MeasureKind::Vehicle(p) => p.as_str(),
            MeasureKind::FirewallLogging => "firewall_logging",
            MeasureKind::SpamQuarantine => "spam_quarantine",
            MeasureKind::Dlp => "dlp",
            MeasureKind::ScreenRecording => "screen_recording",
            MeasureKind::EmailForwarding => "email_forwarding",
            MeasureKind::Other => "other",
        }
    }

    /// `driving_log` and the other vehicle purposes, or one of the entered kinds.
    pub fn parse(s: &str) -> Option<MeasureKind> {
        if let Some(p) = org::Purpose::parse(s) {
            return Some(MeasureKind::Vehicle(p));
        }
        Some(match s {
            "firewall_logging" => MeasureKind::FirewallLogging,
            "spam_quarantine" => MeasureKind::SpamQuarantine,
            "dlp" => MeasureKind::Dlp,
            "screen_recording" => MeasureKind::ScreenRecording,
            "email_forwarding" => MeasureKind::EmailForwarding,
            "other" => MeasureKind::Other,
            _ => return None,
        })
    }
}

/// Whom a measure concerns (seed 000, «Hvilke regelverk gjelder?»).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Concerned {
    CurrentEmployees,
    /// E-postforskriften protects former employees too: their data and rights do not vanish
    /// with the account.
    FormerEmployees,
    /// Outside e-postforskriften; GDPR alone.
    ContractorsOrCustomers,
}

impl Concerned {
    /// Whether e-postforskriften (and so its § 2 prohibition and §§ 3–4 access rules) covers
    /// this group. Seed 000: current and former employees, not contractors or customers.
    pub fn email_regulation_applies(self) -> bool {
        matches!(
            self,
            Concerned::CurrentEmployees | Concerned::FormerEmployees
        )
    }

    pub fn parse(s: &str) -> Option<Concerned> {
        [
            Concerned::CurrentEmployees,
            Concerned::FormerEmployees,
            Concerned::ContractorsOrCustomers,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Concerned::CurrentEmployees => "current_employees",
            Concerned::FormerEmployees => "former_employees",
            Concerned::ContractorsOrCustomers => "contractors_or_customers",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Status {
    #[default]
    Planned,
    Active,
    Ended,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Planned => "planned",
            Status::Active => "active",
            Status::Ended => "ended",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        [Status::Planned, Status::Active, Status::Ended]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// The legal basis the employer has chosen for the measure (GDPR art. 6(1)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LegalBasis {
    /// Art. 6(1)(f), documented by a balancing test: the usual basis in employment.
    #[default]
    LegitimateInterests,
    /// Art. 6(1)(a): rarely free in employment (seed 001 2.2.1); the gate warns.
    Consent,
    /// Art. 6(1)(b).
    Contract,
    /// Art. 6(1)(c).
    LegalObligation,
}

impl LegalBasis {
    pub fn as_str(self) -> &'static str {
        match self {
            LegalBasis::LegitimateInterests => "legitimate_interests",
            LegalBasis::Consent => "consent",
            LegalBasis::Contract => "contract",
            LegalBasis::LegalObligation => "legal_obligation",
        }
    }

    pub fn parse(s: &str) -> Option<LegalBasis> {
        [
            LegalBasis::LegitimateInterests,
            LegalBasis::Consent,
            LegalBasis::Contract,
            LegalBasis::LegalObligation,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// A monitoring measure with its facts and its latest assessment.
#[derive(Debug, Clone, PartialEq)]
pub struct Measure {
    pub id: String,
    pub name: String,
    pub kind: MeasureKind,
    /// The facts as an assessment file (SPEC.md, "The assessment file").
    pub facts: String,
    /// The assessment of `facts`, kept in step by `new` and `reassess`.
    pub assessment: Assessment,
    pub concerns: Vec<Concerned>,
    pub status: Status,
    /// The day it started collecting; evaluations fall due counting from it.
    pub started_on: Option<time::Date>,
    pub legal_basis: LegalBasis,
    /// A supplier processing the data on the employer's behalf (GDPR art. 28), if any.
    pub processor: Option<String>,
}

impl Measure {
    /// A planned measure concerning current and former employees, assessed from `facts`.
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        kind: MeasureKind,
        facts: impl Into<String>,
    ) -> Result<Measure, LoadError> {
        let facts = facts.into();
        let assessment = assess::assess_str(&facts)?;
        Ok(Measure {
            id: id.into(),
            name: name.into(),
            kind,
            facts,
            assessment,
            concerns: vec![Concerned::CurrentEmployees, Concerned::FormerEmployees],
            status: Status::Planned,
            started_on: None,
            legal_basis: LegalBasis::default(),
            processor: None,
        })
    }

    /// Replaces the facts and assesses them again; on error the measure is left unchanged.
    pub fn reassess(&mut self, facts: impl Into<String>) -> Result<(), LoadError> {
        let facts = facts.into();
        self.assessment = assess::assess_str(&facts)?;
        self.facts = facts;
        Ok(())
    }

    /// Vehicle driver behaviour: detailed sensor data, never without a balancing test and a DPIA
    /// (seed 001 2.2.5 «Registrering av detaljopplysninger»).
    pub fn is_driver_behaviour(&self) -> bool {
        self.kind == MeasureKind::Vehicle(org::Purpose::DriverBehaviour)
    }

    /// The fields the facts list (vehicle tracking), for the record of processing.
    pub fn fields(&self) -> Vec<String> {
        self.fact_table()
            .and_then(|t| t.get("fields").and_then(|v| v.as_array()).cloned())
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `stored_days` from the facts, if given.
    pub fn stored_days(&self) -> Option<i64> {
        self.fact_table()
            .and_then(|t| t.get("stored_days").and_then(|v| v.as_integer()))
    }

    fn fact_table(&self) -> Option<toml::Table> {
        self.facts.parse::<toml::Table>().ok()
    }
}

/// How Sporvern collects for each vehicle purpose: the facts of its measure.
/// (fields, stored_days, continuous). Sources: SPEC.md "Purposes decide what is kept";
/// seed 001 2.2.3–2.2.5; the retention limits in assess's `rules.toml`.
fn vehicle_facts(p: org::Purpose) -> (&'static str, &'static str, u32, bool) {
    use org::Purpose::*;
    match p {
        DrivingLog => (
            "Elektronisk kjørebok",
            r#"["position", "time", "odometer", "driver_id"]"#,
            2190,
            true,
        ),
        FleetView => ("Flåtestyring", r#"["position", "time"]"#, 0, true),
        Alarm => ("Alarm", r#"["position", "time"]"#, 30, false),
        Utilization => (
            "Rasjonalisering",
            r#"["position", "time", "odometer"]"#,
            365,
            true,
        ),
        DriverBehaviour => (
            "Kjøreatferd (sensordata)",
            r#"["position", "time", "speed", "harsh_events", "g_force", "idling"]"#,
            365,
            true,
        ),
    }
}

/// One planned measure per vehicle purpose the organisation has configured on any vehicle, in
/// `org::Purpose::ALL` order, with ids `vehicle.<purpose>`.
pub fn measures_from_org(o: &org::Org) -> Vec<Measure> {
    org::Purpose::ALL
        .into_iter()
        .filter(|p| o.vehicles.iter().any(|v| v.purposes.contains(p)))
        .filter_map(|p| {
            let (name, fields, stored, continuous) = vehicle_facts(p);
            let mut facts = format!(
                "kind = \"vehicle_tracking\"\nname = \"{name}\"\npurpose = \"{}\"\nfields = {fields}\nstored_days = {stored}\ncontinuous = {continuous}\n",
                p.as_str()
            );
            // The organisation file records where the driver-behaviour basis is documented.
            if p == org::Purpose::DriverBehaviour && o.organisation.driver_behaviour_basis.is_some()
            {
                facts.push_str("legal_basis_recorded = true\n");
            }
            // The text is ours and always valid; a failure would be a bug caught by the tests.
            Measure::new(
                format!("vehicle.{}", p.as_str()),
                name,
                MeasureKind::Vehicle(p),
                facts,
            )
            .ok()
        })
        .collect()
}
