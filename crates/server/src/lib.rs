//! The Sporvern server: binds every listener, starts the ingest pipeline and the background
//! jobs, and runs until stopped.
//!
//! Architecture Invariant: this crate is the edge. Sockets, the clock and the database handle
//! live here and are passed into the sans-IO core (`codec`, `org`, `domain`), never the other
//! way round.

pub mod address;
pub mod api;
pub mod audit_log;
pub mod changes;
pub mod cluster;
pub mod config;
pub mod database;
pub mod descriptors;
pub mod export;
pub mod fleet_api;
pub mod health;
pub mod http;
pub mod ingest;
pub mod login;
pub mod metrics;
pub mod notify;
pub mod org_admin;
pub mod purpose_worker;
pub mod reads;
pub mod throttle;
pub mod web;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use domain::Timestamp;
use tokio::net::{TcpListener, UdpSocket};

pub use config::Settings;
use ingest::{Ingestor, Registry, teltonika};
use metrics::Metrics;

/// A built server: listeners bound (so tests can ask for the ports), nothing served yet.
pub struct Application {
    settings: Settings,
    store: Arc<dyn storage::Store>,
    http: TcpListener,
    teltonika_tcp: TcpListener,
    teltonika_udp: UdpSocket,
    osmand: TcpListener,
    shared: Arc<purpose_worker::Shared>,
    reads: reads::Reads,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        settings.validate()?;
        let store: Arc<dyn storage::Store> = Arc::from(database::open(&settings)?);
        let bind = |what: &'static str, addr: SocketAddr| async move {
            TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen for {what} on {addr} (is another server running? choose another address)"))
        };
        let http = bind("HTTP", settings.http).await?;
        let teltonika_tcp = bind("Teltonika (TCP)", settings.teltonika).await?;
        // UDP on the same port as TCP, as devices expect (an ephemeral TCP port is reused).
        let udp_addr = teltonika_tcp.local_addr()?;
        let teltonika_udp = UdpSocket::bind(udp_addr)
            .await
            .with_context(|| format!("cannot listen for Teltonika (UDP) on {udp_addr}"))?;
        let osmand = bind("OsmAnd", settings.osmand).await?;
        let shared = purpose_worker::Shared::new(settings.fleet_stale_after);
        let audit = audit_log::AuditLog::start(store.as_ref())
            .context("starting the audit ledger's writer thread")?;
        let reads = reads::Reads::new(store.clone(), audit, Some(shared.clone()));
        Ok(Application {
            settings,
            store,
            reads,
            http,
            teltonika_tcp,
            teltonika_udp,
            osmand,
            shared,
        })
    }

    pub fn http_addr(&self) -> SocketAddr {
        self.http.local_addr().unwrap_or(self.settings.http)
    }

    pub fn teltonika_addr(&self) -> SocketAddr {
        self.teltonika_tcp
            .local_addr()
            .unwrap_or(self.settings.teltonika)
    }

    pub fn osmand_addr(&self) -> SocketAddr {
        self.osmand.local_addr().unwrap_or(self.settings.osmand)
    }

    /// The purpose engine's shared state: the in-memory fleet view and its change feed.
    pub fn shared(&self) -> Arc<purpose_worker::Shared> {
        self.shared.clone()
    }

    /// The capability-gated read service every user-facing read goes through.
    pub fn reads(&self) -> reads::Reads {
        self.reads.clone()
    }

    /// Serves until the process is stopped (or a listener task dies).
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let Application {
            settings,
            store,
            http,
            teltonika_tcp,
            teltonika_udp,
            osmand,
            shared,
            reads,
        } = self;
        let metrics = Arc::new(Metrics::with_health(shared.health.clone()));
        let registry = Registry::default();
        registry
            .refresh(store.as_ref())
            .context("loading the organisation's devices")?;
        if registry.is_empty() {
            tracing::warn!(
                "no devices are registered: every device will be refused. Apply an organisation file: sporvern org apply --data DIR FILE"
            );
        }
        let (ingestor, _writer) = Ingestor::start(
            store.ingest_writer()?,
            settings.batch_max_rows,
            metrics.clone(),
        );

        // This node among several (or the one node of the embedded database).
        let shared_db = shared_database(&settings);
        shared.cluster.set_node(if shared_db {
            settings
                .node_name
                .clone()
                .unwrap_or_else(cluster::default_node_name)
        } else {
            cluster::EMBEDDED_NODE.to_owned()
        });
        if shared_db && settings.nats_url.is_none() {
            let me = shared.cluster.node().to_owned();
            // Say this node is alive before looking for others, so that of two nodes starting
            // at once the later one sees the earlier.
            let mut feed = store.purpose_feed()?;
            feed.lease_round(&me, purpose_worker::LEASE_TTL_MS)?;
            let others = || -> anyhow::Result<Vec<String>> {
                Ok(store
                    .leases()?
                    .into_iter()
                    .filter(|l| {
                        l.name.starts_with("node/") && l.holder != me && l.expires_in_ms > 0
                    })
                    .map(|l| l.holder)
                    .collect())
            };
            // A node that was killed a moment ago (this one, before a restart) stays alive on
            // the database until its heartbeat runs out: wait for that before refusing.
            let patience = std::time::Instant::now()
                + Duration::from_millis(
                    u64::try_from(purpose_worker::LEASE_TTL_MS).unwrap_or(6_000) + 1_500,
                );
            let mut alive = others()?;
            while !alive.is_empty() && std::time::Instant::now() < patience {
                tokio::time::sleep(Duration::from_millis(250)).await;
                alive = others()?;
            }
            if !alive.is_empty() {
                // Leave nothing behind that would make the running node share with this one.
                feed.lease_release(&me)?;
                let others = alive;
                anyhow::bail!(
                    "another Sporvern node ({}) is running on this database; several nodes need NATS so that the live fleet view reaches every node: give every node --nats-url nats://HOST:4222 (or nats_url in sporvern.toml)",
                    others.join(", ")
                );
            }
        }
        tracing::info!(
            http = %http.local_addr()?,
            teltonika = %teltonika_tcp.local_addr()?,
            osmand = %osmand.local_addr()?,
            data = %settings.data_dir.display(),
            database = %database::Database::of(&settings),
            devices = registry.len(),
            "sporvern is listening"
        );

        let limit = descriptors::raise_limit();
        let caps = descriptors::caps(limit, settings.descriptor_reserve, settings.max_connections);
        tracing::info!(
            open_file_limit = caps.limit,
            reserve = settings.descriptor_reserve,
            teltonika = caps.teltonika,
            osmand = caps.osmand,
            web = caps.web,
            "connection caps sized from the open-file limit"
        );
        let tk_ctx = teltonika::Context {
            ingestor: ingestor.clone(),
            registry: registry.clone(),
            limits: teltonika::Limits {
                max_connections: caps.teltonika,
                first_byte_timeout: settings.first_byte_timeout,
                idle_timeout: settings.idle_timeout,
                max_frame_bytes: settings.max_frame_bytes,
            },
        };
        let http_limits = http::HttpLimits {
            max_connections: caps.web,
            header_timeout: settings.first_byte_timeout,
            request_timeout: settings.request_timeout,
        };
        let osmand_limits = http::HttpLimits {
            max_connections: caps.osmand,
            ..http_limits
        };

        let logins = reads.logins().clone();
        logins.set_window(settings.refusal_window);
        let fan_out = match &settings.nats_url {
            Some(url) => {
                let cluster_secret = store.shared_secret("cluster")?;
                Some(
                    cluster::fan_out(
                        url.clone(),
                        shared.clone(),
                        cluster_secret,
                        logins.clone(),
                        metrics.clone(),
                    )
                    .await
                    .context("starting the fleet view's fan-out between nodes")?,
                )
            }
            None => None,
        };
        // The CSRF key is the database's, so a form one node served posts to any node.
        let csrf_key = store
            .shared_secret("csrf")
            .context("reading the web's CSRF key")?;
        let router = http::router(
            metrics.clone(),
            settings.purpose_max_lag,
            logins.clone(),
            store.clone(),
            database::Database::of(&settings).kind(),
            shared.clone(),
        )
        .merge(api::router(reads.clone(), shared.clone()))
        .merge(web::router(
            reads.clone(),
            shared.clone(),
            web::MapTiles::from_settings(&settings),
            settings.secure_cookies,
            csrf_key,
        ));
        let (ing, reg, lg, keys) = (
            ingestor.clone(),
            registry.clone(),
            logins.clone(),
            settings.owntracks_keys.clone(),
        );
        let web = http::serve(
            http,
            http_limits,
            None,
            metrics.clone(),
            move |req, peer| {
                let (router, ing, reg, lg, keys) = (
                    router.clone(),
                    ing.clone(),
                    reg.clone(),
                    lg.clone(),
                    keys.clone(),
                );
                async move {
                    if req.uri().path() == "/owntracks" {
                        ingest::owntracks::handle(req, peer, ing, reg, keys).await
                    } else {
                        http::route(router, req, peer, &lg).await
                    }
                }
            },
        );
        let (ing, reg) = (ingestor.clone(), registry.clone());
        let guesses = ingest::SourceLimiter::new(
            ingest::osmand::UNKNOWN_IDS_PER_SOURCE,
            ingest::osmand::UNKNOWN_ID_WINDOW,
        );
        let osmand = http::serve(
            osmand,
            osmand_limits,
            Some(domain::Protocol::Osmand),
            metrics.clone(),
            move |req, peer| {
                ingest::osmand::handle(req, peer, ing.clone(), reg.clone(), guesses.clone())
            },
        );

        // The engine counts as running from now: `/healthz` gives it `purpose_max_lag` to start.
        metrics
            .engine
            .last_round_ms
            .store(ingest::now().millis(), std::sync::atomic::Ordering::Relaxed);
        let (s, sh, m) = (store.clone(), shared.clone(), metrics.clone());
        let lookup = settings
            .address_lookup_url
            .as_deref()
            .map(address::AddressLookup::new);
        let gate_cfg = gate_config(&settings);
        if let Ok(mut c) = shared.gate_config.write() {
            *c = gate_cfg;
        }
        // Subscribed before the purpose engine starts, so no opened window is missed.
        notify::start(settings.notify.clone(), shared.clone(), store.clone())
            .context("starting the notifications")?;
        std::thread::Builder::new()
            .name("purposes".into())
            .spawn(move || purpose_worker::run(s, sh, lookup, gate_cfg, m))
            .context("starting the purpose engine")?;

        let mut tasks = tokio::task::JoinSet::new();
        tasks.spawn(web);
        tasks.spawn(osmand);
        tasks.spawn(teltonika::serve_tcp(teltonika_tcp, tk_ctx.clone()));
        tasks.spawn(teltonika::serve_udp(teltonika_udp, tk_ctx));
        if let Some(task) = fan_out {
            tasks.spawn(async move {
                let _ = task.await;
            });
        }
        if let Some(mqtt) = &settings.mqtt {
            tasks.spawn(ingest::owntracks_mqtt::run(
                mqtt.clone(),
                ingestor.clone(),
                registry.clone(),
                settings.owntracks_keys.clone(),
            ));
        }
        tasks.spawn(reload_registry(store.clone(), registry));
        tasks.spawn(login::flush_refusals(store.clone(), logins));
        tasks.spawn(retention(store.clone(), shared.clone()));
        warn_about_checkpoint_dir(&settings);
        tasks.spawn(ledger_checkpoints(
            store.clone(),
            shared.clone(),
            reads.clone(),
            settings.ledger_checkpoint_dir.clone(),
            settings.ledger_checkpoint_every,
        ));
        tasks.spawn(purge_staging(
            store.clone(),
            shared.clone(),
            settings.staging_lifetime,
            settings.staging_keep_after_use,
        ));
        drop(ingestor);
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .context("listening for SIGTERM")?;
        let stopped = tokio::select! {
            ended = tasks.join_next() => match ended {
                Some(Err(e)) => Err(anyhow::anyhow!("a server task failed: {e}")),
                _ => Err(anyhow::anyhow!("a server task stopped unexpectedly")),
            },
            _ = terminate.recv() => Ok("SIGTERM"),
            _ = tokio::signal::ctrl_c() => Ok("Ctrl-C"),
        };
        // A clean stop gives up this node's leases at once, so another node takes its
        // partitions and the scheduled work now rather than when the leases run out. A batch
        // the engine is still writing is refused by its fence; nothing unacknowledged was
        // promised to a device.
        if let Ok(why) = &stopped {
            let (s, node) = (store.clone(), shared.cluster.node().to_owned());
            let released =
                tokio::task::spawn_blocking(move || s.purpose_feed()?.lease_release(&node)).await;
            match released {
                Ok(Ok(())) => {
                    tracing::info!(signal = why, "stopping; this node's leases are given up")
                }
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "stopping; the leases could not be given up and run out by themselves")
                }
                Err(e) => tracing::warn!(error = %e, "stopping; the lease release task failed"),
            }
        }
        stopped.map(|_| ())
    }
}

