//! What the fuzz targets run, shared so that `cargo test` in this directory can replay inputs
//! without libFuzzer.
//!
//! - [`decode_round_trip`]: `Serializer::decode` on arbitrary bytes never panics, and whatever
//!   decodes encodes again and decodes to the same message.
//! - [`router_messages`]: arbitrary frames from two clients fed to an embedded router (see the
//!   `router` module); it must never panic, hang, or keep what a departed session held.
//! - [`session_messages`]: arbitrary frames, as a router would send them, fed to a real
//!   [`Session`] after a normal join, with a call, a subscription, a registration and an
//!   acknowledged publication pending. The session must never panic (the panic hook aborts, which
//!   libFuzzer reports as a crash) and never hang: once the router hangs up, the session closes
//!   and every pending request resolves within [`DEADLINE`], or the harness panics. Every
//!   result, event and invocation the session delivers is read into a set of types straight
//!   from its bytes and through `Value`s: the two must agree ([`reads_agree`]).

pub mod reads;
mod router;

use std::sync::OnceLock;
use std::time::Duration;

use futures_util::StreamExt as _;
use wamp_testkit::scripted_router::{Frame, RouterPeer};
use wampkit::transport::memory;
use wampkit::wire::Message;
use wampkit::{Arguments, Dict, Invocation, Serializer, Session, Value, WampError};

pub use router::{
    RouterInput, build_router_input, client_messages, parse_router_input, router_messages,
};

/// Decodes `data`; what decodes must survive a round trip.
pub fn decode_round_trip(serializer: Serializer, data: &[u8]) {
    let Ok(message) = serializer.decode(data) else {
        return;
    };
    let encoded = match serializer.encode(&message) {
        Ok(encoded) => encoded,
        Err(e) => panic!("{serializer}: decoded {message:?} but cannot encode it again: {e}"),
    };
    match serializer.decode(&encoded) {
        Ok(again) => assert_eq!(
            again, message,
            "{serializer}: the round trip changed the message"
        ),
        Err(e) => panic!("{serializer}: re-encoded {message:?} does not decode: {e}"),
    }
}

/// How long the session may take to close and resolve everything once the router hangs up.
pub const DEADLINE: Duration = Duration::from_secs(3);
/// At most this many frames of an input are sent.
const MAX_FRAMES: usize = 64;

/// The serializers, chosen by an input's first byte.
const SERIALIZERS: [Serializer; 3] = [Serializer::Json, Serializer::MsgPack, Serializer::Cbor];

/// Splits an input into the serializer and the frames to send.
///
/// Input format: one byte choosing the serializer (modulo 3), then frames, each a big-endian
/// `u16` length and that many bytes (a short last frame takes what is left).
pub fn parse_input(data: &[u8]) -> Option<(Serializer, Vec<&[u8]>)> {
    let (&selector, mut rest) = data.split_first()?;
    let serializer = SERIALIZERS[usize::from(selector) % SERIALIZERS.len()];
    let mut frames = Vec::new();
    while frames.len() < MAX_FRAMES {
        let Some((&[high, low], after)) = rest.split_first_chunk::<2>() else {
            break;
        };
        let length = usize::from(u16::from_be_bytes([high, low])).min(after.len());
        let (frame, after) = after.split_at(length);
        frames.push(frame);
        rest = after;
    }
    Some((serializer, frames))
}

/// Builds an input from a serializer and frames (for seeds).
pub fn build_input(serializer: Serializer, frames: &[Vec<u8>]) -> Vec<u8> {
    let selector = SERIALIZERS
        .iter()
        .position(|&s| s == serializer)
        .unwrap_or(0);
    let mut input = vec![u8::try_from(selector).unwrap_or(0)];
    for frame in frames {
        let length = u16::try_from(frame.len()).unwrap_or(u16::MAX);
        input.extend_from_slice(&length.to_be_bytes());
        input.extend_from_slice(&frame[..usize::from(length)]);
    }
    input
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(e) => panic!("cannot start a Tokio runtime: {e}"),
        }
    })
}

