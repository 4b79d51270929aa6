//! [`PgStore`]: the `Store` trait on PostgreSQL, and the ingest and ledger writers.

use std::collections::BTreeMap;

use domain::changes::{MonthStep, TripFacts};
use domain::drivinglog::{FollowUpTrip, LogEntry, OdometerReading, RecordedDeviation};
use domain::{DeviceId, ExternalId, FieldKind, Protocol, Timestamp, VehicleId, encoding};
use storage::capability::{self, Rows};
use storage::{
    AlarmWindow, Applied, AuditRecord, AuditWriter, Capability, Change, CommitOutcome,
    DriverCorrection, FieldSeen, IngestWriter, InventoryEntry, NewUser, PlannedDeletion,
    PurposeFeed, Receipt, RegisterStore, RegisteredDevice, ReleasedWeek, RetentionPolicy,
    StagedFix, StagingStats, Store, StoreError, UserRow,
};
use tokio_postgres::{Client, Statement};

use crate::{
    Dedicated, Pool, audit, block_on, changes, connect, db_err, execute, get, migrate_client,
    org_rows, parse_url, purposes, query, query_one, query_opt, retention,
};

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The store on PostgreSQL.
pub struct PgStore {
    pool: Pool,
}

impl PgStore {
    /// Connects to the database named by `url` and applies the migrations it lacks.
    pub fn open(url: &str) -> Result<PgStore, StoreError> {
        let config = parse_url(url)?;
        let mut first = connect(&config)?;
        migrate_client(&mut first)?;
        Ok(PgStore {
            pool: Pool::new(config, first),
        })
    }

    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.pool.with(f)
    }

    fn own_client(&self) -> Result<Dedicated, StoreError> {
        Dedicated::new(self.pool.config())
    }
}

fn user_row(r: &tokio_postgres::Row) -> Result<UserRow, StoreError> {
    Ok(UserRow {
        name: get(r, 0)?,
        roles: get::<String>(r, 1)?
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        employee_number: get(r, 2)?,
        has_password: get(r, 3)?,
        disabled: get(r, 4)?,
    })
}

const USER_COLUMNS: &str = "name, roles, employee_number, password_hash IS NOT NULL, disabled";

impl Store for PgStore {
    fn apply_org(&self, desired: &org::Org) -> Result<org::Changes, StoreError> {
        self.with(|c| {
            let tx = block_on(c.transaction()).map_err(db_err)?;
            // One organisation change at a time, also from two nodes.
            execute(
                &tx,
                "SELECT version FROM org_version WHERE id = 1 FOR UPDATE",
                &[],
            )?;
            let current = org_rows::load(&tx)?;
            let changes = org::diff(&current, desired);
            if !changes.is_empty() {
                org_rows::write(&tx, desired, now_ms())?;
                execute(
                    &tx,
                    "UPDATE org_version SET version = version + 1 WHERE id = 1",
                    &[],
                )?;
            }
            block_on(tx.commit()).map_err(db_err)?;
            Ok(changes)
        })
    }

    fn load_org(&self) -> Result<org::Org, StoreError> {
        self.with(|c| {
            let tx = block_on(
                c.build_transaction()
                    .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                    .read_only(true)
                    .start(),
            )
            .map_err(db_err)?;
            let org = org_rows::load(&tx)?;
            block_on(tx.commit()).map_err(db_err)?;
            Ok(org)
        })
    }

    fn org_version(&self) -> Result<i64, StoreError> {
        self.with(|c| {
            get(
                &query_one(c, "SELECT version FROM org_version WHERE id = 1", &[])?,
                0,
            )
        })
    }

    fn devices(&self) -> Result<Vec<RegisteredDevice>, StoreError> {
        self.with(|c| {
            query(
                c,
                "SELECT id, protocol, external_id, vehicle_id FROM device WHERE active",
                &[],
            )?
            .iter()
            .map(|r| {
                let protocol = Protocol::parse(&get::<String>(r, 1)?)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let external_id = ExternalId::parse(protocol, &get::<String>(r, 2)?)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                Ok(RegisteredDevice {
                    id: DeviceId(get(r, 0)?),
                    protocol,
                    external_id,
                    vehicle: VehicleId(get(r, 3)?),
                })
            })
            .collect()
        })
    }

