//! `crate = "..."` names the runtime crate: explicitly `::wampkit`, and through a re-export
//! (as a crate that wraps `wampkit` would).
#![deny(warnings)]

/// A re-export, like a wrapping crate's.
pub mod runtime {
    pub use ::wampkit as wamp;
}

/// Errors, with the runtime named explicitly.
#[derive(Debug, wampkit::ApplicationError)]
#[wamp(crate = "::wampkit")]
pub enum ExplicitError {
    /// Unit.
    #[wamp(uri = "com.example.explicit.error.unit", message = "unit")]
    Unit,
    /// Tuple.
    #[wamp(uri = "com.example.explicit.error.tuple")]
    Tuple(u32),
    /// Named.
    #[wamp(uri = "com.example.explicit.error.named")]
    Named {
        /// A field.
        field: String,
    },
}

/// A service with the runtime named explicitly.
#[wampkit::service(crate = "::wampkit", prefix = "com.example.explicit")]
pub trait Explicit {
    /// A procedure.
    async fn call_me(
        &self,
        a: u32,
        details: wampkit::InvocationDetails,
    ) -> Result<u32, ExplicitError>;
    /// An event.
    #[wamp(event)]
    async fn happened(&self, what: String, details: wampkit::EventDetails);
}

/// Errors, with the runtime named through a re-export.
#[derive(Debug, wampkit::ApplicationError)]
#[wamp(crate = "crate::runtime::wamp")]
pub enum ReexportError {
    /// Unit.
    #[wamp(uri = "com.example.reexport.error.unit")]
    Unit,
}

/// A service with the runtime named through a re-export.
#[wampkit::service(prefix = "com.example.reexport", crate = "crate::runtime::wamp")]
pub trait Reexport {
    /// A procedure.
    async fn call_me(&self, a: u32) -> Result<u32, ReexportError>;
    /// An event.
    #[wamp(event)]
    async fn happened(&self, what: String);
}

struct Both;

impl Explicit for Both {
    async fn call_me(
        &self,
        a: u32,
        _details: wampkit::InvocationDetails,
    ) -> Result<u32, ExplicitError> {
        Ok(a)
    }
    async fn happened(&self, _what: String, _details: wampkit::EventDetails) {}
}

impl Reexport for Both {
    async fn call_me(&self, _a: u32) -> Result<u32, ReexportError> {
        Err(ReexportError::Unit)
    }
    async fn happened(&self, _what: String) {}
}

async fn use_both(session: &wampkit::Session) -> wampkit::Result<()> {
    let _a = ExplicitService::register(session, Both).await?;
    let _b = ReexportService::register(session, Both).await?;
    let explicit = ExplicitClient::new(session);
    let reexport = ReexportClient::new(session);
    let _ = explicit.call_me(1).await;
    let _ = explicit.happened("x".into()).await;
    let _ = reexport.call_me(1).await;
    let _ = reexport.happened("x".into()).await;
    Ok(())
}

fn main() {
    let _never_run = use_both;
}
