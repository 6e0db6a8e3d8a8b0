use wamp_client::service;

#[service(prefix = "com.example")]
pub struct Calc {
    pub total: i64,
}

fn main() {}
