//! The purpose engine's tables: its cursor over staging, the driving log, deviations, privacy
//! switches, alarm windows, utilisation facts.

use domain::drivinglog::{
    Classification, FollowUp, FollowUpTrip, LogEntry, NewLogEntry, OdometerReading, PendingTrip,
    PrivateTrip, RecordedDeviation, RecordedTrip,
};
use domain::{DeviceId, Fix, Position, Timestamp, VehicleId, encoding};
use storage::capability::Rows;
use storage::{
    AlarmAction, AlarmWindow, Backlog, OpenAlarm, PurposeBatch, PurposeFeed, ReleasedWeek,
    SetAside, StagedRow, StoreError, UtilizationFact,
};
use tokio_postgres::{GenericClient, Row};

use crate::{Args, block_on, db_err, execute, get, query, query_one, query_opt};

const STAGED_COLUMNS: &str = "id, device_id, fix_time, lat, lon, altitude, course, satellites, speed_kmh, attrs, received_at";

fn staged_row(r: &Row) -> Result<StagedRow, StoreError> {
    let lat: Option<f64> = get(r, 3)?;
    let lon: Option<f64> = get(r, 4)?;
    let attrs: Vec<u8> = get(r, 9)?;
    let course: Option<i32> = get(r, 6)?;
    let satellites: Option<i32> = get(r, 7)?;
    Ok(StagedRow {
        id: get(r, 0)?,
        device: DeviceId(get(r, 1)?),
        received_at: Timestamp::from_millis(get(r, 10)?),
        fix: Fix {
            time: Timestamp::from_millis(get(r, 2)?),
            position: lat.zip(lon).and_then(|(a, b)| Position::new(a, b)),
            altitude_m: get::<Option<f64>>(r, 5)?.map(|v| v as f32),
            course_deg: course.and_then(|v| u16::try_from(v).ok()),
            satellites: satellites.and_then(|v| u8::try_from(v).ok()),
            speed_kmh: get::<Option<f64>>(r, 8)?.map(|v| v as f32),
            // A corrupt blob loses its attributes, not the fix.
            attributes: encoding::decode(&attrs).unwrap_or_default(),
        },
    })
}

pub(crate) struct PgFeed {
    pub(crate) conn: crate::Dedicated,
}

impl PurposeFeed for PgFeed {
    fn cursor(&mut self) -> Result<i64, StoreError> {
        get(
            &query_one(
                self.conn.client()?,
                "SELECT last_staged_id FROM purpose_cursor WHERE id = 1",
                &[],
            )?,
            0,
        )
    }

    fn cursors(&mut self) -> Result<Vec<i64>, StoreError> {
        let mut out = vec![0; usize::from(storage::ENGINE_PARTITIONS)];
        for r in query(
            self.conn.client()?,
            "SELECT part, last_staged_id FROM partition_cursor",
            &[],
        )? {
            let part: i32 = get(&r, 0)?;
            if let Some(slot) = usize::try_from(part).ok().and_then(|p| out.get_mut(p)) {
                *slot = get(&r, 1)?;
            }
        }
        Ok(out)
    }

