//! `wamp-bench run`: starts the instant router and Crossbar.io, runs every client on every
//! workload (one client process per measurement, pinned to CPU 0; routers pinned to CPU 1),
//! prints the tables and splices them into BENCHMARKS.md.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::codec::Ser;
use crate::processes::{Crossbar, kill, read_line_with, spawn_pinned};
use crate::report::{render, splice};
use crate::workload::Workload;

#[derive(clap::Args, Clone)]
pub struct RunArgs {
    /// A short run: fewer clients, serializers and workloads, shorter windows.
    #[arg(long)]
    pub(crate) quick: bool,
    /// Python with Autobahn (the Crossbar venv's); without it Autobahn is skipped.
    #[arg(long)]
    pub(crate) python: Option<String>,
    /// The Autobahn bench script.
    #[arg(long, default_value = "bench/autobahn_bench.py")]
    pub(crate) autobahn_script: String,
    /// The Crossbar.io launcher; without Crossbar the Crossbar target is skipped.
    #[arg(long, default_value = "scripts/crossbar.sh")]
    pub(crate) crossbar: String,
    #[arg(long)]
    pub(crate) no_crossbar: bool,
    /// Measured window per measurement, seconds.
    #[arg(long)]
    pub(crate) secs: Option<f64>,
    /// Warm-up before each window, seconds.
    #[arg(long)]
    pub(crate) warmup: Option<f64>,
    /// Only rows whose label contains one of these (e.g. "wampkit", "raw").
    #[arg(long)]
    pub(crate) only: Vec<String>,
    /// Replace the results section (between the markers) of this markdown file.
    #[arg(long)]
    pub(crate) update: Option<PathBuf>,
    /// Write every raw measurement here as JSON.
    #[arg(long)]
    pub(crate) json: Option<PathBuf>,
    /// The command line shown in the report.
    #[arg(long, default_value = "bench/run.sh")]
    pub(crate) command: String,
}

/// One client configuration: implementation, transport, serializer, runtime.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Client {
    pub(crate) imp: String,
    pub(crate) transport: String,
    pub(crate) ser: String,
    pub(crate) runtime: String,
}

impl Client {
    pub(crate) fn new(imp: &str, transport: &str, ser: Ser, runtime: &str) -> Self {
        Client {
            imp: imp.into(),
            transport: transport.into(),
            ser: ser.name().into(),
            runtime: runtime.into(),
        }
    }
    pub(crate) fn name(&self) -> String {
        let base = match self.imp.as_str() {
            "wampkit" => "wampkit",
            "raw" => "raw frames",
            "raw-task" => "raw frames, connection task",
            "raw-task-read" => "raw frames, connection task, least reading",
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
    pub(crate) fn label(&self) -> String {
        format!("{} {} {}", self.name(), self.transport, self.ser)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, Default)]
pub(crate) struct Outcome {
    pub(crate) ops: u64,
    pub(crate) secs: f64,
    pub(crate) cpu: f64,
    pub(crate) peer_cpu: f64,
    pub(crate) p50_us: Option<f64>,
    pub(crate) p99_us: Option<f64>,
    pub(crate) errors: u64,
    pub(crate) dropped: u64,
    pub(crate) bytes_per_item: Option<f64>,
    pub(crate) items: Option<u64>,
    pub(crate) note: Option<String>,
}

impl Outcome {
    pub(crate) fn rate(&self) -> f64 {
        if self.secs > 0.0 {
            self.ops as f64 / self.secs
        } else {
            0.0
        }
    }
    /// Client CPU seconds per 100,000 operations.
    pub(crate) fn cpu_per_100k(&self) -> Option<f64> {
        (self.ops > 0).then(|| self.cpu / self.ops as f64 * 1e5)
    }
    pub(crate) fn peer_cpu_per_100k(&self) -> Option<f64> {
        (self.ops > 0).then(|| self.peer_cpu / self.ops as f64 * 1e5)
    }
    /// Share of one core the router used over the window.
    pub(crate) fn peer_busy(&self) -> f64 {
        if self.secs > 0.0 {
            self.peer_cpu / self.secs
        } else {
            0.0
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Measurement {
    pub(crate) target: String,
    pub(crate) client: Client,
    pub(crate) workload: String,
    pub(crate) result: Result<Outcome, String>,
}

pub(crate) struct Ctx {
    pub(crate) args: RunArgs,
    pub(crate) exe: PathBuf,
    pub(crate) secs: f64,
    pub(crate) warmup: f64,
    pub(crate) results: Vec<Measurement>,
    pub(crate) total: usize,
}

const CLIENT_CPU: usize = 0;
pub(crate) const ROUTER_CPU: usize = 1;

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
        instant_clients.push(Client::new("wampkit", "ws", ser, "current"));
    }
    for &ser in sers {
        instant_clients.push(Client::new("wampkit", "rs", ser, "current"));
    }
    for &ser in sers {
        instant_clients.push(Client::new("raw", "ws", ser, "current"));
    }
    for &ser in sers {
        instant_clients.push(Client::new("raw", "rs", ser, "current"));
    }
    for transport in ["ws", "rs"] {
        for &ser in sers {
            instant_clients.push(Client::new("raw-task", transport, ser, "current"));
        }
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
        for imp in ["wampkit", "battler", "wamp-async"] {
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
    // The least a WAMP client with a connection task must read of an event, over MessagePack.
    let reading_floor = ctx.filter(vec![Client::new(
        "raw-task-read",
        "ws",
        Ser::MsgPack,
        "current",
    )]);
    let mem_runs: Vec<(Client, Workload)> = if ctx.args.only.is_empty()
        || ctx.args.only.iter().any(|o| "wampkit".contains(o.as_str()))
    {
        let ws_mp = Client::new("wampkit", "ws", Ser::MsgPack, "current");
        let rs_mp = Client::new("wampkit", "rs", Ser::MsgPack, "current");
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
            c.push(Client::new("wampkit", "ws", ser, "current"));
        }
        for &ser in sers {
            c.push(Client::new("wampkit", "rs", ser, "current"));
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
        + reading_floor.len()
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
    for client in &reading_floor {
        ctx.measure(
            "instant",
            client,
            Workload::Events,
            &ws,
            &[router_pid],
            Duration::from_secs(40),
        );
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

    pub(crate) fn measure(
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

    pub(crate) fn get(
        &self,
        target: &str,
        client: &Client,
        w: &str,
    ) -> Option<&Result<Outcome, String>> {
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
