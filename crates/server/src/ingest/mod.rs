//! Ingest: device listeners hand decoded fixes to the [`Ingestor`], which stores them in
//! group commits and answers each submitter only once its fixes are durable. The listeners
//! then acknowledge to the device: ACK only after commit.

pub mod osmand;
pub mod owntracks;
pub mod owntracks_mqtt;
mod registry;
pub mod teltonika;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use domain::sane::Insane;
use domain::{AttrKey, DeviceId, FieldKind, Fix, Protocol, Timestamp};
use storage::{FieldSeen, IngestWriter, StagedFix};
use tokio::sync::{mpsc, oneshot};

pub use registry::Registry;

use crate::metrics::Metrics;

/// Why fixes were not acknowledged. The device keeps them and sends them again.
#[derive(Debug, Clone, thiserror::Error)]
pub enum IngestError {
    #[error("storage failed, nothing acknowledged: {0}")]
    Storage(String),
    #[error("the server is shutting down")]
    ShuttingDown,
}

type Reply = oneshot::Sender<Result<usize, IngestError>>;

struct Job {
    protocol: Protocol,
    device: DeviceId,
    fixes: Vec<Fix>,
    reply: Reply,
}

/// The handle listeners submit fixes through. Cheap to clone.
#[derive(Clone)]
pub struct Ingestor {
    tx: mpsc::Sender<Job>,
    metrics: Arc<Metrics>,
}

pub fn now() -> Timestamp {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    Timestamp::from_millis(ms)
}

/// The kind of data a protocol's key names: the codecs' dictionaries.
pub fn field_kind(protocol: Protocol, key: &AttrKey) -> FieldKind {
    match (protocol, key) {
        (Protocol::Teltonika, AttrKey::Io(id)) => codec::teltonika::field_kind(*id),
        (Protocol::Teltonika, AttrKey::Named(k)) if k == "priority" => FieldKind::Alarm,
        (Protocol::Osmand, AttrKey::Named(k)) => codec::osmand::field_kind(k),
        (Protocol::Owntracks, AttrKey::Named(k)) => codec::owntracks::field_kind(k),
        _ => FieldKind::Other,
    }
}

impl Ingestor {
    /// Starts the writer thread. It stops when every `Ingestor` clone is dropped, after
    /// committing what it holds.
    pub fn start(
        writer: Box<dyn IngestWriter>,
        batch_max_rows: usize,
        metrics: Arc<Metrics>,
    ) -> (Ingestor, std::thread::JoinHandle<()>) {
        // Bounded: when storage falls behind, listeners wait here, stop reading from their
        // sockets, and devices buffer — backpressure instead of unbounded memory.
        let (tx, rx) = mpsc::channel(16_384);
        let m = metrics.clone();
        let handle = std::thread::Builder::new()
            .name("ingest-writer".into())
            .spawn(move || writer_loop(writer, rx, batch_max_rows, &m))
            .unwrap_or_else(|e| panic!("cannot start the ingest writer thread: {e}"));
        (Ingestor { tx, metrics }, handle)
    }

