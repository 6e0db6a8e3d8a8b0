use wampkit::service;

#[service(prefix = "com.example")]
pub trait Calc {
    async fn whoami(&self, #[wamp(details)] details: String) -> String;
}

fn main() {}
