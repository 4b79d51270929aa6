//! Password logins, one door for the web and the API: one `access::LoginLimiter` per user name
//! and per source address that counts an attempt *before* its password is checked, a bound on
//! concurrent Argon2 checks (each costs 19 MiB and tens of milliseconds), the same Argon2 work
//! for an unknown user as for a known one, and refused attempts on the audit ledger,
//! aggregated per source and minute so that a flood writes a bounded number of entries.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use domain::Timestamp;
use storage::{AuditRecord, Store, StoreError};
use tokio::sync::Semaphore;

use crate::ingest::now;

/// What became of a login attempt.
#[derive(Debug)]
pub enum Attempt {
    /// The password is right.
    Accepted,
    /// The user name or the password is wrong (which, is not said).
    Refused,
    /// Too many failures for this user name or address: not checked at all.
    Limited(access::RetryAfter),
    /// Every password check is busy and none freed up in time: try again shortly.
    Busy,
}

/// Refused requests the ledger is told about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Refusal {
    /// A wrong user name or password, or an attempt the limiter held back.
    FailedLogin,
    /// A web form without its CSRF token.
    Csrf,
    /// An API or page request without a valid session or token.
    NotLoggedIn,
}

impl Refusal {
    fn what(self) -> &'static str {
        match self {
            Refusal::FailedLogin => "failed login attempts",
            Refusal::Csrf => "web forms refused for a missing or wrong CSRF token",
            Refusal::NotLoggedIn => "requests refused without a valid login (401)",
        }
    }
}

/// How long a check may wait for a free Argon2 slot before the attempt is answered "busy".
const CHECK_WAIT: Duration = Duration::from_secs(10);

/// Refusals are summed per source over this window (a minute by default), one ledger entry
/// each.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(60);

/// Shared by the web and the API (through `reads::Reads::logins`).
pub struct Logins {
    limiter: Mutex<access::LoginLimiter>,
    checks: Semaphore,
    /// A hash with the default cost, checked for a user that does not exist (or has no
    /// password), so that timing does not tell which user names exist.
    dummy: OnceLock<String>,
    /// (minute, source, kind) → count, written to the ledger when the minute is over.
    refusals: Mutex<HashMap<(i64, IpAddr, Refusal), u64>>,
    slots: usize,
    window_ms: std::sync::atomic::AtomicI64,
    /// Argon2 checks run, and the most that ran at once (for `/metrics`).
    pub checks_total: AtomicU64,
    running: AtomicU64,
    pub checks_peak: AtomicU64,
}

impl Default for Logins {
    fn default() -> Logins {
        // As many concurrent checks as cores: more would only queue inside the CPU while
        // holding their memory.
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Logins {
            limiter: Mutex::new(access::LoginLimiter::default()),
            checks: Semaphore::new(cores),
            dummy: OnceLock::new(),
            refusals: Mutex::new(HashMap::new()),
            slots: cores,
            window_ms: std::sync::atomic::AtomicI64::new(DEFAULT_WINDOW.as_millis() as i64),
            checks_total: AtomicU64::new(0),
            running: AtomicU64::new(0),
            checks_peak: AtomicU64::new(0),
        }
    }
}

impl Logins {
    /// Sets the window refusals are summed over (`Settings::refusal_window`).
    pub fn set_window(&self, window: Duration) {
        let ms = i64::try_from(window.as_millis()).unwrap_or(i64::MAX).max(1);
        self.window_ms.store(ms, Relaxed);
    }

    fn window(&self) -> i64 {
        self.window_ms.load(Relaxed).max(1)
    }

    /// The most Argon2 checks that run at once.
    pub fn max_concurrent_checks(&self) -> usize {
        self.slots
    }

    /// The login counters in the Prometheus text format.
    pub fn render(&self, out: &mut String) {
        use std::fmt::Write;
        let _ = writeln!(
            out,
            "# HELP sporvern_login_checks_total Password checks run (Argon2)\n# TYPE sporvern_login_checks_total counter\nsporvern_login_checks_total {}",
            self.checks_total.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP sporvern_login_checks_peak Most password checks that ran at once (bounded by the cores)\n# TYPE sporvern_login_checks_peak gauge\nsporvern_login_checks_peak {}",
            self.checks_peak.load(Relaxed)
        );
    }

