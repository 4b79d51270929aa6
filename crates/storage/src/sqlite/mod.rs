//! The embedded SQLite backend: one file in the data folder, WAL mode, synchronous=FULL so a
//! commit that returned is on disk.

mod audit;
mod changes;
mod org_rows;
mod purposes;
mod register;
mod retention;

use std::path::Path;
use std::sync::Mutex;

use domain::{DeviceId, ExternalId, FieldKind, Protocol, Timestamp, VehicleId, encoding};
use rusqlite::{Connection, OptionalExtension, params};

use crate::capability;
use crate::{
    CommitOutcome, FieldSeen, IngestWriter, InventoryEntry, PurposeFeed, RegisteredDevice,
    StagedFix, StagingStats, Store, StoreError,
};

/// Append-only: a released migration is never edited; a change is a new file.
macro_rules! migration {
    ($version:literal, $file:literal) => {
        (
            $version,
            include_str!(concat!("../../migrations/sqlite/", $file)),
        )
    };
}

const MIGRATIONS: &[(i64, &str)] = &[
    migration!(1, "0001_init.sql"),
    migration!(2, "0002_purposes.sql"),
    migration!(3, "0003_retention.sql"),
    migration!(4, "0004_alarm.sql"),
    migration!(5, "0005_signoff.sql"),
    migration!(6, "0006_utilization.sql"),
    migration!(7, "0007_driver_behaviour_basis.sql"),
    migration!(8, "0008_audit.sql"),
    migration!(9, "0009_users.sql"),
    migration!(10, "0010_tokens.sql"),
    migration!(11, "0011_declared_users.sql"),
    migration!(13, "0013_register.sql"),
    migration!(14, "0014_month_review_and_erasure.sql"),
    migration!(15, "0015_driver_correction.sql"),
    migration!(18, "0018_set_aside.sql"),
    migration!(22, "0022_drivinglog_integrity.sql"),
    migration!(28, "0028_alarm_desk.sql"),
    migration!(32, "0032_register_extra.sql"),
    migration!(33, "0033_cluster.sql"),
];

pub(crate) fn db_err(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// After a deletion, empties the write-ahead log into the database file so that the deleted
/// rows' old pages do not stay in the log.
fn truncate_log(conn: &Connection, deleted: u64) -> Result<(), StoreError> {
    if deleted == 0 {
        return Ok(());
    }
    // A reader still looking at an older snapshot keeps the checkpoint from finishing
    // ("busy"): wait a little for it, as the busy timeout does for writers.
    for _ in 0..40 {
        let busy: i64 = conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))
            .map_err(db_err)?;
        if busy == 0 {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    tracing::warn!(
        "the write-ahead log could not be emptied after a deletion (a reader is busy); the next checkpoint empties it"
    );
    Ok(())
}

/// See [`crate::backup`].
pub(crate) fn backup(dir: &Path, to: &Path) -> Result<u64, StoreError> {
    let path = dir.join("sporvern.db");
    if !path.exists() {
        return Err(StoreError::Open {
            path: dir.display().to_string(),
            reason: "there is no Sporvern database in this folder".into(),
        });
    }
    if to.exists() {
        return Err(StoreError::Refused(format!(
            "{} exists already; a backup is written to a new file",
            to.display()
        )));
    }
    let target = to
        .to_str()
        .ok_or_else(|| StoreError::Refused(format!("{} is not a UTF-8 path", to.display())))?;
    let conn = connect(&path)?;
    conn.execute("VACUUM INTO ?1", [target]).map_err(db_err)?;
    std::fs::metadata(to)
        .map(|m| m.len())
        .map_err(|e| StoreError::Backend(format!("{}: {e}", to.display())))
}

/// The time of a deletion's receipt made outside a retention run (the staging purge, a
/// weekly release), which are not handed the time.
pub(crate) fn wall_clock() -> Timestamp {
    Timestamp::from_millis(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
    )
}

pub struct SqliteStore {
    path: std::path::PathBuf,
    conn: Mutex<Connection>,
}

fn connect(path: &Path) -> Result<Connection, StoreError> {
    let mut conn = Connection::open(path).map_err(|e| StoreError::Open {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(db_err)?;
    // WAL: readers never block the writer. synchronous=FULL: the WAL is fsynced at every
    // commit, so an acknowledged record survives power loss, not only a process crash.
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(db_err)?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(db_err)?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(db_err)?;
    // Deleted and overwritten content is zeroed, not left in free space: an erased private
    // trip or a purged fix leaves no bytes behind in the file.
    conn.pragma_update(None, "secure_delete", "ON")
        .map_err(db_err)?;
    // Every transaction takes the write lock when it begins: one that read first and wrote
    // later would fail at once ("database is locked", no busy wait) whenever another
    // connection committed in between — the engine's lease round writes every second.
    conn.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
    )
    .map_err(db_err)?;
    let applied: Vec<i64> = {
        let mut stmt = conn
            .prepare("SELECT version FROM schema_migrations")
            .map_err(db_err)?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(db_err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(db_err)?
    };
    let current = applied.iter().copied().max().unwrap_or(0);
    let known = MIGRATIONS.iter().map(|m| m.0).max().unwrap_or(0);
    if current > known {
        return Err(StoreError::TooNew {
            found: current,
            known,
        });
    }
    // Every migration not yet applied, in list order: numbers are reserved per line of work
    // (0011–0012 access, 0013– register), so one may land after a higher one was applied.
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| !applied.contains(v)) {
        let tx = conn.transaction().map_err(db_err)?;
        tx.execute_batch(sql).map_err(db_err)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, strftime('%s','now'))",
            params![version],
        )
        .map_err(db_err)?;
        tx.commit().map_err(db_err)?;
        tracing::info!(version, "applied database migration");
    }
    Ok(())
}

