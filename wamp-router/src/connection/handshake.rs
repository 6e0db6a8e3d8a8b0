//! Opening a session: HELLO, authentication, then WELCOME or ABORT.

use bytes::Bytes;
use futures_util::stream::SplitStream;
use futures_util::{SinkExt, StreamExt};
use wampkit_client::transport::Transport;
use wampkit_client::wire::{Message, Payload};
use wampkit_client::{Dict, Serializer, Value};

use super::writer::Writer;
use crate::auth::{Denied, Identity, Step};
use crate::router::RouterInner;

/// A client that asked to join a realm and was admitted.
pub(crate) struct Admitted {
    pub(crate) realm: String,
    pub(crate) identity: Identity,
    pub(crate) details: Dict,
    pub(crate) serializer: Serializer,
}

/// Why no session was opened.
pub(crate) enum Refused {
    /// The client went away or sent nothing usable; nothing more to say.
    Gone,
    /// ABORT with this reason and message.
    Abort { reason: String, message: String },
}

impl From<Denied> for Refused {
    fn from(denied: Denied) -> Self {
        Refused::Abort {
            reason: denied.reason,
            message: denied.message,
        }
    }
}

fn violation(message: impl Into<String>) -> Refused {
    Refused::Abort {
        reason: "wamp.error.protocol_violation".into(),
        message: message.into(),
    }
}

/// Reads the next message; `None` when the client is gone.
async fn next_message(
    stream: &mut SplitStream<Box<dyn Transport>>,
    serializer: &mut Option<Serializer>,
) -> Result<Message, Refused> {
    let bytes = match stream.next().await {
        Some(Ok(bytes)) => bytes,
        _ => return Err(Refused::Gone),
    };
    if let Some(serializer) = serializer {
        return serializer
            .decode(&bytes)
            .map_err(|e| violation(format!("cannot decode the message: {e}")));
    }
    // An in-process link: the first message tells the serializer.
    for candidate in Serializer::ALL {
        if let Ok(message @ Message::Hello { .. }) = candidate.decode(&bytes) {
            *serializer = Some(candidate);
            return Ok(message);
        }
    }
    Err(Refused::Gone)
}

/// Runs the opening handshake; on refusal the ABORT is sent here.
pub(crate) async fn open(
    router: &RouterInner,
    stream: &mut SplitStream<Box<dyn Transport>>,
    sink: &mut Writer,
    serializer: Option<Serializer>,
) -> Result<Admitted, Refused> {
    let mut serializer = serializer;
    let admitted = tokio::time::timeout(
        router.settings.hello_timeout,
        admit(router, stream, sink, &mut serializer),
    )
    .await
    .unwrap_or_else(|_| {
        Err(Refused::Abort {
            reason: "wamp.error.timeout".into(),
            message: "the session did not join in time".into(),
        })
    });
    if let (Err(Refused::Abort { reason, message }), Some(serializer)) = (&admitted, serializer) {
        let abort = abort_message(reason, message);
        send(sink, serializer, &abort).await;
    }
    admitted
}

async fn admit(
    router: &RouterInner,
    stream: &mut SplitStream<Box<dyn Transport>>,
    sink: &mut Writer,
    serializer: &mut Option<Serializer>,
) -> Result<Admitted, Refused> {
    let (realm, details) = match next_message(stream, serializer).await? {
        Message::Hello { realm, details } => (realm, details),
        other => return Err(violation(format!("expected HELLO, got {}", other.name()))),
    };
    let Some(serializer) = *serializer else {
        return Err(Refused::Gone);
    };
    let Some(realm_state) = router.realms.get(&realm) else {
        return Err(Refused::Abort {
            reason: "wamp.error.no_such_realm".into(),
            message: format!("no realm `{realm}` on this router"),
        });
    };
    let announces_roles = details
        .get("roles")
        .and_then(Value::as_dict)
        .is_some_and(|roles| !roles.is_empty());
    if !announces_roles {
        return Err(violation("HELLO announces no roles"));
    }
    let identity = match realm_state
        .config
        .authentication
        .hello(&realm, &details)
        .await
    {
        Step::Welcome(identity) => identity,
        Step::Deny(denied) => return Err(denied.into()),
        Step::Challenge {
            method,
            extra,
            pending,
        } => {
            send(sink, serializer, &Message::Challenge { method, extra }).await;
            match stream
                .next()
                .await
                .map(|b| b.ok().map(|b| serializer.decode(&b)))
            {
                Some(Some(Ok(Message::Authenticate { signature, extra }))) => {
                    pending.authenticate(&signature, &extra).await?
                }
                Some(Some(Ok(Message::Abort { .. }))) | None | Some(None) => {
                    return Err(Refused::Gone);
                }
                Some(Some(Ok(other))) => {
                    return Err(violation(format!(
                        "expected AUTHENTICATE, got {}",
                        other.name()
                    )));
                }
                Some(Some(Err(e))) => {
                    return Err(violation(format!("cannot decode the message: {e}")));
                }
            }
        }
    };
    Ok(Admitted {
        realm,
        identity,
        details,
        serializer,
    })
}

/// Writes one message at once (before the session's writer runs).
pub(crate) async fn send(sink: &mut Writer, serializer: Serializer, message: &Message) {
    if let Ok(bytes) = serializer.encode(message) {
        if let Err(e) = sink.send(Bytes::from(bytes)).await {
            tracing::debug!(error = %e, "cannot write to the client");
        }
    }
}

/// An ABORT with a reason and a message.
pub(crate) fn abort_message(reason: &str, message: &str) -> Message {
    let mut details = Dict::new();
    details.insert("message".into(), Value::from(message));
    Message::Abort {
        details,
        reason: reason.to_owned(),
        payload: Payload::Empty,
    }
}