/// Whether the store is one several nodes may share (PostgreSQL): the node is then named by
/// `node_name` or its host and process, else it is the embedded database's one node.
fn shared_database(settings: &Settings) -> bool {
    matches!(
        database::Database::of(settings),
        database::Database::Postgres(_)
    )
}

/// A piece of scheduled work: due at once on the node that holds the `schedule` lease (at
/// start, or when it took the lease over), then every `period` while it holds it. Exactly
/// one node runs it.
struct Scheduled {
    period: Duration,
    last: Option<tokio::time::Instant>,
    held: bool,
}

impl Scheduled {
    fn new(period: Duration) -> Scheduled {
        Scheduled {
            period,
            last: None,
            held: false,
        }
    }

    /// Waits until this node holds the schedule and the work is due.
    async fn wait(&mut self, shared: &purpose_worker::Shared) {
        loop {
            let holds = shared.cluster.runs_schedule();
            if holds && !self.held {
                self.last = None; // just taken over: run now
            }
            self.held = holds;
            let due = self.last.is_none_or(|t| t.elapsed() >= self.period);
            if holds && due {
                self.last = Some(tokio::time::Instant::now());
                return;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

/// Picks up organisation changes made by `sporvern org apply` while the server runs.
async fn reload_registry(store: Arc<dyn storage::Store>, registry: Registry) {
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    loop {
        tick.tick().await;
        let (s, r) = (store.clone(), registry.clone());
        match tokio::task::spawn_blocking(move || r.refresh(s.as_ref())).await {
            Ok(Ok(true)) => tracing::info!(
                devices = registry.len(),
                "organisation changed; device registry reloaded"
            ),
            Ok(Ok(false)) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "cannot reload the device registry"),
            Err(e) => tracing::error!(error = %e, "registry reload task failed"),
        }
    }
}

/// Verifies the whole audit ledger on a schedule — against the last checkpoint written, so a
/// ledger cut short is found too — and writes its new head as a checkpoint file. A ledger that
/// fails is reported as an error on every round (seed 000: the log must let snooping be found;
/// a log that can be quietly rewritten cannot). The log says which it was: the ledger failed
/// verification, or a checkpoint could not be read or written.
/// The outcome of each round is what the ledger pages show as the verification status.
/// The head this server verified last is remembered, so a checkpoint folder emptied or
/// rolled back while it runs is noticed rather than taken as a fresh start.
async fn ledger_checkpoints(
    store: Arc<dyn storage::Store>,
    shared: Arc<purpose_worker::Shared>,
    reads: reads::Reads,
    dir: std::path::PathBuf,
    every: Duration,
) {
    let mut due = Scheduled::new(every);
    let mut last: Option<ledger::Head> = None;
    loop {
        due.wait(&shared).await;
        let (s, d, l) = (store.clone(), dir.clone(), last);
        let outcome = match tokio::task::spawn_blocking(move || {
            checkpoint_once_remembering(s.as_ref(), &d, l.as_ref())
        })
        .await
        {
            Ok(Ok((head, written))) => {
                if written {
                    tracing::info!(size = head.size, root = %hex::encode(head.root), "audit ledger verified; checkpoint written");
                }
                last = Some(head);
                Ok(head)
            }
            Ok(Err(e)) => {
                match &e {
                    CheckpointError::Tampered(_) | CheckpointError::CheckpointsLost { .. } => {
                        tracing::error!(error = %e, dir = %dir.display(), "AUDIT LEDGER VERIFICATION FAILED")
                    }
                    CheckpointError::Io(_) | CheckpointError::Store(_) => {
                        tracing::error!(error = %e, dir = %dir.display(), "AUDIT CHECKPOINT COULD NOT BE READ OR WRITTEN (the ledger itself was not found bad)")
                    }
                }
                Err(e.to_string())
            }
            Err(e) => {
                tracing::error!(error = %e, "ledger checkpoint task failed");
                continue;
            }
        };
        reads.record_ledger_check(reads::LedgerCheck {
            at: ingest::now(),
            outcome,
        });
    }
}

/// Why a checkpoint round failed: the ledger (or its checkpoints) show tampering, or the
/// checkpoint folder or the database could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("the audit ledger has been tampered with: {0}")]
    Tampered(String),
    #[error(
        "the checkpoint folder no longer holds the checkpoint of {size} entries this server wrote or verified (deleted or rolled back?); the ledger was checked against the head the server remembers"
    )]
    CheckpointsLost { size: u64 },
    #[error("{0}")]
    Io(String),
    #[error("reading the ledger: {0}")]
    Store(#[from] storage::StoreError),
}

/// The newest checkpoint file (`head-<size>.txt`) in `dir`, if any.
pub fn newest_checkpoint(
    dir: &std::path::Path,
) -> std::io::Result<Option<(u64, std::path::PathBuf)>> {
    let mut newest: Option<(u64, std::path::PathBuf)> = None;
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let path = entry?.path();
        let size = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("head-"))
            .and_then(|n| n.strip_suffix(".txt"))
            .and_then(|n| n.parse::<u64>().ok());
        if let Some(size) = size
            && newest.as_ref().is_none_or(|(s, _)| size > *s)
        {
            newest = Some((size, path));
        }
    }
    Ok(newest)
}

