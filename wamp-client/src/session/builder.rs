//! [`SessionBuilder`]: the settings of a new session, and connecting with them (the join, the
//! session task and, with a reconnect policy, the connector it reconnects with).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tracing::Instrument as _;

use super::command::CommandReceiver;
use super::{
    Connector, Current, Joined, Limits, ReconnectPolicy, Session, SessionState, Shared, UriCheck,
    actor, clamp_bound, join,
};
use crate::e2ee::PayloadCodec;
use crate::error::{Error, Result};
use crate::options::CancelMode;
use crate::transport::{self, TransportOptions};
use crate::wire::Serializer;

/// Settings for a new session. Created by [`Session::builder`].
///
/// ```no_run
/// # async fn demo() -> wampkit::Result<()> {
/// use std::time::Duration;
/// use wampkit::{Serializer, Session};
///
/// let session = Session::builder("ws://127.0.0.1:8080/ws", "realm1")
///     .serializers([Serializer::MsgPack, Serializer::Json])
///     .join_timeout(Duration::from_secs(5))
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[must_use = "a builder does nothing until `connect` is called"]
pub struct SessionBuilder {
    pub(super) url: String,
    pub(super) realm: String,
    pub(super) serializers: Vec<Serializer>,
    pub(super) uri_check: UriCheck,
    pub(super) join_timeout: Duration,
    pub(super) leave_timeout: Duration,
    pub(super) trace_payloads: bool,
    pub(super) transport: TransportOptions,
    pub(super) auth: crate::auth::AuthConfig,
    pub(super) agent: String,
    pub(super) cancel_mode: CancelMode,
    pub(super) router_timeout_unit: TimeoutUnit,
    pub(super) interrupt_grace: Duration,
    pub(super) reconnect: Option<ReconnectPolicy>,
    pub(super) limits: Limits,
    pub(super) payload_codec: Option<Arc<dyn PayloadCodec>>,
}

