//! Messages from the router: decoded, then routed to the role they concern. The session's own
//! messages (GOODBYE, ABORT) and those a router never sends are handled here.

use bytes::Bytes;

use super::shutdown::CLOSE_WRITE_TIMEOUT;
use super::{SessionTask, State, Step};
use crate::error::{CloseInitiator, CloseReason, ErrorUri, WampError};
use crate::payload::CallResult;
use crate::transport::TransportError;
use crate::value::Dict;
use crate::wire::{Id, Message, Payload, code, describe};

/// What a received frame still needs once [`SessionTask::receive`] has done what it can
/// without waiting.
pub(super) enum Received {
    /// Nothing more.
    Done,
    /// An EVENT was queued for its subscribers: every few of them, the task spends a unit of its
    /// cooperative budget.
    Event,
    /// A message whose handling waits (it sends something, or ends the session).
    Message(Message),
    /// The frame breaks the protocol, for this reason.
    Violation(String),
}

/// How many events spend one unit of the session task's cooperative budget (see
/// [`SessionTask::event_spends_budget`]): with tokio's 128 units per poll, the task yields to
/// the subscribers it woke every 512 events at most, well within a subscription's buffer
/// (`bounded_buffers.rs` holds a burst of 20,000 events to a buffer of 2,000).
pub(super) const EVENTS_PER_BUDGET_UNIT: u8 = 4;

impl SessionTask {
    /// Decodes a received frame and handles what needs no waiting: the results that end calls,
    /// the acknowledgements of publications and the events, most of what a busy session
    /// receives. Kept synchronous so that these skip the asynchronous handlers, whose futures
    /// are large and would be set up (copied) for every message; the rest is returned for
    /// [`on_message`](Self::on_message) (the main loop's `on_frame!` does both).
    pub(super) fn receive(
        &mut self,
        frame: Option<std::result::Result<Bytes, TransportError>>,
    ) -> std::result::Result<Received, CloseReason> {
        let bytes = match frame {
            Some(Ok(bytes)) => bytes,
            Some(Err(e)) => return Err(transport_lost(format!("the connection failed: {e}"))),
            None => return Err(transport_lost("the router closed the connection".into())),
        };
        self.frame_len = bytes.len();
        // EVENTs go from the envelope straight to their subscribers. Traced ones are made into
        // a message first, to be described; while the session is leaving they are ignored
        // (below).
        let traced = tracing::enabled!(tracing::Level::TRACE);
        let direct_events = !traced && !matches!(self.state, State::ShuttingDown { .. });
        let serializer = self.serializer;
        let decoded = if direct_events {
            serializer.decode_frame_or_event(
                bytes,
                |subscription, publication, details, payload| {
                    self.deliver_event(subscription, publication, details, payload);
                },
            )
        } else {
            serializer.decode_frame(bytes).map(Some)
        };
        let message = match decoded {
            Ok(Some(message)) => message,
            Ok(None) => return Ok(Received::Event),
            Err(e) => return Ok(Received::Violation(e.to_string())),
        };
        if traced {
            tracing::trace!(
                direction = "rx",
                message = message.name(),
                "{}",
                describe(&message, self.trace_payloads)
            );
        }
        if let State::ShuttingDown { reason, .. } = &self.state {
            // While shutting down only the router's GOODBYE (or an ABORT) matters.
            return match message {
                Message::Goodbye { .. } | Message::Abort { .. } => Err(reason.clone()),
                _ => Ok(Received::Done),
            };
        }
        Ok(self.handle_now(message))
    }

    /// What of `message` needs no waiting is done here; the rest is returned.
    fn handle_now(&mut self, message: Message) -> Received {
        match message {
            Message::Result {
                request,
                details,
                payload,
            } => {
                if self.caller.takes_now(request, &details) {
                    let result = CallResult::received(payload, details);
                    self.on_final_answer(request, Ok(result));
                    Received::Done
                } else {
                    Received::Message(Message::Result {
                        request,
                        details,
                        payload,
                    })
                }
            }
            Message::Event {
                subscription,
                publication,
                details,
                payload,
            } => {
                self.deliver_event(subscription, publication, details, payload);
                Received::Event
            }
            Message::Published {
                request,
                publication,
            } => match self.publisher.pending.remove(&request) {
                Some(ack) => {
                    self.handoff.publication_acknowledged(ack, publication);
                    Received::Done
                }
                // Not waited for (or not a publication): `on_published` judges.
                None => Received::Message(Message::Published {
                    request,
                    publication,
                }),
            },
            other => Received::Message(other),
        }
    }

