//! The purpose engine's tables: its cursor over staging, the driving log, deviations, privacy
//! switches.

use domain::drivinglog::{
    Classification, LogEntry, NewLogEntry, PrivateTrip, RecordedDeviation, RecordedTrip,
};
use domain::{DeviceId, Fix, Position, Timestamp, VehicleId, encoding};
use rusqlite::{Connection, OptionalExtension, params};

use super::db_err;
use crate::{PurposeBatch, PurposeFeed, StagedRow, StoreError};

fn date_text(d: time::Date) -> String {
    d.to_string()
}

fn parse_date(s: &str) -> Result<time::Date, StoreError> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &fmt).map_err(|_| StoreError::Corrupt(format!("date {s:?}")))
}

const STAGED_COLUMNS: &str = "id, device_id, fix_time, lat, lon, altitude, course, satellites, speed_kmh, attrs, received_at";

fn staged_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StagedRow> {
    let lat: Option<f64> = r.get(3)?;
    let lon: Option<f64> = r.get(4)?;
    let attrs: Vec<u8> = r.get(9)?;
    Ok(StagedRow {
        id: r.get(0)?,
        device: DeviceId(r.get(1)?),
        received_at: Timestamp::from_millis(r.get(10)?),
        fix: Fix {
            time: Timestamp::from_millis(r.get(2)?),
            position: lat.zip(lon).and_then(|(a, b)| Position::new(a, b)),
            altitude_m: r.get::<_, Option<f64>>(5)?.map(|v| v as f32),
            course_deg: r.get(6)?,
            satellites: r.get(7)?,
            speed_kmh: r.get::<_, Option<f64>>(8)?.map(|v| v as f32),
            // A corrupt blob loses its attributes, not the fix (logged by the caller's counts).
            attributes: encoding::decode(&attrs).unwrap_or_default(),
        },
    })
}

pub struct SqliteFeed {
    pub(super) conn: Connection,
}

impl PurposeFeed for SqliteFeed {
    fn utilization_facts_before(
        &mut self,
        before: Timestamp,
    ) -> Result<Vec<crate::UtilizationFact>, StoreError> {
        utilization_facts_before(&self.conn, before)
    }

    fn release_utilization(
        &mut self,
        weeks: &[crate::ReleasedWeek],
        facts_before: Timestamp,
    ) -> Result<(), StoreError> {
        release_utilization(&mut self.conn, weeks, facts_before)
    }

