//! Rate limits (SPEC §7): the token endpoints per client and per IP, the
//! login forms per account and per IP. Each limit is a keyed GCRA
//! (generic cell rate algorithm, the "virtual scheduling" form of a token
//! bucket): `burst` requests may come at once, then one every
//! `60 / per_minute` seconds. Only one timestamp is kept per key.
//!
//! Times are passed in ([`Instant`]), so the rules are tested without
//! sleeping.

use crate::config::{Limit, RateLimitConfig};
use std::collections::hash_map::{DefaultHasher, HashMap};
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Independent locks, so that unrelated keys rarely wait for each other.
const SHARDS: usize = 16;

/// A refusal: how long until the next request of this key would pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Whole seconds for the `Retry-After` header (at least 1).
    pub fn seconds(self) -> u64 {
        (self.0.as_secs() + u64::from(self.0.subsec_nanos() > 0)).max(1)
    }
}

/// One keyed limit.
pub struct Limiter {
    /// Time between two requests at the sustained rate.
    interval: Duration,
    /// How far ahead of now the schedule may run: `interval * (burst - 1)`.
    tolerance: Duration,
    origin: Instant,
    /// Per key: the theoretical arrival time of the next request, as an
    /// offset from `origin`.
    shards: Vec<Mutex<HashMap<String, Duration>>>,
    enabled: bool,
}

impl Limiter {
    pub fn new(limit: Limit, enabled: bool) -> Self {
        let per_minute = limit.per_minute.max(1);
        let interval = Duration::from_secs(60) / per_minute;
        Self {
            interval,
            tolerance: interval * limit.burst.max(1).saturating_sub(1),
            origin: Instant::now(),
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            enabled,
        }
    }

    fn shard(&self, key: &str) -> std::sync::MutexGuard<'_, HashMap<String, Duration>> {
        let mut hasher = DefaultHasher::new();
        key.hash(&mut hasher);
        let shard = &self.shards[(hasher.finish() as usize) % SHARDS];
        shard.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn offset(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.origin)
    }

    /// Counts one request of `key` at `now`, or says how long to wait.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), RetryAfter> {
        if !self.enabled {
            return Ok(());
        }
        let t = self.offset(now);
        let mut shard = self.shard(key);
        let tat = shard.get(key).copied().unwrap_or(t).max(t);
        if tat - t > self.tolerance {
            return Err(RetryAfter(tat - t - self.tolerance));
        }
        shard.insert(key.to_owned(), tat + self.interval);
        Ok(())
    }

    /// Says whether a request of `key` would pass at `now`, counting nothing
    /// (the login forms count only failures against an account).
    pub fn peek(&self, key: &str, now: Instant) -> Result<(), RetryAfter> {
        if !self.enabled {
            return Ok(());
        }
        let t = self.offset(now);
        let tat = self.shard(key).get(key).copied().unwrap_or(t).max(t);
        if tat - t > self.tolerance {
            Err(RetryAfter(tat - t - self.tolerance))
        } else {
            Ok(())
        }
    }

    /// Forgets keys whose allowance is whole again (they behave as new).
    pub fn retain_recent(&self, now: Instant) -> usize {
        let t = self.offset(now);
        let mut left = 0;
        for shard in &self.shards {
            let mut map = shard.lock().unwrap_or_else(|e| e.into_inner());
            map.retain(|_, tat| *tat > t);
            left += map.len();
        }
        left
    }
}

/// Every limit of the server, built from `[rate_limits]`.
pub struct RateLimits {
    pub token_per_client: Limiter,
    pub token_per_ip: Limiter,
    pub login_per_account: Limiter,
    pub login_per_ip: Limiter,
}

impl RateLimits {
    pub fn new(config: &RateLimitConfig) -> Self {
        Self {
            token_per_client: Limiter::new(config.token_per_client, config.enabled),
            token_per_ip: Limiter::new(config.token_per_ip, config.enabled),
            login_per_account: Limiter::new(config.login_per_account, config.enabled),
            login_per_ip: Limiter::new(config.login_per_ip, config.enabled),
        }
    }

    /// Drops the state of keys that are back to a full allowance.
    pub fn retain_recent(&self, now: Instant) {
        for limiter in [&self.token_per_client, &self.token_per_ip, &self.login_per_account, &self.login_per_ip] {
            limiter.retain_recent(now);
        }
    }
}

/// The key of an IP address: IPv6 addresses by their /64, since one host
/// usually owns a whole /64.
pub fn ip_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(burst: u32, per_minute: u32) -> Limiter {
        Limiter::new(Limit { burst, per_minute }, true)
    }

    #[test]
    fn a_burst_passes_then_one_request_per_interval() {
        let l = limiter(3, 60);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(l.check("a", t0), Ok(()));
        }
        let refused = l.check("a", t0).unwrap_err();
        assert_eq!(refused, RetryAfter(Duration::from_secs(1)));
        assert_eq!(refused.seconds(), 1);
        // Other keys are not affected.
        assert_eq!(l.check("b", t0), Ok(()));
        // A refused request does not push the schedule further.
        assert_eq!(l.check("a", t0 + Duration::from_millis(500)).unwrap_err(), RetryAfter(Duration::from_millis(500)));
        assert_eq!(l.check("a", t0 + Duration::from_secs(1)), Ok(()));
        assert!(l.check("a", t0 + Duration::from_secs(1)).is_err());
        // After a quiet spell the whole burst is back.
        let later = t0 + Duration::from_secs(10);
        for _ in 0..3 {
            assert_eq!(l.check("a", later), Ok(()));
        }
        assert!(l.check("a", later).is_err());
    }

    #[test]
    fn peek_counts_nothing() {
        let l = limiter(2, 6);
        let t0 = Instant::now();
        for _ in 0..5 {
            assert_eq!(l.peek("a", t0), Ok(()));
        }
        l.check("a", t0).unwrap();
        l.check("a", t0).unwrap();
        assert_eq!(l.peek("a", t0), Err(RetryAfter(Duration::from_secs(10))));
    }

    #[test]
    fn disabled_limits_let_everything_through() {
        let l = Limiter::new(Limit { burst: 1, per_minute: 1 }, false);
        let t0 = Instant::now();
        for _ in 0..100 {
            assert_eq!(l.check("a", t0), Ok(()));
        }
    }

    #[test]
    fn retain_recent_forgets_only_refilled_keys() {
        let l = limiter(2, 60);
        let t0 = Instant::now();
        l.check("busy", t0 + Duration::from_secs(5)).unwrap();
        l.check("idle", t0).unwrap();
        assert_eq!(l.retain_recent(t0 + Duration::from_secs(3)), 1);
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(RetryAfter(Duration::from_millis(1)).seconds(), 1);
        assert_eq!(RetryAfter(Duration::from_millis(1500)).seconds(), 2);
        assert_eq!(RetryAfter(Duration::from_secs(7)).seconds(), 7);
        assert_eq!(RetryAfter(Duration::ZERO).seconds(), 1);
    }

    #[test]
    fn ipv6_hosts_share_their_64() {
        assert_eq!(ip_key("203.0.113.9".parse().unwrap()), "203.0.113.9");
        assert_eq!(ip_key("2001:db8:1:2:aaaa::1".parse().unwrap()), ip_key("2001:db8:1:2:bbbb::2".parse().unwrap()));
        assert_eq!(ip_key("::ffff:198.51.100.7".parse().unwrap()), "198.51.100.7");
    }
}
