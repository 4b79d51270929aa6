//! Data-driven gate cases: `test_data/register/gate/*.toml`, each a measure, the duties on
//! record and the expected gate result. A duty named in `done` is recorded, complete, the day
//! before `now`.

use std::path::{Path, PathBuf};

use register::{
    BalancingTest, Decision, Discussion, Dpia, Duties, Evaluation, Information, LegalBasis,
    Measure, MeasureKind, ProcessorAgreement, RiskAssessment, RoleReview, Status, TariffCheck,
    gate,
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
    expect: Expect,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EvalRow {
    date: String,
    decision: String,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct Expect {
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
        None | Some("legitimate_interests") => LegalBasis::LegitimateInterests,
        Some("consent") => LegalBasis::Consent,
        Some(x) => panic!("unknown legal basis {x}"),
    };
    m.status = match c.status.as_deref() {
        None | Some("planned") => Status::Planned,
        Some("active") => Status::Active,
        Some("ended") => Status::Ended,
        Some(x) => panic!("unknown status {x}"),
    };
    m.started_on = c.started_on.as_deref().map(date);
    m
}

/// A complete record of each duty in `done`, the day before `now`.
fn duties(c: &Case, done: &[String]) -> Duties {
    let on = date(&c.now) - Duration::days(1);
    let by = "Personvernombud".to_string();
    let mut d = Duties::default();
    for code in done.iter().chain(&c.recorded) {
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
                })
            }
            "processor_agreement" => d.processor_agreements.push(ProcessorAgreement {
                by: by.clone(),
                processor: c.processor.clone().expect("a case with a processor"),
                signed_on: on,
            }),
            "risk_assessment" => {
                d.risk_assessment = Some(RiskAssessment {
                    by: by.clone(),
                    done_on: on,
                    conclusion: "Nødvendig".into(),
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
            need_still_present: e.decision == "continue",
            decision: match e.decision.as_str() {
                "continue" => Decision::Continue,
                "end" => Decision::End,
                x => panic!("unknown decision {x}"),
            },
        });
    }
    d
}

fn run(c: &Case, done: &[String]) -> Expect {
    let g = gate(&measure(c), &duties(c, done), date(&c.now));
    Expect {
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
