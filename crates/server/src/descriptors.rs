//! File descriptors: every device connection holds one, and so do the web's connections, the
//! database and its WAL, and the logs. At start the soft limit is raised to the hard one, and
//! each listener's connection cap is sized from what that gives, with a reserve kept back —
//! so a flood of device connections (or of slow ones that never log in) is refused at accept
//! by the cap, before the process runs out and the web, the API and new logins stop answering.

/// The caps the listeners get.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caps {
    /// The soft descriptor limit in force after raising it.
    pub limit: u64,
    pub teltonika: usize,
    pub osmand: usize,
    /// The web port: users, the API, and OwnTracks phones.
    pub web: usize,
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit (logging when it cannot) and returns the
/// limit in force.
pub fn raise_limit() -> u64 {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let now = getrlimit(Resource::Nofile);
    // `None` is "unlimited"; size from a large finite figure then.
    let hard = now.maximum.unwrap_or(1 << 20);
    let soft = now.current.unwrap_or(hard);
    if soft < hard {
        match setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(hard),
                maximum: now.maximum,
            },
        ) {
            Ok(()) => {
                tracing::info!(
                    from = soft,
                    to = hard,
                    "raised the open-file limit to the hard limit"
                );
                return hard;
            }
            Err(e) => {
                tracing::warn!(soft, hard, error = %e, "cannot raise the open-file limit; sizing connection caps from the soft limit")
            }
        }
    }
    soft
}

/// Splits `limit − reserve` between the listeners: half to Teltonika, a quarter each to OsmAnd
/// and the web port; the web also gets half the reserve, so that users are answered however
/// many devices connect. No cap is above `max_connections`, and none is below 1.
pub fn caps(limit: u64, reserve: usize, max_connections: usize) -> Caps {
    let limit_us = usize::try_from(limit).unwrap_or(usize::MAX);
    let budget = limit_us.saturating_sub(reserve);
    let cap = |n: usize| n.clamp(1, max_connections.max(1));
    Caps {
        limit,
        teltonika: cap(budget / 2),
        osmand: cap(budget / 4),
        web: cap(budget / 4 + reserve / 2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_leave_the_reserve_free() {
        let c = caps(1024, 256, 20_000);
        assert_eq!((c.teltonika, c.osmand, c.web), (384, 192, 320));
        assert!(c.teltonika + c.osmand + c.web <= 1024 - 128);
        let big = caps(1 << 20, 256, 20_000);
        assert_eq!(
            (big.teltonika, big.osmand, big.web),
            (20_000, 20_000, 20_000)
        );
        let tiny = caps(100, 256, 20_000);
        assert_eq!((tiny.teltonika, tiny.osmand, tiny.web), (1, 1, 128));
    }
}
