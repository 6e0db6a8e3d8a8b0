//! [`router_messages`]: arbitrary frames from two clients, fed to an embedded `wampkit::router::Router`
//! over in-memory connections, next to a well-behaved callee and subscriber. The router must never
//! panic (a panic in any of its tasks fails the input), must forget every session once its
//! connection is gone, must keep its tables consistent (no registration or subscription of a
//! session that left), must keep serving (a new session calls and publishes), and must shut down
//! within [`DEADLINE`].

use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{FutureExt as _, SinkExt as _, StreamExt as _};
use wampkit::router::{Router, SlowConsumer};
use wampkit::transport::memory::{self, MemoryTransport};
use wampkit::wire::{Message, Payload, code};
use wampkit::{Arguments, Dict, Invocation, MatchPolicy, Registration, Serializer, Session, Value};

use crate::DEADLINE;

/// At most this many frames of an input are sent.
const MAX_FRAMES: usize = 64;
/// The fuzzed connections.
const CLIENTS: usize = 2;
/// Each router queue's bound: small, so that overflows happen.
const QUEUE: usize = 8;

/// One input, parsed.
pub struct RouterInput<'a> {
    /// What both fuzzed clients speak.
    pub serializer: Serializer,
    /// Whether each fuzzed client first joins with a valid HELLO announcing every feature.
    pub join: bool,
    /// Whether a slow reader is closed rather than losing events.
    pub close_slow: bool,
    /// The frames, each with the client (0 or 1) that sends it.
    pub frames: Vec<(usize, &'a [u8])>,
}

/// Input format: one byte (bits 0-1: the serializer, modulo 3; bit 2: join first; bit 3: the
/// `Close` slow-consumer policy), then frames, each a big-endian `u16` whose top bit picks the
/// client and whose other bits are the length, then that many bytes (a short last frame takes
/// what is left).
pub fn parse_router_input(data: &[u8]) -> Option<RouterInput<'_>> {
    let (&selector, mut rest) = data.split_first()?;
    let serializer = crate::SERIALIZERS[usize::from(selector & 3) % 3];
    let mut frames = Vec::new();
    while frames.len() < MAX_FRAMES {
        let Some((&[high, low], after)) = rest.split_first_chunk::<2>() else {
            break;
        };
        let header = u16::from_be_bytes([high, low]);
        let client = usize::from(header >> 15);
        let length = usize::from(header & 0x7fff).min(after.len());
        let (frame, after) = after.split_at(length);
        frames.push((client, frame));
        rest = after;
    }
    Some(RouterInput {
        serializer,
        join: selector & 4 != 0,
        close_slow: selector & 8 != 0,
        frames,
    })
}

/// Builds an input (for seeds): see [`parse_router_input`].
pub fn build_router_input(
    serializer: Serializer,
    join: bool,
    frames: &[(usize, Vec<u8>)],
) -> Vec<u8> {
    let index = crate::SERIALIZERS
        .iter()
        .position(|&s| s == serializer)
        .unwrap_or(0);
    let mut input = vec![u8::try_from(index).unwrap_or(0) | if join { 4 } else { 0 }];
    for (client, frame) in frames {
        let length = frame.len().min(0x7fff);
        let header = u16::try_from(length).unwrap_or(0) | if *client == 1 { 0x8000 } else { 0 };
        input.extend_from_slice(&header.to_be_bytes());
        input.extend_from_slice(&frame[..length]);
    }
    input
}

static PANICKED: AtomicBool = AtomicBool::new(false);

/// Notes any panic, in whatever task, before the previous hook runs (libFuzzer's aborts).
fn watch_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICKED.store(true, Ordering::SeqCst);
            previous(info);
        }));
    });
}

/// Feeds the frames of `data` (see [`parse_router_input`]) to a router.
pub fn router_messages(data: &[u8]) {
    let Some(input) = parse_router_input(data) else {
        return;
    };
    watch_panics();
    PANICKED.store(false, Ordering::SeqCst);
    // Time stands still while anything can run, and jumps to the next timer when nothing can:
    // timeouts fire as if the clients were slow, and the input costs no waiting.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => panic!("cannot start a Tokio runtime: {e}"),
    };
    // The router's ids come from the thread's generator: the same input, the same ids.
    fastrand::seed(7);
    runtime.block_on(run_router(input));
    drop(runtime);
    assert!(
        !PANICKED.swap(false, Ordering::SeqCst),
        "a task panicked while the router handled the input"
    );
}

fn features(names: &[&str]) -> Value {
    let features: Dict = names
        .iter()
        .map(|name| ((*name).to_owned(), Value::Bool(true)))
        .collect();
    let mut role = Dict::new();
    role.insert("features".into(), Value::Dict(features));
    Value::Dict(role)
}

