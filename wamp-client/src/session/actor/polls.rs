//! Counting the runtime's polls of the session task, so that the connection, once it has
//! answered that it has nothing to read, is not asked again before the task returns to the
//! runtime.
//!
//! A source that answered `Pending` to a poll with the task's own waker wakes the task when it
//! has something. Asking it again within the same poll of the task only repeats that answer,
//! and for the connection each repeat is a read attempt through the WebSocket stack and a look
//! at the keepalive timer. With one request in flight, each wake-up of the task asked the
//! connection two or three times in vain; now at most once.
//!
//! The guarantee rests on two rules, kept by the main loop: the connection is polled only with
//! the task's own waker (never `now_or_never`, whose no-op waker would replace the task's), and
//! a new connection starts unparked ([`Parked::reset`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

/// A future that counts how often the runtime polls it (see [`Parked`]).
pub(super) struct PollCounted<F> {
    inner: Pin<Box<F>>,
    polls: Arc<AtomicU64>,
}

impl<F: Future> PollCounted<F> {
    pub(super) fn new(inner: F, count: &PollCount) -> Self {
        PollCounted {
            inner: Box::pin(inner),
            polls: Arc::clone(&count.0),
        }
    }
}

impl<F: Future> Future for PollCounted<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // Written and read only within this task's polls, which never overlap: no ordering needed.
        self.polls.fetch_add(1, Ordering::Relaxed);
        self.inner.as_mut().poll(cx)
    }
}

/// How often the task was polled so far; shared with its [`PollCounted`] wrapper.
#[derive(Clone, Default)]
pub(super) struct PollCount(Arc<AtomicU64>);

impl PollCount {
    fn now(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Whether a source answered `Pending` in the current poll of the task, and so already waits
/// to wake it.
pub(super) struct Parked {
    count: PollCount,
    /// The poll in which it answered `Pending`; [`NEVER`] when it answered something else.
    at: u64,
}

/// No poll has this number: the count starts at 0 and would take centuries to wrap.
const NEVER: u64 = u64::MAX;

impl Parked {
    pub(super) fn new(count: PollCount) -> Self {
        Parked { count, at: NEVER }
    }

    /// The count of the task this belongs to (to wrap the task in [`PollCounted`]).
    pub(super) fn count(&self) -> &PollCount {
        &self.count
    }

    /// `true` when the source answered `Pending` to a poll with the task's waker since the
    /// runtime last polled the task: it will wake the task, asking it again is useless.
    pub(super) fn is_parked(&self) -> bool {
        self.at == self.count.now()
    }

    /// Notes what the source answered to a poll with the task's waker.
    pub(super) fn note<T>(&mut self, polled: &Poll<T>) {
        self.at = if polled.is_pending() {
            self.count.now()
        } else {
            NEVER
        };
    }

    /// For a new source (a new connection), never polled yet.
    pub(super) fn reset(&mut self) {
        self.at = NEVER;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A source that counts its polls and answers `Pending` until `ready` is set, waking the
    /// waker it was polled with then.
    #[derive(Default)]
    struct Source {
        polls: usize,
        ready: bool,
        waker: Option<std::task::Waker>,
    }

    impl Source {
        fn poll(&mut self, cx: &Context<'_>) -> Poll<()> {
            self.polls += 1;
            if self.ready {
                Poll::Ready(())
            } else {
                self.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }

        fn make_ready(&mut self) {
            self.ready = true;
            if let Some(waker) = self.waker.take() {
                waker.wake();
            }
        }
    }

    /// The wake-up protocol the main loop follows, end to end on a real runtime: a source that
    /// answered `Pending` is skipped for the rest of that poll, and asked again in the next,
    /// so nothing it has is missed.
    #[tokio::test]
    async fn a_parked_source_is_skipped_in_its_poll_and_asked_again_in_the_next() {
        let count = PollCount::default();
        let mut parked = Parked::new(count.clone());
        let source = Arc::new(std::sync::Mutex::new(Source::default()));
        let task_source = Arc::clone(&source);
        let task = PollCounted::new(
            async move {
                let mut asked_in_vain = 0;
                std::future::poll_fn(|cx| {
                    let mut source = task_source.lock().unwrap_or_else(|e| e.into_inner());
                    // Three askings per poll, as a wake-up of the main loop would.
                    for _ in 0..3 {
                        if parked.is_parked() {
                            continue;
                        }
                        let polled = source.poll(cx);
                        parked.note(&polled);
                        if polled.is_ready() {
                            return Poll::Ready(asked_in_vain);
                        }
                        asked_in_vain += 1;
                    }
                    Poll::Pending
                })
                .await
            },
            &count,
        );
        let handle = tokio::spawn(task);
        tokio::task::yield_now().await;
        // Asked once in the task's first poll, though the task tried three times.
        assert_eq!(source.lock().unwrap_or_else(|e| e.into_inner()).polls, 1);
        // Once it has something it wakes the task, which asks it again.
        source
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .make_ready();
        let asked_in_vain = handle.await.unwrap_or(usize::MAX);
        assert_eq!(asked_in_vain, 1);
        assert_eq!(source.lock().unwrap_or_else(|e| e.into_inner()).polls, 2);
    }

    #[test]
    fn a_source_is_unparked_by_an_answer_a_new_poll_or_a_reset() {
        let count = PollCount::default();
        let mut parked = Parked::new(count.clone());
        assert!(!parked.is_parked(), "never polled");
        parked.note(&Poll::<()>::Pending);
        assert!(parked.is_parked());
        parked.note(&Poll::Ready(()));
        assert!(!parked.is_parked(), "it answered");
        parked.note(&Poll::<()>::Pending);
        count.0.fetch_add(1, Ordering::Relaxed);
        assert!(!parked.is_parked(), "the task was polled again");
        parked.note(&Poll::<()>::Pending);
        parked.reset();
        assert!(!parked.is_parked(), "a new connection");
    }
}
