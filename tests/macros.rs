//! End-to-end tests of the code `#[service]` and `#[derive(ApplicationError)]` generate, against
//! the router under test and Autobahn|Python peers, for every serializer: typed stubs calling a
//! macro-registered service, Python calling it (positional and keyword arguments, bad payloads),
//! stubs calling a Python callee, typed subscribers and publishers, and unregistration.
//!
//! A `#[service]` trait fixes its URIs at compile time, but the tests share one router and run
//! in parallel: each contract is therefore instantiated once per test and serializer, from a
//! `macro_rules!` template, under its own URI prefix.
#![cfg(test)] // clippy.toml's allow-*-in-tests then reaches the helpers too (rust-clippy#13981)

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::future::IntoFuture;
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value as Json, json};
use testkit::PythonPeer;
use testkit::e2e::{self, python_json, python_line, python_ready, python_run};
use tokio::sync::mpsc;
use wampkit::{ApplicationError, CallError, Error, ErrorUri, Serializer, Session, Value};

/// Every await gets this long; a hang fails the test instead of CI.
const LIMIT: Duration = Duration::from_secs(60);

/// How long a test waits to be sure that something does *not* arrive.
const QUIET: Duration = Duration::from_millis(500);

async fn within<T>(what: &str, future: impl IntoFuture<Output = T>) -> T {
    e2e::within_for(LIMIT, what, future).await
}

async fn connect(serializer: Serializer) -> Session {
    e2e::connect_for(LIMIT, &e2e::router_url(), serializer).await
}

/// Starts `peer.py subscribe TOPIC --count 1` and waits until it is subscribed.
async fn python_subscriber(serializer: Serializer, topic: &str) -> PythonPeer {
    python_ready(vec![
        "--serializer".into(),
        serializer.name().into(),
        "subscribe".into(),
        topic.into(),
        "--count".into(),
        "1".into(),
    ])
    .await
}

/// Calls `procedure` from Autobahn|Python; returns `{"args", "kwargs"}` or `{"error", ...}`.
async fn py_call(serializer: Serializer, procedure: &str, args: Json, kwargs: Json) -> Json {
    python_json(vec![
        "--serializer".into(),
        serializer.name().into(),
        "call".into(),
        procedure.into(),
        "--args".into(),
        args.to_string(),
        "--kwargs".into(),
        kwargs.to_string(),
    ])
    .await
}

/// Publishes one event from Autobahn|Python (acknowledged).
async fn py_publish(serializer: Serializer, topic: &str, args: Json, kwargs: Json) {
    let out = python_run(vec![
        "--serializer".into(),
        serializer.name().into(),
        "publish".into(),
        topic.into(),
        "--args".into(),
        args.to_string(),
        "--kwargs".into(),
        kwargs.to_string(),
    ])
    .await;
    assert!(out.contains("published"), "{out}");
}

/// A message that must mention every one of `needles` (the parameter's name, typically).
fn assert_mentions(message: &str, needles: &[&str]) {
    for needle in needles {
        assert!(
            message.contains(needle),
            "message {message:?} should mention {needle:?}"
        );
    }
}

/// A Python call result that must be `wamp.error.invalid_argument` whose message mentions
/// every one of `needles`.
fn assert_invalid_argument(reply: &Json, needles: &[&str]) {
    assert_eq!(reply["error"], "wamp.error.invalid_argument", "{reply}");
    assert_mentions(reply["args"][0].as_str().unwrap_or_default(), needles);
}

/// A raw (untyped) call result that must be `wamp.error.invalid_argument` whose message
/// mentions every one of `needles`.
fn assert_raw_invalid_argument<T: Debug>(result: wampkit::Result<T>, needles: &[&str]) {
    match result {
        Err(Error::Wamp(e)) => {
            assert_eq!(e.uri, ErrorUri::InvalidArgument, "{e}");
            assert_mentions(e.message().unwrap_or_default(), needles);
        }
        other => panic!("expected invalid_argument, got {other:?}"),
    }
}

/// A stub call that must fail with an undeclared `wamp.error.no_such_procedure`.
fn assert_no_such_procedure<T: Debug, E: Debug>(what: &str, result: Result<T, CallError<E>>) {
    match result {
        Err(CallError::Other(Error::Wamp(e))) => {
            assert_eq!(e.uri, ErrorUri::NoSuchProcedure, "{what}: {e}")
        }
        other => panic!("{what}: expected no_such_procedure, got {other:?}"),
    }
}

/// The next value a handler forwarded.
async fn received<T>(rx: &mut mpsc::UnboundedReceiver<T>) -> T {
    within("a forwarded event", rx.recv())
        .await
        .expect("the handler is alive")
}

/// Checks that nothing arrives for a while.
async fn assert_quiet<T: Debug>(what: &str, rx: &mut mpsc::UnboundedReceiver<T>) {
    if let Ok(Some(value)) = tokio::time::timeout(QUIET, rx.recv()).await {
        panic!("{what}: nothing should have arrived, got {value:?}");
    }
}

/// The router's id of the registration of `procedure` (`wamp.registration.lookup`), if any.
async fn registration_of(session: &Session, procedure: &str) -> Option<u64> {
    within(
        "wamp.registration.lookup",
        session.call("wamp.registration.lookup", (procedure,)),
    )
    .await
    .unwrap()
    .arg::<Option<u64>>(0)
    .unwrap()
}

/// The router's id of the subscription to `topic` (`wamp.subscription.lookup`), if any.
async fn subscription_of(session: &Session, topic: &str) -> Option<u64> {
    within(
        "wamp.subscription.lookup",
        session.call("wamp.subscription.lookup", (topic,)),
    )
    .await
    .unwrap()
    .arg::<Option<u64>>(0)
    .unwrap()
}

// -------------------------------------------------------------------------------------------
// Types shared by the contracts
// -------------------------------------------------------------------------------------------

/// Bytes that travel as a WAMP binary value (a plain `Vec<u8>` would be a list of numbers).
#[derive(Debug, Clone, PartialEq)]
pub struct Blob(pub Vec<u8>);

impl Serialize for Blob {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Blob, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Blob;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E>(self, v: &[u8]) -> Result<Blob, E> {
                Ok(Blob(v.to_vec()))
            }
            fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Blob, E> {
                Ok(Blob(v))
            }
        }
        d.deserialize_byte_buf(Visitor)
    }
}

/// The bytes the tests send: both ends of the byte range.
fn blob() -> Blob {
    Blob(vec![0, 1, 2, 254, 255])
}

