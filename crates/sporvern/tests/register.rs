//! The compliance register from the command line: the register file (idempotent; a wrong file
//! names line and field, exits 2 and writes nothing), the gate with a fake clock (`--today`:
//! evaluation due, overdue warning that does not stop collection), the 72-hour breach clock
//! (`--now`), acknowledgements, and the documents as HTML and PDF.

use std::path::Path;
use std::process::{Command, Output};

fn sporvern(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sporvern"))
        .args(args)
        .output()
        .expect("run sporvern")
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const EXAMPLE_ORG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/org.toml");
const EXAMPLE_REGISTER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/register.toml");

/// A data folder with the example organisation and, when asked, its register.
fn data_folder(with_register: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().to_str().expect("utf8");
    let o = sporvern(&["org", "apply", "--data", data, EXAMPLE_ORG]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        out(&o).contains("register + vehicle.driving_log"),
        "{}",
        out(&o)
    );
    if with_register {
        let o = sporvern(&["register", "apply", "--data", data, EXAMPLE_REGISTER]);
        assert!(o.status.success(), "{}", err(&o));
    }
    dir
}

fn gate_json(data: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["gate", "--data", data, "--format", "json", "--lang", "en"];
    args.extend(extra);
    let o = sporvern(&args);
    assert!(o.status.success(), "{}", err(&o));
    serde_json::from_slice(&o.stdout).expect("json")
}

fn measure<'a>(gate: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    gate["measures"]
        .as_array()
        .expect("measures")
        .iter()
        .find(|m| m["measure"] == id)
        .expect("the measure")
}

fn codes(v: &serde_json::Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|x| x["code"].as_str().map(str::to_owned))
        .collect()
}

fn ledger_len(data: &str) -> usize {
    out(&sporvern(&["audit", "list", "--data", data]))
        .lines()
        .count()
}

#[test]
fn the_register_file_applies_idempotently_and_opens_the_gate() {
    let dir = data_folder(false);
    let data = dir.path().to_str().expect("utf8");
    let before = gate_json(data, &[]);
    assert_eq!(
        measure(&before, "vehicle.driving_log")["may_collect"],
        false
    );
    assert!(
        codes(measure(&before, "vehicle.driving_log"), "missing")
            .contains(&"balancing_test".to_owned())
    );

    let o = sporvern(&["register", "apply", "--data", data, EXAMPLE_REGISTER]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        out(&o).contains("+ it.spam_quarantine: measure entered, assessed permitted_exception"),
        "{}",
        out(&o)
    );
    let o = sporvern(&["register", "apply", "--data", data, EXAMPLE_REGISTER]);
    assert_eq!(out(&o), "no changes\n");

    let after = gate_json(data, &["--today", "2026-11-23"]);
    assert_eq!(after["purposes_without_measure"], serde_json::json!([]));
    for id in [
        "vehicle.driving_log",
        "vehicle.fleet_view",
        "vehicle.alarm",
        "vehicle.utilization",
        "it.spam_quarantine",
    ] {
        let m = measure(&after, id);
        assert_eq!(m["may_collect"], true, "{id}: {m}");
    }
    // Every change is on the ledger, by measure, with employee numbers as the only subjects.
    let audit = out(&sporvern(&["audit", "list", "--data", data]));
    assert!(
        audit.contains("subject 1001") && audit.contains("acknowledgement by employee 1001"),
        "{audit}"
    );
    assert!(!audit.contains("Kari"), "no names on the ledger");
}

