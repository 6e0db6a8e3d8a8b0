//! Authentication: sessions joining with a ticket, WAMP-CRA and cryptosign, the identity the
//! router gives each (from WELCOME's details), and a join refused for a wrong secret.
//!
//! ```text
//! cargo run --example auth                       # against an embedded router that knows them
//! cargo run --example auth -- --url ws://127.0.0.1:8080/auth --realm realm1
//! ```
//!
//! The embedded router is configured with [`Authentication`]: one principal per method, all
//! with the role `user`. The credentials are the throwaway test principals of
//! `scripts/crossbar/config.json`, so `--url` works against Crossbar.io started by
//! `scripts/crossbar.sh start` (its `/auth` path offers every method). Real secrets belong in
//! the environment or a file, never in source code.
//!
//! Without `--url` (or `WAMP_URL`), the example starts an embedded router on a free port.
//! `RUST_LOG=debug` shows what the library does.

use clap::Parser;
use wampkit::auth::CryptoSign;
use wampkit::router::{Authentication, RealmConfig, Router};
use wampkit::{Error, ErrorUri, Session, SessionBuilder};

const TICKET_USER: (&str, &str) = ("ticket-user", "ticket-secret-123");
const CRA_USER: (&str, &str) = ("cra-user", "cra-secret-123");
const CRYPTOSIGN_USER: &str = "cs-user";
/// An Ed25519 private key (64 hex digits); the router knows its public key.
const CRYPTOSIGN_PRIVATE_KEY: &str =
    "d2ddb103d432490f61893bd87fe72c0f3f6fc36f2412ccf99519bb873af7e61c";

#[derive(Parser)]
#[command(about = "Ticket, WAMP-CRA and cryptosign authentication")]
struct Args {
    /// The router to use; without it, an embedded router is started.
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
            let router = embedded_router(&args.realm)?;
            let listening = router.listen("ws://127.0.0.1:0/ws").await?;
            eprintln!("started an embedded router at {}", listening.url());
            (listening.url().to_owned(), Some(router))
        }
    };
    let builder = || Session::builder(&url, &args.realm);

    // One join per method. A ticket travels in clear text: over TLS or locally only.
    join("ticket", builder().ticket(TICKET_USER.0, TICKET_USER.1)).await?;
    join("wampcra", builder().wampcra(CRA_USER.0, CRA_USER.1)).await?;
    join(
        "cryptosign",
        builder().cryptosign(Some(CRYPTOSIGN_USER), CRYPTOSIGN_PRIVATE_KEY),
    )
    .await?;

    // A wrong secret: the router aborts the join, and the error says why.
    match builder()
        .wampcra(CRA_USER.0, "not-the-secret")
        .connect()
        .await
    {
        Err(Error::Aborted(e)) if e.uri == ErrorUri::NotAuthorized => {
            println!("wampcra with a wrong secret: refused (Error::Aborted): {e}");
        }
        Err(other) => return Err(format!("an unexpected error: {other}").into()),
        Ok(session) => {
            session.leave().await?;
            return Err("a wrong secret was accepted".into());
        }
    }

    if let Some(router) = router {
        router.shutdown().await;
    }
    Ok(())
}

/// A router whose realm admits one principal per method, and nobody anonymous.
fn embedded_router(realm: &str) -> Result<Router, Box<dyn std::error::Error>> {
    // The router keeps only the public key; here it is derived from the client's private key.
    let public_key = CryptoSign::from_hex(CRYPTOSIGN_PRIVATE_KEY)?.public_key_hex();
    let authentication = Authentication::new()
        .ticket(TICKET_USER.0, TICKET_USER.1, "user")
        .wampcra(CRA_USER.0, CRA_USER.1, "user")
        .cryptosign(CRYPTOSIGN_USER, &public_key, "user")?;
    Ok(Router::builder()
        .add_realm(RealmConfig::new(realm).authentication(authentication))
        .build())
}

/// Joins with `builder`'s credentials and prints the identity the router announced in WELCOME.
async fn join(method: &str, builder: SessionBuilder) -> Result<(), Box<dyn std::error::Error>> {
    let session = builder.connect().await?;
    let details = session.details();
    println!(
        "{method}: joined as authid {}, authrole {} (authmethod {}, session {})",
        details.authid.as_deref().unwrap_or("?"),
        details.authrole.as_deref().unwrap_or("?"),
        details.authmethod.as_deref().unwrap_or("?"),
        details.session,
    );
    session.leave().await?;
    Ok(())
}
