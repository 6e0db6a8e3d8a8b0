//! Raw frames behind a connection task: the floor of a client built like wampkit (one task owns
//! the connection; callers hand it requests and get their answers back on a channel), with
//! nothing WAMP in it. Pre-encoded CALL / PUBLISH frames, answers counted without being read,
//! matched to their callers in order (the instant router answers in order); events handed to
//! the subscriber's task on a channel, unread.
//!
//! Per operation it pays what any such client pays and raw frames does not: a request handed
//! across tasks (an unbounded channel), an answer handed back (a one-shot channel), and the
//! wake-ups of both tasks, batched the way wampkit batches them (every message already received
//! is handled, then one flush).
//!
//! `--impl raw-task-read` adds to event intake the least a WAMP client must read of each
//! MessagePack event ([`least_read`]): the floor of wampkit's event intake with WAMP in it.
//!
//! Over WebSocket the frames go through tokio-tungstenite, as raw frames' do; over RawSocket
//! through tokio-util's `Framed` with a four-byte-header codec ([`RawSocketCodec`]), the way
//! wampkit reads RawSocket.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use bytes::{Buf, BufMut, BytesMut};
use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, Sink, SinkExt, Stream, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_util::codec::{Decoder, Encoder, Framed};

use crate::codec::{self, Ser};
use crate::measure::{Meter, Report, Spec};
use crate::workload::*;

type Answer = oneshot::Sender<()>;

pub async fn run(url: &str, ser: Ser, workload: Workload, spec: Spec) -> Result<Report, String> {
    run_reading(url, ser, workload, spec, false).await
}

/// As [`run`]; with `read`, events are read as the least a WAMP client must read of them (see
/// [`least_read`]), over MessagePack only.
pub async fn run_reading(
    url: &str,
    ser: Ser,
    workload: Workload,
    spec: Spec,
    read: bool,
) -> Result<Report, String> {
    let (frame, outstanding) = match workload {
        Workload::Pipe(n) => (codec::call(ser, 1, ECHO, 1), n),
        Workload::Seq => (codec::call(ser, 1, ECHO, 1), 1),
        Workload::Pub(n) => (codec::publish(ser, 1, PUB_TOPIC, 1, true), n),
        Workload::Events => (codec::subscribe(ser, 1, FLOOD), 0),
        w => return Err(format!("raw frames behind a task do not run {}", w.name())),
    };
    if read && (ser != Ser::MsgPack || outstanding != 0) {
        return Err(
            "raw frames with the least reading run event intake over MessagePack only".into(),
        );
    }
    let meter = Meter::new(spec);
    if let Some(addr) = url.strip_prefix("rs://") {
        let connection = join_rawsocket(addr, ser).await?;
        let frame = Message::Binary(frame.into());
        return serve(connection, frame, outstanding, meter, read).await;
    }
    let connection = crate::c_raw::join(url, ser).await?;
    let frame = crate::c_raw::message(ser, frame);
    serve(connection, frame, outstanding, meter, read).await
}

/// A connection the connection task owns: WebSocket or RawSocket messages.
trait Connection:
    Stream<Item = Result<Message, WsError>> + Sink<Message, Error = WsError> + Unpin + Send + 'static
{
}

impl<C> Connection for C where
    C: Stream<Item = Result<Message, WsError>>
        + Sink<Message, Error = WsError>
        + Unpin
        + Send
        + 'static
{
}

