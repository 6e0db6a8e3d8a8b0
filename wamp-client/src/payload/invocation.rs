//! One call of a registered procedure as the callee sees it, and the handler that answers it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::arguments::{Arguments, payload_accessors};
use crate::error::{Error, ErrorUri, Result, WampError};
use crate::session::Session;
use crate::session::command::Outcome;
use crate::value::{Dict, PayloadOf, Value, ValueError};
use crate::wire::{Id, Payload};

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
/// When the caller cancels, [`canceled`](Invocation::canceled) completes: a handler doing long
/// work should watch it and stop. A handler that ignores it is aborted after the session's
/// interrupt grace period.
pub struct Invocation {
    /// The procedure called: the concrete URI for pattern-based registrations.
    pub procedure: String,
    /// The registration id.
    pub registration: Id,
    /// The INVOCATION `Details` dict.
    pub details: Dict,
    /// The arguments: read with [`arg`](Self::arg), [`args`](Self::args),
    /// [`kwarg`](Self::kwarg), [`kwargs`](Self::kwargs) or [`arguments`](Self::arguments).
    pub(crate) payload: Payload,
    pub(crate) request: Id,
    pub(crate) session: Option<Session>,
    pub(crate) cancel: CancellationToken,
    pub(crate) progress: Option<ProgressSender>,
    pub(crate) input: Option<InvocationInput>,
}

payload_accessors!(
    Invocation,
    WampError,
    invalid_argument,
    |invocation: &Invocation| PayloadOf::Arguments {
        procedure: invocation.procedure.clone()
    }
);

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
    pub async fn canceled(&self) {
        self.cancel.cancelled().await;
    }

    /// Whether the caller has canceled the call.
    pub fn is_canceled(&self) -> bool {
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

    /// The token behind [`canceled`](Invocation::canceled), for code that passes it on.
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
                    ErrorUri::SystemShutdown,
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
            .field("payload", &self.payload)
            .field("details", &self.details)
            .finish()
    }
}

/// The context of one invocation, without its payload: who called, which procedure.
///
/// A service method receives it by declaring a parameter of this type.
#[derive(Debug, Clone)]
pub struct InvocationDetails {
    /// The procedure called: the concrete URI for pattern-based registrations.
    pub procedure: String,
    /// The registration id.
    pub registration: Id,
    /// The caller's session id, if the router disclosed it.
    pub caller: Option<Id>,
    /// The caller's authid, if the router disclosed it.
    pub caller_authid: Option<String>,
    /// The caller's authrole, if the router disclosed it.
    pub caller_authrole: Option<String>,
    /// The complete INVOCATION `Details` dict.
    pub details: Dict,
    session: Option<Session>,
    cancel: tokio_util::sync::CancellationToken,
}

impl InvocationDetails {
    /// Completes when the caller cancels the call; long-running methods should watch it.
    pub async fn canceled(&self) {
        self.cancel.cancelled().await;
    }

    /// Whether the caller has canceled the call.
    pub fn is_canceled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// The session the invocation arrived on, to call or publish from the handler.
    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }
}

impl From<&Invocation> for InvocationDetails {
    fn from(inv: &Invocation) -> Self {
        InvocationDetails {
            procedure: inv.procedure.clone(),
            registration: inv.registration,
            caller: inv.caller(),
            caller_authid: inv.caller_authid().map(str::to_owned),
            caller_authrole: inv.caller_authrole().map(str::to_owned),
            details: inv.details.clone(),
            session: inv.session().cloned(),
            cancel: inv.cancellation().clone(),
        }
    }
}
