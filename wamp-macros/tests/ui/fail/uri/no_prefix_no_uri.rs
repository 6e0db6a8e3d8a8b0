use wampkit::service;

#[service]
pub trait Calc {
    #[wamp(uri = "com.example.add")]
    async fn add(&self, a: i64, b: i64) -> i64;

    async fn sub(&self, a: i64, b: i64) -> i64;
}

fn main() {}
