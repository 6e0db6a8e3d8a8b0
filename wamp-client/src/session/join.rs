//! Joining a realm: HELLO, zero or more CHALLENGE/AUTHENTICATE rounds, then WELCOME or ABORT.

use bytes::Bytes;
use futures_util::{SinkExt as _, StreamExt as _};
use zeroize::Zeroize as _;

use crate::auth::{
    AuthConfig, AuthError, AuthErrorKind, AuthSession, CLIENT_ABORT_REASON, Challenge, RouterProof,
};
use crate::error::{Error, ErrorUri, ProtocolViolation, Result, WampError};
use crate::session_details::{SessionDetails, client_roles};
use crate::transport::Transport;
use crate::value::{Dict, Value};
use crate::wire::{Message, Serializer};

/// The most CHALLENGE rounds accepted in one join; a router asking for more is broken.
const MAX_CHALLENGE_ROUNDS: usize = 16;

/// One offered method with its authentication state for this connection.
struct Offered {
    method: String,
    session: Box<dyn AuthSession>,
}

/// Sends HELLO, answers the router's CHALLENGEs and waits for its verdict.
pub(super) async fn join(
    transport: &mut Box<dyn Transport>,
    serializer: Serializer,
    realm: &str,
    agent: &str,
    auth: &AuthConfig,
    trace_payloads: bool,
    payload_passthru: bool,
) -> Result<SessionDetails> {
    // Key derivations started by this join share the builder's slot.
    auth.kdf_slot
        .scope(join_inner(
            transport,
            serializer,
            realm,
            agent,
            auth,
            trace_payloads,
            payload_passthru,
        ))
        .await
}

async fn join_inner(
    transport: &mut Box<dyn Transport>,
    serializer: Serializer,
    realm: &str,
    agent: &str,
    auth: &AuthConfig,
    trace_payloads: bool,
    payload_passthru: bool,
) -> Result<SessionDetails> {
    if let Some(error) = &auth.error {
        let _ = transport.close().await;
        return Err(client_error(error));
    }
    let mut offered = Vec::with_capacity(auth.authenticators.len());
    for authenticator in &auth.authenticators {
        match authenticator.start() {
            Ok(session) => offered.push(Offered {
                method: authenticator.method().to_owned(),
                session,
            }),
            Err(error) => {
                let _ = transport.close().await;
                return Err(client_error(&error));
            }
        }
    }

    let hello = Message::Hello {
        realm: realm.to_owned(),
        details: hello_details(agent, auth, &offered, payload_passthru),
    };
    send(transport, serializer, &hello, trace_payloads).await?;

    let mut rounds = 0;
    loop {
        let message = receive(transport, serializer, trace_payloads).await?;
        match message {
            Message::Welcome { session, details } => {
                let details = SessionDetails::from_welcome(session, realm, details);
                for offer in &mut offered {
                    if let Err(error) = offer.session.welcome(&details) {
                        return Err(
                            client_abort(transport, serializer, &error, trace_payloads).await
                        );
                    }
                }
                if let Err(error) = check_router_proven(&offered, &details) {
                    return Err(client_abort(transport, serializer, &error, trace_payloads).await);
                }
                return Ok(details);
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
                let _ = transport.close().await;
                return Err(Error::Aborted(WampError {
                    uri: ErrorUri::from(reason),
                    args,
                    kwargs,
                    details,
                }));
            }
            Message::Challenge { method, extra } => {
                rounds += 1;
                if rounds > MAX_CHALLENGE_ROUNDS {
                    let reason = format!(
                        "the router sent more than {MAX_CHALLENGE_ROUNDS} authentication \
                         challenges"
                    );
                    let violation = ProtocolViolation::new(&reason);
                    return Err(abort_violation(transport, serializer, violation).await);
                }
                let Some(offer) = offered.iter_mut().find(|o| o.method == method) else {
                    let methods: Vec<&str> = offered.iter().map(|o| o.method.as_str()).collect();
                    let error = AuthError::new(if methods.is_empty() {
                        format!(
                            "the router sent a `{method}` challenge, but no authentication \
                             method was offered"
                        )
                    } else {
                        format!(
                            "the router sent a `{method}` challenge, but this client offered \
                             only {methods:?}"
                        )
                    });
                    return Err(client_abort(transport, serializer, &error, trace_payloads).await);
                };
                let challenge = Challenge::new(method, extra);
                match offer.session.respond(&challenge).await {
                    Ok(response) => {
                        let (signature, extra) = response.into_parts();
                        let authenticate = Message::Authenticate {
                            signature: signature.expose().to_owned(),
                            extra,
                        };
                        let sent = send(transport, serializer, &authenticate, trace_payloads).await;
                        if let Message::Authenticate { mut signature, .. } = authenticate {
                            signature.zeroize();
                        }
                        sent?;
                    }
                    Err(error) => {
                        return Err(
                            client_abort(transport, serializer, &error, trace_payloads).await
                        );
                    }
                }
            }
            other => {
                let reason = format!("{} received before WELCOME", other.name());
                let violation = ProtocolViolation::new(&reason);
                return Err(abort_violation(transport, serializer, violation).await);
            }
        }
    }
}

