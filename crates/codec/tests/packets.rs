//! Captured packets under `test_data/packets/<protocol>/`, each decoded and compared with its
//! `<name>.expected.json` snapshot by one `check` helper. `UPDATE_EXPECT=1` rewrites the
//! snapshots: review every change by hand against the protocol documentation.
//!
//! - `teltonika/*.hex`: one message in hex (whitespace ignored, `#` lines are comments),
//!   decoded with `teltonika::decode_json`.
//! - `osmand/*.txt`: `METHOD target`, optional header lines, a blank line, the body.
//! - `owntracks/*.txt`: a request body.

use std::path::{Path, PathBuf};

use codec::{osmand, owntracks, teltonika};
use domain::{AttrValue, Fix};
use serde_json::{Map, Value, json};

fn dir(protocol: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../test_data/packets")
        .join(protocol)
}

fn cases(protocol: &str, ext: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir(protocol))
        .expect("test_data/packets/<protocol> exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .map(|p| {
            let name = p
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_owned();
            let text = std::fs::read_to_string(&p).expect("readable");
            (name, text)
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no .{ext} cases for {protocol}");
    out
}

/// Compares `actual` with the snapshot; returns a description of the difference.
fn check(protocol: &str, name: &str, actual: &Value) -> Option<String> {
    let path = dir(protocol).join(format!("{name}.expected.json"));
    let pretty = serde_json::to_string_pretty(actual).expect("serialisable") + "\n";
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&path, &pretty).expect("writable");
        return None;
    }
    let expected = match std::fs::read_to_string(&path) {
        Ok(s) => s,
        Err(_) => {
            return Some(format!(
                "{protocol}/{name}: no snapshot; run with UPDATE_EXPECT=1"
            ));
        }
    };
    let expected: Value = serde_json::from_str(&expected).expect("snapshot is JSON");
    (expected != *actual)
        .then(|| format!("{protocol}/{name}:\n--- expected\n{expected:#}\n+++ actual\n{pretty}"))
}

fn run(protocol: &str, ext: &str, decode: impl Fn(&str) -> Value) {
    let failures: Vec<String> = cases(protocol, ext)
        .iter()
        .filter_map(|(name, text)| check(protocol, name, &decode(text)))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn without_comments(text: &str) -> impl Iterator<Item = &str> {
    text.lines().filter(|l| !l.trim_start().starts_with('#'))
}

fn unhex(text: &str) -> Vec<u8> {
    let digits: String = without_comments(text)
        .flat_map(|l| l.chars())
        .filter(|c| !c.is_whitespace())
        .collect();
    hex::decode(digits).expect("valid hex")
}

fn attr_json(v: &AttrValue) -> Value {
    match v {
        AttrValue::Int(i) => json!({ "int": i }),
        AttrValue::Float(f) => json!({ "float": f }),
        AttrValue::Bool(b) => json!({ "bool": b }),
        AttrValue::Text(t) => json!({ "text": t }),
        AttrValue::Bytes(b) => json!({ "bytes": hex::encode(b) }),
    }
}

fn fix_json(f: &Fix) -> Value {
    let attributes: Map<String, Value> = f
        .attributes
        .iter()
        .map(|a| (a.key.to_string(), attr_json(&a.value)))
        .collect();
    json!({
        "time": f.time.rfc3339(),
        "lat": f.position.map(|p| p.lat()),
        "lon": f.position.map(|p| p.lon()),
        "altitude_m": f.altitude_m,
        "course_deg": f.course_deg,
        "satellites": f.satellites,
        "speed_kmh": f.speed_kmh,
        "attributes": attributes,
    })
}

#[test]
fn teltonika_packets() {
    run("teltonika", "hex", |text| {
        match teltonika::decode_json(&unhex(text)) {
            Ok(v) => v,
            Err(e) => json!({ "error": e.to_string(), "can_continue": e.can_continue() }),
        }
    });
}

#[test]
fn osmand_requests() {
    run("osmand", "txt", |text| {
        let mut lines = without_comments(text);
        let request = lines.next().expect("a request line");
        let target = request.split_whitespace().nth(1).expect("METHOD target");
        let mut content_type = None;
        for l in lines.by_ref() {
            if l.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':')
                && k.eq_ignore_ascii_case("content-type")
            {
                content_type = Some(v.trim());
            }
        }
        let body: Vec<&str> = lines.collect();
        match osmand::parse(target, content_type, body.join("\n").as_bytes()) {
            Ok(m) => json!({
                "device_id": m.device_id,
                "fixes": m.fixes.iter().map(fix_json).collect::<Vec<_>>(),
            }),
            Err(e) => json!({ "error": e.to_string() }),
        }
    });
}

#[test]
fn owntracks_bodies() {
    run("owntracks", "txt", |text| {
        let body: Vec<&str> = without_comments(text).collect();
        match owntracks::parse(body.join("\n").as_bytes()) {
            Ok(owntracks::OwntracksMessage::Location(f)) => json!({ "location": fix_json(&f) }),
            Ok(owntracks::OwntracksMessage::Other { kind }) => json!({ "other": kind }),
            Err(e) => json!({ "error": e.to_string() }),
        }
    });
}
