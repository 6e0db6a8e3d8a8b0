//! battler-wamp 0.6 (Rust), a bench-only peer: WebSocket, JSON and MessagePack.

use std::collections::HashSet;
use std::time::Instant;

use battler_wamp::core::publish_options::PublishOptions;
use battler_wamp::peer::{PeerConfig, PublishedEvent, RpcCall, WebSocketPeer, new_web_socket_peer};
use battler_wamp::serializer::serializer::SerializerType;
use battler_wamp_uri::Uri;
use battler_wamp_values::{List, Value};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::sync::broadcast::error::RecvError;

use crate::codec::Ser;
use crate::measure::{Meter, Report, Spec};
use crate::workload::*;

fn args(i: u64) -> List {
    List::from_iter([Value::Integer(i), Value::String("bench".into())])
}

async fn connect(url: &str, ser: Ser) -> Result<WebSocketPeer, String> {
    let serializer = match ser {
        Ser::Json => SerializerType::Json,
        Ser::MsgPack => SerializerType::MessagePack,
        Ser::Cbor => return Err("battler-wamp has no CBOR serializer".into()),
    };
    if url.starts_with("rs://") {
        return Err("battler-wamp has no RawSocket transport".into());
    }
    let config = PeerConfig {
        serializers: HashSet::from_iter([serializer]),
        ..PeerConfig::default()
    };
    let peer = new_web_socket_peer(config).map_err(|e| e.to_string())?;
    peer.connect(url)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    peer.join_realm(REALM)
        .await
        .map_err(|e| format!("join: {e}"))?;
    Ok(peer)
}

fn first_int(args: &List) -> bool {
    matches!(args.first(), Some(Value::Integer(_)))
}

pub async fn run(url: &str, ser: Ser, workload: Workload, spec: Spec) -> Result<Report, String> {
    let peer = connect(url, ser).await?;
    let echo = Uri::try_from(ECHO).map_err(|e| e.to_string())?;
    let mut meter = Meter::new(spec);
    let report = match workload {
        Workload::Seq | Workload::Pipe(_) => {
            let n = if let Workload::Pipe(n) = workload {
                n
            } else {
                1
            };
            let call = |i: u64| {
                let (peer, echo) = (&peer, echo.clone());
                async move {
                    let t = Instant::now();
                    let rpc = RpcCall {
                        arguments: args(i),
                        ..Default::default()
                    };
                    let ok = match peer.call_and_wait(echo, rpc).await {
                        Ok(r) => first_int(&r.arguments),
                        Err(_) => false,
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
            let topic = Uri::try_from(PUB_TOPIC).map_err(|e| e.to_string())?;
            let publish = |i: u64| {
                let (peer, topic) = (&peer, topic.clone());
                async move {
                    let t = Instant::now();
                    let event = PublishedEvent {
                        arguments: args(i),
                        options: PublishOptions {
                            acknowledge: Some(true),
                            ..Default::default()
                        },
                        ..Default::default()
                    };
                    (t, peer.publish(topic, event).await.is_ok())
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
            let topic = Uri::try_from(FLOOD).map_err(|e| e.to_string())?;
            let mut sub = peer
                .subscribe(topic)
                .await
                .map_err(|e| format!("subscribe: {e}"))?;
            meter.restart();
            let mut lost = 0u64;
            loop {
                match sub.event_rx.recv().await {
                    Ok(ev) => {
                        if !first_int(&ev.arguments) {
                            meter.error();
                        }
                        if !meter.op(None) {
                            break;
                        }
                    }
                    Err(RecvError::Lagged(n)) => lost += n,
                    Err(RecvError::Closed) => return Err("subscription ended".into()),
                }
            }
            let mut report = meter.report();
            report.dropped = lost;
            report
        }
        w => return Err(format!("battler-wamp does not run {}", w.name())),
    };
    Ok(report)
}
