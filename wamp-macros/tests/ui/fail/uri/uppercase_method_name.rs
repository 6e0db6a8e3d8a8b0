use wampkit::service;

#[service(prefix = "com.example.calc")]
pub trait Calc {
    #[allow(non_snake_case)]
    async fn addTwo(&self, a: i64, b: i64) -> i64;
}

fn main() {}
