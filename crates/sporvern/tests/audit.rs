//! The audit ledger from the command line: every read and change made through the CLI lands
//! on it, and `sporvern audit verify` names the first entry that was edited, removed,
//! reordered or cut off — even when the tamperer removed the append-only triggers first.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn sporvern(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sporvern"))
        .args(args)
        .output()
        .expect("run sporvern")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The register changes `org apply` makes for the example: one generated measure per vehicle
/// purpose (driving log, fleet view, alarm, utilisation), each on the ledger.
const ORG_APPLY_ENTRIES: usize = 4;

/// A data folder whose ledger holds the register's entries from `org apply`, the example users
/// and five entries from ordinary CLI use.
fn ledger_with_entries() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().to_str().expect("utf8");
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/org.toml");
    assert!(
        sporvern(&["org", "apply", "--data", data, example])
            .status
            .success()
    );
    common::add_example_users(data);
    for args in [
        vec![
            "drivinglog",
            "export",
            "--vehicle",
            "EK 12345",
            "--month",
            "2026-11",
            "--as",
            "kari",
        ],
        vec!["privacy", "on", "--vehicle", "EK 12345", "--as", "kari"],
        vec![
            "privacy",
            "history",
            "--vehicle",
            "EK 12345",
            "--as",
            "kari",
        ],
        vec!["alarm", "list", "--as", "vakt"],
        vec!["privacy", "off", "--vehicle", "EK 12345", "--as", "kari"],
    ] {
        let mut full = args.clone();
        full.extend(["--data", data]);
        let o = sporvern(&full);
        assert!(o.status.success(), "{args:?}: {}", text(&o.stderr));
    }
    dir
}

fn sql(dir: &Path, statements: &str) {
    let conn = rusqlite::Connection::open(dir.join("sporvern.db")).expect("db");
    conn.execute_batch(statements).expect("tamper");
}

fn verify(dir: &Path, checkpoint: Option<&Path>) -> (bool, String) {
    let data = dir.to_str().expect("utf8");
    let mut args = vec!["audit", "verify", "--data", data];
    if let Some(c) = checkpoint {
        args.extend(["--checkpoint", c.to_str().expect("utf8")]);
    }
    let o = sporvern(&args);
    (o.status.success(), text(&o.stdout) + &text(&o.stderr))
}

const UNLOCK: &str = "DROP TRIGGER audit_entry_no_update; DROP TRIGGER audit_entry_no_delete;";

#[test]
fn every_cli_access_is_on_the_ledger_and_it_verifies() {
    let dir = ledger_with_entries();
    let data = dir.path().to_str().expect("utf8");
    let list = text(&sporvern(&["audit", "list", "--data", data]).stdout);
    // Each change to the organisation, the register's measures from `org apply`, three users
    // added, then five reads and changes.
    let org = list
        .lines()
        .take_while(|l| l.contains("purpose organisation") && l.contains("config"))
        .count();
    assert!(
        list.lines()
            .take(org)
            .any(|l| l.contains("+ vehicle EK12345"))
            && list
                .lines()
                .take(org)
                .any(|l| l.contains("+ employee 1001")),
        "{list}"
    );
    assert_eq!(
        list.lines().count(),
        org + ORG_APPLY_ENTRIES + 3 + 5,
        "{list}"
    );
    assert!(
        list.lines()
            .skip(org)
            .take(ORG_APPLY_ENTRIES)
            .all(|l| l.contains("register vehicle.") && l.contains("change")),
        "{list}"
    );
    let first = list
        .lines()
        .nth(org + ORG_APPLY_ENTRIES + 3)
        .expect("an entry");
    assert!(
        first.contains("kari")
            && first.contains("driving_log")
            && first.contains("subject 1001")
            && first.contains("export"),
        "{first}"
    );
    let (ok, out) = verify(dir.path(), None);
    assert!(ok, "{out}");
    assert!(
        out.contains(&format!("intact: {} entries", list.lines().count())),
        "{out}"
    );
    // The triggers refuse an edit made through SQLite without removing them.
    let conn = rusqlite::Connection::open(dir.path().join("sporvern.db")).expect("db");
    assert!(
        conn.execute("UPDATE audit_entry SET actor = 'x'", [])
            .is_err()
    );
    assert!(conn.execute("DELETE FROM audit_entry", []).is_err());
}

#[test]
fn an_edited_entry_is_named() {
    let dir = ledger_with_entries();
    sql(
        dir.path(),
        &format!("{UNLOCK} UPDATE audit_entry SET actor = 'someone else' WHERE seq = 2;"),
    );
    let (ok, out) = verify(dir.path(), None);
    assert!(!ok);
    assert!(out.contains("audit entry 2 was edited"), "{out}");
}

