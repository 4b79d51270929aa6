//! Changes of personal data, each in the caller's transaction together with its ledger entry
//! (`Store::apply_change`), as the embedded backend makes them. The changes door has asked the
//! rule first; what is checked here is only what could have changed since (a month approved
//! meanwhile), and the database's own guards (CHECK constraints, PL/pgSQL triggers of
//! migration 0002) stand behind both.
//!
//! Changes of one vehicle's data are serialised on its `vehicle` row (`FOR NO KEY UPDATE`),
//! also across nodes: an approval and a classification of the same month cannot pass each
//! other. That lock does not conflict with the key-share locks of foreign keys, so the purpose
//! engine writing the vehicle's new trips meanwhile is not held up.

use domain::changes::{MonthStep, StepKind, TripFacts};
use domain::drivinglog::Classification;
use domain::{Timestamp, VehicleId};
use storage::{Applied, Change, DriverCorrection, StoreError};
use tokio_postgres::error::SqlState;
use tokio_postgres::{GenericClient, Transaction};

use crate::{Params, block_on, db_err, get, query, query_opt};

/// SQL: the driver of trip `t` — the latest correction's, else the recorded one.
pub(crate) const EFFECTIVE_DRIVER: &str = "COALESCE((SELECT dc.driver_number FROM trip_driver_correction dc WHERE dc.trip_id = t.id ORDER BY dc.id DESC LIMIT 1), t.driver_number)";

/// A trigger's refusal (`RAISE EXCEPTION`) or a CHECK's is an answer, not a backend failure.
fn guarded(e: tokio_postgres::Error) -> StoreError {
    match e.code() {
        Some(code)
            if *code == SqlState::RAISE_EXCEPTION
                || *code == SqlState::CHECK_VIOLATION
                || *code == SqlState::NOT_NULL_VIOLATION =>
        {
            match e.as_db_error() {
                Some(d) => StoreError::Refused(d.message().to_owned()),
                None => db_err(e),
            }
        }
        _ => db_err(e),
    }
}

fn exec(tx: &Transaction<'_>, sql: &str, params: Params<'_>) -> Result<u64, StoreError> {
    block_on(tx.execute(sql, params)).map_err(guarded)
}

/// Locks the vehicle's row until the transaction ends: one change of a vehicle's data at a
/// time. `false` when there is no such vehicle.
fn lock_vehicle(tx: &Transaction<'_>, vehicle: i64) -> Result<bool, StoreError> {
    Ok(query_opt(
        tx,
        "SELECT id FROM vehicle WHERE id = $1 FOR NO KEY UPDATE",
        &[&vehicle],
    )?
    .is_some())
}

/// Locks the vehicle of `trip` (see [`lock_vehicle`]); `None` when there is no such trip.
fn lock_trip_vehicle(tx: &Transaction<'_>, trip: i64) -> Result<Option<i64>, StoreError> {
    query_opt(
        tx,
        "SELECT v.id FROM vehicle v JOIN trip t ON t.vehicle_id = v.id WHERE t.id = $1 FOR NO KEY UPDATE OF v",
        &[&trip],
    )?
    .map(|r| get(&r, 0))
    .transpose()
}

