//! PENDING (should fail to compile, but compiles): a `#[wamp(kwargs)]` parameter whose type
//! cannot be a map of keyword arguments (`String`) is only rejected at run time, on every call.
use wamp_client::service;

#[service(prefix = "com.example")]
pub trait Search {
    async fn find(&self, #[wamp(kwargs)] text: String) -> Vec<String>;
}

fn main() {}
