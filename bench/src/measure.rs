//! Measuring one workload in the client process: a warm-up, then a timed window over which the
//! operations, the process's CPU time (getrusage), the peer's CPU time (/proc/PID/stat of the
//! router) and the latency histogram are taken.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Serialize;

#[derive(Clone, Debug)]
pub struct Spec {
    pub warmup: Duration,
    pub secs: Duration,
    /// Router processes whose CPU time is read before and after the window.
    pub peer_pids: Vec<u32>,
}

#[derive(Clone, Copy)]
struct Snapshot {
    at: Instant,
    cpu: f64,
    peer_cpu: f64,
}

fn snapshot(pids: &[u32]) -> Snapshot {
    Snapshot {
        at: Instant::now(),
        cpu: process_cpu(),
        peer_cpu: pids.iter().map(|&p| pid_cpu(p).unwrap_or(0.0)).sum(),
    }
}

/// User + system CPU seconds of this process (all threads).
pub fn process_cpu() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// User + system CPU seconds of process `pid` (from /proc/PID/stat), all its threads.
pub fn pid_cpu(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    Some((utime + stime) / hz)
}

/// Resident set size of this process, in bytes.
pub fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    pages * unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64
}

/// Resident set size of process `pid`, in bytes.
pub fn pid_rss(pid: u32) -> Option<u64> {
    let statm = std::fs::read_to_string(format!("/proc/{pid}/statm")).ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    Some(pages * unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64)
}

/// Resident set size after glibc has returned the free pages inside its heap to the system:
/// what the process still holds, without the pages of memory that was only needed for a while
/// (e.g. commands queued before the session task took them in) and is free again.
pub fn rss_held() -> u64 {
    // SAFETY: malloc_trim has no preconditions; it only releases free memory.
    unsafe {
        libc::malloc_trim(0);
    }
    rss()
}

pub struct Meter {
    spec: Spec,
    t0: Instant,
    start: Option<Snapshot>,
    end: Option<Snapshot>,
    pub ops: u64,
    pub errors: u64,
    pub dropped: u64,
    hist: Histogram<u64>,
    check: u32,
}

impl Meter {
    pub fn new(spec: Spec) -> Self {
        Meter {
            spec,
            t0: Instant::now(),
            start: None,
            end: None,
            ops: 0,
            errors: 0,
            dropped: 0,
            hist: Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("histogram"),
            check: 0,
        }
    }

    /// Restarts the warm-up clock (after connecting and subscribing).
    pub fn restart(&mut self) {
        self.t0 = Instant::now();
    }

    /// Counts one completed operation, with its latency if known. Returns false once the window
    /// is over.
    #[inline]
    pub fn op(&mut self, latency: Option<Duration>) -> bool {
        if self.start.is_some() {
            self.ops += 1;
            if let Some(l) = latency {
                let _ = self.hist.record((l.as_nanos() as u64).max(1));
            }
        }
        // Without a latency the clock is read only every 64th operation.
        if latency.is_none() {
            self.check += 1;
            if self.check & 63 != 0 {
                return true;
            }
        }
        self.tick()
    }

    /// Counts `n` operations without latency (a batch of events).
    #[inline]
    pub fn ops(&mut self, n: u64) -> bool {
        if self.start.is_some() {
            self.ops += n;
        }
        self.check += n as u32;
        if self.check < 64 {
            return true;
        }
        self.check = 0;
        self.tick()
    }

    pub fn error(&mut self) {
        if self.start.is_some() {
            self.errors += 1;
        }
    }

    /// Advances the phases; false once the measured window is over.
    pub fn tick(&mut self) -> bool {
        if self.end.is_some() {
            return false;
        }
        let elapsed = self.t0.elapsed();
        if self.start.is_none() {
            if elapsed >= self.spec.warmup {
                self.start = Some(snapshot(&self.spec.peer_pids));
            }
            true
        } else if elapsed >= self.spec.warmup + self.spec.secs {
            self.end = Some(snapshot(&self.spec.peer_pids));
            false
        } else {
            true
        }
    }

    pub fn report(&mut self) -> Report {
        if self.end.is_none() {
            if self.start.is_none() {
                self.start = Some(snapshot(&self.spec.peer_pids));
            }
            self.end = Some(snapshot(&self.spec.peer_pids));
        }
        let (s, e) = (self.start.expect("start"), self.end.expect("end"));
        let secs = e.at.duration_since(s.at).as_secs_f64();
        let q = |p: f64| {
            if self.hist.is_empty() {
                None
            } else {
                Some(self.hist.value_at_quantile(p) as f64 / 1000.0)
            }
        };
        Report {
            ops: self.ops,
            secs,
            cpu: e.cpu - s.cpu,
            peer_cpu: e.peer_cpu - s.peer_cpu,
            p50_us: q(0.5),
            p99_us: q(0.99),
            errors: self.errors,
            dropped: self.dropped,
            ..Report::default()
        }
    }
}

/// One line of JSON that a client process prints last.
#[derive(Serialize, Default, Debug)]
pub struct Report {
    pub ops: u64,
    pub secs: f64,
    pub cpu: f64,
    pub peer_cpu: f64,
    pub p50_us: Option<f64>,
    pub p99_us: Option<f64>,
    pub errors: u64,
    pub dropped: u64,
    /// Memory workloads: RSS growth per item, and the items.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_per_item: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Report {
    pub fn print(&self) {
        println!("RESULT {}", serde_json::to_string(self).expect("json"));
    }
}

/// Pins the calling thread (and the threads it creates later) to one CPU.
pub fn pin_to_cpu(cpu: usize) {
    // SAFETY: the set is a plain bitmask initialised by CPU_ZERO/CPU_SET.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_ZERO(&mut set);
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}