    fn lease_round(&mut self, node: &str, ttl_ms: i64) -> Result<storage::LeaseGrant, StoreError> {
        let tx = block_on(self.conn.client()?.transaction()).map_err(db_err)?;
        // One lease round at a time on this database (by the schema's own table, so that
        // other schemas on the same server, e.g. test runs, do not wait on each other).
        execute(
            &tx,
            "LOCK TABLE engine_lease IN SHARE ROW EXCLUSIVE MODE",
            &[],
        )?;
        let now: i64 = get(&query_one(&tx, "SELECT sporvern_now_ms()", &[])?, 0)?;
        let until = now + ttl_ms;
        // Renew what is still ours (an expired lease is lost: another node may have it).
        execute(
            &tx,
            "UPDATE engine_lease SET expires_at = $2 WHERE holder = $1 AND expires_at > $3",
            &[&node, &until, &now],
        )?;
        execute(
            &tx,
            "INSERT INTO engine_lease (name, holder, expires_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at",
            &[&format!("node/{node}"), &node, &until],
        )?;
        let nodes: i64 = get(
            &query_one(
                &tx,
                "SELECT COUNT(*) FROM engine_lease WHERE name LIKE 'node/%' AND expires_at > $1",
                &[&now],
            )?,
            0,
        )?;
        let mut held = Vec::new();
        let mut taken = std::collections::HashSet::new();
        for r in query(
            &tx,
            "SELECT name, holder FROM engine_lease WHERE name LIKE 'partition/%' AND expires_at > $1",
            &[&now],
        )? {
            let (name, holder): (String, String) = (get(&r, 0)?, get(&r, 1)?);
            if let Some(p) = storage::parse_partition_lease(&name) {
                taken.insert(p);
                if holder == node {
                    held.push(p);
                }
            }
        }
        let free: Vec<u16> = (0..storage::ENGINE_PARTITIONS)
            .filter(|p| !taken.contains(p))
            .collect();
        let (release, take) =
            storage::lease_plan(&held, usize::try_from(nodes).unwrap_or(1), &free);
        for p in &release {
            execute(
                &tx,
                "DELETE FROM engine_lease WHERE name = $1 AND holder = $2",
                &[&storage::partition_lease(*p), &node],
            )?;
            held.retain(|h| h != p);
        }
        for p in take {
            execute(
                &tx,
                "INSERT INTO engine_lease (name, holder, expires_at) VALUES ($1, $2, $3)
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
                 WHERE engine_lease.expires_at <= $4",
                &[&storage::partition_lease(p), &node, &until, &now],
            )?;
            held.push(p);
        }
        execute(
            &tx,
            "INSERT INTO engine_lease (name, holder, expires_at) VALUES ('schedule', $1, $2)
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
             WHERE engine_lease.expires_at <= $3",
            &[&node, &until, &now],
        )?;
        let schedule: bool = get(
            &query_one(
                &tx,
                "SELECT holder = $1 FROM engine_lease WHERE name = 'schedule'",
                &[&node],
            )?,
            0,
        )?;
        block_on(tx.commit()).map_err(db_err)?;
        held.sort_unstable();
        Ok(storage::LeaseGrant {
            partitions: held,
            schedule,
            nodes: usize::try_from(nodes).unwrap_or(1),
        })
    }

    fn lease_release(&mut self, node: &str) -> Result<(), StoreError> {
        execute(
            self.conn.client()?,
            "DELETE FROM engine_lease WHERE holder = $1",
            &[&node],
        )?;
        Ok(())
    }

    fn commit_leased(
        &mut self,
        b: &PurposeBatch,
        fence: storage::Fence<'_>,
    ) -> Result<(), StoreError> {
        self.write_batch(b, Some(fence))
    }

