//! Everything held about an employee, as JSON and as a ZIP of JSON and CSV files (GDPR art. 15
//! and 20: a copy in a structured, commonly used, machine-readable format).

use std::io::Write;

use domain::Timestamp;
use domain::drivinglog::LogEntry;
use serde_json::{Value, json};

use report::csv_field;

use crate::api::{entry_json, ledger_json};
use crate::reads::MyData;

/// The whole of [`MyData`] as one JSON document, per purpose.
pub fn my_data_json(d: &MyData) -> Value {
    let entries: Vec<LogEntry> = d.trips.iter().map(|(_, e)| e.clone()).collect();
    let totals = purposes::tax::totals(&entries);
    json!({
        "about": "Alt Sporvern har lagret om deg, per formål / Everything Sporvern holds about you, per purpose (GDPR art. 15)",
        "generated_at": crate::ingest::now().rfc3339(),
        "requested_by": { "name": d.user, "roles": d.roles },
        "access_request": d.request,
        "employee": d.employee.as_ref().map(|e| json!({
            "number": e.number,
            "name": e.name,
            "email": e.email,
            "driver_id": e.driver_id,
        })),
        "assignments": d.assignments.iter().map(|a| json!({
            "vehicle": a.vehicle.to_string(),
            "from": a.from.to_string(),
            "to": a.to.map(|t| t.to_string()),
        })).collect::<Vec<_>>(),
        "driving_log": {
            "purpose": "driving_log",
            "year": d.year,
            "trips": d.trips.iter().map(|(reg, e)| {
                let mut v = entry_json(e);
                if let Some(o) = v.as_object_mut() { o.insert("vehicle".into(), json!(reg)); }
                v
            }).collect::<Vec<_>>(),
            "totals": {
                "business_km": totals.business_km,
                "private_km": totals.private_km,
                "private_days": totals.private_days,
                "unclassified_km": totals.unclassified_km,
            },
        },
        "privacy_mode": {
            "purpose": "driving_log",
            "switches": d.privacy_switches.iter().map(|(reg, at, on, source)| json!({
                "vehicle": reg, "at": at.rfc3339(), "on": on, "source": source,
            })).collect::<Vec<_>>(),
        },
        "alarm": {
            "purpose": "alarm",
            "windows": d.alarm_windows.iter().map(|w| json!({
                "id": w.id,
                "opened_at": w.opened_at.rfc3339(),
                "triggers": w.triggers,
                "resolved_at": w.resolved_at.map(|t| t.rfc3339()),
                "incident": w.incident,
                "positions": d.alarm_positions.iter().find(|(id, _)| *id == w.id).map(|(_, ps)| {
                    ps.iter().map(|(t, p)| json!({ "time": t.rfc3339(), "lat": p.lat(), "lon": p.lon() })).collect::<Vec<_>>()
                }).unwrap_or_default(),
            })).collect::<Vec<_>>(),
        },
        "fleet_view": {
            "purpose": "fleet_view",
            "note": "Sanntidsposisjonen lagres ikke / The live position is not stored.",
        },
        "utilization": {
            "purpose": "utilization",
            "note": "Bare anonyme tall over minst fem kjøretøy; ingenting om deg / Only anonymous figures over at least five vehicles; nothing about you.",
        },
        "access_log": d.ledger.iter().map(ledger_json).collect::<Vec<_>>(),
    })
}

fn trips_csv(d: &MyData) -> String {
    let mut out = String::from("vehicle,id,type,date,start,end,from,to,km,purpose\n");
    for (reg, e) in &d.trips {
        match e {
            LogEntry::Private(p) => out.push_str(&format!(
                "{reg},{},private,{},,,,,{:.1},\n",
                p.id, p.date, p.km
            )),
            LogEntry::Unclassified(p) => out.push_str(&format!(
                "{reg},{},unclassified,{},,,,,{:.1},\n",
                p.id, p.date, p.km
            )),
            LogEntry::Trip(t) => {
                let purpose = match &t.classification {
                    domain::drivinglog::Classification::Business { purpose } => purpose.as_str(),
                    _ => "",
                };
                out.push_str(&format!(
                    "{reg},{},{},{},{},{},{},{},{:.1},{}\n",
                    t.id,
                    t.classification.as_str(),
                    t.date,
                    t.start.rfc3339(),
                    t.end.rfc3339(),
                    csv_field(&t.start_place),
                    csv_field(&t.end_place),
                    t.km,
                    csv_field(purpose)
                ));
            }
        }
    }
    out
}

fn access_log_csv(d: &MyData) -> String {
    let mut out = String::from("seq,at,actor,role,purpose,action,object,outcome\n");
    for s in &d.ledger {
        let e = &s.entry;
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{}\n",
            e.seq,
            Timestamp::from_millis(e.at_ms).rfc3339(),
            csv_field(&e.actor),
            csv_field(&e.role),
            csv_field(&e.purpose),
            e.action.as_str(),
            csv_field(&e.object),
            csv_field(&e.outcome)
        ));
    }
    out
}

/// The ZIP: `mine-data.json` (everything), `trips.csv`, `access-log.csv`, `README.txt`.
pub fn zip(d: &MyData) -> Result<Vec<u8>, zip::result::ZipError> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let files = [
        (
            "README.txt",
            "Mine data fra Sporvern / My data from Sporvern\n\n\
             mine-data.json: alt som er lagret om deg, per formål / everything held about you, per purpose\n\
             trips.csv: turene dine i år / your trips this year (private trips: date and km only)\n\
             access-log.csv: hvem som har sett opplysningene dine, når og hvorfor / who looked at your data, when and why\n\n\
             GDPR art. 15 og 20.\n"
                .to_owned(),
        ),
        (
            "mine-data.json",
            serde_json::to_string_pretty(&my_data_json(d)).unwrap_or_default(),
        ),
        ("trips.csv", trips_csv(d)),
        ("access-log.csv", access_log_csv(d)),
    ];
    for (name, body) in files {
        w.start_file(name, options)?;
        w.write_all(body.as_bytes())?;
    }
    Ok(w.finish()?.into_inner())
}
