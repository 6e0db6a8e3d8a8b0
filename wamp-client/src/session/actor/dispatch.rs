//! The commands of the handles, taken according to the session's state: handed to their role
//! while established; while reconnecting, requests wait for the session (if they can) or fail,
//! and removals are done locally; once leaving, everything but another leave is refused.

use std::task::{Context, Poll};

use bytes::Bytes;

use super::outbound::Offered;
use super::{SessionTask, State, Step};
use crate::error::{CloseInitiator, CloseReason, Error, ErrorUri};
use crate::session::command::Command;

/// What became of a command taken in without waiting (see [`SessionTask::take_command`]).
pub(super) enum CommandNow {
    /// Done.
    Done,
    /// Done but for writing its message, which the full socket did not take.
    Blocked(Bytes),
    /// Not for this path: [`SessionTask::on_command`] takes it.
    Later(Command),
}

impl SessionTask {
    /// Takes a call or publication in without waiting while the session is established, the
    /// bulk of the commands of a busy session: as for received frames (see `receive`), the
    /// large future of the general handlers is then not set up for each of them.
    pub(super) async fn take_command(
        &mut self,
        command: Command,
    ) -> std::result::Result<CommandNow, CloseReason> {
        let mut command = Some(command);
        std::future::poll_fn(|cx| {
            Poll::Ready(match command.take() {
                Some(command) => self.command_now(command, cx),
                None => Ok(CommandNow::Done),
            })
        })
        .await
    }

    fn command_now(
        &mut self,
        command: Command,
        cx: &mut Context<'_>,
    ) -> std::result::Result<CommandNow, CloseReason> {
        if !matches!(self.state, State::Established) {
            return Ok(CommandNow::Later(command));
        }
        let message = match command {
            Command::Call(request) => self.prepare_call(request),
            Command::Publish {
                topic,
                payload,
                extra,
                ack,
            } => self.prepare_publish(topic, payload, extra, ack),
            other => return Ok(CommandNow::Later(other)),
        };
        let Some(message) = message else {
            return Ok(CommandNow::Done);
        };
        Ok(match self.offer(&message, cx)? {
            Offered::Taken => CommandNow::Done,
            Offered::Blocked(bytes) => CommandNow::Blocked(bytes),
        })
    }

    /// Handles a command; `None` once every handle is gone.
    pub(super) async fn on_command(&mut self, command: Option<Command>) -> Step {
        let Some(command) = command else {
            // Every handle is gone: nobody can use the session any more.
            self.commands_open = false;
            return match self.state {
                // Leave politely.
                State::Established => {
                    self.begin_leave(ErrorUri::CloseRealm.as_str().to_owned(), None, None)
                        .await
                }
                State::Reconnecting { .. } => Err(CloseReason::new(
                    ErrorUri::CloseRealm,
                    None,
                    CloseInitiator::Client,
                )),
                State::ShuttingDown { .. } => Ok(()),
            };
        };
        match &mut self.state {
            State::Established => {}
            State::ShuttingDown {
                reason, replies, ..
            } => {
                match command {
                    Command::Leave { reply, .. } => replies.push(reply),
                    other => reject(other, Error::SessionClosed(reason.clone())),
                }
                return Ok(());
            }
            State::Reconnecting { lost } => match command {
                Command::Leave {
                    reason,
                    message,
                    reply,
                } => {
                    let reason = CloseReason::new(reason, message, CloseInitiator::Client);
                    let _ = reply.send(reason.clone());
                    return Err(reason);
                }
                Command::Call(ref call) if call.waits() => {
                    self.wait_for_session(command);
                    return Ok(());
                }
                Command::Subscribe(_) | Command::Register(_) => {
                    self.wait_for_session(command);
                    return Ok(());
                }
                other
                @ (Command::Call(_) | Command::Publish { .. } | Command::CallChunk { .. }) => {
                    reject(other, Error::Disconnected(lost.clone()));
                    return Ok(());
                }
                // Cancels and removals are done locally (see each role), diagnostics answered.
                Command::Cancel { .. }
                | Command::Unsubscribe { .. }
                | Command::Unregister { .. }
                | Command::Diagnostics { .. } => {}
            },
        }
        match command {
            Command::Call(request) => self.call(request).await,
            Command::Cancel { key, mode } => self.cancel(key, mode).await,
            Command::CallChunk {
                key,
                args,
                kwargs,
                last,
            } => self.call_chunk(key, args, kwargs, last).await,
            Command::Publish {
                topic,
                payload,
                extra,
                ack,
            } => self.publish(topic, payload, extra, ack).await,
            Command::Subscribe(request) => self.subscribe(request).await,
            Command::Unsubscribe { queue, reply } => self.unsubscribe(&queue, reply).await,
            Command::Register(request) => self.register(request).await,
            Command::Unregister { local, reply } => self.unregister(local, reply).await,
            Command::Leave {
                reason,
                message,
                reply,
            } => self.begin_leave(reason, message, Some(reply)).await,
            Command::Diagnostics { reply } => {
                let _ = reply.send(self.diagnostics());
                Ok(())
            }
        }
    }

    /// Holds a request until the session has rejoined, as many as the request queue takes
    /// (`SessionBuilder::max_queued_commands`): a loop of waiting calls during a long outage
    /// must not grow memory without end. Beyond that the request fails with `QueueFull`.
    fn wait_for_session(&mut self, command: Command) {
        let limit = self.limits.max_queued_commands;
        if self.waiting.len() >= limit {
            reject(command, Error::QueueFull { limit });
        } else {
            self.waiting.push(command);
        }
    }
}

/// Answers a command that cannot be carried out.
pub(super) fn reject(command: Command, error: Error) {
    match command {
        Command::Call(request) => request.reply.send(Err(error)),
        Command::Cancel { .. } | Command::CallChunk { .. } => {}
        Command::Publish { ack, .. } => {
            if let Some(ack) = ack {
                let _ = ack.send(Err(error));
            }
        }
        Command::Subscribe(request) => drop(request.reply.send(Err(error))),
        Command::Register(request) => drop(request.reply.send(Err(error))),
        Command::Unsubscribe { reply, .. } | Command::Unregister { reply, .. } => {
            if let Some(reply) = reply {
                let _ = reply.send(Err(error));
            }
        }
        Command::Leave { .. } | Command::Diagnostics { .. } => {}
    }
}