    fn set_aside(&mut self, rows: &[crate::SetAside]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let tx = self.conn.transaction().map_err(db_err)?;
        for r in rows {
            tx.execute(
                "INSERT OR REPLACE INTO staged_set_aside (staged_id, device_id, fix_time, received_at, reason, set_aside_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    r.staged_id,
                    r.device.0,
                    r.fix_time.millis(),
                    r.received_at.millis(),
                    r.reason,
                    r.at.millis()
                ],
            )
            .map_err(db_err)?;
        }
        tx.commit().map_err(db_err)
    }

    fn backlog(&mut self, after: i64) -> Result<crate::Backlog, StoreError> {
        // Staged ids grow with arrival and are purged from below, so the count after the
        // cursor is the newest id minus the cursor (ids skipped by a rolled-back insert make
        // it an upper bound); both lookups are on the primary key.
        let newest: Option<i64> = self
            .conn
            .query_row("SELECT MAX(id) FROM staged_fix", [], |r| r.get(0))
            .map_err(db_err)?;
        let oldest: Option<i64> = self
            .conn
            .query_row(
                "SELECT received_at FROM staged_fix WHERE id > ?1 ORDER BY id LIMIT 1",
                [after],
                |r| r.get(0),
            )
            .optional()
            .map_err(db_err)?;
        Ok(crate::Backlog {
            rows: u64::try_from(newest.unwrap_or(after) - after).unwrap_or(0),
            oldest_received: oldest.map(Timestamp::from_millis),
        })
    }

    fn cursor(&mut self) -> Result<i64, StoreError> {
        self.conn
            .query_row(
                "SELECT last_staged_id FROM purpose_cursor WHERE id = 1",
                [],
                |r| r.get(0),
            )
            .map_err(db_err)
    }

    fn cursors(&mut self) -> Result<Vec<i64>, StoreError> {
        let mut out = vec![0; usize::from(crate::ENGINE_PARTITIONS)];
        let mut stmt = self
            .conn
            .prepare_cached("SELECT part, last_staged_id FROM partition_cursor")
            .map_err(db_err)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
            .map_err(db_err)?;
        for row in rows {
            let (part, last) = row.map_err(db_err)?;
            if let Some(slot) = usize::try_from(part).ok().and_then(|p| out.get_mut(p)) {
                *slot = last;
            }
        }
        Ok(out)
    }

    fn lease_round(&mut self, node: &str, ttl_ms: i64) -> Result<crate::LeaseGrant, StoreError> {
        let now = super::wall_clock().millis();
        let until = now + ttl_ms;
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(db_err)?;
        // Renew what is still ours (an expired lease is lost: another node may have it).
        tx.execute(
            "UPDATE engine_lease SET expires_at = ?2 WHERE holder = ?1 AND expires_at > ?3",
            params![node, until, now],
        )
        .map_err(db_err)?;
        tx.execute(
            "INSERT INTO engine_lease (name, holder, expires_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at",
            params![format!("node/{node}"), node, until],
        )
        .map_err(db_err)?;
        let nodes: i64 = tx
            .query_row(
                "SELECT COUNT(*) FROM engine_lease WHERE name LIKE 'node/%' AND expires_at > ?1",
                [now],
                |r| r.get(0),
            )
            .map_err(db_err)?;
        let mut held = Vec::new();
        let mut taken = std::collections::HashSet::new();
        {
            let mut stmt = tx
                .prepare("SELECT name, holder FROM engine_lease WHERE name LIKE 'partition/%' AND expires_at > ?1")
                .map_err(db_err)?;
            let rows = stmt
                .query_map([now], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })
                .map_err(db_err)?;
            for row in rows {
                let (name, holder) = row.map_err(db_err)?;
                if let Some(p) = crate::parse_partition_lease(&name) {
                    taken.insert(p);
                    if holder == node {
                        held.push(p);
                    }
                }
            }
        }
        let free: Vec<u16> = (0..crate::ENGINE_PARTITIONS)
            .filter(|p| !taken.contains(p))
            .collect();
        let (release, take) = crate::lease_plan(&held, usize::try_from(nodes).unwrap_or(1), &free);
        for p in &release {
            tx.execute(
                "DELETE FROM engine_lease WHERE name = ?1 AND holder = ?2",
                params![crate::partition_lease(*p), node],
            )
            .map_err(db_err)?;
            held.retain(|h| h != p);
        }
        for p in take {
            tx.execute(
                "INSERT INTO engine_lease (name, holder, expires_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
                 WHERE engine_lease.expires_at <= ?4",
                params![crate::partition_lease(p), node, until, now],
            )
            .map_err(db_err)?;
            held.push(p);
        }
        tx.execute(
            "INSERT INTO engine_lease (name, holder, expires_at) VALUES ('schedule', ?1, ?2)
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
             WHERE engine_lease.expires_at <= ?3",
            params![node, until, now],
        )
        .map_err(db_err)?;
        let schedule: bool = tx
            .query_row(
                "SELECT holder = ?1 FROM engine_lease WHERE name = 'schedule'",
                [node],
                |r| r.get(0),
            )
            .map_err(db_err)?;
        tx.commit().map_err(db_err)?;
        held.sort_unstable();
        Ok(crate::LeaseGrant {
            partitions: held,
            schedule,
            nodes: usize::try_from(nodes).unwrap_or(1),
        })
    }

    fn lease_release(&mut self, node: &str) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM engine_lease WHERE holder = ?1", [node])
            .map_err(db_err)?;
        Ok(())
    }

    fn commit_leased(
        &mut self,
        b: &PurposeBatch,
        fence: crate::Fence<'_>,
    ) -> Result<(), StoreError> {
        self.write_batch(b, Some(fence))
    }

    fn next(&mut self, after: i64, limit: usize) -> Result<Vec<StagedRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {STAGED_COLUMNS} FROM staged_fix WHERE id > ?1 ORDER BY id LIMIT ?2"
            ))
            .map_err(db_err)?;
        let rows = stmt
            .query_map(params![after, limit as i64], staged_row)
            .map_err(db_err)?;
        rows.collect::<Result<_, _>>().map_err(db_err)
    }

    fn replay(
        &mut self,
        devices: &[DeviceId],
        after: i64,
        up_to: i64,
    ) -> Result<Vec<StagedRow>, StoreError> {
        let mut out = Vec::new();
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {STAGED_COLUMNS} FROM staged_fix WHERE device_id = ?1 AND id > ?2 AND id <= ?3"
            ))
            .map_err(db_err)?;
        for d in devices {
            let rows = stmt
                .query_map(params![d.0, after, up_to], staged_row)
                .map_err(db_err)?;
            for r in rows {
                out.push(r.map_err(db_err)?);
            }
        }
        out.sort_by_key(|r| (r.fix.time, r.id));
        Ok(out)
    }

    fn watermarks(&mut self) -> Result<Vec<(VehicleId, i64)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT vehicle_id, staged_id FROM drivinglog_watermark")
            .map_err(db_err)?;
        let rows = stmt
            .query_map([], |r| Ok((VehicleId(r.get(0)?), r.get(1)?)))
            .map_err(db_err)?;
        rows.collect::<Result<_, _>>().map_err(db_err)
    }

    fn privacy_states(&mut self) -> Result<Vec<(VehicleId, bool)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT vehicle_id, private FROM privacy_switch p
                 WHERE id = (SELECT MAX(id) FROM privacy_switch q WHERE q.vehicle_id = p.vehicle_id)",
            )
            .map_err(db_err)?;
        let rows = stmt
            .query_map([], |r| Ok((VehicleId(r.get(0)?), r.get::<_, i64>(1)? == 1)))
            .map_err(db_err)?;
        rows.collect::<Result<_, _>>().map_err(db_err)
    }

    fn open_alarms(&mut self) -> Result<Vec<crate::OpenAlarm>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, vehicle_id, last_trigger_at, opened_by IS NOT NULL, opened_at, triggers FROM alarm_window WHERE resolved_at IS NULL ORDER BY id",
            )
            .map_err(db_err)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(crate::OpenAlarm {
                    window: r.get(0)?,
                    vehicle: VehicleId(r.get(1)?),
                    last_trigger_at: Timestamp::from_millis(r.get(2)?),
                    by_hand: r.get::<_, i64>(3)? == 1,
                    opened_at: Timestamp::from_millis(r.get(4)?),
                    triggers: r.get(5)?,
                })
            })
            .map_err(db_err)?;
        rows.collect::<Result<_, _>>().map_err(db_err)
    }

    fn commit(&mut self, b: &PurposeBatch) -> Result<(), StoreError> {
        self.write_batch(b, None)
    }
}

