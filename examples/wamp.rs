//! `wamp`: a command-line WAMP peer. Call, publish, subscribe and register from a shell.
//!
//! ```text
//! cargo run --example wamp -- call com.example.add 2 3
//! cargo run --example wamp -- call com.example.greet --kw name='"Ada"'
//! cargo run --example wamp -- subscribe com.example --match prefix --count 3
//! cargo run --example wamp -- publish com.example.news '{"title": "hi"}' --kw urgent=true --ack
//! cargo run --example wamp -- register com.example.echo --echo
//! cargo run --example wamp -- call com.example.countdown 3 --progress --timeout 10
//! ```
//!
//! Authentication (secrets are read from `env:NAME` or `file:PATH`, never from the command line
//! itself, and never printed):
//!
//! ```text
//! WAMP_TICKET=ticket-secret-123 cargo run --example wamp -- --url ws://127.0.0.1:8080/ticket \
//!     --authid ticket-user --ticket env:WAMP_TICKET call com.example.add 2 3
//! cargo run --example wamp -- --url ws://127.0.0.1:8080/scram --authmethod scram \
//!     --authid scram-user --secret file:scram.secret call com.example.add 2 3
//! cargo run --example wamp -- --url ws://127.0.0.1:8080/cryptosign \
//!     --private-key file:client.key call com.example.add 2 3
//! ```
//!
//! Other transports: `--url rs://127.0.0.1:8081` (RawSocket), `wss://...` and `rss://...` (TLS;
//! `--ca ca.pem` trusts a private CA), `unix:///path/to/socket`.
//!
//! Each ARG and `--kw` VALUE is parsed as JSON when it parses, and taken as a string otherwise.
//! Results and events are printed as one JSON line each. Exit status: 0 on success, 1 when the
//! router or callee answers with a WAMP error (its URI and args go to stderr), 2 when the
//! connection or the join fails.

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use futures_util::StreamExt as _;
use wampkit::{Arguments, Dict, Error, Invocation, MatchPolicy, Serializer, Session, Value};

#[derive(Parser)]
#[command(
    name = "wamp",
    about = "A command-line WAMP peer",
    allow_negative_numbers = true
)]
struct Cli {
    /// Router URL.
    #[arg(long, global = true, default_value = "ws://127.0.0.1:8080/ws")]
    url: String,
    /// Realm to join.
    #[arg(long, global = true, default_value = "realm1")]
    realm: String,
    /// Serializer to use.
    #[arg(long, global = true, value_enum, default_value_t = SerializerArg::Json)]
    serializer: SerializerArg,
    /// PEM file of CA certificates to trust, besides the built-in roots, for wss:// and rss://
    /// routers whose certificate a private CA issued.
    #[arg(long, global = true, value_name = "FILE")]
    ca: Option<std::path::PathBuf>,
    #[command(flatten)]
    auth: AuthArgs,
    #[command(subcommand)]
    command: Command,
}

