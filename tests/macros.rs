//! End-to-end tests of the code `#[service]` and `#[derive(ApplicationError)]` generate, against
//! the router under test and Autobahn|Python peers, for every serializer: typed stubs calling a
//! macro-registered service, Python calling it (positional and keyword arguments, bad payloads),
//! stubs calling a Python callee, typed subscribers and publishers, and unregistration.
//!
//! The tests share one router and run in parallel: each contract is declared once, without a
//! URI prefix, and each test serves and calls it under a prefix of its own, chosen at run time
//! from the test and the serializer (`register_with_prefix`, `with_prefix`).
#![cfg(test)] // clippy.toml's allow-*-in-tests then reaches the helpers too (rust-clippy#13981)

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::future::IntoFuture;
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value as Json, json};
use testkit::PythonPeer;
use testkit::e2e::{
    self, python_call as py_call, python_line, python_publish as py_publish, python_ready,
};
use tokio::sync::mpsc;
use wampkit::{
    ApplicationError, CallError, Error, ErrorUri, InvocationDetails, Serializer, Session, Value,
};

#[path = "macros/events.rs"]
mod events;
#[path = "macros/interop.rs"]
mod interop;
#[path = "macros/lifecycle.rs"]
mod lifecycle;
#[path = "macros/rpc.rs"]
mod rpc;

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

/// The URI prefix of one test's contract: unique per test (`role`) and serializer, so that
/// the tests, run in parallel on one router, do not see each other's procedures and events.
fn prefix(serializer: Serializer, role: &str) -> String {
    format!("com.macros.{}.{role}", serializer.name())
}

/// `prefix.name`.
fn uri(prefix: &str, name: &str) -> String {
    format!("{prefix}.{name}")
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

/// The implementation of [`Calc`].
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
// What the subscriber services (`events`, `lifecycle`) forward to the test
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

// -------------------------------------------------------------------------------------------
// The calculator, served by Rust and called through its stub and from Python (`rpc`)
// -------------------------------------------------------------------------------------------

/// A calculator exercising every kind of parameter and result; its procedures are under the
/// prefix each test gives it.
#[wampkit::service]
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
    async fn echo(&self, text: String, blob: Blob, n: i64, x: f64) -> (String, Blob, i64, f64);
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

    async fn echo(&self, text: String, blob: Blob, n: i64, x: f64) -> (String, Blob, i64, f64) {
        (text, blob, n, x)
    }
}

// -------------------------------------------------------------------------------------------
// The suites: one module per serializer, in it one module per test
// -------------------------------------------------------------------------------------------

/// In a serializer's module, for each test: `mod $group { #[tokio::test] async fn $test() }`,
/// which runs `$run(SERIALIZER)`.
macro_rules! tests {
    ($($group:ident { $($test:ident => $run:path,)* })*) => {
        $(
            mod $group {
                $(
                    #[tokio::test]
                    async fn $test() {
                        $run(super::SERIALIZER).await;
                    }
                )*
            }
        )*
    };
}

/// The tests run once per serializer, in module `$module`.
macro_rules! serializer_suite {
    ($module:ident, $serializer:ident) => {
        mod $module {
            const SERIALIZER: wampkit::Serializer = wampkit::Serializer::$serializer;

            tests! {
                rust_caller {
                    typed_results_and_errors => crate::rpc::typed_results_and_errors,
                }
                python_caller {
                    called_from_python => crate::rpc::called_from_python,
                }
                python_callee {
                    called_through_stubs => crate::interop::called_through_stubs,
                }
                events {
                    typed_subscribers => crate::events::typed_subscribers,
                }
                unregister {
                    unregister_removes_everything => crate::lifecycle::unregister_removes_everything,
                    unregister_of_events_only_waits_for_the_router =>
                        crate::lifecycle::unregister_of_events_only_waits_for_the_router,
                }
                drop {
                    drop_removes_everything => crate::lifecycle::drop_removes_everything,
                }
            }
        }
    };
}

serializer_suite!(json, Json);
serializer_suite!(msgpack, MsgPack);
serializer_suite!(cbor, Cbor);

/// Wrong payloads from Python. How arguments bind does not depend on the serializer: JSON only.
mod bad_payloads {
    #[tokio::test]
    async fn answered_with_invalid_argument() {
        crate::rpc::answered_with_invalid_argument().await;
    }
}

/// The same for a keyword-argument struct parameter.
mod bad_kwargs_struct_payloads {
    #[tokio::test]
    async fn kwargs_struct_errors_name_the_field() {
        crate::rpc::kwargs_struct_errors_name_the_field().await;
    }
}
