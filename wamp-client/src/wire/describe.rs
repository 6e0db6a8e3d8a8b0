//! One-line descriptions of messages for trace logs.

use super::{Message, Payload, message_name};

/// A one-line description of a message for trace logs, payloads elided unless asked for.
pub(crate) fn describe(message: &Message, with_payload: bool) -> String {
    if with_payload {
        return format!("{message:?}");
    }
    let payload_size = |p: &Payload| match p {
        Payload::Args { args, kwargs } => format!("{} args, {} kwargs", args.len(), kwargs.len()),
        Payload::Raw(raw) => format!("{} args, {} kwargs", raw.arg_count(), raw.kwarg_count()),
        Payload::Transparent(b) => format!("{} transparent bytes", b.len()),
        Payload::Empty => "no payload".to_owned(),
    };
    match message {
        Message::Call {
            request,
            procedure,
            payload,
            ..
        } => {
            format!("CALL {request} {procedure} ({})", payload_size(payload))
        }
        Message::Result {
            request, payload, ..
        } => format!("RESULT {request} ({})", payload_size(payload)),
        Message::Invocation {
            request,
            registration,
            payload,
            ..
        } => {
            format!(
                "INVOCATION {request} reg {registration} ({})",
                payload_size(payload)
            )
        }
        Message::Yield {
            request, payload, ..
        } => format!("YIELD {request} ({})", payload_size(payload)),
        Message::Publish {
            request,
            topic,
            payload,
            ..
        } => {
            format!("PUBLISH {request} {topic} ({})", payload_size(payload))
        }
        Message::Event {
            subscription,
            publication,
            payload,
            ..
        } => {
            format!(
                "EVENT sub {subscription} pub {publication} ({})",
                payload_size(payload)
            )
        }
        Message::Error {
            request_type,
            request,
            error,
            payload,
            ..
        } => format!(
            "ERROR for {} {request}: {error} ({})",
            message_name(*request_type),
            payload_size(payload)
        ),
        Message::Abort { reason, .. } => format!("ABORT {reason}"),
        Message::Goodbye { reason, .. } => format!("GOODBYE {reason}"),
        Message::Hello { realm, .. } => format!("HELLO {realm}"),
        Message::Welcome { session, .. } => format!("WELCOME {session}"),
        Message::Authenticate { .. } => "AUTHENTICATE (signature elided)".to_owned(),
        other => format!("{other:?}"),
    }
}
