//! A callee, a caller, a publisher and a subscriber talking through a WAMP router.
//!
//! Start a router first (`cargo run --example router` listens on ws://127.0.0.1:8080/ws, as does
//! Crossbar.io started by `scripts/crossbar.sh start`), then:
//!
//! ```text
//! cargo run --example demo [-- --url ws://127.0.0.1:8080/ws --realm realm1]
//! ```

use std::time::Duration;

use futures_util::StreamExt as _;
use serde::{Deserialize, Serialize};
use wampkit::{Arguments, ErrorUri, Invocation, Serializer, Session, WampError};

/// A typed payload: travels as keyword arguments.
#[derive(Debug, Serialize, Deserialize)]
struct Reading {
    sensor: String,
    celsius: f64,
    delta: i64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Library warnings (and more with RUST_LOG=debug) go to stderr.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::builder()
                .with_default_directive(tracing_subscriber::filter::LevelFilter::WARN.into())
                .from_env_lossy(),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut url = "ws://127.0.0.1:8080/ws".to_owned();
    let mut realm = "realm1".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match (flag.as_str(), args.next()) {
            ("--url", Some(value)) => url = value,
            ("--realm", Some(value)) => realm = value,
            _ => return Err("usage: demo [--url URL] [--realm REALM]".into()),
        }
    }

    // Two sessions, as two separate programs would have: one serves, one uses.
    let service = Session::builder(&url, &realm)
        .serializer(Serializer::MsgPack)
        .connect()
        .await?;
    let client = Session::builder(&url, &realm)
        .serializer(Serializer::Json)
        .connect()
        .await?;
    println!(
        "callee session {} ({}), caller session {} ({})",
        service.id(),
        service.serializer(),
        client.id(),
        client.serializer()
    );

    // Callee: two procedures.
    let _add = service
        .register("com.example.demo.add", |inv: Invocation| async move {
            let (a, b): (i64, i64) = inv.args()?;
            Ok(Arguments::single(a + b)?)
        })
        .await?;
    let _div = service
        .register("com.example.demo.div", |inv: Invocation| async move {
            let (a, b): (f64, f64) = inv.args()?;
            if b == 0.0 {
                return Err(WampError::with_message(
                    "com.example.demo.error.division_by_zero",
                    "cannot divide by zero",
                ));
            }
            Ok(Arguments::single(a / b)?)
        })
        .await?;
    println!("callee: registered com.example.demo.add and com.example.demo.div");

    // Subscriber: typed events on its own task.
    let mut readings = service.subscribe("com.example.demo.reading").await?;
    println!("subscriber: subscribed to com.example.demo.reading");

    // Caller: plain values in, typed values out; errors arrive typed.
    let sum: i64 = client
        .call("com.example.demo.add", (40, -38))
        .await?
        .arg(0)?;
    println!("caller: add(40, -38) = {sum}");
    match client.call("com.example.demo.div", (1.0, 0.0)).await {
        Err(wampkit::Error::Wamp(e)) => println!("caller: div(1, 0) failed with {e}"),
        other => println!("caller: div(1, 0) unexpectedly returned {other:?}"),
    }
    match client.call("com.example.demo.missing", ()).await {
        Err(wampkit::Error::Wamp(e)) if e.uri == ErrorUri::NoSuchProcedure => {
            println!(
                "caller: com.example.demo.missing is not registered ({})",
                e.uri
            )
        }
        other => println!("caller: unexpected {other:?}"),
    }

    // Publisher: a struct as keyword arguments, acknowledged by the router.
    let reading = Reading {
        sensor: "kitchen".into(),
        celsius: 21.5,
        delta: -2,
    };
    let publication = client
        .publish("com.example.demo.reading", ())
        .kwargs(&reading)
        .acknowledge()
        .await?;
    println!("publisher: published {reading:?} as publication {publication}");

    let event = tokio::time::timeout(Duration::from_secs(5), readings.next())
        .await?
        .ok_or("the subscription ended")?;
    let received: Reading = event.kwargs()?;
    println!("subscriber: received {received:?} on {}", event.topic);

    client.leave().await?;
    service.leave().await?;
    println!("done");
    Ok(())
}