/// [`blob`] in peer.py's JSON convention.
fn blob_json() -> Json {
    json!({"$bytes": "AAEC/v8="})
}

/// Text beyond ASCII, including a character outside the Basic Multilingual Plane.
const UNICODE: &str = "zwölf ✓ 日本 🦀";

/// The errors the calculator declares: one unit, one tuple and one named-fields variant.
#[derive(Debug, Clone, PartialEq, ApplicationError)]
pub enum CalcError {
    /// `b` was zero.
    #[wamp(
        uri = "com.macros.error.division_by_zero",
        message = "division by zero"
    )]
    DivisionByZero,
    /// An argument outside the domain: the value and why.
    #[wamp(uri = "com.macros.error.out_of_range")]
    OutOfRange(i64, String),
    /// An empty input where values were needed.
    #[wamp(uri = "com.macros.error.empty")]
    Empty {
        /// What was empty.
        what: String,
        /// How many values there were.
        count: u32,
    },
}

/// A struct result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// How many values.
    pub count: u64,
    /// The smallest.
    pub min: f64,
    /// The largest.
    pub max: f64,
    /// The mean.
    pub mean: f64,
}

/// A struct travelling as keyword arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// A name.
    pub name: String,
    /// A signed level.
    pub level: i64,
    /// A ratio.
    pub ratio: f64,
    /// Optional: `null` or absent reads as `None`.
    #[serde(default)]
    pub verbose: Option<bool>,
}

fn settings() -> Settings {
    Settings {
        name: UNICODE.into(),
        level: -3,
        ratio: 0.125,
        verbose: Some(true),
    }
}

/// The calculator implementation every calculator contract instance is implemented for.
#[derive(Default)]
pub struct Calculator {
    notes: Mutex<Vec<String>>,
}

fn stats_of(values: &[f64]) -> Option<Stats> {
    if values.is_empty() {
        return None;
    }
    Some(Stats {
        count: values.len() as u64,
        min: values.iter().copied().fold(f64::INFINITY, f64::min),
        max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        mean: values.iter().sum::<f64>() / values.len() as f64,
    })
}

// -------------------------------------------------------------------------------------------
// 1, 2. A macro-registered service, called through its stub and from Python
// -------------------------------------------------------------------------------------------

