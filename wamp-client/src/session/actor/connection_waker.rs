//! Telling a wake-up by the connection from the session task's other wake-ups.
//!
//! The session task waits on the connection, the command channel, the invocation handlers'
//! outcomes and its timers at once, and a task's waker does not say which of them woke it.
//! Asking the connection on every wake-up costs a read attempt through the WebSocket stack
//! (tungstenite zeroes its spare read buffer, an `io::Error` is made and dropped) and a look at
//! the keepalive timer, and with one request in flight half the wake-ups are for a command.
//! So the connection is polled with a waker of its own, which notes that it was used and then
//! wakes the task: once the connection has answered `Pending`, it is asked again only after
//! that waker was used.
//!
//! Writes go through the same waker ([`ConnectionWaker::poll_write`], [`ConnectionWaker::writing`]):
//! the read side writes too (a RawSocket PONG that waits for room in the socket), and a socket
//! keeps one waker for writing, so a write that waits with the task's own waker would take the
//! wake-up that the read side's reply needs.
//!
//! The guarantee rests on one rule, kept by the session task: the connection is polled only
//! through this module, reading and writing (a poll with another waker would leave that one
//! registered with the socket), and a new connection starts with [`ConnectionWaker::reset`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use futures_util::task::AtomicWaker;

/// The waker the connection is polled with, and whether it answered `Pending` last.
pub(super) struct ConnectionWaker {
    flag: Arc<WokenFlag>,
    waker: Waker,
    /// The connection answered `Pending` to its last poll.
    pending: bool,
}

/// Set when the connection wakes its waker; wakes the task too.
#[derive(Default)]
struct WokenFlag {
    woken: AtomicBool,
    task: AtomicWaker,
}

impl Wake for WokenFlag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // Set before the task is woken: the task's next look at the flag sees it.
        self.woken.store(true, Ordering::SeqCst);
        self.task.wake();
    }
}

impl ConnectionWaker {
    pub(super) fn new() -> Self {
        let flag = Arc::new(WokenFlag::default());
        ConnectionWaker {
            waker: Waker::from(Arc::clone(&flag)),
            flag,
            pending: false,
        }
    }

    /// Polls the connection through `poll` with the connection's own waker, unless it answered
    /// `Pending` last and has not woken since: then `Pending` without asking it.
    pub(super) fn poll<T>(
        &mut self,
        cx: &Context<'_>,
        poll: impl FnOnce(&mut Context<'_>) -> Poll<T>,
    ) -> Poll<T> {
        // Cleared only when set: on a burst of frames it is not, and a load is a plain read
        // where a swap is a locked instruction per frame.
        let woken =
            self.flag.woken.load(Ordering::SeqCst) && self.flag.woken.swap(false, Ordering::SeqCst);
        if !self.pending || woken {
            let polled = poll(&mut Context::from_waker(&self.waker));
            self.pending = polled.is_pending();
            if polled.is_ready() {
                // The task polls again before it waits (a stream is read until `Pending`):
                // its waker is registered then, not for every frame of a burst.
                return polled;
            }
        }
        // Answering `Pending`: the connection's next wake-up must reach this task. One that
        // came before the registration is in the flag: the task wakes itself to see it.
        self.flag.task.register(cx.waker());
        if self.flag.woken.load(Ordering::SeqCst) {
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }

    /// Polls a write to the connection through `write` with the connection's own waker (see
    /// the module's documentation); never skipped.
    pub(super) fn poll_write<T>(
        &self,
        cx: &Context<'_>,
        write: impl FnOnce(&mut Context<'_>) -> Poll<T>,
    ) -> Poll<T> {
        self.flag.task.register(cx.waker());
        write(&mut Context::from_waker(&self.waker))
    }

    /// `write`, a future writing to the connection, polled through [`Self::poll_write`].
    pub(super) fn writing<F: Future + Unpin>(&self, write: F) -> Writing<'_, F> {
        Writing { waker: self, write }
    }

    /// For a new connection, never polled yet.
    pub(super) fn reset(&mut self) {
        self.pending = false;
    }
}

/// A write to the connection polled with the connection's waker (see
/// [`ConnectionWaker::writing`]).
pub(super) struct Writing<'a, F> {
    waker: &'a ConnectionWaker,
    write: F,
}

impl<F: Future + Unpin> Future for Writing<'_, F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        let write = &mut this.write;
        this.waker.poll_write(cx, |cx| Pin::new(write).poll(cx))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// A connection that counts its polls and answers `Pending` until `ready` is set, waking
    /// the waker it was polled with then.
    #[derive(Default)]
    struct Connection {
        polls: usize,
        ready: bool,
        waker: Option<Waker>,
    }