/// Reads a checkpoint file.
pub fn read_checkpoint(path: &std::path::Path) -> anyhow::Result<ledger::Head> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    text.parse()
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// One round: verify, compare with the newest checkpoint in `dir`, write a new one when the
/// ledger has grown. Returns the verified head, and whether a checkpoint was written.
pub fn checkpoint_once(
    store: &dyn storage::Store,
    dir: &std::path::Path,
) -> Result<(ledger::Head, bool), CheckpointError> {
    checkpoint_once_remembering(store, dir, None)
}

/// [`checkpoint_once`], given the head this process verified last: a folder whose newest
/// checkpoint is older than that (or gone) is reported, and the ledger is verified against
/// the remembered head instead.
pub fn checkpoint_once_remembering(
    store: &dyn storage::Store,
    dir: &std::path::Path,
    remembered: Option<&ledger::Head>,
) -> Result<(ledger::Head, bool), CheckpointError> {
    let io = |e: std::io::Error, what: String| CheckpointError::Io(format!("{what}: {e}"));
    let newest = newest_checkpoint(dir).map_err(|e| {
        io(
            e,
            format!("cannot read the checkpoint folder {}", dir.display()),
        )
    })?;
    let entries = store.audit_entries()?;
    let tampered = |e: ledger::VerifyError| CheckpointError::Tampered(e.to_string());
    let previous = match &newest {
        Some((_, path)) => {
            Some(read_checkpoint(path).map_err(|e| CheckpointError::Io(format!("{e:#}")))?)
        }
        None => None,
    };
    let lost =
        remembered.filter(|r| r.size > 0 && previous.as_ref().is_none_or(|p| p.size < r.size));
    if let Some(r) = lost {
        ledger::verify_against(&entries, r).map_err(tampered)?;
        return Err(CheckpointError::CheckpointsLost { size: r.size });
    }
    let head = match &previous {
        Some(p) => ledger::verify_against(&entries, p).map_err(tampered)?,
        None => ledger::verify(&entries).map_err(tampered)?,
    };
    if newest.as_ref().is_some_and(|(s, _)| *s == head.size) {
        return Ok((head, false));
    }
    std::fs::create_dir_all(dir).map_err(|e| {
        io(
            e,
            format!("cannot create the checkpoint folder {}", dir.display()),
        )
    })?;
    let path = dir.join(format!("head-{:012}.txt", head.size));
    std::fs::write(&path, head.to_string())
        .map_err(|e| io(e, format!("cannot write {}", path.display())))?;
    Ok((head, true))
}