/// The append-only triggers, as their migrations created them. Re-asserted at every open: a
/// trigger dropped by someone with the database file is restored (and the log says so), so a
/// tamperer cannot leave the door open behind them. (What they changed meanwhile is for the
/// ledger's verification to find.)
const APPEND_ONLY_TRIGGERS: &[(&str, &str)] = &[
    (
        "audit_entry_no_update",
        "CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry
         BEGIN SELECT RAISE(ABORT, 'the audit ledger is append-only'); END;",
    ),
    (
        "audit_entry_no_delete",
        "CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry
         BEGIN SELECT RAISE(ABORT, 'the audit ledger is append-only'); END;",
    ),
    (
        "trip_recorded_values_are_final",
        // As migration 0014 made it: the private erasure is the one update it lets through.
        "CREATE TRIGGER trip_recorded_values_are_final BEFORE UPDATE ON trip
         WHEN NOT (OLD.private = 0 AND NEW.private = 1 AND NEW.id = OLD.id
             AND NEW.vehicle_id = OLD.vehicle_id AND NEW.local_date = OLD.local_date AND NEW.km = OLD.km
             AND NEW.recorded_at = CAST(strftime('%s', OLD.local_date) AS INTEGER) * 1000)
         BEGIN SELECT RAISE(ABORT, 'the driving log''s recorded distance, date and time cannot be changed'); END;",
    ),
    (
        "trip_deleted_only_by_retention",
        "CREATE TRIGGER trip_deleted_only_by_retention BEFORE DELETE ON trip
         WHEN (SELECT open FROM retention_gate WHERE id = 1) = 0
         BEGIN SELECT RAISE(ABORT, 'driving log entries are deleted only by retention, after their retention period'); END;",
    ),
];

fn reassert_triggers(conn: &Connection) -> Result<(), StoreError> {
    for (name, sql) in APPEND_ONLY_TRIGGERS {
        let present: bool = conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = ?1)",
                [name],
                |r| r.get(0),
            )
            .map_err(db_err)?;
        if !present {
            conn.execute_batch(sql).map_err(db_err)?;
            tracing::error!(
                trigger = name,
                "an append-only trigger was missing from the database and has been restored: someone with the database file removed it; run `sporvern audit verify`"
            );
        }
    }
    Ok(())
}

