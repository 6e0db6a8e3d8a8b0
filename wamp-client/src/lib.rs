//! The session crate behind [`wampkit`](https://docs.rs/wampkit): wire, transports,
//! authentication, the session task and the typed API.
//!
//! Depend on `wampkit` rather than on this crate: it re-exports everything here under the same
//! names, adds the embedded router (feature `router`), and is the path `#[service]`'s generated
//! code names. Its documentation is the guide; this crate's features are the same as its own.
//! The client's logs carry this crate's module paths as their `tracing` targets
//! (`RUST_LOG=wampkit_client=debug`).

#![cfg_attr(docsrs, feature(doc_cfg))]

mod api;
pub mod auth;
mod deadline;
pub mod e2ee;
pub mod error;
mod options;
mod payload;
pub mod session;
mod session_details;
pub mod transport;
pub mod uri;
pub mod value;
pub mod wire;

pub use api::app_error::{ApplicationError, CallError, NoError};
pub use api::register::Registration;
pub use api::service::ServiceRegistration;
pub use api::subscribe::Subscription;
pub use error::{CloseReason, Error, ErrorUri, Result, WampError};
pub use options::MatchPolicy;
pub use payload::{
    Arguments, CallResult, Event, EventDetails, Invocation, InvocationDetails, PositionalArgs,
};
pub use session::{ReconnectPolicy, Session, SessionBuilder, SessionDetails};
pub use value::{Dict, Value, from_value, to_value};
pub use wire::{Id, Serializer};

/// Remote procedure calls beyond the basics: call and registration builders, progressive
/// results and input, cancellation, and the handler trait.
pub mod rpc {
    pub use crate::api::call::{Call, CallFuture, CallInput, CallStream, CancelHandle};
    pub use crate::api::register::{Register, RegisterFuture};
    pub use crate::options::{CancelMode, InvokePolicy};
    pub use crate::payload::{BoxFuture, Handler, InvocationInput, ProgressSender};
}

/// Publish and subscribe beyond the basics: publication and subscription builders, and the task
/// that runs a subscription's handler.
pub mod pubsub {
    pub use crate::api::publish::{
        AcknowledgedPublish, PlainPublishFuture, Publish, PublishFuture,
    };
    pub use crate::api::subscribe::{HandlerTask, Subscribe, SubscribeFuture};
}

/// The WAMP meta API: sessions, registrations and subscriptions the router knows of, its meta
/// events, and testaments. Reached through [`Session::meta`].
pub mod meta {
    pub use crate::api::meta::{
        MatchLists, Meta, MetaEvents, MetaSupport, RegistrationInfo, RegistrationList, SessionInfo,
        SessionJoin, SessionLeave, SubscriptionInfo, SubscriptionList, TestamentOptions,
        TestamentScope,
    };
}

// What the code that `service` and `ApplicationError` generate calls: public for that code
// only, hidden from the docs and outside semver (serde's `__private` convention).
#[doc(hidden)]
#[path = "codegen.rs"]
pub mod __private;

#[cfg(feature = "macros")]
// The guide's examples run a router, so they run as doctests of the root package (testkit),
// where the embedded router is at hand, not here.
#[cfg_attr(not(doctest), doc = include_str!("docs/service.md"))]
pub use wampkit_macros::service;

/// Derives [`ApplicationError`](trait@ApplicationError) for an error enum: each variant is one
/// WAMP error URI, given with `#[wamp(uri = "...")]`. Tuple fields travel as positional
/// arguments, named fields as keyword arguments; a unit variant may carry
/// `#[wamp(message = "...")]`, sent as the first positional argument.
///
/// ```
/// use wampkit::{ApplicationError, WampError};
///
/// #[derive(Debug, PartialEq, ApplicationError)]
/// enum BankError {
///     #[wamp(uri = "com.example.bank.error.overdrawn")]
///     Overdrawn { balance: i64 },
///     #[wamp(uri = "com.example.bank.error.frozen", message = "the account is frozen")]
///     Frozen,
///     #[wamp(uri = "com.example.bank.error.limit")]
///     Limit(u32),
/// }
///
/// let error = BankError::Overdrawn { balance: -5 }.to_wamp_error();
/// assert_eq!(error.uri.as_str(), "com.example.bank.error.overdrawn");
/// assert_eq!(BankError::from_wamp_error(&error), Some(BankError::Overdrawn { balance: -5 }));
/// assert_eq!(BankError::from_wamp_error(&WampError::new("com.example.other")), None);
/// ```
#[cfg(feature = "macros")]
pub use wampkit_macros::ApplicationError;