#[test]
fn a_removed_entry_is_named() {
    let dir = ledger_with_entries();
    sql(
        dir.path(),
        &format!("{UNLOCK} DELETE FROM audit_entry WHERE seq = 1;"),
    );
    let (ok, out) = verify(dir.path(), None);
    assert!(!ok);
    assert!(out.contains("audit entry 1 is missing"), "{out}");
}

#[test]
fn reordered_entries_are_named() {
    let dir = ledger_with_entries();
    // Swap the contents of entries 1 and 3, numbers and all, as a careful tamperer would.
    sql(
        dir.path(),
        &format!(
            "{UNLOCK}
             UPDATE audit_entry SET seq = -1 WHERE seq = 1;
             UPDATE audit_entry SET seq = 1 WHERE seq = 3;
             UPDATE audit_entry SET seq = 3 WHERE seq = -1;"
        ),
    );
    let (ok, out) = verify(dir.path(), None);
    assert!(!ok);
    assert!(out.contains("entry 1"), "{out}");
}

#[test]
fn a_truncated_ledger_is_caught_by_a_checkpoint() {
    let dir = ledger_with_entries();
    let cp = dir.path().join("checkpoint.txt");
    let data = dir.path().to_str().expect("utf8");
    let total = text(&sporvern(&["audit", "list", "--data", data]).stdout)
        .lines()
        .count();
    assert!(
        sporvern(&[
            "audit",
            "checkpoint",
            "--data",
            data,
            cp.to_str().expect("utf8")
        ])
        .status
        .success()
    );
    assert!(
        std::fs::read_to_string(&cp)
            .expect("checkpoint")
            .starts_with(&format!("sporvern-ledger-checkpoint v1\nsize {total}\n"))
    );
    sql(
        dir.path(),
        &format!("{UNLOCK} DELETE FROM audit_entry WHERE seq >= 3;"),
    );
    let (plain_ok, _) = verify(dir.path(), None);
    assert!(plain_ok, "without a checkpoint a cut tail cannot be seen");
    let (ok, out) = verify(dir.path(), Some(&cp));
    assert!(!ok);
    assert!(
        out.contains(&format!("checkpoint covers {total} entries, only 3 remain")),
        "{out}"
    );
}

#[tokio::test]
async fn the_server_verifies_the_ledger_and_writes_checkpoints_that_catch_a_cut() {
    let checkpoints = tempfile::tempdir().expect("tempdir");
    let dir = checkpoints.path().to_path_buf();
    let app = common::spawn_app(|s| {
        s.ledger_checkpoint_dir = dir.clone();
        s.ledger_checkpoint_every = std::time::Duration::from_millis(200);
    })
    .await;
    let token = common::user_token(&app, "kari", "employee", Some("1001")).await;
    for _ in 0..3 {
        let (status, _) = common::http(
            app.http,
            "GET",
            "/api/v1/me/ledger",
            &[("Authorization", &format!("Bearer {token}"))],
            b"",
        )
        .await
        .expect("answer");
        assert_eq!(status, 200);
    }
    let store = storage::open(app.data()).expect("open");
    let size = store.audit_entries().expect("ledger").len();
    let mut written = Vec::new();
    for _ in 0..50 {
        written = std::fs::read_dir(checkpoints.path())
            .expect("dir")
            .map(|e| e.expect("entry").file_name().into_string().expect("utf8"))
            .collect();
        if written.contains(&format!("head-{size:012}.txt")) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        written.contains(&format!("head-{size:012}.txt")),
        "a checkpoint of all {size} entries: {written:?}"
    );
    // Someone with the database file removes the last entries (and the triggers first).
    sql(
        app.data(),
        &format!("{UNLOCK} DELETE FROM audit_entry WHERE seq >= 1;"),
    );
    let err =
        server::checkpoint_once(store.as_ref(), checkpoints.path()).expect_err("the cut is found");
    assert!(err.to_string().contains("tampered"), "{err}");
    // The server's next round finds it too, and the privacy officer's ledger view says so.
    let pvo = common::user_token(&app, "pvo", "privacy_officer", None).await;
    let mut verification = serde_json::Value::Null;
    for _ in 0..50 {
        let (status, body) = common::http(
            app.http,
            "GET",
            "/api/v1/ledger",
            &[("Authorization", &format!("Bearer {pvo}"))],
            b"",
        )
        .await
        .expect("answer");
        assert_eq!(status, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).expect("json");
        verification = v["verification"].clone();
        if verification["intact"] == false {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(verification["intact"], false, "{verification}");
    assert!(
        verification["problem"]
            .as_str()
            .is_some_and(|p| p.contains("tampered")),
        "{verification}"
    );
}
