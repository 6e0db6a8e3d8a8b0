//! The future of a call with one result, and its timeout.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::oneshot;

use crate::deadline::deadline_after;
use crate::error::{Error, Result};
use crate::payload::CallResult;

use super::{CancelGuard, CancelHandle};

/// The future of an awaited [`Call`](super::Call). Dropping it before it completes cancels the call.
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct CallFuture {
    pub(super) state: CallState,
    pub(super) guard: CancelGuard,
    pub(super) deadline: Option<Pin<Box<Deadline>>>,
    pub(super) span: Option<Box<tracing::Span>>,
}

pin_project_lite::pin_project! {
    /// A client-side deadline, the timeout it was set from and the procedure (for the error),
    /// in one allocation (made only for a call with a timeout).
    #[derive(Debug)]
    pub(super) struct Deadline {
        #[pin]
        sleep: tokio::time::Sleep,
        pub(super) timeout: Duration,
        pub(super) procedure: String,
    }
}

impl Deadline {
    pub(super) fn after(timeout: Duration, procedure: String) -> Pin<Box<Self>> {
        Box::pin(Deadline {
            sleep: tokio::time::sleep_until(deadline_after(timeout)),
            timeout,
            procedure,
        })
    }

    /// Whether the deadline has passed (registering the waker if not).
    pub(super) fn poll_expired(self: Pin<&mut Self>, cx: &mut Context<'_>) -> bool {
        self.project().sleep.poll(cx).is_ready()
    }

    /// Starts the timeout over from now.
    pub(super) fn restart(self: Pin<&mut Self>) {
        let this = self.project();
        this.sleep.reset(deadline_after(*this.timeout));
    }
}

pub(super) enum CallState {
    /// The request queue was full: the call waits for room under its key (see
    /// `Session::poll_queued`).
    Queued(oneshot::Receiver<Box<Result<CallResult>>>),
    Waiting(oneshot::Receiver<Box<Result<CallResult>>>),
    /// Boxed: a call future is held once per outstanding call, and errors are large.
    Failed(Option<Box<Error>>),
}

impl CallState {
    /// The session task has taken the queued call in (which arms its cancel guard): it waits
    /// for its result now.
    fn taken_in(&mut self, guard: &mut CancelGuard) {
        if let CallState::Queued(_) = self {
            if let CallState::Queued(rx) = std::mem::replace(self, CallState::Failed(None)) {
                *self = CallState::Waiting(rx);
            }
        }
        guard.armed = true;
    }
}

impl fmt::Debug for CallState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallState::Queued(_) => f.write_str("Queued"),
            CallState::Waiting(_) => f.write_str("Waiting"),
            CallState::Failed(error) => f.debug_tuple("Failed").field(error).finish(),
        }
    }
}

impl CallFuture {
    /// A handle that cancels this call from elsewhere.
    pub fn cancel_handle(&self) -> CancelHandle {
        self.guard.handle()
    }
}

impl Drop for CallFuture {
    fn drop(&mut self) {
        // A call still waiting for room is never sent; one taken in meanwhile is canceled.
        if matches!(self.state, CallState::Queued(_))
            && !self.guard.session.withdraw(self.guard.key)
        {
            self.guard.armed = true;
        }
    }
}

impl Future for CallFuture {
    type Output = Result<CallResult>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let _enter = this.span.as_deref().map(tracing::Span::enter);
        if let CallState::Queued(_) = &this.state {
            match this.guard.session.poll_queued(this.guard.key, cx) {
                Poll::Ready(Ok(())) => this.state.taken_in(&mut this.guard),
                Poll::Ready(Err(e)) => {
                    this.state = CallState::Failed(None);
                    return Poll::Ready(Err(e));
                }
                Poll::Pending => {
                    let Some(deadline) = &mut this.deadline else {
                        return Poll::Pending;
                    };
                    if !deadline.as_mut().poll_expired(cx) {
                        return Poll::Pending;
                    }
                    if this.guard.session.withdraw(this.guard.key) {
                        // Never sent: nothing to cancel.
                        this.state = CallState::Failed(None);
                        return Poll::Ready(Err(Error::Timeout {
                            after: deadline.timeout,
                            what: "waiting for room in the session's request queue",
                            procedure: Some(deadline.procedure.clone()),
                        }));
                    }
                    // Taken in meanwhile: it times out waiting for its result, below.
                    this.state.taken_in(&mut this.guard);
                }
            }
        }
        let output = match &mut this.state {
            CallState::Waiting(rx) => match crate::session::reply::poll_reply(rx, cx) {
                Poll::Ready(Some(result)) => *result,
                Poll::Ready(None) => Err(Error::SessionClosed(this.guard.session.close_reason())),
                Poll::Pending => {
                    if let Some(deadline) = &mut this.deadline {
                        if deadline.as_mut().poll_expired(cx) {
                            let mode = this.guard.mode;
                            this.guard.cancel(mode);
                            let timeout = deadline.timeout;
                            tracing::debug!(?timeout, "call timed out; canceled");
                            return Poll::Ready(Err(Error::Timeout {
                                after: timeout,
                                what: "waiting for the call's result",
                                procedure: Some(deadline.procedure.clone()),
                            }));
                        }
                    }
                    return Poll::Pending;
                }
            },
            // Handled above.
            CallState::Queued(_) => return Poll::Pending,
            CallState::Failed(error) => Err(error.take().map_or_else(
                || Error::SessionClosed(this.guard.session.close_reason()),
                |e| *e,
            )),
        };
        // Completed: nothing to cancel any more.
        this.guard.armed = false;
        if let Err(e) = &output {
            tracing::debug!(error = %e, "call failed");
        }
        Poll::Ready(output)
    }
}

#[cfg(all(test, target_pointer_width = "64"))]
mod size_tests {
    use super::CallFuture;

    /// BENCHMARKS.md counts the caller's future at 56 B of each pending call.
    #[test]
    fn a_call_future_is_56_bytes() {
        assert_eq!(std::mem::size_of::<CallFuture>(), 56);
    }
}
