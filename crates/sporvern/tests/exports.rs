//! The accountant's exports through the real server and the command line: one vehicle's PDF
//! with its signatures and full purpose, every vehicle's month as one ZIP, the tax year and the
//! payroll file, each on the ledger as an export, and refused to a driver.

mod common;

use std::io::Read as _;
use std::time::Duration;

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A purpose of 120 characters.
const PURPOSE: &str = "Service varmtvannsbereder hos Lillestrøm Sykehjem (Storgata 12), avtale 2026-114, ordre 5521-B for Ærø Øvrebø og Åsen AS";

/// One request; the status, the headers and the body as bytes.
async fn get(app: &TestApp, path: &str, token: &str) -> (u16, String, Vec<u8>) {
    let mut s = tokio::net::TcpStream::connect(app.http)
        .await
        .expect("connect");
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.expect("send");
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut out))
        .await
        .expect("an answer in time")
        .expect("read");
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers");
    let head = String::from_utf8_lossy(&out[..split]).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    (status, head, out[split + 4..].to_vec())
}

async fn post(app: &TestApp, path: &str, token: &str, body: &str) -> u16 {
    let (status, text) = http(
        app.http,
        "POST",
        path,
        &[
            ("Authorization", &format!("Bearer {token}")),
            ("Content-Type", "application/json"),
        ],
        body.as_bytes(),
    )
    .await
    .expect("an answer");
    assert!(status == 200, "POST {path}: {status} {text}");
    status
}

fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    (0..z.len())
        .map(|i| {
            let mut f = z.by_index(i).expect("entry");
            let mut b = Vec::new();
            f.read_to_end(&mut b).expect("read entry");
            (f.name().to_owned(), b)
        })
        .collect()
}

