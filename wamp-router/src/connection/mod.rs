//! One client connection: the opening handshake, then the session's messages in and out until
//! either side ends it.

mod handshake;
mod writer;

use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use tokio_util::sync::CancellationToken;
use wampkit_client::transport::Transport;
use wampkit_client::wire::Message;
use wampkit_client::{Dict, Serializer, Value};

use crate::realm::outbox::Outbox;
use crate::realm::session::ClientFeatures;
use crate::realm::{Joining, Realm};
use crate::router::RouterInner;

/// How a session ended, seen from its connection.
enum End {
    /// The client said GOODBYE: answer it.
    Goodbye,
    /// The client sent something it must not: ABORT.
    Violation(String),
    /// The router is shutting down: say GOODBYE and wait for the answer.
    Shutdown,
    /// The realm ended the session (killed, or too slow a reader): its GOODBYE, if any, is
    /// queued already.
    Closed,
    /// The client aborted or the connection broke: nothing more to say.
    Gone,
}

/// Serves one connection until it ends. `serializer` is `None` for an in-process link, whose
/// HELLO tells it.
pub(crate) async fn serve(
    router: Arc<RouterInner>,
    transport: Box<dyn Transport>,
    serializer: Option<Serializer>,
    peer: String,
) {
    let (mut sink, mut stream) = transport.split();
    let opening = handshake::open(&router, &mut stream, &mut sink, serializer);
    let admitted = tokio::select! {
        admitted = opening => admitted,
        () = router.shutdown.cancelled() => return,
    };
    let Ok(admitted) = admitted else {
        let _ = sink.close().await;
        return;
    };
    let Some(realm) = router.realms.get(&admitted.realm).cloned() else {
        return;
    };
    let serializer = admitted.serializer;
    let session = router.new_session_id();
    let close = CancellationToken::new();
    let (outbox, inbox) = Outbox::new(
        router.settings.outbound_queue,
        serializer,
        router.settings.slow_consumer,
        close.clone(),
    );
    let mut transport_details = Dict::new();
    transport_details.insert("peer".into(), Value::from(peer.as_str()));
    transport_details.insert("serializer".into(), Value::from(serializer.name()));
    // WELCOME is queued before the session is known to the realm, so it is the first message
    // the client gets.
    outbox.send(realm.welcome(session, &admitted.identity));
    let writing = tokio::spawn(writer::run(sink, inbox, serializer));
    let roles = admitted.details.get("roles").and_then(Value::as_dict);
    realm.join(Joining {
        id: session,
        identity: admitted.identity,
        features: ClientFeatures::from_roles(roles),
        transport: transport_details,
        outbox: outbox.clone(),
    });
    let end = read(&router, &realm, session, &mut stream, serializer, &close).await;
    realm.leave(session);
    router.release_session_id(session);
    let await_reply = match &end {
        End::Goodbye => {
            outbox.send(goodbye("wamp.close.goodbye_and_out"));
            false
        }
        End::Violation(message) => {
            tracing::debug!(session, %message, "protocol violation");
            outbox.send(handshake::abort_message(
                "wamp.error.protocol_violation",
                message,
            ));
            false
        }
        End::Shutdown => {
            outbox.send(goodbye("wamp.close.system_shutdown"));
            true
        }
        End::Closed => true,
        End::Gone => {
            writing.abort();
            return;
        }
    };
    drop(outbox);
    // A client that stopped reading would keep the writer waiting forever.
    let writer = writing.abort_handle();
    let timeout = router.settings.goodbye_timeout;
    let closing = async {
        let sink = writing.await.ok().flatten();
        if await_reply {
            writer::await_goodbye(&mut stream, serializer).await;
        }
        if let Some(mut sink) = sink {
            let _ = sink.close().await;
        }
    };
    if tokio::time::timeout(timeout, closing).await.is_err() {
        writer.abort();
    }
}

/// Reads the session's messages and routes them until the session ends.
async fn read(
    router: &RouterInner,
    realm: &Arc<Realm>,
    session: wampkit_client::Id,
    stream: &mut futures_util::stream::SplitStream<Box<dyn Transport>>,
    serializer: Serializer,
    close: &CancellationToken,
) -> End {
    loop {
        let item = tokio::select! {
            biased;
            () = close.cancelled() => return End::Closed,
            () = router.shutdown.cancelled() => return End::Shutdown,
            item = stream.next() => item,
        };
        let bytes = match item {
            Some(Ok(bytes)) => bytes,
            Some(Err(e)) => {
                tracing::debug!(session, error = %e, "the connection failed");
                return End::Gone;
            }
            None => return End::Gone,
        };
        let message = match serializer.decode(&bytes) {
            Ok(message) => message,
            Err(e) => return End::Violation(format!("cannot decode the message: {e}")),
        };
        match message {
            Message::Goodbye { .. } => return End::Goodbye,
            Message::Abort { .. } => return End::Gone,
            message => {
                if let Err(violation) = realm.handle(session, message) {
                    return End::Violation(violation);
                }
            }
        }
    }
}

/// A GOODBYE with this reason.
fn goodbye(reason: &str) -> Message {
    Message::Goodbye {
        details: Dict::new(),
        reason: reason.to_owned(),
    }
}
