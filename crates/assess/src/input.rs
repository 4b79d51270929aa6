//! The assessment file (SPEC.md, "The assessment file"): TOML in, facts out.
//!
//! We parse with `toml::de::DeTable`, which keeps the span of every key and value, and convert
//! by hand so that each error names the line, the field and what would be valid. A fact that
//! is not given stays `None`: unknown, not false.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::LoadError;

macro_rules! vocabulary {
    ($(#[$meta:meta])* $vis:vis enum $name:ident ($what:literal) { $($variant:ident = $s:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name { $($variant),* }

        impl $name {
            /// Every word of the vocabulary, in the order SPEC.md lists them.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
            /// What one value is called in an error message.
            pub const WHAT: &'static str = $what;

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),* }
            }

            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary! {
    /// `kind`: which checklist the file is for.
    pub enum Kind ("kind") {
        ElectronicEquipment = "electronic_equipment",
        VehicleTracking = "vehicle_tracking",
    }
}

vocabulary! {
    /// `purposes` of an electronic-equipment measure.
    pub enum Purpose ("purpose") {
        NetworkAdministration = "network_administration",
        SecurityBreach = "security_breach",
        CustomerRelations = "customer_relations",
        Training = "training",
        Performance = "performance",
        TimesheetControl = "timesheet_control",
        Presence = "presence",
        Other = "other",
    }
}

impl Purpose {
    /// The two purposes e-postforskriften § 2 (1) a and b allow monitoring for.
    pub fn is_exception(self) -> bool {
        matches!(
            self,
            Purpose::NetworkAdministration | Purpose::SecurityBreach
        )
    }
}

vocabulary! {
    /// `purpose` of a vehicle-tracking measure.
    pub enum VehiclePurpose ("purpose") {
        DrivingLog = "driving_log",
        FleetView = "fleet_view",
        Alarm = "alarm",
        Utilization = "utilization",
        DriverBehaviour = "driver_behaviour",
        TimesheetControl = "timesheet_control",
        Other = "other",
    }
}

vocabulary! {
    /// `concerns`: whom a measure concerns (seed 000, «Hvilke regelverk gjelder?»).
    pub enum Concern ("group") {
        Employees = "employees",
        FormerEmployees = "former_employees",
        Contractors = "contractors",
        Customers = "customers",
    }
}

impl Concern {
    /// E-postforskriften protects current and former employees; contractors and customers are
    /// covered by the GDPR alone (seed 000, «Hvilke regelverk gjelder?»).
    pub fn email_regulation_applies(self) -> bool {
        matches!(self, Concern::Employees | Concern::FormerEmployees)
    }
}

/// Whom a measure concerns when the file does not say: current employees.
pub const DEFAULT_CONCERNS: &[Concern] = &[Concern::Employees];

vocabulary! {
    /// `legal_basis` of a vehicle-tracking measure (GDPR art. 6(1)).
    pub enum LegalBasis ("legal basis") {
        LegitimateInterests = "legitimate_interests",
        Consent = "consent",
        LegalObligation = "legal_obligation",
        Contract = "contract",
        None = "none",
    }
}

vocabulary! {
    /// `fields` a tracking unit registers.
    pub enum Field ("data field") {
        Position = "position",
        Time = "time",
        Odometer = "odometer",
        DriverId = "driver_id",
        Speed = "speed",
        Pedal = "pedal",
        Idling = "idling",
        HarshEvents = "harsh_events",
        GForce = "g_force",
        Fuel = "fuel",
        Rpm = "rpm",
    }
}

impl Field {
    /// Detailed data about the driving (seed 001 2.2.5 «Registrering av detaljopplysninger»).
    pub fn is_sensor(self) -> bool {
        matches!(
            self,
            Field::Speed
                | Field::Pedal
                | Field::Idling
                | Field::HarshEvents
                | Field::GForce
                | Field::Fuel
                | Field::Rpm
        )
    }
}

/// Facts of an electronic-equipment measure (seed 000). `None` = not given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EquipmentFacts {
    pub personal_data: Option<bool>,
    pub electronic_equipment: Option<bool>,
    pub employer_access: Option<bool>,
    pub main_purpose_control: Option<bool>,
    pub recorded: Option<bool>,
    pub continuous: Option<bool>,
    pub employees_can_tell_when: Option<bool>,
    /// Share of working time, 0.0 to 1.0.
    pub notified_share: Option<f64>,
    /// Never empty when given; duplicates removed, file order kept.
    pub purposes: Option<Vec<Purpose>>,
    /// Never empty when given; `None` reads as [`DEFAULT_CONCERNS`].
    pub concerns: Option<Vec<Concern>>,
    /// For the security-breach exception: does a prior risk assessment show the measure is
    /// needed to reach an acceptable level of risk?
    pub risk_assessment_shows_necessity: Option<bool>,
    /// The employee asked for it and takes part (a support session). Not given = false.
    pub employee_requested: Option<bool>,
    /// Employees also use the equipment privately. Not given = not said.
    pub private_use: Option<bool>,
    /// The measure records phone calls (sound). Not given = false.
    pub call_recording: Option<bool>,
}

