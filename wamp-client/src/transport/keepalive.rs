//! Liveness: PINGs to the router and a dead-peer timeout, shared by the transports.
//!
//! A half-open connection (the router's machine lost power, a NAT or a firewall dropped the flow,
//! a cable was pulled) shows no error on the client: TCP waits, possibly for hours, and every call
//! waits with it. So every transport keeps a [`Keepalive`]: it sends a PING (WebSocket Ping, or a
//! RawSocket PING frame) every interval, and fails the connection when nothing at all (no message,
//! no PONG, not even part of a frame) has arrived from the router for the timeout.
//!
//! Everything runs inside the transport's own `Stream` and `Sink` methods, which the session task
//! polls anyway: `poll_next` is polled whenever the task waits for the router, so the timer is
//! registered with the task's waker there, and the PING is written and flushed right there too
//! (the task flushes only after handling something, which an idle session never does). While the
//! task is stuck writing (the router stopped reading and the socket's buffers are full),
//! `poll_ready` and `poll_flush` watch the same timeout, so a dead router cannot hang a writer
//! either.

use std::future::Future as _;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

use super::TransportError;
use crate::deadline::deadline_from;

/// The interval between PINGs unless the builder says otherwise.
pub(crate) const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
/// How long the router may stay silent unless the builder says otherwise.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// The shortest interval and timeout used: zero would spin.
const MIN_PERIOD: Duration = Duration::from_millis(1);

/// The keepalive settings of the [`SessionBuilder`](crate::SessionBuilder).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeepaliveOptions {
    /// Interval and timeout; `None` turns keepalive off on every transport.
    pub(crate) timing: Option<KeepaliveTiming>,
    /// Whether RawSocket connections send PING frames too (off by default: Crossbar.io's RawSocket
    /// does not understand them and drops the connection, see the builder's documentation).
    pub(crate) rawsocket: bool,
}

impl Default for KeepaliveOptions {
    fn default() -> Self {
        KeepaliveOptions {
            timing: Some(KeepaliveTiming {
                interval: DEFAULT_INTERVAL,
                timeout: DEFAULT_TIMEOUT,
            }),
            rawsocket: false,
        }
    }
}

impl KeepaliveOptions {
    /// The keepalive of a new WebSocket connection, if any.
    pub(crate) fn websocket(&self) -> Option<Keepalive> {
        self.timing.map(Keepalive::new)
    }

    /// The keepalive of a new RawSocket connection, if any.
    #[cfg_attr(not(feature = "rawsocket"), allow(dead_code))]
    pub(crate) fn rawsocket(&self) -> Option<Keepalive> {
        self.timing.filter(|_| self.rawsocket).map(Keepalive::new)
    }
}

/// How often to ping, and how long a silence means the router is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeepaliveTiming {
    /// The time between PINGs.
    pub(crate) interval: Duration,
    /// The longest silence from the router before the connection is declared dead.
    pub(crate) timeout: Duration,
}

/// What the keepalive wants done.
#[derive(Debug)]
enum Tick {
    /// Send a PING now.
    Ping,
    /// The router is gone: fail the connection with this error.
    Dead(TransportError),
}

/// The keepalive state of one connection.
#[derive(Debug)]
pub(crate) struct Keepalive {
    /// The time between PINGs: the interval, or half the timeout if that is shorter, so that an
    /// idle but healthy router always gets a PING to answer before the timeout runs out.
    period: Duration,
    timeout: Duration,
    /// Wakes the reading side for the next PING or the timeout, whichever comes first.
    timer: Pin<Box<Sleep>>,
    /// Wakes a writer blocked on a full socket when the timeout runs out.
    write_timer: Option<Pin<Box<Sleep>>>,
    next_ping: Instant,
    /// When something last arrived from the router.
    last_received: Instant,
    /// Since when writing has been blocked (the socket's buffers full), if it is.
    write_blocked_since: Option<Instant>,
}

