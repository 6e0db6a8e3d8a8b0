use wampkit::{EventDetails, service};

#[service(prefix = "com.example")]
pub trait Calc {
    async fn whoami(&self, details: EventDetails) -> String;
}

fn main() {}