    fn inventory(&self, device: DeviceId) -> Result<Vec<InventoryEntry>, StoreError> {
        self.with(|c| {
            query(
                c,
                "SELECT field_key, kind, first_seen, last_seen FROM device_field
                 WHERE device_id = $1 ORDER BY field_key",
                &[&device.0],
            )?
            .iter()
            .map(|r| {
                Ok(InventoryEntry {
                    key: get(r, 0)?,
                    kind: FieldKind::parse(&get::<String>(r, 1)?).unwrap_or(FieldKind::Other),
                    first_seen: Timestamp::from_millis(get(r, 2)?),
                    last_seen: Timestamp::from_millis(get(r, 3)?),
                })
            })
            .collect()
        })
    }

    fn staging_stats(&self) -> Result<StagingStats, StoreError> {
        self.with(|c| {
            let r = query_one(c, "SELECT COUNT(*), MIN(received_at) FROM staged_fix", &[])?;
            Ok(StagingStats {
                rows: u64::try_from(get::<i64>(&r, 0)?).unwrap_or(0),
                oldest_received: get::<Option<i64>>(&r, 1)?.map(Timestamp::from_millis),
            })
        })
    }

    fn purge_staging(&self, before: Timestamp) -> Result<u64, StoreError> {
        self.with(|c| {
            let tx = block_on(c.transaction()).map_err(db_err)?;
            let n = execute(
                &tx,
                "DELETE FROM staged_fix WHERE received_at < $1",
                &[&before.millis()],
            )?;
            // What was set aside goes with the staging area's lifetime.
            execute(
                &tx,
                "DELETE FROM staged_set_aside WHERE received_at < $1",
                &[&before.millis()],
            )?;
            retention::add_receipt(
                &tx,
                Timestamp::from_millis(now_ms()),
                "staged_fix",
                n,
                retention::STAGING_LIFETIME_RULE,
            )?;
            block_on(tx.commit()).map_err(db_err)?;
            Ok(n)
        })
    }

    fn purge_consumed(&self, before: Timestamp) -> Result<u64, StoreError> {
        self.with(|c| {
            let tx = block_on(c.transaction()).map_err(db_err)?;
            let n = purposes::purge_consumed(&tx, before)?;
            retention::add_receipt(
                &tx,
                Timestamp::from_millis(now_ms()),
                "staged_fix",
                n,
                retention::STAGING_CONSUMED_RULE,
            )?;
            block_on(tx.commit()).map_err(db_err)?;
            Ok(n)
        })
    }

    fn purpose_feed(&self) -> Result<Box<dyn PurposeFeed>, StoreError> {
        Ok(Box::new(purposes::PgFeed {
            conn: self.own_client()?,
        }))
    }

    fn driving_log(
        &self,
        cap: &Capability,
        vehicle: VehicleId,
        from: time::Date,
        to: time::Date,
    ) -> Result<Vec<LogEntry>, StoreError> {
        use access::ReadPurpose::{DrivingLog, OwnData};
        let rows = capability::rows_for(cap, &[DrivingLog, OwnData], "the driving log")?;
        self.with(|c| {
            capability::covers(cap, &purposes::vehicle_reg(c, vehicle)?, "the driving log")?;
            let log = purposes::driving_log(c, Some(vehicle), &rows, from, to)?;
            Ok(capability::through_view(
                cap,
                log.into_iter().map(|(_, e)| e).collect(),
            ))
        })
    }

    fn own_driving_log(
        &self,
        cap: &Capability,
        from: time::Date,
        to: time::Date,
    ) -> Result<Vec<(String, LogEntry)>, StoreError> {
        use access::ReadPurpose::{DrivingLog, OwnData};
        let rows = capability::rows_for(cap, &[DrivingLog, OwnData], "the driving log")?;
        if rows == Rows::Any {
            return Err(StoreError::Refused(
                "own trips are read with an \"own\" capability".to_owned(),
            ));
        }
        self.with(|c| purposes::driving_log(c, None, &rows, from, to))
    }

    fn deviations(
        &self,
        cap: &Capability,
        vehicle: VehicleId,
        from: time::Date,
        to: time::Date,
    ) -> Result<Vec<RecordedDeviation>, StoreError> {
        use access::ReadPurpose::{DrivingLog, OwnData};
        let rows = capability::rows_for(cap, &[DrivingLog, OwnData], "deviations")?;
        self.with(|c| {
            capability::covers(cap, &purposes::vehicle_reg(c, vehicle)?, "deviations")?;
            if let Rows::Employee(e) = &rows
                && !purposes::assigned_between(c, e, vehicle, from, to)?
            {
                return Ok(Vec::new());
            }
            purposes::deviations(c, vehicle, from, to)
        })
    }

