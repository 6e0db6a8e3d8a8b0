//! The opening handshake: the client's four bytes, and the check of the router's answer.

use std::io;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::Io;
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
        if let Some(alert) = crate::transport::tls::alert_in(&e) {
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

#[cfg(test)]
mod tests {
    use super::super::MAX_FRAME;
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
}
