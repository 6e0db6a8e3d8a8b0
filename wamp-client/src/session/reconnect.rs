//! Reconnection: the policy that decides when and how often a lost session is rejoined, and
//! the observable state of a session.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::Stream;
use tokio::sync::watch;

use crate::error::{CloseReason, Error, ErrorUri};
use crate::wire::Id;

/// How a session reconnects after losing its connection. Set it with
/// [`SessionBuilder::reconnect`](crate::SessionBuilder::reconnect).
///
/// After a loss the session waits `initial_delay`, tries to connect and join again, and on
/// failure multiplies the delay by `multiplier` (up to `max_delay`), each wait varied by up to
/// `jitter` (a fraction) so that many clients do not retry in lockstep. Errors for which
/// [`fatal_if`](ReconnectPolicy::fatal_if) says so (by default: the router refused the session,
/// e.g. wrong credentials or an unknown realm, or this client refused the authentication,
/// [`Error::Authentication`]) end the session instead.
///
/// While reconnecting, every registration and subscription is kept and restored with its
/// original options and handlers; requests fail fast with [`Error::Disconnected`] unless marked
/// [`wait_for_session`](crate::rpc::Call::wait_for_session) or
/// [`idempotent`](crate::rpc::Call::idempotent).
///
/// ```
/// use std::time::Duration;
/// use wampkit::ReconnectPolicy;
///
/// let policy = ReconnectPolicy::default()
///     .initial_delay(Duration::from_millis(100))
///     .max_delay(Duration::from_secs(10))
///     .max_attempts(Some(50));
/// ```
#[derive(Clone)]
pub struct ReconnectPolicy {
    pub(crate) initial_delay: Duration,
    pub(crate) max_delay: Duration,
    pub(crate) multiplier: f64,
    pub(crate) jitter: f64,
    pub(crate) max_attempts: Option<u32>,
    pub(crate) fatal: Arc<dyn Fn(&Error) -> bool + Send + Sync>,
    pub(crate) restore_retry: Duration,
}

impl Default for ReconnectPolicy {
    /// 200 ms, doubling up to 30 s, 20 % jitter, no attempt limit, refusals fatal; refused
    /// restorations retried for 30 s.
    fn default() -> Self {
        ReconnectPolicy {
            initial_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(30),
            multiplier: 2.0,
            jitter: 0.2,
            max_attempts: None,
            fatal: Arc::new(default_fatal),
            restore_retry: Duration::from_secs(30),
        }
    }
}

impl fmt::Debug for ReconnectPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReconnectPolicy")
            .field("initial_delay", &self.initial_delay)
            .field("max_delay", &self.max_delay)
            .field("multiplier", &self.multiplier)
            .field("jitter", &self.jitter)
            .field("max_attempts", &self.max_attempts)
            .field("restore_retry", &self.restore_retry)
            .finish_non_exhaustive()
    }
}

/// The default classification: a session the router refused (ABORT while joining: wrong
/// credentials, unknown realm or role, no acceptable authentication method) or this client
/// refused (the router failed to prove its identity, asked for a key derivation outside the
/// limits) cannot be fixed by retrying.
fn default_fatal(error: &Error) -> bool {
    if let Error::Authentication(_) = error {
        return true;
    }
    matches!(error, Error::Aborted(e) if matches!(
        e.uri,
        ErrorUri::NotAuthorized
            | ErrorUri::AuthenticationFailed
            | ErrorUri::AuthenticationDenied
            | ErrorUri::AuthorizationDenied
            | ErrorUri::NoAuthMethod
            | ErrorUri::NoSuchRealm
            | ErrorUri::NoSuchRole
            | ErrorUri::NoSuchPrincipal
    ))
}

impl ReconnectPolicy {
    /// The first wait after a loss (default 200 ms).
    pub fn initial_delay(mut self, delay: Duration) -> Self {
        self.initial_delay = delay;
        self
    }

    /// The longest wait between attempts (default 30 s). `Duration::MAX` lets the wait grow
    /// without limit (a wait too long for the clock lasts for ever).
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// How the wait grows after each failed attempt (default 2.0; values below 1 are taken as 1).
    pub fn multiplier(mut self, multiplier: f64) -> Self {
        self.multiplier = if multiplier.is_finite() {
            multiplier.max(1.0)
        } else {
            1.0
        };
        self
    }