    fn monthly_odometer(
        &self,
        cap: &Capability,
        vehicle: VehicleId,
        from: time::Date,
        to: time::Date,
    ) -> Result<Vec<OdometerReading>, StoreError> {
        use access::ReadPurpose::{DrivingLog, OwnData};
        let rows = capability::rows_for(cap, &[DrivingLog, OwnData], "the odometer readings")?;
        self.with(|c| {
            capability::covers(
                cap,
                &purposes::vehicle_reg(c, vehicle)?,
                "the odometer readings",
            )?;
            if let Rows::Employee(e) = &rows
                && !purposes::assigned_between(c, e, vehicle, from, to)?
            {
                return Ok(Vec::new());
            }
            purposes::monthly_odometer(c, vehicle, from, to)
        })
    }

    fn followups(
        &self,
        cap: &Capability,
        from: time::Date,
        to: time::Date,
        outside_hours: &dyn Fn(Timestamp) -> bool,
        unclassified_before: time::Date,
    ) -> Result<Vec<FollowUpTrip>, StoreError> {
        let rows = capability::rows_for(
            cap,
            &[access::ReadPurpose::DrivingLog],
            "the follow-up lists",
        )?;
        if rows != Rows::Any || !matches!(cap.scope(), access::Scope::All) {
            return Err(StoreError::Refused(
                "the follow-up lists cover every vehicle: the log keeper's".into(),
            ));
        }
        self.with(|c| purposes::followups(c, from, to, outside_hours, unclassified_before))
    }

    fn privacy_switches(
        &self,
        cap: &Capability,
        vehicle: VehicleId,
    ) -> Result<Vec<(Timestamp, bool, String)>, StoreError> {
        use access::ReadPurpose::{DrivingLog, OwnData};
        let rows = capability::rows_for(cap, &[DrivingLog, OwnData], "privacy switches")?;
        self.with(|c| {
            capability::covers(cap, &purposes::vehicle_reg(c, vehicle)?, "privacy switches")?;
            purposes::privacy_switches(c, vehicle, &rows)
        })
    }

    fn vehicle_id(&self, reg: &domain::RegNo) -> Result<Option<VehicleId>, StoreError> {
        self.with(|c| {
            query_opt(c, "SELECT id FROM vehicle WHERE reg = $1", &[&reg.as_str()])?
                .map(|r| get(&r, 0).map(VehicleId))
                .transpose()
        })
    }

    fn apply_change(&self, change: &Change, record: AuditRecord) -> Result<Applied, StoreError> {
        self.with(|c| {
            let tx = block_on(c.transaction()).map_err(db_err)?;
            let applied = changes::apply(&tx, change, &record.actor, record.at)?;
            audit::append_in(&tx, vec![record])?;
            // synchronous_commit = on: the change and its entry are on disk, or neither is.
            block_on(tx.commit()).map_err(db_err)?;
            Ok(applied)
        })
    }

    fn trip_facts(
        &self,
        cap: &Capability,
        trip: i64,
    ) -> Result<Option<(VehicleId, TripFacts)>, StoreError> {
        use access::ReadPurpose::{DrivingLog, OwnData};
        capability::rows_for(cap, &[DrivingLog, OwnData], "a trip's facts")?;
        self.with(|c| changes::trip_facts(c, trip))
    }

    fn driver_corrections(
        &self,
        cap: &Capability,
        vehicle: VehicleId,
        from: time::Date,
        to: time::Date,
    ) -> Result<Vec<DriverCorrection>, StoreError> {
        use access::ReadPurpose::{DrivingLog, OwnData};
        let rows = capability::rows_for(cap, &[DrivingLog, OwnData], "driver corrections")?;
        self.with(|c| {
            capability::covers(
                cap,
                &purposes::vehicle_reg(c, vehicle)?,
                "driver corrections",
            )?;
            let employee = match &rows {
                Rows::Employee(e) => Some(e.as_str()),
                Rows::Any => None,
            };
            changes::driver_corrections(c, vehicle, employee, from, to)
        })
    }

    fn month_review(&self, vehicle: VehicleId, month: &str) -> Result<Vec<MonthStep>, StoreError> {
        self.with(|c| changes::month_review(c, vehicle, month))
    }

