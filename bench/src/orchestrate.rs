//! `wamp-bench run`: starts the instant router and Crossbar.io, runs every client on every
//! workload (one client process per measurement, pinned to CPU 0; routers pinned to CPU 1),
//! prints the tables and splices them into BENCHMARKS.md.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::codec::Ser;
use crate::workload::Workload;

#[derive(clap::Args, Clone)]
pub struct RunArgs {
    /// A short run: fewer clients, serializers and workloads, shorter windows.
    #[arg(long)]
    quick: bool,
    /// Python with Autobahn (the Crossbar venv's); without it Autobahn is skipped.
    #[arg(long)]
    python: Option<String>,
    /// The Autobahn bench script.
    #[arg(long, default_value = "bench/autobahn_bench.py")]
    autobahn_script: String,
    /// The Crossbar.io launcher; without Crossbar the Crossbar target is skipped.
    #[arg(long, default_value = "scripts/crossbar.sh")]
    crossbar: String,
    #[arg(long)]
    no_crossbar: bool,
    /// Measured window per measurement, seconds.
    #[arg(long)]
    secs: Option<f64>,
    /// Warm-up before each window, seconds.
    #[arg(long)]
    warmup: Option<f64>,
    /// Only rows whose label contains one of these (e.g. "wamp-client", "raw").
    #[arg(long)]
    only: Vec<String>,
    /// Replace the results section (between the markers) of this markdown file.
    #[arg(long)]
    update: Option<PathBuf>,
    /// Write every raw measurement here as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// The command line shown in the report.
    #[arg(long, default_value = "bench/run.sh")]
    command: String,
}

/// One client configuration: implementation, transport, serializer, runtime.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
struct Client {
    imp: String,
    transport: String,
    ser: String,
    runtime: String,
}

impl Client {
    fn new(imp: &str, transport: &str, ser: Ser, runtime: &str) -> Self {
        Client {
            imp: imp.into(),
            transport: transport.into(),
            ser: ser.name().into(),
            runtime: runtime.into(),
        }
    }
    fn name(&self) -> String {
        let base = match self.imp.as_str() {
            "wamp-client" => "wamp-client",
            "raw" => "raw frames",
            "autobahn" => "Autobahn\\|Python",
            "battler" => "battler-wamp",
            "wamp-async" => "wamp_async",
            other => other,
        };
        if self.runtime == "multi" {
            format!("{base} (multi-thread rt)")
        } else {
            base.into()
        }
    }
    fn label(&self) -> String {
        format!("{} {} {}", self.name(), self.transport, self.ser)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, Default)]
struct Outcome {
    ops: u64,
    secs: f64,
    cpu: f64,
    peer_cpu: f64,
    p50_us: Option<f64>,
    p99_us: Option<f64>,
    errors: u64,
    dropped: u64,
    bytes_per_item: Option<f64>,
    items: Option<u64>,
    note: Option<String>,
}

