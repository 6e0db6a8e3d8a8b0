//! What the [`Session`](crate::Session) handles ask of the session task, and how it answers.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::api::call::CallResult;
use crate::api::register::Handler;
use crate::api::subscribe::Event;
use crate::error::{CloseReason, Result};
use crate::value::{Dict, Value};
use crate::wire::Id;

/// A request from a handle to the session task. Each carries the channel its answer goes back on.
pub(crate) enum Command {
    Call {
        procedure: String,
        options: Dict,
        args: Vec<Value>,
        kwargs: Dict,
        reply: oneshot::Sender<Result<CallResult>>,
    },
    Publish {
        topic: String,
        options: Dict,
        args: Vec<Value>,
        kwargs: Dict,
        /// Present when the publication is acknowledged: PUBLISHED (or ERROR) answers it.
        ack: Option<oneshot::Sender<Result<Id>>>,
    },
    Subscribe {
        topic: String,
        options: Dict,
        /// Identifies this local subscription among others the router may merge into one id.
        local: u64,
        events: mpsc::UnboundedSender<Event>,
        reply: oneshot::Sender<Result<Id>>,
    },
    Unsubscribe {
        subscription: Id,
        local: u64,
        reply: Option<oneshot::Sender<Result<()>>>,
    },
    Register {
        procedure: String,
        options: Dict,
        handler: Arc<dyn Handler>,
        reply: oneshot::Sender<Result<Id>>,
    },
    Unregister {
        registration: Id,
        reply: Option<oneshot::Sender<Result<()>>>,
    },
    Leave {
        reason: String,
        message: Option<String>,
        reply: oneshot::Sender<CloseReason>,
    },
}
