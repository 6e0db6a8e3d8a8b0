//! The opening handshake: the client's four bytes and the check of the router's answer, and
//! the router's half ([`server_handshake`]).

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};

use super::{Io, MAX_FRAME};
use crate::transport::TransportError;
use crate::wire::Serializer;

/// The first byte of both handshake halves.
const MAGIC: u8 = 0x7F;
/// The shortest limit a handshake can announce: 2^9 bytes (LLLL = 0).
const MIN_ANNOUNCED: usize = 1 << 9;
/// How long the router may take to answer the handshake. Routers answer at once; a WebSocket
/// endpoint reached by mistake waits for the rest of an HTTP request and never does.
const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The RawSocket serializer id.
fn serializer_id(serializer: Serializer) -> u8 {
    match serializer {
        Serializer::Json => 1,
        Serializer::MsgPack => 2,
        Serializer::Cbor => 3,
    }
}

/// The serializer a RawSocket serializer id names, if this build has it.
fn serializer_of(id: u8) -> Option<Serializer> {
    Serializer::ALL
        .into_iter()
        .filter(|serializer| serializer.is_available())
        .find(|&serializer| serializer_id(serializer) == id)
}

/// LLLL for a receive limit: the largest power of two not above it (so a router that honours
/// the announcement never sends what we would refuse), at least 2^9 (the smallest RawSocket can
/// say; a smaller limit is still enforced locally).
fn length_exponent(max_receive: usize) -> u8 {
    let mut exponent = 0u8;
    while exponent < 15 && (MIN_ANNOUNCED << (exponent + 1)) <= max_receive {
        exponent += 1;
    }
    exponent
}

/// The client half of the handshake.
pub(crate) fn client_hello(serializer: Serializer, max_receive: usize) -> [u8; 4] {
    [
        MAGIC,
        (length_exponent(max_receive) << 4) | serializer_id(serializer),
        0,
        0,
    ]
}

/// Why a handshake did not succeed.
#[derive(Debug)]
pub(crate) enum HandshakeError {
    /// The router refused the serializer (error 1), or closed the connection without an answer,
    /// which is how Crossbar.io refuses one: another serializer may work.
    SerializerRefused(String),
    /// Anything else: give up.
    Fatal(String),
}

/// Checks the router's half of the handshake; returns the longest message it accepts.
pub(crate) fn check_reply(reply: [u8; 4], serializer: Serializer) -> Result<usize, HandshakeError> {
    let [magic, second, reserved1, reserved2] = reply;
    if magic != MAGIC {
        let hint = if &reply == b"HTTP" {
            " (it answered HTTP: this looks like a WebSocket endpoint; use ws:// or wss://)"
        } else {
            ""
        };
        return Err(HandshakeError::Fatal(format!(
            "the router did not answer with a RawSocket handshake (first byte 0x{magic:02X} \
             instead of 0x7F){hint}: is this a RawSocket endpoint?"
        )));
    }
    if reserved1 != 0 || reserved2 != 0 {
        return Err(HandshakeError::Fatal(format!(
            "the router's RawSocket handshake has non-zero reserved bytes (0x{reserved1:02X} \
             0x{reserved2:02X})"
        )));
    }
    let high = second >> 4;
    let low = second & 0x0F;
    if low == 0 {
        let name = serializer.name();
        return Err(match high {
            1 => HandshakeError::SerializerRefused(format!(
                "the router does not support serializer {name} over RawSocket (handshake error 1)"
            )),
            2 => HandshakeError::Fatal(
                "the router does not accept the maximum message length this client announced \
                 (RawSocket handshake error 2); try another max_message_size"
                    .to_owned(),
            ),
            3 => HandshakeError::Fatal(
                "the router reports the use of reserved bits (RawSocket handshake error 3): it \
                 may speak another RawSocket version"
                    .to_owned(),
            ),
            4 => HandshakeError::Fatal(
                "the router has reached its maximum number of connections (RawSocket handshake \
                 error 4); try again later"
                    .to_owned(),
            ),
            code => HandshakeError::Fatal(format!(
                "the router refused the RawSocket handshake with error code {code}, which this \
                 client does not know"
            )),
        });
    }
    let requested = serializer_id(serializer);
    if low != requested {
        return Err(HandshakeError::Fatal(format!(
            "the router answered the RawSocket handshake with serializer id {low}, not the \
             requested {requested} ({})",
            serializer.name()
        )));
    }
    Ok(MIN_ANNOUNCED << high)
}

