//! The session: a joined realm on an open connection.
//!
//! [`Session`] is a cheap handle (`Clone + Send + Sync`). One background task per session owns the
//! connection, the request ids and the tables of pending requests, registrations and
//! subscriptions; handles talk to it over a channel. Handlers never run on that task, so a callee
//! may call other procedures and a subscriber may publish on the same session.
//!
//! ```no_run
//! # async fn demo() -> wamp_client::Result<()> {
//! use wamp_client::{Arguments, Session};
//!
//! let session = Session::connect("ws://127.0.0.1:8080/ws", "realm1").await?;
//! let _registration = session
//!     .register("com.example.add", |inv: wamp_client::Invocation| async move {
//!         let (a, b): (i64, i64) = inv.args()?;
//!         Ok(Arguments::single(a + b)?)
//!     })
//!     .await?;
//! let sum: i64 = session.call("com.example.add", (2, 3)).await?.arg(0)?;
//! assert_eq!(sum, 5);
//! session.leave().await?;
//! # Ok(()) }
//! ```

mod actor;
mod auth_builder;
pub(crate) mod command;
mod details;
mod join;
mod transport_builder;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};
use tracing::Instrument as _;

pub use details::SessionDetails;

use self::command::Command;
use crate::api::call::CancelMode;
use crate::error::{CloseInitiator, CloseReason, Error, Result};
use crate::transport::{self, TransportOptions};
use crate::uri::UriCheck;
use crate::wire::{Id, Serializer};

/// State shared by every handle of one session.
pub(crate) struct Shared {
    commands: mpsc::UnboundedSender<Command>,
    details: SessionDetails,
    serializer: Serializer,
    closed: watch::Receiver<Option<CloseReason>>,
    uri_check: UriCheck,
    next_local_id: AtomicU64,
    cancel_mode: CancelMode,
    /// Whether the router reads the CALL `timeout` option in seconds.
    timeout_in_seconds: bool,
}

/// A WAMP session joined to a realm.
///
/// Cloning is cheap; all clones drive the same session. The session stays open until
/// [`leave`](Session::leave) is called, the router closes it, the connection breaks, or every
/// handle (sessions, registrations, subscriptions) is dropped.
#[derive(Clone)]
pub struct Session {
    shared: Arc<Shared>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.shared.details.session)
            .field("realm", &self.shared.details.realm)
            .field("serializer", &self.shared.serializer)
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl Session {
    /// Connects to the router at `url` (`ws://`, `wss://`, `rs://`, `rss://` or `unix://`) and
    /// joins `realm` anonymously, with the
    /// default settings. Use [`Session::builder`] for anything else.
    pub async fn connect(url: &str, realm: &str) -> Result<Session> {
        Session::builder(url, realm).connect().await
    }

    /// A builder to choose serializers, timeouts and other settings before connecting.
    pub fn builder(url: impl Into<String>, realm: impl Into<String>) -> SessionBuilder {
        SessionBuilder {
            url: url.into(),
            realm: realm.into(),
            serializers: Serializer::ALL.to_vec(),
            uri_check: UriCheck::default(),
            join_timeout: Duration::from_secs(15),
            leave_timeout: Duration::from_secs(5),
            trace_payloads: false,
            transport: TransportOptions::default(),
            auth: crate::auth::AuthConfig::default(),
            agent: concat!("wamp-client-rs/", env!("CARGO_PKG_VERSION")).to_owned(),
            cancel_mode: CancelMode::default(),
            router_timeout_unit: TimeoutUnit::default(),
            interrupt_grace: Duration::from_secs(2),
        }
    }

    /// The session id the router assigned.
    pub fn id(&self) -> Id {
        self.shared.details.session
    }

    /// The WELCOME details: authid, authrole, router roles and features.
    pub fn details(&self) -> &SessionDetails {
        &self.shared.details
    }

    /// The serializer agreed with the router.
    pub fn serializer(&self) -> Serializer {
        self.shared.serializer
    }

    /// Whether the session has ended.
    pub fn is_closed(&self) -> bool {
        self.shared.closed.borrow().is_some()
    }

    /// Waits until the session ends and says why: a router kill, a lost connection, or a leave.
    pub async fn closed(&self) -> CloseReason {
        let mut closed = self.shared.closed.clone();
        loop {
            if let Some(reason) = closed.borrow_and_update().clone() {
                return reason;
            }
            if closed.changed().await.is_err() {
                return self.close_reason();
            }
        }
    }

    /// Leaves the realm: sends GOODBYE (`wamp.close.close_realm`), waits for the router's GOODBYE
    /// (at most the builder's leave timeout), then closes the connection. Pending calls fail with
    /// [`Error::SessionClosed`]; running invocation handlers are aborted.
    pub async fn leave(&self) -> Result<CloseReason> {
        self.leave_with("wamp.close.close_realm", None).await
    }

    /// Leaves the realm with a specific reason URI and message.
    pub async fn leave_with(&self, reason: &str, message: Option<&str>) -> Result<CloseReason> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Leave {
            reason: reason.to_owned(),
            message: message.map(str::to_owned),
            reply,
        })?;
        rx.await
            .map_err(|_| Error::SessionClosed(self.close_reason()))
    }

    /// The sizes of the session task's tables: what is pending, running and subscribed. Useful to
    /// check that nothing accumulates (every request resolved, every handler finished).
    pub async fn diagnostics(&self) -> Result<Diagnostics> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Diagnostics { reply })?;
        rx.await
            .map_err(|_| Error::SessionClosed(self.close_reason()))
    }

    /// Hands a command to the session task.
    pub(crate) fn send(&self, command: Command) -> Result<()> {
        self.shared
            .commands
            .send(command)
            .map_err(|_| Error::SessionClosed(self.close_reason()))
    }

    /// Why the session closed (a generic reason if the task is gone without saying).
    pub(crate) fn close_reason(&self) -> CloseReason {
        self.shared.closed.borrow().clone().unwrap_or_else(|| {
            CloseReason::new(
                "wamp.close.system_shutdown",
                Some("the session task has stopped".into()),
                CloseInitiator::Transport,
            )
        })
    }

    pub(crate) fn uri_check(&self) -> UriCheck {
        self.shared.uri_check
    }

    pub(crate) fn default_cancel_mode(&self) -> CancelMode {
        self.shared.cancel_mode
    }

    /// The CALL `timeout` option value for `timeout`, in the unit the router reads.
    pub(crate) fn router_timeout_value(&self, timeout: Duration) -> crate::value::Value {
        let value = if self.shared.timeout_in_seconds {
            // Crossbar counts whole seconds; round up so a timeout is never shortened to zero.
            timeout.as_millis().div_ceil(1000)
        } else {
            timeout.as_millis().max(1)
        };
        crate::value::Value::UInt(u64::try_from(value).unwrap_or(u64::MAX))
    }

    pub(crate) fn next_local_id(&self) -> u64 {
        self.shared.next_local_id.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn from_shared(shared: Arc<Shared>) -> Self {
        Session { shared }
    }
}

