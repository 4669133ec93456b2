//! The one place that reads the time.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use time::OffsetDateTime;

/// A source of the current time. Only [`SystemClock`] reads the real clock.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> OffsetDateTime;
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that stands still until a test moves it.
///
/// Cloning shares the underlying instant, so a test can keep a handle and
/// advance the time the gateway sees.
#[derive(Debug, Clone)]
pub struct FixedClock {
    unix_nanos: Arc<AtomicI64>,
}

impl FixedClock {
    pub fn new(at: OffsetDateTime) -> Self {
        let nanos = i64::try_from(at.unix_timestamp_nanos()).expect("instant within i64 nanoseconds");
        Self { unix_nanos: Arc::new(AtomicI64::new(nanos)) }
    }

    /// Moves the clock forward (or back, with a negative duration).
    pub fn advance(&self, by: time::Duration) {
        let nanos = i64::try_from(by.whole_nanoseconds()).expect("duration within i64 nanoseconds");
        self.unix_nanos.fetch_add(nanos, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.unix_nanos.load(Ordering::SeqCst)))
            .expect("fixed clock holds a valid instant")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn fixed_clock_advances_for_every_clone() {
        let clock = FixedClock::new(datetime!(2026-01-01 00:00 UTC));
        let seen_by_gateway = clock.clone();
        clock.advance(time::Duration::minutes(5));
        assert_eq!(seen_by_gateway.now(), datetime!(2026-01-01 00:05 UTC));
    }
}
