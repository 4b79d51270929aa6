//! The purpose engine at the edge: reads staging, projects each fix onto the purposes active
//! for its vehicle, feeds them, and writes what they keep together with the cursor — one
//! transaction per batch, so each staged fix is consumed exactly once.
//!
//! Runs on its own thread: the storage interface is synchronous.
//!
//! Several nodes on one database: the engine is split by vehicle into
//! `storage::ENGINE_PARTITIONS` partitions, each with its own cursor, and a node processes
//! only the partitions it holds the lease of (`PurposeFeed::lease_round`, renewed every
//! second, lost after `LEASE_TTL`). Every batch is written under a fence: it commits only while
//! the node still holds those leases. A partition taken over is rebuilt from its vehicles'
//! watermarks, as after a restart, so a trip that was open on the node that died is completed
//! once on the node that took it. The node holding the `schedule` lease also runs the
//! scheduled work (`Cluster::runs_schedule`).

use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use domain::drivinglog::{Deviation, NewLogEntry};
use domain::{AttrKey, DeviceId, FieldKind, Protocol, Timestamp, VehicleId};
use org::Purpose;
use purposes::{FleetView, Inputs, project};
use storage::{AlarmAction, PurposeBatch, PurposeFeed, StagedRow, Store, StoreError};
use trips::{Event, TrackPoint, Trip, TripBuilder, TripConfig};

use crate::ingest::{field_kind, now};
use crate::metrics::Metrics;

/// A change to the fleet view, for live feeds.
#[derive(Clone, Debug, PartialEq)]
pub enum FleetChange {
    Moved {
        vehicle: VehicleId,
        lat: f64,
        lon: f64,
        time: Timestamp,
        /// When the fix arrived (its group commit, i.e. its acknowledgement), on whichever
        /// node: for the latency metrics.
        received_at: Timestamp,
    },
    Gone {
        vehicle: VehicleId,
    },
}

/// A change to the set of open alarm windows, for the live alarms page and the notifications.
/// It names the window, never a position.
#[derive(Clone, Debug, PartialEq)]
pub enum AlarmChange {
    Opened {
        window: i64,
        vehicle: VehicleId,
        opened_at: Timestamp,
        /// What opened it (`panic`, `theft` …, comma-separated).
        triggers: String,
        by_hand: bool,
        /// Whether this node's engine holds the vehicle's partition: exactly one node sends
        /// the notifications of a window, every node shows it.
        ours: bool,
    },
    Resolved {
        window: i64,
    },
}

/// What the purpose engine shares with the rest of the server: the in-memory fleet view.
pub struct Shared {
    pub fleet: RwLock<FleetView>,
    pub fleet_changes: tokio::sync::broadcast::Sender<FleetChange>,
    /// Alarm windows opening and closing (whoever opened or resolved them).
    pub alarm_changes: tokio::sync::broadcast::Sender<AlarmChange>,
    /// Registration numbers, for showing the fleet view.
    pub names: RwLock<HashMap<VehicleId, String>>,
    /// The gate's configuration (`crate::gate_config`), the same for every door.
    pub gate_config: RwLock<register::GateConfig>,
    /// Device health, which the listeners report and the admin's page shows.
    pub health: Arc<crate::health::DeviceHealth>,
    /// This node and the leases its engine holds.
    pub cluster: crate::cluster::Cluster,
    /// Changes this node's engine made to the fleet view, for the other nodes
    /// (`cluster::fan_out`; remote changes arrive on `fleet_changes` only).
    pub fleet_outbound: tokio::sync::broadcast::Sender<FleetChange>,
}

impl Shared {
    pub fn new(stale_after: Duration) -> Arc<Shared> {
        let (fleet_changes, _) = tokio::sync::broadcast::channel(1024);
        let (alarm_changes, _) = tokio::sync::broadcast::channel(256);
        let (fleet_outbound, _) = tokio::sync::broadcast::channel(4096);
        Arc::new(Shared {
            fleet: RwLock::new(FleetView::new(
                i64::try_from(stale_after.as_millis()).unwrap_or(i64::MAX),
            )),
            fleet_changes,
            alarm_changes,
            names: RwLock::new(HashMap::new()),
            gate_config: RwLock::new(register::GateConfig::default()),
            health: Arc::default(),
            cluster: crate::cluster::Cluster::default(),
            fleet_outbound,
        })
    }

    /// Announces a change this node's engine made to the fleet view: to this node's live
    /// feeds and to the other nodes.
    fn announce(&self, change: FleetChange) {
        let _ = self.fleet_changes.send(change.clone());
        let _ = self.fleet_outbound.send(change);
    }

    /// The gate's configuration every door uses.
    pub fn gate_config(&self) -> register::GateConfig {
        self.gate_config.read().map(|c| *c).unwrap_or_default()
    }
}

struct DeviceInfo {
    vehicle: VehicleId,
    protocol: Protocol,
    privacy_input: Option<AttrKey>,
    panic_input: Option<AttrKey>,
    /// The device's rank on its vehicle (0 first): the trip builder merges the devices by it.
    rank: u8,
    /// The unit's own odometer counts as the vehicle's (`org::Device::virtual_odometer`).
    virtual_odometer: bool,
}

struct VehicleInfo {
    purposes: Vec<Purpose>,
    devices: Vec<DeviceId>,
    /// The group the anonymous utilisation statistics aggregate over.
    group: Option<String>,
}

/// The organisation as the engine needs it, reloaded when it changes.
#[derive(Default)]
struct OrgView {
    version: i64,
    devices: HashMap<DeviceId, DeviceInfo>,
    vehicles: HashMap<VehicleId, VehicleInfo>,
    sites: Vec<org::Site>,
    driver_ids: HashMap<String, String>,
    assignments: Vec<(VehicleId, time::Date, Option<time::Date>, String)>,
    regs: HashMap<VehicleId, String>,
}

