//! Storage: the one place that knows Sporvern keeps its data in a database.
//!
//! [`Store`] is the interface the rest of the server uses; [`open`] picks the backend from the
//! location it is given (a data folder → embedded SQLite; a `postgres://` URL later).
//!
//! Architecture Invariant: no database type (rusqlite's or any other) appears in this crate's
//! public interface. Backends live in private modules and speak through the traits below.
//!
//! Architecture Invariant: the staging area can be written ([`IngestWriter`]), counted and
//! purged, and nothing more through this interface: raw fixes are never a product.

pub mod capability;
mod register;
mod sqlite;

pub use self::register::RegisterStore;

use std::path::Path;

pub use access::Capability;

use domain::changes::{MonthStep, TripFacts};
use domain::drivinglog::{Classification, Deviation, LogEntry, NewLogEntry, RecordedDeviation};
use domain::{DeviceId, ExternalId, FieldKind, Fix, Protocol, Timestamp, VehicleId};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the data folder {path}: {reason}")]
    Open { path: String, reason: String },
    #[error(
        "the database is newer than this program (schema version {found}, this build knows {known}); upgrade sporvern"
    )]
    TooNew { found: i64, known: i64 },
    #[error("database error: {0}")]
    Backend(String),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    /// The request contradicts what is recorded (e.g. signing twice); the message says why.
    #[error("{0}")]
    Refused(String),
}

/// A device as ingest needs to know it: where its data belongs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisteredDevice {
    pub id: DeviceId,
    pub protocol: Protocol,
    pub external_id: ExternalId,
    pub vehicle: VehicleId,
}

/// One fix on its way into the staging area.
#[derive(Clone, Debug)]
pub struct StagedFix {
    pub device: DeviceId,
    pub received_at: Timestamp,
    pub fix: Fix,
}

/// A kind of data a device was seen sending, for the field inventory.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FieldSeen {
    pub device: DeviceId,
    /// The protocol's own name for it: `io:239`, `speed`, `position`, `batt` …
    pub key: String,
    pub kind: FieldKind,
    pub at: Timestamp,
}

/// What a committed batch held: every fix is now durable, either newly stored or already there.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CommitOutcome {
    pub inserted: usize,
    pub duplicates: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InventoryEntry {
    pub key: String,
    pub kind: FieldKind,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StagingStats {
    pub rows: u64,
    pub oldest_received: Option<Timestamp>,
}

/// Writes fixes to the staging area in group commits. One writer per process; it owns its
/// connection and lives on its own thread.
pub trait IngestWriter: Send {
    /// Stores `fixes` and records `fields` in one transaction, durably: when this returns
    /// `Ok`, a crash loses none of it. Fixes already staged (same device, same fix time) count
    /// as duplicates and are not stored again.
    fn commit(
        &mut self,
        fixes: &[StagedFix],
        fields: &[FieldSeen],
    ) -> Result<CommitOutcome, StoreError>;
}

/// A staged fix as the purpose engine reads it.
#[derive(Clone, Debug)]
pub struct StagedRow {
    pub id: i64,
    pub device: DeviceId,
    /// When the server received (and acknowledged) it: the clock a staged row is judged by.
    pub received_at: Timestamp,
    pub fix: Fix,
}

/// A staged fix the purpose engine could not process, and why (for the operator only).
#[derive(Clone, Debug, PartialEq)]
pub struct SetAside {
    pub staged_id: i64,
    pub device: DeviceId,
    pub fix_time: Timestamp,
    pub received_at: Timestamp,
    pub reason: String,
    pub at: Timestamp,
}

/// What the purpose engine has still to do.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Backlog {
    pub rows: u64,
    /// When the oldest unprocessed fix arrived.
    pub oldest_received: Option<Timestamp>,
}

