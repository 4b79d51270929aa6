//! Structural: the storage interface offers no query for personal data that does not take a
//! `Capability`. The `Store` trait is the only way the rest of the server reads the database
//! (no database type leaves this crate), and a `Capability` comes only from
//! `access::Policy::authorise`. This test reads the trait's source and fails when someone adds a
//! method returning personal data without one — before any code could call it.

/// Types that carry personal data when a `Store` method returns them.
const PERSONAL: &[&str] = &[
    "LogEntry",
    "RecordedDeviation",
    "AlarmWindow",
    "domain::Position",
    "ReleasedWeek",
    "StoredEntry",
    "TripFacts",
    "DriverCorrection",
    "UtilizationFact",
    "StagedRow",
    // privacy switches: (when, on/off, source)
    "(Timestamp, bool, String)",
];

/// Methods that return personal data without a capability, each with the reason it may.
const EXEMPT: &[(&str, &str)] = &[
    (
        "audit_entries",
        "the whole ledger for `sporvern audit verify`/`checkpoint` run by the server's operator; \
         it holds metadata only, and verification needs every entry",
    ),
    (
        "audit_append",
        "returns the entry the caller has just written",
    ),
    (
        "audit_append_many",
        "returns the entries the caller has just written",
    ),
];

/// `(name, signature)` of every method in `pub trait Store { … }`.
fn store_methods(src: &str) -> Vec<(String, String)> {
    let start = src.find("pub trait Store").expect("the Store trait");
    let body = &src[start..];
    let end = body.find("\n}\n").expect("the end of the trait");
    let body = &body[..end];
    let mut out = Vec::new();
    for part in body.split("fn ").skip(1) {
        let name: String = part
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let sig = part.split(';').next().unwrap_or_default();
        out.push((name, sig.split_whitespace().collect::<Vec<_>>().join(" ")));
    }
    out
}

#[test]
fn every_store_method_returning_personal_data_takes_a_capability() {
    let src = include_str!("../src/lib.rs");
    let methods = store_methods(src);
    assert!(
        methods.len() > 30,
        "the parser found the trait: {methods:?}"
    );
    let mut offenders = Vec::new();
    for (name, sig) in &methods {
        let returns = sig.split("->").nth(1).unwrap_or_default();
        let personal = PERSONAL.iter().any(|t| returns.contains(t));
        let gated = sig.contains("cap: &Capability");
        if personal && !gated && !EXEMPT.iter().any(|(n, _)| n == name) {
            offenders.push(format!("{name}: {sig}"));
        }
    }
    assert!(
        offenders.is_empty(),
        "these Store methods return personal data without a Capability; take `cap: &Capability` \
         and check it (see crates/storage/src/capability.rs):\n{}",
        offenders.join("\n")
    );
}

#[test]
fn the_gated_queries_are_the_ones_expected() {
    // A guard on the guard: if the parser broke, the test above would pass vacuously.
    let src = include_str!("../src/lib.rs");
    let gated: Vec<String> = store_methods(src)
        .into_iter()
        .filter(|(_, sig)| sig.contains("cap: &Capability"))
        .map(|(n, _)| n)
        .collect();
    for expected in [
        "driving_log",
        "own_driving_log",
        "deviations",
        "trip_facts",
        "privacy_switches",
        "utilization_weeks",
        "audit_entries_for",
        "alarm_windows",
        "alarm_positions",
    ] {
        assert!(
            gated.iter().any(|g| g == expected),
            "{expected} takes a capability: {gated:?}"
        );
    }
}

#[test]
fn a_capability_for_one_purpose_does_not_open_another() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = storage::open(dir.path()).expect("open");
    let org = org::parse(include_str!("../../../examples/org.toml")).expect("org");
    store.apply_org(&org).expect("apply");
    let vehicle = store
        .vehicle_id(&domain::RegNo::parse("EK 12345").expect("reg"))
        .expect("query")
        .expect("vehicle");
    let other = store
        .vehicle_id(&domain::RegNo::parse("EL 23456").expect("reg"))
        .expect("query")
        .expect("vehicle");
    let cap = |role: access::Role, purpose: access::ReadPurpose, scope: access::Scope| {
        let user = access::User {
            id: access::UserId("t".to_owned()),
            name: "t".to_owned(),
            roles: vec![role],
            employee: Some("1001".to_owned()),
        };
        access::Policy::authorise(&user, role, purpose, scope, 0)
            .expect("allowed")
            .into_parts()
            .0
    };
    let day = time::Date::from_calendar_date(2026, time::Month::November, 2).expect("date");
    let fleet = cap(
        access::Role::Dispatcher,
        access::ReadPurpose::FleetView,
        access::Scope::All,
    );
    let refused = store.driving_log(&fleet, vehicle, day, day);
    assert!(
        matches!(&refused, Err(storage::StoreError::Refused(m)) if m.contains("does not open the driving log")),
        "{refused:?}"
    );
    assert!(store.alarm_windows(&fleet).is_err());
    assert!(store.utilization_weeks(&fleet).is_err());
    let one_vehicle = cap(
        access::Role::LogKeeper,
        access::ReadPurpose::DrivingLog,
        access::Scope::Vehicle("EK12345".to_owned()),
    );
    assert!(store.driving_log(&one_vehicle, vehicle, day, day).is_ok());
    let refused = store.driving_log(&one_vehicle, other, day, day);
    assert!(
        matches!(&refused, Err(storage::StoreError::Refused(m)) if m.contains("another vehicle")),
        "{refused:?}"
    );
}

#[test]
fn the_register_is_read_without_a_capability_only_by_the_gate_and_the_operator() {
    // The register holds employee numbers (acknowledgements, access cases). Its one loader is
    // for the purpose engine's gate and the server operator's command line; a user's read goes
    // through `server::reads::Reads::register`, which needs the policy's grant for the
    // register purpose first. A second loader would need the same reasoning: this test makes
    // sure someone writes it down.
    let src = include_str!("../src/register.rs");
    let start = src.find("pub trait RegisterStore").expect("the trait");
    let loaders: Vec<&str> = src[start..]
        .split("fn ")
        .skip(1)
        .filter(|f| {
            f.split(';')
                .next()
                .unwrap_or_default()
                .contains("register::Register)")
        })
        .map(|f| f.split('(').next().unwrap_or_default())
        .collect();
    assert_eq!(loaders, ["load_register"]);
}