    fn utilization_weeks(&self, cap: &Capability) -> Result<Vec<ReleasedWeek>, StoreError> {
        capability::rows_for(cap, &[access::ReadPurpose::Utilization], "the aggregates")?;
        self.with(|c| purposes::utilization_weeks(c))
    }

    fn audit_append(&self, record: AuditRecord) -> Result<ledger::StoredEntry, StoreError> {
        self.audit_append_many(vec![record])?
            .pop()
            .ok_or_else(|| StoreError::Corrupt("an append returned no entry".into()))
    }

    fn audit_append_many(
        &self,
        records: Vec<AuditRecord>,
    ) -> Result<Vec<ledger::StoredEntry>, StoreError> {
        self.with(|c| audit::append_many(c, records))
    }

    fn audit_entries(&self) -> Result<Vec<ledger::StoredEntry>, StoreError> {
        self.with(|c| audit::entries(c))
    }

    fn audit_entries_for(
        &self,
        cap: &Capability,
        subject: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ledger::StoredEntry>, StoreError> {
        let rows = capability::rows_for(
            cap,
            &[
                access::ReadPurpose::LedgerMetadata,
                access::ReadPurpose::OwnData,
            ],
            "the audit ledger",
        )?;
        let subject = match &rows {
            Rows::Employee(e) => Some(e.as_str()),
            Rows::Any => subject,
        };
        self.with(|c| audit::entries_about(c, subject, limit))
    }

    fn add_user(&self, user: &NewUser, at: Timestamp) -> Result<(), StoreError> {
        self.with(|c| {
            let n = execute(
                c,
                "INSERT INTO app_user (name, roles, employee_number, password_hash, created_at)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING",
                &[
                    &user.name,
                    &user.roles.join(","),
                    &user.employee_number,
                    &user.password_hash,
                    &at.millis(),
                ],
            )?;
            if n == 0 {
                return Err(StoreError::Refused(format!(
                    "a user named {:?} exists already",
                    user.name
                )));
            }
            Ok(())
        })
    }

    fn users(&self) -> Result<Vec<UserRow>, StoreError> {
        self.with(|c| {
            query(
                c,
                &format!("SELECT {USER_COLUMNS} FROM app_user ORDER BY id"),
                &[],
            )?
            .iter()
            .map(user_row)
            .collect()
        })
    }

    fn set_password_hash(&self, name: &str, hash: &str) -> Result<(), StoreError> {
        self.with(|c| {
            let tx = block_on(c.transaction()).map_err(db_err)?;
            let n = execute(
                &tx,
                "UPDATE app_user SET password_hash = $2 WHERE name = $1",
                &[&name, &hash],
            )?;
            if n == 0 {
                return Err(StoreError::Refused(format!("there is no user {name:?}")));
            }
            execute(
                &tx,
                "UPDATE api_token SET revoked = TRUE WHERE user_name = $1",
                &[&name],
            )?;
            block_on(tx.commit()).map_err(db_err)
        })
    }

    fn password_hash(&self, name: &str) -> Result<Option<String>, StoreError> {
        self.with(|c| {
            Ok(query_opt(
                c,
                "SELECT password_hash FROM app_user WHERE name = $1 AND NOT disabled",
                &[&name],
            )?
            .map(|r| get::<Option<String>>(&r, 0))
            .transpose()?
            .flatten())
        })
    }

    fn add_token(
        &self,
        hash_hex: &str,
        user: &str,
        expires_at: Timestamp,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        self.with(|c| {
            execute(
                c,
                "INSERT INTO api_token (hash, user_name, created_at, expires_at) VALUES ($1, $2, $3, $4)",
                &[&hash_hex, &user, &at.millis(), &expires_at.millis()],
            )?;
            Ok(())
        })
    }

    fn token_user(&self, hash_hex: &str, now: Timestamp) -> Result<Option<UserRow>, StoreError> {
        self.with(|c| {
            query_opt(
                c,
                "SELECT u.name, u.roles, u.employee_number, u.password_hash IS NOT NULL, u.disabled
                 FROM api_token t JOIN app_user u ON u.name = t.user_name
                 WHERE t.hash = $1 AND NOT t.revoked AND t.expires_at > $2 AND NOT u.disabled",
                &[&hash_hex, &now.millis()],
            )?
            .map(|r| user_row(&r))
            .transpose()
        })
    }

    fn revoke_token(&self, hash_hex: &str) -> Result<bool, StoreError> {
        self.with(|c| {
            Ok(execute(
                c,
                "UPDATE api_token SET revoked = TRUE WHERE hash = $1 AND NOT revoked",
                &[&hash_hex],
            )? > 0)
        })
    }

    fn revoke_user_tokens(&self, user: &str) -> Result<u64, StoreError> {
        self.with(|c| {
            execute(
                c,
                "UPDATE api_token SET revoked = TRUE WHERE user_name = $1 AND NOT revoked",
                &[&user],
            )
        })
    }

    fn alarm_windows(&self, cap: &Capability) -> Result<Vec<AlarmWindow>, StoreError> {
        use access::ReadPurpose::{Alarm, OwnData};
        let rows = capability::rows_for(cap, &[Alarm, OwnData], "alarm windows")?;
        self.with(|c| purposes::alarm_windows(c, &rows))
    }

    fn alarm_positions(
        &self,
        cap: &Capability,
        window: i64,
    ) -> Result<Vec<(Timestamp, domain::Position)>, StoreError> {
        use access::ReadPurpose::{Alarm, OwnData};
        let rows = capability::rows_for(cap, &[Alarm, OwnData], "alarm positions")?;
        self.with(|c| {
            if !purposes::alarm_windows(c, &rows)?
                .iter()
                .any(|w| w.id == window)
            {
                return Err(StoreError::Refused(format!(
                    "alarm window {window} is not one this capability opens"
                )));
            }
            purposes::alarm_positions(c, window)
        })
    }

    fn retention_plan(
        &self,
        policy: &RetentionPolicy,
        now: Timestamp,
    ) -> Result<Vec<PlannedDeletion>, StoreError> {
        self.with(|c| retention::plan(c, policy, now))
    }

    fn retention_run(
        &self,
        policy: &RetentionPolicy,
        now: Timestamp,
    ) -> Result<Vec<Receipt>, StoreError> {
        self.with(|c| retention::run(c, policy, now))
    }

    fn retention_receipts(&self) -> Result<Vec<Receipt>, StoreError> {
        self.with(|c| retention::receipts(c))
    }

    fn audit_writer(&self) -> Result<Box<dyn AuditWriter>, StoreError> {
        Ok(Box::new(PgAudit {
            conn: self.own_client()?,
        }))
    }

    fn ingest_writer(&self) -> Result<Box<dyn IngestWriter>, StoreError> {
        let mut conn = self.own_client()?;
        let statements = Statements::prepare(conn.client()?)?;
        Ok(Box::new(PgWriter {
            conn,
            statements,
            prepared_for: 0,
            attrs: Vec::with_capacity(256),
        }))
    }

    fn register(&self) -> &dyn RegisterStore {
        self
    }

    fn leases(&self) -> Result<Vec<storage::LeaseRow>, StoreError> {
        self.with(|c| {
            query(
                c,
                "SELECT name, holder, expires_at - sporvern_now_ms() FROM engine_lease ORDER BY name",
                &[],
            )?
            .iter()
            .map(|r| {
                Ok(storage::LeaseRow {
                    name: get(r, 0)?,
                    holder: get(r, 1)?,
                    expires_in_ms: get(r, 2)?,
                })
            })
            .collect()
        })
    }

    fn shared_secret(&self, name: &str) -> Result<Vec<u8>, StoreError> {
        let mut fresh = [0u8; 32];
        getrandom::getrandom(&mut fresh)
            .map_err(|e| StoreError::Backend(format!("no randomness for a secret: {e}")))?;
        let fresh = fresh.to_vec();
        self.with(|c| {
            execute(
                c,
                "INSERT INTO shared_secret (name, secret) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                &[&name, &fresh],
            )?;
            get(
                &query_one(c, "SELECT secret FROM shared_secret WHERE name = $1", &[&name])?,
                0,
            )
        })
    }
}

struct PgAudit {
    conn: Dedicated,
}

impl AuditWriter for PgAudit {
    fn append_many(
        &mut self,
        records: Vec<AuditRecord>,
    ) -> Result<Vec<ledger::StoredEntry>, StoreError> {
        audit::append_many(self.conn.client()?, records)
    }
}

/// A whole group commit is one statement, and so one round trip and one transaction: the
/// batch goes over as one array per column and `unnest` turns it back into rows. `ON CONFLICT
/// DO NOTHING` keeps a fix already staged (the same device and fix time, also twice inside one
/// batch) once; the statement's row count is the number newly stored. The batch's field
/// sightings ride along in a data-modifying CTE (one row per (device, key): an upsert may
/// touch a row only once per statement).
const COMMIT_BATCH: &str = "WITH fields AS (
       INSERT INTO device_field (device_id, field_key, kind, first_seen, last_seen)
       SELECT * FROM unnest($11::bigint[], $12::text[], $13::text[], $14::bigint[], $15::bigint[])
       ON CONFLICT (device_id, field_key) DO UPDATE SET
         last_seen = GREATEST(device_field.last_seen, excluded.last_seen),
         first_seen = LEAST(device_field.first_seen, excluded.first_seen))
     INSERT INTO staged_fix
       (fix_time, device_id, received_at, lat, lon, altitude, course, satellites, speed_kmh, attrs)
     SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::float8[], $5::float8[],
                          $6::float8[], $7::int4[], $8::int4[], $9::float8[], $10::bytea[])
     ON CONFLICT (fix_time, device_id) DO NOTHING";