/// Warns, loudly, when the ledger's checkpoints are kept where whoever can rewrite the
/// database can also delete them (README: "Keeping the ledger honest").
pub fn warn_about_checkpoint_dir(settings: &Settings) {
    let canon = |p: &std::path::Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let data = canon(&settings.data_dir);
    let dir = &settings.ledger_checkpoint_dir;
    let inside = canon(dir).starts_with(&data) || dir.starts_with(&settings.data_dir);
    if inside {
        tracing::warn!(
            checkpoint_dir = %dir.display(),
            data = %settings.data_dir.display(),
            "THE AUDIT LEDGER'S CHECKPOINTS ARE INSIDE THE DATA FOLDER: whoever can rewrite the database can delete them too, and a rewritten ledger would then pass. Set ledger_checkpoint_dir to another disk, a folder the server's user cannot delete from, or copy the checkpoints elsewhere (README, \"Keeping the ledger honest\")"
        );
    }
    match newest_checkpoint(dir) {
        Ok(None) => tracing::warn!(
            checkpoint_dir = %dir.display(),
            "no audit ledger checkpoint found: this round can check the chain but not that the ledger was not cut short or rewritten as a whole; if checkpoints were written here before, they have been removed"
        ),
        Ok(Some(_)) => {}
        Err(e) => {
            tracing::error!(error = %e, checkpoint_dir = %dir.display(), "AUDIT CHECKPOINT FOLDER CANNOT BE READ")
        }
    }
}