impl EquipmentFacts {
    pub fn concerns(&self) -> &[Concern] {
        self.concerns.as_deref().unwrap_or(DEFAULT_CONCERNS)
    }
}

/// Facts of a vehicle-tracking measure (seed 001). `None` = not given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VehicleFacts {
    pub purpose: Option<VehiclePurpose>,
    /// Duplicates removed, file order kept.
    pub fields: Option<Vec<Field>>,
    pub stored_days: Option<u64>,
    pub continuous: Option<bool>,
    pub legal_basis_recorded: Option<bool>,
    /// The chosen basis; `legal_basis_recorded` is its short form (true = a basis on record,
    /// false = none).
    pub legal_basis: Option<LegalBasis>,
    /// Never empty when given; `None` reads as [`DEFAULT_CONCERNS`].
    pub concerns: Option<Vec<Concern>>,
}

impl VehicleFacts {
    pub fn concerns(&self) -> &[Concern] {
        self.concerns.as_deref().unwrap_or(DEFAULT_CONCERNS)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Facts {
    Equipment(EquipmentFacts),
    Vehicle(VehicleFacts),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Measure {
    pub name: String,
    pub facts: Facts,
}

const EQUIPMENT_KEYS: &[&str] = &[
    "kind",
    "name",
    "personal_data",
    "electronic_equipment",
    "employer_access",
    "main_purpose_control",
    "recorded",
    "continuous",
    "employees_can_tell_when",
    "notified_share",
    "purposes",
    "concerns",
    "risk_assessment_shows_necessity",
    "employee_requested",
    "private_use",
    "call_recording",
];

const VEHICLE_KEYS: &[&str] = &[
    "kind",
    "name",
    "purpose",
    "fields",
    "stored_days",
    "continuous",
    "legal_basis_recorded",
    "legal_basis",
    "concerns",
];

/// 1-based line of a byte offset.
fn line_of(source: &str, offset: usize) -> usize {
    let end = offset.min(source.len());
    source.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// The bare key a line starts with (`key = ...`), to name the field in a syntax error.
fn key_on_line(source: &str, line: usize) -> Option<String> {
    let text = source.lines().nth(line.checked_sub(1)?)?;
    let (key, _) = text.split_once('=')?;
    let key = key.trim();
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    bare.then(|| key.to_string())
}

/// Builds errors that point into one source text.
struct Ctx<'s> {
    source: &'s str,
}

impl Ctx<'_> {
    fn err(&self, span: Range<usize>, field: &str, message: impl Into<String>) -> LoadError {
        LoadError {
            line: Some(line_of(self.source, span.start)),
            field: Some(field.to_string()),
            message: message.into(),
        }
    }
}

/// How a value is described when it has the wrong type.
fn describe(v: &DeValue<'_>) -> String {
    match v {
        DeValue::String(s) => format!("string \"{s}\""),
        DeValue::Integer(i) => format!("integer {}", i.as_str()),
        DeValue::Float(f) => format!("number {}", f.as_str()),
        DeValue::Boolean(b) => format!("boolean {b}"),
        DeValue::Datetime(d) => format!("date/time {d}"),
        DeValue::Array(_) => "an array".to_string(),
        DeValue::Table(_) => "a table".to_string(),
    }
}

fn one_of<T: Copy + std::fmt::Display>(all: &[T]) -> String {
    all.iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

type Value<'a, 'i> = &'a Spanned<DeValue<'i>>;

impl Ctx<'_> {
    fn boolean(&self, key: &str, v: Value<'_, '_>) -> Result<bool, LoadError> {
        match v.get_ref() {
            DeValue::Boolean(b) => Ok(*b),
            other => Err(self.err(
                v.span(),
                key,
                format!("expected true or false, found {}", describe(other)),
            )),
        }
    }

    fn string(&self, key: &str, v: Value<'_, '_>) -> Result<String, LoadError> {
        match v.get_ref() {
            DeValue::String(s) => Ok(s.to_string()),
            other => Err(self.err(
                v.span(),
                key,
                format!("expected a string, found {}", describe(other)),
            )),
        }
    }

    fn word<T>(
        &self,
        key: &str,
        v: Value<'_, '_>,
        what: &str,
        all: &[T],
        parse: fn(&str) -> Option<T>,
    ) -> Result<T, LoadError>
    where
        T: Copy + std::fmt::Display,
    {
        match v.get_ref() {
            DeValue::String(s) => parse(s).ok_or_else(|| {
                self.err(
                    v.span(),
                    key,
                    format!("unknown {what} \"{s}\"; expected one of {}", one_of(all)),
                )
            }),
            other => Err(self.err(
                v.span(),
                key,
                format!(
                    "expected a string, one of {}; found {}",
                    one_of(all),
                    describe(other)
                ),
            )),
        }
    }

    fn words<T>(
        &self,
        key: &str,
        v: Value<'_, '_>,
        what: &str,
        all: &[T],
        parse: fn(&str) -> Option<T>,
    ) -> Result<Vec<T>, LoadError>
    where
        T: Copy + std::fmt::Display + PartialEq,
    {
        let DeValue::Array(items) = v.get_ref() else {
            return Err(self.err(
                v.span(),
                key,
                format!(
                    "expected an array of strings, e.g. [\"{}\"]; found {}",
                    all.first().map(|w| w.to_string()).unwrap_or_default(),
                    describe(v.get_ref())
                ),
            ));
        };
        let mut out = Vec::new();
        for item in items.iter() {
            let w = self.word(key, item, what, all, parse)?;
            if !out.contains(&w) {
                out.push(w);
            }
        }
        Ok(out)
    }

    fn share(&self, key: &str, v: Value<'_, '_>) -> Result<f64, LoadError> {
        let x = match v.get_ref() {
            DeValue::Float(f) => f.as_str().replace('_', "").parse::<f64>().ok(),
            DeValue::Integer(i) if i.radix() == 10 => i
                .as_str()
                .replace('_', "")
                .parse::<i64>()
                .ok()
                .map(|n| n as f64),
            other => {
                return Err(self.err(
                    v.span(),
                    key,
                    format!(
                        "expected a share of working time between 0 and 1 (e.g. 0.25), found {}",
                        describe(other)
                    ),
                ));
            }
        };
        match x {
            Some(x) if (0.0..=1.0).contains(&x) => Ok(x),
            _ => Err(self.err(
                v.span(),
                key,
                format!(
                    "{} is not a share of working time; expected a number between 0 and 1 (e.g. 0.25 for 25 %)",
                    describe(v.get_ref())
                ),
            )),
        }
    }

    fn days(&self, key: &str, v: Value<'_, '_>) -> Result<u64, LoadError> {
        match v.get_ref() {
            DeValue::Integer(i) => u64::from_str_radix(&i.as_str().replace('_', ""), i.radix())
                .map_err(|_| {
                    self.err(
                        v.span(),
                        key,
                        format!(
                            "{} is not a number of days; expected a whole number, 0 or more (0 = not stored)",
                            describe(v.get_ref())
                        ),
                    )
                }),
            other => Err(self.err(
                v.span(),
                key,
                format!(
                    "expected a whole number of days, 0 or more (0 = not stored), found {}",
                    describe(other)
                ),
            )),
        }
    }
}

/// Reads an assessment file. Pure: the caller reads the file.
pub fn load(source: &str) -> Result<Measure, LoadError> {
    let ctx = Ctx { source };
    let doc = DeTable::parse(source).map_err(|e| {
        let line = e.span().map(|s| line_of(source, s.start));
        LoadError {
            field: line.and_then(|l| key_on_line(source, l)),
            line,
            message: e.message().trim().to_string(),
        }
    })?;
    let mut entries: Vec<(&Spanned<_>, Value<'_, '_>)> = doc.get_ref().iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);

    let kind_entry = entries.iter().find(|(k, _)| k.get_ref() == "kind");
    let Some((_, kind_value)) = kind_entry else {
        return Err(LoadError {
            line: None,
            field: Some("kind".into()),
            message: format!("missing; expected one of {}", one_of(Kind::ALL)),
        });
    };
    let kind = ctx.word("kind", kind_value, Kind::WHAT, Kind::ALL, Kind::parse)?;
    let allowed = match kind {
        Kind::ElectronicEquipment => EQUIPMENT_KEYS,
        Kind::VehicleTracking => VEHICLE_KEYS,
    };

    let mut name = None;
    let mut eq = EquipmentFacts::default();
    let mut ve = VehicleFacts::default();
    for (key, v) in entries {
        let k: &str = key.get_ref();
        if !allowed.contains(&k) {
            return Err(ctx.err(
                key.span(),
                k,
                format!(
                    "unknown field for kind = \"{kind}\"; expected one of {}",
                    allowed.join(", ")
                ),
            ));
        }
        match (kind, k) {
            (_, "kind") => {}
            (_, "name") => name = Some(ctx.string(k, v)?),
            (Kind::ElectronicEquipment, "personal_data") => {
                eq.personal_data = Some(ctx.boolean(k, v)?)
            }
            (Kind::ElectronicEquipment, "electronic_equipment") => {
                eq.electronic_equipment = Some(ctx.boolean(k, v)?)
            }
            (Kind::ElectronicEquipment, "employer_access") => {
                eq.employer_access = Some(ctx.boolean(k, v)?)
            }
            (Kind::ElectronicEquipment, "main_purpose_control") => {
                eq.main_purpose_control = Some(ctx.boolean(k, v)?)
            }
            (Kind::ElectronicEquipment, "recorded") => eq.recorded = Some(ctx.boolean(k, v)?),
            (Kind::ElectronicEquipment, "continuous") => eq.continuous = Some(ctx.boolean(k, v)?),
            (Kind::ElectronicEquipment, "employees_can_tell_when") => {
                eq.employees_can_tell_when = Some(ctx.boolean(k, v)?)
            }
            (Kind::ElectronicEquipment, "notified_share") => {
                eq.notified_share = Some(ctx.share(k, v)?)
            }
            (Kind::ElectronicEquipment, "purposes") => {
                let ps = ctx.words(k, v, Purpose::WHAT, Purpose::ALL, Purpose::parse)?;
                if ps.is_empty() {
                    return Err(ctx.err(
                        v.span(),
                        k,
                        format!(
                            "empty; name at least one purpose ({}), or leave the field out if the purpose is unknown",
                            one_of(Purpose::ALL)
                        ),
                    ));
                }
                eq.purposes = Some(ps);
            }
            (_, "concerns") => {
                let cs = ctx.words(k, v, Concern::WHAT, Concern::ALL, Concern::parse)?;
                if cs.is_empty() {
                    return Err(ctx.err(
                        v.span(),
                        k,
                        format!(
                            "empty; name at least one group ({}), or leave the field out for employees",
                            one_of(Concern::ALL)
                        ),
                    ));
                }
                match kind {
                    Kind::ElectronicEquipment => eq.concerns = Some(cs),
                    Kind::VehicleTracking => ve.concerns = Some(cs),
                }
            }
            (Kind::ElectronicEquipment, "risk_assessment_shows_necessity") => {
                eq.risk_assessment_shows_necessity = Some(ctx.boolean(k, v)?)
            }
            (Kind::ElectronicEquipment, "employee_requested") => {
                eq.employee_requested = Some(ctx.boolean(k, v)?)
            }
            (Kind::ElectronicEquipment, "private_use") => eq.private_use = Some(ctx.boolean(k, v)?),
            (Kind::ElectronicEquipment, "call_recording") => {
                eq.call_recording = Some(ctx.boolean(k, v)?)
            }
            (Kind::VehicleTracking, "purpose") => {
                ve.purpose = Some(ctx.word(
                    k,
                    v,
                    VehiclePurpose::WHAT,
                    VehiclePurpose::ALL,
                    VehiclePurpose::parse,
                )?)
            }
            (Kind::VehicleTracking, "fields") => {
                ve.fields = Some(ctx.words(k, v, Field::WHAT, Field::ALL, Field::parse)?)
            }
            (Kind::VehicleTracking, "stored_days") => ve.stored_days = Some(ctx.days(k, v)?),
            (Kind::VehicleTracking, "continuous") => ve.continuous = Some(ctx.boolean(k, v)?),
            (Kind::VehicleTracking, "legal_basis_recorded") => {
                ve.legal_basis_recorded = Some(ctx.boolean(k, v)?)
            }
            (Kind::VehicleTracking, "legal_basis") => {
                ve.legal_basis =
                    Some(ctx.word(k, v, LegalBasis::WHAT, LegalBasis::ALL, LegalBasis::parse)?)
            }
            // `allowed` lists exactly the keys matched above.
            _ => {
                return Err(ctx.err(key.span(), k, "unknown field"));
            }
        }
    }
    let Some(name) = name else {
        return Err(LoadError {
            line: None,
            field: Some("name".into()),
            message: "missing; give the measure a name, e.g. name = \"Electronic driving log\""
                .into(),
        });
    };
    let facts = match kind {
        Kind::ElectronicEquipment => Facts::Equipment(eq),
        Kind::VehicleTracking => Facts::Vehicle(ve),
    };
    Ok(Measure { name, facts })
}
