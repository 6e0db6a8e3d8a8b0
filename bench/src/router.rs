//! The instant scripted router: answers at once and routes nothing, so the client is the
//! bottleneck. One port speaks both WebSocket and RawSocket (a first byte 0x7F is a RawSocket
//! handshake). Runs on a current-thread runtime in its own process, pinned to its own core.
//!
//! - HELLO -> WELCOME; GOODBYE -> GOODBYE
//! - CALL -> RESULT echoing the args and kwargs, except `bench.blackhole`, never answered
//! - PUBLISH with `acknowledge` -> PUBLISHED
//! - SUBSCRIBE -> SUBSCRIBED; to `bench.flood`: EVENTs pushed as fast as the client reads,
//!   until it unsubscribes or goes away. UNSUBSCRIBE -> UNSUBSCRIBED. REGISTER -> REGISTERED.
//!
//! I/O: one 16 KiB read buffer per connection (grown only for a larger frame), every message of a
//! read handled, then the replies written with one write: one syscall per read batch.

use std::io;

use tokio::io::Interest;
use tokio::net::{TcpListener, TcpStream};

use crate::codec::{self, Ser};

const READ_BUF: usize = 16 * 1024;
/// Events appended per round while flooding, and the most output kept queued.
const FLOOD_BATCH: usize = 256;
const OUT_HIGH_WATER: usize = 64 * 1024;

pub async fn serve(listener: TcpListener) {
    while let Ok((stream, _)) = listener.accept().await {
        let _ = stream.set_nodelay(true);
        tokio::task::spawn_local(async move {
            let _ = Conn::new(stream).run().await;
        });
    }
}

#[derive(PartialEq)]
enum Framing {
    WebSocket,
    RawSocket,
}

struct Conn {
    stream: TcpStream,
    inbuf: Vec<u8>,
    filled: usize,
    out: Vec<u8>,
    out_pos: usize,
    framing: Framing,
    ser: Ser,
    next_id: u64,
    /// Subscription id of the flood, while flooding.
    flood: Option<u64>,
    flood_event: Vec<u8>,
    closing: bool,
    /// A fragmented WebSocket message being assembled.
    fragments: Vec<u8>,
    scratch: Vec<u8>,
}

impl Conn {
    fn new(stream: TcpStream) -> Self {
        Conn {
            stream,
            inbuf: vec![0; READ_BUF],
            filled: 0,
            out: Vec::with_capacity(READ_BUF),
            out_pos: 0,
            framing: Framing::WebSocket,
            ser: Ser::Json,
            next_id: 1,
            flood: None,
            flood_event: Vec::new(),
            closing: false,
            fragments: Vec::new(),
            scratch: Vec::with_capacity(256),
        }
    }

    async fn read_more(&mut self) -> io::Result<usize> {
        if self.filled == self.inbuf.len() {
            let len = self.inbuf.len() * 2;
            self.inbuf.resize(len, 0);
        }
        loop {
            self.stream.readable().await?;
            match self.stream.try_read(&mut self.inbuf[self.filled..]) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => {
                    self.filled += n;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            }
        }
    }

    async fn write_all_out(&mut self) -> io::Result<()> {
        while self.out_pos < self.out.len() {
            self.stream.writable().await?;
            match self.stream.try_write(&self.out[self.out_pos..]) {
                Ok(n) => self.out_pos += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            }
        }
        self.out.clear();
        self.out_pos = 0;
        Ok(())
    }

    async fn handshake(&mut self) -> io::Result<()> {
        while self.filled < 4 {
            self.read_more().await?;
        }
        if self.inbuf[0] == 0x7f {
            self.framing = Framing::RawSocket;
            let ser = Ser::from_rawsocket_id(self.inbuf[1] & 0x0f);
            match ser {
                Some(ser) => {
                    self.ser = ser;
                    // Max length we accept: 16 MiB (LLLL = 15).
                    self.out
                        .extend_from_slice(&[0x7f, 0xf0 | ser.rawsocket_id(), 0, 0]);
                }
                None => {
                    self.out.extend_from_slice(&[0x7f, 0x10, 0, 0]);
                    self.write_all_out().await?;
                    return Err(io::ErrorKind::InvalidData.into());
                }
            }
            self.consume(4);
            return self.write_all_out().await;
        }
        // HTTP upgrade.
        let end = loop {
            if let Some(p) = find(&self.inbuf[..self.filled], b"\r\n\r\n") {
                break p + 4;
            }
            self.read_more().await?;
        };
        let head = String::from_utf8_lossy(&self.inbuf[..end]).into_owned();
        let mut key = None;
        let mut protocols = String::new();
        for line in head.split("\r\n").skip(1) {
            if let Some((name, value)) = line.split_once(':') {
                let name = name.trim().to_ascii_lowercase();
                if name == "sec-websocket-key" {
                    key = Some(value.trim().to_owned());
                } else if name == "sec-websocket-protocol" {
                    if !protocols.is_empty() {
                        protocols.push(',');
                    }
                    protocols.push_str(value.trim());
                }
            }
        }
        let Some(key) = key else {
            return Err(io::ErrorKind::InvalidData.into());
        };
        let chosen = protocols
            .split(',')
            .map(str::trim)
            .find_map(Ser::from_subprotocol);
        let Some(ser) = chosen else {
            self.out
                .extend_from_slice(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
            self.write_all_out().await?;
            return Err(io::ErrorKind::InvalidData.into());
        };
        self.ser = ser;
        let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
        let response = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Protocol: {}\r\n\r\n",
            ser.subprotocol()
        );
        self.out.extend_from_slice(response.as_bytes());
        self.consume(end);
        self.write_all_out().await
    }