impl SqliteStore {
    pub fn open(dir: &Path) -> Result<SqliteStore, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
            path: dir.display().to_string(),
            reason: e.to_string(),
        })?;
        let path = dir.join("sporvern.db");
        let mut conn = connect(&path)?;
        migrate(&mut conn)?;
        reassert_triggers(&conn)?;
        Ok(SqliteStore {
            path,
            conn: Mutex::new(conn),
        })
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self
            .conn
            .lock()
            .map_err(|_| StoreError::Backend("connection lock poisoned".into()))?;
        f(&mut conn)
    }
}

impl Store for SqliteStore {
    fn apply_org(&self, desired: &org::Org) -> Result<org::Changes, StoreError> {
        self.with(|conn| {
            let tx = conn.transaction().map_err(db_err)?;
            let current = org_rows::load(&tx)?;
            let changes = org::diff(&current, desired);
            if !changes.is_empty() {
                org_rows::write(&tx, desired)?;
                tx.execute(
                    "UPDATE org_version SET version = version + 1 WHERE id = 1",
                    [],
                )
                .map_err(db_err)?;
            }
            tx.commit().map_err(db_err)?;
            Ok(changes)
        })
    }

    fn load_org(&self) -> Result<org::Org, StoreError> {
        self.with(|conn| org_rows::load(conn))
    }

    fn org_version(&self) -> Result<i64, StoreError> {
        self.with(|conn| {
            conn.query_row("SELECT version FROM org_version WHERE id = 1", [], |r| {
                r.get(0)
            })
            .map_err(db_err)
        })
    }

