//! The liveness settings of [`SessionBuilder`]: PINGs and the dead-peer timeout.

use std::time::Duration;

use super::SessionBuilder;
use crate::transport::KeepaliveTiming;

/// # Keepalive
///
/// A connection whose router vanished without closing it (power loss, a NAT or firewall that
/// forgot the flow, a pulled cable) shows no error: TCP waits, for hours if nothing is sent, and
/// every call waits with it. So the client checks that the router is alive. Every `interval` it
/// sends a PING (a WebSocket Ping frame, or a RawSocket PING frame when
/// [`rawsocket_keepalive`](SessionBuilder::rawsocket_keepalive) is on), which the router answers
/// by itself; when nothing at all has arrived from the router for `timeout` (no message, no PONG,
/// not even part of a frame), the connection is declared dead: the session closes with
/// [`CloseInitiator::Transport`](crate::error::CloseInitiator::Transport) and the message
/// "no answer from the router for 60 s: the connection is dead", and every pending call, publish,
/// subscribe or register fails with [`Error::SessionClosed`](crate::Error::SessionClosed). The
/// same timeout applies when sending is blocked because the router stopped reading.
///
/// The default is a PING every 30 s and a 60 s timeout on WebSocket, and no keepalive on
/// RawSocket (see [`rawsocket_keepalive`](SessionBuilder::rawsocket_keepalive) for why). PINGs
/// also keep idle connections open through proxies and NATs that drop silent flows.
///
/// ```no_run
/// # async fn demo() -> wampkit::Result<()> {
/// use std::time::Duration;
/// use wampkit::Session;
///
/// // Notice a vanished router within about 10 s.
/// let session = Session::builder("ws://127.0.0.1:8080/ws", "realm1")
///     .keepalive(Duration::from_secs(5), Duration::from_secs(10))
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
impl SessionBuilder {
    /// Sends a PING every `interval` and declares the connection dead when nothing has arrived
    /// from the router for `timeout` (default: 30 s and 60 s, on WebSocket only unless
    /// [`rawsocket_keepalive`](SessionBuilder::rawsocket_keepalive) is on).
    ///
    /// `timeout` should leave the router time to answer a PING: PINGs go out every `interval` or
    /// every `timeout / 2`, whichever is shorter, so a timeout shorter than the interval still
    /// works. Durations below a millisecond are raised to one; `Duration::MAX` means never.
    pub fn keepalive(mut self, interval: Duration, timeout: Duration) -> Self {
        self.transport.keepalive.timing = Some(KeepaliveTiming { interval, timeout });
        self
    }

    /// Turns keepalive off on every transport: no PINGs, and a silent router is waited for
    /// indefinitely (until the operating system notices the connection is gone, which may take
    /// hours).
    pub fn no_keepalive(mut self) -> Self {
        self.transport.keepalive.timing = None;
        self
    }

    /// Makes RawSocket connections (`rs://`, `rss://`, `unix://`) send keepalive PING frames and
    /// apply the [`keepalive`](SessionBuilder::keepalive) timeout (by default they do not).
    ///
    /// Off by default because Crossbar.io does not understand RawSocket PINGs: its RawSocket
    /// (Autobahn|Python on Twisted, checked with Crossbar.io 26.10) reads a PING frame's header as
    /// the length of a message of more than 16 MiB and drops the connection. Turn it on for
    /// routers that answer PINGs with PONGs, as the RawSocket specification asks. PINGs from the
    /// router are answered either way.
    pub fn rawsocket_keepalive(mut self) -> Self {
        self.transport.keepalive.rawsocket = true;
        self
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::Session;
    use crate::transport::{DEFAULT_INTERVAL, DEFAULT_TIMEOUT, KeepaliveTiming};

    #[test]
    fn settings_reach_the_transport_options() {
        let builder = Session::builder("ws://127.0.0.1:1/ws", "realm1");
        let defaults = builder.transport.keepalive;
        assert_eq!(
            defaults.timing,
            Some(KeepaliveTiming {
                interval: DEFAULT_INTERVAL,
                timeout: DEFAULT_TIMEOUT
            })
        );
        assert!(!defaults.rawsocket);

        let builder = builder
            .keepalive(Duration::from_secs(1), Duration::from_secs(3))
            .rawsocket_keepalive();
        let options = builder.transport.keepalive;
        assert_eq!(
            options.timing,
            Some(KeepaliveTiming {
                interval: Duration::from_secs(1),
                timeout: Duration::from_secs(3)
            })
        );
        assert!(options.rawsocket);
        assert_eq!(builder.no_keepalive().transport.keepalive.timing, None);
    }
}