/// The compliance gate's configuration from the settings: the grace before an overdue
/// evaluation is warned about, and the third-party services configured (each needs a
/// processor agreement, GDPR art. 28). Web, API, command line and the purpose engine all use
/// this one.
pub fn gate_config(settings: &Settings) -> register::GateConfig {
    register::GateConfig {
        evaluation_grace_days: settings.evaluation_grace_days,
        services: register::Services {
            address_lookup: settings.address_lookup_url.is_some(),
            map_tiles: settings.map_tiles_url.is_some(),
        },
        ..register::GateConfig::default()
    }
}

/// The retention policy today: the defaults, plus the vehicle purposes whose measure the
/// register says has ended (their data is deleted at the next run).
pub fn retention_policy(
    store: &dyn storage::Store,
) -> Result<storage::RetentionPolicy, storage::StoreError> {
    let (_, reg) = store.register().load_register()?;
    let now = ingest::now();
    let today = trips::oslo_date(now);
    let ended = reg
        .gates(today, &register::GateConfig::default())
        .iter()
        .filter(|g| g.state.schedule_deletion)
        .filter_map(|g| match g.entry.measure.kind {
            register::MeasureKind::Vehicle(p) => Some(p),
            _ => None,
        })
        .collect();
    Ok(storage::RetentionPolicy {
        ended,
        ..storage::RetentionPolicy::default()
    })
}