    /// How much each wait is varied at random, as a fraction of it (default 0.2, clamped to
    /// `0..=1`).
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self
    }

    /// How many attempts are made after a loss before giving up (default: no limit).
    pub fn max_attempts(mut self, attempts: Option<u32>) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// How long a registration whose restoring REGISTER the router refuses with
    /// `wamp.error.procedure_already_exists` is tried again (default 30 s; zero gives up at the
    /// first refusal).
    ///
    /// After a short outage a client may rejoin before the router has noticed that its old
    /// session is gone, and that stale session still holds the procedure; the router drops it a
    /// moment later (once its own keepalive or the closed connection tells it). Meanwhile
    /// REGISTER is retried with backoff (100 ms, doubling up to 2 s). Past this time the
    /// registration is revoked: [`Registration::revoked`](crate::Registration::revoked) says
    /// why.
    pub fn restore_retry(mut self, window: Duration) -> Self {
        self.restore_retry = window;
        self
    }

    /// Which connection errors end the session instead of being retried.
    pub fn fatal_if(mut self, fatal: impl Fn(&Error) -> bool + Send + Sync + 'static) -> Self {
        self.fatal = Arc::new(fatal);
        self
    }

    /// The wait before attempt `attempt` (1-based), without jitter.
    pub(crate) fn base_delay(&self, attempt: u32) -> Duration {
        let exponent = i32::try_from(attempt.saturating_sub(1)).unwrap_or(i32::MAX);
        let factor = self.multiplier.powi(exponent);
        let seconds = self.initial_delay.as_secs_f64() * factor;
        if seconds.is_finite() {
            Duration::try_from_secs_f64(seconds)
                .unwrap_or(self.max_delay)
                .min(self.max_delay)
        } else {
            self.max_delay
        }
    }

    /// The wait before attempt `attempt`, with jitter applied.
    pub(crate) fn delay(&self, attempt: u32) -> Duration {
        let base = self.base_delay(attempt);
        if self.jitter == 0.0 {
            return base;
        }
        // A uniform value in [-1, 1) from the OS generator; without one, no jitter.
        let unit = getrandom::u64().map_or(0.0, |r| (r >> 11) as f64 / (1u64 << 53) as f64);
        let factor = 1.0 + self.jitter * (unit * 2.0 - 1.0);
        Duration::try_from_secs_f64(base.as_secs_f64() * factor).unwrap_or(base)
    }
}

/// Where a session is in its life. See [`Session::state`](crate::Session::state) and
/// [`Session::states`](crate::Session::states).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SessionState {
    /// Joined to the realm under this session id.
    Joined {
        /// The router-assigned session id.
        session: Id,
    },
    /// The connection was lost (why is in `reason`); a reconnect follows.
    Disconnected {
        /// Why the connection ended.
        reason: CloseReason,
    },
    /// Waiting `delay` before connection attempt `attempt`.
    Reconnecting {
        /// The attempt about to be made (1-based).
        attempt: u32,
        /// How long until it is made.
        delay: Duration,
    },
    /// Ended for good.
    Closed(CloseReason),
}

/// Waiting for the next state change: the receiver back, and whether the session task is alive.
type StateChange =
    Pin<Box<dyn std::future::Future<Output = (watch::Receiver<SessionState>, bool)> + Send>>;

/// The states a session goes through, as a [`Stream`]; from
/// [`Session::states`](crate::Session::states). It starts with the current state and ends after
/// [`SessionState::Closed`]. A consumer that falls behind sees the latest state rather than
/// every intermediate one.
pub struct SessionStates {
    receiver: watch::Receiver<SessionState>,
    first: bool,
    ended: bool,
    changed: Option<StateChange>,
}

impl fmt::Debug for SessionStates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionStates")
            .field("state", &*self.receiver.borrow())
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl SessionStates {
    pub(crate) fn new(receiver: watch::Receiver<SessionState>) -> Self {
        SessionStates {
            receiver,
            first: true,
            ended: false,
            changed: None,
        }
    }
}

impl Stream for SessionStates {
    type Item = SessionState;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<SessionState>> {
        if self.ended {
            return Poll::Ready(None);
        }
        if self.first {
            self.first = false;
            let state = self.receiver.borrow_and_update().clone();
            self.ended = matches!(state, SessionState::Closed(_));
            return Poll::Ready(Some(state));
        }
        let this = &mut *self;
        let changed = this.changed.get_or_insert_with(|| {
            let mut receiver = this.receiver.clone();
            Box::pin(async move {
                let alive = receiver.changed().await.is_ok();
                (receiver, alive)
            })
        });
        match changed.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready((mut receiver, alive)) => {
                this.changed = None;
                if !alive {
                    this.ended = true;
                    return Poll::Ready(None);
                }
                let state = receiver.borrow_and_update().clone();
                this.receiver = receiver;
                this.ended = matches!(state, SessionState::Closed(_));
                Poll::Ready(Some(state))
            }
        }
    }
}