struct Statements {
    order: Statement,
    commit: Statement,
}

impl Statements {
    fn prepare(client: &Client) -> Result<Statements, StoreError> {
        Ok(Statements {
            order: block_on(client.prepare("SELECT 1 FROM staging_order WHERE id = 1 FOR UPDATE"))
                .map_err(db_err)?,
            commit: block_on(client.prepare(COMMIT_BATCH)).map_err(db_err)?,
        })
    }
}

struct PgWriter {
    conn: Dedicated,
    statements: Statements,
    /// The connection generation the statements were prepared on.
    prepared_for: u64,
    attrs: Vec<u8>,
}

impl IngestWriter for PgWriter {
    fn commit(
        &mut self,
        fixes: &[StagedFix],
        fields: &[FieldSeen],
    ) -> Result<CommitOutcome, StoreError> {
        let n = fixes.len();
        let (mut time, mut device, mut received) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let (mut lat, mut lon, mut alt) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let (mut course, mut sats, mut speed, mut attrs) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for s in fixes {
            let f = &s.fix;
            time.push(f.time.millis());
            device.push(s.device.0);
            received.push(s.received_at.millis());
            lat.push(f.position.map(|p| p.lat()));
            lon.push(f.position.map(|p| p.lon()));
            alt.push(f.altitude_m.map(f64::from));
            course.push(f.course_deg.map(i32::from));
            sats.push(f.satellites.map(i32::from));
            speed.push(f.speed_kmh.map(f64::from));
            self.attrs.clear();
            encoding::encode(&f.attributes, &mut self.attrs);
            attrs.push(self.attrs.clone());
        }
        let mut seen: BTreeMap<(i64, &str), (&str, i64, i64)> = BTreeMap::new();
        for f in fields {
            let at = f.at.millis();
            seen.entry((f.device.0, f.key.as_str()))
                .and_modify(|e| {
                    e.1 = e.1.min(at);
                    e.2 = e.2.max(at);
                })
                .or_insert((f.kind.as_str(), at, at));
        }
        let (mut f_dev, mut f_key, mut f_kind, mut f_first, mut f_last) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for ((d, k), (kind, first, last)) in seen {
            f_dev.push(d);
            f_key.push(k);
            f_kind.push(kind);
            f_first.push(first);
            f_last.push(last);
        }
        // Connects again first if PostgreSQL dropped the connection since the last batch.
        self.conn.client()?;
        if self.prepared_for != self.conn.generation() {
            self.statements = Statements::prepare(self.conn.client()?)?;
            self.prepared_for = self.conn.generation();
        }
        if n == 0 && f_dev.is_empty() {
            return Ok(CommitOutcome::default());
        }
        // Under the staging order's lock (migration 0003: ids commit in the order they are
        // given out, across nodes). synchronous_commit = on (set at connect): the commit
        // returns once it is flushed to the WAL on disk.
        let tx = block_on(self.conn.client()?.transaction()).map_err(db_err)?;
        block_on(tx.execute(&self.statements.order, &[])).map_err(db_err)?;
        let inserted = block_on(tx.execute(
            &self.statements.commit,
            &[
                &time, &device, &received, &lat, &lon, &alt, &course, &sats, &speed, &attrs,
                &f_dev, &f_key, &f_kind, &f_first, &f_last,
            ],
        ))
        .map_err(db_err)? as usize;
        block_on(tx.commit()).map_err(db_err)?;
        Ok(CommitOutcome {
            inserted,
            duplicates: n - inserted,
        })
    }
}
