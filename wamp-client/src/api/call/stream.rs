//! A call's progressive results as a stream.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;
use tokio::sync::mpsc;

use crate::error::{Error, Result};
use crate::payload::CallResult;

use super::{CancelGuard, CancelHandle, Deadline};

/// Progressive results of a call, then its final result. Created by [`Call::into_stream`](super::Call::into_stream).
///
/// Yields `Ok` for each progressive result ([`CallResult::is_progress`]) and for the final
/// result, then ends; an error ends the stream after being yielded. Dropping the stream before
/// the final result cancels the call.
///
/// At most [`Call::progress_buffer`](super::Call::progress_buffer) results wait unread; a reader that falls further behind
/// gets [`Error::ProgressOverflow`] after them, and the call is canceled.
#[must_use = "streams do nothing unless polled"]
#[derive(Debug)]
pub struct CallStream {
    pub(super) state: std::result::Result<mpsc::Receiver<Result<CallResult>>, Option<Error>>,
    /// Whether the CALL waits for room in the request queue (under the guard's key).
    pub(super) queued: bool,
    pub(super) guard: CancelGuard,
    pub(super) deadline: Option<Pin<Box<Deadline>>>,
    pub(super) done: bool,
}

impl CallStream {
    /// A handle that cancels this call from elsewhere.
    pub fn cancel_handle(&self) -> CancelHandle {
        self.guard.handle()
    }

    /// The session task has taken the queued call in.
    fn taken_in(&mut self) {
        self.queued = false;
        self.guard.armed = true;
    }
}

impl Drop for CallStream {
    fn drop(&mut self) {
        // A call still waiting for room is never sent; one taken in meanwhile is canceled.
        if self.queued && !self.guard.session.withdraw(self.guard.key) {
            self.guard.armed = true;
        }
    }
}

impl Stream for CallStream {
    type Item = Result<CallResult>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        if this.queued {
            match this.guard.session.poll_queued(this.guard.key, cx) {
                Poll::Ready(Ok(())) => this.taken_in(),
                Poll::Ready(Err(e)) => {
                    this.queued = false;
                    this.done = true;
                    return Poll::Ready(Some(Err(e)));
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
                        this.queued = false;
                        this.done = true;
                        return Poll::Ready(Some(Err(Error::Timeout {
                            after: deadline.timeout,
                            what: "waiting for room in the session's request queue",
                            procedure: Some(deadline.procedure.clone()),
                        })));
                    }
                    // Taken in meanwhile: it times out waiting for its next result, below.
                    this.taken_in();
                }
            }
        }
        let item = match &mut this.state {
            Ok(rx) => match crate::session::reply::poll_next_reply(rx, cx) {
                Poll::Ready(Some(Ok(result))) => {
                    if result.is_progress() {
                        // The deadline bounds the wait for each next result.
                        if let Some(deadline) = &mut this.deadline {
                            deadline.as_mut().restart();
                        }
                        return Poll::Ready(Some(Ok(result)));
                    }
                    Ok(result)
                }
                Poll::Ready(Some(Err(e))) => Err(e),
                Poll::Ready(None) => Err(Error::SessionClosed(this.guard.session.close_reason())),
                Poll::Pending => {
                    if let Some(deadline) = &mut this.deadline {
                        if deadline.as_mut().poll_expired(cx) {
                            let mode = this.guard.mode;
                            this.guard.cancel(mode);
                            this.done = true;
                            let timeout = deadline.timeout;
                            return Poll::Ready(Some(Err(Error::Timeout {
                                after: timeout,
                                what: "waiting for the call's next result",
                                procedure: Some(deadline.procedure.clone()),
                            })));
                        }
                    }
                    return Poll::Pending;
                }
            },
            Err(e) => Err(e
                .take()
                .unwrap_or_else(|| Error::SessionClosed(this.guard.session.close_reason()))),
        };
        this.done = true;
        this.guard.armed = false;
        Poll::Ready(Some(item))
    }
}
