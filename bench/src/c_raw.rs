//! Raw frames: the physical limit of a client on this stack. Pre-encoded CALL / PUBLISH frames
//! exchanged with the router, nothing decoded: over WebSocket with tokio-tungstenite (16 KiB read
//! buffer), over RawSocket with a plain tokio TcpStream. Writes are batched: every message
//! already received is handled, then one flush.

use std::collections::VecDeque;
use std::time::Instant;

use bytes::Bytes;
use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::codec::{self, Ser};
use crate::measure::{Meter, Report, Spec};
use crate::workload::*;

/// What the client keeps sending, and how many at once.
fn plan(ser: Ser, workload: Workload) -> Result<(Option<Vec<u8>>, usize), String> {
    Ok(match workload {
        Workload::Seq => (Some(codec::call(ser, 1, ECHO, 1)), 1),
        Workload::Pipe(n) => (Some(codec::call(ser, 1, ECHO, 1)), n),
        Workload::Pub(n) => (Some(codec::publish(ser, 1, PUB_TOPIC, 1, true)), n),
        Workload::Events => (None, 0),
        w => return Err(format!("raw frames do not run {}", w.name())),
    })
}

/// The WebSocket over which raw frames go.
pub type RawWebSocket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connects to the instant router over WebSocket (16 KiB read buffer) and joins with a
/// pre-encoded HELLO; returns once the WELCOME is in.
pub async fn join(url: &str, ser: Ser) -> Result<RawWebSocket, String> {
    let mut request = url.into_client_request().map_err(|e| e.to_string())?;
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static(ser.subprotocol()),
    );
    let config = WebSocketConfig::default().read_buffer_size(16 * 1024);
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(request, Some(config), true)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    ws.send(message(ser, codec::hello(ser)))
        .await
        .map_err(|e| e.to_string())?;
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(_) | Message::Binary(_))) => return Ok(ws),
            Some(Ok(_)) => continue,
            _ => return Err("no WELCOME".into()),
        }
    }
}

/// A pre-encoded frame as the WebSocket message its serializer travels in.
pub fn message(ser: Ser, bytes: Vec<u8>) -> Message {
    if ser.is_binary() {
        Message::Binary(Bytes::from(bytes))
    } else {
        Message::Text(String::from_utf8(bytes).expect("utf8").into())
    }
}

pub async fn run(url: &str, ser: Ser, workload: Workload, spec: Spec) -> Result<Report, String> {
    if let Some(rest) = url.strip_prefix("rs://") {
        return run_rawsocket(rest, ser, workload, spec).await;
    }
    let (request_frame, outstanding) = plan(ser, workload)?;
    let mut ws = join(url, ser).await?;
    let frame = |bytes: Vec<u8>| message(ser, bytes);
    let mut meter = Meter::new(spec);
    let Some(request_frame) = request_frame else {
        // Events: subscribe, then count every data message after SUBSCRIBED.
        ws.send(frame(codec::subscribe(ser, 1, FLOOD)))
            .await
            .map_err(|e| e.to_string())?;
        let _subscribed = ws.next().await;
        meter.restart();
        while let Some(Ok(m)) = ws.next().await {
            if matches!(m, Message::Binary(_) | Message::Text(_)) && !meter.ops(1) {
                break;
            }
        }
        return Ok(meter.report());
    };
    let request_frame = frame(request_frame);
    let mut sent = VecDeque::with_capacity(outstanding);
    for _ in 0..outstanding {
        ws.feed(request_frame.clone())
            .await
            .map_err(|e| e.to_string())?;
        sent.push_back(Instant::now());
    }
    ws.flush().await.map_err(|e| e.to_string())?;
    'outer: loop {
        let mut next = ws.next().await;
        loop {
            match next {
                Some(Ok(Message::Binary(_) | Message::Text(_))) => {
                    let t = sent.pop_front().unwrap_or_else(Instant::now);
                    if !meter.op(Some(t.elapsed())) {
                        break 'outer;
                    }
                    ws.feed(request_frame.clone())
                        .await
                        .map_err(|e| e.to_string())?;
                    sent.push_back(Instant::now());
                }
                Some(Ok(_)) => {}
                _ => return Err("connection lost".into()),
            }
            match ws.next().now_or_never() {
                Some(n) => next = n,
                None => break,
            }
        }
        ws.flush().await.map_err(|e| e.to_string())?;
    }
    Ok(meter.report())
}

