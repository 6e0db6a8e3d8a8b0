//! The typed API: request builders, results, invocations, events and their handles.
//!
//! Every request is a builder returned by a [`Session`](crate::Session) method; `.await` sends it.
//! Payloads go in as any `serde::Serialize` and come out as any `serde::de::DeserializeOwned`.

pub(crate) mod app_error;
pub(crate) mod call;
pub(crate) mod meta;
pub(crate) mod publish;
pub(crate) mod register;
pub(crate) mod service;
pub(crate) mod subscribe;
