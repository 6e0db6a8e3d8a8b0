//! The report of `wamp-bench run`: the markdown tables from the measurements, and their place
//! in BENCHMARKS.md.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use std::process::Command;

use crate::codec::Ser;
use crate::orchestrate::{Client, Ctx, Measurement, Outcome};

pub(crate) fn fmt_rate(r: f64) -> String {
    if r >= 1e6 {
        format!("{:.2}M", r / 1e6)
    } else if r >= 1e4 {
        format!("{:.0}k", r / 1e3)
    } else if r >= 1e3 {
        format!("{:.1}k", r / 1e3)
    } else {
        format!("{r:.0}")
    }
}

fn fmt_cpu(c: Option<f64>) -> String {
    match c {
        Some(c) if c >= 10.0 => format!("{c:.1}"),
        Some(c) if c >= 1.0 => format!("{c:.2}"),
        Some(c) => format!("{c:.3}"),
        None => "-".into(),
    }
}

fn fmt_us(v: Option<f64>) -> String {
    match v {
        Some(v) if v >= 1000.0 => format!("{:.1}ms", v / 1000.0),
        Some(v) => format!("{v:.0}"),
        None => "-".into(),
    }
}

/// "rate · CPU", with marks: † router ≥ 85% busy, errors and drops spelled out.
fn cell(r: Option<&Result<Outcome, String>>, router_flag: bool) -> String {
    match r {
        None => "".into(),
        Some(Err(e)) => {
            let short: String = e.chars().take(40).collect();
            format!("fails: {}", short.replace('|', "/"))
        }
        Some(Ok(o)) if o.errors * 20 > o.ops => format!(
            "fails: {:.0}% of requests failed",
            o.errors as f64 / o.ops.max(1) as f64 * 100.0
        ),
        Some(Ok(o)) => {
            let mut s = format!("{} · {}", fmt_rate(o.rate()), fmt_cpu(o.cpu_per_100k()));
            if router_flag && o.peer_busy() >= 0.85 {
                s.push('†');
            }
            if o.errors > 0 {
                let _ = write!(s, " ({} err)", o.errors);
            }
            if o.dropped > 0 {
                let total = o.ops + o.dropped;
                let _ = write!(
                    s,
                    " ({:.1}% dropped)",
                    o.dropped as f64 / total as f64 * 100.0
                );
            }
            s
        }
    }
}

fn lat(r: Option<&Result<Outcome, String>>) -> String {
    match r {
        Some(Ok(o)) if o.errors * 20 <= o.ops => {
            format!("{} / {}", fmt_us(o.p50_us), fmt_us(o.p99_us))
        }
        _ => "".into(),
    }
}

fn clients_of(ctx: &Ctx, target: &str) -> Vec<Client> {
    let mut seen: Vec<Client> = Vec::new();
    for m in ctx.results.iter().filter(|m| m.target == target) {
        if m.workload.starts_with("pending-mem")
            || m.workload.starts_with("sub-mem")
            || m.workload.starts_with("burst")
        {
            continue;
        }
        if !seen.contains(&m.client) {
            seen.push(m.client.clone());
        }
    }
    seen
}

fn rate_of(ctx: &Ctx, target: &str, c: &Client, w: &str) -> Option<Outcome> {
    match ctx.get(target, c, w) {
        Some(Ok(o)) if o.ops > 0 && o.errors * 20 <= o.ops => Some(o.clone()),
        _ => None,
    }
}

/// The sentence on the least-reading floor of event intake, when it was measured.
fn reading_floor(ctx: &Ctx, md: &mut String) {
    let cpu = |imp: &str| {
        let client = Client::new(imp, "ws", Ser::MsgPack, "current");
        rate_of(ctx, "instant", &client, "events")?.cpu_per_100k()
    };
    let (Some(floor), Some(raw), Some(ours)) = (cpu("raw-task-read"), cpu("raw"), cpu("wampkit"))
    else {
        return;
    };
    let _ = writeln!(
        md,
        "Raw frames behind a connection task, reading each MessagePack event as the least a WAMP \
         client must (its type, ids and `{{}}` details; the subscription looked up; the first \
         argument read by the subscriber; no check of the arguments): {} CPU s per 100k events, \
         {:.1}x raw frames'; wampkit's {:.1}x that.\n",
        fmt_cpu(Some(floor)),
        floor / raw,
        ours / floor,
    );
}

