//! Interoperability with Autobahn|Python peers through the router under test, for every
//! serializer: RPC both ways (positional and keyword arguments), events both ways, application
//! errors both ways, and payload types (negative numbers, floats, unicode, bytes, nesting) that
//! must survive.
#![cfg(test)] // clippy.toml's allow-*-in-tests then reaches the helpers too (rust-clippy#13981)

use std::future::IntoFuture;
use std::time::Duration;

use futures_util::StreamExt as _;
use serde_json::{Value as Json, json};
use testkit::e2e::{self, python_json, python_line, python_ready, python_run};
use wampkit::{
    Arguments, Dict, Error, ErrorUri, Invocation, Serializer, Session, Value, WampError,
};

/// Every step gets this long: the tests wait on Python peers as well.
const LIMIT: Duration = Duration::from_secs(60);

async fn within<T>(what: &str, future: impl IntoFuture<Output = T>) -> T {
    e2e::within_for(LIMIT, what, future).await
}

async fn connect(serializer: Serializer) -> Session {
    e2e::connect_for(LIMIT, &e2e::router_url(), serializer).await
}

/// Values whose types must survive Rust → router → Python → router → Rust.
fn tricky_args() -> Vec<Value> {
    vec![
        Value::from(-7),
        Value::from(-9_007_199_254_740_991i64),
        Value::from(2.5),
        Value::from(-0.125),
        Value::from("zwölf ✓ 日本"),
        Value::Bytes(vec![0, 1, 2, 254, 255]),
        Value::List(vec![Value::from(1), Value::Null, Value::Bool(true)]),
        Value::Dict(Dict::from([("k".to_owned(), Value::from(-1))])),
    ]
}

/// The same values in peer.py's JSON convention (`{"$bytes": base64}` for bytes).
fn tricky_args_json() -> Json {
    json!([-7, -9_007_199_254_740_991i64, 2.5, -0.125, "zwölf ✓ 日本", {"$bytes": "AAEC/v8="}, [1, null, true], {"k": -1}])
}

async fn python_callee_called_from_rust(serializer: Serializer) {
    let prefix = format!("com.interop.py.{serializer}");
    let _callee = python_ready(vec![
        "--serializer".into(),
        serializer.name().into(),
        "callee".into(),
        "--prefix".into(),
        prefix.clone(),
    ])
    .await;
    let session = connect(serializer).await;

    // Echo: every value comes back with its type.
    let kwargs = Dict::from([
        ("blob".to_owned(), Value::Bytes(vec![9, 8, 7])),
        ("ratio".to_owned(), Value::from(-1.25)),
    ]);
    let result = within(
        "echo",
        session
            .call(format!("{prefix}.echo"), tricky_args())
            .kwargs(&kwargs),
    )
    .await
    .unwrap();
    assert_eq!(result.arguments().args, tricky_args());
    assert_eq!(result.arguments().kwargs, kwargs);

    // Python sees native types: int, float, str, bytes (not a list of ints, not a string).
    let described = within(
        "describe",
        session
            .call(format!("{prefix}.describe"), tricky_args())
            .kwarg("blob", Value::Bytes(vec![1])),
    )
    .await
    .unwrap();
    let described: Json = described.arg(0).unwrap();
    assert_eq!(
        described["args"],
        json!([
            "int", "int", "float", "float", "str", "bytes", "list", "dict"
        ])
    );
    assert_eq!(described["kwargs"]["blob"], "bytes");

    // Positional and keyword calls of the same procedure.
    let sum: i64 = within("add", session.call(format!("{prefix}.add"), (2, -5)))
        .await
        .unwrap()
        .arg(0)
        .unwrap();
    assert_eq!(sum, -3);
    let sum: f64 = within(
        "add kwargs",
        session
            .call(format!("{prefix}.add"), ())
            .kwargs(json!({"a": 0.5, "b": -2})),
    )
    .await
    .unwrap()
    .arg(0)
    .unwrap();
    assert_eq!(sum, -1.5);

    // An ApplicationError raised in Python arrives typed.
    match within("fail", session.call(format!("{prefix}.fail"), ())).await {
        Err(Error::Wamp(e)) => {
            assert_eq!(e.uri, "com.interop.error.failed");
            assert_eq!(e.args::<(String, i64)>().unwrap(), ("it failed".into(), 42));
            assert_eq!(e.kwargs.get("reason"), Some(&Value::from("because")));
        }
        other => panic!("expected the Python error, got {other:?}"),
    }
}

