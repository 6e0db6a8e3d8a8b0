use wampkit::service;

pub struct Point {
    pub x: f64,
    pub y: f64,
}

#[service(prefix = "com.example")]
pub trait Geometry {
    async fn origin(&self) -> Point;
}

fn main() {}
