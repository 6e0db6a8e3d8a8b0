//! PENDING (should fail to compile, but compiles): `#[wamp(...)]` on the trait itself is dropped
//! silently, so this `prefix` is ignored; the service attribute takes `#[service(prefix = ...)]`.
use wamp_client::service;

#[service]
#[wamp(prefix = "com.example")]
pub trait Calc {
    #[wamp(uri = "com.example.add")]
    async fn add(&self, a: i64, b: i64) -> i64;
}

fn main() {}