/// A snapshot of a session task's tables. See [`Session::diagnostics`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Diagnostics {
    /// Requests sent and not answered yet (calls, acknowledged publications, subscribes, ...).
    pub pending_requests: usize,
    /// Of those, calls.
    pub pending_calls: usize,
    /// Invocation handlers still running.
    pub running_invocations: usize,
    /// Router-side subscriptions.
    pub subscriptions: usize,
    /// Registrations.
    pub registrations: usize,
}

/// Settings for a new session. Created by [`Session::builder`].
///
/// ```no_run
/// # async fn demo() -> wamp_client::Result<()> {
/// use std::time::Duration;
/// use wamp_client::{Serializer, Session};
///
/// let session = Session::builder("ws://127.0.0.1:8080/ws", "realm1")
///     .serializers([Serializer::MsgPack, Serializer::Json])
///     .join_timeout(Duration::from_secs(5))
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `connect` is called"]
pub struct SessionBuilder {
    url: String,
    realm: String,
    serializers: Vec<Serializer>,
    uri_check: UriCheck,
    join_timeout: Duration,
    leave_timeout: Duration,
    trace_payloads: bool,
    pub(super) transport: TransportOptions,
    pub(super) auth: crate::auth::AuthConfig,
    agent: String,
    cancel_mode: CancelMode,
    router_timeout_unit: TimeoutUnit,
    interrupt_grace: Duration,
}

/// The unit in which the router reads the CALL `timeout` option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TimeoutUnit {
    /// Seconds for Crossbar.io (recognised by its `x_cb_*` WELCOME details), milliseconds for
    /// every other router.
    #[default]
    Auto,
    /// Milliseconds, as the specification says.
    Milliseconds,
    /// Whole seconds, as Crossbar.io reads it.
    Seconds,
}

impl SessionBuilder {
    /// How calls are canceled when their future is dropped or their deadline passes (default:
    /// [`CancelMode::KillNoWait`]).
    pub fn cancel_mode(mut self, mode: CancelMode) -> Self {
        self.cancel_mode = mode;
        self
    }

