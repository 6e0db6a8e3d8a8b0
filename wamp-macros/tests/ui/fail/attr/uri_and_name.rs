use wampkit::service;

#[service(prefix = "com.example")]
pub trait Calc {
    #[wamp(uri = "com.example.add", name = "plus")]
    async fn add(&self, a: i64, b: i64) -> i64;
}

fn main() {}
