//! Sporvern's assessment engine: Datatilsynet's checklist for monitoring of employees'
//! electronic equipment (e-postforskriften § 2) and its rules for tracking in company vehicles,
//! as code. It reads an assessment file (SPEC.md, "The assessment file") and says whether the
//! measure is lawful, why, what it obliges the employer to do, and which unknown facts could
//! change the answer.
//!
//! Architecture Invariant: sans-IO. `assess_str` takes the file's text and `render` returns a
//! string; reading files, printing and exit codes belong to the caller.
//!
//! Architecture Invariant: the law is in `rules.toml`. Every code the engine emits has one
//! entry there with its citation and its text in bokmål and English; Rust decides only when a
//! code applies.
//!
//! Code map: `input` (TOML to facts, load errors), `equipment` (seed 000 checklist), `vehicle`
//! (seed 001 rules), `unknown` (which unknown facts matter), `table` (the rule table),
//! `render` (JSON and text).

mod equipment;
mod input;
mod render;
mod table;
mod unknown;
mod vehicle;

use std::str::FromStr;

pub use input::{Concern, DEFAULT_CONCERNS, Field, Kind, LegalBasis, Purpose, VehiclePurpose};
pub use table::{Code, Entry, Fact, RULES_TOML, RuleKind, Verdict, fact, rule, verdict};

/// Language of the texts in the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Norwegian bokmål.
    #[default]
    Nb,
    En,
}

/// Output format of `render`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Readable text.
    #[default]
    Text,
    /// The JSON of SPEC.md, for scripts.
    Json,
}

/// A command-line option with a value we do not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} \"{value}\"; expected one of {expected}")]
pub struct UnknownOption {
    pub what: &'static str,
    pub value: String,
    pub expected: &'static str,
}

impl FromStr for Lang {
    type Err = UnknownOption;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "nb" => Ok(Lang::Nb),
            "en" => Ok(Lang::En),
            _ => Err(UnknownOption {
                what: "language",
                value: s.into(),
                expected: "nb, en",
            }),
        }
    }
}

impl FromStr for Format {
    type Err = UnknownOption;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            _ => Err(UnknownOption {
                what: "format",
                value: s.into(),
                expected: "text, json",
            }),
        }
    }
}

/// An assessment file that cannot be read. `line` is 1-based; `field` is the key at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct LoadError {
    pub line: Option<usize>,
    pub field: Option<String>,
    pub message: String,
}

impl LoadError {
    /// `line N, field "x": message`, leaving out what is not known.
    fn describe(&self) -> String {
        let place = match (self.line, &self.field) {
            (Some(l), Some(f)) => format!("line {l}, field \"{f}\""),
            (Some(l), None) => format!("line {l}"),
            (None, Some(f)) => format!("field \"{f}\""),
            (None, None) => return self.message.clone(),
        };
        format!("{place}: {}", self.message)
    }
}

/// The assessment of an electronic-equipment measure (seed 000).
#[derive(Debug, Clone, PartialEq)]
pub struct EquipmentAssessment {
    pub name: String,
    /// `not_personal_data`, `outside_prohibition`, `prohibited` or `permitted_exception`.
    pub verdict: Verdict,
    /// `None` when not assessed (no personal data) or when unknown facts decide it.
    pub monitoring: Option<bool>,
    /// `network_administration` or `security_breach` when the verdict is
    /// `permitted_exception`; the first in that order if both are given.
    pub exception: Option<Purpose>,
    pub reasons: Vec<Code>,
    pub duties: Vec<Code>,
    pub unknown: Vec<Fact>,
}

/// The assessment of a vehicle-tracking measure (seed 001).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VehicleAssessment {
    pub name: String,
    /// `compliant` or `non_compliant`.
    pub verdict: Verdict,
    /// What the rules say about the measure that is not a fault: whether it is a control
    /// measure, whom the rules protect.
    pub reasons: Vec<Code>,
    pub findings: Vec<Code>,
    pub duties: Vec<Code>,
    pub unknown: Vec<Fact>,
}

/// The result of `assess_str`. Texts are looked up when rendering, in the language asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum Assessment {
    ElectronicEquipment(EquipmentAssessment),
    VehicleTracking(VehicleAssessment),
}

impl Assessment {
    pub fn kind(&self) -> Kind {
        match self {
            Assessment::ElectronicEquipment(_) => Kind::ElectronicEquipment,
            Assessment::VehicleTracking(_) => Kind::VehicleTracking,
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Assessment::ElectronicEquipment(a) => &a.name,
            Assessment::VehicleTracking(a) => &a.name,
        }
    }

    pub fn verdict(&self) -> Verdict {
        match self {
            Assessment::ElectronicEquipment(a) => a.verdict,
            Assessment::VehicleTracking(a) => a.verdict,
        }
    }

    pub fn duties(&self) -> &[Code] {
        match self {
            Assessment::ElectronicEquipment(a) => &a.duties,
            Assessment::VehicleTracking(a) => &a.duties,
        }
    }

    pub fn unknown(&self) -> &[Fact] {
        match self {
            Assessment::ElectronicEquipment(a) => &a.unknown,
            Assessment::VehicleTracking(a) => &a.unknown,
        }
    }

    /// The JSON document of SPEC.md, with texts in `lang`.
    pub fn to_json(&self, lang: Lang) -> serde_json::Value {
        render::json(self, lang)
    }
}

/// Reads an assessment file and assesses it. Pure: give it the file's text.
pub fn assess_str(source: &str) -> Result<Assessment, LoadError> {
    let measure = input::load(source)?;
    Ok(match measure.facts {
        input::Facts::Equipment(f) => {
            let o = equipment::assess(&f);
            Assessment::ElectronicEquipment(EquipmentAssessment {
                name: measure.name,
                verdict: o.verdict,
                monitoring: o.monitoring,
                exception: o.exception,
                reasons: o.reasons,
                duties: o.duties,
                unknown: o.unknown,
            })
        }
        input::Facts::Vehicle(f) => {
            let o = vehicle::assess(&f);
            Assessment::VehicleTracking(VehicleAssessment {
                name: measure.name,
                verdict: o.verdict,
                reasons: o.reasons,
                findings: o.findings,
                duties: o.duties,
                unknown: o.unknown,
            })
        }
    })
}

/// Renders an assessment as JSON (SPEC.md) or as readable text, with texts in `lang`.
/// The result has no trailing newline.
pub fn render(a: &Assessment, format: Format, lang: Lang) -> String {
    match format {
        Format::Json => render::json_string(a, lang),
        Format::Text => render::text(a, lang),
    }
}
