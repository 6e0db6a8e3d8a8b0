//! The framing codec: a 4-byte header (kind and 25-bit length) before each payload.

use std::fmt;
use std::io;

use bytes::{Buf as _, BufMut as _, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use super::MAX_FRAME;
use crate::transport::TransportError;

/// The kind of a RawSocket frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FrameKind {
    /// A WAMP message.
    Message,
    /// A PING, to be answered with a PONG of the same payload.
    Ping,
    /// A PONG.
    Pong,
}

impl FrameKind {
    fn code(self) -> u8 {
        match self {
            FrameKind::Message => 0,
            FrameKind::Ping => 1,
            FrameKind::Pong => 2,
        }
    }
}

/// One RawSocket frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Frame {
    pub(crate) kind: FrameKind,
    pub(crate) payload: Bytes,
}

/// Which end of the connection this codec serves: it names the peer in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// This end is a client; the peer is the router.
    Client,
    /// This end is the router; the peer is a client.
    Router,
}

impl Role {
    /// The peer, as errors name it.
    pub(crate) fn peer(self) -> &'static str {
        match self {
            Role::Client => "the router",
            Role::Router => "the client",
        }
    }

    /// This end, as errors name it.
    pub(crate) fn this_end(self) -> &'static str {
        match self {
            Role::Client => "this client",
            Role::Router => "this router",
        }
    }
}

/// A framing failure: the connection cannot continue.
#[derive(Debug)]
pub(crate) struct FramingError(pub(crate) TransportError);

impl FramingError {
    fn new(reason: String) -> Self {
        FramingError(TransportError::new(reason))
    }
}

impl fmt::Display for FramingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<io::Error> for FramingError {
    fn from(e: io::Error) -> Self {
        FramingError(TransportError::io("RawSocket I/O error", e))
    }
}

/// Splits the byte stream into frames and writes frames into the send buffer.
#[derive(Debug)]
pub(crate) struct RawSocketCodec {
    /// The longest payload accepted from the peer.
    pub(crate) max_receive: usize,
    /// Which end this is.
    pub(crate) role: Role,
}

impl Decoder for RawSocketCodec {
    type Item = Frame;
    type Error = FramingError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, FramingError> {
        let Some(&[first, l1, l2, l3]) = src.get(..4) else {
            return Ok(None);
        };
        let peer = self.role.peer();
        if first & 0xF0 != 0 {
            return Err(FramingError::new(format!(
                "{peer} sent a RawSocket frame with reserved header bits set (first byte \
                 0x{first:02X})"
            )));
        }
        let low24 = usize::from(l1) << 16 | usize::from(l2) << 8 | usize::from(l3);
        let length = if first & 0x08 != 0 {
            if low24 != 0 {
                return Err(FramingError::new(format!(
                    "{peer} sent a RawSocket frame longer than 2^24 bytes ({} bytes)",
                    MAX_FRAME + low24
                )));
            }
            MAX_FRAME
        } else {
            low24
        };
        let kind = match first & 0x07 {
            0 => FrameKind::Message,
            1 => FrameKind::Ping,
            2 => FrameKind::Pong,
            other => {
                return Err(FramingError::new(format!(
                    "{peer} sent a RawSocket frame of reserved type {other}"
                )));
            }
        };
        if length > self.max_receive {
            return Err(FramingError::new(format!(
                "{peer} sent a RawSocket frame of {length} bytes, which exceeds {}'s limit of \
                 {} bytes (max_message_size)",
                self.role.this_end(),
                self.max_receive
            )));
        }
        let total = 4 + length;
        if src.len() < total {
            src.reserve(total - src.len());
            return Ok(None);
        }
        src.advance(4);
        let payload = src.split_to(length).freeze();
        Ok(Some(Frame { kind, payload }))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, FramingError> {
        match self.decode(src)? {
            Some(frame) => Ok(Some(frame)),
            None if src.is_empty() => Ok(None),
            None => Err(FramingError::new(format!(
                "{} closed the connection in the middle of a RawSocket frame ({} bytes of it \
                 received)",
                self.role.peer(),
                src.len()
            ))),
        }
    }
}

impl Encoder<Frame> for RawSocketCodec {
    type Error = FramingError;