fn publish_names(shared: &Shared, org: &OrgView) {
    if let Ok(mut names) = shared.names.write() {
        *names = org.regs.clone();
    }
}

/// `din1`…`din4` are Teltonika's digital inputs (IO 1–4); `io:N` any IO id; other names are
/// attribute keys as the device sends them.
fn input_key(protocol: Protocol, s: &str) -> AttrKey {
    if let Some(n) = s.strip_prefix("din").and_then(|n| n.parse::<u16>().ok())
        && protocol == Protocol::Teltonika
    {
        return AttrKey::Io(n);
    }
    if let Some(n) = s.strip_prefix("io:").and_then(|n| n.parse::<u16>().ok()) {
        return AttrKey::Io(n);
    }
    AttrKey::Named(s.to_owned())
}

fn load_org(store: &dyn Store) -> Result<OrgView, StoreError> {
    let version = store.org_version()?;
    let org = store.load_org()?;
    let mut view = OrgView {
        version,
        sites: org.sites.clone(),
        ..OrgView::default()
    };
    let mut vehicle_ids = HashMap::new();
    for v in &org.vehicles {
        if let Some(id) = store.vehicle_id(&v.reg)? {
            vehicle_ids.insert(v.reg.clone(), id);
            view.regs.insert(id, v.reg.to_string());
            view.vehicles.insert(
                id,
                VehicleInfo {
                    purposes: v.purposes.clone(),
                    devices: Vec::new(),
                    group: v.group.clone(),
                },
            );
        }
    }
    for d in store.devices()? {
        let spec = org
            .devices
            .iter()
            .find(|o| o.protocol == d.protocol && o.external_id == d.external_id);
        let key = |f: fn(&org::Device) -> &Option<String>| {
            spec.and_then(|s| f(s).as_deref())
                .map(|s| input_key(d.protocol, s))
        };
        view.devices.insert(
            d.id,
            DeviceInfo {
                vehicle: d.vehicle,
                protocol: d.protocol,
                privacy_input: key(|s| &s.privacy_input),
                panic_input: key(|s| &s.panic_input),
                rank: spec.map_or(0, org::Device::effective_rank),
                virtual_odometer: spec.is_some_and(|s| s.virtual_odometer),
            },
        );
        if let Some(v) = view.vehicles.get_mut(&d.vehicle) {
            v.devices.push(d.id);
        }
    }
    for e in &org.employees {
        if let Some(id) = &e.driver_id {
            view.driver_ids
                .insert(id.to_ascii_uppercase(), e.number.clone());
        }
    }
    for a in &org.assignments {
        if let Some(id) = vehicle_ids.get(&a.vehicle) {
            view.assignments
                .push((*id, a.from, a.to, a.employee.clone()));
        }
    }
    Ok(view)
}

impl OrgView {
    /// The driver of a trip: the identification the unit read, else the assignment that day.
    fn driver(&self, vehicle: VehicleId, trip: &Trip) -> Option<String> {
        if let Some(id) = &trip.driver_id
            && let Some(n) = self.driver_ids.get(&id.to_ascii_uppercase())
        {
            return Some(n.clone());
        }
        let date = trip.local_date();
        self.assignments
            .iter()
            .find(|(v, from, to, _)| *v == vehicle && *from <= date && to.is_none_or(|t| date < t))
            .map(|(_, _, _, e)| e.clone())
    }
}

/// The compliance gate as the worker applies it: which vehicle purposes may collect, from the
/// register (`register::Register::purpose_may_collect`), reloaded when the register's version
/// changes and re-decided when the day changes (a duty dated today starts counting, an
/// evaluation falls due).
struct GateView {
    version: i64,
    day: time::Date,
    collecting: Vec<Purpose>,
}

fn today() -> time::Date {
    trips::oslo_date(now())
}

/// Loads the register and decides the gate for `day`. Logs what keeps each purpose from
/// collecting, and every warning (an overdue evaluation goes to the privacy officer and the
/// representatives; it does not stop collection: see `register::gate`).
fn load_gate(
    store: &dyn Store,
    cfg: &register::GateConfig,
    day: time::Date,
) -> Result<GateView, StoreError> {
    let (version, reg) = store.register().load_register()?;
    let collecting: Vec<Purpose> = Purpose::ALL
        .into_iter()
        .filter(|p| reg.purpose_may_collect(*p, day, cfg))
        .collect();
    for g in reg.gates(day, cfg) {
        let measure = g.entry.measure.id.as_str();
        if !g.state.may_collect {
            tracing::info!(
                measure,
                missing = %g.state.missing_codes().join(","),
                "compliance gate: collects nothing until the register has what is missing (sporvern gate)"
            );
        }
        for w in &g.state.warnings {
            let notify = w
                .notify
                .iter()
                .map(|r| match r {
                    register::Recipient::PrivacyOfficer => "privacy_officer",
                    register::Recipient::Representatives => "representatives",
                })
                .collect::<Vec<_>>()
                .join(",");
            tracing::warn!(measure, warning = %w.code, %notify, citation = %w.citation, "{}", w.text_en);
        }
    }
    Ok(GateView {
        version,
        day,
        collecting,
    })
}