/// A HELLO announcing every role and every feature the router acts on.
pub fn fuzz_hello() -> Message {
    let mut roles = Dict::new();
    roles.insert(
        "caller".into(),
        features(&["progressive_call_invocations", "call_canceling"]),
    );
    roles.insert(
        "callee".into(),
        features(&[
            "call_canceling",
            "progressive_call_results",
            "progressive_call_invocations",
        ]),
    );
    roles.insert("publisher".into(), features(&[]));
    roles.insert("subscriber".into(), features(&[]));
    let mut details = Dict::new();
    details.insert("roles".into(), Value::Dict(roles));
    Message::Hello {
        realm: "realm1".into(),
        details,
    }
}

/// Reads what the router sent a fuzzed client so far, without waiting.
fn drain(client: &mut MemoryTransport) -> bool {
    loop {
        match client.next().now_or_never() {
            Some(Some(Ok(_))) => {}
            Some(Some(Err(_)) | None) => return false,
            None => return true,
        }
    }
}

/// The well-behaved sessions: a callee of `com.fuzz.proc` (exact) and `com.fuzz.` (prefix),
/// and a subscriber of `com.fuzz.topic` and of the session meta events.
async fn helpers(
    router: &Router,
    serializer: Serializer,
) -> Option<(Session, Session, Vec<Registration>)> {
    let join = |serializer| {
        router.join(Session::builder("memory://fuzz", "realm1").serializer(serializer))
    };
    let callee = join(serializer).await.ok()?;
    let echo = |inv: Invocation| async move { Ok(Arguments::single(inv.arg_count())?) };
    let registrations = vec![
        callee.register("com.fuzz.proc", echo).await.ok()?,
        callee
            .register("com.fuzz.", echo)
            .match_policy(MatchPolicy::Prefix)
            .await
            .ok()?,
    ];
    let subscriber = join(Serializer::MsgPack).await.ok()?;
    for topic in ["com.fuzz.topic", "wamp.session.on_leave"] {
        let mut events = subscriber.subscribe(topic).await.ok()?;
        tokio::spawn(async move { while events.next().await.is_some() {} });
    }
    Some((callee, subscriber, registrations))
}

