//! What a macro-generated caller stub costs over a hand-written `session.call` of the same
//! procedure. Both call `com.bench.add` on an instant in-process router (so the client's own
//! work dominates), in alternating rounds; the figures are calls per second and their ratio.
//!
//! ```text
//! cargo bench --manifest-path bench/Cargo.toml --bench stub_overhead [-- CALLS_PER_ROUND ROUNDS]
//! ```

use std::time::{Duration, Instant};

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
        let (manual, generated) = (median(manual), median(generated));
        let rate = |d: Duration| f64::from(calls) / d.as_secs_f64();
        println!(
            "sequential calls, msgpack, instant router, {calls} calls x {rounds} rounds (median):"
        );
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
        session.leave().await.unwrap();
    });
}