    /// One login attempt for `name` from `ip`.
    pub async fn attempt(
        &self,
        store: &Arc<dyn Store>,
        name: &str,
        password: String,
        ip: IpAddr,
    ) -> Result<Attempt, StoreError> {
        let at = now();
        let source = ip.to_string();
        let begun = match self.limiter.lock() {
            Ok(mut l) => l.begin_login(name, &source, at.millis()),
            Err(_) => Ok(()),
        };
        if let Err(retry) = begun {
            return Ok(Attempt::Limited(retry));
        }
        let Ok(Ok(permit)) = tokio::time::timeout(CHECK_WAIT, self.checks.acquire()).await else {
            return Ok(Attempt::Busy);
        };
        let (store, n) = (store.clone(), name.to_owned());
        let dummy = self
            .dummy
            .get_or_init(|| access::hash_password(&hex::encode(random16())))
            .clone();
        let running = self.running.fetch_add(1, Relaxed) + 1;
        self.checks_peak.fetch_max(running, Relaxed);
        self.checks_total.fetch_add(1, Relaxed);
        let checked = tokio::task::spawn_blocking(move || -> Result<bool, StoreError> {
            let hash = store.password_hash(&n)?;
            // The same work whether or not the user exists.
            let ok = access::verify_password(&password, hash.as_deref().unwrap_or(&dummy));
            Ok(ok && hash.is_some())
        })
        .await;
        self.running.fetch_sub(1, Relaxed);
        drop(permit);
        let ok = match checked {
            Ok(r) => r?,
            Err(e) => return Err(StoreError::Backend(format!("password check failed: {e}"))),
        };
        if let Ok(mut l) = self.limiter.lock() {
            l.finish_login(name, &source, ok);
        }
        Ok(if ok {
            Attempt::Accepted
        } else {
            Attempt::Refused
        })
    }

    /// Counts a refused request for the ledger (`http::route` does, for every answer marked
    /// with a [`Refusal`] and every 401).
    pub fn note(&self, kind: Refusal, ip: IpAddr, at: Timestamp) {
        let minute = at.millis().div_euclid(self.window());
        if let Ok(mut m) = self.refusals.lock() {
            // Bounded: a flood from very many addresses is summed under one key per minute
            // and kind rather than growing without end.
            let key = if m.len() >= 10_000 && !m.contains_key(&(minute, ip, kind)) {
                (minute, IpAddr::from([0, 0, 0, 0]), kind)
            } else {
                (minute, ip, kind)
            };
            *m.entry(key).or_insert(0) += 1;
        }
    }

    /// The ledger entries for every minute that has ended by `at`, one per source and kind,
    /// with the count; they are taken out of the tally.
    pub fn take_finished(&self, at: Timestamp) -> Vec<AuditRecord> {
        let window = self.window();
        let current = at.millis().div_euclid(window);
        let Ok(mut m) = self.refusals.lock() else {
            return Vec::new();
        };
        let done: Vec<_> = m.keys().filter(|k| k.0 < current).copied().collect();
        let mut out: Vec<_> = done
            .into_iter()
            .filter_map(|k| m.remove(&k).map(|n| (k, n)))
            .collect();
        out.sort();
        out.into_iter()
            .map(|((minute, ip, kind), n)| {
                let from = Timestamp::from_millis(minute * window);
                AuditRecord {
                    at,
                    actor: format!("anonymous from {ip}"),
                    role: "none".to_owned(),
                    purpose: "login".to_owned(),
                    subject: None,
                    action: ledger::Action::Denied,
                    object: format!("{n} {} in the {} s from {from}", kind.what(), window / 1000),
                    outcome: "refused".to_owned(),
                }
            })
            .collect()
    }
}

fn random16() -> [u8; 16] {
    let mut b = [0u8; 16];
    let _ = getrandom::getrandom(&mut b);
    b
}

/// Writes the finished minutes' refusals to the ledger, every few seconds.
pub async fn flush_refusals(store: Arc<dyn Store>, logins: Arc<Logins>) {
    let every = Duration::from_millis(u64::try_from(logins.window()).unwrap_or(5000))
        .min(Duration::from_secs(5));
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let entries = logins.take_finished(now());
        if entries.is_empty() {
            continue;
        }
        let s = store.clone();
        let n = entries.len();
        let written = tokio::task::spawn_blocking(move || {
            for e in entries {
                s.audit_append(e)?;
            }
            Ok::<(), StoreError>(())
        })
        .await;
        match written {
            Ok(Ok(())) => tracing::info!(
                entries = n,
                "refused logins and requests put on the audit ledger"
            ),
            Ok(Err(e)) => {
                tracing::error!(error = %e, "AUDIT LEDGER WRITE FAILED: refused logins and requests could not be recorded")
            }
            Err(e) => tracing::error!(error = %e, "ledger write task failed"),
        }
    }
}
