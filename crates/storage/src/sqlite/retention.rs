//! Retention: the dry-run plan and the run, with receipts.

use domain::Timestamp;
use rusqlite::{Connection, params};

use super::db_err;
use crate::{PlannedDeletion, Receipt, RetentionPolicy, StoreError};

const DRIVING_LOG_RULE: &str =
    "bokføringsloven § 13 (2): kept to the end of the fiscal year + 5 years";
const ALARM_RULE: &str = "alarm positions: kept 30 days after the window is resolved, 365 for a recorded incident (GDPR art. 5(1)(e))";
const PRIVACY_RULE: &str =
    "privacy switches: kept 90 days for the driver to see, then deleted (GDPR art. 5(1)(e))";

const ENDED_RULE: &str = "the measure has ended: its data is deleted (arbeidsmiljøloven § 9-2 (3); GDPR art. 5(1)(e) and 17)";
const ALARM_WINDOW_RULE: &str = "alarm windows (when and why): deleted with their positions, 30 days after resolution, 365 for a recorded incident (GDPR art. 5(1)(e))";
const OPEN_ALARM_RULE: &str = "alarm window still open: kept while open; deleted 30 days after it is resolved, 365 if marked as an incident (GDPR art. 5(1)(e))";
const SIGNOFF_RULE: &str = "a month's review steps (signatures, comments) go with its driving log: bokføringsloven § 13 (2), the end of the fiscal year + 5 years";
const CLASS_RULE: &str = "trip classifications and driver corrections go with their trip: bokføringsloven § 13 (2), the end of the fiscal year + 5 years";
pub(super) const STAGING_CONSUMED_RULE: &str = "raw fixes the purposes have consumed: deleted after the trip builder's window for late data (6 hours by default); raw fixes are never a product (GDPR art. 5(1)(c) and (e))";
pub(super) const STAGING_LIFETIME_RULE: &str = "raw fixes not yet consumed: deleted at the staging lifetime whatever happened (72 hours by default, at most 7 days; GDPR art. 5(1)(e))";
pub(super) const UTILIZATION_RULE: &str = "utilisation facts (no driver, coarse cells): kept until their ISO week is released as anonymous aggregates, the Monday after at noon, then deleted (GDPR art. 5(1)(e) and 89)";
const LEDGER_RULE: &str = "audit ledger: metadata only (who, role, purpose, employee numbers, what, when, outcome), never the data itself; append-only and hash-chained, so retention keeps it: it is how every access is shown to have followed the rules (GDPR art. 5(2) and 24)";

/// Records a deletion made outside a retention run (the staging purge, a weekly release):
/// one receipt per kind and day, its count growing with each purge.
pub(super) fn add_receipt(
    conn: &Connection,
    now: Timestamp,
    kind: &str,
    count: u64,
    rule: &str,
) -> Result<(), StoreError> {
    if count == 0 {
        return Ok(());
    }
    let day = 86_400_000i64;
    let n = conn
        .execute(
            "UPDATE retention_receipt SET count = count + ?1, at = ?2
             WHERE id = (SELECT MAX(id) FROM retention_receipt WHERE kind = ?3 AND rule = ?4 AND at / ?5 = ?2 / ?5)",
            params![count as i64, now.millis(), kind, rule, day],
        )
        .map_err(db_err)?;
    if n == 0 {
        conn.execute(
            "INSERT INTO retention_receipt (at, kind, count, rule) VALUES (?1, ?2, ?3, ?4)",
            params![now.millis(), kind, count as i64, rule],
        )
        .map_err(db_err)?;
    }
    Ok(())
}