pub struct Worker {
    store: Arc<dyn Store>,
    gate_cfg: register::GateConfig,
    gate: GateView,
    feed: Box<dyn PurposeFeed>,
    shared: Arc<Shared>,
    org: OrgView,
    builders: HashMap<VehicleId, TripBuilder>,
    privacy: HashMap<VehicleId, bool>,
    /// Vehicles with an open alarm window, and when it was last triggered.
    alarms: HashMap<VehicleId, Timestamp>,
    /// The open windows as last read from the store, by id (to announce what changed).
    open_windows: HashMap<i64, storage::OpenAlarm>,
    /// The last state of each vehicle's privacy input (button), to act on changes only.
    privacy_input: HashMap<VehicleId, bool>,
    /// The configured address service, if any.
    lookup: Option<crate::address::AddressLookup>,
    /// When finished weeks of utilisation facts were last looked for.
    utilization_checked: Timestamp,
    /// Per vehicle, its newest fix time and when (wall clock) that was received.
    heard: HashMap<VehicleId, (Timestamp, Timestamp)>,
    /// Each partition's cursor (indexed by partition); only those in `held` are current.
    cursors: Vec<i64>,
    /// The partitions this node holds the lease of, sorted.
    held: Vec<u16>,
    /// Whether this node runs the scheduled work.
    schedule: bool,
    /// When the last lease round was tried, and when one last succeeded.
    lease_tried: Timestamp,
    lease_ok: Timestamp,
    batch_size: usize,
    metrics: Arc<Metrics>,
}

impl Worker {
    pub fn new(
        store: Arc<dyn Store>,
        shared: Arc<Shared>,
        gate_cfg: register::GateConfig,
        metrics: Arc<Metrics>,
    ) -> Result<Worker, StoreError> {
        let gate = load_gate(store.as_ref(), &gate_cfg, today())?;
        let mut feed = store.purpose_feed()?;
        let cursors = feed.cursors()?;
        let org = load_org(store.as_ref())?;
        publish_names(&shared, &org);
        let privacy = feed.privacy_states()?.into_iter().collect();
        let open_windows: HashMap<i64, storage::OpenAlarm> = feed
            .open_alarms()?
            .into_iter()
            .map(|a| (a.window, a))
            .collect();
        let alarms = open_windows
            .values()
            .map(|a| (a.vehicle, a.last_trigger_at))
            .collect();
        let mut w = Worker {
            open_windows,
            privacy_input: HashMap::new(),
            lookup: None,
            utilization_checked: Timestamp::from_millis(0),
            alarms,
            heard: HashMap::new(),
            store,
            gate_cfg,
            gate,
            feed,
            shared,
            org,
            builders: HashMap::new(),
            privacy,
            cursors,
            held: Vec::new(),
            schedule: false,
            lease_tried: Timestamp::from_millis(0),
            lease_ok: Timestamp::from_millis(0),
            batch_size: 5000,
            metrics,
        };
        w.lease_round()?;
        Ok(w)
    }

    fn holds(&self, p: u16) -> bool {
        self.held.binary_search(&p).is_ok()
    }

    /// The lowest cursor of the partitions held (where the next read starts).
    fn low_cursor(&self) -> Option<i64> {
        self.held.iter().map(|p| self.cursor_of(*p)).min()
    }

    fn cursor_of(&self, p: u16) -> i64 {
        self.cursors.get(usize::from(p)).copied().unwrap_or(0)
    }

    /// Renews the leases (at most once a second). Partitions lost are forgotten (their open
    /// trips are another node's now); partitions gained are rebuilt from their watermarks.
    /// When the database cannot be reached for longer than the lease, everything is dropped:
    /// another node may hold it by now.
    fn lease_round(&mut self) -> Result<(), StoreError> {
        let clock = now();
        if clock.millis() - self.lease_tried.millis() < LEASE_RENEW_MS {
            return Ok(());
        }
        self.lease_tried = clock;
        let grant = match self
            .feed
            .lease_round(self.shared.cluster.node(), LEASE_TTL_MS)
        {
            Ok(g) => g,
            Err(e) => {
                if clock.millis() - self.lease_ok.millis() > LEASE_TTL_MS - LEASE_RENEW_MS {
                    let all = std::mem::take(&mut self.held);
                    self.forget_partitions(&all);
                    self.schedule = false;
                    self.shared.cluster.set(&[], false, 1, None);
                }
                return Err(e);
            }
        };
        self.lease_ok = clock;
        let lost: Vec<u16> = self
            .held
            .iter()
            .copied()
            .filter(|p| !grant.partitions.contains(p))
            .collect();
        let gained: Vec<u16> = grant
            .partitions
            .iter()
            .copied()
            .filter(|p| !self.holds(*p))
            .collect();
        if !lost.is_empty() {
            tracing::info!(partitions = ?lost, "purpose engine: partitions given up (another node holds them now)");
            self.forget_partitions(&lost);
            self.held.retain(|p| !lost.contains(p));
        }
        if !gained.is_empty() {
            self.cursors = self.feed.cursors()?;
            self.replay(&gained)?;
            tracing::info!(partitions = ?gained, "purpose engine: partitions taken");
            self.held.extend(&gained);
            self.held.sort_unstable();
        }
        self.schedule = grant.schedule;
        self.shared
            .cluster
            .set(&self.held, self.schedule, grant.nodes, Some(clock));
        Ok(())
    }

    /// Drops what the engine holds in memory for the vehicles of `partitions`.
    fn forget_partitions(&mut self, partitions: &[u16]) {
        let gone = |v: &VehicleId| partitions.contains(&storage::partition_of(*v));
        self.builders.retain(|v, _| !gone(v));
        self.heard.retain(|v, _| !gone(v));
        self.privacy_input.retain(|v, _| !gone(v));
    }

    /// The partition a staged row belongs to (None: a device no longer registered).
    fn partition_of_row(&self, row: &StagedRow) -> Option<u16> {
        self.org
            .devices
            .get(&row.device)
            .map(|d| storage::partition_of(d.vehicle))
    }

