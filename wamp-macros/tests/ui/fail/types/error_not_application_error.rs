use wampkit::service;

#[derive(Debug)]
pub enum DivError {
    DivisionByZero,
}

#[service(prefix = "com.example")]
pub trait Calc {
    async fn div(&self, a: f64, b: f64) -> Result<f64, DivError>;
}

fn main() {}