/// Makes `change` by `by` at `at`.
pub(crate) fn apply(
    tx: &Transaction<'_>,
    change: &Change,
    by: &str,
    at: Timestamp,
) -> Result<Applied, StoreError> {
    match change {
        Change::Classify { trip, class } => classify(tx, *trip, class, by, at),
        Change::MonthStep {
            vehicle,
            month,
            step,
            comment,
        } => {
            if !lock_vehicle(tx, vehicle.0)? {
                return Err(StoreError::Refused(format!(
                    "no vehicle with id {}",
                    vehicle.0
                )));
            }
            let steps = month_review(tx, *vehicle, month)?;
            if let Some(last) = steps.last()
                && last.kind == StepKind::Approved
            {
                return Err(StoreError::Refused(format!(
                    "{month} is approved by the log keeper: its driving log is final"
                )));
            }
            exec(
                tx,
                "INSERT INTO month_step (vehicle_id, month, step, by_user, at, comment) VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &vehicle.0,
                    month,
                    &step.as_str(),
                    &by,
                    &at.millis(),
                    comment,
                ],
            )?;
            Ok(Applied::Done)
        }
        Change::Privacy {
            vehicle,
            private,
            source,
        } => {
            exec(
                tx,
                "INSERT INTO privacy_switch (vehicle_id, at, private, source) VALUES ($1, $2, $3, $4)",
                &[&vehicle.0, &at.millis(), private, source],
            )?;
            Ok(Applied::Done)
        }
        Change::OpenAlarm { vehicle, report } => {
            // One open window per vehicle, also with two operators (or two nodes) at once.
            if !lock_vehicle(tx, vehicle.0)? {
                return Err(StoreError::Refused(format!(
                    "no vehicle with id {}",
                    vehicle.0
                )));
            }
            if let Some(r) = query_opt(
                tx,
                "SELECT id FROM alarm_window WHERE vehicle_id = $1 AND resolved_at IS NULL ORDER BY id LIMIT 1",
                &[&vehicle.0],
            )? {
                return Ok(Applied::AlarmWindow(get(&r, 0)?));
            }
            let row = block_on(tx.query_one(
                "INSERT INTO alarm_window (vehicle_id, opened_at, triggers, last_trigger_at, opened_by, reference)
                 VALUES ($1, $2, $3, $2, $4, $5) RETURNING id",
                &[
                    &vehicle.0,
                    &at.millis(),
                    &report.trigger,
                    &report.by,
                    &report.reference,
                ],
            ))
            .map_err(guarded)?;
            Ok(Applied::AlarmWindow(get(&row, 0)?))
        }
        Change::CorrectDriver {
            trip,
            driver,
            reason,
        } => {
            if lock_trip_vehicle(tx, *trip)?.is_none() {
                return Err(StoreError::Refused(format!(
                    "there is no trip {trip} in the driving log"
                )));
            }
            let private: bool =
                match query_opt(tx, "SELECT private FROM trip WHERE id = $1", &[trip])? {
                    Some(r) => get(&r, 0)?,
                    None => {
                        return Err(StoreError::Refused(format!(
                            "there is no trip {trip} in the driving log"
                        )));
                    }
                };
            if private {
                return Err(StoreError::Refused(format!(
                    "trip {trip} is private: it keeps no driver"
                )));
            }
            exec(
                tx,
                "INSERT INTO trip_driver_correction (trip_id, at, by_user, driver_number, reason) VALUES ($1, $2, $3, $4, $5)",
                &[trip, &at.millis(), &by, &driver.trim(), &reason.trim()],
            )?;
            Ok(Applied::Done)
        }
        Change::ResolveAlarm {
            window,
            incident,
            note,
        } => {
            let note = Some(note.trim()).filter(|n| !n.is_empty());
            let n = exec(
                tx,
                "UPDATE alarm_window SET resolved_at = COALESCE(resolved_at, $2), resolved_by = COALESCE(resolved_by, $3),
                   incident = incident OR $4, note = COALESCE(note, $5) WHERE id = $1",
                &[window, &at.millis(), &by, incident, &note],
            )?;
            if n == 0 {
                return Err(StoreError::Refused(format!(
                    "there is no alarm window {window}"
                )));
            }
            Ok(Applied::Done)
        }
    }
}

fn classify(
    tx: &Transaction<'_>,
    trip: i64,
    class: &Classification,
    by: &str,
    at: Timestamp,
) -> Result<Applied, StoreError> {
    if lock_trip_vehicle(tx, trip)?.is_none() {
        return Err(StoreError::Refused(format!(
            "there is no trip {trip} in the driving log"
        )));
    }
    let row = query_opt(
        tx,
        "SELECT vehicle_id, private, start_time, end_time FROM trip WHERE id = $1",
        &[&trip],
    )?;
    let Some(row) = row else {
        return Err(StoreError::Refused(format!(
            "there is no trip {trip} in the driving log"
        )));
    };
    let vehicle: i64 = get(&row, 0)?;
    let private: bool = get(&row, 1)?;
    let start: Option<i64> = get(&row, 2)?;
    let end: Option<i64> = get(&row, 3)?;
    if private && class != &Classification::Private {
        return Err(StoreError::Refused(format!(
            "trip {trip} is private: its places and times are erased"
        )));
    }
    let purpose = match class {
        Classification::Business { purpose } => Some(purpose.as_str()),
        _ => None,
    };
    exec(
        tx,
        "INSERT INTO trip_class (trip_id, at, by_user, class, purpose) VALUES ($1, $2, $3, $4, $5)",
        &[&trip, &at.millis(), &by, &class.as_str(), &purpose],
    )?;
    if class != &Classification::Private || private {
        return Ok(Applied::Done);
    }
    erase(tx, trip, vehicle, start, end)?;
    Ok(Applied::Done)
}