/// What the purpose engine made of a batch of staged fixes, written in one transaction with
/// the cursor: each staged fix is consumed exactly once.
#[derive(Clone, Debug)]
pub struct PurposeBatch {
    /// The last staged id consumed.
    pub up_to: i64,
    pub entries: Vec<NewLogEntry>,
    pub deviations: Vec<Deviation>,
    /// (vehicle, at, private, source)
    pub privacy_switches: Vec<(VehicleId, Timestamp, bool, &'static str)>,
    /// Per vehicle, the staged id its driving log has closed trips up to.
    pub watermarks: Vec<(VehicleId, i64)>,
    pub alarms: Vec<AlarmAction>,
    pub utilization: Vec<UtilizationFact>,
    pub recorded_at: Timestamp,
}

/// How long each kind of data is kept. The server enforces it on a schedule.
#[derive(Clone, Debug, PartialEq)]
pub struct RetentionPolicy {
    /// Driving log entries and their deviations are kept until the end of the fiscal year
    /// plus this many years (bokføringsloven § 13 (2): five years after the end of the
    /// accounting year; the calendar year is the fiscal year here).
    pub driving_log_years: i32,
    /// Privacy switches are kept this many days: long enough for the driver to see and
    /// dispute them, short enough not to become a record of private errands.
    pub privacy_switch_days: i64,
    /// Alarm positions are kept this many days after the window is resolved …
    pub alarm_days: i64,
    /// … or this many when the window was marked as an incident.
    pub alarm_incident_days: i64,
    /// Staged fixes the purpose engine has consumed stay this many hours (the trip builder's
    /// window for late data), …
    pub staging_consumed_hours: i64,
    /// … and every staged fix at most this many (`staging_lifetime_hours`, at most 168).
    pub staging_lifetime_hours: i64,
    /// Vehicle purposes whose measure has ended (the register's gate says so): what they kept
    /// is deleted at the next run, except what another law requires to be kept (the driving
    /// log, bokføringsloven § 13).
    pub ended: Vec<org::Purpose>,
}

impl Default for RetentionPolicy {
    fn default() -> RetentionPolicy {
        RetentionPolicy {
            driving_log_years: 5,
            privacy_switch_days: 90,
            alarm_days: 30,
            alarm_incident_days: 365,
            staging_consumed_hours: 6,
            staging_lifetime_hours: 72,
            ended: Vec::new(),
        }
    }
}

/// Rows that will be deleted on a date, by kind; `due` is `None` for what retention keeps
/// (the rule says why, and what ends it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedDeletion {
    pub kind: &'static str,
    pub due: Option<time::Date>,
    pub count: u64,
    pub rule: &'static str,
}

/// What a retention run deleted: counts, never the data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub at: Timestamp,
    pub kind: String,
    pub count: u64,
    pub rule: String,
}

/// What the alarm purpose did with a fix.
#[derive(Clone, Debug, PartialEq)]
pub enum AlarmAction {
    /// Open a window (none is open for the vehicle), with the first position.
    Open {
        vehicle: VehicleId,
        at: Timestamp,
        triggers: String,
        position: Option<domain::Position>,
    },
    /// A position inside the open window; `trigger` when the fix raised the alarm again.
    Position {
        vehicle: VehicleId,
        at: Timestamp,
        position: domain::Position,
        trigger: bool,
    },
    /// Close the vehicle's open window without an operator (no trigger for a while).
    AutoResolve { vehicle: VehicleId, at: Timestamp },
}

/// An alarm window as security operators see it.
#[derive(Clone, Debug, PartialEq)]
pub struct AlarmWindow {
    pub id: i64,
    pub vehicle: VehicleId,
    pub opened_at: Timestamp,
    pub triggers: String,
    pub last_trigger_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
    pub resolved_by: Option<String>,
    pub incident: bool,
    /// The user who opened it by hand (a reported theft); `None` when a device's alarm did.
    pub opened_by: Option<String>,
    /// The police report's reference, for a reported theft.
    pub reference: Option<String>,
    /// The operator's note when resolving it.
    pub note: Option<String>,
}

/// A window opened by hand: the trigger (`theft`), the police report's reference, and who.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlarmReport {
    pub trigger: String,
    pub reference: Option<String>,
    pub by: String,
}

