//! The organisation file: TOML in, a validated [`Org`] out, or an error that names the line
//! and the field at fault.

use std::collections::HashSet;
use std::ops::Range;

use domain::{ExternalId, Protocol, RegNo, VehicleKind};
use serde::Deserialize;
use toml::Spanned;

use crate::classify::{
    ClassificationRules, Hours, PeriodRule, RuleClass, SiteMatch, SiteRule, WEEKDAYS,
};
use crate::model::{
    Assignment, Device, Employee, EmployeeStatus, Geometry, LegalBasis, Org, Organisation, Purpose,
    Site, SiteKind, Vehicle,
};

/// What is wrong with an organisation file, and where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}, field \"{field}\": {message}")]
pub struct OrgFileError {
    pub line: usize,
    pub field: String,
    pub message: String,
}

impl OrgFileError {
    /// The field and what is wrong with it, without the line (for a change made in a form,
    /// which has no file lines).
    pub fn field_message(&self) -> String {
        format!("field \"{}\": {}", self.field, self.message)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    organisation: RawOrganisation,
    #[serde(default)]
    vehicles: Vec<RawVehicle>,
    #[serde(default)]
    devices: Vec<RawDevice>,
    #[serde(default)]
    employees: Vec<RawEmployee>,
    #[serde(default)]
    users: Vec<RawUser>,
    #[serde(default)]
    assignments: Vec<RawAssignment>,
    #[serde(default)]
    sites: Vec<RawSite>,
    classification: Option<RawClassification>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClassification {
    working_hours: Option<std::collections::BTreeMap<String, Spanned<String>>>,
    outside_working_hours: Option<Spanned<String>>,
    unclassified_after_days: Option<Spanned<i64>>,
    #[serde(default)]
    sites: Vec<RawSiteRule>,
    #[serde(default)]
    periods: Vec<RawPeriod>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSiteRule {
    site: Option<Spanned<String>>,
    kind: Option<Spanned<String>>,
    class: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPeriod {
    name: Spanned<String>,
    from: Spanned<toml::value::Datetime>,
    to: Spanned<toml::value::Datetime>,
    class: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOrganisation {
    name: Spanned<String>,
    org_number: Option<Spanned<String>>,
    driver_behaviour_basis: Option<Spanned<RawBasis>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBasis {
    balancing_test: String,
    dpia: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVehicle {
    reg: Spanned<String>,
    kind: Spanned<String>,
    group: Option<String>,
    description: Option<String>,
    #[serde(default)]
    purposes: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDevice {
    protocol: Spanned<String>,
    id: Spanned<String>,
    vehicle: Spanned<String>,
    model: Option<String>,
    privacy_input: Option<Spanned<String>>,
    panic_input: Option<Spanned<String>>,
    virtual_odometer: Option<bool>,
    rank: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEmployee {
    number: Spanned<String>,
    name: Spanned<String>,
    email: Option<Spanned<String>>,
    phone: Option<Spanned<String>>,
    status: Option<Spanned<String>>,
    driver_id: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUser {
    name: Spanned<String>,
    roles: Spanned<Vec<String>>,
    employee: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAssignment {
    employee: Spanned<String>,
    vehicle: Spanned<String>,
    from: Spanned<toml::value::Datetime>,
    to: Option<Spanned<toml::value::Datetime>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSite {
    name: Spanned<String>,
    kind: Spanned<String>,
    address: Option<String>,
    circle: Option<Spanned<RawCircle>>,
    polygon: Option<Spanned<Vec<[f64; 2]>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCircle {
    lat: f64,
    lon: f64,
    radius_m: f64,
}

struct Ctx<'a> {
    source: &'a str,
}

impl Ctx<'_> {
    fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.source.len());
        self.source.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    fn err(&self, span: Range<usize>, field: &str, message: impl Into<String>) -> OrgFileError {
        OrgFileError {
            line: self.line_of(span.start),
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// Turns a TOML/serde error into one that names the line and the field.
    fn toml_error(&self, e: &toml::de::Error) -> OrgFileError {
        let span = e.span().unwrap_or(0..0);
        let message = e.message().trim().to_owned();
        // serde names the field in backticks for unknown and missing fields.
        let names_field =
            message.starts_with("unknown field") || message.starts_with("missing field");
        let field = names_field
            .then(|| between_backticks(&message))
            .flatten()
            .or_else(|| self.key_at(span.start));
        OrgFileError {
            line: self.line_of(span.start),
            field: field.unwrap_or_else(|| "(file)".to_owned()),
            message,
        }
    }

    /// The key whose value starts at `offset`: the name before the nearest `=` to its left
    /// on the same line (so `circle = { radius_m = "big" }` names `radius_m`).
    fn key_at(&self, offset: usize) -> Option<String> {
        let offset = offset.min(self.source.len());
        let start = self.source[..offset].rfind('\n').map_or(0, |i| i + 1);
        let mut prefix = &self.source[start..offset];
        if !prefix.contains('=') {
            // The span starts at the key itself: take the key on this line.
            let line = self.source[start..].lines().next()?;
            prefix = line.split_once('=').map(|(k, _)| k)?;
            let key = prefix.trim();
            return (!key.is_empty() && !key.starts_with('[')).then(|| key.to_owned());
        }
        let before = prefix[..prefix.rfind('=')?].trim_end();
        let key: String = before
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        (!key.is_empty()).then_some(key)
    }
}

fn between_backticks(s: &str) -> Option<String> {
    let a = s.find('`')?;
    let b = s[a + 1..].find('`')?;
    Some(s[a + 1..a + 1 + b].to_owned())
}

fn date_of(
    ctx: &Ctx,
    field: &str,
    v: &Spanned<toml::value::Datetime>,
) -> Result<time::Date, OrgFileError> {
    let bad = || ctx.err(v.span(), field, "expected a date like 2026-01-31");
    let d = v.get_ref();
    if d.time.is_some() || d.offset.is_some() {
        return Err(bad());
    }
    let date = d.date.ok_or_else(bad)?;
    let month = time::Month::try_from(date.month).map_err(|_| bad())?;
    time::Date::from_calendar_date(i32::from(date.year), month, date.day).map_err(|_| bad())
}

fn rule_class(ctx: &Ctx, v: &Spanned<String>) -> Result<RuleClass, OrgFileError> {
    RuleClass::parse(v.get_ref().trim())
        .ok_or_else(|| ctx.err(v.span(), "class", "expected business or private"))
}

fn classification(
    ctx: &Ctx,
    c: &RawClassification,
    sites: &[Site],
) -> Result<ClassificationRules, OrgFileError> {
    let mut rules = ClassificationRules::default();
    for (day, hours) in c.working_hours.iter().flatten() {
        let Some(i) = WEEKDAYS.iter().position(|w| w == day) else {
            return Err(ctx.err(
                hours.span(),
                "working_hours",
                format!("{day:?} is not a weekday; use mon, tue, wed, thu, fri, sat, sun"),
            ));
        };
        let bad = || {
            ctx.err(
                hours.span(),
                "working_hours",
                "expected hours like \"07:00-16:00\" (local time, from before to)",
            )
        };
        let hm = |s: &str| -> Option<time::Time> {
            let (h, m) = s.trim().split_once(':')?;
            time::Time::from_hms(h.parse().ok()?, m.parse().ok()?, 0).ok()
        };
        let (from, to) = hours.get_ref().split_once('-').ok_or_else(bad)?;
        let (from, to) = (hm(from).ok_or_else(bad)?, hm(to).ok_or_else(bad)?);
        if from >= to {
            return Err(bad());
        }
        rules.working_hours[i] = Some(Hours { from, to });
    }
    if let Some(o) = &c.outside_working_hours {
        rules.outside_working_hours = match o.get_ref().trim() {
            "none" => None,
            _ => Some(rule_class(ctx, o).map_err(|_| {
                ctx.err(
                    o.span(),
                    "outside_working_hours",
                    "expected private, business or none",
                )
            })?),
        };
    }
    if let Some(n) = &c.unclassified_after_days {
        rules.unclassified_after_days = u32::try_from(*n.get_ref())
            .ok()
            .filter(|n| (1..=366).contains(n))
            .ok_or_else(|| {
                ctx.err(
                    n.span(),
                    "unclassified_after_days",
                    "expected a number of days from 1 to 366",
                )
            })?;
    }
    for r in &c.sites {
        let site = match (&r.site, &r.kind) {
            (Some(n), None) => {
                let name = n.get_ref().trim();
                if !sites.iter().any(|s| s.name == name) {
                    return Err(ctx.err(
                        n.span(),
                        "site",
                        format!("no site {name:?} is declared under [[sites]]"),
                    ));
                }
                SiteMatch::Named(name.to_owned())
            }
            (None, Some(k)) => {
                SiteMatch::Kind(SiteKind::parse(k.get_ref().trim()).ok_or_else(|| {
                    ctx.err(
                        k.span(),
                        "kind",
                        "expected one of depot, customer, building_site, office, other",
                    )
                })?)
            }
            _ => {
                return Err(ctx.err(
                    r.class.span(),
                    "site",
                    "a site rule names exactly one of site = \"…\" or kind = \"…\"",
                ));
            }
        };
        rules.sites.push(SiteRule {
            site,
            class: rule_class(ctx, &r.class)?,
        });
    }
    for p in &c.periods {
        let name = p.name.get_ref().trim();
        if name.is_empty() {
            return Err(ctx.err(p.name.span(), "name", "the period needs a name"));
        }
        let from = date_of(ctx, "from", &p.from)?;
        let to = date_of(ctx, "to", &p.to)?;
        if to < from {
            return Err(ctx.err(p.to.span(), "to", "the period ends before it starts"));
        }
        rules.periods.push(PeriodRule {
            name: name.to_owned(),
            from,
            to,
            class: rule_class(ctx, &p.class)?,
        });
    }
    Ok(rules)
}

/// Parses only a `[classification]` section (as `to_toml` writes it): how storage keeps the
/// rules. Site rules that name a site are checked against `sites`.
pub fn parse_classification(
    source: &str,
    sites: &[Site],
) -> Result<ClassificationRules, OrgFileError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Only {
        classification: Option<RawClassification>,
    }
    let ctx = Ctx { source };
    let raw: Only = toml::from_str(source).map_err(|e| ctx.toml_error(&e))?;
    match &raw.classification {
        Some(c) => classification(&ctx, c, sites),
        None => Ok(ClassificationRules::default()),
    }
}

/// Parses and validates an organisation file.
pub fn parse(source: &str) -> Result<Org, OrgFileError> {
    let ctx = Ctx { source };
    let raw: RawFile = toml::from_str(source).map_err(|e| ctx.toml_error(&e))?;

    let name = raw.organisation.name.get_ref().trim();
    if name.is_empty() {
        return Err(ctx.err(
            raw.organisation.name.span(),
            "name",
            "the organisation needs a name",
        ));
    }
    let org_number = match &raw.organisation.org_number {
        Some(n) => {
            let digits: String = n.get_ref().chars().filter(|c| !c.is_whitespace()).collect();
            if digits.len() != 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ctx.err(n.span(), "org_number", "an organisasjonsnummer is 9 digits"));
            }
            Some(digits)
        }
        None => None,
    };

    let driver_behaviour_basis = match &raw.organisation.driver_behaviour_basis {
        Some(b) => {
            let r = b.get_ref();
            if r.balancing_test.trim().is_empty() || r.dpia.trim().is_empty() {
                return Err(ctx.err(
                    b.span(),
                    "driver_behaviour_basis",
                    "name where the balancing test and the DPIA are recorded (both)",
                ));
            }
            Some(LegalBasis {
                balancing_test: r.balancing_test.trim().to_owned(),
                dpia: r.dpia.trim().to_owned(),
            })
        }
        None => None,
    };

    let mut vehicles = Vec::new();
    let mut regs = HashSet::new();
    for v in &raw.vehicles {
        let reg = RegNo::parse(v.reg.get_ref())
            .map_err(|e| ctx.err(v.reg.span(), "reg", e.to_string()))?;
        if !regs.insert(reg.clone()) {
            return Err(ctx.err(
                v.reg.span(),
                "reg",
                format!("vehicle {reg} is declared twice"),
            ));
        }
        let kind = VehicleKind::parse(v.kind.get_ref())
            .map_err(|e| ctx.err(v.kind.span(), "kind", e.to_string()))?;
        let mut purposes = Vec::new();
        for p in &v.purposes {
            let purpose = Purpose::parse(p.get_ref()).ok_or_else(|| {
                ctx.err(
                    p.span(),
                    "purposes",
                    format!(
                        "unknown purpose {:?}; expected one of driving_log, fleet_view, alarm, utilization, driver_behaviour",
                        p.get_ref()
                    ),
                )
            })?;
            if purpose == Purpose::DriverBehaviour && driver_behaviour_basis.is_none() {
                return Err(ctx.err(
                    p.span(),
                    "purposes",
                    "driver_behaviour needs a recorded legal basis: add [organisation.driver_behaviour_basis] with balancing_test and dpia \
                     (GDPR art. 6(1)(f) and art. 35; Datatilsynet on detailed sensor data)",
                ));
            }
            if purposes.contains(&purpose) {
                return Err(ctx.err(
                    p.span(),
                    "purposes",
                    format!("purpose {} is listed twice", purpose.as_str()),
                ));
            }
            purposes.push(purpose);
        }
        purposes.sort();
        vehicles.push(Vehicle {
            reg,
            kind,
            group: v.group.clone().filter(|g| !g.trim().is_empty()),
            description: v.description.clone(),
            purposes,
        });
    }

    let known_vehicle = |s: &Spanned<String>, field: &str| -> Result<RegNo, OrgFileError> {
        let reg = RegNo::parse(s.get_ref()).map_err(|e| ctx.err(s.span(), field, e.to_string()))?;
        if regs.contains(&reg) {
            Ok(reg)
        } else {
            Err(ctx.err(
                s.span(),
                field,
                format!("no vehicle {reg} is declared under [[vehicles]]"),
            ))
        }
    };

    let mut devices = Vec::new();
    let mut device_keys = HashSet::new();
    for d in &raw.devices {
        let protocol = Protocol::parse(d.protocol.get_ref())
            .map_err(|e| ctx.err(d.protocol.span(), "protocol", e.to_string()))?;
        let external_id = ExternalId::parse(protocol, d.id.get_ref())
            .map_err(|e| ctx.err(d.id.span(), "id", e.to_string()))?;
        if !device_keys.insert((protocol, external_id.clone())) {
            return Err(ctx.err(
                d.id.span(),
                "id",
                format!("{protocol} device {external_id} is declared twice"),
            ));
        }
        let vehicle = known_vehicle(&d.vehicle, "vehicle")?;
        let input = |v: &Option<Spanned<String>>,
                     field: &str|
         -> Result<Option<String>, OrgFileError> {
            let Some(v) = v else { return Ok(None) };
            let s = v.get_ref().trim().to_ascii_lowercase();
            let ok = match s.strip_prefix("din") {
                Some(n) => matches!(n, "1" | "2" | "3" | "4"),
                None => {
                    !s.is_empty()
                        && s.len() <= 40
                        && s.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"_:-".contains(&b))
                }
            };
            if ok {
                Ok(Some(s))
            } else {
                Err(ctx.err(v.span(), field, "expected din1 … din4, or the name of an attribute the device sends (e.g. io:2)"))
            }
        };
        let privacy_input = input(&d.privacy_input, "privacy_input")?;
        let panic_input = input(&d.panic_input, "panic_input")?;
        if privacy_input.is_some() && privacy_input == panic_input {
            return Err(ctx.err(
                d.id.span(),
                "panic_input",
                "one input cannot be both the privacy switch and the panic button",
            ));
        }
        let rank = match &d.rank {
            Some(r) => Some(
                u8::try_from(*r.get_ref())
                    .ok()
                    .filter(|r| *r <= 9)
                    .ok_or_else(|| {
                        ctx.err(
                            r.span(),
                            "rank",
                            "expected 0 (the vehicle's first device) to 9",
                        )
                    })?,
            ),
            None => None,
        };
        devices.push(Device {
            protocol,
            external_id,
            vehicle,
            model: d.model.clone(),
            privacy_input,
            panic_input,
            virtual_odometer: d.virtual_odometer.unwrap_or(false),
            rank,
        });
    }

    let mut employees = Vec::new();
    let mut numbers = HashSet::new();
    let mut driver_ids = HashSet::new();
    for e in &raw.employees {
        let number = e.number.get_ref().trim().to_owned();
        if number.is_empty() || number.len() > 32 {
            return Err(ctx.err(
                e.number.span(),
                "number",
                "an employee number is 1 to 32 characters",
            ));
        }
        if !numbers.insert(number.clone()) {
            return Err(ctx.err(
                e.number.span(),
                "number",
                format!("employee {number} is declared twice"),
            ));
        }
        let name = e.name.get_ref().trim().to_owned();
        if name.is_empty() {
            return Err(ctx.err(e.name.span(), "name", "the employee needs a name"));
        }
        if let Some(email) = &e.email
            && !email.get_ref().contains('@')
        {
            return Err(ctx.err(email.span(), "email", "not an e-mail address"));
        }
        if let Some(phone) = &e.phone
            && !valid_phone(phone.get_ref())
        {
            return Err(ctx.err(
                phone.span(),
                "phone",
                "not a phone number: digits and spaces, optionally starting with +, such as \"+47 912 34 567\"",
            ));
        }
        let status = match &e.status {
            Some(s) => EmployeeStatus::parse(s.get_ref())
                .ok_or_else(|| ctx.err(s.span(), "status", "expected current or former"))?,
            None => EmployeeStatus::Current,
        };
        if let Some(d) = &e.driver_id
            && !driver_ids.insert(d.get_ref().clone())
        {
            return Err(ctx.err(
                d.span(),
                "driver_id",
                "this driver id is already given to another employee",
            ));
        }
        employees.push(Employee {
            number,
            name,
            email: e.email.as_ref().map(|s| s.get_ref().clone()),
            phone: e.phone.as_ref().map(|s| s.get_ref().trim().to_owned()),
            status,
            driver_id: e.driver_id.as_ref().map(|s| s.get_ref().clone()),
        });
    }

    let mut users = Vec::new();
    let mut user_names = HashSet::new();
    for u in &raw.users {
        let name = u.name.get_ref().trim().to_owned();
        if name.is_empty() || name.len() > 64 || name.chars().any(char::is_whitespace) {
            return Err(ctx.err(
                u.name.span(),
                "name",
                "a user name is 1 to 64 characters without spaces",
            ));
        }
        if !user_names.insert(name.clone()) {
            return Err(ctx.err(
                u.name.span(),
                "name",
                format!("user {name} is declared twice"),
            ));
        }
        let mut roles: Vec<String> = Vec::new();
        for r in u.roles.get_ref() {
            if !crate::model::ROLES.contains(&r.as_str()) {
                return Err(ctx.err(
                    u.roles.span(),
                    "roles",
                    format!(
                        "unknown role {r:?} (expected one of {})",
                        crate::model::ROLES.join(", ")
                    ),
                ));
            }
            if !roles.contains(r) {
                roles.push(r.clone());
            }
        }
        if roles.is_empty() {
            return Err(ctx.err(u.roles.span(), "roles", "a user needs at least one role"));
        }
        let employee = u.employee.as_ref().map(|e| e.get_ref().trim().to_owned());
        if let (Some(e), Some(span)) = (&employee, u.employee.as_ref().map(Spanned::span))
            && !numbers.contains(e)
        {
            return Err(ctx.err(
                span,
                "employee",
                format!("no employee {e} is declared under [[employees]]"),
            ));
        }
        if roles.iter().any(|r| r == "employee") && employee.is_none() {
            return Err(ctx.err(
                u.roles.span(),
                "employee",
                "the employee role needs employee = \"<number>\" (whose own data the user sees)",
            ));
        }
        users.push(crate::model::User {
            name,
            roles,
            employee,
        });
    }

    let mut assignments: Vec<Assignment> = Vec::new();
    for a in &raw.assignments {
        let employee = a.employee.get_ref().trim().to_owned();
        if !numbers.contains(&employee) {
            return Err(ctx.err(
                a.employee.span(),
                "employee",
                format!("no employee {employee} is declared under [[employees]]"),
            ));
        }
        let vehicle = known_vehicle(&a.vehicle, "vehicle")?;
        let from = date_of(&ctx, "from", &a.from)?;
        let to = match &a.to {
            Some(t) => {
                let to = date_of(&ctx, "to", t)?;
                if to <= from {
                    return Err(ctx.err(t.span(), "to", "the assignment must end after it starts"));
                }
                Some(to)
            }
            None => None,
        };
        let overlaps = assignments.iter().any(|o| {
            o.vehicle == vehicle
                && o.from < to.unwrap_or(time::Date::MAX)
                && from < o.to.unwrap_or(time::Date::MAX)
        });
        if overlaps {
            return Err(ctx.err(
                a.from.span(),
                "from",
                format!("vehicle {vehicle} already has a driver assigned in this period; one driver at a time"),
            ));
        }
        assignments.push(Assignment {
            employee,
            vehicle,
            from,
            to,
        });
    }

    let mut sites = Vec::new();
    let mut site_names = HashSet::new();
    for s in &raw.sites {
        let name = s.name.get_ref().trim().to_owned();
        if name.is_empty() {
            return Err(ctx.err(s.name.span(), "name", "the site needs a name"));
        }
        if !site_names.insert(name.clone()) {
            return Err(ctx.err(
                s.name.span(),
                "name",
                format!("site {name:?} is declared twice"),
            ));
        }
        let kind = SiteKind::parse(s.kind.get_ref()).ok_or_else(|| {
            ctx.err(
                s.kind.span(),
                "kind",
                "expected one of depot, customer, building_site, office, other",
            )
        })?;
        let geometry = match (&s.circle, &s.polygon) {
            (Some(c), None) => {
                let r = c.get_ref();
                if domain::Position::new(r.lat, r.lon).is_none() {
                    return Err(ctx.err(
                        c.span(),
                        "circle",
                        "lat must be within ±90 and lon within ±180",
                    ));
                }
                if !(r.radius_m > 0.0 && r.radius_m <= 50_000.0) {
                    return Err(ctx.err(
                        c.span(),
                        "circle",
                        "radius_m must be above 0 and at most 50000",
                    ));
                }
                Geometry::Circle {
                    lat: r.lat,
                    lon: r.lon,
                    radius_m: r.radius_m,
                }
            }
            (None, Some(p)) => {
                let ring = p.get_ref();
                if ring.len() < 3 {
                    return Err(ctx.err(
                        p.span(),
                        "polygon",
                        "a polygon needs at least 3 [lat, lon] points",
                    ));
                }
                if ring
                    .iter()
                    .any(|[lat, lon]| domain::Position::new(*lat, *lon).is_none())
                {
                    return Err(ctx.err(
                        p.span(),
                        "polygon",
                        "every point is [lat, lon] with lat within ±90 and lon within ±180",
                    ));
                }
                Geometry::Polygon(ring.iter().map(|[a, b]| (*a, *b)).collect())
            }
            _ => {
                return Err(ctx.err(s.name.span(), "circle", "give a site exactly one of circle = { lat, lon, radius_m } or polygon = [[lat, lon], …]"));
            }
        };
        sites.push(Site {
            name,
            kind,
            address: s.address.clone(),
            geometry,
        });
    }

    let classification = match &raw.classification {
        Some(c) => classification(&ctx, c, &sites)?,
        None => ClassificationRules::default(),
    };

    Ok(Org {
        classification,
        organisation: Organisation {
            name: name.to_owned(),
            org_number,
            driver_behaviour_basis,
        },
        vehicles,
        devices,
        employees,
        users,
        assignments,
        sites,
    })
}

/// A phone number as people write it: an optional `+`, then 5 to 15 digits, spaces allowed
/// between them (E.164 has at most 15 digits).
pub fn valid_phone(s: &str) -> bool {
    let s = s.trim();
    let digits = s.strip_prefix('+').unwrap_or(s);
    let count = digits.chars().filter(char::is_ascii_digit).count();
    digits.chars().all(|c| c.is_ascii_digit() || c == ' ') && (5..=15).contains(&count)
}
