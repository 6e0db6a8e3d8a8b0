//! Calling remote procedures: single results, progressive results, cancellation, timeouts and
//! progressive invocations (the caller streaming its input).

use std::future::{Future, IntoFuture};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::{mpsc, oneshot};

use crate::error::{Error, ErrorUri, Result, WampError};
use crate::options::CancelMode;
use crate::payload::arguments::{PendingArguments, PositionalArgs, StubArguments};
use crate::payload::{Arguments, CallResult};
use crate::session::Session;
use crate::session::command::{CallReply, CallRequest, Command, RequestExtra};
use crate::uri::UriUse;
use crate::value::{Dict, PayloadOf, Value};

mod cancel;
mod future;
mod input;
mod stream;

pub use cancel::CancelHandle;
pub use future::CallFuture;
pub use input::CallInput;
pub use stream::CallStream;

use cancel::CancelGuard;
use future::{CallState, Deadline};

/// A call being prepared. Created by [`Session::call`]; `.await` sends it and waits for the
/// [`CallResult`], [`result`](Call::result) reads that result as one value.
///
/// ```no_run
/// # async fn demo(session: wampkit::Session) -> wampkit::Result<()> {
/// use std::time::Duration;
///
/// #[derive(serde::Serialize)]
/// struct Add { a: i64, b: i64 }
///
/// let positional: i64 = session.call("com.example.add", (2, 3)).result().await?;
/// let keyword: i64 = session.call("com.example.add", ()).kwargs(Add { a: 2, b: 3 }).result().await?;
/// let whole = session.call("com.example.add", (2, 3)).await?; // args, kwargs and details
/// let bounded = session.call("com.example.slow", ()).timeout(Duration::from_secs(2)).await;
/// # Ok(()) }
/// ```
///
/// # What a struct becomes on the wire
///
/// WAMP carries positional arguments (a list) and keyword arguments (a dict); a Python peer
/// (Autobahn) receives them as `*args` and `**kwargs`. With `struct Add { a: i64, b: i64 }`:
///
/// | Rust | on the wire: args, kwargs | a Python callee receives |
/// |---|---|---|
/// | `.call(p, (2, 3))` | `[2, 3]`, `{}` | `add(2, 3)` |
/// | `.call(p, ()).kwargs(Add { a: 2, b: 3 })` | `[]`, `{"a": 2, "b": 3}` | `add(a=2, b=3)`: fits `def add(a, b)` |
/// | `.call(p, (Add { a: 2, b: 3 },))` | `[{"a": 2, "b": 3}]`, `{}` | `add({"a": 2, "b": 3})`: one dict parameter |
///
/// So a struct goes with [`kwargs`](Call::kwargs) when its fields are the procedure's
/// parameters, and in a 1-tuple when the procedure takes the whole record as one argument.
/// The same holds for [`Session::publish`]: its subscribers receive `*args, **kwargs` alike.
#[cfg_attr(
    feature = "macros",
    doc = "Services declared with `#[service]` follow these rules too: see the service guide,",
    doc = "[How arguments travel](crate::service#how-arguments-travel)."
)]
#[must_use = "a call is sent only when awaited"]
#[derive(Debug)]
pub struct Call<'a> {
    session: &'a Session,
    procedure: String,
    arguments: PendingArguments,
    options: Dict,
    timeout: Option<Duration>,
    cancel_mode: Option<CancelMode>,
    idempotent: bool,
    wait: bool,
    progress_buffer: Option<usize>,
}