/// An open alarm window as the purpose engine tracks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenAlarm {
    pub window: i64,
    pub vehicle: VehicleId,
    pub opened_at: Timestamp,
    /// What opened it (`panic`, `crash`, `theft` …, comma-separated).
    pub triggers: String,
    pub last_trigger_at: Timestamp,
    /// Opened by hand: it stays open until an operator resolves it.
    pub by_hand: bool,
}

/// A closed, non-private trip as the utilisation statistics take it: no driver, cells not
/// positions; kept only until its week is released.
#[derive(Clone, Debug, PartialEq)]
pub struct UtilizationFact {
    pub group: String,
    pub vehicle_key: i64,
    pub start: Timestamp,
    pub end: Timestamp,
    pub km: f64,
    /// (latitude index, longitude index) of the coarse grid cells.
    pub start_cell: (i32, i32),
    pub end_cell: (i32, i32),
}

/// A released week of anonymous aggregates, as JSON.
#[derive(Clone, Debug, PartialEq)]
pub struct ReleasedWeek {
    pub group: String,
    pub year: i32,
    pub week: u8,
    pub body: String,
}

/// One entry for the audit ledger, before it gets its place (sequence number) and hash.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditRecord {
    pub at: Timestamp,
    pub actor: String,
    pub role: String,
    pub purpose: String,
    /// Whose data: employee numbers, never names or positions.
    pub subject: Option<String>,
    pub action: ledger::Action,
    pub object: String,
    pub outcome: String,
}

/// A user to create. Roles are validated by the caller (the `access` crate's `Role`).
#[derive(Clone, Debug, PartialEq)]
pub struct NewUser {
    pub name: String,
    pub roles: Vec<String>,
    pub employee_number: Option<String>,
    /// An Argon2id PHC string; `None` for users declared without a password.
    pub password_hash: Option<String>,
}

/// A user as listed (never the password hash).
#[derive(Clone, Debug, PartialEq)]
pub struct UserRow {
    pub name: String,
    pub roles: Vec<String>,
    pub employee_number: Option<String>,
    pub has_password: bool,
    pub disabled: bool,
}

/// A change of personal data, made through the changes door (`server::changes`) after its
/// rule allowed it. [`Store::apply_change`] makes it and appends its ledger entry (the
/// record's actor is who made it, its time when) in one transaction.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// A new classification of a trip (every one is kept). Private erases the trip to its date
    /// and km: places, times, odometer readings, driver, the earlier purposes, and what else
    /// holds its times (staged fixes already consumed, its utilisation fact).
    Classify { trip: i64, class: Classification },
    /// A step of a month's review (`YYYY-MM`).
    MonthStep {
        vehicle: VehicleId,
        month: String,
        step: domain::changes::StepKind,
        comment: Option<String>,
    },
    /// A privacy-mode switch for a vehicle.
    Privacy {
        vehicle: VehicleId,
        private: bool,
        source: String,
    },
    /// An alarm window opened by hand (a reported theft, with the police report's reference);
    /// an open window is kept. A window opened by hand stays open until it is resolved.
    OpenAlarm {
        vehicle: VehicleId,
        report: AlarmReport,
    },
    /// An alarm window resolved with the operator's note on how it ended (kept with the
    /// window, never on the ledger); `incident` keeps its positions longer.
    ResolveAlarm {
        window: i64,
        incident: bool,
        note: String,
    },
    /// The right driver of a trip, with the reason: a supplement beside the recorded driver,
    /// which stays. Distance, date and time never change.
    CorrectDriver {
        trip: i64,
        driver: String,
        reason: String,
    },
}

/// A correction of a trip's driver, as the driving log shows it beside the recorded one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DriverCorrection {
    pub trip: i64,
    /// The employee number recorded first (none when the unit knew no driver).
    pub recorded: Option<String>,
    pub driver: String,
    pub reason: String,
    pub by: String,
    pub at: Timestamp,
}

/// What a change made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    Done,
    /// The alarm window opened (or the one already open).
    AlarmWindow(i64),
}

/// Appends to the audit ledger on its own connection.
pub trait AuditWriter: Send {
    /// Appends `records` in one durable transaction, in order.
    fn append_many(
        &mut self,
        records: Vec<AuditRecord>,
    ) -> Result<Vec<ledger::StoredEntry>, StoreError>;
}