fn pdftotext(pdf: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("log.pdf");
    std::fs::write(&file, pdf).expect("write");
    let out = std::process::Command::new("pdftotext")
        .args(["-raw", "-enc", "UTF-8"])
        .arg(&file)
        .arg("-")
        .output();
    match out {
        Ok(o) if o.status.success() => Some(String::from_utf8_lossy(&o.stdout).into_owned()),
        _ => {
            println!("SKIPPED the text check: pdftotext (poppler-utils) is not installed");
            None
        }
    }
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[tokio::test]
async fn the_accountants_month_through_the_api_and_the_command_line() {
    let app = spawn_app(|_| {}).await;
    seed_trip(
        app.data(),
        time::Date::from_calendar_date(2026, time::Month::November, 2).expect("date"),
    );
    let kari = user_token(&app, "kari", "employee", Some("1001")).await;
    let lars = user_token(&app, "lars", "log_keeper", None).await;
    let body = serde_json::json!({ "business": PURPOSE }).to_string();
    post(&app, "/api/v1/me/trips/1/classify", &kari, &body).await;
    post(
        &app,
        "/api/v1/vehicles/EK12345/driving-log/2026-11/sign?role=employee",
        &kari,
        "",
    )
    .await;
    post(
        &app,
        "/api/v1/vehicles/EK12345/driving-log/2026-11/sign",
        &lars,
        "",
    )
    .await;

    // One vehicle's PDF: the full purpose, the driver by name, both signatures.
    let (status, head, pdf) = get(
        &app,
        "/api/v1/vehicles/EK12345/driving-log?month=2026-11&format=pdf",
        &lars,
    )
    .await;
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("application/pdf"), "{head}");
    assert!(pdf.starts_with(b"%PDF-"));
    if let Some(text) = pdftotext(&pdf) {
        let flat = squash(&text);
        for needle in [
            PURPOSE,
            "Kari Nordmann",
            "Signaturer",
            "Kjørebokfører",
            "kari",
            "lars",
            "signert av sjåfør og kjørebokfører",
            "(norsk tid)",
        ] {
            assert!(flat.contains(needle), "the PDF lacks {needle:?}:\n{text}");
        }
    }

    // The year's PDF carries every month's signatures.
    let (status, _, pdf) = get(
        &app,
        "/api/v1/vehicles/EK12345/driving-log?month=2026&format=pdf",
        &lars,
    )
    .await;
    assert_eq!(status, 200);
    if let Some(text) = pdftotext(&pdf) {
        let flat = squash(&text);
        for needle in [
            "1 av 12 måneder signert av kjørebokføreren",
            "november 2026 Sjåfør Kari Nordmann (1001) kari",
            "november 2026 Kjørebokfører – lars",
        ] {
            assert!(
                flat.contains(needle),
                "the year's PDF lacks {needle:?}:\n{text}"
            );
        }
    }

    // Every vehicle's month in one ZIP.
    let (status, head, zip) =
        get(&app, "/api/v1/driving-log?month=2026-11&format=zip", &lars).await;
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("kjorebok-alle-2026-11.zip"), "{head}");
    let files = unzip(&zip);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    for want in [
        "LESMEG.txt",
        "turer.csv",
        "sammendrag.csv",
        "avvik.csv",
        "kjorebok-alle-2026-11.xlsx",
        "pdf/kjorebok-EK12345-2026-11.pdf",
    ] {
        assert!(names.contains(&want), "{want} in {names:?}");
    }
    let trips = &files
        .iter()
        .find(|(n, _)| n == "turer.csv")
        .expect("trips")
        .1;
    assert!(trips.starts_with(b"\xef\xbb\xbf"), "CSV for Excel: a BOM");
    let trips = String::from_utf8(trips.clone()).expect("utf-8");
    assert!(
        trips.contains(";12,5;Kilometerteller;1001;Kari Nordmann;Yrke;"),
        "{trips}"
    );
    let summary = &files
        .iter()
        .find(|(n, _)| n == "sammendrag.csv")
        .expect("summary")
        .1;
    let summary = String::from_utf8_lossy(summary);
    assert!(
        summary.contains("EK12345;varebil;2026-11;1;1;12,5;"),
        "{summary}"
    );

    // The tax year per employee, for machines; the payroll file, for Excel.
    let (status, _, csv) = get(
        &app,
        "/api/v1/tax-year?month=2026&format=csv&dialect=rfc4180&part=per-employee",
        &lars,
    )
    .await;
    assert_eq!(status, 200);
    let csv = String::from_utf8(csv).expect("utf-8");
    assert!(
        csv.starts_with("year,employee_number,employee_name,vehicles,business_km,private_km"),
        "{csv}"
    );
    assert!(
        csv.contains("2026,1001,Kari Nordmann,EK12345,12.5,0.0,0,0.0,10,1000.0,true,39987.5,false"),
        "{csv}"
    );
    let (status, _, csv) = get(&app, "/api/v1/payroll?month=2026-11&format=csv", &lars).await;
    assert_eq!(status, 200);
    let csv = String::from_utf8(csv).expect("utf-8");
    assert!(csv.starts_with('\u{feff}'));
    assert!(
        csv.contains("2026-11;1001;Kari Nordmann;EK12345;varebil;0,0;0;12,5;"),
        "{csv}"
    );
    let (status, _, json) = get(&app, "/api/v1/payroll?month=2026-11", &lars).await;
    assert_eq!(status, 200);
    let json: serde_json::Value = serde_json::from_slice(&json).expect("json");
    assert_eq!(json["payroll"][0]["employee_number"], "1001");
    assert_eq!(json["payroll"][0]["private_km"], 0.0);

    // The driver downloads her own month, in English for a change.
    let (status, _, own) = get(
        &app,
        "/api/v1/vehicles/EK12345/driving-log?month=2026-11&format=csv&lang=en",
        &kari,
    )
    .await;
    assert_eq!(status, 200);
    let own = String::from_utf8(own).expect("utf-8");
    assert!(own.starts_with("\u{feff}Vehicle;Trip id;Date;"), "{own}");
    assert!(
        own.contains(";Odometer;1001;Kari Nordmann;Business;"),
        "{own}"
    );

    // Bad requests say what to fix.
    for (path, says) in [
        (
            "/api/v1/driving-log?month=2026-11&format=docx",
            "format is json, pdf, csv, xlsx or zip",
        ),
        ("/api/v1/driving-log?month=2026", "per month, YYYY-MM"),
        (
            "/api/v1/tax-year?month=2026&format=csv&part=nope",
            "part is one of per-vehicle, per-employee",
        ),
        ("/api/v1/payroll?month=2026-13", "a period is YYYY-MM"),
        (
            "/api/v1/payroll?month=2026&format=csv&dialect=tsv",
            "a CSV dialect is excel",
        ),
        (
            "/api/v1/driving-log?month=2026-11&format=pdf",
            "for several vehicles ask for zip",
        ),
    ] {
        let (status, _, body) = get(&app, path, &lars).await;
        let body = String::from_utf8_lossy(&body);
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body.contains(says), "{path}: {body}");
    }

    // A driver cannot read every vehicle; the refusal is on the ledger.
    let (status, _, body) = get(&app, "/api/v1/driving-log?month=2026-11&format=zip", &kari).await;
    assert_eq!(status, 403, "{}", String::from_utf8_lossy(&body));
    let entries = storage::open(app.data())
        .expect("open")
        .audit_entries()
        .expect("ledger");
    let exports: Vec<&str> = entries
        .iter()
        .filter(|e| e.entry.actor == "lars" && e.entry.action == ledger::Action::Export)
        .map(|e| e.entry.object.as_str())
        .collect();
    assert!(
        exports.contains(&"driving log, all vehicles 2026-11 (zip)"),
        "{exports:?}"
    );
    assert!(
        exports
            .iter()
            .any(|o| o.starts_with("payroll private km 2026-11"))
    );
    assert!(entries.iter().any(|e| e.entry.actor == "kari"
        && e.entry.action == ledger::Action::Denied
        && e.entry.object.contains("all vehicles")));

    // The same from the command line, as the keeper.
    let data = app.data().to_str().expect("utf-8 path").to_owned();
    let out = app.data().join("november.xlsx");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_sporvern"))
        .args([
            "drivinglog",
            "export-all",
            "--data",
            &data,
            "--month",
            "2026-11",
            "--format",
            "xlsx",
            "--as",
            "lars",
            "--out",
        ])
        .arg(&out)
        .output()
        .expect("run sporvern");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let xlsx = std::fs::read(&out).expect("the workbook");
    assert!(xlsx.starts_with(b"PK"), "an XLSX is a ZIP");
    assert!(unzip(&xlsx).iter().any(|(n, _)| n == "xl/workbook.xml"));
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_sporvern"))
        .args([
            "drivinglog",
            "tax-year",
            "--data",
            &data,
            "--year",
            "2026",
            "--dialect",
            "rfc4180",
            "--as",
            "lars",
        ])
        .output()
        .expect("run sporvern");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("2026,EK12345,van,12.5,0.0,0,0.0,10,1000.0,true,39987.5,false"),
        "{text}"
    );
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_sporvern"))
        .args([
            "drivinglog",
            "export-all",
            "--data",
            &data,
            "--month",
            "2026-11",
            "--as",
            "kari",
        ])
        .output()
        .expect("run sporvern");
    assert!(
        !o.status.success(),
        "a driver is refused on the command line too"
    );
}