    impl Connection {
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

    fn lock(connection: &Mutex<Connection>) -> std::sync::MutexGuard<'_, Connection> {
        connection.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// End to end on a runtime: a task woken for something else does not ask the connection
    /// again, and the connection's own wake-up reaches the task, which asks it then.
    #[tokio::test]
    async fn the_connection_is_asked_again_only_once_it_woke_the_task() {
        let connection = Arc::new(Mutex::new(Connection::default()));
        let other = Arc::new(tokio::sync::Notify::new());
        let (task_connection, task_other) = (Arc::clone(&connection), Arc::clone(&other));
        let task = tokio::spawn(async move {
            let mut waker = ConnectionWaker::new();
            let mut other_wakeups = 0;
            loop {
                let notified = task_other.notified();
                tokio::pin!(notified);
                let woken = std::future::poll_fn(|cx| {
                    // Asked three times per wake-up, as the main loop would.
                    for _ in 0..3 {
                        if waker
                            .poll(cx, |cx| lock(&task_connection).poll(cx))
                            .is_ready()
                        {
                            return Poll::Ready(true);
                        }
                    }
                    notified.as_mut().poll(cx).map(|()| false)
                })
                .await;
                if woken {
                    return other_wakeups;
                }
                other_wakeups += 1;
            }
        });
        tokio::task::yield_now().await;
        assert_eq!(
            lock(&connection).polls,
            1,
            "asked once in the first wake-up"
        );
        for _ in 0..3 {
            other.notify_one();
            tokio::task::yield_now().await;
        }
        assert_eq!(
            lock(&connection).polls,
            1,
            "not asked on the other wake-ups"
        );
        lock(&connection).make_ready();
        let finished = tokio::time::timeout(std::time::Duration::from_secs(10), task).await;
        assert_eq!(
            finished.ok().and_then(Result::ok),
            Some(3),
            "the wake-up was lost"
        );
        assert_eq!(
            lock(&connection).polls,
            2,
            "asked again once it woke the task"
        );
    }

    /// Counts its wakes.
    #[derive(Default)]
    struct Counting(std::sync::atomic::AtomicUsize);

    impl Wake for Counting {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_wake_before_the_task_registered_is_not_lost() {
        let count = Arc::new(Counting::default());
        let task = Waker::from(Arc::clone(&count));
        let cx = Context::from_waker(&task);
        let mut waker = ConnectionWaker::new();
        // Frames come without registering the task: nothing to wake it for.
        assert!(waker.poll(&cx, |_| Poll::Ready(())).is_ready());
        // The connection wakes its waker while it answers `Pending` (a frame arrived in
        // between), before the task is registered.
        let polled = waker.poll(&cx, |cx| {
            cx.waker().wake_by_ref();
            Poll::<()>::Pending
        });
        assert!(polled.is_pending());
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "the task was not woken");
        let mut asked = false;
        let _ = waker.poll(&cx, |_| {
            asked = true;
            Poll::<()>::Pending
        });
        assert!(asked, "the connection was not asked after its wake-up");
    }

    #[test]
    fn a_new_connection_is_asked() {
        let noop = Waker::noop();
        let cx = Context::from_waker(noop);
        let mut waker = ConnectionWaker::new();
        let mut polls = 0;
        let mut poll = |waker: &mut ConnectionWaker| {
            waker.poll(&cx, |_| {
                polls += 1;
                Poll::<()>::Pending
            })
        };
        assert!(poll(&mut waker).is_pending());
        assert!(poll(&mut waker).is_pending());
        waker.reset();
        assert!(poll(&mut waker).is_pending());
        assert_eq!(polls, 2);
    }
}
