//! Calling remote procedures.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

use serde::Serialize;
use tokio::sync::oneshot;

use super::arguments::{keyword_values, payload_accessors, payload_error, positional_values};
use crate::error::{Error, Result};
use crate::session::Session;
use crate::session::command::Command;
use crate::uri::UriUse;
use crate::value::{Dict, Value, ValueError};

/// The result of a call: positional and keyword results plus the RESULT details.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CallResult {
    /// Positional results. A procedure returning one value puts it at index 0.
    pub args: Vec<Value>,
    /// Keyword results.
    pub kwargs: Dict,
    /// The RESULT `Details` dict.
    pub details: Dict,
}

payload_accessors!(CallResult, Error, payload_error);

/// A call being prepared. Created by [`Session::call`]; `.await` sends it and waits for the result.
///
/// ```no_run
/// # async fn demo(session: wamp_client::Session) -> wamp_client::Result<()> {
/// #[derive(serde::Serialize)]
/// struct Add { a: i64, b: i64 }
///
/// let positional: i64 = session.call("com.example.add", (2, 3)).await?.arg(0)?;
/// let keyword: i64 = session.call("com.example.add", ()).kwargs(Add { a: 2, b: 3 }).await?.arg(0)?;
/// assert_eq!(positional, keyword);
/// # Ok(()) }
/// ```
#[must_use = "a call is sent only when awaited"]
#[derive(Debug)]
pub struct Call<'a> {
    session: &'a Session,
    procedure: String,
    args: std::result::Result<Vec<Value>, ValueError>,
    kwargs: std::result::Result<Dict, ValueError>,
    options: Dict,
}

impl Session {
    /// Calls `procedure` with positional arguments `args`: a tuple, `Vec` or array of any
    /// `Serialize` values (`()` for none). Add keyword arguments or options on the returned
    /// [`Call`], then `.await` it.
    pub fn call(&self, procedure: impl Into<String>, args: impl Serialize) -> Call<'_> {
        Call {
            session: self,
            procedure: procedure.into(),
            args: positional_values(&args),
            kwargs: Ok(Dict::new()),
            options: Dict::new(),
        }
    }
}

impl<'a> Call<'a> {
    /// Sets the keyword arguments from a struct or map.
    pub fn kwargs(mut self, kwargs: impl Serialize) -> Self {
        self.kwargs = keyword_values(&kwargs);
        self
    }

    /// Adds one keyword argument.
    pub fn kwarg(mut self, key: impl Into<String>, value: impl Serialize) -> Self {
        if let Ok(kwargs) = &mut self.kwargs {
            match crate::value::to_value(&value) {
                Ok(value) => {
                    kwargs.insert(key.into(), value);
                }
                Err(e) => self.kwargs = Err(e),
            }
        }
        self
    }

    /// Replaces positional and keyword arguments with prepared ones.
    pub fn arguments(mut self, arguments: super::Arguments) -> Self {
        self.args = Ok(arguments.args);
        self.kwargs = Ok(arguments.kwargs);
        self
    }

    /// Sets a raw CALL option, for router-specific extensions.
    pub fn option(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.options.insert(key.into(), value.into());
        self
    }

    /// Asks the router to disclose this caller's identity to the callee (`disclose_me`).
    pub fn disclose_me(self, disclose: bool) -> Self {
        self.option("disclose_me", disclose)
    }

    fn start(self) -> Result<oneshot::Receiver<Result<CallResult>>> {
        self.session
            .uri_check()
            .check(&self.procedure, UriUse::Reference)?;
        let args = self.args.map_err(payload_error)?;
        let kwargs = self.kwargs.map_err(payload_error)?;
        let (reply, rx) = oneshot::channel();
        self.session.send(Command::Call {
            procedure: self.procedure,
            options: self.options,
            args,
            kwargs,
            reply,
        })?;
        Ok(rx)
    }
}

impl<'a> IntoFuture for Call<'a> {
    type Output = Result<CallResult>;
    type IntoFuture = CallFuture;

    fn into_future(self) -> CallFuture {
        let session = self.session.clone();
        let span = tracing::debug_span!("wamp.call", procedure = %self.procedure);
        let state = {
            let _enter = span.enter();
            match self.start() {
                Ok(rx) => CallState::Waiting(rx),
                Err(e) => CallState::Failed(Some(e)),
            }
        };
        CallFuture {
            state,
            session,
            span,
        }
    }
}

/// The future of an awaited [`Call`]. Dropping it abandons the call; a late result is discarded.
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct CallFuture {
    state: CallState,
    session: Session,
    span: tracing::Span,
}

#[derive(Debug)]
enum CallState {
    Waiting(oneshot::Receiver<Result<CallResult>>),
    Failed(Option<Error>),
}

impl Future for CallFuture {
    type Output = Result<CallResult>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let _enter = this.span.enter();
        match &mut this.state {
            CallState::Waiting(rx) => match Pin::new(rx).poll(cx) {
                Poll::Ready(Ok(result)) => {
                    if let Err(e) = &result {
                        tracing::debug!(error = %e, "call failed");
                    }
                    Poll::Ready(result)
                }
                Poll::Ready(Err(_)) => {
                    Poll::Ready(Err(Error::SessionClosed(this.session.close_reason())))
                }
                Poll::Pending => Poll::Pending,
            },
            CallState::Failed(error) => Poll::Ready(Err(error
                .take()
                .unwrap_or_else(|| Error::SessionClosed(this.session.close_reason())))),
        }
    }
}
