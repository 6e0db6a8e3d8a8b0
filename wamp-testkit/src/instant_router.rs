//! A WAMP "router" that answers at once and routes nothing, so that a benchmark measures the
//! client, not the router: HELLO gets WELCOME, CALL gets a RESULT computed by a function of the
//! arguments, REGISTER gets REGISTERED, SUBSCRIBE gets SUBSCRIBED, PUBLISH with `acknowledge`
//! gets PUBLISHED, GOODBYE gets GOODBYE. It serves over a WebSocket ([`start`]) or in memory
//! ([`connector`]).

use std::future::Ready;

use wampkit_client::transport::TransportError;
use wampkit_client::transport::memory::MemoryTransport;
use wampkit_client::wire::{Message, Payload};
use wampkit_client::{Dict, Serializer, Value};

use crate::scripted_router::{RouterPeer, ScriptedRouter, Subprotocol};

/// What the router answers a CALL with: the RESULT's positional arguments.
pub type Answer = fn(&str, &[Value]) -> Vec<Value>;

/// Starts the router as a WebSocket server on 127.0.0.1, speaking the client's preferred
/// serializer, and returns its `ws://` URL.
pub async fn start(answer: Answer) -> String {
    let router = ScriptedRouter::with_subprotocol(Subprotocol::FirstOffered).await;
    let url = router.url();
    tokio::spawn(async move {
        while let Ok(peer) = router.try_accept().await {
            tokio::spawn(serve(peer, answer));
        }
    });
    url
}

/// Opens a new in-memory connection to an instant router for each call, for
/// [`connect_with_factory`](wampkit_client::SessionBuilder::connect_with_factory); the session
/// must use `serializer`. Each connection is served on a task of its own.
pub fn connector(
    serializer: Serializer,
    answer: Answer,
) -> impl Fn() -> Ready<Result<MemoryTransport, TransportError>> + Send + Sync + 'static {
    move || {
        let (client, peer) = wampkit_client::transport::memory::pair(serializer);
        tokio::spawn(serve(RouterPeer::in_memory(peer), answer));
        std::future::ready(Ok(client))
    }
}

/// Answers the client on `peer` until it leaves, the connection ends, or it sends something
/// undecodable.
pub async fn serve(mut peer: RouterPeer, answer: Answer) {
    let mut next_id = 1u64;
    while let Some(frame) = peer.recv_frame().await {
        let bytes = match &frame {
            crate::scripted_router::Frame::Text(text) => text.as_bytes(),
            crate::scripted_router::Frame::Binary(bytes) => bytes.as_slice(),
        };
        let Ok(message) = peer.serializer().decode(bytes) else {
            break;
        };
        next_id += 1;
        let reply = match message {
            Message::Hello { .. } => Message::Welcome {
                session: 1,
                details: welcome_details(),
            },
            Message::Call {
                request,
                procedure,
                payload,
                ..
            } => {
                let (args, _) = payload.into_parts();
                Message::Result {
                    request,
                    details: Dict::new(),
                    payload: Payload::new(answer(&procedure, &args), Dict::new()),
                }
            }
            Message::Register { request, .. } => Message::Registered {
                request,
                registration: next_id,
            },
            Message::Subscribe { request, .. } => Message::Subscribed {
                request,
                subscription: next_id,
            },
            Message::Publish {
                request, options, ..
            } if options.get("acknowledge") == Some(&Value::Bool(true)) => Message::Published {
                request,
                publication: next_id,
            },
            Message::Goodbye { .. } => Message::Goodbye {
                details: Dict::new(),
                reason: "wamp.close.goodbye_and_out".into(),
            },
            _ => continue,
        };
        let Ok(encoded) = peer.serializer().encode(&reply) else {
            break;
        };
        let frame = if peer.serializer().is_binary() {
            crate::scripted_router::Frame::Binary(encoded)
        } else {
            match String::from_utf8(encoded) {
                Ok(text) => crate::scripted_router::Frame::Text(text),
                Err(_) => break,
            }
        };
        if peer.try_send_frame(frame).await.is_err() {
            break;
        }
    }
}

/// WELCOME details: a broker and a dealer without features, and an anonymous identity.
fn welcome_details() -> Dict {
    let mut roles = Dict::new();
    roles.insert("broker".into(), Value::Dict(Dict::new()));
    roles.insert("dealer".into(), Value::Dict(Dict::new()));
    let mut details = Dict::new();
    details.insert("roles".into(), Value::Dict(roles));
    details.insert("authid".into(), Value::from("bench"));
    details.insert("authrole".into(), Value::from("anonymous"));
    details
}