/// Refuses a WELCOME without the router's proof of identity where one is required: an offered
/// method requires it, or every offered method can give it (so a router that skips it, or
/// claims to have accepted a method nobody offered, is not believed).
fn check_router_proven(offered: &[Offered], details: &SessionDetails) -> Result<(), AuthError> {
    if offered.iter().any(|o| o.session.router_proven()) {
        return Ok(());
    }
    let required: Vec<&str> = offered
        .iter()
        .filter(|o| o.session.router_proof() == RouterProof::Required)
        .map(|o| o.method.as_str())
        .collect();
    let all_can_prove = !offered.is_empty()
        && offered
            .iter()
            .all(|o| o.session.router_proof() != RouterProof::None);
    if required.is_empty() && !all_can_prove {
        return Ok(());
    }
    let accepted = details.authmethod.as_deref().unwrap_or("none named");
    let methods: Vec<&str> = offered.iter().map(|o| o.method.as_str()).collect();
    let (because, otherwise) = if required.is_empty() {
        (
            format!("every offered method ({methods:?}) can authenticate the router"),
            "also offer a method that does not (e.g. Anonymous)",
        )
    } else {
        (
            format!("router authentication was asked for with {required:?}"),
            "do not ask for it (CryptoSign::verify_router, request_router_signature)",
        )
    };
    Err(AuthError::with_kind(
        AuthErrorKind::RouterNotAuthenticated,
        format!(
            "the router welcomed this client (authmethod: {accepted}) without proving its \
             identity, which this client requires because {because}. Check that the URL names \
             the router you expect and that the router is configured for {methods:?}; to accept \
             a router that does not prove itself, {otherwise}"
        ),
    ))
}

/// HELLO.Details: roles, agent and the authentication fields.
fn hello_details(
    agent: &str,
    auth: &AuthConfig,
    offered: &[Offered],
    payload_passthru: bool,
) -> Dict {
    let mut details = Dict::new();
    details.insert("roles".into(), Value::Dict(client_roles(payload_passthru)));
    details.insert("agent".into(), Value::from(agent));
    if !offered.is_empty() {
        let methods = offered
            .iter()
            .map(|o| Value::from(o.method.as_str()))
            .collect();
        details.insert("authmethods".into(), Value::List(methods));
    }
    // HELLO has one authid: the builder's, else the first authenticator's that has one.
    let authid = auth
        .authid
        .clone()
        .or_else(|| offered.iter().find_map(|o| o.session.authid()));
    if let Some(authid) = authid {
        for offer in offered {
            if let Some(other) = offer.session.authid() {
                if other != authid {
                    tracing::warn!(
                        method = %offer.method,
                        authid = %authid,
                        ignored = %other,
                        "HELLO carries one authid; the {} authenticator's is not sent",
                        offer.method
                    );
                }
            }
        }
        details.insert("authid".into(), Value::from(authid));
    }
    if let Some(authrole) = &auth.authrole {
        details.insert("authrole".into(), Value::from(authrole.as_str()));
    }
    let mut authextra = auth.authextra.clone();
    for offer in offered {
        for (key, value) in offer.session.authextra() {
            // The methods' own fields are protocol fields: they win over the builder's.
            authextra.insert(key, value);
        }
    }
    if !authextra.is_empty() {
        details.insert("authextra".into(), Value::Dict(authextra));
    }
    details
}

