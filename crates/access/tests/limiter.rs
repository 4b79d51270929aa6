use access::{LimitKey, LoginLimiter, RetryAfter};

const MIN: i64 = 60_000;

fn user(name: &str) -> LimitKey {
    LimitKey::User(name.into())
}

#[test]
fn five_failures_are_free_then_delays_double() {
    let mut l = LoginLimiter::default();
    let k = user("kari");
    let mut now = 0;
    for _ in 0..5 {
        assert_eq!(l.check(&k, now), Ok(()));
        l.record_failure(&k, now);
        now += 10;
    }
    now -= 10; // the 5th failure was at `now`
    assert_eq!(l.check(&k, now), Err(RetryAfter { ms: 1_000 }));
    assert_eq!(l.check(&k, now + 400), Err(RetryAfter { ms: 600 }));
    assert_eq!(l.check(&k, now + 1_000), Ok(()));
    let mut owed = 1_000u64;
    for _ in 0..15 {
        // Wait exactly what is owed, then fail again: the next wait doubles, up to the cap.
        now += i64::try_from(owed).unwrap_or(0);
        assert_eq!(l.check(&k, now), Ok(()));
        l.record_failure(&k, now);
        let expected = (owed * 2).min(15 * 60 * 1000);
        assert_eq!(l.check(&k, now), Err(RetryAfter { ms: expected }));
        owed = expected;
    }
    // Capped at 15 minutes.
    assert_eq!(l.check(&k, now), Err(RetryAfter { ms: 900_000 }));
    assert_eq!(RetryAfter { ms: 1_001 }.secs(), 2);
}

#[test]
fn failures_are_forgotten_after_a_quiet_window() {
    let mut l = LoginLimiter::default();
    let k = user("ola");
    for i in 0..5 {
        l.record_failure(&k, i);
    }
    assert!(l.check(&k, 10).is_err());
    // More than 15 minutes after the last failure the slate is clean.
    let later = 4 + 15 * MIN + 1;
    assert_eq!(l.check(&k, later), Ok(()));
    l.record_failure(&k, later);
    assert_eq!(l.check(&k, later), Ok(()), "one fresh failure is free");
}

#[test]
fn failures_spread_within_the_window_still_count() {
    let mut l = LoginLimiter::default();
    let k = user("per");
    for i in 0..5 {
        l.record_failure(&k, i * 10 * MIN);
    }
    assert!(l.check(&k, 40 * MIN).is_err());
}

#[test]
fn success_clears_the_user_but_not_the_address() {
    let mut l = LoginLimiter::default();
    for i in 0..5 {
        l.record_login_failure("kari", "10.0.0.1", i);
    }
    assert!(l.check_login("kari", "10.0.0.2", 5).is_err(), "by user");
    assert!(l.check_login("ola", "10.0.0.1", 5).is_err(), "by address");
    assert_eq!(l.check_login("ola", "10.0.0.2", 5), Ok(()));
    l.record_login_success("kari");
    assert_eq!(l.check(&user("kari"), 5), Ok(()));
    assert!(l.check(&LimitKey::Ip("10.0.0.1".into()), 5).is_err());
    l.record_success(&LimitKey::Ip("10.0.0.1".into()));
    assert_eq!(l.check_login("kari", "10.0.0.1", 5), Ok(()));
}

#[test]
fn check_login_reports_the_longer_wait() {
    let mut l = LoginLimiter::default();
    for i in 0..6 {
        l.record_failure(&user("kari"), i);
    }
    for i in 0..5 {
        l.record_failure(&LimitKey::Ip("1.2.3.4".into()), i);
    }
    assert_eq!(
        l.check_login("kari", "1.2.3.4", 5),
        Err(RetryAfter { ms: 2_000 })
    );
}

#[test]
fn memory_is_bounded_and_the_oldest_goes() {
    let mut l = LoginLimiter::new(3);
    for (i, name) in ["a", "b", "c", "d"].into_iter().enumerate() {
        let t = i64::try_from(i).unwrap_or(0);
        for j in 0..5 {
            l.record_failure(&user(name), t * 100 + j);
        }
    }
    assert_eq!(l.len(), 3);
    assert_eq!(l.check(&user("a"), 310), Ok(()), "evicted");
    assert!(l.check(&user("d"), 310).is_err());
    assert!(l.check(&user("b"), 310).is_err());
}

#[test]
fn attempts_are_counted_before_the_check_so_concurrency_cannot_beat_the_limit() {
    let mut l = LoginLimiter::default();
    // A hundred attempts at the same millisecond: each is counted as it begins.
    let admitted = (0..100)
        .filter(|_| l.begin_login("kari", "1.2.3.4", 1_000).is_ok())
        .count();
    assert_eq!(admitted as u32, LoginLimiter::FREE_FAILURES);
    // The right password right after them must wait too.
    assert!(l.begin_login("kari", "1.2.3.4", 1_001).is_err());
}

#[test]
fn a_right_password_takes_back_its_provisional_count() {
    let mut l = LoginLimiter::default();
    for i in 0..20 {
        assert_eq!(l.begin_login("kari", "10.0.0.1", i), Ok(()), "login {i}");
        l.finish_login("kari", "10.0.0.1", true);
    }
    assert!(l.is_empty(), "successes leave nothing counted");
}
