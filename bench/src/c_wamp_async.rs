//! wamp_async 0.3 (Rust), a bench-only peer: WebSocket and RawSocket (tcp://), JSON and
//! MessagePack.

use std::time::Instant;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use wamp_async::{Client, ClientConfig, SerializerType, WampArgs};

use crate::codec::Ser;
use crate::measure::{Meter, Report, Spec};
use crate::workload::*;

fn args(i: u64) -> Option<WampArgs> {
    Some(vec![
        serde_json::Value::from(i),
        serde_json::Value::from("bench"),
    ])
}

fn first_int(args: &Option<WampArgs>) -> bool {
    args.as_ref()
        .and_then(|a| a.first())
        .is_some_and(|v| v.is_u64())
}

async fn connect(url: &str, ser: Ser) -> Result<Client<'static>, String> {
    let serializer = match ser {
        Ser::Json => SerializerType::Json,
        Ser::MsgPack => SerializerType::MsgPack,
        Ser::Cbor => return Err("wamp_async has no CBOR serializer".into()),
    };
    // wamp_async spells RawSocket over TCP "tcp://".
    let url = match url.strip_prefix("rs://") {
        Some(rest) => format!("tcp://{}", rest.trim_end_matches('/')),
        None => url.to_owned(),
    };
    let config = ClientConfig::default().set_serializers(vec![serializer]);
    let (mut client, (event_loop, _rpc)) = Client::connect(&url, Some(config))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    tokio::spawn(event_loop);
    client
        .join_realm(REALM)
        .await
        .map_err(|e| format!("join: {e}"))?;
    Ok(client)
}

pub async fn run(url: &str, ser: Ser, workload: Workload, spec: Spec) -> Result<Report, String> {
    let client = connect(url, ser).await?;
    let mut meter = Meter::new(spec);
    let report = match workload {
        Workload::Seq | Workload::Pipe(_) => {
            let n = if let Workload::Pipe(n) = workload {
                n
            } else {
                1
            };
            let call = |i: u64| {
                let client = &client;
                async move {
                    let t = Instant::now();
                    let ok = match client.call(ECHO, args(i), None).await {
                        Ok((a, _)) => first_int(&a),
                        Err(e) => {
                            if std::env::var_os("BENCH_DEBUG").is_some() {
                                eprintln!("call failed: {e}");
                            }
                            false
                        }
                    };
                    (t, ok)
                }
            };
            let mut pending = FuturesUnordered::new();
            for i in 0..n as u64 {
                pending.push(call(i));
            }
            let mut i = n as u64;
            while let Some((t, ok)) = pending.next().await {
                if !ok {
                    meter.error();
                }
                if !meter.op(Some(t.elapsed())) {
                    break;
                }
                pending.push(call(i));
                i += 1;
            }
            meter.report()
        }
        Workload::Pub(n) => {
            let publish = |i: u64| {
                let client = &client;
                async move {
                    let t = Instant::now();
                    (
                        t,
                        client.publish(PUB_TOPIC, args(i), None, true).await.is_ok(),
                    )
                }
            };
            let mut pending = FuturesUnordered::new();
            for i in 0..n as u64 {
                pending.push(publish(i));
            }
            let mut i = n as u64;
            while let Some((t, ok)) = pending.next().await {
                if !ok {
                    meter.error();
                }
                if !meter.op(Some(t.elapsed())) {
                    break;
                }
                pending.push(publish(i));
                i += 1;
            }
            meter.report()
        }
        Workload::Events => {
            let (_id, mut queue) = client
                .subscribe(FLOOD)
                .await
                .map_err(|e| format!("subscribe: {e}"))?;
            meter.restart();
            while let Some((_, a, _)) = queue.recv().await {
                if !first_int(&a) {
                    meter.error();
                }
                if !meter.op(None) {
                    break;
                }
            }
            meter.report()
        }
        w => return Err(format!("wamp_async does not run {}", w.name())),
    };
    Ok(report)
}
