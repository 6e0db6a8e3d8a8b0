//! Registering procedures (the callee role).

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::Stream;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::arguments::{Arguments, payload_accessors};
use super::options::MatchPolicy;
use crate::error::{Error, Result, WampError};
use crate::session::Session;
use crate::session::command::{Command, Outcome, QueuedRequest, RegisterRequest, Revocation};
use crate::uri::UriUse;
use crate::value::{Dict, Value, ValueError};
use crate::wire::Id;

/// A boxed, sendable future, as handlers return them.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// Handles invocations of a registered procedure.
///
/// Implemented for every `Fn(Invocation) -> impl Future<Output = Result<Arguments, WampError>>`
/// that is `Send + Sync + 'static`, so an async closure or `async fn` is all it takes. Each
/// invocation runs on its own Tokio task, never on the session task: a handler may call other
/// procedures on the same session. A handler that panics answers the caller with
/// `wamp.error.runtime_error`.
pub trait Handler: Send + Sync + 'static {
    /// Handles one invocation.
    fn call(&self, invocation: Invocation) -> BoxFuture<std::result::Result<Arguments, WampError>>;
}

impl<F, Fut> Handler for F
where
    F: Fn(Invocation) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = std::result::Result<Arguments, WampError>> + Send + 'static,
{
    fn call(&self, invocation: Invocation) -> BoxFuture<std::result::Result<Arguments, WampError>> {
        Box::pin(self(invocation))
    }
}

/// One call of a registered procedure, as the callee sees it.
///
/// The typed accessors ([`args`](Invocation::args), [`kwargs`](Invocation::kwargs), ...) fail with
/// a `wamp.error.invalid_argument` [`WampError`] naming the problem, so `?` in a handler answers
/// the caller with a useful error.
///
/// When the caller cancels, [`cancelled`](Invocation::cancelled) completes: a handler doing long
/// work should watch it and stop. A handler that ignores it is aborted after the session's
/// interrupt grace period.
pub struct Invocation {
    /// The procedure called: the concrete URI for pattern-based registrations.
    pub procedure: String,
    /// The registration id.
    pub registration: Id,
    /// Positional arguments.
    pub args: Vec<Value>,
    /// Keyword arguments.
    pub kwargs: Dict,
    /// The INVOCATION `Details` dict.
    pub details: Dict,
    pub(crate) request: Id,
    pub(crate) session: Option<Session>,
    pub(crate) cancel: CancellationToken,
    pub(crate) progress: Option<ProgressSender>,
    pub(crate) input: Option<InvocationInput>,
}

payload_accessors!(Invocation, WampError, invalid_argument);

fn invalid_argument(e: ValueError) -> WampError {
    WampError::invalid_argument(e.to_string())
}

impl Invocation {
    /// The INVOCATION request id.
    pub fn request_id(&self) -> Id {
        self.request
    }

    /// The caller's session id, if the router disclosed it.
    pub fn caller(&self) -> Option<Id> {
        self.details.get("caller").and_then(Value::as_u64)
    }

    /// The caller's authid, if the router disclosed it.
    pub fn caller_authid(&self) -> Option<&str> {
        self.details.get("caller_authid").and_then(Value::as_str)
    }

    /// The caller's authrole, if the router disclosed it.
    pub fn caller_authrole(&self) -> Option<&str> {
        self.details.get("caller_authrole").and_then(Value::as_str)
    }

    /// The session this invocation arrived on, to call or publish from inside a handler without
    /// capturing a session handle in the handler itself.
    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    /// Completes when the caller cancels the call (the router sent INTERRUPT).
    pub async fn cancelled(&self) {
        self.cancel.cancelled().await;
    }

    /// Whether the caller has canceled the call.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// A sender of progressive results, if the caller asked for them (`receive_progress`).
    /// Each one reaches the caller before the handler's final result.
    pub fn progress(&self) -> Option<&ProgressSender> {
        self.progress.as_ref()
    }

    /// The rest of the caller's input, for a call with progressive invocations: every further
    /// chunk the caller sends, ending with its last one. `None` for an ordinary call (or once
    /// taken).
    pub fn take_input(&mut self) -> Option<InvocationInput> {
        self.input.take()
    }

    /// The token behind [`cancelled`](Invocation::cancelled), for code that passes it on.
    pub(crate) fn cancellation(&self) -> &CancellationToken {
        &self.cancel
    }
}

/// Sends progressive results of one invocation. Obtained from [`Invocation::progress`].
#[derive(Clone)]
pub struct ProgressSender {
    pub(crate) request: Id,
    pub(crate) outcomes: mpsc::UnboundedSender<Outcome>,
}