impl SqliteFeed {
    /// One batch in one transaction: what the purposes keep, the cursors, and (for a node
    /// holding leases) the check that it still holds them.
    fn write_batch(
        &mut self,
        b: &PurposeBatch,
        fence: Option<crate::Fence<'_>>,
    ) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(db_err)?;
        if let Some(f) = fence {
            let now = super::wall_clock().millis();
            for p in f.partitions {
                let held: Option<i64> = tx
                    .query_row(
                        "SELECT 1 FROM engine_lease WHERE name = ?1 AND holder = ?2 AND expires_at > ?3",
                        params![crate::partition_lease(*p), f.node, now],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(db_err)?;
                if held.is_none() {
                    return Err(StoreError::Refused(format!(
                        "node {} no longer holds the lease of partition {p}; the batch is not written",
                        f.node
                    )));
                }
            }
        }
        for e in &b.entries {
            match e {
                NewLogEntry::Trip {
                    vehicle,
                    date,
                    start,
                    end,
                    start_place,
                    end_place,
                    odometer_start_km,
                    odometer_end_km,
                    km,
                    distance_source,
                    driver,
                } => {
                    tx.execute(
                        "INSERT INTO trip (vehicle_id, local_date, km, private, start_time, end_time, start_place, end_place,
                           odometer_start_km, odometer_end_km, distance_source, driver_number, recorded_at)
                         VALUES (?1, ?2, ?3, 0, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                        params![
                            vehicle.0,
                            date_text(*date),
                            km,
                            start.millis(),
                            end.millis(),
                            start_place,
                            end_place,
                            odometer_start_km,
                            odometer_end_km,
                            distance_source,
                            driver,
                            b.recorded_at.millis()
                        ],
                    )
                    .map_err(db_err)?;
                }
                NewLogEntry::Private { vehicle, date, km } => {
                    // Recorded "at" its date only: the time the builder closed it would tell
                    // when a private trip ended.
                    tx.execute(
                        "INSERT INTO trip (vehicle_id, local_date, km, private, recorded_at)
                         VALUES (?1, ?2, ?3, 1, CAST(strftime('%s', ?2) AS INTEGER) * 1000)",
                        params![vehicle.0, date_text(*date), km],
                    )
                    .map_err(db_err)?;
                }
            }
        }
        for d in &b.deviations {
            tx.execute(
                "INSERT INTO deviation (vehicle_id, local_date, from_time, to_time, kind, km, note, recorded_at,
                   odometer_before_km, odometer_after_km)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    d.vehicle.0,
                    date_text(d.date),
                    d.from.millis(),
                    d.to.millis(),
                    d.kind,
                    d.km,
                    d.note,
                    b.recorded_at.millis(),
                    d.odometer_km.map(|o| o.0),
                    d.odometer_km.map(|o| o.1)
                ],
            )
            .map_err(db_err)?;
        }
        for (vehicle, at, private, source) in &b.privacy_switches {
            tx.execute(
                "INSERT INTO privacy_switch (vehicle_id, at, private, source) VALUES (?1, ?2, ?3, ?4)",
                params![vehicle.0, at.millis(), i64::from(*private), source],
            )
            .map_err(db_err)?;
        }
        for (vehicle, staged) in &b.watermarks {
            tx.execute(
                "INSERT INTO drivinglog_watermark (vehicle_id, staged_id) VALUES (?1, ?2)
                 ON CONFLICT (vehicle_id) DO UPDATE SET staged_id = MAX(staged_id, excluded.staged_id)",
                params![vehicle.0, staged],
            )
            .map_err(db_err)?;
        }
        for a in &b.alarms {
            match a {
                crate::AlarmAction::Open {
                    vehicle,
                    at,
                    triggers,
                    position,
                } => {
                    tx.execute(
                        "INSERT INTO alarm_window (vehicle_id, opened_at, triggers, last_trigger_at) VALUES (?1, ?2, ?3, ?2)",
                        params![vehicle.0, at.millis(), triggers],
                    )
                    .map_err(db_err)?;
                    if let Some(p) = position {
                        let id = tx.last_insert_rowid();
                        tx.execute(
                            "INSERT OR IGNORE INTO alarm_position (window_id, at, lat, lon) VALUES (?1, ?2, ?3, ?4)",
                            params![id, at.millis(), p.lat(), p.lon()],
                        )
                        .map_err(db_err)?;
                    }
                }
                crate::AlarmAction::Position {
                    vehicle,
                    at,
                    position,
                    trigger,
                } => {
                    let open = "(SELECT id FROM alarm_window WHERE vehicle_id = ?1 AND resolved_at IS NULL ORDER BY id DESC LIMIT 1)";
                    tx.execute(
                        &format!("INSERT OR IGNORE INTO alarm_position (window_id, at, lat, lon) SELECT {open}, ?2, ?3, ?4 WHERE {open} IS NOT NULL"),
                        params![vehicle.0, at.millis(), position.lat(), position.lon()],
                    )
                    .map_err(db_err)?;
                    if *trigger {
                        tx.execute(
                            "UPDATE alarm_window SET last_trigger_at = MAX(last_trigger_at, ?2) WHERE vehicle_id = ?1 AND resolved_at IS NULL",
                            params![vehicle.0, at.millis()],
                        )
                        .map_err(db_err)?;
                    }
                }
                crate::AlarmAction::AutoResolve { vehicle, at } => {
                    tx.execute(
                        "UPDATE alarm_window SET resolved_at = ?2, resolved_by = 'automatic: no new alarm' WHERE vehicle_id = ?1 AND resolved_at IS NULL AND opened_by IS NULL",
                        params![vehicle.0, at.millis()],
                    )
                    .map_err(db_err)?;
                }
            }
        }
        for f in &b.utilization {
            tx.execute(
                "INSERT INTO utilization_fact (grp, vehicle_key, start_time, end_time, km, start_cell_lat, start_cell_lon, end_cell_lat, end_cell_lon)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![f.group, f.vehicle_key, f.start.millis(), f.end.millis(), f.km, f.start_cell.0, f.start_cell.1, f.end_cell.0, f.end_cell.1],
            )
            .map_err(db_err)?;
        }
        match fence {
            None => {
                tx.execute(
                    "UPDATE partition_cursor SET last_staged_id = MAX(last_staged_id, ?1)",
                    [b.up_to],
                )
                .map_err(db_err)?;
            }
            Some(f) => {
                for p in f.partitions {
                    tx.execute(
                        "UPDATE partition_cursor SET last_staged_id = MAX(last_staged_id, ?1) WHERE part = ?2",
                        params![b.up_to, p],
                    )
                    .map_err(db_err)?;
                }
            }
        }
        tx.execute(
            "UPDATE purpose_cursor SET last_staged_id = (SELECT MIN(last_staged_id) FROM partition_cursor) WHERE id = 1",
            [],
        )
        .map_err(db_err)?;
        tx.commit().map_err(db_err)
    }
}