    /// Stores `fixes` durably; returns how many are acknowledged (all of them, duplicates
    /// included) once they are.
    pub async fn submit(
        &self,
        protocol: Protocol,
        device: DeviceId,
        fixes: Vec<Fix>,
    ) -> Result<usize, IngestError> {
        let counters = self.metrics.protocol(protocol);
        let n = fixes.len() as u64;
        counters.records_received.fetch_add(n, Relaxed);
        if fixes.is_empty() {
            return Ok(0);
        }
        let (reply, rx) = oneshot::channel();
        let job = Job {
            protocol,
            device,
            fixes,
            reply,
        };
        let result = match self.tx.send(job).await {
            Ok(()) => rx.await.unwrap_or(Err(IngestError::ShuttingDown)),
            Err(_) => Err(IngestError::ShuttingDown),
        };
        match &result {
            Ok(_) => counters.records_acknowledged.fetch_add(n, Relaxed),
            Err(_) => counters.records_rejected.fetch_add(n, Relaxed),
        };
        result
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The edge check (`domain::sane`) by the server's clock, for every protocol: returns the
    /// fixes that may be stored, and the refused ones with their place in what the device sent.
    /// A refused record is never acknowledged as data: it is counted (received, rejected, and
    /// `sporvern_records_invalid_total` by reason) and logged with the device — rate-limited,
    /// so a device sending nothing but bad records costs a log line a second.
    pub fn screen(
        &self,
        protocol: Protocol,
        device: &str,
        peer: impl std::fmt::Display,
        candidates: impl IntoIterator<Item = Result<Fix, Insane>>,
    ) -> (Vec<Fix>, Vec<Refusal>) {
        let clock = now();
        let mut fixes = Vec::new();
        let mut refused = Vec::new();
        for (index, c) in candidates.into_iter().enumerate() {
            match c.and_then(|f| domain::sane::check_fix(protocol, &f, clock).map(|()| f)) {
                Ok(f) => fixes.push(f),
                Err(why) => refused.push(Refusal { index, why }),
            }
        }
        if !refused.is_empty() {
            let counters = self.metrics.protocol(protocol);
            let n = refused.len() as u64;
            counters.records_received.fetch_add(n, Relaxed);
            counters.records_rejected.fetch_add(n, Relaxed);
            for r in &refused {
                counters.invalid(r.why.code()).fetch_add(1, Relaxed);
            }
            if let Some(more) = crate::throttle::allow("ingest: record refused") {
                let first = &refused[0];
                tracing::warn!(%peer, %protocol, device, refused = refused.len(), of = refused.len() + fixes.len(), reason = first.why.code(), suppressed_since_last = more, "records refused, not stored: {}", first.why);
            }
        }
        (fixes, refused)
    }
}

/// Counts events per source address in fixed windows (unknown OsmAnd device ids): `limit`
/// per `window`, the oldest windows forgotten first when `capacity` addresses are held.
#[derive(Clone)]
pub struct SourceLimiter {
    inner: Arc<std::sync::Mutex<HashMap<std::net::IpAddr, (Instant, u32)>>>,
    limit: u32,
    window: std::time::Duration,
}

impl SourceLimiter {
    const CAPACITY: usize = 10_000;

    pub fn new(limit: u32, window: std::time::Duration) -> SourceLimiter {
        SourceLimiter {
            inner: Arc::default(),
            limit,
            window,
        }
    }

    /// Whether `ip` has used up its allowance in the current window.
    pub fn over(&self, ip: std::net::IpAddr) -> bool {
        let Ok(m) = self.inner.lock() else {
            return false;
        };
        m.get(&ip)
            .is_some_and(|(start, n)| start.elapsed() < self.window && *n >= self.limit)
    }

    pub fn record(&self, ip: std::net::IpAddr) {
        let Ok(mut m) = self.inner.lock() else {
            return;
        };
        if m.len() >= Self::CAPACITY && !m.contains_key(&ip) {
            let window = self.window;
            m.retain(|_, (start, _)| start.elapsed() < window);
            if m.len() >= Self::CAPACITY
                && let Some(oldest) = m.iter().min_by_key(|(_, (s, _))| *s).map(|(k, _)| *k)
            {
                m.remove(&oldest);
            }
        }
        let e = m.entry(ip).or_insert((Instant::now(), 0));
        if e.0.elapsed() >= self.window {
            *e = (Instant::now(), 0);
        }
        e.1 = e.1.saturating_add(1);
    }
}

/// A record refused at the edge: its index in what the device sent, and why.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub index: usize,
    pub why: Insane,
}

/// How often the inventory's `last_seen` is refreshed per (device, key): often enough to
/// answer "does it still send this?", rarely enough to cost nothing.
const INVENTORY_REFRESH_MS: i64 = 60_000;

/// A batch this large means the writer is busy: gather a little longer before committing.
const GATHER_ABOVE_ROWS: usize = 500;
const GATHER_WAIT: std::time::Duration = std::time::Duration::from_millis(2);

