//! Everything the macros generate for a public trait carries documentation: this compiles with
//! `missing_docs` denied.
#![deny(missing_docs)]
#![deny(warnings)]

pub mod api {
    //! A public module with a public service.
    #![deny(missing_docs)]

    /// Errors.
    #[derive(Debug, wampkit::ApplicationError)]
    pub enum DocError {
        /// Unit.
        #[wamp(uri = "com.example.doc.error.unit")]
        Unit,
    }

    /// A documented service.
    #[wampkit::service(prefix = "com.example.doc")]
    pub trait Documented {
        /// A procedure.
        async fn call_me(&self, a: u32) -> Result<u32, DocError>;
        /// An event.
        #[wamp(event)]
        async fn happened(&self, what: String);
        /// An event on a router meta topic (no publisher method).
        #[wamp(topic = "wamp.session.on_leave")]
        async fn left(&self, session: u64);
    }
}

/// An implementation.
pub struct Impl;

impl api::Documented for Impl {
    async fn call_me(&self, a: u32) -> Result<u32, api::DocError> {
        Ok(a)
    }
    async fn happened(&self, _what: String) {}
    async fn left(&self, _session: u64) {}
}

/// Uses the generated items.
pub async fn use_it(session: &wampkit::Session) -> wampkit::Result<()> {
    let _registration = api::DocumentedService::register(session, Impl).await?;
    let client = api::DocumentedClient::new(session);
    let _ = client.call_me(1).await;
    let _ = client.happened("x".into()).await;
    Ok(())
}

fn main() {}
