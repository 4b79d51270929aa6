//! The command line as integrators and operators use it.

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