#[test]
fn a_wrong_register_file_names_line_and_field_exits_2_and_writes_nothing() {
    let dir = data_folder(false);
    let data = dir.path().to_str().expect("utf8");
    let good = "[[measures]]\nid = \"vehicle.driving_log\"\nstatus = \"active\"\n\n";
    let cases: &[(&str, &str, usize, &str)] = &[
        (
            "a bad date after a good record",
            "[[measures]]\nid = \"vehicle.fleet_view\"\nstarted_on = 2025-13-01\n",
            7,
            "started_on",
        ),
        (
            "an unknown field",
            "[[measures]]\nid = \"vehicle.fleet_view\"\nstartet_on = 2025-01-01\n",
            7,
            "startet_on",
        ),
        (
            "facts of a generated measure",
            "[[measures]]\nid = \"vehicle.alarm\"\nfacts = \"kind = 1\"\n",
            7,
            "facts",
        ),
        (
            "an unknown employee",
            "[[measures]]\nid = \"vehicle.fleet_view\"\n[[measures.acknowledgements]]\nemployee = \"9999\"\non = 2025-01-01\n",
            8,
            "employee",
        ),
        (
            "a purpose no vehicle has",
            "[[measures]]\nid = \"vehicle.driver_behaviour\"\n",
            6,
            "id",
        ),
        (
            "a wrong fact inside the facts",
            "[[measures]]\nid = \"it.dlp\"\nname = \"DLP\"\nkind = \"dlp\"\nfacts = \"\"\"\nkind = \"electronic_equipment\"\nname = \"DLP\"\npurposes = [\"marketing\"]\n\"\"\"\n",
            12,
            "facts.purposes",
        ),
        (
            "an evaluation decision",
            "[[measures]]\nid = \"vehicle.fleet_view\"\n[[measures.evaluations]]\nby = \"x\"\ndate = 2026-01-01\nwith_representatives = []\nneed_still_present = true\ndecision = \"maybe\"\n",
            12,
            "decision",
        ),
        (
            "a breach time without offset",
            "[[breaches]]\nid = \"b\"\ndiscovered_at = 2026-03-02T09:15:00\ndescription = \"x\"\npersonal_data_affected = true\n",
            7,
            "discovered_at",
        ),
    ];
    let version_before = ledger_len(data);
    for (what, bad, line, field) in cases {
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, format!("{good}{bad}")).expect("write");
        let o = sporvern(&[
            "register",
            "apply",
            "--data",
            data,
            file.to_str().expect("utf8"),
        ]);
        assert_eq!(o.status.code(), Some(2), "{what}: {}", err(&o));
        let e = err(&o);
        assert!(
            e.contains(&format!("line {line}, field \"{field}\"")),
            "{what}: {e}"
        );
        assert!(e.contains("nothing was written"), "{what}: {e}");
    }
    // Not even the good record before the error, nor the measures' sync, was written.
    assert_eq!(ledger_len(data), version_before);
    let o = sporvern(&["register", "show", "--data", data]);
    assert!(
        out(&o)
            .lines()
            .any(|l| l.starts_with("vehicle.driving_log") && l.contains("planned")),
        "{}",
        out(&o)
    );
    let o = sporvern(&["register", "apply", "--data", data, "/nonexistent.toml"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn an_overdue_evaluation_warns_but_does_not_stop_collection() {
    let dir = data_folder(true);
    let data = dir.path().to_str().expect("utf8");
    // The driving log's evaluation was held 2026-01-26: the next falls due 2027-01-26, and the
    // warning comes after the 30-day grace.
    let due = gate_json(data, &["--today", "2027-01-26"]);
    let m = measure(&due, "vehicle.driving_log");
    assert_eq!(m["next_evaluation_due"], "2027-01-26");
    assert!(codes(m, "warnings").is_empty(), "{m}");
    let evaluation_overdue = |g: &serde_json::Value| {
        codes(measure(g, "vehicle.driving_log"), "warnings")
            .contains(&"evaluation_overdue".to_owned())
    };
    assert!(!evaluation_overdue(&gate_json(
        data,
        &["--today", "2027-02-25"]
    )));

    let overdue = gate_json(data, &["--today", "2027-02-26"]);
    assert!(evaluation_overdue(&overdue));
    let m = measure(&overdue, "vehicle.driving_log");
    assert_eq!(
        m["may_collect"], true,
        "the warning does not stop collection"
    );
    let w = m["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .find(|w| w["code"] == "evaluation_overdue")
        .expect("the warning");
    assert_eq!(
        w["notify"],
        serde_json::json!(["privacy_officer", "representatives"])
    );
    assert!(
        w["citation"]
            .as_str()
            .is_some_and(|c| c.contains("§ 9-2 (3)"))
    );
    // A longer grace, as `evaluation_grace_days` in sporvern.toml.
    assert!(!evaluation_overdue(&gate_json(
        data,
        &["--today", "2027-02-26", "--grace-days", "60"]
    )));

    // The evaluation is held, and decides to end the measure: collection stops.
    let file = dir.path().join("end.toml");
    std::fs::write(
        &file,
        "[[measures]]\nid = \"vehicle.utilization\"\n[[measures.evaluations]]\nby = \"Siri Dahl\"\ndate = 2027-02-01\nwith_representatives = [\"Anne Lie\"]\nneed_still_present = false\ndecision = \"end\"\n",
    )
    .expect("write");
    let o = sporvern(&[
        "register",
        "apply",
        "--data",
        data,
        file.to_str().expect("utf8"),
    ]);
    assert!(o.status.success(), "{}", err(&o));
    let ended = gate_json(data, &["--today", "2027-02-02"]);
    let m = measure(&ended, "vehicle.utilization");
    assert_eq!(m["may_collect"], false);
    assert_eq!(codes(m, "missing"), ["measure_ended"]);
    assert_eq!(m["schedule_deletion"], true);
    // Text output, for people.
    let o = sporvern(&[
        "gate",
        "--data",
        data,
        "--today",
        "2027-02-26",
        "--lang",
        "en",
    ]);
    assert!(
        out(&o).contains("warning: The evaluation of the need for the measure"),
        "{}",
        out(&o)
    );
}

fn breach_list(data: &str, now: &str) -> serde_json::Value {
    let o = sporvern(&[
        "breach", "list", "--data", data, "--now", now, "--format", "json",
    ]);
    assert!(o.status.success(), "{}", err(&o));
    serde_json::from_slice(&o.stdout).expect("json")
}

#[test]
fn the_breach_clock_runs_72_hours_from_discovery() {
    let dir = data_folder(true);
    let data = dir.path().to_str().expect("utf8");
    let o = sporvern(&[
        "breach",
        "open",
        "--data",
        data,
        "--id",
        "2026-03-telefon",
        "--description",
        "Mistet telefon med Traccar-appen",
        "--discovered-at",
        "2026-03-02T09:00:00+01:00",
        "--measure",
        "vehicle.driving_log",
    ]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        out(&o).contains("notify Datatilsynet by 2026-03-05T09:00:00+01:00"),
        "{}",
        out(&o)
    );

    let b = breach_list(data, "2026-03-05T08:00:00+01:00");
    assert_eq!(b[0]["status"], "due");
    assert_eq!(b[0]["hours"], 1);
    assert_eq!(b[0]["art34_decision_pending"], true);
    let b = breach_list(data, "2026-03-05T09:00:00+01:00");
    assert_eq!(
        (b[0]["status"].as_str(), b[0]["hours"].as_i64()),
        (Some("due"), Some(0))
    );
    let b = breach_list(data, "2026-03-05T09:00:01+01:00");
    assert_eq!(b[0]["status"], "overdue", "one second late is late");
    assert_eq!(b[0]["hours"], 1);

    let o = sporvern(&[
        "breach",
        "notify",
        "--data",
        data,
        "--id",
        "2026-03-telefon",
        "--at",
        "2026-03-04T10:00:00+01:00",
    ]);
    assert!(o.status.success(), "{}", err(&o));
    let o = sporvern(&[
        "breach",
        "decide",
        "--data",
        data,
        "--id",
        "2026-03-telefon",
        "--not-required",
        "Telefonen var kryptert",
        "--on",
        "2026-03-04",
    ]);
    assert!(o.status.success(), "{}", err(&o));
    let b = breach_list(data, "2026-03-10T00:00:00Z");
    assert_eq!(b[0]["status"], "notified");
    assert_eq!(b[0]["art34_decision_pending"], false);

    // A deviation without personal data has no clock.
    let o = sporvern(&[
        "breach",
        "open",
        "--data",
        data,
        "--id",
        "strøm",
        "--description",
        "Strømbrudd",
        "--no-personal-data",
        "--discovered-at",
        "2026-03-01T00:00:00Z",
    ]);
    assert!(o.status.success(), "{}", err(&o));
    let b = breach_list(data, "2026-04-01T00:00:00Z");
    assert_eq!(b[1]["status"], "not_notifiable");
    let o = sporvern(&[
        "breach",
        "open",
        "--data",
        data,
        "--id",
        "strøm",
        "--description",
        "igjen",
    ]);
    assert!(!o.status.success(), "an id is recorded once");

    // GDPR art. 33(1): "unless the personal data breach is unlikely to result in a risk to the
    // rights and freedoms of natural persons" — a recorded decision with its reason, after which
    // the clock no longer reads overdue.
    let o = sporvern(&[
        "breach",
        "open",
        "--data",
        data,
        "--id",
        "2026-05-feilsendt",
        "--description",
        "Rapport sendt til feil kollega, som slettet den",
        "--discovered-at",
        "2026-05-04T08:00:00+02:00",
    ]);
    assert!(o.status.success(), "{}", err(&o));
    let o = sporvern(&[
        "breach",
        "not-notified",
        "--data",
        data,
        "--id",
        "2026-05-feilsendt",
        "--reason",
        " ",
    ]);
    assert!(!o.status.success(), "a decision needs its reason");
    let o = sporvern(&[
        "breach",
        "not-notified",
        "--data",
        data,
        "--id",
        "2026-05-feilsendt",
        "--reason",
        "Mottakeren har taushetsplikt og slettet rapporten straks",
        "--at",
        "2026-05-04T12:00:00+02:00",
    ]);
    assert!(o.status.success(), "{}", err(&o));
    let b = breach_list(data, "2026-06-01T00:00:00Z");
    assert_eq!(b[2]["status"], "not_notified_risk_unlikely", "{b}");
    let o = sporvern(&[
        "breach",
        "not-notified",
        "--data",
        data,
        "--id",
        "strøm",
        "--reason",
        "x",
    ]);
    assert!(!o.status.success(), "no personal data: nothing to decide");

    let audit = out(&sporvern(&["audit", "list", "--data", data]));
    assert!(audit.contains("register breach 2026-03-telefon"), "{audit}");
    assert!(
        !audit.contains("Mistet telefon"),
        "descriptions stay off the ledger"
    );
}

const ACCESS_CASE: &str = r#"
[[access_cases]]
id = "2026-001"
employee = "0907"
ground = "daily_operation"
explanation = "En kunde venter på svar på en e-post til en tidligere ansatt."
notice_impossible = "Den tidligere ansatte svarer ikke."
presence = "present"
representative = "Anne Lie"
opened = ["Innboksen: mappen «Kunder/Tøyen Torg»"]
documentation = "Åpnet av Jon Moe med Anne Lie til stede."
closed_on = 2026-03-10
"#;

fn is_pdf(path: &Path) -> bool {
    let bytes = std::fs::read(path).expect("pdf");
    bytes.starts_with(b"%PDF-1.4") && bytes.ends_with(b"%%EOF\n")
}

#[test]
fn acknowledgements_and_documents_from_the_stored_register() {
    let dir = data_folder(true);
    let data = dir.path().to_str().expect("utf8");
    let o = sporvern(&[
        "register",
        "ack",
        "--data",
        data,
        "--measure",
        "vehicle.fleet_view",
        "--employee",
        "1002",
        "--on",
        "2025-02-01",
    ]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        out(&o).contains("acknowledgement by employee 1002 recorded"),
        "{}",
        out(&o)
    );
    let o = sporvern(&[
        "register",
        "ack",
        "--data",
        data,
        "--measure",
        "vehicle.fleet_view",
        "--employee",
        "1002",
        "--on",
        "2025-02-01",
    ]);
    assert_eq!(out(&o), "no changes\n");
    let o = sporvern(&[
        "register",
        "ack",
        "--data",
        data,
        "--measure",
        "vehicle.fleet_view",
        "--employee",
        "4242",
    ]);
    assert!(err(&o).contains("no employee 4242"), "{}", err(&o));
    let shown = out(&sporvern(&["register", "show", "--data", data]));
    assert!(
        shown.contains("not yet acknowledged by: 1001, 1003"),
        "{shown}"
    );

    // A case opened without its notice cannot be closed; with it, it can, once.
    let file = dir.path().join("open-case.toml");
    std::fs::write(
        &file,
        "[[access_cases]]\nid = \"2026-002\"\nemployee = \"1003\"\nground = \"suspected_serious_breach\"\nexplanation = \"Mistanke om lekkasje av kundelister\"\nopened = [\"Filområdet «Kunder»\"]\n",
    )
    .expect("write");
    let o = sporvern(&[
        "register",
        "apply",
        "--data",
        data,
        file.to_str().expect("utf8"),
    ]);
    assert!(o.status.success(), "{}", err(&o));
    let list = out(&sporvern(&["access-case", "list", "--data", data]));
    assert!(list.contains("2026-002 employee 1003 (e-postforskriften § 3 (1) b): open; before closing: no notice recorded"), "{list}");
    let o = sporvern(&["access-case", "close", "--data", data, "--id", "2026-002"]);
    assert!(!o.status.success());
    assert!(err(&o).contains("no notice recorded"), "{}", err(&o));

    let file = dir.path().join("case.toml");
    std::fs::write(&file, ACCESS_CASE).expect("write");
    let o = sporvern(&[
        "register",
        "apply",
        "--data",
        data,
        file.to_str().expect("utf8"),
    ]);
    assert!(o.status.success(), "{}", err(&o));

    let docs: &[(&str, &[&str], &str, &str)] = &[
        (
            "information-notice",
            &["--measure", "vehicle.driving_log"],
            "nb",
            "Føre elektronisk kjørebok",
        ),
        (
            "information-notice",
            &["--measure", "vehicle.driving_log"],
            "en",
            "Information to employees",
        ),
        (
            "dpia",
            &["--measure", "vehicle.driving_log"],
            "nb",
            "De tillitsvalgte ba om",
        ),
        (
            "agenda",
            &["--measure", "vehicle.utilization"],
            "en",
            "Discussion with the representatives",
        ),
        ("records", &[], "nb", "Rørlegger Hansen AS"),
        ("access-case", &["--case", "2026-001"], "nb", "Innboksen"),
    ];
    for (kind, extra, lang, needle) in docs {
        for format in ["html", "pdf"] {
            let path = dir.path().join(format!("{kind}-{lang}.{format}"));
            let mut args = vec![
                "register",
                "document",
                kind,
                "--data",
                data,
                "--lang",
                lang,
                "--format",
                format,
                "-o",
                path.to_str().expect("utf8"),
            ];
            args.extend(*extra);
            let o = sporvern(&args);
            assert!(o.status.success(), "{kind}: {}", err(&o));
            if format == "html" {
                let html = std::fs::read_to_string(&path).expect("html");
                assert!(html.starts_with("<!DOCTYPE html>"), "{kind}");
                assert!(html.contains(needle), "{kind} {lang}: {html}");
            } else {
                assert!(is_pdf(&path), "{kind}: a PDF");
            }
        }
    }
    let o = sporvern(&[
        "register",
        "document",
        "dpia",
        "--data",
        data,
        "-o",
        "/dev/null",
    ]);
    assert!(err(&o).contains("--measure"), "{}", err(&o));
    // The access-case record's export is on the ledger, with the employee as subject.
    let audit = out(&sporvern(&["audit", "list", "--data", data]));
    assert!(
        audit.contains("subject 0907 export access case record 2026-001"),
        "{audit}"
    );
}

#[test]
fn a_purpose_without_a_measure_is_named_by_the_gate() {
    // The organisation applied without `sporvern org apply`: no measures in the register.
    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(EXAMPLE_ORG).expect("org");
    storage::open(dir.path())
        .expect("open")
        .apply_org(&org::parse(&text).expect("org"))
        .expect("apply");
    let data = dir.path().to_str().expect("utf8");
    let g = gate_json(data, &[]);
    assert_eq!(
        g["purposes_without_measure"],
        serde_json::json!(["driving_log", "fleet_view", "alarm", "utilization"])
    );
    let o = sporvern(&["gate", "--data", data]);
    assert!(
        out(&o).contains("vehicle.driving_log: collects nothing: no measure in the register"),
        "{}",
        out(&o)
    );
}
