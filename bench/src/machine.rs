//! The machine a benchmark ran on, and the CPU time of whole processes.
//!
//! A server is measured from outside, as a separate process: the CPU it
//! used is the sum of its threads' user and system time, which Linux keeps
//! in `/proc/<pid>/stat` (fields 14 and 15, in clock ticks), including the
//! threads that have already exited. Reading it needs no cooperation from
//! the server, so the gateway and node-oidc-provider are measured alike.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// Where a process's CPU time is read from.
#[derive(Debug, Clone)]
pub struct ProcessCpu {
    stat: PathBuf,
    ticks_per_second: u64,
}

impl ProcessCpu {
    /// The process with this id.
    pub fn of(pid: u32) -> ProcessCpu {
        Self::at(PathBuf::from(format!("/proc/{pid}/stat")))
    }

    /// This process.
    pub fn this() -> ProcessCpu {
        Self::at(PathBuf::from("/proc/self/stat"))
    }

    fn at(stat: PathBuf) -> ProcessCpu {
        ProcessCpu {
            stat,
            ticks_per_second: clock_ticks_per_second(),
        }
    }

    /// User plus system time of every thread the process has had so far.
    /// Panics if the process is gone: a benchmark whose server died has
    /// nothing to report.
    pub fn now(&self) -> Duration {
        let text = std::fs::read_to_string(&self.stat)
            .unwrap_or_else(|e| panic!("{}: {e} (did the server exit?)", self.stat.display()));
        // The command name (field 2) is in parentheses and may hold spaces;
        // the fields after its closing parenthesis start at field 3.
        let after = &text[text.rfind(')').expect("stat has a command name") + 1..];
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks = |field: usize| -> u64 { fields[field - 3].parse().expect("a tick count") };
        let total = ticks(14) + ticks(15);
        Duration::from_nanos(total * 1_000_000_000 / self.ticks_per_second)
    }

    /// Seconds of resolution of [`ProcessCpu::now`].
    pub fn resolution(&self) -> Duration {
        Duration::from_nanos(1_000_000_000 / self.ticks_per_second)
    }
}

/// `sysconf(_SC_CLK_TCK)`, through `getconf` so that no `unsafe` is needed;
/// 100 (the value on every common Linux build) if `getconf` is missing.
fn clock_ticks_per_second() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .filter(|&t| t > 0)
        .unwrap_or(100)
}

/// One line saying when and on what a benchmark ran: the date (UTC), the
/// CPU model, the cores this process may use, and the load average, which
/// tells a reader how much other work was competing for them.
pub fn describe() -> String {
    let now = time::OffsetDateTime::now_utc();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC; {model}; nproc {cores}; load average {}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        load_average()
    )
}

/// The 1, 5 and 15 minute load averages from `/proc/loadavg`.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_used_some_cpu() {
        let cpu = ProcessCpu::this();
        let mut x = 0u64;
        for i in 0..50_000_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        assert!(cpu.now() > Duration::ZERO);
        assert!(cpu.resolution() > Duration::ZERO);
    }

    #[test]
    fn the_description_names_the_cores_and_the_load() {
        let line = describe();
        assert!(line.contains("nproc"), "{line}");
        assert!(line.contains("load average"), "{line}");
    }
}