/// Feeds the frames of `data` (see [`parse_input`]) to a session.
pub fn session_messages(data: &[u8]) {
    let Some((serializer, frames)) = parse_input(data) else {
        return;
    };
    runtime().block_on(run_session(serializer, frames));
}

/// The WELCOME details: every role feature the session looks at.
fn welcome_details() -> Dict {
    let features = |names: &[&str]| {
        let features: Dict = names
            .iter()
            .map(|name| ((*name).to_owned(), Value::Bool(true)))
            .collect();
        let mut role = Dict::new();
        role.insert("features".into(), Value::Dict(features));
        Value::Dict(role)
    };
    let mut roles = Dict::new();
    roles.insert(
        "broker".into(),
        features(&["subscription_revocation", "pattern_based_subscription"]),
    );
    roles.insert(
        "dealer".into(),
        features(&[
            "call_canceling",
            "progressive_call_results",
            "progressive_call_invocations",
            "registration_revocation",
        ]),
    );
    let mut details = Dict::new();
    details.insert("roles".into(), Value::Dict(roles));
    details.insert("authid".into(), Value::from("fuzz"));
    details
}

async fn run_session(serializer: Serializer, frames: Vec<&[u8]>) {
    let (transport, peer) = memory::pair(serializer);
    let mut peer = RouterPeer::in_memory(peer);

    // The router: join, wait for the four requests, then the fuzzer's frames.
    let router = async move {
        peer.welcome_with(1, welcome_details()).await;
        for _ in 0..4 {
            peer.recv().await?;
        }
        // From now on, whatever the client sends is dropped.
        for payload in &frames {
            // In memory, a frame is its bytes, whatever the serializer.
            if peer
                .try_send_frame(Frame::Binary(payload.to_vec()))
                .await
                .is_err()
            {
                break;
            }
            peer.discard_received();
            tokio::task::yield_now().await;
        }
        // Give the session a moment to act on the last frames, then hang up.
        tokio::time::sleep(Duration::from_millis(1)).await;
        peer.close();
        Some(())
    };

    let client = async {
        let session = match Session::builder("memory://fuzz-router", "realm1")
            .serializer(serializer)
            .join_timeout(DEADLINE)
            .leave_timeout(Duration::from_millis(100))
            .interrupt_grace(Duration::from_millis(100))
            .connect_with(transport)
            .await
        {
            Ok(session) => session,
            // The fixed handshake cannot fail unless the transport does.
            Err(e) => panic!("joining the fuzz router failed: {e}"),
        };
        let call = tokio::spawn({
            let session = session.clone();
            async move {
                if let Ok(result) = session.call("com.fuzz.call", (1, "two")).await {
                    reads_agree!(result);
                }
            }
        });
        let subscription = tokio::spawn({
            let session = session.clone();
            async move {
                if let Ok(mut events) = session.subscribe("com.fuzz.topic").await {
                    while let Some(event) = events.next().await {
                        reads_agree!(event);
                    }
                }
            }
        });
        let registration = tokio::spawn({
            let session = session.clone();
            async move {
                let handler = |invocation: Invocation| async move {
                    reads_agree!(invocation);
                    Ok::<_, WampError>(Arguments::new())
                };
                let registration = session.register("com.fuzz.proc", handler).await;
                // Keep the registration until the session ends.
                session.closed().await;
                drop(registration);
            }
        });
        let publication = tokio::spawn({
            let session = session.clone();
            async move {
                let _ = session.publish("com.fuzz.topic", (3,)).acknowledge().await;
            }
        });
        let everything = async {
            let reason = session.closed().await;
            if std::env::var_os("WAMP_FUZZ_DEBUG").is_some() {
                eprintln!("closed: {reason}");
            }
            for task in [call, subscription, registration, publication] {
                if let Err(e) = task.await
                    && e.is_panic()
                {
                    std::panic::resume_unwind(e.into_panic());
                }
            }
            reason
        };
        match tokio::time::timeout(DEADLINE, everything).await {
            Ok(_) => {}
            Err(_) => panic!(
                "the session did not close, or a request did not resolve, within {DEADLINE:?} \
                 of the router hanging up"
            ),
        }
    };

    let (_, ()) = tokio::join!(router, client);
}

