//! A WAMP "router" that answers at once and routes nothing, so that a benchmark measures the
//! client, not the router: HELLO gets WELCOME, CALL gets a RESULT computed by a function of the
//! arguments, REGISTER gets REGISTERED, PUBLISH with `acknowledge` gets PUBLISHED, GOODBYE gets
//! GOODBYE. Shared by the benchmarks (`#[path]`-included).

use std::net::SocketAddr;

use futures_util::{SinkExt as _, StreamExt as _};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use wamp_client::wire::{Message, Payload, Serializer};
use wamp_client::{Dict, Value};

/// What the router answers a CALL with: the RESULT's positional arguments.
pub type Answer = fn(&str, &[Value]) -> Vec<Value>;

/// Starts the router on 127.0.0.1 and returns its `ws://` URL.
pub async fn start(answer: Answer) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            tokio::spawn(serve(stream, answer));
        }
    });
    format!("ws://{addr}/ws")
}

// The handshake callback signature is fixed by tungstenite.
#[allow(clippy::result_large_err)]
async fn serve(stream: tokio::net::TcpStream, answer: Answer) {
    let mut serializer = Serializer::Json;
    let choose = |request: &Request, mut response: Response| {
        let offered = request
            .headers()
            .get("Sec-WebSocket-Protocol")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if let Some(first) = offered
            .split(',')
            .map(str::trim)
            .find_map(Serializer::from_subprotocol)
        {
            serializer = first;
            if let Ok(value) = HeaderValue::from_str(first.subprotocol()) {
                response
                    .headers_mut()
                    .insert("Sec-WebSocket-Protocol", value);
            }
        }
        Ok(response)
    };
    // A small read buffer: tungstenite zero-fills the spare buffer before every read.
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(4 * 1024);
    let Ok(mut socket) =
        tokio_tungstenite::accept_hdr_async_with_config(stream, choose, Some(config)).await
    else {
        return;
    };
    let mut next_id = 1u64;
    while let Some(Ok(frame)) = socket.next().await {
        let bytes = match frame {
            Frame::Text(text) => text.as_bytes().to_vec(),
            Frame::Binary(bytes) => bytes.to_vec(),
            Frame::Close(_) => break,
            _ => continue,
        };
        let Ok(message) = serializer.decode(&bytes) else {
            break;
        };
        next_id += 1;
        let reply = match message {
            Message::Hello { .. } => Some(Message::Welcome {
                session: 1,
                details: welcome_details(),
            }),
            Message::Call {
                request,
                procedure,
                payload,
                ..
            } => {
                let (args, _) = payload.into_parts();
                Some(Message::Result {
                    request,
                    details: Dict::new(),
                    payload: Payload::new(answer(&procedure, &args), Dict::new()),
                })
            }
            Message::Register { request, .. } => Some(Message::Registered {
                request,
                registration: next_id,
            }),
            Message::Publish {
                request, options, ..
            } if options.get("acknowledge") == Some(&Value::Bool(true)) => {
                Some(Message::Published {
                    request,
                    publication: next_id,
                })
            }
            Message::Goodbye { .. } => Some(Message::Goodbye {
                details: Dict::new(),
                reason: "wamp.close.goodbye_and_out".into(),
            }),
            _ => None,
        };
        if let Some(reply) = reply {
            let Ok(encoded) = serializer.encode(&reply) else {
                break;
            };
            let frame = if serializer.is_binary() {
                Frame::Binary(encoded.into())
            } else {
                match String::from_utf8(encoded) {
                    Ok(text) => Frame::Text(text.into()),
                    Err(_) => break,
                }
            };
            if socket.send(frame).await.is_err() {
                break;
            }
        }
    }
}

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
