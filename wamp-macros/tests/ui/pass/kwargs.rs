//! Keyword arguments: `#[wamp(kwargs)]` on a procedure (the caller stub sends every parameter by
//! name) and on a parameter (one struct holds all keyword arguments), for procedures and events.
#![deny(warnings)]

use serde::{Deserialize, Serialize};
use wampkit::{CallError, EventDetails, Id, InvocationDetails, Result, Session, service};

/// Search options, received as keyword arguments.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Query {
    /// What to look for.
    pub text: String,
    /// At most this many results.
    pub limit: Option<u32>,
}

/// A search service.
#[service(prefix = "com.example.search")]
pub trait Search {
    /// The caller stub sends `text` and `limit` as keyword arguments.
    #[wamp(kwargs)]
    async fn find(&self, text: String, limit: Option<u32>) -> Vec<String>;

    /// Method-level `kwargs` with details, which are not sent.
    #[wamp(kwargs)]
    async fn count(&self, text: String, details: InvocationDetails) -> u64;

    /// One struct holds all keyword arguments.
    async fn query(&self, #[wamp(kwargs)] query: Query) -> Vec<String>;

    /// A keyword struct and details.
    async fn query_as(
        &self,
        details: InvocationDetails,
        #[wamp(kwargs)] query: Query,
    ) -> Result<u64, wampkit::WampError>;

    /// Keyword arguments as a map, or as an optional struct.
    async fn loose(&self, #[wamp(kwargs)] all: wampkit::Dict) -> u64;

    /// An optional keyword struct: absent when no keyword argument is given.
    async fn maybe(&self, #[wamp(kwargs)] query: Option<Query>) -> bool;

    /// Keyword arguments as a `Value`.
    async fn dynamic(
        &self,
        #[wamp(kwargs)] all: std::collections::BTreeMap<String, wampkit::Value>,
    );

    /// An event handler taking its keyword arguments as one struct.
    #[wamp(event)]
    async fn searched(&self, #[wamp(kwargs)] query: Query, details: EventDetails);
}

struct Engine;

impl Search for Engine {
    async fn find(&self, text: String, _limit: Option<u32>) -> Vec<String> {
        vec![text]
    }

    async fn count(&self, _text: String, _details: InvocationDetails) -> u64 {
        0
    }

    async fn query(&self, query: Query) -> Vec<String> {
        vec![query.text]
    }

    async fn query_as(
        &self,
        _details: InvocationDetails,
        _query: Query,
    ) -> Result<u64, wampkit::WampError> {
        Ok(1)
    }

    async fn loose(&self, all: wampkit::Dict) -> u64 {
        all.len() as u64
    }

    async fn maybe(&self, query: Option<Query>) -> bool {
        query.is_some()
    }

    async fn dynamic(&self, _all: std::collections::BTreeMap<String, wampkit::Value>) {}

    async fn searched(&self, _query: Query, _details: EventDetails) {}
}

async fn use_it(session: &Session) -> Result<()> {
    let _registration = SearchService::register(session, Engine).await?;
    let client = SearchClient::new(session);
    let query = Query {
        text: "x".into(),
        limit: None,
    };
    let _: std::result::Result<Vec<String>, CallError> = client.find("x".into(), Some(1)).await;
    let _: std::result::Result<u64, CallError> = client.count("x".into()).await;
    let _: std::result::Result<Vec<String>, CallError> = client.query(query.clone()).await;
    let _: std::result::Result<u64, CallError<wampkit::WampError>> =
        client.query_as(query.clone()).await;
    let _: std::result::Result<u64, CallError> = client.loose(wampkit::Dict::new()).await;
    let _: std::result::Result<bool, CallError> = client.maybe(None).await;
    let _: std::result::Result<(), CallError> = client.dynamic(Default::default()).await;
    let _: Result<Option<Id>> = client.searched(query).await;
    Ok(())
}

fn main() {
    let _never_run = use_it;
}
