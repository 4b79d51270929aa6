//! Data-driven tests: every file in `test_data/assess/` is a case.
//!
//! - `NAME.toml` with `NAME.expected.json`: the assessment, reduced to codes (verdict,
//!   monitoring, exception, reasons/findings, duties, unknown).
//! - `errors/NAME.toml` with `errors/NAME.expected.txt`: the load error, as displayed.
//!
//! Run with `UPDATE_EXPECT=1` to write the expectations anew, then review the diff: a snapshot
//! is a legal judgement, not a recording.

use std::fs;
use std::path::{Path, PathBuf};

use assess::{Assessment, Format, Lang, RuleKind, assess_str, render};
use serde_json::{Value, json};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test_data/assess")
}

fn updating() -> bool {
    std::env::var_os("UPDATE_EXPECT").is_some_and(|v| v != "0")
}

fn cases(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

/// The part of an assessment a snapshot pins: codes, not texts.
fn snapshot(a: &Assessment) -> Value {
    let codes = |cs: &[assess::Code]| cs.iter().map(|c| c.as_str()).collect::<Vec<_>>();
    let facts = a.unknown().iter().map(|f| f.as_str()).collect::<Vec<_>>();
    match a {
        Assessment::ElectronicEquipment(e) => json!({
            "verdict": e.verdict.as_str(),
            "monitoring": e.monitoring,
            "exception": e.exception.map(|p| p.as_str()),
            "reasons": codes(&e.reasons),
            "duties": codes(&e.duties),
            "unknown": facts,
        }),
        Assessment::VehicleTracking(v) => json!({
            "verdict": v.verdict.as_str(),
            "reasons": codes(&v.reasons),
            "findings": codes(&v.findings),
            "duties": codes(&v.duties),
            "unknown": facts,
        }),
    }
}

/// Compares `actual` with the file at `expected`, or writes it when updating.
/// Returns a description of the mismatch, if any.
fn check(expected: &Path, actual: &str) -> Option<String> {
    if updating() {
        fs::write(expected, actual).unwrap_or_else(|e| panic!("write {}: {e}", expected.display()));
        return None;
    }
    match fs::read_to_string(expected) {
        Ok(want) if want == actual => None,
        Ok(want) => Some(format!(
            "{}:\n--- expected\n{want}\n--- actual\n{actual}",
            expected.display()
        )),
        Err(_) => Some(format!(
            "{} is missing; run with UPDATE_EXPECT=1 and review it. Actual:\n{actual}",
            expected.display()
        )),
    }
}

/// Every code sits in the list its table kind says.
fn kinds_match(a: &Assessment) -> Result<(), String> {
    let (explain, explain_kind) = match a {
        Assessment::ElectronicEquipment(e) => (&e.reasons, RuleKind::Reason),
        Assessment::VehicleTracking(v) => (&v.findings, RuleKind::Finding),
    };
    let reasons: &[assess::Code] = match a {
        Assessment::VehicleTracking(v) => &v.reasons,
        Assessment::ElectronicEquipment(_) => &[],
    };
    let lists = [
        (explain.as_slice(), explain_kind),
        (reasons, RuleKind::Reason),
        (a.duties(), RuleKind::Duty),
    ];
    for (codes, kind) in lists {
        for c in codes {
            let entry = assess::rule(*c).ok_or_else(|| format!("{c} is not in rules.toml"))?;
            if entry.kind != Some(kind) {
                return Err(format!(
                    "{c} is emitted as {kind:?} but rules.toml says {:?}",
                    entry.kind
                ));
            }
        }
    }
    Ok(())
}

#[test]
fn assessment_cases() {
    let files = cases(&data_dir());
    assert!(
        files.len() >= 40,
        "expected the seed examples and edge cases, found {}",
        files.len()
    );
    let mut failures = Vec::new();
    for path in &files {
        let source = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if !source.starts_with('#') {
            failures.push(format!(
                "{}: start the case with a comment naming the seed passage or the edge it tests",
                path.display()
            ));
        }
        let a = match assess_str(&source) {
            Ok(a) => a,
            Err(e) => {
                failures.push(format!("{}: does not load: {e}", path.display()));
                continue;
            }
        };
        if let Err(e) = kinds_match(&a) {
            failures.push(format!("{}: {e}", path.display()));
        }
        for lang in [Lang::Nb, Lang::En] {
            let text = render(&a, Format::Text, lang);
            assert!(
                text.starts_with(a.name()),
                "{}: text starts with the name",
                path.display()
            );
            let doc: Value = serde_json::from_str(&render(&a, Format::Json, lang))
                .unwrap_or_else(|e| panic!("{}: JSON does not parse: {e}", path.display()));
            assert_eq!(doc["verdict"], a.verdict().as_str());
        }
        let mut actual = serde_json::to_string_pretty(&snapshot(&a)).unwrap_or_default();
        actual.push('\n');
        if let Some(f) = check(&path.with_extension("expected.json"), &actual) {
            failures.push(f);
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn load_error_cases() {
    let files = cases(&data_dir().join("errors"));
    assert!(
        files.len() >= 10,
        "expected load-error cases, found {}",
        files.len()
    );
    let mut failures = Vec::new();
    for path in &files {
        let source = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let actual = match assess_str(&source) {
            Ok(_) => "loaded without error\n".to_string(),
            Err(e) => format!("{e}\n"),
        };
        if let Some(f) = check(&path.with_extension("expected.txt"), &actual) {
            failures.push(f);
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
