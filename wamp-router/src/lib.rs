//! An embeddable WAMP v2 router: routed RPC and Publish/Subscribe between sessions in the same
//! process or over WebSocket and RawSocket, for tests, demos and small deployments.

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
