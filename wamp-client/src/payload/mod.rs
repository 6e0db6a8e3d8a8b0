//! The data a result, an invocation or an event carries: filled in by the session task from the
//! router's messages, read by the typed API and by handlers.

pub(crate) mod arguments;
mod call_result;
mod event;
mod invocation;
pub(crate) mod read;
#[cfg(test)]
pub(crate) mod read_tests;
mod topic;

pub use arguments::{Arguments, PositionalArgs};
pub use call_result::CallResult;
pub use event::{Event, EventDetails};
pub use invocation::{
    BoxFuture, Handler, Invocation, InvocationDetails, InvocationInput, ProgressSender,
};
pub use topic::Topic;
