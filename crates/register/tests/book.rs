//! The register as one value: measures follow the organisation, the register file adds and
//! updates (never removes), a wrong file leaves the register as it was, and the gate per
//! vehicle purpose.

use register::{GateConfig, Origin, Register};
use time::macros::date;

fn read(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../../examples/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("example file")
}

fn example() -> (org::Org, Register) {
    let o = org::parse(&read("org.toml")).expect("org");
    let mut reg = Register::default();
    reg.sync_org(&o);
    (o, reg)
}

#[test]
fn measures_follow_the_organisation_and_keep_their_records() {
    let (mut o, mut reg) = example();
    let ids: Vec<&str> = reg.entries.iter().map(|e| e.measure.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "vehicle.driving_log",
            "vehicle.fleet_view",
            "vehicle.alarm",
            "vehicle.utilization"
        ]
    );
    assert!(reg.entries.iter().all(|e| e.origin == Origin::Organisation));
    assert!(reg.sync_org(&o).is_empty(), "a second sync changes nothing");

    reg.apply_str(&read("register.toml"), &o).expect("example");
    for v in &mut o.vehicles {
        v.purposes.retain(|p| *p != org::Purpose::FleetView);
    }
    let changes = reg.sync_org(&o);
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].sign, '-');
    let fleet = reg.entry("vehicle.fleet_view").expect("kept");
    assert!(fleet.retired && fleet.duties.dpia.is_some());
    let cfg = GateConfig::default();
    assert!(!reg.purpose_may_collect(org::Purpose::FleetView, date!(2026 - 11 - 23), &cfg));

    // Back in the organisation: in use again, with its records.
    let (o2, _) = example();
    let changes = reg.sync_org(&o2);
    assert_eq!(
        changes[0].to_string(),
        "+ vehicle.fleet_view: in use again by the organisation"
    );
    assert!(reg.purpose_may_collect(org::Purpose::FleetView, date!(2026 - 11 - 23), &cfg));
}

#[test]
fn the_gate_per_purpose_follows_the_records() {
    let (o, mut reg) = example();
    let cfg = GateConfig::default();
    let day = date!(2026 - 11 - 23);
    for p in org::Purpose::ALL {
        assert!(
            !reg.purpose_may_collect(p, day, &cfg),
            "{p:?} before any record"
        );
    }
    let changes = reg.apply_str(&read("register.toml"), &o).expect("example");
    assert!(changes.iter().any(|c| c.subject.as_deref() == Some("1001")));
    for p in [
        org::Purpose::DrivingLog,
        org::Purpose::FleetView,
        org::Purpose::Alarm,
        org::Purpose::Utilization,
    ] {
        assert!(reg.purpose_may_collect(p, day, &cfg), "{p:?}");
    }
    // No vehicle has driver behaviour: no measure, nothing collects.
    assert!(!reg.purpose_may_collect(org::Purpose::DriverBehaviour, day, &cfg));
    // Records dated after the day do not count yet.
    assert!(!reg.purpose_may_collect(org::Purpose::DrivingLog, date!(2024 - 11 - 01), &cfg));
    assert!(
        reg.apply_str(&read("register.toml"), &o)
            .expect("again")
            .is_empty(),
        "applying the same file again changes nothing"
    );
}

#[test]
fn a_wrong_file_leaves_the_register_unchanged() {
    let (o, mut reg) = example();
    let before = reg.clone();
    let text = "[[measures]]\nid = \"vehicle.driving_log\"\nstatus = \"active\"\n\n[[measures]]\nid = \"vehicle.alarm\"\nlegal_basis = \"whim\"\n";
    let e = reg.apply_str(text, &o).expect_err("bad basis");
    assert_eq!((e.line, e.field.as_str()), (7, "legal_basis"));
    assert_eq!(reg, before, "not even the first, good record was applied");

    let e = reg
        .apply_str("[[measures]]\nid = \"it.x\"\nname = \"X\"\n", &o)
        .expect_err("new without kind and facts");
    assert!(e.message.contains("name, kind and facts"), "{e}");
    let e = reg.apply_str("stray = 1\n", &o).expect_err("unknown key");
    assert_eq!((e.line, e.field.as_str()), (1, "stray"));
}

#[test]
fn documents_read_the_basis_from_the_register() {
    let (o, mut reg) = example();
    let before = reg
        .entry("vehicle.utilization")
        .expect("m")
        .as_recorded(date!(2026 - 11 - 23));
    assert!(
        !register::is_lawful(before.assessment.verdict()),
        "no basis yet"
    );
    reg.apply_str(&read("register.toml"), &o).expect("example");
    let after = reg
        .entry("vehicle.utilization")
        .expect("m")
        .as_recorded(date!(2026 - 11 - 23));
    assert!(register::is_lawful(after.assessment.verdict()));
}

/// The records of the second pass (art. 28(3) content, late closures, the DPIA's residual risk,
/// the private-driving routine) are checked like every other: a wrong value names its line and
/// field, and the register is left as it was.
#[test]
fn new_records_name_line_and_field_when_wrong() {
    let (o, mut reg) = example();
    let before = reg.clone();
    for (file, line, field) in [
        (
            "[[measures]]\nid = \"vehicle.driving_log\"\n[[measures.processor_agreements]]\nby = \"x\"\nprocessor = \"P\"\nsigned_on = 2025-01-01\ncovers = [\"instructions\", \"audit\"]\n",
            7,
            "covers",
        ),
        (
            "[[measures]]\nid = \"vehicle.driving_log\"\n[[measures.processor_agreements]]\nby = \"x\"\nprocessor = \"P\"\nsigned_on = 2025-01-01\nservices = [\"geocoder\"]\n",
            7,
            "services",
        ),
        (
            "[[measures]]\nid = \"vehicle.driving_log\"\n[[measures.late_closures]]\nduty = \"dpia\"\nby = \"x\"\nclosed_on = 2025-01-01\nnote = \"n\"\n",
            4,
            "duty",
        ),
        (
            "[[measures]]\nid = \"vehicle.driving_log\"\n[measures.dpia]\nby = \"x\"\ndone_on = 2025-01-01\nemployees_views = \"v\"\nresidual_risk = \"severe\"\n",
            7,
            "residual_risk",
        ),
        (
            "[[measures]]\nid = \"vehicle.driving_log\"\n[measures.private_driving_routine]\nby = \"x\"\nreviewer = \"r\"\ninterval_months = 0\nhow = \"h\"\nadopted_on = 2025-01-01\n",
            6,
            "interval_months",
        ),
    ] {
        let e = reg.apply_str(file, &o).expect_err("refused");
        assert_eq!((e.line, e.field.as_str()), (line, field), "{e}");
        assert_eq!(reg, before, "nothing changed");
    }
}
