//! The compliance register, stored: everything the example register file records (plus a
//! breach and an access case) survives a save and a load unchanged; a save bumps the version
//! the purpose worker watches; a save from a stale read is refused; a change and its ledger
//! entries are written together.

use storage::AuditRecord;

fn read(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../../examples/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("example file")
}

const MORE: &str = r#"
[[breaches]]
id = "2026-03-telefon"
measure = "vehicle.driving_log"
discovered_at = 2026-03-02T09:15:00+01:00
description = "En telefon med Traccar-appen ble mistet."
personal_data_affected = true
notified_datatilsynet_at = 2026-03-03T10:00:00+01:00
employees_informed = { decision = "not_required", reason = "Telefonen var låst og kryptert.", decided_on = 2026-03-03 }

[[breaches]]
id = "2026-05-feilsendt"
discovered_at = 2026-05-04T08:00:00+02:00
description = "En kjørebokrapport ble sendt til feil kollega i regnskap, som slettet den straks."
personal_data_affected = true
not_notified = { reason = "Mottakeren har taushetsplikt og slettet rapporten; lite sannsynlig at bruddet medfører risiko.", decided_at = 2026-05-04T12:00:00+02:00 }

[[measures]]
id = "vehicle.alarm"
[[measures.late_closures]]
duty = "information"
by = "Siri Dahl"
closed_on = 2026-02-01
note = "Informasjonen ble gitt i etterkant; ingen data fra perioden er brukt."
[measures.prior_consultation]
by = "Siri Dahl"
submitted_on = 2026-01-10
advice = "Datatilsynet hadde ingen merknader."
[[measures.evaluations]]
by = "Siri Dahl"
date = 2026-06-01
with_representatives = ["Anne Lie"]
need_still_present = false
decision = "continue"
reason_to_continue = "Nytt behov: alenearbeid om natten."

[[breaches]]
id = "2026-04-strøm"
discovered_at = 2026-04-01T12:00:00Z
description = "Serveren var nede i to timer."
personal_data_affected = false

[[access_cases]]
id = "2026-001"
employee = "0907"
ground = "daily_operation"
explanation = "En kunde venter på svar på en e-post til en tidligere ansatt."
notice_impossible = "Den tidligere ansatte svarer ikke på telefon eller e-post."
presence = "not_possible"
presence_reason = "Ikke mulig å nå."
opened = ["Innboksen: mapper «Kunder/Tøyen Torg»"]
documentation = "Åpnet av Jon Moe med Anne Lie til stede; skriftlig orientering sendt 2026-03-11."
closed_on = 2026-03-10
"#;

fn record(object: &str) -> AuditRecord {
    AuditRecord {
        at: domain::Timestamp::from_millis(1_700_000_000_000),
        actor: "test".into(),
        role: "privacy_officer".into(),
        purpose: "register".into(),
        subject: None,
        action: ledger::Action::Change,
        object: object.into(),
        outcome: "~ test".into(),
    }
}

#[test]
fn the_register_round_trips_and_every_save_is_versioned_and_on_the_ledger() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = storage::open(dir.path()).expect("open");
    let org = org::parse(&read("org.toml")).expect("org");
    store.apply_org(&org).expect("apply org");

    let (v0, mut reg) = store.register().load_register().expect("load");
    assert_eq!(v0, 0);
    assert!(reg.entries.is_empty());
    reg.sync_org(&org);
    reg.apply_str(&read("register.toml"), &org)
        .expect("example");
    reg.apply_str(MORE, &org).expect("breaches and a case");
    let v1 = store
        .register()
        .save_register(&reg, v0, vec![record("register all")])
        .expect("save");
    assert_eq!(v1, 1);
    assert_eq!(store.register().register_version().expect("version"), 1);

    let (v, loaded) = store.register().load_register().expect("load again");
    assert_eq!(v, 1);
    assert_eq!(loaded, reg, "what was saved is what is loaded");
    assert_eq!(loaded.entries.len(), 5);
    assert_eq!(loaded.breaches.len(), 3);
    // The records kept beside the 0013 tables (migration 0032) come back too.
    assert!(loaded.breaches[1].breach.not_notified.is_some());
    assert!(loaded.security.deviation_routine.is_some());
    let alarm = loaded.entry("vehicle.alarm").expect("alarm");
    assert!(alarm.duties.prior_consultation.is_some());
    assert_eq!(alarm.duties.late_closures.len(), 1);
    assert!(
        alarm
            .duties
            .evaluations
            .iter()
            .any(|e| e.reason_to_continue.is_some())
    );
    let log = loaded.entry("vehicle.driving_log").expect("log");
    assert!(log.duties.private_driving_routine.is_some());
    assert_eq!(
        loaded.access_cases[0]
            .closed_on
            .map(|d| d.to_string())
            .as_deref(),
        Some("2026-03-10")
    );

    // A save from a stale read changes nothing, ledger included.
    let before = store.audit_entries().expect("ledger").len();
    let err = store
        .register()
        .save_register(&reg, v0, vec![record("stale")])
        .expect_err("stale version refused");
    assert!(err.to_string().contains("changed by someone else"), "{err}");
    assert_eq!(store.audit_entries().expect("ledger").len(), before);
    assert_eq!(store.register().register_version().expect("version"), 1);

    // The ledger entry of the save is there and the chain verifies.
    let entries = store.audit_entries().expect("ledger");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].entry.object, "register all");
    ledger::verify(&entries).expect("intact");
}

#[test]
fn a_measure_whose_purpose_leaves_the_organisation_is_retired_with_its_records() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = storage::open(dir.path()).expect("open");
    let mut org = org::parse(&read("org.toml")).expect("org");
    store.apply_org(&org).expect("apply org");
    let (v, mut reg) = store.register().load_register().expect("load");
    reg.sync_org(&org);
    reg.apply_str(&read("register.toml"), &org)
        .expect("example");
    let v = store
        .register()
        .save_register(&reg, v, vec![])
        .expect("save");

    // No vehicle keeps the alarm purpose.
    for vehicle in &mut org.vehicles {
        vehicle.purposes.retain(|p| *p != org::Purpose::Alarm);
    }
    let (_, mut reg) = store.register().load_register().expect("load");
    let changes = reg.sync_org(&org);
    assert_eq!(
        changes.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["- vehicle.alarm: retired: no vehicle has this purpose any more (records kept)"]
    );
    store
        .register()
        .save_register(&reg, v, vec![])
        .expect("save");
    let (_, reg) = store.register().load_register().expect("load");
    let alarm = reg.entry("vehicle.alarm").expect("kept");
    assert!(alarm.retired);
    assert!(
        alarm.duties.balancing_test.is_some(),
        "its records are kept"
    );
    assert!(
        reg.vehicle_entry(org::Purpose::Alarm).is_none(),
        "it gates nothing"
    );
}