/// Defines, in the current module, the calculator contract `Calc` with all its procedures under
/// `$prefix`, and implements it for [`Calculator`].
macro_rules! calc_contract {
    ($prefix:literal) => {
        #[allow(unused_imports)]
        use crate::*;
        use wampkit::{InvocationDetails, service};

        /// The URI prefix of this instance of the contract.
        pub const PREFIX: &str = $prefix;

        /// `PREFIX.name`.
        pub fn uri(name: &str) -> String {
            format!("{PREFIX}.{name}")
        }

        /// A calculator exercising every kind of parameter and result.
        #[service(prefix = $prefix)]
        pub trait Calc {
            /// Adds two integers.
            async fn add(&self, a: i64, b: i64) -> i64;

            /// Divides `a` by `b`; fails with a unit variant.
            async fn div(&self, a: f64, b: f64) -> Result<f64, CalcError>;

            /// `n!` for `0 <= n <= 20`; fails with a tuple variant.
            async fn factorial(&self, n: i64) -> Result<i64, CalcError>;

            /// Sums a list.
            async fn sum(&self, values: Vec<f64>) -> f64;

            /// The mean of a non-empty list; fails with a named-fields variant.
            async fn mean(&self, values: Vec<f64>) -> Result<f64, CalcError>;

            /// Statistics of a non-empty list: a struct result.
            async fn stats(&self, values: Vec<f64>) -> Result<Stats, CalcError>;

            /// Remembers a note: no result, a side effect.
            async fn remember(&self, note: String);

            /// The notes remembered so far.
            async fn notes(&self) -> Vec<String>;

            /// Who called, and which procedure.
            async fn whoami(&self, details: InvocationDetails) -> (Option<u64>, String);

            /// `value * factor`; the stub sends keyword arguments.
            #[wamp(kwargs)]
            async fn scale(&self, value: f64, factor: f64) -> f64;

            /// Returns the settings it was given as keyword arguments.
            async fn configure(&self, #[wamp(kwargs)] settings: Settings) -> Settings;

            /// A greeting; `greeting` may be left out.
            async fn greet(&self, name: String, greeting: Option<String>) -> String;

            /// Returns its arguments.
            async fn echo(
                &self,
                text: String,
                blob: Blob,
                n: i64,
                x: f64,
            ) -> (String, Blob, i64, f64);
        }

        impl Calc for Calculator {
            async fn add(&self, a: i64, b: i64) -> i64 {
                a + b
            }

            async fn div(&self, a: f64, b: f64) -> Result<f64, CalcError> {
                if b == 0.0 {
                    return Err(CalcError::DivisionByZero);
                }
                Ok(a / b)
            }

            async fn factorial(&self, n: i64) -> Result<i64, CalcError> {
                if !(0..=20).contains(&n) {
                    return Err(CalcError::OutOfRange(n, "n must be in 0..=20".into()));
                }
                Ok((1..=n).product())
            }

            async fn sum(&self, values: Vec<f64>) -> f64 {
                values.iter().sum()
            }

            async fn mean(&self, values: Vec<f64>) -> Result<f64, CalcError> {
                stats_of(&values).map(|s| s.mean).ok_or(CalcError::Empty {
                    what: "values".into(),
                    count: 0,
                })
            }

            async fn stats(&self, values: Vec<f64>) -> Result<Stats, CalcError> {
                stats_of(&values).ok_or(CalcError::Empty {
                    what: "values".into(),
                    count: 0,
                })
            }

            async fn remember(&self, note: String) {
                self.notes.lock().unwrap().push(note);
            }

            async fn notes(&self) -> Vec<String> {
                self.notes.lock().unwrap().clone()
            }

            async fn whoami(&self, details: InvocationDetails) -> (Option<u64>, String) {
                (details.caller, details.procedure)
            }

            async fn scale(&self, value: f64, factor: f64) -> f64 {
                value * factor
            }

            async fn configure(&self, settings: Settings) -> Settings {
                settings
            }

            async fn greet(&self, name: String, greeting: Option<String>) -> String {
                format!("{}, {name}!", greeting.as_deref().unwrap_or("Hello"))
            }

            async fn echo(
                &self,
                text: String,
                blob: Blob,
                n: i64,
                x: f64,
            ) -> (String, Blob, i64, f64) {
                (text, blob, n, x)
            }
        }
    };
}

/// The tests of the calculator called through its generated stub `CalcClient`.
macro_rules! rust_caller_tests {
    ($prefix:literal) => {
        #[tokio::test]
        async fn typed_results_and_errors() {
            let callee = connect(super::SERIALIZER).await;
            let caller = connect(super::SERIALIZER).await;
            let calc = CalcClient::new(&caller);

            // Not registered yet: undeclared errors, even for a procedure declaring errors.
            assert_no_such_procedure("add", within("add", calc.add(1, 2)).await);
            assert_no_such_procedure("div", within("div", calc.div(1.0, 0.0)).await);

            let _service = within(
                "register",
                CalcService::register(&callee, Calculator::default()),
            )
            .await
            .unwrap();
            assert_eq!(CalcService::PROCEDURES.len(), 13);
            assert!(CalcService::PROCEDURES.contains(&uri("whoami").as_str()));
            assert!(CalcService::TOPICS.is_empty());

            // Typed results.
            assert_eq!(within("add", calc.add(2, -5)).await.unwrap(), -3);
            assert_eq!(
                within("add big", calc.add(-9_007_199_254_740_991, i64::MIN / 2))
                    .await
                    .unwrap(),
                -9_007_199_254_740_991 + i64::MIN / 2
            );
            assert_eq!(within("div", calc.div(7.0, -2.0)).await.unwrap(), -3.5);
            assert_eq!(
                within("factorial", calc.factorial(20)).await.unwrap(),
                2_432_902_008_176_640_000
            );
            assert_eq!(
                within("sum", calc.sum(vec![1.5, -2.25, 1e300]))
                    .await
                    .unwrap(),
                1.5 - 2.25 + 1e300
            );
            assert_eq!(within("sum []", calc.sum(vec![])).await.unwrap(), 0.0);
            assert_eq!(
                within("mean", calc.mean(vec![-1.5, 2.0])).await.unwrap(),
                0.25
            );
            let values = vec![-1.25, 2.5, 4.75, -0.1];
            assert_eq!(
                within("stats", calc.stats(values.clone())).await.unwrap(),
                stats_of(&values).unwrap()
            );

            // Typed errors: unit (with its message), tuple and named-fields variants.
            match within("div by 0", calc.div(1.0, 0.0)).await {
                Err(CallError::Application(CalcError::DivisionByZero)) => {}
                other => panic!("expected DivisionByZero, got {other:?}"),
            }
            let raw = within("raw div by 0", caller.call(uri("div"), (1.0, 0.0)))
                .await
                .unwrap_err();
            let raw = raw.as_wamp().unwrap();
            assert_eq!(raw.uri.as_str(), "com.macros.error.division_by_zero");
            assert_eq!(raw.message(), Some("division by zero"));
            match within("factorial(-3)", calc.factorial(-3)).await {
                Err(CallError::Application(CalcError::OutOfRange(n, why))) => {
                    assert_eq!((n, why.as_str()), (-3, "n must be in 0..=20"))
                }
                other => panic!("expected OutOfRange, got {other:?}"),
            }
            match within("mean []", calc.mean(vec![])).await {
                Err(CallError::Application(e)) => assert_eq!(
                    e,
                    CalcError::Empty {
                        what: "values".into(),
                        count: 0
                    }
                ),
                other => panic!("expected Empty, got {other:?}"),
            }
            let err = within("stats []", calc.stats(vec![])).await.unwrap_err();
            assert!(
                matches!(err.application(), Some(CalcError::Empty { count: 0, .. })),
                "{err:?}"
            );

            // `()` results, with side effects visible to later calls.
            within("remember", calc.remember("first".into()))
                .await
                .unwrap();
            within("remember unicode", calc.remember(UNICODE.into()))
                .await
                .unwrap();
            assert_eq!(
                within("notes", calc.notes()).await.unwrap(),
                vec!["first".to_owned(), UNICODE.to_owned()]
            );

            // InvocationDetails: the caller's session and the procedure.
            assert_eq!(
                within("whoami", calc.whoami()).await.unwrap(),
                (Some(caller.id()), uri("whoami"))
            );

            // A keyword-argument stub, and a keyword-argument struct parameter.
            assert_eq!(within("scale", calc.scale(2.5, -2.0)).await.unwrap(), -5.0);
            assert_eq!(
                within("configure", calc.configure(settings()))
                    .await
                    .unwrap(),
                settings()
            );
            let quiet = Settings {
                verbose: None,
                ..settings()
            };
            assert_eq!(
                within("configure None", calc.configure(quiet.clone()))
                    .await
                    .unwrap(),
                quiet
            );

            // An optional parameter.
            assert_eq!(
                within("greet", calc.greet("Ada".into(), None))
                    .await
                    .unwrap(),
                "Hello, Ada!"
            );
            assert_eq!(
                within("greet 2", calc.greet("Ada".into(), Some("Servus".into())))
                    .await
                    .unwrap(),
                "Servus, Ada!"
            );

            // Negative numbers, floats, unicode and bytes survive both ways.
            for (n, x) in [(i64::MIN, -0.1), (i64::MAX, 1e-300), (-1, -2.5e300)] {
                let echoed = within("echo", calc.echo(UNICODE.into(), blob(), n, x))
                    .await
                    .unwrap();
                assert_eq!(echoed, (UNICODE.to_owned(), blob(), n, x));
            }
            let empty = within("echo empty", calc.echo(String::new(), Blob(vec![]), 0, 0.5))
                .await
                .unwrap();
            assert_eq!(empty, (String::new(), Blob(vec![]), 0, 0.5));

            // Payloads that do not fit (sent untyped): invalid_argument naming the parameter.
            assert_raw_invalid_argument(
                within("add(\"two\", 3)", caller.call(uri("add"), ("two", 3))).await,
                &[$prefix, "`a`"],
            );
            assert_raw_invalid_argument(
                within(
                    "echo with a string for bytes",
                    caller.call(uri("echo"), ("t", "AAEC", 1, 0.5)),
                )
                .await,
                &["`blob`"],
            );
            assert_raw_invalid_argument(
                within("factorial(2.5)", caller.call(uri("factorial"), (2.5,))).await,
                &["`n`"],
            );
            // The struct parameter takes keyword arguments only.
            assert_raw_invalid_argument(
                within(
                    "configure positionally",
                    caller.call(uri("configure"), ("x", 1, 0.5)),
                )
                .await,
                &["keyword arguments only"],
            );
        }
    };
}

/// The tests of the calculator called by Autobahn|Python.
macro_rules! python_caller_tests {
    ($prefix:literal) => {
        #[tokio::test]
        async fn called_from_python() {
            let serializer = super::SERIALIZER;
            let callee = connect(serializer).await;
            let _service = within(
                "register",
                CalcService::register(&callee, Calculator::default()),
            )
            .await
            .unwrap();
            let call = |name: &str, args: Json, kwargs: Json| {
                let procedure = uri(name);
                async move { py_call(serializer, &procedure, args, kwargs).await }
            };

            // Positional, keyword and mixed arguments bind like a Python callee's.
            let reply = call("add", json!([2, -5]), json!({})).await;
            assert_eq!(reply, json!({"args": [-3], "kwargs": {}}));
            let reply = call("add", json!([]), json!({"a": 2, "b": 3})).await;
            assert_eq!(reply, json!({"args": [5], "kwargs": {}}));
            let reply = call("add", json!([40]), json!({"b": 2})).await;
            assert_eq!(reply["args"], json!([42]));
            let reply = call("greet", json!(["Ada"]), json!({})).await;
            assert_eq!(reply["args"], json!(["Hello, Ada!"]));
            let reply = call("scale", json!([]), json!({"value": 2.5, "factor": -2.0})).await;
            assert_eq!(reply["args"], json!([-5.0]));

            // A keyword-argument struct; a struct result.
            let reply = call(
                "configure",
                json!([]),
                json!({"name": UNICODE, "level": -3, "ratio": 0.125}),
            )
            .await;
            assert_eq!(
                reply["args"],
                json!([{"name": UNICODE, "level": -3, "ratio": 0.125, "verbose": null}])
            );
            let reply = call("stats", json!([[-1.25, 2.5, 4.75]]), json!({})).await;
            assert_eq!(
                reply["args"],
                json!([{"count": 3, "min": -1.25, "max": 4.75, "mean": 2.0}])
            );

            // `()`: an empty result, and the side effect is visible afterwards.
            let reply = call("remember", json!([UNICODE]), json!({})).await;
            assert_eq!(reply, json!({"args": [], "kwargs": {}}));
            let reply = call("notes", json!([]), json!({})).await;
            assert_eq!(reply["args"], json!([[UNICODE]]));

            // InvocationDetails sees the Python caller and the procedure.
            let reply = call("whoami", json!([]), json!({})).await;
            assert!(reply["args"][0][0].is_u64(), "{reply}");
            assert_eq!(reply["args"][0][1], json!(uri("whoami")));

            // Values survive: negative numbers, floats, unicode, bytes.
            let reply = call(
                "echo",
                json!([UNICODE, blob_json(), -9_007_199_254_740_991i64, -0.1]),
                json!({}),
            )
            .await;
            assert_eq!(
                reply["args"],
                json!([[UNICODE, blob_json(), -9_007_199_254_740_991i64, -0.1]])
            );

            // Typed errors arrive with their URI, args and kwargs.
            let reply = call("div", json!([1.0, 0.0]), json!({})).await;
            assert_eq!(
                reply,
                json!({
                    "error": "com.macros.error.division_by_zero",
                    "args": ["division by zero"],
                    "kwargs": {},
                })
            );
            let reply = call("factorial", json!([-3]), json!({})).await;
            assert_eq!(
                reply,
                json!({
                    "error": "com.macros.error.out_of_range",
                    "args": [-3, "n must be in 0..=20"],
                    "kwargs": {},
                })
            );
            let reply = call("mean", json!([[]]), json!({})).await;
            assert_eq!(
                reply,
                json!({
                    "error": "com.macros.error.empty",
                    "args": [],
                    "kwargs": {"what": "values", "count": 0},
                })
            );

            // A wrong payload: invalid_argument naming the parameter.
            let reply = call("echo", json!(["t", 42, 1, 0.5]), json!({})).await;
            assert_invalid_argument(&reply, &[$prefix, "`blob`"]);
        }

    };
}

/// Wrong payloads from Python, answered with `wamp.error.invalid_argument` and a message that
/// names the parameter. How arguments bind does not depend on the serializer: JSON only.
#[allow(dead_code)] // the test uses the generated service, not the client
mod bad_payloads {
    calc_contract!("com.macros.bad_payloads");

    #[tokio::test]
    async fn answered_with_invalid_argument() {
        let serializer = Serializer::Json;
        let callee = connect(serializer).await;
        let _service = within(
            "register",
            CalcService::register(&callee, Calculator::default()),
        )
        .await
        .unwrap();
        let call = |name: &str, args: Json, kwargs: Json| {
            let procedure = uri(name);
            async move { py_call(serializer, &procedure, args, kwargs).await }
        };

        let reply = call("add", json!([1]), json!({})).await;
        assert_invalid_argument(
            &reply,
            &["com.macros.bad_payloads.add", "missing argument `b`"],
        );
        let reply = call("add", json!([]), json!({"a": 1})).await;
        assert_invalid_argument(&reply, &["missing argument `b`"]);
        let reply = call("add", json!(["two", 3]), json!({})).await;
        assert_invalid_argument(&reply, &["argument `a`"]);
        let reply = call("add", json!([1]), json!({"b": "three"})).await;
        assert_invalid_argument(&reply, &["argument `b`"]);
        let reply = call("add", json!([1, 2, 3]), json!({})).await;
        assert_invalid_argument(&reply, &["at most 2 positional arguments", "a, b", "got 3"]);
        let reply = call("add", json!([]), json!({"a": 1, "b": 2, "c": 3})).await;
        assert_invalid_argument(&reply, &["unexpected keyword argument `c`"]);
        let reply = call("add", json!([1, 2]), json!({"a": 1})).await;
        assert_invalid_argument(&reply, &["`a`", "both"]);
        let reply = call("sum", json!(["1, 2"]), json!({})).await;
        assert_invalid_argument(&reply, &["argument `values`"]);
        let reply = call("greet", json!([]), json!({"greeting": "Hi"})).await;
        assert_invalid_argument(&reply, &["missing argument `name`"]);
        let reply = call("whoami", json!([1]), json!({})).await;
        assert_invalid_argument(&reply, &["positional"]);
        let reply = call("configure", json!(["x", 1, 0.5]), json!({})).await;
        assert_invalid_argument(&reply, &["keyword arguments only"]);
        let reply = call("configure", json!([]), json!({"name": "x", "ratio": 0.5})).await;
        assert_invalid_argument(&reply, &["`settings`", "level"]);

        // The service still answers.
        let reply = call("add", json!([1, 2]), json!({})).await;
        assert_eq!(reply["args"], json!([3]));
    }
}

/// The same for a keyword-argument struct parameter.
#[allow(dead_code)] // the test uses the generated service, not the client
mod bad_kwargs_struct_payloads {
    calc_contract!("com.macros.bad_kwargs_struct_payloads");

    /// A wrong type inside a keyword-argument struct: the message should name the keyword
    /// argument, as it does for plain parameters ("argument `level`: invalid type ...").
    #[tokio::test]
    async fn kwargs_struct_errors_name_the_field() {
        let callee = connect(Serializer::Json).await;
        let service = CalcService::register(&callee, Calculator::default());
        let _service = within("register", service).await.unwrap();
        let reply = py_call(
            Serializer::Json,
            &uri("configure"),
            json!([]),
            json!({"name": "x", "level": "high", "ratio": 0.5}),
        )
        .await;
        // Today: "...configure: keyword arguments (`settings`): invalid type: string \"high\",
        // expected i64", which does not say which keyword argument is wrong.
        assert_invalid_argument(&reply, &["`settings`", "level"]);
    }
}

// -------------------------------------------------------------------------------------------
// 3. A Python callee called through generated stubs
// -------------------------------------------------------------------------------------------

/// What peer.py's `describe` answers: the Python type names of the arguments.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Description {
    /// Type names of the positional arguments.
    pub args: Vec<String>,
    /// Type names of the keyword arguments.
    pub kwargs: BTreeMap<String, String>,
}