impl fmt::Debug for SessionBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionBuilder")
            // The URL may carry a password or a token.
            .field("url", &transport::redact_url(&self.url))
            .field("realm", &self.realm)
            .field("serializers", &self.serializers)
            .field("uri_check", &self.uri_check)
            .field("join_timeout", &self.join_timeout)
            .field("leave_timeout", &self.leave_timeout)
            .field("trace_payloads", &self.trace_payloads)
            .field("transport", &self.transport)
            .field("auth", &self.auth)
            .field("agent", &self.agent)
            .field("cancel_mode", &self.cancel_mode)
            .field("router_timeout_unit", &self.router_timeout_unit)
            .field("interrupt_grace", &self.interrupt_grace)
            .field("reconnect", &self.reconnect)
            .field("limits", &self.limits)
            // The codec's own Debug, which shows no key (KeyRing's shows its prefixes).
            .field("payload_codec", &self.payload_codec)
            .finish()
    }
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
    pub(super) fn new(url: String, realm: String) -> Self {
        SessionBuilder {
            url,
            realm,
            serializers: Serializer::ALL
                .into_iter()
                .filter(|s| s.is_available())
                .collect(),
            uri_check: UriCheck::default(),
            join_timeout: Duration::from_secs(15),
            leave_timeout: Duration::from_secs(5),
            trace_payloads: false,
            transport: TransportOptions::default(),
            auth: crate::auth::AuthConfig::default(),
            agent: concat!("wampkit/", env!("CARGO_PKG_VERSION")).to_owned(),
            cancel_mode: CancelMode::default(),
            router_timeout_unit: TimeoutUnit::default(),
            interrupt_grace: Duration::from_secs(2),
            reconnect: None,
            limits: Limits::default(),
            payload_codec: None,
        }
    }

    /// Encodes payloads end to end with `codec` (the payload passthru mode; see
    /// [`crate::e2ee`]): the arguments of CALL, PUBLISH, YIELD and ERROR for every URI the codec
    /// has a key for travel encoded, and received RESULT, INVOCATION, EVENT and ERROR payloads
    /// are decoded before the application sees them. The session announces the mode in HELLO,
    /// and refuses to send an encoded CALL or PUBLISH to a router that did not announce it.
    ///
    /// With the `e2ee` feature, `e2ee::KeyRing` is Autobahn's `cryptobox` (its documentation has
    /// an example).
    pub fn payload_codec(mut self, codec: impl PayloadCodec) -> Self {
        self.payload_codec = Some(Arc::new(codec));
        self
    }

    /// Reconnects automatically after a lost connection, following `policy`: the session
    /// rejoins and restores every registration and subscription with its original options and
    /// handlers (services registered through the macros included). Without it (the default), a
    /// lost connection closes the session.
    ///
    /// The session reconnects after the connection breaks or the router ends the session (other
    /// than by killing it); not after [`Session::leave`] or a protocol violation. Watch
    /// [`Session::states`] to follow it.
    pub fn reconnect(mut self, policy: ReconnectPolicy) -> Self {
        self.reconnect = Some(policy);
        self
    }

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
    /// notice [`Invocation::canceled`](crate::Invocation::canceled) and stop) before its task
    /// is aborted (default: 2 s).
    pub fn interrupt_grace(mut self, grace: Duration) -> Self {
        self.interrupt_grace = grace;
        self
    }

    /// How many invocation handlers may run at once on this session (default:
    /// [`DEFAULT_MAX_CONCURRENT_INVOCATIONS`](super::DEFAULT_MAX_CONCURRENT_INVOCATIONS), 4096: far more than a callee serves at once
    /// when it keeps up, while a flood of INVOCATIONs cannot spawn tasks without end).
    ///
    /// Beyond it, a new INVOCATION is answered at once with `wamp.error.unavailable` ("callee
    /// busy: N invocations running"), the error by which a callee asks the dealer to try another
    /// callee of a shared registration; nothing is queued, and the session task never waits.
    /// Handlers interrupted by the caller count until they have finished or been aborted.
    /// A value of 0 is taken as 1.
    pub fn max_concurrent_invocations(mut self, invocations: usize) -> Self {
        self.limits.max_concurrent_invocations = invocations.max(1);
        self
    }

    /// How many progressive results of one call may wait unread in its
    /// [`CallStream`](crate::rpc::CallStream), and how many input chunks of one progressive
    /// invocation may wait unread in its [`InvocationInput`](crate::rpc::InvocationInput) (default:
    /// [`DEFAULT_MAX_PROGRESS_BUFFER`](super::DEFAULT_MAX_PROGRESS_BUFFER), 1024). A call may set its own with
    /// [`Call::progress_buffer`](crate::rpc::Call::progress_buffer). A value of 0 is taken as 1.
    ///
    /// Progressive results are parts of one answer, so none is dropped: a call whose reader
    /// falls further behind fails with [`Error::ProgressOverflow`] (after the results already
    /// buffered) and is canceled at the router (CANCEL `killnowait`, if the dealer supports
    /// canceling). On the callee side, an invocation whose handler falls further behind its
    /// input is answered with `wamp.error.runtime_error`, gets no more chunks, and its handler
    /// is aborted. The session task never waits for a slow reader.
    pub fn max_progress_buffer(mut self, results: usize) -> Self {
        self.limits.max_progress_buffer = clamp_bound(results);
        self
    }

    /// How many requests (calls, publications, subscribes, registers, input chunks) may wait
    /// for the session task to take them in (default: [`DEFAULT_MAX_QUEUED_COMMANDS`](super::DEFAULT_MAX_QUEUED_COMMANDS), 4096).
    /// A value of 0 is taken as 1.
    ///
    /// Beyond it, awaiting a request waits for room: a loop that publishes or calls faster
    /// than the connection carries is slowed down to its pace instead of queuing without end.
    /// A request that cannot wait ([`Call::into_duplex`](crate::rpc::Call::into_duplex),
    /// [`CallInput::send`](crate::rpc::CallInput::send)) fails with [`Error::QueueFull`] instead.
    /// Cancellations, unsubscribes and unregisters (also those sent when a handle is dropped)
    /// and leaving are never held back: there is at most one of each per live handle.
    pub fn max_queued_commands(mut self, commands: usize) -> Self {
        self.limits.max_queued_commands = clamp_bound(commands);
        self
    }

    /// The serializers to offer, in order of preference (default: JSON, MessagePack, CBOR, those
    /// of them whose Cargo feature is on). Offering one whose feature is off fails
    /// [`connect`](Self::connect) with [`Error::FeatureDisabled`].
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

    /// How long [`Session::leave`] waits for the router's GOODBYE (default: 5 s; `Duration::MAX`
    /// waits for ever). It bounds writing the GOODBYE too: a router that stopped reading cannot
    /// hold a leave up. (The other writes of a closing session, such as the ABORT of a protocol
    /// violation and the last flush, get 1 s.)
    pub fn leave_timeout(mut self, timeout: Duration) -> Self {
        self.leave_timeout = timeout;
        self
    }

    /// Includes message payloads in `trace`-level logs (by default they are elided).
    pub fn trace_payloads(mut self) -> Self {
        self.trace_payloads = true;
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

    /// The `agent` string sent in HELLO (default: `wampkit/<version>`).
    pub fn agent(mut self, agent: impl Into<String>) -> Self {
        self.agent = agent.into();
        self
    }

    /// Opens the connection, joins the realm, and starts the session task on the current Tokio
    /// runtime.
    pub async fn connect(self) -> Result<Session> {
        let timeout = self.join_timeout;
        let url = transport::redact_url(&self.url);
        let span = tracing::info_span!("wamp.session", url = %url, realm = %self.realm, session = tracing::field::Empty);
        match tokio::time::timeout(timeout, self.connect_inner(span.clone()))
            .instrument(span)
            .await
        {
            Ok(result) => result,
            Err(_) => Err(Error::Timeout {
                after: timeout,
                what: "connecting and joining the realm",
                procedure: None,
            }),
        }
    }

    /// Opens a connection and joins the realm: what connecting and every reconnect do.
    async fn open(&self) -> Result<Joined> {
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
            self.payload_codec.is_some(),
        )
        .await?;
        tracing::info!(
            session = details.session,
            authid = %crate::error::clip(details.authid.as_deref().unwrap_or("")),
            authrole = %crate::error::clip(details.authrole.as_deref().unwrap_or("")),
            "joined"
        );
        Ok(Joined {
            transport,
            serializer,
            details,
        })
    }

    async fn connect_inner(self, span: tracing::Span) -> Result<Session> {
        // Once per connect, not per reconnect: the URL and the methods do not change.
        let custom_transport = self.transport.factory.is_some();
        transport::features::check(&self.url, &self.serializers, custom_transport)?;
        crate::auth::warn_cleartext_secrets(&self.url, &self.auth);
        let joined = self.open().await?;
        span.record("session", joined.details.session);
        let connector = self.reconnect.clone().map(|policy| {
            let builder = self.clone();
            let connector: Connector = Arc::new(move || {
                let builder = builder.clone();
                Box::pin(async move {
                    let timeout = builder.join_timeout;
                    match tokio::time::timeout(timeout, builder.open()).await {
                        Ok(result) => result,
                        Err(_) => Err(Error::Timeout {
                            after: timeout,
                            what: "reconnecting and joining the realm",
                            procedure: None,
                        }),
                    }
                })
            });
            (policy, connector)
        });

        let (commands, commands_rx) = mpsc::unbounded_channel();
        let gate = Arc::new(super::command::Gate::new(self.limits.max_queued_commands));
        let commands_rx = CommandReceiver::new(commands_rx, Arc::clone(&gate));
        let (closed_tx, closed) = watch::channel(None);
        let (state_tx, state) = watch::channel(SessionState::Joined {
            session: joined.details.session,
        });
        let shared = Arc::new(Shared {
            commands,
            gate,
            current: std::sync::RwLock::new(Current {
                details: Arc::new(joined.details),
                serializer: joined.serializer,
            }),
            serializer: std::sync::atomic::AtomicU8::new(super::serializer_index(
                joined.serializer,
            )),
            closed,
            state,
            uri_check: self.uri_check,
            next_local_id: AtomicU64::new(1),
            cancel_mode: self.cancel_mode,
            router_timeout_unit: self.router_timeout_unit,
            leave_requested: Arc::default(),
            limits: self.limits,
            payload_codec: self.payload_codec.clone(),
        });
        let task = actor::SessionTask::new(actor::TaskConfig {
            transport: joined.transport,
            serializer: joined.serializer,
            commands: commands_rx,
            closed: closed_tx,
            state: state_tx,
            shared: Arc::downgrade(&shared),
            leave_timeout: self.leave_timeout,
            interrupt_grace: self.interrupt_grace,
            trace_payloads: self.trace_payloads,
            reconnect: connector,
            leave_requested: Arc::clone(&shared.leave_requested),
            limits: self.limits,
            payload_codec: self.payload_codec.clone(),
        });
        tokio::spawn(task.run().instrument(span));
        Ok(Session { shared })
    }
}
