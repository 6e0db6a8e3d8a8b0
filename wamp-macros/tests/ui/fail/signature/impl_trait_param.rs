use wampkit::service;

#[service(prefix = "com.example")]
pub trait Greeter {
    async fn greet(&self, name: impl Into<String>) -> String;
}

fn main() {}