pub fn purge_consumed(conn: &Connection, before: Timestamp) -> Result<u64, StoreError> {
    let n = conn
        .execute(
            "DELETE FROM staged_fix WHERE received_at < ?1
               AND id <= (SELECT last_staged_id FROM purpose_cursor WHERE id = 1)",
            [before.millis()],
        )
        .map_err(db_err)?;
    Ok(n as u64)
}

fn classification(class: &str, purpose: Option<String>) -> Classification {
    match class {
        "business" => Classification::Business {
            purpose: purpose.unwrap_or_default(),
        },
        "private" => Classification::Private,
        _ => Classification::Unclassified,
    }
}

/// The registration number of a vehicle (for checking a vehicle-scoped capability).
pub fn vehicle_reg(conn: &Connection, vehicle: VehicleId) -> Result<String, StoreError> {
    conn.query_row("SELECT reg FROM vehicle WHERE id = ?1", [vehicle.0], |r| {
        r.get(0)
    })
    .optional()
    .map_err(db_err)?
    .ok_or_else(|| StoreError::Refused(format!("no vehicle with id {}", vehicle.0)))
}

/// Whether the employee was assigned the vehicle on some day between `from` and `to`.
pub fn assigned_between(
    conn: &Connection,
    employee: &str,
    vehicle: VehicleId,
    from: time::Date,
    to: time::Date,
) -> Result<bool, StoreError> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM assignment a JOIN employee e ON e.id = a.employee_id
             WHERE e.number = ?1 AND a.vehicle_id = ?2 AND a.valid_from <= ?4
               AND (a.valid_to IS NULL OR a.valid_to > ?3))",
        params![employee, vehicle.0, date_text(from), date_text(to)],
        |r| r.get(0),
    )
    .map_err(db_err)
}