impl Keepalive {
    pub(crate) fn new(timing: KeepaliveTiming) -> Self {
        let timeout = timing.timeout.max(MIN_PERIOD * 2);
        let period = timing.interval.min(timeout / 2).max(MIN_PERIOD);
        let now = Instant::now();
        let next_ping = deadline_from(now, period);
        Keepalive {
            period,
            timeout,
            timer: Box::pin(tokio::time::sleep_until(next_ping)),
            write_timer: None,
            next_ping,
            last_received: now,
            write_blocked_since: None,
        }
    }

    /// Records that bytes arrived from the router.
    fn received(&mut self) {
        self.last_received = Instant::now();
    }

    /// Polled by the reading side once the socket has nothing more to read: `Ready` when a PING
    /// is due (poll again afterwards) or the router is dead; `Pending` with the timer registered.
    fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Tick> {
        loop {
            let now = Instant::now();
            let dead_at = deadline_from(self.last_received, self.timeout);
            if now >= dead_at {
                return Poll::Ready(Tick::Dead(self.silence_error()));
            }
            if now >= self.next_ping {
                self.next_ping = deadline_from(now, self.period);
                return Poll::Ready(Tick::Ping);
            }
            let wake = self.next_ping.min(dead_at);
            // Both deadlines only move later (each read moves `dead_at`), so a timer set for
            // an earlier one is left to fire and is moved then: resetting it after every read
            // cost a timer-wheel update per batch of messages.
            if self.timer.deadline() > wake || self.timer.is_elapsed() {
                self.timer.as_mut().reset(wake);
            }
            if self.timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
        }
    }

    /// Polled by the writing side when the socket cannot take more: `Ready` with the error to
    /// fail with once neither writing has progressed nor anything arrived for the timeout.
    fn poll_write_blocked(&mut self, cx: &mut Context<'_>) -> Poll<TransportError> {
        loop {
            let now = Instant::now();
            let since = *self.write_blocked_since.get_or_insert(now);
            let dead_at = deadline_from(since.max(self.last_received), self.timeout);
            if now >= dead_at {
                return Poll::Ready(TransportError::new(format!(
                    "the router has taken nothing of what this client sends and sent nothing for \
                     {}: the connection is dead",
                    seconds(self.timeout)
                )));
            }
            let timer = self
                .write_timer
                .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(dead_at)));
            if timer.deadline() != dead_at || timer.is_elapsed() {
                timer.as_mut().reset(dead_at);
            }
            if timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
        }
    }

    /// Records that the socket took what was written.
    fn write_unblocked(&mut self) {
        self.write_blocked_since = None;
    }

    fn silence_error(&self) -> TransportError {
        TransportError::new(format!(
            "no answer from the router for {}: the connection is dead",
            seconds(self.timeout)
        ))
    }
}

/// A transport's liveness bookkeeping: its [`Keepalive`], if on, and whether it declared the
/// router dead. Every transport keeps one and reports its reads and writes to it.
#[derive(Debug)]
pub(crate) struct Liveness {
    /// `None` when keepalive is off, and once the router was declared dead.
    keepalive: Option<Keepalive>,
    dead: bool,
}

impl Liveness {
    pub(crate) fn new(keepalive: Option<Keepalive>) -> Self {
        Liveness {
            keepalive,
            dead: false,
        }
    }

    /// Whether the router was declared dead: closing then skips the close handshake.
    pub(crate) fn is_dead(&self) -> bool {
        self.dead
    }

    /// After a read: `activity` says whether anything at all arrived from the router.
    pub(crate) fn note_read(&mut self, activity: bool) {
        if activity {
            if let Some(keepalive) = &mut self.keepalive {
                keepalive.received();
            }
        }
    }

    /// Polled once the socket has nothing more to read: `Ready(Ok(()))` when a PING is due (send
    /// it, then poll again), `Ready(Err(_))` when the router is dead, `Pending` otherwise (always,
    /// with keepalive off).
    pub(crate) fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        let Some(keepalive) = &mut self.keepalive else {
            return Poll::Pending;
        };
        match keepalive.poll_tick(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Tick::Ping) => Poll::Ready(Ok(())),
            Poll::Ready(Tick::Dead(error)) => {
                self.keepalive = None;
                self.dead = true;
                Poll::Ready(Err(error))
            }
        }
    }

    /// The outcome of a write that could not complete: after the keepalive timeout, an error.
    pub(crate) fn write_pending<T>(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<T, TransportError>> {
        if let Some(keepalive) = &mut self.keepalive {
            if let Poll::Ready(error) = keepalive.poll_write_blocked(cx) {
                self.dead = true;
                return Poll::Ready(Err(error));
            }
        }
        Poll::Pending
    }

    /// Notes that a write completed.
    pub(crate) fn write_done(&mut self) {
        if let Some(keepalive) = &mut self.keepalive {
            keepalive.write_unblocked();
        }
    }
}