/// Erases a trip classified private to its date and km, irreversibly, in the classification's
/// transaction: the row's places, times, odometer readings, driver and distance source, the
/// purposes it was given before (a customer's name tells where it went), and what else still
/// holds its times: the staged fixes the purpose engine has consumed from its start until the
/// vehicle's next trip (the track and where the vehicle then stood), and its utilisation fact
/// (start and end time). The trip's row is updated first: the trigger on `trip_class` lets a
/// purpose be emptied only on a trip that is private.
fn erase(
    tx: &Transaction<'_>,
    trip: i64,
    vehicle: i64,
    start: Option<i64>,
    end: Option<i64>,
) -> Result<(), StoreError> {
    exec(
        tx,
        "UPDATE trip SET private = TRUE, start_time = NULL, end_time = NULL, start_place = NULL,
           end_place = NULL, odometer_start_km = NULL, odometer_end_km = NULL,
           distance_source = NULL, driver_number = NULL,
           recorded_at = (local_date - DATE '1970-01-01')::bigint * 86400000
         WHERE id = $1",
        &[&trip],
    )?;
    exec(
        tx,
        "UPDATE trip_class SET purpose = NULL WHERE trip_id = $1 AND purpose IS NOT NULL",
        &[&trip],
    )?;
    let (Some(start), Some(end)) = (start, end) else {
        return Ok(());
    };
    exec(
        tx,
        "DELETE FROM utilization_fact WHERE vehicle_key = $1 AND start_time = $2 AND end_time = $3",
        &[&vehicle, &start, &end],
    )?;
    let next: Option<i64> = match query_opt(
        tx,
        "SELECT MIN(start_time) FROM trip WHERE vehicle_id = $1 AND start_time > $2",
        &[&vehicle, &end],
    )? {
        Some(r) => get(&r, 0)?,
        None => None,
    };
    exec(
        tx,
        "DELETE FROM staged_fix WHERE device_id IN (SELECT id FROM device WHERE vehicle_id = $1)
           AND fix_time >= $2 AND fix_time < $3
           AND id <= (SELECT last_staged_id FROM partition_cursor WHERE part = $4)",
        &[
            &vehicle,
            &start,
            &next.unwrap_or(i64::MAX),
            &i32::from(storage::partition_of(domain::VehicleId(vehicle))),
        ],
    )?;
    Ok(())
}

pub(crate) fn driver_corrections<C: GenericClient>(
    c: &C,
    vehicle: VehicleId,
    employee: Option<&str>,
    from: time::Date,
    to: time::Date,
) -> Result<Vec<DriverCorrection>, StoreError> {
    query(
        c,
        "SELECT c.trip_id, t.driver_number, c.driver_number, c.reason, c.by_user, c.at
         FROM trip_driver_correction c JOIN trip t ON t.id = c.trip_id
         WHERE t.vehicle_id = $1 AND t.local_date BETWEEN $2 AND $3
           AND ($4::text IS NULL OR t.driver_number = $4 OR c.driver_number = $4)
         ORDER BY c.id",
        &[&vehicle.0, &from, &to, &employee],
    )?
    .iter()
    .map(|r| {
        Ok(DriverCorrection {
            trip: get(r, 0)?,
            recorded: get(r, 1)?,
            driver: get(r, 2)?,
            reason: get(r, 3)?,
            by: get(r, 4)?,
            at: Timestamp::from_millis(get(r, 5)?),
        })
    })
    .collect()
}

pub(crate) fn trip_facts<C: GenericClient>(
    c: &C,
    trip: i64,
) -> Result<Option<(VehicleId, TripFacts)>, StoreError> {
    let Some(r) = query_opt(
        c,
        &format!(
            "SELECT vehicle_id, local_date, {EFFECTIVE_DRIVER}, private FROM trip t WHERE id = $1"
        ),
        &[&trip],
    )?
    else {
        return Ok(None);
    };
    Ok(Some((
        VehicleId(get(&r, 0)?),
        TripFacts {
            id: trip,
            date: get(&r, 1)?,
            driver: get(&r, 2)?,
            private: get(&r, 3)?,
        },
    )))
}

pub(crate) fn month_review<C: GenericClient>(
    c: &C,
    vehicle: VehicleId,
    month: &str,
) -> Result<Vec<MonthStep>, StoreError> {
    query(
        c,
        "SELECT step, by_user, at, comment FROM month_step WHERE vehicle_id = $1 AND month = $2 ORDER BY id",
        &[&vehicle.0, &month],
    )?
    .iter()
    .map(|r| {
        let step: String = get(r, 0)?;
        let kind = StepKind::parse(&step)
            .ok_or_else(|| StoreError::Corrupt(format!("month step {step:?}")))?;
        Ok(MonthStep {
            kind,
            by: get(r, 1)?,
            at: Timestamp::from_millis(get(r, 2)?),
            comment: get(r, 3)?,
        })
    })
    .collect()
}