/// Runs the handshake on a freshly opened stream.
pub(super) async fn handshake(
    stream: &mut (dyn Io + '_),
    serializer: Serializer,
    max_receive: usize,
) -> Result<usize, HandshakeError> {
    let hello = client_hello(serializer, max_receive);
    let io_error = |e: io::Error| {
        if let Some(alert) = crate::transport::features::tls_alert_in(&e) {
            HandshakeError::Fatal(alert)
        } else if matches!(
            e.kind(),
            io::ErrorKind::UnexpectedEof
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::BrokenPipe
        ) {
            HandshakeError::SerializerRefused(format!(
                "the router closed the connection during the RawSocket handshake: it may not \
                 support serializer {} over RawSocket (Crossbar.io closes the connection instead \
                 of answering error 1), or this is not a RawSocket endpoint",
                serializer.name()
            ))
        } else {
            HandshakeError::Fatal(format!("network error during the RawSocket handshake: {e}"))
        }
    };
    stream.write_all(&hello).await.map_err(io_error)?;
    stream.flush().await.map_err(io_error)?;
    let mut reply = [0u8; 4];
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, stream.read_exact(&mut reply)).await {
        Ok(read) => read.map_err(io_error)?,
        Err(_) => {
            return Err(HandshakeError::Fatal(format!(
                "the router did not answer the RawSocket handshake within {} s: is this a \
                 RawSocket endpoint? (a WebSocket endpoint waits silently; use ws:// or wss:// \
                 for it)",
                HANDSHAKE_TIMEOUT.as_secs()
            )));
        }
    };
    check_reply(reply, serializer)
}

/// What the router's half of the handshake agreed on with a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerHandshake {
    /// The serializer the client asked for.
    pub serializer: Serializer,
    /// The longest message the client accepts, as it announced (2^9 to 2^24 bytes).
    pub max_send: usize,
    /// The longest message accepted from the client.
    pub max_receive: usize,
}

/// The router's answer to a client's four bytes: its own four bytes, or an error code.
fn server_reply(hello: [u8; 4], max_receive: usize) -> Result<(ServerHandshake, [u8; 4]), Refusal> {
    let [magic, second, reserved1, reserved2] = hello;
    if magic != MAGIC {
        let hint = if magic == b'G' {
            " (an HTTP request: this is a RawSocket endpoint, not a WebSocket one)"
        } else {
            ""
        };
        return Err(Refusal {
            code: None,
            reason: format!(
                "the client did not open with a RawSocket handshake (first byte 0x{magic:02X} \
                 instead of 0x7F){hint}"
            ),
        });
    }
    if reserved1 != 0 || reserved2 != 0 {
        return Err(Refusal {
            code: Some(3),
            reason: format!(
                "the client's RawSocket handshake has non-zero reserved bytes (0x{reserved1:02X} \
                 0x{reserved2:02X})"
            ),
        });
    }
    let id = second & 0x0F;
    let Some(serializer) = serializer_of(id) else {
        return Err(Refusal {
            code: Some(1),
            reason: format!(
                "the client asked for RawSocket serializer id {id}; this router speaks 1 (JSON), \
                 2 (MessagePack) and 3 (CBOR)"
            ),
        });
    };
    let max_receive = max_receive.min(MAX_FRAME);
    let handshake = ServerHandshake {
        serializer,
        max_send: MIN_ANNOUNCED << (second >> 4),
        max_receive,
    };
    let reply = [MAGIC, (length_exponent(max_receive) << 4) | id, 0, 0];
    Ok((handshake, reply))
}

/// A client's handshake the router refuses.
#[derive(Debug)]
struct Refusal {
    /// The error code to answer with (1 serializer unsupported, 3 reserved bits), or `None` to
    /// close without an answer (the client does not speak RawSocket).
    code: Option<u8>,
    reason: String,
}