/// The purpose engine is split by vehicle into this many partitions, each with its own cursor
/// over staging and leased to one node at a time (several nodes on one database). Fixed: a
/// different number would move vehicles between cursors.
pub const ENGINE_PARTITIONS: u16 = 16;

/// The partition a vehicle's fixes are processed in.
pub fn partition_of(vehicle: VehicleId) -> u16 {
    u16::try_from(vehicle.0.rem_euclid(i64::from(ENGINE_PARTITIONS))).unwrap_or(0)
}

/// What one node holds after a lease round: the engine's partitions it owns and whether it
/// runs the scheduled work (retention, the staging purge, the ledger's checkpoints, the
/// weekly release of the utilisation statistics), each until `ttl_ms` after the round.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LeaseGrant {
    pub partitions: Vec<u16>,
    pub schedule: bool,
    /// The nodes alive on this database, this one included.
    pub nodes: usize,
}

/// One lease as stored (for `/healthz` and the start-up check).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaseRow {
    /// `node/<id>` (a node's heartbeat), `partition/<n>` or `schedule`.
    pub name: String,
    pub holder: String,
    /// Milliseconds until it expires, by the database's clock (negative: expired).
    pub expires_in_ms: i64,
}

/// The name of partition `p`'s lease.
pub fn partition_lease(p: u16) -> String {
    format!("partition/{p:02}")
}

/// The partition a `partition/<n>` lease name names.
pub fn parse_partition_lease(name: &str) -> Option<u16> {
    name.strip_prefix("partition/")?
        .parse()
        .ok()
        .filter(|p| *p < ENGINE_PARTITIONS)
}

/// A lease round's decision, sans-IO and shared by the backends: given the partitions this
/// node holds, the number of live nodes (itself included) and the partitions nobody holds,
/// which to give up (more than the fair share, highest first) and which to take (up to the
/// share, lowest first). Shares differ by at most one partition.
pub fn lease_plan(held: &[u16], nodes: usize, free: &[u16]) -> (Vec<u16>, Vec<u16>) {
    let nodes = nodes.max(1);
    let share = usize::from(ENGINE_PARTITIONS).div_ceil(nodes);
    let mut held = held.to_vec();
    held.sort_unstable();
    let mut free = free.to_vec();
    free.sort_unstable();
    if held.len() > share {
        let release = held.split_off(share);
        (release, Vec::new())
    } else {
        let take = free.into_iter().take(share - held.len()).collect();
        (Vec::new(), take)
    }
}

/// The lease check made inside a purpose batch's transaction: the batch commits only while
/// `node` still holds every one of `partitions` (a node cut off from the database and past
/// its lease cannot write what another node now owns).
#[derive(Clone, Copy, Debug)]
pub struct Fence<'a> {
    pub node: &'a str,
    pub partitions: &'a [u16],
}

