//! Several Sporvern nodes on one database, acting as one (ARCHITECTURE.md, "Several nodes").
//!
//! - `Cluster`: this node's name and what its purpose engine holds (the partitions leased
//!   through the database, and whether it runs the scheduled work), for `/healthz` and the
//!   scheduled tasks. The leases themselves are taken in `purpose_worker`.
//! - `fan_out`: the live fleet view across nodes without storing it. The engine that owns a
//!   vehicle announces each change on a NATS core subject (in memory, no JetStream), and every
//!   other node applies it to its own fleet view, so a dispatcher on any node sees every
//!   vehicle. Refused logins travel the same way, so the login limiter counts a user's
//!   failures on every node.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock};

use domain::{Position, Timestamp, VehicleId};
use futures_util::StreamExt as _;
use serde::{Deserialize, Serialize};

use crate::purpose_worker::{FleetChange, Shared};

/// The node name of the embedded database: one server per data folder, so a restarted server
/// is the same node and keeps its leases at once.
pub const EMBEDDED_NODE: &str = "embedded";

#[derive(Default)]
pub struct Cluster {
    node: OnceLock<String>,
    held: Mutex<Held>,
    schedule: AtomicBool,
    /// Set when NATS is configured: whether this node is connected to it now.
    nats: OnceLock<Arc<AtomicBool>>,
}

#[derive(Clone, Debug, Default)]
struct Held {
    partitions: Vec<u16>,
    renewed_at: Option<Timestamp>,
    nodes: usize,
}

impl Cluster {
    /// Names this node (once, before the purpose engine starts).
    pub fn set_node(&self, name: String) {
        let _ = self.node.set(name);
    }

    pub fn node(&self) -> &str {
        self.node.get().map_or(EMBEDDED_NODE, String::as_str)
    }

    /// What the engine holds after a lease round.
    pub fn set(
        &self,
        partitions: &[u16],
        schedule: bool,
        nodes: usize,
        renewed_at: Option<Timestamp>,
    ) {
        if let Ok(mut h) = self.held.lock() {
            h.partitions = partitions.to_vec();
            h.renewed_at = renewed_at;
            h.nodes = nodes;
        }
        self.schedule.store(schedule, Relaxed);
    }

    /// Whether this node runs the scheduled work now (retention, the staging purge, the
    /// ledger's checkpoints, the weekly statistics): exactly one node does.
    pub fn runs_schedule(&self) -> bool {
        self.schedule.load(Relaxed)
    }

    /// The partitions held and when the leases were last renewed.
    pub fn partitions(&self) -> (Vec<u16>, Option<Timestamp>) {
        self.held
            .lock()
            .map(|h| (h.partitions.clone(), h.renewed_at))
            .unwrap_or_default()
    }

    /// The nodes alive on the database at the last lease round, this one included.
    pub fn nodes(&self) -> usize {
        self.held.lock().map_or(1, |h| h.nodes.max(1))
    }

    /// `None` without NATS; else whether it is connected.
    pub fn nats_connected(&self) -> Option<bool> {
        self.nats.get().map(|c| c.load(Relaxed))
    }

    /// The `/healthz` lines of this node: its leases and, when configured, NATS. Unhealthy
    /// (`Err`) when NATS is configured and not connected.
    pub fn health_lines(&self, now: Timestamp) -> (String, bool) {
        let (parts, renewed) = self.partitions();
        let mut out = format!(
            "node: {}; engine partitions held: {} of {}{}; scheduled work: {}\n",
            self.node(),
            parts.len(),
            storage::ENGINE_PARTITIONS,
            match renewed {
                Some(t) => format!(" (renewed {} ms ago)", (now.millis() - t.millis()).max(0)),
                None => String::new(),
            },
            if self.runs_schedule() {
                "this node"
            } else {
                "another node"
            },
        );
        let mut healthy = true;
        match self.nats_connected() {
            None if self.nodes() > 1 => {
                healthy = false;
                out.push_str(&format!(
                    "nats: not configured, but {} nodes run on this database (each shows only its own vehicles; give every node --nats-url)\n",
                    self.nodes()
                ));
            }
            None => {}
            Some(true) => out.push_str("nats: ok\n"),
            Some(false) => {
                healthy = false;
                out.push_str(
                    "nats: not connected (the fleet view does not reach the other nodes)\n",
                );
            }
        }
        (out, healthy)
    }
}

/// The default name of a node on a shared database: host and process.
pub fn default_node_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".to_owned());
    format!("{host}-{}", std::process::id())
}

/// A fleet change as it travels between nodes. Positions only of vehicles in the fleet view,
/// which the engine filled from the fleet-view purpose alone; never stored on the way.
#[derive(Debug, Serialize, Deserialize)]
struct Wire {
    node: String,
    vehicle: i64,
    /// `None`: the vehicle left the view (privacy mode).
    at: Option<(f64, f64, i64)>,
    /// When the fix was acknowledged (ms), for `sporvern_fleet_fanout_seconds`.
    received_at: i64,
}

/// A refused or accepted login, so every node's limiter counts it.
#[derive(Debug, Serialize, Deserialize)]
pub struct LoginWire {
    pub node: String,
    pub name: String,
    pub source: String,
    pub ok: bool,
}

