//! What a newcomer reads when something goes wrong: a connect error's `Debug` (what
//! `fn main() -> Result<(), Box<dyn Error>>` prints), call timeouts and payload errors naming the
//! procedure or topic and the argument, and one-value results read in the call's expression.
#![cfg(test)] // clippy.toml's allow-*-in-tests then reaches the helpers too (rust-clippy#13981)

use std::time::Duration;

#[cfg(feature = "cbor")]
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wamp_testkit::bounded;
use wamp_testkit::messages::goodbye;
#[cfg(feature = "cbor")]
use wamp_testkit::scripted_router::event;
use wamp_testkit::scripted_router::{RouterPeer, ScriptedRouter, args, expect_message, invocation};
#[cfg(any(feature = "msgpack", feature = "cbor"))]
use wampkit::value::ArgumentRef;
#[cfg(feature = "msgpack")]
use wampkit::value::PayloadOf;
use wampkit::wire::{Message, code};
use wampkit::{Arguments, Error, Invocation, Serializer, Session, Value};

/// Answers GOODBYE whenever it comes, skipping what the client sends before it (a CANCEL).
async fn until_goodbye(peer: &mut RouterPeer) {
    while let Some(message) = peer.recv().await {
        if let Message::Goodbye { .. } = message {
            peer.send(goodbye("wamp.close.goodbye_and_out", None)).await;
            return;
        }
    }
}

#[tokio::test]
async fn an_http_answer_to_the_upgrade_shows_its_status_and_body_as_text() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut buffer = [0u8; 1024];
        while !request.ends_with(b"\r\n\r\n") {
            let read = socket.read(&mut buffer).await.unwrap();
            assert!(read > 0, "the client hung up mid-request");
            request.extend_from_slice(&buffer[..read]);
        }
        let body = "no WAMP here: the router listens on /ws";
        let answer = format!(
            "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        socket.write_all(answer.as_bytes()).await.unwrap();
        socket.shutdown().await.unwrap();
    });
    let url = format!("ws://127.0.0.1:{port}/wrong");
    let error = bounded("connecting", Session::connect(&url, "realm1"))
        .await
        .unwrap_err();
    let debug = format!("{error:?}");
    assert!(debug.contains("404 Not Found"), "{debug}");
    assert!(
        debug.contains("no WAMP here: the router listens on /ws"),
        "{debug}"
    );
    // The body's first bytes, "no", as a list of decimal bytes.
    assert!(!debug.contains("110, 111"), "{debug}");
    let display = error.to_string();
    assert!(display.contains("HTTP 404 Not Found"), "{display}");
    server.await.unwrap();
}

#[tokio::test]
async fn a_call_timeout_names_the_procedure_and_the_time() {
    bounded("call timeout", async {
        let router = ScriptedRouter::in_memory(Serializer::Json);
        let connecting = router.connect(Session::builder(router.url(), "realm1"));
        let script = tokio::spawn(async move {
            let mut peer = router.accept().await;
            peer.welcome(1).await;
            let call = peer.expect_call().await;
            assert_eq!(call.procedure, "com.example.slow");
            until_goodbye(&mut peer).await;
        });
        let session = connecting.await.unwrap();
        let error = session
            .call("com.example.slow", ())
            .timeout(Duration::from_millis(50))
            .await
            .unwrap_err();
        match &error {
            Error::Timeout {
                after, procedure, ..
            } => {
                assert_eq!(*after, Duration::from_millis(50));
                assert_eq!(procedure.as_deref(), Some("com.example.slow"));
            }
            other => panic!("expected a timeout, got {other:?}"),
        }
        let text = error.to_string();
        assert!(
            text.starts_with("the call of `com.example.slow` timed out after 50ms"),
            "{text}"
        );
        session.leave().await.unwrap();
        script.await.unwrap();
    })
    .await;
}