async fn run_router(input: RouterInput<'_>) {
    let router = Router::builder()
        .realm("realm1")
        .outbound_queue(QUEUE)
        .slow_consumer(if input.close_slow {
            SlowConsumer::Close
        } else {
            SlowConsumer::DropEvents
        })
        .max_pending_calls(QUEUE)
        .hello_timeout(Duration::from_millis(500))
        .goodbye_timeout(Duration::from_millis(20))
        .build();
    let Some(realm) = router.realm("realm1") else {
        panic!("the router has no realm1");
    };
    let check = |what: &str, ok: bool| {
        assert!(ok, "{what}");
    };
    let Ok(Some((callee, subscriber, registrations))) =
        tokio::time::timeout(DEADLINE, helpers(&router, input.serializer)).await
    else {
        panic!("the well-behaved sessions cannot join");
    };
    let helper_ids = [callee.id(), subscriber.id()];

    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let (client, server) = memory::duplex(QUEUE);
        router.serve(server, input.serializer, "fuzz");
        clients.push(Some(client));
    }
    if input.join {
        let hello = input.serializer.encode(&fuzz_hello()).unwrap_or_default();
        for client in clients.iter_mut().flatten() {
            let joined = tokio::time::timeout(DEADLINE, async {
                client.send(Bytes::from(hello.clone())).await.ok()?;
                client.next().await?.ok()
            })
            .await;
            check("a valid HELLO is answered in time", joined.is_ok());
        }
    }

    for (index, frame) in input.frames {
        let Some(slot) = clients.get_mut(index) else {
            continue;
        };
        let Some(client) = slot.as_mut() else {
            continue;
        };
        // A client whose connection the router closed is done; one that cannot send without
        // waiting stops too (the router reads as long as the connection lives).
        let sent = client.send(Bytes::copy_from_slice(frame)).now_or_never();
        let open = matches!(sent, Some(Ok(()))) && drain(client);
        if !open {
            *slot = None;
        }
        tokio::task::yield_now().await;
    }
    // Let the router act on the last frames, then hang up.
    tokio::time::sleep(Duration::from_millis(1)).await;
    drop(clients);

    let gone = tokio::time::timeout(DEADLINE, async {
        while realm.sessions().iter().any(|s| !helper_ids.contains(&s.id)) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await;
    check(
        "every fuzzed session is forgotten once its connection is gone",
        gone.is_ok(),
    );
    let live: Vec<_> = realm.sessions().iter().map(|s| s.id).collect();
    check(
        "no registration of a session that left",
        realm
            .registrations()
            .iter()
            .all(|r| !r.callees.is_empty() && r.callees.iter().all(|c| live.contains(c))),
    );
    check(
        "no subscription of a session that left",
        realm
            .subscriptions()
            .iter()
            .all(|s| !s.subscribers.is_empty() && s.subscribers.iter().all(|c| live.contains(c))),
    );

    // Still serving: a new session calls the meta API and publishes.
    let serving = tokio::time::timeout(DEADLINE, async {
        let session = router.connect("realm1").await.ok()?;
        let count: u64 = session
            .call("wamp.session.count", ())
            .await
            .ok()?
            .arg(0)
            .ok()?;
        session
            .publish("com.fuzz.topic", (1,))
            .acknowledge()
            .await
            .ok()?;
        session.leave().await.ok()?;
        Some(count)
    })
    .await;
    check(
        "a new session calls and publishes after the input",
        matches!(serving, Ok(Some(_))),
    );
    check(
        "the router shuts down in time",
        tokio::time::timeout(DEADLINE, router.shutdown())
            .await
            .is_ok(),
    );
    drop((registrations, callee, subscriber));
}

/// Valid client messages for the router's seeds: calls (to the helper callee, the prefix, the
/// meta API, nowhere), progressive calls, cancels, a registration and answers for invocations 1
/// and 2, publications and subscriptions, and the closing messages.
pub fn client_messages() -> Vec<Message> {
    let dict = |pairs: &[(&str, Value)]| -> Dict {
        pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), value.clone()))
            .collect()
    };
    let args = || Payload::new(vec![Value::from(1), Value::from("two")], Dict::new());
    let call = |request, procedure: &str, options: Dict| Message::Call {
        request,
        options,
        procedure: procedure.into(),
        payload: args(),
    };
    let progress = dict(&[("progress", Value::Bool(true))]);
    vec![
        fuzz_hello(),
        call(1, "com.fuzz.proc", Dict::new()),
        call(
            2,
            "com.fuzz.other",
            dict(&[("receive_progress", Value::Bool(true))]),
        ),
        call(3, "com.fuzz.proc", dict(&[("timeout", Value::from(1))])),
        call(4, "wamp.session.list", Dict::new()),
        call(5, "com.own", progress.clone()),
        call(5, "com.own", Dict::new()),
        Message::Cancel {
            request: 1,
            options: dict(&[("mode", Value::from("kill"))]),
        },
        Message::Register {
            request: 6,
            options: dict(&[("invoke", Value::from("roundrobin"))]),
            procedure: "com.own".into(),
        },
        Message::Yield {
            request: 1,
            options: progress.clone(),
            payload: args(),
        },
        Message::Yield {
            request: 2,
            options: Dict::new(),
            payload: args(),
        },
        Message::Error {
            request_type: code::INVOCATION,
            request: 1,
            details: Dict::new(),
            error: "com.fuzz.error".into(),
            payload: Payload::Empty,
        },
        Message::Publish {
            request: 7,
            options: dict(&[
                ("acknowledge", Value::Bool(true)),
                ("retain", Value::Bool(true)),
                ("exclude_me", Value::Bool(false)),
            ]),
            topic: "com.fuzz.topic".into(),
            payload: args(),
        },
        Message::Subscribe {
            request: 8,
            options: dict(&[
                ("match", Value::from("wildcard")),
                ("get_retained", Value::Bool(true)),
            ]),
            topic: "com..topic".into(),
        },
        Message::Call {
            request: 9,
            options: Dict::new(),
            procedure: "wamp.session.add_testament".into(),
            payload: Payload::new(vec![Value::from("com.fuzz.topic")], Dict::new()),
        },
        call(10, "wamp.session.kill_all", Dict::new()),
        Message::Goodbye {
            details: Dict::new(),
            reason: "wamp.close.normal".into(),
        },
        Message::Abort {
            details: Dict::new(),
            reason: "wamp.close.normal".into(),
            payload: Payload::Empty,
        },
    ]
}

/// Seed inputs for `router_messages`.
pub fn router_seeds() -> Vec<Vec<u8>> {
    let messages = client_messages();
    let mut seeds = Vec::new();
    for serializer in crate::SERIALIZERS {
        let encoded: Vec<Vec<u8>> = messages
            .iter()
            .filter_map(|message| serializer.encode(message).ok())
            .collect();
        // Each message alone from a joined client; a HELLO-first conversation; both clients
        // interleaved through everything.
        for bytes in encoded.iter().skip(1) {
            seeds.push(build_router_input(serializer, true, &[(0, bytes.clone())]));
        }
        let pick = |client: usize, indices: &[usize]| -> Vec<(usize, Vec<u8>)> {
            indices
                .iter()
                .filter_map(|&i| encoded.get(i).map(|b| (client, b.clone())))
                .collect()
        };
        seeds.push(build_router_input(
            serializer,
            false,
            &pick(0, &[0, 1, 4, 12, 13, 16]),
        ));
        let mut both = pick(0, &[8, 5, 6]);
        both.extend(pick(1, &[1, 2, 3, 7, 9, 10, 11]));
        both.extend(pick(0, &[9, 10, 11, 14, 15]));
        seeds.push(build_router_input(serializer, true, &both));
    }
    seeds
}
