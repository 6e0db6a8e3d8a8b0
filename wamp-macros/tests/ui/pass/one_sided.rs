//! A contract used on one side only, in private modules of a binary: a trait that is only
//! called (its service is never registered, nothing implements it), one that is only served
//! (its client is never used), a private one, and one not used at all. Nothing generated is
//! reported as dead code, and the generated code does not `allow(dead_code)` either, which a
//! crate that forbids it would reject.
#![deny(warnings)]
#![forbid(dead_code)]

mod contract {
    use wampkit::service;

    /// Implemented by another peer; this binary only calls it.
    #[service(prefix = "com.example.remote")]
    pub trait Remote {
        /// A procedure.
        async fn add(&self, a: i64, b: i64) -> i64;
        /// An event.
        #[wamp(event)]
        async fn happened(&self, what: String);
    }

    /// Implemented here; other peers call it.
    #[service(prefix = "com.example.local")]
    pub trait Local {
        /// A procedure.
        async fn echo(&self, text: String) -> String;
    }

    /// A private contract, only called.
    #[service(prefix = "com.example.private")]
    trait Private {
        async fn ping(&self) -> bool;
    }

    /// The implementation of `Local`.
    pub struct Echo;

    impl Local for Echo {
        async fn echo(&self, text: String) -> String {
            text
        }
    }

    /// Uses the private contract's client.
    pub async fn ping(session: &wampkit::Session) -> bool {
        PrivateClient::new(session).ping().await.unwrap_or(false)
    }
}

mod unused {
    /// Declared, not used yet.
    #[wampkit::service(prefix = "com.example.unused")]
    pub(crate) trait Later {
        async fn call_me(&self, a: u32) -> Result<u32, wampkit::WampError>;
        #[wamp(event)]
        async fn on_it(&self, a: u32);
    }
}

async fn run(session: &wampkit::Session) -> wampkit::Result<()> {
    let remote = contract::RemoteClient::new(session);
    let _ = remote.add(1, 2).await;
    let _registration = contract::LocalService::register(session, contract::Echo).await?;
    let _ = contract::ping(session).await;
    Ok(())
}

fn main() {
    let _never_run = run;
}