    /// Writes a batch for the partitions held, and moves their cursors.
    fn commit(&mut self, batch: &PurposeBatch) -> Result<(), StoreError> {
        let held = self.held.clone();
        let written = self.feed.commit_leased(
            batch,
            storage::Fence {
                node: self.shared.cluster.node(),
                partitions: &held,
            },
        );
        if let Err(StoreError::Refused(why)) = &written {
            tracing::warn!(%why, "purpose engine: leases lost; what it held in memory is dropped");
            let all = std::mem::take(&mut self.held);
            self.forget_partitions(&all);
            self.lease_tried = Timestamp::from_millis(0);
        }
        written?;
        for p in &held {
            if let Some(c) = self.cursors.get_mut(usize::from(*p)) {
                *c = (*c).max(batch.up_to);
            }
        }
        Ok(())
    }

    fn builder(&mut self, vehicle: VehicleId) -> &mut TripBuilder {
        self.builders
            .entry(vehicle)
            .or_insert_with(|| TripBuilder::new(TripConfig::default()))
    }

    /// After a restart or a takeover: rebuild the open trip of each vehicle in `partitions`
    /// from the staged fixes after the last one its driving log closed a trip on, up to the
    /// partition's cursor.
    fn replay(&mut self, partitions: &[u16]) -> Result<(), StoreError> {
        let marks: HashMap<VehicleId, i64> = self.feed.watermarks()?.into_iter().collect();
        let vehicles: Vec<(VehicleId, Vec<DeviceId>)> = self
            .org
            .vehicles
            .iter()
            .filter(|(id, v)| {
                v.purposes.contains(&Purpose::DrivingLog)
                    && partitions.contains(&storage::partition_of(**id))
            })
            .map(|(id, v)| (*id, v.devices.clone()))
            .collect();
        let low = partitions
            .iter()
            .map(|p| self.cursor_of(*p))
            .min()
            .unwrap_or(0);
        let mut batch = self.empty_batch();
        // A few vehicles per read of staging (one read per vehicle scanned staging once per
        // vehicle: minutes for a partition of hundreds of vehicles taken over on a busy
        // database). Each vehicle's rows keep their fix-time order.
        for group in vehicles.chunks(REPLAY_VEHICLES_PER_READ) {
            let devices: Vec<DeviceId> =
                group.iter().flat_map(|(_, d)| d.iter().copied()).collect();
            let windows: HashMap<VehicleId, (i64, i64)> = group
                .iter()
                .map(|(v, _)| {
                    (
                        *v,
                        (
                            marks.get(v).copied().unwrap_or(0),
                            self.cursor_of(storage::partition_of(*v)),
                        ),
                    )
                })
                .collect();
            let bounds = |v: VehicleId| windows.get(&v).copied().unwrap_or((0, 0));
            let after = group.iter().map(|(v, _)| bounds(*v).0).min().unwrap_or(0);
            let up_to = group.iter().map(|(v, _)| bounds(*v).1).max().unwrap_or(0);
            let rows = self.feed.replay(&devices, after, up_to)?;
            for row in &rows {
                let Some(vehicle) = self.org.devices.get(&row.device).map(|d| d.vehicle) else {
                    continue;
                };
                let (mark, cursor) = bounds(vehicle);
                // Only the vehicle's own window; a row that fails the check was set aside
                // when it was first read.
                if row.id > mark && row.id <= cursor && self.judge(row).is_ok() {
                    let _ = self.guarded(row, &mut batch, Replay::Yes);
                }
            }
        }
        batch.up_to = low;
        if !batch.entries.is_empty() || !batch.deviations.is_empty() {
            self.feed.commit_leased(
                &batch,
                storage::Fence {
                    node: self.shared.cluster.node(),
                    partitions,
                },
            )?;
        }
        Ok(())
    }

    fn empty_batch(&self) -> PurposeBatch {
        PurposeBatch {
            up_to: self.low_cursor().unwrap_or(0),
            entries: Vec::new(),
            deviations: Vec::new(),
            privacy_switches: Vec::new(),
            watermarks: Vec::new(),
            alarms: Vec::new(),
            utilization: Vec::new(),
            recorded_at: now(),
        }
    }