/// The purpose engine's access to staging: its only reader.
pub trait PurposeFeed: Send {
    /// The lowest partition cursor (every staged id up to it is consumed).
    fn cursor(&mut self) -> Result<i64, StoreError>;
    /// Each partition's cursor, indexed by partition.
    fn cursors(&mut self) -> Result<Vec<i64>, StoreError>;
    /// One lease round for `node`, in one transaction by the database's clock: renews what it
    /// holds (a lease already expired is lost, not renewed), marks the node alive, gives up or
    /// takes partitions by [`lease_plan`], and takes the scheduled work when nobody holds it.
    fn lease_round(&mut self, node: &str, ttl_ms: i64) -> Result<LeaseGrant, StoreError>;
    /// Gives up everything `node` holds (a clean stop), so another node takes over at once.
    fn lease_release(&mut self, node: &str) -> Result<(), StoreError>;
    /// [`PurposeFeed::commit`] for the partitions in `fence` only, refused
    /// (`StoreError::Refused`) unless the node still holds them.
    fn commit_leased(&mut self, batch: &PurposeBatch, fence: Fence<'_>) -> Result<(), StoreError>;
    /// Staged fixes after `after`, in arrival order.
    fn next(&mut self, after: i64, limit: usize) -> Result<Vec<StagedRow>, StoreError>;
    /// For rebuilding the trip builder after a restart: the vehicle's staged fixes after its
    /// watermark up to `up_to`, in fix-time order.
    fn replay(
        &mut self,
        devices: &[DeviceId],
        after: i64,
        up_to: i64,
    ) -> Result<Vec<StagedRow>, StoreError>;
    fn watermarks(&mut self) -> Result<Vec<(VehicleId, i64)>, StoreError>;
    /// Each vehicle's privacy mode now (the latest switch).
    fn privacy_states(&mut self) -> Result<Vec<(VehicleId, bool)>, StoreError>;
    /// The open alarm windows: vehicle, when last triggered, opened by hand or not.
    fn open_alarms(&mut self) -> Result<Vec<OpenAlarm>, StoreError>;
    /// Writes a batch and moves every partition's cursor to its `up_to` (a process that is the
    /// only one on its database: the demo's set-up, tests).
    fn commit(&mut self, batch: &PurposeBatch) -> Result<(), StoreError>;
    /// Records staged fixes the engine could not process (idempotent: a row set aside twice,
    /// after a crash before its batch committed, is kept once).
    fn set_aside(&mut self, rows: &[SetAside]) -> Result<(), StoreError>;
    /// Staged fixes after `after` (the cursor): how many, and when the oldest arrived.
    fn backlog(&mut self, after: i64) -> Result<Backlog, StoreError>;
    /// The utilisation facts of closed trips that started before `before` (the weekly
    /// release's input; only the purpose engine reads them).
    fn utilization_facts_before(
        &mut self,
        before: Timestamp,
    ) -> Result<Vec<UtilizationFact>, StoreError>;
    /// Stores released weeks and deletes the facts they were made from, in one transaction.
    fn release_utilization(
        &mut self,
        weeks: &[ReleasedWeek],
        facts_before: Timestamp,
    ) -> Result<(), StoreError>;
}

/// The storage interface.
pub trait Store: Send + Sync {
    /// Applies a validated organisation idempotently; returns what changed.
    fn apply_org(&self, org: &org::Org) -> Result<org::Changes, StoreError>;
    /// The active organisation.
    fn load_org(&self) -> Result<org::Org, StoreError>;
    /// Bumped by every organisation change.
    fn org_version(&self) -> Result<i64, StoreError>;
    /// Every active device, for the ingest registry.
    fn devices(&self) -> Result<Vec<RegisteredDevice>, StoreError>;
    /// The field inventory of one device (kinds of data and when seen; never values).
    fn inventory(&self, device: DeviceId) -> Result<Vec<InventoryEntry>, StoreError>;
    fn staging_stats(&self) -> Result<StagingStats, StoreError>;
    /// Deletes staged fixes received before `before`; returns how many.
    fn purge_staging(&self, before: Timestamp) -> Result<u64, StoreError>;
    /// Deletes staged fixes the purpose engine has consumed and that arrived before `before`.
    fn purge_consumed(&self, before: Timestamp) -> Result<u64, StoreError>;
    /// The purpose engine's reader of staging. One per process.
    fn purpose_feed(&self) -> Result<Box<dyn PurposeFeed>, StoreError>;
    /// The driving log of one vehicle between two dates (inclusive), in time order; private
    /// trips (by privacy mode or by classification) as date and km only. Personal data: `cap`
    /// must be for the driving log or own data; through the log keeper's view an unclassified
    /// trip is date and km only; an "own" capability returns only the holder's trips.
    fn driving_log(
        &self,
        cap: &Capability,
        vehicle: VehicleId,
        from: time::Date,
        to: time::Date,
    ) -> Result<Vec<LogEntry>, StoreError>;
    /// The holder's own trips in every vehicle between two dates, with the vehicle's
    /// registration number. `cap` must have the "own" scope.
    fn own_driving_log(
        &self,
        cap: &Capability,
        from: time::Date,
        to: time::Date,
    ) -> Result<Vec<(String, LogEntry)>, StoreError>;
    fn deviations(
        &self,
        cap: &Capability,
        vehicle: VehicleId,
        from: time::Date,
        to: time::Date,
    ) -> Result<Vec<RecordedDeviation>, StoreError>;
    /// The vehicle's monthly odometer readings between two dates: per calendar month the
    /// last real vehicle odometer reading with its date (`domain::drivinglog::OdometerReading`;
    /// never a phone's GPS distance, never an estimate). `cap` as for [`Store::driving_log`].
    fn monthly_odometer(
        &self,
        cap: &Capability,
        vehicle: VehicleId,
        from: time::Date,
        to: time::Date,
    ) -> Result<Vec<domain::drivinglog::OdometerReading>, StoreError>;
    /// The log keeper's follow-up lists over every vehicle, trips driven between two dates:
    /// trips that started outside working hours (`outside_hours` says, from the start time)
    /// and have no business purpose, and trips still unclassified on or before
    /// `unclassified_before`. Only date and km leave storage; private trips never appear.
    /// `cap` must be the log keeper's (driving log, all vehicles).
    fn followups(
        &self,
        cap: &Capability,
        from: time::Date,
        to: time::Date,
        outside_hours: &dyn Fn(Timestamp) -> bool,
        unclassified_before: time::Date,
    ) -> Result<Vec<domain::drivinglog::FollowUpTrip>, StoreError>;
    /// The vehicle's privacy switches, newest first (for an "own" capability, only those made
    /// while the vehicle was assigned to the holder).
    fn privacy_switches(
        &self,
        cap: &Capability,
        vehicle: VehicleId,
    ) -> Result<Vec<(Timestamp, bool, String)>, StoreError>;
    /// A vehicle's id by registration number.
    fn vehicle_id(&self, reg: &domain::RegNo) -> Result<Option<VehicleId>, StoreError>;
    /// Makes a change its rule has allowed and appends its ledger entry, in one transaction:
    /// both or neither. A change that contradicts what is recorded (a month approved since
    /// the rule was asked) is `Refused` and nothing is written.
    fn apply_change(&self, change: &Change, record: AuditRecord) -> Result<Applied, StoreError>;
    /// What the rules need to know about a trip (vehicle, date, driver, private), never its
    /// places or times. `cap` must be for the driving log or own data.
    fn trip_facts(
        &self,
        cap: &Capability,
        trip: i64,
    ) -> Result<Option<(VehicleId, TripFacts)>, StoreError>;
    /// The driver corrections of a vehicle's trips between two dates, oldest first; `cap`
    /// must be for the driving log or own data (an "own" capability: trips the holder drove
    /// or was recorded as driving).
    fn driver_corrections(
        &self,
        cap: &Capability,
        vehicle: VehicleId,
        from: time::Date,
        to: time::Date,
    ) -> Result<Vec<DriverCorrection>, StoreError>;
    /// The review steps of a vehicle's month (`YYYY-MM`), oldest first.
    fn month_review(&self, vehicle: VehicleId, month: &str) -> Result<Vec<MonthStep>, StoreError>;
    /// The released anonymous aggregates; `cap` must be for utilisation.
    fn utilization_weeks(&self, cap: &Capability) -> Result<Vec<ReleasedWeek>, StoreError>;
    /// Appends to the audit ledger durably; returns the entry with its sequence number and
    /// chain hash.
    fn audit_append(&self, record: AuditRecord) -> Result<ledger::StoredEntry, StoreError>;
    /// Appends several records in one durable transaction (the ledger's group commit).
    fn audit_append_many(
        &self,
        records: Vec<AuditRecord>,
    ) -> Result<Vec<ledger::StoredEntry>, StoreError>;
    /// The whole ledger, in order, for verification and checkpoints only (`sporvern audit
    /// verify` on the server). Readers of the ledger's metadata use [`Store::audit_entries_for`].
    fn audit_entries(&self) -> Result<Vec<ledger::StoredEntry>, StoreError>;
    /// Ledger entries as a reader of its metadata sees them, newest first, at most `limit`:
    /// all of them for the oversight roles, those about the holder for an "own" capability,
    /// those about `subject` when one is given.
    fn audit_entries_for(
        &self,
        cap: &Capability,
        subject: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ledger::StoredEntry>, StoreError>;
    fn add_user(&self, user: &NewUser, at: Timestamp) -> Result<(), StoreError>;
    fn users(&self) -> Result<Vec<UserRow>, StoreError>;
    /// Replaces a user's password hash (an Argon2id PHC string); every token of the user is
    /// revoked with it.
    fn set_password_hash(&self, name: &str, hash: &str) -> Result<(), StoreError>;
    /// The Argon2id hash of an enabled user's password, if the user has one.
    fn password_hash(&self, name: &str) -> Result<Option<String>, StoreError>;
    /// Stores a bearer token's SHA-256 hash (hex); the token itself is never stored.
    fn add_token(
        &self,
        hash_hex: &str,
        user: &str,
        expires_at: Timestamp,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    /// The user a token belongs to, if it is known, not revoked and not expired.
    fn token_user(&self, hash_hex: &str, now: Timestamp) -> Result<Option<UserRow>, StoreError>;
    /// Revokes one token (logout); true when it existed and was not revoked yet.
    fn revoke_token(&self, hash_hex: &str) -> Result<bool, StoreError>;
    /// Revokes every token of a user (a lost phone, a user leaving); returns how many.
    fn revoke_user_tokens(&self, user: &str) -> Result<u64, StoreError>;
    /// Alarm windows, newest first; `cap` must be for alarms (an "own" capability: windows of
    /// vehicles assigned to the holder when the window opened).
    fn alarm_windows(&self, cap: &Capability) -> Result<Vec<AlarmWindow>, StoreError>;
    /// The positions kept inside one alarm window.
    fn alarm_positions(
        &self,
        cap: &Capability,
        window: i64,
    ) -> Result<Vec<(Timestamp, domain::Position)>, StoreError>;
    /// What retention will delete, and when (a dry run).
    fn retention_plan(
        &self,
        policy: &RetentionPolicy,
        now: Timestamp,
    ) -> Result<Vec<PlannedDeletion>, StoreError>;
    /// Deletes what is due at `now`, leaving a receipt per kind.
    fn retention_run(
        &self,
        policy: &RetentionPolicy,
        now: Timestamp,
    ) -> Result<Vec<Receipt>, StoreError>;
    fn retention_receipts(&self) -> Result<Vec<Receipt>, StoreError>;
    /// A writer for the audit ledger with its own connection, so that appends commit while
    /// readers query (the server's group-commit thread owns it).
    fn audit_writer(&self) -> Result<Box<dyn AuditWriter>, StoreError>;
    /// A writer for the ingest pipeline.
    fn ingest_writer(&self) -> Result<Box<dyn IngestWriter>, StoreError>;
    /// The compliance register.
    fn register(&self) -> &dyn RegisterStore;
    /// Every lease as stored (nodes' heartbeats, partitions, the scheduled work).
    fn leases(&self) -> Result<Vec<LeaseRow>, StoreError>;
    /// A random secret of 32 bytes by name, made once and then the same for every node on
    /// this database (the web's CSRF key: a form from one node posts to another).
    fn shared_secret(&self, name: &str) -> Result<Vec<u8>, StoreError>;
}

/// Writes a consistent copy of the embedded database in `data_dir` to the new file `to`, also
/// while a server writes to it (SQLite's `VACUUM INTO`: one read transaction's snapshot). The
/// copy is compacted: pages freed by deletions (retention, staging purges) are not carried
/// into it. Returns the copy's size in bytes.
pub fn backup(data_dir: &Path, to: &Path) -> Result<u64, StoreError> {
    sqlite::backup(data_dir, to)
}

/// Opens (creating and migrating if needed) the store in a data folder.
pub fn open(data_dir: &Path) -> Result<Box<dyn Store>, StoreError> {
    Ok(Box::new(sqlite::SqliteStore::open(data_dir)?))
}