    fn next(&mut self, after: i64, limit: usize) -> Result<Vec<StagedRow>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        query(
            self.conn.client()?,
            &format!("SELECT {STAGED_COLUMNS} FROM staged_fix WHERE id > $1 ORDER BY id LIMIT $2"),
            &[&after, &limit],
        )?
        .iter()
        .map(staged_row)
        .collect()
    }

    fn replay(
        &mut self,
        devices: &[DeviceId],
        after: i64,
        up_to: i64,
    ) -> Result<Vec<StagedRow>, StoreError> {
        let ids: Vec<i64> = devices.iter().map(|d| d.0).collect();
        let mut out: Vec<StagedRow> = query(
            self.conn.client()?,
            &format!(
                "SELECT {STAGED_COLUMNS} FROM staged_fix WHERE device_id = ANY($1) AND id > $2 AND id <= $3"
            ),
            &[&ids, &after, &up_to],
        )?
        .iter()
        .map(staged_row)
        .collect::<Result<_, _>>()?;
        out.sort_by_key(|r| (r.fix.time, r.id));
        Ok(out)
    }

    fn watermarks(&mut self) -> Result<Vec<(VehicleId, i64)>, StoreError> {
        query(
            self.conn.client()?,
            "SELECT vehicle_id, staged_id FROM drivinglog_watermark",
            &[],
        )?
        .iter()
        .map(|r| Ok((VehicleId(get(r, 0)?), get(r, 1)?)))
        .collect()
    }

    fn privacy_states(&mut self) -> Result<Vec<(VehicleId, bool)>, StoreError> {
        query(
            self.conn.client()?,
            "SELECT DISTINCT ON (vehicle_id) vehicle_id, private FROM privacy_switch
             ORDER BY vehicle_id, id DESC",
            &[],
        )?
        .iter()
        .map(|r| Ok((VehicleId(get(r, 0)?), get(r, 1)?)))
        .collect()
    }

    fn open_alarms(&mut self) -> Result<Vec<OpenAlarm>, StoreError> {
        query(
            self.conn.client()?,
            "SELECT id, vehicle_id, last_trigger_at, opened_by IS NOT NULL, opened_at, triggers
             FROM alarm_window WHERE resolved_at IS NULL ORDER BY id",
            &[],
        )?
        .iter()
        .map(|r| {
            Ok(OpenAlarm {
                window: get(r, 0)?,
                vehicle: VehicleId(get(r, 1)?),
                last_trigger_at: Timestamp::from_millis(get(r, 2)?),
                by_hand: get(r, 3)?,
                opened_at: Timestamp::from_millis(get(r, 4)?),
                triggers: get(r, 5)?,
            })
        })
        .collect()
    }

    fn set_aside(&mut self, rows: &[SetAside]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let tx = block_on(self.conn.client()?.transaction()).map_err(db_err)?;
        for r in rows {
            // Idempotent: a row set aside again after a crash before its batch committed is
            // kept once, with the latest reason (SQLite's INSERT OR REPLACE).
            execute(
                &tx,
                "INSERT INTO staged_set_aside (staged_id, device_id, fix_time, received_at, reason, set_aside_at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (staged_id) DO UPDATE SET device_id = excluded.device_id,
                   fix_time = excluded.fix_time, received_at = excluded.received_at,
                   reason = excluded.reason, set_aside_at = excluded.set_aside_at",
                &[
                    &r.staged_id,
                    &r.device.0,
                    &r.fix_time.millis(),
                    &r.received_at.millis(),
                    &r.reason,
                    &r.at.millis(),
                ],
            )?;
        }
        block_on(tx.commit()).map_err(db_err)
    }

    fn backlog(&mut self, after: i64) -> Result<Backlog, StoreError> {
        // Staged ids grow with arrival and are purged from below, so the count after the
        // cursor is the newest id minus the cursor (ids skipped by a rolled-back insert or an
        // identity cache make it an upper bound); both lookups are on the primary key.
        let c = self.conn.client()?;
        let newest: Option<i64> = get(&query_one(c, "SELECT MAX(id) FROM staged_fix", &[])?, 0)?;
        let oldest: Option<i64> = query_opt(
            c,
            "SELECT received_at FROM staged_fix WHERE id > $1 ORDER BY id LIMIT 1",
            &[&after],
        )?
        .map(|r| get(&r, 0))
        .transpose()?;
        Ok(Backlog {
            rows: u64::try_from(newest.unwrap_or(after) - after).unwrap_or(0),
            oldest_received: oldest.map(Timestamp::from_millis),
        })
    }

    fn commit(&mut self, b: &PurposeBatch) -> Result<(), StoreError> {
        self.write_batch(b, None)
    }

    fn utilization_facts_before(
        &mut self,
        before: Timestamp,
    ) -> Result<Vec<UtilizationFact>, StoreError> {
        query(
            self.conn.client()?,
            "SELECT grp, vehicle_key, start_time, end_time, km, start_cell_lat, start_cell_lon, end_cell_lat, end_cell_lon
             FROM utilization_fact WHERE start_time < $1",
            &[&before.millis()],
        )?
        .iter()
        .map(|r| {
            Ok(UtilizationFact {
                group: get(r, 0)?,
                vehicle_key: get(r, 1)?,
                start: Timestamp::from_millis(get(r, 2)?),
                end: Timestamp::from_millis(get(r, 3)?),
                km: get(r, 4)?,
                start_cell: (get(r, 5)?, get(r, 6)?),
                end_cell: (get(r, 7)?, get(r, 8)?),
            })
        })
        .collect()
    }

    fn release_utilization(
        &mut self,
        weeks: &[ReleasedWeek],
        facts_before: Timestamp,
    ) -> Result<(), StoreError> {
        let tx = block_on(self.conn.client()?.transaction()).map_err(db_err)?;
        let now = crate::store::now_ms();
        for w in weeks {
            execute(
                &tx,
                "INSERT INTO utilization_week (grp, year, week, released_at, body) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (grp, year, week) DO NOTHING",
                &[&w.group, &w.year, &i32::from(w.week), &now, &w.body],
            )?;
        }
        let n = execute(
            &tx,
            "DELETE FROM utilization_fact WHERE start_time < $1",
            &[&facts_before.millis()],
        )?;
        crate::retention::add_receipt(
            &tx,
            Timestamp::from_millis(now),
            "utilization_fact",
            n,
            crate::retention::UTILIZATION_RULE,
        )?;
        block_on(tx.commit()).map_err(db_err)
    }
}