async fn rust_callee_called_from_python(serializer: Serializer) {
    let prefix = format!("com.interop.rs.{serializer}");
    let session = connect(serializer).await;
    let _echo = within(
        "register echo",
        session.register(format!("{prefix}.echo"), |inv: Invocation| async move {
            Ok(inv.arguments())
        }),
    )
    .await
    .unwrap();
    let _add = within(
        "register add",
        session.register(format!("{prefix}.add"), |inv: Invocation| async move {
            // Accept add(a, b) and add(a=.., b=..), as a Python callee would.
            let (a, b): (i64, i64) = if inv.arg_count() == 0 {
                (inv.kwarg("a")?, inv.kwarg("b")?)
            } else {
                inv.args()?
            };
            Ok(Arguments::single(a + b)?)
        }),
    )
    .await
    .unwrap();
    let _fail = within(
        "register fail",
        session.register(format!("{prefix}.fail"), |_inv: Invocation| async move {
            Err(
                WampError::with_message("com.interop.error.rust", "rust says no")
                    .with_args(("rust says no", -3))
                    .with_kwargs(Dict::from([("bytes".to_owned(), Value::Bytes(vec![1, 2]))])),
            )
        }),
    )
    .await
    .unwrap();
    let ser = serializer.name().to_owned();

    let echoed = python_json(vec![
        "--serializer".into(),
        ser.clone(),
        "call".into(),
        format!("{prefix}.echo"),
        "--args".into(),
        tricky_args_json().to_string(),
        "--kwargs".into(),
        json!({"blob": {"$bytes": "CQgH"}, "neg": -1}).to_string(),
    ])
    .await;
    assert_eq!(echoed["args"], tricky_args_json());
    assert_eq!(
        echoed["kwargs"],
        json!({"blob": {"$bytes": "CQgH"}, "neg": -1})
    );

    let positional = python_json(vec![
        "--serializer".into(),
        ser.clone(),
        "call".into(),
        format!("{prefix}.add"),
        "--args".into(),
        "[2, -5]".into(),
    ])
    .await;
    assert_eq!(positional["args"], json!([-3]));
    let keyword = python_json(vec![
        "--serializer".into(),
        ser.clone(),
        "call".into(),
        format!("{prefix}.add"),
        "--kwargs".into(),
        r#"{"a": 40, "b": 2}"#.into(),
    ])
    .await;
    assert_eq!(keyword["args"], json!([42]));

    // Wrong argument types: the Rust callee answers invalid_argument, which Python receives.
    let wrong = python_json(vec![
        "--serializer".into(),
        ser.clone(),
        "call".into(),
        format!("{prefix}.add"),
        "--args".into(),
        r#"["two", 3]"#.into(),
    ])
    .await;
    assert_eq!(wrong["error"], "wamp.error.invalid_argument");

    // A Rust error arrives in Python with its URI, args and kwargs.
    let failed = python_json(vec![
        "--serializer".into(),
        ser,
        "call".into(),
        format!("{prefix}.fail"),
    ])
    .await;
    assert_eq!(failed["error"], "com.interop.error.rust");
    assert_eq!(failed["args"], json!(["rust says no", -3]));
    assert_eq!(failed["kwargs"], json!({"bytes": {"$bytes": "AQI="}}));
}

async fn events_both_ways(serializer: Serializer) {
    let ser = serializer.name().to_owned();
    let session = connect(serializer).await;

    // Rust publishes, Python subscribes.
    let to_python = format!("com.interop.events.{ser}.to_python");
    let subscriber = python_ready(vec![
        "--serializer".into(),
        ser.clone(),
        "subscribe".into(),
        to_python.clone(),
        "--count".into(),
        "1".into(),
    ])
    .await;
    within(
        "publish",
        session
            .publish(&to_python, tricky_args())
            .kwarg("blob", Value::Bytes(vec![9, 8, 7]))
            .acknowledge(),
    )
    .await
    .unwrap();
    let (_subscriber, event) = python_line(subscriber).await;
    assert_eq!(event["topic"], Json::from(to_python));
    assert_eq!(event["args"], tricky_args_json());
    assert_eq!(event["kwargs"], json!({"blob": {"$bytes": "CQgH"}}));
    assert_eq!(event["publisher"], json!(session.id()));

    // Python publishes, Rust subscribes.
    let to_rust = format!("com.interop.events.{ser}.to_rust");
    let mut events = within("subscribe", session.subscribe(&to_rust))
        .await
        .unwrap();
    let published = python_run(vec![
        "--serializer".into(),
        ser,
        "publish".into(),
        to_rust.clone(),
        "--args".into(),
        tricky_args_json().to_string(),
        "--kwargs".into(),
        r#"{"n": -3, "x": 0.5}"#.into(),
    ])
    .await;
    assert!(published.contains("published"), "{published}");
    let event = within("event", events.next()).await.expect("an event");
    assert_eq!(event.topic, to_rust);
    assert_eq!(event.arguments().args, tricky_args());
    assert_eq!(event.kwarg::<i64>("n").unwrap(), -3);
    assert_eq!(event.kwarg::<f64>("x").unwrap(), 0.5);
    assert!(event.publisher().is_some());
}

testkit::per_serializer!(
    python_callee_called_from_rust,
    rust_callee_called_from_python,
    events_both_ways,
);

#[tokio::test]
async fn error_uris_from_python_map_to_variants() {
    // A router-generated error seen through a Python caller and a Rust caller alike.
    let session = connect(Serializer::Json).await;
    let err = within("missing", session.call("com.interop.nobody.home", ()))
        .await
        .unwrap_err();
    assert_eq!(err.uri(), Some(&ErrorUri::NoSuchProcedure));
    let python = python_json(vec!["call".into(), "com.interop.nobody.home".into()]).await;
    assert_eq!(python["error"], "wamp.error.no_such_procedure");
}
