//! Data-driven: every file under `test_data/org/bad/` states on its first line the error it
//! must produce (`# expect: …`); the example organisation must parse and round-trip.

use std::fs;
use std::path::Path;

fn test_data() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../test_data/org"))
}

#[test]
fn bad_files_name_line_and_field() {
    let mut checked = 0;
    let mut failures = Vec::new();
    let mut entries: Vec<_> = fs::read_dir(test_data().join("bad"))
        .expect("test_data/org/bad exists")
        .map(|e| e.expect("readable").path())
        .collect();
    entries.sort();
    for path in entries {
        let text = fs::read_to_string(&path).expect("readable");
        let expect = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{} lacks a `# expect:` first line", path.display()));
        let got = match org::parse(&text) {
            Ok(_) => "parsed without error".to_owned(),
            Err(e) => e.to_string(),
        };
        if got != expect {
            failures.push(format!(
                "{}:\n  expected {expect}\n  got      {got}",
                path.display()
            ));
        }
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} cases found");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn example_org_parses_and_applies_idempotently() {
    let text = fs::read_to_string(test_data().join("../../examples/org.toml")).expect("example");
    let org = org::parse(&text).expect("the example organisation is valid");
    assert!(
        org.devices
            .iter()
            .any(|d| d.protocol == domain::Protocol::Teltonika
                && d.external_id.as_str() == "123456789012345")
    );
    assert!(
        org.devices
            .iter()
            .any(|d| d.protocol == domain::Protocol::Osmand && d.external_id.as_str() == "123456")
    );
    let first = org::diff(&org::Org::default(), &org);
    assert!(first.0.iter().all(|c| c.kind == org::ChangeKind::Added));
    assert_eq!(
        first.0.len(),
        1 + org.vehicles.len()
            + org.devices.len()
            + org.employees.len()
            + org.assignments.len()
            + org.sites.len()
            + 1 // the classification rules
    );
    assert!(org::diff(&org, &org).is_empty());
}

#[test]
fn removing_a_vehicle_retires_it() {
    let text = fs::read_to_string(test_data().join("../../examples/org.toml")).expect("example");
    let org = org::parse(&text).expect("valid");
    let mut smaller = org.clone();
    smaller.sites.pop();
    let changes = org::diff(&org, &smaller);
    assert_eq!(changes.to_string(), "- site Kunde: Lillestrøm Sykehjem\n");
}

#[test]
fn show_prints_a_file_that_applies_as_no_change() {
    let text = fs::read_to_string(test_data().join("../../examples/org.toml")).expect("example");
    let org = org::parse(&text).expect("valid");
    let shown = org::to_toml(&org);
    let again = org::parse(&shown).unwrap_or_else(|e| panic!("{e}\n{shown}"));
    assert_eq!(again, org);
}
