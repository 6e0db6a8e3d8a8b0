use wampkit::service;

#[service(prefix = "com.example")]
pub trait Calc {
    fn add(&self, a: i64, b: i64) -> i64;

    async fn sub(&mut self, a: i64, b: i64) -> i64;

    #[wamp(uri = "com.example.Mul")]
    async fn mul(&self, a: &i64, b: i64) -> i64;
}

fn main() {}
