//! Prometheus metrics, kept in atomics and rendered as the text exposition format.
//! Labels never carry personal data: protocol names and reasons only, no device ids.

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

use domain::Protocol;

#[derive(Default)]
pub struct ProtocolCounters {
    pub connections_open: AtomicI64,
    pub connections_total: AtomicU64,
    pub connections_refused: AtomicU64,
    pub records_received: AtomicU64,
    pub records_acknowledged: AtomicU64,
    pub records_duplicated: AtomicU64,
    pub records_rejected: AtomicU64,
    pub frames_rejected: AtomicU64,
    /// Records refused at the edge, by `domain::sane::Insane::CODES`.
    pub records_invalid: [AtomicU64; 3],
}

impl ProtocolCounters {
    /// The counter of records refused for `code` (one of `Insane::CODES`).
    pub fn invalid(&self, code: &str) -> &AtomicU64 {
        let i = domain::sane::Insane::CODES
            .iter()
            .position(|c| *c == code)
            .unwrap_or(0);
        &self.records_invalid[i]
    }
}

/// A fixed-bucket histogram.
pub struct Histogram {
    bounds: &'static [f64],
    buckets: Vec<AtomicU64>,
    count: AtomicU64,
    /// Sum in micro-units, so it fits an atomic integer.
    sum_micro: AtomicU64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            buckets: bounds.iter().map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum_micro: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, v: f64) {
        for (b, bound) in self.buckets.iter().zip(self.bounds) {
            if v <= *bound {
                b.fetch_add(1, Relaxed);
            }
        }
        self.count.fetch_add(1, Relaxed);
        self.sum_micro.fetch_add((v * 1e6) as u64, Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (b, bound) in self.buckets.iter().zip(self.bounds) {
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {}", b.load(Relaxed));
        }
        let count = self.count.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(
            out,
            "{name}_sum {}",
            self.sum_micro.load(Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "{name}_count {count}");
    }
}

/// The purpose engine as operators and `/healthz` see it. Times are wall-clock milliseconds
/// since the epoch, 0 for "not yet".
#[derive(Default)]
pub struct EngineStatus {
    /// When the engine last finished a round (read staging, wrote what it made of it).
    pub last_round_ms: AtomicI64,
    /// Staged fixes not yet processed, as of that round.
    pub backlog_rows: AtomicU64,
    /// Arrival time of the oldest unprocessed staged fix (0 when none).
    pub oldest_unprocessed_ms: AtomicI64,
    /// Staged rows set aside because the engine could not process them.
    pub set_aside: AtomicU64,
    /// Rounds that failed (storage errors); the engine retries them.
    pub failed_rounds: AtomicU64,
    /// Set once the engine has started (rebuilt its open trips) and finished a round.
    pub ready: std::sync::atomic::AtomicBool,
}

impl EngineStatus {
    /// Why the engine is not healthy at `now_ms`, if it is not: stopped (no round for
    /// `stalled_after_ms`) or behind (the oldest unprocessed fix arrived more than
    /// `max_lag_ms` ago).
    /// `last_round_ms` starts at the server's start, so an engine that never gets going is
    /// "stopped" after `stalled_after_ms` too.
    pub fn unhealthy(&self, now_ms: i64, stalled_after_ms: i64, max_lag_ms: i64) -> Option<String> {
        let last = self.last_round_ms.load(Relaxed);
        if now_ms - last > stalled_after_ms {
            return Some(format!(
                "the purpose engine is stopped: no round for {} s",
                (now_ms - last) / 1000
            ));
        }
        let oldest = self.oldest_unprocessed_ms.load(Relaxed);
        if oldest > 0 && now_ms - oldest > max_lag_ms {
            return Some(format!(
                "the purpose engine is {} s behind ({} staged fixes unprocessed)",
                (now_ms - oldest) / 1000,
                self.backlog_rows.load(Relaxed)
            ));
        }
        None
    }
}

pub struct Metrics {
    per_protocol: [ProtocolCounters; 3],
    /// Which units are connected, and what was refused and why (for the admin's page).
    pub health: std::sync::Arc<crate::health::DeviceHealth>,
    pub commit_rows: Histogram,
    pub commit_seconds: Histogram,
    pub commit_failures: AtomicU64,
    pub engine: EngineStatus,
    /// From a fix's arrival (its group commit, i.e. its acknowledgement) to its appearance in
    /// the fleet view.
    pub fix_to_fleet_seconds: Histogram,
    /// From a fix's acknowledgement on another node to its appearance in this node's fleet
    /// view (over NATS).
    pub fleet_fanout_seconds: Histogram,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics {
            per_protocol: Default::default(),
            health: Default::default(),
            commit_rows: Histogram::new(&[1.0, 10.0, 100.0, 1_000.0, 5_000.0, 20_000.0]),
            commit_seconds: Histogram::new(&[0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1.0]),
            commit_failures: AtomicU64::new(0),
            engine: EngineStatus::default(),
            fix_to_fleet_seconds: Histogram::new(&[
                0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0,
            ]),
            fleet_fanout_seconds: Histogram::new(&[
                0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0,
            ]),
        }
    }
}

impl Metrics {
    /// Metrics that report device health into `health` (shared with the web's admin page).
    pub fn with_health(health: std::sync::Arc<crate::health::DeviceHealth>) -> Metrics {
        Metrics {
            health,
            ..Metrics::default()
        }
    }

