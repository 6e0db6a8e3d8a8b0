use wampkit::{InvocationDetails, service};

#[service(prefix = "com.example")]
pub trait Calc {
    async fn whoami(&self, first: InvocationDetails, second: InvocationDetails) -> String;
}

fn main() {}