impl Outcome {
    fn rate(&self) -> f64 {
        if self.secs > 0.0 {
            self.ops as f64 / self.secs
        } else {
            0.0
        }
    }
    /// Client CPU seconds per 100,000 operations.
    fn cpu_per_100k(&self) -> Option<f64> {
        (self.ops > 0).then(|| self.cpu / self.ops as f64 * 1e5)
    }
    fn peer_cpu_per_100k(&self) -> Option<f64> {
        (self.ops > 0).then(|| self.peer_cpu / self.ops as f64 * 1e5)
    }
    /// Share of one core the router used over the window.
    fn peer_busy(&self) -> f64 {
        if self.secs > 0.0 {
            self.peer_cpu / self.secs
        } else {
            0.0
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Measurement {
    target: String,
    client: Client,
    workload: String,
    result: Result<Outcome, String>,
}

struct Ctx {
    args: RunArgs,
    exe: PathBuf,
    secs: f64,
    warmup: f64,
    results: Vec<Measurement>,
    total: usize,
}

const CLIENT_CPU: usize = 0;
const ROUTER_CPU: usize = 1;

pub fn run(args: RunArgs) -> i32 {
    let exe = std::env::current_exe().expect("current exe");
    let (secs, warmup) = if args.quick { (0.6, 0.2) } else { (1.5, 0.4) };
    let mut ctx = Ctx {
        secs: args.secs.unwrap_or(secs),
        warmup: args.warmup.unwrap_or(warmup),
        args,
        exe,
        results: Vec::new(),
        total: 0,
    };
    let started = Instant::now();

    // ----- target 1 and 3: the instant router
    let mut router = spawn_pinned(
        Command::new(&ctx.exe).args(["router", "--cpu", &ROUTER_CPU.to_string()]),
        ROUTER_CPU,
    );
    let port = read_line_with(&mut router, "listening ", Duration::from_secs(10))
        .and_then(|l| l.trim().parse::<u16>().ok())
        .expect("instant router port");
    let router_pid = router.id();
    let ws = format!("ws://127.0.0.1:{port}/ws");
    let rs = format!("rs://127.0.0.1:{port}");

    let quick = ctx.args.quick;
    let sers_all = [Ser::Json, Ser::MsgPack, Ser::Cbor];
    let sers: &[Ser] = if quick { &[Ser::MsgPack] } else { &sers_all };
    let mut instant_clients = Vec::new();
    for &ser in sers {
        instant_clients.push(Client::new("wamp-client", "ws", ser, "current"));
    }
    for &ser in sers {
        instant_clients.push(Client::new("wamp-client", "rs", ser, "current"));
    }
    for &ser in sers {
        instant_clients.push(Client::new("raw", "ws", ser, "current"));
    }
    for &ser in sers {
        instant_clients.push(Client::new("raw", "rs", ser, "current"));
    }
    if ctx.args.python.is_some() {
        for &ser in sers {
            instant_clients.push(Client::new("autobahn", "ws", ser, "asyncio"));
        }
        if !quick {
            instant_clients.push(Client::new("autobahn", "rs", Ser::MsgPack, "asyncio"));
        }
    }
    for &ser in sers.iter().filter(|s| **s != Ser::Cbor) {
        instant_clients.push(Client::new("battler", "ws", ser, "current"));
    }
    for &ser in sers.iter().filter(|s| **s != Ser::Cbor) {
        instant_clients.push(Client::new("wamp-async", "ws", ser, "current"));
    }
    if !quick {
        instant_clients.push(Client::new("wamp-async", "rs", Ser::MsgPack, "current"));
        for imp in ["wamp-client", "battler", "wamp-async"] {
            instant_clients.push(Client::new(imp, "ws", Ser::MsgPack, "multi"));
        }
    }
    let instant_workloads: Vec<Workload> = if quick {
        vec![
            Workload::Seq,
            Workload::Pipe(100),
            Workload::Events,
            Workload::Pub(100),
        ]
    } else {
        vec![
            Workload::Seq,
            Workload::Pipe(100),
            Workload::Pipe(1000),
            Workload::Events,
            Workload::Pub(100),
        ]
    };
    let instant_clients = ctx.filter(instant_clients);
    let mem_runs: Vec<(Client, Workload)> = if ctx.args.only.is_empty()
        || ctx
            .args
            .only
            .iter()
            .any(|o| "wamp-client".contains(o.as_str()))
    {
        let ws_mp = Client::new("wamp-client", "ws", Ser::MsgPack, "current");
        let rs_mp = Client::new("wamp-client", "rs", Ser::MsgPack, "current");
        vec![
            (ws_mp.clone(), Workload::PendingMem(100_000)),
            (ws_mp.clone(), Workload::SubMem(10_000)),
            (ws_mp.clone(), Workload::Burst(100_000)),
            (ws_mp, Workload::BurstCoop(100_000)),
            (rs_mp, Workload::Burst(100_000)),
        ]
    } else {
        Vec::new()
    };

    // ----- target 2: Crossbar.io
    let crossbar_clients = if ctx.args.no_crossbar {
        Vec::new()
    } else {
        let mut c = Vec::new();
        for &ser in sers {
            c.push(Client::new("wamp-client", "ws", ser, "current"));
        }
        for &ser in sers {
            c.push(Client::new("wamp-client", "rs", ser, "current"));
        }
        if ctx.args.python.is_some() {
            for &ser in sers {
                c.push(Client::new("autobahn", "ws", ser, "asyncio"));
            }
        }
        for imp in ["battler", "wamp-async"] {
            for &ser in sers.iter().filter(|s| **s != Ser::Cbor) {
                c.push(Client::new(imp, "ws", ser, "current"));
            }
        }
        ctx.filter(c)
    };
    let crossbar_workloads: Vec<Workload> = if quick {
        vec![Workload::Seq, Workload::Pipe(100)]
    } else {
        vec![
            Workload::Seq,
            Workload::Pipe(100),
            Workload::Events,
            Workload::Pub(100),
        ]
    };

    ctx.total = instant_clients.len() * instant_workloads.len()
        + mem_runs.len()
        + crossbar_clients.len() * crossbar_workloads.len();
    eprintln!(
        "wamp-bench: {} measurements, {:.1} s window + {:.1} s warm-up each",
        ctx.total, ctx.secs, ctx.warmup
    );

    for client in &instant_clients {
        for &w in &instant_workloads {
            let url = if client.transport == "rs" { &rs } else { &ws };
            ctx.measure(
                "instant",
                client,
                w,
                url,
                &[router_pid],
                Duration::from_secs(40),
            );
        }
    }
    for (client, w) in &mem_runs {
        let url = if client.transport == "rs" { &rs } else { &ws };
        ctx.measure(
            "instant",
            client,
            *w,
            url,
            &[router_pid],
            Duration::from_secs(120),
        );
    }
    kill(&mut router);

    if !crossbar_clients.is_empty() {
        match Crossbar::start(&ctx) {
            Ok(cb) => {
                for client in &crossbar_clients {
                    for &w in &crossbar_workloads {
                        let url = if client.transport == "rs" {
                            &cb.rs
                        } else {
                            &cb.ws
                        };
                        let mut publisher = (w == Workload::Events).then(|| cb.publisher(&ctx));
                        let pids = cb.worker_pids.clone();
                        ctx.measure("crossbar", client, w, url, &pids, Duration::from_secs(40));
                        if let Some(p) = publisher.as_mut() {
                            kill(p);
                        }
                    }
                }
                cb.stop();
            }
            Err(e) => eprintln!("wamp-bench: Crossbar.io target skipped: {e}"),
        }
    }

    eprintln!(
        "wamp-bench: done in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    let markdown = render(&ctx, started.elapsed());
    println!("{markdown}");
    if let Some(path) = &ctx.args.json {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = std::fs::write(
            path,
            serde_json::to_string_pretty(&ctx.results).unwrap_or_default(),
        );
    }
    if let Some(path) = &ctx.args.update {
        if let Err(e) = splice(path, &markdown) {
            eprintln!("wamp-bench: could not update {}: {e}", path.display());
            return 1;
        }
        eprintln!("wamp-bench: results written into {}", path.display());
    }
    0
}

impl Ctx {
    fn filter(&self, clients: Vec<Client>) -> Vec<Client> {
        if self.args.only.is_empty() {
            return clients;
        }
        clients
            .into_iter()
            .filter(|c| {
                let label = format!("{} {}", c.imp, c.label());
                self.args.only.iter().any(|o| label.contains(o.as_str()))
            })
            .collect()
    }

    fn measure(
        &mut self,
        target: &str,
        client: &Client,
        w: Workload,
        url: &str,
        peer_pids: &[u32],
        timeout: Duration,
    ) {
        let mut cmd = if client.imp == "autobahn" {
            let mut c = Command::new(self.args.python.as_deref().unwrap_or("python3"));
            c.arg(&self.args.autobahn_script);
            c
        } else {
            let mut c = Command::new(&self.exe);
            c.args([
                "client",
                "--impl",
                &client.imp,
                "--runtime",
                &client.runtime,
            ]);
            c
        };
        cmd.args(["--url", url, "--ser", &client.ser, "--workload", &w.name()]);
        cmd.args([
            "--secs",
            &self.secs.to_string(),
            "--warmup",
            &self.warmup.to_string(),
        ]);
        cmd.args(["--cpu", &CLIENT_CPU.to_string()]);
        for pid in peer_pids {
            cmd.args(["--peer-pid", &pid.to_string()]);
        }
        let result = run_client(cmd, timeout);
        let n = self.results.len() + 1;
        match &result {
            Ok(o) if o.bytes_per_item.is_some() => eprintln!(
                "[{n}/{}] {target} {} {}: {:.0} B per item ({} items)",
                self.total,
                client.label(),
                w.name(),
                o.bytes_per_item.unwrap_or(0.0),
                o.items.unwrap_or(0)
            ),
            Ok(o) => eprintln!(
                "[{n}/{}] {target} {} {}: {:.0}/s, client CPU {:.3} s/100k, router {:.0}% busy{}{}",
                self.total,
                client.label(),
                w.name(),
                o.rate(),
                o.cpu_per_100k().unwrap_or(f64::NAN),
                o.peer_busy() * 100.0,
                if o.errors > 0 {
                    format!(", {} errors", o.errors)
                } else {
                    String::new()
                },
                if o.dropped > 0 {
                    format!(", {} dropped", o.dropped)
                } else {
                    String::new()
                },
            ),
            Err(e) => eprintln!(
                "[{n}/{}] {target} {} {}: FAILED {e}",
                self.total,
                client.label(),
                w.name()
            ),
        }
        self.results.push(Measurement {
            target: target.into(),
            client: client.clone(),
            workload: w.name(),
            result,
        });
    }

    fn get(&self, target: &str, client: &Client, w: &str) -> Option<&Result<Outcome, String>> {
        self.results
            .iter()
            .find(|m| m.target == target && &m.client == client && m.workload == w)
            .map(|m| &m.result)
    }
}

fn run_client(mut cmd: Command, timeout: Duration) -> Result<Outcome, String> {
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(Stdio::null());
    let mut child = cmd.spawn().map_err(|e| format!("spawn: {e}"))?;
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let t = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if t.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(e.to_string()),
        }
    };
    let out = out.join().unwrap_or_default();
    let err = err.join().unwrap_or_default();
    if status.is_none() {
        return Err(format!("timed out after {} s", timeout.as_secs()));
    }
    for line in out.lines() {
        if let Some(json) = line.strip_prefix("RESULT ") {
            return serde_json::from_str(json).map_err(|e| format!("bad result: {e}"));
        }
    }
    let last = err
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no output");
    Err(last.chars().take(160).collect())
}

fn spawn_pinned(cmd: &mut Command, cpu: usize) -> Child {
    // SAFETY: only sched_setaffinity (async-signal-safe) runs between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_ZERO(&mut set);
            libc::CPU_SET(cpu, &mut set);
            libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
            Ok(())
        });
    }
    cmd.stdout(Stdio::piped()).stdin(Stdio::null());
    cmd.spawn().expect("spawn")
}

