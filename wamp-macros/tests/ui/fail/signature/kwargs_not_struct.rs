//! A `#[wamp(kwargs)]` parameter whose type cannot be a map of keyword arguments (`String`) is a
//! compile error, not a failure of every call at run time.
use wampkit::service;

#[service(prefix = "com.example")]
pub trait Search {
    async fn find(&self, #[wamp(kwargs)] text: String) -> Vec<String>;
}

fn main() {}