impl Session {
    /// Calls `procedure` with positional arguments `args`: a tuple, `Vec` or array of any
    /// `Serialize` values (`()` for none, `(value,)` for one; see [`PositionalArgs`]). Add
    /// keyword arguments (a struct, with [`kwargs`](Call::kwargs)) or options on the returned
    /// [`Call`], then `.await` it for the [`CallResult`], or read the result as one value with
    /// [`result`](Call::result) (or turn the call into a stream of progressive results).
    ///
    /// The procedure URI is checked before the call is sent, by the session's
    /// [`uri_check`](crate::SessionBuilder::uri_check) (by default loosely: non-empty
    /// components, no whitespace, `#` or `.` inside a component; see [`crate::uri`]); a URI that
    /// breaks the rules fails the call with [`Error::InvalidUri`] without sending it.
    pub fn call(&self, procedure: impl Into<String>, args: impl PositionalArgs) -> Call<'_> {
        Call {
            session: self,
            procedure: procedure.into(),
            arguments: PendingArguments::positional(&args, self.arguments_serializer()),
            options: Dict::new(),
            timeout: None,
            cancel_mode: None,
            idempotent: false,
            wait: false,
            progress_buffer: None,
        }
    }
}

impl<'a> Call<'a> {
    /// Sets the keyword arguments from a struct or map: each field becomes one keyword argument
    /// (see [what a struct becomes on the wire](Call#what-a-struct-becomes-on-the-wire)).
    pub fn kwargs(mut self, kwargs: impl Serialize) -> Self {
        self.arguments.set_kwargs(&kwargs);
        self
    }

    /// Adds one keyword argument.
    pub fn kwarg(mut self, key: impl Into<String>, value: impl Serialize) -> Self {
        self.arguments.add_kwarg(key.into(), &value);
        self
    }

    /// Replaces positional and keyword arguments with prepared ones.
    pub fn arguments(mut self, arguments: Arguments) -> Self {
        self.arguments.set(arguments);
        self
    }

    /// Replaces positional and keyword arguments with those a `#[service]` stub prepared.
    #[doc(hidden)]
    pub fn stub_arguments(mut self, arguments: StubArguments) -> Self {
        self.arguments = arguments.0;
        self
    }

    /// Sets a raw CALL option, for router-specific extensions.
    pub fn option(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.options.insert(key.into(), value.into());
        self
    }

    /// Asks the router to disclose this caller's identity to the callee (`disclose_me`).
    pub fn disclose_me(self) -> Self {
        self.option("disclose_me", true)
    }

    /// A client-side deadline: if no result has arrived after `timeout`, the call is canceled
    /// (with the call's cancel mode) and fails with [`Error::Timeout`]. `Duration::MAX` means no
    /// deadline.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Asks the router to time the call out after `timeout` (the `timeout` option): the router
    /// answers `wamp.error.timeout` and interrupts the callee. The value is sent in the unit the
    /// router reads: milliseconds per the specification, whole seconds (rounded up) for
    /// Crossbar.io, which reads seconds (see
    /// [`SessionBuilder::router_timeout_unit`](crate::SessionBuilder::router_timeout_unit)).
    pub fn router_timeout(self, timeout: Duration) -> Self {
        let value = self.session.router_timeout_value(timeout);
        self.option("timeout", value)
    }

    /// How this call is canceled when its future is dropped or its deadline passes (default: the
    /// session's, [`CancelMode::KillNoWait`] unless configured).
    pub fn cancel_mode(mut self, mode: CancelMode) -> Self {
        self.cancel_mode = Some(mode);
        self
    }

