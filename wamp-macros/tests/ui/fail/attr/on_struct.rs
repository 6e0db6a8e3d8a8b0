use wampkit::service;

#[service(prefix = "com.example")]
pub struct Calc {
    pub total: i64,
}

fn main() {}
