//! A scripted fake WAMP router, to test what a real router (Crossbar.io) never does: protocol
//! violations, late or duplicated answers, revocations, abrupt disconnects, odd handshakes.
//!
//! It serves either in memory ([`ScriptedRouter::in_memory`]: each connection is a
//! [`memory::pair`], the session joins with
//! [`connect_with_factory`](wampkit_client::SessionBuilder::connect_with_factory)) or as a
//! WebSocket server on `127.0.0.1:0` ([`ScriptedRouter::start`], tokio-tungstenite's server side)
//! for the tests about the socket itself. The test plays the router by hand: every message the
//! client sends is received and checked by the script, every message the client gets is written
//! by the script. Nothing is answered automatically (WebSocket pings aside, which tungstenite
//! answers itself).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> wampkit_client::Result<()> {
//! use wampkit_client::wire::Message;
//! use wampkit_client::{Serializer, Session};
//! use wamp_testkit::expect_message;
//! use wamp_testkit::messages::{args, result};
//! use wamp_testkit::scripted_router::ScriptedRouter;
//!
//! let router = ScriptedRouter::in_memory(Serializer::Cbor);
//! let connecting = router.connect(Session::builder(router.url(), "realm1"));
//! let script = tokio::spawn(async move {
//!     let mut peer = router.accept().await;
//!     peer.welcome(42).await;
//!     let request = expect_message!(peer, Message::Call { request, .. } => request);
//!     peer.send(result(request, args((5,)))).await;
//!     peer.expect_leave().await;
//! });
//! let session = connecting.await?;
//! assert_eq!(session.call("com.example.add", (2, 3)).await?.arg::<i64>(0)?, 5);
//! session.leave().await?;
//! script.await.expect("the router script failed");
//! # Ok(()) }
//! ```
//!
//! The script runs on its own task; a failed expectation panics there (the panic message names
//! what was expected and what arrived), and awaiting the task's `JoinHandle` surfaces it.

use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use wampkit_client::transport::TransportError;
use wampkit_client::transport::memory::{self, MemoryPeer, MemoryTransport};
use wampkit_client::{Serializer, Session, SessionBuilder};

// The message builders, for scripts that import everything from here.
pub use crate::messages::*;

/// Receives the next message from the client and matches it against a pattern, evaluating to the
/// expression after `=>` (or to `()`). Panics, naming the pattern and what arrived, otherwise.
///
/// ```ignore
/// let request = expect_message!(peer, Message::Call { request, .. } => request);
/// expect_message!(peer, Message::Goodbye { reason, .. } if reason == "wamp.close.close_realm");
/// ```
#[macro_export]
macro_rules! expect_message {
    ($peer:expr, $pattern:pat $(if $guard:expr)? => $out:expr) => {
        match $peer.expect_message().await {
            $pattern $(if $guard)? => $out,
            other => panic!(
                "the scripted router expected `{}`, got {:?}",
                stringify!($pattern $(if $guard)?),
                other
            ),
        }
    };
    ($peer:expr, $pattern:pat $(if $guard:expr)?) => {
        match $peer.expect_message().await {
            $pattern $(if $guard)? => {}
            other => panic!(
                "the scripted router expected `{}`, got {:?}",
                stringify!($pattern $(if $guard)?),
                other
            ),
        }
    };
}
pub use expect_message;

mod peer;

pub use peer::{CallRequest, Frame, Hello, RouterPeer};

/// How the router answers the client's `Sec-WebSocket-Protocol` offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subprotocol {
    /// Chooses this serializer's subprotocol if the client offers it; otherwise answers without a
    /// subprotocol, as a router that speaks nothing else would.
    Pick(Serializer),
    /// Chooses the first WAMP subprotocol the client offers (its preferred one).
    FirstOffered,
    /// Answers without a `Sec-WebSocket-Protocol` header, whatever the offer.
    Omit,
    /// Answers with this header value, offered or not.
    Force(String),
}