impl PgFeed {
    /// One batch in one transaction: what the purposes keep, the cursors, and (for a node
    /// holding leases) the check that it still holds them — the lease rows are locked
    /// `FOR SHARE`, so a node taking one over waits until this batch has committed.
    fn write_batch(
        &mut self,
        b: &PurposeBatch,
        fence: Option<storage::Fence<'_>>,
    ) -> Result<(), StoreError> {
        let tx = block_on(self.conn.client()?.transaction()).map_err(db_err)?;
        let recorded_at = b.recorded_at.millis();
        if let Some(f) = fence {
            let names: Vec<String> = f
                .partitions
                .iter()
                .map(|p| storage::partition_lease(*p))
                .collect();
            let held = query(
                &tx,
                "SELECT name FROM engine_lease
                  WHERE name = ANY($1) AND holder = $2 AND expires_at > sporvern_now_ms()
                  FOR SHARE",
                &[&names, &f.node],
            )?;
            if held.len() != names.len() {
                return Err(StoreError::Refused(format!(
                    "node {} no longer holds the leases of every partition it worked on; the batch is not written",
                    f.node
                )));
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
                    execute(
                        &tx,
                        "INSERT INTO trip (vehicle_id, local_date, km, private, start_time, end_time, start_place, end_place,
                           odometer_start_km, odometer_end_km, distance_source, driver_number, recorded_at)
                         VALUES ($1, $2, $3, FALSE, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                        &[
                            &vehicle.0,
                            date,
                            km,
                            &start.millis(),
                            &end.millis(),
                            start_place,
                            end_place,
                            odometer_start_km,
                            odometer_end_km,
                            distance_source,
                            driver,
                            &recorded_at,
                        ],
                    )?;
                }
                NewLogEntry::Private { vehicle, date, km } => {
                    // Recorded "at" its date only: the time the builder closed it would tell
                    // when a private trip ended (the CHECK `private_trip_recorded_at_its_date`).
                    execute(
                        &tx,
                        "INSERT INTO trip (vehicle_id, local_date, km, private, recorded_at)
                         VALUES ($1, $2, $3, TRUE, ($2::date - DATE '1970-01-01')::bigint * 86400000)",
                        &[&vehicle.0, date, km],
                    )?;
                }
            }
        }
        for d in &b.deviations {
            execute(
                &tx,
                "INSERT INTO deviation (vehicle_id, local_date, from_time, to_time, kind, km, note, recorded_at,
                   odometer_before_km, odometer_after_km)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                &[
                    &d.vehicle.0,
                    &d.date,
                    &d.from.millis(),
                    &d.to.millis(),
                    &d.kind,
                    &d.km,
                    &d.note,
                    &recorded_at,
                    &d.odometer_km.map(|o| o.0),
                    &d.odometer_km.map(|o| o.1),
                ],
            )?;
        }
        for (vehicle, at, private, source) in &b.privacy_switches {
            execute(
                &tx,
                "INSERT INTO privacy_switch (vehicle_id, at, private, source) VALUES ($1, $2, $3, $4)",
                &[&vehicle.0, &at.millis(), private, source],
            )?;
        }
        for (vehicle, staged) in &b.watermarks {
            execute(
                &tx,
                "INSERT INTO drivinglog_watermark (vehicle_id, staged_id) VALUES ($1, $2)
                 ON CONFLICT (vehicle_id) DO UPDATE
                   SET staged_id = GREATEST(drivinglog_watermark.staged_id, excluded.staged_id)",
                &[&vehicle.0, staged],
            )?;
        }
        for a in &b.alarms {
            match a {
                AlarmAction::Open {
                    vehicle,
                    at,
                    triggers,
                    position,
                } => {
                    let id: i64 = get(
                        &query_one(
                            &tx,
                            "INSERT INTO alarm_window (vehicle_id, opened_at, triggers, last_trigger_at)
                             VALUES ($1, $2, $3, $2) RETURNING id",
                            &[&vehicle.0, &at.millis(), triggers],
                        )?,
                        0,
                    )?;
                    if let Some(p) = position {
                        execute(
                            &tx,
                            "INSERT INTO alarm_position (window_id, at, lat, lon) VALUES ($1, $2, $3, $4)
                             ON CONFLICT DO NOTHING",
                            &[&id, &at.millis(), &p.lat(), &p.lon()],
                        )?;
                    }
                }
                AlarmAction::Position {
                    vehicle,
                    at,
                    position,
                    trigger,
                } => {
                    execute(
                        &tx,
                        "INSERT INTO alarm_position (window_id, at, lat, lon)
                         SELECT id, $2, $3, $4 FROM alarm_window
                         WHERE vehicle_id = $1 AND resolved_at IS NULL ORDER BY id DESC LIMIT 1
                         ON CONFLICT DO NOTHING",
                        &[&vehicle.0, &at.millis(), &position.lat(), &position.lon()],
                    )?;
                    if *trigger {
                        execute(
                            &tx,
                            "UPDATE alarm_window SET last_trigger_at = GREATEST(last_trigger_at, $2)
                             WHERE vehicle_id = $1 AND resolved_at IS NULL",
                            &[&vehicle.0, &at.millis()],
                        )?;
                    }
                }
                AlarmAction::AutoResolve { vehicle, at } => {
                    execute(
                        &tx,
                        "UPDATE alarm_window SET resolved_at = $2, resolved_by = 'automatic: no new alarm'
                         WHERE vehicle_id = $1 AND resolved_at IS NULL AND opened_by IS NULL",
                        &[&vehicle.0, &at.millis()],
                    )?;
                }
            }
        }
        for f in &b.utilization {
            execute(
                &tx,
                "INSERT INTO utilization_fact (grp, vehicle_key, start_time, end_time, km,
                   start_cell_lat, start_cell_lon, end_cell_lat, end_cell_lon)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &[
                    &f.group,
                    &f.vehicle_key,
                    &f.start.millis(),
                    &f.end.millis(),
                    &f.km,
                    &f.start_cell.0,
                    &f.start_cell.1,
                    &f.end_cell.0,
                    &f.end_cell.1,
                ],
            )?;
        }
        match fence {
            None => execute(
                &tx,
                "UPDATE partition_cursor SET last_staged_id = GREATEST(last_staged_id, $1)",
                &[&b.up_to],
            )?,
            Some(f) => {
                let parts: Vec<i32> = f.partitions.iter().map(|p| i32::from(*p)).collect();
                execute(
                    &tx,
                    "UPDATE partition_cursor SET last_staged_id = GREATEST(last_staged_id, $1) WHERE part = ANY($2)",
                    &[&b.up_to, &parts],
                )?
            }
        };
        execute(
            &tx,
            "UPDATE purpose_cursor SET last_staged_id = (SELECT MIN(last_staged_id) FROM partition_cursor) WHERE id = 1",
            &[],
        )?;
        block_on(tx.commit()).map_err(db_err)
    }
}