/// Valid messages a router sends, for the request ids the harness's session uses (call 1,
/// subscribe 2, register 3, acknowledged publish 4) and for nothing in particular.
fn router_sent_messages() -> Vec<Message> {
    use wampkit::wire::{Payload, code};
    let dict = |pairs: &[(&str, Value)]| -> Dict {
        pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), value.clone()))
            .collect()
    };
    let payload = || {
        Payload::new(
            vec![Value::from(1), Value::from("two"), Value::Bytes(vec![3, 4])],
            dict(&[("k", Value::Float(-0.5))]),
        )
    };
    vec![
        Message::Result {
            request: 1,
            details: dict(&[("progress", Value::Bool(true))]),
            payload: payload(),
        },
        Message::Result {
            request: 1,
            details: Dict::new(),
            payload: payload(),
        },
        Message::Error {
            request_type: code::CALL,
            request: 1,
            details: Dict::new(),
            error: "wamp.error.runtime_error".into(),
            payload: payload(),
        },
        Message::Subscribed {
            request: 2,
            subscription: 100,
        },
        Message::Event {
            subscription: 100,
            publication: 1,
            details: dict(&[("topic", Value::from("com.fuzz.topic"))]),
            payload: payload(),
        },
        Message::Unsubscribed {
            request: 0,
            details: Some(dict(&[("subscription", Value::from(100))])),
        },
        Message::Registered {
            request: 3,
            registration: 200,
        },
        Message::Invocation {
            request: 7,
            registration: 200,
            details: dict(&[("receive_progress", Value::Bool(true))]),
            payload: payload(),
        },
        Message::Interrupt {
            request: 7,
            options: dict(&[("mode", Value::from("kill"))]),
        },
        Message::Unregistered {
            request: 0,
            details: Some(dict(&[("registration", Value::from(200))])),
        },
        Message::Published {
            request: 4,
            publication: 300,
        },
        Message::Error {
            request_type: code::PUBLISH,
            request: 4,
            details: Dict::new(),
            error: "wamp.error.not_authorized".into(),
            payload: Payload::Empty,
        },
        Message::EventReceived { publication: 1 },
        Message::Goodbye {
            details: dict(&[("message", Value::from("bye"))]),
            reason: "wamp.close.killed".into(),
        },
        Message::Abort {
            details: Dict::new(),
            reason: "wamp.error.protocol_violation".into(),
            payload: Payload::Empty,
        },
        Message::Welcome {
            session: 2,
            details: Dict::new(),
        },
    ]
}

/// Seed inputs: `(target, input)` pairs for the corpus directories.
pub fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let messages = router_sent_messages();
    let mut seeds = Vec::new();
    for serializer in SERIALIZERS {
        let target = match serializer {
            Serializer::Json => "decode_json",
            Serializer::MsgPack => "decode_msgpack",
            _ => "decode_cbor",
        };
        let encoded: Vec<Vec<u8>> = messages
            .iter()
            .filter_map(|message| serializer.encode(message).ok())
            .collect();
        for bytes in &encoded {
            seeds.push((target, bytes.clone()));
        }
        // Every message alone, the conversations, and everything at once.
        for bytes in &encoded {
            seeds.push((
                "session_messages",
                build_input(serializer, std::slice::from_ref(bytes)),
            ));
        }
        let pick = |indices: &[usize]| -> Vec<Vec<u8>> {
            indices
                .iter()
                .filter_map(|&i| encoded.get(i).cloned())
                .collect()
        };
        for conversation in [
            &[0, 1][..],
            &[3, 4, 5, 4][..],
            &[6, 7, 8, 9, 7][..],
            &[10, 12, 13][..],
            &[3, 6, 4, 7, 0, 10, 8, 1, 14][..],
        ] {
            seeds.push((
                "session_messages",
                build_input(serializer, &pick(conversation)),
            ));
        }
        seeds.push(("session_messages", build_input(serializer, &encoded)));
    }
    seeds.push(("session_messages", peer_shaped_arguments()));
    seeds.extend(
        router::router_seeds()
            .into_iter()
            .map(|input| ("router_messages", input)),
    );
    seeds
}

