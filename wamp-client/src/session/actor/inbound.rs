//! Messages from the router: decoded, then routed to the role they concern. The session's own
//! messages (GOODBYE, ABORT) and those a router never sends are handled here.

use bytes::Bytes;

use super::shutdown::CLOSE_WRITE_TIMEOUT;
use super::{SessionTask, State, Step};
use crate::error::{CloseInitiator, CloseReason, ErrorUri, WampError};
use crate::payload::CallResult;
use crate::transport::TransportError;
use crate::value::Dict;
use crate::wire::{Message, code, describe};

impl SessionTask {
    pub(super) async fn on_frame(
        &mut self,
        frame: Option<std::result::Result<Bytes, TransportError>>,
    ) -> Step {
        let bytes = match frame {
            Some(Ok(bytes)) => bytes,
            Some(Err(e)) => return Err(transport_lost(format!("the connection failed: {e}"))),
            None => return Err(transport_lost("the router closed the connection".into())),
        };
        self.frame_len = bytes.len();
        let message = match self.serializer.decode_frame(&bytes) {
            Ok(message) => message,
            Err(e) => return Err(self.protocol_violation(e.to_string()).await),
        };
        if tracing::enabled!(tracing::Level::TRACE) {
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
                _ => Ok(()),
            };
        }
        self.on_message(message).await
    }

    async fn on_message(&mut self, message: Message) -> Step {
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
            Message::Event {
                subscription,
                publication,
                details,
                payload,
            } => {
                self.on_event(subscription, publication, details, payload);
                if self.handoff.event_delivered() {
                    self.handoff.hand_over();
                }
                // A burst of events arrives faster than one socket read per event: spend the
                // task's cooperative budget so that, on a single-threaded runtime, subscribers
                // get to run (and drain their queues) between bursts instead of after them.
                tokio::task::consume_budget().await;
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
