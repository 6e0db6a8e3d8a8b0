//! The publisher: publications, and the acknowledgements (PUBLISHED or ERROR) of those that
//! asked for one.

use rustc_hash::FxHashMap as HashMap;
use tokio::sync::oneshot;

use super::requests::{Awaiting, Pending};
use super::{SessionTask, Step};
use crate::e2ee::PayloadRole;
use crate::error::{CloseReason, Error, Result, WampError};
use crate::session::command::RequestExtra;
use crate::value::Value;
use crate::wire::{Id, Message, Payload, code};

/// Where an acknowledged publication's id (or its error) goes.
pub(super) type Ack = oneshot::Sender<Result<Id>>;

/// The publisher's table.
#[derive(Default)]
pub(super) struct Publisher {
    /// Acknowledged publications waiting for PUBLISHED, by request id.
    pub(super) pending: HashMap<Id, Ack>,
}

impl Publisher {
    /// The connection is gone: publications waiting for PUBLISHED fail with `Disconnected`.
    pub(super) fn connection_lost(&mut self, reason: &CloseReason) {
        for (_, ack) in self.pending.drain() {
            let _ = ack.send(Err(Error::Disconnected(reason.clone())));
        }
    }
}

impl Awaiting for Ack {
    fn request_type(&self) -> u64 {
        code::PUBLISH
    }

    fn table(task: &mut SessionTask) -> &mut HashMap<Id, Self> {
        &mut task.publisher.pending
    }
}

impl SessionTask {
    pub(super) async fn publish(
        &mut self,
        topic: String,
        payload: Payload,
        extra: Option<Box<RequestExtra>>,
        ack: Option<Ack>,
    ) -> Step {
        match self.prepare_publish(topic, payload, extra, ack) {
            Some(message) => self.send(message).await,
            None => Ok(()),
        }
    }

    /// The PUBLISH to send, its acknowledgement (if asked for) now pending; `None` if the
    /// publication failed here already.
    pub(super) fn prepare_publish(
        &mut self,
        topic: String,
        payload: Payload,
        extra: Option<Box<RequestExtra>>,
        ack: Option<Ack>,
    ) -> Option<Message> {
        let RequestExtra { mut options, .. } = RequestExtra::unpack(extra);
        if ack.is_some() {
            options.insert("acknowledge".into(), Value::Bool(true));
        }
        let role = PayloadRole::Originator;
        let payload = match self.seal(role, "broker", &topic, &mut options, payload) {
            Ok(payload) => payload,
            Err(error) => {
                match ack {
                    Some(ack) => drop(ack.send(Err(error.into()))),
                    None => tracing::warn!(%error, "dropping a publication"),
                }
                return None;
            }
        };
        let (_, message) = self.request_now(
            |request| Message::Publish {
                request,
                options,
                topic,
                payload,
            },
            ack.map(Pending::Publish),
        );
        Some(message)
    }

    pub(super) async fn on_published(&mut self, request: Id, publication: Id) -> Step {
        if let Some(ack) = self
            .take_answered::<Ack>(request, code::PUBLISH, "PUBLISHED")
            .await?
        {
            self.handoff.publication_acknowledged(ack, publication);
        }
        Ok(())
    }

    pub(super) async fn on_publish_error(&mut self, request: Id, error: WampError) -> Step {
        if let Some(ack) = self
            .take_answered::<Ack>(request, code::PUBLISH, "ERROR")
            .await?
        {
            let _ = ack.send(Err(Error::Wamp(error)));
        }
        Ok(())
    }
}
