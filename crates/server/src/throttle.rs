//! Rate-limited logging for errors that repeat: the first occurrence is logged in full, then
//! at most one line per interval and key, carrying how many were left out since. A flood (a
//! full disk, descriptors run out, a device sending garbage a thousand times a second) costs a
//! line a second instead of filling the disk the logs are on.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How often one kind of repeated message may be logged.
pub const EVERY: Duration = Duration::from_secs(1);

struct Slot {
    last: Instant,
    suppressed: u64,
}

fn slots() -> &'static Mutex<HashMap<&'static str, Slot>> {
    static SLOTS: OnceLock<Mutex<HashMap<&'static str, Slot>>> = OnceLock::new();
    SLOTS.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Whether a message of kind `key` may be logged now. `Some(n)`: log it, and say that `n`
/// more like it were left out since the last line; `None`: count it and stay quiet.
pub fn allow(key: &'static str) -> Option<u64> {
    let now = Instant::now();
    let Ok(mut slots) = slots().lock() else {
        return Some(0);
    };
    match slots.get_mut(key) {
        None => {
            slots.insert(
                key,
                Slot {
                    last: now,
                    suppressed: 0,
                },
            );
            Some(0)
        }
        Some(s) if now.duration_since(s.last) >= EVERY => {
            let n = s.suppressed;
            s.last = now;
            s.suppressed = 0;
            Some(n)
        }
        Some(s) => {
            s.suppressed += 1;
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_is_logged_then_one_per_interval_with_a_count() {
        assert_eq!(allow("test-key"), Some(0));
        assert_eq!(allow("test-key"), None);
        assert_eq!(allow("test-key"), None);
        std::thread::sleep(EVERY);
        assert_eq!(allow("test-key"), Some(2));
        assert_eq!(allow("other-key"), Some(0));
    }
}
