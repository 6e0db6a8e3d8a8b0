//! An embeddable WAMP v2 router: routed RPC and Publish/Subscribe between sessions in the same
//! process or over WebSocket and RawSocket, for tests, demos and small deployments.
//!
//! A test starts a router, serves a `#[service]` and calls it through the
//! typed client, with no Python and no socket:
//!
//! ```
//! # // Runs the test below as this doctest's `main`.
//! # mod tokio { pub use ::tokio::*; pub use ::tokio::main as test; }
//! use wampkit::service;
//! use wampkit_router::Router;
//!
//! #[service(prefix = "com.example.calc")]
//! pub trait Calc {
//!     async fn add(&self, a: i64, b: i64) -> i64;
//! }
//!
//! struct Calculator;
//!
//! impl Calc for Calculator {
//!     async fn add(&self, a: i64, b: i64) -> i64 {
//!         a + b
//!     }
//! }
//!
//! #[tokio::test]
//! async fn adds() -> Result<(), Box<dyn std::error::Error>> {
//!     let router = Router::builder().realm("realm1").build();
//!     let callee = router.connect("realm1").await?;
//!     let _service = CalcService::register(&callee, Calculator).await?;
//!
//!     let caller = router.connect("realm1").await?;
//!     assert_eq!(CalcClient::new(&caller).add(2, -5).await?, -3);
//!     Ok(())
//! }
//! # fn main() { adds().unwrap() }
//! ```
//!
//! The same router serves other processes once it listens, and any WAMP client (Autobahn,
//! Crossbar.io's own, this crate's) can join it:
//!
//! ```no_run
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let router = wampkit_router::Router::builder().realm("realm1").build();
//! let websocket = router.listen("ws://127.0.0.1:0/ws").await?;
//! let rawsocket = router.listen("rs://127.0.0.1:0").await?;
//! println!("WebSocket on {}, RawSocket on {}", websocket.url(), rawsocket.url());
//! tokio::signal::ctrl_c().await?;
//! router.shutdown().await; // every session gets GOODBYE wamp.close.system_shutdown
//! # Ok(()) }
//! ```
//!
//! # What it routes
//! The basic profile and the advanced profile's RPC and PubSub features, announced in WELCOME:
//! progressive call results and progressive invocations, call canceling (`skip`, `kill`,
//! `killnowait`, with INTERRUPT to the callee), call timeouts (the specification's
//! milliseconds), caller and publisher identification, shared registrations (`single`,
//! `roundrobin`, `random`, `first`, `last`), prefix and wildcard registrations and subscriptions
//! (the concrete URI in the details), publisher exclusion, black- and white-listing by session,
//! authid and authrole, acknowledged publications, event retention, registration and
//! subscription revocation ([`RealmHandle`]), the session, registration and subscription meta
//! API, and testaments. Payloads pass through as they are: negative numbers, floats, bytes and
//! nested structures arrive as they were sent, whatever serializer each side speaks.
//!
//! # Authentication and authorization
//! Each realm has its [`Authentication`] (anonymous by default) and its authorization:
//! [`Role`]s with URI-prefix permissions for call, register, publish and subscribe, or an
//! [`Authorizer`] of one's own (see [`RealmConfig`]).
//!
//! # Bounds
//! A slow or dead client never stalls the router or other sessions. Each session has a bounded
//! outbound queue ([`RouterBuilder::outbound_queue`]); when it is full, events to that session
//! are dropped and counted, or the session is closed ([`SlowConsumer`]); RPC messages are never
//! dropped: a session that cannot take one is closed, and its callers get errors. Messages are
//! limited in size ([`RouterBuilder::max_message_size`]), calls waiting per session in number
//! ([`RouterBuilder::max_pending_calls`]), and a client that breaks the protocol gets ABORT
//! `wamp.error.protocol_violation`. Nothing a client sends can panic the router.
//!
//! # What it leaves to a router cluster
//! Clustering and router-to-router links, persistent event history and call queues, dynamic
//! authenticators as WAMP procedures, HTTP and MQTT bridges, and long-poll transports: when a
//! deployment needs those, run Crossbar.io or Bondy; the clients stay the same.

mod auth;
mod authorize;
mod builder;
mod connection;
mod ids;
mod listen;
mod realm;
mod router;

pub use auth::{
    AuthConfigError, AuthMethod, Authentication, Credential, CredentialStore, Identity,
    ScramKdfParams, StoreFuture,
};
pub use authorize::{Action, Authorizer, Requester, Role};
pub use builder::{DEFAULT_MAX_MESSAGE_SIZE, RouterBuilder, SlowConsumer};
pub use listen::ListenError;
pub use realm::{
    RealmConfig, RealmHandle, RegistrationSnapshot, SessionSnapshot, SubscriptionSnapshot,
};
pub use router::{Listening, Router};