    /// One round: reload what changed, consume a batch of staged fixes. Returns how many.
    pub fn step(&mut self) -> Result<usize, StoreError> {
        if self.store.org_version()? != self.org.version {
            self.org = load_org(self.store.as_ref())?;
            publish_names(&self.shared, &self.org);
        }
        let day = today();
        if self.store.register().register_version()? != self.gate.version || day != self.gate.day {
            self.gate = load_gate(self.store.as_ref(), &self.gate_cfg, day)?;
        }
        // Switches made outside the stream (the API, the command line).
        for (vehicle, private) in self.feed.privacy_states()? {
            self.set_privacy(vehicle, private);
        }
        // Windows opened or resolved outside the stream (operators).
        self.reload_alarms()?;
        self.lease_round()?;
        let rows = match self.low_cursor() {
            Some(after) => self.feed.next(after, self.batch_size)?,
            None => Vec::new(),
        };
        let mut batch = self.empty_batch();
        let mut set_aside = Vec::new();
        for row in &rows {
            batch.up_to = row.id;
            // Another node's vehicle, or one this partition has already consumed.
            match self.partition_of_row(row) {
                Some(p) if self.holds(p) && row.id > self.cursor_of(p) => {}
                _ => continue,
            }
            // A row the engine cannot use is set aside with its reason and the cursor moves
            // on: one bad record never holds up the fleet.
            let outcome = self
                .judge(row)
                .and_then(|()| self.guarded(row, &mut batch, Replay::No));
            if let Err(reason) = outcome {
                set_aside.push(storage::SetAside {
                    staged_id: row.id,
                    device: row.device,
                    fix_time: row.fix.time,
                    received_at: row.received_at,
                    reason,
                    at: now(),
                });
            }
        }
        let clock = now();
        let mut events = Vec::new();
        let vehicles: Vec<(VehicleId, Timestamp, Timestamp)> = self
            .heard
            .iter()
            .map(|(v, (fix, wall))| (*v, *fix, *wall))
            .collect();
        for (v, last_fix, heard_at) in vehicles {
            events.clear();
            // The vehicle's own clock now: its last fix time plus the wall time since it was
            // received. A device sending buffered hours-old records is not "silent for hours".
            let device_now = Timestamp::from_millis(
                last_fix.millis() + (clock.millis() - heard_at.millis()).max(0),
            );
            self.builder(v).advance_to(device_now, &mut events);
            let mark = batch.up_to;
            self.handle_events(v, &events, mark, &mut batch);
        }
        self.close_quiet_alarms(clock, &mut batch);
        if self.schedule {
            self.release_utilization(clock)?;
        }
        if let Ok(mut fleet) = self.shared.fleet.write() {
            for vehicle in fleet.expire(clock) {
                let _ = self
                    .shared
                    .fleet_changes
                    .send(FleetChange::Gone { vehicle });
            }
        }
        if !set_aside.is_empty() {
            self.feed.set_aside(&set_aside)?;
            self.metrics
                .engine
                .set_aside
                .fetch_add(set_aside.len() as u64, Relaxed);
            for r in &set_aside {
                if let Some(more) = crate::throttle::allow("purposes: row set aside") {
                    tracing::warn!(staged_id = r.staged_id, device = %r.device, fix_time = r.fix_time.millis(), set_aside_since_last = more, "purpose engine: staged fix set aside, not used: {}", r.reason);
                }
            }
        }
        if !rows.is_empty()
            || !batch.entries.is_empty()
            || !batch.deviations.is_empty()
            || !batch.alarms.is_empty()
        {
            self.commit(&batch)?;
        }
        let backlog = self.backlog()?;
        let e = &self.metrics.engine;
        e.backlog_rows.store(backlog.rows, Relaxed);
        e.oldest_unprocessed_ms
            .store(backlog.oldest_received.map_or(0, |t| t.millis()), Relaxed);
        e.last_round_ms.store(now().millis(), Relaxed);
        e.ready.store(true, Relaxed);
        Ok(rows.len())
    }

    /// The staged fixes after the lowest cursor held (none held: nothing is this node's).
    fn backlog(&mut self) -> Result<storage::Backlog, StoreError> {
        match self.low_cursor() {
            Some(after) => self.feed.backlog(after),
            None => Ok(storage::Backlog {
                rows: 0,
                oldest_received: None,
            }),
        }
    }

    /// The same check the listeners make (`domain::sane`), by the clock of the row's arrival:
    /// a row staged before that check existed, or written by other means, is judged too.
    fn judge(&self, row: &StagedRow) -> Result<(), String> {
        let Some(device) = self.org.devices.get(&row.device) else {
            return Ok(()); // a device no longer registered: process() skips it
        };
        domain::sane::check_fix(device.protocol, &row.fix, row.received_at)
            .map_err(|e| e.to_string())
    }