impl fmt::Debug for ProgressSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProgressSender")
            .field("request", &self.request)
            .finish_non_exhaustive()
    }
}

impl ProgressSender {
    /// Sends one progressive result. Fails only if the session has ended.
    pub fn send(&self, arguments: Arguments) -> Result<()> {
        self.outcomes
            .send(Outcome::Progress {
                request: self.request,
                args: arguments.args,
                kwargs: arguments.kwargs,
            })
            .map_err(|_| {
                Error::SessionClosed(crate::error::CloseReason::new(
                    "wamp.close.system_shutdown",
                    Some("the session ended".into()),
                    crate::error::CloseInitiator::Transport,
                ))
            })
    }

    /// Sends one progressive result holding a single value.
    pub fn send_value(&self, value: impl serde::Serialize) -> Result<()> {
        self.send(Arguments::single(value)?)
    }
}

/// Further input chunks of a call with progressive invocations, as a [`Stream`] of
/// [`Arguments`]. Obtained from [`Invocation::take_input`].
///
/// At most [`SessionBuilder::max_progress_buffer`](crate::SessionBuilder::max_progress_buffer)
/// chunks wait unread. A handler that falls further behind is stopped: the caller gets
/// `wamp.error.runtime_error`, and the handler's task is aborted.
#[derive(Debug)]
pub struct InvocationInput {
    pub(crate) chunks: mpsc::Receiver<Arguments>,
}

impl Stream for InvocationInput {
    type Item = Arguments;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Arguments>> {
        self.chunks.poll_recv(cx)
    }
}

impl fmt::Debug for Invocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Invocation")
            .field("procedure", &self.procedure)
            .field("registration", &self.registration)
            .field("request", &self.request)
            .field("args", &self.args)
            .field("kwargs", &self.kwargs)
            .field("details", &self.details)
            .finish()
    }
}

/// A registration being prepared. Created by [`Session::register`]; `.await` sends it.
#[must_use = "a registration is sent only when awaited"]
pub struct Register<'a> {
    session: &'a Session,
    procedure: String,
    handler: Arc<dyn Handler>,
    options: Dict,
}

impl fmt::Debug for Register<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Register")
            .field("procedure", &self.procedure)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Registers `handler` for `procedure`. `.await` the returned [`Register`] to get the
    /// [`Registration`]; dropping that handle unregisters the procedure.
    ///
    /// ```no_run
    /// # async fn demo(session: wamp_client::Session) -> wamp_client::Result<()> {
    /// use wamp_client::{Arguments, Invocation, WampError};
    ///
    /// let registration = session
    ///     .register("com.example.div", |inv: Invocation| async move {
    ///         let (a, b): (f64, f64) = inv.args()?;
    ///         if b == 0.0 {
    ///             return Err(WampError::with_message("com.example.error.division_by_zero", "b is zero"));
    ///         }
    ///         Ok(Arguments::single(a / b)?)
    ///     })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn register(&self, procedure: impl Into<String>, handler: impl Handler) -> Register<'_> {
        Register {
            session: self,
            procedure: procedure.into(),
            handler: Arc::new(handler),
            options: Dict::new(),
        }
    }
}

impl Register<'_> {
    /// How calls are matched to this registration (default: exact).
    pub fn match_policy(self, policy: MatchPolicy) -> Self {
        if policy == MatchPolicy::Exact {
            return self;
        }
        self.option("match", policy.as_str())
    }

    /// How the router picks among several callees of a shared registration (`invoke`). All
    /// registrations of one procedure must use the same policy.
    pub fn invoke(self, policy: InvokePolicy) -> Self {
        self.option("invoke", policy.as_str())
    }

    /// Asks the router to disclose callers' identities to this callee (`disclose_caller`).
    pub fn disclose_caller(self, disclose: bool) -> Self {
        self.option("disclose_caller", disclose)
    }

    /// Sets a raw REGISTER option, for router-specific extensions.
    pub fn option(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.options.insert(key.into(), value.into());
        self
    }

    /// Sends the REGISTER (or queues it for room, returned alongside the answer's receiver).
    #[allow(clippy::type_complexity)]
    fn start(
        self,
        local: u64,
        revoked: Revocation,
    ) -> Result<(oneshot::Receiver<Result<Id>>, Option<Box<QueuedRequest>>)> {
        let usage = match self.options.get("match").and_then(Value::as_str) {
            Some("wildcard") => UriUse::Wildcard { own: true },
            Some("prefix") => UriUse::Prefix { own: true },
            _ => UriUse::Own,
        };
        self.session.uri_check().check(&self.procedure, usage)?;
        let (reply, rx) = oneshot::channel();
        let queued = self
            .session
            .send_request(Command::Register(Box::new(RegisterRequest {
                local,
                procedure: self.procedure,
                options: self.options,
                revoked,
                handler: self.handler,
                reply,
            })))?;
        Ok((rx, queued))
    }
}

