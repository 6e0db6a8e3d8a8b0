//! With an invalid prefix, a method is checked for its own component only: `add` is fine and
//! not reported, `addTwo` is.
use wampkit::service;

#[service(prefix = "com.Example")]
pub trait Calc {
    async fn add(&self, a: i64, b: i64) -> i64;

    #[allow(non_snake_case)]
    async fn addTwo(&self, a: i64, b: i64) -> i64;
}

fn main() {}