/// `(due date, count)` rows of a query that selects `date(...)` and `COUNT(*)`.
fn due_counts(
    conn: &Connection,
    sql: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<(time::Date, u64)>, StoreError> {
    let mut stmt = conn.prepare(sql).map_err(db_err)?;
    let rows = stmt
        .query_map(args, |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .map_err(db_err)?;
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let mut out = Vec::new();
    for row in rows {
        let (d, n) = row.map_err(db_err)?;
        let d = time::Date::parse(&d, &fmt)
            .map_err(|_| StoreError::Corrupt(format!("a due date {d:?}")))?;
        out.push((d, n as u64));
    }
    Ok(out)
}

fn date_of(t: Timestamp) -> Result<time::Date, StoreError> {
    t.to_offset_date_time()
        .map(|d| d.date())
        .ok_or_else(|| StoreError::Corrupt(format!("time {t} out of range")))
}

fn jan1(year: i32) -> Result<time::Date, StoreError> {
    time::Date::from_calendar_date(year, time::Month::January, 1)
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// The first day a driving-log entry dated in `year` may be deleted.
fn driving_log_due(year: i32, policy: &RetentionPolicy) -> Result<time::Date, StoreError> {
    jan1(year + 1 + policy.driving_log_years)
}

pub fn plan(
    conn: &Connection,
    policy: &RetentionPolicy,
    now: Timestamp,
) -> Result<Vec<PlannedDeletion>, StoreError> {
    let _ = now;
    let mut out = Vec::new();
    for (table, kind) in [
        ("trip", "driving_log_trip"),
        ("deviation", "driving_log_deviation"),
    ] {
        let mut stmt = conn
            .prepare(&format!("SELECT CAST(substr(local_date, 1, 4) AS INTEGER), COUNT(*) FROM {table} GROUP BY 1 ORDER BY 1"))
            .map_err(db_err)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
            .map_err(db_err)?;
        for row in rows {
            let (year, count) = row.map_err(db_err)?;
            out.push(PlannedDeletion {
                kind,
                due: Some(driving_log_due(
                    i32::try_from(year).unwrap_or(i32::MAX - 10),
                    policy,
                )?),
                count: count as u64,
                rule: DRIVING_LOG_RULE,
            });
        }
    }
    for (sql, kind, rule) in [
        (
            "SELECT CAST(substr(t.local_date, 1, 4) AS INTEGER), COUNT(*) FROM trip_class c JOIN trip t ON t.id = c.trip_id GROUP BY 1 ORDER BY 1",
            "driving_log_classification",
            CLASS_RULE,
        ),
        (
            "SELECT CAST(substr(t.local_date, 1, 4) AS INTEGER), COUNT(*) FROM trip_driver_correction c JOIN trip t ON t.id = c.trip_id GROUP BY 1 ORDER BY 1",
            "driving_log_driver_correction",
            CLASS_RULE,
        ),
        (
            "SELECT CAST(substr(month, 1, 4) AS INTEGER), COUNT(*) FROM month_step GROUP BY 1 ORDER BY 1",
            "driving_log_signoff",
            SIGNOFF_RULE,
        ),
    ] {
        let mut stmt = conn.prepare(sql).map_err(db_err)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
            .map_err(db_err)?;
        for row in rows {
            let (year, count) = row.map_err(db_err)?;
            out.push(PlannedDeletion {
                kind,
                due: Some(driving_log_due(
                    i32::try_from(year).unwrap_or(i32::MAX - 10),
                    policy,
                )?),
                count: count as u64,
                rule,
            });
        }
    }
    let hour = 3_600_000i64;
    let cursor = "(SELECT last_staged_id FROM purpose_cursor WHERE id = 1)";
    for (sql, hours, kind, rule) in [
        (
            format!(
                "SELECT date((received_at + ?1) / 1000, 'unixepoch'), COUNT(*) FROM staged_fix WHERE id <= {cursor} GROUP BY 1 ORDER BY 1"
            ),
            policy.staging_consumed_hours,
            "staged_fix",
            STAGING_CONSUMED_RULE,
        ),
        (
            format!(
                "SELECT date((received_at + ?1) / 1000, 'unixepoch'), COUNT(*) FROM staged_fix WHERE id > {cursor} GROUP BY 1 ORDER BY 1"
            ),
            policy.staging_lifetime_hours,
            "staged_fix",
            STAGING_LIFETIME_RULE,
        ),
        (
            "SELECT date((received_at + ?1) / 1000, 'unixepoch'), COUNT(*) FROM staged_set_aside GROUP BY 1 ORDER BY 1"
                .to_owned(),
            policy.staging_lifetime_hours,
            "staged_set_aside",
            STAGING_LIFETIME_RULE,
        ),
    ] {
        for (due, count) in due_counts(conn, &sql, &[&(hours * hour)])? {
            out.push(PlannedDeletion {
                kind,
                due: Some(due),
                count,
                rule,
            });
        }
    }
    let day = 86_400_000i64;
    let kept_until = "resolved_at + (CASE incident WHEN 1 THEN ?2 ELSE ?1 END) * ?3";
    for (sql, kind, rule) in [
        (
            format!(
                "SELECT date(({kept_until}) / 1000, 'unixepoch'), COUNT(*) FROM alarm_position p JOIN alarm_window w ON w.id = p.window_id WHERE resolved_at IS NOT NULL GROUP BY 1 ORDER BY 1"
            ),
            "alarm_position",
            ALARM_RULE,
        ),
        (
            format!(
                "SELECT date(({kept_until}) / 1000, 'unixepoch'), COUNT(*) FROM alarm_window WHERE resolved_at IS NOT NULL AND incident = 0 GROUP BY 1 ORDER BY 1"
            ),
            "alarm_window",
            ALARM_WINDOW_RULE,
        ),
        (
            format!(
                "SELECT date(({kept_until}) / 1000, 'unixepoch'), COUNT(*) FROM alarm_window WHERE resolved_at IS NOT NULL AND incident = 1 GROUP BY 1 ORDER BY 1"
            ),
            "alarm_incident",
            ALARM_WINDOW_RULE,
        ),
    ] {
        for (due, count) in due_counts(
            conn,
            &sql,
            &[&policy.alarm_days, &policy.alarm_incident_days, &day],
        )? {
            out.push(PlannedDeletion {
                kind,
                due: Some(due),
                count,
                rule,
            });
        }
    }
    for (sql, kind) in [
        (
            "SELECT COUNT(*) FROM alarm_window WHERE resolved_at IS NULL",
            "alarm_window",
        ),
        (
            "SELECT COUNT(*) FROM alarm_position p JOIN alarm_window w ON w.id = p.window_id WHERE w.resolved_at IS NULL",
            "alarm_position",
        ),
    ] {
        let count: i64 = conn.query_row(sql, [], |r| r.get(0)).map_err(db_err)?;
        if count > 0 {
            out.push(PlannedDeletion {
                kind,
                due: None,
                count: count as u64,
                rule: OPEN_ALARM_RULE,
            });
        }
    }
    // A week's facts are released the Monday after it (at noon), and deleted with it.
    for (due, count) in due_counts(
        conn,
        "SELECT date(start_time / 1000, 'unixepoch', '+1 day', 'weekday 1'), COUNT(*) FROM utilization_fact GROUP BY 1 ORDER BY 1",
        &[],
    )? {
        out.push(PlannedDeletion {
            kind: "utilization_fact",
            due: Some(due),
            count,
            rule: UTILIZATION_RULE,
        });
    }
    let entries: i64 = conn
        .query_row("SELECT COUNT(*) FROM audit_entry", [], |r| r.get(0))
        .map_err(db_err)?;
    if entries > 0 {
        out.push(PlannedDeletion {
            kind: "audit_entry",
            due: None,
            count: entries as u64,
            rule: LEDGER_RULE,
        });
    }
    let day_ms = 86_400_000i64;
    let mut stmt = conn
        .prepare("SELECT at / ?1, COUNT(*) FROM privacy_switch GROUP BY 1 ORDER BY 1")
        .map_err(db_err)?;
    let rows = stmt
        .query_map([day_ms], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
        .map_err(db_err)?;
    for row in rows {
        let (day, count) = row.map_err(db_err)?;
        let due = date_of(Timestamp::from_millis(
            (day + 1 + policy.privacy_switch_days) * day_ms,
        ))?;
        out.push(PlannedDeletion {
            kind: "privacy_switch",
            due: Some(due),
            count: count as u64,
            rule: PRIVACY_RULE,
        });
    }
    let today = date_of(now)?;
    for (purpose, table, kind) in [
        (org::Purpose::Alarm, "alarm_position", "alarm_position"),
        (
            org::Purpose::Utilization,
            "utilization_fact",
            "utilization_fact",
        ),
    ] {
        if !policy.ended.contains(&purpose) {
            continue;
        }
        let count: i64 = conn
            .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
            .map_err(db_err)?;
        if count > 0 {
            out.push(PlannedDeletion {
                kind,
                due: Some(today),
                count: count as u64,
                rule: ENDED_RULE,
            });
        }
    }
    // By date; what is kept comes last.
    out.sort_by(|a, b| {
        (a.due.is_none(), a.due, a.kind, a.rule).cmp(&(b.due.is_none(), b.due, b.kind, b.rule))
    });
    Ok(out)
}

pub fn run(
    conn: &mut Connection,
    policy: &RetentionPolicy,
    now: Timestamp,
) -> Result<Vec<Receipt>, StoreError> {
    let today = date_of(now)?;
    // Entries dated before this day's year minus the retention are past their time.
    let keep_from_year = today.year() - 1 - policy.driving_log_years;
    let cutoff = jan1(keep_from_year + 1)?.to_string();
    let switch_cutoff = now.millis() - policy.privacy_switch_days * 86_400_000;
    let tx = conn.transaction().map_err(db_err)?;
    tx.execute("UPDATE retention_gate SET open = 1 WHERE id = 1", [])
        .map_err(db_err)?;
    let corrections = tx
        .execute(
            "DELETE FROM trip_driver_correction WHERE trip_id IN (SELECT id FROM trip WHERE local_date < ?1)",
            [&cutoff],
        )
        .map_err(db_err)?;
    let classes = tx
        .execute(
            "DELETE FROM trip_class WHERE trip_id IN (SELECT id FROM trip WHERE local_date < ?1)",
            [&cutoff],
        )
        .map_err(db_err)?;
    let trips = tx
        .execute("DELETE FROM trip WHERE local_date < ?1", [&cutoff])
        .map_err(db_err)?;
    // The months' review steps go with their driving log.
    let signoffs = tx
        .execute(
            "DELETE FROM month_step WHERE month < substr(?1, 1, 7)",
            [&cutoff],
        )
        .map_err(db_err)?;
    let deviations = tx
        .execute("DELETE FROM deviation WHERE local_date < ?1", [&cutoff])
        .map_err(db_err)?;
    let switches = tx
        .execute("DELETE FROM privacy_switch WHERE at < ?1", [switch_cutoff])
        .map_err(db_err)?;
    let day = 86_400_000i64;
    let alarm_positions = tx
        .execute(
            "DELETE FROM alarm_position WHERE window_id IN (SELECT id FROM alarm_window WHERE resolved_at IS NOT NULL
               AND resolved_at + (CASE incident WHEN 1 THEN ?2 ELSE ?1 END) * ?3 <= ?4)",
            params![policy.alarm_days, policy.alarm_incident_days, day, now.millis()],
        )
        .map_err(db_err)?;
    // The windows themselves (when, why) go with their positions.
    let mut windows = [0usize; 2];
    for (incident, n) in windows.iter_mut().enumerate() {
        *n = tx
            .execute(
                "DELETE FROM alarm_window WHERE incident = ?5 AND resolved_at IS NOT NULL
                   AND resolved_at + (CASE incident WHEN 1 THEN ?2 ELSE ?1 END) * ?3 <= ?4
                   AND NOT EXISTS (SELECT 1 FROM alarm_position p WHERE p.window_id = alarm_window.id)",
                params![
                    policy.alarm_days,
                    policy.alarm_incident_days,
                    day,
                    now.millis(),
                    incident as i64
                ],
            )
            .map_err(db_err)?;
    }
    // An ended measure's data goes now (the driving log excepted: bokføringsloven keeps it).
    let (mut ended_alarm, mut ended_facts) = (0, 0);
    if policy.ended.contains(&org::Purpose::Alarm) {
        tx.execute(
            "UPDATE alarm_window SET resolved_at = ?1, resolved_by = 'measure ended' WHERE resolved_at IS NULL",
            [now.millis()],
        )
        .map_err(db_err)?;
        ended_alarm = tx
            .execute("DELETE FROM alarm_position", [])
            .map_err(db_err)?;
    }
    if policy.ended.contains(&org::Purpose::Utilization) {
        ended_facts = tx
            .execute("DELETE FROM utilization_fact", [])
            .map_err(db_err)?;
    }
    tx.execute("UPDATE retention_gate SET open = 0 WHERE id = 1", [])
        .map_err(db_err)?;
    let mut receipts = Vec::new();
    for (kind, count, rule) in [
        ("driving_log_trip", trips, DRIVING_LOG_RULE),
        ("driving_log_classification", classes, CLASS_RULE),
        ("driving_log_driver_correction", corrections, CLASS_RULE),
        ("driving_log_signoff", signoffs, SIGNOFF_RULE),
        ("driving_log_deviation", deviations, DRIVING_LOG_RULE),
        ("privacy_switch", switches, PRIVACY_RULE),
        ("alarm_position", alarm_positions, ALARM_RULE),
        ("alarm_window", windows[0], ALARM_WINDOW_RULE),
        ("alarm_incident", windows[1], ALARM_WINDOW_RULE),
        ("alarm_position", ended_alarm, ENDED_RULE),
        ("utilization_fact", ended_facts, ENDED_RULE),
    ] {
        if count == 0 {
            continue;
        }
        tx.execute(
            "INSERT INTO retention_receipt (at, kind, count, rule) VALUES (?1, ?2, ?3, ?4)",
            params![now.millis(), kind, count as i64, rule],
        )
        .map_err(db_err)?;
        receipts.push(Receipt {
            at: now,
            kind: kind.to_owned(),
            count: count as u64,
            rule: rule.to_owned(),
        });
    }
    tx.commit().map_err(db_err)?;
    Ok(receipts)
}

pub fn receipts(conn: &Connection) -> Result<Vec<Receipt>, StoreError> {
    let mut stmt = conn
        .prepare("SELECT at, kind, count, rule FROM retention_receipt ORDER BY id")
        .map_err(db_err)?;
    let rows = stmt
        .query_map([], |r| {
            Ok(Receipt {
                at: Timestamp::from_millis(r.get(0)?),
                kind: r.get(1)?,
                count: r.get::<_, i64>(2)? as u64,
                rule: r.get(3)?,
            })
        })
        .map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}
