//! The command line as integrators and operators use it.

mod common;

use std::process::{Command, Output};

fn sporvern(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sporvern"))
        .args(args)
        .output()
        .expect("run sporvern")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const CODEC8: &str = "000000000000004c08010000016818d500580009c28d9f1cb3757a00be00c60f0053000f06f0011503c80001011d00fc0007423799180053cdf80dce426f430f88190bb8560bb802f100005aa110002887e000010000ee8d";

#[test]
fn decode_prints_a_teltonika_login_and_data_frame() {
    let o = sporvern(&[
        "decode",
        "--protocol",
        "teltonika",
        "--hex",
        "000F313233343536373839303132333435",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(
        v,
        serde_json::json!({"type": "login", "imei": "123456789012345"})
    );

    let o = sporvern(&["decode", "--protocol", "teltonika", "--hex", CODEC8]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(v["type"], "data");
    assert_eq!(v["codec"], "8");
    assert_eq!(v["ack"], "00000001");
    let r = &v["records"][0];
    assert_eq!(r["time"], "2019-01-04T12:27:19Z");
    assert_eq!(r["lat"], 48.1523066);
    assert_eq!(r["lon"], 16.3745183);
    assert_eq!(r["satellites"], 15);
    assert_eq!(r["speed_kmh"], 83);
    assert_eq!(r["io"]["16"], 2656224);
}

#[test]
fn decode_names_the_crc_it_expected_and_found() {
    let mut bad = CODEC8.to_owned();
    bad.replace_range(bad.len() - 4.., "0000");
    let o = sporvern(&["decode", "--protocol", "teltonika", "--hex", &bad]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("CRC") && err.contains("ee8d"), "{err}");
}

#[test]
fn decode_osmand_query() {
    let o = sporvern(&["decode", "--protocol", "osmand", "--hex", "ignored"]);
    assert!(!o.status.success(), "osmand input is text, not hex");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("q.txt");
    std::fs::write(&path, "/?id=123456&timestamp=1377177267&lat=60.0&lon=30.0&speed=0.0&bearing=0.0&altitude=0&hdop=0.0").expect("write");
    let o = sporvern(&[
        "decode",
        "--protocol",
        "osmand",
        "--input",
        path.to_str().expect("utf8"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(v["device_id"], "123456");
    assert_eq!(v["records"][0]["time"], "2013-08-22T13:14:27Z");
    assert_eq!(v["records"][0]["lat"], 60.0);
}

#[test]
fn org_apply_is_idempotent_and_show_round_trips() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().to_str().expect("utf8");
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/org.toml");
    let o = sporvern(&["org", "apply", "--data", data, example]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("+ device teltonika 123456789012345"),
        "{}",
        stdout(&o)
    );
    let o = sporvern(&["org", "apply", "--data", data, example]);
    assert_eq!(stdout(&o), "no changes\n");
    let o = sporvern(&["org", "show", "--data", data]);
    let shown = dir.path().join("shown.toml");
    std::fs::write(&shown, stdout(&o)).expect("write");
    let o = sporvern(&[
        "org",
        "apply",
        "--data",
        data,
        shown.to_str().expect("utf8"),
    ]);
    assert_eq!(
        stdout(&o),
        "no changes\n",
        "what show prints applies as no change"
    );
}

#[test]
fn org_apply_names_line_and_field_of_a_wrong_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        "[organisation]\nname = \"X\"\n\n[[vehicles]]\nreg = \"EK 1\"\nkind = \"truck\"\n",
    )
    .expect("write");
    let o = sporvern(&[
        "org",
        "apply",
        "--data",
        dir.path().to_str().expect("utf8"),
        file.to_str().expect("utf8"),
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o)
            .contains("line 6, field \"kind\": vehicle kind \"truck\" is not valid: car or van"),
        "{}",
        stderr(&o)
    );
    assert!(
        !dir.path().join("sporvern.db").exists() || {
            let o = sporvern(&["org", "show", "--data", dir.path().to_str().expect("utf8")]);
            !stdout(&o).contains("EK1")
        },
        "nothing of a wrong file is applied"
    );
}

#[test]
fn assess_exit_codes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ok = dir.path().join("fwd.toml");
    std::fs::write(
        &ok,
        "kind = \"electronic_equipment\"\nname = \"Forwarding\"\npersonal_data = true\nelectronic_equipment = true\nemployer_access = true\nmain_purpose_control = false\nrecorded = true\ncontinuous = true\npurposes = [\"customer_relations\"]\n",
    )
    .expect("write");
    let o = sporvern(&[
        "assess",
        ok.to_str().expect("utf8"),
        "--format",
        "json",
        "--lang",
        "en",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(v["verdict"], "prohibited");
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "kind = \"electronic_equipment\"\nname = \"X\"\npurposes = [\"marketing\"]\n",
    )
    .expect("write");
    let o = sporvern(&["assess", bad.to_str().expect("utf8")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("line 3"), "{}", stderr(&o));
}

#[test]
fn drivinglog_export_classify_and_privacy_from_the_command_line() {
    use domain::drivinglog::NewLogEntry;
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().to_str().expect("utf8");
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/org.toml");
    assert!(
        sporvern(&["org", "apply", "--data", data, example])
            .status
            .success()
    );
    let store = storage::open(dir.path()).expect("open");
    let vehicle = store
        .vehicle_id(&domain::RegNo::parse("EK 12345").expect("reg"))
        .expect("query")
        .expect("vehicle");
    let day = time::Date::from_calendar_date(2026, time::Month::November, 2).expect("date");
    let t = |h: i64| {
        domain::Timestamp::from_secs(day.midnight().assume_utc().unix_timestamp() + h * 3600)
    };
    let mut feed = store.purpose_feed().expect("feed");
    feed.commit(&storage::PurposeBatch {
        up_to: 0,
        entries: vec![
            NewLogEntry::Trip {
                vehicle,
                date: day,
                start: t(7),
                end: t(8),
                start_place: "Lager Alnabru".into(),
                end_place: "Kunde: Sameiet Tøyen Torg".into(),
                odometer_start_km: Some(10_000.0),
                odometer_end_km: Some(10_012.5),
                km: 12.5,
                distance_source: "odometer",
                driver: Some("1001".into()),
            },
            NewLogEntry::Private {
                vehicle,
                date: day,
                km: 4.2,
            },
        ],
        deviations: vec![],
        privacy_switches: vec![],
        watermarks: vec![],
        alarms: vec![],
        utilization: vec![],
        recorded_at: t(9),
    })
    .expect("commit");
    drop(feed);
    common::add_example_users(data);

    let export = || {
        sporvern(&[
            "drivinglog",
            "export",
            "--data",
            data,
            "--vehicle",
            "EK 12345",
            "--month",
            "2026-11",
            "--as",
            "kari",
        ])
    };
    let o = export();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("read as kari (employee)"),
        "the read says who it is for: {}",
        stderr(&o)
    );
    let csv = stdout(&o);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with('\u{feff}'),
        "CSV for Norwegian Excel: a BOM"
    );
    assert_eq!(
        lines[1],
        "EK12345;1;02.11.2026;08:00;09:00;Lager Alnabru;Kunde: Sameiet Tøyen Torg;10000,0;10012,5;12,5;Kilometerteller;1001;Kari Nordmann;Ikke klassifisert;"
    );
    assert_eq!(
        lines[2], "EK12345;2;02.11.2026;;;;;;;4,2;;;;Privat;",
        "a private trip: date and km only"
    );
    // The log keeper sees the trip its driver has not classified yet as date and km only.
    let o = sporvern(&[
        "drivinglog",
        "export",
        "--data",
        data,
        "--vehicle",
        "EK 12345",
        "--month",
        "2026-11",
        "--as",
        "lars",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let keeper = stdout(&o);
    assert_eq!(
        keeper.lines().nth(1),
        Some("EK12345;1;02.11.2026;;;;;;;12,5;;;;Ikke klassifisert;"),
        "{keeper}"
    );
    // The keeper cannot classify the driver's trip, nor read the privacy switches.
    let o = sporvern(&[
        "drivinglog",
        "classify",
        "--data",
        data,
        "--trip",
        "1",
        "--private",
        "--as",
        "lars",
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("does not hold this role"),
        "{}",
        stderr(&o)
    );

    let o = sporvern(&[
        "drivinglog",
        "classify",
        "--data",
        data,
        "--trip",
        "1",
        "--business",
        "Service, Tøyen Torg",
        "--as",
        "kari",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = stdout(&export());
    assert!(
        csv.lines()
            .nth(1)
            .is_some_and(|l| l.ends_with(";Yrke;Service, Tøyen Torg")),
        "{csv}"
    );
    assert!(
        !sporvern(&[
            "drivinglog",
            "classify",
            "--data",
            data,
            "--trip",
            "99",
            "--private",
            "--as",
            "kari"
        ])
        .status
        .success()
    );

    let o = sporvern(&[
        "privacy",
        "on",
        "--data",
        data,
        "--vehicle",
        "EK 12345",
        "--as",
        "kari",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let switches = store
        .privacy_switches(&common::driver_1001(), vehicle)
        .expect("switches");
    assert_eq!(switches.first().map(|s| s.1), Some(true));
    let history = sporvern(&[
        "privacy",
        "history",
        "--data",
        data,
        "--vehicle",
        "EK 12345",
        "--as",
        "kari",
    ]);
    assert!(
        stdout(&history).contains(" on (command line (kari))"),
        "{}",
        stdout(&history)
    );
}

#[test]
fn the_first_admin_comes_from_the_command_line_with_a_password_from_stdin() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().to_str().expect("utf8");
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/org.toml");
    assert!(
        sporvern(&["org", "apply", "--data", data, example])
            .status
            .success()
    );
    let add = |args: &[&str], password: &str| common::add_user_with(data, args, password);
    let o = add(&["ada", "--role", "admin"], "correct horse battery");
    assert!(o.status.success(), "{}", stderr(&o));
    let o = add(&["ada", "--role", "admin"], "correct horse battery");
    assert!(stderr(&o).contains("exists already"), "{}", stderr(&o));
    let o = add(&["bob", "--role", "dispatcher"], "short");
    assert!(!o.status.success(), "a short password is refused");
    let o = add(&["kari", "--role", "employee"], "correct horse battery");
    assert!(stderr(&o).contains("needs --employee"), "{}", stderr(&o));
    let o = add(
        &["kari", "--role", "employee", "--employee", "1001"],
        "correct horse battery",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let list = stdout(&sporvern(&["user", "list", "--data", data]));
    assert!(
        list.contains("ada") && list.contains("admin") && list.contains("password set"),
        "{list}"
    );
    assert!(!list.contains("argon2"), "no hash is ever printed");
    let db = rusqlite::Connection::open(dir.path().join("sporvern.db")).expect("db");
    let hash: String = db
        .query_row(
            "SELECT password_hash FROM app_user WHERE name = 'ada'",
            [],
            |r| r.get(0),
        )
        .expect("row");
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    let audit = stdout(&sporvern(&["audit", "list", "--data", data]));
    assert!(audit.contains("user ada added with roles admin"), "{audit}");
}

#[test]
fn users_declared_in_the_organisation_file_get_their_roles_from_it_and_no_password() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().to_str().expect("utf8");
    let org = format!(
        "{}\n[[users]]\nname = \"lars\"\nroles = [\"log_keeper\"]\n\n[[users]]\nname = \"kari\"\nroles = [\"employee\"]\nemployee = \"1001\"\n",
        common::EXAMPLE_ORG
    );
    let file = dir.path().join("org.toml");
    std::fs::write(&file, &org).expect("write");
    let o = sporvern(&["org", "apply", "--data", data, file.to_str().expect("utf8")]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("user lars"), "{}", stdout(&o));
    let list = stdout(&sporvern(&["user", "list", "--data", data]));
    assert!(
        list.lines()
            .any(|l| l.contains("lars") && l.contains("log_keeper") && l.contains("no password")),
        "{list}"
    );
    // Applying the same file again changes nothing; it prints back with its users.
    let o = sporvern(&["org", "apply", "--data", data, file.to_str().expect("utf8")]);
    assert!(stdout(&o).contains("no changes"), "{}", stdout(&o));
    assert!(
        stdout(&sporvern(&["org", "show", "--data", data])).contains("[[users]]\nname = \"lars\"")
    );
    // A declared user acts on the command line in their declared role.
    let o = sporvern(&[
        "drivinglog",
        "export",
        "--data",
        data,
        "--vehicle",
        "EK 12345",
        "--month",
        "2026-11",
        "--as",
        "lars",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Leaving the file disables the user.
    std::fs::write(&file, common::EXAMPLE_ORG).expect("write");
    let o = sporvern(&["org", "apply", "--data", data, file.to_str().expect("utf8")]);
    assert!(stdout(&o).contains("user lars"), "{}", stdout(&o));
    let list = stdout(&sporvern(&["user", "list", "--data", data]));
    assert!(
        list.lines()
            .any(|l| l.contains("lars") && l.contains("disabled")),
        "{list}"
    );
    let o = sporvern(&[
        "drivinglog",
        "export",
        "--data",
        data,
        "--vehicle",
        "EK 12345",
        "--month",
        "2026-11",
        "--as",
        "lars",
    ]);
    assert!(!o.status.success(), "a disabled user cannot act");
    // A role the file does not know is refused with the line.
    let bad = format!(
        "{}\n[[users]]\nname = \"x\"\nroles = [\"boss\"]\n",
        common::EXAMPLE_ORG
    );
    std::fs::write(&file, bad).expect("write");
    let o = sporvern(&["org", "apply", "--data", data, file.to_str().expect("utf8")]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("field \"roles\"") && stderr(&o).contains("unknown role"),
        "{}",
        stderr(&o)
    );
}
