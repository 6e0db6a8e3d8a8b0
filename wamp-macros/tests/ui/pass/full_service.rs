//! Everything `#[service]` and `#[derive(ApplicationError)]` accept, and every generated item in
//! use. The async code only has to compile; it never runs.
#![deny(warnings)]

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use wampkit::{
    ApplicationError, CallError, Dict, EventDetails, Id, InvocationDetails, NoError, Result,
    ServiceRegistration, Session, WampError, service,
};

/// The shop's declared errors: unit (with a message), tuple and named variants.
#[derive(Debug, Clone, PartialEq, ApplicationError)]
pub enum ShopError {
    /// The shop is closed.
    #[wamp(uri = "com.example.shop.error.closed", message = "the shop is closed")]
    Closed,
    /// A unit variant without a message.
    #[wamp(uri = "com.example.shop.error.busy")]
    Busy,
    /// Not enough of an item: its name and how many are left.
    #[wamp(uri = "com.example.shop.error.out_of_stock")]
    OutOfStock(String, u32),
    /// The order costs more than the budget.
    #[wamp(uri = "com.example.shop.error.too_expensive")]
    TooExpensive {
        /// What the order costs.
        price: u64,
        /// What the caller can spend.
        budget: u64,
    },
}

/// An order, sent as keyword arguments or as one positional argument.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Order {
    /// The item.
    pub item: String,
    /// How many.
    pub quantity: u32,
}

/// The shop contract.
#[service(prefix = "com.example.shop")]
pub trait Shop {
    /// A positional parameter and a plain return value.
    async fn price(&self, item: String) -> u64;

    /// The caller stub sends its parameters as keyword arguments.
    #[wamp(kwargs)]
    async fn search(&self, query: String, limit: Option<u32>) -> Vec<String>;

