//! The caller's side of a call with progressive invocations: input sent in chunks.

use std::fmt;

use crate::error::Result;
use crate::payload::{Arguments, PositionalArgs};
use crate::session::Session;
use crate::session::command::Command;

/// The input side of a call with progressive invocations. Created by [`Call::into_duplex`](super::Call::into_duplex).
///
/// Dropping it without [`finish`](CallInput::finish) sends an empty last chunk.
pub struct CallInput {
    pub(super) session: Session,
    pub(super) key: u64,
    pub(super) finished: bool,
}

impl fmt::Debug for CallInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallInput")
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl CallInput {
    /// Sends one more chunk of positional arguments.
    ///
    /// Fails with [`Error::QueueFull`](crate::Error::QueueFull) if the session's request queue is full
    /// ([`max_queued_commands`](crate::SessionBuilder::max_queued_commands)): the chunk was not
    /// sent; send it again once the session has caught up (e.g. after a progressive result or
    /// a short sleep). The last chunk ([`finish`](CallInput::finish), or the empty one sent on
    /// drop) is never refused.
    pub fn send(&mut self, args: impl PositionalArgs) -> Result<()> {
        self.chunk(Arguments::positional(args)?, false)
    }

    /// Sends one more chunk of prepared arguments.
    pub fn send_arguments(&mut self, arguments: Arguments) -> Result<()> {
        self.chunk(arguments, false)
    }

    /// Sends the last chunk; the callee then produces its final result.
    pub fn finish(mut self, args: impl PositionalArgs) -> Result<()> {
        self.chunk(Arguments::positional(args)?, true)
    }

    fn chunk(&mut self, arguments: Arguments, last: bool) -> Result<()> {
        if self.finished {
            return Ok(());
        }
        let chunk = Command::CallChunk {
            key: self.key,
            args: arguments.args,
            kwargs: arguments.kwargs,
            last,
        };
        if last {
            // One per input: a control command, never refused (nor lost on drop).
            self.finished = true;
            return self.session.send(chunk);
        }
        self.session.send_request_now(chunk)
    }
}

impl Drop for CallInput {
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.chunk(Arguments::new(), true);
        }
    }
}