/// Reads stdout lines of `child` until one starts with `prefix`; returns the rest of it.
fn read_line_with(child: &mut Child, prefix: &str, timeout: Duration) -> Option<String> {
    let stdout = child.stdout.take()?;
    let prefix = prefix.to_owned();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let mut sent = false;
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if !sent {
                        if let Some(rest) = line.strip_prefix(prefix.as_str()) {
                            let _ = tx.send(rest.trim().to_owned());
                            sent = true;
                        }
                    }
                }
            }
        }
    });
    rx.recv_timeout(timeout).ok()
}

fn kill(child: &mut Child) {
    // SIGTERM first, so scripts can clean up; then SIGKILL.
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(8) {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

struct Crossbar {
    process: Child,
    callee: Child,
    ws: String,
    rs: String,
    worker_pids: Vec<u32>,
}

impl Crossbar {
    fn start(ctx: &Ctx) -> Result<Crossbar, String> {
        let (ws_port, rs_port, auth_port) = (free_port(), free_port(), free_port());
        let mut cmd = Command::new("bash");
        cmd.arg(&ctx.args.crossbar).arg("run");
        cmd.args(["--ws-port", &ws_port.to_string()]);
        cmd.args(["--rawsocket-port", &rs_port.to_string()]);
        cmd.args(["--rawsocket-auth-port", &auth_port.to_string()]);
        cmd.args(["--watch-pid", &std::process::id().to_string()]);
        eprintln!("wamp-bench: starting Crossbar.io (pinned to CPU {ROUTER_CPU})");
        let mut process = spawn_pinned(&mut cmd, ROUTER_CPU);
        if read_line_with(&mut process, "ready", Duration::from_secs(180)).is_none() {
            kill(&mut process);
            return Err("Crossbar.io did not print its ready line".into());
        }
        let worker_pids = crossbar_workers(process.id());
        if worker_pids.is_empty() {
            eprintln!("wamp-bench: no Crossbar worker process found; router CPU not measured");
        }
        let rs = format!("rs://127.0.0.1:{rs_port}");
        let ws = format!("ws://127.0.0.1:{ws_port}/ws");
        let mut callee = spawn_pinned(
            Command::new(&ctx.exe).args(["helper", "callee", "--url", &rs, "--ser", "msgpack"]),
            ROUTER_CPU,
        );
        if read_line_with(&mut callee, "ready", Duration::from_secs(20)).is_none() {
            kill(&mut callee);
            kill(&mut process);
            return Err("the bench.echo callee did not start".into());
        }
        Ok(Crossbar {
            process,
            callee,
            ws,
            rs,
            worker_pids,
        })
    }

    fn publisher(&self, ctx: &Ctx) -> Child {
        let mut p = spawn_pinned(
            Command::new(&ctx.exe).args([
                "helper",
                "publisher",
                "--url",
                &self.rs,
                "--ser",
                "msgpack",
            ]),
            ROUTER_CPU,
        );
        let _ = read_line_with(&mut p, "ready", Duration::from_secs(20));
        p
    }

    fn stop(mut self) {
        kill(&mut self.callee);
        kill(&mut self.process);
    }
}

/// The Crossbar router worker processes below `root` (the launcher script).
fn crossbar_workers(root: u32) -> Vec<u32> {
    let mut parent: BTreeMap<u32, u32> = BTreeMap::new();
    let mut cmdline: BTreeMap<u32, String> = BTreeMap::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            let Some(rest) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
                continue;
            };
            if let Some(ppid) = rest.split_whitespace().nth(1).and_then(|s| s.parse().ok()) {
                parent.insert(pid, ppid);
            }
            let cl = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            cmdline.insert(pid, String::from_utf8_lossy(&cl).replace('\0', " "));
        }
    }
    let descends = |mut pid: u32| {
        for _ in 0..16 {
            match parent.get(&pid) {
                Some(&p) if p == root => return true,
                Some(&p) if p > 1 => pid = p,
                _ => return false,
            }
        }
        false
    };
    cmdline
        .iter()
        .filter(|(pid, cl)| cl.contains("RouterController") && descends(**pid))
        .map(|(pid, _)| *pid)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Report

