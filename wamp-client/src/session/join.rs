//! Joining a realm: HELLO, then WELCOME or ABORT.

use bytes::Bytes;
use futures_util::{SinkExt as _, StreamExt as _};

use super::details::{SessionDetails, client_roles};
use crate::error::{Error, ErrorUri, Result, WampError};
use crate::transport::Transport;
use crate::value::{Dict, Value};
use crate::wire::{Message, Serializer};

/// Sends HELLO and waits for the router's verdict.
pub(super) async fn join(
    transport: &mut Box<dyn Transport>,
    serializer: Serializer,
    realm: &str,
    agent: &str,
    trace_payloads: bool,
) -> Result<SessionDetails> {
    let mut details = Dict::new();
    details.insert("roles".into(), Value::Dict(client_roles()));
    details.insert("agent".into(), Value::from(agent));
    let hello = Message::Hello {
        realm: realm.to_owned(),
        details,
    };
    send(transport, serializer, &hello, trace_payloads).await?;

    // Authentication (CHALLENGE/AUTHENTICATE rounds) would loop here; without it the first
    // answer decides.
    let frame = match transport.next().await {
        Some(Ok(frame)) => frame,
        Some(Err(e)) => {
            return Err(Error::SessionClosed(crate::error::CloseReason::new(
                "wamp.close.system_shutdown",
                Some(format!("the connection failed while joining: {e}")),
                crate::error::CloseInitiator::Transport,
            )));
        }
        None => {
            return Err(Error::SessionClosed(crate::error::CloseReason::new(
                "wamp.close.system_shutdown",
                Some("the router closed the connection while joining".into()),
                crate::error::CloseInitiator::Transport,
            )));
        }
    };
    let message = match serializer.decode(&frame) {
        Ok(message) => message,
        Err(e) => return Err(abort_violation(transport, serializer, e.to_string()).await),
    };
    tracing::trace!(
        direction = "rx",
        message = message.name(),
        "{}",
        super::actor::describe(&message, trace_payloads)
    );
    match message {
        Message::Welcome { session, details } => {
            Ok(SessionDetails::from_welcome(session, realm, details))
        }
        Message::Abort {
            details,
            reason,
            payload,
        } => {
            let (mut args, kwargs) = payload.into_parts();
            // Routers put the human-readable explanation in Details.message.
            if args.is_empty() {
                if let Some(message) = details.get("message").and_then(Value::as_str) {
                    args.push(Value::from(message));
                }
            }
            Err(Error::Aborted(WampError {
                uri: ErrorUri::from(reason),
                args,
                kwargs,
                details,
            }))
        }
        Message::Challenge { method, .. } => {
            // This client offered no authentication method, so any challenge is unexpected.
            let reason = format!(
                "the router sent a `{method}` challenge, but no authentication method was offered"
            );
            let abort = Message::Abort {
                details: message_details(&reason),
                reason: "wamp.error.authentication_failed".into(),
                payload: Default::default(),
            };
            let _ = send(transport, serializer, &abort, trace_payloads).await;
            let _ = transport.close().await;
            Err(Error::Aborted(WampError::with_message(
                ErrorUri::AuthenticationFailed,
                reason,
            )))
        }
        other => {
            let reason = format!("{} received before WELCOME", other.name());
            return Err(abort_violation(transport, serializer, reason).await);
        }
    }
}

fn message_details(message: &str) -> Dict {
    let mut details = Dict::new();
    details.insert("message".into(), Value::from(message));
    details
}

/// Answers a protocol violation during the join with ABORT and closes the connection.
async fn abort_violation(
    transport: &mut Box<dyn Transport>,
    serializer: Serializer,
    reason: String,
) -> Error {
    tracing::warn!(%reason, "protocol violation while joining");
    let abort = Message::Abort {
        details: message_details(&reason),
        reason: ErrorUri::ProtocolViolation.as_str().to_owned(),
        payload: Default::default(),
    };
    let _ = send(transport, serializer, &abort, false).await;
    let _ = transport.close().await;
    Error::ProtocolViolation(reason)
}

async fn send(
    transport: &mut Box<dyn Transport>,
    serializer: Serializer,
    message: &Message,
    trace_payloads: bool,
) -> Result<()> {
    tracing::trace!(
        direction = "tx",
        message = message.name(),
        "{}",
        super::actor::describe(message, trace_payloads)
    );
    let bytes = serializer.encode(message)?;
    transport.send(Bytes::from(bytes)).await.map_err(|e| {
        Error::SessionClosed(crate::error::CloseReason::new(
            "wamp.close.system_shutdown",
            Some(format!("the connection failed while joining: {e}")),
            crate::error::CloseInitiator::Transport,
        ))
    })
}