/// Runs the workload over a joined connection: `frame` sent `outstanding` at a time, or (with
/// none outstanding) `frame` subscribes and the events are counted.
async fn serve(
    mut ws: impl Connection,
    frame: Message,
    outstanding: usize,
    mut meter: Meter,
    read: bool,
) -> Result<Report, String> {
    if outstanding == 0 {
        return events(ws, frame, meter, read).await;
    }
    let (requests, mut incoming) = mpsc::unbounded_channel::<Answer>();

    // The connection task.
    tokio::spawn(async move {
        let mut waiting: VecDeque<Answer> = VecDeque::with_capacity(1024);
        loop {
            tokio::select! {
                answer = incoming.recv() => {
                    let Some(answer) = answer else { return };
                    if ws.feed(frame.clone()).await.is_err() {
                        return;
                    }
                    waiting.push_back(answer);
                }
                received = ws.next() => {
                    if !answered(received, &mut waiting) {
                        return;
                    }
                }
            }
            // Everything already there, then one flush.
            loop {
                let mut progressed = false;
                if let Some(received) = ws.next().now_or_never() {
                    if !answered(received, &mut waiting) {
                        return;
                    }
                    progressed = true;
                }
                if let Ok(answer) = incoming.try_recv() {
                    if ws.feed(frame.clone()).await.is_err() {
                        return;
                    }
                    waiting.push_back(answer);
                    progressed = true;
                }
                if !progressed {
                    break;
                }
            }
            if ws.flush().await.is_err() {
                return;
            }
        }
    });

    // The callers, as the wampkit client's bench loop runs them.
    let op = || {
        let requests = requests.clone();
        async move {
            let t = Instant::now();
            let (answer, answered) = oneshot::channel();
            let ok = requests.send(answer).is_ok() && answered.await.is_ok();
            (t, ok)
        }
    };
    let mut pending = FuturesUnordered::new();
    for _ in 0..outstanding {
        pending.push(op());
    }
    while let Some((t, ok)) = pending.next().await {
        if !ok {
            return Err("connection lost".into());
        }
        if !meter.op(Some(t.elapsed())) {
            break;
        }
        pending.push(op());
    }
    Ok(meter.report())
}

/// Answers the oldest waiting caller if `received` is a data message; `false` once the
/// connection is gone.
fn answered(received: Option<Result<Message, WsError>>, waiting: &mut VecDeque<Answer>) -> bool {
    match received {
        Some(Ok(Message::Binary(_) | Message::Text(_))) => {
            if let Some(answer) = waiting.pop_front() {
                let _ = answer.send(());
            }
            true
        }
        Some(Ok(_)) => true,
        _ => false,
    }
}

/// Event intake: the connection task subscribes, then queues every data message after
/// SUBSCRIBED for the subscriber's task, which counts them. Like wampkit's event queues, the
/// queue is shared and the subscriber woken once per batch of events read, not per event.
async fn events(
    mut ws: impl Connection,
    subscribe: Message,
    mut meter: Meter,
    read: bool,
) -> Result<Report, String> {
    /// Events queued between two wake-ups at most (wampkit's `EVENTS_PER_HANDOFF`).
    const BATCH: usize = 32;
    ws.send(subscribe).await.map_err(|e| e.to_string())?;
    let _subscribed = ws.next().await;
    let queue = Arc::new((
        Mutex::new(VecDeque::<(Message, usize)>::new()),
        Notify::new(),
    ));
    let shared = queue.clone();
    tokio::spawn(async move {
        let (queue, queued) = &*shared;
        // Events routed by subscription id, as a client must, in the kind of table wampkit uses.
        let mut subscriptions = rustc_hash::FxHashMap::<u64, u64>::default();
        while let Some(Ok(m)) = ws.next().await {
            let mut batch = vec![m];
            while batch.len() < BATCH {
                match ws.next().now_or_never() {
                    Some(Some(Ok(m))) => batch.push(m),
                    Some(_) => return,
                    None => break,
                }
            }
            let mut q = queue.lock().unwrap_or_else(PoisonError::into_inner);
            for m in batch {
                match &m {
                    Message::Binary(bytes) if read => {
                        let Some((subscription, args)) = least_read(bytes) else {
                            continue;
                        };
                        *subscriptions.entry(subscription).or_default() += 1;
                        q.push_back((m, args));
                    }
                    Message::Binary(_) | Message::Text(_) => q.push_back((m, 0)),
                    _ => {}
                }
            }
            drop(q);
            queued.notify_one();
        }
    });
    meter.restart();
    let (shared, queued) = &*queue;
    let mut taken = VecDeque::new();
    loop {
        std::mem::swap(
            &mut taken,
            &mut *shared.lock().unwrap_or_else(PoisonError::into_inner),
        );
        if taken.is_empty() {
            queued.notified().await;
            continue;
        }
        for (m, args) in taken.drain(..) {
            if read {
                let Message::Binary(bytes) = m else {
                    return Err("not binary".into());
                };
                if first_argument(bytes.get(args..).unwrap_or_default()).is_none() {
                    meter.error();
                }
            }
            if !meter.ops(1) {
                return Ok(meter.report());
            }
        }
    }
}

