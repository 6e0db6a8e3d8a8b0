//! Registering procedures (the callee role).

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use tokio::sync::oneshot;

use crate::error::{Error, Result};
use crate::options::{InvokePolicy, MatchPolicy};
use crate::payload::Handler;
use crate::session::Session;
use crate::session::command::{Command, QueuedRequest, RegisterRequest, Revocation, RouterId};
use crate::uri::UriUse;
use crate::value::{Dict, Value};
use crate::wire::Id;

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
    /// # async fn demo(session: wampkit::Session) -> wampkit::Result<()> {
    /// use wampkit::{Arguments, Invocation, WampError};
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
    pub fn disclose_caller(self) -> Self {
        self.option("disclose_caller", true)
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
        id: RouterId,
    ) -> Result<(oneshot::Receiver<Result<Id>>, Option<QueuedRequest>)> {
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
                id,
                handler: self.handler,
                reply,
            })))?;
        Ok((rx, queued))
    }
}

impl IntoFuture for Register<'_> {
    type Output = Result<Registration>;
    type IntoFuture = RegisterFuture;

    fn into_future(self) -> RegisterFuture {
        let session = self.session.clone();
        let procedure = self.procedure.clone();
        let revoked = Revocation::default();
        let id = RouterId::default();
        let local = session.next_local_id();
        let (state, queued) = match self.start(local, revoked.clone(), id.clone()) {
            Ok((rx, queued)) => (Ok(rx), queued),
            Err(e) => (Err(Some(e)), None),
        };
        RegisterFuture {
            state,
            queued,
            session,
            procedure,
            revoked,
            id,
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
    queued: Option<QueuedRequest>,
    session: Session,
    procedure: String,
    revoked: Revocation,
    id: RouterId,
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
                Poll::Ready(Ok(Ok(_))) => Poll::Ready(Ok(Registration {
                    session: this.session.clone(),
                    id: this.id.clone(),
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
#[must_use = "dropping a Registration unregisters the procedure at once: bind it to a named variable (`let _registration = ...`), not `let _ = ...`, which drops it immediately"]
#[derive(Debug)]
pub struct Registration {
    session: Session,
    /// The router id now, kept by the session task.
    id: RouterId,
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

    /// The registration id the router assigned. A reconnected session registers again and gets
    /// a new one: this is always the current one.
    pub fn id(&self) -> Id {
        self.id.load(Ordering::Relaxed)
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