impl Subprotocol {
    /// The header value to answer for `offered`, if any.
    fn choose(&self, offered: &[String]) -> Option<String> {
        let is_offered = |name: &str| offered.iter().any(|o| o == name);
        match self {
            Subprotocol::Pick(serializer) => {
                let name = serializer.subprotocol();
                is_offered(name).then(|| name.to_owned())
            }
            Subprotocol::FirstOffered => offered
                .iter()
                .find(|o| Serializer::from_subprotocol(o).is_some())
                .cloned(),
            Subprotocol::Omit => None,
            Subprotocol::Force(name) => Some(name.clone()),
        }
    }
}

/// A fake router, in memory or listening on a socket. Each [`accept`](ScriptedRouter::accept)
/// yields one client connection.
#[derive(Debug)]
pub struct ScriptedRouter {
    url: String,
    mode: Mode,
}

#[derive(Debug)]
enum Mode {
    WebSocket {
        listener: TcpListener,
        subprotocol: Subprotocol,
    },
    Memory {
        serializer: Serializer,
        capacity: usize,
        connections: mpsc::UnboundedSender<MemoryPeer>,
        accepted: tokio::sync::Mutex<mpsc::UnboundedReceiver<MemoryPeer>>,
    },
}

/// The URL that names an in-memory router in the session's logs and errors.
pub const MEMORY_URL: &str = "memory://scripted-router";

// A small read buffer: tungstenite zero-fills the spare buffer before every read, which a
// benchmark against this router would otherwise measure.
fn websocket_config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(4 * 1024)
}

impl ScriptedRouter {
    /// A router in memory that speaks `serializer`: sessions join it with
    /// [`connect`](ScriptedRouter::connect) or [`connector`](ScriptedRouter::connector), each
    /// connection (reconnects included) a new in-memory pair.
    pub fn in_memory(serializer: Serializer) -> ScriptedRouter {
        ScriptedRouter::in_memory_with_capacity(serializer, memory::DEFAULT_CAPACITY)
    }

    /// [`in_memory`](ScriptedRouter::in_memory) where the client may send only `capacity`
    /// messages the router has not read: a router that stops reading holds the client up, as
    /// full socket buffers do. (The router's messages to the client keep the default bound.)
    pub fn in_memory_with_capacity(serializer: Serializer, capacity: usize) -> ScriptedRouter {
        let (connections, accepted) = mpsc::unbounded_channel();
        ScriptedRouter {
            url: MEMORY_URL.to_owned(),
            mode: Mode::Memory {
                serializer,
                capacity,
                connections,
                accepted: tokio::sync::Mutex::new(accepted),
            },
        }
    }

    /// Starts a WebSocket router that speaks `serializer` only (it must be among the client's
    /// offers).
    pub async fn start(serializer: Serializer) -> ScriptedRouter {
        ScriptedRouter::with_subprotocol(Subprotocol::Pick(serializer)).await
    }

    /// Starts a WebSocket router that answers the subprotocol offer as `subprotocol` says.
    pub async fn with_subprotocol(subprotocol: Subprotocol) -> ScriptedRouter {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the scripted router cannot listen on 127.0.0.1");
        let address = listener
            .local_addr()
            .expect("the scripted router has no local address");
        ScriptedRouter {
            url: format!("ws://{address}/ws"),
            mode: Mode::WebSocket {
                listener,
                subprotocol,
            },
        }
    }

    /// The URL to connect to, `ws://127.0.0.1:<port>/ws` (or [`MEMORY_URL`], which only names
    /// an in-memory router).
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Opens a new in-memory connection to this router for each call, for
    /// [`connect_with_factory`](wampkit_client::SessionBuilder::connect_with_factory). Panics for a
    /// WebSocket router.
    pub fn connector(
        &self,
    ) -> impl Fn() -> std::future::Ready<Result<MemoryTransport, TransportError>> + Send + Sync + 'static
    {
        let Mode::Memory {
            serializer,
            capacity,
            connections,
            ..
        } = &self.mode
        else {
            panic!("a WebSocket scripted router is reached by its URL, not a connector");
        };
        let (serializer, capacity, connections) = (*serializer, *capacity, connections.clone());
        move || {
            let (client, peer) =
                memory::pair_with_capacity(serializer, capacity, memory::DEFAULT_CAPACITY);
            std::future::ready(
                connections
                    .send(peer)
                    .map(|()| client)
                    .map_err(|_| TransportError::new("the scripted router is gone")),
            )
        }
    }