/// Receives and decodes the next message of the handshake.
async fn receive(
    transport: &mut Box<dyn Transport>,
    serializer: Serializer,
    trace_payloads: bool,
) -> Result<Message> {
    let frame = match transport.next().await {
        Some(Ok(frame)) => frame,
        Some(Err(e)) => {
            return Err(Error::SessionClosed(crate::error::CloseReason::new(
                ErrorUri::SystemShutdown,
                Some(format!("the connection failed while joining: {e}")),
                crate::error::CloseInitiator::Transport,
            )));
        }
        None => {
            return Err(Error::SessionClosed(crate::error::CloseReason::new(
                ErrorUri::SystemShutdown,
                Some("the router closed the connection while joining".into()),
                crate::error::CloseInitiator::Transport,
            )));
        }
    };
    let message = match serializer.decode(&frame) {
        Ok(message) => message,
        Err(e) => return Err(abort_violation(transport, serializer, e.into()).await),
    };
    tracing::trace!(
        direction = "rx",
        message = message.name(),
        "{}",
        crate::wire::describe(&message, trace_payloads)
    );
    Ok(message)
}

/// The error `connect` returns when this client refuses to go on with the authentication.
fn client_error(error: &AuthError) -> Error {
    Error::Authentication(error.clone())
}

/// Sends ABORT for an authentication this client refuses, closes the connection, and returns
/// the error for `connect`.
async fn client_abort(
    transport: &mut Box<dyn Transport>,
    serializer: Serializer,
    error: &AuthError,
    trace_payloads: bool,
) -> Error {
    tracing::warn!(reason = %error, "aborting the authentication");
    let abort = Message::Abort {
        details: message_details(error.message()),
        reason: CLIENT_ABORT_REASON.as_str().to_owned(),
        payload: Default::default(),
    };
    let _ = send(transport, serializer, &abort, trace_payloads).await;
    let _ = transport.close().await;
    client_error(error)
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
    violation: ProtocolViolation,
) -> Error {
    let reason = violation.reason();
    tracing::warn!(%reason, "protocol violation while joining");
    let abort = Message::Abort {
        details: message_details(reason),
        reason: ErrorUri::ProtocolViolation.as_str().to_owned(),
        payload: Default::default(),
    };
    let _ = send(transport, serializer, &abort, false).await;
    let _ = transport.close().await;
    Error::ProtocolViolation(violation)
}

async fn send(
    transport: &mut Box<dyn Transport>,
    serializer: Serializer,
    message: &Message,
    trace_payloads: bool,
) -> Result<()> {
    // AUTHENTICATE carries a secret (a ticket, a signature): never log it, payloads or not.
    let with_payload = trace_payloads && !matches!(message, Message::Authenticate { .. });
    tracing::trace!(
        direction = "tx",
        message = message.name(),
        "{}",
        crate::wire::describe(message, with_payload)
    );
    let bytes = serializer.encode(message)?;
    transport.send(Bytes::from(bytes)).await.map_err(|e| {
        Error::SessionClosed(crate::error::CloseReason::new(
            ErrorUri::SystemShutdown,
            Some(format!("the connection failed while joining: {e}")),
            crate::error::CloseInitiator::Transport,
        ))
    })
}