/// How a shared registration's callees are chosen (the REGISTER `invoke` option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum InvokePolicy {
    /// Only one callee may register (the default).
    #[default]
    Single,
    /// Callees take turns.
    RoundRobin,
    /// A callee chosen at random.
    Random,
    /// The callee that registered first.
    First,
    /// The callee that registered last.
    Last,
}

impl InvokePolicy {
    /// The option value, e.g. `roundrobin`.
    pub fn as_str(self) -> &'static str {
        match self {
            InvokePolicy::Single => "single",
            InvokePolicy::RoundRobin => "roundrobin",
            InvokePolicy::Random => "random",
            InvokePolicy::First => "first",
            InvokePolicy::Last => "last",
        }
    }
}

impl IntoFuture for Register<'_> {
    type Output = Result<Registration>;
    type IntoFuture = RegisterFuture;

    fn into_future(self) -> RegisterFuture {
        let session = self.session.clone();
        let procedure = self.procedure.clone();
        let revoked = Revocation::default();
        let local = session.next_local_id();
        let (state, queued) = match self.start(local, revoked.clone()) {
            Ok((rx, queued)) => (Ok(rx), queued),
            Err(e) => (Err(Some(e)), None),
        };
        RegisterFuture {
            state,
            queued,
            session,
            procedure,
            revoked,
            local,
        }
    }
}

/// The future of an awaited [`Register`].
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct RegisterFuture {
    state: std::result::Result<oneshot::Receiver<Result<Id>>, Option<Error>>,
    /// The REGISTER, while it waits for room in the request queue.
    queued: Option<Box<QueuedRequest>>,
    session: Session,
    procedure: String,
    revoked: Revocation,
    local: u64,
}

impl Future for RegisterFuture {
    type Output = Result<Registration>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Err(e) = std::task::ready!(this.session.poll_outgoing(&mut this.queued, cx)) {
            return Poll::Ready(Err(e));
        }
        match &mut this.state {
            Ok(rx) => match Pin::new(rx).poll(cx) {
                Poll::Ready(Ok(Ok(id))) => Poll::Ready(Ok(Registration {
                    session: this.session.clone(),
                    id,
                    procedure: std::mem::take(&mut this.procedure),
                    revoked: this.revoked.clone(),
                    local: this.local,
                    active: true,
                })),
                Poll::Ready(Ok(Err(e))) => Poll::Ready(Err(e)),
                Poll::Ready(Err(_)) => {
                    Poll::Ready(Err(Error::SessionClosed(this.session.close_reason())))
                }
                Poll::Pending => Poll::Pending,
            },
            Err(e) => Poll::Ready(Err(e
                .take()
                .unwrap_or_else(|| Error::SessionClosed(this.session.close_reason())))),
        }
    }
}

/// A registered procedure. Dropping it unregisters the procedure (without waiting for the
/// router's confirmation); [`unregister`](Registration::unregister) does the same and waits.
#[must_use = "dropping a Registration unregisters the procedure at once"]
#[derive(Debug)]
pub struct Registration {
    session: Session,
    id: Id,
    procedure: String,
    revoked: Revocation,
    local: u64,
    active: bool,
}

impl Registration {
    /// If the router revoked the registration (`registration_revocation`), its reason: the
    /// procedure is no longer served.
    pub fn revoked(&self) -> Option<&str> {
        self.revoked.get().map(String::as_str)
    }

    /// The registration id the router assigned (a reconnected session registers again and gets
    /// a new one; this is the first).
    pub fn id(&self) -> Id {
        self.id
    }

    /// The registered procedure URI (or pattern).
    pub fn procedure(&self) -> &str {
        &self.procedure
    }

    /// Unregisters the procedure and waits for the router to confirm.
    pub async fn unregister(mut self) -> Result<()> {
        self.active = false;
        let (reply, rx) = oneshot::channel();
        self.session.send(Command::Unregister {
            local: self.local,
            reply: Some(reply),
        })?;
        rx.await
            .map_err(|_| Error::SessionClosed(self.session.close_reason()))?
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        if self.active {
            let _ = self.session.send(Command::Unregister {
                local: self.local,
                reply: None,
            });
        }
    }
}
