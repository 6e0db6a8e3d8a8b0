//! `#[wamp(...)]` on the trait itself is an error (it used to be dropped silently, ignoring this
//! `prefix`): the trait takes its options in `#[service(prefix = ...)]`.
use wampkit::service;

#[service]
#[wamp(prefix = "com.example")]
pub trait Calc {
    #[wamp(uri = "com.example.add")]
    async fn add(&self, a: i64, b: i64) -> i64;
}

fn main() {}
