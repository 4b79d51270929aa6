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

pub struct Metrics {
    per_protocol: [ProtocolCounters; 3],
    /// Which units are connected, and what was refused and why (for the admin's page).
    pub health: std::sync::Arc<crate::health::DeviceHealth>,
    pub commit_rows: Histogram,
    pub commit_seconds: Histogram,
    pub commit_failures: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics {
            per_protocol: Default::default(),
            health: Default::default(),
            commit_rows: Histogram::new(&[1.0, 10.0, 100.0, 1_000.0, 5_000.0, 20_000.0]),
            commit_seconds: Histogram::new(&[0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1.0]),
            commit_failures: AtomicU64::new(0),
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
                "Records not acknowledged (storage failure or unknown device)",
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
