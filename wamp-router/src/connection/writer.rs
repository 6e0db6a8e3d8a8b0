//! The writing half of a connection: encodes what the realm queued for the session and writes
//! it, flushing once per batch. It runs on a task of its own so that a client that is slow to
//! read never stops the router from reading what that client sends.

use bytes::{Bytes, BytesMut};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use wampkit_client::Serializer;
use wampkit_client::transport::Transport;

use crate::realm::outbox::{Inbox, Outgoing};

/// The sink a connection writes to.
pub(crate) type Writer = SplitSink<Box<dyn Transport>, Bytes>;

/// Most items written before a flush: a long queue is flushed in parts.
const BATCH: usize = 64;

/// Below this much free room the encoding buffer is topped up (the encoder would reserve 64 KiB
/// itself, which every idle session would keep)...
const MIN_ROOM: usize = 1024;
/// ... by this much.
const ROOM: usize = 4096;

/// Writes everything queued until every sender is gone or the connection fails; returns the
/// sink (for the closing handshake) unless it failed.
pub(crate) async fn run(
    mut sink: Writer,
    mut inbox: Inbox,
    serializer: Serializer,
) -> Option<Writer> {
    let mut buffer = BytesMut::new();
    while let Some(first) = inbox.recv().await {
        let mut item = Some(first);
        let mut written = 0;
        while let Some(next) = item.take() {
            if let Some(frame) = encode(next, serializer, &mut buffer) {
                if let Err(e) = sink.feed(frame).await {
                    tracing::debug!(error = %e, "cannot write to the client");
                    return None;
                }
            }
            written += 1;
            if written < BATCH {
                item = inbox.try_recv().ok();
            }
        }
        if let Err(e) = sink.flush().await {
            tracing::debug!(error = %e, "cannot write to the client");
            return None;
        }
    }
    Some(sink)
}

/// Encodes one item; a message that cannot be encoded is logged and skipped.
pub(crate) fn encode(
    item: Outgoing,
    serializer: Serializer,
    buffer: &mut BytesMut,
) -> Option<Bytes> {
    match item {
        Outgoing::Frame(frame) => Some(frame),
        Outgoing::Message(message) => {
            if buffer.capacity() < MIN_ROOM {
                buffer.reserve(ROOM);
            }
            encode_message(&message, serializer, buffer)
        }
    }
}

/// Encodes one message into the free end of `buffer`.
fn encode_message(
    message: &wampkit_client::wire::Message,
    serializer: Serializer,
    buffer: &mut BytesMut,
) -> Option<Bytes> {
    match serializer.encode_frame(message, buffer) {
        Ok(frame) => Some(frame),
        Err(e) => {
            tracing::warn!(error = %e, "a message for the client cannot be encoded");
            None
        }
    }
}

/// Reads (and drops) what the client still sends until its GOODBYE, the end of the stream, or
/// the deadline: the closing handshake after the router said GOODBYE.
pub(crate) async fn await_goodbye(
    stream: &mut futures_util::stream::SplitStream<Box<dyn Transport>>,
    serializer: Serializer,
) {
    while let Some(Ok(bytes)) = stream.next().await {
        if let Ok(wampkit_client::wire::Message::Goodbye { .. }) = serializer.decode(&bytes) {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wampkit_client::wire::Message;

    #[test]
    fn an_idle_session_keeps_a_small_encoding_buffer() {
        let message = Message::Published {
            request: 1,
            publication: 2,
        };
        for serializer in Serializer::ALL {
            let mut buffer = BytesMut::new();
            let frame = encode(Outgoing::Message(message.clone()), serializer, &mut buffer);
            assert_eq!(
                frame.map(|f| serializer.decode(&f).ok()),
                Some(Some(message.clone()))
            );
            assert!(
                buffer.capacity() < ROOM,
                "{serializer:?}: {} bytes kept",
                buffer.capacity()
            );
            // The encoder on its own would keep far more.
            let mut own = BytesMut::new();
            let _ = serializer.encode_frame(&message, &mut own);
            assert!(
                own.capacity() > 8 * ROOM,
                "{serializer:?}: {}",
                own.capacity()
            );
        }
    }
}
