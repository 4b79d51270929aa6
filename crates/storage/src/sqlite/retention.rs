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
                due: driving_log_due(i32::try_from(year).unwrap_or(i32::MAX - 10), policy)?,
                count: count as u64,
                rule: DRIVING_LOG_RULE,
            });
        }
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
            due,
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
                due: today,
                count: count as u64,
                rule: ENDED_RULE,
            });
        }
    }
    out.sort_by(|a, b| (a.due, a.kind).cmp(&(b.due, b.kind)));
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
    tx.execute(
        "DELETE FROM trip_class WHERE trip_id IN (SELECT id FROM trip WHERE local_date < ?1)",
        [&cutoff],
    )
    .map_err(db_err)?;
    let trips = tx
        .execute("DELETE FROM trip WHERE local_date < ?1", [&cutoff])
        .map_err(db_err)?;
    // The months' review steps go with their driving log.
    tx.execute(
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
        ("driving_log_deviation", deviations, DRIVING_LOG_RULE),
        ("privacy_switch", switches, PRIVACY_RULE),
        ("alarm_position", alarm_positions, ALARM_RULE),
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
