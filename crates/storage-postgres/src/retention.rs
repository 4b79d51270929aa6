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

const DAY_MS: i64 = 86_400_000;

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

pub(crate) fn plan<C: GenericClient>(
    c: &C,
    policy: &RetentionPolicy,
    now: Timestamp,
) -> Result<Vec<PlannedDeletion>, StoreError> {
    let mut out = Vec::new();
    for (table, kind) in [
        ("trip", "driving_log_trip"),
        ("deviation", "driving_log_deviation"),
    ] {
        for r in query(
            c,
            &format!(
                "SELECT EXTRACT(YEAR FROM local_date)::integer, COUNT(*) FROM {table} GROUP BY 1 ORDER BY 1"
            ),
            &[],
        )? {
            let year: i32 = get(&r, 0)?;
            let count: i64 = get(&r, 1)?;
            out.push(PlannedDeletion {
                kind,
                due: driving_log_due(year, policy)?,
                count: count as u64,
                rule: DRIVING_LOG_RULE,
            });
        }
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
            due: date_of(Timestamp::from_millis(
                (day + 1 + policy.privacy_switch_days) * DAY_MS,
            ))?,
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
                due: today,
                count: count as u64,
                rule: ENDED_RULE,
            });
        }
    }
    out.sort_by(|a, b| (a.due, a.kind).cmp(&(b.due, b.kind)));
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
    execute(
        &tx,
        "DELETE FROM trip_class WHERE trip_id IN (SELECT id FROM trip WHERE local_date < $1)",
        &[&cutoff],
    )?;
    let trips = execute(&tx, "DELETE FROM trip WHERE local_date < $1", &[&cutoff])?;
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
    let alarm_positions = execute(
        &tx,
        "DELETE FROM alarm_position WHERE window_id IN (SELECT id FROM alarm_window WHERE resolved_at IS NOT NULL
           AND resolved_at + (CASE WHEN incident THEN $2::bigint ELSE $1::bigint END) * $3::bigint <= $4::bigint)",
        &[
            &policy.alarm_days,
            &policy.alarm_incident_days,
            &DAY_MS,
            &now.millis(),
        ],
    )?;
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
        ("driving_log_deviation", deviations, DRIVING_LOG_RULE),
        ("privacy_switch", switches, PRIVACY_RULE),
        ("alarm_position", alarm_positions, ALARM_RULE),
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