    /// One struct holds all keyword arguments; declared application errors.
    async fn order(&self, #[wamp(kwargs)] order: Order) -> Result<u64, ShopError>;

    /// A struct as one positional argument.
    async fn reorder(&self, order: Order) -> bool;

    /// Invocation details are context, not payload.
    async fn whoami(&self, details: InvocationDetails) -> Option<Id>;

    /// Details marked explicitly, after a payload parameter.
    async fn audit(&self, what: String, #[wamp(details)] details: InvocationDetails) -> bool;

    /// `com.example.shop.open`, not `com.example.shop.open_shop`.
    #[wamp(name = "open")]
    async fn open_shop(&self);

    /// A full URI outside the prefix; `Result<(), E>`.
    #[wamp(uri = "com.example.admin.restock")]
    async fn restock(&self, item: String, quantity: u32) -> Result<(), ShopError>;

    /// Several results, as a tuple; no parameters.
    async fn stats(&self) -> (u64, String);

    /// Untyped application errors.
    async fn risky(&self, payload: wampkit::Value) -> Result<Dict, WampError>;

    /// A raw identifier: the URI is `com.example.shop.type`.
    async fn r#type(&self, r#ref: String) -> String;

    /// Parameters of borrowed types: `'static`, and elided.
    async fn measure(&self, unit: std::borrow::Cow<'static, str>, text: std::borrow::Cow<'_, str>) -> usize;

    /// An event handler under the prefix: `com.example.shop.sale`.
    #[wamp(event)]
    async fn sale(&self, item: String, discount: f64);

    /// An event handler with a full topic, details and a fallible result.
    #[wamp(topic = "com.example.news.headline")]
    async fn headline(&self, text: String, details: EventDetails) -> Result<(), ShopError>;

    /// An event handler without payload.
    #[wamp(event, name = "ping")]
    async fn on_ping(&self);

    /// An event handler with a struct parameter and an explicit `()` return.
    #[wamp(event)]
    async fn ordered(&self, order: Order) -> ();

    /// A router meta event: subscribed, but no publisher method is generated.
    #[wamp(topic = "wamp.session.on_join")]
    async fn on_join(&self, details: Dict);
}

/// The implementation.
struct MyShop;

impl Shop for MyShop {
    async fn price(&self, _item: String) -> u64 {
        1
    }

    async fn order(&self, order: Order) -> Result<u64, ShopError> {
        match order.quantity {
            0 => Err(ShopError::Closed),
            1 => Err(ShopError::Busy),
            2 => Err(ShopError::OutOfStock(order.item, 0)),
            3 => Err(ShopError::TooExpensive {
                price: 10,
                budget: 1,
            }),
            n => Ok(u64::from(n)),
        }
    }

    async fn search(&self, query: String, _limit: Option<u32>) -> Vec<String> {
        vec![query]
    }

    async fn reorder(&self, _order: Order) -> bool {
        true
    }

    async fn measure(
        &self,
        unit: std::borrow::Cow<'static, str>,
        text: std::borrow::Cow<'_, str>,
    ) -> usize {
        unit.len() + text.len()
    }

    async fn whoami(&self, details: InvocationDetails) -> Option<Id> {
        details.caller
    }

    async fn audit(&self, what: String, details: InvocationDetails) -> bool {
        what == details.procedure
    }

    async fn open_shop(&self) {}

    async fn restock(&self, _item: String, _quantity: u32) -> Result<(), ShopError> {
        Ok(())
    }

    async fn stats(&self) -> (u64, String) {
        (0, String::new())
    }

    async fn risky(&self, _payload: wampkit::Value) -> Result<Dict, WampError> {
        Err(WampError::new("com.example.shop.error.risky"))
    }

    async fn r#type(&self, r#ref: String) -> String {
        r#ref
    }

    async fn sale(&self, _item: String, _discount: f64) {}

    async fn headline(&self, _text: String, _details: EventDetails) -> Result<(), ShopError> {
        Err(ShopError::Busy)
    }

    async fn on_ping(&self) {}

    async fn ordered(&self, _order: Order) {}

    async fn on_join(&self, _details: Dict) {}
}

/// Every generated item, with the exact types it has.
async fn use_everything(session: &Session) -> Result<()> {
    let registration: ServiceRegistration = ShopService::register(session, MyShop).await?;
    drop(registration);
    let shared = Arc::new(MyShop);
    let _registration = ShopService::register_arc(session, Arc::clone(&shared)).await?;
    let procedures: &'static [&'static str] = ShopService::PROCEDURES;
    let topics: &'static [&'static str] = ShopService::TOPICS;
    assert_eq!(procedures.first(), Some(&"com.example.shop.price"));
    assert!(topics.contains(&"wamp.session.on_join"));
    let _unit_service: ShopService = ShopService;

    let client = ShopClient::new(session);
    let _same: &Session = client.session();
    let _copy: ShopClient = client.clone();

    let _: std::result::Result<u64, CallError<NoError>> = client.price("apple".into()).await;
    let _: std::result::Result<Vec<String>, CallError> =
        client.search("apple".into(), Some(3)).await;
    let order = Order {
        item: "apple".into(),
        quantity: 2,
    };
    match client.order(order.clone()).await {
        Ok(_total) => {}
        Err(CallError::Application(ShopError::Closed | ShopError::Busy)) => {}
        Err(CallError::Application(ShopError::OutOfStock(_item, _left))) => {}
        Err(CallError::Application(ShopError::TooExpensive { price, budget })) => {
            assert!(price > budget);
        }
        Err(other) => {
            let _: Option<&WampError> = other.wamp();
        }
    }
    let _: std::result::Result<bool, CallError> = client.reorder(order.clone()).await;
    let _: std::result::Result<Option<Id>, CallError> = client.whoami().await;
    let _: std::result::Result<bool, CallError> = client.audit("x".into()).await;
    let _: std::result::Result<(), CallError> = client.open_shop().await;
    let _: std::result::Result<(), CallError<ShopError>> = client.restock("apple".into(), 5).await;
    let _: std::result::Result<(u64, String), CallError> = client.stats().await;
    let _: std::result::Result<Dict, CallError<WampError>> =
        client.risky(wampkit::Value::Null).await;
    let _: std::result::Result<String, CallError> = client.r#type("x".into()).await;

    let _: Result<Option<Id>> = client.sale("apple".into(), 0.5).await;
    let _: Result<Option<Id>> = client.headline("news".into()).await;
    let _: Result<Option<Id>> = client.on_ping().await;
    let _: Result<Option<Id>> = client.ordered(order).await;

    // The client's futures are `Send`: they can run on another task.
    let spawned = tokio::spawn(async move { client.price("pear".into()).await });
    drop(spawned);

    // Errors convert both ways.
    let wamp = ShopError::OutOfStock("apple".into(), 0).to_wamp_error();
    assert_eq!(
        ShopError::from_wamp_error(&wamp),
        Some(ShopError::OutOfStock("apple".into(), 0))
    );
    Ok(())
}

fn main() {
    let _never_run = use_everything;
}