/// SQL true when the row's vehicle (`{vehicle}`) was assigned to employee `?` at the time in
/// milliseconds `{at}` (a UTC date: a switch just after midnight in Oslo may count for the
/// day before).
fn assigned_at_sql(vehicle: &str, at: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM assignment a JOIN employee e ON e.id = a.employee_id
             WHERE e.number = ? AND a.vehicle_id = {vehicle}
               AND a.valid_from <= date({at} / 1000, 'unixepoch')
               AND (a.valid_to IS NULL OR a.valid_to > date({at} / 1000, 'unixepoch')))"
    )
}

/// Trips between two dates, of one vehicle or of every vehicle, of every driver or of one
/// (`rows`), with the vehicle's registration number.
pub fn driving_log(
    conn: &Connection,
    vehicle: Option<VehicleId>,
    rows: &crate::capability::Rows,
    from: time::Date,
    to: time::Date,
) -> Result<Vec<(String, LogEntry)>, StoreError> {
    let mut sql = String::from(
        "SELECT t.id, t.local_date, t.km, t.private, t.start_time, t.end_time, t.start_place, t.end_place,
                t.odometer_start_km, t.odometer_end_km, t.distance_source, t.driver_number,
                c.class, c.purpose, v.reg
         FROM trip t
         JOIN vehicle v ON v.id = t.vehicle_id
         LEFT JOIN trip_class c ON c.id = (SELECT MAX(id) FROM trip_class WHERE trip_id = t.id)
         WHERE t.local_date BETWEEN ? AND ?",
    );
    let mut args: Vec<rusqlite::types::Value> = vec![date_text(from).into(), date_text(to).into()];
    if let Some(v) = vehicle {
        sql.push_str(" AND t.vehicle_id = ?");
        args.push(v.0.into());
    }
    if let crate::capability::Rows::Employee(e) = rows {
        // The employee's trips: those they drove, and the trips with no driver recorded (a
        // private trip keeps none) in a vehicle assigned to them that day.
        // A corrected driver attribution counts (`EFFECTIVE_DRIVER`).
        let driver = super::changes::EFFECTIVE_DRIVER;
        sql.push_str(&format!(
            " AND ({driver} = ? OR ({driver} IS NULL AND EXISTS (
                 SELECT 1 FROM assignment a JOIN employee e ON e.id = a.employee_id
                 WHERE e.number = ? AND a.vehicle_id = t.vehicle_id AND a.valid_from <= t.local_date
                   AND (a.valid_to IS NULL OR a.valid_to > t.local_date))))"
        ));
        args.push(e.clone().into());
        args.push(e.clone().into());
    }
    sql.push_str(" ORDER BY t.local_date, t.id");
    let mut stmt = conn.prepare_cached(&sql).map_err(db_err)?;
    let mut rows = stmt
        .query(rusqlite::params_from_iter(args))
        .map_err(db_err)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(db_err)? {
        let id: i64 = r.get(0).map_err(db_err)?;
        let date = parse_date(&r.get::<_, String>(1).map_err(db_err)?)?;
        let km: f64 = r.get(2).map_err(db_err)?;
        let private: bool = r.get::<_, i64>(3).map_err(db_err)? == 1;
        let class: Option<String> = r.get(12).map_err(db_err)?;
        let class = classification(class.as_deref().unwrap_or(""), r.get(13).map_err(db_err)?);
        // A private trip — switched private in the car, or classified private afterwards — is
        // shown as its date and km; nothing else is even read into memory.
        let reg: String = r.get(14).map_err(db_err)?;
        if private || class == Classification::Private {
            out.push((reg, LogEntry::Private(PrivateTrip { id, date, km })));
            continue;
        }
        let time = |i| -> Result<Timestamp, StoreError> {
            let v: Option<i64> = r.get(i).map_err(db_err)?;
            v.map(Timestamp::from_millis)
                .ok_or_else(|| StoreError::Corrupt(format!("trip {id} lacks a time")))
        };
        out.push((
            reg,
            LogEntry::Trip(RecordedTrip {
                id,
                date,
                start: time(4)?,
                end: time(5)?,
                start_place: r
                    .get::<_, Option<String>>(6)
                    .map_err(db_err)?
                    .unwrap_or_default(),
                end_place: r
                    .get::<_, Option<String>>(7)
                    .map_err(db_err)?
                    .unwrap_or_default(),
                odometer_start_km: r.get(8).map_err(db_err)?,
                odometer_end_km: r.get(9).map_err(db_err)?,
                km,
                distance_source: r
                    .get::<_, Option<String>>(10)
                    .map_err(db_err)?
                    .unwrap_or_default(),
                driver: r.get(11).map_err(db_err)?,
                classification: class,
            }),
        ));
    }
    Ok(out)
}

