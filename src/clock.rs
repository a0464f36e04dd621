//! The monotonic clock the rate limits read ([`crate::limits`] takes its
//! times as arguments). [`crate::state::AppState`] holds one: the server's
//! reads [`Instant::now`]; a test builds a [`Clock::manual`] one, which
//! stands still until [`Clock::advance`] moves it, so that waiting out a
//! rate-limit window takes no real time.
//!
//! Protocol decisions (expiry, `iat`, audit times) use Unix seconds from
//! [`crate::service::now`], not this clock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A source of [`Instant`]s. Clones share their time: advancing one
/// advances all.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// `None`: the system clock.
    manual: Option<Arc<Manual>>,
}

#[derive(Debug)]
struct Manual {
    /// The time when the clock was made.
    base: Instant,
    /// How far it was advanced since, in nanoseconds.
    offset_nanos: AtomicU64,
}

impl Clock {
    /// The system's monotonic clock (what [`Clock::default`] is).
    pub fn system() -> Self {
        Self::default()
    }

    /// A clock for tests: it starts at the current time and moves only
    /// when [`Clock::advance`] is called.
    pub fn manual() -> Self {
        Self { manual: Some(Arc::new(Manual { base: Instant::now(), offset_nanos: AtomicU64::new(0) })) }
    }

    pub fn now(&self) -> Instant {
        match &self.manual {
            None => Instant::now(),
            Some(manual) => manual.base + Duration::from_nanos(manual.offset_nanos.load(Ordering::Relaxed)),
        }
    }

    /// How far a manual clock was advanced (zero for the system clock): the
    /// rate limits kept in the database add it to the database's time.
    pub fn advanced(&self) -> Duration {
        match &self.manual {
            None => Duration::ZERO,
            Some(manual) => Duration::from_nanos(manual.offset_nanos.load(Ordering::Relaxed)),
        }
    }

    /// Moves a manual clock forward by `by`.
    ///
    /// # Panics
    ///
    /// On the system clock, which nothing can move.
    pub fn advance(&self, by: Duration) {
        let Some(manual) = &self.manual else {
            panic!("only a Clock::manual() can be advanced");
        };
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        // Never fails: the closure always returns Some.
        let _ = manual.offset_nanos.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| Some(n.saturating_add(by)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_stands_still_until_advanced_and_its_clones_follow() {
        let clock = Clock::manual();
        let start = clock.now();
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(clock.now(), start, "no real time passes on a manual clock");
        let clone = clock.clone();
        clone.advance(Duration::from_millis(1100));
        assert_eq!(clock.now(), start + Duration::from_millis(1100));
        clock.advance(Duration::from_secs(60));
        assert_eq!(clone.now(), start + Duration::from_millis(61_100));
        assert_eq!(clone.advanced(), Duration::from_millis(61_100));
        assert_eq!(Clock::system().advanced(), Duration::ZERO);
    }

    #[test]
    fn the_system_clock_follows_real_time() {
        let clock = Clock::system();
        let start = clock.now();
        std::thread::sleep(Duration::from_millis(5));
        assert!(clock.now() >= start + Duration::from_millis(5));
    }

    #[test]
    #[should_panic(expected = "only a Clock::manual() can be advanced")]
    fn the_system_clock_cannot_be_advanced() {
        Clock::system().advance(Duration::from_secs(1));
    }
}
