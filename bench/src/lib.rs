//! What the benchmark binaries share: percentiles, a CPU clock, and the way a
//! number is printed next to its target.
//!
//! **Invariant:** a benchmark prints what it measured and how it compares with
//! its target, as a ratio of numbers taken in the same run on the same machine.
//! It never fails on a timing: a shared machine is too noisy for that, and a
//! ratio travels between machines where an absolute number does not.

#![forbid(unsafe_code)]

pub mod child;
pub mod load;
pub mod machine;

use std::time::{Duration, Instant};

/// Percentiles of a set of latency samples, by the nearest-rank method.
#[derive(Debug, Clone, Copy)]
pub struct Percentiles {
    pub count: usize,
    pub p50: Duration,
    pub p90: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Percentiles {
    /// Panics on an empty set: a benchmark that measured nothing has a bug.
    pub fn of(samples: &mut [Duration]) -> Percentiles {
        assert!(!samples.is_empty(), "no samples");
        samples.sort_unstable();
        let rank = |p: f64| {
            let index = (p * samples.len() as f64).ceil() as usize;
            samples[index.clamp(1, samples.len()) - 1]
        };
        Percentiles {
            count: samples.len(),
            p50: rank(0.50),
            p90: rank(0.90),
            p99: rank(0.99),
            max: samples[samples.len() - 1],
        }
    }
}

impl std::fmt::Display for Percentiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "p50 {}  p90 {}  p99 {}  max {}  ({} samples)",
            show(self.p50),
            show(self.p90),
            show(self.p99),
            show(self.max),
            self.count
        )
    }
}

/// A duration in the unit that keeps three significant digits readable.
pub fn show(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos < 1_000 {
        format!("{nanos} ns")
    } else if nanos < 1_000_000 {
        format!("{:.1} µs", d.as_secs_f64() * 1e6)
    } else if nanos < 1_000_000_000 {
        format!("{:.2} ms", d.as_secs_f64() * 1e3)
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}

/// "PASS" when `ratio` is at most 1 (measured / target), else "MISS".
pub fn verdict(ratio: f64) -> &'static str {
    if ratio <= 1.0 {
        "PASS"
    } else {
        "MISS"
    }
}

/// Where CPU time is read from.
///
/// Linux keeps each thread's time on a CPU, in nanoseconds, in
/// `/proc/thread-self/schedstat`. Reading it needs no `unsafe` (a
/// `clock_gettime` call would), and the benchmarks do all their work on the
/// calling thread, so the thread's CPU time is the process's. Where the file is
/// missing, wall time on this otherwise idle thread stands in, and the output
/// says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuClock {
    ThreadSchedstat,
    Wall,
}

/// A reading of a [`CpuClock`].
#[derive(Debug, Clone, Copy)]
pub enum CpuInstant {
    Cpu(Duration),
    Wall(Instant),
}

const SCHEDSTAT: &str = "/proc/thread-self/schedstat";

impl CpuClock {
    pub fn detect() -> CpuClock {
        if read_schedstat().is_some() {
            CpuClock::ThreadSchedstat
        } else {
            CpuClock::Wall
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            CpuClock::ThreadSchedstat => {
                "CPU time of the measuring thread (/proc/thread-self/schedstat, ns); all work runs on it"
            }
            CpuClock::Wall => {
                "WALL time on an otherwise idle thread (no per-thread CPU clock readable on this system)"
            }
        }
    }

    pub fn now(self) -> CpuInstant {
        match self {
            CpuClock::ThreadSchedstat => {
                CpuInstant::Cpu(read_schedstat().expect("schedstat was readable at start"))
            }
            CpuClock::Wall => CpuInstant::Wall(Instant::now()),
        }
    }

    /// Time spent since `start`, by this clock.
    pub fn since(self, start: CpuInstant) -> Duration {
        match (self.now(), start) {
            (CpuInstant::Cpu(now), CpuInstant::Cpu(then)) => now.saturating_sub(then),
            (CpuInstant::Wall(now), CpuInstant::Wall(then)) => now - then,
            _ => unreachable!("readings of one clock"),
        }
    }
}

/// The first field of schedstat: nanoseconds this thread has run on a CPU.
fn read_schedstat() -> Option<Duration> {
    let text = std::fs::read_to_string(SCHEDSTAT).ok()?;
    let nanos: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

/// The median of a few per-round measurements.
pub fn median(values: &mut [Duration]) -> Duration {
    assert!(!values.is_empty(), "no rounds");
    values.sort_unstable();
    values[values.len() / 2]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut samples: Vec<Duration> = (1..=100).rev().map(Duration::from_micros).collect();
        let p = Percentiles::of(&mut samples);
        assert_eq!(p.count, 100);
        assert_eq!(p.p50, Duration::from_micros(50));
        assert_eq!(p.p90, Duration::from_micros(90));
        assert_eq!(p.p99, Duration::from_micros(99));
        assert_eq!(p.max, Duration::from_micros(100));
    }

    #[test]
    fn one_sample_is_every_percentile() {
        let p = Percentiles::of(&mut [Duration::from_millis(3)]);
        assert_eq!(
            (p.p50, p.p99, p.max),
            (
                Duration::from_millis(3),
                Duration::from_millis(3),
                Duration::from_millis(3)
            )
        );
    }

    #[test]
    fn durations_print_in_a_readable_unit() {
        assert_eq!(show(Duration::from_nanos(420)), "420 ns");
        assert_eq!(show(Duration::from_nanos(12_345)), "12.3 µs");
        assert_eq!(show(Duration::from_micros(1_500)), "1.50 ms");
        assert_eq!(show(Duration::from_millis(2_500)), "2.50 s");
    }

    #[test]
    fn the_cpu_clock_moves_when_the_thread_works() {
        let clock = CpuClock::detect();
        let start = clock.now();
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        assert!(clock.since(start) > Duration::ZERO);
    }
}