pub fn deviations(
    conn: &Connection,
    vehicle: VehicleId,
    from: time::Date,
    to: time::Date,
) -> Result<Vec<RecordedDeviation>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT local_date, from_time, to_time, kind, km, note, odometer_before_km, odometer_after_km
             FROM deviation
             WHERE vehicle_id = ?1 AND local_date BETWEEN ?2 AND ?3 ORDER BY from_time",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map(params![vehicle.0, date_text(from), date_text(to)], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get::<_, Option<f64>>(6)?.zip(r.get::<_, Option<f64>>(7)?),
            ))
        })
        .map_err(db_err)?;
    let mut out = Vec::new();
    for row in rows {
        let (date, from, to, kind, km, note, odometer_km) = row.map_err(db_err)?;
        out.push(RecordedDeviation {
            date: parse_date(&date)?,
            from: Timestamp::from_millis(from),
            to: Timestamp::from_millis(to),
            kind,
            km,
            note,
            odometer_km,
        });
    }
    Ok(out)
}

/// The keeper's follow-up lists (see `Store::followups`). Times are read to decide and never
/// returned.
pub fn followups(
    conn: &Connection,
    from: time::Date,
    to: time::Date,
    outside_hours: &dyn Fn(Timestamp) -> bool,
    unclassified_before: time::Date,
) -> Result<Vec<domain::drivinglog::FollowUpTrip>, StoreError> {
    use domain::drivinglog::{FollowUp, FollowUpTrip, PendingTrip};
    let mut stmt = conn
        .prepare_cached(
            "SELECT t.id, t.local_date, t.km, t.start_time, v.reg, c.class, c.purpose FROM trip t
             JOIN vehicle v ON v.id = t.vehicle_id
             LEFT JOIN trip_class c ON c.id = (SELECT MAX(id) FROM trip_class WHERE trip_id = t.id)
             WHERE t.local_date BETWEEN ?1 AND ?2 AND t.private = 0
               AND (c.class IS NULL OR c.class <> 'private')
             ORDER BY t.local_date, t.id",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map(params![date_text(from), date_text(to)], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, f64>(2)?,
                r.get::<_, Option<i64>>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })
        .map_err(db_err)?;
    let mut out = Vec::new();
    for row in rows {
        let (id, date, km, start, reg, class, purpose) = row.map_err(db_err)?;
        let date = parse_date(&date)?;
        let unclassified = matches!(class.as_deref(), None | Some("unclassified"));
        let without_purpose =
            unclassified || purpose.as_deref().is_none_or(|p| p.trim().is_empty());
        let trip = PendingTrip { id, date, km };
        if without_purpose && start.is_some_and(|s| outside_hours(Timestamp::from_millis(s))) {
            out.push(FollowUpTrip {
                why: FollowUp::OutsideWorkingHoursWithoutPurpose,
                vehicle: reg.clone(),
                trip: trip.clone(),
            });
        }
        if unclassified && date <= unclassified_before {
            out.push(FollowUpTrip {
                why: FollowUp::UnclassifiedTooLong,
                vehicle: reg,
                trip,
            });
        }
    }
    Ok(out)
}

