//! What a macro-generated caller stub costs over a hand-written `session.call` of the same
//! procedure. Both call `com.bench.add` on an instant in-process router (so the client's own
//! work dominates), in alternating rounds; the figures are calls per second and their ratio:
//! one call at a time, then 100 outstanding.
//!
//! ```text
//! cargo bench --manifest-path bench/Cargo.toml --bench stub_overhead [-- CALLS_PER_ROUND ROUNDS]
//! ```

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use wamp_testkit::instant_router;
use wampkit::{Session, Value, service};

/// The benchmarked contract.
#[service(prefix = "com.bench")]
pub trait Bench {
    /// Adds two integers.
    async fn add(&self, a: i64, b: i64) -> i64;
}

fn add(_procedure: &str, args: &[Value]) -> Vec<Value> {
    let sum = args.iter().filter_map(Value::as_i64).sum::<i64>();
    vec![Value::from(sum)]
}

async fn hand_written(session: &Session, calls: u32) -> Duration {
    let start = Instant::now();
    for i in 0..calls {
        let sum: i64 = session
            .call("com.bench.add", (i64::from(i), 1))
            .await
            .unwrap()
            .arg(0)
            .unwrap();
        assert_eq!(sum, i64::from(i) + 1);
    }
    start.elapsed()
}

async fn stub(client: &BenchClient, calls: u32) -> Duration {
    let start = Instant::now();
    for i in 0..calls {
        let sum = client.add(i64::from(i), 1).await.unwrap();
        assert_eq!(sum, i64::from(i) + 1);
    }
    start.elapsed()
}

/// Calls still outstanding in the pipelined rounds.
const OUTSTANDING: u32 = 100;

/// `calls` calls with [`OUTSTANDING`] of them in flight, each made by `call(i)`.
async fn pipelined<F: std::future::Future<Output = i64>>(
    calls: u32,
    call: impl Fn(u32) -> F,
) -> Duration {
    let start = Instant::now();
    let mut in_flight = FuturesUnordered::new();
    let mut sent = 0;
    while sent < calls.min(OUTSTANDING) {
        in_flight.push(call(sent));
        sent += 1;
    }
    while let Some(sum) = in_flight.next().await {
        assert!(sum > 0);
        if sent < calls {
            in_flight.push(call(sent));
            sent += 1;
        }
    }
    start.elapsed()
}

/// Prints the medians of both paths' rounds of `calls` calls each, under `title`.
fn report(title: &str, calls: u32, manual: Vec<Duration>, generated: Vec<Duration>) {
    let (manual, generated) = (median(manual), median(generated));
    let rate = |d: Duration| f64::from(calls) / d.as_secs_f64();
    println!("{title} (median):");
    println!(
        "  hand-written session.call: {:>10.0} calls/s",
        rate(manual)
    );
    println!(
        "  generated stub:            {:>10.0} calls/s",
        rate(generated)
    );
    println!(
        "  stub time / hand-written time: {:.3}",
        generated.as_secs_f64() / manual.as_secs_f64()
    );
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let calls: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(7);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let url = instant_router::start(add).await;
        let session = Session::builder(&url, "realm1")
            .serializer(wampkit::Serializer::MsgPack)
            .connect()
            .await
            .unwrap();
        let client = BenchClient::new(&session);
        // Warm up both paths.
        hand_written(&session, calls / 10).await;
        stub(&client, calls / 10).await;
        let (mut manual, mut generated) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            manual.push(hand_written(&session, calls).await);
            generated.push(stub(&client, calls).await);
        }
        report(
            &format!("sequential calls, msgpack, instant router, {calls} calls x {rounds} rounds"),
            calls,
            manual,
            generated,
        );

        let (session, client) = (&session, &client);
        let manual_call = |i: u32| async move {
            session
                .call("com.bench.add", (i64::from(i), 1))
                .await
                .unwrap()
                .arg(0)
                .unwrap()
        };
        let stub_call = |i: u32| async move { client.add(i64::from(i), 1).await.unwrap() };
        pipelined(calls, manual_call).await;
        pipelined(calls, stub_call).await;
        let (mut manual, mut generated) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            manual.push(pipelined(calls, manual_call).await);
            generated.push(pipelined(calls, stub_call).await);
        }
        report(
            &format!(
                "{OUTSTANDING} calls outstanding, same router, {calls} calls x {rounds} rounds"
            ),
            calls,
            manual,
            generated,
        );
        session.leave().await.unwrap();
    });
}