pub(crate) fn purge_consumed<C: GenericClient>(
    c: &C,
    before: Timestamp,
) -> Result<u64, StoreError> {
    execute(
        c,
        "DELETE FROM staged_fix WHERE received_at < $1
           AND id <= (SELECT last_staged_id FROM purpose_cursor WHERE id = 1)",
        &[&before.millis()],
    )
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
pub(crate) fn vehicle_reg<C: GenericClient>(
    c: &C,
    vehicle: VehicleId,
) -> Result<String, StoreError> {
    match query_opt(c, "SELECT reg FROM vehicle WHERE id = $1", &[&vehicle.0])? {
        Some(r) => get(&r, 0),
        None => Err(StoreError::Refused(format!(
            "no vehicle with id {}",
            vehicle.0
        ))),
    }
}

/// Whether the employee was assigned the vehicle on some day between `from` and `to`.
pub(crate) fn assigned_between<C: GenericClient>(
    c: &C,
    employee: &str,
    vehicle: VehicleId,
    from: time::Date,
    to: time::Date,
) -> Result<bool, StoreError> {
    get(
        &query_one(
            c,
            "SELECT EXISTS (SELECT 1 FROM assignment a JOIN employee e ON e.id = a.employee_id
                 WHERE e.number = $1 AND a.vehicle_id = $2 AND a.valid_from <= $4
                   AND (a.valid_to IS NULL OR a.valid_to > $3))",
            &[&employee, &vehicle.0, &from, &to],
        )?,
        0,
    )
}

