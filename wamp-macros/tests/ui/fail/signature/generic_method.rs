use wampkit::service;

#[service(prefix = "com.example")]
pub trait Calc {
    async fn add<T: serde::de::DeserializeOwned>(&self, a: T, b: T) -> i64;
}

fn main() {}
