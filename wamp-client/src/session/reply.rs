//! Polling the channels that answers come back on, without spending the cooperative budget on
//! answers that are already there.
//!
//! Tokio's channels spend the task's cooperative budget on every poll and report `Pending` once
//! it is gone (after 128 polls). A task awaiting many requests at once (`join_all`, a
//! `FuturesUnordered` of calls) would then find the budget spent after 128 of them and re-poll
//! the rest, all ready, over and over: 100k calls awaited that way took twelve times as long.
//! Taking a ready answer with `try_recv` spends nothing; only a wait registers (and spends).

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::{mpsc, oneshot};

/// Polls a one-shot reply: `None` if the sender is gone without answering. Not to be polled
/// again once ready.
pub(crate) fn poll_reply<T>(
    rx: &mut oneshot::Receiver<T>,
    cx: &mut Context<'_>,
) -> Poll<Option<T>> {
    match rx.try_recv() {
        Ok(reply) => Poll::Ready(Some(reply)),
        // The receiver is spent after this: polling it again would panic.
        Err(oneshot::error::TryRecvError::Closed) => Poll::Ready(None),
        Err(oneshot::error::TryRecvError::Empty) => Pin::new(rx).poll(cx).map(Result::ok),
    }
}

/// Polls a stream of replies.
pub(crate) fn poll_next_reply<T>(
    rx: &mut mpsc::Receiver<T>,
    cx: &mut Context<'_>,
) -> Poll<Option<T>> {
    match rx.try_recv() {
        Ok(reply) => Poll::Ready(Some(reply)),
        Err(_) => rx.poll_recv(cx),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spends the task's cooperative budget (128) by receiving 1000 answers the plain way.
    fn spend_budget(cx: &mut Context<'_>) {
        for _ in 0..1000 {
            let (tx, mut rx) = oneshot::channel();
            let _ = tx.send(());
            let _ = Pin::new(&mut rx).poll(cx);
        }
    }

    #[tokio::test]
    async fn a_ready_reply_is_taken_with_the_budget_spent() {
        let (tx, mut plain) = oneshot::channel();
        let _ = tx.send(1);
        let (tx, mut reply) = oneshot::channel();
        let _ = tx.send(2);
        let (tx, mut replies) = mpsc::channel(1);
        let _ = tx.try_send(3);
        std::future::poll_fn(|cx| {
            spend_budget(cx);
            // What this module avoids: a plain poll reports a ready reply as not there.
            assert!(Pin::new(&mut plain).poll(cx).is_pending());
            assert!(matches!(poll_reply(&mut reply, cx), Poll::Ready(Some(2))));
            assert!(matches!(
                poll_next_reply(&mut replies, cx),
                Poll::Ready(Some(3))
            ));
            Poll::Ready(())
        })
        .await;
    }

    #[tokio::test]
    async fn closed_channels_are_reported() {
        let (tx, mut reply) = oneshot::channel::<()>();
        drop(tx);
        let (tx, mut replies) = mpsc::channel::<()>(1);
        drop(tx);
        std::future::poll_fn(|cx| {
            assert!(matches!(poll_reply(&mut reply, cx), Poll::Ready(None)));
            assert!(matches!(
                poll_next_reply(&mut replies, cx),
                Poll::Ready(None)
            ));
            Poll::Ready(())
        })
        .await;
    }
}