    fn consume(&mut self, n: usize) {
        self.inbuf.copy_within(n..self.filled, 0);
        self.filled -= n;
    }

    async fn run(mut self) -> io::Result<()> {
        self.handshake().await?;
        loop {
            // Handle every complete frame already read.
            self.process()?;
            if self.closing {
                return self.write_all_out().await;
            }
            if let Some(sub) = self.flood {
                let queued = self.out.len() - self.out_pos;
                if queued < OUT_HIGH_WATER {
                    if self.flood_event.is_empty() {
                        self.flood_event = codec::event(self.ser, sub, 1);
                    }
                    for _ in 0..FLOOD_BATCH {
                        let ev = std::mem::take(&mut self.flood_event);
                        self.frame(&ev);
                        self.flood_event = ev;
                    }
                }
            }
            // Optimistic write of the batch, then wait for whatever is possible next.
            if self.out_pos < self.out.len() {
                match self.stream.try_write(&self.out[self.out_pos..]) {
                    Ok(n) => self.out_pos += n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
                if self.out_pos == self.out.len() {
                    self.out.clear();
                    self.out_pos = 0;
                } else if self.out_pos > OUT_HIGH_WATER {
                    self.out.drain(..self.out_pos);
                    self.out_pos = 0;
                }
            }
            let interest = if self.out_pos < self.out.len() || self.flood.is_some() {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            let ready = self.stream.ready(interest).await?;
            if ready.is_readable() {
                if self.filled == self.inbuf.len() {
                    let len = self.inbuf.len() * 2;
                    self.inbuf.resize(len, 0);
                }
                match self.stream.try_read(&mut self.inbuf[self.filled..]) {
                    Ok(0) => return Ok(()),
                    Ok(n) => self.filled += n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }

    /// Parses and answers every complete frame in the read buffer.
    fn process(&mut self) -> io::Result<()> {
        let mut pos = 0;
        loop {
            let avail = &self.inbuf[pos..self.filled];
            match self.framing {
                Framing::RawSocket => {
                    if avail.len() < 4 {
                        break;
                    }
                    let kind = avail[0] & 0x07;
                    if avail[0] & 0xf0 != 0 {
                        return Err(io::ErrorKind::InvalidData.into());
                    }
                    let len = (usize::from(avail[0] & 0x08) << 21)
                        | (usize::from(avail[1]) << 16)
                        | (usize::from(avail[2]) << 8)
                        | usize::from(avail[3]);
                    if avail.len() < 4 + len {
                        if 4 + len > self.inbuf.len() {
                            self.inbuf.resize(4 + len, 0);
                        }
                        break;
                    }
                    let (s, e) = (pos + 4, pos + 4 + len);
                    pos = e;
                    match kind {
                        0 => {
                            let payload = std::mem::take(&mut self.inbuf);
                            let r = self.handle(&payload[s..e]);
                            self.inbuf = payload;
                            r?;
                        }
                        1 => {
                            // PING -> PONG with the same payload.
                            let mut pong = Vec::with_capacity(4 + len);
                            pong.extend_from_slice(&[
                                0x02,
                                (len >> 16) as u8,
                                (len >> 8) as u8,
                                len as u8,
                            ]);
                            pong.extend_from_slice(&self.inbuf[s..e]);
                            self.out.extend_from_slice(&pong);
                        }
                        _ => {}
                    }
                }
                Framing::WebSocket => {
                    if avail.len() < 2 {
                        break;
                    }
                    let fin = avail[0] & 0x80 != 0;
                    let opcode = avail[0] & 0x0f;
                    let masked = avail[1] & 0x80 != 0;
                    let mut len = usize::from(avail[1] & 0x7f);
                    let mut hdr = 2;
                    if len == 126 {
                        if avail.len() < 4 {
                            break;
                        }
                        len = usize::from(u16::from_be_bytes([avail[2], avail[3]]));
                        hdr = 4;
                    } else if len == 127 {
                        if avail.len() < 10 {
                            break;
                        }
                        let mut b = [0u8; 8];
                        b.copy_from_slice(&avail[2..10]);
                        len = u64::from_be_bytes(b) as usize;
                        hdr = 10;
                    }
                    let mask_at = hdr;
                    if masked {
                        hdr += 4;
                    }
                    if avail.len() < hdr + len {
                        if hdr + len > self.inbuf.len() {
                            self.inbuf.resize(hdr + len, 0);
                        }
                        break;
                    }
                    let (s, e) = (pos + hdr, pos + hdr + len);
                    if masked {
                        let mut key = [0u8; 4];
                        key.copy_from_slice(&self.inbuf[pos + mask_at..pos + mask_at + 4]);
                        for (i, b) in self.inbuf[s..e].iter_mut().enumerate() {
                            *b ^= key[i & 3];
                        }
                    }
                    pos = e;
                    match opcode {
                        0x0..=0x2 => {
                            if fin && opcode != 0 && self.fragments.is_empty() {
                                let payload = std::mem::take(&mut self.inbuf);
                                let r = self.handle(&payload[s..e]);
                                self.inbuf = payload;
                                r?;
                            } else {
                                self.fragments.extend_from_slice(&self.inbuf[s..e]);
                                if fin {
                                    let whole = std::mem::take(&mut self.fragments);
                                    self.handle(&whole)?;
                                }
                            }
                        }
                        0x8 => {
                            // Close: answer with a close frame, then end.
                            self.out.extend_from_slice(&[0x88, 0x00]);
                            self.closing = true;
                            break;
                        }
                        0x9 => {
                            let payload = self.inbuf[s..e].to_vec();
                            ws_header(&mut self.out, 0xA, payload.len());
                            self.out.extend_from_slice(&payload);
                        }
                        _ => {}
                    }
                }
            }
        }
        if pos > 0 {
            self.consume(pos);
        }
        Ok(())
    }

    /// Appends one WAMP message, framed.
    fn frame(&mut self, payload: &[u8]) {
        self.frame_header(payload.len());
        self.out.extend_from_slice(payload);
    }

    fn frame_header(&mut self, len: usize) {
        match self.framing {
            Framing::RawSocket => {
                self.out
                    .extend_from_slice(&[0x00, (len >> 16) as u8, (len >> 8) as u8, len as u8])
            }
            Framing::WebSocket => {
                let opcode = if self.ser.is_binary() { 0x2 } else { 0x1 };
                ws_header(&mut self.out, opcode, len);
            }
        }
    }

    /// Encodes a reply with `encode` into the scratch buffer, then frames it.
    fn reply(&mut self, encode: impl FnOnce(&mut Vec<u8>)) {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        encode(&mut scratch);
        self.frame(&scratch);
        self.scratch = scratch;
    }

    fn handle(&mut self, payload: &[u8]) -> io::Result<()> {
        let ser = self.ser;
        let Some(m) = codec::parse(ser, payload) else {
            return Err(io::ErrorKind::InvalidData.into());
        };
        let Some(ty) = m.int(0) else {
            return Err(io::ErrorKind::InvalidData.into());
        };
        match ty {
            codec::HELLO => {
                let w = codec::welcome(ser, 1);
                self.frame(&w);
            }
            codec::CALL => {
                let request = m.int(1).unwrap_or(0);
                if m.str(3) == Some(b"bench.blackhole") {
                    return Ok(());
                }
                let (a, k) = (m.elem(4), m.elem(5));
                self.reply(|out| match (a, k) {
                    (Some(a), Some(k)) => {
                        codec::encode_reply(ser, codec::RESULT, request, &[a, k], out)
                    }
                    (Some(a), None) => codec::encode_reply(ser, codec::RESULT, request, &[a], out),
                    _ => codec::encode_reply(ser, codec::RESULT, request, &[], out),
                });
            }
            codec::PUBLISH if m.dict_flag(2, b"acknowledge") => {
                let request = m.int(1).unwrap_or(0);
                self.next_id += 1;
                let id = self.next_id;
                self.reply(|out| codec::encode_triple(ser, codec::PUBLISHED, request, id, out));
            }
            codec::SUBSCRIBE | codec::REGISTER => {
                let request = m.int(1).unwrap_or(0);
                self.next_id += 1;
                let id = self.next_id;
                let answer = if ty == codec::SUBSCRIBE {
                    codec::SUBSCRIBED
                } else {
                    codec::REGISTERED
                };
                self.reply(|out| codec::encode_triple(ser, answer, request, id, out));
                if ty == codec::SUBSCRIBE && m.str(3) == Some(b"bench.flood") {
                    self.flood = Some(id);
                    self.flood_event.clear();
                }
            }
            codec::UNSUBSCRIBE => {
                let request = m.int(1).unwrap_or(0);
                if m.int(2) == self.flood {
                    self.flood = None;
                }
                self.reply(|out| codec::encode_pair(ser, codec::UNSUBSCRIBED, request, out));
            }
            codec::GOODBYE => {
                self.flood = None;
                let g = codec::goodbye(ser);
                self.frame(&g);
            }
            _ => {}
        }
        Ok(())
    }
}

fn ws_header(out: &mut Vec<u8>, opcode: u8, len: usize) {
    out.push(0x80 | opcode);
    if len < 126 {
        out.push(len as u8);
    } else if len <= 0xffff {
        out.push(126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
