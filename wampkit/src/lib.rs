//! A WAMP v2 client for Rust: routed RPC and Publish/Subscribe against Crossbar.io or any other
//! WAMP router, over WebSocket or RawSocket (TCP, TLS, Unix sockets), with JSON, MessagePack and
//! CBOR, every authentication method routers use, typed services from a trait, and an embedded
//! router for tests.
//!
//! ```toml
//! [dependencies]
//! wampkit = "0.1"   # features: see "Cargo features" below
//! tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
//! serde = { version = "1", features = ["derive"] }
//! futures-util = "0.3"   # StreamExt, for subscriptions and progressive results
//! ```
//!
//! ```no_run
//! use futures_util::StreamExt;
//! use wampkit::{Arguments, Invocation, Session};
//!
//! # async fn demo() -> wampkit::Result<()> {
//! let session = Session::connect("ws://127.0.0.1:8080/ws", "realm1").await?;
//!
//! // Callee: an async closure answers every call.
//! let _add = session
//!     .register("com.example.add", |inv: Invocation| async move {
//!         let (a, b): (i64, i64) = inv.args()?;
//!         Ok(Arguments::single(a + b)?)
//!     })
//!     .await?;
//!
//! // Caller: arguments are any serde tuple, the result any serde type.
//! let sum: i64 = session.call("com.example.add", (2, -5)).result().await?;
//! assert_eq!(sum, -3);
//!
//! // Subscriber and publisher.
//! let mut events = session.subscribe("com.example.news").await?;
//! session.publish("com.example.news", ("hello",)).include_me().acknowledge().await?;
//! let event = events.next().await.expect("an event");
//! assert_eq!(event.arg::<String>(0)?, "hello");
//!
//! session.leave().await?;
//! # Ok(()) }
//! ```
//!
//! Positional arguments are a tuple (`(value,)` for one, `()` for none); a struct goes with
//! [`.kwargs(..)`](rpc::Call::kwargs) and arrives as keyword arguments (see
//! [what a struct becomes on the wire](rpc::Call#what-a-struct-becomes-on-the-wire)).
//! [`.result()`](rpc::Call::result) reads the usual single-value result; `.await` alone gives
//! the whole [`CallResult`].
//!
//! URIs given at run time are checked before sending, loosely by default: `.`-separated
//! components, none empty, none holding whitespace or `#`, and `wamp.` reserved for the router
//! (see [`uri`]). Upper-case letters and `-` pass, although `#[service]` URIs, checked when
//! compiling, may not; [`SessionBuilder::uri_check`] makes the run-time check strict too. A URI
//! that breaks the rule fails the request with [`Error::InvalidUri`], which names the rule.
//!
//! # Cargo features
//! Compile only what you use: each serializer, the RawSocket transports, TLS and each
//! cryptographic authentication method is a feature. Anonymous and ticket authentication, the
//! WebSocket transport (`ws://`) and the in-memory transport are always there.
//!
//! | Feature | Default | Enables | Pulls in |
//! |---|---|---|---|
//! | `json` | yes | the JSON serializer (`wamp.2.json`) | nothing more (serde_json is always used, by [`Value`]) |
//! | `macros` | yes | `#[service]`, `#[derive(ApplicationError)]` and the typed callers and subscribers | `wampkit-macros` (syn, quote) |
//! | `tls` | no | `wss://`, and `rss://` with `rawsocket`, trusting the Mozilla roots compiled in; the `tls_*` methods of [`SessionBuilder`]. The same as `tls-webpki-roots` | rustls (`ring` provider), tokio-rustls, webpki-roots |
//! | `tls-webpki-roots` | with `tls` | TLS trusting the Mozilla root certificates compiled in | as `tls` |
//! | `tls-native-roots` | no | TLS trusting the operating system's certificate store, loaded at each connect | rustls, tokio-rustls, rustls-native-certs |
//! | `msgpack` | no | the MessagePack serializer (`wamp.2.msgpack`) | rmp-serde |
//! | `cbor` | no | the CBOR serializer (`wamp.2.cbor`) | ciborium, half |
//! | `rawsocket` | no | the RawSocket transports `rs://`, `unix://` and (with TLS) `rss://`; the `transport::rawsocket` module with its router side | tokio-util's codec |
//! | `auth-wampcra` | no | WAMP-CRA: `auth::WampCra`, `SessionBuilder::wampcra` | hmac, sha2, pbkdf2 |
//! | `auth-cryptosign` | no | cryptosign (Ed25519): `auth::CryptoSign`, `SessionBuilder::cryptosign` | ed25519-dalek |
//! | `auth-scram` | no | WAMP-SCRAM: `auth::Scram`, `SessionBuilder::scram` | argon2, pbkdf2, hmac, sha2, stringprep |
//! | `proxy` | yes | connections through HTTP CONNECT proxies: [`SessionBuilder::proxy`], and `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY` from the environment | hyper-util's proxy matcher, httparse, http |
//! | `e2ee` | no | end-to-end encrypted payloads: `e2ee::KeyRing` (Autobahn's cryptobox, X25519 + XSalsa20-Poly1305) for [`SessionBuilder::payload_codec`] | crypto_box (RustCrypto: x25519, xsalsa20poly1305) |
//! | `router` | no | the embedded router, as `wampkit::router`: for tests, demos and small deployments | `wampkit-router`, and the client features it speaks (every serializer, transport and authentication method) |
//!
//! TLS roots: every roots feature enabled adds its roots, so that a feature another crate of
//! the build turns on only ever adds trust. To trust the system's store *instead of* the Mozilla
//! roots, enable `tls-native-roots` without `tls`:
//!
//! ```toml
//! wampkit = { version = "0.1", features = ["tls-native-roots"] }
//! ```
//!
//! What a URL or the router picks at run time keeps compiling whatever the features: every
//! [`Serializer`] variant exists in every build, and a URL scheme or serializer whose feature is
//! off fails [`connect`](SessionBuilder::connect) with [`Error::FeatureDisabled`], whose message
//! names the feature to enable (e.g. "the `rs://` transport needs the `rawsocket` feature of
//! wampkit"). Types and methods that exist only with a feature (the authentication methods,
//! the `tls_*` settings, the RawSocket module) say so in their documentation.
//!
//! # Layout
//! - [`wire`]: WAMP messages and the three serializers; no I/O.
//! - [`transport`]: WebSocket and RawSocket connections (TLS by rustls) carrying encoded messages,
//!   the [`Transport`](transport::Transport) trait for others, and an in-memory one.
//! - [`auth`]: authentication methods (ticket, WAMP-CRA, cryptosign, WAMP-SCRAM) and the
//!   [`Authenticator`](auth::Authenticator) trait for custom ones.
//! - [`session`]: joining a realm; the task that owns the connection and every pending request.
//! - The typed API: [`Session`] methods return request builders ([`Call`](rpc::Call),
//!   [`Register`](rpc::Register), [`Publish`](pubsub::Publish), [`Subscribe`](pubsub::Subscribe));
//!   serde types in, serde types out. The builders and their futures live in [`rpc`] and
//!   [`pubsub`], the meta API in [`meta`]; the crate root holds what most programs name.
//! - [`uri`]: the URI rules, as the client checks them before sending (and a router may reuse).
//! - [`Value`]: the dynamic payload type, for when the shape is not known in advance.
//!
//! # Errors
//! Every fallible operation returns [`Error`]. WAMP `ERROR` replies arrive as [`Error::Wamp`]
//! carrying a [`WampError`] (URI, args, kwargs), with the predefined URIs as [`ErrorUri`]
//! variants; the [`error`] module holds the rest (close reasons, connect and transport errors).
//! Nothing a peer sends can panic the client: malformed messages abort the session with
//! `wamp.error.protocol_violation` and fail every pending request.
//!
//! # Bounds
//! Nothing a router sends, and no loop of requests, grows memory without limit. Each queue has a
//! configurable bound, and the session task never waits for a slow consumer:
//! - Events: [`Subscribe::buffer`](pubsub::Subscribe::buffer) (10,000) and [`Subscribe::buffer_bytes`](pubsub::Subscribe::buffer_bytes) (16 MiB) per
//!   subscription; beyond either, the oldest events are dropped and counted.
//! - Progressive results and input chunks: [`SessionBuilder::max_progress_buffer`] (1024) and
//!   [`Call::progress_buffer`](rpc::Call::progress_buffer); a reader further behind fails the call with
//!   [`Error::ProgressOverflow`] and the call is canceled (a callee's handler gets an error
//!   answered for it and is stopped).
//! - Running invocations: [`SessionBuilder::max_concurrent_invocations`] (4096); beyond it,
//!   INVOCATIONs are answered at once with `wamp.error.unavailable` ("callee busy").
//! - Requests queued for the session task: [`SessionBuilder::max_queued_commands`] (4096);
//!   beyond it, awaiting a request waits for room (backpressure), and requests that cannot wait
//!   fail with [`Error::QueueFull`].
//!
//! # The embedded router
//! With the `router` feature, `wampkit::router` is `wampkit-router`: start a router in your tests and
//! join it with ordinary sessions, in-process or over a socket, with no Python and no other
//! process (see its `Router`).
//!
//! # Logging
//! The client logs through `tracing`, with its module paths as targets
//! (`RUST_LOG=wampkit_client=debug`, `wampkit_router` for the router): a `wamp.session` span per session, `wamp.call` and
//! `wamp.invocation` spans per request, every message at `trace` level with payloads elided
//! unless [`SessionBuilder::trace_payloads`] is set.
#![cfg_attr(docsrs, feature(doc_cfg))]

// The session crate, whole: one crate to depend on and one path (`::wampkit`) for the code
// `#[service]` generates. The router is a crate of its own because it is built on the session
// crate's wire types, so only a crate above both can offer it as a feature.
#[doc(inline)]
pub use wampkit_client::*;

/// The embedded router: the `wampkit-router` crate. Available with the `router` feature.
#[cfg(feature = "router")]
#[cfg_attr(docsrs, doc(cfg(feature = "router")))]
#[doc(inline)]
pub use wampkit_router as router;