/// Authentication options. SOURCE is `env:NAME` (an environment variable) or `file:PATH` (a
/// file; one trailing newline is ignored); secrets are never taken from the command line itself.
#[derive(clap::Args)]
struct AuthArgs {
    /// Authentication method (default: ticket with --ticket, cryptosign with --private-key,
    /// wampcra with --secret, else anonymous).
    #[arg(long, global = true, value_enum)]
    authmethod: Option<AuthMethodArg>,
    /// Authentication id (required for ticket, wampcra and scram).
    #[arg(long, global = true)]
    authid: Option<String>,
    /// Role to request.
    #[arg(long, global = true)]
    authrole: Option<String>,
    /// Secret for wampcra or scram.
    #[arg(long, global = true, value_name = "SOURCE")]
    secret: Option<String>,
    /// Ticket for ticket authentication.
    #[arg(long, global = true, value_name = "SOURCE", conflicts_with = "secret")]
    ticket: Option<String>,
    /// Ed25519 private key (64 hex digits) for cryptosign.
    #[arg(long = "private-key", global = true, value_name = "SOURCE")]
    private_key: Option<String>,
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum AuthMethodArg {
    Anonymous,
    Ticket,
    Wampcra,
    Cryptosign,
    Scram,
}

/// Reads a secret from `env:NAME` or `file:PATH`. Errors name the source, never the contents.
fn read_secret(option: &str, source: &str) -> Result<String, String> {
    if let Some(name) = source.strip_prefix("env:") {
        std::env::var(name)
            .map_err(|_| format!("{option}: the environment variable `{name}` is not set"))
    } else if let Some(path) = source.strip_prefix("file:") {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{option}: cannot read `{path}`: {e}"))?;
        let text = text.strip_suffix('\n').unwrap_or(&text);
        Ok(text.strip_suffix('\r').unwrap_or(text).to_owned())
    } else {
        Err(format!(
            "{option} takes env:NAME or file:PATH, so that the secret stays out of the command \
             line and the shell history"
        ))
    }
}

/// Adds the authentication options to the builder.
fn with_auth(
    mut builder: wampkit::SessionBuilder,
    auth: &AuthArgs,
) -> Result<wampkit::SessionBuilder, String> {
    let method = auth.authmethod.unwrap_or(if auth.ticket.is_some() {
        AuthMethodArg::Ticket
    } else if auth.private_key.is_some() {
        AuthMethodArg::Cryptosign
    } else if auth.secret.is_some() {
        AuthMethodArg::Wampcra
    } else {
        AuthMethodArg::Anonymous
    });
    let authid = || {
        auth.authid
            .clone()
            .ok_or_else(|| "--authid is required for this authentication method".to_owned())
    };
    let secret = |option: &str, source: &Option<String>| match source {
        Some(source) => read_secret(option, source),
        None => Err(format!(
            "{option} is required for this authentication method"
        )),
    };
    if let Some(authrole) = &auth.authrole {
        builder = builder.authrole(authrole);
    }
    Ok(match method {
        // Offered explicitly only when asked for; otherwise HELLO offers no method.
        AuthMethodArg::Anonymous if auth.authmethod.is_some() => {
            builder.authenticator(wampkit::auth::Anonymous)
        }
        AuthMethodArg::Anonymous => builder,
        AuthMethodArg::Ticket => {
            let ticket = match (&auth.ticket, &auth.secret) {
                (None, Some(_)) => secret("--secret", &auth.secret)?,
                _ => secret("--ticket", &auth.ticket)?,
            };
            builder.ticket(authid()?, ticket)
        }
        AuthMethodArg::Wampcra => builder.wampcra(authid()?, secret("--secret", &auth.secret)?),
        AuthMethodArg::Scram => builder.scram(authid()?, secret("--secret", &auth.secret)?),
        AuthMethodArg::Cryptosign => {
            let key = secret("--private-key", &auth.private_key)?;
            let key = wampkit::auth::CryptoSign::from_hex(&key)
                .map_err(|e| format!("--private-key: {e}"))?;
            let key = match &auth.authid {
                Some(authid) => key.authid(authid),
                None => key,
            };
            builder.authenticator(key)
        }
    })
}

#[derive(Clone, Copy, ValueEnum)]
enum SerializerArg {
    Json,
    Msgpack,
    Cbor,
}

#[derive(Clone, Copy, ValueEnum)]
enum MatchArg {
    Exact,
    Prefix,
    Wildcard,
}

impl From<MatchArg> for MatchPolicy {
    fn from(m: MatchArg) -> Self {
        match m {
            MatchArg::Exact => MatchPolicy::Exact,
            MatchArg::Prefix => MatchPolicy::Prefix,
            MatchArg::Wildcard => MatchPolicy::Wildcard,
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Call a procedure; prints {"args":[...],"kwargs":{...}}.
    #[command(allow_negative_numbers = true)]
    Call {
        /// Procedure URI.
        procedure: String,
        /// Positional arguments (JSON, or a plain string).
        args: Vec<String>,
        /// Keyword argument KEY=VALUE (VALUE is JSON, or a plain string). Repeatable.
        #[arg(long = "kw", value_name = "KEY=VALUE")]
        kw: Vec<String>,
        /// Ask for progressive results; each is printed as {"progress":true,"args":[...],"kwargs":{...}}
        /// before the final result.
        #[arg(long)]
        progress: bool,
        /// Give up (and cancel the call) after this many seconds.
        #[arg(long, value_name = "SECONDS")]
        timeout: Option<f64>,
    },
    /// Publish an event.
    #[command(allow_negative_numbers = true)]
    Publish {
        /// Topic URI.
        topic: String,
        /// Positional arguments (JSON, or a plain string).
        args: Vec<String>,
        /// Keyword argument KEY=VALUE (VALUE is JSON, or a plain string). Repeatable.
        #[arg(long = "kw", value_name = "KEY=VALUE")]
        kw: Vec<String>,
        /// Wait for the router to acknowledge; prints {"publication":ID}.
        #[arg(long)]
        ack: bool,
    },
    /// Subscribe to a topic; prints each event as {"topic":"...","args":[...],"kwargs":{...}}.
    Subscribe {
        /// Topic URI or pattern.
        topic: String,
        /// How the topic is matched.
        #[arg(long = "match", value_enum, default_value_t = MatchArg::Exact)]
        match_policy: MatchArg,
        /// Exit after this many events (default: run until interrupted).
        #[arg(long)]
        count: Option<u64>,
    },
    /// Register a procedure; prints `registered` once registered.
    Register {
        /// Procedure URI or pattern.
        procedure: String,
        /// Answer each call with the call's own args and kwargs.
        #[arg(long, required = true)]
        echo: bool,
        /// How calls are matched.
        #[arg(long = "match", value_enum, default_value_t = MatchArg::Exact)]
        match_policy: MatchArg,
    },
}

/// Parses a command-line value: JSON when it parses, else the text itself.
fn parse_value(text: &str) -> Value {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(json) => Value::from(json),
        Err(_) => Value::String(text.to_owned()),
    }
}

fn parse_arguments(args: &[String], kw: &[String]) -> Result<Arguments, String> {
    let mut kwargs = Dict::new();
    for pair in kw {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("--kw expects KEY=VALUE, got `{pair}`"))?;
        kwargs.insert(key.to_owned(), parse_value(value));
    }
    Ok(Arguments {
        args: args.iter().map(|a| parse_value(a)).collect(),
        kwargs,
    })
}

/// One JSON object on one line, keys in the given order (the documented output format).
fn json_line(fields: Vec<(&str, serde_json::Value)>) -> String {
    let members: Vec<String> = fields
        .into_iter()
        .map(|(key, value)| format!("{}:{value}", serde_json::Value::from(key)))
        .collect();
    format!("{{{}}}", members.join(","))
}

fn list_json(values: &[Value]) -> serde_json::Value {
    serde_json::Value::Array(values.iter().map(serde_json::Value::from).collect())
}

fn dict_json(dict: &Dict) -> serde_json::Value {
    serde_json::Value::Object(dict.iter().map(|(k, v)| (k.clone(), v.into())).collect())
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let serializer = match cli.serializer {
        SerializerArg::Json => Serializer::Json,
        SerializerArg::Msgpack => Serializer::MsgPack,
        SerializerArg::Cbor => Serializer::Cbor,
    };
    let mut builder = Session::builder(&cli.url, &cli.realm).serializer(serializer);
    if let Some(ca) = &cli.ca {
        builder = builder.tls_ca_file(ca);
    }
    let builder = match with_auth(builder, &cli.auth) {
        Ok(builder) => builder,
        Err(message) => {
            eprintln!("wamp: {message}");
            return ExitCode::from(2);
        }
    };
    let session = match builder.connect().await {
        Ok(session) => session,
        Err(e) => {
            eprintln!(
                "wamp: cannot join realm `{}` at {}: {e}",
                cli.realm, cli.url
            );
            return ExitCode::from(2);
        }
    };
    let result = run(&session, cli.command).await;
    let _ = session.leave().await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(message)) => {
            eprintln!("wamp: {message}");
            ExitCode::from(2)
        }
        Err(Failure::Wamp(Error::Wamp(e))) => {
            eprintln!("{} {}", e.uri, list_json(&e.args));
            if !e.kwargs.is_empty() {
                eprintln!("{}", dict_json(&e.kwargs));
            }
            ExitCode::from(1)
        }
        Err(Failure::Wamp(Error::SessionClosed(reason))) => {
            eprintln!("wamp: the session closed: {reason}");
            ExitCode::from(2)
        }
        Err(Failure::Wamp(e)) => {
            eprintln!("wamp: {e}");
            ExitCode::from(1)
        }
    }
}