/// The vehicle's monthly odometer readings between two dates (`domain::drivinglog::
/// monthly_readings` over the readings at the end of its trips). Only trips that keep their
/// readings count: a private trip (by privacy mode or by classification) has none to give,
/// and the purpose engine records an odometer reading only from a vehicle odometer.
pub fn monthly_odometer(
    conn: &Connection,
    vehicle: VehicleId,
    from: time::Date,
    to: time::Date,
) -> Result<Vec<domain::drivinglog::OdometerReading>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT t.end_time, t.local_date, t.odometer_end_km FROM trip t
             LEFT JOIN trip_class c ON c.id = (SELECT MAX(id) FROM trip_class WHERE trip_id = t.id)
             WHERE t.vehicle_id = ?1 AND t.local_date BETWEEN ?2 AND ?3 AND t.private = 0
               AND t.odometer_end_km IS NOT NULL AND t.end_time IS NOT NULL
               AND (c.class IS NULL OR c.class <> 'private')",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map(params![vehicle.0, date_text(from), date_text(to)], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, f64>(2)?,
            ))
        })
        .map_err(db_err)?;
    let mut readings = Vec::new();
    for row in rows {
        let (end, date, km) = row.map_err(db_err)?;
        readings.push((
            Timestamp::from_millis(end),
            domain::drivinglog::OdometerReading {
                date: parse_date(&date)?,
                km,
            },
        ));
    }
    Ok(domain::drivinglog::monthly_readings(&readings))
}

pub fn alarm_windows(
    conn: &Connection,
    rows: &crate::capability::Rows,
) -> Result<Vec<crate::AlarmWindow>, StoreError> {
    let (filter, args): (String, Vec<String>) = match rows {
        crate::capability::Rows::Any => (String::new(), Vec::new()),
        crate::capability::Rows::Employee(e) => (
            format!(" WHERE {}", assigned_at_sql("w.vehicle_id", "w.opened_at")),
            vec![e.clone()],
        ),
    };
    let mut stmt = conn
        .prepare(&format!(
            "SELECT w.id, w.vehicle_id, w.opened_at, w.triggers, w.last_trigger_at, w.resolved_at, w.resolved_by, w.incident,
               w.opened_by, w.reference, w.note
             FROM alarm_window w{filter} ORDER BY w.id DESC"
        ))
        .map_err(db_err)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(args), |r| {
            Ok(crate::AlarmWindow {
                id: r.get(0)?,
                vehicle: VehicleId(r.get(1)?),
                opened_at: Timestamp::from_millis(r.get(2)?),
                triggers: r.get(3)?,
                last_trigger_at: Timestamp::from_millis(r.get(4)?),
                resolved_at: r.get::<_, Option<i64>>(5)?.map(Timestamp::from_millis),
                resolved_by: r.get(6)?,
                incident: r.get::<_, i64>(7)? == 1,
                opened_by: r.get(8)?,
                reference: r.get(9)?,
                note: r.get(10)?,
            })
        })
        .map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