    /// The unit of the router-side call timeout (default: [`TimeoutUnit::Auto`]).
    pub fn router_timeout_unit(mut self, unit: TimeoutUnit) -> Self {
        self.router_timeout_unit = unit;
        self
    }

    /// How long an interrupted invocation handler may run on after the caller canceled (to
    /// notice [`Invocation::cancelled`](crate::Invocation::cancelled) and stop) before its task
    /// is aborted (default: 2 s).
    pub fn interrupt_grace(mut self, grace: Duration) -> Self {
        self.interrupt_grace = grace;
        self
    }

    /// The serializers to offer, in order of preference (default: JSON, MessagePack, CBOR).
    pub fn serializers(mut self, serializers: impl IntoIterator<Item = Serializer>) -> Self {
        self.serializers = serializers.into_iter().collect();
        self
    }

    /// Offers exactly one serializer.
    pub fn serializer(self, serializer: Serializer) -> Self {
        self.serializers([serializer])
    }

    /// How strictly URIs are checked before sending (default: [`UriCheck::Loose`]).
    pub fn uri_check(mut self, check: UriCheck) -> Self {
        self.uri_check = check;
        self
    }

    /// The longest time connecting and joining may take (default: 15 s).
    pub fn join_timeout(mut self, timeout: Duration) -> Self {
        self.join_timeout = timeout;
        self
    }

    /// How long [`Session::leave`] waits for the router's GOODBYE (default: 5 s).
    pub fn leave_timeout(mut self, timeout: Duration) -> Self {
        self.leave_timeout = timeout;
        self
    }

    /// Whether `trace`-level logs include message payloads (default: no; payloads are elided).
    pub fn trace_payloads(mut self, enabled: bool) -> Self {
        self.trace_payloads = enabled;
        self
    }

    /// The largest message accepted from the router, on every transport (default: 16 MiB).
    /// RawSocket announces it to the router rounded down to a power of two (at least 512 bytes),
    /// and a router such as Crossbar.io then withholds larger messages; keep it above the size of
    /// the router's WELCOME (about 1 KiB).
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.transport.websocket.max_message_size = bytes;
        self
    }

    /// The `agent` string sent in HELLO (default: `wamp-client-rs/<version>`).
    pub fn agent(mut self, agent: impl Into<String>) -> Self {
        self.agent = agent.into();
        self
    }

    /// Opens the connection, joins the realm, and starts the session task on the current Tokio
    /// runtime.
    pub async fn connect(self) -> Result<Session> {
        let timeout = self.join_timeout;
        let span = tracing::info_span!("wamp.session", url = %self.url, realm = %self.realm, session = tracing::field::Empty);
        match tokio::time::timeout(timeout, self.connect_inner(span.clone()))
            .instrument(span)
            .await
        {
            Ok(result) => result,
            Err(_) => Err(Error::Timeout(timeout, "connecting and joining the realm")),
        }
    }

    async fn connect_inner(self, span: tracing::Span) -> Result<Session> {
        let connection = transport::connect(&self.url, &self.serializers, &self.transport).await?;
        tracing::debug!(serializer = %connection.serializer, "connected");
        let serializer = connection.serializer;
        let mut transport = connection.transport;
        let details = join::join(
            &mut transport,
            serializer,
            &self.realm,
            &self.agent,
            &self.auth,
            self.trace_payloads,
        )
        .await?;
        span.record("session", details.session);
        tracing::info!(
            session = details.session,
            authid = details.authid.as_deref().unwrap_or(""),
            authrole = details.authrole.as_deref().unwrap_or(""),
            "joined"
        );

        let timeout_in_seconds = match self.router_timeout_unit {
            TimeoutUnit::Seconds => true,
            TimeoutUnit::Milliseconds => false,
            TimeoutUnit::Auto => details.router_is_crossbar(),
        };
        let (commands, commands_rx) = mpsc::unbounded_channel();
        let (closed_tx, closed) = watch::channel(None);
        let shared = Arc::new(Shared {
            commands,
            details,
            serializer,
            closed,
            uri_check: self.uri_check,
            next_local_id: AtomicU64::new(1),
            cancel_mode: self.cancel_mode,
            timeout_in_seconds,
        });
        let task = actor::SessionTask::new(actor::TaskConfig {
            transport,
            serializer,
            commands: commands_rx,
            closed: closed_tx,
            shared: Arc::downgrade(&shared),
            leave_timeout: self.leave_timeout,
            interrupt_grace: self.interrupt_grace,
            trace_payloads: self.trace_payloads,
        });
        tokio::spawn(task.run().instrument(span));
        Ok(Session { shared })
    }
}
