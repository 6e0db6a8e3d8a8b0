//! An embedded WAMP router: realms open to anonymous sessions, on WebSocket or RawSocket.
//!
//! ```text
//! cargo run --example router [-- --listen ws://127.0.0.1:8080/ws --listen rs://127.0.0.1:8081 \
//!     --realm realm1 --tls-cert cert.pem --tls-key key.pem]
//! ```
//!
//! It prints `ready` once every listener is bound, and runs until SIGINT or SIGTERM, when it
//! ends every session with GOODBYE `wamp.close.system_shutdown`. `RUST_LOG=debug` shows what
//! it does.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use wampkit::router::Router;

#[derive(Parser)]
#[command(about = "An embedded WAMP router")]
struct Args {
    /// Where to listen (repeat for more): ws://HOST:PORT/PATH, wss://HOST:PORT/PATH,
    /// rs://HOST:PORT, rss://HOST:PORT or unix:///PATH
    #[arg(long, value_name = "URL", default_value = "ws://127.0.0.1:8080/ws")]
    listen: Vec<String>,
    /// A realm to route (repeat for more)
    #[arg(long, value_name = "NAME", default_value = "realm1")]
    realm: Vec<String>,
    /// The certificate chain for wss:// and rss:// (PEM)
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key of the certificate (PEM)
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("router: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let mut builder = Router::builder();
    for realm in &args.realm {
        builder = builder.realm(realm);
    }
    if let (Some(certificate), Some(key)) = (&args.tls_cert, &args.tls_key) {
        builder = builder.tls(tls_config(certificate, key)?);
    } else if let Some(url) = args
        .listen
        .iter()
        .find(|url| url.starts_with("wss://") || url.starts_with("rss://"))
    {
        return Err(format!("{url} needs --tls-cert and --tls-key").into());
    }
    let router = builder.build();

    // Watch for the signals before saying `ready`, so that none is missed.
    let stop = shutdown_signal()?;
    for url in &args.listen {
        let listening = router.listen(url).await?;
        println!("listening on {}", listening.url());
    }
    println!("ready");
    std::io::stdout().flush()?;

    stop.await;
    eprintln!("shutting down");
    router.shutdown().await;
    Ok(())
}

/// The TLS configuration for `wss://` and `rss://` from PEM files.
fn tls_config(
    certificate: &Path,
    key: &Path,
) -> Result<Arc<rustls::ServerConfig>, Box<dyn std::error::Error>> {
    let chain = CertificateDer::pem_file_iter(certificate)
        .and_then(|certificates| certificates.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("cannot read the certificate {}: {e}", certificate.display()))?;
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("cannot read the private key {}: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    Ok(Arc::new(config))
}

/// Resolves on SIGINT or SIGTERM (Ctrl-C elsewhere).
#[cfg(unix)]
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

/// Resolves on Ctrl-C.
#[cfg(not(unix))]
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
