//! Ending the session: leaving (GOODBYE, then the router's GOODBYE until the leave timeout),
//! aborting on a protocol violation, and the final cleanup once the session has ended.

use std::time::Duration;

use futures_util::SinkExt as _;
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::dispatch::reject;
use super::{SessionTask, State, Step};
use crate::error::{CloseInitiator, CloseReason, Error, ErrorUri};
use crate::session::command::Command;
use crate::value::{Dict, Value};
use crate::wire::{Message, Payload};

/// How long the last writes may take once the session has ended (the ABORT of a protocol
/// violation, the final flush, closing the connection): a router that stopped reading must not
/// keep the session task alive.
pub(super) const CLOSE_WRITE_TIMEOUT: Duration = Duration::from_secs(1);

impl SessionTask {
    /// Sends GOODBYE; the session ends with the router's GOODBYE or at the leave timeout.
    pub(super) async fn begin_leave(
        &mut self,
        reason: String,
        message: Option<String>,
        reply: Option<oneshot::Sender<CloseReason>>,
    ) -> Step {
        let mut details = Dict::new();
        if let Some(message) = &message {
            details.insert("message".into(), Value::from(message.as_str()));
        }
        let close = CloseReason::new(reason.clone(), message, CloseInitiator::Client);
        self.fail_pending(&close);
        // Nothing may follow GOODBYE, so running handlers could not answer anyway.
        self.callee.abort_invocations();
        // The leave timeout bounds GOODBYE's write too (a router that stopped reading).
        let deadline = crate::deadline::deadline_after(self.leave_timeout);
        self.limit_writes(deadline);
        self.state = State::ShuttingDown {
            deadline,
            reason: close,
            replies: reply.into_iter().collect(),
        };
        self.send(Message::Goodbye { details, reason }).await
    }

    pub(super) fn leave_timed_out(&mut self) -> CloseReason {
        tracing::debug!("no GOODBYE from the router in time; closing the connection");
        match &self.state {
            State::ShuttingDown { reason, .. } => reason.clone(),
            State::Established | State::Reconnecting { .. } => {
                CloseReason::new(ErrorUri::CloseRealm, None, CloseInitiator::Client)
            }
        }
    }

    pub(super) async fn protocol_violation(&mut self, reason: String) -> CloseReason {
        let reason = crate::error::clip(&reason).into_owned();
        tracing::warn!(%reason, "protocol violation; aborting the session");
        let mut details = Dict::new();
        details.insert("message".into(), Value::from(reason.as_str()));
        let close = CloseReason::new(
            ErrorUri::ProtocolViolation,
            Some(reason),
            CloseInitiator::ProtocolViolation,
        );
        // Nobody waits on the ABORT's write.
        self.fail_pending(&close);
        self.limit_writes(Instant::now() + CLOSE_WRITE_TIMEOUT);
        let _ = self
            .send(Message::Abort {
                details,
                reason: ErrorUri::ProtocolViolation.as_str().to_owned(),
                payload: Payload::Empty,
            })
            .await;
        close
    }

    /// Final cleanup: publish the close reason, fail everything still waiting, end every
    /// subscription stream, abort running handlers, close the connection.
    pub(super) async fn shut_down(mut self, reason: CloseReason) {
        tracing::info!(reason = %reason, "session closed");
        self.closed.send_replace(Some(reason.clone()));
        self.session_state
            .send_replace(crate::session::SessionState::Closed(reason.clone()));
        self.fail_pending(&reason);
        for command in std::mem::take(&mut self.waiting) {
            refuse(command, &reason);
        }
        self.subscriber.subscriptions.clear();
        self.callee.registrations.clear();
        self.callee.abort_invocations();
        if let State::ShuttingDown { replies, .. } =
            std::mem::replace(&mut self.state, State::Established)
        {
            for reply in replies {
                let _ = reply.send(reason.clone());
            }
        }
        // Refuse what handles queued meanwhile, so nobody waits on a dead session.
        self.commands.close();
        while let Ok(command) = self.commands.try_recv() {
            refuse(command, &reason);
        }
        // Everything waiting has its answer: now the socket, bounded.
        self.limit_writes(Instant::now() + CLOSE_WRITE_TIMEOUT);
        let _ = self.flush().await;
        let close = self.connection_waker.writing(self.transport.close());
        let _ = tokio::time::timeout(CLOSE_WRITE_TIMEOUT, close).await;
    }
}

/// Answers a command that arrives once the session has ended: a leave with why it ended.
fn refuse(command: Command, reason: &CloseReason) {
    match command {
        Command::Leave { reply, .. } => drop(reply.send(reason.clone())),
        other => reject(other, Error::SessionClosed(reason.clone())),
    }
}