/// The least a WAMP client must read of a MessagePack EVENT to hand it to its subscriber: the
/// message type, the subscription and publication ids, details that are `{}`; where its
/// arguments start. No check of the arguments. `None` when it is not such an EVENT.
fn least_read(mut bytes: &[u8]) -> Option<(u64, usize)> {
    let total = bytes.len();
    let len = rmp::decode::read_array_len(&mut bytes).ok()?;
    let kind: u64 = rmp::decode::read_int(&mut bytes).ok()?;
    let subscription: u64 = rmp::decode::read_int(&mut bytes).ok()?;
    let _publication: u64 = rmp::decode::read_int(&mut bytes).ok()?;
    let details = rmp::decode::read_map_len(&mut bytes).ok()?;
    (len >= 4 && kind == 36 && details == 0).then_some((subscription, total - bytes.len()))
}

/// The first argument, an unsigned integer, of the MessagePack list at the front of `bytes`.
fn first_argument(mut bytes: &[u8]) -> Option<u64> {
    (rmp::decode::read_array_len(&mut bytes).ok()? > 0).then_some(())?;
    rmp::decode::read_int(&mut bytes).ok()
}

/// Connects to the instant router over RawSocket (the handshake for `ser`, 16 KiB of read
/// buffer as raw frames have) and joins with a pre-encoded HELLO; returns once the WELCOME is in.
async fn join_rawsocket(addr: &str, ser: Ser) -> Result<Framed<TcpStream, RawSocketCodec>, String> {
    let stream = crate::c_raw::connect_rawsocket(addr, ser).await?;
    let mut connection = Framed::with_capacity(stream, RawSocketCodec, 16 * 1024);
    connection
        .send(Message::Binary(codec::hello(ser).into()))
        .await
        .map_err(|e| e.to_string())?;
    match connection.next().await {
        Some(Ok(_)) => Ok(connection),
        _ => Err("no WELCOME".into()),
    }
}

/// RawSocket's framing: a type byte (0 for a WAMP message) and a 24-bit length before each
/// message. WAMP messages come out as binary messages; pings and pongs are skipped (the
/// instant router sends none).
struct RawSocketCodec;

impl Decoder for RawSocketCodec {
    type Item = Message;
    type Error = WsError;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Message>, WsError> {
        loop {
            let Some(&[kind, a, b, c]) = buf.get(..4) else {
                return Ok(None);
            };
            let len = usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c);
            if buf.len() < 4 + len {
                buf.reserve(4 + len - buf.len());
                return Ok(None);
            }
            buf.advance(4);
            let payload = buf.split_to(len).freeze();
            if kind & 0x07 == 0 {
                return Ok(Some(Message::Binary(payload)));
            }
        }
    }
}

impl Encoder<Message> for RawSocketCodec {
    type Error = WsError;

    fn encode(&mut self, message: Message, out: &mut BytesMut) -> Result<(), WsError> {
        let payload = message.into_data();
        let len = payload.len();
        out.reserve(4 + len);
        out.put_slice(&[0, (len >> 16) as u8, (len >> 8) as u8, len as u8]);
        out.put_slice(&payload);
        Ok(())
    }
}