/// SQL true when the row's vehicle (`vehicle`) was assigned to the employee (placeholder
/// `employee`) at the time in milliseconds `at` (a UTC date, as on SQLite).
fn assigned_at_sql(vehicle: &str, at: &str, employee: &str) -> String {
    let day = format!("(to_timestamp({at} / 1000) AT TIME ZONE 'UTC')::date");
    format!(
        "EXISTS (SELECT 1 FROM assignment a JOIN employee e ON e.id = a.employee_id
             WHERE e.number = {employee} AND a.vehicle_id = {vehicle}
               AND a.valid_from <= {day}
               AND (a.valid_to IS NULL OR a.valid_to > {day}))"
    )
}

/// Trips between two dates, of one vehicle or of every vehicle, of every driver or of one
/// (`rows`), with the vehicle's registration number.
pub(crate) fn driving_log<C: GenericClient>(
    c: &C,
    vehicle: Option<VehicleId>,
    rows: &Rows,
    from: time::Date,
    to: time::Date,
) -> Result<Vec<(String, LogEntry)>, StoreError> {
    let mut args = Args::default();
    let mut sql = format!(
        "SELECT t.id, t.local_date, t.km, t.private, t.start_time, t.end_time, t.start_place, t.end_place,
                t.odometer_start_km, t.odometer_end_km, t.distance_source, t.driver_number,
                c.class, c.purpose, v.reg
         FROM trip t
         JOIN vehicle v ON v.id = t.vehicle_id
         LEFT JOIN trip_class c ON c.id = (SELECT MAX(id) FROM trip_class WHERE trip_id = t.id)
         WHERE t.local_date BETWEEN {} AND {}",
        args.push(from),
        args.push(to)
    );
    if let Some(v) = vehicle {
        sql.push_str(&format!(" AND t.vehicle_id = {}", args.push(v.0)));
    }
    if let Rows::Employee(e) = rows {
        // The employee's trips: those they drove, and the trips with no driver recorded (a
        // private trip keeps none) in a vehicle assigned to them that day.
        // A corrected driver attribution counts (`EFFECTIVE_DRIVER`).
        let e = args.push(e.clone());
        let driver = crate::changes::EFFECTIVE_DRIVER;
        sql.push_str(&format!(
            " AND ({driver} = {e} OR ({driver} IS NULL AND EXISTS (
                 SELECT 1 FROM assignment a JOIN employee e ON e.id = a.employee_id
                 WHERE e.number = {e} AND a.vehicle_id = t.vehicle_id AND a.valid_from <= t.local_date
                   AND (a.valid_to IS NULL OR a.valid_to > t.local_date))))"
        ));
    }
    sql.push_str(" ORDER BY t.local_date, t.id");
    let mut out = Vec::new();
    for r in query(c, &sql, &args.refs())? {
        let id: i64 = get(&r, 0)?;
        let date: time::Date = get(&r, 1)?;
        let km: f64 = get(&r, 2)?;
        let private: bool = get(&r, 3)?;
        let class: Option<String> = get(&r, 12)?;
        let class = classification(class.as_deref().unwrap_or(""), get(&r, 13)?);
        let reg: String = get(&r, 14)?;
        // A private trip — switched private in the car, or classified private afterwards — is
        // shown as its date and km; nothing else is even read into memory.
        if private || class == Classification::Private {
            out.push((reg, LogEntry::Private(PrivateTrip { id, date, km })));
            continue;
        }
        let time = |i| -> Result<Timestamp, StoreError> {
            let v: Option<i64> = get(&r, i)?;
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
                start_place: get::<Option<String>>(&r, 6)?.unwrap_or_default(),
                end_place: get::<Option<String>>(&r, 7)?.unwrap_or_default(),
                odometer_start_km: get(&r, 8)?,
                odometer_end_km: get(&r, 9)?,
                km,
                distance_source: get::<Option<String>>(&r, 10)?.unwrap_or_default(),
                driver: get(&r, 11)?,
                classification: class,
            }),
        ));
    }
    Ok(out)
}

