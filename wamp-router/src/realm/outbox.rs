//! A session's outbound queue: what the router has routed to it and its connection has not
//! written yet. Routing never waits on it: a full queue drops events (counted) or closes the
//! session, as [`SlowConsumer`] says; RPC messages are never dropped while the session lives.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use wampkit_client::Serializer;
use wampkit_client::wire::Message;

use crate::builder::SlowConsumer;

/// One item for the connection's writer.
#[derive(Debug)]
pub(crate) enum Outgoing {
    /// A message to encode with the session's serializer.
    Message(Message),
    /// A message already encoded with the session's serializer (an event encoded once for many
    /// subscribers).
    Frame(Bytes),
}

/// The sending side of a session's queue, held by the realm.
#[derive(Debug, Clone)]
pub(crate) struct Outbox {
    queue: mpsc::Sender<Outgoing>,
    serializer: Serializer,
    policy: SlowConsumer,
    /// Cancelled when the session must end at once (its queue overflowed, or it was killed).
    close: CancellationToken,
    dropped_events: Arc<AtomicU64>,
}

/// The receiving side, held by the connection's writer.
pub(crate) type Inbox = mpsc::Receiver<Outgoing>;

impl Outbox {
    /// A queue of `capacity` items for a session speaking `serializer`.
    pub(crate) fn new(
        capacity: usize,
        serializer: Serializer,
        policy: SlowConsumer,
        close: CancellationToken,
    ) -> (Outbox, Inbox) {
        let (queue, inbox) = mpsc::channel(capacity.max(1));
        let outbox = Outbox {
            queue,
            serializer,
            policy,
            close,
            dropped_events: Arc::new(AtomicU64::new(0)),
        };
        (outbox, inbox)
    }

    /// The serializer the session speaks.
    pub(crate) fn serializer(&self) -> Serializer {
        self.serializer
    }

    /// Queues a message that must not be lost (RPC, replies, GOODBYE): a session that cannot
    /// take it is closed.
    pub(crate) fn send(&self, message: Message) {
        self.push(Outgoing::Message(message), false);
    }

    /// Queues an event: dropped and counted if the session is behind (or the session is
    /// closed, as its policy says).
    pub(crate) fn send_event(&self, event: Outgoing) {
        self.push(event, true);
    }

    fn push(&self, item: Outgoing, droppable: bool) {
        match self.queue.try_send(item) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Closed(_)) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                if droppable && self.policy == SlowConsumer::DropEvents {
                    let dropped = self.dropped_events.fetch_add(1, Ordering::Relaxed) + 1;
                    if dropped.is_power_of_two() {
                        tracing::warn!(
                            dropped,
                            "a session reads too slowly: events to it are dropped"
                        );
                    }
                } else {
                    tracing::warn!("a session reads too slowly: it is closed");
                    self.close.cancel();
                }
            }
        }
    }

    /// Events dropped so far.
    pub(crate) fn dropped_events(&self) -> u64 {
        self.dropped_events.load(Ordering::Relaxed)
    }

    /// Ends the session at once.
    pub(crate) fn close(&self) {
        self.close.cancel();
    }
}
