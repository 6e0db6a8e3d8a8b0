//! A minimal WAMP codec for the instant router and the raw-frame clients: no allocation on the
//! decode path (a message is an array of byte spans), hand-written encoders for the few replies
//! the router sends. JSON, MessagePack and CBOR.

use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ser {
    Json,
    MsgPack,
    Cbor,
}

impl Ser {
    pub fn name(self) -> &'static str {
        match self {
            Ser::Json => "json",
            Ser::MsgPack => "msgpack",
            Ser::Cbor => "cbor",
        }
    }
    pub fn parse(s: &str) -> Option<Ser> {
        match s {
            "json" => Some(Ser::Json),
            "msgpack" => Some(Ser::MsgPack),
            "cbor" => Some(Ser::Cbor),
            _ => None,
        }
    }
    pub fn subprotocol(self) -> &'static str {
        match self {
            Ser::Json => "wamp.2.json",
            Ser::MsgPack => "wamp.2.msgpack",
            Ser::Cbor => "wamp.2.cbor",
        }
    }
    pub fn from_subprotocol(s: &str) -> Option<Ser> {
        match s {
            "wamp.2.json" => Some(Ser::Json),
            "wamp.2.msgpack" => Some(Ser::MsgPack),
            "wamp.2.cbor" => Some(Ser::Cbor),
            _ => None,
        }
    }
    /// RawSocket serializer id.
    pub fn rawsocket_id(self) -> u8 {
        match self {
            Ser::Json => 1,
            Ser::MsgPack => 2,
            Ser::Cbor => 3,
        }
    }
    pub fn from_rawsocket_id(id: u8) -> Option<Ser> {
        match id {
            1 => Some(Ser::Json),
            2 => Some(Ser::MsgPack),
            3 => Some(Ser::Cbor),
            _ => None,
        }
    }
    pub fn is_binary(self) -> bool {
        self != Ser::Json
    }
}

/// The top-level elements of one message, as byte spans into the message.
pub struct Msg<'a> {
    pub ser: Ser,
    pub bytes: &'a [u8],
    pub spans: [(usize, usize); 8],
    pub len: usize,
}

impl<'a> Msg<'a> {
    pub fn elem(&self, i: usize) -> Option<&'a [u8]> {
        if i < self.len {
            let (s, e) = self.spans[i];
            Some(&self.bytes[s..e])
        } else {
            None
        }
    }
    pub fn int(&self, i: usize) -> Option<u64> {
        self.elem(i).and_then(|b| read_uint(self.ser, b))
    }
    pub fn str(&self, i: usize) -> Option<&'a [u8]> {
        self.elem(i).and_then(|b| read_str(self.ser, b))
    }
    /// Whether dict element `i` holds `key: true`.
    pub fn dict_flag(&self, i: usize, key: &[u8]) -> bool {
        self.elem(i)
            .and_then(|b| dict_lookup(self.ser, b, key))
            .is_some_and(|v| is_true(self.ser, v))
    }
}

pub fn parse(ser: Ser, bytes: &[u8]) -> Option<Msg<'_>> {
    let mut msg = Msg {
        ser,
        bytes,
        spans: [(0, 0); 8],
        len: 0,
    };
    match ser {
        Ser::Json => {
            let mut p = ws(bytes, 0);
            if bytes.get(p) != Some(&b'[') {
                return None;
            }
            p = ws(bytes, p + 1);
            if bytes.get(p) == Some(&b']') {
                return Some(msg);
            }
            loop {
                let start = p;
                let end = json_skip(bytes, p)?;
                if msg.len < 8 {
                    msg.spans[msg.len] = (start, end);
                    msg.len += 1;
                }
                p = ws(bytes, end);
                match bytes.get(p)? {
                    b',' => p = ws(bytes, p + 1),
                    b']' => break,
                    _ => return None,
                }
            }
        }
        Ser::MsgPack => {
            let (n, mut p) = mp_array_header(bytes, 0)?;
            for _ in 0..n {
                let end = mp_skip(bytes, p)?;
                if msg.len < 8 {
                    msg.spans[msg.len] = (p, end);
                    msg.len += 1;
                }
                p = end;
            }
        }
        Ser::Cbor => {
            let b = *bytes.first()?;
            if b >> 5 != 4 {
                return None;
            }
            let (n, mut p) = cb_arg(bytes, 0)?;
            if n == u64::MAX {
                // Indefinite-length array.
                while *bytes.get(p)? != 0xff {
                    let end = cb_skip(bytes, p)?;
                    if msg.len < 8 {
                        msg.spans[msg.len] = (p, end);
                        msg.len += 1;
                    }
                    p = end;
                }
            } else {
                for _ in 0..n {
                    let end = cb_skip(bytes, p)?;
                    if msg.len < 8 {
                        msg.spans[msg.len] = (p, end);
                        msg.len += 1;
                    }
                    p = end;
                }
            }
        }
    }
    Some(msg)
}