pub(crate) fn deviations<C: GenericClient>(
    c: &C,
    vehicle: VehicleId,
    from: time::Date,
    to: time::Date,
) -> Result<Vec<RecordedDeviation>, StoreError> {
    query(
        c,
        "SELECT local_date, from_time, to_time, kind, km, note, odometer_before_km, odometer_after_km
         FROM deviation WHERE vehicle_id = $1 AND local_date BETWEEN $2 AND $3 ORDER BY from_time",
        &[&vehicle.0, &from, &to],
    )?
    .iter()
    .map(|r| {
        Ok(RecordedDeviation {
            date: get(r, 0)?,
            from: Timestamp::from_millis(get(r, 1)?),
            to: Timestamp::from_millis(get(r, 2)?),
            kind: get(r, 3)?,
            km: get(r, 4)?,
            note: get(r, 5)?,
            odometer_km: get::<Option<f64>>(r, 6)?.zip(get::<Option<f64>>(r, 7)?),
        })
    })
    .collect()
}

pub(crate) fn alarm_windows<C: GenericClient>(
    c: &C,
    rows: &Rows,
) -> Result<Vec<AlarmWindow>, StoreError> {
    let mut args = Args::default();
    let filter = match rows {
        Rows::Any => String::new(),
        Rows::Employee(e) => format!(
            " WHERE {}",
            assigned_at_sql("w.vehicle_id", "w.opened_at", &args.push(e.clone()))
        ),
    };
    query(
        c,
        &format!(
            "SELECT w.id, w.vehicle_id, w.opened_at, w.triggers, w.last_trigger_at, w.resolved_at, w.resolved_by, w.incident,
                    w.opened_by, w.reference, w.note
             FROM alarm_window w{filter} ORDER BY w.id DESC"
        ),
        &args.refs(),
    )?
    .iter()
    .map(|r| {
        Ok(AlarmWindow {
            id: get(r, 0)?,
            vehicle: VehicleId(get(r, 1)?),
            opened_at: Timestamp::from_millis(get(r, 2)?),
            triggers: get(r, 3)?,
            last_trigger_at: Timestamp::from_millis(get(r, 4)?),
            resolved_at: get::<Option<i64>>(r, 5)?.map(Timestamp::from_millis),
            resolved_by: get(r, 6)?,
            incident: get(r, 7)?,
            opened_by: get(r, 8)?,
            reference: get(r, 9)?,
            note: get(r, 10)?,
        })
    })
    .collect()
}

pub(crate) fn alarm_positions<C: GenericClient>(
    c: &C,
    window: i64,
) -> Result<Vec<(Timestamp, Position)>, StoreError> {
    let mut out = Vec::new();
    for r in query(
        c,
        "SELECT at, lat, lon FROM alarm_position WHERE window_id = $1 ORDER BY at",
        &[&window],
    )? {
        if let Some(p) = Position::new(get(&r, 1)?, get(&r, 2)?) {
            out.push((Timestamp::from_millis(get(&r, 0)?), p));
        }
    }
    Ok(out)
}

