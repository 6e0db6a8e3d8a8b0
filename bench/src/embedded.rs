//! The embedded router (wampkit-router) against Crossbar.io: calls and events per second and per
//! router core, served from a process of its own over loopback (`ws://`, `rs://`) and in the
//! measuring process itself (in-process links); and the memory each idle session costs it.
//!
//! ```text
//! wamp-bench embedded [--no-crossbar] [--update BENCHMARKS.md]   the whole comparison
//! wamp-bench embedded-router --cpu 1                              prints "listening WS RS"
//! wamp-bench client --impl in-process --url - --workload pipe100  everything in one process
//! ```

use std::process::Command;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use wampkit::router::Router;
use wampkit::transport::memory;
use wampkit::wire::Message;
use wampkit::{Dict, Serializer, Session, Value};

use crate::c_wamp;
use crate::codec::Ser;
use crate::measure::{Report, Spec, pid_rss, rss_held};
use crate::orchestrate::{Client, Ctx, ROUTER_CPU, RunArgs};
use crate::processes::{Crossbar, kill, read_line_with, spawn_pinned};
use crate::report;
use crate::workload::{ECHO, REALM, Workload};

/// A router with the bench realm.
fn router() -> Router {
    Router::builder().realm(REALM).build()
}

/// `wamp-bench embedded-router`: listens on loopback WebSocket and RawSocket, ports chosen by
/// the system, until killed.
pub async fn serve() -> Result<(), String> {
    let router = router();
    let ws = router
        .listen("ws://127.0.0.1:0/ws")
        .await
        .map_err(|e| e.to_string())?;
    let rs = router
        .listen("rs://127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    println!("listening {} {}", ws.url(), rs.url());
    std::future::pending::<()>().await;
    Ok(())
}

fn serializer(ser: Ser) -> Serializer {
    match ser {
        Ser::Json => Serializer::Json,
        Ser::MsgPack => Serializer::MsgPack,
        Ser::Cbor => Serializer::Cbor,
    }
}

async fn join(router: &Router, ser: Ser) -> Result<Session, String> {
    let builder = Session::builder("memory://bench", REALM).serializer(serializer(ser));
    router.join(builder).await.map_err(|e| format!("join: {e}"))
}

/// `client --impl in-process`: the router, the callee or publisher and the measured client all
/// in this process (one thread on the default runtime), so its CPU time is theirs together.
pub async fn in_process(ser: Ser, workload: Workload, spec: Spec) -> Result<Report, String> {
    let router = router();
    match workload {
        Workload::IdleSessions(n) => return idle_in_process(&router, ser, n).await,
        Workload::Events => {
            let publisher = join(&router, ser).await?;
            tokio::spawn(async move { c_wamp::publish_flood(&publisher, 10).await });
        }
        Workload::Seq | Workload::Pipe(_) | Workload::Burst(_) | Workload::BurstCoop(_) => {
            let callee = join(&router, ser).await?;
            let registration = callee
                .register(ECHO, c_wamp::echo)
                .await
                .map_err(|e| format!("register: {e}"))?;
            std::mem::forget(registration);
            std::mem::forget(callee);
        }
        _ => {}
    }
    let session = join(&router, ser).await?;
    let mut report = c_wamp::run_on(session, workload, spec).await?;
    let dropped: u64 = router
        .realm(REALM)
        .map(|realm| realm.sessions().iter().map(|s| s.dropped_events).sum())
        .unwrap_or(0);
    if dropped > 0 {
        report.note = Some(format!(
            "the router dropped {dropped} events for a slow reader"
        ));
    }
    Ok(report)
}

/// RSS growth per idle in-process session: first the router's side alone (a raw client that
/// sent HELLO and read WELCOME over an in-memory link), then whole wampkit sessions.
async fn idle_in_process(router: &Router, ser: Ser, n: usize) -> Result<Report, String> {
    let serializer = serializer(ser);
    let hello = serializer
        .encode(&hello())
        .map_err(|e| format!("encode: {e}"))?;
    let mut links = Vec::with_capacity(n);
    let before = rss_held();
    for _ in 0..n {
        let (mut client, server) = memory::duplex(memory::DEFAULT_CAPACITY);
        router.serve(server, serializer, "bench");
        client
            .send(bytes::Bytes::from(hello.clone()))
            .await
            .map_err(|e| format!("send: {e}"))?;
        match client.next().await {
            Some(Ok(_welcome)) => links.push(client),
            _ => return Err("no WELCOME".into()),
        }
    }
    let raw = rss_held().saturating_sub(before) as f64 / n as f64;
    // The same sessions once each has been sent some traffic: 8 answers listing every session
    // id (about 9 KB each for 1000 sessions), then idle again.
    let list = serializer
        .encode(&Message::Call {
            request: 1,
            options: Dict::new(),
            procedure: "wamp.session.list".into(),
            payload: wampkit::wire::Payload::Empty,
        })
        .map_err(|e| format!("encode: {e}"))?;
    let mut answered = 0usize;
    for link in &mut links {
        for _ in 0..8 {
            link.send(bytes::Bytes::from(list.clone()))
                .await
                .map_err(|e| format!("send: {e}"))?;
            if let Some(Ok(answer)) = link.next().await {
                answered += answer.len();
            }
        }
    }
    let after_traffic = rss_held().saturating_sub(before) as f64 / n as f64;
    let mut sessions = Vec::with_capacity(n);
    let before = rss_held();
    for _ in 0..n {
        sessions.push(join(router, ser).await?);
    }
    let whole = rss_held().saturating_sub(before) as f64 / n as f64;
    Ok(Report {
        ops: n as u64,
        bytes_per_item: Some(raw),
        items: Some(n as u64),
        note: Some(format!(
            "{after_traffic:.0} B once each session was sent {:.0} KB (8 answers); {whole:.0} B \
             with a whole wampkit session on the client end of each link",
            answered as f64 / n as f64 / 1000.0
        )),
        ..Report::default()
    })
}

/// A HELLO with the four client roles.
fn hello() -> Message {
    let mut roles = Dict::new();
    for role in ["caller", "callee", "publisher", "subscriber"] {
        roles.insert(role.into(), Value::Dict(Dict::new()));
    }
    let mut details = Dict::new();
    details.insert("roles".into(), Value::Dict(roles));
    Message::Hello {
        realm: REALM.into(),
        details,
    }
}

/// `client --workload idle-sessionsN` over a socket: the router process's RSS growth per idle
/// wampkit session (the first `--peer-pid`).
pub async fn idle_over_socket(url: &str, ser: Ser, n: usize, spec: Spec) -> Result<Report, String> {
    let router = *spec
        .peer_pids
        .first()
        .ok_or("no --peer-pid for the router")?;
    // One warm session first, so that the router's one-time allocations are not counted.
    let warm = c_wamp::connect(url, ser).await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = pid_rss(router).ok_or("cannot read the router's RSS")?;
    let mut sessions = Vec::with_capacity(n);
    for _ in 0..n {
        sessions.push(c_wamp::connect(url, ser).await?);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = pid_rss(router).ok_or("cannot read the router's RSS")?;
    drop(warm);
    Ok(Report {
        ops: n as u64,
        bytes_per_item: Some(after.saturating_sub(before) as f64 / n as f64),
        items: Some(n as u64),
        note: Some(format!(
            "router RSS {:.1} → {:.1} MiB",
            before as f64 / 1048576.0,
            after as f64 / 1048576.0
        )),
        ..Report::default()
    })
}

/// Starts `wamp-bench embedded-router` on the router's CPU: the process and its two URLs.
fn start_router(ctx: &Ctx) -> Option<(std::process::Child, String, String)> {
    let mut router = spawn_pinned(
        Command::new(&ctx.exe).args(["embedded-router", "--cpu", &ROUTER_CPU.to_string()]),
        ROUTER_CPU,
    );
    let urls = read_line_with(&mut router, "listening ", Duration::from_secs(10));
    match urls.as_deref().and_then(|l| l.split_once(' ')) {
        Some((ws, rs)) => Some((router, ws.to_owned(), rs.to_owned())),
        None => {
            kill(&mut router);
            None
        }
    }
}

const IDLE: Workload = Workload::IdleSessions(1000);
const THROUGHPUT: [Workload; 4] = [
    Workload::Seq,
    Workload::Pipe(100),
    Workload::Events,
    Workload::Pub(100),
];

/// `wamp-bench embedded`: every measurement of the comparison, then the table.
pub fn run(args: RunArgs) -> i32 {
    let exe = std::env::current_exe().expect("current exe");
    let started = std::time::Instant::now();
    let mut ctx = Ctx {
        secs: args.secs.unwrap_or(1.5),
        warmup: args.warmup.unwrap_or(0.4),
        args,
        exe,
        results: Vec::new(),
        total: 0,
    };
    let sers = [Ser::MsgPack, Ser::Json];
    let crossbar = !ctx.args.no_crossbar;
    ctx.total = sers.len() * (THROUGHPUT.len() * (3 + 2 * usize::from(crossbar)) + 3);
    eprintln!(
        "wamp-bench embedded: {} measurements, {:.1} s window + {:.1} s warm-up each",
        ctx.total, ctx.secs, ctx.warmup
    );

    // In-process: one process, router and clients on one core.
    for ser in sers {
        let client = Client::new("in-process", "memory", ser, "current");
        for w in THROUGHPUT.into_iter().chain([IDLE]) {
            ctx.measure("embedded", &client, w, "-", &[], Duration::from_secs(60));
        }
    }

    // Over loopback: the router in its own process on its own core.
    match start_router(&ctx) {
        Some((mut router, ws, rs)) => {
            let pids = [router.id()];
            let mut callee = spawn_pinned(
                Command::new(&ctx.exe).args(["helper", "callee", "--url", &rs]),
                ROUTER_CPU,
            );
            let _ = read_line_with(&mut callee, "ready", Duration::from_secs(20));
            for ser in sers {
                for (transport, url) in [("ws", &ws), ("rs", &rs)] {
                    let client = Client::new("wampkit", transport, ser, "current");
                    for w in THROUGHPUT {
                        let mut publisher = (w == Workload::Events).then(|| {
                            let mut p = spawn_pinned(
                                Command::new(&ctx.exe).args(["helper", "publisher", "--url", &rs]),
                                ROUTER_CPU,
                            );
                            let _ = read_line_with(&mut p, "ready", Duration::from_secs(20));
                            p
                        });
                        ctx.measure("embedded", &client, w, url, &pids, Duration::from_secs(60));
                        if let Some(p) = publisher.as_mut() {
                            kill(p);
                        }
                    }
                }
            }
            kill(&mut callee);
            kill(&mut router);
        }
        None => eprintln!("wamp-bench embedded: the router did not listen; loopback skipped"),
    }
    // Memory: a fresh router process for each run, so that none reuses another's freed memory.
    for ser in sers {
        for transport in ["ws", "rs"] {
            if transport == "ws" && ser != Ser::MsgPack {
                continue;
            }
            let Some((mut router, ws, rs)) = start_router(&ctx) else {
                continue;
            };
            let url = if transport == "ws" { ws } else { rs };
            let client = Client::new("wampkit", transport, ser, "current");
            let pids = [router.id()];
            ctx.measure(
                "embedded",
                &client,
                IDLE,
                &url,
                &pids,
                Duration::from_secs(120),
            );
            kill(&mut router);
        }
    }

    if crossbar {
        match Crossbar::start(&ctx) {
            Ok(cb) => {
                for ser in sers {
                    for (transport, url) in [("ws", cb.ws.clone()), ("rs", cb.rs.clone())] {
                        let client = Client::new("wampkit", transport, ser, "current");
                        for w in THROUGHPUT {
                            let mut publisher = (w == Workload::Events).then(|| cb.publisher(&ctx));
                            let pids = cb.worker_pids.clone();
                            ctx.measure(
                                "crossbar",
                                &client,
                                w,
                                &url,
                                &pids,
                                Duration::from_secs(60),
                            );
                            if let Some(p) = publisher.as_mut() {
                                kill(p);
                            }
                        }
                    }
                }
                cb.stop();
            }
            Err(e) => eprintln!("wamp-bench embedded: Crossbar.io skipped: {e}"),
        }
    }

    let markdown = crate::embedded_report::render(&ctx, &sers, started.elapsed());
    println!("{markdown}");
    if let Some(path) = &ctx.args.json {
        let _ = std::fs::write(
            path,
            serde_json::to_string_pretty(&ctx.results).unwrap_or_default(),
        );
    }
    if let Some(path) = &ctx.args.update {
        if let Err(e) = report::splice_between(
            path,
            crate::embedded_report::BEGIN,
            crate::embedded_report::END,
            &markdown,
        ) {
            eprintln!("wamp-bench: could not update {}: {e}", path.display());
            return 1;
        }
        eprintln!("wamp-bench: results written into {}", path.display());
    }
    0
}
