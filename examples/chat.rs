//! A chat room: typed events published and received through a `#[service]` trait.
//!
//! Three participants (three sessions) exchange `ChatMessage { from, text }` structs on the topic
//! `com.example.chat.message`; each prints what it hears. Under the default `exclude_me`, a
//! session does not receive its own publications, so nobody hears themselves.
//!
//! ```text
//! cargo run --example chat                  # a scripted conversation on an embedded router
//! cargo run --example chat -- --name ada    # chat from the terminal (one line, one message)
//! cargo run --example chat -- --name bob --url ws://127.0.0.1:8080/ws --realm realm1
//! ```
//!
//! Without `--url` (or `WAMP_URL`), the example starts an embedded router on a free port and
//! says where, so that others can join it. `RUST_LOG=debug` shows what the library does.

use std::time::Duration;

use clap::Parser;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncBufReadExt as _;
use tokio::sync::mpsc;
use wampkit::router::Router;
use wampkit::{Session, service};

#[derive(Parser)]
#[command(about = "A chat room on typed WAMP events")]
struct Args {
    /// The router to use; without it, an embedded router is started.
    #[arg(long, env = "WAMP_URL")]
    url: Option<String>,
    /// The realm to join.
    #[arg(long, env = "WAMP_REALM", default_value = "realm1")]
    realm: String,
    /// Chat from the terminal under this name, instead of the scripted conversation.
    #[arg(long)]
    name: Option<String>,
}

/// One line said in the chat: it travels as keyword arguments `from` and `text`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Who said it.
    pub from: String,
    /// What they said.
    pub text: String,
}

/// The chat room's contract: one event, `com.example.chat.message`.
#[service(prefix = "com.example.chat")]
pub trait Chat {
    /// Someone said something.
    #[wamp(event)]
    async fn message(&self, #[wamp(kwargs)] message: ChatMessage);
}

/// A participant: prints what it hears, and reports it to `heard`.
struct Participant {
    name: String,
    heard: mpsc::UnboundedSender<ChatMessage>,
}

impl Chat for Participant {
    async fn message(&self, message: ChatMessage) {
        println!("  {} heard {}: {}", self.name, message.from, message.text);
        let _ = self.heard.send(message);
    }
}

/// Who says what, in order.
const SCRIPT: [(&str, &str); 4] = [
    ("alice", "Hello, is anybody there?"),
    ("bob", "Hi Alice, Bob here."),
    ("carol", "Carol too. Nice typed events!"),
    ("alice", "Bye, both of you."),
];

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

    // The router at --url, or an embedded one on a free port (kept alive until the end).
    let (url, router) = match &args.url {
        Some(url) => (url.clone(), None),
        None => {
            let router = Router::builder().realm(&args.realm).build();
            let listening = router.listen("ws://127.0.0.1:0/ws").await?;
            eprintln!("started an embedded router at {}", listening.url());
            (listening.url().to_owned(), Some(router))
        }
    };

    match args.name {
        Some(name) => interactive(&url, &args.realm, name).await?,
        None => scripted(&url, &args.realm).await?,
    }
    // Others still on the embedded router are told it is going away.
    if let Some(router) = router {
        router.shutdown().await;
    }
    Ok(())
}

/// Three participants say their lines in turn; each line is awaited until both others heard it.
async fn scripted(url: &str, realm: &str) -> Result<(), Box<dyn std::error::Error>> {
    let mut participants = Vec::new();
    let (heard, mut hearings) = mpsc::unbounded_channel();
    for name in ["alice", "bob", "carol"] {
        let session = Session::connect(url, realm).await?;
        let participant = Participant {
            name: name.to_owned(),
            heard: heard.clone(),
        };
        let subscription = ChatService::register(&session, participant).await?;
        println!("{name} joined as session {}", session.id());
        participants.push((name, session, subscription));
    }

    for (speaker, text) in SCRIPT {
        let Some((_, session, _)) = participants.iter().find(|(name, ..)| *name == speaker) else {
            return Err(format!("{speaker} is not in the room").into());
        };
        let message = ChatMessage {
            from: speaker.to_owned(),
            text: text.to_owned(),
        };
        println!("{speaker} says: {text}");
        ChatClient::new(session).message(message.clone()).await?;
        // Everybody but the speaker hears it (others may be chatting on a shared router).
        let mut heard_by = 0;
        while heard_by < participants.len() - 1 {
            match tokio::time::timeout(Duration::from_secs(5), hearings.recv()).await {
                Ok(Some(heard)) if heard == message => heard_by += 1,
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => return Err(format!("nobody heard {speaker}").into()),
            }
        }
    }

    for (_, session, subscription) in participants {
        drop(subscription);
        session.leave().await?;
    }
    println!("the conversation is over");
    Ok(())
}

/// Chats from the terminal: each line typed is published, everything heard is printed.
async fn interactive(
    url: &str,
    realm: &str,
    name: String,
) -> Result<(), Box<dyn std::error::Error>> {
    let session = Session::connect(url, realm).await?;
    let (heard, _hearings) = mpsc::unbounded_channel();
    let participant = Participant {
        name: name.clone(),
        heard,
    };
    let _subscription = ChatService::register(&session, participant).await?;
    println!(
        "{name} joined; others join with `cargo run --example chat -- --name NAME --url {url} \
         --realm {realm}`; type a line to say it, end with Ctrl-D"
    );

    let chat = ChatClient::new(&session);
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    loop {
        tokio::select! {
            line = lines.next_line() => match line? {
                Some(text) if text.trim().is_empty() => {}
                Some(text) => {
                    chat.message(ChatMessage { from: name.clone(), text }).await?;
                }
                None => break,
            },
            reason = session.closed() => return Err(format!("the session closed: {reason}").into()),
        }
    }
    session.leave().await?;
    Ok(())
}
