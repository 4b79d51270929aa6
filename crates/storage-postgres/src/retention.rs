//! Retention: the dry-run plan and the run, with receipts. The rules' texts are the embedded
//! backend's, word for word: a receipt says the same whichever database wrote it.

use domain::Timestamp;
use storage::{PlannedDeletion, Receipt, RetentionPolicy, StoreError};
use tokio_postgres::{Client, GenericClient};

use crate::{block_on, db_err, execute, get, query, query_one};

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
pub(crate) const STAGING_CONSUMED_RULE: &str = "raw fixes the purposes have consumed: deleted after the trip builder's window for late data (6 hours by default); raw fixes are never a product (GDPR art. 5(1)(c) and (e))";
pub(crate) const STAGING_LIFETIME_RULE: &str = "raw fixes not yet consumed: deleted at the staging lifetime whatever happened (72 hours by default, at most 7 days; GDPR art. 5(1)(e))";
pub(crate) const UTILIZATION_RULE: &str = "utilisation facts (no driver, coarse cells): kept until their ISO week is released as anonymous aggregates, the Monday after at noon, then deleted (GDPR art. 5(1)(e) and 89)";
const LEDGER_RULE: &str = "audit ledger: metadata only (who, role, purpose, employee numbers, what, when, outcome), never the data itself; append-only and hash-chained, so retention keeps it: it is how every access is shown to have followed the rules (GDPR art. 5(2) and 24)";

const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;

/// SQL: the UTC date of a time in milliseconds (SQLite's `date(x / 1000, 'unixepoch')`).
fn utc_date(ms: &str) -> String {
    format!("(to_timestamp(({ms}) / 1000.0) AT TIME ZONE 'UTC')::date")
}

