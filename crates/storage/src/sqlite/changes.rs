//! Changes of personal data, each in the caller's transaction together with its ledger entry
//! (`Store::apply_change`). The changes door has asked the rule first; what is checked here
//! is only what could have changed since (a month approved meanwhile), and the database's
//! own guards (triggers) stand behind both.

use domain::changes::{MonthStep, StepKind, TripFacts};
use domain::drivinglog::Classification;
use domain::{Timestamp, VehicleId};
use rusqlite::{OptionalExtension, Transaction, params};

use super::db_err;
use crate::{Applied, Change, StoreError};

/// A trigger's refusal (`RAISE(ABORT, …)`) is an answer, not a backend failure.
fn guarded(e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, Some(msg))
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Refused(msg.clone())
        }
        _ => db_err(e),
    }
}

/// Makes `change` by `by` at `at`. Returns what it made and whether it erased something (the
/// caller then empties the write-ahead log, so the erased values leave the files too).
pub fn apply(
    tx: &Transaction<'_>,
    change: &Change,
    by: &str,
    at: Timestamp,
) -> Result<(Applied, bool), StoreError> {
    match change {
        Change::Classify { trip, class } => classify(tx, *trip, class, by, at),
        Change::MonthStep {
            vehicle,
            month,
            step,
            comment,
        } => {
            let steps = month_review(tx, *vehicle, month)?;
            if let Some(last) = steps.last()
                && last.kind == StepKind::Approved
            {
                return Err(StoreError::Refused(format!(
                    "{month} is approved by the log keeper: its driving log is final"
                )));
            }
            tx.execute(
                "INSERT INTO month_step (vehicle_id, month, step, by_user, at, comment) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![vehicle.0, month, step.as_str(), by, at.millis(), comment],
            )
            .map_err(guarded)?;
            Ok((Applied::Done, false))
        }
        Change::Privacy {
            vehicle,
            private,
            source,
        } => {
            tx.execute(
                "INSERT INTO privacy_switch (vehicle_id, at, private, source) VALUES (?1, ?2, ?3, ?4)",
                params![vehicle.0, at.millis(), i64::from(*private), source],
            )
            .map_err(guarded)?;
            Ok((Applied::Done, false))
        }
        Change::OpenAlarm { vehicle, report } => {
            let open: Option<i64> = tx
                .query_row(
                    "SELECT id FROM alarm_window WHERE vehicle_id = ?1 AND resolved_at IS NULL",
                    [vehicle.0],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db_err)?;
            if let Some(id) = open {
                return Ok((Applied::AlarmWindow(id), false));
            }
            tx.execute(
                "INSERT INTO alarm_window (vehicle_id, opened_at, triggers, last_trigger_at, opened_by, reference)
                 VALUES (?1, ?2, ?3, ?2, ?4, ?5)",
                params![vehicle.0, at.millis(), report.trigger, report.by, report.reference],
            )
            .map_err(guarded)?;
            Ok((Applied::AlarmWindow(tx.last_insert_rowid()), false))
        }
        Change::CorrectDriver {
            trip,
            driver,
            reason,
        } => {
            let private: Option<i64> = tx
                .query_row("SELECT private FROM trip WHERE id = ?1", [trip], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(db_err)?;
            match private {
                None => {
                    return Err(StoreError::Refused(format!(
                        "there is no trip {trip} in the driving log"
                    )));
                }
                Some(1) => {
                    return Err(StoreError::Refused(format!(
                        "trip {trip} is private: it keeps no driver"
                    )));
                }
                Some(_) => {}
            }
            tx.execute(
                "INSERT INTO trip_driver_correction (trip_id, at, by_user, driver_number, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![trip, at.millis(), by, driver.trim(), reason.trim()],
            )
            .map_err(guarded)?;
            Ok((Applied::Done, false))
        }
        Change::ResolveAlarm {
            window,
            incident,
            note,
        } => {
            let note = Some(note.trim()).filter(|n| !n.is_empty());
            let n = tx
                .execute(
                    "UPDATE alarm_window SET resolved_at = COALESCE(resolved_at, ?2), resolved_by = COALESCE(resolved_by, ?3),
                       incident = MAX(incident, ?4), note = COALESCE(note, ?5) WHERE id = ?1",
                    params![window, at.millis(), by, i64::from(*incident), note],
                )
                .map_err(guarded)?;
            if n == 0 {
                return Err(StoreError::Refused(format!(
                    "there is no alarm window {window}"
                )));
            }
            Ok((Applied::Done, false))
        }
    }
}

fn classify(
    tx: &Transaction<'_>,
    trip: i64,
    class: &Classification,
    by: &str,
    at: Timestamp,
) -> Result<(Applied, bool), StoreError> {
    let row: Option<(i64, i64, Option<i64>, Option<i64>)> = tx
        .query_row(
            "SELECT vehicle_id, private, start_time, end_time FROM trip WHERE id = ?1",
            [trip],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()
        .map_err(db_err)?;
    let Some((vehicle, private, start, end)) = row else {
        return Err(StoreError::Refused(format!(
            "there is no trip {trip} in the driving log"
        )));
    };
    if private == 1 && class != &Classification::Private {
        return Err(StoreError::Refused(format!(
            "trip {trip} is private: its places and times are erased"
        )));
    }
    let purpose = match class {
        Classification::Business { purpose } => Some(purpose.as_str()),
        _ => None,
    };
    tx.execute(
        "INSERT INTO trip_class (trip_id, at, by_user, class, purpose) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![trip, at.millis(), by, class.as_str(), purpose],
    )
    .map_err(guarded)?;
    if class != &Classification::Private || private == 1 {
        return Ok((Applied::Done, false));
    }
    erase(tx, trip, vehicle, start, end)?;
    Ok((Applied::Done, true))
}

/// Erases a trip classified private to its date and km, irreversibly: the row's places,
/// times, odometer readings, driver and distance source, the purposes it was given before
/// (a customer's name tells where it went), and what else still holds its times: the staged
/// fixes the purpose engine has consumed from its start until the vehicle's next trip (the
/// track and where the vehicle then stood), and its utilisation fact (start and end time).
/// Every connection runs with `secure_delete`, so the freed bytes are zeroed.
fn erase(
    tx: &Transaction<'_>,
    trip: i64,
    vehicle: i64,
    start: Option<i64>,
    end: Option<i64>,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE trip_class SET purpose = NULL WHERE trip_id = ?1",
        [trip],
    )
    .map_err(guarded)?;
    tx.execute(
        "UPDATE trip SET private = 1, start_time = NULL, end_time = NULL, start_place = NULL,
           end_place = NULL, odometer_start_km = NULL, odometer_end_km = NULL,
           distance_source = NULL, driver_number = NULL,
           recorded_at = CAST(strftime('%s', local_date) AS INTEGER) * 1000
         WHERE id = ?1",
        [trip],
    )
    .map_err(guarded)?;
    let (Some(start), Some(end)) = (start, end) else {
        return Ok(());
    };
    tx.execute(
        "DELETE FROM utilization_fact WHERE vehicle_key = ?1 AND start_time = ?2 AND end_time = ?3",
        params![vehicle, start, end],
    )
    .map_err(db_err)?;
    let next: Option<i64> = tx
        .query_row(
            "SELECT MIN(start_time) FROM trip WHERE vehicle_id = ?1 AND start_time > ?2",
            params![vehicle, end],
            |r| r.get(0),
        )
        .map_err(db_err)?;
    tx.execute(
        "DELETE FROM staged_fix WHERE device_id IN (SELECT id FROM device WHERE vehicle_id = ?1)
           AND fix_time >= ?2 AND fix_time < ?3
           AND id <= (SELECT last_staged_id FROM purpose_cursor WHERE id = 1)",
        params![vehicle, start, next.unwrap_or(i64::MAX)],
    )
    .map_err(db_err)?;
    Ok(())
}

/// SQL: the driver of trip `t` — the latest correction's, else the recorded one.
pub const EFFECTIVE_DRIVER: &str = "COALESCE((SELECT c.driver_number FROM trip_driver_correction c WHERE c.trip_id = t.id ORDER BY c.id DESC LIMIT 1), t.driver_number)";

pub fn driver_corrections(
    conn: &rusqlite::Connection,
    vehicle: VehicleId,
    employee: Option<&str>,
    from: time::Date,
    to: time::Date,
) -> Result<Vec<crate::DriverCorrection>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT c.trip_id, t.driver_number, c.driver_number, c.reason, c.by_user, c.at
             FROM trip_driver_correction c JOIN trip t ON t.id = c.trip_id
             WHERE t.vehicle_id = ?1 AND t.local_date BETWEEN ?2 AND ?3
               AND (?4 IS NULL OR t.driver_number = ?4 OR c.driver_number = ?4)
             ORDER BY c.id",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map(
            params![vehicle.0, from.to_string(), to.to_string(), employee],
            |r| {
                Ok(crate::DriverCorrection {
                    trip: r.get(0)?,
                    recorded: r.get(1)?,
                    driver: r.get(2)?,
                    reason: r.get(3)?,
                    by: r.get(4)?,
                    at: Timestamp::from_millis(r.get(5)?),
                })
            },
        )
        .map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

