//! Writing to the router: each message is encoded and fed to the connection, which is flushed
//! once per batch. A write that blocks (the router reads slowly or not at all) is waited for
//! only until the close path's deadline, or until a handle asks to leave.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::{Sink as _, SinkExt as _};
use tokio::sync::Notify;
use tokio::time::Instant;

use super::{SessionTask, Step, sleep_until};
use crate::error::{CloseInitiator, CloseReason, ErrorUri};
use crate::wire::{Message, describe};

/// What became of a message offered to the connection without waiting.
pub(super) enum Offered {
    /// The connection took it (or it could not be encoded, and was dropped).
    Taken,
    /// The socket is full: the encoded message waits to be written (see
    /// [`SessionTask::send_blocked`]).
    Blocked(Bytes),
}

impl SessionTask {
    pub(super) async fn send(&mut self, message: Message) -> Step {
        let offered = std::future::poll_fn(|cx| Poll::Ready(self.offer(&message, cx))).await?;
        drop(message);
        match offered {
            Offered::Taken => Ok(()),
            Offered::Blocked(bytes) => self.send_blocked(bytes).await,
        }
    }

    /// Encodes `message` and feeds it to the connection if the connection takes it now.
    pub(super) fn offer(
        &mut self,
        message: &Message,
        cx: &mut Context<'_>,
    ) -> std::result::Result<Offered, CloseReason> {
        if tracing::enabled!(tracing::Level::TRACE) {
            tracing::trace!(
                direction = "tx",
                message = message.name(),
                "{}",
                describe(message, self.trace_payloads)
            );
        }
        let bytes = match self
            .serializer
            .encode_frame(message, &mut self.encode_buffer)
        {
            Ok(bytes) => bytes,
            Err(e) => {
                // Only values the user supplied can fail to encode (e.g. a non-finite float in
                // CBOR is fine, but a map key problem is not); the session itself stays healthy.
                tracing::warn!(error = %e, "dropping a message that cannot be encoded");
                return Ok(Offered::Taken);
            }
        };
        let mut transport = Pin::new(&mut self.transport);
        match self
            .connection_waker
            .poll_write(cx, |cx| transport.as_mut().poll_ready(cx))
        {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(e)) => return Err(connection_failed(&e)),
            Poll::Pending => return Ok(Offered::Blocked(bytes)),
        }
        if let Err(e) = transport.start_send(bytes) {
            return Err(connection_failed(&e));
        }
        self.unflushed = true;
        Ok(Offered::Taken)
    }

    /// Writes a message the connection could not take at once (see [`Offered::Blocked`]).
    pub(super) async fn send_blocked(&mut self, bytes: Bytes) -> Step {
        // The socket is full: nobody waits on it for what this batch already has.
        self.handoff.hand_over();
        let leave = self
            .write_deadline
            .is_none()
            .then_some(&*self.leave_requested);
        let feed = self.connection_waker.writing(self.transport.feed(bytes));
        let fed = match blocked_write(feed, self.write_deadline, leave).await {
            Ok(fed) => fed,
            Err(cut) => return Err(self.write_given_up(cut)),
        };
        if let Err(e) = fed {
            return Err(connection_failed(&e));
        }
        self.unflushed = true;
        Ok(())
    }

    pub(super) async fn flush(&mut self) -> Step {
        if self.unflushed {
            self.unflushed = false;
            let leave = self
                .write_deadline
                .is_none()
                .then_some(&*self.leave_requested);
            let flush = self.connection_waker.writing(self.transport.flush());
            let flushed = match blocked_write(flush, self.write_deadline, leave).await {
                Ok(flushed) => flushed,
                Err(cut) => return Err(self.write_given_up(cut)),
            };
            if let Err(e) = flushed {
                return Err(connection_failed(&e));
            }
        }
        Ok(())
    }

    /// Why the session ends when a blocked write is given up.
    fn write_given_up(&mut self, cut: WriteCut) -> CloseReason {
        match cut {
            WriteCut::Deadline => {
                tracing::debug!("the router stopped reading; closing without waiting");
                self.leave_timed_out()
            }
            WriteCut::Leave => {
                tracing::warn!("leaving while the router does not read: closing without GOODBYE");
                CloseReason::new(
                    ErrorUri::CloseRealm,
                    Some("left while the router was not reading; closed without GOODBYE".into()),
                    CloseInitiator::Client,
                )
            }
        }
    }

    /// Bounds the writes from now on by `deadline` (or an earlier one already set).
    pub(super) fn limit_writes(&mut self, deadline: Instant) {
        self.write_deadline = Some(self.write_deadline.map_or(deadline, |d| d.min(deadline)));
    }
}

fn connection_failed(error: &impl std::fmt::Display) -> CloseReason {
    CloseReason::new(
        ErrorUri::SystemShutdown,
        Some(format!("the connection failed: {error}")),
        CloseInitiator::Transport,
    )
}

/// Why a write that blocked was given up.
enum WriteCut {
    /// The close path's deadline passed.
    Deadline,
    /// A handle asked to leave (the session was not closing yet).
    Leave,
}

/// Waits for a write that did not complete at once (the socket is full: the router reads slowly
/// or not at all), until `deadline` or until `leave` is signalled.
async fn blocked_write<T>(
    write: impl Future<Output = T>,
    deadline: Option<Instant>,
    leave: Option<&Notify>,
) -> std::result::Result<T, WriteCut> {
    let mut write = std::pin::pin!(write);
    if let Poll::Ready(done) = std::future::poll_fn(|cx| Poll::Ready(write.as_mut().poll(cx))).await
    {
        return Ok(done);
    }
    let leave = async {
        match leave {
            Some(leave) => leave.notified().await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        biased;
        done = &mut write => Ok(done),
        () = sleep_until(deadline) => Err(WriteCut::Deadline),
        () = leave => Err(WriteCut::Leave),
    }
}