    /// Marks the call as safe to repeat: with a reconnecting session
    /// ([`SessionBuilder::reconnect`](crate::SessionBuilder::reconnect)), a call still pending when
    /// the connection drops is sent again once the session has rejoined, instead of failing with
    /// [`Error::Disconnected`]. Calls are never repeated unless marked so. A call that streams
    /// its input ([`into_duplex`](Call::into_duplex)) cannot be idempotent.
    pub fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }

    /// With a reconnecting session, a call made while the connection is down waits until the
    /// session has rejoined (bounded by [`timeout`](Call::timeout), if set) instead of failing at
    /// once with [`Error::Disconnected`]. As many requests wait as the request queue takes
    /// ([`SessionBuilder::max_queued_commands`](crate::SessionBuilder::max_queued_commands));
    /// beyond that a call fails with [`Error::QueueFull`].
    pub fn wait_for_session(mut self) -> Self {
        self.wait = true;
        self
    }

    /// How many progressive results of this call may wait unread in its [`CallStream`]
    /// (default: the session's
    /// [`max_progress_buffer`](crate::SessionBuilder::max_progress_buffer), 1024). A value of 0
    /// is taken as 1.
    ///
    /// When the reader falls further behind, the stream yields the results already buffered,
    /// then [`Error::ProgressOverflow`], and the call is canceled at the router: progressive
    /// results are parts of one answer, so none is silently dropped, and the session never
    /// waits for a slow reader.
    pub fn progress_buffer(mut self, results: usize) -> Self {
        self.progress_buffer = Some(crate::session::clamp_bound(results));
        self
    }

    /// Sends the call and reads its result as one value of type `T`: the single positional
    /// result, several as a tuple, keyword results only as a struct, nothing as `()` (the rules
    /// of [`CallResult::result`]). A result of another shape fails with [`Error::Payload`]
    /// naming the procedure and the argument.
    ///
    /// ```no_run
    /// # async fn demo(session: wampkit::Session) -> wampkit::Result<()> {
    /// let sum: i64 = session.call("com.example.add", (2, 3)).result().await?;
    /// let (quotient, remainder) = session
    ///     .call("com.example.divmod", (7, 2))
    ///     .result::<(i64, i64)>()
    ///     .await?;
    /// session.call("com.example.reset", ()).result::<()>().await?;
    /// # Ok(()) }
    /// ```
    ///
    /// For the keyword results or details next to positional ones, `.await` the call itself and
    /// read the [`CallResult`]. Dropping the future before it completes cancels the call, as
    /// with [`CallFuture`].
    pub fn result<T: DeserializeOwned>(self) -> impl Future<Output = Result<T>> + Send + use<T> {
        let procedure = self.procedure.clone();
        let call = self.into_future();
        async move {
            call.await?.read_result().map_err(|e| {
                Error::Payload(e.of(PayloadOf::Result {
                    procedure: Some(procedure),
                }))
            })
        }
    }

    /// Sends the call asking for progressive results and returns them as a [`CallStream`]: every
    /// progressive result, then the final one, then the end of the stream.
    ///
    /// ```no_run
    /// # async fn demo(session: wampkit::Session) -> wampkit::Result<()> {
    /// use futures_util::StreamExt;
    ///
    /// let mut results = session.call("com.example.countdown", (3,)).into_stream();
    /// while let Some(result) = results.next().await {
    ///     let result = result?;
    ///     println!("{} (final: {})", result.arg::<i64>(0)?, !result.is_progress());
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// If the session's request queue is full
    /// ([`max_queued_commands`](crate::SessionBuilder::max_queued_commands)), the call waits
    /// for room behind it, and is sent after the requests queued before it.
    pub fn into_stream(self) -> CallStream {
        self.into_stream_queued(true)
    }

    /// `into_stream`, the call queued for room if `may_wait`, else failing with `QueueFull`.
    fn into_stream_queued(mut self, may_wait: bool) -> CallStream {
        self.options
            .insert("receive_progress".into(), Value::Bool(true));
        let session = self.session.clone();
        let cancel_mode = self.cancel_mode.unwrap_or(session.default_cancel_mode());
        let timeout = self.timeout;
        // Kept for the timeout's error only when there is a timeout.
        let procedure = timeout.map(|_| self.procedure.clone());
        let buffer = self
            .progress_buffer
            .unwrap_or(session.limits().max_progress_buffer);
        // One slot more for the final result or error, which always fits.
        let (tx, rx) = mpsc::channel(buffer.saturating_add(1));
        let key = session.next_local_id();
        let (state, queued) = match self.start(key, CallReply::Stream(tx), may_wait) {
            Ok(sent) => (Ok(rx), !sent),
            Err(e) => (Err(Some(e)), false),
        };
        let mut guard = CancelGuard::new(session, key, cancel_mode);
        // Nothing to cancel until the call is taken in.
        guard.armed = !queued;
        CallStream {
            state,
            queued,
            guard,
            deadline: timeout
                .zip(procedure)
                .map(|(timeout, procedure)| Deadline::after(timeout, procedure)),
            done: false,
        }
    }

    /// Sends the first chunk of a call with progressive invocations (the caller streams its
    /// input, all chunks sharing one request id): `args`/`kwargs` set so far are that first chunk,
    /// [`CallInput`] sends the rest, and the [`CallStream`] receives progressive results and the
    /// final one. Together they make the call a duplex stream.
    ///
    /// Fails with
    /// - `wamp.error.feature_not_supported` if the router did not announce
    ///   `progressive_call_invocations` (Crossbar.io does not support it);
    /// - `wamp.error.invalid_argument` if the call is [`idempotent`](Call::idempotent): input
    ///   streamed before a reconnect could not be sent again after it;
    /// - [`Error::QueueFull`] if the session's request queue is full (the input chunks that
    ///   follow must not overtake the call).
    pub fn into_duplex(mut self) -> Result<(CallInput, CallStream)> {
        if self.idempotent {
            // After a reconnect only the first CALL could be sent again; the callee would wait
            // for the rest of the input forever.
            return Err(Error::Wamp(WampError::with_message(
                ErrorUri::InvalidArgument,
                "a call that streams its input cannot be idempotent: after a reconnect its input could not be sent again; drop `.idempotent()` and call again yourself on `Error::Disconnected`",
            )));
        }
        if !self
            .session
            .details()
            .router_supports("dealer", "progressive_call_invocations")
        {
            return Err(Error::Wamp(WampError::with_message(
                ErrorUri::FeatureNotSupported,
                "the router does not announce progressive_call_invocations, so a call cannot stream its input",
            )));
        }
        self.options.insert("progress".into(), Value::Bool(true));
        let session = self.session.clone();
        let stream = self.into_stream_queued(false);
        if let Err(Some(e)) = &stream.state {
            return Err(e.clone());
        }
        let input = CallInput {
            session,
            key: stream.guard.key,
            finished: false,
        };
        Ok((input, stream))
    }

    /// Sends the CALL (`Ok(true)`); if the queue is full, it waits for room under `key` when
    /// `may_wait` (`Ok(false)`), else fails with `QueueFull`.
    fn start(self, key: u64, reply: CallReply, may_wait: bool) -> Result<bool> {
        self.session
            .uri_check()
            .check(&self.procedure, UriUse::Reference)?;
        self.session
            .check_payload_route(&self.procedure, "dealer")?;
        let payload = self.arguments.finish()?;
        let extra = RequestExtra {
            options: self.options,
            idempotent: self.idempotent,
            wait: self.wait,
        };
        let command = Command::Call(CallRequest {
            key,
            procedure: self.procedure,
            payload,
            extra: extra.boxed_if_set(),
            reply,
        });
        if may_wait {
            self.session.send_request_as(key, command)
        } else {
            self.session.send_request_now(command).map(|()| true)
        }
    }
}

impl<'a> IntoFuture for Call<'a> {
    type Output = Result<CallResult>;
    type IntoFuture = CallFuture;

    fn into_future(self) -> CallFuture {
        let session = self.session.clone();
        let span = tracing::debug_span!("wamp.call", procedure = %self.procedure);
        let cancel_mode = self.cancel_mode.unwrap_or(session.default_cancel_mode());
        let deadline = self
            .timeout
            .map(|timeout| Deadline::after(timeout, self.procedure.clone()));
        let key = session.next_local_id();
        let state = {
            let _enter = span.enter();
            let (reply, rx) = oneshot::channel();
            match self.start(key, CallReply::Once(reply), true) {
                Ok(true) => CallState::Waiting(rx),
                Ok(false) => CallState::Queued(rx),
                Err(e) => CallState::Failed(Some(Box::new(e))),
            }
        };
        let mut guard = CancelGuard::new(session, key, cancel_mode);
        // Nothing to cancel until the call is taken in.
        guard.armed = !matches!(state, CallState::Queued(_));
        CallFuture {
            state,
            guard,
            deadline,
            // Boxed and only when a subscriber listens: the future is held once per outstanding call.
            span: (!span.is_disabled()).then(|| Box::new(span)),
        }
    }
}