/// Records a deletion made outside a retention run (the staging purge, a weekly release):
/// one receipt per kind and day, its count growing with each purge.
pub(crate) fn add_receipt<C: GenericClient>(
    c: &C,
    now: Timestamp,
    kind: &str,
    count: u64,
    rule: &str,
) -> Result<(), StoreError> {
    if count == 0 {
        return Ok(());
    }
    let count = i64::try_from(count).unwrap_or(i64::MAX);
    let n = execute(
        c,
        "UPDATE retention_receipt SET count = count + $1, at = $2
         WHERE id = (SELECT MAX(id) FROM retention_receipt
                     WHERE kind = $3 AND rule = $4 AND at / $5 = $2 / $5)",
        &[&count, &now.millis(), &kind, &rule, &DAY_MS],
    )?;
    if n == 0 {
        execute(
            c,
            "INSERT INTO retention_receipt (at, kind, count, rule) VALUES ($1, $2, $3, $4)",
            &[&now.millis(), &kind, &count, &rule],
        )?;
    }
    Ok(())
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

/// `(due date, count)` rows of a query that selects a date and `COUNT(*)`.
fn due_counts<C: GenericClient>(
    c: &C,
    sql: &str,
    args: crate::Params<'_>,
) -> Result<Vec<(time::Date, u64)>, StoreError> {
    query(c, sql, args)?
        .iter()
        .map(|r| Ok((get(r, 0)?, get::<i64>(r, 1)? as u64)))
        .collect()
}

pub(crate) fn plan<C: GenericClient>(
    c: &C,
    policy: &RetentionPolicy,
    now: Timestamp,
) -> Result<Vec<PlannedDeletion>, StoreError> {
    let mut out = Vec::new();
    for (sql, kind, rule) in [
        (
            "SELECT EXTRACT(YEAR FROM local_date)::integer, COUNT(*) FROM trip GROUP BY 1 ORDER BY 1",
            "driving_log_trip",
            DRIVING_LOG_RULE,
        ),
        (
            "SELECT EXTRACT(YEAR FROM local_date)::integer, COUNT(*) FROM deviation GROUP BY 1 ORDER BY 1",
            "driving_log_deviation",
            DRIVING_LOG_RULE,
        ),
        (
            "SELECT EXTRACT(YEAR FROM t.local_date)::integer, COUNT(*) FROM trip_class c
             JOIN trip t ON t.id = c.trip_id GROUP BY 1 ORDER BY 1",
            "driving_log_classification",
            CLASS_RULE,
        ),
        (
            "SELECT EXTRACT(YEAR FROM t.local_date)::integer, COUNT(*) FROM trip_driver_correction c
             JOIN trip t ON t.id = c.trip_id GROUP BY 1 ORDER BY 1",
            "driving_log_driver_correction",
            CLASS_RULE,
        ),
        (
            "SELECT substr(month, 1, 4)::integer, COUNT(*) FROM month_step GROUP BY 1 ORDER BY 1",
            "driving_log_signoff",
            SIGNOFF_RULE,
        ),
    ] {
        for r in query(c, sql, &[])? {
            let year: i32 = get(&r, 0)?;
            let count: i64 = get(&r, 1)?;
            out.push(PlannedDeletion {
                kind,
                due: Some(driving_log_due(year, policy)?),
                count: count as u64,
                rule,
            });
        }
    }
    let cursor = "(SELECT last_staged_id FROM purpose_cursor WHERE id = 1)";
    let received = utc_date("received_at + $1");
    for (sql, hours, kind, rule) in [
        (
            format!(
                "SELECT {received}, COUNT(*) FROM staged_fix WHERE id <= {cursor} GROUP BY 1 ORDER BY 1"
            ),
            policy.staging_consumed_hours,
            "staged_fix",
            STAGING_CONSUMED_RULE,
        ),
        (
            format!(
                "SELECT {received}, COUNT(*) FROM staged_fix WHERE id > {cursor} GROUP BY 1 ORDER BY 1"
            ),
            policy.staging_lifetime_hours,
            "staged_fix",
            STAGING_LIFETIME_RULE,
        ),
        (
            format!("SELECT {received}, COUNT(*) FROM staged_set_aside GROUP BY 1 ORDER BY 1"),
            policy.staging_lifetime_hours,
            "staged_set_aside",
            STAGING_LIFETIME_RULE,
        ),
    ] {
        for (due, count) in due_counts(c, &sql, &[&(hours * HOUR_MS)])? {
            out.push(PlannedDeletion {
                kind,
                due: Some(due),
                count,
                rule,
            });
        }
    }
    let kept_until = utc_date(
        "resolved_at + (CASE WHEN incident THEN $2::bigint ELSE $1::bigint END) * $3::bigint",
    );
    for (sql, kind, rule) in [
        (
            format!(
                "SELECT {kept_until}, COUNT(*) FROM alarm_position p JOIN alarm_window w ON w.id = p.window_id
                 WHERE resolved_at IS NOT NULL GROUP BY 1 ORDER BY 1"
            ),
            "alarm_position",
            ALARM_RULE,
        ),
        (
            format!(
                "SELECT {kept_until}, COUNT(*) FROM alarm_window WHERE resolved_at IS NOT NULL AND NOT incident GROUP BY 1 ORDER BY 1"
            ),
            "alarm_window",
            ALARM_WINDOW_RULE,
        ),
        (
            format!(
                "SELECT {kept_until}, COUNT(*) FROM alarm_window WHERE resolved_at IS NOT NULL AND incident GROUP BY 1 ORDER BY 1"
            ),
            "alarm_incident",
            ALARM_WINDOW_RULE,
        ),
    ] {
        for (due, count) in due_counts(
            c,
            &sql,
            &[&policy.alarm_days, &policy.alarm_incident_days, &DAY_MS],
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
        let count: i64 = get(&query_one(c, sql, &[])?, 0)?;
        if count > 0 {
            out.push(PlannedDeletion {
                kind,
                due: None,
                count: count as u64,
                rule: OPEN_ALARM_RULE,
            });
        }
    }
    // A week's facts are released the Monday after it (at noon), and deleted with it: the
    // first Monday after the day the trip started.
    let start = utc_date("start_time");
    for (due, count) in due_counts(
        c,
        &format!(
            "SELECT d + ((8 - EXTRACT(ISODOW FROM d)::integer) % 7), COUNT(*)
             FROM (SELECT {start} + 1 AS d FROM utilization_fact) f GROUP BY 1 ORDER BY 1"
        ),
        &[],
    )? {
        out.push(PlannedDeletion {
            kind: "utilization_fact",
            due: Some(due),
            count,
            rule: UTILIZATION_RULE,
        });
    }
    let entries: i64 = get(&query_one(c, "SELECT COUNT(*) FROM audit_entry", &[])?, 0)?;
    if entries > 0 {
        out.push(PlannedDeletion {
            kind: "audit_entry",
            due: None,
            count: entries as u64,
            rule: LEDGER_RULE,
        });
    }
    for r in query(
        c,
        "SELECT at / $1, COUNT(*) FROM privacy_switch GROUP BY 1 ORDER BY 1",
        &[&DAY_MS],
    )? {
        let day: i64 = get(&r, 0)?;
        let count: i64 = get(&r, 1)?;
        out.push(PlannedDeletion {
            kind: "privacy_switch",
            due: Some(date_of(Timestamp::from_millis(
                (day + 1 + policy.privacy_switch_days) * DAY_MS,
            ))?),
            count: count as u64,
            rule: PRIVACY_RULE,
        });
    }
    let today = date_of(now)?;
    for (purpose, table) in [
        (org::Purpose::Alarm, "alarm_position"),
        (org::Purpose::Utilization, "utilization_fact"),
    ] {
        if !policy.ended.contains(&purpose) {
            continue;
        }
        let count: i64 = get(
            &query_one(c, &format!("SELECT COUNT(*) FROM {table}"), &[])?,
            0,
        )?;
        if count > 0 {
            out.push(PlannedDeletion {
                kind: table,
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

pub(crate) fn run(
    client: &mut Client,
    policy: &RetentionPolicy,
    now: Timestamp,
) -> Result<Vec<Receipt>, StoreError> {
    let today = date_of(now)?;
    // Entries dated before this day's year minus the retention are past their time.
    let cutoff = jan1(today.year() - policy.driving_log_years)?;
    let switch_cutoff = now.millis() - policy.privacy_switch_days * DAY_MS;
    let tx = block_on(client.transaction()).map_err(db_err)?;
    // The gate is transaction-local: it closes with this transaction, whatever happens.
    execute(
        &tx,
        "SELECT set_config('sporvern.retention_gate', 'open', true)",
        &[],
    )?;
    let corrections = execute(
        &tx,
        "DELETE FROM trip_driver_correction WHERE trip_id IN (SELECT id FROM trip WHERE local_date < $1)",
        &[&cutoff],
    )?;
    let classes = execute(
        &tx,
        "DELETE FROM trip_class WHERE trip_id IN (SELECT id FROM trip WHERE local_date < $1)",
        &[&cutoff],
    )?;
    let trips = execute(&tx, "DELETE FROM trip WHERE local_date < $1", &[&cutoff])?;
    // The months' review steps go with their driving log.
    let signoffs = execute(
        &tx,
        "DELETE FROM month_step WHERE month < to_char($1::date, 'YYYY-MM')",
        &[&cutoff],
    )?;
    let deviations = execute(
        &tx,
        "DELETE FROM deviation WHERE local_date < $1",
        &[&cutoff],
    )?;
    let switches = execute(
        &tx,
        "DELETE FROM privacy_switch WHERE at < $1",
        &[&switch_cutoff],
    )?;
    let due = "resolved_at IS NOT NULL
           AND resolved_at + (CASE WHEN incident THEN $2::bigint ELSE $1::bigint END) * $3::bigint <= $4::bigint";
    let alarm_positions = execute(
        &tx,
        &format!(
            "DELETE FROM alarm_position WHERE window_id IN (SELECT id FROM alarm_window WHERE {due})"
        ),
        &[
            &policy.alarm_days,
            &policy.alarm_incident_days,
            &DAY_MS,
            &now.millis(),
        ],
    )?;
    // The windows themselves (when, why) go with their positions.
    let mut windows = [0u64; 2];
    for (incident, n) in windows.iter_mut().enumerate() {
        *n = execute(
            &tx,
            &format!(
                "DELETE FROM alarm_window WHERE incident = $5 AND {due}
                   AND NOT EXISTS (SELECT 1 FROM alarm_position p WHERE p.window_id = alarm_window.id)"
            ),
            &[
                &policy.alarm_days,
                &policy.alarm_incident_days,
                &DAY_MS,
                &now.millis(),
                &(incident == 1),
            ],
        )?;
    }
    // An ended measure's data goes now (the driving log excepted: bokføringsloven keeps it).
    let (mut ended_alarm, mut ended_facts) = (0, 0);
    if policy.ended.contains(&org::Purpose::Alarm) {
        execute(
            &tx,
            "UPDATE alarm_window SET resolved_at = $1, resolved_by = 'measure ended' WHERE resolved_at IS NULL",
            &[&now.millis()],
        )?;
        ended_alarm = execute(&tx, "DELETE FROM alarm_position", &[])?;
    }
    if policy.ended.contains(&org::Purpose::Utilization) {
        ended_facts = execute(&tx, "DELETE FROM utilization_fact", &[])?;
    }
    execute(
        &tx,
        "SELECT set_config('sporvern.retention_gate', 'closed', true)",
        &[],
    )?;
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
        execute(
            &tx,
            "INSERT INTO retention_receipt (at, kind, count, rule) VALUES ($1, $2, $3, $4)",
            &[&now.millis(), &kind, &(count as i64), &rule],
        )?;
        receipts.push(Receipt {
            at: now,
            kind: kind.to_owned(),
            count,
            rule: rule.to_owned(),
        });
    }
    block_on(tx.commit()).map_err(db_err)?;
    Ok(receipts)
}

pub(crate) fn receipts<C: GenericClient>(c: &C) -> Result<Vec<Receipt>, StoreError> {
    query(
        c,
        "SELECT at, kind, count, rule FROM retention_receipt ORDER BY id",
        &[],
    )?
    .iter()
    .map(|r| {
        Ok(Receipt {
            at: Timestamp::from_millis(get(r, 0)?),
            kind: get(r, 1)?,
            count: get::<i64>(r, 2)? as u64,
            rule: get(r, 3)?,
        })
    })
    .collect()
}