/// `60 s`, `1.5 s`.
fn seconds(duration: Duration) -> String {
    format!("{} s", duration.as_secs_f64())
}

/// Wraps a connection's byte stream to notice when anything at all is read from it (part of a
/// frame included): a large message arriving slowly proves the router alive as much as a PONG.
#[derive(Debug)]
pub(crate) struct ActivityIo<S> {
    inner: S,
    active: bool,
}

impl<S> ActivityIo<S> {
    pub(crate) fn new(inner: S) -> Self {
        ActivityIo {
            inner,
            active: false,
        }
    }

    /// Whether anything was read since the last call.
    pub(crate) fn take_activity(&mut self) -> bool {
        std::mem::take(&mut self.active)
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for ActivityIo<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.active = true;
        }
        result
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for ActivityIo<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::future::poll_fn;

    use super::*;

    fn timing(interval_ms: u64, timeout_ms: u64) -> KeepaliveTiming {
        KeepaliveTiming {
            interval: Duration::from_millis(interval_ms),
            timeout: Duration::from_millis(timeout_ms),
        }
    }

    #[test]
    fn defaults() {
        let options = KeepaliveOptions::default();
        assert_eq!(options.timing, Some(timing(30_000, 60_000)));
        assert!(!options.rawsocket);
    }

    #[tokio::test]
    async fn the_period_leaves_room_for_an_answer() {
        let keepalive = Keepalive::new(timing(30_000, 10_000));
        assert_eq!(keepalive.period, Duration::from_secs(5));
        let zero = Keepalive::new(timing(0, 0));
        assert_eq!(zero.period, MIN_PERIOD);
        assert_eq!(zero.timeout, MIN_PERIOD * 2);
    }

    #[test]
    fn durations_read_as_seconds() {
        assert_eq!(seconds(Duration::from_secs(60)), "60 s");
        assert_eq!(seconds(Duration::from_millis(1500)), "1.5 s");
    }

    #[tokio::test]
    async fn pings_then_declares_the_silent_router_dead() {
        let mut keepalive = Keepalive::new(timing(20, 70));
        let start = Instant::now();
        let mut pings = 0;
        let error = loop {
            match poll_fn(|cx| keepalive.poll_tick(cx)).await {
                Tick::Ping => pings += 1,
                Tick::Dead(error) => break error,
            }
        };
        // 20, 40 and 60 ms, unless a busy machine delayed one past the next.
        assert!((2..=3).contains(&pings), "{pings} pings");
        assert!(start.elapsed() >= Duration::from_millis(70));
        assert_eq!(
            error.to_string(),
            "no answer from the router for 0.07 s: the connection is dead"
        );
    }

    #[tokio::test]
    async fn traffic_keeps_the_connection_alive() {
        let mut keepalive = Keepalive::new(timing(20, 50));
        let start = Instant::now();
        for _ in 0..10 {
            assert!(matches!(
                poll_fn(|cx| keepalive.poll_tick(cx)).await,
                Tick::Ping
            ));
            keepalive.received();
        }
        assert!(start.elapsed() >= Duration::from_millis(200));
    }

    #[tokio::test]
    async fn a_blocked_writer_gives_up_after_the_timeout() {
        let mut keepalive = Keepalive::new(timing(20, 60));
        tokio::time::sleep(Duration::from_millis(30)).await;
        let start = Instant::now();
        let error = poll_fn(|cx| keepalive.poll_write_blocked(cx)).await;
        assert!(start.elapsed() >= Duration::from_millis(60));
        assert!(error.to_string().contains("taken nothing"), "{}", error);
        keepalive.write_unblocked();
        assert!(keepalive.write_blocked_since.is_none());
    }
}
