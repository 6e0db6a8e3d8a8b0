//! The typed API: request builders, results, invocations, events and their handles.
//!
//! Every request is a builder returned by a [`Session`](crate::Session) method; `.await` sends it.
//! Payloads go in as any `serde::Serialize` and come out as any `serde::de::DeserializeOwned`.

pub(crate) mod app_error;
pub(crate) mod arguments;
pub(crate) mod call;
mod details;
pub(crate) mod meta;
mod options;
pub(crate) mod publish;
pub(crate) mod register;
pub(crate) mod service;
pub(crate) mod subscribe;

pub use app_error::{ApplicationError, CallError, NoError};
pub use arguments::Arguments;
pub use call::{Call, CallFuture, CallInput, CallResult, CallStream, CancelHandle, CancelMode};
pub use details::{EventDetails, InvocationDetails};
pub use meta::{
    MatchLists, Meta, MetaEvents, MetaSupport, RegistrationInfo, RegistrationList, SessionInfo,
    SessionJoin, SessionLeave, SubscriptionInfo, SubscriptionList, TestamentOptions,
    TestamentScope,
};
pub use options::MatchPolicy;
pub use publish::{AcknowledgedPublish, Publish};
pub use register::{
    Handler, Invocation, InvocationInput, InvokePolicy, ProgressSender, Register, RegisterFuture,
    Registration,
};
pub use service::ServiceRegistration;
pub use subscribe::{Event, Subscribe, SubscribeFuture, Subscription, SubscriptionHandle};