/// The error peer.py's `fail` raises, mapped to a typed variant.
#[derive(Debug, Clone, PartialEq, ApplicationError)]
pub enum InteropError {
    /// `ApplicationError("com.interop.error.failed", "it failed", 42, reason="because")`.
    #[wamp(uri = "com.interop.error.failed")]
    Failed(String, i64),
}

/// The same URI with a payload that does not fit: not recognised.
#[derive(Debug, Clone, PartialEq, ApplicationError)]
pub enum MismatchedError {
    /// Expects a `code` keyword argument peer.py does not send.
    #[wamp(uri = "com.interop.error.failed")]
    Failed {
        /// Never sent.
        code: i64,
    },
}

/// Describes the procedures `peer.py callee --prefix $prefix` registers.
macro_rules! python_callee_contract {
    ($prefix:literal) => {
        #[allow(unused_imports)]
        use crate::*;
        use wampkit::service;

        /// The URI prefix of the Python callee.
        pub const PREFIX: &str = $prefix;

        /// peer.py's procedures, called positionally.
        #[service(prefix = $prefix)]
        pub trait Interop {
            /// Returns its arguments as positional results.
            async fn echo(
                &self,
                text: String,
                blob: Blob,
                n: i64,
                x: f64,
            ) -> (String, Blob, i64, f64);

            /// Adds two numbers.
            async fn add(&self, a: i64, b: i64) -> i64;

            /// Always fails with `com.interop.error.failed`.
            async fn fail(&self) -> Result<(), InteropError>;

            /// Python type names of the arguments.
            async fn describe(&self, n: i64, x: f64, text: String, blob: Blob) -> Description;
        }

        /// peer.py's procedures with errors the stub does not recognise.
        #[service(prefix = $prefix)]
        pub trait InteropMismatch {
            /// `fail`, expecting an error payload peer.py does not send.
            async fn fail(&self) -> Result<(), MismatchedError>;

            /// Not registered by peer.py.
            async fn missing(&self, n: i64) -> i64;
        }

        /// peer.py's procedures, called with keyword arguments.
        #[service(prefix = $prefix)]
        pub trait InteropKeywords {
            /// Adds two numbers, given by keyword.
            #[wamp(kwargs)]
            async fn add(&self, a: f64, b: f64) -> f64;

            /// Python type names of the keyword arguments.
            #[wamp(kwargs)]
            async fn describe(&self, n: i64, blob: Blob, text: String) -> Description;
        }

        /// peer.py's `describe`, called with a keyword-argument struct.
        #[service(prefix = $prefix)]
        pub trait InteropStruct {
            /// Python type names of the keyword arguments.
            async fn describe(&self, #[wamp(kwargs)] settings: Settings) -> Description;
        }
    };
}

/// The tests of the Python callee called through generated stubs.
macro_rules! python_callee_tests {
    () => {
        #[tokio::test]
        async fn called_through_stubs() {
            let serializer = super::SERIALIZER;
            let _callee = python_ready(vec![
                "--serializer".into(),
                serializer.name().into(),
                "callee".into(),
                "--prefix".into(),
                PREFIX.into(),
            ])
            .await;
            let session = connect(serializer).await;
            let interop = InteropClient::new(&session);

            // Several positional results decode into a tuple; values survive.
            for (n, x) in [(-7, -0.125), (i64::MIN, 1e300)] {
                let echoed = within("echo", interop.echo(UNICODE.into(), blob(), n, x))
                    .await
                    .unwrap();
                assert_eq!(echoed, (UNICODE.to_owned(), blob(), n, x));
            }
            assert_eq!(within("add", interop.add(2, -5)).await.unwrap(), -3);

            // Python sees native types; bytes are bytes.
            let described = within(
                "describe",
                interop.describe(-1, 0.5, UNICODE.into(), blob()),
            )
            .await
            .unwrap();
            assert_eq!(described.args, ["int", "float", "str", "bytes"]);
            assert!(described.kwargs.is_empty(), "{described:?}");

            // The Python ApplicationError arrives as the declared variant.
            match within("fail", interop.fail()).await {
                Err(CallError::Application(InteropError::Failed(message, code))) => {
                    assert_eq!((message.as_str(), code), ("it failed", 42))
                }
                other => panic!("expected InteropError::Failed, got {other:?}"),
            }

            // An error whose payload does not fit the declared variant is not that variant.
            let mismatch = InteropMismatchClient::new(&session);
            match within("fail mismatched", mismatch.fail()).await {
                Err(CallError::Other(Error::Wamp(e))) => {
                    assert_eq!(e.uri.as_str(), "com.interop.error.failed");
                    assert_eq!(
                        e.args::<(String, i64)>().unwrap(),
                        ("it failed".to_owned(), 42)
                    );
                    assert_eq!(e.kwargs.get("reason"), Some(&Value::from("because")));
                }
                other => panic!("expected an undeclared error, got {other:?}"),
            }
            assert_no_such_procedure("missing", within("missing", mismatch.missing(1)).await);

            // Keyword-argument stubs: Python receives keyword arguments only.
            let keywords = InteropKeywordsClient::new(&session);
            assert_eq!(
                within("add kw", keywords.add(0.5, -2.0)).await.unwrap(),
                -1.5
            );
            let described = within("describe kw", keywords.describe(-1, blob(), UNICODE.into()))
                .await
                .unwrap();
            assert!(described.args.is_empty(), "{described:?}");
            assert_eq!(
                described.kwargs,
                BTreeMap::from([
                    ("n".to_owned(), "int".to_owned()),
                    ("blob".to_owned(), "bytes".to_owned()),
                    ("text".to_owned(), "str".to_owned()),
                ])
            );
            let described = within(
                "describe struct",
                InteropStructClient::new(&session).describe(Settings {
                    verbose: None,
                    ..settings()
                }),
            )
            .await
            .unwrap();
            assert!(described.args.is_empty(), "{described:?}");
            assert_eq!(
                described.kwargs,
                BTreeMap::from([
                    ("name".to_owned(), "str".to_owned()),
                    ("level".to_owned(), "int".to_owned()),
                    ("ratio".to_owned(), "float".to_owned()),
                    ("verbose".to_owned(), "NoneType".to_owned()),
                ])
            );
        }
    };
}

// -------------------------------------------------------------------------------------------
// 4. Typed subscribers and publishers
// -------------------------------------------------------------------------------------------

/// What the subscriber services forward to the test.
#[derive(Debug, Clone, PartialEq)]
pub enum Received {
    /// `reading(sensor, value)`.
    Reading(String, f64),
    /// `note(text, blob)`, with the topic and publisher from its details.
    Note {
        /// The text.
        text: String,
        /// The bytes.
        blob: Blob,
        /// `EventDetails::topic`.
        topic: String,
        /// `EventDetails::publisher`.
        publisher: Option<u64>,
    },
    /// `settings(**settings)`.
    Settings(Settings),
    /// `count(n)` for `n >= 0`.
    Count(i64),
    /// `tick(n)`.
    Tick(u32),
}

/// A subscriber implementation: forwards every event it handles to the test.
pub struct Sink {
    tx: mpsc::UnboundedSender<Received>,
}

impl Sink {
    fn new() -> (Sink, mpsc::UnboundedReceiver<Received>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Sink { tx }, rx)
    }

    fn forward(&self, received: Received) {
        let _ = self.tx.send(received);
    }
}