    fn devices(&self) -> Result<Vec<RegisteredDevice>, StoreError> {
        self.with(|conn| {
            let mut stmt = conn
                .prepare(
                    "SELECT id, protocol, external_id, vehicle_id FROM device WHERE active = 1",
                )
                .map_err(db_err)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                    ))
                })
                .map_err(db_err)?;
            let mut out = Vec::new();
            for row in rows {
                let (id, protocol, external_id, vehicle) = row.map_err(db_err)?;
                let protocol =
                    Protocol::parse(&protocol).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let external_id = ExternalId::parse(protocol, &external_id)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                out.push(RegisteredDevice {
                    id: DeviceId(id),
                    protocol,
                    external_id,
                    vehicle: VehicleId(vehicle),
                });
            }
            Ok(out)
        })
    }

    fn inventory(&self, device: DeviceId) -> Result<Vec<InventoryEntry>, StoreError> {
        self.with(|conn| {
            let mut stmt = conn
                .prepare(
                    "SELECT field_key, kind, first_seen, last_seen FROM device_field
                     WHERE device_id = ?1 ORDER BY field_key",
                )
                .map_err(db_err)?;
            let rows = stmt
                .query_map([device.0], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, i64>(3)?,
                    ))
                })
                .map_err(db_err)?;
            let mut out = Vec::new();
            for row in rows {
                let (key, kind, first, last) = row.map_err(db_err)?;
                out.push(InventoryEntry {
                    key,
                    kind: FieldKind::parse(&kind).unwrap_or(FieldKind::Other),
                    first_seen: Timestamp::from_millis(first),
                    last_seen: Timestamp::from_millis(last),
                });
            }
            Ok(out)
        })
    }

    fn staging_stats(&self) -> Result<StagingStats, StoreError> {
        self.with(|conn| {
            let (rows, oldest): (i64, Option<i64>) = conn
                .query_row(
                    "SELECT COUNT(*), MIN(received_at) FROM staged_fix",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .map_err(db_err)?;
            Ok(StagingStats {
                rows: u64::try_from(rows).unwrap_or(0),
                oldest_received: oldest.map(Timestamp::from_millis),
            })
        })
    }

    fn purge_staging(&self, before: Timestamp) -> Result<u64, StoreError> {
        self.with(|conn| {
            let tx = conn.transaction().map_err(db_err)?;
            let n = tx
                .execute(
                    "DELETE FROM staged_fix WHERE received_at < ?1",
                    [before.millis()],
                )
                .map_err(db_err)? as u64;
            // What was set aside goes with the staging area's lifetime.
            tx.execute(
                "DELETE FROM staged_set_aside WHERE received_at < ?1",
                [before.millis()],
            )
            .map_err(db_err)?;
            retention::add_receipt(
                &tx,
                wall_clock(),
                "staged_fix",
                n,
                retention::STAGING_LIFETIME_RULE,
            )?;
            tx.commit().map_err(db_err)?;
            truncate_log(conn, n)?;
            Ok(n)
        })
    }

    fn purge_consumed(&self, before: Timestamp) -> Result<u64, StoreError> {
        self.with(|conn| {
            let tx = conn.transaction().map_err(db_err)?;
            let n = purposes::purge_consumed(&tx, before)?;
            retention::add_receipt(
                &tx,
                wall_clock(),
                "staged_fix",
                n,
                retention::STAGING_CONSUMED_RULE,
            )?;
            tx.commit().map_err(db_err)?;
            truncate_log(conn, n)?;
            Ok(n)
        })
    }

    fn purpose_feed(&self) -> Result<Box<dyn PurposeFeed>, StoreError> {
        Ok(Box::new(purposes::SqliteFeed {
            conn: connect(&self.path)?,
        }))
    }

    fn driving_log(
        &self,
        cap: &crate::Capability,
        vehicle: VehicleId,
        from: time::Date,
        to: time::Date,
    ) -> Result<Vec<domain::drivinglog::LogEntry>, StoreError> {
        use access::ReadPurpose::{DrivingLog, OwnData};
        let rows = capability::rows_for(cap, &[DrivingLog, OwnData], "the driving log")?;
        self.with(|conn| {
            capability::covers(
                cap,
                &purposes::vehicle_reg(conn, vehicle)?,
                "the driving log",
            )?;
            let log = purposes::driving_log(conn, Some(vehicle), &rows, from, to)?;
            Ok(capability::through_view(
                cap,
                log.into_iter().map(|(_, e)| e).collect(),
            ))
        })
    }

    fn own_driving_log(
        &self,
        cap: &crate::Capability,
        from: time::Date,
        to: time::Date,
    ) -> Result<Vec<(String, domain::drivinglog::LogEntry)>, StoreError> {
        use access::ReadPurpose::{DrivingLog, OwnData};
        let rows = capability::rows_for(cap, &[DrivingLog, OwnData], "the driving log")?;
        if rows == capability::Rows::Any {
            return Err(StoreError::Refused(
                "own trips are read with an \"own\" capability".to_owned(),
            ));
        }
        self.with(|conn| purposes::driving_log(conn, None, &rows, from, to))
    }

    fn deviations(
        &self,
        cap: &crate::Capability,
        vehicle: VehicleId,
        from: time::Date,
        to: time::Date,
    ) -> Result<Vec<domain::drivinglog::RecordedDeviation>, StoreError> {
        use access::ReadPurpose::{DrivingLog, OwnData};
        let rows = capability::rows_for(cap, &[DrivingLog, OwnData], "deviations")?;
        self.with(|conn| {
            capability::covers(cap, &purposes::vehicle_reg(conn, vehicle)?, "deviations")?;
            if let capability::Rows::Employee(e) = &rows
                && !purposes::assigned_between(conn, e, vehicle, from, to)?
            {
                return Ok(Vec::new());
            }
            purposes::deviations(conn, vehicle, from, to)
        })
    }

    fn followups(
        &self,
        cap: &crate::Capability,
        from: time::Date,
        to: time::Date,
        outside_hours: &dyn Fn(Timestamp) -> bool,
        unclassified_before: time::Date,
    ) -> Result<Vec<domain::drivinglog::FollowUpTrip>, StoreError> {
        let rows = capability::rows_for(
            cap,
            &[access::ReadPurpose::DrivingLog],
            "the follow-up lists",
        )?;
        if rows != capability::Rows::Any || !matches!(cap.scope(), access::Scope::All) {
            return Err(StoreError::Refused(
                "the follow-up lists cover every vehicle: the log keeper's".into(),
            ));
        }
        self.with(|conn| purposes::followups(conn, from, to, outside_hours, unclassified_before))
    }

    fn monthly_odometer(
        &self,
        cap: &crate::Capability,
        vehicle: VehicleId,
        from: time::Date,
        to: time::Date,
    ) -> Result<Vec<domain::drivinglog::OdometerReading>, StoreError> {
        use access::ReadPurpose::{DrivingLog, OwnData};
        let rows = capability::rows_for(cap, &[DrivingLog, OwnData], "the odometer readings")?;
        self.with(|conn| {
            capability::covers(
                cap,
                &purposes::vehicle_reg(conn, vehicle)?,
                "the odometer readings",
            )?;
            if let capability::Rows::Employee(e) = &rows
                && !purposes::assigned_between(conn, e, vehicle, from, to)?
            {
                return Ok(Vec::new());
            }
            purposes::monthly_odometer(conn, vehicle, from, to)
        })
    }

    fn privacy_switches(
        &self,
        cap: &crate::Capability,
        vehicle: VehicleId,
    ) -> Result<Vec<(Timestamp, bool, String)>, StoreError> {
        use access::ReadPurpose::{DrivingLog, OwnData};
        let rows = capability::rows_for(cap, &[DrivingLog, OwnData], "privacy switches")?;
        self.with(|conn| {
            capability::covers(
                cap,
                &purposes::vehicle_reg(conn, vehicle)?,
                "privacy switches",
            )?;
            purposes::privacy_switches(conn, vehicle, &rows)
        })
    }

    fn vehicle_id(&self, reg: &domain::RegNo) -> Result<Option<VehicleId>, StoreError> {
        self.with(|conn| {
            conn.query_row(
                "SELECT id FROM vehicle WHERE reg = ?1",
                [reg.as_str()],
                |r| r.get(0),
            )
            .optional()
            .map(|v| v.map(VehicleId))
            .map_err(db_err)
        })
    }

    fn apply_change(
        &self,
        change: &crate::Change,
        record: crate::AuditRecord,
    ) -> Result<crate::Applied, StoreError> {
        self.with(|conn| {
            // IMMEDIATE: the change, its checks and the ledger entry under one write lock.
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(db_err)?;
            let (applied, erased) = changes::apply(&tx, change, &record.actor, record.at)?;
            audit::append_in(&tx, vec![record])?;
            tx.commit().map_err(db_err)?;
            if erased {
                // The erased values' old pages may still be frames of the write-ahead log.
                truncate_log(conn, 1)?;
            }
            Ok(applied)
        })
    }

    fn trip_facts(
        &self,
        cap: &crate::Capability,
        trip: i64,
    ) -> Result<Option<(VehicleId, domain::changes::TripFacts)>, StoreError> {
        use access::ReadPurpose::{DrivingLog, OwnData};
        capability::rows_for(cap, &[DrivingLog, OwnData], "a trip's facts")?;
        self.with(|conn| changes::trip_facts(conn, trip))
    }

    fn driver_corrections(
        &self,
        cap: &crate::Capability,
        vehicle: VehicleId,
        from: time::Date,
        to: time::Date,
    ) -> Result<Vec<crate::DriverCorrection>, StoreError> {
        use access::ReadPurpose::{DrivingLog, OwnData};
        let rows = capability::rows_for(cap, &[DrivingLog, OwnData], "driver corrections")?;
        self.with(|conn| {
            capability::covers(
                cap,
                &purposes::vehicle_reg(conn, vehicle)?,
                "driver corrections",
            )?;
            let employee = match &rows {
                capability::Rows::Employee(e) => Some(e.as_str()),
                capability::Rows::Any => None,
            };
            changes::driver_corrections(conn, vehicle, employee, from, to)
        })
    }

    fn month_review(
        &self,
        vehicle: VehicleId,
        month: &str,
    ) -> Result<Vec<domain::changes::MonthStep>, StoreError> {
        self.with(|conn| changes::month_review(conn, vehicle, month))
    }

    fn utilization_weeks(
        &self,
        cap: &crate::Capability,
    ) -> Result<Vec<crate::ReleasedWeek>, StoreError> {
        capability::rows_for(cap, &[access::ReadPurpose::Utilization], "the aggregates")?;
        self.with(|conn| purposes::utilization_weeks(conn))
    }

    fn audit_append(&self, entry: crate::AuditRecord) -> Result<ledger::StoredEntry, StoreError> {
        self.with(|conn| audit::append(conn, entry))
    }

    fn audit_append_many(
        &self,
        records: Vec<crate::AuditRecord>,
    ) -> Result<Vec<ledger::StoredEntry>, StoreError> {
        self.with(|conn| audit::append_many(conn, records))
    }

    fn audit_entries(&self) -> Result<Vec<ledger::StoredEntry>, StoreError> {
        self.with(|conn| audit::entries(conn))
    }

    fn audit_entries_for(
        &self,
        cap: &crate::Capability,
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
            capability::Rows::Employee(e) => Some(e.as_str()),
            capability::Rows::Any => subject,
        };
        self.with(|conn| audit::entries_about(conn, subject, limit))
    }

    fn add_user(&self, user: &crate::NewUser, at: Timestamp) -> Result<(), StoreError> {
        self.with(|conn| {
            let taken: bool = conn
                .query_row("SELECT COUNT(*) FROM app_user WHERE name = ?1", [&user.name], |r| r.get::<_, i64>(0))
                .map_err(db_err)?
                > 0;
            if taken {
                return Err(StoreError::Refused(format!("a user named {:?} exists already", user.name)));
            }
            conn.execute(
                "INSERT INTO app_user (name, roles, employee_number, password_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![user.name, user.roles.join(","), user.employee_number, user.password_hash, at.millis()],
            )
            .map_err(db_err)?;
            Ok(())
        })
    }

    fn users(&self) -> Result<Vec<crate::UserRow>, StoreError> {
        self.with(|conn| {
            let mut stmt = conn
                .prepare("SELECT name, roles, employee_number, password_hash IS NOT NULL, disabled FROM app_user ORDER BY id")
                .map_err(db_err)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(crate::UserRow {
                        name: r.get(0)?,
                        roles: r.get::<_, String>(1)?.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
                        employee_number: r.get(2)?,
                        has_password: r.get(3)?,
                        disabled: r.get::<_, i64>(4)? == 1,
                    })
                })
                .map_err(db_err)?;
            rows.collect::<Result<_, _>>().map_err(db_err)
        })
    }

    fn password_hash(&self, name: &str) -> Result<Option<String>, StoreError> {
        self.with(|conn| {
            conn.query_row(
                "SELECT password_hash FROM app_user WHERE name = ?1 AND disabled = 0",
                [name],
                |r| r.get::<_, Option<String>>(0),
            )
            .optional()
            .map(Option::flatten)
            .map_err(db_err)
        })
    }

    fn add_token(
        &self,
        hash_hex: &str,
        user: &str,
        expires_at: Timestamp,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        self.with(|conn| {
            conn.execute(
                "INSERT INTO api_token (hash, user_name, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![hash_hex, user, at.millis(), expires_at.millis()],
            )
            .map_err(db_err)?;
            Ok(())
        })
    }

    fn token_user(
        &self,
        hash_hex: &str,
        now: Timestamp,
    ) -> Result<Option<crate::UserRow>, StoreError> {
        let name: Option<String> = self.with(|conn| {
            conn.query_row(
                "SELECT user_name FROM api_token WHERE hash = ?1 AND revoked = 0 AND expires_at > ?2",
                params![hash_hex, now.millis()],
                |r| r.get(0),
            )
            .optional()
            .map_err(db_err)
        })?;
        let Some(name) = name else { return Ok(None) };
        Ok(self
            .users()?
            .into_iter()
            .find(|u| u.name == name && !u.disabled))
    }

    fn set_password_hash(&self, name: &str, hash: &str) -> Result<(), StoreError> {
        self.with(|conn| {
            let tx = conn.unchecked_transaction().map_err(db_err)?;
            let n = tx
                .execute(
                    "UPDATE app_user SET password_hash = ?2 WHERE name = ?1",
                    [name, hash],
                )
                .map_err(db_err)?;
            if n == 0 {
                return Err(StoreError::Refused(format!("there is no user {name:?}")));
            }
            tx.execute(
                "UPDATE api_token SET revoked = 1 WHERE user_name = ?1",
                [name],
            )
            .map_err(db_err)?;
            tx.commit().map_err(db_err)
        })
    }

    fn revoke_token(&self, hash_hex: &str) -> Result<bool, StoreError> {
        self.with(|conn| {
            conn.execute(
                "UPDATE api_token SET revoked = 1 WHERE hash = ?1 AND revoked = 0",
                [hash_hex],
            )
            .map(|n| n > 0)
            .map_err(db_err)
        })
    }

    fn revoke_user_tokens(&self, user: &str) -> Result<u64, StoreError> {
        self.with(|conn| {
            conn.execute(
                "UPDATE api_token SET revoked = 1 WHERE user_name = ?1 AND revoked = 0",
                [user],
            )
            .map(|n| n as u64)
            .map_err(db_err)
        })
    }

    fn alarm_windows(
        &self,
        cap: &crate::Capability,
    ) -> Result<Vec<crate::AlarmWindow>, StoreError> {
        use access::ReadPurpose::{Alarm, OwnData};
        let rows = capability::rows_for(cap, &[Alarm, OwnData], "alarm windows")?;
        self.with(|conn| purposes::alarm_windows(conn, &rows))
    }

    fn alarm_positions(
        &self,
        cap: &crate::Capability,
        window: i64,
    ) -> Result<Vec<(Timestamp, domain::Position)>, StoreError> {
        use access::ReadPurpose::{Alarm, OwnData};
        let rows = capability::rows_for(cap, &[Alarm, OwnData], "alarm positions")?;
        self.with(|conn| {
            if !purposes::alarm_windows(conn, &rows)?
                .iter()
                .any(|w| w.id == window)
            {
                return Err(StoreError::Refused(format!(
                    "alarm window {window} is not one this capability opens"
                )));
            }
            purposes::alarm_positions(conn, window)
        })
    }

    fn retention_plan(
        &self,
        policy: &crate::RetentionPolicy,
        now: Timestamp,
    ) -> Result<Vec<crate::PlannedDeletion>, StoreError> {
        self.with(|conn| retention::plan(conn, policy, now))
    }

    fn retention_run(
        &self,
        policy: &crate::RetentionPolicy,
        now: Timestamp,
    ) -> Result<Vec<crate::Receipt>, StoreError> {
        self.with(|conn| {
            let receipts = retention::run(conn, policy, now)?;
            truncate_log(conn, receipts.iter().map(|r| r.count).sum())?;
            Ok(receipts)
        })
    }

    fn retention_receipts(&self) -> Result<Vec<crate::Receipt>, StoreError> {
        self.with(|conn| retention::receipts(conn))
    }

    fn audit_writer(&self) -> Result<Box<dyn crate::AuditWriter>, StoreError> {
        Ok(Box::new(SqliteAudit {
            conn: connect(&self.path)?,
        }))
    }

    fn ingest_writer(&self) -> Result<Box<dyn IngestWriter>, StoreError> {
        Ok(Box::new(SqliteWriter {
            conn: connect(&self.path)?,
            attrs: Vec::with_capacity(256),
        }))
    }

    fn register(&self) -> &dyn crate::RegisterStore {
        self
    }

    fn leases(&self) -> Result<Vec<crate::LeaseRow>, StoreError> {
        let now = wall_clock().millis();
        self.with(|conn| {
            let mut stmt = conn
                .prepare("SELECT name, holder, expires_at FROM engine_lease ORDER BY name")
                .map_err(db_err)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(crate::LeaseRow {
                        name: r.get(0)?,
                        holder: r.get(1)?,
                        expires_in_ms: r.get::<_, i64>(2)? - now,
                    })
                })
                .map_err(db_err)?;
            rows.collect::<Result<_, _>>().map_err(db_err)
        })
    }

    fn shared_secret(&self, name: &str) -> Result<Vec<u8>, StoreError> {
        let mut fresh = [0u8; 32];
        getrandom::getrandom(&mut fresh)
            .map_err(|e| StoreError::Backend(format!("no randomness for a secret: {e}")))?;
        self.with(|conn| {
            conn.execute(
                "INSERT INTO shared_secret (name, secret) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
                params![name, fresh.as_slice()],
            )
            .map_err(db_err)?;
            conn.query_row(
                "SELECT secret FROM shared_secret WHERE name = ?1",
                [name],
                |r| r.get(0),
            )
            .map_err(db_err)
        })
    }
}