    /// [`Worker::process`], with a panic turned into a reason to set the row aside. The trip
    /// builder of that vehicle is dropped (its state may be half-updated) and rebuilt from
    /// the next records; other vehicles are untouched.
    fn guarded(
        &mut self,
        row: &StagedRow,
        batch: &mut PurposeBatch,
        replay: Replay,
    ) -> Result<(), String> {
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.process(row, batch, replay)
        }));
        caught.map_err(|panic| {
            if let Some(d) = self.org.devices.get(&row.device) {
                let v = d.vehicle;
                self.builders.remove(&v);
                self.heard.remove(&v);
            }
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown".to_owned());
            format!("internal error while processing it: {what}")
        })
    }

    /// Reads the open alarm windows and announces each one that opened or closed since the
    /// last round, whoever opened or resolved it (a device, the web, the API, the command line
    /// in another process): the live alarms page and the notifications listen here.
    fn reload_alarms(&mut self) -> Result<(), StoreError> {
        let now_open: HashMap<i64, storage::OpenAlarm> = self
            .feed
            .open_alarms()?
            .into_iter()
            .map(|a| (a.window, a))
            .collect();
        for (id, a) in &now_open {
            if !self.open_windows.contains_key(id) {
                let _ = self.shared.alarm_changes.send(AlarmChange::Opened {
                    window: *id,
                    vehicle: a.vehicle,
                    opened_at: a.opened_at,
                    triggers: a.triggers.clone(),
                    by_hand: a.by_hand,
                    ours: self.holds(storage::partition_of(a.vehicle)),
                });
            }
        }
        for id in self.open_windows.keys() {
            if !now_open.contains_key(id) {
                let _ = self
                    .shared
                    .alarm_changes
                    .send(AlarmChange::Resolved { window: *id });
            }
        }
        self.alarms = now_open
            .values()
            .map(|a| (a.vehicle, a.last_trigger_at))
            .collect();
        self.open_windows = now_open;
        Ok(())
    }

    /// An alarm window a device opened closes by itself when no new trigger came for a while:
    /// alarm tracking must not turn into continuous tracking (seed 001, Sikkerhetshensyn). A
    /// window opened by hand (a reported theft) stays open until an operator resolves it: the
    /// stolen vehicle sends no new alarm, and its positions are what the police need.
    fn close_quiet_alarms(&mut self, clock: Timestamp, batch: &mut PurposeBatch) {
        let by_hand: std::collections::HashSet<VehicleId> = self
            .open_windows
            .values()
            .filter(|a| a.by_hand)
            .map(|a| a.vehicle)
            .collect();
        let quiet: Vec<VehicleId> = self
            .alarms
            .iter()
            .filter(|(v, last)| {
                self.holds(storage::partition_of(**v))
                    && !by_hand.contains(v)
                    && clock.millis() - last.millis() > ALARM_AUTO_RESOLVE_MS
            })
            .map(|(v, _)| *v)
            .collect();
        for vehicle in quiet {
            self.alarms.remove(&vehicle);
            batch
                .alarms
                .push(AlarmAction::AutoResolve { vehicle, at: clock });
        }
    }

    fn set_privacy(&mut self, vehicle: VehicleId, private: bool) {
        let was = self.privacy.insert(vehicle, private).unwrap_or(false);
        if private && !was {
            let gone = self
                .shared
                .fleet
                .write()
                .map(|mut f| f.forget(vehicle))
                .unwrap_or(false);
            if gone {
                self.shared.announce(FleetChange::Gone { vehicle });
            }
        }
    }

    fn process(&mut self, row: &StagedRow, batch: &mut PurposeBatch, replay: Replay) {
        let Some(device) = self.org.devices.get(&row.device) else {
            return;
        };
        let Some(vehicle_info) = self.org.vehicles.get(&device.vehicle) else {
            return;
        };
        let vehicle = device.vehicle;
        let protocol = device.protocol;
        let kind_of = move |k: &AttrKey| -> FieldKind { field_kind(protocol, k) };
        let virtual_odometer = device.virtual_odometer;
        let rank = device.rank;
        let vehicle_odometer = move |k: &AttrKey| {
            codec::odometer::vehicle_odometer(protocol, k, virtual_odometer)
                .map(|o| (o.metres_per_unit, o.preference))
        };
        // The compliance gate decides which configured purposes collect: a purpose whose
        // measure is not lawful or lacks a duty due before start receives nothing.
        let allowed = &self.gate.collecting;
        let active = purposes::gate::collecting(&vehicle_info.purposes, |p| allowed.contains(&p));
        let projected = project(
            &row.fix,
            &Inputs {
                purposes: &active,
                kind_of: &kind_of,
                privacy_input: device.privacy_input.as_ref(),
                panic_input: device.panic_input.as_ref(),
                vehicle_odometer: &vehicle_odometer,
            },
        );
        if let (Some(on), Replay::No) = (projected.privacy_input, replay) {
            // Edge-triggered: the button switches when it changes (or is first seen pressed),
            // so a switch made elsewhere (the command line, later the app) is not undone by
            // the next record that merely repeats the button's resting state.
            let before = self.privacy_input.insert(vehicle, on);
            let pressed = before.map_or(on, |b| b != on);
            let current = self.privacy.get(&vehicle).copied().unwrap_or(false);
            if pressed && on != current {
                batch
                    .privacy_switches
                    .push((vehicle, row.fix.time, on, "device input"));
                self.set_privacy(vehicle, on);
            }
        }
        let private = self.privacy.get(&vehicle).copied().unwrap_or(false);
        if let (Some(live), false, Replay::No) = (projected.fleet_view, private, replay) {
            let clock = now();
            let changed = self
                .shared
                .fleet
                .write()
                .map(|mut f| f.update(vehicle, live, clock))
                .unwrap_or(false);
            if changed {
                self.metrics
                    .fix_to_fleet_seconds
                    .observe((clock.millis() - row.received_at.millis()).max(0) as f64 / 1000.0);
                self.shared.announce(FleetChange::Moved {
                    vehicle,
                    lat: live.position.lat(),
                    lon: live.position.lon(),
                    time: live.time,
                    received_at: row.received_at,
                });
            }
        }
        if let (Some(a), Replay::No) = (&projected.alarm, replay) {
            let open = self.alarms.contains_key(&vehicle);
            let triggered = !a.triggers.is_empty();
            if triggered && !open {
                let triggers = a
                    .triggers
                    .iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(",");
                tracing::warn!(%vehicle, %triggers, "alarm: window opened");
                batch.alarms.push(AlarmAction::Open {
                    vehicle,
                    at: a.time,
                    triggers,
                    position: a.position,
                });
                self.alarms.insert(vehicle, a.time);
            } else if open {
                // Only positions from inside the window: a buffered fix from before it opened
                // (a unit sending its backlog, a theft reported after the fact) is not kept.
                let opened_at = self
                    .open_windows
                    .values()
                    .find(|w| w.vehicle == vehicle)
                    .map_or(a.time, |w| w.opened_at);
                if let Some(position) = a.position.filter(|_| a.time >= opened_at) {
                    batch.alarms.push(AlarmAction::Position {
                        vehicle,
                        at: a.time,
                        position,
                        trigger: triggered,
                    });
                }
                if triggered {
                    self.alarms.insert(
                        vehicle,
                        a.time
                            .max(self.alarms.get(&vehicle).copied().unwrap_or(a.time)),
                    );
                }
            }
        }
        if let Some(p) = projected.driving_log {
            let newest = self
                .heard
                .get(&vehicle)
                .map_or(p.time, |(t, _)| (*t).max(p.time));
            self.heard.insert(vehicle, (newest, now()));
            let mut events = Vec::new();
            self.builder(vehicle).push(
                TrackPoint {
                    time: p.time,
                    position: p.position,
                    ignition: p.ignition,
                    odometer_m: p.odometer_m,
                    driver_id: p.driver_id,
                    private,
                    rank,
                },
                &mut events,
            );
            self.handle_events(vehicle, &events, row.id, batch);
        }
    }

    fn handle_events(
        &self,
        vehicle: VehicleId,
        events: &[Event],
        staged_id: i64,
        batch: &mut PurposeBatch,
    ) {
        for e in events {
            match e {
                Event::TripClosed(trip) => {
                    batch.entries.push(self.entry(vehicle, trip));
                    batch.watermarks.push((vehicle, staged_id));
                    if let Some(fact) = self.utilization_fact(vehicle, trip) {
                        batch.utilization.push(fact);
                    }
                }
                Event::TripRevised { old, new } => self.late_change(
                    vehicle,
                    std::slice::from_ref(old),
                    std::slice::from_ref(new),
                    batch,
                ),
                Event::TripReplaced { old, new } => self.late_change(vehicle, old, new, batch),
                Event::Deviation(d) => {
                    let private = self.privacy.get(&vehicle).copied().unwrap_or(false);
                    batch.deviations.push(Deviation {
                        vehicle,
                        date: trips::oslo_date(d.from),
                        // During privacy mode a deviation keeps its date and km, not its times.
                        from: if private {
                            Timestamp::from_millis(0)
                        } else {
                            d.from
                        },
                        to: if private {
                            Timestamp::from_millis(0)
                        } else {
                            d.to
                        },
                        kind: d.kind.as_str(),
                        km: d.km_across,
                        note: deviation_note(d),
                        odometer_km: d
                            .odometer_m
                            .map(|(a, b)| (round1(a / 1000.0), round1(b / 1000.0))),
                    });
                }
                Event::LateDropped { time, window_start } => {
                    tracing::warn!(%vehicle, late = %time, window = %window_start, "a record older than the trip builder's window was not used");
                }
                Event::TripOpened { .. }
                | Event::OpenTripWithdrawn { .. }
                | Event::DeviationWithdrawn(_) => {}
            }
        }
    }

    /// Late records changed trips already written. The log is not rewritten (recorded
    /// distance, date and time are final); the change is recorded as a deviation.
    fn late_change(
        &self,
        vehicle: VehicleId,
        old: &[Trip],
        new: &[Trip],
        batch: &mut PurposeBatch,
    ) {
        let km = |t: &[Trip]| t.iter().map(|t| t.distance_m / 1000.0).sum::<f64>();
        let any_private = old.iter().chain(new).any(|t| t.private);
        let Some(first) = old.first().or(new.first()) else {
            return;
        };
        let last_end = old
            .iter()
            .chain(new)
            .map(|t| t.end)
            .max()
            .unwrap_or(first.end);
        batch.deviations.push(Deviation {
            vehicle,
            date: first.local_date(),
            from: if any_private { Timestamp::from_millis(0) } else { first.start },
            to: if any_private { Timestamp::from_millis(0) } else { last_end },
            kind: "late_data",
            km: km(new) - km(old),
            note: format!(
                "late records changed {} logged trip(s) of {} km into {} trip(s) of {} km; the log keeps what was written",
                old.len(),
                round1(km(old)),
                new.len(),
                round1(km(new))
            ),
            odometer_km: None,
        });
    }

    /// The utilisation purpose's share of a closed trip: group, vehicle key, times, km, cells.
    /// Private trips and vehicles without the purpose or a group give none.
    fn utilization_fact(
        &self,
        vehicle: VehicleId,
        trip: &Trip,
    ) -> Option<storage::UtilizationFact> {
        let info = self.org.vehicles.get(&vehicle)?;
        if !info.purposes.contains(&Purpose::Utilization) {
            return None;
        }
        let fact = stats::TripFact::from_trip(info.group.clone()?, vehicle.0 as u64, trip)?;
        Some(storage::UtilizationFact {
            group: fact.group,
            vehicle_key: vehicle.0,
            start: fact.start,
            end: fact.end,
            km: fact.km,
            start_cell: (fact.start_cell.lat_index, fact.start_cell.lon_index),
            end_cell: (fact.end_cell.lat_index, fact.end_cell.lon_index),
        })
    }

    /// Releases every finished ISO week of utilisation facts as anonymous aggregates and
    /// deletes the facts (at most hourly).
    fn release_utilization(&mut self, clock: Timestamp) -> Result<(), StoreError> {
        if clock.millis() - self.utilization_checked.millis() < 3_600_000 {
            return Ok(());
        }
        self.utilization_checked = clock;
        // Weeks that ended at least 12 hours ago (late trips have had time to close).
        let Some(cutoff) = week_start(Timestamp::from_millis(clock.millis() - 12 * 3_600_000))
        else {
            return Ok(());
        };
        let facts = self.feed.utilization_facts_before(cutoff)?;
        if facts.is_empty() {
            return Ok(());
        }
        let mut agg = stats::Aggregator::new();
        for f in facts {
            agg.add(stats::TripFact {
                group: f.group,
                vehicle: f.vehicle_key as u64,
                start: f.start,
                end: f.end,
                km: f.km,
                start_cell: stats::Cell {
                    lat_index: f.start_cell.0,
                    lon_index: f.start_cell.1,
                },
                end_cell: stats::Cell {
                    lat_index: f.end_cell.0,
                    lon_index: f.end_cell.1,
                },
            });
        }
        let release = agg.release(&stats::Config::default(), 0);
        let weeks: Vec<storage::ReleasedWeek> = release
            .weeks
            .iter()
            .map(|w| {
                let (group, year, week) = w.key();
                storage::ReleasedWeek {
                    group: group.to_owned(),
                    year,
                    week,
                    body: serde_json::to_string(w)
                        .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}")),
                }
            })
            .collect();
        tracing::info!(
            weeks = weeks.len(),
            "utilisation statistics released; their trip facts deleted"
        );
        self.feed.release_utilization(&weeks, cutoff)
    }

    /// A trip end's name: the organisation's site, else the address service's answer (when
    /// one is configured), else the nearest locality.
    fn place(&self, p: domain::Position) -> String {
        let named = places::PlaceNamer::new(&self.org.sites).name(p.lat(), p.lon());
        if let (places::PlaceName::Site { .. }, _) | (_, None) = (&named, &self.lookup) {
            return named.render(places::Lang::Norwegian);
        }
        self.lookup
            .as_ref()
            .and_then(|l| l.address(p.lat(), p.lon()))
            .unwrap_or_else(|| named.render(places::Lang::Norwegian))
    }

    fn entry(&self, vehicle: VehicleId, trip: &Trip) -> NewLogEntry {
        let km = round1(trip.distance_m / 1000.0);
        let date = trip.local_date();
        if trip.private {
            return NewLogEntry::Private { vehicle, date, km };
        }
        NewLogEntry::Trip {
            vehicle,
            date,
            start: trip.start,
            end: trip.end,
            start_place: self.place(trip.start_pos),
            end_place: self.place(trip.end_pos),
            odometer_start_km: trip.odometer_start_m.map(|m| round1(m / 1000.0)),
            odometer_end_km: trip.odometer_end_m.map(|m| round1(m / 1000.0)),
            km,
            distance_source: trip.distance_source.as_str(),
            driver: self.org.driver(vehicle, trip),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Replay {
    Yes,
    No,
}

/// Monday 00:00 (Norwegian time) of the ISO week `t` falls in.
fn week_start(t: Timestamp) -> Option<Timestamp> {
    let local = t
        .to_offset_date_time()?
        .checked_to_offset(trips::oslo_offset(t))?;
    let monday =
        local.date() - time::Duration::days(i64::from(local.weekday().number_days_from_monday()));
    let midnight = monday.midnight().assume_offset(local.offset());
    Some(Timestamp::from_secs(midnight.unix_timestamp()))
}

/// A lease lasts this long after its last renewal: a node that dies loses its partitions
/// within this (plus a renewal on the node taking over), the bound of a takeover.
pub const LEASE_TTL_MS: i64 = 6_000;
/// Vehicles whose staged fixes one read brings back when open trips are rebuilt.
const REPLAY_VEHICLES_PER_READ: usize = 200;
/// How often a node renews its leases and looks for partitions to take.
const LEASE_RENEW_MS: i64 = 1_000;

/// An alarm window a device opened closes by itself this long after its last trigger.
const ALARM_AUTO_RESOLVE_MS: i64 = 30 * 60_000;

/// What a deviation says, in English (the driving log's documents put it in words per
/// language from its kind and values).
fn deviation_note(d: &trips::Deviation) -> String {
    match (d.kind, d.odometer_m) {
        (trips::DeviationKind::OdometerBackwards, Some((a, b))) => format!(
            "the vehicle odometer went backwards from {} km to {} km",
            round1(a / 1000.0),
            round1(b / 1000.0)
        ),
        (trips::DeviationKind::OdometerJump, Some((a, b))) => format!(
            "the vehicle odometer jumped from {} km to {} km, more than the vehicle can have driven",
            round1(a / 1000.0),
            round1(b / 1000.0)
        ),
        _ => format!(
            "no positions while the vehicle moved ({} km by {})",
            round1(d.km_across),
            d.source.as_str()
        ),
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Runs the worker until the process ends; errors are logged and retried.
pub fn run(
    store: Arc<dyn Store>,
    shared: Arc<Shared>,
    lookup: Option<crate::address::AddressLookup>,
    gate_cfg: register::GateConfig,
    metrics: Arc<Metrics>,
) {
    let mut lookup = lookup;
    let mut worker = loop {
        match Worker::new(store.clone(), shared.clone(), gate_cfg, metrics.clone()) {
            Ok(mut w) => {
                w.lookup = lookup.take();
                w.metrics
                    .engine
                    .last_round_ms
                    .store(now().millis(), Relaxed);
                break w;
            }
            Err(e) => {
                tracing::error!(error = %e, "the purpose engine cannot start; retrying");
                std::thread::sleep(Duration::from_secs(5));
            }
        }
    };
    loop {
        match worker.step() {
            Ok(n) if n >= worker.batch_size => {}
            Ok(_) => std::thread::sleep(Duration::from_millis(200)),
            Err(e) => {
                worker.metrics.engine.failed_rounds.fetch_add(1, Relaxed);
                // The lag keeps being measured while rounds fail, so health can say so.
                if let Ok(b) = worker.backlog() {
                    let e = &worker.metrics.engine;
                    e.backlog_rows.store(b.rows, Relaxed);
                    e.oldest_unprocessed_ms
                        .store(b.oldest_received.map_or(0, |t| t.millis()), Relaxed);
                }
                if let Some(more) = crate::throttle::allow("purposes: round failed") {
                    tracing::error!(error = %e, failed_since_last = more, "the purpose engine failed a batch; it will retry");
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday_midnight_norwegian_time() {
        // Wednesday 2026-11-25 12:00 UTC → Monday 2026-11-23 00:00 +01:00 = Sunday 23:00 UTC.
        let wed = Timestamp::from_secs(1_795_608_000);
        assert_eq!(
            week_start(wed).map(|t| t.rfc3339()),
            Some("2026-11-22T23:00:00Z".to_owned())
        );
        // Summer time: Monday 2026-06-22 00:00 +02:00.
        let summer = Timestamp::from_secs(1_782_302_400); // 2026-06-24 12:00 UTC
        assert_eq!(
            week_start(summer).map(|t| t.rfc3339()),
            Some("2026-06-21T22:00:00Z".to_owned())
        );
    }
}