/// Defines a subscriber contract `Feed`: events under `$prefix`, and one on the explicit
/// topic `$topic`.
macro_rules! feed_contract {
    ($prefix:literal, $topic:literal) => {
        #[allow(unused_imports)]
        use crate::*;
        use wampkit::{EventDetails, service};

        /// The URI prefix of this instance of the contract.
        pub const PREFIX: &str = $prefix;

        /// The explicit topic of `note`.
        pub const NOTE_TOPIC: &str = $topic;

        /// Typed events.
        #[service(prefix = $prefix)]
        pub trait Feed {
            /// A sensor reading (topic from the prefix, no details).
            #[wamp(event)]
            async fn reading(&self, sensor: String, value: f64);

            /// A note with bytes (explicit topic, with details).
            #[wamp(topic = $topic)]
            async fn note(&self, text: String, blob: Blob, details: EventDetails);

            /// Settings as keyword arguments.
            #[wamp(event)]
            async fn settings(&self, #[wamp(kwargs)] settings: Settings);

            /// A count; negative counts make the handler fail.
            #[wamp(event)]
            async fn count(&self, n: i64) -> Result<(), CalcError>;
        }

        impl Feed for Sink {
            async fn reading(&self, sensor: String, value: f64) {
                self.forward(Received::Reading(sensor, value));
            }

            async fn note(&self, text: String, blob: Blob, details: EventDetails) {
                self.forward(Received::Note {
                    text,
                    blob,
                    topic: details.topic,
                    publisher: details.publisher,
                });
            }

            async fn settings(&self, settings: Settings) {
                self.forward(Received::Settings(settings));
            }

            async fn count(&self, n: i64) -> Result<(), CalcError> {
                if n < 0 {
                    return Err(CalcError::OutOfRange(n, "negative".into()));
                }
                self.forward(Received::Count(n));
                Ok(())
            }
        }
    };
}

/// The tests of typed subscribers and publishers.
macro_rules! feed_tests {
    () => {
        #[tokio::test]
        async fn typed_subscribers() {
            let serializer = super::SERIALIZER;
            let subscriber = connect(serializer).await;
            let publisher = connect(serializer).await;
            let (sink, mut rx) = Sink::new();
            let service = within("register", FeedService::register(&subscriber, sink))
                .await
                .unwrap();
            let reading = format!("{PREFIX}.reading");
            let settings_topic = format!("{PREFIX}.settings");
            let count = format!("{PREFIX}.count");
            assert!(FeedService::PROCEDURES.is_empty());
            assert_eq!(
                FeedService::TOPICS,
                [
                    reading.as_str(),
                    NOTE_TOPIC,
                    settings_topic.as_str(),
                    count.as_str()
                ]
            );
            assert_eq!(service.subscriptions().len(), 4);
            assert!(service.registrations().is_empty());

            // From the generated typed publisher (another session: the router does not send a
            // publisher its own events).
            let feed = FeedClient::new(&publisher);
            within("publish reading", feed.reading(UNICODE.into(), -1.5))
                .await
                .unwrap();
            assert_eq!(
                received(&mut rx).await,
                Received::Reading(UNICODE.into(), -1.5)
            );
            within("publish note", feed.note("note".into(), blob()))
                .await
                .unwrap();
            assert_eq!(
                received(&mut rx).await,
                Received::Note {
                    text: "note".into(),
                    blob: blob(),
                    topic: NOTE_TOPIC.into(),
                    publisher: Some(publisher.id()),
                }
            );
            within("publish settings", feed.settings(settings()))
                .await
                .unwrap();
            assert_eq!(received(&mut rx).await, Received::Settings(settings()));
            within("publish count", feed.count(7)).await.unwrap();
            assert_eq!(received(&mut rx).await, Received::Count(7));

            // From Python: positional and keyword arguments, bytes.
            py_publish(serializer, &reading, json!(["py", 2.5]), json!({})).await;
            assert_eq!(
                received(&mut rx).await,
                Received::Reading("py".into(), 2.5)
            );
            py_publish(
                serializer,
                &reading,
                json!([]),
                json!({"sensor": "kw", "value": -0.25}),
            )
            .await;
            assert_eq!(
                received(&mut rx).await,
                Received::Reading("kw".into(), -0.25)
            );
            py_publish(
                serializer,
                NOTE_TOPIC,
                json!([UNICODE, blob_json()]),
                json!({}),
            )
            .await;
            match received(&mut rx).await {
                Received::Note {
                    text,
                    blob: bytes,
                    topic,
                    publisher: from,
                } => {
                    assert_eq!(
                        (text.as_str(), bytes, topic.as_str()),
                        (UNICODE, blob(), NOTE_TOPIC)
                    );
                    assert!(from.is_some() && from != Some(publisher.id()), "{from:?}");
                }
                other => panic!("expected a note, got {other:?}"),
            }
            py_publish(
                serializer,
                &settings_topic,
                json!([]),
                json!({"name": "py", "level": 9, "ratio": -0.5}),
            )
            .await;
            assert_eq!(
                received(&mut rx).await,
                Received::Settings(Settings {
                    name: "py".into(),
                    level: 9,
                    ratio: -0.5,
                    verbose: None,
                })
            );

            // Malformed events are dropped; the handlers live on and take the next good one.
            py_publish(
                serializer,
                &reading,
                json!(["bad", "not a number"]),
                json!({}),
            )
            .await;
            py_publish(serializer, &reading, json!(["extra", 1.0, "arg"]), json!({})).await;
            py_publish(
                serializer,
                &reading,
                json!([]),
                json!({"sensor": "x", "value": 1.0, "unknown": 1.0}),
            )
            .await;
            py_publish(serializer, NOTE_TOPIC, json!(["no bytes", 7]), json!({})).await;
            py_publish(serializer, &settings_topic, json!(["positional"]), json!({})).await;
            py_publish(serializer, &settings_topic, json!([]), json!({"name": "x"})).await;
            // A handler returning an error.
            within("publish count -1", feed.count(-1)).await.unwrap();
            py_publish(serializer, &reading, json!(["good", 1.0]), json!({})).await;
            assert_eq!(
                received(&mut rx).await,
                Received::Reading("good".into(), 1.0)
            );
            within("publish count", feed.count(8)).await.unwrap();
            assert_eq!(received(&mut rx).await, Received::Count(8));
            within("publish note", feed.note("again".into(), Blob(vec![])))
                .await
                .unwrap();
            assert!(
                matches!(received(&mut rx).await, Received::Note { text, .. } if text == "again")
            );
            within("publish settings", feed.settings(settings()))
                .await
                .unwrap();
            assert_eq!(received(&mut rx).await, Received::Settings(settings()));
            assert!(
                service.subscriptions().iter().all(|s| !s.is_finished()),
                "a handler task ended"
            );
            assert_quiet("after the good events", &mut rx).await;

            // A Python subscriber sees what the typed publisher sends.
            let python = python_subscriber(serializer, &reading).await;
            within("publish to python", feed.reading("to python".into(), 0.5))
                .await
                .unwrap();
            let (_python, event) = python_line(python).await;
            assert_eq!(event["args"], json!(["to python", 0.5]));
            assert_eq!(event["kwargs"], json!({}));
            assert_eq!(event["publisher"], json!(publisher.id()));
            assert_eq!(
                received(&mut rx).await,
                Received::Reading("to python".into(), 0.5)
            );
            let python = python_subscriber(serializer, &settings_topic).await;
            within("publish settings to python", feed.settings(settings()))
                .await
                .unwrap();
            let (_python, event) = python_line(python).await;
            assert_eq!(event["args"], json!([]));
            assert_eq!(
                event["kwargs"],
                json!({"name": UNICODE, "level": -3, "ratio": 0.125, "verbose": true})
            );
            assert_eq!(received(&mut rx).await, Received::Settings(settings()));
        }

    };
}

// -------------------------------------------------------------------------------------------
// 5. Unregistering a service, explicitly and by dropping its registration
// -------------------------------------------------------------------------------------------

/// Defines a small service with procedures and an event, for the unregistration tests.
macro_rules! lifecycle_contract {
    ($prefix:literal) => {
        #[allow(unused_imports)]
        use crate::*;
        use wampkit::service;

        /// The URI prefix of this instance of the contract.
        pub const PREFIX: &str = $prefix;

        /// Two procedures and an event.
        #[service(prefix = $prefix)]
        pub trait Lifecycle {
            /// Answers `pong`.
            async fn ping(&self) -> String;

            /// Doubles `n`.
            async fn double(&self, n: i64) -> i64;

            /// A tick.
            #[wamp(event)]
            async fn tick(&self, n: u32);
        }

        /// Only an event: nothing to unregister, only to unsubscribe.
        #[service(prefix = $prefix)]
        pub trait Ticks {
            /// A tock.
            #[wamp(event)]
            async fn tock(&self, n: u32);
        }

        impl Ticks for Sink {
            async fn tock(&self, n: u32) {
                self.forward(Received::Tick(n));
            }
        }

        impl Lifecycle for Sink {
            async fn ping(&self) -> String {
                "pong".into()
            }

            async fn double(&self, n: i64) -> i64 {
                n * 2
            }

            async fn tick(&self, n: u32) {
                self.forward(Received::Tick(n));
            }
        }

        /// Registers the service and checks that it answers and receives.
        async fn registered_and_working(
            callee: &Session,
            caller: &Session,
        ) -> (
            wampkit::ServiceRegistration,
            mpsc::UnboundedReceiver<Received>,
        ) {
            let (sink, mut rx) = Sink::new();
            let service = within("register", LifecycleService::register(callee, sink))
                .await
                .unwrap();
            assert_eq!(service.registrations().len(), 2);
            assert_eq!(service.subscriptions().len(), 1);
            let client = LifecycleClient::new(caller);
            assert_eq!(within("ping", client.ping()).await.unwrap(), "pong");
            assert_eq!(within("double", client.double(-21)).await.unwrap(), -42);
            within("tick", client.tick(1)).await.unwrap();
            assert_eq!(received(&mut rx).await, Received::Tick(1));
            for procedure in LifecycleService::PROCEDURES {
                assert!(
                    registration_of(caller, procedure).await.is_some(),
                    "{procedure}"
                );
            }
            for topic in LifecycleService::TOPICS {
                assert!(subscription_of(caller, topic).await.is_some(), "{topic}");
            }
            (service, rx)
        }

        /// Checks that every procedure and subscription of the service is gone.
        async fn all_gone(caller: &Session, rx: &mut mpsc::UnboundedReceiver<Received>) {
            let client = LifecycleClient::new(caller);
            assert_no_such_procedure("ping", within("ping", client.ping()).await);
            assert_no_such_procedure("double", within("double", client.double(1)).await);
            for procedure in LifecycleService::PROCEDURES {
                assert_eq!(
                    registration_of(caller, procedure).await,
                    None,
                    "{procedure}"
                );
            }
            for topic in LifecycleService::TOPICS {
                assert_eq!(subscription_of(caller, topic).await, None, "{topic}");
            }
            within("tick", client.tick(2)).await.unwrap();
            // Every handler is gone, and with them the service value (and its sender).
            if let Some(event) = within("the channel closes", rx.recv()).await {
                panic!("received {event:?} after unregistering");
            }
        }
    };
}

/// The test of `ServiceRegistration::unregister`.
macro_rules! unregister_tests {
    () => {
        #[tokio::test]
        async fn unregister_removes_everything() {
            let callee = connect(super::SERIALIZER).await;
            let caller = connect(super::SERIALIZER).await;
            let (service, mut rx) = registered_and_working(&callee, &caller).await;
            within("unregister", service.unregister()).await.unwrap();
            all_gone(&caller, &mut rx).await;

            // The URIs are free again.
            let (service, _rx) = registered_and_working(&callee, &caller).await;
            within("unregister again", service.unregister())
                .await
                .unwrap();
        }

        /// `ServiceRegistration::unregister` awaits UNREGISTERED for each procedure but only
        /// aborts the subscription tasks (their UNSUBSCRIBE goes out later, unconfirmed): for a
        /// service without procedures it returns at once, with the subscription still there.
        #[tokio::test]
        async fn unregister_of_events_only_waits_for_the_router() {
            let subscriber = connect(super::SERIALIZER).await;
            let observer = connect(super::SERIALIZER).await;
            let topic = format!("{PREFIX}.tock");
            let (sink, mut rx) = Sink::new();
            let service = within("register", TicksService::register(&subscriber, sink))
                .await
                .unwrap();
            within("tock", TicksClient::new(&observer).tock(1))
                .await
                .unwrap();
            assert_eq!(received(&mut rx).await, Received::Tick(1));
            assert!(subscription_of(&observer, &topic).await.is_some());

            // `unregister` "waits for the router": once it returns, the router has no
            // subscription left, whichever session asks.
            within("unregister", service.unregister()).await.unwrap();
            assert_eq!(subscription_of(&observer, &topic).await, None);
            if let Some(event) = within("the channel closes", rx.recv()).await {
                panic!("received {event:?} after unregistering");
            }
        }
    };
}

/// The test of dropping a `ServiceRegistration`.
macro_rules! drop_tests {
    () => {
        #[tokio::test]
        async fn drop_removes_everything() {
            let callee = connect(super::SERIALIZER).await;
            let caller = connect(super::SERIALIZER).await;
            let (service, mut rx) = registered_and_working(&callee, &caller).await;
            drop(service);
            // The drop sends UNREGISTER and UNSUBSCRIBE without waiting; a round trip on the
            // same session orders after them.
            within("round trip", callee.call("wamp.session.count", ()))
                .await
                .unwrap();
            all_gone(&caller, &mut rx).await;

            // The URIs are free again.
            let (service, _rx) = registered_and_working(&callee, &caller).await;
            drop(service);
        }
    };
}

// -------------------------------------------------------------------------------------------
// The suites: one module per serializer, in it one module (and URI prefix) per test
// -------------------------------------------------------------------------------------------

macro_rules! serializer_suite {
    (
        $module:ident, $serializer:expr,
        calc_rust: $calc_rust:literal,
        calc_python: $calc_python:literal,
        python_callee: $python_callee:literal,
        feed: $feed:literal,
        feed_note: $feed_note:literal,
        lifecycle_unregister: $lifecycle_unregister:literal,
        lifecycle_drop: $lifecycle_drop:literal $(,)?
    ) => {
        // Each contract generates a client and a service; each test uses only what it needs.
        #[allow(dead_code)]
        mod $module {
            const SERIALIZER: wampkit::Serializer = $serializer;

            mod rust_caller {
                calc_contract!($calc_rust);
                rust_caller_tests!($calc_rust);
            }

            mod python_caller {
                calc_contract!($calc_python);
                python_caller_tests!($calc_python);
            }

            mod python_callee {
                python_callee_contract!($python_callee);
                python_callee_tests!();
            }

            mod events {
                feed_contract!($feed, $feed_note);
                feed_tests!();
            }

            mod unregister {
                lifecycle_contract!($lifecycle_unregister);
                unregister_tests!();
            }

            mod drop {
                lifecycle_contract!($lifecycle_drop);
                drop_tests!();
            }
        }
    };
}

serializer_suite!(
    json, wampkit::Serializer::Json,
    calc_rust: "com.macros.json.calc_rust",
    calc_python: "com.macros.json.calc_python",
    python_callee: "com.macros.json.py",
    feed: "com.macros.json.feed",
    feed_note: "com.macros.json.feed_notes",
    lifecycle_unregister: "com.macros.json.unregister",
    lifecycle_drop: "com.macros.json.drop",
);

serializer_suite!(
    msgpack, wampkit::Serializer::MsgPack,
    calc_rust: "com.macros.msgpack.calc_rust",
    calc_python: "com.macros.msgpack.calc_python",
    python_callee: "com.macros.msgpack.py",
    feed: "com.macros.msgpack.feed",
    feed_note: "com.macros.msgpack.feed_notes",
    lifecycle_unregister: "com.macros.msgpack.unregister",
    lifecycle_drop: "com.macros.msgpack.drop",
);

serializer_suite!(
    cbor, wampkit::Serializer::Cbor,
    calc_rust: "com.macros.cbor.calc_rust",
    calc_python: "com.macros.cbor.calc_python",
    python_callee: "com.macros.cbor.py",
    feed: "com.macros.cbor.feed",
    feed_note: "com.macros.cbor.feed_notes",
    lifecycle_unregister: "com.macros.cbor.unregister",
    lifecycle_drop: "com.macros.cbor.drop",
);