struct SqliteAudit {
    conn: Connection,
}

impl crate::AuditWriter for SqliteAudit {
    fn append_many(
        &mut self,
        records: Vec<crate::AuditRecord>,
    ) -> Result<Vec<ledger::StoredEntry>, StoreError> {
        audit::append_many(&mut self.conn, records)
    }
}

/// Single-row inserts measured faster than multi-row `VALUES` lists with `ON CONFLICT` in the
/// server (107k vs 82k records/s end to end, BENCHMARKS.md), so one row per statement.
const INSERT_STAGED: &str = "INSERT INTO staged_fix
       (fix_time, device_id, received_at, lat, lon, altitude, course, satellites, speed_kmh, attrs)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
     ON CONFLICT (fix_time, device_id) DO NOTHING";

struct SqliteWriter {
    conn: Connection,
    attrs: Vec<u8>,
}

impl IngestWriter for SqliteWriter {
    fn commit(
        &mut self,
        fixes: &[StagedFix],
        fields: &[FieldSeen],
    ) -> Result<CommitOutcome, StoreError> {
        let tx = self.conn.transaction().map_err(db_err)?;
        let mut outcome = CommitOutcome::default();
        {
            let mut insert = tx.prepare_cached(INSERT_STAGED).map_err(db_err)?;
            for s in fixes {
                let f = &s.fix;
                self.attrs.clear();
                encoding::encode(&f.attributes, &mut self.attrs);
                let n = insert
                    .execute(params![
                        f.time.millis(),
                        s.device.0,
                        s.received_at.millis(),
                        f.position.map(|p| p.lat()),
                        f.position.map(|p| p.lon()),
                        f.altitude_m.map(f64::from),
                        f.course_deg,
                        f.satellites,
                        f.speed_kmh.map(f64::from),
                        &self.attrs,
                    ])
                    .map_err(db_err)?;
                outcome.inserted += n;
                outcome.duplicates += 1 - n;
            }
            let mut upsert = tx
                .prepare_cached(
                    "INSERT INTO device_field (device_id, field_key, kind, first_seen, last_seen)
                     VALUES (?1, ?2, ?3, ?4, ?4)
                     ON CONFLICT (device_id, field_key) DO UPDATE SET
                       last_seen = MAX(last_seen, excluded.last_seen),
                       first_seen = MIN(first_seen, excluded.first_seen)",
                )
                .map_err(db_err)?;
            for f in fields {
                upsert
                    .execute(params![f.device.0, f.key, f.kind.as_str(), f.at.millis()])
                    .map_err(db_err)?;
            }
        }
        tx.commit().map_err(db_err)?;
        Ok(outcome)
    }
}
