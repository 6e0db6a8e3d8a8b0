//! Progressive call results: a callee reports how far it got while it works, and the caller
//! shows a progress bar (`indicatif`) fed by those reports, then the final result.
//!
//! ```text
//! cargo run --example progress                              # on an embedded router
//! cargo run --example progress -- --chunks 50 --delay-ms 40
//! cargo run --example progress -- --url ws://127.0.0.1:8080/ws --realm realm1
//! ```
//!
//! The callee sends `(done, total)` as a progressive result after each chunk
//! ([`Invocation::progress`]); the caller reads them from [`Call::into_stream`], which ends with
//! the final result. When standard error is not a terminal, indicatif hides the bar and the
//! example prints one `progress: done/total` line per report instead.
//!
//! Without `--url` (or `WAMP_URL`), the example starts an embedded router on a free port.
//! `RUST_LOG=debug` shows what the library does.
//!
//! [`Invocation::progress`]: wampkit::Invocation::progress
//! [`Call::into_stream`]: wampkit::rpc::Call::into_stream

use std::time::Duration;

use clap::Parser;
use futures_util::StreamExt as _;
use indicatif::{ProgressBar, ProgressStyle};
use wampkit::router::Router;
use wampkit::{Arguments, Invocation, Session, WampError};

const PROCEDURE: &str = "com.example.progress.download";

#[derive(Parser)]
#[command(about = "Progressive call results shown as a progress bar")]
struct Args {
    /// The router to use; without it, an embedded router is started.
    #[arg(long, env = "WAMP_URL")]
    url: Option<String>,
    /// The realm to join.
    #[arg(long, env = "WAMP_REALM", default_value = "realm1")]
    realm: String,
    /// How many chunks the callee works through.
    #[arg(long, default_value_t = 20)]
    chunks: u64,
    /// How long each chunk takes, in milliseconds.
    #[arg(long, default_value_t = 100)]
    delay_ms: u64,
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

    // The router at --url, or an embedded one on a free port.
    let (url, router) = match &args.url {
        Some(url) => (url.clone(), None),
        None => {
            let router = Router::builder().realm(&args.realm).build();
            let listening = router.listen("ws://127.0.0.1:0/ws").await?;
            eprintln!("started an embedded router at {}", listening.url());
            (listening.url().to_owned(), Some(router))
        }
    };

    // The callee: works through `chunks` chunks, reporting each one if the caller asked.
    let callee = Session::connect(&url, &args.realm).await?;
    let delay = Duration::from_millis(args.delay_ms);
    let _download = callee
        .register(PROCEDURE, move |inv: Invocation| async move {
            let (total,): (u64,) = inv.args()?;
            for done in 1..=total {
                tokio::time::sleep(delay).await;
                if inv.is_canceled() {
                    return Err(WampError::new("wamp.error.canceled"));
                }
                if let Some(progress) = inv.progress() {
                    progress
                        .send(Arguments::positional((done, total))?)
                        .map_err(|e| {
                            WampError::with_message("wamp.error.canceled", e.to_string())
                        })?;
                }
            }
            Ok(Arguments::single(format!("downloaded {total} chunks"))?)
        })
        .await?;

    // The caller: a progress bar fed by the progressive results, then the final result.
    let caller = Session::connect(&url, &args.realm).await?;
    let bar = ProgressBar::new(args.chunks).with_style(ProgressStyle::with_template(
        "{bar:40} {pos}/{len} chunks {msg}",
    )?);
    let mut results = caller.call(PROCEDURE, (args.chunks,)).into_stream();
    let mut outcome = None;
    while let Some(result) = results.next().await {
        let result = result?;
        if result.is_progress() {
            let (done, total): (u64, u64) = result.args()?;
            bar.set_position(done);
            if bar.is_hidden() {
                println!("progress: {done}/{total}");
            }
        } else {
            outcome = Some(result.arg::<String>(0)?);
        }
    }
    bar.finish_and_clear();
    println!(
        "result: {}",
        outcome.ok_or("the call ended without a result")?
    );

    caller.leave().await?;
    callee.leave().await?;
    if let Some(router) = router {
        router.shutdown().await;
    }
    Ok(())
}
