//! Login rate limiting, sans-IO: the caller passes the time and keeps the limiter in memory.

use std::collections::HashMap;

/// What attempts are counted by: the login name tried, and the address they came from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LimitKey {
    User(String),
    Ip(String),
}

/// The attempt must wait this long before it is even checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("too many failed logins; retry after {ms} ms")]
pub struct RetryAfter {
    pub ms: u64,
}

impl RetryAfter {
    /// Whole seconds, rounded up, for a `Retry-After` header.
    pub fn secs(&self) -> u64 {
        self.ms.div_ceil(1000)
    }
}

#[derive(Clone, Copy, Debug)]
struct Failures {
    count: u32,
    last_ms: i64,
}

/// After [`LoginLimiter::FREE_FAILURES`] failures with no more than
/// [`LoginLimiter::WINDOW_MS`] between one and the next, each further attempt waits 1 s, 2 s,
/// 4 s … (capped at 15 minutes) after the last failure. A key is forgotten after a success or
/// after a quiet window. At most `capacity` keys are kept; a new key evicts the one whose last
/// failure is oldest.
#[derive(Clone, Debug)]
pub struct LoginLimiter {
    capacity: usize,
    entries: HashMap<LimitKey, Failures>,
}

impl LoginLimiter {
    pub const FREE_FAILURES: u32 = 5;
    pub const WINDOW_MS: i64 = 15 * 60 * 1000;
    pub const BASE_DELAY_MS: u64 = 1000;
    pub const MAX_DELAY_MS: u64 = 15 * 60 * 1000;
    /// The default number of keys kept.
    pub const DEFAULT_CAPACITY: usize = 10_000;

    pub fn new(capacity: usize) -> LoginLimiter {
        LoginLimiter {
            capacity: capacity.max(1),
            entries: HashMap::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The delay owed after `count` failures.
    fn delay_ms(count: u32) -> u64 {
        if count < Self::FREE_FAILURES {
            return 0;
        }
        let doublings = (count - Self::FREE_FAILURES).min(20);
        (Self::BASE_DELAY_MS << doublings).min(Self::MAX_DELAY_MS)
    }

    fn live(&self, key: &LimitKey, now_ms: i64) -> Option<Failures> {
        self.entries
            .get(key)
            .copied()
            .filter(|f| now_ms.saturating_sub(f.last_ms) <= Self::WINDOW_MS)
    }

    /// Whether an attempt for `key` may be checked now.
    pub fn check(&self, key: &LimitKey, now_ms: i64) -> Result<(), RetryAfter> {
        let Some(f) = self.live(key, now_ms) else {
            return Ok(());
        };
        let delay = Self::delay_ms(f.count);
        let elapsed = u64::try_from(now_ms.saturating_sub(f.last_ms)).unwrap_or(0);
        if elapsed < delay {
            Err(RetryAfter {
                ms: delay - elapsed,
            })
        } else {
            Ok(())
        }
    }

    /// Checks both the user name and the source address; the longer wait wins.
    pub fn check_login(&self, user: &str, ip: &str, now_ms: i64) -> Result<(), RetryAfter> {
        let a = self.check(&LimitKey::User(user.to_owned()), now_ms);
        let b = self.check(&LimitKey::Ip(ip.to_owned()), now_ms);
        match (a, b) {
            (Err(x), Err(y)) => Err(if x.ms >= y.ms { x } else { y }),
            (Err(x), Ok(())) | (Ok(()), Err(x)) => Err(x),
            (Ok(()), Ok(())) => Ok(()),
        }
    }

    /// Records a failed attempt for `key` at `now_ms`.
    pub fn record_failure(&mut self, key: &LimitKey, now_ms: i64) {
        let count = self.live(key, now_ms).map_or(0, |f| f.count);
        if !self.entries.contains_key(key) && self.entries.len() >= self.capacity {
            self.evict(now_ms);
        }
        self.entries.insert(
            key.clone(),
            Failures {
                count: count.saturating_add(1),
                last_ms: now_ms,
            },
        );
    }

    /// Records a failed login under both keys.
    pub fn record_login_failure(&mut self, user: &str, ip: &str, now_ms: i64) {
        self.record_failure(&LimitKey::User(user.to_owned()), now_ms);
        self.record_failure(&LimitKey::Ip(ip.to_owned()), now_ms);
    }

    /// Forgets `key`'s failures after a successful login.
    pub fn record_success(&mut self, key: &LimitKey) {
        self.entries.remove(key);
    }

    /// Forgets the user name's failures after a successful login. The address's failures are
    /// kept: one good account must not reset the counter of an address guessing at others.
    pub fn record_login_success(&mut self, user: &str) {
        self.record_success(&LimitKey::User(user.to_owned()));
    }

    /// Checks both keys and, if the attempt may go ahead, counts it as a failure at once —
    /// before the password is checked — so that attempts made at the same moment cannot all
    /// pass the check before any of them is counted. [`LoginLimiter::finish_login`] takes
    /// the count back when the password was right.
    pub fn begin_login(&mut self, user: &str, ip: &str, now_ms: i64) -> Result<(), RetryAfter> {
        self.check_login(user, ip, now_ms)?;
        self.record_login_failure(user, ip, now_ms);
        Ok(())
    }

    /// After [`LoginLimiter::begin_login`]: a right password forgets the user name's failures
    /// and takes back the address's provisional one; a wrong one leaves both counted.
    pub fn finish_login(&mut self, user: &str, ip: &str, success: bool) {
        if !success {
            return;
        }
        self.record_login_success(user);
        let key = LimitKey::Ip(ip.to_owned());
        if let Some(f) = self.entries.get_mut(&key) {
            f.count = f.count.saturating_sub(1);
            if f.count == 0 {
                self.entries.remove(&key);
            }
        }
    }

    /// Drops expired keys; if still full, the key whose last failure is oldest.
    fn evict(&mut self, now_ms: i64) {
        self.entries
            .retain(|_, f| now_ms.saturating_sub(f.last_ms) <= Self::WINDOW_MS);
        while self.entries.len() >= self.capacity {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, f)| f.last_ms)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => {
                    self.entries.remove(&k);
                }
                None => break,
            }
        }
    }
}

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter::new(Self::DEFAULT_CAPACITY)
    }
}