    pub fn protocol(&self, p: Protocol) -> &ProtocolCounters {
        &self.per_protocol[p as usize]
    }

    /// The text exposition at wall-clock `now_ms` (the engine's lag is an age).
    pub fn render_at(&self, now_ms: i64) -> String {
        let mut out = self.render();
        let _ = writeln!(
            out,
            "# HELP sporvern_records_invalid_total Records refused at the edge as not believable (time outside the sane window, position off the globe)\n# TYPE sporvern_records_invalid_total counter"
        );
        for p in Protocol::ALL {
            for (i, code) in domain::sane::Insane::CODES.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "sporvern_records_invalid_total{{protocol=\"{p}\",reason=\"{code}\"}} {}",
                    self.protocol(p).records_invalid[i].load(Relaxed)
                );
            }
        }
        let e = &self.engine;
        let oldest = e.oldest_unprocessed_ms.load(Relaxed);
        let age = if oldest > 0 {
            ((now_ms - oldest).max(0)) as f64 / 1000.0
        } else {
            0.0
        };
        let last = e.last_round_ms.load(Relaxed);
        let since = if last > 0 {
            ((now_ms - last).max(0)) as f64 / 1000.0
        } else {
            -1.0
        };
        let _ = writeln!(
            out,
            "# HELP sporvern_purpose_backlog_rows Staged fixes the purpose engine has not processed yet\n# TYPE sporvern_purpose_backlog_rows gauge\nsporvern_purpose_backlog_rows {}",
            e.backlog_rows.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP sporvern_purpose_lag_seconds Age of the oldest staged fix the purpose engine has not processed\n# TYPE sporvern_purpose_lag_seconds gauge\nsporvern_purpose_lag_seconds {age}"
        );
        let _ = writeln!(
            out,
            "# HELP sporvern_purpose_last_round_seconds Time since the purpose engine last finished a round (-1: not started)\n# TYPE sporvern_purpose_last_round_seconds gauge\nsporvern_purpose_last_round_seconds {since}"
        );
        let _ = writeln!(
            out,
            "# HELP sporvern_purpose_set_aside_total Staged fixes the purpose engine set aside as unprocessable (see the log and staged_set_aside)\n# TYPE sporvern_purpose_set_aside_total counter\nsporvern_purpose_set_aside_total {}",
            e.set_aside.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP sporvern_purpose_failed_rounds_total Purpose engine rounds that failed and were retried\n# TYPE sporvern_purpose_failed_rounds_total counter\nsporvern_purpose_failed_rounds_total {}",
            e.failed_rounds.load(Relaxed)
        );
        self.fix_to_fleet_seconds.render(
            &mut out,
            "sporvern_fix_to_fleet_view_seconds",
            "From a fix's acknowledgement to its appearance in the fleet view",
        );
        self.fleet_fanout_seconds.render(
            &mut out,
            "sporvern_fleet_fanout_seconds",
            "From a fix's acknowledgement on another node to its appearance in this node's fleet view",
        );
        out
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        type Getter = fn(&ProtocolCounters) -> i64;
        let counters: [(&str, &str, Getter); 8] = [
            (
                "sporvern_connections_open",
                "Device connections open now",
                |c| c.connections_open.load(Relaxed),
            ),
            (
                "sporvern_connections_total",
                "Device connections accepted",
                |c| c.connections_total.load(Relaxed) as i64,
            ),
            (
                "sporvern_connections_refused_total",
                "Device connections refused (over the cap, or unknown device)",
                |c| c.connections_refused.load(Relaxed) as i64,
            ),
            (
                "sporvern_records_received_total",
                "Records decoded from devices",
                |c| c.records_received.load(Relaxed) as i64,
            ),
            (
                "sporvern_records_acknowledged_total",
                "Records acknowledged to devices after a durable commit",
                |c| c.records_acknowledged.load(Relaxed) as i64,
            ),
            (
                "sporvern_records_duplicated_total",
                "Acknowledged records that were already stored",
                |c| c.records_duplicated.load(Relaxed) as i64,
            ),
            (
                "sporvern_records_rejected_total",
                "Records not acknowledged as data (storage failure, unknown device, or refused at the edge)",
                |c| c.records_rejected.load(Relaxed) as i64,
            ),
            (
                "sporvern_frames_rejected_total",
                "Malformed frames or requests",
                |c| c.frames_rejected.load(Relaxed) as i64,
            ),
        ];
        for (name, help, get) in counters {
            let kind = if name.ends_with("_open") {
                "gauge"
            } else {
                "counter"
            };
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for p in Protocol::ALL {
                let _ = writeln!(out, "{name}{{protocol=\"{p}\"}} {}", get(self.protocol(p)));
            }
        }
        self.commit_rows.render(
            &mut out,
            "sporvern_commit_batch_rows",
            "Records per group commit",
        );
        self.commit_seconds.render(
            &mut out,
            "sporvern_commit_seconds",
            "Time to commit a batch durably",
        );
        let _ = writeln!(
            out,
            "# HELP sporvern_commit_failures_total Group commits that failed (nothing acknowledged)\n# TYPE sporvern_commit_failures_total counter\nsporvern_commit_failures_total {}",
            self.commit_failures.load(Relaxed)
        );
        out
    }
}
