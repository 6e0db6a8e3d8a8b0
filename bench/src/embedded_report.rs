//! The tables of `wamp-bench embedded`: the embedded router's throughput and CPU per operation
//! next to Crossbar.io's, the ratio per router core, and the memory per idle session.

use std::fmt::Write as _;
use std::time::Duration;

use crate::codec::Ser;
use crate::orchestrate::{Client, Ctx, Outcome};
use crate::report::{fmt_rate, machine, today};

pub const BEGIN: &str = "<!-- embedded:begin -->";
pub const END: &str = "<!-- embedded:end -->";

/// The goal: the embedded router's calls per router core-second over Crossbar.io's.
const GOAL: f64 = 20.0;

fn outcome<'a>(ctx: &'a Ctx, target: &str, client: &Client, w: &str) -> Option<&'a Outcome> {
    match ctx.get(target, client, w) {
        Some(Ok(o)) if o.ops > 0 && o.errors * 20 <= o.ops => Some(o),
        _ => None,
    }
}

/// The router's CPU seconds in the window: the router process's, or for in-process links the
/// whole process's (router, clients and callee together).
fn router_cpu(client: &Client, o: &Outcome) -> f64 {
    if client.imp == "in-process" {
        o.cpu
    } else {
        o.peer_cpu
    }
}

/// Operations per second of router CPU.
fn per_core(client: &Client, o: &Outcome) -> Option<f64> {
    let cpu = router_cpu(client, o);
    (cpu > 0.0).then(|| o.ops as f64 / cpu)
}

fn cell(ctx: &Ctx, target: &str, client: &Client, w: &str) -> String {
    match (ctx.get(target, client, w), outcome(ctx, target, client, w)) {
        (_, Some(o)) => {
            let cpu = router_cpu(client, o) / o.ops as f64 * 1e5;
            let mut text = format!("{} · {cpu:.2}", fmt_rate(o.rate()));
            if o.errors > 0 {
                let _ = write!(text, " ({} errors)", o.errors);
            }
            text
        }
        (Some(Err(e)), None) => format!("fails: {}", e.chars().take(60).collect::<String>()),
        _ => "-".into(),
    }
}

fn latency(ctx: &Ctx, target: &str, client: &Client) -> String {
    outcome(ctx, target, client, "seq")
        .and_then(|o| o.p50_us)
        .map_or("-".into(), |p| format!("{p:.0} µs"))
}

fn clients(sers: &[Ser]) -> Vec<(&'static str, Client)> {
    let mut rows = Vec::new();
    for &ser in sers {
        rows.push((
            "embedded",
            Client::new("in-process", "memory", ser, "current"),
        ));
        for transport in ["ws", "rs"] {
            rows.push((
                "embedded",
                Client::new("wampkit", transport, ser, "current"),
            ));
        }
    }
    for &ser in sers {
        for transport in ["ws", "rs"] {
            rows.push((
                "crossbar",
                Client::new("wampkit", transport, ser, "current"),
            ));
        }
    }
    rows
}

fn link(target: &str, client: &Client) -> String {
    let router = if target == "crossbar" {
        "Crossbar.io"
    } else {
        "wamp-router"
    };
    let link = match client.transport.as_str() {
        "memory" => "in-process",
        "ws" => "loopback ws://",
        _ => "loopback rs://",
    };
    format!("{router} | {link} | {}", client.ser)
}

