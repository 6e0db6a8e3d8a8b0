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
use crate::session::command::QueuedRequest;

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
    /// The request queue was full: the call waits for room (the slow path, hence boxed).
    #[allow(clippy::type_complexity)]
    Queued(
        Box<(
            Box<QueuedRequest>,
            oneshot::Receiver<Box<Result<CallResult>>>,
        )>,
    ),
    Waiting(oneshot::Receiver<Box<Result<CallResult>>>),
    /// Boxed: a call future is held once per outstanding call, and errors are large.
    Failed(Option<Box<Error>>),
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

impl Future for CallFuture {
    type Output = Result<CallResult>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let _enter = this.span.as_deref().map(tracing::Span::enter);
        if let CallState::Queued(queued) = &mut this.state {
            match this.guard.session.poll_queued(&mut queued.0, cx) {
                Poll::Ready(Ok(())) => {
                    let queued = std::mem::replace(&mut this.state, CallState::Failed(None));
                    if let CallState::Queued(queued) = queued {
                        this.state = CallState::Waiting(queued.1);
                    }
                    this.guard.armed = true;
                }
                Poll::Ready(Err(e)) => {
                    this.state = CallState::Failed(None);
                    return Poll::Ready(Err(e));
                }
                Poll::Pending => {
                    if let Some(deadline) = &mut this.deadline {
                        if deadline.as_mut().poll_expired(cx) {
                            // Never sent: nothing to cancel.
                            this.state = CallState::Failed(None);
                            return Poll::Ready(Err(Error::Timeout {
                                after: deadline.timeout,
                                what: "waiting for room in the session's request queue",
                                procedure: Some(deadline.procedure.clone()),
                            }));
                        }
                    }
                    return Poll::Pending;
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