/// Retention, enforced by the server itself: once at start and then every six hours.
async fn retention(store: Arc<dyn storage::Store>, shared: Arc<purpose_worker::Shared>) {
    let mut due = Scheduled::new(Duration::from_secs(6 * 3600));
    loop {
        due.wait(&shared).await;
        let s = store.clone();
        match tokio::task::spawn_blocking(move || {
            let policy = retention_policy(s.as_ref())?;
            s.retention_run(&policy, ingest::now())
        })
        .await
        {
            Ok(Ok(receipts)) => {
                for r in receipts {
                    tracing::info!(kind = %r.kind, count = r.count, rule = %r.rule, "retention deleted data past its time");
                    let entry = storage::AuditRecord {
                        at: r.at,
                        actor: "sporvern (retention schedule)".to_owned(),
                        role: "system".to_owned(),
                        purpose: "retention".to_owned(),
                        subject: None,
                        action: ledger::Action::Delete,
                        object: format!("{} {} deleted: {}", r.count, r.kind, r.rule),
                        outcome: "done".to_owned(),
                    };
                    let s = store.clone();
                    if let Err(e) = tokio::task::spawn_blocking(move || s.audit_append(entry)).await
                    {
                        tracing::error!(error = %e, "the retention receipt could not be put on the audit ledger");
                    }
                }
            }
            Ok(Err(e)) => tracing::error!(error = %e, "retention failed; it will try again"),
            Err(e) => tracing::error!(error = %e, "retention task failed"),
        }
    }
}

/// The staging area's hard bound: whatever happened downstream, raw fixes older than the
/// lifetime are deleted (SPEC.md: "at most a few days").
async fn purge_staging(
    store: Arc<dyn storage::Store>,
    shared: Arc<purpose_worker::Shared>,
    lifetime: Duration,
    keep_after_use: Duration,
) {
    let mut due = Scheduled::new(Duration::from_secs(600));
    loop {
        due.wait(&shared).await;
        let cutoff = Timestamp::from_millis(
            ingest::now().millis() - i64::try_from(lifetime.as_millis()).unwrap_or(i64::MAX),
        );
        let used_cutoff = Timestamp::from_millis(
            ingest::now().millis() - i64::try_from(keep_after_use.as_millis()).unwrap_or(i64::MAX),
        );
        let s = store.clone();
        // Consumed fixes go once the trip builder can no longer need them for late data;
        // everything goes at the lifetime, consumed or not.
        match tokio::task::spawn_blocking(move || {
            Ok::<u64, storage::StoreError>(
                s.purge_consumed(used_cutoff)? + s.purge_staging(cutoff)?,
            )
        })
        .await
        {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::info!(rows = n, "purged staged fixes past their lifetime"),
            Ok(Err(e)) => tracing::error!(error = %e, "staging purge failed"),
            Err(e) => tracing::error!(error = %e, "staging purge task failed"),
        }
    }
}
