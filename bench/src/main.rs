//! `wamp-bench`: benchmarks of wampkit against raw frames, Autobahn|Python, battler-wamp and
//! wamp_async, on Crossbar.io and on an instant scripted router. See BENCHMARKS.md.
//!
//! ```text
//! wamp-bench run [--quick]          everything, one process per measurement (bench/run.sh)
//! wamp-bench router [--cpu 1]       the instant router; prints "listening PORT"
//! wamp-bench client --impl wampkit --url ws://127.0.0.1:PORT/ws --ser msgpack --workload pipe100
//! ```

mod c_battler;
mod c_raw;
mod c_raw_task;
mod c_wamp;
mod c_wamp_async;
mod codec;
mod embedded;
mod embedded_report;
mod measure;
mod orchestrate;
mod processes;
mod report;
mod router;
mod workload;

use std::time::Duration;

use clap::{Parser, Subcommand};

use codec::Ser;
use measure::Spec;
use workload::Workload;

#[derive(Parser)]
#[command(about = "Benchmarks of wampkit against the alternatives (see BENCHMARKS.md)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs every measurement and prints (and optionally writes) the results tables.
    Run(orchestrate::RunArgs),
    /// The embedded router (wampkit-router) against Crossbar.io: in-process, over loopback, and
    /// memory per idle session.
    Embedded(orchestrate::RunArgs),
    /// Runs the embedded router on loopback until killed; prints "listening WS-URL RS-URL".
    EmbeddedRouter {
        /// CPU to pin the router to.
        #[arg(long)]
        cpu: Option<usize>,
    },
    /// Runs the instant router until killed; prints "listening PORT".
    Router {
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// CPU to pin the router to.
        #[arg(long)]
        cpu: Option<usize>,
    },
    /// Runs one workload with one client and prints `RESULT {json}`.
    Client(ClientArgs),
    /// Crossbar helpers: `callee` registers bench.echo; `publisher` floods bench.flood.
    Helper {
        role: String,
        #[arg(long)]
        url: String,
        #[arg(long, default_value = "msgpack")]
        ser: String,
        #[arg(long)]
        cpu: Option<usize>,
    },
}

#[derive(clap::Args, Clone)]
pub struct ClientArgs {
    /// wampkit, in-process, raw, raw-task, raw-task-read (events over MessagePack), battler,
    /// wamp-async
    #[arg(long = "impl")]
    imp: String,
    #[arg(long)]
    url: String,
    #[arg(long, default_value = "msgpack")]
    ser: String,
    /// seq, pipeN, events, pubN, pending-memN, sub-memN, burstN (N may end in k)
    #[arg(long)]
    workload: String,
    #[arg(long, default_value_t = 2.0)]
    secs: f64,
    #[arg(long, default_value_t = 0.5)]
    warmup: f64,
    /// Router processes whose CPU time is reported as peer_cpu.
    #[arg(long = "peer-pid")]
    peer_pid: Vec<u32>,
    #[arg(long)]
    cpu: Option<usize>,
    /// current (a current-thread Tokio runtime) or multi (multi-threaded, 2 workers)
    #[arg(long, default_value = "current")]
    runtime: String,
}

fn runtime(kind: &str) -> tokio::runtime::Runtime {
    let mut builder = if kind == "multi" {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(2);
        b
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    builder.enable_all().build().expect("runtime")
}

fn main() {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => std::process::exit(orchestrate::run(args)),
        Command::Embedded(args) => std::process::exit(embedded::run(args)),
        Command::EmbeddedRouter { cpu } => {
            if let Some(cpu) = cpu {
                measure::pin_to_cpu(cpu);
            }
            if let Err(e) = runtime("current").block_on(embedded::serve()) {
                eprintln!("error: {e}");
                std::process::exit(1);
            }
        }
        Command::Router { port, cpu } => {
            if let Some(cpu) = cpu {
                measure::pin_to_cpu(cpu);
            }
            let rt = runtime("current");
            let local = tokio::task::LocalSet::new();
            local.block_on(&rt, async move {
                let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
                    .await
                    .expect("bind");
                println!("listening {}", listener.local_addr().expect("addr").port());
                router::serve(listener).await;
            });
        }
        Command::Client(args) => {
            if let Some(cpu) = args.cpu {
                measure::pin_to_cpu(cpu);
            }
            let rt = runtime(&args.runtime);
            let result = rt.block_on(client(args));
            match result {
                Ok(report) => {
                    report.print();
                    std::process::exit(0);
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    std::process::exit(1);
                }
            }
        }
        Command::Helper {
            role,
            url,
            ser,
            cpu,
        } => {
            if let Some(cpu) = cpu {
                measure::pin_to_cpu(cpu);
            }
            let ser = Ser::parse(&ser).expect("serializer");
            let rt = runtime("current");
            let r = rt.block_on(async {
                match role.as_str() {
                    "callee" => c_wamp::callee(&url, ser).await,
                    "publisher" => c_wamp::publisher(&url, ser, 100).await,
                    _ => Err(format!("unknown helper {role}")),
                }
            });
            if let Err(e) = r {
                eprintln!("error: {e}");
                std::process::exit(1);
            }
        }
    }
}

async fn client(args: ClientArgs) -> Result<measure::Report, String> {
    let ser = Ser::parse(&args.ser).ok_or("unknown serializer")?;
    let workload = Workload::parse(&args.workload).ok_or("unknown workload")?;
    let spec = Spec {
        warmup: Duration::from_secs_f64(args.warmup),
        secs: Duration::from_secs_f64(args.secs),
        peer_pids: args.peer_pid.clone(),
    };
    let url = args.url.as_str();
    match args.imp.as_str() {
        "wampkit" => c_wamp::run(url, ser, workload, spec).await,
        "in-process" => embedded::in_process(ser, workload, spec).await,
        "raw" => c_raw::run(url, ser, workload, spec).await,
        "raw-task" => c_raw_task::run(url, ser, workload, spec).await,
        "raw-task-read" => c_raw_task::run_reading(url, ser, workload, spec, true).await,
        "battler" => c_battler::run(url, ser, workload, spec).await,
        "wamp-async" => c_wamp_async::run(url, ser, workload, spec).await,
        other => Err(format!("unknown client {other}")),
    }
}