pub fn alarm_positions(
    conn: &Connection,
    window: i64,
) -> Result<Vec<(Timestamp, Position)>, StoreError> {
    let mut stmt = conn
        .prepare("SELECT at, lat, lon FROM alarm_position WHERE window_id = ?1 ORDER BY at")
        .map_err(db_err)?;
    let rows = stmt
        .query_map([window], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, f64>(1)?,
                r.get::<_, f64>(2)?,
            ))
        })
        .map_err(db_err)?;
    let mut out = Vec::new();
    for row in rows {
        let (at, lat, lon) = row.map_err(db_err)?;
        if let Some(p) = Position::new(lat, lon) {
            out.push((Timestamp::from_millis(at), p));
        }
    }
    Ok(out)
}

pub fn utilization_facts_before(
    conn: &Connection,
    before: Timestamp,
) -> Result<Vec<crate::UtilizationFact>, StoreError> {
    let mut stmt = conn
        .prepare(
            "SELECT grp, vehicle_key, start_time, end_time, km, start_cell_lat, start_cell_lon, end_cell_lat, end_cell_lon
             FROM utilization_fact WHERE start_time < ?1",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map([before.millis()], |r| {
            Ok(crate::UtilizationFact {
                group: r.get(0)?,
                vehicle_key: r.get(1)?,
                start: Timestamp::from_millis(r.get(2)?),
                end: Timestamp::from_millis(r.get(3)?),
                km: r.get(4)?,
                start_cell: (r.get(5)?, r.get(6)?),
                end_cell: (r.get(7)?, r.get(8)?),
            })
        })
        .map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

pub fn release_utilization(
    conn: &mut Connection,
    weeks: &[crate::ReleasedWeek],
    facts_before: Timestamp,
) -> Result<(), StoreError> {
    let tx = conn.transaction().map_err(db_err)?;
    let now = super::wall_clock().millis();
    for w in weeks {
        tx.execute(
            "INSERT INTO utilization_week (grp, year, week, released_at, body) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (grp, year, week) DO NOTHING",
            params![w.group, w.year, w.week, now, w.body],
        )
        .map_err(db_err)?;
    }
    let n = tx
        .execute(
            "DELETE FROM utilization_fact WHERE start_time < ?1",
            [facts_before.millis()],
        )
        .map_err(db_err)?;
    super::retention::add_receipt(
        &tx,
        super::wall_clock(),
        "utilization_fact",
        n as u64,
        super::retention::UTILIZATION_RULE,
    )?;
    tx.commit().map_err(db_err)
}

pub fn utilization_weeks(conn: &Connection) -> Result<Vec<crate::ReleasedWeek>, StoreError> {
    let mut stmt = conn
        .prepare("SELECT grp, year, week, body FROM utilization_week ORDER BY year, week, grp")
        .map_err(db_err)?;
    let rows = stmt
        .query_map([], |r| {
            Ok(crate::ReleasedWeek {
                group: r.get(0)?,
                year: r.get(1)?,
                week: r.get(2)?,
                body: r.get(3)?,
            })
        })
        .map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

/// A vehicle's privacy switches, newest first; for one employee, only those made while the
/// vehicle was assigned to them.
pub fn privacy_switches(
    conn: &Connection,
    vehicle: VehicleId,
    rows: &crate::capability::Rows,
) -> Result<Vec<(Timestamp, bool, String)>, StoreError> {
    let (filter, args): (String, Vec<rusqlite::types::Value>) = match rows {
        crate::capability::Rows::Any => (String::new(), vec![vehicle.0.into()]),
        crate::capability::Rows::Employee(e) => (
            format!(" AND {}", assigned_at_sql("s.vehicle_id", "s.at")),
            vec![vehicle.0.into(), e.clone().into()],
        ),
    };
    let mut stmt = conn
        .prepare(&format!(
            "SELECT s.at, s.private, s.source FROM privacy_switch s WHERE s.vehicle_id = ?{filter} ORDER BY s.id DESC"
        ))
        .map_err(db_err)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(args), |r| {
            Ok((
                Timestamp::from_millis(r.get(0)?),
                r.get::<_, i64>(1)? == 1,
                r.get(2)?,
            ))
        })
        .map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}