/// Runs the router's half of the handshake on a freshly accepted stream: reads the client's
/// four bytes and answers with the router's own, announcing `max_receive` (rounded down to a
/// power of two from 2^9 to 2^24; the exact limit is enforced by
/// [`RawSocketTransport::server`](super::RawSocketTransport::server)).
///
/// A client asking for an unknown serializer or setting reserved bits is answered with the
/// specification's error code (1 or 3) and refused; one that does not open with the RawSocket
/// magic byte is refused without an answer. This waits for the client as long as it takes:
/// bound it with a timeout.
pub async fn server_handshake<S>(
    stream: &mut S,
    max_receive: usize,
) -> Result<ServerHandshake, TransportError>
where
    S: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    let io_error = |e: io::Error| TransportError::io("RawSocket handshake failed", e);
    let mut hello = [0u8; 4];
    stream.read_exact(&mut hello).await.map_err(io_error)?;
    match server_reply(hello, max_receive) {
        Ok((handshake, reply)) => {
            stream.write_all(&reply).await.map_err(io_error)?;
            stream.flush().await.map_err(io_error)?;
            Ok(handshake)
        }
        Err(refusal) => {
            if let Some(code) = refusal.code {
                // Best effort: the client is refused whether or not it hears why.
                let answer = [MAGIC, code << 4, 0, 0];
                if stream.write_all(&answer).await.is_ok() {
                    let _ = stream.flush().await;
                }
            }
            Err(TransportError::new(refusal.reason))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_bytes() {
        assert_eq!(
            client_hello(Serializer::Json, MAX_FRAME),
            [0x7F, 0xF1, 0, 0]
        );
        assert_eq!(
            client_hello(Serializer::Cbor, MAX_FRAME),
            [0x7F, 0xF3, 0, 0]
        );
        assert_eq!(client_hello(Serializer::MsgPack, 512), [0x7F, 0x02, 0, 0]);
        // Below the smallest announceable limit: announce 512, enforce locally.
        assert_eq!(client_hello(Serializer::MsgPack, 100), [0x7F, 0x02, 0, 0]);
        // Not a power of two: round down.
        assert_eq!(client_hello(Serializer::Json, 65_535), [0x7F, 0x61, 0, 0]);
        assert_eq!(client_hello(Serializer::Json, 65_536), [0x7F, 0x71, 0, 0]);
        assert_eq!(
            client_hello(Serializer::Json, usize::MAX),
            [0x7F, 0xF1, 0, 0]
        );
    }

    #[test]
    fn replies() {
        assert_eq!(
            check_reply([0x7F, 0x71, 0, 0], Serializer::Json).ok(),
            Some(65_536)
        );
        assert_eq!(
            check_reply([0x7F, 0xF2, 0, 0], Serializer::MsgPack).ok(),
            Some(MAX_FRAME)
        );
        let refused = check_reply([0x7F, 0x10, 0, 0], Serializer::Cbor);
        assert!(
            matches!(&refused, Err(HandshakeError::SerializerRefused(m))
                if m.contains("does not support serializer cbor over RawSocket")),
            "{refused:?}"
        );
        for (byte, text) in [
            (0x20, "maximum message length"),
            (0x30, "reserved bits"),
            (0x40, "maximum number of connections"),
            (0x50, "error code 5"),
        ] {
            let reply = check_reply([0x7F, byte, 0, 0], Serializer::Json);
            assert!(
                matches!(&reply, Err(HandshakeError::Fatal(m)) if m.contains(text)),
                "{reply:?}"
            );
        }
        let http = check_reply(*b"HTTP", Serializer::Json);
        assert!(
            matches!(&http, Err(HandshakeError::Fatal(m)) if m.contains("WebSocket endpoint")),
            "{http:?}"
        );
        let reserved = check_reply([0x7F, 0xF1, 0, 1], Serializer::Json);
        assert!(matches!(reserved, Err(HandshakeError::Fatal(_))));
        let wrong = check_reply([0x7F, 0xF2, 0, 0], Serializer::Json);
        assert!(
            matches!(&wrong, Err(HandshakeError::Fatal(m)) if m.contains("serializer id 2")),
            "{wrong:?}"
        );
    }

    #[test]
    fn server_replies() {
        let ok = server_reply([0x7F, 0x62, 0, 0], MAX_FRAME).ok();
        assert_eq!(
            ok,
            Some((
                ServerHandshake {
                    serializer: Serializer::MsgPack,
                    max_send: 1 << 15,
                    max_receive: MAX_FRAME,
                },
                [0x7F, 0xF2, 0, 0]
            ))
        );
        // The router's limit rounds down in the announcement, and is capped at 2^24.
        let small = server_reply([0x7F, 0xF1, 0, 0], 100_000).ok();
        assert_eq!(
            small.map(|(h, r)| (h.max_receive, r)),
            Some((100_000, [0x7F, 0x71, 0, 0]))
        );
        let big = server_reply([0x7F, 0x03, 0, 0], usize::MAX).ok();
        assert_eq!(
            big.map(|(h, r)| (h.serializer, h.max_send, h.max_receive, r)),
            Some((Serializer::Cbor, 512, MAX_FRAME, [0x7F, 0xF3, 0, 0]))
        );
        for (hello, code, text) in [
            ([0x7F, 0xF4, 0, 0], Some(1), "serializer id 4"),
            ([0x7F, 0xF0, 0, 0], Some(1), "serializer id 0"),
            ([0x7F, 0xF1, 1, 0], Some(3), "reserved bytes"),
            (*b"GET ", None, "HTTP request"),
            ([0x00, 0xF1, 0, 0], None, "first byte 0x00"),
        ] {
            let refusal = server_reply(hello, MAX_FRAME).err();
            assert!(
                refusal
                    .as_ref()
                    .is_some_and(|r| r.code == code && r.reason.contains(text)),
                "{hello:?}: {refusal:?}"
            );
        }
    }

    #[tokio::test]
    async fn both_halves_agree() {
        let (mut client, mut server) = tokio::io::duplex(64);
        let (client_side, server_side) = tokio::join!(
            handshake(&mut client, Serializer::Cbor, 1 << 20),
            server_handshake(&mut server, 4096)
        );
        assert_eq!(client_side.ok(), Some(4096));
        assert_eq!(
            server_side.ok(),
            Some(ServerHandshake {
                serializer: Serializer::Cbor,
                max_send: 1 << 20,
                max_receive: 4096,
            })
        );
    }

    #[tokio::test]
    async fn refusals_are_answered() {
        let (mut client, mut server) = tokio::io::duplex(64);
        let hello = [0x7F, 0xF7, 0, 0];
        let (written, refused) = tokio::join!(
            client.write_all(&hello),
            server_handshake(&mut server, 4096)
        );
        assert!(written.is_ok());
        assert!(refused.is_err_and(|e| e.to_string().contains("serializer id 7")));
        let mut answer = [0u8; 4];
        assert!(client.read_exact(&mut answer).await.is_ok());
        assert_eq!(answer, [0x7F, 0x10, 0, 0]);
    }
}