#[cfg(feature = "msgpack")]
#[tokio::test]
async fn a_result_is_read_in_the_calls_expression_and_its_errors_name_the_procedure() {
    bounded("call results", async {
        let router = ScriptedRouter::in_memory(Serializer::MsgPack);
        let connecting = router.connect(Session::builder(router.url(), "realm1"));
        let script = tokio::spawn(async move {
            let mut peer = router.accept().await;
            peer.welcome(1).await;
            peer.answer_call(args((5,))).await;
            peer.answer_call(args((7, 1))).await;
            peer.answer_call(Vec::new()).await;
            peer.answer_call(args(("five",))).await;
            until_goodbye(&mut peer).await;
        });
        let session = connecting.await.unwrap();
        let sum: i64 = session
            .call("com.example.add", (2, 3))
            .result()
            .await
            .unwrap();
        assert_eq!(sum, 5);
        let pair: (i64, i64) = session
            .call("com.example.divmod", (15, 2))
            .result()
            .await
            .unwrap();
        assert_eq!(pair, (7, 1));
        session
            .call("com.example.reset", ())
            .result::<()>()
            .await
            .unwrap();
        let error = session
            .call("com.example.add", (2, 3))
            .result::<i64>()
            .await
            .unwrap_err();
        let Error::Payload(payload) = &error else {
            panic!("expected a payload error, got {error:?}");
        };
        assert_eq!(
            payload.payload_of(),
            Some(&PayloadOf::Result {
                procedure: Some("com.example.add".into())
            })
        );
        assert_eq!(payload.argument(), Some(&ArgumentRef::Index(0)));
        let text = error.to_string();
        assert!(
            text.contains("the result of `com.example.add`, positional argument 0: invalid type"),
            "{text}"
        );
        session.leave().await.unwrap();
        script.await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn an_invocation_error_names_the_procedure_and_the_argument() {
    bounded("invocation arguments", async {
        let router = ScriptedRouter::in_memory(Serializer::Json);
        let connecting = router.connect(Session::builder(router.url(), "realm1"));
        let script = tokio::spawn(async move {
            let mut peer = router.accept().await;
            peer.welcome(1).await;
            peer.accept_register(5).await;
            peer.send(invocation(1, 5, args((2, "three")))).await;
            let (error, payload) = expect_message!(
                peer,
                Message::Error { request_type: code::INVOCATION, error, payload, .. }
                    => (error, payload)
            );
            assert_eq!(error, "wamp.error.invalid_argument");
            let (error_args, _) = payload.into_parts();
            let message = error_args[0].as_str().unwrap();
            assert!(
                message.starts_with(
                    "the arguments of `com.example.add`, positional argument 1: invalid type: string \"three\""
                ),
                "{message}"
            );
            until_goodbye(&mut peer).await;
        });
        let session = connecting.await.unwrap();
        let _registration = session
            .register("com.example.add", |inv: Invocation| async move {
                let (a, b): (i64, i64) = inv.args()?;
                Ok(Arguments::single(a + b)?)
            })
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        session.leave().await.unwrap();
        script.await.unwrap();
    })
    .await;
}

#[cfg(feature = "cbor")]
#[tokio::test]
async fn an_event_payload_error_names_the_topic_and_the_key() {
    bounded("event payload", async {
        let router = ScriptedRouter::in_memory(Serializer::Cbor);
        let connecting = router.connect(Session::builder(router.url(), "realm1"));
        let script = tokio::spawn(async move {
            let mut peer = router.accept().await;
            peer.welcome(1).await;
            peer.accept_subscribe(9).await;
            peer.send(event(9, 1, args(("hello",)))).await;
            until_goodbye(&mut peer).await;
        });
        let session = connecting.await.unwrap();
        let mut events = session.subscribe("com.example.news").await.unwrap();
        let news = events.next().await.unwrap();
        let error = news.arg::<u32>(0).unwrap_err();
        let Error::Payload(payload) = &error else {
            panic!("expected a payload error, got {error:?}");
        };
        assert_eq!(payload.topic(), Some("com.example.news"));
        assert_eq!(payload.argument(), Some(&ArgumentRef::Index(0)));
        let missing = news.kwarg::<u32>("words").unwrap_err();
        let text = missing.to_string();
        assert!(
            text.contains("the event of `com.example.news`, keyword argument `words`"),
            "{text}"
        );
        session.leave().await.unwrap();
        script.await.unwrap();
    })
    .await;
}

#[test]
fn messages_about_shapes_pick_the_right_article() {
    let error = Arguments::positional(5).unwrap_err().to_string();
    assert!(error.contains("not an integer"), "{error}");
    assert!(error.contains("`.kwargs(..)`"), "{error}");
    assert!(error.contains("`(value,)`"), "{error}");
    let error = Arguments::positional("text").unwrap_err().to_string();
    assert!(error.contains("not a string"), "{error}");
    let error = Arguments::keyword(Value::List(Vec::new()))
        .unwrap_err()
        .to_string();
    assert!(error.contains("not a list"), "{error}");
}

#[test]
fn a_uri_error_names_the_rule_and_where_it_is_chosen() {
    use wampkit::uri::{UriCheck, UriUse};
    let loose = UriCheck::Loose
        .check("com.example.my add", UriUse::Reference)
        .unwrap_err()
        .to_string();
    assert!(loose.contains("whitespace"), "{loose}");
    assert!(loose.contains("SessionBuilder::uri_check"), "{loose}");
    let strict = UriCheck::Strict
        .check("com.example.Add", UriUse::Reference)
        .unwrap_err()
        .to_string();
    assert!(strict.contains("lower-case"), "{strict}");
    assert!(strict.contains("UriCheck::Loose"), "{strict}");
}
