//! The public API as the CLI uses it: JSON shape, text rendering, errors, options.

use std::fs;
use std::path::Path;

use assess::{Assessment, Format, Lang, LoadError, assess_str, render};
use serde_json::Value;

fn case(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../test_data/assess")
        .join(format!("{name}.toml"));
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn assess(name: &str) -> Assessment {
    assess_str(&case(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The keys of a JSON object in document order (serde_json's `Value` sorts them, so read the
/// text).
fn top_level_keys(json: &str) -> Vec<String> {
    json.lines()
        .filter(|l| l.starts_with("  \"") && !l.starts_with("   "))
        .filter_map(|l| l.trim().split('"').nth(1).map(str::to_string))
        .collect()
}

fn check_items(list: &Value) {
    let items = list.as_array().expect("a list");
    assert!(!items.is_empty());
    for it in items {
        let obj = it.as_object().expect("an object");
        let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        assert_eq!(keys, ["citation", "code", "text"]);
        for k in keys {
            assert!(
                obj[k].as_str().is_some_and(|s| !s.is_empty()),
                "{k} is a non-empty string"
            );
        }
    }
}

#[test]
fn equipment_json_has_the_shape_of_the_spec() {
    let a = assess("ee_email_forwarding_customer_relations");
    let text = render(&a, Format::Json, Lang::En);
    assert_eq!(
        top_level_keys(&text),
        [
            "kind",
            "name",
            "verdict",
            "monitoring",
            "exception",
            "reasons",
            "duties",
            "unknown"
        ]
    );
    let doc: Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(doc["kind"], "electronic_equipment");
    assert_eq!(
        doc["name"],
        "Automatic forwarding of e-mail while the employee is away"
    );
    assert_eq!(doc["verdict"], "prohibited");
    assert_eq!(doc["monitoring"], true);
    assert_eq!(doc["exception"], Value::Null);
    check_items(&doc["reasons"]);
    check_items(&doc["duties"]);
    assert_eq!(doc["unknown"], serde_json::json!([]));
    assert_eq!(doc, a.to_json(Lang::En));
}

#[test]
fn permitted_exception_names_the_exception_and_unknown_monitoring_is_null() {
    let doc = assess("ee_firewall_logging").to_json(Lang::Nb);
    assert_eq!(doc["verdict"], "permitted_exception");
    assert_eq!(doc["exception"], "network_administration");

    let doc = assess("ee_all_unknown").to_json(Lang::Nb);
    assert_eq!(doc["monitoring"], Value::Null);
    assert!(
        doc["unknown"]
            .as_array()
            .is_some_and(|u| u.contains(&"purposes".into()))
    );
}

#[test]
fn vehicle_json_has_the_shape_of_the_spec() {
    let a = assess("vt_spec_driving_log_speed");
    let text = render(&a, Format::Json, Lang::Nb);
    assert_eq!(
        top_level_keys(&text),
        [
            "kind", "name", "verdict", "reasons", "findings", "duties", "unknown"
        ]
    );
    let doc: Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(doc["kind"], "vehicle_tracking");
    assert_eq!(doc["verdict"], "non_compliant");
    check_items(&doc["findings"]);
    check_items(&doc["duties"]);
    let codes: Vec<&str> = doc["findings"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert_eq!(codes, ["excess_data", "legal_basis_missing"]);
}

#[test]
fn texts_follow_the_language() {
    let a = assess("vt_spec_driving_log_speed");
    let nb = a.to_json(Lang::Nb);
    let en = a.to_json(Lang::En);
    assert_ne!(nb["findings"][0]["text"], en["findings"][0]["text"]);
    assert_eq!(nb["findings"][0]["citation"], en["findings"][0]["citation"]);
    assert!(
        nb["findings"][0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("overskuddsinformasjon"))
    );
}

#[test]
fn text_rendering_shows_verdict_reasons_duties_unknowns_with_citations() {
    let a = assess("ee_purposes_unknown");
    let en = render(&a, Format::Text, Lang::En);
    for needle in [
        "Proxy log of web traffic, purpose not stated",
        "Verdict: The measure is prohibited",
        "(e-postforskriften § 2 (1);",
        "Monitoring: yes",
        "Exception: none",
        "Reasons:",
        "Duties:",
        "Unknown facts that could change the verdict:",
        "  - purposes: What are the purposes of the measure?",
    ] {
        assert!(en.contains(needle), "missing {needle:?} in:\n{en}");
    }
    let nb = render(&a, Format::Text, Lang::Nb);
    for needle in [
        "Konklusjon: Tiltaket er forbudt",
        "Overvåking: ja",
        "Begrunnelse:",
        "Plikter:",
        "Ukjente forhold som kan endre konklusjonen:",
        "  - purposes: Hvilke formål har tiltaket?",
    ] {
        assert!(nb.contains(needle), "missing {needle:?} in:\n{nb}");
    }
    assert!(!nb.ends_with('\n'));

    let v = render(&assess("vt_fleet_view_live_only"), Format::Text, Lang::En);
    assert!(v.contains("Findings:\n  (none)"), "{v}");
    assert!(
        v.contains("No unknown fact could change the verdict."),
        "{v}"
    );
}

#[test]
fn load_error_names_line_and_field() {
    let source =
        "kind = \"electronic_equipment\"\nname = \"x\"\n\n\n\n\npurposes = [\"marketing\"]\n";
    let e = assess_str(source).expect_err("marketing is not a purpose");
    assert_eq!(e.line, Some(7));
    assert_eq!(e.field.as_deref(), Some("purposes"));
    assert!(e.to_string().starts_with(
        "line 7, field \"purposes\": unknown purpose \"marketing\"; expected one of network_administration, security_breach,"
    ));
}

#[test]
fn load_error_display_leaves_out_what_is_not_known() {
    let e = |line, field: Option<&str>| LoadError {
        line,
        field: field.map(str::to_string),
        message: "msg".into(),
    };
    assert_eq!(
        e(Some(3), Some("x")).to_string(),
        "line 3, field \"x\": msg"
    );
    assert_eq!(e(Some(3), None).to_string(), "line 3: msg");
    assert_eq!(e(None, Some("x")).to_string(), "field \"x\": msg");
    assert_eq!(e(None, None).to_string(), "msg");
}

#[test]
fn options_parse() {
    assert_eq!("nb".parse::<Lang>(), Ok(Lang::Nb));
    assert_eq!("en".parse::<Lang>(), Ok(Lang::En));
    assert_eq!("json".parse::<Format>(), Ok(Format::Json));
    assert_eq!("text".parse::<Format>(), Ok(Format::Text));
    let e = "de".parse::<Lang>().expect_err("no German");
    assert_eq!(
        e.to_string(),
        "unknown language \"de\"; expected one of nb, en"
    );
    assert!("yaml".parse::<Format>().is_err());
}

#[test]
fn a_fact_not_given_is_unknown_not_false() {
    // The same measure with and without `employer_access`: given false, it is outside the ban;
    // not given, the ban is presumed to apply and the fact is listed.
    let base = "kind = \"electronic_equipment\"\nname = \"x\"\npersonal_data = true\n\
                electronic_equipment = true\nmain_purpose_control = false\nrecorded = true\n\
                continuous = true\nemployees_can_tell_when = true\npurposes = [\"training\"]\n";
    let known = assess_str(&format!("{base}employer_access = false\n")).expect("loads");
    assert_eq!(known.verdict().as_str(), "outside_prohibition");
    assert!(known.unknown().is_empty());
    let unknown = assess_str(base).expect("loads");
    assert_eq!(unknown.verdict().as_str(), "prohibited");
    let listed: Vec<&str> = unknown.unknown().iter().map(|f| f.as_str()).collect();
    assert_eq!(listed, ["employer_access"]);
}