pub fn render(ctx: &Ctx, sers: &[Ser], took: Duration) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "Measured {} on {}.\nCommand: `bench/target/release/wamp-bench embedded --secs {} \
         --warmup {} --update BENCHMARKS.md` (the run took {:.0} s).\n",
        today(),
        machine(),
        ctx.secs,
        ctx.warmup,
        took.as_secs_f64()
    );
    md.push_str(
        "Each cell: operations per second · router CPU seconds per 100,000 operations (for \
         in-process links: the whole process's CPU, router, callee or publisher and client \
         together, on one thread). Loopback: the router alone in its process on CPU 1; the \
         measured wampkit on CPU 0; the `bench.echo` callee and the event publisher \
         (wampkit, RawSocket, MessagePack) on CPU 1 beside the router.\n\n",
    );
    md.push_str(
        "| router | link | serializer | calls, 1 outstanding | latency p50 | calls, 100 outstanding | \
         calls per router core-second | event intake | events per router core-second | acked \
         publish, 100 outstanding |\n|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for (target, client) in clients(sers) {
        let core = |w: &str| {
            outcome(ctx, target, &client, w)
                .and_then(|o| per_core(&client, o))
                .map_or("-".into(), fmt_rate)
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            link(target, &client),
            cell(ctx, target, &client, "seq"),
            latency(ctx, target, &client),
            cell(ctx, target, &client, "pipe100"),
            core("pipe100"),
            cell(ctx, target, &client, "events"),
            core("events"),
            cell(ctx, target, &client, "pub100"),
        );
    }

    let _ = writeln!(
        md,
        "\n**Per router core, wamp-router ÷ Crossbar.io** (calls with 100 outstanding and event \
         intake, same client, link and serializer; goal ≥ {GOAL:.0}x for calls):\n"
    );
    md.push_str(
        "| wamp-router link | serializer | calls per core | events per core |\n|---|---|---|---|\n",
    );
    let fmt_ratio = |r: Option<f64>, goal: Option<f64>| match (r, goal) {
        (Some(r), Some(goal)) => format!("{r:.1}x {}", if r >= goal { "✓" } else { "✗" }),
        (Some(r), None) => format!("{r:.1}x"),
        (None, _) => "-".into(),
    };
    for &ser in sers {
        for transport in ["memory", "ws", "rs"] {
            let ours = if transport == "memory" {
                Client::new("in-process", "memory", ser, "current")
            } else {
                Client::new("wampkit", transport, ser, "current")
            };
            // In-process links are held against Crossbar.io's better link, RawSocket.
            let theirs_transport = if transport == "memory" {
                "rs"
            } else {
                transport
            };
            let theirs = Client::new("wampkit", theirs_transport, ser, "current");
            let ratio = |w: &str| {
                let a = outcome(ctx, "embedded", &ours, w).and_then(|o| per_core(&ours, o))?;
                let b = outcome(ctx, "crossbar", &theirs, w).and_then(|o| per_core(&theirs, o))?;
                (b > 0.0).then(|| a / b)
            };
            let link = match transport {
                "memory" => "in-process (whole process) vs Crossbar.io rs://",
                "ws" => "loopback ws://",
                _ => "loopback rs://",
            };
            let _ = writeln!(
                md,
                "| {link} | {} | {} | {} |",
                ours.ser,
                fmt_ratio(ratio("pipe100"), Some(GOAL)),
                fmt_ratio(ratio("events"), None)
            );
        }
    }

    md.push_str(
        "\n**Memory per idle session** (RSS growth over 1000 joined sessions that do nothing; \
         in-process: this process's RSS after `malloc_trim`, with a raw client on the other end \
         of each link, then with whole wampkit sessions; loopback: the router process's RSS, \
         1000 wampkit sessions in the client process):\n\n",
    );
    md.push_str("| link | serializer | bytes per idle session | note |\n|---|---|---|---|\n");
    for (target, client) in clients(sers) {
        if target != "embedded" {
            continue;
        }
        if let Some(Ok(o)) = ctx.get(target, &client, "idle-sessions1k") {
            let _ = writeln!(
                md,
                "| {} | {} | {:.0} B | {} |",
                link(target, &client)
                    .split(" | ")
                    .nth(1)
                    .unwrap_or_default(),
                client.ser,
                o.bytes_per_item.unwrap_or(f64::NAN),
                o.note.clone().unwrap_or_default()
            );
        }
    }
    md
}