/// Connects to the instant router over RawSocket (no Nagle delay) and completes the RawSocket
/// handshake for `ser`.
pub async fn connect_rawsocket(addr: &str, ser: Ser) -> Result<TcpStream, String> {
    let mut stream = TcpStream::connect(addr.trim_end_matches('/'))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    stream
        .write_all(&[0x7f, 0xf0 | ser.rawsocket_id(), 0, 0])
        .await
        .map_err(|e| e.to_string())?;
    let mut handshake = [0u8; 4];
    stream
        .read_exact(&mut handshake)
        .await
        .map_err(|e| e.to_string())?;
    if handshake[0] != 0x7f || handshake[1] & 0x0f != ser.rawsocket_id() {
        return Err(format!("RawSocket handshake refused: {handshake:02x?}"));
    }
    Ok(stream)
}

async fn run_rawsocket(
    addr: &str,
    ser: Ser,
    workload: Workload,
    spec: Spec,
) -> Result<Report, String> {
    let (request, outstanding) = plan(ser, workload)?;
    let mut stream = connect_rawsocket(addr, ser).await?;
    let framed = |payload: &[u8], out: &mut Vec<u8>| {
        let n = payload.len();
        out.extend_from_slice(&[0, (n >> 16) as u8, (n >> 8) as u8, n as u8]);
        out.extend_from_slice(payload);
    };
    let mut out = Vec::with_capacity(16 * 1024);
    let mut buf = vec![0u8; 16 * 1024];
    let mut filled = 0usize;
    framed(&codec::hello(ser), &mut out);
    if request.is_none() {
        framed(&codec::subscribe(ser, 1, FLOOD), &mut out);
    }
    stream.write_all(&out).await.map_err(|e| e.to_string())?;
    out.clear();
    let mut meter = Meter::new(spec);
    // WELCOME (and SUBSCRIBED) are not counted.
    let mut skip = if request.is_none() { 2 } else { 1 };
    let request = request.unwrap_or_default();
    let mut sent = VecDeque::with_capacity(outstanding);
    let mut primed = false;
    loop {
        let n = stream
            .read(&mut buf[filled..])
            .await
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection lost".into());
        }
        filled += n;
        let mut pos = 0;
        let mut done = false;
        while filled - pos >= 4 {
            let h = &buf[pos..pos + 4];
            let len = (usize::from(h[1]) << 16) | (usize::from(h[2]) << 8) | usize::from(h[3]);
            if filled - pos < 4 + len {
                if 4 + len > buf.len() {
                    buf.resize(4 + len, 0);
                }
                break;
            }
            let kind = h[0] & 0x07;
            pos += 4 + len;
            if kind != 0 {
                continue;
            }
            if skip > 0 {
                skip -= 1;
                if skip == 0 {
                    meter.restart();
                }
                continue;
            }
            if outstanding == 0 {
                if !meter.ops(1) {
                    done = true;
                    break;
                }
                continue;
            }
            let t = sent.pop_front().unwrap_or_else(Instant::now);
            if !meter.op(Some(t.elapsed())) {
                done = true;
                break;
            }
            framed(&request, &mut out);
            sent.push_back(Instant::now());
        }
        buf.copy_within(pos..filled, 0);
        filled -= pos;
        if done {
            break;
        }
        if skip == 0 && !primed && outstanding > 0 {
            primed = true;
            for _ in 0..outstanding {
                framed(&request, &mut out);
                sent.push_back(Instant::now());
            }
        }
        if !out.is_empty() {
            stream.write_all(&out).await.map_err(|e| e.to_string())?;
            out.clear();
        }
    }
    Ok(meter.report())
}