// ---------------------------------------------------------------------------------------------
// JSON

fn ws(b: &[u8], mut p: usize) -> usize {
    while let Some(c) = b.get(p) {
        if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
            p += 1;
        } else {
            break;
        }
    }
    p
}

fn json_skip(b: &[u8], p: usize) -> Option<usize> {
    match *b.get(p)? {
        b'"' => {
            let mut q = p + 1;
            loop {
                match *b.get(q)? {
                    b'"' => return Some(q + 1),
                    b'\\' => q += 2,
                    _ => q += 1,
                }
            }
        }
        b'[' | b'{' => {
            let close = if b[p] == b'[' { b']' } else { b'}' };
            let mut q = ws(b, p + 1);
            if *b.get(q)? == close {
                return Some(q + 1);
            }
            loop {
                q = json_skip(b, q)?;
                q = ws(b, q);
                match *b.get(q)? {
                    b',' | b':' => q = ws(b, q + 1),
                    c if c == close => return Some(q + 1),
                    _ => return None,
                }
            }
        }
        _ => {
            let mut q = p;
            while let Some(c) = b.get(q) {
                if matches!(c, b',' | b']' | b'}' | b':' | b' ' | b'\t' | b'\n' | b'\r') {
                    break;
                }
                q += 1;
            }
            if q == p { None } else { Some(q) }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// MessagePack

fn be(b: &[u8], p: usize, n: usize) -> Option<u64> {
    let s = b.get(p..p + n)?;
    Some(s.iter().fold(0u64, |a, &x| (a << 8) | u64::from(x)))
}

fn mp_array_header(b: &[u8], p: usize) -> Option<(u64, usize)> {
    match *b.get(p)? {
        m @ 0x90..=0x9f => Some((u64::from(m & 0x0f), p + 1)),
        0xdc => Some((be(b, p + 1, 2)?, p + 3)),
        0xdd => Some((be(b, p + 1, 4)?, p + 5)),
        _ => None,
    }
}

fn mp_skip(b: &[u8], p: usize) -> Option<usize> {
    let m = *b.get(p)?;
    let end = match m {
        0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => p + 1,
        0x80..=0x8f => return mp_skip_n(b, p + 1, 2 * u64::from(m & 0x0f)),
        0x90..=0x9f => return mp_skip_n(b, p + 1, u64::from(m & 0x0f)),
        0xa0..=0xbf => p + 1 + usize::from(m & 0x1f),
        0xc4 | 0xd9 => p + 2 + be(b, p + 1, 1)? as usize,
        0xc5 | 0xda => p + 3 + be(b, p + 1, 2)? as usize,
        0xc6 | 0xdb => p + 5 + be(b, p + 1, 4)? as usize,
        0xc7 => p + 3 + be(b, p + 1, 1)? as usize,
        0xc8 => p + 4 + be(b, p + 1, 2)? as usize,
        0xc9 => p + 6 + be(b, p + 1, 4)? as usize,
        0xca => p + 5,
        0xcb => p + 9,
        0xcc | 0xd0 => p + 2,
        0xcd | 0xd1 => p + 3,
        0xce | 0xd2 => p + 5,
        0xcf | 0xd3 => p + 9,
        0xd4 => p + 3,
        0xd5 => p + 4,
        0xd6 => p + 6,
        0xd7 => p + 10,
        0xd8 => p + 18,
        0xdc => return mp_skip_n(b, p + 3, be(b, p + 1, 2)?),
        0xdd => return mp_skip_n(b, p + 5, be(b, p + 1, 4)?),
        0xde => return mp_skip_n(b, p + 3, 2 * be(b, p + 1, 2)?),
        0xdf => return mp_skip_n(b, p + 5, 2 * be(b, p + 1, 4)?),
        0xc1 => return None,
    };
    if end <= b.len() { Some(end) } else { None }
}

fn mp_skip_n(b: &[u8], mut p: usize, n: u64) -> Option<usize> {
    for _ in 0..n {
        p = mp_skip(b, p)?;
    }
    Some(p)
}

// ---------------------------------------------------------------------------------------------
// CBOR

/// The argument of the head at `p` and the position after the head; `u64::MAX` = indefinite.
fn cb_arg(b: &[u8], p: usize) -> Option<(u64, usize)> {
    let ai = *b.get(p)? & 0x1f;
    match ai {
        0..=23 => Some((u64::from(ai), p + 1)),
        24 => Some((be(b, p + 1, 1)?, p + 2)),
        25 => Some((be(b, p + 1, 2)?, p + 3)),
        26 => Some((be(b, p + 1, 4)?, p + 5)),
        27 => Some((be(b, p + 1, 8)?, p + 9)),
        31 => Some((u64::MAX, p + 1)),
        _ => None,
    }
}

fn cb_skip(b: &[u8], p: usize) -> Option<usize> {
    let major = *b.get(p)? >> 5;
    let (arg, q) = cb_arg(b, p)?;
    let end = match major {
        0 | 1 => q,
        2 | 3 => {
            if arg == u64::MAX {
                let mut r = q;
                while *b.get(r)? != 0xff {
                    r = cb_skip(b, r)?;
                }
                r + 1
            } else {
                q + arg as usize
            }
        }
        4 | 5 => {
            let per = if major == 5 { 2 } else { 1 };
            if arg == u64::MAX {
                let mut r = q;
                while *b.get(r)? != 0xff {
                    r = cb_skip(b, r)?;
                }
                r + 1
            } else {
                let mut r = q;
                for _ in 0..arg * per {
                    r = cb_skip(b, r)?;
                }
                r
            }
        }
        6 => cb_skip(b, q)?,
        _ => q, // simple values and floats: the head carries them
    };
    if end <= b.len() { Some(end) } else { None }
}

// ---------------------------------------------------------------------------------------------
// Scalars and dicts

pub fn read_uint(ser: Ser, b: &[u8]) -> Option<u64> {
    match ser {
        Ser::Json => std::str::from_utf8(b).ok()?.parse().ok(),
        Ser::MsgPack => match *b.first()? {
            m @ 0x00..=0x7f => Some(u64::from(m)),
            0xcc | 0xd0 => be(b, 1, 1),
            0xcd | 0xd1 => be(b, 1, 2),
            0xce | 0xd2 => be(b, 1, 4),
            0xcf | 0xd3 => be(b, 1, 8),
            _ => None,
        },
        Ser::Cbor => {
            if *b.first()? >> 5 != 0 {
                return None;
            }
            cb_arg(b, 0).map(|(v, _)| v)
        }
    }
}

pub fn read_str(ser: Ser, b: &[u8]) -> Option<&[u8]> {
    match ser {
        Ser::Json => {
            if b.len() >= 2 && b[0] == b'"' && b[b.len() - 1] == b'"' {
                Some(&b[1..b.len() - 1])
            } else {
                None
            }
        }
        Ser::MsgPack => match *b.first()? {
            m @ 0xa0..=0xbf => b.get(1..1 + usize::from(m & 0x1f)),
            0xd9 => b.get(2..),
            0xda => b.get(3..),
            0xdb => b.get(5..),
            _ => None,
        },
        Ser::Cbor => {
            if *b.first()? >> 5 != 3 {
                return None;
            }
            let (n, q) = cb_arg(b, 0)?;
            if n == u64::MAX {
                return None;
            }
            b.get(q..q + n as usize)
        }
    }
}

fn is_true(ser: Ser, b: &[u8]) -> bool {
    match ser {
        Ser::Json => b == b"true",
        Ser::MsgPack => b == [0xc3],
        Ser::Cbor => b == [0xf5],
    }
}

/// The value of `key` in the dict encoded in `b`.
pub fn dict_lookup<'a>(ser: Ser, b: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    match ser {
        Ser::Json => {
            let mut p = ws(b, 0);
            if b.get(p) != Some(&b'{') {
                return None;
            }
            p = ws(b, p + 1);
            if b.get(p) == Some(&b'}') {
                return None;
            }
            loop {
                let kend = json_skip(b, p)?;
                let k = read_str(ser, &b[p..kend]);
                p = ws(b, kend);
                if b.get(p) != Some(&b':') {
                    return None;
                }
                p = ws(b, p + 1);
                let vend = json_skip(b, p)?;
                if k == Some(key) {
                    return Some(&b[p..vend]);
                }
                p = ws(b, vend);
                match b.get(p)? {
                    b',' => p = ws(b, p + 1),
                    _ => return None,
                }
            }
        }
        Ser::MsgPack => {
            let (n, mut p) = match *b.first()? {
                m @ 0x80..=0x8f => (u64::from(m & 0x0f), 1),
                0xde => (be(b, 1, 2)?, 3),
                0xdf => (be(b, 1, 4)?, 5),
                _ => return None,
            };
            for _ in 0..n {
                let kend = mp_skip(b, p)?;
                let vend = mp_skip(b, kend)?;
                if read_str(ser, &b[p..kend]) == Some(key) {
                    return Some(&b[kend..vend]);
                }
                p = vend;
            }
            None
        }
        Ser::Cbor => {
            if *b.first()? >> 5 != 5 {
                return None;
            }
            let (n, mut p) = cb_arg(b, 0)?;
            let mut i = 0;
            loop {
                if n == u64::MAX {
                    if *b.get(p)? == 0xff {
                        return None;
                    }
                } else if i == n {
                    return None;
                }
                let kend = cb_skip(b, p)?;
                let vend = cb_skip(b, kend)?;
                if read_str(ser, &b[p..kend]) == Some(key) {
                    return Some(&b[kend..vend]);
                }
                p = vend;
                i += 1;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Encoding

/// A value to encode.
pub enum V<'a> {
    U(u64),
    S(&'a str),
    B(bool),
    L(Vec<V<'a>>),
    D(Vec<(&'a str, V<'a>)>),
}

pub fn encode(ser: Ser, v: &V<'_>, out: &mut Vec<u8>) {
    match ser {
        Ser::Json => enc_json(v, out),
        Ser::MsgPack => enc_mp(v, out),
        Ser::Cbor => enc_cb(v, out),
    }
}

pub fn encode_vec(ser: Ser, v: &V<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    encode(ser, v, &mut out);
    out
}

fn enc_json(v: &V<'_>, out: &mut Vec<u8>) {
    match v {
        V::U(n) => {
            let mut s = String::new();
            let _ = write!(s, "{n}");
            out.extend_from_slice(s.as_bytes());
        }
        V::S(s) => {
            // Only plain ASCII names and payloads are encoded here.
            out.push(b'"');
            out.extend_from_slice(s.as_bytes());
            out.push(b'"');
        }
        V::B(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        V::L(items) => {
            out.push(b'[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                enc_json(x, out);
            }
            out.push(b']');
        }
        V::D(items) => {
            out.push(b'{');
            for (i, (k, x)) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                enc_json(&V::S(k), out);
                out.push(b':');
                enc_json(x, out);
            }
            out.push(b'}');
        }
    }
}

fn mp_len(out: &mut Vec<u8>, n: usize, fix: u8, fixmax: usize, m16: u8, m32: u8) {
    if n <= fixmax {
        out.push(fix | n as u8);
    } else if n <= 0xffff {
        out.push(m16);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(m32);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

pub fn mp_uint(out: &mut Vec<u8>, n: u64) {
    if n < 0x80 {
        out.push(n as u8);
    } else if n <= 0xff {
        out.extend_from_slice(&[0xcc, n as u8]);
    } else if n <= 0xffff {
        out.push(0xcd);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else if n <= 0xffff_ffff {
        out.push(0xce);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(0xcf);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn enc_mp(v: &V<'_>, out: &mut Vec<u8>) {
    match v {
        V::U(n) => mp_uint(out, *n),
        V::S(s) => {
            if s.len() < 32 {
                out.push(0xa0 | s.len() as u8);
            } else if s.len() <= 0xff {
                out.extend_from_slice(&[0xd9, s.len() as u8]);
            } else {
                mp_len(out, s.len(), 0, 0, 0xda, 0xdb);
            }
            out.extend_from_slice(s.as_bytes());
        }
        V::B(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        V::L(items) => {
            mp_len(out, items.len(), 0x90, 15, 0xdc, 0xdd);
            for x in items {
                enc_mp(x, out);
            }
        }
        V::D(items) => {
            mp_len(out, items.len(), 0x80, 15, 0xde, 0xdf);
            for (k, x) in items {
                enc_mp(&V::S(k), out);
                enc_mp(x, out);
            }
        }
    }
}

pub fn cb_head(out: &mut Vec<u8>, major: u8, n: u64) {
    let m = major << 5;
    if n < 24 {
        out.push(m | n as u8);
    } else if n <= 0xff {
        out.extend_from_slice(&[m | 24, n as u8]);
    } else if n <= 0xffff {
        out.push(m | 25);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else if n <= 0xffff_ffff {
        out.push(m | 26);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(m | 27);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn enc_cb(v: &V<'_>, out: &mut Vec<u8>) {
    match v {
        V::U(n) => cb_head(out, 0, *n),
        V::S(s) => {
            cb_head(out, 3, s.len() as u64);
            out.extend_from_slice(s.as_bytes());
        }
        V::B(b) => out.push(if *b { 0xf5 } else { 0xf4 }),
        V::L(items) => {
            cb_head(out, 4, items.len() as u64);
            for x in items {
                enc_cb(x, out);
            }
        }
        V::D(items) => {
            cb_head(out, 5, items.len() as u64);
            for (k, x) in items {
                enc_cb(&V::S(k), out);
                enc_cb(x, out);
            }
        }
    }
}

/// Appends `[type, id, {}, <rest raw elements>]` fast: the router's RESULT (echoing the CALL's
/// args and kwargs) without building a `V` tree.
pub fn encode_reply(ser: Ser, ty: u64, id: u64, rest: &[&[u8]], out: &mut Vec<u8>) {
    let n = 3 + rest.len();
    match ser {
        Ser::Json => {
            out.push(b'[');
            push_dec(out, ty);
            out.push(b',');
            push_dec(out, id);
            out.extend_from_slice(b",{}");
            for r in rest {
                out.push(b',');
                out.extend_from_slice(r);
            }
            out.push(b']');
        }
        Ser::MsgPack => {
            out.push(0x90 | n as u8);
            mp_uint(out, ty);
            mp_uint(out, id);
            out.push(0x80);
            for r in rest {
                out.extend_from_slice(r);
            }
        }
        Ser::Cbor => {
            cb_head(out, 4, n as u64);
            cb_head(out, 0, ty);
            cb_head(out, 0, id);
            out.push(0xa0);
            for r in rest {
                out.extend_from_slice(r);
            }
        }
    }
}

/// Appends `[type, a, b]` (PUBLISHED, SUBSCRIBED, REGISTERED).
pub fn encode_triple(ser: Ser, ty: u64, a: u64, b: u64, out: &mut Vec<u8>) {
    match ser {
        Ser::Json => {
            out.push(b'[');
            push_dec(out, ty);
            out.push(b',');
            push_dec(out, a);
            out.push(b',');
            push_dec(out, b);
            out.push(b']');
        }
        Ser::MsgPack => {
            out.push(0x93);
            mp_uint(out, ty);
            mp_uint(out, a);
            mp_uint(out, b);
        }
        Ser::Cbor => {
            out.push(0x83);
            cb_head(out, 0, ty);
            cb_head(out, 0, a);
            cb_head(out, 0, b);
        }
    }
}

/// Appends `[type, a]` (UNSUBSCRIBED, UNREGISTERED).
pub fn encode_pair(ser: Ser, ty: u64, a: u64, out: &mut Vec<u8>) {
    match ser {
        Ser::Json => {
            out.push(b'[');
            push_dec(out, ty);
            out.push(b',');
            push_dec(out, a);
            out.push(b']');
        }
        Ser::MsgPack => {
            out.push(0x92);
            mp_uint(out, ty);
            mp_uint(out, a);
        }
        Ser::Cbor => {
            out.push(0x82);
            cb_head(out, 0, ty);
            cb_head(out, 0, a);
        }
    }
}

fn push_dec(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

// ---------------------------------------------------------------------------------------------
// Messages the bench sends

pub const HELLO: u64 = 1;
pub const WELCOME: u64 = 2;
pub const GOODBYE: u64 = 6;
pub const PUBLISH: u64 = 16;
pub const PUBLISHED: u64 = 17;
pub const SUBSCRIBE: u64 = 32;
pub const SUBSCRIBED: u64 = 33;
pub const UNSUBSCRIBE: u64 = 34;
pub const UNSUBSCRIBED: u64 = 35;
pub const EVENT: u64 = 36;
pub const CALL: u64 = 48;
pub const RESULT: u64 = 50;
pub const REGISTER: u64 = 64;
pub const REGISTERED: u64 = 65;

/// The payload every call and publication carries: `[n, "bench"]`.
pub fn bench_args<'a>(n: u64) -> V<'a> {
    V::L(vec![V::U(n), V::S("bench")])
}

pub fn hello(ser: Ser) -> Vec<u8> {
    let roles = V::D(vec![
        ("caller", V::D(vec![])),
        ("callee", V::D(vec![])),
        ("publisher", V::D(vec![])),
        ("subscriber", V::D(vec![])),
    ]);
    encode_vec(
        ser,
        &V::L(vec![
            V::U(HELLO),
            V::S("realm1"),
            V::D(vec![("roles", roles), ("agent", V::S("raw-frames"))]),
        ]),
    )
}

pub fn welcome(ser: Ser, session: u64) -> Vec<u8> {
    let features = |names: &[&'static str]| {
        V::D(vec![(
            "features",
            V::D(names.iter().map(|n| (*n, V::B(true))).collect()),
        )])
    };
    let roles = V::D(vec![
        (
            "broker",
            features(&["publisher_exclusion", "publisher_identification"]),
        ),
        (
            "dealer",
            features(&["caller_identification", "progressive_call_results"]),
        ),
    ]);
    encode_vec(
        ser,
        &V::L(vec![
            V::U(WELCOME),
            V::U(session),
            V::D(vec![
                ("realm", V::S("realm1")),
                ("authid", V::S("bench")),
                ("authrole", V::S("anonymous")),
                ("authmethod", V::S("anonymous")),
                ("authprovider", V::S("static")),
                ("roles", roles),
            ]),
        ]),
    )
}

pub fn call(ser: Ser, request: u64, procedure: &str, n: u64) -> Vec<u8> {
    encode_vec(
        ser,
        &V::L(vec![
            V::U(CALL),
            V::U(request),
            V::D(vec![]),
            V::S(procedure),
            bench_args(n),
        ]),
    )
}

pub fn publish(ser: Ser, request: u64, topic: &str, n: u64, acknowledge: bool) -> Vec<u8> {
    let options = if acknowledge {
        V::D(vec![("acknowledge", V::B(true))])
    } else {
        V::D(vec![])
    };
    encode_vec(
        ser,
        &V::L(vec![
            V::U(PUBLISH),
            V::U(request),
            options,
            V::S(topic),
            bench_args(n),
        ]),
    )
}

pub fn subscribe(ser: Ser, request: u64, topic: &str) -> Vec<u8> {
    encode_vec(
        ser,
        &V::L(vec![
            V::U(SUBSCRIBE),
            V::U(request),
            V::D(vec![]),
            V::S(topic),
        ]),
    )
}

pub fn event(ser: Ser, subscription: u64, publication: u64) -> Vec<u8> {
    encode_vec(
        ser,
        &V::L(vec![
            V::U(EVENT),
            V::U(subscription),
            V::U(publication),
            V::D(vec![]),
            bench_args(1),
        ]),
    )
}

pub fn goodbye(ser: Ser) -> Vec<u8> {
    encode_vec(
        ser,
        &V::L(vec![
            V::U(GOODBYE),
            V::D(vec![]),
            V::S("wamp.close.goodbye_and_out"),
        ]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_all() {
        for ser in [Ser::Json, Ser::MsgPack, Ser::Cbor] {
            let c = call(ser, 7, "bench.echo", 300);
            let m = parse(ser, &c).unwrap();
            assert_eq!(m.len, 5);
            assert_eq!(m.int(0), Some(CALL));
            assert_eq!(m.int(1), Some(7));
            assert_eq!(m.str(3), Some(&b"bench.echo"[..]));
            let p = publish(ser, 9, "t", 1, true);
            let m = parse(ser, &p).unwrap();
            assert!(m.dict_flag(2, b"acknowledge"));
            let p = publish(ser, 9, "t", 1, false);
            let m = parse(ser, &p).unwrap();
            assert!(!m.dict_flag(2, b"acknowledge"));
            let w = welcome(ser, 1);
            let m = parse(ser, &w).unwrap();
            assert_eq!(m.int(0), Some(WELCOME));
            let mut out = Vec::new();
            let c = call(ser, 70000, "bench.echo", 3);
            let m = parse(ser, &c).unwrap();
            encode_reply(
                ser,
                RESULT,
                m.int(1).unwrap(),
                &[m.elem(4).unwrap()],
                &mut out,
            );
            let r = parse(ser, &out).unwrap();
            assert_eq!(r.int(0), Some(RESULT));
            assert_eq!(r.int(1), Some(70000));
            assert_eq!(r.elem(3), m.elem(4));
        }
    }
}