/// The keeper's follow-up lists (see `Store::followups`). Times are read to decide and never
/// returned.
pub(crate) fn followups<C: GenericClient>(
    c: &C,
    from: time::Date,
    to: time::Date,
    outside_hours: &dyn Fn(Timestamp) -> bool,
    unclassified_before: time::Date,
) -> Result<Vec<FollowUpTrip>, StoreError> {
    let mut out = Vec::new();
    for r in query(
        c,
        "SELECT t.id, t.local_date, t.km, t.start_time, v.reg, c.class, c.purpose FROM trip t
         JOIN vehicle v ON v.id = t.vehicle_id
         LEFT JOIN trip_class c ON c.id = (SELECT MAX(id) FROM trip_class WHERE trip_id = t.id)
         WHERE t.local_date BETWEEN $1 AND $2 AND NOT t.private
           AND (c.class IS NULL OR c.class <> 'private')
         ORDER BY t.local_date, t.id",
        &[&from, &to],
    )? {
        let id: i64 = get(&r, 0)?;
        let date: time::Date = get(&r, 1)?;
        let km: f64 = get(&r, 2)?;
        let start: Option<i64> = get(&r, 3)?;
        let reg: String = get(&r, 4)?;
        let class: Option<String> = get(&r, 5)?;
        let purpose: Option<String> = get(&r, 6)?;
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
pub(crate) fn monthly_odometer<C: GenericClient>(
    c: &C,
    vehicle: VehicleId,
    from: time::Date,
    to: time::Date,
) -> Result<Vec<OdometerReading>, StoreError> {
    let readings = query(
        c,
        "SELECT t.end_time, t.local_date, t.odometer_end_km FROM trip t
         LEFT JOIN trip_class c ON c.id = (SELECT MAX(id) FROM trip_class WHERE trip_id = t.id)
         WHERE t.vehicle_id = $1 AND t.local_date BETWEEN $2 AND $3 AND NOT t.private
           AND t.odometer_end_km IS NOT NULL AND t.end_time IS NOT NULL
           AND (c.class IS NULL OR c.class <> 'private')",
        &[&vehicle.0, &from, &to],
    )?
    .iter()
    .map(|r| {
        Ok((
            Timestamp::from_millis(get(r, 0)?),
            OdometerReading {
                date: get(r, 1)?,
                km: get(r, 2)?,
            },
        ))
    })
    .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(domain::drivinglog::monthly_readings(&readings))
}

pub(crate) fn utilization_weeks<C: GenericClient>(c: &C) -> Result<Vec<ReleasedWeek>, StoreError> {
    query(
        c,
        "SELECT grp, year, week, body FROM utilization_week ORDER BY year, week, grp",
        &[],
    )?
    .iter()
    .map(|r| {
        let week: i32 = get(r, 2)?;
        Ok(ReleasedWeek {
            group: get(r, 0)?,
            year: get(r, 1)?,
            week: u8::try_from(week)
                .map_err(|_| StoreError::Corrupt(format!("ISO week {week}")))?,
            body: get(r, 3)?,
        })
    })
    .collect()
}

/// A vehicle's privacy switches, newest first; for one employee, only those made while the
/// vehicle was assigned to them.
pub(crate) fn privacy_switches<C: GenericClient>(
    c: &C,
    vehicle: VehicleId,
    rows: &Rows,
) -> Result<Vec<(Timestamp, bool, String)>, StoreError> {
    let mut args = Args::default();
    let v = args.push(vehicle.0);
    let filter = match rows {
        Rows::Any => String::new(),
        Rows::Employee(e) => format!(
            " AND {}",
            assigned_at_sql("s.vehicle_id", "s.at", &args.push(e.clone()))
        ),
    };
    query(
        c,
        &format!(
            "SELECT s.at, s.private, s.source FROM privacy_switch s WHERE s.vehicle_id = {v}{filter} ORDER BY s.id DESC"
        ),
        &args.refs(),
    )?
    .iter()
    .map(|r| Ok((Timestamp::from_millis(get(r, 0)?), get(r, 1)?, get(r, 2)?)))
    .collect()
}
