use wampkit::service;

#[service(prefix = "com.example")]
pub trait Calc {
    async fn add(&self, a: i64, b: i64) -> i64;

    #[wamp(name = "add")]
    async fn add_floats(&self, a: f64, b: f64) -> f64;
}

fn main() {}