    /// Whether the event just delivered spends a unit of the task's cooperative budget: one in
    /// [`EVENTS_PER_BUDGET_UNIT`] does. A unit is meant for a piece of work such as a socket
    /// read; an event handed to its queue is a small fraction of one.
    pub(super) fn event_spends_budget(&mut self) -> bool {
        self.events_unbudgeted += 1;
        if self.events_unbudgeted < EVENTS_PER_BUDGET_UNIT {
            return false;
        }
        self.events_unbudgeted = 0;
        true
    }

    /// Queues an EVENT for its subscribers, handing the batch over every so many events.
    ///
    /// A burst of events arrives faster than one socket read per event: every few of them,
    /// the task spends a unit of its cooperative budget (see `Received::Event`) so that, on a
    /// single-threaded runtime, subscribers get to run (and drain their queues) between bursts
    /// instead of after them.
    fn deliver_event(
        &mut self,
        subscription: Id,
        publication: Id,
        details: Dict,
        payload: Payload,
    ) {
        self.on_event(subscription, publication, details, payload);
        if self.handoff.event_delivered() {
            self.handoff.hand_over();
        }
    }

    pub(super) async fn on_message(&mut self, message: Message) -> Step {
        match message {
            Message::Result {
                request,
                details,
                payload,
            } => {
                let result = CallResult::received(payload, details);
                self.on_call_answer(request, Ok(result), "RESULT").await
            }
            Message::Error {
                request_type,
                request,
                details,
                error,
                payload,
            } => {
                let (args, kwargs) = payload.into_parts();
                let error = WampError {
                    uri: ErrorUri::from(error),
                    args,
                    kwargs,
                    details,
                };
                match request_type {
                    code::CALL => self.on_call_answer(request, Err(error), "ERROR").await,
                    code::PUBLISH => self.on_publish_error(request, error).await,
                    code::SUBSCRIBE | code::UNSUBSCRIBE => {
                        self.on_subscriber_error(request, request_type, error).await
                    }
                    code::REGISTER | code::UNREGISTER => {
                        self.on_callee_error(request, request_type, error).await
                    }
                    code::INVOCATION => {
                        let reason = "ERROR for an INVOCATION, which only a callee sends";
                        Err(self.protocol_violation(reason.to_owned()).await)
                    }
                    _ => self.unexpected_answer(request, "ERROR").await,
                }
            }
            Message::Published {
                request,
                publication,
            } => self.on_published(request, publication).await,
            Message::Subscribed {
                request,
                subscription,
            } => self.on_subscribed(request, subscription).await,
            Message::Unsubscribed { request, details } => {
                self.on_unsubscribed(request, details).await
            }
            Message::Registered {
                request,
                registration,
            } => self.on_registered(request, registration).await,
            Message::Unregistered { request, details } => {
                self.on_unregistered(request, details).await
            }
            event @ Message::Event { .. } => {
                // `receive` takes events before they come here; one that does is handled alike.
                if let Received::Event = self.handle_now(event)
                    && self.event_spends_budget()
                {
                    tokio::task::consume_budget().await;
                }
                Ok(())
            }
            Message::Invocation {
                request,
                registration,
                details,
                payload,
            } => {
                self.on_invocation(request, registration, details, payload)
                    .await
            }
            Message::Interrupt { request, options } => {
                self.on_interrupt(request, &options);
                Ok(())
            }
            Message::Goodbye { details, reason } => {
                // The router ends the session: acknowledge, then close.
                self.limit_writes(tokio::time::Instant::now() + CLOSE_WRITE_TIMEOUT);
                self.send(Message::Goodbye {
                    details: Dict::new(),
                    reason: ErrorUri::GoodbyeAndOut.as_str().to_owned(),
                })
                .await?;
                Err(CloseReason::from_router(&reason, &details))
            }
            Message::Abort {
                details, reason, ..
            } => Err(CloseReason::from_router(&reason, &details)),
            Message::EventReceived { .. } => Ok(()),
            other @ (Message::Welcome { .. } | Message::Challenge { .. }) => {
                let reason = format!(
                    "{} received after the session was established",
                    other.name()
                );
                Err(self.protocol_violation(reason).await)
            }
            other => {
                let reason = format!(
                    "{} is not a message a router sends to a client",
                    other.name()
                );
                Err(self.protocol_violation(reason).await)
            }
        }
    }
}

fn transport_lost(message: String) -> CloseReason {
    CloseReason::new(
        ErrorUri::SystemShutdown,
        Some(message),
        CloseInitiator::Transport,
    )
}
