//! A calculator service and its client, both generated from one annotated trait.
//!
//! ```text
//! cargo run --example calculator                      # serve and call it, printing the results
//! cargo run --example calculator -- --serve           # only serve; prints `ready` once registered
//! cargo run --example calculator -- --serve --url ws://127.0.0.1:8080/ws --realm realm1
//! ```
//!
//! Any WAMP peer can call it, positionally or with keyword arguments, e.g. from Python:
//! `await session.call("com.example.calc.add", a=2, b=3)`.

use std::sync::atomic::{AtomicU64, Ordering};

use wampkit::{ApplicationError, CallError, InvocationDetails, Session, service};

/// The errors the calculator declares: each variant is a WAMP error URI.
#[derive(Debug, Clone, PartialEq, ApplicationError)]
pub enum CalcError {
    /// `b` was zero.
    #[wamp(
        uri = "com.example.calc.error.division_by_zero",
        message = "division by zero"
    )]
    DivisionByZero,
    /// The sum of an empty list was asked for.
    #[wamp(uri = "com.example.calc.error.empty")]
    Empty {
        /// What was empty.
        what: String,
    },
}

/// The calculator contract: its procedures are `com.example.calc.<method>`.
#[service(prefix = "com.example.calc")]
pub trait Calc {
    /// Adds two integers.
    async fn add(&self, a: i64, b: i64) -> i64;

    /// Divides `a` by `b`.
    async fn div(&self, a: f64, b: f64) -> Result<f64, CalcError>;

    /// Sums a list of numbers.
    async fn sum(&self, values: Vec<f64>) -> f64;

    /// The average of a non-empty list.
    async fn mean(&self, values: Vec<f64>) -> Result<f64, CalcError>;

    /// How many calls this calculator has served, and who is asking.
    #[wamp(name = "stats")]
    async fn statistics(&self, details: InvocationDetails) -> (u64, Option<u64>);
}

/// The implementation: state lives on `&self`.
#[derive(Default)]
struct Calculator {
    calls: AtomicU64,
}

impl Calculator {
    fn count(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }
}

impl Calc for Calculator {
    async fn add(&self, a: i64, b: i64) -> i64 {
        self.count();
        a + b
    }

    async fn div(&self, a: f64, b: f64) -> Result<f64, CalcError> {
        self.count();
        if b == 0.0 {
            return Err(CalcError::DivisionByZero);
        }
        Ok(a / b)
    }

    async fn sum(&self, values: Vec<f64>) -> f64 {
        self.count();
        values.iter().sum()
    }

    async fn mean(&self, values: Vec<f64>) -> Result<f64, CalcError> {
        self.count();
        if values.is_empty() {
            return Err(CalcError::Empty {
                what: "values".into(),
            });
        }
        Ok(values.iter().sum::<f64>() / values.len() as f64)
    }

    async fn statistics(&self, details: InvocationDetails) -> (u64, Option<u64>) {
        (self.calls.load(Ordering::Relaxed), details.caller)
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Library warnings (and more with RUST_LOG=debug) go to stderr.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::builder()
                .with_default_directive(tracing_subscriber::filter::LevelFilter::WARN.into())
                .from_env_lossy(),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut url = "ws://127.0.0.1:8080/ws".to_owned();
    let mut realm = "realm1".to_owned();
    let mut serve_only = false;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--serve" => serve_only = true,
            "--url" => url = args.next().ok_or("--url needs a value")?,
            "--realm" => realm = args.next().ok_or("--realm needs a value")?,
            other => {
                return Err(format!(
                    "unknown argument `{other}`; usage: calculator [--serve] [--url URL] [--realm REALM]"
                )
                .into());
            }
        }
    }

    let session = Session::connect(&url, &realm).await?;
    let _service = CalcService::register(&session, Calculator::default()).await?;
    if serve_only {
        println!("ready");
        tokio::select! {
            reason = session.closed() => return Err(format!("the session closed: {reason}").into()),
            _ = tokio::signal::ctrl_c() => {}
        }
        session.leave().await?;
        return Ok(());
    }

    // The client: a separate session, as another program would have.
    let client_session = Session::connect(&url, &realm).await?;
    let calc = CalcClient::new(&client_session);
    println!("add(2, 3) = {}", calc.add(2, 3).await?);
    println!("div(1, 4) = {}", calc.div(1.0, 4.0).await?);
    match calc.div(1.0, 0.0).await {
        Err(CallError::Application(CalcError::DivisionByZero)) => {
            println!("div(1, 0) failed: division by zero")
        }
        other => println!("div(1, 0) unexpectedly gave {other:?}"),
    }
    println!(
        "sum([1.5, 2.5, -1]) = {}",
        calc.sum(vec![1.5, 2.5, -1.0]).await?
    );
    match calc.mean(vec![]).await {
        Err(CallError::Application(CalcError::Empty { what })) => {
            println!("mean([]) failed: {what} is empty")
        }
        other => println!("mean([]) unexpectedly gave {other:?}"),
    }
    let (calls, caller) = calc.statistics().await?;
    println!(
        "the calculator served {calls} calls; it sees this caller as {caller:?} (session {})",
        client_session.id()
    );
    client_session.leave().await?;
    session.leave().await?;
    Ok(())
}