fn fmt_rate(r: f64) -> String {
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

fn machine() -> String {
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

fn today() -> String {
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

fn render(ctx: &Ctx, took: Duration) -> String {
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
    let peers: [(&str, &str, f64); 4] = [
        ("raw", "current", 0.85),
        ("autobahn", "asyncio", 10.0),
        ("battler", "current", 1.0),
        ("wamp-async", "current", 1.0),
    ];
    for transport in ["ws", "rs"] {
        for ser in ["json", "msgpack", "cbor"] {
            let ours = Client {
                imp: "wamp-client".into(),
                transport: transport.into(),
                ser: ser.into(),
                runtime: "current".into(),
            };
            for w in ["pipe100", "pipe1k"] {
                let Some(o) = rate_of(ctx, "instant", &ours, w) else {
                    continue;
                };
                let mut cells = Vec::new();
                for (imp, rt, goal) in peers {
                    let peer = Client {
                        imp: imp.into(),
                        transport: transport.into(),
                        ser: ser.into(),
                        runtime: rt.into(),
                    };
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
    if !ratios.is_empty() {
        let _ = writeln!(
            md,
            "### Ratios: wamp-client's pipelined calls against the instant router, same run\n\n\
             First figure: wamp-client's calls/s ÷ the other client's. In parentheses: the same \
             ratio computed from CPU per call (the other's CPU s/100k ÷ wamp-client's): the \
             throughput ratio if both were CPU-bound, and the steadier of the two on this shared \
             machine. Goals: ≥ 0.85x raw frames, ≥ 10x Autobahn\\|Python, ≥ 1x every Rust peer \
             (all on a current-thread runtime).\n\n\
             | transport, serializer | workload | wamp-client calls/s · CPU | vs raw frames (≥ 0.85x) | vs Autobahn\\|Python (≥ 10x) | vs battler-wamp (≥ 1x) | vs wamp_async (≥ 1x) |\n\
             |---|---|---|---|---|---|---|"
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
            "### Memory and 100k pending calls (wamp-client, instant router)\n\n\
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
             (goal: ≤ 0.25). The callee of `bench.echo` is a wamp-client process over \
             RawSocket+msgpack; events come from a wamp-client publisher with 100 acknowledged \
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

fn splice(path: &PathBuf, markdown: &str) -> std::io::Result<()> {
    let text = std::fs::read_to_string(path)?;
    let (Some(b), Some(e)) = (text.find(BEGIN), text.find(END)) else {
        return Err(std::io::Error::other(format!(
            "markers {BEGIN} / {END} not found"
        )));
    };
    let new = format!("{}{BEGIN}\n{}{}", &text[..b], markdown, &text[e..]);
    std::fs::write(path, new)
}