    /// Joins with `builder` (whose URL is only a name): over a new in-memory connection, with
    /// this router's serializer, for an in-memory router; to the URL for a WebSocket one.
    pub fn connect(
        &self,
        builder: SessionBuilder,
    ) -> impl Future<Output = wampkit_client::Result<Session>> + Send + 'static {
        let memory = match &self.mode {
            Mode::Memory { serializer, .. } => Some((*serializer, self.connector())),
            Mode::WebSocket { .. } => None,
        };
        async move {
            match memory {
                Some((serializer, connector)) => {
                    builder
                        .serializer(serializer)
                        .connect_with_factory(connector)
                        .await
                }
                None => builder.connect().await,
            }
        }
    }

    /// Accepts the next connection (completing the WebSocket handshake); panics on failure.
    pub async fn accept(&self) -> RouterPeer {
        match self.try_accept().await {
            Ok(peer) => peer,
            Err(e) => panic!("the scripted router could not accept a client: {e}"),
        }
    }

    /// Accepts the next connection and completes the WebSocket handshake (from the server's side:
    /// the client may still reject the answer).
    // The handshake callback's error type is tungstenite's.
    #[allow(clippy::result_large_err)]
    pub async fn try_accept(&self) -> Result<RouterPeer, tungstenite::Error> {
        let (listener, subprotocol) = match &self.mode {
            Mode::WebSocket {
                listener,
                subprotocol,
            } => (listener, subprotocol),
            Mode::Memory { accepted, .. } => {
                let peer = accepted.lock().await.recv().await;
                // The router holds a sender itself, so the channel never ends.
                let peer = peer.ok_or(tungstenite::Error::ConnectionClosed)?;
                return Ok(RouterPeer::in_memory(peer));
            }
        };
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        let negotiated = Arc::new(Mutex::new((Vec::new(), None)));
        let record = Arc::clone(&negotiated);
        let subprotocol = subprotocol.clone();
        let pick = match subprotocol {
            Subprotocol::Pick(serializer) => Some(serializer),
            _ => None,
        };
        let callback = move |request: &Request,
                             mut response: Response|
              -> Result<Response, ErrorResponse> {
            let offered: Vec<String> = request
                .headers()
                .get_all("Sec-WebSocket-Protocol")
                .iter()
                .filter_map(|value| value.to_str().ok())
                .flat_map(|value| value.split(','))
                .map(|name| name.trim().to_owned())
                .filter(|name| !name.is_empty())
                .collect();
            let chosen = subprotocol.choose(&offered);
            if let Some(name) = &chosen {
                let value = HeaderValue::from_str(name).map_err(|_| {
                    let mut error = ErrorResponse::new(Some(format!("bad subprotocol {name:?}")));
                    *error.status_mut() = tungstenite::http::StatusCode::INTERNAL_SERVER_ERROR;
                    error
                })?;
                response
                    .headers_mut()
                    .insert("Sec-WebSocket-Protocol", value);
            }
            *record.lock().expect("handshake record") = (offered, chosen);
            Ok(response)
        };
        let ws = tokio_tungstenite::accept_hdr_async_with_config(
            stream,
            callback,
            Some(websocket_config()),
        )
        .await?;
        let (offered, chosen) = std::mem::take(&mut *negotiated.lock().expect("handshake record"));
        let serializer = chosen
            .as_deref()
            .and_then(Serializer::from_subprotocol)
            .or(pick)
            .unwrap_or(Serializer::Json);
        Ok(RouterPeer::over_websocket(ws, serializer, offered, chosen))
    }
}
