//! The workloads every client runs.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// Call round trips, one outstanding.
    Seq,
    /// Calls with N outstanding.
    Pipe(usize),
    /// Events received on one subscription to `bench.flood`.
    Events,
    /// Acknowledged publications with N outstanding.
    Pub(usize),
    /// N calls to `bench.blackhole` pending at once: RSS growth per call.
    PendingMem(usize),
    /// N idle subscriptions: RSS growth per subscription.
    SubMem(usize),
    /// N calls to `bench.echo` issued at once; all must complete without error. Awaited through
    /// a FuturesUnordered outside tokio's cooperative budget.
    Burst(usize),
    /// The same, awaited naively (inside the budget).
    BurstCoop(usize),
    /// N idle sessions joined at once: the router's RSS growth per session.
    IdleSessions(usize),
}

impl Workload {
    pub fn parse(s: &str) -> Option<Workload> {
        let num = |p: &str| s.strip_prefix(p).and_then(parse_count);
        match s {
            "seq" => Some(Workload::Seq),
            "events" => Some(Workload::Events),
            _ => num("pipe")
                .map(Workload::Pipe)
                .or_else(|| num("pub").map(Workload::Pub))
                .or_else(|| num("pending-mem").map(Workload::PendingMem))
                .or_else(|| num("sub-mem").map(Workload::SubMem))
                .or_else(|| num("burst-coop").map(Workload::BurstCoop))
                .or_else(|| num("idle-sessions").map(Workload::IdleSessions))
                .or_else(|| num("burst").map(Workload::Burst)),
        }
    }

    pub fn name(self) -> String {
        match self {
            Workload::Seq => "seq".into(),
            Workload::Events => "events".into(),
            Workload::Pipe(n) => format!("pipe{}", fmt_count(n)),
            Workload::Pub(n) => format!("pub{}", fmt_count(n)),
            Workload::PendingMem(n) => format!("pending-mem{}", fmt_count(n)),
            Workload::SubMem(n) => format!("sub-mem{}", fmt_count(n)),
            Workload::Burst(n) => format!("burst{}", fmt_count(n)),
            Workload::BurstCoop(n) => format!("burst-coop{}", fmt_count(n)),
            Workload::IdleSessions(n) => format!("idle-sessions{}", fmt_count(n)),
        }
    }
}

fn parse_count(s: &str) -> Option<usize> {
    if let Some(k) = s.strip_suffix('k') {
        k.parse::<usize>().ok().map(|n| n * 1000)
    } else {
        s.parse().ok()
    }
}

fn fmt_count(n: usize) -> String {
    if n >= 1000 && n.is_multiple_of(1000) {
        format!("{}k", n / 1000)
    } else {
        n.to_string()
    }
}

pub const ECHO: &str = "bench.echo";
pub const BLACKHOLE: &str = "bench.blackhole";
pub const FLOOD: &str = "bench.flood";
pub const PUB_TOPIC: &str = "bench.pub";
pub const REALM: &str = "realm1";
