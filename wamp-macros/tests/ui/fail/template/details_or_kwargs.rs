use std::collections::BTreeMap;

use wampkit::{service, InvocationDetails};

#[service(prefix = "com.example")]
pub trait Users {
    #[wamp(name = "user.{details}.rename")]
    async fn rename(&self, #[wamp(details)] details: InvocationDetails);

    #[wamp(name = "user.{change}.update")]
    async fn update(&self, #[wamp(kwargs)] change: BTreeMap<String, String>);
}

fn main() {}
