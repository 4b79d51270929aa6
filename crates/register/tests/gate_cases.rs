//! Data-driven gate cases: `test_data/register/gate/*.toml`, each a measure, the duties on
//! record and the expected gate result. A duty named in `done` is recorded, complete, the day
//! before `now`.

use std::path::{Path, PathBuf};

use register::{
    ART28_POINTS, BalancingTest, Decision, DeviationRoutine, Discussion, Dpia, Duties, Evaluation,
    GateConfig, Information, LateClosure, LegalBasis, Measure, MeasureKind, PriorConsultation,
    PrivateDrivingReview, PrivateDrivingRoutine, ProcessorAgreement, RiskAssessment, RiskLevel,
    RoleReview, Security, SecurityRecord, Services, Status, TariffCheck, gate_with,
};
use serde::Deserialize;
use time::{Date, Duration, macros::format_description};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    now: String,
    kind: String,
    facts: String,
    #[serde(default)]
    done: Vec<String>,
    /// Records that do not gate (role reviews, a second discussion …), on record as well.
    #[serde(default)]
    recorded: Vec<String>,
    #[serde(default)]
    processor: Option<String>,
    #[serde(default)]
    legal_basis: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    started_on: Option<String>,
    #[serde(default)]
    evaluations: Vec<EvalRow>,
    #[serde(default)]
    tariff_requires_discussion: bool,
    /// The risk assessment's conclusion on necessity (seed 000, «Data loss prevention»).
    #[serde(default)]
    risk_shows_necessity: Option<bool>,
    /// The DPIA's residual risk: low, medium or high.
    #[serde(default)]
    residual_risk: Option<String>,
    /// The art. 28(3) points the processor agreement leaves out, and whether it states the
    /// processor's own security duty.
    #[serde(default)]
    agreement_lacks: Vec<String>,
    #[serde(default)]
    agreement_without_security: bool,
    /// The services the processor agreement is linked to.
    #[serde(default)]
    agreement_services: Vec<String>,
    /// The services configured on the server: address, map_tiles.
    #[serde(default)]
    configured_services: Vec<String>,
    /// Organisation security records that are NOT on record (all are by default).
    #[serde(default)]
    security_missing: Vec<String>,
    /// Late duties the privacy officer has closed.
    #[serde(default)]
    late_closed: Vec<String>,
    /// The date of the last private-driving review.
    #[serde(default)]
    private_driving_review: Option<String>,
    /// Whom the measure concerns, as the register records it (current_employees,
    /// former_employees, contractors_or_customers); the default is current and former employees.
    #[serde(default)]
    concerns: Vec<String>,
    /// The date each duty in `done` was recorded, when not the day before `now`.
    #[serde(default)]
    done_on: Option<String>,
    expect: Expect,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EvalRow {
    date: String,
    decision: String,
    #[serde(default)]
    need_still_present: Option<bool>,
    #[serde(default)]
    reason_to_continue: Option<String>,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct Expect {
    #[serde(default)]
    verdict: Option<String>,
    may_collect: bool,
    missing: Vec<String>,
    #[serde(default)]
    warnings: Vec<String>,
    #[serde(default)]
    schedule_deletion: bool,
}

fn date(s: &str) -> Date {
    Date::parse(s, format_description!("[year]-[month]-[day]")).expect("a YYYY-MM-DD date")
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test_data/register/gate")
}

fn load(path: &Path) -> Case {
    let text = std::fs::read_to_string(path).expect("readable case");
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn measure(c: &Case) -> Measure {
    let kind = MeasureKind::parse(&c.kind).expect("a known measure kind");
    let mut m = Measure::new("m1", "Case", kind, c.facts.clone()).expect("valid facts");
    m.processor = c.processor.clone();
    m.legal_basis = match c.legal_basis.as_deref() {
        None => LegalBasis::LegitimateInterests,
        Some(x) => LegalBasis::parse(x).unwrap_or_else(|| panic!("unknown legal basis {x}")),
    };
    m.status = match c.status.as_deref() {
        None | Some("planned") => Status::Planned,
        Some("active") => Status::Active,
        Some("ended") => Status::Ended,
        Some(x) => panic!("unknown status {x}"),
    };
    m.started_on = c.started_on.as_deref().map(date);
    if !c.concerns.is_empty() {
        m.concerns = c
            .concerns
            .iter()
            .map(|x| register::Concerned::parse(x).expect("a known group"))
            .collect();
    }
    m
}

/// A complete record of each duty in `done`, the day before `now`.
fn duties(c: &Case, done: &[String]) -> Duties {
    let before = date(&c.now) - Duration::days(1);
    let done_on = c.done_on.as_deref().map(date).unwrap_or(before);
    let by = "Personvernombud".to_string();
    let mut d = Duties::default();
    let all = done
        .iter()
        .map(|x| (x, done_on))
        .chain(c.recorded.iter().map(|x| (x, before)));
    for (code, on) in all {
        match code.as_str() {
            "balancing_test" => {
                d.balancing_test = Some(BalancingTest {
                    by: by.clone(),
                    interest: "Dokumentasjon til skatteetaten".into(),
                    necessity: "Kjøreboken krever posisjon og tid".into(),
                    employees_side: "Privat kjøring kan skjules".into(),
                    outcome: "Virksomhetens interesse veier tyngst".into(),
                    decided_on: on,
                })
            }
            "dpia" => {
                d.dpia = Some(Dpia {
                    by: by.clone(),
                    done_on: on,
                    employees_views: "Tillitsvalgte har uttalt seg".into(),
                    dpo_advice: None,
                    residual_risk: c
                        .residual_risk
                        .as_deref()
                        .map(|r| RiskLevel::parse(r).expect("low, medium or high")),
                })
            }
            "discussion" => d.discussions.push(Discussion {
                by: by.clone(),
                date: on,
                participants: vec!["Tillitsvalgt".into()],
                minutes: "Drøftet".into(),
            }),
            "information" => {
                d.information = Some(Information {
                    by: by.clone(),
                    controller: "Firma AS".into(),
                    purpose: "Kjørebok".into(),
                    practical_consequences: "Turer registreres".into(),
                    how_carried_out: "Enhet i bilen".into(),
                    expected_duration: "Inntil videre".into(),
                    legal_basis: "Art. 6(1)(f)".into(),
                    retention: "Seks år".into(),
                    access: "Regnskap".into(),
                    published_on: on,
                    dpo_contact: None,
                    transfers_abroad: None,
                })
            }
            "information_incomplete" => {
                d.information = Some(Information {
                    by: by.clone(),
                    controller: "Firma AS".into(),
                    purpose: "Kjørebok".into(),
                    practical_consequences: String::new(),
                    how_carried_out: "Enhet i bilen".into(),
                    expected_duration: " ".into(),
                    legal_basis: "Art. 6(1)(f)".into(),
                    retention: "Seks år".into(),
                    access: "Regnskap".into(),
                    published_on: on,
                    dpo_contact: None,
                    transfers_abroad: None,
                })
            }
            "processor_agreement" => d.processor_agreements.push(ProcessorAgreement {
                by: by.clone(),
                processor: c
                    .processor
                    .clone()
                    .unwrap_or_else(|| "Kartleverandør AS".into()),
                signed_on: on,
                covers: ART28_POINTS
                    .iter()
                    .map(|(k, _, _)| k.to_string())
                    .filter(|k| !c.agreement_lacks.contains(k))
                    .collect(),
                processor_security: if c.agreement_without_security {
                    String::new()
                } else {
                    "Kryptert lagring, tilgangsstyring".into()
                },
                services: c.agreement_services.clone(),
            }),
            "prior_consultation" => {
                d.prior_consultation = Some(PriorConsultation {
                    by: by.clone(),
                    submitted_on: on,
                    advice: None,
                })
            }
            "private_driving_routine" => {
                d.private_driving_routine = Some(PrivateDrivingRoutine {
                    by: by.clone(),
                    reviewer: "Kjørebokfører".into(),
                    interval_months: 1,
                    how: "Antall turer, km og uklassifiserte turer per måned".into(),
                    adopted_on: on,
                })
            }
            "risk_assessment" => {
                d.risk_assessment = Some(RiskAssessment {
                    by: by.clone(),
                    done_on: on,
                    conclusion: "Nødvendig".into(),
                    shows_necessity: c.risk_shows_necessity,
                })
            }
            "tariff_check" => {
                d.tariff_check = Some(TariffCheck {
                    by: by.clone(),
                    checked_on: on,
                    agreements: vec![],
                    requires_discussion: c.tariff_requires_discussion,
                })
            }
            "role_review" => d.role_reviews.push(RoleReview {
                by: by.clone(),
                date: on,
                notes: "Gjennomgått".into(),
            }),
            x => panic!("unknown duty {x}"),
        }
    }
    for e in &c.evaluations {
        d.evaluations.push(Evaluation {
            by: by.clone(),
            date: date(&e.date),
            with_representatives: vec!["Tillitsvalgt".into()],
            need_still_present: e.need_still_present.unwrap_or(e.decision == "continue"),
            decision: match e.decision.as_str() {
                "continue" => Decision::Continue,
                "end" => Decision::End,
                x => panic!("unknown decision {x}"),
            },
            reason_to_continue: e.reason_to_continue.clone(),
        });
    }
    for duty in &c.late_closed {
        d.late_closures.push(LateClosure {
            duty: duty.clone(),
            by: by.clone(),
            closed_on: before,
            note: "Drøftet i etterkant; de ansatte er informert".into(),
        });
    }
    if let Some(r) = &c.private_driving_review {
        d.private_driving_reviews.push(PrivateDrivingReview {
            by: by.clone(),
            date: date(r),
            notes: "Gjennomgått".into(),
        });
    }
    d
}

/// The organisation's security records, adopted long before any case, except those missing.
fn security(c: &Case) -> Security {
    let on = date("2020-01-01");
    let has = |k: &str| !c.security_missing.iter().any(|m| m == k);
    let rec = || SecurityRecord {
        by: "IT".into(),
        adopted_on: on,
        text: "Vedtatt".into(),
    };
    Security {
        acceptance_criteria: has("acceptance_criteria").then(rec),
        goals_and_strategy: has("goals_and_strategy").then(rec),
        deviation_routine: has("deviation_routine").then(|| DeviationRoutine {
            by: "IT".into(),
            adopted_on: on,
            text: "Meld avvik til personvernombudet".into(),
            made_known: "Intranett og opplæring".into(),
        }),
    }
}

fn run(c: &Case, done: &[String]) -> Expect {
    let cfg = GateConfig {
        services: Services {
            address_lookup: c.configured_services.iter().any(|s| s == "address"),
            map_tiles: c.configured_services.iter().any(|s| s == "map_tiles"),
        },
        ..GateConfig::default()
    };
    let g = gate_with(
        &measure(c),
        &duties(c, done),
        &security(c),
        date(&c.now),
        &cfg,
    );
    Expect {
        verdict: c
            .expect
            .verdict
            .as_ref()
            .map(|_| g.verdict.as_str().to_owned()),
        may_collect: g.may_collect,
        missing: g.missing_codes().into_iter().map(str::to_owned).collect(),
        warnings: g.warning_codes().into_iter().map(str::to_owned).collect(),
        schedule_deletion: g.schedule_deletion,
    }
}

fn cases() -> Vec<(PathBuf, Case)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir())
        .expect("test_data/register/gate exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    paths.into_iter().map(|p| (p.clone(), load(&p))).collect()
}

#[test]
fn gate_cases() {
    let cases = cases();
    assert!(cases.len() >= 10, "found {} cases", cases.len());
    let mut failures = Vec::new();
    for (path, c) in &cases {
        let got = run(c, &c.done);
        if got != c.expect {
            failures.push(format!(
                "{}\n  expected {:?}\n  got      {:?}",
                path.display(),
                c.expect,
                got
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// For every case that collects, taking its duties on record one at a time: the gate refuses
/// until the last one is done, each step removes what it did from `missing`, and then allows.
#[test]
fn refuses_until_the_last_duty_is_done() {
    let mut checked = 0;
    for (path, c) in cases().iter().filter(|(_, c)| c.expect.may_collect) {
        for n in 0..c.done.len() {
            let got = run(c, &c.done[..n]);
            assert!(
                !got.may_collect,
                "{}: collects with only {:?}",
                path.display(),
                &c.done[..n]
            );
            let next = &c.done[n];
            assert!(
                // A measure that is not a control measure owes GDPR information only.
                got.missing
                    .iter()
                    .any(|m| m == next || (next == "information" && m == "information_gdpr")),
                "{}: {next} not listed as missing with {:?}: {:?}",
                path.display(),
                &c.done[..n],
                got.missing
            );
        }
        assert!(run(c, &c.done).may_collect, "{}", path.display());
        checked += 1;
    }
    assert!(checked >= 3);
}