/// The subjects of one Sporvern installation: `sporvern.<id>.fleet` and `….login`, where the
/// id comes from the database (`Store::shared_secret("cluster")`), so installations (and
/// test runs) sharing a NATS server never see each other's messages.
pub fn subjects(cluster_secret: &[u8]) -> (String, String) {
    let id = hex::encode(cluster_secret.get(..8).unwrap_or(cluster_secret));
    (
        format!("sporvern.{id}.fleet"),
        format!("sporvern.{id}.login"),
    )
}

/// Connects to NATS and runs the fan-out until the process ends: this node's fleet changes
/// out, the other nodes' in; logins both ways through `logins`. Returns an error only when
/// the first connection fails (the server refuses to start: several nodes without the
/// fan-out would each show only their own vehicles).
pub async fn fan_out(
    url: String,
    shared: Arc<Shared>,
    cluster_secret: Vec<u8>,
    logins: Arc<crate::login::Logins>,
    metrics: Arc<crate::metrics::Metrics>,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let connected = Arc::new(AtomicBool::new(false));
    let _ = shared.cluster.nats.set(connected.clone());
    let flag = connected.clone();
    let client = async_nats::ConnectOptions::new()
        .event_callback(move |event| {
            let flag = flag.clone();
            async move {
                match event {
                    async_nats::Event::Connected => flag.store(true, Relaxed),
                    async_nats::Event::Disconnected => {
                        flag.store(false, Relaxed);
                        tracing::error!("NATS disconnected: the fleet view does not reach the other nodes until it is back");
                    }
                    other => tracing::warn!(event = %other, "NATS"),
                }
            }
        })
        .connect(url.as_str())
        .await
        .map_err(|e| anyhow::anyhow!("cannot connect to NATS at {url}: {e}"))?;
    connected.store(true, Relaxed);
    let (fleet_subject, login_subject) = subjects(&cluster_secret);
    let mut fleet_in = client
        .subscribe(fleet_subject.clone())
        .await
        .map_err(|e| anyhow::anyhow!("NATS subscribe: {e}"))?;
    let mut login_in = client
        .subscribe(login_subject.clone())
        .await
        .map_err(|e| anyhow::anyhow!("NATS subscribe: {e}"))?;
    let node = shared.cluster.node().to_owned();
    let mut outbound = shared.fleet_outbound.subscribe();
    let mut login_out = logins.outbound();
    let task = tokio::spawn(async move {
        loop {
            tokio::select! {
                change = outbound.recv() => {
                    let wire = match change {
                        Ok(FleetChange::Moved { vehicle, lat, lon, time, received_at }) => Wire {
                            node: node.clone(),
                            vehicle: vehicle.0,
                            at: Some((lat, lon, time.millis())),
                            received_at: received_at.millis(),
                        },
                        Ok(FleetChange::Gone { vehicle }) => Wire {
                            node: node.clone(),
                            vehicle: vehicle.0,
                            at: None,
                            received_at: 0,
                        },
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                            tracing::warn!(missed = n, "fleet fan-out fell behind; the other nodes catch up with the next positions");
                            continue;
                        }
                        Err(_) => return,
                    };
                    if let Ok(body) = serde_json::to_vec(&wire)
                        && let Err(e) = client.publish(fleet_subject.clone(), body.into()).await
                        && let Some(more) = crate::throttle::allow("nats: publish failed")
                    {
                        tracing::warn!(error = %e, failed_since_last = more, "NATS publish failed");
                    }
                }
                Some(msg) = fleet_in.next() => {
                    let Ok(wire) = serde_json::from_slice::<Wire>(&msg.payload) else {
                        continue;
                    };
                    if wire.node != node {
                        apply(&shared, &metrics, wire);
                    }
                }
                Ok((name, source, ok)) = login_out.recv() => {
                    let login = LoginWire { node: node.clone(), name, source, ok };
                    if let Ok(body) = serde_json::to_vec(&login) {
                        let _ = client.publish(login_subject.clone(), body.into()).await;
                    }
                }
                Some(msg) = login_in.next() => {
                    if let Ok(wire) = serde_json::from_slice::<LoginWire>(&msg.payload)
                        && wire.node != node
                    {
                        logins.remote(&wire);
                    }
                }
            }
        }
    });
    Ok(task)
}

/// Applies another node's fleet change to this node's view and its live feeds.
fn apply(shared: &Shared, metrics: &crate::metrics::Metrics, wire: Wire) {
    let vehicle = VehicleId(wire.vehicle);
    let change = match wire.at {
        Some((lat, lon, ms)) => {
            let Some(position) = Position::new(lat, lon) else {
                return;
            };
            let time = Timestamp::from_millis(ms);
            let changed = shared
                .fleet
                .write()
                .map(|mut f| {
                    f.update(
                        vehicle,
                        purposes::LivePosition { time, position },
                        crate::ingest::now(),
                    )
                })
                .unwrap_or(false);
            if !changed {
                return;
            }
            let clock = crate::ingest::now();
            metrics
                .fleet_fanout_seconds
                .observe((clock.millis() - wire.received_at).max(0) as f64 / 1000.0);
            FleetChange::Moved {
                vehicle,
                lat,
                lon,
                time,
                received_at: Timestamp::from_millis(wire.received_at),
            }
        }
        None => {
            let gone = shared
                .fleet
                .write()
                .map(|mut f| f.forget(vehicle))
                .unwrap_or(false);
            if !gone {
                return;
            }
            FleetChange::Gone { vehicle }
        }
    };
    let _ = shared.fleet_changes.send(change);
}