fn writer_loop(
    mut writer: Box<dyn IngestWriter>,
    mut rx: mpsc::Receiver<Job>,
    max_rows: usize,
    metrics: &Metrics,
) {
    let mut seen: Seen = HashMap::new();
    let mut noted: Vec<(FieldKey, FieldSeen)> = Vec::new();
    let mut staged: Vec<StagedFix> = Vec::new();
    let mut fields: Vec<FieldSeen> = Vec::new();
    let mut replies: Vec<(Protocol, Reply, usize)> = Vec::new();
    let mut last_batch_rows = 0;
    while let Some(first) = rx.blocking_recv() {
        let received_at = now();
        let mut jobs = vec![first];
        let mut rows = jobs[0].fixes.len();
        // Group commit: take whatever else is already waiting, up to the batch cap. While a
        // commit's fsync runs, the next batch gathers by itself. Under heavy load (the last
        // batch was large) wait a moment for more: every commit rewrites the index pages near
        // "now" whatever its size, so fewer, larger commits carry more records per page
        // written. Under light load there is no wait, and latency stays at one fsync.
        let mut waited = false;
        while rows < max_rows {
            match rx.try_recv() {
                Ok(j) => {
                    rows += j.fixes.len();
                    jobs.push(j);
                }
                Err(_) if !waited && last_batch_rows >= GATHER_ABOVE_ROWS => {
                    waited = true;
                    std::thread::sleep(GATHER_WAIT);
                }
                Err(_) => break,
            }
        }
        last_batch_rows = rows;
        staged.clear();
        fields.clear();
        noted.clear();
        replies.clear();
        for job in jobs {
            note_fields(
                &mut noted,
                &seen,
                job.protocol,
                job.device,
                &job.fixes,
                received_at,
            );
            replies.push((job.protocol, job.reply, job.fixes.len()));
            staged.extend(job.fixes.into_iter().map(|fix| StagedFix {
                device: job.device,
                received_at,
                fix,
            }));
        }
        fields.extend(noted.iter().map(|(_, f)| f.clone()));
        let started = Instant::now();
        let result = writer.commit(&staged, &fields);
        metrics
            .commit_seconds
            .observe(started.elapsed().as_secs_f64());
        metrics.commit_rows.observe(staged.len() as f64);
        match result {
            Ok(outcome) => {
                for (key, f) in noted.drain(..) {
                    seen.insert((f.device, key), f.at.millis());
                }
                if outcome.duplicates > 0 {
                    // Attribute duplicates to the batch's first protocol; exact per-protocol
                    // split is not worth a second pass.
                    if let Some((p, _, _)) = replies.first() {
                        metrics
                            .protocol(*p)
                            .records_duplicated
                            .fetch_add(outcome.duplicates as u64, Relaxed);
                    }
                }
                for (_, reply, n) in replies.drain(..) {
                    let _ = reply.send(Ok(n));
                }
            }
            Err(e) => {
                metrics.commit_failures.fetch_add(1, Relaxed);
                if let Some(more) = crate::throttle::allow("ingest: group commit failed") {
                    tracing::error!(error = %e, rows = staged.len(), failed_since_last = more, "group commit failed; nothing in it is acknowledged");
                }
                for (_, reply, _) in replies.drain(..) {
                    let _ = reply.send(Err(IngestError::Storage(e.to_string())));
                }
            }
        }
    }
}

/// A field as the inventory cache knows it: cheap to hash and compare, allocated only for
/// protocols with named keys.
#[derive(Clone, PartialEq, Eq, Hash)]
enum FieldKey {
    Fixed(&'static str),
    Attr(AttrKey),
}

type Seen = HashMap<(DeviceId, FieldKey), i64>;

/// Adds to `out` the fields in `fixes` that the inventory has not seen lately.
fn note_fields(
    out: &mut Vec<(FieldKey, FieldSeen)>,
    seen: &Seen,
    protocol: Protocol,
    device: DeviceId,
    fixes: &[Fix],
    at: Timestamp,
) {
    let mut push = |key: FieldKey, kind: FieldKind| {
        let stale = seen
            .get(&(device, key.clone()))
            .is_none_or(|last| at.millis() - last >= INVENTORY_REFRESH_MS);
        if stale && !out.iter().any(|(k, f)| f.device == device && *k == key) {
            let name = match &key {
                FieldKey::Fixed(s) => (*s).to_owned(),
                FieldKey::Attr(a) => a.to_string(),
            };
            out.push((
                key,
                FieldSeen {
                    device,
                    key: name,
                    kind,
                    at,
                },
            ));
        }
    };
    // Every record carries its time; the rest is looked at once per batch and key.
    push(FieldKey::Fixed("time"), FieldKind::Time);
    if fixes.iter().any(|f| f.position.is_some()) {
        push(FieldKey::Fixed("position"), FieldKind::Position);
    }
    if fixes.iter().any(|f| f.speed_kmh.is_some()) {
        push(FieldKey::Fixed("speed"), FieldKind::Speed);
    }
    if fixes.iter().any(|f| f.altitude_m.is_some()) {
        push(FieldKey::Fixed("altitude"), FieldKind::Other);
    }
    if fixes.iter().any(|f| f.course_deg.is_some()) {
        push(FieldKey::Fixed("course"), FieldKind::Other);
    }
    // The distinct keys, by linear search: a frame's records mostly share one small key set.
    let mut keys: Vec<&AttrKey> = Vec::new();
    for key in fixes
        .iter()
        .flat_map(|f| f.attributes.iter().map(|a| &a.key))
    {
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    for key in keys {
        push(FieldKey::Attr(key.clone()), field_kind(protocol, key));
    }
}
