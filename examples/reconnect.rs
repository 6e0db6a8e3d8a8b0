//! Reconnecting: a session with a reconnect policy survives its router going away, and gets its
//! registration and subscription back once it has rejoined.
//!
//! ```text
//! cargo run --example reconnect                  # restarts its embedded router, then exits
//! cargo run --example reconnect -- --url ws://127.0.0.1:8080/ws --realm realm1
//! ```
//!
//! The client registers `com.example.reconnect.ping` and subscribes `com.example.reconnect.news`,
//! and prints every change of its state ([`Session::states`]). The example then shuts its
//! embedded router down (every session gets GOODBYE `wamp.close.system_shutdown`), starts a new
//! one on the same port, and shows that the client rejoined on its own: a call waiting for the
//! session ([`Call::wait_for_session`]) succeeds, and so do a call and a publication from another
//! session.
//!
//! With `--url` (or `WAMP_URL`), the example cannot restart that router: it calls the procedure
//! every two seconds until Ctrl-C, so that restarting the router by hand shows the same.
//! `RUST_LOG=info` shows the library's reconnect attempts.
//!
//! [`Session::states`]: wampkit::Session::states
//! [`Call::wait_for_session`]: wampkit::rpc::Call::wait_for_session

use std::time::Duration;

use clap::Parser;
use futures_util::StreamExt as _;
use wampkit::router::Router;
use wampkit::session::{SessionState, SessionStates};
use wampkit::{Arguments, Invocation, ReconnectPolicy, Session, Subscription};

const PROCEDURE: &str = "com.example.reconnect.ping";
const TOPIC: &str = "com.example.reconnect.news";

#[derive(Parser)]
#[command(about = "A session that reconnects and restores its registrations")]
struct Args {
    /// The router to use; without it, an embedded router is started (and restarted).
    #[arg(long, env = "WAMP_URL")]
    url: Option<String>,
    /// The realm to join.
    #[arg(long, env = "WAMP_REALM", default_value = "realm1")]
    realm: String,
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
    let args = Args::parse();

    let (url, router) = match &args.url {
        Some(url) => (url.clone(), None),
        None => {
            let router = Router::builder().realm(&args.realm).build();
            let listening = router.listen("ws://127.0.0.1:0/ws").await?;
            eprintln!("started an embedded router at {}", listening.url());
            (listening.url().to_owned(), Some(router))
        }
    };

    // The client: reconnects after 100 ms, then waits up to 1 s between attempts.
    let policy = ReconnectPolicy::default()
        .initial_delay(Duration::from_millis(100))
        .max_delay(Duration::from_secs(1));
    let client = Session::builder(&url, &args.realm)
        .reconnect(policy)
        .connect()
        .await?;
    let printer = tokio::spawn(print_states(client.states()));
    let _ping = client
        .register(PROCEDURE, |inv: Invocation| async move {
            let session = inv.session().map_or(0, Session::id);
            Ok(Arguments::single(format!("pong from session {session}"))?)
        })
        .await?;
    let mut news = client.subscribe(TOPIC).await?;
    println!("registered {PROCEDURE} and subscribed {TOPIC}");

    let router = match router {
        Some(router) => Some(restart_demo(router, &url, &args.realm, &client, &mut news).await?),
        None => {
            external_demo(&client, &mut news).await?;
            None
        }
    };

    client.leave().await?;
    // The printer ends after the session's last state, `closed`.
    printer.await?;
    if let Some(router) = router {
        router.shutdown().await;
    }
    Ok(())
}

/// Prints each state the session goes through, until it has closed.
async fn print_states(mut states: SessionStates) {
    while let Some(state) = states.next().await {
        match state {
            SessionState::Joined { session } => println!("state: joined as session {session}"),
            SessionState::Disconnected { reason } => println!("state: disconnected ({reason})"),
            SessionState::Reconnecting { attempt, delay } => {
                println!("state: reconnecting, attempt {attempt} in {delay:?}")
            }
            SessionState::Closed(reason) => println!("state: closed ({reason})"),
            other => println!("state: {other:?}"),
        }
    }
}

/// Restarts the embedded router on the same port and shows the client back in business.
/// Returns the new router.
async fn restart_demo(
    router: Router,
    url: &str,
    realm: &str,
    client: &Session,
    news: &mut Subscription,
) -> Result<Router, Box<dyn std::error::Error>> {
    check_from_another_session(url, realm, news, "before the restart").await?;

    println!("restarting the router");
    router.shutdown().await;
    let router = Router::builder().realm(realm).build();
    router.listen(url).await?;
    println!("the router is back at {url}");

    // Waits until the client has rejoined and restored its registration (which it sends first).
    let pong: String = client
        .call(PROCEDURE, ())
        .wait_for_session()
        .timeout(Duration::from_secs(10))
        .await?
        .arg(0)?;
    println!("after the restart: the client's own call: {pong}");
    check_from_another_session(url, realm, news, "after the restart").await?;
    Ok(router)
}

/// Calls the client's procedure and publishes to its topic from a fresh session.
async fn check_from_another_session(
    url: &str,
    realm: &str,
    news: &mut Subscription,
    when: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let other = Session::connect(url, realm).await?;
    let pong: String = other.call(PROCEDURE, ()).await?.arg(0)?;
    println!("{when}: another session's call: {pong}");
    other
        .publish(TOPIC, (format!("news {when}"),))
        .acknowledge()
        .await?;
    let event = tokio::time::timeout(Duration::from_secs(5), news.next())
        .await?
        .ok_or("the subscription ended")?;
    println!("{when}: the client received: {}", event.arg::<String>(0)?);
    other.leave().await?;
    Ok(())
}

/// With a router of one's own: calls the procedure every two seconds until Ctrl-C; restart the
/// router meanwhile to see the client reconnect.
async fn external_demo(
    client: &Session,
    news: &mut Subscription,
) -> Result<(), Box<dyn std::error::Error>> {
    println!("restart the router to see the client reconnect; Ctrl-C ends");
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let call = client.call(PROCEDURE, ()).wait_for_session().timeout(Duration::from_secs(30));
                match call.await {
                    Ok(result) => println!("call: {}", result.arg::<String>(0)?),
                    Err(e) => println!("call failed: {e}"),
                }
            }
            event = news.next() => match event {
                Some(event) => println!("event: {:?}", event.arguments().args),
                None => return Err("the subscription ended".into()),
            },
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}