pub(crate) fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mem_kb: u64 = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("MemTotal"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    format!(
        "{cores} cores ({model}), {:.0} GiB RAM, Linux {}",
        mem_kb as f64 / 1024.0 / 1024.0,
        kernel.trim()
    )
}

pub(crate) fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn versions(ctx: &Ctx) -> String {
    let rustc = Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let autobahn = ctx
        .args
        .python
        .as_ref()
        .and_then(|py| {
            Command::new(py)
                .args([
                    "-c",
                    "import sys, autobahn; print(autobahn.__version__, sys.version.split()[0])",
                ])
                .output()
                .ok()
        })
        .map(|o| {
            let s = String::from_utf8_lossy(&o.stdout).trim().to_owned();
            let mut it = s.split_whitespace();
            format!(
                "Autobahn|Python {} (asyncio, CPython {})",
                it.next().unwrap_or("?"),
                it.next().unwrap_or("?")
            )
        })
        .unwrap_or_else(|| "Autobahn|Python not run".into());
    format!("{rustc}; battler-wamp 0.6.1; wamp_async 0.3.1; {autobahn}")
}

pub(crate) fn render(ctx: &Ctx, took: Duration) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "Measured {} on {}.", today(), machine());
    let _ = writeln!(md, "{}.", versions(ctx));
    let _ = writeln!(
        md,
        "Command: `{}`{} ({:.1} s window after {:.1} s warm-up per measurement; the run took {:.0} s).\n",
        ctx.args.command,
        if ctx.args.quick { " --quick" } else { "" },
        ctx.secs,
        ctx.warmup,
        took.as_secs_f64()
    );

    // Instant router.
    let instant = clients_of(ctx, "instant");
    if !instant.is_empty() {
        let _ = writeln!(
            md,
            "### Instant router (the client is the bottleneck)\n\n\
             Each cell: operations per second · client CPU seconds per 100,000 operations \
             (lower is better). † = the router used ≥ 85% of its core, so that figure is \
             router-bound. Latency: p50 / p99 in µs.\n"
        );
        let workloads = ["seq", "pipe100", "pipe1k", "events", "pub100"];
        let _ = writeln!(
            md,
            "| client | transport | serializer | calls, 1 outstanding | latency | calls, 100 outstanding | latency | calls, 1000 outstanding | event intake | acked publish, 100 outstanding |"
        );
        let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|---|");
        for c in &instant {
            let g = |w: &str| ctx.get("instant", c, w);
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                c.name(),
                c.transport,
                c.ser,
                cell(g(workloads[0]), true),
                lat(g("seq")),
                cell(g(workloads[1]), true),
                lat(g("pipe100")),
                cell(g(workloads[2]), true),
                cell(g(workloads[3]), true),
                cell(g(workloads[4]), true),
            );
        }
        md.push('\n');
    }

    // Ratios against the instant router.
    let mut ratios = String::new();
    let mut cpu_ratios = String::new();
    let peers: [(&str, &str, f64); 3] = [
        ("autobahn", "asyncio", 10.0),
        ("battler", "current", 1.0),
        ("wamp-async", "current", 1.0),
    ];
    let client = |imp: &str, transport: &str, ser: &str, runtime: &str| Client {
        imp: imp.into(),
        transport: transport.into(),
        ser: ser.into(),
        runtime: runtime.into(),
    };
    for transport in ["ws", "rs"] {
        for ser in ["json", "msgpack", "cbor"] {
            let ours = client("wampkit", transport, ser, "current");
            for w in ["pipe100", "pipe1k", "pub100", "events"] {
                let Some(o) = rate_of(ctx, "instant", &ours, w) else {
                    continue;
                };
                // CPU per operation against raw frames (issue goal: ≤ 2x; ≤ 2.5x per call and
                // per publication on CBOR) and against raw frames behind a connection task (the
                // floor of this structure).
                let goal = if ser == "cbor" && w != "events" {
                    2.5
                } else {
                    2.0
                };
                let against = |imp: &str| {
                    let base = client(imp, transport, ser, "current");
                    match (
                        rate_of(ctx, "instant", &base, w).and_then(|b| b.cpu_per_100k()),
                        o.cpu_per_100k(),
                    ) {
                        (Some(b), Some(oc)) if b > 0.0 => Some(oc / b),
                        _ => None,
                    }
                };
                let raw = against("raw").map_or_else(
                    || "-".to_owned(),
                    |r| format!("{r:.1}x {}", if r <= goal { "✓" } else { "✗" }),
                );
                let floor =
                    against("raw-task").map_or_else(|| "-".to_owned(), |r| format!("{r:.1}x"));
                let _ = writeln!(
                    cpu_ratios,
                    "| {transport} {ser} | {w} | {} | {raw} (≤ {goal}x) | {floor} |",
                    fmt_cpu(o.cpu_per_100k()),
                );
                if !w.starts_with("pipe") {
                    continue;
                }
                let mut cells = Vec::new();
                for (imp, rt, goal) in peers {
                    let peer = client(imp, transport, ser, rt);
                    cells.push(match rate_of(ctx, "instant", &peer, w) {
                        None => "-".to_owned(),
                        Some(p) => {
                            let ratio = o.rate() / p.rate();
                            let cpu_ratio = match (p.cpu_per_100k(), o.cpu_per_100k()) {
                                (Some(pc), Some(oc)) if oc > 0.0 => pc / oc,
                                _ => f64::NAN,
                            };
                            let mark = |r: f64| if r >= goal { "✓" } else { "✗" };
                            format!(
                                "{ratio:.2}x {} (CPU {cpu_ratio:.2}x {})",
                                mark(ratio),
                                mark(cpu_ratio)
                            )
                        }
                    });
                }
                let _ = writeln!(
                    ratios,
                    "| {transport} {ser} | {w} | {} · {} | {} |",
                    fmt_rate(o.rate()),
                    fmt_cpu(o.cpu_per_100k()),
                    cells.join(" | ")
                );
            }
        }
    }
    if !cpu_ratios.is_empty() {
        let _ = writeln!(
            md,
            "### Ratios: wampkit's CPU per operation against raw frames, same run\n\n\
             wampkit's client CPU seconds per 100,000 operations, divided by that of raw frames \
             (one task, pre-encoded frames, nothing decoded) and by that of raw frames behind a \
             connection task (the same frames, but handed to the task that owns the connection \
             and answered back on a channel, as in every client built around a connection \
             task: the floor of wampkit's structure, with nothing WAMP in it).\n\n\
             | transport, serializer | workload | wampkit CPU s/100k | ÷ raw frames | ÷ raw frames, connection task |\n\
             |---|---|---|---|---|"
        );
        md.push_str(&cpu_ratios);
        md.push('\n');
        reading_floor(ctx, &mut md);
    }
    if !ratios.is_empty() {
        let _ = writeln!(
            md,
            "### Ratios: wampkit's pipelined calls against the other clients, same run\n\n\
             First figure: wampkit's calls/s ÷ the other client's. In parentheses: the same \
             ratio computed from CPU per call (the other's CPU s/100k ÷ wampkit's): the \
             throughput ratio if both were CPU-bound, and the steadier of the two on this shared \
             machine. Goals: ≥ 10x Autobahn\\|Python, ≥ 1x every Rust peer (all on a \
             current-thread runtime).\n\n\
             | transport, serializer | workload | wampkit calls/s · CPU | vs Autobahn\\|Python (≥ 10x) | vs battler-wamp (≥ 1x) | vs wamp_async (≥ 1x) |\n\
             |---|---|---|---|---|---|"
        );
        md.push_str(&ratios);
        md.push('\n');
    }

    // Memory.
    let mem: Vec<&Measurement> = ctx
        .results
        .iter()
        .filter(|m| {
            m.workload.starts_with("pending-mem")
                || m.workload.starts_with("sub-mem")
                || m.workload.starts_with("burst")
        })
        .collect();
    if !mem.is_empty() {
        let _ = writeln!(
            md,
            "### Memory and 100k pending calls (wampkit, instant router)\n\n\
             | measurement | client | result | goal |\n|---|---|---|---|"
        );
        for m in mem {
            let what = if m.workload.starts_with("pending-mem") {
                (
                    "RSS per pending call (100k calls the router never answers)",
                    "≤ 512 B",
                )
            } else if m.workload.starts_with("sub-mem") {
                ("RSS per idle subscription (10k subscriptions)", "≤ 256 B")
            } else if m.workload.starts_with("burst-coop") {
                (
                    "100k concurrent calls in one FuturesUnordered, awaited naively (tokio coop budget)",
                    "no errors",
                )
            } else {
                (
                    "100k concurrent calls in one FuturesUnordered (awaited `unconstrained`)",
                    "no errors",
                )
            };
            let result = match &m.result {
                Err(e) => format!("fails: {e}"),
                Ok(o) => match o.bytes_per_item {
                    Some(b) => format!(
                        "{b:.0} B{}",
                        o.note
                            .as_ref()
                            .map(|n| format!(" ({n})"))
                            .unwrap_or_default()
                    ),
                    None => format!(
                        "{} ok, {} errors in {:.2} s ({} calls/s, CPU {} s/100k)",
                        o.ops,
                        o.errors,
                        o.secs,
                        fmt_rate(o.ops as f64 / o.secs.max(1e-9)),
                        fmt_cpu(o.cpu_per_100k())
                    ),
                },
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                what.0,
                m.client.label(),
                result,
                what.1
            );
        }
        md.push('\n');
    }

    // Crossbar.
    let crossbar = clients_of(ctx, "crossbar");
    if !crossbar.is_empty() {
        let _ = writeln!(
            md,
            "### Crossbar.io on loopback (the router is the bottleneck)\n\n\
             Each cell: operations per second · client CPU s per 100k operations. \
             \"router CPU\" = CPU s per 100k calls of the Crossbar router worker (read from \
             /proc/PID/stat) in the 100-outstanding run, and the client's share of it \
             (goal: ≤ 0.25). The callee of `bench.echo` is a wampkit process over \
             RawSocket+msgpack; events come from a wampkit publisher with 100 acknowledged \
             publications outstanding.\n"
        );
        let _ = writeln!(
            md,
            "| client | transport | serializer | calls, 1 outstanding | latency | calls, 100 outstanding | router CPU · client/router | event intake | acked publish, 100 outstanding |\n|---|---|---|---|---|---|---|---|---|"
        );
        for c in &crossbar {
            let g = |w: &str| ctx.get("crossbar", c, w);
            let router = match g("pipe100") {
                Some(Ok(o)) if o.peer_cpu > 0.0 => {
                    let ratio = o.cpu / o.peer_cpu;
                    format!(
                        "{} · {:.2} {}",
                        fmt_cpu(o.peer_cpu_per_100k()),
                        ratio,
                        if ratio <= 0.25 { "✓" } else { "✗" }
                    )
                }
                _ => "-".into(),
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                c.name(),
                c.transport,
                c.ser,
                cell(g("seq"), false),
                lat(g("seq")),
                cell(g("pipe100"), false),
                router,
                cell(g("events"), false),
                cell(g("pub100"), false),
            );
        }
        md.push('\n');
    }
    md
}

const BEGIN: &str = "<!-- results:begin -->";
const END: &str = "<!-- results:end -->";

pub(crate) fn splice(path: &PathBuf, markdown: &str) -> std::io::Result<()> {
    splice_between(path, BEGIN, END, markdown)
}

/// Replaces what lies between the markers `begin` and `end` of the file at `path`.
pub(crate) fn splice_between(
    path: &PathBuf,
    begin: &str,
    end: &str,
    markdown: &str,
) -> std::io::Result<()> {
    let text = std::fs::read_to_string(path)?;
    let (Some(b), Some(e)) = (text.find(begin), text.find(end)) else {
        return Err(std::io::Error::other(format!(
            "markers {begin} / {end} not found"
        )));
    };
    let new = format!("{}{begin}\n{}{}", &text[..b], markdown, &text[e..]);
    std::fs::write(path, new)
}