    fn encode(&mut self, frame: Frame, dst: &mut BytesMut) -> Result<(), FramingError> {
        let length = frame.payload.len();
        let (x, low24) = match length {
            MAX_FRAME => (0x08, 0),
            n if n < MAX_FRAME => (0, n),
            n => {
                return Err(FramingError::new(format!(
                    "a RawSocket frame cannot carry {n} bytes (at most 2^24)"
                )));
            }
        };
        let [_, l1, l2, l3] = u32::try_from(low24).unwrap_or(0).to_be_bytes();
        dst.reserve(4 + length);
        dst.put_u8(x | frame.kind.code());
        dst.put_slice(&[l1, l2, l3]);
        dst.put_slice(&frame.payload);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(codec: &mut RawSocketCodec, bytes: &[u8]) -> Result<Vec<Frame>, FramingError> {
        let mut buffer = BytesMut::from(bytes);
        let mut frames = Vec::new();
        while let Some(frame) = codec.decode(&mut buffer)? {
            frames.push(frame);
        }
        Ok(frames)
    }

    #[test]
    fn frames_round_trip() {
        let mut codec = RawSocketCodec {
            max_receive: MAX_FRAME,
            role: Role::Client,
        };
        let mut buffer = BytesMut::new();
        for (kind, payload) in [
            (FrameKind::Message, &b"[1,2]"[..]),
            (FrameKind::Ping, &b"ping"[..]),
            (FrameKind::Pong, &b""[..]),
        ] {
            let frame = Frame {
                kind,
                payload: Bytes::copy_from_slice(payload),
            };
            assert!(codec.encode(frame, &mut buffer).is_ok());
        }
        assert_eq!(buffer.get(..9), Some(&b"\x00\x00\x00\x05[1,2]"[..]));
        let frames = decode_all(&mut codec, &buffer).unwrap_or_default();
        assert_eq!(frames.len(), 3);
        assert_eq!(frames.first().map(|f| f.kind), Some(FrameKind::Message));
        assert_eq!(frames.get(1).map(|f| &f.payload[..]), Some(&b"ping"[..]));
        assert_eq!(frames.get(2).map(|f| f.kind), Some(FrameKind::Pong));
    }

    #[test]
    fn partial_frames_wait() {
        let mut codec = RawSocketCodec {
            max_receive: 100,
            role: Role::Client,
        };
        let mut buffer = BytesMut::from(&b"\x00\x00"[..]);
        assert!(matches!(codec.decode(&mut buffer), Ok(None)));
        buffer.extend_from_slice(b"\x00\x03ab");
        assert!(matches!(codec.decode(&mut buffer), Ok(None)));
        buffer.extend_from_slice(b"c");
        let frame = codec.decode(&mut buffer).ok().flatten();
        assert_eq!(frame.map(|f| f.payload), Some(Bytes::from_static(b"abc")));
        assert!(buffer.is_empty());
    }

    #[test]
    fn bad_frames_fail() {
        let mut codec = RawSocketCodec {
            max_receive: 512,
            role: Role::Router,
        };
        let reserved = decode_all(&mut codec, b"\x10\x00\x00\x01x");
        assert!(matches!(&reserved, Err(e) if e.to_string().contains("reserved header bits")));
        let kind = decode_all(&mut codec, b"\x03\x00\x00\x01x");
        assert!(matches!(&kind, Err(e) if e.to_string().contains("reserved type 3")));
        // Refused as soon as the header is in, before the payload arrives.
        let long = decode_all(&mut codec, b"\x00\x00\x02\x01");
        assert!(
            matches!(&long, Err(e) if e.to_string().contains("513 bytes") && e.to_string().contains("limit of 512")),
            "{long:?}"
        );
        let too_long = decode_all(&mut codec, b"\x08\x00\x00\x01");
        assert!(matches!(&too_long, Err(e) if e.to_string().contains("longer than 2^24")));
        let mut truncated = BytesMut::from(&b"\x00\x00\x00\x05ab"[..]);
        assert!(codec.decode_eof(&mut truncated).is_err());
    }

    #[test]
    fn the_25th_length_bit() {
        let mut codec = RawSocketCodec {
            max_receive: MAX_FRAME,
            role: Role::Client,
        };
        let mut buffer = BytesMut::new();
        let frame = Frame {
            kind: FrameKind::Message,
            payload: Bytes::from(vec![0u8; MAX_FRAME]),
        };
        assert!(codec.encode(frame, &mut buffer).is_ok());
        assert_eq!(buffer.get(..4), Some(&[0x08, 0, 0, 0][..]));
        let decoded = codec.decode(&mut buffer).ok().flatten();
        assert_eq!(decoded.map(|f| f.payload.len()), Some(MAX_FRAME));
    }

    #[test]
    fn socket_errors_keep_their_io_error() {
        let refused = io::Error::new(io::ErrorKind::ConnectionReset, "reset by peer");
        let FramingError(error) = FramingError::from(refused);
        assert_eq!(error.to_string(), "RawSocket I/O error: reset by peer");
        assert_eq!(error.kind(), Some(io::ErrorKind::ConnectionReset));
        let source = std::error::Error::source(&error).and_then(|s| s.downcast_ref::<io::Error>());
        assert_eq!(
            source.map(io::Error::kind),
            Some(io::ErrorKind::ConnectionReset)
        );
        let FramingError(framing) = FramingError::new("bad frame".into());
        assert!(framing.io_error().is_none());
    }
}