/// A MessagePack conversation whose RESULT and EVENT carry arguments as other peers may send
/// them and a `Value` could not have made: an integer where a variant is read, bytes where a
/// variant's name, a struct or a variant's content is read
/// (`[0, bin "Dot", {"Pair": bin [1, 2]}, {"Circle": bin [9]}]`, keyword `k` = `bin [3]`).
fn peer_shaped_arguments() -> Vec<u8> {
    let arguments: &[u8] = &[
        0x94, 0x00, 0xc4, 3, b'D', b'o', b't', 0x81, 0xa4, b'P', b'a', b'i', b'r', 0xc4, 2, 1, 2,
        0x81, 0xa6, b'C', b'i', b'r', b'c', b'l', b'e', 0xc4, 1, 9, 0x81, 0xa1, b'k', 0xc4, 1, 3,
    ];
    // [50, 1, {}, args, kwargs]: RESULT of call 1.
    let result = [&[0x95, 50, 1, 0x80][..], arguments].concat();
    // [33, 2, 100]: SUBSCRIBED, then [36, 100, 1, {}, args, kwargs]: an EVENT.
    let subscribed = vec![0x93, 33, 2, 100];
    let event = [&[0x96, 36, 100, 1, 0x80][..], arguments].concat();
    build_input(Serializer::MsgPack, &[result, subscribed, event])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_format() {
        let input = build_input(
            Serializer::Cbor,
            &[b"ab".to_vec(), Vec::new(), b"c".to_vec()],
        );
        assert_eq!(input, b"\x02\x00\x02ab\x00\x00\x00\x01c");
        let (serializer, frames) = parse_input(&input).unwrap_or((Serializer::Json, Vec::new()));
        assert_eq!(serializer, Serializer::Cbor);
        assert_eq!(frames, [&b"ab"[..], b"", b"c"]);
        // A truncated last frame takes what is left.
        let (_, frames) = parse_input(b"\x01\x00\x09abc").unwrap_or((Serializer::Json, Vec::new()));
        assert_eq!(frames, [&b"abc"[..]]);
    }

    /// The seeds run through the harness without tripping it.
    #[test]
    fn seeds_pass() {
        for (target, input) in seeds() {
            match target {
                "decode_json" => decode_round_trip(Serializer::Json, &input),
                "decode_msgpack" => decode_round_trip(Serializer::MsgPack, &input),
                "decode_cbor" => decode_round_trip(Serializer::Cbor, &input),
                "router_messages" => router_messages(&input),
                _ => session_messages(&input),
            }
        }
    }

    /// Replays the inputs in `artifacts/<target>/` (crashes libFuzzer saved) and in the files
    /// named by `WAMP_FUZZ_REPLAY` (`target:path`, comma-separated).
    #[test]
    fn replay_saved_inputs() {
        let mut inputs = Vec::new();
        for target in [
            "decode_json",
            "decode_msgpack",
            "decode_cbor",
            "session_messages",
            "router_messages",
        ] {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("artifacts")
                .join(target);
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                inputs.push((target.to_owned(), entry.path()));
            }
        }
        for item in std::env::var("WAMP_FUZZ_REPLAY")
            .unwrap_or_default()
            .split(',')
        {
            if let Some((target, path)) = item.split_once(':') {
                inputs.push((target.to_owned(), path.into()));
            }
        }
        for (target, path) in inputs {
            let data = std::fs::read(&path).unwrap_or_default();
            eprintln!("replaying {target} {}", path.display());
            match target.as_str() {
                "decode_json" => decode_round_trip(Serializer::Json, &data),
                "decode_msgpack" => decode_round_trip(Serializer::MsgPack, &data),
                "decode_cbor" => decode_round_trip(Serializer::Cbor, &data),
                "router_messages" => router_messages(&data),
                _ => session_messages(&data),
            }
        }
    }
}