enum Failure {
    Usage(String),
    Wamp(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Wamp(e)
    }
}

async fn run(session: &Session, command: Command) -> Result<(), Failure> {
    match command {
        Command::Call {
            procedure,
            args,
            kw,
            progress,
            timeout,
        } => {
            let arguments = parse_arguments(&args, &kw).map_err(Failure::Usage)?;
            let mut call = session.call(procedure, ()).arguments(arguments);
            if let Some(seconds) = timeout {
                let timeout = std::time::Duration::try_from_secs_f64(seconds)
                    .map_err(|e| Failure::Usage(format!("--timeout {seconds}: {e}")))?;
                call = call.timeout(timeout);
            }
            if progress {
                let mut results = call.into_stream();
                while let Some(result) = results.next().await {
                    let result = result?;
                    let mut fields = Vec::new();
                    if result.is_progress() {
                        fields.push(("progress", serde_json::Value::Bool(true)));
                    }
                    let arguments = result.arguments();
                    fields.push(("args", list_json(&arguments.args)));
                    fields.push(("kwargs", dict_json(&arguments.kwargs)));
                    println!("{}", json_line(fields));
                }
            } else {
                let arguments = call.await?.arguments();
                println!(
                    "{}",
                    json_line(vec![
                        ("args", list_json(&arguments.args)),
                        ("kwargs", dict_json(&arguments.kwargs)),
                    ])
                );
            }
        }
        Command::Publish {
            topic,
            args,
            kw,
            ack,
        } => {
            let arguments = parse_arguments(&args, &kw).map_err(Failure::Usage)?;
            let publish = session.publish(topic, ()).arguments(arguments);
            if ack {
                let publication = publish.acknowledge().await?;
                println!("{}", json_line(vec![("publication", publication.into())]));
            } else {
                publish.await?;
            }
        }
        Command::Subscribe {
            topic,
            match_policy,
            count,
        } => {
            let mut events = session
                .subscribe(topic)
                .match_policy(match_policy.into())
                .await?;
            eprintln!("subscribed");
            let mut seen = 0;
            while count.is_none_or(|n| seen < n) {
                let Some(event) = events.next().await else {
                    return Err(Failure::Wamp(Error::SessionClosed(session.closed().await)));
                };
                let arguments = event.arguments();
                println!(
                    "{}",
                    json_line(vec![
                        ("topic", serde_json::Value::String(event.topic.to_string())),
                        ("args", list_json(&arguments.args)),
                        ("kwargs", dict_json(&arguments.kwargs)),
                    ])
                );
                seen += 1;
            }
        }
        Command::Register {
            procedure,
            echo: _,
            match_policy,
        } => {
            let _registration = session
                .register(
                    procedure,
                    |inv: Invocation| async move { Ok(inv.arguments()) },
                )
                .match_policy(match_policy.into())
                .await?;
            println!("registered");
            let reason = tokio::select! {
                reason = session.closed() => reason,
                _ = tokio::signal::ctrl_c() => return Ok(()),
            };
            return Err(Failure::Wamp(Error::SessionClosed(reason)));
        }
    }
    Ok(())
}