pub fn trip_facts(
    conn: &rusqlite::Connection,
    trip: i64,
) -> Result<Option<(VehicleId, TripFacts)>, StoreError> {
    let row: Option<(i64, String, Option<String>, i64)> = conn
        .query_row(
            &format!("SELECT vehicle_id, local_date, {EFFECTIVE_DRIVER}, private FROM trip t WHERE id = ?1"),
            [trip],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()
        .map_err(db_err)?;
    let Some((vehicle, date, driver, private)) = row else {
        return Ok(None);
    };
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(&date, &fmt)
        .map_err(|_| StoreError::Corrupt(format!("trip {trip} has the date {date:?}")))?;
    Ok(Some((
        VehicleId(vehicle),
        TripFacts {
            id: trip,
            date,
            driver,
            private: private == 1,
        },
    )))
}

pub fn month_review(
    conn: &rusqlite::Connection,
    vehicle: VehicleId,
    month: &str,
) -> Result<Vec<MonthStep>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT step, by_user, at, comment FROM month_step WHERE vehicle_id = ?1 AND month = ?2 ORDER BY id",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map(params![vehicle.0, month], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })
        .map_err(db_err)?;
    let mut out = Vec::new();
    for row in rows {
        let (step, by, at, comment) = row.map_err(db_err)?;
        let kind = StepKind::parse(&step)
            .ok_or_else(|| StoreError::Corrupt(format!("month step {step:?}")))?;
        out.push(MonthStep {
            kind,
            by,
            at: Timestamp::from_millis(at),
            comment,
        });
    }
    Ok(out)
}
